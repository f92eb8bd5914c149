//! Cold-start probe for `scripts/bench-startup`: with `ALMANAC_STARTUP_PROBE=1` the UI's
//! "week view painted with the first events" signal (`report_ready`) prints
//! `startup_ms=<ms since the process started>` to stdout and quits the app with code 0.
//! Without the variable the command does nothing, so the UI can always call it.
//!
//! Also compiled into `examples/hello_startup.rs` (through `#[path]`) so that the
//! Tauri hello-world baseline is measured in exactly the same way.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

/// Fallback clock origin (where `/proc` is unavailable): as early in `main` as possible.
static MAIN_STARTED: OnceLock<Instant> = OnceLock::new();

/// Records the fallback clock origin; call first thing in `main`.
pub fn mark_main_start() {
    MAIN_STARTED.get_or_init(Instant::now);
}

/// Whether this run is a startup measurement (`ALMANAC_STARTUP_PROBE=1`).
pub fn enabled() -> bool {
    std::env::var_os("ALMANAC_STARTUP_PROBE").is_some_and(|v| v == "1")
}

/// Milliseconds since the process started. On Linux this is measured from the
/// kernel's process start time (so exec and dynamic loading count), with a
/// resolution of one clock tick (10 ms) on each end; elsewhere, or if `/proc` cannot
/// be read, from [`mark_main_start`].
pub fn elapsed_ms() -> f64 {
    proc_elapsed_ms().unwrap_or_else(|| {
        MAIN_STARTED
            .get()
            .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0)
    })
}

/// `/proc/uptime` minus field 22 (`starttime`, clock ticks since boot) of
/// `/proc/self/stat`. USER_HZ is 100 on every Linux architecture Tauri supports.
fn proc_elapsed_ms() -> Option<f64> {
    const CLOCK_TICKS_PER_SEC: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    // `comm` (field 2) is in parentheses and may contain spaces: split after the last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Fields from 3 on; starttime is field 22.
    let start_ticks: f64 = after_comm.split_whitespace().nth(22 - 3)?.parse().ok()?;
    let uptime_s: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let ms = (uptime_s - start_ticks / CLOCK_TICKS_PER_SEC) * 1000.0;
    (ms >= 0.0).then_some(ms)
}

/// Prints `startup_ms=…` (flushed) when probing; returns whether it did.
pub fn report() -> bool {
    if !enabled() {
        return false;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "startup_ms={:.0}", elapsed_ms());
    let _ = out.flush();
    true
}
