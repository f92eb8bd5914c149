//! Builds the database of the cold-start benchmark (`scripts/bench-startup`): the same
//! dataset as the store's query benchmark (`crates/almanac-store/benches/support/
//! dataset.rs`: 100,000 events, 500 recurring series, 10 calendars, 2024 … 2028), with
//! its occurrence index built around today as on any database the app has used.
//!
//! Usage: `gen_bench_db <data-dir>` — builds `<data-dir>.partial`, then renames it to
//! `<data-dir>`; if `<data-dir>/dataset.txt` already exists, only migrates it to this
//! build's schema.

use std::error::Error;
use std::path::{Path, PathBuf};

use almanac_store::Store;
use chrono::{Duration, Utc};

#[path = "../crates/almanac-store/benches/support/dataset.rs"]
mod dataset;

type Res<T> = Result<T, Box<dyn Error>>;

/// Bump when the generated data changes (`scripts/bench-startup` names its cache after it).
const VERSION: u32 = 3;

fn build(dir: &Path) -> Res<()> {
    let took = dataset::build_dataset(dir)?;
    let mut store = Store::open_at(dir)?;
    // A database the app has used has its occurrence index built around "now" (the
    // window is persisted); do what the first start would, so the benchmark measures a
    // cold start of a used database rather than the one-time index build.
    let today = Utc::now();
    store.list_occurrences(&almanac_model::RangeQuery {
        from: almanac_model::time::format_instant(today - Duration::days(7)),
        to: almanac_model::time::format_instant(today + Duration::days(14)),
        calendar_ids: None,
    })?;
    let problems = store.check()?;
    if !problems.is_empty() {
        return Err(format!("integrity problems: {problems:?}").into());
    }
    drop(store);
    // The lock file belongs to whoever opens the copy; leave none behind.
    let _ = std::fs::remove_file(dir.join("almanac.lock"));
    std::fs::write(
        dir.join("dataset.txt"),
        format!(
            "version={VERSION}\nevents={}\nseries={}\ncalendars={}\nseed={:#x}\nbuild_seconds={:.1}\n",
            dataset::EVENTS,
            dataset::SERIES,
            dataset::CALENDARS,
            dataset::SEED,
            took.as_secs_f64()
        ),
    )?;
    eprintln!(
        "gen_bench_db: built {} events in {:.1} s",
        dataset::EVENTS,
        took.as_secs_f64()
    );
    Ok(())
}

fn main() -> Res<()> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: gen_bench_db <data-dir>")?;
    if out.join("dataset.txt").is_file() {
        // Opening it brings a dataset cached by an older build to this build's schema
        // once, here, instead of in every timed start.
        drop(Store::open_at(&out)?);
        eprintln!("gen_bench_db: cached at {}", out.display());
        return Ok(());
    }
    let mut partial = out.clone().into_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    build(&partial)?;
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::rename(&partial, &out)?;
    eprintln!("gen_bench_db: ready at {}", out.display());
    Ok(())
}
