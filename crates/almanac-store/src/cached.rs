//! `execute` and `query_row` through the connection's statement cache. Sync writes a
//! handful of statements per event; parsing each anew cost more than running it.

use rusqlite::{CachedStatement, Connection, Params, Row, Transaction};
use std::cell::RefCell;

pub(crate) trait Cached {
    /// Runs `sql`, prepared once. The text is `'static` so that [`Held`] can know a
    /// statement by its address.
    fn exec_cached<P: Params>(&self, sql: &'static str, params: P) -> rusqlite::Result<usize>;
    fn row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec_cached<P: Params>(&self, sql: &'static str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

impl Cached for Transaction<'_> {
    fn exec_cached<P: Params>(&self, sql: &'static str, params: P) -> rusqlite::Result<usize> {
        (**self).exec_cached(sql, params)
    }

    fn row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        (**self).row_cached(sql, params, f)
    }
}

/// The statements one sync step writes with, taken from the cache once and held until
/// the step ends. A page writes the same five or six statements for each of its
/// thousands of events; taking one from the cache and putting it back (hashing its
/// text, clearing its bindings) cost about a twentieth of applying the event.
pub(crate) struct Held<'a> {
    conn: &'a Connection,
    /// Keyed by the text's address and length: the same `'static` text is the same
    /// statement, and a handful are searched faster than any text is hashed.
    stmts: RefCell<Vec<(usize, usize, CachedStatement<'a>)>>,
}

impl<'a> Held<'a> {
    pub(crate) fn new(conn: &'a Connection) -> Self {
        Self {
            conn,
            stmts: RefCell::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Held<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("statements", &self.stmts.borrow().len())
            .finish()
    }
}

impl Cached for Held<'_> {
    fn exec_cached<P: Params>(&self, sql: &'static str, params: P) -> rusqlite::Result<usize> {
        let key = (sql.as_ptr() as usize, sql.len());
        let mut stmts = self.stmts.borrow_mut();
        let at = match stmts.iter().position(|(p, l, _)| (*p, *l) == key) {
            Some(at) => at,
            None => {
                stmts.push((key.0, key.1, self.conn.prepare_cached(sql)?));
                stmts.len() - 1
            }
        };
        stmts[at].2.execute(params)
    }

    fn row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.conn.row_cached(sql, params, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_statement_is_run_again_with_new_parameters() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap_or_else(|e| panic!("{e}"));
        const INSERT: &str = "INSERT INTO t (a, b) VALUES (?1, ?2)";
        const DELETE: &str = "DELETE FROM t WHERE a = ?1";
        let held = Held::new(&conn);
        for i in 0..5_i64 {
            held.exec_cached(INSERT, rusqlite::params![i, format!("row {i}")])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let deleted = held
            .exec_cached(DELETE, [3_i64])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(deleted, 1);
        // Two texts, two statements, each prepared once.
        assert_eq!(held.stmts.borrow().len(), 2);
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT a, b FROM t ORDER BY a")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let want: Vec<(i64, String)> = [0, 1, 2, 4].map(|i| (i, format!("row {i}"))).into();
        assert_eq!(rows, want);
    }

    #[test]
    fn an_error_leaves_the_held_statements_usable() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (a INTEGER NOT NULL UNIQUE)")
            .unwrap_or_else(|e| panic!("{e}"));
        const INSERT: &str = "INSERT INTO t (a) VALUES (?1)";
        let held = Held::new(&conn);
        held.exec_cached(INSERT, [1_i64])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            held.exec_cached(INSERT, [1_i64]).is_err(),
            "duplicate refused"
        );
        held.exec_cached(INSERT, [2_i64])
            .unwrap_or_else(|e| panic!("{e}"));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 2);
    }
}
