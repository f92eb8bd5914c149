//! The sync engine (DESIGN §4): for now the merge; the planner, executor and scheduler
//! come with the rest of issue 5.
//!
//! [`merge`] is pure: it compares the base snapshot, the local row and the provider's
//! version of one event field by field and says what to write where, which fields are
//! in conflict, and how a conflict policy or a user's choice settles them.

pub mod merge;

pub use merge::{
    apply_choice, apply_deleted_choice, changed_fields, merge, merge_presence, resolve,
    resolve_deleted, Choice, ConflictKind, Field, FieldConflict, Merge, Policy, Presence,
    Resolution, Side,
};
