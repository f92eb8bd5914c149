//! Conflict records: every version of an event both sides changed, kept until the user
//! resolves them (I7).

use crate::cached::Cached;
use rusqlite::{params, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::Store;

/// A conflict to record (engine JSON for the versions and fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConflict {
    pub event_id: String,
    pub calendar_id: String,
    /// `edit_edit`, `edit_delete`, `delete_edit`.
    pub kind: String,
    pub base: Option<String>,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub fields: String,
    /// Settled already by the calendar's conflict policy, this way (`keep_local`,
    /// `keep_remote`, `keep_both`): recorded resolved, so the versions stay on record
    /// but nobody is asked. `None`: open until the user answers.
    pub settled_by_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictRecord {
    pub id: String,
    pub event_id: String,
    pub calendar_id: String,
    pub calendar_name: String,
    pub account_id: Option<String>,
    pub kind: String,
    pub base: Option<String>,
    pub local: Option<String>,
    pub remote: Option<String>,
    pub fields: String,
    pub detected_at: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    /// `user`, `policy` (the calendar's conflict policy) or `sync` (moot: a newer
    /// version merged cleanly, or both sides deleted the event); `None` while open.
    pub resolved_by: Option<String>,
}

const COLUMNS: &str = "c.id, c.event_id, c.calendar_id, k.name, k.account_id, c.kind, \
    c.base_version, c.local_version, c.remote_version, c.fields, c.detected_at, c.resolved_at, \
    c.resolution, c.resolved_by";

fn conflict_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConflictRecord> {
    Ok(ConflictRecord {
        id: r.get(0)?,
        event_id: r.get(1)?,
        calendar_id: r.get(2)?,
        calendar_name: r.get(3)?,
        account_id: r.get(4)?,
        kind: r.get(5)?,
        base: r.get(6)?,
        local: r.get(7)?,
        remote: r.get(8)?,
        fields: r.get(9)?,
        detected_at: r.get(10)?,
        resolved_at: r.get(11)?,
        resolution: r.get(12)?,
        resolved_by: r.get(13)?,
    })
}

pub(crate) fn load_conflict(conn: &rusqlite::Connection, id: &str) -> Result<ConflictRecord> {
    conn.row_cached(
        &format!(
            "SELECT {COLUMNS} FROM conflicts c JOIN calendars k ON k.id = c.calendar_id
             WHERE c.id = ?1"
        ),
        params![id],
        conflict_row,
    )
    .optional()?
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "There is no conflict with id \"{id}\"; `almanac conflicts list` shows them."
        ))
    })
}

/// Records `c`, or refreshes the event's open conflict with the new versions (a
/// conflict settled by policy is always a record of its own).
pub(crate) fn record(conn: &rusqlite::Connection, c: &NewConflict, now: i64) -> Result<String> {
    if c.settled_by_policy.is_none() {
        let open: Option<String> = conn
            .row_cached(
                "SELECT id FROM conflicts WHERE event_id = ?1 AND resolved_at IS NULL",
                params![c.event_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = open {
            conn.exec_cached(
                "UPDATE conflicts SET kind = ?2, base_version = ?3, local_version = ?4,
                    remote_version = ?5, fields = ?6, detected_at = ?7 WHERE id = ?1",
                params![id, c.kind, c.base, c.local, c.remote, c.fields, now],
            )?;
            return Ok(id);
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    // Settled by policy: resolved when detected.
    conn.exec_cached(
        "INSERT INTO conflicts (id, event_id, calendar_id, kind, base_version, local_version,
            remote_version, fields, detected_at, resolved_at, resolution, resolved_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
            CASE WHEN ?10 IS NULL THEN NULL ELSE ?9 END, ?10,
            CASE WHEN ?10 IS NULL THEN NULL ELSE 'policy' END)",
        params![
            id,
            c.event_id,
            c.calendar_id,
            c.kind,
            c.base,
            c.local,
            c.remote,
            c.fields,
            now,
            c.settled_by_policy
        ],
    )?;
    Ok(id)
}

impl Store {
    /// Conflicts, newest first: the open ones, or all (with resolved history).
    pub fn conflicts(&self, open_only: bool) -> Result<Vec<ConflictRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM conflicts c JOIN calendars k ON k.id = c.calendar_id
             WHERE NOT ?1 OR c.resolved_at IS NULL ORDER BY c.detected_at DESC, c.rowid DESC"
        ))?;
        let rows = stmt.query_map(params![open_only], conflict_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn conflict(&self, id: &str) -> Result<ConflictRecord> {
        load_conflict(&self.conn, id)
    }
}
