//! Property: RemoteEvent → Graph JSON → RemoteEvent is the identity for every field
//! Graph can hold, and every body is valid against the Graph OpenAPI subset.

#[path = "support/schema.rs"]
mod schema;

use almanac_graph::mapping::{from_graph, to_graph};
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::{RemoteEvent, RemoteKind, Timing};
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::json;

const ZONES: &[&str] = &[
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
];

/// Whether `t` is on the second pass of a DST fold in `zone` (its wall time there
/// names an earlier instant too).
fn second_pass(t: DateTime<Utc>, zone: &str) -> bool {
    zone.parse::<chrono_tz::Tz>()
        .is_ok_and(|tz| almanac_model::time::EventTime::of(t, tz).offset.is_some())
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 äöüßéñ&<>'\"._-]{0,40}"
}

fn timing() -> impl Strategy<Value = Timing> {
    prop_oneof![
        (0i64..2_000_000, 1i64..600, 0usize..ZONES.len()).prop_map(|(minutes, len, z)| {
            // Whole minutes from 2026-01-01: Graph's dateTime has no time zone offset
            // and is written to the second.
            let start =
                DateTime::<Utc>::from_timestamp(1_767_225_600 + minutes * 60, 0).expect("t");
            Timing::Timed {
                start,
                end: start + chrono::Duration::minutes(len),
                time_zone: ZONES[z].to_string(),
            }
        }),
        // Starts on the second pass of a fold (Auckland's clocks go back at 14:00 UTC
        // that day), which random minutes seldom meet.
        (0i64..60, 1i64..600).prop_map(|(minute, len)| {
            let start = DateTime::<Utc>::from_timestamp(1_838_210_400 + minute * 60, 0).expect("t");
            Timing::Timed {
                start,
                end: start + chrono::Duration::minutes(len),
                time_zone: "Pacific/Auckland".to_string(),
            }
        }),
        (0u64..1500, 1u64..15).prop_map(|(d, len)| {
            let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("d") + chrono::Days::new(d);
            Timing::AllDay {
                start,
                end: start + chrono::Days::new(len),
            }
        }),
    ]
}

fn attendee() -> impl Strategy<Value = Attendee> {
    ("[a-z]{1,8}", text(), 0usize..3, 0usize..4).prop_map(|(user, name, kind, resp)| Attendee {
        person: Person {
            email: format!("{user}@fabrikam.example"),
            name,
        },
        kind: [
            AttendeeKind::Required,
            AttendeeKind::Optional,
            AttendeeKind::Resource,
        ][kind],
        response: [
            Response::None,
            Response::Accepted,
            Response::Tentative,
            Response::Declined,
        ][resp],
    })
}

prop_compose! {
    fn event()(
        title in text(),
        body in text(),
        html in any::<bool>(),
        timing in timing(),
        show in 0usize..5,
        imp in 0usize..3,
        sens in 0usize..4,
        categories in proptest::collection::vec("[A-Za-z ]{1,12}", 0..4),
        location in text(),
        attendees in proptest::collection::vec(attendee(), 0..4),
        reminder in proptest::option::of(0u32..10_080),
        teams in any::<bool>(),
    ) -> RemoteEvent {
        let mut attendees = attendees;
        attendees.sort_by(|a, b| a.person.email.cmp(&b.person.email));
        attendees.dedup_by(|a, b| a.person.email == b.person.email);
        RemoteEvent {
            remote_id: "AAMkAGI2TG93AAA=".into(),
            etag: Some("W/\"x\"".into()),
            ical_uid: None,
            kind: RemoteKind::Single,
            series: None,
            cancelled: false,
            title,
            body_text: if html { String::new() } else { body.clone() },
            body_html: html.then(|| format!("<p>{}</p>", body.replace('&', "&amp;").replace('<', "&lt;"))),
            timing,
            show_as: [ShowAs::Free, ShowAs::Tentative, ShowAs::Busy, ShowAs::Oof, ShowAs::WorkingElsewhere][show],
            importance: [Importance::Low, Importance::Normal, Importance::High][imp],
            sensitivity: [Sensitivity::Normal, Sensitivity::Personal, Sensitivity::Private, Sensitivity::Confidential][sens],
            categories,
            location,
            attendees,
            organizer: None,
            online_meeting: teams.then(|| OnlineMeeting {
                provider: MeetingProvider::Teams,
                join_url: String::new(),
                conference_id: None,
                toll_number: None,
                pin: None,
            }),
            recurrence: None,
            reminder_minutes: reminder,
            extra: Default::default(),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn model_to_graph_to_model_is_the_identity(e in event()) {
        let body = to_graph(&e).expect("writable");
        schema::assert_valid("event", &body);
        // Graph's answer: the body plus what the server adds.
        let mut echoed = body.clone();
        echoed["id"] = json!(e.remote_id);
        echoed["@odata.etag"] = json!(e.etag);
        echoed["type"] = json!("singleInstance");
        echoed["originalStartTimeZone"] = body["start"]["timeZone"].clone();
        if e.online_meeting.is_some() {
            echoed["onlineMeeting"] = json!({"joinUrl": ""});
        }
        let back = from_graph(&echoed, "UTC").expect("readable");
        prop_assert_eq!(&back.title, &e.title);
        prop_assert_eq!(&back.body_html, &e.body_html);
        if e.body_html.is_none() {
            prop_assert_eq!(&back.body_text, &e.body_text);
        }
        // Zones Graph names the Windows way come back as the CLDR default zone of that
        // Windows zone: the same instants, and the same zone for these examples — but
        // a start on the second pass of a DST fold is written in UTC (its wall time
        // would name the first pass) and comes back in UTC, at the same instants.
        let folded = match &e.timing {
            Timing::Timed { start, time_zone, .. } => second_pass(*start, time_zone),
            Timing::AllDay { .. } => false,
        };
        if folded {
            let instants = |t: &Timing| match t {
                Timing::Timed { start, end, .. } => Some((*start, *end)),
                Timing::AllDay { .. } => None,
            };
            prop_assert_eq!(instants(&back.timing), instants(&e.timing));
        } else {
            prop_assert_eq!(&back.timing, &e.timing);
        }
        prop_assert_eq!(back.show_as, e.show_as);
        prop_assert_eq!(back.importance, e.importance);
        prop_assert_eq!(back.sensitivity, e.sensitivity);
        prop_assert_eq!(&back.categories, &e.categories);
        prop_assert_eq!(&back.location, &e.location);
        // An attendee's response belongs to the attendee's mailbox: Graph ignores it on
        // writes, so it is compared for everything else.
        let who = |v: &[Attendee]| v.iter().map(|a| (a.person.clone(), a.kind)).collect::<Vec<_>>();
        prop_assert_eq!(who(&back.attendees), who(&e.attendees));
        prop_assert_eq!(back.reminder_minutes, e.reminder_minutes);
        prop_assert_eq!(back.online_meeting.as_ref().map(|m| m.provider), e.online_meeting.as_ref().map(|m| m.provider));
        // And writing it again gives the same body (in UTC throughout, once folded).
        if !folded {
            prop_assert_eq!(to_graph(&back).expect("writable"), body);
        }
    }
}

/// An attendee as Graph lists one: `(address case, name, type, answer, answered at,
/// a proposed new time)`; the address is made unique by the caller.
type Listed = (bool, Option<String>, usize, usize, bool, bool);

fn listed_attendee() -> impl Strategy<Value = Listed> {
    (
        any::<bool>(),
        proptest::option::of(text()),
        0usize..3,
        0usize..6,
        any::<bool>(),
        any::<bool>(),
    )
}

fn listed_json(
    i: usize,
    (upper, name, kind, answer, answered, proposed): &Listed,
) -> serde_json::Value {
    let address = format!("person{i}@fabrikam.example");
    let mut email = json!({"address": if *upper { address.to_uppercase() } else { address }});
    if let Some(n) = name {
        email["name"] = json!(n);
    }
    let answers = [
        "none",
        "organizer",
        "accepted",
        "tentativelyAccepted",
        "declined",
        "notResponded",
    ];
    let kind = ["required", "optional", "resource"][*kind];
    let time = if *answered {
        "2026-11-02T09:00:00Z"
    } else {
        "0001-01-01T00:00:00Z"
    };
    let mut a = json!({
        "type": kind,
        "status": {"response": answers[*answer], "time": time},
        "emailAddress": email,
    });
    if *proposed {
        a["proposedNewTime"] = json!({"start": {"dateTime": "2026-11-24T08:00:00", "timeZone": "UTC"},
                                      "end": {"dateTime": "2026-11-24T09:00:00", "timeZone": "UTC"}});
    }
    a
}

fn listed_event(attendees: serde_json::Value) -> serde_json::Value {
    json!({
        "id": "AAMk=", "type": "singleInstance", "subject": "Renewal",
        "start": {"dateTime": "2026-11-23T08:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-23T09:00:00.0000000", "timeZone": "UTC"},
        "attendees": attendees,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
    /// Keeping only the attendees a write cannot render changes no write: the body is
    /// the one the whole list kept gives (as earlier builds stored it), and a list
    /// Almanac can hold goes back as listed, in order.
    #[test]
    fn attendees_kept_in_part_write_as_the_whole_list(list in proptest::collection::vec(listed_attendee(), 0..6), twice in any::<bool>()) {
        let mut attendees: Vec<serde_json::Value> =
            list.iter().enumerate().map(|(i, a)| listed_json(i, a)).collect();
        if twice && !attendees.is_empty() {
            attendees.push(attendees[0].clone()); // the same address twice: kept whole
        }
        let listed = json!(attendees);
        let e = from_graph(&listed_event(listed.clone()), "UTC").expect("maps");
        let mut whole = e.clone();
        whole.extra.remove(almanac_graph::mapping::KEPT_ATTENDEES);
        whole.extra.insert("attendees".into(), listed.clone());
        let body = to_graph(&e).expect("writable");
        prop_assert_eq!(&body, &to_graph(&whole).expect("writable"));
        schema::assert_valid("event", &body);
        let holdable = !twice
            && list.iter().all(|(_, name, _, answer, _, _)| name.is_some() && *answer != 5);
        if holdable {
            // Addresses are written as Almanac holds them, which is as listed.
            prop_assert_eq!(&body["attendees"], &listed);
        }
    }
}
