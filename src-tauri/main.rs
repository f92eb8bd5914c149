// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    almanac_desktop::startup_probe::mark_main_start();
    std::process::exit(almanac_desktop::run());
}
