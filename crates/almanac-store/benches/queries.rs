//! Store performance against the targets of the performance issue, on a realistic
//! dataset: 100,000 events, 500 of them recurring series, in 10 calendars, spread over
//! 2024-01-01 … 2028-12-31.
//!
//! * week range query across all calendars: p99 ≤ 5 ms
//! * month range query across all calendars: p99 ≤ 20 ms
//! * durable single-event save (`create_event`, synchronous=FULL): p50 ≤ 5 ms
//!
//! A plain `harness = false` binary: criterion reports means and confidence intervals,
//! not tail percentiles, so the per-iteration durations are collected here and the
//! p50/p95/p99 are printed as a table with PASS/FAIL per target.
//!
//! The dataset is built once through the public Store API (`create_event`, one durable
//! transaction per event) and cached under `target/bench-data/` keyed by
//! [`DATASET_VERSION`]; every run works on a copy, so the cache is never modified.
//!
//! Run: `cargo bench -p almanac-store --bench queries`
//! Env: `ALMANAC_BENCH_REBUILD=1` rebuilds the cached dataset;
//!      `ALMANAC_BENCH_STRICT=1` exits with status 1 when a target fails;
//!      `ALMANAC_BENCH_KEEP=1` keeps the warmed working copy (for `EXPLAIN`, profiling).

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use almanac_model::RangeQuery;
use almanac_store::{Source, Store, DB_FILE_NAME};
use chrono::{DateTime, Duration, Utc};

#[path = "support/dataset.rs"]
mod dataset;

use dataset::*;

const WEEK_QUERIES: usize = 2_000;
const MONTH_QUERIES: usize = 500;
const SAVES: usize = 1_000;

const WEEK_P99_MS: f64 = 5.0;
const MONTH_P99_MS: f64 = 20.0;
const SAVE_P50_MS: f64 = 5.0;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The cached dataset's database file, built first if missing.
fn cached_dataset() -> Res<PathBuf> {
    let root = target_dir().join("bench-data");
    let name = format!("queries-v{DATASET_VERSION}-{EVENTS}e-{SERIES}s-{CALENDARS}c-{SEED:x}");
    let ready = root.join(&name);
    let db = ready.join(DB_FILE_NAME);
    let rebuild = std::env::var_os("ALMANAC_BENCH_REBUILD").is_some_and(|v| v == "1");
    if db.is_file() && !rebuild {
        println!("dataset: cached at {}", ready.display());
        return Ok(db);
    }
    let partial = root.join(format!("{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&root)?;
    println!("dataset: building {EVENTS} events ({SERIES} series) in {CALENDARS} calendars through Store::create_event ...");
    let took = build_dataset(&partial)?;
    println!(
        "dataset: built in {:.1} s ({:.2} ms/event, one durable transaction each)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / EVENTS as f64
    );
    std::fs::write(
        partial.join("build-seconds.txt"),
        format!("{:.1}\n", took.as_secs_f64()),
    )?;
    if ready.exists() {
        std::fs::remove_dir_all(&ready)?;
    }
    std::fs::rename(&partial, &ready)?;
    Ok(db)
}

// ---------------------------------------------------------------------------------
// Measurement.

#[derive(Debug)]
struct Stats {
    name: String,
    n: usize,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    rows: Option<(usize, f64, usize)>,
}

fn ms(d: StdDuration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted milliseconds.
fn pct(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stats(name: &str, mut times: Vec<f64>, rows: &[usize]) -> Stats {
    times.sort_by(f64::total_cmp);
    let rows = (!rows.is_empty()).then(|| {
        let min = rows.iter().copied().min().unwrap_or(0);
        let max = rows.iter().copied().max().unwrap_or(0);
        (
            min,
            rows.iter().sum::<usize>() as f64 / rows.len() as f64,
            max,
        )
    });
    Stats {
        name: name.to_owned(),
        n: times.len(),
        p50: pct(&times, 50.0),
        p95: pct(&times, 95.0),
        p99: pct(&times, 99.0),
        max: times.last().copied().unwrap_or(0.0),
        rows,
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn query(from: DateTime<Utc>, days: i64, calendars: Option<Vec<String>>) -> RangeQuery {
    RangeQuery {
        from: rfc3339(from),
        to: rfc3339(from + Duration::days(days)),
        calendar_ids: calendars,
    }
}

/// `count` queries of `days` days starting at random midnights in 2025-01-01 … 2027-12-31.
fn range_queries(
    store: &mut Store,
    rng: &mut Rng,
    name: &str,
    count: usize,
    days: i64,
    one_calendar: bool,
) -> Res<Stats> {
    let first = date(2025, 1, 1);
    let span = (date(2027, 12, 31) - first).num_days() - days;
    let mut times = Vec::with_capacity(count);
    let mut rows = Vec::with_capacity(count);
    for _ in 0..count {
        let from = utc(first + Duration::days(rng.range(0, span)));
        let cals = one_calendar.then(|| vec![calendar_id(rng.below(CALENDARS as u64) as usize)]);
        let q = query(from, days, cals);
        let t = Instant::now();
        let found = store.list_occurrences(&q)?;
        times.push(ms(t.elapsed()));
        rows.push(found.len());
    }
    Ok(stats(name, times, &rows))
}

fn saves(store: &mut Store, rng: &mut Rng) -> Res<Stats> {
    let mut times = Vec::with_capacity(SAVES);
    for i in 0..SAVES {
        let mut e = base_input(rng, EVENTS + i);
        let day = date(2026, 1, 1) + Duration::days(rng.range(0, 364));
        timed(rng, &mut e, day);
        let t = Instant::now();
        store.create_event(e, Source::UserWindow, dataset_now())?;
        times.push(ms(t.elapsed()));
    }
    Ok(stats("save: create_event, durable (FULL)", times, &[]))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() -> Res<()> {
    let total = Instant::now();
    let cached = cached_dataset()?;
    // Work on a copy: warming the index and the saves must not touch the cache.
    let work = tempfile::tempdir()?;
    std::fs::copy(&cached, work.path().join(DB_FILE_NAME))?;
    let size_mb = std::fs::metadata(&cached)?.len() as f64 / 1_048_576.0;

    let t = Instant::now();
    let mut store = Store::open_at(work.path())?;
    let open_ms = ms(t.elapsed());
    let cals = store.list_calendars()?.len();

    // Warm the occurrence index: the first queries extend the window over all of
    // 2024 … 2028 (plus the store's margin), expanding every series once.
    let t = Instant::now();
    store.list_occurrences(&query(utc(date(2024, 1, 1)), 1_096, None))?;
    let warm1 = ms(t.elapsed());
    let t = Instant::now();
    store.list_occurrences(&query(utc(date(2026, 1, 1)), 1_096, None))?;
    let warm2 = ms(t.elapsed());
    let index_rows: i64 = rusqlite::Connection::open(work.path().join(DB_FILE_NAME))?.query_row(
        "SELECT count(*) FROM occurrences",
        [],
        |r| r.get(0),
    )?;

    println!();
    println!("dataset: {EVENTS} events ({SERIES} series), {cals} calendars, {size_mb:.0} MiB; {index_rows} occurrence-index rows after warm-up");
    println!("open: {open_ms:.1} ms; index warm-up: {warm1:.0} ms (2024-01..2027-01) + {warm2:.0} ms (2026-01..2029-01)");

    let mut rng = Rng::new(SEED ^ 0x5EED);
    let week = range_queries(
        &mut store,
        &mut rng,
        "week (7 d), all calendars",
        WEEK_QUERIES,
        7,
        false,
    )?;
    let month = range_queries(
        &mut store,
        &mut rng,
        "month (31 d), all calendars",
        MONTH_QUERIES,
        31,
        false,
    )?;
    let grid = range_queries(
        &mut store,
        &mut rng,
        "month grid (42 d), all calendars",
        MONTH_QUERIES,
        42,
        false,
    )?;
    let week_one = range_queries(
        &mut store,
        &mut rng,
        "week (7 d), one calendar",
        MONTH_QUERIES,
        7,
        true,
    )?;
    let save = saves(&mut store, &mut rng)?;
    drop(store);
    if std::env::var_os("ALMANAC_BENCH_KEEP").is_some_and(|v| v == "1") {
        println!("kept the warmed copy at {}", work.keep().display());
    }

    let results = [
        (
            &week,
            Some(format!("p99 <= {WEEK_P99_MS} ms")),
            week.p99 <= WEEK_P99_MS,
        ),
        (
            &month,
            Some(format!("p99 <= {MONTH_P99_MS} ms")),
            month.p99 <= MONTH_P99_MS,
        ),
        (&grid, None, true),
        (&week_one, None, true),
        (
            &save,
            Some(format!("p50 <= {SAVE_P50_MS} ms")),
            save.p50 <= SAVE_P50_MS,
        ),
    ];
    println!();
    println!(
        "{:<36} {:>5} {:>8} {:>8} {:>8} {:>8}  {:<20} {:<16} verdict",
        "measurement", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "rows min/mean/max", "target"
    );
    let mut failed = false;
    for (s, target, ok) in &results {
        let rows = s
            .rows
            .map(|(lo, mean, hi)| format!("{lo}/{mean:.0}/{hi}"))
            .unwrap_or_else(|| "-".to_owned());
        let (target, v) = match target {
            Some(t) => (t.as_str(), verdict(*ok)),
            None => ("(info)", ""),
        };
        failed |= !ok;
        println!(
            "{:<36} {:>5} {:>8.3} {:>8.3} {:>8.3} {:>8.3}  {:<20} {:<16} {v}",
            s.name, s.n, s.p50, s.p95, s.p99, s.max, rows, target
        );
    }
    println!();
    println!(
        "{} (total {:.1} s)",
        if failed { "FAIL" } else { "PASS" },
        total.elapsed().as_secs_f64()
    );
    if failed && std::env::var_os("ALMANAC_BENCH_STRICT").is_some_and(|v| v == "1") {
        std::process::exit(1);
    }
    Ok(())
}
