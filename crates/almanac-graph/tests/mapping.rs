#![recursion_limit = "256"]
//! Graph event JSON ↔ RemoteEvent: every field both ways, nothing dropped, and every
//! body Almanac would send valid against the Graph OpenAPI subset.

#[path = "support/schema.rs"]
mod schema;

use almanac_graph::mapping::{from_graph, to_graph, KEPT_ATTENDEES};
use almanac_model::{AttendeeKind, Importance, MeetingProvider, Response, Sensitivity, ShowAs};
use almanac_provider::{OriginalStart, RemoteKind, RemoteRecurrence, Timing};
use chrono::{DateTime, NaiveDate, Utc};
use schema::assert_valid;
use serde_json::{json, Value};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

/// A single meeting as Graph returns it (default UTC times, HTML body wrapped).
fn meeting() -> Value {
    json!({
        "@odata.etag": "W/\"DwAAABYAAABr\"",
        "id": "AAMkAGI2TG93AAA=",
        "createdDateTime": "2026-11-01T10:00:00.1234567Z",
        "lastModifiedDateTime": "2026-11-02T10:00:00.1234567Z",
        "changeKey": "DwAAABYAAABr",
        "categories": ["Customer", "Renewal"],
        "transactionId": null,
        "originalStartTimeZone": "W. Europe Standard Time",
        "originalEndTimeZone": "W. Europe Standard Time",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "reminderMinutesBeforeStart": 15,
        "isReminderOn": true,
        "hasAttachments": false,
        "subject": "Contoso renewal",
        "bodyPreview": "Agenda: pricing",
        "importance": "high",
        "sensitivity": "private",
        "isAllDay": false,
        "isCancelled": false,
        "isOrganizer": true,
        "responseRequested": true,
        "seriesMasterId": null,
        "showAs": "tentative",
        "type": "singleInstance",
        "webLink": "https://outlook.office365.com/owa/?itemid=AAMk",
        "onlineMeetingUrl": null,
        "isOnlineMeeting": true,
        "onlineMeetingProvider": "teamsForBusiness",
        "allowNewTimeProposals": false,
        "hideAttendees": false,
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
        "body": {"contentType": "html", "content": "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><p>Agenda: <b>pricing</b> &amp; terms</p></body></html>"},
        "start": {"dateTime": "2026-11-23T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"},
        "location": {
            "displayName": "Room 4.12",
            "locationType": "conferenceRoom",
            "locationEmailAddress": "room412@contoso.example",
            "uniqueId": "room412@contoso.example",
            "uniqueIdType": "directory",
            "address": {"street": "1 Main St", "city": "Berlin", "countryOrRegion": "DE"}
        },
        "locations": [{"displayName": "Room 4.12", "locationType": "conferenceRoom"}],
        "attendees": [
            {"type": "required", "status": {"response": "accepted", "time": "2026-11-02T09:00:00Z"},
             "emailAddress": {"name": "Pat Buyer", "address": "pat@fabrikam.example"}},
            {"type": "optional", "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
             "emailAddress": {"name": "Lee", "address": "lee@fabrikam.example"}},
            {"type": "resource", "status": {"response": "tentativelyAccepted", "time": "0001-01-01T00:00:00Z"},
             "emailAddress": {"name": "Room 4.12", "address": "room412@contoso.example"}}
        ],
        "organizer": {"emailAddress": {"name": "Adele Vance", "address": "adele@contoso.example"}},
        "onlineMeeting": {"joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting", "conferenceId": "177513992", "tollNumber": "+1 425-555-0100"}
    })
}

#[test]
fn a_full_meeting_reads_every_field() {
    let v = meeting();
    assert_valid("event", &v);
    let e = from_graph(&v, "UTC").expect("maps");
    assert_eq!(e.remote_id, "AAMkAGI2TG93AAA=");
    assert_eq!(e.etag.as_deref(), Some("W/\"DwAAABYAAABr\""));
    assert_eq!(
        e.ical_uid.as_deref(),
        Some("040000008200E00074C5B7101A82E008")
    );
    assert_eq!(e.kind, RemoteKind::Single);
    assert_eq!(e.title, "Contoso renewal");
    assert_eq!(
        e.body_html.as_deref(),
        Some("<p>Agenda: <b>pricing</b> &amp; terms</p>")
    );
    assert_eq!(e.body_text, "Agenda: pricing & terms");
    assert_eq!(
        e.timing,
        Timing::Timed {
            start: utc("2026-11-23T08:00:00Z"),
            end: utc("2026-11-23T09:00:00Z"),
            time_zone: "Europe/Berlin".into()
        }
    );
    assert_eq!(e.show_as, ShowAs::Tentative);
    assert_eq!(e.importance, Importance::High);
    assert_eq!(e.sensitivity, Sensitivity::Private);
    assert_eq!(e.categories, vec!["Customer", "Renewal"]);
    assert_eq!(e.location, "Room 4.12");
    assert_eq!(e.attendees.len(), 3);
    assert_eq!(e.attendees[0].response, Response::Accepted);
    assert_eq!(e.attendees[1].kind, AttendeeKind::Optional);
    assert_eq!(e.attendees[2].kind, AttendeeKind::Resource);
    assert_eq!(e.attendees[2].response, Response::Tentative);
    assert_eq!(
        e.organizer.as_ref().map(|o| o.email.as_str()),
        Some("adele@contoso.example")
    );
    let m = e.online_meeting.as_ref().expect("teams");
    assert_eq!(m.provider, MeetingProvider::Teams);
    assert_eq!(m.conference_id.as_deref(), Some("177513992"));
    assert_eq!(m.toll_number.as_deref(), Some("+1 425-555-0100"));
    assert_eq!(e.reminder_minutes, Some(15));
    assert!(e.extra.contains_key("webLink") && e.extra.contains_key("allowNewTimeProposals"));
}

#[test]
fn writing_back_keeps_what_almanac_does_not_model_and_sends_only_writable_fields() {
    let e = from_graph(&meeting(), "UTC").expect("maps");
    let out = to_graph(&e).expect("writable");
    assert_valid("event", &out);
    // Wall times in the event's own zone, named the Windows way.
    assert_eq!(
        out["start"],
        json!({"dateTime": "2026-11-23T09:00:00", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(out["end"]["dateTime"], "2026-11-23T10:00:00");
    // Unmodelled writable fields survive; the location object keeps its room mailbox
    // and address; attendee objects keep their response times.
    assert_eq!(out["allowNewTimeProposals"], false);
    assert_eq!(out["responseRequested"], true);
    assert_eq!(out["hideAttendees"], false);
    assert_eq!(
        out["location"]["locationEmailAddress"],
        "room412@contoso.example"
    );
    assert_eq!(out["location"]["address"]["city"], "Berlin");
    assert_eq!(
        out["locations"],
        meeting()["locations"],
        "not replaced by `location`"
    );
    assert_eq!(
        out["attendees"][0]["status"]["time"],
        "2026-11-02T09:00:00Z"
    );
    assert_eq!(
        out["body"],
        json!({"contentType": "html", "content": "<p>Agenda: <b>pricing</b> &amp; terms</p>"})
    );
    assert_eq!(out["isOnlineMeeting"], true);
    // Read-only properties are not sent back.
    for k in [
        "id",
        "changeKey",
        "webLink",
        "iCalUId",
        "createdDateTime",
        "bodyPreview",
        "type",
        "onlineMeeting",
        "responseStatus",
        "isOrganizer",
    ] {
        assert!(out.get(k).is_none(), "{k} must not be written");
    }
    // Reading the written body back (as Graph would echo it) gives the same event.
    let mut echoed = out.clone();
    echoed["id"] = json!(e.remote_id);
    echoed["@odata.etag"] = json!(e.etag);
    echoed["iCalUId"] = json!(e.ical_uid);
    echoed["type"] = json!("singleInstance");
    echoed["onlineMeeting"] = meeting()["onlineMeeting"].clone();
    echoed["organizer"] = meeting()["organizer"].clone();
    echoed["originalStartTimeZone"] = json!("W. Europe Standard Time");
    let again = from_graph(&echoed, "UTC").expect("maps");
    assert_eq!(again.timing, e.timing);
    assert_eq!(again.title, e.title);
    assert_eq!(again.body_html, e.body_html);
    assert_eq!(again.attendees, e.attendees);
    assert_eq!(again.location, e.location);
    assert_eq!(
        (again.show_as, again.importance, again.sensitivity),
        (e.show_as, e.importance, e.sensitivity)
    );
    assert_eq!(again.categories, e.categories);
    assert_eq!(again.reminder_minutes, e.reminder_minutes);
}

#[test]
fn a_time_in_the_repeated_hour_of_a_fall_back_is_written_in_utc() {
    // Berlin 2027-10-31 03:00 CEST → 02:00 CET. Graph's `dateTime` has no offset, so
    // the second 02:15 (01:15Z) written as Berlin's 02:15 would be read as the first.
    let mut e = from_graph(&meeting(), "UTC").expect("maps");
    e.timing = Timing::Timed {
        start: utc("2027-10-31T00:30:00Z"),
        end: utc("2027-10-31T01:15:00Z"),
        time_zone: "Europe/Berlin".into(),
    };
    let out = to_graph(&e).expect("writable");
    assert_valid("event", &out);
    assert_eq!(
        out["start"],
        json!({"dateTime": "2027-10-31T02:30:00", "timeZone": "W. Europe Standard Time"})
    );
    assert_eq!(
        out["end"],
        json!({"dateTime": "2027-10-31T01:15:00", "timeZone": "UTC"})
    );
}

#[test]
fn an_edited_location_replaces_the_old_object() {
    let mut e = from_graph(&meeting(), "UTC").expect("maps");
    e.location = "Café Lindt".into();
    e.attendees.remove(1);
    let out = to_graph(&e).expect("writable");
    assert_eq!(out["location"], json!({"displayName": "Café Lindt"}));
    assert_eq!(out["attendees"].as_array().map(Vec::len), Some(2));
    assert_valid("event", &out);
}

/// An all-day instance's `originalStart` is the instant its day began where the
/// series is kept: in Berlin, 5 June begins on 4 June at 22:00Z. Read as its UTC date
/// it named the day before, and an edit of it here edited the wrong day there.
#[test]
fn an_all_day_original_start_is_the_day_it_began_where_the_series_is() {
    let instance = |kind: &str, original: &str, zone: &str, start: &str| {
        let v = json!({
            "id": "x", "subject": "Offsite", "isAllDay": true, "type": kind,
            "seriesMasterId": "m", "originalStart": original,
            "originalStartTimeZone": zone,
            "start": {"dateTime": format!("{start}T00:00:00.0000000"), "timeZone": "UTC"},
            "end": {"dateTime": "2018-06-09T00:00:00.0000000", "timeZone": "UTC"},
        });
        match from_graph(&v, "UTC")
            .expect("maps")
            .series
            .map(|l| l.original_start)
        {
            Some(OriginalStart::AllDay(d)) => d.to_string(),
            other => panic!("{other:?}"),
        }
    };
    // A changed occurrence moved to another day: only `originalStart` tells its day.
    let moved = |original, zone| instance("exception", original, zone, "2018-06-08");
    assert_eq!(
        moved("2018-06-04T22:00:00Z", "W. Europe Standard Time"),
        "2018-06-05"
    );
    assert_eq!(
        moved("2018-06-05T07:00:00Z", "Pacific Standard Time"),
        "2018-06-05"
    );
    assert_eq!(
        moved("2018-06-04T12:00:00Z", "New Zealand Standard Time"),
        "2018-06-05"
    );
    // Named UTC though it is not midnight there (seen at Graph): the nearest midnight.
    assert_eq!(moved("2018-06-05T07:00:00Z", "UTC"), "2018-06-05");
    assert_eq!(moved("2018-06-04T22:00:00Z", "UTC"), "2018-06-05");
    // Midnight UTC is that day.
    assert_eq!(
        moved("2018-06-05T00:00:00Z", "Pacific Standard Time"),
        "2018-06-05"
    );
    // An occurrence as the series made it is on its own day.
    assert_eq!(
        instance("occurrence", "2018-06-04T10:00:00Z", "UTC", "2018-06-05"),
        "2018-06-05"
    );
}

#[test]
fn all_day_events_are_civil_dates_with_an_exclusive_end() {
    let v = json!({
        "id": "x", "subject": "Offsite", "isAllDay": true, "type": "singleInstance",
        "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-27T00:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "Pacific Standard Time",
        "isReminderOn": false, "reminderMinutesBeforeStart": 1080,
        "body": {"contentType": "text", "content": "Bring <snacks>"}
    });
    assert_valid("event", &v);
    let e = from_graph(&v, "UTC").expect("maps");
    assert_eq!(
        e.timing,
        Timing::AllDay {
            start: NaiveDate::from_ymd_opt(2026, 12, 24).expect("date"),
            end: NaiveDate::from_ymd_opt(2026, 12, 27).expect("date")
        }
    );
    assert_eq!(e.reminder_minutes, None);
    assert_eq!(e.body_text, "Bring <snacks>");
    assert_eq!(e.body_html, None);
    let out = to_graph(&e).expect("writable");
    assert_valid("event", &out);
    assert_eq!(out["isAllDay"], true);
    assert_eq!(out["start"]["dateTime"], "2026-12-24T00:00:00");
    assert_eq!(out["end"]["dateTime"], "2026-12-27T00:00:00");
    assert_eq!(
        out["body"],
        json!({"contentType": "text", "content": "Bring <snacks>"})
    );
}

#[test]
fn series_masters_occurrences_and_exceptions() {
    let master = json!({
        "id": "M", "type": "seriesMaster", "subject": "Weekly sync", "isAllDay": false,
        "originalStartTimeZone": "Pacific Standard Time",
        "start": {"dateTime": "2026-11-02T17:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-02T17:30:00.0000000", "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "sunday"},
            "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 10, "recurrenceTimeZone": "Pacific Standard Time"}
        }
    });
    assert_valid("event", &master);
    let m = from_graph(&master, "UTC").expect("maps");
    assert_eq!(m.kind, RemoteKind::Master);
    let rule = m.recurrence.clone().expect("rule").rrule;
    assert!(
        rule.contains("FREQ=WEEKLY") && rule.contains("BYDAY=MO,WE") && rule.contains("COUNT=10"),
        "{rule}"
    );
    let out = to_graph(&m).expect("writable");
    assert_valid("event", &out);
    assert_eq!(
        out["recurrence"]["pattern"]["daysOfWeek"],
        json!(["monday", "wednesday"])
    );
    assert_eq!(out["recurrence"]["range"]["numberOfOccurrences"], 10);
    assert_eq!(
        out["start"],
        json!({"dateTime": "2026-11-02T09:00:00", "timeZone": "Pacific Standard Time"})
    );

    let exception = json!({
        "id": "E", "type": "exception", "seriesMasterId": "M", "subject": "Weekly sync (moved)",
        "originalStart": "2026-11-04T17:00:00Z", "isAllDay": false,
        "start": {"dateTime": "2026-11-04T19:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-04T19:30:00.0000000", "timeZone": "UTC"}
    });
    assert_valid("event", &exception);
    let x = from_graph(&exception, "America/Los_Angeles").expect("maps");
    assert_eq!(x.kind, RemoteKind::Exception);
    let link = x.series.expect("series link");
    assert_eq!(link.master_id, "M");
    assert_eq!(
        link.original_start,
        OriginalStart::Timed(utc("2026-11-04T17:00:00Z"))
    );
    // No zone of its own: the fallback zone.
    assert!(
        matches!(x.timing, Timing::Timed { ref time_zone, .. } if time_zone == "America/Los_Angeles")
    );
}

#[test]
fn rules_graph_cannot_hold_are_refused_not_altered() {
    let mut m = from_graph(&meeting(), "UTC").expect("maps");
    for (rule, rdates) in [
        ("FREQ=HOURLY;INTERVAL=2", vec![]),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", vec![]),
        ("FREQ=WEEKLY;BYDAY=MO", vec!["2026-12-01T09:00".to_string()]),
    ] {
        m.recurrence = Some(RemoteRecurrence {
            rrule: rule.into(),
            exdates: vec![],
            rdates,
        });
        let why = to_graph(&m).expect_err(rule);
        assert!(why.contains("cannot hold"), "{why}");
    }
}

#[test]
fn hostile_events_are_errors_not_panics() {
    for v in [
        json!(null),
        json!({"id": ""}),
        json!({"id": "x"}),
        json!({"id": "x", "start": {"dateTime": "yesterday", "timeZone": "UTC"}, "end": {}}),
        json!({"id": "x", "start": {"dateTime": "2026-01-01T00:00:00", "timeZone": "Mars/Olympus"}, "end": {"dateTime": "2026-01-01T00:00:00", "timeZone": "UTC"}}),
        json!({"id": "x", "type": "exception", "seriesMasterId": "M", "originalStart": "garbage",
               "start": {"dateTime": "2026-01-01T00:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-01-01T01:00:00", "timeZone": "UTC"}}),
        json!({"id": "x", "recurrence": {"pattern": {"type": "weekly"}},
               "start": {"dateTime": "2026-01-01T00:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-01-01T01:00:00", "timeZone": "UTC"}}),
    ] {
        assert!(from_graph(&v, "UTC").is_err(), "{v}");
    }
}

/// chrono reads signed years out to ±262,142, where adding an hour or a day panics: a
/// page that came back on every run would have been a crash at every run.
#[test]
fn dates_beyond_the_years_almanac_reads_are_errors_not_panics() {
    let timed = |start: &str, zone: &str| {
        json!({"id": "x", "start": {"dateTime": start, "timeZone": zone},
               "end": {"dateTime": start, "timeZone": zone}})
    };
    let weekly_from = |start_date: &str| {
        json!({"id": "x", "type": "seriesMaster",
               "start": {"dateTime": "2026-01-05T09:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2026-01-05T10:00:00", "timeZone": "UTC"},
               "recurrence": {
                   "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
                   "range": {"type": "noEnd", "startDate": start_date, "recurrenceTimeZone": "UTC"}}})
    };
    for v in [
        timed("+262142-12-31T23:30:00", "Pacific Standard Time"),
        timed("-262143-01-01T00:30:00", "Tokyo Standard Time"),
        timed("+10000-01-01T00:00:00", "UTC"),
        weekly_from("-262143-01-01"),
        weekly_from("+262142-12-31"),
        json!({"id": "x", "isAllDay": true,
               "start": {"dateTime": "+262142-12-31T00:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "+262142-12-31T00:00:00", "timeZone": "UTC"}}),
    ] {
        assert!(from_graph(&v, "UTC").is_err(), "{v}");
    }
    // The years' ends themselves are read.
    assert!(from_graph(&timed("9999-12-31T22:00:00", "UTC"), "UTC").is_ok());
    assert!(from_graph(&timed("0001-01-01T02:00:00", "UTC"), "UTC").is_ok());
}

#[test]
fn attendees_are_kept_only_where_a_write_cannot_render_them() {
    let listed = meeting()["attendees"].clone();
    let e = from_graph(&meeting(), "UTC").expect("maps");
    // Pat's answer has a time, which Almanac does not hold: kept. Lee and the room,
    // who never answered, are what a write renders from Almanac's own list.
    assert!(e.extra.get("attendees").is_none());
    assert_eq!(
        e.extra.get(KEPT_ATTENDEES),
        Some(&json!([listed[0].clone()]))
    );
    // Unchanged, the list goes back as listed, in order.
    let out = to_graph(&e).expect("writable");
    assert_eq!(out["attendees"], listed);
    assert!(out.get(KEPT_ATTENDEES).is_none(), "not a Graph property");
    assert_valid("event", &out);

    // An answer changed here, an attendee removed, one added: the kept one keeps its
    // time, the new one is rendered as Graph lists one who has not answered.
    let mut edited = e.clone();
    edited.attendees[0].response = Response::Declined;
    edited.attendees.remove(1);
    edited.attendees.push(almanac_model::Attendee {
        person: almanac_model::Person {
            email: "new@fabrikam.example".into(),
            name: "New".into(),
        },
        kind: AttendeeKind::Required,
        response: Response::None,
    });
    let out = to_graph(&edited).expect("writable");
    assert_eq!(
        out["attendees"],
        json!([
            {"type": "required", "status": {"response": "declined", "time": "2026-11-02T09:00:00Z"},
             "emailAddress": {"name": "Pat Buyer", "address": "pat@fabrikam.example"}},
            listed[2].clone(),
            {"type": "required", "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
             "emailAddress": {"name": "New", "address": "new@fabrikam.example"}},
        ])
    );
}

#[test]
fn attendees_that_cannot_be_found_by_address_are_kept_whole() {
    for list in [
        // Two with one address (in another case), one without an address.
        json!([{"type": "required", "emailAddress": {"name": "A", "address": "a@x.example"},
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}},
               {"type": "optional", "emailAddress": {"name": "A2", "address": "A@x.example"},
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}}]),
        json!([{"type": "required", "emailAddress": {"name": "Nobody"},
                "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}}]),
    ] {
        let mut v = meeting();
        v["attendees"] = list.clone();
        let e = from_graph(&v, "UTC").expect("maps");
        assert_eq!(e.extra.get("attendees"), Some(&list), "{list}");
        assert!(e.extra.get(KEPT_ATTENDEES).is_none());
    }
    // Nobody to keep: no key at all.
    let mut v = meeting();
    v["attendees"] = json!([{"type": "optional", "emailAddress": {"name": "Lee", "address": "lee@x.example"},
                             "status": {"response": "none", "time": "0001-01-01T00:00:00Z"}}]);
    let e = from_graph(&v, "UTC").expect("maps");
    assert!(e.extra.get("attendees").is_none() && e.extra.get(KEPT_ATTENDEES).is_none());
}

#[test]
fn a_property_named_like_the_kept_attendees_is_not_taken_from_an_answer() {
    let mut v = meeting();
    v[KEPT_ATTENDEES] = json!([{"type": "required", "emailAddress": {"name": "Planted",
        "address": "lee@fabrikam.example"}, "status": {"response": "declined", "time": "2026-01-01T00:00:00Z"}}]);
    let e = from_graph(&v, "UTC").expect("maps");
    let listed = meeting()["attendees"].clone();
    assert_eq!(
        e.extra.get(KEPT_ATTENDEES),
        Some(&json!([listed[0].clone()]))
    );
    assert_eq!(to_graph(&e).expect("writable")["attendees"], listed);
}

#[test]
fn an_event_stored_with_its_whole_attendee_list_writes_as_before() {
    // Earlier builds kept the list whole under `attendees`.
    let listed = meeting()["attendees"].clone();
    let mut e = from_graph(&meeting(), "UTC").expect("maps");
    e.extra.remove(KEPT_ATTENDEES);
    e.extra.insert("attendees".into(), listed.clone());
    assert_eq!(to_graph(&e).expect("writable")["attendees"], listed);
}

/// A meeting whose `location` and `locations` are `location`, with nothing else kept.
fn located(location: Value, locations: Value) -> Value {
    json!({
        "id": "L", "type": "singleInstance", "subject": "Site visit", "isAllDay": false,
        "start": {"dateTime": "2026-11-23T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"},
        "bodyPreview": "Bring the badge",
        "body": {"contentType": "text", "content": "Bring the badge"},
        "transactionId": null, "onlineMeetingUrl": null, "onlineMeeting": null,
        "webLink": "https://outlook.office365.com/owa/?itemid=L",
        "location": location,
        "locations": locations,
    })
}

#[test]
fn a_location_a_write_of_its_name_renders_is_not_kept() {
    let room = json!({"displayName": "Room 9", "locationType": "default", "uniqueId": "Room 9",
                      "uniqueIdType": "private", "address": {}, "coordinates": {}});
    // Graph's own example lists the same place with an unknown id in `locations`.
    let unknown =
        json!({"displayName": "Room 9", "locationType": "default", "uniqueIdType": "unknown"});
    let nowhere = json!({"displayName": "", "locationType": "default", "uniqueIdType": "unknown",
                         "address": {}, "coordinates": {}});
    for (location, locations, name) in [
        (room.clone(), json!([room.clone()]), "Room 9"),
        (room.clone(), json!([unknown]), "Room 9"),
        (nowhere.clone(), json!([]), ""),
        (
            json!({"displayName": "Room 9"}),
            json!([{"displayName": "Room 9"}]),
            "Room 9",
        ),
    ] {
        let v = located(location.clone(), locations.clone());
        assert_valid("event", &v);
        let e = from_graph(&v, "UTC").expect("maps");
        assert_eq!(e.location, name);
        for gone in [
            "location",
            "locations",
            "bodyPreview",
            "transactionId",
            "onlineMeetingUrl",
            "onlineMeeting",
        ] {
            assert!(!e.extra.contains_key(gone), "{gone} kept for {location}");
        }
        assert!(e.extra.contains_key("webLink"));
        let out = to_graph(&e).expect("writable");
        assert_valid("event", &out);
        assert_eq!(out["location"], json!({"displayName": name}));
        assert!(out.get("locations").is_none());
    }
}

#[test]
fn a_location_with_more_than_its_name_is_kept_whole_and_written_back() {
    let plain = json!({"displayName": "Room 9", "locationType": "default", "uniqueId": "Room 9",
                       "uniqueIdType": "private", "address": {}, "coordinates": {}});
    let with = |field: &str, value: Value| {
        let mut l = plain.clone();
        l[field] = value;
        l
    };
    let cases = [
        (
            with("address", json!({"city": "Berlin"})),
            json!([plain.clone()]),
        ),
        (
            with("coordinates", json!({"latitude": 52.5})),
            json!([plain.clone()]),
        ),
        (
            with("locationType", json!("conferenceRoom")),
            json!([plain.clone()]),
        ),
        (
            with("uniqueIdType", json!("directory")),
            json!([plain.clone()]),
        ),
        (
            with("uniqueId", json!("room9@contoso.example")),
            json!([plain.clone()]),
        ),
        (
            with("locationEmailAddress", json!("room9@contoso.example")),
            json!([plain.clone()]),
        ),
        (
            with("locationUri", json!("https://maps.example/9")),
            json!([plain.clone()]),
        ),
        // Two places: Graph names both in `location`, one each in `locations`.
        (
            with("displayName", json!("Room 9; Room 10")),
            json!([plain.clone(), with("displayName", json!("Room 10"))]),
        ),
        (
            plain.clone(),
            json!([with("address", json!({"city": "Berlin"}))]),
        ),
        (
            plain.clone(),
            json!([with("displayName", json!("Room 10"))]),
        ),
        (plain.clone(), json!([])),
        (plain.clone(), json!("Room 9")),
        (json!({"locationType": "default"}), json!([])),
    ];
    for (location, locations) in cases {
        let e = from_graph(&located(location.clone(), locations.clone()), "UTC").expect("maps");
        assert_eq!(e.extra.get("location"), Some(&location), "{location}");
        assert_eq!(
            e.extra.get("locations"),
            Some(&locations),
            "{location} {locations}"
        );
        let mut out = to_graph(&e).expect("writable");
        assert_eq!(out["location"], location, "written back as it came");
        // Written alone, `location` would replace what `locations` holds: both go back.
        let listed = locations.as_array().is_some_and(|l| !l.is_empty());
        assert_eq!(out.get("locations"), listed.then_some(&locations));
        if listed {
            assert_valid("event", &out);
            let mut moved = e.clone();
            moved.location = "Café Lindt".into();
            out = to_graph(&moved).expect("writable");
            assert_eq!(out["location"], json!({"displayName": "Café Lindt"}));
            assert!(out.get("locations").is_none(), "a new place replaces both");
        }
    }
    // A listing without either keeps nothing and writes an empty name.
    let mut v = located(Value::Null, Value::Null);
    let o = v.as_object_mut().expect("object");
    o.remove("location");
    o.remove("locations");
    let e = from_graph(&v, "UTC").expect("maps");
    assert!(!e.extra.contains_key("location") && !e.extra.contains_key("locations"));
    assert_eq!(
        to_graph(&e).expect("writable")["location"],
        json!({"displayName": ""})
    );
}

#[test]
fn a_transaction_id_is_kept_for_recognising_a_create_of_ours() {
    let mut v = located(
        json!({"displayName": "Room 9"}),
        json!([{"displayName": "Room 9"}]),
    );
    v["transactionId"] = json!("4f1c2d3e-0000-4000-8000-00000000000a");
    let e = from_graph(&v, "UTC").expect("maps");
    assert_eq!(
        e.extra.get("transactionId"),
        Some(&json!("4f1c2d3e-0000-4000-8000-00000000000a"))
    );
    assert!(to_graph(&e)
        .expect("writable")
        .get("transactionId")
        .is_none());
}

/// Desktop Outlook's legacy custom zones (`tzone://Microsoft/Custom`) name no zone: a
/// series made in one was expanded in UTC, every occurrence an hour off Outlook's for
/// half the year, and one with an end date was not read at all.
#[test]
fn a_series_in_a_custom_zone_is_read_in_its_series_zone() {
    let custom = "tzone://Microsoft/Custom";
    let weekly = |recurrence_zone: &str| {
        json!({"id": "M", "type": "seriesMaster", "subject": "Weekly with Dana",
               "originalStartTimeZone": custom, "originalEndTimeZone": custom,
               "start": {"dateTime": "2026-01-05T08:00:00.0000000", "timeZone": "UTC"},
               "end": {"dateTime": "2026-01-05T09:00:00.0000000", "timeZone": "UTC"},
               "recurrence": {
                   "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"],
                               "firstDayOfWeek": "sunday"},
                   "range": {"type": "endDate", "startDate": "2026-01-05",
                             "endDate": "2026-06-29", "recurrenceTimeZone": recurrence_zone}}})
    };
    // 09:00 in Berlin every Monday: 08:00Z in winter, 07:00Z in summer.
    let e = from_graph(&weekly("W. Europe Standard Time"), "UTC").expect("maps");
    let Timing::Timed { time_zone, .. } = &e.timing else {
        panic!("timed")
    };
    assert_eq!(time_zone, "Europe/Berlin");
    let rule = e.recurrence.as_ref().expect("a series").rrule.clone();
    // The last day ends at midnight in Berlin, in summer time.
    assert!(rule.contains("UNTIL=20260629T215959Z"), "{rule}");
    // Custom everywhere: read in the fallback zone, the end date with it, not refused.
    let e = from_graph(&weekly(custom), "Europe/Paris").expect("maps");
    assert!(matches!(&e.timing, Timing::Timed { time_zone, .. } if time_zone == "Europe/Paris"));
    let rule = e.recurrence.as_ref().expect("a series").rrule.clone();
    assert!(rule.contains("UNTIL=20260629T215959Z"), "{rule}");
    assert_eq!(e.extra.get("originalStartTimeZone"), Some(&json!(custom)));
}

#[test]
fn zone_names_and_change_keys_are_kept_only_when_they_say_more() {
    let zoned = |start: &str, end: &str| {
        let mut v = located(json!({"displayName": ""}), json!([]));
        v["originalStartTimeZone"] = json!(start);
        v["originalEndTimeZone"] = json!(end);
        v
    };
    // Both name the event's zone: nothing kept.
    let e = from_graph(
        &zoned("W. Europe Standard Time", "W. Europe Standard Time"),
        "UTC",
    )
    .expect("maps");
    assert!(matches!(&e.timing, Timing::Timed { time_zone, .. } if time_zone == "Europe/Berlin"));
    assert!(!e.extra.contains_key("originalStartTimeZone"));
    assert!(!e.extra.contains_key("originalEndTimeZone"));
    // A custom zone CLDR does not know is kept; the event is read in its end's zone
    // when that has a name, else in the fallback zone.
    let custom = "Customized Time Zone 1";
    let e = from_graph(&zoned(custom, "Pacific Standard Time"), "Europe/Paris").expect("maps");
    assert!(
        matches!(&e.timing, Timing::Timed { time_zone, .. } if time_zone == "America/Los_Angeles")
    );
    assert_eq!(e.extra.get("originalStartTimeZone"), Some(&json!(custom)));
    assert!(!e.extra.contains_key("originalEndTimeZone"));
    let e = from_graph(&zoned(custom, custom), "Europe/Paris").expect("maps");
    assert!(matches!(&e.timing, Timing::Timed { time_zone, .. } if time_zone == "Europe/Paris"));
    assert_eq!(e.extra.get("originalEndTimeZone"), Some(&json!(custom)));
    // An end in another zone than the start is kept.
    let e = from_graph(
        &zoned("W. Europe Standard Time", "Pacific Standard Time"),
        "UTC",
    )
    .expect("maps");
    assert!(matches!(&e.timing, Timing::Timed { time_zone, .. } if time_zone == "Europe/Berlin"));
    assert_eq!(
        e.extra.get("originalEndTimeZone"),
        Some(&json!("Pacific Standard Time"))
    );
    // The change key is the etag's text: kept only when it is not.
    for (etag, kept) in [
        (json!("W/\"DwAAABYAAABr\""), false),
        (json!("W/\"Other\""), true),
        (json!("\"DwAAABYAAABr\""), true),
        (Value::Null, true),
    ] {
        let mut v = located(json!({"displayName": ""}), json!([]));
        v["changeKey"] = json!("DwAAABYAAABr");
        v["@odata.etag"] = etag.clone();
        let e = from_graph(&v, "UTC").expect("maps");
        assert_eq!(e.extra.contains_key("changeKey"), kept, "{etag}");
        assert!(to_graph(&e).expect("writable").get("changeKey").is_none());
    }
}
