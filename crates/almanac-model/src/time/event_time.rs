//! The start or end of a timed event as Almanac keeps it: a wall time in the event's
//! zone, plus the UTC offset only where the wall time alone would name another instant.
//!
//! A wall time that happens twice (a fall-back fold) means the *first* one (RFC 5545,
//! see [`super::resolve`]). Providers, ICS files and drags give exact instants, and one
//! in the second pass — Berlin's second 02:15 on 2027-10-31 — has no plain wall-time
//! spelling: written as `2027-10-31T02:15:00` it would move an hour early, and an event
//! from 02:30 (first pass) to 02:15 (second pass) would end before it starts. So the
//! offset is appended exactly there (`2027-10-31T02:15:00+01:00`) and nowhere else:
//! each instant has one spelling, and every other wall time reads as before.
//!
//! Series instances keep the RFC rule: recurrence expands wall times.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::{format_wall_time, parse_wall_time, to_instant, to_local};

/// A timed event's start or end: a wall time, and the UTC offset when it names the
/// second pass of a fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    pub wall: NaiveDateTime,
    /// Only for the second pass of a fold (see the module docs).
    pub offset: Option<FixedOffset>,
}

impl EventTime {
    /// How `instant` is written for an event in `tz`.
    pub fn of(instant: DateTime<Utc>, tz: Tz) -> Self {
        let wall = to_local(instant, tz);
        let offset =
            (to_instant(wall, tz) != instant).then(|| instant.with_timezone(&tz).offset().fix());
        Self { wall, offset }
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS]` with an optional `±HH:MM[:SS]` or `Z` after it.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let split = s
            .char_indices()
            .skip(16) // the offset follows at least `YYYY-MM-DDTHH:MM`
            .find(|&(_, c)| matches!(c, '+' | '-' | 'Z' | 'z'))
            .map_or(s.len(), |(i, _)| i);
        let (wall, offset) = s.split_at(split);
        if wall.ends_with(char::is_whitespace) {
            return None;
        }
        let wall = parse_wall_time(wall)?;
        let offset = if offset.is_empty() {
            None
        } else {
            Some(parse_offset(offset)?)
        };
        Some(Self { wall, offset })
    }

    /// The instant this names in `tz`, and its one spelling there (an offset that
    /// changes nothing is dropped). `None` when `tz` does not have this wall time at
    /// this offset.
    ///
    /// Without an offset a wall time resolves by [`super::resolve`]'s rules (a time in
    /// a gap is kept as written and read forward), so plain wall times are unchanged.
    pub fn resolve(self, tz: Tz) -> Option<(DateTime<Utc>, Self)> {
        let Some(offset) = self.offset else {
            return Some((to_instant(self.wall, tz), self));
        };
        let instant = offset
            .from_local_datetime(&self.wall)
            .single()?
            .with_timezone(&Utc);
        (to_local(instant, tz) == self.wall).then(|| (instant, Self::of(instant, tz)))
    }
}

impl std::fmt::Display for EventTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_wall_time(self.wall))?;
        if let Some(o) = self.offset {
            let secs = o.local_minus_utc();
            let (sign, abs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
            write!(f, "{sign}{:02}:{:02}", abs / 3600, abs / 60 % 60)?;
            // Offsets with seconds are only in 19th-century local mean time.
            if abs % 60 != 0 {
                write!(f, ":{:02}", abs % 60)?;
            }
        }
        Ok(())
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':');
    let mut field = |max: i32| -> Option<Option<i32>> {
        let Some(p) = parts.next() else {
            return Some(None);
        };
        let n: i32 = (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()?;
        (n <= max).then_some(Some(n))
    };
    let hours = field(23)??;
    let minutes = field(59)?.unwrap_or(0);
    let seconds = field(59)?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60 + seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_instant, parse_instant, parse_zone};

    fn berlin() -> Tz {
        parse_zone("Europe/Berlin").unwrap_or(Tz::UTC)
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap_or_else(|| panic!("bad instant {s}"))
    }

    fn spelled(instant: &str, tz: Tz) -> String {
        EventTime::of(at(instant), tz).to_string()
    }

    fn resolved(s: &str, tz: Tz) -> Option<(String, String)> {
        let (t, spelling) = EventTime::parse(s)?.resolve(tz)?;
        Some((format_instant(t), spelling.to_string()))
    }

    #[test]
    fn only_the_second_pass_of_a_fold_carries_an_offset() {
        // Berlin 2027-10-31: 03:00 CEST → 02:00 CET, so 02:00–02:59 happens twice.
        let tz = berlin();
        assert_eq!(spelled("2027-10-31T00:15:00Z", tz), "2027-10-31T02:15:00");
        assert_eq!(
            spelled("2027-10-31T01:15:00Z", tz),
            "2027-10-31T02:15:00+01:00"
        );
        assert_eq!(spelled("2027-10-31T02:15:00Z", tz), "2027-10-31T03:15:00");
        assert_eq!(spelled("2027-07-01T08:00:00Z", tz), "2027-07-01T10:00:00");
        // A zone west of UTC: New York's second 01:30 on 2026-11-01 is EST.
        let ny = parse_zone("America/New_York").unwrap_or(Tz::UTC);
        assert_eq!(
            spelled("2026-11-01T06:30:00Z", ny),
            "2026-11-01T01:30:00-05:00"
        );
    }

    #[test]
    fn every_instant_round_trips_through_its_spelling() {
        let tz = berlin();
        let mut t = at("2027-10-30T23:00:00Z");
        while t < at("2027-10-31T04:00:00Z") {
            let s = EventTime::of(t, tz).to_string();
            let back = resolved(&s, tz).map(|(i, _)| i);
            assert_eq!(back, Some(format_instant(t)), "{s}");
            t += chrono::Duration::minutes(5);
        }
    }

    #[test]
    fn a_needless_or_wrong_offset_is_dropped_or_refused() {
        let tz = berlin();
        // The first pass named by its offset: the plain spelling means it already.
        assert_eq!(
            resolved("2027-10-31T02:15:00+02:00", tz),
            Some((
                "2027-10-31T00:15:00Z".to_owned(),
                "2027-10-31T02:15:00".to_owned()
            ))
        );
        assert_eq!(
            resolved("2027-07-01T10:00+02:00", tz).map(|(_, s)| s),
            Some("2027-07-01T10:00:00".to_owned())
        );
        // Offsets Berlin does not have at that wall time.
        assert_eq!(resolved("2027-07-01T10:00:00+01:00", tz), None);
        assert_eq!(resolved("2027-10-31T02:15:00Z", tz), None);
        // 02:30 on the spring-forward day does not exist under any offset.
        assert_eq!(resolved("2027-03-28T02:30:00+01:00", tz), None);
        assert_eq!(resolved("2027-03-28T02:30:00+02:00", tz), None);
    }

    #[test]
    fn plain_wall_times_resolve_as_before() {
        let tz = berlin();
        assert_eq!(
            resolved("2027-10-31T02:15", tz),
            Some((
                "2027-10-31T00:15:00Z".to_owned(),
                "2027-10-31T02:15:00".to_owned()
            ))
        );
        // A gap keeps its spelling and reads forward, as `resolve` documents.
        assert_eq!(
            resolved("2027-03-28T02:30:00", tz),
            Some((
                "2027-03-28T01:30:00Z".to_owned(),
                "2027-03-28T02:30:00".to_owned()
            ))
        );
    }

    proptest::proptest! {
        /// Any instant in any zone (all of the tz database, 1850–2100) is spelled with
        /// an offset exactly when its wall time alone names another instant, and the
        /// spelling reads back as that instant, spelled the same.
        #[test]
        fn every_spelling_names_its_instant_and_only_it(
            zone in 0..chrono_tz::TZ_VARIANTS.len(),
            secs in -3_786_825_600i64..4_102_444_800,
        ) {
            let tz = chrono_tz::TZ_VARIANTS[zone];
            let instant = DateTime::from_timestamp(secs - secs.rem_euclid(60), 0)
                .unwrap_or_default();
            let t = EventTime::of(instant, tz);
            proptest::prop_assert_eq!(
                t.offset.is_some(),
                to_instant(t.wall, tz) != instant,
                "{} in {}", t, tz
            );
            let parsed = EventTime::parse(&t.to_string());
            proptest::prop_assert_eq!(parsed, Some(t));
            proptest::prop_assert_eq!(t.resolve(tz), Some((instant, t)), "{} in {}", t, tz);
        }
    }

    #[test]
    fn an_offset_with_seconds_round_trips() {
        // New York left local mean time (-04:56:02) for EST at noon on 1883-11-18: the
        // clocks went back 3 min 58 s, so 12:00:00–12:03:57 happened twice.
        let ny = parse_zone("America/New_York").unwrap_or(Tz::UTC);
        let t = EventTime::of(at("1883-11-18T17:01:00Z"), ny);
        assert_eq!(t.to_string(), "1883-11-18T12:01:00-05:00");
        let first = EventTime::of(at("1883-11-18T16:58:00Z"), ny);
        assert_eq!(first.to_string(), "1883-11-18T12:01:58");
        let lmt = EventTime::parse("1883-11-18T12:01:58-04:56:02");
        assert_eq!(
            lmt.and_then(|t| t.resolve(ny)).map(|(i, _)| i),
            Some(at("1883-11-18T16:58:00Z"))
        );
    }

    #[test]
    fn malformed_offsets_are_not_event_times() {
        for s in [
            "2027-10-31T02:15:00+1",
            "2027-10-31T02:15:00+01:0",
            "2027-10-31T02:15:00+24:00",
            "2027-10-31T02:15:00+01:60",
            "2027-10-31T02:15:00+01:00:00:00",
            "2027-10-31T02:15:00 +01:00",
            "2027-10-31T02:15:00+",
            "2027-10-31",
            "",
        ] {
            assert_eq!(EventTime::parse(s), None, "{s}");
        }
        assert!(EventTime::parse("2027-10-31T02:15:00-03:30").is_some());
        assert!(EventTime::parse("2027-10-31T02:15:00z").is_some());
    }
}
