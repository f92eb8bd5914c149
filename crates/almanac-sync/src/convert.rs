//! A provider's event ([`RemoteEvent`]) as a store row ([`SyncedEvent`]) and back.
//!
//! The engine feeds the planner *normalised* remote versions — `from_row(to_row(r))`
//! with the provider identity kept — so that the base, the local row and the remote
//! version are all in the store's form (trimmed title, wall times with seconds,
//! instance keys in the series' zone). Without that, a field the store writes a
//! little differently would look like a local edit after every pull and be pushed
//! back forever (I4).

use almanac_model::recurrence::SeriesSpec;
use almanac_model::time::{
    format_date, format_wall_time, parse_date, parse_wall_time, parse_zone, to_instant, to_local,
    EventTime,
};
use almanac_model::{
    instance_key, EventInput, EventKind, RecurrenceInput, MAX_CATEGORIES, MAX_CATEGORY_LEN,
    MAX_TEXT_LEN, MAX_TITLE_LEN,
};
use almanac_provider::{
    OriginalStart, RemoteEvent, RemoteKind, RemoteRecurrence, SeriesLink, Timing,
};
use almanac_store::{CheckedEvent, MasterKey, SyncedEvent};
use chrono::NaiveDateTime;
use serde_json::{Map, Value};

/// The series an instance belongs to, as the store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterInfo {
    pub local_id: String,
    pub remote_id: String,
    pub time_zone: String,
    pub all_day: bool,
}

impl MasterInfo {
    pub fn of(local_id: &str, row: &SyncedEvent) -> Option<Self> {
        Some(Self {
            local_id: local_id.to_owned(),
            remote_id: row.remote_id.clone()?,
            time_zone: row.input.time_zone.clone(),
            all_day: row.input.all_day,
        })
    }

    /// [`MasterInfo::of`], or for a series not at the provider yet (its create still
    /// queued) one with no remote id: its instances read with an empty series id
    /// until it has one (nothing at the provider can match them meanwhile).
    pub fn of_or_unsent(local_id: &str, row: &SyncedEvent) -> Self {
        Self::of(local_id, row).unwrap_or_else(|| Self {
            local_id: local_id.to_owned(),
            remote_id: String::new(),
            time_zone: row.input.time_zone.clone(),
            all_day: row.input.all_day,
        })
    }

    /// A series as the provider (or this computer, in the provider's terms) has it;
    /// `local_id` empty when unknown.
    pub fn of_remote(local_id: &str, ev: &RemoteEvent) -> Self {
        let (time_zone, all_day) = match &ev.timing {
            Timing::Timed { time_zone, .. } => (time_zone.clone(), false),
            Timing::AllDay { .. } => ("UTC".to_owned(), true),
        };
        Self {
            local_id: local_id.to_owned(),
            remote_id: ev.remote_id.clone(),
            time_zone,
            all_day,
        }
    }

    /// A master the store listed by its columns (`Store::sync_masters`).
    pub fn from_key(key: MasterKey) -> Option<Self> {
        Some(Self {
            local_id: key.local_id,
            remote_id: key.remote_id?,
            time_zone: key.time_zone,
            all_day: key.all_day,
        })
    }
}

/// Why a provider's event cannot be kept locally (it stays at the provider as is).
pub type Unfit = String;

fn zone_or_utc(name: &str) -> String {
    if parse_zone(name).is_ok() {
        name.to_owned()
    } else {
        "UTC".to_owned()
    }
}

/// The store row for `ev` in `calendar_id`; `master` is the series of an instance.
pub fn to_row(
    ev: &RemoteEvent,
    calendar_id: &str,
    master: Option<&MasterInfo>,
) -> Result<SyncedEvent, Unfit> {
    Ok(row_from(without_extra(ev), calendar_id, master, ev.extra.to_json())?.into_row())
}

/// [`to_row`] of an event the caller gives up: its fields move into the row, which
/// comes back checked, ready to write without being validated again.
pub fn into_row(
    mut ev: RemoteEvent,
    calendar_id: &str,
    master: Option<&MasterInfo>,
) -> Result<CheckedEvent, Unfit> {
    // As the client serialised them, when nothing has read them by key (see `Extra`).
    let extra = std::mem::take(&mut ev.extra).into_json();
    row_from(ev, calendar_id, master, extra)
}

/// A copy of `ev` without its provider-only fields (the costly part to copy), which a
/// row keeps as JSON instead.
fn without_extra(ev: &RemoteEvent) -> RemoteEvent {
    // Spelled out, so that a new field of `RemoteEvent` does not go unnoticed here.
    let RemoteEvent {
        remote_id,
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
        recurrence,
        reminder_minutes,
        extra: _,
    } = ev;
    RemoteEvent {
        remote_id: remote_id.clone(),
        etag: etag.clone(),
        ical_uid: ical_uid.clone(),
        kind: *kind,
        series: series.clone(),
        cancelled: *cancelled,
        title: title.clone(),
        body_text: body_text.clone(),
        body_html: body_html.clone(),
        timing: timing.clone(),
        show_as: *show_as,
        importance: *importance,
        sensitivity: *sensitivity,
        categories: categories.clone(),
        location: location.clone(),
        attendees: attendees.clone(),
        organizer: organizer.clone(),
        online_meeting: online_meeting.clone(),
        recurrence: recurrence.clone(),
        reminder_minutes: *reminder_minutes,
        extra: Default::default(),
    }
}

/// The row of `ev`, its fields moved, with `provider_extra`, checked by the store.
fn row_from(
    ev: RemoteEvent,
    calendar_id: &str,
    master: Option<&MasterInfo>,
    provider_extra: Option<String>,
) -> Result<CheckedEvent, Unfit> {
    let (all_day, start, end, time_zone) = match &ev.timing {
        Timing::Timed {
            start,
            end,
            time_zone,
        } => {
            let zone = zone_or_utc(time_zone);
            let tz = parse_zone(&zone).map_err(|e| e.to_string())?;
            (
                false,
                EventTime::of(*start, tz).to_string(),
                EventTime::of(*end, tz).to_string(),
                zone,
            )
        }
        Timing::AllDay { start, end } => (
            true,
            format_date(*start),
            format_date(*end),
            master.map_or_else(|| "UTC".to_owned(), |m| zone_or_utc(&m.time_zone)),
        ),
    };
    let (kind, series_id, original_start) = match (ev.kind, &ev.series) {
        (RemoteKind::Exception | RemoteKind::Occurrence, Some(link)) => {
            let m = master.ok_or_else(|| "its series is not known yet".to_owned())?;
            (
                EventKind::Exception,
                Some(m.local_id.clone()),
                Some(instance_key_of(&link.original_start, m)?),
            )
        }
        (RemoteKind::Exception | RemoteKind::Occurrence, None) => {
            return Err("an instance without its series".into())
        }
        (_, _) if ev.recurrence.is_some() => (EventKind::Master, None, None),
        _ => (EventKind::Single, None, None),
    };
    let recurrence = match (ev.recurrence, kind) {
        (Some(r), EventKind::Master) => Some(RecurrenceInput {
            exdates: local_keys(&r.exdates, all_day)?,
            rdates: local_keys(&r.rdates, all_day)?,
            rrule: r.rrule,
        }),
        _ => None,
    };
    let title = if ev.title.trim().is_empty() {
        "(No title)".to_owned()
    } else {
        fit(ev.title, MAX_TITLE_LEN)
    };
    let mut categories = ev.categories;
    categories.truncate(MAX_CATEGORIES);
    let input = EventInput {
        calendar_id: calendar_id.to_owned(),
        title,
        all_day,
        start,
        end,
        time_zone,
        recurrence,
        location: fit(ev.location, MAX_TITLE_LEN),
        description: fit(ev.body_text, MAX_TEXT_LEN),
        show_as: ev.show_as,
        importance: ev.importance,
        categories: categories
            .into_iter()
            .map(|c| fit(c, MAX_CATEGORY_LEN))
            .collect(),
    };
    // Checked like a user's edit: what the store would keep, and a refusal for what it
    // would not (a provider's event is hostile input too).
    SyncedEvent {
        remote_id: Some(ev.remote_id).filter(|r| !r.is_empty()),
        ical_uid: ev.ical_uid,
        etag: ev.etag,
        kind,
        series_id,
        original_start,
        input,
        body_html: ev.body_html,
        sensitivity: ev.sensitivity,
        organizer: ev.organizer,
        attendees: ev.attendees,
        online_meeting: ev.online_meeting,
        reminder_minutes: ev.reminder_minutes,
        provider_extra,
        cancelled: ev.cancelled,
    }
    .check()
    .map_err(|e| e.to_string())
}

/// A provider's text as the store keeps it: a NUL (which no calendar means) becomes
/// U+FFFD and text longer than the store's limit is cut there. Refused instead, one
/// such event stayed out of the calendar, and with a change of it waiting here it
/// stopped every push of the calendar.
fn fit(text: String, max: usize) -> String {
    let text = if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text
    };
    if text.len() <= max || text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Event `id` as it is here now, in the provider's terms, its series read with it (a
/// series made again here has no remote id until it is sent); `read` reads a row.
/// `None`: no such row; a row that does not convert is `SyncError::Corrupt`.
pub(crate) fn current_version(
    id: &str,
    read: impl Fn(&str) -> Result<Option<SyncedEvent>, almanac_store::StoreError>,
) -> Result<Option<RemoteEvent>, crate::error::SyncError> {
    let Some(row) = read(id)? else {
        return Ok(None);
    };
    let master = match &row.series_id {
        Some(m) => read(m)?.map(|r| MasterInfo::of_or_unsent(m, &r)),
        None => None,
    };
    from_row(&row, master.as_ref())
        .map(Some)
        .map_err(crate::error::SyncError::Corrupt)
}

/// The provider-neutral version of store row `row`; `master` is its series.
pub fn from_row(row: &SyncedEvent, master: Option<&MasterInfo>) -> Result<RemoteEvent, Unfit> {
    into_remote(row.clone(), master)
}

/// A row's provider-only fields: empty where it has none, or none that read as an
/// object (no provider copy ever filled it).
pub(crate) fn extra_of(row: &SyncedEvent) -> Map<String, Value> {
    row.provider_extra
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

/// [`from_row`] of a row the caller gives up: its fields move into the event.
fn into_remote(row: SyncedEvent, master: Option<&MasterInfo>) -> Result<RemoteEvent, Unfit> {
    let i = &row.input;
    let timing = if i.all_day {
        let bad = |v: &str| format!("\"{v}\" is not a date");
        Timing::AllDay {
            start: parse_date(&i.start).ok_or_else(|| bad(&i.start))?,
            end: parse_date(&i.end).ok_or_else(|| bad(&i.end))?,
        }
    } else {
        let tz = parse_zone(&i.time_zone).map_err(|e| e.to_string())?;
        let at = |v: &str| {
            EventTime::parse(v)
                .and_then(|t| t.resolve(tz))
                .map(|(instant, _)| instant)
                .ok_or_else(|| format!("\"{v}\" is not a time of {}", i.time_zone))
        };
        Timing::Timed {
            start: at(&i.start)?,
            end: at(&i.end)?,
            time_zone: i.time_zone.clone(),
        }
    };
    let (kind, series) = match row.kind {
        EventKind::Exception => {
            let m = master.ok_or_else(|| "its series is not known".to_owned())?;
            let key = row
                .original_start
                .as_deref()
                .ok_or_else(|| "an instance without its original start".to_owned())?;
            (
                RemoteKind::Exception,
                Some(SeriesLink {
                    master_id: m.remote_id.clone(),
                    original_start: stored_original_start(key, m, &row.input)?,
                }),
            )
        }
        EventKind::Master => (RemoteKind::Master, None),
        EventKind::Single => (RemoteKind::Single, None),
    };
    let extra = extra_of(&row);
    let input = row.input;
    Ok(RemoteEvent {
        remote_id: row.remote_id.unwrap_or_default(),
        etag: row.etag,
        ical_uid: row.ical_uid,
        kind,
        series,
        cancelled: row.cancelled,
        title: input.title,
        body_text: input.description,
        body_html: row.body_html,
        timing,
        show_as: input.show_as,
        importance: input.importance,
        sensitivity: row.sensitivity,
        categories: input.categories,
        location: input.location,
        attendees: row.attendees,
        organizer: row.organizer,
        online_meeting: row.online_meeting,
        recurrence: input.recurrence.map(|r| RemoteRecurrence {
            rrule: r.rrule,
            exdates: r.exdates,
            rdates: r.rdates,
        }),
        reminder_minutes: row.reminder_minutes,
        extra: extra.into(),
    })
}

/// `ev` as the store would give it back, with the provider's identity (id, etag,
/// iCalUID, kind and series link) kept: what the planner compares.
pub fn normalise(
    ev: &RemoteEvent,
    calendar_id: &str,
    master: Option<&MasterInfo>,
) -> Result<RemoteEvent, Unfit> {
    normalise_owned(ev.clone(), calendar_id, master)
}

/// [`normalise`] of an event the caller gives up: its identity and provider-only
/// fields (which the store keeps verbatim) move into the result instead of going
/// through the row — a page's thousands of events.
pub fn normalise_owned(
    mut ev: RemoteEvent,
    calendar_id: &str,
    master: Option<&MasterInfo>,
) -> Result<RemoteEvent, Unfit> {
    let extra = std::mem::take(&mut ev.extra);
    let (kind, remote_id, etag, ical_uid, series) = (
        ev.kind,
        ev.remote_id.clone(),
        ev.etag.clone(),
        ev.ical_uid.clone(),
        ev.series.clone(),
    );
    let row = row_from(ev, calendar_id, master, None)?.into_row();
    let mut out = into_remote(row, master)?;
    out.kind = kind;
    out.remote_id = remote_id;
    out.etag = etag;
    out.ical_uid = ical_uid;
    out.series = series;
    out.extra = extra;
    Ok(out)
}

/// A provider's recurrence dates in the store's key form.
fn local_keys(dates: &[String], all_day: bool) -> Result<Vec<String>, Unfit> {
    dates
        .iter()
        .map(|d| {
            let t = instance_key("recurrence date", d, all_day).map_err(|e| e.to_string())?;
            Ok(key_text(t, all_day))
        })
        .collect()
}

/// The store's instance key (wall time in the series' zone, or date) of an original
/// start.
pub(crate) fn instance_key_of(o: &OriginalStart, m: &MasterInfo) -> Result<String, Unfit> {
    Ok(match o {
        OriginalStart::AllDay(d) => format_date(*d),
        OriginalStart::Timed(t) if m.all_day => format_date(t.date_naive()),
        OriginalStart::Timed(t) => {
            let tz = parse_zone(&m.time_zone).map_err(|e| e.to_string())?;
            format_wall_time(to_local(*t, tz))
        }
    })
}

pub(crate) fn original_start_of(key: &str, m: &MasterInfo) -> Result<OriginalStart, Unfit> {
    if m.all_day {
        return parse_date(key)
            .map(OriginalStart::AllDay)
            .ok_or_else(|| format!("\"{key}\" is not a date"));
    }
    let tz = parse_zone(&m.time_zone).map_err(|e| e.to_string())?;
    let wall = parse_wall_time(key).ok_or_else(|| format!("\"{key}\" is not a wall time"))?;
    Ok(OriginalStart::Timed(to_instant(wall, tz)))
}

/// [`original_start_of`], also for a key of the series' other kind: an occurrence the
/// series left behind when it became all-day, or stopped being (in an account's
/// calendar the provider owns those, see `almanac_store::series_edit`), read as the
/// instance it was ([`left_behind`]). Unreadable, such a row would stop every later
/// run of its calendar. Callers that test a key against its series' kind use
/// [`original_start_of`].
pub(crate) fn stored_original_start(
    key: &str,
    m: &MasterInfo,
    row: &EventInput,
) -> Result<OriginalStart, Unfit> {
    original_start_of(key, m)
        .or_else(|why| original_start_of(key, &left_behind(m, row)).map_err(|_| why))
}

/// The key the occurrence `row` left behind by series `m` (see
/// [`stored_original_start`]) has for the provider's `original` start: written and
/// read in one frame, so the two agree.
pub(crate) fn left_behind_key(
    original: &OriginalStart,
    m: &MasterInfo,
    row: &EventInput,
) -> Result<String, Unfit> {
    instance_key_of(original, &left_behind(m, row))
}

/// The frame of keys of the kind series `m` no longer has: a wall time in the zone of
/// the occurrence `row` (its series' old zone, as the provider keeps it; an all-day
/// series has none), or a date.
fn left_behind(m: &MasterInfo, row: &EventInput) -> MasterInfo {
    let time_zone = if m.all_day && !row.all_day {
        row.time_zone.clone()
    } else {
        m.time_zone.clone()
    };
    MasterInfo {
        all_day: !m.all_day,
        time_zone,
        ..m.clone()
    }
}

/// The occurrence of series `master` at `original`, as the series makes it: its
/// fields, at that start for the series' duration. Identity, `extra` and the series
/// link are the master's; callers set the ones they compare or send. `None` when the
/// start is not of the series' kind (a date for a timed series, or the reverse).
pub(crate) fn occurrence_of(master: &RemoteEvent, original: &OriginalStart) -> Option<RemoteEvent> {
    let timing = match (&master.timing, original) {
        (
            Timing::Timed {
                start,
                end,
                time_zone,
            },
            OriginalStart::Timed(at),
        ) => Timing::Timed {
            start: *at,
            end: *at + (*end - *start),
            time_zone: time_zone.clone(),
        },
        (Timing::AllDay { start, end }, OriginalStart::AllDay(day)) => Timing::AllDay {
            start: *day,
            end: day.checked_add_signed(*end - *start)?,
        },
        _ => return None,
    };
    Some(RemoteEvent {
        timing,
        recurrence: None,
        cancelled: false,
        kind: RemoteKind::Exception,
        ..master.clone()
    })
}

/// The series `ev` (in the store's form) makes, as the store expands it; `None` for a
/// single event or a series that does not validate.
pub(crate) fn series_spec(ev: &RemoteEvent, calendar_id: &str) -> Option<SeriesSpec> {
    ev.recurrence.as_ref()?;
    to_row(ev, calendar_id, None)
        .ok()
        .and_then(|row| row.input.validate().ok())
        .and_then(|v| v.series)
}

/// A series' instance key (wall time, or a date for an all-day series) as the store
/// writes it.
pub(crate) fn key_text(wall: NaiveDateTime, all_day: bool) -> String {
    if all_day {
        format_date(wall.date())
    } else {
        format_wall_time(wall)
    }
}

/// `ev` (in the store's form) without the removed dates that are no occurrence of its
/// series: they remove nothing, and a provider that names a series' removed
/// occurrences itself (Graph's `cancelledOccurrences`) has no place for them. A rule
/// change leaves such dates behind. `ev` as it is when its series cannot be read.
pub(crate) fn without_idle_removals(ev: &RemoteEvent, calendar_id: &str) -> RemoteEvent {
    let mut out = ev.clone();
    let Some(rec) = out.recurrence.as_mut() else {
        return out;
    };
    let Some(spec) = series_spec(ev, calendar_id) else {
        return out;
    };
    let all_day = matches!(ev.timing, Timing::AllDay { .. });
    rec.exdates
        .retain(|d| instance_key("removed date", d, all_day).map_or(true, |k| spec.produces(k)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_provider_text_is_kept_fitted_not_refused() {
        let mut ev = crate::plan::tests::ev("e1", "1");
        ev.title = format!("a\0b{}", "x".repeat(1_500));
        ev.location = "Room\0 1".into();
        ev.body_text = "\0".into();
        ev.categories = (0..60).map(|i| format!("c{i}\0")).collect();
        let row = to_row(&ev, "cal", None).unwrap_or_else(|e| panic!("{e}"));
        let title = &row.input.title;
        assert!(
            title.starts_with("a\u{FFFD}bxxx") && title.ends_with('…'),
            "{title}"
        );
        assert_eq!(title.chars().count(), MAX_TITLE_LEN);
        assert_eq!(row.input.location, "Room\u{FFFD} 1");
        assert_eq!(row.input.description, "\u{FFFD}");
        assert_eq!(row.input.categories.len(), MAX_CATEGORIES);
        assert_eq!(row.input.categories[0], "c0\u{FFFD}");
        // Compared in that form: normalising it again changes nothing (no push loop).
        let n = normalise(&ev, "cal", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(normalise(&n, "cal", None).ok(), Some(n));
    }

    /// A provider's series that could never list this year's occurrences (daily from
    /// the year 1400) is refused, to be skipped and logged: stored, it failed every
    /// listing of every calendar.
    #[test]
    fn a_provider_series_too_old_to_list_is_refused() {
        let mut ev = crate::plan::tests::ev("s1", "1");
        let start = chrono::NaiveDate::from_ymd_opt(1400, 1, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .map(|t| t.and_utc())
            .expect("start");
        ev.kind = RemoteKind::Master;
        ev.timing = Timing::Timed {
            start,
            end: start + chrono::TimeDelta::hours(1),
            time_zone: "UTC".into(),
        };
        ev.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY".into(),
            exdates: vec![],
            rdates: vec![],
        });
        let why = to_row(&ev, "cal", None).expect_err("refused");
        assert!(why.contains("repeats too often for so long"), "{why}");
    }

    /// An occurrence keyed as its series' other kind reads as the instance it was: a
    /// time in the occurrence's own zone under a series now all-day, a date under one
    /// now timed; a key of neither kind is still refused.
    #[test]
    fn an_occurrence_left_by_its_series_kind_reads_as_it_was() {
        let all_day = MasterInfo {
            local_id: "s".into(),
            remote_id: "r".into(),
            time_zone: "UTC".into(),
            all_day: true,
        };
        let mut row = EventInput {
            calendar_id: "cal".into(),
            title: "Stand-up".into(),
            all_day: false,
            start: "2026-03-12T10:00:00".into(),
            end: "2026-03-12T10:15:00".into(),
            time_zone: "Europe/Berlin".into(),
            recurrence: None,
            location: String::new(),
            description: String::new(),
            show_as: almanac_model::ShowAs::Busy,
            importance: almanac_model::Importance::Normal,
            categories: vec![],
        };
        let at = |t: &str| {
            OriginalStart::Timed(
                chrono::DateTime::parse_from_rfc3339(t)
                    .expect("a time")
                    .to_utc(),
            )
        };
        assert_eq!(
            stored_original_start("2026-03-12T09:00:00", &all_day, &row),
            Ok(at("2026-03-12T08:00:00Z"))
        );
        let timed = MasterInfo {
            time_zone: "Europe/Berlin".into(),
            all_day: false,
            ..all_day.clone()
        };
        row.all_day = true;
        row.start = "2026-03-12".into();
        row.end = "2026-03-13".into();
        assert_eq!(
            stored_original_start("2026-03-12", &timed, &row),
            Ok(OriginalStart::AllDay(
                chrono::NaiveDate::from_ymd_opt(2026, 3, 12).expect("a date")
            ))
        );
        assert!(stored_original_start("the 12th", &timed, &row).is_err());
        // The strict reading still tells the kinds apart.
        assert!(original_start_of("2026-03-12T09:00:00", &all_day).is_err());
    }

    #[test]
    fn a_removed_date_that_is_no_occurrence_is_idle() {
        let mut ev = crate::plan::tests::ev("s1", "1");
        ev.kind = RemoteKind::Master;
        // From the 10th at 09:00, every other day: the 11th is none, nor is the 12th
        // at 10:00; the 12th at 09:00 is.
        ev.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;INTERVAL=2".into(),
            exdates: vec![
                "2026-03-11T09:00:00".into(),
                "2026-03-12T09:00:00".into(),
                "2026-03-12T10:00:00".into(),
            ],
            rdates: vec![],
        });
        let ev = normalise(&ev, "cal", None).unwrap_or_else(|e| panic!("{e}"));
        let idle = without_idle_removals(&ev, "cal");
        let kept = idle.recurrence.map(|r| r.exdates).unwrap_or_default();
        assert_eq!(kept, ["2026-03-12T09:00:00"]);
        // A single event, or a series whose rule does not parse, is left as it is.
        let mut bad = ev.clone();
        if let Some(r) = bad.recurrence.as_mut() {
            r.rrule = "FREQ=SOMETIMES".into();
        }
        assert_eq!(without_idle_removals(&bad, "cal"), bad);
    }
}
