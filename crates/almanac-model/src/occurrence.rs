use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{Importance, ShowAs};

/// One expanded instance in a range query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Occurrence {
    /// The row to open: the master for series instances, the exception row for exceptions.
    pub event_id: String,
    pub series_id: Option<String>,
    /// Series instance key: local wall time of the original start in the event's zone
    /// (`YYYY-MM-DDTHH:MM:SS`, or `YYYY-MM-DD` for all-day series).
    pub original_start: Option<String>,
    pub calendar_id: String,
    pub title: String,
    pub all_day: bool,
    /// Timed: RFC 3339 UTC instant. All-day: `YYYY-MM-DD`.
    pub start: String,
    /// Timed: RFC 3339 UTC instant. All-day: `YYYY-MM-DD`, exclusive.
    pub end: String,
    pub time_zone: String,
    pub location: String,
    pub show_as: ShowAs,
    pub importance: Importance,
    pub categories: Vec<String>,
    pub recurring: bool,
    pub exception: bool,
}

/// A window of time over some calendars (all when `calendar_ids` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RangeQuery {
    /// RFC 3339 instant, inclusive.
    pub from: String,
    /// RFC 3339 instant, exclusive.
    pub to: String,
    pub calendar_ids: Option<Vec<String>>,
}
