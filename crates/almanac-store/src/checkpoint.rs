//! WAL checkpoints on a thread of their own.
//!
//! By default the connection that commits copies the write-ahead log back into the
//! database file once the log passes 1,000 pages. A sync page of 2,500 events passes
//! that at every commit, and the copy with its fsyncs was 11–14 % of applying a page
//! (perf), on the thread that applies them. Here a second connection copies instead,
//! nudged after each commit: a PASSIVE checkpoint, which never blocks the writer or a
//! reader (it copies what no reader still needs and leaves the rest for next time).
//! The writer keeps an automatic checkpoint at a higher mark, so the log stays bounded
//! even if this thread falls behind or stops.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// The writer's own automatic checkpoint, in pages of the log (64 MiB of 8 KiB pages;
/// 32 MiB in an older database of 4 KiB pages): only reached when the background
/// checkpoints fall behind — which a 100k-event first sync still does now and then
/// (the writer copied a tenth of the pages; a mark four times higher was no faster).
pub(crate) const WRITER_AUTOCHECKPOINT_PAGES: i64 = 8192;

#[derive(Debug)]
pub(crate) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a second connection to `db` and starts its thread.
    pub(crate) fn start(db: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As on every connection (DESIGN §3), though this one only copies pages.
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A checkpoint syncs the log before and the database after copying at any
        // level but OFF; NORMAL is the writer's level outside user edits.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // One pending nudge is enough: a checkpoint copies everything committed so far.
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                while nudged.recv().is_ok() {
                    // A failure (the disk full, say) leaves the log as it is; the writer's
                    // own checkpoint and the next nudge try again.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|source| crate::StoreError::Io {
                path: db.display().to_string(),
                source,
            })?;
        Ok(Self {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// After a commit: copy the log into the database soon.
    pub(crate) fn nudge(&self) {
        if let Some(n) = &self.nudge {
            // Full: a nudge is pending already. Disconnected: the thread ended (it only
            // does when dropped); the writer's own checkpoint remains.
            match n.try_send(()) {
                Ok(()) | Err(TrySendError::Full(()) | TrySendError::Disconnected(())) => {}
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the loop after the checkpoint under way, if any.
        self.nudge = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use almanac_model::{EventInput, Importance, ShowAs};
    use chrono::Utc;

    use super::WRITER_AUTOCHECKPOINT_PAGES;
    use crate::{Source, Store, DB_FILE_NAME};

    fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    fn meeting(n: usize) -> EventInput {
        EventInput {
            calendar_id: "local".into(),
            title: format!("Customer review #{n}"),
            all_day: false,
            start: "2026-12-07T10:00:00".into(),
            end: "2026-12-07T10:30:00".into(),
            time_zone: "Europe/Berlin".into(),
            recurrence: None,
            location: "Room 4.12".into(),
            description: "Agenda: adoption, tickets, renewal. ".repeat(20),
            show_as: ShowAs::Busy,
            importance: Importance::Normal,
            categories: vec!["Customer".into()],
        }
    }

    #[test]
    fn a_commit_reaches_the_database_file_without_the_writer_checkpointing() {
        let dir = ok(tempfile::tempdir());
        let mut store = ok(Store::open_at(dir.path()));
        let mark: i64 = ok(store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)));
        assert_eq!(mark, WRITER_AUTOCHECKPOINT_PAGES);
        let db = dir.path().join(DB_FILE_NAME);
        let size = || std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        let before = size();
        // About 2 MB: well below the writer's own mark, so only the checkpoint thread
        // can copy it into the database file.
        ok(store.batch(Source::Cli, Utc::now(), |b| {
            for n in 0..1500 {
                b.create_event(meeting(n))?;
            }
            Ok(())
        }));
        let deadline = Instant::now() + Duration::from_secs(20);
        while size() < before + 1_000_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            size() >= before + 1_000_000,
            "the database file stayed at {} bytes (was {before})",
            size()
        );
        // Everything is readable through the writer, and closing stops the thread.
        assert_eq!(
            ok(store
                .conn
                .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))),
            1500
        );
        drop(store);
        let again = ok(Store::open_at(dir.path()));
        assert!(ok(again.check()).is_empty());
    }
}
