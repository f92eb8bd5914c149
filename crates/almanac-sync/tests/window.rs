//! A windowed lineage moves on (issue 5): Graph's calendar-view delta keeps the window
//! its listing began with, so an event further ahead than that window's end would never
//! come. Once the window's end is a month behind where a new listing's would be, the
//! engine lists the calendar again over a fresh window — without duplicating or losing
//! the events it has.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;

use std::sync::{Arc, Mutex};

use almanac_auth::Secret;
use almanac_fakecloud::Provider as FakeProvider;
use almanac_graph::GraphCalendar;
use almanac_model::Provider;
use almanac_provider::{ApiClient, Backoff, Dialect};
use almanac_store::{SignedIn, Store};
use almanac_sync::convert::from_row;
use almanac_sync::{sync_account, SyncOptions};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Fixed};

fn titles(store: &Mutex<Store>) -> Vec<String> {
    let store = store.lock().expect("store");
    let mut out = Vec::new();
    for cal in store.sync_calendars(None).expect("calendars") {
        for e in store.sync_entries(&cal.id).expect("entries") {
            if let Some(row) = e.row {
                out.push(from_row(&row, None).expect("row").title);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_graph_window_left_behind_is_listed_again() {
    let cloud = Cloud::start();
    let email = cloud
        .state
        .users()
        .into_iter()
        .find(|u| u.provider == FakeProvider::Microsoft)
        .map(|u| u.email)
        .expect("the fake's Microsoft user");
    let t0 = Utc::now();
    for (title, days) in [("Soon", 10), ("Far ahead", 400)] {
        let start = t0 + TimeDelta::days(days);
        let at = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
        let seed = serde_json::from_value(json!({
            "email": email,
            "event": {
                "subject": title,
                "start": {"dateTime": at(start), "timeZone": "UTC"},
                "end": {"dateTime": at(start + TimeDelta::hours(1)), "timeZone": "UTC"},
            },
        }))
        .expect("seed spec");
        cloud.state.graph_seed_event(seed).expect("seed");
    }
    let token = cloud
        .state
        .mint_access_token(FakeProvider::Microsoft, &email)
        .expect("token");
    let api = ApiClient::new(
        Dialect::Graph,
        Arc::new(Fixed(Secret::new(token))),
        Backoff::default(),
    )
    .expect("api");
    let base = url::Url::parse(&format!("{}/v1.0", cloud.base_url)).expect("url");
    let graph = GraphCalendar::new(api, base, &email, "UTC");

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Mutex::new(Store::open_at(dir.path()).expect("store"));
    let (account, _) = store
        .lock()
        .expect("store")
        .record_sign_in(
            &SignedIn {
                provider: Provider::Microsoft,
                subject: "https://login.microsoftonline.com/window".into(),
                email: email.clone(),
                display_name: "Window".into(),
                authority: "https://login.microsoftonline.com/common".into(),
            },
            t0.timestamp(),
        )
        .expect("sign in");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let opts = SyncOptions {
        windowed: true,
        ..SyncOptions::default()
    };
    let run_at = |now: DateTime<Utc>| {
        let s = rt
            .block_on(sync_account(
                &store,
                &graph,
                &account.id,
                &opts,
                &move || now,
            ))
            .expect("run");
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    };

    // Now: the window reaches a year ahead; 400 days is beyond it.
    run_at(t0);
    assert_eq!(titles(&store), ["Soon"]);
    // A pulled event is synced, and its row is its own base: no second copy stored.
    {
        let store = store.lock().expect("store");
        for cal in store.sync_calendars(None).expect("calendars") {
            for e in store.sync_entries(&cal.id).expect("entries") {
                assert_eq!(e.state, almanac_store::EntryState::Synced);
                assert_eq!(e.base_snapshot, None, "{}", e.local_id);
            }
        }
    }
    // Two weeks later the lineage's window is still good enough: no new listing.
    let s = run_at(t0 + TimeDelta::days(14));
    assert_eq!(s.pulled, 0, "{s:?}");
    assert_eq!(titles(&store), ["Soon"]);
    // Two months later a new listing's window would end 60 days further: listed again,
    // the far event comes, nothing is doubled or lost.
    run_at(t0 + TimeDelta::days(60));
    assert_eq!(titles(&store), ["Far ahead", "Soon"]);
    // And the new lineage goes on incrementally.
    let s = run_at(t0 + TimeDelta::days(61));
    assert_eq!(s.pulled, 0, "{s:?}");
    assert_eq!(titles(&store), ["Far ahead", "Soon"]);
}
