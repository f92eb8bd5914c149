//! Two accounts in one store (issue 5, safety rails): one account's events are never
//! pushed to another. Two Google users on the fake cloud, each signed in as an account
//! of the same store; an edit in one account's calendar goes to that account's
//! provider only, whichever account syncs first, and the other account's run leaves
//! that edit queued.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;

use std::sync::Mutex;

use almanac_fakecloud::{Provider as FakeProvider, UserSpec};
use almanac_model::{EventInput, Importance, Provider, ShowAs};
use almanac_store::{SignedIn, Source, Store};
use almanac_sync::{sync_account, SyncOptions};
use chrono::{TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, EMAIL};

const OTHER: &str = "partner@example.com";

fn sign_in(store: &Mutex<Store>, email: &str) -> String {
    let (account, _) = store
        .lock()
        .expect("store")
        .record_sign_in(
            &SignedIn {
                provider: Provider::Google,
                subject: format!("https://accounts.google.com/{email}"),
                email: email.into(),
                display_name: email.into(),
                authority: "https://accounts.google.com".into(),
            },
            Utc::now().timestamp(),
        )
        .expect("sign in");
    account.id
}

fn titles(cloud: &Cloud, email: &str) -> Vec<String> {
    let mut t: Vec<String> = cloud
        .state
        .google_events(email, "primary")
        .expect("events")
        .into_iter()
        .filter(|e| e["status"] != "cancelled")
        .map(|e| e["summary"].as_str().unwrap_or_default().to_owned())
        .collect();
    t.sort();
    t
}

fn inserts(cloud: &Cloud, email: &str) -> u64 {
    cloud
        .state
        .google_calendar_stats()
        .requests_by_user
        .get(email)
        .and_then(|r| r.get("events.insert"))
        .copied()
        .unwrap_or(0)
}

#[test]
fn an_accounts_edits_go_to_its_own_provider_only() {
    let cloud = Cloud::start();
    cloud
        .state
        .add_user(UserSpec {
            provider: FakeProvider::Google,
            email: OTHER.into(),
            name: Some("Pat Partner".into()),
            current: false,
        })
        .expect("second user");
    for (email, title) in [(EMAIL, "Mine at Google"), (OTHER, "Theirs at Google")] {
        let day = Utc::now().date_naive() + TimeDelta::days(2);
        cloud
            .state
            .google_seed_event(
                email,
                "primary",
                &json!({
                    "summary": title,
                    "start": {"dateTime": format!("{day}T09:00:00Z")},
                    "end": {"dateTime": format!("{day}T10:00:00Z")},
                }),
            )
            .expect("seed");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Mutex::new(Store::open_at(dir.path()).expect("store"));
    let mine = sign_in(&store, EMAIL);
    let theirs = sign_in(&store, OTHER);
    let (my_client, their_client) = (cloud.client(), cloud.client_for(OTHER));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let run = |account: &str, client: &almanac_google::GoogleCalendar| {
        let s = rt
            .block_on(sync_account(
                &store,
                client,
                account,
                &SyncOptions::default(),
                &|| Utc::now(),
            ))
            .expect("run");
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    };
    run(&mine, &my_client);
    run(&theirs, &their_client);

    // A new event in each account's calendar, made here.
    let calendars = store
        .lock()
        .expect("store")
        .sync_calendars(None)
        .expect("calendars");
    let cal_of = |account: &str| {
        calendars
            .iter()
            .find(|c| c.account_id == account && c.is_primary)
            .map(|c| c.id.clone())
            .expect("primary calendar")
    };
    for (account, title) in [(&mine, "Mine from here"), (&theirs, "Theirs from here")] {
        let day = Utc::now().date_naive() + TimeDelta::days(3);
        store
            .lock()
            .expect("store")
            .create_event(
                EventInput {
                    calendar_id: cal_of(account),
                    title: title.into(),
                    all_day: false,
                    start: format!("{day}T11:00:00"),
                    end: format!("{day}T12:00:00"),
                    time_zone: "UTC".into(),
                    recurrence: None,
                    location: String::new(),
                    description: String::new(),
                    show_as: ShowAs::Busy,
                    importance: Importance::Normal,
                    categories: Vec::new(),
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("create here");
    }

    // The partner's account syncs first: only its own event goes, to its own provider.
    let s = run(&theirs, &their_client);
    assert_eq!(s.pushed, 1, "{s:?}");
    assert_eq!(
        titles(&cloud, OTHER),
        ["Theirs at Google", "Theirs from here"]
    );
    assert_eq!(titles(&cloud, EMAIL), ["Mine at Google"]);
    assert_eq!(inserts(&cloud, EMAIL), 0);
    // Mine is still queued here, for my account.
    let queued: Vec<String> = store
        .lock()
        .expect("store")
        .sync_entries(&cal_of(&mine))
        .expect("entries")
        .into_iter()
        .filter(|e| e.outbox.is_some())
        .filter_map(|e| e.row.map(|r| r.input.title))
        .collect();
    assert_eq!(queued, ["Mine from here"]);

    let s = run(&mine, &my_client);
    assert_eq!(s.pushed, 1, "{s:?}");
    assert_eq!(titles(&cloud, EMAIL), ["Mine at Google", "Mine from here"]);
    assert_eq!(
        titles(&cloud, OTHER),
        ["Theirs at Google", "Theirs from here"]
    );
    assert_eq!((inserts(&cloud, EMAIL), inserts(&cloud, OTHER)), (1, 1));

    // Each account's calendar holds its own provider's events, nothing of the other's.
    for (account, want) in [
        (&mine, ["Mine at Google", "Mine from here"]),
        (&theirs, ["Theirs at Google", "Theirs from here"]),
    ] {
        let mut got: Vec<String> = store
            .lock()
            .expect("store")
            .sync_entries(&cal_of(account))
            .expect("entries")
            .into_iter()
            .filter_map(|e| e.row.map(|r| r.input.title))
            .collect();
        got.sort();
        assert_eq!(got, want);
    }
}
