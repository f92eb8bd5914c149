use crate::cached::Cached;
use rusqlite::params;

use crate::error::Result;

/// Who made a write. Every change-feed row carries one, so the UI can tell its own
/// edits from sync's and the scheduler knows what to push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    UserWindow,
    Cli,
    Sync,
    Import,
    Background,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserWindow => "user_window",
            Self::Cli => "cli",
            Self::Sync => "sync",
            Self::Import => "import",
            Self::Background => "background",
        }
    }
}

/// One change-feed row for an event.
pub(crate) const INSERT_FEED: &str =
    "INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES (?1, ?2, 'event', ?3, ?4)";

pub(crate) fn record(
    conn: &impl Cached,
    now: i64,
    source: Source,
    entity_id: &str,
    op: &str,
) -> Result<()> {
    conn.exec_cached(INSERT_FEED, params![now, source.as_str(), entity_id, op])?;
    Ok(())
}
