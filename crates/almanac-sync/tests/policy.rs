//! A conflict a calendar's policy settles stays on record (issue 5, I1): end to end
//! against the fake cloud's Google, what the window's Settings › Sync lists
//! ([`settled_by_policy`]) — the side kept, and the version given up.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/signed_in.rs"]
mod signed_in;

use almanac_model::{EditScope, EventChange, KeepSide, Provider};
use almanac_store::Source;
use almanac_sync::{open_conflicts, settled_by_policy, sync_account, SyncOptions};
use chrono::{TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Kind, EMAIL};
use signed_in::signed_in;

#[test]
fn what_a_policy_settled_is_listed_with_the_version_it_gave_up() {
    let cloud = Cloud::start();
    let google = cloud.provider(Kind::Google);
    let (_dir, store, account) = signed_in(Provider::Google, EMAIL, Utc::now());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let run = || {
        let s = rt
            .block_on(sync_account(
                &store,
                &*google,
                &account,
                &SyncOptions::default(),
                &Utc::now,
            ))
            .expect("run");
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    };
    let start = Utc::now() + TimeDelta::days(1);
    let mut seeded = Vec::new();
    for title in ["Plan", "Sync-up"] {
        let made = cloud
            .state
            .google_seed_event(
                EMAIL,
                "primary",
                &json!({
                    "summary": title,
                    "start": {"dateTime": start.to_rfc3339(), "timeZone": "UTC"},
                    "end": {"dateTime": (start + TimeDelta::hours(1)).to_rfc3339(), "timeZone": "UTC"},
                }),
            )
            .expect("seed");
        seeded.push(made["id"].as_str().expect("id").to_owned());
    }
    run();
    let (calendar, ids) = {
        let s = store.lock().expect("store");
        let cal = s
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("the primary calendar");
        let entries = s.sync_entries(&cal.id).expect("entries");
        let id_of = |title: &str| {
            entries
                .iter()
                .find(|e| e.row.as_ref().is_some_and(|r| r.input.title == title))
                .map(|e| e.local_id.clone())
                .expect("synced here")
        };
        (cal.id.clone(), [id_of("Plan"), id_of("Sync-up")])
    };
    // The same title changed on both sides, under a policy each time.
    let clash = |policy: &str, i: usize, mine: &str, theirs: &str| {
        let mut s = store.lock().expect("store");
        s.set_conflict_policy(&calendar, policy).expect("policy");
        let mut input = s.get_event(&ids[i]).expect("event").input;
        input.title = mine.into();
        s.update_event(
            EventChange {
                id: ids[i].clone(),
                scope: EditScope::All,
                original_start: None,
                input,
            },
            Source::UserWindow,
            Utc::now(),
        )
        .expect("edit here");
        drop(s);
        cloud
            .state
            .google_edit_event(EMAIL, "primary", &seeded[i], &json!({"summary": theirs}))
            .expect("edit there");
        let s = run();
        assert_eq!(s.conflicts, 0, "{s:?}");
    };
    clash("prefer_remote", 0, "Plan (mine)", "Plan (theirs)");
    clash("keep_both", 1, "Sync-up (mine)", "Sync-up (theirs)");

    let s = store.lock().expect("store");
    assert!(open_conflicts(&s).expect("open").is_empty());
    let settled = settled_by_policy(&s, 10).expect("settled");
    let seen: Vec<(KeepSide, &str, &str, &str)> = settled
        .iter()
        .map(|c| {
            let f = &c.conflict.fields[0];
            (
                c.kept,
                f.field.as_str(),
                f.local.as_str(),
                f.remote.as_str(),
            )
        })
        .collect();
    // Newest first: keep both, then prefer remote with my title on record.
    assert_eq!(
        seen,
        vec![
            (
                KeepSide::Both,
                "title",
                "Sync-up (mine)",
                "Sync-up (theirs)"
            ),
            (KeepSide::Remote, "title", "Plan (mine)", "Plan (theirs)"),
        ]
    );
    assert!(settled.iter().all(|c| !c.settled_at.is_empty()));
    assert_eq!(settled[1].conflict.event_id, ids[0]);
    // Named as the event is now when theirs was kept; otherwise as this computer had it.
    assert_eq!(settled[1].conflict.title, "Plan (theirs)");
    assert_eq!(settled[0].conflict.title, "Sync-up (mine)");
    assert_eq!(settled_by_policy(&s, 1).expect("settled").len(), 1);
}
