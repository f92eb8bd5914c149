//! An answer from the Conflicts panel names the versions it was given on: once a newer
//! version from the provider refreshed the conflict, the answer is refused and nothing
//! changes, rather than keep a version the user never saw.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::sync::Mutex;

use almanac_model::{ConflictAnswer, EditScope, ErrorCode, EventChange, KeepSide, Provider};
use almanac_provider::CalendarProvider;
use almanac_store::{Source, Store};
use almanac_sync::{answer_conflict, open_conflicts, sync_account, SyncOptions};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Kind, EMAIL};
use signed_in::signed_in;

fn run(
    rt: &tokio::runtime::Runtime,
    store: &Mutex<Store>,
    provider: &dyn CalendarProvider,
    account: &str,
    at: DateTime<Utc>,
) {
    let s = rt
        .block_on(sync_account(
            store,
            provider,
            account,
            &SyncOptions::default(),
            &move || at,
        ))
        .expect("run");
    assert_eq!(s.outcome, "ok", "{s:?}");
}

#[test]
fn an_answer_given_on_versions_since_refreshed_is_refused() {
    let cloud = Cloud::start();
    let google = cloud.provider(Kind::Google);
    let t0 = Utc::now();
    let (_dir, store, account) = signed_in(Provider::Google, EMAIL, t0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = t0 + TimeDelta::days(1);
    let seeded = cloud
        .state
        .google_seed_event(
            EMAIL,
            "primary",
            &json!({
                "summary": "Plan",
                "start": {"dateTime": start.to_rfc3339(), "timeZone": "UTC"},
                "end": {"dateTime": (start + TimeDelta::hours(1)).to_rfc3339(), "timeZone": "UTC"},
            }),
        )
        .expect("seed");
    let remote_id = seeded["id"].as_str().expect("id").to_owned();
    run(&rt, &store, &*google, &account, t0);
    let id = {
        let s = store.lock().expect("store");
        let cal = s
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("primary");
        s.sync_entries(&cal.id)
            .expect("entries")
            .into_iter()
            .find(|e| e.row.as_ref().is_some_and(|r| r.input.title == "Plan"))
            .map(|e| e.local_id)
            .expect("synced here")
    };
    {
        let mut s = store.lock().expect("store");
        let mut input = s.get_event(&id).expect("event").input;
        input.title = "Plan (mine)".into();
        s.update_event(
            EventChange {
                id: id.clone(),
                scope: EditScope::All,
                original_start: None,
                input,
            },
            Source::UserWindow,
            t0,
        )
        .expect("edit here");
    }
    let edit_there = |title: &str| {
        cloud
            .state
            .google_edit_event(EMAIL, "primary", &remote_id, &json!({"summary": title}))
            .expect("edit there");
    };
    edit_there("Plan (theirs)");
    run(&rt, &store, &*google, &account, t0 + TimeDelta::minutes(2));
    let shown = open_conflicts(&store.lock().expect("store")).expect("open");
    assert_eq!(shown.len(), 1, "{shown:?}");
    // The panel shows these versions; meanwhile the provider's side changes again.
    edit_there("Plan (theirs, v2)");
    run(&rt, &store, &*google, &account, t0 + TimeDelta::minutes(4));
    let answer = |detected_at: &str| ConflictAnswer {
        conflict_id: shown[0].id.clone(),
        keep: Some(KeepSide::Remote),
        fields: Vec::new(),
        detected_at: Some(detected_at.to_owned()),
    };
    let refused = answer_conflict(&store, &answer(&shown[0].detected_at), Utc::now())
        .expect_err("answered on versions since refreshed");
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    let now_shown = open_conflicts(&store.lock().expect("store")).expect("open");
    assert_eq!(now_shown.len(), 1, "nothing was carried out");
    assert_ne!(now_shown[0].detected_at, shown[0].detected_at);
    assert_eq!(now_shown[0].fields[0].remote, "Plan (theirs, v2)");
    // On the versions shown now, it is taken.
    answer_conflict(&store, &answer(&now_shown[0].detected_at), Utc::now()).expect("answer");
    assert!(open_conflicts(&store.lock().expect("store"))
        .expect("open")
        .is_empty());
    let title = store
        .lock()
        .expect("store")
        .get_event(&id)
        .expect("event")
        .input
        .title;
    assert_eq!(title, "Plan (theirs, v2)");
}
