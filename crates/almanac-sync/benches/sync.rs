//! Sync performance against DESIGN §7, through the real engine, the real Google and
//! Microsoft Graph clients and the project's fake cloud over loopback HTTP:
//!
//! * initial sync of 10k and 100k events (10 calendars, 1 in 200 a weekly series) with a
//!   latency model on every listing page (Google's `events.list`, Graph's
//!   `calendarView/delta`): wall time ≤ 1.2 × the sum of the pages' latencies, and the
//!   engine's CPU time ≤ 10 % of the wall time;
//! * a run that finds nothing new over 10 calendars: 1 request per calendar, and no
//!   database writes beyond the run's own record;
//! * applying provider pages (recorded from the real client, replayed without the
//!   network; Graph's series masters, which a delta listing does not carry, are still
//!   fetched from the fake as in a real run): ≥ 50k events/s.
//!
//! The engine runs on this thread and a two-worker runtime (`engine`: the HTTP
//! client's connections), as in the desktop app and the daemon, and the store copies
//! its log on a thread of its own (`checkpoint`); the fake cloud runs on threads of its
//! own (`fakecloud`), so the CPU time of the first three is the engine's. The latency
//! model is an assumption, not a measurement of Google (this machine cannot reach it): `page_ms` per page plus `per_item_us` per
//! event, 300 ms + 0.2 ms by default, so a full Google page (2,500 events) takes 800 ms
//! and a full Graph page (the 100 the client asks for) 320 ms.
//!
//! Run: `cargo bench -p almanac-sync --bench sync`
//! Env: `ALMANAC_BENCH_PROVIDERS=google,graph` (which to run),
//!      `ALMANAC_BENCH_SIZES=10000,100000` (Google's initial sync; the largest is also
//!      the apply size for both), `ALMANAC_BENCH_GRAPH_SIZES=10000` (Graph's initial
//!      sync: its pages hold 100 events, so 100k take 1,109 pages with the
//!      occurrences, about two and a half minutes),
//!      `ALMANAC_BENCH_PAGE_MS=300`, `ALMANAC_BENCH_ITEM_US=200` (the latency model),
//!      `ALMANAC_BENCH_STRICT=1` exits with status 1 when a target is missed,
//!      `ALMANAC_BENCH_APPLY_ONLY=N` measures only the apply, N times on fresh stores,
//!      and reports the median (for A/B comparisons: one run varies by ±20 % here),
//!      `ALMANAC_BENCH_KEEP=1` keeps the stores (their directory is printed).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use almanac_fakecloud::latency::ListLatency;
use almanac_model::Provider;
use almanac_provider::{CalendarProvider, ChangePage, Cursor, Window};
use almanac_store::{SignedIn, Store};
use almanac_sync::{sync_account, RunSummary, SyncOptions};
use chrono::{TimeDelta, Utc};

#[path = "sync/cloud.rs"]
mod cloud;
#[path = "sync/replay.rs"]
mod replay;

use cloud::{Cloud, Kind};
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
    fn store(&self, kind: Kind, name: &str) -> (Mutex<Store>, String) {
        let mut store = Store::open_at(&self.dir.path().join(format!("{}-{name}", kind.name())))
            .expect("open store");
        let authority = match kind.provider() {
            Provider::Google => "https://accounts.google.com",
            Provider::Microsoft => "https://login.microsoftonline.com/common",
        };
        let (account, _) = store
            .record_sign_in(
                &SignedIn {
                    provider: kind.provider(),
                    subject: format!("{authority}/bench"),
                    email: cloud::EMAIL.into(),
                    display_name: "Casey Success".into(),
                    authority: authority.into(),
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
        opts: &SyncOptions,
    ) -> (RunSummary, Duration, Duration) {
        let clock = || Utc::now();
        let (cpu0, t0) = (engine_cpu(), Instant::now());
        let summary = self
            .rt
            .block_on(sync_account(store, provider, account, opts, &clock))
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

fn initial_and_no_change(b: &mut Bench, kind: Kind, size: usize, model: ListLatency) {
    let cloud = Cloud::start().with_graph_user();
    let t = Instant::now();
    cloud.seed(kind, CALENDARS, size / CALENDARS, Utc::now());
    println!(
        "-- {} {size} events: seeded the fake cloud in {:.1} s",
        kind.name(),
        t.elapsed().as_secs_f64()
    );
    // The pages a full listing takes and the latency the model puts on them, from a
    // listing by another client before the model is on (a Graph listing shows each
    // occurrence of a series, so its size is not the number of events).
    let (pages, expected) = record(b, &*cloud.provider(kind))
        .values()
        .flatten()
        .fold((0u64, Duration::ZERO), |(n, t), page| {
            (n + 1, t + model.of(page.changes.len()))
        });
    cloud.latency(kind, model);
    let (store, account) = b.store(kind, &format!("initial-{size}"));
    let provider = cloud.provider(kind);
    let opts = kind.options();
    let before = cloud.requests(kind);
    let (summary, wall, cpu) = b.run(&store, &*provider, &account, &opts);
    let requests = diff(&cloud.requests(kind), &before);
    let calendars = summary.calendars.len();
    let count = |f: &dyn Fn(&str) -> bool| -> u64 {
        requests.iter().filter(|(k, _)| f(k)).map(|(_, v)| v).sum()
    };
    let listed = count(&|r| kind.is_listing(r));
    let what = kind.name();
    b.check(
        &format!("{what} initial sync {size}: every event applied, run ok"),
        summary.outcome == "ok" && summary.pulled == size,
        format!("{} applied, outcome {}", summary.pulled, summary.outcome),
    );
    b.check(
        &format!("{what} initial sync {size}: pages as the model expects"),
        listed == pages,
        format!("{listed} listings over {calendars} calendars, expected {pages}"),
    );
    let ratio = wall.as_secs_f64() / expected.as_secs_f64();
    b.check(
        &format!("{what} initial sync {size}: wall ≤ {WALL_FACTOR} × pages × latency"),
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
            "{what} initial sync {size}: engine CPU ≤ {:.0} % of wall",
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
    let before = cloud.requests(kind);
    let writes0 = store.lock().expect("store").total_changes();
    let (summary, wall, _) = b.run(&store, &*provider, &account, &opts);
    let writes = store.lock().expect("store").total_changes() - writes0;
    let requests = diff(&cloud.requests(kind), &before);
    let count = |f: &dyn Fn(&str) -> bool| -> u64 {
        requests.iter().filter(|(k, _)| f(k)).map(|(_, v)| v).sum()
    };
    let listed = count(&|r| kind.is_listing(r));
    let calendar_lists = count(&|r| kind.is_calendar_list(r));
    let other = count(&|r| !kind.is_listing(r) && !kind.is_calendar_list(r));
    b.check(
        &format!("{what} no-change run ({size}): 1 request per calendar"),
        summary.pulled == 0 && listed == calendars as u64 && other == 0,
        format!(
            "{listed} listings + {calendar_lists} calendar list, {other} other ({:.2} s)",
            wall.as_secs_f64()
        ),
    );
    // The run's record: sync_runs insert + update, the account's attempt and success.
    const RUN_RECORD: u64 = 4;
    // Graph answers every delta round with a new deltaLink, and the newest is kept:
    // its tokens expire oldest first (reference B5), so reusing an old one to save a
    // write risks a full re-listing. One cursor row per calendar, and nothing else.
    let tokens = match kind {
        Kind::Google => 0,
        Kind::Graph => calendars as u64,
    };
    b.check(
        &format!("{what} no-change run ({size}): 0 writes beyond the run record"),
        writes <= RUN_RECORD + tokens,
        if tokens == 0 {
            format!("{writes} rows written, {RUN_RECORD} of them the run record")
        } else {
            format!("{writes} rows: {RUN_RECORD} run record + {tokens} new delta tokens")
        },
    );
    if other > 0 {
        println!("   requests of the no-change run: {requests:?}");
    }
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

fn apply_throughput(b: &mut Bench, kind: Kind, size: usize, runs: usize) {
    let cloud = Cloud::start().with_graph_user();
    cloud.seed(kind, CALENDARS, size / CALENDARS, Utc::now());
    let client = cloud.provider(kind);
    let pages = record(b, &*client);
    let opts = kind.options();
    let mut replay = Replay {
        inner: client,
        pages: Mutex::new(HashMap::new()),
        then: None,
        calendars: None,
    };
    let before = cloud.requests(kind);
    let mut rates = Vec::new();
    let mut ok = true;
    let mut short = String::new();
    let mut last = String::new();
    for n in 0..runs.max(1) {
        replay.pages = Mutex::new(pages.clone());
        let (store, account) = b.store(kind, &format!("apply-{size}-{n}"));
        let (summary, wall, cpu) = b.run(&store, &replay, &account, &opts);
        if summary.outcome != "ok" || summary.pulled != size {
            ok = false;
            short = format!(
                "; run {}: {} of {size} applied, {}",
                n + 1,
                summary.pulled,
                summary.outcome
            );
        }
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
    let requests = diff(&cloud.requests(kind), &before);
    if !requests.is_empty() {
        println!("   requests to the fake cloud during the apply runs: {requests:?}");
    }
    rates.sort_by(f64::total_cmp);
    let rate = rates[rates.len() / 2];
    let detail = if runs > 1 {
        format!("{rate:.0} events/s (median of {runs}){short}")
    } else {
        format!("{rate:.0} events/s ({last}){short}")
    };
    b.check(
        &format!(
            "{} apply {size} events from provider pages ≥ 50k/s",
            kind.name()
        ),
        ok && rate >= APPLY_PER_SEC,
        detail,
    );
}

fn sizes(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let kinds: Vec<Kind> = std::env::var("ALMANAC_BENCH_PROVIDERS")
        .unwrap_or_else(|_| "google,graph".into())
        .split(',')
        .map(|s| match s.trim() {
            "google" => Kind::Google,
            "graph" => Kind::Graph,
            other => panic!("ALMANAC_BENCH_PROVIDERS: {other:?} is neither google nor graph"),
        })
        .collect();
    let google_sizes = sizes("ALMANAC_BENCH_SIZES", "10000,100000");
    let graph_sizes = sizes("ALMANAC_BENCH_GRAPH_SIZES", "10000");
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
        "latency model: {} ms per page + {} µs per event",
        model.page_ms, model.per_item_us
    );
    let apply_only = env_u64("ALMANAC_BENCH_APPLY_ONLY", 0) as usize;
    for &kind in &kinds {
        println!(
            "== {}: pages of at most {} events",
            kind.name(),
            kind.page_size()
        );
        if apply_only == 0 {
            let initial = match kind {
                Kind::Google => &google_sizes,
                Kind::Graph => &graph_sizes,
            };
            for &size in initial {
                initial_and_no_change(&mut b, kind, size, model);
            }
        }
        apply_throughput(
            &mut b,
            kind,
            *google_sizes.iter().max().unwrap_or(&10_000),
            apply_only.max(1),
        );
    }
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
