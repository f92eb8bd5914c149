//! The background loop (DESIGN §4 "Scheduler"): one loop for all accounts, shared by
//! the desktop app and `almanac daemon`. It runs each account when
//! [`crate::schedule`] says it is due, on "sync now", shortly after a local edit, and
//! at once when the network or the machine comes back; it can be paused; it stops
//! gracefully (the runs in flight finish first). Each account's run is a task of its
//! own, so one slow provider holds no other account back, and commands are heard
//! while runs are under way. What happens is published as [`SyncEvent`]s for the
//! host to show.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use almanac_model::{Account, AccountStatus, AppError, ErrorCode};
use almanac_provider::CalendarProvider;
use almanac_store::{ConflictRecord, Store};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::error::SyncError;
use crate::run::{
    lock, record_unstarted, sync_account_reporting, CalendarRun, RunSummary, SyncOptions,
};
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
    /// Start no run; end the loop once the runs in flight finish.
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
            runner: Arc::new(Runner {
                store,
                connect,
                publish,
                now,
            }),
            opts,
            clocks: HashMap::new(),
            running: HashMap::new(),
            paused: opts.start_paused,
            focused: false,
        };
        (Self { tx }, tokio::spawn(lp.run(rx)))
    }

    /// Sends a command; false if the loop has ended.
    pub fn send(&self, c: Command) -> bool {
        self.tx.send(c).is_ok()
    }
}

/// What a run of one account needs, shared with the task it runs in.
struct Runner {
    store: Arc<Mutex<Store>>,
    connect: Arc<Connect>,
    publish: Arc<Publish>,
    now: Arc<Now>,
}

struct Loop {
    runner: Arc<Runner>,
    opts: ScheduleOptions,
    clocks: HashMap<String, AccountClock>,
    /// Accounts whose run is under way — each in a task of its own, so a slow or
    /// hanging provider holds no other account back, and commands are read
    /// meanwhile — and what was asked of each while it ran.
    running: HashMap<String, Asked>,
    paused: bool,
    focused: bool,
}

/// Asked of an account while its run was under way, for when it ends.
#[derive(Debug, Default)]
struct Asked {
    /// When a "Sync now" began the run under way (not one the schedule began).
    by_sync_now: Option<tokio::time::Instant>,
    /// "Sync now": run again at once (the run under way may have passed the change).
    again: bool,
    /// A local edit or the window in front: run by then if healthy.
    by: Option<DateTime<Utc>>,
    /// The network or the machine came back: due at once (its run may have met the
    /// network still down).
    comeback: bool,
}

/// How a run ended: what it means for the schedule, and the events it publishes
/// once the loop has planned the next run (the host shows that next run).
struct Ended {
    outcome: RunResult,
    events: Vec<SyncEvent>,
}

/// What woke the loop.
enum Woke {
    Command(Option<Command>),
    Finished(Result<(tokio::task::Id, Ended), tokio::task::JoinError>),
    Slept,
}

/// The longest the loop sleeps at once: it notices a suspended machine within this
/// of waking up.
const TICK: Duration = Duration::from_secs(15);

/// How far the wall clock may run ahead of a sleep before the loop takes it for a
/// suspended machine (a clock set forward by hand or NTP reads the same: harmless).
const SUSPENDED: Duration = Duration::from_secs(60);

/// A "Sync now" this soon after a "Sync now" began its account's run is answered by
/// that run: a double click, or the window's and the tray's at once, is one request,
/// not a second run queued after the first. (After a run the schedule began, it asks
/// for another after it, as any Sync now during a run: the user may know of a change
/// the run has passed.)
const JUST_BEGUN: Duration = Duration::from_secs(2);

/// What the status says of a run whose task panicked.
const STOPPED_UNEXPECTEDLY: &str =
    "The sync of this account stopped unexpectedly; it is tried again later.";

impl Loop {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut runs: JoinSet<Ended> = JoinSet::new();
        let mut tasks: HashMap<tokio::task::Id, String> = HashMap::new();
        // Stop asked (or every handle dropped): no new run; those under way finish.
        let mut stopping = false;
        loop {
            // The accounts could not be listed (the store failing): their clocks are
            // kept, and waited on as while paused.
            let mut listed = true;
            if !self.paused && !stopping {
                match self.due() {
                    Some(due) => {
                        for id in due {
                            self.start(&mut runs, &mut tasks, id);
                        }
                    }
                    None => listed = false,
                }
            }
            if stopping && runs.is_empty() {
                break;
            }
            // Paused, nothing is due however late it is: wait for a command (a clock
            // in the past would make every sleep a zero one).
            let wait = if self.paused || stopping || !listed {
                TICK
            } else {
                self.until_next().min(TICK)
            };
            let (wall, slept) = ((self.runner.now)(), tokio::time::Instant::now());
            let woke = tokio::select! {
                c = rx.recv(), if !stopping => Woke::Command(c),
                Some(done) = runs.join_next_with_id(), if !runs.is_empty() => Woke::Finished(done),
                () = tokio::time::sleep(wait) => Woke::Slept,
            };
            let now = (self.runner.now)();
            // The sleep's clock stands still while the machine is suspended, the wall
            // clock does not: far more wall time than slept means it was. Measured
            // over the sleep alone: a long run before it is no suspension. Far less
            // means the wall clock was set back: runs planned by it would wait that
            // much longer.
            let slept = chrono::TimeDelta::from_std(slept.elapsed()).unwrap_or_default();
            let drift = now - wall - slept;
            let limit = chrono::TimeDelta::from_std(SUSPENDED).unwrap_or_default();
            if drift < -limit {
                // A Retry-After's end, a wall-clock time too, moves back with it.
                for c in self.clocks.values_mut() {
                    c.not_before = c.not_before.map(|t| t + drift);
                }
            }
            if drift > limit || drift < -limit {
                self.everyone_due(now);
            }
            match woke {
                Woke::Slept => {}
                Woke::Finished(done) => {
                    let task = done.as_ref().map_or_else(|e| e.id(), |(task, _)| *task);
                    let Some(id) = tasks.remove(&task) else {
                        continue;
                    };
                    let ended = done.map(|(_, ended)| ended).unwrap_or_else(|e| {
                        // The run's task panicked: back off as after a failure, and
                        // record it for the status (no run row says so otherwise).
                        eprintln!(
                            "almanac: the sync of {} stopped: {e}",
                            self.runner.label(&id)
                        );
                        let _ = record_unstarted(
                            &self.runner.store,
                            &id,
                            now,
                            &SyncError::Internal(STOPPED_UNEXPECTEDLY.into()),
                        );
                        Ended {
                            outcome: RunResult::Failed { retry_after: None },
                            events: vec![SyncEvent::Failed {
                                account_id: id.clone(),
                                error: AppError::new(ErrorCode::Internal, STOPPED_UNEXPECTEDLY),
                            }],
                        }
                    });
                    let again = self.finished(&id, ended.outcome, now);
                    for e in ended.events {
                        (self.runner.publish)(e);
                    }
                    // Asked for explicitly while it ran: at once, even while paused.
                    if again && !stopping {
                        self.start(&mut runs, &mut tasks, id);
                    }
                }
                Woke::Command(None | Some(Command::Stop)) => stopping = true,
                Woke::Command(Some(Command::SyncNow(Some(id)))) => {
                    // Asked for explicitly: even while paused, backing off or needing
                    // sign-in; its clock (failures in a row) is kept for the next.
                    self.sync_now(&mut runs, &mut tasks, id);
                }
                Woke::Command(Some(Command::SyncNow(None))) => {
                    for a in self.accounts().unwrap_or_default() {
                        self.sync_now(&mut runs, &mut tasks, a.id);
                    }
                }
                Woke::Command(Some(Command::LocalEdit)) => {
                    let soon = now
                        + chrono::TimeDelta::from_std(self.opts.edit_debounce).unwrap_or_default();
                    // Only the accounts with a change to send: an edit of a calendar
                    // kept on this computer (a drag, say) ran every account.
                    match self.with_changes_to_send() {
                        Some(ids) => self.healthy_by_only(soon, &ids),
                        None => self.healthy_by(soon),
                    }
                }
                Woke::Command(Some(Command::Pause)) => {
                    self.paused = true;
                    // A Sync now asked for before the Pause is answered by the run
                    // under way: Pause is the later word (a Sync now after it still
                    // runs, see `sync_now`).
                    for asked in self.running.values_mut() {
                        asked.again = false;
                    }
                    (self.runner.publish)(SyncEvent::Paused(true));
                }
                Woke::Command(Some(Command::Resume)) => {
                    self.paused = false;
                    (self.runner.publish)(SyncEvent::Paused(false));
                }
                Woke::Command(Some(Command::Focus(f))) => {
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
                Woke::Command(Some(Command::NetworkUp)) => self.everyone_due(now),
            }
        }
        (self.runner.publish)(SyncEvent::Stopped);
    }

    /// "Sync now" of account `id`: [`Self::start`], unless a Sync now began its run
    /// under way [`JUST_BEGUN`].
    fn sync_now(
        &mut self,
        runs: &mut JoinSet<Ended>,
        tasks: &mut HashMap<tokio::task::Id, String>,
        id: String,
    ) {
        match self.running.get(&id).map(|a| a.by_sync_now) {
            Some(Some(at)) if at.elapsed() < JUST_BEGUN => {}
            Some(_) => self.start(runs, tasks, id),
            None => {
                self.start(runs, tasks, id.clone());
                if let Some(asked) = self.running.get_mut(&id) {
                    asked.by_sync_now = Some(tokio::time::Instant::now());
                }
            }
        }
    }

    /// Starts a run of account `id` — or, one under way, asks for another after it.
    fn start(
        &mut self,
        runs: &mut JoinSet<Ended>,
        tasks: &mut HashMap<tokio::task::Id, String>,
        id: String,
    ) {
        if let Some(asked) = self.running.get_mut(&id) {
            asked.again = true;
            return;
        }
        self.running.insert(id.clone(), Asked::default());
        let runner = self.runner.clone();
        let task = runs.spawn({
            let id = id.clone();
            async move { runner.run(&id).await }
        });
        tasks.insert(task.id(), id);
    }

    /// Account `id`'s run ended with `outcome`: when it runs next. Whether it was asked
    /// to run again meanwhile ("Sync now").
    fn finished(&mut self, id: &str, outcome: RunResult, now: DateTime<Utc>) -> bool {
        let asked = self.running.remove(id).unwrap_or_default();
        let prev = self
            .clocks
            .get(id)
            .copied()
            .unwrap_or(AccountClock::due(now));
        let sample: f64 = rand::random();
        let mut next = after_run(prev, outcome, now, self.focused, &self.opts, sample);
        if asked.comeback {
            next = next.brought_forward(now);
        }
        if let Some(by) = asked.by {
            next = healthy_by(next, by);
        }
        self.clocks.insert(id.to_owned(), next);
        self.record_next_runs();
        asked.again
    }

    /// `None` when the store cannot list them (the clocks are kept meanwhile).
    fn accounts(&self) -> Option<Vec<Account>> {
        lock(&self.runner.store).list_accounts().ok()
    }

    /// The network or the machine is back: every account due now — but not before a
    /// provider's `Retry-After`, nor while it needs sign-in. (One under way: its run
    /// decides.)
    fn everyone_due(&mut self, now: DateTime<Utc>) {
        for c in self.clocks.values_mut() {
            *c = c.brought_forward(now);
        }
        for asked in self.running.values_mut() {
            asked.comeback = true;
        }
        self.record_next_runs();
    }

    /// Healthy accounts run by `at` (a local edit to push, the window in front); one
    /// under way, by then after its run, which may have passed the edit.
    fn healthy_by(&mut self, at: DateTime<Utc>) {
        let all: BTreeSet<String> = self.clocks.keys().cloned().collect();
        self.healthy_by_only(at, &all);
    }

    /// [`Self::healthy_by`] for the accounts `ids` only.
    fn healthy_by_only(&mut self, at: DateTime<Utc>, ids: &BTreeSet<String>) {
        for (id, c) in self.clocks.iter_mut().filter(|(id, _)| ids.contains(*id)) {
            *c = healthy_by(*c, at);
            if let Some(asked) = self.running.get_mut(id) {
                asked.by = Some(asked.by.map_or(at, |by| by.min(at)));
            }
        }
        self.record_next_runs();
    }

    /// The accounts with changes waiting to be sent (`None`: the store cannot say).
    fn with_changes_to_send(&self) -> Option<BTreeSet<String>> {
        let all = lock(&self.runner.store).sync_status().ok()?;
        Some(
            all.into_iter()
                .filter(|s| s.pending_pushes > 0)
                .map(|s| s.account_id)
                .collect(),
        )
    }

    /// Each account's next run as the status shows it.
    fn record_next_runs(&self) {
        let mut store = lock(&self.runner.store);
        for (id, c) in &self.clocks {
            let at = (c.next_at != DateTime::<Utc>::MAX_UTC).then(|| c.next_at.timestamp());
            let _ = store.set_next_sync(id, at);
        }
    }

    /// Accounts due now and not under way (new accounts are due at once; those
    /// needing sign-in wait); `None` when the accounts could not be listed.
    fn due(&mut self) -> Option<Vec<String>> {
        let now = (self.runner.now)();
        let accounts = self.accounts()?;
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
            if clock.next_at <= now && !self.running.contains_key(&a.id) {
                due.push(a.id);
            }
        }
        Some(due)
    }

    /// Until the next account not under way is due.
    fn until_next(&self) -> Duration {
        let now = (self.runner.now)();
        self.clocks
            .iter()
            .filter(|(id, _)| !self.running.contains_key(*id))
            .map(|(_, c)| (c.next_at - now).to_std().unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(TICK)
    }
}

/// `c`, run by `at` if healthy. Not a failing account, past its backoff or a
/// provider's `Retry-After`, nor one needing sign-in: an edit waits in the outbox
/// meanwhile.
fn healthy_by(c: AccountClock, at: DateTime<Utc>) -> AccountClock {
    if !c.action_required && c.failures == 0 && c.next_at > at {
        AccountClock { next_at: at, ..c }
    } else {
        c
    }
}

impl Runner {
    /// Account `id` as messages name it (its id, if the store cannot say).
    fn label(&self, id: &str) -> String {
        lock(&self.store)
            .account(id)
            .map_or_else(|_| format!("account {id}"), |a| a.label())
    }

    /// One run of account `id` (its start and progress published as they come).
    async fn run(&self, id: &str) -> Ended {
        let account = match lock(&self.store).account(id) {
            Ok(a) => a,
            // Removed meanwhile (the next look at the accounts drops its clock), or the
            // store failing: tried again as after a failure.
            Err(_) => {
                return Ended {
                    outcome: RunResult::Failed { retry_after: None },
                    events: Vec::new(),
                }
            }
        };
        (self.publish)(SyncEvent::Started {
            account_id: id.to_owned(),
        });
        // This account's: another's run may record conflicts meanwhile.
        let open = || -> BTreeSet<String> {
            lock(&self.store)
                .conflicts(true)
                .map(|l| {
                    l.into_iter()
                        .filter(|c| c.account_id.as_deref() == Some(id))
                        .map(|c| c.id)
                        .collect()
                })
                .unwrap_or_default()
        };
        let open_before = open();
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
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            // No run began (the account's sign-in settings or keyring), or it could not
            // be recorded (the store failing): still its last attempt and error, for
            // the status to show — else it kept "synced 3 hours ago" while every run
            // failed.
            let _ = record_unstarted(&self.store, id, (self.now)(), e);
        }
        let outcome = run_result(&result);
        let mut events = Vec::new();
        if outcome == RunResult::ActionRequired {
            let message = match &result {
                Ok(s) => s.error.as_ref().map(|e| e.message.clone()),
                Err(e) => Some(e.to_string()),
            };
            eprintln!(
                "almanac: {} needs a new sign-in: {}",
                account.label(),
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
            events.push(SyncEvent::ActionRequired {
                account_id: id.to_owned(),
                notify,
            });
        }
        events.push(match result {
            Ok(summary) => SyncEvent::Finished { summary },
            Err(e) => SyncEvent::Failed {
                account_id: id.to_owned(),
                error: AppError::new(e.code(), e.to_string()),
            },
        });
        let opened: Vec<String> = open().difference(&open_before).cloned().collect();
        let new: Vec<ConflictRecord> = lock(&self.store)
            .conflicts(true)
            .map(|l| l.into_iter().filter(|c| opened.contains(&c.id)).collect())
            .unwrap_or_default();
        if !new.is_empty() {
            events.push(SyncEvent::NewConflicts(new));
        }
        Ended { outcome, events }
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
pub fn passes_with_time(code: ErrorCode) -> bool {
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
