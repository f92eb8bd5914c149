//! A synced row is its own base (no second copy stored); a user's edit or delete of it
//! first keeps the row as it was, so the engine still sees what both sides agreed on.

use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, ShowAs,
};
use almanac_store::{
    base_row, EntryState, EntrySync, RemoteCalendarRow, SignedIn, Source, Store, StoreError,
    SyncedEvent,
};
use chrono::{DateTime, Utc};

fn ok<T>(r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default()
}

fn input(calendar: &str, title: &str) -> EventInput {
    EventInput {
        calendar_id: calendar.into(),
        title: title.into(),
        all_day: false,
        start: "2026-11-23T09:00".into(),
        end: "2026-11-23T10:00".into(),
        time_zone: "Europe/Berlin".into(),
        recurrence: None,
        location: "Room 1".into(),
        description: String::new(),
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        categories: vec![],
    }
}

/// A store with one synced calendar and, in it, an event as a pull leaves it: synced,
/// with a remote id, and (`base: None`) its row as its base.
fn pulled(base: Option<&str>) -> (tempfile::TempDir, Store, String, SyncedEvent) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = ok(Store::open_at(dir.path()));
    let (account, _) = ok(s.record_sign_in(
        &SignedIn {
            provider: Provider::Google,
            subject: "https://accounts.google.com/1234".into(),
            email: "alex@example.com".into(),
            display_name: "Alex".into(),
            authority: "https://accounts.google.com".into(),
        },
        100,
    ));
    let cals = ok(s.sync_calendar_list(
        &account.id,
        &[RemoteCalendarRow {
            remote_id: "primary".into(),
            name: "Alex".into(),
            color: "#0b8043".into(),
            can_edit: true,
            is_primary: true,
            owner_email: None,
        }],
    ));
    let cal = cals[0].id.clone();
    let ev = ok(s.create_event(input(&cal, "Review"), Source::Sync, now()));
    let mut row = ok(s.sync_step(now().timestamp(), |tx| tx.event(&ev.id))).expect("row");
    row.remote_id = Some("evt123".into());
    row.etag = Some("\"e1\"".into());
    row.provider_extra = Some("{\"colorId\":\"5\"}".into());
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(Some(&ev.id), &row, EntryState::Synced, base, Some("\"e1\""))?;
        tx.drop_push(&ev.id)
    }));
    (dir, s, ev.id, row)
}

fn stored(s: &mut Store, id: &str) -> Option<EntrySync> {
    ok(s.sync_step(now().timestamp(), |tx| tx.entry_sync(id)))
}

fn edit(s: &mut Store, id: &str, location: &str) {
    let mut changed = input("", "Review");
    changed.calendar_id = ok(s.sync_step(now().timestamp(), |tx| tx.event(id)))
        .expect("row")
        .input
        .calendar_id;
    changed.location = location.into();
    ok(s.update_event(
        EventChange {
            id: id.into(),
            scope: EditScope::All,
            original_start: None,
            input: changed,
        },
        Source::UserWindow,
        now(),
    ));
}

#[test]
fn a_pulled_row_stores_no_second_copy_and_an_edit_keeps_the_row_it_started_from() {
    let (_d, mut s, id, pulled_row) = pulled(None);
    let before = stored(&mut s, &id).expect("sync state");
    assert_eq!(before.state, EntryState::Synced);
    assert_eq!(before.base, None, "a synced row is its own base");

    edit(&mut s, &id, "Room 7");
    let after = stored(&mut s, &id).expect("sync state");
    assert_eq!(after.state, EntryState::LocallyModified);
    let base = base_row(after.base.as_deref().expect("the base is kept")).expect("a row");
    assert_eq!(base.input.location, "Room 1", "the row before the edit");
    assert_eq!(base.provider_extra, pulled_row.provider_extra);
    assert_eq!(base.remote_id.as_deref(), Some("evt123"));
    assert_eq!(after.base_etag.as_deref(), Some("\"e1\""));

    // A second edit starts from a modified row: the base stays the synced one.
    edit(&mut s, &id, "Room 9");
    let again = stored(&mut s, &id).expect("sync state");
    assert_eq!(again.base, after.base);
    assert_eq!(ok(s.check()), Vec::<String>::new());
}

#[test]
fn deleting_a_synced_row_leaves_a_pending_delete_that_carries_its_base() {
    let (_d, mut s, id, _) = pulled(None);
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    let pending = ok(s.outbox(None));
    let payload: serde_json::Value =
        serde_json::from_str(pending[0].payload.as_deref().expect("payload")).expect("json");
    let base = base_row(payload["base"].as_str().expect("a base")).expect("a row");
    assert_eq!(base.input.title, "Review");
    assert_eq!(base.remote_id.as_deref(), Some("evt123"));
    let entries = ok(s.sync_entries(&pending[0].calendar_id));
    assert_eq!(entries[0].state, EntryState::LocallyDeleted);
    assert_eq!(
        entries[0].base_snapshot,
        payload["base"].as_str().map(str::to_owned)
    );
}

#[test]
fn a_stored_snapshot_is_left_as_the_engine_wrote_it() {
    let (_d, mut s, id, _) = pulled(Some("{\"remoteId\":\"evt123\"}"));
    edit(&mut s, &id, "Room 7");
    let after = stored(&mut s, &id).expect("sync state");
    assert_eq!(after.base.as_deref(), Some("{\"remoteId\":\"evt123\"}"));
    assert_eq!(base_row("{\"remoteId\":\"evt123\"}"), None);
    assert_eq!(base_row("{\"row\":{\"unreadable\":true}}"), None);
}
