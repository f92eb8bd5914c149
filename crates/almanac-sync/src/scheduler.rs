//! The background loop (DESIGN §4 "Scheduler"): one loop for all accounts, shared by
//! the desktop app and `almanac daemon`. It runs each account when
//! [`crate::schedule`] says it is due, on "sync now", shortly after a local edit, and
//! at once when the network or the machine comes back; it can be paused; it stops
//! gracefully (a run in flight finishes first). What happens is published as
//! [`SyncEvent`]s for the host to show.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use almanac_model::{Account, AccountStatus, AppError, ErrorCode};
use almanac_provider::CalendarProvider;
use almanac_store::{ConflictRecord, RunOutcome, RunRecord, Store};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::error::SyncError;
use crate::run::{lock, sync_account_reporting, CalendarRun, RunSummary, SyncOptions};
use crate::schedule::{after_run, AccountClock, RunResult, ScheduleOptions};

/// What the host can ask of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run now: one account, or all.
    SyncNow(Option<String>),
    /// The user changed something: push it soon.
    LocalEdit,
    Pause,
    Resume,
    /// The window gained (true) or lost focus: sync more often while it is in front.
    Focus(bool),
    /// The network (or the machine, after sleep) is back: run every account now.
    NetworkUp,
    /// Finish the run in flight, then end the loop.
    Stop,
}

/// What the loop tells the host.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    Started {
        account_id: String,
    },
    Finished {
        summary: RunSummary,
    },
    /// A run could not start or stopped with an error (plain-language message).
    Failed {
        account_id: String,
        error: AppError,
    },
    /// The account now needs the user to sign in again; `notify` is true the first
    /// time only (one notification per account, never one per run).
    ActionRequired {
        account_id: String,
        notify: bool,
    },
    /// One calendar of a run in flight is done (counts so far, for a progress line).
    Progress {
        account_id: String,
        calendar: CalendarRun,
    },
    /// Conflicts recorded by a run that were not open before (one notification each).
    NewConflicts(Vec<ConflictRecord>),
    Paused(bool),
    /// The loop ended.
    Stopped,
}

/// Makes the provider client of an account.
pub type Connect =
    dyn Fn(&Account) -> Result<(Box<dyn CalendarProvider>, SyncOptions), SyncError> + Send + Sync;
pub type Publish = dyn Fn(SyncEvent) + Send + Sync;
pub type Now = dyn Fn() -> DateTime<Utc> + Send + Sync;

/// A handle on the running loop.
#[derive(Debug, Clone)]
pub struct Scheduler {
    tx: mpsc::UnboundedSender<Command>,
}

impl Scheduler {
    /// Starts the loop on the current tokio runtime.
    pub fn spawn(
        store: Arc<Mutex<Store>>,
        connect: Arc<Connect>,
        publish: Arc<Publish>,
        opts: ScheduleOptions,
        now: Arc<Now>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let lp = Loop {
            store,
            connect,
            publish,
            opts,
            now,
            clocks: HashMap::new(),
            paused: false,
            focused: false,
        };
        (Self { tx }, tokio::spawn(lp.run(rx)))
    }

    /// Sends a command; false if the loop has ended.
    pub fn send(&self, c: Command) -> bool {
        self.tx.send(c).is_ok()
    }
}

struct Loop {
    store: Arc<Mutex<Store>>,
    connect: Arc<Connect>,
    publish: Arc<Publish>,
    opts: ScheduleOptions,
    now: Arc<Now>,
    clocks: HashMap<String, AccountClock>,
    paused: bool,
    focused: bool,
}

/// The longest the loop sleeps at once: it notices a suspended machine within this
/// of waking up.
const TICK: Duration = Duration::from_secs(15);

/// How far the wall clock may run ahead of a sleep before the loop takes it for a
/// suspended machine (a clock set forward by hand or NTP reads the same: harmless).
const SUSPENDED: Duration = Duration::from_secs(60);

impl Loop {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            if !self.paused {
                for id in self.due() {
                    self.run_account(&id).await;
                }
            }
            // Paused, nothing is due however late it is: wait for a command (a clock
            // in the past would make every sleep a zero one).
            let wait = if self.paused {
                TICK
            } else {
                self.until_next().min(TICK)
            };
            let (wall, slept) = ((self.now)(), tokio::time::Instant::now());
            let (cmd, closed) = tokio::select! {
                c = rx.recv() => (c.clone(), c.is_none()),
                () = tokio::time::sleep(wait) => (None, false),
            };
            let now = (self.now)();
            // The sleep's clock stands still while the machine is suspended, the wall
            // clock does not: far more wall time than slept means it was. Measured
            // over the sleep alone: a long run before it is no suspension. Far less
            // means the wall clock was set back: runs planned by it would wait that
            // much longer.
            let slept = chrono::TimeDelta::from_std(slept.elapsed()).unwrap_or_default();
            let drift = now - wall - slept;
            let limit = chrono::TimeDelta::from_std(SUSPENDED).unwrap_or_default();
            if drift > limit || drift < -limit {
                self.everyone_due(now);
            }
            match cmd {
                None if closed => break,
                None => {}
                Some(Command::Stop) => break,
                Some(Command::SyncNow(Some(id))) => {
                    // Asked for explicitly: even while paused, backing off or needing
                    // sign-in; its clock (failures in a row) is kept for the next.
                    self.run_account(&id).await;
                }
                Some(Command::SyncNow(None)) => {
                    let ids: Vec<String> = (self.accounts().unwrap_or_default().into_iter())
                        .map(|a| a.id)
                        .collect();
                    for id in ids {
                        self.run_account(&id).await;
                    }
                }
                Some(Command::LocalEdit) => {
                    let soon = now
                        + chrono::TimeDelta::from_std(self.opts.edit_debounce).unwrap_or_default();
                    self.healthy_by(soon);
                }
                Some(Command::Pause) => {
                    self.paused = true;
                    (self.publish)(SyncEvent::Paused(true));
                }
                Some(Command::Resume) => {
                    self.paused = false;
                    (self.publish)(SyncEvent::Paused(false));
                }
                Some(Command::Focus(f)) => {
                    self.focused = f;
                    if f {
                        // Coming to the front: bring the next run forward to the
                        // focused interval.
                        let soon = now
                            + chrono::TimeDelta::from_std(self.opts.focused_interval)
                                .unwrap_or_default();
                        self.healthy_by(soon);
                    }
                }
                Some(Command::NetworkUp) => self.everyone_due(now),
            }
        }
        (self.publish)(SyncEvent::Stopped);
    }

    /// `None` when the store cannot list them (the clocks are kept meanwhile).
    fn accounts(&self) -> Option<Vec<Account>> {
        lock(&self.store).list_accounts().ok()
    }

    /// The network or the machine is back: every account due now — but not before a
    /// provider's `Retry-After`, nor while it needs sign-in.
    fn everyone_due(&mut self, now: DateTime<Utc>) {
        for c in self.clocks.values_mut() {
            *c = c.brought_forward(now);
        }
        self.record_next_runs();
    }

    /// Healthy accounts run by `at` (a local edit to push, the window in front). Not
    /// a failing account, past its backoff or a provider's `Retry-After`: an edit
    /// waits in the outbox meanwhile.
    fn healthy_by(&mut self, at: DateTime<Utc>) {
        for c in self.clocks.values_mut() {
            if !c.action_required && c.failures == 0 && c.next_at > at {
                c.next_at = at;
            }
        }
        self.record_next_runs();
    }

    /// Each account's next run as the status shows it.
    fn record_next_runs(&self) {
        let mut store = lock(&self.store);
        for (id, c) in &self.clocks {
            let at = (c.next_at != DateTime::<Utc>::MAX_UTC).then(|| c.next_at.timestamp());
            let _ = store.set_next_sync(id, at);
        }
    }

    /// Accounts due now (new accounts are due at once; those needing sign-in wait).
    fn due(&mut self) -> Vec<String> {
        let now = (self.now)();
        let Some(accounts) = self.accounts() else {
            return Vec::new();
        };
        let known: BTreeSet<String> = accounts.iter().map(|a| a.id.clone()).collect();
        self.clocks.retain(|id, _| known.contains(id));
        let mut due = Vec::new();
        for a in accounts {
            let clock = self.clocks.entry(a.id.clone()).or_insert_with(|| {
                let mut c = AccountClock::due(now);
                c.action_required = a.status == AccountStatus::ActionRequired;
                if c.action_required {
                    c.next_at = DateTime::<Utc>::MAX_UTC;
                }
                c
            });
            // Reconnected since: due again.
            if clock.action_required && a.status != AccountStatus::ActionRequired {
                *clock = AccountClock::due(now);
            }
            if clock.next_at <= now {
                due.push(a.id);
            }
        }
        due
    }

    fn until_next(&self) -> Duration {
        let now = (self.now)();
        self.clocks
            .values()
            .map(|c| (c.next_at - now).to_std().unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(TICK)
    }

    async fn run_account(&mut self, id: &str) {
        let account = match lock(&self.store).account(id) {
            Ok(a) => a,
            Err(_) => return, // removed meanwhile
        };
        (self.publish)(SyncEvent::Started {
            account_id: id.to_owned(),
        });
        let open_before: BTreeSet<String> = lock(&self.store)
            .conflicts(true)
            .map(|l| l.into_iter().map(|c| c.id).collect())
            .unwrap_or_default();
        let result = match (self.connect)(&account) {
            Ok((provider, sync_opts)) => {
                let now = self.now.clone();
                let clock = move || now();
                let publish = self.publish.clone();
                let account_id = id.to_owned();
                let progress = move |c: &CalendarRun| {
                    publish(SyncEvent::Progress {
                        account_id: account_id.clone(),
                        calendar: c.clone(),
                    })
                };
                sync_account_reporting(
                    &self.store,
                    provider.as_ref(),
                    id,
                    &sync_opts,
                    &clock,
                    &progress,
                )
                .await
            }
            Err(e) => {
                // No run began (the account's sign-in settings or keyring): still its
                // last attempt and error, for the status to show.
                let at = (self.now)().timestamp();
                let mut store = lock(&self.store);
                if let Ok(run_id) = store.start_run(id, at) {
                    let _ = store.finish_run(
                        &RunRecord {
                            id: run_id,
                            account_id: Some(id.to_owned()),
                            started_at: at,
                            finished_at: Some(at),
                            outcome: None,
                            pulled: 0,
                            pushed: 0,
                            conflicts: 0,
                            error_code: Some(e.code().as_str().to_owned()),
                            error_message: Some(e.to_string()),
                        },
                        RunOutcome::Failed,
                    );
                }
                Err(e)
            }
        };
        let now = (self.now)();
        let prev = self
            .clocks
            .get(id)
            .copied()
            .unwrap_or(AccountClock::due(now));
        let sample: f64 = rand::random();
        let outcome = run_result(&result);
        let next = after_run(prev, outcome, now, self.focused, &self.opts, sample);
        self.clocks.insert(id.to_owned(), next);
        let at = (next.next_at != DateTime::<Utc>::MAX_UTC).then(|| next.next_at.timestamp());
        let _ = lock(&self.store).set_next_sync(id, at);
        if outcome == RunResult::ActionRequired {
            let message = match &result {
                Ok(s) => s.error.as_ref().map(|e| e.message.clone()),
                Err(e) => Some(e.to_string()),
            };
            eprintln!(
                "almanac: account {id} needs a new sign-in: {}",
                message.as_deref().unwrap_or("sign in again")
            );
            let notify = lock(&self.store)
                .set_account_status(
                    id,
                    AccountStatus::ActionRequired,
                    Some(ErrorCode::ActionRequired.as_str()),
                    message.as_deref(),
                )
                .map(|c| c.notify_action_required)
                .unwrap_or(false);
            (self.publish)(SyncEvent::ActionRequired {
                account_id: id.to_owned(),
                notify,
            });
        }
        match result {
            Ok(summary) => (self.publish)(SyncEvent::Finished { summary }),
            Err(e) => (self.publish)(SyncEvent::Failed {
                account_id: id.to_owned(),
                error: AppError::new(e.code(), e.to_string()),
            }),
        }
        let new: Vec<ConflictRecord> = lock(&self.store)
            .conflicts(true)
            .map(|l| {
                l.into_iter()
                    .filter(|c| !open_before.contains(&c.id))
                    .collect()
            })
            .unwrap_or_default();
        if !new.is_empty() {
            (self.publish)(SyncEvent::NewConflicts(new));
        }
    }
}

/// What a run's result means for when the account syncs next.
fn run_result(result: &Result<RunSummary, SyncError>) -> RunResult {
    match result {
        Ok(summary) => {
            // Calendars that syncing less cannot help — changes the provider refused
            // for good, a calendar it no longer lets us read, one the mass-deletion
            // guard holds for the user — must not slow the account's other calendars,
            // nor the user's edits, which wait for a backing-off account.
            let only_lasting = summary.calendars.iter().all(|c| {
                c.error
                    .as_ref()
                    .is_none_or(|e| c.refused > 0 || !passes_with_time(e.code))
            });
            // The longest wait the provider asked for, of the run or a calendar.
            let retry_after = (summary.calendars.iter())
                .filter_map(|c| c.retry_after_secs)
                .chain(summary.retry_after_secs)
                .max()
                .map(Duration::from_secs);
            match summary.error.as_ref().map(|e| e.code) {
                None if summary.outcome == "ok" || only_lasting => RunResult::Ok,
                Some(ErrorCode::Offline) => RunResult::Offline,
                Some(ErrorCode::ActionRequired) => RunResult::ActionRequired,
                // Some calendars failed or wait for the user: the rest synced.
                _ => RunResult::Failed { retry_after },
            }
        }
        Err(e) if e.code() == ErrorCode::Offline => RunResult::Offline,
        Err(e) if e.code() == ErrorCode::ActionRequired => RunResult::ActionRequired,
        Err(SyncError::Provider(p)) => RunResult::Failed {
            retry_after: p.retry_after,
        },
        Err(_) => RunResult::Failed { retry_after: None },
    }
}

/// Whether an error of a calendar may go away by itself soon (the provider busy or
/// down, the network, a busy store), so the account backs off; the others (no access,
/// gone, refused as malformed) stay until someone changes something.
fn passes_with_time(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::Forbidden
            | ErrorCode::NotFound
            | ErrorCode::InvalidRequest
            | ErrorCode::InvalidInput
            | ErrorCode::ReadOnly
            | ErrorCode::Config
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::CalendarRun;
    use almanac_model::AppError;

    fn summary(refused: usize, error: Option<ErrorCode>) -> RunSummary {
        RunSummary {
            run_id: 1,
            account_id: "a".into(),
            outcome: if error.is_some() { "partial" } else { "ok" }.into(),
            pulled: 0,
            pushed: 0,
            conflicts: 0,
            calendars: vec![CalendarRun {
                calendar_id: "c".into(),
                name: "Calendar".into(),
                pulled: 0,
                pushed: 0,
                conflicts: 0,
                skipped: 0,
                refused,
                retry_after_secs: None,
                held: None,
                error: error.map(|code| AppError::new(code, "why")),
            }],
            calendars_changed: false,
            error: None,
            retry_after_secs: None,
        }
    }

    #[test]
    fn changes_refused_for_good_do_not_slow_the_account_down() {
        assert_eq!(run_result(&Ok(summary(0, None))), RunResult::Ok);
        assert_eq!(
            run_result(&Ok(summary(1, Some(ErrorCode::InvalidRequest)))),
            RunResult::Ok
        );
        assert_eq!(
            run_result(&Ok(summary(0, Some(ErrorCode::ProviderUnavailable)))),
            RunResult::Failed { retry_after: None }
        );
    }

    #[test]
    fn calendars_that_time_cannot_mend_do_not_slow_the_account() {
        // Held by the mass-deletion guard, waiting for the user.
        let mut held = summary(0, None);
        held.outcome = "partial".into();
        held.calendars[0].held = Some(crate::run::Held {
            would_delete: 40,
            total: 40,
        });
        assert_eq!(run_result(&Ok(held)), RunResult::Ok);
        // No access any more, or gone: the next run finds it so again.
        for code in [ErrorCode::Forbidden, ErrorCode::NotFound] {
            assert_eq!(run_result(&Ok(summary(0, Some(code)))), RunResult::Ok);
        }
        // Beside a calendar the provider is throttling, the account backs off.
        let mut both = summary(0, Some(ErrorCode::Forbidden));
        both.calendars
            .push(summary(0, Some(ErrorCode::Throttled)).calendars[0].clone());
        assert_eq!(
            run_result(&Ok(both)),
            RunResult::Failed { retry_after: None }
        );
    }

    #[test]
    fn a_retry_after_on_the_calendar_list_reaches_the_schedule() {
        let mut s = summary(0, None);
        s.calendars.clear();
        s.outcome = "failed".into();
        s.error = Some(AppError::new(ErrorCode::Throttled, "slow down"));
        s.retry_after_secs = Some(300);
        assert_eq!(
            run_result(&Ok(s)),
            RunResult::Failed {
                retry_after: Some(Duration::from_secs(300))
            }
        );
    }

    #[test]
    fn a_providers_retry_after_reaches_the_schedule() {
        let mut s = summary(0, Some(ErrorCode::Throttled));
        s.calendars[0].retry_after_secs = Some(3600);
        assert_eq!(
            run_result(&Ok(s)),
            RunResult::Failed {
                retry_after: Some(Duration::from_secs(3600))
            }
        );
    }
}

#[cfg(test)]
#[path = "scheduler_loop_tests.rs"]
mod the_loop;
