//! Graph `event` JSON ↔ [`RemoteEvent`], both ways: reading in [`read`], writing here.
//! Every writable property Almanac does not model stays in `extra` and is written back
//! as it came (or, an attendee or a location a write renders exactly as listed, is
//! rendered afresh): a round trip never drops data.

use almanac_model::time::EventTime;
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, Response, Sensitivity, ShowAs,
};
use almanac_provider::{RemoteEvent, Timing};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::series;
use crate::windows_zones;

mod read;

pub use read::{from_graph, from_raw, BadEvent};

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Where a listed event keeps, among its provider-only fields, the attendees a write
/// would not render exactly as listed (a response time, a proposed new time, …); the
/// others are rendered afresh from Almanac's own list ([`fresh_attendee`]). A list that
/// cannot be matched by address stays whole under `attendees`, as events stored by
/// earlier builds have it. Not a Graph property: one of that name in an answer is
/// dropped.
pub const KEPT_ATTENDEES: &str = "almanacAttendees";

/// Graph's response time of an attendee who has not answered.
const NEVER: &str = "0001-01-01T00:00:00Z";

fn kind_str(k: AttendeeKind) -> &'static str {
    match k {
        AttendeeKind::Required => "required",
        AttendeeKind::Optional => "optional",
        AttendeeKind::Resource => "resource",
    }
}

/// `a` as Graph lists an attendee with nothing but what Almanac holds.
fn fresh_attendee(a: &Attendee) -> Value {
    json!({
        "emailAddress": {"address": a.person.email, "name": a.person.name},
        "status": {"response": response_str(a.response), "time": NEVER},
        "type": kind_str(a.kind),
    })
}

fn response_str(r: Response) -> &'static str {
    match r {
        Response::None => "none",
        Response::Organizer => "organizer",
        Response::Accepted => "accepted",
        Response::Tentative => "tentativelyAccepted",
        Response::Declined => "declined",
    }
}

/// A `dateTimeTimeZone` for a write: the wall time in the event's zone, named the
/// Windows way when CLDR knows it (every mailbox accepts those), else in UTC. Also in
/// UTC when the instant is the second pass of a DST fold: `dateTime` has no offset, so
/// the zone's wall time would name the first pass, an hour early (Outlook then shows
/// that end of the event in UTC, at the right time).
fn dttz(t: DateTime<Utc>, zone: &str) -> Value {
    let zone_tz = windows_zones::parse(zone).filter(|tz| EventTime::of(t, *tz).offset.is_none());
    match (zone_tz, windows_zones::to_windows(zone)) {
        (Some(tz), Some(win)) => json!({
            "dateTime": t.with_timezone(&tz).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "timeZone": win,
        }),
        _ => json!({
            "dateTime": t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "timeZone": "UTC",
        }),
    }
}

/// The JSON body to create or update `e` at Graph: the modelled fields, then every
/// property kept in `extra` that Graph accepts on a write (read-only ones are left
/// out: Graph refuses them).
pub fn to_graph(e: &RemoteEvent) -> Result<Value, String> {
    let mut out = Map::new();
    for (k, v) in e.extra.iter() {
        if !READ_ONLY.contains(&k.as_str()) && !k.starts_with("@odata") {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("subject".into(), json!(e.title));
    out.insert(
        "body".into(),
        match &e.body_html {
            Some(h) => json!({"contentType": "html", "content": h}),
            None => json!({"contentType": "text", "content": e.body_text}),
        },
    );
    match &e.timing {
        Timing::Timed {
            start,
            end,
            time_zone,
        } => {
            out.insert("isAllDay".into(), json!(false));
            out.insert("start".into(), dttz(*start, time_zone));
            out.insert("end".into(), dttz(*end, time_zone));
        }
        Timing::AllDay { start, end } => {
            out.insert("isAllDay".into(), json!(true));
            // Midnight to midnight in one zone, as Graph requires.
            out.insert(
                "start".into(),
                json!({"dateTime": format!("{start}T00:00:00"), "timeZone": "UTC"}),
            );
            out.insert(
                "end".into(),
                json!({"dateTime": format!("{end}T00:00:00"), "timeZone": "UTC"}),
            );
        }
    }
    out.insert(
        "showAs".into(),
        json!(match e.show_as {
            ShowAs::Free => "free",
            ShowAs::Tentative => "tentative",
            ShowAs::Busy => "busy",
            ShowAs::Oof => "oof",
            ShowAs::WorkingElsewhere => "workingElsewhere",
        }),
    );
    out.insert(
        "importance".into(),
        json!(match e.importance {
            Importance::Low => "low",
            Importance::Normal => "normal",
            Importance::High => "high",
        }),
    );
    out.insert(
        "sensitivity".into(),
        json!(match e.sensitivity {
            Sensitivity::Normal => "normal",
            Sensitivity::Personal => "personal",
            Sensitivity::Private => "private",
            Sensitivity::Confidential => "confidential",
        }),
    );
    out.insert("categories".into(), json!(e.categories));
    // Location: the old object when its text is unchanged (keeps address, room
    // mailbox, coordinates), else a plain display name.
    let old_location = e.extra.get("location");
    let same = old_location
        .and_then(|l| s(l, "displayName"))
        .unwrap_or_default()
        == e.location;
    match (same, old_location) {
        (true, Some(l)) => out.insert("location".into(), l.clone()),
        _ => out.insert("location".into(), json!({"displayName": e.location})),
    };
    // A `location` written alone replaces all of `locations` (reference B1): kept ones
    // (a second place, a room's mailbox) go back as listed while the name is unchanged.
    match (same, e.extra.get("locations")) {
        (true, Some(all)) if all.as_array().is_some_and(|l| !l.is_empty()) => {
            out.insert("locations".into(), all.clone())
        }
        _ => out.remove("locations"),
    };
    // Attendees: reuse each kept object (proposed times, response time) by address;
    // the others as a listing shows one with nothing more than Almanac holds.
    out.remove(KEPT_ATTENDEES);
    let old: Vec<Value> = e
        .extra
        .get("attendees")
        .or_else(|| e.extra.get(KEPT_ATTENDEES))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let attendees: Vec<Value> = e
        .attendees
        .iter()
        .map(|a| {
            let Some(mut obj) = old
                .iter()
                .find(|o| {
                    o.get("emailAddress")
                        .and_then(|m| s(m, "address"))
                        .is_some_and(|x| x.eq_ignore_ascii_case(&a.person.email))
                })
                .cloned()
            else {
                return fresh_attendee(a);
            };
            obj["emailAddress"] = json!({"address": a.person.email, "name": a.person.name});
            obj["type"] = json!(kind_str(a.kind));
            if let Some(status) = obj.get_mut("status") {
                status["response"] = json!(response_str(a.response));
            }
            obj
        })
        .collect();
    out.insert("attendees".into(), json!(attendees));
    // Graph can create a Teams meeting but never remove one; only ask for it.
    if let Some(m) = &e.online_meeting {
        if m.provider == MeetingProvider::Teams {
            out.insert("isOnlineMeeting".into(), json!(true));
            out.insert("onlineMeetingProvider".into(), json!("teamsForBusiness"));
        }
    }
    out.remove("onlineMeeting");
    match e.reminder_minutes {
        Some(m) => {
            out.insert("isReminderOn".into(), json!(true));
            out.insert("reminderMinutesBeforeStart".into(), json!(m));
        }
        None => {
            out.insert("isReminderOn".into(), json!(false));
        }
    }
    if let Some(r) = &e.recurrence {
        out.insert("recurrence".into(), series::to_graph(r, &e.timing)?);
    }
    Ok(Value::Object(out))
}

/// Properties Graph sets itself; sending them back fails the write.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "bodyPreview",
    "hasAttachments",
    "iCalUId",
    "isOrganizer",
    "isDraft",
    "onlineMeetingUrl",
    "originalEndTimeZone",
    "originalStart",
    "originalStartTimeZone",
    "seriesMasterId",
    "type",
    "webLink",
    "responseStatus",
    "cancelledOccurrences",
    "exceptionOccurrences",
    "instances",
    "calendar",
    "attachments",
    "extensions",
    "transactionId",
    "isCancelled",
    "uid",
];
