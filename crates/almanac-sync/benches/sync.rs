//! Sync performance against DESIGN §7, through the real engine, the real Google client
//! and the project's fake cloud over loopback HTTP:
//!
//! * initial sync of 10k and 100k events (10 calendars, 1 in 200 a weekly series) with a
//!   latency model on every `events.list` page: wall time ≤ 1.2 × the sum of the pages'
//!   latencies, and the engine's CPU time ≤ 10 % of the wall time;
//! * a run that finds nothing new over 10 calendars: 1 request per calendar, and no
//!   database writes beyond the run's own record;
//! * applying provider pages (recorded from the real client, replayed without the
//!   network): ≥ 50k events/s.
//!
//! The engine runs on this thread and a two-worker runtime (`engine`: the HTTP
//! client's connections), as in the desktop app and the daemon, and the store copies
//! its log on a thread of its own (`checkpoint`); the fake cloud runs on threads of its
//! own (`fakecloud`), so the CPU time of the first three is the engine's. The latency
//! model is an assumption, not a measurement of Google (this machine cannot reach it): `page_ms` per page plus `per_item_us` per
//! event, 300 ms + 0.2 ms by default, so a full 2,500-event page takes 800 ms.
//!
//! Run: `cargo bench -p almanac-sync --bench sync`
//! Env: `ALMANAC_BENCH_SIZES=10000,100000` (the sizes of the initial sync),
//!      `ALMANAC_BENCH_PAGE_MS=300`, `ALMANAC_BENCH_ITEM_US=200` (the latency model),
//!      `ALMANAC_BENCH_STRICT=1` exits with status 1 when a target is missed,
//!      `ALMANAC_BENCH_APPLY_ONLY=N` measures only the apply, N times on fresh stores,
//!      and reports the median (for A/B comparisons: one run varies by ±20 % here),
//!      `ALMANAC_BENCH_KEEP=1` keeps the stores (their directory is printed).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use almanac_fakecloud::google_store::{ListLatency, EVENTS_MAX_RESULTS};
use almanac_model::Provider;
use almanac_provider::{CalendarProvider, ChangePage, Cursor, Window};
use almanac_store::{SignedIn, Store};
use almanac_sync::{sync_account, RunSummary, SyncOptions};
use chrono::{TimeDelta, Utc};

#[path = "sync/cloud.rs"]
mod cloud;
#[path = "sync/replay.rs"]
mod replay;

use cloud::Cloud;
use replay::Replay;

/// As in the desktop app and the CLI (their `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CALENDARS: usize = 10;
const WALL_FACTOR: f64 = 1.2;
const CPU_SHARE: f64 = 0.10;
const APPLY_PER_SEC: f64 = 50_000.0;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time the engine has used: this thread (the runtime's `block_on` runs the
/// engine here) and the engine runtime's workers (`engine`, where the HTTP client's
/// connections run), from `/proc/self/task/*/schedstat` (nanoseconds on the CPU).
fn engine_cpu() -> Duration {
    let me = std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("read /proc/self/task (Linux)") {
        let Ok(task) = task else { continue };
        let dir = task.path();
        let tid = task.file_name().to_string_lossy().into_owned();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        // The store's checkpoint thread works for the engine too.
        if tid != me && !matches!(comm.trim(), "engine" | "checkpoint") {
            continue;
        }
        ns += std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0);
    }
    Duration::from_nanos(ns)
}

struct Bench {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    misses: Vec<String>,
}

impl Bench {
    fn check(&mut self, what: &str, ok: bool, detail: String) {
        println!(
            "{:<58} {detail:<44} {}",
            what,
            if ok { "PASS" } else { "FAIL" }
        );
        if !ok {
            self.misses.push(what.to_owned());
        }
    }

    /// A fresh store with the account signed in; its id.
    fn store(&self, name: &str) -> (Mutex<Store>, String) {
        let mut store = Store::open_at(&self.dir.path().join(name)).expect("open store");
        let (account, _) = store
            .record_sign_in(
                &SignedIn {
                    provider: Provider::Google,
                    subject: "https://accounts.google.com/bench".into(),
                    email: cloud::EMAIL.into(),
                    display_name: "Casey Success".into(),
                    authority: "https://accounts.google.com".into(),
                },
                Utc::now().timestamp(),
            )
            .expect("sign in");
        (Mutex::new(store), account.id)
    }

    fn run(
        &self,
        store: &Mutex<Store>,
        provider: &dyn CalendarProvider,
        account: &str,
    ) -> (RunSummary, Duration, Duration) {
        let opts = SyncOptions::default();
        let clock = || Utc::now();
        let (cpu0, t0) = (engine_cpu(), Instant::now());
        let summary = self
            .rt
            .block_on(sync_account(store, provider, account, &opts, &clock))
            .expect("sync run");
        (summary, t0.elapsed(), engine_cpu() - cpu0)
    }
}

fn diff(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect()
}

/// The pages of a full listing of `per_calendar` events and the latency the model puts
/// on them.
fn listing_latency(model: ListLatency, per_calendar: usize) -> (usize, Duration) {
    let mut left = per_calendar;
    let (mut pages, mut total) = (0, Duration::ZERO);
    loop {
        let n = left.min(EVENTS_MAX_RESULTS);
        pages += 1;
        total += model.of(n);
        left -= n;
        if left == 0 {
            return (pages, total);
        }
    }
}

fn initial_and_no_change(b: &mut Bench, size: usize, model: ListLatency) {
    let cloud = Cloud::start();
    let t = Instant::now();
    cloud.seed(CALENDARS, size / CALENDARS, Utc::now());
    println!(
        "-- {size} events: seeded the fake cloud in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    cloud.latency(model);
    let (store, account) = b.store(&format!("initial-{size}"));
    let provider = cloud.client();
    let before = cloud.requests();
    let (summary, wall, cpu) = b.run(&store, &provider, &account);
    let requests = diff(&cloud.requests(), &before);
    // Every calendar the account lists, the empty primary one too, is one listing.
    let (pages, expected) = summary
        .calendars
        .iter()
        .map(|c| listing_latency(model, c.pulled))
        .fold((0, Duration::ZERO), |(p, t), (p1, t1)| (p + p1, t + t1));
    let calendars = summary.calendars.len();
    let listed = requests.get("events.list").copied().unwrap_or(0);
    b.check(
        &format!("initial sync {size}: every event applied, run ok"),
        summary.outcome == "ok" && summary.pulled == size,
        format!("{} applied, outcome {}", summary.pulled, summary.outcome),
    );
    b.check(
        &format!("initial sync {size}: pages as the model expects"),
        listed == pages as u64,
        format!("{listed} events.list over {calendars} calendars, expected {pages}"),
    );
    let ratio = wall.as_secs_f64() / expected.as_secs_f64();
    b.check(
        &format!("initial sync {size}: wall ≤ {WALL_FACTOR} × pages × latency"),
        ratio <= WALL_FACTOR,
        format!(
            "{:.2} s / {:.2} s = {ratio:.3}",
            wall.as_secs_f64(),
            expected.as_secs_f64()
        ),
    );
    let share = cpu.as_secs_f64() / wall.as_secs_f64();
    b.check(
        &format!(
            "initial sync {size}: engine CPU ≤ {:.0} % of wall",
            CPU_SHARE * 100.0
        ),
        share <= CPU_SHARE,
        format!(
            "{:.2} s CPU = {:.1} % ({:.1} µs/event)",
            cpu.as_secs_f64(),
            share * 100.0,
            cpu.as_secs_f64() * 1e6 / size as f64
        ),
    );

    // Nothing changed since: one request per calendar, no writes but the run's record.
    let before = cloud.requests();
    let writes0 = store.lock().expect("store").total_changes();
    let (summary, wall, _) = b.run(&store, &provider, &account);
    let writes = store.lock().expect("store").total_changes() - writes0;
    let requests = diff(&cloud.requests(), &before);
    let listed = requests.get("events.list").copied().unwrap_or(0);
    let other: u64 = requests
        .iter()
        .filter(|(k, _)| *k != "events.list" && *k != "calendarList.list")
        .map(|(_, v)| v)
        .sum();
    b.check(
        &format!("no-change run ({size}): 1 request per calendar"),
        summary.pulled == 0 && listed == calendars as u64 && other == 0,
        format!(
            "{listed} events.list + {} calendarList, {other} other ({:.2} s)",
            requests.get("calendarList.list").copied().unwrap_or(0),
            wall.as_secs_f64()
        ),
    );
    // The run's record: sync_runs insert + update, the account's attempt and success.
    const RUN_RECORD: u64 = 4;
    b.check(
        &format!("no-change run ({size}): 0 writes beyond the run record"),
        writes <= RUN_RECORD,
        format!("{writes} rows written, {RUN_RECORD} of them the run record"),
    );
}

/// Records a full listing of every calendar from the real client (no latency).
fn record(b: &Bench, provider: &dyn CalendarProvider) -> HashMap<String, Vec<ChangePage>> {
    let now = Utc::now();
    let window = Window {
        start: now - TimeDelta::days(90),
        end: now + TimeDelta::days(365),
    };
    b.rt.block_on(async {
        let mut out = HashMap::new();
        for cal in provider.list_calendars().await.expect("list calendars") {
            let mut pages = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = provider
                    .changes(&cal, cursor.as_deref(), window)
                    .await
                    .expect("record page");
                let next = match &page.cursor {
                    Cursor::More(c) => Some(c.clone()),
                    Cursor::Done(_) => None,
                };
                pages.push(page);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            out.insert(cal.remote_id.clone(), pages);
        }
        out
    })
}

fn apply_throughput(b: &mut Bench, size: usize, runs: usize) {
    let cloud = Cloud::start();
    cloud.seed(CALENDARS, size / CALENDARS, Utc::now());
    let client = cloud.client();
    let pages = record(b, &client);
    let mut replay = Replay {
        inner: client,
        pages: Mutex::new(HashMap::new()),
    };
    let mut rates = Vec::new();
    let mut ok = true;
    let mut last = String::new();
    for n in 0..runs.max(1) {
        replay.pages = Mutex::new(pages.clone());
        let (store, account) = b.store(&format!("apply-{size}-{n}"));
        let (summary, wall, cpu) = b.run(&store, &replay, &account);
        ok &= summary.outcome == "ok" && summary.pulled == size;
        rates.push(summary.pulled as f64 / wall.as_secs_f64());
        last = format!(
            "{:.2} s wall, {:.2} s CPU",
            wall.as_secs_f64(),
            cpu.as_secs_f64()
        );
        if runs > 1 {
            println!("  apply run {}: {:.0} events/s ({last})", n + 1, rates[n]);
        }
    }
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let detail = if runs > 1 {
        format!("{rate:.0} events/s (median of {runs})")
    } else {
        format!("{rate:.0} events/s ({last})")
    };
    b.check(
        &format!("apply {size} events from provider pages ≥ 50k/s"),
        ok && rate >= APPLY_PER_SEC,
        detail,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let sizes: Vec<usize> = std::env::var("ALMANAC_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let model = ListLatency {
        page_ms: env_u64("ALMANAC_BENCH_PAGE_MS", 300),
        per_item_us: env_u64("ALMANAC_BENCH_ITEM_US", 200),
    };
    let mut b = Bench {
        // As in the desktop app and the daemon: a multi-threaded runtime, where the
        // next page's request proceeds while a page is being stored.
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("engine")
            .enable_all()
            .build()
            .expect("engine runtime"),
        dir: tempfile::tempdir().expect("temp dir"),
        misses: Vec::new(),
    };
    println!(
        "latency model: {} ms per page + {} µs per event; pages of at most {EVENTS_MAX_RESULTS}",
        model.page_ms, model.per_item_us
    );
    let apply_only = env_u64("ALMANAC_BENCH_APPLY_ONLY", 0) as usize;
    if apply_only == 0 {
        for &size in &sizes {
            initial_and_no_change(&mut b, size, model);
        }
    }
    apply_throughput(
        &mut b,
        *sizes.iter().max().unwrap_or(&10_000),
        apply_only.max(1),
    );
    if std::env::var_os("ALMANAC_BENCH_KEEP").is_some() {
        println!("stores kept in {}", b.dir.keep().display());
    }
    if !b.misses.is_empty() {
        println!("missed: {}", b.misses.join("; "));
        if std::env::var_os("ALMANAC_BENCH_STRICT").is_some() {
            std::process::exit(1);
        }
    }
}
