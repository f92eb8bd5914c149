use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::raw::RawObject;
use almanac_provider::{
    Change, OriginalStart, RemoteEvent, RemoteKind, RemoteRecurrence, SeriesLink, Timing,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

#[path = "../../tests/support/discovery.rs"]
mod discovery;

const ZONE: &str = "Europe/Berlin";

fn ctx() -> CalendarContext {
    CalendarContext {
        time_zone: Some(ZONE.into()),
        default_reminders: vec![
            EventReminder {
                method: Some("popup".into()),
                minutes: Some(10),
                ..EventReminder::default()
            },
            EventReminder {
                method: Some("email".into()),
                minutes: Some(30),
                ..EventReminder::default()
            },
        ],
    }
}

/// `v` read whole, after checking that it reads the same as an event of a listed page
/// (the text of its properties), so every test here covers both reads.
fn read(v: &Value) -> Change {
    let whole = from_google_json(v.clone(), &ctx()).expect("maps");
    let text = v.to_string();
    let item: RawObject = serde_json::from_str(&text).expect("an object");
    let listed = from_google_listed(&item, &ctx()).expect("maps as listed");
    assert_eq!(listed, whole, "listed and whole reads differ for {v}");
    whole
}

fn upsert(v: &Value) -> RemoteEvent {
    match read(v) {
        Change::Upsert(e) => *e,
        Change::Removed { remote_id } => panic!("{remote_id} read as removed"),
    }
}

/// The write body, checked against the discovery document.
fn body(ev: &RemoteEvent) -> Value {
    let b = Value::Object(to_google(ev, &ctx()).expect("renders"));
    discovery::assert_fits("Event", &b);
    b
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// What may differ between Google's JSON and Almanac's write of it without a change
/// in meaning: an absent text field and `""`; an absent status and `confirmed`; the
/// spelling of a `dateTime` (compared as an instant) and an absent `timeZone` (the
/// calendar's zone).
fn normalise(v: &Value) -> Value {
    let mut m = v.as_object().cloned().expect("object");
    for k in ["summary", "description", "location"] {
        if m.get(k) == Some(&json!("")) {
            m.remove(k);
        }
    }
    m.entry("status").or_insert(json!("confirmed"));
    for k in ["start", "end", "originalStartTime"] {
        if let Some(Value::Object(dt)) = m.get_mut(k) {
            if let Some(s) = dt.get("dateTime").and_then(Value::as_str) {
                let t = utc(s).to_rfc3339();
                dt.insert("dateTime".into(), json!(t));
                dt.entry("timeZone").or_insert(json!(ZONE));
            }
        }
    }
    Value::Object(m)
}

fn rich() -> Value {
    json!({
        "kind": "calendar#event",
        "etag": "\"3390000000000000\"",
        "id": "series1",
        "status": "confirmed",
        "htmlLink": "https://www.google.com/calendar/event?eid=x",
        "created": "2025-01-01T10:00:00.000Z",
        "updated": "2025-01-02T10:00:00.000Z",
        "summary": "Weekly sync",
        "description": "Agenda:<br><b>one</b> &amp; two",
        "location": "Room 1",
        "colorId": "5",
        "creator": {"email": "boss@example.com", "displayName": "Boss"},
        "organizer": {"email": "boss@example.com", "displayName": "Boss", "self": false},
        "start": {"dateTime": "2025-03-03T09:00:00+01:00", "timeZone": ZONE},
        "end": {"dateTime": "2025-03-03T10:00:00+01:00", "timeZone": ZONE},
        "recurrence": [
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250601T000000Z",
            "EXDATE;TZID=Europe/Berlin:20250310T090000,20250317T090000",
            "EXDATE:20250324T080000Z",
            "EXRULE:FREQ=MONTHLY;BYDAY=1MO"
        ],
        "transparency": "opaque",
        "visibility": "private",
        "iCalUID": "series1@google.com",
        "sequence": 2,
        "attendees": [
            {"email": "boss@example.com", "displayName": "Boss", "organizer": true, "responseStatus": "accepted"},
            {"email": "me@example.com", "self": true, "responseStatus": "tentative", "comment": "maybe"},
            {"email": "opt@example.com", "optional": true, "responseStatus": "needsAction", "additionalGuests": 1},
            {"email": "room1@resource.calendar.google.com", "displayName": "Room 1", "resource": true, "responseStatus": "accepted"},
            {"email": "no@example.com", "responseStatus": "declined"}
        ],
        "hangoutLink": "https://meet.google.com/aaa-bbbb-ccc",
        "conferenceData": {
            "entryPoints": [
                {"entryPointType": "video", "uri": "https://meet.google.com/aaa-bbbb-ccc", "label": "meet.google.com/aaa-bbbb-ccc"},
                {"entryPointType": "phone", "uri": "tel:+1-555-0100", "label": "+1 555-0100", "pin": "123456", "regionCode": "US"},
                {"entryPointType": "more", "uri": "https://tel.meet/aaa-bbbb-ccc?pin=123"}
            ],
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet", "iconUri": "https://x/icon.png"},
            "conferenceId": "aaa-bbbb-ccc",
            "signature": "sig"
        },
        "reminders": {"useDefault": false, "overrides": [
            {"method": "email", "minutes": 1440},
            {"method": "popup", "minutes": 15},
            {"method": "popup", "minutes": 5}
        ]},
        "extendedProperties": {
            "private": {
                "almanacShowAs": "tentative",
                "almanacSensitivity": "personal",
                "almanacImportance": "high",
                "almanacCategories": "[\"Work\",\"Blue, green\"]",
                "otherApp": "keep"
            },
            "shared": {"sharedKey": "v"}
        },
        "guestsCanModify": false,
        "guestsCanInviteOthers": true,
        "source": {"title": "Ticket", "url": "https://tracker/1"},
        "attachments": [{"fileUrl": "https://drive/x", "title": "doc", "mimeType": "application/pdf", "fileId": "f1"}],
        "eventType": "default"
    })
}

fn person(email: &str, name: &str) -> Person {
    Person {
        email: email.into(),
        name: name.into(),
    }
}

fn attendee(email: &str, name: &str, kind: AttendeeKind, response: Response) -> Attendee {
    Attendee {
        person: person(email, name),
        kind,
        response,
    }
}

#[test]
fn a_rich_series_maps_every_field() {
    let ev = upsert(&rich());
    assert_eq!(ev.remote_id, "series1");
    assert_eq!(ev.etag.as_deref(), Some("\"3390000000000000\""));
    assert_eq!(ev.ical_uid.as_deref(), Some("series1@google.com"));
    assert_eq!(ev.kind, RemoteKind::Master);
    assert_eq!(ev.series, None);
    assert!(!ev.cancelled);
    assert_eq!(ev.title, "Weekly sync");
    assert_eq!(
        ev.body_html.as_deref(),
        Some("Agenda:<br><b>one</b> &amp; two")
    );
    assert_eq!(ev.body_text, "Agenda:\none & two");
    assert_eq!(
        ev.timing,
        Timing::Timed {
            start: utc("2025-03-03T08:00:00Z"),
            end: utc("2025-03-03T09:00:00Z"),
            time_zone: ZONE.into()
        }
    );
    assert_eq!(ev.show_as, ShowAs::Tentative);
    assert_eq!(ev.importance, Importance::High);
    assert_eq!(ev.sensitivity, Sensitivity::Personal);
    assert_eq!(ev.categories, vec!["Work", "Blue, green"]);
    assert_eq!(ev.location, "Room 1");
    assert_eq!(
        ev.attendees,
        vec![
            attendee(
                "boss@example.com",
                "Boss",
                AttendeeKind::Required,
                Response::Organizer
            ),
            attendee(
                "me@example.com",
                "",
                AttendeeKind::Required,
                Response::Tentative
            ),
            attendee(
                "opt@example.com",
                "",
                AttendeeKind::Optional,
                Response::None
            ),
            attendee(
                "room1@resource.calendar.google.com",
                "Room 1",
                AttendeeKind::Resource,
                Response::Accepted
            ),
            attendee(
                "no@example.com",
                "",
                AttendeeKind::Required,
                Response::Declined
            ),
        ]
    );
    assert_eq!(ev.organizer, Some(person("boss@example.com", "Boss")));
    assert_eq!(
        ev.online_meeting,
        Some(OnlineMeeting {
            provider: MeetingProvider::Meet,
            join_url: "https://meet.google.com/aaa-bbbb-ccc".into(),
            conference_id: Some("aaa-bbbb-ccc".into()),
            toll_number: Some("+1 555-0100".into()),
            pin: Some("123456".into()),
        })
    );
    assert_eq!(
        ev.recurrence,
        Some(RemoteRecurrence {
            rrule: "FREQ=WEEKLY;BYDAY=MO;UNTIL=20250601T000000Z".into(),
            // The UTC EXDATE is 09:00 in Berlin (CET) like the others.
            exdates: vec![
                "2025-03-10T09:00".into(),
                "2025-03-17T09:00".into(),
                "2025-03-24T09:00".into()
            ],
            rdates: vec![],
        })
    );
    assert_eq!(ev.reminder_minutes, Some(15));
    for key in [
        "htmlLink",
        "sequence",
        "creator",
        "colorId",
        "source",
        "attachments",
        "guestsCanModify",
        "guestsCanInviteOthers",
        "hangoutLink",
        "kind",
        "created",
        "updated",
        "eventType",
        "status",
    ] {
        assert_eq!(ev.extra.get(key), rich().get(key), "{key} kept in extra");
    }
    for key in [
        "id",
        "etag",
        "iCalUID",
        "summary",
        "description",
        "location",
        "start",
        "end",
    ] {
        assert!(!ev.extra.contains_key(key), "{key} is carried, not extra");
    }
}

#[test]
fn an_unchanged_event_is_written_back_as_it_was() {
    let g = rich();
    assert_eq!(
        body(&upsert(&g)),
        g,
        "byte for byte, no normalisation needed"
    );
}

/// A patch's times clear the other kind's members: Google merges `start` and `end`,
/// and refuses one with both `date` and `dateTime`.
#[test]
fn a_patch_clears_the_other_kind_of_time() {
    let mut ev = upsert(&rich());
    // Its removed dates are times: the all-day version has none.
    ev.recurrence = None;
    let timed = ev.timing.clone();
    ev.timing = Timing::AllDay {
        start: NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date"),
        end: NaiveDate::from_ymd_opt(2026, 3, 3).expect("a date"),
    };
    let mut all_day = to_google(&ev, &ctx()).expect("renders");
    as_patch(&mut all_day);
    assert_eq!(
        all_day["start"],
        json!({"date": "2026-03-02", "dateTime": null, "timeZone": null})
    );
    assert_eq!(
        all_day["end"],
        json!({"date": "2026-03-03", "dateTime": null, "timeZone": null})
    );
    discovery::assert_fits("Event", &Value::Object(all_day));
    ev.timing = timed;
    let mut patch = to_google(&ev, &ctx()).expect("renders");
    as_patch(&mut patch);
    assert!(patch["start"]["dateTime"].is_string(), "{patch:?}");
    assert_eq!(patch["start"]["date"], Value::Null);
    assert!(patch["start"]
        .as_object()
        .is_some_and(|m| m.contains_key("date")));
}

fn fixtures() -> Vec<(&'static str, Value)> {
    vec![
        ("rich", rich()),
        (
            "all-day single",
            json!({"id": "allday1", "status": "confirmed", "summary": "Holiday",
                "start": {"date": "2025-12-24"}, "end": {"date": "2025-12-27"},
                "transparency": "transparent", "reminders": {"useDefault": true}}),
        ),
        (
            "no timeZone: the calendar's",
            json!({"id": "nozone1", "status": "tentative", "summary": "x",
                "start": {"dateTime": "2025-05-05T12:00:00Z"},
                "end": {"dateTime": "2025-05-05T12:30:00Z"}}),
        ),
        (
            "sparse cancelled exception",
            json!({"id": "series1_20250407T070000Z", "status": "cancelled",
                "recurringEventId": "series1",
                "originalStartTime": {"dateTime": "2025-04-07T09:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "moved exception",
            json!({"id": "series1_20250414T070000Z", "status": "confirmed", "etag": "\"7\"",
                "recurringEventId": "series1", "iCalUID": "series1@google.com", "sequence": 3,
                "originalStartTime": {"dateTime": "2025-04-14T09:00:00+02:00", "timeZone": ZONE},
                "start": {"dateTime": "2025-04-14T11:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-04-14T12:00:00+02:00", "timeZone": ZONE},
                "summary": "Moved", "reminders": {"useDefault": true}}),
        ),
        (
            "all-day series with date exceptions",
            json!({"id": "yearly1", "summary": "Anniversary", "status": "confirmed",
                "start": {"date": "2025-01-01"}, "end": {"date": "2025-01-02"},
                "recurrence": ["RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20260101",
                    "RDATE;VALUE=DATE:20250704"]}),
        ),
        (
            "out of office",
            json!({"id": "ooo1", "status": "confirmed", "eventType": "outOfOffice",
                "summary": "Away", "transparency": "opaque",
                "outOfOfficeProperties": {"autoDeclineMode": "declineNone"},
                "start": {"dateTime": "2025-06-02T00:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-07T00:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "working location",
            json!({"id": "wl1", "status": "confirmed", "eventType": "workingLocation",
                "transparency": "transparent", "visibility": "public",
                "workingLocationProperties": {"type": "homeOffice", "homeOffice": {}},
                "start": {"date": "2025-06-02"}, "end": {"date": "2025-06-03"}}),
        ),
        (
            "stale property: Google's transparency wins",
            json!({"id": "stale1", "status": "confirmed", "transparency": "transparent",
                "extendedProperties": {"private": {"almanacShowAs": "oof"}},
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "confidential",
            json!({"id": "conf1", "status": "confirmed", "visibility": "confidential",
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "Meet pending",
            json!({"id": "meet1", "status": "confirmed",
                "conferenceData": {"createRequest": {"requestId": "r1",
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                    "status": {"statusCode": "pending"}}},
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "Teams meeting in a property",
            json!({"id": "teams1", "status": "confirmed",
                "extendedProperties": {"private": {"almanacOnlineMeeting":
                    "{\"provider\":\"teams\",\"joinUrl\":\"https://teams.microsoft.com/l/x\",\"conferenceId\":null,\"tollNumber\":\"+1 555\",\"pin\":\"42\"}"}},
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "plain text description",
            json!({"id": "plain1", "status": "confirmed", "description": "a < b & c > d\nline 2",
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
        (
            "email reminders only",
            json!({"id": "mail1", "status": "confirmed",
                "reminders": {"useDefault": false, "overrides": [{"method": "email", "minutes": 60}]},
                "start": {"dateTime": "2025-06-02T09:00:00+02:00", "timeZone": ZONE},
                "end": {"dateTime": "2025-06-02T10:00:00+02:00", "timeZone": ZONE}}),
        ),
    ]
}

#[test]
fn google_json_to_remote_to_google_keeps_every_field() {
    for (name, g) in fixtures() {
        let ev = upsert(&g);
        let b = body(&ev);
        assert_eq!(normalise(&b), normalise(&g), "{name}");
        // And the write is a fixed point: reading it gives the same event.
        let again = upsert(&b);
        assert_eq!(again, ev, "{name}: JSON → RemoteEvent → JSON → RemoteEvent");
    }
}

#[test]
fn fixture_details() {
    let f: Map<String, Value> = fixtures()
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v))
        .collect();
    let get = |n: &str| upsert(&f[n]);

    // An instance carries its series link and a cancelled one its status: neither is
    // kept twice in `extra`; the rest of what Google sent is.
    let moved = get("moved exception");
    let cancelled = get("sparse cancelled exception");
    for ev in [&moved, &cancelled] {
        for key in [
            "recurringEventId",
            "originalStartTime",
            "id",
            "start",
            "end",
        ] {
            assert!(!ev.extra.contains_key(key), "{key} in {:?}", ev.extra);
        }
    }
    assert!(!cancelled.extra.contains_key("status"));
    assert_eq!(moved.extra.get("status"), Some(&json!("confirmed")));
    assert_eq!(moved.extra.get("sequence"), Some(&json!(3)));

    let all_day = get("all-day single");
    assert_eq!(
        all_day.timing,
        Timing::AllDay {
            start: NaiveDate::from_ymd_opt(2025, 12, 24).expect("date"),
            end: NaiveDate::from_ymd_opt(2025, 12, 27).expect("date"),
        }
    );
    assert_eq!(all_day.show_as, ShowAs::Free);
    assert_eq!(all_day.reminder_minutes, Some(10), "calendar default popup");

    let nozone = get("no timeZone: the calendar's");
    assert!(matches!(&nozone.timing, Timing::Timed { time_zone, .. } if time_zone == ZONE));
    assert_eq!(nozone.extra.get("status"), Some(&json!("tentative")));

    let hidden = get("sparse cancelled exception");
    assert!(hidden.cancelled);
    assert_eq!(hidden.kind, RemoteKind::Exception);
    assert_eq!(
        hidden.series,
        Some(SeriesLink {
            master_id: "series1".into(),
            original_start: OriginalStart::Timed(utc("2025-04-07T07:00:00Z")),
        })
    );

    let yearly = get("all-day series with date exceptions");
    assert_eq!(
        yearly.recurrence,
        Some(RemoteRecurrence {
            rrule: "FREQ=YEARLY".into(),
            exdates: vec!["2026-01-01".into()],
            rdates: vec!["2025-07-04".into()],
        })
    );

    assert_eq!(get("out of office").show_as, ShowAs::Oof);
    let wl = get("working location");
    assert_eq!(wl.show_as, ShowAs::WorkingElsewhere);
    assert_eq!(wl.sensitivity, Sensitivity::Normal);
    assert_eq!(
        get("stale property: Google's transparency wins").show_as,
        ShowAs::Free
    );
    assert_eq!(get("confidential").sensitivity, Sensitivity::Confidential);
    let pending = get("Meet pending").online_meeting.expect("meeting");
    assert_eq!(pending.provider, MeetingProvider::Meet);
    assert_eq!(pending.join_url, "");
    let teams = get("Teams meeting in a property")
        .online_meeting
        .expect("meeting");
    assert_eq!(teams.provider, MeetingProvider::Teams);
    assert_eq!(teams.pin.as_deref(), Some("42"));
    let plain = get("plain text description");
    assert_eq!(plain.body_text, "a < b & c > d\nline 2");
    assert_eq!(plain.body_html, None);
    assert_eq!(get("email reminders only").reminder_minutes, None);
}

#[test]
fn cancelled_items_that_are_not_instances_are_removals() {
    assert_eq!(
        read(&json!({"id": "gone1", "status": "cancelled"})),
        Change::Removed {
            remote_id: "gone1".into()
        }
    );
    // A cancelled series instance without its key cannot hide anything: a removal too.
    assert_eq!(
        read(&json!({"id": "gone2", "status": "cancelled", "recurringEventId": "s"})),
        Change::Removed {
            remote_id: "gone2".into()
        }
    );
    for (bad, want) in [
        (json!({"status": "confirmed"}), "MissingId"),
        (json!({"id": "x", "attendees": "nobody"}), "Malformed"),
        (json!({"id": "x", "start": 5}), "Malformed"),
        (
            json!({"id": "nostart", "status": "confirmed"}),
            "MissingStart",
        ),
    ] {
        let whole = from_google_json(bad.clone(), &ctx()).expect_err("refused");
        let text = bad.to_string();
        let item: RawObject = serde_json::from_str(&text).expect("an object");
        let listed = from_google_listed(&item, &ctx()).expect_err("refused as listed");
        for e in [whole, listed] {
            assert!(format!("{e:?}").starts_with(want), "{bad}: {e:?}");
        }
    }
}

#[test]
fn a_listed_event_keeps_its_unmodelled_fields_as_they_came() {
    let text = r#"{"kind":"calendar#event","id":"i1_20260105T080000Z","etag":"\"3\"",
        "status":"cancelled","htmlLink":"https://calendar/e?x=1","sequence": 3,
        "creator":{ "email":"a@x", "self":true },"source":{"title":"Caf\u00e9"},
        "a\"b":[1, 2],"recurringEventId":"i1","originalStartTime":{"dateTime":"2026-01-05T09:00:00+01:00"},
        "summary":"Standup","recurrence":null,"colorId":null,"sequence":4}"#;
    let item: RawObject = serde_json::from_str(text).expect("an object");
    let Change::Upsert(ev) = from_google_listed(&item, &ctx()).expect("maps") else {
        panic!("a cancelled instance is an exception, not a removal");
    };
    assert!(ev.cancelled && ev.series.is_some());
    assert_eq!(ev.etag.as_deref(), Some("\"3\""));
    // Carried fields, the cancelled instance's status and key, and typed fields sent
    // as null (as a whole read drops them) are not kept; the rest is, as sent (a name
    // sent twice twice: readers take the last, as in a tree).
    assert_eq!(
        ev.extra.to_json().as_deref(),
        Some(concat!(
            r#"{"kind":"calendar#event","htmlLink":"https://calendar/e?x=1","sequence":3,"#,
            r#""creator":{ "email":"a@x", "self":true },"source":{"title":"Caf\u00e9"},"#,
            r#""a\"b":[1, 2],"colorId":null,"sequence":4}"#
        ))
    );
    assert_eq!(ev.extra.get("sequence"), Some(&json!(4)));
    assert_eq!(ev.extra.get("source"), Some(&json!({"title": "Café"})));
    assert_eq!(ev.extra.get("a\"b"), Some(&json!([1, 2])));
    // A typed field sent as null and then with a value keeps the value.
    let twice = r#"{"id":"t1","start":{"date":"2026-01-05"},"end":{"date":"2026-01-06"},
        "transparency":null,"transparency":"transparent"}"#;
    let item: RawObject = serde_json::from_str(twice).expect("an object");
    let Change::Upsert(ev) = from_google_listed(&item, &ctx()).expect("maps") else {
        panic!("an event");
    };
    assert_eq!(ev.show_as, ShowAs::Free);
    assert_eq!(ev.extra.get("transparency"), Some(&json!("transparent")));
}

#[test]
fn edits_change_only_what_changed() {
    let g = rich();
    let base = upsert(&g);
    let obj = |b: &Value, k: &str| b.get(k).cloned().unwrap_or(Value::Null);

    // Show as free: transparency, and Almanac's property deleted with null.
    let mut ev = base.clone();
    ev.show_as = ShowAs::Free;
    let b = body(&ev);
    assert_eq!(b["transparency"], "transparent");
    assert_eq!(
        b["extendedProperties"]["private"]["almanacShowAs"],
        Value::Null
    );
    assert_eq!(b["extendedProperties"]["private"]["otherApp"], "keep");
    assert_eq!(
        b["extendedProperties"]["shared"],
        g["extendedProperties"]["shared"]
    );
    assert_eq!(upsert(&b).show_as, ShowAs::Free);

    // Sensitivity back to normal.
    let mut ev = base.clone();
    ev.sensitivity = Sensitivity::Normal;
    let b = body(&ev);
    assert_eq!(b["visibility"], "default");
    assert_eq!(
        b["extendedProperties"]["private"]["almanacSensitivity"],
        Value::Null
    );
    assert_eq!(b["transparency"], "opaque", "untouched");

    // Attendees: one answers, one leaves, one joins; Google's extras stay.
    let mut ev = base.clone();
    ev.attendees.retain(|a| a.person.email != "no@example.com");
    ev.attendees[1].response = Response::Accepted;
    ev.attendees.push(attendee(
        "new@example.com",
        "New",
        AttendeeKind::Optional,
        Response::None,
    ));
    let b = body(&ev);
    let list = b["attendees"].as_array().expect("attendees");
    assert_eq!(list.len(), 5);
    assert_eq!(list[0], g["attendees"][0]);
    assert_eq!(
        list[1],
        json!({"email": "me@example.com", "self": true, "responseStatus": "accepted", "comment": "maybe"})
    );
    assert_eq!(list[2], g["attendees"][2]);
    assert_eq!(list[3], g["attendees"][3]);
    assert_eq!(
        list[4],
        json!({"email": "new@example.com", "displayName": "New", "optional": true,
            "responseStatus": "needsAction"}),
        "as Google lists a guest who has not answered"
    );
    assert_eq!(upsert(&b).attendees, ev.attendees);

    // Reminder: the first popup changes, the email reminder stays.
    let mut ev = base.clone();
    ev.reminder_minutes = Some(30);
    let b = body(&ev);
    assert_eq!(
        b["reminders"],
        json!({"useDefault": false, "overrides": [
            {"method": "email", "minutes": 1440},
            {"method": "popup", "minutes": 30},
            {"method": "popup", "minutes": 5}]})
    );
    ev.reminder_minutes = None;
    let b = body(&ev);
    assert_eq!(
        b["reminders"],
        json!({"useDefault": false, "overrides": [{"method": "email", "minutes": 1440}]})
    );
    assert_eq!(upsert(&b).reminder_minutes, None);

    // No meeting any more: conference data deleted, read-only link not sent.
    let mut ev = base.clone();
    ev.online_meeting = None;
    let b = body(&ev);
    assert_eq!(b["conferenceData"], Value::Null);
    assert!(b.get("conferenceData").is_some(), "explicit null");
    assert!(b.get("hangoutLink").is_none());
    assert_eq!(upsert(&b).online_meeting, None);

    // One more exception date: rendered in the event's zone, EXRULE kept.
    let mut ev = base.clone();
    if let Some(r) = ev.recurrence.as_mut() {
        r.exdates.push("2025-03-31T09:00".into());
    }
    let b = body(&ev);
    assert_eq!(
        b["recurrence"],
        json!([
            "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20250601T000000Z",
            "EXDATE;TZID=Europe/Berlin:20250310T090000,20250317T090000,20250324T090000,20250331T090000",
            "EXRULE:FREQ=MONTHLY;BYDAY=1MO"
        ])
    );
    assert_eq!(upsert(&b).recurrence, ev.recurrence);

    // Description cleared: an explicit "" (a PATCH would otherwise keep it).
    let mut ev = base.clone();
    ev.body_text = String::new();
    ev.body_html = None;
    let b = body(&ev);
    assert_eq!(b["description"], "");

    // Untouched fields are byte for byte Google's in every edit above.
    for key in [
        "attachments",
        "source",
        "creator",
        "sequence",
        "htmlLink",
        "organizer",
    ] {
        assert_eq!(obj(&b, key), obj(&g, key), "{key}");
    }
}

#[test]
fn a_truncated_attendee_list_is_not_written_back() {
    let mut g = rich();
    g["attendeesOmitted"] = json!(true);
    let ev = upsert(&g);
    let b = body(&ev);
    assert!(
        b.get("attendees").is_none(),
        "would drop the omitted guests"
    );
    assert_eq!(b["attendeesOmitted"], true);
}

#[test]
fn only_attendees_a_write_cannot_render_are_kept() {
    let g = rich();
    let ev = upsert(&g);
    assert!(ev.extra.get("attendees").is_none(), "no second copy");
    // The organizer, the room and the guest who declined are what Almanac holds; the
    // user's own entry (`self`, a comment) and the one bringing a guest are not.
    assert_eq!(
        ev.extra.get(KEPT_ATTENDEES),
        Some(&json!([g["attendees"][1], g["attendees"][2]]))
    );
    assert_eq!(ev.attendees.len(), 5);

    // Written back unchanged, the list is Google's, byte for byte and in order.
    let b = body(&ev);
    assert_eq!(b["attendees"], g["attendees"]);
    assert!(b.get(KEPT_ATTENDEES).is_none(), "not a Google field");
    assert_eq!(body(&upsert(&b)), b, "a second round trip changes nothing");

    // Everyone removed: an empty list, so that a PATCH removes them at Google too.
    let mut none = ev.clone();
    none.attendees.clear();
    assert_eq!(body(&none)["attendees"], json!([]));

    // An attendee kept for its comment keeps it through a new answer.
    let mut answered = ev.clone();
    answered.attendees[1].response = Response::Declined;
    let b = body(&answered);
    assert_eq!(
        b["attendees"][1],
        json!({"email": "me@example.com", "self": true, "responseStatus": "declined", "comment": "maybe"})
    );
    assert_eq!(b["attendees"][0], g["attendees"][0]);
}

#[test]
fn an_attendee_list_that_cannot_be_found_by_address_is_kept_whole() {
    let lists = [
        json!([{"email": "a@example.com", "responseStatus": "accepted"},
               {"displayName": "No address", "responseStatus": "needsAction"}]),
        json!([{"email": "a@example.com", "responseStatus": "accepted"},
               {"email": "A@Example.com", "responseStatus": "declined"}]),
        json!([{"email": "", "responseStatus": "accepted"}]),
    ];
    for list in lists {
        let mut g = rich();
        g["attendees"] = list.clone();
        let ev = upsert(&g);
        assert_eq!(ev.extra.get("attendees"), Some(&list), "{list}");
        assert!(ev.extra.get(KEPT_ATTENDEES).is_none(), "{list}");
        assert_eq!(body(&ev)["attendees"], list);
    }
    // Cut short by Google: kept whole and, unchanged, not written back (see above).
    let mut g = rich();
    g["attendeesOmitted"] = json!(true);
    let ev = upsert(&g);
    assert_eq!(ev.extra.get("attendees"), Some(&g["attendees"]));
    assert!(ev.extra.get(KEPT_ATTENDEES).is_none());
}

#[test]
fn a_google_field_named_like_the_kept_attendees_is_dropped() {
    let mut g = rich();
    g["attendees"] = json!([{"email": "a@example.com", "responseStatus": "accepted"}]);
    g[KEPT_ATTENDEES] = json!([{"email": "a@example.com", "comment": "planted"}]);
    let ev = upsert(&g);
    assert_eq!(ev.extra.get(KEPT_ATTENDEES), Some(&json!([])));
    let b = body(&ev);
    assert_eq!(
        b["attendees"],
        json!([{"email": "a@example.com", "responseStatus": "accepted"}])
    );
    assert!(b.get(KEPT_ATTENDEES).is_none());
}

#[test]
fn an_event_stored_with_the_whole_attendee_list_writes_as_before() {
    // Rows written before the kept form hold Google's list under `attendees`.
    let g = rich();
    let mut ev = upsert(&g);
    ev.extra.remove(KEPT_ATTENDEES);
    ev.extra.insert("attendees".into(), g["attendees"].clone());
    assert_eq!(body(&ev)["attendees"], g["attendees"]);
    ev.attendees[1].response = Response::Accepted;
    assert_eq!(
        body(&ev)["attendees"][1],
        json!({"email": "me@example.com", "self": true, "responseStatus": "accepted", "comment": "maybe"})
    );
}

#[test]
fn categories_spill_over_into_numbered_properties() {
    let mut ev = upsert(&rich());
    ev.categories = (0..60).map(|i| format!("Category number {i:03}")).collect();
    let b = body(&ev);
    let private = b["extendedProperties"]["private"]
        .as_object()
        .expect("private");
    let keys: Vec<&String> = private
        .keys()
        .filter(|k| k.starts_with(PROP_CATEGORIES))
        .collect();
    assert!(keys.len() >= 2, "{keys:?}");
    for k in &keys {
        assert!(private[*k].as_str().expect("string").len() <= PROP_VALUE_MAX);
    }
    let back = upsert(&b);
    assert_eq!(back.categories, ev.categories);

    // Emptied: every chunk deleted.
    let mut none = back.clone();
    none.categories.clear();
    let b = body(&none);
    for k in &keys {
        assert_eq!(
            b["extendedProperties"]["private"][k.as_str()],
            Value::Null,
            "{k}"
        );
    }
    assert!(upsert(&b).categories.is_empty());
}

#[test]
fn meetings_google_cannot_hold_go_to_a_property_and_meet_is_requested() {
    let mut ev = upsert(&rich());
    ev.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Teams,
        join_url: "https://teams.microsoft.com/l/meetup-join/x".into(),
        conference_id: Some("123".into()),
        toll_number: None,
        pin: None,
    });
    let b = body(&ev);
    assert_eq!(b["conferenceData"], Value::Null);
    assert!(b["extendedProperties"]["private"][PROP_ONLINE_MEETING].is_string());
    assert_eq!(upsert(&b).online_meeting, ev.online_meeting);

    // A new event asking for a Meet.
    let mut fresh = new_event();
    fresh.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Meet,
        join_url: String::new(),
        conference_id: None,
        toll_number: None,
        pin: None,
    });
    let b = body(&fresh);
    assert_eq!(
        b["conferenceData"]["createRequest"]["conferenceSolutionKey"]["type"],
        "hangoutsMeet"
    );
    assert_eq!(
        b["conferenceData"]["createRequest"]["requestId"],
        "almanac-new1-new"
    );
    assert_eq!(upsert(&b).online_meeting, fresh.online_meeting);
    assert_eq!(
        meet_request("r9"),
        json!({"createRequest": {"requestId": "r9", "conferenceSolutionKey": {"type": "hangoutsMeet"}}})
    );
}

fn new_event() -> RemoteEvent {
    RemoteEvent {
        remote_id: "new1".into(),
        etag: None,
        ical_uid: None,
        kind: RemoteKind::Single,
        series: None,
        cancelled: false,
        title: "Lunch".into(),
        body_text: String::new(),
        body_html: None,
        timing: Timing::Timed {
            start: utc("2025-07-01T10:00:00Z"),
            end: utc("2025-07-01T11:00:00Z"),
            time_zone: "America/New_York".into(),
        },
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        sensitivity: Sensitivity::Normal,
        categories: vec![],
        location: String::new(),
        attendees: vec![],
        organizer: None,
        online_meeting: None,
        recurrence: None,
        reminder_minutes: Some(10),
        extra: Default::default(),
    }
}

#[test]
fn a_new_event_gets_a_minimal_body() {
    let b = body(&new_event());
    assert_eq!(
        b,
        json!({
            "id": "new1", "status": "confirmed", "summary": "Lunch", "description": "",
            "location": "",
            "start": {"dateTime": "2025-07-01T06:00:00-04:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2025-07-01T07:00:00-04:00", "timeZone": "America/New_York"}
        }),
        "the calendar's default reminder applies, no properties needed"
    );
    let mut ev = new_event();
    ev.reminder_minutes = None;
    ev.show_as = ShowAs::Oof;
    ev.importance = Importance::Low;
    let b = body(&ev);
    assert_eq!(
        b["reminders"],
        json!({"useDefault": false, "overrides": []})
    );
    assert_eq!(b["transparency"], "opaque");
    assert_eq!(
        b["extendedProperties"],
        json!({"private": {"almanacShowAs": "oof", "almanacImportance": "low"}})
    );
}

#[test]
fn html_descriptions() {
    assert!(looks_like_html("<p>x</p>"));
    assert!(looks_like_html("a<br/>b"));
    assert!(looks_like_html("<a href=\"https://x\">x</a>"));
    assert!(!looks_like_html("a < b > c"));
    assert!(!looks_like_html("<3 you"));
    assert!(!looks_like_html("use <placeholder> here"));
    assert_eq!(
        html_to_text("<p>Hello&nbsp;<b>World</b></p><p>Second &lt;line&gt; &#233;&#x00e9;</p>"),
        "Hello World\nSecond <line> éé"
    );
    assert_eq!(html_to_text("a<br>b<br/>c"), "a\nb\nc");
    assert_eq!(
        html_to_text("<ul><li>one</li><li>two</li></ul>"),
        "• one\n• two"
    );
    assert_eq!(html_to_text("x &bogus; & y"), "x &bogus; & y");
}

#[test]
fn recurrence_dates_in_other_zones_and_unmappable_lines() {
    let p = parse_recurrence(
        &[
            "RRULE:FREQ=DAILY;COUNT=10".into(),
            "EXDATE;TZID=America/New_York:20250303T030000".into(),
            "RDATE;VALUE=PERIOD:20250305T090000Z/PT1H".into(),
            "RRULE:FREQ=MONTHLY".into(),
            "EXDATE;VALUE=DATE:20250304".into(),
        ],
        ZONE,
        false,
    );
    assert_eq!(
        p.rule,
        Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;COUNT=10".into(),
            // 03:00 in New York (EST) is 09:00 in Berlin (CET).
            exdates: vec!["2025-03-03T09:00".into()],
            rdates: vec![],
        })
    );
    assert_eq!(
        p.unmapped,
        vec![
            "RDATE;VALUE=PERIOD:20250305T090000Z/PT1H".to_owned(),
            "RRULE:FREQ=MONTHLY".to_owned(),
            "EXDATE;VALUE=DATE:20250304".to_owned(),
        ]
    );
    // No RRULE: nothing the model can hold; every line kept.
    let p = parse_recurrence(&["RDATE;VALUE=DATE:20250101".into()], "UTC", true);
    assert_eq!(p.rule, None);
    assert_eq!(p.unmapped.len(), 1);
}

// ---------------------------------------------------------------------------------
// RemoteEvent → JSON → RemoteEvent, for generated events.

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "UTC",
];

fn text() -> impl Strategy<Value = String> {
    // Plain text: no markup (a "<b>" in plain text would read back as HTML).
    "[a-zA-Z0-9 ,.;:!?'\"&()/\\-éü\n]{0,40}"
}

fn email() -> impl Strategy<Value = String> {
    "[a-z]{1,8}@[a-z]{1,6}\\.(com|org)"
}

fn timing() -> impl Strategy<Value = Timing> {
    let timed = (
        0..ZONES.len(),
        1_700_000_000i64..1_900_000_000,
        0i64..(3 * 24 * 60),
    )
        .prop_map(|(z, start, minutes)| {
            let start = Utc
                .timestamp_opt(start - start % 60, 0)
                .single()
                .expect("t");
            Timing::Timed {
                start,
                end: start + Duration::minutes(minutes),
                time_zone: ZONES[z].into(),
            }
        });
    let all_day = (0i64..4000, 1i64..20).prop_map(|(d, len)| {
        let start = NaiveDate::from_ymd_opt(2020, 1, 1).expect("d") + Duration::days(d);
        Timing::AllDay {
            start,
            end: start + Duration::days(len),
        }
    });
    prop_oneof![timed, all_day]
}

fn show_as() -> impl Strategy<Value = ShowAs> {
    prop_oneof![
        Just(ShowAs::Free),
        Just(ShowAs::Tentative),
        Just(ShowAs::Busy),
        Just(ShowAs::Oof),
        Just(ShowAs::WorkingElsewhere)
    ]
}

fn sensitivity() -> impl Strategy<Value = Sensitivity> {
    prop_oneof![
        Just(Sensitivity::Normal),
        Just(Sensitivity::Personal),
        Just(Sensitivity::Private),
        Just(Sensitivity::Confidential)
    ]
}

fn importance() -> impl Strategy<Value = Importance> {
    prop_oneof![
        Just(Importance::Low),
        Just(Importance::Normal),
        Just(Importance::High)
    ]
}

fn attendees() -> impl Strategy<Value = Vec<Attendee>> {
    let kind = prop_oneof![
        Just(AttendeeKind::Required),
        Just(AttendeeKind::Optional),
        Just(AttendeeKind::Resource)
    ];
    let response = prop_oneof![
        Just(Response::None),
        Just(Response::Organizer),
        Just(Response::Accepted),
        Just(Response::Tentative),
        Just(Response::Declined)
    ];
    proptest::collection::btree_map(email(), ("[A-Za-z ]{0,10}", kind, response), 0..5).prop_map(
        |m| {
            m.into_iter()
                .map(|(email, (name, kind, response))| Attendee {
                    person: Person { email, name },
                    kind,
                    response,
                })
                .collect()
        },
    )
}

fn meeting() -> impl Strategy<Value = Option<OnlineMeeting>> {
    prop_oneof![
        Just(None),
        Just(Some(OnlineMeeting {
            provider: MeetingProvider::Meet,
            join_url: String::new(),
            conference_id: None,
            toll_number: None,
            pin: None,
        })),
        (
            prop_oneof![
                Just(MeetingProvider::Teams),
                Just(MeetingProvider::Other),
                Just(MeetingProvider::Meet)
            ],
            "https://[a-z]{1,10}\\.example/[a-z0-9]{0,20}",
            proptest::option::of("[0-9]{3,9}"),
            proptest::option::of("\\+[0-9 ]{5,12}"),
            proptest::option::of("[0-9]{4,6}"),
        )
            .prop_map(
                |(provider, join_url, conference_id, toll_number, pin)| Some(OnlineMeeting {
                    provider,
                    join_url,
                    conference_id,
                    toll_number,
                    pin,
                })
            ),
    ]
}

/// Series dates as the model keys them, for `timing`.
fn dates_for(timing: &Timing, offsets: &[i64]) -> Vec<String> {
    offsets
        .iter()
        .map(|d| match timing {
            Timing::Timed {
                start, time_zone, ..
            } => {
                let tz: Tz = time_zone.parse().expect("zone");
                let wall = (*start + Duration::days(*d))
                    .with_timezone(&tz)
                    .naive_local();
                wall_string(wall)
            }
            Timing::AllDay { start, .. } => {
                (*start + Duration::days(*d)).format("%Y-%m-%d").to_string()
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Single,
    Master,
    Exception { cancelled: bool, placeholder: bool },
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Single),
        Just(Shape::Master),
        (any::<bool>(), any::<bool>()).prop_map(|(cancelled, placeholder)| Shape::Exception {
            cancelled,
            placeholder: cancelled && placeholder
        }),
    ]
}

prop_compose! {
    fn remote_event()(
        id in "[a-v0-9]{5,20}",
        etag in proptest::option::of("\"[0-9]{1,16}\""),
        ical_uid in proptest::option::of("[a-z0-9]{5,10}@google\\.com"),
        shape in shape(),
        title in text(),
        body_text in text(),
        html in proptest::option::of("[a-z ]{1,10}"),
        timing in timing(),
        show_as in show_as(),
        importance in importance(),
        sensitivity in sensitivity(),
        categories in proptest::collection::vec("[^\u{0}]{0,12}", 0..4),
        location in text(),
        attendees in attendees(),
        organizer in proptest::option::of((email(), "[A-Za-z ]{0,10}")),
        online_meeting in meeting(),
        exdates in proptest::collection::btree_set(1i64..50, 0..3),
        rdates in proptest::collection::btree_set(51i64..90, 0..2),
        reminder_minutes in proptest::option::of(0u32..=40_320),
        color in proptest::option::of("[0-9]{1,2}"),
    ) -> RemoteEvent {
        let (body_text, body_html) = match html {
            Some(h) => {
                let html = format!("<p>{h}</p><b>x</b>");
                (html_to_text(&html), Some(html))
            }
            None => (body_text, None),
        };
        let (kind, series, cancelled, recurrence, timing) = match shape {
            Shape::Single => (RemoteKind::Single, None, false, None, timing),
            Shape::Master => {
                let ex: Vec<i64> = exdates.into_iter().collect();
                let rd: Vec<i64> = rdates.into_iter().collect();
                (RemoteKind::Master, None, false, Some(RemoteRecurrence {
                    rrule: "FREQ=DAILY;COUNT=100".into(),
                    exdates: dates_for(&timing, &ex),
                    rdates: dates_for(&timing, &rd),
                }), timing)
            }
            Shape::Exception { cancelled, placeholder } => {
                let original_start = match &timing {
                    Timing::Timed { start, .. } => OriginalStart::Timed(*start - Duration::hours(1)),
                    Timing::AllDay { start, .. } => OriginalStart::AllDay(*start - Duration::days(1)),
                };
                let link = SeriesLink { master_id: "master1".into(), original_start };
                let timing = if placeholder {
                    let zone = match &timing {
                        Timing::Timed { time_zone, .. } => time_zone.clone(),
                        Timing::AllDay { .. } => "UTC".into(),
                    };
                    super::placeholder(&link, zone)
                } else {
                    timing
                };
                (RemoteKind::Exception, Some(link), cancelled, None, timing)
            }
        };
        let mut extra = Map::new();
        if let Some(c) = color {
            extra.insert("colorId".into(), json!(c));
        }
        RemoteEvent {
            remote_id: id,
            etag,
            ical_uid,
            kind,
            series,
            cancelled,
            title,
            body_text,
            body_html,
            timing,
            show_as,
            importance,
            sensitivity,
            categories,
            location,
            attendees,
            organizer: organizer.map(|(email, name)| Person { email, name }),
            online_meeting,
            recurrence,
            reminder_minutes,
            extra: extra.into(),
        }
    }
}

/// An attendee as Google may list one: Almanac's fields in any of their spellings,
/// and sometimes fields Almanac does not model.
fn google_attendee() -> impl Strategy<Value = Value> {
    let flag = proptest::option::of(any::<bool>());
    (
        proptest::option::of("[A-Za-z ]{0,8}"),
        (flag.clone(), flag.clone(), flag.clone(), flag),
        proptest::option::of(prop_oneof![
            Just("needsAction"),
            Just("accepted"),
            Just("tentative"),
            Just("declined"),
            Just("somethingNew")
        ]),
        proptest::option::of("[a-z ]{0,8}"),
        proptest::option::of(0u8..3),
    )
        .prop_map(
            |(name, (optional, resource, organizer, me), answer, comment, guests)| {
                let mut a = Map::new();
                let mut put = |k: &str, v: Option<Value>| {
                    if let Some(v) = v {
                        a.insert(k.into(), v);
                    }
                };
                put("displayName", name.map(Value::from));
                put("optional", optional.map(Value::from));
                put("resource", resource.map(Value::from));
                put("organizer", organizer.map(Value::from));
                put("self", me.map(Value::from));
                put("responseStatus", answer.map(Value::from));
                put("comment", comment.map(Value::from));
                put("additionalGuests", guests.map(Value::from));
                Value::Object(a)
            },
        )
}

fn google_attendees() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(email(), google_attendee(), 0..6).prop_map(|m| {
        Value::Array(
            m.into_iter()
                .map(|(email, mut a)| {
                    a["email"] = Value::from(email);
                    a
                })
                .collect(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_listed_attendee_list_is_written_back_as_google_listed_it(
        list in google_attendees(),
    ) {
        let mut g = rich();
        g["attendees"] = list.clone();
        let ev = upsert(&g);
        prop_assert!(ev.extra.get("attendees").is_none());
        let b = body(&ev);
        prop_assert_eq!(&b["attendees"], &list);
        prop_assert_eq!(upsert(&b).attendees, ev.attendees);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn remote_to_google_to_remote_is_the_same_event(ev in remote_event()) {
        let b = body(&ev);
        let back = upsert(&b);
        // `extra` now also holds Google's form of the partly mapped fields; what was in
        // it before is still there.
        for (k, v) in ev.extra.iter() {
            prop_assert_eq!(back.extra.get(k), Some(v), "extra {}", k);
        }
        let mut same = back.clone();
        same.extra = ev.extra.clone();
        prop_assert_eq!(&same, &ev);
        // Writing what was read gives the same body again.
        prop_assert_eq!(body(&back), b);
    }
}

/// chrono reads signed years out to ±262,142, where adding a day panics: such a date is
/// an unreadable event, not a crash at every run.
#[test]
fn dates_beyond_the_years_almanac_reads_are_errors_not_panics() {
    for v in [
        json!({"id": "x", "start": {"date": "+262142-12-31"}, "end": {"date": "+262142-12-31"}}),
        json!({"id": "x", "start": {"date": "-262143-01-01"}, "end": {"date": "-262143-01-01"}}),
        json!({"id": "x", "start": {"dateTime": "+262142-12-31T23:30:00", "timeZone": "America/Los_Angeles"},
               "end": {"dateTime": "+262142-12-31T23:45:00", "timeZone": "America/Los_Angeles"}}),
        json!({"id": "x", "start": {"date": "2026-01-05"}, "end": {"date": "2026-01-06"},
               "recurrence": ["RRULE:FREQ=DAILY", "EXDATE;VALUE=DATE:+2621421231"]}),
    ] {
        // Refused, or read without the impossible date: never computed with.
        if let Ok(Change::Upsert(e)) = from_google_json(v.clone(), &ctx()) {
            let text = format!("{:?} {:?}", e.timing, e.recurrence);
            assert!(!text.contains("26214"), "{v} read as {text}");
        }
    }
    // The years' end as written reads, though in UTC it is the year 10000.
    let late = json!({"id": "y",
        "start": {"dateTime": "9999-12-31T20:00:00-05:00"},
        "end": {"dateTime": "9999-12-31T21:00:00-05:00"}});
    assert!(
        matches!(from_google_json(late, &ctx()), Ok(Change::Upsert(_))),
        "refused"
    );
}

/// A description of 400k `&` or `<` with no `;` or `>`: each is looked at once (searched
/// to the end from each one, this took seconds, growing with the square of the
/// length), and the text comes out whole.
#[test]
fn a_description_of_ampersands_or_brackets_reads_in_one_pass() {
    let amps = "&".repeat(400_000);
    assert_eq!(html_to_text(&amps).len(), 400_000);
    let brackets = "<".repeat(400_000);
    assert_eq!(html_to_text(&brackets).len(), 400_000);
}
