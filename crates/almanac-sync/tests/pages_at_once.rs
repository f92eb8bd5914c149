//! Pages that are already here when the one before them is applied are applied
//! together, in one transaction, each page with its cursor (issue 5 item 8). None of
//! that may show: a page the mass-deletion guard stops keeps the pages before it
//! applied and their cursor stored, as does a page that fails to come. The pages are
//! replayed, so each is here as soon as it is asked for.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[allow(dead_code)]
#[path = "../benches/sync/replay.rs"]
mod replay;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::collections::HashMap;
use std::sync::Mutex;

use almanac_model::EventKind;
use almanac_model::{EventInput, Importance, ShowAs};
use almanac_provider::{Change, ChangePage, Cursor, ErrorKind};
use almanac_store::{Source, Store, SyncCalendar};
use almanac_sync::{sync_account, CalendarRun, RunSummary, SyncOptions};
use chrono::{DateTime, Utc};

use cloud::{Cloud, Kind};
use replay::Replay;
use signed_in::signed_in;

/// Events seeded in the calendar (the first a weekly series, the rest single).
const SEEDED: usize = 30;

struct Harness {
    cloud: Cloud,
    replay: Replay,
    store: Mutex<Store>,
    account: String,
    calendar: String,
    _dir: tempfile::TempDir,
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("now")
}

impl Harness {
    /// A Graph calendar of [`SEEDED`] events, synced once from the fake cloud.
    fn synced() -> Harness {
        let cloud = Cloud::start().with_graph_user();
        let calendar = cloud.seed(Kind::Graph, 1, SEEDED, now()).remove(0);
        let (dir, store, account) = signed_in(Kind::Graph.provider(), cloud::EMAIL, now());
        let h = Harness {
            replay: Replay {
                inner: cloud.provider(Kind::Graph),
                pages: Mutex::new(HashMap::new()),
                then: None,
                calendars: None,
            },
            cloud,
            store,
            account,
            calendar,
            _dir: dir,
        };
        let first = h.run();
        assert_eq!(first.outcome, "ok", "{first:?}");
        h
    }

    fn run(&self) -> RunSummary {
        self.run_with(&Kind::Graph.options())
    }

    fn run_with(&self, options: &SyncOptions) -> RunSummary {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(sync_account(
            &self.store,
            &self.replay,
            &self.account,
            options,
            &now,
        ))
        .expect("run")
    }

    fn stored(&self) -> SyncCalendar {
        self.store
            .lock()
            .expect("store")
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.remote_id == self.calendar)
            .expect("the seeded calendar")
    }

    /// What `run` did in the seeded calendar.
    /// The user makes an event in the calendar: a create to push.
    fn make_here(&self) {
        let calendar_id = self.stored().id;
        let day = now().date_naive() + chrono::Days::new(3);
        self.store
            .lock()
            .expect("store")
            .create_event(
                EventInput {
                    calendar_id,
                    title: "Made here".into(),
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
                now(),
            )
            .expect("create here");
    }

    fn calendar_run(&self, run: &RunSummary) -> CalendarRun {
        let id = self.stored().id;
        run.calendars
            .iter()
            .find(|c| c.calendar_id == id)
            .cloned()
            .expect("the calendar's run")
    }

    /// Remote ids of the calendar's single events, as the store holds them.
    fn singles(&self) -> Vec<String> {
        let id = self.stored().id;
        let mut ids: Vec<String> = self
            .store
            .lock()
            .expect("store")
            .sync_entries(&id)
            .expect("entries")
            .into_iter()
            .filter(|e| e.row.as_ref().is_some_and(|r| r.kind == EventKind::Single))
            .filter_map(|e| e.remote_id)
            .collect();
        ids.sort();
        ids
    }

    /// The next changes the calendar lists: `pages`, each removing the given events.
    fn replay(&self, pages: Vec<(Vec<String>, Cursor)>) {
        let pages = pages
            .into_iter()
            .map(|(gone, cursor)| ChangePage {
                changes: gone
                    .into_iter()
                    .map(|remote_id| Change::Removed { remote_id })
                    .collect(),
                cursor,
                full_listing: false,
                restarted: false,
                unreadable: Vec::new(),
            })
            .collect();
        let mut replayed = self.replay.pages.lock().expect("pages");
        replayed.insert(self.calendar.clone(), pages);
    }
}

fn more(c: &str) -> Cursor {
    Cursor::More(c.into())
}

/// A calendar list with no calendar in it (every account has its own) is an answer
/// gone wrong: the run fails and says so, and nothing is removed here.
#[test]
fn a_calendar_list_without_calendars_removes_nothing() {
    let mut h = Harness::synced();
    let singles = h.singles();
    h.replay.calendars = Some(Vec::new());
    let run = h.run();
    assert_eq!(run.outcome, "failed", "{run:?}");
    let error = run.error.clone().expect("the run says why");
    assert!(error.message.contains("no calendars"), "{error:?}");
    assert_eq!(h.singles(), singles, "the calendar and its events stay");
    // The next list is the real one again: the calendar syncs as before.
    h.replay.calendars = None;
    assert_eq!(h.run().outcome, "ok");
}

/// A given-up round is still told when the push after it fails: the push's error
/// (what to do now) says it too.
#[test]
fn a_round_given_up_is_told_when_the_push_after_it_fails_too() {
    let mut h = Harness::synced();
    let options = SyncOptions {
        max_pages: 10,
        longest_round: 5,
        ..Kind::Graph.options()
    };
    h.replay(
        (0..8)
            .map(|i| (Vec::new(), more(&format!("page-{i}"))))
            .collect(),
    );
    h.replay.then = Some(ErrorKind::ProviderUnavailable);
    h.make_here();
    // The create meets a captive portal's page, not Graph.
    let faults = serde_json::json!({"add": [{
        "kind": "captive_portal",
        "method": "POST",
        "path_contains": "/events",
        "count": 5,
    }]});
    h.cloud
        .state
        .graph_set_faults(serde_json::from_value(faults).expect("faults"))
        .expect("set faults");
    let run = h.run_with(&options);
    let cal = h.calendar_run(&run);
    assert_eq!(cal.pushed, 0, "{run:?}");
    let error = cal.error.clone().expect("the run has an error");
    assert!(
        error
            .message
            .starts_with("Microsoft 365 answered with something that is not"),
        "the push's error leads: {error:?}"
    );
    assert!(error.message.contains("5 pages"), "{error:?}");
    assert!(error.message.contains("from the start"), "{error:?}");
    assert_eq!(h.stored().cursor, None, "listed again from the start");
}

#[test]
fn a_page_the_guard_stops_keeps_the_pages_before_it_applied() {
    let h = Harness::synced();
    let singles = h.singles();
    assert_eq!(singles.len(), SEEDED - 1);
    // Three pages here at once: one event gone, then 19 of the other 28 (over half:
    // the guard's), then the end of the round.
    h.replay(vec![
        (vec![singles[0].clone()], more("after-first")),
        (singles[1..20].to_vec(), more("after-second")),
        (Vec::new(), Cursor::Done("done".into())),
    ]);
    let run = h.run();
    let cal = h.calendar_run(&run);
    let held = cal.held.expect("the guard stops the second page");
    assert_eq!(held.would_delete, 19, "{run:?}");
    assert_eq!(cal.pulled, 1, "the first page counts as applied: {run:?}");
    assert_eq!(
        h.singles(),
        singles[1..].to_vec(),
        "only the first page applied"
    );
    let stored = h.stored();
    assert_eq!(
        stored.cursor.as_deref(),
        Some("more#1:after-first"),
        "the first page's cursor, with it"
    );
    assert!(stored.hold.is_some(), "the calendar waits for the user");
}

#[test]
fn pages_here_before_one_that_fails_are_applied_with_their_cursor() {
    let mut h = Harness::synced();
    let singles = h.singles();
    h.replay.then = Some(ErrorKind::ProviderUnavailable);
    h.replay(vec![
        (vec![singles[0].clone()], more("after-first")),
        (vec![singles[1].clone()], more("after-second")),
    ]);
    let run = h.run();
    let cal = h.calendar_run(&run);
    assert!(cal.error.is_some(), "the third page failed: {run:?}");
    assert_eq!(cal.pulled, 2, "{run:?}");
    assert_eq!(h.singles(), singles[2..].to_vec());
    assert_eq!(h.stored().cursor.as_deref(), Some("more#2:after-second"));
}

/// A provider whose round never ends (its next page always another): each run read
/// `max_pages` of it and said "ok", for ever. Past `longest_round` pages, counted
/// across runs, the round is given up — its pages applied, its cursor dropped so the
/// next run lists the calendar from the start — and the run says so; the push still
/// goes.
#[test]
fn a_round_that_never_ends_is_given_up_and_told_and_the_push_still_goes() {
    let mut h = Harness::synced();
    let singles = h.singles();
    let options = SyncOptions {
        max_pages: 3,
        longest_round: 5,
        ..Kind::Graph.options()
    };
    // Page 2 removes an event; the others are empty, and none ends the round.
    h.replay(
        (0..8)
            .map(|i| {
                let gone = if i == 1 {
                    vec![singles[0].clone()]
                } else {
                    Vec::new()
                };
                (gone, more(&format!("page-{i}")))
            })
            .collect(),
    );
    h.replay.then = Some(ErrorKind::ProviderUnavailable);
    let first = h.run_with(&options);
    assert_eq!(
        first.outcome, "ok",
        "three pages of a long round: {first:?}"
    );
    assert_eq!(h.stored().cursor.as_deref(), Some("more#3:page-2"));
    assert_eq!(h.singles(), singles[1..].to_vec(), "its pages are applied");
    // Made here before the run that gives the round up: it goes all the same.
    h.make_here();
    let second = h.run_with(&options);
    let cal = h.calendar_run(&second);
    let error = cal
        .error
        .clone()
        .expect("the run says the round was given up");
    assert_eq!(error.code, almanac_model::ErrorCode::ProviderUnavailable);
    assert!(error.message.contains("5 pages"), "{error:?}");
    assert!(error.message.contains("from the start"), "{error:?}");
    assert_eq!(second.outcome, "partial", "{second:?}");
    assert_eq!(cal.pushed, 1, "the push went: {second:?}");
    assert_eq!(h.stored().cursor, None, "listed again from the start");
    // Only pages 4 and 5 were asked for: the round ended there.
    let left = h.replay.pages.lock().expect("pages")[&h.calendar].len();
    assert_eq!(left, 3, "no page asked for past the fifth");
    // The next run lists the calendar again (the real provider), and ends.
    h.replay.then = None;
    h.replay.pages.lock().expect("pages").clear();
    let third = h.run_with(&options);
    assert_eq!(third.outcome, "ok", "{third:?}");
    assert!(
        h.stored()
            .cursor
            .as_deref()
            .is_some_and(|c| c.starts_with("done:")),
        "{:?}",
        h.stored().cursor
    );
}
