//! The pull planner (DESIGN §4 "Pull", "Merge", "Echoes", "Cursor invalid"; I1, I2, I4,
//! I6): what one page of remote changes, or the end of a full listing, means for one
//! calendar's local events, as an ordered list of [`Op`]s. Pure: the executor reads the
//! local state, calls [`plan_page`] / [`plan_reconcile`], and applies the ops together
//! with the page's cursor in one transaction (shared with the pages fetched with it).
//!
//! Rules (the why):
//! * **The last change of a remote id wins** within a page; ops follow the page order of
//!   those last changes, reconcile ops the local id order. Same input, same plan.
//! * **Echoes** (I4): a remote version whose etag equals the base etag is one we already
//!   have — our own write coming back, or a replayed page — and is no work. A version
//!   with a new etag but the base's content and identity only moves the base etag
//!   ([`Op::AcknowledgeEcho`]; for a pending deletion, [`Op::KeepLocalDeletion`]), so
//!   the pending `If-Match` stays valid. Likewise the remote version an open conflict
//!   already holds (and a removal an open edit/delete already holds) is not recorded
//!   twice.
//! * **Unpushed work is never overwritten** (I1): an entry with a local state other
//!   than synced, or with an outbox entry, is only merged
//!   ([`merge`](crate::merge::merge), three-way), settled by the calendar's
//!   [`Policy`], or recorded as a conflict — never given an
//!   [`Op::ApplyRemote`] or an [`Op::DeleteLocal`], except a local deletion meeting a
//!   remote one, a change here that changes nothing (an edit undone), and a series
//!   whose only change here removes some of its days (its deletion there takes those
//!   along: nothing of the user's is lost).
//! * **A remote deletion never beats a local edit by policy**: `prefer_remote` on
//!   edit/delete would leave an edit the UI reported saved nowhere (I1), so it stays an
//!   open conflict like `ask`; `prefer_local` and `keep_both` recreate the event
//!   remotely from the edit ([`Op::RecreateRemote`]).
//! * **Our own creates are recognised** (I2): an unknown remote event matching a local,
//!   not yet acknowledged create — by its client-chosen remote id (Google) or its
//!   iCalUID (singles and masters only: instances share their series' iCalUID) — is
//!   linked to it ([`Op::LinkCreated`]), not created a second time. An occurrence
//!   changed here (an exception not yet acknowledged) is linked the same way to the
//!   provider's exception of the same series and original start: our own update of
//!   that instance whose answer was lost, or another client's change of the same
//!   occurrence. It merges against the occurrence as the series makes it, so fields
//!   changed on only one side are kept and the same field changed on both is settled
//!   by the policy or left to the user.
//! * **A cancelled instance is an upsert** (a hidden instance keeps the occurrence
//!   away), not a removal.
//! * **Reconcile after a full listing** treats each unlisted event of the calendar
//!   like a removal. Entries with no remote id (creates not yet pushed) are never
//!   touched: the outbox survives the reset. With a window (Graph), only events lying
//!   surely inside it count as listed-or-gone: anything reaching beyond it, all-day
//!   events within a day of its edges, and series masters (their instances run past
//!   any single timing) are kept — unless the provider, asked about a series the
//!   listing did not show, says it is gone ([`LocalIndex::with_gone_series`]).
//! * **Mass-deletion guard** (I6, [`MassDeleteGuard`]): a plan that would remove more
//!   than a share of the calendar's events, or a full listing that comes back empty for
//!   a calendar that had events, is not carried out: the [`Plan`] has no ops, only a
//!   [`GuardTrip`]; the executor commits nothing (not even the cursor), stops the
//!   calendar and asks the user, and on confirmation plans again with no guard.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use almanac_provider::{
    Change, ChangePage, OriginalStart, RemoteEvent, RemoteKind, Timing, Window,
};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde_json::Value;

use crate::merge::{
    changed_fields, merge_presence, resolve, resolve_deleted, ConflictKind, FieldConflict, Merge,
    Policy, Presence, Resolution, Side,
};

#[cfg(test)]
pub(crate) mod tests;

/// Per-event sync state as the store keeps it (`event_sync.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncState {
    Synced,
    LocallyCreated,
    LocallyModified,
    LocallyDeleted,
}

/// An event's open conflict, as far as planning needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenConflict {
    pub kind: ConflictKind,
    /// The etag of the remote version the conflict holds (`None` for edit/delete).
    pub remote_etag: Option<String>,
}

/// What the store knows about one event of the calendar that has a remote copy or is
/// meant to get one.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalEntry {
    /// The store's event id.
    pub local_id: String,
    /// `None` while locally created and not yet acknowledged by the provider.
    pub remote_id: Option<String>,
    pub state: SyncState,
    /// The local row as a [`RemoteEvent`]; `None` when locally deleted.
    pub current: Option<RemoteEvent>,
    /// The last version both sides agreed on (`None` for a local create).
    pub base: Option<RemoteEvent>,
    /// The etag of `base`.
    pub base_etag: Option<String>,
    /// An outbox entry exists for the event.
    pub pending_push: bool,
    /// The event's unresolved conflict, if any.
    pub open_conflict: Option<OpenConflict>,
    /// The versions an unacknowledged create, or an update whose answer was lost,
    /// sent so far, oldest first (a pending delete keeps those of the update it
    /// replaced): the provider may hold any one of them (see
    /// [`almanac_store::SentPayload`]).
    pub sent: Vec<RemoteEvent>,
}

impl LocalEntry {
    /// Local work not yet on the provider: any state but synced, or an outbox entry (a
    /// synced row with one is inconsistent; it is treated as modified, to lose nothing).
    pub fn has_local_changes(&self) -> bool {
        self.state != SyncState::Synced || self.pending_push
    }

    /// A local create the provider has not acknowledged yet.
    fn unacknowledged_create(&self) -> bool {
        self.state == SyncState::LocallyCreated && self.remote_id.is_none()
    }
}

/// One calendar's entries, by local id and by remote id.
#[derive(Debug, Clone, Default)]
pub struct LocalIndex {
    entries: Vec<LocalEntry>,
    by_local: BTreeMap<String, usize>,
    by_remote: BTreeMap<String, usize>,
    /// The calendar's count for the mass-deletion guard, when `entries` is only the
    /// part of the calendar a page can touch.
    total: Option<usize>,
    /// Entries a windowed listing showed that are not in `entries` (they count toward
    /// the guard's whole, see [`LocalIndex::with_listed`]).
    listed: usize,
    /// Remote ids of the series with an occurrence changed here and not yet pushed.
    changed_series: BTreeSet<String>,
    /// Series the provider, asked, no longer has: ones a windowed listing did not
    /// show, and ones whose changed occurrence a page removes before them (see
    /// [`LocalIndex::with_gone_series`]).
    gone_series: BTreeSet<String>,
    /// The provider lists a series' removed occurrences on the series itself and
    /// removes one only by deleting its instance (Graph; see
    /// [`LocalIndex::with_removals_on_series`]).
    removals_on_series: bool,
}

impl LocalIndex {
    /// Indexes `entries`, ordered by local id. A repeated local id keeps its first entry;
    /// a remote id held by several entries (an I2 breach) resolves to the first of them
    /// in local id order.
    pub fn new(mut entries: Vec<LocalEntry>) -> Self {
        entries.sort_by(|a, b| a.local_id.cmp(&b.local_id));
        entries.dedup_by(|later, first| later.local_id == first.local_id);
        let mut by_local = BTreeMap::new();
        let mut by_remote = BTreeMap::new();
        let mut changed_series = BTreeSet::new();
        for (i, e) in entries.iter().enumerate() {
            by_local.insert(e.local_id.clone(), i);
            if let Some(id) = &e.remote_id {
                by_remote.entry(id.clone()).or_insert(i);
            }
            let series = e.current.as_ref().and_then(|c| c.series.as_ref());
            if let Some(link) = series.filter(|l| e.has_local_changes() && !l.master_id.is_empty())
            {
                changed_series.insert(link.master_id.clone());
            }
        }
        Self {
            entries,
            by_local,
            by_remote,
            total: None,
            listed: 0,
            changed_series,
            gone_series: BTreeSet::new(),
            removals_on_series: false,
        }
    }

    /// An index of part of a calendar that has `total` entries a listing could delete.
    pub fn with_total(mut self, total: usize) -> Self {
        self.total = Some(total);
        self
    }

    /// An index of the entries a windowed listing did not show, when `listed` more of
    /// the calendar's entries (with a remote id, not deleted here) were shown. The
    /// listing placed those in its window, so they count toward the guard's whole
    /// without being read back: reading a whole calendar at the end of each full
    /// listing was a fifth of a Graph sync's work.
    pub fn with_listed(mut self, listed: usize) -> Self {
        self.listed = listed;
        self
    }

    /// Series the provider no longer has: among those a windowed listing did not
    /// show, a reconcile removes them (one deleted while the cursor was invalid would
    /// otherwise stay here for good — a windowed listing never names a series); and
    /// an occurrence changed here whose removal comes before its series' (on an
    /// earlier page) is left to the series' edit/delete, as on one page.
    pub fn with_gone_series(mut self, gone: BTreeSet<String>) -> Self {
        self.gone_series = gone;
        self
    }

    /// For a provider that lists a series' removed occurrences on the series and can
    /// remove one only by deleting its instance (Graph: `exdates_in_rule` false).
    pub fn with_removals_on_series(mut self, on_series: bool) -> Self {
        self.removals_on_series = on_series;
        self
    }

    /// See [`Self::with_removals_on_series`].
    pub fn removals_on_series(&self) -> bool {
        self.removals_on_series
    }

    /// Every entry, by local id.
    pub fn entries(&self) -> &[LocalEntry] {
        &self.entries
    }

    pub fn by_local_id(&self, local_id: &str) -> Option<&LocalEntry> {
        self.by_local.get(local_id).map(|&i| &self.entries[i])
    }

    pub fn by_remote_id(&self, remote_id: &str) -> Option<&LocalEntry> {
        self.by_remote.get(remote_id).map(|&i| &self.entries[i])
    }

    /// The unacknowledged local create `remote` is the result of, if any (first by
    /// local id, skipping those already `claimed` in this plan).
    fn create_of(&self, remote: &RemoteEvent, claimed: &BTreeSet<String>) -> Option<&LocalEntry> {
        let identity = |k: RemoteKind| matches!(k, RemoteKind::Single | RemoteKind::Master);
        self.entries.iter().find(|e| {
            let Some(cur) = e.current.as_ref().filter(|_| e.unacknowledged_create()) else {
                return false;
            };
            let same_id = !remote.remote_id.is_empty() && cur.remote_id == remote.remote_id;
            let same_uid = identity(cur.kind)
                && identity(remote.kind)
                && cur.ical_uid.as_deref().is_some_and(|u| !u.is_empty())
                && cur.ical_uid == remote.ical_uid;
            let same_instance = cur.kind == RemoteKind::Exception
                && remote.kind == RemoteKind::Exception
                && cur.series.is_some()
                && cur.series == remote.series;
            (same_id || same_uid || same_instance) && !claimed.contains(&e.local_id)
        })
    }
}

/// One thing for the executor to do, in order.
// Produced and consumed once per event: boxing the large variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Store or overwrite the local row, and its base, as `event` (state synced).
    /// `local_id` is `None` for a new local row. Only ever for an entry with no local
    /// changes.
    ApplyRemote {
        local_id: Option<String>,
        event: RemoteEvent,
    },
    /// Delete the local row and its sync state: the provider deleted the event and the
    /// entry had no local edit (or was deleted locally too: drop its pending delete).
    DeleteLocal { local_id: String },
    /// A local change settled against a new remote version (see [`MergedBy`]):
    /// write `merged` to the local row if `apply_locally`; `base` (the remote version)
    /// becomes the base with its etag. If `push`, the entry stays locally modified and
    /// its pending push becomes an update to `merged` (`If-Match` `base.etag`); if not,
    /// the remote already has it all: the entry is synced and its pending push dropped.
    Merged {
        local_id: String,
        merged: RemoteEvent,
        base: RemoteEvent,
        apply_locally: bool,
        push: bool,
        by: MergedBy,
    },
    /// Record (or replace) the event's open conflict with every version; write `shown`
    /// to the local row if `Some` (for delete/edit the local deletion stands), keep the
    /// base and state, and hold the event's pending push until the user decides.
    ///
    /// With `settled_by`, the calendar's policy settles the conflict (the op after
    /// this one carries that out): it is recorded resolved, with every version — the
    /// side the policy gave up stays where the user can see it (I1) — and nobody is
    /// asked; `shown` is `None`.
    RecordConflict {
        local_id: String,
        kind: ConflictKind,
        base: Option<RemoteEvent>,
        local: Option<RemoteEvent>,
        remote: Option<RemoteEvent>,
        fields: Vec<FieldConflict>,
        shown: Option<RemoteEvent>,
        settled_by: Option<Policy>,
    },
    /// Keep both (edit/edit under `keep_both`): the entry becomes `remote` (synced, its
    /// pending push dropped) and `copy` — the local version with no provider identity —
    /// a new locally created event queued for a create.
    KeepBoth {
        local_id: String,
        remote: RemoteEvent,
        copy: RemoteEvent,
    },
    /// Delete/edit settled for the edit: the locally deleted row comes back as the
    /// remote `event` (synced); its pending delete is dropped.
    RestoreLocal {
        local_id: String,
        event: RemoteEvent,
    },
    /// Edit/delete settled for the edit: the entry loses its remote identity and base,
    /// becomes locally created as `event`, and its pending push becomes a create.
    RecreateRemote {
        local_id: String,
        event: RemoteEvent,
    },
    /// The local deletion stands against a newer remote version: `base` becomes the base
    /// (and its etag), so the pending delete carries a valid `If-Match`.
    KeepLocalDeletion { local_id: String, base: RemoteEvent },
    /// Our own create came back (I2): the entry takes `base`'s remote id, `base` becomes
    /// its base, the row is written as `event` (its content with the remote identity).
    /// If `push` the row changed since the create was sent: the entry is locally
    /// modified and the pending create becomes an update (`If-Match` `base.etag`);
    /// otherwise it is synced and the pending create dropped.
    LinkCreated {
        local_id: String,
        event: RemoteEvent,
        base: RemoteEvent,
        push: bool,
    },
    /// The remote version has the base's content under a new etag (an echo of our own
    /// write, or a provider-side touch): set the base etag, nothing else.
    AcknowledgeEcho {
        local_id: String,
        etag: Option<String>,
    },
}

/// Who settled an [`Op::Merged`]: for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergedBy {
    /// No field changed on both sides differently.
    Clean,
    /// The calendar's conflict policy picked the side of the conflicting fields.
    Policy,
    /// The user's answer to the conflict.
    User,
}

impl Op {
    /// The local event the op is about (`None` for a new local row).
    pub fn local_id(&self) -> Option<&str> {
        match self {
            Op::ApplyRemote { local_id, .. } => local_id.as_deref(),
            Op::DeleteLocal { local_id }
            | Op::Merged { local_id, .. }
            | Op::RecordConflict { local_id, .. }
            | Op::KeepBoth { local_id, .. }
            | Op::RestoreLocal { local_id, .. }
            | Op::RecreateRemote { local_id, .. }
            | Op::KeepLocalDeletion { local_id, .. }
            | Op::LinkCreated { local_id, .. }
            | Op::AcknowledgeEcho { local_id, .. } => Some(local_id),
        }
    }
}

/// Counts for the `sync_runs` row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanStats {
    /// Remote versions written locally: new rows, overwrites, restores, keep-both.
    pub applied: usize,
    /// Local rows deleted.
    pub deleted: usize,
    /// Local changes settled against a remote version ([`Op::Merged`]).
    pub merged: usize,
    /// Ops that leave (or re-target) a push in the outbox: merges with `push`, keep-both
    /// copies, recreates, kept deletions, linked creates with `push`.
    pub pushed: usize,
    /// Conflicts recorded.
    pub conflicts: usize,
    /// Remote versions or removals already known: echoes, replays, linked creates,
    /// conflicts already on record.
    pub echoes: usize,
}

/// The mass-deletion guard (I6). A plan trips it when it would remove at least
/// `min_count` events and more than `max_percent` % of the calendar's events, or when a
/// full listing comes back empty while the calendar had events it would remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MassDeleteGuard {
    pub min_count: usize,
    pub max_percent: usize,
}

impl Default for MassDeleteGuard {
    /// More than half of the calendar, and at least 10 events: a user clearing a week
    /// passes, a listing gone wrong does not.
    fn default() -> Self {
        Self {
            min_count: 10,
            max_percent: 50,
        }
    }
}

impl MassDeleteGuard {
    fn trips(self, would_delete: usize, total: usize, listed_empty: bool) -> bool {
        would_delete > 0
            && (listed_empty
                || (would_delete >= self.min_count
                    && would_delete.saturating_mul(100) > total.saturating_mul(self.max_percent)))
    }
}

/// Why a plan was withheld: it would remove `would_delete` of the calendar's `total`
/// events (those with a remote id, not deleted locally; for a windowed reconcile, those
/// the listing showed and those it lacked that lie surely inside the window). Removals
/// count local deletions and edit/delete conflicts alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardTrip {
    pub would_delete: usize,
    pub total: usize,
}

/// The operations for one page (or one reconcile), in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub stats: PlanStats,
    /// Set when the mass-deletion guard tripped: `ops` is then empty and the executor
    /// must commit nothing of the page, cursor included.
    pub guard: Option<GuardTrip>,
    /// Remote ids of the exceptions the plan takes with their series' cancelled days
    /// (see `Planner::exceptions_cancelled`): newer than what the rest of a round under
    /// way may show of them (a push's re-merge reads the series after it began).
    pub cancelled: Vec<String>,
}

/// Plans one page of remote changes of a calendar. `guard: None` turns the
/// mass-deletion guard off (after the user confirmed).
pub fn plan_page(
    local: &LocalIndex,
    page: ChangePage,
    policy: Policy,
    guard: Option<MassDeleteGuard>,
) -> Plan {
    // The page is taken whole: its events move into the ops (a page holds thousands;
    // copying each one was a tenth of applying it).
    let keep: Vec<bool> = {
        let last: HashMap<&str, usize> = page
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| (change_id(c), i))
            .collect();
        // A later change of the same remote id wins.
        (0..page.changes.len())
            .map(|i| last.get(change_id(&page.changes[i])) == Some(&i))
            .collect()
    };
    // About one op per kept change: sized once (an op is large, and growing the list
    // copied every op planned so far).
    let kept = keep.iter().filter(|k| **k).count();
    let mut planner = Planner::new(local, policy, kept);
    planner.series_gone = page
        .changes
        .iter()
        .zip(&keep)
        .filter_map(|(c, k)| match c {
            Change::Removed { remote_id } if *k => Some(remote_id.clone()),
            _ => None,
        })
        .collect();
    for (change, keep) in page.changes.into_iter().zip(keep) {
        if !keep {
            continue;
        }
        match change {
            Change::Upsert(remote) => planner.upsert(*remote),
            Change::Removed { remote_id } => {
                if let Some(entry) = local.by_remote_id(&remote_id) {
                    planner.removed(entry);
                }
            }
        }
    }
    let total = local
        .total
        .unwrap_or_else(|| local.entries.iter().filter(|e| counts(e)).count());
    planner.finish(guard, total, false)
}

/// Plans the end of a complete full listing ([`ChangePage::full_listing`] reached
/// [`almanac_provider::Cursor::Done`]): every entry with a remote id not in `listed` (the
/// round's upserted ids, see [`listed_ids`]) is gone at the provider and handled like a
/// removal — for a windowed listing (`window`, Graph) only if it lies surely inside the
/// window. Entries without a remote id are left alone. `local` may hold only the
/// entries `listed` lacks when it carries the calendar's total
/// ([`LocalIndex::with_total`]), or, for a windowed listing, whose whole is what lies
/// inside the window, how many listed entries it leaves out ([`LocalIndex::with_listed`]).
pub fn plan_reconcile(
    local: &LocalIndex,
    listed: &BTreeSet<String>,
    window: Option<Window>,
    policy: Policy,
    guard: Option<MassDeleteGuard>,
) -> Plan {
    let mut planner = Planner::new(local, policy, 0);
    // What the listing lacks goes together: an occurrence changed here whose series
    // goes too is the series' edit/delete, as on a page.
    let covered = |entry: &LocalEntry, remote_id: &String| {
        window.is_none_or(|w| surely_inside(entry, w)) || local.gone_series.contains(remote_id)
    };
    planner.series_gone = local
        .entries
        .iter()
        .filter_map(|e| e.remote_id.as_ref().map(|id| (e, id)))
        .filter(|(e, id)| !listed.contains(*id) && covered(e, id))
        .map(|(_, id)| id.clone())
        .collect();
    let mut total = 0;
    for entry in &local.entries {
        let Some(remote_id) = &entry.remote_id else {
            continue; // not pushed yet: the outbox survives the reset
        };
        if !covered(entry, remote_id) {
            continue; // the listing did not cover it
        }
        total += usize::from(counts(entry));
        if !listed.contains(remote_id) {
            planner.removed(entry);
        }
    }
    let total = local.total.unwrap_or(total + local.listed);
    planner.finish(guard, total, listed.is_empty())
}

/// The occurrence `derived` as its series makes it, as the base both a change here
/// (`local`) and the provider's (`remote`) of it started from: identity from the
/// provider's version; the fields this computer cannot edit as it has them (changed
/// by neither side here).
///
/// A row no provider copy ever filled (`extra` empty: made here by an edit or the
/// rebase) may also lack what its series took from the provider after the row was
/// made — a series created here gets the provider's default reminder — and no one
/// changed those fields here: the base takes them from the row too, so the merge
/// takes the provider's and never reads one as removed here.
fn as_occurrence_base(
    derived: RemoteEvent,
    local: &RemoteEvent,
    remote: &RemoteEvent,
) -> RemoteEvent {
    let base = RemoteEvent {
        remote_id: remote.remote_id.clone(),
        etag: remote.etag.clone(),
        ical_uid: remote.ical_uid.clone(),
        kind: remote.kind,
        series: remote.series.clone(),
        extra: local.extra.clone(),
        ..derived
    };
    unedited_as_ours(base, local)
}

/// `base`, for a `local` row no provider copy ever filled (`extra` empty: made here),
/// with what Almanac does not edit — reminder, sensitivity, people, meeting, the
/// provider-only form — as the row has it: nobody changed those here, so a merge
/// against it takes the provider's (its default reminder, the organizer it names,
/// its own fields) instead of reading the row's blanks as removals made here.
fn unedited_as_ours(base: RemoteEvent, local: &RemoteEvent) -> RemoteEvent {
    if !local.extra.is_empty() {
        return base;
    }
    RemoteEvent {
        extra: local.extra.clone(),
        reminder_minutes: local.reminder_minutes,
        sensitivity: local.sensitivity,
        attendees: local.attendees.clone(),
        organizer: local.organizer.clone(),
        online_meeting: local.online_meeting.clone(),
        ..base
    }
}

/// The ops pairing the occurrence changed here `entry` with the provider's exception
/// `remote` of it, merged against `occurrence` (as the series makes it) as a page
/// pairs them (the same field changed on both: `policy`'s answer or a conflict) — for
/// a pair the page could not see, see [`crate::rebase::link_to_unsent`].
pub(crate) fn plan_link(
    local: &LocalIndex,
    policy: Policy,
    entry: &LocalEntry,
    occurrence: RemoteEvent,
    remote: RemoteEvent,
) -> Vec<Op> {
    let Some(current) = &entry.current else {
        return Vec::new();
    };
    let base = as_occurrence_base(occurrence, current, &remote);
    // Ours sent, its answer lost, may be what the provider has (see `new_remote`).
    let base = crate::merge::as_landed(&base, &entry.sent, &remote);
    let mut planner = Planner::new(local, policy, 2);
    planner.link_merged(entry, base, remote);
    planner.ops
}

/// The remote id a change is about.
pub(crate) fn change_id(c: &Change) -> &str {
    match c {
        Change::Upsert(ev) => &ev.remote_id,
        Change::Removed { remote_id } => remote_id,
    }
}

/// The remote ids a page lists (its upserts), to collect over a full-listing round.
pub fn listed_ids(page: &ChangePage) -> impl Iterator<Item = &str> {
    page.changes.iter().filter_map(|c| match c {
        Change::Upsert(ev) => Some(ev.remote_id.as_str()),
        Change::Removed { .. } => None,
    })
}

/// The series a page's instances belong to: a windowed listing names a series only
/// this way, and an instance listed shows its series is there.
pub fn series_ids(page: &ChangePage) -> impl Iterator<Item = &str> {
    page.changes.iter().filter_map(|c| match c {
        Change::Upsert(ev) => ev.series.as_ref().map(|l| l.master_id.as_str()),
        Change::Removed { .. } => None,
    })
}

/// An event of the calendar for the guard: it has a remote id and is not deleted locally.
fn counts(e: &LocalEntry) -> bool {
    e.remote_id.is_some() && e.state != SyncState::LocallyDeleted
}

/// Whether the entry's event lies inside `w` whatever its zone; series masters never do.
fn surely_inside(e: &LocalEntry, w: Window) -> bool {
    let Some(ev) = e.base.as_ref().or(e.current.as_ref()) else {
        return false;
    };
    if ev.kind == RemoteKind::Master || ev.recurrence.is_some() {
        return false;
    }
    let (start, end) = match &ev.timing {
        Timing::Timed { start, end, .. } => (*start, *end),
        Timing::AllDay { start, end } => {
            // Civil dates: a day's midnight is somewhere in UTC-12..UTC+14.
            let utc = |d: &NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
            (
                utc(start) - TimeDelta::hours(14),
                utc(end) + TimeDelta::hours(12),
            )
        }
    };
    within(start, end, w)
}

fn within(start: DateTime<Utc>, end: DateTime<Utc>, w: Window) -> bool {
    w.start <= start && end <= w.end
}

/// The base to link our own create with at Graph, before [`Planner::as_sent`] puts
/// back what was sent where the provider's version is none of it: the provider's
/// version, so what is here wins (it is what we sent, or changed since; what Almanac
/// does not edit aside, see [`unedited_as_ours`]) — except an occurrence only the
/// provider lists as removed. A create cannot remove occurrences there (they are
/// deleted one by one after it), so one removed there that is not removed here was
/// deleted there after our create, and no update can bring it back. (At Google the
/// create carries its removals: one there and not here was ours, restored since.)
fn own_create_base(current: &RemoteEvent, remote: &RemoteEvent) -> RemoteEvent {
    let mut base = remote.clone();
    if let (Some(b), Some(here)) = (base.recurrence.as_mut(), current.recurrence.as_ref()) {
        b.exdates.retain(|d| here.exdates.contains(d));
    }
    base
}

/// Same content and identity (the etag aside).
fn same_version(a: &RemoteEvent, b: &RemoteEvent) -> bool {
    changed_fields(a, b).is_empty()
        && a.kind == b.kind
        && a.series == b.series
        && a.ical_uid == b.ical_uid
        && a.remote_id == b.remote_id
}

struct Planner<'a> {
    index: &'a LocalIndex,
    policy: Policy,
    ops: Vec<Op>,
    stats: PlanStats,
    /// Removals of events the calendar had, for the guard.
    removals: usize,
    /// Local creates linked in this plan.
    claimed: BTreeSet<String>,
    /// Events the page (or the reconcile) removes: a series among them takes its
    /// instances with it.
    series_gone: BTreeSet<String>,
    /// Local ids this plan already removed (an exception its series' cancellation
    /// took may also be named by its own removal).
    taken: BTreeSet<String>,
    /// See [`Plan::cancelled`].
    cancelled: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(index: &'a LocalIndex, policy: Policy, ops: usize) -> Self {
        Self {
            index,
            policy,
            ops: Vec::with_capacity(ops),
            stats: PlanStats::default(),
            removals: 0,
            claimed: BTreeSet::new(),
            series_gone: BTreeSet::new(),
            taken: BTreeSet::new(),
            cancelled: Vec::new(),
        }
    }

    /// A cancelled instance of a series the page removes, or whose removal waits for
    /// the user (an edit/delete conflict): cancelled with its series, not on its own.
    /// Merged into an occurrence changed here, it would hide that occurrence in the
    /// series "keep mine" makes again.
    fn cancelled_with_series(&self, remote: &RemoteEvent) -> bool {
        remote
            .series
            .as_ref()
            .filter(|_| remote.cancelled)
            .is_some_and(|link| self.series_going(&link.master_id))
    }

    /// An occurrence changed here whose instance the provider removed with its series
    /// (Graph lists each changed instance's removal beside the series'): the series'
    /// edit/delete holds the change — made again, the series takes it along as one of
    /// its occurrences. Settled on its own, by a policy or the user, it would become an
    /// event of its own, beside the occurrence the series made again has that day.
    fn removed_with_series(&self, entry: &LocalEntry) -> bool {
        entry
            .current
            .as_ref()
            .filter(|_| entry.has_local_changes())
            .and_then(|c| c.series.as_ref())
            .is_some_and(|link| self.series_going(&link.master_id))
    }

    /// Whether series `master_id` (a remote id) is removed on this page (or in this
    /// reconcile), gone at the provider (see [`LocalIndex::with_gone_series`]), or its
    /// removal waits for the user (an edit/delete conflict).
    fn series_going(&self, master_id: &str) -> bool {
        self.series_gone.contains(master_id)
            || self.index.gone_series.contains(master_id)
            || self
                .index
                .by_remote_id(master_id)
                .and_then(|m| m.open_conflict.as_ref())
                .is_some_and(|c| c.kind == ConflictKind::EditDelete)
    }

    fn finish(self, guard: Option<MassDeleteGuard>, total: usize, listed_empty: bool) -> Plan {
        if let Some(g) = guard {
            if g.trips(self.removals, total, listed_empty) {
                return Plan {
                    guard: Some(GuardTrip {
                        would_delete: self.removals,
                        total,
                    }),
                    ..Plan::default()
                };
            }
        }
        Plan {
            ops: self.ops,
            stats: self.stats,
            guard: None,
            cancelled: self.cancelled,
        }
    }

    fn upsert(&mut self, remote: RemoteEvent) {
        if self.cancelled_with_series(&remote) {
            self.stats.echoes += 1; // the series' removal settles it
            return;
        }
        let Some(entry) = self.index.by_remote_id(&remote.remote_id) else {
            if remote.kind == RemoteKind::Occurrence {
                self.stats.echoes += 1; // its series makes it here: no row of its own
                return;
            }
            return self.new_remote(remote);
        };
        // Graph's unchanged instance where an occurrence deleted here had a change
        // there (ours or theirs): that change is gone there, the deletion stands as
        // for one gone on both sides — its removal goes back into the series, which
        // sends it (see `apply::removal_back_of`). Not while the series is deleted
        // here: the deletion waits for the series' (brought back, the series keeps it).
        if remote.kind == RemoteKind::Occurrence && entry.current.is_none() {
            let series_here = remote
                .series
                .as_ref()
                .and_then(|l| self.index.by_remote_id(&l.master_id))
                .is_some_and(|m| m.current.is_some());
            if series_here {
                return self.removed(entry);
            }
            self.stats.echoes += 1;
            return;
        }
        if self.taken.contains(&entry.local_id) {
            self.stats.echoes += 1; // its series' cancellation took it
            return;
        }
        let local_id = entry.local_id.clone();
        let known_etag = |etag: &Option<String>| remote.etag.is_some() && remote.etag == *etag;
        if known_etag(&entry.base_etag) {
            self.stats.echoes += 1; // our own write, or a replay; a pending push goes out
            return;
        }
        if remote.kind == RemoteKind::Master {
            self.exceptions_cancelled(entry, &remote);
        }
        if !entry.has_local_changes() {
            if entry
                .base
                .as_ref()
                .is_some_and(|b| same_version(b, &remote))
            {
                self.stats.echoes += 1;
                self.ops.push(Op::AcknowledgeEcho {
                    local_id,
                    etag: remote.etag.clone(),
                });
            } else {
                self.stats.applied += 1;
                self.ops.push(Op::ApplyRemote {
                    local_id: Some(local_id),
                    event: remote,
                });
            }
            return;
        }
        let remote = &remote;
        if entry
            .open_conflict
            .as_ref()
            .is_some_and(|c| known_etag(&c.remote_etag))
        {
            self.stats.echoes += 1; // this version is already in the open conflict
            return;
        }
        // Cancelled there (an occurrence's deletion, where it is an instance of its
        // own) and deleted here: gone on both sides, nothing to ask.
        if remote.cancelled && entry.current.is_none() {
            self.removed(entry);
            // That day changed here since (an exception made after the deletion, its
            // create not acknowledged): the deletion there is up against that change
            // now, as for any occurrence changed here and cancelled there.
            if self.index.create_of(remote, &self.claimed).is_some() {
                self.new_remote(remote.clone());
            }
            return;
        }
        let landed;
        let entry = match entry.base.as_ref().filter(|_| !entry.sent.is_empty()) {
            Some(b) => {
                let mut base = crate::merge::as_landed(b, &entry.sent, remote);
                if entry.current.is_none() {
                    base = crate::merge::with_landed_extra(b, base, remote);
                }
                landed = LocalEntry {
                    base: Some(base),
                    ..entry.clone()
                };
                &landed
            }
            None => entry,
        };
        let (base, current) = (entry.base.as_ref(), entry.current.as_ref());
        match merge_presence(base, current, Some(remote)) {
            Presence::Merge(m) => match (base, current) {
                (Some(b), Some(l)) if !m.conflicts.is_empty() => {
                    let resolution = resolve(&m, b, l, remote, self.policy_for(entry));
                    self.settle_edit(entry, resolution, remote, m.conflicts);
                }
                _ => self.merged(local_id, m, remote, MergedBy::Clean),
            },
            Presence::DeleteRemote => {
                self.stats.echoes += 1;
                self.ops.push(Op::KeepLocalDeletion {
                    local_id,
                    base: remote.clone(),
                });
            }
            Presence::Conflict { edited, .. } => {
                self.settle_deletion(entry, Side::Local, &edited, Some(remote))
            }
            // Deleted locally with no base: a deletion against a remote version all the same.
            Presence::CreateLocal => self.settle_deletion(entry, Side::Local, remote, Some(remote)),
            // Modified locally with no base (an inconsistent row): left to the user.
            Presence::KeepBoth { local, remote } => {
                let fields = changed_fields(&local, &remote)
                    .into_iter()
                    .map(|field| FieldConflict {
                        base: Value::Null,
                        local: field.value(&local),
                        remote: field.value(&remote),
                        field,
                    })
                    .collect();
                self.conflict(
                    entry,
                    ConflictKind::EditEdit,
                    Some(&remote),
                    fields,
                    Some(local),
                );
            }
            // The remote side is present: these cannot come out.
            Presence::Gone | Presence::CreateRemote | Presence::DeleteLocal => {}
        }
    }

    /// An upsert no entry has the remote id of: our own create coming back, or new.
    fn new_remote(&mut self, remote: RemoteEvent) {
        if self.occurrence_deleted_here(&remote) {
            self.stats.echoes += 1; // the series' pending update removes it there
            return;
        }
        let Some(entry) = self.index.create_of(&remote, &self.claimed) else {
            self.stats.applied += 1;
            self.ops.push(Op::ApplyRemote {
                local_id: None,
                event: remote,
            });
            return;
        };
        self.claimed.insert(entry.local_id.clone());
        let current = entry.current.as_ref().unwrap_or(&remote);
        if let Some(base) = self.occurrence_base(current, &remote) {
            // Our change of it sent as an update of the instance, its answer lost,
            // may be what the provider has: ours, not a change made there.
            let base = crate::merge::as_landed(&base, &entry.sent, &remote);
            return self.link_merged(entry, base, remote);
        }
        let base = if self.index.removals_on_series {
            own_create_base(current, &remote)
        } else {
            remote.clone()
        };
        let base = unedited_as_ours(self.as_sent(base, &entry.sent, current), current);
        let m = crate::merge::merge(&base, current, &remote);
        if !m.conflicts.is_empty() {
            // Changed there since it landed, and changed here since it was sent.
            return self.link_merged(entry, base, remote);
        }
        self.stats.echoes += 1;
        self.link(entry, m, remote);
    }

    /// The base for our own create found at the provider: what it sent, where the
    /// provider's copy is none of it (changed there since: theirs is taken, unless
    /// changed here too), else the provider's copy (ours wins: it is what we sent, or
    /// changed since). Graph makes a series whole (its removed occurrences are deleted
    /// after the create), so there what was sent had none.
    fn as_sent(&self, base: RemoteEvent, sent: &[RemoteEvent], local: &RemoteEvent) -> RemoteEvent {
        if !self.index.removals_on_series {
            return crate::merge::as_sent(base, sent, local);
        }
        let landed: Vec<RemoteEvent> = sent
            .iter()
            .cloned()
            .map(|mut s| {
                if let Some(r) = s.recurrence.as_mut() {
                    r.exdates.clear();
                }
                s
            })
            .collect();
        crate::merge::as_sent(base, &landed, local)
    }

    /// Links `entry`'s create to `remote`, as `m` merged them.
    fn link(&mut self, entry: &LocalEntry, m: Merge, remote: RemoteEvent) {
        self.stats.pushed += usize::from(m.push);
        self.ops.push(Op::LinkCreated {
            local_id: entry.local_id.clone(),
            event: m.merged,
            base: remote,
            push: m.push,
        });
    }

    /// An exception the provider lists for an occurrence deleted here since, its
    /// series' EXDATE not pushed yet (the change here had not been acknowledged — its
    /// answer lost — so nothing links the two): it would come back as an event of its
    /// own until the series' update removes it there.
    fn occurrence_deleted_here(&self, remote: &RemoteEvent) -> bool {
        let Some(link) = remote.series.as_ref().filter(|_| !remote.cancelled) else {
            return false;
        };
        let Some(master) = self
            .index
            .by_remote_id(&link.master_id)
            .filter(|m| m.has_local_changes())
        else {
            return false;
        };
        let Some(series) = master.current.as_ref() else {
            return false;
        };
        let Some(rule) = &series.recurrence else {
            return false;
        };
        let info = crate::convert::MasterInfo::of_remote(&master.local_id, series);
        rule.exdates.iter().any(|x| {
            crate::convert::original_start_of(x, &info).is_ok_and(|o| o == link.original_start)
        })
    }

    /// For an exception changed here and one `remote` lists for the same occurrence:
    /// that occurrence as its series (as the provider last had it) makes it, the
    /// version both changes started from. `None` for anything else.
    fn occurrence_base(&self, local: &RemoteEvent, remote: &RemoteEvent) -> Option<RemoteEvent> {
        let link = local
            .series
            .as_ref()
            .filter(|_| local.kind == RemoteKind::Exception)?;
        // As the provider last had the series: a change to it here is not yet part
        // of the provider's occurrence.
        let series = self.index.by_remote_id(&link.master_id)?;
        let master = series.base.as_ref().or(series.current.as_ref())?;
        let derived = crate::convert::occurrence_of(master, &link.original_start)?;
        Some(as_occurrence_base(derived, local, remote))
    }

    /// Links an occurrence changed here to the provider's exception of it, or our
    /// create to the provider's copy of it, merged three-way against `base` (see
    /// [`Planner::occurrence_base`], [`Planner::as_sent`]): the same field changed on
    /// both is the policy's to settle or a conflict, as for any event.
    fn link_merged(&mut self, entry: &LocalEntry, base: RemoteEvent, remote: RemoteEvent) {
        let Some(local) = entry.current.as_ref() else {
            return;
        };
        let m = crate::merge::merge(&base, local, &remote);
        let conflicts = m.conflicts.clone();
        let resolution = if conflicts.is_empty() {
            Resolution::Merged(m)
        } else {
            resolve(&m, &base, local, &remote, self.policy_for(entry))
        };
        let by_policy = |planner: &mut Self, remote: &RemoteEvent| {
            planner.settled_by_policy(
                &entry.local_id,
                ConflictKind::EditEdit,
                Some(base.clone()),
                Some(local.clone()),
                Some(remote.clone()),
                conflicts.clone(),
            );
        };
        let (shown, conflicts) = match resolution {
            Resolution::Merged(m) => {
                if !conflicts.is_empty() {
                    by_policy(self, &remote);
                }
                self.stats.merged += 1;
                return self.link(entry, m, remote);
            }
            Resolution::Open {
                shown, conflicts, ..
            } => (shown.unwrap_or_else(|| local.clone()), conflicts),
            // The occurrence takes the provider's version; ours becomes an event of
            // its own at the same time.
            Resolution::KeepBoth { remote, copy } => {
                by_policy(self, &remote);
                self.stats.applied += 1;
                self.stats.pushed += 1;
                self.ops.push(Op::KeepBoth {
                    local_id: entry.local_id.clone(),
                    remote,
                    copy,
                });
                return;
            }
            Resolution::Delete | Resolution::Restore { .. } => (local.clone(), conflicts),
        };
        // Linked as shown here, its push held by the conflict until the user decides.
        let shown = RemoteEvent {
            remote_id: remote.remote_id.clone(),
            etag: remote.etag.clone(),
            ical_uid: remote.ical_uid.clone(),
            ..shown
        };
        self.stats.conflicts += 1;
        // The base stays what both changes started from (with the provider's etag for
        // the push): a newer version of the occurrence meets the same conflict again,
        // not a "disjoint" change that would settle it behind the user's back.
        // What the provider fills in, nobody edits here: as the row now has it, so
        // the provider's next change of one is no change of ours.
        let stored = RemoteEvent {
            extra: shown.extra.clone(),
            organizer: shown.organizer.clone(),
            attendees: shown.attendees.clone(),
            online_meeting: shown.online_meeting.clone(),
            ..base.clone()
        };
        self.ops.push(Op::LinkCreated {
            local_id: entry.local_id.clone(),
            event: shown,
            base: stored,
            push: true,
        });
        self.ops.push(Op::RecordConflict {
            local_id: entry.local_id.clone(),
            kind: ConflictKind::EditEdit,
            base: Some(base),
            local: Some(local.clone()),
            remote: Some(remote),
            fields: conflicts,
            shown: None,
            settled_by: None,
        });
    }

    /// Graph: the days series `remote` lists as cancelled that its base did not
    /// (deleted there since) take their exceptions here along, as the instances' own
    /// removals would — a full listing names no removal, and a series read back after
    /// a push comes alone. Left, the exception shows a day its series removes here;
    /// changed then, it came back there with the series made again, whose removal of
    /// that day then deleted the change with no question (simulation seed 85401). An
    /// exception changed here meets the deletion as an edit/delete, as always. A series
    /// moved there is left to the rebase (its cancellations are keyed by old times), one
    /// whose rule changed too (those days then wait for their instances' removals).
    fn exceptions_cancelled(&mut self, entry: &LocalEntry, remote: &RemoteEvent) {
        let Some(base) = entry
            .base
            .as_ref()
            .filter(|_| self.index.removals_on_series)
        else {
            return;
        };
        let (Some(was), Some(now)) = (&base.recurrence, &remote.recurrence) else {
            return;
        };
        if !same_days(&base.timing, &remote.timing) || !crate::merge::same_rule(was, now) {
            return;
        }
        let info = crate::convert::MasterInfo::of_remote(&entry.local_id, remote);
        let starts = |dates: &[String]| -> Vec<OriginalStart> {
            dates
                .iter()
                .filter_map(|d| crate::convert::original_start_of(d, &info).ok())
                .collect()
        };
        let known = starts(&was.exdates);
        let mut cancelled = starts(&now.exdates);
        cancelled.retain(|o| !known.contains(o));
        if cancelled.is_empty() {
            return;
        }
        let index = self.index;
        // (One not linked yet meets the deletion when its update goes out.)
        let exceptions = index
            .entries
            .iter()
            .filter(|e| e.remote_id.is_some())
            .filter(|e| {
                e.current
                    .as_ref()
                    .and_then(|c| c.series.as_ref())
                    .is_some_and(|l| {
                        l.master_id == remote.remote_id && cancelled.contains(&l.original_start)
                    })
            });
        for e in exceptions {
            // Named day by day by the series, as an EXDATE's occurrences are: no
            // absence read as a deletion, nothing for the mass-deletion guard.
            let counted = self.removals;
            self.removed(e);
            self.removals = counted;
            self.cancelled.extend(e.remote_id.clone());
        }
    }

    fn removed(&mut self, entry: &LocalEntry) {
        if !self.taken.insert(entry.local_id.clone()) {
            return; // already removed by this plan
        }
        if entry
            .open_conflict
            .as_ref()
            .is_some_and(|c| c.kind == ConflictKind::EditDelete)
        {
            self.stats.echoes += 1; // already on record
            return;
        }
        if self.removed_with_series(entry) {
            self.stats.echoes += 1; // the series' edit/delete carries it
            return;
        }
        // A series deleted there while one of its occurrences was changed here is an
        // edit/delete of the series: deleting it here would take that change with it.
        let occurrence_changed = entry
            .remote_id
            .as_ref()
            .is_some_and(|r| self.index.changed_series.contains(r));
        // A change here that is none (an edit undone), or a series' change that only
        // removes some of its days, has nothing its deletion there would lose: no edit
        // to ask about or to make it again for.
        let changed_here = entry.has_local_changes() && !nothing_to_lose(entry);
        match &entry.current {
            Some(edited) if changed_here || occurrence_changed => {
                self.removals += 1;
                self.settle_deletion(entry, Side::Remote, edited, None);
            }
            _ => {
                self.removals += usize::from(entry.state != SyncState::LocallyDeleted);
                self.stats.deleted += 1;
                self.ops.push(Op::DeleteLocal {
                    local_id: entry.local_id.clone(),
                });
            }
        }
    }

    fn merged(&mut self, local_id: String, m: Merge, remote: &RemoteEvent, by: MergedBy) {
        self.stats.merged += 1;
        self.stats.pushed += usize::from(m.push);
        self.ops.push(Op::Merged {
            local_id,
            merged: m.merged,
            base: remote.clone(),
            apply_locally: m.apply_locally,
            push: m.push,
            by,
        });
    }

    /// The policy for a new conflict of `entry`: none while the user has one of its
    /// conflicts to answer — the new versions refresh that one (I7); a policy settling
    /// them would answer the user's question behind their back.
    fn policy_for(&self, entry: &LocalEntry) -> Policy {
        if entry.open_conflict.is_some() {
            Policy::Ask
        } else {
            self.policy
        }
    }

    /// Records a conflict the policy settles (the op carrying that out follows).
    fn settled_by_policy(
        &mut self,
        local_id: &str,
        kind: ConflictKind,
        base: Option<RemoteEvent>,
        local: Option<RemoteEvent>,
        remote: Option<RemoteEvent>,
        fields: Vec<FieldConflict>,
    ) {
        self.ops.push(Op::RecordConflict {
            local_id: local_id.to_owned(),
            kind,
            base,
            local,
            remote,
            fields,
            shown: None,
            settled_by: Some(self.policy),
        });
    }

    /// An edit/edit conflict (`fields`) as the policy settles it.
    fn settle_edit(
        &mut self,
        entry: &LocalEntry,
        resolution: Resolution,
        remote: &RemoteEvent,
        fields: Vec<FieldConflict>,
    ) {
        let local_id = entry.local_id.clone();
        if matches!(
            resolution,
            Resolution::Merged(_) | Resolution::KeepBoth { .. }
        ) {
            self.settled_by_policy(
                &local_id,
                ConflictKind::EditEdit,
                entry.base.clone(),
                entry.current.clone(),
                Some(remote.clone()),
                fields,
            );
        }
        match resolution {
            Resolution::Merged(m) => self.merged(local_id, m, remote, MergedBy::Policy),
            Resolution::KeepBoth { remote, copy } => {
                self.stats.applied += 1;
                self.stats.pushed += 1;
                self.ops.push(Op::KeepBoth {
                    local_id,
                    remote,
                    copy,
                });
            }
            Resolution::Open {
                kind,
                shown,
                conflicts,
            } => self.conflict(entry, kind, Some(remote), conflicts, shown),
            // Not produced for edit/edit; left to the user should that change.
            Resolution::Delete | Resolution::Restore { .. } => {
                let shown = entry.current.clone();
                self.conflict(entry, ConflictKind::EditEdit, Some(remote), vec![], shown)
            }
        }
    }

    /// Edit/delete (`deleted_on` remote, `remote` `None`) or delete/edit (`deleted_on`
    /// local) as the policy settles it — never for the remote deletion of a local edit.
    fn settle_deletion(
        &mut self,
        entry: &LocalEntry,
        deleted_on: Side,
        edited: &RemoteEvent,
        remote: Option<&RemoteEvent>,
    ) {
        let local_id = entry.local_id.clone();
        let kind = match deleted_on {
            Side::Remote => ConflictKind::EditDelete,
            Side::Local => ConflictKind::DeleteEdit,
        };
        let resolution = resolve_deleted(deleted_on, edited, self.policy_for(entry));
        let settled = match (&resolution, remote) {
            (Resolution::Restore { .. }, _) => true,
            (Resolution::Delete, Some(_)) => deleted_on == Side::Local,
            _ => false,
        };
        if settled {
            self.settled_by_policy(
                &local_id,
                kind,
                entry.base.clone(),
                entry.current.clone(),
                remote.cloned(),
                Vec::new(),
            );
        }
        match (resolution, remote) {
            (
                Resolution::Restore {
                    event,
                    on: Side::Local,
                },
                _,
            ) => {
                self.stats.applied += 1;
                self.ops.push(Op::RestoreLocal { local_id, event });
            }
            (
                Resolution::Restore {
                    event,
                    on: Side::Remote,
                },
                _,
            ) => {
                self.stats.pushed += 1;
                self.ops.push(Op::RecreateRemote { local_id, event });
            }
            (Resolution::Delete, Some(remote)) if deleted_on == Side::Local => {
                self.stats.pushed += 1;
                self.ops.push(Op::KeepLocalDeletion {
                    local_id,
                    base: remote.clone(),
                });
            }
            // Ask, and prefer_remote against a local edit (I1): open.
            _ => {
                let shown = match deleted_on {
                    Side::Remote => entry.current.clone(),
                    Side::Local => None,
                };
                self.conflict(entry, kind, remote, vec![], shown);
            }
        }
    }

    fn conflict(
        &mut self,
        entry: &LocalEntry,
        kind: ConflictKind,
        remote: Option<&RemoteEvent>,
        fields: Vec<FieldConflict>,
        shown: Option<RemoteEvent>,
    ) {
        self.stats.conflicts += 1;
        self.ops.push(Op::RecordConflict {
            local_id: entry.local_id.clone(),
            kind,
            base: entry.base.clone(),
            local: entry.current.clone(),
            remote: remote.cloned(),
            fields,
            shown,
            settled_by: None,
        });
    }
}

/// The same first start, in the same zone (all-day: the same first day): the series'
/// days keep their keys, whatever its length.
fn same_days(a: &Timing, b: &Timing) -> bool {
    match (a, b) {
        (
            Timing::Timed {
                start: s1,
                time_zone: z1,
                ..
            },
            Timing::Timed {
                start: s2,
                time_zone: z2,
                ..
            },
        ) => s1 == s2 && z1 == z2,
        (Timing::AllDay { start: s1, .. }, Timing::AllDay { start: s2, .. }) => s1 == s2,
        _ => false,
    }
}

/// Whether `entry`, marked changed here, differs from its base in nothing (an edit
/// of a synced row, undone: its base is the row as it was before), or — a series —
/// only in days removed (the same rule and added dates, every removed date of the
/// base still removed); with no conflict open (one stays the user's, refreshed as an
/// edit/delete). (A synced row with a pending push has no base of its own, so its
/// change is unknown: not this.)
fn nothing_to_lose(entry: &LocalEntry) -> bool {
    let (Some(base), Some(current)) = (&entry.base, &entry.current) else {
        return false;
    };
    if entry.open_conflict.is_some() {
        return false;
    }
    let changed = changed_fields(base, current);
    if changed.is_empty() {
        return entry.state == SyncState::LocallyModified;
    }
    let (Some(was), Some(now)) = (&base.recurrence, &current.recurrence) else {
        return false;
    };
    crate::merge::same_rule(was, now)
        && was.exdates.iter().all(|d| now.exdates.contains(d))
        && changed == [crate::merge::Field::Recurrence]
}
