//! The outbox: local changes of synced calendars waiting to be pushed, one entry per
//! event (later edits fold into the pending one; the push sends the row as it is then).
//!
//! The event writes of [`crate::Store`] call [`track_write`] / [`track_delete`], so an
//! edit and its outbox entry commit in one transaction: an edit the UI reported saved
//! is either in the outbox or already on the provider (I1).

use crate::cached::Cached;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOp {
    Create,
    Update,
    Delete,
}

impl OutboxOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "create" => Self::Create,
            "update" => Self::Update,
            _ => Self::Delete,
        }
    }
}

/// One pending push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: String,
    pub calendar_id: String,
    pub op: OutboxOp,
    /// Graph `transactionId` / the seed of Google's client-chosen id: the same for every
    /// attempt, so a retried create lands once.
    pub idempotency_key: String,
    /// For a delete: the provider identity and base of the deleted row, as JSON
    /// ([`DeletePayload`]); for a create or an update sent at least once: what it
    /// sent ([`SentPayload`]).
    pub payload: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
}

/// What a pending delete keeps of the row it deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletePayload {
    /// Empty for a tombstone: a create that was sent (its answer lost) and deleted
    /// here before the provider's id was known.
    pub remote_id: String,
    pub etag: Option<String>,
    /// The base of the deleted row: engine JSON, or the row itself as `keep_base`
    /// kept it (see [`crate::base_row`]).
    pub base: Option<String>,
    /// A tombstone's create key: the listing that shows the event it made tells its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_key: Option<String>,
    /// The versions the update this delete replaced sent, its answer lost (see
    /// [`SentPayload`]), or an occurrence's first change (a create here, sent as an
    /// update of its instance): the provider's copy may be one of them, which is no
    /// change made there to hold the deletion against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<String>,
    /// The deletion of one occurrence of a series here: a changed occurrence deleted
    /// here, or the removal of one held apart from its series while a conflict is
    /// settled. With an empty `remote_id`, a tombstone of a change of that occurrence
    /// sent as an update of its series' instance, its answer lost (no create key tells
    /// it apart there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence: Option<OccurrenceKey>,
    /// A series': its row as it was deleted here (row JSON, read with
    /// [`crate::base_row`]). Should a conflict bring the series back (changed at the
    /// provider meanwhile), the occurrences removed in it and not sent yet stay
    /// removed: a deletion of the whole series does not undo them. A day whose removal
    /// was held apart from the series then is added once its deletion is decided
    /// (`SyncTx::remove_from_deleted_series`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// What a pending create or update keeps of the versions it sent. Its answer lost,
/// the provider may hold any one of them (each attempt of a create carries the same
/// idempotency key, and the first to arrive is the one kept there; an update's
/// If-Match lets at most one land), changed there since, perhaps: the pull that finds
/// it there tells a change made there from ours by them. Without that, our own edit
/// read back would be a change made there: the user's next change of the same field
/// a conflict with it, an undo lost. An update's version carries, as its etag, the
/// If-Match it went with: once the base moved on from that etag, the version can no
/// longer land, and if it did, the base has it (the sync engine then drops it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentPayload {
    /// The versions sent (engine JSON), oldest first; none twice in a row. Empty
    /// once `too_many`.
    pub sent: Vec<String>,
    /// More versions were sent than are kept, or (a create) one was sent before
    /// versions were kept: which one the provider holds is not known. A create's
    /// pull then trusts our version whole, as it does with none recorded; an update
    /// is merged against its base as if none had landed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub too_many: bool,
    /// An update's: the If-Match its versions went with. A version sent with another
    /// starts the list again: those sent against an older base can no longer land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

impl SentPayload {
    /// At most this many versions are kept (a create or update sent this often, its
    /// answer lost every time and changed between the attempts, is rare; the bound
    /// keeps the row small whatever happens).
    pub const MAX_SENT: usize = 8;

    /// The payload of a create's or update's outbox row (`None` or unreadable:
    /// nothing sent).
    pub fn of(payload: Option<&str>) -> Self {
        payload
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }

    /// Records one more version sent (nothing if it is the last one sent).
    fn add(&mut self, version: &str) {
        if self.too_many || self.sent.last().is_some_and(|v| v == version) {
            return;
        }
        if self.sent.len() >= Self::MAX_SENT {
            self.sent.clear();
            self.too_many = true;
            return;
        }
        self.sent.push(version.to_owned());
    }
}

/// One occurrence of a series here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceKey {
    /// The series' local id.
    pub series_id: String,
    /// The instance key.
    pub original_start: String,
    /// A tombstone's: the occurrence's row as it was deleted (row JSON, read with
    /// [`crate::base_row`]): what the provider has if the change sent landed — or
    /// one of the versions sent ([`DeletePayload::sent`]), changed here again since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

pub(crate) const OUTBOX_COLUMNS: &str = "id, event_id, calendar_id, operation, idempotency_key, \
    payload, attempts, next_attempt_at, last_error_code, last_error_message";

pub(crate) fn outbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        event_id: r.get(1)?,
        calendar_id: r.get(2)?,
        op: OutboxOp::parse(&r.get::<_, String>(3)?),
        idempotency_key: r.get(4)?,
        payload: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_error_code: r.get(8)?,
        last_error_message: r.get(9)?,
    })
}

pub(crate) fn pending_for(
    conn: &rusqlite::Connection,
    event_id: &str,
) -> Result<Option<OutboxRow>> {
    Ok(conn
        .row_cached(
            &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE event_id = ?1 ORDER BY id LIMIT 1"),
            params![event_id],
            outbox_row,
        )
        .optional()?)
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    event_id: &str,
    calendar_id: &str,
    op: OutboxOp,
    payload: Option<&str>,
    now: i64,
) -> Result<()> {
    tx.exec_cached(
        "INSERT INTO outbox (event_id, calendar_id, operation, idempotency_key, payload, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            event_id,
            calendar_id,
            op.as_str(),
            uuid::Uuid::new_v4().to_string(),
            payload,
            now
        ],
    )?;
    Ok(())
}

/// Records `version` (engine JSON) as sent by create or update `outbox_id`, before
/// it goes (a create's before its attempt is counted). `false`: the entry is gone
/// (settled or deleted meanwhile), and nothing may be sent.
pub(crate) fn version_sent(tx: &Transaction<'_>, outbox_id: i64, version: &str) -> Result<bool> {
    let row: Option<(Option<String>, i64, String)> = tx
        .row_cached(
            "SELECT payload, attempts, operation FROM outbox
             WHERE id = ?1 AND operation IN ('create', 'update')",
            params![outbox_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((payload, attempts, op)) = row else {
        return Ok(false);
    };
    let mut sent = SentPayload::of(payload.as_deref());
    // A create tried before this outbox kept what it sent. (An update's attempts
    // also count failures before anything went: a series' instance deletes.)
    if payload.is_none() && attempts > 0 && op == "create" {
        sent.too_many = true;
    }
    if op == "update" {
        let etag = serde_json::from_str::<serde_json::Value>(version)
            .ok()
            .and_then(|v| v.get("etag").and_then(|e| e.as_str()).map(str::to_owned));
        if sent.etag != etag {
            sent = SentPayload {
                etag,
                ..SentPayload::default()
            };
        }
    }
    sent.add(version);
    let json =
        serde_json::to_string(&sent).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    tx.exec_cached(
        "UPDATE outbox SET payload = ?2 WHERE id = ?1 AND operation IN ('create', 'update')",
        params![outbox_id, json],
    )?;
    Ok(true)
}

/// The account a calendar belongs to (`None` for local calendars).
pub(crate) fn account_of(tx: &Transaction<'_>, calendar_id: &str) -> Result<Option<String>> {
    Ok(tx
        .row_cached(
            "SELECT account_id FROM calendars WHERE id = ?1",
            params![calendar_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// After a user's insert or update of row `event_id`: a row of a synced calendar
/// becomes locally created / modified and gets (or keeps) its outbox entry.
pub(crate) fn track_write(tx: &Transaction<'_>, event_id: &str, now: i64) -> Result<()> {
    let calendar_id: String = tx.row_cached(
        "SELECT calendar_id FROM events WHERE id = ?1",
        params![event_id],
        |r| r.get(0),
    )?;
    if account_of(tx, &calendar_id)?.is_none() {
        return Ok(());
    }
    let state: Option<String> = tx
        .row_cached(
            "SELECT state FROM event_sync WHERE event_id = ?1",
            params![event_id],
            |r| r.get(0),
        )
        .optional()?;
    let op = match state.as_deref() {
        None => {
            tx.exec_cached(
                "INSERT INTO event_sync (event_id, state, updated_at)
                 VALUES (?1, 'locally_created', ?2)",
                params![event_id, now],
            )?;
            OutboxOp::Create
        }
        Some("locally_created") => OutboxOp::Create,
        Some(_) => {
            tx.exec_cached(
                "UPDATE event_sync SET state = 'locally_modified', updated_at = ?2
                 WHERE event_id = ?1",
                params![event_id, now],
            )?;
            OutboxOp::Update
        }
    };
    if pending_for(tx, event_id)?.is_none() {
        enqueue(tx, event_id, &calendar_id, op, None, now)?;
    } else {
        // Changed again: goes out at the next sync, whatever the provider said about
        // the version before (a rule it could not hold, say).
        tx.exec_cached(
            "UPDATE outbox SET next_attempt_at = NULL, last_error_code = NULL,
                 last_error_message = NULL
             WHERE event_id = ?1 AND calendar_id = ?2",
            params![event_id, calendar_id],
        )?;
    }
    Ok(())
}

/// Drops the tombstones of changes of series `series_id`'s occurrences (see
/// [`DeletePayload::occurrence`]).
pub(crate) fn drop_occurrence_tombstones(tx: &Transaction<'_>, series_id: &str) -> Result<()> {
    tx.exec_cached(
        "DELETE FROM outbox WHERE operation = 'delete'
             AND json_extract(payload, '$.occurrence.seriesId') = ?1
             AND json_extract(payload, '$.remoteId') = ''",
        params![series_id],
    )?;
    Ok(())
}

/// The user deletes series `series_id`: that answers the open conflicts over the
/// deletions of its occurrences waiting here, as deleting any event answers its own
/// (those deletions still go out: the series' deletion would take the instances
/// along, but only once it lands).
fn answer_occurrence_conflicts(tx: &Transaction<'_>, series_id: &str, now: i64) -> Result<()> {
    tx.exec_cached(
        "UPDATE conflicts SET resolved_at = ?2, resolution = 'keep_local', resolved_by = 'user'
         WHERE resolved_at IS NULL AND event_id IN
             (SELECT event_id FROM outbox WHERE operation = 'delete'
                  AND json_extract(payload, '$.occurrence.seriesId') = ?1)",
        params![series_id, now],
    )?;
    Ok(())
}

/// Before a user's delete of row `event_id`: a synced row leaves a pending delete that
/// remembers its provider identity and base; a create never sent is simply dropped. A
/// series takes its instances' pending pushes with it (deleting the series deletes
/// them at the provider).
pub(crate) fn track_delete(tx: &Transaction<'_>, event_id: &str, now: i64) -> Result<()> {
    type Head = (String, Option<String>, Option<String>, Option<String>, bool);
    let row: Option<Head> = tx
        .row_cached(
            "SELECT calendar_id, remote_id, series_id, original_start, kind = 'master'
             FROM events WHERE id = ?1",
            params![event_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((calendar_id, remote_id, series_id, original_start, master)) = row else {
        return Ok(());
    };
    if account_of(tx, &calendar_id)?.is_none() {
        return Ok(());
    }
    // The pending delete remembers the base; a synced row is its own, and goes now.
    crate::sync::keep_base(tx, event_id)?;
    tx.exec_cached(
        "DELETE FROM outbox WHERE event_id IN (SELECT id FROM events WHERE series_id = ?1)",
        params![event_id],
    )?;
    // An occurrence's deletion whose conflict with the other client's change of that
    // day waits (a removal held apart from the series has no version to delete):
    // deleting the series answers that conflict for the deletion, against the
    // version the conflict showed — which the deletion now carries, as its base and
    // its `If-Match`, as Keep mine would have.
    tx.exec_cached(
        "UPDATE outbox SET payload = json_set(outbox.payload,
                 '$.etag', json_extract(c.remote_version, '$.etag'),
                 '$.base', c.remote_version)
           FROM conflicts c
          WHERE outbox.operation = 'delete'
            AND json_extract(outbox.payload, '$.occurrence.seriesId') = ?1
            AND json_extract(outbox.payload, '$.remoteId') != ''
            AND c.event_id = outbox.event_id AND c.resolved_at IS NULL
            AND json_extract(c.remote_version, '$.remoteId')
                = json_extract(outbox.payload, '$.remoteId')
            AND json_extract(c.remote_version, '$.etag') IS NOT NULL",
        params![event_id],
    )?;
    answer_occurrence_conflicts(tx, event_id, now)?;
    // Of its occurrences' deletions, one with the version the user deleted waits for
    // the series' (brought back, the series keeps it), and so does a tombstone of a
    // change of one (it goes only once a listing shows what it made, and tells the
    // series brought back that the instance is ours); one with no version to go with
    // (its conflict showed none) would delete without `If-Match` if sent later.
    tx.exec_cached(
        "DELETE FROM outbox WHERE operation = 'delete'
           AND json_extract(payload, '$.occurrence.seriesId') = ?1
           AND json_extract(payload, '$.etag') IS NULL
           AND json_extract(payload, '$.remoteId') != ''",
        params![event_id],
    )?;
    tx.exec_cached(
        "UPDATE conflicts SET resolved_at = ?2, resolution = 'keep_local', resolved_by = 'user'
         WHERE resolved_at IS NULL
           AND (event_id = ?1 OR event_id IN (SELECT id FROM events WHERE series_id = ?1))",
        params![event_id, now],
    )?;
    let base: Option<(Option<String>, Option<String>)> = tx
        .row_cached(
            "SELECT base_snapshot, base_etag FROM event_sync WHERE event_id = ?1",
            params![event_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let sent_create: Option<String> = tx
        .row_cached(
            "SELECT idempotency_key FROM outbox
             WHERE event_id = ?1 AND operation = 'create' AND attempts > 0",
            params![event_id],
            |r| r.get(0),
        )
        .optional()?;
    // An update sent, its answer lost: the provider may hold what it sent. So may an
    // occurrence's first change, a create here sent as an update of its instance.
    let sent_payload: Option<Option<String>> = tx
        .row_cached(
            "SELECT payload FROM outbox WHERE event_id = ?1
                 AND (operation = 'update' OR (operation = 'create' AND ?2))",
            params![event_id, series_id.is_some() && sent_create.is_some()],
            |r| r.get(0),
        )
        .optional()?;
    let sent = SentPayload::of(sent_payload.flatten().as_deref()).sent;
    tx.exec_cached("DELETE FROM outbox WHERE event_id = ?1", params![event_id])?;
    let (remote_id, create_key) = match (remote_id, sent_create) {
        (Some(id), _) => (id, None),
        // Sent, answer lost: it may exist at the provider. A tombstone deletes it
        // once a listing shows it (by the key it carried).
        (None, Some(key)) => (String::new(), Some(key)),
        (None, None) => return Ok(()), // never reached the provider
    };
    let (base, etag) = base.unwrap_or_default();
    let last = match master {
        true => crate::sync::base::row_json(tx, event_id)?,
        false => None,
    };
    let occurrence = match (series_id, original_start) {
        (Some(series_id), Some(original_start)) => Some(OccurrenceKey {
            series_id,
            original_start,
            last: match create_key {
                Some(_) => crate::sync::base::row_json(tx, event_id)?,
                None => None,
            },
        }),
        _ => None,
    };
    let payload = serde_json::to_string(&DeletePayload {
        remote_id,
        etag,
        base,
        create_key,
        occurrence,
        sent,
        last,
    })
    .ok();
    enqueue(
        tx,
        event_id,
        &calendar_id,
        OutboxOp::Delete,
        payload.as_deref(),
        now,
    )
}

impl crate::Store {
    /// How many changes of an account's calendars wait to be sent.
    pub fn pending_pushes(&self, account_id: &str) -> Result<i64> {
        Ok(self.conn.row_cached(
            "SELECT count(*) FROM outbox o JOIN calendars c ON c.id = o.calendar_id
             WHERE c.account_id = ?1",
            params![account_id],
            |r| r.get(0),
        )?)
    }

    /// Every pending push of a calendar, oldest first.
    pub fn outbox(&self, calendar_id: Option<&str>) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ?1 IS NULL OR calendar_id = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![calendar_id], outbox_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::SentPayload;

    #[test]
    fn a_create_keeps_each_version_it_sent_once_up_to_a_bound() {
        let mut p = SentPayload::default();
        p.add("a");
        p.add("a");
        p.add("b");
        p.add("a");
        assert_eq!(p.sent, ["a", "b", "a"]);
        let json = serde_json::to_string(&p).expect("json");
        assert_eq!(SentPayload::of(Some(&json)), p);
        assert_eq!(SentPayload::of(Some("not json")), SentPayload::default());
        for i in 0..SentPayload::MAX_SENT {
            p.add(&i.to_string());
        }
        // Which of them the provider holds is no longer known: none is trusted.
        assert!(p.too_many);
        assert!(p.sent.is_empty());
        p.add("c");
        assert!(p.sent.is_empty());
    }
}
