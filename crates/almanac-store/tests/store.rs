use almanac_model::{
    Attendee, AttendeeKind, EditScope, ErrorCode, EventChange, EventInput, EventMeeting, EventMove,
    EventTarget, Importance, MeetingProvider, OnlineMeeting, Person, Provider, RangeQuery,
    RecurrenceInput, Response, ShowAs,
};
use almanac_store::{DataDir, RemoteCalendarRow, SignedIn, Source, Store, StoreError};
use chrono::{DateTime, Utc};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open_at(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    (dir, store)
}

fn event(title: &str, start: &str, end: &str, tz: &str) -> EventInput {
    EventInput {
        calendar_id: "local".into(),
        title: title.into(),
        all_day: false,
        start: start.into(),
        end: end.into(),
        time_zone: tz.into(),
        recurrence: None,
        location: "Room 1".into(),
        description: "Agenda".into(),
        show_as: ShowAs::Busy,
        importance: Importance::High,
        categories: vec!["Customer".into()],
    }
}

fn weekly(mut e: EventInput, rule: &str) -> EventInput {
    e.recurrence = Some(RecurrenceInput {
        rrule: rule.into(),
        exdates: vec![],
        rdates: vec![],
    });
    e
}

fn range(from: &str, to: &str) -> RangeQuery {
    RangeQuery {
        from: from.into(),
        to: to.into(),
        calendar_ids: None,
    }
}

fn titles_and_starts(store: &mut Store, from: &str, to: &str) -> Vec<(String, String)> {
    store
        .list_occurrences(&range(from, to))
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|o| (o.title, o.start))
        .collect()
}

fn count(store: &Store, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(store.data_dir().join(almanac_store::DB_FILE_NAME))
        .unwrap_or_else(|e| panic!("{e}"));
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(-1)
}

/// A synced single event with provider id `remote_id`, nothing else set.
fn synced(remote_id: &str, input: EventInput) -> almanac_store::SyncedEvent {
    almanac_store::SyncedEvent {
        remote_id: Some(remote_id.into()),
        ical_uid: None,
        etag: None,
        kind: almanac_model::EventKind::Single,
        series_id: None,
        original_start: None,
        input,
        body_html: None,
        sensitivity: almanac_model::Sensitivity::Normal,
        organizer: None,
        attendees: vec![],
        online_meeting: None,
        reminder_minutes: None,
        provider_extra: None,
        cancelled: false,
    }
}

/// A synced one-hour review with remote id `r{i}`.
fn review(i: usize) -> almanac_store::SyncedEvent {
    synced(
        &format!("r{i}"),
        event(
            &format!("Review {i}"),
            "2026-12-01T09:00:00",
            "2026-12-01T10:00:00",
            "UTC",
        ),
    )
}

/// Signs in a Google account; its id.
fn google_account(s: &mut Store) -> String {
    let (account, _) = ok(s.record_sign_in(
        &SignedIn {
            provider: Provider::Google,
            subject: "https://accounts.google.com/1234".into(),
            email: "csm@example.com".into(),
            display_name: "Casey".into(),
            authority: "https://accounts.google.com".into(),
        },
        now().timestamp(),
    ));
    account.id
}

/// The primary calendar of a Google account signed in here; its id.
fn work_calendar(s: &mut Store) -> String {
    let account = google_account(s);
    let listed = ok(s.sync_calendar_list(
        &account,
        &[RemoteCalendarRow {
            remote_id: "primary".into(),
            name: "Alex".into(),
            color: "#0b8043".into(),
            can_edit: true,
            is_primary: true,
            owner_email: None,
        }],
    ));
    listed.calendars[0].id.clone()
}

fn ok<T>(r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn first_start_has_the_local_calendar_and_private_files() {
    let (dir, store) = open();
    let cals = ok(store.list_calendars());
    assert_eq!(cals.len(), 1);
    assert_eq!(cals[0].id, "local");
    assert_eq!(cals[0].name, "On this computer");
    assert!(cals[0].can_edit);
    assert_eq!(ok(store.schema_version()), almanac_store::SCHEMA_VERSION);
    assert!(ok(store.check()).is_empty());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join(almanac_store::DB_FILE_NAME))
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o600);
}

#[test]
fn a_second_instance_on_the_same_directory_is_refused() {
    let (dir, _store) = open();
    let err = Store::open_at(dir.path()).expect_err("second open must fail");
    assert_eq!(err.code(), ErrorCode::Locked);
    assert!(err.to_string().contains("already running"), "{err}");
}

#[test]
fn a_lock_can_wait_for_the_other_process_to_let_go() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let held = ok(DataDir::lock(dir.path()));
    let wait = std::time::Duration::from_millis(150);
    let started = std::time::Instant::now();
    let err = DataDir::lock_within(dir.path(), wait).expect_err("still held");
    assert_eq!(err.code(), ErrorCode::Locked);
    assert!(
        started.elapsed() >= wait,
        "gave up before the wait was over"
    );
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(held);
    });
    ok(DataDir::lock_within(
        dir.path(),
        std::time::Duration::from_secs(10),
    ));
    release.join().unwrap_or_else(|_| panic!("release thread"));
}

#[test]
fn a_database_from_a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    drop(ok(Store::open_at(dir.path())));
    let db = dir.path().join(almanac_store::DB_FILE_NAME);
    let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    conn.pragma_update(None, "user_version", 99)
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    let err = Store::open_at(dir.path()).expect_err("newer schema must be refused");
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    let conn = rusqlite::Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap_or(0);
    assert_eq!(v, 99);
}

#[test]
fn reopening_keeps_events_and_foreign_keys_are_enforced() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let mut s = ok(Store::open_at(dir.path()));
        ok(s.create_event(
            event(
                "Kickoff",
                "2026-11-23T09:00",
                "2026-11-23T10:00",
                "Europe/Berlin",
            ),
            Source::Cli,
            now(),
        ));
    }
    let mut s = ok(Store::open(ok(DataDir::lock(dir.path()))));
    let got = titles_and_starts(&mut s, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z");
    assert_eq!(
        got,
        [("Kickoff".to_string(), "2026-11-23T08:00:00Z".to_string())]
    );
    let fk: i64 = rusqlite::Connection::open(dir.path().join(almanac_store::DB_FILE_NAME))
        .and_then(|c| {
            c.pragma_update(None, "foreign_keys", "ON")?;
            c.execute("INSERT INTO events (id, calendar_id, kind, title, all_day, start_local, end_local, time_zone, start_utc, end_utc, created_at, updated_at) VALUES ('x','nope','single','t',0,'a','b','UTC',0,0,0,0)", [])
                .map(|_| 1)
                .or(Ok(0))
        })
        .unwrap_or(-1);
    assert_eq!(fk, 0, "an event in a missing calendar must be refused");
}

#[test]
fn create_edit_delete_single_event_writes_the_change_feed() {
    let (_d, mut s) = open();
    let v = ok(s.create_event(
        event(
            "Call",
            "2026-11-23T09:00",
            "2026-11-23T09:30",
            "America/New_York",
        ),
        Source::UserWindow,
        now(),
    ));
    assert_eq!(v.input.start, "2026-11-23T09:00:00");
    let mut edited = v.input.clone();
    edited.title = "Call with ACME".into();
    edited.start = "2026-11-23T11:00".into();
    edited.end = "2026-11-23T12:00".into();
    let change = EventChange {
        id: v.id.clone(),
        scope: EditScope::All,
        original_start: None,
        input: edited,
    };
    let v2 = ok(s.update_event(change, Source::UserWindow, now()));
    assert_eq!(v2.input.title, "Call with ACME");
    assert_eq!(
        titles_and_starts(&mut s, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"),
        [(
            "Call with ACME".to_string(),
            "2026-11-23T16:00:00Z".to_string()
        )]
    );
    ok(s.delete_event(
        EventTarget {
            id: v.id.clone(),
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    assert!(titles_and_starts(&mut s, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z").is_empty());
    assert_eq!(count(&s, "change_feed"), 3);
    assert_eq!(count(&s, "events"), 0);
    assert_eq!(count(&s, "occurrences"), 0);
}

#[test]
fn invalid_input_writes_nothing() {
    let (_d, mut s) = open();
    let mut bad = event("Broken", "2026-11-23T10:00", "2026-11-23T09:00", "UTC");
    let err = s
        .create_event(bad.clone(), Source::Cli, now())
        .expect_err("end before start");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    bad.end = "2026-11-23T11:00".into();
    bad.time_zone = "Nowhere/Special".into();
    assert_eq!(
        s.create_event(bad.clone(), Source::Cli, now())
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(ErrorCode::InvalidInput)
    );
    bad.calendar_id = "missing".into();
    bad.time_zone = "UTC".into();
    assert_eq!(
        s.create_event(bad, Source::Cli, now())
            .map(|_| ())
            .map_err(|e| e.code()),
        Err(ErrorCode::NotFound)
    );
    assert_eq!(count(&s, "events"), 0);
    assert_eq!(count(&s, "change_feed"), 0);
}

#[test]
fn read_only_calendars_are_never_written() {
    let (dir, mut s) = open();
    let conn = rusqlite::Connection::open(dir.path().join(almanac_store::DB_FILE_NAME))
        .unwrap_or_else(|e| panic!("{e}"));
    conn.execute(
        "INSERT INTO calendars (id, name, color, can_edit) VALUES ('ro', 'Holidays', '#888888', 0)",
        [],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut e = event("Nope", "2026-11-23T09:00", "2026-11-23T10:00", "UTC");
    e.calendar_id = "ro".into();
    let err = s
        .create_event(e, Source::UserWindow, now())
        .expect_err("read-only");
    assert_eq!(err.code(), ErrorCode::ReadOnly);
    assert!(err.to_string().contains("Holidays"));
}

#[test]
fn all_day_events_are_civil_dates_with_exclusive_end() {
    let (_d, mut s) = open();
    let mut e = event("Offsite", "2026-11-23", "2026-11-25", "Pacific/Auckland");
    e.all_day = true;
    ok(s.create_event(e, Source::UserWindow, now()));
    let occ = ok(s.list_occurrences(&range("2026-11-20T00:00:00Z", "2026-11-30T00:00:00Z")));
    assert_eq!(occ.len(), 1);
    assert!(occ[0].all_day);
    assert_eq!(
        (occ[0].start.as_str(), occ[0].end.as_str()),
        ("2026-11-23", "2026-11-25")
    );
}

#[test]
fn series_edit_and_delete_one_occurrence_or_all() {
    let (_d, mut s) = open();
    let master = ok(s.create_event(
        weekly(
            event(
                "Standup",
                "2026-03-16T09:00",
                "2026-03-16T09:15",
                "Europe/Berlin",
            ),
            "FREQ=WEEKLY;BYDAY=MO;COUNT=4",
        ),
        Source::UserWindow,
        now(),
    ));
    let all = titles_and_starts(&mut s, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z");
    // 09:00 Berlin is 08:00Z in winter and 07:00Z after 29 March.
    let starts: Vec<&str> = all.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        starts,
        [
            "2026-03-16T08:00:00Z",
            "2026-03-23T08:00:00Z",
            "2026-03-30T07:00:00Z",
            "2026-04-06T07:00:00Z"
        ]
    );

    // This occurrence: move the 23 March one to 10:00 and rename it.
    let mut one = master.input.clone();
    one.title = "Standup (moved)".into();
    one.start = "2026-03-23T10:00".into();
    one.end = "2026-03-23T10:15".into();
    let exc = ok(s.update_event(
        EventChange {
            id: master.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-03-23T09:00:00".into()),
            input: one.clone(),
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(exc.series_id.as_deref(), Some(master.id.as_str()));
    assert_eq!(exc.original_start.as_deref(), Some("2026-03-23T09:00:00"));
    let occ = ok(s.list_occurrences(&range("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")));
    assert_eq!(
        occ.len(),
        4,
        "the exception replaces its instance, no duplicate"
    );
    assert!(
        occ[1].exception
            && occ[1].title == "Standup (moved)"
            && occ[1].start == "2026-03-23T09:00:00Z"
    );

    // Editing the same occurrence again updates the exception, never adds a second.
    one.title = "Standup (moved again)".into();
    let exc2 = ok(s.update_event(
        EventChange {
            id: master.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-03-23T09:00".into()),
            input: one,
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(exc2.id, exc.id);

    // An occurrence that does not exist is refused.
    let err = s
        .delete_event(
            EventTarget {
                id: master.id.clone(),
                scope: EditScope::Occurrence,
                original_start: Some("2026-03-24T09:00".into()),
            },
            Source::UserWindow,
            now(),
        )
        .expect_err("not an instance");
    assert_eq!(err.code(), ErrorCode::NotFound);

    // Delete one occurrence: an EXDATE.
    ok(s.delete_event(
        EventTarget {
            id: master.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-03-30T09:00:00".into()),
        },
        Source::UserWindow,
        now(),
    ));
    let after = titles_and_starts(&mut s, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z");
    assert_eq!(after.len(), 3);
    assert_eq!(
        ok(s.get_event(&master.id))
            .input
            .recurrence
            .map(|r| r.exdates),
        Some(vec!["2026-03-30T09:00:00".to_string()])
    );

    // Deleting the exception removes that instance too (it does not come back).
    ok(s.delete_event(
        EventTarget {
            id: exc.id.clone(),
            scope: EditScope::Occurrence,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(
        titles_and_starts(&mut s, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z").len(),
        2
    );

    // All occurrences.
    ok(s.delete_event(
        EventTarget {
            id: master.id,
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    assert!(titles_and_starts(&mut s, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z").is_empty());
    assert_eq!(count(&s, "events"), 0);
    assert!(ok(s.check()).is_empty());
}

/// A daily series 2027-03-01..05, 09:00–09:30 Berlin, "Standup" in Room A, with the
/// 2nd deleted, the 3rd moved to 14:00 and renamed, and the 4th renamed only.
fn series_with_exceptions(s: &mut Store) -> String {
    let mut e = event(
        "Standup",
        "2027-03-01T09:00",
        "2027-03-01T09:30",
        "Europe/Berlin",
    );
    e.location = "Room A".into();
    let master = ok(s.create_event(weekly(e, "FREQ=DAILY;COUNT=5"), Source::Cli, now()));
    ok(s.delete_event(
        EventTarget {
            id: master.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2027-03-02T09:00".into()),
        },
        Source::Cli,
        now(),
    ));
    let occurrence = |s: &mut Store, day: &str, title: &str, start: &str, end: &str| {
        let mut one = ok(s.get_event(&master.id)).input;
        one.title = title.into();
        one.start = start.into();
        one.end = end.into();
        ok(s.update_event(
            EventChange {
                id: master.id.clone(),
                scope: EditScope::Occurrence,
                original_start: Some(format!("{day}T09:00")),
                input: one,
            },
            Source::Cli,
            now(),
        ));
    };
    occurrence(
        s,
        "2027-03-03",
        "Moved",
        "2027-03-03T14:00",
        "2027-03-03T14:30",
    );
    occurrence(
        s,
        "2027-03-04",
        "Renamed",
        "2027-03-04T09:00",
        "2027-03-04T09:30",
    );
    master.id
}

fn edit_all(s: &mut Store, id: &str, change: impl FnOnce(&mut EventInput)) {
    let mut input = ok(s.get_event(id)).input;
    change(&mut input);
    ok(s.update_event(
        EventChange {
            id: id.into(),
            scope: EditScope::All,
            original_start: None,
            input,
        },
        Source::Cli,
        now(),
    ));
}

fn march_2027(s: &mut Store) -> Vec<(String, String, String)> {
    ok(s.list_occurrences(&range("2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z")))
        .into_iter()
        .map(|o| (o.title, o.start, o.original_start.unwrap_or_default()))
        .collect()
}

#[test]
fn moving_a_series_moves_its_deleted_and_edited_occurrences_with_it() {
    let (_d, mut s) = open();
    let id = series_with_exceptions(&mut s);
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-01T10:00".into();
        i.end = "2027-03-01T10:30".into();
    });
    // The deleted 2nd stays deleted, the moved 3rd keeps its own time and shows once,
    // the renamed 4th (which kept its instance's time) moves with the series.
    let t =
        |title: &str, start: &str, key: &str| (title.to_owned(), start.to_owned(), key.to_owned());
    assert_eq!(
        march_2027(&mut s),
        [
            t("Standup", "2027-03-01T09:00:00Z", "2027-03-01T10:00:00"),
            t("Moved", "2027-03-03T13:00:00Z", "2027-03-03T10:00:00"),
            t("Renamed", "2027-03-04T09:00:00Z", "2027-03-04T10:00:00"),
            t("Standup", "2027-03-05T09:00:00Z", "2027-03-05T10:00:00"),
        ]
    );
    let exdates = |s: &Store| ok(s.get_event(&id)).input.recurrence.map(|r| r.exdates);
    assert_eq!(exdates(&s), Some(vec!["2027-03-02T10:00:00".to_string()]));

    // To all-day and back: the keys become dates and times again.
    edit_all(&mut s, &id, |i| {
        i.all_day = true;
        i.start = "2027-03-01".into();
        i.end = "2027-03-02".into();
    });
    assert_eq!(exdates(&s), Some(vec!["2027-03-02".to_string()]));
    let all_day = march_2027(&mut s);
    assert_eq!(all_day.len(), 4, "{all_day:?}");
    assert_eq!(all_day[2], t("Renamed", "2027-03-04", "2027-03-04"));
    edit_all(&mut s, &id, |i| {
        i.all_day = false;
        i.start = "2027-03-01T08:00".into();
        i.end = "2027-03-01T08:30".into();
    });
    assert_eq!(exdates(&s), Some(vec!["2027-03-02T08:00:00".to_string()]));
    let back = march_2027(&mut s);
    assert_eq!(back.len(), 4, "{back:?}");
    assert_eq!(
        back[1],
        t("Moved", "2027-03-03T13:00:00Z", "2027-03-03T08:00:00")
    );
    assert_eq!(
        back[2],
        t("Renamed", "2027-03-04T07:00:00Z", "2027-03-04T08:00:00")
    );
    assert!(ok(s.check()).is_empty());
}

#[test]
fn an_all_occurrences_edit_reaches_what_the_exceptions_left_as_the_series_had_it() {
    let (_d, mut s) = open();
    let id = series_with_exceptions(&mut s);
    edit_all(&mut s, &id, |i| {
        i.title = "Daily sync".into();
        i.location = "Room B".into();
    });
    let by_title: Vec<(String, String)> =
        ok(s.list_occurrences(&range("2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z")))
            .into_iter()
            .map(|o| (o.title, o.start))
            .collect();
    let t = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        by_title,
        [
            t("Daily sync", "2027-03-01T08:00:00Z"),
            t("Moved", "2027-03-03T13:00:00Z"),
            t("Renamed", "2027-03-04T08:00:00Z"),
            t("Daily sync", "2027-03-05T08:00:00Z"),
        ]
    );
    // The location nobody changed on the occurrences follows the series everywhere.
    let exceptions = ok(s.list_occurrences(&range("2027-03-03T00:00:00Z", "2027-03-05T00:00:00Z")));
    for o in exceptions {
        assert_eq!(
            ok(s.get_event(&o.event_id)).input.location,
            "Room B",
            "{}",
            o.title
        );
    }
}

#[test]
fn a_new_rule_drops_the_exceptions_it_has_no_instance_for() {
    let (_d, mut s) = open();
    let id = series_with_exceptions(&mut s);
    // 1 March 2027 is a Monday: of the exceptions (3rd, 4th) no Monday is left.
    edit_all(&mut s, &id, |i| {
        i.recurrence = Some(RecurrenceInput {
            rrule: "FREQ=WEEKLY;BYDAY=MO;COUNT=2".into(),
            exdates: vec![],
            rdates: vec![],
        });
    });
    let left: Vec<(String, String)> = march_2027(&mut s)
        .into_iter()
        .map(|(title, start, _)| (title, start))
        .collect();
    assert_eq!(
        left,
        [
            ("Standup".to_owned(), "2027-03-01T08:00:00Z".to_owned()),
            ("Standup".to_owned(), "2027-03-08T08:00:00Z".to_owned()),
        ]
    );
    assert_eq!(
        count(&s, "events"),
        1,
        "the dropped exceptions are gone, not hidden"
    );
    assert!(ok(s.check()).is_empty());
}

/// Edits occurrence `key` of series `id`: the series' fields at `start`..`end`, titled.
fn edit_occurrence(s: &mut Store, id: &str, key: &str, title: &str, start: &str, end: &str) {
    let mut one = ok(s.get_event(id)).input;
    one.recurrence = None;
    one.title = title.into();
    one.start = start.into();
    one.end = end.into();
    ok(s.update_event(
        EventChange {
            id: id.into(),
            scope: EditScope::Occurrence,
            original_start: Some(key.into()),
            input: one,
        },
        Source::Cli,
        now(),
    ));
}

fn starts(s: &mut Store, from: &str, to: &str) -> Vec<(String, String, String)> {
    ok(s.list_occurrences(&range(from, to)))
        .into_iter()
        .map(|o| (o.title, o.start, o.end))
        .collect()
}

fn t3(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_owned(), b.to_owned(), c.to_owned())
}

/// The occurrences of March 2027: (title, original start).
fn keys_in_march(s: &mut Store) -> Vec<(String, String)> {
    ok(s.list_occurrences(&range("2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z")))
        .into_iter()
        .map(|o| (o.title, o.original_start.unwrap_or_default()))
        .collect()
}

fn t2(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn a_series_whose_start_moves_keeps_or_moves_its_keys_as_its_instances_do() {
    // A daily series that only starts a day later: the instances left are where they
    // were, and so are its deleted and changed ones.
    let (_d, mut s) = open();
    let id = series_with_exceptions(&mut s);
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-02T09:00".into();
        i.end = "2027-03-02T09:30".into();
    });
    assert_eq!(
        keys_in_march(&mut s),
        [
            t2("Moved", "2027-03-03T09:00:00"),
            t2("Renamed", "2027-03-04T09:00:00"),
            t2("Standup", "2027-03-05T09:00:00"),
            t2("Standup", "2027-03-06T09:00:00"),
        ],
        "the 2nd, deleted, stays deleted though it is the first instance now"
    );

    // Monday, Wednesday and Friday, first from Monday then from Wednesday: the rule
    // fixes the days, so nothing moves.
    let (_d, mut s) = open();
    let id = ok(s.create_event(
        weekly(
            event("MWF", "2027-03-01T09:00", "2027-03-01T09:30", "UTC"),
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=8",
        ),
        Source::Cli,
        now(),
    ))
    .id;
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2027-03-05T09:00".into()),
        },
        Source::Cli,
        now(),
    ));
    edit_occurrence(
        &mut s,
        &id,
        "2027-03-08T09:00",
        "Renamed",
        "2027-03-08T09:00",
        "2027-03-08T09:30",
    );
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-03T09:00".into();
        i.end = "2027-03-03T09:30".into();
    });
    let keys: Vec<String> = keys_in_march(&mut s)
        .into_iter()
        .map(|(t, k)| format!("{t} {k}"))
        .collect();
    assert_eq!(
        keys[..3],
        [
            "MWF 2027-03-03T09:00:00",
            "Renamed 2027-03-08T09:00:00",
            "MWF 2027-03-10T09:00:00",
        ],
        "{keys:?}"
    );
    assert_eq!(
        ok(s.get_event(&id)).input.recurrence.map(|r| r.exdates),
        Some(vec!["2027-03-05T09:00:00".to_string()])
    );

    // A weekly series moved from Mondays to Tuesdays takes its keys along.
    let (_d, mut s) = open();
    let id = ok(s.create_event(
        weekly(
            event("Weekly", "2027-03-01T09:00", "2027-03-01T09:30", "UTC"),
            "FREQ=WEEKLY;COUNT=4",
        ),
        Source::Cli,
        now(),
    ))
    .id;
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2027-03-08T09:00".into()),
        },
        Source::Cli,
        now(),
    ));
    edit_occurrence(
        &mut s,
        &id,
        "2027-03-15T09:00",
        "Renamed",
        "2027-03-15T09:00",
        "2027-03-15T09:30",
    );
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-02T09:00".into();
        i.end = "2027-03-02T09:30".into();
    });
    assert_eq!(
        keys_in_march(&mut s),
        [
            t2("Weekly", "2027-03-02T09:00:00"),
            t2("Renamed", "2027-03-16T09:00:00"),
            t2("Weekly", "2027-03-23T09:00:00"),
        ]
    );
    assert!(ok(s.check()).is_empty());
}

/// A series `rule` from `start` (UTC, 30 minutes, RDATEs `rdates`) with the occurrence
/// at `deleted` removed and the one at `renamed` renamed "Changed"; then its start
/// moved to `new_start`. Its occurrences in March–April 2027: (title, original start).
fn after_moving_start(
    rule: &str,
    start: &str,
    rdates: &[&str],
    deleted: &str,
    renamed: &[&str],
    new_start: &str,
) -> (Vec<(String, String)>, Vec<String>) {
    let (_d, mut s) = open();
    let end = |t: &str| {
        let t = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").unwrap_or_default();
        (t + chrono::Duration::minutes(30))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let mut e = event("S", start, &end(start), "UTC");
    e.recurrence = Some(RecurrenceInput {
        rrule: rule.into(),
        exdates: vec![],
        rdates: rdates.iter().map(|d| (*d).to_owned()).collect(),
    });
    let id = ok(s.create_event(e, Source::Cli, now())).id;
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(deleted.into()),
        },
        Source::Cli,
        now(),
    ));
    for (n, key) in renamed.iter().enumerate() {
        let title = format!("Changed{n}");
        edit_occurrence(&mut s, &id, key, &title, key, &end(key));
    }
    edit_all(&mut s, &id, |i| {
        i.start = new_start.into();
        i.end = end(new_start);
    });
    let listed = ok(s.list_occurrences(&range("2027-03-01T00:00:00Z", "2027-05-01T00:00:00Z")))
        .into_iter()
        .map(|o| (o.title, o.original_start.unwrap_or_default()))
        .collect();
    let exdates = ok(s.get_event(&id))
        .input
        .recurrence
        .map(|r| r.exdates)
        .unwrap_or_default();
    assert!(ok(s.check()).is_empty());
    (listed, exdates)
}

#[test]
fn a_series_moved_in_date_and_time_at_once_keeps_every_key_on_its_instance() {
    // A date later and an hour earlier: each stays on its day at 08:00.
    let (listed, exdates) = after_moving_start(
        "FREQ=DAILY;UNTIL=20270420T235959Z",
        "2027-04-01T09:00",
        &[],
        "2027-04-10T09:00",
        &["2027-04-12T09:00"],
        "2027-04-08T08:00",
    );
    assert_eq!(exdates, ["2027-04-10T08:00:00"]);
    assert!(
        listed.contains(&t2("Changed0", "2027-04-12T08:00:00")),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|(_, k)| k.starts_with("2027-04-10")),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 12, "08..20 April less the 10th: {listed:?}");

    // Monday, Wednesday, Friday from a Monday at 09:00, then from a Wednesday at 08:00.
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=12",
        "2027-03-01T09:00",
        &[],
        "2027-03-12T09:00",
        &["2027-03-22T09:00"],
        "2027-03-03T08:00",
    );
    assert_eq!(exdates, ["2027-03-12T08:00:00"]);
    assert!(
        listed.contains(&t2("Changed0", "2027-03-22T08:00:00")),
        "{listed:?}"
    );

    // Across midnight: Monday 23:30 becomes Tuesday 00:30 on a MO,WE,FR rule, whose
    // instances are now early on those days.
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=9",
        "2027-03-01T23:30",
        &[],
        "2027-03-12T23:30",
        &["2027-03-08T23:30"],
        "2027-03-02T00:30",
    );
    assert_eq!(exdates, ["2027-03-12T00:30:00"]);
    assert!(
        listed.contains(&t2("Changed0", "2027-03-08T00:30:00")),
        "{listed:?}"
    );

    // The first day deleted, then the series starts on the second: the changed second
    // day stays where it is, nothing is pushed along.
    let (listed, _) = after_moving_start(
        "FREQ=DAILY;COUNT=5",
        "2027-03-01T09:00",
        &[],
        "2027-03-01T09:00",
        &["2027-03-02T09:00"],
        "2027-03-02T09:00",
    );
    assert_eq!(
        listed,
        [
            t2("Changed0", "2027-03-02T09:00:00"),
            t2("S", "2027-03-03T09:00:00"),
            t2("S", "2027-03-04T09:00:00"),
            t2("S", "2027-03-05T09:00:00"),
            t2("S", "2027-03-06T09:00:00"),
        ]
    );

    // An extra date an hour after the series' time: a plain 09:00 → 10:00 moves every
    // key an hour, the extra one's too.
    let (listed, _) = after_moving_start(
        "FREQ=DAILY;COUNT=4",
        "2027-03-01T09:00",
        &["2027-03-03T10:00:00"],
        "2027-03-02T09:00",
        &["2027-03-03T09:00", "2027-03-03T10:00"],
        "2027-03-01T10:00",
    );
    assert!(
        listed.contains(&t2("Changed0", "2027-03-03T10:00:00")),
        "{listed:?}"
    );
    assert!(
        listed.contains(&t2("Changed1", "2027-03-03T11:00:00")),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 4, "{listed:?}");
}

#[test]
fn a_time_change_on_the_same_day_moves_every_key_as_far() {
    // The first and the last occurrence changed, a weekly one deleted: an hour earlier
    // or later, each key goes with it (none falls off the series' ends).
    let t = |a: &str, b: &str| t2(a, b);
    let (listed, _) = after_moving_start(
        "FREQ=DAILY;COUNT=4",
        "2027-03-01T09:00",
        &[],
        "2027-03-02T09:00",
        &["2027-03-01T09:00", "2027-03-04T09:00"],
        "2027-03-01T10:00",
    );
    assert_eq!(
        listed,
        [
            t("Changed0", "2027-03-01T10:00:00"),
            t("S", "2027-03-03T10:00:00"),
            t("Changed1", "2027-03-04T10:00:00"),
        ]
    );
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;COUNT=4",
        "2027-03-01T09:00",
        &[],
        "2027-03-22T09:00",
        &["2027-03-15T09:00"],
        "2027-03-01T08:00",
    );
    assert_eq!(exdates, ["2027-03-22T08:00:00"]);
    assert_eq!(
        listed,
        [
            t("S", "2027-03-01T08:00:00"),
            t("S", "2027-03-08T08:00:00"),
            t("Changed0", "2027-03-15T08:00:00"),
        ]
    );
    // An extra date an hour after the series moves with it too: nothing lands on it.
    let (listed, _) = after_moving_start(
        "FREQ=DAILY;COUNT=4",
        "2027-03-01T09:00",
        &["2027-03-03T10:00:00"],
        "2027-03-02T09:00",
        &["2027-03-03T09:00"],
        "2027-03-01T08:00",
    );
    assert!(
        listed.contains(&t("Changed0", "2027-03-03T08:00:00")),
        "{listed:?}"
    );
    assert!(
        listed.contains(&t("S", "2027-03-03T09:00:00")),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 4, "{listed:?}");

    // A weekly series moved from Mondays to Tuesdays takes its extra Thursday, and the
    // change made to it, along to Friday.
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;COUNT=3",
        "2027-03-01T09:00",
        &["2027-03-04T09:00:00"],
        "2027-03-08T09:00",
        &["2027-03-04T09:00"],
        "2027-03-02T09:00",
    );
    assert_eq!(exdates, ["2027-03-09T09:00:00"]);
    assert_eq!(
        listed,
        [
            t("S", "2027-03-02T09:00:00"),
            t("Changed0", "2027-03-05T09:00:00"),
            t("S", "2027-03-16T09:00:00"),
        ]
    );
}

#[test]
fn a_weekly_series_moved_to_another_weekday_keeps_its_first_changed_occurrence() {
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;COUNT=4",
        "2027-03-01T09:00",
        &[],
        "2027-03-08T09:00",
        &["2027-03-01T09:00"],
        "2027-03-02T09:00",
    );
    assert_eq!(exdates, ["2027-03-09T09:00:00"]);
    assert_eq!(
        listed,
        [
            t2("Changed0", "2027-03-02T09:00:00"),
            t2("S", "2027-03-16T09:00:00"),
            t2("S", "2027-03-23T09:00:00"),
        ]
    );
}

#[test]
fn a_day_later_an_hour_earlier_keeps_every_key_on_its_day() {
    let (listed, exdates) = after_moving_start(
        "FREQ=DAILY;COUNT=10",
        "2027-03-01T09:00",
        &[],
        "2027-03-05T09:00",
        &["2027-03-08T09:00"],
        "2027-03-02T08:00",
    );
    assert_eq!(exdates, ["2027-03-05T08:00:00"]);
    assert!(
        listed.contains(&t2("Changed0", "2027-03-08T08:00:00")),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|(_, k)| k.starts_with("2027-03-05")),
        "{listed:?}"
    );
}

#[test]
fn a_change_on_an_extra_date_does_not_decide_where_the_others_go() {
    // Weekly on Mondays plus an extra Thursday, both the first Monday and the Thursday
    // changed; the series moves to Tuesdays: the first change goes to the Tuesday.
    let (listed, _) = after_moving_start(
        "FREQ=WEEKLY;COUNT=3",
        "2027-03-01T09:00",
        &["2027-03-04T09:00:00"],
        "2027-03-15T09:00",
        &["2027-03-01T09:00", "2027-03-04T09:00"],
        "2027-03-02T09:00",
    );
    assert!(
        listed.contains(&t2("Changed0", "2027-03-02T09:00:00")),
        "{listed:?}"
    );
    assert!(listed.iter().any(|(t, _)| t == "Changed1"), "{listed:?}");
}

#[test]
fn a_series_that_starts_a_week_later_drops_its_deleted_first_week_and_nothing_else() {
    for (rule, new_start) in [
        ("FREQ=WEEKLY;COUNT=4", "2027-03-08T09:00"),
        ("FREQ=DAILY;COUNT=4", "2027-03-02T09:00"),
    ] {
        let (listed, _) = after_moving_start(
            rule,
            "2027-03-01T09:00",
            &["2027-03-18T12:00:00"],
            "2027-03-01T09:00",
            &["2027-03-18T12:00"],
            new_start,
        );
        let first = format!("{new_start}:00");
        assert_eq!(listed.first(), Some(&t2("S", &first)), "{rule}: {listed:?}");
        assert!(
            listed.contains(&t2("Changed0", "2027-03-18T12:00:00")),
            "{rule}: {listed:?}"
        );
    }
}

#[test]
fn a_start_moved_onto_an_extra_date_is_a_move_not_a_later_start() {
    // Weekly on Mondays, the first deleted, an extra Thursday; the series moves to that
    // Thursday: the deletion goes with it.
    let (listed, exdates) = after_moving_start(
        "FREQ=WEEKLY;COUNT=4",
        "2027-03-01T09:00",
        &["2027-03-04T09:00:00"],
        "2027-03-01T09:00",
        &[],
        "2027-03-04T09:00",
    );
    assert_eq!(exdates, ["2027-03-04T09:00:00"], "{listed:?}");
}

#[test]
fn a_series_that_starts_later_and_ends_sooner_keeps_its_keys() {
    let (listed, exdates) = after_moving_start(
        "FREQ=DAILY;COUNT=15",
        "2027-03-01T09:00",
        &[],
        "2027-03-05T09:00",
        &["2027-03-06T09:00", "2027-03-12T09:00"],
        "2027-03-03T09:00",
    );
    assert_eq!(exdates, ["2027-03-05T09:00:00"]);
    assert!(
        listed.contains(&t2("Changed0", "2027-03-06T09:00:00")),
        "{listed:?}"
    );
    assert!(
        listed.contains(&t2("Changed1", "2027-03-12T09:00:00")),
        "{listed:?}"
    );
    assert!(
        !listed.iter().any(|(_, k)| k.starts_with("2027-03-05")),
        "{listed:?}"
    );
}

#[test]
fn rdates_move_with_the_series_and_keep_their_deleted_and_changed_occurrences() {
    let (_d, mut s) = open();
    let mut e = event("Weekly", "2027-03-01T09:00", "2027-03-01T09:30", "UTC");
    e.recurrence = Some(RecurrenceInput {
        rrule: "FREQ=WEEKLY;COUNT=2".into(),
        exdates: vec![],
        rdates: vec!["2027-03-03T09:00:00".into(), "2027-03-04T09:00:00".into()],
    });
    let id = ok(s.create_event(e, Source::Cli, now())).id;
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2027-03-03T09:00".into()),
        },
        Source::Cli,
        now(),
    ));
    edit_occurrence(
        &mut s,
        &id,
        "2027-03-04T09:00",
        "Special",
        "2027-03-04T09:00",
        "2027-03-04T09:30",
    );
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-01T10:00".into();
        i.end = "2027-03-01T10:30".into();
    });
    assert_eq!(
        starts(&mut s, "2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z"),
        [
            t3("Weekly", "2027-03-01T10:00:00Z", "2027-03-01T10:30:00Z"),
            t3("Special", "2027-03-04T10:00:00Z", "2027-03-04T10:30:00Z"),
            t3("Weekly", "2027-03-08T10:00:00Z", "2027-03-08T10:30:00Z"),
        ]
    );
}

#[test]
fn an_exception_in_a_folds_second_pass_or_across_a_dst_night_keeps_its_instants() {
    let (_d, mut s) = open();
    // Berlin falls back on 31 October 2027: 02:30 comes twice (00:30Z, then 01:30Z).
    let id = ok(s.create_event(
        weekly(
            event(
                "Late",
                "2027-10-30T02:30",
                "2027-10-30T02:45",
                "Europe/Berlin",
            ),
            "FREQ=DAILY;COUNT=3",
        ),
        Source::Cli,
        now(),
    ))
    .id;
    edit_occurrence(
        &mut s,
        &id,
        "2027-10-31T02:30",
        "Second pass",
        "2027-10-31T02:30:00+01:00",
        "2027-10-31T02:45:00+01:00",
    );
    edit_all(&mut s, &id, |i| i.location = "Room 2".into());
    assert_eq!(
        starts(&mut s, "2027-10-31T00:00:00Z", "2027-10-31T12:00:00Z"),
        [t3(
            "Second pass",
            "2027-10-31T01:30:00Z",
            "2027-10-31T01:45:00Z"
        )]
    );

    // Berlin springs forward on 28 March 2027: the 22:00–06:00 shift of the 27th lasts
    // 8 h and ends at 07:00 on the wall clock.
    let night = ok(s.create_event(
        weekly(
            event(
                "Night",
                "2027-03-26T22:00",
                "2027-03-27T06:00",
                "Europe/Berlin",
            ),
            "FREQ=DAILY;COUNT=3",
        ),
        Source::Cli,
        now(),
    ))
    .id;
    edit_occurrence(
        &mut s,
        &night,
        "2027-03-27T22:00",
        "Night (lead)",
        "2027-03-27T22:00",
        "2027-03-28T07:00",
    );
    let lead = |s: &mut Store| {
        starts(s, "2027-03-27T12:00:00Z", "2027-03-28T12:00:00Z")
            .into_iter()
            .find(|o| o.0 == "Night (lead)")
    };
    let before = lead(&mut s);
    assert_eq!(
        before,
        Some(t3(
            "Night (lead)",
            "2027-03-27T21:00:00Z",
            "2027-03-28T05:00:00Z"
        ))
    );
    edit_all(&mut s, &night, |i| i.location = "Depot".into());
    assert_eq!(lead(&mut s), before, "a series edit left its times alone");
    // Still the instance's time: it moves with the series.
    edit_all(&mut s, &night, |i| {
        i.start = "2027-03-26T23:00".into();
        i.end = "2027-03-27T07:00".into();
    });
    assert_eq!(
        lead(&mut s),
        Some(t3(
            "Night (lead)",
            "2027-03-27T22:00:00Z",
            "2027-03-28T06:00:00Z"
        ))
    );
}

#[test]
fn a_local_series_moved_into_an_accounts_calendar_brings_its_exceptions_along() {
    for with_new_time in [false, true] {
        a_local_series_moved_into_an_accounts_calendar(with_new_time);
    }
}

fn a_local_series_moved_into_an_accounts_calendar(with_new_time: bool) {
    let (_d, mut s) = open();
    let id = series_with_exceptions(&mut s);
    let account = google_account(&mut s);
    let listed = ok(s.sync_calendar_list(
        &account,
        &[RemoteCalendarRow {
            remote_id: "primary".into(),
            name: "Work".into(),
            color: "#0b8043".into(),
            can_edit: true,
            is_primary: true,
            owner_email: None,
        }],
    ));
    let work = listed.calendars[0].id.clone();
    let in_work = |s: &mut Store| -> Vec<String> {
        let q = RangeQuery {
            calendar_ids: Some(vec![work.clone()]),
            ..range("2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z")
        };
        ok(s.list_occurrences(&q))
            .into_iter()
            .map(|o| o.title)
            .collect()
    };
    // The exceptions are found in the new calendar (and their keys moved along with
    // a new time), not left behind.
    edit_all(&mut s, &id, |i| {
        i.calendar_id = work.clone();
        if with_new_time {
            i.start = "2027-03-01T10:00".into();
            i.end = "2027-03-01T10:30".into();
        }
    });
    assert_eq!(in_work(&mut s), ["Standup", "Moved", "Renamed", "Standup"]);
    let left_behind = s.list_occurrences(&RangeQuery {
        calendar_ids: Some(vec!["local".into()]),
        ..range("2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z")
    });
    assert!(ok(left_behind).is_empty());
}

#[test]
fn queries_far_from_the_index_window_extend_it() {
    let (_d, mut s) = open();
    ok(s.create_event(
        weekly(
            event("Weekly", "2020-01-06T09:00", "2020-01-06T10:00", "UTC"),
            "FREQ=WEEKLY",
        ),
        Source::Cli,
        now(),
    ));
    assert_eq!(
        titles_and_starts(&mut s, "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z").len(),
        1
    );
    assert_eq!(
        titles_and_starts(&mut s, "2035-01-01T00:00:00Z", "2035-02-01T00:00:00Z").len(),
        5
    );
    assert_eq!(
        titles_and_starts(&mut s, "2020-01-01T00:00:00Z", "2020-01-08T00:00:00Z").len(),
        1
    );
    let err = s
        .list_occurrences(&range("2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"))
        .expect_err("too long");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn a_query_decades_ahead_moves_the_index_window_instead_of_filling_the_gap() {
    let (_d, mut s) = open();
    let daily = ok(s.create_event(
        weekly(
            event("Daily", "2027-03-01T09:00", "2027-03-01T09:30", "UTC"),
            "FREQ=DAILY",
        ),
        Source::Cli,
        now(),
    ));
    ok(s.create_event(
        event("Once", "2027-03-10T12:00", "2027-03-10T13:00", "UTC"),
        Source::Cli,
        now(),
    ));
    assert_eq!(
        titles_and_starts(&mut s, "2027-03-10T00:00:00Z", "2027-03-11T00:00:00Z").len(),
        2
    );
    // Growing the window to 2085 would expand ~21,000 days of the series at once.
    assert_eq!(
        titles_and_starts(&mut s, "2085-01-01T00:00:00Z", "2085-01-02T00:00:00Z"),
        [("Daily".to_owned(), "2085-01-01T09:00:00Z".to_owned())]
    );
    // And back: the series is indexed where asked again, the single event never left.
    assert_eq!(
        titles_and_starts(&mut s, "2027-03-10T00:00:00Z", "2027-03-11T00:00:00Z"),
        [
            ("Daily".to_owned(), "2027-03-10T09:00:00Z".to_owned()),
            ("Once".to_owned(), "2027-03-10T12:00:00Z".to_owned()),
        ]
    );
    assert!(ok(s.check()).is_empty());
    // Where even the rule cannot go (its iterations are capped), the error says so.
    let err = s
        .list_occurrences(&range("2700-01-01T00:00:00Z", "2700-01-02T00:00:00Z"))
        .expect_err("beyond the rule's reach");
    assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
    assert!(err.to_string().contains(&daily.id), "{err}");
}

#[test]
fn calendar_filter_and_long_events_overlapping_the_range() {
    let (_d, mut s) = open();
    ok(s.create_event(
        event("Conference", "2026-11-20T09:00", "2026-11-27T17:00", "UTC"),
        Source::Cli,
        now(),
    ));
    let q = RangeQuery {
        from: "2026-11-24T00:00:00Z".into(),
        to: "2026-11-25T00:00:00Z".into(),
        calendar_ids: Some(vec!["local".into()]),
    };
    assert_eq!(ok(s.list_occurrences(&q)).len(), 1);
    let q = RangeQuery {
        calendar_ids: Some(vec!["other".into()]),
        ..q
    };
    assert!(ok(s.list_occurrences(&q)).is_empty());
}

#[test]
fn a_synced_events_view_says_who_it_is_with_and_how_to_join() {
    let (_d, mut s) = open();
    let person = |email: &str, name: &str| Person {
        email: email.into(),
        name: name.into(),
    };
    let mut row = review(1);
    row.organizer = Some(person("casey@example.com", "Casey"));
    row.attendees = vec![
        Attendee {
            person: person("ana@customer.example", "Ana"),
            kind: AttendeeKind::Required,
            response: Response::Accepted,
        },
        Attendee {
            person: person("room-4@example.com", "Room 4.12"),
            kind: AttendeeKind::Resource,
            response: Response::None,
        },
    ];
    row.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Teams,
        join_url: "https://teams.microsoft.com/l/meetup-join/19%3ameeting".into(),
        conference_id: Some("123 456 789#".into()),
        toll_number: Some("+1 555 0100".into()),
        pin: None,
    });
    let id = ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(None, &row, almanac_store::EntryState::Synced, None, None)
    }));
    let want = EventMeeting {
        organizer: row.organizer.clone(),
        attendees: row.attendees.clone(),
        online_meeting: row.online_meeting.clone(),
        joinable: true,
    };
    let view = ok(s.get_event(&id));
    assert_eq!(view.meeting, want);
    let mut input = view.input.clone();
    input.title = "Review 1 (moved)".into();
    let edited = ok(s.update_event(
        EventChange {
            id: id.clone(),
            scope: EditScope::All,
            original_start: None,
            input,
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(edited.meeting, want, "an edit's answer says it too");
    let local = ok(s.create_event(
        event("Focus", "2026-12-01T13:00", "2026-12-01T14:00", "UTC"),
        Source::UserWindow,
        now(),
    ));
    assert_eq!(local.meeting, EventMeeting::default());
    assert_eq!(ok(s.get_event(&local.id)).meeting, EventMeeting::default());
    // A link that is not a web address is shown, not offered to open.
    let mut app_link = review(2);
    app_link.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Other,
        join_url: "zoommtg://zoom.us/join?confno=1".into(),
        conference_id: None,
        toll_number: None,
        pin: None,
    });
    let id = ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(
            None,
            &app_link,
            almanac_store::EntryState::Synced,
            None,
            None,
        )
    }));
    let meeting = ok(s.get_event(&id)).meeting;
    assert_eq!(meeting.online_meeting, app_link.online_meeting);
    assert!(!meeting.joinable);
}

/// One occurrence of a synced series changed here starts as the series has it: what
/// the editor does not show — the reminder, the sensitivity, the formatted
/// description, who it is with and how to join — is the series', not unset (unset, a
/// sync would send it as removed). The formatted description goes once the
/// description changes here, also on an occurrence changed before.
#[test]
fn an_occurrence_changed_here_starts_with_what_its_series_has() {
    let (_d, mut s) = open();
    let mut row = synced(
        "s1",
        weekly(
            event("Weekly", "2026-12-01T09:00", "2026-12-01T10:00", "UTC"),
            "FREQ=WEEKLY;COUNT=3",
        ),
    );
    row.kind = almanac_model::EventKind::Master;
    row.input.description = "Agenda".into();
    row.body_html = Some("<p><b>Agenda</b></p>".into());
    row.sensitivity = almanac_model::Sensitivity::Private;
    row.reminder_minutes = Some(25);
    row.organizer = Some(Person {
        email: "casey@example.com".into(),
        name: "Casey".into(),
    });
    row.attendees = vec![Attendee {
        person: Person {
            email: "ana@customer.example".into(),
            name: "Ana".into(),
        },
        kind: AttendeeKind::Required,
        response: Response::Accepted,
    }];
    row.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Teams,
        join_url: "https://teams.microsoft.com/l/meetup-join/19%3ameeting".into(),
        conference_id: None,
        toll_number: None,
        pin: None,
    });
    let master = ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(None, &row, almanac_store::EntryState::Synced, None, None)
    }));
    let change = |s: &mut Store, description: &str| {
        let mut input = ok(s.get_event(&master)).input;
        input.title = "Weekly (moved)".into();
        input.description = description.into();
        let changed = ok(s.update_event(
            EventChange {
                id: master.clone(),
                scope: EditScope::Occurrence,
                original_start: Some("2026-12-08T09:00".into()),
                input,
            },
            Source::UserWindow,
            now(),
        ));
        let id = changed.id;
        let stored = ok(s.sync_step(now().timestamp(), |tx| tx.event(&id)));
        (id, stored.unwrap_or_else(|| panic!("no row")))
    };
    let (id, first) = change(&mut s, "Agenda");
    let carried = |e: &almanac_store::SyncedEvent| {
        (
            e.sensitivity,
            e.reminder_minutes,
            e.organizer.clone(),
            e.attendees.clone(),
            e.online_meeting.clone(),
        )
    };
    assert_eq!(carried(&first), carried(&row));
    assert_eq!(first.body_html, row.body_html);
    // The editor is told, so it can say what an edit of the description does.
    assert!(ok(s.get_event(&master)).formatted_description);
    assert!(ok(s.get_event(&id)).formatted_description);
    let (again, second) = change(&mut s, "New agenda");
    assert_eq!(again, id);
    assert_eq!(second.body_html, None);
    assert!(!ok(s.get_event(&id)).formatted_description);
    assert_eq!(carried(&second), carried(&row));
}

#[test]
fn the_next_meeting_is_the_first_timed_occurrence_that_starts_from_now() {
    let (_d, mut s) = open();
    let mut all_day = event("Offsite", "2026-11-22", "2026-11-23", "UTC");
    all_day.all_day = true;
    for e in [
        all_day,
        event("Begun", "2026-11-22T11:30", "2026-11-22T12:30", "UTC"),
        event(
            "Customer call",
            "2026-11-22T15:00",
            "2026-11-22T15:30",
            "UTC",
        ),
        weekly(
            event("1:1", "2026-11-16T13:00", "2026-11-16T13:30", "UTC"),
            "FREQ=WEEKLY",
        ),
    ] {
        ok(s.create_event(e, Source::Cli, now()));
    }
    let at = |t: &str| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let next = |s: &mut Store, from: &str| {
        let from = at(from);
        ok(s.next_occurrence(from, from + chrono::Duration::hours(24)))
            .map(|o| (o.title, o.start, o.original_start))
    };
    assert_eq!(
        next(&mut s, "2026-11-22T12:00:00Z"),
        Some(("Customer call".into(), "2026-11-22T15:00:00Z".into(), None)),
        "not the all-day event, not the one under way"
    );
    assert_eq!(
        next(&mut s, "2026-11-22T15:00:01Z"),
        Some((
            "1:1".into(),
            "2026-11-23T13:00:00Z".into(),
            Some("2026-11-23T13:00:00".into())
        )),
        "a series' next occurrence"
    );
    assert_eq!(
        next(&mut s, "2026-11-23T13:30:00Z"),
        None,
        "none within the day"
    );
}

/// Occurrences come from one calendar's part of the range index at a time (0014); the
/// answer is still one list in start order, each occurrence once.
#[test]
fn a_range_across_calendars_is_one_list_in_start_order() {
    let (_d, mut s) = open();
    let work = work_calendar(&mut s);
    let at = |title: &str, calendar: &str, hour: u32| EventInput {
        calendar_id: calendar.into(),
        ..event(
            title,
            &format!("2026-11-24T{hour:02}:00"),
            &format!("2026-11-24T{hour:02}:30"),
            "UTC",
        )
    };
    for (title, calendar, hour) in [
        ("B", &work, 9),
        ("A", &"local".to_string(), 10),
        ("C", &work, 11),
    ] {
        ok(s.create_event(at(title, calendar, hour), Source::Cli, now()));
    }
    let titles = |s: &mut Store, calendars: Option<Vec<&str>>| -> Vec<String> {
        let q = RangeQuery {
            calendar_ids: calendars.map(|c| c.into_iter().map(String::from).collect()),
            ..range("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
        };
        ok(s.list_occurrences(&q))
            .into_iter()
            .map(|o| o.title)
            .collect()
    };
    assert_eq!(titles(&mut s, None), ["B", "A", "C"], "every calendar");
    assert_eq!(titles(&mut s, Some(vec![&work, "local"])), ["B", "A", "C"]);
    assert_eq!(titles(&mut s, Some(vec![&work])), ["B", "C"]);
    assert_eq!(
        titles(&mut s, Some(vec!["local", "local"])),
        ["A"],
        "each once"
    );
    assert!(
        titles(&mut s, Some(vec![])).is_empty(),
        "no calendar chosen"
    );
    assert!(titles(&mut s, Some(vec!["nope"])).is_empty());
}

#[test]
fn drag_move_of_one_occurrence_and_of_a_single_event() {
    let (_d, mut s) = open();
    let m = ok(s.create_event(
        weekly(
            event(
                "1:1",
                "2026-11-23T15:00",
                "2026-11-23T15:30",
                "Europe/London",
            ),
            "FREQ=DAILY;COUNT=3",
        ),
        Source::UserWindow,
        now(),
    ));
    let v = ok(s.move_event(
        EventMove {
            id: m.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-11-24T15:00:00".into()),
            all_day: false,
            start: "2026-11-24T16:00:00Z".into(),
            end: "2026-11-24T17:00:00Z".into(),
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(
        (v.input.start.as_str(), v.input.end.as_str()),
        ("2026-11-24T16:00:00", "2026-11-24T17:00:00")
    );
    let got = titles_and_starts(&mut s, "2026-11-23T00:00:00Z", "2026-11-26T00:00:00Z");
    assert_eq!(
        got.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        [
            "2026-11-23T15:00:00Z",
            "2026-11-24T16:00:00Z",
            "2026-11-25T15:00:00Z"
        ]
    );
    let single = ok(s.create_event(
        event(
            "Lunch",
            "2026-11-26T12:00",
            "2026-11-26T13:00",
            "Europe/London",
        ),
        Source::UserWindow,
        now(),
    ));
    let moved = ok(s.move_event(
        EventMove {
            id: single.id,
            scope: EditScope::All,
            original_start: None,
            all_day: true,
            start: "2026-11-27".into(),
            end: "2026-11-28".into(),
        },
        Source::UserWindow,
        now(),
    ));
    assert!(moved.input.all_day);
    assert_eq!(moved.input.start, "2026-11-27");
}

#[test]
fn a_drag_into_the_repeated_hour_of_a_fall_back_keeps_the_instants() {
    // Berlin 2027-10-31 03:00 CEST → 02:00 CET: 02:00–03:00 happens twice.
    let (_d, mut s) = open();
    let e = ok(s.create_event(
        event(
            "Call",
            "2027-10-30T10:00",
            "2027-10-30T11:00",
            "Europe/Berlin",
        ),
        Source::UserWindow,
        now(),
    ));
    // From the first 02:30 to the second 02:15, then wholly within the second pass.
    for (start, end, spelled) in [
        (
            "2027-10-31T00:30:00Z",
            "2027-10-31T01:15:00Z",
            ("2027-10-31T02:30:00", "2027-10-31T02:15:00+01:00"),
        ),
        (
            "2027-10-31T01:10:00Z",
            "2027-10-31T01:40:00Z",
            ("2027-10-31T02:10:00+01:00", "2027-10-31T02:40:00+01:00"),
        ),
    ] {
        let v = ok(s.move_event(
            EventMove {
                id: e.id.clone(),
                scope: EditScope::All,
                original_start: None,
                all_day: false,
                start: start.into(),
                end: end.into(),
            },
            Source::UserWindow,
            now(),
        ));
        assert_eq!((v.input.start.as_str(), v.input.end.as_str()), spelled);
        let got = ok(s.list_occurrences(&range("2027-10-30T00:00:00Z", "2027-11-01T00:00:00Z")));
        assert_eq!(
            got.iter()
                .map(|o| (o.start.as_str(), o.end.as_str()))
                .collect::<Vec<_>>(),
            [(start, end)]
        );
    }
    // Still so after the database is read back (the spelling is what is stored).
    let again = ok(s.get_event(&e.id));
    assert_eq!(again.input.start, "2027-10-31T02:10:00+01:00");
}

#[test]
fn a_batch_is_all_or_nothing() {
    let (_d, mut s) = open();
    let good = event("First", "2026-11-23T09:00", "2026-11-23T10:00", "UTC");
    let bad = event("Second", "2026-11-23T10:00", "2026-11-23T09:00", "UTC");
    let err = s
        .batch(Source::Import, now(), |b| {
            b.create_event(good.clone())?;
            b.create_event(bad)?;
            Ok(())
        })
        .expect_err("the second event is invalid");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(count(&s, "events"), 0, "the first write was rolled back");
    assert_eq!(count(&s, "change_feed"), 0);
    let ids = ok(s.batch(Source::Import, now(), |b| {
        let m = b.create_event(weekly(good.clone(), "FREQ=DAILY;COUNT=2"))?;
        let mut one = good.clone();
        one.title = "First (moved)".into();
        b.update_event(EventChange {
            id: m.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-11-24T09:00".into()),
            input: one,
        })?;
        Ok(m.id)
    }));
    assert!(!ids.is_empty());
    assert_eq!(count(&s, "events"), 2);
}

#[test]
fn a_long_event_is_found_by_a_range_that_starts_inside_it_and_a_shorter_one_keeps_it_so() {
    let (_d, mut s) = open();
    ok(s.create_event(
        event(
            "Offsite",
            "2026-12-01T09:00:00",
            "2026-12-11T17:00:00",
            "UTC",
        ),
        Source::Cli,
        now(),
    ));
    // A shorter event written later must not shrink how far queries look back.
    ok(s.create_event(
        event(
            "Standup",
            "2026-12-08T09:00:00",
            "2026-12-08T09:15:00",
            "UTC",
        ),
        Source::Cli,
        now(),
    ));
    let found = titles_and_starts(&mut s, "2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z");
    let titles: Vec<&str> = found.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles, vec!["Offsite", "Standup"]);
}

#[test]
fn sync_writes_widen_how_far_range_queries_look_back_whatever_their_order() {
    // A sync step writes a page's events one after another and records only spans
    // longer than the longest it has written: a long event after short ones, and a
    // longer one after that, must each still be found from inside.
    let (_d, mut s) = open();
    let row = |title: &str, start: &str, end: &str| {
        synced(&format!("r-{title}"), event(title, start, end, "UTC"))
    };
    let titles = |s: &mut Store, from: &str, to: &str| -> Vec<String> {
        titles_and_starts(s, from, to)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    };
    let step = |s: &mut Store, rows: &[almanac_store::SyncedEvent]| {
        ok(s.sync_step(now().timestamp(), |tx| {
            for r in rows {
                tx.write_event(None, r, almanac_store::EntryState::Synced, None, None)?;
            }
            Ok::<_, StoreError>(())
        }));
    };
    step(
        &mut s,
        &[
            row("Standup", "2026-12-01T09:00:00", "2026-12-01T09:15:00"),
            row("Offsite", "2026-12-01T09:00:00", "2026-12-04T17:00:00"),
            row("Review", "2026-12-02T09:00:00", "2026-12-02T10:00:00"),
        ],
    );
    assert_eq!(
        titles(&mut s, "2026-12-03T00:00:00Z", "2026-12-03T12:00:00Z"),
        ["Offsite"]
    );
    // A later step starts from nothing it knows: a longer event widens it again, and a
    // short one after it does not shrink it.
    step(
        &mut s,
        &[
            row("Conference", "2026-12-05T09:00:00", "2026-12-15T17:00:00"),
            row("Call", "2026-12-14T09:00:00", "2026-12-14T09:30:00"),
        ],
    );
    assert_eq!(
        titles(&mut s, "2026-12-14T00:00:00Z", "2026-12-14T12:00:00Z"),
        ["Conference", "Call"]
    );
}

/// A weekly series (five times) as synced from the provider under `remote`.
fn master(remote: &str, start: &str, end: &str) -> almanac_store::SyncedEvent {
    let mut m = synced(
        remote,
        weekly(event(remote, start, end, "UTC"), "FREQ=WEEKLY;COUNT=5"),
    );
    m.kind = almanac_model::EventKind::Master;
    m
}

#[test]
fn the_entries_a_page_or_a_reconcile_reads_bring_their_instances_masters() {
    // An instance is read with its series' master: a page holding only the instance,
    // or a listing that showed the master but not the instance, must still bring the
    // master, and no other master of the calendar.
    let (_d, mut s) = open();
    let ids = |entries: Vec<almanac_store::SyncEntry>| -> Vec<String> {
        let mut v: Vec<String> = entries.into_iter().filter_map(|e| e.remote_id).collect();
        v.sort();
        v
    };
    let (page, reconcile) = ok(s.sync_step(now().timestamp(), |tx| {
        let synced_state = almanac_store::EntryState::Synced;
        let m1 = tx.write_event(
            None,
            &master("m1", "2026-11-23T09:00:00", "2026-11-23T10:00:00"),
            synced_state,
            None,
            None,
        )?;
        tx.write_event(
            None,
            &master("m2", "2026-11-24T09:00:00", "2026-11-24T10:00:00"),
            synced_state,
            None,
            None,
        )?;
        let mut moved = synced(
            "x1",
            event("Moved", "2026-12-01T11:00:00", "2026-12-01T12:00:00", "UTC"),
        );
        moved.kind = almanac_model::EventKind::Exception;
        moved.series_id = Some(m1);
        moved.original_start = Some("2026-11-30T09:00:00".into());
        tx.write_event(None, &moved, synced_state, None, None)?;
        tx.write_event(
            None,
            &synced(
                "s1",
                event(
                    "Single",
                    "2026-12-02T09:00:00",
                    "2026-12-02T10:00:00",
                    "UTC",
                ),
            ),
            synced_state,
            None,
            None,
        )?;
        let page = tx.entries_for("local", &["x1"])?;
        tx.listing_start("local", false)?;
        tx.listing_add("local", ["m1", "m2", "s1"])?;
        Ok::<_, StoreError>((page, tx.unlisted_entries("local")?))
    }));
    assert_eq!(ids(page), ["m1", "x1"]);
    assert_eq!(ids(reconcile), ["m1", "x1"]);
}

#[test]
fn a_series_a_page_or_a_reconcile_reads_brings_its_occurrences_changed_here() {
    // A series deleted at the provider must not take an occurrence changed here with
    // it: a page that removes the series reads those occurrences too, and a reconcile
    // that finds it unlisted those not pushed yet (one listed is not gone); neither
    // reads those of another series, nor the synced ones.
    let (_d, mut s) = open();
    use almanac_store::EntryState::{LocallyCreated, LocallyModified, Synced};
    let instance = |remote: Option<&str>, series: &str, original: &str| {
        let mut x = synced(
            remote.unwrap_or(""),
            event("Moved", "2026-12-01T11:00:00", "2026-12-01T12:00:00", "UTC"),
        );
        x.remote_id = remote.map(String::from);
        x.kind = almanac_model::EventKind::Exception;
        x.series_id = Some(series.to_owned());
        x.original_start = Some(original.into());
        x
    };
    let (changed, page, reconcile) = ok(s.sync_step(now().timestamp(), |tx| {
        let m1 = tx.write_event(
            None,
            &master("m1", "2026-11-23T09:00:00", "2026-11-23T10:00:00"),
            Synced,
            None,
            None,
        )?;
        let m2 = tx.write_event(
            None,
            &master("m2", "2026-11-24T09:00:00", "2026-11-24T10:00:00"),
            Synced,
            None,
            None,
        )?;
        let changed = tx.write_event(
            None,
            &instance(None, &m1, "2026-11-30T09:00:00"),
            LocallyCreated,
            None,
            None,
        )?;
        tx.write_event(
            None,
            &instance(Some("x3"), &m1, "2026-12-14T09:00:00"),
            LocallyModified,
            None,
            None,
        )?;
        tx.write_event(
            None,
            &instance(Some("x1"), &m1, "2026-12-07T09:00:00"),
            Synced,
            None,
            None,
        )?;
        tx.write_event(
            None,
            &instance(Some("x2"), &m2, "2026-12-01T09:00:00"),
            LocallyModified,
            None,
            None,
        )?;
        let page = tx.entries_for("local", &["m1"])?;
        tx.listing_start("local", false)?;
        tx.listing_add("local", ["m2", "x1", "x2", "x3"])?;
        Ok::<_, StoreError>((changed, page, tx.unlisted_entries("local")?))
    }));
    let ids = |entries: Vec<almanac_store::SyncEntry>| -> Vec<String> {
        let mut v: Vec<String> = entries
            .into_iter()
            .map(|e| {
                e.remote_id
                    .unwrap_or_else(|| format!("local {}", e.local_id))
            })
            .collect();
        v.sort();
        v
    };
    let changed = format!("local {changed}");
    assert_eq!(ids(page), [changed.as_str(), "m1", "x3"]);
    assert_eq!(ids(reconcile), [changed.as_str(), "m1"]);
}

#[test]
fn deleting_an_occurrence_answers_its_exceptions_open_conflict() {
    // The user deletes one occurrence of a series whose exception is in conflict: the
    // deletion is their answer (as deleting any event is), not a conflict left open
    // on an event that no longer exists.
    let (_d, mut s) = open();
    let master = ok(s.create_event(
        weekly(
            event("Standup", "2026-03-16T09:00", "2026-03-16T09:15", "UTC"),
            "FREQ=WEEKLY;COUNT=4",
        ),
        Source::UserWindow,
        now(),
    ));
    let mut one = master.input.clone();
    one.title = "Standup (moved)".into();
    one.start = "2026-03-23T10:00".into();
    one.end = "2026-03-23T10:15".into();
    let exc = ok(s.update_event(
        EventChange {
            id: master.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2026-03-23T09:00".into()),
            input: one,
        },
        Source::UserWindow,
        now(),
    ));
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.record_conflict(&almanac_store::NewConflict {
            event_id: exc.id.clone(),
            calendar_id: "local".into(),
            kind: "edit_edit".into(),
            base: None,
            local: None,
            remote: None,
            fields: "[]".into(),
            settled_by_policy: None,
        })
    }));
    assert_eq!(ok(s.conflicts(true)).len(), 1);
    ok(s.delete_event(
        EventTarget {
            id: master.id,
            scope: EditScope::Occurrence,
            original_start: Some("2026-03-23T09:00".into()),
        },
        Source::UserWindow,
        now(),
    ));
    let all = ok(s.conflicts(false));
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].resolution.as_deref(), Some("keep_local"));
    assert_eq!(all[0].resolved_by.as_deref(), Some("user"));
}

#[test]
fn a_conflict_settled_by_policy_is_on_record_resolved_and_says_by_whom() {
    let (_d, mut s) = open();
    let ev = ok(s.create_event(
        event("Plan", "2026-03-16T09:00", "2026-03-16T10:00", "UTC"),
        Source::UserWindow,
        now(),
    ));
    let conflict = |settled: Option<&str>| almanac_store::NewConflict {
        event_id: ev.id.clone(),
        calendar_id: "local".into(),
        kind: "edit_edit".into(),
        base: Some("{}".into()),
        local: Some("{\"title\":\"mine\"}".into()),
        remote: Some("{\"title\":\"theirs\"}".into()),
        fields: "[]".into(),
        settled_by_policy: settled.map(str::to_owned),
    };
    // Open first; then a policy settles a newer one: a record of its own, the open
    // one untouched.
    let open_id = ok(s.sync_step(now().timestamp(), |tx| tx.record_conflict(&conflict(None))));
    let settled_id = ok(s.sync_step(now().timestamp() + 1, |tx| {
        tx.record_conflict(&conflict(Some("keep_remote")))
    }));
    assert_ne!(open_id, settled_id);
    let open_now = ok(s.conflicts(true));
    assert_eq!(open_now.len(), 1);
    assert_eq!(open_now[0].id, open_id);
    assert_eq!(open_now[0].resolved_by, None);
    let settled = ok(s.conflict(&settled_id));
    assert_eq!(
        (
            settled.resolved_at,
            settled.resolution.as_deref(),
            settled.resolved_by.as_deref()
        ),
        (
            Some(now().timestamp() + 1),
            Some("keep_remote"),
            Some("policy")
        )
    );
    assert_eq!(settled.local.as_deref(), Some("{\"title\":\"mine\"}"));
    // Settled by sync (moot), and answered by the user.
    ok(s.sync_step(now().timestamp() + 2, |tx| {
        tx.settle_conflicts(&ev.id, "keep_local")
    }));
    assert_eq!(
        ok(s.conflict(&open_id)).resolved_by.as_deref(),
        Some("sync")
    );
    ok(s.sync_step(now().timestamp() + 3, |tx| {
        tx.resolve_conflict(&open_id, "keep_remote")
    }));
    let answered = ok(s.conflict(&open_id));
    assert_eq!(
        (
            answered.resolution.as_deref(),
            answered.resolved_by.as_deref()
        ),
        (Some("keep_remote"), Some("user"))
    );
}

#[test]
fn a_full_listing_splits_a_calendar_into_what_it_showed_and_what_it_lacks() {
    // A windowed reconcile reads back only the entries a listing lacks and counts the
    // ones it showed: the two must cover the calendar, locally deleted ones aside.
    let (_d, mut s) = open();
    use almanac_store::EntryState::{LocallyDeleted, LocallyModified, Synced};
    let (listed, unlisted, counted) = ok(s.sync_step(now().timestamp(), |tx| {
        for (i, state) in [
            Synced,
            Synced,
            Synced,
            Synced,
            LocallyModified,
            LocallyDeleted,
        ]
        .into_iter()
        .enumerate()
        {
            tx.write_event(None, &review(i), state, None, None)?;
        }
        tx.listing_start("local", false)?;
        tx.listing_add("local", ["r0", "r1", "r4", "r5", "r-elsewhere"])?;
        let unlisted: Vec<Option<String>> = tx
            .unlisted_entries("local")?
            .into_iter()
            .map(|e| e.remote_id)
            .collect();
        Ok::<_, StoreError>((tx.listed_counted("local")?, unlisted, tx.counted("local")?))
    }));
    // r5 is deleted here, r-elsewhere not an event of the calendar.
    assert_eq!(listed, 3);
    let mut unlisted = unlisted;
    unlisted.sort();
    assert_eq!(unlisted, vec![Some("r2".to_owned()), Some("r3".to_owned())]);
    assert_eq!(counted, listed + unlisted.len());
}

#[test]
fn a_sync_steps_feed_audit_and_listing_rows_land_in_order_and_only_with_the_step() {
    // A step writes its change-feed and audit rows many to a statement when it ends:
    // 70 events (two full statements and six rows one by one) must come out as if
    // written one by one, and a step that fails must leave none of them.
    let (_d, mut s) = open();
    let account = google_account(&mut s);
    let run = ok(s.start_run(&account, now().timestamp()));
    let feed = |s: &Store| -> Vec<(String, String, String)> {
        let conn = rusqlite::Connection::open(s.data_dir().join(almanac_store::DB_FILE_NAME))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut stmt = conn
            .prepare("SELECT entity_id, op, source FROM change_feed ORDER BY seq")
            .unwrap_or_else(|e| panic!("{e}"));
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap_or_else(|e| panic!("{e}"));
        rows.map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect()
    };
    let ids = ok(s.sync_step(now().timestamp(), |tx| {
        let mut ids = Vec::new();
        for i in 0..70 {
            let id = tx.write_event(
                None,
                &review(i),
                almanac_store::EntryState::Synced,
                None,
                None,
            )?;
            let fields = if i % 3 == 0 {
                vec![format!("title{i}")]
            } else {
                vec![]
            };
            tx.action(
                run,
                Some(&id),
                "local",
                "pull",
                "create",
                &fields,
                &format!("new {i}"),
            )?;
            ids.push(id);
        }
        tx.delete_event(&ids[5])?;
        tx.action(run, Some(&ids[5]), "local", "pull", "delete", &[], "gone")?;
        tx.listing_start("local", false)?;
        let seen: Vec<String> = (0..70).chain(10..20).map(|i| format!("r{i}")).collect();
        tx.listing_add("local", seen.iter().map(String::as_str))?;
        Ok::<_, StoreError>(ids)
    }));

    let mut want: Vec<(String, String, String)> = ids
        .iter()
        .map(|id| (id.clone(), "insert".into(), "sync".into()))
        .collect();
    want.push((ids[5].clone(), "delete".into(), "sync".into()));
    assert_eq!(feed(&s), want);

    let actions = ok(s.sync_actions(run));
    assert_eq!(actions.len(), 71);
    for (i, a) in actions.iter().take(70).enumerate() {
        assert_eq!(a.run_id, run);
        assert_eq!(a.event_id.as_deref(), Some(ids[i].as_str()));
        assert_eq!(a.calendar_id.as_deref(), Some("local"));
        assert_eq!(
            (a.direction.as_str(), a.action.as_str()),
            ("pull", "create")
        );
        let fields = if i % 3 == 0 {
            format!("[\"title{i}\"]")
        } else {
            "[]".into()
        };
        assert_eq!(a.fields, fields);
        assert_eq!(a.reason, format!("new {i}"));
        assert_eq!(a.at, now().timestamp());
    }
    assert_eq!(actions[70].action, "delete");
    assert_eq!(actions[70].event_id.as_deref(), Some(ids[5].as_str()));

    let seen = ok(s.sync_step(now().timestamp(), |tx| tx.listing_ids("local")));
    let want_seen: std::collections::BTreeSet<String> = (0..70).map(|i| format!("r{i}")).collect();
    assert_eq!(seen, want_seen);

    // A step that fails after writing leaves no feed, audit or listing rows behind.
    let failed = s.sync_step(now().timestamp(), |tx| {
        for i in 100..140 {
            let id = tx.write_event(
                None,
                &review(i),
                almanac_store::EntryState::Synced,
                None,
                None,
            )?;
            tx.action(run, Some(&id), "local", "pull", "create", &[], "new")?;
        }
        tx.listing_add("local", ["r100", "r101"])?;
        Err::<(), _>(StoreError::RolledBack)
    });
    assert!(failed.is_err());
    assert_eq!(feed(&s), want);
    assert_eq!(ok(s.sync_actions(run)).len(), 71);
    assert_eq!(count(&s, "listing_seen"), 70);
}

#[test]
fn a_listing_begun_from_empty_is_marked_until_it_ends() {
    let (_d, mut s) = open();
    let at = now().timestamp();
    let copies = |s: &mut Store| ok(s.sync_step(at, |tx| tx.has_provider_copies("local")));
    let from_empty = |s: &mut Store| ok(s.sync_step(at, |tx| tx.listing_from_empty("local")));
    assert!(!copies(&mut s), "a new calendar has nothing to reconcile");
    // An event with a provider copy could be reconciled.
    let id = ok(s.sync_step(at, |tx| {
        tx.write_event(
            None,
            &review(1),
            almanac_store::EntryState::Synced,
            None,
            None,
        )
    }));
    assert!(copies(&mut s));
    ok(s.sync_step(at, |tx| tx.delete_event(&id)));
    assert!(!copies(&mut s));
    // So could a deletion of one waiting to be sent (its row is gone by then).
    ok(s.sync_step(at, |tx| {
        tx.queue_push(
            "deleted-here",
            "local",
            almanac_store::OutboxOp::Delete,
            Some(r#"{"remote_id":"r9"}"#),
        )
    }));
    assert!(copies(&mut s));

    // The mark lasts from the listing's start to its end, and another start (a reset)
    // sets it anew.
    assert!(!from_empty(&mut s));
    ok(s.sync_step(at, |tx| tx.listing_start("local", true)));
    assert!(from_empty(&mut s));
    ok(s.sync_step(at, |tx| tx.listing_start("local", false)));
    assert!(!from_empty(&mut s));
    ok(s.sync_step(at, |tx| tx.listing_start("local", true)));
    ok(s.sync_step(at, |tx| tx.listing_end("local")));
    assert!(!from_empty(&mut s));
    // A step that fails leaves it as it was.
    let failed = s.sync_step(at, |tx| {
        tx.listing_start("local", true)?;
        Err::<(), _>(StoreError::RolledBack)
    });
    assert!(failed.is_err());
    assert!(!from_empty(&mut s));
}

#[test]
fn an_imported_uid_is_kept_on_this_computer_and_a_providers_is_left_to_it() {
    let (_d, mut s) = open();
    let work = work_calendar(&mut s);
    let at = |calendar: &str| EventInput {
        calendar_id: calendar.into(),
        ..event("Imported", "2026-11-24T09:00", "2026-11-24T10:00", "UTC")
    };
    let (here, there) = ok(s.batch(Source::Import, now(), |b| {
        let here = b.create_event(at("local"))?;
        b.keep_ical_uid(&here.id, "file-uid@example.com")?;
        let there = b.create_event(at(&work))?;
        b.keep_ical_uid(&there.id, "file-uid-2@example.com")?;
        Ok((here.id, there.id))
    }));
    let plain = ok(s.create_event(at("local"), Source::Cli, now())).id;
    assert_eq!(ok(s.ical_uid_of(&here)), "file-uid@example.com");
    assert_eq!(
        ok(s.ical_uid_of(&plain)),
        plain,
        "no UID of its own: its id"
    );
    // The provider names the UIDs of its calendars (the next sync brings its own).
    assert_eq!(ok(s.ical_uid_of(&there)), there);
    let by_uid = ok(s.events_by_ical_uid("local"));
    assert_eq!(by_uid.len(), 3);
    assert_eq!(by_uid.get("file-uid@example.com"), Some(&here));
    assert_eq!(by_uid.get(&plain), Some(&plain));
    // Also by id: an export writes the id of an event whose UID another event took.
    assert_eq!(by_uid.get(&here), Some(&here));
    // A synced event answers to its provider's iCalUID.
    let mut row = synced("r1", at(&work));
    row.ical_uid = Some("provider-uid@google.com".into());
    let id = ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(None, &row, almanac_store::EntryState::Synced, None, None)
    }));
    let by_uid = ok(s.events_by_ical_uid(&work));
    assert_eq!(by_uid.get("provider-uid@google.com"), Some(&id));
    assert_eq!(by_uid.get(&there), Some(&there));
    // The file's UID still finds what was imported into the account's calendar, also
    // once sync has written the provider's UID into it: importing it again is no copy.
    assert_eq!(by_uid.get("file-uid-2@example.com"), Some(&there));
    let mut answered = synced("r2", at(&work));
    answered.ical_uid = Some("provider-uid-2@google.com".into());
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(
            Some(&there),
            &answered,
            almanac_store::EntryState::Synced,
            None,
            None,
        )
    }));
    let by_uid = ok(s.events_by_ical_uid(&work));
    assert_eq!(ok(s.ical_uid_of(&there)), "provider-uid-2@google.com");
    assert_eq!(by_uid.get("file-uid-2@example.com"), Some(&there));
    assert_eq!(by_uid.get("provider-uid-2@google.com"), Some(&there));
    // Moved into the account's calendar, the imported event leaves its file's UID
    // behind: sync would otherwise take it for the provider's event of that UID.
    let mut moved = ok(s.get_event(&here)).input;
    moved.calendar_id = work.clone();
    ok(s.update_event(
        EventChange {
            id: here.clone(),
            scope: EditScope::All,
            original_start: None,
            input: moved,
        },
        Source::Cli,
        now(),
    ));
    assert_eq!(ok(s.ical_uid_of(&here)), here);
    // Its file's UID still finds it there.
    let by_uid = ok(s.events_by_ical_uid(&work));
    assert_eq!(by_uid.get("file-uid@example.com"), Some(&here));
    assert!(!ok(s.events_by_ical_uid("local")).contains_key("file-uid@example.com"));
    // Moved on to this computer, the event imported into the account's calendar has its
    // file's UID again; the provider's stays behind.
    let mut back = ok(s.get_event(&there)).input;
    back.calendar_id = "local".into();
    ok(s.update_event(
        EventChange {
            id: there.clone(),
            scope: EditScope::All,
            original_start: None,
            input: back,
        },
        Source::Cli,
        now(),
    ));
    assert_eq!(ok(s.ical_uid_of(&there)), "file-uid-2@example.com");
    let by_uid = ok(s.events_by_ical_uid("local"));
    assert_eq!(by_uid.get("file-uid-2@example.com"), Some(&there));
    assert!(!by_uid.contains_key("provider-uid-2@google.com"));
}

/// A removed date a person adds must be one of the series' occurrences: one that names
/// none would remove nothing (the user meant another time). Refused with the day's
/// occurrences named, nothing written; dates already stored, and imports, are kept.
#[test]
fn a_removed_date_must_be_an_occurrence() {
    let (_dir, mut s) = open();
    let with_removed = |dates: &[&str]| {
        let mut e = weekly(
            event(
                "Standup",
                "2027-03-01T09:00",
                "2027-03-01T09:15",
                "Europe/Berlin",
            ),
            "FREQ=DAILY;COUNT=5",
        );
        if let Some(r) = e.recurrence.as_mut() {
            r.exdates = dates.iter().map(|d| d.to_string()).collect();
        }
        e
    };
    let week = |s: &mut Store| titles_and_starts(s, "2027-02-28T00:00:00Z", "2027-03-10T00:00:00Z");
    let err = s
        .create_event(with_removed(&["2027-03-02T09:30"]), Source::Cli, now())
        .expect_err("09:30 is no occurrence");
    let message = err.to_string();
    assert!(
        message.contains("\"2027-03-02T09:30\" is not an occurrence")
            && message.contains("that day: 2027-03-02T09:00"),
        "{message}"
    );
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(week(&mut s).is_empty(), "nothing written");
    let err = s
        .create_event(
            with_removed(&["2027-03-09T09:00"]),
            Source::UserWindow,
            now(),
        )
        .expect_err("past COUNT");
    assert!(err.to_string().contains("no occurrence that day"), "{err}");

    // An occurrence: fine, in either spelling.
    let id = ok(s.create_event(with_removed(&["2027-03-02T09:00"]), Source::Cli, now())).id;
    // The whole series edited by `change` with `removed` added, as the CLI does.
    let edit = |s: &mut Store, removed: &str, change: fn(&mut EventInput)| {
        let mut input = ok(s.get_event(&id)).input;
        change(&mut input);
        if let Some(r) = input.recurrence.as_mut() {
            r.exdates.push(removed.into());
        }
        s.update_event(
            EventChange {
                id: id.clone(),
                scope: EditScope::All,
                original_start: None,
                input,
            },
            Source::Cli,
            now(),
        )
    };
    // Adding a wrong one later is refused and changes nothing …
    assert!(edit(&mut s, "2027-03-03T10:00", |_| {}).is_err());
    let exdates = |s: &Store| ok(s.get_event(&id)).input.recurrence.map(|r| r.exdates);
    assert_eq!(exdates(&s), Some(vec!["2027-03-02T09:00:00".to_string()]));
    // … and so is one typed with a move at the series' old time (it stays where typed:
    // the move carries only the removals already stored).
    let refused = edit(&mut s, "2027-03-04T09:00", |i| {
        i.start = "2027-03-01T10:00".into();
        i.end = "2027-03-01T10:15".into();
    });
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("that day: 2027-03-04T10:00")),
        "{refused:?}"
    );
    // … while a new rule that no longer has a stored one keeps it, and edits go on.
    edit_all(&mut s, &id, |i| {
        if let Some(r) = i.recurrence.as_mut() {
            r.rrule = "FREQ=WEEKLY;COUNT=3".into();
        }
        i.title = "Weekly standup".into();
    });
    assert_eq!(exdates(&s), Some(vec!["2027-03-02T09:00:00".to_string()]));
    edit_all(&mut s, &id, |i| i.location = "Room 2".into());

    // An import keeps what the file says.
    ok(s.create_event(with_removed(&["2027-03-02T09:30"]), Source::Import, now()));
}

/// The desktop app's Pause is kept in the database, for its next start.
#[test]
fn a_pause_is_kept_across_a_reopen() {
    let dir = tempfile::tempdir().expect("dir");
    let mut s = Store::open_at(dir.path()).expect("open");
    assert!(!s.sync_paused().expect("read"));
    s.set_sync_paused(true).expect("pause");
    drop(s);
    let mut s = Store::open_at(dir.path()).expect("reopen");
    assert!(s.sync_paused().expect("read"));
    s.set_sync_paused(false).expect("resume");
    assert!(!s.sync_paused().expect("read"));
}

/// The occurrences of 2–9 March 2026: (title, original start).
fn early_march_2026(s: &mut Store) -> Vec<(String, String)> {
    ok(s.list_occurrences(&range("2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z")))
        .into_iter()
        .map(|o| (o.title, o.original_start.unwrap_or_default()))
        .collect()
}

/// An `UNTIL` names the last instance's start. Left as it was, a series moved an hour
/// later, into a zone further west, or made all-day east of UTC lost its last day —
/// and the edit of that day with it; one made all-day west of UTC gained a day.
#[test]
fn a_series_end_moves_with_the_series() {
    let daily = |s: &mut Store, start: &str, end: &str, zone: &str, until: &str| {
        let e = event("Daily", start, end, zone);
        let rule = format!("FREQ=DAILY;UNTIL={until}");
        ok(s.create_event(weekly(e, &rule), Source::Cli, now())).id
    };
    let days = |s: &mut Store| -> Vec<String> {
        early_march_2026(s)
            .into_iter()
            .map(|(_, key)| key[..10].to_owned())
            .collect()
    };
    let four = ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"];

    // An hour later, the last day edited first: four days, the edit kept.
    let (_d, mut s) = open();
    let id = daily(
        &mut s,
        "2026-03-02T09:00",
        "2026-03-02T09:30",
        "Europe/Berlin",
        "20260305T080000Z",
    );
    edit_occurrence(
        &mut s,
        &id,
        "2026-03-05T09:00",
        "Last day (edited)",
        "2026-03-05T09:00",
        "2026-03-05T09:30",
    );
    edit_all(&mut s, &id, |i| {
        i.start = "2026-03-02T10:00".into();
        i.end = "2026-03-02T10:30".into();
    });
    assert_eq!(days(&mut s), four);
    assert_eq!(
        early_march_2026(&mut s)[3],
        t2("Last day (edited)", "2026-03-05T10:00:00")
    );
    let rule = ok(s.get_event(&id)).input.recurrence.map(|r| r.rrule);
    assert_eq!(rule.as_deref(), Some("FREQ=DAILY;UNTIL=20260305T090000Z"));
    // Into another zone at the same wall time: still four days.
    edit_all(&mut s, &id, |i| i.time_zone = "America/New_York".into());
    assert_eq!(days(&mut s), four);
    // Only a title: the rule is as it was.
    edit_all(&mut s, &id, |i| i.title = "Daily call".into());
    let rule = ok(s.get_event(&id)).input.recurrence.map(|r| r.rrule);
    assert_eq!(rule.as_deref(), Some("FREQ=DAILY;UNTIL=20260305T150000Z"));
    assert!(ok(s.check()).is_empty());

    // All-day east of UTC (the last start, 07:00 in Tokyo, is 22:00Z the day before)
    // and west of it (20:00 in Los Angeles is 04:00Z the day after).
    for (start, end, zone, until, want) in [
        (
            "2026-03-02T07:00",
            "2026-03-02T08:00",
            "Asia/Tokyo",
            "20260304T220000Z",
            &four[..],
        ),
        (
            "2026-03-02T20:00",
            "2026-03-02T21:00",
            "America/Los_Angeles",
            "20260305T040000Z",
            &four[..3],
        ),
    ] {
        let (_d, mut s) = open();
        let id = daily(&mut s, start, end, zone, until);
        assert_eq!(days(&mut s), want, "{zone}, timed");
        edit_all(&mut s, &id, |i| {
            i.all_day = true;
            i.start = "2026-03-02".into();
            i.end = "2026-03-03".into();
        });
        assert_eq!(days(&mut s), want, "{zone}, all-day");
        // And back, at 09:00: the same days.
        edit_all(&mut s, &id, |i| {
            i.all_day = false;
            i.start = "2026-03-02T09:00".into();
            i.end = "2026-03-02T10:00".into();
        });
        assert_eq!(days(&mut s), want, "{zone}, timed again");
    }
}

/// Deleting every occurrence of an ending series one by one deletes the series: kept,
/// it was an event no view lists, with nothing to open and delete it from.
#[test]
fn deleting_the_last_occurrence_deletes_the_series() {
    let (_d, mut s) = open();
    let two = |s: &mut Store| {
        let e = event(
            "Two",
            "2026-03-02T09:00",
            "2026-03-02T09:30",
            "Europe/Berlin",
        );
        ok(s.create_event(weekly(e, "FREQ=DAILY;COUNT=2"), Source::Cli, now())).id
    };
    let rm = |s: &mut Store, id: &str, key: &str| {
        ok(s.delete_event(
            EventTarget {
                id: id.into(),
                scope: EditScope::Occurrence,
                original_start: Some(key.into()),
            },
            Source::Cli,
            now(),
        ))
    };
    let id = two(&mut s);
    rm(&mut s, &id, "2026-03-02T09:00");
    assert!(s.get_event(&id).is_ok(), "one day is left");
    rm(&mut s, &id, "2026-03-03T09:00");
    assert!(matches!(s.get_event(&id), Err(StoreError::NotFound(_))));
    assert_eq!(count(&s, "events"), 0);

    // A changed occurrence left keeps it; deleting that one too deletes it.
    let id = two(&mut s);
    edit_occurrence(
        &mut s,
        &id,
        "2026-03-03T09:00",
        "Two (moved)",
        "2026-03-03T11:00",
        "2026-03-03T11:30",
    );
    rm(&mut s, &id, "2026-03-02T09:00");
    assert!(s.get_event(&id).is_ok(), "the changed day is left");
    rm(&mut s, &id, "2026-03-03T09:00");
    assert!(matches!(s.get_event(&id), Err(StoreError::NotFound(_))));

    // A rule without an end is never emptied by removed days.
    let e = event(
        "Open",
        "2026-03-02T09:00",
        "2026-03-02T09:30",
        "Europe/Berlin",
    );
    let open_ended = ok(s.create_event(weekly(e, "FREQ=WEEKLY"), Source::Cli, now())).id;
    rm(&mut s, &open_ended, "2026-03-02T09:00");
    assert!(s.get_event(&open_ended).is_ok());
    assert!(ok(s.check()).is_empty());
}

/// Hiding a calendar is kept (the window's sidebar, the tray's next meeting).
#[test]
fn a_hidden_calendar_is_kept_hidden_and_left_out_of_the_next_meeting() {
    let (dir, mut s) = open();
    let e = event("Kickoff", "2026-03-02T09:00", "2026-03-02T10:00", "UTC");
    ok(s.create_event(e, Source::Cli, now()));
    let from = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"));
    let until = from + chrono::Duration::days(7);
    assert!(ok(s.next_occurrence(from, until)).is_some());
    ok(s.set_calendar_visible("local", false));
    assert!(ok(s.next_occurrence(from, until)).is_none());
    drop(s);
    let mut s = Store::open_at(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let local = ok(s.list_calendars())
        .into_iter()
        .find(|c| c.id == "local")
        .unwrap_or_else(|| panic!("no local calendar"));
    assert!(!local.visible);
    ok(s.set_calendar_visible("local", true));
    assert!(ok(s.next_occurrence(from, until)).is_some());
    assert!(matches!(
        s.set_calendar_visible("nope", false),
        Err(StoreError::NotFound(_))
    ));
}

/// Moving one occurrence changed before keeps what was changed in it: it started from
/// the series' fields, so its own title and place went back to the series'.
#[test]
fn moving_a_changed_occurrence_keeps_its_own_fields() {
    let (_d, mut s) = open();
    let e = event("Standup", "2027-03-01T09:00", "2027-03-01T09:30", "UTC");
    let id = ok(s.create_event(weekly(e, "FREQ=DAILY;COUNT=3"), Source::Cli, now())).id;
    edit_occurrence(
        &mut s,
        &id,
        "2027-03-02T09:00",
        "Standup with Dana",
        "2027-03-02T09:00",
        "2027-03-02T09:30",
    );
    let moved = ok(s.move_event(
        EventMove {
            id: id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some("2027-03-02T09:00".into()),
            all_day: false,
            start: "2027-03-02T11:00:00Z".into(),
            end: "2027-03-02T11:30:00Z".into(),
        },
        Source::UserWindow,
        now(),
    ));
    assert_eq!(moved.input.title, "Standup with Dana");
    assert_eq!(moved.input.start, "2027-03-02T11:00:00");
    assert_eq!(
        starts(&mut s, "2027-03-02T00:00:00Z", "2027-03-03T00:00:00Z"),
        [t3(
            "Standup with Dana",
            "2027-03-02T11:00:00Z",
            "2027-03-02T11:30:00Z"
        )]
    );
}

/// A series made offline in an account's calendar (no provider id yet) carries its
/// changed occurrences when it moves, as a local one does: left under their old keys,
/// a changed day showed twice, then went out as a change of an instance the series
/// does not have.
#[test]
fn a_series_not_sent_yet_carries_its_changed_occurrences() {
    let (_d, mut s) = open();
    let cal = work_calendar(&mut s);
    let mut e = event("Onboarding", "2027-03-01T09:00", "2027-03-01T09:30", "UTC");
    e.calendar_id = cal;
    let id = ok(s.create_event(weekly(e, "FREQ=DAILY;COUNT=3"), Source::Cli, now())).id;
    edit_occurrence(
        &mut s,
        &id,
        "2027-03-02T09:00",
        "Onboarding (with IT)",
        "2027-03-02T09:00",
        "2027-03-02T09:30",
    );
    edit_all(&mut s, &id, |i| {
        i.start = "2027-03-01T10:00".into();
        i.end = "2027-03-01T10:30".into();
    });
    assert_eq!(
        starts(&mut s, "2027-03-02T00:00:00Z", "2027-03-03T00:00:00Z"),
        [t3(
            "Onboarding (with IT)",
            "2027-03-02T10:00:00Z",
            "2027-03-02T10:30:00Z"
        )]
    );
    assert!(ok(s.check()).is_empty());
}
