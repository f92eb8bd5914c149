//! Graph `event` JSON → [`RemoteEvent`]. An event is read as the text of its properties
//! ([`RawObject`]): the two dozen Almanac models are parsed, the rest (most of an event:
//! change keys, links, response status…) go to `extra` as the text they came as, never
//! built into a tree. Not kept: what a write renders afresh exactly as listed (plain
//! attendees and locations), and read-only copies or nulls nothing reads (`bodyPreview`;
//! `changeKey`, the etag's text; zone names the event's zone says).

use std::borrow::Cow;

use almanac_model::time::in_years;
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::raw::{self, RawObject};
use almanac_provider::{Extra, OriginalStart, RemoteEvent, RemoteKind, SeriesLink, Timing};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::html;
use crate::series;
use crate::windows_zones;

/// Why a Graph event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Microsoft 365 sent an event Almanac cannot read ({0}).")]
pub struct BadEvent(pub String);

/// The properties this mapping reads, one slot each: a name is matched once per
/// property of every listed event, and the mapping reads its slots by index.
macro_rules! read_properties {
    ($($slot:ident = $name:literal,)*) => {
        #[derive(Debug, Clone, Copy)]
        enum Prop {
            $($slot,)*
        }

        const READ: &[&str] = &[$($name,)*];

        fn slot_of(name: &str) -> Option<Prop> {
            match name {
                $($name => Some(Prop::$slot),)*
                _ => None,
            }
        }
    };
}

read_properties! {
    Etag = "@odata.etag",
    Attendees = "attendees",
    Body = "body",
    CancelledOccurrences = "cancelledOccurrences",
    Categories = "categories",
    End = "end",
    ICalUid = "iCalUId",
    Id = "id",
    Importance = "importance",
    IsAllDay = "isAllDay",
    IsCancelled = "isCancelled",
    IsOnlineMeeting = "isOnlineMeeting",
    IsReminderOn = "isReminderOn",
    Location = "location",
    OnlineMeeting = "onlineMeeting",
    OnlineMeetingProvider = "onlineMeetingProvider",
    Organizer = "organizer",
    OriginalEndTimeZone = "originalEndTimeZone",
    OriginalStart = "originalStart",
    OriginalStartTimeZone = "originalStartTimeZone",
    Recurrence = "recurrence",
    ReminderMinutes = "reminderMinutesBeforeStart",
    Sensitivity = "sensitivity",
    SeriesMasterId = "seriesMasterId",
    ShowAs = "showAs",
    Start = "start",
    Subject = "subject",
    Type = "type",
}

impl Prop {
    /// Read, and also kept in `extra` whole: the unmodelled parts of a meeting survive
    /// an edit of the modelled ones, and a master's cancelled occurrences are written
    /// back as they came.
    fn kept_too(self) -> bool {
        // Attendees, locations and zone names are kept apart, only when they say more
        // than what is read of them (`read_attendees`, `plain_location`, `from_raw`).
        matches!(self, Prop::CancelledOccurrences | Prop::OnlineMeeting)
    }
}

/// The read properties of one event: the value last sent under each name.
struct Read<'a>([Option<&'a RawValue>; READ.len()]);

impl<'a> Read<'a> {
    fn get(&self, p: Prop) -> Option<&'a RawValue> {
        self.0[p as usize]
    }

    fn str(&self, p: Prop) -> Option<Cow<'a, str>> {
        self.get(p).and_then(raw::text)
    }

    fn bool(&self, p: Prop) -> Option<bool> {
        self.get(p).and_then(raw::boolean)
    }

    fn object(&self, p: Prop) -> Option<RawObject<'a>> {
        self.get(p).and_then(raw::object)
    }

    fn array(&self, p: Prop) -> Option<Vec<&'a RawValue>> {
        self.get(p).and_then(raw::array)
    }
}

/// `2026-11-23T08:00:00.0000000` (Graph: no offset, up to 7 fractional digits).
fn parse_wall(v: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .filter(|t| in_years(t.date()))
}

/// A `dateTimeTimeZone` as an instant.
fn instant(dttz: &RawObject<'_>) -> Result<DateTime<Utc>, BadEvent> {
    let wall = dttz
        .str("dateTime")
        .as_deref()
        .and_then(parse_wall)
        .ok_or_else(|| BadEvent("start or end is not a date and time".into()))?;
    let zone = dttz.str("timeZone");
    let zone = zone.as_deref().unwrap_or("UTC");
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

/// The day an all-day occurrence had in its series, from `originalStart`: the
/// instant its day began where the series is kept — 2018-06-05 in Seattle comes as
/// `2018-06-05T07:00:00Z`, in Berlin as `2018-06-04T22:00:00Z`, whose UTC date is the
/// day before. So: a UTC midnight is its own day (a zone at UTC+0); else the day the
/// event's zone begins at that instant; else (Graph has been seen to name UTC with
/// such an instant) the nearest midnight, right for offsets within ±12 h.
fn original_day(t: DateTime<Utc>, zone: &str) -> NaiveDate {
    let midnight = |w: NaiveDateTime| w.time() == chrono::NaiveTime::MIN;
    if midnight(t.naive_utc()) {
        return t.date_naive();
    }
    if let Ok(tz) = almanac_model::time::parse_zone(zone) {
        let local = almanac_model::time::to_local(t, tz);
        if midnight(local) {
            return local.date();
        }
    }
    (t + chrono::TimeDelta::hours(12)).date_naive()
}

fn date_part(dttz: &RawObject<'_>) -> Result<NaiveDate, BadEvent> {
    dttz.str("dateTime")
        .as_deref()
        .and_then(parse_wall)
        .map(|w| w.date())
        .ok_or_else(|| BadEvent("an all-day date is missing".into()))
}

/// An `attendee`'s or the organizer's `emailAddress`.
fn person(v: Option<RawObject<'_>>) -> Option<Person> {
    person_in(&v?)
}

fn person_in(v: &RawObject<'_>) -> Option<Person> {
    let e = v.object("emailAddress")?;
    Some(Person {
        email: e.str("address").unwrap_or_default().into_owned(),
        name: e.str("name").unwrap_or_default().into_owned(),
    })
}

fn attendee(a: &RawValue) -> Option<Attendee> {
    attendee_of(&raw::object(a)?)
}

fn attendee_of(a: &RawObject<'_>) -> Option<Attendee> {
    let response = a.object("status").and_then(|st| st.str("response"));
    Some(Attendee {
        kind: match a.str("type").as_deref() {
            Some("optional") => AttendeeKind::Optional,
            Some("resource") => AttendeeKind::Resource,
            _ => AttendeeKind::Required,
        },
        response: match response.as_deref() {
            Some("organizer") => Response::Organizer,
            Some("accepted") => Response::Accepted,
            Some("tentativelyAccepted") => Response::Tentative,
            Some("declined") => Response::Declined,
            _ => Response::None,
        },
        person: person_in(a)?,
    })
}

/// How a listed event's attendees are kept among its provider-only fields.
enum Kept<'a> {
    /// As listed: an attendee without an address, or two with the same one, could not
    /// be found again by address when the event is written.
    Whole(&'a RawValue),
    /// Only those a write would not render exactly as listed (see [`fresh`]).
    Some(Box<RawValue>),
    None,
}

/// The attendees of a listing's `attendees`, and what of it to keep.
fn read_attendees(listed: Option<&RawValue>) -> (Vec<Attendee>, Kept<'_>) {
    let Some(listed) = listed else {
        return (Vec::new(), Kept::None);
    };
    let items = raw::array(listed).unwrap_or_default();
    let whole = || {
        let attendees = items.iter().copied().filter_map(attendee).collect();
        (attendees, Kept::Whole(listed))
    };
    let mut attendees = Vec::with_capacity(items.len());
    let mut addresses = std::collections::HashSet::with_capacity(items.len());
    let mut kept: Vec<&str> = Vec::new();
    for item in &items {
        let Some(obj) = raw::object(item) else {
            return whole();
        };
        let Some(a) = attendee_of(&obj) else {
            return whole();
        };
        if a.person.email.is_empty() || !addresses.insert(a.person.email.to_ascii_lowercase()) {
            return whole();
        }
        if !fresh(&obj, &a) {
            kept.push(item.get());
        }
        attendees.push(a);
    }
    if kept.is_empty() {
        return (attendees, Kept::None);
    }
    match RawValue::from_string(format!("[{}]", kept.join(","))) {
        Ok(list) => (attendees, Kept::Some(list)),
        Err(_) => whole(),
    }
}

/// Whether `listed` is exactly what a write renders for `a` when it has nothing else
/// of it (`mapping::fresh_attendee`): the address and name, the type, and the answer
/// with Graph's "never" for its time. A response time, a proposed new time, a missing
/// name or any other property is the listing's own, kept.
fn fresh(listed: &RawObject<'_>, a: &Attendee) -> bool {
    let only = |o: &RawObject<'_>, names: &[&str]| {
        let mut n = 0;
        o.fields().all(|(name, _)| {
            n += 1;
            names.contains(&name)
        }) && n == names.len()
    };
    let (Some(email), Some(status)) = (listed.object("emailAddress"), listed.object("status"))
    else {
        return false;
    };
    only(listed, &["emailAddress", "status", "type"])
        && listed.str("type").as_deref() == Some(super::kind_str(a.kind))
        && only(&email, &["address", "name"])
        && email.str("address").as_deref() == Some(a.person.email.as_str())
        && email.str("name").as_deref() == Some(a.person.name.as_str())
        && only(&status, &["response", "time"])
        && status.str("response").as_deref() == Some(super::response_str(a.response))
        && status.str("time").as_deref() == Some(super::NEVER)
}

/// Whether an event's `location` is what Graph makes of a write of its name alone
/// (`{"displayName": …}`, as `to_graph` writes a location it has nothing more of): the
/// name, a private or unknown unique id that is the name, no address, no coordinates
/// — and its `locations` the same one or, without a name, none. Then neither is kept:
/// a room's mailbox, an address, a second location are.
fn plain_location(location: Option<&RawValue>, locations: Option<&RawValue>) -> bool {
    let Some(location) = location.and_then(raw::object) else {
        return location.is_none() && locations.is_none();
    };
    let Some(name) = location.str("displayName") else {
        return false;
    };
    let plain = |l: &RawObject<'_>| {
        l.fields().all(|(field, value)| {
            let text = raw::text(value);
            match field {
                "displayName" | "uniqueId" => text.as_deref() == Some(&*name),
                "locationType" => text.as_deref() == Some("default"),
                "uniqueIdType" => matches!(text.as_deref(), Some("private" | "unknown")),
                "address" | "coordinates" => value.get() == "{}",
                _ => false,
            }
        })
    };
    let listed = match locations.map(raw::array) {
        None => true,
        Some(None) => false,
        Some(Some(list)) => match list.as_slice() {
            [] => name.is_empty(),
            [one] => raw::object(one).is_some_and(|l| plain(&l)),
            _ => false,
        },
    };
    plain(&location) && listed
}

/// Reads one event (an answer's JSON tree). `fallback_zone` is the IANA zone to use when
/// no zone the event names (`originalStartTimeZone`, its series'
/// `recurrenceTimeZone`, `originalEndTimeZone`) can be mapped, e.g. a legacy custom zone.
pub fn from_graph(v: &Value, fallback_zone: &str) -> Result<RemoteEvent, BadEvent> {
    let text = v.to_string();
    let event: RawObject =
        serde_json::from_str(&text).map_err(|_| BadEvent("not an object".into()))?;
    from_raw(&event, fallback_zone)
}

/// Reads one event of a listing, as its properties' text ([`RawObject`]).
pub fn from_raw(event: &RawObject<'_>, fallback_zone: &str) -> Result<RemoteEvent, BadEvent> {
    let mut v = Read([None; READ.len()]);
    let mut kept = Vec::with_capacity(event.fields().size_hint().0);
    let (mut locations, mut change_key) = (None, None);
    for (name, value) in event.fields() {
        match slot_of(name) {
            // Written back afresh (`location`, below), or never (a meeting: see
            // `to_graph`): a location of nothing but its name, and no meeting, say
            // nothing a write or a reader needs.
            Some(Prop::Location) => v.0[Prop::Location as usize] = Some(value),
            Some(Prop::OnlineMeeting) if value.get() == "null" => {}
            Some(p) => {
                v.0[p as usize] = Some(value);
                if p.kept_too() {
                    kept.push((name, value));
                }
            }
            // Ours (see `KEPT_ATTENDEES`), not Graph's: never taken from an answer.
            None if name == super::KEPT_ATTENDEES => {}
            // Graph's copy of the body's start: read-only, and the body is read.
            None if name == "bodyPreview" => {}
            // A read-only property without a value (`transactionId`, `onlineMeetingUrl`
            // on most events): never written back, and absent reads the same.
            None if value.get() == "null" && super::READ_ONLY.contains(&name) => {}
            None if name == "locations" => locations = Some(value),
            None if name == "changeKey" => change_key = Some(value),
            None => kept.push((name, value)),
        }
    }
    // Read-only, and the etag's text (`W/"<changeKey>"`) when the answer has one.
    let etag = v.str(Prop::Etag);
    let tag = etag
        .as_deref()
        .and_then(|t| t.strip_prefix("W/\"")?.strip_suffix('"'));
    if let Some(key) = change_key.filter(|k| tag.is_none() || raw::text(k).as_deref() != tag) {
        kept.push(("changeKey", key));
    }
    if !plain_location(v.get(Prop::Location), locations) {
        kept.extend(v.get(Prop::Location).map(|l| ("location", l)));
        kept.extend(locations.map(|l| ("locations", l)));
    }
    let remote_id = v
        .str(Prop::Id)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| BadEvent("no id".into()))?
        .into_owned();
    let kind = match v.str(Prop::Type).as_deref() {
        Some("seriesMaster") => RemoteKind::Master,
        Some("occurrence") => RemoteKind::Occurrence,
        Some("exception") => RemoteKind::Exception,
        _ => RemoteKind::Single,
    };
    // A series' pattern (masters only, a few in a hundred events) is read as a tree.
    let pattern = v
        .get(Prop::Recurrence)
        .and_then(|r| serde_json::from_str::<Value>(r.get()).ok())
        .filter(|r| !r.is_null());
    // The zone the event was made in. A legacy custom zone from desktop Outlook
    // (`tzone://Microsoft/Custom`) names none; the series' own zone or the end's is
    // then the event's far more often than the fallback, and a series expanded in
    // the wrong zone moves by an hour at every change of clocks.
    let zone = v
        .str(Prop::OriginalStartTimeZone)
        .and_then(|z| windows_zones::to_iana(&z))
        .or_else(|| {
            let z = pattern
                .as_ref()?
                .pointer("/range/recurrenceTimeZone")?
                .as_str()?;
            windows_zones::to_iana(z)
        })
        .or_else(|| {
            v.str(Prop::OriginalEndTimeZone)
                .and_then(|z| windows_zones::to_iana(&z))
        })
        .unwrap_or(fallback_zone)
        .to_string();
    // Read-only (never written back): kept only when one names a zone other than the
    // event's, e.g. a custom zone CLDR does not know, read in the fallback zone.
    for (p, name) in [
        (Prop::OriginalStartTimeZone, "originalStartTimeZone"),
        (Prop::OriginalEndTimeZone, "originalEndTimeZone"),
    ] {
        if let Some(value) = v.get(p) {
            let known = raw::text(value).and_then(|z| windows_zones::to_iana(&z));
            if known != Some(zone.as_str()) {
                kept.push((name, value));
            }
        }
    }
    let start = v
        .object(Prop::Start)
        .ok_or_else(|| BadEvent("no start".into()))?;
    let end = v
        .object(Prop::End)
        .ok_or_else(|| BadEvent("no end".into()))?;
    let all_day = v.bool(Prop::IsAllDay).unwrap_or(false);
    let timing = if all_day {
        // All-day events are midnight to midnight in one zone; the dates are the
        // civil dates whatever zone the response is in.
        Timing::AllDay {
            start: date_part(&start)?,
            end: date_part(&end)?,
        }
    } else {
        Timing::Timed {
            start: instant(&start)?,
            end: instant(&end)?,
            time_zone: zone.clone(),
        }
    };
    let series = match (v.str(Prop::SeriesMasterId), v.str(Prop::OriginalStart)) {
        (Some(master), Some(orig)) if kind != RemoteKind::Master => {
            let t = DateTime::parse_from_rfc3339(&orig)
                .map_err(|_| BadEvent("originalStart is not a date and time".into()))?
                .with_timezone(&Utc);
            Some(SeriesLink {
                master_id: master.into_owned(),
                original_start: if all_day {
                    let own_day = (kind == RemoteKind::Occurrence)
                        .then(|| date_part(&start).ok())
                        .flatten();
                    OriginalStart::AllDay(own_day.unwrap_or_else(|| original_day(t, &zone)))
                } else {
                    OriginalStart::Timed(t)
                },
            })
        }
        _ => None,
    };
    let body = v.object(Prop::Body);
    let content = body.as_ref().and_then(|b| b.str("content"));
    let content = content.as_deref().unwrap_or_default();
    let (body_text, body_html) = match body.as_ref().and_then(|b| b.str("contentType")) {
        Some(t) if t == "html" => {
            let inner = html::unwrap_document(content);
            (html::to_text(&inner), Some(inner))
        }
        _ => (content.to_string(), None),
    };
    let (attendees, kept_attendees) = read_attendees(v.get(Prop::Attendees));
    match &kept_attendees {
        Kept::Whole(list) => kept.push(("attendees", list)),
        Kept::Some(list) => kept.push((super::KEPT_ATTENDEES, list)),
        Kept::None => {}
    }
    let online_meeting = v.object(Prop::OnlineMeeting).map(|m| OnlineMeeting {
        provider: match v.str(Prop::OnlineMeetingProvider).as_deref() {
            Some("teamsForBusiness") => MeetingProvider::Teams,
            _ => MeetingProvider::Other,
        },
        join_url: m.str("joinUrl").unwrap_or_default().into_owned(),
        conference_id: m.str("conferenceId").map(Cow::into_owned),
        toll_number: m.str("tollNumber").map(Cow::into_owned),
        pin: None,
    });
    let recurrence = match pattern {
        Some(r) => {
            let mut rec = series::from_graph(&r, &timing, &zone).map_err(BadEvent)?;
            rec.exdates = cancelled_exdates(v.array(Prop::CancelledOccurrences), &timing, &zone);
            Some(rec)
        }
        None => None,
    };
    Ok(RemoteEvent {
        remote_id,
        etag: etag.map(Cow::into_owned),
        ical_uid: v.str(Prop::ICalUid).map(Cow::into_owned),
        kind,
        series,
        cancelled: v.bool(Prop::IsCancelled).unwrap_or(false),
        title: v.str(Prop::Subject).unwrap_or_default().into_owned(),
        body_text,
        body_html,
        timing,
        show_as: match v.str(Prop::ShowAs).as_deref() {
            Some("free") => ShowAs::Free,
            Some("tentative") => ShowAs::Tentative,
            Some("oof") => ShowAs::Oof,
            Some("workingElsewhere") => ShowAs::WorkingElsewhere,
            _ => ShowAs::Busy,
        },
        importance: match v.str(Prop::Importance).as_deref() {
            Some("low") => Importance::Low,
            Some("high") => Importance::High,
            _ => Importance::Normal,
        },
        sensitivity: match v.str(Prop::Sensitivity).as_deref() {
            Some("personal") => Sensitivity::Personal,
            Some("private") => Sensitivity::Private,
            Some("confidential") => Sensitivity::Confidential,
            _ => Sensitivity::Normal,
        },
        categories: v
            .array(Prop::Categories)
            .map(|c| {
                c.into_iter()
                    .filter_map(raw::text)
                    .map(Cow::into_owned)
                    .collect()
            })
            .unwrap_or_default(),
        location: v
            .object(Prop::Location)
            .and_then(|l| l.str("displayName"))
            .unwrap_or_default()
            .into_owned(),
        attendees,
        organizer: person(v.object(Prop::Organizer)),
        online_meeting,
        recurrence,
        reminder_minutes: match v.bool(Prop::IsReminderOn) {
            Some(false) => None,
            _ => v
                .get(Prop::ReminderMinutes)
                .and_then(|m| serde_json::from_str::<u64>(m.get()).ok())
                .and_then(|m| u32::try_from(m).ok()),
        },
        extra: Extra::from_raw_fields(kept),
    })
}

/// A series' removed occurrences as EXDATEs: Graph lists them on the master as
/// `cancelledOccurrences`, strings `OID.<series id>.<YYYY-MM-DD>` (reference D1); each
/// names the date of an instance, which starts at the series' time of day.
fn cancelled_exdates(list: Option<Vec<&RawValue>>, timing: &Timing, zone: &str) -> Vec<String> {
    let Some(list) = list else {
        return Vec::new();
    };
    let mut out: Vec<String> = list
        .into_iter()
        .filter_map(raw::text)
        .filter_map(|s| {
            let date = s.rsplit('.').next()?;
            NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .ok()
                .filter(|d| in_years(*d))
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_read_property_has_its_own_slot() {
        for (i, name) in READ.iter().enumerate() {
            assert_eq!(slot_of(name).map(|p| p as usize), Some(i), "{name}");
        }
        assert!(slot_of("bodyPreview").is_none());
    }
}
