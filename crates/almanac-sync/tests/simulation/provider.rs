//! The simulation's provider: an in-memory [`CalendarProvider`] with two calendars (one
//! editable, one read-only), a change log per calendar, and a seeded fault schedule.
//!
//! How it behaves (what the engine may rely on, as the Graph and Google clients promise):
//! * `changes` with no cursor, or with a cursor of an older lineage (after a reset),
//!   starts a full listing (`full_listing: true`): the calendar's live events in id
//!   order, `page_size` per page, `Cursor::More` between pages and a final
//!   `Cursor::Done` holding the log position the listing started at (so whatever
//!   changed while it was paged comes again in the next incremental round).
//! * An incremental round (from a `Done` token) lists each event changed in the log
//!   since that position once, as its current version (`Change::Upsert`) or
//!   `Change::Removed`, and ends with a `Done` token at the log position it covered.
//! * With `snapshot_rounds` (drawn per case), a round — full or incremental — is a
//!   snapshot of when its first page was asked for, as Graph's delta rounds are: its
//!   later pages show every event as it was then, an event created since not at all,
//!   one deleted since still there. The next round shows what changed meanwhile.
//! * Every write gives the event a new etag. `update` / `delete` with a stale etag →
//!   `PreconditionFailed`; `update` of a missing event → `NotFound`; `delete` of a
//!   missing event → `Ok`. `create` is idempotent per key: a second create with a
//!   known key answers with the event as it is now (or, like Google, `Conflict` when it
//!   was deleted since; in Graph mode, as the fake cloud's Graph, a new event then);
//!   `creation_key` reads the key back from a side map.
//! * Writes to the read-only calendar are refused (`Forbidden`) and counted: I5.
//! * With `series` (drawn per case), recurring series as Google keeps them: a master
//!   with a daily rule and EXDATEs in it; an instance changed or cancelled is an event
//!   of its own, `<series>_<start>`, linked to its series and listed like any other (a
//!   cancelled one too: it hides its occurrence). `instance` answers for an unchanged
//!   instance with the series' etag, and `update` of it stores the exception. Deleting
//!   an instance cancels it; deleting a series removes its instances with it; a
//!   series updated with new EXDATEs cancels its exceptions at those starts. Series
//!   keep their times (nobody moves one), so their instances keep their keys.
//! * With `graph` (every odd seed with series), series as Graph keeps them instead:
//!   `exdates_in_rule` is false; a removed occurrence is no event but a cancellation
//!   listed on its series (its EXDATEs here), made only by deleting the instance,
//!   which changes the series' etag and lists the instance as removed; a series'
//!   create or update cannot remove occurrences (the EXDATEs sent are ignored); an
//!   update that moves a series or changes its rule drops its changed and cancelled
//!   occurrences, as Outlook does; an update of a removed occurrence is `NotFound`.
//!
//! Faults (per mille, drawn per case): transient errors on any call (throttled with a
//! `retry_after`, 503, offline), lost answers of writes (the write lands, the call
//! fails), duplicated changes and stale-then-current versions within a page, replays
//! of earlier changes in later pages, cursor resets, edits by another client between
//! and during calls, and crashes (a call that never answers, after its write landed
//! or not: the driver drops the run's future).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use almanac_model::time::{format_wall_time, parse_zone, to_local};
use almanac_model::{Importance, Sensitivity, ShowAs};
use almanac_provider::{
    BoxFuture, CalendarProvider, Change, ChangePage, Cursor, Deleted, ErrorKind, OriginalStart,
    ProviderError, RemoteCalendar, RemoteEvent, RemoteKind, RemoteRecurrence, Result, SeriesLink,
    Timing, Window,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::Map;

/// The editable calendar's index in [`World::cals`].
pub const MAIN: usize = 0;
/// The read-only calendar's index.
pub const SHARED: usize = 1;
pub const CAL_IDS: [&str; 2] = ["cal-main", "cal-shared"];
pub const ZONES: [&str; 4] = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];

/// Where event times start: a June without DST changes in any of [`ZONES`].
pub fn t0() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, 6, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `p`/1000.
    pub fn per_mille(&mut self, p: u32) -> bool {
        p > 0 && self.next_u64() % 1000 < u64::from(p)
    }

    pub fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// Fault probabilities, per mille. `Faults::default()` is a healthy network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// A transient error instead of any call.
    pub error: u32,
    /// A write lands but its answer is lost (503).
    pub lost_answer: u32,
    /// A change of a page repeated within the page.
    pub duplicate: u32,
    /// An older version of an event put before its current one in a page.
    pub stale: u32,
    /// A change from an earlier round served again.
    pub replay: u32,
    /// The cursor invalidated before a `changes` call that has one.
    pub reset: u32,
    /// Another client writes before a call is served.
    pub concurrent: u32,
}

/// Counts of what the faults did, for the run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: u64,
    pub errors: u64,
    pub lost_answers: u64,
    pub duplicates: u64,
    pub stale: u64,
    pub replays: u64,
    pub resets: u64,
    pub other_client: u64,
    /// Series the other client moved (Graph: their changed occurrences dropped).
    pub series_moved: u64,
    pub precondition_failed: u64,
    pub crashes: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.calls += o.calls;
        self.errors += o.errors;
        self.lost_answers += o.lost_answers;
        self.duplicates += o.duplicates;
        self.stale += o.stale;
        self.replays += o.replays;
        self.series_moved += o.series_moved;
        self.resets += o.resets;
        self.other_client += o.other_client;
        self.precondition_failed += o.precondition_failed;
        self.crashes += o.crashes;
    }
}

/// One content field of the three the simulation writes and follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fld {
    Title,
    Location,
    Timing,
}

pub fn timing_key(t: &Timing) -> String {
    match t {
        Timing::Timed {
            start,
            end,
            time_zone,
        } => format!("{}..{} {}", start.timestamp(), end.timestamp(), time_zone),
        Timing::AllDay { start, end } => format!("{start}..{end}"),
    }
}

pub fn value_of(ev: &RemoteEvent, f: Fld) -> String {
    match f {
        Fld::Title => ev.title.clone(),
        Fld::Location => ev.location.clone(),
        Fld::Timing => timing_key(&ev.timing),
    }
}

/// The timing of slot `slot` (every slot is a distinct start: timings never repeat).
pub fn slot_timing(slot: u64, zone: &str, minutes: i64) -> Timing {
    let start = t0() + TimeDelta::minutes(61 * slot as i64);
    Timing::Timed {
        start,
        end: start + TimeDelta::minutes(minutes),
        time_zone: zone.to_owned(),
    }
}

/// An event in the store's normal form (what `from_row` of a CLI-made row gives).
pub fn plain_event(title: String, location: String, timing: Timing) -> RemoteEvent {
    RemoteEvent {
        remote_id: String::new(),
        etag: None,
        ical_uid: None,
        kind: RemoteKind::Single,
        series: None,
        cancelled: false,
        title,
        body_text: String::new(),
        body_html: None,
        timing,
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        sensitivity: Sensitivity::Normal,
        categories: Vec::new(),
        location,
        attendees: Vec::new(),
        organizer: None,
        online_meeting: None,
        recurrence: None,
        reminder_minutes: None,
        extra: Default::default(),
    }
}

#[derive(Debug)]
pub struct Cal {
    pub info: RemoteCalendar,
    pub events: BTreeMap<String, RemoteEvent>,
    /// Remote ids in write order: what incremental rounds are cut from.
    pub log: Vec<String>,
    /// The cursor lineage; a reset starts a new one.
    pub epoch: u64,
    /// Earlier versions of each event (for stale-version faults).
    pub older: BTreeMap<String, Vec<RemoteEvent>>,
    /// Every (remote id, field, value) a write of the other client replaced, or took
    /// away with the event it deleted or cancelled: a value of ours given up for
    /// theirs, on that event only. (Not the engine's own writes: a value of ours it
    /// overwrote is lost.)
    pub given_up: BTreeSet<(String, Fld, String)>,
    /// The same for occurrences, by their series' remote id: an occurrence's instance
    /// id may be learnt and lost here within one run (its series deleted there).
    pub given_up_in_series: BTreeSet<(String, Fld, String)>,
}

/// What a round listed when it began (`snapshot_rounds`), paged out as it was.
#[derive(Debug)]
struct Snapshot {
    changes: Vec<Change>,
    /// The calendar's events when the round began: what its replays show.
    events: BTreeMap<String, RemoteEvent>,
    full: bool,
    /// The log position the round started from (for replays).
    from: usize,
    /// The log position the next round starts at.
    next: usize,
}

/// A cursor token. `Full`: a full listing that started at log position `start` and
/// has listed ids up to `after`; `Inc`: an incremental round over log `from..to`, at
/// `offset` of its distinct ids; `Snap`: a snapshot round, at `offset` of snapshot
/// `id`; `Done`: the log position the next round starts at.
enum Token {
    Full {
        start: usize,
        after: String,
    },
    Inc {
        from: usize,
        to: usize,
        offset: usize,
    },
    Snap {
        id: usize,
        offset: usize,
    },
    Done {
        pos: usize,
    },
}

fn parse_token(s: &str, epoch: u64) -> Option<Token> {
    let mut parts = s.splitn(5, ':');
    let kind = parts.next()?;
    let e: u64 = parts.next()?.parse().ok()?;
    if e != epoch {
        return None; // an older lineage: the provider no longer knows it
    }
    let num = |p: Option<&str>| p.and_then(|v| v.parse::<usize>().ok());
    match kind {
        "f" => Some(Token::Full {
            start: num(parts.next())?,
            after: parts.next()?.to_owned(),
        }),
        "i" => Some(Token::Inc {
            from: num(parts.next())?,
            to: num(parts.next())?,
            offset: num(parts.next())?,
        }),
        "s" => Some(Token::Snap {
            id: num(parts.next())?,
            offset: num(parts.next())?,
        }),
        "d" => Some(Token::Done {
            pos: num(parts.next())?,
        }),
        _ => None,
    }
}

#[derive(Debug)]
pub struct World {
    pub cals: Vec<Cal>,
    pub rng: Rng,
    pub faults: Faults,
    pub page_size: usize,
    /// Narrowed mix: full listings come in one page.
    pub one_page_full_listings: bool,
    /// Narrowed mix: resets only between rounds (never while a round is paged).
    pub resets_between_rounds_only: bool,
    /// Narrowed mix: a create never lands unanswered (no lost answer, no crash after it).
    pub creates_always_answered: bool,
    /// Each round is a snapshot of when it began (see the module's notes).
    pub snapshot_rounds: bool,
    /// The other client makes recurring series and changes their instances.
    pub series: bool,
    /// Series as Graph keeps them (drawn per case with `series`): see the module's notes.
    pub graph: bool,
    snapshots: Vec<Snapshot>,
    next_id: u64,
    next_etag: u64,
    next_value: u64,
    /// Idempotency key → (calendar, remote id) of the event our create made.
    keys: BTreeMap<String, (usize, String)>,
    key_of: BTreeMap<String, String>,
    /// Create / update / delete requests the engine sent.
    pub engine_writes: u64,
    /// A write request of the engine is being carried out (not the other client's).
    engine_writing: bool,
    /// Writes the engine attempted on the read-only calendar (I5).
    pub readonly_writes: Vec<String>,
    /// Crash when the call with this number comes (counted in `counts.calls`).
    pub crash_at: Option<u64>,
    pub crashed: bool,
    pub counts: Counts,
    /// Series the other client moved, in order (see [`SeriesMove`]).
    pub moves: Vec<SeriesMove>,
    pub tracing: bool,
    pub trace: Vec<String>,
}

/// A series the other client moved (Graph): by how much, and the occurrences Outlook
/// had cancelled then (and dropped with the move), as instants.
#[derive(Debug, Clone)]
pub struct SeriesMove {
    pub remote_id: String,
    pub by: TimeDelta,
    pub cancelled: Vec<DateTime<Utc>>,
}

impl World {
    pub fn new(seed: u64, tracing: bool) -> Self {
        let cal = |i: usize, name: &str, can_edit: bool| Cal {
            info: RemoteCalendar {
                remote_id: CAL_IDS[i].to_owned(),
                name: name.to_owned(),
                color: "#3366cc".to_owned(),
                can_edit,
                is_primary: i == MAIN,
                owner_email: (!can_edit).then(|| "boss@example.com".to_owned()),
                time_zone: Some("Europe/Berlin".to_owned()),
                extra: Map::new(),
            },
            events: BTreeMap::new(),
            log: Vec::new(),
            epoch: 0,
            older: BTreeMap::new(),
            given_up: BTreeSet::new(),
            given_up_in_series: BTreeSet::new(),
        };
        Self {
            cals: vec![cal(MAIN, "Work", true), cal(SHARED, "Boss", false)],
            rng: Rng::new(seed ^ 0x005E_ED0F_FA17),
            faults: Faults::default(),
            page_size: 3,
            one_page_full_listings: false,
            resets_between_rounds_only: false,
            creates_always_answered: false,
            snapshot_rounds: false,
            series: false,
            graph: false,
            snapshots: Vec::new(),
            next_id: 0,
            next_etag: 0,
            next_value: 0,
            keys: BTreeMap::new(),
            key_of: BTreeMap::new(),
            engine_writes: 0,
            engine_writing: false,
            readonly_writes: Vec::new(),
            crash_at: None,
            crashed: false,
            counts: Counts::default(),
            moves: Vec::new(),
            tracing,
            trace: Vec::new(),
        }
    }

    pub fn note(&mut self, line: impl FnOnce() -> String) {
        if self.tracing {
            let line = line();
            self.trace.push(format!("    provider: {line}"));
        }
    }

    /// A number never handed out before in this case (titles, locations, time slots).
    pub fn fresh(&mut self) -> u64 {
        self.next_value += 1;
        self.next_value
    }

    /// Stores `ev` as the new version of its id, with a new etag; returns it.
    fn put(&mut self, ci: usize, mut ev: RemoteEvent) -> RemoteEvent {
        self.next_etag += 1;
        ev.etag = Some(format!("\"etag-{}\"", self.next_etag));
        let c = &mut self.cals[ci];
        if let Some(old) = c.events.get(&ev.remote_id).filter(|_| !self.engine_writing) {
            for f in [Fld::Title, Fld::Location, Fld::Timing] {
                let was = value_of(old, f);
                if was != value_of(&ev, f) || (ev.cancelled && !old.cancelled) {
                    if let Some(link) = &old.series {
                        c.given_up_in_series
                            .insert((link.master_id.clone(), f, was.clone()));
                    }
                    c.given_up.insert((ev.remote_id.clone(), f, was));
                }
            }
        }
        if let Some(old) = c.events.insert(ev.remote_id.clone(), ev.clone()) {
            c.older.entry(ev.remote_id.clone()).or_default().push(old);
        }
        c.log.push(ev.remote_id.clone());
        ev
    }

    fn remove(&mut self, ci: usize, id: &str) -> bool {
        let c = &mut self.cals[ci];
        match c.events.remove(id) {
            Some(old) => {
                if !self.engine_writing && !old.cancelled {
                    for f in [Fld::Title, Fld::Location, Fld::Timing] {
                        if let Some(link) = &old.series {
                            c.given_up_in_series.insert((
                                link.master_id.clone(),
                                f,
                                value_of(&old, f),
                            ));
                        }
                        c.given_up.insert((id.to_owned(), f, value_of(&old, f)));
                    }
                }
                c.older.entry(id.to_owned()).or_default().push(old);
                c.log.push(id.to_owned());
                true
            }
            None => false,
        }
    }

    /// Ids in no particular order, as Google's (ours are derived from random keys):
    /// a listing paged by id does not show an event created behind its position.
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        // A bijection of 0..10⁶ (611,953 is prime to 10⁶), so ids stay distinct.
        format!("ev-{:06}", (self.next_id * 611_953) % 1_000_000)
    }

    /// A new event from the other client, with fresh values.
    pub fn seed_event(&mut self, ci: usize) -> RemoteEvent {
        let ev = self.new_event();
        self.put(ci, ev)
    }

    /// [`World::seed_event`]'s event, not stored yet.
    fn new_event(&mut self) -> RemoteEvent {
        let n = self.fresh();
        let location = if self.rng.per_mille(500) {
            format!("room-{}", self.fresh())
        } else {
            String::new()
        };
        let slot = self.fresh();
        let zone = self.rng.pick(&ZONES);
        let minutes = self.rng.pick(&[30, 60, 90]);
        let mut ev = plain_event(format!("R{n}"), location, slot_timing(slot, zone, minutes));
        ev.remote_id = self.new_id();
        ev.ical_uid = Some(format!("uid-{}", ev.remote_id));
        ev
    }

    /// Another client (the web UI, a phone) changes something at the provider.
    pub fn other_client(&mut self) {
        self.counts.other_client += 1;
        let ci = if self.rng.per_mille(700) {
            MAIN
        } else {
            SHARED
        };
        // Cancelled instances only hide an occurrence: nobody edits them.
        let live: Vec<String> = self.cals[ci]
            .events
            .values()
            .filter(|e| !e.cancelled)
            .map(|e| e.remote_id.clone())
            .collect();
        let n = live.len();
        let roll = self.rng.below(100);
        if n == 0 || roll < 25 {
            let ev = if self.series && self.rng.per_mille(300) {
                self.seed_series(ci)
            } else {
                self.seed_event(ci)
            };
            self.note(|| {
                format!(
                    "other client creates {} {:?} in {}{}",
                    ev.remote_id,
                    ev.title,
                    CAL_IDS[ci],
                    ev.recurrence
                        .as_ref()
                        .map(|r| format!(" ({})", r.rrule))
                        .unwrap_or_default()
                )
            });
        } else if roll < 45 && n > 1 {
            let id = live[self.rng.below(n)].clone();
            self.erase(ci, &id);
            self.note(|| format!("other client deletes {id} in {}", CAL_IDS[ci]));
        } else if (roll >= 80 && self.series && self.change_instance(ci))
            || (roll >= 75 && self.graph && self.move_series(ci))
        {
            // Noted there.
        } else {
            let id = &live[self.rng.below(n)];
            let Some(mut ev) = self.cals[ci].events.get(id).cloned() else {
                return;
            };
            // A series keeps its times: its instances are keyed by them.
            let mask = if ev.kind == RemoteKind::Master {
                1 + self.rng.below(3)
            } else {
                1 + self.rng.below(7)
            };
            if mask & 1 != 0 {
                ev.title = format!("R{}", self.fresh());
            }
            if mask & 2 != 0 {
                ev.location = format!("room-{}", self.fresh());
            }
            if mask & 4 != 0 {
                let slot = self.fresh();
                let zone = match &ev.timing {
                    Timing::Timed { time_zone, .. } => time_zone.clone(),
                    Timing::AllDay { .. } => "UTC".to_owned(),
                };
                let minutes = self.rng.pick(&[30, 60, 90]);
                ev.timing = slot_timing(slot, &zone, minutes);
            }
            let ev = self.put(ci, ev);
            self.note(|| {
                format!(
                    "other client edits {} → {:?} / {:?} / {} ({})",
                    ev.remote_id,
                    ev.title,
                    ev.location,
                    timing_key(&ev.timing),
                    ev.etag.as_deref().unwrap_or("")
                )
            });
        }
    }

    /// A new series from the other client: daily, two to five times.
    pub fn seed_series(&mut self, ci: usize) -> RemoteEvent {
        let mut ev = self.new_event();
        ev.kind = RemoteKind::Master;
        ev.recurrence = Some(RemoteRecurrence {
            rrule: daily_rule(2 + self.rng.below(4)),
            exdates: Vec::new(),
            rdates: Vec::new(),
        });
        self.put(ci, ev)
    }

    /// One of the calendar's series, picked at random.
    fn any_series(&mut self, ci: usize) -> Option<RemoteEvent> {
        let masters: Vec<&RemoteEvent> = self.cals[ci]
            .events
            .values()
            .filter(|e| e.kind == RemoteKind::Master)
            .collect();
        if masters.is_empty() {
            return None;
        }
        Some(masters[self.rng.below(masters.len())].clone())
    }

    /// Graph: the other client moves a series an hour earlier, or an hour or two
    /// later. Outlook then drops its changed and cancelled occurrences (the changed
    /// ones' events go, as deleted); false when the calendar has no series.
    fn move_series(&mut self, ci: usize) -> bool {
        let Some(mut master) = self.any_series(ci) else {
            return false;
        };
        let by = chrono::Duration::hours(self.rng.pick(&[-1, 1, 2]));
        let Timing::Timed {
            start,
            end,
            time_zone,
        } = &mut master.timing
        else {
            return false;
        };
        *start += by;
        *end += by;
        let tz = parse_zone(time_zone).ok();
        let mut cancelled = Vec::new();
        if let Some(rec) = master.recurrence.as_mut() {
            for d in rec.exdates.drain(..) {
                let at = almanac_model::time::parse_wall_time(&d)
                    .zip(tz)
                    .map(|(wall, tz)| almanac_model::time::to_instant(wall, tz));
                cancelled.extend(at);
            }
        }
        self.moves.push(SeriesMove {
            remote_id: master.remote_id.clone(),
            by,
            cancelled,
        });
        let changed: Vec<String> = self.cals[ci]
            .events
            .values()
            .filter(|e| {
                e.series
                    .as_ref()
                    .is_some_and(|l| l.master_id == master.remote_id)
            })
            .map(|e| e.remote_id.clone())
            .collect();
        for id in &changed {
            self.remove(ci, id);
        }
        let master = self.put(ci, master);
        self.counts.series_moved += 1;
        self.note(|| {
            format!(
                "other client moves series {} to {} (dropping {} changed occurrences) in {}",
                master.remote_id,
                timing_key(&master.timing),
                changed.len(),
                CAL_IDS[ci]
            )
        });
        true
    }

    /// The other client changes or cancels one instance of a series; false when the
    /// calendar has no instance to change.
    fn change_instance(&mut self, ci: usize) -> bool {
        let Some(master) = self.any_series(ci) else {
            return false;
        };
        let starts: Vec<DateTime<Utc>> = series_starts(&master)
            .into_iter()
            .filter(|at| {
                self.cals[ci]
                    .events
                    .get(&instance_id(&master.remote_id, *at))
                    .is_none_or(|e| !e.cancelled)
            })
            .collect();
        if starts.is_empty() {
            return false;
        }
        let at = starts[self.rng.below(starts.len())];
        let id = instance_id(&master.remote_id, at);
        let mut ev = match self.cals[ci].events.get(&id) {
            Some(e) => e.clone(),
            None => plain_instance(&master, at),
        };
        if self.rng.per_mille(400) {
            if self.graph {
                self.cancel_on_series(ci, &ev);
            } else {
                ev.cancelled = true;
                self.put(ci, ev);
            }
            self.note(|| format!("other client cancels instance {id} in {}", CAL_IDS[ci]));
            return true;
        }
        // An instance changed always gets a title of its own (titles stay unique).
        ev.title = format!("R{}", self.fresh());
        if self.rng.per_mille(500) {
            ev.location = format!("room-{}", self.fresh());
        }
        if self.rng.per_mille(400) {
            let zone = match &ev.timing {
                Timing::Timed { time_zone, .. } => time_zone.clone(),
                Timing::AllDay { .. } => "UTC".to_owned(),
            };
            ev.timing = slot_timing(self.fresh(), &zone, self.rng.pick(&[30, 60, 90]));
        }
        let ev = self.put(ci, ev);
        self.note(|| {
            format!(
                "other client changes instance {} → {:?} / {:?} / {} in {}",
                ev.remote_id,
                ev.title,
                ev.location,
                timing_key(&ev.timing),
                CAL_IDS[ci]
            )
        });
        true
    }

    /// Deletes `id`: an instance of a series (changed or not) stays as a cancelled
    /// exception that hides the occurrence (Google) or becomes a cancellation on its
    /// series (Graph); a series goes with its instances. False when there was nothing
    /// to delete.
    fn erase(&mut self, ci: usize, id: &str) -> bool {
        let Some(cur) = self.cals[ci]
            .events
            .get(id)
            .cloned()
            .or_else(|| self.instance_of(ci, id))
        else {
            return false;
        };
        match cur.kind {
            RemoteKind::Exception | RemoteKind::Occurrence if self.graph => {
                self.cancel_on_series(ci, &cur);
            }
            RemoteKind::Exception | RemoteKind::Occurrence => {
                if !cur.cancelled {
                    let mut ev = cur;
                    ev.cancelled = true;
                    self.put(ci, ev);
                }
            }
            RemoteKind::Master => {
                let instances: Vec<String> = self.cals[ci]
                    .events
                    .values()
                    .filter(|e| e.series.as_ref().is_some_and(|l| l.master_id == id))
                    .map(|e| e.remote_id.clone())
                    .collect();
                for i in instances {
                    self.remove(ci, &i);
                }
                self.remove(ci, id);
            }
            RemoteKind::Single => {
                self.remove(ci, id);
            }
        }
        true
    }

    /// The instance `id` names (`<series>_<start>`), as stored or, unchanged, as its
    /// series makes it; `None` when no live series has it (or it is cancelled).
    fn instance_of(&self, ci: usize, id: &str) -> Option<RemoteEvent> {
        let c = &self.cals[ci];
        if let Some(e) = c.events.get(id) {
            return (!e.cancelled && e.series.is_some()).then(|| e.clone());
        }
        let (master_id, at) = id.rsplit_once('_')?;
        let at = NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%SZ")
            .ok()?
            .and_utc();
        let master = c.events.get(master_id)?;
        let mut plain = series_starts(master)
            .contains(&at)
            .then(|| plain_instance(master, at))?;
        if self.graph {
            plain.kind = RemoteKind::Occurrence; // Graph's `type`; Google has none
        }
        Some(plain)
    }

    /// Graph: the occurrence `inst` is removed. Its series lists it as cancelled (an
    /// EXDATE here), which changes the series' etag; a changed occurrence's event goes,
    /// and the next round lists the occurrence as removed either way, as Graph's delta
    /// does.
    fn cancel_on_series(&mut self, ci: usize, inst: &RemoteEvent) {
        let Some(link) = &inst.series else {
            return;
        };
        if let (Some(mut master), OriginalStart::Timed(at)) = (
            self.cals[ci].events.get(&link.master_id).cloned(),
            &link.original_start,
        ) {
            let zone = match &master.timing {
                Timing::Timed { time_zone, .. } => parse_zone(time_zone).ok(),
                Timing::AllDay { .. } => None,
            };
            if let (Some(rec), Some(tz)) = (master.recurrence.as_mut(), zone) {
                let key = format_wall_time(to_local(*at, tz));
                if !rec.exdates.contains(&key) {
                    rec.exdates.push(key);
                    rec.exdates.sort();
                }
                self.put(ci, master);
            }
        }
        if !self.remove(ci, &inst.remote_id) {
            self.cals[ci].log.push(inst.remote_id.clone());
        }
    }

    /// A series' update took EXDATEs: its exceptions at those starts are cancelled,
    /// as the occurrences they changed are gone.
    fn cancel_excluded(&mut self, ci: usize, master: &RemoteEvent) {
        let kept = series_starts(master);
        let gone: Vec<RemoteEvent> = self.cals[ci]
            .events
            .values()
            .filter(|e| !e.cancelled)
            .filter(|e| {
                e.series.as_ref().is_some_and(|l| {
                    l.master_id == master.remote_id
                        && matches!(l.original_start, OriginalStart::Timed(at) if !kept.contains(&at))
                })
            })
            .cloned()
            .collect();
        for mut ev in gone {
            ev.cancelled = true;
            let id = ev.remote_id.clone();
            self.put(ci, ev);
            self.note(|| format!("instance {id} cancelled with its occurrence"));
        }
    }

    /// The event a create with idempotency key `key` made, if any landed.
    pub fn created_by(&self, key: &str) -> Option<&(usize, String)> {
        self.keys.get(key)
    }

    fn transient(&mut self, what: &str) -> ProviderError {
        self.counts.errors += 1;
        let mut e = match self.rng.below(3) {
            0 => {
                let mut e = ProviderError::new(ErrorKind::Throttled, "Too many requests.");
                e.status = Some(429);
                e.retry_after = Some(Duration::from_secs(1 + self.rng.below(30) as u64));
                e
            }
            1 => {
                let mut e = ProviderError::new(
                    ErrorKind::ProviderUnavailable,
                    "The provider is unavailable.",
                );
                e.status = Some(503);
                e
            }
            _ => ProviderError::new(ErrorKind::Offline, "No connection."),
        };
        e.message = format!("{} ({what})", e.message);
        let kind = e.kind;
        self.note(|| format!("{what}: transient {kind:?}"));
        e
    }

    /// One request: crash, the other client, a transient error, then `effect`, and for
    /// a write perhaps a lost answer.
    fn call<T>(
        &mut self,
        what: &str,
        write: bool,
        effect: impl FnOnce(&mut World) -> Result<T>,
    ) -> Answer<Result<T>> {
        self.counts.calls += 1;
        if self.crashed {
            return Answer::Hang;
        }
        if self.crash_at == Some(self.counts.calls) {
            self.crashed = true;
            self.counts.crashes += 1;
            let lands = write && !(what == "create" && self.creates_always_answered);
            if lands && self.rng.per_mille(500) {
                self.engine_writing = write;
                let landed = effect(self).is_ok();
                self.engine_writing = false;
                self.note(|| format!("CRASH during {what} (the write landed: {landed})"));
            } else {
                self.note(|| format!("CRASH before {what}"));
            }
            return Answer::Hang;
        }
        if self.rng.per_mille(self.faults.concurrent) {
            self.other_client();
        }
        if self.rng.per_mille(self.faults.error) {
            return Answer::Now(Err(self.transient(what)));
        }
        self.engine_writing = write;
        let out = effect(self);
        self.engine_writing = false;
        if let Err(e) = &out {
            if e.kind == ErrorKind::PreconditionFailed {
                self.counts.precondition_failed += 1;
            }
            let kind = e.kind;
            self.note(|| format!("{what}: {kind:?}"));
        }
        let may_lose = write && !(what == "create" && self.creates_always_answered);
        if may_lose && out.is_ok() && self.rng.per_mille(self.faults.lost_answer) {
            self.counts.lost_answers += 1;
            self.note(|| format!("{what}: landed, answer lost"));
            let mut e = ProviderError::new(ErrorKind::ProviderUnavailable, "The answer was lost.");
            e.status = Some(503);
            return Answer::Now(Err(e));
        }
        Answer::Now(out)
    }

    fn cal_index(cal: &RemoteCalendar) -> Result<usize> {
        CAL_IDS
            .iter()
            .position(|c| *c == cal.remote_id)
            .ok_or_else(|| ProviderError::new(ErrorKind::NotFound, "No such calendar."))
    }

    fn page(&mut self, ci: usize, cursor: Option<&str>) -> Result<ChangePage> {
        let between_rounds = cursor.is_some_and(|c| c.starts_with("d:"));
        let may_reset = cursor.is_some() && (between_rounds || !self.resets_between_rounds_only);
        if may_reset && self.rng.per_mille(self.faults.reset) {
            self.cals[ci].epoch += 1;
            self.counts.resets += 1;
            self.note(|| format!("cursor reset of {}", CAL_IDS[ci]));
        }
        let epoch = self.cals[ci].epoch;
        let len = self.cals[ci].log.len();
        let parsed = cursor.and_then(|c| parse_token(c, epoch));
        let restarted = parsed.is_none();
        let token = parsed.unwrap_or(Token::Full {
            start: len,
            after: String::new(),
        });
        let p = self.page_size.max(1);
        let token = match token {
            Token::Snap { .. } => token,
            t if self.snapshot_rounds => Token::Snap {
                id: self.take_snapshot(ci, t),
                offset: 0,
            },
            t => t,
        };
        let snapshot = match token {
            Token::Snap { id, .. } => Some(id),
            _ => None,
        };
        let c = &self.cals[ci];
        let (mut changes, next, full, from) = match token {
            Token::Full { start, after } => {
                let p = if self.one_page_full_listings {
                    usize::MAX - 1
                } else {
                    p
                };
                let ids: Vec<String> = c
                    .events
                    .range::<str, _>((Bound::Excluded(after.as_str()), Bound::Unbounded))
                    .map(|(k, _)| k.clone())
                    .take(p + 1)
                    .collect();
                let more = ids.len() > p;
                let ids = &ids[..ids.len().min(p)];
                let changes: Vec<Change> = ids
                    .iter()
                    .filter_map(|id| c.events.get(id))
                    .map(|e| Change::Upsert(Box::new(e.clone())))
                    .collect();
                let next = match ids.last() {
                    Some(last) if more => Cursor::More(format!("f:{epoch}:{start}:{last}")),
                    _ => Cursor::Done(format!("d:{epoch}:{start}")),
                };
                (changes, next, true, start)
            }
            Token::Done { pos } => self.incremental(ci, pos.min(len), len, 0, p),
            Token::Inc { from, to, offset } => {
                self.incremental(ci, from.min(len), to.min(len), offset, p)
            }
            Token::Snap { id, offset } => {
                let Some(snap) = self.snapshots.get(id) else {
                    return Err(ProviderError::new(
                        ErrorKind::InvalidRequest,
                        "No such snapshot (the simulation's cursor is damaged).",
                    ));
                };
                let p = if snap.full && self.one_page_full_listings {
                    usize::MAX - 1
                } else {
                    p
                };
                let changes = snap.changes.iter().skip(offset).take(p).cloned().collect();
                let next = if offset.saturating_add(p) < snap.changes.len() {
                    Cursor::More(format!("s:{epoch}:{id}:{}", offset + p))
                } else {
                    Cursor::Done(format!("d:{epoch}:{}", snap.next))
                };
                (changes, next, snap.full, snap.from)
            }
        };
        self.page_faults(ci, &mut changes, full, from, snapshot);
        Ok(ChangePage {
            changes,
            cursor: next,
            full_listing: full,
            restarted,
            unreadable: Vec::new(),
        })
    }

    /// Fixes what the round `token` begins will list, as it is now; returns its id.
    fn take_snapshot(&mut self, ci: usize, token: Token) -> usize {
        let c = &self.cals[ci];
        let len = c.log.len();
        let snap = match token {
            Token::Full { start, .. } => Snapshot {
                changes: c
                    .events
                    .values()
                    .map(|e| Change::Upsert(Box::new(e.clone())))
                    .collect(),
                events: c.events.clone(),
                full: true,
                from: start,
                next: start,
            },
            Token::Snap { .. } => unreachable!("a snapshot round is already under way"),
            Token::Done { pos: from } | Token::Inc { from, .. } => {
                let from = from.min(len);
                let mut seen = BTreeSet::new();
                Snapshot {
                    changes: c.log[from..]
                        .iter()
                        .filter(|id| seen.insert(id.as_str()))
                        .map(|id| current(c, id))
                        .collect(),
                    events: c.events.clone(),
                    full: false,
                    from,
                    next: len,
                }
            }
        };
        self.snapshots.push(snap);
        self.snapshots.len() - 1
    }

    fn incremental(
        &self,
        ci: usize,
        from: usize,
        to: usize,
        offset: usize,
        p: usize,
    ) -> (Vec<Change>, Cursor, bool, usize) {
        let c = &self.cals[ci];
        let epoch = c.epoch;
        let mut seen = BTreeSet::new();
        let ids: Vec<&String> = c.log[from.min(to)..to]
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .collect();
        let changes = ids
            .iter()
            .skip(offset)
            .take(p)
            .map(|id| current(c, id))
            .collect();
        let next = if offset + p < ids.len() {
            Cursor::More(format!("i:{epoch}:{from}:{to}:{}", offset + p))
        } else {
            Cursor::Done(format!("d:{epoch}:{to}"))
        };
        (changes, next, false, from)
    }

    /// Duplicates, stale-then-current versions and replays of earlier rounds. None
    /// shows a version newer than the round's own (in a snapshot round, newer than its
    /// snapshot): a provider's round does not jump ahead of itself and back.
    fn page_faults(
        &mut self,
        ci: usize,
        changes: &mut Vec<Change>,
        full: bool,
        from: usize,
        snapshot: Option<usize>,
    ) {
        if !changes.is_empty() && self.rng.per_mille(self.faults.duplicate) {
            let i = self.rng.below(changes.len());
            let j = self.rng.below(changes.len() + 1);
            let dup = changes[i].clone();
            changes.insert(j, dup);
            self.counts.duplicates += 1;
        }
        if self.rng.per_mille(self.faults.stale) {
            let with_older: Vec<(usize, RemoteEvent)> = changes
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    Change::Upsert(ev) => {
                        let older = self.cals[ci].older.get(&ev.remote_id)?;
                        // Versions before the one listed (a snapshot's may be old).
                        let listed = older
                            .iter()
                            .position(|o| o.etag == ev.etag)
                            .unwrap_or(older.len());
                        older[..listed].last().map(|o| (i, o.clone()))
                    }
                    Change::Removed { .. } => None,
                })
                .collect();
            if !with_older.is_empty() {
                let (i, old) = with_older[self.rng.below(with_older.len())].clone();
                let j = self.rng.below(i + 1);
                changes.insert(j, Change::Upsert(Box::new(old)));
                self.counts.stale += 1;
            }
        }
        if self.rng.per_mille(self.faults.replay) {
            let c = &self.cals[ci];
            let events = match snapshot.and_then(|id| self.snapshots.get(id)) {
                Some(snap) => &snap.events,
                None => &c.events,
            };
            let replay = if full {
                let n = events.len();
                let i = self.rng.below(n);
                events
                    .values()
                    .nth(i)
                    .map(|e| Change::Upsert(Box::new(e.clone())))
            } else if from > 0 {
                let id = &c.log[self.rng.below(from)];
                Some(version(events, id))
            } else {
                None
            };
            if let Some(r) = replay {
                let j = self.rng.below(changes.len() + 1);
                changes.insert(j, r);
                self.counts.replays += 1;
            }
        }
    }

    fn create(&mut self, ci: usize, ev: &RemoteEvent, key: &str) -> Result<RemoteEvent> {
        if let Some((kc, id)) = self.keys.get(key).cloned() {
            return match self.cals[kc].events.get(&id) {
                Some(e) => Ok(e.clone()),
                // Graph's `transactionId` names no event any more: it makes one.
                None if self.graph => {
                    self.keys.remove(key);
                    self.create(ci, ev, key)
                }
                None => {
                    let mut e = ProviderError::new(
                        ErrorKind::Conflict,
                        "The provider already had this event and it has since been deleted.",
                    );
                    e.status = Some(409);
                    e.provider_code = Some("duplicate".into());
                    Err(e)
                }
            };
        }
        let mut ev = ev.clone();
        ev.remote_id = self.new_id();
        ev.ical_uid = Some(format!("uid-{}", ev.remote_id));
        if self.graph {
            // Graph makes a series whole: occurrences are removed one by one after.
            if let Some(rec) = ev.recurrence.as_mut() {
                rec.exdates.clear();
            }
        }
        self.keys.insert(key.to_owned(), (ci, ev.remote_id.clone()));
        self.key_of.insert(ev.remote_id.clone(), key.to_owned());
        let ev = self.put(ci, ev);
        self.note(|| format!("create {} {:?} (key {key})", ev.remote_id, ev.title));
        Ok(ev)
    }

    fn update(&mut self, ci: usize, ev: &RemoteEvent, etag: &str) -> Result<RemoteEvent> {
        // An unchanged instance of a series is there to update too (Google), and so is
        // a cancelled one (it stays cancelled unless the update says otherwise).
        let Some(cur) = self
            .instance_of(ci, &ev.remote_id)
            .or_else(|| self.cals[ci].events.get(&ev.remote_id).cloned())
        else {
            let mut e = ProviderError::new(ErrorKind::NotFound, "No such event.");
            e.status = Some(404);
            return Err(e);
        };
        if cur.etag.as_deref() != Some(etag) {
            let mut e = ProviderError::new(ErrorKind::PreconditionFailed, "The event changed.");
            e.status = Some(412);
            return Err(e);
        }
        let mut new = ev.clone();
        new.ical_uid = cur.ical_uid.clone();
        new.kind = match cur.kind {
            RemoteKind::Occurrence => RemoteKind::Exception, // changed, it is one
            kind => kind,
        };
        new.series = cur.series.clone();
        if cur.series.is_some() {
            new.recurrence = None;
        }
        let mut dropped = Vec::new();
        if self.graph {
            // Graph's series keeps its cancellations: an update cannot remove an
            // occurrence (deleting the instance does) …
            if let (Some(rec), Some(was)) = (new.recurrence.as_mut(), cur.recurrence.as_ref()) {
                rec.exdates = was.exdates.clone();
                // … unless it moves the series or changes its pattern: Outlook then
                // drops its changed and cancelled occurrences, as for another client
                // (`move_series`; the fake cloud's Graph does the same).
                if rec.rrule != was.rrule || !same_instants(&new.timing, &cur.timing) {
                    rec.exdates.clear();
                    dropped = self.cals[ci]
                        .events
                        .values()
                        .filter(|e| {
                            e.series
                                .as_ref()
                                .is_some_and(|l| l.master_id == cur.remote_id)
                        })
                        .map(|e| e.remote_id.clone())
                        .collect();
                }
            }
        }
        for id in &dropped {
            self.remove(ci, id);
        }
        let new = self.put(ci, new);
        if new.kind == RemoteKind::Master && !self.graph {
            self.cancel_excluded(ci, &new);
        }
        self.note(|| {
            format!(
                "update {} → {:?} / {:?} / {}{} ({}){}",
                new.remote_id,
                new.title,
                new.location,
                timing_key(&new.timing),
                new.recurrence
                    .as_ref()
                    .map(|r| format!(" {} EXDATE {:?}", r.rrule, r.exdates))
                    .unwrap_or_default(),
                new.etag.as_deref().unwrap_or(""),
                if dropped.is_empty() {
                    String::new()
                } else {
                    format!(" dropping {} changed occurrences", dropped.len())
                }
            )
        });
        Ok(new)
    }

    fn delete(&mut self, ci: usize, id: &str, etag: Option<&str>) -> Result<Deleted> {
        // An unchanged instance of a series is there to delete too.
        let Some(cur) = self.cals[ci]
            .events
            .get(id)
            .filter(|e| !e.cancelled)
            .cloned()
            .or_else(|| self.instance_of(ci, id))
        else {
            return Ok(Deleted::AlreadyGone); // success
        };
        if etag.is_some() && cur.etag.as_deref() != etag {
            let mut e = ProviderError::new(ErrorKind::PreconditionFailed, "The event changed.");
            e.status = Some(412);
            return Err(e);
        }
        self.erase(ci, id);
        self.note(|| format!("delete {id}"));
        Ok(Deleted::Now)
    }

    /// A write request of the engine: counted, and refused on the read-only calendar.
    fn writable(&mut self, ci: usize, what: &str) -> Result<()> {
        self.engine_writes += 1;
        if self.cals[ci].info.can_edit {
            return Ok(());
        }
        self.readonly_writes
            .push(format!("{what} in read-only {}", CAL_IDS[ci]));
        let mut e = ProviderError::new(ErrorKind::Forbidden, "The calendar is read-only.");
        e.status = Some(403);
        Err(e)
    }
}

/// The rule of every series here: daily, `count` times. (The simulation's times fall
/// in weeks without a DST change in any of [`ZONES`], so each instance is the first
/// plus whole days.)
pub fn daily_rule(count: usize) -> String {
    format!("FREQ=DAILY;COUNT={count}")
}

/// The count of a [`daily_rule`] (in any order of its parts, as a store may write it).
fn daily_count(rule: &str) -> Option<usize> {
    let parts: Vec<&str> = rule.trim_start_matches("RRULE:").split(';').collect();
    if !parts.contains(&"FREQ=DAILY") {
        return None;
    }
    parts
        .iter()
        .find_map(|p| p.strip_prefix("COUNT="))
        .and_then(|n| n.parse().ok())
}

/// Google's id of the instance of series `master_id` that starts at `at`.
pub fn instance_id(master_id: &str, at: DateTime<Utc>) -> String {
    format!("{master_id}_{}", at.format("%Y%m%dT%H%M%SZ"))
}

/// The starts of the instances `master`'s rule keeps (its EXDATEs left out).
pub fn series_starts(master: &RemoteEvent) -> Vec<DateTime<Utc>> {
    let (
        Some(rec),
        Timing::Timed {
            start, time_zone, ..
        },
    ) = (&master.recurrence, &master.timing)
    else {
        return Vec::new();
    };
    let (Some(count), Ok(tz)) = (daily_count(&rec.rrule), parse_zone(time_zone)) else {
        return Vec::new();
    };
    (0..count)
        .map(|k| *start + TimeDelta::days(k as i64))
        .filter(|at| {
            let wall = format_wall_time(to_local(*at, tz));
            !rec.exdates.iter().any(|x| x.get(..16) == wall.get(..16))
        })
        .collect()
}

/// The instance of `master` at `at` as the series makes it (not stored: Google
/// answers for it with the series' etag).
fn plain_instance(master: &RemoteEvent, at: DateTime<Utc>) -> RemoteEvent {
    let mut ev = master.clone();
    ev.remote_id = instance_id(&master.remote_id, at);
    ev.kind = RemoteKind::Exception;
    ev.series = Some(SeriesLink {
        master_id: master.remote_id.clone(),
        original_start: OriginalStart::Timed(at),
    });
    ev.recurrence = None;
    if let Timing::Timed {
        start,
        end,
        time_zone,
    } = &master.timing
    {
        ev.timing = Timing::Timed {
            start: at,
            end: at + (*end - *start),
            time_zone: time_zone.clone(),
        };
    }
    ev
}

/// One occurrence a calendar shows: start, end (Unix seconds), title, location.
pub type Shown = (i64, i64, String, String);

/// Everything `events` show between `from` and `to`, occurrence by occurrence: single
/// events, the instances of each series its rule keeps and no exception replaces,
/// and the exceptions that are not cancelled. What the calendar's owner sees, to
/// compare with this computer's view (no phantom or lost instances).
pub fn shown(events: &BTreeMap<String, RemoteEvent>, from: i64, to: i64) -> Vec<Shown> {
    let mut out = Vec::new();
    let mut push = |ev: &RemoteEvent, start: DateTime<Utc>, end: DateTime<Utc>| {
        let (s, e) = (start.timestamp(), end.timestamp());
        if s < to && e > from {
            out.push((s, e, ev.title.clone(), ev.location.clone()));
        }
    };
    for ev in events.values() {
        let Timing::Timed { start, end, .. } = &ev.timing else {
            continue; // the simulation's events are timed
        };
        match ev.kind {
            RemoteKind::Single => push(ev, *start, *end),
            RemoteKind::Master => {
                for at in series_starts(ev) {
                    if !events.contains_key(&instance_id(&ev.remote_id, at)) {
                        push(ev, at, at + (*end - *start));
                    }
                }
            }
            RemoteKind::Exception | RemoteKind::Occurrence => {
                let kept = ev.series.as_ref().is_some_and(|l| {
                    events.get(&l.master_id).is_some_and(|m| {
                        matches!(l.original_start, OriginalStart::Timed(at) if series_starts(m).contains(&at))
                    })
                });
                if kept && !ev.cancelled {
                    push(ev, *start, *end);
                }
            }
        }
    }
    out.sort();
    out
}

fn current(c: &Cal, id: &str) -> Change {
    version(&c.events, id)
}

/// Event `id` as `events` hold it (removed when they do not).
fn version(events: &BTreeMap<String, RemoteEvent>, id: &str) -> Change {
    match events.get(id) {
        Some(e) => Change::Upsert(Box::new(e.clone())),
        None => Change::Removed {
            remote_id: id.to_owned(),
        },
    }
}

enum Answer<T> {
    Now(T),
    /// The call never answers: the client crashed while it was out.
    Hang,
}

fn answer<'a, T: Send + 'a>(a: Answer<T>) -> BoxFuture<'a, T> {
    match a {
        Answer::Now(v) => Box::pin(std::future::ready(v)),
        Answer::Hang => Box::pin(std::future::pending()),
    }
}

#[derive(Debug)]
pub struct SimProvider {
    world: Mutex<World>,
}

impl SimProvider {
    pub fn new(world: World) -> Self {
        Self {
            world: Mutex::new(world),
        }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl CalendarProvider for SimProvider {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>> {
        let a = self.world().call("list_calendars", false, |w| {
            Ok(w.cals.iter().map(|c| c.info.clone()).collect())
        });
        answer(a)
    }

    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        _window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>> {
        let a = self.world().call("changes", false, |w| {
            let ci = World::cal_index(calendar)?;
            let page = w.page(ci, cursor)?;
            w.note(|| {
                let items: Vec<String> = page
                    .changes
                    .iter()
                    .map(|c| match c {
                        Change::Upsert(e) => format!(
                            "{}={:?}/{}",
                            e.remote_id,
                            e.title,
                            e.etag.as_deref().unwrap_or("")
                        ),
                        Change::Removed { remote_id } => format!("-{remote_id}"),
                    })
                    .collect();
                format!(
                    "changes {} from {cursor:?}: full={} [{}] → {:?}",
                    CAL_IDS[ci],
                    page.full_listing,
                    items.join(", "),
                    page.cursor
                )
            });
            Ok(page)
        });
        answer(a)
    }

    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        let a = self.world().call("event", false, |w| {
            let ci = World::cal_index(calendar)?;
            // Like Google's `get`, also an unchanged instance by its id.
            Ok(w.cals[ci]
                .events
                .get(remote_id)
                .cloned()
                .or_else(|| w.instance_of(ci, remote_id)))
        });
        answer(a)
    }

    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        let a = self.world().call("instance", false, |w| {
            let ci = World::cal_index(calendar)?;
            Ok(match original_start {
                OriginalStart::Timed(at) => w.instance_of(ci, &instance_id(master_id, *at)),
                OriginalStart::AllDay(_) => None, // the simulation's series are timed
            })
        });
        answer(a)
    }

    fn exdates_in_rule(&self) -> bool {
        !self.world().graph
    }

    fn creation_key(&self, event: &RemoteEvent) -> Option<String> {
        self.world().key_of.get(&event.remote_id).cloned()
    }

    fn create<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        let a = self.world().call("create", true, |w| {
            let ci = World::cal_index(calendar)?;
            w.writable(ci, "create")?;
            w.create(ci, event, idempotency_key)
        });
        answer(a)
    }

    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        let a = self.world().call("update", true, |w| {
            let ci = World::cal_index(calendar)?;
            w.writable(ci, "update")?;
            w.update(ci, event, etag)
        });
        answer(a)
    }

    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Deleted>> {
        let a = self.world().call("delete", true, |w| {
            let ci = World::cal_index(calendar)?;
            w.writable(ci, "delete")?;
            w.delete(ci, remote_id, etag)
        });
        answer(a)
    }
}

/// Whether two timings start and end at the same instants (Outlook's test of a moved
/// series: a zone spelled otherwise moves nothing).
fn same_instants(a: &Timing, b: &Timing) -> bool {
    match (a, b) {
        (
            Timing::Timed { start, end, .. },
            Timing::Timed {
                start: s2, end: e2, ..
            },
        ) => start == s2 && end == e2,
        _ => a == b,
    }
}
