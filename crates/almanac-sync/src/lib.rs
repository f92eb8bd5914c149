//! The sync engine (DESIGN §4).
//!
//! [`merge`](mod@merge) is pure: it compares the base snapshot, the local row and the
//! provider's version of one event field by field and says what to write where, which
//! fields are in conflict, and how a conflict policy or a user's choice settles them.
//! [`plan`](mod@plan) is pure too: it turns a calendar's local state and one page of
//! remote changes (or the end of a full listing) into the operations to apply.
//! [`sync_account`] is the executor: it lists an account's calendars and, per
//! calendar, pulls (each page applied together with its cursor; the pages already
//! fetched in one transaction), then pushes the outbox. [`resolve_conflict`] carries out a user's answer to a conflict.

mod apply;
mod clients;
pub mod convert;
mod error;
mod local;
pub mod merge;
pub mod plan;
mod pull;
mod push;
mod rebase;
mod resolve;
mod run;
pub mod schedule;
mod scheduler;
mod views;

pub use clients::provider_for;
pub use error::SyncError;
pub use merge::{
    apply_choice, apply_deleted_choice, changed_fields, merge, merge_presence, resolve,
    resolve_deleted, Choice, ConflictKind, Field, FieldConflict, Merge, Policy, Presence,
    Resolution, Side,
};
pub use plan::{
    listed_ids, plan_page, plan_reconcile, GuardTrip, LocalEntry, LocalIndex, MassDeleteGuard, Op,
    OpenConflict, Plan, PlanStats, SyncState,
};
pub use resolve::{answer_conflict, parse_pick, per_field, resolve_conflict, Resolved};
pub use run::{
    record_unstarted, sync_account, sync_account_reporting, CalendarRun, Clock, Held, RunSummary,
    SyncOptions,
};
pub use scheduler::{passes_with_time, Command, Connect, Now, Publish, Scheduler, SyncEvent};
pub use views::{
    action_required_notice, choice_of, conflict_notices, conflict_view, conflict_view_now,
    notice_quote, open_conflicts, overview, settled_by_policy, Notice, CONFLICT_NOTICES_AT_ONCE,
};
