//! Event writes: create, edit and delete, with "this occurrence" / "all occurrences".
//! Each write is one durable transaction: the row, its occurrence index rows and a
//! change-feed row commit together or not at all.

use almanac_model::time::{format_date, parse_date, parse_instant, parse_zone, EventTime};
use almanac_model::{
    instance_key, EditScope, EventChange, EventInput, EventKind, EventMove, EventTarget, EventView,
    Sensitivity, ValidEvent,
};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::calendars::CalendarAccess;
use crate::error::{Result, StoreError};
use crate::event_rows::{bounds, importance_str, load, show_as_str, wall_key, EventRow};
use crate::feed::{record, Source};
use crate::occurrences::{is_instance, reindex};
use crate::removals;
use crate::series_edit::{self, Followed};
use crate::sync::{keep_base, track_delete, track_write};
use crate::Store;

fn require_editable(tx: &Transaction<'_>, calendar_id: &str) -> Result<()> {
    let CalendarAccess { can_edit } = Store::calendar_access(tx, calendar_id)?;
    if !can_edit {
        let name: String = tx.query_row(
            "SELECT name FROM calendars WHERE id = ?1",
            params![calendar_id],
            |r| r.get(0),
        )?;
        return Err(StoreError::ReadOnly(name));
    }
    Ok(())
}

fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Writes every editable column of `v` into row `id` (insert or update).
fn write_row(
    tx: &Transaction<'_>,
    id: &str,
    kind: EventKind,
    series: Option<(&str, &str)>,
    v: &ValidEvent,
    now: i64,
    insert: bool,
) -> Result<()> {
    let i = &v.input;
    let (start_utc, end_utc) = bounds(v);
    let (rrule, exdates, rdates) = match &i.recurrence {
        Some(r) => (
            Some(r.rrule.as_str()),
            to_json(&r.exdates),
            to_json(&r.rdates),
        ),
        None => (None, "[]".to_owned(), "[]".to_owned()),
    };
    let (series_id, original_start) = series.map_or((None, None), |(s, o)| (Some(s), Some(o)));
    let sql = if insert {
        "INSERT INTO events (id, calendar_id, kind, series_id, original_start, title, body_text,
            all_day, start_local, end_local, time_zone, start_utc, end_utc, show_as, importance,
            categories, location, rrule, exdates, rdates, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?21)"
    } else {
        "UPDATE events SET calendar_id = ?2, kind = ?3, series_id = ?4, original_start = ?5,
            title = ?6, body_text = ?7, all_day = ?8, start_local = ?9, end_local = ?10,
            time_zone = ?11, start_utc = ?12, end_utc = ?13, show_as = ?14, importance = ?15,
            categories = ?16, location = ?17, rrule = ?18, exdates = ?19, rdates = ?20,
            updated_at = ?21
         WHERE id = ?1"
    };
    tx.execute(
        sql,
        params![
            id,
            i.calendar_id,
            kind.as_str(),
            series_id,
            original_start,
            i.title,
            i.description,
            i.all_day,
            i.start,
            i.end,
            i.time_zone,
            start_utc,
            end_utc,
            show_as_str(i.show_as),
            importance_str(i.importance),
            to_json(&i.categories),
            i.location,
            rrule,
            exdates,
            rdates,
            now,
        ],
    )?;
    crate::occurrences::widen_max_span(tx, end_utc - start_utc)?;
    Ok(())
}

fn view(conn: &rusqlite::Connection, id: &str) -> Result<EventView> {
    let mut view = load(conn, id)?.view();
    view.meeting = crate::sync::rows::meeting(conn, id)?;
    let (formatted, sensitivity) = conn.query_row(
        "SELECT body_html IS NOT NULL, sensitivity FROM events WHERE id = ?1",
        params![id],
        |r| Ok((r.get(0)?, r.get::<_, String>(1)?)),
    )?;
    view.formatted_description = formatted;
    view.sensitivity = crate::sync::rows::parse_sensitivity(&sensitivity);
    Ok(view)
}

/// The instance key a caller named, checked against the series.
fn occurrence_key(
    tx: &Transaction<'_>,
    master: &EventRow,
    original_start: Option<&str>,
) -> Result<String> {
    let raw = original_start.ok_or_else(|| {
        StoreError::BadRequest("Say which occurrence: its original start is missing.".into())
    })?;
    // An occurrence the series left behind at the provider is named by its own key.
    if let Some(key) = left_behind_key(tx, master, raw)? {
        return Ok(key);
    }
    let wall = instance_key("original start", raw, master.input.all_day)?;
    let spec = master
        .series()?
        .ok_or_else(|| StoreError::Corrupt("master without rule".into()))?;
    if !is_instance(&spec, wall)? {
        return Err(StoreError::NotFound(format!(
            "\"{}\" has no occurrence starting at {raw}.",
            master.input.title
        )));
    }
    Ok(wall_key(wall, master.input.all_day))
}

/// Whether instance key `key` is of the kind of `master`'s keys (a date for an all-day
/// series, else a wall time). One of the other kind names an occurrence the series
/// left behind at the provider by becoming all-day or timed (see `series_edit`): no
/// day of the series now, so deleting it removes nothing from the series (such a
/// removed date would also make the provider refuse the series' next update).
fn of_series_kind(key: &str, master: &EventRow) -> bool {
    parse_date(key).is_some() == master.input.all_day
}

/// The key of the occurrence series `master` left behind that `raw` names (a key of
/// the other kind than the series', as the caller spelled it), if it has one.
fn left_behind_key(
    conn: &rusqlite::Connection,
    master: &EventRow,
    raw: &str,
) -> Result<Option<String>> {
    let all_day = parse_date(raw).is_some();
    if all_day == master.input.all_day {
        return Ok(None);
    }
    let Ok(wall) = instance_key("original start", raw, all_day) else {
        return Ok(None);
    };
    let key = wall_key(wall, all_day);
    Ok(exception_at(conn, &master.id, &key)?.map(|_| key))
}

/// The id of the exception of series `master_id` keyed `key`, if it has one.
fn exception_at(conn: &rusqlite::Connection, master_id: &str, key: &str) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT id FROM events WHERE series_id = ?1 AND original_start = ?2",
            params![master_id, key],
            |r| r.get(0),
        )
        .optional()?)
}

impl Store {
    pub fn get_event(&self, id: &str) -> Result<EventView> {
        view(&self.conn, id)
    }

    /// Every exception row of series `series_id`, in key order, each with whether it is
    /// a removed instance a provider keeps as cancelled (`true`) or a changed one,
    /// wherever it was moved to.
    pub fn exceptions_of(&self, series_id: &str) -> Result<Vec<(EventView, bool)>> {
        let rows: Vec<(String, bool)> = {
            let mut st = self.conn.prepare(
                "SELECT id, cancelled FROM events WHERE series_id = ?1
                 ORDER BY original_start, id",
            )?;
            let found = st.query_map(params![series_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            found.collect::<rusqlite::Result<_>>()?
        };
        rows.into_iter()
            .map(|(id, cancelled)| Ok((view(&self.conn, &id)?, cancelled)))
            .collect()
    }

    /// The occurrence series `series_id` left behind at the provider that
    /// `original_start` names (a key of the other kind than the series': a time under
    /// an all-day series, a date under a timed one), if it has one: it is named by its
    /// own key, not read as one of the series' days.
    pub fn left_behind_of(
        &self,
        series_id: &str,
        original_start: &str,
    ) -> Result<Option<EventView>> {
        let master = load(&self.conn, series_id)?;
        match left_behind_key(&self.conn, &master, original_start)? {
            Some(key) => self.exception_of(series_id, &key),
            None => Ok(None),
        }
    }

    /// The exception of series `series_id` for its instance keyed `original_start`
    /// (as stored: `YYYY-MM-DDTHH:MM:SS`, a date for all-day series), wherever it was
    /// moved to; `None` when that instance has none.
    pub fn exception_of(&self, series_id: &str, original_start: &str) -> Result<Option<EventView>> {
        exception_at(&self.conn, series_id, original_start)?
            .map(|id| view(&self.conn, &id))
            .transpose()
    }

    /// Creates an event (a series when it has a repeat rule).
    pub fn create_event(
        &mut self,
        input: EventInput,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<EventView> {
        self.durable(|tx| create_event_in(tx, input, source, now))
    }

    /// Edits an event, a whole series, or one occurrence of a series.
    pub fn update_event(
        &mut self,
        change: EventChange,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<EventView> {
        self.durable(|tx| update_event_in(tx, change, source, now))
    }

    /// A drag-move or resize. For a whole series, `start`/`end` are the series' new
    /// first bounds; otherwise the new bounds of the event or occurrence.
    pub fn move_event(
        &mut self,
        mv: EventMove,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<EventView> {
        let row = load(&self.conn, &mv.id)?;
        let mut input = if mv.scope == EditScope::Occurrence && row.kind == EventKind::Master {
            // An occurrence changed before moves as it is now, not as its series has it:
            // its own title, place and the rest stay.
            let changed = match mv.original_start.as_deref() {
                Some(raw) => {
                    let wall = instance_key("original start", raw, row.input.all_day)?;
                    exception_at(&self.conn, &row.id, &wall_key(wall, row.input.all_day))?
                }
                None => None,
            };
            let mut i = match changed {
                Some(id) => load(&self.conn, &id)?.input,
                None => row.input.clone(),
            };
            i.recurrence = None;
            i
        } else {
            row.input.clone()
        };
        input.all_day = mv.all_day;
        if mv.all_day {
            let bad =
                |v: &str| StoreError::BadRequest(format!("\"{v}\" is not a date (YYYY-MM-DD)."));
            let s = parse_date(&mv.start).ok_or_else(|| bad(&mv.start))?;
            let e = parse_date(&mv.end).ok_or_else(|| bad(&mv.end))?;
            input.start = format_date(s);
            input.end = format_date(e);
        } else {
            let tz = parse_zone(&input.time_zone)?;
            let bad =
                |v: &str| StoreError::BadRequest(format!("\"{v}\" is not an RFC 3339 instant."));
            let s = parse_instant(&mv.start).ok_or_else(|| bad(&mv.start))?;
            let e = parse_instant(&mv.end).ok_or_else(|| bad(&mv.end))?;
            input.start = EventTime::of(s, tz).to_string();
            input.end = EventTime::of(e, tz).to_string();
        }
        self.update_event(
            EventChange {
                id: mv.id,
                scope: mv.scope,
                original_start: mv.original_start,
                input,
            },
            source,
            now,
        )
    }

    /// Deletes an event, a whole series, or one occurrence (recorded as an EXDATE).
    pub fn delete_event(
        &mut self,
        target: EventTarget,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.durable(|tx| delete_event_in(tx, target, source, now))
    }
}

fn create_event_in(
    tx: &Transaction<'_>,
    input: EventInput,
    source: Source,
    now: DateTime<Utc>,
) -> Result<EventView> {
    let added = removals::added(&input, &[]);
    let v = input.validate()?;
    removals::check(&v, &added, source)?;
    let now = now.timestamp();
    require_editable(tx, &v.input.calendar_id)?;
    let id = crate::ids::new_event_id();
    let kind = if v.series.is_some() {
        EventKind::Master
    } else {
        EventKind::Single
    };
    write_row(tx, &id, kind, None, &v, now, true)?;
    reindex(tx, &id)?;
    track_write(tx, &id, now)?;
    record(tx, now, source, &id, "insert")?;
    view(tx, &id)
}

fn update_event_in(
    tx: &Transaction<'_>,
    change: EventChange,
    source: Source,
    now: DateTime<Utc>,
) -> Result<EventView> {
    let now = now.timestamp();
    let mut input = change.input;
    let row = load(tx, &change.id)?;
    require_editable(tx, &row.input.calendar_id)?;
    match (row.kind, change.scope) {
        (EventKind::Single | EventKind::Master, EditScope::All) => {
            require_editable(tx, &input.calendar_id)?;
            let old_series = row.series()?;
            let stored: Vec<_> = old_series
                .as_ref()
                .map(|s| s.exdates.clone())
                .unwrap_or_default();
            let added = removals::added(&input, &stored);
            let (v, way) = match &old_series {
                Some(old) => {
                    let (v, way) = series_edit::carry_dates(tx, &row, old, input)?;
                    (v, Some(way))
                }
                None => (input.validate()?, None),
            };
            removals::check(&v, &added, source)?;
            keep_base(tx, &row.id)?;
            if v.input.calendar_id != row.input.calendar_id {
                change_calendar(tx, &row, &v.input.calendar_id, now)?;
            }
            forget_stale_html(tx, &row.id, &row.input.description, &v.input.description)?;
            let kind = if v.series.is_some() {
                EventKind::Master
            } else {
                EventKind::Single
            };
            if kind == EventKind::Single {
                // Without a rule the exceptions have nothing to belong to.
                tx.execute("DELETE FROM events WHERE series_id = ?1", params![row.id])?;
            } else if v.input.calendar_id != row.input.calendar_id {
                tx.execute(
                    "UPDATE events SET calendar_id = ?2 WHERE series_id = ?1",
                    params![row.id, v.input.calendar_id],
                )?;
            }
            write_row(tx, &row.id, kind, None, &v, now, false)?;
            if let (Some(old), Some(way)) = (&old_series, way) {
                series_edit::carry_pending_removals(tx, &row.id, old, way)?;
                let followed = series_edit::follow_series(tx, &row, old, &v, way)?;
                // A new key may be another exception's old one: the dropped go first,
                // and each that moves lets go of its key before any takes its new one.
                let (dropped, kept): (Vec<_>, Vec<_>) = followed
                    .into_iter()
                    .partition(|(_, f)| matches!(f, Followed::Drop));
                for (exc, f) in dropped {
                    write_followed(tx, &row.id, &exc.id, f, source, now)?;
                }
                for (exc, f) in &kept {
                    if matches!(f, Followed::Write { key, .. } if exc.original_start.as_ref() != Some(key))
                    {
                        tx.execute(
                            "UPDATE events SET original_start = 'moving:' || id WHERE id = ?1",
                            params![exc.id],
                        )?;
                    }
                }
                for (exc, f) in kept {
                    write_followed(tx, &row.id, &exc.id, f, source, now)?;
                }
            }
            reindex(tx, &row.id)?;
            track_write(tx, &row.id, now)?;
            record(tx, now, source, &row.id, "update")?;
            view(tx, &row.id)
        }
        (EventKind::Single, EditScope::Occurrence) => Err(StoreError::BadRequest(
            "This event does not repeat: edit the whole event, not one occurrence.".into(),
        )),
        (EventKind::Master, EditScope::Occurrence) => {
            let key = occurrence_key(tx, &row, change.original_start.as_deref())?;
            input.recurrence = None;
            input.calendar_id = row.input.calendar_id.clone();
            let v = input.validate()?;
            let id = match exception_at(tx, &row.id, &key)? {
                Some(id) => {
                    keep_base(tx, &id)?;
                    let was = load(tx, &id)?.input.description;
                    forget_stale_html(tx, &id, &was, &v.input.description)?;
                    write_row(
                        tx,
                        &id,
                        EventKind::Exception,
                        Some((&row.id, &key)),
                        &v,
                        now,
                        false,
                    )?;
                    record(tx, now, source, &id, "update")?;
                    id
                }
                None => {
                    let id = crate::ids::new_event_id();
                    write_row(
                        tx,
                        &id,
                        EventKind::Exception,
                        Some((&row.id, &key)),
                        &v,
                        now,
                        true,
                    )?;
                    inherit_from_series(tx, &id, &row)?;
                    forget_stale_html(tx, &id, &row.input.description, &v.input.description)?;
                    record(tx, now, source, &id, "insert")?;
                    id
                }
            };
            reindex(tx, &id)?;
            // The series itself is unchanged: only its slot at `key` is the
            // exception's now (its whole index again cost a series' window of rows
            // per changed occurrence, minutes for an import of thousands).
            crate::occurrences::drop_slot(tx, &row.id, &key)?;
            track_write(tx, &id, now)?;
            view(tx, &id)
        }
        (EventKind::Exception, _) => {
            // An exception already is one occurrence: both scopes edit it.
            input.recurrence = None;
            input.calendar_id = row.input.calendar_id.clone();
            let v = input.validate()?;
            keep_base(tx, &row.id)?;
            forget_stale_html(tx, &row.id, &row.input.description, &v.input.description)?;
            let series = row.series_id.clone().zip(row.original_start.clone());
            let series = series.as_ref().map(|(s, o)| (s.as_str(), o.as_str()));
            write_row(tx, &row.id, EventKind::Exception, series, &v, now, false)?;
            reindex(tx, &row.id)?;
            track_write(tx, &row.id, now)?;
            record(tx, now, source, &row.id, "update")?;
            view(tx, &row.id)
        }
    }
}

/// Writes what a series edit made of one of its exceptions (see `series_edit`).
fn write_followed(
    tx: &Transaction<'_>,
    master_id: &str,
    id: &str,
    followed: Followed,
    source: Source,
    now: i64,
) -> Result<()> {
    match followed {
        Followed::Same => {}
        Followed::Drop => {
            track_delete(tx, id, now)?;
            tx.execute("DELETE FROM events WHERE id = ?1", params![id])?;
            record(tx, now, source, id, "delete")?;
        }
        Followed::Write { key, event } => {
            keep_base(tx, id)?;
            let series = Some((master_id, key.as_str()));
            write_row(tx, id, EventKind::Exception, series, &event, now, false)?;
            reindex(tx, id)?;
            track_write(tx, id, now)?;
            record(tx, now, source, id, "update")?;
        }
    }
    Ok(())
}

fn delete_event_in(
    tx: &Transaction<'_>,
    target: EventTarget,
    source: Source,
    now: DateTime<Utc>,
) -> Result<()> {
    let now = now.timestamp();
    let row = load(tx, &target.id)?;
    require_editable(tx, &row.input.calendar_id)?;
    match (row.kind, target.scope) {
        (EventKind::Single | EventKind::Master, EditScope::All) => {
            track_delete(tx, &row.id, now)?;
            tx.execute("DELETE FROM events WHERE id = ?1", params![row.id])?;
            record(tx, now, source, &row.id, "delete")?;
        }
        (EventKind::Single, EditScope::Occurrence) => {
            return Err(StoreError::BadRequest(
                "This event does not repeat: delete the whole event, not one occurrence.".into(),
            ))
        }
        (EventKind::Master, EditScope::Occurrence) => {
            let key = occurrence_key(tx, &row, target.original_start.as_deref())?;
            match exception_at(tx, &row.id, &key)?.filter(|_| !of_series_kind(&key, &row)) {
                Some(left_behind) => {
                    track_delete(tx, &left_behind, now)?;
                    tx.execute("DELETE FROM events WHERE id = ?1", params![left_behind])?;
                    record(tx, now, source, &left_behind, "delete")?;
                }
                None => {
                    add_exdate(tx, &row, &key, now, source)?;
                    delete_if_emptied(tx, &row.id, now, source)?;
                }
            }
        }
        (EventKind::Exception, _) => {
            let (Some(master_id), Some(key)) = (&row.series_id, &row.original_start) else {
                return Err(StoreError::Corrupt(format!(
                    "exception {} has no series",
                    row.id
                )));
            };
            track_delete(tx, &row.id, now)?;
            tx.execute("DELETE FROM events WHERE id = ?1", params![row.id])?;
            record(tx, now, source, &row.id, "delete")?;
            let master = load(tx, master_id)?;
            if of_series_kind(key, &master) {
                add_exdate(tx, &master, key, now, source)?;
                delete_if_emptied(tx, &master.id, now, source)?;
            }
        }
    }
    Ok(())
}

/// Deletes series `master_id` of a calendar on this computer once the user has
/// deleted every occurrence it has: an ending rule all of whose days are removed, and
/// no changed occurrence left. Kept, it was an event no view lists, with nothing to
/// open and delete it from. In an account's calendar the provider keeps such a series
/// as it likes (and another client may still add a day to it): left as it is.
fn delete_if_emptied(
    tx: &Transaction<'_>,
    master_id: &str,
    now: i64,
    source: Source,
) -> Result<()> {
    let master = load(tx, master_id)?;
    if crate::sync::account_of(tx, &master.input.calendar_id)?.is_some() {
        return Ok(());
    }
    let Some(spec) = master.series()? else {
        return Ok(());
    };
    let changed: i64 = tx.query_row(
        "SELECT count(*) FROM events WHERE series_id = ?1",
        params![master_id],
        |r| r.get(0),
    )?;
    if changed > 0 || !spec.ends() {
        return Ok(());
    }
    let from = spec.start.and_utc() - chrono::Duration::days(2);
    let to = DateTime::parse_from_rfc3339("9999-12-30T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    // An ending rule stops the walk by itself; a long one (more than the cap) is not
    // empty.
    if !spec
        .expand(from, to, 10_000)
        .is_ok_and(|left| left.is_empty())
    {
        return Ok(());
    }
    track_delete(tx, master_id, now)?;
    tx.execute("DELETE FROM events WHERE id = ?1", params![master_id])?;
    record(tx, now, source, master_id, "delete")?;
    Ok(())
}

/// Runs several writes as one durable transaction (see [`Store::batch`]).
#[derive(Debug)]
pub struct Batch<'a, 'c> {
    tx: &'a Transaction<'c>,
    source: Source,
    now: DateTime<Utc>,
}

impl<'c> Batch<'_, 'c> {
    pub(crate) fn tx(&self) -> &Transaction<'c> {
        self.tx
    }

    pub fn create_event(&mut self, input: EventInput) -> Result<EventView> {
        create_event_in(self.tx, input, self.source, self.now)
    }

    pub fn update_event(&mut self, change: EventChange) -> Result<EventView> {
        update_event_in(self.tx, change, self.source, self.now)
    }

    /// Who may see event `id` (`CLASS` in a file): not part of the editor's input. In
    /// the same transaction as the event's creation, its create carries it.
    pub fn set_sensitivity(&mut self, id: &str, sensitivity: Sensitivity) -> Result<()> {
        self.tx().execute(
            "UPDATE events SET sensitivity = ?2 WHERE id = ?1",
            params![id, crate::sync::rows::sensitivity_str(sensitivity)],
        )?;
        Ok(())
    }

    pub fn delete_event(&mut self, target: EventTarget) -> Result<()> {
        delete_event_in(self.tx, target, self.source, self.now)
    }
}

impl Store {
    /// Runs `f`'s writes as one durable transaction: all land or none do (an ICS
    /// import, for instance).
    pub fn batch<T>(
        &mut self,
        source: Source,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut Batch<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        self.durable(|tx| f(&mut Batch { tx, source, now }))
    }
}

/// Removes one instance from a series: EXDATE on the master, exception row gone.
fn add_exdate(
    tx: &Transaction<'_>,
    master: &EventRow,
    key: &str,
    now: i64,
    source: Source,
) -> Result<()> {
    keep_base(tx, &master.id)?;
    let mut exdates = master
        .input
        .recurrence
        .as_ref()
        .map(|r| r.exdates.clone())
        .unwrap_or_default();
    if !exdates.iter().any(|d| d == key) {
        exdates.push(key.to_owned());
        exdates.sort();
    }
    // The occurrence goes with its exception, if any: the user's deletion answers the
    // exception's open conflicts, as deleting any event does.
    tx.execute(
        "UPDATE conflicts SET resolved_at = ?3, resolution = 'keep_local', resolved_by = 'user'
         WHERE resolved_at IS NULL AND event_id IN
             (SELECT id FROM events WHERE series_id = ?1 AND original_start = ?2)",
        params![master.id, key, now],
    )?;
    // Its deletion is tracked as any event's: the provider's instance is deleted with
    // the version this computer last had (`If-Match`), so a change made to it there
    // meanwhile is met, not removed unseen with the series' EXDATE.
    let exception: Option<String> = tx
        .query_row(
            "SELECT id FROM events WHERE series_id = ?1 AND original_start = ?2",
            params![master.id, key],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = exception {
        track_delete(tx, &id, now)?;
        tx.execute("DELETE FROM events WHERE id = ?1", params![id])?;
        record(tx, now, source, &id, "delete")?;
    }
    tx.execute(
        "UPDATE events SET exdates = ?2, updated_at = ?3 WHERE id = ?1",
        params![master.id, to_json(&exdates), now],
    )?;
    reindex(tx, &master.id)?;
    track_write(tx, &master.id, now)?;
    record(tx, now, source, &master.id, "update")?;
    Ok(())
}

/// A description edited in Almanac replaces the provider's HTML rendering of it.
fn forget_stale_html(tx: &Transaction<'_>, id: &str, was: &str, description: &str) -> Result<()> {
    if was != description {
        tx.execute(
            "UPDATE events SET body_html = NULL WHERE id = ?1",
            params![id],
        )?;
    }
    Ok(())
}

/// A new occurrence of `series` starts as the series makes it: what the editor does
/// not show — the reminder, the sensitivity, the formatted description, who it is
/// with and how to join — is the series', not unset. Unset, the sync would send it as
/// removed: the occurrence public, without reminder or attendees at the provider.
fn inherit_from_series(tx: &Transaction<'_>, id: &str, series: &EventRow) -> Result<()> {
    tx.execute(
        "UPDATE events SET (body_html, sensitivity, reminder_minutes, organizer_email,
            organizer_name, online_provider, online_join_url, online_conference_id,
            online_dial_in, online_pin, attendees) =
         (SELECT body_html, sensitivity, reminder_minutes, organizer_email, organizer_name,
            online_provider, online_join_url, online_conference_id, online_dial_in,
            online_pin, attendees FROM events WHERE id = ?2)
         WHERE id = ?1",
        params![id, series.id],
    )?;
    Ok(())
}

/// An event moving to another calendar leaves its old calendar's provider (a pending
/// delete there) and arrives in the new one as a new event. A series with instances
/// at a provider would need each instance moved too, so series stay where they are.
fn change_calendar(tx: &Transaction<'_>, row: &EventRow, to: &str, now: i64) -> Result<()> {
    let synced = |id: &str| -> Result<bool> {
        Ok(tx.query_row(
            "SELECT account_id IS NOT NULL FROM calendars WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?)
    };
    let from_synced = synced(&row.input.calendar_id)?;
    if !from_synced {
        if synced(to)? {
            // An imported file's UID would make sync take the create for the
            // provider's event of that UID (an invitation there already) and send
            // this copy's fields to it: the provider names the new event's UID.
            tx.execute(
                "UPDATE events SET ical_uid = NULL WHERE id = ?1",
                params![row.id],
            )?;
        }
        return Ok(());
    }
    if row.kind == EventKind::Master {
        return Err(StoreError::BadRequest(
            "A repeating event of a connected account cannot move to another calendar yet; \
             create it in the other calendar and delete it here."
                .into(),
        ));
    }
    // Its conflict names this calendar's event, which the move deletes there; an
    // answer afterwards would write the row back here, under an id going away.
    let conflicted: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM conflicts WHERE event_id = ?1 AND resolved_at IS NULL)",
        params![row.id],
        |r| r.get(0),
    )?;
    if conflicted {
        return Err(StoreError::BadRequest(
            "This event has a sync conflict waiting for your answer: resolve it (Conflicts, or \
             `almanac conflicts list`) before moving the event to another calendar."
                .into(),
        ));
    }
    track_delete(tx, &row.id, now)?;
    // The pending delete belongs to the event the old calendar had, not to the row,
    // which moves on and may need a create in its new calendar: the outbox holds one
    // pending push per event id, so the delete takes an id of its own.
    tx.execute(
        "UPDATE outbox SET event_id = ?2 WHERE event_id = ?1 AND operation = 'delete'",
        params![row.id, crate::ids::new_event_id()],
    )?;
    tx.execute(
        "DELETE FROM event_sync WHERE event_id = ?1",
        params![row.id],
    )?;
    // Its provider's UID stays behind; in a calendar on this computer an event imported
    // from a file has that file's UID again (as one imported there has).
    tx.execute(
        "UPDATE events SET remote_id = NULL, etag = NULL, provider_extra = NULL,
             ical_uid = CASE WHEN ?2 THEN imported_uid END
         WHERE id = ?1",
        params![row.id, !synced(to)?],
    )?;
    Ok(())
}
