//! A windowed lineage moves on (issue 5): Graph's calendar-view delta keeps the window
//! its listing began with, so an event further ahead than that window's end would never
//! come. Once the window's end is a month behind where a new listing's would be, the
//! engine lists the calendar again over a fresh window — without duplicating or losing
//! the events it has.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::sync::Mutex;

use almanac_model::Provider;
use almanac_provider::CalendarProvider;
use almanac_store::Store;
use almanac_sync::convert::from_row;
use almanac_sync::{sync_account, RunSummary, SyncOptions};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Kind, EMAIL};
use signed_in::signed_in;

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

/// A Microsoft account of the fake cloud synced into a fresh store, windowed.
struct Graph {
    cloud: Cloud,
    graph: Box<dyn CalendarProvider>,
    store: Mutex<Store>,
    account: String,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Graph {
    fn new(t0: DateTime<Utc>) -> Graph {
        let cloud = Cloud::start().with_graph_user();
        let graph = cloud.provider(Kind::Graph);
        let (dir, store, account) = signed_in(Provider::Microsoft, EMAIL, t0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Graph {
            cloud,
            graph,
            store,
            account,
            rt,
            _dir: dir,
        }
    }

    /// Seeds `event` (Graph JSON) at the provider, as another client; its id.
    fn seed(&self, event: serde_json::Value) -> String {
        let seed =
            serde_json::from_value(json!({"email": EMAIL, "event": event})).expect("seed spec");
        let made = self.cloud.state.graph_seed_event(seed).expect("seed");
        made["id"].as_str().expect("an id").to_owned()
    }

    fn run_at(&self, now: DateTime<Utc>) -> RunSummary {
        let opts = SyncOptions {
            windowed: true,
            ..SyncOptions::default()
        };
        let s = self
            .rt
            .block_on(sync_account(
                &self.store,
                &*self.graph,
                &self.account,
                &opts,
                &move || now,
            ))
            .expect("run");
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    }

    fn titles(&self) -> Vec<String> {
        titles(&self.store)
    }
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn single(title: &str, start: DateTime<Utc>) -> serde_json::Value {
    json!({
        "subject": title,
        "start": {"dateTime": at(start), "timeZone": "UTC"},
        "end": {"dateTime": at(start + TimeDelta::hours(1)), "timeZone": "UTC"},
    })
}

#[test]
fn a_graph_window_left_behind_is_listed_again() {
    let t0 = Utc::now();
    let g = Graph::new(t0);
    g.seed(single("Soon", t0 + TimeDelta::days(10)));
    g.seed(single("Far ahead", t0 + TimeDelta::days(400)));

    // Now: the window reaches a year ahead; 400 days is beyond it.
    g.run_at(t0);
    assert_eq!(g.titles(), ["Soon"]);
    // A pulled event is synced, and its row is its own base: no second copy stored.
    {
        let store = g.store.lock().expect("store");
        for cal in store.sync_calendars(None).expect("calendars") {
            for e in store.sync_entries(&cal.id).expect("entries") {
                assert_eq!(e.state, almanac_store::EntryState::Synced);
                assert_eq!(e.base_snapshot, None, "{}", e.local_id);
            }
        }
    }
    // Two weeks later the lineage's window is still good enough: no new listing.
    let s = g.run_at(t0 + TimeDelta::days(14));
    assert_eq!(s.pulled, 0, "{s:?}");
    assert_eq!(g.titles(), ["Soon"]);
    // Two months later a new listing's window would end 60 days further: listed again,
    // the far event comes, nothing is doubled or lost.
    g.run_at(t0 + TimeDelta::days(60));
    assert_eq!(g.titles(), ["Far ahead", "Soon"]);
    // And the new lineage goes on incrementally.
    let s = g.run_at(t0 + TimeDelta::days(61));
    assert_eq!(s.pulled, 0, "{s:?}");
    assert_eq!(g.titles(), ["Far ahead", "Soon"]);
}

#[test]
fn a_series_deleted_while_the_delta_token_was_lost_goes_here_too() {
    let t0 = Utc::now();
    let g = Graph::new(t0);
    let daily = |title: &str| {
        let start = t0 + TimeDelta::days(5);
        let mut ev = single(title, start);
        ev["recurrence"] = json!({
            "pattern": {"type": "daily", "interval": 1},
            "range": {
                "type": "numbered",
                "startDate": start.format("%Y-%m-%d").to_string(),
                "numberOfOccurrences": 3,
            },
        });
        ev
    };
    let gone = g.seed(daily("Series deleted there"));
    g.seed(daily("Series kept"));
    g.seed(single("Single", t0 + TimeDelta::days(10)));
    g.run_at(t0);
    assert_eq!(
        g.titles(),
        ["Series deleted there", "Series kept", "Single"]
    );
    // Deleted while this computer's delta token was lost: the relisting that follows
    // never names it (a calendar view lists instances, not series).
    g.cloud
        .state
        .graph_delete_event(
            serde_json::from_value(json!({"email": EMAIL, "id": gone})).expect("delete spec"),
        )
        .expect("delete the series there");
    g.cloud
        .state
        .graph_set_faults(
            serde_json::from_value(json!({"invalidate_delta": {"email": EMAIL, "mode": "gone"}}))
                .expect("fault spec"),
        )
        .expect("invalidate the token");
    g.run_at(t0 + TimeDelta::minutes(5));
    assert_eq!(g.titles(), ["Series kept", "Single"]);
    // A series still there with no instance in a later window is not taken for gone.
    g.run_at(t0 + TimeDelta::days(150));
    assert_eq!(g.titles(), ["Series kept", "Single"]);
    let s = g.run_at(t0 + TimeDelta::days(150) + TimeDelta::minutes(5));
    assert_eq!((s.pulled, s.pushed), (0, 0), "{s:?}");
}
