//! Microsoft Graph v1.0 calendar endpoints: calendars (own and shared), events CRUD with
//! etags and `transactionId`, recurrence (instances, exceptions, cancellations),
//! `calendarView` and its `delta`, `$batch`, `getSchedule`, `findMeetingTimes`; plus
//! throttling, the per-mailbox concurrency limit and injectable faults. The data model
//! is [`crate::graph_store`]; the control routes live under `/_control/graph/`.
//!
//! One dispatcher serves `/v1.0/me/...` and `/v1.0/users/{owner}/...`: it matches the
//! path itself (Graph-style 400 for unknown segments), authenticates the bearer token
//! (the token's user is the mailbox), applies faults and the concurrency limit, and runs
//! the operation under the state lock.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::graph::graph_error;
use crate::graph_store::{
    access_denied, format_local, gerr, local_to_utc, not_found, parse_date_time,
    parse_query_instant, resolve_zone, utc_to_local, validate_body, Access, DeltaResetMode, GErr,
    GraphCalendarSpec, GraphEventDelete, GraphEventEdit, GraphEventSeed, GraphFaultKind,
    GraphFaultsUpdate, GraphPersonalSpec, GraphShareSpec, GraphStore, ItemRef, Mailbox, Prefs,
    DEFAULT_PAGE, MAILBOX_CONCURRENCY, MAX_PAGE,
};
use crate::state::{Provider, SharedState, State as FakeState};
use crate::{util, DropConnection};

const ODATA_JSON: &str =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";
const MAX_BATCH: usize = 20;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/v1.0/me/{*rest}", any(dispatch))
        .route("/v1.0/users/{*rest}", any(dispatch))
        .route("/v1.0/$batch", any(batch))
        .route("/_control/graph/calendars", post(control_add_calendar))
        .route(
            "/_control/graph/events",
            post(control_seed_event).get(control_events),
        )
        .route("/_control/graph/events/edit", post(control_edit_event))
        .route("/_control/graph/events/delete", post(control_delete_event))
        .route("/_control/graph/share", post(control_share))
        .route("/_control/graph/personal", post(control_personal))
        .route(
            "/_control/graph/faults",
            post(control_set_faults).get(control_faults),
        )
        .route("/_control/graph/stats", get(control_stats))
}

// ---------------------------------------------------------------------------------------
// Responses.

fn error_response(e: &GErr) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    graph_error(status, &e.code, &e.message)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
    response
}

// ---------------------------------------------------------------------------------------
// Request parsing: path, query, Prefer.

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes query pairs as Graph writes its links: `$` and `:` stay literal.
fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .replace("%24", "$")
        .replace("%3A", ":")
}

fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Parses every `Prefer` header. Returns the preferences and the `Preference-Applied`
/// values for the ones honoured (maxpagesize separately: only lists apply it).
fn parse_prefs(headers: &HeaderMap) -> (Prefs, Vec<String>) {
    let mut prefs = Prefs::default();
    let mut applied = Vec::new();
    for value in headers.get_all("prefer") {
        let Ok(value) = value.to_str() else { continue };
        for part in value.split(',') {
            let Some((key, val)) = part.trim().split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let val = val.trim().trim_matches('"');
            match key.as_str() {
                "outlook.timezone" => {
                    if let Some(tz) = resolve_zone(val) {
                        prefs.zone = Some((val.to_string(), tz));
                        applied.push(format!("outlook.timezone=\"{val}\""));
                    }
                }
                "outlook.body-content-type" => {
                    if val.eq_ignore_ascii_case("text") {
                        prefs.text_body = true;
                        applied.push("outlook.body-content-type=\"text\"".to_string());
                    } else if val.eq_ignore_ascii_case("html") {
                        applied.push("outlook.body-content-type=\"html\"".to_string());
                    }
                }
                "idtype" => prefs.immutable = val.eq_ignore_ascii_case("ImmutableId"),
                "odata.maxpagesize" => prefs.max_page_size = val.parse().ok().filter(|n| *n > 0),
                _ => {}
            }
        }
    }
    (prefs, applied)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CalRef {
    Default,
    Id(String),
}

#[derive(Debug, Clone)]
enum Op {
    ListCalendars,
    GetCalendar(CalRef),
    ListEvents(Option<CalRef>),
    CreateEvent(Option<CalRef>),
    GetEvent(Option<CalRef>, String),
    PatchEvent(Option<CalRef>, String),
    DeleteEvent(Option<CalRef>, String),
    Instances(String),
    CalendarView(Option<CalRef>),
    Delta(Option<CalRef>),
    GetSchedule,
    FindMeetingTimes,
}

#[derive(Debug, Clone)]
struct Route {
    /// `None` = `/me`; else the `/users/{owner}` segment.
    owner: Option<String>,
    op: Op,
    template: String,
}

fn segment_error(segment: &str) -> GErr {
    gerr(
        400,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
}

fn method_error() -> GErr {
    gerr(
        405,
        "BadRequest",
        "Specified HTTP method is not allowed for the request target.",
    )
}

/// Matches `/me/...` or `/users/{owner}/...` (segments already split, decoded).
fn match_route(method: &Method, segments: &[String]) -> Result<Route, GErr> {
    let (owner, rest, mut template) = match segments.first().map(String::as_str) {
        Some("me") => (None, &segments[1..], "/me".to_string()),
        Some("users") if segments.len() >= 2 => (
            Some(segments[1].clone()),
            &segments[2..],
            "/users/{owner}".to_string(),
        ),
        Some(other) => return Err(segment_error(other)),
        None => return Err(segment_error("")),
    };
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    // A calendar prefix: `calendar` or `calendars/{id}`.
    let (cal, tail): (Option<CalRef>, &[&str]) = match rest.as_slice() {
        ["calendar", tail @ ..] => {
            template.push_str("/calendar");
            (Some(CalRef::Default), tail)
        }
        ["calendars", id, tail @ ..] => {
            template.push_str("/calendars/{id}");
            (Some(CalRef::Id((*id).to_string())), tail)
        }
        _ => (None, rest.as_slice()),
    };
    let get = method == Method::GET;
    let post = method == Method::POST;
    let op = match (cal.clone(), tail) {
        (None, ["calendars"]) if get => {
            template.push_str("/calendars");
            Op::ListCalendars
        }
        (Some(c), []) if get => Op::GetCalendar(c),
        (c, ["events"]) if get => {
            template.push_str("/events");
            Op::ListEvents(c)
        }
        (c, ["events"]) if post => {
            template.push_str("/events");
            Op::CreateEvent(c)
        }
        (c, ["events", id]) => {
            template.push_str("/events/{id}");
            match *method {
                Method::GET => Op::GetEvent(c, (*id).to_string()),
                Method::PATCH => Op::PatchEvent(c, (*id).to_string()),
                Method::DELETE => Op::DeleteEvent(c, (*id).to_string()),
                _ => return Err(method_error()),
            }
        }
        (None, ["events", id, "instances"]) if get => {
            template.push_str("/events/{id}/instances");
            Op::Instances((*id).to_string())
        }
        (c, ["calendarView"]) if get => {
            template.push_str("/calendarView");
            Op::CalendarView(c)
        }
        (c, ["calendarView", "delta" | "delta()"]) if get => {
            template.push_str("/calendarView/delta");
            Op::Delta(c)
        }
        (Some(_), ["getSchedule"]) if post => {
            template.push_str("/getSchedule");
            Op::GetSchedule
        }
        (None, ["findMeetingTimes"]) if post => {
            template.push_str("/findMeetingTimes");
            Op::FindMeetingTimes
        }
        (_, [] | ["calendars"] | ["events"] | ["events", _, "instances"] | ["calendarView"])
        | (_, ["calendarView", "delta" | "delta()"] | ["getSchedule"] | ["findMeetingTimes"]) => {
            return Err(method_error())
        }
        (_, [first, ..]) => return Err(segment_error(first)),
    };
    Ok(Route {
        owner,
        op,
        template,
    })
}

// ---------------------------------------------------------------------------------------
// Authentication, faults, concurrency.

/// The token's (Microsoft) user: (email, name).
fn authenticate(state: &FakeState, headers: &HeaderMap) -> Result<(String, String), GErr> {
    let Some(token) = util::bearer_token(headers) else {
        return Err(gerr(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty.",
        ));
    };
    match state.valid_access_token(&token) {
        Some((grant, user)) if grant.provider == Provider::Microsoft => {
            Ok((user.email.clone(), user.name.clone()))
        }
        _ => {
            let message = if state.access_tokens.contains_key(&token) {
                "Lifetime validation failed, the token is expired or revoked."
            } else {
                "IDX14100: JWT is not well formed, there are no dots (.)."
            };
            Err(gerr(401, "InvalidAuthenticationToken", message))
        }
    }
}

/// One request in flight for a mailbox, until dropped.
struct Slot {
    shared: SharedState,
    mailbox: String,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if let Some(n) = state.graph.in_flight.get_mut(&self.mailbox) {
            *n = n.saturating_sub(1);
        }
    }
}

fn acquire_slot(shared: &SharedState, graph: &mut GraphStore, mailbox: &str) -> Result<Slot, GErr> {
    let n = graph.in_flight.entry(mailbox.to_string()).or_default();
    if *n >= MAILBOX_CONCURRENCY {
        graph.stats.concurrency_rejections += 1;
        return Err(gerr(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        ));
    }
    *n += 1;
    let n = *n;
    let max = graph
        .stats
        .max_concurrency
        .entry(mailbox.to_string())
        .or_default();
    *max = (*max).max(n);
    Ok(Slot {
        shared: shared.clone(),
        mailbox: mailbox.to_string(),
    })
}

fn with_retry_after(mut response: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

fn captive_portal() -> Response {
    let mut response = (
        StatusCode::OK,
        "<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body><h1>Welcome to Guest Wi-Fi</h1><form method=\"post\" action=\"/login\"><input name=\"room\"><button>Connect</button></form></body></html>",
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

// ---------------------------------------------------------------------------------------
// The dispatcher.

async fn dispatch(
    State(shared): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let path = uri.path().to_string();
    let segments: Vec<String> = path
        .strip_prefix("/v1.0/")
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let route = match match_route(&method, &segments) {
        Ok(route) => route,
        Err(e) => {
            let mut state = shared.lock();
            *state
                .graph
                .stats
                .requests
                .entry(format!("{method} (unmatched)"))
                .or_default() += 1;
            return error_response(&e);
        }
    };
    let (prefs, applied) = parse_prefs(&headers);
    // Authenticate, count, take a concurrency slot and a fault.
    let (me, slot, fault) = {
        let mut state = shared.lock();
        *state
            .graph
            .stats
            .requests
            .entry(format!("{method} {}", route.template))
            .or_default() += 1;
        let (email, name) = match authenticate(&state, &headers) {
            Ok(user) => user,
            Err(e) => return error_response(&e),
        };
        let graph = &mut state.graph;
        if prefs.immutable {
            graph.stats.immutable_id.with_header += 1;
        } else {
            graph.stats.immutable_id.without_header += 1;
        }
        graph.ensure_mailbox(&email, &name);
        let mailbox_key = email.to_ascii_lowercase();
        let slot = match acquire_slot(&shared, graph, &mailbox_key) {
            Ok(slot) => slot,
            Err(e) => return with_retry_after(error_response(&e), Some(1)),
        };
        let sub_path = path.strip_prefix("/v1.0").unwrap_or(&path);
        let fault = take_fault(graph, &mailbox_key, sub_path, &method);
        ((email, name), slot, fault)
    };
    let mut drop_after = false;
    let mut malformed = false;
    if let Some(fault) = fault {
        match fault.kind {
            GraphFaultKind::MalformedEvent => malformed = true,
            GraphFaultKind::Throttle => {
                let secs = fault.retry_after_secs.unwrap_or(2);
                let e = gerr(
                    429,
                    "TooManyRequests",
                    "Too many requests; please retry after the time given in the Retry-After header.",
                );
                return with_retry_after(error_response(&e), Some(secs));
            }
            GraphFaultKind::Unavailable => {
                let e = gerr(
                    503,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please retry later.",
                );
                return with_retry_after(error_response(&e), fault.retry_after_secs);
            }
            GraphFaultKind::CaptivePortal => return captive_portal(),
            GraphFaultKind::EmptyObject => {
                return (StatusCode::OK, Json(json!({}))).into_response()
            }
            GraphFaultKind::Delay => {
                tokio::time::sleep(StdDuration::from_millis(fault.delay_ms.unwrap_or(0))).await;
            }
            GraphFaultKind::DropConnection => {
                if !fault.after_processing {
                    return dropped();
                }
                drop_after = true;
            }
        }
    }
    let body = if method == Method::POST || method == Method::PATCH {
        match util::read_body(body).await {
            Ok(bytes) => Some(bytes),
            Err(()) => {
                return error_response(&gerr(
                    413,
                    "RequestEntityTooLarge",
                    "The request body is too large.",
                ))
            }
        }
    } else {
        None
    };
    let ctx = Ctx {
        me: me.0,
        base: shared.base_url(),
        path,
        query: parse_query(uri.query()),
        prefs,
        if_match: headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    if let Some(bytes) = body.as_deref() {
        shared.record_body(
            Provider::Microsoft,
            &format!("{method} {}", route.template),
            bytes,
        );
    }
    let (result, latency) = {
        let mut state = shared.lock();
        let latency = route
            .template
            .ends_with("/calendarView/delta")
            .then_some(state.graph.faults.list_latency)
            .flatten();
        (execute(&mut state, &ctx, &route, body.as_deref()), latency)
    };
    let mut result = result;
    if let (true, Ok((_, Some(answer), _))) = (malformed, &mut result) {
        malform_first_event(answer);
    }
    // A delta page comes as late as the latency model says; it holds its concurrency
    // slot meanwhile, as a request still in flight at Graph does.
    if let (Some(latency), Ok((_, Some(page), _))) = (latency, &result) {
        let items = page["value"].as_array().map_or(0, Vec::len);
        tokio::time::sleep(latency.of(items)).await;
    }
    drop(slot);
    if drop_after {
        return dropped();
    }
    match result {
        Ok((status, value, extra)) => {
            let mut response = match value {
                Some(v) => json_response(status, &v),
                None => status.into_response(),
            };
            let mut applied = applied;
            applied.extend(extra.applied);
            if !applied.is_empty() {
                if let Ok(v) = HeaderValue::from_str(&applied.join(", ")) {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("preference-applied"), v);
                }
            }
            if let Some(location) = extra.location {
                if let Ok(v) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
            }
            response
        }
        Err(e) => {
            let location = e.1;
            let mut response = error_response(&e.0);
            if let Some(location) = location {
                if let Ok(v) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
            }
            response
        }
    }
}

/// The `malformed_event` fault: the first event of the answer — of a listing (not a
/// removal), or the one event asked for (also inside a `$batch`) — gets a start zone
/// Graph never sends.
fn malform_first_event(answer: &mut Value) {
    let first = if let Some(listed) = answer.get_mut("value").and_then(Value::as_array_mut) {
        listed.iter_mut().find(|e| e.get("@removed").is_none())
    } else {
        Some(answer).filter(|e| e.get("start").is_some())
    };
    if let Some(event) = first {
        event["start"]["timeZone"] = Value::from("Mars Standard Time");
    }
}

fn take_fault(
    graph: &mut GraphStore,
    mailbox: &str,
    path: &str,
    method: &Method,
) -> Option<crate::graph_store::GraphFault> {
    let faults = &mut graph.faults.transient;
    let index = faults.iter().position(|f| {
        f.email
            .as_deref()
            .is_none_or(|e| e.eq_ignore_ascii_case(mailbox))
            && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
    })?;
    let fault = faults[index].clone();
    faults[index].count -= 1;
    if faults[index].count == 0 {
        faults.remove(index);
    }
    graph.stats.faults_injected += 1;
    Some(fault)
}

/// Everything an operation needs from the request.
#[derive(Debug)]
struct Ctx {
    me: String,
    base: String,
    /// The request path as received (`/v1.0/...`).
    path: String,
    query: HashMap<String, String>,
    prefs: Prefs,
    if_match: Option<String>,
}

#[derive(Debug, Default)]
struct Extra {
    applied: Vec<String>,
    location: Option<String>,
}

type OpResult = Result<(StatusCode, Option<Value>, Extra), (GErr, Option<String>)>;

fn ok(value: Value) -> OpResult {
    Ok((StatusCode::OK, Some(value), Extra::default()))
}

impl From<GErr> for (GErr, Option<String>) {
    fn from(e: GErr) -> Self {
        (e, None)
    }
}

/// The owner of `/users/{owner}`: a seeded Microsoft user by email or object id.
fn resolve_owner(state: &FakeState, owner: &str) -> Result<(String, String), GErr> {
    state
        .users
        .iter()
        .find(|u| {
            u.provider == Provider::Microsoft
                && (u.email.eq_ignore_ascii_case(owner) || u.id.eq_ignore_ascii_case(owner))
        })
        .map(|u| (u.email.clone(), u.name.clone()))
        .ok_or_else(|| {
            gerr(
                404,
                "ErrorInvalidUser",
                format!("The requested user '{owner}' is invalid."),
            )
        })
}

/// The caller's access to calendar `id` of `owner`.
fn calendar_access(mailbox: &Mailbox, me: &str, id: &str) -> Result<Access, GErr> {
    let calendar = mailbox.calendar(id).ok_or_else(not_found)?;
    if mailbox.email.eq_ignore_ascii_case(me) {
        return Ok(Access::Owner);
    }
    mailbox
        .share_role(&calendar.id, me)
        .map(Access::Shared)
        .ok_or_else(access_denied)
}

fn resolve_cal(mailbox: &Mailbox, cal: Option<&CalRef>) -> Result<String, GErr> {
    match cal {
        None | Some(CalRef::Default) => Ok(mailbox.default_calendar().id.clone()),
        Some(CalRef::Id(id)) => mailbox
            .calendar(id)
            .map(|c| c.id.clone())
            .ok_or_else(not_found),
    }
}

fn window(query: &HashMap<String, String>) -> Result<(DateTime<Utc>, DateTime<Utc>), GErr> {
    let missing = || {
        gerr(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )
    };
    let get = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let start = get("startDateTime").ok_or_else(missing)?;
    let end = get("endDateTime").ok_or_else(missing)?;
    let parse = |text: &str| {
        parse_query_instant(text).ok_or_else(|| {
            gerr(
                400,
                "ErrorInvalidParameter",
                format!("The parameter value '{text}' is not a valid date and time."),
            )
        })
    };
    let (start, end) = (parse(&start)?, parse(&end)?);
    if end <= start {
        return Err(gerr(
            400,
            "ErrorInvalidParameter",
            "The value of the parameter 'EndDateTime' must be later than 'StartDateTime'.",
        ));
    }
    Ok((start, end))
}

fn page_params(ctx: &Ctx) -> Result<(usize, usize), GErr> {
    let number = |k: &str| -> Result<Option<usize>, GErr> {
        match ctx.query.get(k) {
            None => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
                gerr(
                    400,
                    "BadRequest",
                    format!("Invalid value '{v}' for query option '{k}'."),
                )
            }),
        }
    };
    let top = number("$top")?
        .or(ctx.prefs.max_page_size)
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let skip = number("$skip")?.unwrap_or(0);
    Ok((top, skip))
}

/// `$select`: keep the listed properties (and id and annotations).
fn select(ctx: &Ctx, mut value: Value) -> Value {
    let Some(list) = ctx.query.get("$select") else {
        return value;
    };
    let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
    if let Some(object) = value.as_object_mut() {
        object.retain(|k, _| {
            k == "id" || k.starts_with('@') || wanted.iter().any(|w| w.eq_ignore_ascii_case(k))
        });
    }
    value
}

/// A page of a list: `value`, and `@odata.nextLink` with `$skip` when more remain.
fn paged(ctx: &Ctx, items: Vec<Value>, context: &str) -> OpResult {
    let (top, skip) = page_params(ctx)?;
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(skip)
        .take(top)
        .map(|v| select(ctx, v))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#{context}", ctx.base),
        "value": page,
    });
    if skip + top < total {
        let mut query: BTreeMap<String, String> = ctx
            .query
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        query.insert("$top".into(), top.to_string());
        query.insert("$skip".into(), (skip + top).to_string());
        let encoded = encode_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        body["@odata.nextLink"] = json!(format!("{}{}?{encoded}", ctx.base, ctx.path));
    }
    let mut extra = Extra::default();
    if let Some(n) = ctx.prefs.max_page_size {
        extra.applied.push(format!("odata.maxpagesize={n}"));
    }
    Ok((StatusCode::OK, Some(body), extra))
}

fn parse_json_body(body: Option<&[u8]>) -> Result<Value, GErr> {
    let unreadable = || {
        gerr(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    };
    let bytes = body.unwrap_or_default();
    let value: Value = serde_json::from_slice(bytes).map_err(|_| unreadable())?;
    if !value.is_object() {
        return Err(unreadable());
    }
    Ok(value)
}

fn parse_item(id: &str) -> Result<ItemRef, GErr> {
    ItemRef::parse(id).ok_or_else(|| gerr(400, "ErrorInvalidIdMalformed", "Id is malformed."))
}

fn execute(state: &mut FakeState, ctx: &Ctx, route: &Route, body: Option<&[u8]>) -> OpResult {
    // Whose mailbox, and is it the caller's own?
    let (owner, owner_name) = match &route.owner {
        None => (ctx.me.clone(), String::new()),
        Some(o) => resolve_owner(state, o)?,
    };
    let own = owner.eq_ignore_ascii_case(&ctx.me);
    let graph = &mut state.graph;
    if !own {
        graph.ensure_mailbox(&owner, &owner_name);
    }
    let mailbox = graph.mailbox(&owner).ok_or_else(not_found)?.clone();
    let prefs = &ctx.prefs;
    match &route.op {
        Op::ListCalendars => {
            let mut list = Vec::new();
            for calendar in &mailbox.calendars {
                let access = if own {
                    Access::Owner
                } else {
                    match mailbox.share_role(&calendar.id, &ctx.me) {
                        Some(role) => Access::Shared(role),
                        None => continue,
                    }
                };
                list.push(graph.render_calendar(&mailbox, calendar, access));
            }
            if !own && list.is_empty() {
                return Err(access_denied().into());
            }
            paged(ctx, list, "Collection(calendar)")
        }
        Op::GetCalendar(cal) => {
            let id = resolve_cal(&mailbox, Some(cal))?;
            let access = calendar_access(&mailbox, &ctx.me, &id)?;
            let calendar = mailbox.calendar(&id).ok_or_else(not_found)?;
            let mut value = graph.render_calendar(&mailbox, calendar, access);
            value["@odata.context"] =
                json!(format!("{}/v1.0/$metadata#calendars/$entity", ctx.base));
            ok(select(ctx, value))
        }
        Op::ListEvents(cal) => {
            let calendars: Vec<String> = match (cal, own) {
                (None, true) => mailbox.calendars.iter().map(|c| c.id.clone()).collect(),
                _ => vec![resolve_cal(&mailbox, cal.as_ref())?],
            };
            for id in &calendars {
                calendar_access(&mailbox, &ctx.me, id)?;
            }
            let mut events: Vec<(NaiveDateTime, Value)> = mailbox
                .events
                .values()
                .filter(|e| calendars.contains(&e.calendar_id))
                .filter_map(|e| {
                    graph
                        .render_item(&owner, &ItemRef::Event(e.key.clone()), prefs)
                        .map(|v| (e.start.utc, v))
                })
                .collect();
            events.sort_by_key(|e| e.0);
            paged(
                ctx,
                events.into_iter().map(|(_, v)| v).collect(),
                "Collection(event)",
            )
        }
        Op::CreateEvent(cal) => {
            let id = resolve_cal(&mailbox, cal.as_ref())?;
            if !calendar_access(&mailbox, &ctx.me, &id)?.can_write() {
                return Err(access_denied().into());
            }
            let value = parse_json_body(body)?;
            let (key, _) = graph.create_event(&owner, &id, &value)?;
            let rendered = graph
                .render_item(&owner, &ItemRef::Event(key), prefs)
                .ok_or_else(not_found)?;
            Ok((StatusCode::CREATED, Some(rendered), Extra::default()))
        }
        Op::GetEvent(cal, id) | Op::PatchEvent(cal, id) | Op::DeleteEvent(cal, id) => {
            let item = parse_item(id)?;
            let calendar_id = graph.item_calendar(&owner, &item).ok_or_else(not_found)?;
            if let Some(c) = cal {
                if resolve_cal(&mailbox, Some(c))? != calendar_id {
                    return Err(not_found().into());
                }
            }
            let access = calendar_access(&mailbox, &ctx.me, &calendar_id).map_err(|e| {
                if e.status == 403 {
                    not_found()
                } else {
                    e
                }
            })?;
            match &route.op {
                Op::GetEvent(..) => {
                    let value = graph
                        .render_item(&owner, &item, prefs)
                        .ok_or_else(not_found)?;
                    ok(select(ctx, value))
                }
                Op::PatchEvent(..) => {
                    if !access.can_write() {
                        return Err(access_denied().into());
                    }
                    let value = parse_json_body(body)?;
                    graph.patch_event(&owner, &item, &value, ctx.if_match.as_deref())?;
                    let value = graph
                        .render_item(&owner, &item, prefs)
                        .ok_or_else(not_found)?;
                    ok(value)
                }
                _ => {
                    if !access.can_write() {
                        return Err(access_denied().into());
                    }
                    graph.delete_event(&owner, &item, ctx.if_match.as_deref())?;
                    Ok((StatusCode::NO_CONTENT, None, Extra::default()))
                }
            }
        }
        Op::Instances(id) => {
            let (ws, we) = window(&ctx.query)?;
            let item = parse_item(id)?;
            let calendar_id = graph.item_calendar(&owner, &item).ok_or_else(not_found)?;
            calendar_access(&mailbox, &ctx.me, &calendar_id)?;
            let ItemRef::Event(key) = &item else {
                return Err(not_found().into());
            };
            let values: Vec<Value> = graph
                .instances(&owner, &calendar_id, ws.naive_utc(), we.naive_utc())
                .into_iter()
                .filter(|i| i.item.key() == key && matches!(i.item, ItemRef::Occurrence(..)))
                .filter_map(|i| graph.render_item(&owner, &i.item, prefs))
                .collect();
            paged(ctx, values, "Collection(event)")
        }
        Op::CalendarView(cal) => {
            let (ws, we) = window(&ctx.query)?;
            let id = resolve_cal(&mailbox, cal.as_ref())?;
            calendar_access(&mailbox, &ctx.me, &id)?;
            let values: Vec<Value> = graph
                .instances(&owner, &id, ws.naive_utc(), we.naive_utc())
                .into_iter()
                .filter_map(|i| graph.render_item(&owner, &i.item, prefs))
                .collect();
            paged(ctx, values, "Collection(event)")
        }
        Op::Delta(cal) => {
            let id = resolve_cal(&mailbox, cal.as_ref())?;
            calendar_access(&mailbox, &ctx.me, &id)?;
            delta(graph, ctx, &owner, &id)
        }
        Op::GetSchedule => {
            let me = graph.mailbox(&ctx.me).ok_or_else(not_found)?;
            if me.personal {
                return Err(gerr(
                    400,
                    "ErrorInvalidRequest",
                    "getSchedule is not supported for personal Microsoft accounts.",
                )
                .into());
            }
            let value = parse_json_body(body)?;
            get_schedule(state, ctx, &value)
        }
        Op::FindMeetingTimes => {
            let me = graph.mailbox(&ctx.me).ok_or_else(not_found)?;
            if me.personal {
                return Err(gerr(
                    403,
                    "ErrorAccessDenied",
                    "findMeetingTimes is not supported for personal Microsoft accounts.",
                )
                .into());
            }
            let value = parse_json_body(body)?;
            find_meeting_times(state, ctx, &value)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Delta.

fn encode_token(value: &Value) -> String {
    util::b64url(value.to_string().as_bytes())
}

fn decode_token(token: &str) -> Option<Value> {
    serde_json::from_slice(&util::b64url_decode(token.trim())?).ok()
}

fn delta_link(ctx: &Ctx, key: &str, token: &str) -> String {
    format!("{}{}?{}", ctx.base, ctx.path, encode_query([(key, token)]))
}

fn reset_error(
    ctx: &Ctx,
    mode: DeltaResetMode,
    status: u16,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (GErr, Option<String>) {
    match mode {
        DeltaResetMode::Gone => {
            let start = start.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let end = end.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let query = encode_query([
                ("startDateTime", start.as_str()),
                ("endDateTime", end.as_str()),
                ("$deltatoken", ""),
            ]);
            (
                gerr(
                    status,
                    "syncStateInvalid",
                    "The sync state is no longer valid: restart with the request in the Location header.",
                ),
                Some(format!("{}{}?{query}", ctx.base, ctx.path)),
            )
        }
        DeltaResetMode::SyncStateNotFound => (sync_state_not_found(status), None),
        DeltaResetMode::ResyncRequired => (
            gerr(
                status,
                "resyncRequired",
                "Resync required. Replace any local items with the server's items to avoid duplication.",
            ),
            None,
        ),
    }
}

fn sync_state_not_found(status: u16) -> GErr {
    gerr(
        status,
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
    )
}

fn delta(graph: &mut GraphStore, ctx: &Ctx, owner: &str, calendar_id: &str) -> OpResult {
    let get = |k: &str| {
        ctx.query
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let owner_l = owner.to_ascii_lowercase();
    let (round_id, offset, phase) = if let Some(skip) = get("$skiptoken") {
        let token = decode_token(&skip)
            .ok_or_else(|| gerr(400, "BadRequest", "The skip token is invalid."))?;
        let round_id = token["r"].as_str().unwrap_or_default().to_string();
        let round = graph
            .rounds
            .get(&round_id)
            .ok_or_else(|| sync_state_not_found(400))?;
        if round.owner != owner_l || round.calendar_id != calendar_id {
            return Err(gerr(
                400,
                "BadRequest",
                "The skip token belongs to another calendar view.",
            )
            .into());
        }
        if let Some((mode, status)) = graph.invalidated(owner, calendar_id, round.epoch) {
            return Err(reset_error(ctx, mode, status, round.start, round.end));
        }
        (
            round_id,
            token["o"].as_u64().unwrap_or(0) as usize,
            token["p"].as_u64().unwrap_or(1),
        )
    } else if let Some(delta_token) = get("$deltatoken").filter(|t| !t.is_empty()) {
        let token = decode_token(&delta_token)
            .ok_or_else(|| gerr(400, "BadRequest", "The delta token is invalid."))?;
        let snapshot_id = token["s"].as_str().unwrap_or_default();
        let snapshot = graph
            .snapshots
            .get(snapshot_id)
            .cloned()
            .ok_or_else(|| sync_state_not_found(400))?;
        if snapshot.owner != owner_l || snapshot.calendar_id != calendar_id {
            return Err(gerr(
                400,
                "BadRequest",
                "The delta token belongs to another calendar view.",
            )
            .into());
        }
        if let Some((mode, status)) = graph.invalidated(owner, calendar_id, snapshot.epoch) {
            return Err(reset_error(ctx, mode, status, snapshot.start, snapshot.end));
        }
        let round = graph.start_round(
            owner,
            calendar_id,
            (snapshot.start, snapshot.end),
            Some(&snapshot),
            &ctx.prefs,
        );
        (round, 0, 0)
    } else {
        let window = window(&ctx.query)?;
        (
            graph.start_round(owner, calendar_id, window, None, &ctx.prefs),
            0,
            0,
        )
    };
    let round = graph
        .rounds
        .get(&round_id)
        .ok_or_else(|| sync_state_not_found(400))?;
    let mut body =
        json!({"@odata.context": format!("{}/v1.0/$metadata#Collection(event)", ctx.base)});
    if round.empty_first_page && phase == 0 {
        body["value"] = json!([]);
        body["@odata.nextLink"] = json!(delta_link(
            ctx,
            "$skiptoken",
            &encode_token(&json!({"r": round_id, "o": 0, "p": 1}))
        ));
    } else {
        let size = ctx
            .prefs
            .max_page_size
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, MAX_PAGE);
        let page: Vec<Value> = round
            .items
            .iter()
            .skip(offset)
            .take(size)
            .cloned()
            .collect();
        body["value"] = json!(page);
        if offset + size < round.items.len() {
            body["@odata.nextLink"] = json!(delta_link(
                ctx,
                "$skiptoken",
                &encode_token(&json!({"r": round_id, "o": offset + size, "p": 1}))
            ));
        } else {
            let token = encode_token(&json!({
                "s": round.next_snapshot,
                "w": [round.start.to_rfc3339(), round.end.to_rfc3339()],
            }));
            body["@odata.deltaLink"] = json!(delta_link(ctx, "$deltatoken", &token));
        }
    }
    let mut extra = Extra::default();
    if let Some(n) = ctx.prefs.max_page_size {
        extra.applied.push(format!("odata.maxpagesize={n}"));
    }
    Ok((StatusCode::OK, Some(body), extra))
}

// ---------------------------------------------------------------------------------------
// getSchedule and findMeetingTimes.

/// A body object's keys, matched case-insensitively (Graph's action parameters are
/// documented in camelCase, the CSDL spells them PascalCase).
fn action_params(
    value: &Value,
    allowed: &[&str],
    action: &str,
) -> Result<Map<String, Value>, GErr> {
    let mut out = Map::new();
    for (k, v) in value.as_object().into_iter().flatten() {
        match allowed.iter().find(|a| a.eq_ignore_ascii_case(k)) {
            Some(a) => {
                out.insert((*a).to_string(), v.clone());
            }
            None => {
                return Err(gerr(
                    400,
                    "RequestBodyRead",
                    format!("The parameter '{k}' in the request payload is not a valid parameter for the operation '{action}'."),
                ))
            }
        }
    }
    Ok(out)
}

fn parse_dtz(value: Option<&Value>, what: &str) -> Result<NaiveDateTime, GErr> {
    let value =
        value.ok_or_else(|| gerr(400, "ErrorInvalidParameter", format!("{what} is required.")))?;
    validate_body("dateTimeTimeZone", value)?;
    let zone = value
        .get("timeZone")
        .and_then(Value::as_str)
        .unwrap_or("UTC");
    let tz = resolve_zone(zone).ok_or_else(|| {
        gerr(
            400,
            "TimeZoneNotSupportedException",
            format!("A valid TimeZone value must be specified. The following TimeZone value is not supported: '{zone}'."),
        )
    })?;
    let text = value.get("dateTime").and_then(Value::as_str).unwrap_or("");
    let local = parse_date_time(text, tz).ok_or_else(|| {
        gerr(
            400,
            "ErrorInvalidParameter",
            format!("{what} has an invalid dateTime '{text}'."),
        )
    })?;
    Ok(local_to_utc(tz, local))
}

fn render_slot(t: NaiveDateTime, prefs: &Prefs) -> Value {
    let (label, tz) = prefs
        .zone
        .clone()
        .unwrap_or_else(|| ("UTC".to_string(), Tz::UTC));
    json!({"dateTime": format_local(utc_to_local(tz, t)), "timeZone": label})
}

/// Busy items of a user's default calendar in a window, rendered (UTC).
fn busy_items(
    graph: &GraphStore,
    email: &str,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Vec<Value> {
    let Some(mailbox) = graph.mailbox(email) else {
        return Vec::new();
    };
    let calendar = mailbox.default_calendar().id.clone();
    let prefs = Prefs::default();
    graph
        .instances(email, &calendar, start, end)
        .into_iter()
        .filter_map(|i| graph.render_item(email, &i.item, &prefs))
        .collect()
}

fn utc_of(value: &Value, key: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value[key]["dateTime"].as_str()?, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

fn status_digit(status: &str) -> u8 {
    match status {
        "tentative" => 1,
        "busy" => 2,
        "oof" => 3,
        "workingElsewhere" => 4,
        _ => 0,
    }
}

fn status_rank(digit: u8) -> u8 {
    match digit {
        3 => 4,
        2 => 3,
        1 => 2,
        4 => 1,
        _ => 0,
    }
}

fn get_schedule(state: &mut FakeState, ctx: &Ctx, body: &Value) -> OpResult {
    let params = action_params(
        body,
        &[
            "schedules",
            "startTime",
            "endTime",
            "availabilityViewInterval",
        ],
        "getSchedule",
    )?;
    let schedules: Vec<String> = params
        .get("schedules")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if schedules.is_empty() || schedules.len() > 100 {
        return Err(gerr(
            400,
            "ErrorInvalidParameter",
            "Schedules must list 1 to 100 addresses.",
        )
        .into());
    }
    let start = parse_dtz(params.get("startTime"), "StartTime")?;
    let end = parse_dtz(params.get("endTime"), "EndTime")?;
    if end <= start || end - start > Duration::days(62) {
        return Err(gerr(
            400,
            "ErrorInvalidTimeInterval",
            "The time duration specified for FreeBusyViewOptions.TimeWindow is invalid.",
        )
        .into());
    }
    let interval = params
        .get("availabilityViewInterval")
        .and_then(Value::as_i64)
        .unwrap_or(30);
    if !(5..=1440).contains(&interval) {
        return Err(gerr(
            400,
            "ErrorInvalidParameter",
            "AvailabilityViewInterval must be between 5 and 1440 minutes.",
        )
        .into());
    }
    let slots = ((end - start).num_minutes() + interval - 1) / interval;
    let mut value = Vec::new();
    for address in schedules {
        let known = state
            .find_user(Provider::Microsoft, &address)
            .map(|u| (u.email.clone(), u.name.clone()));
        let Some((email, name)) = known else {
            value.push(json!({
                "scheduleId": address,
                "error": {
                    "message": format!("Unable to resolve e-mail address {address} to an Active Directory object."),
                    "responseCode": "5009",
                }
            }));
            continue;
        };
        state.graph.ensure_mailbox(&email, &name);
        let items = busy_items(&state.graph, &email, start, end);
        let mut view = String::new();
        for k in 0..slots {
            let s = start + Duration::minutes(k * interval);
            let e = s + Duration::minutes(interval);
            let mut digit = 0u8;
            for item in &items {
                let (Some(is), Some(ie)) = (utc_of(item, "start"), utc_of(item, "end")) else {
                    continue;
                };
                if is < e && ie > s {
                    let d = status_digit(item["showAs"].as_str().unwrap_or("busy"));
                    if status_rank(d) > status_rank(digit) {
                        digit = d;
                    }
                }
            }
            view.push(char::from(b'0' + digit));
        }
        let schedule_items: Vec<Value> = items
            .iter()
            .filter(|i| i["showAs"].as_str() != Some("free"))
            .filter_map(|i| {
                let (s, e) = (utc_of(i, "start")?, utc_of(i, "end")?);
                let private = matches!(i["sensitivity"].as_str(), Some("private" | "confidential"));
                Some(json!({
                    "isPrivate": private,
                    "status": i["showAs"],
                    "subject": if private { json!("") } else { i["subject"].clone() },
                    "location": i["location"]["displayName"].as_str().unwrap_or(""),
                    "start": render_slot(s, &ctx.prefs),
                    "end": render_slot(e, &ctx.prefs),
                }))
            })
            .collect();
        value.push(json!({
            "scheduleId": address,
            "availabilityView": view,
            "scheduleItems": schedule_items,
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "UTC"},
            },
        }));
    }
    ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)", ctx.base),
        "value": value,
    }))
}

/// ISO 8601 durations as `meetingDuration` uses them (`PT1H30M`, `P1D`).
fn parse_duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = Duration::zero();
    if !days.is_empty() {
        total += Duration::days(days.strip_suffix('D')?.parse().ok()?);
    }
    let mut number = String::new();
    for c in time.chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' => total += Duration::hours(std::mem::take(&mut number).parse().ok()?),
            'M' => total += Duration::minutes(std::mem::take(&mut number).parse().ok()?),
            'S' => total += Duration::seconds(std::mem::take(&mut number).parse().ok()?),
            _ => return None,
        }
    }
    (number.is_empty() && total > Duration::zero()).then_some(total)
}

/// A person's availability in `[s, e)`: `free`, the strongest busy status, or `unknown`.
fn availability(
    state: &FakeState,
    email: &str,
    s: NaiveDateTime,
    e: NaiveDateTime,
) -> &'static str {
    if state.find_user(Provider::Microsoft, email).is_none() {
        return "unknown";
    }
    let mut best = 0u8;
    for item in busy_items(&state.graph, email, s, e) {
        let d = status_digit(item["showAs"].as_str().unwrap_or("busy"));
        if status_rank(d) > status_rank(best) {
            best = d;
        }
    }
    match best {
        1 => "tentative",
        2 => "busy",
        3 => "oof",
        4 => "workingElsewhere",
        _ => "free",
    }
}

fn chance(availability: &str) -> f64 {
    match availability {
        "free" => 100.0,
        "tentative" => 50.0,
        "unknown" => 49.0,
        _ => 0.0,
    }
}

fn find_meeting_times(state: &mut FakeState, ctx: &Ctx, body: &Value) -> OpResult {
    let params = action_params(
        body,
        &[
            "attendees",
            "locationConstraint",
            "timeConstraint",
            "meetingDuration",
            "maxCandidates",
            "isOrganizerOptional",
            "returnSuggestionReasons",
            "minimumAttendeePercentage",
        ],
        "findMeetingTimes",
    )?;
    let mut attendees = Vec::new();
    for a in params
        .get("attendees")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        validate_body("attendeeBase", a)?;
        let address = a["emailAddress"]["address"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if !address.is_empty() {
            attendees.push((address, a.clone()));
        }
    }
    let duration = match params.get("meetingDuration").and_then(Value::as_str) {
        Some(text) => parse_duration(text).ok_or_else(|| {
            gerr(
                400,
                "ErrorInvalidParameter",
                format!("The meetingDuration '{text}' is not a valid duration."),
            )
        })?,
        None => Duration::minutes(30),
    };
    let constraint = params.get("timeConstraint").cloned().unwrap_or(Value::Null);
    if !constraint.is_null() {
        validate_body("timeConstraint", &constraint)?;
    }
    let work_only = !matches!(
        constraint["activityDomain"].as_str(),
        Some("personal" | "unrestricted")
    );
    let mut windows = Vec::new();
    for slot in constraint["timeSlots"].as_array().into_iter().flatten() {
        windows.push((
            parse_dtz(slot.get("start"), "start")?,
            parse_dtz(slot.get("end"), "end")?,
        ));
    }
    if windows.is_empty() {
        let now = Utc::now().naive_utc();
        windows.push((now, now + Duration::days(2)));
    }
    let organizer_optional = params
        .get("isOrganizerOptional")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let reasons = params
        .get("returnSuggestionReasons")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let minimum = params
        .get("minimumAttendeePercentage")
        .and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(50.0);
    let max_candidates = params
        .get("maxCandidates")
        .and_then(Value::as_u64)
        .unwrap_or(10)
        .clamp(1, 100) as usize;
    for (address, _) in &attendees {
        if let Some(user) = state.find_user(Provider::Microsoft, address).cloned() {
            state.graph.ensure_mailbox(&user.email, &user.name);
        }
    }
    let step = Duration::minutes(30);
    let mut candidates = Vec::new();
    for (ws, we) in &windows {
        let minute = i64::from(ws.minute() % 30) * 60 + i64::from(ws.second());
        let mut t = if minute == 0 {
            *ws
        } else {
            *ws + Duration::seconds(1800 - minute)
        };
        t = t.with_nanosecond(0).unwrap_or(t);
        while t + duration <= *we && candidates.len() < 2_000 {
            let end = t + duration;
            let in_hours = !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
                && t.hour() >= 8
                && (end.hour() < 17 || (end.hour() == 17 && end.minute() == 0))
                && end.date() == t.date();
            if !work_only || in_hours {
                candidates.push((t, end));
            }
            t += step;
        }
    }
    let mut suggestions = Vec::new();
    let mut organizer_ever_free = false;
    let mut any_unknown = false;
    for (s, e) in &candidates {
        let organizer = availability(state, &ctx.me, *s, *e);
        if organizer == "free" {
            organizer_ever_free = true;
        }
        if !organizer_optional && organizer != "free" {
            continue;
        }
        let mut list = Vec::new();
        let mut total = 0.0;
        for (address, attendee) in &attendees {
            let a = availability(state, address, *s, *e);
            any_unknown |= a == "unknown";
            total += chance(a);
            list.push(json!({
                "attendee": {"type": attendee.get("type").cloned().unwrap_or(json!("required")), "emailAddress": attendee["emailAddress"]},
                "availability": a,
            }));
        }
        let confidence = if attendees.is_empty() {
            chance(organizer)
        } else {
            total / attendees.len() as f64
        };
        if confidence < minimum {
            continue;
        }
        suggestions.push((confidence, *s, *e, organizer, list));
    }
    suggestions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    suggestions.truncate(max_candidates);
    let empty_reason = if !suggestions.is_empty() {
        ""
    } else if candidates.is_empty() {
        "unknown"
    } else if !organizer_optional && !organizer_ever_free {
        "organizerUnavailable"
    } else if any_unknown {
        "attendeesUnavailableOrUnknown"
    } else {
        "attendeesUnavailable"
    };
    let rendered: Vec<Value> = suggestions
        .into_iter()
        .enumerate()
        .map(|(i, (confidence, s, e, organizer, list))| {
            json!({
                "confidence": confidence,
                "order": i + 1,
                "organizerAvailability": organizer,
                "attendeeAvailability": list,
                "locations": [],
                "suggestionReason": if reasons { "Suggested because it is one of the nearest times when all attendees are available." } else { "" },
                "meetingTimeSlot": {"start": render_slot(s, &ctx.prefs), "end": render_slot(e, &ctx.prefs)},
            })
        })
        .collect();
    ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.meetingTimeSuggestionsResult", ctx.base),
        "emptySuggestionsReason": empty_reason,
        "meetingTimeSuggestions": rendered,
    }))
}

// ---------------------------------------------------------------------------------------
// $batch.

fn batch_error(message: impl Into<String>) -> Response {
    error_response(&gerr(400, "BadRequest", message))
}

async fn batch(
    State(shared): State<SharedState>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    {
        let mut state = shared.lock();
        *state
            .graph
            .stats
            .requests
            .entry(format!("{method} /$batch"))
            .or_default() += 1;
        if let Err(e) = authenticate(&state, &headers) {
            return error_response(&e);
        }
    }
    if method != Method::POST {
        return error_response(&method_error());
    }
    let Ok(bytes) = axum::body::to_bytes(body, 4 * util::BODY_LIMIT).await else {
        return error_response(&gerr(
            413,
            "RequestEntityTooLarge",
            "The request body is too large.",
        ));
    };
    let Ok(envelope) = serde_json::from_slice::<Value>(&bytes) else {
        return batch_error("Invalid batch payload format.");
    };
    let Some(requests) = envelope.get("requests").and_then(Value::as_array) else {
        return batch_error("Invalid batch payload format.");
    };
    if requests.is_empty() {
        return batch_error("Invalid batch payload format: no requests.");
    }
    if requests.len() > MAX_BATCH {
        return batch_error(format!(
            "The number of requests in the batch must not exceed {MAX_BATCH}."
        ));
    }
    let mut ids: Vec<String> = Vec::new();
    for r in requests {
        let Some(id) = r.get("id").and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        }) else {
            return batch_error("Every batch request needs an id.");
        };
        if ids.iter().any(|i| i.eq_ignore_ascii_case(&id)) {
            return batch_error(format!("Batch request contains duplicate Ids: '{id}'."));
        }
        if r.get("method").and_then(Value::as_str).is_none()
            || r.get("url").and_then(Value::as_str).is_none()
        {
            return batch_error(format!("Batch request '{id}' needs a method and a url."));
        }
        let has_content_type = r
            .get("headers")
            .and_then(Value::as_object)
            .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")));
        if r.get("body").is_some_and(|b| !b.is_null()) && !has_content_type {
            return batch_error(format!(
                "Content-Type header is required for request '{id}', which has a body."
            ));
        }
        for dep in r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let dep = dep.as_str().unwrap_or_default();
            if !ids.iter().any(|i| i.eq_ignore_ascii_case(dep)) {
                return batch_error(format!(
                    "Request '{id}' depends on '{dep}', which is not an earlier request of the batch."
                ));
            }
        }
        ids.push(id);
    }
    let mut app = crate::router(shared.clone());
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    for (r, id) in requests.iter().zip(ids) {
        let failed_dependency = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|dep| {
                statuses
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(dep))
                    .is_none_or(|(_, s)| !(200..300).contains(s))
            });
        if failed_dependency {
            statuses.insert(id.clone(), 424);
            responses.push(json!({
                "id": id,
                "status": 424,
                "headers": {"Content-Type": "application/json"},
                "body": {"error": {"code": "FailedDependency", "message": "The request depends on a request of the batch that failed."}},
            }));
            continue;
        }
        let (status, headers_out, body_out) = run_inner(&mut app, &headers, r).await;
        statuses.insert(id.clone(), status);
        let mut item = json!({"id": id, "status": status, "headers": headers_out});
        if let Some(b) = body_out {
            item["body"] = b;
        }
        responses.push(item);
    }
    json_response(StatusCode::OK, &json!({"responses": responses}))
}

/// Runs one inner request of a batch through the whole router.
async fn run_inner(app: &mut Router, outer: &HeaderMap, r: &Value) -> (u16, Value, Option<Value>) {
    let method = r["method"].as_str().unwrap_or("GET").to_ascii_uppercase();
    let url = r["url"].as_str().unwrap_or("");
    if url.starts_with("http") || url.contains("$batch") {
        let e = json!({"error": {"code": "BadRequest", "message": "Batch request urls must be relative and not nested batches."}});
        return (400, json!({"Content-Type": "application/json"}), Some(e));
    }
    let uri = format!("/v1.0/{}", url.trim_start_matches('/'));
    let mut builder = Request::builder().method(method.as_str()).uri(uri);
    if let Some(auth) = outer.get(header::AUTHORIZATION) {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    for (k, v) in r
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(v) = v.as_str() {
            builder = builder.header(k.as_str(), v);
        }
    }
    let body = match r.get("body") {
        Some(b) if !b.is_null() => Body::from(b.to_string()),
        _ => Body::empty(),
    };
    let Ok(request) = builder.body(body) else {
        let e = json!({"error": {"code": "BadRequest", "message": "The batch request could not be read."}});
        return (400, json!({"Content-Type": "application/json"}), Some(e));
    };
    let response = match tower_service::Service::call(app, request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for name in [
        "content-type",
        "retry-after",
        "location",
        "preference-applied",
    ] {
        if let Some(v) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            let key = match name {
                "content-type" => "Content-Type",
                "retry-after" => "Retry-After",
                "location" => "Location",
                _ => "Preference-Applied",
            };
            headers.insert(key.to_string(), json!(v));
        }
    }
    let bytes = axum::body::to_bytes(response.into_body(), 4 * util::BODY_LIMIT)
        .await
        .unwrap_or_default();
    let body = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes))),
        )
    };
    (status, Value::Object(headers), body)
}

// ---------------------------------------------------------------------------------------
// Control routes.

fn control_bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": message})),
    )
        .into_response()
}

async fn parse_control<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = util::read_body(body)
        .await
        .map_err(|()| control_bad_request("body too large"))?;
    serde_json::from_slice(&bytes).map_err(|e| control_bad_request(&e.to_string()))
}

fn control_answer<T: serde::Serialize>(result: Result<T, crate::state::ControlError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => control_bad_request(&e.0),
    }
}

async fn control_add_calendar(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphCalendarSpec>(body).await {
        Ok(spec) => control_answer(shared.graph_add_calendar(spec)),
        Err(r) => r,
    }
}

async fn control_seed_event(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphEventSeed>(body).await {
        Ok(spec) => control_answer(shared.graph_seed_event(spec)),
        Err(r) => r,
    }
}

async fn control_events(State(shared): State<SharedState>, uri: Uri) -> Response {
    let query = parse_query(uri.query());
    match query.get("email") {
        Some(email) => control_answer(shared.graph_events(email)),
        None => control_bad_request("email is required"),
    }
}

async fn control_edit_event(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphEventEdit>(body).await {
        Ok(spec) => control_answer(shared.graph_edit_event(spec)),
        Err(r) => r,
    }
}

async fn control_delete_event(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphEventDelete>(body).await {
        Ok(spec) => control_answer(shared.graph_delete_event(spec).map(|()| json!({}))),
        Err(r) => r,
    }
}

async fn control_share(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphShareSpec>(body).await {
        Ok(spec) => control_answer(shared.graph_share(spec)),
        Err(r) => r,
    }
}

async fn control_personal(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphPersonalSpec>(body).await {
        Ok(spec) => control_answer(shared.graph_set_personal(spec).map(|()| json!({}))),
        Err(r) => r,
    }
}

async fn control_set_faults(State(shared): State<SharedState>, body: Body) -> Response {
    match parse_control::<GraphFaultsUpdate>(body).await {
        Ok(update) => control_answer(shared.graph_set_faults(update)),
        Err(r) => r,
    }
}

async fn control_faults(State(shared): State<SharedState>) -> Response {
    Json(shared.graph_faults()).into_response()
}

async fn control_stats(State(shared): State<SharedState>) -> Response {
    Json(shared.graph_stats()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn routes_match_graph_paths() {
        let r = match_route(&Method::GET, &segs("me/calendars/abc/calendarView/delta()"))
            .expect("route");
        assert_eq!(r.template, "/me/calendars/{id}/calendarView/delta");
        assert!(matches!(r.op, Op::Delta(Some(CalRef::Id(ref id))) if id == "abc"));
        let r = match_route(
            &Method::POST,
            &segs("users/megan@contoso.example/calendar/events"),
        )
        .expect("route");
        assert_eq!(r.template, "/users/{owner}/calendar/events");
        assert!(match_route(&Method::GET, &segs("me/nonsense")).is_err());
        assert_eq!(
            match_route(&Method::PUT, &segs("me/events/x"))
                .map(|_| ())
                .map_err(|e| e.status),
            Err(405)
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("1H"), None);
    }
}
