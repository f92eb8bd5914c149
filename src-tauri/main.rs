// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc instead of the system allocator: a first sync allocates and frees a few
/// hundred small values per event (provider JSON, rows, snapshots), and glibc's
/// allocator spent a fifth of the engine's time on them (`cargo bench -p almanac-sync`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    almanac_desktop::startup_probe::mark_main_start();
    // Before any thread exists: it may set an environment variable.
    almanac_desktop::renderer::choose();
    std::process::exit(almanac_desktop::run());
}
