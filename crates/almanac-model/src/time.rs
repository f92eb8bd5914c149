//! Wall-clock ↔ instant conversion with explicit rules for DST gaps and folds.
//!
//! RFC 5545 §3.3.5: a local time that does not exist (spring-forward gap) is read with
//! the UTC offset in force *before* the gap, so 02:30 on a 02:00→03:00 day becomes
//! 03:30. A local time that exists twice (fall-back fold) means the *first* one.
//! chrono leaves both cases to the caller; every conversion in Almanac goes through here.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use crate::ValidationError;

mod event_time;
mod text;
pub use event_time::EventTime;

/// Parses an IANA zone name; Windows names and abbreviations are refused.
pub fn parse_zone(name: &str) -> Result<Tz, ValidationError> {
    name.parse::<Tz>()
        .map_err(|_| ValidationError::UnknownTimeZone(name.to_owned()))
}

/// How a wall time mapped onto the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Exact(DateTime<Utc>),
    /// Inside a gap: shifted forward by the gap's length.
    Gap(DateTime<Utc>),
    /// Inside a fold: the earlier of the two instants.
    Fold(DateTime<Utc>),
}

impl Resolution {
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            Self::Exact(t) | Self::Gap(t) | Self::Fold(t) => t,
        }
    }
}

/// Resolves a wall time in `tz` to an instant, following the module's rules.
pub fn resolve(local: NaiveDateTime, tz: Tz) -> Resolution {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Resolution::Exact(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, b) => {
            Resolution::Fold(a.with_timezone(&Utc).min(b.with_timezone(&Utc)))
        }
        chrono::LocalResult::None => {
            // The offset before the gap: step back until the wall time exists. Real gaps
            // are at most a few hours; a day bounds the search.
            let mut probe = local;
            for _ in 0..48 {
                probe -= Duration::minutes(30);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    let offset = t.offset().fix();
                    let utc = local - Duration::seconds(i64::from(offset.local_minus_utc()));
                    return Resolution::Gap(Utc.from_utc_datetime(&utc));
                }
            }
            // Unreachable with the tz database; fall back to reading it as UTC.
            Resolution::Gap(Utc.from_utc_datetime(&local))
        }
    }
}

/// The instant of a wall time in `tz` (gap → forward, fold → earlier).
pub fn to_instant(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    resolve(local, tz).instant()
}

/// The wall time of an instant in `tz`.
pub fn to_local(instant: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    instant.with_timezone(&tz).naive_local()
}

/// Whether `d` is in the years Almanac reads, 1–9999 (ISO 8601's four digits). chrono
/// also takes signed years out to ±262,142, where adding an hour or a day panics: a
/// date from a provider or a file beyond these is unreadable, never computed with.
pub fn in_years(d: NaiveDate) -> bool {
    (1..=9999).contains(&d.year())
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (a wall time, no offset).
pub fn parse_wall_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    text::parse_wall_time(s)
        .or_else(|| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
                .ok()
        })
        .filter(|t| in_years(t.date()))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    text::parse_date(s)
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .filter(|d| in_years(*d))
}

/// Parses an RFC 3339 instant. (Its year has four digits: in UTC it stays far inside
/// chrono's range, so it needs no [`in_years`] check — and `9999-12-31T20:00:00-05:00`
/// is a fine instant in the year 10000 UTC.)
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub fn format_wall_time(t: NaiveDateTime) -> String {
    text::format_wall_time(t).unwrap_or_else(|| t.format("%Y-%m-%dT%H:%M:%S").to_string())
}

pub fn format_date(d: NaiveDate) -> String {
    text::format_date(d).unwrap_or_else(|| d.format("%Y-%m-%d").to_string())
}

pub fn format_instant(t: DateTime<Utc>) -> String {
    // Hand-rolled instead of `format()`: range queries format two per row, and chrono's
    // strftime interpreter was a seventh of the query time.
    use chrono::{Datelike, Timelike};
    let (d, s) = (t.date_naive(), t.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        s.hour(),
        s.minute(),
        s.second()
    )
}

/// A wait as a person says it, for messages: "45 seconds", "61 seconds", "3 minutes"
/// (from two minutes, rounded up), "1 hour" (whole hours).
pub fn spoken_wait(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 3600 && s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s >= 120 || (s >= 60 && s.is_multiple_of(60)) {
        (s.div_ceil(60), "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(s: &str) -> NaiveDateTime {
        parse_wall_time(s).unwrap_or_else(|| panic!("bad wall time {s}"))
    }

    #[test]
    fn waits_are_said_as_a_person_would() {
        let said = |s| spoken_wait(std::time::Duration::from_secs(s));
        assert_eq!(said(1), "1 second");
        assert_eq!(said(5), "5 seconds");
        assert_eq!(said(60), "1 minute");
        assert_eq!(said(61), "61 seconds");
        assert_eq!(said(150), "3 minutes");
        assert_eq!(said(300), "5 minutes");
        assert_eq!(said(3600), "1 hour");
        assert_eq!(said(7200), "2 hours");
    }

    #[test]
    fn gap_moves_forward_by_gap_length() {
        // Berlin 2026-03-29 02:00 CET → 03:00 CEST.
        let tz = parse_zone("Europe/Berlin").unwrap_or(Tz::UTC);
        let r = resolve(wall("2026-03-29T02:30"), tz);
        assert!(matches!(r, Resolution::Gap(_)));
        assert_eq!(format_instant(r.instant()), "2026-03-29T01:30:00Z");
        assert_eq!(
            format_wall_time(to_local(r.instant(), tz)),
            "2026-03-29T03:30:00"
        );
    }

    #[test]
    fn fold_takes_earlier_instant() {
        // New York 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice.
        let tz = parse_zone("America/New_York").unwrap_or(Tz::UTC);
        let r = resolve(wall("2026-11-01T01:30"), tz);
        assert!(matches!(r, Resolution::Fold(_)));
        assert_eq!(format_instant(r.instant()), "2026-11-01T05:30:00Z");
    }

    #[test]
    fn half_hour_gap_lord_howe() {
        // Lord Howe shifts by 30 minutes: 02:00 → 02:30 on 2026-10-04.
        let tz = parse_zone("Australia/Lord_Howe").unwrap_or(Tz::UTC);
        let r = resolve(wall("2026-10-04T02:15"), tz);
        assert!(matches!(r, Resolution::Gap(_)));
        assert_eq!(
            format_wall_time(to_local(r.instant(), tz)),
            "2026-10-04T02:45:00"
        );
    }

    #[test]
    fn unknown_and_windows_zone_names_are_refused() {
        assert!(parse_zone("Mars/Olympus").is_err());
        assert!(parse_zone("W. Europe Standard Time").is_err());
        assert!(parse_zone("Europe/Berlin").is_ok());
    }
}
