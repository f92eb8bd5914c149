//! The local zone and the date/time forms accepted on the command line.

use almanac_model::time::{
    format_instant, parse_date, parse_instant, parse_zone, to_instant, EventTime,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::error::{invalid, CliResult};

/// `--tz` if given (must be a valid IANA name), else `$TZ`, else the system zone, else UTC.
pub fn local_zone(explicit: Option<&str>) -> CliResult<Tz> {
    if let Some(name) = explicit {
        return Ok(parse_zone(name.trim())?);
    }
    let env = std::env::var("TZ").ok().filter(|v| !v.trim().is_empty());
    let from_env = env
        .as_deref()
        .and_then(|v| v.trim().trim_start_matches(':').parse::<Tz>().ok());
    if let (Some(v), None) = (&env, from_env) {
        warn_once(&format!(
            "TZ=\"{}\" is not an IANA time zone name; using the system's zone (or UTC). \
             Pass --tz to choose one.",
            crate::output::printable(&v.chars().take(60).collect::<String>())
        ));
    }
    Ok(from_env
        .or_else(|| {
            iana_time_zone::get_timezone()
                .ok()
                .and_then(|n| n.parse::<Tz>().ok())
        })
        .unwrap_or(Tz::UTC))
}

/// A warning on stderr, once per process (the zone is looked up more than once).
fn warn_once(message: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| eprintln!("almanac: warning: {message}"));
}

/// Start of a range: `YYYY-MM-DD` is local midnight; RFC 3339 instants are taken as is.
pub fn range_start(value: &str, tz: Tz) -> CliResult<DateTime<Utc>> {
    if let Some(d) = parse_date(value) {
        return Ok(to_instant(d.and_time(NaiveTime::MIN), tz));
    }
    parse_instant(value).ok_or_else(|| bad_range(value))
}

/// End of a range: `YYYY-MM-DD` includes that whole local day; instants are exclusive.
pub fn range_end(value: &str, tz: Tz) -> CliResult<DateTime<Utc>> {
    if let Some(d) = parse_date(value) {
        let next = d.succ_opt().ok_or_else(|| bad_range(value))?;
        let end = to_instant(next.and_time(NaiveTime::MIN), tz);
        return Ok(in_years(end));
    }
    parse_instant(value).ok_or_else(|| bad_range(value))
}

/// `t` within the years RFC 3339 can write (0001–9999): the end of 9999-12-31 is its
/// last instant, not one in the year 10000 no query could name.
pub fn in_years(t: DateTime<Utc>) -> DateTime<Utc> {
    let at = |y, m, d, h, min, s| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, s))
            .map(|t| t.and_utc())
    };
    match (at(1, 1, 1, 0, 0, 0), at(9999, 12, 31, 23, 59, 59)) {
        (Some(first), Some(last)) => t.clamp(first, last),
        _ => t,
    }
}

fn bad_range(value: &str) -> almanac_model::AppError {
    invalid(format!(
        "\"{}\" is not a date (YYYY-MM-DD) or an RFC 3339 instant (2026-11-23T09:00:00Z).",
        value.chars().take(60).collect::<String>()
    ))
}

/// A `--start`/`--end` value for an event in `zone`: an RFC 3339 instant becomes the
/// wall time in `zone` (with its offset in the second pass of a DST fold, see
/// [`EventTime`]); anything else is passed through for the model to validate.
pub fn event_time(value: &str, zone: &str) -> String {
    match (parse_instant(value), parse_zone(zone)) {
        (Some(t), Ok(tz)) if !value.trim().is_empty() => EventTime::of(t, tz).to_string(),
        _ => value.trim().to_owned(),
    }
}

/// The default end of an event: one hour after a timed start, one day after an all-day one.
pub fn default_end(start: &str, all_day: bool, zone: &str) -> String {
    if all_day {
        return parse_date(start)
            .and_then(|d| d.succ_opt())
            .map(almanac_model::time::format_date)
            .unwrap_or_else(|| start.to_owned());
    }
    shift_event_time(start, Duration::hours(1), zone).unwrap_or_else(|| start.to_owned())
}

/// A timed event's start or end moved by `by` (elapsed time, so an hour is an hour on a
/// DST change day too); `None` when `value` is not a time of `zone`.
pub fn shift_event_time(value: &str, by: Duration, zone: &str) -> Option<String> {
    let tz = parse_zone(zone).ok()?;
    let (t, _) = EventTime::parse(value)?.resolve(tz)?;
    Some(EventTime::of(t + by, tz).to_string())
}

/// The instant of a timed event's start or end in `zone`.
pub fn event_instant(value: &str, zone: &str) -> Option<DateTime<Utc>> {
    let tz = parse_zone(zone).ok()?;
    EventTime::parse(value)?.resolve(tz).map(|(t, _)| t)
}

pub fn instant_text(t: DateTime<Utc>) -> String {
    format_instant(t)
}
