//! Push: a calendar's outbox, oldest first (DESIGN §4 "Push"; I1, I2, I5).
//!
//! Creates carry their idempotency key (a lost answer and a retry make one event);
//! updates and deletes carry `If-Match`. A 412 — or an update of an event the provider
//! no longer has — means the provider's version changed: it is pulled and merged like
//! a page, and the merged result (if any) is pushed on the next pass. Nothing is ever
//! overwritten blindly.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use almanac_model::EventKind;
use almanac_provider::{
    CalendarProvider, Change, ChangePage, Cursor, Deleted, ErrorKind, OriginalStart, ProviderError,
    RemoteCalendar, RemoteEvent, SeriesLink, Timing,
};
use almanac_store::{
    EntryState, OutboxOp, OutboxRow, SentPayload, Store, SyncCalendar, SyncTx, SyncedEvent,
};

use crate::apply::{apply, Ctx};
use crate::convert::{
    from_row, normalise, occurrence_of, to_row, without_idle_removals, MasterInfo,
};
use crate::error::SyncError;
use crate::local::{base_of, load, parse_snapshot, snapshot};
use crate::merge::changed_fields;
use crate::plan::plan_page;
use crate::run::{lock, policy_of, Clock};

/// What pushing a calendar did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pushed {
    pub sent: usize,
    pub conflicts: usize,
    /// Entries that failed for good (kept, with the reason on the outbox row).
    pub refused: usize,
}

pub(crate) struct Pusher<'a> {
    pub store: &'a Mutex<Store>,
    pub provider: &'a dyn CalendarProvider,
    pub cal: &'a SyncCalendar,
    pub remote: &'a RemoteCalendar,
    pub clock: &'a Clock<'a>,
    pub run_id: i64,
}

/// One outbox entry made ready to send.
enum Ready {
    Send(Box<RemoteEvent>, Option<MasterInfo>),
    Delete {
        remote_id: String,
        etag: Option<String>,
    },
    /// Nothing to send (the row is gone, or the entry waits for the user).
    Skip,
}

/// Passing failures stop the calendar's push (the whole run backs off); the rest are
/// the entry's own and leave it waiting with the reason.
/// The outbox code of an occurrence's change that found no instance at a provider
/// that lists cancelled instances: the pull should bring the cancellation (and with
/// it a conflict) or the series' change; not reported as refused meanwhile.
pub(crate) const WAITS_FOR_PULL: &str = "waits_for_pull";

/// Failures that pass: the entry is tried again later, not refused.
const PASSING: [ErrorKind; 5] = [
    ErrorKind::AuthExpired,
    ErrorKind::ActionRequired,
    ErrorKind::Throttled,
    ErrorKind::Offline,
    ErrorKind::ProviderUnavailable,
];

pub(crate) fn passing(e: &ProviderError) -> bool {
    PASSING.contains(&e.kind)
}

/// Whether an outbox entry's stored error `code` is a refusal for good: not a failure
/// that passes, nor a wait for the pull.
pub(crate) fn refused_for_good(code: &str) -> bool {
    code != WAITS_FOR_PULL && !PASSING.iter().any(|k| k.code().as_str() == code)
}

impl Pusher<'_> {
    fn now(&self) -> i64 {
        (self.clock)().timestamp()
    }

    pub async fn push(&self) -> Result<Pushed, SyncError> {
        let mut out = Pushed::default();
        if !self.cal.can_edit {
            return Ok(out); // read-only calendars are never written (I5)
        }
        // A 412 re-merges and re-queues; a few passes settle it, and a provider that
        // keeps changing the event under us leaves it for the next run.
        for _ in 0..3 {
            let due = lock(self.store).sync_step(self.now(), |tx| tx.due_pushes(&self.cal.id))?;
            if due.is_empty() {
                break;
            }
            let mut requeued = false;
            for o in due {
                match self.push_one(&o, &mut out).await? {
                    Outcome::Done => {}
                    Outcome::Remerged => requeued = true,
                }
            }
            if !requeued {
                break;
            }
        }
        Ok(out)
    }

    fn ready(&self, tx: &mut SyncTx<'_, '_>, o: &OutboxRow) -> Result<Ready, SyncError> {
        if tx.open_conflict(&o.event_id)?.is_some() {
            return Ok(Ready::Skip); // held until the user decides (I7)
        }
        if o.op == OutboxOp::Delete {
            let p: almanac_store::PendingDelete = o
                .payload
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .ok_or_else(|| {
                    SyncError::Corrupt(format!("outbox entry {} has no target", o.id))
                })?;
            if let Some(k) = &p.occurrence {
                if tx
                    .pending(&k.series_id)?
                    .is_some_and(|s| s.op == OutboxOp::Delete)
                {
                    // Its series is deleted here: that takes the instance along
                    // (deleting it first would change the series there, whose own
                    // deletion would then meet a 412 and become a conflict). One
                    // with the version the user deleted waits for the series'
                    // deletion: brought back instead (Keep theirs on its conflict),
                    // the series keeps it; so does a tombstone of a change of it
                    // (the series brought back tells its instance as ours by it).
                    // (A removal held apart got the version its conflict showed
                    // when the series' deletion answered it.)
                    if p.etag.is_none() && !p.remote_id.is_empty() {
                        tx.push_done(o.id)?;
                    }
                    return Ok(Ready::Skip);
                }
            }
            if p.remote_id.is_empty() {
                // A change of an occurrence, its answer lost: it serves its series'
                // next update (see `withhold_removal`), if one is still to go.
                if let Some(k) = &p.occurrence {
                    if tx.pending(&k.series_id)?.is_none() {
                        tx.push_done(o.id)?;
                        // Its series no longer removes the day here (the provider's
                        // series was taken instead, keep both say): that update will
                        // never go. The change may have landed, and the pull that
                        // listed it left it to that update (`occurrence_deleted_here`):
                        // listed again, the provider's copy comes back here (I3).
                        let removed = tx.event(&k.series_id)?.is_none_or(|s| {
                            s.input
                                .recurrence
                                .is_some_and(|r| r.exdates.contains(&k.original_start))
                        });
                        if !removed {
                            tx.set_cursor(&self.cal.id, None, None)?;
                        }
                    }
                }
                return Ok(Ready::Skip); // a tombstone waiting for a listing to show its event
            }
            return Ok(Ready::Delete {
                remote_id: p.remote_id,
                etag: p.etag,
            });
        }
        let Some(row) = tx.event(&o.event_id)? else {
            return Ok(Ready::Skip);
        };
        let master = match &row.series_id {
            Some(m) => tx.event(m)?.and_then(|r| MasterInfo::of(m, &r)),
            None => None,
        };
        if let Some(m) = &row.series_id {
            // Its series is in conflict (held until the user decides, I7), not at the
            // provider yet, or to be made there again ("keep mine" on a series deleted
            // there, its create queued behind this): the change waits for it.
            if master.is_none()
                || tx.open_conflict(m)?.is_some()
                || tx.pending(m)?.is_some_and(|p| p.op == OutboxOp::Create)
            {
                return Ok(Ready::Skip);
            }
        }
        let ev = from_row(&row, master.as_ref())
            .map_err(|why| SyncError::Corrupt(format!("event {}: {why}", o.event_id)))?;
        if o.op == OutboxOp::Update && self.nothing_to_send(tx, o, &ev, master.as_ref())? {
            return Ok(Ready::Skip);
        }
        Ok(Ready::Send(Box::new(ev), master))
    }

    /// An update whose event is back to the version the provider has (its base), to the
    /// field — changed and changed back here, no attempt of it sent that may have
    /// landed unanswered: settled without a request, which would
    /// only make the provider write the same version again (and Google tell its guests
    /// of an update that changed nothing). Not for a series: its update also settles
    /// the removals of its occurrences that wait apart from it, and what the provider
    /// answers with is taken here (the simulation found series that never converged
    /// without that). A synced entry with an update queued is no such case either: its
    /// base is the row itself, so what changed is unknown, and it goes out.
    fn nothing_to_send(
        &self,
        tx: &mut SyncTx<'_, '_>,
        o: &OutboxRow,
        ev: &RemoteEvent,
        master: Option<&MasterInfo>,
    ) -> Result<bool, SyncError> {
        let Some(stored) = tx.entry_sync(&o.event_id)? else {
            return Ok(false);
        };
        if stored.state == EntryState::Synced || ev.kind == almanac_provider::RemoteKind::Master {
            return Ok(false);
        }
        let base = base_of(stored.base.as_deref(), stored.state, Some(ev), |_| master);
        let Some(base) = base.filter(|b| changed_fields(b, ev).is_empty()) else {
            return Ok(false);
        };
        if sent_other_than(o, &base, stored.base_etag.as_deref()) {
            return Ok(false);
        }
        tx.set_sync(
            &o.event_id,
            EntryState::Synced,
            None,
            stored.base_etag.as_deref(),
        )?;
        self.sent_nothing(
            tx,
            o,
            &[],
            "Back to the version the provider has: nothing to send.",
        )?;
        Ok(true)
    }

    /// Entry `o` settled here without a request: its push done, and why in the log.
    fn sent_nothing(
        &self,
        tx: &mut SyncTx<'_, '_>,
        o: &OutboxRow,
        fields: &[String],
        reason: &str,
    ) -> Result<(), SyncError> {
        tx.push_done(o.id)?;
        let (run, id) = (self.run_id, Some(o.event_id.as_str()));
        tx.action(run, id, &self.cal.id, "push", "kept", fields, reason)?;
        Ok(())
    }

    async fn push_one(&self, o: &OutboxRow, out: &mut Pushed) -> Result<Outcome, SyncError> {
        // The pass's list was read before its earlier entries went: their re-merges can
        // settle, drop or replace this one (a conflict's policy recreating the event
        // queues a create under a new key). Sent from the stale row, it could land
        // twice (I2).
        let read = lock(self.store).sync_step(self.now(), |tx| {
            let Some(entry) = tx.outbox_entry(o.id)? else {
                return Ok::<_, SyncError>(None);
            };
            let ready = self.ready(tx, &entry)?;
            Ok(Some((entry, ready)))
        })?;
        let Some((entry, ready)) = read else {
            return Ok(Outcome::Done);
        };
        let o = &entry;
        let mut deleted = None;
        let result = match &ready {
            Ready::Skip => {
                if o.op != OutboxOp::Delete {
                    let gone = lock(self.store).sync_step(self.now(), |tx| {
                        Ok::<_, SyncError>(tx.event(&o.event_id)?.is_none())
                    })?;
                    if gone {
                        lock(self.store).sync_step(self.now(), |tx| tx.push_done(o.id))?;
                    }
                }
                return Ok(Outcome::Done);
            }
            Ready::Delete { remote_id, etag } => {
                match self
                    .provider
                    .delete(self.remote, remote_id, etag.as_deref())
                    .await
                {
                    Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                        match self.delete_plain_instance(remote_id, out).await? {
                            Retried::No => Err(e),
                            Retried::Sent(r) => r.map(|d| {
                                deleted = Some(d);
                                None
                            }),
                            Retried::Remerged => return Ok(Outcome::Remerged),
                        }
                    }
                    r => r.map(|d| {
                        deleted = Some(d);
                        None
                    }),
                }
            }
            Ready::Send(ev, master) => {
                if o.op == OutboxOp::Create && ev.kind == almanac_provider::RemoteKind::Exception {
                    return self.send_occurrence(o, ev, master.as_ref(), out).await;
                }
                if o.op == OutboxOp::Update && ev.kind == almanac_provider::RemoteKind::Master {
                    let mut removed = Vec::new();
                    let done = self.remove_instances(o, ev, &mut removed, out).await?;
                    // Like any delete from here: the round's later pages must not
                    // bring those instances back (see `round_written`).
                    if !removed.is_empty() {
                        lock(self.store).sync_step(self.now(), |tx| -> Result<(), SyncError> {
                            for id in &removed {
                                tx.round_written_add(&self.cal.id, id)?;
                            }
                            Ok(())
                        })?;
                    }
                    match done {
                        // Graph: deleting the instances changed the series there, so an
                        // update now would meet a 412. Read it again instead: merged,
                        // whatever else changed here goes on the next pass. (At Google
                        // an instance deleted with its removal carried our change, and
                        // the series' update, which removes the day, still goes.)
                        Ok(Removal::Done)
                            if !removed.is_empty() && !self.provider.exdates_in_rule() =>
                        {
                            out.conflicts += self.remerge(&ev.remote_id).await?;
                            return Ok(Outcome::Remerged);
                        }
                        Ok(Removal::Done) => {}
                        // A removal now waits apart from the series, or the series
                        // changed there: it goes on a later pass, read again.
                        // Some went before the hold: the series changed there too.
                        Ok(Removal::Held) if !removed.is_empty() => {
                            out.conflicts += self.remerge(&ev.remote_id).await?;
                            return Ok(Outcome::Remerged);
                        }
                        Ok(Removal::Held) => return Ok(Outcome::Remerged),
                        // An instance changed there between our read and its deletion
                        // (or its series did): read again, like any 412.
                        Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                            out.conflicts += self.remerge(&ev.remote_id).await?;
                            return Ok(Outcome::Remerged);
                        }
                        Err(e) if passing(&e) => return self.retry_later(o, e),
                        Err(e) => return self.refuse(o, out, &e),
                    }
                }
                let sent = match o.op {
                    OutboxOp::Create => {
                        let mut fresh = ev.clone();
                        fresh.remote_id.clear();
                        fresh.etag = None;
                        // Deleted here meanwhile, never tried: it leaves no tombstone,
                        // so it must not go.
                        let still = lock(self.store).sync_step(self.now(), |tx| {
                            if tx.outbox_entry(o.id)?.is_none() {
                                return Ok::<_, SyncError>(false);
                            }
                            tx.version_sent(o.id, &snapshot(&fresh))?;
                            tx.push_attempted(o.id)?;
                            Ok(true)
                        })?;
                        if !still {
                            return Ok(Outcome::Done);
                        }
                        self.provider
                            .create(self.remote, &fresh, &o.idempotency_key)
                            .await
                    }
                    _ => {
                        let stored = lock(self.store).sync_step(self.now(), |tx| {
                            Ok::<_, SyncError>(tx.entry_sync(&o.event_id)?)
                        })?;
                        let base = stored.as_ref().and_then(|s| {
                            base_of(s.base.as_deref(), s.state, Some(ev), |_| master.as_ref())
                        });
                        if let Some(b) = base.as_ref().filter(|b| {
                            !self.provider.exdates_in_rule()
                                && only_idle_removals(b, ev, &self.cal.id)
                        }) {
                            let etag = stored.as_ref().and_then(|s| s.base_etag.as_deref());
                            if self.settle_idle(o, ev, b, etag, master.as_ref())? {
                                return Ok(Outcome::Done);
                            }
                        }
                        let etag = stored
                            .and_then(|s| s.base_etag)
                            .or_else(|| ev.etag.clone())
                            .unwrap_or_default();
                        // Its answer lost, the provider may hold this version: kept
                        // with the If-Match it goes with (see `SentPayload`). Deleted
                        // or settled meanwhile, it must not go.
                        let version = RemoteEvent {
                            etag: Some(etag.clone()),
                            ..ev.as_ref().clone()
                        };
                        let still = lock(self.store).sync_step(self.now(), |tx| {
                            tx.version_sent(o.id, &snapshot(&version))
                        })?;
                        if !still {
                            return Ok(Outcome::Done);
                        }
                        self.provider
                            .update_changed(self.remote, ev.as_ref(), &etag, base.as_ref())
                            .await
                    }
                };
                sent.map(|r| Some((r, ev.as_ref().clone(), master.clone())))
            }
        };
        match result {
            Ok(None) => {
                lock(self.store).sync_step(self.now(), |tx| -> Result<(), SyncError> {
                    tx.push_done(o.id)?;
                    if let Ready::Delete { remote_id, .. } = &ready {
                        tx.round_written_add(&self.cal.id, remote_id)?;
                        // Only an instance Graph had is among its series'
                        // cancellations there now: one already gone may have gone
                        // with a move of its series, the day back at the new time.
                        let into_base =
                            !self.provider.exdates_in_rule() && deleted == Some(Deleted::Now);
                        removal_done(tx, &self.cal.id, o, into_base)?;
                        // A series: the deletions of its instances waiting for it
                        // went with it. (None of an occurrence's own.)
                        if pending_delete(o).is_none_or(|p| p.occurrence.is_none()) {
                            tx.drop_occurrence_deletes(&o.event_id)?;
                        }
                    }
                    tx.action(
                        self.run_id,
                        Some(&o.event_id),
                        &self.cal.id,
                        "push",
                        "deleted",
                        &[],
                        "Deleted here: deleted at the provider.",
                    )?;
                    Ok(())
                })?;
                out.sent += 1;
                Ok(Outcome::Done)
            }
            Ok(Some((answer, sent, master))) => {
                let again = self.acknowledge(o, &answer, &sent, master.as_ref())?;
                out.sent += 1;
                Ok(if again {
                    Outcome::Remerged
                } else {
                    Outcome::Done
                })
            }
            Err(e)
                if e.kind == ErrorKind::PreconditionFailed
                    || (e.kind == ErrorKind::NotFound && o.op != OutboxOp::Create) =>
            {
                let remote_id = match &ready {
                    Ready::Delete { remote_id, .. } => remote_id.clone(),
                    Ready::Send(ev, _) => ev.remote_id.clone(),
                    Ready::Skip => return Ok(Outcome::Done),
                };
                out.conflicts += self.remerge(&remote_id).await?;
                Ok(Outcome::Remerged)
            }
            Err(e) if passing(&e) => self.retry_later(o, e),
            // The provider had this create (an earlier attempt landed) and it was
            // deleted there since: changed here, deleted there — the user decides.
            // Only Google's `duplicate` says so; another 409 is refused below.
            Err(e)
                if e.kind == ErrorKind::Conflict
                    && e.provider_code.as_deref() == Some("duplicate")
                    && o.op == OutboxOp::Create =>
            {
                let Ready::Send(ev, _) = &ready else {
                    return self.refuse(o, out, &e);
                };
                lock(self.store).sync_step(self.now(), |tx| -> Result<(), SyncError> {
                    // Newer than what the rest of a round under way can show of it: a
                    // snapshot of before the deletion would link it, settling this.
                    let gone = crate::pull::create_written(&o.idempotency_key);
                    tx.round_written_add(&self.cal.id, &gone)?;
                    tx.record_conflict(&almanac_store::NewConflict {
                        event_id: o.event_id.clone(),
                        calendar_id: self.cal.id.clone(),
                        kind: "edit_delete".into(),
                        base: None,
                        local: Some(snapshot(ev)),
                        remote: None,
                        fields: "[]".into(),
                        settled_by_policy: None,
                    })?;
                    tx.action(
                        self.run_id,
                        Some(&o.event_id),
                        &self.cal.id,
                        "push",
                        "conflict",
                        &[],
                        "Created here, but the provider's copy was deleted since.",
                    )?;
                    Ok(())
                })?;
                out.conflicts += 1;
                Ok(Outcome::Done)
            }
            Err(e) => self.refuse(o, out, &e),
        }
    }

    /// A passing failure: the entry waits (the server's hint, else a minute) and the
    /// calendar's push stops here; the run reports the error.
    fn retry_later(&self, o: &OutboxRow, e: ProviderError) -> Result<Outcome, SyncError> {
        let wait = e
            .retry_after
            .map_or(60, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let next = self.now().saturating_add(wait);
        lock(self.store).sync_step(self.now(), |tx| {
            tx.push_failed(o.id, e.kind.code().as_str(), &e.message, Some(next))
        })?;
        Err(e.into())
    }

    /// One occurrence of a series that lives at the provider, changed here: it is that
    /// instance, updated with its etag (not a new event) — when the provider's instance
    /// is still the occurrence this change started from. Changed there since our pull,
    /// it is linked to ours as a pull links one and merged three-way, and the merge goes
    /// out on the next pass: another client's change is merged or met as a conflict,
    /// never overwritten. Changed by its series, the series is merged first.
    async fn send_occurrence(
        &self,
        o: &OutboxRow,
        ev: &RemoteEvent,
        master: Option<&MasterInfo>,
        out: &mut Pushed,
    ) -> Result<Outcome, SyncError> {
        let found = match &ev.series {
            Some(link) => {
                self.provider
                    .instance(self.remote, &link.master_id, &link.original_start)
                    .await
            }
            None => Ok(None),
        };
        let instance = match found {
            Ok(Some(instance)) => instance,
            // Hidden here, and the series has no such occurrence (any more): nothing
            // to hide there, and nothing for the row to hide here.
            Ok(None) if ev.cancelled => {
                lock(self.store).sync_step(self.now(), |tx| -> Result<(), SyncError> {
                    tx.delete_event(&o.event_id)?;
                    tx.action(
                        self.run_id,
                        Some(&o.event_id),
                        &self.cal.id,
                        "push",
                        "deleted",
                        &[],
                        "An occurrence hidden here that its series no longer has: nothing to send.",
                    )?;
                    Ok(())
                })?;
                return Ok(Outcome::Done);
            }
            // Where a cancelled occurrence is an instance of its own (Google), the
            // pull brings it and meets the change here as a conflict on it (which
            // sends the change again); until then it waits, not refused: the
            // provider's version moved on.
            Ok(None) if self.provider.exdates_in_rule() => {
                let next = self.now() + 24 * 3600;
                lock(self.store).sync_step(self.now(), |tx| {
                    tx.push_failed(
                        o.id,
                        WAITS_FOR_PULL,
                        "The provider's series has no occurrence at this time any more.",
                        Some(next),
                    )
                })?;
                return Ok(Outcome::Done);
            }
            // Graph shows a cancelled occurrence only in its series: the occurrence
            // changed here is up against a deletion, which only the user can settle
            // (a policy never lets a deletion beat an edit).
            Ok(None) => {
                out.conflicts += self.cancelled_there(o, ev)?;
                return Ok(Outcome::Done);
            }
            Err(e) if passing(&e) => return self.retry_later(o, e),
            // Its series gone there, its removal not listed yet (a long series'
            // comes pages after its instances'): the series' removal, now, holds
            // this change, as on a page — not a refusal of it.
            Err(e) if e.kind == ErrorKind::NotFound => {
                let gone = match &ev.series {
                    Some(link) => self
                        .provider
                        .event(self.remote, &link.master_id)
                        .await?
                        .is_none()
                        .then(|| link.master_id.clone()),
                    None => None,
                };
                return match gone {
                    Some(master_id) => {
                        out.conflicts += self.remerge_with(&master_id, None)?;
                        Ok(Outcome::Remerged)
                    }
                    None => self.refuse(o, out, &e),
                };
            }
            Err(e) => return self.refuse(o, out, &e),
        };
        let seen = match self.instance_seen(&instance, ev, master).await {
            Ok(seen) => seen,
            Err(e) if passing(&e) => return self.retry_later(o, e),
            Err(e) => return self.refuse(o, out, &e),
        };
        match seen {
            Seen::AsKnown => {}
            Seen::SeriesChanged(series) => {
                // Merged like a page first (which carries the series' change into
                // ours where we did not change the same field), ours goes out on
                // the next pass. Waiting for a pull instead could wait for good: a
                // windowed listing brings a series only with an instance inside it.
                let id = ev.series.as_ref().map(|l| l.master_id.clone());
                if let Some(id) = id {
                    out.conflicts += self.remerge_with(&id, series.map(|s| *s))?;
                }
                return Ok(Outcome::Remerged);
            }
            Seen::ChangedThere => {
                // An exception of ours from here on, whatever the provider calls it,
                // for the same occurrence as ours: the planner links the two.
                let instance = RemoteEvent {
                    kind: almanac_provider::RemoteKind::Exception,
                    series: ev.series.clone(),
                    ..instance
                };
                let id = instance.remote_id.clone();
                out.conflicts += self.remerge_with(&id, Some(instance))?;
                return Ok(Outcome::Remerged);
            }
        }
        // An occurrence no provider copy ever filled (made here, by an edit or the
        // rebase) takes what Almanac does not edit from the provider's instance, seen
        // unchanged just now: the writers render from its own form (`extra`: Google's
        // kept attendees and reminder overrides, a room's address), and a reminder
        // the row could not know — its series created here took the provider's
        // default after the row was made — is not sent as none. One the provider had
        // (an exception sent again by "keep mine") keeps its own.
        let fill = ev.extra.is_empty();
        let sent = if fill {
            filled(ev, &instance)
        } else {
            ev.clone()
        };
        let update = RemoteEvent {
            remote_id: instance.remote_id.clone(),
            ..sent.clone()
        };
        let etag = instance.etag.clone().unwrap_or_default();
        // Counted as sent from here on: a deletion here before the answer comes leaves
        // a tombstone of it (see `withhold_removal`).
        let here = lock(self.store).sync_step(self.now(), |tx| -> Result<bool, SyncError> {
            let Some(row) = tx.event(&o.event_id)? else {
                // Deleted here while the provider was asked, before anything went out:
                // nothing to send (sent, the change would meet its series' removal of
                // the occurrence as a change there, and could come back).
                tx.push_done(o.id)?;
                return Ok(false);
            };
            if fill {
                write_filled(tx, &o.event_id, row, &instance)?;
            }
            // Its answer lost, the provider's instance may be this (see `SentPayload`).
            // Settled meanwhile, it must not go.
            if !tx.version_sent(o.id, &snapshot(&sent))? {
                return Ok(false);
            }
            tx.push_attempted(o.id)?;
            Ok(true)
        })?;
        if !here {
            return Ok(Outcome::Done);
        }
        match self.provider.update(self.remote, &update, &etag).await {
            Ok(answer) => {
                let again = self.acknowledge(o, &answer, &sent, master)?;
                out.sent += 1;
                Ok(if again {
                    Outcome::Remerged
                } else {
                    Outcome::Done
                })
            }
            // Changed there between our read and our write (the occurrence, or its
            // series), or gone since: the next pass reads it again and sorts out
            // which (a series deleted there is no refusal of this change).
            Err(e) if matches!(e.kind, ErrorKind::PreconditionFailed | ErrorKind::NotFound) => {
                Ok(Outcome::Remerged)
            }
            Err(e) if passing(&e) => self.retry_later(o, e),
            Err(e) => self.refuse(o, out, &e),
        }
    }

    /// Records that the occurrence `ev` changed here is gone at the provider: an
    /// edit/delete conflict (before: the occurrence as the series makes it), which holds
    /// the change until the user decides — keep theirs drops it, keep mine keeps it as
    /// an event of its own (the provider's series no longer has its occurrence). Not
    /// settled by a policy (unlike the pull's `settle_gone_edit`): no instance at that
    /// time may also mean the series moved there since this run's pull, and a policy
    /// would split the change off a series that still has the occurrence.
    fn cancelled_there(&self, o: &OutboxRow, ev: &RemoteEvent) -> Result<usize, SyncError> {
        lock(self.store).sync_step(self.now(), |tx| -> Result<usize, SyncError> {
            // The rest of a round under way may still show the instance; it is gone.
            if let Some(link) = &ev.series {
                tx.round_written_add(&self.cal.id, &crate::pull::occurrence_written(link))?;
            }
            let base = match &ev.series {
                Some(link) => match tx.local_id_of(&self.cal.id, &link.master_id)? {
                    Some(id) => tx
                        .event(&id)?
                        .and_then(|row| from_row(&row, None).ok())
                        .and_then(|m| occurrence_of(&m, &link.original_start)),
                    None => None,
                },
                None => None,
            };
            let local = load(tx.entries(&self.cal.id)?, &HashMap::new())?;
            let ctx = Ctx {
                calendar_id: &self.cal.id,
                run_id: Some(self.run_id),
                local: &local,
                policy: policy_of(&self.cal.conflict_policy),
            };
            let plan = crate::plan::Plan {
                ops: vec![crate::plan::Op::RecordConflict {
                    local_id: o.event_id.clone(),
                    kind: crate::ConflictKind::EditDelete,
                    base,
                    local: Some(ev.clone()),
                    remote: None,
                    fields: Vec::new(),
                    shown: None,
                    settled_by: None,
                }],
                ..crate::plan::Plan::default()
            };
            Ok(apply(tx, &ctx, plan)?.conflicts)
        })
    }

    /// A deletion of an occurrence's exception met a 412, and the provider has an
    /// unchanged instance under that id: the exception is gone there (Outlook drops a
    /// series' exceptions when its times change, and a move back names the new
    /// instance as the old), the day is not. Deleted in turn (with its own If-Match)
    /// when it is the occurrence as the series was last synced — a plain instance
    /// carries no change of its own —; merged first when the series changed there.
    /// Its series in conflict, the 412 stands (merged as before).
    async fn delete_plain_instance(
        &self,
        remote_id: &str,
        out: &mut Pushed,
    ) -> Result<Retried, SyncError> {
        if self.provider.exdates_in_rule() {
            return Ok(Retried::No); // Google names no instance plain
        }
        let inst = match self.provider.event(self.remote, remote_id).await {
            Ok(Some(inst))
                if inst.kind == almanac_provider::RemoteKind::Occurrence && !inst.cancelled =>
            {
                inst
            }
            Err(e) if passing(&e) => return Ok(Retried::Sent(Err(e))),
            _ => return Ok(Retried::No),
        };
        let Some(link) = inst.series.clone() else {
            return Ok(Retried::No);
        };
        let master = lock(self.store).sync_step(self.now(), |tx| -> Result<_, SyncError> {
            let Some(id) = tx.local_id_of(&self.cal.id, &link.master_id)? else {
                return Ok(None);
            };
            if tx.open_conflict(&id)?.is_some() {
                return Ok(None);
            }
            Ok(tx.event(&id)?.and_then(|r| MasterInfo::of(&id, &r)))
        })?;
        let Some(master) = master else {
            return Ok(Retried::No);
        };
        match self.instance_seen(&inst, &inst, Some(&master)).await {
            Ok(Seen::AsKnown) => {}
            Ok(Seen::SeriesChanged(series)) => {
                out.conflicts += self.remerge_with(&link.master_id, series.map(|s| *s))?;
                return Ok(Retried::Remerged);
            }
            Err(e) if passing(&e) => return Ok(Retried::Sent(Err(e))),
            Ok(Seen::ChangedThere) | Err(_) => return Ok(Retried::No),
        }
        Ok(Retried::Sent(
            self.provider
                .delete(self.remote, remote_id, inst.etag.as_deref())
                .await,
        ))
    }

    /// How the provider's `instance` of the occurrence `ev` changes compares with that
    /// occurrence as the series made it when this computer last synced the series.
    async fn instance_seen(
        &self,
        instance: &RemoteEvent,
        ev: &RemoteEvent,
        master: Option<&MasterInfo>,
    ) -> Result<Seen, ProviderError> {
        let (Some(link), Some(master)) = (&ev.series, master) else {
            return Ok(Seen::AsKnown);
        };
        // The series as last synced, and its etag.
        let synced = lock(self.store)
            .sync_step(self.now(), |tx| {
                let Some(row) = tx.event(&master.local_id)? else {
                    return Ok::<_, SyncError>(None);
                };
                let Some(s) = tx.entry_sync(&master.local_id)? else {
                    return Ok(None);
                };
                let current = from_row(&row, None).ok();
                let base = base_of(s.base.as_deref(), s.state, current.as_ref(), |_| None);
                Ok(base.map(|b| (b, s.base_etag)))
            })
            .ok()
            .flatten();
        let Some((series, series_etag)) = synced else {
            return Ok(Seen::AsKnown); // nothing to compare with: as before
        };
        let Some(known) = occurrence_of(&series, &link.original_start) else {
            return Ok(Seen::AsKnown);
        };
        let Ok(there) = normalise(instance, &self.cal.id, Some(master)) else {
            return Ok(Seen::AsKnown);
        };
        if same_to_the_user(&known, &there) {
            return Ok(Seen::AsKnown);
        }
        // Which changed: the occurrence, or its series? A series with the etag this
        // computer has is as known (so a difference the series' fields cannot explain
        // is the occurrence's, and merging the series again settles nothing).
        let series_now = self.provider.event(self.remote, &link.master_id).await?;
        let as_known = series_now
            .as_ref()
            .is_some_and(|m| m.etag.is_some() && m.etag == series_etag);
        let now = series_now
            .as_ref()
            .and_then(|m| normalise(m, &self.cal.id, None).ok())
            .and_then(|m| occurrence_of(&m, &link.original_start));
        Ok(match now {
            _ if as_known => Seen::ChangedThere,
            Some(now) if same_to_the_user(&known, &now) => Seen::ChangedThere,
            _ => Seen::SeriesChanged(series_now.map(Box::new)),
        })
    }

    /// Occurrences removed here since the base, before the series is updated: each
    /// whose instance was changed there since stays out of the update (see
    /// [`Self::withhold_removal`]). Where the provider keeps no EXDATEs in its rule
    /// (Graph), the others are deleted one by one; the ids of those deleted go to
    /// `removed`, also when a later one fails, and so does one whose delete may have
    /// landed (no connection, a 5xx). (Elsewhere the rule removes them; an instance
    /// with a change of ours that landed unanswered is deleted too: see
    /// [`Withheld::Ours`].)
    async fn remove_instances(
        &self,
        o: &OutboxRow,
        ev: &RemoteEvent,
        removed: &mut Vec<String>,
        out: &mut Pushed,
    ) -> Result<Result<Removal, ProviderError>, SyncError> {
        let Some(rec) = &ev.recurrence else {
            return Ok(Ok(Removal::Done));
        };
        let stored = lock(self.store)
            .sync_step(self.now(), |tx| {
                Ok::<_, SyncError>(tx.entry_sync(&o.event_id)?)
            })
            .ok()
            .flatten();
        let base = stored
            .as_ref()
            .and_then(|s| base_of(s.base.as_deref(), s.state, Some(ev), |_| None));
        let known: Vec<String> = base
            .as_ref()
            .and_then(|b| b.recurrence.as_ref())
            .map(|r| r.exdates.clone())
            .unwrap_or_default();
        let info = MasterInfo::of_remote(&o.event_id, ev);
        let mut done = Removal::Done;
        // At Graph a removed date that is no occurrence has no instance to look for.
        let occurring = (!self.provider.exdates_in_rule())
            .then(|| without_idle_removals(ev, &self.cal.id))
            .and_then(|e| e.recurrence)
            .map(|r| r.exdates);
        let removed_dates = occurring.as_ref().unwrap_or(&rec.exdates);
        // Graph: each instance deleted changes the series there (its removed dates,
        // its stamps). What it becomes is recorded as a version of the series' update
        // sent, before the first delete goes: read back — a later delete failed, an
        // answer was lost, the series was deleted here meanwhile — our removals are
        // told from a change made there, each date alone (see `merge::as_landed`).
        let mut recorded = self.provider.exdates_in_rule();
        for key in removed_dates.iter().filter(|d| !known.contains(d)) {
            let Ok(original) = crate::convert::original_start_of(key, &info) else {
                continue;
            };
            let found = self
                .provider
                .instance(self.remote, &ev.remote_id, &original)
                .await;
            let inst = match found {
                // Cancelled there too: nothing of theirs to keep, nothing to delete.
                Ok(Some(inst)) if !inst.cancelled => inst,
                Ok(_) => continue,
                Err(e) => return Ok(Err(e)),
            };
            match self
                .withhold_removal(ev, &info, &original, &inst, out)
                .await?
            {
                Ok(Withheld::No) if self.provider.exdates_in_rule() => continue,
                Ok(Withheld::No | Withheld::Ours) => {}
                Ok(Withheld::Yes) => {
                    done = Removal::Held;
                    continue;
                }
                Ok(Withheld::SeriesChanged) => return Ok(Ok(Removal::Held)),
                Err(e) => return Ok(Err(e)),
            }
            let version = (!recorded).then(|| base.clone()).flatten().map(|mut v| {
                v.etag = stored.as_ref().and_then(|s| s.base_etag.clone());
                if let Some(r) = v.recurrence.as_mut() {
                    for d in removed_dates {
                        if !r.exdates.contains(d) {
                            r.exdates.push(d.clone());
                        }
                    }
                }
                v
            });
            recorded = true;
            // The series deleted or settled here meanwhile: its removals must not go
            // (its deletion, or what settled it, goes on the next pass instead).
            let still = lock(self.store).sync_step(self.now(), |tx| match &version {
                Some(v) => tx.version_sent(o.id, &snapshot(v)),
                None => Ok(tx.outbox_entry(o.id)?.is_some()),
            })?;
            if !still {
                return Ok(Ok(Removal::Held));
            }
            if let Err(e) = self
                .provider
                .delete(self.remote, &inst.remote_id, inst.etag.as_deref())
                .await
            {
                // No connection or a 5xx may have landed, its answer lost: the
                // series' retry then finds no instance and settles the removal with no
                // delete of its own, so the round's later pages must not bring it back
                // either.
                if matches!(e.kind, ErrorKind::Offline | ErrorKind::ProviderUnavailable) {
                    removed.push(inst.remote_id);
                }
                return Ok(Err(e));
            }
            // Graph: the series is read back, not sent: this is what went out of it.
            // Google: the series' update removes the day; this was our change of it.
            let (action, fields, why) = if self.provider.exdates_in_rule() {
                (
                    "deleted",
                    Vec::new(),
                    format!(
                        "Occurrence of {key} removed here, with the change of it sent from \
                         here (its answer lost): deleted at the provider."
                    ),
                )
            } else {
                (
                    "updated",
                    vec!["recurrence".to_owned()],
                    format!("Occurrence of {key} removed here: deleted at the provider."),
                )
            };
            lock(self.store).sync_step(self.now(), |tx| {
                tx.action(
                    self.run_id,
                    Some(&o.event_id),
                    &self.cal.id,
                    "push",
                    action,
                    &fields,
                    &why,
                )
            })?;
            out.sent += 1;
            removed.push(inst.remote_id);
        }
        Ok(Ok(done))
    }

    /// Whether the occurrence of series `ev` at `original`, removed here, must not be
    /// deleted with the series' update: its instance `inst` was changed there since
    /// (their change against our removal — a delete/edit conflict, settled by the
    /// calendar's policy or the user), or a deletion here of that instance already
    /// waits to go out with its own `If-Match` (the series waits for it). Under a
    /// conflict, or refused, that deletion is held apart: the removal leaves the
    /// series, whose other changes go out.
    async fn withhold_removal(
        &self,
        ev: &RemoteEvent,
        info: &MasterInfo,
        original: &OriginalStart,
        inst: &RemoteEvent,
        out: &mut Pushed,
    ) -> Result<Result<Withheld, ProviderError>, SyncError> {
        // A change of that occurrence sent from here whose answer was lost, deleted
        // here since: an instance as the row was deleted, or as any version its
        // changes sent, is ours, and goes with the removal. (The tombstone stays
        // until the series went out: a later pass may need it again.)
        let ours = lock(self.store).sync_step(self.now(), |tx| {
            let mut found = false;
            let Ok(there) = normalise(inst, &self.cal.id, Some(info)) else {
                return Ok(false);
            };
            for (k, sent) in tx.occurrence_tombstones(&self.cal.id, &info.local_id)? {
                let at = crate::convert::original_start_of(&k.original_start, info);
                if !at.is_ok_and(|o| &o == original) {
                    continue;
                }
                // The row as it was deleted, and each version its changes sent (it
                // may have changed again since the one that landed).
                let last = k
                    .last
                    .as_deref()
                    .and_then(almanac_store::base_row)
                    .and_then(|row| from_row(&row, Some(info)).ok());
                let sent = sent
                    .iter()
                    .filter_map(|v| parse_snapshot(Some(v)))
                    .filter_map(|v| normalise(&v, &self.cal.id, Some(info)).ok());
                found |= last
                    .into_iter()
                    .chain(sent)
                    .any(|mine| same_to_the_user(&mine, &there));
            }
            Ok::<_, SyncError>(found)
        })?;
        if ours {
            return Ok(Ok(Withheld::Ours));
        }
        let holder = lock(self.store).sync_step(self.now(), |tx| {
            let entries = tx.entries_for(&self.cal.id, &[inst.remote_id.as_str()])?;
            Ok::<_, SyncError>(entries.into_iter().find(|e| {
                e.row.is_none() && e.remote_id.as_deref() == Some(inst.remote_id.as_str())
            }))
        })?;
        if let Some(holder) = holder {
            let refused = holder
                .outbox
                .as_ref()
                .and_then(|o| o.last_error_code.as_deref())
                .is_some_and(refused_for_good);
            if holder.open_conflict.is_some() || refused {
                lock(self.store).sync_step(self.now(), |tx| {
                    crate::apply::withdraw_removal(tx, info, original)
                })?;
            }
            return Ok(Ok(Withheld::Yes));
        }
        let link = SeriesLink {
            master_id: ev.remote_id.clone(),
            original_start: original.clone(),
        };
        let Some(occurrence) = occurrence_of(ev, original) else {
            return Ok(Ok(Withheld::No));
        };
        let occurrence = RemoteEvent {
            series: Some(link.clone()),
            ..occurrence
        };
        let seen = match self.instance_seen(inst, &occurrence, Some(info)).await {
            Ok(seen) => seen,
            Err(e) => return Ok(Err(e)),
        };
        match seen {
            Seen::AsKnown => Ok(Ok(Withheld::No)),
            Seen::SeriesChanged(series) => {
                out.conflicts += self.remerge_with(&ev.remote_id, series.map(|s| *s))?;
                Ok(Ok(Withheld::SeriesChanged))
            }
            Seen::ChangedThere => {
                // What was removed here: the occurrence as the series made it when
                // last synced, under the instance's identity.
                let synced = lock(self.store).sync_step(self.now(), |tx| {
                    let stored = tx.entry_sync(&info.local_id)?;
                    Ok::<_, SyncError>(
                        stored
                            .and_then(|s| base_of(s.base.as_deref(), s.state, Some(ev), |_| None)),
                    )
                })?;
                let Some(deleted) = synced
                    .as_ref()
                    .and_then(|series| occurrence_of(series, original))
                else {
                    return Ok(Ok(Withheld::No));
                };
                let deleted = RemoteEvent {
                    remote_id: inst.remote_id.clone(),
                    etag: None,
                    ical_uid: inst.ical_uid.clone(),
                    series: Some(link.clone()),
                    extra: inst.extra.clone(),
                    ..deleted
                };
                let theirs = RemoteEvent {
                    kind: almanac_provider::RemoteKind::Exception,
                    series: Some(link),
                    ..inst.clone()
                };
                let Ok(key) = crate::convert::instance_key_of(original, info) else {
                    return Ok(Ok(Withheld::No));
                };
                let occurrence = almanac_store::OccurrenceKey {
                    series_id: info.local_id.clone(),
                    original_start: key,
                    last: None,
                };
                let (cal, remote_id) = (&self.cal.id, &inst.remote_id);
                out.conflicts += self.remerge_after(remote_id, Some(theirs), |tx| {
                    crate::apply::withdraw_removal(tx, info, original)?;
                    tx.queue_instance_delete(cal, remote_id, &snapshot(&deleted), occurrence)?;
                    Ok(())
                })?;
                Ok(Ok(Withheld::Yes))
            }
        }
    }

    /// An entry the provider refuses for good: kept, with the plain reason, retried in
    /// a day (a fix at the provider — permissions, a quota — may let it through).
    fn refuse(
        &self,
        o: &OutboxRow,
        out: &mut Pushed,
        e: &ProviderError,
    ) -> Result<Outcome, SyncError> {
        let next = self.now() + 24 * 3600;
        lock(self.store).sync_step(self.now(), |tx| -> Result<(), SyncError> {
            tx.push_failed(o.id, e.kind.code().as_str(), &e.message, Some(next))?;
            tx.action(
                self.run_id,
                Some(&o.event_id),
                &self.cal.id,
                "push",
                "refused",
                &[],
                &e.message,
            )?;
            Ok(())
        })?;
        out.refused += 1;
        Ok(Outcome::Done)
    }

    /// The provider took `sent`: its answer becomes the base. If the row changed while
    /// the request was out, or the provider did not take all of it (Graph makes a
    /// series whole, its removed occurrences go after), the entry stays modified and
    /// goes out again — a create's on the next pass of this run (true).
    fn acknowledge(
        &self,
        o: &OutboxRow,
        answer: &RemoteEvent,
        sent: &RemoteEvent,
        master: Option<&MasterInfo>,
    ) -> Result<bool, SyncError> {
        let base = normalise(answer, &self.cal.id, master).map_err(|why| {
            SyncError::Corrupt(format!("the provider's answer cannot be kept: {why}"))
        })?;
        lock(self.store).sync_step(self.now(), |tx| -> Result<bool, SyncError> {
            let Some(row) = tx.event(&o.event_id)? else {
                // Deleted here meanwhile: the user's delete is queued; give it the
                // identity it needs.
                tx.push_done(o.id)?;
                return Ok(false);
            };
            let current = from_row(&row, master)
                .map_err(|why| SyncError::Corrupt(format!("event {}: {why}", o.event_id)))?;
            if row.kind == EventKind::Master {
                // What the series removed went out with it (see `withhold_removal`).
                tx.drop_occurrence_tombstones(&o.event_id)?;
            }
            // The event as the provider had it before this update: what the update
            // changed, for the log; at Graph, the series whose new pattern or times
            // make it drop its cancellations.
            let prior = match o.op {
                OutboxOp::Update => tx
                    .entry_sync(&o.event_id)?
                    .and_then(|s| base_of(s.base.as_deref(), s.state, Some(sent), |_| master)),
                _ => None,
            };
            let sent_fields = prior
                .as_ref()
                .map(|p| crate::apply::names(&changed_fields(p, sent)))
                .unwrap_or_default();
            let before = prior.filter(|_| !self.provider.exdates_in_rule());
            // The provider has what was sent (a replayed create can answer with an
            // earlier version instead: then ours must go out again) …
            // (At Graph a removed date that is no occurrence cannot be kept: its
            // answer without one has all that was sent.)
            let mut there = if self.provider.exdates_in_rule() {
                sent.clone()
            } else {
                without_idle_removals(sent, &self.cal.id)
            };
            // A new event without a reminder chosen here takes the provider's default
            // (see the clients' `create`): that is no change of ours to send again.
            let took_default = o.op == OutboxOp::Create
                && sent.kind != almanac_provider::RemoteKind::Exception
                && sent.reminder_minutes.is_none();
            if took_default {
                there.reminder_minutes = base.reminder_minutes;
            }
            let took_it = same_to_the_user(&base, &there);
            // … and nothing changed here while the request was out.
            let still = changed_fields(&current, sent).is_empty();
            let mut unchanged = took_it && still;
            let answered = to_row(&base, &self.cal.id, master).map_err(SyncError::Corrupt)?;
            let mut kept = if unchanged {
                answered
            } else {
                // The provider's own fields come with its answer even so: nothing here
                // edits them, and a row without them would read as having removed them
                // (a conflict with the provider's next change of one). Graph answers a
                // new series before its removed occurrences are cancelled, for one.
                let mut r = row.clone();
                r.provider_extra = answered.provider_extra.clone();
                // So does the default reminder a create without one took (the change
                // here while it was out is no choice of a reminder).
                if took_default && r.reminder_minutes.is_none() {
                    r.reminder_minutes = answered.reminder_minutes;
                }
                // At Graph, so do the occurrences it answers as removed that we did
                // not send: deleted there (a replayed create answers with the series
                // as it is now), and no update can bring one back.
                if !self.provider.exdates_in_rule() {
                    let sent_removed = to_row(sent, &self.cal.id, master)
                        .ok()
                        .and_then(|s| s.input.recurrence)
                        .map(|r| r.exdates)
                        .unwrap_or_default();
                    if let (Some(mine), Some(theirs)) = (
                        r.input.recurrence.as_mut(),
                        answered.input.recurrence.as_ref(),
                    ) {
                        for d in &theirs.exdates {
                            if !sent_removed.contains(d) && !mine.exdates.contains(d) {
                                mine.exdates.push(d.clone());
                            }
                        }
                    }
                }
                // Nothing of ours may be left to send then (unless the row changed
                // while the request was out).
                if still && from_row(&r, master).is_ok_and(|mine| same_to_the_user(&base, &mine)) {
                    unchanged = true;
                    answered
                } else {
                    r
                }
            };
            kept.remote_id = Some(base.remote_id.clone());
            kept.etag = base.etag.clone();
            kept.ical_uid = base.ical_uid.clone();
            if row.kind == EventKind::Exception {
                kept.series_id = row.series_id.clone();
                kept.original_start = row.original_start.clone();
            }
            let state = if unchanged {
                EntryState::Synced
            } else {
                EntryState::LocallyModified
            };
            tx.write_event(
                Some(&o.event_id),
                &kept,
                state,
                Some(&snapshot(&base)),
                base.etag.as_deref(),
            )?;
            tx.push_done(o.id)?;
            if !unchanged {
                tx.queue_push(&o.event_id, &self.cal.id, OutboxOp::Update, None)?;
            }
            if o.op == OutboxOp::Create {
                // A full listing under way (it spans runs) may not show an event
                // created after its round began; counted as shown, the reconcile at its
                // end does not take it for one deleted at the provider. (Between
                // listings the id waits harmlessly: a listing's start clears them.)
                tx.listing_add(&self.cal.id, [base.remote_id.as_str()])?;
            }
            // The rest of a round under way may show the event as it was before.
            tx.round_written_add(&self.cal.id, &base.remote_id)?;
            if o.op == OutboxOp::Create {
                // ... or an earlier copy of it, deleted there since (see `create_written`).
                let key = crate::pull::create_written(&o.idempotency_key);
                tx.round_written_add(&self.cal.id, &key)?;
            }
            tx.action(
                self.run_id,
                Some(&o.event_id),
                &self.cal.id,
                "push",
                if o.op == OutboxOp::Create {
                    "created"
                } else {
                    "updated"
                },
                &sent_fields,
                "Changed here: sent to the provider.",
            )?;
            // A create's rest (Graph: the series' removed occurrences) goes on the
            // next pass of this run, as do the removals Graph dropped when an update
            // changed the series' pattern or times; any other rest of an update waits
            // for the next run.
            let dropped = still && removals_dropped(&base, &there, before.as_ref());
            Ok(!unchanged && (o.op == OutboxOp::Create || dropped))
        })
    }

    /// At Graph, an update `ev` whose only change from its `base` is removed dates
    /// that are no occurrence of the series (see [`without_idle_removals`]): nothing
    /// Graph can keep differs, so nothing is sent and the row becomes its base —
    /// unless it changed meanwhile (false: it goes out as it is).
    fn settle_idle(
        &self,
        o: &OutboxRow,
        ev: &RemoteEvent,
        base: &RemoteEvent,
        base_etag: Option<&str>,
        master: Option<&MasterInfo>,
    ) -> Result<bool, SyncError> {
        if sent_other_than(o, base, base_etag) {
            return Ok(false);
        }
        lock(self.store).sync_step(self.now(), |tx| -> Result<bool, SyncError> {
            let Some(row) = tx.event(&o.event_id)? else {
                return Ok(false);
            };
            let current = from_row(&row, master)
                .map_err(|why| SyncError::Corrupt(format!("event {}: {why}", o.event_id)))?;
            if !changed_fields(&current, ev).is_empty() {
                return Ok(false);
            }
            let mut kept = to_row(base, &self.cal.id, master).map_err(SyncError::Corrupt)?;
            kept.remote_id = Some(base.remote_id.clone());
            kept.etag = base.etag.clone();
            kept.ical_uid = base.ical_uid.clone();
            tx.write_event(
                Some(&o.event_id),
                &kept,
                EntryState::Synced,
                Some(&snapshot(base)),
                base.etag.as_deref(),
            )?;
            self.sent_nothing(
                tx,
                o,
                &["recurrence".to_owned()],
                "Changed here only in removed dates that are no occurrence of the series, \
                 which the provider has no place for: nothing to send.",
            )?;
            Ok(true)
        })
    }

    /// The provider's version changed under a push: fetch it and merge it like a page.
    async fn remerge(&self, remote_id: &str) -> Result<usize, SyncError> {
        let current = self.provider.event(self.remote, remote_id).await?;
        let gone = match current {
            Some(_) => BTreeSet::new(),
            None => self.series_gone_with(remote_id).await?,
        };
        self.remerge_gone(remote_id, current, gone, |_| Ok(()))
    }

    /// The series gone at the provider of `remote_id`, an occurrence changed here
    /// found gone: the series' removal holds the change (see the pull's
    /// `series_gone_with`; a listing may show it only on a later run).
    async fn series_gone_with(&self, remote_id: &str) -> Result<BTreeSet<String>, SyncError> {
        let changed = lock(self.store).changed_occurrences(&self.cal.id, &[remote_id])?;
        let Some((_, master)) = changed.into_iter().next() else {
            return Ok(BTreeSet::new());
        };
        Ok(match self.provider.event(self.remote, &master).await? {
            Some(_) => BTreeSet::new(),
            None => BTreeSet::from([master]),
        })
    }

    /// Merges `current`, the provider's version of `remote_id` (`None`: gone), like
    /// a page.
    fn remerge_with(
        &self,
        remote_id: &str,
        current: Option<RemoteEvent>,
    ) -> Result<usize, SyncError> {
        self.remerge_gone(remote_id, current, BTreeSet::new(), |_| Ok(()))
    }

    /// [`Self::remerge_with`], after `first` in the same transaction.
    fn remerge_after(
        &self,
        remote_id: &str,
        current: Option<RemoteEvent>,
        first: impl FnOnce(&mut SyncTx<'_, '_>) -> Result<(), SyncError>,
    ) -> Result<usize, SyncError> {
        self.remerge_gone(remote_id, current, BTreeSet::new(), first)
    }

    /// [`Self::remerge_after`], with the series `gone` at the provider (see
    /// [`LocalIndex::with_gone_series`](crate::plan::LocalIndex::with_gone_series)).
    fn remerge_gone(
        &self,
        remote_id: &str,
        current: Option<RemoteEvent>,
        gone: BTreeSet<String>,
        first: impl FnOnce(&mut SyncTx<'_, '_>) -> Result<(), SyncError>,
    ) -> Result<usize, SyncError> {
        let now = self.now();
        let policy = policy_of(&self.cal.conflict_policy);
        let master = match &current {
            Some(ev) => match &ev.series {
                Some(link) => lock(self.store).sync_step(now, |tx| -> Result<_, SyncError> {
                    let Some(id) = tx.local_id_of(&self.cal.id, &link.master_id)? else {
                        return Ok(None);
                    };
                    Ok(tx.event(&id)?.and_then(|r| MasterInfo::of(&id, &r)))
                })?,
                None => None,
            },
            None => None,
        };
        if current
            .as_ref()
            .is_some_and(|ev| ev.series.is_some() && master.is_none())
        {
            // An instance of a series no longer here (deleted here, its deletion on
            // its way, or gone at the provider): nothing of it to merge, and a
            // deletion of it waiting here goes with its series.
            return lock(self.store).sync_step(now, |tx| -> Result<usize, SyncError> {
                for e in tx.entries_for(&self.cal.id, &[remote_id])? {
                    if e.row.is_none() && e.remote_id.as_deref() == Some(remote_id) {
                        tx.drop_push(&e.local_id)?;
                    }
                }
                Ok(0)
            });
        }
        let change = match current {
            Some(ev) => Change::Upsert(Box::new(
                normalise(&ev, &self.cal.id, master.as_ref()).map_err(SyncError::Corrupt)?,
            )),
            None => Change::Removed {
                remote_id: remote_id.to_owned(),
            },
        };
        let exists = !matches!(change, Change::Removed { .. });
        // A series gone there goes now, as on a page, before its occurrence: its
        // edit/delete holds the occurrence's change from here on (waiting for the
        // series' removal in a later listing, the occurrence's push would meet the
        // same 404 on every pass).
        let changes = gone
            .iter()
            .map(|id| Change::Removed {
                remote_id: id.clone(),
            })
            .chain([change])
            .collect();
        let page = ChangePage {
            changes,
            cursor: Cursor::More(String::new()),
            full_listing: false,
            restarted: false,
            unreadable: Vec::new(),
        };
        lock(self.store).sync_step(now, |tx| -> Result<usize, SyncError> {
            first(tx)?;
            // Newer than what the rest of a round under way can show of it (and of a
            // series found gone: made again here, it has a new id, and the old one
            // listed would come here as an event of its own).
            for id in gone.iter().map(String::as_str).chain([remote_id]) {
                tx.round_written_add(&self.cal.id, id)?;
            }
            if exists {
                // Seen now, so a full listing under way does not take it for gone
                // (an occurrence's instance becomes an event of its own only when
                // our change lands, after the listing began).
                tx.listing_add(&self.cal.id, [remote_id])?;
            }
            let mut local = load(tx.entries(&self.cal.id)?, &HashMap::new())?;
            local.index = local
                .index
                .with_removals_on_series(!self.provider.exdates_in_rule());
            let plan = plan_page(&local.index, page, policy, None);
            let ctx = Ctx {
                calendar_id: &self.cal.id,
                run_id: Some(self.run_id),
                local: &local,
                policy,
            };
            let applied = apply(tx, &ctx, plan)?;
            // A series brought back (a policy's answer to its deletion here): its
            // changed occurrences come with the calendar listed again, as on a pull.
            if applied.relist {
                tx.set_cursor(&self.cal.id, None, None)?;
            }
            Ok(applied.conflicts)
        })
    }
}

/// Whether an attempt of update `o` may have left the provider with a version other
/// than `base` (whose etag is `base_etag`) — sent with that If-Match, its answer lost
/// (see [`SentPayload`]): a change back to `base` then goes out, or the provider's
/// version would come back over it. One sent against an older base can no longer
/// land.
fn sent_other_than(o: &OutboxRow, base: &RemoteEvent, base_etag: Option<&str>) -> bool {
    let sent = SentPayload::of(o.payload.as_deref());
    let other = |v: &String| match parse_snapshot(Some(v)) {
        None => true,
        Some(s) => s.etag.as_deref() == base_etag && !changed_fields(base, &s).is_empty(),
    };
    (sent.too_many && sent.etag.as_deref() == base_etag) || sent.sent.iter().any(other)
}

/// Whether series `ev` differs from its `base` only in removed dates that are no
/// occurrence of it (see [`without_idle_removals`]): the same rule, added dates and
/// everything else, to the field.
fn only_idle_removals(base: &RemoteEvent, ev: &RemoteEvent, calendar_id: &str) -> bool {
    let (Some(theirs), Some(ours)) = (&base.recurrence, &ev.recurrence) else {
        return false;
    };
    let there = without_idle_removals(ev, calendar_id);
    there.recurrence.as_ref().map(|r| r.exdates.len()) != Some(ours.exdates.len())
        && theirs.rrule == ours.rrule
        && theirs.rdates == ours.rdates
        && changed_fields(base, ev) == [crate::merge::Field::Recurrence]
        && there
            .recurrence
            .is_some_and(|r| same_set(&r.exdates, &theirs.exdates))
}

/// The same start and end (a zone spelled another way, or another zone with the same
/// instants, is no new time to Graph's pattern).
fn same_times(a: &Timing, b: &Timing) -> bool {
    match (a, b) {
        (
            Timing::Timed {
                start: s1, end: e1, ..
            },
            Timing::Timed {
                start: s2, end: e2, ..
            },
        ) => s1 == s2 && e1 == e2,
        _ => a == b,
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<&String> = a.iter().collect();
    let b: BTreeSet<&String> = b.iter().collect();
    a == b
}

/// Whether `base`, Graph's answer to `sent`, lacks some removed occurrences sent and
/// differs in nothing else, after an update that changed the series' pattern or times
/// (from `before`): Graph dropped its cancellations then, and deleting their instances
/// again restores them. (At most once: the next pass changes neither.)
fn removals_dropped(base: &RemoteEvent, sent: &RemoteEvent, before: Option<&RemoteEvent>) -> bool {
    let (Some(theirs), Some(ours), Some(before)) = (&base.recurrence, &sent.recurrence, before)
    else {
        return false;
    };
    let moved = !same_times(&before.timing, &sent.timing)
        || before.recurrence.as_ref().map(|r| &r.rrule) != Some(&ours.rrule);
    if !moved || ours.exdates.iter().all(|d| theirs.exdates.contains(d)) {
        return false;
    }
    let mut like = sent.clone();
    if let Some(r) = like.recurrence.as_mut() {
        r.exdates.clone_from(&theirs.exdates);
    }
    same_to_the_user(base, &like)
}

enum Outcome {
    Done,
    Remerged,
}

/// How a deletion met by a 412 was tried again (see
/// [`Pusher::delete_plain_instance`]).
enum Retried {
    /// Not tried again: the 412 stands, and the provider's version is merged.
    No,
    /// Sent again, with this answer (or failed on the way, for a while).
    Sent(Result<Deleted, ProviderError>),
    /// Its series changed there: merged, the deletion goes on a later pass.
    Remerged,
}

/// How removing a series' occurrences at the provider went.
enum Removal {
    Done,
    /// Some removal now waits apart from the series, or the series changed there:
    /// the series is read again before it goes out.
    Held,
}

/// Whether one removed occurrence stays out of the series' update.
enum Withheld {
    No,
    /// No, and the instance carries a change of ours that landed unanswered: an
    /// exception there, which a series' EXDATE may leave standing (Google keeps a
    /// changed instance as an event of its own, listed as it is): deleted as well.
    Ours,
    Yes,
    /// The series changed there: merged again, nothing deleted.
    SeriesChanged,
}

/// What pending delete `o` keeps of the row it deleted.
fn pending_delete(o: &OutboxRow) -> Option<almanac_store::PendingDelete> {
    o.payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
}

/// The instance a pending delete `o` named is gone at the provider: where it was an
/// occurrence of a series here, the series has that removal (see
/// [`crate::apply::removal_back_of`]) — `into_base`: the provider's series names it
/// among its removed occurrences (Graph's `cancelledOccurrences`, after a delete that
/// found the instance), so in its base too, unless the series was made again here
/// since (then a change to send).
fn removal_done(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    o: &OutboxRow,
    into_base: bool,
) -> Result<(), SyncError> {
    let Some(p) = pending_delete(o).filter(|p| p.occurrence.is_some()) else {
        return Ok(());
    };
    if let Some(link) = deleted_as(tx, &p)?.and_then(|d| d.series) {
        crate::apply::removal_back_of(tx, calendar_id, &link, p.occurrence.as_ref(), into_base)?;
    }
    Ok(())
}

/// The row pending delete `p` deleted, as the provider's event: its base, read with
/// its series' row as it is now where it is the row as it was deleted (an
/// occurrence's row names its series by local id only).
fn deleted_as(
    tx: &SyncTx<'_, '_>,
    p: &almanac_store::PendingDelete,
) -> Result<Option<RemoteEvent>, SyncError> {
    let row = p.base.as_deref().and_then(almanac_store::base_row);
    let series = match row.and_then(|r| r.series_id) {
        Some(id) => tx.event(&id)?.and_then(|row| MasterInfo::of(&id, &row)),
        None => None,
    };
    let of = |id: &str| series.as_ref().filter(|m| m.local_id == id);
    Ok(base_of(
        p.base.as_deref(),
        EntryState::LocallyDeleted,
        None,
        of,
    ))
}

/// `ev` with what Almanac does not edit — reminder, sensitivity, people, meeting
/// and the provider-only form — as the provider's `instance` has it.
fn filled(ev: &RemoteEvent, instance: &RemoteEvent) -> RemoteEvent {
    RemoteEvent {
        extra: instance.extra.clone(),
        reminder_minutes: instance.reminder_minutes,
        sensitivity: instance.sensitivity,
        attendees: instance.attendees.clone(),
        organizer: instance.organizer.clone(),
        online_meeting: instance.online_meeting.clone(),
        ..ev.clone()
    }
}

/// Fills `row`, occurrence `id` as it is now, with what Almanac does not edit as the
/// provider's `instance` has it (see [`filled`]), unless a provider copy filled it
/// already: the row then says what goes out, and the answer finds nothing of ours
/// left to send. The row is the one in this transaction, not the one the push began
/// with: the user may have changed it while the provider was asked, and that newer
/// change goes out after the answer. Only those fields are set (no conversion through
/// the series, which may have changed here meanwhile too).
fn write_filled(
    tx: &mut SyncTx<'_, '_>,
    id: &str,
    mut row: SyncedEvent,
    instance: &RemoteEvent,
) -> Result<(), SyncError> {
    let filled_before = !crate::convert::extra_of(&row).is_empty();
    let Some(state) = tx.entry_sync(id)?.filter(|_| !filled_before) else {
        return Ok(());
    };
    row.reminder_minutes = instance.reminder_minutes;
    row.sensitivity = instance.sensitivity;
    row.attendees = instance.attendees.clone();
    row.organizer = instance.organizer.clone();
    row.online_meeting = instance.online_meeting.clone();
    row.provider_extra = instance.extra.to_json();
    tx.write_event(
        Some(id),
        &row,
        state.state,
        state.base.as_deref(),
        state.base_etag.as_deref(),
    )?;
    Ok(())
}

/// The provider's instance of an occurrence changed here, against that occurrence as
/// this computer last synced its series.
enum Seen {
    /// Unchanged: ours goes out as an update of it.
    AsKnown,
    /// Changed there, its series as known: merged with ours first.
    ChangedThere,
    /// Its series changed there (as the provider has it now; `None`: gone): the
    /// series is merged first.
    SeriesChanged(Option<Box<RemoteEvent>>),
}

/// Whether `a` and `b` differ in nothing a user edits. The body by its words: a
/// provider renders plain text as HTML, and its text read back may space its lines
/// otherwise. The times by their instants: Graph can name the second pass of a DST
/// fold only in UTC, and answers with that zone.
fn same_to_the_user(a: &RemoteEvent, b: &RemoteEvent) -> bool {
    !changed_fields(a, b).iter().any(|f| match f {
        crate::merge::Field::Body => !a
            .body_text
            .split_whitespace()
            .eq(b.body_text.split_whitespace()),
        crate::merge::Field::Timing => !same_instants(&a.timing, &b.timing),
        f => user_field(f),
    })
}

/// Whether two timings are the same span of time, whatever zone names them.
fn same_instants(a: &Timing, b: &Timing) -> bool {
    match (a, b) {
        (
            Timing::Timed { start, end, .. },
            Timing::Timed {
                start: s2, end: e2, ..
            },
        ) => start == s2 && end == e2,
        _ => a == b,
    }
}

/// A field the user edits (the rest — attendees' answers, the organizer, a meeting's
/// join details, provider-only properties — the provider fills in).
fn user_field(f: &crate::merge::Field) -> bool {
    use crate::merge::Field;
    matches!(
        f,
        Field::Title
            | Field::Body
            | Field::Timing
            | Field::ShowAs
            | Field::Importance
            | Field::Sensitivity
            | Field::Categories
            | Field::Location
            | Field::Recurrence
            | Field::Reminder
            | Field::Cancelled
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_provider::{RemoteKind, RemoteRecurrence, Timing};

    /// A series from the 10th at 09:00, every other day, as Graph has it (no
    /// removed date), and the same with the 11th removed — no occurrence of it.
    fn series() -> (RemoteEvent, RemoteEvent) {
        let mut base = crate::plan::tests::ev("s1", "1");
        base.kind = RemoteKind::Master;
        base.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;INTERVAL=2".into(),
            exdates: vec![],
            rdates: vec![],
        });
        let base = normalise(&base, "cal", None).unwrap_or_else(|e| panic!("{e}"));
        let mut ev = base.clone();
        if let Some(r) = ev.recurrence.as_mut() {
            r.exdates.push("2026-03-11T09:00:00".into());
        }
        (base, ev)
    }

    #[test]
    fn only_a_removed_date_that_is_no_occurrence_goes_unsent() {
        let (base, ev) = series();
        assert!(only_idle_removals(&base, &ev, "cal"));
        // Nothing idle: nothing to settle that way.
        assert!(!only_idle_removals(&base, &base, "cal"));
        // An occurrence really removed goes out.
        let mut real = base.clone();
        if let Some(r) = real.recurrence.as_mut() {
            r.exdates.push("2026-03-12T09:00:00".into());
        }
        assert!(!only_idle_removals(&base, &real, "cal"));
        // Another zone with the same instants is an edit (its summer times move), and
        // so is any other field changed with the idle date.
        let mut zone = ev.clone();
        if let Timing::Timed { time_zone, .. } = &mut zone.timing {
            *time_zone = "Africa/Accra".into();
        }
        assert!(!only_idle_removals(&base, &zone, "cal"));
        let mut text = ev.clone();
        text.body_text = "agenda ".into();
        assert!(!only_idle_removals(&base, &text, "cal"));
    }
}
