//! The system tray icon: Open and Quit.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::AppHandle;

static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether a tray icon exists (so hiding the window does not lose the app).
pub fn is_available() -> bool {
    AVAILABLE.load(Ordering::Relaxed)
}

pub fn build(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Almanac", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id("almanac")
        .tooltip("Almanac")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => super::show_main_window(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    // A desktop with no StatusNotifier host shows nothing; still, the icon exists and
    // a relaunch brings the window back through single-instance.
    AVAILABLE.store(true, Ordering::Relaxed);
    Ok(())
}
