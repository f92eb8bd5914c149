//! Provider events in the repeated hour of a DST fall-back keep their instants through
//! pull, local edit and push (issue 5): the store keeps them as wall times, and a wall
//! time alone in a fold means its first pass, so the second pass carries its offset.
//! Europe/Berlin, 2027-10-31: 03:00 CEST → 02:00 CET.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::sync::{Arc, Mutex};

use almanac_auth::Secret;
use almanac_fakecloud::{Provider as FakeProvider, UserSpec};
use almanac_graph::GraphCalendar;
use almanac_model::{EditScope, EventChange, Provider, RangeQuery};
use almanac_provider::{ApiClient, Backoff, CalendarProvider, Dialect};
use almanac_store::{Source, Store};
use almanac_sync::{sync_account, RunSummary, SyncOptions};
use chrono::{DateTime, Utc};
use serde_json::json;

use cloud::{Cloud, Fixed, EMAIL};
use signed_in::signed_in;

const GRAPH_EMAIL: &str = "field@contoso.example";

/// (title, start, end) as instants: across the fold, and wholly in its second pass.
const EVENTS: [(&str, &str, &str); 2] = [
    ("Across", "2027-10-31T00:30:00Z", "2027-10-31T01:15:00Z"),
    (
        "Second pass",
        "2027-10-31T01:15:00Z",
        "2027-10-31T01:45:00Z",
    ),
];

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2027-10-01T12:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .expect("now")
}

fn run(store: &Mutex<Store>, provider: &dyn CalendarProvider, account: &str) -> RunSummary {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let s = rt
        .block_on(sync_account(
            store,
            provider,
            account,
            &SyncOptions::default(),
            &now,
        ))
        .expect("run");
    assert_eq!(s.outcome, "ok", "{s:?}");
    s
}

/// The store's occurrences on that night.
fn night(store: &mut Store) -> Vec<almanac_model::Occurrence> {
    store
        .list_occurrences(&RangeQuery {
            from: "2027-10-30T12:00:00Z".into(),
            to: "2027-10-31T12:00:00Z".into(),
            calendar_ids: None,
        })
        .expect("occurrences")
}

/// (title, start, end) of every occurrence on that night, in the store.
fn stored(store: &Mutex<Store>) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = night(&mut store.lock().expect("store"))
        .into_iter()
        .map(|o| (o.title, o.start, o.end))
        .collect();
    out.sort();
    out
}

fn expected(suffix: &str) -> Vec<(String, String, String)> {
    EVENTS
        .iter()
        .map(|(t, s, e)| (format!("{t}{suffix}"), (*s).to_owned(), (*e).to_owned()))
        .collect()
}

/// Renames every stored event of that night as the user would in the editor: the
/// event's own fields sent back with a new title.
fn rename_all(store: &Mutex<Store>, suffix: &str) {
    let mut store = store.lock().expect("store");
    let ids: Vec<String> = night(&mut store).into_iter().map(|o| o.event_id).collect();
    for id in ids {
        let mut input = store.get_event(&id).expect("event").input;
        input.title.push_str(suffix);
        store
            .update_event(
                EventChange {
                    id,
                    scope: EditScope::All,
                    original_start: None,
                    input,
                },
                Source::UserWindow,
                now(),
            )
            .expect("edit");
    }
}

/// A new event in the calendar named `calendar`, wholly in the second pass.
const NEW: (&str, &str, &str) = ("New", "2027-10-31T01:10:00Z", "2027-10-31T01:40:00Z");

fn create_new(store: &Mutex<Store>, calendar: &str) {
    let mut store = store.lock().expect("store");
    let calendar_id = store
        .sync_calendars(None)
        .expect("calendars")
        .into_iter()
        .find(|c| c.name == calendar)
        .map(|c| c.id)
        .expect("the provider's calendar");
    let v = store
        .create_event(
            almanac_model::EventInput {
                calendar_id,
                title: NEW.0.into(),
                all_day: false,
                start: "2027-10-31T02:10+01:00".into(),
                end: "2027-10-31T02:40+01:00".into(),
                time_zone: "Europe/Berlin".into(),
                recurrence: None,
                location: String::new(),
                description: String::new(),
                show_as: almanac_model::ShowAs::Busy,
                importance: almanac_model::Importance::Normal,
                categories: Vec::new(),
            },
            Source::UserWindow,
            now(),
        )
        .expect("create");
    assert_eq!(v.input.start, "2027-10-31T02:10:00+01:00");
}

/// [`expected`] with [`NEW`] among them.
fn expected_with_new(suffix: &str) -> Vec<(String, String, String)> {
    let mut out = expected(suffix);
    out.push((NEW.0.into(), NEW.1.into(), NEW.2.into()));
    out.sort();
    out
}

#[test]
fn google_events_in_a_fold_keep_their_instants_both_ways() {
    let cloud = Cloud::start();
    let cal = cloud
        .state
        .google_seed_calendar(EMAIL, &json!({"summary": "Customers"}))
        .expect("calendar");
    let cal_id = cal["id"].as_str().expect("calendar id").to_owned();
    for (title, start, end) in EVENTS {
        cloud
            .state
            .google_seed_event(
                EMAIL,
                &cal_id,
                &json!({
                    "summary": title,
                    "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
                    "end": {"dateTime": end, "timeZone": "Europe/Berlin"},
                }),
            )
            .expect("seed");
    }
    let google = cloud.client();
    let (_dir, store, account) = signed_in(Provider::Google, EMAIL, now());

    // Pulled: both kept (the first used to be refused as ending before it starts, the
    // second stored an hour early).
    let s = run(&store, &google, &account);
    assert_eq!((s.pulled, s.pushed), (2, 0), "{s:?}");
    assert_eq!(stored(&store), expected(""));
    // Nothing looks changed on the next run: no echo pushed back.
    let s = run(&store, &google, &account);
    assert_eq!((s.pulled, s.pushed), (0, 0), "{s:?}");

    // A local edit of another field keeps the instants; a new event is sent whole.
    rename_all(&store, " (renamed)");
    create_new(&store, "Customers");
    let s = run(&store, &google, &account);
    assert_eq!(s.pushed, 3, "{s:?}");
    let mut at_google: Vec<(String, String, String)> = cloud
        .state
        .google_events(EMAIL, &cal_id)
        .expect("events")
        .iter()
        .map(|e| {
            let instant = |k: &str| {
                let t = e[k]["dateTime"].as_str().expect("dateTime");
                DateTime::parse_from_rfc3339(t)
                    .expect("RFC 3339")
                    .with_timezone(&Utc)
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            };
            let title = e["summary"].as_str().unwrap_or_default().to_owned();
            (title, instant("start"), instant("end"))
        })
        .collect();
    at_google.sort();
    assert_eq!(at_google, expected_with_new(" (renamed)"));
    assert_eq!(stored(&store), expected_with_new(" (renamed)"));
    let s = run(&store, &google, &account);
    assert_eq!((s.pulled, s.pushed), (0, 0), "{s:?}");
}

#[test]
fn graph_events_in_a_fold_keep_their_instants_both_ways() {
    let cloud = Cloud::start();
    cloud
        .state
        .add_user(UserSpec {
            provider: FakeProvider::Microsoft,
            email: GRAPH_EMAIL.into(),
            name: Some("Field Staff".into()),
            current: true,
        })
        .expect("user");
    // Graph's `dateTime` is a wall time in `timeZone`, so a time in the second pass
    // can only be given in UTC: "Across" is 02:30 Berlin time to 01:15 UTC (Berlin is
    // its zone), "Second pass" is all UTC.
    let wall = |t: &str| t[..19].to_owned();
    let seeds = [
        (
            EVENTS[0],
            "W. Europe Standard Time",
            wall("2027-10-31T02:30:00"),
        ),
        (EVENTS[1], "UTC", wall(EVENTS[1].1)),
    ];
    for ((title, _, end), zone, start) in seeds {
        let seed = serde_json::from_value(json!({
            "email": GRAPH_EMAIL,
            "event": {
                "subject": title,
                "start": {"dateTime": start, "timeZone": zone},
                "end": {"dateTime": wall(end), "timeZone": "UTC"},
            },
        }))
        .expect("seed spec");
        cloud.state.graph_seed_event(seed).expect("seed");
    }
    let token = cloud
        .state
        .mint_access_token(FakeProvider::Microsoft, GRAPH_EMAIL)
        .expect("token");
    let api = ApiClient::new(
        Dialect::Graph,
        Arc::new(Fixed(Secret::new(token))),
        Backoff::default(),
    )
    .expect("api");
    let base = url::Url::parse(&format!("{}/v1.0", cloud.base_url)).expect("url");
    let graph = GraphCalendar::new(api, base, GRAPH_EMAIL, "Europe/Berlin");
    let (_dir, store, account) = signed_in(Provider::Microsoft, GRAPH_EMAIL, now());

    let s = run(&store, &graph, &account);
    assert_eq!((s.pulled, s.pushed), (2, 0), "{s:?}");
    assert_eq!(stored(&store), expected(""));

    // The second pass must go out in UTC, or Graph reads it as the first: "Across"
    // would end before it starts.
    rename_all(&store, " (renamed)");
    create_new(&store, "Calendar");
    let s = run(&store, &graph, &account);
    assert_eq!(s.pushed, 3, "{s:?}");
    let events = cloud.state.graph_events(GRAPH_EMAIL).expect("events");
    let mut at_graph: Vec<(String, String, String)> = events["value"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            let utc = |k: &str| {
                assert_eq!(e[k]["timeZone"], "UTC", "{e}");
                format!("{}Z", &e[k]["dateTime"].as_str().expect("dateTime")[..19])
            };
            let title = e["subject"].as_str().unwrap_or_default().to_owned();
            if title.starts_with("Across") {
                // The first pass keeps its zone; only the second pass is in UTC.
                assert_eq!(e["originalStartTimeZone"], "W. Europe Standard Time", "{e}");
                assert_eq!(e["originalEndTimeZone"], "UTC", "{e}");
            }
            (title, utc("start"), utc("end"))
        })
        .collect();
    at_graph.sort();
    assert_eq!(at_graph, expected_with_new(" (renamed)"));
    // Pulling the pushed versions back changes nothing.
    let s = run(&store, &graph, &account);
    assert_eq!(s.pushed, 0, "{s:?}");
    assert_eq!(stored(&store), expected_with_new(" (renamed)"));
    // Graph answered "New" (which starts in the second pass) in UTC: that is its zone
    // now, at the same instants, and the answer is not taken for a change to push back.
    let zones: Vec<String> = {
        let store = store.lock().expect("store");
        store
            .sync_calendars(None)
            .expect("calendars")
            .iter()
            .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
            .filter_map(|e| e.row)
            .filter(|r| r.input.title == NEW.0)
            .map(|r| r.input.time_zone)
            .collect()
    };
    assert_eq!(zones, ["UTC"]);
}
