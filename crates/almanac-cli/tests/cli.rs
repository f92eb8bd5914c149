//! End-to-end tests: the real `almanac` binary on a data directory in a tempdir.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_almanac");

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

/// Runs `almanac --data-dir DIR --tz Europe/Berlin ARGS…`.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["--tz", "Europe/Berlin"])
        .args(args)
        .env_remove("ALMANAC_DATA_DIR")
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| panic!("running almanac: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs and requires success; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "almanac {args:?} failed: {}",
        stderr(&o)
    );
    stdout(&o)
}

/// Runs and requires exit code 1; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert_eq!(
        o.status.code(),
        Some(1),
        "almanac {args:?}: stdout {} stderr {}",
        stdout(&o),
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(err.starts_with("almanac: "), "{err}");
    err
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ok(dir, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn add(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["events", "add"];
    all.extend_from_slice(args);
    ok(dir, &all).trim().to_owned()
}

fn occurrences(dir: &Path, from: &str, to: &str) -> Vec<Value> {
    match json(dir, &["events", "list", "--from", from, "--to", to]) {
        Value::Array(v) => v,
        other => panic!("not an array: {other}"),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Occurrences without the ids, which differ between data directories.
fn comparable(dir: &Path, from: &str, to: &str) -> Vec<Value> {
    occurrences(dir, from, to)
        .into_iter()
        .map(|mut o| {
            if let Value::Object(m) = &mut o {
                m.remove("eventId");
                m.remove("seriesId");
            }
            o
        })
        .collect()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn calendars_list_and_db_check() {
    let d = tempdir();
    let human = ok(d.path(), &["calendars", "list"]);
    assert_eq!(human, "local  On this computer  (primary)\n");
    let cals = json(d.path(), &["calendars", "list"]);
    assert_eq!(cals[0]["id"], "local");
    assert_eq!(cals[0]["name"], "On this computer");
    assert_eq!(cals[0]["canEdit"], true);
    assert_eq!(ok(d.path(), &["db", "check"]), "ok\n");
    assert_eq!(
        json(d.path(), &["db", "check"]),
        serde_json::json!({"ok": true, "problems": []})
    );
}

#[test]
fn timed_event_add_list_edit_rm() {
    let d = tempdir();
    let view = json(
        d.path(),
        &[
            "events",
            "add",
            "--title",
            "Standup",
            "--start",
            "2026-11-23T09:00",
            "--end",
            "2026-11-23T10:00",
            "--location",
            "Room 1",
            "--show-as",
            "free",
            "--importance",
            "high",
            "--category",
            "Team",
        ],
    );
    let id = s(&view, "id").to_owned();
    assert_eq!(view["kind"], "single");
    assert_eq!(view["input"]["timeZone"], "Europe/Berlin");
    assert_eq!(view["input"]["start"], "2026-11-23T09:00:00");
    assert_eq!(view["input"]["showAs"], "free");
    assert_eq!(view["input"]["importance"], "high");
    assert_eq!(view["input"]["categories"], serde_json::json!(["Team"]));

    let human = ok(
        d.path(),
        &[
            "events",
            "list",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ],
    );
    assert_eq!(
        human,
        format!("2026-11-23 09:00–10:00  Standup  [On this computer]  id={id}\n")
    );
    let occ = occurrences(d.path(), "2026-11-23", "2026-11-23");
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0]["start"], "2026-11-23T08:00:00Z");
    assert_eq!(occ[0]["end"], "2026-11-23T09:00:00Z");
    assert_eq!(occ[0]["eventId"], id.as_str());
    assert_eq!(occ[0]["recurring"], false);
    // RFC 3339 range bounds work too; --to DATE is inclusive of the whole day.
    assert_eq!(
        occurrences(d.path(), "2026-11-23T08:30:00Z", "2026-11-23T08:31:00Z").len(),
        1
    );
    assert!(occurrences(d.path(), "2026-11-24", "2026-11-30").is_empty());

    // Only the given fields change; moving the start keeps the length.
    let edited = json(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--title",
            "Daily",
            "--start",
            "2026-11-23T11:00",
        ],
    );
    assert_eq!(edited["input"]["title"], "Daily");
    assert_eq!(edited["input"]["end"], "2026-11-23T12:00:00");
    assert_eq!(edited["input"]["location"], "Room 1");
    assert_eq!(edited["input"]["showAs"], "free");
    // An RFC 3339 instant is written as the wall time in the event's zone.
    ok(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--start",
            "2026-11-23T13:00:00Z",
            "--end",
            "2026-11-23T14:00:00Z",
        ],
    );
    let occ = occurrences(d.path(), "2026-11-23", "2026-11-23");
    assert_eq!(
        (s(&occ[0], "title"), s(&occ[0], "start")),
        ("Daily", "2026-11-23T13:00:00Z")
    );

    let removed = ok(d.path(), &["events", "rm", &id]);
    assert!(removed.contains(&id));
    assert!(occurrences(d.path(), "2026-11-23", "2026-11-23").is_empty());
    let err = fails(d.path(), &["events", "rm", &id]);
    assert!(err.contains("no event"), "{err}");
}

#[test]
fn all_day_events() {
    let d = tempdir();
    let id = add(
        d.path(),
        &["--title", "Holiday", "--start", "2026-11-23", "--all-day"],
    );
    add(
        d.path(),
        &[
            "--title",
            "Trip",
            "--start",
            "2026-11-25",
            "--end",
            "2026-11-28",
            "--all-day",
        ],
    );
    let human = ok(
        d.path(),
        &[
            "events",
            "list",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-30",
        ],
    );
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(
        lines[0],
        format!("2026-11-23  (all day)  Holiday  [On this computer]  id={id}")
    );
    assert!(
        lines[1].starts_with("2026-11-25  (all day, 3 days)  Trip"),
        "{human}"
    );
    let occ = occurrences(d.path(), "2026-11-23", "2026-11-23");
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0]["allDay"], true);
    assert_eq!(
        (s(&occ[0], "start"), s(&occ[0], "end")),
        ("2026-11-23", "2026-11-24")
    );
    // The exclusive end date is refused when it equals the start.
    let err = fails(
        d.path(),
        &[
            "events",
            "add",
            "--title",
            "X",
            "--start",
            "2026-11-23",
            "--end",
            "2026-11-23",
            "--all-day",
        ],
    );
    assert!(err.contains("at least one day"), "{err}");
    // Switching a timed event to all-day derives the dates.
    let t = add(
        d.path(),
        &[
            "--title",
            "Focus",
            "--start",
            "2026-12-01T09:00",
            "--end",
            "2026-12-01T12:00",
        ],
    );
    let v = json(d.path(), &["events", "edit", &t, "--all-day"]);
    assert_eq!(
        (s(&v["input"], "start"), s(&v["input"], "end")),
        ("2026-12-01", "2026-12-02")
    );
}

#[test]
fn all_day_events_are_listed_on_the_local_days_they_name() {
    let d = tempdir();
    for day in ["10", "11", "12"] {
        add(
            d.path(),
            &[
                "--title",
                &format!("ad{day}"),
                "--start",
                &format!("2027-03-{day}"),
                "--all-day",
            ],
        );
    }
    // Stored from UTC midnight to UTC midnight, they used to spill into the day before
    // east of UTC and the day after west of it.
    for zone in [
        "Pacific/Auckland",
        "America/Los_Angeles",
        "Europe/Berlin",
        "UTC",
    ] {
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(d.path())
            .args(["--tz", zone, "--json", "events", "list"])
            .args(["--from", "2027-03-11", "--to", "2027-03-11"])
            .env_remove("ALMANAC_DATA_DIR")
            .output()
            .unwrap_or_else(|e| panic!("running almanac: {e}"));
        assert!(out.status.success(), "{}", stderr(&out));
        let listed: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        let titles: Vec<&str> = listed
            .as_array()
            .map(|a| a.iter().map(|o| s(o, "title")).collect())
            .unwrap_or_default();
        assert_eq!(titles, ["ad11"], "in {zone}");
    }
    // A calendar that does not exist is an error, not an empty list.
    let err = fails(
        d.path(),
        &[
            "events",
            "list",
            "--from",
            "2027-03-11",
            "--to",
            "2027-03-11",
            "--calendar",
            "nope",
        ],
    );
    assert!(err.contains("no calendar \"nope\""), "{err}");
}

#[test]
fn titles_cannot_act_on_the_terminal_or_break_lines() {
    let d = tempdir();
    // As an invitation from someone else could name a meeting.
    let title = "\u{1b}]0;pwned\u{7}\u{1b}[31mRed\nsecond line\u{9b}2J\u{202e}dim\u{2066}";
    let id = add(
        d.path(),
        &[
            "--title",
            title,
            "--start",
            "2026-11-23T09:00",
            "--rrule",
            "FREQ=DAILY;COUNT=1",
        ],
    );
    let human = ok(
        d.path(),
        &[
            "events",
            "list",
            "--from",
            "2026-11-23",
            "--to",
            "2026-11-23",
        ],
    );
    assert_eq!(human.lines().count(), 1, "{human:?}");
    assert!(
        !human.chars().any(|c| c.is_control() && c != '\n'),
        "{human:?}"
    );
    assert!(
        human.contains("\u{FFFD}[31mRed second line\u{FFFD}2J\u{FFFD}dim\u{FFFD}"),
        "{human:?}"
    );
    // An iCalendar file written to stdout keeps the bidirectional marks (they belong
    // to Arabic or Hebrew text), not the control characters.
    let ics = ok(d.path(), &["export", "--ics", "-"]);
    assert!(ics.contains("2J\u{202e}dim\u{2066}"), "{ics:?}");
    assert!(!ics.contains('\u{1b}'), "{ics:?}");
    // JSON keeps the title as it is, escaped.
    let listed = occurrences(d.path(), "2026-11-23", "2026-11-23");
    assert_eq!(s(&listed[0], "title"), title);
    // Messages that quote a title are cleaned the same way.
    let err = fails(
        d.path(),
        &["events", "rm", &id, "--occurrence", "2026-11-23T10:00"],
    );
    assert!(err.contains("\u{FFFD}[31mRed"), "{err:?}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn commands_started_together_take_turns() {
    let d = tempdir();
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(BIN)
                .arg("--data-dir")
                .arg(d.path())
                .args(["--tz", "UTC", "events", "add", "--title", &format!("p{i}")])
                .args(["--start", "2026-11-23T09:00"])
                .env_remove("ALMANAC_DATA_DIR")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("running almanac: {e}"))
        })
        .collect();
    for child in children {
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("waiting: {e}"));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(occurrences(d.path(), "2026-11-23", "2026-11-23").len(), 8);
}

#[test]
fn an_unknown_tz_variable_is_not_used_silently() {
    let d = tempdir();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(d.path())
        .args(["calendars", "list"])
        .env_remove("ALMANAC_DATA_DIR")
        .env("TZ", "Mars/Olympus")
        .output()
        .unwrap_or_else(|e| panic!("running almanac: {e}"));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(
        err.contains("TZ=\"Mars/Olympus\" is not an IANA time zone name"),
        "{err}"
    );
}

#[test]
fn series_occurrence_edit_and_rm() {
    let d = tempdir();
    let id = add(
        d.path(),
        &[
            "--title",
            "Standup",
            "--start",
            "2026-03-16T09:00",
            "--end",
            "2026-03-16T09:15",
            "--rrule",
            "FREQ=WEEKLY;COUNT=4",
        ],
    );
    let human = ok(
        d.path(),
        &[
            "events",
            "list",
            "--from",
            "2026-03-16",
            "--to",
            "2026-03-16",
        ],
    );
    assert!(
        human
            .trim_end()
            .ends_with(&format!("id={id} occurrence=2026-03-16T09:00:00")),
        "{human}"
    );

    let exc = json(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--occurrence",
            "2026-03-23T09:00",
            "--title",
            "Standup (moved)",
            "--start",
            "2026-03-23T10:00",
        ],
    );
    assert_eq!(exc["kind"], "exception");
    assert_eq!(exc["seriesId"], id.as_str());
    assert_eq!(exc["originalStart"], "2026-03-23T09:00:00");
    // The occurrence kept its own length (15 minutes), not the series' first dates.
    assert_eq!(exc["input"]["end"], "2026-03-23T10:15:00");
    // Editing the same occurrence again starts from the exception, not the series.
    let again = json(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--occurrence",
            "2026-03-23T09:00:00",
            "--location",
            "Hall",
        ],
    );
    assert_eq!(again["id"], exc["id"]);
    assert_eq!(again["input"]["title"], "Standup (moved)");
    assert_eq!(again["input"]["start"], "2026-03-23T10:00:00");

    ok(
        d.path(),
        &["events", "rm", &id, "--occurrence", "2026-03-30T09:00"],
    );
    let occ = occurrences(d.path(), "2026-03-01", "2026-04-30");
    let got: Vec<(&str, &str, bool)> = occ
        .iter()
        .map(|o| (s(o, "title"), s(o, "start"), o["exception"] == true))
        .collect();
    assert_eq!(
        got,
        [
            ("Standup", "2026-03-16T08:00:00Z", false),
            ("Standup (moved)", "2026-03-23T09:00:00Z", true),
            // After the DST change, 09:00 Berlin is 07:00 UTC.
            ("Standup", "2026-04-06T07:00:00Z", false),
        ]
    );
    let master = json(
        d.path(),
        &["events", "edit", &id, "--description", "daily sync"],
    );
    assert_eq!(
        master["input"]["recurrence"]["exdates"],
        serde_json::json!(["2026-03-30T09:00:00"])
    );

    // An instant that is not an occurrence, and --occurrence on a single event, fail.
    let err = fails(
        d.path(),
        &["events", "rm", &id, "--occurrence", "2026-03-17T09:00"],
    );
    assert!(err.contains("no occurrence"), "{err}");
    let single = add(d.path(), &["--title", "One", "--start", "2026-03-18T09:00"]);
    let err = fails(
        d.path(),
        &[
            "events",
            "edit",
            &single,
            "--occurrence",
            "2026-03-18T09:00",
            "--title",
            "x",
        ],
    );
    assert!(err.contains("does not repeat"), "{err}");

    // --no-rrule makes it a single event again.
    ok(d.path(), &["events", "edit", &id, "--no-rrule"]);
    let left: Vec<String> = occurrences(d.path(), "2026-03-01", "2026-04-30")
        .iter()
        .map(|o| s(o, "title").to_owned())
        .collect();
    assert_eq!(left, ["Standup", "One"]);
}

#[test]
fn a_series_moved_in_time_keeps_its_deleted_and_far_moved_occurrences() {
    let d = tempdir();
    let id = add(
        d.path(),
        &[
            "--title",
            "Standup",
            "--start",
            "2027-03-01T09:00",
            "--end",
            "2027-03-01T09:30",
            "--rrule",
            "FREQ=DAILY;COUNT=5",
        ],
    );
    ok(
        d.path(),
        &["events", "rm", &id, "--occurrence", "2027-03-02T09:00"],
    );
    // Two years away: an occurrence is found by its key, however far it was moved.
    let far = json(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--occurrence",
            "2027-03-03T09:00",
            "--start",
            "2029-03-02T12:00",
            "--title",
            "Far",
        ],
    );
    let again = json(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--occurrence",
            "2027-03-03T09:00",
            "--description",
            "note",
        ],
    );
    assert_eq!(again["id"], far["id"]);
    assert_eq!(again["input"]["title"], "Far");
    assert_eq!(again["input"]["start"], "2029-03-02T12:00:00");

    // The series moves an hour: the deleted 2nd stays deleted, the 3rd is not doubled.
    ok(
        d.path(),
        &[
            "events",
            "edit",
            &id,
            "--start",
            "2027-03-01T10:00",
            "--end",
            "2027-03-01T10:30",
        ],
    );
    let march: Vec<(String, String)> = occurrences(d.path(), "2027-02-28", "2027-03-10")
        .iter()
        .map(|o| (s(o, "title").to_owned(), s(o, "start").to_owned()))
        .collect();
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        march,
        [
            t("Standup", "2027-03-01T09:00:00Z"),
            t("Standup", "2027-03-04T09:00:00Z"),
            t("Standup", "2027-03-05T09:00:00Z"),
        ]
    );
    let moved = occurrences(d.path(), "2029-03-01", "2029-03-03");
    assert_eq!(moved.len(), 1);
    assert_eq!(s(&moved[0], "title"), "Far");
    assert_eq!(s(&moved[0], "originalStart"), "2027-03-03T10:00:00");

    // An occurrence has no rule of its own to change.
    let exception = s(&far, "id").to_owned();
    let err = fails(
        d.path(),
        &[
            "events",
            "edit",
            &exception,
            "--rrule",
            "FREQ=WEEKLY;COUNT=4",
        ],
    );
    assert!(err.contains("one occurrence of a series"), "{err}");
    let err = fails(
        d.path(),
        &["events", "edit", &exception, "--calendar", "local"],
    );
    assert!(err.contains("stays in the series' calendar"), "{err}");
    assert!(ok(d.path(), &["db", "check"]).contains("ok"));
}

#[test]
fn validation_errors_exit_1_and_write_nothing() {
    let d = tempdir();
    let base = [
        "events",
        "add",
        "--title",
        "Bad",
        "--start",
        "2026-11-23T10:00",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: [(Vec<String>, &str); 4] = [
        (
            with(&["--end", "2026-11-23T09:00"]),
            "ends before it starts",
        ),
        (with(&["--rrule", "FREQ=SOMETIMES"]), "repeat rule"),
        (with(&["--calendar", "nope"]), "no calendar"),
        (with(&["--end", "tomorrow"]), "not a valid date and time"),
    ];
    for (args, msg) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = fails(d.path(), &args);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    let err = fails(
        d.path(),
        &[
            "--tz",
            "Mars/Olympus",
            "events",
            "add",
            "--title",
            "X",
            "--start",
            "2026-11-23T10:00",
        ],
    );
    assert!(err.contains("Unknown time zone \"Mars/Olympus\""), "{err}");
    // JSON errors: {"code","message"} on stderr.
    let o = run(
        d.path(),
        &[
            "--json",
            "events",
            "add",
            "--title",
            " ",
            "--start",
            "2026-11-23T10:00",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e: Value =
        serde_json::from_str(stderr(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["message"], "The title is empty.");
    assert!(o.stdout.is_empty());
    // Usage errors are clap's: exit 2.
    assert_eq!(
        run(d.path(), &["events", "add", "--title", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(d.path(), &["events", "frobnicate"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(
            d.path(),
            &[
                "events",
                "add",
                "--title",
                "x",
                "--start",
                "2026-11-23T10:00",
                "--show-as",
                "maybe"
            ]
        )
        .status
        .code(),
        Some(2)
    );
    assert!(occurrences(d.path(), "2026-11-01", "2026-11-30").is_empty());
    assert_eq!(ok(d.path(), &["db", "check"]), "ok\n");
}

#[test]
fn export_then_import_reproduces_the_occurrences() {
    let a = tempdir();
    let series = add(
        a.path(),
        &[
            "--title",
            "Weekly; sync, Berlin",
            "--start",
            "2026-03-16T09:00",
            "--end",
            "2026-03-16T10:00",
            "--rrule",
            "FREQ=WEEKLY;UNTIL=20260420",
            "--category",
            "Team",
            "--description",
            "line 1\nline 2",
            "--importance",
            "low",
        ],
    );
    ok(
        a.path(),
        &[
            "events",
            "edit",
            &series,
            "--occurrence",
            "2026-03-23T09:00",
            "--title",
            "Moved",
            "--start",
            "2026-03-24T15:00",
            "--end",
            "2026-03-24T16:30",
        ],
    );
    ok(
        a.path(),
        &["events", "rm", &series, "--occurrence", "2026-04-06T09:00"],
    );
    add(
        a.path(),
        &[
            "--title",
            "Holiday",
            "--start",
            "2026-04-03",
            "--end",
            "2026-04-07",
            "--all-day",
            "--show-as",
            "oof",
        ],
    );
    add(
        a.path(),
        &[
            "--tz",
            "America/New_York",
            "--title",
            "NY call",
            "--start",
            "2026-03-20T09:00",
            "--show-as",
            "tentative",
        ],
    );
    add(
        a.path(),
        &[
            "--title",
            "Birthday",
            "--start",
            "2026-03-18",
            "--all-day",
            "--rrule",
            "FREQ=YEARLY",
            "--show-as",
            "free",
        ],
    );

    let file = a.path().join("out.ics");
    let file_s = file.to_string_lossy().into_owned();
    let msg = ok(a.path(), &["export", "--ics", &file_s]);
    assert!(
        msg.contains("Exported 4 events and 1 changed occurrences"),
        "{msg}"
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    for needle in [
        "BEGIN:VCALENDAR\r\n",
        "VERSION:2.0\r\n",
        &format!("UID:{series}\r\n"),
        "DTSTART;TZID=Europe/Berlin:20260316T090000\r\n",
        "RRULE:FREQ=WEEKLY;UNTIL=20260420T215959Z\r\n",
        "EXDATE;TZID=Europe/Berlin:20260406T090000\r\n",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000\r\n",
        "SUMMARY:Weekly\\; sync\\, Berlin\r\n",
        "DESCRIPTION:line 1\\nline 2\r\n",
        "DTSTART;VALUE=DATE:20260403\r\n",
        "DTEND;VALUE=DATE:20260407\r\n",
        "TRANSP:TRANSPARENT\r\n",
        "PRIORITY:9\r\n",
        "CATEGORIES:Team\r\n",
        "DTSTAMP:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 5);
    assert_eq!(text.matches(&format!("UID:{series}")).count(), 2);

    let b = tempdir();
    let msg = ok(b.path(), &["import", "--ics", &file_s]);
    assert!(
        msg.contains("Imported 4 events and 1 changed occurrence from"),
        "{msg}"
    );
    let before = comparable(a.path(), "2026-03-01", "2027-03-31");
    let after = comparable(b.path(), "2026-03-01", "2027-03-31");
    assert_eq!(before.len(), 9, "{before:#?}");
    assert_eq!(before, after);
    // Spot checks: the DST crossing and the exception survived.
    let starts: Vec<&str> = after
        .iter()
        .filter(|o| o["title"] == "Weekly; sync, Berlin")
        .map(|o| s(o, "start"))
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-16T08:00:00Z",
            "2026-03-30T07:00:00Z",
            "2026-04-13T07:00:00Z",
            "2026-04-20T07:00:00Z"
        ]
    );
    assert!(after.iter().any(|o| o["title"] == "Moved"
        && o["exception"] == true
        && o["originalStart"] == "2026-03-23T09:00:00"));
    let imported = occurrences(b.path(), "2026-03-16", "2026-03-16");
    let view = json(
        b.path(),
        &[
            "events",
            "edit",
            s(&imported[0], "eventId"),
            "--location",
            "x",
        ],
    );
    assert_eq!(view["input"]["description"], "line 1\nline 2");
    assert_eq!(view["input"]["importance"], "low");
    assert_eq!(view["input"]["categories"], serde_json::json!(["Team"]));
    // A second export of the imported data has the same events.
    let again = b.path().join("again.ics");
    ok(b.path(), &["export", "--ics", &again.to_string_lossy()]);
    let text2 = std::fs::read_to_string(&again).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text2.matches("BEGIN:VEVENT").count(), 5);
}

#[test]
fn times_in_the_repeated_hour_of_a_fall_back_keep_their_instants() {
    // Europe/Berlin 2027-10-31: 03:00 CEST → 02:00 CET, so 02:00–02:59 happens twice.
    let d = tempdir();
    let spelled = |v: &Value| (v["input"]["start"].clone(), v["input"]["end"].clone());
    // Instants on the command line; from the first 02:30 to the second 02:15.
    let across = json(
        d.path(),
        &[
            "events",
            "add",
            "--title",
            "Across",
            "--start",
            "2027-10-31T00:30:00Z",
            "--end",
            "2027-10-31T01:15:00Z",
        ],
    );
    assert_eq!(
        spelled(&across),
        (
            "2027-10-31T02:30:00".into(),
            "2027-10-31T02:15:00+01:00".into()
        )
    );
    // The offset form directly; moving its start keeps its 30 minutes.
    let second = add(
        d.path(),
        &[
            "--title",
            "Second",
            "--start",
            "2027-10-31T02:10+01:00",
            "--end",
            "2027-10-31T02:40+01:00",
        ],
    );
    let moved = json(
        d.path(),
        &["events", "edit", &second, "--start", "2027-10-31T01:20:00Z"],
    );
    assert_eq!(
        spelled(&moved),
        (
            "2027-10-31T02:20:00+01:00".into(),
            "2027-10-31T02:50:00+01:00".into()
        )
    );
    // Editing another field keeps the times.
    let renamed = json(
        d.path(),
        &["events", "edit", &second, "--title", "Second pass"],
    );
    assert_eq!(spelled(&renamed), spelled(&moved));
    // Another zone reads the wall times there; the offset was Berlin's.
    let other = tempdir();
    let id = add(
        other.path(),
        &["--title", "x", "--start", "2027-10-31T02:10+01:00"],
    );
    let rezoned = json(
        other.path(),
        &[
            "--tz",
            "Europe/London",
            "events",
            "edit",
            &id,
            "--title",
            "y",
        ],
    );
    assert_eq!(
        spelled(&rezoned),
        ("2027-10-31T02:10:00".into(), "2027-10-31T03:10:00".into())
    );
    let want = [
        ("Across", "2027-10-31T00:30:00Z", "2027-10-31T01:15:00Z"),
        (
            "Second pass",
            "2027-10-31T01:20:00Z",
            "2027-10-31T01:50:00Z",
        ),
    ];
    let got = |dir: &Path| -> Vec<(String, String, String)> {
        occurrences(dir, "2027-10-31", "2027-10-31")
            .iter()
            .map(|o| {
                (
                    s(o, "title").into(),
                    s(o, "start").into(),
                    s(o, "end").into(),
                )
            })
            .collect()
    };
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(t, a, b)| ((*t).into(), (*a).into(), (*b).into()))
        .collect();
    assert_eq!(got(d.path()), want);
    // An offset Berlin does not have then is refused.
    let err = fails(
        d.path(),
        &[
            "events",
            "add",
            "--title",
            "x",
            "--start",
            "2027-10-31T02:10+05:00",
        ],
    );
    assert!(
        err.contains("UTC offset that Europe/Berlin does not have"),
        "{err}"
    );

    // ICS: the second pass goes out in UTC (with a TZID it would read as the first) and
    // comes back at the same instants.
    let file = d.path().join("fold.ics");
    ok(d.path(), &["export", "--ics", &file.to_string_lossy()]);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    for line in [
        "DTSTART;TZID=Europe/Berlin:20271031T023000\r\n",
        "DTEND:20271031T011500Z\r\n",
        "DTSTART:20271031T012000Z\r\n",
        "DTEND:20271031T015000Z\r\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let b = tempdir();
    ok(b.path(), &["import", "--ics", &file.to_string_lossy()]);
    assert_eq!(got(b.path()), want);
    // A TZID time in the event's own zone is kept as written, even in a gap.
    let gap = d.path().join("gap.ics");
    write(
        &gap,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:gap-1\r\n\
         DTSTART;TZID=Europe/Berlin:20270328T023000\r\nDTEND;TZID=Europe/Berlin:20270328T040000\r\n\
         SUMMARY:Gap\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let c = tempdir();
    let out = json(c.path(), &["import", "--ics", &gap.to_string_lossy()]);
    let id = out["created"][0].as_str().unwrap_or_default().to_owned();
    let view = json(c.path(), &["events", "edit", &id, "--title", "Gap"]);
    assert_eq!(
        spelled(&view),
        ("2027-03-28T02:30:00".into(), "2027-03-28T04:00:00".into())
    );
}

#[test]
fn import_of_foreign_ics_maps_the_fields() {
    let d = tempdir();
    let file = d.path().join("in.ics");
    write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
         BEGIN:VEVENT\r\nUID:utc-1\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:UTC meeting with a long title that is folded over\r\n  two lines\r\n\
         DTSTART:20260310T140000Z\r\nDURATION:PT45M\r\nPRIORITY:2\r\nTRANSP:TRANSPARENT\r\nCATEGORIES:A,B\\,C\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:allday-1\r\nDTSTART;VALUE=DATE:20260311\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ser-1\r\nSUMMARY:Daily\r\nDTSTART;TZID=/citadel.org/20190101_1/Europe/Berlin:20260312T080000\r\n\
         DTEND;TZID=Europe/Berlin:20260312T083000\r\nRRULE:FREQ=DAILY;COUNT=4\r\nEXDATE;TZID=Europe/Berlin:20260313T080000\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ser-1\r\nRECURRENCE-ID:20260314T070000Z\r\nSTATUS:CANCELLED\r\nDTSTART;TZID=Europe/Berlin:20260314T080000\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ser-1\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260315T080000\r\nSUMMARY:Late\r\n\
         DTSTART;TZID=Europe/Berlin:20260315T180000\r\nDTEND;TZID=Europe/Berlin:20260315T190000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let out = json(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    assert_eq!(out["created"].as_array().map(Vec::len), Some(3));
    assert_eq!(out["exceptions"], 1);
    let occ = occurrences(d.path(), "2026-03-10", "2026-03-16");
    let got: Vec<(&str, &str, &str)> = occ
        .iter()
        .map(|o| (s(o, "title"), s(o, "start"), s(o, "end")))
        .collect();
    assert_eq!(
        got,
        [
            (
                "UTC meeting with a long title that is folded over two lines",
                "2026-03-10T14:00:00Z",
                "2026-03-10T14:45:00Z"
            ),
            ("(no title)", "2026-03-11", "2026-03-12"),
            ("Daily", "2026-03-12T07:00:00Z", "2026-03-12T07:30:00Z"),
            ("Late", "2026-03-15T17:00:00Z", "2026-03-15T18:00:00Z"),
        ]
    );
    assert_eq!(occ[0]["showAs"], "free");
    assert_eq!(occ[0]["importance"], "high");
    assert_eq!(occ[0]["categories"], serde_json::json!(["A", "B,C"]));
    // A single UTC event is shown in the local zone (here --tz Europe/Berlin).
    assert_eq!(occ[0]["timeZone"], "Europe/Berlin");
}

#[test]
fn the_last_day_of_9999_can_be_listed() {
    let d = tempdir();
    add(d.path(), &["--title", "End", "--start", "9999-12-31T10:00"]);
    // Its end of day was an instant of the year 10000, which no query can name.
    let listed = occurrences(d.path(), "9999-12-01", "9999-12-31");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(s(&listed[0], "title"), "End");
}

#[test]
fn importing_a_file_again_makes_no_copies() {
    let d = tempdir();
    let file = d.path().join("in.ics");
    write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
         BEGIN:VEVENT\r\nUID:one-1@example.com\r\nSUMMARY:Kickoff\r\nDTSTART:20260310T140000Z\r\nDURATION:PT45M\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nSUMMARY:No UID\r\nDTSTART;VALUE=DATE:20260311\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ser-1@example.com\r\nSUMMARY:Daily\r\nDTSTART;TZID=Europe/Berlin:20260312T080000\r\n\
         DTEND;TZID=Europe/Berlin:20260312T083000\r\nRRULE:FREQ=DAILY;COUNT=4\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ser-1@example.com\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260314T080000\r\nSUMMARY:Late\r\n\
         DTSTART;TZID=Europe/Berlin:20260314T180000\r\nDTEND;TZID=Europe/Berlin:20260314T190000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let file_s = file.to_string_lossy().into_owned();
    let first = json(d.path(), &["import", "--ics", &file_s]);
    assert_eq!(
        first["created"].as_array().map(Vec::len),
        Some(3),
        "{first}"
    );
    assert_eq!(first["skippedExisting"], serde_json::json!([]));
    assert_eq!(first["withoutUid"], 1, "{first}");
    let before = occurrences(d.path(), "2026-03-10", "2026-03-16");
    assert_eq!(before.len(), 6, "{before:#?}");
    let series = s(&before[2], "seriesId").to_owned();
    let kickoff = s(&before[0], "eventId").to_owned();
    // An edit made here after the import stays.
    ok(
        d.path(),
        &["events", "edit", &series, "--title", "Daily (mine)"],
    );

    let no_uid = s(&before[1], "eventId").to_owned();
    let msg_first = ok(tempdir().path(), &["import", "--ics", &file_s]);
    assert!(
        msg_first.contains("1 event had no UID: it is known by its details instead, so importing this file again skips it while the file's event stays the same."),
        "{msg_first}"
    );

    // Again: every event is already here, the one without a UID found by its details.
    let again = json(d.path(), &["import", "--ics", &file_s]);
    assert_eq!(again["created"], serde_json::json!([]), "{again}");
    assert_eq!(again["exceptions"], 0);
    assert_eq!(again["withoutUid"], 0, "{again}");
    let skipped = again["skippedExisting"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(skipped.len(), 3, "{again}");
    assert_eq!(
        skipped[0],
        serde_json::json!({"uid": "one-1@example.com", "id": kickoff})
    );
    assert!(
        s(&skipped[1], "uid").starts_with("almanac-details-"),
        "{again}"
    );
    assert_eq!(skipped[1]["id"], no_uid.as_str());
    assert_eq!(
        skipped[2],
        serde_json::json!({"uid": "ser-1@example.com", "id": series})
    );
    let after = occurrences(d.path(), "2026-03-10", "2026-03-16");
    let titles: Vec<&str> = after.iter().map(|o| s(o, "title")).collect();
    assert_eq!(
        titles,
        [
            "Kickoff",
            "No UID",
            "Daily (mine)",
            "Daily (mine)",
            "Late",
            "Daily (mine)"
        ]
    );
    let msg = ok(d.path(), &["import", "--ics", &file_s]);
    assert!(
        msg.contains("Imported 0 events and 0 changed occurrences")
            && msg.contains("Skipped 3 events already in this calendar (the same UID or, for one without, the same details)")
            && !msg.contains("no UID"),
        "{msg}"
    );

    // The same event without a UID from a later export (another DTSTAMP, folded
    // otherwise) is found too; one whose details changed is a new event, and one the
    // file has twice is taken once.
    let later = d.path().join("later.ics");
    write(
        &later,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
         BEGIN:VEVENT\r\nDTSTAMP:20260401T101010Z\r\nSUMMARY:No \r\n UID\r\nDTSTART;VALUE=DATE:20260311\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nSUMMARY:No UID, moved\r\nDTSTART;VALUE=DATE:20260312\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nDTSTAMP:20260401T101010Z\r\nSUMMARY:No UID, moved\r\nDTSTART;VALUE=DATE:20260312\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let later = json(d.path(), &["import", "--ics", &later.to_string_lossy()]);
    assert_eq!(
        later["created"].as_array().map(Vec::len),
        Some(1),
        "{later}"
    );
    assert_eq!(later["duplicatesInFile"], 1, "{later}");
    assert_eq!(later["withoutUid"], 1, "{later}");
    assert_eq!(
        later["skippedExisting"][0]["id"],
        no_uid.as_str(),
        "{later}"
    );
    let moved = later["created"][0].as_str().unwrap_or_default().to_owned();
    ok(d.path(), &["events", "rm", &moved]);

    // Export keeps the file's UIDs; an event made here goes out under its id. Importing
    // the export back, here or twice elsewhere, makes no copies either.
    let out = d.path().join("out.ics");
    ok(d.path(), &["export", "--ics", &out.to_string_lossy()]);
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        text.matches("UID:one-1@example.com\r\n").count(),
        1,
        "{text}"
    );
    assert_eq!(
        text.matches("UID:ser-1@example.com\r\n").count(),
        2,
        "{text}"
    );
    // The event without one goes out under the UID made for it.
    assert_eq!(text.matches("UID:almanac-details-").count(), 1, "{text}");
    let out_s = out.to_string_lossy().into_owned();
    let back = json(d.path(), &["import", "--ics", &out_s]);
    assert_eq!(back["created"], serde_json::json!([]), "{back}");
    assert_eq!(back["skippedExisting"].as_array().map(Vec::len), Some(3));
    let b = tempdir();
    let once = json(b.path(), &["import", "--ics", &out_s]);
    assert_eq!(once["created"].as_array().map(Vec::len), Some(3), "{once}");
    let twice = json(b.path(), &["import", "--ics", &out_s]);
    assert_eq!(twice["created"], serde_json::json!([]), "{twice}");
    assert_eq!(
        comparable(d.path(), "2026-03-01", "2026-03-31"),
        comparable(b.path(), "2026-03-01", "2026-03-31")
    );

    // Piped from an export of the same directory: the import reads its input before
    // it takes the directory (it held it first and the export, blocked, wrote nothing).
    let mut export = Command::new(BIN)
        .arg("--data-dir")
        .arg(d.path())
        .args(["--tz", "Europe/Berlin", "export", "--ics", "-"])
        .env_remove("ALMANAC_DATA_DIR")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let piped = Command::new(BIN)
        .arg("--data-dir")
        .arg(d.path())
        .args([
            "--json",
            "--tz",
            "Europe/Berlin",
            "import",
            "--ics",
            "/dev/stdin",
        ])
        .env_remove("ALMANAC_DATA_DIR")
        .stdin(export.stdout.take().unwrap_or_else(|| panic!("stdout")))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(export.wait().is_ok_and(|s| s.success()));
    assert!(piped.status.success(), "{}", stderr(&piped));
    let piped: Value = serde_json::from_slice(&piped.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(piped["created"], serde_json::json!([]), "{piped}");

    // A UID no real producer writes is refused, not kept.
    let long = d.path().join("long.ics");
    write(
        &long,
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:{}\r\n\
             DTSTART:20260310T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "u".repeat(1025)
        ),
    );
    let err = fails(d.path(), &["import", "--ics", &long.to_string_lossy()]);
    assert!(
        err.contains("its UID is longer than 1024 characters"),
        "{err}"
    );
}

#[test]
fn a_uid_with_control_characters_is_one_uid_everywhere() {
    let d = tempdir();
    let file = d.path().join("ctl.ics");
    write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:ctl\u{1}x\r\n\
         SUMMARY:Ctl\r\nDTSTART:20261110T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    // Kept as U+FFFD: a file and stdout carry the same UID (a terminal-safe stdout
    // used to differ from the file, and importing it back made a copy).
    let out = d.path().join("out.ics");
    ok(d.path(), &["export", "--ics", &out.to_string_lossy()]);
    let in_file = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    let on_stdout = ok(d.path(), &["export", "--ics", "-"]);
    assert!(in_file.contains("UID:ctl\u{FFFD}x\r\n"), "{in_file:?}");
    assert!(on_stdout.contains("UID:ctl\u{FFFD}x"), "{on_stdout:?}");
    let again = json(d.path(), &["import", "--ics", &out.to_string_lossy()]);
    assert_eq!(again["created"], serde_json::json!([]), "{again}");
}

#[test]
fn a_file_of_several_calendars_imports_them_all() {
    let d = tempdir();
    let cal = |uid: &str, day: u32| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
             SUMMARY:{uid}\r\nDTSTART:202603{day:02}T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    };
    // Exports joined with `cat`: the parser alone read only the first calendar. (An
    // exporter's byte-order mark begins each.)
    let joined = d.path().join("joined.ics");
    write(
        &joined,
        &format!(
            "{}\r\n\u{feff}{}{}",
            cal("A", 10),
            cal("B", 11),
            cal("C", 12)
        ),
    );
    let out = json(d.path(), &["import", "--ics", &joined.to_string_lossy()]);
    assert_eq!(out["created"].as_array().map(Vec::len), Some(3), "{out}");
    let titles: Vec<String> = occurrences(d.path(), "2026-03-10", "2026-03-12")
        .iter()
        .map(|o| s(o, "title").to_owned())
        .collect();
    assert_eq!(titles, ["A", "B", "C"]);
    // A mistake in a later calendar is named by its line in the whole file.
    let bad = d.path().join("bad.ics");
    write(
        &bad,
        &format!(
            "{}{}",
            cal("D", 13),
            cal("E", 14).replace("END:VEVENT", "END:VTODO")
        ),
    );
    let err = fails(d.path(), &["import", "--ics", &bad.to_string_lossy()]);
    assert!(
        err.contains("near unfolded line 17: \"END:VTODO\""),
        "{err}"
    );
    assert_eq!(
        occurrences(d.path(), "2026-03-13", "2026-03-14"),
        Vec::<Value>::new()
    );
}

#[test]
fn a_date_exdate_in_a_timed_series_removes_that_days_occurrence() {
    let d = tempdir();
    let file = d.path().join("in.ics");
    write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Daily\r\n\
         DTSTART;TZID=Europe/Berlin:20260310T140000\r\nDTEND;TZID=Europe/Berlin:20260310T150000\r\n\
         RRULE:FREQ=DAILY;COUNT=4\r\nEXDATE;VALUE=DATE:20260311,20260313\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    let keys: Vec<String> = occurrences(d.path(), "2026-03-09", "2026-03-15")
        .iter()
        .map(|o| s(o, "originalStart").to_owned())
        .collect();
    assert_eq!(keys, ["2026-03-10T14:00:00", "2026-03-12T14:00:00"]);
}

#[test]
fn an_outlook_file_with_windows_zone_names_imports() {
    let d = tempdir();
    let file = d.path().join("outlook.ics");
    // As Outlook exports: Windows zone names in TZID, quoted, with their VTIMEZONE.
    write(
        &file,
        "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n\
         VERSION:2.0\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n\
         BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n\
         DTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n\
         TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:outlook-1\r\nSUMMARY:Quarterly review\r\n\
         DTSTART;TZID=\"W. Europe Standard Time\":20260310T090000\r\n\
         DTEND;TZID=\"W. Europe Standard Time\":20260310T100000\r\n\
         RRULE:FREQ=WEEKLY;COUNT=4\r\n\
         EXDATE;TZID=\"W. Europe Standard Time\":20260317T090000\r\n\
         END:VEVENT\r\nBEGIN:VEVENT\r\nUID:outlook-2\r\nSUMMARY:Call with Tokyo\r\n\
         DTSTART;TZID=Tokyo Standard Time:20260312T170000\r\n\
         DTEND;TZID=Tokyo Standard Time:20260312T173000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    let got: Vec<(String, String, String)> = occurrences(d.path(), "2026-03-01", "2026-04-30")
        .iter()
        .map(|o| {
            let (title, start, zone) = (s(o, "title"), s(o, "start"), s(o, "timeZone"));
            (title.to_owned(), start.to_owned(), zone.to_owned())
        })
        .collect();
    let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        got,
        [
            t("Quarterly review", "2026-03-10T08:00:00Z", "Europe/Berlin"),
            t("Call with Tokyo", "2026-03-12T08:00:00Z", "Asia/Tokyo"),
            // 17 March is the EXDATE; after 29 March 09:00 Berlin is 07:00Z.
            t("Quarterly review", "2026-03-24T08:00:00Z", "Europe/Berlin"),
            t("Quarterly review", "2026-03-31T07:00:00Z", "Europe/Berlin"),
        ]
    );
}

#[test]
fn import_with_a_bad_vevent_writes_nothing_and_names_it() {
    let d = tempdir();
    let file = d.path().join("bad.ics");
    write(
        &file,
        "BEGIN:VCALENDAR\r\n\
         BEGIN:VEVENT\r\nUID:good-1\r\nSUMMARY:Fine\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:bad-1\r\nSUMMARY:Backwards\r\nDTSTART:20260310T100000Z\r\nDTEND:20260310T090000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:bad-2\r\nSUMMARY:Nowhere\r\nDTSTART;TZID=Mars/Olympus:20260310T100000\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:bad-3\r\nRECURRENCE-ID:20260310T090000Z\r\nDTSTART:20260310T090000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:good-2\r\nDTSTART:20260311T090000Z\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:old\r\nDTSTART:14000101T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:short\r\nDTSTART:2026031T090000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:nozone\r\nDTSTART;TZID=:20260310T090000\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let err = fails(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    assert!(err.contains("Nothing was imported: 7 of 8 events"), "{err}");
    // A date a digit short is no date (it read as the first of March), and an empty
    // TZID no zone (it read as a floating time).
    assert!(
        err.contains(
            "VEVENT #7 (UID short): DTSTART \"2026031T090000Z\" is not a date or date-time."
        ),
        "{err}"
    );
    assert!(
        err.contains("VEVENT #8 (UID nozone): DTSTART has an empty TZID"),
        "{err}"
    );
    // Daily from the year 1400: stored, it failed every listing of every calendar.
    assert!(
        err.contains("VEVENT #6 (UID old): The repeat rule \"FREQ=DAILY\" from 1400-01-01 repeats too often for so long"),
        "{err}"
    );
    assert!(
        err.contains("VEVENT #2 (UID bad-1): The event ends before it starts."),
        "{err}"
    );
    assert!(
        err.contains("VEVENT #3 (UID bad-2): unknown time zone \"Mars/Olympus\""),
        "{err}"
    );
    assert!(
        err.contains("VEVENT #4 (UID bad-3): its RECURRENCE-ID"),
        "{err}"
    );
    assert!(
        err.contains("VEVENT #5 (UID good-2): The repeat rule"),
        "{err}"
    );
    assert!(!err.contains("good-1"), "{err}");
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());

    let garbage = d.path().join("garbage.ics");
    write(&garbage, "this is not a calendar\n");
    let err = fails(d.path(), &["import", "--ics", &garbage.to_string_lossy()]);
    assert!(err.contains("not valid iCalendar"), "{err}");
    let err = fails(
        d.path(),
        &[
            "import",
            "--ics",
            &d.path().join("missing.ics").to_string_lossy(),
        ],
    );
    assert!(err.contains("missing.ics"), "{err}");
}

/// A line that is no property (`NAME;PARAMS:value`) is named, and nothing imported:
/// the parser read such a DTSTART as none (the event imported with no length), and
/// the second line of a badly folded description as a property of its own.
#[test]
fn import_names_a_line_that_is_no_property() {
    let d = tempdir();
    let file = |name: &str, bad: &str| {
        let f = d.path().join(name);
        write(
            &f,
            &format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:e1\r\n\
                 SUMMARY:Kickoff\r\n{bad}\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n\
                 END:VCALENDAR\r\n"
            ),
        );
        f.to_string_lossy().into_owned()
    };
    for (name, bad, why) in [
        (
            "start.ics",
            "DTSTART;TZID=Europe/Berlin 20260310T090000",
            "the line has no ':'",
        ),
        (
            "folded.ics",
            "DTSTART:20260310T090000Z\r\nDESCRIPTION:Agenda\r\nPricing",
            "the line has no ':'",
        ),
        (
            "quote.ics",
            "DTSTART:20260310T090000Z\r\nATTENDEE;CN=\"Doe:mailto:ann@example.com",
            "quote is never closed",
        ),
        (
            "name.ics",
            "DTSTART:20260310T090000Z\r\n:no name",
            "no property name",
        ),
    ] {
        let err = fails(d.path(), &["import", "--ics", &file(name, bad)]);
        let last = bad.rsplit("\r\n").next().expect("a line");
        let line = 7 + bad.matches("\r\n").count();
        assert!(
            err.contains(&format!("near unfolded line {line}: \"{last}\"")) && err.contains(why),
            "{name}: {err}"
        );
    }
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());
}

#[test]
fn import_says_what_it_leaves_out_and_refuses_what_is_no_calendar() {
    let d = tempdir();
    let event = "BEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Kickoff\r\nDTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n";
    let todo = "BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Send notes\r\nEND:VTODO\r\n";
    let journal = "BEGIN:VJOURNAL\r\nUID:j1\r\nSUMMARY:Notes\r\nEND:VJOURNAL\r\n";
    let cal = |body: &str| {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{body}END:VCALENDAR\r\n")
    };
    let file = |name: &str, text: &str| {
        let f = d.path().join(name);
        write(&f, text);
        f.to_string_lossy().into_owned()
    };
    // A vCard, or an event with no calendar around it: nothing to import, said so.
    let vcard = file(
        "card.ics",
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nEND:VCARD\r\n",
    );
    let err = fails(d.path(), &["import", "--ics", &vcard]);
    assert!(
        err.contains("not valid iCalendar") && err.contains("BEGIN:VCARD"),
        "{err}"
    );
    let bare = file("bare.ics", event);
    let err = fails(d.path(), &["import", "--ics", &bare]);
    assert!(err.contains("where BEGIN:VCALENDAR was expected"), "{err}");
    // An event inside another, or inside a time zone: refused, not dropped.
    let nested = event.replace(
        "END:VEVENT\r\n",
        &format!("{}END:VEVENT\r\n", event.replace("e1", "e2")),
    );
    let err = fails(
        d.path(),
        &["import", "--ics", &file("nested.ics", &cal(&nested))],
    );
    assert!(
        err.contains("VEVENT #1 (UID e1): it holds another VEVENT"),
        "{err}"
    );
    let in_zone = format!("BEGIN:VTIMEZONE\r\nTZID:X\r\n{event}END:VTIMEZONE\r\n");
    let err = fails(
        d.path(),
        &["import", "--ics", &file("inzone.ics", &cal(&in_zone))],
    );
    assert!(err.contains("a VEVENT inside a VTIMEZONE"), "{err}");
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());
    // To-dos and journal entries are left out, and the summary says so.
    let mixed = file("mixed.ics", &cal(&format!("{todo}{event}{journal}")));
    let out = ok(d.path(), &["import", "--ics", &mixed]);
    assert!(
        out.contains("Left out 2 components that are not events (VJOURNAL, VTODO)"),
        "{out}"
    );
    assert_eq!(occurrences(d.path(), "2026-03-01", "2026-03-31").len(), 1);
}

#[test]
fn a_usage_error_with_json_is_a_json_error() {
    let d = tempdir();
    let o = run(d.path(), &["--json", "events", "add", "--title", "x"]);
    assert_eq!(o.status.code(), Some(2));
    let err: Value = serde_json::from_slice(&o.stderr)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert_eq!(err["code"], "invalid_input", "{err}");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("--start")),
        "{err}"
    );
    // Without --json, clap's own words, the same exit code.
    let o = run(d.path(), &["events", "add", "--title", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--start"));
}

#[test]
fn oversize_and_overfull_files_are_refused() {
    let d = tempdir();
    let big = d.path().join("big.ics");
    write(&big, &"X".repeat(10 * 1024 * 1024 + 1));
    let err = fails(d.path(), &["import", "--ics", &big.to_string_lossy()]);
    assert!(err.contains("larger than 10 MiB"), "{err}");

    let many = d.path().join("many.ics");
    let mut text = String::from("BEGIN:VCALENDAR\r\n");
    for i in 0..10_001 {
        text.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{i}\r\nDTSTART:20260310T090000Z\r\nEND:VEVENT\r\n"
        ));
    }
    text.push_str("END:VCALENDAR\r\n");
    write(&many, &text);
    let err = fails(d.path(), &["import", "--ics", &many.to_string_lossy()]);
    assert!(
        err.contains("10001 events") && err.contains("at most 10000"),
        "{err}"
    );
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());
}

#[test]
fn deeply_nested_blocks_are_refused_not_a_stack_overflow() {
    let d = tempdir();
    let deep = d.path().join("deep.ics");
    let n = 1000;
    write(
        &deep,
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
             BEGIN:VEVENT\r\nUID:fine\r\nDTSTART:20260310T090000Z\r\nEND:VEVENT\r\n{}{}END:VCALENDAR\r\n",
            "BEGIN:X\r\n".repeat(n),
            "END:X\r\n".repeat(n)
        ),
    );
    let err = fails(d.path(), &["import", "--ics", &deep.to_string_lossy()]);
    assert!(err.contains("nest more than 8 deep"), "{err}");
    assert!(err.contains("Nothing was imported"), "{err}");
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());

    // What real files nest (VCALENDAR > VEVENT > VALARM, VTIMEZONE > STANDARD) imports.
    let real = d.path().join("real.ics");
    write(
        &real,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
         BEGIN:VEVENT\r\nUID:alarm\r\nSUMMARY:With alarm\r\nDTSTART;TZID=Europe/Berlin:20260310T090000\r\n\
         BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nBEGIN:X-DEEPER\r\nEND:X-DEEPER\r\nEND:VALARM\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let out = json(d.path(), &["import", "--ics", &real.to_string_lossy()]);
    assert_eq!(out["created"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_file_of_ten_thousand_events_imports_all_of_them() {
    // Each property's value used to be searched to the end of the file (about 50 s for
    // this file); now the import reads it in a couple of seconds. Not timed here: the
    // test checks that every event lands, in CRLF with folded lines and in LF alone.
    let d = tempdir();
    for (name, eol) in [("crlf.ics", "\r\n"), ("lf.ics", "\n")] {
        let mut text = format!("BEGIN:VCALENDAR{eol}VERSION:2.0{eol}PRODID:test{eol}");
        for i in 0..10_000 {
            text.push_str(&format!(
                "BEGIN:VEVENT{eol}UID:{name}-{i}{eol}DTSTAMP:20260101T000000Z{eol}\
                 SUMMARY:Event {i} with a title{eol}  folded{eol}\
                 DTSTART:20260310T090000Z{eol}DTEND:20260310T093000Z{eol}\
                 LOCATION:Room {i}{eol}X-FOO:bar{eol}END:VEVENT{eol}"
            ));
        }
        text.push_str(&format!("END:VCALENDAR{eol}"));
        let file = d.path().join(name);
        write(&file, &text);
        let out = json(d.path(), &["import", "--ics", &file.to_string_lossy()]);
        assert_eq!(out["created"].as_array().map(Vec::len), Some(10_000));
    }
    let occ = occurrences(d.path(), "2026-03-10", "2026-03-10");
    assert_eq!(occ.len(), 20_000);
    assert!(occ
        .iter()
        .any(|o| o["title"] == "Event 9999 with a title folded" && o["location"] == "Room 9999"));
}

#[test]
fn trailing_whitespace_in_values_survives_export_and_import() {
    let a = tempdir();
    add(
        a.path(),
        &[
            "--title",
            "Spaces",
            "--start",
            "2026-03-10T09:00",
            "--description",
            "trailing spaces   ",
            "--location",
            " loc ",
        ],
    );
    let file = a.path().join("out.ics");
    ok(a.path(), &["export", "--ics", &file.to_string_lossy()]);
    let b = tempdir();
    ok(b.path(), &["import", "--ics", &file.to_string_lossy()]);
    let occ = occurrences(b.path(), "2026-03-10", "2026-03-10");
    assert_eq!(occ.len(), 1);
    assert_eq!(occ[0]["location"], " loc ");
    let again = ok(b.path(), &["export", "--ics", "-"]);
    assert!(
        again.contains("DESCRIPTION:trailing spaces   \r\n"),
        "{again}"
    );

    // LF-only files too, where a folded line's continuation carries the spaces.
    let lf = b.path().join("lf.ics");
    write(
        &lf,
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:lf\nSUMMARY:LF\nDTSTART:20260311T090000Z\n\
         LOCATION:folded\n  room  \nEND:VEVENT\nEND:VCALENDAR\n",
    );
    ok(b.path(), &["import", "--ics", &lf.to_string_lossy()]);
    let occ = occurrences(b.path(), "2026-03-11", "2026-03-11");
    assert_eq!(occ[0]["location"], "folded room  ");

    // Spaces after a BEGIN or END line, or after a value that is not text, still read.
    let padded = b.path().join("padded.ics");
    write(
        &padded,
        "BEGIN:VCALENDAR  \r\nBEGIN:VEVENT \r\nUID:padded \r\nSUMMARY:Padded \r\n\
         DTSTART:20260312T100000Z \r\nDURATION:PT1H \r\nTRANSP:TRANSPARENT \r\n\
         END:VEVENT\t\r\nEND:VCALENDAR \r\n",
    );
    ok(b.path(), &["import", "--ics", &padded.to_string_lossy()]);
    let occ = occurrences(b.path(), "2026-03-12", "2026-03-12");
    assert_eq!(
        (s(&occ[0], "title"), s(&occ[0], "end"), s(&occ[0], "showAs")),
        ("Padded", "2026-03-12T11:00:00Z", "free")
    );
}

#[test]
fn a_duration_in_days_is_nominal_across_dst() {
    // Europe/Berlin springs forward on 2026-03-29: 02:00 CET → 03:00 CEST.
    let d = tempdir();
    let file = d.path().join("dur.ics");
    let ev = |uid: &str, start: &str, dur: &str| {
        format!("BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{uid}\r\n{start}\r\nDURATION:{dur}\r\nEND:VEVENT\r\n")
    };
    let berlin = "DTSTART;TZID=Europe/Berlin:20260328T120000";
    write(
        &file,
        &format!(
            "BEGIN:VCALENDAR\r\n{}{}{}{}{}END:VCALENDAR\r\n",
            ev("day", berlin, "P1D"),
            ev("day-and-hour", berlin, "P1DT1H"),
            ev("hours", berlin, "PT24H"),
            ev("week", "DTSTART;TZID=Europe/Berlin:20260325T120000", "P1W"),
            ev("utc", "DTSTART:20260328T110000Z", "P1D"),
        ),
    );
    ok(d.path(), &["import", "--ics", &file.to_string_lossy()]);
    let occ = occurrences(d.path(), "2026-03-25", "2026-03-29");
    let end = |title: &str| {
        let o = occ
            .iter()
            .find(|o| o["title"] == title)
            .unwrap_or_else(|| panic!("{title} missing in {occ:?}"));
        s(o, "end").to_owned()
    };
    // Same wall time the next day (12:00 CEST), not 24 hours later (13:00 CEST).
    assert_eq!(end("day"), "2026-03-29T10:00:00Z");
    assert_eq!(end("day-and-hour"), "2026-03-29T11:00:00Z");
    assert_eq!(end("hours"), "2026-03-29T11:00:00Z");
    assert_eq!(end("week"), "2026-04-01T10:00:00Z");
    // A UTC start has no DST: a day is 24 hours.
    assert_eq!(end("utc"), "2026-03-29T11:00:00Z");

    // A duration too long for any calendar is refused, not a crash.
    for (start, dur) in [
        ("DTSTART;VALUE=DATE:20260310", "P99999999999999D"),
        ("DTSTART:20260310T100000Z", "PT9999999999999999S"),
        ("DTSTART:20260310T100000Z", "P99999999999999D"),
    ] {
        let bad = d.path().join("bad.ics");
        write(
            &bad,
            &format!(
                "BEGIN:VCALENDAR\r\n{}END:VCALENDAR\r\n",
                ev("big", start, dur)
            ),
        );
        let err = fails(d.path(), &["import", "--ics", &bad.to_string_lossy()]);
        assert!(
            err.contains(&format!("DURATION \"{dur}\" is not valid")),
            "{err}"
        );
    }
}

#[test]
fn export_of_a_window_carries_exceptions_moved_out_of_it() {
    let a = tempdir();
    let id = add(
        a.path(),
        &[
            "--title",
            "S",
            "--start",
            "2026-03-02T09:00",
            "--rrule",
            "FREQ=WEEKLY;COUNT=5",
        ],
    );
    ok(
        a.path(),
        &[
            "events",
            "edit",
            &id,
            "--occurrence",
            "2026-03-09T09:00",
            "--start",
            "2026-05-01T09:00",
        ],
    );
    let file = a.path().join("w.ics");
    let out = json(
        a.path(),
        &[
            "export",
            "--ics",
            &file.to_string_lossy(),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
        ],
    );
    assert_eq!(out["events"], 1);
    assert_eq!(out["exceptions"], 1);
    let b = tempdir();
    ok(b.path(), &["import", "--ics", &file.to_string_lossy()]);
    let before = comparable(a.path(), "2026-03-01", "2026-05-31");
    let after = comparable(b.path(), "2026-03-01", "2026-05-31");
    assert_eq!(before.len(), 5, "{before:#?}");
    assert_eq!(before, after);
    assert!(!after.iter().any(|o| o["start"] == "2026-03-09T08:00:00Z"));
}

/// `--exdate` must name an occurrence (as `events list` shows it): a wrong time is
/// refused with that day's occurrences named, and nothing is written.
#[test]
fn a_removed_date_that_is_no_occurrence_is_refused() {
    let d = tempdir();
    let series = [
        "events",
        "add",
        "--title",
        "Standup",
        "--start",
        "2026-12-07T09:00",
        "--end",
        "2026-12-07T09:15",
        "--rrule",
        "FREQ=DAILY;COUNT=5",
        "--exdate",
    ];
    let err = fails(d.path(), &[&series[..], &["2026-12-08T09:30"]].concat());
    assert!(
        err.contains("\"2026-12-08T09:30\" is not an occurrence")
            && err.contains("that day: 2026-12-08T09:00"),
        "{err}"
    );
    assert!(occurrences(d.path(), "2026-12-06", "2026-12-14").is_empty());

    let id = ok(d.path(), &[&series[..], &["2026-12-08T09:00"]].concat());
    let id = id.trim();
    let o = run(
        d.path(),
        &[
            "--json",
            "events",
            "edit",
            id,
            "--exdate",
            "2026-12-20T09:00",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let e: Value =
        serde_json::from_str(stderr(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    assert_eq!(e["code"], "invalid_input");
    assert!(s(&e, "message").contains("no occurrence that day"), "{e}");
    // Four left: the 8th removed, the refused edit changed nothing.
    assert_eq!(occurrences(d.path(), "2026-12-06", "2026-12-14").len(), 4);
}

/// Exports joined that overlap have some VEVENTs twice: the same ones are taken once
/// (and said so); two different ones under one UID are still refused, nothing written.
#[test]
fn a_file_with_an_event_twice_takes_it_once() {
    let d = tempdir();
    let export = |title: &str| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
             BEGIN:VEVENT\r\nUID:one\r\nSUMMARY:One\r\nDTSTART:20260310T140000Z\r\n\
             DTEND:20260310T150000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:daily\r\nSUMMARY:Daily\r\nDTSTART:20260311T090000Z\r\n\
             DTEND:20260311T093000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:daily\r\nRECURRENCE-ID:20260312T090000Z\r\nSUMMARY:{title}\r\n\
             DTSTART:20260312T100000Z\r\nDTEND:20260312T103000Z\r\nEND:VEVENT\r\n\
             END:VCALENDAR\r\n"
        )
    };
    let joined = d.path().join("joined.ics");
    write(&joined, &format!("{}{}", export("Moved"), export("Moved")));
    let out = json(d.path(), &["import", "--ics", &joined.to_string_lossy()]);
    assert_eq!(out["created"].as_array().map(Vec::len), Some(2), "{out}");
    assert_eq!(out["exceptions"], 1, "{out}");
    assert_eq!(out["duplicatesInFile"], 3, "{out}");
    let titles: Vec<String> = occurrences(d.path(), "2026-03-10", "2026-03-13")
        .iter()
        .map(|o| s(o, "title").to_owned())
        .collect();
    assert_eq!(titles, ["One", "Daily", "Moved", "Daily"]);

    // The human summary says so.
    let e = tempdir();
    let said = ok(e.path(), &["import", "--ics", &joined.to_string_lossy()]);
    assert!(
        said.contains("3 VEVENTs the file had twice, the same, taken once"),
        "{said}"
    );

    // The same occurrence changed two ways: refused, nothing written.
    let f = tempdir();
    let clash = f.path().join("clash.ics");
    write(
        &clash,
        &format!("{}{}", export("Moved"), export("Moved again")),
    );
    let err = fails(f.path(), &["import", "--ics", &clash.to_string_lossy()]);
    assert!(
        err.contains(
            "another VEVENT changes the occurrence 2026-03-12T09:00:00 too, differently, and \
             neither SEQUENCE, DTSTAMP nor LAST-MODIFIED tells which is newest"
        ),
        "{err}"
    );
    assert!(occurrences(f.path(), "2026-03-10", "2026-03-13").is_empty());
}

/// A file with two versions of one event (an invitation and its update saved into one
/// file, exports of two days joined): the newest is taken, as iTIP orders them — the
/// higher SEQUENCE, then the later DTSTAMP, then LAST-MODIFIED — wherever it stands in
/// the file; an occurrence's versions the same; an older version's change of a series
/// its update moved goes with it; a series whose newest version cancels it goes with
/// its changed occurrences. Only versions nothing orders are refused.
#[test]
fn a_file_with_two_versions_of_an_event_takes_the_newest() {
    let vevent = |uid: &str, extra: &str, title: &str, start: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\n{extra}SUMMARY:{title}\r\nDTSTART:{start}\r\n\
             DURATION:PT30M\r\nEND:VEVENT\r\n"
        )
    };
    let cal = |body: &str| {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{body}END:VCALENDAR\r\n")
    };
    let parts = [
        // The update first, its invitation after: SEQUENCE decides, not the order.
        vevent("plan", "SEQUENCE:2\r\n", "Plan (moved)", "20260310T150000Z"),
        vevent("plan", "SEQUENCE:1\r\n", "Plan", "20260310T140000Z"),
        // One SEQUENCE: the later DTSTAMP, though its LAST-MODIFIED is older.
        vevent(
            "review",
            "DTSTAMP:20260305T000000Z\r\nLAST-MODIFIED:20260301T100000Z\r\n",
            "Review",
            "20260311T100000Z",
        ),
        vevent(
            "review",
            "DTSTAMP:20260304T000000Z\r\nLAST-MODIFIED:20260302T100000Z\r\n",
            "Review (old)",
            "20260311T100000Z",
        ),
        // One SEQUENCE and one DTSTAMP (one export): the later LAST-MODIFIED.
        vevent(
            "sync",
            "DTSTAMP:20260305T000000Z\r\nLAST-MODIFIED:20260301T100000Z\r\n",
            "Sync (old)",
            "20260311T120000Z",
        ),
        vevent(
            "sync",
            "DTSTAMP:20260305T000000Z\r\nLAST-MODIFIED:20260302T100000Z\r\n",
            "Sync",
            "20260311T120000Z",
        ),
        // A series with two versions of one changed occurrence.
        vevent(
            "daily",
            "RRULE:FREQ=DAILY;COUNT=3\r\n",
            "Daily",
            "20260312T090000Z",
        ),
        vevent(
            "daily",
            "RECURRENCE-ID:20260313T090000Z\r\nSEQUENCE:3\r\n",
            "Daily (late)",
            "20260313T110000Z",
        ),
        vevent(
            "daily",
            "RECURRENCE-ID:20260313T090000Z\r\nSEQUENCE:2\r\n",
            "Daily (early)",
            "20260313T080000Z",
        ),
        // A series, one changed occurrence, then its cancellation.
        vevent(
            "gone",
            "RRULE:FREQ=DAILY;COUNT=3\r\n",
            "Gone",
            "20260312T120000Z",
        ),
        vevent(
            "gone",
            "RECURRENCE-ID:20260313T120000Z\r\n",
            "Gone (moved)",
            "20260313T130000Z",
        ),
        vevent(
            "gone",
            "RRULE:FREQ=DAILY;COUNT=3\r\nSEQUENCE:1\r\nSTATUS:CANCELLED\r\n",
            "Gone",
            "20260312T120000Z",
        ),
        // An invitation with a changed occurrence, then its update moving the series
        // an hour later: the old occurrence's change is not one of the new series.
        vevent(
            "standup",
            "RRULE:FREQ=DAILY;COUNT=2\r\n",
            "Standup",
            "20260316T090000Z",
        ),
        vevent(
            "standup",
            "RECURRENCE-ID:20260317T090000Z\r\nSEQUENCE:1\r\n",
            "Standup (late)",
            "20260317T093000Z",
        ),
        vevent(
            "standup",
            "RRULE:FREQ=DAILY;COUNT=2\r\nSEQUENCE:2\r\n",
            "Standup",
            "20260316T100000Z",
        ),
        // A SEQUENCE that is not a number does not matter where nothing is ordered.
        vevent("odd", "SEQUENCE:two\r\n", "Odd", "20260310T160000Z"),
    ];
    let at = |t: &str, start: &str| (t.to_owned(), start.to_owned());
    let expected = [
        at("Plan (moved)", "2026-03-10T15:00:00Z"),
        at("Odd", "2026-03-10T16:00:00Z"),
        at("Review", "2026-03-11T10:00:00Z"),
        at("Sync", "2026-03-11T12:00:00Z"),
        at("Daily", "2026-03-12T09:00:00Z"),
        at("Daily (late)", "2026-03-13T11:00:00Z"),
        at("Daily", "2026-03-14T09:00:00Z"),
        at("Standup", "2026-03-16T10:00:00Z"),
        at("Standup", "2026-03-17T10:00:00Z"),
    ];
    // The file, then the same VEVENTs in reverse order: the same events.
    let reversed: Vec<String> = parts.iter().rev().cloned().collect();
    for body in [parts.concat(), reversed.concat()] {
        let d = tempdir();
        let file = d.path().join("versions.ics");
        write(&file, &cal(&body));
        let out = json(d.path(), &["import", "--ics", &file.to_string_lossy()]);
        assert_eq!(out["created"].as_array().map(Vec::len), Some(6), "{out}");
        assert_eq!(
            (
                &out["exceptions"],
                &out["olderInFile"],
                &out["duplicatesInFile"],
                &out["skippedCancelled"]
            ),
            (
                &serde_json::json!(1),
                &serde_json::json!(7),
                &serde_json::json!(0),
                &serde_json::json!(1)
            ),
            "{out}"
        );
        let seen: Vec<(String, String)> = occurrences(d.path(), "2026-03-10", "2026-03-19")
            .iter()
            .map(|o| (s(o, "title").to_owned(), s(o, "start").to_owned()))
            .collect();
        assert_eq!(seen, expected);

        // Imported again: everything is already here, and only versions of what is
        // not (the cancelled series, skipped again) are counted.
        let again = json(d.path(), &["import", "--ics", &file.to_string_lossy()]);
        assert_eq!(
            (
                &again["olderInFile"],
                &again["duplicatesInFile"],
                &again["skippedCancelled"]
            ),
            (
                &serde_json::json!(1),
                &serde_json::json!(0),
                &serde_json::json!(1)
            ),
            "{again}"
        );
        assert_eq!(again["skippedExisting"].as_array().map(Vec::len), Some(6));
    }

    // The human summary says so.
    let e = tempdir();
    let file = e.path().join("versions.ics");
    write(&file, &cal(&parts.concat()));
    let said = ok(e.path(), &["import", "--ics", &file.to_string_lossy()]);
    assert!(
        said.contains("7 older VEVENTs the file also has a newer version of"),
        "{said}"
    );

    // Versions nothing orders: one SEQUENCE and one stamp; stamps that contradict one
    // another (A's DTSTAMP is later than B's, B's LAST-MODIFIED later than C's, C's
    // than A's, C without DTSTAMP); a SEQUENCE that is not a number. All refused, the
    // changed occurrence of a refused series with them, nothing written.
    let f = tempdir();
    let tie = f.path().join("tie.ics");
    let stamp = "DTSTAMP:20260301T000000Z\r\n";
    write(
        &tie,
        &cal(&[
            vevent(
                "plan",
                &format!("{stamp}RRULE:FREQ=DAILY;COUNT=2\r\n"),
                "Plan",
                "20260310T140000Z",
            ),
            vevent(
                "plan",
                &format!("{stamp}RRULE:FREQ=DAILY;COUNT=2\r\n"),
                "Plan (moved)",
                "20260310T150000Z",
            ),
            vevent(
                "plan",
                "RECURRENCE-ID:20260311T150000Z\r\n",
                "Plan (late)",
                "20260311T160000Z",
            ),
            vevent(
                "ring",
                "DTSTAMP:20260302T000000Z\r\nLAST-MODIFIED:20260201T000000Z\r\n",
                "A",
                "20260312T090000Z",
            ),
            vevent(
                "ring",
                "DTSTAMP:20260301T000000Z\r\nLAST-MODIFIED:20260203T000000Z\r\n",
                "B",
                "20260312T090000Z",
            ),
            vevent(
                "ring",
                "LAST-MODIFIED:20260202T000000Z\r\n",
                "C",
                "20260312T090000Z",
            ),
            vevent("odd", "SEQUENCE:two\r\n", "Odd", "20260310T160000Z"),
            vevent("odd", "SEQUENCE:3\r\n", "Odd (moved)", "20260310T170000Z"),
        ]
        .concat()),
    );
    let err = fails(f.path(), &["import", "--ics", &tie.to_string_lossy()]);
    let nothing = "neither SEQUENCE, DTSTAMP nor LAST-MODIFIED tells which is newest.";
    for part in [
        format!("VEVENT #2 (UID plan): another VEVENT has the same UID and no RECURRENCE-ID, with other details, and {nothing}"),
        format!("VEVENT #5 (UID ring): another VEVENT has the same UID and no RECURRENCE-ID, with other details, and {nothing}"),
        format!("VEVENT #6 (UID ring): another VEVENT has the same UID and no RECURRENCE-ID, with other details, and {nothing}"),
        "VEVENT #8 (UID odd): another VEVENT has the same UID and no RECURRENCE-ID, with other details, and a SEQUENCE (\"two\") is not a whole number, so nothing tells which is newest.".to_owned(),
    ] {
        assert!(err.contains(&part), "{part}\n{err}");
    }
    assert!(err.contains("4 of 8 events cannot be imported"), "{err}");
    assert!(occurrences(f.path(), "2026-03-10", "2026-03-13").is_empty());
}

/// `almanac --data-dir DIR --tz ZONE ARGS…`, required to succeed; its stdout.
fn ok_in(dir: &Path, zone: &str, args: &[&str]) -> String {
    let o = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(["--tz", zone])
        .args(args)
        .env_remove("ALMANAC_DATA_DIR")
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| panic!("running almanac: {e}"));
    assert!(o.status.success(), "almanac {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// An all-day series' day named by a date-time (`EXDATE:20260324T000000Z`) is the day
/// written: west of UTC it removed, and its change replaced, the day before. A
/// cancellation of a day the series already removes says nothing new (it refused the
/// file). A character a fold splits is read whole (it refused the file as not UTF-8).
#[test]
fn import_reads_days_as_written_and_what_other_writers_fold() {
    let d = tempdir();
    let f = d.path().join("days.ics");
    let mut text = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n\
         BEGIN:VEVENT\r\nUID:s1\r\nSUMMARY:Site week\r\nDTSTART;VALUE=DATE:20260323\r\n\
         DTEND;VALUE=DATE:20260324\r\nRRULE:FREQ=DAILY;COUNT=5\r\n\
         EXDATE:20260324T000000Z\r\nEXDATE;TZID=Europe/Berlin:20260327T090000\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:s1\r\nRECURRENCE-ID:20260326T000000Z\r\nSUMMARY:Site week (audit)\r\n\
         DTSTART;VALUE=DATE:20260326\r\nDTEND;VALUE=DATE:20260327\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:s1\r\nRECURRENCE-ID;VALUE=DATE:20260327\r\nSTATUS:CANCELLED\r\n\
         DTSTART;VALUE=DATE:20260327\r\nDTEND;VALUE=DATE:20260328\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:k1\r\nSUMMARY:K",
    );
    text.push_str("\u{e4}se tasting\r\nDTSTART:20260330T160000Z\r\nDTEND:20260330T170000Z\r\n");
    text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    // "Kä" with the ä's two bytes either side of a fold.
    let mut bytes = text.into_bytes();
    let at = bytes
        .windows(2)
        .position(|w| w == [0xC3, 0xA4])
        .expect("an ä");
    bytes.splice(at + 1..at + 1, *b"\r\n ");
    std::fs::write(&f, &bytes).expect("write");
    ok_in(
        d.path(),
        "America/New_York",
        &["import", "--ics", &f.to_string_lossy()],
    );
    let listed: Value = serde_json::from_str(&ok_in(
        d.path(),
        "America/New_York",
        &[
            "--json",
            "events",
            "list",
            "--from",
            "2026-03-20",
            "--to",
            "2026-04-01",
        ],
    ))
    .expect("json");
    let seen: Vec<(String, String)> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|o| (s(o, "title").to_owned(), s(o, "start")[..10].to_owned()))
        .collect();
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        seen,
        [
            t("Site week", "2026-03-23"),
            t("Site week", "2026-03-25"),
            t("Site week (audit)", "2026-03-26"),
            t("Käse tasting", "2026-03-30"),
        ]
    );
}

/// A calendar whose METHOD is CANCEL (RFC 5546: what a cancelled invitation carries)
/// cancels each of its events, whatever their own STATUS: it added them as new events.
#[test]
fn a_cancellation_file_adds_no_events() {
    let d = tempdir();
    let f = d.path().join("cancel.ics");
    write(
        &f,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nMETHOD:CANCEL\r\n\
         BEGIN:VEVENT\r\nUID:m1\r\nSEQUENCE:1\r\nSUMMARY:Renewal call\r\n\
         DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:m2\r\nSUMMARY:QBR\r\n\
         DTSTART:20260311T090000Z\r\nDTEND:20260311T100000Z\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let out = ok(d.path(), &["import", "--ics", &f.to_string_lossy()]);
    assert!(out.contains("Skipped 2 cancelled events"), "{out}");
    assert!(occurrences(d.path(), "2026-03-01", "2026-03-31").is_empty());
}

/// A TZID is a label; the file's VTIMEZONE says what it means. Read by its name alone,
/// `TZID:GMT` defined as the UK's GMT/BST put summer events an hour late, and
/// Outlook's `Customized Time Zone` refused the file.
#[test]
fn import_reads_a_tzid_by_its_vtimezone() {
    let file = |d: &Path, name: &str, vtimezone: &str, tzid: &str| {
        let f = d.join(name);
        write(
            &f,
            &format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{vtimezone}\
                 BEGIN:VEVENT\r\nUID:{name}\r\nSUMMARY:Talk\r\n\
                 DTSTART;TZID=\"{tzid}\":20260723T102000\r\n\
                 DTEND;TZID=\"{tzid}\":20260723T105000\r\nEND:VEVENT\r\n\
                 BEGIN:VEVENT\r\nUID:{name}-winter\r\nSUMMARY:Talk\r\n\
                 DTSTART;TZID=\"{tzid}\":20261203T102000\r\n\
                 DTEND;TZID=\"{tzid}\":20261203T105000\r\nEND:VEVENT\r\n\
                 END:VCALENDAR\r\n"
            ),
        );
        f.to_string_lossy().into_owned()
    };
    let observances = |std_from: &str, std_to: &str, name: &str| {
        format!(
            "BEGIN:VTIMEZONE\r\nTZID:{name}\r\n\
             BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
             TZOFFSETFROM:{std_to}\r\nTZOFFSETTO:{std_from}\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n\
             TZOFFSETFROM:{std_from}\r\nTZOFFSETTO:{std_to}\r\nEND:DAYLIGHT\r\n\
             END:VTIMEZONE\r\n"
        )
    };
    let starts = |d: &Path| -> Vec<(String, String)> {
        let listed: Value = serde_json::from_str(&ok_in(
            d,
            "America/New_York",
            &[
                "--json",
                "events",
                "list",
                "--from",
                "2026-07-01",
                "--to",
                "2026-12-31",
            ],
        ))
        .expect("json");
        listed
            .as_array()
            .expect("a list")
            .iter()
            .map(|o| (s(o, "start").to_owned(), s(o, "timeZone").to_owned()))
            .collect()
    };
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());

    // GMT that keeps British summer time.
    let d = tempdir();
    let f = file(
        d.path(),
        "gmt.ics",
        &observances("+0000", "+0100", "GMT"),
        "GMT",
    );
    ok_in(d.path(), "America/New_York", &["import", "--ics", &f]);
    assert_eq!(
        starts(d.path()),
        [
            t("2026-07-23T09:20:00Z", "Europe/London"),
            t("2026-12-03T10:20:00Z", "Europe/London")
        ]
    );

    // Outlook's custom zone with Central European rules, imported in New York: the
    // main zone of those rules, not the first alphabetically (Africa/Ceuta).
    let d = tempdir();
    let custom = "Customized Time Zone";
    let f = file(
        d.path(),
        "custom.ics",
        &observances("+0100", "+0200", custom),
        custom,
    );
    ok_in(d.path(), "America/New_York", &["import", "--ics", &f]);
    assert_eq!(
        starts(d.path()),
        [
            t("2026-07-23T08:20:00Z", "Europe/Berlin"),
            t("2026-12-03T09:20:00Z", "Europe/Berlin")
        ]
    );

    // A definition cut short (no daylight time) of a zone that has it: the name wins.
    let d = tempdir();
    let short = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:STANDARD\r\n\
                 DTSTART:19700101T000000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0500\r\n\
                 END:STANDARD\r\nEND:VTIMEZONE\r\n";
    let f = file(d.path(), "short.ics", short, "America/New_York");
    ok_in(d.path(), "Europe/Berlin", &["import", "--ics", &f]);
    assert_eq!(
        starts(d.path()),
        [
            t("2026-07-23T14:20:00Z", "America/New_York"),
            t("2026-12-03T15:20:00Z", "America/New_York")
        ]
    );

    // Offsets no zone has: refused by name, nothing imported.
    let d = tempdir();
    let f = file(
        d.path(),
        "odd.ics",
        &observances("+0317", "+0417", "Odd"),
        "Odd",
    );
    let err = fails(d.path(), &["import", "--ics", &f]);
    assert!(
        err.contains("\"Odd\" (TZID): its VTIMEZONE gives offsets no known time zone has"),
        "{err}"
    );
    assert!(occurrences(d.path(), "2026-07-01", "2026-12-31").is_empty());
}

/// A series whose first end falls in the second pass of a fall-back night: its export
/// wrote that end with the TZID, read back as the first pass — each occurrence an hour
/// shorter, or (an end before the first pass's start) a file its own import refused.
#[test]
fn a_series_ending_in_the_repeated_hour_keeps_its_length_through_export() {
    let d = tempdir();
    let f = d.path().join("fold-series.ics");
    write(
        &f,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n\
         BEGIN:VEVENT\r\nUID:fold-a\r\nSUMMARY:Night shift\r\n\
         DTSTART;TZID=Europe/Berlin:20261025T013000\r\nDTEND:20261025T013000Z\r\n\
         RRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:fold-b\r\nSUMMARY:Short\r\n\
         DTSTART;TZID=Europe/Berlin:20261025T023000\r\nDTEND:20261025T011500Z\r\n\
         RRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &f.to_string_lossy()]);
    let before = comparable(d.path(), "2026-10-20", "2026-11-05");
    assert_eq!(before.len(), 4, "{before:?}");
    let out = d.path().join("out.ics");
    ok(d.path(), &["export", "--ics", &out.to_string_lossy()]);
    let b = tempdir();
    ok(b.path(), &["import", "--ics", &out.to_string_lossy()]);
    assert_eq!(comparable(b.path(), "2026-10-20", "2026-11-05"), before);
}

/// An instant names an occurrence in a DST gap by the time after the gap (Berlin's
/// 02:30 on the spring night is 01:30Z, 03:30 there): as an EXDATE it matched nothing
/// and the day stayed; as a RECURRENCE-ID the file was refused.
#[test]
fn import_finds_an_occurrence_in_a_dst_gap_by_its_instant() {
    let d = tempdir();
    let f = d.path().join("gap-series.ics");
    write(
        &f,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n\
         BEGIN:VEVENT\r\nUID:night\r\nSUMMARY:Night check\r\n\
         DTSTART;TZID=Europe/Berlin:20260327T023000\r\nDTEND;TZID=Europe/Berlin:20260327T030000\r\n\
         RRULE:FREQ=DAILY;COUNT=4\r\nEXDATE:20260329T013000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:day\r\nSUMMARY:Early call\r\n\
         DTSTART;TZID=Europe/Berlin:20260327T023000\r\nDTEND;TZID=Europe/Berlin:20260327T030000\r\n\
         RRULE:FREQ=DAILY;COUNT=4\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:day\r\nRECURRENCE-ID:20260329T013000Z\r\nSUMMARY:Early call (moved)\r\n\
         DTSTART;TZID=Europe/Berlin:20260329T080000\r\nDTEND;TZID=Europe/Berlin:20260329T083000\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &f.to_string_lossy()]);
    let seen: Vec<(String, String)> = occurrences(d.path(), "2026-03-27", "2026-03-31")
        .iter()
        .map(|o| (s(o, "title").to_owned(), s(o, "start").to_owned()))
        .collect();
    let night: Vec<&str> = seen
        .iter()
        .filter(|(t, _)| t == "Night check")
        .map(|(_, s)| &s[..10])
        .collect();
    assert_eq!(
        night,
        ["2026-03-27", "2026-03-28", "2026-03-30"],
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(t, s)| t == "Early call (moved)" && s == "2026-03-29T06:00:00Z"),
        "{seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|(t, s)| t == "Early call" && s.starts_with("2026-03-29")),
        "{seen:?}"
    );
}

/// A series starting in the second pass of a fall-back night (02:30 CET, 01:30Z, on
/// Berlin's 25 October) listed its first occurrence at the first pass, an hour early.
#[test]
fn a_series_starting_in_the_repeated_hour_starts_when_it_was_given() {
    let d = tempdir();
    add(
        d.path(),
        &[
            "--title",
            "Night shift",
            "--start",
            "2026-10-25T01:30:00Z",
            "--end",
            "2026-10-25T02:00:00Z",
            "--rrule",
            "FREQ=DAILY;COUNT=2",
        ],
    );
    let seen: Vec<(String, String)> = occurrences(d.path(), "2026-10-24", "2026-10-27")
        .iter()
        .map(|o| (s(o, "start").to_owned(), s(o, "end").to_owned()))
        .collect();
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        seen,
        [
            t("2026-10-25T01:30:00Z", "2026-10-25T02:00:00Z"),
            t("2026-10-26T01:30:00Z", "2026-10-26T02:00:00Z")
        ]
    );
}

/// Who may see an event goes out with it: a private appointment exported and read
/// back anywhere was public.
#[test]
fn an_export_keeps_who_may_see_an_event() {
    let d = tempdir();
    let f = d.path().join("class.ics");
    write(
        &f,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n\
         BEGIN:VEVENT\r\nUID:c1\r\nSUMMARY:Doctor\r\nCLASS:PRIVATE\r\n\
         DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:c2\r\nSUMMARY:Board\r\nCLASS:CONFIDENTIAL\r\n\
         DTSTART:20260311T090000Z\r\nDTEND:20260311T100000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:c3\r\nSUMMARY:Standup\r\n\
         DTSTART:20260312T090000Z\r\nDTEND:20260312T100000Z\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    ok(d.path(), &["import", "--ics", &f.to_string_lossy()]);
    let out = d.path().join("out.ics");
    ok(
        d.path(),
        &[
            "export",
            "--ics",
            &out.to_string_lossy(),
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-31",
        ],
    );
    let text = std::fs::read_to_string(&out).expect("export");
    let class_of = |uid: &str| {
        let event = text
            .split("BEGIN:VEVENT")
            .find(|v| v.contains(&format!("UID:{uid}\r\n")))
            .unwrap_or_else(|| panic!("{uid} in {text}"));
        event
            .lines()
            .find_map(|l| l.strip_prefix("CLASS:"))
            .map(str::to_owned)
    };
    assert_eq!(class_of("c1").as_deref(), Some("PRIVATE"));
    assert_eq!(class_of("c2").as_deref(), Some("CONFIDENTIAL"));
    assert_eq!(class_of("c3"), None);
}
