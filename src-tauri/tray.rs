//! The system tray icon: Open, the next meeting and Join, a sync status line, Sync
//! now, Pause/Resume sync, Quit.

use std::sync::atomic::{AtomicBool, Ordering};

use almanac_model::{AccountStatus, AccountSync, ErrorCode, SyncOverview};
use almanac_sync::Command;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether a tray icon exists (so hiding the window does not lose the app).
pub fn is_available() -> bool {
    AVAILABLE.load(Ordering::Relaxed)
}

/// The items whose text follows sync's state and the calendar.
struct TrayItems {
    next: MenuItem<Wry>,
    join: MenuItem<Wry>,
    status: MenuItem<Wry>,
    pause: MenuItem<Wry>,
    sync_now: MenuItem<Wry>,
}

pub fn build(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Almanac", true, None::<&str>)?;
    let next = MenuItem::with_id(app, "next", "Next meeting: …", false, None::<&str>)?;
    let join = MenuItem::with_id(app, "join", "No meeting link to join", false, None::<&str>)?;
    let status = MenuItem::with_id(app, "status", "Sync: starting…", false, None::<&str>)?;
    let sync_now = MenuItem::with_id(app, "sync-now", "Sync now", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", "Pause sync", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let sep2 = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(
        app,
        &[
            &open, &next, &join, &sep, &status, &sync_now, &pause, &sep2, &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("almanac")
        .tooltip("Almanac")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" | "next" => super::show_main_window(app),
            "join" => crate::next_meeting::join(app),
            "sync-now" => crate::sync::send(app, Command::SyncNow(None)),
            "pause" => {
                let paused = app
                    .state::<crate::AppState>()
                    .sync
                    .get()
                    .is_some_and(|h| h.paused());
                if let Err(e) = crate::sync::set_paused(app, !paused) {
                    eprintln!("almanac: could not pause or resume sync: {}", e.message);
                }
            }
            "quit" => crate::sync::quit(app),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(TrayItems {
        next,
        join,
        status,
        pause,
        sync_now,
    });
    // A desktop with no StatusNotifier host shows nothing; still, the icon exists and
    // a relaunch brings the window back through single-instance.
    AVAILABLE.store(true, Ordering::Relaxed);
    Ok(())
}

/// The status line in words: what a glance at the tray should tell.
pub fn status_line(o: &SyncOverview) -> String {
    if o.accounts.is_empty() {
        return "Sync: no accounts connected".into();
    }
    if o.accounts
        .iter()
        .any(|a| a.status == AccountStatus::ActionRequired)
    {
        return "Sync: an account needs you to sign in again".into();
    }
    if o.paused {
        return "Sync: paused".into();
    }
    if o.running {
        return "Sync: syncing…".into();
    }
    // A failing sync before open conflicts, as in the window: one unanswered conflict
    // must not hide a sync that has been failing for days.
    // No connection is no failure of sync but a wait: the loop probes quietly and
    // runs at once when the network is back.
    let offline = |a: &&AccountSync| {
        a.last_error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::Offline)
    };
    if o.accounts
        .iter()
        .any(|a| a.last_error.is_some() && !offline(&a))
    {
        return "Sync: failing — open Almanac for details".into();
    }
    if o.accounts.iter().any(|a| offline(&a)) {
        return "Sync: offline — changes wait until the connection is back".into();
    }
    if o.open_conflicts > 0 {
        return format!(
            "Sync: {} conflict{} to resolve",
            o.open_conflicts,
            if o.open_conflicts == 1 { "" } else { "s" }
        );
    }
    match o
        .accounts
        .iter()
        .filter_map(|a| a.last_success_at.as_deref())
        .min()
    {
        // Stored in UTC; the tray reads the time of this computer.
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(at) => format!(
                "Sync: up to date ({})",
                at.with_timezone(&chrono::Local).format("%H:%M")
            ),
            Err(_) => format!("Sync: up to date ({t})"),
        },
        None => "Sync: not synced yet".into(),
    }
}

/// Updates the tray's status line and the Pause / Sync now items.
pub fn set_sync_status(app: &AppHandle, o: &SyncOverview) {
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    let _ = items.status.set_text(status_line(o));
    let _ = items.pause.set_text(if o.paused {
        "Resume sync"
    } else {
        "Pause sync"
    });
    let _ = items.sync_now.set_enabled(!o.running);
}

/// Shows `text` as the next-meeting line (it opens the window when there is a
/// meeting) and the Join item as `join` says (`crate::next_meeting::join_item`).
pub fn set_next_meeting(app: &AppHandle, text: &str, any: bool, join: &(String, bool)) {
    let Some(items) = app.try_state::<TrayItems>() else {
        return;
    };
    let _ = items.next.set_text(text);
    let _ = items.next.set_enabled(any);
    let _ = items.join.set_text(&join.0);
    let _ = items.join.set_enabled(join.1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_model::{AppError, Provider};

    fn account(id: &str, error: Option<ErrorCode>) -> AccountSync {
        AccountSync {
            account_id: id.into(),
            email: format!("{id}@example.com"),
            provider: Provider::Google,
            status: AccountStatus::Connected,
            running: false,
            last_success_at: Some("2026-12-07T08:00:00Z".into()),
            last_attempt_at: None,
            next_sync_at: None,
            last_error: error.map(|c| AppError::new(c, "why")),
            pending_pushes: 0,
            open_conflicts: 0,
            held_calendars: Vec::new(),
        }
    }

    fn line(accounts: Vec<AccountSync>) -> String {
        status_line(&SyncOverview {
            accounts,
            running: false,
            paused: false,
            open_conflicts: 0,
        })
    }

    #[test]
    fn offline_is_a_wait_and_a_real_failure_comes_first() {
        assert_eq!(
            line(vec![account("a", Some(ErrorCode::Offline))]),
            "Sync: offline — changes wait until the connection is back"
        );
        assert_eq!(
            line(vec![
                account("a", Some(ErrorCode::Offline)),
                account("b", Some(ErrorCode::Forbidden)),
            ]),
            "Sync: failing — open Almanac for details"
        );
    }
}
