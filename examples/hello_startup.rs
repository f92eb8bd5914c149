//! Baseline for `scripts/bench-startup`: a Tauri hello-world built the same way as the
//! app (same crate, features and profile; same 1280×800 window) with a static "Hello"
//! page (`examples/hello/`). With `ALMANAC_STARTUP_PROBE=1` it prints
//! `startup_ms=<ms since the process started>` when the page has finished loading and
//! exits with code 0, measured exactly as the app does (`src-tauri/startup_probe.rs`).
//! There is no IPC, and the app's capability does not apply to its window (label
//! `hello`, not `main`).

#[path = "../src-tauri/startup_probe.rs"]
mod startup_probe;

use tauri::webview::PageLoadEvent;
use tauri::Manager;

fn main() {
    startup_probe::mark_main_start();
    let result = tauri::Builder::default()
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Finished && startup_probe::report() {
                webview.app_handle().exit(0);
            }
        })
        .run(tauri::generate_context!("examples/hello/tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("hello_startup: {e}");
        std::process::exit(1);
    }
}
