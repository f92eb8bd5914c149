//! The store side of two-way sync (DESIGN §4): row-level primitives the engine in
//! `almanac-sync` drives. The store knows nothing of providers: a synced event comes in
//! as a [`SyncedEvent`] (every column of the row), a base snapshot as opaque JSON the
//! engine wrote (or none: a synced row is its own base, see `base`), and each engine
//! step runs inside one [`SyncTx`] — one durable transaction, so a page of changes and
//! its cursor land together or not at all.

mod appended;
mod base;
mod calendars;
mod chunked;
mod conflicts;
mod entries;
mod outbox;
pub(crate) mod rows;
mod runs;
pub(crate) mod tx;

pub use base::base_row;
pub(crate) use base::keep_base;
pub use calendars::{CalendarHold, ListedCalendars, RemoteCalendarRow, SyncCalendar};
pub use conflicts::{ConflictRecord, NewConflict};
pub use entries::{EntryState, EntrySync, MasterKey, OpenConflictRow, PendingDelete, SyncEntry};
pub(crate) use outbox::{account_of, track_delete, track_write};
pub use outbox::{OccurrenceKey, OutboxOp, OutboxRow, SentPayload};
pub use rows::{CheckedEvent, SyncedEvent};
pub use runs::{RunOutcome, RunRecord, SyncActionRecord, SyncStatus};
pub use tx::SyncTx;
