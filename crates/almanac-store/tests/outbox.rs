//! The outbox as a user's edits fill it: a change to a synced calendar and its pending
//! push commit together; later edits fold into the pending one; a delete remembers
//! what the provider needs (its base too, kept from the row of a synced event); local
//! calendars never enter it.

use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, ShowAs,
};
use almanac_store::{
    base_row, EntryState, EntrySync, OutboxOp, RemoteCalendarRow, SentPayload, SignedIn, Source,
    Store, StoreError, SyncCalendar, SyncedEvent,
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
        location: String::new(),
        description: String::new(),
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        categories: vec![],
    }
}

/// A store with one Google account and two synced calendars: one editable, one not.
fn synced() -> (tempfile::TempDir, Store, SyncCalendar, SyncCalendar) {
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
    let listed = ok(s.sync_calendar_list(
        &account.id,
        &[
            RemoteCalendarRow {
                remote_id: "primary".into(),
                name: "Alex".into(),
                color: "#0b8043".into(),
                can_edit: true,
                is_primary: true,
                owner_email: None,
            },
            RemoteCalendarRow {
                remote_id: "holidays".into(),
                name: "Holidays".into(),
                color: "#cccccc".into(),
                can_edit: false,
                is_primary: false,
                owner_email: None,
            },
        ],
    ));
    assert!(listed.changed, "two calendars added");
    let cals = listed.calendars;
    let rw = cals.iter().find(|c| c.can_edit).expect("rw").clone();
    let ro = cals.iter().find(|c| !c.can_edit).expect("ro").clone();
    (dir, s, rw, ro)
}

#[test]
fn a_new_event_and_its_edits_are_one_pending_create() {
    let (_d, mut s, cal, _) = synced();
    let ev = ok(s.create_event(input(&cal.id, "Kickoff"), Source::UserWindow, now()));
    let pending = ok(s.outbox(Some(&cal.id)));
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].op, OutboxOp::Create);
    let key = pending[0].idempotency_key.clone();
    let mut changed = ev.input.clone();
    changed.title = "Kickoff (moved)".into();
    ok(s.update_event(
        EventChange {
            id: ev.id.clone(),
            scope: EditScope::All,
            original_start: None,
            input: changed,
        },
        Source::UserWindow,
        now(),
    ));
    let pending = ok(s.outbox(Some(&cal.id)));
    assert_eq!(
        pending.len(),
        1,
        "an edit of an unsent create is still one create"
    );
    assert_eq!(pending[0].idempotency_key, key, "the create keeps its key");
    let entries = ok(s.sync_entries(&cal.id));
    assert_eq!(entries[0].state, EntryState::LocallyCreated);

    // Deleted before it was ever sent: nothing to tell the provider.
    ok(s.delete_event(
        EventTarget {
            id: ev.id,
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    assert!(ok(s.outbox(Some(&cal.id))).is_empty());
    assert!(ok(s.sync_entries(&cal.id)).is_empty());
}

#[test]
fn a_synced_event_edited_then_deleted_leaves_a_delete_that_knows_its_remote_id() {
    let (_d, mut s, cal, _) = synced();
    // As a pull leaves it: a synced row with a remote id and a base.
    let ev = ok(s.create_event(input(&cal.id, "Review"), Source::Sync, now()));
    let row = ok(s.sync_step(now().timestamp(), |tx| tx.event(&ev.id))).expect("row");
    let mut remote = row.clone();
    remote.remote_id = Some("evt123".into());
    remote.etag = Some("\"e1\"".into());
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(
            Some(&ev.id),
            &remote,
            EntryState::Synced,
            Some("{\"base\":1}"),
            Some("\"e1\""),
        )?;
        tx.drop_push(&ev.id)
    }));
    assert!(ok(s.outbox(None)).is_empty());

    let mut changed = ev.input.clone();
    changed.location = "Room 7".into();
    ok(s.update_event(
        EventChange {
            id: ev.id.clone(),
            scope: EditScope::All,
            original_start: None,
            input: changed,
        },
        Source::UserWindow,
        now(),
    ));
    let pending = ok(s.outbox(None));
    assert_eq!((pending.len(), pending[0].op), (1, OutboxOp::Update));
    assert_eq!(
        ok(s.sync_entries(&cal.id))[0].state,
        EntryState::LocallyModified
    );

    ok(s.delete_event(
        EventTarget {
            id: ev.id.clone(),
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    let pending = ok(s.outbox(None));
    assert_eq!((pending.len(), pending[0].op), (1, OutboxOp::Delete));
    let payload: serde_json::Value =
        serde_json::from_str(pending[0].payload.as_deref().expect("payload")).expect("json");
    assert_eq!(payload["remoteId"], "evt123");
    assert_eq!(payload["etag"], "\"e1\"");
    // The planner still sees the entry, as deleted here.
    let entries = ok(s.sync_entries(&cal.id));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].state, EntryState::LocallyDeleted);
    assert_eq!(entries[0].remote_id.as_deref(), Some("evt123"));
    assert_eq!(ok(s.check()), Vec::<String>::new());
}

#[test]
fn local_calendars_never_enter_the_outbox_and_read_only_ones_refuse_edits() {
    let (_d, mut s, _, ro) = synced();
    ok(s.create_event(input("local", "Dentist"), Source::UserWindow, now()));
    assert!(ok(s.outbox(None)).is_empty());
    let refused = s.create_event(input(&ro.id, "Nope"), Source::UserWindow, now());
    assert!(
        matches!(refused, Err(StoreError::ReadOnly(_))),
        "{refused:?}"
    );
    assert!(ok(s.outbox(None)).is_empty());
}

/// A synced "1:1" in calendar `cal` with remote id `evt9`.
fn synced_one_on_one(s: &mut Store, cal: &str) -> almanac_model::EventView {
    let ev = ok(s.create_event(input(cal, "1:1"), Source::Sync, now()));
    let mut row = ok(s.sync_step(now().timestamp(), |tx| tx.event(&ev.id))).expect("row");
    row.remote_id = Some("evt9".into());
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(Some(&ev.id), &row, EntryState::Synced, None, Some("\"x\""))?;
        tx.drop_push(&ev.id)
    }));
    ev
}

/// A user's edit of the whole event `id`.
fn edit_all(s: &mut Store, id: &str, changed: EventInput) {
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
fn moving_a_synced_event_to_this_computer_deletes_it_there_and_keeps_it_here() {
    let (_d, mut s, cal, _) = synced();
    let ev = synced_one_on_one(&mut s, &cal.id);
    let mut moved = ev.input.clone();
    moved.calendar_id = "local".into();
    edit_all(&mut s, &ev.id, moved);
    let pending = ok(s.outbox(None));
    assert_eq!((pending.len(), pending[0].op), (1, OutboxOp::Delete));
    assert_eq!(pending[0].calendar_id, cal.id);
    assert_eq!(ok(s.get_event(&ev.id)).input.calendar_id, "local");
    assert!(ok(s.sync_entries(&cal.id))
        .iter()
        .all(|e| e.state == EntryState::LocallyDeleted));
}

#[test]
fn moving_a_synced_event_to_another_synced_calendar_deletes_it_there_and_creates_it_here() {
    let (_d, mut s, cal, _) = synced();
    let account = cal.account_id.clone();
    let team = RemoteCalendarRow {
        remote_id: "team".into(),
        name: "Team".into(),
        color: "#0b8043".into(),
        can_edit: true,
        is_primary: false,
        owner_email: None,
    };
    let mut rows: Vec<RemoteCalendarRow> = ok(s.sync_calendars(Some(&account)))
        .into_iter()
        .map(|c| RemoteCalendarRow {
            remote_id: c.remote_id,
            name: c.name,
            color: c.color,
            can_edit: c.can_edit,
            is_primary: c.is_primary,
            owner_email: c.owner_email,
        })
        .collect();
    rows.push(team);
    let listed = ok(s.sync_calendar_list(&account, &rows));
    let team = listed
        .calendars
        .iter()
        .find(|c| c.remote_id == "team")
        .expect("team")
        .clone();
    let ev = synced_one_on_one(&mut s, &cal.id);
    let mut moved = ev.input.clone();
    moved.calendar_id = team.id.clone();
    edit_all(&mut s, &ev.id, moved.clone());
    // Before, the pending delete took the event's id and the create was never queued:
    // deleted there, never made here, and nothing said so.
    let pending = ok(s.outbox(None));
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert_eq!(
        (pending[0].op, pending[0].calendar_id.as_str()),
        (OutboxOp::Delete, cal.id.as_str())
    );
    assert_ne!(pending[0].event_id, ev.id);
    assert_eq!(
        (
            pending[1].op,
            pending[1].calendar_id.as_str(),
            pending[1].event_id.as_str()
        ),
        (OutboxOp::Create, team.id.as_str(), ev.id.as_str())
    );
    assert_eq!(ok(s.pending_pushes(&account)), 2);
    // Each calendar's planner sees its own half.
    let old: Vec<_> = ok(s.sync_entries(&cal.id));
    assert!(old
        .iter()
        .any(|e| e.state == EntryState::LocallyDeleted && e.remote_id.as_deref() == Some("evt9")));
    assert!(old.iter().all(|e| e.local_id != ev.id));
    let new: Vec<_> = ok(s.sync_entries(&team.id));
    assert!(new.iter().any(|e| e.local_id == ev.id
        && e.state == EntryState::LocallyCreated
        && e.remote_id.is_none()));
    // A later edit folds into the create; the delete stays.
    moved.location = "Room 2".into();
    edit_all(&mut s, &ev.id, moved);
    assert_eq!(ok(s.outbox(None)).len(), 2);
}

#[test]
fn a_create_sent_without_an_answer_then_deleted_leaves_a_tombstone_with_its_key() {
    let (_d, mut s, cal, _) = synced();
    let ev = ok(s.create_event(
        input(&cal.id, "Sent, answer lost"),
        Source::UserWindow,
        now(),
    ));
    let create = ok(s.outbox(Some(&cal.id))).remove(0);
    // The push went out; its answer never came.
    ok(s.sync_step(now().timestamp(), |tx| tx.push_attempted(create.id)));
    ok(s.delete_event(
        EventTarget {
            id: ev.id,
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    let tombstones = ok(s.sync_step(now().timestamp(), |tx| tx.tombstones(&cal.id)));
    assert_eq!(tombstones.len(), 1);
    assert_eq!(tombstones[0].1, create.idempotency_key);
    // Not an event of the calendar for the planner until a listing shows it.
    assert!(ok(s.sync_entries(&cal.id)).is_empty());
}

/// A create keeps what each attempt sent, through the user's edits between attempts
/// (the provider holds whichever arrived first); one tried before the outbox kept
/// versions trusts none of them.
#[test]
fn a_create_keeps_what_it_sent_through_edits_between_attempts() {
    let (_d, mut s, cal, _) = synced();
    let ev = ok(s.create_event(input(&cal.id, "Kickoff"), Source::UserWindow, now()));
    let create = ok(s.outbox(Some(&cal.id))).remove(0);
    let attempt = |s: &mut Store, version: &str| {
        ok(s.sync_step(now().timestamp(), |tx| {
            tx.version_sent(create.id, version)?;
            tx.push_attempted(create.id)
        }));
    };
    let kept = |s: &Store| {
        let o = ok(s.outbox(Some(&cal.id))).remove(0);
        (
            o.idempotency_key.clone(),
            SentPayload::of(o.payload.as_deref()),
        )
    };
    attempt(&mut s, "v1");
    attempt(&mut s, "v1");
    let mut changed = ev.input.clone();
    changed.title = "Kickoff (moved)".into();
    edit_all(&mut s, &ev.id, changed);
    attempt(&mut s, "v2");
    let (key, payload) = kept(&s);
    assert_eq!(key, create.idempotency_key);
    assert_eq!(payload.sent, ["v1", "v2"]);
    assert!(!payload.too_many);
    // Queued again as a create (the engine moving an unsent occurrence, say): the
    // same key, so the same versions may be at the provider.
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.queue_push(&ev.id, &cal.id, OutboxOp::Create, None)
    }));
    assert_eq!(kept(&s), (key, payload));

    // Tried once before versions were kept: the one it sent then is unknown.
    let ev = ok(s.create_event(input(&cal.id, "Renewal"), Source::UserWindow, now()));
    let older = ok(s.outbox(Some(&cal.id)))
        .into_iter()
        .find(|o| o.event_id == ev.id)
        .expect("its create");
    ok(s.sync_step(now().timestamp(), |tx| tx.push_attempted(older.id)));
    ok(s.sync_step(now().timestamp(), |tx| tx.version_sent(older.id, "v1")));
    let o = ok(s.outbox(Some(&cal.id)))
        .into_iter()
        .find(|o| o.id == older.id)
        .expect("its create");
    let payload = SentPayload::of(o.payload.as_deref());
    assert!(payload.too_many && payload.sent.is_empty(), "{payload:?}");
}

// A synced row is its own base (no second copy stored); a user's edit or delete of it
// first keeps the row as it was, so the engine still sees what both sides agreed on.

/// A store with a synced calendar and, in it, an event as a pull leaves it: synced,
/// with a remote id, and (`base: None`) its row as its own base.
fn pulled(base: Option<&str>) -> (tempfile::TempDir, Store, String, SyncedEvent) {
    let (d, mut s, cal, _) = synced();
    let mut review = input(&cal.id, "Review");
    review.location = "Room 1".into();
    let ev = ok(s.create_event(review, Source::Sync, now()));
    let mut row = ok(s.sync_step(now().timestamp(), |tx| tx.event(&ev.id))).expect("row");
    row.remote_id = Some("evt123".into());
    row.etag = Some("\"e1\"".into());
    row.provider_extra = Some("{\"colorId\":\"5\"}".into());
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(Some(&ev.id), &row, EntryState::Synced, base, Some("\"e1\""))?;
        tx.drop_push(&ev.id)
    }));
    (d, s, ev.id, row)
}

fn stored(s: &mut Store, id: &str) -> Option<EntrySync> {
    ok(s.sync_step(now().timestamp(), |tx| tx.entry_sync(id)))
}

fn edit(s: &mut Store, id: &str, location: &str) {
    let mut changed = ok(s.get_event(id)).input;
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

#[test]
fn applying_a_calendar_list_says_whether_it_changed_anything() {
    let (_d, mut s, rw, ro) = synced();
    let account = rw.account_id.clone();
    let row = |c: &SyncCalendar, name: &str| RemoteCalendarRow {
        remote_id: c.remote_id.clone(),
        name: name.into(),
        color: c.color.clone(),
        can_edit: c.can_edit,
        is_primary: c.is_primary,
        owner_email: c.owner_email.clone(),
    };
    let same = [row(&rw, &rw.name), row(&ro, &ro.name)];
    let again = ok(s.sync_calendar_list(&account, &same));
    assert!(!again.changed, "the same list again changes nothing");
    assert_eq!(again.calendars.len(), 2);
    let renamed =
        ok(s.sync_calendar_list(&account, &[row(&rw, "Alex (work)"), row(&ro, &ro.name)]));
    assert!(renamed.changed, "a calendar renamed there");
    let fewer = ok(s.sync_calendar_list(&account, &[row(&rw, "Alex (work)")]));
    assert!(fewer.changed, "a calendar no longer listed is removed");
    assert_eq!(fewer.calendars.len(), 1);
    assert!(!ok(s.sync_calendar_list(&account, &[row(&rw, "Alex (work)")])).changed);
}

/// A synced series with one occurrence changed here ("this occurrence"): the series'
/// id, the occurrence's id, and its key.
fn series_with_changed_occurrence(s: &mut Store, cal: &str) -> (String, String, String) {
    let mut weekly = input(cal, "Standup");
    weekly.recurrence = Some(almanac_model::RecurrenceInput {
        rrule: "FREQ=WEEKLY;COUNT=4".into(),
        exdates: vec![],
        rdates: vec![],
    });
    let series = ok(s.create_event(weekly, Source::Sync, now()));
    let key = "2026-11-30T09:00".to_owned();
    let mut one = series.input.clone();
    one.title = "Standup (moved)".into();
    one.recurrence = None;
    one.start = "2026-11-30T10:00".into();
    one.end = "2026-11-30T11:00".into();
    let occurrence = ok(s.update_event(
        EventChange {
            id: series.id.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(key.clone()),
            input: one,
        },
        Source::UserWindow,
        now(),
    ));
    (series.id, occurrence.id, key)
}

#[test]
fn removing_an_occurrence_changed_before_deletes_its_instance_with_if_match() {
    // Removed through its series ("delete this occurrence"), an occurrence that has an
    // instance of its own at the provider goes as any deleted event does: a pending
    // delete with the version last synced, so a change made there meanwhile is met
    // (it used to vanish with the series' EXDATE, unseen).
    let (_d, mut s, cal, _) = synced();
    let (series, occurrence, key) = series_with_changed_occurrence(&mut s, &cal.id);
    ok(s.sync_step(now().timestamp(), |tx| {
        let mut row = tx.event(&occurrence)?.expect("the occurrence");
        row.remote_id = Some("evt_20261130".into());
        row.etag = Some("\"e7\"".into());
        tx.write_event(
            Some(&occurrence),
            &row,
            EntryState::Synced,
            None,
            Some("\"e7\""),
        )?;
        tx.drop_push(&occurrence)
    }));
    ok(s.delete_event(
        EventTarget {
            id: series.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(key),
        },
        Source::UserWindow,
        now(),
    ));
    let pending = ok(s.outbox(Some(&cal.id)));
    let delete = pending
        .iter()
        .find(|o| o.op == OutboxOp::Delete)
        .expect("a pending delete of the occurrence");
    let payload: serde_json::Value =
        serde_json::from_str(delete.payload.as_deref().expect("payload")).expect("json");
    assert_eq!(payload["remoteId"], "evt_20261130");
    assert_eq!(payload["etag"], "\"e7\"");
    // The series' own change (its EXDATE) goes out with it.
    assert!(pending.iter().any(|o| o.event_id == series));
    assert_eq!(ok(s.check()), Vec::<String>::new());
}

#[test]
fn a_page_that_removes_a_deleted_occurrence_reads_its_series_too() {
    // The pending deletion's base is the row as it was deleted, which is read with its
    // series' row: a page naming only the occurrence (a Graph `@removed`) must bring
    // that row, or the deletion reads as no occurrence of any series.
    let (_d, mut s, cal, _) = synced();
    let (series, occurrence, key) = series_with_changed_occurrence(&mut s, &cal.id);
    ok(s.sync_step(now().timestamp(), |tx| {
        for (id, remote) in [(&series, "evt"), (&occurrence, "evt_20261130")] {
            let mut row = tx.event(id)?.expect("the row");
            row.remote_id = Some(remote.into());
            row.etag = Some("\"e7\"".into());
            tx.write_event(Some(id), &row, EntryState::Synced, None, Some("\"e7\""))?;
            tx.drop_push(id)?;
        }
        Ok::<_, StoreError>(())
    }));
    ok(s.delete_event(
        EventTarget {
            id: series.clone(),
            scope: EditScope::Occurrence,
            original_start: Some(key),
        },
        Source::UserWindow,
        now(),
    ));
    let page = ok(s.sync_step(now().timestamp(), |tx| {
        tx.entries_for(&cal.id, &["evt_20261130"])
    }));
    let deleted = page
        .iter()
        .find(|e| e.local_id == occurrence)
        .expect("the pending deletion");
    assert_eq!(deleted.state, EntryState::LocallyDeleted);
    let base = base_row(deleted.base_snapshot.as_deref().expect("a base")).expect("a row");
    assert_eq!(base.series_id.as_deref(), Some(series.as_str()));
    let master = page
        .iter()
        .find(|e| e.local_id == series)
        .expect("the series' row, read with the page");
    assert_eq!(master.remote_id.as_deref(), Some("evt"));
    assert_eq!(page.len(), 2, "nothing else of the calendar");
}

#[test]
fn an_occurrence_change_sent_without_an_answer_then_removed_leaves_a_tombstone_of_it() {
    // Sent as an update of the series' instance, the change has no create key a
    // listing could match: its tombstone names the occurrence instead, for the
    // series' update to recognise, and is left out of the create-key tombstones.
    let (_d, mut s, cal, _) = synced();
    let (series, occurrence, key) = series_with_changed_occurrence(&mut s, &cal.id);
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.write_event(
            Some(&series),
            &tx.event(&series)?
                .map(|mut r| {
                    r.remote_id = Some("evt".into());
                    r
                })
                .expect("the series"),
            EntryState::Synced,
            None,
            None,
        )?;
        tx.drop_push(&series)
    }));
    let create = ok(s.outbox(Some(&cal.id)))
        .into_iter()
        .find(|o| o.event_id == occurrence)
        .expect("the occurrence's pending create");
    // Sent once (the version recorded first), then changed here again.
    let version = r#"{"title":"Standup (moved)"}"#;
    ok(s.sync_step(now().timestamp(), |tx| {
        assert!(tx.version_sent(create.id, version)?);
        tx.push_attempted(create.id)
    }));
    let mut input = ok(s.get_event(&occurrence)).input;
    input.title = "Standup (moved again)".into();
    ok(s.update_event(
        EventChange {
            id: occurrence.clone(),
            scope: EditScope::All,
            original_start: None,
            input,
        },
        Source::UserWindow,
        now(),
    ));
    ok(s.delete_event(
        EventTarget {
            id: occurrence,
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    let (tombstones, of_occurrences) = ok(s.sync_step(now().timestamp(), |tx| {
        Ok::<_, StoreError>((
            tx.tombstones(&cal.id)?,
            tx.occurrence_tombstones(&cal.id, &series)?,
        ))
    }));
    assert!(tombstones.is_empty(), "{tombstones:?}");
    assert_eq!(of_occurrences.len(), 1);
    assert_eq!(of_occurrences[0].0.original_start, format!("{key}:00"));
    // With the occurrence as it was deleted and each version sent: an instance like
    // one of them is that change of ours.
    let last = of_occurrences[0]
        .0
        .last
        .as_deref()
        .expect("the row as deleted");
    let row = base_row(last).expect("a row");
    assert_eq!(row.input.title, "Standup (moved again)");
    assert_eq!(of_occurrences[0].1, vec![version.to_owned()]);
    // The series' update goes out; what it removed goes with it.
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.drop_occurrence_tombstones(&series)
    }));
    assert!(ok(s.outbox(Some(&cal.id)))
        .iter()
        .all(|o| o.op != OutboxOp::Delete));
}

#[test]
fn a_series_knows_which_starts_are_its_occurrences() {
    // What keep-mine asks before it puts a removal back into a series: an EXDATE for
    // a start the rule no longer makes would never be echoed by the provider.
    let (_d, mut s, cal, _) = synced();
    let (series, _, _) = series_with_changed_occurrence(&mut s, &cal.id);
    let has = |s: &mut Store, key: &str| {
        ok(s.sync_step(now().timestamp(), |tx| tx.has_occurrence(&series, key)))
    };
    assert!(has(&mut s, "2026-11-30T09:00:00"));
    assert!(has(&mut s, "2026-12-14T09:00:00"));
    assert!(
        !has(&mut s, "2026-11-30T10:00:00"),
        "not on the rule's time"
    );
    assert!(!has(&mut s, "2026-12-21T09:00:00"), "after COUNT=4");
    assert!(!has(&mut s, "not a time"));
}

/// An update keeps what each attempt sent, with the If-Match it went with; one sent
/// with another starts the list again (those before can no longer land); and a
/// deletion of the event keeps them for the pending delete.
#[test]
fn an_update_keeps_what_it_sent_under_its_etag_and_its_delete_too() {
    let (_d, mut s, id, _) = pulled(None);
    edit(&mut s, &id, "Room 7");
    let update = ok(s.outbox(None))
        .into_iter()
        .find(|o| o.event_id == id)
        .expect("its update");
    assert_eq!(update.op, OutboxOp::Update);
    let sent = |s: &mut Store, version: &str| {
        ok(s.sync_step(now().timestamp(), |tx| tx.version_sent(update.id, version)))
    };
    let kept = |s: &Store| {
        let o = ok(s.outbox(None))
            .into_iter()
            .find(|o| o.id == update.id)
            .expect("the update");
        SentPayload::of(o.payload.as_deref())
    };
    assert!(sent(&mut s, r#"{"etag":"e1","location":"Room 7"}"#));
    assert!(sent(&mut s, r#"{"etag":"e1","location":"Room 8"}"#));
    assert_eq!(kept(&s).sent.len(), 2);
    assert_eq!(kept(&s).etag.as_deref(), Some("e1"));
    // Sent again against a newer base: the older ones go.
    assert!(sent(&mut s, r#"{"etag":"e2","location":"Room 8"}"#));
    assert_eq!(kept(&s).sent, [r#"{"etag":"e2","location":"Room 8"}"#]);
    // Past the bound, which version landed is unknown until the base moves on.
    for i in 0..SentPayload::MAX_SENT {
        sent(&mut s, &format!(r#"{{"etag":"e2","location":"Room {i}"}}"#));
    }
    assert!(kept(&s).too_many);
    sent(&mut s, r#"{"etag":"e3","location":"Room 9"}"#);
    assert!(!kept(&s).too_many);
    assert_eq!(kept(&s).sent.len(), 1);
    // Deleted here: the pending delete carries them.
    ok(s.delete_event(
        EventTarget {
            id: id.clone(),
            scope: EditScope::All,
            original_start: None,
        },
        Source::UserWindow,
        now(),
    ));
    let delete = ok(s.outbox(None))
        .into_iter()
        .find(|o| o.event_id == id)
        .expect("its delete");
    assert_eq!(delete.op, OutboxOp::Delete);
    let p: almanac_store::PendingDelete =
        serde_json::from_str(delete.payload.as_deref().expect("a payload")).expect("json");
    assert_eq!(p.sent, [r#"{"etag":"e3","location":"Room 9"}"#]);
    // Gone, the update records nothing and must not be sent.
    assert!(!sent(&mut s, r#"{"etag":"e3","location":"Room 1"}"#));
}

/// A create that failed before it sent anything (an occurrence whose instance could
/// not be read) keeps the versions it sends later: nothing marks it as tried before
/// versions were kept.
#[test]
fn a_create_that_failed_before_sending_keeps_what_it_sends_later() {
    let (_d, mut s, cal, _) = synced();
    let ev = ok(s.create_event(input(&cal.id, "Kickoff"), Source::UserWindow, now()));
    let create = ok(s.outbox(Some(&cal.id)))
        .into_iter()
        .find(|o| o.event_id == ev.id)
        .expect("its create");
    ok(s.sync_step(now().timestamp(), |tx| {
        tx.push_failed(create.id, "provider_unavailable", "try later", None)
    }));
    ok(s.sync_step(now().timestamp(), |tx| tx.version_sent(create.id, "v1")));
    let o = ok(s.outbox(Some(&cal.id)))
        .into_iter()
        .find(|o| o.id == create.id)
        .expect("its create");
    let payload = SentPayload::of(o.payload.as_deref());
    assert_eq!(payload.sent, ["v1"]);
    assert!(!payload.too_many);
}
