//! Series at Outlook changed on both sides, end to end against the fake cloud's Graph
//! (issue 5). A series another client moves, which drops the series' changed
//! occurrences with the move (I1): what waited here on one of them must not be lost
//! with it. A series another client deletes while one of its occurrences is changed
//! here (I7): the user's answer for the series answers the occurrence's conflict.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[allow(dead_code)]
#[path = "common/meddled.rs"]
mod meddled;
#[path = "common/policy.rs"]
mod policy;
#[path = "common/signed_in.rs"]
mod signed_in;

use almanac_fakecloud::SharedState;
use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, RangeQuery,
    RecurrenceInput, ShowAs,
};
use almanac_provider::{CalendarProvider, OriginalStart, RemoteCalendar, RemoteEvent};
use almanac_store::{Source, Store};
use almanac_sync::{resolve_conflict, sync_account, Choice, RunSummary};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::sync::Mutex;

use cloud::{Cloud, Kind, EMAIL};
use meddled::{Meddled, Moment};
use policy::set_primary_policy;
use signed_in::signed_in;

const SERIES: &str = "Weekly pipeline review";
const CHANGED: &str = "Pipeline review, moved to Room 2 on the phone";
const RENAMED: &str = "Pipeline review with the customer";
const MADE_HERE: &str = "Onboarding check-in";
/// More instances than a page of the Graph client's listing (100).
const LONG: i64 = 150;

/// `t` as a UTC wall time, as Graph's `dateTime` and the store's inputs write it.
fn wall(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

struct Harness {
    cloud: Cloud,
    graph: Box<dyn CalendarProvider>,
    store: Mutex<Store>,
    account: String,
    rt: tokio::runtime::Runtime,
    /// The series' first start (a whole minute, UTC).
    first: DateTime<Utc>,
    /// How many days the series has.
    days: i64,
    /// The most listing pages a run takes (`None`: the client's default).
    pages: std::cell::Cell<Option<usize>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// A daily series of three at Outlook, seeded by another client and synced here.
    fn new() -> Harness {
        Harness::with_days(3)
    }

    /// A daily series of `days` at Outlook, seeded by another client and synced here.
    fn with_days(days: i64) -> Harness {
        let cloud = Cloud::start().with_graph_user();
        let first = Utc::now() + TimeDelta::days(2);
        let first = DateTime::from_timestamp(first.timestamp() / 60 * 60, 0).expect("a time");
        let seed = json!({
            "email": EMAIL,
            "event": {
                "subject": SERIES,
                "start": {"dateTime": wall(first), "timeZone": "UTC"},
                "end": {"dateTime": wall(first + TimeDelta::minutes(30)), "timeZone": "UTC"},
                "recurrence": {
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "startDate": first.date_naive().to_string(), "numberOfOccurrences": days},
                },
            },
        });
        let seed = serde_json::from_value(seed).expect("seed spec");
        cloud.state.graph_seed_event(seed).expect("seed the series");
        let graph = cloud.provider(Kind::Graph);
        let (dir, store, account) = signed_in(Provider::Microsoft, EMAIL, Utc::now());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let h = Harness {
            cloud,
            graph,
            store,
            account,
            rt,
            first,
            days,
            pages: std::cell::Cell::new(None),
            _dir: dir,
        };
        h.run();
        h
    }

    /// A run that finds nothing to do, after one that takes in the last one's echoes.
    fn assert_quiet(&self) {
        self.run();
        let s = self.run();
        assert_eq!((s.pulled, s.pushed, s.conflicts), (0, 0, 0), "{s:?}");
    }

    /// The title of the occurrence on the series' second day here (any time), if any.
    fn second_day_here(&self) -> Option<String> {
        self.day_here(1)
    }

    /// The title of the occurrence on the series' day `n` (from 0) here, if any.
    fn day_here(&self, n: i64) -> Option<String> {
        let day = self.first + TimeDelta::days(n);
        let q = RangeQuery {
            from: (day - TimeDelta::hours(2)).to_rfc3339(),
            to: (day + TimeDelta::hours(4)).to_rfc3339(),
            calendar_ids: None,
        };
        let mut store = self.store.lock().expect("store");
        let found = store.list_occurrences(&q).expect("range");
        assert!(found.len() <= 1, "{found:?}");
        found.into_iter().next().map(|o| o.title)
    }

    /// How many live instances titled `title` the provider shows around the series.
    fn titled(&self, title: &str) -> usize {
        self.live_there()
            .iter()
            .filter(|e| e["subject"] == title)
            .count()
    }

    /// The live (not cancelled) instances the provider shows around the series, as
    /// `calendarView` renders them.
    fn live_there(&self) -> Vec<serde_json::Value> {
        let from = (self.first - TimeDelta::days(1)).naive_utc();
        let to = (self.first + TimeDelta::days(5)).naive_utc();
        let view = self
            .cloud
            .state
            .graph_instances(EMAIL, from, to)
            .expect("instances");
        view["value"]
            .as_array()
            .expect("instances")
            .iter()
            .filter(|e| e["isCancelled"] != true)
            .cloned()
            .collect()
    }

    /// See [`delete_here`].
    fn delete_here(&self, id: &str, original_start: Option<String>) {
        delete_here(&self.store, id, original_start);
    }

    fn run(&self) -> RunSummary {
        let s = self.run_unchecked();
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    }

    /// One run, which may fail.
    fn run_unchecked(&self) -> RunSummary {
        self.run_with(&*self.graph)
    }

    /// One run through `provider`, which may fail.
    fn run_with(&self, provider: &dyn CalendarProvider) -> RunSummary {
        let mut options = Kind::Graph.options();
        if let Some(pages) = self.pages.get() {
            options.max_pages = pages;
        }
        self.rt
            .block_on(sync_account(
                &self.store,
                provider,
                &self.account,
                &options,
                &Utc::now,
            ))
            .expect("run")
    }

    fn calendar(&self) -> RemoteCalendar {
        self.rt
            .block_on(self.graph.list_calendars())
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("the default calendar")
    }

    /// The series' (local id, provider id).
    fn series(&self) -> (String, String) {
        let store = self.store.lock().expect("store");
        store
            .sync_calendars(None)
            .expect("calendars")
            .iter()
            .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
            .find(|e| {
                e.row
                    .as_ref()
                    .is_some_and(|r| r.input.title == SERIES && r.input.recurrence.is_some())
            })
            .map(|e| (e.local_id, e.remote_id.expect("synced")))
            .expect("the series here")
    }

    /// The starts of the series' live occurrences at the provider.
    fn starts_there(&self) -> Vec<String> {
        self.starts_there_of(&[SERIES, CHANGED, RENAMED])
    }

    /// The starts of the live instances titled one of `titles` at the provider.
    fn starts_there_of(&self, titles: &[&str]) -> Vec<String> {
        let mut starts: Vec<String> = self
            .live_there()
            .iter()
            .filter(|e| titles.iter().any(|t| e["subject"] == *t))
            .filter_map(|e| e["start"]["dateTime"].as_str())
            .map(|s| s.chars().take(19).collect())
            .collect();
        starts.sort();
        starts
    }

    /// The starts of the series' occurrences shown here.
    fn starts_here(&self) -> Vec<String> {
        self.starts_here_of(&[SERIES, CHANGED, RENAMED])
    }

    /// The starts of the occurrences titled one of `titles` shown here.
    fn starts_here_of(&self, titles: &[&str]) -> Vec<String> {
        let q = RangeQuery {
            from: (self.first - TimeDelta::days(1)).to_rfc3339(),
            to: (self.first + TimeDelta::days(5)).to_rfc3339(),
            calendar_ids: None,
        };
        let mut store = self.store.lock().expect("store");
        let mut starts: Vec<String> = store
            .list_occurrences(&q)
            .expect("range")
            .into_iter()
            .filter(|o| titles.contains(&o.title.as_str()))
            .map(|o| {
                let at = DateTime::parse_from_rfc3339(&o.start).expect("an instant");
                wall(at.to_utc())
            })
            .collect();
        starts.sort();
        starts
    }
}

/// Deletes event `id` here: the occurrence at `original_start` of it, or (`None`) all
/// of it.
fn delete_here(store: &Mutex<Store>, id: &str, original_start: Option<String>) {
    let scope = match original_start {
        Some(_) => EditScope::Occurrence,
        None => EditScope::All,
    };
    let target = EventTarget {
        id: id.to_owned(),
        scope,
        original_start,
    };
    store
        .lock()
        .expect("store")
        .delete_event(target, Source::Cli, Utc::now())
        .expect("delete here");
}

/// What the user does here after deleting the occurrence, before the phone moves the
/// series.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    Nothing,
    /// Changes that occurrence (shown as its series makes it while the conflict
    /// waits): a change that stands for it.
    Renames,
}

/// An answer to a series' instances that is no list (an error object in a 200) is a
/// failure, not "the series has no such instance": read as that, the pusher deleted
/// what it held of it here, or met a cancellation nobody made.
#[test]
fn instances_answered_without_a_list_are_a_failure_not_no_instance() {
    let h = Harness::new();
    let (_, master_remote) = h.series();
    let second = h.first + TimeDelta::days(1);
    let calendar = h.calendar();
    let fault = json!({"add": [{"kind": "empty_object", "path_contains": "/instances"}]});
    h.cloud
        .state
        .graph_set_faults(serde_json::from_value(fault).expect("fault"))
        .expect("set the fault");
    let ask = || {
        h.rt.block_on(
            h.graph
                .instance(&calendar, &master_remote, &OriginalStart::Timed(second)),
        )
    };
    let err = ask().expect_err("no list is no answer");
    assert_eq!(err.kind, almanac_provider::ErrorKind::ProviderUnavailable);
    assert!(
        ask().expect("asked again").is_some(),
        "the instance is there"
    );
}

/// The phone changes the series' second occurrence, the user deletes it here (a
/// delete/edit conflict, its removal held apart from the series) and does `then`; the
/// phone moves the whole series an hour later, which makes Outlook drop the changed
/// occurrence; a run, then `choice` on the conflicts still open, then a run. Returns
/// the harness and what the series' second day has here after the first run: no
/// occurrence, or its title.
fn deleted_against_a_change_then_moved(then: Then, choice: &Choice) -> (Harness, Option<String>) {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    let second = h.first + TimeDelta::days(1);
    let calendar = h.calendar();
    let instance =
        h.rt.block_on(
            h.graph
                .instance(&calendar, &master_remote, &OriginalStart::Timed(second)),
        )
        .expect("instance")
        .expect("the second occurrence");
    let edit = json!({"email": EMAIL, "id": instance.remote_id, "patch": {"subject": CHANGED}});
    let edit = serde_json::from_value(edit).expect("edit spec");
    h.cloud
        .state
        .graph_edit_event(edit)
        .expect("change it on the phone");
    let target = EventTarget {
        id: master.clone(),
        scope: EditScope::Occurrence,
        original_start: Some(wall(second)),
    };
    h.store
        .lock()
        .expect("store")
        .delete_event(target, Source::Cli, Utc::now())
        .expect("delete it here");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    if then == Then::Renames {
        h.rename_second_here(&master);
    }
    // The phone moves the series an hour later.
    let patch = json!({
        "start": {"dateTime": later(h.first), "timeZone": "UTC"},
        "end": {"dateTime": later(h.first + TimeDelta::minutes(30)), "timeZone": "UTC"},
    });
    let edit = json!({"email": EMAIL, "id": master_remote, "patch": patch});
    let edit = serde_json::from_value(edit).expect("edit spec");
    h.cloud
        .state
        .graph_edit_event(edit)
        .expect("move it on the phone");
    h.run();
    let day = h.second_day_here();
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    // Deleted on both sides now (their change dropped by the move): still listed,
    // nothing left to restore or delete.
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "delete_edit");
    resolve_conflict(&h.store, &open[0].id, choice, Utc::now()).expect("resolve");
    h.run();
    (h, day)
}

/// `t` an hour later, as a wall time: where the phone moves the series.
fn later(t: DateTime<Utc>) -> String {
    wall(t + TimeDelta::hours(1))
}

/// The deletion here has nothing left against it once Outlook dropped their change: it
/// moves with the series and goes out in the same run. It used to be lost — the day's
/// occurrence back at its new time on both sides, even after Keep mine.
#[test]
fn an_occurrence_deleted_here_against_a_change_there_stays_deleted_when_the_series_moves() {
    let (h, day) = deleted_against_a_change_then_moved(Then::Nothing, &Choice::KeepMine);
    assert_eq!(day, None, "gone here after the move's run");
    let kept = vec![later(h.first), later(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    h.assert_quiet();
}

/// Keep theirs, once their change is gone, has nothing to bring back.
#[test]
fn keep_theirs_after_outlook_dropped_their_change_brings_nothing_back() {
    let (h, _) = deleted_against_a_change_then_moved(Then::Nothing, &Choice::KeepTheirs);
    let kept = vec![later(h.first), later(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    assert_eq!(h.titled(CHANGED), 0);
    h.assert_quiet();
}

/// An occurrence changed here again after its deletion stands for it: the move takes
/// the change along, and the deletion is not put back.
#[test]
fn an_occurrence_changed_again_after_its_deletion_keeps_the_change_when_the_series_moves() {
    let (h, day) = deleted_against_a_change_then_moved(Then::Renames, &Choice::KeepTheirs);
    assert_eq!(day.as_deref(), Some(RENAMED));
    let all = vec![
        later(h.first),
        later(h.first + TimeDelta::days(1)),
        later(h.first + TimeDelta::days(2)),
    ];
    assert_eq!(h.starts_there(), all, "the provider");
    assert_eq!(h.starts_here(), all, "here");
    assert_eq!(h.titled(RENAMED), 1);
    assert_eq!(h.titled(CHANGED), 0);
    h.assert_quiet();
}

/// A series made here whose create's answer is lost, one of its occurrences deleted
/// here before the next run, and moved an hour later on the phone meanwhile: the run
/// that finds it at the provider takes the move (a change made there since it landed)
/// and the deletion moves with it — it used to stay at the old time, which the moved
/// series no longer has, and the occurrence stayed (simulation seed 12747).
#[test]
fn an_occurrence_deleted_before_our_lost_create_is_found_moved_stays_deleted() {
    lost_create_then(Moved::There);
}

/// The same moved here instead (the provider has what was sent): ours wins, and the
/// deletion stays where the series is here.
#[test]
fn an_occurrence_deleted_after_our_lost_create_was_moved_here_stays_deleted() {
    lost_create_then(Moved::Here);
}

/// Who moves the series made here an hour later, after its create's answer is lost.
#[derive(Clone, Copy, PartialEq)]
enum Moved {
    Here,
    There,
}

/// A series made here, its create's answer lost, moved (`moved`) and its second
/// occurrence deleted here; a run links it, and both sides keep the first and third
/// occurrences at the new time.
fn lost_create_then(moved: Moved) {
    let h = Harness::new();
    let start = h.first + TimeDelta::hours(3);
    let calendar = {
        let store = h.store.lock().expect("store");
        store
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("the default calendar")
            .id
    };
    let id = h
        .store
        .lock()
        .expect("store")
        .create_event(
            EventInput {
                calendar_id: calendar,
                title: MADE_HERE.into(),
                all_day: false,
                start: wall(start),
                end: wall(start + TimeDelta::minutes(30)),
                time_zone: "UTC".into(),
                recurrence: Some(RecurrenceInput {
                    rrule: "FREQ=DAILY;COUNT=3".into(),
                    exdates: vec![],
                    rdates: vec![],
                }),
                location: String::new(),
                description: String::new(),
                show_as: ShowAs::Busy,
                importance: Importance::Normal,
                categories: Vec::new(),
            },
            Source::Cli,
            Utc::now(),
        )
        .expect("create the series here")
        .id;
    // The create lands; its answer does not come back.
    let fault = json!({"add": [{
        "kind": "drop_connection",
        "method": "POST",
        "path_contains": "/events",
        "after_processing": true,
        "count": 50,
    }]});
    h.cloud
        .state
        .graph_set_faults(serde_json::from_value(fault).expect("fault"))
        .expect("set the fault");
    let s =
        h.rt.block_on(sync_account(
            &h.store,
            &*h.graph,
            &h.account,
            &Kind::Graph.options(),
            &Utc::now,
        ))
        .expect("run");
    assert!(s.calendars.iter().any(|c| c.error.is_some()), "{s:?}");
    let clear = serde_json::from_value(json!({"clear": true})).expect("clear");
    h.cloud
        .state
        .graph_set_faults(clear)
        .expect("clear the fault");
    assert_eq!(
        h.starts_there_of(&[MADE_HERE]).len(),
        3,
        "the create landed"
    );
    // Moved an hour later (here: the whole series, before its occurrence is
    // deleted), and the second occurrence deleted here.
    let first_here = match moved {
        Moved::Here => start + TimeDelta::hours(1),
        Moved::There => start,
    };
    let second = first_here + TimeDelta::days(1);
    if moved == Moved::Here {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&id).expect("the series").input;
        input.start = later(start);
        input.end = later(start + TimeDelta::minutes(30));
        let change = EventChange {
            id: id.clone(),
            scope: EditScope::All,
            original_start: None,
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("move it here");
    }
    h.store
        .lock()
        .expect("store")
        .delete_event(
            EventTarget {
                id,
                scope: EditScope::Occurrence,
                original_start: Some(wall(second)),
            },
            Source::Cli,
            Utc::now(),
        )
        .expect("delete it here");
    if moved == Moved::There {
        let events = h.cloud.state.graph_events(EMAIL).expect("events");
        let remote = events["value"]
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["subject"] == MADE_HERE)
            .and_then(|e| e["id"].as_str())
            .expect("the series there")
            .to_owned();
        let patch = json!({
            "start": {"dateTime": later(start), "timeZone": "UTC"},
            "end": {"dateTime": later(start + TimeDelta::minutes(30)), "timeZone": "UTC"},
        });
        let edit = json!({"email": EMAIL, "id": remote, "patch": patch});
        h.cloud
            .state
            .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
            .expect("move it on the phone");
    }
    h.run();
    let kept = vec![later(start), later(start + TimeDelta::days(2))];
    assert_eq!(h.starts_there_of(&[MADE_HERE]), kept, "the provider");
    assert_eq!(h.starts_here_of(&[MADE_HERE]), kept, "here");
    h.assert_quiet();
}

/// How the phone deletes the series whose second occurrence it changed and this
/// computer changed again.
#[derive(Clone, Copy, PartialEq)]
enum Deleted {
    /// That occurrence first (a run between), then the series.
    OccurrenceThenSeries,
    /// The series at once: Outlook lists the changed instance's removal with it.
    Series,
}

/// The phone changes the series' second occurrence, a run, this computer changes it
/// again (to [`RENAMED`]), the phone deletes as `deleted` says, with a run after each
/// deletion. Returns the harness and the series' local id.
fn changed_here_then_deleted_there(deleted: Deleted) -> (Harness, String) {
    changed_here_then_deleted_there_under(deleted, "ask")
}

/// [`changed_here_then_deleted_there`] with the calendar's conflict policy `policy`.
fn changed_here_then_deleted_there_under(deleted: Deleted, policy: &str) -> (Harness, String) {
    changed_here_then_deleted_there_in(Harness::new(), deleted, policy)
}

/// [`changed_here_then_deleted_there_under`] with the series of `h`.
fn changed_here_then_deleted_there_in(
    h: Harness,
    deleted: Deleted,
    policy: &str,
) -> (Harness, String) {
    h.set_policy(policy);
    let (master, master_remote) = h.series();
    let instance = h.phone_changes_second(&master_remote);
    h.run();
    assert_eq!(h.second_day_here().as_deref(), Some(CHANGED));
    h.rename_second_here(&master);
    if deleted == Deleted::OccurrenceThenSeries {
        h.phone_deletes(&instance.remote_id);
        h.run();
    }
    h.phone_deletes(&master_remote);
    h.run();
    (h, master)
}

impl Harness {
    /// The series' occurrences (its first five days at most), at the provider and
    /// here, the second as changed here; then quiet.
    fn assert_made_again_with_the_change(&self) {
        let all: Vec<String> = (0..self.days.min(5))
            .map(|d| wall(self.first + TimeDelta::days(d)))
            .collect();
        assert_eq!(self.starts_there(), all, "the provider");
        assert_eq!(self.starts_here(), all, "here");
        assert_eq!(self.titled(RENAMED), 1, "the occurrence as changed here");
        assert_eq!(self.second_day_here().as_deref(), Some(RENAMED));
        self.assert_quiet();
    }

    /// Renames the series' second occurrence here (to [`RENAMED`]), only that one.
    fn rename_second_here(&self, master: &str) {
        let second = self.first + TimeDelta::days(1);
        let mut store = self.store.lock().expect("store");
        let mut input = store.get_event(master).expect("the series").input;
        input.title = RENAMED.into();
        input.start = wall(second);
        input.end = wall(second + TimeDelta::minutes(30));
        let change = EventChange {
            id: master.to_owned(),
            scope: EditScope::Occurrence,
            original_start: Some(wall(second)),
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("rename it here");
    }

    /// The phone changes the second occurrence of series `master_remote` (to
    /// [`CHANGED`]); returns that instance as it was.
    fn phone_changes_second(&self, master_remote: &str) -> RemoteEvent {
        let second = self.first + TimeDelta::days(1);
        let instance = self
            .rt
            .block_on(self.graph.instance(
                &self.calendar(),
                master_remote,
                &OriginalStart::Timed(second),
            ))
            .expect("instance")
            .expect("the second occurrence");
        let edit = json!({"email": EMAIL, "id": instance.remote_id, "patch": {"subject": CHANGED}});
        self.cloud
            .state
            .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
            .expect("change it on the phone");
        instance
    }

    /// The phone deletes the event `remote_id` (a whole series, say).
    fn phone_deletes(&self, remote_id: &str) {
        let delete = json!({"email": EMAIL, "id": remote_id});
        self.cloud
            .state
            .graph_delete_event(serde_json::from_value(delete).expect("delete spec"))
            .expect("delete it on the phone");
    }

    fn open_conflicts(&self) -> Vec<almanac_store::ConflictRecord> {
        self.store
            .lock()
            .expect("store")
            .conflicts(true)
            .expect("conflicts")
    }
}

/// The occurrence's deletion there, then the series': a conflict on each. Keep theirs
/// on the series deletes it here with its occurrences, that one too: its own conflict
/// is answered with it, not left open to ask about a day that is gone.
#[test]
fn keep_theirs_on_a_series_answers_its_occurrences_conflicts() {
    let (h, master) = changed_here_then_deleted_there(Deleted::OccurrenceThenSeries);
    let open = h.open_conflicts();
    assert_eq!(open.len(), 2, "{open:?}");
    let on_series = open
        .iter()
        .find(|c| c.event_id == master)
        .expect("the series'");
    resolve_conflict(&h.store, &on_series.id, &Choice::KeepTheirs, Utc::now())
        .expect("keep theirs");
    assert!(h.open_conflicts().is_empty(), "{:?}", h.open_conflicts());
    let on_occurrence = open.iter().find(|c| c.event_id != master).expect("its own");
    let record = h
        .store
        .lock()
        .expect("store")
        .conflict(&on_occurrence.id)
        .expect("on record");
    assert_eq!(
        (record.resolution.as_deref(), record.resolved_by.as_deref()),
        (Some("keep_remote"), Some("user"))
    );
    h.run();
    assert!(h.starts_there().is_empty(), "{:?}", h.starts_there());
    assert!(h.starts_here().is_empty(), "{:?}", h.starts_here());
    assert_eq!(h.titled(RENAMED), 0);
    h.assert_quiet();
}

/// The occurrence's deletion there, then the series': a conflict on each. Keep mine
/// on the series makes it again as it is here — without that occurrence, which the
/// phone had cancelled first — and the occurrence's conflict waits for its own
/// answer; Keep mine on it then makes it an event of its own, as for any occurrence
/// changed here and cancelled there.
#[test]
fn an_occurrence_deleted_there_before_its_series_waits_for_its_own_answer() {
    let (h, master) = changed_here_then_deleted_there(Deleted::OccurrenceThenSeries);
    let (on_series, on_occurrence): (Vec<_>, Vec<_>) = h
        .open_conflicts()
        .into_iter()
        .partition(|c| c.event_id == master);
    assert_eq!(on_series.len(), 1, "{on_series:?}");
    assert_eq!(on_series[0].kind, "edit_delete");
    assert_eq!(on_occurrence.len(), 1, "{on_occurrence:?}");
    assert_eq!(on_occurrence[0].kind, "edit_delete");
    resolve_conflict(&h.store, &on_series[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        open[0].id, on_occurrence[0].id,
        "the occurrence's, still open"
    );
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there_of(&[SERIES]), kept, "the provider");
    assert_eq!(h.starts_here_of(&[SERIES]), kept, "here");
    assert_eq!(h.titled(RENAMED), 1, "the occurrence as changed here");
    assert_eq!(h.second_day_here().as_deref(), Some(RENAMED));
    assert_eq!(h.open_conflicts(), []);
    h.assert_quiet();
}

/// The series deleted at once: one conflict, on the series, which holds the change
/// (as at Google, which lists only the series' removal); Keep mine makes it again
/// with it.
#[test]
fn a_series_deleted_there_with_an_occurrence_changed_here_is_one_conflict() {
    let (h, master) = changed_here_then_deleted_there(Deleted::Series);
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].kind.as_str(), &open[0].event_id),
        ("edit_delete", &master)
    );
    assert_eq!(
        h.second_day_here().as_deref(),
        Some(RENAMED),
        "kept meanwhile"
    );
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_made_again_with_the_change();
}

/// The same under a policy that keeps edits: the series is made again by itself,
/// and the occurrence changed here is its occurrence that day — not also an event of
/// its own beside it (two events where the user had one).
#[test]
fn a_series_made_again_by_policy_keeps_its_changed_occurrence_once() {
    for policy in ["prefer_local", "keep_both"] {
        let (h, _) = changed_here_then_deleted_there_under(Deleted::Series, policy);
        assert_eq!(h.open_conflicts(), [], "{policy}: settled by the policy");
        h.run();
        h.assert_made_again_with_the_change();
    }
}

/// A series with more instances than a page of Outlook's listing holds (a daily
/// stand-up): Outlook lists a deleted series' instances first and the series last,
/// so the changed occurrence's removal comes a page before the series'. Still one
/// conflict, on the series, which holds the change; Keep mine makes the series again
/// with that day once — not also the occurrence as an event of its own beside it.
#[test]
fn a_long_series_deleted_there_with_an_occurrence_changed_here_is_one_conflict() {
    let h = Harness::with_days(LONG);
    let (h, master) = changed_here_then_deleted_there_in(h, Deleted::Series, "ask");
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].kind.as_str(), &open[0].event_id),
        ("edit_delete", &master)
    );
    assert_eq!(h.second_day_here().as_deref(), Some(RENAMED));
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_made_again_with_the_change();
}

/// The same when the series' removal comes a run later (a run takes one page here):
/// meanwhile the occurrence's pending change finds its instance gone there, and its
/// series too — the series' conflict opens then, and holds the change; the series'
/// removal, listed later, finds it on record.
#[test]
fn a_long_series_whose_removal_comes_a_run_later_is_one_conflict() {
    let h = Harness::with_days(LONG);
    h.pages.set(Some(1));
    let (h, master) = changed_here_then_deleted_there_in(h, Deleted::Series, "ask");
    let on_series = |h: &Harness| {
        let open = h.open_conflicts();
        assert_eq!(open.len(), 1, "{open:?}");
        assert_eq!(
            (open[0].kind.as_str(), &open[0].event_id),
            ("edit_delete", &master)
        );
        open[0].id.clone()
    };
    let first = on_series(&h);
    h.run();
    h.run();
    assert_eq!(on_series(&h), first, "the same conflict, still open");
    h.pages.set(None);
    resolve_conflict(&h.store, &first, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_made_again_with_the_change();
}

/// An occurrence changed here for the first time (no exception there yet) whose
/// long series the phone deletes, one page per run: the pull cannot tell (nothing
/// here has the removed instance's id); its change, sent, finds the instance gone
/// there, and its series too — the series' conflict opens then, which holds the
/// change, rather than the change being refused as "no longer there".
#[test]
fn a_long_series_deleted_under_a_first_occurrence_change_is_one_conflict() {
    let h = Harness::with_days(LONG);
    h.pages.set(Some(1));
    let (master, master_remote) = h.series();
    h.rename_second_here(&master);
    h.phone_deletes(&master_remote);
    let s = h.run();
    assert_eq!(s.calendars[0].refused, 0, "{s:?}");
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].kind.as_str(), &open[0].event_id),
        ("edit_delete", &master)
    );
    assert_eq!(h.second_day_here().as_deref(), Some(RENAMED));
    h.run();
    h.pages.set(None);
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_made_again_with_the_change();
}

/// An occurrence changed on the phone and then here whose long series the phone
/// deletes, one page per run, and the provider cannot be asked for a while whether
/// the series is gone: the run stops before the page is applied (not knowing would
/// give the occurrence a conflict of its own for good), and the next lists it again.
#[test]
fn a_long_series_whose_ask_fails_for_a_while_is_one_conflict() {
    let h = Harness::with_days(LONG);
    h.pages.set(Some(1));
    let (master, master_remote) = h.series();
    h.phone_changes_second(&master_remote);
    h.run();
    h.rename_second_here(&master);
    h.phone_deletes(&master_remote);
    // Asking for the series fails (each read of it, in a batch or alone).
    let fault = json!({"add": [{
        "kind": "unavailable",
        "method": "GET",
        "path_contains": format!("/events/{master_remote}"),
        "count": 50,
    }]});
    h.cloud
        .state
        .graph_set_faults(serde_json::from_value(fault).expect("fault"))
        .expect("set the fault");
    let s = h.run_unchecked();
    let faults = h.cloud.state.graph_faults();
    let clear = serde_json::from_value(json!({"clear": true})).expect("clear");
    h.cloud
        .state
        .graph_set_faults(clear)
        .expect("clear the fault");
    assert!(
        faults.transient.iter().all(|f| f.count < 50),
        "asked: {faults:?}"
    );
    assert!(s.calendars.iter().any(|c| c.error.is_some()), "{s:?}");
    assert_eq!(h.open_conflicts(), [], "nothing of it applied yet");
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(
        (open[0].kind.as_str(), &open[0].event_id),
        ("edit_delete", &master)
    );
    assert_eq!(h.second_day_here().as_deref(), Some(RENAMED));
}

/// The same under a policy that keeps edits: the series made again by itself has the
/// changed occurrence once.
#[test]
fn a_long_series_made_again_by_policy_keeps_its_changed_occurrence_once() {
    for policy in ["prefer_local", "keep_both"] {
        let h = Harness::with_days(LONG);
        let (h, _) = changed_here_then_deleted_there_in(h, Deleted::Series, policy);
        assert_eq!(h.open_conflicts(), [], "{policy}: settled by the policy");
        h.run();
        h.assert_made_again_with_the_change();
    }
}

const PHONE_AGAIN: &str = "Pipeline review, renamed on the phone again";

/// The second occurrence's instance of series `series` at the provider.
fn at_second(h: &Harness, series: &str) -> RemoteEvent {
    let second = h.first + TimeDelta::days(1);
    h.rt.block_on(
        h.graph
            .instance(&h.calendar(), series, &OriginalStart::Timed(second)),
    )
    .expect("instance")
    .expect("the second occurrence")
}

/// The phone renames event `id` (an instance) to `title`.
fn phone_renames(h: &Harness, id: &str, title: &str) {
    let edit = json!({"email": EMAIL, "id": id, "patch": {"subject": title}});
    h.cloud
        .state
        .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
        .expect("change it on the phone");
}

/// An occurrence changed on both sides (an edit/edit conflict waiting for the user:
/// ours [`RENAMED`], theirs [`PHONE_AGAIN`]) whose series the phone then deletes;
/// Keep mine on the series makes it again, the occurrence's change still held by its
/// conflict. The occurrence's conflict and the new series' id.
fn occurrence_in_conflict_through_its_series_made_again(h: &Harness) -> (String, String) {
    let (master, master_remote) = h.series();
    let instance = at_second(h, &master_remote);
    phone_renames(h, &instance.remote_id, CHANGED);
    h.run();
    h.rename_second_here(&master);
    phone_renames(h, &instance.remote_id, PHONE_AGAIN);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "edit_edit");
    let on_occurrence = open[0].id.clone();
    let delete = json!({"email": EMAIL, "id": master_remote});
    h.cloud
        .state
        .graph_delete_event(serde_json::from_value(delete).expect("delete spec"))
        .expect("delete the series on the phone");
    h.run();
    let on_series: Vec<_> = h
        .open_conflicts()
        .into_iter()
        .filter(|c| c.event_id == master)
        .collect();
    assert_eq!(on_series.len(), 1, "{on_series:?}");
    resolve_conflict(&h.store, &on_series[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    let (_, new_remote) = h.series();
    assert_ne!(new_remote, master_remote, "made again");
    (on_occurrence, new_remote)
}

/// [`occurrence_in_conflict_through_its_series_made_again`]; when the phone changes
/// that day's occurrence of the new series, the link to it meets the change again:
/// the same conflict, still open, now against their new version — it used to be
/// settled without the user and another one opened (simulation seed 25919).
#[test]
fn an_occurrence_in_conflict_keeps_its_conflict_when_its_series_is_made_again() {
    const PHONE_NEW: &str = "Pipeline review, renamed on the phone in the new series";
    let h = Harness::new();
    let (on_occurrence, new_remote) = occurrence_in_conflict_through_its_series_made_again(&h);
    let instance = at_second(&h, &new_remote);
    phone_renames(&h, &instance.remote_id, PHONE_NEW);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].id, on_occurrence, "the same conflict, still open");
    assert_eq!(open[0].kind, "edit_edit");
    let settled = h
        .store
        .lock()
        .expect("store")
        .conflicts(false)
        .expect("conflicts");
    assert!(
        settled
            .iter()
            .all(|c| c.resolved_by.as_deref() != Some("sync")),
        "{settled:?}"
    );
    resolve_conflict(&h.store, &on_occurrence, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_made_again_with_the_change();
    assert_eq!(h.titled(PHONE_NEW), 0);
}

/// [`occurrence_in_conflict_through_its_series_made_again`], answered before the phone
/// changes that day of the new series: Keep theirs puts their title (from the old
/// series) on that day of the new one, there and here; Keep mine ours. It used to be
/// recorded as answered with nothing done: ours went out either way.
#[test]
fn an_occurrence_in_conflict_answered_after_its_series_is_made_again_is_carried_out() {
    for (choice, title, other) in [
        (Choice::KeepTheirs, PHONE_AGAIN, RENAMED),
        (Choice::KeepMine, RENAMED, PHONE_AGAIN),
    ] {
        let h = Harness::new();
        let (on_occurrence, _) = occurrence_in_conflict_through_its_series_made_again(&h);
        let answer = resolve_conflict(&h.store, &on_occurrence, &choice, Utc::now())
            .expect("answer the conflict");
        assert!(answer.pushes, "{choice:?}: {answer:?}");
        h.run();
        h.run();
        h.assert_quiet();
        assert_eq!(h.open_conflicts(), [], "{choice:?}");
        assert_eq!(
            (h.titled(title), h.titled(other)),
            (1, 0),
            "{choice:?}: there"
        );
        assert_eq!(
            h.second_day_here().as_deref(),
            Some(title),
            "{choice:?}: here"
        );
        let all: Vec<String> = (0..h.days.min(5))
            .map(|d| wall(h.first + TimeDelta::days(d)))
            .collect();
        assert_eq!(
            h.starts_there_of(&[SERIES, title]),
            all,
            "{choice:?}: there"
        );
        assert_eq!(h.starts_here_of(&[SERIES, title]), all, "{choice:?}: here");
    }
}

/// [`occurrence_in_conflict_through_its_series_made_again`], answered "keep both":
/// that day of the new series has their title, and ours is an event of its own at
/// the same time, there and here, once each.
#[test]
fn keep_both_on_an_occurrence_in_conflict_after_its_series_is_made_again_keeps_both() {
    let h = Harness::new();
    let (on_occurrence, _) = occurrence_in_conflict_through_its_series_made_again(&h);
    let answer = resolve_conflict(&h.store, &on_occurrence, &Choice::KeepBoth, Utc::now())
        .expect("answer the conflict");
    assert!(answer.pushes, "{answer:?}");
    h.run();
    h.run();
    h.assert_quiet();
    assert_eq!(h.open_conflicts(), []);
    let all: Vec<String> = (0..h.days.min(5))
        .map(|d| wall(h.first + TimeDelta::days(d)))
        .collect();
    assert_eq!(h.starts_there_of(&[SERIES, PHONE_AGAIN]), all, "there");
    assert_eq!(h.starts_here_of(&[SERIES, PHONE_AGAIN]), all, "here");
    assert_eq!((h.titled(PHONE_AGAIN), h.titled(RENAMED)), (1, 1), "there");
    let second = vec![wall(h.first + TimeDelta::days(1))];
    assert_eq!(h.starts_there_of(&[RENAMED]), second, "the copy there");
    assert_eq!(h.starts_here_of(&[RENAMED]), second, "the copy here");
    let (series, _) = h.series();
    let store = h.store.lock().expect("store");
    let copy = store
        .sync_calendars(None)
        .expect("calendars")
        .iter()
        .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
        .find(|e| e.row.as_ref().is_some_and(|r| r.input.title == RENAMED))
        .and_then(|e| e.row)
        .expect("the copy");
    assert_ne!(copy.series_id.as_deref(), Some(series.as_str()), "{copy:?}");
}

/// How the push of two occurrences deleted here stops after the first instance's
/// delete went out.
#[derive(Clone, Copy)]
enum Stopped {
    /// The second instance's delete fails (503).
    SecondRefused,
    /// The first one's answer is lost (it landed).
    FirstAnswerLost,
}

/// Two occurrences deleted here; the first one's instance is deleted at Outlook (which
/// changes the series there), and the push stops as `stopped` says. The series' local
/// id.
fn some_removals_went_out(h: &Harness, stopped: Stopped) -> String {
    let (master, _) = h.series();
    let instance_id = |day: i64| {
        let start = wall(h.first + TimeDelta::days(day));
        h.live_there()
            .into_iter()
            .find(|e| {
                e["start"]["dateTime"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(&start))
            })
            .and_then(|e| e["id"].as_str().map(str::to_owned))
            .expect("the instance")
    };
    let fault = match stopped {
        Stopped::SecondRefused => json!({
            "kind": "unavailable", "method": "DELETE", "path_contains": instance_id(2),
            "count": 20,
        }),
        Stopped::FirstAnswerLost => json!({
            "kind": "drop_connection", "method": "DELETE", "path_contains": instance_id(1),
            "after_processing": true, "count": 20,
        }),
    };
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(2))));
    h.cloud
        .state
        .graph_set_faults(serde_json::from_value(json!({"add": [fault]})).expect("fault"))
        .expect("set the fault");
    let s = h.run_unchecked();
    assert_eq!(s.outcome, "partial", "{s:?}");
    assert_eq!(h.live_there().len(), 2);
    master
}

/// [`some_removals_went_out`], then the user deletes the whole series. The series'
/// change there is that deletion of ours, not the phone's: the series' deletion goes
/// out, no delete/edit conflict (seed 35753: one was raised, and a policy that prefers
/// the provider brought the series back with the second day the user had deleted).
fn series_deleted_after_some_of_its_removals_went_out(stopped: Stopped) {
    let h = Harness::new();
    let master = some_removals_went_out(&h, stopped);
    h.delete_here(&master, None);
    let s = h.run();
    assert_eq!(s.conflicts, 0, "{s:?}");
    assert!(h.live_there().is_empty(), "{:?}", h.live_there());
    assert!(h.starts_here().is_empty(), "{:?}", h.starts_here());
    h.assert_quiet();
}

/// [`some_removals_went_out`], then the phone renames the series and the user deletes
/// it here: their change is not ours, and meets the deletion as a conflict.
#[test]
fn a_series_renamed_there_after_some_removals_went_out_and_deleted_here_is_a_conflict() {
    let h = Harness::new();
    let master = some_removals_went_out(&h, Stopped::SecondRefused);
    let (_, master_remote) = h.series();
    phone_renames(&h, &master_remote, RENAMED);
    h.delete_here(&master, None);
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let open = h.open_conflicts();
    assert_eq!(
        (open.len(), open[0].kind.as_str(), open[0].event_id.as_str()),
        (1, "delete_edit", master.as_str()),
        "{open:?}"
    );
    assert_eq!(h.titled(RENAMED), 2);
}

#[test]
fn a_series_deleted_after_one_of_its_removals_went_out_is_deleted_there() {
    series_deleted_after_some_of_its_removals_went_out(Stopped::SecondRefused);
}

#[test]
fn a_series_deleted_after_a_removal_whose_answer_was_lost_is_deleted_there() {
    series_deleted_after_some_of_its_removals_went_out(Stopped::FirstAnswerLost);
}

/// Two occurrences deleted here, and the whole series deleted here while the push
/// takes them out, at `moment`: before the first instance's delete is decided (its
/// read), it does not go — the series there would change under the deletion's
/// If-Match, read back as a change made there, a conflict —; just before it goes, it
/// goes as ours. Either way the series' deletion goes, with no conflict.
fn series_deleted_here_while_its_removals_go_out(moment: Moment) {
    let h = Harness::new();
    let (master, _) = h.series();
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(2))));
    let meddled = Meddled {
        inner: h.cloud.provider(Kind::Graph),
        moment,
        meddle: Mutex::new(Some(Box::new(|| delete_here(&h.store, &master, None)))),
    };
    let s = h.run_with(&meddled);
    assert_eq!((s.outcome.as_str(), s.conflicts), ("ok", 0), "{s:?}");
    assert!(meddled.meddle.lock().expect("hook").is_none(), "deleted");
    assert!(h.live_there().is_empty(), "{:?}", h.live_there());
    assert!(h.starts_here().is_empty(), "{:?}", h.starts_here());
    h.assert_quiet();
}

#[test]
fn a_series_deleted_here_before_its_removals_go_out_is_deleted_there() {
    series_deleted_here_while_its_removals_go_out(Moment::Before);
}

#[test]
fn a_series_deleted_here_as_its_removals_go_out_is_deleted_there() {
    series_deleted_here_while_its_removals_go_out(Moment::BeforeDelete);
}

/// The phone changes the series' second occurrence, the user deletes it here (a
/// delete/edit conflict, its removal held apart from the series) and moves the whole
/// series an hour later here — the move sent before the answer if `pushed` —; Keep
/// mine: that day is gone at its new time, there and here. (The held removal kept the
/// day's old time, which the moved series has no occurrence at: the day stayed — I1.)
fn keep_mine_after_the_series_moved_here(pushed: bool) {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    let instance = at_second(&h, &master_remote);
    phone_renames(&h, &instance.remote_id, CHANGED);
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "delete_edit");
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&master).expect("the series").input;
        input.start = later(h.first);
        input.end = later(h.first + TimeDelta::minutes(30));
        let change = EventChange {
            id: master.clone(),
            scope: EditScope::All,
            original_start: None,
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("move the series here");
    }
    if pushed {
        h.run();
    }
    // Pushed, the move made Outlook drop their change: the next pull finds the
    // instance gone on both sides, and the removal goes back into the series then
    // (its conflict stays for the user, answered with nothing left). Not pushed, Keep
    // mine puts it back.
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_quiet();
    let kept = vec![later(h.first), later(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    assert_eq!(h.titled(CHANGED), 0);
}

#[test]
fn keep_mine_on_an_occurrence_whose_series_moved_here_since_removes_that_day() {
    keep_mine_after_the_series_moved_here(true);
}

#[test]
fn keep_mine_on_an_occurrence_whose_series_move_waits_removes_that_day() {
    keep_mine_after_the_series_moved_here(false);
}

/// The series' second occurrence deleted here, then the whole series, before either
/// went out; the phone renames the series meanwhile. Keep theirs brings it back with
/// their title and still without that day, there and here.
#[test]
fn keep_theirs_on_a_series_deleted_here_keeps_a_day_removed_before() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.delete_here(&master, None);
    phone_renames(&h, &master_remote, RENAMED);
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let open = h.open_conflicts();
    assert_eq!(
        (open.len(), open[0].kind.as_str()),
        (1, "delete_edit"),
        "{open:?}"
    );
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepTheirs, Utc::now()).expect("keep theirs");
    h.run();
    h.run();
    h.assert_quiet();
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there_of(&[RENAMED]), kept, "the provider");
    assert_eq!(h.starts_here_of(&[RENAMED]), kept, "here");
}

/// The phone changes the series' second occurrence, the user deletes it here (a
/// delete/edit conflict), renames that day here while the conflict waits, and the
/// phone then deletes that instance: the rename meets the deletion as a conflict of
/// its own; Keep mine keeps it as an event of its own (Outlook cannot bring a
/// cancelled occurrence back), Keep theirs drops it. Nothing waits for good (the
/// simulation's seed 38542 at Google).
#[test]
fn a_day_renamed_here_again_and_deleted_there_is_a_conflict_of_its_own() {
    for (choice, renamed) in [(Choice::KeepMine, 1), (Choice::KeepTheirs, 0)] {
        let h = Harness::new();
        let (master, master_remote) = h.series();
        let instance = at_second(&h, &master_remote);
        phone_renames(&h, &instance.remote_id, CHANGED);
        h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
        h.run();
        let first = h.open_conflicts();
        assert_eq!(first.len(), 1, "{first:?}");
        h.rename_second_here(&master);
        h.phone_deletes(&instance.remote_id);
        h.run();
        h.run();
        let open: Vec<_> = h
            .open_conflicts()
            .into_iter()
            .filter(|c| c.id != first[0].id)
            .collect();
        assert_eq!(open.len(), 1, "{choice:?}: {open:?}");
        resolve_conflict(&h.store, &first[0].id, &Choice::KeepTheirs, Utc::now()).expect("answer");
        resolve_conflict(&h.store, &open[0].id, &choice, Utc::now()).expect("answer");
        h.run();
        h.run();
        h.assert_quiet();
        let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
        assert!(outbox.is_empty(), "{choice:?}: {outbox:?}");
        assert_eq!(h.titled(RENAMED), renamed, "{choice:?}: there");
        assert_eq!(h.titled(CHANGED), 0, "{choice:?}: there");
        let there = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
        assert_eq!(h.starts_there_of(&[SERIES]), there, "{choice:?}");
        assert_eq!(h.starts_here_of(&[SERIES]), there, "{choice:?}");
        assert_eq!(
            h.starts_here_of(&[RENAMED]).len(),
            renamed,
            "{choice:?}: here"
        );
    }
}

/// An occurrence changed here (to [`RENAMED`]) and sent, then changed again (to
/// [`CHANGED`]); the phone moves the series an hour later and back, which drops our
/// change there while the instance keeps its id. The change waiting here meets the
/// series' plain occurrence as an edit/edit conflict (the title: ours against the
/// series'). Returns the series' local and provider ids and the conflict.
fn changed_again_and_dropped_there(h: &Harness) -> (String, String, String) {
    let (master, master_remote) = h.series();
    let second = h.first + TimeDelta::days(1);
    h.rename_second_here(&master);
    h.run();
    assert_eq!(h.titled(RENAMED), 1);
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&master).expect("the series").input;
        input.title = CHANGED.into();
        input.start = wall(second);
        input.end = wall(second + TimeDelta::minutes(30));
        let change = EventChange {
            id: master.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(wall(second)),
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("rename it again here");
    }
    h.phone_retimes(&master_remote, Retimed::MovedAndBack);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "edit_edit", "{open:?}");
    assert_eq!(h.titled(RENAMED) + h.titled(CHANGED), 0, "dropped there");
    (master, master_remote, open[0].id.clone())
}

/// That conflict, then the user deletes the day here: the instance now under the
/// exception's id is the series' plain occurrence, which is deleted, with nothing left
/// to ask. The deletion's 412 used to merge it as a change made there (a delete/edit
/// conflict), and Keep theirs kept an exception the provider lacks (simulation seed
/// 43109).
#[test]
fn a_day_deleted_here_after_outlook_dropped_its_exception_goes() {
    let h = Harness::new();
    let (master, _, _) = changed_again_and_dropped_there(&h);
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.run();
    assert_eq!(h.open_conflicts(), vec![], "nothing to ask");
    h.assert_quiet();
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    assert_eq!(h.titled(CHANGED) + h.titled(RENAMED), 0);
}

/// Keep mine makes our change that day's again; Keep theirs leaves the day to its
/// series — here too, so that a later change of the series reaches it (an exception
/// row kept with the series' values would hide it for good).
#[test]
fn a_change_outlook_dropped_while_changed_again_is_the_users_to_answer() {
    for (choice, title) in [(Choice::KeepMine, CHANGED), (Choice::KeepTheirs, SERIES)] {
        let h = Harness::new();
        let (master, master_remote, conflict) = changed_again_and_dropped_there(&h);
        resolve_conflict(&h.store, &conflict, &choice, Utc::now()).expect("answer");
        h.run();
        h.assert_quiet();
        assert_eq!(
            h.second_day_here().as_deref(),
            Some(title),
            "{choice:?}: here"
        );
        let own = usize::from(choice == Choice::KeepMine);
        assert_eq!(h.exceptions_here(&master), own, "{choice:?}");
        let second = at_second(&h, &master_remote);
        assert_eq!(second.title, title, "{choice:?}: there");
        let all: Vec<String> = (0..3).map(|d| wall(h.first + TimeDelta::days(d))).collect();
        assert_eq!(h.starts_here_of(&[SERIES, CHANGED]), all, "{choice:?}");
        // The phone renames the series: the second day follows unless it is ours.
        phone_renames(&h, &master_remote, RENAMED);
        h.run();
        let now = if choice == Choice::KeepMine {
            CHANGED
        } else {
            RENAMED
        };
        assert_eq!(
            h.second_day_here().as_deref(),
            Some(now),
            "{choice:?}: renamed"
        );
        h.assert_quiet();
    }
}

/// Keep both on that conflict: the day goes back to its series (here and there) and
/// our change stays as an event of its own — not also an exception row here with the
/// series' values, which the provider lacks.
#[test]
fn keep_both_on_a_change_outlook_dropped_keeps_ours_as_a_copy() {
    let h = Harness::new();
    let (master, _, conflict) = changed_again_and_dropped_there(&h);
    resolve_conflict(&h.store, &conflict, &Choice::KeepBoth, Utc::now()).expect("answer");
    h.run();
    h.assert_quiet();
    assert_eq!(h.exceptions_here(&master), 0);
    let second = wall(h.first + TimeDelta::days(1));
    assert_eq!(
        h.starts_here_of(&[CHANGED]),
        vec![second.clone()],
        "the copy here"
    );
    assert_eq!(
        h.starts_there_of(&[CHANGED]),
        vec![second],
        "the copy there"
    );
    let all: Vec<String> = (0..3).map(|d| wall(h.first + TimeDelta::days(d))).collect();
    assert_eq!(h.starts_here_of(&[SERIES]), all, "here");
    assert_eq!(h.starts_there_of(&[SERIES]), all, "the provider");
}

/// How the phone changes the series' times, which makes Outlook drop its changed
/// occurrences while their instances keep their ids.
#[derive(Clone, Copy, Debug)]
enum Retimed {
    /// An hour later (see [`later`]).
    Later,
    /// An hour later, then back.
    MovedAndBack,
    /// Half an hour longer.
    Longer,
}

impl Harness {
    /// Sets the default calendar's conflict policy.
    fn set_policy(&self, policy: &str) {
        set_primary_policy(&self.store, policy);
    }

    /// How many occurrences of series `master` (local id) have a row of their own here.
    fn exceptions_here(&self, master: &str) -> usize {
        let store = self.store.lock().expect("store");
        store
            .sync_calendars(None)
            .expect("calendars")
            .iter()
            .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
            .filter(|e| {
                e.row
                    .as_ref()
                    .is_some_and(|r| r.series_id.as_deref() == Some(master))
            })
            .count()
    }

    /// Graph, through which the phone deletes event `remote_id` just before this
    /// computer's first delete of an event in the run it serves.
    fn deleted_before_our_delete(&self, remote_id: &str) -> Meddled<'_> {
        let (state, id) = (&self.cloud.state, remote_id.to_owned());
        Meddled {
            inner: self.cloud.provider(Kind::Graph),
            moment: Moment::BeforeDelete,
            meddle: Mutex::new(Some(Box::new(move || {
                let delete = json!({"email": EMAIL, "id": id});
                state
                    .graph_delete_event(serde_json::from_value(delete).expect("delete spec"))
                    .expect("delete it on the phone");
            }))),
        }
    }

    /// The mailbox's delta token is lost: the next run lists the calendar again.
    fn lose_delta_token(&self) {
        let fault = json!({"invalidate_delta": {"email": EMAIL, "mode": "gone"}});
        self.cloud
            .state
            .graph_set_faults(serde_json::from_value(fault).expect("fault spec"))
            .expect("invalidate the token");
    }

    /// The phone changes series `master_remote`'s times as `how` says.
    fn phone_retimes(&self, master_remote: &str, how: Retimed) {
        retime(&self.cloud.state, self.first, master_remote, how);
    }

    /// Graph, through which the phone moves series `master_remote` an hour later at
    /// `moment` of the run it serves.
    fn moved_later_at(&self, moment: Moment, master_remote: &str) -> Meddled<'_> {
        let (state, first, id) = (&self.cloud.state, self.first, master_remote.to_owned());
        Meddled {
            inner: self.cloud.provider(Kind::Graph),
            moment,
            meddle: Mutex::new(Some(Box::new(move || {
                retime(state, first, &id, Retimed::Later);
            }))),
        }
    }
}

/// The phone changes series `master_remote`'s times (its first start `first`) as `how`
/// says.
fn retime(state: &SharedState, first: DateTime<Utc>, master_remote: &str, how: Retimed) {
    let times = match how {
        Retimed::Later => vec![(TimeDelta::hours(1), 30)],
        Retimed::MovedAndBack => vec![(TimeDelta::hours(1), 30), (TimeDelta::zero(), 30)],
        Retimed::Longer => vec![(TimeDelta::zero(), 60)],
    };
    for (by, minutes) in times {
        let start = first + by;
        let patch = json!({
            "start": {"dateTime": wall(start), "timeZone": "UTC"},
            "end": {"dateTime": wall(start + TimeDelta::minutes(minutes)), "timeZone": "UTC"},
        });
        let edit = json!({"email": EMAIL, "id": master_remote, "patch": patch});
        state
            .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
            .expect("change its times on the phone");
    }
}

/// An occurrence changed here whose series the phone moves an hour later while the
/// change goes out: no instance at its time, an edit/delete conflict left to the user
/// whatever the policy (the series may have moved only for now). The phone moves it
/// back and changes that day too. Under a policy that prefers this computer, their
/// change refreshes the user's open conflict (edit/edit now), which stays open: the
/// policy settled the new one and, with it, the user's question behind their back (I7).
#[test]
fn an_open_conflict_stays_open_when_a_policy_could_settle_a_newer_version() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    h.set_policy("prefer_local");
    h.rename_second_here(&master);
    let meddled = h.moved_later_at(Moment::Before, &master_remote);
    let s = h.run_with(&meddled);
    assert_eq!(s.conflicts, 1, "{s:?}");
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "edit_delete");
    h.phone_retimes(&master_remote, Retimed::Longer);
    h.phone_changes_second(&master_remote);
    h.run();
    h.run();
    let now = h.open_conflicts();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!(
        (&now[0].id, now[0].kind.as_str()),
        (&open[0].id, "edit_edit")
    );
    assert_eq!(
        h.titled(CHANGED),
        1,
        "their change stays there until answered"
    );
}

/// An occurrence changed here and synced; the phone changes the series' times so
/// that Outlook drops that change while the instance keeps its id (listed now as the
/// series' plain occurrence): the change goes here too. It used to stay here for good,
/// shown on a day the provider has as the series makes it.
#[test]
fn a_change_outlook_drops_under_the_same_instance_id_goes_here_too() {
    for how in [Retimed::MovedAndBack, Retimed::Longer] {
        let h = Harness::new();
        let (master, master_remote) = h.series();
        h.rename_second_here(&master);
        h.run();
        assert_eq!(h.titled(RENAMED), 1, "{how:?}");
        h.phone_retimes(&master_remote, how);
        let s = h.run();
        assert_eq!(s.conflicts, 0, "{how:?}: {s:?}");
        assert_eq!(h.titled(RENAMED), 0, "{how:?}: there");
        assert_eq!(
            h.second_day_here().as_deref(),
            Some(SERIES),
            "{how:?}: here"
        );
        assert_eq!(h.exceptions_here(&master), 0, "{how:?}");
        let all: Vec<String> = (0..3).map(|d| wall(h.first + TimeDelta::days(d))).collect();
        assert_eq!(h.starts_here(), all, "{how:?}");
        h.assert_quiet();
    }
}

/// The phone changes the series' second occurrence and the change comes here; the
/// user deletes that occurrence, then the whole series, while the phone renames the
/// series: the series' deletion is a delete/edit conflict. Keep theirs brings the
/// series back without the day the user deleted (its deletion waited for the
/// series', with the version the user saw); Keep mine deletes the series there, and
/// the day's deletion goes with it. The day's deletion used to be dropped as soon as
/// the series' deletion was queued, and Keep theirs then made it a conflict of its
/// own about a change the user had seen (simulation seed 47777).
#[test]
fn a_day_deleted_before_its_series_stays_deleted_when_the_series_comes_back() {
    for choice in [Choice::KeepTheirs, Choice::KeepMine] {
        let h = Harness::new();
        let (master, master_remote) = h.series();
        h.phone_changes_second(&master_remote);
        h.run();
        assert_eq!(h.second_day_here().as_deref(), Some(CHANGED), "{choice:?}");
        h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
        h.delete_here(&master, None);
        phone_renames(&h, &master_remote, RENAMED);
        h.run();
        let open = h.open_conflicts();
        assert_eq!(open.len(), 1, "{choice:?}: {open:?}");
        assert_eq!(open[0].kind, "delete_edit", "{choice:?}");
        resolve_conflict(&h.store, &open[0].id, &choice, Utc::now()).expect("answer");
        h.run();
        h.assert_quiet();
        assert_eq!(h.open_conflicts(), vec![], "{choice:?}");
        let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
        assert!(outbox.is_empty(), "{choice:?}: {outbox:?}");
        let kept = match choice {
            Choice::KeepTheirs => vec![wall(h.first), wall(h.first + TimeDelta::days(2))],
            _ => vec![],
        };
        assert_eq!(h.starts_there(), kept, "{choice:?}: the provider");
        assert_eq!(h.starts_here(), kept, "{choice:?}: here");
        assert_eq!(h.titled(CHANGED), 0, "{choice:?}");
    }
}

/// A series with an occurrence the phone changed, deleted here, in a calendar whose
/// policy keeps both; the phone renames the series just before the deletion goes
/// out. The deletion's 412 brings the series back by the policy, with that occurrence
/// as the provider has it. It used to come back without it — shown as the series
/// makes it — until something listed the calendar again (simulation seed 52166).
#[test]
fn a_series_a_policy_brings_back_keeps_its_changed_occurrence() {
    let h = Harness::new();
    h.set_policy("keep_both");
    let (master, master_remote) = h.series();
    h.phone_changes_second(&master_remote);
    h.run();
    assert_eq!(h.second_day_here().as_deref(), Some(CHANGED));
    h.delete_here(&master, None);
    let (state, id) = (&h.cloud.state, master_remote.clone());
    let meddled = Meddled {
        inner: h.cloud.provider(Kind::Graph),
        moment: Moment::BeforeDelete,
        meddle: Mutex::new(Some(Box::new(move || {
            let edit = json!({"email": EMAIL, "id": id, "patch": {"subject": RENAMED}});
            state
                .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
                .expect("rename it on the phone");
        }))),
    };
    let s = h.run_with(&meddled);
    assert_eq!(s.outcome, "ok", "{s:?}");
    assert!(meddled.meddle.lock().expect("hook").is_none(), "renamed");
    h.run();
    h.assert_quiet();
    assert_eq!(h.second_day_here().as_deref(), Some(CHANGED), "here");
    let all: Vec<String> = (0..3).map(|d| wall(h.first + TimeDelta::days(d))).collect();
    assert_eq!(h.starts_here_of(&[RENAMED, CHANGED]), all, "here");
    assert_eq!(h.starts_there_of(&[RENAMED, CHANGED]), all, "the provider");
}

/// An occurrence deleted here that the phone changed (a delete/edit conflict, its
/// removal held apart from the series), the series changed here, then the phone
/// deletes the whole series: Outlook lists the changed instance's removal before the
/// series', so the day, gone on both sides, goes back into the series here on the same
/// page as the series' edit/delete conflict, which must not undo it. Keep mine makes
/// the series again without that day. It came back with it (simulation seed 42240,
/// I1): recording the conflict rewrote the series' row as the page's plan had found it.
#[test]
fn keep_mine_on_a_series_deleted_there_leaves_out_the_day_deleted_here() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    let second = h.first + TimeDelta::days(1);
    h.delete_here(&master, Some(wall(second)));
    h.phone_changes_second(&master_remote);
    h.run();
    assert_eq!(h.open_conflicts().len(), 1);
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&master).expect("the series").input;
        input.location = "Room 9".into();
        let change = EventChange {
            id: master.clone(),
            scope: EditScope::All,
            original_start: None,
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("change the series here");
    }
    h.phone_deletes(&master_remote);
    h.run();
    let open = h.open_conflicts();
    let series = open
        .iter()
        .find(|c| c.event_id == master)
        .expect("the series' conflict");
    assert_eq!(series.kind, "edit_delete", "{open:?}");
    for c in &open {
        resolve_conflict(&h.store, &c.id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    }
    h.run();
    h.run();
    h.assert_quiet();
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    assert_eq!(h.titled(CHANGED), 0);
}

/// The same day and series deleted here, and the series deleted on the phone before
/// either goes out: gone on both sides, the series takes the day's waiting deletion
/// along — no request goes for it, nothing waits.
#[test]
fn a_day_deleted_before_its_series_goes_with_the_series_deleted_on_both_sides() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    h.phone_changes_second(&master_remote);
    h.run();
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.delete_here(&master, None);
    h.phone_deletes(&master_remote);
    let s = h.run();
    assert_eq!((s.pushed, s.conflicts), (0, 0), "{s:?}");
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    assert_eq!(h.open_conflicts(), vec![]);
    h.assert_quiet();
    assert!(h.starts_here().is_empty());
}

/// An occurrence deleted here that the phone changed (a delete/edit conflict, its
/// removal held apart from the series), then the whole series deleted here; returns
/// the series (local and provider ids) and the day's instance as the phone changed it.
/// Deleting the series answers the day's conflict (on record as Keep mine), against
/// the version that conflict showed: the day's deletion waits for the series' with
/// that version as its `If-Match` — never without one, nor with an older one. If
/// `changed_first`, the day was changed here and synced before its deletion (which
/// then carried the version the user had deleted).
fn day_in_conflict_then_series_deleted_here(
    h: &Harness,
    changed_first: bool,
) -> (String, String, RemoteEvent) {
    let (master, master_remote) = h.series();
    if changed_first {
        h.rename_second_here(&master);
        h.run();
    }
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.phone_changes_second(&master_remote);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    let shown: RemoteEvent =
        serde_json::from_str(open[0].remote.as_deref().expect("theirs")).expect("their version");
    assert_eq!(shown.title, CHANGED);
    h.delete_here(&master, None);
    assert_eq!(
        h.open_conflicts(),
        vec![],
        "answered by the series' deletion"
    );
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    let day = outbox
        .iter()
        .find(|o| o.event_id != master)
        .expect("the day's deletion");
    let payload: serde_json::Value =
        serde_json::from_str(day.payload.as_deref().expect("payload")).expect("json");
    assert_eq!(payload["remoteId"], shown.remote_id.as_str());
    assert_eq!(
        payload["etag"].as_str(),
        shown.etag.as_deref(),
        "the version the conflict showed"
    );
    (master, master_remote, shown)
}

/// … and Keep theirs on the series' conflict (the phone renamed it) brings the series
/// back: the day's deletion goes out then, as answered. It went with the series'
/// deletion before — which left their change of a day the user had deleted, and
/// whose conflict is on record as answered for the deletion.
/// The same for a day changed here and synced before, whose deletion went with the
/// version the user deleted: it goes with the one the conflict showed, not into a
/// 412 and a new conflict about the change the user answered.
#[test]
fn a_removal_held_apart_goes_out_after_its_series_comes_back() {
    for changed_first in [false, true] {
        let h = Harness::new();
        let (_, master_remote, _) = day_in_conflict_then_series_deleted_here(&h, changed_first);
        phone_renames(&h, &master_remote, RENAMED);
        h.run();
        let open = h.open_conflicts();
        assert_eq!(open.len(), 1, "{open:?}");
        resolve_conflict(&h.store, &open[0].id, &Choice::KeepTheirs, Utc::now()).expect("answer");
        h.run();
        h.run();
        h.assert_quiet();
        assert_eq!(h.titled(CHANGED), 0, "the day deleted there");
        assert_eq!(h.second_day_here(), None, "and here");
        let rest = h.days.min(5) as usize - 1;
        assert_eq!(h.titled(RENAMED), rest, "the rest, theirs");
        assert_eq!(h.open_conflicts(), vec![], "changed first: {changed_first}");
    }
}

/// … the same, the phone changing that day again meanwhile: the newer change, which
/// the user has not seen, is a conflict of its own with the day's deletion, which
/// waits for the answer — not sent, whatever the answer on the series.
#[test]
fn a_removal_held_apart_meets_a_newer_change_of_its_day_as_a_conflict() {
    const AGAIN: &str = "Pipeline review, moved again on the phone";
    let h = Harness::new();
    let (master, master_remote, shown) = day_in_conflict_then_series_deleted_here(&h, false);
    let edit = json!({"email": EMAIL, "id": shown.remote_id, "patch": {"subject": AGAIN}});
    h.cloud
        .state
        .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
        .expect("change it again on the phone");
    phone_renames(&h, &master_remote, RENAMED);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 2, "the series' and the day's: {open:?}");
    let on_series = open
        .iter()
        .find(|c| c.event_id == master)
        .expect("the series'");
    resolve_conflict(&h.store, &on_series.id, &Choice::KeepTheirs, Utc::now()).expect("answer");
    h.run();
    h.run();
    assert_eq!(h.titled(AGAIN), 1, "their newer change stays there");
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "delete_edit");
    let theirs: RemoteEvent =
        serde_json::from_str(open[0].remote.as_deref().expect("theirs")).expect("json");
    assert_eq!(theirs.title, AGAIN);
}

/// An occurrence deleted here while the phone changed it (a delete/edit conflict, its
/// removal held apart from the series); then the phone makes the series longer,
/// which makes Outlook drop their change while the instance keeps its id. Their
/// change gone, the deletion stands and goes out, as when the series moves to other
/// times; the conflict, still listed, has nothing left to restore. It used to wait
/// for an answer about a change that was gone, and Keep theirs brought it back here
/// only (an exception the provider lacks).
#[test]
fn a_deletion_waiting_on_a_change_outlook_drops_under_the_same_id_goes_out() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    h.phone_changes_second(&master_remote);
    h.run();
    let open = h.open_conflicts();
    assert_eq!(open.len(), 1, "{open:?}");
    h.phone_retimes(&master_remote, Retimed::Longer);
    h.run();
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepTheirs, Utc::now()).expect("answer");
    h.run();
    h.assert_quiet();
    assert_eq!(h.starts_there(), kept, "the provider, answered");
    assert_eq!(h.starts_here(), kept, "here, answered");
    assert_eq!(h.exceptions_here(&master), 0);
}

/// A changed occurrence deleted here while the phone changed it again (its deletion
/// met a 412: a delete/edit conflict), then the whole series deleted here while the
/// phone makes it longer — Outlook drops their change and lists the day as the series
/// makes it, under the same id. Keep theirs on the series brings it back without
/// that day: the day's deletion waited for the series' rather than going with a
/// series that was not here any more.
#[test]
fn a_day_deleted_before_its_series_stays_deleted_through_a_retime_and_keep_theirs() {
    let h = Harness::new();
    let (master, master_remote) = h.series();
    let instance = h.phone_changes_second(&master_remote);
    h.run();
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    phone_renames(&h, &instance.remote_id, RENAMED);
    h.run();
    assert_eq!(h.open_conflicts().len(), 1);
    h.delete_here(&master, None);
    h.phone_retimes(&master_remote, Retimed::Longer);
    h.run();
    let open = h.open_conflicts();
    let series = open
        .iter()
        .find(|c| c.event_id == master)
        .expect("the series' conflict");
    assert_eq!(series.kind, "delete_edit", "{open:?}");
    resolve_conflict(&h.store, &series.id, &Choice::KeepTheirs, Utc::now()).expect("answer");
    h.run();
    h.run();
    h.assert_quiet();
    let kept = vec![wall(h.first), wall(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "the provider");
    assert_eq!(h.starts_here(), kept, "here");
}

/// A day deleted here against the phone's change of it (its removal held apart from
/// the series; the day changed here and synced first, or not), then the whole series
/// deleted here; the phone moves the series an hour later, which drops their change:
/// the day's instance is gone from the listing. Keep theirs on the series' conflict,
/// or a policy that prefers the provider's version (chosen after the day's conflict,
/// which the user answered), brings the series back at its new time without that day,
/// as it does a day removed before the deletion; Keep mine deletes it there. The day
/// came back with the series: its deletion, done there, was remembered nowhere
/// (simulation seed 110033, I1), or — the policy bringing the series back before the
/// same page's removal of the instance — was looked for at the series' old time.
#[test]
fn a_series_brought_back_after_a_move_there_keeps_out_a_day_whose_removal_was_held_apart() {
    for answer in ["keep theirs", "prefer_remote", "keep mine"] {
        for changed_first in [false, true] {
            let case = format!("{answer}, changed first: {changed_first}");
            let h = Harness::new();
            let (master, master_remote, _) =
                day_in_conflict_then_series_deleted_here(&h, changed_first);
            if answer == "prefer_remote" {
                h.set_policy(answer);
            }
            h.phone_retimes(&master_remote, Retimed::Later);
            h.run();
            if answer != "prefer_remote" {
                let open = h.open_conflicts();
                let series = open
                    .iter()
                    .find(|c| c.event_id == master)
                    .expect("the series' conflict");
                assert_eq!(
                    (open.len(), series.kind.as_str()),
                    (1, "delete_edit"),
                    "{case}: {open:?}"
                );
                let choice = match answer {
                    "keep mine" => Choice::KeepMine,
                    _ => Choice::KeepTheirs,
                };
                resolve_conflict(&h.store, &series.id, &choice, Utc::now()).expect("answer");
            }
            h.run();
            h.run();
            h.assert_quiet();
            assert_eq!(h.open_conflicts(), vec![], "{case}");
            let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
            assert!(outbox.is_empty(), "{case}: {outbox:?}");
            assert_eq!(h.titled(CHANGED), 0, "{case}: their change, dropped");
            let kept = match answer {
                "keep mine" => vec![],
                _ => vec![later(h.first), later(h.first + TimeDelta::days(2))],
            };
            assert_eq!(h.starts_there(), kept, "{case}: the provider");
            assert_eq!(h.starts_here(), kept, "{case}: here");
        }
    }
}

/// A changed occurrence synced here (changed on the phone, or here and sent: its
/// deletion's base is then the row itself, or the engine's copy), deleted here; the
/// phone moves the series an hour later while that goes out — before the instance's
/// delete, which then finds nothing (a 404, success) while the series has that day
/// again at its new time; or before the series' update that removes the day, after
/// the delete landed. Outlook's move drops its cancellation either way. The day's
/// removal stays the series' change here, moves with it and goes out. It used to be
/// taken for one of the series' cancellations there (written into its base), and the
/// series' move then read as undoing it: the day back on both sides (simulation seed
/// 86559, I1).
#[test]
fn a_day_deleted_here_stays_deleted_when_its_series_moves_as_the_deletion_goes() {
    for moment in [Moment::BeforeDelete, Moment::BeforeUpdate] {
        for changed_here in [false, true] {
            day_deleted_as_its_series_moves(moment, changed_here);
        }
    }
}

fn day_deleted_as_its_series_moves(moment: Moment, changed_here: bool) {
    let case = format!("{moment:?}, changed here: {changed_here}");
    let h = Harness::new();
    let (master, master_remote) = h.series();
    if changed_here {
        h.rename_second_here(&master);
    } else {
        h.phone_changes_second(&master_remote);
    }
    h.run();
    assert!(h.second_day_here().is_some_and(|t| t != SERIES), "{case}");
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
    let meddled = h.moved_later_at(moment, &master_remote);
    let s = h.run_with(&meddled);
    assert_eq!(s.outcome, "ok", "{case}: {s:?}");
    assert!(
        meddled.meddle.lock().expect("hook").is_none(),
        "{case}: moved"
    );
    h.run();
    h.assert_quiet();
    assert_eq!(h.open_conflicts(), vec![], "{case}");
    let kept = vec![later(h.first), later(h.first + TimeDelta::days(2))];
    assert_eq!(h.starts_there(), kept, "{case}: the provider");
    assert_eq!(h.starts_here(), kept, "{case}: here");
}

/// A day of a series deleted here (a plain occurrence: the series' only change here),
/// the whole series deleted on the phone before that goes out: the series' deletion
/// takes the day's with it — nothing to ask, nothing to send. It used to be an
/// edit/delete conflict on the series, and a policy keeping edits made the series again
/// at the provider (without that day).
#[test]
fn a_series_deleted_there_after_a_day_of_it_was_deleted_here_is_simply_gone() {
    for policy in ["ask", "prefer_local", "keep_both"] {
        let h = Harness::new();
        h.set_policy(policy);
        let (master, master_remote) = h.series();
        h.delete_here(&master, Some(wall(h.first + TimeDelta::days(1))));
        h.phone_deletes(&master_remote);
        let s = h.run();
        assert_eq!((s.pushed, s.conflicts), (0, 0), "{policy}: {s:?}");
        assert_eq!(h.open_conflicts(), vec![], "{policy}");
        let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
        assert!(outbox.is_empty(), "{policy}: {outbox:?}");
        h.assert_quiet();
        assert_eq!(
            h.starts_there(),
            Vec::<String>::new(),
            "{policy}: the provider"
        );
        assert_eq!(h.starts_here(), Vec::<String>::new(), "{policy}: here");
    }
}

/// The phone changes the series' second occurrence (synced here as an exception), the
/// user deletes the third here, and as that deletion goes out the phone deletes the
/// second: the series read back after our delete lists the second day cancelled, and
/// its exception goes here too — unchanged here, simply; changed here (renamed, its
/// update queued after the series'), as an edit/delete conflict that keeps the change.
/// The exception used to stay here, shown on a day its series here removes, until a
/// later listing named the instance's removal; changed in between, Keep mine on its
/// series (deleted there next) made the day again, and the series' removal of it then
/// deleted our own change there with no question (simulation seed 85401, I1). (The
/// changed half held before too — the occurrence's update met the deletion as it went
/// out —: it checks that the earlier answer changes nothing of that.)
#[test]
fn an_exception_cancelled_there_as_a_removal_goes_out_goes_here_too() {
    for changed_here in [false, true] {
        let case = format!("changed here: {changed_here}");
        let h = Harness::new();
        let (master, master_remote) = h.series();
        let instance = h.phone_changes_second(&master_remote);
        h.run();
        assert_eq!(h.second_day_here().as_deref(), Some(CHANGED), "{case}");
        h.delete_here(&master, Some(wall(h.first + TimeDelta::days(2))));
        if changed_here {
            h.rename_second_here(&master);
        }
        let meddled = h.deleted_before_our_delete(&instance.remote_id);
        let s = h.run_with(&meddled);
        assert_eq!(s.outcome, "ok", "{case}: {s:?}");
        assert!(
            meddled.meddle.lock().expect("hook").is_none(),
            "{case}: deleted"
        );
        assert_eq!(
            h.starts_there(),
            vec![wall(h.first)],
            "{case}: the provider"
        );
        let open = h.open_conflicts();
        if !changed_here {
            assert_eq!(h.second_day_here(), None, "{case}: gone here as there");
            assert_eq!(h.exceptions_here(&master), 0, "{case}");
            assert_eq!(h.starts_here(), vec![wall(h.first)], "{case}: here");
            assert_eq!(open, vec![], "{case}");
            h.assert_quiet();
            continue;
        }
        assert_eq!(
            h.second_day_here().as_deref(),
            Some(RENAMED),
            "{case}: the change waits for the user"
        );
        assert_eq!(open.len(), 1, "{case}: {open:?}");
        assert_eq!(open[0].kind.as_str(), "edit_delete", "{case}");
        h.assert_quiet();
        assert_eq!(h.open_conflicts().len(), 1, "{case}");
    }
}

/// A long series' changed occurrence deleted on the phone while this computer's delta
/// token is lost: the full listing that follows spans runs (one page each), and its
/// first page, which lists the series with that day cancelled (not the instance's
/// removal: a full listing names none), takes the occurrence here along rather than
/// leaving it shown until the listing's end.
#[test]
fn an_exception_cancelled_there_goes_with_the_first_page_of_a_full_listing() {
    let h = Harness::with_days(LONG);
    let (master, master_remote) = h.series();
    let instance = h.phone_changes_second(&master_remote);
    h.run();
    assert_eq!(h.second_day_here().as_deref(), Some(CHANGED));
    assert_eq!(h.exceptions_here(&master), 1);
    h.phone_deletes(&instance.remote_id);
    h.lose_delta_token();
    h.pages.set(Some(1));
    let s = h.run();
    assert_eq!(s.conflicts, 0, "{s:?}");
    assert_eq!(h.second_day_here(), None, "gone with the first page");
    assert_eq!(h.exceptions_here(&master), 0);
    h.pages.set(None);
    h.run();
    h.assert_quiet();
    assert_eq!(h.second_day_here(), None);
    assert_eq!(h.open_conflicts(), vec![]);
}

/// The phone changes a long series' 121st occurrence (on the second page of a listing),
/// synced here; the delta token is lost, and a full listing begins, one page per run.
/// The user deletes the third day here; as that goes out, the phone deletes the 121st:
/// the series read back takes it here along. The listing's next page, from when its
/// round began, still shows that occurrence as changed: it must not come back.
#[test]
fn an_exception_cancelled_there_stays_gone_through_the_rest_of_a_listing() {
    let h = Harness::with_days(LONG);
    let (master, master_remote) = h.series();
    let far = h.first + TimeDelta::days(120);
    let instance =
        h.rt.block_on(
            h.graph
                .instance(&h.calendar(), &master_remote, &OriginalStart::Timed(far)),
        )
        .expect("instance")
        .expect("the 121st occurrence");
    phone_renames(&h, &instance.remote_id, CHANGED);
    h.run();
    assert_eq!(h.day_here(120).as_deref(), Some(CHANGED));
    h.lose_delta_token();
    h.pages.set(Some(1));
    h.delete_here(&master, Some(wall(h.first + TimeDelta::days(2))));
    let meddled = h.deleted_before_our_delete(&instance.remote_id);
    let s = h.run_with(&meddled);
    assert_eq!(s.outcome, "ok", "{s:?}");
    assert!(meddled.meddle.lock().expect("hook").is_none(), "deleted");
    assert_eq!(h.day_here(120), None, "taken with the series read back");
    h.run();
    assert_eq!(h.day_here(120), None, "not brought back by the listing");
    assert_eq!(h.exceptions_here(&master), 0);
    h.pages.set(None);
    h.run();
    h.assert_quiet();
    assert_eq!(h.day_here(120), None);
    assert_eq!(h.day_here(2), None);
    assert_eq!(h.open_conflicts(), vec![]);
}
