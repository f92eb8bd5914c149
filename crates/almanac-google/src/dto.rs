//! Google Calendar v3 resources as serde types (names and shapes from the discovery
//! document, revision 20261030). Only what the mapping reads is typed; every other
//! field of a resource lands in its `extra` map and is serialised back unchanged, so
//! `deserialize → serialize` of any Google JSON object gives the same object — but for
//! a page of `events.list` ([`Events`]), which is only read: its events are kept as
//! the text of their properties, and its own fields beyond those typed are skipped.
//!
//! Absent fields stay absent (`skip_serializing_if`). The one loss is an explicit JSON
//! `null` on a typed field, which Google never sends.

use std::collections::BTreeMap;

use almanac_provider::raw::RawObject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `Event`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `confirmed` (default), `tentative`, `cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "iCalUID", default, skip_serializing_if = "Option::is_none")]
    pub ical_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// May contain HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<EventDateTime>,
    /// Exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<EventDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_start_time: Option<EventDateTime>,
    /// `RRULE`, `EXRULE`, `RDATE`, `EXDATE` lines (no `DTSTART`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Vec<String>>,
    /// `opaque` (default) / `transparent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transparency: Option<String>,
    /// `default`, `public`, `private`, `confidential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendees: Option<Vec<EventAttendee>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<EventPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminders: Option<Reminders>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_data: Option<ConferenceData>,
    /// Read-only Meet link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hangout_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_properties: Option<ExtendedProperties>,
    /// `default`, `outOfOffice`, `workingLocation`, `focusTime`, … (immutable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Everything not modelled above (htmlLink, sequence, creator, colorId, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `EventDateTime`: `date` (all-day) or `dateTime` (RFC 3339), and an IANA `timeZone`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDateTime {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `EventAttendee`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventAttendee {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<bool>,
    /// `needsAction`, `declined`, `tentative`, `accepted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<String>,
    /// Read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizer: Option<bool>,
    /// Read-only: this attendee is the calendar's owner.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub is_self: Option<bool>,
    /// comment, additionalGuests, id, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `organizer` / `creator`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// id, self, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `reminders`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reminders {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_default: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Vec<EventReminder>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `EventReminder`: `method` `email`/`popup`, `minutes` 0–40320.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReminder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ConferenceData`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_solution: Option<ConferenceSolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_request: Option<CreateConferenceRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_points: Option<Vec<EntryPoint>>,
    /// notes, signature, parameters, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ConferenceSolution`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceSolution {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<ConferenceSolutionKey>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ConferenceSolutionKey`: `eventHangout`, `eventNamedHangout`, `hangoutsMeet`, `addOn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceSolutionKey {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `CreateConferenceRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateConferenceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_solution_key: Option<ConferenceSolutionKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConferenceRequestStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ConferenceRequestStatus`: `pending`, `success`, `failure`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceRequestStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `EntryPoint`: `video`, `phone`, `sip`, `more`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryPoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
    /// meetingCode, password, regionCode, entryPointFeatures, …
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `extendedProperties`: string maps. Values are `Value`s so that a PATCH body can
/// carry `null`, which deletes a key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `CalendarListEntry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarListEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `freeBusyReader`, `reader`, `writer`, `owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// The owner's address, for secondary calendars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_reminders: Option<Vec<EventReminder>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `CalendarList` (one page of `calendarList.list`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarList {
    /// `calendar#calendarList`: with `items` missing too, the answer is no list (an
    /// error object, a proxy's JSON), which read as an empty one would remove every
    /// calendar here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<CalendarListEntry>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_token: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Events` (one page of `events.list`): only what a listing reads. Its events are
/// read as the text of their properties ([`RawObject`]), not as [`Event`]s: the
/// mapping reads a few of them, and the rest go to `extra` as the text they came as.
/// The page's other fields (kind, etag, summary, updated, accessRole, …) are skipped:
/// nothing reads them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Events<'a> {
    #[serde(default, borrow)]
    pub items: Vec<RawObject<'a>>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    /// Only on the last page of a round.
    #[serde(default)]
    pub next_sync_token: Option<String>,
    /// The calendar's zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub default_reminders: Option<Vec<EventReminder>>,
}

/// `FreeBusyRequest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyRequest {
    pub time_min: String,
    pub time_max: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_expansion_max: Option<u32>,
    pub items: Vec<FreeBusyRequestItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FreeBusyRequestItem {
    pub id: String,
}

/// `FreeBusyResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FreeBusyResponse {
    #[serde(default)]
    pub calendars: BTreeMap<String, FreeBusyCalendar>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `FreeBusyCalendar`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FreeBusyCalendar {
    #[serde(default)]
    pub busy: Vec<TimePeriod>,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

/// `TimePeriod` (RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePeriod {
    pub start: String,
    pub end: String,
}

/// `Error` in free/busy answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorItem {
    #[serde(default)]
    pub domain: String,
    #[serde(default)]
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_survives_a_serde_round_trip() {
        let raw = serde_json::json!({
            "kind": "calendar#event", "id": "abc123", "etag": "\"1\"", "status": "confirmed",
            "htmlLink": "https://calendar/x", "sequence": 3, "colorId": "5",
            "creator": {"email": "a@x", "self": true},
            "organizer": {"email": "a@x", "displayName": "A", "id": "o1", "self": true},
            "start": {"dateTime": "2025-03-03T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"date": "2025-03-04"},
            "attendees": [{"email": "b@x", "comment": "hi", "additionalGuests": 2, "self": false}],
            "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 10}]},
            "conferenceData": {"conferenceId": "aaa-bbbb-ccc", "notes": "n", "signature": "s",
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet", "iconUri": "i"},
                "entryPoints": [{"entryPointType": "video", "uri": "https://meet", "meetingCode": "m"}]},
            "extendedProperties": {"private": {"k": "v"}, "shared": {"s": "t"}},
            "guestsCanModify": true, "attachments": [{"fileUrl": "f"}], "source": {"title": "t", "url": "u"}
        });
        let ev: Event = serde_json::from_value(raw.clone()).expect("event");
        assert_eq!(serde_json::to_value(&ev).expect("json"), raw);
    }
}
