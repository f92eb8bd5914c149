//! `execute` and `query_row` through the connection's statement cache. Sync writes a
//! handful of statements per event; parsing each anew cost more than running it.

use rusqlite::{Connection, Params, Row};

pub(crate) trait Cached {
    fn exec_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row_cached<T, P: Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
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
