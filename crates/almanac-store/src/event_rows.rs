//! Reading event rows and mapping them to model types.

use crate::cached::Cached;
use almanac_model::recurrence::SeriesSpec;
use almanac_model::time::{format_instant, parse_date, parse_zone, EventTime};
use almanac_model::{
    EventInput, EventKind, EventMeeting, EventView, Importance, RecurrenceInput, ShowAs,
    ValidEvent, ValidTiming,
};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Result, StoreError};

pub(crate) const EVENT_COLUMNS: &str = "id, calendar_id, kind, series_id, original_start, title, \
    body_text, all_day, start_local, end_local, time_zone, start_utc, end_utc, show_as, importance, \
    categories, location, rrule, exdates, rdates, created_at, updated_at";

#[derive(Debug, Clone)]
pub(crate) struct EventRow {
    pub id: String,
    pub kind: EventKind,
    pub series_id: Option<String>,
    pub original_start: Option<String>,
    pub input: EventInput,
    pub start_utc: i64,
    pub end_utc: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(crate) fn show_as_str(v: ShowAs) -> &'static str {
    match v {
        ShowAs::Free => "free",
        ShowAs::Tentative => "tentative",
        ShowAs::Busy => "busy",
        ShowAs::Oof => "oof",
        ShowAs::WorkingElsewhere => "workingElsewhere",
    }
}

pub(crate) fn importance_str(v: Importance) -> &'static str {
    match v {
        Importance::Low => "low",
        Importance::Normal => "normal",
        Importance::High => "high",
    }
}

pub(crate) fn parse_show_as(s: &str) -> ShowAs {
    match s {
        "free" => ShowAs::Free,
        "tentative" => ShowAs::Tentative,
        "oof" => ShowAs::Oof,
        "workingElsewhere" => ShowAs::WorkingElsewhere,
        _ => ShowAs::Busy,
    }
}

pub(crate) fn parse_importance(s: &str) -> Importance {
    match s {
        "low" => Importance::Low,
        "high" => Importance::High,
        _ => Importance::Normal,
    }
}

fn parse_kind(s: &str) -> rusqlite::Result<EventKind> {
    match s {
        "single" => Ok(EventKind::Single),
        "master" => Ok(EventKind::Master),
        "exception" => Ok(EventKind::Exception),
        other => Err(rusqlite::Error::InvalidColumnType(
            2,
            format!("kind {other}"),
            rusqlite::types::Type::Text,
        )),
    }
}

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    let rrule: Option<String> = r.get(17)?;
    let recurrence = rrule.map(|rrule| RecurrenceInput {
        rrule,
        exdates: json_list(&r.get::<_, String>(18).unwrap_or_default()),
        rdates: json_list(&r.get::<_, String>(19).unwrap_or_default()),
    });
    Ok(EventRow {
        id: r.get(0)?,
        kind: parse_kind(&r.get::<_, String>(2)?)?,
        series_id: r.get(3)?,
        original_start: r.get(4)?,
        input: EventInput {
            calendar_id: r.get(1)?,
            title: r.get(5)?,
            description: r.get(6)?,
            all_day: r.get(7)?,
            start: r.get(8)?,
            end: r.get(9)?,
            time_zone: r.get(10)?,
            show_as: parse_show_as(&r.get::<_, String>(13)?),
            importance: parse_importance(&r.get::<_, String>(14)?),
            categories: json_list(&r.get::<_, String>(15)?),
            location: r.get(16)?,
            recurrence,
        },
        start_utc: r.get(11)?,
        end_utc: r.get(12)?,
        created_at: r.get(20)?,
        updated_at: r.get(21)?,
    })
}

pub(crate) fn load(conn: &Connection, id: &str) -> Result<EventRow> {
    conn.row_cached(
        &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
        params![id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("There is no event with id \"{id}\".")))
}

pub(crate) fn instant(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

impl EventRow {
    pub fn view(&self) -> EventView {
        EventView {
            id: self.id.clone(),
            kind: self.kind,
            series_id: self.series_id.clone(),
            original_start: self.original_start.clone(),
            input: self.input.clone(),
            meeting: EventMeeting::default(),
            formatted_description: false,
            sensitivity: almanac_model::Sensitivity::Normal,
            created_at: format_instant(instant(self.created_at)),
            updated_at: format_instant(instant(self.updated_at)),
        }
    }

    /// The expansion spec of a master row; `None` for other rows.
    pub fn series(&self) -> Result<Option<SeriesSpec>> {
        let Some(rec) = &self.input.recurrence else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("event {}: {what}", self.id));
        let all_day = self.input.all_day;
        let key = |s: &String| {
            almanac_model::instance_key("date", s, all_day)
                .map_err(|_| corrupt("bad date in series"))
        };
        let mut first = None;
        let (start, tz, duration) = if all_day {
            let s = parse_date(&self.input.start).ok_or_else(|| corrupt("bad start date"))?;
            let e = parse_date(&self.input.end).ok_or_else(|| corrupt("bad end date"))?;
            (
                s.and_time(chrono::NaiveTime::MIN),
                chrono_tz::Tz::UTC,
                Duration::days((e - s).num_days()),
            )
        } else {
            let t = EventTime::parse(&self.input.start).ok_or_else(|| corrupt("bad start"))?;
            // Written with its offset: the second pass of a fold (see `SeriesSpec::first`).
            if t.offset.is_some() {
                first = Some(instant(self.start_utc));
            }
            let s = t.wall;
            let tz = parse_zone(&self.input.time_zone).map_err(|_| corrupt("bad zone"))?;
            (s, tz, Duration::seconds(self.end_utc - self.start_utc))
        };
        Ok(Some(SeriesSpec {
            first,
            start,
            tz,
            all_day,
            duration,
            rrule: rec.rrule.clone(),
            exdates: rec.exdates.iter().map(key).collect::<Result<_>>()?,
            rdates: rec.rdates.iter().map(key).collect::<Result<_>>()?,
        }))
    }
}

/// Start and end of a validated event as stored instants (all-day: floating midnights).
pub(crate) fn bounds(v: &ValidEvent) -> (i64, i64) {
    match v.timing {
        ValidTiming::Timed { start, end, .. } => (start.timestamp(), end.timestamp()),
        ValidTiming::AllDay { start, end } => (
            start.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
            end.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
        ),
    }
}

pub(crate) fn wall_key(t: NaiveDateTime, all_day: bool) -> String {
    if all_day {
        almanac_model::time::format_date(t.date())
    } else {
        almanac_model::time::format_wall_time(t)
    }
}
