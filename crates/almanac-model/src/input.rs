//! What the UI and the CLI send, and its validation into a [`ValidEvent`].

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::recurrence::SeriesSpec;
use crate::time::{parse_date, parse_wall_time, parse_zone, resolve, EventTime};
use crate::{EditScope, Importance, ShowAs, ValidationError};

pub const MAX_TITLE_LEN: usize = 1_000;
pub const MAX_TEXT_LEN: usize = 100_000;
pub const MAX_CATEGORIES: usize = 50;
pub const MAX_CATEGORY_LEN: usize = 200;
const MAX_SPAN_DAYS: i64 = 366 * 5;
const MAX_DATES: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceInput {
    /// RRULE value, e.g. `FREQ=WEEKLY;BYDAY=MO` (an `RRULE:` prefix is accepted).
    pub rrule: String,
    /// Removed instances, as wall times like `start`.
    pub exdates: Vec<String>,
    /// Added instances, as wall times like `start`.
    pub rdates: Vec<String>,
}

/// An event as the editor or the CLI describes it. Times are wall-clock times in
/// `time_zone` so that the core, not the caller, decides what DST does to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventInput {
    pub calendar_id: String,
    pub title: String,
    pub all_day: bool,
    /// Timed: `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`, with the UTC offset after it
    /// only for the second pass of a DST fold (`2027-10-31T02:15:00+01:00`; see
    /// [`EventTime`]). All-day: `YYYY-MM-DD`.
    pub start: String,
    /// As `start`; for all-day events the end date is exclusive.
    pub end: String,
    /// IANA zone name.
    pub time_zone: String,
    pub recurrence: Option<RecurrenceInput>,
    pub location: String,
    pub description: String,
    pub show_as: ShowAs,
    pub importance: Importance,
    pub categories: Vec<String>,
}

/// An edit of an event, or of one instance of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventChange {
    pub id: String,
    pub scope: EditScope,
    pub original_start: Option<String>,
    pub input: EventInput,
}

/// The event (or instance) a delete applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventTarget {
    pub id: String,
    pub scope: EditScope,
    pub original_start: Option<String>,
}

/// A drag-move or resize: new bounds as instants (timed) or dates (all-day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventMove {
    pub id: String,
    pub scope: EditScope,
    pub original_start: Option<String>,
    pub all_day: bool,
    /// Timed: RFC 3339 instant. All-day: `YYYY-MM-DD`.
    pub start: String,
    /// Timed: RFC 3339 instant. All-day: `YYYY-MM-DD`, exclusive.
    pub end: String,
}

/// Resolved start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidTiming {
    Timed {
        start_local: NaiveDateTime,
        end_local: NaiveDateTime,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        tz: Tz,
    },
    AllDay {
        start: NaiveDate,
        end: NaiveDate,
    },
}

impl ValidTiming {
    /// Wall time of the start (all-day: 00:00 of the start date).
    pub fn start_wall(&self) -> NaiveDateTime {
        match *self {
            Self::Timed { start_local, .. } => start_local,
            Self::AllDay { start, .. } => start.and_time(chrono::NaiveTime::MIN),
        }
    }
}

/// An [`EventInput`] that passed validation, with its times resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub input: EventInput,
    pub timing: ValidTiming,
    pub series: Option<SeriesSpec>,
}

impl PartialEq for SeriesSpec {
    fn eq(&self, other: &Self) -> bool {
        self.start == other.start
            && self.tz == other.tz
            && self.rrule == other.rrule
            && self.exdates == other.exdates
            && self.rdates == other.rdates
            && self.first == other.first
    }
}

fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), ValidationError> {
    if s.contains('\0') {
        return Err(ValidationError::NulByte { field });
    }
    let len = s.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    Ok(())
}

impl EventInput {
    /// Validates every field and resolves the times. Nothing is written on error.
    pub fn validate(self) -> Result<ValidEvent, ValidationError> {
        let mut input = self;
        input.title = input.title.trim().to_owned();
        check_text("title", &input.title, MAX_TITLE_LEN)?;
        if input.title.is_empty() {
            return Err(ValidationError::EmptyTitle);
        }
        check_text("calendar id", &input.calendar_id, 200)?;
        check_text("location", &input.location, MAX_TITLE_LEN)?;
        check_text("description", &input.description, MAX_TEXT_LEN)?;
        check_text("time zone", &input.time_zone, 100)?;
        if input.categories.len() > MAX_CATEGORIES {
            return Err(ValidationError::TooManyCategories {
                len: input.categories.len(),
                max: MAX_CATEGORIES,
            });
        }
        input.categories = input
            .categories
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        for c in &input.categories {
            check_text("category", c, MAX_CATEGORY_LEN)?;
        }
        let tz = parse_zone(&input.time_zone)?;
        let timing = if input.all_day {
            let start = date_field("start date", &input.start)?;
            let end = date_field("end date", &input.end)?;
            if end < start {
                return Err(ValidationError::EndBeforeStart);
            }
            if end == start {
                return Err(ValidationError::ZeroLengthAllDay);
            }
            if (end - start).num_days() > MAX_SPAN_DAYS {
                return Err(ValidationError::TooLongSpan {
                    max_days: MAX_SPAN_DAYS,
                });
            }
            input.start = crate::time::format_date(start);
            input.end = crate::time::format_date(end);
            ValidTiming::AllDay { start, end }
        } else {
            let (start, start_at) = event_time_field("start", &input.start, tz)?;
            let (end, end_at) = event_time_field("end", &input.end, tz)?;
            let (start_local, end_local) = (start_at.wall, end_at.wall);
            if end < start {
                return Err(ValidationError::EndBeforeStart);
            }
            if (end - start).num_days() > MAX_SPAN_DAYS {
                return Err(ValidationError::TooLongSpan {
                    max_days: MAX_SPAN_DAYS,
                });
            }
            input.start = start_at.to_string();
            input.end = end_at.to_string();
            ValidTiming::Timed {
                start_local,
                end_local,
                start,
                end,
                tz,
            }
        };
        let series = match &mut input.recurrence {
            None => None,
            Some(rec) => {
                check_text("repeat rule", &rec.rrule, 500)?;
                if rec.exdates.len() > MAX_DATES || rec.rdates.len() > MAX_DATES {
                    return Err(ValidationError::BadRecurrence {
                        rule: rec.rrule.clone(),
                        reason: format!("at most {MAX_DATES} added or removed dates"),
                    });
                }
                let parse = |field: &'static str, v: &String| instance_key(field, v, input.all_day);
                let exdates = rec
                    .exdates
                    .iter()
                    .map(|v| parse("removed date", v))
                    .collect::<Result<Vec<_>, _>>()?;
                let rdates = rec
                    .rdates
                    .iter()
                    .map(|v| parse("added date", v))
                    .collect::<Result<Vec<_>, _>>()?;
                let (duration, stz) = match timing {
                    ValidTiming::Timed { start, end, tz, .. } => (end - start, tz),
                    ValidTiming::AllDay { start, end } => {
                        (Duration::days((end - start).num_days()), Tz::UTC)
                    }
                };
                rec.rrule = rec.rrule.trim().to_owned();
                // Stored as one spelling (`…T08:00` and `…T08:00:00` are one key): a
                // provider writes them back in full, and two spellings of one date
                // would read as a change on every sync.
                let key = |k: &NaiveDateTime| {
                    if input.all_day {
                        crate::time::format_date(k.date())
                    } else {
                        crate::time::format_wall_time(*k)
                    }
                };
                rec.exdates = exdates.iter().map(key).collect();
                rec.rdates = rdates.iter().map(key).collect();
                // A start in a fold's second pass keeps its instant (see the field).
                let first = match timing {
                    ValidTiming::Timed {
                        start, start_local, ..
                    } if resolve(start_local, stz).instant() != start => Some(start),
                    _ => None,
                };
                let spec = SeriesSpec {
                    first,
                    start: timing.start_wall(),
                    tz: stz,
                    all_day: input.all_day,
                    duration,
                    rrule: rec.rrule.clone(),
                    exdates,
                    rdates,
                };
                spec.validate()?;
                Some(spec)
            }
        };
        Ok(ValidEvent {
            input,
            timing,
            series,
        })
    }
}

fn bad_date_time(field: &'static str, v: &str, expected: &'static str) -> ValidationError {
    ValidationError::BadDateTime {
        field,
        value: v.chars().take(60).collect(),
        expected,
    }
}

fn date_field(field: &'static str, v: &str) -> Result<NaiveDate, ValidationError> {
    parse_date(v).ok_or_else(|| bad_date_time(field, v, "date (YYYY-MM-DD)"))
}

const WALL_TIME: &str = "date and time (YYYY-MM-DDTHH:MM)";

fn wall_field(field: &'static str, v: &str) -> Result<NaiveDateTime, ValidationError> {
    parse_wall_time(v).ok_or_else(|| bad_date_time(field, v, WALL_TIME))
}

/// A timed start or end: its instant in `tz` and its one spelling ([`EventTime`]).
fn event_time_field(
    field: &'static str,
    v: &str,
    tz: Tz,
) -> Result<(DateTime<Utc>, EventTime), ValidationError> {
    let t = EventTime::parse(v).ok_or_else(|| bad_date_time(field, v, WALL_TIME))?;
    t.resolve(tz)
        .ok_or_else(|| ValidationError::OffsetNotInZone {
            field,
            value: v.trim().chars().take(60).collect(),
            zone: tz.name().to_owned(),
        })
}

/// Parses a series instance key: a wall time, or a date for all-day series.
pub fn instance_key(
    field: &'static str,
    v: &str,
    all_day: bool,
) -> Result<NaiveDateTime, ValidationError> {
    if all_day {
        if let Some(d) = parse_date(v) {
            return Ok(d.and_time(chrono::NaiveTime::MIN));
        }
    }
    wall_field(field, v)
}

#[cfg(test)]
mod tests;
