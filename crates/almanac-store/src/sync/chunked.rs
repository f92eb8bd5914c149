//! Many rows to one INSERT statement. A sync step adds thousands of rows of the same
//! shape (a page's change-feed and audit lines, the ids its listing showed); each
//! statement run costs its start and end, and for an AUTOINCREMENT table a read and a
//! rewrite of `sqlite_sequence`, whatever the number of rows it inserts.

use rusqlite::params_from_iter;
use rusqlite::types::ToSql;

use crate::cached::{Cached, Held};
use crate::error::Result;

/// Rows per multi-row INSERT; the few left over go one by one.
pub(crate) const CHUNK: usize = 32;

/// `columns` (an `INSERT … VALUES ` prefix) with `rows` value lists, `row(k)` the
/// `k`th. Every statement's `?1` is a value shared by all its rows.
pub(crate) fn statement(columns: &str, row: impl Fn(usize) -> String, rows: usize) -> String {
    let values: Vec<String> = (0..rows).map(row).collect();
    format!("{columns}{}", values.join(", "))
}

/// `rows` in chunks of [`CHUNK`] through `many`, the rest through `one`; `shared` is
/// `?1`, and `bind` adds a row's own values after it.
pub(crate) fn write_rows<'r, T>(
    held: &Held<'_>,
    shared: &'r dyn ToSql,
    rows: &'r [T],
    one: &'static str,
    many: &'static str,
    bind: impl Fn(&'r T, &mut Vec<&'r dyn ToSql>),
) -> Result<()> {
    let mut values: Vec<&dyn ToSql> = Vec::new();
    let mut chunks = rows.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        run(held, many, shared, chunk, &bind, &mut values)?;
    }
    for row in chunks.remainder() {
        run(
            held,
            one,
            shared,
            std::slice::from_ref(row),
            &bind,
            &mut values,
        )?;
    }
    Ok(())
}

fn run<'r, T>(
    held: &Held<'_>,
    sql: &'static str,
    shared: &'r dyn ToSql,
    rows: &'r [T],
    bind: &impl Fn(&'r T, &mut Vec<&'r dyn ToSql>),
    values: &mut Vec<&'r dyn ToSql>,
) -> Result<()> {
    values.clear();
    values.push(shared);
    for row in rows {
        bind(row, values);
    }
    held.exec_cached(sql, params_from_iter(values.iter()))?;
    Ok(())
}
