//! The desktop host: Tauri window, tray and commands over the core crates. Thin by
//! design — behaviour lives in `almanac-model` and `almanac-store`.

mod accounts;
mod commands;
mod next_meeting;
mod notify;
pub mod renderer;
pub mod startup_probe;
mod sync;
mod tray;

use std::sync::{Arc, Mutex, OnceLock};

use almanac_auth::{deep_link, AuthConfig, DeepLinks, Vault};
use almanac_model::AppError;
use almanac_store::{DataDir, Store};
use tauri::Manager;

/// Shared app state: the store behind one writer lock (shared with the sync loop),
/// the provider configuration (or why it could not be read), the keyring vault,
/// sign-ins waiting for a deep link, and the sync loop's handle.
#[derive(Debug)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    sync: OnceLock<sync::SyncHost>,
    config: Result<AuthConfig, AppError>,
    vault: Vault,
    deep_links: DeepLinks,
    /// Ends the sign-in waiting for the browser (`accounts::cancel_sign_in`).
    sign_in_cancel: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

pub(crate) fn show_main_window(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Makes `almanac://` open this app (on Linux: a handler .desktop file and the
/// x-scheme-handler default). It runs `update-desktop-database` and `xdg-mime`, so it
/// happens on its own thread, off the first paint's path. A failure only disables the
/// deep-link redirect.
fn register_deep_link(app: &tauri::App) {
    #[cfg(any(target_os = "linux", windows))]
    {
        let handle = app.handle().clone();
        std::thread::spawn(move || {
            use tauri_plugin_deep_link::DeepLinkExt;
            if let Err(e) = handle.deep_link().register_all() {
                eprintln!("almanac: could not register the almanac:// link handler: {e}");
            }
        });
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    let _ = app;
}

/// Runs the app; returns the process exit code.
pub fn run() -> i32 {
    let result = tauri::Builder::default()
        // First: a second launch hands over to this window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            // Another launch, maybe by the browser with our OAuth deep link. Only a
            // command line that is exactly `almanac <link>` carries a link, and only a
            // sign-in waiting for its state takes it; anything else just shows the window.
            if let Some(link) = deep_link::from_args(&argv) {
                // Before set-up has opened the store there is no state, and no sign-in
                // waiting for a link either (`state` would panic the D-Bus handler).
                match app.try_state::<AppState>() {
                    Some(state) => {
                        if let Err(why) = state.deep_links.deliver(link) {
                            eprintln!("almanac: ignored a deep link ({why:?})");
                        }
                    }
                    None => eprintln!("almanac: ignored a deep link (still starting)"),
                }
            }
            show_main_window(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .invoke_handler(tauri::generate_handler![
            commands::list_calendars,
            commands::set_calendar_visible,
            commands::list_occurrences,
            commands::get_event,
            commands::create_event,
            commands::update_event,
            commands::move_event,
            commands::delete_event,
            commands::join_meeting,
            commands::list_time_zones,
            commands::default_time_zone,
            commands::report_ready,
            accounts::list_accounts,
            accounts::configured_providers,
            accounts::connect_account,
            accounts::cancel_sign_in,
            accounts::disconnect_account,
            sync::sync_overview,
            sync::sync_now,
            sync::set_sync_paused,
            sync::list_conflicts,
            sync::resolve_conflict,
            sync::confirm_deletions,
            sync::set_conflict_policy,
            sync::list_settled_conflicts,
        ])
        .setup(|app| {
            // Opened only after single-instance had its say: a second launch has been
            // forwarded to the running window and exited before it gets here.
            let store = match DataDir::default_path().and_then(|p| Store::open_at(&p)) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("almanac: {e}");
                    std::process::exit(1);
                }
            };
            let store = Arc::new(Mutex::new(store));
            app.manage(AppState {
                store: store.clone(),
                sync: OnceLock::new(),
                config: AuthConfig::load().map_err(AppError::from),
                vault: Vault::default(),
                deep_links: DeepLinks::new(),
                sign_in_cancel: Mutex::new(None),
            });
            register_deep_link(app);
            app.manage(next_meeting::JoinTarget::default());
            tray::build(app.handle())?;
            next_meeting::start(app.handle());
            accounts::check_at_start(app.handle());
            sync::start(app.handle(), store);
            sync::watch_network(app.handle());
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing the window keeps Almanac in the tray; Quit is in the tray menu.
            tauri::WindowEvent::CloseRequested { api, .. } if tray::is_available() => {
                api.prevent_close();
                let _ = window.hide();
            }
            // Sync more often while the window is in front.
            tauri::WindowEvent::Focused(f) => {
                sync::send(window.app_handle(), almanac_sync::Command::Focus(*f));
            }
            _ => {}
        })
        .build(tauri::generate_context!())
        .map(|app| {
            app.run(|app, event| {
                // The user asked to exit (the last window closed with no tray): sync
                // stops first. `quit` then exits with a code, which goes through.
                if let tauri::RunEvent::ExitRequested {
                    code: None, api, ..
                } = event
                {
                    api.prevent_exit();
                    sync::quit(app);
                }
            });
        });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("almanac: the desktop window could not start: {e}");
            1
        }
    }
}
