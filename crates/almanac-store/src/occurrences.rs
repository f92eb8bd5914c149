//! The occurrence index: every event's instances over a rolling window, so a range
//! query is one indexed SELECT instead of expanding every series each time.
//!
//! Single events and exceptions always have their one row. Series are expanded over
//! `[window_from, window_to)` (kept in `store_meta`); a query outside it extends the
//! window first, in the same transaction.

use crate::cached::Cached;
use almanac_model::recurrence::{ExpandError, SeriesSpec};
use almanac_model::time::{format_date, format_instant, parse_instant};
use almanac_model::{EventKind, Occurrence, RangeQuery};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::event_rows::{instant, load, parse_importance, parse_show_as, wall_key};
use crate::Store;

/// Longest range one query may ask for.
pub const MAX_QUERY_DAYS: i64 = 366 * 3;
/// At most this many instances of one series are indexed per window extension.
const MAX_INSTANCES_PER_SERIES: usize = 20_000;
/// How far past a query the window grows, so paging week by week rarely extends it.
const WINDOW_MARGIN_DAYS: i64 = 180;

fn meta(conn: &Connection, key: &str) -> Result<Option<i64>> {
    Ok(conn
        .row_cached(
            "SELECT value FROM store_meta WHERE key = ?1",
            params![key],
            |r| r.get(0),
        )
        .optional()?)
}

fn set_meta(conn: &Connection, key: &str, value: i64) -> Result<()> {
    conn.exec_cached(
        "INSERT INTO store_meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Records that an event lasts `span` seconds: range queries look back by the longest
/// one. Written only when it grows: sync writes thousands of events in a row, and an
/// update that changes nothing still dirties the page.
pub(crate) fn widen_max_span(conn: &impl Cached, span: i64) -> Result<()> {
    conn.exec_cached(
        "UPDATE store_meta SET value = ?1 WHERE key = 'max_span' AND value < ?1",
        params![span],
    )?;
    Ok(())
}

fn window(conn: &Connection) -> Result<Option<(i64, i64)>> {
    Ok(meta(conn, "window_from")?.zip(meta(conn, "window_to")?))
}

fn expand_err(id: &str, e: ExpandError) -> StoreError {
    match e {
        // A rule with no end, asked about a time far from its start.
        ExpandError::TooMany(_) => StoreError::BadRequest(format!(
            "A repeating event ({id}) cannot be listed this far from where it starts: {e}."
        )),
        ExpandError::Invalid(_) => {
            StoreError::Corrupt(format!("series {id} cannot be expanded: {e}"))
        }
    }
}

/// Whether `wall` is an instance of the series (EXDATEs excluded).
pub(crate) fn is_instance(spec: &SeriesSpec, wall: NaiveDateTime) -> Result<bool> {
    let probe = wall.and_utc();
    let found = spec
        .expand(probe - Duration::days(2), probe + Duration::days(2), 10_000)
        .map_err(|e| StoreError::BadRequest(e.to_string()))?;
    Ok(found.iter().any(|i| i.original == wall))
}

/// Takes the index row of series `id`'s occurrence at `key` away: an exception holds
/// that slot now (as [`reindex`] of the series would leave it).
pub(crate) fn drop_slot(conn: &Connection, id: &str, key: &str) -> Result<()> {
    conn.exec_cached(
        "DELETE FROM occurrences WHERE event_id = ?1 AND original_start = ?2",
        params![id, key],
    )?;
    Ok(())
}

/// Rebuilds the index rows of one event (for a master: within the current window).
pub(crate) fn reindex(conn: &Connection, id: &str) -> Result<()> {
    conn.exec_cached("DELETE FROM occurrences WHERE event_id = ?1", params![id])?;
    let row = load(conn, id)?;
    match row.kind {
        EventKind::Single => {
            insert(
                conn,
                id,
                "",
                &row.input.calendar_id,
                row.start_utc,
                row.end_utc,
            )?;
        }
        EventKind::Exception => {
            let cancelled: bool = conn.row_cached(
                "SELECT cancelled FROM events WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            if cancelled {
                return Ok(()); // a removed instance: it only hides its slot in the series
            }
            let key = row.original_start.clone().unwrap_or_default();
            insert(
                conn,
                id,
                &key,
                &row.input.calendar_id,
                row.start_utc,
                row.end_utc,
            )?;
        }
        EventKind::Master => {
            if let Some((from, to)) = window(conn)? {
                index_series(conn, id, instant(from), instant(to))?;
            }
        }
    }
    Ok(())
}

/// [`reindex`] of a single event whose bounds the caller just wrote (`fresh`: a new
/// row, with no index rows yet).
pub(crate) fn reindex_single(
    conn: &impl Cached,
    id: &str,
    calendar: &str,
    start: i64,
    end: i64,
    fresh: bool,
) -> Result<()> {
    if !fresh {
        conn.exec_cached("DELETE FROM occurrences WHERE event_id = ?1", params![id])?;
    }
    insert(conn, id, "", calendar, start, end)
}

fn insert(
    conn: &impl Cached,
    id: &str,
    key: &str,
    calendar: &str,
    start: i64,
    end: i64,
) -> Result<()> {
    conn.exec_cached(
        "INSERT OR IGNORE INTO occurrences (event_id, original_start, calendar_id, start_utc, end_utc)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, key, calendar, start, end],
    )?;
    Ok(())
}

/// Adds the series' instances in `[from, to)`, skipping those replaced by exceptions.
fn index_series(conn: &Connection, id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    let row = load(conn, id)?;
    let Some(spec) = row.series()? else {
        return Ok(());
    };
    let mut stmt = conn.prepare_cached("SELECT original_start FROM events WHERE series_id = ?1")?;
    let replaced: std::collections::HashSet<String> = stmt
        .query_map(params![id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let instances = spec
        .expand(from, to, MAX_INSTANCES_PER_SERIES)
        .map_err(|e| expand_err(id, e))?;
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO occurrences (event_id, original_start, calendar_id, start_utc, end_utc)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for i in instances {
        let key = wall_key(i.original, spec.all_day);
        if replaced.contains(&key) {
            continue;
        }
        ins.execute(params![
            id,
            key,
            row.input.calendar_id,
            i.start.timestamp(),
            i.end.timestamp()
        ])?;
    }
    Ok(())
}

/// The occurrences overlapping `[?1, ?2)` in the calendars of the JSON array `?4` (every
/// calendar when `?4` is NULL), `?3` being the longest span indexed. Each calendar is a
/// seek into its own part of `occurrences_range` (0014); the rows are then sorted.
pub(crate) const RANGE_SQL: &str = "
    SELECT e.id, e.series_id, o.original_start, e.calendar_id, e.title, e.all_day,
           o.start_utc, o.end_utc, e.time_zone, e.location, e.show_as, e.importance,
           e.categories, e.kind
    FROM occurrences o JOIN events e ON e.id = o.event_id
    WHERE o.calendar_id IN (SELECT id FROM calendars WHERE ?4 IS NULL
                            UNION ALL SELECT value FROM json_each(?4))
      AND o.start_utc < ?2 AND o.start_utc >= ?1 - ?3
      AND (o.end_utc > ?1 OR (o.end_utc = o.start_utc AND o.start_utc >= ?1))
    ORDER BY o.start_utc, e.title, e.id";

/// Grows the indexed window to cover `[from, to)`, or moves it there when the range
/// lies more than [`MAX_QUERY_DAYS`] away: growing over such a gap would expand every
/// series over all of it (decades for a query far ahead, more than a series may
/// produce in one go), for a part of time nobody asked about.
fn ensure_window(conn: &Connection, from: i64, to: i64) -> Result<()> {
    let margin = WINDOW_MARGIN_DAYS * 86_400;
    let mut current = window(conn)?;
    if matches!(current, Some((wf, wt)) if wf <= from && wt >= to) {
        return Ok(());
    }
    let far = MAX_QUERY_DAYS * 86_400;
    if matches!(current, Some((wf, wt)) if from - wt > far || wf - to > far) {
        conn.execute(
            "DELETE FROM occurrences
             WHERE event_id IN (SELECT id FROM events WHERE kind = 'master')",
            [],
        )?;
        current = None;
    }
    let (new_from, new_to) = match current {
        Some((wf, wt)) => (wf.min(from - margin), wt.max(to + margin)),
        None => (from - margin, to + margin),
    };
    let masters: Vec<String> = conn
        .prepare("SELECT id FROM events WHERE kind = 'master'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let pieces = match current {
        Some((wf, wt)) => vec![(new_from, wf), (wt, new_to)],
        None => vec![(new_from, new_to)],
    };
    for id in &masters {
        for &(a, b) in &pieces {
            if a < b {
                index_series(conn, id, instant(a), instant(b))?;
            }
        }
    }
    set_meta(conn, "window_from", new_from)?;
    set_meta(conn, "window_to", new_to)?;
    Ok(())
}

fn bad(msg: String) -> StoreError {
    StoreError::BadRequest(msg)
}

impl Store {
    /// The first timed occurrence of a shown calendar that starts in `[from, until)`:
    /// the next meeting, as the tray shows it. All-day events are not meetings.
    pub fn next_occurrence(
        &mut self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Occurrence>> {
        let shown = self
            .list_calendars()?
            .into_iter()
            .filter(|c| c.visible)
            .map(|c| c.id)
            .collect();
        let all = self.list_occurrences(&RangeQuery {
            from: format_instant(from),
            to: format_instant(until),
            calendar_ids: Some(shown),
        })?;
        // In start order; an occurrence that began before `from` overlaps the range too.
        Ok(all
            .into_iter()
            .find(|o| !o.all_day && parse_instant(&o.start).is_some_and(|s| s >= from)))
    }

    /// The expanded instances overlapping `[from, to)` in the chosen calendars, in
    /// start order. Extends the index first when the range is outside it.
    pub fn list_occurrences(&mut self, q: &RangeQuery) -> Result<Vec<Occurrence>> {
        let from = parse_instant(&q.from)
            .ok_or_else(|| bad(format!("\"{}\" is not an RFC 3339 instant.", q.from)))?;
        let to = parse_instant(&q.to)
            .ok_or_else(|| bad(format!("\"{}\" is not an RFC 3339 instant.", q.to)))?;
        if to <= from {
            return Err(bad("The end of the range must be after its start.".into()));
        }
        if to - from > Duration::days(MAX_QUERY_DAYS) {
            return Err(bad(format!(
                "Ask for at most {MAX_QUERY_DAYS} days at a time."
            )));
        }
        let (from, to) = (from.timestamp(), to.timestamp());
        if !matches!(window(&self.conn)?, Some((wf, wt)) if wf <= from && wt >= to) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            ensure_window(&tx, from, to)?;
            tx.commit()?;
        }
        let max_span = meta(&self.conn, "max_span")?.unwrap_or(0);
        let calendars = q
            .calendar_ids
            .as_ref()
            .map(|ids| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()));
        let mut stmt = self.conn.prepare_cached(RANGE_SQL)?;
        let rows = stmt.query_map(params![from, to, max_span, calendars], |r| {
            let kind: String = r.get(13)?;
            let all_day: bool = r.get(5)?;
            let key: String = r.get(2)?;
            let (start, end) = (instant(r.get(6)?), instant(r.get(7)?));
            let fmt = |t: DateTime<Utc>| {
                if all_day {
                    format_date(t.date_naive())
                } else {
                    format_instant(t)
                }
            };
            let id: String = r.get(0)?;
            let series_id: Option<String> = r.get(1)?;
            Ok(Occurrence {
                series_id: if kind == "master" {
                    Some(id.clone())
                } else {
                    series_id
                },
                event_id: id,
                original_start: (!key.is_empty()).then_some(key),
                calendar_id: r.get(3)?,
                title: r.get(4)?,
                all_day,
                start: fmt(start),
                end: fmt(end),
                time_zone: r.get(8)?,
                location: r.get(9)?,
                show_as: parse_show_as(&r.get::<_, String>(10)?),
                importance: parse_importance(&r.get::<_, String>(11)?),
                categories: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
                recurring: kind != "single",
                exception: kind == "exception",
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
