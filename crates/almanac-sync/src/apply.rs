//! The executor's inner half: carrying out a [`Plan`]'s ops inside one [`SyncTx`].

use std::collections::HashSet;

use almanac_provider::{OriginalStart, RemoteEvent, RemoteKind};
use almanac_store::{
    CheckedEvent, EntryState, EntrySync, NewConflict, OutboxOp, SyncTx, SyncedEvent,
};

use crate::convert::{from_row, into_row, left_behind_key, to_row, MasterInfo};
use crate::error::SyncError;
use crate::local::{conflict_kind_str, snapshot, Local};
use crate::merge::{
    changed_fields, resolve_deleted, ConflictKind, Field, Policy, Resolution, Side,
};
use crate::plan::{MergedBy, Op, Plan};

/// What applying a plan did, for the run's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub changed: usize,
    pub conflicts: usize,
    pub skipped: usize,
    /// Why the first op skipped was not kept (see [`apply_answer`]).
    pub skipped_why: Option<String>,
    /// A series came back here from the provider: its changed occurrences went with
    /// its local deletion and no later round lists them, so the calendar must be
    /// listed again (its cursor dropped).
    pub relist: bool,
    /// The copy a "keep both" made of this computer's version (its local id).
    pub copy: Option<String>,
}

impl std::ops::AddAssign for Applied {
    fn add_assign(&mut self, more: Applied) {
        self.changed += more.changed;
        self.conflicts += more.conflicts;
        self.skipped += more.skipped;
        self.skipped_why = self.skipped_why.take().or(more.skipped_why);
        self.relist |= more.relist;
        self.copy = self.copy.take().or(more.copy);
    }
}

pub(crate) struct Ctx<'a> {
    pub calendar_id: &'a str,
    /// The run to log actions under (`None`: a user's resolution, recorded on the
    /// conflict itself).
    pub run_id: Option<i64>,
    pub local: &'a Local,
    /// The calendar's conflict policy, for the conflicts met while applying a series
    /// changed at the provider to the changes here of its occurrences (rebase.rs).
    pub policy: Policy,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn log(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    event_id: Option<&str>,
    calendar_id: &str,
    direction: &str,
    action: &str,
    fields: &[String],
    reason: &str,
) -> Result<(), almanac_store::StoreError> {
    match ctx.run_id {
        Some(run) => tx.action(
            run,
            event_id,
            calendar_id,
            direction,
            action,
            fields,
            reason,
        ),
        None => Ok(()),
    }
}

/// The series of `ev` as the store has it now (a master applied earlier in the same
/// transaction included).
pub(crate) fn master_of(
    tx: &SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ev: &RemoteEvent,
) -> Result<Option<MasterInfo>, SyncError> {
    let Some(link) = &ev.series else {
        return Ok(None);
    };
    if !matches!(ev.kind, RemoteKind::Exception | RemoteKind::Occurrence) {
        return Ok(None);
    }
    let Some(local_id) = tx.local_id_of(ctx.calendar_id, &link.master_id)? else {
        return Ok(None);
    };
    Ok(tx
        .event(&local_id)?
        .and_then(|row| MasterInfo::of(&local_id, &row)))
}

fn row_of(
    tx: &SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ev: &RemoteEvent,
) -> Result<Result<SyncedEvent, String>, SyncError> {
    let master = master_of(tx, ctx, ev)?;
    let left = left_behind_here(tx, ctx, ev, master.as_ref())?;
    Ok(
        to_row(ev, ctx.calendar_id, master.as_ref()).and_then(|mut row| {
            if let Some((m, original)) = left {
                row.original_start = Some(left_behind_key(&original, &m, &row.input)?);
            }
            Ok(row)
        }),
    )
}

/// [`row_of`] of an event the op gives up (a page's thousands of new versions).
fn into_row_of(
    tx: &SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ev: RemoteEvent,
) -> Result<Result<CheckedEvent, String>, SyncError> {
    let master = master_of(tx, ctx, &ev)?;
    let left = left_behind_here(tx, ctx, &ev, master.as_ref())?;
    let checked = into_row(ev, ctx.calendar_id, master.as_ref());
    Ok(match (checked, left) {
        (Ok(checked), Some((m, original))) => left_behind_key(&original, &m, &checked.row().input)
            .and_then(|key| {
                if checked.row().original_start.as_deref() == Some(key.as_str()) {
                    return Ok(checked);
                }
                let mut row = checked.into_row();
                row.original_start = Some(key);
                row.check().map_err(|e| e.to_string())
            }),
        (checked, _) => checked,
    })
}

/// Whether `ev` is an occurrence its series left behind by becoming all-day or timed:
/// its original start of the series' other kind, and either Google's (which keeps the
/// kind the series had when the occurrence changed: [`google_left_behind`]) or its row
/// here (same series) keyed so too. Then it keeps a key of that kind
/// (`convert::left_behind_key`, in the frame it is read in): keyed in the series' kind
/// — a time as its UTC date — it could take the key of the day's own changed
/// occurrence (`UNIQUE (series_id, original_start)`), and every later pull of the page
/// would fail. The series and the provider's original start when it is.
fn left_behind_here(
    tx: &SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ev: &RemoteEvent,
    master: Option<&MasterInfo>,
) -> Result<Option<(MasterInfo, OriginalStart)>, SyncError> {
    let (Some(m), Some(link)) = (master, &ev.series) else {
        return Ok(None);
    };
    if !other_kind(&link.original_start, m) || ev.remote_id.is_empty() {
        return Ok(None);
    }
    let left = Some((m.clone(), link.original_start.clone()));
    if google_left_behind(tx, ctx.calendar_id, &link.original_start, m)? {
        return Ok(left);
    }
    let Some(id) = tx.local_id_of(ctx.calendar_id, &ev.remote_id)? else {
        return Ok(None);
    };
    let Some(row) = tx.event(&id)? else {
        return Ok(None);
    };
    let keyed_so = row.series_id.as_deref() == Some(m.local_id.as_str())
        && row
            .original_start
            .as_deref()
            .is_some_and(|k| crate::convert::original_start_of(k, m).is_err());
    Ok(if keyed_so { left } else { None })
}

/// Whether `original` is of the kind series `m` no longer has.
fn other_kind(original: &OriginalStart, m: &MasterInfo) -> bool {
    match original {
        OriginalStart::Timed(_) => m.all_day,
        OriginalStart::AllDay(_) => !m.all_day,
    }
}

/// Whether the occurrence of series `m` at `original` is one the series left behind at
/// Google: Google's original start keeps the kind the series had when the occurrence
/// changed, so one of the other kind is no instance of the series as it is now.
/// (Graph's follows the occurrence's own kind: a timed occurrence of an all-day series
/// is one of its days.)
pub(crate) fn google_left_behind(
    tx: &SyncTx<'_, '_>,
    calendar_id: &str,
    original: &OriginalStart,
    m: &MasterInfo,
) -> Result<bool, SyncError> {
    Ok(other_kind(original, m)
        && tx.calendar_provider(calendar_id)? == Some(almanac_model::Provider::Google))
}

pub(crate) fn names(fields: &[Field]) -> Vec<String> {
    fields.iter().map(|f| f.name().into_owned()).collect()
}

/// An op's version the store would not keep: counted and logged, nothing written.
fn skip(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    local_id: Option<&str>,
    why: &str,
    done: &mut Applied,
) -> Result<(), almanac_store::StoreError> {
    done.skipped += 1;
    done.skipped_why.get_or_insert_with(|| why.to_owned());
    log(
        tx,
        ctx,
        local_id,
        ctx.calendar_id,
        "pull",
        "skipped",
        &[],
        &format!("Not kept locally: {why}."),
    )
}

/// A provider's version replacing (or creating) the local row; `moved`: the series
/// the page changed so far.
/// Occurrence `local_id`, changed here before, is Graph's unchanged instance now,
/// with nothing of ours left to send: its row goes, and its series shows the day
/// again. (Outlook drops a series' changed occurrences when the series' times change,
/// and lists their instances as unchanged under the same ids when the series moved
/// back, or only its end changed: kept, the row would hide the series' later changes
/// of that day for good.)
fn plain_again(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    local_id: &str,
    done: &mut Applied,
) -> Result<(), SyncError> {
    tx.drop_push(local_id)?;
    tx.delete_event(local_id)?;
    log(
        tx,
        ctx,
        Some(local_id),
        ctx.calendar_id,
        "pull",
        "deleted",
        &[],
        "The provider has this occurrence as its series makes it again (the series' \
         times changed there): the change of it is gone.",
    )?;
    done.changed += 1;
    Ok(())
}

fn apply_remote(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    (local_id, event): (Option<&str>, RemoteEvent),
    previous: Option<&RemoteEvent>,
    moved: &[SeriesChange],
    done: &mut Applied,
) -> Result<(), SyncError> {
    let cal = ctx.calendar_id;
    if event.kind == RemoteKind::Occurrence {
        return match local_id {
            Some(id) => plain_again(tx, ctx, id, done),
            None => Ok(()), // its series makes it
        };
    }
    if local_id.is_none() && event.kind == RemoteKind::Exception {
        // Its key may be held by an occurrence changed here the planner could not pair
        // with it: paired now, rather than stored twice under one key.
        if let Some(holder) = crate::rebase::unsent_holder(tx, ctx, &event)? {
            return crate::rebase::link_to_unsent(tx, ctx, &holder, event, moved, done);
        }
    }
    let (action, fields) = match previous {
        Some(p) => ("updated", names(&changed_fields(p, &event))),
        None => ("created", Vec::new()),
    };
    let row = match into_row_of(tx, ctx, event)? {
        Ok(row) => row,
        Err(why) => return Ok(skip(tx, ctx, local_id, &why, done)?),
    };
    // Synced: the row is its own base (nothing stored twice).
    let id = tx.write_checked(
        local_id,
        &row,
        EntryState::Synced,
        None,
        row.row().etag.as_deref(),
    )?;
    if local_id.is_some() {
        tx.drop_push(&id)?; // a new row has nothing queued
    }
    log(
        tx,
        ctx,
        Some(&id),
        cal,
        "pull",
        action,
        &fields,
        "Changed at the provider.",
    )?;
    done.changed += 1;
    Ok(())
}

/// Applies `plan` in `tx`.
pub(crate) fn apply(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    plan: Plan,
) -> Result<Applied, SyncError> {
    let mut done = Applied::default();
    let mut moved = Vec::new();
    for id in &plan.cancelled {
        tx.round_written_add(ctx.calendar_id, id)?;
    }
    apply_in_order(tx, ctx, plan.ops, &mut done, &mut moved)?;
    // After the page's instances: an occurrence the provider changed under the new
    // series is here before the changes made here are carried onto its key.
    rebase_all(tx, ctx, moved, &mut done)?;
    Ok(done)
}

/// Carries out `ops` in order, then rebases the series they changed (as [`apply`]).
pub(crate) fn apply_ops(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ops: Vec<Op>,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let mut moved = Vec::new();
    apply_in_order(tx, ctx, ops, done, &mut moved)?;
    rebase_all(tx, ctx, moved, done)
}

/// Carries out `ops` in order. An event one of them records an open conflict for
/// keeps the conflict it has open through the other ops that would settle it: a link
/// or merge that meets a change there again refreshes that conflict (the user still
/// has to answer it, I7) rather than settling it and opening another.
fn apply_in_order(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    ops: Vec<Op>,
    done: &mut Applied,
    moved: &mut Vec<SeriesChange>,
) -> Result<(), SyncError> {
    let still_open: HashSet<String> = ops
        .iter()
        .filter_map(|op| match op {
            Op::RecordConflict {
                local_id,
                settled_by: None,
                ..
            } => Some(local_id.clone()),
            _ => None,
        })
        .collect();
    for op in ops {
        apply_one(tx, ctx, op, done, moved, &still_open)?;
    }
    Ok(())
}

/// A series changed at the provider: its local id, the version it changed from, and
/// the version it is now.
pub(crate) type SeriesChange = (String, RemoteEvent, RemoteEvent);

fn rebase_all(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    changes: Vec<SeriesChange>,
    done: &mut Applied,
) -> Result<(), SyncError> {
    for (id, old, new) in changes {
        // A series whose change waits in a conflict (our own create linked against a
        // change there of the same field) has not moved here: its occurrences keep
        // their keys until the user decides.
        if tx.open_conflict(&id)?.is_some() {
            continue;
        }
        crate::rebase::rebase_unsent_occurrences(tx, ctx, &id, &old, &new, done)?;
    }
    Ok(())
}

/// Applies one op in `tx`.
pub(crate) fn apply_op(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    op: Op,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let mut moved = Vec::new();
    apply_one(tx, ctx, op, done, &mut moved, &HashSet::new())?;
    rebase_all(tx, ctx, moved, done)
}

/// A user's answer to a conflict: [`apply_op`], but `Err(why)`, before anything more,
/// when the event the answer makes of both sides (merged, or theirs and a copy of
/// ours) cannot be kept here (not valid: a rule that ends before the start picked,
/// say) — the caller fails the transaction, so nothing changes. One side kept whole
/// is skipped as in a pull when it cannot be kept yet (an occurrence whose series
/// has not come here: the series brings it). (The occurrences a series' answer
/// carries along may be skipped one by one too, each logged.)
pub(crate) fn apply_answer(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    op: Op,
    done: &mut Applied,
) -> Result<Result<(), String>, SyncError> {
    let mut moved = Vec::new();
    let combined = matches!(op, Op::Merged { .. } | Op::KeepBoth { .. });
    done.skipped_why = None;
    apply_one(tx, ctx, op, done, &mut moved, &HashSet::new())?;
    if let Some(why) = done.skipped_why.take().filter(|_| combined) {
        return Ok(Err(why));
    }
    rebase_all(tx, ctx, moved, done)?;
    Ok(Ok(()))
}

/// How `policy` settled a conflict (`deletion`: edit/delete or delete/edit), for the
/// audit log.
fn settled_text(policy: Policy, deletion: bool) -> &'static str {
    match (policy, deletion) {
        (Policy::Ask, _) => "Left to you.",
        (Policy::PreferLocal, _) => {
            "Settled by the calendar's policy (prefer this computer): this computer's side kept."
        }
        (Policy::PreferRemote, _) => {
            "Settled by the calendar's policy (prefer the provider): the provider's side kept; the other is in the conflict record."
        }
        (Policy::KeepBoth, false) => {
            "Settled by the calendar's policy (keep both): the provider's version kept, yours as a copy."
        }
        (Policy::KeepBoth, true) => "Settled by the calendar's policy (keep both): the edit kept.",
    }
}

/// The occurrence `local_id`, changed here (`mine`), is gone at the provider (its
/// series no longer has it) — met after the page's plan: settled by the
/// calendar's policy as the planner settles an edit/delete. `prefer_local` and
/// `keep_both` keep the change as an event of its own, sent as new (the series there
/// has no occurrence to hold it); `ask` and `prefer_remote` (a deletion never beats an
/// edit by policy) leave it to the user. Whether the policy settled it.
pub(crate) fn settle_gone_edit(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    local_id: &str,
    base: Option<RemoteEvent>,
    mine: &RemoteEvent,
    done: &mut Applied,
) -> Result<bool, SyncError> {
    let Resolution::Restore {
        event,
        on: Side::Remote,
    } = resolve_deleted(Side::Remote, mine, ctx.policy)
    else {
        return Ok(false);
    };
    for op in [
        Op::RecordConflict {
            local_id: local_id.to_owned(),
            kind: ConflictKind::EditDelete,
            base,
            local: Some(mine.clone()),
            remote: None,
            fields: Vec::new(),
            shown: None,
            settled_by: Some(ctx.policy),
        },
        Op::RecreateRemote {
            local_id: local_id.to_owned(),
            event,
        },
    ] {
        apply_op(tx, ctx, op, done)?;
    }
    Ok(true)
}

/// Carries out one op, which it consumes: the versions it holds move into the rows.
/// [`apply_op`], the series it changed left in `moved` for [`rebase_all`].
fn apply_one(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    op: Op,
    done: &mut Applied,
    moved: &mut Vec<SeriesChange>,
    still_open: &HashSet<String>,
) -> Result<(), SyncError> {
    let cal = ctx.calendar_id;
    let entry = op.local_id().and_then(|id| ctx.local.index.by_local_id(id));
    let previous = entry.and_then(|e| e.current.as_ref());
    // An op that settles the event leaves no conflict behind: a newer provider version
    // merged cleanly, or a policy or the user decided. (Deletions on both sides leave
    // it open for the user — I7 — and its resolution then finds nothing to restore.)
    let settles = match &op {
        Op::Merged { local_id, .. }
        | Op::RestoreLocal { local_id, .. }
        | Op::LinkCreated { local_id, .. }
        | Op::RecreateRemote { local_id, .. } => Some((local_id, "keep_local")),
        Op::KeepBoth { local_id, .. } => Some((local_id, "keep_both")),
        _ => None,
    };
    if let Some((id, resolution)) = settles.filter(|(id, _)| !still_open.contains(*id)) {
        tx.settle_conflicts(id, resolution)?;
    }
    // A series changed at the provider: the version it changed from, and to.
    let series_change = match &op {
        Op::ApplyRemote {
            local_id: Some(id),
            event,
        }
        | Op::Merged {
            local_id: id,
            base: event,
            ..
        } if event.kind == RemoteKind::Master => entry
            .and_then(|e| e.base.as_ref().or(e.current.as_ref()))
            .filter(|old| old.kind == RemoteKind::Master)
            .map(|old| (id.clone(), old.clone(), event.clone())),
        // Our own series found at the provider (its create's answer lost), changed
        // there since (moved, say) and taken: what was changed here in its occurrences
        // since it was created follows it as for any series changed there. From the
        // row as it was (whose keys they are) to the row as linked — where ours won,
        // nothing moves —, with the provider's removed dates only, so that ours not
        // sent yet are carried (a create at Graph carries none; those a create at
        // Google sent, its version has).
        Op::LinkCreated {
            local_id: id,
            event,
            base,
            ..
        } if event.kind == RemoteKind::Master => previous
            .filter(|old| old.kind == RemoteKind::Master)
            .map(|old| {
                let mut old = old.clone();
                if let Some(r) = old.recurrence.as_mut() {
                    r.exdates.clear();
                }
                let mut new = event.clone();
                if let Some(r) = new.recurrence.as_mut() {
                    r.exdates = base
                        .recurrence
                        .as_ref()
                        .map(|b| b.exdates.clone())
                        .unwrap_or_default();
                }
                (id.clone(), old, new)
            }),
        _ => None,
    };
    let op = match op {
        Op::ApplyRemote { local_id, event } => {
            apply_remote(tx, ctx, (local_id.as_deref(), event), previous, moved, done)?;
            moved.extend(series_change);
            return Ok(());
        }
        op => op,
    };
    match &op {
        Op::ApplyRemote { .. } => {} // carried out above, by value
        Op::DeleteLocal { local_id } => {
            // An occurrence deleted here, and there too: where its removal waited apart
            // from its series, the series has it again.
            let deleted_here = entry.filter(|e| e.current.is_none());
            // (Its base is read with its series' row: the store loads that row with
            // every pending deletion of an occurrence.)
            let series = deleted_here
                .and_then(|e| e.base.as_ref())
                .and_then(|base| base.series.clone());
            if let Some(link) = series {
                match pending_occurrence(tx, local_id)? {
                    // Graph: its series moved on this page, which dropped the instance
                    // (see `rebase::hold_again`), and its key names no occurrence of the
                    // series as it is now: the removal goes back under that key, which
                    // the series' rebase moves with it.
                    Some(k)
                        if ctx.local.index.removals_on_series()
                            && moved.iter().any(|(id, ..)| *id == k.series_id)
                            && !tx.has_occurrence(&k.series_id, &k.original_start)?
                            && !crate::rebase::changed_here_since(
                                tx,
                                &k.series_id,
                                &k.original_start,
                            )? =>
                    {
                        let key = [k.original_start];
                        crate::rebase::hold_again(tx, ctx, &k.series_id, &key)?;
                    }
                    // (One changed here since stands for it: `removal_back_of` finds
                    // that change and puts nothing back.)
                    Some(k) => {
                        removal_back_of(tx, cal, &link, Some(&k), false)?;
                    }
                    None => {}
                }
            }
            tx.delete_event(local_id)?;
            // A series: the deletions of its instances waiting for its own (see the
            // pusher's `ready`) went with it. (A tombstone may know nothing of its
            // kind: only an occurrence is sure to have none.)
            let occurrence = entry
                .and_then(|e| e.current.as_ref().or(e.base.as_ref()))
                .is_some_and(|e| e.series.is_some());
            if !occurrence {
                tx.drop_occurrence_deletes(local_id)?;
            }
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "deleted",
                &[],
                "Deleted at the provider.",
            )?;
            done.changed += 1;
        }
        Op::Merged {
            local_id,
            merged,
            base,
            apply_locally,
            push,
            by,
        } => {
            let state = if *push {
                EntryState::LocallyModified
            } else {
                EntryState::Synced
            };
            if *apply_locally && !*push && merged.kind == RemoteKind::Occurrence {
                return plain_again(tx, ctx, local_id, done);
            }
            let base_json = snapshot(base);
            if *apply_locally {
                let row = match row_of(tx, ctx, merged)? {
                    Ok(row) => row,
                    Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
                };
                tx.write_event(
                    Some(local_id),
                    &row,
                    state,
                    Some(&base_json),
                    base.etag.as_deref(),
                )?;
            } else {
                tx.set_sync(local_id, state, Some(&base_json), base.etag.as_deref())?;
                tx.set_base_etag(local_id, base.etag.as_deref())?;
            }
            if *push {
                tx.queue_push(local_id, cal, OutboxOp::Update, None)?;
            } else {
                tx.drop_push(local_id)?;
            }
            let fields = previous
                .map(|p| names(&changed_fields(p, merged)))
                .unwrap_or_default();
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "merged",
                &fields,
                match by {
                    MergedBy::Clean => "Changed on both sides in different fields: merged.",
                    MergedBy::Policy => {
                        "Changed on both sides in the same field: settled by the calendar's conflict policy."
                    }
                    MergedBy::User => "Conflict resolved by you.",
                },
            )?;
            done.changed += 1;
            moved.extend(series_change);
        }
        Op::RecordConflict {
            local_id,
            kind,
            base,
            local,
            remote,
            fields,
            shown,
            settled_by,
        } => {
            if let Some(shown) = shown {
                let kept = ctx
                    .local
                    .stored
                    .get(local_id)
                    .cloned()
                    .unwrap_or(EntrySync {
                        state: EntryState::LocallyModified,
                        base: None,
                        base_etag: None,
                    });
                // A synced row is its own base: written out before the row changes.
                let kept_base = match (&kept.base, kept.state) {
                    (None, EntryState::Synced) => entry.and_then(|e| e.base.as_ref()).map(snapshot),
                    (b, _) => b.clone(),
                };
                if *kind == ConflictKind::EditDelete {
                    // The row as it is (`shown` is how the plan found it): an op
                    // before this one may have changed it since — a removal put back
                    // into this series by its occurrence's deletion on the same page —,
                    // which wrote its base and state too.
                    let now = tx.entry_sync(local_id)?;
                    if now.is_some_and(|s| s.state == kept.state && s.base == kept.base) {
                        tx.set_sync(
                            local_id,
                            kept.state,
                            kept_base.as_deref(),
                            kept.base_etag.as_deref(),
                        )?;
                    }
                } else if let Ok(row) = row_of(tx, ctx, shown)? {
                    tx.write_event(
                        Some(local_id),
                        &row,
                        kept.state,
                        kept_base.as_deref(),
                        kept.base_etag.as_deref(),
                    )?;
                }
            }
            let field_names: Vec<String> =
                fields.iter().map(|f| f.field.name().into_owned()).collect();
            tx.record_conflict(&NewConflict {
                event_id: local_id.clone(),
                calendar_id: cal.to_owned(),
                kind: conflict_kind_str(*kind).to_owned(),
                base: base.as_ref().map(snapshot),
                local: local.as_ref().map(snapshot),
                remote: remote.as_ref().map(snapshot),
                fields: serde_json::to_string(fields).unwrap_or_else(|_| "[]".into()),
                settled_by_policy: settled_by.and_then(Policy::resolution).map(str::to_owned),
            })?;
            let what = match kind {
                ConflictKind::EditEdit => "Changed on both sides in the same field.",
                ConflictKind::EditDelete => "Changed here, deleted at the provider.",
                ConflictKind::DeleteEdit => "Deleted here, changed at the provider.",
            };
            let reason = match settled_by {
                Some(p) => format!(
                    "{what} {}",
                    settled_text(*p, *kind != ConflictKind::EditEdit)
                ),
                None => what.to_owned(),
            };
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "conflict",
                &field_names,
                &reason,
            )?;
            // Only a conflict left to the user counts (and is notified).
            done.conflicts += usize::from(settled_by.is_none());
        }
        Op::KeepBoth {
            local_id,
            remote,
            copy,
        } => {
            // Ours first: replacing the row with theirs and then failing to keep the
            // copy would lose it.
            let copy_row = match to_row(copy, cal, None) {
                Ok(row) => row,
                Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
            };
            if remote.kind == RemoteKind::Occurrence {
                // Theirs is the series' own occurrence again: its row goes (see
                // `plain_again`), ours stays as the copy.
                plain_again(tx, ctx, local_id, done)?;
            } else {
                let row = match row_of(tx, ctx, remote)? {
                    Ok(row) => row,
                    Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
                };
                tx.write_event(
                    Some(local_id),
                    &row,
                    EntryState::Synced,
                    None,
                    remote.etag.as_deref(),
                )?;
                tx.drop_push(local_id)?;
                done.changed += 1;
            }
            let id = tx.write_event(None, &copy_row, EntryState::LocallyCreated, None, None)?;
            tx.queue_push(&id, cal, OutboxOp::Create, None)?;
            done.copy = Some(id.clone());
            log(
                tx,
                ctx,
                Some(&id),
                cal,
                "pull",
                "kept both",
                &[],
                "Your version kept as a copy.",
            )?;
        }
        Op::RestoreLocal { local_id, event } => {
            let made_again = match &event.series {
                Some(link) => {
                    series_made_again(tx, cal, link, pending_occurrence(tx, local_id)?.as_ref())?
                }
                None => None,
            };
            let row = match &made_again {
                Some(series) => into_series_made_again(tx, event, cal, series)?,
                None => row_of(tx, ctx, event)?,
            };
            let row = match row {
                Ok(row) => row,
                Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
            };
            let last = pending_delete(tx, local_id)?.and_then(|p| p.last);
            tx.drop_push(local_id)?;
            let mut later = changed_since(tx, local_id, &row)?;
            if let Some((hidden, true)) = &later {
                // A hidden occurrence's marker: the restored version takes its place.
                tx.delete_event(hidden)?;
                later = None;
            }
            if let Some((later, _)) = later {
                // An occurrence removed here, its removal held apart from the series
                // while the user decided, then changed here all the same: that change
                // stands for the occurrence now, and goes out to meet theirs (merged,
                // or a conflict of its own), like any change of an occurrence.
                log(
                    tx,
                    ctx,
                    Some(&later),
                    cal,
                    "pull",
                    "restored",
                    &[],
                    "Deleted here, changed at the provider, then changed here again: \
                     your later change goes out.",
                )?;
                done.changed += 1;
                return Ok(());
            }
            if made_again.is_some() {
                // Theirs went with the series deleted there: here it is a change of
                // that day of the series made again, sent as its first change.
                tx.write_event(Some(local_id), &row, EntryState::LocallyCreated, None, None)?;
                tx.queue_push(local_id, cal, OutboxOp::Create, None)?;
            } else {
                tx.write_event(
                    Some(local_id),
                    &row,
                    EntryState::Synced,
                    None,
                    event.etag.as_deref(),
                )?;
                let base = entry.and_then(|e| e.base.as_ref());
                let kept = removals_kept(tx, cal, local_id, last.as_deref(), base)?;
                if kept > 0 {
                    log(
                        tx,
                        ctx,
                        Some(local_id),
                        cal,
                        "pull",
                        "updated",
                        &["recurrence".to_owned()],
                        &format!(
                            "Brought back from the provider without the {kept} \
                             occurrence(s) removed here before its deletion."
                        ),
                    )?;
                }
            }
            // Its occurrence is no longer removed: a removal here not yet sent with
            // the series would hide it again (or delete it, where removals go out as
            // deletes of instances).
            if let (Some(series), Some(key)) = (&row.series_id, &row.original_start) {
                let info = tx
                    .event(series)?
                    .map(|m| MasterInfo::of_or_unsent(series, &m));
                if let Some(info) = info {
                    if let Ok(original) = crate::convert::original_start_of(key, &info) {
                        withdraw_removal(tx, &info, &original)?;
                    }
                }
            }
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "restored",
                &[],
                "Deleted here but changed at the provider: kept.",
            )?;
            done.changed += 1;
            done.relist |= event.kind == RemoteKind::Master;
        }
        Op::RecreateRemote { local_id, event } => {
            // (An occurrence its series no longer has comes as a single event: the
            // resolution's fresh copy has no series.)
            let row = match to_row(event, cal, None) {
                Ok(row) => row,
                Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
            };
            tx.write_event(Some(local_id), &row, EntryState::LocallyCreated, None, None)?;
            // A new event at the provider: a new idempotency key too (the old one may
            // name the event the provider deleted).
            tx.drop_push(local_id)?;
            tx.queue_push(local_id, cal, OutboxOp::Create, None)?;
            if event.kind == RemoteKind::Master {
                // Its changed occurrences belong to the new series: each is sent again,
                // as an instance of it, once it exists (not to the deleted one's).
                for id in tx.instances_of(local_id)? {
                    let Some(mut row) = tx.event(&id)? else {
                        continue;
                    };
                    row.remote_id = None;
                    row.etag = None;
                    tx.write_event(Some(&id), &row, EntryState::LocallyCreated, None, None)?;
                    tx.drop_push(&id)?;
                    tx.queue_push(&id, cal, OutboxOp::Create, None)?;
                }
            }
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "recreated",
                &[],
                "Deleted at the provider but changed here: sent again.",
            )?;
            done.changed += 1;
        }
        Op::KeepLocalDeletion { local_id, base } => {
            // The deletion of an occurrence (see `DeletePayload::occurrence`): its
            // series takes the removal back now, if it waited apart from it (hidden
            // here at once) — unless the occurrence was changed here since, which then
            // stands for it.
            let occurrence = pending_occurrence(tx, local_id)?;
            if let Some(link) = base.series.as_ref().filter(|_| occurrence.is_some()) {
                // Its instance gone with the series deleted there, the day is the series
                // made again here to remove, as a change of its own.
                let made_again = series_made_again(tx, cal, link, occurrence.as_ref())?.is_some();
                let back = removal_back_of(tx, cal, link, occurrence.as_ref(), false)?;
                if made_again || back == Back::ChangedSince {
                    tx.drop_push(local_id)?;
                    return Ok(());
                }
            }
            let last = pending_delete(tx, local_id)?.and_then(|p| p.last);
            let payload = serde_json::json!({
                "remoteId": base.remote_id,
                "etag": base.etag,
                "base": snapshot(base),
                "occurrence": occurrence,
                "last": last,
            })
            .to_string();
            tx.queue_push(local_id, cal, OutboxOp::Delete, Some(&payload))?;
        }
        Op::LinkCreated {
            local_id,
            event,
            base,
            push,
        } => {
            let row = match row_of(tx, ctx, event)? {
                Ok(row) => row,
                Err(why) => return Ok(skip(tx, ctx, Some(local_id), &why, done)?),
            };
            let state = if *push {
                EntryState::LocallyModified
            } else {
                EntryState::Synced
            };
            tx.write_event(
                Some(local_id),
                &row,
                state,
                Some(&snapshot(base)),
                base.etag.as_deref(),
            )?;
            if *push {
                tx.queue_push(local_id, cal, OutboxOp::Update, None)?;
            } else {
                tx.drop_push(local_id)?;
            }
            // What the link took from the provider's version into ours (its own
            // form, `extra`, aside: ours never had one): a change made there to an
            // occurrence changed here, the reminder its series got there, the
            // removals Graph answers a new series with — said, not silent.
            let taken: Vec<Field> = previous
                .map(|p| changed_fields(p, event))
                .unwrap_or_default()
                .into_iter()
                .filter(|f| !matches!(f, Field::Extra(_)))
                .collect();
            let reason = match (event.kind == RemoteKind::Exception, taken.is_empty()) {
                (true, true) => {
                    "An occurrence changed here, matched with the provider's instance of it."
                }
                (true, false) => {
                    "An occurrence changed here, matched with the provider's instance of \
                     it; the fields listed are taken from the provider's version."
                }
                (false, true) => "Our own create, seen at the provider.",
                (false, false) => {
                    "Our own create, seen at the provider; the fields listed are taken \
                     from the provider's version."
                }
            };
            log(
                tx,
                ctx,
                Some(local_id),
                cal,
                "pull",
                "linked",
                &names(&taken),
                reason,
            )?;
            moved.extend(series_change);
        }
        Op::AcknowledgeEcho { local_id, etag } => {
            tx.set_base_etag(local_id, etag.as_deref())?;
        }
    }
    Ok(())
}

/// Another row here for the occurrence `row` restores (an exception of the same
/// series at the same start), and whether it is a cancelled one (the marker of a
/// hidden occurrence); else a change made here after `local_id`'s deletion.
fn changed_since(
    tx: &SyncTx<'_, '_>,
    local_id: &str,
    row: &SyncedEvent,
) -> Result<Option<(String, bool)>, SyncError> {
    let (Some(series), Some(key)) = (&row.series_id, &row.original_start) else {
        return Ok(None);
    };
    for id in tx.instances_of(series)? {
        if id == local_id {
            continue;
        }
        if let Some(r) = tx
            .event(&id)?
            .filter(|r| r.original_start.as_ref() == Some(key))
        {
            return Ok(Some((id, r.cancelled)));
        }
    }
    Ok(None)
}

/// Takes the removal of the occurrence at `original` out of series `info`'s row, not
/// yet sent: a pending delete of its instance holds it instead, or the instance is
/// restored here. The series' sync state and base stay as they are.
pub(crate) fn withdraw_removal(
    tx: &mut SyncTx<'_, '_>,
    info: &MasterInfo,
    original: &OriginalStart,
) -> Result<(), SyncError> {
    let (Some(mut row), Some(stored)) = (tx.event(&info.local_id)?, tx.entry_sync(&info.local_id)?)
    else {
        return Ok(());
    };
    if stored.state == EntryState::Synced {
        return Ok(()); // its base is the row itself: nothing of ours to take back
    }
    let Some(rule) = row.input.recurrence.as_mut() else {
        return Ok(());
    };
    let before = rule.exdates.len();
    rule.exdates
        .retain(|x| !crate::convert::original_start_of(x, info).is_ok_and(|o| &o == original));
    if rule.exdates.len() == before {
        return Ok(());
    }
    tx.write_event(
        Some(&info.local_id),
        &row,
        stored.state,
        stored.base.as_deref(),
        stored.base_etag.as_deref(),
    )?;
    Ok(())
}

/// What the pending delete of `local_id` keeps of the row it deleted, if any.
fn pending_delete(
    tx: &SyncTx<'_, '_>,
    local_id: &str,
) -> Result<Option<almanac_store::PendingDelete>, SyncError> {
    Ok(tx
        .pending(local_id)?
        .filter(|o| o.op == OutboxOp::Delete)
        .and_then(|o| o.payload)
        .and_then(|p| serde_json::from_str::<almanac_store::PendingDelete>(&p).ok()))
}

/// The occurrence a pending delete of `local_id` deletes (see
/// `DeletePayload::occurrence`).
fn pending_occurrence(
    tx: &SyncTx<'_, '_>,
    local_id: &str,
) -> Result<Option<almanac_store::OccurrenceKey>, SyncError> {
    Ok(pending_delete(tx, local_id)?.and_then(|p| p.occurrence))
}

/// Series `local_id`, brought back from the provider after its deletion here (its row
/// now the provider's version): the occurrences removed in it here and not sent before
/// the deletion (`last`, the row as it was deleted, against `base`, the version it was
/// deleted from) stay removed, as changes of it to send — the series' deletion did not
/// undo them, and bringing it back must not either (I1). So do the days whose
/// deletion waits apart from it (keyed as in `last`). Moved since (there, or here
/// before the deletion), each goes the way a series edit would carry it. How many.
fn removals_kept(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    local_id: &str,
    last: Option<&str>,
    base: Option<&RemoteEvent>,
) -> Result<usize, SyncError> {
    let Some(last) = last.and_then(almanac_store::base_row) else {
        return Ok(0);
    };
    let Some(row) = tx.event(local_id)? else {
        return Ok(0);
    };
    let (Ok(was), Ok(now)) = (from_row(&last, None), from_row(&row, None)) else {
        return Ok(0);
    };
    let specs = crate::convert::series_spec(&was, calendar_id)
        .zip(crate::convert::series_spec(&now, calendar_id));
    let Some((old_spec, new_spec)) = specs else {
        return Ok(0);
    };
    let before = MasterInfo::of_or_unsent(local_id, &last);
    let sent: Vec<OriginalStart> = base
        .and_then(|b| b.recurrence.as_ref().map(|r| (b, r)))
        .map(|(b, r)| {
            let info = MasterInfo::of_remote(local_id, b);
            r.exdates
                .iter()
                .filter_map(|x| crate::convert::original_start_of(x, &info).ok())
                .collect()
        })
        .unwrap_or_default();
    // The days whose deletion waits apart: their instances may be gone there already
    // (Outlook drops changed occurrences with a move, perhaps listed later on this
    // page), and while not, their own deletes go first (`Pusher::withhold_removal`).
    let held: Vec<String> = tx
        .occurrence_deletes(calendar_id, local_id)?
        .into_iter()
        .map(|(_, k)| k.original_start)
        .collect();
    let mut removed: Vec<_> = was
        .recurrence
        .iter()
        .flat_map(|r| r.exdates.iter())
        .filter(|d| crate::convert::original_start_of(d, &before).is_ok_and(|o| !sent.contains(&o)))
        .chain(held.iter())
        .filter_map(|d| almanac_model::instance_key("removed date", d, old_spec.all_day).ok())
        .collect();
    removed.sort();
    removed.dedup();
    let way = almanac_store::Carry::choose(&old_spec, &new_spec, &removed);
    let info = MasterInfo::of_or_unsent(local_id, &row);
    let count = |tx: &SyncTx<'_, '_>| -> Result<usize, SyncError> {
        Ok(tx
            .event(local_id)?
            .and_then(|r| r.input.recurrence)
            .map_or(0, |r| r.exdates.len()))
    };
    let had = count(tx)?;
    for key in removed {
        let to = way.map_or(key, |w| w.wall(key));
        let text = crate::convert::key_text(to, new_spec.all_day);
        // (One the series has no occurrence for any more removes nothing.)
        if let Ok(original) = crate::convert::original_start_of(&text, &info) {
            removal_back_into(tx, calendar_id, local_id, &original, false)?;
        }
    }
    Ok(count(tx)?.saturating_sub(had))
}

/// The series the occurrence a pending deletion removes (`key`) belongs to here, when
/// the provider no longer knows it by the id `link` names: deleted there and made
/// again here ("keep mine") while the occurrence's conflict waited. The provider's
/// instance went with the old series; that day is the new series' to keep or remove.
fn series_made_again(
    tx: &SyncTx<'_, '_>,
    calendar_id: &str,
    link: &almanac_provider::SeriesLink,
    key: Option<&almanac_store::OccurrenceKey>,
) -> Result<Option<MasterInfo>, SyncError> {
    match key {
        Some(key) => made_again_as(tx, calendar_id, link, &key.series_id),
        None => Ok(None),
    }
}

/// Series `series_id` here, when it is the one `link` named and the provider no
/// longer knows it by that id (see [`series_made_again`]).
fn made_again_as(
    tx: &SyncTx<'_, '_>,
    calendar_id: &str,
    link: &almanac_provider::SeriesLink,
    series_id: &str,
) -> Result<Option<MasterInfo>, SyncError> {
    if tx.local_id_of(calendar_id, &link.master_id)?.is_some() {
        return Ok(None);
    }
    Ok(tx
        .event(series_id)?
        .filter(|r| {
            r.input.recurrence.is_some()
                && r.input.calendar_id == calendar_id
                && r.remote_id.as_deref() != Some(link.master_id.as_str())
        })
        .map(|r| MasterInfo::of_or_unsent(series_id, &r)))
}

/// The series occurrence `local_id` — changed here, not at the provider yet —
/// belongs to, when `theirs`, the provider's version its conflict holds, is an
/// instance of it the provider no longer knows: the series was deleted there and
/// made again here ("keep mine") while the occurrence's conflict waited.
pub(crate) fn occurrence_made_again(
    tx: &SyncTx<'_, '_>,
    calendar_id: &str,
    local_id: &str,
    theirs: &RemoteEvent,
) -> Result<Option<MasterInfo>, SyncError> {
    let Some(link) = &theirs.series else {
        return Ok(None);
    };
    let series = tx
        .event(local_id)?
        .filter(|r| r.remote_id.is_none())
        .and_then(|r| r.series_id);
    match series {
        Some(series_id) => made_again_as(tx, calendar_id, link, &series_id),
        None => Ok(None),
    }
}

/// The answer to the conflict of an occurrence whose series was made again since
/// (see [`occurrence_made_again`]), `version` in the new series' terms: the row takes
/// it — a change of that day of the new series, its create kept queued, sent as the
/// day's first change (not marked synced: the provider has none of it yet) — and
/// `copy` (keep both) becomes an event of its own, whose id it returns.
pub(crate) fn answer_in_series_made_again(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    local_id: &str,
    (version, series): (&RemoteEvent, &MasterInfo),
    copy: Option<&RemoteEvent>,
) -> Result<Result<Option<String>, String>, SyncError> {
    let row = match into_series_made_again(tx, version, calendar_id, series)? {
        Ok(row) => row,
        Err(why) => return Ok(Err(why)),
    };
    let copy_row = match copy.map(|c| to_row(c, calendar_id, None)).transpose() {
        Ok(row) => row,
        Err(why) => return Ok(Err(why)),
    };
    tx.write_event(Some(local_id), &row, EntryState::LocallyCreated, None, None)?;
    tx.queue_push(local_id, calendar_id, OutboxOp::Create, None)?;
    let mut copy_id = None;
    if let Some(copy_row) = copy_row {
        let id = tx.write_event(None, &copy_row, EntryState::LocallyCreated, None, None)?;
        tx.queue_push(&id, calendar_id, OutboxOp::Create, None)?;
        copy_id = Some(id);
    }
    Ok(Ok(copy_id))
}

/// The provider's occurrence `ev` of a series deleted there (or a conflict's answer
/// made of it), as the same day of `series`, made again here. Not at the provider
/// yet: no id, no etag, no iCalendar UID (the new instance has its own), none of the
/// old event's per-write stamps (Google refuses a `sequence` below the new
/// instance's); what the provider keeps of it otherwise (its reminder, its guests)
/// goes along, as it does with the changed occurrences a series made again carries.
/// Refused where that series no longer has the day (moved here since): an event of
/// its own would stand beside the series' occurrence of that day.
fn into_series_made_again(
    tx: &SyncTx<'_, '_>,
    ev: &RemoteEvent,
    calendar_id: &str,
    series: &MasterInfo,
) -> Result<Result<SyncedEvent, String>, SyncError> {
    let Some(link) = &ev.series else {
        return Ok(Err("not an occurrence of a series".into()));
    };
    if !has_day(tx, series, &link.original_start)? {
        return Ok(Err(
            "the series made again here no longer has that day (it was moved here since)".into(),
        ));
    }
    let mut ev = RemoteEvent {
        remote_id: String::new(),
        etag: None,
        ical_uid: None,
        series: Some(almanac_provider::SeriesLink {
            master_id: series.remote_id.clone(),
            original_start: link.original_start.clone(),
        }),
        ..ev.clone()
    };
    crate::merge::drop_write_stamps(&mut ev.extra);
    Ok(to_row(&ev, calendar_id, Some(series)).map(|mut row| {
        row.remote_id = None;
        row.etag = None;
        row
    }))
}

/// Whether `series` here has an occurrence on the day `original` names.
fn has_day(
    tx: &SyncTx<'_, '_>,
    series: &MasterInfo,
    original: &OriginalStart,
) -> Result<bool, SyncError> {
    match crate::convert::instance_key_of(original, series) {
        Ok(key) => Ok(tx.has_occurrence(&series.local_id, &key)?),
        Err(_) => Ok(false),
    }
}

/// What [`removal_back`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Back {
    /// The series has the removal (now, or already; or its row as deleted here).
    Removed,
    /// The occurrence was changed here since (an exception row at its start): that
    /// change stands for it, and the series keeps no removal of it.
    ChangedSince,
    /// No such series here (or not a series).
    NoSeries,
}

/// Puts the removal of the occurrence `link` names back into its series here: a
/// deletion of that occurrence's instance is decided (kept by the user or a policy),
/// after [`withdraw_removal`] took it out of the series while it waited. A series
/// without it gets it as a change of its own, sent as usual. `into_base`: the
/// provider's series has the removal already (Graph lists a deleted instance among
/// the series' `cancelledOccurrences`), so it is no change to send.
pub(crate) fn removal_back(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    link: &almanac_provider::SeriesLink,
    into_base: bool,
) -> Result<Back, SyncError> {
    let Some(series_id) = tx.local_id_of(calendar_id, &link.master_id)? else {
        return Ok(Back::NoSeries);
    };
    removal_back_into(tx, calendar_id, &series_id, &link.original_start, into_base)
}

/// [`removal_back`] of the occurrence the pending deletion `key` names, under `key`'s
/// day (carried by the user's moves of the series here): into the series made again
/// here since, if it was (see [`series_made_again`]), or into the series here moved
/// since, as a change of its own — never into its base: the provider's series has no
/// such removal (a create, or the move's update, if not sent yet, carries it); or into
/// the series' row as it was deleted here, its deletion not sent yet.
pub(crate) fn removal_back_of(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    link: &almanac_provider::SeriesLink,
    key: Option<&almanac_store::OccurrenceKey>,
    into_base: bool,
) -> Result<Back, SyncError> {
    // The day as the series here has it: a series edit here carries its occurrences'
    // pending deletes' keys with it, as its EXDATEs (the store's
    // `carry_pending_removals`), and the provider's original start may name no day of
    // it any more.
    let held_at = |info: &MasterInfo| {
        key.and_then(|k| crate::convert::original_start_of(&k.original_start, info).ok())
    };
    // (A change of that day here since keeps the key it had: in an account's calendar
    // the provider owns the exceptions, and a series edit leaves their keys.)
    let moved_back = |tx: &mut SyncTx<'_, '_>, info: &MasterInfo, original: &OriginalStart| {
        if *original != link.original_start && changed_at(tx, info, &link.original_start)? {
            return Ok(Back::ChangedSince);
        }
        removal_back_into(tx, calendar_id, &info.local_id, original, false)
    };
    if let Some(series) = series_made_again(tx, calendar_id, link, key)? {
        let original = held_at(&series).unwrap_or_else(|| link.original_start.clone());
        return moved_back(tx, &series, &original);
    }
    // The series deleted here since, its deletion not sent yet: the day goes into the
    // row as it was deleted, so that the series brought back (Keep theirs, a policy)
    // stays without it (see `removals_kept`) — its pending delete may be gone by then.
    if let Some(k) = key {
        if tx.event(&k.series_id)?.is_none()
            && tx.remove_from_deleted_series(&k.series_id, &k.original_start)?
        {
            return Ok(Back::Removed);
        }
    }
    let here = tx.local_id_of(calendar_id, &link.master_id)?;
    if let Some(k) = key.filter(|k| here.as_deref() == Some(k.series_id.as_str())) {
        if let Some(row) = tx.event(&k.series_id)? {
            let info = MasterInfo::of_or_unsent(&k.series_id, &row);
            // Carried away from it, the removal is no longer the provider's: a change
            // of the series to send, never its base.
            if let Some(original) = held_at(&info).filter(|o| *o != link.original_start) {
                return moved_back(tx, &info, &original);
            }
        }
    }
    removal_back(tx, calendar_id, link, into_base)
}

/// Whether series `info` here has a live row at its occurrence `original`: changed
/// here since (see [`Back::ChangedSince`]).
fn changed_at(
    tx: &SyncTx<'_, '_>,
    info: &MasterInfo,
    original: &OriginalStart,
) -> Result<bool, SyncError> {
    for id in tx.instances_of(&info.local_id)? {
        let at = tx
            .event(&id)?
            .filter(|r| !r.cancelled)
            .and_then(|r| r.original_start);
        if at.is_some_and(|k| {
            crate::convert::original_start_of(&k, info).is_ok_and(|s| s == *original)
        }) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// [`removal_back`] into series `series_id` here, of its occurrence at `original`.
fn removal_back_into(
    tx: &mut SyncTx<'_, '_>,
    calendar_id: &str,
    series_id: &str,
    original: &OriginalStart,
    into_base: bool,
) -> Result<Back, SyncError> {
    let (Some(mut row), Some(stored)) = (tx.event(series_id)?, tx.entry_sync(series_id)?) else {
        return Ok(Back::NoSeries);
    };
    if row.input.recurrence.is_none() {
        return Ok(Back::NoSeries);
    }
    // (A series made again here may have no provider id yet: its create carries it.)
    let info = MasterInfo::of_or_unsent(series_id, &row);
    // One the series left behind is no day of it: its deletion goes alone.
    if google_left_behind(tx, calendar_id, original, &info)? {
        return Ok(Back::NoSeries);
    }
    let Ok(key) = crate::convert::instance_key_of(original, &info) else {
        return Ok(Back::NoSeries);
    };
    let has = |exdates: &[String]| {
        exdates
            .iter()
            .any(|x| crate::convert::original_start_of(x, &info).is_ok_and(|s| s == *original))
    };
    if changed_at(tx, &info, original)? {
        return Ok(Back::ChangedSince);
    }
    let current = from_row(&row, None).ok();
    let mut base = crate::local::base_of(
        stored.base.as_deref(),
        stored.state,
        current.as_ref(),
        |_| None,
    );
    let Some(rule) = row.input.recurrence.as_mut() else {
        return Ok(Back::NoSeries);
    };
    // A series here that removes the day already does so as its own: synced, or a
    // change that goes out (written into its base, the removal would read as undone
    // there should the provider's series come back without it — at Outlook, moved by
    // another client before our update lands).
    if has(&rule.exdates) {
        return Ok(Back::Removed);
    }
    // Not an occurrence of the series any more (its rule changed meanwhile): nothing
    // to remove, and an EXDATE the provider would never echo.
    if !tx.has_occurrence(series_id, &key)? {
        return Ok(Back::Removed);
    }
    rule.exdates.push(key.clone());
    let mut state = stored.state;
    if into_base {
        if let Some(r) = base.as_mut().and_then(|b| b.recurrence.as_mut()) {
            if !has(&r.exdates) {
                r.exdates.push(key);
            }
        }
    } else if state == EntryState::Synced {
        state = EntryState::LocallyModified;
    }
    tx.write_event(
        Some(series_id),
        &row,
        state,
        base.as_ref().map(snapshot).as_deref(),
        stored.base_etag.as_deref(),
    )?;
    if state != EntryState::Synced && tx.pending(series_id)?.is_none() {
        tx.queue_push(series_id, calendar_id, OutboxOp::Update, None)?;
    }
    Ok(Back::Removed)
}
