//! What the planner reads: every event of a synced calendar that has a provider copy
//! or is meant to get one, with its sync state, base, pending push and open conflict.

use std::collections::HashSet;

use crate::cached::Cached;
use rusqlite::{params, OptionalExtension};

use crate::error::Result;
use crate::sync::outbox::{outbox_row, DeletePayload, OutboxRow, OUTBOX_COLUMNS};
use crate::sync::rows::{read, SyncedEvent};
use crate::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    Synced,
    LocallyCreated,
    LocallyModified,
    LocallyDeleted,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::LocallyCreated => "locally_created",
            Self::LocallyModified => "locally_modified",
            Self::LocallyDeleted => "locally_deleted",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "locally_created" => Self::LocallyCreated,
            "locally_modified" => Self::LocallyModified,
            "locally_deleted" => Self::LocallyDeleted,
            _ => Self::Synced,
        }
    }
}

/// An entry's stored sync state and base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySync {
    pub state: EntryState,
    /// The base snapshot (engine JSON).
    pub base: Option<String>,
    pub base_etag: Option<String>,
}

/// An unresolved conflict as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenConflictRow {
    pub id: String,
    /// `edit_edit`, `edit_delete`, `delete_edit`.
    pub kind: String,
    /// The provider's version the conflict holds (engine JSON).
    pub remote_version: Option<String>,
}

/// A pending delete's memory of the row it removed.
pub type PendingDelete = DeletePayload;

/// A synced series master: its ids, its zone and whether it is all-day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterKey {
    pub local_id: String,
    pub remote_id: Option<String>,
    pub time_zone: String,
    pub all_day: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncEntry {
    pub local_id: String,
    pub remote_id: Option<String>,
    pub state: EntryState,
    /// The row; `None` once deleted locally.
    pub row: Option<SyncedEvent>,
    pub base_snapshot: Option<String>,
    pub base_etag: Option<String>,
    pub outbox: Option<OutboxRow>,
    pub open_conflict: Option<OpenConflictRow>,
}

fn open_conflict(conn: &rusqlite::Connection, event_id: &str) -> Result<Option<OpenConflictRow>> {
    Ok(conn
        .row_cached(
            "SELECT id, kind, remote_version FROM conflicts
             WHERE event_id = ?1 AND resolved_at IS NULL ORDER BY detected_at DESC LIMIT 1",
            params![event_id],
            |r| {
                Ok(OpenConflictRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    remote_version: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// The entries of one calendar, by local id.
pub(crate) fn entries(conn: &rusqlite::Connection, calendar_id: &str) -> Result<Vec<SyncEntry>> {
    let ids = conn
        .prepare_cached(
            "SELECT e.id, s.state, s.base_snapshot, s.base_etag
             FROM events e JOIN event_sync s ON s.event_id = e.id
             WHERE e.calendar_id = ?1 ORDER BY e.id",
        )?
        .query_map(params![calendar_id], head)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let out = complete(conn, ids)?;
    with_pending_deletes(conn, calendar_id, out, |_| true)
}

/// The entries one page of changes can touch: those with one of `remote_ids` (the
/// page's ids and the ids of the masters its instances point at), every create the
/// provider has not acknowledged (a listing may show it under a new id), the series
/// masters of those entries (an instance is read with its master), the occurrences
/// changed here of the series among them (a series deleted there must not take such a
/// change with it), and pending deletes of those ids (with their series' rows).
/// Reading the whole calendar per page would make a first sync quadratic in the
/// calendar's size, and so would every master of it.
pub(crate) fn entries_for(
    conn: &rusqlite::Connection,
    calendar_id: &str,
    remote_ids: &[&str],
) -> Result<Vec<SyncEntry>> {
    // Each id looked up on its own: a list given to SQLite (`IN json_each(…)`) is
    // first sorted into a temporary b-tree, which cost more than the lookups (a page's
    // ids are mostly new to the calendar, and Graph's are 150 bytes long).
    let mut listed: Vec<String> = Vec::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT id FROM events WHERE calendar_id = ?1 AND remote_id = ?2")?;
        for remote_id in remote_ids {
            if let Some(id) = stmt
                .query_row(params![calendar_id, remote_id], |r| r.get(0))
                .optional()?
            {
                listed.push(id);
            }
        }
    }
    let wanted = serde_json::to_string(&listed).unwrap_or_else(|_| "[]".into());
    let ids = conn
        .prepare_cached(
            // Indexed lookups joined, not one OR: SQLite answers such an OR by visiting
            // every event of the calendar (a 10,000-event Graph calendar comes in 100
            // pages).
            "WITH listed(id) AS (SELECT value FROM json_each(?2)),
             picked(id) AS (
                 SELECT id FROM listed
                 UNION ALL
                 SELECT id FROM events WHERE calendar_id = ?1 AND remote_id IS NULL
                 UNION ALL
                 SELECT x.id FROM events x JOIN event_sync xs ON xs.event_id = x.id
                 WHERE x.series_id IN (SELECT id FROM listed) AND xs.state != 'synced')
             SELECT e.id, s.state, s.base_snapshot, s.base_etag
             FROM events e JOIN event_sync s ON s.event_id = e.id
             WHERE e.id IN (
                 SELECT id FROM picked
                 UNION ALL
                 SELECT series_id FROM events
                 WHERE id IN (SELECT id FROM picked) AND series_id IS NOT NULL)
             ORDER BY e.id",
        )?
        .query_map(params![calendar_id, wanted], head)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let out = complete(conn, ids)?;
    let set: HashSet<&str> = remote_ids.iter().copied().collect();
    with_pending_deletes(conn, calendar_id, out, |remote_id| set.contains(remote_id))
}

/// The linked exceptions (changed occurrences with a provider copy) of the series with
/// `master_ids` (remote ids), synced or not. A page at Outlook reads them for a series
/// it lists with cancelled days (`entries_for` reads only those changed here): an
/// exception on such a day goes with it.
pub(crate) fn linked_exceptions(
    conn: &rusqlite::Connection,
    calendar_id: &str,
    master_ids: &[&str],
) -> Result<Vec<SyncEntry>> {
    let mut ids = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, s.state, s.base_snapshot, s.base_etag
         FROM events m JOIN events e ON e.series_id = m.id
         JOIN event_sync s ON s.event_id = e.id
         WHERE m.calendar_id = ?1 AND m.remote_id = ?2 AND e.remote_id IS NOT NULL
         ORDER BY e.id",
    )?;
    for master in master_ids {
        let found = stmt
            .query_map(params![calendar_id, master], head)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        ids.extend(found);
    }
    complete(conn, ids)
}

/// The entries with a provider copy that the calendar's full listing so far
/// (`listing_seen`) did not show: all a reconcile at its end can delete; with the
/// series masters of those (an instance is read with its master, listed or not) and
/// the occurrences changed here of those series (see [`entries_for`]).
pub(crate) fn unlisted(conn: &rusqlite::Connection, calendar_id: &str) -> Result<Vec<SyncEntry>> {
    let ids = conn
        .prepare_cached(
            "WITH gone(id) AS (
                 SELECT id FROM events WHERE calendar_id = ?1 AND remote_id IS NOT NULL
                     AND remote_id NOT IN
                         (SELECT remote_id FROM listing_seen WHERE calendar_id = ?1)),
             picked(id) AS (
                 SELECT id FROM gone
                 UNION ALL
                 SELECT x.id FROM events x JOIN event_sync xs ON xs.event_id = x.id
                 WHERE x.series_id IN (SELECT id FROM gone) AND x.remote_id IS NULL
                     AND xs.state != 'synced')
             SELECT e.id, s.state, s.base_snapshot, s.base_etag
             FROM events e JOIN event_sync s ON s.event_id = e.id
             WHERE e.id IN (
                 SELECT id FROM picked
                 UNION ALL
                 SELECT series_id FROM events
                 WHERE id IN (SELECT id FROM picked) AND series_id IS NOT NULL)
             ORDER BY e.id",
        )?
        .query_map(params![calendar_id], head)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let out = complete(conn, ids)?;
    let listed: HashSet<String> = conn
        .prepare_cached("SELECT remote_id FROM listing_seen WHERE calendar_id = ?1")?
        .query_map(params![calendar_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    with_pending_deletes(conn, calendar_id, out, |remote_id| {
        !listed.contains(remote_id)
    })
}

/// How many of the calendar's entries have a provider copy and are not deleted here:
/// what a listing could delete (the mass-deletion guard's whole).
pub(crate) fn counted(conn: &rusqlite::Connection, calendar_id: &str) -> Result<usize> {
    let n: i64 = conn.row_cached(
        "SELECT COUNT(*) FROM events e JOIN event_sync s ON s.event_id = e.id
         WHERE e.calendar_id = ?1 AND e.remote_id IS NOT NULL AND s.state <> 'locally_deleted'",
        params![calendar_id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or_default())
}

/// How many of the calendar's entries the full listing so far (`listing_seen`) showed
/// and are not deleted here: with [`unlisted`], a windowed reconcile's whole without
/// reading every listed event back.
pub(crate) fn listed_counted(conn: &rusqlite::Connection, calendar_id: &str) -> Result<usize> {
    let n: i64 = conn.row_cached(
        "SELECT COUNT(*) FROM events e JOIN event_sync s ON s.event_id = e.id
         WHERE e.calendar_id = ?1 AND s.state <> 'locally_deleted'
           AND e.remote_id IN (SELECT remote_id FROM listing_seen WHERE calendar_id = ?1)",
        params![calendar_id],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or_default())
}

type Head = (String, String, Option<String>, Option<String>);

fn head(r: &rusqlite::Row<'_>) -> rusqlite::Result<Head> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn complete(conn: &rusqlite::Connection, ids: Vec<Head>) -> Result<Vec<SyncEntry>> {
    let mut out = Vec::with_capacity(ids.len());
    for (id, state, base_snapshot, base_etag) in ids {
        let row = read(conn, &id)?;
        out.push(SyncEntry {
            remote_id: row.as_ref().and_then(|r| r.remote_id.clone()),
            state: EntryState::parse(&state),
            row,
            base_snapshot,
            base_etag,
            outbox: crate::sync::outbox::pending_for(conn, &id)?,
            open_conflict: open_conflict(conn, &id)?,
            local_id: id,
        });
    }
    Ok(out)
}

/// Adds the calendar's pending deletes whose remote id `keep` accepts, with the
/// series row of each that deleted an occurrence: its base, the row as it was deleted,
/// is read with that row (as an instance is read with its master), whatever else the
/// page lists.
fn with_pending_deletes(
    conn: &rusqlite::Connection,
    calendar_id: &str,
    mut out: Vec<SyncEntry>,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<SyncEntry>> {
    let deletes: Vec<OutboxRow> = conn
        .prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE calendar_id = ?1 AND operation = 'delete'
             ORDER BY id"
        ))?
        .query_map(params![calendar_id], outbox_row)?
        .collect::<rusqlite::Result<_>>()?;
    for d in deletes {
        let Some(p) = d
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<DeletePayload>(p).ok())
        else {
            continue;
        };
        if out.iter().any(|e| e.local_id == d.event_id)
            || p.remote_id.is_empty()
            || !keep(&p.remote_id)
        {
            continue; // a tombstone is not an event of the calendar (yet)
        }
        out.push(SyncEntry {
            local_id: d.event_id.clone(),
            remote_id: Some(p.remote_id),
            state: EntryState::LocallyDeleted,
            row: None,
            base_snapshot: p.base,
            base_etag: p.etag,
            open_conflict: open_conflict(conn, &d.event_id)?,
            outbox: Some(d),
        });
    }
    let series: Vec<String> = out
        .iter()
        .filter(|e| e.state == EntryState::LocallyDeleted && e.row.is_none())
        .filter_map(|e| e.base_snapshot.as_deref().and_then(crate::sync::base_row))
        .filter_map(|row| row.series_id)
        .filter(|id| !out.iter().any(|e| e.local_id == *id))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, s.state, s.base_snapshot, s.base_etag
         FROM events e JOIN event_sync s ON s.event_id = e.id WHERE e.id = ?1",
    )?;
    let mut heads = Vec::with_capacity(series.len());
    for id in series {
        heads.extend(stmt.query_row(params![id], head).optional()?);
    }
    out.extend(complete(conn, heads)?);
    Ok(out)
}

impl Store {
    /// The planner's view of one synced calendar.
    pub fn sync_entries(&self, calendar_id: &str) -> Result<Vec<SyncEntry>> {
        entries(&self.conn, calendar_id)
    }

    /// Event `id` as the sync engine reads it, outside a sync step (a read-only store
    /// can: the Conflicts panel beside the app).
    pub fn synced_event(&self, id: &str) -> Result<Option<SyncedEvent>> {
        read(&self.conn, id)
    }

    /// Of the provider's events `remote_ids`, those that are an occurrence changed
    /// here (not synced, or a push pending) of a series the provider knows: (its
    /// remote id, its series' remote id). A page that removes one without its series
    /// asks whether the series is gone too (see `almanac_sync`'s pull).
    pub fn changed_occurrences(
        &self,
        calendar_id: &str,
        remote_ids: &[&str],
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for id in remote_ids {
            let master: Option<String> = self
                .conn
                .row_cached(
                    "SELECT m.remote_id FROM events e
                     JOIN events m ON m.id = e.series_id
                     JOIN event_sync s ON s.event_id = e.id
                     WHERE e.calendar_id = ?1 AND e.remote_id = ?2
                       AND m.remote_id IS NOT NULL
                       AND (s.state != 'synced'
                            OR EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id))",
                    params![calendar_id, id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(master) = master {
                out.push(((*id).to_owned(), master));
            }
        }
        Ok(out)
    }

    /// The provider ids of the calendar's occurrences changed here (exception rows)
    /// that have one, and of its occurrences' pending deletes. Graph lists an
    /// unchanged instance for its series only; under one of these ids it says that
    /// change is gone there (see `almanac_sync`'s pull). Rows are read through the
    /// index of exceptions, which holds only them: by calendar, SQLite would visit
    /// every event of it.
    pub fn sync_exception_ids(&self, calendar_id: &str) -> Result<HashSet<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT remote_id FROM events INDEXED BY events_instance
             WHERE series_id IS NOT NULL AND kind = 'exception' AND calendar_id = ?1
               AND remote_id IS NOT NULL
             UNION
             SELECT json_extract(payload, '$.remoteId') FROM outbox
             WHERE calendar_id = ?1 AND operation = 'delete'
               AND json_extract(payload, '$.occurrence') IS NOT NULL
               AND json_extract(payload, '$.remoteId') != ''",
        )?;
        let rows = stmt.query_map(params![calendar_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The calendar's series masters as their instances need them, read from their
    /// columns: asked for every page a listing brings, where reading each master whole
    /// grew the page's work with the calendar's count of series.
    pub fn sync_masters(&self, calendar_id: &str) -> Result<Vec<MasterKey>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.remote_id, e.time_zone, e.all_day
             FROM events e JOIN event_sync s ON s.event_id = e.id
             WHERE e.calendar_id = ?1 AND e.kind = 'master' ORDER BY e.id",
        )?;
        let rows = stmt.query_map(params![calendar_id], |r| {
            Ok(MasterKey {
                local_id: r.get(0)?,
                remote_id: r.get(1)?,
                time_zone: r.get(2)?,
                all_day: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
