//! A user's answer to a conflict (keep mine, keep theirs, per field, keep both),
//! carried out in one transaction; the conflict is marked resolved and never fires
//! again for the versions it held (I7).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use almanac_model::ConflictAnswer;
use almanac_provider::RemoteEvent;
use almanac_store::Store;
use chrono::{DateTime, Utc};

use crate::apply::{apply_answer, Applied, Ctx};
use crate::convert::current_version;
use crate::error::SyncError;
use crate::local::{conflict_kind, load, parse_snapshot};
use crate::merge::{
    apply_choice, apply_deleted_choice, merge, Choice, ConflictKind, Field, FieldConflict,
    Resolution, Side,
};
use crate::plan::{MergedBy, Op};
use crate::run::lock;

/// What a resolution did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolved {
    pub conflict_id: String,
    pub event_id: String,
    /// `keep_local`, `keep_remote`, `per_field`, `keep_both`.
    pub resolution: String,
    /// Something goes to the provider on the next sync.
    pub pushes: bool,
    /// Keep both: the event made of this computer's version (the conflict's event
    /// holds the provider's).
    pub copy_id: Option<String>,
}

fn resolution_name(c: &Choice) -> &'static str {
    match c {
        Choice::KeepMine => "keep_local",
        Choice::KeepTheirs => "keep_remote",
        Choice::PerField(_) => "per_field",
        Choice::KeepBoth => "keep_both",
    }
}

/// Parses a per-field pick like `title=local` (field names as [`Field::name`]).
pub fn parse_pick(s: &str) -> Result<(Field, Side), SyncError> {
    let bad = || {
        SyncError::BadRequest(format!(
            "\"{s}\" is not a field choice: write FIELD=local or FIELD=remote (fields: title, body, timing, showAs, importance, sensitivity, categories, location, attendees, organizer, onlineMeeting, recurrence, reminder, cancelled, extra.KEY)."
        ))
    };
    let (name, side) = s.split_once('=').ok_or_else(bad)?;
    let side = match side.trim() {
        "local" | "mine" => Side::Local,
        "remote" | "theirs" => Side::Remote,
        _ => return Err(bad()),
    };
    let name = name.trim();
    let field = Field::MODELLED
        .iter()
        .find(|f| f.name() == name)
        .cloned()
        .or_else(|| {
            name.strip_prefix("extra.")
                .map(|k| Field::Extra(k.to_owned()))
        })
        .ok_or_else(bad)?;
    Ok((field, side))
}

/// Carries out the user's `answer` from the Conflicts panel: as
/// [`resolve_conflict`], but refused, nothing changed, if the conflict was refreshed
/// (a newer version from the provider) since the versions the answer was given on
/// (`answer.detected_at`) — in the same transaction, so no run can slip in between.
pub fn answer_conflict(
    store: &Mutex<Store>,
    answer: &ConflictAnswer,
    now: DateTime<Utc>,
) -> Result<Resolved, SyncError> {
    let choice = crate::views::choice_of(answer)?;
    let seen = match answer.detected_at.as_deref() {
        None => None,
        Some(t) => Some(
            almanac_model::time::parse_instant(t)
                .ok_or_else(|| {
                    SyncError::BadRequest(format!("\"{t}\" is not the time of a conflict."))
                })?
                .timestamp(),
        ),
    };
    resolve_seen(store, &answer.conflict_id, &choice, seen, now)
}

/// Carries out `choice` for conflict `conflict_id`.
pub fn resolve_conflict(
    store: &Mutex<Store>,
    conflict_id: &str,
    choice: &Choice,
    now: DateTime<Utc>,
) -> Result<Resolved, SyncError> {
    resolve_seen(store, conflict_id, choice, None, now)
}

fn resolve_seen(
    store: &Mutex<Store>,
    conflict_id: &str,
    choice: &Choice,
    seen: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Resolved, SyncError> {
    lock(store).sync_step(now.timestamp(), |tx| -> Result<Resolved, SyncError> {
        let c = tx.conflict(conflict_id)?;
        if seen.is_some_and(|s| s != c.detected_at) && c.resolved_at.is_none() {
            return Err(SyncError::Stale(
                "The provider sent a newer version of this event since you looked: check \
                 the versions again, then choose."
                    .into(),
            ));
        }
        if c.resolved_at.is_some() {
            return Err(SyncError::BadRequest(format!(
                "Conflict {conflict_id} was already resolved ({}).",
                c.resolution.as_deref().unwrap_or("resolved")
            )));
        }
        if matches!(choice, Choice::PerField(_)) && conflict_kind(&c.kind) != ConflictKind::EditEdit
        {
            return Err(SyncError::BadRequest(format!(
                "Conflict {conflict_id} is a change against a deletion: there are no fields to \
                 pick. Keep local, remote or both."
            )));
        }
        let calendar = tx.calendar(&c.calendar_id)?;
        if !calendar.can_edit && *choice != Choice::KeepTheirs {
            // Anything else would wait in the outbox for good (nothing is sent to a
            // read-only calendar), and a copy could not even be deleted here.
            return Err(SyncError::BadRequest(format!(
                "\"{}\" is read-only now: the provider no longer lets you change it, so \
                 only Keep theirs can be carried out (your version stays in this \
                 conflict's record).",
                calendar.name
            )));
        }
        let local = load(tx.entries(&c.calendar_id)?, &HashMap::new())?;
        // For a conflict the resolution itself meets (see `Ctx::policy`).
        let policy = crate::run::policy_of(&calendar.conflict_policy);
        let base = parse_snapshot(c.base.as_deref());
        let remote = parse_snapshot(c.remote.as_deref());
        // Keep theirs on a change against a change is theirs merged with what only we
        // changed; where that cannot go out (the calendar is read-only now) or cannot
        // be kept (their rule with our start, say), theirs whole: the answer the
        // user gave, nothing of ours left to send.
        let theirs_whole = match (conflict_kind(&c.kind), choice, &remote) {
            (ConflictKind::EditEdit, Choice::KeepTheirs, Some(r)) => Some(Op::ApplyRemote {
                local_id: Some(c.event_id.clone()),
                event: r.clone(),
            }),
            _ => None,
        };
        // The local side as it is now (the user may have edited it since).
        let mine: Option<RemoteEvent> = current_version(&c.event_id, |id| tx.event(id))?;
        let id = c.event_id.clone();
        // Re-read against the event as it is now: the versions the conflict holds may
        // be moot (deleted on both sides since, or back at the provider).
        let entry = local.index.by_local_id(&id).cloned();
        let mark =
            |tx: &mut almanac_store::SyncTx<'_, '_>, pushes: bool, copy_id: Option<String>| {
                tx.resolve_conflict(conflict_id, resolution_name(choice))?;
                Ok::<_, SyncError>(Resolved {
                    conflict_id: conflict_id.to_owned(),
                    event_id: id.clone(),
                    resolution: resolution_name(choice).to_owned(),
                    pushes,
                    copy_id,
                })
            };
        match (conflict_kind(&c.kind), &entry) {
            // Changed on both sides — and deleted here since (with its series, say):
            // nothing is left to settle.
            (ConflictKind::EditEdit, _) if mine.is_none() => return mark(tx, false, None),
            // Deleted here, changed there — and deleted there since: nothing is left
            // to restore or delete.
            (ConflictKind::DeleteEdit, None) => return mark(tx, false, None),
            // Changed here, deleted there — and deleted here since, or unchanged here.
            (ConflictKind::EditDelete, None) => return mark(tx, false, None),
            (ConflictKind::EditDelete, Some(e)) if e.current.is_none() => {
                return mark(tx, false, None)
            }
            // Changed here, deleted there — and back at the provider since (merged):
            // keep mine lets the held push go; keep theirs takes the provider's.
            // (The entry's base moved past the one the conflict recorded: a newer
            // provider version was merged after the deletion.)
            (ConflictKind::EditDelete, Some(e))
                if e.base.is_some()
                    && e.remote_id.is_some()
                    && e.base_etag != base.as_ref().and_then(|b| b.etag.clone()) =>
            {
                if let (Choice::KeepTheirs, Some(base)) = (choice, e.base.clone()) {
                    let ctx = Ctx {
                        calendar_id: &c.calendar_id,
                        run_id: None,
                        local: &local,
                        policy,
                    };
                    let mut done = Applied::default();
                    let op = Op::ApplyRemote {
                        local_id: Some(id.clone()),
                        event: base,
                    };
                    apply_answer(tx, &ctx, op, &mut done)?.map_err(cannot_keep)?;
                    return mark(tx, false, None);
                }
                return mark(tx, e.pending_push, None);
            }
            _ => {}
        }
        let op = match conflict_kind(&c.kind) {
            ConflictKind::EditEdit => {
                let (Some(base), Some(mine), Some(remote)) = (base, mine, remote) else {
                    return Err(SyncError::Corrupt(format!(
                        "conflict {conflict_id} lacks a version"
                    )));
                };
                if let Choice::PerField(picks) = choice {
                    // As recorded, or as they stand now (the user may have edited since).
                    let recorded =
                        serde_json::from_str::<Vec<FieldConflict>>(&c.fields).unwrap_or_default();
                    let now = merge(&base, &mine, &remote).conflicts;
                    picks_in_conflict(picks, recorded.iter().chain(&now))?;
                }
                let made_again =
                    crate::apply::occurrence_made_again(tx, &c.calendar_id, &id, &remote)?;
                if let Some(series) = made_again {
                    // Their versions name the old series' instance: read as that day
                    // of the new series, ours.
                    let as_ours = |e: RemoteEvent| RemoteEvent {
                        remote_id: mine.remote_id.clone(),
                        etag: None,
                        // (The old series' UID: the new instance has its own.)
                        ical_uid: None,
                        kind: mine.kind,
                        series: mine.series.clone(),
                        ..e
                    };
                    let (version, copy) =
                        match apply_choice(&as_ours(base), &mine, &as_ours(remote), choice) {
                            Resolution::Merged(m) => (m.merged, None),
                            Resolution::KeepBoth { remote, copy } => (remote, Some(copy)),
                            Resolution::Open { conflicts, .. } => {
                                return Err(still_open(&conflicts))
                            }
                            Resolution::Delete | Resolution::Restore { .. } => {
                                return Err(SyncError::Corrupt("unexpected resolution".into()))
                            }
                        };
                    let answered = crate::apply::answer_in_series_made_again(
                        tx,
                        &c.calendar_id,
                        &id,
                        (&version, &series),
                        copy.as_ref(),
                    )?;
                    let copy_id = answered.map_err(|why| {
                        SyncError::BadRequest(format!("This answer cannot be kept: {why}."))
                    })?;
                    return mark(tx, true, copy_id);
                }
                match apply_choice(&base, &mine, &remote, choice) {
                    Resolution::Merged(m) => Op::Merged {
                        local_id: id.clone(),
                        push: m.push,
                        apply_locally: true,
                        merged: m.merged,
                        base: remote,
                        by: MergedBy::User,
                    },
                    Resolution::KeepBoth { remote, copy } => Op::KeepBoth {
                        local_id: id.clone(),
                        remote,
                        copy,
                    },
                    Resolution::Open { conflicts, .. } => return Err(still_open(&conflicts)),
                    Resolution::Delete | Resolution::Restore { .. } => {
                        return Err(SyncError::Corrupt("unexpected resolution".into()))
                    }
                }
            }
            ConflictKind::EditDelete => {
                let Some(mine) = mine else {
                    return Err(SyncError::Corrupt(format!(
                        "conflict {conflict_id}: the local version is gone"
                    )));
                };
                match apply_deleted_choice(Side::Remote, &mine, choice) {
                    Resolution::Delete => {
                        // A series goes with its occurrences: their conflicts too.
                        if mine.recurrence.is_some() {
                            tx.resolve_occurrence_conflicts(&id, resolution_name(choice))?;
                        }
                        Op::DeleteLocal {
                            local_id: id.clone(),
                        }
                    }
                    Resolution::Restore { event, .. } => Op::RecreateRemote {
                        local_id: id.clone(),
                        event,
                    },
                    _ => return Err(SyncError::Corrupt("unexpected resolution".into())),
                }
            }
            ConflictKind::DeleteEdit => {
                let Some(remote) = remote else {
                    return Err(SyncError::Corrupt(format!(
                        "conflict {conflict_id} lacks the provider's version"
                    )));
                };
                match apply_deleted_choice(Side::Local, &remote, choice) {
                    Resolution::Delete => Op::KeepLocalDeletion {
                        local_id: id.clone(),
                        base: remote,
                    },
                    Resolution::Restore { event, .. } => Op::RestoreLocal {
                        local_id: id.clone(),
                        event,
                    },
                    _ => return Err(SyncError::Corrupt("unexpected resolution".into())),
                }
            }
        };
        let op = match (&theirs_whole, calendar.can_edit) {
            (Some(whole), false) => whole.clone(),
            _ => op,
        };
        let mut pushes = matches!(
            &op,
            Op::Merged { push: true, .. }
                | Op::KeepBoth { .. }
                | Op::RecreateRemote { .. }
                | Op::KeepLocalDeletion { .. }
        );
        // Their occurrence of a series made again here since goes out as a change of
        // the new series' day (see `apply`'s `into_series_made_again`).
        let restores = matches!(&op, Op::RestoreLocal { .. });
        let ctx = Ctx {
            calendar_id: &c.calendar_id,
            run_id: None,
            local: &local,
            policy,
        };
        let mut done = Applied::default();
        if let Err(why) = apply_answer(tx, &ctx, op, &mut done)? {
            // Nothing of it was written (see `apply_answer`).
            let whole = theirs_whole.ok_or_else(|| cannot_keep(why))?;
            pushes = false;
            done.copy = None;
            apply_answer(tx, &ctx, whole, &mut done)?.map_err(cannot_keep)?;
        }
        if done.relist {
            tx.set_cursor(&c.calendar_id, None, None)?;
        }
        let pushes = pushes || (restores && tx.pending(&id)?.is_some());
        tx.resolve_conflict(conflict_id, resolution_name(choice))?;
        Ok(Resolved {
            conflict_id: conflict_id.to_owned(),
            event_id: id,
            resolution: resolution_name(choice).to_owned(),
            pushes,
            copy_id: done.copy,
        })
    })
}

/// An answer the store cannot keep (its rule ends before the start the user picked,
/// say) fails the transaction: nothing changes and the conflict stays open for another
/// answer. (Marked resolved with nothing written, the change held here would meet the
/// same conflict again.)
fn cannot_keep(why: String) -> SyncError {
    SyncError::BadRequest(format!(
        "This answer cannot be kept: {why}. Nothing was changed; choose another."
    ))
}

/// The error for per-field picks that leave `conflicts` without a side.
fn still_open(conflicts: &[FieldConflict]) -> SyncError {
    let left: Vec<String> = conflicts
        .iter()
        .map(|f| f.field.name().into_owned())
        .collect();
    SyncError::BadRequest(format!(
        "Pick a side for every conflicting field; still open: {}.",
        left.join(", ")
    ))
}

/// Refuses a pick of a field that is not in conflict: it would silently do nothing.
fn picks_in_conflict<'a>(
    picks: &BTreeMap<Field, Side>,
    conflicts: impl Iterator<Item = &'a FieldConflict>,
) -> Result<(), SyncError> {
    let mut names: Vec<String> = conflicts.map(|f| f.field.name().into_owned()).collect();
    names.sort();
    names.dedup();
    match picks
        .keys()
        .find(|f| !names.contains(&f.name().into_owned()))
    {
        None => Ok(()),
        Some(f) => Err(SyncError::BadRequest(format!(
            "{} is not in conflict here; pick a side for: {}.",
            f.name(),
            names.join(", ")
        ))),
    }
}

/// A per-field choice from picks; one pick per field (of two, the last would
/// silently win).
pub fn per_field(picks: impl IntoIterator<Item = (Field, Side)>) -> Result<Choice, SyncError> {
    let mut chosen = BTreeMap::new();
    for (field, side) in picks {
        if chosen.insert(field.clone(), side).is_some() {
            return Err(SyncError::BadRequest(format!(
                "{} is chosen more than once; choose one side per field.",
                field.name()
            )));
        }
    }
    Ok(Choice::PerField(chosen))
}
