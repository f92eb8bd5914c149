//! Where an entry's base snapshot lives (DESIGN §3 `event_sync`: the version both sides
//! last agreed on).
//!
//! A `synced` entry has no local change, so its base *is* its row: `base_snapshot`
//! stays NULL instead of holding a second copy of every column (about 2 KB per event,
//! which made a first sync write two database pages per event instead of one). Every
//! other entry keeps its base as JSON — the engine's own snapshot, or, when a user's
//! edit starts from a synced row, that row as it was (`{"row": …}`), which
//! [`keep_base`] writes before the edit touches the row.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::cached::Cached;
use crate::error::{Result, StoreError};
use crate::sync::rows::{read, SyncedEvent};

/// How a row kept as a base is written into `base_snapshot`.
#[derive(Serialize, Deserialize)]
struct RowBase {
    row: SyncedEvent,
}

const ROW_PREFIX: &str = "{\"row\":";

/// Before a user's edit or delete of row `event_id`: if the row is its own base (a
/// synced entry), the base is written out as the row is now, so the edit cannot
/// change it. Does nothing for local calendars and for entries with a stored base.
pub(crate) fn keep_base(tx: &Transaction<'_>, event_id: &str) -> Result<()> {
    let implied: Option<bool> = tx
        .row_cached(
            "SELECT state = 'synced' AND base_snapshot IS NULL FROM event_sync
             WHERE event_id = ?1",
            params![event_id],
            |r| r.get(0),
        )
        .optional()?;
    if implied != Some(true) {
        return Ok(());
    }
    let Some(row) = read(tx, event_id)? else {
        return Ok(());
    };
    let json = serde_json::to_string(&RowBase { row }).map_err(|e| {
        StoreError::Corrupt(format!("event {event_id} cannot be kept as a base: {e}"))
    })?;
    tx.exec_cached(
        "UPDATE event_sync SET base_snapshot = ?2 WHERE event_id = ?1",
        params![event_id, json],
    )?;
    Ok(())
}

/// Row `event_id` as [`keep_base`] writes it (readable with [`base_row`]).
pub(crate) fn row_json(tx: &Transaction<'_>, event_id: &str) -> Result<Option<String>> {
    Ok(read(tx, event_id)?.and_then(row_base_json))
}

/// `row` as [`keep_base`] writes a row (readable with [`base_row`]).
pub(crate) fn row_base_json(row: SyncedEvent) -> Option<String> {
    serde_json::to_string(&RowBase { row }).ok()
}

/// A stored base that is a row kept by [`keep_base`] (`None` for the engine's own
/// snapshots and for unreadable JSON).
pub fn base_row(base: &str) -> Option<SyncedEvent> {
    if !base.starts_with(ROW_PREFIX) {
        return None;
    }
    serde_json::from_str::<RowBase>(base).ok().map(|b| b.row)
}
