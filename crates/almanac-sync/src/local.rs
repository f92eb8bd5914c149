//! The planner's [`LocalIndex`] from the store's entries of one calendar.

use std::collections::HashMap;

use almanac_model::EventKind;
use almanac_provider::RemoteEvent;
use almanac_store::{EntryState, EntrySync, OutboxOp, PendingDelete, SentPayload, SyncEntry};

use crate::convert::{from_row, MasterInfo};
use crate::error::SyncError;
use crate::merge::ConflictKind;
use crate::plan::{LocalEntry, LocalIndex, OpenConflict, SyncState};

/// One calendar's local state, ready for planning.
#[derive(Debug)]
pub(crate) struct Local {
    pub index: LocalIndex,
    /// Each entry's stored state and base, to keep them when a conflict is recorded.
    pub stored: HashMap<String, EntrySync>,
}

pub(crate) fn state_of(s: EntryState) -> SyncState {
    match s {
        EntryState::Synced => SyncState::Synced,
        EntryState::LocallyCreated => SyncState::LocallyCreated,
        EntryState::LocallyModified => SyncState::LocallyModified,
        EntryState::LocallyDeleted => SyncState::LocallyDeleted,
    }
}

pub(crate) fn conflict_kind(s: &str) -> ConflictKind {
    match s {
        "edit_delete" => ConflictKind::EditDelete,
        "delete_edit" => ConflictKind::DeleteEdit,
        _ => ConflictKind::EditEdit,
    }
}

pub(crate) fn conflict_kind_str(k: ConflictKind) -> &'static str {
    match k {
        ConflictKind::EditEdit => "edit_edit",
        ConflictKind::EditDelete => "edit_delete",
        ConflictKind::DeleteEdit => "delete_edit",
    }
}

pub(crate) fn snapshot(ev: &RemoteEvent) -> String {
    serde_json::to_string(ev).unwrap_or_default()
}

pub(crate) fn parse_snapshot(s: Option<&str>) -> Option<RemoteEvent> {
    s.and_then(|s| serde_json::from_str(s).ok())
}

/// An entry's base as the engine compares with: the snapshot the engine stored, the
/// row a user's edit started from (kept by the store), or — a synced entry with none
/// stored — the row itself, `current`. `master` finds a series by its local id (an
/// exception's row needs it). Unreadable JSON is no base, as a missing one.
pub(crate) fn base_of<'m>(
    stored: Option<&str>,
    state: EntryState,
    current: Option<&RemoteEvent>,
    master: impl Fn(&str) -> Option<&'m MasterInfo>,
) -> Option<RemoteEvent> {
    match stored {
        None if state == EntryState::Synced => current.cloned(),
        None => None,
        Some(s) => match almanac_store::base_row(s) {
            Some(row) => {
                let series = row.series_id.as_deref().and_then(master);
                from_row(&row, series).ok()
            }
            None => parse_snapshot(Some(s)),
        },
    }
}

/// Builds the index. `linked` maps an unacknowledged create's idempotency key to the
/// remote id a listing showed it under (read back through
/// [`almanac_provider::CalendarProvider::creation_key`]), so the planner links it.
pub(crate) fn load(
    entries: Vec<SyncEntry>,
    linked: &HashMap<String, String>,
) -> Result<Local, SyncError> {
    let mut by_local = HashMap::new();
    for e in &entries {
        if let Some(row) = e.row.as_ref().filter(|r| r.kind == EventKind::Master) {
            // A series not at the provider yet may already have an occurrence changed
            // here; one whose create this page shows (its answer lost) has its id.
            let mut m = MasterInfo::of_or_unsent(&e.local_id, row);
            if m.remote_id.is_empty() {
                let key = e.outbox.as_ref().filter(|o| o.op == OutboxOp::Create);
                if let Some(id) = key.and_then(|o| linked.get(&o.idempotency_key)) {
                    m.remote_id.clone_from(id);
                }
            }
            by_local.insert(e.local_id.clone(), m);
        }
    }
    let mut stored = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let master = e
            .row
            .as_ref()
            .and_then(|r| r.series_id.as_ref())
            .and_then(|s| by_local.get(s));
        let current = match &e.row {
            Some(row) => {
                let mut ev = from_row(row, master).map_err(|why| {
                    SyncError::Corrupt(format!("event {} cannot be read: {why}", e.local_id))
                })?;
                if let Some(o) = e.outbox.as_ref().filter(|o| o.op == OutboxOp::Create) {
                    if e.remote_id.is_none() {
                        if let Some(remote_id) = linked.get(&o.idempotency_key) {
                            ev.remote_id = remote_id.clone();
                        }
                    }
                }
                Some(ev)
            }
            None => None,
        };
        let base = base_of(
            e.base_snapshot.as_deref(),
            e.state,
            current.as_ref(),
            |id| by_local.get(id),
        );
        let sent = match e.outbox.as_ref() {
            Some(o) if o.op == OutboxOp::Create && e.remote_id.is_none() => {
                SentPayload::of(o.payload.as_deref()).sent
            }
            Some(o) if o.op == OutboxOp::Update => SentPayload::of(o.payload.as_deref()).sent,
            Some(o) if o.op == OutboxOp::Delete => o
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str::<PendingDelete>(p).ok())
                .map(|p| p.sent)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        // One unreadable, and the provider may hold that one: none is trusted.
        let mut sent = sent
            .iter()
            .map(|v| parse_snapshot(Some(v)))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        // An update's version went with the If-Match it names: sent against an older
        // base, it can no longer land, and if it did, the base has it since.
        if e.outbox.as_ref().is_some_and(|o| o.op != OutboxOp::Create) {
            sent.retain(|v| v.etag.is_some() && v.etag == e.base_etag);
        }
        stored.insert(
            e.local_id.clone(),
            EntrySync {
                state: e.state,
                base: e.base_snapshot.clone(),
                base_etag: e.base_etag.clone(),
            },
        );
        out.push(LocalEntry {
            local_id: e.local_id,
            remote_id: e.remote_id,
            state: state_of(e.state),
            current,
            base,
            base_etag: e.base_etag,
            pending_push: e.outbox.is_some(),
            open_conflict: e.open_conflict.map(|c| OpenConflict {
                kind: conflict_kind(&c.kind),
                remote_etag: parse_snapshot(c.remote_version.as_deref()).and_then(|r| r.etag),
            }),
            sent,
        });
    }
    Ok(Local {
        index: LocalIndex::new(out),
        stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_model::{EventInput, Importance, RecurrenceInput, Sensitivity, ShowAs};
    use almanac_store::SyncedEvent;

    fn row(kind: EventKind, series: Option<&str>, start: &str) -> SyncedEvent {
        SyncedEvent {
            remote_id: None,
            ical_uid: None,
            etag: None,
            kind,
            series_id: series.map(String::from),
            original_start: series.map(|_| start.to_owned()),
            input: EventInput {
                calendar_id: "cal".into(),
                title: "Standup".into(),
                all_day: false,
                start: start.into(),
                end: "2026-06-01T09:30".into(),
                time_zone: "Europe/Berlin".into(),
                recurrence: (kind == EventKind::Master).then(|| RecurrenceInput {
                    rrule: "FREQ=DAILY;COUNT=3".into(),
                    exdates: vec![],
                    rdates: vec![],
                }),
                location: String::new(),
                description: String::new(),
                show_as: ShowAs::Busy,
                importance: Importance::Normal,
                categories: vec![],
            },
            body_html: None,
            sensitivity: Sensitivity::Normal,
            organizer: None,
            attendees: vec![],
            online_meeting: None,
            reminder_minutes: None,
            provider_extra: None,
            cancelled: false,
        }
    }

    fn created(local_id: &str, row: SyncedEvent) -> SyncEntry {
        SyncEntry {
            local_id: local_id.into(),
            remote_id: None,
            state: EntryState::LocallyCreated,
            row: Some(row),
            base_snapshot: None,
            base_etag: None,
            outbox: None,
            open_conflict: None,
        }
    }

    #[test]
    fn an_occurrence_changed_before_its_series_reached_the_provider_loads() {
        // A series created here, one occurrence changed, neither pushed yet: the pull
        // must still read them (it used to stop the calendar: "series is not known").
        let entries = vec![
            created("M", row(EventKind::Master, None, "2026-06-01T09:00")),
            created(
                "X",
                row(EventKind::Exception, Some("M"), "2026-06-02T09:00"),
            ),
        ];
        let series_id = |entries: Vec<SyncEntry>, linked: &HashMap<String, String>| {
            let local = load(entries, linked).expect("loads");
            let x = local.index.by_local_id("X").and_then(|e| e.current.clone());
            x.and_then(|x| x.series).expect("an instance").master_id
        };
        assert_eq!(
            series_id(entries.clone(), &HashMap::new()),
            "",
            "no series id until the series has one"
        );
        // The page shows the series' create (its answer was lost): the instance reads
        // with that id, so the provider's version of the occurrence is recognised.
        let mut entries = entries;
        entries[0].outbox = Some(almanac_store::OutboxRow {
            id: 1,
            event_id: "M".into(),
            calendar_id: "cal".into(),
            op: OutboxOp::Create,
            idempotency_key: "key-M".into(),
            payload: None,
            attempts: 1,
            next_attempt_at: None,
            last_error_code: None,
            last_error_message: None,
        });
        let linked = HashMap::from([("key-M".to_owned(), "m-at-provider".to_owned())]);
        assert_eq!(series_id(entries, &linked), "m-at-provider");
    }
}
