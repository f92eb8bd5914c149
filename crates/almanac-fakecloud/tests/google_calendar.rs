//! The fake Google Calendar API v3 over real HTTP on loopback. Every `Event`,
//! `Events`, `CalendarList(Entry)` and `FreeBusy*` body the tests send or receive is
//! checked against Google's discovery document (`schema` below).

use std::time::{Duration, Instant};

use almanac_fakecloud::google_store::{valid_event_id, SCHEMA_SUBSET};
use almanac_fakecloud::{FakeCloud, Provider};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ALEX: &str = "alex.kim@gmail.example";
const SAM: &str = "sam.lee@gmail.example";
const G_CLIENT: &str = "almanac-test-google.apps.googleusercontent.com";
const G_SECRET: &str = "almanac-test-google-secret";

/// Validation of bodies against `tests/specs/google-calendar-v3.discovery.json`.
mod schema {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use serde_json::{json, Map, Value};

    pub fn discovery_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/specs/google-calendar-v3.discovery.json")
    }

    fn schemas() -> &'static Map<String, Value> {
        static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
        SCHEMAS.get_or_init(|| {
            let path = discovery_path();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "the Google Calendar discovery document is missing: {} ({e}). The schema \
                     checks of these tests need it (see tests/specs/README.md).",
                    path.display()
                )
            });
            let doc: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            assert_eq!(
                doc["id"],
                "calendar:v3",
                "{} is not Calendar v3",
                path.display()
            );
            doc["schemas"]
                .as_object()
                .cloned()
                .unwrap_or_else(|| panic!("{} has no schemas", path.display()))
        })
    }

    /// The values a description lists as the only possible ones ("Possible values are:
    /// - \"a\" ...", "Valid values are a, meaning ...; b, meaning ..."), if it does.
    pub fn enum_values(description: &str) -> Option<Vec<String>> {
        let low = description.to_ascii_lowercase();
        if low.contains("some of the possible values") {
            return None;
        }
        let is_word =
            |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if let Some(i) = low.find("possible value") {
            let rest = &description[i..];
            let mut out = Vec::new();
            let mut from = 0;
            while let Some(k) = rest[from..].find('-') {
                let after_dash = &rest[from + k + 1..];
                let trimmed = after_dash.trim_start();
                if trimmed.len() < after_dash.len() {
                    if let Some(quoted) = trimmed.strip_prefix('"') {
                        if let Some(end) = quoted.find('"') {
                            if is_word(&quoted[..end]) {
                                out.push(quoted[..end].to_string());
                            }
                        }
                    }
                }
                from += k + 1;
            }
            return (!out.is_empty()).then_some(out);
        }
        if let Some(i) = low.find("valid values are ") {
            let pieces: Vec<&str> = description[i..].split(", meaning").collect();
            let out: Vec<String> = pieces[..pieces.len() - 1]
                .iter()
                .filter_map(|p| {
                    let start = p
                        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .map_or(0, |j| j + 1);
                    is_word(&p[start..]).then(|| p[start..].to_string())
                })
                .collect();
            return (!out.is_empty()).then_some(out);
        }
        None
    }

    /// Panics unless `value` is a valid `name` (names, types, formats, enum-like values,
    /// recursively through `$ref`s).
    pub fn check(name: &str, value: &Value) {
        if let Err(e) = check_ref(name, value, name) {
            panic!("{name} does not match the discovery document: {e}\nbody: {value:#}");
        }
    }

    /// Like [`check`], as a `Result`.
    pub fn validate(name: &str, value: &Value) -> Result<(), String> {
        check_ref(name, value, name)
    }

    fn check_ref(name: &str, value: &Value, loc: &str) -> Result<(), String> {
        let schema = schemas()
            .get(name)
            .ok_or_else(|| format!("no schema {name} in the discovery document"))?;
        check_value(schema, value, loc)
    }

    fn check_value(schema: &Value, value: &Value, loc: &str) -> Result<(), String> {
        if value.is_null() {
            // `null` clears a member in a patch.
            return Ok(());
        }
        if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
            return check_ref(name, value, loc);
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
        match ty {
            "string" => {
                let s = value
                    .as_str()
                    .ok_or_else(|| format!("{loc}: expected a string, got {value}"))?;
                if let Some(allowed) = schema
                    .get("description")
                    .and_then(Value::as_str)
                    .and_then(enum_values)
                {
                    if !allowed.iter().any(|a| a == s) {
                        return Err(format!("{loc}: {s:?} is not one of {allowed:?}"));
                    }
                }
                match schema.get("format").and_then(Value::as_str) {
                    Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
                        Err(format!("{loc}: {s:?} is not an RFC 3339 date-time"))
                    }
                    Some("date") if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err() => {
                        Err(format!("{loc}: {s:?} is not a date"))
                    }
                    _ => Ok(()),
                }
            }
            "integer" => {
                if value.is_i64()
                    || value.is_u64()
                    || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok())
                {
                    Ok(())
                } else {
                    Err(format!("{loc}: expected an integer, got {value}"))
                }
            }
            "number" => value
                .is_number()
                .then_some(())
                .ok_or_else(|| format!("{loc}: expected a number")),
            "boolean" => value
                .is_boolean()
                .then_some(())
                .ok_or_else(|| format!("{loc}: expected a boolean, got {value}")),
            "array" => {
                let items = value
                    .as_array()
                    .ok_or_else(|| format!("{loc}: expected an array, got {value}"))?;
                let item_schema = schema
                    .get("items")
                    .cloned()
                    .unwrap_or(json!({"type": "any"}));
                // An array's description may list the values its strings take.
                let mut item_schema = item_schema;
                if item_schema.get("type") == Some(&json!("string"))
                    && item_schema.get("description").is_none()
                {
                    if let Some(d) = schema.get("description") {
                        item_schema["description"] = d.clone();
                    }
                }
                for (i, item) in items.iter().enumerate() {
                    check_value(&item_schema, item, &format!("{loc}[{i}]"))?;
                }
                Ok(())
            }
            "object" => {
                let object = value
                    .as_object()
                    .ok_or_else(|| format!("{loc}: expected an object, got {value}"))?;
                if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                    for (key, item) in object {
                        let prop = props.get(key).ok_or_else(|| {
                            format!(
                                "{loc}: unknown property {key:?} (known: {:?})",
                                props.keys().collect::<Vec<_>>()
                            )
                        })?;
                        check_value(prop, item, &format!("{loc}.{key}"))?;
                    }
                    Ok(())
                } else if let Some(extra) = schema.get("additionalProperties") {
                    for (key, item) in object {
                        check_value(extra, item, &format!("{loc}.{key}"))?;
                    }
                    Ok(())
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Re-derives the fake's `SCHEMA_SUBSET` from the discovery document.
    pub fn derived_subset() -> Value {
        fn conv(
            p: &Value,
            path: &str,
            enums: &mut Map<String, Value>,
            need: &mut Vec<String>,
        ) -> Value {
            let description = p.get("description").and_then(Value::as_str);
            let t = if let Some(r) = p.get("$ref").and_then(Value::as_str) {
                need.push(r.to_string());
                json!(format!("@{r}"))
            } else {
                match p.get("type").and_then(Value::as_str) {
                    Some("array") => {
                        let item = conv(&p["items"], path, enums, need);
                        if item == json!("string") {
                            if let Some(values) = description.and_then(enum_values) {
                                enums.insert(path.to_string(), json!(values));
                            }
                        }
                        return json!([item]);
                    }
                    Some("object") => {
                        if let Some(props) = p.get("properties").and_then(Value::as_object) {
                            let mut out = Map::new();
                            for (k, v) in props {
                                out.insert(k.clone(), conv(v, &format!("{path}.{k}"), enums, need));
                            }
                            Value::Object(out)
                        } else if let Some(extra) = p.get("additionalProperties") {
                            json!({"*": conv(extra, &format!("{path}.*"), enums, need)})
                        } else {
                            json!("any")
                        }
                    }
                    Some(other) => json!(other),
                    None => json!("any"),
                }
            };
            if t == json!("string") {
                if let Some(values) = description.and_then(enum_values) {
                    enums.insert(path.to_string(), json!(values));
                }
            }
            t
        }
        let mut out = Map::new();
        let mut enums = Map::new();
        let mut todo: Vec<String> = [
            "Event",
            "CalendarListEntry",
            "CalendarList",
            "Events",
            "FreeBusyRequest",
            "FreeBusyResponse",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        while let Some(name) = todo.pop() {
            if out.contains_key(&name) {
                continue;
            }
            let mut need = Vec::new();
            let mut props = Map::new();
            if let Some(p) = schemas()[&name]["properties"].as_object() {
                for (k, v) in p {
                    props.insert(
                        k.clone(),
                        conv(v, &format!("{name}.{k}"), &mut enums, &mut need),
                    );
                }
            }
            out.insert(name, Value::Object(props));
            todo.extend(need);
        }
        json!({"schemas": out, "enums": enums})
    }

    /// Google's error envelope (not in the discovery document).
    pub fn check_error(status: u16, body: &Value) {
        let error = body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("not an error body: {body}"));
        for key in error.keys() {
            assert!(
                ["code", "message", "errors", "status"].contains(&key.as_str()),
                "unexpected error member {key}: {body}"
            );
        }
        assert_eq!(error["code"], json!(status), "{body}");
        assert!(error["message"].is_string(), "{body}");
        let errors = error["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors[]: {body}"));
        assert!(!errors.is_empty(), "{body}");
        for e in errors {
            for key in e
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
            {
                assert!(
                    ["domain", "reason", "message", "locationType", "location"]
                        .contains(&key.as_str()),
                    "{body}"
                );
            }
            assert!(
                e["domain"].is_string() && e["reason"].is_string() && e["message"].is_string(),
                "{body}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The client.

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Resp {
    fn reason(&self) -> &str {
        self.body["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap_or("")
    }

    fn items(&self) -> Vec<Value> {
        self.body["items"].as_array().cloned().unwrap_or_default()
    }

    fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[track_caller]
    fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        self
    }

    #[track_caller]
    fn expect_error(self, status: u16, reason: &str) -> Resp {
        assert_eq!(self.status.as_u16(), status, "{:#}", self.body);
        assert_eq!(self.reason(), reason, "{:#}", self.body);
        self
    }
}

struct G {
    cloud: FakeCloud,
    http: reqwest::Client,
    token: String,
}

/// Which schema a successful answer to `method path` must match.
fn response_schema(method: &Method, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["", "users", "me", "calendarList"]) => Some("CalendarList"),
        ("GET", ["", "users", "me", "calendarList", _]) => Some("CalendarListEntry"),
        ("GET", ["", "calendars", _, "events"]) => Some("Events"),
        ("GET", ["", "calendars", _, "events", _, "instances"]) => Some("Events"),
        ("POST", ["", "calendars", _, "events"]) => Some("Event"),
        ("GET" | "PUT" | "PATCH", ["", "calendars", _, "events", _]) => Some("Event"),
        ("POST", ["", "freeBusy"]) => Some("FreeBusyResponse"),
        _ => None,
    }
}

fn request_schema(method: &Method, path: &str) -> Option<&'static str> {
    match method.as_str() {
        "POST" if path == "/freeBusy" => Some("FreeBusyRequest"),
        "POST" | "PUT" | "PATCH" => Some("Event"),
        _ => None,
    }
}

fn check_kinds(schema: &str, body: &Value) {
    let kind = |v: &Value, k: &str| assert_eq!(v["kind"], json!(k), "{v:#}");
    match schema {
        "Event" => kind(body, "calendar#event"),
        "Events" => {
            kind(body, "calendar#events");
            for item in body["items"].as_array().into_iter().flatten() {
                kind(item, "calendar#event");
            }
            assert!(
                !(body.get("nextPageToken").is_some() && body.get("nextSyncToken").is_some()),
                "a page has a nextPageToken or a nextSyncToken, never both: {body:#}"
            );
        }
        "CalendarList" => {
            kind(body, "calendar#calendarList");
            for item in body["items"].as_array().into_iter().flatten() {
                kind(item, "calendar#calendarListEntry");
            }
        }
        "CalendarListEntry" => kind(body, "calendar#calendarListEntry"),
        "FreeBusyResponse" => kind(body, "calendar#freeBusy"),
        _ => {}
    }
}

fn enc(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl G {
    async fn start() -> G {
        let cloud = FakeCloud::start().await.expect("start the fake cloud");
        let token = cloud
            .state()
            .mint_access_token(Provider::Google, ALEX)
            .expect("mint a token");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        G { cloud, http, token }
    }

    fn base(&self) -> String {
        self.cloud.base_url()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        headers: &[(&str, &str)],
        token: Option<&str>,
    ) -> Resp {
        if let (Some(body), Some(schema)) = (body, request_schema(&method, path)) {
            schema::check(schema, body);
        }
        let mut request = self
            .http
            .request(method.clone(), format!("{}/calendar/v3{path}", self.base()))
            .query(query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        if status.is_success() && status != StatusCode::NO_CONTENT {
            let schema = response_schema(&method, path)
                .unwrap_or_else(|| panic!("no schema for {method} {path}"));
            schema::check(schema, &body);
            check_kinds(schema, &body);
        } else if !status.is_success() {
            schema::check_error(status.as_u16(), &body);
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        self.send(Method::GET, path, query, None, &[], Some(&self.token))
            .await
    }

    async fn post(&self, path: &str, query: &[(&str, &str)], body: &Value) -> Resp {
        self.send(
            Method::POST,
            path,
            query,
            Some(body),
            &[],
            Some(&self.token),
        )
        .await
    }

    async fn patch(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send(
            Method::PATCH,
            path,
            query,
            Some(body),
            headers,
            Some(&self.token),
        )
        .await
    }

    async fn put(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        self.send(
            Method::PUT,
            path,
            &[],
            Some(body),
            headers,
            Some(&self.token),
        )
        .await
    }

    async fn delete(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::DELETE, path, &[], None, headers, Some(&self.token))
            .await
    }

    async fn insert(&self, calendar: &str, event: &Value) -> Resp {
        self.post(&format!("/calendars/{}/events", enc(calendar)), &[], event)
            .await
    }

    /// Follows `nextPageToken`s (keeping every other parameter); returns the pages.
    async fn list_all(&self, calendar: &str, query: &[(&str, &str)]) -> Vec<Resp> {
        let path = format!("/calendars/{}/events", enc(calendar));
        let mut pages = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..100 {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            if let Some(t) = &token {
                q.push(("pageToken", t));
            }
            let page = self.get(&path, &q).await.expect(200);
            token = page.body["nextPageToken"].as_str().map(str::to_string);
            pages.push(page);
            if token.is_none() {
                return pages;
            }
        }
        panic!("more than 100 pages");
    }

    async fn control(&self, path: &str, body: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}/_control/google/{path}", self.base()))
            .json(body)
            .send()
            .await
            .expect("control request");
        let status = response.status();
        let value: Value = response.json().await.expect("control JSON");
        assert_eq!(status, StatusCode::OK, "{value:#}");
        value
    }

    async fn seed_event(&self, calendar: &str, event: Value) -> Value {
        let stored = self
            .control(
                "events",
                &json!({"user": ALEX, "calendarId": calendar, "event": event}),
            )
            .await;
        schema::check("Event", &stored);
        stored
    }

    async fn seed_calendar(&self, calendar: Value) -> Value {
        let entry = self
            .control("calendars", &json!({"user": ALEX, "calendar": calendar}))
            .await;
        schema::check("CalendarListEntry", &entry);
        entry
    }

    async fn faults(&self, body: Value) {
        self.control("faults", &body).await;
    }

    /// `GET /_control/google/faults`: what is pending and set.
    async fn pending_faults(&self) -> Value {
        self.http
            .get(format!("{}/_control/google/faults", self.base()))
            .send()
            .await
            .expect("faults")
            .json()
            .await
            .expect("faults JSON")
    }

    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_control/google/stats", self.base()))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON")
    }
}

fn timed(summary: &str, start: &str, end: &str) -> Value {
    json!({"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end}})
}

fn sync_token(pages: &[Resp]) -> String {
    let last = pages.last().expect("a page");
    last.body["nextSyncToken"]
        .as_str()
        .expect("nextSyncToken on the last page")
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn schema_subset_matches_the_discovery_document() {
    let embedded: Value = serde_json::from_str(SCHEMA_SUBSET).expect("SCHEMA_SUBSET is JSON");
    assert_eq!(
        schema::derived_subset(),
        embedded,
        "the fake's SCHEMA_SUBSET differs from {}",
        schema::discovery_path().display()
    );
    // The validator itself catches what it should.
    assert!(schema::validate(
        "Event",
        &json!({"summary": "x", "start": {"date": "2030-01-01"}})
    )
    .is_ok());
    assert!(schema::validate("Event", &json!({"colour": "red"})).is_err());
    assert!(schema::validate("Event", &json!({"transparency": "see-through"})).is_err());
    assert!(schema::validate("Event", &json!({"start": {"dateTime": "tomorrow"}})).is_err());
    assert!(schema::validate("CalendarListEntry", &json!({"accessRole": "admin"})).is_err());
    assert!(schema::validate(
        "FreeBusyResponse",
        &json!({"calendars": {"a": {"busy": [{"start": "x"}]}}})
    )
    .is_err());
}

#[tokio::test]
async fn authentication_is_required_and_oauth_tokens_work() {
    let g = G::start().await;
    let r = g
        .send(Method::GET, "/users/me/calendarList", &[], None, &[], None)
        .await
        .expect_error(401, "authError");
    assert_eq!(r.body["error"]["status"], "UNAUTHENTICATED");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .starts_with("Request had invalid authentication credentials"));
    assert_eq!(r.body["error"]["errors"][0]["location"], "Authorization");
    assert!(r.headers.get("www-authenticate").is_some());
    g.send(
        Method::GET,
        "/users/me/calendarList",
        &[],
        None,
        &[],
        Some("ya29.bogus"),
    )
    .await
    .expect_error(401, "authError");
    let ms = g
        .cloud
        .state()
        .mint_access_token(Provider::Microsoft, "adele@contoso.example")
        .expect("ms token");
    g.send(
        Method::GET,
        "/users/me/calendarList",
        &[],
        None,
        &[],
        Some(&ms),
    )
    .await
    .expect_error(401, "authError");

    // A token from the real authorization-code + PKCE flow.
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let redirect = "http://127.0.0.1:53683/callback/google";
    let auth = g
        .http
        .get(format!("{}/o/oauth2/v2/auth", g.base()))
        .query(&[
            ("client_id", G_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            (
                "scope",
                "openid email https://www.googleapis.com/auth/calendar",
            ),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(auth.status(), StatusCode::FOUND);
    let location = auth.headers()["location"]
        .to_str()
        .expect("ASCII")
        .to_string();
    let code = url::Url::parse(&location)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("a code");
    let token: Value = g
        .http
        .post(format!("{}/token", g.base()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("client_id", G_CLIENT),
            ("client_secret", G_SECRET),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let access = token["access_token"].as_str().expect("access_token");
    let r = g
        .send(
            Method::GET,
            "/users/me/calendarList",
            &[],
            None,
            &[],
            Some(access),
        )
        .await
        .expect(200);
    assert_eq!(r.body["items"][0]["id"], ALEX);
    assert_eq!(r.body["items"][0]["primary"], true);
    assert_eq!(r.body["items"][0]["accessRole"], "owner");
    // Revoked → 401.
    g.cloud.state().revoke_all(Provider::Google, ALEX);
    g.send(
        Method::GET,
        "/users/me/calendarList",
        &[],
        None,
        &[],
        Some(access),
    )
    .await
    .expect_error(401, "authError");
    let stats = g.stats().await;
    assert!(
        stats["unauthenticated"].as_u64().unwrap_or(0) >= 4,
        "{stats:#}"
    );
}

#[tokio::test]
async fn calendar_list_pages_roles_and_incremental_sync() {
    let g = G::start().await;
    g.seed_calendar(
        json!({"id": "team@group.calendar.google.com", "summary": "Team", "accessRole": "writer"}),
    )
    .await;
    g.seed_calendar(json!({"id": "holidays@group.v.calendar.google.com", "summary": "Holidays", "accessRole": "reader"})).await;
    g.seed_calendar(
        json!({"id": "boss@gmail.example", "summary": "Boss", "accessRole": "freeBusyReader"}),
    )
    .await;
    g.seed_calendar(json!({"id": "hidden@group.calendar.google.com", "hidden": true}))
        .await;

    let first = g
        .get("/users/me/calendarList", &[("maxResults", "2")])
        .await
        .expect(200);
    assert_eq!(first.items().len(), 2);
    assert!(first.body.get("nextSyncToken").is_none());
    let token = first.body["nextPageToken"]
        .as_str()
        .expect("nextPageToken")
        .to_string();
    let second = g
        .get(
            "/users/me/calendarList",
            &[("maxResults", "2"), ("pageToken", &token)],
        )
        .await
        .expect(200);
    assert_eq!(second.items().len(), 2, "hidden calendars are left out");
    let sync = second.body["nextSyncToken"]
        .as_str()
        .expect("nextSyncToken on the last page")
        .to_string();
    let mut ids = first.ids();
    ids.extend(second.ids());
    assert!(!ids.contains(&"hidden@group.calendar.google.com".to_string()));
    let roles: Vec<Value> = first
        .items()
        .into_iter()
        .chain(second.items())
        .map(|e| e["accessRole"].clone())
        .collect();
    assert!(roles.contains(&json!("freeBusyReader")) && roles.contains(&json!("reader")));

    let all = g
        .get("/users/me/calendarList", &[("showHidden", "true")])
        .await
        .expect(200);
    assert_eq!(all.items().len(), 5);
    let writers = g
        .get("/users/me/calendarList", &[("minAccessRole", "writer")])
        .await
        .expect(200);
    let mut writer_ids = writers.ids();
    writer_ids.sort();
    assert_eq!(writer_ids, [ALEX, "team@group.calendar.google.com"]);
    let entry = g
        .get("/users/me/calendarList/primary", &[])
        .await
        .expect(200);
    assert_eq!(entry.body["id"], ALEX);
    g.get("/users/me/calendarList/nope%40example.com", &[])
        .await
        .expect_error(404, "notFound");

    // Incremental: only what changed, deleted entries included.
    let none = g
        .get("/users/me/calendarList", &[("syncToken", &sync)])
        .await
        .expect(200);
    assert!(none.items().is_empty());
    g.seed_calendar(json!({"id": "team@group.calendar.google.com", "summaryOverride": "My team"}))
        .await;
    g.seed_calendar(json!({"id": "holidays@group.v.calendar.google.com", "deleted": true}))
        .await;
    let changed = g
        .get("/users/me/calendarList", &[("syncToken", &sync)])
        .await
        .expect(200);
    let mut changed_ids = changed.ids();
    changed_ids.sort();
    assert_eq!(
        changed_ids,
        [
            "holidays@group.v.calendar.google.com",
            "team@group.calendar.google.com"
        ]
    );
    let deleted = changed
        .items()
        .into_iter()
        .find(|e| e["id"] == "holidays@group.v.calendar.google.com")
        .expect("deleted entry");
    assert_eq!(deleted["deleted"], true);
    g.get(
        "/users/me/calendarList",
        &[("syncToken", &sync), ("minAccessRole", "reader")],
    )
    .await
    .expect_error(400, "invalid");
    g.get(
        "/users/me/calendarList",
        &[("syncToken", &sync), ("showDeleted", "false")],
    )
    .await
    .expect_error(400, "invalid");
    g.control("invalidate_sync_tokens", &json!({"user": ALEX}))
        .await;
    g.get("/users/me/calendarList", &[("syncToken", &sync)])
        .await
        .expect_error(410, "fullSyncRequired");
}

#[tokio::test]
async fn full_sync_pages_with_the_sync_token_only_on_the_last_page() {
    let g = G::start().await;
    for i in 0..7 {
        g.seed_event(
            "primary",
            timed(
                &format!("e{i}"),
                &format!("2030-01-0{}T09:00:00Z", i + 1),
                &format!("2030-01-0{}T10:00:00Z", i + 1),
            ),
        )
        .await;
    }
    let pages = g.list_all(ALEX, &[("maxResults", "3")]).await;
    assert_eq!(
        pages.iter().map(|p| p.items().len()).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    for page in &pages[..2] {
        assert!(page.body["nextPageToken"].is_string());
        assert!(
            page.body.get("nextSyncToken").is_none(),
            "nextSyncToken only on the last page"
        );
    }
    assert!(pages[2].body.get("nextPageToken").is_none());
    let mut ids: Vec<String> = pages.iter().flat_map(Resp::ids).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7);
    assert!(ids.iter().all(|id| valid_event_id(id)), "{ids:?}");
    let header = &pages[0].body;
    assert_eq!(header["accessRole"], "owner");
    assert_eq!(header["timeZone"], "UTC");
    assert!(header["defaultReminders"].is_array());

    let one = g
        .get(&format!("/calendars/{}/events", enc(ALEX)), &[])
        .await
        .expect(200);
    assert_eq!(one.items().len(), 7, "default maxResults is 250");
    assert!(one.body["nextSyncToken"].is_string());
    g.get("/calendars/primary/events", &[("maxResults", "5000")])
        .await
        .expect(200);
    g.get("/calendars/primary/events", &[("maxResults", "0")])
        .await
        .expect_error(400, "invalid");
    g.get("/calendars/primary/events", &[("bogus", "1")])
        .await
        .expect_error(400, "invalid");
    // A page token belongs to its query.
    let token = pages[0].body["nextPageToken"].as_str().expect("token");
    g.get(
        "/calendars/primary/events",
        &[
            ("maxResults", "3"),
            ("pageToken", token),
            ("singleEvents", "true"),
        ],
    )
    .await
    .expect_error(400, "invalid");
    g.get("/calendars/primary/events", &[("pageToken", "garbage")])
        .await
        .expect_error(400, "invalid");
    // Replaying a page token gives the same page.
    let again = g
        .get(
            "/calendars/primary/events",
            &[("maxResults", "3"), ("pageToken", token)],
        )
        .await
        .expect(200);
    assert_eq!(again.ids(), pages[1].ids());
    // Filters of a full sync.
    let window = g
        .get(
            "/calendars/primary/events",
            &[
                ("timeMin", "2030-01-03T00:00:00Z"),
                ("timeMax", "2030-01-05T00:00:00Z"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(window.items().len(), 2);
    g.get(
        "/calendars/primary/events",
        &[
            ("timeMin", "2030-01-05T00:00:00Z"),
            ("timeMax", "2030-01-03T00:00:00Z"),
        ],
    )
    .await
    .expect_error(400, "timeRangeEmpty");
    let found = g
        .get("/calendars/primary/events", &[("q", "e3")])
        .await
        .expect(200);
    assert_eq!(found.items().len(), 1);
}

#[tokio::test]
async fn empty_pages_and_tiny_page_size_faults() {
    let g = G::start().await;
    for i in 0..3 {
        g.seed_event(
            "primary",
            timed(
                &format!("e{i}"),
                &format!("2030-01-0{}T09:00:00Z", i + 1),
                &format!("2030-01-0{}T10:00:00Z", i + 1),
            ),
        )
        .await;
    }
    g.faults(json!({"add": [{"kind": "empty_pages", "count": 2, "route": "events.list"}]}))
        .await;
    let pages = g.list_all("primary", &[]).await;
    assert_eq!(
        pages.iter().map(|p| p.items().len()).collect::<Vec<_>>(),
        [0, 0, 3]
    );
    assert!(
        pages[0].body["nextPageToken"].is_string() && pages[0].body.get("nextSyncToken").is_none()
    );
    let sync = sync_token(&pages);

    g.faults(json!({"page_size": 1})).await;
    let pages = g.list_all("primary", &[("maxResults", "100")]).await;
    assert_eq!(
        pages.iter().map(|p| p.items().len()).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    // Empty pages happen in incremental rounds too, and the sync token stays on the last page.
    g.faults(json!({"page_size": 0, "add": [{"kind": "empty_pages", "user": ALEX}]}))
        .await;
    g.insert(
        "primary",
        &timed("new", "2030-02-01T09:00:00Z", "2030-02-01T10:00:00Z"),
    )
    .await
    .expect(200);
    let round = g.list_all("primary", &[("syncToken", &sync)]).await;
    assert_eq!(
        round.iter().map(|p| p.items().len()).collect::<Vec<_>>(),
        [0, 1]
    );
    let faults = g.pending_faults().await;
    assert_eq!(faults["pending"], json!([]));
    assert_eq!(faults["page_size"], Value::Null);
}

#[tokio::test]
async fn list_latency_delays_event_pages_by_their_size() {
    let g = G::start().await;
    for i in 0..4 {
        g.seed_event(
            "primary",
            timed(
                &format!("e{i}"),
                &format!("2030-01-0{}T09:00:00Z", i + 1),
                &format!("2030-01-0{}T10:00:00Z", i + 1),
            ),
        )
        .await;
    }
    // 100 ms per page + 20 ms per item: a page of 4 takes at least 180 ms.
    g.faults(json!({"list_latency": {"page_ms": 100, "per_item_us": 20_000}}))
        .await;
    let t = Instant::now();
    let pages = g.list_all("primary", &[]).await;
    assert_eq!(pages.len(), 1);
    assert!(
        t.elapsed() >= Duration::from_millis(180),
        "{:?}",
        t.elapsed()
    );
    // A model that would hold a full page over a minute is refused, the old one kept.
    let refused = g
        .http
        .post(format!("{}/_control/google/faults", g.base()))
        .json(&json!({"list_latency": {"page_ms": 0, "per_item_us": 30_000}}))
        .send()
        .await
        .expect("faults");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let faults = g.pending_faults().await;
    assert_eq!(
        faults["list_latency"],
        json!({"page_ms": 100, "per_item_us": 20_000})
    );
    // Zeros remove it.
    g.faults(json!({"list_latency": {"page_ms": 0, "per_item_us": 0}}))
        .await;
    let t = Instant::now();
    g.list_all("primary", &[]).await;
    assert!(
        t.elapsed() < Duration::from_millis(180),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn incremental_sync_reports_updates_deletions_and_cancelled_exceptions() {
    let g = G::start().await;
    let single = g
        .seed_event(
            "primary",
            timed("Dentist", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        )
        .await;
    let single_id = single["id"].as_str().expect("id").to_string();
    let other = g
        .seed_event(
            "primary",
            timed("Lunch", "2030-01-08T12:00:00Z", "2030-01-08T13:00:00Z"),
        )
        .await;
    let other_id = other["id"].as_str().expect("id").to_string();
    let series = g
        .seed_event(
            "primary",
            json!({
                "id": "standup0001",
                "summary": "Standup",
                "start": {"dateTime": "2030-01-07T09:30:00+01:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2030-01-07T09:45:00+01:00", "timeZone": "Europe/Berlin"},
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
            }),
        )
        .await;
    assert_eq!(series["recurrence"][0], "RRULE:FREQ=DAILY;COUNT=5");
    let full = g.list_all("primary", &[]).await;
    assert_eq!(full[0].items().len(), 3);
    let sync = sync_token(&full);

    // Nothing changed: an empty page with a new sync token.
    let nothing = g
        .get("/calendars/primary/events", &[("syncToken", &sync)])
        .await
        .expect(200);
    assert!(nothing.items().is_empty());
    assert!(nothing.body["nextSyncToken"].is_string());

    // Another client edits one event; this client deletes another and one instance.
    let edited = g
        .control(
            "events/patch",
            &json!({"user": ALEX, "eventId": single_id, "patch": {"summary": "Dentist (moved)"}}),
        )
        .await;
    schema::check("Event", &edited);
    assert_ne!(edited["etag"], single["etag"]);
    g.delete(&format!("/calendars/primary/events/{other_id}"), &[])
        .await
        .expect(204);
    g.delete(
        "/calendars/primary/events/standup0001_20300109T083000Z",
        &[],
    )
    .await
    .expect(204);

    let round = g.list_all("primary", &[("syncToken", &sync)]).await;
    let items: Vec<Value> = round.iter().flat_map(Resp::items).collect();
    assert_eq!(items.len(), 3, "{items:#?}");
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {items:#?}"))
    };
    assert_eq!(by_id(&single_id)["summary"], "Dentist (moved)");
    let deleted = by_id(&other_id);
    let mut keys: Vec<&str> = deleted
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["etag", "id", "kind", "status"],
        "a deletion carries minimal fields"
    );
    assert_eq!(deleted["status"], "cancelled");
    let exception = by_id("standup0001_20300109T083000Z");
    assert_eq!(exception["status"], "cancelled");
    assert_eq!(exception["recurringEventId"], "standup0001");
    assert_eq!(
        exception["originalStartTime"]["dateTime"],
        "2030-01-09T09:30:00+01:00"
    );
    assert_eq!(exception["originalStartTime"]["timeZone"], "Europe/Berlin");
    assert!(exception.get("summary").is_none());
    let sync2 = sync_token(&round);

    // A plain list keeps the cancelled exception (it hides an instance), not the deletion.
    let plain = g.get("/calendars/primary/events", &[]).await.expect(200);
    let mut plain_ids = plain.ids();
    plain_ids.sort();
    // The single event's id is random: sort the expectation too.
    let mut want = [
        single_id.as_str(),
        "standup0001",
        "standup0001_20300109T083000Z",
    ];
    want.sort();
    assert_eq!(plain_ids, want);
    let expanded = g
        .get(
            "/calendars/primary/events",
            &[
                ("singleEvents", "true"),
                ("timeMin", "2030-01-01T00:00:00Z"),
                ("timeMax", "2030-02-01T00:00:00Z"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(expanded.items().len(), 1 + 4, "four standups remain");
    assert!(!expanded
        .ids()
        .contains(&"standup0001_20300109T083000Z".to_string()));
    let with_deleted = g
        .get("/calendars/primary/events", &[("showDeleted", "true")])
        .await
        .expect(200);
    let full_deleted = with_deleted
        .items()
        .into_iter()
        .find(|i| i["id"] == other_id.as_str())
        .expect("shown");
    assert_eq!(
        full_deleted["summary"], "Lunch",
        "showDeleted returns the details"
    );

    // Deleting the series cancels it and its exceptions.
    g.delete("/calendars/primary/events/standup0001", &[])
        .await
        .expect(204);
    let round = g
        .get("/calendars/primary/events", &[("syncToken", &sync2)])
        .await
        .expect(200);
    let mut ids = round.ids();
    ids.sort();
    assert_eq!(ids, ["standup0001"]);
    assert_eq!(round.items()[0]["status"], "cancelled");
}

#[tokio::test]
async fn sync_tokens_refuse_filters() {
    let g = G::start().await;
    g.seed_event(
        "primary",
        timed("x", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
    )
    .await;
    let sync = sync_token(&g.list_all("primary", &[]).await);
    for (param, value) in [
        ("timeMin", "2030-01-01T00:00:00Z"),
        ("timeMax", "2030-01-01T00:00:00Z"),
        ("q", "x"),
        ("orderBy", "updated"),
        ("iCalUID", "x@google.com"),
        ("privateExtendedProperty", "a=b"),
        ("sharedExtendedProperty", "a=b"),
        ("updatedMin", "2030-01-01T00:00:00Z"),
    ] {
        let r = g
            .get(
                "/calendars/primary/events",
                &[("syncToken", &sync), (param, value)],
            )
            .await
            .expect_error(400, "invalid");
        assert_eq!(r.body["error"]["errors"][0]["location"], param);
    }
    g.get(
        "/calendars/primary/events",
        &[("syncToken", &sync), ("showDeleted", "false")],
    )
    .await
    .expect_error(400, "invalid");
    g.get(
        "/calendars/primary/events",
        &[("syncToken", &sync), ("singleEvents", "true")],
    )
    .await
    .expect_error(400, "invalid");
    g.get("/calendars/primary/events", &[("syncToken", "not-a-token")])
        .await
        .expect_error(400, "invalid");
    // Allowed: showDeleted=true and maxResults.
    g.get(
        "/calendars/primary/events",
        &[
            ("syncToken", &sync),
            ("showDeleted", "true"),
            ("maxResults", "10"),
        ],
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn invalidated_sync_tokens_require_a_full_sync() {
    let g = G::start().await;
    g.seed_event(
        "primary",
        timed("x", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
    )
    .await;
    let sync = sync_token(&g.list_all("primary", &[]).await);
    g.get("/calendars/primary/events", &[("syncToken", &sync)])
        .await
        .expect(200);
    let answer = g
        .control(
            "invalidate_sync_tokens",
            &json!({"user": ALEX, "calendarId": "primary"}),
        )
        .await;
    assert_eq!(answer["invalidated"], 1);
    let r = g
        .get("/calendars/primary/events", &[("syncToken", &sync)])
        .await
        .expect_error(410, "fullSyncRequired");
    assert_eq!(
        r.body["error"]["message"],
        "Sync token is no longer valid, a full sync is required."
    );
    let fresh = sync_token(&g.list_all("primary", &[]).await);
    g.get("/calendars/primary/events", &[("syncToken", &fresh)])
        .await
        .expect(200);
    // A reset forgets everything: old tokens are stale too.
    g.cloud.state().reset();
    let g2 = G {
        token: g
            .cloud
            .state()
            .mint_access_token(Provider::Google, ALEX)
            .expect("token"),
        cloud: g.cloud,
        http: g.http,
    };
    g2.get("/calendars/primary/events", &[("syncToken", &fresh)])
        .await
        .expect_error(410, "fullSyncRequired");
}

#[tokio::test]
async fn client_supplied_ids_are_validated_and_unique() {
    let g = G::start().await;
    let id = "5f0c1a2b3c4d4e5f8a9b0c1d2e3f4a5b"; // a UUID without dashes
    let mut event = timed("Idempotent", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z");
    event["id"] = json!(id);
    let created = g.insert("primary", &event).await.expect(200);
    assert_eq!(created.body["id"], id);
    assert_eq!(created.body["status"], "confirmed");
    assert_eq!(created.body["iCalUID"], format!("{id}@google.com"));
    assert_eq!(created.body["organizer"]["email"], ALEX);
    assert_eq!(created.body["creator"]["self"], true);
    assert_eq!(created.body["sequence"], 0);
    assert_eq!(created.body["reminders"]["useDefault"], true);
    assert!(created.body["htmlLink"]
        .as_str()
        .unwrap_or("")
        .starts_with("https://www.google.com/calendar/event?eid="));
    let r = g
        .insert("primary", &event)
        .await
        .expect_error(409, "duplicate");
    assert_eq!(
        r.body["error"]["message"],
        "The requested identifier already exists."
    );
    for bad in [
        "abcd",
        "ABCDEF12",
        "wxyz12345",
        "abc-def-123",
        "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    ] {
        let mut e = event.clone();
        e["id"] = json!(bad);
        g.insert("primary", &e).await.expect_error(400, "invalid");
    }
    let generated = g
        .insert(
            "primary",
            &timed("No id", "2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z"),
        )
        .await
        .expect(200);
    assert!(valid_event_id(generated.body["id"].as_str().unwrap_or("")));
    // The same id on another calendar is fine.
    g.seed_calendar(json!({"id": "team@group.calendar.google.com", "accessRole": "writer"}))
        .await;
    g.insert("team@group.calendar.google.com", &event)
        .await
        .expect(200);

    // Members outside the schema are refused; members in it round-trip.
    let mut odd = timed("Odd", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z");
    odd["colour"] = json!("red");
    let response = g
        .http
        .post(format!("{}/calendar/v3/calendars/primary/events", g.base()))
        .bearer_auth(&g.token)
        .json(&odd)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("JSON");
    schema::check_error(400, &body);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Unknown name \"colour\""),
        "{body}"
    );
    let rich = json!({
        "summary": "Rich", "location": "Room 1", "description": "<b>hi</b>", "colorId": "5",
        "start": {"date": "2030-03-01"}, "end": {"date": "2030-03-02"},
        "transparency": "transparent", "visibility": "private",
        "attendees": [{"email": SAM, "optional": true}, {"email": ALEX, "responseStatus": "accepted"}],
        "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 15}]},
        "extendedProperties": {"private": {"almanacId": "a1"}, "shared": {"k": "v"}},
        "guestsCanModify": true, "source": {"title": "web", "url": "https://example.com"},
    });
    let stored = g.insert("primary", &rich).await.expect(200).body;
    for key in [
        "summary",
        "location",
        "description",
        "colorId",
        "start",
        "end",
        "transparency",
        "visibility",
        "reminders",
        "extendedProperties",
        "guestsCanModify",
        "source",
    ] {
        assert_eq!(stored[key], rich[key], "{key}");
    }
    assert_eq!(stored["attendees"][0]["responseStatus"], "needsAction");
    assert_eq!(stored["attendees"][1]["self"], true);
    let found = g
        .get(
            "/calendars/primary/events",
            &[("privateExtendedProperty", "almanacId=a1")],
        )
        .await
        .expect(200);
    assert_eq!(found.ids(), [stored["id"].as_str().unwrap_or("")]);
    let stats = g.stats().await;
    assert_eq!(stats["inserts_by_client"][G_CLIENT], 4, "{stats:#}");
}

#[tokio::test]
async fn every_writable_discovery_property_is_accepted() {
    let g = G::start().await;
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(schema::discovery_path()).expect("discovery document"),
    )
    .expect("JSON");
    let props = doc["schemas"]["Event"]["properties"]
        .as_object()
        .cloned()
        .expect("Event properties");
    fn sample(p: &Value, doc: &Value) -> Value {
        if let Some(r) = p.get("$ref").and_then(Value::as_str) {
            let s = &doc["schemas"][r];
            let first = s["properties"]
                .as_object()
                .and_then(|m| m.iter().next().map(|(k, v)| (k.clone(), v.clone())));
            return match first {
                Some((k, v)) => json!({k: sample(&v, doc)}),
                None => json!({}),
            };
        }
        match p.get("type").and_then(Value::as_str) {
            Some("string") => {
                let values = p
                    .get("description")
                    .and_then(Value::as_str)
                    .and_then(schema::enum_values);
                match (values, p.get("format").and_then(Value::as_str)) {
                    (Some(v), _) => json!(v[0]),
                    (None, Some("date-time")) => json!("2030-01-01T00:00:00Z"),
                    (None, Some("date")) => json!("2030-01-01"),
                    _ => json!("x"),
                }
            }
            Some("integer") => json!(1),
            Some("boolean") => json!(true),
            Some("array") => json!([sample(&p["items"], doc)]),
            Some("object") => match p.get("properties").and_then(Value::as_object) {
                Some(m) => m
                    .iter()
                    .next()
                    .map_or(json!({}), |(k, v)| json!({k: sample(v, doc)})),
                None => json!({"k": "v"}),
            },
            _ => json!({}),
        }
    }
    for (name, p) in &props {
        let mut event = timed("Probe", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z");
        if ["start", "end"].contains(&name.as_str()) {
            continue;
        }
        event[name] = sample(p, &doc);
        if name == "attendees" {
            event[name] = json!([{"email": SAM}]);
        }
        let r = g.insert("primary", &event).await;
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.contains("Unknown name"),
            "{name} was refused as unknown: {message}"
        );
    }
}

#[tokio::test]
async fn etags_if_match_and_deleting_twice() {
    let g = G::start().await;
    let created = g
        .insert(
            "primary",
            &timed("Plan", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        )
        .await
        .expect(200)
        .body;
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/calendars/primary/events/{id}");
    let etag1 = created["etag"].as_str().expect("etag").to_string();
    assert!(
        etag1.starts_with('"')
            && etag1.ends_with('"')
            && etag1[1..etag1.len() - 1]
                .chars()
                .all(|c| c.is_ascii_digit()),
        "{etag1}"
    );

    let patched = g
        .patch(
            &path,
            &[],
            &json!({"description": "agenda"}),
            &[("If-Match", &etag1)],
        )
        .await
        .expect(200)
        .body;
    let etag2 = patched["etag"].as_str().expect("etag").to_string();
    assert_ne!(etag1, etag2);
    assert_eq!(patched["summary"], "Plan", "patch keeps other members");
    assert_eq!(patched["sequence"], 0);
    let r = g
        .patch(
            &path,
            &[],
            &json!({"summary": "stale"}),
            &[("If-Match", &etag1)],
        )
        .await
        .expect_error(412, "conditionNotMet");
    assert_eq!(r.body["error"]["errors"][0]["location"], "If-Match");
    assert_eq!(r.body["error"]["errors"][0]["locationType"], "header");

    // Only reminders: new etag, same `updated`.
    let reminded = g.patch(&path, &[], &json!({"reminders": {"useDefault": false, "overrides": [{"method": "email", "minutes": 30}]}}), &[]).await.expect(200).body;
    assert_ne!(reminded["etag"], patched["etag"]);
    assert_eq!(reminded["updated"], patched["updated"]);
    // A time change bumps the sequence; PUT replaces the whole event.
    let moved = g
        .put(
            &path,
            &timed("Plan B", "2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z"),
            &[("If-Match", reminded["etag"].as_str().unwrap_or(""))],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(moved["sequence"], 1);
    assert!(moved.get("description").is_none(), "PUT is a full replace");
    assert_eq!(moved["created"], created["created"]);
    let mut lower = timed("Plan C", "2030-01-07T11:00:00Z", "2030-01-07T12:00:00Z");
    lower["sequence"] = json!(0);
    g.put(&path, &lower, &[]).await.expect_error(400, "invalid");
    let mut backwards = timed("Backwards", "2030-01-07T12:00:00Z", "2030-01-07T11:00:00Z");
    g.put(&path, &backwards, &[])
        .await
        .expect_error(400, "timeRangeEmpty");
    backwards["start"] = json!({"date": "2030-01-07"});
    g.put(&path, &backwards, &[])
        .await
        .expect_error(400, "invalid");
    g.insert("primary", &json!({"summary": "No times"}))
        .await
        .expect_error(400, "required");

    g.delete(&path, &[("If-Match", &etag1)])
        .await
        .expect_error(412, "conditionNotMet");
    g.delete(&path, &[("If-Match", moved["etag"].as_str().unwrap_or(""))])
        .await
        .expect(204);
    let r = g.delete(&path, &[]).await.expect_error(410, "deleted");
    assert_eq!(r.body["error"]["code"], 410);
    let gone = g.get(&path, &[]).await.expect(200);
    assert_eq!(gone.body["status"], "cancelled");
    g.get("/calendars/primary/events/nosuchevent1", &[])
        .await
        .expect_error(404, "notFound");
    g.delete("/calendars/primary/events/nosuchevent1", &[])
        .await
        .expect_error(404, "notFound");
}

#[tokio::test]
async fn reader_calendars_are_read_only() {
    let g = G::start().await;
    let cal = "holidays@group.v.calendar.google.com";
    g.seed_calendar(json!({"id": cal, "summary": "Holidays", "accessRole": "reader", "timeZone": "America/New_York"})).await;
    let seeded = g.seed_event(cal, json!({"summary": "New Year", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-02"}})).await;
    let id = seeded["id"].as_str().expect("id");
    let list = g
        .get(&format!("/calendars/{}/events", enc(cal)), &[])
        .await
        .expect(200);
    assert_eq!(list.body["accessRole"], "reader");
    assert_eq!(list.body["timeZone"], "America/New_York");
    assert_eq!(list.items().len(), 1);
    let r = g
        .insert(
            cal,
            &timed("Mine", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        )
        .await
        .expect_error(403, "requiredAccessLevel");
    assert_eq!(r.body["error"]["status"], "PERMISSION_DENIED");
    let path = format!("/calendars/{}/events/{id}", enc(cal));
    g.patch(&path, &[], &json!({"summary": "x"}), &[])
        .await
        .expect_error(403, "requiredAccessLevel");
    g.put(
        &path,
        &timed("x", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        &[],
    )
    .await
    .expect_error(403, "requiredAccessLevel");
    g.delete(&path, &[])
        .await
        .expect_error(403, "requiredAccessLevel");
    let fb = "boss@gmail.example";
    g.seed_calendar(json!({"id": fb, "accessRole": "freeBusyReader"}))
        .await;
    g.get(&format!("/calendars/{}/events", enc(fb)), &[])
        .await
        .expect_error(403, "requiredAccessLevel");
    g.get("/calendars/unknown%40example.com/events", &[])
        .await
        .expect_error(404, "notFound");
    g.insert(
        "unknown@example.com",
        &timed("x", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
    )
    .await
    .expect_error(404, "notFound");
}

#[tokio::test]
async fn conference_data_needs_version_1_and_meet_is_created_asynchronously() {
    let g = G::start().await;
    let mut event = timed("Call", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z");
    event["conferenceData"] = json!({"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}});
    let ignored = g.insert("primary", &event).await.expect(200).body;
    assert!(
        ignored.get("conferenceData").is_none(),
        "ignored without conferenceDataVersion=1"
    );
    let stats = g.stats().await;
    assert_eq!(stats["conference_data_version_1_on_every_write"], false);

    let created = g
        .post(
            "/calendars/primary/events",
            &[("conferenceDataVersion", "1")],
            &event,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        created["conferenceData"]["createRequest"]["status"]["statusCode"],
        "pending"
    );
    assert_eq!(
        created["conferenceData"]["createRequest"]["requestId"],
        "req-1"
    );
    assert!(created.get("hangoutLink").is_none());
    let id = created["id"].as_str().expect("id").to_string();
    let path = format!("/calendars/primary/events/{id}");
    let got = g.get(&path, &[]).await.expect(200).body;
    let conference = &got["conferenceData"];
    assert_eq!(
        conference["createRequest"]["status"]["statusCode"],
        "success"
    );
    let link = got["hangoutLink"].as_str().expect("hangoutLink");
    let code = conference["conferenceId"].as_str().expect("conferenceId");
    assert_eq!(link, format!("https://meet.google.com/{code}"));
    assert_eq!(code.split('-').map(str::len).collect::<Vec<_>>(), [3, 4, 3]);
    let types: Vec<&str> = conference["entryPoints"]
        .as_array()
        .expect("entryPoints")
        .iter()
        .filter_map(|e| e["entryPointType"].as_str())
        .collect();
    assert!(
        types.contains(&"video") && types.contains(&"phone"),
        "{types:?}"
    );
    assert_ne!(
        got["etag"], created["etag"],
        "the conference changed the event"
    );

    // Without version 1 a write cannot drop the conference; a repeated requestId is ignored.
    let kept = g
        .patch(
            &path,
            &[],
            &json!({"conferenceData": null, "summary": "Call 2"}),
            &[],
        )
        .await
        .expect(200)
        .body;
    assert_eq!(kept["hangoutLink"], link);
    let same = g.patch(&path, &[("conferenceDataVersion", "1")], &json!({"conferenceData": {"createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}), &[]).await.expect(200).body;
    assert_eq!(same["conferenceData"]["conferenceId"], code);
    let mut bad = event.clone();
    bad["conferenceData"]["createRequest"]["conferenceSolutionKey"]["type"] = json!("eventHangout");
    g.post(
        "/calendars/primary/events",
        &[("conferenceDataVersion", "1")],
        &bad,
    )
    .await
    .expect_error(400, "invalid");
    g.post(
        "/calendars/primary/events",
        &[("conferenceDataVersion", "2")],
        &event,
    )
    .await
    .expect_error(400, "invalid");
    let removed = g
        .patch(
            &path,
            &[("conferenceDataVersion", "1")],
            &json!({"conferenceData": null}),
            &[],
        )
        .await
        .expect(200)
        .body;
    assert!(removed.get("conferenceData").is_none() && removed.get("hangoutLink").is_none());

    let stats = g.stats().await;
    // The conferenceDataVersion=2 insert was refused before it counted.
    assert_eq!(stats["writes"], 6, "{stats:#}");
    assert_eq!(
        stats["writes_with_conference_data_version_1"], 4,
        "{stats:#}"
    );
    assert_eq!(stats["conference_data_version_1_on_every_write"], false);
}

#[tokio::test]
async fn single_events_expand_series_with_google_instance_ids() {
    let g = G::start().await;
    let series = json!({
        "id": "series0001",
        "summary": "Review",
        "start": {"dateTime": "2030-03-25T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-03-25T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4", "EXDATE;TZID=Europe/Berlin:20300401T090000"],
    });
    let master = g.insert("primary", &series).await.expect(200).body;
    assert_eq!(master["recurrence"], series["recurrence"]);
    let window = [
        ("singleEvents", "true"),
        ("timeMin", "2030-03-01T00:00:00Z"),
        ("timeMax", "2030-05-01T00:00:00Z"),
        ("orderBy", "startTime"),
    ];
    let list = g
        .get("/calendars/primary/events", &window)
        .await
        .expect(200);
    // 25 March is CET (UTC+1), 8 and 15 April CEST (UTC+2); 1 April is excluded.
    assert_eq!(
        list.ids(),
        [
            "series0001_20300325T080000Z",
            "series0001_20300408T070000Z",
            "series0001_20300415T070000Z"
        ]
    );
    let second = &list.items()[1];
    assert_eq!(second["recurringEventId"], "series0001");
    assert_eq!(
        second["originalStartTime"]["dateTime"],
        "2030-04-08T09:00:00+02:00"
    );
    assert_eq!(second["start"]["dateTime"], "2030-04-08T09:00:00+02:00");
    assert_eq!(second["start"]["timeZone"], "Europe/Berlin");
    assert!(second.get("recurrence").is_none());
    assert_eq!(second["iCalUID"], master["iCalUID"]);

    // Moving one instance makes an exception with the same id.
    let moved = g.patch("/calendars/primary/events/series0001_20300408T070000Z", &[], &json!({"start": {"dateTime": "2030-04-08T14:00:00+02:00", "timeZone": "Europe/Berlin"}, "end": {"dateTime": "2030-04-08T15:00:00+02:00", "timeZone": "Europe/Berlin"}}), &[]).await.expect(200).body;
    assert_eq!(
        moved["originalStartTime"]["dateTime"],
        "2030-04-08T09:00:00+02:00"
    );
    assert_eq!(moved["recurringEventId"], "series0001");
    let list = g
        .get("/calendars/primary/events", &window)
        .await
        .expect(200);
    assert_eq!(
        list.items()[1]["start"]["dateTime"],
        "2030-04-08T14:00:00+02:00"
    );
    assert_eq!(list.items().len(), 3);
    let plain = g.get("/calendars/primary/events", &[]).await.expect(200);
    let mut ids = plain.ids();
    ids.sort();
    assert_eq!(ids, ["series0001", "series0001_20300408T070000Z"]);
    let instance = g
        .get("/calendars/primary/events/series0001_20300415T070000Z", &[])
        .await
        .expect(200);
    assert_eq!(instance.body["recurringEventId"], "series0001");
    g.get("/calendars/primary/events/series0001_20300416T070000Z", &[])
        .await
        .expect_error(404, "notFound");
    let instances = g
        .get("/calendars/primary/events/series0001/instances", &[])
        .await
        .expect(200);
    assert_eq!(instances.items().len(), 3);

    // All-day series: `_YYYYMMDD`.
    g.insert("primary", &json!({"id": "annual0001", "summary": "Birthday", "start": {"date": "2030-02-10"}, "end": {"date": "2030-02-11"}, "recurrence": ["RRULE:FREQ=YEARLY"]})).await.expect(200);
    let years = g
        .get(
            "/calendars/primary/events",
            &[
                ("singleEvents", "true"),
                ("timeMin", "2030-01-01T00:00:00Z"),
                ("timeMax", "2032-12-31T00:00:00Z"),
                ("q", "Birthday"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(
        years.ids(),
        [
            "annual0001_20300210",
            "annual0001_20310210",
            "annual0001_20320210"
        ]
    );
    assert_eq!(years.items()[1]["start"]["date"], "2031-02-10");
    assert_eq!(years.items()[1]["originalStartTime"]["date"], "2031-02-10");

    g.get("/calendars/primary/events", &[("orderBy", "startTime")])
        .await
        .expect_error(400, "invalid");
    let mut no_zone = series.clone();
    no_zone["id"] = json!("series0002");
    no_zone["start"] = json!({"dateTime": "2030-03-25T09:00:00+01:00"});
    g.insert("primary", &no_zone)
        .await
        .expect_error(400, "required");
    let mut bad_rule = series.clone();
    bad_rule["id"] = json!("series0003");
    bad_rule["recurrence"] = json!(["DTSTART:20300325T090000Z"]);
    g.insert("primary", &bad_rule)
        .await
        .expect_error(400, "invalid");
    bad_rule["recurrence"] = json!(["RRULE:FREQ=SOMETIMES"]);
    g.insert("primary", &bad_rule)
        .await
        .expect_error(400, "invalid");
}

#[tokio::test]
async fn freebusy_reports_busy_time_limits_and_errors() {
    let g = G::start().await;
    g.insert(
        "primary",
        &timed("A", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
    )
    .await
    .expect(200);
    g.insert(
        "primary",
        &timed("B", "2030-01-07T09:30:00Z", "2030-01-07T11:00:00Z"),
    )
    .await
    .expect(200);
    let mut free = timed("Free", "2030-01-07T13:00:00Z", "2030-01-07T14:00:00Z");
    free["transparency"] = json!("transparent");
    g.insert("primary", &free).await.expect(200);
    let gone = g
        .insert(
            "primary",
            &timed("Gone", "2030-01-07T15:00:00Z", "2030-01-07T16:00:00Z"),
        )
        .await
        .expect(200);
    g.delete(
        &format!(
            "/calendars/primary/events/{}",
            gone.body["id"].as_str().unwrap_or("")
        ),
        &[],
    )
    .await
    .expect(204);
    g.control("events", &json!({"user": SAM, "event": timed("Sam busy", "2030-01-07T16:00:00Z", "2030-01-07T17:00:00Z")})).await;

    let day = |items: Value| json!({"timeMin": "2030-01-07T00:00:00Z", "timeMax": "2030-01-08T00:00:00Z", "items": items});
    let r = g
        .post(
            "/freeBusy",
            &[],
            &day(json!([{"id": "primary"}, {"id": SAM}, {"id": "nobody@example.com"}])),
        )
        .await
        .expect(200);
    assert_eq!(r.body["timeMin"], "2030-01-07T00:00:00.000Z");
    assert_eq!(
        r.body["calendars"]["primary"]["busy"],
        json!([{"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T11:00:00Z"}])
    );
    assert_eq!(
        r.body["calendars"][SAM]["busy"],
        json!([{"start": "2030-01-07T16:00:00Z", "end": "2030-01-07T17:00:00Z"}])
    );
    assert_eq!(
        r.body["calendars"]["nobody@example.com"]["errors"],
        json!([{"domain": "global", "reason": "notFound"}])
    );
    // Zone of the answer, clipping to the window.
    let mut zoned = day(json!([{"id": "primary"}]));
    zoned["timeZone"] = json!("Europe/Berlin");
    zoned["timeMin"] = json!("2030-01-07T09:30:00Z");
    let r = g.post("/freeBusy", &[], &zoned).await.expect(200);
    assert_eq!(
        r.body["calendars"]["primary"]["busy"],
        json!([{"start": "2030-01-07T10:30:00+01:00", "end": "2030-01-07T12:00:00+01:00"}])
    );

    // Limits.
    let mut many = day(json!([{"id": "primary"}, {"id": SAM}, {"id": ALEX}]));
    many["calendarExpansionMax"] = json!(2);
    let r = g.post("/freeBusy", &[], &many).await.expect(200);
    assert_eq!(
        r.body["calendars"][ALEX]["errors"][0]["reason"],
        "tooManyCalendarsRequested"
    );
    many["calendarExpansionMax"] = json!(51);
    g.post("/freeBusy", &[], &many)
        .await
        .expect_error(400, "invalid");
    many["calendarExpansionMax"] = json!(50);
    many["groupExpansionMax"] = json!(101);
    g.post("/freeBusy", &[], &many)
        .await
        .expect_error(400, "invalid");
    g.control(
        "groups",
        &json!({"id": "team@groups.example", "members": [ALEX, SAM, "carol@gmail.example"]}),
    )
    .await;
    let mut grouped = day(json!([{"id": "team@groups.example"}]));
    grouped["groupExpansionMax"] = json!(2);
    let r = g.post("/freeBusy", &[], &grouped).await.expect(200);
    assert_eq!(
        r.body["groups"]["team@groups.example"]["errors"][0]["reason"],
        "groupTooBig"
    );
    grouped["groupExpansionMax"] = json!(3);
    let r = g.post("/freeBusy", &[], &grouped).await.expect(200);
    assert_eq!(
        r.body["groups"]["team@groups.example"]["calendars"],
        json!([ALEX, SAM, "carol@gmail.example"])
    );
    assert_eq!(
        r.body["calendars"][SAM]["busy"][0]["start"],
        "2030-01-07T16:00:00Z"
    );
    assert_eq!(
        r.body["calendars"]["carol@gmail.example"]["errors"][0]["reason"],
        "notFound"
    );
    let mut backwards = day(json!([]));
    backwards["timeMax"] = json!("2030-01-06T00:00:00Z");
    g.post("/freeBusy", &[], &backwards)
        .await
        .expect_error(400, "timeRangeEmpty");
    g.post("/freeBusy", &[], &json!({"items": []}))
        .await
        .expect_error(400, "required");
}

#[tokio::test]
async fn rate_limits_quota_and_server_errors_are_injectable() {
    let g = G::start().await;
    g.faults(json!({"add": [
        {"kind": "error", "status": 429, "reason": "rateLimitExceeded", "retry_after_secs": 7, "route": "events.list"},
        {"kind": "error", "reason": "userRateLimitExceeded"},
        {"kind": "error", "reason": "quotaExceeded"},
        {"kind": "error", "status": 500},
        {"kind": "error", "status": 503, "user": ALEX},
    ]})).await;
    let r = g
        .get("/calendars/primary/events", &[])
        .await
        .expect_error(429, "rateLimitExceeded");
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(r.body["error"]["errors"][0]["domain"], "usageLimits");
    assert_eq!(r.body["error"]["status"], "RESOURCE_EXHAUSTED");
    let r = g
        .get("/users/me/calendarList", &[])
        .await
        .expect_error(403, "userRateLimitExceeded");
    assert!(r.headers.get("retry-after").is_none());
    let r = g
        .get("/users/me/calendarList", &[])
        .await
        .expect_error(403, "quotaExceeded");
    assert_eq!(
        r.body["error"]["message"],
        "Calendar usage limits exceeded."
    );
    g.get("/users/me/calendarList", &[])
        .await
        .expect_error(500, "backendError");
    // A fault for Alex does not hit Sam.
    let sam = g
        .cloud
        .state()
        .mint_access_token(Provider::Google, SAM)
        .expect("token");
    g.send(
        Method::GET,
        "/users/me/calendarList",
        &[],
        None,
        &[],
        Some(&sam),
    )
    .await
    .expect(200);
    let r = g
        .get("/users/me/calendarList", &[])
        .await
        .expect_error(503, "backendError");
    assert_eq!(r.body["error"]["status"], "UNAVAILABLE");
    g.get("/users/me/calendarList", &[]).await.expect(200);

    // A per-user budget per minute.
    g.faults(json!({"user_rate_limit": {"requests_per_minute": 2, "retry_after_secs": 30}}))
        .await;
    g.get("/users/me/calendarList", &[]).await.expect(200);
    g.get("/users/me/calendarList", &[]).await.expect(200);
    let r = g
        .get("/users/me/calendarList", &[])
        .await
        .expect_error(403, "userRateLimitExceeded");
    assert_eq!(r.headers["retry-after"], "30");
    g.send(
        Method::GET,
        "/users/me/calendarList",
        &[],
        None,
        &[],
        Some(&sam),
    )
    .await
    .expect(200);
    g.faults(json!({"clear": true})).await;
    g.get("/users/me/calendarList", &[]).await.expect(200);
    let stats = g.stats().await;
    assert_eq!(stats["faults_fired"], 6, "{stats:#}");
    assert_eq!(
        stats["requests_by_user"][SAM]["calendarList.list"], 2,
        "{stats:#}"
    );
    assert!(stats["requests"]["calendarList.list"].as_u64().unwrap_or(0) >= 10);

    // Bad control input is refused.
    let r = g
        .http
        .post(format!("{}/_control/google/faults", g.base()))
        .json(&json!({"add": [{"kind": "error", "route": "nope"}]}))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn captive_portal_delays_and_dropped_connections() {
    let g = G::start().await;
    g.faults(json!({"add": [{"kind": "captive_portal"}]})).await;
    let response = g
        .http
        .get(format!("{}/calendar/v3/users/me/calendarList", g.base()))
        .bearer_auth(&g.token)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/html"));
    let text = response.text().await.expect("body");
    assert!(serde_json::from_str::<Value>(&text).is_err() && text.contains("<html>"));

    g.faults(json!({"add": [{"kind": "delay", "ms": 300}]}))
        .await;
    let t = Instant::now();
    g.get("/users/me/calendarList", &[]).await.expect(200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // A lost response: the insert happened, the answer never came; the retry is a 409.
    g.faults(json!({"add": [{"kind": "drop_connection", "route": "events.insert"}]}))
        .await;
    let mut event = timed("Lost", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z");
    event["id"] = json!("lostresponse01");
    let lost = g
        .http
        .post(format!("{}/calendar/v3/calendars/primary/events", g.base()))
        .bearer_auth(&g.token)
        .json(&event)
        .send()
        .await;
    assert!(lost.is_err(), "the connection is closed unanswered");
    g.insert("primary", &event)
        .await
        .expect_error(409, "duplicate");
    g.get("/calendars/primary/events/lostresponse01", &[])
        .await
        .expect(200);
    // Dropped before it took effect.
    g.faults(json!({"add": [{"kind": "drop_connection", "processed": false}]}))
        .await;
    event["id"] = json!("neverarrived1");
    let lost = g
        .http
        .post(format!("{}/calendar/v3/calendars/primary/events", g.base()))
        .bearer_auth(&g.token)
        .json(&event)
        .send()
        .await;
    assert!(lost.is_err());
    g.get("/calendars/primary/events/neverarrived1", &[])
        .await
        .expect_error(404, "notFound");
    g.insert("primary", &event).await.expect(200);
}
