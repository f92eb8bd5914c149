//! The desktop host: Tauri window, tray and commands over the core crates. Thin by
//! design — behaviour lives in `almanac-model` and `almanac-store`.

mod commands;
pub mod startup_probe;
mod tray;

use std::sync::Mutex;

use almanac_store::{DataDir, Store};
use tauri::Manager;

/// Shared app state: the store behind one writer lock.
#[derive(Debug)]
pub struct AppState {
    store: Mutex<Store>,
}

fn show_main_window(app: &tauri::AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Runs the app; returns the process exit code.
pub fn run() -> i32 {
    let result = tauri::Builder::default()
        // First: a second launch hands over to this window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_main_window(app);
        }))
        .invoke_handler(tauri::generate_handler![
            commands::list_calendars,
            commands::list_occurrences,
            commands::get_event,
            commands::create_event,
            commands::update_event,
            commands::move_event,
            commands::delete_event,
            commands::list_time_zones,
            commands::default_time_zone,
            commands::report_ready,
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
            app.manage(AppState {
                store: Mutex::new(store),
            });
            tray::build(app.handle())?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Almanac in the tray; Quit is in the tray menu.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if tray::is_available() {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("almanac: the desktop window could not start: {e}");
            1
        }
    }
}
