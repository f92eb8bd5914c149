//! Builds the UI (so plain `cargo run` embeds `ui/dist`) and declares the app's
//! commands so that capabilities can grant them one by one.

use std::path::Path;
use std::process::Command;

/// Every IPC command of the app; `capabilities/main.json` grants these to the window.
const COMMANDS: &[&str] = &[
    "list_calendars",
    "set_calendar_visible",
    "list_occurrences",
    "get_event",
    "create_event",
    "update_event",
    "move_event",
    "delete_event",
    "join_meeting",
    "list_time_zones",
    "default_time_zone",
    "report_ready",
    "list_accounts",
    "configured_providers",
    "connect_account",
    "cancel_sign_in",
    "disconnect_account",
    "sync_overview",
    "sync_now",
    "set_sync_paused",
    "list_conflicts",
    "resolve_conflict",
    "confirm_deletions",
    "set_conflict_policy",
    "list_settled_conflicts",
];

fn main() {
    build_ui();
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri-build failed: {e:#}"));
}

fn build_ui() {
    println!("cargo:rerun-if-env-changed=SKIP_UI_BUILD");
    for p in [
        "ui/src",
        "ui/index.html",
        "ui/package.json",
        "ui/package-lock.json",
        "ui/vite.config.ts",
        "ui/tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
    // `tauri dev` turns custom-protocol off and serves the UI from Vite instead.
    if std::env::var_os("SKIP_UI_BUILD").is_some()
        || std::env::var_os("CARGO_FEATURE_CUSTOM_PROTOCOL").is_none()
    {
        return;
    }
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let ui = Path::new(&root).join("ui");
    if !ui.join("node_modules").exists() {
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&ui));
    }
    run(Command::new("npm").args(["run", "build"]).current_dir(&ui));
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("failed to spawn {cmd:?} (is Node.js installed?): {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
