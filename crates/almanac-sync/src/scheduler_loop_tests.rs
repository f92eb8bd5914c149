//! The scheduler's loop on tokio's paused clock: its sleeps take no real time, and
//! the wall clock it is given is that virtual time plus `jump` (a suspended machine).

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use almanac_model::Provider;
use almanac_provider::{
    BoxFuture, ChangePage, Deleted, ErrorKind, OriginalStart, ProviderError, RemoteCalendar,
    RemoteEvent, Window,
};
use almanac_store::SignedIn;

use super::*;
use crate::run::SyncOptions;

/// An account's provider: listing its calendars takes `takes`, then answers its
/// one calendar, empty (every account has one: a list with none is a failed run), or
/// fails as `fails` says (with its `Retry-After`).
#[derive(Clone, Copy)]
struct Listing {
    takes: Duration,
    fails: Option<(ErrorKind, Option<Duration>)>,
    /// The run's task panics instead (a bug in the engine).
    panics: bool,
}

fn not_here<T>() -> almanac_provider::Result<T> {
    Err(ProviderError::new(
        ErrorKind::InvalidRequest,
        "no calendar is listed",
    ))
}

impl CalendarProvider for Listing {
    fn list_calendars(&self) -> BoxFuture<'_, almanac_provider::Result<Vec<RemoteCalendar>>> {
        Box::pin(async move {
            tokio::time::sleep(self.takes).await;
            assert!(!self.panics, "a bug in the engine");
            match self.fails {
                None => Ok(vec![RemoteCalendar {
                    remote_id: "primary".into(),
                    name: "Calendar".into(),
                    color: "#3366cc".into(),
                    can_edit: true,
                    is_primary: true,
                    owner_email: None,
                    time_zone: None,
                    extra: serde_json::Map::new(),
                }]),
                Some((kind, retry_after)) => Err(ProviderError {
                    retry_after,
                    ..ProviderError::new(kind, "listing the calendars failed")
                }),
            }
        })
    }
    fn changes<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: Option<&'a str>,
        _: Window,
    ) -> BoxFuture<'a, almanac_provider::Result<ChangePage>> {
        Box::pin(async {
            Ok(ChangePage {
                changes: Vec::new(),
                cursor: almanac_provider::Cursor::Done("empty".into()),
                full_listing: true,
                restarted: false,
                unreadable: Vec::new(),
            })
        })
    }
    fn event<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: &'a str,
    ) -> BoxFuture<'a, almanac_provider::Result<Option<RemoteEvent>>> {
        Box::pin(async { not_here() })
    }
    fn instance<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: &'a str,
        _: &'a OriginalStart,
    ) -> BoxFuture<'a, almanac_provider::Result<Option<RemoteEvent>>> {
        Box::pin(async { not_here() })
    }
    fn exdates_in_rule(&self) -> bool {
        true
    }
    fn creation_key(&self, _: &RemoteEvent) -> Option<String> {
        None
    }
    fn create<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: &'a RemoteEvent,
        _: &'a str,
    ) -> BoxFuture<'a, almanac_provider::Result<RemoteEvent>> {
        Box::pin(async { not_here() })
    }
    fn update<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: &'a RemoteEvent,
        _: &'a str,
    ) -> BoxFuture<'a, almanac_provider::Result<RemoteEvent>> {
        Box::pin(async { not_here() })
    }
    fn delete<'a>(
        &'a self,
        _: &'a RemoteCalendar,
        _: &'a str,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, almanac_provider::Result<Deleted>> {
        Box::pin(async { not_here() })
    }
}

/// A provider answering after `secs` seconds, as `fails` says.
fn answering(secs: u64, fails: Option<(ErrorKind, Option<Duration>)>) -> Option<Listing> {
    Some(Listing {
        takes: Duration::from_secs(secs),
        fails,
        panics: false,
    })
}

/// What each account's runs meet: `None` makes connecting fail.
type Plan = HashMap<String, Option<Listing>>;

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Mutex<Store>>,
    scheduler: Scheduler,
    /// Runs begun (connects), per account.
    runs: Arc<Mutex<HashMap<String, usize>>>,
    /// Times the loop read the clock.
    reads: Arc<AtomicUsize>,
    /// Seconds the wall clock is ahead of the loop's sleeps.
    jump: Arc<AtomicI64>,
    /// What the loop published.
    events: Arc<Mutex<Vec<SyncEvent>>>,
    /// The next run the store showed as each run's end was published.
    next_when_told: Arc<Mutex<Vec<Option<i64>>>>,
    ids: Vec<String>,
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("time")
}

/// A store with `accounts` signed in, and the loop started over them, each
/// account meeting what `plan(index)` says.
fn world(accounts: usize, opts: ScheduleOptions, plan: impl Fn(usize) -> Option<Listing>) -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_at(dir.path()).expect("store");
    let mut ids = Vec::new();
    let mut plans = Plan::new();
    for n in 0..accounts {
        let (account, _) = store
            .record_sign_in(
                &SignedIn {
                    provider: Provider::Google,
                    subject: format!("https://accounts.google.com/{n}"),
                    email: format!("user{n}@example.com"),
                    display_name: format!("User {n}"),
                    authority: "https://accounts.google.com".into(),
                },
                t0().timestamp(),
            )
            .expect("sign in");
        plans.insert(account.id.clone(), plan(n));
        ids.push(account.id);
    }
    let store = Arc::new(Mutex::new(store));
    let runs = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let plans = Arc::new(plans);
    let connect: Arc<Connect> = {
        let runs = runs.clone();
        Arc::new(move |a: &Account| {
            *runs.lock().expect("runs").entry(a.id.clone()).or_default() += 1;
            match plans.get(&a.id).and_then(Option::as_ref) {
                Some(l) => Ok((
                    Box::new(*l) as Box<dyn CalendarProvider>,
                    SyncOptions::default(),
                )),
                None => Err(SyncError::Config(
                    "no client id for this provider in auth.toml".into(),
                )),
            }
        })
    };
    let reads = Arc::new(AtomicUsize::new(0));
    let jump = Arc::new(AtomicI64::new(0));
    let start = tokio::time::Instant::now();
    let now: Arc<Now> = {
        let (reads, jump) = (reads.clone(), jump.clone());
        Arc::new(move || {
            // A loop that spins would never let virtual time pass: stop it
            // here, so the test fails instead of hanging.
            let n = reads.fetch_add(1, Ordering::SeqCst);
            assert!(n < 100_000, "the loop spins: {n} clock reads");
            t0() + chrono::TimeDelta::from_std(start.elapsed()).expect("elapsed")
                + chrono::TimeDelta::seconds(jump.load(Ordering::SeqCst))
        })
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let next_when_told = Arc::new(Mutex::new(Vec::new()));
    let publish: Arc<Publish> = {
        let (events, store, told) = (events.clone(), store.clone(), next_when_told.clone());
        Arc::new(move |e| {
            // What the host reads when told a run ended: the next run it shows.
            if let SyncEvent::Finished { summary } = &e {
                let all = lock(&store).sync_status().expect("status");
                let next = all.into_iter().find(|s| s.account_id == summary.account_id);
                told.lock()
                    .expect("told")
                    .push(next.and_then(|s| s.next_sync_at));
            }
            events.lock().expect("events").push(e);
        })
    };
    let (scheduler, _task) = Scheduler::spawn(store.clone(), connect, publish, opts, now);
    World {
        _dir: dir,
        store,
        scheduler,
        runs,
        reads,
        jump,
        events,
        next_when_told,
        ids,
    }
}

impl World {
    fn runs(&self, n: usize) -> usize {
        let runs = self.runs.lock().expect("runs");
        runs.get(&self.ids[n]).copied().unwrap_or(0)
    }

    /// Runs of account `n` that ended.
    fn ended(&self, n: usize) -> usize {
        let events = self.events.lock().expect("events");
        (events.iter())
            .filter(|e| matches!(e, SyncEvent::Finished { summary } if summary.account_id == self.ids[n]))
            .count()
    }

    fn stopped(&self) -> bool {
        let events = self.events.lock().expect("events");
        events.contains(&SyncEvent::Stopped)
    }

    /// The user makes an event in account `n`'s calendar (listed by its first run):
    /// a change to send.
    fn edit(&self, n: usize) {
        let mut store = lock(&self.store);
        let calendar = store
            .sync_calendars(Some(&self.ids[n]))
            .expect("calendars")
            .into_iter()
            .next()
            .expect("the account's calendar, listed by its first run");
        let input = almanac_model::EventInput {
            calendar_id: calendar.id,
            title: "Made here".into(),
            all_day: false,
            start: "2027-01-04T09:00:00".into(),
            end: "2027-01-04T10:00:00".into(),
            time_zone: "UTC".into(),
            recurrence: None,
            location: String::new(),
            description: String::new(),
            show_as: almanac_model::ShowAs::Busy,
            importance: almanac_model::Importance::Normal,
            categories: Vec::new(),
        };
        store
            .create_event(input, almanac_store::Source::UserWindow, t0())
            .expect("made here");
    }

    fn status(&self, n: usize) -> almanac_store::SyncStatus {
        let all = lock(&self.store).sync_status().expect("status");
        all.into_iter()
            .find(|s| s.account_id == self.ids[n])
            .expect("the account's status")
    }
}

/// An hour between runs, no jitter: any earlier run is the loop's doing.
fn hourly() -> ScheduleOptions {
    ScheduleOptions {
        interval: Duration::from_secs(3600),
        focused_interval: Duration::from_secs(3600),
        jitter: 0.0,
        ..ScheduleOptions::default()
    }
}

async fn after(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

#[tokio::test(start_paused = true)]
async fn a_long_run_is_not_taken_for_a_suspended_machine() {
    let w = world(1, hourly(), |_| answering(90, None));
    after(300).await;
    // Before: the run's 90 s counted as sleep, read as a suspension, and
    // every account ran again at once.
    assert_eq!(w.runs(0), 1, "one run in the first hour");
}

#[tokio::test(start_paused = true)]
async fn waking_up_runs_everyone_but_not_before_a_retry_after() {
    let w = world(2, hourly(), |n| {
        let throttled = (ErrorKind::Throttled, Some(Duration::from_secs(600)));
        answering(1, (n == 1).then_some(throttled))
    });
    after(5).await;
    assert_eq!((w.runs(0), w.runs(1)), (1, 1));
    // The machine sleeps two minutes: the wall clock moves, the loop's
    // sleep does not.
    w.jump.store(120, Ordering::SeqCst);
    after(20).await;
    assert_eq!(w.runs(0), 2, "the healthy account runs on waking up");
    assert_eq!(w.runs(1), 1, "the throttled one waits out its 600 s");
    // The network comes back: the same.
    assert!(w.scheduler.send(Command::NetworkUp));
    after(1).await;
    assert_eq!((w.runs(0), w.runs(1)), (3, 1));
    // Its Retry-After over (600 s of wall time after its run), it runs.
    after(480).await;
    assert_eq!(w.runs(1), 2);
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_back_does_not_hold_the_schedule_back() {
    let w = world(1, hourly(), |_| answering(0, None));
    after(5).await;
    assert_eq!(w.runs(0), 1);
    // Set back a day: the next run, an hour away by the old clock, would be 25.
    w.jump.store(-24 * 3600, Ordering::SeqCst);
    after(20).await;
    assert_eq!(w.runs(0), 2, "runs again at once, planned by the new clock");
    let s = w.status(0);
    let next = s.next_sync_at.expect("next run") - s.last_attempt_at.expect("tried");
    assert_eq!(next, 3600, "{s:?}");
}

#[tokio::test(start_paused = true)]
async fn the_status_shows_when_an_edit_goes_out() {
    let w = world(1, hourly(), |_| answering(0, None));
    after(5).await;
    let planned = w.status(0).next_sync_at.expect("next run");
    assert_eq!(planned, t0().timestamp() + 3600);
    w.edit(0);
    assert!(w.scheduler.send(Command::LocalEdit));
    after(1).await;
    // 2 s after the edit (made at 5 s), not in an hour.
    assert_eq!(w.status(0).next_sync_at, Some(t0().timestamp() + 7));
    after(5).await;
    assert_eq!(w.runs(0), 2);
}

/// An edit with nothing to send (a calendar kept on this computer), or only for one
/// account, runs no other account.
#[tokio::test(start_paused = true)]
async fn an_edit_runs_only_the_account_it_is_for() {
    let w = world(2, hourly(), |_| answering(0, None));
    after(5).await;
    assert_eq!((w.runs(0), w.runs(1)), (1, 1));
    assert!(w.scheduler.send(Command::LocalEdit));
    after(10).await;
    assert_eq!((w.runs(0), w.runs(1)), (1, 1), "nothing to send");
    w.edit(1);
    assert!(w.scheduler.send(Command::LocalEdit));
    after(10).await;
    assert_eq!((w.runs(0), w.runs(1)), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_paused_loop_waits_without_spinning_and_resumes() {
    let opts = ScheduleOptions {
        interval: Duration::from_secs(60),
        jitter: 0.0,
        ..ScheduleOptions::default()
    };
    let w = world(1, opts, |_| answering(0, None));
    after(1).await;
    assert!(w.scheduler.send(Command::Pause));
    after(1).await;
    let (runs, reads) = (w.runs(0), w.reads.load(Ordering::SeqCst));
    // Ten minutes paused: the account was due nine times over.
    after(600).await;
    assert_eq!(w.runs(0), runs, "nothing runs while paused");
    let woke = w.reads.load(Ordering::SeqCst) - reads;
    assert!(woke < 200, "the paused loop read the clock {woke} times");
    assert!(w.scheduler.send(Command::Resume));
    after(1).await;
    assert_eq!(w.runs(0), runs + 1, "resumed: the overdue run goes at once");
}

/// Started paused (the desktop app paused when it last ran): not even the first run
/// goes until Resume.
#[tokio::test(start_paused = true)]
async fn a_loop_started_paused_runs_nothing_until_resume() {
    let opts = ScheduleOptions {
        start_paused: true,
        ..hourly()
    };
    let w = world(1, opts, |_| answering(0, None));
    after(600).await;
    assert_eq!(w.runs(0), 0, "paused from the start");
    assert!(w.scheduler.send(Command::Resume));
    after(1).await;
    assert_eq!(w.runs(0), 1);
}

#[tokio::test(start_paused = true)]
async fn sync_now_runs_a_backing_off_account_and_keeps_its_backoff() {
    let opts = ScheduleOptions {
        backoff_base: Duration::from_secs(100),
        ..hourly()
    };
    let w = world(1, opts, |_| {
        answering(0, Some((ErrorKind::ProviderUnavailable, None)))
    });
    after(1).await;
    assert_eq!((w.runs(0), w.status(0).failures), (1, 1));
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(1).await;
    let s = w.status(0);
    assert_eq!((w.runs(0), s.failures), (2, 2));
    // The second failure in a row waits 100–200 s, not the first's 50–100.
    let wait = s.next_sync_at.expect("next run") - s.last_attempt_at.expect("tried");
    assert!(wait >= 100, "next run {wait} s after the second failure");
}

#[tokio::test(start_paused = true)]
async fn an_account_that_cannot_connect_shows_why() {
    let w = world(1, hourly(), |_| None);
    after(1).await;
    assert_eq!(w.runs(0), 1);
    let s = w.status(0);
    assert_eq!(s.last_error_code.as_deref(), Some("config"));
    assert!(
        s.last_error_message
            .as_deref()
            .is_some_and(|m| m.contains("no client id")),
        "{s:?}"
    );
    assert_eq!(s.last_attempt_at, Some(t0().timestamp()));
    assert_eq!(s.failures, 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_account_holds_no_other_back() {
    let opts = ScheduleOptions {
        interval: Duration::from_secs(60),
        jitter: 0.0,
        ..ScheduleOptions::default()
    };
    // The first account's provider takes ten minutes to answer (a hanging
    // connection, its retries).
    let w = world(2, opts, |n| answering(if n == 0 { 600 } else { 0 }, None));
    after(300).await;
    assert_eq!((w.runs(0), w.ended(0)), (1, 0));
    assert!(w.runs(1) >= 5, "{} runs of the other account", w.runs(1));
    // Pausing is heard at once, though a run is under way.
    assert!(w.scheduler.send(Command::Pause));
    after(1).await;
    let during = w.runs(1);
    after(600).await;
    assert_eq!(w.runs(1), during, "nothing starts while paused");
    assert_eq!(w.ended(0), 1, "the run under way finished");
}

#[tokio::test(start_paused = true)]
async fn stop_lets_the_runs_under_way_finish_and_starts_none() {
    let w = world(2, hourly(), |n| {
        answering(if n == 0 { 100 } else { 0 }, None)
    });
    after(10).await;
    assert!(w.scheduler.send(Command::Stop));
    // "Sync now" after Stop is not heard (the loop stops listening).
    let _ = w.scheduler.send(Command::SyncNow(None));
    after(50).await;
    assert!(!w.stopped(), "stopped with a run under way");
    after(60).await;
    assert!(w.stopped(), "the loop ended once the run finished");
    assert_eq!((w.ended(0), w.runs(0), w.runs(1)), (1, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn sync_now_during_a_run_runs_again_after_it_not_beside_it() {
    let w = world(1, hourly(), |_| answering(50, None));
    after(10).await;
    assert!(w.scheduler.send(Command::SyncNow(None)));
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(20).await;
    assert_eq!(w.runs(0), 1, "one run of an account at a time");
    after(30).await;
    assert_eq!(w.runs(0), 2, "again at once after it (asked twice: once)");
    after(100).await;
    assert_eq!((w.runs(0), w.ended(0)), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn sync_now_twice_at_once_is_one_request() {
    let w = world(1, hourly(), |_| answering(10, None));
    // Just after a run the schedule began: another after it (the user may know of a
    // change it has passed).
    after(1).await;
    assert!(w.scheduler.send(Command::SyncNow(None)));
    after(14).await;
    assert_eq!((w.runs(0), w.ended(0)), (2, 1));
    after(10).await;
    assert_eq!((w.runs(0), w.ended(0)), (2, 2));
    // A double click, or the window's and the tray's at once: one run.
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(1).await;
    assert!(w.scheduler.send(Command::SyncNow(None)));
    after(30).await;
    assert_eq!((w.runs(0), w.ended(0)), (3, 3));
    // Asked again once the run is under way: again after it.
    assert!(w.scheduler.send(Command::SyncNow(None)));
    after(3).await;
    assert!(w.scheduler.send(Command::SyncNow(None)));
    after(30).await;
    assert_eq!((w.runs(0), w.ended(0)), (5, 5));
}

#[tokio::test(start_paused = true)]
async fn an_edit_made_during_a_run_goes_out_right_after_it() {
    let w = world(1, hourly(), |_| answering(50, None));
    after(55).await;
    assert!(w.scheduler.send(Command::SyncNow(None)));
    after(10).await;
    w.edit(0);
    assert!(w.scheduler.send(Command::LocalEdit));
    after(45).await;
    // The second run (listing the calendar the edit is in) ended at 105 s; the edit
    // (which it may have missed) goes at once.
    assert_eq!(w.runs(0), 3);
}

#[tokio::test(start_paused = true)]
async fn a_run_is_told_ended_with_the_next_run_planned() {
    let w = world(1, hourly(), |_| answering(10, None));
    after(15).await;
    assert_eq!(w.ended(0), 1);
    // Planned before the host was told (it shows the next run from the store).
    let told = w.next_when_told.lock().expect("told").clone();
    assert_eq!(told, vec![Some(t0().timestamp() + 10 + 3600)]);
}

#[tokio::test(start_paused = true)]
async fn a_run_that_panics_is_reported_and_tried_again_later() {
    let w = world(1, hourly(), |_| {
        Some(Listing {
            takes: Duration::ZERO,
            fails: None,
            panics: true,
        })
    });
    after(1).await;
    let failed = |w: &World| {
        let events = w.events.lock().expect("events");
        (events.iter())
            .filter(|e| matches!(e, SyncEvent::Failed { error, .. } if error.code == ErrorCode::Internal))
            .count()
    };
    // Told (a host showing "Syncing…" would otherwise show it for good), and
    // recorded: the status says so, not the last run that went well.
    assert_eq!((w.runs(0), failed(&w)), (1, 1));
    let status = w.status(0);
    assert_eq!(
        status.last_error_code.as_deref(),
        Some("internal"),
        "{status:?}"
    );
    assert!(status.last_attempt_at.is_some(), "{status:?}");
    // Backing off: 15–30 s, not at once and not in an hour.
    after(10).await;
    assert_eq!(w.runs(0), 1);
    after(25).await;
    assert_eq!((w.runs(0), failed(&w)), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn the_network_back_during_a_run_runs_it_again_after_it() {
    let w = world(1, hourly(), |_| {
        answering(50, Some((ErrorKind::Offline, None)))
    });
    after(10).await;
    assert!(w.scheduler.send(Command::NetworkUp));
    // The run met the network down (ended at 50 s); the network is back since: at
    // once, not after the minute's probe.
    after(45).await;
    assert_eq!(w.runs(0), 2);
}

#[tokio::test(start_paused = true)]
async fn sync_now_during_a_run_while_paused_runs_it_again_at_once() {
    let w = world(1, hourly(), |_| answering(50, None));
    after(5).await;
    assert!(w.scheduler.send(Command::Pause));
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(50).await;
    assert_eq!(w.runs(0), 2, "asked for explicitly: not held until Resume");
}

/// The other order: Sync now during a run, then Pause. The run under way answers the
/// Sync now; none follows it while paused.
#[tokio::test(start_paused = true)]
async fn pause_after_a_sync_now_during_a_run_starts_no_other() {
    let w = world(1, hourly(), |_| answering(50, None));
    after(5).await;
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(1).await;
    assert!(w.scheduler.send(Command::Pause));
    after(200).await;
    assert_eq!(w.runs(0), 1, "paused: no run after the one under way");
    assert!(w.scheduler.send(Command::Resume));
    assert!(w.scheduler.send(Command::SyncNow(Some(w.ids[0].clone()))));
    after(100).await;
    assert_eq!(w.runs(0), 2);
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_back_moves_a_retry_after_back_with_it() {
    let w = world(1, hourly(), |_| {
        answering(
            0,
            Some((ErrorKind::Throttled, Some(Duration::from_secs(600)))),
        )
    });
    after(5).await;
    assert_eq!(w.runs(0), 1);
    // Set back three hours: the 600 s asked for still end 600 s after the run.
    w.jump.store(-3 * 3600, Ordering::SeqCst);
    after(300).await;
    assert_eq!(w.runs(0), 1, "not before the wait asked for");
    after(320).await;
    assert_eq!(w.runs(0), 2, "not three hours later either");
}
