use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::time::{format_wall_time, parse_instant, parse_wall_time, to_local};

fn wall(s: &str) -> NaiveDateTime {
    parse_wall_time(s).unwrap_or_else(|| panic!("bad wall time {s}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    parse_instant(s).unwrap_or_else(|| panic!("bad instant {s}"))
}

fn spec(start: &str, tz: Tz, rule: &str) -> SeriesSpec {
    SeriesSpec {
        first: None,
        start: wall(start),
        tz,
        all_day: false,
        duration: Duration::hours(1),
        rrule: rule.to_owned(),
        exdates: vec![],
        rdates: vec![],
    }
}

fn walls(s: &SeriesSpec, from: &str, to: &str) -> Vec<String> {
    s.expand(utc(from), utc(to), 10_000)
        .unwrap_or_else(|e| panic!("expand failed: {e}"))
        .into_iter()
        .map(|i| format_wall_time(to_local(i.start, s.tz)))
        .collect()
}

#[test]
fn weekly_stays_at_wall_time_across_dst() {
    let s = spec(
        "2026-03-16T09:00",
        Tz::Europe__Berlin,
        "FREQ=WEEKLY;BYDAY=MO",
    );
    let got = s
        .expand(
            utc("2026-03-16T00:00:00Z"),
            utc("2026-04-07T00:00:00Z"),
            100,
        )
        .unwrap_or_default();
    let starts: Vec<String> = got
        .iter()
        .map(|i| crate::time::format_instant(i.start))
        .collect();
    // CET (+1) before 29 March, CEST (+2) after: 09:00 local each time.
    assert_eq!(
        starts,
        [
            "2026-03-16T08:00:00Z",
            "2026-03-23T08:00:00Z",
            "2026-03-30T07:00:00Z",
            "2026-04-06T07:00:00Z"
        ]
    );
}

#[test]
fn instance_in_dst_gap_moves_forward() {
    let s = spec("2026-03-28T02:30", Tz::Europe__Berlin, "FREQ=DAILY;COUNT=3");
    assert_eq!(
        walls(&s, "2026-03-27T00:00:00Z", "2026-04-01T00:00:00Z"),
        [
            "2026-03-28T02:30:00",
            "2026-03-29T03:30:00",
            "2026-03-30T02:30:00"
        ]
    );
}

#[test]
fn leap_day_yearly_only_in_leap_years() {
    let s = spec(
        "2024-02-29T10:00",
        Tz::UTC,
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    );
    let got = walls(&s, "2024-01-01T00:00:00Z", "2033-01-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2024-02-29T10:00:00",
            "2028-02-29T10:00:00",
            "2032-02-29T10:00:00"
        ]
    );
}

#[test]
fn bymonthday_31_skips_short_months() {
    let s = spec(
        "2026-01-31T09:00",
        Tz::America__New_York,
        "FREQ=MONTHLY;BYMONTHDAY=31",
    );
    let got = walls(&s, "2026-01-01T00:00:00Z", "2026-09-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-01-31T09:00:00",
            "2026-03-31T09:00:00",
            "2026-05-31T09:00:00",
            "2026-07-31T09:00:00",
            "2026-08-31T09:00:00"
        ]
    );
}

#[test]
fn bymonthday_minus_one_is_last_day() {
    let s = spec(
        "2026-01-31T09:00",
        Tz::UTC,
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4",
    );
    let got = walls(&s, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-01-31T09:00:00",
            "2026-02-28T09:00:00",
            "2026-03-31T09:00:00",
            "2026-04-30T09:00:00"
        ]
    );
}

#[test]
fn bysetpos_last_weekday_of_month() {
    let s = spec(
        "2026-01-30T17:00",
        Tz::Europe__London,
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3",
    );
    let got = walls(&s, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-01-30T17:00:00",
            "2026-02-27T17:00:00",
            "2026-03-31T17:00:00"
        ]
    );
}

#[test]
fn until_in_utc_is_inclusive_and_converted_to_the_zone() {
    // 09:00 New York = 14:00Z in winter; UNTIL exactly at the third instance.
    let s = spec(
        "2026-01-05T09:00",
        Tz::America__New_York,
        "FREQ=DAILY;UNTIL=20260107T140000Z",
    );
    let got = walls(&s, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-01-05T09:00:00",
            "2026-01-06T09:00:00",
            "2026-01-07T09:00:00"
        ]
    );
}

#[test]
fn no_end_rule_is_bounded_by_the_window() {
    let s = spec("2000-01-03T09:00", Tz::UTC, "FREQ=WEEKLY");
    let got = walls(&s, "2026-06-01T00:00:00Z", "2026-06-29T00:00:00Z");
    assert_eq!(got.len(), 4);
    assert!(s
        .expand(
            utc("2000-01-01T00:00:00Z"),
            utc("2100-01-01T00:00:00Z"),
            100
        )
        .is_err());
}

#[test]
fn produces_names_the_series_occurrences_only() {
    let mut s = spec(
        "2026-06-01T09:00",
        Tz::UTC,
        "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4",
    );
    s.rdates = vec![wall("2026-06-20T15:00")];
    for yes in [
        "2026-06-01T09:00", // the start
        "2026-06-03T09:00",
        "2026-06-10T09:00", // the fourth and last
        "2026-06-20T15:00", // an added date
    ] {
        assert!(s.produces(wall(yes)), "{yes}");
    }
    for no in [
        "2026-06-01T09:30", // the right day, another time
        "2026-06-02T09:00", // a Tuesday
        "2026-06-15T09:00", // past COUNT
        "2026-05-25T09:00", // before the start
    ] {
        assert!(!s.produces(wall(no)), "{no}");
    }
    // Removed dates are still the series' occurrences (removing one twice is fine).
    s.exdates = vec![wall("2026-06-03T09:00")];
    assert!(s.produces(wall("2026-06-03T09:00")));
    // An endless rule, far ahead.
    let daily = spec("2026-06-01T09:00", Tz::UTC, "FREQ=DAILY");
    assert!(daily.produces(wall("2031-06-01T09:00")));
    assert!(!daily.produces(wall("2031-06-01T09:01")));
}

#[test]
fn exdates_remove_and_rdates_add() {
    let mut s = spec("2026-06-01T09:00", Tz::UTC, "FREQ=DAILY;COUNT=3");
    s.exdates = vec![wall("2026-06-02T09:00")];
    s.rdates = vec![wall("2026-06-10T15:00")];
    let got = walls(&s, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-06-01T09:00:00",
            "2026-06-03T09:00:00",
            "2026-06-10T15:00:00"
        ]
    );
}

#[test]
fn all_day_series_are_floating_dates() {
    let s = SeriesSpec {
        first: None,
        start: wall("2026-12-24T00:00"),
        tz: Tz::UTC,
        all_day: true,
        duration: Duration::days(2),
        rrule: "FREQ=YEARLY".into(),
        exdates: vec![],
        rdates: vec![],
    };
    let got = s
        .expand(utc("2027-12-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), 10)
        .unwrap_or_default();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].start, utc("2027-12-24T00:00:00Z"));
    assert_eq!(got[0].end, utc("2027-12-26T00:00:00Z"));
}

#[test]
fn a_series_that_cannot_reach_the_years_ahead_is_refused() {
    // Daily from the year 1400: over 200,000 steps before this year's occurrences.
    let e = spec("1400-01-01T09:00", Tz::UTC, "FREQ=DAILY").validate();
    assert!(
        matches!(&e, Err(ValidationError::TooFarToList { start, .. }) if start == "1400-01-01"),
        "{e:?}"
    );
    let message = e.expect_err("refused").to_string();
    assert!(message.contains("Start the series later"), "{message}");
    // The same start, ending within reach, or repeating less often, is kept.
    for rule in [
        "FREQ=DAILY;COUNT=1000",
        "FREQ=DAILY;UNTIL=14100101T000000Z",
        "FREQ=WEEKLY",
        "FREQ=YEARLY",
    ] {
        let kept = spec("1400-01-01T09:00", Tz::UTC, rule).validate();
        assert!(kept.is_ok(), "{rule}: {kept:?}");
    }
    // A daily series of this century is far from the bound.
    assert!(spec("2001-01-01T09:00", Tz::UTC, "FREQ=DAILY")
        .validate()
        .is_ok());
}

#[test]
fn overlong_and_malformed_rules_are_refused() {
    for rule in ["FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=SECONDLY;INTERVAL=1"] {
        let e = spec("2026-01-01T00:00", Tz::UTC, rule).validate();
        assert!(
            matches!(e, Err(ValidationError::UnboundedRecurrence { .. })),
            "{rule}: {e:?}"
        );
    }
    for rule in [
        "",
        "FREQ=SOMETIMES",
        "BYDAY=MO",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=DAILY\nRDATE:20260101T000000Z",
        "FREQ=DAILY;DTSTART=20260101",
        "FREQ=DAILY;UNTIL=tomorrow",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;COUNT=0",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=WEEKLY;BYDAY=5MO;COUNT=5",
        "FREQ=DAILY;BYDAY=2TU",
    ] {
        let e = spec("2026-01-01T00:00", Tz::UTC, rule).validate();
        assert!(
            matches!(e, Err(ValidationError::BadRecurrence { .. })),
            "{rule:?}: {e:?}"
        );
    }
    assert!(
        spec("2026-01-01T00:00", Tz::UTC, "RRULE:FREQ=DAILY;COUNT=2")
            .validate()
            .is_ok()
    );
    // Numbered weekdays belong to monthly and yearly rules.
    for rule in [
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    ] {
        let kept = spec("2026-01-01T00:00", Tz::UTC, rule).validate();
        assert!(kept.is_ok(), "{rule}: {kept:?}");
    }
    // A series stored before such rules were refused still lists (as it did).
    let stored = spec("2026-01-01T00:00", Tz::UTC, "FREQ=DAILY;INTERVAL=0");
    let listed = stored.expand(
        utc("2026-01-01T00:00:00Z"),
        utc("2026-02-01T00:00:00Z"),
        100,
    );
    assert_eq!(listed.map(|l| l.len()), Ok(1));
}

fn zones() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        Tz::Europe__Berlin,
        Tz::America__New_York,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Kolkata,
        Tz::America__Sao_Paulo,
        Tz::Pacific__Auckland,
        Tz::UTC,
    ])
}

proptest! {
    /// Every instance of a daily rule is at the requested wall time, or — only when
    /// that wall time does not exist — shifted forward by less than the gap, and
    /// instances come sorted, inside the window, with the requested length.
    #[test]
    fn daily_instances_keep_wall_time(
        tz in zones(),
        day in 0i64..3000,
        hour in 0u32..24,
        minute in prop::sample::select(vec![0u32, 15, 30, 45]),
        len_min in 1i64..600,
        window_days in 1i64..60,
    ) {
        let base = wall("2020-01-01T00:00") + Duration::days(day);
        let start = base.with_hour(hour).and_then(|t| t.with_minute(minute)).unwrap_or(base);
        let s = SeriesSpec {
        first: None, start, tz, all_day: false, duration: Duration::minutes(len_min),
            rrule: "FREQ=DAILY".into(), exdates: vec![], rdates: vec![] };
        let from = Utc.from_utc_datetime(&(start + Duration::days(3)));
        let to = from + Duration::days(window_days);
        let got = s.expand(from, to, 10_000).unwrap_or_default();
        prop_assert!(!got.is_empty());
        for w in got.windows(2) { prop_assert!(w[0].start <= w[1].start); }
        for i in &got {
            prop_assert!(i.start < to && i.end > from);
            prop_assert_eq!(i.end - i.start, Duration::minutes(len_min));
            let local = to_local(i.start, tz);
            prop_assert_eq!(i.original.date(), local.date().min(i.original.date()).max(i.original.date()));
            if local != i.original {
                // Only allowed inside a gap: the original wall time does not exist.
                prop_assert!(i.original.and_local_timezone(tz).single().is_none());
                prop_assert!(local > i.original && local - i.original <= Duration::hours(2));
            }
            prop_assert_eq!(i.original.time(), start.time());
            prop_assert!(i.original.ordinal0() < 367);
        }
    }
}

#[test]
fn a_rule_that_ends_before_its_start_says_so() {
    let e = spec(
        "2027-03-01T09:00",
        Tz::UTC,
        "FREQ=DAILY;UNTIL=20270101T000000Z",
    )
    .validate();
    match e {
        Err(ValidationError::BadRecurrence { reason, .. }) => {
            assert_eq!(reason, "it ends (UNTIL) before the event starts");
        }
        other => panic!("{other:?}"),
    }
}

/// An UNTIL in UTC is an instant: at a fold, an instance whose wall time comes after
/// UNTIL's own wall time (read in the later pass) may still start before it.
#[test]
fn until_in_utc_at_a_fold_compares_instants() {
    // Berlin, 25 Oct 2026: 02:30 is first 00:30Z (CEST), then 01:30Z (CET). UNTIL
    // 01:00Z reads as 02:00 (CET); the 02:30 instance starts at 00:30Z, before it.
    let s = spec(
        "2026-10-23T02:30",
        Tz::Europe__Berlin,
        "FREQ=DAILY;UNTIL=20261025T010000Z",
    );
    let got = walls(&s, "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z");
    assert_eq!(
        got,
        [
            "2026-10-23T02:30:00",
            "2026-10-24T02:30:00",
            "2026-10-25T02:30:00"
        ]
    );
    // And one that starts after UNTIL is left out, though its wall time is earlier
    // than UNTIL's own: 01:30Z reads as 02:30 CET; a 02:45 series' instance that day
    // starts at 00:45Z, inside; UNTIL 00:40Z (02:40 CEST) leaves it out.
    let s = spec(
        "2026-10-23T02:45",
        Tz::Europe__Berlin,
        "FREQ=DAILY;UNTIL=20261025T004000Z",
    );
    let got = walls(&s, "2026-10-20T00:00:00Z", "2026-11-01T00:00:00Z");
    assert_eq!(got, ["2026-10-23T02:45:00", "2026-10-24T02:45:00"]);
}

/// RFC 5545 §3.3.10: DTSTART always counts as the first of COUNT occurrences, also when
/// the rule would not make it ("Mondays, 3 times" from a Tuesday: that Tuesday and two
/// Mondays). It was one more: the start on top of COUNT Mondays.
#[test]
fn count_includes_a_start_the_rule_does_not_make() {
    let from = "2026-03-01T00:00:00Z";
    let to = "2026-05-01T00:00:00Z";
    let tz = Tz::Europe__Berlin;
    let mondays =
        |start: &str, count: u32| spec(start, tz, &format!("FREQ=WEEKLY;BYDAY=MO;COUNT={count}"));
    assert_eq!(
        walls(&mondays("2026-03-03T09:00", 3), from, to),
        [
            "2026-03-03T09:00:00",
            "2026-03-09T09:00:00",
            "2026-03-16T09:00:00"
        ]
    );
    assert_eq!(
        walls(&mondays("2026-03-03T09:00", 1), from, to),
        ["2026-03-03T09:00:00"]
    );
    // A start the rule makes counts once.
    assert_eq!(
        walls(&mondays("2026-03-02T09:00", 3), from, to),
        [
            "2026-03-02T09:00:00",
            "2026-03-09T09:00:00",
            "2026-03-16T09:00:00"
        ]
    );
    let odd = mondays("2026-03-03T09:00", 3);
    assert!(odd.produces(wall("2026-03-16T09:00")));
    assert!(!odd.produces(wall("2026-03-23T09:00")));
}

/// A rule no date matches walked the expander's whole step budget at every listing (a
/// second or so in a debug build), for nothing: refused when given.
#[test]
fn a_rule_that_makes_no_occurrence_is_refused() {
    for rule in [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
    ] {
        let s = spec("2025-01-10T09:00", Tz::Europe__Berlin, rule);
        match s.validate() {
            Err(ValidationError::BadRecurrence { reason, .. }) => {
                assert!(reason.contains("no occurrence"), "{rule}: {reason}")
            }
            other => panic!("{rule}: {other:?}"),
        }
    }
    // Rare is not never: the next 29 February is three years on.
    let leap = spec(
        "2025-03-01T09:00",
        Tz::Europe__Berlin,
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    );
    assert_eq!(leap.validate(), Ok(()));
}
