//! What an "all occurrences" edit of a series does to what hangs off it.
//!
//! Exceptions and EXDATEs are keyed by the wall time an instance had in the series
//! (DESIGN §3). When the series' start moves (another time, another day, to or from
//! all-day), those keys must move with it, or every deleted occurrence comes back and
//! every edited one shows twice — once as the exception under its old key, once as the
//! series' new instance. So a series edit:
//!
//! - moves the EXDATEs it carries over with the start (new ones the caller added are
//!   taken as they are): each to the first place the new series has an instance of
//!   `Frame::candidates` — where it was (a rule that fixes the days keeps them), the
//!   same day at the new time of day, or as far as the start moved (a weekly series
//!   moved from Mondays to Tuesdays) — and the RDATEs to the new time of day;
//! - for a series that was in a calendar kept on this computer, where the store holds
//!   the only copy of its exceptions (also when it now moves into an account's
//!   calendar), re-keys each exception the same way, drops the exceptions the new
//!   series has no instance for at either place, and lets each exception follow the series in what it did not
//!   change itself: a field that still holds the series' old value takes the new one,
//!   and an exception that kept its instance's time (its start instant, the series'
//!   length) moves with the series.
//!
//! In a calendar of an account the provider owns the exceptions: it decides what
//! becomes of them when the series changes (Outlook drops them, for one), and the next
//! pull brings its answer; re-keying them here would only turn its answer into
//! conflicts.

use almanac_model::recurrence::SeriesSpec;
use almanac_model::time::{parse_date, to_instant, EventTime};
use almanac_model::{instance_key, EventInput, ValidEvent};
use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
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

    /// Where the instance keyed `key` (a key in `old`) may be in `self`, most likely
    /// first: where it was (a rule that fixes the days — `BYDAY=MO,WE,FR` from a Monday,
    /// then from a Wednesday — or a series that only starts later keeps them); on the
    /// same day at the series' new time of day (the start moved within the day); moved
    /// as far as the start moved (a weekly series moved from Mondays to Tuesdays).
    fn candidates(self, old: Frame, key: &str) -> Result<[NaiveDateTime; 3]> {
        let wall = instance_key("original start", key, old.all_day)
            .map_err(|_| StoreError::Corrupt(format!("bad instance key {key}")))?;
        let moved = self.start - old.start;
        let in_day = moved - Duration::days(moved.num_days());
        let as_key = |t: NaiveDateTime| {
            if self.all_day {
                t.date().and_time(NaiveTime::MIN)
            } else {
                t
            }
        };
        Ok([as_key(wall), as_key(wall + in_day), as_key(wall + moved)])
    }
}

/// The edit `input` of series `old_row` (whose spec is `old`), validated, with the
/// EXDATEs and RDATEs it carries over from `old_row` moved along with the series'
/// start, in the new series' spelling (a date for all-day series): an RDATE keeps its
/// day and takes the series' new time of day; an EXDATE goes where the instance it
/// removed now is (the first of [`Frame::candidates`] the new series has). Dates the
/// caller added are taken as they are.
pub(crate) fn carry_dates(
    old_row: &EventRow,
    old: &SeriesSpec,
    mut input: EventInput,
) -> Result<ValidEvent> {
    let old = Frame::of(old);
    let (Some(new), Some(before)) = (Frame::of_input(&input), old_row.input.recurrence.clone())
    else {
        return Ok(input.validate()?);
    };
    if new.start == old.start && new.all_day == old.all_day {
        return Ok(input.validate()?);
    }
    let Some(rec) = input.recurrence.as_mut() else {
        return Ok(input.validate()?);
    };
    // First each on its own day (so the new spelling validates), then the EXDATEs
    // settled against the new series' instances.
    let mut carried = Vec::new();
    for x in rec.rdates.iter_mut().filter(|x| before.rdates.contains(x)) {
        *x = wall_key(new.candidates(old, x)?[1], new.all_day);
    }
    for (i, x) in rec.exdates.iter_mut().enumerate() {
        if before.exdates.contains(x) {
            let c = new.candidates(old, x)?;
            *x = wall_key(c[1], new.all_day);
            carried.push((i, c));
        }
    }
    let v = input.validate()?;
    let Some(spec) = &v.series else {
        return Ok(v);
    };
    let mut all = spec.clone();
    all.exdates.clear();
    let instances = Instances::of(&all, carried.iter().flat_map(|(_, c)| *c));
    let mut input = v.input.clone();
    let mut changed = false;
    if let Some(rec) = input.recurrence.as_mut() {
        for (i, c) in &carried {
            let mut found = None;
            for k in c {
                if instances.has(&all, *k)? {
                    found = Some(*k);
                    break;
                }
            }
            // One the new series has nowhere stays on its day: it removes nothing.
            let key = wall_key(found.unwrap_or(c[1]), new.all_day);
            if rec.exdates[*i] != key {
                rec.exdates[*i] = key;
                changed = true;
            }
        }
    }
    Ok(if changed { input.validate()? } else { v })
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
    /// The new rule has no instance for it (or another exception took its new key).
    Drop,
    /// Nothing to do.
    Same,
}

/// The exceptions of master `old_row` after it became `new`, in key order (local
/// calendars only; see the module's comment). The caller writes and drops them; the
/// keys it writes are distinct, but one may be another's old key.
pub(crate) fn follow_series(
    tx: &Transaction<'_>,
    old_row: &EventRow,
    old: &SeriesSpec,
    new: &ValidEvent,
) -> Result<Vec<(EventRow, Followed)>> {
    let Some(new_spec) = &new.series else {
        return Ok(Vec::new());
    };
    // The exceptions' calendar until now decides: a local series moved into an
    // account's calendar brings exceptions no provider has seen yet.
    if !is_local(tx, &old_row.input.calendar_id)? {
        return Ok(Vec::new());
    }
    let rows: Vec<EventRow> = {
        let mut st = tx.prepare(
            "SELECT id FROM events WHERE series_id = ?1 AND kind = 'exception'
             ORDER BY original_start, id",
        )?;
        let ids = st.query_map(params![old_row.id], |r| r.get::<_, String>(0))?;
        let ids: Vec<String> = ids.collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| load(tx, id)).collect::<Result<_>>()?
    };
    let (from, to) = (Frame::of(old), Frame::of(new_spec));
    let mut keyed = Vec::with_capacity(rows.len());
    for exc in rows {
        let Some(old_key) = exc.original_start.clone() else {
            continue;
        };
        let candidates = to.candidates(from, &old_key)?;
        keyed.push((exc, old_key, candidates));
    }
    let instances = Instances::of(new_spec, keyed.iter().flat_map(|(_, _, c)| *c));
    // A calendar move changes each exception's row (and index) even where nothing else
    // does.
    let calendar_moved = old_row.input.calendar_id != new.input.calendar_id;
    let mut placed = Vec::with_capacity(keyed.len());
    for (exc, old_key, candidates) in keyed {
        let mut key = None;
        for c in candidates {
            if instances.has(new_spec, c)? {
                key = Some((c, wall_key(c, new_spec.all_day)));
                break;
            }
        }
        placed.push((exc, old_key, key));
    }
    // An exception that stays keeps its key; one that moves onto a key taken is dropped.
    let mut taken: HashSet<String> = placed
        .iter()
        .filter(|(_, old_key, key)| key.as_ref().is_some_and(|(_, k)| k == old_key))
        .map(|(_, old_key, _)| old_key.clone())
        .collect();
    let mut out = Vec::with_capacity(placed.len());
    for (exc, old_key, key) in placed {
        let Some((key, key_str)) = key else {
            out.push((exc, Followed::Drop));
            continue;
        };
        if key_str != old_key && !taken.insert(key_str.clone()) {
            out.push((exc, Followed::Drop));
            continue;
        }
        let mut input = exc.input.clone();
        follow_fields(&mut input, &old_row.input, &new.input);
        if kept_its_time(&exc, &old_key, old)? {
            set_instance_time(&mut input, key, new_spec, &new.input.time_zone);
        }
        if key_str == old_key && input == exc.input && !calendar_moved {
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

/// The new series' instances around the exceptions' new keys, expanded once (not once
/// per exception: a series may have thousands); when one expansion cannot hold them
/// all, each key is checked on its own.
struct Instances(Option<HashSet<NaiveDateTime>>);

impl Instances {
    /// At most this many instances in the one expansion.
    const MAX: usize = 50_000;

    fn of(spec: &SeriesSpec, keys: impl Iterator<Item = NaiveDateTime>) -> Self {
        let (mut lo, mut hi) = (None::<NaiveDateTime>, None::<NaiveDateTime>);
        for k in keys {
            lo = Some(lo.map_or(k, |l| l.min(k)));
            hi = Some(hi.map_or(k, |h| h.max(k)));
        }
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return Self(Some(HashSet::new()));
        };
        let margin = Duration::days(2);
        let found = spec.expand(lo.and_utc() - margin, hi.and_utc() + margin, Self::MAX);
        Self(
            found
                .ok()
                .map(|f| f.into_iter().map(|i| i.original).collect()),
        )
    }

    fn has(&self, spec: &SeriesSpec, key: NaiveDateTime) -> Result<bool> {
        match &self.0 {
            Some(set) => Ok(set.contains(&key)),
            None => is_instance(spec, key),
        }
    }
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

/// Where the instance keyed `key` of `spec` starts (a fold's first pass, a gap's wall
/// time moved forward, as the series expands).
fn instance_start(key: NaiveDateTime, spec: &SeriesSpec) -> DateTime<Utc> {
    if spec.all_day {
        key.and_utc()
    } else {
        to_instant(key, spec.tz)
    }
}

/// Does the exception still have the time its instance had: the same start instant
/// (one moved to a fold's second pass has not), the series' exact length, its zone and
/// kind?
fn kept_its_time(exc: &EventRow, key: &str, old: &SeriesSpec) -> Result<bool> {
    if exc.input.all_day != old.all_day {
        return Ok(false);
    }
    if !old.all_day && exc.input.time_zone != old.tz.name() {
        return Ok(false);
    }
    let at_key = instance_key("original start", key, old.all_day)
        .map_err(|_| StoreError::Corrupt(format!("bad instance key {key}")))?;
    Ok(exc.start_utc == instance_start(at_key, old).timestamp()
        && exc.end_utc - exc.start_utc == old.duration.num_seconds())
}

/// The exception takes the time the new series gives its instance at `key`: its start
/// and the series' exact length, spelled as event times in the series' zone.
fn set_instance_time(input: &mut EventInput, key: NaiveDateTime, new: &SeriesSpec, zone: &str) {
    input.all_day = new.all_day;
    input.time_zone = zone.to_owned();
    if new.all_day {
        input.start = wall_key(key, true);
        input.end = wall_key(key + new.duration, true);
    } else {
        let start = instance_start(key, new);
        input.start = EventTime::of(start, new.tz).to_string();
        input.end = EventTime::of(start + new.duration, new.tz).to_string();
    }
}
