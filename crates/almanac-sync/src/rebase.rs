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
//! be sent. One the new series has no occurrence for, or whose new key another row
//! holds (the provider changed that occurrence too), becomes a conflict (changed
//! here, gone at the provider) for the user to settle. An occurrence removed here and
//! not sent yet moves the same way, so it stays removed — unless the provider changed
//! the occurrence at its new time: then it is kept, and the log says so.
//!
//! The other way round, a provider's exception arriving under a key a change here
//! holds, which the planner could not pair with it (the series' zone changed on the
//! same page), is paired here ([`link_to_unsent`]) rather than stored twice.

use almanac_model::instance_key;
use almanac_model::recurrence::SeriesSpec;
use almanac_provider::{RemoteEvent, SeriesLink};
use almanac_store::{Carry, EntryState, NewConflict, OutboxOp, SyncTx, SyncedEvent};
use chrono::NaiveDateTime;

use crate::apply::{log, names, Applied, Ctx};
use crate::convert::{
    from_row, instance_key_of, key_text, occurrence_of, original_start_of, series_spec, to_row,
    MasterInfo,
};
use crate::error::SyncError;
use crate::local::{conflict_kind_str, snapshot};
use crate::merge::{apply_choice, changed_fields, Choice, ConflictKind, Resolution};
use crate::plan::Op;

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
        let parsed = if fresh {
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
    if unsent.is_empty() && !removals_here {
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
    let removed = unsent_removals(tx, master, old, new, &old_spec)?;
    let keys: Vec<NaiveDateTime> = unsent
        .iter()
        .map(|u| u.key)
        .chain(removed.iter().map(|(_, k)| *k))
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
        match (placed, at) {
            (Some(Placed::Unchanged), _) => taken.push(own),
            (Some(p @ Placed::Row { .. }), Some(at))
                if !taken.contains(&at) && !holding.contains(&at) =>
            {
                write_placed(tx, ctx, &u.id, p)?;
                taken.push(at);
            }
            _ => {
                taken.push(own);
                gone(tx, ctx, old, u, done)?;
            }
        }
    }
    if way.is_some() && !removed.is_empty() {
        carry_removals(tx, ctx, master, &new_spec, &removed, carry)?;
    }
    Ok(())
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
        // Due now, also if it waited for a pull that would bring this.
        tx.queue_push(id, ctx.calendar_id, OutboxOp::Create, None)?;
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

/// The new series has no occurrence for `u`: a conflict (changed here, gone there)
/// that holds the change until the user decides — keep theirs drops it, keep mine
/// keeps it as an event of its own.
fn gone(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    old: &RemoteEvent,
    u: Unsent,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let base = occurrence_of(old, &u.link.original_start);
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

/// The series' row with its `removed` dates (see [`unsent_removals`]) moved by
/// `carry` where that lands on an occurrence of `new` (one the new series has no
/// occurrence for removes nothing either way, and stays as it is).
///
/// One whose new key an occurrence row holds (the provider changed that occurrence
/// at its new time) is not carried: removing it would delete their change unasked.
/// It stays where it was, removing nothing, and the log says so.
fn carry_removals(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    master: &str,
    new: &SeriesSpec,
    removed: &[(String, NaiveDateTime)],
    carry: impl Fn(NaiveDateTime) -> NaiveDateTime,
) -> Result<(), SyncError> {
    let (Some(mut row), Some(sync)) = (tx.event(master)?, tx.entry_sync(master)?) else {
        return Ok(());
    };
    let mut held = Vec::new();
    for id in tx.instances_of(master)? {
        held.extend(tx.event(&id)?.and_then(|r| r.original_start));
    }
    let Some(rec) = row.input.recurrence.as_mut() else {
        return Ok(());
    };
    let mut moved = false;
    let mut kept = Vec::new();
    for (text, key) in removed {
        let to = carry(*key);
        if to == *key || !new.produces(to) {
            continue;
        }
        let to = key_text(to, new.all_day);
        if held.contains(&to) {
            kept.push(to);
            continue;
        }
        if let Some(d) = rec.exdates.iter_mut().find(|d| *d == text) {
            *d = to;
            moved = true;
        }
    }
    for at in kept {
        log(
            tx,
            ctx,
            Some(master),
            ctx.calendar_id,
            "pull",
            "kept",
            &["recurrence".to_owned()],
            &format!(
                "Removed here; its series moved at the provider and the occurrence now \
                 at {at} was changed there: kept — remove it again if it should go."
            ),
        )?;
    }
    if !moved {
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
    log(
        tx,
        ctx,
        Some(master),
        ctx.calendar_id,
        "pull",
        "updated",
        &["recurrence".to_owned()],
        "Its series moved at the provider: the occurrences removed here move with it.",
    )?;
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
    let Some(link) = &theirs.series else {
        return Ok(None);
    };
    let Some(master) = tx.local_id_of(ctx.calendar_id, &link.master_id)? else {
        return Ok(None);
    };
    let Some(info) = tx.event(&master)?.and_then(|r| MasterInfo::of(&master, &r)) else {
        return Ok(None);
    };
    let Ok(key) = instance_key_of(&link.original_start, &info) else {
        return Ok(None);
    };
    let Some(id) = tx.exception_at(&master, &key)? else {
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
/// for the same occurrence, as the planner pairs them: merged field by field against
/// the occurrence as the series made it before (both sides' changes kept), or an
/// edit/edit conflict where both changed a field.
pub(crate) fn link_to_unsent(
    tx: &mut SyncTx<'_, '_>,
    ctx: &Ctx<'_>,
    holder: &str,
    theirs: RemoteEvent,
    done: &mut Applied,
) -> Result<(), SyncError> {
    let index = &ctx.local.index;
    let Some(ours) = index.by_local_id(holder).and_then(|e| e.current.clone()) else {
        return Ok(());
    };
    let before = tx
        .event(holder)?
        .and_then(|r| r.series_id)
        .and_then(|m| index.by_local_id(&m))
        .and_then(|e| e.base.clone().or_else(|| e.current.clone()));
    let base = match (&before, &ours.series) {
        (Some(m), Some(link)) => occurrence_of(m, &link.original_start),
        _ => None,
    };
    let base = base.unwrap_or_else(|| theirs.clone());
    let identity = |ev: RemoteEvent| RemoteEvent {
        remote_id: theirs.remote_id.clone(),
        etag: theirs.etag.clone(),
        ical_uid: theirs.ical_uid.clone(),
        kind: theirs.kind,
        series: theirs.series.clone(),
        ..ev
    };
    let m = crate::merge::merge(&base, &ours, &theirs);
    if m.conflicts.is_empty() {
        return crate::apply::apply_op(
            tx,
            ctx,
            Op::LinkCreated {
                local_id: holder.to_owned(),
                event: identity(m.merged),
                base: theirs,
                push: m.push,
            },
            done,
        );
    }
    crate::apply::apply_op(
        tx,
        ctx,
        Op::LinkCreated {
            local_id: holder.to_owned(),
            event: identity(ours.clone()),
            base: base.clone(),
            push: true,
        },
        done,
    )?;
    crate::apply::apply_op(
        tx,
        ctx,
        Op::RecordConflict {
            local_id: holder.to_owned(),
            kind: ConflictKind::EditEdit,
            base: Some(base),
            local: Some(ours),
            remote: Some(theirs),
            fields: m.conflicts,
            shown: None,
            settled_by: None,
        },
        done,
    )
}
