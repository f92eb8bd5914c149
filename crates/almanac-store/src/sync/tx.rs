//! [`SyncTx`]: one engine step as one durable transaction.

use crate::cached::{Cached, Held};
use almanac_model::{EventKind, Provider};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::connection::Durability;
use crate::error::{Result, StoreError};
use crate::occurrences::{reindex, reindex_single, widen_max_span};
use crate::sync::appended::{ActionRow, Appended};
use crate::sync::calendars::{load_calendar, CalendarHold, SyncCalendar};
use crate::sync::chunked::{statement, write_rows, CHUNK};
use crate::sync::conflicts::{load_conflict, ConflictRecord, NewConflict};
use crate::sync::entries::{entries, EntryState, EntrySync, SyncEntry};
use crate::sync::outbox::{enqueue, outbox_row, OutboxOp, OutboxRow, OUTBOX_COLUMNS};
use crate::sync::rows::{read, write, CheckedEvent, SyncedEvent};
use crate::Store;
use std::sync::LazyLock;

/// Ids a full listing showed; `?1` the calendar.
const LISTING_COLUMNS: &str = "INSERT OR IGNORE INTO listing_seen (calendar_id, remote_id) VALUES ";
fn listing_row(k: usize) -> String {
    format!("(?1, ?{})", 2 + k)
}
static LISTING_ONE: LazyLock<String> = LazyLock::new(|| statement(LISTING_COLUMNS, listing_row, 1));
static LISTING_MANY: LazyLock<String> =
    LazyLock::new(|| statement(LISTING_COLUMNS, listing_row, CHUNK));

/// A new event's sync state.
pub(crate) const INSERT_SYNC_STATE: &str =
    "INSERT INTO event_sync (event_id, state, base_snapshot, base_etag, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5)";

/// An event's sync state, inserted or overwritten.
pub(crate) const UPSERT_SYNC_STATE: &str =
    "INSERT INTO event_sync (event_id, state, base_snapshot, base_etag, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (event_id) DO UPDATE SET state = excluded.state,
        base_snapshot = excluded.base_snapshot, base_etag = excluded.base_etag,
        updated_at = excluded.updated_at";

/// The writes of one sync step (a page with its cursor, one push result, one
/// resolution). Everything commits together when the closure given to
/// [`Store::sync_step`] returns `Ok`, and nothing does otherwise.
#[derive(Debug)]
pub struct SyncTx<'a, 'c> {
    tx: &'a Transaction<'c>,
    /// The statements written per event, held for the step (see [`Held`]).
    held: Held<'a>,
    /// The longest event span this step has recorded: a page's events are compared
    /// with it instead of each running the UPDATE (a no-op for nearly all of them).
    widest: i64,
    /// Change-feed and audit rows, written when the step ends (see [`Appended`]).
    appended: Appended,
    now: i64,
}

impl Store {
    /// Runs one sync step in one durable transaction: committed when `f` returns `Ok`,
    /// rolled back when it returns an error (of the caller's type).
    pub fn sync_step<T, E: From<StoreError>>(
        &mut self,
        now: i64,
        f: impl FnOnce(&mut SyncTx<'_, '_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.step(Durability::Full, now, f)
    }

    /// [`Store::sync_step`] for applying pulled pages, committed without waiting for
    /// the disk. A power cut may undo the last pages applied — whole, in order, and with
    /// their cursor, so the next run pulls them again — but never a user's edit (those
    /// commit `Full`, which syncs every page before them too) nor anything a push told
    /// the provider. Graph sends 100 events to a page: a first sync of 100k events
    /// waited for the disk a thousand times.
    pub fn pull_step<T, E: From<StoreError>>(
        &mut self,
        now: i64,
        f: impl FnOnce(&mut SyncTx<'_, '_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.step(Durability::Normal, now, f)
    }

    fn step<T, E: From<StoreError>>(
        &mut self,
        durability: Durability,
        now: i64,
        f: impl FnOnce(&mut SyncTx<'_, '_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut out = None;
        let res = self.transaction(durability, |tx| {
            let mut step = SyncTx {
                tx,
                held: Held::new(tx),
                widest: 0,
                appended: Appended::default(),
                now,
            };
            match f(&mut step) {
                Ok(v) => {
                    step.appended.write(&step.held, now)?;
                    out = Some(Ok(v));
                    Ok(())
                }
                Err(e) => {
                    out = Some(Err(e));
                    Err(StoreError::RolledBack)
                }
            }
        });
        match (res, out) {
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
            (Err(e), _) => Err(e.into()),
            (Ok(()), None) => Err(StoreError::RolledBack.into()),
        }
    }
}

impl SyncTx<'_, '_> {
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Runs `f` as one part of the step (an SQL savepoint): when it fails, what it
    /// wrote is undone and the step's earlier writes stay, to be committed with the
    /// step. The engine applies the pages it already holds in one step, each page a
    /// part, so a page that stops the calendar (the mass-deletion guard) keeps the
    /// pages before it applied, as when each page was its own step.
    pub fn part<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.tx
            .execute_batch("SAVEPOINT part")
            .map_err(StoreError::from)?;
        let (mark, widest) = (self.appended.mark(), self.widest);
        match f(self) {
            Ok(v) => {
                self.tx
                    .execute_batch("RELEASE part")
                    .map_err(StoreError::from)?;
                Ok(v)
            }
            Err(e) => {
                self.tx
                    .execute_batch("ROLLBACK TO part; RELEASE part")
                    .map_err(StoreError::from)?;
                self.appended.truncate(mark);
                // The widest span is the stored one again: kept larger, a later event
                // would skip the update the rolled-back one made.
                self.widest = widest;
                Err(e)
            }
        }
    }

    pub fn calendar(&self, id: &str) -> Result<SyncCalendar> {
        load_calendar(self.tx, id)?.ok_or_else(|| {
            StoreError::NotFound(format!("There is no synced calendar with id \"{id}\"."))
        })
    }

    /// The provider of calendar `id`'s account (`None` for a calendar on this computer).
    pub fn calendar_provider(&self, id: &str) -> Result<Option<Provider>> {
        let name: Option<String> = self
            .tx
            .row_cached(
                "SELECT a.provider FROM calendars c JOIN accounts a ON a.id = c.account_id
                 WHERE c.id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?;
        name.map(|n| {
            Provider::parse(&n)
                .ok_or_else(|| StoreError::Corrupt(format!("Unknown provider \"{n}\".")))
        })
        .transpose()
    }

    pub fn entries(&self, calendar_id: &str) -> Result<Vec<SyncEntry>> {
        entries(self.tx, calendar_id)
    }

    /// The entries a page with `remote_ids` can touch (see `entries_for`).
    pub fn entries_for(&self, calendar_id: &str, remote_ids: &[&str]) -> Result<Vec<SyncEntry>> {
        crate::sync::entries::entries_for(self.tx, calendar_id, remote_ids)
    }

    /// The linked exceptions of the series with `master_ids` (see `linked_exceptions`).
    pub fn linked_exceptions(
        &self,
        calendar_id: &str,
        master_ids: &[&str],
    ) -> Result<Vec<SyncEntry>> {
        crate::sync::entries::linked_exceptions(self.tx, calendar_id, master_ids)
    }

    /// The entries the calendar's full listing so far did not show (see `unlisted`).
    pub fn unlisted_entries(&self, calendar_id: &str) -> Result<Vec<SyncEntry>> {
        crate::sync::entries::unlisted(self.tx, calendar_id)
    }

    /// How many entries a listing of the calendar could delete.
    pub fn counted(&self, calendar_id: &str) -> Result<usize> {
        crate::sync::entries::counted(self.tx, calendar_id)
    }

    /// How many entries the calendar's full listing so far showed (see `listed_counted`).
    pub fn listed_counted(&self, calendar_id: &str) -> Result<usize> {
        crate::sync::entries::listed_counted(self.tx, calendar_id)
    }

    pub fn event(&self, local_id: &str) -> Result<Option<SyncedEvent>> {
        read(self.tx, local_id)
    }

    /// The local id of the calendar's event with `remote_id`.
    pub fn local_id_of(&self, calendar_id: &str, remote_id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .row_cached(
                "SELECT id FROM events WHERE calendar_id = ?1 AND remote_id = ?2",
                params![calendar_id, remote_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Whether series `series_id`, as its row is, has an occurrence at instance key
    /// `key` (its rule or RDATEs make one there, and it does not remove it).
    pub fn has_occurrence(&self, series_id: &str, key: &str) -> Result<bool> {
        let row = crate::event_rows::load(self.tx, series_id)?;
        let Some(spec) = row.series()? else {
            return Ok(false);
        };
        let wall = almanac_model::time::parse_wall_time(key)
            .or_else(|| almanac_model::time::parse_date(key).and_then(|d| d.and_hms_opt(0, 0, 0)));
        match wall {
            Some(wall) => crate::occurrences::is_instance(&spec, wall),
            None => Ok(false),
        }
    }

    /// The local id of series `master`'s exception at instance key `key`, if any (one
    /// lookup in the (series, original start) index).
    pub fn exception_at(&self, master: &str, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT id FROM events WHERE series_id = ?1 AND original_start = ?2")?
            .query_row(params![master, key], |r| r.get(0))
            .optional()?)
    }

    /// The local ids of series `master`'s exceptions (cancelled ones included).
    pub fn instances_of(&self, master: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT id FROM events WHERE series_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![master], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Writes row `local_id` (a new row when `None`, or when the id has no row — a
    /// restored deletion) and its sync state; returns its id. `base: None` with state
    /// `synced` makes the row its own base (see `base`). Sync's writes are tagged
    /// `sync` in the change feed and never enter the outbox themselves.
    pub fn write_event(
        &mut self,
        local_id: Option<&str>,
        ev: &SyncedEvent,
        state: EntryState,
        base: Option<&str>,
        base_etag: Option<&str>,
    ) -> Result<String> {
        let checked = ev.clone().check()?;
        self.write_checked(local_id, &checked, state, base, base_etag)
    }

    /// [`Self::write_event`] of a row already checked ([`SyncedEvent::check`]).
    pub fn write_checked(
        &mut self,
        local_id: Option<&str>,
        checked: &CheckedEvent,
        state: EntryState,
        base: Option<&str>,
        base_etag: Option<&str>,
    ) -> Result<String> {
        let ev = checked.row();
        let id = local_id.map_or_else(crate::ids::new_event_id, str::to_owned);
        // A new id has no row yet: nothing to look up or replace.
        let existed: bool = local_id.is_some()
            && self.tx.row_cached(
                "SELECT EXISTS (SELECT 1 FROM events WHERE id = ?1)",
                params![id],
                |r| r.get(0),
            )?;
        let (start_utc, end_utc) = write(&self.held, &id, existed, checked, self.now)?;
        if end_utc - start_utc > self.widest {
            widen_max_span(&self.held, end_utc - start_utc)?;
            self.widest = end_utc - start_utc;
        }
        // Without its row the entry had no sync state either (it goes with the row).
        self.held.exec_cached(
            if existed {
                UPSERT_SYNC_STATE
            } else {
                INSERT_SYNC_STATE
            },
            params![id, state.as_str(), base, base_etag, self.now],
        )?;
        if ev.kind == EventKind::Single {
            // Its one occurrence is known: no need to read the row back.
            reindex_single(
                &self.held,
                &id,
                &ev.input.calendar_id,
                start_utc,
                end_utc,
                !existed,
            )?;
        } else {
            reindex(self.tx, &id)?;
        }
        if ev.kind == EventKind::Exception {
            if let Some(master) = &ev.series_id {
                reindex(self.tx, master)?;
            }
        }
        self.appended
            .feed(&id, if existed { "update" } else { "insert" });
        Ok(id)
    }

    /// An entry's stored state, base and base etag (`None` without sync state).
    pub fn entry_sync(&self, local_id: &str) -> Result<Option<EntrySync>> {
        Ok(self
            .tx
            .row_cached(
                "SELECT state, base_snapshot, base_etag FROM event_sync WHERE event_id = ?1",
                params![local_id],
                |r| {
                    Ok(EntrySync {
                        state: EntryState::parse(&r.get::<_, String>(0)?),
                        base: r.get(1)?,
                        base_etag: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The entry's open conflict, if any.
    pub fn open_conflict(&self, local_id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .row_cached(
                "SELECT id FROM conflicts WHERE event_id = ?1 AND resolved_at IS NULL",
                params![local_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets an entry's sync state and base without touching its row.
    pub fn set_sync(
        &mut self,
        local_id: &str,
        state: EntryState,
        base: Option<&str>,
        base_etag: Option<&str>,
    ) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE event_sync SET state = ?2, base_snapshot = ?3, base_etag = ?4, updated_at = ?5
             WHERE event_id = ?1",
            params![local_id, state.as_str(), base, base_etag, self.now],
        )?;
        Ok(())
    }

    /// Moves only the base etag (an echo of our own write).
    pub fn set_base_etag(&mut self, local_id: &str, etag: Option<&str>) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE event_sync SET base_etag = ?2, updated_at = ?3 WHERE event_id = ?1",
            params![local_id, etag, self.now],
        )?;
        self.tx.exec_cached(
            "UPDATE events SET etag = ?2 WHERE id = ?1",
            params![local_id, etag],
        )?;
        Ok(())
    }

    /// Deletes row `local_id` (with its instances, sync state and pending pushes).
    pub fn delete_event(&mut self, local_id: &str) -> Result<()> {
        let master: Option<Option<String>> = self
            .tx
            .row_cached(
                "SELECT series_id FROM events WHERE id = ?1",
                params![local_id],
                |r| r.get(0),
            )
            .optional()?;
        self.tx.exec_cached(
            "DELETE FROM outbox WHERE event_id = ?1
                OR event_id IN (SELECT id FROM events WHERE series_id = ?1)",
            params![local_id],
        )?;
        self.tx
            .exec_cached("DELETE FROM events WHERE id = ?1", params![local_id])?;
        if let Some(Some(master)) = &master {
            reindex(self.tx, master)?;
        }
        if master.is_some() {
            self.appended.feed(local_id, "delete");
        }
        Ok(())
    }

    /// The entry's pending push, if any.
    pub fn pending(&self, local_id: &str) -> Result<Option<OutboxRow>> {
        crate::sync::outbox::pending_for(self.tx, local_id)
    }

    /// Outbox row `outbox_id` as it is now: `None` once pushed, dropped or replaced.
    pub fn outbox_entry(&self, outbox_id: i64) -> Result<Option<OutboxRow>> {
        Ok(self
            .tx
            .row_cached(
                &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?1"),
                params![outbox_id],
                outbox_row,
            )
            .optional()?)
    }

    /// Drops the entry's pending pushes.
    pub fn drop_push(&mut self, local_id: &str) -> Result<()> {
        self.tx
            .exec_cached("DELETE FROM outbox WHERE event_id = ?1", params![local_id])?;
        Ok(())
    }

    /// Makes the entry's pending push `op` (replacing what was there; a create keeps
    /// its idempotency key, and what it sent, when it stays a create). `payload` is a
    /// delete's memory.
    pub fn queue_push(
        &mut self,
        local_id: &str,
        calendar_id: &str,
        op: OutboxOp,
        payload: Option<&str>,
    ) -> Result<()> {
        if let Some(p) = self.pending(local_id)? {
            if p.op == op {
                self.tx.exec_cached(
                    "UPDATE outbox SET payload = COALESCE(?2, payload), next_attempt_at = NULL
                     WHERE id = ?1",
                    params![p.id, payload],
                )?;
                return Ok(());
            }
        }
        self.drop_push(local_id)?;
        enqueue(self.tx, local_id, calendar_id, op, payload, self.now)
    }

    /// A deletion of the provider's event `remote_id` that no row here stands for — an
    /// occurrence removed here whose instance was changed there, held as a conflict
    /// while the user decides: a pending delete under an id of its own, the version
    /// deleted here as its base (engine JSON). Returns that id. It has no etag: the
    /// provider's version is not one this computer synced (with its etag the planner
    /// would take that version for an echo), and the delete gets the etag of the
    /// version the conflict is settled against.
    pub fn queue_instance_delete(
        &mut self,
        calendar_id: &str,
        remote_id: &str,
        base: &str,
        occurrence: crate::sync::outbox::OccurrenceKey,
    ) -> Result<String> {
        let id = crate::ids::new_event_id();
        let payload = serde_json::to_string(&crate::sync::outbox::DeletePayload {
            remote_id: remote_id.to_owned(),
            etag: None,
            base: Some(base.to_owned()),
            create_key: None,
            occurrence: Some(occurrence),
            sent: Vec::new(),
            last: None,
        })
        .ok();
        enqueue(
            self.tx,
            &id,
            calendar_id,
            OutboxOp::Delete,
            payload.as_deref(),
            self.now,
        )?;
        Ok(id)
    }

    /// The calendar's pending pushes due at `now`, oldest first.
    pub fn due_pushes(&self, calendar_id: &str) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox
             WHERE calendar_id = ?1 AND (next_attempt_at IS NULL OR next_attempt_at <= ?2)
             ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![calendar_id, self.now], outbox_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes one outbox row (pushed).
    pub fn push_done(&mut self, outbox_id: i64) -> Result<()> {
        self.tx
            .exec_cached("DELETE FROM outbox WHERE id = ?1", params![outbox_id])?;
        Ok(())
    }

    /// A push failed: kept, with the reason and when to try again.
    pub fn push_failed(
        &mut self,
        outbox_id: i64,
        code: &str,
        message: &str,
        next_attempt_at: Option<i64>,
    ) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE outbox SET attempts = attempts + 1, last_error_code = ?2,
                last_error_message = ?3, next_attempt_at = ?4,
                -- A create that failed before it sent anything (an occurrence's
                -- instance not read yet): counted, but nothing sent (see
                -- `SentPayload::too_many`).
                payload = CASE WHEN operation = 'create' AND payload IS NULL
                               THEN '{\"sent\":[]}' ELSE payload END
             WHERE id = ?1",
            params![outbox_id, code, message, next_attempt_at],
        )?;
        Ok(())
    }

    /// Counts an attempt before a push is sent (so a create whose answer was lost is
    /// known to have been tried).
    pub fn push_attempted(&mut self, outbox_id: i64) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1",
            params![outbox_id],
        )?;
        Ok(())
    }

    /// Before create or update `outbox_id` goes (a create: before
    /// [`Self::push_attempted`]): `version` (engine JSON) is what it sends (see
    /// [`crate::SentPayload`]).
    /// `false`: the entry is gone, and nothing may be sent.
    pub fn version_sent(&mut self, outbox_id: i64, version: &str) -> Result<bool> {
        crate::sync::outbox::version_sent(self.tx, outbox_id, version)
    }

    /// Records (or refreshes) the event's open conflict; returns its id.
    pub fn record_conflict(&mut self, c: &NewConflict) -> Result<String> {
        crate::sync::conflicts::record(self.tx, c, self.now)
    }

    pub fn conflict(&self, id: &str) -> Result<ConflictRecord> {
        load_conflict(self.tx, id)
    }

    /// Marks a conflict resolved by the user (`keep_local`, `keep_remote`, `per_field`,
    /// `keep_both`); it never fires again for the versions it held.
    pub fn resolve_conflict(&mut self, id: &str, resolution: &str) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE conflicts SET resolved_at = ?2, resolution = ?3, resolved_by = 'user'
             WHERE id = ?1",
            params![id, self.now, resolution],
        )?;
        Ok(())
    }

    /// The user's answer `resolution` for series `series_id`, which deletes it here
    /// with its occurrences, answers their own open conflicts too: those of its
    /// occurrence rows and of its occurrences' deletions waiting here. (Left open,
    /// each would ask again about a day that is gone.)
    pub fn resolve_occurrence_conflicts(
        &mut self,
        series_id: &str,
        resolution: &str,
    ) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE conflicts SET resolved_at = ?2, resolution = ?3, resolved_by = 'user'
             WHERE resolved_at IS NULL AND event_id IN (
                 SELECT id FROM events WHERE series_id = ?1
                 UNION
                 SELECT event_id FROM outbox WHERE operation = 'delete'
                     AND json_extract(payload, '$.occurrence.seriesId') = ?1)",
            params![series_id, self.now, resolution],
        )?;
        Ok(())
    }

    /// Settles the event's open conflict because the versions it held are moot (both
    /// sides deleted it, or a newer provider version merged cleanly).
    pub fn settle_conflicts(&mut self, event_id: &str, resolution: &str) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE conflicts SET resolved_at = ?2, resolution = ?3, resolved_by = 'sync'
             WHERE event_id = ?1 AND resolved_at IS NULL",
            params![event_id, self.now, resolution],
        )?;
        Ok(())
    }

    /// Saves the calendar's cursor, and the window its lineage covers.
    pub fn set_cursor(
        &mut self,
        calendar_id: &str,
        cursor: Option<&str>,
        window: Option<(i64, i64)>,
    ) -> Result<()> {
        self.tx.exec_cached(
            "UPDATE calendars SET sync_cursor = ?2, sync_window_start = ?3, sync_window_end = ?4
             WHERE id = ?1",
            params![
                calendar_id,
                cursor,
                window.map(|w| w.0),
                window.map(|w| w.1)
            ],
        )?;
        Ok(())
    }

    /// Stops (or, with `None`, releases) a calendar for the mass-deletion guard.
    pub fn set_hold(&mut self, calendar_id: &str, hold: Option<CalendarHold>) -> Result<()> {
        let json = hold.and_then(|h| serde_json::to_string(&h).ok());
        self.tx.exec_cached(
            "UPDATE calendars SET sync_hold = ?2 WHERE id = ?1",
            params![calendar_id, json],
        )?;
        Ok(())
    }

    /// Does the calendar have creates of ours the provider's answer may still be missing
    /// for (a create in the outbox)? Only then can a listed event be one of them.
    pub fn creates_pending(&self, calendar_id: &str) -> Result<bool> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE calendar_id = ?1 AND operation = 'create')",
        )?;
        Ok(stmt.query_row(params![calendar_id], |r| r.get(0))?)
    }

    /// The calendar's tombstones: (outbox id, create key) of creates deleted here
    /// before the provider's id was known. Not those of one occurrence's change: no
    /// listing shows those by their key (see [`Self::occurrence_tombstones`]).
    pub fn tombstones(&self, calendar_id: &str) -> Result<Vec<(i64, String)>> {
        Ok(self
            .pending_deletes(calendar_id)?
            .into_iter()
            .filter_map(|(id, p)| {
                (p.remote_id.is_empty() && p.occurrence.is_none())
                    .then_some(())
                    .and(p.create_key)
                    .map(|k| (id, k))
            })
            .collect())
    }

    /// The calendar's pending deletes: outbox ids and payloads (unreadable ones left out).
    fn pending_deletes(
        &self,
        calendar_id: &str,
    ) -> Result<Vec<(i64, crate::sync::outbox::DeletePayload)>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE calendar_id = ?1 AND operation = 'delete'"
        ))?;
        let rows: Vec<OutboxRow> = stmt
            .query_map(params![calendar_id], outbox_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|o| Some((o.id, serde_json::from_str(o.payload.as_deref()?).ok()?)))
            .collect())
    }

    /// Drops the tombstones of changes of series `series_id`'s occurrences: the series
    /// went out (what it removed is settled with it) or is gone.
    pub fn drop_occurrence_tombstones(&mut self, series_id: &str) -> Result<()> {
        crate::sync::outbox::drop_occurrence_tombstones(self.tx, series_id)
    }

    /// The calendar's tombstones (sent, answer lost, deleted here since) of changes
    /// of one occurrence of series `series_id`: their occurrences and the versions
    /// the changes sent (see `DeletePayload::sent`).
    pub fn occurrence_tombstones(
        &self,
        calendar_id: &str,
        series_id: &str,
    ) -> Result<Vec<(crate::sync::outbox::OccurrenceKey, Vec<String>)>> {
        Ok(self
            .occurrence_pending(calendar_id, series_id)?
            .into_iter()
            .filter(|(_, _, p)| p.remote_id.is_empty())
            .map(|(_, k, p)| (k, p.sent))
            .collect())
    }

    /// The pending deletes of series `series_id`'s occurrences aimed at their instances
    /// at the provider (a changed occurrence deleted here, or a removal held apart from
    /// the series while a conflict waits): outbox ids and keys.
    pub fn occurrence_deletes(
        &self,
        calendar_id: &str,
        series_id: &str,
    ) -> Result<Vec<(i64, crate::sync::outbox::OccurrenceKey)>> {
        Ok(self
            .occurrence_pending(calendar_id, series_id)?
            .into_iter()
            .filter(|(_, _, p)| !p.remote_id.is_empty())
            .map(|(id, k, _)| (id, k))
            .collect())
    }

    /// The pending deletes of series `series_id`'s occurrences (tombstones, with no
    /// provider id, and the others): outbox ids, occurrences and payloads.
    fn occurrence_pending(
        &self,
        calendar_id: &str,
        series_id: &str,
    ) -> Result<
        Vec<(
            i64,
            crate::sync::outbox::OccurrenceKey,
            crate::sync::outbox::DeletePayload,
        )>,
    > {
        Ok(self
            .pending_deletes(calendar_id)?
            .into_iter()
            .filter_map(|(id, mut p)| {
                let k = p.occurrence.take().filter(|k| k.series_id == series_id)?;
                Some((id, k, p))
            })
            .collect())
    }

    /// Series `series_id`, deleted here and its deletion not sent yet, removes its
    /// occurrence at `key` (an instance key as its EXDATEs are written) in the row as
    /// it was deleted (`DeletePayload::last`): the deletion of that day, held apart from
    /// the series while the series was here, is decided (done there, or kept by the
    /// user), and should a conflict bring the series back, the day stays removed with
    /// those removed before. Whether there was such a row.
    pub fn remove_from_deleted_series(&mut self, series_id: &str, key: &str) -> Result<bool> {
        let Some(pending) = self.pending(series_id)? else {
            return Ok(false);
        };
        let payload = pending
            .payload
            .filter(|_| pending.op == OutboxOp::Delete)
            .and_then(|p| serde_json::from_str::<crate::sync::outbox::DeletePayload>(&p).ok());
        let Some(mut payload) = payload else {
            return Ok(false);
        };
        let Some(mut row) = payload.last.as_deref().and_then(crate::base_row) else {
            return Ok(false);
        };
        let Some(rule) = row.input.recurrence.as_mut() else {
            return Ok(false);
        };
        if !rule.exdates.iter().any(|d| d == key) {
            rule.exdates.push(key.to_owned());
            rule.exdates.sort();
        }
        payload.last = crate::sync::base::row_base_json(row);
        let json = serde_json::to_string(&payload).map_err(|e| {
            StoreError::Corrupt(format!("the deletion of {series_id} cannot be kept: {e}"))
        })?;
        self.tx.exec_cached(
            "UPDATE outbox SET payload = ?2 WHERE id = ?1",
            params![pending.id, json],
        )?;
        Ok(true)
    }

    /// Drops the pending deletes of series `series_id`'s occurrences (its local id),
    /// of every kind: the series' own deletion takes their instances along.
    pub fn drop_occurrence_deletes(&mut self, series_id: &str) -> Result<()> {
        self.tx.exec_cached(
            "DELETE FROM outbox WHERE operation = 'delete'
               AND json_extract(payload, '$.occurrence.seriesId') = ?1",
            params![series_id],
        )?;
        Ok(())
    }

    /// A tombstone found its event: delete that one.
    pub fn aim_tombstone(
        &mut self,
        outbox_id: i64,
        remote_id: &str,
        etag: Option<&str>,
    ) -> Result<()> {
        // (A series' row as it was deleted stays: see `DeletePayload::last`.)
        let last = self
            .outbox_entry(outbox_id)?
            .and_then(|o| o.payload)
            .and_then(|p| serde_json::from_str::<crate::sync::outbox::DeletePayload>(&p).ok())
            .and_then(|p| p.last);
        let payload = serde_json::to_string(&crate::sync::outbox::DeletePayload {
            remote_id: remote_id.to_owned(),
            etag: etag.map(str::to_owned),
            base: None,
            create_key: None,
            occurrence: None,
            sent: Vec::new(),
            last,
        })
        .ok();
        self.tx.exec_cached(
            "UPDATE outbox SET payload = COALESCE(?2, payload), next_attempt_at = NULL
             WHERE id = ?1",
            params![outbox_id, payload],
        )?;
        Ok(())
    }

    /// Whether anything of the calendar could be reconciled by a full listing: an event
    /// with a provider copy, or a deletion of one waiting to be sent. Asked before a
    /// listing's first page is applied.
    pub fn has_provider_copies(&self, calendar_id: &str) -> Result<bool> {
        Ok(self.tx.row_cached(
            "SELECT EXISTS (SELECT 1 FROM events WHERE calendar_id = ?1 AND remote_id IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM outbox WHERE calendar_id = ?1 AND operation = 'delete')",
            params![calendar_id],
            |r| r.get(0),
        )?)
    }

    /// A full listing of the calendar starts: forget the ids of any earlier one.
    /// `from_empty`: the calendar had no provider copies before it (see
    /// [`Self::has_provider_copies`]), so the listing's end has nothing to reconcile
    /// and the ids it shows need not be kept.
    pub fn listing_start(&mut self, calendar_id: &str, from_empty: bool) -> Result<()> {
        self.listing_end(calendar_id)?;
        if from_empty {
            self.tx.exec_cached(
                "UPDATE calendars SET listing_from_empty = 1 WHERE id = ?1",
                params![calendar_id],
            )?;
        }
        Ok(())
    }

    /// The calendar's full listing ended (or another starts): its ids and flag go.
    pub fn listing_end(&mut self, calendar_id: &str) -> Result<()> {
        self.tx.exec_cached(
            "DELETE FROM listing_seen WHERE calendar_id = ?1",
            params![calendar_id],
        )?;
        self.tx.exec_cached(
            "UPDATE calendars SET listing_from_empty = 0
             WHERE id = ?1 AND listing_from_empty = 1",
            params![calendar_id],
        )?;
        Ok(())
    }

    /// Series of the calendar whose changed instances a pull left out, the series
    /// unreadable and not held here (see the `left_out_series` table).
    pub fn left_out_series(&self, calendar_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT remote_id FROM left_out_series WHERE calendar_id = ?1")?;
        let ids = stmt
            .query_map(params![calendar_id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// Adds series to [`Self::left_out_series`].
    pub fn left_out_series_add(&mut self, calendar_id: &str, ids: &[String]) -> Result<()> {
        for id in ids {
            self.tx.exec_cached(
                "INSERT OR IGNORE INTO left_out_series (calendar_id, remote_id) VALUES (?1, ?2)",
                params![calendar_id, id],
            )?;
        }
        Ok(())
    }

    /// Takes series off [`Self::left_out_series`]: they read again.
    pub fn left_out_series_read(&mut self, calendar_id: &str, ids: &[String]) -> Result<()> {
        for id in ids {
            self.tx.exec_cached(
                "DELETE FROM left_out_series WHERE calendar_id = ?1 AND remote_id = ?2",
                params![calendar_id, id],
            )?;
        }
        Ok(())
    }

    /// Whether the calendar's full listing under way began from empty (see
    /// [`Self::listing_start`]).
    pub fn listing_from_empty(&self, calendar_id: &str) -> Result<bool> {
        Ok(self
            .tx
            .row_cached(
                "SELECT listing_from_empty FROM calendars WHERE id = ?1",
                params![calendar_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// Ids a page of the calendar's full listing showed.
    pub fn listing_add<'i>(
        &mut self,
        calendar_id: &str,
        ids: impl IntoIterator<Item = &'i str>,
    ) -> Result<()> {
        let ids: Vec<&str> = ids.into_iter().collect();
        write_rows(
            &self.held,
            &calendar_id,
            &ids,
            LISTING_ONE.as_str(),
            LISTING_MANY.as_str(),
            |id, out| out.push(id),
        )
    }

    /// Every id the calendar's current full listing has shown.
    pub fn listing_ids(&self, calendar_id: &str) -> Result<std::collections::BTreeSet<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT remote_id FROM listing_seen WHERE calendar_id = ?1")?;
        let rows = stmt.query_map(params![calendar_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The provider ids of the calendar's series.
    pub fn series_remote_ids(&self, calendar_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT remote_id FROM events
             WHERE calendar_id = ?1 AND kind = 'master' AND remote_id IS NOT NULL
             ORDER BY remote_id",
        )?;
        let rows = stmt.query_map(params![calendar_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A round of the calendar's changes begins: forget the events written from here
    /// during the last one (see `round_written` in the schema).
    pub fn round_start(&mut self, calendar_id: &str) -> Result<()> {
        self.tx.exec_cached(
            "DELETE FROM round_written WHERE calendar_id = ?1",
            params![calendar_id],
        )?;
        Ok(())
    }

    /// The provider took our write of `remote_id` (a create, an edit or a delete), or
    /// we read its current version: newer than anything the rest of a round under way
    /// can show of it. (Also an instance's delete whose answer was lost: see the
    /// sync engine's `remove_instances`; and names the engine makes for what has no
    /// id here, an occurrence or a create's key: its `occurrence_written`,
    /// `create_written`.)
    pub fn round_written_add(&mut self, calendar_id: &str, remote_id: &str) -> Result<()> {
        self.tx.exec_cached(
            "INSERT OR IGNORE INTO round_written (calendar_id, remote_id) VALUES (?1, ?2)",
            params![calendar_id, remote_id],
        )?;
        Ok(())
    }

    /// The events written from here since the calendar's current round began.
    pub fn round_written(&self, calendar_id: &str) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT remote_id FROM round_written WHERE calendar_id = ?1")?;
        let rows = stmt.query_map(params![calendar_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One line of the audit trail.
    #[allow(clippy::too_many_arguments)]
    pub fn action(
        &mut self,
        run_id: i64,
        event_id: Option<&str>,
        calendar_id: &str,
        direction: &str,
        action: &str,
        fields: &[String],
        reason: &str,
    ) -> Result<()> {
        // Most lines (every event a first sync creates) name no field.
        let fields_json = if fields.is_empty() {
            "[]".to_owned()
        } else {
            serde_json::to_string(fields).unwrap_or_else(|_| "[]".into())
        };
        self.appended.action(ActionRow {
            run_id,
            event_id: event_id.map(str::to_owned),
            calendar_id: calendar_id.to_owned(),
            direction: direction.to_owned(),
            action: action.to_owned(),
            fields: fields_json,
            reason: reason.to_owned(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, StoreError};

    fn synchronous(tx: &super::SyncTx<'_, '_>) -> Result<i64, StoreError> {
        Ok(tx.tx.query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    }

    #[test]
    fn a_pulled_page_commits_without_waiting_for_the_disk_and_other_steps_wait() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut store = Store::open_at(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (normal, full) = (1, 2);
        let pulled = store.pull_step(0, |tx| synchronous(tx));
        assert_eq!(pulled.ok(), Some(normal));
        let step = store.sync_step(0, |tx| synchronous(tx));
        assert_eq!(step.ok(), Some(full));
        // And the connection is back to NORMAL for what follows, after either.
        let after = store.pull_step(0, |tx| synchronous(tx));
        assert_eq!(after.ok(), Some(normal));
    }

    fn count(store: &Store, sql: &str) -> i64 {
        store
            .conn
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_failed_part_is_undone_alone_and_the_step_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut store = Store::open_at(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        store
            .conn
            .execute("INSERT INTO sync_runs (id, started_at) VALUES (1, 0)", [])
            .unwrap_or_else(|e| panic!("{e}"));
        let wrote = |tx: &mut super::SyncTx<'_, '_>, key: &str| -> Result<(), StoreError> {
            tx.tx
                .execute("INSERT INTO store_meta (key, value) VALUES (?1, 1)", [key])?;
            tx.action(1, None, "cal", "pull", "created", &[], key)
        };
        let step = store.pull_step(0, |tx| {
            tx.part(|tx| wrote(tx, "first"))?;
            // A part that writes, widens the stored span, then fails.
            let failed = tx.part(|tx| {
                wrote(tx, "second")?;
                super::widen_max_span(&tx.held, 500)?;
                tx.widest = 500;
                Err::<(), _>(StoreError::RolledBack)
            });
            assert!(matches!(failed, Err(StoreError::RolledBack)));
            assert_eq!(
                tx.widest, 0,
                "the step's widest span is the stored one again"
            );
            tx.part(|tx| wrote(tx, "third"))
        });
        assert!(step.is_ok(), "{step:?}");
        let meta: String = store
            .conn
            .query_row(
                "SELECT group_concat(key, ',') FROM (SELECT key FROM store_meta \
                 WHERE key IN ('first', 'second', 'third') ORDER BY key)",
                [],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(meta, "first,third");
        let audit: String = store
            .conn
            .query_row(
                "SELECT group_concat(reason, ',') FROM (SELECT reason FROM sync_actions ORDER BY id)",
                [],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            audit, "first,third",
            "the failed part's audit line is forgotten"
        );
        assert_eq!(
            count(
                &store,
                "SELECT value FROM store_meta WHERE key = 'max_span'"
            ),
            0
        );
    }
}
