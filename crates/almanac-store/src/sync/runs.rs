//! The audit trail: one `sync_runs` row per run, one `sync_actions` row per applied
//! change, and each account's sync status.

use rusqlite::{params, OptionalExtension};

use crate::error::Result;
use crate::Store;

impl Store {
    /// Whether the user paused sync in the desktop app (kept across its restarts;
    /// `almanac daemon`, which has no Pause, does not read it).
    pub fn sync_paused(&self) -> Result<bool> {
        let v: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = 'sync_paused'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v == Some(1))
    }

    pub fn set_sync_paused(&mut self, paused: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES ('sync_paused', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![i64::from(paused)],
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    Ok,
    /// Some calendars synced, some failed or are held.
    Partial,
    Failed,
    /// Stopped before the end (shutdown).
    Stopped,
}

impl RunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub id: i64,
    pub account_id: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: Option<String>,
    pub pulled: i64,
    pub pushed: i64,
    pub conflicts: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncActionRecord {
    pub run_id: i64,
    pub event_id: Option<String>,
    pub calendar_id: Option<String>,
    /// `pull` or `push`.
    pub direction: String,
    pub action: String,
    /// Field names (JSON list).
    pub fields: String,
    pub reason: String,
    pub at: i64,
    /// The event's title as it is now (`None` once its row is gone): the log names
    /// what changed, not only an id.
    pub title: Option<String>,
}

/// An account's sync health, for `almanac status` and the status area.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    pub account_id: String,
    pub provider: String,
    pub email: String,
    pub status: String,
    pub last_success_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub next_sync_at: Option<i64>,
    pub failures: i64,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub pending_pushes: i64,
    pub open_conflicts: i64,
    /// Calendars stopped by the mass-deletion guard.
    pub held_calendars: Vec<almanac_model::HeldCalendar>,
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        account_id: r.get(1)?,
        started_at: r.get(2)?,
        finished_at: r.get(3)?,
        outcome: r.get(4)?,
        pulled: r.get(5)?,
        pushed: r.get(6)?,
        conflicts: r.get(7)?,
        error_code: r.get(8)?,
        error_message: r.get(9)?,
    })
}

impl Store {
    /// Opens a run's row (its outcome stays empty until [`Store::finish_run`]; a run
    /// cut short by a crash stays visible as unfinished).
    pub fn start_run(&mut self, account_id: &str, now: i64) -> Result<i64> {
        self.durable(|tx| {
            tx.execute(
                "INSERT INTO sync_runs (account_id, started_at) VALUES (?1, ?2)",
                params![account_id, now],
            )?;
            tx.execute(
                "UPDATE accounts SET last_attempt_at = ?2 WHERE id = ?1",
                params![account_id, now],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Closes a run and updates the account's status: a success clears the error and
    /// the failure count; a failure records the code and plain-language message.
    pub fn finish_run(&mut self, run: &RunRecord, outcome: RunOutcome) -> Result<()> {
        let now = run.finished_at.unwrap_or(run.started_at);
        self.durable(|tx| {
            tx.execute(
                "UPDATE sync_runs SET finished_at = ?2, outcome = ?3, pulled = ?4, pushed = ?5,
                    conflicts = ?6, error_code = ?7, error_message = ?8 WHERE id = ?1",
                params![
                    run.id,
                    now,
                    outcome.as_str(),
                    run.pulled,
                    run.pushed,
                    run.conflicts,
                    run.error_code,
                    run.error_message
                ],
            )?;
            if let Some(account) = &run.account_id {
                if outcome == RunOutcome::Ok {
                    tx.execute(
                        "UPDATE accounts SET last_success_at = ?2, failures = 0,
                            last_error_code = NULL, last_error_message = NULL,
                            status = CASE WHEN status = 'error' THEN 'connected' ELSE status END
                         WHERE id = ?1",
                        params![account, now],
                    )?;
                } else {
                    tx.execute(
                        "UPDATE accounts SET failures = failures + 1, last_error_code = ?2,
                            last_error_message = ?3
                         WHERE id = ?1",
                        params![account, run.error_code, run.error_message],
                    )?;
                }
            }
            Ok(())
        })
    }

    /// When the background loop runs the account next (`None`: not scheduled — no
    /// loop running, or waiting for a new sign-in).
    pub fn set_next_sync(&mut self, account_id: &str, at: Option<i64>) -> Result<()> {
        self.conn.execute(
            "UPDATE accounts SET next_sync_at = ?2 WHERE id = ?1",
            params![account_id, at],
        )?;
        Ok(())
    }

    /// The newest runs first, of one account or all.
    pub fn sync_runs(&self, account_id: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, account_id, started_at, finished_at, outcome, pulled, pushed, conflicts,
                error_code, error_message
             FROM sync_runs WHERE ?1 IS NULL OR account_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![account_id, limit as i64], run_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Run `id`, if there is one.
    pub fn sync_run(&self, id: i64) -> Result<Option<RunRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, account_id, started_at, finished_at, outcome, pulled, pushed,
                    conflicts, error_code, error_message
                 FROM sync_runs WHERE id = ?1",
                params![id],
                run_row,
            )
            .optional()?)
    }

    /// The changes a run applied, in order.
    pub fn sync_actions(&self, run_id: i64) -> Result<Vec<SyncActionRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.run_id, a.event_id, a.calendar_id, a.direction, a.action, a.fields,
                    a.reason, a.at, e.title
             FROM sync_actions a LEFT JOIN events e ON e.id = a.event_id
             WHERE a.run_id = ?1 ORDER BY a.id",
        )?;
        let rows = stmt.query_map(params![run_id], |r| {
            Ok(SyncActionRecord {
                run_id: r.get(0)?,
                event_id: r.get(1)?,
                calendar_id: r.get(2)?,
                direction: r.get(3)?,
                action: r.get(4)?,
                fields: r.get(5)?,
                reason: r.get(6)?,
                at: r.get(7)?,
                title: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every account's sync health.
    pub fn sync_status(&self) -> Result<Vec<SyncStatus>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.id, a.provider, a.email, a.status, a.last_success_at, a.last_attempt_at,
                a.next_sync_at, a.failures, a.last_error_code, a.last_error_message,
                (SELECT count(*) FROM outbox o JOIN calendars c ON c.id = o.calendar_id
                  WHERE c.account_id = a.id),
                (SELECT count(*) FROM conflicts f JOIN calendars c ON c.id = f.calendar_id
                  WHERE c.account_id = a.id AND f.resolved_at IS NULL)
             FROM accounts a ORDER BY a.created_at, a.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SyncStatus {
                account_id: r.get(0)?,
                provider: r.get(1)?,
                email: r.get(2)?,
                status: r.get(3)?,
                last_success_at: r.get(4)?,
                last_attempt_at: r.get(5)?,
                next_sync_at: r.get(6)?,
                failures: r.get(7)?,
                last_error_code: r.get(8)?,
                last_error_message: r.get(9)?,
                pending_pushes: r.get(10)?,
                open_conflicts: r.get(11)?,
                held_calendars: Vec::new(),
            })
        })?;
        let mut out: Vec<SyncStatus> = rows.collect::<rusqlite::Result<_>>()?;
        for s in &mut out {
            let held: Vec<(String, String, String)> = self
                .conn
                .prepare(
                    "SELECT id, name, sync_hold FROM calendars
                     WHERE account_id = ?1 AND sync_hold IS NOT NULL ORDER BY name",
                )?
                .query_map(params![s.account_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            s.held_calendars = held
                .into_iter()
                .map(|(calendar_id, name, hold)| {
                    let h: Option<crate::CalendarHold> = serde_json::from_str(&hold).ok();
                    almanac_model::HeldCalendar {
                        calendar_id,
                        name,
                        would_delete: h.map_or(0, |h| h.would_delete as u32),
                        total: h.map_or(0, |h| h.total as u32),
                    }
                })
                .collect();
        }
        Ok(out)
    }
}
