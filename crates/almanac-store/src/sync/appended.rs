//! [`Appended`]: the change-feed and audit rows a sync step adds, written together when
//! the step ends.
//!
//! A first sync adds one of each per event. Inserted one statement per row, each row
//! paid for a statement's start and end and, both tables being AUTOINCREMENT, a read
//! and a rewrite of `sqlite_sequence`: about 4,500 of an audit row's 12,000
//! instructions when measured alone. Written [`CHUNK`] rows to a statement, that is
//! paid once per chunk (see `chunked`). The rows and their order are the same as
//! written one by one, and they are in the step's transaction, so they land with its
//! other writes or not at all.

use std::sync::LazyLock;

use crate::cached::Held;
use crate::error::Result;
use crate::feed::Source;
use crate::sync::chunked::{statement, write_rows, CHUNK};

/// `?1` is the step's time in both; each row's own values are numbered after it.
const FEED_COLUMNS: &str = "INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES ";
const ACTION_COLUMNS: &str = "INSERT INTO sync_actions (at, run_id, event_id, calendar_id, \
     direction, action, fields, reason) VALUES ";

/// A sync step's change-feed row: always an event, always [`Source::Sync`].
fn feed_row(k: usize) -> String {
    let sync = Source::Sync.as_str();
    format!("(?1, '{sync}', 'event', ?{}, ?{})", 2 + 2 * k, 3 + 2 * k)
}

const ACTION_PARAMS: usize = 7;

fn action_row(k: usize) -> String {
    let p: Vec<String> = (0..ACTION_PARAMS)
        .map(|i| format!("?{}", 2 + ACTION_PARAMS * k + i))
        .collect();
    format!("(?1, {})", p.join(", "))
}

static FEED_ONE: LazyLock<String> = LazyLock::new(|| statement(FEED_COLUMNS, feed_row, 1));
static FEED_MANY: LazyLock<String> = LazyLock::new(|| statement(FEED_COLUMNS, feed_row, CHUNK));
static ACTION_ONE: LazyLock<String> = LazyLock::new(|| statement(ACTION_COLUMNS, action_row, 1));
static ACTION_MANY: LazyLock<String> =
    LazyLock::new(|| statement(ACTION_COLUMNS, action_row, CHUNK));

/// One line of the audit trail (`sync_actions`); `fields` is a JSON list.
#[derive(Debug)]
pub(crate) struct ActionRow {
    pub run_id: i64,
    pub event_id: Option<String>,
    pub calendar_id: String,
    pub direction: String,
    pub action: String,
    pub fields: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub(crate) struct Appended {
    /// (event id, op) in the order the step wrote them.
    feed: Vec<(String, &'static str)>,
    actions: Vec<ActionRow>,
}

impl Appended {
    pub(crate) fn feed(&mut self, event_id: &str, op: &'static str) {
        self.feed.push((event_id.to_owned(), op));
    }

    pub(crate) fn action(&mut self, row: ActionRow) {
        self.actions.push(row);
    }

    /// How many rows are held: a [`Self::truncate`] back to it forgets what comes after.
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.feed.len(), self.actions.len())
    }

    /// Forgets the rows added since `mark` (the part of a step that added them was
    /// undone).
    pub(crate) fn truncate(&mut self, mark: (usize, usize)) {
        self.feed.truncate(mark.0);
        self.actions.truncate(mark.1);
    }

    /// Writes every row added so far, in order, and forgets them.
    pub(crate) fn write(&mut self, held: &Held<'_>, now: i64) -> Result<()> {
        let feed = std::mem::take(&mut self.feed);
        write_rows(
            held,
            &now,
            &feed,
            FEED_ONE.as_str(),
            FEED_MANY.as_str(),
            |(id, op), out| {
                out.push(id);
                out.push(op);
            },
        )?;
        let actions = std::mem::take(&mut self.actions);
        write_rows(
            held,
            &now,
            &actions,
            ACTION_ONE.as_str(),
            ACTION_MANY.as_str(),
            |a, out| {
                out.push(&a.run_id);
                out.push(&a.event_id);
                out.push(&a.calendar_id);
                out.push(&a.direction);
                out.push(&a.action);
                out.push(&a.fields);
                out.push(&a.reason);
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_each_rows_values_after_the_shared_time() {
        assert_eq!(
            statement(FEED_COLUMNS, feed_row, 2),
            "INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES \
             (?1, 'sync', 'event', ?2, ?3), (?1, 'sync', 'event', ?4, ?5)"
        );
        assert!(ACTION_MANY.ends_with(&format!(
            "(?1, ?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
            2 + 7 * 31,
            3 + 7 * 31,
            4 + 7 * 31,
            5 + 7 * 31,
            6 + 7 * 31,
            7 + 7 * 31,
            8 + 7 * 31
        )));
        assert_eq!(ACTION_ONE.matches("?1").count(), 1);
    }
}
