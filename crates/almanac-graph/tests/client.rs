//! The Graph client against the project's fake Graph: listing, incremental sync,
//! writes with idempotency and If-Match, resets, throttling, captive portals, the
//! per-mailbox concurrency cap.

#[path = "support/schema.rs"]
mod schema;

use std::sync::Arc;
use std::time::{Duration, Instant};

use almanac_auth::Secret;
use almanac_fakecloud::graph_store::{GraphEventSeed, GraphFaultsUpdate};
use almanac_fakecloud::{FakeCloud, Provider as FakeProvider, SharedState};
use almanac_graph::mapping::KEPT_ATTENDEES;
use almanac_graph::GraphCalendar;
use almanac_provider::{
    ApiClient, Backoff, CalendarProvider, Change, Cursor, Dialect, ErrorKind, Lookup,
    RemoteCalendar, RemoteEvent, Timing, TokenSource, Window,
};
use chrono::{DateTime, Duration as Days, Utc};
use serde_json::{json, Value};

const ME: &str = "adele@contoso.example";

struct Minted(SharedState);

impl TokenSource for Minted {
    fn token(
        &self,
        _force: bool,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = almanac_provider::Result<Secret>> + Send + '_>,
    > {
        Box::pin(async move {
            Ok(Secret::new(
                self.0
                    .mint_access_token(FakeProvider::Microsoft, ME)
                    .expect("mint"),
            ))
        })
    }
}

fn backoff() -> Backoff {
    Backoff {
        max_attempts: 5,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn setup() -> (FakeCloud, GraphCalendar) {
    let cloud = FakeCloud::start().await.expect("fake cloud");
    let api =
        ApiClient::new(Dialect::Graph, Arc::new(Minted(cloud.state())), backoff()).expect("api");
    let base = url::Url::parse(&format!("{}/v1.0", cloud.base_url())).expect("url");
    let graph = GraphCalendar::new(api, base, ME, "UTC");
    (cloud, graph)
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn window() -> Window {
    Window {
        start: now() - Days::days(90),
        end: now() + Days::days(365),
    }
}

fn seed(state: &SharedState, subject: &str, day: i64) -> Value {
    let start = (now() + Days::days(day))
        .format("%Y-%m-%dT10:00:00")
        .to_string();
    let end = (now() + Days::days(day))
        .format("%Y-%m-%dT11:00:00")
        .to_string();
    state
        .graph_seed_event(GraphEventSeed {
            email: ME.into(),
            calendar_id: None,
            event: json!({
                "subject": subject,
                "start": {"dateTime": start, "timeZone": "UTC"},
                "end": {"dateTime": end, "timeZone": "UTC"},
                "body": {"contentType": "html", "content": "<p>Agenda</p>"},
                "categories": ["Customer"],
            }),
        })
        .expect("seed")
}

async fn primary(graph: &GraphCalendar) -> RemoteCalendar {
    let cals = graph.list_calendars().await.expect("calendars");
    cals.into_iter()
        .find(|c| c.is_primary)
        .expect("a default calendar")
}

/// Runs a round to its end: the upserts and removals, and the cursor to go on from.
async fn round(
    graph: &GraphCalendar,
    cal: &RemoteCalendar,
    from: Option<String>,
) -> (Vec<RemoteEvent>, Vec<String>, String, usize) {
    let (mut upserts, mut removed, mut pages) = (Vec::new(), Vec::new(), 0);
    let mut cursor = from;
    loop {
        let page = graph
            .changes(cal, cursor.as_deref(), window())
            .await
            .expect("page");
        pages += 1;
        for c in page.changes {
            match c {
                Change::Upsert(e) => upserts.push(*e),
                Change::Removed { remote_id } => removed.push(remote_id),
            }
        }
        match page.cursor {
            Cursor::More(next) => cursor = Some(next),
            Cursor::Done(delta) => return (upserts, removed, delta, pages),
        }
    }
}

/// How many `$batch` requests the fake cloud counted.
fn batches(requests: &std::collections::BTreeMap<String, u64>) -> u64 {
    requests
        .iter()
        .filter(|(k, _)| k.contains("$batch"))
        .map(|(_, n)| *n)
        .sum()
}

fn faults(state: &SharedState, v: Value) {
    let update: GraphFaultsUpdate = serde_json::from_value(v).expect("faults");
    state.graph_set_faults(update).expect("set faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_incremental_sync_with_immutable_ids() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    for i in 0..25 {
        seed(&state, &format!("Customer call {i}"), i % 20);
    }
    let cal = primary(&graph).await;
    let (events, removed, delta, pages) = round(&graph, &cal, None).await;
    assert_eq!(events.len(), 25);
    assert!(removed.is_empty());
    assert!(pages >= 1);
    let e = events
        .iter()
        .find(|e| e.title == "Customer call 3")
        .expect("event");
    assert_eq!(e.body_html.as_deref(), Some("<p>Agenda</p>"));
    assert_eq!(e.categories, vec!["Customer"]);
    assert!(matches!(e.timing, Timing::Timed { .. }));

    // Another client edits one and deletes another.
    let edited = events[0].remote_id.clone();
    let deleted = events[1].remote_id.clone();
    state
        .graph_edit_event(
            serde_json::from_value(
                json!({"email": ME, "id": edited, "patch": {"subject": "Moved by the customer"}}),
            )
            .expect("edit"),
        )
        .expect("edit");
    state
        .graph_delete_event(
            serde_json::from_value(json!({"email": ME, "id": deleted})).expect("delete"),
        )
        .expect("delete");
    let (events, removed, _, _) = round(&graph, &cal, Some(delta)).await;
    assert_eq!(
        events.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        vec!["Moved by the customer"]
    );
    assert_eq!(removed, vec![deleted]);
    assert!(
        state.graph_stats().immutable_id.always,
        "every request must ask for immutable ids"
    );
}

/// A listing page is read as the text of each event's properties: what is modelled is
/// read as from a whole event, and every other property is kept as it came, escapes
/// and all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_event_reads_as_the_event_and_keeps_what_is_not_modelled() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let day = (now() + Days::days(2)).format("%Y-%m-%d").to_string();
    let rendered = state
        .graph_seed_event(GraphEventSeed {
            email: ME.into(),
            calendar_id: None,
            event: json!({
                "subject": "Renewal \"Q4\" \u{2014} Café\n(2nd)",
                "start": {"dateTime": format!("{day}T09:30:00"), "timeZone": "W. Europe Standard Time"},
                "end": {"dateTime": format!("{day}T10:15:00"), "timeZone": "W. Europe Standard Time"},
                "body": {"contentType": "text", "content": "Line 1\n\"quoted\"\t\\ end"},
                "location": {"displayName": "HQ \"Blue\" room",
                             "address": {"street": "Unter den Linden 1", "city": "Berlin"}},
                "attendees": [{"emailAddress": {"address": "ceo@customer.example", "name": "Dana \"D\" Ng"},
                               "type": "optional"}],
                "categories": ["Customer", "Renewal ✓"],
                "importance": "high",
                "showAs": "tentative",
            }),
        })
        .expect("seed");
    let cal = primary(&graph).await;
    let (events, _, _, _) = round(&graph, &cal, None).await;
    let [listed] = events.as_slice() else {
        panic!("one event listed: {events:?}");
    };
    assert_eq!(listed.title, "Renewal \"Q4\" \u{2014} Café\n(2nd)");
    assert!(
        listed.body_text.contains("\"quoted\"\t\\ end"),
        "{}",
        rendered["body"]
    );
    assert_eq!(listed.location, "HQ \"Blue\" room");
    assert_eq!(listed.attendees[0].person.name, "Dana \"D\" Ng");
    assert_eq!(listed.categories, ["Customer", "Renewal ✓"]);
    // Kept: the unmodelled parts of what is read, and every property not read.
    assert_eq!(listed.extra["location"]["address"]["city"], "Berlin");
    // An attendee a write renders as listed (no answer yet) is not kept a second time.
    assert!(
        !listed.extra.contains_key("attendees") && !listed.extra.contains_key(KEPT_ATTENDEES),
        "{:?}",
        listed.extra.to_json()
    );
    for name in ["responseStatus", "locations", "createdDateTime"] {
        assert!(listed.extra.contains_key(name), "{name} is kept");
    }
    // Read-only and never written back: a copy of the body's start, nulls, the etag's
    // text, zone names the event's zone says.
    assert_eq!(
        listed.etag,
        rendered["changeKey"].as_str().map(|k| format!("W/\"{k}\""))
    );
    for name in [
        "bodyPreview",
        "transactionId",
        "onlineMeetingUrl",
        "changeKey",
        "originalStartTimeZone",
        "originalEndTimeZone",
    ] {
        assert!(!listed.extra.contains_key(name), "{name} is not kept");
    }
    for name in [
        "id",
        "subject",
        "body",
        "start",
        "end",
        "categories",
        "showAs",
    ] {
        assert!(!listed.extra.contains_key(name), "{name} is read, not kept");
    }
    for (name, value) in listed.extra.iter() {
        // (a listing names the event by its immutable id, the seed's answer did not)
        if name != "webLink" {
            assert_eq!(rendered.get(name), Some(value), "{name} kept as it came");
        }
    }
    // The same event read whole (as a single answer is) maps to the same event.
    let mut whole = almanac_graph::mapping::from_graph(&rendered, "UTC").expect("maps");
    whole.remote_id.clone_from(&listed.remote_id);
    whole.extra.remove("webLink");
    let mut listed = listed.clone();
    listed.extra.remove("webLink");
    assert_eq!(listed, whole);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_lands_once() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let cal = primary(&graph).await;
    let mut template = {
        seed(&state, "template", 1);
        let (events, ..) = round(&graph, &cal, None).await;
        events.into_iter().next().expect("one")
    };
    template.title = "QBR with Fabrikam".into();
    template.extra.clear();
    // The first POST is carried out but its answer never arrives.
    faults(
        &state,
        json!({"add": [{"kind": "drop_connection", "method": "POST", "path_contains": "/events", "after_processing": true}]}),
    );
    let created = graph
        .create(&cal, &template, "7d4c2a9e-0000-4000-8000-000000000001")
        .await
        .expect("create");
    assert_eq!(created.title, "QBR with Fabrikam");
    let all = state.graph_events(ME).expect("events");
    let n = all["value"].as_array().map(|a| {
        a.iter()
            .filter(|e| e["subject"] == "QBR with Fabrikam")
            .count()
    });
    assert_eq!(n, Some(1), "exactly one remote event");
    assert_eq!(state.graph_stats().deduplicated_creates, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_need_the_current_etag_and_deletes_are_idempotent() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    seed(&state, "Kickoff", 2);
    let cal = primary(&graph).await;
    let (events, ..) = round(&graph, &cal, None).await;
    let mut e = events.into_iter().next().expect("event");
    let stale = e.etag.clone().expect("etag");
    e.title = "Kickoff (agenda attached)".into();
    let updated = graph.update(&cal, &e, &stale).await.expect("update");
    assert_ne!(
        updated.etag.as_deref(),
        Some(stale.as_str()),
        "changeKey moves"
    );
    e.title = "Lost update".into();
    let err = graph
        .update(&cal, &e, &stale)
        .await
        .expect_err("stale etag");
    assert_eq!(err.kind, ErrorKind::PreconditionFailed);
    let first = graph
        .delete(&cal, &e.remote_id, updated.etag.as_deref())
        .await
        .expect("delete");
    assert_eq!(first, almanac_provider::Deleted::Now);
    let again = graph
        .delete(&cal, &e.remote_id, None)
        .await
        .expect("deleting again is done");
    assert_eq!(
        again,
        almanac_provider::Deleted::AlreadyGone,
        "a 404 is no news"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_cursor_restarts_as_a_full_listing() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    seed(&state, "One", 1);
    let cal = primary(&graph).await;
    let first = graph.changes(&cal, None, window()).await.expect("page");
    assert!(first.full_listing, "the first round lists everything");
    let (_, _, delta, _) = round(&graph, &cal, None).await;
    let incremental = graph
        .changes(&cal, Some(&delta), window())
        .await
        .expect("page");
    assert!(!incremental.full_listing);
    let Cursor::Done(delta) = incremental.cursor else {
        panic!("one page")
    };
    for mode in ["gone", "sync_state_not_found", "resync_required"] {
        faults(
            &state,
            json!({"invalidate_delta": {"email": ME, "mode": mode}}),
        );
        let page = graph
            .changes(&cal, Some(&delta), window())
            .await
            .expect("restarted");
        assert!(page.full_listing, "{mode}: the client re-lists and says so");
        let listed: Vec<_> = page
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::Upsert(e) => Some(e.title.clone()),
                Change::Removed { .. } => None,
            })
            .collect();
        assert_eq!(listed, vec!["One"], "{mode}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_ridden_out_and_portals_are_never_empty_calendars() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    seed(&state, "One", 1);
    let cal = primary(&graph).await;
    faults(
        &state,
        json!({"add": [{"kind": "throttle", "count": 2, "retry_after_secs": 1}, {"kind": "unavailable", "count": 1}]}),
    );
    let t = Instant::now();
    let (events, ..) = round(&graph, &cal, None).await;
    assert_eq!(events.len(), 1);
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    faults(
        &state,
        json!({"add": [{"kind": "captive_portal", "count": 1}]}),
    );
    let err = graph
        .changes(&cal, None, window())
        .await
        .expect_err("portal");
    assert!(err.not_json);
    assert_eq!(err.kind, ErrorKind::ProviderUnavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_pages_and_duplicates_within_a_round() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    for i in 0..3 {
        seed(&state, &format!("E{i}"), i);
    }
    let cal = primary(&graph).await;
    faults(
        &state,
        json!({"empty_page": {"email": ME}, "duplicate_in_round": {"email": ME}}),
    );
    let first = graph.changes(&cal, None, window()).await.expect("page");
    assert!(first.changes.is_empty(), "the fault's empty first page");
    assert!(
        matches!(first.cursor, Cursor::More(_)),
        "an empty page with a nextLink is not the end"
    );
    let Cursor::More(next) = first.cursor else {
        unreachable!()
    };
    let (events, ..) = round(&graph, &cal, Some(next)).await;
    let mut ids: Vec<_> = events.iter().map(|e| e.remote_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_four_requests_per_mailbox() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    faults(
        &state,
        json!({"add": [{"kind": "delay", "count": 12, "delay_ms": 150}]}),
    );
    let graph = Arc::new(graph);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let g = graph.clone();
        tasks.push(tokio::spawn(async move { g.list_calendars().await }));
    }
    for t in tasks {
        t.await.expect("join").expect("calendars");
    }
    let stats = state.graph_stats();
    assert!(
        stats.max_concurrency.get(ME).copied().unwrap_or(0) <= 4,
        "{:?}",
        stats.max_concurrency
    );
    assert_eq!(stats.concurrency_rejections, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_busy_on_a_personal_account_says_why_not() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    state
        .graph_set_personal(
            serde_json::from_value(json!({"email": ME, "personal": true})).expect("spec"),
        )
        .expect("personal");
    let err = graph
        .get_schedule(&[ME.to_string()], window(), 30)
        .await
        .expect_err("personal accounts have no getSchedule");
    assert!(err.message.contains("work or school"), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_deletes_retry_throttled_items_one_by_one() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let ids: Vec<String> = (0..4)
        .map(|i| {
            seed(&state, &format!("Occurrence {i}"), i)["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    // One inner request is throttled; the gone one counts as deleted.
    faults(
        &state,
        json!({"add": [{"kind": "throttle", "count": 1, "method": "DELETE", "retry_after_secs": 1}]}),
    );
    state
        .graph_delete_event(
            serde_json::from_value(json!({"email": ME, "id": ids[3]})).expect("delete"),
        )
        .expect("delete");
    let targets: Vec<(String, Option<String>)> = ids.iter().map(|id| (id.clone(), None)).collect();
    let t = Instant::now();
    let cal = primary(&graph).await;
    let results = graph.delete_many(&cal, &targets).await;
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "the inner Retry-After is honoured"
    );
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let left = state.graph_events(ME).expect("events");
    assert_eq!(left["value"].as_array().map(Vec::len), Some(0));
    let stats = state.graph_stats();
    assert!(
        stats.requests.keys().any(|k| k.contains("$batch")),
        "{:?}",
        stats.requests
    );
    assert_eq!(stats.faults_injected, 1, "one inner request was throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_gets_fetch_many_events_in_one_round_trip_and_retry_throttled_ones() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let ids: Vec<String> = (0..25)
        .map(|i| {
            seed(&state, &format!("Series {i}"), i % 5)["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    state
        .graph_delete_event(
            serde_json::from_value(json!({"email": ME, "id": ids[7]})).expect("delete"),
        )
        .expect("delete");
    faults(
        &state,
        json!({"add": [{"kind": "throttle", "count": 1, "method": "GET", "retry_after_secs": 1}]}),
    );
    let cal = primary(&graph).await;
    let before = state.graph_stats().requests.clone();
    let got = graph.get_many(&cal, &ids).await.expect("events");
    assert_eq!(got.len(), 25);
    for (i, ev) in got.iter().enumerate() {
        match i {
            7 => assert!(ev.is_gone(), "{i} is gone"),
            _ => assert_eq!(
                ev.clone().found().map(|e| e.title),
                Some(format!("Series {i}"))
            ),
        }
    }
    let after = state.graph_stats().requests;
    // 25 events in two batches (20 + 5), plus the one throttled item fetched alone.
    assert_eq!(batches(&after) - batches(&before), 2, "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_asked_for_that_cannot_be_read_is_neither_gone_nor_a_failure_of_the_others() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let ids: Vec<String> = (0..3)
        .map(|i| {
            seed(&state, &format!("Series {i}"), i)["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    state
        .graph_delete_event(
            serde_json::from_value(json!({"email": ME, "id": ids[2]})).expect("delete"),
        )
        .expect("delete");
    let malformed = || json!({"add": [{"kind": "malformed_event", "count": 1, "method": "GET"}]});
    let cal = primary(&graph).await;
    faults(&state, malformed());
    let got = graph.get_many(&cal, &ids).await.expect("events");
    assert!(
        matches!(&got[0], Lookup::Unreadable(why) if why.contains("Mars Standard Time")),
        "{:?}",
        got[0]
    );
    assert_eq!(
        got[1].clone().found().map(|e| e.title).as_deref(),
        Some("Series 1")
    );
    assert!(got[2].is_gone(), "{:?}", got[2]);
    // Asked for alone, it fails the request: the caller cannot go on with it.
    faults(&state, malformed());
    let one = graph.event(&cal, &ids[0]).await.expect_err("unreadable");
    assert_eq!(one.kind, ErrorKind::ProviderUnavailable);
    let again = graph.event(&cal, &ids[0]).await.expect("read");
    assert_eq!(again.map(|e| e.title).as_deref(), Some("Series 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_and_calendars_delegated_by_another_mailbox() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let boss = "megan@contoso.example";
    state
        .add_user(
            serde_json::from_value(
                json!({"provider": "microsoft", "email": boss, "name": "Megan Bowen"}),
            )
            .expect("user"),
        )
        .expect("add user");
    state
        .graph_seed_event(GraphEventSeed {
            email: boss.into(),
            calendar_id: None,
            event: json!({"subject": "Board prep",
                "start": {"dateTime": (now() + Days::days(1)).format("%Y-%m-%dT10:00:00").to_string(), "timeZone": "UTC"},
                "end": {"dateTime": (now() + Days::days(1)).format("%Y-%m-%dT11:00:00").to_string(), "timeZone": "UTC"}}),
        })
        .expect("seed");
    state
        .graph_share(
            serde_json::from_value(json!({"owner": boss, "with": ME, "role": "write"}))
                .expect("share"),
        )
        .expect("share");
    let me = graph.me().await.expect("me");
    assert_eq!(me.email, ME);
    let graph = graph.with_delegates(&[boss.to_string()]);
    let cals = graph.list_calendars().await.expect("calendars");
    let shared = cals
        .iter()
        .find(|c| c.owner_email.as_deref() == Some(boss))
        .expect("the shared calendar");
    assert!(shared.can_edit && !shared.is_primary);
    let (events, ..) = round(&graph, shared, None).await;
    assert_eq!(
        events.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(),
        vec!["Board prep"]
    );
    let mut e = events.into_iter().next().expect("event");
    let etag = e.etag.clone().expect("etag");
    e.title = "Board prep (deck v2)".into();
    graph
        .update(shared, &e, &etag)
        .await
        .expect("write to the delegated calendar");
    let stored = state.graph_events(boss).expect("events");
    assert_eq!(stored["value"][0]["subject"], "Board prep (deck v2)");
}

/// Each event a page lists as removed is looked up before it is believed (reference
/// B5) — in `$batch`es of 20, not one request each: a deleted daily series lists
/// every instance in the window. The gone ones are removals, the one only moved out
/// of the window is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removals_are_confirmed_in_batches() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let ids: Vec<String> = (0..25)
        .map(|i| {
            seed(&state, &format!("Customer call {i}"), i % 20)["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    let cal = primary(&graph).await;
    let (_, _, delta, _) = round(&graph, &cal, None).await;
    for id in &ids[1..] {
        state
            .graph_delete_event(
                serde_json::from_value(json!({"email": ME, "id": id})).expect("delete"),
            )
            .expect("delete");
    }
    let far = (now() + Days::days(730))
        .format("%Y-%m-%dT10:00:00")
        .to_string();
    let far_end = (now() + Days::days(730))
        .format("%Y-%m-%dT11:00:00")
        .to_string();
    state
        .graph_edit_event(
            serde_json::from_value(json!({"email": ME, "id": ids[0], "patch": {
                "start": {"dateTime": far, "timeZone": "UTC"},
                "end": {"dateTime": far_end, "timeZone": "UTC"}}}))
            .expect("edit"),
        )
        .expect("edit");
    let before = state.graph_stats().requests.clone();
    let (events, mut removed, _, pages) = round(&graph, &cal, Some(delta)).await;
    let after = state.graph_stats().requests;
    removed.sort();
    let mut gone = ids[1..].to_vec();
    gone.sort();
    assert_eq!(removed, gone);
    assert_eq!(
        events
            .iter()
            .map(|e| e.remote_id.as_str())
            .collect::<Vec<_>>(),
        vec![ids[0].as_str()]
    );
    // 25 lookups: two batches (20 + 5) on a one-page round.
    assert_eq!(pages, 1);
    assert_eq!(batches(&after) - batches(&before), 2, "{after:?}");
}

/// Another client moves event `id` two years ahead, far outside the sync window.
fn move_out_of_the_window(state: &SharedState, id: &str) {
    let at = |hour: u32| {
        (now() + Days::days(730))
            .format(&format!("%Y-%m-%dT{hour:02}:00:00"))
            .to_string()
    };
    state
        .graph_edit_event(
            serde_json::from_value(json!({"email": ME, "id": id, "patch": {
                "start": {"dateTime": at(10), "timeZone": "UTC"},
                "end": {"dateTime": at(11), "timeZone": "UTC"}}}))
            .expect("edit"),
        )
        .expect("edit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_moved_out_of_the_window_is_not_a_deletion() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let id = seed(&state, "Renewal", 3)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let cal = primary(&graph).await;
    let (_, _, delta, _) = round(&graph, &cal, None).await;
    move_out_of_the_window(&state, &id);
    let (events, removed, _, _) = round(&graph, &cal, Some(delta)).await;
    assert!(
        removed.is_empty(),
        "Graph's @removed for a moved event must not become a deletion"
    );
    let moved = events
        .iter()
        .find(|e| e.remote_id == id)
        .expect("the moved event, as it is now");
    assert!(matches!(moved.timing, Timing::Timed { start, .. } if start > now() + Days::days(700)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_whose_event_is_there_but_cannot_be_read_is_unreadable_not_removed() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let id = seed(&state, "Renewal", 3)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let cal = primary(&graph).await;
    let (_, _, delta, _) = round(&graph, &cal, None).await;
    move_out_of_the_window(&state, &id);
    // The delta lists it as removed; the client asks for it, and it comes unreadable.
    faults(
        &state,
        json!({"add": [{"kind": "malformed_event", "count": 1, "method": "GET",
                        "path_contains": "/events/"}]}),
    );
    let page = graph
        .changes(&cal, Some(&delta), window())
        .await
        .expect("page");
    assert!(page.changes.is_empty(), "{:?}", page.changes);
    assert_eq!(page.unreadable.len(), 1, "{:?}", page.unreadable);
    assert_eq!(page.unreadable[0].0, id);
    assert!(page.unreadable[0].1.contains("Mars Standard Time"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_the_client_sends_is_valid_against_the_openapi_subset() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    state
        .graph_seed_event(GraphEventSeed {
            email: ME.into(),
            calendar_id: None,
            event: json!({
                "subject": "Contoso QBR",
                "start": {"dateTime": (now() + Days::days(2)).format("%Y-%m-%dT09:00:00").to_string(), "timeZone": "W. Europe Standard Time"},
                "end": {"dateTime": (now() + Days::days(2)).format("%Y-%m-%dT10:00:00").to_string(), "timeZone": "W. Europe Standard Time"},
                "location": {"displayName": "Room 4", "address": {"city": "Berlin"}},
                "attendees": [{"type": "required", "emailAddress": {"address": "pat@fabrikam.example", "name": "Pat"}}],
                "categories": ["Customer"], "importance": "high", "sensitivity": "private", "showAs": "tentative",
                "isReminderOn": true, "reminderMinutesBeforeStart": 30,
                "isOnlineMeeting": true, "onlineMeetingProvider": "teamsForBusiness",
                "recurrence": {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
                               "range": {"type": "noEnd", "startDate": (now() + Days::days(2)).format("%Y-%m-%d").to_string()}}
            }),
        })
        .expect("seed");
    let cal = primary(&graph).await;
    let (events, ..) = round(&graph, &cal, None).await;
    let mut copy = events.into_iter().next().expect("an event");
    copy.series = None;
    copy.kind = almanac_provider::RemoteKind::Single;
    copy.title = "Contoso QBR (copy)".into();
    let created = graph
        .create(&cal, &copy, "4f1c2d3e-0000-4000-8000-00000000000a")
        .await
        .expect("create");
    let mut changed = created.clone();
    changed.location = "Café Lindt".into();
    let etag = created.etag.clone().expect("etag");
    graph.update(&cal, &changed, &etag).await.expect("update");
    let bodies = state.received_bodies(FakeProvider::Microsoft);
    let writes: Vec<_> = bodies
        .iter()
        .filter(|b| b.route.contains("/events"))
        .collect();
    assert!(writes.len() >= 2, "{bodies:?}");
    for b in writes {
        schema::assert_valid("event", &b.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_leaves_a_location_as_it_was_kept_or_not() {
    let (cloud, graph) = setup().await;
    let state = cloud.state();
    let day = (now() + Days::days(3)).format("%Y-%m-%d").to_string();
    let two = json!([{"displayName": "Room 9"}, {"displayName": "Home office"}]);
    let addressed = json!({"displayName": "HQ", "address": {"city": "Berlin"}});
    for (subject, location, locations) in [
        ("Plain", json!({"displayName": "Room 9"}), None),
        ("Addressed", addressed, None),
        ("Nowhere", json!({"displayName": ""}), None),
        (
            "Two places",
            json!({"displayName": "Room 9; Home office"}),
            Some(two),
        ),
    ] {
        let mut event = json!({
            "subject": subject,
            "start": {"dateTime": format!("{day}T09:00:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{day}T10:00:00"), "timeZone": "UTC"},
            "location": location,
        });
        if let Some(list) = locations {
            event["locations"] = list;
        }
        state
            .graph_seed_event(GraphEventSeed {
                email: ME.into(),
                calendar_id: None,
                event,
            })
            .expect("seed");
    }
    let stored = |state: &SharedState| -> Vec<Value> {
        let all = state.graph_events(ME).expect("events");
        let mut events = all["value"].as_array().cloned().unwrap_or_default();
        events.sort_by_key(|e| e["subject"].as_str().map(str::to_owned));
        events
    };
    let before = stored(&state);
    let cal = primary(&graph).await;
    let (events, ..) = round(&graph, &cal, None).await;
    assert_eq!(events.len(), 4);
    for e in &events {
        let kept = e.extra.contains_key("location") && e.extra.contains_key("locations");
        let gone = !e.extra.contains_key("location") && !e.extra.contains_key("locations");
        match e.title.as_str() {
            "Addressed" | "Two places" => assert!(kept, "{:?}", e.extra.to_json()),
            _ => assert!(gone, "{}: {:?}", e.title, e.extra.to_json()),
        }
        let mut renamed = e.clone();
        renamed.title = format!("{} (moved agenda)", e.title);
        graph
            .update(&cal, &renamed, e.etag.as_deref().expect("etag"))
            .await
            .expect("update");
    }
    // Graph renders the name written alone as it listed it, and a second place goes
    // back with the first: nothing of a location changes when another field is written.
    let after = stored(&state);
    assert_eq!(after.len(), 4);
    for (was, now) in before.iter().zip(&after) {
        assert_eq!(now["location"], was["location"], "{}", was["subject"]);
        assert_eq!(now["locations"], was["locations"], "{}", was["subject"]);
        assert_ne!(now["subject"], was["subject"]);
    }
    assert_eq!(after[0]["location"]["address"]["city"], "Berlin");
    assert_eq!(after[3]["locations"].as_array().map(Vec::len), Some(2));
}
