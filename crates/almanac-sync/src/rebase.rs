//! What a change of a series at the provider does to the changes made here to its
//! occurrences and not sent yet.
//!
//! Such a change is a copy of the occurrence as the old series made it, keyed by that
//! occurrence's original start. What the user changed in it stays theirs; the rest
//! follows the series (else sending the copy would undo the series' change there).
//! When the series moved (another time, another day), the key moves with it as a
//! series edit here moves its exceptions ([`Carry`]): the occurrence renamed here is
//! then the renamed one at the new time, not a copy left at the old time beside the
//! series' own occurrence — which the provider has no instance for, so it could never
//! be sent. One whose new key the provider's own change of that occurrence holds
//! meets it as any occurrence changed on both sides does (merged field by field, the
//! same field a conflict). One the new series has no occurrence for becomes a
//! conflict (changed here, gone at the provider) for the user — or the calendar's
//! policy — to settle.
//! An occurrence removed here and not sent yet moves the same way, so it stays
//! removed — unless the provider changed the occurrence at its new time: then the
//! removal meets their change as a delete/edit conflict.
//!
//! The other way round, a provider's exception arriving under a key a change here
//! holds, which the planner could not pair with it (the series' zone changed on the
//! same page), is paired here ([`link_to_unsent`]) rather than stored twice.

use std::collections::HashMap;

use almanac_model::recurrence::SeriesSpec;
use almanac_model::{instance_key, EventKind};
use almanac_provider::{Change, ChangePage, Cursor, RemoteEvent, SeriesLink};
use almanac_store::{Carry, EntryState, NewConflict, OutboxOp, SyncTx, SyncedEvent};
use chrono::NaiveDateTime;

use crate::apply::{
    apply, apply_op, apply_ops, google_left_behind, log, master_of, names, settle_gone_edit,
    Applied, Ctx, SeriesChange,
};
use crate::convert::{
    from_row, instance_key_of, key_text, occurrence_of, original_start_of, series_spec, to_row,
    MasterInfo,
};
use crate::error::SyncError;
use crate::local::{conflict_kind_str, load, snapshot};
use crate::merge::{
    apply_choice, changed_fields, resolve_deleted, Choice, ConflictKind, Resolution, Side,
};
use crate::plan::{plan_link, plan_page, LocalEntry, Op};

/// One occurrence changed here and not sent yet.
struct Unsent {
    id: String,
    mine: RemoteEvent,
    link: SeriesLink,
    key: NaiveDateTime,
}

/// Series `master` changed at the provider from `old` to `new` (both in the store's
/// form); its row here is already `new`, merged with any change of it made here, and
/// the rest of the page that brought it is applied (an occurrence the provider changed
/// under the new series is here).
pub(crate) fn rebase_unsent_occurrences(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    master: &str,
    old: &RemoteEvent,
    new: &RemoteEvent,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let Some(info) = tx.event(master)?.and_then(|r| MasterInfo::of(master, &r)) else {
        return Ok(());
    };
    // The rows' keys are the old series' (its zone, timed or all-day).
    let was = MasterInfo {
        remote_id: info.remote_id.clone(),
        ..MasterInfo::of_remote(master, old)
    };
    let mut unsent = Vec::new();
    // Keys rows that stay where they are hold.
    let mut taken = Vec::new();
    for id in tx.instances_of(master)? {
        let Some(row) = tx.event(&id)? else { continue };
        let fresh = row.remote_id.is_none()
            && !row.cancelled
            && tx
                .entry_sync(&id)?
                .is_some_and(|s| s.state == EntryState::LocallyCreated)
            && tx.open_conflict(&id)?.is_none();
        // A key of the other kind (a change made here after the series became all-day
        // or timed here) is not of the old series: it stays.
        let of_old_kind = row
            .original_start
            .as_deref()
            .is_some_and(|k| original_start_of(k, &was).is_ok());
        let parsed = if fresh && of_old_kind {
            from_row(&row, Some(&was)).ok().and_then(|mine| {
                let k = row.original_start.as_deref()?;
                let wall = instance_key("original start", k, was.all_day).ok()?;
                Some((mine, wall))
            })
        } else {
            None
        };
        let Some((mine, key)) = parsed else {
            taken.extend(row.original_start);
            continue;
        };
        let Some(link) = mine.series.clone() else {
            taken.extend(row.original_start);
            continue;
        };
        unsent.push(Unsent {
            id,
            mine,
            link,
            key,
        });
    }
    let removals_here = tx
        .event(master)?
        .and_then(|r| r.input.recurrence)
        .is_some_and(|r| r.exdates.iter().any(|d| !known_there(d, old, new)));
    // Graph: see `hold_again`.
    let held = if ctx.local.index.removals_on_series() {
        tx.occurrence_deletes(ctx.calendar_id, master)?
    } else {
        Vec::new()
    };
    if unsent.is_empty() && !removals_here && held.is_empty() {
        return Ok(()); // nothing of ours to carry (the common case: no rule expanded)
    }
    let specs = series_spec(old, ctx.calendar_id).zip(series_spec(new, ctx.calendar_id));
    let Some((old_spec, new_spec)) = specs else {
        // A series that does not validate: its occurrences keep their keys.
        for u in unsent {
            if let Some(p) = place(ctx, &info, (old, new), &u, None) {
                write_placed(tx, ctx, &u.id, p)?;
            }
        }
        return Ok(());
    };
    let mut removed = unsent_removals(tx, master, old, new, &old_spec)?;
    let held = held_apart(tx, master, old, new, &old_spec, held)?;
    let keys: Vec<NaiveDateTime> = unsent
        .iter()
        .map(|u| u.key)
        .chain(removed.iter().map(|(_, k)| *k))
        .chain(held.iter().map(|h| h.key))
        .collect();
    let way = Carry::choose(&old_spec, &new_spec, &keys);
    let carry = |k: NaiveDateTime| way.map_or(k, |w| w.wall(k));
    // Moved one at a time, each onto a key no row holds: those moving later first
    // (walking against the move), so none lands on a key another still holds.
    let later = way.is_some_and(|w| w.wall(old_spec.start) > old_spec.start);
    unsent.sort_by_key(|u| u.key);
    if later {
        unsent.reverse();
    }
    let mut holding: Vec<String> = unsent
        .iter()
        .map(|u| key_text(u.key, old_spec.all_day))
        .collect();
    for u in unsent {
        let to = carry(u.key);
        let own = key_text(u.key, old_spec.all_day);
        holding.retain(|k| *k != own);
        let placed = (new_spec.produces(to) && !new_spec.exdates.contains(&to))
            .then(|| {
                place(
                    ctx,
                    &info,
                    (old, new),
                    &u,
                    Some(&key_text(to, new_spec.all_day)),
                )
            })
            .flatten();
        // The key it would be written under, as written (a wall time in a DST gap is
        // spelled as the series expands it).
        let at = match &placed {
            Some(Placed::Unchanged) => Some(own.clone()),
            Some(Placed::Row { row, .. }) => row.original_start.clone(),
            None => None,
        };
        // The new series has the occurrence, but another row holds its key (one the
        // provider cancelled there holds no occurrence).
        let held = match (&placed, &at) {
            (Some(Placed::Row { .. }), Some(at)) => {
                holding.contains(at) || !cancelled_at(tx, master, at)?
            }
            _ => false,
        };
        // The provider's change of that occurrence, if that is what holds it.
        let theirs = match (&placed, &at) {
            (Some(Placed::Row { .. }), Some(at)) if !holding.contains(at) => {
                match tx.exception_at(master, at)? {
                    Some(h) => match Holder::of(tx, &h)? {
                        Holder::Changed(theirs) => Some((h, theirs)),
                        _ => None,
                    },
                    None => None,
                }
            }
            _ => None,
        };
        match (placed, at, theirs) {
            (Some(Placed::Unchanged), _, _) => taken.push(own),
            (Some(p @ Placed::Row { .. }), Some(at), _)
                if !taken.contains(&at) && !holding.contains(&at) =>
            {
                write_placed(tx, ctx, &u.id, p)?;
                taken.push(at);
            }
            (Some(p @ Placed::Row { .. }), Some(_), Some(theirs)) => {
                meet_their_change(tx, ctx, &u, p, theirs, done)?;
            }
            _ => {
                taken.push(own);
                gone(tx, ctx, old, u, held, done)?;
            }
        }
    }
    if way.is_some() {
        let moving: Vec<&Held> = held
            .iter()
            .filter(|h| carry(h.key) != h.key && new_spec.produces(carry(h.key)))
            .collect();
        let texts: Vec<String> = moving
            .iter()
            .filter(|h| !h.stands)
            .map(|h| h.text.clone())
            .collect();
        let again = hold_again(tx, ctx, master, &texts)?;
        for h in moving {
            let back = again.contains(&h.text);
            if !back && !h.stands {
                continue;
            }
            // Its instance is gone there: the pending delete has nothing left to
            // delete (its conflict, if any, stays open with nothing to restore).
            for id in &h.deletes {
                tx.push_done(*id)?;
            }
            if back {
                removed.push((h.text.clone(), h.key));
            }
        }
    }
    if way.is_some() && !removed.is_empty() {
        carry_removals(
            tx,
            ctx,
            (master, &was, old),
            &new_spec,
            &removed,
            carry,
            done,
        )?;
    }
    Ok(())
}

/// Whether the row at `key` of series `master` is an occurrence the provider cancelled.
fn cancelled_at(tx: &SyncTx<'_, '_>, master: &str, key: &str) -> Result<bool, SyncError> {
    Ok(match tx.exception_at(master, key)? {
        Some(id) => tx.event(&id)?.is_some_and(|r| r.cancelled),
        None => false,
    })
}

/// What becomes of the occurrence `u` under the new series.
// One per occurrence changed here, made and used at once: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
enum Placed {
    /// Nothing: it keeps its key and nothing of the series' change reaches it.
    Unchanged,
    /// This row, under its key in the new series: what the user did not change in it
    /// follows the series.
    Row {
        row: SyncedEvent,
        fields: Vec<String>,
        moved: bool,
    },
}

/// The occurrence `u` under key `to` of the new series (`None`: the one it had);
/// `None` when it has no place there (the key is not of the series' kind, say).
fn place(
    ctx: &Ctx<'_>,
    info: &MasterInfo,
    (old, new): (&RemoteEvent, &RemoteEvent),
    u: &Unsent,
    to: Option<&str>,
) -> Option<Placed> {
    let original = match to {
        Some(k) => original_start_of(k, info).ok()?,
        None => u.link.original_start.clone(),
    };
    let as_it_was = occurrence_of(old, &u.link.original_start)?;
    let as_it_is = occurrence_of(new, &original)?;
    let Resolution::Merged(m) = apply_choice(&as_it_was, &u.mine, &as_it_is, &Choice::KeepMine)
    else {
        return None;
    };
    let moved = original != u.link.original_start;
    let rebased = RemoteEvent {
        remote_id: u.mine.remote_id.clone(),
        etag: u.mine.etag.clone(),
        ical_uid: u.mine.ical_uid.clone(),
        kind: u.mine.kind,
        series: Some(SeriesLink {
            master_id: u.link.master_id.clone(),
            original_start: original,
        }),
        extra: u.mine.extra.clone(),
        ..m.merged
    };
    let fields = names(&changed_fields(&u.mine, &rebased));
    if fields.is_empty() && !moved {
        return Some(Placed::Unchanged);
    }
    let row = to_row(&rebased, ctx.calendar_id, Some(info)).ok()?;
    Some(Placed::Row { row, fields, moved })
}

/// Writes what [`place`] made of occurrence `id`.
fn write_placed(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    id: &str,
    placed: Placed,
) -> Result<(), SyncError> {
    let Placed::Row { row, fields, moved } = placed else {
        return Ok(());
    };
    tx.write_event(Some(id), &row, EntryState::LocallyCreated, None, None)?;
    if moved {
        // Due now, also if it waited for a pull that would bring this. What it sent
        // under its old key is nothing the new key can hold: forgotten.
        tx.queue_push(
            id,
            ctx.calendar_id,
            OutboxOp::Create,
            Some(r#"{"sent":[]}"#),
        )?;
    }
    log(
        tx,
        ctx,
        Some(id),
        ctx.calendar_id,
        "pull",
        "updated",
        &fields,
        if moved {
            "Its series moved at the provider: this occurrence moves with it, and what \
             was not changed here follows the series."
        } else {
            "Its series changed at the provider: what was not changed here follows it."
        },
    )?;
    Ok(())
}

/// The new series has no place for `u`: a conflict (changed here, gone there) that
/// holds the change until the user decides — keep theirs drops it, keep mine keeps it
/// as an event of its own. Where the new series has no occurrence for it, the
/// calendar's policy may settle it ([`settle_gone_edit`]); not where the occurrence is
/// there but `held` under another row not settled yet: no policy should split one
/// occurrence into two events.
fn gone(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    old: &RemoteEvent,
    u: Unsent,
    held: bool,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let base = occurrence_of(old, &u.link.original_start);
    if !held && settle_gone_edit(tx, ctx, &u.id, base.clone(), &u.mine, done)? {
        return Ok(());
    }
    detach_if_unreadable(tx, &u.id)?;
    tx.record_conflict(&NewConflict {
        event_id: u.id.clone(),
        calendar_id: ctx.calendar_id.to_owned(),
        kind: conflict_kind_str(ConflictKind::EditDelete).to_owned(),
        base: base.as_ref().map(snapshot),
        local: Some(snapshot(&u.mine)),
        remote: None,
        fields: "[]".into(),
        settled_by_policy: None,
    })?;
    log(
        tx,
        ctx,
        Some(&u.id),
        ctx.calendar_id,
        "pull",
        "conflict",
        &[],
        "Changed here; its series changed at the provider and no longer has this \
         occurrence.",
    )?;
    done.conflicts += 1;
    Ok(())
}

/// Makes occurrence row `id` an event of its own if its key cannot be read under its
/// series as it is now — one of the old series' kind (a time under a series now
/// all-day, or a date under one now timed), which names no occurrence of the new one.
/// Left so, it would go on as an occurrence the series no longer has (read as the
/// instance it was: `convert::stored_original_start`); detached, it is what Keep mine
/// makes of it, and its conflict still decides.
fn detach_if_unreadable(tx: &mut SyncTx<'_, '_>, id: &str) -> Result<(), SyncError> {
    let Some(mut row) = tx.event(id)? else {
        return Ok(());
    };
    let info = match row.series_id.as_deref() {
        Some(m) => tx.event(m)?.map(|r| MasterInfo::of_or_unsent(m, &r)),
        None => None,
    };
    let readable = match (&info, row.original_start.as_deref()) {
        (Some(info), Some(key)) => original_start_of(key, info).is_ok(),
        _ => true,
    };
    if readable {
        return Ok(());
    }
    row.kind = EventKind::Single;
    row.series_id = None;
    row.original_start = None;
    tx.write_event(Some(id), &row, EntryState::LocallyCreated, None, None)?;
    Ok(())
}

/// Whether the old or the new series at the provider has the removed date `d`.
fn known_there(d: &str, old: &RemoteEvent, new: &RemoteEvent) -> bool {
    [old, new].iter().any(|e| {
        e.recurrence
            .as_ref()
            .is_some_and(|r| r.exdates.iter().any(|x| x == d))
    })
}

/// The occurrences removed here and not sent yet: removed dates of the series' row
/// that neither the old nor the new series has, with their keys.
fn unsent_removals(
    tx: &mut SyncTx<'_, '_>,
    master: &str,
    old: &RemoteEvent,
    new: &RemoteEvent,
    old_spec: &SeriesSpec,
) -> Result<Vec<(String, NaiveDateTime)>, SyncError> {
    let Some(rec) = tx.event(master)?.and_then(|r| r.input.recurrence) else {
        return Ok(Vec::new());
    };
    Ok(rec
        .exdates
        .into_iter()
        .filter(|d| !known_there(d, old, new))
        .filter_map(|d| {
            let k = instance_key("removed date", &d, old_spec.all_day).ok()?;
            // One that removed nothing already has nothing to follow.
            old_spec.produces(k).then_some((d, k))
        })
        .collect())
}

/// An occurrence of a series whose removal here waits apart from it (see
/// [`held_apart`]).
struct Held {
    /// Its key under the old series, as a removed date is written.
    text: String,
    key: NaiveDateTime,
    /// The outbox ids of its pending deletes.
    deletes: Vec<i64>,
    /// Changed here since ([`changed_here_since`]): that change stands for it, and the
    /// removal is not put back.
    stands: bool,
}

/// The occurrences of series `master` whose removal here waits apart from it, as a
/// pending delete of their instance (`deletes`: see `SyncTx::occurrence_deletes`),
/// that its row does not remove (see [`unsent_removals`]).
fn held_apart(
    tx: &SyncTx<'_, '_>,
    master: &str,
    old: &RemoteEvent,
    new: &RemoteEvent,
    old_spec: &SeriesSpec,
    deletes: Vec<(i64, almanac_store::OccurrenceKey)>,
) -> Result<Vec<Held>, SyncError> {
    if deletes.is_empty() {
        return Ok(Vec::new());
    }
    let in_row = tx
        .event(master)?
        .and_then(|r| r.input.recurrence)
        .map(|r| r.exdates)
        .unwrap_or_default();
    let mut held: Vec<Held> = Vec::new();
    for (id, k) in deletes {
        let d = k.original_start;
        if in_row.contains(&d) || known_there(&d, old, new) {
            continue;
        }
        let Ok(key) = instance_key("removed date", &d, old_spec.all_day) else {
            continue;
        };
        if !old_spec.produces(key) {
            continue;
        }
        match held.iter_mut().find(|h| h.text == d) {
            Some(h) => h.deletes.push(id),
            None => held.push(Held {
                stands: changed_here_since(tx, master, &d)?,
                text: d,
                key,
                deletes: vec![id],
            }),
        }
    }
    Ok(held)
}

/// Graph: a series moved there has dropped its changed occurrences (Outlook drops them
/// with any change of its times or pattern). A removal here held apart from the series
/// against one of them — their change, met as a delete/edit conflict, or a deletion
/// the provider refused — has nothing left against it there, and the occurrence is
/// back at its new time: the removals `held` (keys of the old series) go back into the
/// series' row, not sent, so that they move with it ([`carry_removals`]) and go out.
/// (Left apart, the deletion of the dropped instance found nothing, and the occurrence
/// came back on both sides.) Also when that instance's removal is applied before the
/// series' rebase, on the same page (`apply`'s `DeleteLocal`). The callers leave out
/// one the user changed here since ([`changed_here_since`]), before the rebase moves
/// the rows. Returns the removals put back.
pub(crate) fn hold_again(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    master: &str,
    held: &[String],
) -> Result<Vec<String>, SyncError> {
    let mut again = held.to_vec();
    if again.is_empty() {
        return Ok(again);
    }
    let (Some(mut row), Some(sync)) = (tx.event(master)?, tx.entry_sync(master)?) else {
        return Ok(Vec::new());
    };
    let current = from_row(&row, None).ok();
    let base = crate::local::base_of(sync.base.as_deref(), sync.state, current.as_ref(), |_| None);
    let Some(rec) = row.input.recurrence.as_mut() else {
        return Ok(Vec::new());
    };
    again.retain(|d| !rec.exdates.contains(d));
    if again.is_empty() {
        return Ok(again);
    }
    rec.exdates.extend(again.iter().cloned());
    tx.write_event(
        Some(master),
        &row,
        EntryState::LocallyModified,
        base.as_ref().map(snapshot).as_deref(),
        sync.base_etag.as_deref(),
    )?;
    if tx.pending(master)?.is_none() {
        tx.queue_push(master, ctx.calendar_id, OutboxOp::Update, None)?;
    }
    Ok(again)
}

/// Whether the occurrence at `key` of series `master` was changed here since its
/// removal (a live occurrence row made here at that key, not sent yet — a provider's
/// row there may be an occurrence of the series as it is now): that change stands for
/// it, and no removal of it is put back (as in `removal_back`).
pub(crate) fn changed_here_since(
    tx: &SyncTx<'_, '_>,
    master: &str,
    key: &str,
) -> Result<bool, SyncError> {
    Ok(match tx.exception_at(master, key)? {
        Some(id) => tx
            .event(&id)?
            .is_some_and(|r| !r.cancelled && r.remote_id.is_none()),
        None => false,
    })
}

/// The series' row with its `removed` dates (see [`unsent_removals`]) moved by
/// `carry` where that lands on an occurrence of `new` (one the new series has no
/// occurrence for removes nothing either way, and stays as it is).
///
/// One whose new key the provider's changed occurrence holds is not carried: removing
/// it would delete their change unasked. It becomes a delete/edit conflict, as a
/// removal meeting a change there does at push time ([`removal_meets_change`]); one
/// the provider cancelled at its new time is gone there already, and is dropped.
fn carry_removals(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    (master, was, old): (&str, &MasterInfo, &RemoteEvent),
    new: &SeriesSpec,
    removed: &[(String, NaiveDateTime)],
    carry: impl Fn(NaiveDateTime) -> NaiveDateTime,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let (Some(mut row), Some(sync)) = (tx.event(master)?, tx.entry_sync(master)?) else {
        return Ok(());
    };
    let Some(rec) = row.input.recurrence.as_mut() else {
        return Ok(());
    };
    let (mut carried, mut cancelled) = (false, false);
    // (the occurrence removed here as the old series made it, the row holding its new
    // key, the provider's version there, that key)
    let mut met = Vec::new();
    let mut kept = Vec::new();
    for (text, key) in removed {
        let to = carry(*key);
        if to == *key || !new.produces(to) {
            continue;
        }
        let to = key_text(to, new.all_day);
        if let Some(holder) = tx.exception_at(master, &to)? {
            let deleted = original_start_of(text, was)
                .ok()
                .and_then(|o| occurrence_of(old, &o));
            match (Holder::of(tx, &holder)?, deleted) {
                (Holder::Cancelled, _) => cancelled = true,
                (Holder::Changed(theirs), Some(deleted)) => {
                    met.push((deleted, holder, theirs, to));
                }
                (Holder::Changed(_), None) => {
                    kept.push((to, "was changed there"));
                    continue;
                }
                (Holder::Other, _) => {
                    kept.push((to, "has a change not settled yet"));
                    continue;
                }
            }
            rec.exdates.retain(|d| d != text);
            continue;
        }
        if let Some(d) = rec.exdates.iter_mut().find(|d| *d == text) {
            *d = to;
            carried = true;
        }
    }
    for (at, why) in kept {
        let reason = format!(
            "Removed here; its series moved at the provider and the occurrence now at {at} \
             {why}: kept — remove it again if it should go."
        );
        series_log(tx, ctx, master, "kept", &reason)?;
    }
    if !carried && !cancelled && met.is_empty() {
        return Ok(());
    }
    rec.exdates.sort();
    rec.exdates.dedup();
    tx.write_event(
        Some(master),
        &row,
        sync.state,
        sync.base.as_deref(),
        sync.base_etag.as_deref(),
    )?;
    if carried {
        let reason = "Its series moved at the provider: the occurrences removed here move \
                      with it.";
        series_log(tx, ctx, master, "updated", reason)?;
    }
    if cancelled {
        let reason = "Its series moved at the provider, which cancelled an occurrence \
                      removed here at its new time too.";
        series_log(tx, ctx, master, "updated", reason)?;
    }
    for (deleted, holder, theirs, to) in met {
        let key = almanac_store::OccurrenceKey {
            series_id: master.to_owned(),
            original_start: to,
            last: None,
        };
        removal_meets_change(tx, ctx, &holder, deleted, theirs, key, done)?;
    }
    Ok(())
}

/// Logs what happened to the removed occurrences of series `master`.
fn series_log(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    master: &str,
    action: &str,
    reason: &str,
) -> Result<(), SyncError> {
    let fields = ["recurrence".to_owned()];
    log(
        tx,
        ctx,
        Some(master),
        ctx.calendar_id,
        "pull",
        action,
        &fields,
        reason,
    )?;
    Ok(())
}

/// The row holding the key a removal here would move to.
enum Holder {
    /// The provider cancelled that occurrence: it is gone there already.
    Cancelled,
    /// The provider changed that occurrence (its version, synced here, untouched here).
    Changed(Box<RemoteEvent>),
    /// A change here, or one waiting for the user: left as it is.
    Other,
}

impl Holder {
    fn of(tx: &SyncTx<'_, '_>, id: &str) -> Result<Self, SyncError> {
        let Some(row) = tx.event(id)? else {
            return Ok(Self::Other);
        };
        let synced = row.remote_id.is_some()
            && tx
                .entry_sync(id)?
                .is_some_and(|s| s.state == EntryState::Synced)
            && tx.pending(id)?.is_none()
            && tx.open_conflict(id)?.is_none();
        if !synced {
            return Ok(Self::Other);
        }
        if row.cancelled {
            return Ok(Self::Cancelled);
        }
        let master = match row.series_id.as_deref() {
            Some(m) => tx.event(m)?.and_then(|r| MasterInfo::of(m, &r)),
            None => None,
        };
        Ok(match from_row(&row, master.as_ref()) {
            Ok(theirs) => Self::Changed(Box::new(theirs)),
            Err(_) => Self::Other,
        })
    }
}

/// An occurrence removed here (`deleted`: as the old series made it) whose series
/// moved at the provider, where someone changed it at its new time (`theirs`, stored
/// here as `holder`): the removal is held as a pending delete of their instance and
/// met with their version as the planner meets any deletion here of an occurrence
/// changed there — a delete/edit conflict, or what the calendar's policy makes of it.
/// Until it is settled the occurrence shows as its series makes it.
fn removal_meets_change(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    holder: &str,
    deleted: RemoteEvent,
    theirs: Box<RemoteEvent>,
    key: almanac_store::OccurrenceKey,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let deleted = RemoteEvent {
        remote_id: theirs.remote_id.clone(),
        etag: None,
        ical_uid: theirs.ical_uid.clone(),
        series: theirs.series.clone(),
        extra: theirs.extra.clone(),
        ..deleted
    };
    if let Resolution::Restore {
        on: Side::Local, ..
    } = resolve_deleted(Side::Local, &theirs, ctx.policy)
    {
        // The policy keeps their change, which `holder` already is: only the record.
        return apply_op(
            tx,
            ctx,
            Op::RecordConflict {
                local_id: holder.to_owned(),
                kind: ConflictKind::DeleteEdit,
                base: Some(deleted),
                local: None,
                remote: Some(*theirs),
                fields: Vec::new(),
                shown: None,
                settled_by: Some(ctx.policy),
            },
            done,
        );
    }
    retire_holder(
        tx,
        ctx,
        holder,
        "Its series moved at the provider: the change there of this occurrence meets its \
         removal here.",
    )?;
    tx.queue_instance_delete(ctx.calendar_id, &theirs.remote_id, &snapshot(&deleted), key)?;
    replan(tx, ctx, theirs, None, done)
}

/// Deletes `holder`, the provider's row of an occurrence met by a change here, with a
/// line in the log: its history would otherwise end without a word.
fn retire_holder(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    holder: &str,
    reason: &str,
) -> Result<(), SyncError> {
    tx.delete_event(holder)?;
    log(
        tx,
        ctx,
        Some(holder),
        ctx.calendar_id,
        "pull",
        "linked",
        &[],
        reason,
    )?;
    Ok(())
}

/// The occurrence `u`, changed here and placed under the new series (`placed`), whose
/// key the provider's changed occurrence `theirs` (row `holder`) holds: one occurrence
/// changed on both sides. Ours takes the key and is met with theirs as the planner
/// meets any such pair — merged field by field against the occurrence as the new
/// series makes it (disjoint changes both kept), the same field changed on both a
/// conflict or what the calendar's policy makes of it.
fn meet_their_change(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    u: &Unsent,
    placed: Placed,
    (holder, theirs): (String, Box<RemoteEvent>),
    done: &mut Applied,
) -> Result<(), SyncError> {
    retire_holder(
        tx,
        ctx,
        &holder,
        "Its series moved at the provider: the change there of this occurrence meets the \
         change here of the same occurrence, and the two go on as one event.",
    )?;
    write_placed(tx, ctx, &u.id, placed)?;
    replan(tx, ctx, theirs, Some(&u.id), done)
}

/// Plans and applies the provider's version `theirs` of one event as a page of its
/// own, against the entries here as they are now: its own (a pending delete of it),
/// its series' (an occurrence merges against the occurrence the series makes) and
/// `ours`, the change here of the same occurrence not sent yet. Only those: other
/// changes of the series not moved yet may still be keyed as the old series was (a
/// time under a series now all-day), which the new one does not have.
fn replan(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    theirs: Box<RemoteEvent>,
    ours: Option<&str>,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let series = theirs.series.as_ref().map(|l| l.master_id.as_str());
    let ids: Vec<&str> = std::iter::once(theirs.remote_id.as_str())
        .chain(series)
        .collect();
    let mut entries = tx.entries_for(ctx.calendar_id, &ids)?;
    entries.retain(|e| {
        e.remote_id.as_deref().is_some_and(|r| ids.contains(&r))
            || ours == Some(e.local_id.as_str())
    });
    let mut local = load(entries, &HashMap::new())?;
    let page = ChangePage {
        changes: vec![Change::Upsert(theirs)],
        cursor: Cursor::More(String::new()),
        full_listing: false,
        restarted: false,
        unreadable: Vec::new(),
    };
    local.index = local
        .index
        .with_removals_on_series(ctx.local.index.removals_on_series());
    let plan = plan_page(&local.index, page, ctx.policy, None);
    let inner = Ctx {
        local: &local,
        ..*ctx
    };
    *done += apply(tx, &inner, plan)?;
    Ok(())
}

/// The occurrence changed here and not sent yet that holds the key the provider's
/// new exception `theirs` would be stored under — met when the planner could not pair
/// them (the series' zone changed on the same page, so the two original starts name
/// different instants for one wall time). Its local id.
pub(crate) fn unsent_holder(
    tx: &SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    theirs: &RemoteEvent,
) -> Result<Option<String>, SyncError> {
    let (Some(link), Some(info)) = (&theirs.series, master_of(tx, ctx, theirs)?) else {
        return Ok(None);
    };
    // One the series left behind holds no key of its instances.
    if google_left_behind(tx, ctx.calendar_id, &link.original_start, &info)? {
        return Ok(None);
    }
    let Ok(key) = instance_key_of(&link.original_start, &info) else {
        return Ok(None);
    };
    let Some(id) = tx.exception_at(&info.local_id, &key)? else {
        return Ok(None);
    };
    let unsent = tx.event(&id)?.is_some_and(|r| r.remote_id.is_none())
        && tx
            .entry_sync(&id)?
            .is_some_and(|s| s.state == EntryState::LocallyCreated)
        && ctx.local.index.by_local_id(&id).is_some();
    Ok(unsent.then_some(id))
}

/// Pairs the occurrence changed here `holder` with the provider's exception `theirs`
/// for the same occurrence, as the planner pairs them ([`plan_link`]): where its
/// series changed at the provider on this page (in `moved`, as [`rebase_unsent_occurrences`]
/// takes it), ours is first placed under the series as the provider has it now (what
/// was not changed here follows it, as [`place`] does), then merged field by field
/// with theirs against the occurrence that series makes (both sides' changes kept);
/// where both changed a field, the calendar's policy or an edit/edit conflict. A
/// series whose change waits in a conflict has not moved here: ours stays as it is,
/// met against the occurrence as the series made it before.
pub(crate) fn link_to_unsent(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    holder: &str,
    theirs: RemoteEvent,
    moved: &[SeriesChange],
    done: &mut Applied,
) -> Result<(), SyncError> {
    let index = &ctx.local.index;
    let Some(entry) = index.by_local_id(holder) else {
        return Ok(());
    };
    let Some(ours) = &entry.current else {
        return Ok(());
    };
    let Some(master) = tx.event(holder)?.and_then(|r| r.series_id) else {
        return Ok(());
    };
    let change = moved.iter().rev().find(|(id, _, _)| *id == master);
    let old = match change {
        Some((_, old, _)) => Some(old),
        None => index
            .by_local_id(&master)
            .and_then(|e| e.base.as_ref().or(e.current.as_ref())),
    };
    let was = old
        .zip(ours.series.as_ref())
        .and_then(|(m, link)| occurrence_of(m, &link.original_start));
    let is = change
        .zip(theirs.series.as_ref())
        .and_then(|((_, _, new), link)| occurrence_of(new, &link.original_start));
    let (occurrence, mine) = match (was, is) {
        (Some(was), Some(is)) => match apply_choice(&was, ours, &is, &Choice::KeepMine) {
            Resolution::Merged(m) => {
                let placed = RemoteEvent {
                    remote_id: ours.remote_id.clone(),
                    etag: ours.etag.clone(),
                    ical_uid: ours.ical_uid.clone(),
                    kind: ours.kind,
                    series: theirs.series.clone(),
                    extra: ours.extra.clone(),
                    ..m.merged
                };
                (is, placed)
            }
            // Not produced by keeping mine.
            _ => (was, ours.clone()),
        },
        (was, _) => (was.unwrap_or_else(|| theirs.clone()), ours.clone()),
    };
    let entry = LocalEntry {
        current: Some(mine),
        ..entry.clone()
    };
    let ops = plan_link(index, ctx.policy, &entry, occurrence, theirs);
    apply_ops(tx, ctx, ops, done)
}
