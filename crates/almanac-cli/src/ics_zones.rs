//! VTIMEZONE components for the export: RFC 5545 §3.6.5 says each TZID an event
//! names MUST have one, and Outlook reads a TZID without one an hour off (or warns of
//! an undeclared zone). Made from the tz database Almanac expands with (chrono-tz):
//! the zone's changes of offset over the years the export spans, each as an
//! observance; where the last three years change by the same yearly rule ("the last
//! Sunday of March"), those become one observance with an `RRULE`, so a series that
//! goes on past the span keeps its offsets.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// One change of the zone's offset.
#[derive(Debug, Clone, PartialEq)]
struct Change {
    /// When it happens, as the wall time before it (an observance's DTSTART).
    local: NaiveDateTime,
    from: i32,
    to: i32,
    daylight: bool,
    name: Option<String>,
}

/// The zone's offset at `t`: seconds east of UTC, whether it is daylight time, its
/// abbreviation.
fn offset_at(tz: Tz, t: DateTime<Utc>) -> (i32, bool, Option<String>) {
    let o = tz.offset_from_utc_datetime(&t.naive_utc());
    let total = (o.base_utc_offset() + o.dst_offset()).num_seconds() as i32;
    (
        total,
        !o.dst_offset().is_zero(),
        o.abbreviation().map(str::to_owned),
    )
}

/// Every change of offset from `from` to `to`: found a day at a time, then to the
/// second (no zone changes twice within a day).
fn changes(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    let mut t = from;
    let mut was = offset_at(tz, t);
    while t < to {
        let next = t + Duration::days(1);
        let now = offset_at(tz, next);
        if now != was {
            // The first second at the new offset.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == was {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(Change {
                local: hi.naive_utc() + Duration::seconds(i64::from(was.0)),
                from: was.0,
                to: now.0,
                daylight: now.1,
                name: now.2.clone(),
            });
            was = now;
        }
        t = next;
    }
    out
}

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// The ways a yearly rule can name `d`'s day: its weekday as the nth of the month,
/// and as the last when it is.
fn day_rules(d: NaiveDate) -> Vec<String> {
    let wd = WEEKDAYS[d.weekday().num_days_from_monday() as usize];
    let nth = (d.day() - 1) / 7 + 1;
    let mut out = vec![format!("BYMONTH={};BYDAY={nth}{wd}", d.month())];
    let last = d + Duration::days(7);
    if last.month() != d.month() {
        out.insert(0, format!("BYMONTH={};BYDAY=-1{wd}", d.month()));
    }
    out
}

/// The yearly rule the changes `same` (one a year, consecutive years) follow: the same
/// offsets, time of day and rule for the day; `None` when they do not.
fn yearly_rule(same: &[&Change]) -> Option<String> {
    let first = same.first()?;
    let years_follow = same
        .windows(2)
        .all(|w| w[1].local.year() == w[0].local.year() + 1);
    let alike = same
        .iter()
        .all(|c| c.from == first.from && c.to == first.to && c.local.time() == first.local.time());
    if !years_follow || !alike {
        return None;
    }
    let mut shared = day_rules(first.local.date());
    for c in same {
        let rules = day_rules(c.local.date());
        shared.retain(|r| rules.contains(r));
    }
    shared.into_iter().next()
}

/// `+HHMM` (or `+HHMMSS` for a historical offset with seconds).
fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

fn observance(c: &Change, rule: Option<&str>) -> Vec<String> {
    let kind = if c.daylight { "DAYLIGHT" } else { "STANDARD" };
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}", c.local.format("%Y%m%dT%H%M%S")),
        format!("TZOFFSETFROM:{}", offset_text(c.from)),
        format!("TZOFFSETTO:{}", offset_text(c.to)),
    ];
    if let Some(rule) = rule {
        lines.push(format!("RRULE:FREQ=YEARLY;{rule}"));
    }
    // An abbreviation the database has none for reads as its offset ("+03"): left out.
    if let Some(name) = c
        .name
        .as_deref()
        .filter(|n| n.chars().all(char::is_alphabetic))
    {
        lines.push(format!("TZNAME:{name}"));
    }
    lines.push(format!("END:{kind}"));
    lines
}

/// The VTIMEZONE of `tz` for events from `from_year` to `to_year`, as content lines.
pub fn vtimezone(tz: Tz, from_year: i32, to_year: i32) -> Vec<String> {
    let start = Utc
        .with_ymd_and_hms(from_year, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let end = Utc
        .with_ymd_and_hms(to_year + 1, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(start);
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", tz.name())];
    // What holds from the start: an observance changing nothing.
    let (offset, daylight, name) = offset_at(tz, start);
    lines.extend(observance(
        &Change {
            local: start.naive_utc() + Duration::seconds(i64::from(offset)),
            from: offset,
            to: offset,
            daylight,
            name,
        },
        None,
    ));
    let all = changes(tz, start, end);
    // The last three years' changes, by kind, when each kind has one a year.
    let recent = to_year - 2;
    let mut ruled: Vec<(&Change, String)> = Vec::new();
    for daylight in [true, false] {
        let same: Vec<&Change> = all
            .iter()
            .filter(|c| c.daylight == daylight && c.local.year() >= recent)
            .collect();
        if same.len() == 3 {
            if let Some(rule) = yearly_rule(&same) {
                ruled.push((same[0], rule));
            }
        }
    }
    let compress = ruled.len() == 2;
    for c in &all {
        let by_rule = compress && c.local.year() >= recent;
        if !by_rule {
            lines.extend(observance(c, None));
        }
    }
    if compress {
        for (c, rule) in &ruled {
            lines.extend(observance(c, Some(rule)));
        }
    }
    lines.push("END:VTIMEZONE".to_owned());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(tz: Tz, from: i32, to: i32) -> String {
        vtimezone(tz, from, to).join("\n")
    }

    #[test]
    fn berlin_changes_on_the_last_sundays_of_march_and_october() {
        let t = text(Tz::Europe__Berlin, 2024, 2027);
        assert!(
            t.starts_with("BEGIN:VTIMEZONE\nTZID:Europe/Berlin\n"),
            "{t}"
        );
        // 2024 listed, 2025–2027 as rules from 2025's changes.
        assert!(t.contains(
            "BEGIN:DAYLIGHT\nDTSTART:20240331T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nTZNAME:CEST\nEND:DAYLIGHT"
        ), "{t}");
        assert!(t.contains(
            "BEGIN:DAYLIGHT\nDTSTART:20250330T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nTZNAME:CEST\nEND:DAYLIGHT"
        ), "{t}");
        assert!(t.contains(
            "BEGIN:STANDARD\nDTSTART:20251026T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nTZNAME:CET\nEND:STANDARD"
        ), "{t}");
        assert!(!t.contains("DTSTART:2026"), "{t}");
        assert!(t.ends_with("END:VTIMEZONE"));
    }

    #[test]
    fn new_york_changes_on_the_second_and_first_sundays() {
        let t = text(Tz::America__New_York, 2025, 2028);
        assert!(
            t.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\nTZNAME:EDT"),
            "{t}"
        );
        assert!(
            t.contains("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\nTZNAME:EST"),
            "{t}"
        );
        assert!(
            t.contains("DTSTART:20260308T020000\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400"),
            "{t}"
        );
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let t = text(Tz::Asia__Tokyo, 2024, 2027);
        assert_eq!(t.matches("BEGIN:STANDARD").count(), 1, "{t}");
        assert!(
            t.contains("TZOFFSETFROM:+0900\nTZOFFSETTO:+0900\nTZNAME:JST"),
            "{t}"
        );
        assert!(!t.contains("DAYLIGHT"), "{t}");
    }

    #[test]
    fn each_offset_listed_is_the_databases() {
        // Every observance's DTSTART, read in its TZOFFSETFROM, is the instant the
        // database changes to its TZOFFSETTO.
        for tz in [
            Tz::Europe__Berlin,
            Tz::Australia__Lord_Howe,
            Tz::America__Santiago,
            Tz::Africa__Casablanca,
        ] {
            let from = Utc
                .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
                .single()
                .expect("a date");
            let to = Utc
                .with_ymd_and_hms(2028, 1, 1, 0, 0, 0)
                .single()
                .expect("a date");
            for c in changes(tz, from, to) {
                let at = (c.local - Duration::seconds(i64::from(c.from))).and_utc();
                assert_eq!(offset_at(tz, at).0, c.to, "{tz} {c:?}");
                assert_eq!(
                    offset_at(tz, at - Duration::seconds(1)).0,
                    c.from,
                    "{tz} {c:?}"
                );
            }
        }
    }
}
