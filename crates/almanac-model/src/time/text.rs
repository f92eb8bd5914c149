//! The plain text forms of dates and wall times (`2026-12-03`, `2026-12-03T09:30:00`),
//! written and read by hand. Sync formats and parses several per event it applies, and
//! chrono's strftime interpreter, which re-reads its pattern every time, was about a
//! tenth of applying a provider page. Each function answers `None` for anything but
//! the plain form (years outside 0000–9999, a leap second, other spellings), and the
//! caller then asks chrono: the results are always chrono's own.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

/// `YYYY-MM-DD`, as chrono's `%Y-%m-%d` writes it.
pub(super) fn format_date(d: NaiveDate) -> Option<String> {
    let mut out = String::with_capacity(10);
    push_date(&mut out, d)?;
    Some(out)
}

/// `YYYY-MM-DDTHH:MM:SS`, as chrono's `%Y-%m-%dT%H:%M:%S` writes it.
pub(super) fn format_wall_time(t: NaiveDateTime) -> Option<String> {
    let time = t.time();
    if time.nanosecond() >= 1_000_000_000 {
        return None; // a leap second: chrono writes :60
    }
    let mut out = String::with_capacity(19);
    push_date(&mut out, t.date())?;
    out.push('T');
    for (i, n) in [time.hour(), time.minute(), time.second()]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(':');
        }
        push_digits(&mut out, n, 2);
    }
    Some(out)
}

fn push_date(out: &mut String, d: NaiveDate) -> Option<()> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
    Some(())
}

fn push_digits(out: &mut String, n: u32, width: u32) {
    for p in (0..width).rev() {
        let digit = (n / 10u32.pow(p)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// The number written with exactly the digits `b`.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Reads exactly `YYYY-MM-DD`.
pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// Reads exactly `YYYY-MM-DDTHH:MM:SS` (seconds 00–59).
pub(super) fn parse_wall_time(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = parse_date(&s[..10])?;
    let time = NaiveTime::from_hms_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    Some(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono_wall(s: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok()
    }

    #[test]
    fn plain_forms_match_chrono_and_the_rest_is_left_to_it() {
        let t = NaiveDate::from_ymd_opt(2027, 10, 31)
            .and_then(|d| d.and_hms_opt(2, 5, 9))
            .unwrap_or_default();
        assert_eq!(format_wall_time(t).as_deref(), Some("2027-10-31T02:05:09"));
        assert_eq!(format_date(t.date()).as_deref(), Some("2027-10-31"));
        assert_eq!(parse_wall_time("2027-10-31T02:05:09"), Some(t));
        let far = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap_or_default();
        assert_eq!(format_date(far), None);
        let early = NaiveDate::from_ymd_opt(-1, 1, 1).unwrap_or_default();
        assert_eq!(format_date(early), None);
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap_or_default();
        assert_eq!(format_wall_time(leap), None);
        for s in [
            "2027-10-31T02:05:60",
            "2027-02-29T10:00:00",
            "2027-13-01T10:00:00",
            "2027-10-31T24:00:00",
            "2027-10-31 02:05:09",
            "2027-10-31T02:05",
            "+2027-10-31T02:05:09",
            "2027-1-31T02:05:09",
            "2027-10-31T02:05:0x",
            "２０２７-10-31T02:05",
        ] {
            assert_eq!(parse_wall_time(s), None, "{s}");
        }
    }

    proptest! {
        #[test]
        fn formatting_matches_chrono(secs in -70_000_000_000i64..260_000_000_000) {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().naive_utc();
            if let Some(s) = format_wall_time(t) {
                prop_assert_eq!(&s, &t.format("%Y-%m-%dT%H:%M:%S").to_string());
                prop_assert_eq!(parse_wall_time(&s), Some(t));
            }
            if let Some(s) = format_date(t.date()) {
                prop_assert_eq!(&s, &t.date().format("%Y-%m-%d").to_string());
                prop_assert_eq!(parse_date(&s), Some(t.date()));
            }
        }

        #[test]
        fn parsing_never_disagrees_with_chrono(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}") {
            if let Some(t) = parse_wall_time(&s) {
                prop_assert_eq!(Some(t), chrono_wall(&s));
            } else {
                // Refused here: chrono refuses it too, or reads a leap second.
                prop_assert!(chrono_wall(&s).is_none_or(|t| t.time().nanosecond() >= 1_000_000_000));
            }
        }
    }
}
