//! Opening the database: file mode, connection settings, migrations.

use std::path::Path;
use std::sync::LazyLock;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use crate::checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT_PAGES};
use crate::data_dir::DataDir;
use crate::error::{Result, StoreError};

pub(crate) static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(vec![
        M::up(include_str!("migrations/0001_initial.sql")),
        M::up(include_str!("migrations/0002_occurrence_range_index.sql")),
        M::up(include_str!("migrations/0003_account_identity.sql")),
        M::up(include_str!("migrations/0004_sync_engine.sql")),
        M::up(include_str!("migrations/0005_listing_seen.sql")),
        M::up(include_str!("migrations/0006_events_remote_index.sql")),
        M::up(include_str!("migrations/0007_drop_events_remote_index.sql")),
        M::up(include_str!("migrations/0008_attendees_in_events.sql")),
        M::up(include_str!("migrations/0009_cheaper_event_writes.sql")).foreign_key_check(),
        M::up(include_str!("migrations/0010_round_gone.sql")),
        M::up(include_str!("migrations/0011_round_written.sql")),
        M::up(include_str!("migrations/0012_conflict_resolved_by.sql")),
        M::up(include_str!("migrations/0013_listing_from_empty.sql")),
        M::up(include_str!("migrations/0014_occurrences_by_calendar.sql")),
        M::up(include_str!("migrations/0015_imported_uid.sql")),
        M::up(include_str!("migrations/0016_left_out_series.sql")),
    ])
});

/// Brings `conn`'s schema up to date. Each migration runs in its own transaction: a
/// failure leaves the previous version intact. Foreign keys are off meanwhile (they
/// cannot change inside a transaction): rebuilding a parent table (0009) drops the old
/// one, whose cascades would empty the child tables. Such a migration checks every key
/// before it commits instead.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = MIGRATIONS.to_latest(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(migrated?)
}

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 16;

/// The store: the one writer connection of a locked data directory.
#[derive(Debug)]
pub struct Store {
    // Fields drop in this order: the checkpoint thread and its connection first, then
    // the writer (whose close, as the last connection, checkpoints the rest), then the
    // lock on the data directory. A read-only store has neither thread nor lock.
    checkpoint: Option<Checkpointer>,
    pub(crate) conn: Connection,
    dir: DataDir,
}

/// When a commit is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// `synchronous=FULL`: the log is synced at the commit, so the transaction survives
    /// a power cut.
    Full,
    /// `synchronous=NORMAL`, the connection's setting: in WAL mode a commit survives the
    /// process crashing, and a power cut can lose only the last such commits, whole and
    /// in order (the next `Full` commit syncs every one before it).
    Normal,
}

impl Store {
    /// Locks `path` (see [`DataDir::lock`]) and opens the database in it.
    pub fn open_at(path: &Path) -> Result<Self> {
        Self::open(DataDir::lock(path)?)
    }

    /// Opens (creating if needed) the database of a locked data directory and brings
    /// its schema up to date. A database from a newer Almanac is refused untouched.
    pub fn open(dir: DataDir) -> Result<Self> {
        let db = dir.db_path();
        create_private_file(&db).map_err(|source| StoreError::Io {
            path: db.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open_with_flags(
            &db,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        migrate(&mut conn)?;
        let checkpoint = Checkpointer::start(&db)?;
        Ok(Self {
            checkpoint: Some(checkpoint),
            conn,
            dir,
        })
    }

    /// Opened beside another process that holds the data directory (the desktop app or
    /// the daemon, whose sync loop then runs), by [`Store::open_read_only`].
    pub fn beside_holder(&self) -> bool {
        self.checkpoint.is_none()
    }

    /// Opens the database of a directory another process holds, read-only: for
    /// commands that only look (status, the log, conflicts) while the app or the
    /// daemon runs. WAL lets them read beside its writes. Nothing is migrated, so the
    /// schema must be this build's.
    pub fn open_read_only(dir: DataDir) -> Result<Self> {
        let conn = Connection::open_with_flags(
            dir.db_path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", "ON")?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::Locked(dir.path().display().to_string()));
        }
        Ok(Self {
            checkpoint: None,
            conn,
            dir,
        })
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `f` in one immediate transaction with `synchronous=FULL`: a user edit is
    /// on disk before the UI is told it was saved.
    pub(crate) fn durable<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transaction(Durability::Full, f)
    }

    /// Runs `f` in one immediate transaction committed as `durability` says.
    pub(crate) fn transaction<T>(
        &mut self,
        durability: Durability,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let full = durability == Durability::Full;
        if full {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        let out = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let v = f(&tx)?;
            tx.commit()?;
            if let Some(c) = &self.checkpoint {
                c.nudge();
            }
            Ok(v)
        })();
        if full {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        out
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: the problems found, if any.
    pub fn check(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let row = row?;
            if row != "ok" {
                problems.push(format!("integrity: {row}"));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |r| {
            Ok(format!(
                "foreign key: table {} row {} references missing {}",
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                r.get::<_, String>(2)?
            ))
        })?;
        for row in rows {
            problems.push(row?);
        }
        Ok(problems)
    }

    /// Rows inserted, updated or deleted through this connection since it opened
    /// (triggers included): what the benchmarks count as database writes.
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// Connection settings, in this order, on every connection.
fn configure(conn: &Connection) -> Result<()> {
    // First, so that the statements below wait for a busy database instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // 8 KiB pages for a new database (an existing one keeps its size: WAL fixes it).
    // An event row with its provider-only fields and attendees is 1.5-3 KB, so 4 KiB
    // pages hold one or two and split every other insert; a first sync applied 9-15 % more events per
    // second with 8 KiB, range queries were as fast and a durable save stayed near
    // 0.4 ms (README "Sync").
    conn.pragma_update(None, "page_size", 8192)?;
    // WAL: readers never block the writer and the writer never blocks readers.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Off by default in SQLite and per connection: without it ON DELETE CASCADE and
    // every REFERENCES clause are silently ignored.
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // NORMAL is corruption-safe in WAL mode; transactions carrying a user edit switch
    // to FULL (see `Store::durable`) so a saved edit survives power loss.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // The default page cache is 2 MiB; range queries over a 100k-event database then
    // re-read pages from disk for every joined row. 64 MiB keeps the hot index resident.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Keep the WAL bounded after checkpoints (64 MiB).
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    // Checkpoints run on their own thread after each commit (see `checkpoint`); the
    // writer checkpoints itself only if the log grows past this mark all the same.
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
    // Statement journals (a statement inside a transaction that may have to undo
    // itself: upserts, constraint checks) and temporary indexes stay in memory instead
    // of a temporary file written through the kernel for every row sync applies.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Sync runs a few dozen distinct statements per event it applies (see `cached`);
    // rusqlite's default cache of 16 would evict them in turn.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// Creates the database file with mode 0600 before SQLite does (SQLite copies the
/// main file's mode to its -wal and -shm files).
#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(path)?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn create_private_file(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_model::{AttendeeKind, Response};

    #[test]
    fn migrations_are_valid_and_reach_the_declared_version() {
        MIGRATIONS
            .validate()
            .unwrap_or_else(|e| panic!("migrations do not apply to an empty database: {e}"));
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        MIGRATIONS
            .to_latest(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap_or(-1);
        assert_eq!(
            v, SCHEMA_VERSION,
            "SCHEMA_VERSION must equal the number of migrations"
        );
    }

    #[test]
    fn migration_8_keeps_every_attendee_in_order_inside_its_event() {
        let mut conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        MIGRATIONS
            .to_version(&mut conn, 7)
            .unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch(
            "INSERT INTO accounts (id, provider, email, created_at) VALUES ('a', 'google', 'me@x', 0);
             INSERT INTO calendars (id, account_id, remote_id, name, color) VALUES ('c', 'a', 'r', 'Work', '#123456');
             INSERT INTO events (id, calendar_id, remote_id, kind, title, all_day, start_local,
                end_local, time_zone, start_utc, end_utc, created_at, updated_at)
             VALUES ('e1', 'c', 'r1', 'single', 'QBR', 0, '2026-12-01T10:00:00',
                '2026-12-01T11:00:00', 'UTC', 1796119200, 1796122800, 0, 0),
                    ('e2', 'c', 'r2', 'single', 'Alone', 0, '2026-12-01T10:00:00',
                '2026-12-01T11:00:00', 'UTC', 1796119200, 1796122800, 0, 0);
             INSERT INTO attendees (event_id, email, name, type, response) VALUES
                ('e1', 'zoe@customer.com', 'Zoë \"Z\" Ng', 'required', 'accepted'),
                ('e1', 'amy@customer.com', '', 'optional', 'tentative'),
                ('e1', 'room@x.com', 'Room 4', 'resource', 'none');",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        MIGRATIONS
            .to_latest(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"));
        let row = crate::sync::rows::read(&conn, "e1")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("e1 is gone"));
        let got: Vec<(String, String, AttendeeKind, Response)> = row
            .attendees
            .into_iter()
            .map(|a| (a.person.email, a.person.name, a.kind, a.response))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "zoe@customer.com".into(),
                    "Zoë \"Z\" Ng".into(),
                    AttendeeKind::Required,
                    Response::Accepted
                ),
                (
                    "amy@customer.com".into(),
                    String::new(),
                    AttendeeKind::Optional,
                    Response::Tentative
                ),
                (
                    "room@x.com".into(),
                    "Room 4".into(),
                    AttendeeKind::Resource,
                    Response::None
                ),
            ]
        );
        let alone = crate::sync::rows::read(&conn, "e2")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("e2 is gone"));
        assert!(alone.attendees.is_empty());
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'attendees'",
                [],
                |r| r.get(0),
            )
            .unwrap_or(-1);
        assert_eq!(tables, 0, "the attendees table is gone");
    }

    #[test]
    fn every_connection_enforces_foreign_keys_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open_at(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let fk: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap_or(0);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap_or_default();
        assert_eq!((fk, mode.as_str()), (1, "wal"));
        let page: i64 = store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap_or(0);
        assert_eq!(page, 8192, "a new database has 8 KiB pages");
    }
}
