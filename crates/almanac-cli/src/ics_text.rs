//! RFC 5545 text details shared by export and import: TEXT escaping, line folding,
//! and the DATE / DATE-TIME value forms.

use chrono::{NaiveDate, NaiveDateTime};

/// Escapes a TEXT value (§3.3.11). A line break of any form (LF, CRLF, a lone CR) is
/// `\n`; other control characters, which TEXT does not allow (a title from an
/// invitation may hold an escape sequence), are written as U+FFFD, the tab kept.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("\\n"),
            '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape`] (for values the parser left escaped).
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Splits a raw TEXT list (CATEGORIES) on unescaped commas and unescapes each item.
pub fn split_text_list(raw: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(other) => cur.push(other),
                None => {}
            },
            ',' => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    items
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Folds a content line at 75 octets (never inside a UTF-8 character) and ends it with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    let mut rest = line;
    let mut first = true;
    while !rest.is_empty() {
        let limit = if first { 75 } else { 74 };
        let mut cut = rest.len().min(limit);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
    if line.is_empty() {
        out.push_str("\r\n");
    }
}

pub fn ics_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

pub fn ics_wall(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// Whether `s` is exactly `n` ASCII digits: chrono reads `2026031` as the first of
/// March, a day short of a date.
fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYYMMDD`.
pub fn parse_ics_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    if !digits(v, 8) {
        return None;
    }
    NaiveDate::parse_from_str(v, "%Y%m%d").ok()
}

/// `YYYYMMDDTHHMMSS`, or without the seconds (the caller strips a trailing `Z`).
/// A second of 60 is refused: a leap second names no wall time Almanac can keep.
pub fn parse_ics_wall(v: &str) -> Option<NaiveDateTime> {
    let v = v.trim();
    let (date, time) = v.split_once('T')?;
    if !digits(date, 8) || !(digits(time, 6) || digits(time, 4)) || time.get(4..) == Some("60") {
        return None;
    }
    NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
        .or_else(|_| NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M"))
        .ok()
}

/// An RFC 5545 DURATION (`P1D`, `PT1H30M`, `-P1W`, …) in seconds.
pub fn parse_duration(v: &str) -> Option<i64> {
    let (days, secs) = parse_duration_parts(v)?;
    days.checked_mul(86_400)?.checked_add(secs)
}

/// An RFC 5545 DURATION as its nominal days (weeks and days: the same wall time so
/// many days later, whatever DST does in between) and its exact seconds (hours,
/// minutes, seconds), both with the value's sign (§3.3.6).
pub fn parse_duration_parts(v: &str) -> Option<(i64, i64)> {
    let v = v.trim();
    let (sign, v) = match v.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, v.strip_prefix('+').unwrap_or(v)),
    };
    let v = v.strip_prefix('P')?;
    let (mut days, mut secs): (i64, i64) = (0, 0);
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in v.chars() {
        match c {
            'T' if num.is_empty() => in_time = true,
            '0'..='9' => num.push(c),
            _ => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                let (total, unit) = match (c, in_time) {
                    ('W', false) => (&mut days, 7),
                    ('D', false) => (&mut days, 1),
                    ('H', true) => (&mut secs, 3_600),
                    ('M', true) => (&mut secs, 60),
                    ('S', true) => (&mut secs, 1),
                    _ => return None,
                };
                *total = total.checked_add(n.checked_mul(unit)?)?;
                any = true;
            }
        }
    }
    (any && num.is_empty()).then_some((sign * days, sign * secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_read_whole_or_not_at_all() {
        let wall = |s: &str| parse_ics_wall(s).map(|t| t.to_string());
        assert_eq!(
            wall("20260310T090000").as_deref(),
            Some("2026-03-10 09:00:00")
        );
        assert_eq!(
            wall("20260310T0900").as_deref(),
            Some("2026-03-10 09:00:00")
        );
        // A digit short, a leap second, a day out of the month: none is a time.
        for bad in [
            "2026031T090000",
            "20260310T90000",
            "20260310T090060",
            "20260230T090000",
            "+2026031T090000",
        ] {
            assert_eq!(wall(bad), None, "{bad}");
        }
        assert!(parse_ics_date("20260310").is_some());
        for bad in ["2026031", "202603100", "2026-3-1", "+2026031"] {
            assert_eq!(parse_ics_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn escape_and_split_round_trip() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        // Every line break a break; other controls, which TEXT forbids, replaced.
        assert_eq!(
            escape("a\rb\r\nc\u{1b}[2Jd\te\u{7f}"),
            "a\\nb\\nc\u{FFFD}[2Jd\te\u{FFFD}"
        );
        assert_eq!(split_text_list("A\\,B,C , ,D\\;"), vec!["A,B", "C", "D;"]);
    }

    #[test]
    fn folding_keeps_utf8_and_length() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "ü".repeat(100));
        push_line(&mut out, &line);
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{line}\r\n"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H30M"), Some(5400));
        assert_eq!(parse_duration("P1D"), Some(86_400));
        assert_eq!(parse_duration("P2W"), Some(14 * 86_400));
        assert_eq!(parse_duration("P1DT1S"), Some(86_401));
        assert_eq!(parse_duration("-PT15M"), Some(-900));
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("P1H"), None);
        assert_eq!(parse_duration("1H"), None);
        assert_eq!(parse_duration_parts("P1DT2H"), Some((1, 7_200)));
        assert_eq!(parse_duration_parts("-P1W"), Some((-7, 0)));
        assert_eq!(parse_duration_parts("PT25H"), Some((0, 90_000)));
    }
}
