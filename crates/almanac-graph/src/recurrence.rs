//! Graph `patternedRecurrence` ↔ RFC 5545 RRULE (provider reference D1).
//!
//! RRULE text is the value without the `RRULE:` prefix, as `almanac-model` stores it:
//! `FREQ`, `INTERVAL` (only when > 1), `BYMONTH`, `BYMONTHDAY`, `BYDAY`, `BYSETPOS`,
//! `WKST`, then `COUNT` or `UNTIL`. Graph → RRULE always succeeds for valid Graph data;
//! RRULE → Graph refuses ([`FromRrule::NotExpressible`]) every rule whose set of dates Graph
//! cannot reproduce exactly, so the caller keeps the local rule and flags it.
//!
//! Unverified assumptions, both from D1: `absoluteMonthly` on day 29–31 skips shorter
//! months as `BYMONTHDAY` does, and a relative pattern with several days means "the
//! i-th day of the month that is in the set" (`BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2`).

use almanac_model::time::{in_years, to_instant, to_local};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::windows_zones;

/// Graph `patternedRecurrence`. Unknown properties are kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatternedRecurrence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<RecurrencePattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RecurrenceRange>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Graph `recurrencePattern`. Responses echo fields irrelevant to `type` with zero or
/// default values; the mapping ignores them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrencePattern {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PatternType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_week: Option<Vec<DayOfWeek>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_day_of_week: Option<DayOfWeek>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<WeekIndex>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Graph `recurrenceRange`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceRange {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RangeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_occurrences: Option<i32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PatternType {
    Daily,
    Weekly,
    AbsoluteMonthly,
    RelativeMonthly,
    AbsoluteYearly,
    RelativeYearly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RangeType {
    EndDate,
    NoEnd,
    Numbered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WeekIndex {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DayOfWeek {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

impl From<DayOfWeek> for Weekday {
    fn from(d: DayOfWeek) -> Self {
        match d {
            DayOfWeek::Sunday => Weekday::Sun,
            DayOfWeek::Monday => Weekday::Mon,
            DayOfWeek::Tuesday => Weekday::Tue,
            DayOfWeek::Wednesday => Weekday::Wed,
            DayOfWeek::Thursday => Weekday::Thu,
            DayOfWeek::Friday => Weekday::Fri,
            DayOfWeek::Saturday => Weekday::Sat,
        }
    }
}

impl From<Weekday> for DayOfWeek {
    fn from(d: Weekday) -> Self {
        match d {
            Weekday::Sun => DayOfWeek::Sunday,
            Weekday::Mon => DayOfWeek::Monday,
            Weekday::Tue => DayOfWeek::Tuesday,
            Weekday::Wed => DayOfWeek::Wednesday,
            Weekday::Thu => DayOfWeek::Thursday,
            Weekday::Fri => DayOfWeek::Friday,
            Weekday::Sat => DayOfWeek::Saturday,
        }
    }
}

impl WeekIndex {
    /// The `BYSETPOS` value: 1–4, or -1 for `last`.
    pub fn setpos(self) -> i32 {
        match self {
            Self::First => 1,
            Self::Second => 2,
            Self::Third => 3,
            Self::Fourth => 4,
            Self::Last => -1,
        }
    }

    pub fn from_setpos(pos: i32) -> Option<Self> {
        Some(match pos {
            1 => Self::First,
            2 => Self::Second,
            3 => Self::Third,
            4 => Self::Fourth,
            -1 => Self::Last,
            _ => return None,
        })
    }
}

/// A Graph recurrence as RFC 5545 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RruleText {
    /// RRULE value without the `RRULE:` prefix, e.g. `FREQ=WEEKLY;BYDAY=MO;WKST=SU`.
    pub rrule: String,
    /// Date of the first occurrence: `range.startDate`, or the first later date the
    /// pattern produces (Graph's first occurrence "may be this date or later"; RFC 5545
    /// always counts DTSTART, so the event must start on this date).
    pub start_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the recurrence has no {0}")]
    Missing(&'static str),
    #[error("{field} is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}

/// Result of [`from_rrule`]: a Graph recurrence, or why Graph cannot express the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum FromRrule {
    Mapped(PatternedRecurrence),
    NotExpressible { reason: String },
}

/// The shapes both sides can express; one per Graph pattern type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Daily,
    Weekly {
        days: Vec<Weekday>,
        wkst: Weekday,
    },
    AbsoluteMonthly {
        day: u32,
    },
    RelativeMonthly {
        days: Vec<Weekday>,
        pos: i32,
    },
    AbsoluteYearly {
        month: u32,
        day: u32,
    },
    RelativeYearly {
        month: u32,
        days: Vec<Weekday>,
        pos: i32,
    },
}

/// How far [`to_rrule`] looks for the first occurrence (100 years).
const MAX_SEARCH_DAYS: usize = 36_600;

/// Graph recurrence of a timed event → RRULE.
///
/// `range.endDate` becomes a UTC `UNTIL`, which needs `range.recurrenceTimeZone`: Graph
/// defaults it to the event's start zone, so fill it in from `start.timeZone` when absent.
pub fn to_rrule(rec: &PatternedRecurrence) -> Result<RruleText, MappingError> {
    convert_to_rrule(rec, false)
}

/// Graph recurrence of an all-day event → RRULE; `range.endDate` becomes a DATE `UNTIL`
/// (all-day series are floating, so no zone is involved).
pub fn to_rrule_all_day(rec: &PatternedRecurrence) -> Result<RruleText, MappingError> {
    convert_to_rrule(rec, true)
}

fn convert_to_rrule(rec: &PatternedRecurrence, all_day: bool) -> Result<RruleText, MappingError> {
    let pattern = rec
        .pattern
        .as_ref()
        .ok_or(MappingError::Missing("pattern"))?;
    let range = rec.range.as_ref().ok_or(MappingError::Missing("range"))?;
    let (shape, interval) = shape_of(pattern)?;
    let start = range
        .start_date
        .ok_or(MappingError::Missing("range.startDate"))?;
    if !in_years(start) {
        return Err(invalid("range.startDate", "is outside the years 1–9999"));
    }
    let first = start
        .iter_days()
        .take(MAX_SEARCH_DAYS)
        .find(|&d| in_active_period(&shape, interval, start, d) && occurs_on(&shape, d))
        .ok_or_else(|| MappingError::Invalid {
            field: "pattern",
            reason: "it produces no date within 100 years of startDate".into(),
        })?;
    let end = match range.kind.ok_or(MappingError::Missing("range.type"))? {
        RangeType::NoEnd => None,
        RangeType::Numbered => {
            let n = range
                .number_of_occurrences
                .ok_or(MappingError::Missing("range.numberOfOccurrences"))?;
            if n < 1 {
                return Err(invalid("range.numberOfOccurrences", "must be positive"));
            }
            Some(format!("COUNT={n}"))
        }
        RangeType::EndDate => {
            let end = range
                .end_date
                .ok_or(MappingError::Missing("range.endDate"))?;
            if end < first {
                return Err(invalid("range.endDate", "is before the first occurrence"));
            }
            if !in_years(end) {
                return Err(invalid("range.endDate", "is outside the years 1–9999"));
            }
            Some(format!("UNTIL={}", until_value(end, range, all_day)?))
        }
    };
    Ok(RruleText {
        rrule: render(&shape, interval, end),
        start_date: first,
    })
}

/// Graph's `endDate` is an inclusive date in `recurrenceTimeZone`. RFC 5545 wants a UTC
/// `UNTIL` when DTSTART has a zone, and `UNTIL` is inclusive too, so the date becomes the
/// last second of that day: the instant of the next midnight (resolved like every wall
/// time in Almanac, so a midnight DST gap or fold is handled) minus one second. Every
/// occurrence starting on `endDate`, at whatever time, is then included and none after.
fn until_value(
    end: NaiveDate,
    range: &RecurrenceRange,
    all_day: bool,
) -> Result<String, MappingError> {
    if all_day {
        return Ok(end.format("%Y%m%d").to_string());
    }
    let zone = range
        .recurrence_time_zone
        .as_deref()
        .filter(|z| !z.trim().is_empty())
        .ok_or(MappingError::Missing("range.recurrenceTimeZone"))?;
    let tz =
        windows_zones::parse(zone).ok_or_else(|| MappingError::UnknownTimeZone(zone.to_owned()))?;
    let next = end
        .succ_opt()
        .ok_or_else(|| invalid("range.endDate", "is the last representable date"))?;
    let last = to_instant(next.and_time(NaiveTime::MIN), tz) - Duration::seconds(1);
    Ok(last.format("%Y%m%dT%H%M%SZ").to_string())
}

fn invalid(field: &'static str, reason: &str) -> MappingError {
    MappingError::Invalid {
        field,
        reason: reason.to_owned(),
    }
}

fn shape_of(p: &RecurrencePattern) -> Result<(Shape, u32), MappingError> {
    let interval = p
        .interval
        .ok_or(MappingError::Missing("pattern.interval"))?;
    let interval = u32::try_from(interval)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| invalid("pattern.interval", "must be at least 1"))?;
    let days = || -> Result<Vec<Weekday>, MappingError> {
        let days: Vec<Weekday> = p
            .days_of_week
            .iter()
            .flatten()
            .map(|&d| Weekday::from(d))
            .collect();
        if days.is_empty() {
            return Err(MappingError::Missing("pattern.daysOfWeek"));
        }
        Ok(dedup(days))
    };
    let month = || -> Result<u32, MappingError> {
        let m = p.month.ok_or(MappingError::Missing("pattern.month"))?;
        u32::try_from(m)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| invalid("pattern.month", "must be 1–12"))
    };
    let day_of_month = |month: u32| -> Result<u32, MappingError> {
        let d = p
            .day_of_month
            .ok_or(MappingError::Missing("pattern.dayOfMonth"))?;
        // 2000 is a leap year: February 29 is a valid yearly date.
        u32::try_from(d)
            .ok()
            .filter(|&d| NaiveDate::from_ymd_opt(2000, month, d).is_some())
            .ok_or_else(|| invalid("pattern.dayOfMonth", "no such day in the month"))
    };
    let pos = p.index.unwrap_or(WeekIndex::First).setpos();
    let shape = match p.kind.ok_or(MappingError::Missing("pattern.type"))? {
        PatternType::Daily => Shape::Daily,
        PatternType::Weekly => Shape::Weekly {
            days: days()?,
            wkst: p.first_day_of_week.unwrap_or(DayOfWeek::Sunday).into(),
        },
        PatternType::AbsoluteMonthly => Shape::AbsoluteMonthly {
            day: day_of_month(1)?,
        },
        PatternType::RelativeMonthly => Shape::RelativeMonthly { days: days()?, pos },
        PatternType::AbsoluteYearly => {
            let month = month()?;
            Shape::AbsoluteYearly {
                month,
                day: day_of_month(month)?,
            }
        }
        PatternType::RelativeYearly => Shape::RelativeYearly {
            month: month()?,
            days: days()?,
            pos,
        },
    };
    Ok((shape, interval))
}

fn render(shape: &Shape, interval: u32, end: Option<String>) -> String {
    let freq = match shape {
        Shape::Daily => "DAILY",
        Shape::Weekly { .. } => "WEEKLY",
        Shape::AbsoluteMonthly { .. } | Shape::RelativeMonthly { .. } => "MONTHLY",
        Shape::AbsoluteYearly { .. } | Shape::RelativeYearly { .. } => "YEARLY",
    };
    let mut parts = vec![format!("FREQ={freq}")];
    if interval > 1 {
        parts.push(format!("INTERVAL={interval}"));
    }
    let byday = |days: &[Weekday]| {
        let codes: Vec<&str> = days.iter().map(|&d| day_code(d)).collect();
        format!("BYDAY={}", codes.join(","))
    };
    match shape {
        Shape::Daily => {}
        // WKST is always written for weekly rules (D1): the defaults differ (Graph sunday,
        // RFC MO) and it changes the dates when INTERVAL > 1.
        Shape::Weekly { days, wkst } => {
            parts.push(byday(days));
            parts.push(format!("WKST={}", day_code(*wkst)));
        }
        Shape::AbsoluteMonthly { day } => parts.push(format!("BYMONTHDAY={day}")),
        Shape::RelativeMonthly { days, pos } => {
            parts.push(byday(days));
            parts.push(format!("BYSETPOS={pos}"));
        }
        Shape::AbsoluteYearly { month, day } => {
            parts.push(format!("BYMONTH={month}"));
            parts.push(format!("BYMONTHDAY={day}"));
        }
        Shape::RelativeYearly { month, days, pos } => {
            parts.push(format!("BYMONTH={month}"));
            parts.push(byday(days));
            parts.push(format!("BYSETPOS={pos}"));
        }
    }
    parts.extend(end);
    parts.join(";")
}

/// Whether `d` is one of the pattern's dates, ignoring the interval.
fn occurs_on(shape: &Shape, d: NaiveDate) -> bool {
    match shape {
        Shape::Daily => true,
        Shape::Weekly { days, .. } => days.contains(&d.weekday()),
        Shape::AbsoluteMonthly { day } => d.day() == *day,
        Shape::AbsoluteYearly { month, day } => d.month() == *month && d.day() == *day,
        Shape::RelativeMonthly { days, pos } => nth_in_month(d, days, *pos) == Some(d),
        Shape::RelativeYearly { month, days, pos } => {
            d.month() == *month && nth_in_month(d, days, *pos) == Some(d)
        }
    }
}

/// The `pos`-th (or last, -1) day of `d`'s month whose weekday is in `days`.
fn nth_in_month(d: NaiveDate, days: &[Weekday], pos: i32) -> Option<NaiveDate> {
    let first = d.with_day(1)?;
    let mut matching = first
        .iter_days()
        .take_while(|x| x.month() == d.month())
        .filter(|x| days.contains(&x.weekday()));
    match pos {
        -1 => matching.last(),
        n => matching.nth(usize::try_from(n).ok()?.checked_sub(1)?),
    }
}

/// Whether `d` lies in a period (day, week, month, year) the interval keeps, counting
/// from the period of `start`.
fn in_active_period(shape: &Shape, interval: u32, start: NaiveDate, d: NaiveDate) -> bool {
    let months = |a: NaiveDate| i64::from(a.year()) * 12 + i64::from(a.month());
    let elapsed = match shape {
        Shape::Daily => (d - start).num_days(),
        Shape::Weekly { wkst, .. } => {
            let week_start = |a: NaiveDate| {
                let back =
                    (7 + a.weekday().num_days_from_monday() - wkst.num_days_from_monday()) % 7;
                a - Duration::days(i64::from(back))
            };
            (week_start(d) - week_start(start)).num_days() / 7
        }
        Shape::AbsoluteMonthly { .. } | Shape::RelativeMonthly { .. } => months(d) - months(start),
        Shape::AbsoluteYearly { .. } | Shape::RelativeYearly { .. } => {
            i64::from(d.year() - start.year())
        }
    };
    elapsed % i64::from(interval) == 0
}

/// RRULE → Graph recurrence, for a series whose first occurrence is on `start_date` with
/// wall times in `zone` (IANA or Windows name; all-day series: the zone Graph should
/// record, e.g. the user's).
///
/// A date-time `UNTIL` maps to an inclusive `endDate` only when its wall time in `zone`
/// is 23:59:59 (what [`to_rrule`] writes); for any other time the answer depends on the
/// series' time of day, so use [`from_rrule_at`].
pub fn from_rrule(rrule: &str, start_date: NaiveDate, zone: &str) -> FromRrule {
    finish(convert_from_rrule(rrule, start_date, None, zone))
}

/// [`from_rrule`] for a series starting at the wall time `start` (all-day series: midnight):
/// maps any `UNTIL`.
pub fn from_rrule_at(rrule: &str, start: NaiveDateTime, zone: &str) -> FromRrule {
    finish(convert_from_rrule(
        rrule,
        start.date(),
        Some(start.time()),
        zone,
    ))
}

fn finish(r: Result<PatternedRecurrence, String>) -> FromRrule {
    match r {
        Ok(rec) => FromRrule::Mapped(rec),
        Err(reason) => FromRrule::NotExpressible { reason },
    }
}

#[derive(Default)]
struct Parts {
    freq: Option<String>,
    interval: Option<String>,
    count: Option<String>,
    until: Option<String>,
    byday: Option<Vec<(Option<i32>, Weekday)>>,
    bymonthday: Option<Vec<i32>>,
    bymonth: Option<Vec<i32>>,
    bysetpos: Option<Vec<i32>>,
    wkst: Option<Weekday>,
}

fn parse_parts(rrule: &str) -> Result<Parts, String> {
    let body = rrule.trim();
    let body = match body.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => &body[6..],
        _ => body,
    }
    .to_ascii_uppercase();
    let mut parts = Parts::default();
    let mut seen = Vec::new();
    for part in body.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("\"{part}\" is not a KEY=VALUE part of an RRULE"))?;
        if seen.contains(&key) {
            return Err(format!("{key} appears twice"));
        }
        seen.push(key);
        let ints = || -> Result<Vec<i32>, String> {
            value
                .split(',')
                .map(|v| {
                    v.parse::<i32>()
                        .map_err(|_| format!("{key}={value} is not a number list"))
                })
                .collect()
        };
        match key {
            "FREQ" => parts.freq = Some(value.to_owned()),
            "INTERVAL" => parts.interval = Some(value.to_owned()),
            "COUNT" => parts.count = Some(value.to_owned()),
            "UNTIL" => parts.until = Some(value.to_owned()),
            "BYMONTHDAY" => parts.bymonthday = Some(ints()?),
            "BYMONTH" => parts.bymonth = Some(ints()?),
            "BYSETPOS" => parts.bysetpos = Some(ints()?),
            "WKST" => {
                let day = parse_day(value).ok_or_else(|| format!("WKST={value} is no weekday"))?;
                parts.wkst = Some(day);
            }
            "BYDAY" => {
                let bad = |v: &str| format!("BYDAY value \"{v}\" is not valid");
                let days = value
                    .split(',')
                    .map(|v| parse_byday(v).ok_or_else(|| bad(v)))
                    .collect::<Result<_, _>>()?;
                parts.byday = Some(days);
            }
            "BYHOUR" | "BYMINUTE" | "BYSECOND" => {
                return Err(format!(
                    "{key} repeats the event at several times of day; Outlook repeats at most \
                     once a day"
                ))
            }
            "BYYEARDAY" | "BYWEEKNO" => {
                let what = if key == "BYYEARDAY" {
                    "days of the year by number"
                } else {
                    "week numbers of the year"
                };
                return Err(format!("{key} ({what}) has no Outlook equivalent"));
            }
            _ => return Err(format!("the RRULE part {key} is not supported by Outlook")),
        }
    }
    Ok(parts)
}

fn convert_from_rrule(
    rrule: &str,
    start: NaiveDate,
    start_time: Option<NaiveTime>,
    zone: &str,
) -> Result<PatternedRecurrence, String> {
    let p = parse_parts(rrule)?;
    let interval = match p.interval.as_deref() {
        None => 1,
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("INTERVAL={v} is not a positive number Outlook accepts"))?,
    };
    let shape = match p.freq.as_deref() {
        None => return Err("the rule has no FREQ".into()),
        Some("DAILY") => daily(&p, interval)?,
        Some("WEEKLY") => {
            no_filters(&p, "a weekly rule", true)?;
            let days = match &p.byday {
                None => vec![start.weekday()],
                Some(days) => plain_days(days, "a weekly rule")?,
            };
            Shape::Weekly {
                days,
                wkst: p.wkst.unwrap_or(Weekday::Mon),
            }
        }
        Some("MONTHLY") => monthly(&p, start)?,
        Some("YEARLY") => yearly(&p, start)?,
        Some(f @ ("HOURLY" | "MINUTELY" | "SECONDLY")) => {
            return Err(format!(
                "FREQ={f} repeats within a day; Outlook repeats at most once a day"
            ))
        }
        Some(f) => return Err(format!("FREQ={f} is not a valid frequency")),
    };
    if !occurs_on(&shape, start) {
        return Err(format!(
            "the series starts on {start}, a date the rule itself does not produce: RFC 5545 \
             still counts that start as an occurrence, Outlook would not"
        ));
    }
    let Some(iana) = windows_zones::to_iana(zone) else {
        return Err(format!("the time zone \"{zone}\" is unknown"));
    };
    let tz: Tz = iana
        .parse()
        .map_err(|_| format!("the time zone \"{zone}\" is unknown"))?;
    let mut range = RecurrenceRange {
        start_date: Some(start),
        recurrence_time_zone: Some(windows_zones::to_windows(iana).unwrap_or(iana).to_owned()),
        ..RecurrenceRange::default()
    };
    match (&p.count, &p.until) {
        (Some(_), Some(_)) => {
            return Err("COUNT and UNTIL together are not allowed by RFC 5545".into())
        }
        (Some(c), None) => {
            let n = c
                .parse::<i32>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| format!("COUNT={c} is not a positive number Outlook accepts"))?;
            range.kind = Some(RangeType::Numbered);
            range.number_of_occurrences = Some(n);
        }
        (None, Some(u)) => {
            let end = end_date(u, tz, start_time)?;
            if end < start {
                return Err(format!(
                    "UNTIL={u} ends the series before its first occurrence on {start}"
                ));
            }
            range.kind = Some(RangeType::EndDate);
            range.end_date = Some(end);
        }
        (None, None) => range.kind = Some(RangeType::NoEnd),
    }
    Ok(PatternedRecurrence {
        pattern: Some(pattern_of(&shape, interval)),
        range: Some(range),
        extra: Map::new(),
    })
}

/// The inclusive Graph `endDate` for an `UNTIL` value. Occurrences are at most daily and
/// all at the series' time of day, so the last included day is UNTIL's day in `tz` if
/// that time of day is not later than UNTIL's, else the day before.
fn end_date(until: &str, tz: Tz, start_time: Option<NaiveTime>) -> Result<NaiveDate, String> {
    if let Some(d) = NaiveDate::parse_from_str(until, "%Y%m%d")
        .ok()
        .filter(|d| in_years(*d))
    {
        return Ok(d);
    }
    // The years as written, before any conversion (see `time::in_years`).
    let invalid = || format!("UNTIL={until} is not a valid date or date-time");
    let parsed = |v: &str| {
        NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
            .ok()
            .filter(|t| in_years(t.date()))
    };
    let wall = match until.strip_suffix('Z') {
        Some(utc) => {
            parsed(utc).map(|t| to_local(DateTime::<Utc>::from_naive_utc_and_offset(t, Utc), tz))
        }
        None => parsed(until),
    }
    .ok_or_else(invalid)?;
    let end_of_day = NaiveTime::from_hms_opt(23, 59, 59).expect("valid constant time");
    let day = wall.date();
    match start_time {
        _ if wall.time() >= end_of_day => Ok(day),
        Some(t) if t <= wall.time() => Ok(day),
        Some(_) => day
            .pred_opt()
            .ok_or_else(|| format!("UNTIL={until} is out of range")),
        None => Err(format!(
            "UNTIL={until} ends at {} on {day} in {}; whether that day is included depends \
             on the event's time of day (map with from_rrule_at)",
            wall.time(),
            tz.name()
        )),
    }
}

fn daily(p: &Parts, interval: i32) -> Result<Shape, String> {
    no_filters(p, "a daily rule", true)?;
    match &p.byday {
        None => Ok(Shape::Daily),
        // Every day of a weekday set is a weekly rule on that set.
        Some(days) if interval == 1 => Ok(Shape::Weekly {
            days: plain_days(days, "a daily rule")?,
            wkst: p.wkst.unwrap_or(Weekday::Mon),
        }),
        Some(_) => Err(format!(
            "every {interval} days limited to some weekdays has no Outlook equivalent"
        )),
    }
}

/// Rejects BYMONTH, BYMONTHDAY and (if `setpos`) BYSETPOS for rules that cannot use them.
fn no_filters(p: &Parts, what: &str, setpos: bool) -> Result<(), String> {
    let present = [
        ("BYMONTH", p.bymonth.is_some()),
        ("BYMONTHDAY", p.bymonthday.is_some()),
        ("BYSETPOS", setpos && p.bysetpos.is_some()),
    ];
    match present.iter().find(|(_, on)| *on) {
        Some((key, _)) => Err(format!("{what} with {key} has no Outlook equivalent")),
        None => Ok(()),
    }
}

fn plain_days(days: &[(Option<i32>, Weekday)], what: &str) -> Result<Vec<Weekday>, String> {
    if days.iter().any(|(n, _)| n.is_some()) {
        return Err(format!(
            "{what} with numbered weekdays (e.g. 1MO) has no Outlook equivalent"
        ));
    }
    Ok(dedup(days.iter().map(|&(_, d)| d).collect()))
}

/// `BYDAY` (+ `BYSETPOS`) of a relative monthly/yearly rule → (days, position).
fn relative(p: &Parts, days: &[(Option<i32>, Weekday)]) -> Result<(Vec<Weekday>, i32), String> {
    let pos_ok = |pos: i32| {
        WeekIndex::from_setpos(pos).map(|_| pos).ok_or_else(|| {
            format!(
                "position {pos} has no Outlook equivalent: Outlook can pick only the first, \
                 second, third, fourth or last matching day"
            )
        })
    };
    match (&p.bysetpos, days) {
        (Some(setpos), _) => {
            let [pos] = setpos[..] else {
                return Err("several BYSETPOS values have no Outlook equivalent".into());
            };
            if days.iter().any(|(n, _)| n.is_some()) {
                return Err(
                    "BYSETPOS with numbered weekdays (e.g. 1MO) has no Outlook equivalent".into(),
                );
            }
            Ok((dedup(days.iter().map(|&(_, d)| d).collect()), pos_ok(pos)?))
        }
        (None, [(Some(n), day)]) => Ok((vec![*day], pos_ok(*n)?)),
        (None, [(None, _)]) => Err(
            "every such weekday of the month (BYDAY without a position) has no Outlook equivalent"
                .into(),
        ),
        (None, _) => Err(
            "several weekdays without BYSETPOS (e.g. BYDAY=1MO,3WE) have no Outlook equivalent"
                .into(),
        ),
    }
}

fn single_month_day(mds: &[i32]) -> Result<u32, String> {
    match mds {
        [d] if *d < 0 => Err(format!(
            "BYMONTHDAY={d} counts from the end of the month (-1 is the last day); Outlook \
             has no such day-of-month pattern"
        )),
        [d] => u32::try_from(*d)
            .ok()
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| format!("BYMONTHDAY={d} is not a day of the month")),
        _ => Err("several BYMONTHDAY values have no Outlook equivalent".into()),
    }
}

fn monthly(p: &Parts, start: NaiveDate) -> Result<Shape, String> {
    if p.bymonth.is_some() {
        return Err(
            "a monthly rule limited to some months (BYMONTH) has no Outlook equivalent".into(),
        );
    }
    match (&p.bymonthday, &p.byday) {
        (Some(_), Some(_)) => {
            Err("BYMONTHDAY together with BYDAY has no Outlook equivalent".into())
        }
        (Some(mds), None) => {
            no_setpos(p)?;
            Ok(Shape::AbsoluteMonthly {
                day: single_month_day(mds)?,
            })
        }
        (None, None) => {
            no_setpos(p)?;
            Ok(Shape::AbsoluteMonthly { day: start.day() })
        }
        (None, Some(days)) => {
            let (days, pos) = relative(p, days)?;
            Ok(Shape::RelativeMonthly { days, pos })
        }
    }
}

fn yearly(p: &Parts, start: NaiveDate) -> Result<Shape, String> {
    let month =
        match p.bymonth.as_deref() {
            // Without BYMONTH, BYMONTHDAY/BYDAY apply to every month or to the whole year.
            None if p.bymonthday.is_some() || p.byday.is_some() => return Err(
                "a yearly rule with BYMONTHDAY or BYDAY but no BYMONTH has no Outlook equivalent"
                    .into(),
            ),
            None => start.month(),
            Some([m]) => u32::try_from(*m)
                .ok()
                .filter(|m| (1..=12).contains(m))
                .ok_or_else(|| format!("BYMONTH={m} is not a month"))?,
            Some(_) => return Err("several BYMONTH values have no Outlook equivalent".into()),
        };
    match (&p.bymonthday, &p.byday) {
        (Some(_), Some(_)) => {
            Err("BYMONTHDAY together with BYDAY has no Outlook equivalent".into())
        }
        (mds, None) => {
            no_setpos(p)?;
            let day = match mds {
                Some(mds) => single_month_day(mds)?,
                None => start.day(),
            };
            if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
                return Err(format!("month {month} has no day {day}"));
            }
            Ok(Shape::AbsoluteYearly { month, day })
        }
        (None, Some(days)) => {
            let (days, pos) = relative(p, days)?;
            Ok(Shape::RelativeYearly { month, days, pos })
        }
    }
}

fn no_setpos(p: &Parts) -> Result<(), String> {
    match p.bysetpos {
        Some(_) => Err("BYSETPOS without BYDAY has no Outlook equivalent".into()),
        None => Ok(()),
    }
}

fn pattern_of(shape: &Shape, interval: i32) -> RecurrencePattern {
    let week = |days: &[Weekday]| Some(days.iter().map(|&d| DayOfWeek::from(d)).collect());
    let int = |n: u32| i32::try_from(n).ok();
    let base = |kind| RecurrencePattern {
        kind: Some(kind),
        interval: Some(interval),
        ..RecurrencePattern::default()
    };
    match shape {
        Shape::Daily => base(PatternType::Daily),
        Shape::Weekly { days, wkst } => RecurrencePattern {
            days_of_week: week(days),
            first_day_of_week: Some((*wkst).into()),
            ..base(PatternType::Weekly)
        },
        Shape::AbsoluteMonthly { day } => RecurrencePattern {
            day_of_month: int(*day),
            ..base(PatternType::AbsoluteMonthly)
        },
        Shape::RelativeMonthly { days, pos } => RecurrencePattern {
            days_of_week: week(days),
            index: WeekIndex::from_setpos(*pos),
            ..base(PatternType::RelativeMonthly)
        },
        Shape::AbsoluteYearly { month, day } => RecurrencePattern {
            month: int(*month),
            day_of_month: int(*day),
            ..base(PatternType::AbsoluteYearly)
        },
        Shape::RelativeYearly { month, days, pos } => RecurrencePattern {
            month: int(*month),
            days_of_week: week(days),
            index: WeekIndex::from_setpos(*pos),
            ..base(PatternType::RelativeYearly)
        },
    }
}

fn dedup(days: Vec<Weekday>) -> Vec<Weekday> {
    let mut out = Vec::with_capacity(days.len());
    for d in days {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

const DAY_CODES: [(Weekday, &str); 7] = [
    (Weekday::Mon, "MO"),
    (Weekday::Tue, "TU"),
    (Weekday::Wed, "WE"),
    (Weekday::Thu, "TH"),
    (Weekday::Fri, "FR"),
    (Weekday::Sat, "SA"),
    (Weekday::Sun, "SU"),
];

fn day_code(d: Weekday) -> &'static str {
    DAY_CODES[d.num_days_from_monday() as usize].1
}

fn parse_day(s: &str) -> Option<Weekday> {
    DAY_CODES.iter().find(|(_, c)| *c == s).map(|(d, _)| *d)
}

/// `MO`, `1MO`, `+2TU`, `-1FR` → (ordinal, weekday).
fn parse_byday(s: &str) -> Option<(Option<i32>, Weekday)> {
    let split = s.len().checked_sub(2)?;
    let day = parse_day(s.get(split..)?)?;
    let n = s.get(..split)?;
    if n.is_empty() {
        return Some((None, day));
    }
    let n: i32 = n.parse().ok()?;
    (n != 0).then_some((Some(n), day))
}

#[cfg(test)]
mod tests;
