//! Google Calendar API v3 data: each user's calendar list and events, sync and page
//! tokens, recurrence expansion, free/busy, injected faults and statistics. No HTTP
//! here; the routes live in [`crate::google_calendar`].
//!
//! Every change to an event or calendar-list entry takes a new value of one global
//! change counter (`seq`); a sync token remembers the counter it was issued at, so an
//! incremental list is "everything in this calendar with a larger `seq`". Deleted events
//! stay in the store with `status: "cancelled"` (Google keeps them too), which is what
//! lets incremental sync report them.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::OnceLock;
use std::time::{Duration as StdDuration, Instant};

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::latency::ListLatency;
use crate::state::{ControlError, Provider, SharedState, State};
use crate::util;

/// The part of the Calendar v3 discovery document (revision 20261030) the fake checks
/// bodies against: property names and types of `Event`, `Events`, `CalendarListEntry`,
/// `CalendarList`, `FreeBusyRequest`, `FreeBusyResponse` and everything they reference,
/// plus the enum-like values their descriptions list ("Possible values are: - \"x\"").
/// Types: `"string"`, `"boolean"`, `"integer"`, `"any"`, `"@Schema"` (a reference),
/// `[type]` (an array), `{...}` (an inline object), `{"*": type}` (a map). Generated
/// from `tests/specs/google-calendar-v3.discovery.json`; `tests/google_calendar.rs`
/// re-derives it from that file and fails if the two differ.
pub const SCHEMA_SUBSET: &str = r#"{"schemas":{
"CalendarList":{"etag":"string","items":["@CalendarListEntry"],"kind":"string","nextPageToken":"string","nextSyncToken":"string"},
"CalendarListEntry":{"accessRole":"string","autoAcceptInvitations":"boolean","backgroundColor":"string","colorId":"string","conferenceProperties":"@ConferenceProperties","dataOwner":"string","defaultReminders":["@EventReminder"],"deleted":"boolean","description":"string","etag":"string","foregroundColor":"string","hidden":"boolean","id":"string","kind":"string","location":"string","notificationSettings":{"notifications":["@CalendarNotification"]},"primary":"boolean","selected":"boolean","summary":"string","summaryOverride":"string","timeZone":"string"},
"CalendarNotification":{"method":"string","type":"string"},
"ConferenceData":{"conferenceId":"string","conferenceSolution":"@ConferenceSolution","createRequest":"@CreateConferenceRequest","entryPoints":["@EntryPoint"],"notes":"string","parameters":"@ConferenceParameters","signature":"string"},
"ConferenceParameters":{"addOnParameters":"@ConferenceParametersAddOnParameters"},
"ConferenceParametersAddOnParameters":{"parameters":{"*":"string"}},
"ConferenceProperties":{"allowedConferenceSolutionTypes":["string"]},
"ConferenceRequestStatus":{"statusCode":"string"},
"ConferenceSolution":{"iconUri":"string","key":"@ConferenceSolutionKey","name":"string"},
"ConferenceSolutionKey":{"type":"string"},
"CreateConferenceRequest":{"conferenceSolutionKey":"@ConferenceSolutionKey","requestId":"string","status":"@ConferenceRequestStatus"},
"EntryPoint":{"accessCode":"string","entryPointFeatures":["string"],"entryPointType":"string","label":"string","meetingCode":"string","passcode":"string","password":"string","pin":"string","regionCode":"string","uri":"string"},
"Error":{"domain":"string","reason":"string"},
"Event":{"anyoneCanAddSelf":"boolean","attachments":["@EventAttachment"],"attendees":["@EventAttendee"],"attendeesOmitted":"boolean","birthdayProperties":"@EventBirthdayProperties","colorId":"string","conferenceData":"@ConferenceData","created":"string","creator":{"displayName":"string","email":"string","id":"string","self":"boolean"},"description":"string","end":"@EventDateTime","endTimeUnspecified":"boolean","etag":"string","eventLabelId":"string","eventType":"string","extendedProperties":{"private":{"*":"string"},"shared":{"*":"string"}},"focusTimeProperties":"@EventFocusTimeProperties","gadget":{"display":"string","height":"integer","iconLink":"string","link":"string","preferences":{"*":"string"},"title":"string","type":"string","width":"integer"},"guestsCanInviteOthers":"boolean","guestsCanModify":"boolean","guestsCanSeeOtherGuests":"boolean","hangoutLink":"string","htmlLink":"string","iCalUID":"string","id":"string","kind":"string","location":"string","locked":"boolean","organizer":{"displayName":"string","email":"string","id":"string","self":"boolean"},"originalStartTime":"@EventDateTime","outOfOfficeProperties":"@EventOutOfOfficeProperties","privateCopy":"boolean","recurrence":["string"],"recurringEventId":"string","reminders":{"overrides":["@EventReminder"],"useDefault":"boolean"},"sequence":"integer","source":{"title":"string","url":"string"},"start":"@EventDateTime","status":"string","summary":"string","transparency":"string","updated":"string","visibility":"string","workingLocationProperties":"@EventWorkingLocationProperties"},
"EventAttachment":{"fileId":"string","fileUrl":"string","iconLink":"string","mimeType":"string","title":"string"},
"EventAttendee":{"additionalGuests":"integer","asyncOperation":"string","comment":"string","displayName":"string","email":"string","id":"string","optional":"boolean","organizer":"boolean","resource":"boolean","responseStatus":"string","self":"boolean"},
"EventBirthdayProperties":{"contact":"string","customTypeName":"string","type":"string"},
"EventDateTime":{"date":"string","dateTime":"string","timeZone":"string"},
"EventFocusTimeProperties":{"autoDeclineMode":"string","chatStatus":"string","declineMessage":"string"},
"EventOutOfOfficeProperties":{"autoDeclineMode":"string","declineMessage":"string"},
"EventReminder":{"method":"string","minutes":"integer"},
"EventWorkingLocationProperties":{"customLocation":{"label":"string"},"homeOffice":"any","officeLocation":{"buildingId":"string","deskId":"string","floorId":"string","floorSectionId":"string","label":"string"},"type":"string"},
"Events":{"accessRole":"string","defaultReminders":["@EventReminder"],"description":"string","etag":"string","items":["@Event"],"kind":"string","nextPageToken":"string","nextSyncToken":"string","summary":"string","timeZone":"string","updated":"string"},
"FreeBusyCalendar":{"busy":["@TimePeriod"],"errors":["@Error"]},
"FreeBusyGroup":{"calendars":["string"],"errors":["@Error"]},
"FreeBusyRequest":{"calendarExpansionMax":"integer","groupExpansionMax":"integer","items":["@FreeBusyRequestItem"],"timeMax":"string","timeMin":"string","timeZone":"string"},
"FreeBusyRequestItem":{"id":"string"},
"FreeBusyResponse":{"calendars":{"*":"@FreeBusyCalendar"},"groups":{"*":"@FreeBusyGroup"},"kind":"string","timeMax":"string","timeMin":"string"},
"TimePeriod":{"end":"string","start":"string"}
},"enums":{
"CalendarListEntry.accessRole":["freeBusyReader","reader","writerWithoutPrivateAccess","writer","owner"],
"CalendarNotification.method":["email"],
"CalendarNotification.type":["eventCreation","eventChange","eventCancellation","eventResponse","agenda"],
"ConferenceProperties.allowedConferenceSolutionTypes":["eventHangout","eventNamedHangout","hangoutsMeet"],
"ConferenceRequestStatus.statusCode":["pending","success","failure"],
"ConferenceSolutionKey.type":["eventHangout","eventNamedHangout","hangoutsMeet","addOn"],
"EntryPoint.entryPointType":["video","phone","sip","more"],
"Event.eventType":["birthday","default","focusTime","fromGmail","outOfOffice","workingLocation"],
"Event.gadget.display":["icon","chip"],
"Event.status":["confirmed","tentative","cancelled"],
"Event.transparency":["opaque","transparent"],
"Event.visibility":["default","public","private","confidential"],
"EventAttendee.asyncOperation":["inProgress"],
"EventAttendee.responseStatus":["needsAction","declined","tentative","accepted"],
"EventBirthdayProperties.type":["anniversary","birthday","custom","other","self"],
"EventFocusTimeProperties.autoDeclineMode":["declineNone","declineAllConflictingInvitations","declineOnlyNewConflictingInvitations"],
"EventOutOfOfficeProperties.autoDeclineMode":["declineNone","declineAllConflictingInvitations","declineOnlyNewConflictingInvitations"],
"EventReminder.method":["email","popup"],
"EventWorkingLocationProperties.type":["homeOffice","officeLocation","customLocation"],
"Events.accessRole":["none","freeBusyReader","reader","writerWithoutPrivateAccess","writer","owner"]
}}"#;

/// Most items a page of `events.list` may hold, and its default.
pub const EVENTS_MAX_RESULTS: usize = 2500;
pub(crate) const EVENTS_DEFAULT_RESULTS: usize = 250;
/// Most items a page of `calendarList.list` may hold, and its default.
pub const CALENDAR_LIST_MAX_RESULTS: usize = 250;
pub(crate) const CALENDAR_LIST_DEFAULT_RESULTS: usize = 100;
/// Without `timeMax`, recurring series are expanded this far past their start (or now).
const EXPANSION_HORIZON_DAYS: i64 = 730;
/// Most instances one series expands to in one request.
const MAX_INSTANCES: usize = 2500;
/// Page snapshots kept for `pageToken` (oldest dropped first).
const MAX_SNAPSHOTS: usize = 2000;
const MAX_FAULT_COUNT: u32 = 10_000;
const MAX_DELAY_MS: u64 = 60_000;

/// Route names, as Google's method ids: the keys of statistics and fault filters.
pub const ROUTES: &[&str] = &[
    "calendarList.list",
    "calendarList.get",
    "events.list",
    "events.get",
    "events.insert",
    "events.update",
    "events.patch",
    "events.delete",
    "events.instances",
    "freebusy.query",
];

// ---------------------------------------------------------------------------------------
// Errors.

/// An API error, rendered by `google_calendar` in Google's shape
/// (`{"error":{"code","message","errors":[{domain,reason,message,...}],"status"}}`).
/// Boxed: it travels in every `Result` of the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError(Box<ApiErrorDetail>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiErrorDetail {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) message: String,
    pub(crate) domain: String,
    /// `(locationType, location)`, e.g. `("header", "If-Match")`.
    pub(crate) location: Option<(String, String)>,
    pub(crate) retry_after: Option<u64>,
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorDetail;

    fn deref(&self) -> &ApiErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorDetail {
        &mut self.0
    }
}

impl ApiError {
    pub(crate) fn new(status: u16, reason: &str, message: impl Into<String>) -> ApiError {
        let domain = match reason {
            "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded" => "usageLimits",
            "requiredAccessLevel" => "calendar",
            _ => "global",
        };
        ApiError(Box::new(ApiErrorDetail {
            status,
            reason: reason.to_string(),
            message: message.into(),
            domain: domain.to_string(),
            location: None,
            retry_after: None,
        }))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "invalid", message)
    }

    pub(crate) fn required(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "required", message)
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::new(404, "notFound", "Not Found")
    }

    pub(crate) fn at(mut self, location_type: &str, location: &str) -> ApiError {
        self.location = Some((location_type.to_string(), location.to_string()));
        self
    }

    fn time_range_empty(location: &str) -> ApiError {
        ApiError::new(400, "timeRangeEmpty", "The specified time range is empty.")
            .at("parameter", location)
    }

    fn full_sync_required() -> ApiError {
        ApiError::new(
            410,
            "fullSyncRequired",
            "Sync token is no longer valid, a full sync is required.",
        )
    }

    fn forbidden_writer() -> ApiError {
        ApiError::new(
            403,
            "requiredAccessLevel",
            "You need to have writer access to this calendar.",
        )
    }

    fn forbidden_reader() -> ApiError {
        ApiError::new(
            403,
            "requiredAccessLevel",
            "You need to have reader access to this calendar.",
        )
    }
}

// ---------------------------------------------------------------------------------------
// Schema checks.

struct SchemaSet {
    schemas: Map<String, Value>,
    enums: HashMap<String, Vec<String>>,
}

fn schema_set() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let parsed: Value = serde_json::from_str(SCHEMA_SUBSET).expect("SCHEMA_SUBSET is JSON");
        let schemas = parsed["schemas"].as_object().cloned().unwrap_or_default();
        let enums = parsed["enums"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let values = v
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|s| s.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default();
                        (k.clone(), values)
                    })
                    .collect()
            })
            .unwrap_or_default();
        SchemaSet { schemas, enums }
    })
}

/// Checks `value` against schema `name` of [`SCHEMA_SUBSET`]: every property name known,
/// every type right, every enum-like string one of the listed values. `null` is allowed
/// anywhere (it clears a field). The message is Google's for the first problem.
pub(crate) fn check_schema(name: &str, value: &Value) -> Result<(), String> {
    check_props(name, value, name, "resource")
}

fn check_props(schema: &str, value: &Value, enum_key: &str, loc: &str) -> Result<(), String> {
    let set = schema_set();
    let Some(props) = set.schemas.get(schema).and_then(Value::as_object) else {
        return Err(format!("unknown schema {schema}"));
    };
    check_object(props, value, enum_key, loc)
}

fn check_object(
    props: &Map<String, Value>,
    value: &Value,
    enum_key: &str,
    loc: &str,
) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Err(format!(
            "Invalid value at '{loc}' (type.googleapis.com/google.protobuf.Struct), {value}"
        ));
    };
    for (key, item) in object {
        let Some(ty) = props.get(key) else {
            return Err(format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at '{loc}': Cannot find field."
            ));
        };
        check_value(
            ty,
            item,
            &format!("{enum_key}.{key}"),
            &format!("{loc}.{key}"),
        )?;
    }
    Ok(())
}

fn check_value(ty: &Value, value: &Value, enum_key: &str, loc: &str) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let wrong = |t: &str| Err(format!("Invalid value at '{loc}' ({t}), {value}"));
    match ty {
        Value::String(t) => match t.as_str() {
            "string" => {
                let Some(s) = value.as_str() else {
                    return wrong("TYPE_STRING");
                };
                if let Some(allowed) = schema_set().enums.get(enum_key) {
                    if !allowed.iter().any(|a| a == s) {
                        return Err(format!("Invalid value for {loc}: \"{s}\"."));
                    }
                }
                Ok(())
            }
            "boolean" => {
                if value.is_boolean() {
                    Ok(())
                } else {
                    wrong("TYPE_BOOL")
                }
            }
            "integer" => {
                let ok = value.is_i64()
                    || value.is_u64()
                    || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
                if ok {
                    Ok(())
                } else {
                    wrong("TYPE_INT32")
                }
            }
            "number" => {
                if value.is_number() {
                    Ok(())
                } else {
                    wrong("TYPE_DOUBLE")
                }
            }
            "any" => Ok(()),
            reference => match reference.strip_prefix('@') {
                Some(name) => check_props(name, value, name, loc),
                None => Err(format!("unknown type {reference}")),
            },
        },
        Value::Array(items) => {
            let Some(array) = value.as_array() else {
                return wrong("TYPE_LIST");
            };
            let item_ty = items.first().unwrap_or(&Value::Null);
            for (i, item) in array.iter().enumerate() {
                check_value(item_ty, item, enum_key, &format!("{loc}[{i}]"))?;
            }
            Ok(())
        }
        Value::Object(props) => match props.get("*") {
            Some(item_ty) => {
                let Some(map) = value.as_object() else {
                    return wrong("TYPE_MAP");
                };
                for (key, item) in map {
                    check_value(
                        item_ty,
                        item,
                        &format!("{enum_key}.*"),
                        &format!("{loc}.{key}"),
                    )?;
                }
                Ok(())
            }
            None => check_object(props, value, enum_key, loc),
        },
        _ => Err(format!("unknown type at {loc}")),
    }
}

// ---------------------------------------------------------------------------------------
// Time.

pub(crate) fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// `2025-01-06T09:00:00.000Z`, the shape of `updated`, `created` and free/busy bounds.
pub(crate) fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2025-01-06T10:00:00+01:00` (or `...Z` in UTC), the shape of `dateTime`.
fn format_in_zone(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    if local.offset().fix().local_minus_utc() == 0 {
        local.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }
}

fn parse_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// A wall time in `tz` as an instant: the earlier one in a fold, shifted past a gap.
fn wall_to_instant(wall: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => match tz.from_local_datetime(&(wall + Duration::hours(1))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => Utc.from_utc_datetime(&wall),
        },
    }
}

fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(chrono::NaiveTime::MIN)
}

/// The moment of an `EventDateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// All-day (`date`).
    Day(NaiveDate),
    /// Timed (`dateTime`).
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    when: When,
    /// The `timeZone` given with it.
    tz: Option<Tz>,
}

impl Slot {
    fn instant(&self, calendar_tz: Tz) -> DateTime<Utc> {
        match self.when {
            When::Day(d) => wall_to_instant(midnight(d), calendar_tz),
            When::At(t) => t,
        }
    }

    fn render(&self, calendar_tz: Tz) -> Value {
        match self.when {
            When::Day(d) => json!({"date": d.format("%Y-%m-%d").to_string()}),
            When::At(t) => {
                let mut v = json!({"dateTime": format_in_zone(t, self.tz.unwrap_or(calendar_tz))});
                if let Some(tz) = self.tz {
                    v["timeZone"] = json!(tz.name());
                }
                v
            }
        }
    }
}

/// Parses `start`, `end` or `originalStartTime` (`what` names it in messages).
fn parse_slot(value: Option<&Value>, what: &str) -> Result<Slot, ApiError> {
    let missing = || ApiError::required(format!("Missing {what} time."));
    let Some(object) = value.and_then(Value::as_object) else {
        return Err(missing());
    };
    let text = |k: &str| object.get(k).and_then(Value::as_str);
    let tz = match text("timeZone") {
        Some(name) => Some(parse_zone(name).ok_or_else(|| {
            ApiError::invalid(format!("Invalid time zone definition for {what} time."))
        })?),
        None => None,
    };
    match (text("date"), text("dateTime")) {
        (Some(_), Some(_)) => Err(ApiError::invalid(format!("Invalid {what} time."))),
        (Some(date), None) => {
            let d = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| ApiError::invalid(format!("Invalid {what} time.")))?;
            Ok(Slot {
                when: When::Day(d),
                tz,
            })
        }
        (None, Some(date_time)) => {
            if let Some(t) = parse_instant(date_time) {
                return Ok(Slot {
                    when: When::At(t),
                    tz,
                });
            }
            let wall = NaiveDateTime::parse_from_str(date_time, "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| ApiError::invalid(format!("Invalid {what} time.")))?;
            let Some(zone) = tz else {
                return Err(ApiError::required(format!(
                    "Missing time zone definition for {what} time."
                )));
            };
            Ok(Slot {
                when: When::At(wall_to_instant(wall, zone)),
                tz,
            })
        }
        (None, None) => Err(missing()),
    }
}

// ---------------------------------------------------------------------------------------
// Recurrence.

/// One instance of a recurring event.
#[derive(Debug, Clone)]
struct Occurrence {
    /// `20250106T080000Z` (UTC of the original start) or `20250106` (all-day).
    suffix: String,
    original: Value,
    start: Value,
    end: Value,
}

fn recurrence_lines(event: &Map<String, Value>) -> Vec<String> {
    event
        .get("recurrence")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks recurrence lines the way Google does before storing them.
fn validate_recurrence(lines: &[String]) -> Result<(), ApiError> {
    for line in lines {
        let upper = line.trim().to_ascii_uppercase();
        let ok = ["RRULE:", "EXRULE:", "RDATE", "EXDATE"]
            .iter()
            .any(|p| upper.starts_with(p));
        if !ok || line.contains('\n') || line.len() > 2000 {
            return Err(ApiError::invalid("Invalid recurrence rule."));
        }
    }
    Ok(())
}

/// Rewrites a rule for floating expansion (wall times fed to `rrule` as if UTC):
/// `UNTIL` becomes a wall time in the event's zone written with `Z`.
fn floating_rule(rule: &str, tz: Tz, all_day: bool) -> Result<String, String> {
    let body = rule.trim().to_ascii_uppercase();
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ';' | ',' | '+' | '-'))
    {
        return Err("bad characters".to_string());
    }
    let mut parts = Vec::new();
    for part in body.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').ok_or("KEY=VALUE expected")?;
        match key {
            "DTSTART" | "DTEND" => return Err("DTSTART is not allowed".to_string()),
            "UNTIL" => {
                let wall = if let Some(utc) = value.strip_suffix('Z') {
                    let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
                        .map_err(|e| e.to_string())?;
                    if all_day {
                        t
                    } else {
                        Utc.from_utc_datetime(&t).with_timezone(&tz).naive_local()
                    }
                } else if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
                    t
                } else {
                    let d =
                        NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|e| e.to_string())?;
                    if all_day {
                        midnight(d)
                    } else {
                        midnight(d) + Duration::seconds(86_399)
                    }
                };
                parts.push(format!("UNTIL={}Z", wall.format("%Y%m%dT%H%M%S")));
            }
            _ => parts.push(part.to_string()),
        }
    }
    Ok(parts.join(";"))
}

/// The wall times of an `RDATE`/`EXDATE` line, in the series' zone.
fn date_list(
    line: &str,
    tz: Tz,
    all_day: bool,
    time_of_day: chrono::NaiveTime,
) -> Vec<NaiveDateTime> {
    let Some((head, values)) = line.split_once(':') else {
        return Vec::new();
    };
    let line_tz = head
        .split(';')
        .find_map(|p| p.strip_prefix("TZID="))
        .and_then(parse_zone)
        .unwrap_or(tz);
    let mut out = Vec::new();
    for value in values.split(',').map(str::trim) {
        let wall = if let Ok(d) = NaiveDate::parse_from_str(value, "%Y%m%d") {
            if all_day {
                midnight(d)
            } else {
                d.and_time(time_of_day)
            }
        } else if let Some(utc) = value.strip_suffix('Z') {
            let Ok(t) = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S") else {
                continue;
            };
            if all_day {
                midnight(t.date())
            } else {
                Utc.from_utc_datetime(&t).with_timezone(&tz).naive_local()
            }
        } else if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
            if all_day {
                midnight(t.date())
            } else {
                wall_to_instant(t, line_tz).with_timezone(&tz).naive_local()
            }
        } else {
            continue;
        };
        out.push(wall);
    }
    out
}

/// `timeMin`/`timeMax` of a list: an instance overlaps when it ends after `from` and
/// starts before `to` (a zero-length one at `from` counts).
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Window {
    fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let after_from = self
            .from
            .is_none_or(|from| end > from || (start == end && start >= from));
        let before_to = self.to.is_none_or(|to| start < to);
        after_from && before_to
    }

    fn around(t: DateTime<Utc>) -> Window {
        Window {
            from: Some(t - Duration::days(1)),
            to: Some(t + Duration::days(1)),
        }
    }
}

/// Expands a series master (with `rrule`): the instances overlapping `window`; without a
/// `to`, those up to [`EXPANSION_HORIZON_DAYS`] past the later of its start and now.
fn expand(
    master: &Map<String, Value>,
    calendar_tz: Tz,
    window: Window,
) -> Result<Vec<Occurrence>, String> {
    let start = parse_slot(master.get("start"), "start").map_err(|e| e.message.clone())?;
    let end = parse_slot(master.get("end"), "end").map_err(|e| e.message.clone())?;
    let (all_day, tz, wall0, length) = match (start.when, end.when) {
        (When::Day(d0), When::Day(d1)) => (
            true,
            calendar_tz,
            midnight(d0),
            Duration::days((d1 - d0).num_days().max(1)),
        ),
        (When::At(t0), When::At(t1)) => {
            let tz = start.tz.unwrap_or(calendar_tz);
            (false, tz, t0.with_timezone(&tz).naive_local(), t1 - t0)
        }
        _ => return Err("start and end differ in kind".to_string()),
    };
    let end_tz = end.tz.unwrap_or(tz);
    let lines = recurrence_lines(master);
    let mut rules = Vec::new();
    let mut rdates = Vec::new();
    let mut exdates = BTreeSet::new();
    for line in &lines {
        let upper = line.trim().to_ascii_uppercase();
        if let Some(rule) = upper.strip_prefix("RRULE:") {
            rules.push(floating_rule(rule, tz, all_day)?);
        } else if upper.starts_with("RDATE") {
            rdates.extend(date_list(&upper, tz, all_day, wall0.time()));
        } else if upper.starts_with("EXDATE") {
            exdates.extend(date_list(&upper, tz, all_day, wall0.time()));
        }
        // EXRULE (deprecated in RFC 5545) is stored but not applied.
    }
    let now_wall = Utc::now().with_timezone(&tz).naive_local();
    let lo = match window.from {
        Some(from) => from.with_timezone(&tz).naive_local() - length - Duration::days(2),
        None => wall0 - Duration::days(1),
    };
    let hi = match window.to {
        Some(to) => to.with_timezone(&tz).naive_local() + Duration::days(2),
        None => wall0.max(now_wall) + Duration::days(EXPANSION_HORIZON_DAYS),
    };
    let mut walls: BTreeSet<NaiveDateTime> = BTreeSet::new();
    walls.insert(wall0);
    walls.extend(rdates);
    if !rules.is_empty() {
        let mut text = format!("DTSTART:{}Z", wall0.format("%Y%m%dT%H%M%S"));
        for rule in &rules {
            text.push_str("\nRRULE:");
            text.push_str(rule);
        }
        let set: rrule::RRuleSet = text.parse().map_err(|e: rrule::RRuleError| e.to_string())?;
        let set = set.limit();
        // The start counts as the first of COUNT also where the rule does not make it
        // (RFC 5545 §3.3.10): the rule then makes one fewer.
        let count = match rules.as_slice() {
            [rule] => rule
                .split(';')
                .find_map(|p| p.strip_prefix("COUNT="))
                .and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        };
        let rule_count = match count {
            Some(n) if (&set).into_iter().next().map(|t| t.naive_utc()) != Some(wall0) => {
                Some(n.saturating_sub(1))
            }
            other => other,
        };
        for (i, t) in (&set).into_iter().enumerate() {
            if i > 200_000 || rule_count.is_some_and(|n| i >= n) {
                break;
            }
            let wall = t.naive_utc();
            if wall > hi {
                break;
            }
            if wall >= lo {
                walls.insert(wall);
                if walls.len() > 4 * MAX_INSTANCES {
                    break;
                }
            }
        }
    }
    let mut out = Vec::new();
    for wall in walls {
        if wall < lo || wall > hi || exdates.contains(&wall) {
            continue;
        }
        let (start_utc, end_utc, original, start_v, end_v, suffix) = if all_day {
            let s = wall_to_instant(wall, calendar_tz);
            let e = wall_to_instant(wall + length, calendar_tz);
            let day = json!({"date": wall.date().format("%Y-%m-%d").to_string()});
            let end_day = json!({"date": (wall + length).date().format("%Y-%m-%d").to_string()});
            (
                s,
                e,
                day.clone(),
                day,
                end_day,
                wall.format("%Y%m%d").to_string(),
            )
        } else {
            let s = wall_to_instant(wall, tz);
            let e = s + length;
            let mut sv = json!({"dateTime": format_in_zone(s, tz)});
            let mut ev = json!({"dateTime": format_in_zone(e, end_tz)});
            if start.tz.is_some() {
                sv["timeZone"] = json!(tz.name());
            }
            if end.tz.is_some() {
                ev["timeZone"] = json!(end_tz.name());
            }
            (
                s,
                e,
                sv.clone(),
                sv,
                ev,
                s.format("%Y%m%dT%H%M%SZ").to_string(),
            )
        };
        if !window.overlaps(start_utc, end_utc) {
            continue;
        }
        out.push(Occurrence {
            suffix,
            original,
            start: start_v,
            end: end_v,
        });
        if out.len() >= MAX_INSTANCES {
            break;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The data model.

const BASE32HEX: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

fn random_base32hex(len: usize) -> String {
    let bytes = util::random_bytes::<32>();
    let mut out: String = bytes
        .iter()
        .map(|b| char::from(BASE32HEX[usize::from(b % 32)]))
        .collect();
    out.truncate(len);
    out
}

/// Google's rule for client-supplied event ids: base32hex (`a`–`v`, `0`–`9`), 5 to 1024.
pub fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|b| BASE32HEX.contains(&b))
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn is_cancelled(event: &Map<String, Value>) -> bool {
    text(event, "status") == Some("cancelled")
}

fn is_master(event: &Map<String, Value>) -> bool {
    !event.contains_key("recurringEventId") && !recurrence_lines(event).is_empty()
}

fn html_link(event_id: &str, calendar_id: &str) -> String {
    format!(
        "https://www.google.com/calendar/event?eid={}",
        util::b64url(format!("{event_id} {calendar_id}").as_bytes())
    )
}

/// RFC 7396 JSON merge patch (what `events.patch` does: objects merge, arrays and
/// scalars replace, `null` removes).
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(target) = target.as_object_mut() {
                for (key, value) in patch {
                    if value.is_null() {
                        target.remove(key);
                    } else {
                        merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Removes `null` members everywhere (a `null` in a full body means "not set").
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub(crate) body: Map<String, Value>,
    /// The change counter of its last change.
    pub(crate) seq: u64,
    /// A Meet conference was requested and is not created yet.
    pub(crate) meet_pending: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    pub(crate) id: String,
    /// `CalendarListEntry` members other than `kind`, `etag` and `id`.
    pub(crate) entry: Map<String, Value>,
    pub(crate) etag: String,
    pub(crate) seq: u64,
    pub(crate) events: BTreeMap<String, StoredEvent>,
    /// Sync tokens issued before the last invalidation are refused (410).
    pub(crate) epoch: u64,
}

impl Calendar {
    fn access_role(&self) -> &str {
        text(&self.entry, "accessRole").unwrap_or("owner")
    }

    fn can_read(&self) -> bool {
        self.access_role() != "freeBusyReader"
    }

    fn can_write(&self) -> bool {
        matches!(
            self.access_role(),
            "owner" | "writer" | "writerWithoutPrivateAccess"
        )
    }

    fn tz(&self) -> Tz {
        text(&self.entry, "timeZone")
            .and_then(parse_zone)
            .unwrap_or(Tz::UTC)
    }

    fn is_primary(&self) -> bool {
        self.entry.get("primary") == Some(&Value::Bool(true))
    }

    fn is_deleted(&self) -> bool {
        self.entry.get("deleted") == Some(&Value::Bool(true))
    }

    fn render_entry(&self) -> Value {
        let mut entry = self.entry.clone();
        entry.insert("kind".into(), json!("calendar#calendarListEntry"));
        entry.insert("etag".into(), json!(self.etag));
        entry.insert("id".into(), json!(self.id));
        Value::Object(entry)
    }

    /// `organizer` of events created on this calendar.
    fn organizer(&self, email: &str) -> Value {
        if self.is_primary() {
            json!({"email": email, "self": true})
        } else {
            json!({
                "email": self.id,
                "displayName": text(&self.entry, "summary").unwrap_or(&self.id),
                "self": true,
            })
        }
    }

    /// The instance `event_id` (`<master>_<suffix>`) of a live series, if it exists.
    fn find_instance(&self, event_id: &str) -> Option<Map<String, Value>> {
        let (master_id, suffix) = event_id.rsplit_once('_')?;
        let master = self.events.get(master_id)?;
        if !is_master(&master.body) || is_cancelled(&master.body) {
            return None;
        }
        let around = if let Some(utc) = suffix.strip_suffix('Z') {
            let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
            Utc.from_utc_datetime(&t)
        } else {
            let d = NaiveDate::parse_from_str(suffix, "%Y%m%d").ok()?;
            Utc.from_utc_datetime(&midnight(d))
        };
        let occurrences = expand(&master.body, self.tz(), Window::around(around)).ok()?;
        let occurrence = occurrences.into_iter().find(|o| o.suffix == suffix)?;
        Some(instance_body(&master.body, &occurrence, &self.id))
    }
}

fn instance_body(
    master: &Map<String, Value>,
    o: &Occurrence,
    calendar_id: &str,
) -> Map<String, Value> {
    let master_id = text(master, "id").unwrap_or_default().to_string();
    let id = format!("{master_id}_{}", o.suffix);
    let mut body = master.clone();
    body.remove("recurrence");
    body.insert("htmlLink".into(), json!(html_link(&id, calendar_id)));
    body.insert("id".into(), json!(id));
    body.insert("recurringEventId".into(), json!(master_id));
    body.insert("originalStartTime".into(), o.original.clone());
    body.insert("start".into(), o.start.clone());
    body.insert("end".into(), o.end.clone());
    body
}

/// A deleted event as incremental sync reports it: only what Google guarantees.
fn minimal_cancelled(event: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for key in [
        "kind",
        "etag",
        "id",
        "status",
        "recurringEventId",
        "originalStartTime",
    ] {
        if let Some(v) = event.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("status".into(), json!("cancelled"));
    Value::Object(out)
}

#[derive(Debug, Default)]
pub(crate) struct Account {
    pub(crate) calendars: Vec<Calendar>,
    /// Calendar-list sync tokens issued before the last invalidation are refused.
    pub(crate) list_epoch: u64,
}

impl Account {
    fn calendar(&self, id: &str) -> Option<&Calendar> {
        self.calendars.iter().find(|c| {
            !c.is_deleted()
                && (c.id.eq_ignore_ascii_case(id) || (id == "primary" && c.is_primary()))
        })
    }

    fn calendar_mut(&mut self, id: &str) -> Option<&mut Calendar> {
        self.calendars.iter_mut().find(|c| {
            !c.is_deleted()
                && (c.id.eq_ignore_ascii_case(id) || (id == "primary" && c.is_primary()))
        })
    }
}

/// The change counter and etag source.
#[derive(Debug, Default)]
struct Clock {
    seq: u64,
    etag: u64,
}

struct Tick {
    seq: u64,
    etag: String,
    now: String,
}

impl Clock {
    fn tick(&mut self) -> Tick {
        self.seq += 1;
        let now = Utc::now();
        let micros = u64::try_from(now.timestamp_micros()).unwrap_or_default();
        self.etag = (micros * 2).max(self.etag + 1);
        Tick {
            seq: self.seq,
            etag: format!("\"{}\"", self.etag),
            now: format_instant(now),
        }
    }
}

/// One list result, served page by page from `pageToken`s.
#[derive(Debug)]
struct Snapshot {
    owner: String,
    fingerprint: String,
    header: Map<String, Value>,
    items: Vec<Value>,
    sync_token: String,
}

/// Who is writing, and how.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    pub(crate) email: String,
    pub(crate) conference_v1: bool,
    pub(crate) if_match: Option<String>,
}

/// `events.list` parameters, already checked by the route.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventsQuery {
    pub(crate) max_results: usize,
    pub(crate) page_token: Option<String>,
    pub(crate) sync_token: Option<String>,
    pub(crate) single_events: bool,
    pub(crate) show_deleted: bool,
    pub(crate) time_min: Option<DateTime<Utc>>,
    pub(crate) time_max: Option<DateTime<Utc>>,
    pub(crate) updated_min: Option<DateTime<Utc>>,
    pub(crate) q: Option<String>,
    pub(crate) ical_uid: Option<String>,
    pub(crate) order_by: Option<String>,
    pub(crate) private_ext: Vec<(String, String)>,
    pub(crate) shared_ext: Vec<(String, String)>,
    pub(crate) event_types: Vec<String>,
    /// The parameters that must not change between pages.
    pub(crate) fingerprint: String,
    /// Serve an empty page (with a `nextPageToken`) instead of the next items.
    pub(crate) force_empty: bool,
}

/// `calendarList.list` parameters, already checked by the route.
#[derive(Debug, Clone, Default)]
pub(crate) struct CalendarListQuery {
    pub(crate) max_results: usize,
    pub(crate) page_token: Option<String>,
    pub(crate) sync_token: Option<String>,
    pub(crate) show_deleted: bool,
    pub(crate) show_hidden: bool,
    pub(crate) min_access_role: Option<String>,
    pub(crate) fingerprint: String,
    pub(crate) force_empty: bool,
}

fn role_rank(role: &str) -> u8 {
    match role {
        "freeBusyReader" => 1,
        "reader" => 2,
        "writerWithoutPrivateAccess" => 3,
        "writer" => 4,
        "owner" => 5,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------
// Faults and statistics (public: the control API's types).

fn one() -> u32 {
    1
}

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoogleFaultKind {
    /// An error in Google's shape (`status`, `reason`, `message`, `retry_after_secs`).
    Error,
    /// `200 OK` with an HTML sign-in page instead of JSON (a captive portal).
    CaptivePortal,
    /// Answer `ms` milliseconds late.
    Delay,
    /// Close the connection unanswered; with `processed` (default true) after the
    /// request took effect (a lost response), else before.
    DropConnection,
    /// Serve list pages with no items but a `nextPageToken` (each counts once).
    EmptyPages,
    /// Serve `events.list` pages whose first event, or an `events.get` whose event,
    /// carries what Google's own schema forbids (a reminder at 10.5 minutes): a
    /// provider answer gone wrong, for the client's handling of hostile input (each
    /// answer counts once).
    MalformedEvent,
}

impl GoogleFaultKind {
    /// Changes what a list page holds, taken where the page is made (not at the
    /// request's start).
    fn shapes_pages(&self) -> bool {
        matches!(self, Self::EmptyPages | Self::MalformedEvent)
    }
}

/// One pending fault: the next `count` matching requests get it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleFault {
    pub kind: GoogleFaultKind,
    /// `error`: HTTP status (default by reason: 403 for the usage limits, 500
    /// `backendError`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `error`: `rateLimitExceeded`, `userRateLimitExceeded`, `quotaExceeded`,
    /// `backendError`, ... (default by status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `error`: a `Retry-After` header (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// `delay`: milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// `drop_connection`: let the request take effect first (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed: Option<bool>,
    #[serde(default = "one")]
    pub count: u32,
    /// Only this route (`events.list`, `events.insert`, ...; see [`ROUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Only this user's requests (by the access token's user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl GoogleFault {
    fn matches(&self, route: &str, user: Option<&str>) -> bool {
        self.route.as_deref().is_none_or(|r| r == route)
            && self
                .user
                .as_deref()
                .is_none_or(|u| user.is_some_and(|user| user.eq_ignore_ascii_case(u)))
    }

    /// The error an `error` fault answers with.
    pub(crate) fn api_error(&self) -> ApiError {
        let reason = self.reason.clone().unwrap_or_else(|| {
            match self.status {
                Some(429) | Some(403) | None => "rateLimitExceeded",
                Some(401) => "authError",
                Some(404) => "notFound",
                Some(409) => "conflict",
                Some(410) => "fullSyncRequired",
                Some(412) => "conditionNotMet",
                Some(s) if s >= 500 => "backendError",
                Some(_) => "invalid",
            }
            .to_string()
        });
        let status = self.status.unwrap_or(match reason.as_str() {
            "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded" | "forbidden" => 403,
            "authError" => 401,
            "notFound" => 404,
            "duplicate" | "conflict" => 409,
            "fullSyncRequired" | "updatedMinTooLongAgo" | "deleted" => 410,
            "conditionNotMet" => 412,
            "backendError" | "internalError" => 500,
            _ => 400,
        });
        let message = self.message.clone().unwrap_or_else(|| {
            match (status, reason.as_str()) {
                (_, "rateLimitExceeded") => "Rate Limit Exceeded",
                (_, "userRateLimitExceeded") => "User Rate Limit Exceeded",
                (_, "quotaExceeded") => "Calendar usage limits exceeded.",
                (503, _) => "The service is currently unavailable.",
                (_, "backendError") => "Backend Error",
                (_, "fullSyncRequired") => {
                    "Sync token is no longer valid, a full sync is required."
                }
                _ => "The request failed (a fault injected into the fake).",
            }
            .to_string()
        });
        let mut error = ApiError::new(status, &reason, message);
        error.retry_after = self.retry_after_secs;
        error
    }
}

/// A per-user request budget over a sliding minute; requests beyond it fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRateLimit {
    /// 0 turns the limit off.
    pub requests_per_minute: u32,
    /// 403 (default) or 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Default `userRateLimitExceeded` for 403, `rateLimitExceeded` for 429.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

/// `POST /_control/google/faults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleFaultsUpdate {
    /// Remove every pending fault, the page-size cap and the rate limit first.
    #[serde(default)]
    pub clear: bool,
    /// Faults to queue (in order; the first matching one applies).
    #[serde(default)]
    pub add: Vec<GoogleFault>,
    /// Cap every list page at this many items (0 removes the cap).
    #[serde(default)]
    pub page_size: Option<u32>,
    #[serde(default)]
    pub user_rate_limit: Option<UserRateLimit>,
    /// Answer every `events.list` page this late (`page_ms` 0 and `per_item_us` 0
    /// remove the model): the benchmarks' stand-in for the network and the server.
    #[serde(default)]
    pub list_latency: Option<ListLatency>,
}

/// The pending faults (`GET /_control/google/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleFaults {
    pub pending: Vec<GoogleFault>,
    pub page_size: Option<u32>,
    pub user_rate_limit: Option<UserRateLimit>,
    pub list_latency: Option<ListLatency>,
}

/// `GET /_control/google/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleCalendarStats {
    /// Requests per route (every request, answered or not).
    pub requests: BTreeMap<String, u64>,
    /// Requests per user (the access token's) and route.
    pub requests_by_user: BTreeMap<String, BTreeMap<String, u64>>,
    /// Requests refused with 401.
    pub unauthenticated: u64,
    /// Successful `events.insert` calls per OAuth client id.
    pub inserts_by_client: BTreeMap<String, u64>,
    /// `events.insert`/`update`/`patch` calls that got past authentication.
    pub writes: u64,
    /// ... of which sent `conferenceDataVersion=1`.
    pub writes_with_conference_data_version_1: u64,
    /// Every write so far sent `conferenceDataVersion=1` (true when there was none).
    pub conference_data_version_1_on_every_write: bool,
    /// Faults that fired (errors, portals, delays, drops, empty pages, rate limits).
    pub faults_fired: u64,
}

// ---------------------------------------------------------------------------------------
// The store.

/// All Google Calendar state of the fake (a member of the crate's one `State`).
#[derive(Debug)]
pub struct GoogleStore {
    /// Embedded in tokens: tokens from before a reset or restart are stale.
    nonce: String,
    accounts: HashMap<String, Account>,
    clock: Clock,
    snapshots: HashMap<u64, Snapshot>,
    snapshot_order: VecDeque<u64>,
    next_snapshot: u64,
    groups: BTreeMap<String, Vec<String>>,
    faults: GoogleFaults,
    recent: HashMap<String, VecDeque<Instant>>,
    stats: GoogleCalendarStats,
}

impl Default for GoogleStore {
    fn default() -> Self {
        GoogleStore {
            nonce: random_base32hex(10),
            accounts: HashMap::new(),
            clock: Clock::default(),
            snapshots: HashMap::new(),
            snapshot_order: VecDeque::new(),
            next_snapshot: 1,
            groups: BTreeMap::new(),
            faults: GoogleFaults::default(),
            recent: HashMap::new(),
            stats: GoogleCalendarStats::default(),
        }
    }
}

fn new_calendar(id: &str, entry: Map<String, Value>, tick: &Tick) -> Calendar {
    Calendar {
        id: id.to_string(),
        entry,
        etag: tick.etag.clone(),
        seq: tick.seq,
        events: BTreeMap::new(),
        epoch: 0,
    }
}

fn primary_entry(email: &str) -> Map<String, Value> {
    let entry = json!({
        "summary": email,
        "timeZone": "UTC",
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": true,
        "accessRole": "owner",
        "defaultReminders": [{"method": "popup", "minutes": 10}],
        "notificationSettings": {"notifications": [
            {"type": "eventCreation", "method": "email"},
            {"type": "eventChange", "method": "email"},
            {"type": "eventCancellation", "method": "email"},
            {"type": "eventResponse", "method": "email"},
        ]},
        "primary": true,
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    });
    entry.as_object().cloned().unwrap_or_default()
}

fn token_encode(parts: &[&str]) -> String {
    format!("C{}", util::b64url(parts.join("\n").as_bytes()))
}

fn token_decode(token: &str) -> Option<Vec<String>> {
    let bytes = util::b64url_decode(token.strip_prefix('C')?)?;
    let text = String::from_utf8(bytes).ok()?;
    Some(text.split('\n').map(str::to_string).collect())
}

impl GoogleStore {
    fn account(&mut self, email: &str) -> &mut Account {
        let key = email.to_ascii_lowercase();
        let clock = &mut self.clock;
        self.accounts.entry(key).or_insert_with(|| {
            let tick = clock.tick();
            Account {
                calendars: vec![new_calendar(email, primary_entry(email), &tick)],
                list_epoch: 0,
            }
        })
    }

    /// The caller's calendar and the clock, or 404.
    fn calendar(
        &mut self,
        email: &str,
        calendar_id: &str,
    ) -> Result<(&mut Calendar, &mut Clock), ApiError> {
        self.account(email);
        let account = self
            .accounts
            .get_mut(&email.to_ascii_lowercase())
            .ok_or_else(ApiError::not_found)?;
        let calendar = account
            .calendar_mut(calendar_id)
            .ok_or_else(ApiError::not_found)?;
        Ok((calendar, &mut self.clock))
    }

    fn remember(&mut self, snapshot: Snapshot) -> u64 {
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        self.snapshots.insert(id, snapshot);
        self.snapshot_order.push_back(id);
        while self.snapshot_order.len() > MAX_SNAPSHOTS {
            if let Some(old) = self.snapshot_order.pop_front() {
                self.snapshots.remove(&old);
            }
        }
        id
    }

    fn page_token(&self, snapshot: u64, offset: usize) -> String {
        token_encode(&[&self.nonce, "p", &snapshot.to_string(), &offset.to_string()])
    }

    /// A page of snapshot `id` from `offset`: `nextPageToken` unless it is the last page,
    /// which carries `nextSyncToken` instead.
    fn serve(&self, id: u64, offset: usize, max: usize, force_empty: bool) -> Value {
        let Some(snapshot) = self.snapshots.get(&id) else {
            return json!({});
        };
        let mut page = snapshot.header.clone();
        let start = offset.min(snapshot.items.len());
        if force_empty {
            page.insert("nextPageToken".into(), json!(self.page_token(id, start)));
            page.insert("items".into(), json!([]));
            return Value::Object(page);
        }
        let end = (start + max.max(1)).min(snapshot.items.len());
        if end < snapshot.items.len() {
            page.insert("nextPageToken".into(), json!(self.page_token(id, end)));
        } else {
            page.insert("nextSyncToken".into(), json!(snapshot.sync_token));
        }
        page.insert(
            "items".into(),
            Value::Array(snapshot.items[start..end].to_vec()),
        );
        Value::Object(page)
    }

    /// Resolves a `pageToken` to its snapshot and offset (400 when it is not ours).
    fn resume(
        &self,
        token: &str,
        owner: &str,
        fingerprint: &str,
    ) -> Result<(u64, usize), ApiError> {
        let bad = || ApiError::invalid("Invalid page token value.").at("parameter", "pageToken");
        let parts = token_decode(token).ok_or_else(bad)?;
        if parts.len() != 4 || parts[0] != self.nonce || parts[1] != "p" {
            return Err(bad());
        }
        let id: u64 = parts[2].parse().map_err(|_| bad())?;
        let offset: usize = parts[3].parse().map_err(|_| bad())?;
        let snapshot = self.snapshots.get(&id).ok_or_else(bad)?;
        if !snapshot.owner.eq_ignore_ascii_case(owner) || snapshot.fingerprint != fingerprint {
            return Err(ApiError::invalid(
                "The pageToken belongs to a different query: keep every other parameter \
                 (including syncToken) unchanged while paging.",
            )
            .at("parameter", "pageToken"));
        }
        Ok((id, offset))
    }

    // -----------------------------------------------------------------------------------
    // Faults, limits, statistics.

    pub(crate) fn count_request(&mut self, route: &str, user: Option<&str>) {
        *self.stats.requests.entry(route.to_string()).or_default() += 1;
        if let Some(user) = user {
            *self
                .stats
                .requests_by_user
                .entry(user.to_ascii_lowercase())
                .or_default()
                .entry(route.to_string())
                .or_default() += 1;
        }
    }

    pub(crate) fn count_unauthenticated(&mut self) {
        self.stats.unauthenticated += 1;
    }

    pub(crate) fn count_write(&mut self, conference_v1: bool) {
        self.stats.writes += 1;
        if conference_v1 {
            self.stats.writes_with_conference_data_version_1 += 1;
        }
    }

    pub(crate) fn count_insert(&mut self, client_id: &str) {
        *self
            .stats
            .inserts_by_client
            .entry(client_id.to_string())
            .or_default() += 1;
    }

    /// Takes one use of the first pending fault (other than `empty_pages`) that applies.
    pub(crate) fn take_fault(&mut self, route: &str, user: Option<&str>) -> Option<GoogleFault> {
        let pending = &mut self.faults.pending;
        let index = pending
            .iter()
            .position(|f| !f.kind.shapes_pages() && f.matches(route, user))?;
        let fault = pending[index].clone();
        pending[index].count -= 1;
        if pending[index].count == 0 {
            pending.remove(index);
        }
        self.stats.faults_fired += 1;
        Some(fault)
    }

    /// Takes one use of a pending `empty_pages` fault, if one applies.
    pub(crate) fn take_empty_page(&mut self, route: &str, user: &str) -> bool {
        self.take_page_fault(GoogleFaultKind::EmptyPages, route, user)
    }

    /// Takes one use of a pending `malformed_event` fault, if one applies.
    pub(crate) fn take_malformed_event(&mut self, route: &str, user: &str) -> bool {
        self.take_page_fault(GoogleFaultKind::MalformedEvent, route, user)
    }

    fn take_page_fault(&mut self, kind: GoogleFaultKind, route: &str, user: &str) -> bool {
        let pending = &mut self.faults.pending;
        let Some(index) = pending
            .iter()
            .position(|f| f.kind == kind && f.matches(route, Some(user)))
        else {
            return false;
        };
        pending[index].count -= 1;
        if pending[index].count == 0 {
            pending.remove(index);
        }
        self.stats.faults_fired += 1;
        true
    }

    /// The latency model of `events.list` pages, if one is set.
    pub(crate) fn list_latency(&self) -> Option<ListLatency> {
        self.faults.list_latency
    }

    /// The page-size cap, if one is set.
    pub(crate) fn page_cap(&self) -> Option<usize> {
        self.faults.page_size.filter(|n| *n > 0).map(|n| n as usize)
    }

    /// Counts one request against the user's per-minute budget; the error when over it.
    pub(crate) fn check_rate_limit(&mut self, user: &str) -> Option<ApiError> {
        let limit = self.faults.user_rate_limit.clone()?;
        if limit.requests_per_minute == 0 {
            return None;
        }
        let now = Instant::now();
        let recent = self.recent.entry(user.to_ascii_lowercase()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= StdDuration::from_secs(60))
        {
            recent.pop_front();
        }
        if recent.len() >= limit.requests_per_minute as usize {
            self.stats.faults_fired += 1;
            let status = limit.status.unwrap_or(403);
            let reason = limit.reason.clone().unwrap_or_else(|| {
                if status == 429 {
                    "rateLimitExceeded".to_string()
                } else {
                    "userRateLimitExceeded".to_string()
                }
            });
            let fault = GoogleFault {
                kind: GoogleFaultKind::Error,
                status: Some(status),
                reason: Some(reason),
                message: None,
                retry_after_secs: limit.retry_after_secs,
                ms: None,
                processed: None,
                count: 1,
                route: None,
                user: None,
            };
            return Some(fault.api_error());
        }
        recent.push_back(now);
        None
    }

    pub(crate) fn stats(&self) -> GoogleCalendarStats {
        let mut stats = self.stats.clone();
        stats.conference_data_version_1_on_every_write =
            stats.writes == stats.writes_with_conference_data_version_1;
        stats
    }
}

// ---------------------------------------------------------------------------------------
// Reading.

fn event_matches(event: &Map<String, Value>, q: &EventsQuery) -> bool {
    if let Some(uid) = &q.ical_uid {
        if text(event, "iCalUID") != Some(uid.as_str()) {
            return false;
        }
    }
    if let Some(needle) = &q.q {
        let needle = needle.to_lowercase();
        let mut hay: Vec<String> = ["summary", "description", "location"]
            .iter()
            .filter_map(|k| text(event, k).map(str::to_lowercase))
            .collect();
        if let Some(attendees) = event.get("attendees").and_then(Value::as_array) {
            for a in attendees {
                for k in ["email", "displayName"] {
                    if let Some(s) = a.get(k).and_then(Value::as_str) {
                        hay.push(s.to_lowercase());
                    }
                }
            }
        }
        if !needle
            .split_whitespace()
            .all(|word| hay.iter().any(|h| h.contains(word)))
        {
            return false;
        }
    }
    for (kind, wanted) in [("private", &q.private_ext), ("shared", &q.shared_ext)] {
        let props = event
            .get("extendedProperties")
            .and_then(|e| e.get(kind))
            .and_then(Value::as_object);
        for (name, value) in wanted {
            if props.and_then(|p| p.get(name)).and_then(Value::as_str) != Some(value.as_str()) {
                return false;
            }
        }
    }
    if !q.event_types.is_empty() {
        let ty = text(event, "eventType").unwrap_or("default");
        if !q.event_types.iter().any(|t| t == ty) {
            return false;
        }
    }
    true
}

/// Start and end instants of a stored single event (or exception).
fn span(event: &Map<String, Value>, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = parse_slot(event.get("start"), "start").ok()?;
    let end = parse_slot(event.get("end"), "end").ok()?;
    Some((start.instant(tz), end.instant(tz)))
}

fn sort_start(item: &Value, tz: Tz) -> DateTime<Utc> {
    item.as_object()
        .and_then(|e| {
            span(e, tz).map(|(s, _)| s).or_else(|| {
                parse_slot(e.get("originalStartTime"), "original start")
                    .ok()
                    .map(|s| s.instant(tz))
            })
        })
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The items of an events list (`since`: the sync token's change counter).
fn select_events(calendar: &Calendar, q: &EventsQuery, since: Option<u64>) -> Vec<Value> {
    let tz = calendar.tz();
    let window = Window {
        from: q.time_min,
        to: q.time_max,
    };
    let incremental = since.is_some() || q.updated_min.is_some();
    let mut out = Vec::new();
    for (id, stored) in &calendar.events {
        let event = &stored.body;
        if since.is_some_and(|s| stored.seq <= s) {
            continue;
        }
        if let Some(min) = q.updated_min {
            if text(event, "updated")
                .and_then(parse_instant)
                .is_some_and(|u| u < min)
            {
                continue;
            }
        }
        if !event_matches(event, q) {
            continue;
        }
        let cancelled = is_cancelled(event);
        let render_cancelled = |e: &Map<String, Value>| {
            if q.show_deleted {
                Value::Object(e.clone())
            } else {
                minimal_cancelled(e)
            }
        };
        if is_master(event) {
            if !q.single_events {
                if cancelled {
                    if q.show_deleted || incremental {
                        out.push(render_cancelled(event));
                    }
                } else if since.is_some()
                    || (window.from.is_none() && window.to.is_none())
                    || expand(event, tz, window).is_ok_and(|o| !o.is_empty())
                {
                    out.push(Value::Object(event.clone()));
                }
                continue;
            }
            let Ok(occurrences) = expand(event, tz, window) else {
                continue;
            };
            for o in occurrences {
                let instance_id = format!("{id}_{}", o.suffix);
                if calendar.events.contains_key(&instance_id) {
                    continue;
                }
                let instance = instance_body(event, &o, &calendar.id);
                if cancelled {
                    if q.show_deleted || incremental {
                        out.push(render_cancelled(&instance));
                    }
                } else {
                    out.push(Value::Object(instance));
                }
            }
            continue;
        }
        if cancelled {
            let parent_alive = text(event, "recurringEventId")
                .and_then(|p| calendar.events.get(p))
                .is_some_and(|p| !is_cancelled(&p.body));
            // Cancelled exceptions of a live series show up in a plain list too (they
            // hide an instance), unless instances are expanded.
            let shown = q.show_deleted || incremental || (parent_alive && !q.single_events);
            if shown {
                out.push(render_cancelled(event));
            }
            continue;
        }
        if since.is_none() {
            if let Some((s, e)) = span(event, tz) {
                if !window.overlaps(s, e) {
                    continue;
                }
            }
        }
        out.push(Value::Object(event.clone()));
    }
    match q.order_by.as_deref() {
        Some("startTime") => out.sort_by_key(|item| sort_start(item, tz)),
        Some("updated") => out.sort_by(|a, b| {
            let u = |v: &Value| {
                v.get("updated")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            u(a).cmp(&u(b))
        }),
        _ => {}
    }
    out
}

/// Creates the Meet conferences requested earlier (Google does this asynchronously: the
/// write answers `pending`, a later read sees `success`).
fn resolve_meet(calendar: &mut Calendar, clock: &mut Clock) {
    for stored in calendar.events.values_mut() {
        if !stored.meet_pending {
            continue;
        }
        stored.meet_pending = false;
        let id = text(&stored.body, "id").unwrap_or_default().to_string();
        let digest = util::sha256(id.as_bytes());
        let letters: String = digest
            .iter()
            .take(10)
            .map(|b| char::from(b'a' + b % 26))
            .collect();
        let code = format!("{}-{}-{}", &letters[0..3], &letters[3..7], &letters[7..10]);
        let pin: String = digest[10..19]
            .iter()
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        let link = format!("https://meet.google.com/{code}");
        let request = stored
            .body
            .get("conferenceData")
            .and_then(|c| c.get("createRequest"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let mut request = request;
        request["status"] = json!({"statusCode": "success"});
        stored.body.insert(
            "conferenceData".into(),
            json!({
                "createRequest": request,
                "entryPoints": [
                    {"entryPointType": "video", "uri": link, "label": format!("meet.google.com/{code}")},
                    {"entryPointType": "phone", "uri": "tel:+1-555-0100", "label": "+1 555-0100",
                     "pin": pin, "regionCode": "US"},
                    {"entryPointType": "more", "uri": format!("https://tel.meet/{code}?pin={pin}"), "pin": pin},
                ],
                "conferenceSolution": {
                    "key": {"type": "hangoutsMeet"},
                    "name": "Google Meet",
                    "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
                },
                "conferenceId": code,
            }),
        );
        stored.body.insert("hangoutLink".into(), json!(link));
        let tick = clock.tick();
        stored.body.insert("etag".into(), json!(tick.etag));
        stored.seq = tick.seq;
    }
}

/// Busy periods of one calendar within `[from, to)`, merged and clipped.
fn busy_periods(
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = calendar.tz();
    let window = Window {
        from: Some(from),
        to: Some(to),
    };
    let q = EventsQuery {
        single_events: true,
        time_min: Some(from),
        time_max: Some(to),
        ..EventsQuery::default()
    };
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = select_events(calendar, &q, None)
        .iter()
        .filter_map(Value::as_object)
        .filter(|e| !is_cancelled(e) && text(e, "transparency") != Some("transparent"))
        .filter(|e| text(e, "eventType").unwrap_or("default") != "workingLocation")
        .filter_map(|e| span(e, tz))
        .filter(|(s, e)| window.overlaps(*s, *e) && s < e)
        .map(|(s, e)| (s.max(from), e.min(to)))
        .collect();
    spans.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

// ---------------------------------------------------------------------------------------
// Writing.

/// Members a client cannot set (Google ignores them on input).
const READ_ONLY: &[&str] = &[
    "kind",
    "etag",
    "id",
    "htmlLink",
    "created",
    "updated",
    "creator",
    "organizer",
    "iCalUID",
    "hangoutLink",
    "recurringEventId",
    "originalStartTime",
    "attendeesOmitted",
    "privateCopy",
    "locked",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Insert,
    Update,
    Patch,
}

fn check_reminders(event: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(reminders) = event.get("reminders").and_then(Value::as_object) else {
        return Ok(());
    };
    let overrides = reminders
        .get("overrides")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if reminders.get("useDefault") == Some(&Value::Bool(true)) && !overrides.is_empty() {
        return Err(ApiError::new(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        ));
    }
    if overrides.len() > 5 {
        return Err(ApiError::invalid(
            "The maximum number of override reminders is 5.",
        ));
    }
    for o in &overrides {
        if o.get("method").and_then(Value::as_str).is_none() {
            return Err(ApiError::required("Missing reminder method."));
        }
        match o.get("minutes").and_then(Value::as_i64) {
            Some(m) if (0..=40_320).contains(&m) => {}
            Some(_) => return Err(ApiError::invalid("Invalid reminder minutes value.")),
            None => return Err(ApiError::required("Missing reminder minutes.")),
        }
    }
    Ok(())
}

fn sequence_of(event: &Map<String, Value>) -> Option<i64> {
    match event.get("sequence")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Builds the stored body of a written event. `existing` is the current body (for an
/// instance not yet stored: the expanded instance). Returns the body and whether a Meet
/// conference was newly requested.
#[allow(clippy::too_many_arguments)]
fn build_event(
    calendar: &Calendar,
    writer: &Writer,
    existing: Option<&StoredEvent>,
    existing_body: Option<&Map<String, Value>>,
    incoming: &Map<String, Value>,
    mode: Mode,
    id: &str,
    tick: &Tick,
) -> Result<(Map<String, Value>, bool), ApiError> {
    let mut incoming = incoming.clone();
    if !writer.conference_v1 {
        incoming.remove("conferenceData");
    }
    let mut body = match (mode, existing_body) {
        (Mode::Patch, Some(old)) => {
            let mut merged = Value::Object(old.clone());
            merge_patch(&mut merged, &Value::Object(incoming.clone()));
            merged.as_object().cloned().unwrap_or_default()
        }
        _ => {
            let mut fresh = Value::Object(incoming.clone());
            strip_nulls(&mut fresh);
            let mut fresh = fresh.as_object().cloned().unwrap_or_default();
            if let (Mode::Update, Some(old), false) = (mode, existing_body, writer.conference_v1) {
                for key in ["conferenceData", "hangoutLink"] {
                    if let Some(v) = old.get(key) {
                        fresh.insert(key.into(), v.clone());
                    }
                }
            }
            fresh
        }
    };
    let preserved_conference = body.get("conferenceData").cloned();
    for key in READ_ONLY {
        body.remove(*key);
    }
    if let Some(c) = preserved_conference {
        body.insert("conferenceData".into(), c);
    }
    if let Some(link) = existing_body.and_then(|o| o.get("hangoutLink")) {
        if body.contains_key("conferenceData") {
            body.insert("hangoutLink".into(), link.clone());
        }
    }

    // Validation.
    let tz = calendar.tz();
    let start = parse_slot(body.get("start"), "start")?;
    let end = parse_slot(body.get("end"), "end")?;
    match (start.when, end.when) {
        (When::Day(s), When::Day(e)) if e <= s => return Err(ApiError::time_range_empty("end")),
        (When::At(s), When::At(e)) if e < s => return Err(ApiError::time_range_empty("end")),
        (When::Day(_), When::At(_)) | (When::At(_), When::Day(_)) => {
            return Err(ApiError::invalid(
                "Start and end times must either both be date or both be dateTime.",
            ))
        }
        _ => {}
    }
    let lines = recurrence_lines(&body);
    if !lines.is_empty() {
        validate_recurrence(&lines)?;
        if matches!(start.when, When::At(_)) {
            if start.tz.is_none() {
                return Err(ApiError::required(
                    "Missing time zone definition for start time.",
                ));
            }
            if end.tz.is_none() {
                return Err(ApiError::required(
                    "Missing time zone definition for end time.",
                ));
            }
        }
    }
    check_reminders(&body)?;
    if let Some(attendees) = body.get_mut("attendees").and_then(Value::as_array_mut) {
        for a in attendees.iter_mut() {
            let Some(email) = a.get("email").and_then(Value::as_str).map(str::to_string) else {
                return Err(ApiError::required("Missing attendee email."));
            };
            if a.get("responseStatus").is_none() {
                a["responseStatus"] = json!("needsAction");
            }
            if email.eq_ignore_ascii_case(&writer.email) {
                a["self"] = json!(true);
            }
        }
    }
    let old_type = existing_body
        .and_then(|o| text(o, "eventType"))
        .unwrap_or("default");
    let new_type = text(&body, "eventType").unwrap_or(old_type).to_string();
    if existing_body.is_some() && new_type != old_type {
        return Err(ApiError::invalid("The event type cannot be changed."));
    }
    if existing_body.is_none() && new_type == "fromGmail" {
        return Err(ApiError::invalid(
            "Events of type fromGmail cannot be created.",
        ));
    }
    let old_sequence = existing_body.and_then(sequence_of).unwrap_or(0);
    let given_sequence = sequence_of(&incoming);
    if existing_body.is_some() && given_sequence.is_some_and(|s| s < old_sequence) {
        return Err(ApiError::invalid(
            "Invalid sequence value. The specified sequence number is below the current \
             sequence number of the resource.",
        ));
    }

    // Normalised times and server-set members.
    body.insert("start".into(), start.render(tz));
    body.insert("end".into(), end.render(tz));
    if !lines.is_empty() && expand(&body, tz, Window::default()).is_err() {
        return Err(ApiError::invalid("Invalid recurrence rule."));
    }
    let time_changed = existing_body.is_some_and(|o| {
        ["start", "end", "recurrence"]
            .iter()
            .any(|k| o.get(*k) != body.get(*k))
    });
    let sequence = match given_sequence {
        Some(s) if s > old_sequence => s,
        _ if time_changed => old_sequence + 1,
        _ => old_sequence,
    };
    body.insert("kind".into(), json!("calendar#event"));
    body.insert("id".into(), json!(id));
    body.insert("etag".into(), json!(tick.etag));
    if !body.contains_key("status") {
        body.insert("status".into(), json!("confirmed"));
    }
    body.insert("htmlLink".into(), json!(html_link(id, &calendar.id)));
    let created = existing_body
        .and_then(|o| o.get("created").cloned())
        .unwrap_or_else(|| json!(tick.now));
    body.insert("created".into(), created);
    for key in [
        "creator",
        "organizer",
        "recurringEventId",
        "originalStartTime",
        "iCalUID",
    ] {
        if let Some(v) = existing_body.and_then(|o| o.get(key)) {
            body.insert(key.into(), v.clone());
        }
    }
    if !body.contains_key("creator") {
        body.insert(
            "creator".into(),
            json!({"email": writer.email, "self": true}),
        );
    }
    if !body.contains_key("organizer") {
        body.insert("organizer".into(), calendar.organizer(&writer.email));
    }
    if !body.contains_key("iCalUID") {
        let uid = match (mode, text(&incoming, "iCalUID")) {
            (Mode::Insert, Some(uid)) => uid.to_string(),
            _ => format!("{id}@google.com"),
        };
        body.insert("iCalUID".into(), json!(uid));
    }
    body.insert("sequence".into(), json!(sequence));
    if !body.contains_key("reminders") {
        body.insert("reminders".into(), json!({"useDefault": true}));
    }
    body.insert("eventType".into(), json!(new_type));
    // Changing only reminders does not change `updated` (Google documents this).
    let updated = match existing_body {
        Some(old) => {
            let strip = |m: &Map<String, Value>| {
                let mut m = m.clone();
                for k in ["etag", "updated", "reminders", "sequence"] {
                    m.remove(k);
                }
                m
            };
            if strip(old) == strip(&body) && old.get("updated").is_some() {
                old.get("updated")
                    .cloned()
                    .unwrap_or_else(|| json!(tick.now))
            } else {
                json!(tick.now)
            }
        }
        None => json!(tick.now),
    };
    body.insert("updated".into(), updated);

    // Conference data (only with conferenceDataVersion=1).
    let mut meet_requested = false;
    if writer.conference_v1 {
        if let Some(request) = incoming
            .get("conferenceData")
            .and_then(|c| c.get("createRequest"))
            .filter(|r| r.is_object())
        {
            let request_id = request.get("requestId").and_then(Value::as_str);
            let Some(request_id) = request_id else {
                return Err(ApiError::required("Missing conference request id."));
            };
            let kind = request
                .get("conferenceSolutionKey")
                .and_then(|k| k.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let allowed = calendar
                .entry
                .get("conferenceProperties")
                .and_then(|p| p.get("allowedConferenceSolutionTypes"))
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|t| t.as_str() == Some(kind)));
            if kind != "hangoutsMeet" || !allowed {
                return Err(ApiError::invalid("Invalid conference type value."));
            }
            let old_request_id = existing_body
                .and_then(|o| o.get("conferenceData"))
                .and_then(|c| c.get("createRequest"))
                .and_then(|r| r.get("requestId"))
                .and_then(Value::as_str);
            if old_request_id == Some(request_id) {
                // A repeated requestId is ignored: keep what the first one produced.
                for key in ["conferenceData", "hangoutLink"] {
                    match existing_body.and_then(|o| o.get(key)) {
                        Some(v) => body.insert(key.into(), v.clone()),
                        None => body.remove(key),
                    };
                }
            } else {
                body.remove("hangoutLink");
                body.insert(
                    "conferenceData".into(),
                    json!({"createRequest": {
                        "requestId": request_id,
                        "conferenceSolutionKey": {"type": kind},
                        "status": {"statusCode": "pending"},
                    }}),
                );
                meet_requested = true;
            }
        } else if !body.contains_key("conferenceData") {
            body.remove("hangoutLink");
        }
    }
    let pending = meet_requested
        || (existing.is_some_and(|e| e.meet_pending) && body.contains_key("conferenceData"));
    Ok((body, pending))
}

fn check_if_match(if_match: Option<&str>, etag: Option<&str>) -> Result<(), ApiError> {
    match if_match {
        None | Some("*") => Ok(()),
        Some(given) if Some(given.trim()) == etag => Ok(()),
        Some(_) => {
            Err(ApiError::new(412, "conditionNotMet", "Precondition Failed")
                .at("header", "If-Match"))
        }
    }
}

impl GoogleStore {
    // -----------------------------------------------------------------------------------
    // The API operations. `email` is the access token's user.

    pub(crate) fn calendar_list(
        &mut self,
        email: &str,
        q: &CalendarListQuery,
    ) -> Result<Value, ApiError> {
        let max = q.max_results;
        if let Some(token) = &q.page_token {
            let (id, offset) = self.resume(token, email, &q.fingerprint)?;
            return Ok(self.serve(id, offset, max, q.force_empty));
        }
        let nonce = self.nonce.clone();
        let seq = self.clock.seq;
        let account = self.account(email);
        let since = match &q.sync_token {
            Some(token) => {
                let parts = token_decode(token)
                    .filter(|p| p.len() == 5 && p[1] == "l")
                    .ok_or_else(|| {
                        ApiError::invalid("Invalid sync token value.").at("parameter", "syncToken")
                    })?;
                if !parts[2].eq_ignore_ascii_case(email) {
                    return Err(
                        ApiError::invalid("Invalid sync token value.").at("parameter", "syncToken")
                    );
                }
                if parts[0] != nonce || parts[3] != account.list_epoch.to_string() {
                    return Err(ApiError::full_sync_required());
                }
                Some(
                    parts[4]
                        .parse::<u64>()
                        .map_err(|_| ApiError::invalid("Invalid sync token value."))?,
                )
            }
            None => None,
        };
        let min_rank = q.min_access_role.as_deref().map(role_rank).unwrap_or(0);
        let items: Vec<Value> = account
            .calendars
            .iter()
            .filter(|c| match since {
                Some(s) => c.seq > s,
                None => {
                    (q.show_deleted || !c.is_deleted())
                        && (q.show_hidden || c.entry.get("hidden") != Some(&Value::Bool(true)))
                        && role_rank(c.access_role()) >= min_rank
                }
            })
            .map(Calendar::render_entry)
            .collect();
        let etag = account
            .calendars
            .iter()
            .map(|c| c.etag.clone())
            .max()
            .unwrap_or_default();
        let sync_token = token_encode(&[
            &nonce,
            "l",
            &email.to_ascii_lowercase(),
            &account.list_epoch.to_string(),
            &seq.to_string(),
        ]);
        let mut header = Map::new();
        header.insert("kind".into(), json!("calendar#calendarList"));
        header.insert("etag".into(), json!(etag));
        let id = self.remember(Snapshot {
            owner: email.to_string(),
            fingerprint: q.fingerprint.clone(),
            header,
            items,
            sync_token,
        });
        Ok(self.serve(id, 0, max, q.force_empty))
    }

    pub(crate) fn calendar_list_entry(
        &mut self,
        email: &str,
        calendar_id: &str,
    ) -> Result<Value, ApiError> {
        let (calendar, _) = self.calendar(email, calendar_id)?;
        Ok(calendar.render_entry())
    }

    pub(crate) fn list_events(
        &mut self,
        email: &str,
        calendar_id: &str,
        q: &EventsQuery,
    ) -> Result<Value, ApiError> {
        let max = q.max_results;
        let nonce = self.nonce.clone();
        {
            let (calendar, clock) = self.calendar(email, calendar_id)?;
            if !calendar.can_read() {
                return Err(ApiError::forbidden_reader());
            }
            resolve_meet(calendar, clock);
        }
        if let Some(token) = &q.page_token {
            let (id, offset) = self.resume(token, email, &q.fingerprint)?;
            return Ok(self.serve(id, offset, max, q.force_empty));
        }
        let seq = self.clock.seq;
        let (calendar, _) = self.calendar(email, calendar_id)?;
        let since = match &q.sync_token {
            Some(token) => {
                let bad =
                    || ApiError::invalid("Invalid sync token value.").at("parameter", "syncToken");
                let parts = token_decode(token)
                    .filter(|p| p.len() == 7 && p[1] == "e")
                    .ok_or_else(bad)?;
                if !parts[2].eq_ignore_ascii_case(email)
                    || !parts[3].eq_ignore_ascii_case(&calendar.id)
                {
                    return Err(bad());
                }
                if parts[0] != nonce || parts[4] != calendar.epoch.to_string() {
                    return Err(ApiError::full_sync_required());
                }
                if parts[6] != u8::from(q.single_events).to_string() {
                    return Err(ApiError::invalid(
                        "The singleEvents parameter must be the same as in the request that \
                         returned the sync token.",
                    )
                    .at("parameter", "singleEvents"));
                }
                Some(parts[5].parse::<u64>().map_err(|_| bad())?)
            }
            None => None,
        };
        let items = select_events(calendar, q, since);
        let updated = calendar
            .events
            .values()
            .filter_map(|e| text(&e.body, "updated"))
            .max()
            .map(str::to_string)
            .unwrap_or_else(|| format_instant(Utc::now()));
        let etag = calendar
            .events
            .values()
            .filter_map(|e| text(&e.body, "etag"))
            .max()
            .map(str::to_string)
            .unwrap_or_else(|| calendar.etag.clone());
        let mut header = Map::new();
        header.insert("kind".into(), json!("calendar#events"));
        header.insert("etag".into(), json!(etag));
        header.insert(
            "summary".into(),
            json!(text(&calendar.entry, "summary").unwrap_or(&calendar.id)),
        );
        if let Some(d) = text(&calendar.entry, "description") {
            header.insert("description".into(), json!(d));
        }
        header.insert("updated".into(), json!(updated));
        header.insert("timeZone".into(), json!(calendar.tz().name()));
        header.insert("accessRole".into(), json!(calendar.access_role()));
        header.insert(
            "defaultReminders".into(),
            calendar
                .entry
                .get("defaultReminders")
                .cloned()
                .unwrap_or_else(|| json!([])),
        );
        let sync_token = token_encode(&[
            &nonce,
            "e",
            &email.to_ascii_lowercase(),
            &calendar.id.to_ascii_lowercase(),
            &calendar.epoch.to_string(),
            &seq.to_string(),
            &u8::from(q.single_events).to_string(),
        ]);
        let id = self.remember(Snapshot {
            owner: email.to_string(),
            fingerprint: q.fingerprint.clone(),
            header,
            items,
            sync_token,
        });
        Ok(self.serve(id, 0, max, q.force_empty))
    }

    pub(crate) fn get_event(
        &mut self,
        email: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<Value, ApiError> {
        let (calendar, clock) = self.calendar(email, calendar_id)?;
        if !calendar.can_read() {
            return Err(ApiError::forbidden_reader());
        }
        resolve_meet(calendar, clock);
        if let Some(stored) = calendar.events.get(event_id) {
            return Ok(Value::Object(stored.body.clone()));
        }
        calendar
            .find_instance(event_id)
            .map(Value::Object)
            .ok_or_else(ApiError::not_found)
    }

    /// `events.instances`: the instances of one series (exceptions included).
    pub(crate) fn instances(
        &mut self,
        email: &str,
        calendar_id: &str,
        event_id: &str,
        q: &EventsQuery,
    ) -> Result<Value, ApiError> {
        let (calendar, clock) = self.calendar(email, calendar_id)?;
        if !calendar.can_read() {
            return Err(ApiError::forbidden_reader());
        }
        resolve_meet(calendar, clock);
        let master = calendar
            .events
            .get(event_id)
            .ok_or_else(ApiError::not_found)?;
        if !is_master(&master.body) {
            return Err(ApiError::invalid("The event is not a recurring event."));
        }
        let window = Window {
            from: q.time_min,
            to: q.time_max,
        };
        let tz = calendar.tz();
        let mut items = Vec::new();
        for o in expand(&master.body, tz, window).unwrap_or_default() {
            let instance_id = format!("{event_id}_{}", o.suffix);
            match calendar.events.get(&instance_id) {
                Some(ex) if is_cancelled(&ex.body) => {
                    if q.show_deleted {
                        items.push(Value::Object(ex.body.clone()));
                    }
                }
                Some(ex) => items.push(Value::Object(ex.body.clone())),
                None => items.push(Value::Object(instance_body(&master.body, &o, &calendar.id))),
            }
        }
        let mut header = Map::new();
        header.insert("kind".into(), json!("calendar#events"));
        header.insert(
            "etag".into(),
            json!(text(&master.body, "etag").unwrap_or_default()),
        );
        header.insert(
            "summary".into(),
            json!(text(&calendar.entry, "summary").unwrap_or(&calendar.id)),
        );
        header.insert(
            "updated".into(),
            json!(text(&master.body, "updated").unwrap_or_default()),
        );
        header.insert("timeZone".into(), json!(tz.name()));
        header.insert("accessRole".into(), json!(calendar.access_role()));
        header.insert(
            "defaultReminders".into(),
            calendar
                .entry
                .get("defaultReminders")
                .cloned()
                .unwrap_or_else(|| json!([])),
        );
        let id = self.remember(Snapshot {
            owner: email.to_string(),
            fingerprint: q.fingerprint.clone(),
            header,
            items,
            sync_token: String::new(),
        });
        let mut page = self.serve(id, 0, EVENTS_MAX_RESULTS, false);
        if let Some(obj) = page.as_object_mut() {
            obj.remove("nextSyncToken");
        }
        Ok(page)
    }

    pub(crate) fn insert_event(
        &mut self,
        writer: &Writer,
        calendar_id: &str,
        body: &Value,
    ) -> Result<Value, ApiError> {
        check_schema("Event", body).map_err(ApiError::invalid)?;
        let incoming = body.as_object().cloned().unwrap_or_default();
        let (calendar, clock) = self.calendar(&writer.email, calendar_id)?;
        if !calendar.can_write() {
            return Err(ApiError::forbidden_writer());
        }
        let id = match incoming.get("id").and_then(Value::as_str) {
            Some(id) => {
                if !valid_event_id(id) {
                    return Err(
                        ApiError::invalid("Invalid resource id value.").at("parameter", "id")
                    );
                }
                if calendar.events.contains_key(id) {
                    return Err(ApiError::new(
                        409,
                        "duplicate",
                        "The requested identifier already exists.",
                    ));
                }
                id.to_string()
            }
            None => random_base32hex(26),
        };
        let tick = clock.tick();
        let (stored, meet_pending) = build_event(
            calendar,
            writer,
            None,
            None,
            &incoming,
            Mode::Insert,
            &id,
            &tick,
        )?;
        calendar.events.insert(
            id,
            StoredEvent {
                body: stored.clone(),
                seq: tick.seq,
                meet_pending,
            },
        );
        Ok(Value::Object(stored))
    }

    /// `events.update` (`patch: false`) and `events.patch`.
    pub(crate) fn write_event(
        &mut self,
        writer: &Writer,
        calendar_id: &str,
        event_id: &str,
        body: &Value,
        patch: bool,
    ) -> Result<Value, ApiError> {
        check_schema("Event", body).map_err(ApiError::invalid)?;
        let incoming = body.as_object().cloned().unwrap_or_default();
        let (calendar, clock) = self.calendar(&writer.email, calendar_id)?;
        if !calendar.can_write() {
            return Err(ApiError::forbidden_writer());
        }
        let existing = calendar.events.get(event_id).cloned();
        let existing_body = match &existing {
            Some(e) => e.body.clone(),
            None => calendar
                .find_instance(event_id)
                .ok_or_else(ApiError::not_found)?,
        };
        check_if_match(writer.if_match.as_deref(), text(&existing_body, "etag"))?;
        let tick = clock.tick();
        let mode = if patch { Mode::Patch } else { Mode::Update };
        let (stored, meet_pending) = build_event(
            calendar,
            writer,
            existing.as_ref(),
            Some(&existing_body),
            &incoming,
            mode,
            event_id,
            &tick,
        )?;
        calendar.events.insert(
            event_id.to_string(),
            StoredEvent {
                body: stored.clone(),
                seq: tick.seq,
                meet_pending,
            },
        );
        Ok(Value::Object(stored))
    }

    pub(crate) fn delete_event(
        &mut self,
        writer: &Writer,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), ApiError> {
        let (calendar, clock) = self.calendar(&writer.email, calendar_id)?;
        if !calendar.can_write() {
            return Err(ApiError::forbidden_writer());
        }
        let etag = match calendar.events.get(event_id) {
            Some(e) => text(&e.body, "etag").map(str::to_string),
            None => calendar
                .find_instance(event_id)
                .and_then(|i| text(&i, "etag").map(str::to_string)),
        };
        if calendar.events.contains_key(event_id) || etag.is_some() {
            check_if_match(writer.if_match.as_deref(), etag.as_deref())?;
        }
        cancel(calendar, clock, event_id)
    }

    pub(crate) fn free_busy(
        &mut self,
        email: &str,
        known_users: &[String],
        body: &Value,
    ) -> Result<Value, ApiError> {
        check_schema("FreeBusyRequest", body).map_err(ApiError::invalid)?;
        let instant = |key: &str| -> Result<DateTime<Utc>, ApiError> {
            let text = body.get(key).and_then(Value::as_str).ok_or_else(|| {
                ApiError::required(format!("Missing {key} parameter.")).at("parameter", key)
            })?;
            parse_instant(text)
                .ok_or_else(|| ApiError::new(400, "badRequest", "Bad Request").at("parameter", key))
        };
        let from = instant("timeMin")?;
        let to = instant("timeMax")?;
        if to <= from {
            return Err(ApiError::time_range_empty("timeMax"));
        }
        let out_tz = match body.get("timeZone").and_then(Value::as_str) {
            Some(name) => parse_zone(name).ok_or_else(|| {
                ApiError::invalid("Invalid time zone.").at("parameter", "timeZone")
            })?,
            None => Tz::UTC,
        };
        let limit = |key: &str, max: i64| -> Result<usize, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(max as usize),
                Some(v) => {
                    let n = v
                        .as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                    match n {
                        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
                        _ => Err(ApiError::invalid(format!(
                            "Invalid value for {key}: must be 1 to {max}."
                        ))
                        .at("parameter", key)),
                    }
                }
            }
        };
        let calendar_max = limit("calendarExpansionMax", 50)?;
        let group_max = limit("groupExpansionMax", 100)?;
        let ids: Vec<String> = body
            .get("items")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut groups = Map::new();
        let mut queue: Vec<String> = Vec::new();
        for id in ids {
            if let Some(members) = self.groups.get(&id.to_ascii_lowercase()) {
                if members.len() > group_max {
                    groups.insert(id, json!({"calendars": [], "errors": [{"domain": "global", "reason": "groupTooBig"}]}));
                } else {
                    groups.insert(id, json!({"calendars": members}));
                    queue.extend(members.iter().cloned());
                }
            } else {
                queue.push(id);
            }
        }
        let mut calendars = Map::new();
        let mut served = 0usize;
        for id in queue {
            if calendars.contains_key(&id) {
                continue;
            }
            if served >= calendar_max {
                calendars.insert(id, json!({"busy": [], "errors": [{"domain": "global", "reason": "tooManyCalendarsRequested"}]}));
                continue;
            }
            served += 1;
            let own = self.account(email).calendar(&id).is_some();
            let owner = if own {
                Some(email.to_string())
            } else {
                known_users
                    .iter()
                    .find(|u| u.eq_ignore_ascii_case(&id))
                    .cloned()
            };
            let busy = owner.and_then(|owner| {
                let lookup = if own { id.as_str() } else { "primary" };
                self.account(&owner);
                let account = self.accounts.get(&owner.to_ascii_lowercase())?;
                let calendar = account.calendar(lookup)?;
                Some(busy_periods(calendar, from, to))
            });
            let entry = match busy {
                Some(periods) => json!({"busy": periods
                    .iter()
                    .map(|(s, e)| json!({"start": format_in_zone(*s, out_tz), "end": format_in_zone(*e, out_tz)}))
                    .collect::<Vec<_>>()}),
                None => json!({"busy": [], "errors": [{"domain": "global", "reason": "notFound"}]}),
            };
            calendars.insert(id, entry);
        }
        let mut out = json!({
            "kind": "calendar#freeBusy",
            "timeMin": format_instant(from),
            "timeMax": format_instant(to),
            "calendars": calendars,
        });
        if !groups.is_empty() {
            out["groups"] = Value::Object(groups);
        }
        Ok(out)
    }
}

/// Cancels (deletes) an event or, for an instance id, stores a cancelled exception.
/// Deleting a series cancels its exceptions too.
fn cancel(calendar: &mut Calendar, clock: &mut Clock, event_id: &str) -> Result<(), ApiError> {
    if let Some(stored) = calendar.events.get(event_id) {
        if is_cancelled(&stored.body) {
            return Err(ApiError::new(410, "deleted", "Resource has been deleted"));
        }
        let master = is_master(&stored.body);
        let mut ids = vec![event_id.to_string()];
        if master {
            ids.extend(
                calendar
                    .events
                    .iter()
                    .filter(|(_, e)| {
                        text(&e.body, "recurringEventId") == Some(event_id)
                            && !is_cancelled(&e.body)
                    })
                    .map(|(id, _)| id.clone()),
            );
        }
        for id in ids {
            let tick = clock.tick();
            if let Some(e) = calendar.events.get_mut(&id) {
                e.body.insert("status".into(), json!("cancelled"));
                e.body.insert("etag".into(), json!(tick.etag));
                e.body.insert("updated".into(), json!(tick.now));
                e.seq = tick.seq;
                e.meet_pending = false;
            }
        }
        return Ok(());
    }
    let mut instance = calendar
        .find_instance(event_id)
        .ok_or_else(ApiError::not_found)?;
    let tick = clock.tick();
    instance.insert("status".into(), json!("cancelled"));
    instance.insert("etag".into(), json!(tick.etag));
    instance.insert("updated".into(), json!(tick.now));
    calendar.events.insert(
        event_id.to_string(),
        StoredEvent {
            body: instance,
            seq: tick.seq,
            meet_pending: false,
        },
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Control operations (seeding, edits "by another client", faults).

fn control(message: impl Into<String>) -> ControlError {
    ControlError(message.into())
}

/// The id of an exception: `<recurringEventId>_<original start suffix>`.
fn exception_id(event: &Map<String, Value>) -> Option<String> {
    let parent = text(event, "recurringEventId")?;
    let original = parse_slot(event.get("originalStartTime"), "original start").ok()?;
    let suffix = match original.when {
        When::Day(d) => d.format("%Y%m%d").to_string(),
        When::At(t) => t.format("%Y%m%dT%H%M%SZ").to_string(),
    };
    Some(format!("{parent}_{suffix}"))
}

impl GoogleStore {
    fn seed_calendar(&mut self, email: &str, spec: &Value) -> Result<Value, ControlError> {
        let mut spec = spec
            .as_object()
            .cloned()
            .ok_or_else(|| control("the calendar must be a JSON object"))?;
        let id = match spec.remove("id") {
            Some(Value::String(id)) if !id.is_empty() && id.len() <= 1024 => Some(id),
            None => None,
            Some(_) => return Err(control("id must be a non-empty string")),
        };
        check_schema("CalendarListEntry", &Value::Object(spec.clone())).map_err(ControlError)?;
        let mut cleaned = Value::Object(spec);
        strip_nulls(&mut cleaned);
        let mut spec = cleaned.as_object().cloned().unwrap_or_default();
        for key in ["kind", "etag"] {
            spec.remove(key);
        }
        if let Some(tz) = text(&spec, "timeZone") {
            if parse_zone(tz).is_none() {
                return Err(control(format!("unknown time zone {tz:?}")));
            }
        }
        self.account(email);
        let tick = self.clock.tick();
        let account = self
            .accounts
            .get_mut(&email.to_ascii_lowercase())
            .ok_or_else(|| control("no account"))?;
        let existing = account.calendars.iter_mut().find(|c| match &id {
            Some(id) => c.id.eq_ignore_ascii_case(id) || (id == "primary" && c.is_primary()),
            None => false,
        });
        let calendar = match existing {
            Some(calendar) => {
                let primary = calendar.is_primary();
                let mut entry = Value::Object(calendar.entry.clone());
                merge_patch(&mut entry, &Value::Object(spec));
                calendar.entry = entry.as_object().cloned().unwrap_or_default();
                if primary {
                    calendar.entry.insert("primary".into(), json!(true));
                } else {
                    calendar.entry.remove("primary");
                }
                calendar.etag = tick.etag.clone();
                calendar.seq = tick.seq;
                calendar
            }
            None => {
                let id = id.unwrap_or_else(|| {
                    format!("{}@group.calendar.google.com", random_base32hex(26))
                });
                let mut entry = json!({
                    "summary": id,
                    "timeZone": "UTC",
                    "colorId": "9",
                    "backgroundColor": "#7bd148",
                    "foregroundColor": "#000000",
                    "selected": true,
                    "accessRole": "owner",
                    "defaultReminders": [],
                    "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
                });
                spec.remove("primary");
                merge_patch(&mut entry, &Value::Object(spec));
                let entry = entry.as_object().cloned().unwrap_or_default();
                account.calendars.push(new_calendar(&id, entry, &tick));
                account
                    .calendars
                    .last_mut()
                    .ok_or_else(|| control("no calendar"))?
            }
        };
        Ok(calendar.render_entry())
    }

    fn seed_event(
        &mut self,
        email: &str,
        calendar_id: &str,
        event: &Value,
    ) -> Result<Value, ControlError> {
        check_schema("Event", event).map_err(ControlError)?;
        let mut value = event.clone();
        strip_nulls(&mut value);
        let mut body = value.as_object().cloned().unwrap_or_default();
        let (calendar, clock) = self
            .calendar(email, calendar_id)
            .map_err(|_| control(format!("{email} has no calendar {calendar_id:?}")))?;
        let tz = calendar.tz();
        let id = match text(&body, "id") {
            Some(id) if !id.is_empty() => id.to_string(),
            Some(_) => return Err(control("id must not be empty")),
            None => exception_id(&body).unwrap_or_else(|| random_base32hex(26)),
        };
        if !is_cancelled(&body) {
            parse_slot(body.get("start"), "start").map_err(|e| control(e.message.clone()))?;
            parse_slot(body.get("end"), "end").map_err(|e| control(e.message.clone()))?;
        }
        let lines = recurrence_lines(&body);
        if !lines.is_empty() {
            validate_recurrence(&lines).map_err(|e| control(e.message.clone()))?;
            expand(&body, tz, Window::default())
                .map_err(|e| control(format!("bad recurrence: {e}")))?;
        }
        let tick = clock.tick();
        let parent_uid = text(&body, "recurringEventId")
            .and_then(|p| calendar.events.get(p))
            .and_then(|p| text(&p.body, "iCalUID"))
            .map(str::to_string);
        let defaults = json!({
            "kind": "calendar#event",
            "status": "confirmed",
            "htmlLink": html_link(&id, &calendar.id),
            "created": tick.now,
            "updated": tick.now,
            "iCalUID": parent_uid.unwrap_or_else(|| format!("{id}@google.com")),
            "sequence": 0,
            "reminders": {"useDefault": true},
            "eventType": "default",
            "creator": {"email": email, "self": true},
            "organizer": calendar.organizer(email),
        });
        if let Some(defaults) = defaults.as_object() {
            for (k, v) in defaults {
                if !body.contains_key(k) {
                    body.insert(k.clone(), v.clone());
                }
            }
        }
        body.insert("id".into(), json!(id));
        body.insert("etag".into(), json!(tick.etag));
        calendar.events.insert(
            id,
            StoredEvent {
                body: body.clone(),
                seq: tick.seq,
                meet_pending: false,
            },
        );
        Ok(Value::Object(body))
    }

    fn edit_event(
        &mut self,
        email: &str,
        calendar_id: &str,
        event_id: &str,
        patch: &Value,
    ) -> Result<Value, ControlError> {
        check_schema("Event", patch).map_err(ControlError)?;
        let (calendar, clock) = self
            .calendar(email, calendar_id)
            .map_err(|_| control(format!("{email} has no calendar {calendar_id:?}")))?;
        let existing = match calendar.events.get(event_id) {
            Some(e) => e.body.clone(),
            None => calendar
                .find_instance(event_id)
                .ok_or_else(|| control(format!("no event {event_id:?}")))?,
        };
        let mut merged = Value::Object(existing.clone());
        merge_patch(&mut merged, patch);
        let mut body = merged.as_object().cloned().unwrap_or_default();
        if !is_cancelled(&body) {
            parse_slot(body.get("start"), "start").map_err(|e| control(e.message.clone()))?;
            parse_slot(body.get("end"), "end").map_err(|e| control(e.message.clone()))?;
        }
        let tick = clock.tick();
        let time_changed = ["start", "end", "recurrence"]
            .iter()
            .any(|k| existing.get(*k) != body.get(*k));
        if time_changed && patch.get("sequence").is_none() {
            body.insert(
                "sequence".into(),
                json!(sequence_of(&existing).unwrap_or(0) + 1),
            );
        }
        body.insert("kind".into(), json!("calendar#event"));
        body.insert("id".into(), json!(event_id));
        body.insert("etag".into(), json!(tick.etag));
        body.insert("updated".into(), json!(tick.now));
        calendar.events.insert(
            event_id.to_string(),
            StoredEvent {
                body: body.clone(),
                seq: tick.seq,
                meet_pending: false,
            },
        );
        Ok(Value::Object(body))
    }

    fn invalidate(
        &mut self,
        email: &str,
        calendar_id: Option<&str>,
    ) -> Result<usize, ControlError> {
        self.account(email);
        let account = self
            .accounts
            .get_mut(&email.to_ascii_lowercase())
            .ok_or_else(|| control("no account"))?;
        match calendar_id {
            Some(id) => {
                let calendar = account
                    .calendars
                    .iter_mut()
                    .find(|c| c.id.eq_ignore_ascii_case(id) || (id == "primary" && c.is_primary()))
                    .ok_or_else(|| control(format!("{email} has no calendar {id:?}")))?;
                calendar.epoch += 1;
                Ok(1)
            }
            None => {
                account.list_epoch += 1;
                for calendar in &mut account.calendars {
                    calendar.epoch += 1;
                }
                Ok(account.calendars.len() + 1)
            }
        }
    }

    fn set_faults(&mut self, update: GoogleFaultsUpdate) -> Result<GoogleFaults, ControlError> {
        for f in &update.add {
            if f.count > MAX_FAULT_COUNT {
                return Err(control(format!("count must be at most {MAX_FAULT_COUNT}")));
            }
            if let Some(route) = &f.route {
                if !ROUTES.contains(&route.as_str()) {
                    return Err(control(format!(
                        "unknown route {route:?}; one of {ROUTES:?}"
                    )));
                }
            }
            if f.status.is_some_and(|s| !(400..=599).contains(&s)) {
                return Err(control("status must be 400..=599"));
            }
            if let Some(reason) = &f.reason {
                if reason.is_empty()
                    || reason.len() > 64
                    || !reason.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(control("reason must be 1 to 64 letters or digits"));
                }
            }
            if f.message
                .as_ref()
                .is_some_and(|m| m.len() > 1024 || m.chars().any(char::is_control))
            {
                return Err(control(
                    "message must be at most 1024 characters without control characters",
                ));
            }
            match f.kind {
                GoogleFaultKind::Delay if f.ms.is_none_or(|ms| ms > MAX_DELAY_MS) => {
                    return Err(control(format!(
                        "a delay needs ms (at most {MAX_DELAY_MS})"
                    )));
                }
                _ => {}
            }
        }
        if let Some(limit) = &update.user_rate_limit {
            if limit.status.is_some_and(|s| s != 403 && s != 429) {
                return Err(control("user_rate_limit.status must be 403 or 429"));
            }
        }
        if update.clear {
            self.faults = GoogleFaults::default();
        }
        self.faults
            .pending
            .extend(update.add.into_iter().filter(|f| f.count > 0));
        if let Some(n) = update.page_size {
            self.faults.page_size = (n > 0).then_some(n);
        }
        if let Some(limit) = update.user_rate_limit {
            self.faults.user_rate_limit = (limit.requests_per_minute > 0).then_some(limit);
        }
        if let Some(l) = update.list_latency {
            self.faults.list_latency = l.checked(EVENTS_MAX_RESULTS).map_err(control)?;
        }
        Ok(self.faults.clone())
    }
}

fn google_user(state: &State, email: &str) -> Result<String, ControlError> {
    state
        .find_user(Provider::Google, email)
        .map(|u| u.email.clone())
        .ok_or_else(|| {
            control(format!(
                "no Google user {email:?} (seed one with POST /_control/users)"
            ))
        })
}

/// The Google Calendar control operations (`/_control/google/...` twins).
impl SharedState {
    /// Adds or updates a calendar in `email`'s calendar list. `spec` holds
    /// `CalendarListEntry` members (`id` optional: new secondary calendar; `"primary"` or
    /// the email: the primary one); `accessRole` defaults to `owner`, `timeZone` to `UTC`.
    /// `"deleted": true` removes it from the list (incremental calendar-list sync shows it).
    pub fn google_seed_calendar(&self, email: &str, spec: &Value) -> Result<Value, ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        state.google_calendar.seed_calendar(&email, spec)
    }

    /// Stores any `Event` JSON as is (read-only members included) on a calendar, filling
    /// in what is missing (`id`, `etag`, `status`, `created`, ...). An exception without
    /// an `id` gets `<recurringEventId>_<originalStartTime>`. Replaces an event with the
    /// same id. Shows up in incremental sync.
    pub fn google_seed_event(
        &self,
        email: &str,
        calendar_id: &str,
        event: &Value,
    ) -> Result<Value, ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        state.google_calendar.seed_event(&email, calendar_id, event)
    }

    /// Merge-patches an event (or an instance, which becomes an exception) as another
    /// client would: new `etag` and `updated`, visible in incremental sync.
    pub fn google_edit_event(
        &self,
        email: &str,
        calendar_id: &str,
        event_id: &str,
        patch: &Value,
    ) -> Result<Value, ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        state
            .google_calendar
            .edit_event(&email, calendar_id, event_id, patch)
    }

    /// Deletes an event (or one instance: a cancelled exception) as another client would.
    pub fn google_delete_event(
        &self,
        email: &str,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        let (calendar, clock) = state
            .google_calendar
            .calendar(&email, calendar_id)
            .map_err(|_| control(format!("{email} has no calendar {calendar_id:?}")))?;
        cancel(calendar, clock, event_id).map_err(|e| control(e.message.clone()))
    }

    /// Every stored event of a calendar, cancelled ones included (series masters and
    /// exceptions, not expanded instances).
    pub fn google_events(
        &self,
        email: &str,
        calendar_id: &str,
    ) -> Result<Vec<Value>, ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        let (calendar, _) = state
            .google_calendar
            .calendar(&email, calendar_id)
            .map_err(|_| control(format!("{email} has no calendar {calendar_id:?}")))?;
        Ok(calendar
            .events
            .values()
            .map(|e| Value::Object(e.body.clone()))
            .collect())
    }

    /// Invalidates the sync tokens of one calendar (or, without one, of every calendar
    /// and the calendar list): using them answers 410 `fullSyncRequired`.
    pub fn google_invalidate_sync_tokens(
        &self,
        email: &str,
        calendar_id: Option<&str>,
    ) -> Result<usize, ControlError> {
        let mut state = self.lock();
        let email = google_user(&state, email)?;
        state.google_calendar.invalidate(&email, calendar_id)
    }

    /// Defines a group for `freeBusy` (`groups` expansion): its id and member emails.
    pub fn google_set_group(&self, id: &str, members: Vec<String>) -> Result<(), ControlError> {
        if id.is_empty() || id.len() > 256 || members.len() > 1000 {
            return Err(control(
                "a group needs an id (≤ 256 characters) and at most 1000 members",
            ));
        }
        self.lock()
            .google_calendar
            .groups
            .insert(id.to_ascii_lowercase(), members);
        Ok(())
    }

    pub fn google_set_faults(
        &self,
        update: GoogleFaultsUpdate,
    ) -> Result<GoogleFaults, ControlError> {
        self.lock().google_calendar.set_faults(update)
    }

    pub fn google_faults(&self) -> GoogleFaults {
        self.lock().google_calendar.faults.clone()
    }

    pub fn google_calendar_stats(&self) -> GoogleCalendarStats {
        self.lock().google_calendar.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_subset_parses_and_checks() {
        assert!(schema_set().schemas.contains_key("Event"));
        assert!(check_schema(
            "Event",
            &json!({"summary": "x", "start": {"date": "2025-01-01"}})
        )
        .is_ok());
        assert!(check_schema("Event", &json!({"bogus": 1})).is_err());
        assert!(check_schema("Event", &json!({"status": "gone"})).is_err());
        assert!(check_schema(
            "Event",
            &json!({"extendedProperties": {"private": {"a": "b"}}})
        )
        .is_ok());
        assert!(check_schema(
            "Event",
            &json!({"extendedProperties": {"private": {"a": 1}}})
        )
        .is_err());
        assert!(check_schema(
            "Event",
            &json!({"reminders": {"overrides": [{"method": "sms"}]}})
        )
        .is_err());
    }

    #[test]
    fn ids() {
        assert!(valid_event_id("abcde"));
        assert!(valid_event_id("0123456789abcdefghijklmnopqrstuv"));
        assert!(!valid_event_id("abcd"));
        assert!(!valid_event_id("abcdw"));
        assert!(!valid_event_id("ABCDE"));
        assert!(!valid_event_id("abc-de"));
        assert!(valid_event_id(&random_base32hex(26)));
    }

    #[test]
    fn weekly_expansion_in_a_zone() {
        let master = json!({
            "id": "series1",
            "start": {"dateTime": "2025-03-24T09:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2025-03-24T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20250331T090000"],
        });
        let master = master.as_object().cloned().unwrap_or_default();
        let out = expand(&master, Tz::UTC, Window::default()).unwrap_or_default();
        let suffixes: Vec<&str> = out.iter().map(|o| o.suffix.as_str()).collect();
        // 31 March is excluded; 7 April is after the DST change (UTC+2).
        assert_eq!(suffixes, ["20250324T080000Z", "20250407T070000Z"]);
        assert_eq!(out[1].start["dateTime"], "2025-04-07T09:00:00+02:00");
    }

    #[test]
    fn all_day_expansion_and_until() {
        let master = json!({
            "id": "birthday1",
            "start": {"date": "2025-01-30"},
            "end": {"date": "2025-01-31"},
            "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20250201"],
        });
        let master = master.as_object().cloned().unwrap_or_default();
        let out = expand(&master, Tz::UTC, Window::default()).unwrap_or_default();
        let suffixes: Vec<&str> = out.iter().map(|o| o.suffix.as_str()).collect();
        assert_eq!(suffixes, ["20250130", "20250131", "20250201"]);
        assert_eq!(out[2].end["date"], "2025-02-02");
    }
}
