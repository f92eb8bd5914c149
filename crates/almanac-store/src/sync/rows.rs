//! A synced event as a whole row: the editable input plus every provider column.

use crate::cached::Cached;
use almanac_model::{
    Attendee, AttendeeKind, EventInput, EventKind, EventMeeting, MeetingProvider, OnlineMeeting,
    Person, Response, Sensitivity,
};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use crate::error::{Result, StoreError};
use crate::event_rows::{bounds, importance_str, load, show_as_str};

/// Every column of an event row of a synced calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncedEvent {
    pub remote_id: Option<String>,
    pub ical_uid: Option<String>,
    pub etag: Option<String>,
    pub kind: EventKind,
    /// The local id of the series master (exceptions).
    pub series_id: Option<String>,
    /// The instance key within the series (exceptions): wall time or date.
    pub original_start: Option<String>,
    /// The editable part; `calendar_id` says where the row lives.
    pub input: EventInput,
    pub body_html: Option<String>,
    pub sensitivity: Sensitivity,
    pub organizer: Option<Person>,
    pub attendees: Vec<Attendee>,
    pub online_meeting: Option<OnlineMeeting>,
    pub reminder_minutes: Option<u32>,
    /// Provider-only fields, verbatim JSON (the engine's format).
    pub provider_extra: Option<String>,
    /// A removed instance of a series, kept so the instance stays hidden.
    pub cancelled: bool,
}

pub(crate) fn sensitivity_str(s: Sensitivity) -> &'static str {
    match s {
        Sensitivity::Normal => "normal",
        Sensitivity::Personal => "personal",
        Sensitivity::Private => "private",
        Sensitivity::Confidential => "confidential",
    }
}

pub(crate) fn parse_sensitivity(s: &str) -> Sensitivity {
    match s {
        "personal" => Sensitivity::Personal,
        "private" => Sensitivity::Private,
        "confidential" => Sensitivity::Confidential,
        _ => Sensitivity::Normal,
    }
}

fn meeting_provider_str(p: MeetingProvider) -> &'static str {
    match p {
        MeetingProvider::Teams => "teams",
        MeetingProvider::Meet => "meet",
        MeetingProvider::Other => "other",
    }
}

fn parse_meeting_provider(s: &str) -> MeetingProvider {
    match s {
        "teams" => MeetingProvider::Teams,
        "meet" => MeetingProvider::Meet,
        _ => MeetingProvider::Other,
    }
}

fn kind_str(k: AttendeeKind) -> &'static str {
    match k {
        AttendeeKind::Required => "required",
        AttendeeKind::Optional => "optional",
        AttendeeKind::Resource => "resource",
    }
}

fn response_str(r: Response) -> &'static str {
    match r {
        Response::None => "none",
        Response::Organizer => "organizer",
        Response::Accepted => "accepted",
        Response::Tentative => "tentative",
        Response::Declined => "declined",
    }
}

fn parse_kind(s: &str) -> AttendeeKind {
    match s {
        "optional" => AttendeeKind::Optional,
        "resource" => AttendeeKind::Resource,
        _ => AttendeeKind::Required,
    }
}

fn parse_response(s: &str) -> Response {
    match s {
        "organizer" => Response::Organizer,
        "accepted" => Response::Accepted,
        "tentative" => Response::Tentative,
        "declined" => Response::Declined,
        _ => Response::None,
    }
}

fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// One attendee as `events.attendees` keeps it (migration 0008).
#[derive(Serialize, Deserialize)]
struct StoredAttendee<'a> {
    #[serde(borrow)]
    email: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    response: std::borrow::Cow<'a, str>,
}

/// The attendees column: one entry per address, a repeated address keeping its last
/// version at its last position (as the attendee table's key did before 0008).
fn attendees_json(list: &[Attendee]) -> String {
    if list.is_empty() {
        return "[]".into();
    }
    // Whether entry `i` is the last one with its address. A meeting's handful is
    // compared pairwise; a long list (a provider's list is hostile input and may be
    // huge) goes through a map, linear instead of quadratic.
    let is_last: Vec<bool> = if list.len() <= 16 {
        (0..list.len())
            .map(|i| {
                list[i + 1..]
                    .iter()
                    .all(|b| b.person.email != list[i].person.email)
            })
            .collect()
    } else {
        let last: std::collections::HashMap<&str, usize> = list
            .iter()
            .enumerate()
            .map(|(i, a)| (a.person.email.as_str(), i))
            .collect();
        (0..list.len())
            .map(|i| last.get(list[i].person.email.as_str()) == Some(&i))
            .collect()
    };
    let stored: Vec<StoredAttendee<'_>> = list
        .iter()
        .zip(is_last)
        .filter(|(_, last)| *last)
        .map(|(a, _)| StoredAttendee {
            email: a.person.email.as_str().into(),
            name: a.person.name.as_str().into(),
            kind: kind_str(a.kind).into(),
            response: response_str(a.response).into(),
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".into())
}

fn parse_attendees(id: &str, json: &str) -> Result<Vec<Attendee>> {
    let stored: Vec<StoredAttendee<'_>> = serde_json::from_str(json).map_err(|e| {
        StoreError::Corrupt(format!("The attendees of event {id} cannot be read: {e}."))
    })?;
    Ok(stored
        .into_iter()
        .map(|a| Attendee {
            person: Person {
                email: a.email.into_owned(),
                name: a.name.into_owned(),
            },
            kind: parse_kind(&a.kind),
            response: parse_response(&a.response),
        })
        .collect())
}

/// The columns sync writes after `id`, bound as `?2`, `?3`, … in this order; the
/// parameter after them ([`NOW_PARAM`]) is the time of the write.
const EVENT_COLUMNS: [&str; 35] = [
    "calendar_id",
    "remote_id",
    "ical_uid",
    "etag",
    "kind",
    "series_id",
    "original_start",
    "title",
    "body_text",
    "body_html",
    "all_day",
    "start_local",
    "end_local",
    "time_zone",
    "start_utc",
    "end_utc",
    "show_as",
    "importance",
    "sensitivity",
    "categories",
    "location",
    "organizer_email",
    "organizer_name",
    "online_provider",
    "online_join_url",
    "online_conference_id",
    "online_dial_in",
    "online_pin",
    "rrule",
    "exdates",
    "rdates",
    "reminder_minutes",
    "provider_extra",
    "cancelled",
    "attendees",
];

/// The parameter number of the write's time, after `id` and [`EVENT_COLUMNS`].
const NOW_PARAM: usize = EVENT_COLUMNS.len() + 2;

/// A new row, whole. Separate from the overwrite rather than one upsert: an upsert
/// makes SQLite keep a statement journal, copying every page the insert touches.
pub(crate) static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| {
    let params: Vec<String> = (2..NOW_PARAM).map(|n| format!("?{n}")).collect();
    format!(
        "INSERT INTO events (id, {}, created_at, updated_at)
         VALUES (?1, {}, ?{NOW_PARAM}, ?{NOW_PARAM})",
        EVENT_COLUMNS.join(", "),
        params.join(", ")
    )
});

/// An existing row overwritten whole (its `created_at` kept).
pub(crate) static UPDATE_EVENT: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = EVENT_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 2))
        .collect();
    format!(
        "UPDATE events SET {}, updated_at = ?{NOW_PARAM} WHERE id = ?1",
        set.join(", ")
    )
});

/// A [`SyncedEvent`] that passed the store's checks, with its UTC bounds: what
/// [`write`] takes. Only [`SyncedEvent::check`] makes one, so a version checked while
/// it was converted is not validated a second time when it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEvent {
    row: SyncedEvent,
    bounds: (i64, i64),
}

impl CheckedEvent {
    pub fn row(&self) -> &SyncedEvent {
        &self.row
    }

    pub fn into_row(self) -> SyncedEvent {
        self.row
    }
}

impl SyncedEvent {
    /// Validates the row like a user's edit (a provider's event is hostile input too)
    /// and normalises its input the way the store keeps it (trimmed title, wall times
    /// with seconds, …). An instance of a series keeps no rule of its own.
    pub fn check(mut self) -> Result<CheckedEvent> {
        if self.kind == EventKind::Exception {
            if self.series_id.is_none() || self.original_start.is_none() {
                return Err(StoreError::BadRequest(
                    "An instance of a series needs its series and original start.".into(),
                ));
            }
            self.input.recurrence = None;
        }
        let v = self.input.validate()?;
        let bounds = bounds(&v);
        self.input = v.input;
        Ok(CheckedEvent { row: self, bounds })
    }
}

/// Inserts row `id` (or overwrites it, when it `existed`) with `checked`. Returns the
/// row's UTC bounds; recording its span for range queries is the caller's.
pub(crate) fn write(
    tx: &impl Cached,
    id: &str,
    existed: bool,
    checked: &CheckedEvent,
    now: i64,
) -> Result<(i64, i64)> {
    let (ev, (start_utc, end_utc)) = (&checked.row, checked.bounds);
    let i = &ev.input;
    let (rrule, exdates, rdates) = match &i.recurrence {
        Some(r) => (
            Some(r.rrule.as_str()),
            to_json(&r.exdates),
            to_json(&r.rdates),
        ),
        None => (None, "[]".to_owned(), "[]".to_owned()),
    };
    let om = ev.online_meeting.as_ref();
    tx.exec_cached(
        if existed {
            &UPDATE_EVENT
        } else {
            &INSERT_EVENT
        },
        params![
            id,
            i.calendar_id,
            ev.remote_id,
            ev.ical_uid,
            ev.etag,
            ev.kind.as_str(),
            ev.series_id,
            ev.original_start,
            i.title,
            i.description,
            ev.body_html,
            i.all_day,
            i.start,
            i.end,
            i.time_zone,
            start_utc,
            end_utc,
            show_as_str(i.show_as),
            importance_str(i.importance),
            sensitivity_str(ev.sensitivity),
            to_json(&i.categories),
            i.location,
            ev.organizer.as_ref().map(|p| p.email.as_str()),
            ev.organizer.as_ref().map(|p| p.name.as_str()),
            om.map(|m| meeting_provider_str(m.provider)),
            om.map(|m| m.join_url.as_str()),
            om.and_then(|m| m.conference_id.as_deref()),
            om.and_then(|m| m.toll_number.as_deref()),
            om.and_then(|m| m.pin.as_deref()),
            rrule,
            exdates,
            rdates,
            ev.reminder_minutes,
            ev.provider_extra,
            ev.cancelled,
            attendees_json(&ev.attendees),
            now,
        ],
    )?;
    Ok((start_utc, end_utc))
}

/// The columns of an event row that say who it is with and how to join it.
const MEETING_COLUMNS: &str = "organizer_email, organizer_name, online_provider, online_join_url,
    online_conference_id, online_dial_in, online_pin, attendees";

/// [`MEETING_COLUMNS`] as read from a row, before they are checked.
struct MeetingColumns {
    organizer: (Option<String>, Option<String>),
    online: (Option<String>, Option<String>),
    dial_in: (Option<String>, Option<String>, Option<String>),
    attendees: String,
}

impl MeetingColumns {
    /// Reads them from `r`, [`MEETING_COLUMNS`] starting at column `at`.
    fn get(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(Self {
            organizer: (r.get(at)?, r.get(at + 1)?),
            online: (r.get(at + 2)?, r.get(at + 3)?),
            dial_in: (r.get(at + 4)?, r.get(at + 5)?, r.get(at + 6)?),
            attendees: r.get(at + 7)?,
        })
    }

    fn meeting(self, id: &str) -> Result<EventMeeting> {
        let (conference_id, toll_number, pin) = self.dial_in;
        let organizer = self.organizer.0.map(|email| Person {
            email,
            name: self.organizer.1.unwrap_or_default(),
        });
        let online_meeting = match self.online {
            (Some(p), Some(join_url)) => Some(OnlineMeeting {
                provider: parse_meeting_provider(&p),
                join_url,
                conference_id,
                toll_number,
                pin,
            }),
            _ => None,
        };
        let attendees = parse_attendees(id, &self.attendees)?;
        Ok(EventMeeting::new(organizer, attendees, online_meeting))
    }
}

/// Who event `id` is with and how to join it (empty for an event of this computer).
pub(crate) fn meeting(conn: &rusqlite::Connection, id: &str) -> Result<EventMeeting> {
    let columns = conn
        .row_cached(
            &format!("SELECT {MEETING_COLUMNS} FROM events WHERE id = ?1"),
            params![id],
            |r| MeetingColumns::get(r, 0),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("There is no event with id \"{id}\".")))?;
    columns.meeting(id)
}

/// Reads row `id` whole; `None` when it does not exist.
pub(crate) fn read(tx: &rusqlite::Connection, id: &str) -> Result<Option<SyncedEvent>> {
    let extra = tx
        .row_cached(
            &format!(
                "SELECT remote_id, ical_uid, etag, body_html, sensitivity, reminder_minutes,
                    provider_extra, cancelled, {MEETING_COLUMNS}
                 FROM events WHERE id = ?1"
            ),
            params![id],
            |r| {
                Ok((
                    (
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ),
                    (
                        r.get::<_, Option<u32>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, bool>(7)?,
                    ),
                    MeetingColumns::get(r, 8)?,
                ))
            },
        )
        .optional()?;
    let Some((
        (remote_id, ical_uid, etag, body_html, sensitivity),
        (reminder_minutes, provider_extra, cancelled),
        meeting,
    )) = extra
    else {
        return Ok(None);
    };
    let row = load(tx, id)?;
    let EventMeeting {
        organizer,
        attendees,
        online_meeting,
        ..
    } = meeting.meeting(id)?;
    Ok(Some(SyncedEvent {
        remote_id,
        ical_uid,
        etag,
        kind: row.kind,
        series_id: row.series_id,
        original_start: row.original_start,
        input: row.input,
        body_html,
        sensitivity: parse_sensitivity(&sensitivity),
        organizer,
        attendees,
        online_meeting,
        reminder_minutes,
        provider_extra,
        cancelled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(email: &str, name: &str, response: Response) -> Attendee {
        Attendee {
            person: Person {
                email: email.into(),
                name: name.into(),
            },
            kind: AttendeeKind::Required,
            response,
        }
    }

    #[test]
    fn a_repeated_address_keeps_its_last_version_at_its_last_position() {
        let list = [
            att("a@x.com", "A", Response::None),
            att("b@x.com", "B", Response::Accepted),
            att("a@x.com", "A again", Response::Declined),
        ];
        let back = parse_attendees("e", &attendees_json(&list)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, vec![list[1].clone(), list[2].clone()]);
    }

    #[test]
    fn long_and_short_lists_keep_each_address_once_at_its_last_position() {
        // Past 16 entries the de-duplication goes through a map instead of pairwise
        // comparisons: both must agree with the rule.
        for len in [2, 15, 16, 17, 40] {
            let list: Vec<Attendee> = (0..len)
                .map(|i| {
                    att(
                        &format!("p{}@x.com", i % 7),
                        &format!("#{i}"),
                        Response::None,
                    )
                })
                .collect();
            let back =
                parse_attendees("e", &attendees_json(&list)).unwrap_or_else(|e| panic!("{e}"));
            let want: Vec<Attendee> = list
                .iter()
                .enumerate()
                .filter(|(i, a)| {
                    list[i + 1..]
                        .iter()
                        .all(|b| b.person.email != a.person.email)
                })
                .map(|(_, a)| a.clone())
                .collect();
            assert_eq!(back, want, "{len} entries");
        }
        assert_eq!(attendees_json(&[]), "[]");
    }

    fn row(title: &str, start: &str, end: &str) -> SyncedEvent {
        SyncedEvent {
            remote_id: Some("r1".into()),
            ical_uid: None,
            etag: Some("\"1\"".into()),
            kind: EventKind::Single,
            series_id: None,
            original_start: None,
            input: EventInput {
                calendar_id: "c1".into(),
                title: title.into(),
                all_day: false,
                start: start.into(),
                end: end.into(),
                time_zone: "Europe/Berlin".into(),
                recurrence: None,
                location: String::new(),
                description: String::new(),
                show_as: almanac_model::ShowAs::Busy,
                importance: almanac_model::Importance::Normal,
                categories: vec![],
            },
            body_html: None,
            sensitivity: Sensitivity::Normal,
            organizer: None,
            attendees: vec![],
            online_meeting: None,
            reminder_minutes: None,
            provider_extra: Some("{\"colorId\":\"5\"}".into()),
            cancelled: false,
        }
    }

    #[test]
    fn a_checked_row_is_kept_as_the_store_writes_it_with_its_bounds() {
        let checked = row("  Review  ", "2026-11-23T09:00", "2026-11-23T10:00")
            .check()
            .unwrap_or_else(|e| panic!("{e}"));
        let r = checked.row();
        assert_eq!(r.input.title, "Review");
        assert_eq!(
            (r.input.start.as_str(), r.input.end.as_str()),
            ("2026-11-23T09:00:00", "2026-11-23T10:00:00")
        );
        // 09:00 CET is 08:00 UTC.
        assert_eq!(checked.bounds, (1_795_420_800, 1_795_424_400));
        assert_eq!(r.provider_extra.as_deref(), Some("{\"colorId\":\"5\"}"));
    }

    #[test]
    fn a_row_the_store_would_not_keep_is_refused_by_its_check() {
        let err = row("Review", "2026-11-23T10:00", "2026-11-23T09:00").check();
        assert!(
            matches!(
                &err,
                Err(StoreError::Invalid(
                    almanac_model::ValidationError::EndBeforeStart
                ))
            ),
            "{err:?}"
        );
        let mut orphan = row("Review", "2026-11-23T09:00", "2026-11-23T10:00");
        orphan.kind = EventKind::Exception;
        orphan.series_id = Some("m1".into());
        let err = orphan.check();
        assert!(
            matches!(&err, Err(StoreError::BadRequest(m)) if m.contains("original start")),
            "{err:?}"
        );
    }

    #[test]
    fn an_instance_keeps_no_rule_of_its_own() {
        let mut instance = row("Review", "2026-11-23T09:00", "2026-11-23T10:00");
        instance.kind = EventKind::Exception;
        instance.series_id = Some("m1".into());
        instance.original_start = Some("2026-11-23T09:00:00".into());
        instance.input.recurrence = Some(almanac_model::RecurrenceInput {
            rrule: "FREQ=WEEKLY".into(),
            exdates: vec![],
            rdates: vec![],
        });
        let checked = instance.check().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checked.row().input.recurrence, None);
    }

    #[test]
    fn an_unreadable_attendees_column_is_a_clear_error() {
        let err = parse_attendees("e1", "{not json").map(|_| ());
        assert!(
            matches!(&err, Err(StoreError::Corrupt(m)) if m.contains("attendees of event e1")),
            "{err:?}"
        );
    }
}
