//! A listing that spans runs (a run stops after `max_pages` pages; the next goes on
//! from the stored cursor) with our writes pushed in between (issue 5). The round's
//! later pages come from a snapshot of when it began (Graph's delta rounds are, as the
//! fake cloud's are): they do not show an event created since, still show one deleted
//! since (a series' instance too), and show an edited one as it was. None may change
//! what the user did: the reconcile at the listing's end must not take the new event
//! for one deleted at the provider, the deleted one must not come back, the edit must
//! not be undone.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::sync::Mutex;

use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, ShowAs,
};
use almanac_provider::{CalendarProvider, OriginalStart, RemoteCalendar, RemoteEvent};
use almanac_store::{EntryState, Source, Store};
use almanac_sync::{resolve_conflict, sync_account, Choice, RunSummary, SyncOptions};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Kind, EMAIL};
use signed_in::signed_in;

const MADE_HERE: &str = "Made here while the listing ran";

/// `t` as a UTC wall time, the way Graph's `dateTime` and the store's inputs write it.
fn wall(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Adds `event` (Graph JSON) to the mailbox's default calendar, as another client.
fn seed(cloud: &Cloud, event: serde_json::Value) {
    let spec = serde_json::from_value(json!({"email": EMAIL, "event": event})).expect("seed spec");
    cloud.state.graph_seed_event(spec).expect("seed");
}

/// A Graph mailbox of 250 events (three pages of the client's 100) and a store signed
/// in to it, synced one page per run: a full listing spans three runs, and each run
/// pushes after its page.
struct Harness {
    cloud: Cloud,
    graph: Box<dyn CalendarProvider>,
    store: Mutex<Store>,
    account: String,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new(t0: DateTime<Utc>) -> Harness {
        let cloud = Cloud::start().with_graph_user();
        for i in 0..250 {
            let start = t0 + TimeDelta::hours(24 + i);
            seed(
                &cloud,
                json!({
                    "subject": format!("Seeded {i}"),
                    "start": {"dateTime": wall(start), "timeZone": "UTC"},
                    "end": {"dateTime": wall(start + TimeDelta::minutes(30)), "timeZone": "UTC"},
                }),
            );
        }
        let graph = cloud.provider(Kind::Graph);
        let (dir, store, account) = signed_in(Provider::Microsoft, EMAIL, t0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Harness {
            cloud,
            graph,
            store,
            account,
            rt,
            _dir: dir,
        }
    }

    /// One run at `now`: one page, then the pushes.
    fn run(&self, now: DateTime<Utc>) -> RunSummary {
        let s = self.run_unanswered(now);
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    }

    /// One run at `now` that may fail: one page, then the pushes.
    fn run_unanswered(&self, now: DateTime<Utc>) -> RunSummary {
        self.rt
            .block_on(sync_account(
                &self.store,
                &*self.graph,
                &self.account,
                &Self::options(),
                &move || now,
            ))
            .expect("run")
    }

    /// A run at `now` in which every `method` request to an event takes effect and
    /// its answer is lost (also the client's retries of it).
    fn run_losing_answers(&self, now: DateTime<Utc>, method: &str) -> RunSummary {
        self.losing_answers(now, method, "/events/")
    }

    fn losing_answers(&self, now: DateTime<Utc>, method: &str, path: &str) -> RunSummary {
        let fault = json!({"add": [{
            "kind": "drop_connection",
            "method": method,
            "path_contains": path,
            "after_processing": true,
            "count": 50,
        }]});
        self.cloud
            .state
            .graph_set_faults(serde_json::from_value(fault).expect("fault spec"))
            .expect("set the fault");
        let s = self.run_unanswered(now);
        let clear = serde_json::from_value(json!({"clear": true})).expect("clear");
        self.cloud
            .state
            .graph_set_faults(clear)
            .expect("clear the fault");
        assert!(s.calendars.iter().any(|c| c.error.is_some()), "{s:?}");
        s
    }

    fn options() -> SyncOptions {
        SyncOptions {
            windowed: true,
            max_pages: 1,
            ..SyncOptions::default()
        }
    }

    fn calendar(&self) -> String {
        self.store
            .lock()
            .expect("store")
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.account_id == self.account && c.is_primary)
            .map(|c| c.id)
            .expect("the default calendar")
    }

    /// (local id, state) of every local event titled `title`.
    fn titled(&self, title: &str) -> Vec<(String, EntryState)> {
        let store = self.store.lock().expect("store");
        let mut out = Vec::new();
        for cal in store.sync_calendars(None).expect("calendars") {
            for e in store.sync_entries(&cal.id).expect("entries") {
                if e.row.as_ref().is_some_and(|r| r.input.title == title) {
                    out.push((e.local_id, e.state));
                }
            }
        }
        out
    }

    /// Whether the calendar's listing under way began from empty, and how many ids it
    /// has kept.
    fn listing(&self, calendar: &str) -> (bool, usize) {
        self.store
            .lock()
            .expect("store")
            .sync_step(0, |tx| {
                Ok::<_, almanac_store::StoreError>((
                    tx.listing_from_empty(calendar)?,
                    tx.listing_ids(calendar)?.len(),
                ))
            })
            .expect("listing state")
    }

    /// Makes the event [`MADE_HERE`] in the default calendar on `at`'s day, 07:00–07:45.
    fn create_here(&self, at: DateTime<Utc>) {
        let day = at.date_naive();
        let calendar_id = self.calendar();
        self.store
            .lock()
            .expect("store")
            .create_event(
                EventInput {
                    calendar_id,
                    title: MADE_HERE.into(),
                    all_day: false,
                    start: format!("{day}T07:00:00"),
                    end: format!("{day}T07:45:00"),
                    time_zone: "UTC".into(),
                    recurrence: None,
                    location: String::new(),
                    description: String::new(),
                    show_as: ShowAs::Busy,
                    importance: Importance::Normal,
                    categories: Vec::new(),
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("create here");
    }

    /// The mailbox's delta token is lost: the next run lists the calendar again.
    fn invalidate_delta(&self) {
        let fault = json!({"invalidate_delta": {"email": EMAIL, "mode": "gone"}});
        self.cloud
            .state
            .graph_set_faults(serde_json::from_value(fault).expect("fault spec"))
            .expect("invalidate the token");
    }

    /// A run at `now` in which every create takes effect and its answer is lost.
    fn run_losing_creates(&self, now: DateTime<Utc>) -> RunSummary {
        self.losing_answers(now, "POST", "/events")
    }

    /// How many events titled `title` the provider has.
    fn at_provider(&self, title: &str) -> usize {
        let events = self.cloud.state.graph_events(EMAIL).expect("events");
        events["value"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["subject"] == title)
            .count()
    }
}

#[test]
fn a_create_pushed_during_a_listing_is_not_taken_for_a_deletion() {
    let t0 = Utc::now();
    let h = Harness::new(t0);
    let run = || h.run(Utc::now());

    // The first run lists the calendars and the first page; the event is made here
    // then, in the calendar the listing is under way for.
    let s = run();
    assert_eq!(s.pulled, 100, "{s:?}");
    h.create_here(t0 + TimeDelta::days(2));

    // The second run lists the second page and pushes the create: the listing is not
    // over, and its last page comes from the round that began before the create.
    let s = run();
    assert_eq!((s.pulled, s.pushed), (100, 1), "{s:?}");
    let made = h.titled(MADE_HERE);
    assert_eq!(made.len(), 1, "{made:?}");
    let (local_id, _) = made[0].clone();
    // The third lists the last page, which ends the listing; it never showed the event.
    let s = run();
    assert_eq!(s.pulled, 50, "{s:?}");
    assert_eq!(
        h.titled(MADE_HERE),
        [(local_id.clone(), EntryState::Synced)],
        "the new event was taken for a deletion ({s:?})"
    );
    // And the rounds after bring nothing twice.
    for _ in 0..2 {
        run();
    }
    assert_eq!(h.titled(MADE_HERE), [(local_id, EntryState::Synced)]);
    assert_eq!(
        h.at_provider(MADE_HERE),
        1,
        "exactly one copy at the provider"
    );
}

/// The same for a delete: pushed while a new listing of the calendar is under way,
/// whose later pages (from a round that began before it) still show the event.
#[test]
fn a_delete_pushed_during_a_listing_does_not_bring_the_event_back() {
    const GONE: &str = "Seeded 240";
    let t0 = Utc::now();
    let h = Harness::new(t0);
    for _ in 0..3 {
        h.run(t0);
    }
    let local = h.titled(GONE);
    assert_eq!(local.len(), 1, "{local:?}");
    // Two months on, the window has moved on enough for a new listing (see window.rs);
    // its first page comes, then the event is deleted here.
    let t1 = t0 + TimeDelta::days(60);
    let s = h.run(t1);
    assert_eq!(
        s.pulled, 0,
        "a new listing of what is here changes nothing: {s:?}"
    );
    h.store
        .lock()
        .expect("store")
        .delete_event(
            EventTarget {
                id: local[0].0.clone(),
                scope: EditScope::All,
                original_start: None,
            },
            Source::Cli,
            t1,
        )
        .expect("delete here");
    let s = h.run(t1);
    assert_eq!(s.pushed, 1, "{s:?}");
    assert_eq!(h.at_provider(GONE), 0);
    // The listing's last page still shows it.
    let s = h.run(t1);
    assert_eq!(h.titled(GONE), [], "the deleted event came back ({s:?})");
    for _ in 0..2 {
        h.run(t1);
    }
    assert_eq!(h.titled(GONE), []);
    assert_eq!(h.at_provider(GONE), 0);
}

/// And for an edit: the round's later pages show the event as it was before it.
#[test]
fn an_edit_pushed_during_a_listing_is_not_undone_by_it() {
    const EDITED: &str = "Seeded 240";
    const RENAMED: &str = "Renamed here";
    let t0 = Utc::now();
    let h = Harness::new(t0);
    for _ in 0..3 {
        h.run(t0);
    }
    let t1 = t0 + TimeDelta::days(60);
    h.run(t1);
    let calendar = h.calendar();
    let (id, input) = {
        let store = h.store.lock().expect("store");
        store
            .sync_entries(&calendar)
            .expect("entries")
            .into_iter()
            .find_map(|e| {
                let row = e.row?;
                (row.input.title == EDITED).then_some((e.local_id, row.input))
            })
            .expect("the event")
    };
    h.store
        .lock()
        .expect("store")
        .update_event(
            EventChange {
                id: id.clone(),
                scope: EditScope::All,
                original_start: None,
                input: EventInput {
                    title: RENAMED.into(),
                    ..input
                },
            },
            Source::Cli,
            t1,
        )
        .expect("edit here");
    let s = h.run(t1);
    assert_eq!(s.pushed, 1, "{s:?}");
    assert_eq!(h.at_provider(RENAMED), 1);
    // The listing's last page still shows the old title.
    let s = h.run(t1);
    assert_eq!(
        h.titled(RENAMED),
        [(id.clone(), EntryState::Synced)],
        "the edit was undone ({s:?})"
    );
    assert_eq!(s.conflicts, 0, "{s:?}");
    for _ in 0..2 {
        h.run(t1);
    }
    assert_eq!(h.titled(RENAMED), [(id, EntryState::Synced)]);
    assert_eq!(h.titled(EDITED), []);
    assert_eq!(h.at_provider(EDITED), 0);
}

/// A daily series of five, seeded on the listing's last page and synced here.
struct LastPageSeries {
    /// Its first start (a whole minute, UTC).
    first: DateTime<Utc>,
    local_id: String,
    remote_id: String,
    calendar: RemoteCalendar,
}

impl LastPageSeries {
    const TITLE: &str = "Daily review";

    /// Seeds it and runs the first listing (three runs at `t0`).
    fn new(h: &Harness, t0: DateTime<Utc>) -> LastPageSeries {
        // From just after the 246th event: the series lies on the last page.
        let first = t0 + TimeDelta::hours(24 + 245) + TimeDelta::minutes(40);
        // On a whole minute, as the provider keeps it.
        let first = DateTime::from_timestamp(first.timestamp() / 60 * 60, 0).expect("a time");
        seed(
            &h.cloud,
            json!({
                "subject": Self::TITLE,
                "start": {"dateTime": wall(first), "timeZone": "UTC"},
                "end": {"dateTime": wall(first + TimeDelta::minutes(15)), "timeZone": "UTC"},
                "recurrence": {
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "startDate": first.date_naive().to_string(), "numberOfOccurrences": 5},
                },
            }),
        );
        for _ in 0..3 {
            h.run(t0);
        }
        let series = h.titled(Self::TITLE);
        assert_eq!(series.len(), 1, "{series:?}");
        let here = h.calendar();
        let (local_id, remote_id) = {
            let store = h.store.lock().expect("store");
            let e = store
                .sync_entries(&here)
                .expect("entries")
                .into_iter()
                .find(|e| e.local_id == series[0].0)
                .expect("the series");
            (e.local_id, e.remote_id.expect("a synced series"))
        };
        let calendar =
            h.rt.block_on(h.graph.list_calendars())
                .expect("calendars")
                .into_iter()
                .find(|c| c.is_primary)
                .expect("the default calendar");
        LastPageSeries {
            first,
            local_id,
            remote_id,
            calendar,
        }
    }

    /// The start of its third occurrence.
    fn third(&self) -> DateTime<Utc> {
        self.first + TimeDelta::days(2)
    }

    /// Its third occurrence's instance at the provider, if it has one.
    fn third_there(&self, h: &Harness) -> Option<RemoteEvent> {
        h.rt.block_on(h.graph.instance(
            &self.calendar,
            &self.remote_id,
            &OriginalStart::Timed(self.third()),
        ))
        .expect("instances")
    }

    /// Deletes its third occurrence here, at `at`.
    fn delete_third_here(&self, h: &Harness, at: DateTime<Utc>) {
        h.store
            .lock()
            .expect("store")
            .delete_event(
                EventTarget {
                    id: self.local_id.clone(),
                    scope: EditScope::Occurrence,
                    original_start: Some(wall(self.third())),
                },
                Source::Cli,
                at,
            )
            .expect("delete the occurrence here");
    }

    /// The series' removed dates here.
    fn exdates_here(&self, h: &Harness) -> Vec<String> {
        h.store
            .lock()
            .expect("store")
            .get_event(&self.local_id)
            .expect("the series")
            .input
            .recurrence
            .expect("a rule")
            .exdates
    }
}

/// And for an occurrence deleted here (Graph keeps no EXDATEs: the engine deletes the
/// instance before updating the series) that another client had changed meanwhile —
/// a conflict, the deletion kept by the user: the round's later pages still show that
/// changed instance.
#[test]
fn an_occurrence_deleted_during_a_listing_does_not_come_back() {
    const CHANGED: &str = "Daily review, moved by the phone";
    let t0 = Utc::now();
    let h = Harness::new(t0);
    let series = LastPageSeries::new(&h, t0);
    // The phone changes the third occurrence: an exception at the provider, not seen
    // here yet.
    let occurrence = series.third_there(&h).expect("the third occurrence");
    let edit = serde_json::from_value(json!({
        "email": EMAIL,
        "id": occurrence.remote_id,
        "patch": {"subject": CHANGED},
    }))
    .expect("edit spec");
    h.cloud.state.graph_edit_event(edit).expect("edit");
    // A new listing's first page (its round shows the changed instance on its last
    // page); then the user deletes that occurrence here.
    let t1 = t0 + TimeDelta::days(60);
    h.run(t1);
    series.delete_third_here(&h, t1);
    // The deletion here meets the phone's change: a conflict (the series' update
    // used to delete the instance with it), and the round's later pages, showing the
    // changed instance, neither bring it back as an event of its own nor raise the
    // conflict again.
    let s = h.run(t1);
    assert_eq!(s.conflicts, 1, "{s:?}");
    assert!(
        series.third_there(&h).is_some(),
        "their change waits for the user"
    );
    for _ in 0..2 {
        h.run(t1);
    }
    assert_eq!(h.titled(CHANGED), []);
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, "delete_edit");
    // The user keeps the deletion: it goes out, and the listing under way does not
    // bring the instance back.
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepMine, t1).expect("keep mine");
    h.run(t1);
    assert!(
        series.third_there(&h).is_none(),
        "the occurrence is deleted at the provider"
    );
    let s = h.run(t1);
    assert_eq!(
        h.titled(CHANGED),
        [],
        "the deleted occurrence came back ({s:?})"
    );
    for _ in 0..2 {
        h.run(t1);
    }
    assert_eq!(h.titled(CHANGED), []);
    assert!(series.third_there(&h).is_none());
    assert_eq!(h.titled(LastPageSeries::TITLE).len(), 1);
    assert_eq!(
        series.exdates_here(&h),
        [wall(series.third())],
        "the series still skips the occurrence"
    );
}

/// The same with both answers lost: an occurrence changed here (its update of the
/// instance lands, the answer does not come back), then deleted here; a new listing
/// begins (its round shows the instance as changed here), and the instance's delete
/// lands unanswered too. The series' retry finds no instance and goes out alone, so
/// nothing else tells the round's last page, which still shows the changed instance,
/// that it is gone (simulation seed 31369: it came back as an event of its own).
#[test]
fn an_occurrence_deleted_during_a_listing_with_its_answers_lost_does_not_come_back() {
    const CHANGED_HERE: &str = "Daily review, with the customer";
    let t0 = Utc::now();
    let h = Harness::new(t0);
    let series = LastPageSeries::new(&h, t0);
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&series.local_id).expect("the series").input;
        input.title = CHANGED_HERE.into();
        input.start = wall(series.third());
        input.end = wall(series.third() + TimeDelta::minutes(15));
        let change = EventChange {
            id: series.local_id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(wall(series.third())),
            input,
        };
        store
            .update_event(change, Source::Cli, t0)
            .expect("change the occurrence here");
    }
    h.run_losing_answers(t0, "PATCH");
    let changed = series.third_there(&h).expect("the third occurrence");
    assert_eq!(changed.title, CHANGED_HERE, "the change landed");
    series.delete_third_here(&h, t0);
    // A new listing's first page, then the instance's delete.
    let t1 = t0 + TimeDelta::days(60);
    h.run_losing_answers(t1, "DELETE");
    assert!(series.third_there(&h).is_none(), "the delete landed");
    // Its second page, once the series is due again: no instance left to delete, its
    // update meets a 412 (the delete changed the series), and the series read back
    // has the occurrence cancelled: nothing left to send.
    let t2 = t1 + TimeDelta::minutes(2);
    h.run(t2);
    let pending = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert_eq!(pending, [], "all settled");
    let calendar = h.calendar();
    assert!(h.listing(&calendar).1 > 0, "the listing is under way");
    // Its last page shows the instance as changed here.
    let s = h.run(t2);
    assert_eq!(h.listing(&calendar), (false, 0), "the listing is over");
    assert_eq!(
        h.titled(CHANGED_HERE),
        [],
        "the deleted occurrence came back ({s:?})"
    );
    for _ in 0..2 {
        h.run(t2);
    }
    assert_eq!(h.titled(CHANGED_HERE), []);
    assert!(series.third_there(&h).is_none());
    assert_eq!(
        series.exdates_here(&h),
        [wall(series.third())],
        "the series still skips the occurrence"
    );
    let s = h.run(t2);
    assert_eq!((s.pulled, s.pushed, s.conflicts), (0, 0, 0), "{s:?}");
}

/// A first listing begins with nothing to reconcile: it keeps none of the ids it shows
/// (on a first sync that bookkeeping was a quarter of applying a page) and its end
/// removes nothing, also when it spans runs. A listing of a calendar that has events
/// keeps them, and its end removes what it no longer shows.
#[test]
fn only_a_listing_of_a_calendar_with_events_keeps_the_ids_it_showed() {
    const GONE: &str = "Seeded 120";
    let t0 = Utc::now();
    let h = Harness::new(t0);
    let s = h.run(t0);
    assert_eq!(s.pulled, 100, "{s:?}");
    assert!(
        s.calendars_changed,
        "the first run brings the calendars: {s:?}"
    );
    let calendar = h.calendar();
    assert_eq!(
        h.listing(&calendar),
        (true, 0),
        "begun from empty, no ids kept"
    );
    let s = h.run(t0);
    assert!(!s.calendars_changed, "the same calendars again: {s:?}");
    assert_eq!(h.listing(&calendar), (true, 0));
    let s = h.run(t0);
    assert_eq!(s.pulled, 50, "{s:?}");
    assert_eq!(h.listing(&calendar), (false, 0), "the listing is over");
    assert_eq!(h.titled(GONE).len(), 1);
    let seeded = (0..250)
        .filter(|i| h.titled(&format!("Seeded {i}")).len() == 1)
        .count();
    assert_eq!(seeded, 250, "every event listed once, none removed");

    // Deleted there while this computer's delta token was lost: the listing that
    // follows begins with 250 events here and never names it.
    let remote = {
        let store = h.store.lock().expect("store");
        store
            .sync_entries(&calendar)
            .expect("entries")
            .into_iter()
            .find(|e| e.row.as_ref().is_some_and(|r| r.input.title == GONE))
            .and_then(|e| e.remote_id)
            .expect("its remote id")
    };
    h.cloud
        .state
        .graph_delete_event(
            serde_json::from_value(json!({"email": EMAIL, "id": remote})).expect("delete spec"),
        )
        .expect("delete there");
    h.invalidate_delta();
    let t1 = t0 + TimeDelta::minutes(5);
    let s = h.run(t1);
    assert_eq!(
        s.pulled, 0,
        "a listing of what is here changes nothing: {s:?}"
    );
    let (from_empty, kept) = h.listing(&calendar);
    assert!(!from_empty);
    assert_eq!(kept, 100, "the first page's ids are kept");
    h.run(t1);
    assert_eq!(
        h.titled(GONE).len(),
        1,
        "not removed before the listing ends"
    );
    h.run(t1);
    assert_eq!(
        h.titled(GONE),
        [],
        "the listing's end removes what it did not show"
    );
    assert_eq!(h.listing(&calendar), (false, 0));
}

/// Our create landed with its answer lost, the event deleted in Outlook before the
/// retry, which makes it again there under a new id (Graph's `transactionId` names no
/// event any more): the rest of a listing begun before the deletion still shows the
/// first copy, with our create's key. It is not taken for an event of its own.
#[test]
fn a_create_made_again_in_outlook_is_not_taken_twice_from_a_listing() {
    let t0 = Utc::now();
    let h = Harness::new(t0);
    for _ in 0..3 {
        h.run(t0);
    }
    h.create_here(t0 + TimeDelta::days(12));
    h.run_losing_creates(t0);
    // A new listing begins, showing the first copy on its last page; the retry's
    // answer is lost too (Outlook answers with that copy).
    h.invalidate_delta();
    h.run_losing_creates(t0 + TimeDelta::minutes(2));
    let copies = h.cloud.state.graph_events(EMAIL).expect("events");
    let first: Vec<&str> = copies["value"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["subject"] == MADE_HERE)
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(first.len(), 1, "{copies}");
    h.cloud
        .state
        .graph_delete_event(
            serde_json::from_value(json!({"email": EMAIL, "id": first[0]})).expect("delete spec"),
        )
        .expect("delete there");
    let t1 = t0 + TimeDelta::minutes(4);
    let s = h.run(t1);
    assert_eq!(s.pushed, 1, "made again: {s:?}");
    assert_eq!(h.at_provider(MADE_HERE), 1);
    // The assert that tells: taken, the first copy would go again with the next
    // round, which lists its deletion.
    let s = h.run(t1);
    assert_eq!(
        h.titled(MADE_HERE).len(),
        1,
        "the first copy was taken for an event of its own ({s:?})"
    );
    for _ in 0..2 {
        h.run(t1);
    }
    assert_eq!(h.titled(MADE_HERE).len(), 1);
    assert_eq!(h.at_provider(MADE_HERE), 1);
}
