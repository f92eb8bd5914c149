//! The sync engine (DESIGN §4): for now the merge and the pull planner; the executor
//! and scheduler come with the rest of issue 5.
//!
//! [`merge`](mod@merge) is pure: it compares the base snapshot, the local row and the provider's
//! version of one event field by field and says what to write where, which fields are
//! in conflict, and how a conflict policy or a user's choice settles them. [`plan`](mod@plan) is
//! pure too: it turns a calendar's local state and one page of remote changes (or the
//! end of a full listing) into the operations the executor applies.

pub mod merge;
pub mod plan;

pub use merge::{
    apply_choice, apply_deleted_choice, changed_fields, merge, merge_presence, resolve,
    resolve_deleted, Choice, ConflictKind, Field, FieldConflict, Merge, Policy, Presence,
    Resolution, Side,
};
pub use plan::{
    listed_ids, plan_page, plan_reconcile, GuardTrip, LocalEntry, LocalIndex, MassDeleteGuard, Op,
    OpenConflict, Plan, PlanStats, SyncState,
};
