//! The fake Microsoft Graph mailboxes: calendars, events (single instances, series
//! masters with their exceptions and cancelled occurrences), shares, delta snapshots and
//! rounds, Graph faults and statistics. The HTTP surface lives in
//! [`crate::graph_calendar`]; this module is the data model and its operations.
//!
//! Times: every event keeps its wall-clock start/end in the zone it was written in (the
//! `originalStartTimeZone`) plus the UTC instants; series expand in that zone, so a weekly
//! 09:00 Europe/Berlin meeting stays at 09:00 across DST. All-day events are floating
//! (midnight to midnight, interpreted as UTC for windows: the fake's mailboxes live in UTC).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::latency::ListLatency;
use crate::state::{ControlError, Provider, SharedState, State};
use crate::util;

/// Outlook's per-app, per-mailbox concurrency limit.
pub(crate) const MAILBOX_CONCURRENCY: u64 = 4;
/// Default page size of calendarView, event and calendar lists, and delta pages.
pub(crate) const DEFAULT_PAGE: usize = 10;
/// The largest page a list answers, whatever `odata.maxpagesize` asks for.
pub(crate) const MAX_PAGE: usize = 1000;
const MAX_SNAPSHOTS: usize = 2_000;
const MAX_ROUNDS: usize = 2_000;
const MAX_OCCURRENCES: usize = 5_000;

/// Prefix of ids in the immutable form (`Prefer: IdType="ImmutableId"`).
const IMMUTABLE_PREFIX: &str = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A";
/// Prefix of ids in the default (REST) form.
const REST_PREFIX: &str = "AAMkAGI2TGuLAAA";

// ---------------------------------------------------------------------------------------
// Errors.

/// A Graph error to answer with.
#[derive(Debug, Clone)]
pub(crate) struct GErr {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

pub(crate) fn gerr(status: u16, code: &str, message: impl Into<String>) -> GErr {
    GErr {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

pub(crate) fn not_found() -> GErr {
    gerr(
        404,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

pub(crate) fn access_denied() -> GErr {
    gerr(
        403,
        "ErrorAccessDenied",
        "Access is denied. Check credentials and try again.",
    )
}

fn invalid(message: impl Into<String>) -> GErr {
    gerr(400, "ErrorInvalidRequest", message)
}

fn body_read(message: impl Into<String>) -> GErr {
    gerr(400, "RequestBodyRead", message)
}

// ---------------------------------------------------------------------------------------
// Time zones and date-time formats.

/// Windows zone names the fake understands (CLDR `windowsZones.xml`, territory 001),
/// mapped to the IANA zone used for the arithmetic.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("Coordinated Universal Time", "UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Central Standard Time", "America/Chicago"),
    ("Eastern Standard Time", "America/New_York"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
];

/// The zone a Graph `timeZone` value names: a Windows name from the table above or an
/// IANA name chrono-tz knows.
pub(crate) fn resolve_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if let Some((_, iana)) = WINDOWS_ZONES
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
    {
        return iana.parse().ok();
    }
    name.parse().ok()
}

fn zone_error(name: &str) -> GErr {
    gerr(
        400,
        "TimeZoneNotSupportedException",
        format!("A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'."),
    )
}

/// `2026-11-23T08:00:00.0000000` (no offset, 7 fractional digits, as Graph writes).
pub(crate) fn format_local(t: NaiveDateTime) -> String {
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.and_utc().timestamp_subsec_nanos() / 100
    )
}

/// `2026-11-23T08:00:00.1234567Z`.
pub(crate) fn format_utc(t: DateTime<Utc>) -> String {
    format!("{}Z", format_local(t.naive_utc()))
}

/// `2026-11-23T08:00:00Z` (originalStart's shape).
fn format_utc_seconds(t: NaiveDateTime) -> String {
    format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// A `dateTime` as clients send it: naive (`2026-11-23T08:00:00`, optional fraction) or
/// with an offset/`Z`, which is then converted to `tz`.
pub(crate) fn parse_date_time(text: &str, tz: Tz) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&tz).naive_local());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// A query-string instant (`startDateTime` etc.): offset honoured, none means UTC. A `+`
/// that arrived as a space (unencoded in the URL) is put back.
pub(crate) fn parse_query_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().replace(' ', "+");
    if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
        return Some(t.with_timezone(&Utc));
    }
    parse_date_time(&text, Tz::UTC).map(|t| t.and_utc())
}

/// Local wall time in `tz` to UTC; a time in a DST gap moves forward by the gap.
pub(crate) fn local_to_utc(tz: Tz, local: NaiveDateTime) -> NaiveDateTime {
    for shift in [0i64, 30, 60, 90, 120] {
        if let Some(t) = tz
            .from_local_datetime(&(local + Duration::minutes(shift)))
            .earliest()
        {
            return t.naive_utc();
        }
    }
    local
}

/// A UTC instant as wall time in `tz`.
pub(crate) fn utc_to_local(tz: Tz, utc: NaiveDateTime) -> NaiveDateTime {
    tz.from_utc_datetime(&utc).naive_local()
}

// ---------------------------------------------------------------------------------------
// Request-body schema (the subset of `microsoft.graph.*` types a client can send).

#[derive(Debug, Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    Num,
    Enum(&'static str, &'static [&'static str]),
    Obj(&'static str),
    Arr(&'static Ty),
    Any,
}

const FREE_BUSY: Ty = Ty::Enum(
    "freeBusyStatus",
    &[
        "unknown",
        "free",
        "tentative",
        "busy",
        "oof",
        "workingElsewhere",
    ],
);
const DAY_OF_WEEK: Ty = Ty::Enum(
    "dayOfWeek",
    &[
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ],
);
const LOCATION_TYPE: Ty = Ty::Enum(
    "locationType",
    &[
        "default",
        "conferenceRoom",
        "homeAddress",
        "businessAddress",
        "geoCoordinates",
        "streetAddress",
        "hotel",
        "restaurant",
        "localBusiness",
        "postalAddress",
    ],
);
const UNIQUE_ID_TYPE: Ty = Ty::Enum(
    "locationUniqueIdType",
    &["unknown", "locationStore", "directory", "private", "bing"],
);
const ONLINE_PROVIDER: Ty = Ty::Enum(
    "onlineMeetingProviderType",
    &[
        "unknown",
        "skypeForBusiness",
        "skypeForConsumer",
        "teamsForBusiness",
    ],
);
const STR_ARR: Ty = Ty::Arr(&Ty::Str);
const ANY_ARR: Ty = Ty::Arr(&Ty::Any);

/// Properties of each complex type (from the OpenAPI subset; navigation properties of
/// `event` are accepted as opaque values).
fn type_props(name: &str) -> &'static [(&'static str, Ty)] {
    match name {
        "event" => &[
            ("id", Ty::Str),
            ("categories", STR_ARR),
            ("changeKey", Ty::Str),
            ("createdDateTime", Ty::Str),
            ("lastModifiedDateTime", Ty::Str),
            ("allowNewTimeProposals", Ty::Bool),
            ("attendees", Ty::Arr(&Ty::Obj("attendee"))),
            ("body", Ty::Obj("itemBody")),
            ("bodyPreview", Ty::Str),
            ("cancelledOccurrences", STR_ARR),
            ("end", Ty::Obj("dateTimeTimeZone")),
            ("hasAttachments", Ty::Bool),
            ("hideAttendees", Ty::Bool),
            ("iCalUId", Ty::Str),
            (
                "importance",
                Ty::Enum("importance", &["low", "normal", "high"]),
            ),
            ("isAllDay", Ty::Bool),
            ("isCancelled", Ty::Bool),
            ("isDraft", Ty::Bool),
            ("isOnlineMeeting", Ty::Bool),
            ("isOrganizer", Ty::Bool),
            ("isReminderOn", Ty::Bool),
            ("location", Ty::Obj("location")),
            ("locations", Ty::Arr(&Ty::Obj("location"))),
            ("onlineMeeting", Ty::Obj("onlineMeetingInfo")),
            ("onlineMeetingProvider", ONLINE_PROVIDER),
            ("onlineMeetingUrl", Ty::Str),
            ("organizer", Ty::Obj("recipient")),
            ("originalEndTimeZone", Ty::Str),
            ("originalStart", Ty::Str),
            ("originalStartTimeZone", Ty::Str),
            ("recurrence", Ty::Obj("patternedRecurrence")),
            ("reminderMinutesBeforeStart", Ty::Int),
            ("responseRequested", Ty::Bool),
            ("responseStatus", Ty::Obj("responseStatus")),
            (
                "sensitivity",
                Ty::Enum(
                    "sensitivity",
                    &["normal", "personal", "private", "confidential"],
                ),
            ),
            ("seriesMasterId", Ty::Str),
            ("showAs", FREE_BUSY),
            ("start", Ty::Obj("dateTimeTimeZone")),
            ("subject", Ty::Str),
            ("transactionId", Ty::Str),
            (
                "type",
                Ty::Enum(
                    "eventType",
                    &["singleInstance", "occurrence", "exception", "seriesMaster"],
                ),
            ),
            ("webLink", Ty::Str),
            ("attachments", ANY_ARR),
            ("calendar", Ty::Any),
            ("exceptionOccurrences", ANY_ARR),
            ("extensions", ANY_ARR),
            ("instances", ANY_ARR),
            ("multiValueExtendedProperties", ANY_ARR),
            ("singleValueExtendedProperties", ANY_ARR),
        ],
        "itemBody" => &[
            ("content", Ty::Str),
            ("contentType", Ty::Enum("bodyType", &["text", "html"])),
        ],
        "dateTimeTimeZone" => &[("dateTime", Ty::Str), ("timeZone", Ty::Str)],
        "location" => &[
            ("address", Ty::Obj("physicalAddress")),
            ("coordinates", Ty::Obj("outlookGeoCoordinates")),
            ("displayName", Ty::Str),
            ("locationEmailAddress", Ty::Str),
            ("locationType", LOCATION_TYPE),
            ("locationUri", Ty::Str),
            ("uniqueId", Ty::Str),
            ("uniqueIdType", UNIQUE_ID_TYPE),
        ],
        "physicalAddress" => &[
            ("city", Ty::Str),
            ("countryOrRegion", Ty::Str),
            ("postalCode", Ty::Str),
            ("state", Ty::Str),
            ("street", Ty::Str),
        ],
        "outlookGeoCoordinates" => &[
            ("accuracy", Ty::Num),
            ("altitude", Ty::Num),
            ("altitudeAccuracy", Ty::Num),
            ("latitude", Ty::Num),
            ("longitude", Ty::Num),
        ],
        "attendee" => &[
            ("emailAddress", Ty::Obj("emailAddress")),
            (
                "type",
                Ty::Enum("attendeeType", &["required", "optional", "resource"]),
            ),
            ("proposedNewTime", Ty::Obj("timeSlot")),
            ("status", Ty::Obj("responseStatus")),
        ],
        "emailAddress" => &[("address", Ty::Str), ("name", Ty::Str)],
        "recipient" => &[("emailAddress", Ty::Obj("emailAddress"))],
        "responseStatus" => &[
            (
                "response",
                Ty::Enum(
                    "responseType",
                    &[
                        "none",
                        "organizer",
                        "tentativelyAccepted",
                        "accepted",
                        "declined",
                        "notResponded",
                    ],
                ),
            ),
            ("time", Ty::Str),
        ],
        "timeSlot" => &[
            ("start", Ty::Obj("dateTimeTimeZone")),
            ("end", Ty::Obj("dateTimeTimeZone")),
        ],
        "patternedRecurrence" => &[
            ("pattern", Ty::Obj("recurrencePattern")),
            ("range", Ty::Obj("recurrenceRange")),
        ],
        "recurrencePattern" => &[
            ("dayOfMonth", Ty::Int),
            ("daysOfWeek", Ty::Arr(&DAY_OF_WEEK)),
            ("firstDayOfWeek", DAY_OF_WEEK),
            (
                "index",
                Ty::Enum("weekIndex", &["first", "second", "third", "fourth", "last"]),
            ),
            ("interval", Ty::Int),
            ("month", Ty::Int),
            (
                "type",
                Ty::Enum(
                    "recurrencePatternType",
                    &[
                        "daily",
                        "weekly",
                        "absoluteMonthly",
                        "relativeMonthly",
                        "absoluteYearly",
                        "relativeYearly",
                    ],
                ),
            ),
        ],
        "recurrenceRange" => &[
            ("endDate", Ty::Str),
            ("numberOfOccurrences", Ty::Int),
            ("recurrenceTimeZone", Ty::Str),
            ("startDate", Ty::Str),
            (
                "type",
                Ty::Enum("recurrenceRangeType", &["endDate", "noEnd", "numbered"]),
            ),
        ],
        "onlineMeetingInfo" => &[
            ("conferenceId", Ty::Str),
            ("joinUrl", Ty::Str),
            ("phones", ANY_ARR),
            ("quickDial", Ty::Str),
            ("tollFreeNumbers", STR_ARR),
            ("tollNumber", Ty::Str),
        ],
        "timeConstraint" => &[
            (
                "activityDomain",
                Ty::Enum(
                    "activityDomain",
                    &["unknown", "work", "personal", "unrestricted"],
                ),
            ),
            ("timeSlots", Ty::Arr(&Ty::Obj("timeSlot"))),
        ],
        "attendeeBase" => &[
            ("emailAddress", Ty::Obj("emailAddress")),
            (
                "type",
                Ty::Enum("attendeeType", &["required", "optional", "resource"]),
            ),
        ],
        _ => &[],
    }
}

/// Checks a request body against `type_name` the way Graph's OData reader does: unknown
/// property names and values outside an enum are `RequestBodyRead` errors. Annotations
/// (`@odata.type`, ...) are allowed. `null` is accepted for every property.
pub(crate) fn validate_body(type_name: &str, value: &Value) -> Result<(), GErr> {
    let Some(object) = value.as_object() else {
        return Err(body_read(format!(
            "A node of type 'PrimitiveValue' was read from the JSON reader when trying to read a value of type 'microsoft.graph.{type_name}'; however, a 'StartObject' node was expected."
        )));
    };
    let props = type_props(type_name);
    for (key, value) in object {
        if key.starts_with('@') || key.contains("@odata.") {
            continue;
        }
        let Some((_, ty)) = props.iter().find(|(name, _)| name == key) else {
            return Err(body_read(format!(
                "The property '{key}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type or mark the type as open type."
            )));
        };
        validate_value(key, *ty, value)?;
    }
    Ok(())
}

fn validate_value(key: &str, ty: Ty, value: &Value) -> Result<(), GErr> {
    if value.is_null() {
        return Ok(());
    }
    let kind_error = |expected: &str| {
        Err(body_read(format!(
            "Cannot convert the value of property '{key}' to the expected type '{expected}'."
        )))
    };
    match ty {
        Ty::Any => Ok(()),
        Ty::Str if value.is_string() => Ok(()),
        Ty::Str => kind_error("Edm.String"),
        Ty::Bool if value.is_boolean() => Ok(()),
        Ty::Bool => kind_error("Edm.Boolean"),
        Ty::Int if value.is_i64() || value.is_u64() => Ok(()),
        Ty::Int => kind_error("Edm.Int32"),
        Ty::Num if value.is_number() => Ok(()),
        Ty::Num => kind_error("Edm.Double"),
        Ty::Enum(name, allowed) => match value.as_str() {
            Some(text) if allowed.iter().any(|a| a.eq_ignore_ascii_case(text)) => Ok(()),
            Some(text) => Err(body_read(format!(
                "Cannot convert the literal '{text}' to the expected type 'microsoft.graph.{name}'."
            ))),
            None => kind_error(&format!("microsoft.graph.{name}")),
        },
        Ty::Obj(name) => validate_body(name, value),
        Ty::Arr(item) => match value.as_array() {
            Some(items) => items.iter().try_for_each(|v| validate_value(key, *item, v)),
            None => kind_error("Collection"),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Recurrence.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    Daily,
    Weekly,
    AbsoluteMonthly,
    RelativeMonthly,
    AbsoluteYearly,
    RelativeYearly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    EndDate,
    NoEnd,
    Numbered,
}

/// A parsed `patternedRecurrence`.
#[derive(Debug, Clone)]
pub(crate) struct Recurrence {
    kind: PatternKind,
    interval: u32,
    days: Vec<Weekday>,
    day_of_month: u32,
    month: u32,
    first_day: Weekday,
    /// 1..=4 for first..fourth, 5 for last.
    index: u8,
    range: RangeKind,
    start_date: NaiveDate,
    end_date: Option<NaiveDate>,
    count: u32,
    zone: String,
}

const DAY_NAMES: [(&str, Weekday); 7] = [
    ("sunday", Weekday::Sun),
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
];
const INDEX_NAMES: [&str; 5] = ["first", "second", "third", "fourth", "last"];

fn weekday_of(name: &str) -> Option<Weekday> {
    DAY_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, d)| *d)
}

fn weekday_name(day: Weekday) -> &'static str {
    DAY_NAMES
        .iter()
        .find(|(_, d)| *d == day)
        .map(|(n, _)| *n)
        .unwrap_or("sunday")
}

fn int_of(object: &Map<String, Value>, key: &str) -> i64 {
    object.get(key).and_then(Value::as_i64).unwrap_or(0)
}

impl Recurrence {
    /// Parses and validates `recurrence` for an event starting on `start_date` in `zone`.
    fn parse(value: &Value, start_date: NaiveDate, zone: &str) -> Result<Recurrence, GErr> {
        let pattern = value
            .get("pattern")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Recurrence pattern is required."))?;
        let range = value
            .get("range")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid("Recurrence range is required."))?;
        let kind = match pattern.get("type").and_then(Value::as_str) {
            Some("daily") => PatternKind::Daily,
            Some("weekly") => PatternKind::Weekly,
            Some("absoluteMonthly") => PatternKind::AbsoluteMonthly,
            Some("relativeMonthly") => PatternKind::RelativeMonthly,
            Some("absoluteYearly") => PatternKind::AbsoluteYearly,
            Some("relativeYearly") => PatternKind::RelativeYearly,
            _ => return Err(invalid("Recurrence pattern type is required.")),
        };
        let interval = int_of(pattern, "interval");
        if !(1..=999).contains(&interval) {
            return Err(invalid(
                "The recurrence pattern interval must be a positive number.",
            ));
        }
        let mut days = Vec::new();
        if let Some(list) = pattern.get("daysOfWeek").and_then(Value::as_array) {
            for d in list {
                let day = d
                    .as_str()
                    .and_then(weekday_of)
                    .ok_or_else(|| invalid("Invalid day of week."))?;
                if !days.contains(&day) {
                    days.push(day);
                }
            }
        }
        let needs_days = matches!(
            kind,
            PatternKind::Weekly | PatternKind::RelativeMonthly | PatternKind::RelativeYearly
        );
        if needs_days && days.is_empty() {
            return Err(invalid(
                "DaysOfWeek is required for this recurrence pattern.",
            ));
        }
        let day_of_month = int_of(pattern, "dayOfMonth");
        let needs_dom = matches!(
            kind,
            PatternKind::AbsoluteMonthly | PatternKind::AbsoluteYearly
        );
        if needs_dom && !(1..=31).contains(&day_of_month) {
            return Err(invalid(
                "DayOfMonth must be between 1 and 31 for this recurrence pattern.",
            ));
        }
        let month = int_of(pattern, "month");
        let needs_month = matches!(
            kind,
            PatternKind::AbsoluteYearly | PatternKind::RelativeYearly
        );
        if needs_month && !(1..=12).contains(&month) {
            return Err(invalid(
                "Month must be between 1 and 12 for this recurrence pattern.",
            ));
        }
        let first_day = match pattern.get("firstDayOfWeek").and_then(Value::as_str) {
            Some(name) => weekday_of(name).ok_or_else(|| invalid("Invalid firstDayOfWeek."))?,
            None => Weekday::Sun,
        };
        let index = match pattern.get("index").and_then(Value::as_str) {
            Some(name) => INDEX_NAMES
                .iter()
                .position(|n| n.eq_ignore_ascii_case(name))
                .map(|i| i as u8 + 1)
                .ok_or_else(|| invalid("Invalid index."))?,
            None => 1,
        };
        let range_kind = match range.get("type").and_then(Value::as_str) {
            Some("endDate") => RangeKind::EndDate,
            Some("noEnd") => RangeKind::NoEnd,
            Some("numbered") => RangeKind::Numbered,
            _ => return Err(invalid("Recurrence range type is required.")),
        };
        let date = |key: &str| {
            range
                .get(key)
                .and_then(Value::as_str)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let range_start = date("startDate")
            .ok_or_else(|| invalid("The recurrence range start date is required."))?;
        if range_start != start_date {
            return Err(invalid(
                "The recurrence range start date must be the same as the event start date.",
            ));
        }
        let end_date = date("endDate").filter(|d| d.year() > 1);
        if range_kind == RangeKind::EndDate {
            match end_date {
                Some(end) if end >= range_start => {}
                _ => {
                    return Err(invalid(
                        "The recurrence range end date must be on or after its start date.",
                    ))
                }
            }
        }
        let count = int_of(range, "numberOfOccurrences");
        if range_kind == RangeKind::Numbered && !(1..=999).contains(&count) {
            return Err(invalid("NumberOfOccurrences must be a positive number."));
        }
        let zone = range
            .get("recurrenceTimeZone")
            .and_then(Value::as_str)
            .filter(|z| !z.is_empty())
            .unwrap_or(zone)
            .to_string();
        Ok(Recurrence {
            kind,
            interval: interval as u32,
            days,
            day_of_month: day_of_month as u32,
            month: month as u32,
            first_day,
            index,
            range: range_kind,
            start_date: range_start,
            end_date: if range_kind == RangeKind::EndDate {
                end_date
            } else {
                None
            },
            count: if range_kind == RangeKind::Numbered {
                count as u32
            } else {
                0
            },
            zone,
        })
    }

    /// The representation Graph returns: every field, unused ones zero/default.
    fn to_json(&self) -> Value {
        let kind = match self.kind {
            PatternKind::Daily => "daily",
            PatternKind::Weekly => "weekly",
            PatternKind::AbsoluteMonthly => "absoluteMonthly",
            PatternKind::RelativeMonthly => "relativeMonthly",
            PatternKind::AbsoluteYearly => "absoluteYearly",
            PatternKind::RelativeYearly => "relativeYearly",
        };
        let range = match self.range {
            RangeKind::EndDate => "endDate",
            RangeKind::NoEnd => "noEnd",
            RangeKind::Numbered => "numbered",
        };
        json!({
            "pattern": {
                "type": kind,
                "interval": self.interval,
                "month": self.month,
                "dayOfMonth": self.day_of_month,
                "daysOfWeek": self.days.iter().map(|d| weekday_name(*d)).collect::<Vec<_>>(),
                "firstDayOfWeek": weekday_name(self.first_day),
                "index": INDEX_NAMES[usize::from(self.index.clamp(1, 5) - 1)],
            },
            "range": {
                "type": range,
                "startDate": self.start_date.format("%Y-%m-%d").to_string(),
                "endDate": self.end_date.map_or_else(|| "0001-01-01".to_string(), |d| d.format("%Y-%m-%d").to_string()),
                "recurrenceTimeZone": self.zone,
                "numberOfOccurrences": self.count,
            }
        })
    }

    /// The occurrence dates from the start up to `limit` (inclusive), in order.
    fn dates(&self, limit: NaiveDate) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let last = match self.end_date {
            Some(end) => end.min(limit),
            None => limit,
        };
        let start = self.start_date;
        let step = i64::from(self.interval);
        let mut sorted_days = self.days.clone();
        let offset_from_first = |d: Weekday| {
            (i64::from(d.num_days_from_sunday()) - i64::from(self.first_day.num_days_from_sunday()))
                .rem_euclid(7)
        };
        sorted_days.sort_by_key(|d| offset_from_first(*d));
        let week_start = start - Duration::days(offset_from_first(start.weekday()));
        let month0 = i64::from(start.year()) * 12 + i64::from(start.month0());
        for period in 0..100_000i64 {
            let (period_start, candidates): (NaiveDate, Vec<NaiveDate>) = match self.kind {
                PatternKind::Daily => {
                    let d = start + Duration::days(period * step);
                    (d, vec![d])
                }
                PatternKind::Weekly => {
                    let base = week_start + Duration::days(period * step * 7);
                    let days = sorted_days
                        .iter()
                        .map(|d| base + Duration::days(offset_from_first(*d)))
                        .collect();
                    (base, days)
                }
                PatternKind::AbsoluteMonthly | PatternKind::RelativeMonthly => {
                    let m = month0 + period * step;
                    let (year, month) = ((m.div_euclid(12)) as i32, (m.rem_euclid(12)) as u32 + 1);
                    let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
                        break;
                    };
                    (first, self.in_month(year, month))
                }
                PatternKind::AbsoluteYearly | PatternKind::RelativeYearly => {
                    let year = start.year() + (period * step) as i32;
                    let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
                        break;
                    };
                    (first, self.in_month(year, self.month))
                }
            };
            if period_start > last {
                break;
            }
            for d in candidates {
                if d < start || d > last {
                    continue;
                }
                out.push(d);
                if (self.range == RangeKind::Numbered && out.len() >= self.count as usize)
                    || out.len() >= MAX_OCCURRENCES
                {
                    return out;
                }
            }
        }
        out
    }

    /// The dates in `year`-`month` the monthly/yearly pattern picks.
    fn in_month(&self, year: i32, month: u32) -> Vec<NaiveDate> {
        match self.kind {
            PatternKind::AbsoluteMonthly | PatternKind::AbsoluteYearly => {
                // Months without that day are skipped (RFC 5545 behaviour).
                NaiveDate::from_ymd_opt(year, month, self.day_of_month)
                    .into_iter()
                    .collect()
            }
            _ => {
                let mut matching = Vec::new();
                let mut d = NaiveDate::from_ymd_opt(year, month, 1);
                while let Some(day) = d {
                    if day.month() != month {
                        break;
                    }
                    if self.days.contains(&day.weekday()) {
                        matching.push(day);
                    }
                    d = day.succ_opt();
                }
                let pick = if self.index == 5 {
                    matching.last().copied()
                } else {
                    matching.get(usize::from(self.index) - 1).copied()
                };
                pick.into_iter().collect()
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The data model.

/// A point in time as an event stores it.
#[derive(Debug, Clone)]
pub(crate) struct Moment {
    /// Wall time in `zone` (for all-day events: the floating midnight).
    pub(crate) local: NaiveDateTime,
    /// The zone name as the client wrote it (`originalStartTimeZone`).
    pub(crate) zone: String,
    pub(crate) utc: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) color: String,
    pub(crate) is_default: bool,
    pub(crate) change_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRole {
    Read,
    Write,
}

#[derive(Debug, Clone)]
pub(crate) struct Share {
    pub(crate) calendar_id: String,
    /// Lower-case email of the user the calendar is shared with.
    pub(crate) with: String,
    pub(crate) role: ShareRole,
}

/// A modified occurrence of a series.
#[derive(Debug, Clone)]
pub(crate) struct Exception {
    pub(crate) props: Map<String, Value>,
    pub(crate) start: Moment,
    pub(crate) end: Moment,
    pub(crate) change_key: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
}

/// A single instance or a series master.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub(crate) key: String,
    pub(crate) calendar_id: String,
    /// Client-settable properties as stored (open type), minus the ones modelled below.
    pub(crate) props: Map<String, Value>,
    pub(crate) start: Moment,
    pub(crate) end: Moment,
    pub(crate) all_day: bool,
    pub(crate) recurrence: Option<Recurrence>,
    /// By `originalStart` (UTC, unix seconds).
    pub(crate) exceptions: BTreeMap<i64, Exception>,
    pub(crate) cancelled: BTreeSet<i64>,
    pub(crate) change_key: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    /// Store-wide change sequence of the last change (delta's "changed since").
    pub(crate) seq: u64,
    pub(crate) ical_uid: String,
    pub(crate) transaction_id: Option<String>,
    pub(crate) online_meeting: Option<Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) personal: bool,
    pub(crate) calendars: Vec<Calendar>,
    /// Shared, because a request works on a copy of its mailbox (`execute`): copying
    /// 100k events for every read would make the fake, not the client, the slow part.
    /// A write copies them (`Arc::make_mut`) only if that copy is still around.
    pub(crate) events: Arc<BTreeMap<String, StoredEvent>>,
    /// transactionId → event key.
    pub(crate) transactions: HashMap<String, String>,
    /// Deleted events: (seq, calendar id, key), for delta's out-of-window `@removed`.
    pub(crate) deletions: Vec<(u64, String, String)>,
    /// This mailbox's calendars shared with other users.
    pub(crate) shares: Vec<Share>,
}

impl Mailbox {
    pub(crate) fn default_calendar(&self) -> &Calendar {
        self.calendars
            .iter()
            .find(|c| c.is_default)
            .unwrap_or(&self.calendars[0])
    }

    pub(crate) fn calendar(&self, id: &str) -> Option<&Calendar> {
        self.calendars.iter().find(|c| c.id == id)
    }

    /// The role `email` has on calendar `id` of this mailbox, if it is shared with them.
    pub(crate) fn share_role(&self, id: &str, email: &str) -> Option<ShareRole> {
        self.shares
            .iter()
            .find(|s| s.calendar_id == id && s.with.eq_ignore_ascii_case(email))
            .map(|s| s.role)
    }
}

/// What an opaque event id points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemRef {
    Event(String),
    /// (master key, originalStart unix seconds)
    Occurrence(String, i64),
}

impl ItemRef {
    fn payload(&self) -> String {
        match self {
            ItemRef::Event(key) => format!("e.{key}"),
            ItemRef::Occurrence(key, start) => format!("o.{key}.{start}"),
        }
    }

    pub(crate) fn id(&self, immutable: bool) -> String {
        let prefix = if immutable {
            IMMUTABLE_PREFIX
        } else {
            REST_PREFIX
        };
        format!("{prefix}{}", util::b64url(self.payload().as_bytes()))
    }

    /// Either id form decodes.
    pub(crate) fn parse(id: &str) -> Option<ItemRef> {
        let rest = id
            .strip_prefix(IMMUTABLE_PREFIX)
            .or_else(|| id.strip_prefix(REST_PREFIX))?;
        let payload = String::from_utf8(util::b64url_decode(rest)?).ok()?;
        let mut parts = payload.split('.');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("e"), Some(key), None, None) => Some(ItemRef::Event(key.to_string())),
            (Some("o"), Some(key), Some(start), None) => {
                Some(ItemRef::Occurrence(key.to_string(), start.parse().ok()?))
            }
            _ => None,
        }
    }

    pub(crate) fn key(&self) -> &str {
        match self {
            ItemRef::Event(key) | ItemRef::Occurrence(key, _) => key,
        }
    }
}

/// How a response should look (from the request's `Prefer` headers).
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefs {
    /// `outlook.timezone`: (label as given, zone).
    pub(crate) zone: Option<(String, Tz)>,
    pub(crate) text_body: bool,
    pub(crate) immutable: bool,
    pub(crate) max_page_size: Option<usize>,
}

impl Prefs {
    fn zone_label(&self) -> &str {
        self.zone
            .as_ref()
            .map_or("UTC", |(label, _)| label.as_str())
    }

    fn tz(&self) -> Tz {
        self.zone.as_ref().map_or(Tz::UTC, |(_, tz)| *tz)
    }
}

/// One instance of a calendar view: a single event, an occurrence or an exception.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    pub(crate) item: ItemRef,
    pub(crate) start_utc: NaiveDateTime,
    pub(crate) change_key: String,
}

/// A delta snapshot: what a calendar window held when a deltaLink was issued.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) owner: String,
    pub(crate) calendar_id: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    /// Item payload → changeKey.
    pub(crate) items: BTreeMap<String, String>,
    pub(crate) seq: u64,
    pub(crate) epoch: u64,
}

/// A delta round in progress: its pages, rendered when the round started.
#[derive(Debug, Clone)]
pub(crate) struct Round {
    pub(crate) owner: String,
    pub(crate) calendar_id: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) items: Vec<Value>,
    pub(crate) next_snapshot: String,
    pub(crate) epoch: u64,
    pub(crate) empty_first_page: bool,
}

// ---------------------------------------------------------------------------------------
// Faults, statistics and control specs (serde: the control API's JSON).

fn one() -> u32 {
    1
}

/// A transient fault for Graph requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphFaultKind {
    /// 429 `TooManyRequests` with `Retry-After` (default 2 s).
    Throttle,
    /// 503 `serviceNotAvailable`, with `Retry-After` only if `retry_after_secs` is set.
    Unavailable,
    /// 200 with an HTML sign-in page (a captive portal).
    CaptivePortal,
    /// 200 with a JSON object that is not the answer asked for (`{}`: no `value`, no
    /// event): what a proxy or a broken gateway may send.
    EmptyObject,
    /// Waits `delay_ms` before answering normally.
    Delay,
    /// Closes the connection unanswered (after processing if `after_processing`).
    DropConnection,
    /// Answers normally, but the first event of the answer (of a listing's `value`,
    /// not a removal; or the one event asked for, also inside a `$batch`) carries a
    /// start zone Graph never sends (`Mars Standard Time`): a provider answer gone
    /// wrong, for the client's handling of hostile input.
    MalformedEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFault {
    pub kind: GraphFaultKind,
    /// Only requests of this mailbox (the token's user); default: any.
    #[serde(default)]
    pub email: Option<String>,
    /// Only requests whose path (after `/v1.0`) contains this text.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only requests with this method.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub after_processing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeltaResetMode {
    /// `410 Gone` with `Location: <fresh request URL with an empty $deltatoken>`.
    Gone,
    /// 4xx (default 400) `syncStateNotFound`.
    SyncStateNotFound,
    /// 4xx (default 400) `resyncRequired`.
    ResyncRequired,
}

/// Invalidates every delta token issued so far for a calendar (or all calendars of the
/// mailbox); their next use answers per `mode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaResetFault {
    pub email: String,
    #[serde(default)]
    pub calendar_id: Option<String>,
    pub mode: DeltaResetMode,
    #[serde(default)]
    pub status: Option<u16>,
}

/// The next `count` delta rounds (of `email`'s mailbox, default any) get the fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaRoundFault {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
}

/// `POST /_control/graph/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFaultsUpdate {
    #[serde(default)]
    pub clear: bool,
    #[serde(default)]
    pub add: Vec<GraphFault>,
    #[serde(default)]
    pub invalidate_delta: Option<DeltaResetFault>,
    /// A round lists one entity twice.
    #[serde(default)]
    pub duplicate_in_round: Option<DeltaRoundFault>,
    /// A round starts with an empty page that carries a nextLink.
    #[serde(default)]
    pub empty_page: Option<DeltaRoundFault>,
    /// Answer every `calendarView/delta` page this late (`page_ms` 0 and `per_item_us`
    /// 0 remove the model): the benchmarks' stand-in for the network and the server.
    #[serde(default)]
    pub list_latency: Option<ListLatency>,
}

/// Pending Graph faults (`GET /_control/graph/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphFaults {
    pub transient: Vec<GraphFault>,
    pub duplicate_in_round: Vec<DeltaRoundFault>,
    pub empty_page: Vec<DeltaRoundFault>,
    pub list_latency: Option<ListLatency>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmutableIdStats {
    pub with_header: u64,
    pub without_header: u64,
    /// Every authenticated Graph calendar request sent `Prefer: IdType="ImmutableId"`.
    pub always: bool,
}

/// `GET /_control/graph/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphStats {
    /// "METHOD /route/template" → count (every request, also inner `$batch` ones).
    pub requests: BTreeMap<String, u64>,
    /// Mailbox → most requests ever in flight at once.
    pub max_concurrency: BTreeMap<String, u64>,
    pub immutable_id: ImmutableIdStats,
    /// transactionId → number of create requests that carried it.
    pub creates_by_transaction_id: BTreeMap<String, u64>,
    pub creates_without_transaction_id: u64,
    /// Creates answered with the event an earlier create with the same transactionId made.
    pub deduplicated_creates: u64,
    /// Requests refused by the mailbox concurrency limit.
    pub concurrency_rejections: u64,
    pub faults_injected: u64,
}

/// `POST /_control/graph/calendars`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphCalendarSpec {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub color: Option<String>,
}

/// `POST /_control/graph/events`: any Graph event JSON, created as the user's own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphEventSeed {
    pub email: String,
    #[serde(default)]
    pub calendar_id: Option<String>,
    pub event: Value,
}

/// `POST /_control/graph/events/edit`: a change made by another client.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphEventEdit {
    pub email: String,
    pub id: String,
    pub patch: Value,
}

/// `POST /_control/graph/events/delete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphEventDelete {
    pub email: String,
    pub id: String,
}

/// `POST /_control/graph/share`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphShareSpec {
    /// The calendar's owner.
    pub owner: String,
    /// The user it is shared with.
    pub with: String,
    /// Default: the owner's default calendar.
    #[serde(default)]
    pub calendar_id: Option<String>,
    pub role: ShareRole,
}

/// `POST /_control/graph/personal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphPersonalSpec {
    pub email: String,
    pub personal: bool,
}

// ---------------------------------------------------------------------------------------
// The store.

#[derive(Debug, Default)]
pub(crate) struct GraphStore {
    /// By lower-case email.
    pub(crate) mailboxes: BTreeMap<String, Mailbox>,
    pub(crate) seq: u64,
    pub(crate) faults: GraphFaults,
    pub(crate) stats: GraphStats,
    pub(crate) in_flight: HashMap<String, u64>,
    pub(crate) snapshots: HashMap<String, Snapshot>,
    snapshot_order: VecDeque<String>,
    pub(crate) rounds: HashMap<String, Round>,
    round_order: VecDeque<String>,
    /// (owner, calendar id) → (epoch, mode, status) of the last invalidation.
    pub(crate) delta_epochs: HashMap<(String, String), (u64, DeltaResetMode, u16)>,
}

fn new_change_key() -> String {
    util::b64url(&util::random_bytes::<12>())
}

fn new_key() -> String {
    let bytes = util::random_bytes::<12>();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn calendar_id_for(email: &str, name: &str) -> String {
    let digest = util::sha256(format!("calendar:{}:{name}", email.to_ascii_lowercase()).as_bytes());
    format!("AAMkAGCal{}", util::b64url(&digest[..18]))
}

const CALENDAR_COLORS: &[(&str, &str)] = &[
    ("auto", ""),
    ("lightBlue", "#a6d1f5"),
    ("lightGreen", "#87d28e"),
    ("lightOrange", "#fcab73"),
    ("lightGray", "#c0c0c0"),
    ("lightYellow", "#f4d07a"),
    ("lightTeal", "#69d2e7"),
    ("lightPink", "#f08cc0"),
    ("lightBrown", "#cba287"),
    ("lightRed", "#f88c9b"),
    ("maxColor", ""),
];

/// A mailbox's read/write view of one calendar (its own or one shared with the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Owner,
    Shared(ShareRole),
}

impl Access {
    pub(crate) fn can_write(self) -> bool {
        matches!(self, Access::Owner | Access::Shared(ShareRole::Write))
    }
}

impl GraphStore {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The mailbox of a Microsoft user, created (with its default calendar) on first use.
    pub(crate) fn ensure_mailbox(&mut self, email: &str, name: &str) -> &mut Mailbox {
        let key = email.to_ascii_lowercase();
        self.mailboxes.entry(key).or_insert_with(|| Mailbox {
            email: email.to_string(),
            name: name.to_string(),
            personal: false,
            calendars: vec![Calendar {
                id: calendar_id_for(email, "Calendar"),
                name: "Calendar".to_string(),
                color: "auto".to_string(),
                is_default: true,
                change_key: new_change_key(),
            }],
            events: Arc::default(),
            transactions: HashMap::new(),
            deletions: Vec::new(),
            shares: Vec::new(),
        })
    }

    pub(crate) fn mailbox(&self, email: &str) -> Option<&Mailbox> {
        self.mailboxes.get(&email.to_ascii_lowercase())
    }

    fn mailbox_mut(&mut self, email: &str) -> Option<&mut Mailbox> {
        self.mailboxes.get_mut(&email.to_ascii_lowercase())
    }

    // --- calendars -----------------------------------------------------------------------

    pub(crate) fn add_calendar(
        &mut self,
        email: &str,
        name: &str,
        color: Option<&str>,
    ) -> Result<String, GErr> {
        let color = color.unwrap_or("auto");
        if !CALENDAR_COLORS.iter().any(|(c, _)| *c == color) {
            return Err(body_read(format!(
                "Cannot convert the literal '{color}' to the expected type 'microsoft.graph.calendarColor'."
            )));
        }
        let mailbox = self.mailbox_mut(email).ok_or_else(not_found)?;
        if mailbox
            .calendars
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
        {
            return Err(gerr(
                409,
                "ErrorFolderExists",
                "A folder with the specified name already exists.",
            ));
        }
        let id = calendar_id_for(email, name);
        mailbox.calendars.push(Calendar {
            id: id.clone(),
            name: name.to_string(),
            color: color.to_string(),
            is_default: false,
            change_key: new_change_key(),
        });
        Ok(id)
    }

    pub(crate) fn render_calendar(
        &self,
        owner: &Mailbox,
        calendar: &Calendar,
        access: Access,
    ) -> Value {
        let hex = CALENDAR_COLORS
            .iter()
            .find(|(c, _)| *c == calendar.color)
            .map_or("", |(_, h)| *h);
        let (can_edit, can_share, private) = match access {
            Access::Owner => (true, true, true),
            Access::Shared(ShareRole::Write) => (true, false, false),
            Access::Shared(ShareRole::Read) => (false, false, false),
        };
        let providers = if owner.personal {
            json!(["skypeForConsumer"])
        } else {
            json!(["teamsForBusiness"])
        };
        json!({
            "id": calendar.id,
            "name": calendar.name,
            "color": calendar.color,
            "hexColor": hex,
            "isDefaultCalendar": calendar.is_default && access == Access::Owner,
            "changeKey": calendar.change_key,
            "canShare": can_share,
            "canViewPrivateItems": private,
            "canEdit": can_edit,
            "isRemovable": !calendar.is_default && access == Access::Owner,
            "isTallyingResponses": true,
            "allowedOnlineMeetingProviders": providers,
            "defaultOnlineMeetingProvider": if owner.personal { "skypeForConsumer" } else { "teamsForBusiness" },
            "owner": {"name": owner.name, "address": owner.email},
        })
    }

    // --- events: create / patch / delete -------------------------------------------------

    /// Creates an event in `owner`'s calendar `calendar_id` from a Graph event body.
    /// Returns the key and whether it was an existing event (transactionId replay).
    pub(crate) fn create_event(
        &mut self,
        owner: &str,
        calendar_id: &str,
        body: &Value,
    ) -> Result<(String, bool), GErr> {
        validate_body("event", body)?;
        let object = body.as_object().cloned().unwrap_or_default();
        let transaction_id = object
            .get("transactionId")
            .and_then(Value::as_str)
            .map(str::to_string);
        match &transaction_id {
            Some(tid) => {
                *self
                    .stats
                    .creates_by_transaction_id
                    .entry(tid.clone())
                    .or_default() += 1
            }
            None => self.stats.creates_without_transaction_id += 1,
        }
        let mailbox = self.mailbox(owner).ok_or_else(not_found)?;
        if let Some(tid) = &transaction_id {
            if let Some(key) = mailbox.transactions.get(tid) {
                if mailbox.events.contains_key(key) {
                    let key = key.clone();
                    self.stats.deduplicated_creates += 1;
                    return Ok((key, true));
                }
            }
        }
        let personal = mailbox.personal;
        let start_v = object
            .get("start")
            .filter(|v| !v.is_null())
            .ok_or_else(|| invalid("The event start is required."))?;
        let end_v = object
            .get("end")
            .filter(|v| !v.is_null())
            .ok_or_else(|| invalid("The event end is required."))?;
        let start = parse_moment(start_v)?;
        let end = parse_moment(end_v)?;
        let all_day = object
            .get("isAllDay")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (start, end) = check_times(start, end, all_day)?;
        let recurrence = match object.get("recurrence").filter(|v| !v.is_null()) {
            Some(r) => Some(Recurrence::parse(r, start.local.date(), &start.zone)?),
            None => None,
        };
        let now = Utc::now();
        let mut props = Map::new();
        merge_props(&mut props, &object);
        let online_meeting = online_meeting_for(&object, personal);
        if online_meeting.is_some() {
            props.insert("isOnlineMeeting".into(), json!(true));
        } else {
            props.insert("isOnlineMeeting".into(), json!(false));
            props.remove("onlineMeetingProvider");
        }
        let key = new_key();
        let seq = self.next_seq();
        let event = StoredEvent {
            key: key.clone(),
            calendar_id: calendar_id.to_string(),
            props,
            start,
            end,
            all_day,
            recurrence,
            exceptions: BTreeMap::new(),
            cancelled: BTreeSet::new(),
            change_key: new_change_key(),
            created: now,
            modified: now,
            seq,
            ical_uid: format!(
                "040000008200E00074C5B7101A82E00800000000{}",
                util::sha256(key.as_bytes())[..16]
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>()
            ),
            transaction_id: transaction_id.clone(),
            online_meeting,
        };
        let mailbox = self.mailbox_mut(owner).ok_or_else(not_found)?;
        if let Some(tid) = transaction_id {
            mailbox.transactions.insert(tid, key.clone());
        }
        Arc::make_mut(&mut mailbox.events).insert(key.clone(), event);
        Ok((key, false))
    }

    /// Applies a PATCH to an event, an occurrence (which becomes an exception) or an
    /// exception. `if_match` is the request's `If-Match`, if any.
    pub(crate) fn patch_event(
        &mut self,
        owner: &str,
        item: &ItemRef,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<(), GErr> {
        validate_body("event", body)?;
        let object = body.as_object().cloned().unwrap_or_default();
        let seq = self.next_seq();
        let mailbox = self.mailbox_mut(owner).ok_or_else(not_found)?;
        let personal = mailbox.personal;
        let event = Arc::make_mut(&mut mailbox.events)
            .get_mut(item.key())
            .ok_or_else(not_found)?;
        let now = Utc::now();
        match item {
            ItemRef::Event(_) => {
                check_if_match(if_match, &event.change_key)?;
                let start = match object.get("start").filter(|v| !v.is_null()) {
                    Some(v) => parse_moment(v)?,
                    None => event.start.clone(),
                };
                let end = match object.get("end").filter(|v| !v.is_null()) {
                    Some(v) => parse_moment(v)?,
                    None => event.end.clone(),
                };
                let all_day = object
                    .get("isAllDay")
                    .and_then(Value::as_bool)
                    .unwrap_or(event.all_day);
                let (start, end) = check_times(start, end, all_day)?;
                let recurrence = match object.get("recurrence") {
                    Some(Value::Null) => None,
                    Some(r) => Some(Recurrence::parse(r, start.local.date(), &start.zone)?),
                    None => match &event.recurrence {
                        // The series start moves with the event start.
                        Some(r) if r.start_date != start.local.date() => {
                            let mut moved = r.to_json();
                            moved["range"]["startDate"] =
                                json!(start.local.date().format("%Y-%m-%d").to_string());
                            Some(Recurrence::parse(&moved, start.local.date(), &start.zone)?)
                        }
                        other => other.clone(),
                    },
                };
                let times_changed = start.utc != event.start.utc
                    || end.utc != event.end.utc
                    || object.contains_key("recurrence");
                if times_changed {
                    // Outlook drops a series' exceptions when its time or pattern changes.
                    event.exceptions.clear();
                    event.cancelled.clear();
                }
                event.start = start;
                event.end = end;
                event.all_day = all_day;
                event.recurrence = recurrence;
                merge_props(&mut event.props, &object);
                if event.online_meeting.is_none() {
                    if let Some(meeting) = online_meeting_for(&object, personal) {
                        event.online_meeting = Some(meeting);
                        event.props.insert("isOnlineMeeting".into(), json!(true));
                    } else {
                        event.props.insert("isOnlineMeeting".into(), json!(false));
                        event.props.remove("onlineMeetingProvider");
                    }
                } else {
                    // Once on, a Teams meeting cannot be changed or turned off.
                    event.props.insert("isOnlineMeeting".into(), json!(true));
                    event
                        .props
                        .insert("onlineMeetingProvider".into(), json!("teamsForBusiness"));
                }
            }
            ItemRef::Occurrence(_, original) => {
                let Some((start_utc, end_utc)) = occurrence_times(event, *original) else {
                    return Err(not_found());
                };
                if object.get("recurrence").is_some_and(|v| !v.is_null()) {
                    return Err(invalid(
                        "Recurrence cannot be set on an occurrence of a series.",
                    ));
                }
                let (current_ck, cur_start, cur_end) = match event.exceptions.get(original) {
                    Some(ex) => (ex.change_key.clone(), ex.start.clone(), ex.end.clone()),
                    None => {
                        let zone = event.start.zone.clone();
                        let tz = resolve_zone(&zone).unwrap_or(Tz::UTC);
                        let (s_local, e_local) = if event.all_day {
                            (start_utc, end_utc)
                        } else {
                            (utc_to_local(tz, start_utc), utc_to_local(tz, end_utc))
                        };
                        (
                            event.change_key.clone(),
                            Moment {
                                local: s_local,
                                zone: zone.clone(),
                                utc: start_utc,
                            },
                            Moment {
                                local: e_local,
                                zone: event.end.zone.clone(),
                                utc: end_utc,
                            },
                        )
                    }
                };
                check_if_match(if_match, &current_ck)?;
                let start = match object.get("start").filter(|v| !v.is_null()) {
                    Some(v) => parse_moment(v)?,
                    None => cur_start,
                };
                let end = match object.get("end").filter(|v| !v.is_null()) {
                    Some(v) => parse_moment(v)?,
                    None => cur_end,
                };
                let (start, end) = check_times(start, end, event.all_day)?;
                let exception = event
                    .exceptions
                    .entry(*original)
                    .or_insert_with(|| Exception {
                        props: Map::new(),
                        start: start.clone(),
                        end: end.clone(),
                        change_key: String::new(),
                        created: now,
                        modified: now,
                    });
                let mut overrides = object.clone();
                for k in ["isOnlineMeeting", "onlineMeetingProvider", "isAllDay"] {
                    overrides.remove(k);
                }
                merge_props(&mut exception.props, &overrides);
                exception.start = start;
                exception.end = end;
                exception.change_key = new_change_key();
                exception.modified = now;
                event.seq = seq;
                return Ok(());
            }
        }
        event.change_key = new_change_key();
        event.modified = now;
        event.seq = seq;
        Ok(())
    }

    /// Deletes an event (a whole series for a master) or cancels one occurrence.
    pub(crate) fn delete_event(
        &mut self,
        owner: &str,
        item: &ItemRef,
        if_match: Option<&str>,
    ) -> Result<(), GErr> {
        let seq = self.next_seq();
        let mailbox = self.mailbox_mut(owner).ok_or_else(not_found)?;
        let event = Arc::make_mut(&mut mailbox.events)
            .get_mut(item.key())
            .ok_or_else(not_found)?;
        match item {
            ItemRef::Event(key) => {
                check_if_match(if_match, &event.change_key)?;
                let calendar_id = event.calendar_id.clone();
                Arc::make_mut(&mut mailbox.events).remove(key);
                mailbox.deletions.push((seq, calendar_id, key.clone()));
            }
            ItemRef::Occurrence(_, original) => {
                if occurrence_times(event, *original).is_none() {
                    return Err(not_found());
                }
                let ck = event
                    .exceptions
                    .get(original)
                    .map_or(event.change_key.clone(), |e| e.change_key.clone());
                check_if_match(if_match, &ck)?;
                event.exceptions.remove(original);
                event.cancelled.insert(*original);
                event.change_key = new_change_key();
                event.modified = Utc::now();
                event.seq = seq;
            }
        }
        Ok(())
    }

    // --- reading -------------------------------------------------------------------------

    /// The instances (singles, occurrences, exceptions) of a calendar overlapping
    /// `[start, end)`, ordered by start.
    pub(crate) fn instances(
        &self,
        owner: &str,
        calendar_id: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Vec<Instance> {
        let Some(mailbox) = self.mailbox(owner) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for event in mailbox
            .events
            .values()
            .filter(|e| e.calendar_id == calendar_id)
        {
            out.extend(event_instances(event, start, end));
        }
        out.sort_by(|a, b| {
            a.start_utc
                .cmp(&b.start_utc)
                .then_with(|| a.item.payload().cmp(&b.item.payload()))
        });
        out
    }

    /// Renders one item (event, occurrence or exception) as Graph JSON, or `None` if it
    /// does not exist (any more).
    pub(crate) fn render_item(&self, owner: &str, item: &ItemRef, prefs: &Prefs) -> Option<Value> {
        let mailbox = self.mailbox(owner)?;
        let event = mailbox.events.get(item.key())?;
        match item {
            ItemRef::Event(_) => Some(render_event(mailbox, event, None, prefs)),
            ItemRef::Occurrence(_, original) => {
                let (start, end) = occurrence_times(event, *original)?;
                Some(render_event(
                    mailbox,
                    event,
                    Some((*original, start, end)),
                    prefs,
                ))
            }
        }
    }

    /// The calendar an item lives in.
    pub(crate) fn item_calendar(&self, owner: &str, item: &ItemRef) -> Option<String> {
        self.mailbox(owner)?
            .events
            .get(item.key())
            .map(|e| e.calendar_id.clone())
    }

    // --- delta ---------------------------------------------------------------------------

    fn epoch(&self, owner: &str, calendar_id: &str) -> u64 {
        self.delta_epochs
            .get(&(owner.to_ascii_lowercase(), calendar_id.to_string()))
            .map_or(0, |(e, _, _)| *e)
    }

    /// The reset answer for a token of `epoch`, if the calendar's tokens were invalidated
    /// after it was issued.
    pub(crate) fn invalidated(
        &self,
        owner: &str,
        calendar_id: &str,
        epoch: u64,
    ) -> Option<(DeltaResetMode, u16)> {
        let (current, mode, status) = self
            .delta_epochs
            .get(&(owner.to_ascii_lowercase(), calendar_id.to_string()))?;
        (epoch < *current).then_some((*mode, *status))
    }

    pub(crate) fn invalidate_delta(&mut self, fault: &DeltaResetFault) -> Result<(), GErr> {
        let mailbox = self.mailbox(&fault.email).ok_or_else(not_found)?;
        let calendars: Vec<String> = match &fault.calendar_id {
            Some(id) => vec![mailbox.calendar(id).ok_or_else(not_found)?.id.clone()],
            None => mailbox.calendars.iter().map(|c| c.id.clone()).collect(),
        };
        let status = fault.status.unwrap_or(match fault.mode {
            DeltaResetMode::Gone => 410,
            _ => 400,
        });
        let owner = fault.email.to_ascii_lowercase();
        for id in calendars {
            let entry = self
                .delta_epochs
                .entry((owner.clone(), id))
                .or_insert((0, fault.mode, status));
            entry.0 += 1;
            entry.1 = fault.mode;
            entry.2 = status;
        }
        Ok(())
    }

    /// Starts a delta round for a calendar window: a full one without `since`, else the
    /// changes since that snapshot. Returns the round id.
    pub(crate) fn start_round(
        &mut self,
        owner: &str,
        calendar_id: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
        since: Option<&Snapshot>,
        prefs: &Prefs,
    ) -> String {
        let (ws, we) = window;
        let current = self.instances(owner, calendar_id, ws.naive_utc(), we.naive_utc());
        let mut items = Vec::new();
        let mut seen = BTreeSet::new();
        for instance in &current {
            let payload = instance.item.payload();
            seen.insert(payload.clone());
            let changed = since.is_none_or(|s| s.items.get(&payload) != Some(&instance.change_key));
            if changed {
                if let Some(v) = self.render_item(owner, &instance.item, prefs) {
                    items.push(v);
                }
            }
        }
        if let Some(snapshot) = since {
            let removed = |id: String| json!({"@odata.type": "#microsoft.graph.event", "id": id, "@removed": {"reason": "deleted"}});
            let mut gone: BTreeSet<String> = BTreeSet::new();
            for payload in snapshot.items.keys() {
                if !seen.contains(payload) {
                    if let Some(item) = parse_payload(payload) {
                        gone.insert(payload.clone());
                        items.push(removed(item.id(prefs.immutable)));
                    }
                }
            }
            // Graph's leak: events outside the window that changed (or were deleted)
            // since the last round are listed as removed too.
            if let Some(mailbox) = self.mailbox(owner) {
                let in_window_keys: BTreeSet<&str> = current.iter().map(|i| i.item.key()).collect();
                for event in mailbox.events.values() {
                    let payload = ItemRef::Event(event.key.clone()).payload();
                    if event.calendar_id == calendar_id
                        && event.seq > snapshot.seq
                        && !in_window_keys.contains(event.key.as_str())
                        && !gone.contains(&payload)
                        && !snapshot.items.contains_key(&payload)
                    {
                        gone.insert(payload);
                        items.push(removed(
                            ItemRef::Event(event.key.clone()).id(prefs.immutable),
                        ));
                    }
                }
                for (seq, cal, key) in &mailbox.deletions {
                    let payload = ItemRef::Event(key.clone()).payload();
                    if *seq > snapshot.seq && cal == calendar_id && !gone.contains(&payload) {
                        gone.insert(payload);
                        items.push(removed(ItemRef::Event(key.clone()).id(prefs.immutable)));
                    }
                }
            }
        }
        let epoch = self.epoch(owner, calendar_id);
        let snapshot = Snapshot {
            owner: owner.to_ascii_lowercase(),
            calendar_id: calendar_id.to_string(),
            start: ws,
            end: we,
            items: current
                .iter()
                .map(|i| (i.item.payload(), i.change_key.clone()))
                .collect(),
            seq: self.seq,
            epoch,
        };
        let snapshot_id = new_key();
        self.snapshots.insert(snapshot_id.clone(), snapshot);
        self.snapshot_order.push_back(snapshot_id.clone());
        while self.snapshot_order.len() > MAX_SNAPSHOTS {
            if let Some(old) = self.snapshot_order.pop_front() {
                self.snapshots.remove(&old);
            }
        }
        let owner_l = owner.to_ascii_lowercase();
        if take_round_fault(&mut self.faults.duplicate_in_round, &owner_l) {
            if let Some(first) = items.first().cloned() {
                items.push(first);
            }
            self.stats.faults_injected += 1;
        }
        let empty_first_page = take_round_fault(&mut self.faults.empty_page, &owner_l);
        if empty_first_page {
            self.stats.faults_injected += 1;
        }
        let round_id = new_key();
        self.rounds.insert(
            round_id.clone(),
            Round {
                owner: owner_l,
                calendar_id: calendar_id.to_string(),
                start: ws,
                end: we,
                items,
                next_snapshot: snapshot_id,
                epoch,
                empty_first_page,
            },
        );
        self.round_order.push_back(round_id.clone());
        while self.round_order.len() > MAX_ROUNDS {
            if let Some(old) = self.round_order.pop_front() {
                self.rounds.remove(&old);
            }
        }
        round_id
    }
}

fn take_round_fault(faults: &mut Vec<DeltaRoundFault>, owner: &str) -> bool {
    let Some(index) = faults.iter().position(|f| {
        f.email
            .as_deref()
            .is_none_or(|e| e.eq_ignore_ascii_case(owner))
    }) else {
        return false;
    };
    faults[index].count -= 1;
    if faults[index].count == 0 {
        faults.remove(index);
    }
    true
}

fn parse_payload(payload: &str) -> Option<ItemRef> {
    ItemRef::parse(&format!(
        "{REST_PREFIX}{}",
        util::b64url(payload.as_bytes())
    ))
}

/// `If-Match` against the current changeKey: `*` matches; a quoted (optionally weak)
/// tag must equal `W/"<changeKey>"`; an unquoted one is malformed.
fn check_if_match(if_match: Option<&str>, change_key: &str) -> Result<(), GErr> {
    let Some(value) = if_match.map(str::trim) else {
        return Ok(());
    };
    if value == "*" {
        return Ok(());
    }
    let tag = value.strip_prefix("W/").unwrap_or(value);
    let Some(inner) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return Err(gerr(
            400,
            "malformedEntityTag",
            "The entity tag in the If-Match header is malformed: entity tags must be quoted strings.",
        ));
    };
    if inner == change_key {
        Ok(())
    } else {
        Err(gerr(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        ))
    }
}

/// Parses a request's `dateTimeTimeZone`.
fn parse_moment(value: &Value) -> Result<Moment, GErr> {
    let zone = value
        .get("timeZone")
        .and_then(Value::as_str)
        .unwrap_or("UTC")
        .to_string();
    let tz = resolve_zone(&zone).ok_or_else(|| zone_error(&zone))?;
    let text = value
        .get("dateTime")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("dateTime is required in a dateTimeTimeZone."))?;
    let local = parse_date_time(text, tz).ok_or_else(|| {
        body_read(format!(
            "Cannot convert the literal '{text}' to the expected type 'Edm.DateTimeOffset'."
        ))
    })?;
    Ok(Moment {
        local,
        utc: local_to_utc(tz, local),
        zone,
    })
}

/// Checks end ≥ start and the all-day rule; all-day moments become floating.
fn check_times(start: Moment, end: Moment, all_day: bool) -> Result<(Moment, Moment), GErr> {
    if all_day {
        let midnight = NaiveTime::MIN;
        if start.local.time() != midnight || end.local.time() != midnight {
            return Err(invalid(
                "An all-day event's start and end must be set to midnight.",
            ));
        }
        let same_zone = match (resolve_zone(&start.zone), resolve_zone(&end.zone)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if !same_zone {
            return Err(invalid(
                "An all-day event's start and end must be in the same time zone.",
            ));
        }
        if end.local <= start.local {
            return Err(invalid("An all-day event must last at least one day."));
        }
        let start = Moment {
            utc: start.local,
            ..start
        };
        let end = Moment {
            utc: end.local,
            ..end
        };
        return Ok((start, end));
    }
    if end.utc < start.utc {
        return Err(invalid(
            "The end time of the event must be after its start time.",
        ));
    }
    Ok((start, end))
}

/// Read-only or specially-modelled properties that are not copied into `props`.
const NOT_STORED: &[&str] = &[
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "bodyPreview",
    "cancelledOccurrences",
    "hasAttachments",
    "iCalUId",
    "isOrganizer",
    "onlineMeeting",
    "onlineMeetingUrl",
    "organizer",
    "originalStart",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "seriesMasterId",
    "type",
    "webLink",
    "transactionId",
    "start",
    "end",
    "recurrence",
    "isAllDay",
    "responseStatus",
    "isCancelled",
    "calendar",
    "exceptionOccurrences",
    "instances",
];

/// Copies client properties into stored ones (top-level replace, as Graph does),
/// normalising body, location(s) and attendees.
fn merge_props(props: &mut Map<String, Value>, object: &Map<String, Value>) {
    for (key, value) in object {
        if key.starts_with('@') || NOT_STORED.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "body" => {
                props.insert(key.clone(), normalise_body(value));
            }
            "location" => {
                let location = normalise_location(value);
                if !object.contains_key("locations") {
                    let has_name = location["displayName"]
                        .as_str()
                        .is_some_and(|n| !n.is_empty());
                    props.insert(
                        "locations".into(),
                        if has_name {
                            json!([location.clone()])
                        } else {
                            json!([])
                        },
                    );
                }
                props.insert(key.clone(), location);
            }
            "locations" => {
                let list: Vec<Value> = value
                    .as_array()
                    .map(|l| l.iter().map(normalise_location).collect())
                    .unwrap_or_default();
                if !object.contains_key("location") {
                    let first = list
                        .first()
                        .cloned()
                        .unwrap_or_else(|| normalise_location(&Value::Null));
                    props.insert("location".into(), first);
                }
                props.insert(key.clone(), Value::Array(list));
            }
            "attendees" => {
                let list: Vec<Value> = value
                    .as_array()
                    .map(|l| l.iter().map(normalise_attendee).collect())
                    .unwrap_or_default();
                props.insert(key.clone(), Value::Array(list));
            }
            _ => {
                props.insert(key.clone(), value.clone());
            }
        }
    }
}

fn normalise_body(value: &Value) -> Value {
    let content_type = value
        .get("contentType")
        .and_then(Value::as_str)
        .unwrap_or("text")
        .to_ascii_lowercase();
    let content = value.get("content").and_then(Value::as_str).unwrap_or("");
    if content_type == "html" {
        json!({"contentType": "html", "content": wrap_html(content)})
    } else {
        json!({"contentType": "text", "content": content})
    }
}

/// Graph stores HTML bodies as a whole document.
fn wrap_html(content: &str) -> String {
    if content
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("<html")
    {
        return content.to_string();
    }
    format!(
        "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n{content}\r\n</body>\r\n</html>\r\n"
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Strips tags (and the head) from an HTML body, for text output and `bodyPreview`.
fn html_to_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let body = match (lower.find("<body"), lower.rfind("</body>")) {
        (Some(b), Some(e)) if b < e => match html[b..e].find('>') {
            Some(gt) => &html[b + gt + 1..e],
            None => &html[b..e],
        },
        _ => html,
    };
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

fn normalise_location(value: &Value) -> Value {
    let mut location = json!({
        "displayName": "",
        "locationType": "default",
        "uniqueIdType": "unknown",
        "address": {},
        "coordinates": {},
    });
    if let (Some(target), Some(given)) = (location.as_object_mut(), value.as_object()) {
        for (k, v) in given {
            target.insert(k.clone(), v.clone());
        }
        let has_name = target
            .get("displayName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if has_name && !given.contains_key("uniqueIdType") {
            target.insert("uniqueIdType".into(), json!("private"));
            if !given.contains_key("uniqueId") {
                target.insert("uniqueId".into(), target["displayName"].clone());
            }
        }
    }
    location
}

fn normalise_attendee(value: &Value) -> Value {
    let mut attendee = value.clone();
    if let Some(object) = attendee.as_object_mut() {
        object.entry("type").or_insert_with(|| json!("required"));
        object
            .entry("status")
            .or_insert_with(|| json!({"response": "none", "time": "0001-01-01T00:00:00Z"}));
    }
    attendee
}

/// `isOnlineMeeting: true` (with a Teams provider or none) creates the meeting.
fn online_meeting_for(object: &Map<String, Value>, personal: bool) -> Option<Value> {
    if object.get("isOnlineMeeting").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let provider = object
        .get("onlineMeetingProvider")
        .and_then(Value::as_str)
        .unwrap_or("teamsForBusiness");
    if provider != "teamsForBusiness" || personal {
        return None;
    }
    let thread = util::b64url(&util::random_bytes::<18>());
    let digits: String = util::random_bytes::<9>()
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    Some(json!({
        "joinUrl": format!("https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%7d", crate::state::MICROSOFT_TENANT_ID),
        "conferenceId": digits,
        "tollNumber": "+1 555-0100",
        "tollFreeNumbers": [],
        "phones": [],
        "quickDial": format!("+1 555-0100,,{digits}#"),
    }))
}

/// The start/end (UTC) of the occurrence of `event` that originally started at
/// `original`, if the series has one there that is not cancelled (moved exceptions
/// report their new times).
fn occurrence_times(event: &StoredEvent, original: i64) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let recurrence = event.recurrence.as_ref()?;
    if event.cancelled.contains(&original) {
        return None;
    }
    if let Some(ex) = event.exceptions.get(&original) {
        return Some((ex.start.utc, ex.end.utc));
    }
    let at = DateTime::from_timestamp(original, 0)?.naive_utc();
    let duration = event.end.utc - event.start.utc;
    let limit = (at + Duration::days(2)).date();
    series_starts(event, recurrence, limit)
        .into_iter()
        .find(|s| *s == at)
        .map(|s| (s, s + duration))
}

/// Every occurrence start (UTC) of a series up to `limit`.
fn series_starts(
    event: &StoredEvent,
    recurrence: &Recurrence,
    limit: NaiveDate,
) -> Vec<NaiveDateTime> {
    let tz = resolve_zone(&event.start.zone).unwrap_or(Tz::UTC);
    let time = event.start.local.time();
    recurrence
        .dates(limit)
        .into_iter()
        .map(|d| {
            let local = d.and_time(time);
            if event.all_day {
                local
            } else {
                local_to_utc(tz, local)
            }
        })
        .collect()
}

fn overlaps(s: NaiveDateTime, e: NaiveDateTime, ws: NaiveDateTime, we: NaiveDateTime) -> bool {
    (s < we && e > ws) || (s == e && s >= ws && s < we)
}

fn event_instances(event: &StoredEvent, ws: NaiveDateTime, we: NaiveDateTime) -> Vec<Instance> {
    let Some(recurrence) = &event.recurrence else {
        if overlaps(event.start.utc, event.end.utc, ws, we) {
            return vec![Instance {
                item: ItemRef::Event(event.key.clone()),
                start_utc: event.start.utc,
                change_key: event.change_key.clone(),
            }];
        }
        return Vec::new();
    };
    let duration = event.end.utc - event.start.utc;
    let mut out = Vec::new();
    let limit = (we + Duration::days(2)).date();
    for start in series_starts(event, recurrence, limit) {
        let original = start.and_utc().timestamp();
        if event.cancelled.contains(&original) || event.exceptions.contains_key(&original) {
            continue;
        }
        let end = start + duration;
        if overlaps(start, end, ws, we) {
            out.push(Instance {
                item: ItemRef::Occurrence(event.key.clone(), original),
                start_utc: start,
                change_key: event.change_key.clone(),
            });
        }
    }
    for (original, ex) in &event.exceptions {
        if overlaps(ex.start.utc, ex.end.utc, ws, we) {
            out.push(Instance {
                item: ItemRef::Occurrence(event.key.clone(), *original),
                start_utc: ex.start.utc,
                change_key: ex.change_key.clone(),
            });
        }
    }
    out
}

/// Renders a `dateTimeTimeZone` in the response zone.
fn render_moment(utc: NaiveDateTime, all_day: bool, prefs: &Prefs) -> Value {
    let local = if all_day {
        utc
    } else {
        utc_to_local(prefs.tz(), utc)
    };
    json!({"dateTime": format_local(local), "timeZone": prefs.zone_label()})
}

fn render_body(props: &Map<String, Value>, prefs: &Prefs) -> (Value, String) {
    let (content_type, content) = match props.get("body") {
        Some(b) => (
            b["contentType"].as_str().unwrap_or("text").to_string(),
            b["content"].as_str().unwrap_or("").to_string(),
        ),
        None => ("text".to_string(), String::new()),
    };
    let text = if content_type == "html" {
        html_to_text(&content)
    } else {
        content.clone()
    };
    let preview: String = text.chars().take(255).collect();
    let body = if prefs.text_body {
        json!({"contentType": "text", "content": text})
    } else if content_type == "html" {
        json!({"contentType": "html", "content": content})
    } else if content.is_empty() {
        json!({"contentType": "html", "content": ""})
    } else {
        json!({"contentType": "html", "content": wrap_html(&html_escape(&content).replace('\n', "<br>\r\n"))})
    };
    (body, preview)
}

/// The full Graph representation of an event, or of one of its occurrences.
fn render_event(
    mailbox: &Mailbox,
    event: &StoredEvent,
    occurrence: Option<(i64, NaiveDateTime, NaiveDateTime)>,
    prefs: &Prefs,
) -> Value {
    let exception = occurrence.and_then(|(o, _, _)| event.exceptions.get(&o));
    let mut props = event.props.clone();
    if let Some(ex) = exception {
        for (k, v) in &ex.props {
            props.insert(k.clone(), v.clone());
        }
    }
    let (item, kind) = match (occurrence, exception, &event.recurrence) {
        (Some((o, _, _)), Some(_), _) => (ItemRef::Occurrence(event.key.clone(), o), "exception"),
        (Some((o, _, _)), None, _) => (ItemRef::Occurrence(event.key.clone(), o), "occurrence"),
        (None, _, Some(_)) => (ItemRef::Event(event.key.clone()), "seriesMaster"),
        (None, _, None) => (ItemRef::Event(event.key.clone()), "singleInstance"),
    };
    let id = item.id(prefs.immutable);
    let (change_key, created, modified) = match exception {
        Some(ex) => (ex.change_key.clone(), ex.created, ex.modified),
        None => (event.change_key.clone(), event.created, event.modified),
    };
    let (start_utc, end_utc) = match occurrence {
        Some((_, s, e)) => (s, e),
        None => (event.start.utc, event.end.utc),
    };
    let (body, preview) = render_body(&props, prefs);
    let get = |k: &str, default: Value| props.get(k).cloned().unwrap_or(default);
    let mut out = json!({
        "@odata.etag": format!("W/\"{change_key}\""),
        "id": id,
        "createdDateTime": format_utc(created),
        "lastModifiedDateTime": format_utc(modified),
        "changeKey": change_key,
        "categories": get("categories", json!([])),
        "transactionId": if occurrence.is_none() { json!(event.transaction_id) } else { Value::Null },
        "originalStartTimeZone": event.start.zone,
        "originalEndTimeZone": event.end.zone,
        "iCalUId": event.ical_uid,
        "reminderMinutesBeforeStart": get("reminderMinutesBeforeStart", json!(15)),
        "isReminderOn": get("isReminderOn", json!(true)),
        "hasAttachments": false,
        "subject": get("subject", json!("")),
        "bodyPreview": preview,
        "importance": get("importance", json!("normal")),
        "sensitivity": get("sensitivity", json!("normal")),
    });
    let second = json!({
        "isAllDay": event.all_day,
        "isCancelled": false,
        "isOrganizer": true,
        "responseRequested": get("responseRequested", json!(true)),
        "seriesMasterId": if occurrence.is_some() { json!(ItemRef::Event(event.key.clone()).id(prefs.immutable)) } else { Value::Null },
    });
    let third = json!({
        "showAs": get("showAs", json!("busy")),
        "type": kind,
        "webLink": format!("https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item", id),
        "onlineMeetingUrl": Value::Null,
        "isOnlineMeeting": event.online_meeting.is_some(),
        "onlineMeetingProvider": get("onlineMeetingProvider", json!(if event.online_meeting.is_some() { "teamsForBusiness" } else { "unknown" })),
        "allowNewTimeProposals": get("allowNewTimeProposals", json!(true)),
        "isDraft": false,
        "hideAttendees": get("hideAttendees", json!(false)),
        "responseStatus": {"response": "organizer", "time": "0001-01-01T00:00:00Z"},
    });
    let fourth = json!({
        "body": body,
        "start": render_moment(start_utc, event.all_day, prefs),
        "end": render_moment(end_utc, event.all_day, prefs),
        "location": get("location", normalise_location(&Value::Null)),
        "locations": get("locations", json!([])),
        "recurrence": match (&event.recurrence, occurrence) {
            (Some(r), None) => r.to_json(),
            _ => Value::Null,
        },
        "attendees": get("attendees", json!([])),
        "organizer": {"emailAddress": {"name": mailbox.name, "address": mailbox.email}},
        "onlineMeeting": event.online_meeting.clone().unwrap_or(Value::Null),
    });
    if let Some(object) = out.as_object_mut() {
        for part in [second, third, fourth] {
            if let Value::Object(part) = part {
                object.extend(part);
            }
        }
        if let Some((o, _, _)) = occurrence {
            if let Some(t) = DateTime::from_timestamp(o, 0) {
                // An all-day series keys its days by date (their UTC midnight here);
                // Graph gives the instant the day began in the series' zone
                // (2018-06-05 in Berlin: 2018-06-04T22:00:00Z).
                let t = match resolve_zone(&event.start.zone) {
                    Some(tz) if event.all_day => local_to_utc(tz, t.naive_utc()),
                    _ => t.naive_utc(),
                };
                object.insert("originalStart".into(), json!(format_utc_seconds(t)));
            }
        }
        if event.recurrence.is_some() && occurrence.is_none() {
            let cancelled: Vec<String> = event
                .cancelled
                .iter()
                .filter_map(|o| DateTime::from_timestamp(*o, 0))
                .map(|t| format!("OID.{}.{}", id, t.format("%Y-%m-%d")))
                .collect();
            object.insert("cancelledOccurrences".into(), json!(cancelled));
        }
        // Any other stored (open-type) property, verbatim.
        for (k, v) in &props {
            if !object.contains_key(k)
                && !matches!(
                    k.as_str(),
                    "attachments"
                        | "extensions"
                        | "multiValueExtendedProperties"
                        | "singleValueExtendedProperties"
                )
            {
                object.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Control-API twins.

fn control(e: GErr) -> ControlError {
    ControlError(format!("{}: {}", e.code, e.message))
}

fn ms_user(state: &State, email: &str) -> Result<(String, String), ControlError> {
    state
        .find_user(Provider::Microsoft, email)
        .map(|u| (u.email.clone(), u.name.clone()))
        .ok_or_else(|| ControlError(format!("no microsoft user {email:?}")))
}

/// The Graph mailbox of a seeded Microsoft user (created on first use).
pub(crate) fn mailbox_of<'a>(state: &'a mut State, email: &str) -> Option<&'a mut Mailbox> {
    let (email, name) = ms_user(state, email).ok()?;
    Some(state.graph.ensure_mailbox(&email, &name))
}

fn control_prefs() -> Prefs {
    Prefs {
        immutable: true,
        ..Prefs::default()
    }
}

impl SharedState {
    /// Adds a calendar to a Microsoft user's mailbox; returns it as Graph JSON.
    pub fn graph_add_calendar(&self, spec: GraphCalendarSpec) -> Result<Value, ControlError> {
        if spec.name.trim().is_empty() || spec.name.chars().count() > 255 {
            return Err(ControlError("name must be 1 to 255 characters".into()));
        }
        let mut state = self.lock();
        mailbox_of(&mut state, &spec.email)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", spec.email)))?;
        let graph = &mut state.graph;
        let id = graph
            .add_calendar(&spec.email, &spec.name, spec.color.as_deref())
            .map_err(control)?;
        let mailbox = graph
            .mailbox(&spec.email)
            .ok_or_else(|| control(not_found()))?;
        let calendar = mailbox.calendar(&id).ok_or_else(|| control(not_found()))?;
        Ok(graph.render_calendar(mailbox, calendar, Access::Owner))
    }

    /// Creates an event (any Graph event JSON) as the user's own; answers it in UTC with
    /// an immutable id.
    pub fn graph_seed_event(&self, seed: GraphEventSeed) -> Result<Value, ControlError> {
        let mut state = self.lock();
        let mailbox = mailbox_of(&mut state, &seed.email)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", seed.email)))?;
        let calendar_id = match &seed.calendar_id {
            Some(id) => mailbox
                .calendar(id)
                .ok_or_else(|| control(not_found()))?
                .id
                .clone(),
            None => mailbox.default_calendar().id.clone(),
        };
        let graph = &mut state.graph;
        let (key, _) = graph
            .create_event(&seed.email, &calendar_id, &seed.event)
            .map_err(control)?;
        graph
            .render_item(&seed.email, &ItemRef::Event(key), &control_prefs())
            .ok_or_else(|| control(not_found()))
    }

    /// Changes an event (or occurrence) as another client would: new changeKey, visible
    /// to delta.
    pub fn graph_edit_event(&self, edit: GraphEventEdit) -> Result<Value, ControlError> {
        let item = ItemRef::parse(&edit.id).ok_or_else(|| control(not_found()))?;
        let mut state = self.lock();
        mailbox_of(&mut state, &edit.email)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", edit.email)))?;
        let graph = &mut state.graph;
        graph
            .patch_event(&edit.email, &item, &edit.patch, None)
            .map_err(control)?;
        graph
            .render_item(&edit.email, &item, &control_prefs())
            .ok_or_else(|| control(not_found()))
    }

    /// Deletes an event (or cancels an occurrence) as another client would.
    pub fn graph_delete_event(&self, delete: GraphEventDelete) -> Result<(), ControlError> {
        let item = ItemRef::parse(&delete.id).ok_or_else(|| control(not_found()))?;
        let mut state = self.lock();
        mailbox_of(&mut state, &delete.email)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", delete.email)))?;
        state
            .graph
            .delete_event(&delete.email, &item, None)
            .map_err(control)
    }

    /// Shares a calendar of `owner` with `with` (replacing an earlier share of it).
    pub fn graph_share(&self, spec: GraphShareSpec) -> Result<Value, ControlError> {
        let mut state = self.lock();
        let (with, with_name) = ms_user(&state, &spec.with)?;
        if spec.owner.eq_ignore_ascii_case(&with) {
            return Err(ControlError(
                "a calendar cannot be shared with its owner".into(),
            ));
        }
        state.graph.ensure_mailbox(&with, &with_name);
        let owner = mailbox_of(&mut state, &spec.owner)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", spec.owner)))?;
        let calendar_id = match &spec.calendar_id {
            Some(id) => owner
                .calendar(id)
                .ok_or_else(|| control(not_found()))?
                .id
                .clone(),
            None => owner.default_calendar().id.clone(),
        };
        owner
            .shares
            .retain(|s| !(s.calendar_id == calendar_id && s.with.eq_ignore_ascii_case(&with)));
        owner.shares.push(Share {
            calendar_id: calendar_id.clone(),
            with: with.to_ascii_lowercase(),
            role: spec.role,
        });
        Ok(json!({"calendar_id": calendar_id, "with": with, "role": spec.role}))
    }

    /// Marks a Microsoft user as a personal (consumer) account, or back.
    pub fn graph_set_personal(&self, spec: GraphPersonalSpec) -> Result<(), ControlError> {
        let mut state = self.lock();
        let mailbox = mailbox_of(&mut state, &spec.email)
            .ok_or_else(|| ControlError(format!("no microsoft user {:?}", spec.email)))?;
        mailbox.personal = spec.personal;
        Ok(())
    }

    /// Every stored event of a mailbox (masters and singles, immutable ids, UTC).
    pub fn graph_events(&self, email: &str) -> Result<Value, ControlError> {
        let mut state = self.lock();
        mailbox_of(&mut state, email)
            .ok_or_else(|| ControlError(format!("no microsoft user {email:?}")))?;
        let graph = &state.graph;
        let mailbox = graph.mailbox(email).ok_or_else(|| control(not_found()))?;
        let prefs = control_prefs();
        let events: Vec<Value> = mailbox
            .events
            .values()
            .map(|e| {
                let mut v = render_event(mailbox, e, None, &prefs);
                v["calendarId"] = json!(e.calendar_id);
                v
            })
            .collect();
        Ok(json!({"value": events}))
    }

    /// Every instance (single event, occurrence, exception) of a mailbox overlapping
    /// `[from, to)` (UTC), as `calendarView` renders them: how a test finds the id of
    /// one occurrence of a series.
    pub fn graph_instances(
        &self,
        email: &str,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<Value, ControlError> {
        let mut state = self.lock();
        mailbox_of(&mut state, email)
            .ok_or_else(|| ControlError(format!("no microsoft user {email:?}")))?;
        let graph = &state.graph;
        let mailbox = graph.mailbox(email).ok_or_else(|| control(not_found()))?;
        let calendars: BTreeSet<&String> =
            mailbox.events.values().map(|e| &e.calendar_id).collect();
        let prefs = control_prefs();
        let mut out = Vec::new();
        for calendar in calendars {
            for i in graph.instances(email, calendar, from, to) {
                out.extend(graph.render_item(email, &i.item, &prefs));
            }
        }
        Ok(json!({"value": out}))
    }

    /// Queues Graph faults; see [`GraphFaultsUpdate`].
    pub fn graph_set_faults(&self, update: GraphFaultsUpdate) -> Result<GraphFaults, ControlError> {
        for f in &update.add {
            if f.count > 10_000 {
                return Err(ControlError("count must be at most 10000".into()));
            }
            if f.delay_ms.is_some_and(|ms| ms > 60_000) {
                return Err(ControlError("delay_ms must be at most 60000".into()));
            }
            if f.retry_after_secs.is_some_and(|s| s > 86_400) {
                return Err(ControlError(
                    "retry_after_secs must be at most 86400".into(),
                ));
            }
            if f.kind == GraphFaultKind::Delay && f.delay_ms.is_none() {
                return Err(ControlError("a delay fault needs delay_ms".into()));
            }
        }
        if let Some(f) = &update.invalidate_delta {
            if f.status.is_some_and(|s| !(400..=499).contains(&s)) {
                return Err(ControlError("status must be 400..=499".into()));
            }
        }
        let latency = update
            .list_latency
            .map(|l| l.checked(MAX_PAGE).map_err(ControlError))
            .transpose()?;
        let mut state = self.lock();
        if let Some(f) = &update.invalidate_delta {
            mailbox_of(&mut state, &f.email)
                .ok_or_else(|| ControlError(format!("no microsoft user {:?}", f.email)))?;
        }
        let graph = &mut state.graph;
        if update.clear {
            graph.faults = GraphFaults::default();
        }
        graph
            .faults
            .transient
            .extend(update.add.into_iter().filter(|f| f.count > 0));
        if let Some(f) = update.duplicate_in_round.filter(|f| f.count > 0) {
            graph.faults.duplicate_in_round.push(f);
        }
        if let Some(f) = update.empty_page.filter(|f| f.count > 0) {
            graph.faults.empty_page.push(f);
        }
        if let Some(l) = latency {
            graph.faults.list_latency = l;
        }
        if let Some(f) = &update.invalidate_delta {
            graph.invalidate_delta(f).map_err(control)?;
        }
        Ok(graph.faults.clone())
    }

    pub fn graph_faults(&self) -> GraphFaults {
        self.lock().graph.faults.clone()
    }

    pub fn graph_stats(&self) -> GraphStats {
        let state = self.lock();
        let mut stats = state.graph.stats.clone();
        stats.immutable_id.always =
            stats.immutable_id.without_header == 0 && stats.immutable_id.with_header > 0;
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: Value, start: &str) -> Recurrence {
        let d = NaiveDate::parse_from_str(start, "%Y-%m-%d").expect("date");
        Recurrence::parse(&v, d, "UTC").expect("valid recurrence")
    }

    fn ymd(dates: &[NaiveDate]) -> Vec<String> {
        dates
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect()
    }

    #[test]
    fn weekly_numbered_respects_first_day_and_interval() {
        let r = rec(
            json!({"pattern": {"type": "weekly", "interval": 2, "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "sunday"},
                   "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 4}}),
            "2026-11-02",
        );
        let limit = NaiveDate::from_ymd_opt(2027, 12, 31).expect("date");
        assert_eq!(
            ymd(&r.dates(limit)),
            ["2026-11-02", "2026-11-04", "2026-11-16", "2026-11-18"]
        );
    }

    #[test]
    fn monthly_and_yearly_patterns() {
        let limit = NaiveDate::from_ymd_opt(2027, 12, 31).expect("date");
        let r = rec(
            json!({"pattern": {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
                   "range": {"type": "endDate", "startDate": "2026-10-31", "endDate": "2027-03-31"}}),
            "2026-10-31",
        );
        assert_eq!(
            ymd(&r.dates(limit)),
            ["2026-10-31", "2026-12-31", "2027-01-31", "2027-03-31"]
        );
        let r = rec(
            json!({"pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
                   "range": {"type": "numbered", "startDate": "2026-11-27", "numberOfOccurrences": 3}}),
            "2026-11-27",
        );
        assert_eq!(
            ymd(&r.dates(limit)),
            ["2026-11-27", "2026-12-25", "2027-01-29"]
        );
        let r = rec(
            json!({"pattern": {"type": "relativeYearly", "interval": 1, "daysOfWeek": ["thursday"], "index": "fourth", "month": 11},
                   "range": {"type": "numbered", "startDate": "2026-11-26", "numberOfOccurrences": 2}}),
            "2026-11-26",
        );
        assert_eq!(ymd(&r.dates(limit)), ["2026-11-26", "2027-11-25"]);
        let r = rec(
            json!({"pattern": {"type": "absoluteYearly", "interval": 1, "dayOfMonth": 29, "month": 2},
                   "range": {"type": "noEnd", "startDate": "2028-02-29"}}),
            "2028-02-29",
        );
        let far = NaiveDate::from_ymd_opt(2036, 12, 31).expect("date");
        assert_eq!(
            ymd(&r.dates(far)),
            ["2028-02-29", "2032-02-29", "2036-02-29"]
        );
    }

    #[test]
    fn ids_round_trip_in_both_forms() {
        let item = ItemRef::Occurrence("abc123".into(), 1_795_000_000);
        assert_eq!(ItemRef::parse(&item.id(true)), Some(item.clone()));
        assert_eq!(ItemRef::parse(&item.id(false)), Some(item.clone()));
        assert_ne!(item.id(true), item.id(false));
        assert_eq!(ItemRef::parse("garbage"), None);
    }

    #[test]
    fn zones_and_formats() {
        assert_eq!(
            resolve_zone("W. Europe Standard Time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            resolve_zone("Europe/Berlin"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(resolve_zone("Mars/Olympus"), None);
        let t = NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("time");
        assert_eq!(format_local(t), "2026-11-23T08:00:00.0000000");
    }
}
