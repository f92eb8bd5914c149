//! What an "all occurrences" edit of a series does to what hangs off it.
//!
//! Exceptions and EXDATEs are keyed by the wall time an instance had in the series
//! (DESIGN §3). When the series' start moves (another time, another day, to or from
//! all-day), those keys must move with it, or every deleted occurrence comes back and
//! every edited one shows twice — once as the exception under its old key, once as the
//! series' new instance. So a series edit:
//!
//! - carries the EXDATEs and RDATEs it kept (new ones the caller added are taken as
//!   they are) and its exceptions one way for the whole series (`Carry`): a start that
//!   stays on its day takes every key to the new time of day (09:00 → 10:00: each an
//!   hour later); a start moved to another day takes the first of — keys stay (a rule
//!   that fixes the days, a series that only starts later); move as far as a start
//!   moved within a day; keep their day at the new time (or a day either side); move
//!   as far as the start — that puts every key the new series still spans on one of
//!   its instances; its rule's `UNTIL`, the last instance's start, goes the same way
//!   (and into the series' new zone and form: a date, an instant);
//! - for a series that was in a calendar kept on this computer, where the store holds
//!   the only copy of its exceptions (also when it now moves into an account's
//!   calendar), or in an account's calendar but not sent yet (no provider id: made
//!   offline), re-keys each exception that way, drops the exceptions the new series
//!   has no instance for there, and lets each exception follow the series in what it
//!   did not change itself: a field that still holds the series' old value takes the
//!   new one, and an exception that kept its instance's time (its start instant, the
//!   series' length) moves with the series.
//!
//! In a calendar of an account the provider owns the exceptions of a series it has: it decides what
//! becomes of them when the series changes (Outlook drops them, for one), and the next
//! pull brings its answer; re-keying them here would only turn its answer into
//! conflicts.

use almanac_model::recurrence::{SeriesSpec, MAX_PER_YEAR};
use almanac_model::time::{parse_date, parse_zone, to_instant, to_local, EventTime};
use almanac_model::{instance_key, EventInput, RecurrenceInput, ValidEvent};
use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::{params, Transaction};

use crate::error::{Result, StoreError};
use crate::event_rows::{load, wall_key, EventRow};
use crate::occurrences::is_instance;
use crate::sync::account_of;

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
}

/// How the keys of the old series are carried into the new one: each moves by `by`
/// (and, for an all-day series, then keeps only its date).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Carry {
    by: Duration,
    all_day: bool,
}

impl Carry {
    /// How the keys `keys` of series `old` (walls of its instances) go into `new`,
    /// chosen as a series edit here chooses (see [`carry_dates`]); `None` when the
    /// series did not move. The sync engine carries the changes made here and not yet
    /// sent when the provider moves a series.
    pub fn choose(old: &SeriesSpec, new: &SeriesSpec, keys: &[NaiveDateTime]) -> Option<Carry> {
        let (from, to) = (Frame::of(old), Frame::of(new));
        if from.start == to.start && from.all_day == to.all_day {
            return None;
        }
        // Keys on an extra date go with it whichever way: they tell nothing.
        let keys: Vec<NaiveDateTime> = keys
            .iter()
            .copied()
            .filter(|k| !old.rdates.contains(k))
            .collect();
        let ways = if keys.is_empty() {
            vec![Carry::on_day(from, to, 0)]
        } else {
            Carry::ways_between(from, to)
        };
        let later = starts_later(old, to);
        let mut all = new.clone();
        all.exdates.clear();
        let mut best: Option<((bool, usize), Carry)> = None;
        for way in ways {
            let Ok((placed, missed)) = placement(&all, &keys, way) else {
                continue;
            };
            if settles(placed, missed, way, later) {
                return Some(way);
            }
            let score = (missed == 0, placed);
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, way));
            }
        }
        best.map(|(_, way)| way)
    }

    /// [`Self::ways`] between two frames with keys to carry.
    fn ways_between(from: Frame, to: Frame) -> Vec<Carry> {
        if to.start.date() == from.start.date() {
            // Another time on the same day: the keys go with it, unless the rule pins
            // the hours (`BYHOUR`) and they stay.
            vec![
                Carry::on_day(from, to, 0),
                Carry {
                    by: Duration::zero(),
                    all_day: to.all_day,
                },
            ]
        } else {
            Carry::tried(from, to)
        }
    }

    /// The key `wall` of the old series, carried.
    pub fn wall(self, wall: NaiveDateTime) -> NaiveDateTime {
        let t = wall + self.by;
        if self.all_day {
            t.date().and_time(NaiveTime::MIN)
        } else {
            t
        }
    }

    /// `key`, a key of the old series (all-day or not as `old_all_day`), carried.
    fn key(self, key: &str, old_all_day: bool) -> Result<NaiveDateTime> {
        let wall = instance_key("original start", key, old_all_day)
            .map_err(|_| StoreError::Corrupt(format!("bad instance key {key}")))?;
        Ok(self.wall(wall))
    }

    /// Keys kept on their day (`days` later) at the new time of day; to an all-day
    /// series, just their date.
    fn on_day(old: Frame, new: Frame, days: i64) -> Self {
        let time = if new.all_day {
            Duration::zero()
        } else {
            new.start.time() - old.start.time()
        };
        Self {
            by: time + Duration::days(days),
            all_day: new.all_day,
        }
    }

    /// The ways to carry keys when the start moved to another day, in the order they
    /// are tried: keys stay (a rule that fixes the days — `BYDAY=MO,WE,FR` from a
    /// Monday, then from a Wednesday — or a series that only starts later); move as far
    /// as the start when that is less than keeping the day (23:30 → 00:30 the next
    /// day); keep their day at the new time of day, or a day either side (a weekly
    /// series moved from Mondays to Tuesdays); move as far as the start.
    fn tried(old: Frame, new: Frame) -> Vec<Carry> {
        let moved = Self {
            by: new.start - old.start,
            all_day: new.all_day,
        };
        let stay = Self {
            by: Duration::zero(),
            all_day: new.all_day,
        };
        let same_day = Self::on_day(old, new, 0);
        let mut ways = vec![stay];
        // Across midnight (23:30 → 00:30 the next day) moving as far is the smaller
        // step; a day later an hour earlier, the day kept at the new time is. (To an
        // all-day series, keeping the day is a step back to its midnight.)
        let keep_day_step = if new.all_day {
            old.start.time() - NaiveTime::MIN
        } else {
            same_day.by
        };
        if moved.by.num_seconds().abs() < keep_day_step.num_seconds().abs() {
            ways.push(moved);
        }
        ways.extend([
            same_day,
            Self::on_day(old, new, 1),
            Self::on_day(old, new, -1),
            moved,
        ]);
        let mut out: Vec<Carry> = Vec::new();
        for w in ways {
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }
}

/// The edit `input` of series `old_row` (whose spec is `old`), validated, with the
/// EXDATEs and RDATEs it carries over from `old_row` (dates the caller added are taken
/// as they are) carried into the new series, and how (for its exceptions, see
/// [`follow_series`]).
///
/// The way is chosen once for the whole series, by where the EXDATEs and exceptions
/// land: of the ways tried — for a start that stays on its day, the new time of day
/// (09:00 → 10:00 moves each key an hour), then staying (a rule that pins the hours);
/// for a start moved to another day, which is ambiguous (the instances may stay on
/// their days or move with it), those of [`Carry::tried`] — the first that misses
/// none of the keys the new series spans and places one at least (keys that stay but
/// all fall before the new start tell nothing, unless the new start is one of the old
/// series' instances: it only starts later); failing that, the one that places the
/// most. With no such key, keys keep their day.
pub(crate) fn carry_dates(
    tx: &Transaction<'_>,
    old_row: &EventRow,
    old: &SeriesSpec,
    input: EventInput,
) -> Result<(ValidEvent, Carry)> {
    let from = Frame::of(old);
    let unmoved = Carry {
        by: Duration::zero(),
        all_day: old.all_day,
    };
    let (Some(to), Some(before)) = (Frame::of_input(&input), old_row.input.recurrence.clone())
    else {
        return Ok((input.validate()?, unmoved));
    };
    if input.recurrence.is_none() || (to.start == from.start && to.all_day == from.all_day) {
        // The start's wall stays; its zone may not, and an UNTIL in UTC with it.
        let zone = (old_row.input.time_zone.as_str(), from.all_day);
        let input = with_until_carried(input, &before, unmoved, zone)?;
        return Ok((input.validate()?, unmoved));
    }
    let exception_keys: Vec<String> = {
        let mut st = tx.prepare_cached(
            "SELECT original_start FROM events WHERE series_id = ?1 AND original_start IS NOT NULL",
        )?;
        let keys = st.query_map(params![old_row.id], |r| r.get(0))?;
        keys.collect::<rusqlite::Result<_>>()?
    };
    let held = held_removals(tx, &old_row.id)?;
    let carried_exdates: Vec<&String> = input
        .recurrence
        .iter()
        .flat_map(|r| r.exdates.iter())
        .filter(|x| before.exdates.contains(x))
        .collect();
    // Keys on an extra date go with it whichever way: they tell nothing.
    let on_rdate = |k: &String| {
        let wall = instance_key("original start", k, from.all_day).ok();
        before
            .rdates
            .iter()
            .any(|r| instance_key("added date", r, from.all_day).ok() == wall)
    };
    // In an account's calendar, an occurrence of the other kind was left behind at
    // the provider by an earlier switch to or from all-day: no day of the series, it
    // tells nothing of how the series moves (and stays where it is).
    let of_series_kind = |k: &&String| parse_date(k).is_some() == from.all_day;
    let keys: Vec<NaiveDateTime> = carried_exdates
        .into_iter()
        .chain(exception_keys.iter().filter(of_series_kind))
        .chain(held.iter().map(|(_, k)| k).filter(of_series_kind))
        .filter(|k| !on_rdate(k))
        .map(|k| {
            instance_key("original start", k, from.all_day)
                .map_err(|_| StoreError::Corrupt(format!("bad instance key {k}")))
        })
        .collect::<Result<_>>()?;
    let ways = if keys.is_empty() {
        vec![Carry::on_day(from, to, 0)]
    } else {
        Carry::ways_between(from, to)
    };
    let later = starts_later(old, to);
    // The first way that misses none of the keys the new series spans and places one at
    // least; failing that, the one that places the most.
    let mut best: Option<((bool, usize), ValidEvent, Carry)> = None;
    let mut first_error = None;
    for way in ways {
        let zone = (old_row.input.time_zone.as_str(), from.all_day);
        let v = match carried(&input, &before, way, zone).and_then(|i| Ok(i.validate()?)) {
            Ok(v) => v,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let Some(spec) = &v.series else {
            return Ok((v, way));
        };
        let mut all = spec.clone();
        all.exdates.clear();
        let (placed, missed) = placement(&all, &keys, way)?;
        if settles(placed, missed, way, later) {
            return Ok((v, way));
        }
        let score = (missed == 0, placed);
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, v, way));
        }
    }
    match (best, first_error) {
        (Some((_, v, way)), _) => Ok((v, way)),
        (None, Some(e)) => Err(e),
        (None, None) => Ok((input.validate()?, unmoved)),
    }
}

/// Where `way` puts `keys` (walls of the old series) in series `all` (its EXDATEs
/// cleared): how many land on one of its instances, and how many miss one though the
/// series spans them.
fn placement(all: &SeriesSpec, keys: &[NaiveDateTime], way: Carry) -> Result<(usize, usize)> {
    let images: Vec<NaiveDateTime> = keys.iter().map(|k| way.wall(*k)).collect();
    let instances = Instances::of(all, images.iter().copied());
    let (mut placed, mut missed) = (0, 0);
    for k in &images {
        if instances.has(all, *k)? {
            placed += 1;
        } else if *k >= all.start && continues_after(all, *k) {
            missed += 1;
        }
    }
    Ok((placed, missed))
}

/// Whether a way that places and misses so many is the one: it misses none and places
/// one at least. Keys that stay but all fall before the new start tell nothing —
/// unless the new start is one of the old series' own instances (`later`): then it
/// only starts later.
fn settles(placed: usize, missed: usize, way: Carry, later: bool) -> bool {
    missed == 0 && (placed > 0 || (way.by.is_zero() && later))
}

/// Whether the series now starting `to` only starts later: `to` is on the old rule's
/// own pattern (not a deleted or an extra date of it).
fn starts_later(old: &SeriesSpec, to: Frame) -> bool {
    to.all_day == old.all_day && {
        let mut rule = old.clone();
        rule.exdates.clear();
        rule.rdates.clear();
        is_instance(&rule, to.start).unwrap_or(false)
    }
}

/// Does the series have an instance at or after `key` (within a year and a bit; a
/// rule that cannot say counts as yes)? A key past its end simply falls away.
fn continues_after(spec: &SeriesSpec, key: NaiveDateTime) -> bool {
    let from = key.and_utc() - Duration::days(2);
    // A year holds at most MAX_PER_YEAR instances of a valid rule.
    match spec.expand(from, from + Duration::days(400), 4 * MAX_PER_YEAR) {
        Ok(found) => found.iter().any(|i| i.original >= key),
        Err(_) => true,
    }
}

/// `input` with the EXDATEs and RDATEs it kept from `before` carried `way` (each once:
/// two dates of one day become one date of an all-day series), and its rule's end
/// (see [`with_until_carried`]). `old` is the old series' zone and whether it was
/// all-day.
fn carried(
    input: &EventInput,
    before: &RecurrenceInput,
    way: Carry,
    old: (&str, bool),
) -> Result<EventInput> {
    let old_all_day = old.1;
    let mut input = with_until_carried(input.clone(), before, way, old)?;
    if let Some(rec) = input.recurrence.as_mut() {
        for (dates, had) in [
            (&mut rec.exdates, &before.exdates),
            (&mut rec.rdates, &before.rdates),
        ] {
            let mut out: Vec<String> = Vec::with_capacity(dates.len());
            for x in dates.iter() {
                let x = if had.contains(x) {
                    wall_key(way.key(x, old_all_day)?, way.all_day)
                } else {
                    x.clone()
                };
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            *dates = out;
        }
    }
    Ok(input)
}

/// `input` with its rule's `UNTIL` carried `way` into its zone, when the rule is the
/// old one (`before`'s, unchanged by the caller). An `UNTIL` names the last instance's
/// start, as an instant (`…Z`), a wall time or a date: left as it was, a series moved
/// an hour later, into a zone further west, or made all-day east of UTC lost its last
/// instance — and an edit of that instance with it — and one made all-day west of UTC
/// gained a day. So its wall in the old series goes where the keys go, and is written
/// in the new series' form (a date for an all-day series, else an instant in UTC, or a
/// wall time as it was).
fn with_until_carried(
    mut input: EventInput,
    before: &RecurrenceInput,
    way: Carry,
    (old_zone, old_all_day): (&str, bool),
) -> Result<EventInput> {
    let Some(rec) = input.recurrence.as_mut() else {
        return Ok(input);
    };
    let stays = way.by.is_zero() && way.all_day == old_all_day && input.time_zone == old_zone;
    if rec.rrule != before.rrule || stays {
        return Ok(input);
    }
    let (Ok(old_tz), Ok(new_tz)) = (parse_zone(old_zone), parse_zone(&input.time_zone)) else {
        return Ok(input); // validation says why
    };
    let mut changed = false;
    let parts: Vec<String> = rec
        .rrule
        .split(';')
        .map(|part| {
            let Some((name, value)) = part.split_once('=') else {
                return part.to_owned();
            };
            if !name.trim().eq_ignore_ascii_case("UNTIL") {
                return part.to_owned();
            }
            let value = value.trim();
            let in_utc = value.ends_with('Z');
            let wall = if let Some(utc) = value.strip_suffix('Z') {
                // (An all-day series reads an UNTIL in UTC as its wall time.)
                NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                    .ok()
                    .map(|t| {
                        if old_all_day {
                            t
                        } else {
                            to_local(t.and_utc(), old_tz)
                        }
                    })
            } else if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
                Some(t)
            } else {
                NaiveDate::parse_from_str(value, "%Y%m%d")
                    .ok()
                    .map(|d| d.and_time(NaiveTime::MIN))
            };
            let Some(wall) = wall else {
                return part.to_owned(); // validation says why
            };
            let to = way.wall(wall);
            let written = if way.all_day {
                to.date().format("%Y%m%d").to_string()
            } else if in_utc || old_all_day {
                to_instant(to, new_tz).format("%Y%m%dT%H%M%SZ").to_string()
            } else {
                to.format("%Y%m%dT%H%M%S").to_string()
            };
            if written == value {
                return part.to_owned();
            }
            changed = true;
            format!("{name}={written}")
        })
        .collect();
    if changed {
        rec.rrule = parts.join(";");
    }
    Ok(input)
}

/// The pending deletes at the provider of series `series_id`'s occurrences (a changed
/// occurrence deleted here, or a removal held apart from the series while its
/// delete/edit conflict waits: `DeletePayload::occurrence`), as (outbox id, key).
fn held_removals(tx: &Transaction<'_>, series_id: &str) -> Result<Vec<(i64, String)>> {
    let mut st = tx.prepare_cached(
        "SELECT id, json_extract(payload, '$.occurrence.originalStart') FROM outbox
         WHERE operation = 'delete' AND json_extract(payload, '$.occurrence.seriesId') = ?1",
    )?;
    let rows = st.query_map(params![series_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        if let (id, Some(key)) = row? {
            out.push((id, key));
        }
    }
    Ok(out)
}

/// The keys of series `series_id`'s pending occurrence deletes ([`held_removals`])
/// carried `way`, as its EXDATEs are: a removal held apart goes back into the series
/// under its key once its deletion is kept, and the key must name the day as the
/// series has it then. One of the other kind (left behind by an all-day switch) or
/// one that does not parse stays.
pub(crate) fn carry_pending_removals(
    tx: &Transaction<'_>,
    series_id: &str,
    old: &SeriesSpec,
    way: Carry,
) -> Result<()> {
    for (id, key) in held_removals(tx, series_id)? {
        if parse_date(&key).is_some() != old.all_day {
            continue;
        }
        let Ok(to) = way.key(&key, old.all_day) else {
            continue;
        };
        let to = wall_key(to, way.all_day);
        if to != key {
            tx.execute(
                "UPDATE outbox SET payload = json_set(payload, '$.occurrence.originalStart', ?2)
                 WHERE id = ?1",
                params![id, to],
            )?;
        }
    }
    Ok(())
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

/// The exceptions of master `old_row` after it became `new`, carried `way` (see
/// [`carry_dates`]), in key order (local calendars only; see the module's comment).
/// The caller writes and drops them; the keys it writes are distinct, but one may be
/// another's old key.
pub(crate) fn follow_series(
    tx: &Transaction<'_>,
    old_row: &EventRow,
    old: &SeriesSpec,
    new: &ValidEvent,
    way: Carry,
) -> Result<Vec<(EventRow, Followed)>> {
    let Some(new_spec) = &new.series else {
        return Ok(Vec::new());
    };
    // The exceptions' calendar until now decides: a local series moved into an
    // account's calendar brings exceptions no provider has seen yet. So does a series
    // of an account's calendar no provider has an id for yet (made offline): its
    // changed occurrences cannot have gone out before it, and left under their old
    // keys they showed twice, then went out as changes of instances it does not have.
    let seen = tx.query_row(
        "SELECT remote_id IS NOT NULL FROM events WHERE id = ?1",
        params![old_row.id],
        |r| r.get::<_, bool>(0),
    )?;
    if seen && account_of(tx, &old_row.input.calendar_id)?.is_some() {
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
    let mut keyed = Vec::with_capacity(rows.len());
    for exc in rows {
        let Some(old_key) = exc.original_start.clone() else {
            continue;
        };
        let key = way.key(&old_key, old.all_day)?;
        keyed.push((exc, old_key, key));
    }
    let instances = Instances::of(new_spec, keyed.iter().map(|(_, _, k)| *k));
    // A calendar move changes each exception's row (and index) even where nothing else
    // does.
    let calendar_moved = old_row.input.calendar_id != new.input.calendar_id;
    let mut placed = Vec::with_capacity(keyed.len());
    for (exc, old_key, key) in keyed {
        let key = instances
            .has(new_spec, key)?
            .then(|| (key, wall_key(key, new_spec.all_day)));
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
