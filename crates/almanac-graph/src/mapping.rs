//! Graph `event` JSON ↔ [`RemoteEvent`], both ways. Works on the JSON object itself so
//! every property Almanac does not model stays in `extra` and is written back as it
//! came: a round trip never drops data.

use almanac_model::time::EventTime;
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::{OriginalStart, RemoteEvent, RemoteKind, SeriesLink, Timing};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::html;
use crate::series;
use crate::windows_zones;

/// Properties this mapping reads into [`RemoteEvent`] fields. Everything else goes to
/// `extra`. (`location`, `attendees`, `onlineMeeting` are also kept in `extra` whole,
/// so their unmodelled parts survive an edit of the modelled ones.)
const MODELLED: &[&str] = &[
    "id",
    "@odata.etag",
    "iCalUId",
    "type",
    "seriesMasterId",
    "originalStart",
    "isCancelled",
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "showAs",
    "importance",
    "sensitivity",
    "categories",
    "organizer",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "recurrence",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "originalStartTimeZone",
    "originalEndTimeZone",
];

/// Why a Graph event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Microsoft 365 sent an event Almanac cannot read ({0}).")]
pub struct BadEvent(pub String);

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `2026-11-23T08:00:00.0000000` (Graph: no offset, up to 7 fractional digits).
fn parse_wall(v: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// A `dateTimeTimeZone` as an instant.
fn instant(dttz: &Value) -> Result<DateTime<Utc>, BadEvent> {
    let wall = s(dttz, "dateTime")
        .and_then(parse_wall)
        .ok_or_else(|| BadEvent("start or end is not a date and time".into()))?;
    let zone = s(dttz, "timeZone").unwrap_or("UTC");
    let tz = windows_zones::to_iana(zone)
        .and_then(windows_zones::parse)
        .ok_or_else(|| BadEvent(format!("unknown time zone {zone:?}")))?;
    // Responses are in UTC or the zone of `Prefer: outlook.timezone`; a gap or fold
    // there resolves like everywhere else in Almanac (earlier instant).
    tz.from_local_datetime(&wall)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(wall + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| BadEvent("start or end does not exist in its time zone".into()))
}

fn date_part(dttz: &Value) -> Result<NaiveDate, BadEvent> {
    s(dttz, "dateTime")
        .and_then(parse_wall)
        .map(|w| w.date())
        .ok_or_else(|| BadEvent("an all-day date is missing".into()))
}

fn person(v: Option<&Value>) -> Option<Person> {
    let e = v?.get("emailAddress")?;
    Some(Person {
        email: s(e, "address").unwrap_or_default().to_string(),
        name: s(e, "name").unwrap_or_default().to_string(),
    })
}

fn response(r: Option<&str>) -> Response {
    match r {
        Some("organizer") => Response::Organizer,
        Some("accepted") => Response::Accepted,
        Some("tentativelyAccepted") => Response::Tentative,
        Some("declined") => Response::Declined,
        _ => Response::None,
    }
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

/// Reads one event of a listing. `fallback_zone` is the IANA zone to use when the
/// event's own (`originalStartTimeZone`) cannot be mapped, e.g. a legacy custom zone.
pub fn from_graph(v: &Value, fallback_zone: &str) -> Result<RemoteEvent, BadEvent> {
    let obj = v
        .as_object()
        .ok_or_else(|| BadEvent("not an object".into()))?;
    let remote_id = s(v, "id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| BadEvent("no id".into()))?
        .to_string();
    let kind = match s(v, "type") {
        Some("seriesMaster") => RemoteKind::Master,
        Some("occurrence") => RemoteKind::Occurrence,
        Some("exception") => RemoteKind::Exception,
        _ => RemoteKind::Single,
    };
    let zone = s(v, "originalStartTimeZone")
        .and_then(windows_zones::to_iana)
        .unwrap_or(fallback_zone)
        .to_string();
    let start = v.get("start").ok_or_else(|| BadEvent("no start".into()))?;
    let end = v.get("end").ok_or_else(|| BadEvent("no end".into()))?;
    let all_day = v.get("isAllDay").and_then(Value::as_bool).unwrap_or(false);
    let timing = if all_day {
        // All-day events are midnight to midnight in one zone; the dates are the
        // civil dates whatever zone the response is in.
        Timing::AllDay {
            start: date_part(start)?,
            end: date_part(end)?,
        }
    } else {
        Timing::Timed {
            start: instant(start)?,
            end: instant(end)?,
            time_zone: zone.clone(),
        }
    };
    let series = match (s(v, "seriesMasterId"), s(v, "originalStart")) {
        (Some(master), Some(orig)) if kind != RemoteKind::Master => {
            let t = DateTime::parse_from_rfc3339(orig)
                .map_err(|_| BadEvent("originalStart is not a date and time".into()))?
                .with_timezone(&Utc);
            Some(SeriesLink {
                master_id: master.to_string(),
                original_start: if all_day {
                    OriginalStart::AllDay(t.date_naive())
                } else {
                    OriginalStart::Timed(t)
                },
            })
        }
        _ => None,
    };
    let (body_text, body_html) = match v.get("body") {
        Some(b) if s(b, "contentType") == Some("html") => {
            let inner = html::unwrap_document(s(b, "content").unwrap_or_default());
            (html::to_text(&inner), Some(inner))
        }
        Some(b) => (s(b, "content").unwrap_or_default().to_string(), None),
        None => (String::new(), None),
    };
    let attendees = v
        .get("attendees")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    Some(Attendee {
                        person: person(Some(a))?,
                        kind: match s(a, "type") {
                            Some("optional") => AttendeeKind::Optional,
                            Some("resource") => AttendeeKind::Resource,
                            _ => AttendeeKind::Required,
                        },
                        response: response(a.get("status").and_then(|st| s(st, "response"))),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let online_meeting = v
        .get("onlineMeeting")
        .filter(|m| !m.is_null())
        .map(|m| OnlineMeeting {
            provider: match s(v, "onlineMeetingProvider") {
                Some("teamsForBusiness") => MeetingProvider::Teams,
                _ => MeetingProvider::Other,
            },
            join_url: s(m, "joinUrl").unwrap_or_default().to_string(),
            conference_id: s(m, "conferenceId").map(str::to_string),
            toll_number: s(m, "tollNumber").map(str::to_string),
            pin: None,
        });
    let recurrence = match v.get("recurrence").filter(|r| !r.is_null()) {
        Some(r) => {
            let mut rec = series::from_graph(r, &timing, &zone).map_err(BadEvent)?;
            rec.exdates = cancelled_exdates(v.get("cancelledOccurrences"), &timing, &zone);
            Some(rec)
        }
        None => None,
    };
    let mut extra = Map::new();
    for (k, val) in obj {
        if !MODELLED.contains(&k.as_str()) {
            extra.insert(k.clone(), val.clone());
        }
    }
    // Kept for a faithful write-back of the zone names Graph used.
    for k in ["originalStartTimeZone", "originalEndTimeZone"] {
        if let Some(val) = obj.get(k) {
            extra.insert(k.to_string(), val.clone());
        }
    }
    Ok(RemoteEvent {
        remote_id,
        etag: s(v, "@odata.etag").map(str::to_string),
        ical_uid: s(v, "iCalUId").map(str::to_string),
        kind,
        series,
        cancelled: v
            .get("isCancelled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        title: s(v, "subject").unwrap_or_default().to_string(),
        body_text,
        body_html,
        timing,
        show_as: match s(v, "showAs") {
            Some("free") => ShowAs::Free,
            Some("tentative") => ShowAs::Tentative,
            Some("oof") => ShowAs::Oof,
            Some("workingElsewhere") => ShowAs::WorkingElsewhere,
            _ => ShowAs::Busy,
        },
        importance: match s(v, "importance") {
            Some("low") => Importance::Low,
            Some("high") => Importance::High,
            _ => Importance::Normal,
        },
        sensitivity: match s(v, "sensitivity") {
            Some("personal") => Sensitivity::Personal,
            Some("private") => Sensitivity::Private,
            Some("confidential") => Sensitivity::Confidential,
            _ => Sensitivity::Normal,
        },
        categories: v
            .get("categories")
            .and_then(Value::as_array)
            .map(|c| {
                c.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        location: v
            .get("location")
            .and_then(|l| s(l, "displayName"))
            .unwrap_or_default()
            .to_string(),
        attendees,
        organizer: person(v.get("organizer")),
        online_meeting,
        recurrence,
        reminder_minutes: match v.get("isReminderOn").and_then(Value::as_bool) {
            Some(false) => None,
            _ => v
                .get("reminderMinutesBeforeStart")
                .and_then(Value::as_u64)
                .and_then(|m| u32::try_from(m).ok()),
        },
        extra: extra.into(),
    })
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
    out.remove("locations");
    // Attendees: reuse each old object (proposed times, response time) by address.
    let old: Vec<Value> = e
        .extra
        .get("attendees")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let attendees: Vec<Value> = e
        .attendees
        .iter()
        .map(|a| {
            let mut obj = old
                .iter()
                .find(|o| {
                    o.get("emailAddress")
                        .and_then(|m| s(m, "address"))
                        .is_some_and(|x| x.eq_ignore_ascii_case(&a.person.email))
                })
                .cloned()
                .unwrap_or_else(|| json!({}));
            obj["emailAddress"] = json!({"address": a.person.email, "name": a.person.name});
            obj["type"] = json!(match a.kind {
                AttendeeKind::Required => "required",
                AttendeeKind::Optional => "optional",
                AttendeeKind::Resource => "resource",
            });
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

/// A series' removed occurrences as EXDATEs: Graph lists them on the master as
/// `cancelledOccurrences`, strings `OID.<series id>.<YYYY-MM-DD>` (reference D1); each
/// names the date of an instance, which starts at the series' time of day.
fn cancelled_exdates(list: Option<&Value>, timing: &Timing, zone: &str) -> Vec<String> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<String> = list
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|s| s.rsplit('.').next())
        .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|date| match timing {
            Timing::AllDay { .. } => date.format("%Y-%m-%d").to_string(),
            Timing::Timed { start, .. } => {
                let time = match zone.parse::<chrono_tz::Tz>() {
                    Ok(tz) => start.with_timezone(&tz).time(),
                    Err(_) => start.time(),
                };
                date.and_time(time).format("%Y-%m-%dT%H:%M").to_string()
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
