//! An event as a provider holds it, in provider-neutral terms: what the Graph and
//! Google mappings produce from a listing and consume for a write. Fields a provider
//! has and this type does not are kept verbatim in `extra`, so a round trip through
//! Almanac never drops them.

use crate::extra::Extra;
use almanac_model::{Attendee, Importance, OnlineMeeting, Person, Sensitivity, ShowAs};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RemoteKind {
    Single,
    /// A series master: carries the recurrence.
    Master,
    /// An unmodified instance of a series (Graph lists them; Google only with
    /// singleEvents=true, which Almanac does not use).
    Occurrence,
    /// A modified (or, with `cancelled`, removed) instance of a series.
    Exception,
}

/// When an event happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Timing {
    /// Instants, and the IANA zone the event was created in (for display, editing and
    /// recurrence expansion).
    Timed {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        time_zone: String,
    },
    /// Civil dates, end exclusive.
    AllDay { start: NaiveDate, end: NaiveDate },
}

/// The original start of a series instance: its key within the series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OriginalStart {
    Timed(DateTime<Utc>),
    AllDay(NaiveDate),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesLink {
    pub master_id: String,
    pub original_start: OriginalStart,
}

/// A series' rule: RFC 5545 text as the model stores it (wall times in the event's
/// zone), or a rule the provider holds that cannot be mapped, kept and flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRecurrence {
    /// `FREQ=…` without the `RRULE:` prefix.
    pub rrule: String,
    /// Wall times `YYYY-MM-DDTHH:MM` (timed) or dates (all-day).
    pub exdates: Vec<String>,
    pub rdates: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEvent {
    pub remote_id: String,
    /// Graph `@odata.etag` (changeKey) / Google `etag`: what If-Match sends and echo
    /// detection compares.
    pub etag: Option<String>,
    pub ical_uid: Option<String>,
    pub kind: RemoteKind,
    pub series: Option<SeriesLink>,
    /// A removed instance of a series (kept so the instance stays hidden).
    pub cancelled: bool,
    pub title: String,
    pub body_text: String,
    /// The body as HTML when the provider holds HTML (Graph's wrapper removed).
    pub body_html: Option<String>,
    pub timing: Timing,
    pub show_as: ShowAs,
    pub importance: Importance,
    pub sensitivity: Sensitivity,
    pub categories: Vec<String>,
    pub location: String,
    pub attendees: Vec<Attendee>,
    pub organizer: Option<Person>,
    pub online_meeting: Option<OnlineMeeting>,
    pub recurrence: Option<RemoteRecurrence>,
    /// Minutes before start of the (first) reminder; `None` = no reminder.
    pub reminder_minutes: Option<u32>,
    /// Provider fields with no counterpart here, verbatim.
    pub extra: Extra,
}
