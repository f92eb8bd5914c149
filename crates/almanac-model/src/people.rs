use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Someone on an event: an e-mail address and, when known, a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AttendeeKind {
    #[default]
    Required,
    Optional,
    /// A room or equipment mailbox.
    Resource,
}

/// An attendee's answer. Graph and Google name them differently; this is the union.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Response {
    /// Not answered yet (Graph `none`/`notResponded`, Google `needsAction`).
    #[default]
    None,
    Organizer,
    Accepted,
    Tentative,
    Declined,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub person: Person,
    pub kind: AttendeeKind,
    pub response: Response,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum MeetingProvider {
    Teams,
    Meet,
    Other,
}

/// A video meeting attached to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnlineMeeting {
    pub provider: MeetingProvider,
    pub join_url: String,
    pub conference_id: Option<String>,
    /// Dial-in number (Teams toll number, Meet phone entry point).
    pub toll_number: Option<String>,
    /// PIN for the dial-in, when the provider gives one.
    pub pin: Option<String>,
}
