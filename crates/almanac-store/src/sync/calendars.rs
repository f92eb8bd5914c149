//! An account's calendars as the provider lists them, and each one's sync position.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::Store;

/// A calendar in a provider's list, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCalendarRow {
    pub remote_id: String,
    pub name: String,
    pub color: String,
    pub can_edit: bool,
    pub is_primary: bool,
    pub owner_email: Option<String>,
}

/// Why a calendar's sync stopped and waits for the user (the mass-deletion guard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarHold {
    pub would_delete: usize,
    pub total: usize,
    /// The user confirmed: the next run applies the deletions without the guard.
    #[serde(default)]
    pub confirmed: bool,
}

/// A synced calendar with what the engine needs to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCalendar {
    pub id: String,
    pub account_id: String,
    pub remote_id: String,
    pub name: String,
    pub color: String,
    pub can_edit: bool,
    pub is_primary: bool,
    pub owner_email: Option<String>,
    /// `ask`, `prefer_local`, `prefer_remote`, `keep_both`.
    pub conflict_policy: String,
    pub cursor: Option<String>,
    /// The window the cursor's lineage covers (Unix seconds), once a listing started.
    pub window: Option<(i64, i64)>,
    pub hold: Option<CalendarHold>,
}

// The schema's `calendars.last_synced_at` (0004) stays unwritten: the account's last
// success says when its calendars last synced, and a per-calendar stamp would make a
// run that finds nothing new write to every calendar (DESIGN §7: no-change run, 0 writes).
const COLUMNS: &str = "id, account_id, remote_id, name, color, can_edit, is_primary, \
    owner_email, conflict_policy, sync_cursor, sync_window_start, sync_window_end, sync_hold";

fn calendar_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncCalendar> {
    let ws: Option<i64> = r.get(10)?;
    let we: Option<i64> = r.get(11)?;
    let hold: Option<String> = r.get(12)?;
    Ok(SyncCalendar {
        id: r.get(0)?,
        account_id: r.get(1)?,
        remote_id: r.get(2)?,
        name: r.get(3)?,
        color: r.get(4)?,
        can_edit: r.get(5)?,
        is_primary: r.get(6)?,
        owner_email: r.get(7)?,
        conflict_policy: r.get(8)?,
        cursor: r.get(9)?,
        window: ws.zip(we),
        hold: hold.and_then(|h| serde_json::from_str(&h).ok()),
    })
}

pub(crate) fn load_calendar(conn: &rusqlite::Connection, id: &str) -> Result<Option<SyncCalendar>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM calendars WHERE id = ?1 AND account_id IS NOT NULL"),
            params![id],
            calendar_row,
        )
        .optional()?)
}

/// An account's synced calendars after its provider's list was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCalendars {
    pub calendars: Vec<SyncCalendar>,
    /// A calendar was added, removed, renamed, recoloured or re-permissioned: what a
    /// window listing calendars must read again.
    pub changed: bool,
}

impl Store {
    /// Brings an account's calendar rows in line with the provider's list: new ones are
    /// added, known ones renamed / recoloured / re-permissioned. A calendar the provider
    /// no longer lists is removed with its local mirror — unless it holds unpushed
    /// changes, which are never dropped silently: it stays until they are pushed or
    /// discarded.
    pub fn sync_calendar_list(
        &mut self,
        account_id: &str,
        listed: &[RemoteCalendarRow],
    ) -> Result<ListedCalendars> {
        let changed = self.durable(|tx| {
            let mut changed = false;
            for c in listed {
                // 0 rows for a calendar listed as it is kept (the upsert's WHERE).
                changed |= 0 < tx.execute(
                    "INSERT INTO calendars (id, account_id, remote_id, name, color, owner_email,
                        can_edit, is_primary)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (account_id, remote_id) DO UPDATE SET name = excluded.name,
                        color = excluded.color, owner_email = excluded.owner_email,
                        can_edit = excluded.can_edit, is_primary = excluded.is_primary
                     WHERE name IS NOT excluded.name OR color IS NOT excluded.color
                        OR owner_email IS NOT excluded.owner_email
                        OR can_edit IS NOT excluded.can_edit
                        OR is_primary IS NOT excluded.is_primary",
                    params![
                        uuid::Uuid::new_v4().to_string(),
                        account_id,
                        c.remote_id,
                        c.name,
                        c.color,
                        c.owner_email,
                        c.can_edit,
                        c.is_primary
                    ],
                )?;
            }
            let known: Vec<(String, String)> = tx
                .prepare("SELECT id, remote_id FROM calendars WHERE account_id = ?1")?
                .query_map(params![account_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, remote_id) in known {
                let still_listed = listed.iter().any(|c| c.remote_id == remote_id);
                let pending: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE calendar_id = ?1)",
                    params![id],
                    |r| r.get(0),
                )?;
                if !still_listed && !pending {
                    tx.execute("DELETE FROM calendars WHERE id = ?1", params![id])?;
                    changed = true;
                }
            }
            Ok(changed)
        })?;
        Ok(ListedCalendars {
            calendars: self.sync_calendars(Some(account_id))?,
            changed,
        })
    }

    /// The synced calendars of one account, or of all accounts.
    pub fn sync_calendars(&self, account_id: Option<&str>) -> Result<Vec<SyncCalendar>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM calendars
             WHERE account_id IS NOT NULL AND (?1 IS NULL OR account_id = ?1)
             ORDER BY account_id, is_primary DESC, name, id"
        ))?;
        let rows = stmt.query_map(params![account_id], calendar_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets a calendar's conflict policy (`ask`, `prefer_local`, `prefer_remote`,
    /// `keep_both`).
    pub fn set_conflict_policy(&mut self, calendar_id: &str, policy: &str) -> Result<()> {
        if !matches!(
            policy,
            "ask" | "prefer_local" | "prefer_remote" | "keep_both"
        ) {
            return Err(crate::StoreError::BadRequest(format!(
                "\"{policy}\" is not a conflict policy: use ask, prefer_local, prefer_remote or keep_both."
            )));
        }
        self.durable(|tx| {
            let n = tx.execute(
                "UPDATE calendars SET conflict_policy = ?2 WHERE id = ?1 AND account_id IS NOT NULL",
                params![calendar_id, policy],
            )?;
            if n == 0 {
                return Err(crate::StoreError::NotFound(format!(
                    "There is no synced calendar with id \"{calendar_id}\"."
                )));
            }
            Ok(())
        })
    }

    /// The user confirmed a held calendar's deletions: the next run applies them
    /// without the guard (and clears the hold). Returns the hold, `None` if there was
    /// none.
    pub fn confirm_deletions(&mut self, calendar_id: &str) -> Result<Option<CalendarHold>> {
        self.durable(|tx| {
            let cal = load_calendar(tx, calendar_id)?.ok_or_else(|| {
                crate::StoreError::NotFound(format!(
                    "There is no synced calendar with id \"{calendar_id}\"."
                ))
            })?;
            let Some(mut hold) = cal.hold else {
                return Ok(None);
            };
            hold.confirmed = true;
            tx.execute(
                "UPDATE calendars SET sync_hold = ?2 WHERE id = ?1",
                params![calendar_id, serde_json::to_string(&hold).ok()],
            )?;
            Ok(Some(hold))
        })
    }

    /// Forgets where each of the account's calendars left off (delta links, sync
    /// tokens and their windows), so the next run lists them in full. For an account
    /// signed in again at other endpoints: its saved links point at the old ones.
    pub fn forget_sync_cursors(&mut self, account_id: &str) -> Result<()> {
        self.durable(|tx| {
            tx.execute(
                "UPDATE calendars SET sync_cursor = NULL, sync_window_start = NULL,
                     sync_window_end = NULL
                 WHERE account_id = ?1",
                params![account_id],
            )?;
            Ok(())
        })
    }
}
