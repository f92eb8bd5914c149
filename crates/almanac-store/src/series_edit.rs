//! What an "all occurrences" edit of a series does to what hangs off it.
//!
//! Exceptions and EXDATEs are keyed by the wall time an instance had in the series
//! (DESIGN §3). When the series' start moves (another time, another day, to or from
//! all-day), those keys must move with it, or every deleted occurrence comes back and
//! every edited one shows twice — once as the exception under its old key, once as the
//! series' new instance. So a series edit:
//!
//! - shifts the EXDATEs it carries over by the wall-clock distance the start moved
//!   (new EXDATEs the caller added are taken as they are);
//! - in a calendar kept on this computer, where the store is the only copy, also
//!   re-keys each exception the same way, drops the exceptions the new rule has no
//!   instance for, and lets each exception follow the series in what it did not change
//!   itself: a field that still holds the series' old value takes the new one, and an
//!   exception that kept its instance's time moves with the series.
//!
//! In a calendar of an account the provider owns the exceptions: it decides what
//! becomes of them when the series changes (Outlook drops them, for one), and the next
//! pull brings its answer; re-keying them here would only turn its answer into
//! conflicts.

use almanac_model::recurrence::SeriesSpec;
use almanac_model::time::{parse_date, EventTime};
use almanac_model::{instance_key, EventInput, EventKind, ValidEvent};
use chrono::{NaiveDateTime, NaiveTime};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::{Result, StoreError};
use crate::event_rows::{load, wall_key, EventRow};
use crate::occurrences::is_instance;

/// Where a series starts and whether it is all-day: the instance keys' frame.
#[derive(Clone, Copy)]
struct Frame {
    start: NaiveDateTime,
    all_day: bool,
}

impl Frame {
    fn of(spec: &SeriesSpec) -> Self {
        Self {
            start: spec.start,
            all_day: spec.all_day,
        }
    }

    /// The frame `input` asks for; `None` when its start does not parse (validation
    /// then says why).
    fn of_input(input: &EventInput) -> Option<Self> {
        let start = if input.all_day {
            parse_date(&input.start)?.and_time(NaiveTime::MIN)
        } else {
            EventTime::parse(&input.start)?.wall
        };
        Some(Self {
            start,
            all_day: input.all_day,
        })
    }

    /// `key`, an instance key in `old`, moved as far as the series' start moved, as a
    /// key in `self`.
    fn moved(self, old: Frame, key: &str) -> Result<NaiveDateTime> {
        let wall = instance_key("original start", key, old.all_day)
            .map_err(|_| StoreError::Corrupt(format!("bad instance key {key}")))?;
        let wall = wall + (self.start - old.start);
        Ok(if self.all_day {
            wall.date().and_time(NaiveTime::MIN)
        } else {
            wall
        })
    }
}

/// Before `input` (an edit of the series `old_row`) is validated: moves the EXDATEs it
/// carries over from `old_row` as far as the series' start moves, in the new series'
/// spelling (a date for all-day series).
pub(crate) fn shift_exdates(
    old_row: &EventRow,
    old: &SeriesSpec,
    input: &mut EventInput,
) -> Result<()> {
    let old = Frame::of(old);
    let Some(new) = Frame::of_input(input) else {
        return Ok(());
    };
    if new.start == old.start && new.all_day == old.all_day {
        return Ok(());
    }
    let before: &[String] = old_row
        .input
        .recurrence
        .as_ref()
        .map_or(&[], |r| r.exdates.as_slice());
    let Some(rec) = input.recurrence.as_mut() else {
        return Ok(());
    };
    for x in rec.exdates.iter_mut() {
        if before.contains(x) {
            *x = wall_key(new.moved(old, x)?, new.all_day);
        }
    }
    Ok(())
}

/// Whether `calendar_id` is kept on this computer only (no account).
fn is_local(tx: &Transaction<'_>, calendar_id: &str) -> Result<bool> {
    let account: Option<Option<String>> = tx
        .query_row(
            "SELECT account_id FROM calendars WHERE id = ?1",
            params![calendar_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(matches!(account, Some(None)))
}

/// What became of one exception.
pub(crate) enum Followed {
    /// Re-keyed and/or changed: write this.
    Write { key: String, event: Box<ValidEvent> },
    /// The new rule has no instance for it.
    Drop,
    /// Nothing to do.
    Same,
}

/// The exceptions of master `old_row` after it became `new` (local calendars only; see
/// the module's comment). The caller writes and drops them.
pub(crate) fn follow_series(
    tx: &Transaction<'_>,
    old_row: &EventRow,
    old: &SeriesSpec,
    new: &ValidEvent,
) -> Result<Vec<(EventRow, Followed)>> {
    let Some(new_spec) = &new.series else {
        return Ok(Vec::new());
    };
    if !is_local(tx, &new.input.calendar_id)? {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = {
        let mut st = tx.prepare("SELECT id FROM events WHERE series_id = ?1 ORDER BY id")?;
        let rows = st.query_map(params![old_row.id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let (from, to) = (Frame::of(old), Frame::of(new_spec));
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let exc = load(tx, &id)?;
        if exc.kind != EventKind::Exception {
            continue;
        }
        let Some(old_key) = exc.original_start.clone() else {
            continue;
        };
        let key = to.moved(from, &old_key)?;
        if !is_instance(new_spec, key)? {
            out.push((exc, Followed::Drop));
            continue;
        }
        let key_str = wall_key(key, new_spec.all_day);
        let mut input = exc.input.clone();
        follow_fields(&mut input, &old_row.input, &new.input);
        if kept_its_time(&exc, &old_key, old)? {
            set_instance_time(&mut input, key, new_spec, &new.input.time_zone);
        }
        if key_str == old_key && input == exc.input {
            out.push((exc, Followed::Same));
            continue;
        }
        let event = input.validate()?;
        out.push((
            exc,
            Followed::Write {
                key: key_str,
                event: Box::new(event),
            },
        ));
    }
    Ok(out)
}

/// Each field the exception left as the series had it takes the series' new value.
fn follow_fields(exc: &mut EventInput, old: &EventInput, new: &EventInput) {
    fn follow<T: PartialEq + Clone>(e: &mut T, old: &T, new: &T) {
        if e == old && old != new {
            *e = new.clone();
        }
    }
    follow(&mut exc.title, &old.title, &new.title);
    follow(&mut exc.location, &old.location, &new.location);
    follow(&mut exc.description, &old.description, &new.description);
    follow(&mut exc.show_as, &old.show_as, &new.show_as);
    follow(&mut exc.importance, &old.importance, &new.importance);
    follow(&mut exc.categories, &old.categories, &new.categories);
    exc.calendar_id.clone_from(&new.calendar_id);
}

/// Does the exception still have the time its instance had (start at its key, the
/// series' length, the series' zone and kind)?
fn kept_its_time(exc: &EventRow, key: &str, old: &SeriesSpec) -> Result<bool> {
    if exc.input.all_day != old.all_day {
        return Ok(false);
    }
    if !old.all_day && exc.input.time_zone != old.tz.name() {
        return Ok(false);
    }
    // A timed start may carry the offset of a fold's second pass: its wall time counts.
    let start = if exc.input.all_day {
        instance_key("start", &exc.input.start, true).ok()
    } else {
        EventTime::parse(&exc.input.start).map(|t| t.wall)
    };
    let Some(start) = start else {
        return Err(StoreError::Corrupt(format!("event {}: bad start", exc.id)));
    };
    let at_key = instance_key("original start", key, old.all_day)
        .map_err(|_| StoreError::Corrupt(format!("bad instance key {key}")))?;
    Ok(start == at_key && exc.end_utc - exc.start_utc == old.duration.num_seconds())
}

/// The exception takes the time the new series gives its instance at `key`.
fn set_instance_time(input: &mut EventInput, key: NaiveDateTime, new: &SeriesSpec, zone: &str) {
    input.all_day = new.all_day;
    input.time_zone = zone.to_owned();
    input.start = wall_key(key, new.all_day);
    input.end = wall_key(key + new.duration, new.all_day);
}
