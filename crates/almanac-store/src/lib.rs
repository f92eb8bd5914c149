//! Almanac's local store: SQLite through rusqlite (bundled), embedded append-only
//! migrations, typed queries, the occurrence index and the change feed.

mod accounts;
mod cached;
mod calendars;
mod checkpoint;
mod connection;
mod data_dir;
mod error;
mod event_rows;
mod events;
mod feed;
mod ical_uids;
mod ids;
#[cfg(test)]
mod migration_tests;
mod occurrences;
mod removals;
mod series_edit;
mod sync;

pub use accounts::{SignedIn, StatusChange};
pub use connection::{Store, SCHEMA_VERSION};
pub use data_dir::{DataDir, DB_FILE_NAME};
pub use error::StoreError;
pub use events::Batch;
pub use feed::Source;
pub use ical_uids::MAX_UID_CHARS;
pub use occurrences::MAX_QUERY_DAYS;
pub use series_edit::Carry;
pub use sync::*;
