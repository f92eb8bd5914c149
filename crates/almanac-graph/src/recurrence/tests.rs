use std::path::PathBuf;
use std::sync::LazyLock;

use almanac_model::recurrence::SeriesSpec;
use serde_json::json;

use super::*;

// ---------------------------------------------------------------- schema check

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/specs/msgraph-v1.0-calendar.openapi.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Graph OpenAPI spec {} is needed to validate emitted JSON: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
});

/// A small OpenAPI checker for the shapes used here: `$ref`, `anyOf` with a nullable
/// branch, objects (every emitted property must be declared), arrays, integers with
/// bounds, strings with `enum` and `format: date`.
fn check(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &SPEC["components"]["schemas"][name];
        assert!(target.is_object(), "unresolved $ref {r}");
        return check(target, v, path, errs);
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let nullable = any.iter().any(|s| s["nullable"] == true);
        if v.is_null() && nullable {
            return;
        }
        let ok = any.iter().filter(|s| s["nullable"] != true).any(|s| {
            let mut e = Vec::new();
            check(s, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(format!("{path}: {v} matches no anyOf branch"));
        }
        return;
    }
    if v.is_null() {
        if schema["nullable"] != true {
            errs.push(format!("{path}: null is not allowed"));
        }
        return;
    }
    match schema["type"].as_str() {
        Some("object") => match v.as_object() {
            None => errs.push(format!("{path}: {v} is not an object")),
            Some(obj) => {
                for (k, x) in obj {
                    match schema["properties"].get(k) {
                        None => errs.push(format!("{path}.{k}: not in the schema")),
                        Some(s) => check(s, x, &format!("{path}.{k}"), errs),
                    }
                }
            }
        },
        Some("array") => match v.as_array() {
            None => errs.push(format!("{path}: {v} is not an array")),
            Some(items) => {
                for (i, x) in items.iter().enumerate() {
                    check(&schema["items"], x, &format!("{path}[{i}]"), errs);
                }
            }
        },
        Some("integer") => match v.as_i64() {
            Some(n)
                if schema["minimum"].as_i64().is_none_or(|m| n >= m)
                    && schema["maximum"].as_i64().is_none_or(|m| n <= m) => {}
            _ => errs.push(format!("{path}: {v} is not an integer in range")),
        },
        Some("string") => match v.as_str() {
            None => errs.push(format!("{path}: {v} is not a string")),
            Some(s) => {
                if let Some(values) = schema["enum"].as_array() {
                    if !values.iter().any(|e| e == s) {
                        errs.push(format!("{path}: {s:?} is not one of {values:?}"));
                    }
                }
                if schema["format"] == "date" && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() {
                    errs.push(format!("{path}: {s:?} is not a date"));
                }
            }
        },
        _ => {}
    }
}

fn schema_errors(v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    check(
        &json!({"$ref": "#/components/schemas/microsoft.graph.patternedRecurrence"}),
        v,
        "recurrence",
        &mut errs,
    );
    errs
}

fn assert_valid(v: &Value) {
    let errs = schema_errors(v);
    assert!(errs.is_empty(), "{v} fails the Graph schema: {errs:?}");
}

#[test]
fn schema_checker_is_not_vacuous() {
    // The three schemas exist and list the properties the DTOs use.
    let schemas = &SPEC["components"]["schemas"];
    for (name, props) in [
        ("patternedRecurrence", &["pattern", "range"][..]),
        (
            "recurrencePattern",
            &[
                "type",
                "interval",
                "month",
                "dayOfMonth",
                "daysOfWeek",
                "firstDayOfWeek",
                "index",
            ],
        ),
        (
            "recurrenceRange",
            &[
                "type",
                "startDate",
                "endDate",
                "recurrenceTimeZone",
                "numberOfOccurrences",
            ],
        ),
    ] {
        let s = &schemas[format!("microsoft.graph.{name}")];
        for p in props {
            assert!(s["properties"].get(*p).is_some(), "{name}.{p} missing");
        }
    }
    for bad in [
        json!({"pattern": {"type": "hourly", "interval": 1}}),
        json!({"pattern": {"type": "daily", "interval": 1, "every": 2}}),
        json!({"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["mon"]}}),
        json!({"pattern": {"type": "daily", "interval": "1"}}),
        json!({"range": {"type": "endDate", "startDate": "2026-02-30"}}),
        json!({"range": {"type": "forever", "startDate": "2026-02-03"}}),
        json!({"pattern": {"type": "relativeMonthly", "interval": 1, "index": "fifth"}}),
    ] {
        assert!(!schema_errors(&bad).is_empty(), "accepted {bad}");
    }
    assert_valid(&json!({"pattern": null, "range": {"endDate": null, "type": "noEnd"}}));
}

// ---------------------------------------------------------------- helpers

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn graph(v: Value) -> PatternedRecurrence {
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn to_json(rec: &PatternedRecurrence) -> Value {
    serde_json::to_value(rec).unwrap_or_else(|e| panic!("{e}"))
}

fn mapped(rrule: &str, start: &str, zone: &str) -> PatternedRecurrence {
    match from_rrule(rrule, date(start), zone) {
        FromRrule::Mapped(rec) => {
            assert_valid(&to_json(&rec));
            rec
        }
        FromRrule::NotExpressible { reason } => panic!("{rrule}: not expressible: {reason}"),
    }
}

fn rrule_of(rec: &PatternedRecurrence) -> RruleText {
    to_rrule(rec).unwrap_or_else(|e| panic!("{}: {e}", to_json(rec)))
}

const BERLIN: &str = "W. Europe Standard Time";

/// Graph JSON with the range this module emits (zone: Berlin).
fn rec(pattern: Value, start: &str, end: Value) -> Value {
    let mut range = json!({"startDate": start, "recurrenceTimeZone": BERLIN});
    let obj = range.as_object_mut().expect("object literal");
    for (k, v) in end.as_object().expect("object literal") {
        obj.insert(k.clone(), v.clone());
    }
    json!({"pattern": pattern, "range": range})
}

fn no_end() -> Value {
    json!({"type": "noEnd"})
}

// ---------------------------------------------------------------- D1, both ways

/// (RRULE, series start, Graph JSON): each row maps exactly both ways, so each is also a
/// round trip in both directions.
fn d1_rows() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        // daily, interval n
        (
            "FREQ=DAILY;INTERVAL=3",
            "2026-01-05",
            rec(
                json!({"type": "daily", "interval": 3}),
                "2026-01-05",
                no_end(),
            ),
        ),
        (
            "FREQ=DAILY",
            "2026-01-05",
            rec(
                json!({"type": "daily", "interval": 1}),
                "2026-01-05",
                no_end(),
            ),
        ),
        // weekly n, days D, firstDayOfWeek F
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR;WKST=SU",
            "2026-01-05",
            rec(
                json!({"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "wednesday", "friday"], "firstDayOfWeek": "sunday"}),
                "2026-01-05",
                no_end(),
            ),
        ),
        // Outlook's "every weekday"
        (
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;WKST=MO",
            "2026-01-06",
            rec(
                json!({"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"], "firstDayOfWeek": "monday"}),
                "2026-01-06",
                no_end(),
            ),
        ),
        // absoluteMonthly
        (
            "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15",
            "2026-01-15",
            rec(
                json!({"type": "absoluteMonthly", "interval": 2, "dayOfMonth": 15}),
                "2026-01-15",
                no_end(),
            ),
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=31",
            "2026-01-31",
            rec(
                json!({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31}),
                "2026-01-31",
                no_end(),
            ),
        ),
        // relativeMonthly, one day: third Thursday, last Friday
        (
            "FREQ=MONTHLY;BYDAY=TH;BYSETPOS=3",
            "2026-01-15",
            rec(
                json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["thursday"], "index": "third"}),
                "2026-01-15",
                no_end(),
            ),
        ),
        (
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=FR;BYSETPOS=-1",
            "2026-01-30",
            rec(
                json!({"type": "relativeMonthly", "interval": 3, "daysOfWeek": ["friday"], "index": "last"}),
                "2026-01-30",
                no_end(),
            ),
        ),
        // relativeMonthly, several days: the second weekday of the month
        (
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2",
            "2026-01-02",
            rec(
                json!({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"], "index": "second"}),
                "2026-01-02",
                no_end(),
            ),
        ),
        // absoluteYearly
        (
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14",
            "2026-03-14",
            rec(
                json!({"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 14}),
                "2026-03-14",
                no_end(),
            ),
        ),
        (
            "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
            "2028-02-29",
            rec(
                json!({"type": "absoluteYearly", "interval": 4, "month": 2, "dayOfMonth": 29}),
                "2028-02-29",
                no_end(),
            ),
        ),
        // relativeYearly: fourth Thursday of November
        (
            "FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4",
            "2026-11-26",
            rec(
                json!({"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"], "index": "fourth"}),
                "2026-11-26",
                no_end(),
            ),
        ),
        // range.numbered → COUNT
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1;COUNT=5",
            "2026-03-29",
            rec(
                json!({"type": "relativeYearly", "interval": 1, "month": 3, "daysOfWeek": ["sunday"], "index": "last"}),
                "2026-03-29",
                json!({"type": "numbered", "numberOfOccurrences": 5}),
            ),
        ),
        // range.endDate → UNTIL: last second of 2026-03-31 in Berlin (CEST, UTC+2)
        (
            "FREQ=WEEKLY;BYDAY=TU;WKST=SU;UNTIL=20260331T215959Z",
            "2026-01-06",
            rec(
                json!({"type": "weekly", "interval": 1, "daysOfWeek": ["tuesday"], "firstDayOfWeek": "sunday"}),
                "2026-01-06",
                json!({"type": "endDate", "endDate": "2026-03-31"}),
            ),
        ),
        // ...in winter (CET, UTC+1)
        (
            "FREQ=DAILY;INTERVAL=2;UNTIL=20260131T225959Z",
            "2026-01-05",
            rec(
                json!({"type": "daily", "interval": 2}),
                "2026-01-05",
                json!({"type": "endDate", "endDate": "2026-01-31"}),
            ),
        ),
    ]
}

#[test]
fn d1_rows_map_exactly_both_ways() {
    for (rrule, start, json) in d1_rows() {
        assert_valid(&json);
        let g = graph(json.clone());
        // Graph JSON → DTO → JSON is lossless.
        assert_eq!(to_json(&g), json, "{rrule}");
        assert_eq!(
            rrule_of(&g),
            RruleText {
                rrule: rrule.to_owned(),
                start_date: date(start)
            },
            "{json}"
        );
        assert_eq!(
            to_json(&mapped(rrule, start, "Europe/Berlin")),
            json,
            "{rrule}"
        );
        // The zone may be given in Windows spelling too.
        assert_eq!(mapped(rrule, start, BERLIN), g, "{rrule}");
    }
}

/// Expands a rule with the model (09:00 Berlin) over three years.
fn expand(rrule: &str, start: NaiveDate) -> Vec<NaiveDateTime> {
    let spec = SeriesSpec {
        first: None,
        start: start.and_hms_opt(9, 0, 0).expect("valid time"),
        tz: chrono_tz::Europe::Berlin,
        all_day: false,
        duration: Duration::hours(1),
        rrule: rrule.to_owned(),
        exdates: vec![],
        rdates: vec![],
    };
    let from = DateTime::<Utc>::from_naive_utc_and_offset(start.and_time(NaiveTime::MIN), Utc);
    spec.expand(from, from + Duration::days(3 * 366), 2_000)
        .unwrap_or_else(|e| panic!("{rrule}: {e}"))
        .into_iter()
        .map(|i| i.original)
        .collect()
}

/// Rules that map exactly but come back in the canonical spelling: (input, start,
/// canonical). The canonical text maps to the same Graph recurrence and expands (in
/// almanac-model) to the same dates as the input.
#[test]
fn rrule_round_trip_is_equal_up_to_normalisation() {
    for (input, start, canonical) in [
        (
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
            "2026-01-05",
            "FREQ=WEEKLY;BYDAY=MO;WKST=MO",
        ),
        ("FREQ=WEEKLY", "2026-01-07", "FREQ=WEEKLY;BYDAY=WE;WKST=MO"),
        (
            "FREQ=WEEKLY;BYDAY=MO,MO,FR",
            "2026-01-05",
            "FREQ=WEEKLY;BYDAY=MO,FR;WKST=MO",
        ),
        (
            "freq=monthly;interval=1",
            "2026-01-31",
            "FREQ=MONTHLY;BYMONTHDAY=31",
        ),
        (
            "FREQ=MONTHLY;BYDAY=2MO",
            "2026-01-12",
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2",
        ),
        (
            "FREQ=MONTHLY;BYDAY=+1MO",
            "2026-01-05",
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR",
            "2026-01-30",
            "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
        ),
        (
            "FREQ=YEARLY",
            "2026-07-04",
            "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
        ),
        (
            "FREQ=YEARLY;BYMONTH=7",
            "2026-07-04",
            "FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=4",
        ),
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
            "2026-03-29",
            "FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1",
        ),
        (
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            "2026-01-05",
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;WKST=MO",
        ),
        ("FREQ=DAILY;WKST=SU", "2026-01-05", "FREQ=DAILY"),
        (
            "FREQ=DAILY;INTERVAL=1;COUNT=5",
            "2026-01-05",
            "FREQ=DAILY;COUNT=5",
        ),
        // DATE UNTIL on a timed series: the whole day, in UTC.
        (
            "FREQ=DAILY;UNTIL=20260131",
            "2026-01-05",
            "FREQ=DAILY;UNTIL=20260131T225959Z",
        ),
        // Floating UNTIL at the end of the day.
        (
            "FREQ=DAILY;UNTIL=20260131T235959",
            "2026-01-05",
            "FREQ=DAILY;UNTIL=20260131T225959Z",
        ),
        (
            "FREQ=WEEKLY;WKST=SU;BYDAY=MO;INTERVAL=2",
            "2026-01-05",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU",
        ),
    ] {
        let g = mapped(input, start, "Europe/Berlin");
        let out = rrule_of(&g);
        assert_eq!(out.rrule, canonical, "{input}");
        assert_eq!(out.start_date, date(start), "{input}");
        assert_eq!(mapped(canonical, start, "Europe/Berlin"), g, "{canonical}");
        assert_eq!(
            expand(input, date(start)),
            expand(canonical, date(start)),
            "{input}"
        );
    }
}

/// Every Graph shape × interval × range: Graph → RRULE → Graph is the identity and the
/// result passes the schema.
#[test]
fn graph_round_trip_over_all_shapes() {
    let day_sets: [&[&str]; 3] = [
        &["monday"],
        &["sunday", "saturday"],
        &["monday", "tuesday", "wednesday", "thursday", "friday"],
    ];
    let mut patterns = Vec::new();
    for interval in [1, 2, 7] {
        patterns.push(json!({"type": "daily", "interval": interval}));
        for days in day_sets {
            for first in ["sunday", "monday", "wednesday"] {
                patterns.push(json!({"type": "weekly", "interval": interval, "daysOfWeek": days, "firstDayOfWeek": first}));
            }
            for index in ["first", "second", "third", "fourth", "last"] {
                patterns.push(json!({"type": "relativeMonthly", "interval": interval, "daysOfWeek": days, "index": index}));
                for month in [1, 2, 12] {
                    patterns.push(json!({"type": "relativeYearly", "interval": interval, "month": month, "daysOfWeek": days, "index": index}));
                }
            }
        }
        for day in [1, 15, 28, 31] {
            patterns
                .push(json!({"type": "absoluteMonthly", "interval": interval, "dayOfMonth": day}));
        }
        for (month, day) in [(1, 1), (2, 28), (12, 31), (6, 30)] {
            patterns.push(json!({"type": "absoluteYearly", "interval": interval, "month": month, "dayOfMonth": day}));
        }
    }
    let ranges = [
        no_end(),
        json!({"type": "numbered", "numberOfOccurrences": 12}),
        json!({"type": "endDate", "endDate": "2040-12-31"}),
    ];
    let mut count = 0;
    for pattern in &patterns {
        for range in &ranges {
            // Start on the first occurrence after an arbitrary date.
            let probe = graph(rec(pattern.clone(), "2026-02-10", range.clone()));
            let start = rrule_of(&probe).start_date.to_string();
            let json = rec(pattern.clone(), &start, range.clone());
            assert_valid(&json);
            let g = graph(json.clone());
            let out = rrule_of(&g);
            assert_eq!(out.start_date.to_string(), start);
            assert_eq!(
                to_json(&mapped(&out.rrule, &start, BERLIN)),
                json,
                "{}",
                out.rrule
            );
            count += 1;
        }
    }
    assert_eq!(count, patterns.len() * 3);
    assert!(count > 400, "{count}");
}

// ---------------------------------------------------------------- Graph input quirks

#[test]
fn graph_response_with_echoed_defaults_and_unknown_fields() {
    // As Graph returns it: fields irrelevant to the type echoed with zero/default values,
    // plus properties this crate does not know.
    let json = json!({
        "@odata.type": "#microsoft.graph.patternedRecurrence",
        "pattern": {
            "type": "weekly", "interval": 1, "month": 0, "dayOfMonth": 0,
            "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday", "index": "first",
            "futureFlag": {"nested": [1, 2]}
        },
        "range": {
            "type": "noEnd", "startDate": "2026-01-05", "endDate": "0001-01-01",
            "recurrenceTimeZone": "Pacific Standard Time", "numberOfOccurrences": 0,
            "futureRange": "x"
        },
        "futureTop": null
    });
    let g = graph(json.clone());
    assert_eq!(
        to_json(&g),
        json,
        "a serde round trip must keep every field"
    );
    assert_eq!(g.pattern.as_ref().map(|p| p.extra.len()), Some(1));
    assert_eq!(rrule_of(&g).rrule, "FREQ=WEEKLY;BYDAY=MO;WKST=SU");
    let numbered = json!({
        "pattern": {"type": "absoluteMonthly", "interval": 1, "month": 0, "dayOfMonth": 5,
                    "daysOfWeek": [], "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "numbered", "startDate": "2026-01-05", "endDate": "0001-01-01",
                  "recurrenceTimeZone": "", "numberOfOccurrences": 3}
    });
    assert_eq!(
        rrule_of(&graph(numbered)).rrule,
        "FREQ=MONTHLY;BYMONTHDAY=5;COUNT=3"
    );
}

#[test]
fn first_occurrence_may_follow_start_date() {
    let weekly = |first: &str| {
        graph(json!({
            "pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday"], "firstDayOfWeek": first},
            "range": {"type": "noEnd", "startDate": "2026-01-04"}
        }))
    };
    // Sunday 2026-01-04: with Sunday-first weeks the Monday after is in the same week;
    // with Monday-first weeks that week is skipped by INTERVAL=2 (as RFC 5545's WKST).
    assert_eq!(rrule_of(&weekly("sunday")).start_date, date("2026-01-05"));
    assert_eq!(rrule_of(&weekly("monday")).start_date, date("2026-01-12"));
    let monthly = graph(json!({
        "pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["tuesday"], "index": "last"},
        "range": {"type": "numbered", "startDate": "2026-02-01", "numberOfOccurrences": 2}
    }));
    assert_eq!(rrule_of(&monthly).start_date, date("2026-02-24"));
}

#[test]
fn invalid_graph_recurrences_are_errors() {
    let base = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
        "range": {"type": "endDate", "startDate": "2026-01-05", "endDate": "2026-02-01",
                  "recurrenceTimeZone": BERLIN}
    });
    let with = |path: [&str; 2], v: Value| {
        let mut j = base.clone();
        j[path[0]][path[1]] = v;
        to_rrule(&graph(j))
    };
    assert!(to_rrule(&graph(base.clone())).is_ok());
    assert_eq!(
        with(["pattern", "daysOfWeek"], json!([])),
        Err(MappingError::Missing("pattern.daysOfWeek"))
    );
    assert!(matches!(
        with(["pattern", "interval"], json!(0)),
        Err(MappingError::Invalid {
            field: "pattern.interval",
            ..
        })
    ));
    assert!(matches!(
        with(["range", "endDate"], json!("2026-01-04")),
        Err(MappingError::Invalid {
            field: "range.endDate",
            ..
        })
    ));
    assert_eq!(
        with(
            ["range", "recurrenceTimeZone"],
            json!("tzone://Microsoft/Custom")
        ),
        Err(MappingError::UnknownTimeZone(
            "tzone://Microsoft/Custom".into()
        ))
    );
    assert_eq!(
        with(["range", "recurrenceTimeZone"], Value::Null),
        Err(MappingError::Missing("range.recurrenceTimeZone"))
    );
    assert_eq!(
        with(["range", "type"], Value::Null),
        Err(MappingError::Missing("range.type"))
    );
    assert_eq!(
        with(["pattern", "type"], Value::Null),
        Err(MappingError::Missing("pattern.type"))
    );
    let mut j = base.clone();
    j["pattern"] = json!({"type": "absoluteYearly", "interval": 1, "month": 2, "dayOfMonth": 30});
    assert!(matches!(
        to_rrule(&graph(j)),
        Err(MappingError::Invalid {
            field: "pattern.dayOfMonth",
            ..
        })
    ));
    let mut j = base.clone();
    j["range"] = json!({"type": "numbered", "startDate": "2026-01-05", "numberOfOccurrences": 0});
    assert!(to_rrule(&graph(j)).is_err());
    // Day 31 every 12 months starting in April never occurs.
    let mut j = base;
    j["pattern"] = json!({"type": "absoluteMonthly", "interval": 12, "dayOfMonth": 31});
    j["range"]["startDate"] = json!("2026-04-01");
    assert!(matches!(
        to_rrule(&graph(j)),
        Err(MappingError::Invalid {
            field: "pattern",
            ..
        })
    ));
    assert_eq!(
        to_rrule(&PatternedRecurrence::default()),
        Err(MappingError::Missing("pattern"))
    );
}

// ---------------------------------------------------------------- endDate ↔ UNTIL edges

fn end_date_rec(end: &str, zone: &str) -> PatternedRecurrence {
    graph(json!({
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "endDate", "startDate": "2026-03-01", "endDate": end, "recurrenceTimeZone": zone}
    }))
}

#[test]
fn end_date_is_the_last_second_of_that_day_in_the_recurrence_zone() {
    for (end, zone, until, wall) in [
        // Pacific daylight time: the UTC date is the next day.
        (
            "2026-03-31",
            "Pacific Standard Time",
            "20260401T065959Z",
            "2026-03-31T23:59:59",
        ),
        (
            "2026-03-31",
            "UTC",
            "20260331T235959Z",
            "2026-03-31T23:59:59",
        ),
        (
            "2026-03-31",
            "Tokyo Standard Time",
            "20260331T145959Z",
            "2026-03-31T23:59:59",
        ),
        // Santiago springs forward at midnight: 2026-09-06 00:00 does not exist.
        (
            "2026-09-05",
            "Pacific SA Standard Time",
            "20260906T035959Z",
            "2026-09-05T23:59:59",
        ),
        // Santiago falls back at midnight: 23:00–24:00 on 2026-04-04 happens twice and
        // UNTIL must be the second 23:59:59, not the first (02:59:59Z).
        (
            "2026-04-04",
            "Pacific SA Standard Time",
            "20260405T035959Z",
            "2026-04-04T23:59:59",
        ),
    ] {
        let out = rrule_of(&end_date_rec(end, zone));
        assert_eq!(out.rrule, format!("FREQ=DAILY;UNTIL={until}"), "{zone}");
        let tz = windows_zones::parse(zone).expect("known zone");
        let utc = NaiveDateTime::parse_from_str(until, "%Y%m%dT%H%M%SZ").expect("valid");
        let local = to_local(DateTime::<Utc>::from_naive_utc_and_offset(utc, Utc), tz);
        assert_eq!(local.format("%Y-%m-%dT%H:%M:%S").to_string(), wall);
        // And back: the same endDate.
        match from_rrule(&out.rrule, date("2026-03-01"), zone) {
            FromRrule::Mapped(g) => assert_eq!(g, end_date_rec(end, zone)),
            other => panic!("{other:?}"),
        }
    }
    // All-day series are floating: a DATE UNTIL.
    let all_day = to_rrule_all_day(&end_date_rec("2026-03-31", "Pacific Standard Time"));
    assert_eq!(
        all_day.map(|r| r.rrule),
        Ok("FREQ=DAILY;UNTIL=20260331".into())
    );
}

#[test]
fn until_includes_a_late_occurrence_on_the_end_date_in_the_model() {
    // Daily at 23:30 in Los Angeles until 2026-03-31: the last instance is 03-31 23:30.
    let out = rrule_of(&end_date_rec("2026-03-31", "Pacific Standard Time"));
    let spec = SeriesSpec {
        first: None,
        start: date("2026-03-25").and_hms_opt(23, 30, 0).expect("valid"),
        tz: chrono_tz::America::Los_Angeles,
        all_day: false,
        duration: Duration::minutes(15),
        rrule: out.rrule,
        exdates: vec![],
        rdates: vec![],
    };
    let from = DateTime::<Utc>::from_naive_utc_and_offset(
        date("2026-03-20").and_time(NaiveTime::MIN),
        Utc,
    );
    let walls: Vec<String> = spec
        .expand(from, from + Duration::days(30), 100)
        .expect("expands")
        .iter()
        .map(|i| i.original.to_string())
        .collect();
    assert_eq!(walls.len(), 7, "{walls:?}");
    assert_eq!(
        walls.last().map(String::as_str),
        Some("2026-03-31 23:30:00")
    );
}

#[test]
fn until_with_a_time_of_day() {
    let at = |time: &str| {
        date("2026-01-02").and_time(NaiveTime::parse_from_str(time, "%H:%M").expect("valid"))
    };
    let end = |r: FromRrule| match r {
        FromRrule::Mapped(g) => g.range.and_then(|r| r.end_date).map(|d| d.to_string()),
        FromRrule::NotExpressible { reason } => Some(reason),
    };
    // UNTIL = 2026-01-30 09:00 Berlin, an occurrence instant (as "this and following"
    // splits write it): included for a 09:00 series, not for a 10:00 one.
    let rule = "FREQ=WEEKLY;BYDAY=FR;UNTIL=20260130T080000Z";
    assert_eq!(
        end(from_rrule_at(rule, at("09:00"), "Europe/Berlin")).as_deref(),
        Some("2026-01-30")
    );
    assert_eq!(
        end(from_rrule_at(rule, at("10:00"), "Europe/Berlin")).as_deref(),
        Some("2026-01-29")
    );
    // Without the time of day the answer is unknown: refused, never guessed.
    let reason = end(from_rrule(rule, date("2026-01-02"), "Europe/Berlin")).unwrap_or_default();
    assert!(reason.contains("from_rrule_at"), "{reason}");
    // Floating UNTIL is a wall time in the zone.
    let floating = "FREQ=WEEKLY;BYDAY=FR;UNTIL=20260130T090000";
    assert_eq!(
        end(from_rrule_at(floating, at("09:00"), "Europe/Berlin")).as_deref(),
        Some("2026-01-30")
    );
    // An all-day series (midnight) includes the UNTIL day at any time.
    assert_eq!(
        end(from_rrule_at(rule, at("00:00"), "UTC")).as_deref(),
        Some("2026-01-30")
    );
}

// ---------------------------------------------------------------- not expressible

#[test]
fn rules_graph_cannot_express() {
    // (rule, start, words the reason must contain)
    for (rule, start, why) in [
        ("FREQ=HOURLY", "2026-01-05", "FREQ=HOURLY"),
        ("FREQ=MINUTELY;INTERVAL=15", "2026-01-05", "within a day"),
        ("FREQ=SECONDLY", "2026-01-05", "within a day"),
        ("FREQ=DAILY;BYHOUR=9,17", "2026-01-05", "BYHOUR"),
        (
            "FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,30",
            "2026-01-05",
            "BYMINUTE",
        ),
        ("FREQ=DAILY;BYSECOND=0", "2026-01-05", "BYSECOND"),
        ("FREQ=YEARLY;BYYEARDAY=100", "2026-04-10", "BYYEARDAY"),
        ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "2026-05-11", "BYWEEKNO"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1,15",
            "2026-01-01",
            "several BYMONTHDAY",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "2026-01-31", "BYMONTHDAY=-1"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-2",
            "2026-01-30",
            "end of the month",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "2026-01-05", "not a day"),
        (
            "FREQ=MONTHLY;BYDAY=1MO,3WE",
            "2026-01-05",
            "several weekdays",
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO,1TU",
            "2026-01-05",
            "several weekdays",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5",
            "2026-03-30",
            "position 5",
        ),
        ("FREQ=MONTHLY;BYDAY=5MO", "2026-03-30", "position 5"),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-2",
            "2026-01-19",
            "position -2",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1,-1",
            "2026-01-05",
            "several BYSETPOS",
        ),
        (
            "FREQ=MONTHLY;BYDAY=1MO;BYSETPOS=1",
            "2026-01-05",
            "numbered weekdays",
        ),
        ("FREQ=MONTHLY;BYDAY=MO", "2026-01-05", "every such weekday"),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYMONTHDAY=13",
            "2026-04-13",
            "BYMONTHDAY together with BYDAY",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=1",
            "2026-01-01",
            "BYSETPOS without BYDAY",
        ),
        ("FREQ=MONTHLY;BYMONTH=1", "2026-01-05", "BYMONTH"),
        (
            "FREQ=YEARLY;BYMONTH=1,7;BYMONTHDAY=1",
            "2026-01-01",
            "several BYMONTH",
        ),
        ("FREQ=YEARLY;BYMONTHDAY=1", "2026-01-01", "no BYMONTH"),
        ("FREQ=YEARLY;BYDAY=1MO", "2026-01-05", "no BYMONTH"),
        (
            "FREQ=YEARLY;BYMONTH=3;BYDAY=SU",
            "2026-03-01",
            "every such weekday",
        ),
        ("FREQ=YEARLY;BYMONTH=13", "2026-01-05", "not a month"),
        (
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
            "2026-01-05",
            "no day 30",
        ),
        (
            "FREQ=DAILY;COUNT=5;UNTIL=20260201T000000Z",
            "2026-01-05",
            "COUNT and UNTIL",
        ),
        (
            "FREQ=DAILY;INTERVAL=2;BYDAY=MO",
            "2026-01-05",
            "every 2 days",
        ),
        ("FREQ=DAILY;BYMONTH=1", "2026-01-05", "BYMONTH"),
        ("FREQ=DAILY;BYDAY=1MO", "2026-01-05", "numbered weekdays"),
        ("FREQ=WEEKLY;BYDAY=1MO", "2026-01-05", "numbered weekdays"),
        ("FREQ=WEEKLY;BYMONTHDAY=5", "2026-01-05", "BYMONTHDAY"),
        ("FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1", "2026-01-05", "BYSETPOS"),
        // RFC 5545 counts DTSTART even when the rule does not produce it; Graph does not.
        ("FREQ=WEEKLY;BYDAY=MO", "2026-01-07", "does not produce"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=15",
            "2026-01-14",
            "does not produce",
        ),
        ("FREQ=YEARLY;BYMONTH=3", "2026-01-14", "does not produce"),
        (
            "FREQ=DAILY;UNTIL=20251231",
            "2026-01-05",
            "before its first occurrence",
        ),
        ("FREQ=DAILY;X-NAME=1", "2026-01-05", "X-NAME"),
        ("FREQ=DAILY;RSCALE=GREGORIAN", "2026-01-05", "RSCALE"),
        ("FREQ=DAILY;FREQ=WEEKLY", "2026-01-05", "twice"),
        ("FREQ=DAILY;COUNT=0", "2026-01-05", "COUNT=0"),
        ("FREQ=DAILY;INTERVAL=0", "2026-01-05", "INTERVAL=0"),
        ("FREQ=DAILY;INTERVAL=99999999999", "2026-01-05", "INTERVAL"),
        ("FREQ=DAILY;UNTIL=tomorrow", "2026-01-05", "UNTIL"),
        ("FREQ=DAILY;BYDAY=XX", "2026-01-05", "BYDAY"),
        ("FREQ=DAILY;WKST=MONDAY", "2026-01-05", "WKST"),
        ("FREQ=FORTNIGHTLY", "2026-01-05", "not a valid frequency"),
        ("INTERVAL=2", "2026-01-05", "no FREQ"),
        ("", "2026-01-05", "no FREQ"),
        ("FREQ=DAILY;COUNT", "2026-01-05", "KEY=VALUE"),
    ] {
        match from_rrule(rule, date(start), "Europe/Berlin") {
            FromRrule::NotExpressible { reason } => {
                assert!(
                    reason.contains(why),
                    "{rule}: reason {reason:?} lacks {why:?}"
                );
            }
            FromRrule::Mapped(g) => panic!("{rule} mapped to {}", to_json(&g)),
        }
    }
    match from_rrule("FREQ=DAILY", date("2026-01-05"), "Mars/Olympus") {
        FromRrule::NotExpressible { reason } => assert!(reason.contains("Mars/Olympus")),
        other => panic!("{other:?}"),
    }
}
