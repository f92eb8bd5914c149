//! Google Calendar API v3 under `/calendar/v3` (Bearer access tokens from the fake's
//! Google token endpoint; the user is the token's user), and its control routes under
//! `/_control/google/`. The data and the rules live in [`crate::google_store`]; this
//! module parses requests, applies injected faults and renders Google's error shape:
//! `{"error":{"errors":[{"domain","reason","message",...}],"code","message","status"}}`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::google_store::{
    parse_instant, ApiError, CalendarListQuery, EventsQuery, GoogleFaultKind, GoogleFaultsUpdate,
    Writer, CALENDAR_LIST_DEFAULT_RESULTS, CALENDAR_LIST_MAX_RESULTS, EVENTS_DEFAULT_RESULTS,
    EVENTS_MAX_RESULTS,
};
use crate::state::{ControlError, Provider, SharedState};
use crate::{util, DropConnection};

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/calendar/v3/users/me/calendarList", get(calendar_list))
        .route(
            "/calendar/v3/users/me/calendarList/{calendar_id}",
            get(calendar_list_get),
        )
        .route(
            "/calendar/v3/calendars/{calendar_id}/events",
            get(events_list).post(events_insert),
        )
        .route(
            "/calendar/v3/calendars/{calendar_id}/events/{event_id}",
            get(events_get)
                .put(events_update)
                .patch(events_patch)
                .delete(events_delete),
        )
        .route(
            "/calendar/v3/calendars/{calendar_id}/events/{event_id}/instances",
            get(events_instances),
        )
        .route("/calendar/v3/freeBusy", post(freebusy))
        .route("/_control/google/calendars", post(control_seed_calendar))
        .route(
            "/_control/google/events",
            post(control_seed_event).get(control_events),
        )
        .route("/_control/google/events/patch", post(control_edit_event))
        .route("/_control/google/events/delete", post(control_delete_event))
        .route(
            "/_control/google/invalidate_sync_tokens",
            post(control_invalidate),
        )
        .route(
            "/_control/google/faults",
            post(control_set_faults).get(control_faults),
        )
        .route("/_control/google/groups", post(control_group))
        .route("/_control/google/stats", get(control_stats))
        .route("/_control/google/access_token", post(control_access_token))
}

// ---------------------------------------------------------------------------------------
// Responses.

fn grpc_status(code: u16) -> Option<&'static str> {
    Some(match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        _ => return None,
    })
}

/// An error in Google's shape, with `Retry-After` when the error carries one.
pub(crate) fn error_response(e: &ApiError) -> Response {
    let mut item = json!({"domain": e.domain, "reason": e.reason, "message": e.message});
    if let Some((location_type, location)) = &e.location {
        item["locationType"] = json!(location_type);
        item["location"] = json!(location);
    }
    let mut body = json!({"error": {"errors": [item], "code": e.status, "message": e.message}});
    if let Some(status) = grpc_status(e.status) {
        body["error"]["status"] = json!(status);
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = e.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn unauthenticated() -> Response {
    let body = json!({"error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access \
                    token, login cookie or other valid authentication credential. See \
                    https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "errors": [{
            "message": "Invalid Credentials",
            "domain": "global",
            "reason": "authError",
            "location": "Authorization",
            "locationType": "header",
        }],
        "status": "UNAUTHENTICATED",
    }});
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
        ),
    );
    response
}

/// What a captive portal answers instead of the API: 200 with an HTML page.
fn captive_portal() -> Response {
    let mut response = (
        StatusCode::OK,
        "<!DOCTYPE html>\n<html><head><title>Sign in to the network</title></head>\
         <body><h1>Welcome to Airport Wi-Fi</h1><p>Please accept the terms of use to \
         continue.</p><form method=\"post\" action=\"/portal/accept\"><button>Accept\
         </button></form></body></html>\n",
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn dropped() -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(DropConnection);
    response
}

fn json_result(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => error_response(&e),
    }
}

// ---------------------------------------------------------------------------------------
// The common prologue: statistics, faults, authentication, rate limit.

struct Caller {
    email: String,
    client_id: String,
    /// A `drop_connection` fault fired: answer nothing once the request took effect.
    drop_after: bool,
}

impl Caller {
    fn finish(&self, mut response: Response) -> Response {
        if self.drop_after {
            response.extensions_mut().insert(DropConnection);
        }
        response
    }
}

async fn begin(
    shared: &SharedState,
    route: &'static str,
    headers: &HeaderMap,
) -> Result<Caller, Response> {
    let (auth, fault) = {
        let mut state = shared.lock();
        let auth = util::bearer_token(headers).and_then(|token| {
            state
                .valid_access_token(&token)
                .filter(|(grant, _)| grant.provider == Provider::Google)
                .map(|(grant, user)| (user.email.clone(), grant.client_id.clone()))
        });
        let user = auth.as_ref().map(|(email, _)| email.as_str());
        let store = &mut state.google_calendar;
        store.count_request(route, user);
        let fault = store.take_fault(route, user);
        (auth, fault)
    };
    let mut drop_after = false;
    if let Some(fault) = fault {
        match fault.kind {
            GoogleFaultKind::Error => return Err(error_response(&fault.api_error())),
            GoogleFaultKind::CaptivePortal => return Err(captive_portal()),
            GoogleFaultKind::Delay => {
                tokio::time::sleep(Duration::from_millis(fault.ms.unwrap_or(0))).await;
            }
            GoogleFaultKind::DropConnection => {
                if fault.processed == Some(false) {
                    return Err(dropped());
                }
                drop_after = true;
            }
            GoogleFaultKind::EmptyPages | GoogleFaultKind::MalformedEvent => {}
        }
    }
    let Some((email, client_id)) = auth else {
        shared.lock().google_calendar.count_unauthenticated();
        return Err(unauthenticated());
    };
    if let Some(e) = shared.lock().google_calendar.check_rate_limit(&email) {
        return Err(error_response(&e));
    }
    Ok(Caller {
        email,
        client_id,
        drop_after,
    })
}

// ---------------------------------------------------------------------------------------
// Query strings and bodies.

/// Parameters every Google API accepts.
const STANDARD_PARAMS: &[&str] = &[
    "alt",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "userIp",
    "access_token",
    "callback",
    "upload_protocol",
    "uploadType",
    "$.xgafv",
];

const LIST_PARAMS: &[&str] = &[
    "alwaysIncludeEmail",
    "eventTypes",
    "iCalUID",
    "maxAttendees",
    "maxResults",
    "orderBy",
    "pageToken",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "showDeleted",
    "showHiddenInvitations",
    "singleEvents",
    "syncToken",
    "timeMax",
    "timeMin",
    "timeZone",
    "updatedMin",
];
const GET_PARAMS: &[&str] = &["alwaysIncludeEmail", "maxAttendees", "timeZone"];
const INSERT_PARAMS: &[&str] = &[
    "conferenceDataVersion",
    "eventLabelVersion",
    "maxAttendees",
    "sendNotifications",
    "sendUpdates",
    "supportsAttachments",
];
const WRITE_PARAMS: &[&str] = &[
    "alwaysIncludeEmail",
    "conferenceDataVersion",
    "eventLabelVersion",
    "maxAttendees",
    "sendNotifications",
    "sendUpdates",
    "supportsAttachments",
];
const DELETE_PARAMS: &[&str] = &["sendNotifications", "sendUpdates"];
const INSTANCES_PARAMS: &[&str] = &[
    "alwaysIncludeEmail",
    "maxAttendees",
    "maxResults",
    "originalStart",
    "pageToken",
    "showDeleted",
    "timeMax",
    "timeMin",
    "timeZone",
];
const CALENDAR_LIST_PARAMS: &[&str] = &[
    "maxResults",
    "minAccessRole",
    "pageToken",
    "showDeleted",
    "showHidden",
    "showOwnOrganizationOnly",
    "syncToken",
];

struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        for (key, value) in &pairs {
            if !allowed.contains(&key.as_str()) && !STANDARD_PARAMS.contains(&key.as_str()) {
                return Err(ApiError::invalid(format!(
                    "Invalid JSON payload received. Unknown name \"{key}\": Cannot bind query \
                     parameter. Field '{key}' could not be found in request message."
                )));
            }
            if key == "alt" && value != "json" {
                return Err(
                    ApiError::invalid("This fake answers alt=json only.").at("parameter", "alt")
                );
            }
        }
        Ok(Query { pairs })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => {
                Err(ApiError::invalid(format!("Invalid boolean value: '{v}'."))
                    .at("parameter", key))
            }
        }
    }

    fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::invalid(format!("Invalid integer value: '{v}'.")).at("parameter", key)
            }),
        }
    }

    fn time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_instant(v).map(Some).ok_or_else(|| {
                ApiError::new(400, "badRequest", "Bad Request").at("parameter", key)
            }),
        }
    }

    /// The parameters that must stay the same from page to page.
    fn fingerprint(&self) -> String {
        let mut pairs: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| {
                k != "pageToken" && k != "maxResults" && !STANDARD_PARAMS.contains(&k.as_str())
            })
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.sort();
        pairs.join("&")
    }

    fn max_results(
        &self,
        default: usize,
        max: usize,
        cap: Option<usize>,
    ) -> Result<usize, ApiError> {
        let n = match self.int("maxResults")? {
            None => default,
            Some(n) if n < 1 => {
                return Err(
                    ApiError::invalid("Invalid value for maxResults: must be at least 1.")
                        .at("parameter", "maxResults"),
                )
            }
            Some(n) => usize::try_from(n).unwrap_or(max).min(max),
        };
        Ok(cap.map_or(n, |c| n.min(c)))
    }

    fn conference_v1(&self) -> Result<bool, ApiError> {
        match self.int("conferenceDataVersion")? {
            None | Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(_) => Err(ApiError::invalid("conferenceDataVersion must be 0 or 1.")
                .at("parameter", "conferenceDataVersion")),
        }
    }
}

fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            400,
            "parseError",
            format!("Invalid JSON payload received. {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            400,
            "parseError",
            "Invalid JSON payload received. Expected an object.",
        ));
    }
    Ok(value)
}

async fn read_json(shared: &SharedState, route: &str, body: Body) -> Result<Value, ApiError> {
    let bytes = util::read_body(body)
        .await
        .map_err(|()| ApiError::new(413, "uploadTooLarge", "Request body too large."))?;
    shared.record_body(Provider::Google, route, &bytes);
    parse_body(&bytes)
}

fn events_query(q: &Query, cap: Option<usize>, force_empty: bool) -> Result<EventsQuery, ApiError> {
    if q.get("syncToken").is_some() {
        for p in [
            "iCalUID",
            "orderBy",
            "privateExtendedProperty",
            "q",
            "sharedExtendedProperty",
            "timeMin",
            "timeMax",
            "updatedMin",
        ] {
            if q.get(p).is_some() {
                return Err(ApiError::invalid(format!(
                    "The '{p}' parameter cannot be used together with syncToken."
                ))
                .at("parameter", p));
            }
        }
        if q.bool("showDeleted")? == Some(false) {
            return Err(ApiError::invalid(
                "showDeleted=false cannot be used together with syncToken: deleted events are \
                 always included.",
            )
            .at("parameter", "showDeleted"));
        }
    }
    let single_events = q.bool("singleEvents")?.unwrap_or(false);
    let time_min = q.time("timeMin")?;
    let time_max = q.time("timeMax")?;
    if let (Some(min), Some(max)) = (time_min, time_max) {
        if min >= max {
            return Err(
                ApiError::new(400, "timeRangeEmpty", "The specified time range is empty.")
                    .at("parameter", "timeMax"),
            );
        }
    }
    let order_by = q.get("orderBy").map(str::to_string);
    match order_by.as_deref() {
        None | Some("updated") => {}
        Some("startTime") if single_events => {}
        Some("startTime") => {
            return Err(ApiError::invalid(
                "The requested ordering is not available for the particular query.",
            )
            .at("parameter", "orderBy"))
        }
        Some(other) => {
            return Err(
                ApiError::invalid(format!("Invalid value for orderBy: '{other}'."))
                    .at("parameter", "orderBy"),
            )
        }
    }
    let ext = |key: &str| -> Result<Vec<(String, String)>, ApiError> {
        q.all(key)
            .into_iter()
            .map(|v| {
                v.split_once('=')
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .ok_or_else(|| {
                        ApiError::invalid(format!("Invalid {key} value: '{v}'."))
                            .at("parameter", key)
                    })
            })
            .collect()
    };
    let event_types: Vec<String> = q
        .all("eventTypes")
        .into_iter()
        .map(str::to_string)
        .collect();
    for t in &event_types {
        if ![
            "birthday",
            "default",
            "focusTime",
            "fromGmail",
            "outOfOffice",
            "workingLocation",
        ]
        .contains(&t.as_str())
        {
            return Err(
                ApiError::invalid(format!("Invalid value for eventTypes: '{t}'."))
                    .at("parameter", "eventTypes"),
            );
        }
    }
    Ok(EventsQuery {
        max_results: q.max_results(EVENTS_DEFAULT_RESULTS, EVENTS_MAX_RESULTS, cap)?,
        page_token: q.get("pageToken").map(str::to_string),
        sync_token: q.get("syncToken").map(str::to_string),
        single_events,
        show_deleted: q.bool("showDeleted")?.unwrap_or(false),
        time_min,
        time_max,
        updated_min: q.time("updatedMin")?,
        q: q.get("q").map(str::to_string),
        ical_uid: q.get("iCalUID").map(str::to_string),
        order_by,
        private_ext: ext("privateExtendedProperty")?,
        shared_ext: ext("sharedExtendedProperty")?,
        event_types,
        fingerprint: q.fingerprint(),
        force_empty,
    })
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

// ---------------------------------------------------------------------------------------
// API handlers.

async fn calendar_list(
    State(shared): State<SharedState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    const ROUTE: &str = "calendarList.list";
    let caller = match begin(&shared, ROUTE, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = (|| {
        let q = Query::parse(raw.as_deref(), CALENDAR_LIST_PARAMS)?;
        if q.get("syncToken").is_some() {
            for p in ["minAccessRole", "showOwnOrganizationOnly"] {
                if q.get(p).is_some() {
                    return Err(ApiError::invalid(format!(
                        "The '{p}' parameter cannot be used together with syncToken."
                    ))
                    .at("parameter", p));
                }
            }
            for p in ["showDeleted", "showHidden"] {
                if q.bool(p)? == Some(false) {
                    return Err(ApiError::invalid(format!(
                        "{p}=false cannot be used together with syncToken."
                    ))
                    .at("parameter", p));
                }
            }
        }
        let min_access_role = q.get("minAccessRole").map(str::to_string);
        if let Some(role) = &min_access_role {
            if ![
                "freeBusyReader",
                "reader",
                "writerWithoutPrivateAccess",
                "writer",
                "owner",
            ]
            .contains(&role.as_str())
            {
                return Err(ApiError::invalid(format!(
                    "Invalid value for minAccessRole: '{role}'."
                ))
                .at("parameter", "minAccessRole"));
            }
        }
        let mut state = shared.lock();
        let store = &mut state.google_calendar;
        let cap = store.page_cap();
        let query = CalendarListQuery {
            max_results: q.max_results(
                CALENDAR_LIST_DEFAULT_RESULTS,
                CALENDAR_LIST_MAX_RESULTS,
                cap,
            )?,
            page_token: q.get("pageToken").map(str::to_string),
            sync_token: q.get("syncToken").map(str::to_string),
            show_deleted: q.bool("showDeleted")?.unwrap_or(false),
            show_hidden: q.bool("showHidden")?.unwrap_or(false),
            min_access_role,
            fingerprint: q.fingerprint(),
            force_empty: store.take_empty_page(ROUTE, &caller.email),
        };
        store.calendar_list(&caller.email, &query)
    })();
    caller.finish(json_result(result))
}

async fn calendar_list_get(
    State(shared): State<SharedState>,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match begin(&shared, "calendarList.get", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = Query::parse(raw.as_deref(), &[]).and_then(|_| {
        shared
            .lock()
            .google_calendar
            .calendar_list_entry(&caller.email, &calendar_id)
    });
    caller.finish(json_result(result))
}

async fn events_list(
    State(shared): State<SharedState>,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    const ROUTE: &str = "events.list";
    let caller = match begin(&shared, ROUTE, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = (|| {
        let q = Query::parse(raw.as_deref(), LIST_PARAMS)?;
        let mut state = shared.lock();
        let store = &mut state.google_calendar;
        let cap = store.page_cap();
        let query = events_query(&q, cap, false)?;
        let query = EventsQuery {
            force_empty: store.take_empty_page(ROUTE, &caller.email),
            ..query
        };
        let mut page = store.list_events(&caller.email, &calendar_id, &query)?;
        if store.take_malformed_event(ROUTE, &caller.email) {
            if let Some(first) = page["items"].get_mut(0) {
                malform(first);
            }
        }
        Ok((page, store.list_latency()))
    })();
    let result = match result {
        Ok((page, Some(latency))) => {
            let items = page["items"].as_array().map_or(0, Vec::len);
            tokio::time::sleep(latency.of(items)).await;
            Ok(page)
        }
        Ok((page, None)) => Ok(page),
        Err(e) => Err(e),
    };
    caller.finish(json_result(result))
}

async fn events_get(
    State(shared): State<SharedState>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match begin(&shared, "events.get", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = Query::parse(raw.as_deref(), GET_PARAMS).and_then(|_| {
        let mut state = shared.lock();
        let store = &mut state.google_calendar;
        let mut event = store.get_event(&caller.email, &calendar_id, &event_id)?;
        if store.take_malformed_event("events.get", &caller.email) {
            malform(&mut event);
        }
        Ok(event)
    });
    caller.finish(json_result(result))
}

/// The `malformed_event` fault: what Google's own schema forbids (a reminder at
/// 10.5 minutes).
fn malform(event: &mut Value) {
    event["reminders"] = serde_json::json!({
        "useDefault": false,
        "overrides": [{"method": "popup", "minutes": 10.5}]
    });
}

async fn events_instances(
    State(shared): State<SharedState>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match begin(&shared, "events.instances", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = (|| {
        let q = Query::parse(raw.as_deref(), INSTANCES_PARAMS)?;
        let time_min = q.time("timeMin")?;
        let time_max = q.time("timeMax")?;
        let query = EventsQuery {
            time_min,
            time_max,
            show_deleted: q.bool("showDeleted")?.unwrap_or(false),
            single_events: true,
            fingerprint: q.fingerprint(),
            ..EventsQuery::default()
        };
        shared
            .lock()
            .google_calendar
            .instances(&caller.email, &calendar_id, &event_id, &query)
    })();
    caller.finish(json_result(result))
}

async fn events_insert(
    State(shared): State<SharedState>,
    Path(calendar_id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    let caller = match begin(&shared, "events.insert", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body = read_json(&shared, "events.insert", body).await;
    let result = (|| {
        let q = Query::parse(raw.as_deref(), INSERT_PARAMS)?;
        let conference_v1 = q.conference_v1()?;
        let mut state = shared.lock();
        let store = &mut state.google_calendar;
        store.count_write(conference_v1);
        let body = body?;
        let writer = Writer {
            email: caller.email.clone(),
            conference_v1,
            if_match: None,
        };
        let result = store.insert_event(&writer, &calendar_id, &body);
        if result.is_ok() {
            store.count_insert(&caller.client_id);
        }
        result
    })();
    caller.finish(json_result(result))
}

async fn write(
    shared: SharedState,
    route: &'static str,
    ids: (String, String),
    headers: HeaderMap,
    raw: Option<String>,
    body: Body,
) -> Response {
    let caller = match begin(&shared, route, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body = read_json(&shared, route, body).await;
    let (calendar_id, event_id) = ids;
    let result = (|| {
        let q = Query::parse(raw.as_deref(), WRITE_PARAMS)?;
        let conference_v1 = q.conference_v1()?;
        let mut state = shared.lock();
        let store = &mut state.google_calendar;
        store.count_write(conference_v1);
        let body = body?;
        let writer = Writer {
            email: caller.email.clone(),
            conference_v1,
            if_match: if_match(&headers),
        };
        store.write_event(
            &writer,
            &calendar_id,
            &event_id,
            &body,
            route == "events.patch",
        )
    })();
    caller.finish(json_result(result))
}

async fn events_update(
    State(shared): State<SharedState>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    write(shared, "events.update", ids, headers, raw, body).await
}

async fn events_patch(
    State(shared): State<SharedState>,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    write(shared, "events.patch", ids, headers, raw, body).await
}

async fn events_delete(
    State(shared): State<SharedState>,
    Path((calendar_id, event_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match begin(&shared, "events.delete", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = Query::parse(raw.as_deref(), DELETE_PARAMS).and_then(|_| {
        let writer = Writer {
            email: caller.email.clone(),
            conference_v1: false,
            if_match: if_match(&headers),
        };
        shared
            .lock()
            .google_calendar
            .delete_event(&writer, &calendar_id, &event_id)
    });
    let response = match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    };
    caller.finish(response)
}

async fn freebusy(
    State(shared): State<SharedState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Body,
) -> Response {
    let caller = match begin(&shared, "freebusy.query", &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body = read_json(&shared, "freebusy.query", body).await;
    let result = (|| {
        Query::parse(raw.as_deref(), &[])?;
        let body = body?;
        let mut state = shared.lock();
        let users: Vec<String> = state
            .users
            .iter()
            .filter(|u| u.provider == Provider::Google)
            .map(|u| u.email.clone())
            .collect();
        state
            .google_calendar
            .free_busy(&caller.email, &users, &body)
    })();
    caller.finish(json_result(result))
}

// ---------------------------------------------------------------------------------------
// Control handlers (`/_control/google/...`).

fn control_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": message})),
    )
        .into_response()
}

async fn control_parse<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = util::read_body(body).await.map_err(|()| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"error": "invalid_request", "error_description": "body too large"})),
        )
            .into_response()
    })?;
    serde_json::from_slice(&bytes).map_err(|e| control_error(&e.to_string()))
}

fn control_answer<T: serde::Serialize>(result: Result<T, ControlError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => control_error(&e.0),
    }
}

fn primary() -> String {
    "primary".to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedCalendar {
    user: String,
    calendar: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SeedEvent {
    user: String,
    #[serde(default = "primary")]
    calendar_id: String,
    event: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EditEvent {
    user: String,
    #[serde(default = "primary")]
    calendar_id: String,
    event_id: String,
    patch: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeleteEvent {
    user: String,
    #[serde(default = "primary")]
    calendar_id: String,
    event_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Invalidate {
    user: String,
    #[serde(default)]
    calendar_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    id: String,
    members: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintToken {
    email: String,
    #[serde(default)]
    client_id: Option<String>,
}

async fn control_seed_calendar(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<SeedCalendar>(body).await {
        Ok(s) => control_answer(shared.google_seed_calendar(&s.user, &s.calendar)),
        Err(r) => r,
    }
}

async fn control_seed_event(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<SeedEvent>(body).await {
        Ok(s) => control_answer(shared.google_seed_event(&s.user, &s.calendar_id, &s.event)),
        Err(r) => r,
    }
}

async fn control_events(State(shared): State<SharedState>, RawQuery(raw): RawQuery) -> Response {
    let params = match util::parse_form(raw.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return control_error(&e),
    };
    let Some(user) = params.get("user") else {
        return control_error("user is required");
    };
    let calendar_id = params.get("calendarId").map_or("primary", String::as_str);
    control_answer(shared.google_events(user, calendar_id))
}

async fn control_edit_event(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<EditEvent>(body).await {
        Ok(e) => {
            control_answer(shared.google_edit_event(&e.user, &e.calendar_id, &e.event_id, &e.patch))
        }
        Err(r) => r,
    }
}

async fn control_delete_event(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<DeleteEvent>(body).await {
        Ok(d) => control_answer(
            shared
                .google_delete_event(&d.user, &d.calendar_id, &d.event_id)
                .map(|()| json!({})),
        ),
        Err(r) => r,
    }
}

async fn control_invalidate(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<Invalidate>(body).await {
        Ok(i) => control_answer(
            shared
                .google_invalidate_sync_tokens(&i.user, i.calendar_id.as_deref())
                .map(|n| json!({"invalidated": n})),
        ),
        Err(r) => r,
    }
}

async fn control_set_faults(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<GoogleFaultsUpdate>(body).await {
        Ok(update) => control_answer(shared.google_set_faults(update)),
        Err(r) => r,
    }
}

async fn control_faults(State(shared): State<SharedState>) -> Response {
    Json(shared.google_faults()).into_response()
}

async fn control_group(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<Group>(body).await {
        Ok(g) => control_answer(
            shared
                .google_set_group(&g.id, g.members)
                .map(|()| json!({})),
        ),
        Err(r) => r,
    }
}

async fn control_stats(State(shared): State<SharedState>) -> Response {
    Json(shared.google_calendar_stats()).into_response()
}

async fn control_access_token(State(shared): State<SharedState>, body: Body) -> Response {
    match control_parse::<MintToken>(body).await {
        Ok(m) => {
            let result = match &m.client_id {
                Some(client) => shared.mint_access_token_for(Provider::Google, &m.email, client),
                None => shared.mint_access_token(Provider::Google, &m.email),
            };
            control_answer(
                result.map(|token| json!({"access_token": token, "token_type": "Bearer"})),
            )
        }
        Err(r) => r,
    }
}
