//! The sync loop in the desktop app: started with the app, driven by the window
//! (Sync now, pause, focus, local edits) and the tray, reported to the window as
//! `sync-changed` events and to the user as one notification per new conflict and per
//! account needing sign-in. Thin: the loop and its rules are `almanac-sync`'s.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use almanac_auth::Credentials;
use almanac_model::{
    AppError, CalendarProgress, ConflictAnswer, ConflictPolicy, ConflictView, ErrorCode,
    SettledConflict, SyncOverview,
};
use almanac_store::Store;
use almanac_sync::schedule::ScheduleOptions;
use almanac_sync::{Command, Scheduler, SyncError, SyncEvent};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::{notify, tray, AppState};

type CmdResult<T> = Result<T, AppError>;

/// Emitted with the new [`SyncOverview`] whenever sync's state changes.
pub const SYNC_CHANGED: &str = "sync-changed";
/// Emitted with a [`CalendarProgress`] as each calendar of a run finishes.
pub const SYNC_PROGRESS: &str = "sync-progress";

/// The loop's handle and what the window asks about it.
#[derive(Debug)]
pub struct SyncHost {
    scheduler: Scheduler,
    /// The loop's task, taken by [`quit`] to wait for it.
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    running: Mutex<BTreeSet<String>>,
    paused: AtomicBool,
}

impl SyncHost {
    pub fn send(&self, c: Command) {
        self.scheduler.send(c);
    }

    fn running(&self) -> BTreeSet<String> {
        self.running.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
}

fn store_error() -> AppError {
    AppError::new(
        ErrorCode::Internal,
        "The store is unavailable after an earlier failure; restart Almanac.",
    )
}

fn overview_of(app: &AppHandle) -> CmdResult<SyncOverview> {
    let state = app.state::<AppState>();
    let host = state.sync.get().ok_or_else(not_started)?;
    // As the engine takes it (`run.rs`'s `lock`): a run that panicked inside a
    // transaction poisons the lock but leaves the database as it was (the transaction
    // rolled back); refused here, the window would keep the "Syncing…" it was last
    // sent, Sync now disabled, until a restart.
    let store = state
        .store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Ok(almanac_sync::overview(
        &store,
        &host.running(),
        host.paused(),
    )?)
}

fn not_started() -> AppError {
    AppError::new(
        ErrorCode::Internal,
        "Sync has not started yet; try again in a moment.",
    )
}

/// Tells the window (and the tray's status line) what sync is doing now — also after
/// an account is removed or found to need a sign-in outside a run, which no sync
/// event follows.
pub(crate) fn changed(app: &AppHandle) {
    // Called from the loop's tasks (one per account run), commands and threads at
    // once: a snapshot taken before another but sent after it would leave the window
    // on the older one — "Syncing…" after the run ended, Sync now disabled. So the
    // snapshot and its sending go together, one caller at a time.
    static IN_ORDER: Mutex<()> = Mutex::new(());
    let _turn = IN_ORDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Ok(o) = overview_of(app) {
        tray::set_sync_status(app, &o);
        let _ = app.emit(SYNC_CHANGED, o);
    }
}

/// Starts the loop (on Tauri's tokio runtime) and keeps its handle in the state.
pub fn start(app: &AppHandle, store: Arc<Mutex<Store>>) {
    let state = app.state::<AppState>();
    let creds = state
        .config
        .clone()
        .and_then(|c| Credentials::new(c, state.vault.clone()).map_err(AppError::from))
        .map(Arc::new);
    let connect: Arc<almanac_sync::Connect> = Arc::new(move |account| match &creds {
        Ok(c) => almanac_sync::provider_for(account, c.config(), c.clone()),
        Err(e) => Err(SyncError::Config(e.message.clone())),
    });
    let handle = app.clone();
    let publish: Arc<almanac_sync::Publish> = Arc::new(move |e| on_event(&handle, e));
    // Paused when the app last ran: still paused (the tooltip promises "until you
    // resume").
    let paused = store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .sync_paused()
        .unwrap_or(false);
    let opts = ScheduleOptions {
        start_paused: paused,
        ..ScheduleOptions::default()
    };
    let (scheduler, task) = tauri::async_runtime::block_on(async move {
        Scheduler::spawn(store, connect, publish, opts, Arc::new(chrono::Utc::now))
    });
    let _ = state.sync.set(SyncHost {
        scheduler,
        task: Mutex::new(Some(task)),
        running: Mutex::new(BTreeSet::new()),
        paused: AtomicBool::new(paused),
    });
    // The tray's status line says how things stand from the start, not from the first
    // run's end: with no account there is no run, and it said "starting…" for good.
    let handle = app.clone();
    std::thread::spawn(move || changed(&handle));
}

/// How long Quit waits for a run under way to finish. Longer would keep a window the
/// user closed alive; a run cut short is safe (each page is written with its cursor in
/// one transaction, each create carries its idempotency key) and goes on next time.
const QUIT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Quits the app: the loop stops first — no new run, a run under way finishes (up to
/// [`QUIT_WAIT`]) — then the app exits. From the tray's Quit and any exit the user asks
/// for; asked twice, the second does nothing.
pub fn quit(app: &AppHandle) {
    static QUITTING: AtomicBool = AtomicBool::new(false);
    if QUITTING.swap(true, Ordering::SeqCst) {
        return;
    }
    let handle = app.clone();
    // Not on the caller's thread: the tray's and the event loop's must stay free while
    // the run's last events are delivered.
    std::thread::spawn(move || {
        let state = handle.state::<AppState>();
        if let Some(host) = state.sync.get() {
            host.send(Command::Stop);
            let task = host.task.lock().ok().and_then(|mut t| t.take());
            if let Some(task) = task {
                // (The timer is made inside the runtime: it needs its clock.)
                let waited = tauri::async_runtime::block_on(async move {
                    tokio::time::timeout(QUIT_WAIT, task).await
                });
                match waited {
                    Ok(_) => eprintln!("almanac: sync stopped; quitting"),
                    Err(_) => eprintln!(
                        "almanac: a sync run was still under way after {} s; quitting (it goes on at the next start)",
                        QUIT_WAIT.as_secs()
                    ),
                }
            }
        }
        handle.exit(0);
    });
}

/// Runs every account as soon as the network comes back (GLib's network monitor:
/// NetworkManager, or netlink), instead of waiting for the next offline probe. Only
/// the change from unavailable to available counts: a route added to a working
/// connection is not a reason to sync.
#[cfg(target_os = "linux")]
pub fn watch_network(app: &AppHandle) {
    use gio::prelude::NetworkMonitorExt;
    let monitor = gio::NetworkMonitor::default();
    let was_up = AtomicBool::new(monitor.is_network_available());
    let handle = app.clone();
    monitor.connect_network_changed(move |_, available| {
        let before = was_up.swap(available, Ordering::Relaxed);
        if available && !before {
            send(&handle, Command::NetworkUp);
        }
    });
}

#[cfg(not(target_os = "linux"))]
pub fn watch_network(_app: &AppHandle) {}

fn on_event(app: &AppHandle, e: SyncEvent) {
    let state = app.state::<AppState>();
    let Some(host) = state.sync.get() else {
        return;
    };
    match e {
        SyncEvent::Started { account_id } => {
            if let Ok(mut r) = host.running.lock() {
                r.insert(account_id);
            }
        }
        SyncEvent::Finished { summary } => {
            if let Ok(mut r) = host.running.lock() {
                r.remove(&summary.account_id);
            }
            if summary.pulled + summary.pushed + summary.conflicts > 0 || summary.calendars_changed
            {
                // The window reads its calendars and their events again on this (an
                // account's first run brings its calendars, often before any event; a
                // conflict still writes the fields that merged, a moved time say).
                let _ = app.emit("events-changed", ());
                crate::next_meeting::refresh_soon(app);
            }
        }
        SyncEvent::Failed { account_id, .. } => {
            if let Ok(mut r) = host.running.lock() {
                r.remove(&account_id);
            }
        }
        SyncEvent::ActionRequired { account_id, notify } => {
            let _ = app.emit(crate::accounts::ACCOUNTS_CHANGED, ());
            if notify {
                let account = state
                    .store
                    .lock()
                    .ok()
                    .and_then(|s| s.account(&account_id).ok());
                if let Some(a) = account {
                    let reason = a
                        .status_message
                        .clone()
                        .unwrap_or_else(|| "sign in again".into());
                    notify::action_required(&a, &reason);
                }
            }
        }
        SyncEvent::NewConflicts(list) => {
            let views: Vec<_> = list.iter().map(almanac_sync::conflict_view).collect();
            for n in almanac_sync::conflict_notices(&views) {
                notify::show(&n);
            }
        }
        SyncEvent::Progress {
            account_id,
            calendar,
        } => {
            let problem = calendar
                .held
                .map(|h| {
                    format!(
                        "stopped: it would delete {} of {} events",
                        h.would_delete, h.total
                    )
                })
                .or_else(|| calendar.error.as_ref().map(|e| e.message.clone()));
            let _ = app.emit(
                SYNC_PROGRESS,
                CalendarProgress {
                    account_id,
                    calendar_id: calendar.calendar_id,
                    name: calendar.name,
                    pulled: calendar.pulled as u32,
                    pushed: calendar.pushed as u32,
                    conflicts: calendar.conflicts as u32,
                    problem,
                },
            );
            return; // the overview has not changed
        }
        SyncEvent::Paused(p) => host.paused.store(p, Ordering::Relaxed),
        SyncEvent::Stopped => {}
    }
    changed(app);
}

/// A local edit was saved: push it soon (a no-op for calendars that do not sync).
pub fn local_edit(app: &AppHandle) {
    crate::next_meeting::refresh_soon(app);
    if let Some(h) = app.state::<AppState>().sync.get() {
        h.send(Command::LocalEdit);
    }
}

pub fn send(app: &AppHandle, c: Command) {
    if let Some(h) = app.state::<AppState>().sync.get() {
        h.send(c);
    }
}

#[tauri::command]
pub async fn sync_overview(app: AppHandle) -> CmdResult<SyncOverview> {
    overview_of(&app)
}

/// Runs every account now (during a run, another after it — unless a Sync now began
/// that run just now: a double click is one request).
#[tauri::command]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    let host = state.sync.get().ok_or_else(not_started)?;
    host.send(Command::SyncNow(None));
    changed(&app);
    Ok(())
}

#[tauri::command]
pub async fn set_sync_paused(app: AppHandle, paused: bool) -> CmdResult<()> {
    set_paused(&app, paused)
}

/// Pauses or resumes the loop (the window's button, the tray's item), and keeps the
/// choice for the next start.
pub fn set_paused(app: &AppHandle, paused: bool) -> CmdResult<()> {
    let state = app.state::<AppState>();
    let host = state.sync.get().ok_or_else(not_started)?;
    state
        .store
        .lock()
        .map_err(|_| store_error())?
        .set_sync_paused(paused)?;
    host.send(if paused {
        Command::Pause
    } else {
        Command::Resume
    });
    Ok(())
}

#[tauri::command]
pub async fn list_conflicts(state: State<'_, AppState>) -> CmdResult<Vec<ConflictView>> {
    let store = state.store.lock().map_err(|_| store_error())?;
    Ok(almanac_sync::open_conflicts(&store)?)
}

/// The conflicts calendars' policies settled by themselves, newest first (the last
/// 20): Settings › Sync shows what each kept and what it gave up.
#[tauri::command]
pub async fn list_settled_conflicts(state: State<'_, AppState>) -> CmdResult<Vec<SettledConflict>> {
    let store = state.store.lock().map_err(|_| store_error())?;
    Ok(almanac_sync::settled_by_policy(&store, 20)?)
}

/// Carries out the user's answer; the result goes to the provider on the next run,
/// which is asked for at once.
#[tauri::command]
pub async fn resolve_conflict(
    app: AppHandle,
    state: State<'_, AppState>,
    answer: ConflictAnswer,
) -> CmdResult<()> {
    almanac_sync::answer_conflict(&state.store, &answer, chrono::Utc::now())?;
    let _ = app.emit("events-changed", ());
    send(&app, Command::LocalEdit);
    changed(&app);
    Ok(())
}

/// Sets how a synced calendar settles conflicts from now on (the window reloads its
/// calendars after).
#[tauri::command]
pub async fn set_conflict_policy(
    state: State<'_, AppState>,
    calendar_id: String,
    policy: ConflictPolicy,
) -> CmdResult<()> {
    let mut store = state.store.lock().map_err(|_| store_error())?;
    store.set_conflict_policy(&calendar_id, policy.as_str())?;
    Ok(())
}

/// The user checked a calendar the deletion guard stopped and lets the deletions
/// through on the next run.
#[tauri::command]
pub async fn confirm_deletions(
    app: AppHandle,
    state: State<'_, AppState>,
    calendar_id: String,
) -> CmdResult<()> {
    {
        let mut store = state.store.lock().map_err(|_| store_error())?;
        store.confirm_deletions(&calendar_id)?;
    }
    send(&app, Command::SyncNow(None));
    changed(&app);
    Ok(())
}
