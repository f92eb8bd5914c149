//! The fake Microsoft Graph calendar API over real HTTP on loopback. Every JSON the fake
//! answers (events, calendars, schedules, suggestions, errors) and every body the tests
//! send is checked against the OpenAPI subset in `tests/specs/` (see `spec` below).

use std::collections::BTreeSet;

use almanac_fakecloud::{FakeCloud, Provider};
use reqwest::Method;
use serde_json::{json, Value};

/// A small OpenAPI 3 checker for the Graph subset: resolves `$ref`s, merges `allOf`,
/// tries `anyOf`/`oneOf` branches (ignoring the bare `{type: object, nullable: true}`
/// placeholder for non-null values), and checks property names, enum values, primitive
/// types and `date`/`date-time` formats recursively. Annotations (`@odata.*`,
/// `@removed`) are allowed anywhere.
mod spec {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    #[derive(Debug)]
    pub struct Spec {
        doc: Value,
    }

    impl Spec {
        /// `tests/specs/msgraph-v1.0-calendar.openapi.json` in the repository.
        pub fn default_path() -> PathBuf {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/specs/msgraph-v1.0-calendar.openapi.json")
        }

        pub fn load_from(path: &Path) -> Result<Spec, String> {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read the Microsoft Graph OpenAPI subset at {}: {e}. The Graph fake's \
                     tests validate every request and response against \
                     tests/specs/msgraph-v1.0-calendar.openapi.json (a copy of the project's \
                     shared/specs, kept in the repository).",
                    path.display()
                )
            })?;
            let doc: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
            if doc
                .pointer("/components/schemas/microsoft.graph.event")
                .is_none()
            {
                return Err(format!(
                    "{} has no microsoft.graph.event schema",
                    path.display()
                ));
            }
            Ok(Spec { doc })
        }

        pub fn load() -> Spec {
            Spec::load_from(&Spec::default_path()).unwrap_or_else(|e| panic!("{e}"))
        }

        /// Checks `value` against `components/schemas/{name}`.
        pub fn check(&self, name: &str, value: &Value) -> Result<(), Vec<String>> {
            let schema = self
                .doc
                .pointer(&format!("/components/schemas/{}", name.replace('/', "~1")))
                .unwrap_or_else(|| panic!("no schema {name} in the spec"));
            let mut errors = Vec::new();
            self.validate(schema, value, name, false, &mut errors);
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors)
            }
        }

        /// Checks a request body against the operation's `requestBody` schema. Action
        /// parameters compare case-insensitively (the CSDL spells them PascalCase, the
        /// Graph pages camelCase).
        pub fn check_request(
            &self,
            path: &str,
            method: &str,
            value: &Value,
        ) -> Result<(), Vec<String>> {
            let pointer = format!(
                "/paths/{}/{method}/requestBody/content/application~1json/schema",
                path.replace('~', "~0").replace('/', "~1")
            );
            let schema = self
                .doc
                .pointer(&pointer)
                .unwrap_or_else(|| panic!("no request schema for {method} {path}"));
            let mut errors = Vec::new();
            self.validate(schema, value, path, true, &mut errors);
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors)
            }
        }

        fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
            while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                let pointer = r.trim_start_matches('#');
                schema = self
                    .doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("unresolvable $ref {r}"));
            }
            schema
        }

        fn nullable(&self, schema: &Value) -> bool {
            let schema = self.resolve(schema);
            if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
                return true;
            }
            ["anyOf", "oneOf"].iter().any(|k| {
                schema
                    .get(*k)
                    .and_then(Value::as_array)
                    .is_some_and(|bs| bs.iter().any(|b| self.nullable(b)))
            })
        }

        /// Collects an object schema's properties (through `allOf` and `$ref`).
        fn collect(&self, schema: &Value, out: &mut BTreeMap<String, Value>) -> bool {
            let schema = self.resolve(schema);
            let mut object = schema.get("type").and_then(Value::as_str) == Some("object");
            if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
                for part in parts {
                    object |= self.collect(part, out);
                }
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                object = true;
                for (k, v) in props {
                    out.insert(k.clone(), v.clone());
                }
            }
            object
        }

        fn is_placeholder(branch: &Value) -> bool {
            branch.as_object().is_some_and(|o| {
                o.len() == 2
                    && o.get("type").and_then(Value::as_str) == Some("object")
                    && o.get("nullable").and_then(Value::as_bool) == Some(true)
            })
        }

        fn validate(
            &self,
            schema: &Value,
            value: &Value,
            at: &str,
            ci: bool,
            errors: &mut Vec<String>,
        ) {
            let schema = self.resolve(schema);
            if value.is_null() {
                if !self.nullable(schema) {
                    errors.push(format!("{at}: null is not allowed"));
                }
                return;
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                    let mut first = Vec::new();
                    for branch in branches.iter().filter(|b| !Spec::is_placeholder(b)) {
                        let mut e = Vec::new();
                        self.validate(branch, value, at, ci, &mut e);
                        if e.is_empty() {
                            return;
                        }
                        if first.is_empty() {
                            first = e;
                        }
                    }
                    errors.push(format!(
                        "{at}: matches no {key} branch ({})",
                        first.join("; ")
                    ));
                    return;
                }
            }
            if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
                if !allowed.contains(value) {
                    errors.push(format!("{at}: {value} is not one of {allowed:?}"));
                }
                return;
            }
            let mut props = BTreeMap::new();
            if self.collect(schema, &mut props) {
                let Some(object) = value.as_object() else {
                    errors.push(format!("{at}: expected an object, got {value}"));
                    return;
                };
                for (k, v) in object {
                    if k.starts_with('@') {
                        continue;
                    }
                    let found = props.iter().find(|(name, _)| {
                        if ci {
                            name.eq_ignore_ascii_case(k)
                        } else {
                            *name == k
                        }
                    });
                    match found {
                        Some((_, s)) => self.validate(s, v, &format!("{at}.{k}"), false, errors),
                        None => errors.push(format!("{at}: unknown property '{k}'")),
                    }
                }
                return;
            }
            let kind = schema.get("type").and_then(Value::as_str);
            match kind {
                Some("array") => match (value.as_array(), schema.get("items")) {
                    (Some(items), Some(item_schema)) => {
                        for (i, item) in items.iter().enumerate() {
                            self.validate(item_schema, item, &format!("{at}[{i}]"), false, errors);
                        }
                    }
                    (None, _) => errors.push(format!("{at}: expected an array, got {value}")),
                    _ => {}
                },
                Some("string") => match value.as_str() {
                    Some(text) => match schema.get("format").and_then(Value::as_str) {
                        Some("date-time")
                            if chrono::DateTime::parse_from_rfc3339(text).is_err() =>
                        {
                            errors.push(format!("{at}: '{text}' is not an RFC 3339 date-time"))
                        }
                        Some("date")
                            if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() =>
                        {
                            errors.push(format!("{at}: '{text}' is not a date"))
                        }
                        _ => {}
                    },
                    None => errors.push(format!("{at}: expected a string, got {value}")),
                },
                Some("boolean") if !value.is_boolean() => {
                    errors.push(format!("{at}: expected a boolean, got {value}"))
                }
                Some("integer") if !(value.is_i64() || value.is_u64()) => {
                    errors.push(format!("{at}: expected an integer, got {value}"))
                }
                Some("number") if !value.is_number() => {
                    errors.push(format!("{at}: expected a number, got {value}"))
                }
                _ => {}
            }
        }
    }
}

use spec::Spec;

const ADELE: &str = "adele@contoso.example";
const MEGAN: &str = "megan@contoso.example";
const IMMUTABLE: &str = "IdType=\"ImmutableId\"";

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    fn code(&self) -> String {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn items(&self) -> Vec<Value> {
        self.body["value"].as_array().cloned().unwrap_or_default()
    }

    fn ids(&self) -> Vec<String> {
        self.items()
            .iter()
            .map(|v| v["id"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

struct Graph {
    cloud: FakeCloud,
    http: reqwest::Client,
    token: String,
    spec: Spec,
    /// Send `Prefer: IdType="ImmutableId"` on every request.
    immutable: bool,
}

/// What a Graph path answers with (for validation).
fn schema_for(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    if path.ends_with("/getSchedule") {
        "microsoft.graph.scheduleInformation"
    } else if path.ends_with("/findMeetingTimes") {
        "microsoft.graph.meetingTimeSuggestionsResult"
    } else if path.contains("/events") || path.contains("/calendarView") {
        "microsoft.graph.event"
    } else {
        "microsoft.graph.calendar"
    }
}

impl Graph {
    async fn start() -> Graph {
        let cloud = FakeCloud::start().await.expect("start the fake cloud");
        let token = cloud
            .state()
            .mint_access_token(Provider::Microsoft, ADELE)
            .expect("mint a token");
        Graph {
            cloud,
            http: reqwest::Client::new(),
            token,
            spec: Spec::load(),
            immutable: true,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else if path.starts_with("/_control") {
            format!("{}{path}", self.cloud.base_url())
        } else {
            format!("{}/v1.0{path}", self.cloud.base_url())
        }
    }

    fn token_for(&self, email: &str) -> String {
        self.cloud
            .state()
            .mint_access_token(Provider::Microsoft, email)
            .expect("mint a token")
    }

    /// A Graph request; the body (if any) is sent as is (not validated).
    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.raw_as(&self.token, method, path, body, headers).await
    }

    async fn raw_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("Authorization", format!("Bearer {token}"));
        if self.immutable {
            request = request.header("Prefer", IMMUTABLE);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let resp = Resp {
            status,
            headers,
            body,
            text,
        };
        self.validate_response(path, &resp.body, status);
        resp
    }

    /// Checks an answer against the spec (errors as `odata.error`).
    fn validate_response(&self, path: &str, body: &Value, status: u16) {
        if body.is_null() {
            return;
        }
        if status >= 400 {
            self.assert_valid("odata.error", body);
            return;
        }
        if path.contains("/$batch") {
            for item in body["responses"].as_array().into_iter().flatten() {
                let inner_status = item["status"].as_u64().unwrap_or(0) as u16;
                self.validate_response("/inner", &item["body"], inner_status);
            }
            return;
        }
        if path == "/inner" {
            // Inner batch bodies: only errors and events/calendars are checked.
            if body.get("value").is_some() || body.get("id").is_some() {
                let schema = if body.get("name").is_some() || body["value"][0].get("name").is_some()
                {
                    "microsoft.graph.calendar"
                } else {
                    "microsoft.graph.event"
                };
                self.validate_items(schema, body);
            }
            return;
        }
        let schema = schema_for(path);
        if schema == "microsoft.graph.meetingTimeSuggestionsResult" {
            self.assert_valid(schema, body);
        } else {
            self.validate_items(schema, body);
        }
    }

    fn validate_items(&self, schema: &str, body: &Value) {
        match body.get("value").and_then(Value::as_array) {
            Some(items) => {
                for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
                    assert!(
                        key == "value" || key.starts_with("@odata."),
                        "unexpected envelope key {key}"
                    );
                }
                for item in items {
                    self.assert_valid(schema, item);
                }
            }
            None => self.assert_valid(schema, body),
        }
    }

    fn assert_valid(&self, schema: &str, value: &Value) {
        if let Err(errors) = self.spec.check(schema, value) {
            panic!("{schema} does not validate: {errors:#?}\n{value:#}");
        }
    }

    /// A Graph request whose body is checked against the spec before it is sent.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        if let Some(body) = body {
            let plain = path.split('?').next().unwrap_or("");
            if plain.ends_with("/getSchedule") {
                self.spec
                    .check_request("/me/calendar/getSchedule", "post", body)
                    .expect("getSchedule body validates");
            } else if plain.ends_with("/findMeetingTimes") {
                self.spec
                    .check_request("/me/findMeetingTimes", "post", body)
                    .expect("findMeetingTimes body validates");
            } else if !plain.ends_with("$batch") {
                self.assert_valid("microsoft.graph.event", body);
            }
        }
        self.raw(method, path, body, headers).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None, &[]).await
    }

    async fn post(&self, path: &str, body: &Value) -> Resp {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    async fn create(&self, body: &Value) -> Value {
        let r = self.post("/me/events", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// A control-API call that must succeed.
    async fn control(&self, path: &str, body: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}/_control/graph/{path}", self.cloud.base_url()))
            .json(body)
            .send()
            .await
            .expect("control request");
        let status = response.status();
        let value: Value = response.json().await.expect("control JSON");
        assert!(status.is_success(), "control {path}: {value}");
        value
    }

    /// The pending faults and models (`GET /_control/graph/faults`).
    async fn faults(&self) -> Value {
        self.http
            .get(format!("{}/_control/graph/faults", self.cloud.base_url()))
            .send()
            .await
            .expect("faults")
            .json()
            .await
            .expect("faults JSON")
    }

    async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_control/graph/stats", self.cloud.base_url()))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Seeds `n` one-hour events for Adele, `{prefix}0`… one a day at 09:00 from
    /// `first` November on.
    async fn seed_days(&self, prefix: &str, first: usize, n: usize) {
        for i in 0..n {
            self.seed(
                ADELE,
                event(
                    &format!("{prefix}{i}"),
                    &format!("2026-11-{:02}T09:00:00", first + i),
                    &format!("2026-11-{:02}T10:00:00", first + i),
                ),
            )
            .await;
        }
    }

    async fn seed(&self, email: &str, event: Value) -> Value {
        let seeded = self
            .control("events", &json!({"email": email, "event": event}))
            .await;
        self.assert_valid("microsoft.graph.event", &seeded);
        seeded
    }

    /// Follows a delta round from `first` to its deltaLink; returns (items, deltaLink, pages).
    async fn delta_round(
        &self,
        first: &str,
        headers: &[(&str, &str)],
    ) -> (Vec<Value>, String, usize) {
        let mut url = first.to_string();
        let mut items = Vec::new();
        for page in 1..=100 {
            let r = self.call(Method::GET, &url, None, headers).await;
            assert_eq!(r.status, 200, "{}", r.text);
            items.extend(r.items());
            if let Some(next) = r.body["@odata.nextLink"].as_str() {
                assert!(r.body.get("@odata.deltaLink").is_none());
                assert!(next.contains("$skiptoken="), "{next}");
                url = next.to_string();
                continue;
            }
            let delta = r.body["@odata.deltaLink"]
                .as_str()
                .expect("a round ends with a deltaLink")
                .to_string();
            assert!(delta.contains("$deltatoken="), "{delta}");
            return (items, delta, page);
        }
        panic!("the delta round did not end");
    }
}

fn event(subject: &str, start: &str, end: &str) -> Value {
    json!({
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": end, "timeZone": "UTC"},
    })
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------

#[test]
fn spec_helper_fails_clearly_and_is_not_vacuous() {
    let missing = Spec::load_from(std::path::Path::new("/nonexistent/msgraph.json"))
        .expect_err("a missing spec is an error");
    assert!(
        missing.contains("/nonexistent/msgraph.json") && missing.contains("tests/specs"),
        "{missing}"
    );
    let spec = Spec::load();
    assert!(spec
        .check(
            "microsoft.graph.event",
            &json!({"subject": "x", "showAs": "busy"})
        )
        .is_ok());
    assert!(spec
        .check("microsoft.graph.event", &json!({"subjekt": "x"}))
        .is_err());
    assert!(spec
        .check("microsoft.graph.event", &json!({"showAs": "sleeping"}))
        .is_err());
    assert!(spec
        .check(
            "microsoft.graph.event",
            &json!({"start": {"dateTime": "x", "zone": "UTC"}})
        )
        .is_err());
    assert!(spec
        .check(
            "microsoft.graph.event",
            &json!({"recurrence": {"pattern": {"type": "hourly"}}})
        )
        .is_err());
    assert!(spec
        .check(
            "microsoft.graph.event",
            &json!({"createdDateTime": "yesterday"})
        )
        .is_err());
    assert!(spec
        .check(
            "microsoft.graph.calendar",
            &json!({"color": "lightBlue", "canEdit": true})
        )
        .is_ok());
    assert!(spec
        .check_request(
            "/me/calendar/getSchedule",
            "post",
            &json!({"schedules": ["a@b"], "availabilityViewInterval": 15})
        )
        .is_ok());
}

#[tokio::test]
async fn crud_with_etags_html_body_and_412() {
    let g = Graph::start().await;
    let mut body = event("Planning", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    body["start"]["timeZone"] = json!("W. Europe Standard Time");
    body["end"]["timeZone"] = json!("W. Europe Standard Time");
    body["body"] = json!({"contentType": "html", "content": "<p>Agenda</p>"});
    body["location"] = json!({"displayName": "Room 1"});
    body["attendees"] =
        json!([{"emailAddress": {"address": MEGAN, "name": "Megan"}, "type": "required"}]);
    let created = g.create(&body).await;
    let id = text(&created["id"]).to_string();
    let ck = text(&created["changeKey"]).to_string();
    assert!(!ck.is_empty());
    assert_eq!(text(&created["@odata.etag"]), format!("W/\"{ck}\""));
    assert_eq!(text(&created["type"]), "singleInstance");
    // Stored in UTC by default (CET = UTC+1 in November), 7 fractional digits.
    assert_eq!(
        created["start"],
        json!({"dateTime": "2026-11-23T08:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(
        text(&created["originalStartTimeZone"]),
        "W. Europe Standard Time"
    );
    assert!(text(&created["createdDateTime"]).ends_with('Z'));
    let html = text(&created["body"]["content"]);
    assert!(
        html.starts_with("<html>") && html.contains("<p>Agenda</p>") && html.contains("</body>"),
        "{html}"
    );
    assert_eq!(text(&created["bodyPreview"]), "Agenda");
    assert_eq!(created["locations"][0]["displayName"], json!("Room 1"));
    assert_eq!(created["attendees"][0]["status"]["response"], json!("none"));
    assert_eq!(
        created["organizer"]["emailAddress"]["address"],
        json!(ADELE)
    );

    // GET in another zone, and as text.
    let r = g
        .call(
            Method::GET,
            &format!("/me/events/{id}"),
            None,
            &[
                ("Prefer", "outlook.timezone=\"Pacific Standard Time\""),
                ("Prefer", "outlook.body-content-type=\"text\""),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["start"],
        json!({"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "Pacific Standard Time"})
    );
    assert_eq!(
        r.body["body"],
        json!({"contentType": "text", "content": "Agenda"})
    );
    let applied = r.header("preference-applied").unwrap_or_default();
    assert!(
        applied.contains("outlook.timezone=\"Pacific Standard Time\"")
            && applied.contains("body-content-type"),
        "{applied}"
    );
    let tokyo = g
        .call(
            Method::GET,
            &format!("/me/events/{id}"),
            None,
            &[("Prefer", "outlook.timezone=\"Asia/Tokyo\"")],
        )
        .await;
    assert_eq!(
        tokyo.body["end"]["dateTime"],
        json!("2026-11-23T18:00:00.0000000")
    );

    // PATCH with the current etag: a new changeKey.
    let etag = format!("W/\"{ck}\"");
    let r = g
        .call(
            Method::PATCH,
            &format!("/me/events/{id}"),
            Some(&json!({"subject": "Planning v2"})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["subject"], json!("Planning v2"));
    let ck2 = text(&r.body["changeKey"]).to_string();
    assert_ne!(ck2, ck);
    // Stale etag: 412 on PATCH and DELETE.
    let r = g
        .call(
            Method::PATCH,
            &format!("/me/events/{id}"),
            Some(&json!({"subject": "lost update"})),
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 412);
    assert_eq!(r.code(), "ErrorIrresolvableConflict");
    let r = g
        .call(
            Method::DELETE,
            &format!("/me/events/{id}"),
            None,
            &[("If-Match", &etag)],
        )
        .await;
    assert_eq!(r.status, 412);
    let r = g.get(&format!("/me/events/{id}")).await;
    assert_eq!(r.body["subject"], json!("Planning v2"));
    // DELETE with the current etag, then it is gone.
    let r = g
        .call(
            Method::DELETE,
            &format!("/me/events/{id}"),
            None,
            &[("If-Match", &format!("W/\"{ck2}\""))],
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    let r = g.get(&format!("/me/events/{id}")).await;
    assert_eq!((r.status, r.code().as_str()), (404, "ErrorItemNotFound"));
    let r = g
        .call(Method::DELETE, &format!("/me/events/{id}"), None, &[])
        .await;
    assert_eq!(r.status, 404);
    // Every request of this test sent ImmutableId.
    let stats = g.stats().await;
    assert_eq!(stats["immutable_id"]["always"], json!(true), "{stats}");
    assert!(
        stats["requests"]["PATCH /me/events/{id}"].as_u64() >= Some(2),
        "{stats}"
    );
}

#[tokio::test]
async fn invalid_bodies_and_auth_are_rejected_like_graph() {
    let g = Graph::start().await;
    let mut bad = event("x", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    bad["colour"] = json!("red");
    let r = g.raw(Method::POST, "/me/events", Some(&bad), &[]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "RequestBodyRead"),
        "{}",
        r.text
    );
    let mut bad = event("x", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    bad["showAs"] = json!("sleeping");
    let r = g.raw(Method::POST, "/me/events", Some(&bad), &[]).await;
    assert_eq!((r.status, r.code().as_str()), (400, "RequestBodyRead"));
    let mut bad = event("x", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    bad["location"] = json!({"displayName": "x", "floor": 3});
    let r = g.raw(Method::POST, "/me/events", Some(&bad), &[]).await;
    assert_eq!(r.status, 400);
    let mut bad = event("x", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    bad["start"]["timeZone"] = json!("Mars Standard Time");
    let r = g.raw(Method::POST, "/me/events", Some(&bad), &[]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "TimeZoneNotSupportedException")
    );
    // All-day: midnight in one zone.
    let mut all_day = event("Off", "2026-11-23T09:00:00", "2026-11-24T00:00:00");
    all_day["isAllDay"] = json!(true);
    let r = g
        .call(Method::POST, "/me/events", Some(&all_day), &[])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    all_day["start"]["dateTime"] = json!("2026-11-23T00:00:00");
    all_day["end"]["timeZone"] = json!("Pacific Standard Time");
    let r = g
        .call(Method::POST, "/me/events", Some(&all_day), &[])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    all_day["end"]["timeZone"] = json!("UTC");
    let r = g
        .call(
            Method::POST,
            "/me/events",
            Some(&all_day),
            &[("Prefer", "outlook.timezone=\"Tokyo Standard Time\"")],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body["start"],
        json!({"dateTime": "2026-11-23T00:00:00.0000000", "timeZone": "Tokyo Standard Time"})
    );
    assert_eq!(r.body["isAllDay"], json!(true));
    // Not JSON; unknown segment; wrong method.
    let r = g
        .http
        .post(g.url("/me/events"))
        .header("Authorization", format!("Bearer {}", g.token))
        .body("{not json")
        .send()
        .await
        .expect("answered");
    assert_eq!(r.status().as_u16(), 400);
    let r = g.get("/me/calendarz").await;
    assert_eq!((r.status, r.code().as_str()), (400, "BadRequest"));
    let r = g.raw(Method::PUT, "/me/events/abc", None, &[]).await;
    assert_eq!(r.status, 405);
    let r = g.get("/me/events/not-an-id").await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "ErrorInvalidIdMalformed")
    );
    // Auth: none, garbage, Google, revoked.
    for token in ["", "garbage"] {
        let r = g
            .raw_as(token, Method::GET, "/me/calendars", None, &[])
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "InvalidAuthenticationToken")
        );
    }
    let google = g
        .cloud
        .state()
        .mint_access_token(Provider::Google, "alex.kim@gmail.example")
        .expect("google token");
    let r = g
        .raw_as(&google, Method::GET, "/me/calendar", None, &[])
        .await;
    assert_eq!(r.status, 401);
    g.cloud.state().revoke_all(Provider::Microsoft, ADELE);
    let r = g.get("/me/calendar").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn calendars_list_default_and_paging() {
    let g = Graph::start().await;
    for i in 0..11 {
        g.control(
            "calendars",
            &json!({"email": ADELE, "name": format!("Team {i}"), "color": "lightTeal"}),
        )
        .await;
    }
    let r = g.get("/me/calendar").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["isDefaultCalendar"], json!(true));
    assert_eq!(r.body["canEdit"], json!(true));
    assert_eq!(r.body["owner"]["address"], json!(ADELE));
    assert_eq!(
        r.body["allowedOnlineMeetingProviders"],
        json!(["teamsForBusiness"])
    );
    let default_id = text(&r.body["id"]).to_string();
    let first = g.get("/me/calendars").await;
    assert_eq!(first.items().len(), 10);
    let next = text(&first.body["@odata.nextLink"]).to_string();
    assert!(next.starts_with(&g.cloud.base_url()), "{next}");
    let second = g.get(&next).await;
    assert_eq!(second.items().len(), 2);
    assert!(second.body.get("@odata.nextLink").is_none());
    let all: BTreeSet<String> = first.ids().into_iter().chain(second.ids()).collect();
    assert_eq!(all.len(), 12);
    assert!(all.contains(&default_id));
    let team = second.items()[1].clone();
    assert_eq!(team["hexColor"], json!("#69d2e7"));
    let r = g.get(&format!("/me/calendars/{}", text(&team["id"]))).await;
    assert_eq!(r.body["name"], team["name"]);
    let r = g.get("/me/calendars/AAMkAGCalnope").await;
    assert_eq!((r.status, r.code().as_str()), (404, "ErrorItemNotFound"));
}

#[tokio::test]
async fn transaction_id_deduplicates_creates_even_after_a_lost_response() {
    let g = Graph::start().await;
    let mut body = event("Retry me", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    body["transactionId"] = json!("7E163156-7762-4BEB-A1C6-729EA81755A7");
    let first = g.post("/me/events", &body).await;
    assert_eq!(first.status, 201);
    assert_eq!(first.body["transactionId"], body["transactionId"]);
    let again = g.post("/me/events", &body).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["id"], first.body["id"]);
    // The create is processed, then the connection drops; the retry finds it.
    g.control(
        "faults",
        &json!({"add": [{"kind": "drop_connection", "method": "POST", "path_contains": "/me/events", "after_processing": true}]}),
    )
    .await;
    let mut other = event(
        "Lost response",
        "2026-11-24T09:00:00",
        "2026-11-24T10:00:00",
    );
    other["transactionId"] = json!("tx-2");
    let lost = g
        .http
        .post(g.url("/me/events"))
        .header("Authorization", format!("Bearer {}", g.token))
        .json(&other)
        .send()
        .await;
    assert!(lost.is_err(), "the response should be lost");
    let retry = g.post("/me/events", &other).await;
    assert_eq!(retry.status, 201);
    let all = g
        .http
        .get(format!(
            "{}/_control/graph/events?email={ADELE}",
            g.cloud.base_url()
        ))
        .send()
        .await
        .expect("events")
        .json::<Value>()
        .await
        .expect("JSON");
    let subjects: Vec<&str> = all["value"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| text(&e["subject"]))
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    let stats = g.stats().await;
    assert_eq!(
        stats["creates_by_transaction_id"]["7E163156-7762-4BEB-A1C6-729EA81755A7"],
        json!(2)
    );
    assert_eq!(stats["creates_by_transaction_id"]["tx-2"], json!(2));
    assert_eq!(stats["deduplicated_creates"], json!(2));
}

#[tokio::test]
async fn teams_meeting_is_created_and_cannot_be_turned_off() {
    let g = Graph::start().await;
    let mut body = event("Sync", "2026-11-23T09:00:00", "2026-11-23T09:30:00");
    body["isOnlineMeeting"] = json!(true);
    body["onlineMeetingProvider"] = json!("teamsForBusiness");
    let created = g.create(&body).await;
    assert_eq!(created["isOnlineMeeting"], json!(true));
    assert_eq!(created["onlineMeetingProvider"], json!("teamsForBusiness"));
    let meeting = created["onlineMeeting"].clone();
    assert!(text(&meeting["joinUrl"]).starts_with("https://teams.microsoft.com/l/meetup-join/"));
    assert!(!text(&meeting["conferenceId"]).is_empty());
    assert!(!text(&meeting["tollNumber"]).is_empty());
    let id = text(&created["id"]);
    let r = g
        .call(Method::PATCH, &format!("/me/events/{id}"), Some(&json!({"isOnlineMeeting": false, "onlineMeetingProvider": "unknown", "subject": "Sync 2"})), &[])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["isOnlineMeeting"], json!(true));
    assert_eq!(r.body["onlineMeeting"], meeting);
    assert_eq!(r.body["subject"], json!("Sync 2"));
    // A plain event has none; turning it on later works.
    let plain = g
        .create(&event(
            "Plain",
            "2026-11-24T09:00:00",
            "2026-11-24T09:30:00",
        ))
        .await;
    assert_eq!(plain["isOnlineMeeting"], json!(false));
    assert_eq!(plain["onlineMeeting"], Value::Null);
    let r = g
        .call(
            Method::PATCH,
            &format!("/me/events/{}", text(&plain["id"])),
            Some(&json!({"isOnlineMeeting": true, "onlineMeetingProvider": "teamsForBusiness"})),
            &[],
        )
        .await;
    assert!(r.body["onlineMeeting"]["joinUrl"].is_string());
}

#[tokio::test]
async fn recurrence_expands_with_instances_exceptions_and_cancellations() {
    let g = Graph::start().await;
    // Mondays and Wednesdays at 09:00 Berlin time, across the end of DST (25 Oct 2026).
    let mut body = event("Standup", "2026-10-19T09:00:00", "2026-10-19T09:15:00");
    body["start"]["timeZone"] = json!("W. Europe Standard Time");
    body["end"]["timeZone"] = json!("W. Europe Standard Time");
    body["recurrence"] = json!({
        "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"], "firstDayOfWeek": "sunday"},
        "range": {"type": "numbered", "startDate": "2026-10-19", "numberOfOccurrences": 6},
    });
    let master = g.create(&body).await;
    let master_id = text(&master["id"]).to_string();
    assert_eq!(text(&master["type"]), "seriesMaster");
    assert_eq!(master["recurrence"]["pattern"]["index"], json!("first"));
    assert_eq!(
        master["recurrence"]["range"]["recurrenceTimeZone"],
        json!("W. Europe Standard Time")
    );
    let window = "startDateTime=2026-10-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z";
    let view = g.get(&format!("/me/calendarView?{window}")).await;
    assert_eq!(view.status, 200, "{}", view.text);
    let items = view.items();
    let times: Vec<String> = items
        .iter()
        .map(|e| text(&e["start"]["dateTime"]).to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2026-10-19T07:00:00.0000000",
            "2026-10-21T07:00:00.0000000",
            "2026-10-26T08:00:00.0000000",
            "2026-10-28T08:00:00.0000000",
            "2026-11-02T08:00:00.0000000",
            "2026-11-04T08:00:00.0000000",
        ]
    );
    for item in &items {
        assert_eq!(text(&item["type"]), "occurrence");
        assert_eq!(text(&item["seriesMasterId"]), master_id);
        assert!(item["recurrence"].is_null());
    }
    assert_eq!(items[2]["originalStart"], json!("2026-10-26T08:00:00Z"));
    // Occurrence ids are stable; instances lists the same ones.
    let again = g.get(&format!("/me/calendarView?{window}")).await;
    assert_eq!(again.ids(), view.ids());
    let instances = g
        .get(&format!("/me/events/{master_id}/instances?{window}"))
        .await;
    assert_eq!(instances.ids(), view.ids());
    let r = g.get(&format!("/me/events/{master_id}/instances")).await;
    assert_eq!(r.status, 400);
    // /me/events lists the master, not the occurrences.
    let list = g.get("/me/events").await;
    assert_eq!(list.ids(), vec![master_id.clone()]);

    // PATCH one occurrence: it becomes an exception with the same id.
    let second = view.ids()[1].clone();
    let r = g
        .call(Method::PATCH, &format!("/me/events/{second}"), Some(&json!({"subject": "Standup (moved)", "start": {"dateTime": "2026-10-21T11:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-10-21T11:15:00", "timeZone": "UTC"}})), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(text(&r.body["type"]), "exception");
    assert_eq!(text(&r.body["id"]), second);
    assert_eq!(r.body["originalStart"], json!("2026-10-21T07:00:00Z"));
    let r = g.get(&format!("/me/events/{second}")).await;
    assert_eq!(r.body["subject"], json!("Standup (moved)"));
    assert_eq!(
        r.body["start"]["dateTime"],
        json!("2026-10-21T11:00:00.0000000")
    );
    // DELETE another: cancelled, gone from views, listed on the master.
    let third = view.ids()[2].clone();
    let r = g
        .call(Method::DELETE, &format!("/me/events/{third}"), None, &[])
        .await;
    assert_eq!(r.status, 204);
    let r = g.get(&format!("/me/events/{third}")).await;
    assert_eq!(r.status, 404);
    let instances = g
        .get(&format!("/me/events/{master_id}/instances?{window}"))
        .await;
    let ids = instances.ids();
    assert_eq!(ids.len(), 5);
    assert!(!ids.contains(&third));
    assert!(ids.contains(&second));
    let master = g.get(&format!("/me/events/{master_id}")).await;
    assert_eq!(
        master.body["cancelledOccurrences"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(text(&master.body["cancelledOccurrences"][0]).ends_with(".2026-10-26"));
    // Monthly (last Friday) and yearly patterns expand too.
    let mut monthly = event("Review", "2026-11-27T15:00:00", "2026-11-27T16:00:00");
    monthly["recurrence"] = json!({
        "pattern": {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
        "range": {"type": "endDate", "startDate": "2026-11-27", "endDate": "2027-02-28"},
    });
    let monthly = g.create(&monthly).await;
    let r = g
        .get(&format!("/me/events/{}/instances?startDateTime=2026-11-01T00:00:00Z&endDateTime=2027-12-31T00:00:00Z", text(&monthly["id"])))
        .await;
    let days: Vec<String> = r
        .items()
        .iter()
        .map(|e| text(&e["start"]["dateTime"])[..10].to_string())
        .collect();
    assert_eq!(
        days,
        ["2026-11-27", "2026-12-25", "2027-01-29", "2027-02-26"]
    );
    // A recurrence whose start date differs from the event's is refused.
    let mut bad = event("Bad", "2026-11-27T15:00:00", "2026-11-27T16:00:00");
    bad["recurrence"] = json!({"pattern": {"type": "daily", "interval": 1}, "range": {"type": "noEnd", "startDate": "2026-11-28"}});
    let r = g.call(Method::POST, "/me/events", Some(&bad), &[]).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn calendar_view_requires_a_window_and_pages_by_ten() {
    let g = Graph::start().await;
    g.seed_days("E", 1, 23).await;
    let r = g.get("/me/calendarView").await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "ErrorInvalidParameter")
    );
    let r = g
        .get("/me/calendarView?startDateTime=2026-11-01T00:00:00Z")
        .await;
    assert_eq!(r.status, 400);
    let mut url =
        "/me/calendarView?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"
            .to_string();
    let mut sizes = Vec::new();
    let mut ids = BTreeSet::new();
    loop {
        let r = g.get(&url).await;
        assert_eq!(r.status, 200);
        sizes.push(r.items().len());
        ids.extend(r.ids());
        match r.body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(sizes, [10, 10, 3]);
    assert_eq!(ids.len(), 23);
    let r = g
        .get("/me/calendarView?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z&$top=5")
        .await;
    assert_eq!(r.items().len(), 5);
    // The window's offset is honoured (08:00-08:00 in +01:00 = 07:00Z..): E4 is on the 5th.
    let r = g
        .get("/me/calendarView?startDateTime=2026-11-05T08:00:00%2B01:00&endDateTime=2026-11-05T11:00:00%2B01:00&$select=subject")
        .await;
    assert_eq!(r.items().len(), 1);
    assert_eq!(r.items()[0]["subject"], json!("E4"));
    assert!(
        r.items()[0].get("start").is_none(),
        "$select keeps only subject"
    );
}

#[tokio::test]
async fn delta_full_and_incremental_rounds() {
    let g = Graph::start().await;
    let calendar = g.get("/me/calendar").await.body;
    let cal_id = text(&calendar["id"]).to_string();
    let mut seeded = Vec::new();
    for i in 0..5 {
        let e = g
            .seed(
                ADELE,
                event(
                    &format!("D{i}"),
                    &format!("2026-11-{:02}T09:00:00", i + 2),
                    &format!("2026-11-{:02}T10:00:00", i + 2),
                ),
            )
            .await;
        seeded.push(text(&e["id"]).to_string());
    }
    // Outside the window: not in the initial round.
    g.seed(
        ADELE,
        event("Far", "2027-05-01T09:00:00", "2027-05-01T10:00:00"),
    )
    .await;
    let first = format!("/me/calendars/{cal_id}/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z");
    let r = g
        .call(
            Method::GET,
            &first,
            None,
            &[("Prefer", "odata.maxpagesize=2")],
        )
        .await;
    assert_eq!(
        r.header("preference-applied").as_deref(),
        Some("odata.maxpagesize=2")
    );
    let (items, delta_link, pages) = g
        .delta_round(&first, &[("Prefer", "odata.maxpagesize=2")])
        .await;
    assert_eq!(pages, 3);
    let ids: BTreeSet<String> = items.iter().map(|e| text(&e["id"]).to_string()).collect();
    assert_eq!(ids, seeded.iter().cloned().collect());
    // Nothing changed: an empty round.
    let (items, _, _) = g.delta_round(&delta_link, &[]).await;
    assert!(items.is_empty(), "{items:?}");
    // Another client edits one, deletes one, moves one out of the window, adds one.
    g.control(
        "events/edit",
        &json!({"email": ADELE, "id": seeded[0], "patch": {"subject": "D0 edited"}}),
    )
    .await;
    g.control("events/delete", &json!({"email": ADELE, "id": seeded[1]}))
        .await;
    g.control(
        "events/edit",
        &json!({"email": ADELE, "id": seeded[2], "patch": {"start": {"dateTime": "2027-01-10T09:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2027-01-10T10:00:00", "timeZone": "UTC"}}}),
    )
    .await;
    let added = g
        .seed(
            ADELE,
            event("New", "2026-11-20T09:00:00", "2026-11-20T10:00:00"),
        )
        .await;
    let (items, next_link, _) = g.delta_round(&delta_link, &[]).await;
    let updated: Vec<&Value> = items
        .iter()
        .filter(|e| e.get("@removed").is_none())
        .collect();
    let removed: BTreeSet<String> = items
        .iter()
        .filter(|e| e.get("@removed").is_some())
        .map(|e| text(&e["id"]).to_string())
        .collect();
    let updated_ids: BTreeSet<String> =
        updated.iter().map(|e| text(&e["id"]).to_string()).collect();
    assert_eq!(
        updated_ids,
        [seeded[0].clone(), text(&added["id"]).to_string()]
            .into_iter()
            .collect()
    );
    assert!(updated.iter().any(|e| e["subject"] == json!("D0 edited")));
    assert_eq!(
        removed,
        [seeded[1].clone(), seeded[2].clone()].into_iter().collect()
    );
    for r in items.iter().filter(|e| e.get("@removed").is_some()) {
        assert_eq!(r["@removed"], json!({"reason": "deleted"}));
        assert_eq!(r["@odata.type"], json!("#microsoft.graph.event"));
    }
    // Replaying the old deltaLink gives the same changes again; the new one is quiet.
    let (replay, _, _) = g.delta_round(&delta_link, &[]).await;
    assert_eq!(replay.len(), items.len());
    let (quiet, _, _) = g.delta_round(&next_link, &[]).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    // An event edited outside the window leaks as @removed.
    let far = g
        .seed(
            ADELE,
            event("Far 2", "2027-06-01T09:00:00", "2027-06-01T10:00:00"),
        )
        .await;
    let (leak, _, _) = g.delta_round(&next_link, &[]).await;
    assert_eq!(leak.len(), 1);
    assert_eq!(leak[0]["id"], far["id"]);
    assert!(leak[0].get("@removed").is_some());
    // /me/calendarView/delta is the default calendar's.
    let (items, _, _) = g
        .delta_round("/me/calendarView/delta()?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z", &[])
        .await;
    assert_eq!(items.len(), 4);
    // A round needs a window.
    let r = g
        .get(&format!("/me/calendars/{cal_id}/calendarView/delta"))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn delta_faults_empty_pages_duplicates_and_resets() {
    let g = Graph::start().await;
    g.seed_days("F", 2, 3).await;
    let first = "/me/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z";
    g.control(
        "faults",
        &json!({"empty_page": {"email": ADELE}, "duplicate_in_round": {"count": 1}}),
    )
    .await;
    let r = g.get(first).await;
    assert_eq!(r.status, 200);
    assert!(r.items().is_empty());
    let next = text(&r.body["@odata.nextLink"]).to_string();
    assert!(
        next.contains("$skiptoken="),
        "an empty page with a nextLink: {}",
        r.text
    );
    let (items, delta_link, _) = g.delta_round(&next, &[]).await;
    // The same round lists one entity twice.
    let ids: Vec<String> = items.iter().map(|e| text(&e["id"]).to_string()).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (4, 3));
    let (_, delta_link2, _) = g.delta_round(&delta_link, &[]).await;

    // 410 Gone with a Location holding a fresh request (empty $deltatoken).
    g.control(
        "faults",
        &json!({"invalidate_delta": {"email": ADELE, "mode": "gone"}}),
    )
    .await;
    let r = g.get(&delta_link2).await;
    assert_eq!(r.status, 410, "{}", r.text);
    let location = r.header("location").expect("a Location header");
    assert!(location.ends_with("&$deltatoken="), "{location}");
    assert!(location.contains("startDateTime=2026-11-01"), "{location}");
    let (items, fresh_link, _) = g.delta_round(&location, &[]).await;
    assert_eq!(items.len(), 3, "a full round again");
    // syncStateNotFound / resyncRequired, with the status chosen.
    g.control(
        "faults",
        &json!({"invalidate_delta": {"email": ADELE, "mode": "sync_state_not_found"}}),
    )
    .await;
    let r = g.get(&fresh_link).await;
    assert_eq!((r.status, r.code().as_str()), (400, "syncStateNotFound"));
    let (_, fresh_link, _) = g.delta_round(first, &[]).await;
    g.control(
        "faults",
        &json!({"invalidate_delta": {"email": ADELE, "mode": "resync_required", "status": 404}}),
    )
    .await;
    let r = g.get(&fresh_link).await;
    assert_eq!((r.status, r.code().as_str()), (404, "resyncRequired"));
    // A token the fake never issued.
    let r = g
        .get("/me/calendarView/delta?$deltatoken=eyJzIjoibm9wZSJ9")
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "syncStateNotFound"));
}

#[tokio::test]
async fn list_latency_delays_delta_pages_by_their_size() {
    let g = Graph::start().await;
    g.seed_days("L", 2, 4).await;
    let first = "/me/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z";
    let two = [("Prefer", "odata.maxpagesize=2")];
    // 100 ms per page + 20 ms per item: two pages of two take at least 280 ms.
    g.control(
        "faults",
        &json!({"list_latency": {"page_ms": 100, "per_item_us": 20_000}}),
    )
    .await;
    let t = std::time::Instant::now();
    let (items, _, pages) = g.delta_round(first, &two).await;
    assert_eq!((items.len(), pages), (4, 2));
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(280),
        "{:?}",
        t.elapsed()
    );
    // Other reads are not delayed.
    let t = std::time::Instant::now();
    assert_eq!(g.get("/me/events").await.status, 200);
    assert!(
        t.elapsed() < std::time::Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    // A model that would hold a full page (1,000 items) over a minute is refused; the
    // old one stays.
    let refused = g
        .http
        .post(format!("{}/_control/graph/faults", g.cloud.base_url()))
        .json(&json!({"list_latency": {"page_ms": 0, "per_item_us": 70_000}}))
        .send()
        .await
        .expect("faults");
    assert_eq!(refused.status(), 400);
    let faults = g.faults().await;
    assert_eq!(
        faults["list_latency"],
        json!({"page_ms": 100, "per_item_us": 20_000})
    );
    // Zeros remove it.
    g.control(
        "faults",
        &json!({"list_latency": {"page_ms": 0, "per_item_us": 0}}),
    )
    .await;
    let t = std::time::Instant::now();
    g.delta_round(first, &two).await;
    assert!(
        t.elapsed() < std::time::Duration::from_millis(280),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn throttling_and_transient_faults() {
    let g = Graph::start().await;
    g.control(
        "faults",
        &json!({"add": [
            {"kind": "throttle", "email": ADELE, "retry_after_secs": 3},
            {"kind": "unavailable", "retry_after_secs": 5},
            {"kind": "unavailable"},
            {"kind": "captive_portal"},
        ]}),
    )
    .await;
    let r = g.get("/me/calendars").await;
    assert_eq!((r.status, r.code().as_str()), (429, "TooManyRequests"));
    assert_eq!(r.header("retry-after").as_deref(), Some("3"));
    let r = g.get("/me/calendars").await;
    assert_eq!((r.status, r.code().as_str()), (503, "serviceNotAvailable"));
    assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    let r = g.get("/me/calendars").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), None);
    let r = g.get("/me/calendars").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    assert!(r.body.is_null() && r.text.contains("<html"));
    let r = g.get("/me/calendars").await;
    assert_eq!(r.status, 200);
    assert!(r.body["value"].is_array());
    // Faults can target a path and a mailbox; others pass.
    g.control("faults", &json!({"add": [{"kind": "throttle", "email": MEGAN, "count": 5}, {"kind": "drop_connection", "path_contains": "/calendarView"}]}))
        .await;
    let r = g.get("/me/calendar").await;
    assert_eq!(r.status, 200);
    let dropped = g
        .http
        .get(g.url(
            "/me/calendarView?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-11-02T00:00:00Z",
        ))
        .header("Authorization", format!("Bearer {}", g.token))
        .send()
        .await;
    assert!(dropped.is_err(), "the connection is dropped");
    let megan = g.token_for(MEGAN);
    let r = g
        .raw_as(&megan, Method::GET, "/me/calendar", None, &[])
        .await;
    assert_eq!(r.status, 429);
    let faults = g.faults().await;
    assert_eq!(faults["transient"][0]["count"], json!(4));
    g.control("faults", &json!({"clear": true})).await;
    let r = g
        .raw_as(&megan, Method::GET, "/me/calendar", None, &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(g.stats().await["faults_injected"].as_u64() >= Some(6));
}

#[tokio::test]
async fn mailbox_concurrency_is_capped_at_four() {
    let g = Graph::start().await;
    g.control(
        "faults",
        &json!({"add": [{"kind": "delay", "email": ADELE, "delay_ms": 1500, "count": 6}]}),
    )
    .await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let http = g.http.clone();
        let url = g.url("/me/calendar");
        let token = g.token.clone();
        tasks.push(tokio::spawn(async move {
            let r = http
                .get(url)
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .expect("answered");
            let status = r.status().as_u16();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or("").to_string());
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, retry, body)
        }));
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    // Meanwhile another mailbox is not affected.
    let megan = g.token_for(MEGAN);
    let r = g
        .raw_as(&megan, Method::GET, "/me/calendar", None, &[])
        .await;
    assert_eq!(r.status, 200);
    let mut ok = 0;
    let mut throttled = 0;
    for task in tasks {
        let (status, retry, body) = task.await.expect("task");
        match status {
            200 => ok += 1,
            429 => {
                throttled += 1;
                assert_eq!(body["error"]["code"], json!("ApplicationThrottled"));
                assert!(text(&body["error"]["message"]).contains("MailboxConcurrency"));
                assert!(retry.is_some());
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, throttled), (4, 2));
    let stats = g.stats().await;
    assert_eq!(stats["max_concurrency"][ADELE], json!(4), "{stats}");
    assert_eq!(stats["concurrency_rejections"], json!(2));
    assert_eq!(
        stats["immutable_id"]["always"],
        json!(false),
        "the raw requests sent no Prefer"
    );
}

#[tokio::test]
async fn batch_runs_requests_with_depends_on() {
    let g = Graph::start().await;
    let create = event("From batch", "2026-11-23T09:00:00", "2026-11-23T10:00:00");
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/me/events", "headers": {"Content-Type": "application/json", "Prefer": IMMUTABLE}, "body": create},
        {"id": "2", "method": "GET", "url": "/me/events/AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AZS5ub3BlMTIz"},
        {"id": "3", "method": "GET", "url": "/me/calendar", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "me/calendars", "dependsOn": ["1"]},
    ]});
    let r = g.call(Method::POST, "/$batch", Some(&batch), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.body["responses"].as_array().cloned().unwrap_or_default();
    let by_id = |id: &str| {
        responses
            .iter()
            .find(|x| x["id"] == json!(id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_id("1")["status"], json!(201));
    assert_eq!(by_id("1")["body"]["subject"], json!("From batch"));
    assert_eq!(by_id("2")["status"], json!(404));
    assert_eq!(by_id("3")["status"], json!(424));
    assert_eq!(by_id("4")["status"], json!(200));
    assert!(by_id("4")["body"]["value"].is_array());
    // Malformed batches: 400 for the whole.
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me/calendar"}))
        .collect();
    let r = g
        .call(
            Method::POST,
            "/$batch",
            Some(&json!({"requests": many})),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    let dup = json!({"requests": [{"id": "a", "method": "GET", "url": "/me/calendar"}, {"id": "A", "method": "GET", "url": "/me/calendar"}]});
    let r = g.call(Method::POST, "/$batch", Some(&dup), &[]).await;
    assert_eq!(r.status, 400);
    let no_type = json!({"requests": [{"id": "1", "method": "POST", "url": "/me/events", "body": {"subject": "x"}}]});
    let r = g.call(Method::POST, "/$batch", Some(&no_type), &[]).await;
    assert_eq!(r.status, 400);
    let stats = g.stats().await;
    assert!(stats["requests"]["POST /$batch"].as_u64() >= Some(4));
    assert_eq!(stats["requests"]["GET /me/calendars"], json!(1));
    // Inner requests are throttled on their own.
    g.control("faults", &json!({"add": [{"kind": "throttle", "path_contains": "/me/calendar", "retry_after_secs": 7}]})).await;
    let r = g
        .call(
            Method::POST,
            "/$batch",
            Some(&json!({"requests": [{"id": "1", "method": "GET", "url": "/me/calendar"}]})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["responses"][0]["status"], json!(429));
    assert_eq!(r.body["responses"][0]["headers"]["Retry-After"], json!("7"));
}

#[tokio::test]
async fn get_schedule_and_find_meeting_times() {
    let g = Graph::start().await;
    // Megan: busy 10-11, tentative 13-14 on Monday 23 Nov 2026; one free item at 15.
    g.seed(
        MEGAN,
        event("Busy", "2026-11-23T10:00:00", "2026-11-23T11:00:00"),
    )
    .await;
    let mut tentative = event("Maybe", "2026-11-23T13:00:00", "2026-11-23T14:00:00");
    tentative["showAs"] = json!("tentative");
    g.seed(MEGAN, tentative).await;
    let mut free = event("Free", "2026-11-23T15:00:00", "2026-11-23T16:00:00");
    free["showAs"] = json!("free");
    g.seed(MEGAN, free).await;
    let body = json!({
        "schedules": [MEGAN, "nobody@elsewhere.example"],
        "startTime": {"dateTime": "2026-11-23T08:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2026-11-23T17:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 60,
    });
    let r = g.post("/me/calendar/getSchedule", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let megan = &r.items()[0];
    assert_eq!(megan["scheduleId"], json!(MEGAN));
    assert_eq!(megan["availabilityView"], json!("002001000"));
    assert_eq!(megan["scheduleItems"].as_array().map(Vec::len), Some(2));
    assert_eq!(megan["scheduleItems"][0]["status"], json!("busy"));
    assert_eq!(r.items()[1]["error"]["responseCode"], json!("5009"));
    // In another zone, PascalCase parameters.
    let pascal = json!({
        "Schedules": [MEGAN],
        "StartTime": {"dateTime": "2026-11-23T09:00:00", "timeZone": "W. Europe Standard Time"},
        "EndTime": {"dateTime": "2026-11-23T18:00:00", "timeZone": "W. Europe Standard Time"},
        "AvailabilityViewInterval": 30,
    });
    let r = g
        .call(
            Method::POST,
            "/me/calendar/getSchedule",
            Some(&pascal),
            &[("Prefer", "outlook.timezone=\"W. Europe Standard Time\"")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.items()[0]["availabilityView"],
        json!("000022000011000000")
    );
    assert_eq!(
        r.items()[0]["scheduleItems"][0]["start"]["dateTime"],
        json!("2026-11-23T11:00:00.0000000")
    );

    let find = json!({
        "attendees": [{"type": "required", "emailAddress": {"address": MEGAN, "name": "Megan Bowen"}}],
        "timeConstraint": {"activityDomain": "work", "timeSlots": [{
            "start": {"dateTime": "2026-11-23T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-23T12:00:00", "timeZone": "UTC"},
        }]},
        "meetingDuration": "PT1H",
        "returnSuggestionReasons": true,
    });
    let r = g.post("/me/findMeetingTimes", &find).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["emptySuggestionsReason"], json!(""));
    let slots: Vec<&str> = r.body["meetingTimeSuggestions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| text(&s["meetingTimeSlot"]["start"]["dateTime"]))
        .collect();
    assert_eq!(
        slots,
        ["2026-11-23T09:00:00.0000000", "2026-11-23T11:00:00.0000000"]
    );
    let first = &r.body["meetingTimeSuggestions"][0];
    assert_eq!(first["confidence"], json!(100.0));
    assert_eq!(first["order"], json!(1));
    assert_eq!(
        first["attendeeAvailability"][0]["availability"],
        json!("free")
    );
    // Nobody free: attendeesUnavailable.
    let mut busy = find.clone();
    busy["timeConstraint"]["timeSlots"][0]["start"]["dateTime"] = json!("2026-11-23T10:00:00");
    busy["timeConstraint"]["timeSlots"][0]["end"]["dateTime"] = json!("2026-11-23T11:00:00");
    let r = g.post("/me/findMeetingTimes", &busy).await;
    assert_eq!(
        r.body["emptySuggestionsReason"],
        json!("attendeesUnavailable")
    );
    assert_eq!(r.body["meetingTimeSuggestions"], json!([]));
    // Personal accounts: neither works.
    g.control("personal", &json!({"email": ADELE, "personal": true}))
        .await;
    let r = g.post("/me/calendar/getSchedule", &body).await;
    assert_eq!(r.status, 400);
    let r = g.post("/me/findMeetingTimes", &find).await;
    assert_eq!((r.status, r.code().as_str()), (403, "ErrorAccessDenied"));
    let r = g.get("/me/calendar").await;
    assert_eq!(
        r.body["allowedOnlineMeetingProviders"],
        json!(["skypeForConsumer"])
    );
}

#[tokio::test]
async fn shared_calendars_read_write_and_403() {
    let g = Graph::start().await;
    // Nothing shared yet.
    let r = g.get(&format!("/users/{MEGAN}/calendars")).await;
    assert_eq!((r.status, r.code().as_str()), (403, "ErrorAccessDenied"));
    let r = g.get("/users/nobody@contoso.example/calendars").await;
    assert_eq!(r.status, 404);
    g.seed(
        MEGAN,
        event("Megan's", "2026-11-23T09:00:00", "2026-11-23T10:00:00"),
    )
    .await;
    let private = g
        .control("calendars", &json!({"email": MEGAN, "name": "Private"}))
        .await;
    g.control(
        "share",
        &json!({"owner": MEGAN, "with": ADELE, "role": "read"}),
    )
    .await;
    let r = g.get(&format!("/users/{MEGAN}/calendars")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.items().len(), 1);
    let shared = r.items()[0].clone();
    assert_eq!(shared["canEdit"], json!(false));
    assert_eq!(shared["canShare"], json!(false));
    assert_eq!(
        shared["owner"],
        json!({"name": "Megan Bowen", "address": MEGAN})
    );
    let cal_id = text(&shared["id"]).to_string();
    let r = g.get(&format!("/users/{MEGAN}/calendar")).await;
    assert_eq!(r.body["id"], json!(cal_id));
    let r = g
        .get(&format!("/users/{MEGAN}/calendars/{cal_id}/calendarView?startDateTime=2026-11-23T00:00:00Z&endDateTime=2026-11-24T00:00:00Z"))
        .await;
    assert_eq!(r.items().len(), 1);
    let event_id = r.ids()[0].clone();
    let r = g.get(&format!("/users/{MEGAN}/events/{event_id}")).await;
    assert_eq!(r.body["subject"], json!("Megan's"));
    // Adele's own mailbox does not have it.
    let r = g.get(&format!("/me/events/{event_id}")).await;
    assert_eq!(r.status, 404);
    // Read-only: writes are refused.
    let new = event("From Adele", "2026-11-24T09:00:00", "2026-11-24T10:00:00");
    let r = g
        .post(&format!("/users/{MEGAN}/calendars/{cal_id}/events"), &new)
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "ErrorAccessDenied"));
    let r = g
        .call(
            Method::PATCH,
            &format!("/users/{MEGAN}/events/{event_id}"),
            Some(&json!({"subject": "x"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = g
        .get(&format!(
            "/users/{MEGAN}/calendars/{}",
            text(&private["id"])
        ))
        .await;
    assert_eq!(r.status, 403);
    // Write: allowed, and the delta of the shared calendar sees it.
    g.control(
        "share",
        &json!({"owner": MEGAN, "with": ADELE, "role": "write"}),
    )
    .await;
    let r = g.get(&format!("/users/{MEGAN}/calendars/{cal_id}")).await;
    assert_eq!(r.body["canEdit"], json!(true));
    let r = g
        .post(&format!("/users/{MEGAN}/calendars/{cal_id}/events"), &new)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["organizer"]["emailAddress"]["address"], json!(MEGAN));
    let (items, _, _) = g
        .delta_round(&format!("/users/{MEGAN}/calendars/{cal_id}/calendarView/delta?startDateTime=2026-11-01T00:00:00Z&endDateTime=2026-12-01T00:00:00Z"), &[])
        .await;
    assert_eq!(items.len(), 2);
    // Megan sees Adele's write in her own calendar.
    let megan = g.token_for(MEGAN);
    let r = g
        .raw_as(
            &megan,
            Method::GET,
            "/me/calendarView?startDateTime=2026-11-24T00:00:00Z&endDateTime=2026-11-25T00:00:00Z",
            None,
            &[],
        )
        .await;
    assert_eq!(r.items()[0]["subject"], json!("From Adele"));
}

#[tokio::test]
async fn hostile_inputs_get_graph_errors_not_panics() {
    let g = Graph::start().await;
    let weird = "2026-11-23T09:00:00ü€€€€€€";
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/me/events".into(),
            Some(event("x", weird, weird)),
        ),
        (Method::POST, "/me/events".into(), Some(json!([1, 2, 3]))),
        (
            Method::POST,
            "/me/events".into(),
            Some(json!({"subject": 5})),
        ),
        (
            Method::POST,
            "/me/events".into(),
            Some(
                json!({"subject": "x", "start": {"dateTime": "2026-11-23T09:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-11-23T08:00:00", "timeZone": "UTC"}}),
            ),
        ),
        (
            Method::POST,
            "/me/events".into(),
            Some(
                json!({"start": {"dateTime": "2026-11-23T09:00:00"}, "end": {"dateTime": "2026-11-23T10:00:00"}, "recurrence": {"pattern": {"type": "weekly", "interval": 0}, "range": {"type": "noEnd", "startDate": "2026-11-23"}}}),
            ),
        ),
        (
            Method::GET,
            "/me/events/AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A%%%".into(),
            None,
        ),
        (
            Method::GET,
            "/me/events/AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A8J-YgA".into(),
            None,
        ),
        (
            Method::GET,
            format!("/me/calendarView?startDateTime={weird}&endDateTime={weird}"),
            None,
        ),
        (
            Method::GET,
            "/me/calendarView?startDateTime=2026-11-01&endDateTime=2026-10-01&$top=abc".into(),
            None,
        ),
        (
            Method::GET,
            "/me/calendarView/delta?$skiptoken=%F0%9F%98%80".into(),
            None,
        ),
        (
            Method::GET,
            "/me/calendarView/delta?$deltatoken=bm90IGpzb24".into(),
            None,
        ),
        (
            Method::POST,
            "/me/calendar/getSchedule".into(),
            Some(
                json!({"schedules": ["x"], "startTime": {"dateTime": weird, "timeZone": "UTC"}, "endTime": {"dateTime": weird, "timeZone": "UTC"}}),
            ),
        ),
        (
            Method::POST,
            "/me/findMeetingTimes".into(),
            Some(json!({"meetingDuration": "P€"})),
        ),
        (
            Method::POST,
            "/$batch".into(),
            Some(
                json!({"requests": [{"id": "1", "method": "GET", "url": "/me/\u{0}x", "headers": {"bad header": "x"}}]}),
            ),
        ),
    ];
    for (method, path, body) in cases {
        let r = g.raw(method.clone(), &path, body.as_ref(), &[]).await;
        assert!(
            (400..500).contains(&r.status) || (r.status == 200 && path.contains("$batch")),
            "{method} {path}: {} {}",
            r.status,
            r.text
        );
    }
    // The fake still answers.
    let r = g.get("/me/calendar").await;
    assert_eq!(r.status, 200);
}
