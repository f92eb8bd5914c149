//! Builds the database of the cold-start benchmark (`scripts/bench-startup`): 100,000
//! events, 500 of them recurring series (weekly, daily on weekdays, monthly), in 10
//! calendars, spread over 2024-01-01 … 2028-12-31. Deterministic (xorshift64*).
//!
//! Usage: `gen_bench_db <data-dir>` — builds `<data-dir>.partial`, then renames it to
//! `<data-dir>`; does nothing if `<data-dir>/dataset.txt` already exists.
//!
//! Every event is created through `Store::create_event` (validated, indexed, one durable
//! transaction each, exactly like a user save). Only the 9 extra calendars are plain
//! SQL: the store has no calendar-creation API yet.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use almanac_model::{EventInput, Importance, RecurrenceInput, ShowAs};
use almanac_store::{Source, Store, DB_FILE_NAME};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};

type Res<T> = Result<T, Box<dyn Error>>;

/// Bump when the generated data changes (the cache directory is named after it).
const VERSION: u32 = 2;
const SEED: u64 = 0x5EED_57A7_0001;
const EVENTS: usize = 100_000;
const SERIES: usize = 500;
const CALENDARS: usize = 10;
const DAYS: i64 = 1827; // 2024-01-01 ..= 2028-12-31
const ZONES: [&str; 4] = ["Europe/Berlin", "UTC", "America/New_York", "Asia/Tokyo"];
const TITLES: [&str; 12] = [
    "Standup",
    "1:1",
    "Customer call",
    "Design review",
    "Lunch",
    "Planning",
    "Interview",
    "Dentist",
    "Gym",
    "Workshop",
    "Demo",
    "Focus time",
];

/// xorshift64*.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

fn calendar_id(i: usize) -> String {
    if i == 0 {
        almanac_model::LOCAL_CALENDAR_ID.to_owned()
    } else {
        format!("startup-cal-{i:02}")
    }
}

fn first_day() -> Res<NaiveDate> {
    NaiveDate::from_ymd_opt(2024, 1, 1).ok_or_else(|| "bad date".into())
}

fn base(rng: &mut Rng, n: usize, day: NaiveDate) -> EventInput {
    let mut e = EventInput {
        calendar_id: calendar_id(rng.below(CALENDARS as u64) as usize),
        title: format!("{} {n}", TITLES[rng.below(TITLES.len() as u64) as usize]),
        all_day: false,
        start: String::new(),
        end: String::new(),
        time_zone: ZONES[rng.below(ZONES.len() as u64) as usize].to_owned(),
        recurrence: None,
        location: if rng.pct(30) {
            "Room 4.12".to_owned()
        } else {
            String::new()
        },
        description: if rng.pct(40) {
            "Agenda in the shared notes.".to_owned()
        } else {
            String::new()
        },
        show_as: if rng.pct(85) {
            ShowAs::Busy
        } else {
            ShowAs::Tentative
        },
        importance: if rng.pct(10) {
            Importance::High
        } else {
            Importance::Normal
        },
        categories: Vec::new(),
    };
    if rng.pct(4) {
        e.all_day = true;
        e.start = day.format("%Y-%m-%d").to_string();
        e.end = (day + Duration::days(rng.range(1, 3)))
            .format("%Y-%m-%d")
            .to_string();
    } else {
        // 07:00–19:45 wall time, 15 min – 2 h.
        let start =
            day.and_time(chrono::NaiveTime::MIN) + Duration::minutes(rng.range(28, 79) * 15);
        let end = start + Duration::minutes(rng.range(1, 8) * 15);
        e.start = start.format("%Y-%m-%dT%H:%M:%S").to_string();
        e.end = end.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    e
}

fn byday(d: Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
}

/// A series starting in 2024 … 2027: 40% weekly, 30% daily on weekdays, 30% monthly;
/// a third open-ended, a third with COUNT, a third with UNTIL.
fn series(rng: &mut Rng, n: usize) -> Res<EventInput> {
    let mut day = first_day()? + Duration::days(rng.range(0, 1460));
    let kind = rng.below(10);
    if (4..7).contains(&kind) {
        // Daily on weekdays: start on a weekday.
        while day.weekday().num_days_from_monday() >= 5 {
            day += Duration::days(1);
        }
    }
    if kind >= 7 {
        day = day.with_day(day.day().min(28)).ok_or("bad day")?;
    }
    let mut e = base(rng, n, day);
    e.all_day = false;
    let start = day.and_time(chrono::NaiveTime::MIN) + Duration::minutes(rng.range(32, 68) * 15);
    e.start = start.format("%Y-%m-%dT%H:%M:%S").to_string();
    e.end = (start + Duration::minutes(rng.range(1, 4) * 15))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    e.title = format!("Recurring {}", e.title);
    let rule = match kind {
        0..=3 => format!("FREQ=WEEKLY;BYDAY={}", byday(day.weekday())),
        4..=6 => "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR".to_owned(),
        _ => format!("FREQ=MONTHLY;BYMONTHDAY={}", day.day()),
    };
    let rule = match rng.below(3) {
        0 => rule,
        1 => format!("{rule};COUNT={}", rng.range(10, 300)),
        _ => format!(
            "{rule};UNTIL={}",
            (day + Duration::days(rng.range(90, 1000))).format("%Y%m%d")
        ),
    };
    e.recurrence = Some(RecurrenceInput {
        rrule: rule,
        exdates: Vec::new(),
        rdates: Vec::new(),
    });
    Ok(e)
}

fn build(dir: &Path) -> Res<()> {
    let started = Instant::now();
    // Create and migrate the database, then add the calendars with plain SQL (there is
    // no API for that yet) while no Store holds the directory, then reopen.
    drop(Store::open_at(dir)?);
    {
        let conn = rusqlite::Connection::open(dir.join(DB_FILE_NAME))?;
        for i in 1..CALENDARS {
            conn.execute(
                "INSERT INTO calendars (id, name, color, can_edit) VALUES (?1, ?2, ?3, 1)",
                rusqlite::params![
                    calendar_id(i),
                    format!("Calendar {i}"),
                    format!("#{:06x}", (i * 0x1F3A5B) & 0xFF_FFFF)
                ],
            )?;
        }
    }
    let mut store = Store::open_at(dir)?;
    let now = Utc
        .with_ymd_and_hms(2026, 1, 1, 12, 0, 0)
        .single()
        .ok_or("bad now")?;
    let mut rng = Rng(SEED);
    let every = EVENTS / SERIES;
    let mut made_series = 0;
    for n in 0..EVENTS {
        let input = if n % every == 0 && made_series < SERIES {
            made_series += 1;
            series(&mut rng, n)?
        } else {
            let day = first_day()? + Duration::days(rng.below(DAYS as u64) as i64);
            base(&mut rng, n, day)
        };
        store.create_event(input, Source::Import, now)?;
        if (n + 1) % 20_000 == 0 {
            eprintln!(
                "gen_bench_db: {:>6} events, {:.1} s",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
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
    let secs = started.elapsed().as_secs_f64();
    std::fs::write(
        dir.join("dataset.txt"),
        format!(
            "version={VERSION}\nevents={EVENTS}\nseries={made_series}\ncalendars={CALENDARS}\n\
             range=2024-01-01..2028-12-31\nseed={SEED:#x}\nbuild_seconds={secs:.1}\n"
        ),
    )?;
    eprintln!(
        "gen_bench_db: built {EVENTS} events ({made_series} series) in {secs:.1} s \
         ({:.2} ms/event, one durable transaction each)",
        secs * 1000.0 / EVENTS as f64
    );
    Ok(())
}

fn main() -> Res<()> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: gen_bench_db <data-dir>")?;
    if out.join("dataset.txt").is_file() {
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
