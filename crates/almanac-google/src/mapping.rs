//! Google `Event` ↔ [`RemoteEvent`].
//!
//! # What goes where
//!
//! * Carried whole by `RemoteEvent` fields (not in `extra`): `id`, `etag`, `iCalUID`,
//!   `summary`, `description`, `location`, `start`, `end`; `status` when it is
//!   `cancelled`; `recurringEventId` + `originalStartTime` of a series instance.
//! * Carried in part — `RemoteEvent` holds what Almanac understands, and `extra` keeps
//!   the last-seen Google form under the same key: `recurrence`, `transparency`,
//!   `visibility`, `organizer`, `reminders`, `conferenceData`, `extendedProperties`.
//!   A write re-emits that form verbatim unless Almanac changed what it maps; when it
//!   did, the new value is merged into the old form (an email reminder, a foreign
//!   extended property survive).
//! * `attendees` is kept as [`KEPT_ATTENDEES`]: only the attendees a write could not
//!   render exactly from Almanac's own (the one with `self`, one with a `comment`, …),
//!   whole. Most attendees are just an address, a name and an answer, which Almanac
//!   holds, and a second copy of them was a fifth of a synced event's bytes. A write
//!   renders every attendee afresh ([`fresh_attendee`]), or over its kept form, found
//!   by address. A list that cannot be kept so (an attendee without an address, two
//!   with one address, a list Google cut short with `attendeesOmitted`) is kept whole
//!   under `attendees`, as rows written before this form are.
//! * Everything else (`htmlLink`, `sequence`, `creator`, `colorId`, `source`,
//!   `attachments`, `guestsCan*`, `hangoutLink`, `eventType`, a non-cancelled
//!   `status`, …) is kept verbatim in `extra` and written back unchanged.
//!
//! # What Google cannot hold, and where it goes
//!
//! Private extended properties (this calendar's copy only):
//! [`PROP_SHOW_AS`] (tentative / oof / workingElsewhere), [`PROP_SENSITIVITY`]
//! (personal), [`PROP_IMPORTANCE`] (low / high), [`PROP_CATEGORIES`] (a JSON array,
//! continued in `almanacCategories2`, `…3` past Google's 1024-character value limit),
//! [`PROP_ONLINE_MEETING`] (a meeting that is not a Google Meet, as JSON). A property
//! that disagrees with the Google field it refines (say `almanacShowAs=tentative` on an
//! event another client made `transparent`) is ignored: Google's own field wins.
//!
//! A PATCH leaves out fields it does not name, so a write names every field Almanac
//! changed, clearing with `""`, `[]` or `null` (`null` deletes an extended property).

use almanac_model::time::{in_years, parse_wall_time, to_instant, to_local};
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::raw::RawObject;
use almanac_provider::{
    Change, Extra, OriginalStart, RemoteCalendar, RemoteEvent, RemoteKind, RemoteRecurrence,
    SeriesLink, Timing,
};
use chrono::{
    DateTime, Duration, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::dto::{
    ConferenceData, ConferenceSolutionKey, CreateConferenceRequest, Event, EventAttendee,
    EventDateTime, EventPerson, EventReminder, Events, Reminders,
};

/// `tentative`, `oof` or `workingElsewhere` (Google has only opaque/transparent).
pub const PROP_SHOW_AS: &str = "almanacShowAs";
/// `personal` (Google has no such visibility; the event is `private`).
pub const PROP_SENSITIVITY: &str = "almanacSensitivity";
/// `low` or `high`.
pub const PROP_IMPORTANCE: &str = "almanacImportance";
/// JSON array of strings; continued in `almanacCategories2`, `almanacCategories3`, …
pub const PROP_CATEGORIES: &str = "almanacCategories";
/// A non-Meet online meeting as JSON (`{"provider":"teams","joinUrl":…}`).
pub const PROP_ONLINE_MEETING: &str = "almanacOnlineMeeting";
/// Google's limit on one extended-property value.
pub const PROP_VALUE_MAX: usize = 1024;

/// The key in `extra` of a listed attendee list's attendees that a write cannot render
/// from Almanac's own (see the module documentation). Not a Google field: never sent,
/// and a field of this name in Google's JSON is dropped on reading.
pub const KEPT_ATTENDEES: &str = "almanacAttendees";

/// Google's limits on reminders.
const MAX_OVERRIDES: usize = 5;
const MAX_REMINDER_MINUTES: u32 = 40_320;

/// Fields `RemoteEvent` carries whole.
const CARRIED: &[&str] = &[
    "id",
    "etag",
    "iCalUID",
    "summary",
    "description",
    "location",
    "start",
    "end",
];

/// Fields a write renders itself (the rest of `extra` is copied verbatim).
const RENDERED: &[&str] = &[
    "id",
    "etag",
    "iCalUID",
    "status",
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "transparency",
    "visibility",
    "attendees",
    KEPT_ATTENDEES,
    "organizer",
    "reminders",
    "conferenceData",
    "extendedProperties",
];

/// Fields whose last-seen form a write compares against (the partial ones, and what
/// their projections read).
const REMEMBERED: &[&str] = &[
    "status",
    "recurrence",
    "transparency",
    "visibility",
    "attendees",
    "organizer",
    "reminders",
    "conferenceData",
    "extendedProperties",
    "hangoutLink",
    "eventType",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("Google sent an event without an id")]
    MissingId,
    #[error("Google sent an event that is not an Event resource: {0}")]
    Malformed(String),
    #[error("Google sent event {0} without a start")]
    MissingStart(String),
    #[error("event {id}: unreadable time {value:?}")]
    BadTime { id: String, value: String },
    #[error("event {id}: unreadable repeat date {value:?}")]
    BadRecurrenceDate { id: String, value: String },
}

/// What a mapping needs to know about the calendar: its zone (for times Google gives
/// without `timeZone`) and its default reminders (for `useDefault`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CalendarContext {
    pub time_zone: Option<String>,
    pub default_reminders: Vec<EventReminder>,
}

impl CalendarContext {
    /// From a calendar of `list_calendars` (`defaultReminders` is in its `extra`).
    pub fn of_calendar(calendar: &RemoteCalendar) -> Self {
        Self {
            time_zone: calendar.time_zone.clone(),
            default_reminders: calendar
                .extra
                .get("defaultReminders")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default(),
        }
    }

    /// What an `events.list` page says about its calendar wins.
    pub fn with_page(&self, page: &Events) -> Self {
        Self {
            time_zone: page.time_zone.clone().or_else(|| self.time_zone.clone()),
            default_reminders: page
                .default_reminders
                .clone()
                .unwrap_or_else(|| self.default_reminders.clone()),
        }
    }

    /// The calendar's zone if it is a known IANA name, else UTC.
    pub fn zone(&self) -> String {
        valid_zone(self.time_zone.as_deref()).unwrap_or_else(|| "UTC".to_owned())
    }

    fn default_popup(&self) -> Option<u32> {
        first_popup(&self.default_reminders)
    }
}

// ---------------------------------------------------------------------------------
// Google → RemoteEvent

/// Maps one fetched event. A cancelled event that is not an instance of a series is a
/// deletion; a cancelled instance is kept as a cancelled exception (it hides that
/// instance for as long as the series lives).
pub fn from_google(ev: Event, ctx: &CalendarContext) -> Result<Change, MappingError> {
    // The provider-only fields: the event without what `RemoteEvent` carries, as the
    // text serialised here. The store writes it as it is, and only a merge or a write
    // reads it by key (see `Extra`).
    let truncated = ev.extra.get("attendeesOmitted") == Some(&Value::Bool(true));
    map_event(ev, ctx, truncated, |rest, _, kept| {
        /// The event's remaining fields, and the attendees kept.
        #[derive(serde::Serialize)]
        struct Rest<'a> {
            #[serde(flatten)]
            event: &'a Event,
            // KEPT_ATTENDEES (an attribute takes no constant; the tests read both ways).
            #[serde(rename = "almanacAttendees", skip_serializing_if = "Option::is_none")]
            kept: Option<&'a RawValue>,
        }
        Extra::serialize_from(&Rest { event: rest, kept }).unwrap_or_default()
    })
}

/// [`from_google`] for one event of an `events.list` page, read as the text of its
/// properties: the fields the mapping reads are parsed from their text, and every other
/// field goes to `extra` as the text it came as — nothing of it is built, where a typed
/// read buffered each unmodelled field, built it as a JSON value and wrote it out again
/// (four fifths of listing a page).
pub fn from_google_listed(
    item: &RawObject<'_>,
    ctx: &CalendarContext,
) -> Result<Change, MappingError> {
    let (ev, nulls) = typed_fields(item).map_err(|e| MappingError::Malformed(e.to_string()))?;
    let truncated = item
        .fields()
        .any(|(name, v)| name == "attendeesOmitted" && v.get() == "true");
    map_event(ev, ctx, truncated, |_, moved, kept| {
        Extra::from_raw_fields(
            item.fields()
                .filter(|(name, _)| !moved.contains(name) && !nulls.contains(name))
                .chain(kept.map(|k| (KEPT_ATTENDEES, k))),
        )
    })
}

/// The fields of a listed event that [`Event`] types, read from their text; the last
/// sent wins, as in a JSON tree. Its `extra` stays empty: the untyped fields are kept
/// as text by the caller. Also the names of typed fields sent as `null`, which are
/// left out of `extra` as a whole read leaves them out.
fn typed_fields<'a>(item: &'a RawObject<'_>) -> serde_json::Result<(Event, Vec<&'a str>)> {
    fn set<T: DeserializeOwned>(slot: &mut Option<T>, v: &RawValue) -> serde_json::Result<()> {
        *slot = serde_json::from_str(v.get())?;
        Ok(())
    }
    let mut ev = Event::default();
    let mut nulls = Vec::new();
    for (name, v) in item.fields() {
        let typed = match name {
            "id" => set(&mut ev.id, v),
            "etag" => set(&mut ev.etag, v),
            "status" => set(&mut ev.status, v),
            "iCalUID" => set(&mut ev.ical_uid, v),
            "summary" => set(&mut ev.summary, v),
            "description" => set(&mut ev.description, v),
            "location" => set(&mut ev.location, v),
            "start" => set(&mut ev.start, v),
            "end" => set(&mut ev.end, v),
            "recurringEventId" => set(&mut ev.recurring_event_id, v),
            "originalStartTime" => set(&mut ev.original_start_time, v),
            "recurrence" => set(&mut ev.recurrence, v),
            "transparency" => set(&mut ev.transparency, v),
            "visibility" => set(&mut ev.visibility, v),
            "attendees" => set(&mut ev.attendees, v),
            "organizer" => set(&mut ev.organizer, v),
            "reminders" => set(&mut ev.reminders, v),
            "conferenceData" => set(&mut ev.conference_data, v),
            "hangoutLink" => set(&mut ev.hangout_link, v),
            "extendedProperties" => set(&mut ev.extended_properties, v),
            "eventType" => set(&mut ev.event_type, v),
            _ => continue,
        };
        typed?;
        // Sent twice, the last value decides (a `null` then a value keeps the value).
        // (Each name once: a field sent null over and over must not grow the list
        // every later field is looked up in.)
        if v.get() == "null" {
            if !nulls.contains(&name) {
                nulls.push(name);
            }
        } else {
            nulls.retain(|n| *n != name);
        }
    }
    Ok((ev, nulls))
}

/// The mapping both reads share. `extra_of` gets the event with the fields
/// `RemoteEvent` carries taken out, the names of those fields, and the attendees to
/// keep under [`KEPT_ATTENDEES`] when the list is not kept whole. `truncated`: Google
/// left attendees out (`attendeesOmitted`).
fn map_event(
    mut ev: Event,
    ctx: &CalendarContext,
    truncated: bool,
    extra_of: impl FnOnce(&Event, &[&str], Option<&RawValue>) -> Extra,
) -> Result<Change, MappingError> {
    let id = match ev.id.as_deref() {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => return Err(MappingError::MissingId),
    };
    let bad_time = |value: String| MappingError::BadTime {
        id: id.clone(),
        value,
    };
    let cancelled = ev.status.as_deref() == Some("cancelled");
    let series = match (ev.recurring_event_id.as_deref(), &ev.original_start_time) {
        (Some(master), Some(orig)) if !master.is_empty() => Some(SeriesLink {
            master_id: master.to_owned(),
            original_start: original_start(orig, ctx).map_err(bad_time)?,
        }),
        _ => None,
    };
    if cancelled && series.is_none() {
        return Ok(Change::Removed { remote_id: id });
    }
    let timing = match (&ev.start, &series) {
        (Some(start), _) => timing_of(start, ev.end.as_ref(), ctx).map_err(bad_time)?,
        (None, Some(link)) if cancelled => {
            let zone = ev
                .original_start_time
                .as_ref()
                .and_then(|o| valid_zone(o.time_zone.as_deref()))
                .unwrap_or_else(|| ctx.zone());
            placeholder(link, zone)
        }
        _ => return Err(MappingError::MissingStart(id)),
    };
    let (zone, all_day) = zone_of_timing(&timing);
    let parsed = parse_recurrence(ev.recurrence.as_deref().unwrap_or_default(), &zone, all_day);
    let has_lines = ev.recurrence.as_ref().is_some_and(|r| !r.is_empty());
    let kind = if series.is_some() {
        RemoteKind::Exception
    } else if has_lines {
        RemoteKind::Master
    } else {
        RemoteKind::Single
    };
    let (body_text, body_html) = body_of(ev.description.as_deref().unwrap_or_default());
    let (show_as, importance, sensitivity) =
        (show_as_of(&ev), importance_of(&ev), sensitivity_of(&ev));
    let (categories, attendees, organizer) =
        (categories_of(&ev), attendees_of(&ev), organizer_of(&ev));
    let (online_meeting, reminder_minutes) = (meeting_of(&ev), reminder_of(&ev, ctx));

    // The carried fields move out rather than being kept and removed from `extra` (a
    // page's thousands of descriptions and times).
    let (etag, ical_uid) = (ev.etag.take(), ev.ical_uid.take());
    let title = ev.summary.take().unwrap_or_default();
    let location = ev.location.take().unwrap_or_default();
    (ev.id, ev.description, ev.start, ev.end) = (None, None, None, None);
    let mut moved: Vec<&str> = CARRIED.to_vec();
    moved.push(KEPT_ATTENDEES);
    ev.extra.remove(KEPT_ATTENDEES);
    let kept = match ev.attendees.as_deref() {
        Some(listed) if !truncated => kept_attendees(listed, &attendees),
        _ => None,
    };
    let kept = kept.and_then(|k| serde_json::value::to_raw_value(&k).ok());
    if kept.is_some() {
        ev.attendees = None;
        moved.push("attendees");
    }
    if cancelled {
        ev.status = None;
        moved.push("status");
    }
    if series.is_some() {
        (ev.recurring_event_id, ev.original_start_time) = (None, None);
        moved.extend(["recurringEventId", "originalStartTime"]);
    }
    let extra = extra_of(&ev, &moved, kept.as_deref());
    debug_assert!(CARRIED.iter().all(|k| !extra.contains_key(*k)));

    Ok(Change::Upsert(Box::new(RemoteEvent {
        remote_id: id,
        etag,
        ical_uid,
        kind,
        series,
        cancelled,
        title,
        body_text,
        body_html,
        timing,
        show_as,
        importance,
        sensitivity,
        categories,
        location,
        attendees,
        organizer,
        online_meeting,
        recurrence: parsed.rule,
        reminder_minutes,
        extra,
    })))
}

/// [`from_google`] for a raw JSON value.
pub fn from_google_json(value: Value, ctx: &CalendarContext) -> Result<Change, MappingError> {
    let ev: Event =
        serde_json::from_value(value).map_err(|e| MappingError::Malformed(e.to_string()))?;
    from_google(ev, ctx)
}

fn valid_zone(name: Option<&str>) -> Option<String> {
    let name = name?.trim();
    name.parse::<Tz>().ok().map(|_| name.to_owned())
}

fn tz_of(name: &str) -> Tz {
    name.parse::<Tz>().unwrap_or(Tz::UTC)
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| in_years(*d))
        .ok_or_else(|| s.to_owned())
}

/// RFC 3339 with an offset, or a wall time in `zone` when the offset is missing (Google
/// allows that when `timeZone` is given).
fn parse_instant(s: &str, zone: &str) -> Result<DateTime<Utc>, String> {
    // RFC 3339 has four-digit years: no year check needed (see `time::parse_instant`).
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let wall = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .filter(|t| in_years(t.date()))
        .ok_or_else(|| s.to_owned())?;
    Ok(to_instant(wall, tz_of(zone)))
}

fn timing_of(
    start: &EventDateTime,
    end: Option<&EventDateTime>,
    ctx: &CalendarContext,
) -> Result<Timing, String> {
    if let Some(d) = start.date.as_deref() {
        let s = parse_date(d)?;
        let e = match end.and_then(|e| e.date.as_deref()) {
            Some(e) => parse_date(e)?,
            None => s,
        };
        let e = if e > s { e } else { s + Duration::days(1) };
        return Ok(Timing::AllDay { start: s, end: e });
    }
    let Some(dt) = start.date_time.as_deref() else {
        return Err(String::new());
    };
    let zone = valid_zone(start.time_zone.as_deref()).unwrap_or_else(|| ctx.zone());
    let s = parse_instant(dt, &zone)?;
    let e = match end {
        Some(EventDateTime {
            date_time: Some(e),
            time_zone,
            ..
        }) => {
            let end_zone = valid_zone(time_zone.as_deref()).unwrap_or_else(|| zone.clone());
            parse_instant(e, &end_zone)?
        }
        _ => s,
    };
    Ok(Timing::Timed {
        start: s,
        end: e.max(s),
        time_zone: zone,
    })
}

fn original_start(o: &EventDateTime, ctx: &CalendarContext) -> Result<OriginalStart, String> {
    if let Some(d) = o.date.as_deref() {
        return Ok(OriginalStart::AllDay(parse_date(d)?));
    }
    let dt = o.date_time.as_deref().ok_or_else(String::new)?;
    let zone = valid_zone(o.time_zone.as_deref()).unwrap_or_else(|| ctx.zone());
    Ok(OriginalStart::Timed(parse_instant(dt, &zone)?))
}

/// The timing of a cancelled instance Google sent without `start`: zero length at its
/// original start.
fn placeholder(link: &SeriesLink, zone: String) -> Timing {
    match link.original_start {
        OriginalStart::Timed(t) => Timing::Timed {
            start: t,
            end: t,
            time_zone: zone,
        },
        OriginalStart::AllDay(d) => Timing::AllDay { start: d, end: d },
    }
}

fn is_placeholder(ev: &RemoteEvent) -> bool {
    let Some(link) = ev.series.as_ref().filter(|_| ev.cancelled) else {
        return false;
    };
    match (&ev.timing, &link.original_start) {
        (Timing::Timed { start, end, .. }, OriginalStart::Timed(t)) => start == t && end == t,
        (Timing::AllDay { start, end }, OriginalStart::AllDay(d)) => start == d && end == d,
        _ => false,
    }
}

fn zone_of_timing(t: &Timing) -> (String, bool) {
    match t {
        Timing::Timed { time_zone, .. } => (time_zone.clone(), false),
        Timing::AllDay { .. } => ("UTC".to_owned(), true),
    }
}

fn private_props(ev: &Event) -> Option<&Map<String, Value>> {
    ev.extended_properties.as_ref()?.private.as_ref()
}

fn private_prop<'a>(ev: &'a Event, key: &str) -> Option<&'a str> {
    private_props(ev)?.get(key)?.as_str()
}

/// Free and workingElsewhere do not block time; busy, tentative and oof do.
fn is_transparent(s: ShowAs) -> bool {
    matches!(s, ShowAs::Free | ShowAs::WorkingElsewhere)
}

fn show_as_of(ev: &Event) -> ShowAs {
    let transparent = ev.transparency.as_deref() == Some("transparent");
    let refined = private_prop(ev, PROP_SHOW_AS).and_then(|v| match v {
        "tentative" => Some(ShowAs::Tentative),
        "oof" => Some(ShowAs::Oof),
        "workingElsewhere" => Some(ShowAs::WorkingElsewhere),
        _ => None,
    });
    if let Some(s) = refined.filter(|s| is_transparent(*s) == transparent) {
        return s;
    }
    match (ev.event_type.as_deref(), transparent) {
        (Some("outOfOffice"), false) => ShowAs::Oof,
        (Some("workingLocation"), true) => ShowAs::WorkingElsewhere,
        (_, true) => ShowAs::Free,
        (_, false) => ShowAs::Busy,
    }
}

fn show_as_prop(s: ShowAs) -> Option<&'static str> {
    match s {
        ShowAs::Tentative => Some("tentative"),
        ShowAs::Oof => Some("oof"),
        ShowAs::WorkingElsewhere => Some("workingElsewhere"),
        ShowAs::Free | ShowAs::Busy => None,
    }
}

fn sensitivity_of(ev: &Event) -> Sensitivity {
    match ev.visibility.as_deref() {
        Some("private") if private_prop(ev, PROP_SENSITIVITY) == Some("personal") => {
            Sensitivity::Personal
        }
        Some("private") => Sensitivity::Private,
        Some("confidential") => Sensitivity::Confidential,
        _ => Sensitivity::Normal,
    }
}

fn importance_of(ev: &Event) -> Importance {
    match private_prop(ev, PROP_IMPORTANCE) {
        Some("low") => Importance::Low,
        Some("high") => Importance::High,
        _ => Importance::Normal,
    }
}

fn category_key(n: usize) -> String {
    if n <= 1 {
        PROP_CATEGORIES.to_owned()
    } else {
        format!("{PROP_CATEGORIES}{n}")
    }
}

fn categories_of(ev: &Event) -> Vec<String> {
    let mut out = Vec::new();
    for n in 1.. {
        let Some(chunk) = private_prop(ev, &category_key(n)) else {
            break;
        };
        if let Ok(list) = serde_json::from_str::<Vec<String>>(chunk) {
            out.extend(list);
        }
    }
    out
}

/// Categories as property values of at most [`PROP_VALUE_MAX`] characters each.
fn category_chunks(categories: &[String]) -> Vec<String> {
    let json = |v: &[&str]| serde_json::to_string(v).unwrap_or_default();
    let mut chunks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for c in categories {
        // One absurdly long category is cut so that it fits a value of its own.
        let mut c = c.as_str();
        while json(&[c]).len() > PROP_VALUE_MAX {
            let mut cut = c.len() - 1;
            while !c.is_char_boundary(cut) {
                cut -= 1;
            }
            c = &c[..cut];
        }
        current.push(c);
        if json(&current).len() > PROP_VALUE_MAX {
            current.pop();
            chunks.push(json(&current));
            current = vec![c];
        }
    }
    if !current.is_empty() {
        chunks.push(json(&current));
    }
    chunks
}

fn response_of(a: &EventAttendee) -> Response {
    if a.organizer == Some(true) {
        return Response::Organizer;
    }
    match a.response_status.as_deref() {
        Some("accepted") => Response::Accepted,
        Some("tentative") => Response::Tentative,
        Some("declined") => Response::Declined,
        _ => Response::None,
    }
}

fn response_status(r: Response) -> &'static str {
    match r {
        Response::None => "needsAction",
        Response::Organizer | Response::Accepted => "accepted",
        Response::Tentative => "tentative",
        Response::Declined => "declined",
    }
}

fn kind_of(a: &EventAttendee) -> AttendeeKind {
    if a.resource == Some(true) {
        AttendeeKind::Resource
    } else if a.optional == Some(true) {
        AttendeeKind::Optional
    } else {
        AttendeeKind::Required
    }
}

fn attendee_of(a: &EventAttendee) -> Attendee {
    Attendee {
        person: Person {
            email: a.email.clone().unwrap_or_default(),
            name: a.display_name.clone().unwrap_or_default(),
        },
        kind: kind_of(a),
        response: response_of(a),
    }
}

fn attendees_of(ev: &Event) -> Vec<Attendee> {
    ev.attendees
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(attendee_of)
        .collect()
}

/// The attendees of `listed` that [`fresh_attendee`] does not render exactly from
/// their `modelled` form (`attendees_of`, in the same order); `None` when the list must
/// be kept whole: an attendee without an address, or two with the same one, could not
/// be found again by address.
fn kept_attendees(listed: &[EventAttendee], modelled: &[Attendee]) -> Option<Vec<EventAttendee>> {
    let mut seen = std::collections::HashSet::with_capacity(listed.len());
    for a in listed {
        let email = a.email.as_deref().filter(|e| !e.is_empty())?;
        if !seen.insert(email.to_ascii_lowercase()) {
            return None;
        }
    }
    Some(
        listed
            .iter()
            .zip(modelled)
            .filter(|(a, m)| fresh_attendee(m) != **a)
            .map(|(a, _)| a.clone())
            .collect(),
    )
}

/// `a` as Google lists an attendee with nothing but what Almanac holds: the address,
/// the name when there is one, the answer (`organizer` for the organizer's), and
/// `optional` / `resource` only when set.
fn fresh_attendee(a: &Attendee) -> EventAttendee {
    EventAttendee {
        email: Some(a.person.email.clone()),
        display_name: (!a.person.name.is_empty()).then(|| a.person.name.clone()),
        optional: (a.kind == AttendeeKind::Optional).then_some(true),
        resource: (a.kind == AttendeeKind::Resource).then_some(true),
        response_status: Some(response_status(a.response).to_owned()),
        organizer: (a.response == Response::Organizer).then_some(true),
        is_self: None,
        extra: Map::new(),
    }
}

fn organizer_of(ev: &Event) -> Option<Person> {
    let o = ev.organizer.as_ref()?;
    Some(Person {
        email: o.email.clone().unwrap_or_default(),
        name: o.display_name.clone().unwrap_or_default(),
    })
}

fn first_popup(reminders: &[EventReminder]) -> Option<u32> {
    reminders
        .iter()
        .find(|r| r.method.as_deref() == Some("popup"))
        .and_then(|r| r.minutes)
        .and_then(|m| u32::try_from(m).ok())
}

fn uses_default(r: Option<&Reminders>) -> bool {
    match r {
        None => true,
        Some(r) => r.use_default.unwrap_or(r.overrides.is_none()),
    }
}

fn reminder_of(ev: &Event, ctx: &CalendarContext) -> Option<u32> {
    let r = ev.reminders.as_ref();
    if uses_default(r) {
        ctx.default_popup()
    } else {
        first_popup(r.and_then(|r| r.overrides.as_deref()).unwrap_or_default())
    }
}

fn strip_tel(uri: &str) -> String {
    uri.strip_prefix("tel:").unwrap_or(uri).to_owned()
}

fn solution_of(cd: &ConferenceData) -> Option<&str> {
    cd.conference_solution
        .as_ref()
        .and_then(|s| s.key.as_ref())
        .and_then(|k| k.kind.as_deref())
        .or_else(|| {
            cd.create_request
                .as_ref()
                .and_then(|r| r.conference_solution_key.as_ref())
                .and_then(|k| k.kind.as_deref())
        })
}

/// Google's conference (Meet and others), then `hangoutLink`, then Almanac's property.
/// A Meet that is still being created (`createRequest` pending) is a Meet with no
/// join URL yet.
fn meeting_of(ev: &Event) -> Option<OnlineMeeting> {
    if let Some(cd) = &ev.conference_data {
        let provider = match solution_of(cd) {
            Some("hangoutsMeet") => MeetingProvider::Meet,
            Some(_) => MeetingProvider::Other,
            None if ev.hangout_link.is_some() => MeetingProvider::Meet,
            None => MeetingProvider::Other,
        };
        let points = cd.entry_points.as_deref().unwrap_or_default();
        let of_type = |t: &str| {
            points
                .iter()
                .find(|p| p.entry_point_type.as_deref() == Some(t))
        };
        let join = of_type("video")
            .and_then(|p| p.uri.clone())
            .or_else(|| ev.hangout_link.clone());
        if let Some(join_url) = join {
            let phone = of_type("phone");
            return Some(OnlineMeeting {
                provider,
                join_url,
                conference_id: cd.conference_id.clone(),
                toll_number: phone
                    .and_then(|p| p.label.clone().or_else(|| p.uri.as_deref().map(strip_tel))),
                pin: phone.and_then(|p| {
                    p.pin
                        .clone()
                        .or_else(|| p.access_code.clone())
                        .or_else(|| p.passcode.clone())
                }),
            });
        }
        let failed = cd
            .create_request
            .as_ref()
            .and_then(|r| r.status.as_ref())
            .and_then(|s| s.status_code.as_deref())
            == Some("failure");
        if cd.create_request.is_some() && !failed {
            return Some(OnlineMeeting {
                provider,
                join_url: String::new(),
                conference_id: cd.conference_id.clone(),
                toll_number: None,
                pin: None,
            });
        }
    }
    if let Some(link) = &ev.hangout_link {
        return Some(OnlineMeeting {
            provider: MeetingProvider::Meet,
            join_url: link.clone(),
            conference_id: None,
            toll_number: None,
            pin: None,
        });
    }
    private_prop(ev, PROP_ONLINE_MEETING).and_then(|v| serde_json::from_str(v).ok())
}

/// Google's description, as plain text and, when it holds markup, as HTML.
fn body_of(description: &str) -> (String, Option<String>) {
    if looks_like_html(description) {
        (html_to_text(description), Some(description.to_owned()))
    } else {
        (description.to_owned(), None)
    }
}

const HTML_TAGS: &[&str] = &[
    "a",
    "b",
    "i",
    "u",
    "s",
    "br",
    "p",
    "div",
    "span",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "html",
    "body",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "tr",
    "td",
    "th",
    "img",
    "hr",
    "blockquote",
    "pre",
    "code",
    "small",
    "sub",
    "sup",
    "strike",
];

/// The name of the tag that starts at `s` (after `<`), lowercased, if `s` starts one.
fn tag_name(s: &str) -> Option<(String, bool, usize)> {
    // Up to the first `>` or `<`, whichever comes first: searching on for a `>` from
    // every `<` of a text with many and none would be quadratic.
    let close = s.find(['>', '<'])?;
    if s.as_bytes()[close] == b'<' {
        return None;
    }
    let inner = &s[..close];
    let (closing, rest) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let after = rest[name.len()..].chars().next();
    if name.is_empty() || !matches!(after, None | Some(' ' | '/' | '\t' | '\n')) {
        return None;
    }
    Some((name, closing, close + 1))
}

/// A description holds HTML when it has at least one well-formed common tag.
pub fn looks_like_html(s: &str) -> bool {
    s.match_indices('<').any(|(i, _)| {
        tag_name(&s[i + 1..]).is_some_and(|(name, _, _)| HTML_TAGS.contains(&name.as_str()))
    })
}

/// Plain text of Google's description HTML: tags dropped, line breaks for `br` and
/// block ends, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..i]));
        let after = &rest[i + 1..];
        match tag_name(after) {
            Some((name, closing, len)) => {
                let block = matches!(
                    name.as_str(),
                    "p" | "div"
                        | "li"
                        | "tr"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "blockquote"
                        | "pre"
                        | "ul"
                        | "ol"
                        | "table"
                );
                if name == "br" || (closing && block) {
                    out.push('\n');
                } else if name == "li" && !closing {
                    out.push_str("• ");
                }
                rest = &after[len..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(&decode_entities(rest));
    let trimmed: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = trimmed.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

/// The index of the first `;` in `s` at most `n` bytes in (ASCII: a char boundary).
fn semicolon_within(s: &str, n: usize) -> Option<usize> {
    s.as_bytes().iter().take(n + 1).position(|&b| b == b';')
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        // An entity is short: look for its `;` nearby only (a text of `&`s with no `;`
        // searched to its end from each one would be quadratic).
        let entity = semicolon_within(after, 10).map(|j| &after[..j]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => {
                let n = e.strip_prefix('#')?;
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => n.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e.len() + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------
// Recurrence lines

/// `recurrence[]` read into a rule Almanac keeps, and the lines it cannot (EXRULE, a
/// second RRULE, RDATE periods, dates it cannot key), kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ParsedRecurrence {
    rule: Option<RemoteRecurrence>,
    unmapped: Vec<String>,
}

fn wall_string(t: NaiveDateTime) -> String {
    if t.second() == 0 && t.nanosecond() == 0 {
        t.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// EXDATE/RDATE values as the model keys them: wall times in the event's zone (timed)
/// or dates (all-day). `None` when a value cannot be keyed that way.
fn line_dates(
    value: &str,
    params: &[(String, String)],
    zone: Tz,
    all_day: bool,
) -> Option<Vec<String>> {
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    let value_type = param("VALUE").unwrap_or("DATE-TIME").to_ascii_uppercase();
    if value_type == "PERIOD" {
        return None;
    }
    let tzid = param("TZID");
    let mut out = Vec::new();
    for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let is_date =
            value_type == "DATE" || (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()));
        if is_date {
            if !all_day {
                return None;
            }
            let d = NaiveDate::parse_from_str(v, "%Y%m%d")
                .ok()
                .filter(|d| in_years(*d))?;
            out.push(d.format("%Y-%m-%d").to_string());
            continue;
        }
        if all_day {
            return None;
        }
        let wall = if let Some(utc) = v.strip_suffix('Z') {
            let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                .ok()
                .filter(|t| in_years(t.date()))?;
            to_local(Utc.from_utc_datetime(&t), zone)
        } else {
            let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
                .ok()
                .filter(|t| in_years(t.date()))?;
            match tzid {
                Some(name) => {
                    let other: Tz = name.parse().ok()?;
                    if other == zone {
                        t
                    } else {
                        to_local(to_instant(t, other), zone)
                    }
                }
                // Floating: read in the event's zone.
                None => t,
            }
        };
        out.push(wall_string(wall));
    }
    Some(out)
}

fn parse_recurrence(lines: &[String], zone: &str, all_day: bool) -> ParsedRecurrence {
    let tz = tz_of(zone);
    let mut rrule: Option<String> = None;
    let mut exdates = Vec::new();
    let mut rdates = Vec::new();
    let mut date_lines = Vec::new();
    let mut unmapped = Vec::new();
    for line in lines {
        let Some((head, value)) = line.split_once(':') else {
            unmapped.push(line.clone());
            continue;
        };
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_uppercase();
        let params: Vec<(String, String)> = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        match name.as_str() {
            "RRULE" if rrule.is_none() && params.is_empty() => {
                rrule = Some(value.trim().to_owned());
            }
            "EXDATE" | "RDATE" => match line_dates(value, &params, tz, all_day) {
                Some(dates) if name == "EXDATE" => {
                    exdates.extend(dates);
                    date_lines.push(line.clone());
                }
                Some(dates) => {
                    rdates.extend(dates);
                    date_lines.push(line.clone());
                }
                None => unmapped.push(line.clone()),
            },
            _ => unmapped.push(line.clone()),
        }
    }
    match rrule {
        Some(rrule) => ParsedRecurrence {
            rule: Some(RemoteRecurrence {
                rrule,
                exdates,
                rdates,
            }),
            unmapped,
        },
        // Dates without a rule cannot be a model series: keep every line as is.
        None => {
            unmapped.extend(date_lines);
            ParsedRecurrence {
                rule: None,
                unmapped,
            }
        }
    }
}

fn render_dates(
    name: &str,
    dates: &[String],
    zone: &str,
    all_day: bool,
    id: &str,
) -> Result<String, MappingError> {
    let bad = |value: &str| MappingError::BadRecurrenceDate {
        id: id.to_owned(),
        value: value.to_owned(),
    };
    let mut values = Vec::new();
    for d in dates {
        if all_day {
            let date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .ok()
                .filter(|d| in_years(*d))
                .ok_or_else(|| bad(d))?;
            values.push(date.format("%Y%m%d").to_string());
        } else {
            let wall = parse_wall_time(d).ok_or_else(|| bad(d))?;
            values.push(wall.format("%Y%m%dT%H%M%S").to_string());
        }
    }
    Ok(if all_day {
        format!("{name};VALUE=DATE:{}", values.join(","))
    } else {
        format!("{name};TZID={zone}:{}", values.join(","))
    })
}

fn render_recurrence(
    r: &RemoteRecurrence,
    zone: &str,
    all_day: bool,
    id: &str,
) -> Result<Vec<String>, MappingError> {
    let rule = r.rrule.trim();
    let rule = if rule.len() >= 6 && rule[..6].eq_ignore_ascii_case("RRULE:") {
        &rule[6..]
    } else {
        rule
    };
    let mut lines = vec![format!("RRULE:{rule}")];
    if !r.exdates.is_empty() {
        lines.push(render_dates("EXDATE", &r.exdates, zone, all_day, id)?);
    }
    if !r.rdates.is_empty() {
        lines.push(render_dates("RDATE", &r.rdates, zone, all_day, id)?);
    }
    Ok(lines)
}

// ---------------------------------------------------------------------------------
// RemoteEvent → Google

/// The last-seen Google form of the fields a write compares against, from `extra`
/// (field by field, so that one damaged value does not lose the others).
fn remembered(extra: &Map<String, Value>) -> Event {
    let mut keep = Map::new();
    for key in REMEMBERED {
        if let Some(v) = extra.get(*key) {
            let single: Map<String, Value> = [((*key).to_owned(), v.clone())].into_iter().collect();
            if serde_json::from_value::<Event>(Value::Object(single)).is_ok() {
                keep.insert((*key).to_owned(), v.clone());
            }
        }
    }
    serde_json::from_value(Value::Object(keep)).unwrap_or_default()
}

fn date_time_of(instant: DateTime<Utc>, zone: &str) -> EventDateTime {
    EventDateTime {
        date_time: Some(
            instant
                .with_timezone(&tz_of(zone))
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        time_zone: Some(zone.to_owned()),
        ..EventDateTime::default()
    }
}

fn date_of(d: NaiveDate) -> EventDateTime {
    EventDateTime {
        date: Some(d.format("%Y-%m-%d").to_string()),
        ..EventDateTime::default()
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `body` (of [`to_google`]) as an `events.patch` body: `start` and `end` name the
/// members of the other kind `null`. A patch merges objects, so an event made all-day
/// (or timed) would otherwise keep its old `dateTime` (or `date`) beside the new one,
/// which Google refuses (400 "Invalid start time").
pub fn as_patch(body: &mut Map<String, Value>) {
    for slot in ["start", "end"] {
        if let Some(Value::Object(m)) = body.get_mut(slot) {
            let other: &[&str] = if m.contains_key("date") {
                &["dateTime", "timeZone"]
            } else {
                &["date"]
            };
            for k in other {
                m.entry(*k).or_insert(Value::Null);
            }
        }
    }
}

/// A request for a new Google Meet on an event: put it in a write body as
/// `conferenceData` (and send `conferenceDataVersion=1`). Google creates the Meet
/// asynchronously (`status.statusCode` `pending` → `success`); a repeated `request_id`
/// is ignored, so use a fresh one per wish for a new meeting.
pub fn meet_request(request_id: &str) -> Value {
    to_json(&ConferenceData {
        create_request: Some(CreateConferenceRequest {
            request_id: Some(request_id.to_owned()),
            conference_solution_key: Some(ConferenceSolutionKey {
                kind: Some("hangoutsMeet".to_owned()),
                ..ConferenceSolutionKey::default()
            }),
            ..CreateConferenceRequest::default()
        }),
        ..ConferenceData::default()
    })
}

/// The request id of the Meet an event write asks for: stable across retries of one
/// write (same event, same etag), new for a later write.
fn meet_request_id(ev: &RemoteEvent) -> String {
    let clean = |s: &str| -> String { s.chars().filter(char::is_ascii_alphanumeric).collect() };
    format!(
        "almanac-{}-{}",
        clean(&ev.remote_id),
        clean(ev.etag.as_deref().unwrap_or("new"))
    )
}

/// Private extended properties under construction: Almanac's keys are set, or
/// deleted with `null` when Google's copy had them.
struct Props<'a> {
    before: Option<&'a Map<String, Value>>,
    after: Map<String, Value>,
}

impl Props<'_> {
    fn set(&mut self, key: &str, value: Option<String>) {
        match value {
            Some(v) => {
                self.after.insert(key.to_owned(), Value::String(v));
            }
            None if self
                .before
                .and_then(|b| b.get(key))
                .is_some_and(|v| !v.is_null()) =>
            {
                self.after.insert(key.to_owned(), Value::Null);
            }
            None => {
                self.after.remove(key);
            }
        }
    }
}

/// The JSON body for `events.insert` / `events.patch` from `ev`: `extra` re-applied,
/// Almanac's fields on top, and only what Almanac changed re-rendered (see the module
/// documentation).
pub fn to_google(
    ev: &RemoteEvent,
    ctx: &CalendarContext,
) -> Result<Map<String, Value>, MappingError> {
    let before = remembered(&ev.extra);
    let mut out: Map<String, Value> = ev
        .extra
        .iter()
        .filter(|(k, _)| !RENDERED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (zone, all_day) = zone_of_timing(&ev.timing);

    if !ev.remote_id.is_empty() {
        out.insert("id".into(), Value::String(ev.remote_id.clone()));
    }
    if let Some(etag) = &ev.etag {
        out.insert("etag".into(), Value::String(etag.clone()));
    }
    if let Some(uid) = &ev.ical_uid {
        out.insert("iCalUID".into(), Value::String(uid.clone()));
    }
    let status = if ev.cancelled {
        "cancelled".to_owned()
    } else {
        before
            .status
            .clone()
            .filter(|s| s != "cancelled")
            .unwrap_or_else(|| "confirmed".to_owned())
    };
    out.insert("status".into(), Value::String(status));
    if let Some(link) = &ev.series {
        out.insert(
            "recurringEventId".into(),
            Value::String(link.master_id.clone()),
        );
        let original = match link.original_start {
            OriginalStart::Timed(t) => date_time_of(t, &zone),
            OriginalStart::AllDay(d) => date_of(d),
        };
        out.insert("originalStartTime".into(), to_json(&original));
    }

    out.insert("summary".into(), Value::String(ev.title.clone()));
    let description = ev.body_html.clone().unwrap_or_else(|| ev.body_text.clone());
    out.insert("description".into(), Value::String(description));
    out.insert("location".into(), Value::String(ev.location.clone()));

    if !is_placeholder(ev) {
        let (start, end) = match &ev.timing {
            Timing::Timed {
                start,
                end,
                time_zone,
            } => (
                date_time_of(*start, time_zone),
                date_time_of(*end, time_zone),
            ),
            Timing::AllDay { start, end } => (date_of(*start), date_of(*end)),
        };
        out.insert("start".into(), to_json(&start));
        out.insert("end".into(), to_json(&end));
    }

    // Recurrence.
    let old_lines = before.recurrence.clone().unwrap_or_default();
    let parsed = parse_recurrence(&old_lines, &zone, all_day);
    if before.recurrence.is_some() && parsed.rule == ev.recurrence {
        out.insert("recurrence".into(), to_json(&old_lines));
    } else if let Some(r) = &ev.recurrence {
        let mut lines = render_recurrence(r, &zone, all_day, &ev.remote_id)?;
        lines.extend(parsed.unmapped);
        out.insert("recurrence".into(), to_json(&lines));
    } else if !old_lines.is_empty() {
        out.insert("recurrence".into(), Value::Array(Vec::new()));
    }

    // Private extended properties, and the Google fields they refine.
    let before_private = private_props(&before);
    let mut props = Props {
        before: before_private,
        after: before_private.cloned().unwrap_or_default(),
    };
    if show_as_of(&before) == ev.show_as {
        if let Some(t) = &before.transparency {
            out.insert("transparency".into(), Value::String(t.clone()));
        }
    } else {
        let t = if is_transparent(ev.show_as) {
            "transparent"
        } else {
            "opaque"
        };
        out.insert("transparency".into(), Value::String(t.into()));
        props.set(PROP_SHOW_AS, show_as_prop(ev.show_as).map(str::to_owned));
    }
    if sensitivity_of(&before) == ev.sensitivity {
        if let Some(v) = &before.visibility {
            out.insert("visibility".into(), Value::String(v.clone()));
        }
    } else {
        let v = match ev.sensitivity {
            Sensitivity::Normal => "default",
            Sensitivity::Personal | Sensitivity::Private => "private",
            Sensitivity::Confidential => "confidential",
        };
        out.insert("visibility".into(), Value::String(v.into()));
        let personal = (ev.sensitivity == Sensitivity::Personal).then(|| "personal".to_owned());
        props.set(PROP_SENSITIVITY, personal);
    }
    if importance_of(&before) != ev.importance {
        let v = match ev.importance {
            Importance::Low => Some("low".to_owned()),
            Importance::Normal => None,
            Importance::High => Some("high".to_owned()),
        };
        props.set(PROP_IMPORTANCE, v);
    }
    if categories_of(&before) != ev.categories {
        let old_keys: Vec<String> = props
            .after
            .keys()
            .filter(|k| k.starts_with(PROP_CATEGORIES))
            .cloned()
            .collect();
        for k in old_keys {
            props.set(&k, None);
        }
        for (i, chunk) in category_chunks(&ev.categories).into_iter().enumerate() {
            props.set(&category_key(i + 1), Some(chunk));
        }
    }

    // Online meeting.
    if meeting_of(&before) == ev.online_meeting {
        if let Some(cd) = &before.conference_data {
            out.insert("conferenceData".into(), to_json(cd));
        }
    } else {
        let had_meet = before
            .conference_data
            .as_ref()
            .is_some_and(|cd| solution_of(cd) == Some("hangoutsMeet"));
        let clear = |out: &mut Map<String, Value>| {
            out.remove("hangoutLink");
            if before.conference_data.is_some() {
                out.insert("conferenceData".into(), Value::Null);
            }
        };
        match &ev.online_meeting {
            None => {
                clear(&mut out);
                props.set(PROP_ONLINE_MEETING, None);
            }
            Some(m) if m.provider == MeetingProvider::Meet && m.join_url.is_empty() => {
                out.remove("hangoutLink");
                out.insert("conferenceData".into(), meet_request(&meet_request_id(ev)));
                props.set(PROP_ONLINE_MEETING, None);
            }
            // Google's own Meet cannot be edited through the API: it stays as it is.
            Some(m) if m.provider == MeetingProvider::Meet && had_meet => {
                if let Some(cd) = &before.conference_data {
                    out.insert("conferenceData".into(), to_json(cd));
                }
                props.set(PROP_ONLINE_MEETING, None);
            }
            Some(m) => {
                clear(&mut out);
                props.set(PROP_ONLINE_MEETING, meeting_prop(m));
            }
        }
    }

    let had_private = before_private.is_some();
    if had_private || !props.after.is_empty() || before.extended_properties.is_some() {
        let mut ext = before.extended_properties.clone().unwrap_or_default();
        ext.private = (had_private || !props.after.is_empty()).then_some(props.after);
        out.insert("extendedProperties".into(), to_json(&ext));
    }

    // Attendees, organizer.
    let kept: Option<Vec<EventAttendee>> = ev
        .extra
        .get(KEPT_ATTENDEES)
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    if let Some(kept) = kept {
        let list: Vec<EventAttendee> = ev
            .attendees
            .iter()
            .map(|a| {
                let found = kept.iter().any(|k| {
                    k.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&a.person.email))
                });
                if found {
                    render_attendee(a, &kept)
                } else {
                    fresh_attendee(a)
                }
            })
            .collect();
        out.insert("attendees".into(), to_json(&list));
    } else if attendees_of(&before) == ev.attendees {
        // A list Google truncated (`attendeesOmitted`) must not go back: a PATCH with
        // it would remove everyone it left out.
        let truncated = ev.extra.get("attendeesOmitted") == Some(&Value::Bool(true));
        if let Some(a) = before.attendees.as_ref().filter(|_| !truncated) {
            out.insert("attendees".into(), to_json(a));
        }
    } else {
        let old = before.attendees.as_deref().unwrap_or_default();
        let list: Vec<EventAttendee> = ev
            .attendees
            .iter()
            .map(|a| render_attendee(a, old))
            .collect();
        out.insert("attendees".into(), to_json(&list));
    }
    if organizer_of(&before) == ev.organizer {
        if let Some(o) = &before.organizer {
            out.insert("organizer".into(), to_json(o));
        }
    } else if let Some(p) = &ev.organizer {
        // Read-only at Google except on import; sent so that the body says what
        // Almanac holds.
        let mut o = before.organizer.clone().unwrap_or_default();
        if o.email.as_deref() != Some(p.email.as_str()) {
            o = EventPerson::default();
            o.email = Some(p.email.clone());
        }
        o.display_name = (!p.name.is_empty()).then(|| p.name.clone());
        out.insert("organizer".into(), to_json(&o));
    }

    // Reminders.
    if reminder_of(&before, ctx) == ev.reminder_minutes {
        if let Some(r) = &before.reminders {
            out.insert("reminders".into(), to_json(r));
        }
    } else {
        out.insert(
            "reminders".into(),
            to_json(&render_reminders(
                ev.reminder_minutes,
                before.reminders.as_ref(),
            )),
        );
    }

    Ok(out)
}

fn meeting_prop(m: &OnlineMeeting) -> Option<String> {
    let full = serde_json::to_string(m).ok()?;
    if full.len() <= PROP_VALUE_MAX {
        return Some(full);
    }
    // Too long for one value: the link alone.
    let short = OnlineMeeting {
        provider: m.provider,
        join_url: m.join_url.clone(),
        conference_id: None,
        toll_number: None,
        pin: None,
    };
    serde_json::to_string(&short)
        .ok()
        .filter(|s| s.len() <= PROP_VALUE_MAX)
}

fn render_attendee(a: &Attendee, old: &[EventAttendee]) -> EventAttendee {
    let base = old.iter().find(|o| {
        o.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(&a.person.email))
    });
    if let Some(b) = base {
        if attendee_of(b) == *a {
            return b.clone();
        }
    }
    let mut x = base.cloned().unwrap_or_default();
    let was = attendee_of(&x);
    x.email = Some(a.person.email.clone());
    if was.person.name != a.person.name {
        x.display_name = (!a.person.name.is_empty()).then(|| a.person.name.clone());
    }
    if was.kind != a.kind {
        let flag = |want: bool, had: Option<bool>| match (want, had) {
            (true, _) => Some(true),
            (false, Some(_)) => Some(false),
            (false, None) => None,
        };
        x.resource = flag(a.kind == AttendeeKind::Resource, x.resource);
        if a.kind != AttendeeKind::Resource {
            x.optional = flag(a.kind == AttendeeKind::Optional, x.optional);
        }
    }
    if was.response != a.response {
        if a.response == Response::Organizer {
            x.organizer = Some(true);
            if x.response_status.is_none() {
                x.response_status = Some(response_status(a.response).to_owned());
            }
        } else {
            if x.organizer == Some(true) {
                x.organizer = None;
            }
            x.response_status = Some(response_status(a.response).to_owned());
        }
    }
    x
}

fn render_reminders(minutes: Option<u32>, old: Option<&Reminders>) -> Reminders {
    let old = old.cloned().unwrap_or_default();
    let mut overrides = if uses_default(Some(&old)) {
        Vec::new()
    } else {
        old.overrides.clone().unwrap_or_default()
    };
    let is_popup = |r: &EventReminder| r.method.as_deref() == Some("popup");
    match minutes {
        Some(m) => {
            let m = i64::from(m.min(MAX_REMINDER_MINUTES));
            match overrides.iter_mut().find(|r| is_popup(r)) {
                Some(first) => first.minutes = Some(m),
                None => overrides.insert(
                    0,
                    EventReminder {
                        method: Some("popup".into()),
                        minutes: Some(m),
                        ..EventReminder::default()
                    },
                ),
            }
            overrides.truncate(MAX_OVERRIDES);
        }
        None => overrides.retain(|r| !is_popup(r)),
    }
    Reminders {
        use_default: Some(false),
        overrides: Some(overrides),
        extra: old.extra,
    }
}

#[cfg(test)]
mod tests;
