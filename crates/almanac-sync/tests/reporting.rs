//! A run reports what it applied (issue 5 item 5): pages committed before an error
//! count, and an error that stops the run (offline, signed out) does not hide the
//! calendars already under way — every event the store gained is in the run's counts —
//! nor does it wait for their requests to end.

#[allow(dead_code)]
#[path = "simulation/provider.rs"]
mod provider;

use std::sync::Mutex;
use std::time::Duration;

use almanac_model::Provider;
use almanac_provider::{
    BoxFuture, CalendarProvider, ChangePage, ErrorKind, OriginalStart, ProviderError,
    RemoteCalendar, RemoteEvent, Result, Window,
};
use almanac_store::{SignedIn, Store};
use almanac_sync::{sync_account, RunSummary, SyncOptions};

use provider::{SimProvider, World, CAL_IDS, MAIN, SHARED};

/// The simulation's provider, with calendars' listings failing as `rules` say.
struct Failing {
    inner: SimProvider,
    rules: Vec<Rule>,
}

/// One calendar's listing fails from its first page (`from_page: 0`) or a later one.
struct Rule {
    calendar: &'static str,
    from_page: usize,
    failure: Failure,
    served: Mutex<usize>,
}

enum Failure {
    /// An error after `delay` (while it waits, the other calendars run).
    Error { kind: ErrorKind, delay: Duration },
    /// No answer, ever (a connection that hangs).
    Hang,
}

impl Rule {
    fn new(calendar: &'static str, from_page: usize, failure: Failure) -> Self {
        Self {
            calendar,
            from_page,
            failure,
            served: Mutex::new(0),
        }
    }
}

impl CalendarProvider for Failing {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>> {
        self.inner.list_calendars()
    }

    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>> {
        if let Some(rule) = self.rules.iter().find(|r| r.calendar == calendar.remote_id) {
            let mut served = rule.served.lock().unwrap_or_else(|p| p.into_inner());
            if *served >= rule.from_page {
                return match rule.failure {
                    Failure::Error { kind, delay } => Box::pin(async move {
                        tokio::time::sleep(delay).await;
                        Err(ProviderError::new(kind, "test failure"))
                    }),
                    Failure::Hang => Box::pin(std::future::pending()),
                };
            }
            *served += 1;
        }
        self.inner.changes(calendar, cursor, window)
    }

    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        self.inner.event(calendar, remote_id)
    }

    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        self.inner.instance(calendar, master_id, original_start)
    }

    fn exdates_in_rule(&self) -> bool {
        self.inner.exdates_in_rule()
    }

    fn creation_key(&self, event: &RemoteEvent) -> Option<String> {
        self.inner.creation_key(event)
    }

    fn create<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        self.inner.create(calendar, event, idempotency_key)
    }

    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        self.inner.update(calendar, event, etag)
    }

    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<almanac_provider::Deleted>> {
        self.inner.delete(calendar, remote_id, etag)
    }
}

/// Seven events in each calendar (pages of three), one run with `rules`; returns the
/// run's summary and, per calendar remote id, the events the store now holds.
fn run(rules: Vec<Rule>) -> (RunSummary, Vec<(String, usize)>) {
    let mut world = World::new(7, false);
    for ci in [MAIN, SHARED] {
        for _ in 0..7 {
            world.seed_event(ci);
        }
    }
    let provider = Failing {
        inner: SimProvider::new(world),
        rules,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let now = provider::t0();
    let store = Mutex::new(Store::open_at(dir.path()).expect("store"));
    let (account, _) = store
        .lock()
        .expect("store")
        .record_sign_in(
            &SignedIn {
                provider: Provider::Google,
                subject: "https://accounts.google.com/reporting".into(),
                email: "sim@example.com".into(),
                display_name: "Sim".into(),
                authority: "https://accounts.google.com".into(),
            },
            now.timestamp(),
        )
        .expect("sign in");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // A run that waits for a request that never ends would never end: a minute is a
    // generous bound for a few in-memory pages.
    let summary = rt
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(60),
                sync_account(
                    &store,
                    &provider,
                    &account.id,
                    &SyncOptions::default(),
                    &move || now,
                ),
            )
            .await
        })
        .expect("the run ends")
        .expect("run");
    let store = store.lock().expect("store");
    let held = store
        .sync_calendars(None)
        .expect("calendars")
        .into_iter()
        .map(|c| {
            let n = store.sync_entries(&c.id).expect("entries").len();
            (c.remote_id, n)
        })
        .collect();
    (summary, held)
}

/// What the run reported pulling for the calendar named `name` (0 if not reported).
fn pulled_for(summary: &RunSummary, name: &str) -> usize {
    summary
        .calendars
        .iter()
        .find(|c| c.name == name)
        .map_or(0, |c| c.pulled)
}

#[test]
fn pages_committed_before_a_failing_page_are_counted() {
    let (summary, held) = run(vec![Rule::new(
        CAL_IDS[MAIN],
        1,
        Failure::Error {
            kind: ErrorKind::ProviderUnavailable,
            delay: Duration::ZERO,
        },
    )]);
    assert_eq!(summary.outcome, "partial", "{summary:?}");
    let work = summary
        .calendars
        .iter()
        .find(|c| c.name == "Work")
        .expect("Work reported");
    assert!(work.error.is_some(), "{work:?}");
    let in_store = held.iter().find(|(id, _)| id == CAL_IDS[MAIN]).map(|h| h.1);
    assert_eq!(in_store, Some(3), "the first page of three stays applied");
    assert_eq!(work.pulled, 3, "{work:?}");
    assert_eq!(pulled_for(&summary, "Boss"), 7);
    assert_eq!(summary.pulled, 10, "{summary:?}");
}

#[test]
fn a_run_stopped_offline_still_reports_the_calendars_under_way() {
    // Work (listed first) waits for an answer that turns out offline; Boss, started
    // beside it, is stored meanwhile.
    let (summary, held) = run(vec![Rule::new(
        CAL_IDS[MAIN],
        0,
        Failure::Error {
            kind: ErrorKind::Offline,
            delay: Duration::from_millis(50),
        },
    )]);
    let err = summary.error.as_ref().expect("the run's error");
    assert_eq!(err.code.as_str(), "offline", "{summary:?}");
    let in_store: usize = held.iter().map(|h| h.1).sum();
    assert_eq!(in_store, 7, "Boss's events are in the store: {held:?}");
    assert_eq!(summary.pulled, in_store, "{summary:?}");
    assert_eq!(pulled_for(&summary, "Boss"), 7, "{summary:?}");
}

#[test]
fn a_run_stopped_offline_does_not_wait_for_the_requests_under_way() {
    // Work commits its first page, then its next request never gets an answer; Boss,
    // beside it, finds the machine offline. The run ends at once with Work's first page
    // counted, instead of waiting out Work's request.
    let (summary, held) = run(vec![
        Rule::new(CAL_IDS[MAIN], 1, Failure::Hang),
        Rule::new(
            CAL_IDS[SHARED],
            0,
            Failure::Error {
                kind: ErrorKind::Offline,
                delay: Duration::from_millis(50),
            },
        ),
    ]);
    let err = summary.error.as_ref().expect("the run's error");
    assert_eq!(err.code.as_str(), "offline", "{summary:?}");
    let in_store = held.iter().find(|(id, _)| id == CAL_IDS[MAIN]).map(|h| h.1);
    assert_eq!(
        in_store,
        Some(3),
        "Work's first page stays applied: {held:?}"
    );
    let work = summary
        .calendars
        .iter()
        .find(|c| c.name == "Work")
        .expect("Work reported");
    assert_eq!(work.pulled, 3, "{work:?}");
    assert_eq!(
        work.error.as_ref().map(|e| e.code.as_str()),
        Some("offline"),
        "Work says why it stopped: {work:?}"
    );
    assert_eq!(summary.pulled, 3, "{summary:?}");
    assert_eq!(summary.outcome, "partial", "{summary:?}");
}
