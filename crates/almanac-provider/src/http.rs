//! The HTTP client both providers use.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use almanac_auth::Secret;
use reqwest::header::{HeaderMap, HeaderName, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::backoff::{Backoff, RetryDecision};
use crate::error::{ErrorKind, ProviderError, Result};

/// Whose error format and rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{"error":{"code":"…","message":"…"}}`; 410 with `Location` resets delta.
    Graph,
    /// `{"error":{"code":403,"errors":[{"reason":"…"}],"message":"…"}}`; 403 can be a
    /// rate limit (retry) or a daily quota (do not).
    Google,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Self::Graph => "Microsoft 365",
            Self::Google => "Google",
        }
    }
}

/// Bearer tokens for one account. `force_refresh` after a 401.
pub trait TokenSource: Send + Sync {
    fn token(
        &self,
        force_refresh: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Secret>> + Send + '_>>;
}

/// One request. `retry_safe`: may be sent again after a failure whose outcome is
/// unknown — true for reads and for writes guarded by If-Match or an idempotency key
/// (Graph `transactionId`, a client-chosen Google id); false otherwise.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Option<Value>,
    pub retry_safe: bool,
    /// How the caller reads the answer, so that checking it is JSON is one pass over
    /// its text with the caller's reading rather than a pass of its own.
    pub read: BodyRead,
}

/// How a successful answer's JSON body is checked and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyRead {
    /// Checked on arrival without building anything; read as a type
    /// ([`ApiResponse::json`]).
    #[default]
    Checked,
    /// Built into a JSON tree on arrival, which is the check
    /// ([`ApiResponse::into_value`]).
    Tree,
    /// Kept as text for one reading that borrows from it and is the check
    /// ([`ApiResponse::json_borrowed`]): an answer that does not read is refused as
    /// not JSON, as on arrival.
    Borrowed,
}

impl ApiRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            retry_safe: true,
            read: BodyRead::Checked,
        }
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A successful answer: status, headers, and a JSON body (checked to be JSON when it
/// arrived; empty for 204 and 202).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Kept as text and read on demand: a typed read from the text is one pass, where
    /// a JSON tree first and the type from the tree were two (a page of 2,500 events
    /// is a few megabytes).
    body: Vec<u8>,
    /// The body as a tree instead, when the request asked for one ([`BodyRead::Tree`]).
    tree: Option<Value>,
    /// Whose answer it is (a reading that fails is that provider's "not JSON").
    dialect: Dialect,
}

impl ApiResponse {
    /// The body read as `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        match &self.tree {
            Some(tree) => serde::Deserialize::deserialize(tree),
            None => serde_json::from_slice(&self.body),
        }
    }

    /// The body read as `T`, which may borrow from it (`&RawValue`, `&str`): for reading
    /// parts of an answer without building them ([`BodyRead::Borrowed`]). An answer
    /// that does not read as `T` is refused as not calendar data, like one that is not
    /// JSON. Not for an answer read as a tree, whose text is not kept.
    pub fn json_borrowed<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T> {
        match &self.tree {
            Some(_) => Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                "The answer was read as a tree; its text is not kept.",
            )),
            // Checked as UTF-8 once, whole, then read as text: read from bytes, each
            // borrowed part (every property's `RawValue`) was checked on its own.
            None => std::str::from_utf8(&self.body)
                .ok()
                .and_then(|text| serde_json::from_str(text).ok())
                .ok_or_else(|| not_json(self.dialect, self.status)),
        }
    }

    /// The body as a JSON tree (`Null` when empty).
    pub fn value(&self) -> Value {
        match &self.tree {
            Some(tree) => tree.clone(),
            None => self.body_value(),
        }
    }

    /// [`ApiResponse::value`] without a copy when the tree was built on arrival.
    pub fn into_value(self) -> Value {
        match self.tree {
            Some(tree) => tree,
            None => self.body_value(),
        }
    }

    fn body_value(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Timeouts, retries, per-mailbox concurrency and classification for one account.
pub struct ApiClient {
    http: reqwest::Client,
    dialect: Dialect,
    backoff: Backoff,
    tokens: Arc<dyn TokenSource>,
    per_mailbox: usize,
    mailboxes: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("dialect", &self.dialect)
            .field("backoff", &self.backoff)
            .field("per_mailbox", &self.per_mailbox)
            .finish_non_exhaustive()
    }
}

/// Graph allows 4 concurrent requests per app and mailbox (reference B7).
pub const GRAPH_CONCURRENCY_PER_MAILBOX: usize = 4;

impl ApiClient {
    pub fn new(dialect: Dialect, tokens: Arc<dyn TokenSource>, backoff: Backoff) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(60))
            // A redirect may stay on the API's origin only: reqwest keeps the bearer
            // token across a change of scheme (https → http on the same host), and
            // another host's JSON is no provider data.
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_origin = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() == attempt.url().origin());
                if attempt.previous().len() > 3 {
                    attempt.error("too many redirects")
                } else if same_origin {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .gzip(true)
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorKind::Offline, format!("Could not set up HTTPS: {e}"))
            })?;
        Ok(Self {
            http,
            dialect,
            backoff,
            tokens,
            per_mailbox: match dialect {
                Dialect::Graph => GRAPH_CONCURRENCY_PER_MAILBOX,
                Dialect::Google => 8,
            },
            mailboxes: Mutex::new(HashMap::new()),
        })
    }

    /// Sends `req` for `mailbox` (the Graph user whose data it touches; one key per
    /// account for Google), retrying what is worth retrying.
    pub async fn send(&self, mailbox: &str, req: ApiRequest) -> Result<ApiResponse> {
        let slot = self.slot(mailbox);
        let mut refreshed = false;
        let mut attempt = 0u32;
        // All of a request's waits together stay under the longest one waited out
        // in-line: three Retry-After: 120 in a row were six silent minutes of `sync`.
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            let token = self.tokens.token(false).await?;
            let outcome = {
                let _permit = slot.acquire().await.map_err(|_| {
                    ProviderError::new(ErrorKind::Offline, "The client is shutting down.")
                })?;
                self.once(&req, &token).await
            };
            let err = match outcome {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            if err.kind == ErrorKind::AuthExpired && !refreshed {
                // One refresh per request; a second 401 is reported.
                refreshed = true;
                self.tokens.token(true).await?;
                continue;
            }
            // A throttled answer means the request was not carried out, so even a
            // write without an idempotency key may go again.
            let may_repeat =
                req.retry_safe || (err.kind == ErrorKind::Throttled && err.status.is_some());
            // A portal or proxy page will not go away in seconds: report it now.
            if !err.kind.retryable() || !may_repeat || err.not_json {
                return Err(err);
            }
            match self
                .backoff
                .decide(attempt, err.retry_after, rand::random::<f64>())
            {
                RetryDecision::RetryAfter(d) if waited + d <= self.backoff.max_retry_after => {
                    waited += d;
                    tokio::time::sleep(d).await
                }
                RetryDecision::RetryAfter(_) | RetryDecision::GiveUp => return Err(err),
            }
        }
    }

    async fn once(&self, req: &ApiRequest, token: &Secret) -> Result<ApiResponse> {
        let mut b = self
            .http
            .request(req.method.clone(), &req.url)
            .header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        if let Some(body) = &req.body {
            b = b.json(body);
        }
        let resp = b.send().await.map_err(|e| transport(self.dialect, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let is_json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
        let bytes = read_capped(resp, self.dialect).await?;
        if status.is_success() {
            if bytes.is_empty()
                && (status == StatusCode::NO_CONTENT || status == StatusCode::ACCEPTED)
            {
                return Ok(ApiResponse {
                    status,
                    headers,
                    body: Vec::new(),
                    tree: None,
                    dialect: self.dialect,
                });
            }
            // Checked whole now (a cut-off or non-JSON answer is an error to classify
            // and maybe retry): as the tree the caller reads, or without building
            // anything when the caller reads it once, as its type.
            if !is_json {
                return Err(not_json(self.dialect, status));
            }
            let (body, tree) = match req.read {
                BodyRead::Tree => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(tree) => (Vec::new(), Some(tree)),
                    Err(_) => return Err(not_json(self.dialect, status)),
                },
                BodyRead::Checked
                    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() =>
                {
                    return Err(not_json(self.dialect, status));
                }
                BodyRead::Checked | BodyRead::Borrowed => (bytes, None),
            };
            return Ok(ApiResponse {
                status,
                headers,
                body,
                tree,
                dialect: self.dialect,
            });
        }
        let body: Option<Value> = if is_json {
            serde_json::from_slice(&bytes).ok()
        } else {
            None
        };
        Err(classify(self.dialect, status, &headers, body.as_ref()))
    }

    fn slot(&self, mailbox: &str) -> Arc<Semaphore> {
        self.mailboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(mailbox.to_ascii_lowercase())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_mailbox)))
            .clone()
    }
}

/// The largest answer read, after decompression: a page of 2,500 Google events is a
/// few MB. A longer one — a gzip bomb, a server gone wrong — stops here, before it can
/// take the machine's memory.
pub const LONGEST_ANSWER: usize = 64 * 1024 * 1024;

/// The answer's body, read a chunk at a time up to [`LONGEST_ANSWER`] (counted as
/// decompressed: reqwest inflates gzip as it goes).
async fn read_capped(mut resp: reqwest::Response, dialect: Dialect) -> Result<Vec<u8>> {
    // The length a server claims is no reason to reserve much up front.
    let expected = resp.content_length().unwrap_or(0).min(4 * 1024 * 1024);
    let mut out = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(dialect, &e))? {
        if out.len() + chunk.len() > LONGEST_ANSWER {
            return Err(ProviderError {
                status: Some(resp.status().as_u16()),
                // Not asked again: the same request would bring the same answer.
                not_json: true,
                ..ProviderError::new(
                    ErrorKind::ProviderUnavailable,
                    format!(
                        "{} answered with more than {} MB; it was not read and nothing was \
                         changed.",
                        dialect.name(),
                        LONGEST_ANSWER / (1024 * 1024)
                    ),
                )
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn transport(dialect: Dialect, e: &reqwest::Error) -> ProviderError {
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect (offline?)"
    } else if e.is_decode() || e.is_body() {
        "the answer was cut off"
    } else {
        "the connection failed"
    };
    ProviderError::new(
        ErrorKind::Offline,
        format!("Could not reach {}: {what}.", dialect.name()),
    )
}

fn not_json(dialect: Dialect, status: StatusCode) -> ProviderError {
    ProviderError {
        status: Some(status.as_u16()),
        not_json: true,
        ..ProviderError::new(
            ErrorKind::ProviderUnavailable,
            format!(
                "{} answered with something that is not calendar data (a captive portal, a \
                 proxy or an outage?); nothing was changed.",
                dialect.name()
            ),
        )
    }
}

/// Classifies an answer that did not come as an HTTP response of its own (an inner
/// response of a Graph `$batch`): its status, `Retry-After` seconds and JSON body.
pub fn classify_inner(
    dialect: Dialect,
    status: u16,
    retry_after_secs: Option<u64>,
    body: Option<&Value>,
) -> ProviderError {
    let mut headers = HeaderMap::new();
    if let Some(secs) = retry_after_secs {
        headers.insert(RETRY_AFTER, reqwest::header::HeaderValue::from(secs));
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    classify(dialect, status, &headers, body)
}

/// The longest wait a `Retry-After` is taken for: the scheduler waits no longer, and a
/// hostile value (`u64::MAX` seconds) must not overflow the times computed from it.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Seconds (`Retry-After: 7`) or an HTTP date, at most [`LONGEST_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(v).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(LONGEST_RETRY_AFTER))
}

/// Maps an error answer to a kind, by status and the provider's own code — never by
/// message text.
pub(crate) fn classify(
    dialect: Dialect,
    status: StatusCode,
    headers: &HeaderMap,
    body: Option<&Value>,
) -> ProviderError {
    let err = body.and_then(|b| b.get("error"));
    let code = match dialect {
        Dialect::Graph => err
            .and_then(|e| e.get("innerError").or_else(|| e.get("innererror")))
            .and_then(|i| i.get("code"))
            .and_then(Value::as_str)
            .filter(|c| matches!(*c, "syncStateNotFound" | "resyncRequired"))
            .or_else(|| err.and_then(|e| e.get("code")).and_then(Value::as_str)),
        Dialect::Google => err
            .and_then(|e| e.get("errors"))
            .and_then(|v| v.get(0))
            .and_then(|x| x.get("reason"))
            .and_then(Value::as_str),
    }
    .map(|c| {
        c.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect::<String>()
    });
    let sync_reset = matches!(
        code.as_deref(),
        Some("syncStateNotFound" | "resyncRequired" | "fullSyncRequired" | "updatedMinTooLongAgo")
    );
    let name = dialect.name();
    let (kind, message) = match status.as_u16() {
        401 => (
            ErrorKind::AuthExpired,
            format!("{name} did not accept the sign-in."),
        ),
        403 if matches!(
            code.as_deref(),
            Some("rateLimitExceeded" | "userRateLimitExceeded")
        ) =>
        {
            (
                ErrorKind::Throttled,
                format!("{name} asks Almanac to slow down."),
            )
        }
        403 if code.as_deref() == Some("quotaExceeded") => (
            ErrorKind::Forbidden,
            format!(
                "{name}'s calendar usage limit for today is used up; Almanac will try again later."
            ),
        ),
        403 => (
            ErrorKind::Forbidden,
            format!("{name} does not allow this (no access to the calendar?)."),
        ),
        404 if sync_reset => (
            ErrorKind::SyncReset,
            format!("{name} needs a full sync of this calendar."),
        ),
        404 => (
            ErrorKind::NotFound,
            format!("{name} no longer has this item."),
        ),
        409 if dialect == Dialect::Google && code.as_deref() == Some("duplicate") => (
            ErrorKind::Conflict,
            format!("{name} already has this item."),
        ),
        409 => (
            ErrorKind::Conflict,
            format!("{name} refused the change as conflicting with the item's current state."),
        ),
        410 if dialect == Dialect::Google && code.as_deref() == Some("deleted") => (
            ErrorKind::Gone,
            format!("{name} already deleted this item."),
        ),
        410 => (
            ErrorKind::SyncReset,
            format!("{name} needs a full sync of this calendar."),
        ),
        412 => (
            ErrorKind::PreconditionFailed,
            format!("The item changed at {name} in the meantime."),
        ),
        429 => (
            ErrorKind::Throttled,
            format!("{name} asks Almanac to slow down."),
        ),
        400 if sync_reset => (
            ErrorKind::SyncReset,
            format!("{name} needs a full sync of this calendar."),
        ),
        500..=599 => (
            ErrorKind::ProviderUnavailable,
            format!("{name} is having trouble (HTTP {}).", status.as_u16()),
        ),
        _ => (
            ErrorKind::InvalidRequest,
            format!("{name} refused the request (HTTP {}).", status.as_u16()),
        ),
    };
    let retry_after = retry_after(headers, SystemTime::now());
    // Said when it is known: "slow down" alone leaves the user guessing how long.
    let message = match retry_after {
        Some(d) if kind == ErrorKind::Throttled => {
            format!(
                "{message} It asks to wait {}.",
                almanac_model::time::spoken_wait(d)
            )
        }
        _ => message,
    };
    ProviderError {
        kind,
        message,
        status: Some(status.as_u16()),
        provider_code: code,
        retry_after,
        location: headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        not_json: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        m
    }

    fn kind(d: Dialect, status: u16, body: Value) -> (ErrorKind, Option<String>) {
        let e = classify(
            d,
            StatusCode::from_u16(status).expect("status"),
            &HeaderMap::new(),
            Some(&body),
        );
        (e.kind, e.provider_code)
    }

    #[test]
    fn a_borrowed_read_refuses_text_that_is_not_utf8() {
        use serde_json::value::RawValue;
        let answer = |body: &[u8]| ApiResponse {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: body.to_vec(),
            tree: None,
            dialect: Dialect::Google,
        };
        let read = |r: &ApiResponse| {
            r.json_borrowed::<HashMap<&str, &RawValue>>()
                .map(|m| m.values().map(|v| v.get().to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            read(&answer(br#"{"summary":"Caf\u00e9 \u2014 caf"#))
                .map(|_| ())
                .map_err(|e| e.not_json),
            Err(true),
            "truncated"
        );
        assert_eq!(
            read(&answer("{\"summary\":\"Caf\\u00e9 caf\u{e9}\"}".as_bytes())).expect("UTF-8"),
            ["\"Caf\\u00e9 caf\u{e9}\""]
        );
        // Latin-1 "café", in a property value and in a name.
        for body in [&b"{\"summary\":\"caf\xe9\"}"[..], b"{\"caf\xe9\":1}"] {
            let e = read(&answer(body)).expect_err("not UTF-8");
            assert!(e.not_json && e.kind == ErrorKind::ProviderUnavailable);
        }
    }

    #[test]
    fn classification_table() {
        use ErrorKind::*;
        let g = |reason: &str| serde_json::json!({"error":{"code":403,"errors":[{"reason":reason}],"message":"x"}});
        let ms = |code: &str| serde_json::json!({"error":{"code":code,"message":"x"}});
        let cases = [
            (Dialect::Google, 403, g("rateLimitExceeded"), Throttled),
            (Dialect::Google, 403, g("userRateLimitExceeded"), Throttled),
            (Dialect::Google, 403, g("quotaExceeded"), Forbidden),
            (Dialect::Google, 403, g("forbidden"), Forbidden),
            (Dialect::Google, 429, g("rateLimitExceeded"), Throttled),
            (Dialect::Google, 410, g("fullSyncRequired"), SyncReset),
            (Dialect::Google, 410, g("updatedMinTooLongAgo"), SyncReset),
            (Dialect::Google, 410, g("deleted"), Gone),
            (Dialect::Google, 409, g("duplicate"), Conflict),
            (Dialect::Google, 409, g("conflict"), Conflict),
            (
                Dialect::Google,
                412,
                g("conditionNotMet"),
                PreconditionFailed,
            ),
            (Dialect::Google, 500, g("backendError"), ProviderUnavailable),
            (Dialect::Google, 400, g("timeRangeEmpty"), InvalidRequest),
            (Dialect::Google, 401, g("authError"), AuthExpired),
            (Dialect::Graph, 410, ms("x"), SyncReset),
            (Dialect::Graph, 400, ms("syncStateNotFound"), SyncReset),
            (Dialect::Graph, 404, ms("syncStateNotFound"), SyncReset),
            (Dialect::Graph, 400, ms("resyncRequired"), SyncReset),
            (Dialect::Graph, 404, ms("ErrorItemNotFound"), NotFound),
            (
                Dialect::Graph,
                412,
                ms("ErrorIrresolvableConflict"),
                PreconditionFailed,
            ),
            (Dialect::Graph, 429, ms("TooManyRequests"), Throttled),
            (
                Dialect::Graph,
                503,
                ms("ServiceUnavailable"),
                ProviderUnavailable,
            ),
            (Dialect::Graph, 504, ms("x"), ProviderUnavailable),
            (Dialect::Graph, 403, ms("ErrorAccessDenied"), Forbidden),
            (Dialect::Graph, 400, ms("RequestBodyRead"), InvalidRequest),
        ];
        for (d, status, body, want) in cases {
            assert_eq!(
                kind(d, status, body.clone()).0,
                want,
                "{d:?} {status} {body}"
            );
        }
        let nested = serde_json::json!({"error":{"code":"InvalidRequest","innerError":{"code":"syncStateNotFound"}}});
        assert_eq!(
            kind(Dialect::Graph, 400, nested),
            (SyncReset, Some("syncStateNotFound".into()))
        );
        // Hostile codes are trimmed to a short identifier.
        let (_, code) = kind(Dialect::Graph, 400, ms("<script>alert(1)</script>"));
        assert_eq!(code.as_deref(), Some("scriptalert1script"));
    }

    #[test]
    fn retry_after_as_seconds_or_date_and_410_location() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            retry_after(&h(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            retry_after(&h(&[("retry-after", &later)]), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), now), None);
        // A hostile wait is a day at most: no time computed from it overflows.
        assert_eq!(
            retry_after(&h(&[("retry-after", "18446744073709551615")]), now),
            Some(LONGEST_RETRY_AFTER)
        );
        let far = httpdate::fmt_http_date(now + Duration::from_secs(9_000_000_000));
        assert_eq!(
            retry_after(&h(&[("retry-after", &far)]), now),
            Some(LONGEST_RETRY_AFTER)
        );
        let e = classify(
            Dialect::Graph,
            StatusCode::GONE,
            &h(&[("location", "https://graph/delta?$deltatoken=")]),
            None,
        );
        assert_eq!(e.kind, ErrorKind::SyncReset);
        assert_eq!(
            e.location.as_deref(),
            Some("https://graph/delta?$deltatoken=")
        );
    }
}

/// Tokens of one account from the auth layer's [`almanac_auth::Credentials`]
/// (keyring, refresh single-flight). A lost grant comes back as `ActionRequired`.
#[derive(Debug)]
pub struct AccountTokens {
    pub credentials: Arc<almanac_auth::Credentials>,
    pub account_id: String,
    pub provider: almanac_model::Provider,
}

impl TokenSource for AccountTokens {
    fn token(
        &self,
        force_refresh: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Secret>> + Send + '_>> {
        Box::pin(async move {
            let now = || {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default()
            };
            let got = if force_refresh {
                self.credentials
                    .refresh(&self.account_id, self.provider, now)
                    .await
            } else {
                self.credentials
                    .access_token(&self.account_id, self.provider, now)
                    .await
            };
            got.map_err(|e| {
                let kind = match e.code() {
                    almanac_model::ErrorCode::ActionRequired => ErrorKind::ActionRequired,
                    almanac_model::ErrorCode::Offline => ErrorKind::Offline,
                    _ => ErrorKind::ProviderUnavailable,
                };
                ProviderError::new(kind, e.to_string())
            })
        })
    }
}
