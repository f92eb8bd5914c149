use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{EventInput, EventMeeting};

/// How an event shows on a free/busy schedule (Graph `showAs`, Google transparency).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ShowAs {
    Free,
    Tentative,
    #[default]
    Busy,
    Oof,
    WorkingElsewhere,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Importance {
    Low,
    #[default]
    Normal,
    High,
}

/// Graph `sensitivity` / Google `visibility`. Stored now, edited by later issues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Sensitivity {
    #[default]
    Normal,
    Personal,
    Private,
    Confidential,
}

/// Which rows an edit or delete of a series instance touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EditScope {
    /// Only the instance keyed by series + original start.
    Occurrence,
    /// The whole event or series.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    Single,
    Master,
    Exception,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "single",
            Self::Master => "master",
            Self::Exception => "exception",
        }
    }
}

/// One stored event as the editor sees it: its identity, the editable input, and what
/// its provider says about the meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: String,
    pub kind: EventKind,
    pub series_id: Option<String>,
    /// For exceptions: the original start (local wall time) of the instance it replaces.
    pub original_start: Option<String>,
    pub input: EventInput,
    /// Organizer, attendees and online meeting of a synced event (read-only).
    #[serde(default)]
    pub meeting: EventMeeting,
    /// The provider keeps the description formatted (HTML: links, tables, a meeting's
    /// join details), which `input.description` gives as text only. An edit of the
    /// description replaces it with that text, for everyone the event is shared with.
    #[serde(default)]
    pub formatted_description: bool,
    /// Who may see it (a provider's, or a file's `CLASS`); not part of the editor's
    /// input, and kept by its edits.
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}
