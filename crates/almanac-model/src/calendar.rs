use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Id of the built-in calendar "On this computer", created by the first migration.
pub const LOCAL_CALENDAR_ID: &str = "local";

/// A calendar as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    pub id: String,
    pub name: String,
    /// CSS colour, `#rrggbb`.
    pub color: String,
    /// `None` for calendars that live only on this computer.
    pub account_id: Option<String>,
    pub can_edit: bool,
    pub is_primary: bool,
    pub visible: bool,
}
