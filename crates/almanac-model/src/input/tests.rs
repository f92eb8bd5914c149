use super::*;

fn input() -> EventInput {
    EventInput {
        calendar_id: "local".into(),
        title: "Quarterly review".into(),
        all_day: false,
        start: "2026-11-23T09:00".into(),
        end: "2026-11-23T10:00".into(),
        time_zone: "Europe/Berlin".into(),
        recurrence: None,
        location: String::new(),
        description: String::new(),
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        categories: vec![],
    }
}

#[test]
fn valid_timed_event_resolves_to_utc() {
    let v = input().validate().unwrap_or_else(|e| panic!("{e}"));
    match v.timing {
        ValidTiming::Timed { start, end, .. } => {
            assert_eq!(crate::time::format_instant(start), "2026-11-23T08:00:00Z");
            assert_eq!(crate::time::format_instant(end), "2026-11-23T09:00:00Z");
        }
        ValidTiming::AllDay { .. } => panic!("expected timed"),
    }
    assert_eq!(v.input.start, "2026-11-23T09:00:00");
}

#[test]
fn times_in_the_second_pass_of_a_fold_keep_their_instant() {
    // Berlin 2027-10-31 03:00 CEST → 02:00 CET: from the first 02:30 to the second 02:15
    // is 45 minutes, and without the offset it would end before it starts.
    let mut i = input();
    i.start = "2027-10-31T02:30".into();
    i.end = "2027-10-31T02:15:00+01:00".into();
    let v = i.validate().unwrap_or_else(|e| panic!("{e}"));
    let ValidTiming::Timed { start, end, .. } = v.timing else {
        panic!("expected timed");
    };
    assert_eq!(crate::time::format_instant(start), "2027-10-31T00:30:00Z");
    assert_eq!(crate::time::format_instant(end), "2027-10-31T01:15:00Z");
    assert_eq!(v.input.start, "2027-10-31T02:30:00");
    assert_eq!(v.input.end, "2027-10-31T02:15:00+01:00");
    // An offset that only repeats what the wall time says is not kept.
    let mut i = input();
    i.start = "2027-10-31T02:30+02:00".into();
    i.end = "2027-10-31T03:30+01:00".into();
    let v = i.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (v.input.start.as_str(), v.input.end.as_str()),
        ("2027-10-31T02:30:00", "2027-10-31T03:30:00")
    );
}

#[test]
fn refusals_name_the_problem() {
    type Mutation = Box<dyn Fn(&mut EventInput)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|i| i.end = "2026-11-23T08:00".into()),
            "ends before it starts",
        ),
        (
            Box::new(|i| i.time_zone = "Mars/Base".into()),
            "Unknown time zone",
        ),
        (
            Box::new(|i| i.title = "x".repeat(MAX_TITLE_LEN + 1)),
            "title is too long",
        ),
        (Box::new(|i| i.title = "a\0b".into()), "NUL"),
        (
            Box::new(|i| i.description = "a\0b".into()),
            "description contains a NUL",
        ),
        (Box::new(|i| i.title = "   ".into()), "title is empty"),
        (
            Box::new(|i| i.start = "next tuesday".into()),
            "not a valid date and time",
        ),
        (
            Box::new(|i| i.start = "2026-11-23T09:00:00+05:00".into()),
            "has a UTC offset that Europe/Berlin does not have",
        ),
        (
            Box::new(|i| {
                i.all_day = true;
                i.start = "2026-11-23".into();
                i.end = "2026-11-23".into();
            }),
            "at least one day",
        ),
        (
            Box::new(|i| {
                i.recurrence = Some(RecurrenceInput {
                    rrule: "FREQ=NEVER".into(),
                    exdates: vec![],
                    rdates: vec![],
                })
            }),
            "repeat rule",
        ),
        (
            Box::new(|i| {
                i.recurrence = Some(RecurrenceInput {
                    rrule: "FREQ=MINUTELY".into(),
                    exdates: vec![],
                    rdates: vec![],
                })
            }),
            "repeats too often",
        ),
    ];
    for (mutate, needle) in cases {
        let mut i = input();
        mutate(&mut i);
        let err = i.validate().expect_err(needle).to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    }
}

#[test]
fn all_day_keeps_civil_dates() {
    let mut i = input();
    i.all_day = true;
    i.start = "2028-02-28".into();
    i.end = "2028-03-01".into();
    let v = i.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        v.timing,
        ValidTiming::AllDay {
            start: NaiveDate::from_ymd_opt(2028, 2, 28).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2028, 3, 1).unwrap_or_default(),
        }
    );
}

#[test]
fn ipc_shape_is_camel_case() {
    let json = serde_json::to_value(input()).unwrap_or_default();
    assert!(json.get("calendarId").is_some());
    assert_eq!(json["showAs"], "busy");
}

#[test]
fn removed_and_added_dates_are_kept_in_one_spelling() {
    let mut i = input();
    i.recurrence = Some(RecurrenceInput {
        rrule: " FREQ=DAILY;COUNT=5 ".into(),
        exdates: vec!["2026-11-25T09:00".into()],
        rdates: vec!["2026-11-30T09:00:00".into()],
    });
    let v = i.validate().unwrap_or_else(|e| panic!("{e}"));
    let r = v.input.recurrence.unwrap_or_else(|| panic!("a series"));
    assert_eq!(r.rrule, "FREQ=DAILY;COUNT=5");
    assert_eq!(r.exdates, ["2026-11-25T09:00:00"]);
    assert_eq!(r.rdates, ["2026-11-30T09:00:00"]);
    let mut day = input();
    day.all_day = true;
    day.start = "2026-11-23".into();
    day.end = "2026-11-24".into();
    day.recurrence = Some(RecurrenceInput {
        rrule: "FREQ=DAILY".into(),
        exdates: vec!["2026-11-25".into()],
        rdates: vec![],
    });
    let v = day.validate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        v.input.recurrence.map(|r| r.exdates),
        Some(vec!["2026-11-25".to_owned()])
    );
}
