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

/// A Google calendar with "Plan" (Room 1) synced here: its local and remote ids.
struct Planned {
    cloud: Cloud,
    google: Box<dyn CalendarProvider>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    store: Mutex<Store>,
    account: String,
    id: String,
    remote_id: String,
    t0: DateTime<Utc>,
}

impl Planned {
    fn new() -> Self {
        let cloud = Cloud::start();
        let google = cloud.provider(Kind::Google);
        let t0 = Utc::now();
        let (dir, store, account) = signed_in(Provider::Google, EMAIL, t0);
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
                    "location": "Room 1",
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
        Self {
            cloud,
            google,
            rt,
            _dir: dir,
            store,
            account,
            id,
            remote_id,
            t0,
        }
    }

    fn run_at(&self, minutes: i64) {
        let at = self.t0 + TimeDelta::minutes(minutes);
        run(&self.rt, &self.store, &*self.google, &self.account, at);
    }

    fn edit_here(&self, change: impl FnOnce(&mut almanac_model::EventInput)) {
        let mut s = self.store.lock().expect("store");
        let mut input = s.get_event(&self.id).expect("event").input;
        change(&mut input);
        s.update_event(
            EventChange {
                id: self.id.clone(),
                scope: EditScope::All,
                original_start: None,
                input,
            },
            Source::UserWindow,
            self.t0,
        )
        .expect("edit here");
    }

    fn edit_there(&self, patch: serde_json::Value) {
        self.cloud
            .state
            .google_edit_event(EMAIL, "primary", &self.remote_id, &patch)
            .expect("edit there");
    }

    fn shown(&self) -> Vec<almanac_model::ConflictView> {
        open_conflicts(&self.store.lock().expect("store")).expect("open")
    }
}

#[test]
fn an_answer_given_on_versions_since_refreshed_is_refused() {
    let p = Planned::new();
    p.edit_here(|i| i.title = "Plan (mine)".into());
    p.edit_there(json!({"summary": "Plan (theirs)"}));
    p.run_at(2);
    let shown = p.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    // The panel shows these versions; meanwhile the provider's side changes again.
    p.edit_there(json!({"summary": "Plan (theirs, v2)"}));
    p.run_at(4);
    let answer = |detected_at: &str| ConflictAnswer {
        conflict_id: shown[0].id.clone(),
        keep: Some(KeepSide::Remote),
        fields: Vec::new(),
        detected_at: Some(detected_at.to_owned()),
    };
    let refused = answer_conflict(&p.store, &answer(&shown[0].detected_at), Utc::now())
        .expect_err("answered on versions since refreshed");
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    let now_shown = p.shown();
    assert_eq!(now_shown.len(), 1, "nothing was carried out");
    assert_ne!(now_shown[0].detected_at, shown[0].detected_at);
    assert_eq!(now_shown[0].fields[0].remote, "Plan (theirs, v2)");
    // On the versions shown now, it is taken.
    answer_conflict(&p.store, &answer(&now_shown[0].detected_at), Utc::now()).expect("answer");
    assert!(p.shown().is_empty());
    let title = p
        .store
        .lock()
        .expect("store")
        .get_event(&p.id)
        .expect("event")
        .input
        .title;
    assert_eq!(title, "Plan (theirs, v2)");
}

/// The panel shows this computer's side as the event is now: edited while the
/// conflict waits, a field changed here since (the room, changed there too) is shown
/// and can be picked, as Keep mine would send it.
#[test]
fn the_panel_shows_this_computers_side_as_edited_since() {
    let p = Planned::new();
    p.edit_here(|i| i.title = "Plan (mine)".into());
    p.edit_there(json!({"summary": "Plan (theirs)", "location": "Room 2"}));
    p.run_at(2);
    let shown = p.shown();
    let fields = |c: &almanac_model::ConflictView| -> Vec<(String, String)> {
        c.fields
            .iter()
            .map(|f| (f.field.clone(), f.local.clone()))
            .collect()
    };
    assert_eq!(fields(&shown[0]), [("title".into(), "Plan (mine)".into())]);
    // While it waits, the user moves the meeting to another room here.
    p.edit_here(|i| i.location = "Room 3".into());
    let shown = p.shown();
    assert_eq!(
        fields(&shown[0]),
        [
            ("title".into(), "Plan (mine)".into()),
            ("location".into(), "Room 3".into())
        ]
    );
    let pick = |field: &str, side| almanac_model::FieldPick {
        field: field.into(),
        side,
    };
    answer_conflict(
        &p.store,
        &ConflictAnswer {
            conflict_id: shown[0].id.clone(),
            keep: None,
            fields: vec![
                pick("title", almanac_model::FieldSide::Remote),
                pick("location", almanac_model::FieldSide::Local),
            ],
            detected_at: Some(shown[0].detected_at.clone()),
        },
        Utc::now(),
    )
    .expect("the picks shown are taken");
    let input = p
        .store
        .lock()
        .expect("store")
        .get_event(&p.id)
        .expect("event")
        .input;
    assert_eq!(
        (input.title.as_str(), input.location.as_str()),
        ("Plan (theirs)", "Room 3")
    );
}

/// Edited here to agree with theirs on the field in conflict, the conflict still names
/// that field, with this computer's value as it is now, not as recorded.
#[test]
fn a_field_edited_here_to_theirs_shows_its_value_now() {
    let p = Planned::new();
    p.edit_here(|i| i.title = "Plan (mine)".into());
    p.edit_there(json!({"summary": "Plan (theirs)"}));
    p.run_at(2);
    p.edit_here(|i| i.title = "Plan (theirs)".into());
    let shown = p.shown();
    let f = &shown[0].fields[0];
    assert_eq!(
        (f.field.as_str(), f.local.as_str(), f.remote.as_str()),
        ("title", "Plan (theirs)", "Plan (theirs)")
    );
}
