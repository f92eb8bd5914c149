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
    /// How a synced calendar settles a conflict by itself; `None` for calendars that
    /// live only on this computer (they have no other side).
    pub conflict_policy: Option<ConflictPolicy>,
}

/// A synced calendar's conflict policy (DESIGN §4): leave a conflict to the user, or
/// settle it for this computer's side, the provider's side, or both (a copy). A
/// conflict a policy settles is still recorded, settled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    #[default]
    Ask,
    PreferLocal,
    PreferRemote,
    KeepBoth,
}

impl ConflictPolicy {
    /// The store's and the command line's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::Ask => "ask",
            ConflictPolicy::PreferLocal => "prefer_local",
            ConflictPolicy::PreferRemote => "prefer_remote",
            ConflictPolicy::KeepBoth => "keep_both",
        }
    }

    /// The resolution recorded for a conflict this policy settles, as the user's
    /// answer of the same choice is recorded; `ask` settles nothing.
    pub fn resolution(self) -> Option<&'static str> {
        match self {
            ConflictPolicy::Ask => None,
            ConflictPolicy::PreferLocal => Some("keep_local"),
            ConflictPolicy::PreferRemote => Some("keep_remote"),
            ConflictPolicy::KeepBoth => Some("keep_both"),
        }
    }

    /// From [`ConflictPolicy::as_str`]'s name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        [
            ConflictPolicy::Ask,
            ConflictPolicy::PreferLocal,
            ConflictPolicy::PreferRemote,
            ConflictPolicy::KeepBoth,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
    }
}
