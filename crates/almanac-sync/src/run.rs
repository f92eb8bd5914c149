//! One sync run of one account: list its calendars, then per calendar pull then push
//! (DESIGN §4), with a `sync_runs` row and a `sync_actions` row per applied change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use almanac_model::{AppError, ErrorCode};
use almanac_provider::{CalendarProvider, ErrorKind, RemoteCalendar};
use almanac_store::{CalendarHold, RemoteCalendarRow, RunOutcome, RunRecord, Store, SyncCalendar};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::watch;

use crate::apply::Applied;
use crate::error::SyncError;
use crate::merge::Policy;
use crate::plan::MassDeleteGuard;
use crate::pull::{Puller, Stop};
use crate::push::Pusher;

/// "Now", passed in (tests drive it; the engine never reads the clock itself).
pub type Clock<'a> = dyn Fn() -> DateTime<Utc> + Send + Sync + 'a;

/// How runs behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// The window incremental sync covers: this many days back…
    pub days_back: i64,
    /// …and ahead.
    pub days_ahead: i64,
    pub guard: MassDeleteGuard,
    /// The provider's listing covers a window only (Graph): a full listing says
    /// nothing about events outside it.
    pub windowed: bool,
    /// Pages per calendar per run, a bound against a provider that never ends a round.
    pub max_pages: usize,
    /// Pages of one round (across runs) after which it is given up as one that never
    /// ends: the calendar is listed again from the start, and the run says so.
    pub longest_round: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            days_back: 90,
            days_ahead: 365,
            guard: MassDeleteGuard::default(),
            windowed: false,
            max_pages: 500,
            longest_round: 5_000,
        }
    }
}

/// What a run did to one calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarRun {
    pub calendar_id: String,
    pub name: String,
    pub pulled: usize,
    pub pushed: usize,
    pub conflicts: usize,
    pub skipped: usize,
    /// Changes the provider refused for good, waiting here (then `error` says so):
    /// a problem of those changes, not of the provider, so no reason to sync less.
    pub refused: usize,
    /// How long the provider asked Almanac to wait (a throttled request), in seconds:
    /// the scheduler comes back no sooner.
    pub retry_after_secs: Option<u64>,
    /// Stopped by the mass-deletion guard: nothing of the listing was applied.
    pub held: Option<Held>,
    pub error: Option<AppError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    pub would_delete: usize,
    pub total: usize,
}

/// What a run of one account did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: i64,
    pub account_id: String,
    /// `ok`, `partial`, `failed`.
    pub outcome: String,
    pub pulled: usize,
    pub pushed: usize,
    pub conflicts: usize,
    pub calendars: Vec<CalendarRun>,
    /// The account's calendar list changed (a calendar added, removed, renamed,
    /// recoloured or re-permissioned): windows listing calendars read them again.
    pub calendars_changed: bool,
    /// What stopped the whole run (listing the calendars failed, or sign-in is needed).
    pub error: Option<AppError>,
    /// How long the provider asked Almanac to wait when it refused to list the
    /// calendars (throttled), in seconds; a calendar's own wait is in its
    /// [`CalendarRun::retry_after_secs`].
    pub retry_after_secs: Option<u64>,
}

/// One calendar's pull and push; `None` when the run stopped before it began.
type CalendarJob<'a> =
    std::pin::Pin<Box<dyn Future<Output = Option<(CalendarRun, Option<SyncError>)>> + Send + 'a>>;

/// Calendars of one account synced at once (Graph allows a mailbox 4 requests at a
/// time; the client queues beyond that).
const CALENDARS_AT_ONCE: usize = 3;

pub(crate) fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn policy_of(s: &str) -> Policy {
    Policy::parse(s).unwrap_or_default()
}

fn app_error(e: &SyncError) -> AppError {
    AppError::new(e.code(), e.to_string())
}

/// Errors that stop the whole run, not just one calendar.
fn stops_run(e: &SyncError) -> bool {
    matches!(e, SyncError::Provider(p) if matches!(p.kind, ErrorKind::AuthExpired | ErrorKind::ActionRequired | ErrorKind::Offline))
}

/// A run of `account_id` that could not begin (its sign-in settings or the keyring
/// failed before any request): recorded as a failed run all the same, so the status
/// shows its last attempt and why, and returned as such a run's summary.
pub fn record_unstarted(
    store: &Mutex<Store>,
    account_id: &str,
    at: DateTime<Utc>,
    e: &SyncError,
) -> Result<RunSummary, SyncError> {
    let error = app_error(e);
    let mut store = lock(store);
    let run_id = store.start_run(account_id, at.timestamp())?;
    store.finish_run(
        &RunRecord {
            id: run_id,
            account_id: Some(account_id.to_owned()),
            started_at: at.timestamp(),
            finished_at: Some(at.timestamp()),
            outcome: None,
            pulled: 0,
            pushed: 0,
            conflicts: 0,
            error_code: Some(error.code.as_str().to_owned()),
            error_message: Some(error.message.clone()),
        },
        RunOutcome::Failed,
    )?;
    Ok(RunSummary {
        run_id,
        account_id: account_id.to_owned(),
        outcome: "failed".to_owned(),
        pulled: 0,
        pushed: 0,
        conflicts: 0,
        calendars: Vec::new(),
        calendars_changed: false,
        error: Some(error),
        retry_after_secs: None,
    })
}

/// Runs one sync of `account_id` through `provider`.
pub async fn sync_account(
    store: &Mutex<Store>,
    provider: &dyn CalendarProvider,
    account_id: &str,
    opts: &SyncOptions,
    clock: &Clock<'_>,
) -> Result<RunSummary, SyncError> {
    sync_account_reporting(store, provider, account_id, opts, clock, &|_| {}).await
}

/// [`sync_account`], telling `progress` about each calendar as soon as it is done.
pub async fn sync_account_reporting(
    store: &Mutex<Store>,
    provider: &dyn CalendarProvider,
    account_id: &str,
    opts: &SyncOptions,
    clock: &Clock<'_>,
    progress: &(dyn Fn(&CalendarRun) + Send + Sync),
) -> Result<RunSummary, SyncError> {
    let run_id = lock(store).start_run(account_id, clock().timestamp())?;
    let mut summary = RunSummary {
        run_id,
        account_id: account_id.to_owned(),
        outcome: String::new(),
        pulled: 0,
        pushed: 0,
        conflicts: 0,
        calendars: Vec::new(),
        calendars_changed: false,
        error: None,
        retry_after_secs: None,
    };
    let listed = match provider.list_calendars().await {
        // Every account has its own calendar (Google's primary, Outlook's default): a
        // list without any is an answer gone wrong — a proxy's, an error object read
        // as a list — not every calendar removed, which would delete them all here
        // with their events.
        Ok(l) if l.is_empty() => {
            summary.error = Some(AppError::new(
                ErrorCode::ProviderUnavailable,
                "The provider listed no calendars at all for this account, though every \
                 account has its own; nothing was removed here, and the next sync asks \
                 again.",
            ));
            None
        }
        Ok(l) => Some(l),
        Err(e) => {
            let e = SyncError::from(e);
            summary.retry_after_secs = retry_after_of(&e);
            summary.error = Some(app_error(&e));
            None
        }
    };
    if let Some(listed) = listed {
        let rows: Vec<RemoteCalendarRow> = listed
            .iter()
            .map(|c| RemoteCalendarRow {
                remote_id: c.remote_id.clone(),
                name: c.name.clone(),
                color: c.color.clone(),
                can_edit: c.can_edit,
                is_primary: c.is_primary,
                owner_email: c.owner_email.clone(),
            })
            .collect();
        let listed_here = lock(store).sync_calendar_list(account_id, &rows)?;
        summary.calendars_changed = listed_here.changed;
        let calendars = listed_here.calendars;
        let remote: HashMap<&str, &RemoteCalendar> =
            listed.iter().map(|c| (c.remote_id.as_str(), c)).collect();
        // A few calendars at a time: while one page is stored, the provider is already
        // answering the next calendar's request. Results come back in calendar order.
        // An error that stops the run (signed out, offline) starts no further calendar
        // (it resumes next run from its cursor) and stops those under way at their next
        // wait, so an offline run ends without waiting out their requests' timeouts and
        // retries; they report the pages they committed before it came.
        let (stop_run, stopped) = watch::channel(None::<AppError>);
        let shared = AccountRun {
            store,
            provider,
            opts,
            clock,
            run_id,
        };
        let shared = &shared;
        let mut jobs: Vec<CalendarJob<'_>> = Vec::new();
        for cal in &calendars {
            // A calendar no longer listed is kept for its unpushed changes.
            if let Some(remote) = remote.get(cal.remote_id.as_str()) {
                let (stop_run, mut stopped) = (&stop_run, stopped.clone());
                jobs.push(Box::pin(async move {
                    if stopped.borrow().is_some() {
                        return None;
                    }
                    let done = sync_calendar(shared, cal, remote, &mut stopped).await;
                    // Told here, not where results are read: those come in calendar
                    // order, and an earlier calendar may be the one still waiting.
                    if let Some(e) = &done.1 {
                        stop_run
                            .send_if_modified(|s| s.is_none() && s.replace(app_error(e)).is_none());
                    }
                    Some(done)
                }));
            }
        }
        let mut runs = futures_util::stream::iter(jobs).buffered(CALENDARS_AT_ONCE);
        while let Some(done) = runs.next().await {
            let Some((one, stop)) = done else { continue };
            summary.pulled += one.pulled;
            summary.pushed += one.pushed;
            summary.conflicts += one.conflicts;
            progress(&one);
            summary.calendars.push(one);
            if let Some(e) = stop {
                summary.error.get_or_insert_with(|| app_error(&e));
            }
        }
    }
    let failed_calendars = summary
        .calendars
        .iter()
        .filter(|c| c.error.is_some() || c.held.is_some())
        .count();
    let outcome = if summary.error.is_some() && summary.calendars.is_empty() {
        RunOutcome::Failed
    } else if summary.error.is_some() || failed_calendars > 0 {
        RunOutcome::Partial
    } else {
        RunOutcome::Ok
    };
    summary.outcome = outcome.as_str().to_owned();
    // A calendar's error names the calendar (the account's status shows it alone).
    let first_error = summary.error.clone().or_else(|| {
        summary.calendars.iter().find_map(|c| {
            let e = c.error.as_ref()?;
            let name = format!("\"{}\"", c.name);
            Some(match e.message.contains(&name) {
                true => e.clone(),
                false => AppError::new(e.code, format!("{name}: {}", e.message)),
            })
        })
    });
    let held_note = summary.calendars.iter().find_map(|c| {
        c.held.map(|h| {
            AppError::new(
                ErrorCode::Conflict,
                format!(
                    "Sync of \"{}\" stopped: it would delete {} of its {} events. Check the calendar at the provider, then confirm with `almanac calendars confirm-deletions {}` (in the window: Confirm deletions, beside the sync status).",
                    c.name, h.would_delete, h.total, c.calendar_id
                ),
            )
        })
    });
    let err = first_error.or(held_note);
    lock(store).finish_run(
        &RunRecord {
            id: run_id,
            account_id: Some(account_id.to_owned()),
            started_at: clock().timestamp(),
            finished_at: Some(clock().timestamp()),
            outcome: None,
            pulled: summary.pulled as i64,
            pushed: summary.pushed as i64,
            conflicts: summary.conflicts as i64,
            error_code: err.as_ref().map(|e| e.code.as_str().to_owned()),
            error_message: err.as_ref().map(|e| e.message.clone()),
        },
        outcome,
    )?;
    Ok(summary)
}

/// `work`, unless the run is stopped first: then `Err` with what stopped it, and `work`
/// is dropped where it waits (a request). Nothing is lost by that: every page and push
/// is committed in one store transaction between waits, and what was not committed yet
/// is asked again next run (a create whose answer never came is resent with its
/// idempotency key).
async fn unless_stopped<T>(
    work: impl Future<Output = T>,
    stopped: &mut watch::Receiver<Option<AppError>>,
) -> Result<T, AppError> {
    tokio::select! {
        biased;
        out = work => Ok(out),
        Ok(why) = stopped.wait_for(Option::is_some) => {
            Err(why.clone().unwrap_or_else(|| AppError::new(ErrorCode::Internal, "The sync run was stopped.")))
        }
    }
}

/// What every calendar of one account's run shares.
struct AccountRun<'a> {
    store: &'a Mutex<Store>,
    provider: &'a dyn CalendarProvider,
    opts: &'a SyncOptions,
    clock: &'a Clock<'a>,
    run_id: i64,
}

/// Pull then push one calendar. The second value is an error that stops the run.
async fn sync_calendar(
    run: &AccountRun<'_>,
    cal: &SyncCalendar,
    remote: &RemoteCalendar,
    stopped: &mut watch::Receiver<Option<AppError>>,
) -> (CalendarRun, Option<SyncError>) {
    let AccountRun {
        store,
        provider,
        opts,
        clock,
        run_id,
    } = *run;
    let mut one = CalendarRun {
        calendar_id: cal.id.clone(),
        name: cal.name.clone(),
        pulled: 0,
        pushed: 0,
        conflicts: 0,
        skipped: 0,
        refused: 0,
        retry_after_secs: None,
        held: cal.hold.filter(|h| !h.confirmed).map(held),
        error: None,
    };
    if one.held.is_some() {
        return (one, None); // waits for the user
    }
    let mut puller = Puller {
        store,
        provider,
        cal,
        remote,
        opts,
        clock,
        run_id,
        masters: HashMap::new(),
        applied: Applied::default(),
        gave_up: None,
    };
    let pulled = unless_stopped(puller.pull(), stopped).await;
    // Pages committed before a failure, a hold or a stop stay applied: they count.
    one.pulled = puller.applied.changed;
    one.conflicts = puller.applied.conflicts;
    one.skipped = puller.applied.skipped;
    let pulled = match pulled {
        Ok(pulled) => pulled,
        Err(why) => {
            one.error = Some(why);
            return (one, None);
        }
    };
    match pulled {
        // Told, and the push goes on.
        Ok(()) => {
            one.error = puller
                .gave_up
                .take()
                .map(|why| AppError::new(ErrorCode::ProviderUnavailable, why));
        }
        Err(Stop::Held(h)) => {
            let now = clock().timestamp();
            let kept = lock(store).sync_step(now, |tx| -> Result<(), SyncError> {
                tx.set_hold(&cal.id, Some(h))?;
                tx.action(
                    run_id,
                    None,
                    &cal.id,
                    "pull",
                    "stopped",
                    &[],
                    &format!(
                        "The provider's listing would delete {} of {} events: nothing applied; waiting for confirmation.",
                        h.would_delete, h.total
                    ),
                )?;
                Ok(())
            });
            one.held = Some(held(h));
            if let Err(e) = kept {
                one.error = Some(app_error(&e));
            }
            return (one, None);
        }
        Err(Stop::Failed(e)) => {
            one.error = Some(app_error(&e));
            one.retry_after_secs = retry_after_of(&e);
            let stop = stops_run(&e);
            return (one, stop.then_some(e));
        }
    }
    let pusher = Pusher {
        store,
        provider,
        cal,
        remote,
        clock,
        run_id,
    };
    match unless_stopped(pusher.push(), stopped).await {
        Err(why) => told_too(&mut one.error, why),
        Ok(Ok(p)) => {
            one.pushed = p.sent;
            one.conflicts += p.conflicts;
            if let Some((n, why)) = refused_here(store, cal) {
                one.refused = n;
                told_too(&mut one.error, why);
            }
        }
        Ok(Err(e)) => {
            told_too(&mut one.error, app_error(&e));
            one.retry_after_secs = retry_after_of(&e);
            if stops_run(&e) {
                return (one, Some(e));
            }
        }
    }
    (one, None)
}

/// The push's error `now` after the pull's (a listing given up): the push's code
/// (what to do next: sign in again, wait), and both messages — the given-up listing
/// is not to go unsaid because a push failed after it.
fn told_too(error: &mut Option<AppError>, now: AppError) {
    *error = Some(match error.take() {
        None => now,
        Some(before) => AppError::new(
            now.code,
            format!("{} Also: {}", now.message, before.message),
        ),
    });
}

fn retry_after_of(e: &SyncError) -> Option<u64> {
    match e {
        SyncError::Provider(p) => p.retry_after.map(|d| d.as_secs()),
        _ => None,
    }
}

/// Changes of `cal` the provider refused for good (a rule it cannot hold, no access):
/// they wait here, tried again once a day, and the run says so — until they go
/// through, are changed, or are deleted — instead of reading "ok" with changes
/// waiting for ever.
fn refused_here(store: &Mutex<Store>, cal: &SyncCalendar) -> Option<(usize, AppError)> {
    let waiting = lock(store).outbox(Some(&cal.id)).ok()?;
    let refused: Vec<_> = waiting
        .iter()
        .filter(|o| {
            o.last_error_code
                .as_deref()
                .is_some_and(crate::push::refused_for_good)
        })
        .collect();
    let first = refused.first()?;
    let code = match first.last_error_code.as_deref() {
        Some("forbidden") => ErrorCode::Forbidden,
        Some("not_found") => ErrorCode::NotFound,
        _ => ErrorCode::InvalidRequest,
    };
    Some((
        refused.len(),
        AppError::new(
            code,
            format!(
                "{} change(s) to \"{}\" were refused by the provider and wait here (tried again once a day, or at the next sync after you change them; `almanac log` names them): {}",
                refused.len(),
                cal.name,
                first.last_error_message.as_deref().unwrap_or("no reason given")
            ),
        ),
    ))
}

fn held(h: CalendarHold) -> Held {
    Held {
        would_delete: h.would_delete,
        total: h.total,
    }
}
