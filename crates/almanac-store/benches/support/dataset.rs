//! The benchmark dataset, shared by the store's query benchmark
//! (`benches/queries.rs`) and the desktop cold-start benchmark
//! (`examples/gen_bench_db.rs`, through `#[path]`), so both measure the same database:
//! 100,000 events, 500 of them recurring series, in 10 calendars, 2024-01-01 … 2028-12-31,
//! deterministic from [`SEED`], created through `Store::create_event`.

// Each of the two binaries uses a different part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use almanac_model::{EventInput, Importance, RecurrenceInput, ShowAs};
use almanac_store::{Source, Store, DB_FILE_NAME};
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};

pub type Res<T> = Result<T, Box<dyn Error>>;

/// Bump whenever the generator changes, or how a new database is laid out (2: 8 KiB
/// pages): the cache directory name includes it.
pub const DATASET_VERSION: u32 = 2;
pub const SEED: u64 = 0x0A13_A4AC_2026;
pub const EVENTS: usize = 100_000;
pub const SERIES: usize = 500;
pub const CALENDARS: usize = 10;
pub const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Europe/London",
];

// ---------------------------------------------------------------------------------
// Deterministic randomness: xorshift64*, no dependency.

#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn range(&mut self, lo: i64, hi_inclusive: i64) -> i64 {
        lo + self.below((hi_inclusive - lo + 1) as u64) as i64
    }

    /// True with probability `pct` percent.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------------
// Dataset generation.

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub fn utc(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

pub fn wall(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

pub fn calendar_id(i: usize) -> String {
    if i == 0 {
        "local".to_owned()
    } else {
        format!("bench-cal-{i:02}")
    }
}

pub const TITLES: [&str; 16] = [
    "Standup",
    "1:1",
    "Customer call",
    "Design review",
    "Lunch",
    "Sprint planning",
    "Retro",
    "Interview",
    "Dentist",
    "Gym",
    "Board meeting",
    "Workshop",
    "Sync",
    "Demo",
    "Focus time",
    "Travel",
];
pub const LOCATIONS: [&str; 6] = ["", "", "Room 1", "Room 4.12", "Teams", "Café Central"];
pub const CATEGORIES: [&str; 4] = ["Customer", "Internal", "Personal", "Travel"];

pub fn base_input(rng: &mut Rng, n: usize) -> EventInput {
    let categories = if rng.pct(30) {
        vec![(*rng.pick(&CATEGORIES)).to_owned()]
    } else {
        Vec::new()
    };
    EventInput {
        calendar_id: calendar_id(rng.below(CALENDARS as u64) as usize),
        title: format!("{} #{n}", rng.pick(&TITLES)),
        all_day: false,
        start: String::new(),
        end: String::new(),
        time_zone: (*rng.pick(&ZONES)).to_owned(),
        recurrence: None,
        location: (*rng.pick(&LOCATIONS)).to_owned(),
        description: if rng.pct(50) {
            "Agenda: see the notes.".to_owned()
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
        categories,
    }
}

/// Sets a timed start/end on `day`: starts 07:00–19:45 local, 15 min–3 h long.
pub fn timed(rng: &mut Rng, e: &mut EventInput, day: NaiveDate) -> NaiveDateTime {
    let start = day.and_time(NaiveTime::MIN)
        + Duration::hours(rng.range(7, 19))
        + Duration::minutes(15 * rng.range(0, 3));
    let end = start + Duration::minutes(15 * rng.range(1, 12));
    e.all_day = false;
    e.start = wall(start);
    e.end = wall(end);
    start
}

/// A one-off event somewhere in 2024-01-01 … 2028-12-31 (~5% all-day).
pub fn single(rng: &mut Rng, n: usize) -> EventInput {
    let mut e = base_input(rng, n);
    let day = date(2024, 1, 1) + Duration::days(rng.range(0, 1826));
    if rng.pct(5) {
        let len = if rng.pct(80) { 1 } else { rng.range(2, 3) };
        e.all_day = true;
        e.start = day.format("%Y-%m-%d").to_string();
        e.end = (day + Duration::days(len)).format("%Y-%m-%d").to_string();
    } else {
        timed(rng, &mut e, day);
    }
    e
}

pub fn byday(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// A series starting in 2024-01-01 … 2027-06-30: weekly, daily on weekdays, monthly
/// or (all-day) yearly; a third open-ended, a third with COUNT, a third with UNTIL;
/// about 30% with EXDATEs that are real instances.
pub fn series(rng: &mut Rng, n: usize) -> Res<EventInput> {
    let mut e = base_input(rng, n);
    e.title = format!("Recurring {}", e.title);
    let mut day = date(2024, 1, 1) + Duration::days(rng.range(0, 911));
    let kind = rng.below(100);
    let rule = if kind < 40 {
        timed(rng, &mut e, day);
        let interval = if rng.pct(25) { ";INTERVAL=2" } else { "" };
        format!("FREQ=WEEKLY{interval};BYDAY={}", byday(day.weekday()))
    } else if kind < 70 {
        match day.weekday() {
            Weekday::Sat => day += Duration::days(2),
            Weekday::Sun => day += Duration::days(1),
            _ => {}
        }
        timed(rng, &mut e, day);
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR".to_owned()
    } else if kind < 95 {
        day = date(day.year(), day.month(), day.day().min(28));
        timed(rng, &mut e, day);
        format!("FREQ=MONTHLY;BYMONTHDAY={}", day.day())
    } else {
        e.all_day = true;
        e.start = day.format("%Y-%m-%d").to_string();
        e.end = (day + Duration::days(1)).format("%Y-%m-%d").to_string();
        "FREQ=YEARLY".to_owned()
    };
    let rule = match rng.below(3) {
        0 => rule,
        1 => format!("{rule};COUNT={}", rng.range(10, 200)),
        _ => {
            let until = day + Duration::days(rng.range(60, 900));
            format!("{rule};UNTIL={}", until.format("%Y%m%d"))
        }
    };
    e.recurrence = Some(RecurrenceInput {
        rrule: rule,
        exdates: Vec::new(),
        rdates: Vec::new(),
    });
    if rng.pct(30) {
        let spec = e.clone().validate()?.series.ok_or("series without spec")?;
        let from = utc(day);
        let instances = spec.expand(from, from + Duration::days(400), 10_000)?;
        let mut exdates: Vec<String> = Vec::new();
        for _ in 0..rng.range(1, 5) {
            if instances.len() < 2 {
                break;
            }
            // Never the first instance: DTSTART stays.
            let i = &instances[1 + rng.below(instances.len() as u64 - 1) as usize];
            let key = if e.all_day {
                i.original.format("%Y-%m-%d").to_string()
            } else {
                wall(i.original)
            };
            if !exdates.contains(&key) {
                exdates.push(key);
            }
        }
        if let Some(r) = e.recurrence.as_mut() {
            r.exdates = exdates;
        }
    }
    Ok(e)
}

pub fn dataset_now() -> DateTime<Utc> {
    utc(date(2026, 1, 15)) + Duration::hours(12)
}

/// Builds the dataset in `dir` through the Store API. Returns the elapsed time.
pub fn build_dataset(dir: &Path) -> Res<StdDuration> {
    let started = Instant::now();
    // Open once to create and migrate, then add the 9 extra calendars with plain SQL
    // (the store has no calendar-creation API yet), then reopen.
    drop(Store::open_at(dir)?);
    {
        let conn = rusqlite::Connection::open(dir.join(DB_FILE_NAME))?;
        for i in 1..CALENDARS {
            conn.execute(
                "INSERT INTO calendars (id, name, color, can_edit) VALUES (?1, ?2, ?3, 1)",
                rusqlite::params![
                    calendar_id(i),
                    format!("Bench calendar {i}"),
                    format!("#{:06x}", i * 0x151515)
                ],
            )?;
        }
    }
    let mut store = Store::open_at(dir)?;
    let mut rng = Rng::new(SEED);
    let every = EVENTS / SERIES;
    let mut made_series = 0;
    let mut last = Instant::now();
    for n in 0..EVENTS {
        let input = if n % every == every / 2 && made_series < SERIES {
            made_series += 1;
            series(&mut rng, n)?
        } else {
            single(&mut rng, n)
        };
        store.create_event(input, Source::Import, dataset_now())?;
        if (n + 1) % 10_000 == 0 {
            println!(
                "  {:>6} events, {:>6.1} s elapsed ({:.2} ms/event for the last 10k)",
                n + 1,
                started.elapsed().as_secs_f64(),
                last.elapsed().as_secs_f64() * 1000.0 / 10_000.0
            );
            last = Instant::now();
        }
    }
    if made_series != SERIES {
        return Err(format!("made {made_series} series instead of {SERIES}").into());
    }
    drop(store);
    Ok(started.elapsed())
}
