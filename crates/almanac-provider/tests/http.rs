//! The shared HTTP client against a scripted local server: retries, Retry-After,
//! 401 refresh, non-JSON answers, classification, per-mailbox concurrency.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use almanac_auth::Secret;
use almanac_provider::{
    ApiClient, ApiRequest, Backoff, BodyRead, Dialect, ErrorKind, ProviderError, TokenSource,
};
use axum::body::Body;
use axum::http::{Response, StatusCode};
use axum::routing::any;
use axum::Router;

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: body.into(),
        delay: Duration::ZERO,
    }
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    hits: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    auth: Mutex<Vec<String>>,
}

async fn serve(script: Arc<Script>) -> String {
    let app = Router::new().fallback(any({
        let script = script.clone();
        move |req: axum::extract::Request| {
            let script = script.clone();
            async move {
                script.hits.fetch_add(1, Ordering::SeqCst);
                let now = script.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                script.max_in_flight.fetch_max(now, Ordering::SeqCst);
                if let Some(a) = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                {
                    script.auth.lock().expect("lock").push(a.to_string());
                }
                let r = script
                    .replies
                    .lock()
                    .expect("lock")
                    .pop_front()
                    .unwrap_or_else(|| reply(200, "{\"value\":[]}"));
                tokio::time::sleep(r.delay).await;
                script.in_flight.fetch_sub(1, Ordering::SeqCst);
                let mut b =
                    Response::builder().status(StatusCode::from_u16(r.status).expect("status"));
                for (k, v) in &r.headers {
                    b = b.header(*k, v);
                }
                b.body(Body::from(r.body)).expect("response")
            }
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[derive(Default)]
struct Tokens {
    refreshes: AtomicUsize,
}

impl TokenSource for Tokens {
    fn token(
        &self,
        force_refresh: bool,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = almanac_provider::Result<Secret>> + Send + '_>,
    > {
        Box::pin(async move {
            if force_refresh {
                self.refreshes.fetch_add(1, Ordering::SeqCst);
            }
            Ok(Secret::new(format!(
                "tok{}",
                self.refreshes.load(Ordering::SeqCst)
            )))
        })
    }
}

fn fast() -> Backoff {
    Backoff {
        max_attempts: 4,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
    }
}

async fn setup(
    dialect: Dialect,
    replies: Vec<Reply>,
) -> (Arc<Script>, Arc<Tokens>, ApiClient, String) {
    let script = Arc::new(Script::default());
    script.replies.lock().expect("lock").extend(replies);
    let base = serve(script.clone()).await;
    let tokens = Arc::new(Tokens::default());
    let client = ApiClient::new(dialect, tokens.clone(), fast()).expect("client");
    (script, tokens, client, base)
}

async fn get(client: &ApiClient, base: &str) -> Result<serde_json::Value, ProviderError> {
    client
        .send(
            "adele@contoso.example",
            ApiRequest::get(format!("{base}/v1.0/me/events")),
        )
        .await
        .map(|r| r.value())
}

#[tokio::test]
async fn throttling_waits_for_retry_after_then_succeeds() {
    let mut throttled = reply(
        429,
        r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
    );
    throttled.headers.push(("retry-after", "1".into()));
    let (script, _, client, base) = setup(
        Dialect::Graph,
        vec![throttled, reply(200, r#"{"value":[1]}"#)],
    )
    .await;
    let t = Instant::now();
    let body = get(&client, &base).await.expect("success after the wait");
    assert_eq!(body["value"][0], 1);
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
    assert_eq!(script.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_requests_waits_together_stay_within_the_in_line_limit() {
    // Each hint (3 s) is within the limit (5 s), two in a row are not: one wait, then
    // the error goes to the scheduler, saying how long the provider asked to wait.
    let throttled = || {
        let mut r = reply(
            429,
            r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
        );
        r.headers.push(("retry-after", "3".into()));
        r
    };
    let (script, _, client, base) = setup(
        Dialect::Graph,
        vec![throttled(), throttled(), throttled(), reply(200, "{}")],
    )
    .await;
    let t = Instant::now();
    let e = get(&client, &base).await.expect_err("gives up");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(script.hits.load(Ordering::SeqCst), 2);
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(
        e.message,
        "Microsoft 365 asks Almanac to slow down. It asks to wait 3 seconds."
    );
}

#[tokio::test]
async fn server_errors_back_off_and_give_up_after_the_limit() {
    let unavailable = || {
        reply(
            503,
            r#"{"error":{"code":"ServiceUnavailable","message":"x"}}"#,
        )
    };
    let (script, _, client, base) = setup(
        Dialect::Graph,
        vec![unavailable(), unavailable(), reply(200, "{}")],
    )
    .await;
    get(&client, &base).await.expect("third attempt works");
    assert_eq!(script.hits.load(Ordering::SeqCst), 3);

    let (script, _, client, base) =
        setup(Dialect::Graph, (0..10).map(|_| unavailable()).collect()).await;
    let e = get(&client, &base).await.expect_err("gives up");
    assert_eq!(e.kind, ErrorKind::ProviderUnavailable);
    assert_eq!(script.hits.load(Ordering::SeqCst), 4);
    // A Retry-After longer than the in-line limit is not waited out: the scheduler
    // comes back later.
    let mut long = unavailable();
    long.headers.push(("retry-after", "3600".into()));
    let (script, _, client, base) = setup(Dialect::Graph, vec![long]).await;
    let e = get(&client, &base)
        .await
        .expect_err("throttled for an hour");
    assert_eq!(e.retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);
}

/// A request that reads its answer as a tree gets the tree the JSON check built; one
/// that reads it borrowed gets the text, and its reading is the check. Either way an
/// answer that is not JSON is refused as not calendar data.
#[tokio::test]
async fn tree_and_borrowed_reads_are_the_json_check() {
    let get = |base: &str, read: BodyRead| ApiRequest {
        read,
        ..ApiRequest::get(format!("{base}/v1.0/me/events"))
    };
    let mut page = reply(200, r#"{"value":[{"id":"a","subject":"Review"}]}"#);
    page.headers = vec![("content-type", "application/json".into())];
    let mut broken = reply(200, "{\"value\": [");
    broken.headers = vec![("content-type", "application/json".into())];
    let mut portal = reply(200, "<html><body>Wi-Fi login</body></html>");
    portal.headers = vec![("content-type", "text/html".into())];
    let script = vec![
        page.clone(),
        page,
        broken.clone(),
        portal.clone(),
        broken,
        portal,
    ];
    let (script, _, client, base) = setup(Dialect::Graph, script).await;

    let r = client
        .send("a", get(&base, BodyRead::Tree))
        .await
        .expect("a page");
    #[derive(serde::Deserialize)]
    struct Page {
        value: Vec<serde_json::Value>,
    }
    let typed: Page = r.json().expect("the tree read as a type");
    assert_eq!(typed.value.len(), 1);
    #[derive(serde::Deserialize)]
    struct RawPage<'a> {
        #[serde(borrow)]
        value: Vec<&'a serde_json::value::RawValue>,
    }
    // The tree's text is not kept: no borrowed read of it.
    assert!(r.json_borrowed::<RawPage>().is_err());
    assert_eq!(r.value()["value"][0]["subject"], "Review");
    assert_eq!(r.into_value()["value"][0]["id"], "a");
    // Read once more, borrowed: its parts are the text they came as.
    let plain = client
        .send("a", get(&base, BodyRead::Borrowed))
        .await
        .expect("a page");
    let raw: RawPage = plain.json_borrowed().expect("borrowed from the text");
    assert_eq!(raw.value[0].get(), r#"{"id":"a","subject":"Review"}"#);
    assert_eq!(plain.value()["value"][0]["id"], "a");

    for what in ["truncated", "HTML"] {
        let e = client
            .send("a", get(&base, BodyRead::Tree))
            .await
            .expect_err(what);
        assert!(e.not_json, "{what}");
        assert_eq!(e.kind, ErrorKind::ProviderUnavailable, "{what}");
    }
    // Borrowed: the truncated answer arrives and fails its reading the same way.
    let cut = client
        .send("a", get(&base, BodyRead::Borrowed))
        .await
        .expect("kept as text");
    let e = cut
        .json_borrowed::<RawPage>()
        .map(|_| ())
        .expect_err("truncated");
    assert!(e.not_json);
    assert_eq!(e.kind, ErrorKind::ProviderUnavailable);
    assert_eq!(e.status, Some(200));
    let e = client
        .send("a", get(&base, BodyRead::Borrowed))
        .await
        .expect_err("HTML");
    assert!(
        e.not_json,
        "a page that is not JSON by its type is refused on arrival"
    );
    assert_eq!(script.hits.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn an_html_page_is_never_an_empty_calendar() {
    let mut portal = reply(
        200,
        "<html><body>Please log in to the hotel Wi-Fi</body></html>",
    );
    portal.headers = vec![("content-type", "text/html".into())];
    let (script, _, client, base) = setup(Dialect::Google, vec![portal.clone()]).await;
    let e = get(&client, &base).await.expect_err("HTML is not data");
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);
    assert_eq!(e.kind, ErrorKind::ProviderUnavailable);
    assert!(e.not_json);
    // JSON content type with a body that is not JSON: the same.
    let mut broken = reply(200, "{\"value\": [");
    broken.headers = vec![("content-type", "application/json".into())];
    let (_, _, client, base) = setup(Dialect::Google, vec![broken]).await;
    assert!(get(&client, &base).await.expect_err("truncated").not_json);
    let _ = portal;
}

#[tokio::test]
async fn a_401_refreshes_once_then_reports() {
    let unauthorized = || {
        reply(
            401,
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"x"}}"#,
        )
    };
    let (script, tokens, client, base) =
        setup(Dialect::Graph, vec![unauthorized(), reply(200, "{}")]).await;
    get(&client, &base).await.expect("works after a refresh");
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(
        *script.auth.lock().expect("lock"),
        vec!["Bearer tok0", "Bearer tok1"]
    );

    let (script, tokens, client, base) =
        setup(Dialect::Graph, vec![unauthorized(), unauthorized()]).await;
    let e = get(&client, &base).await.expect_err("still 401");
    assert_eq!(e.kind, ErrorKind::AuthExpired);
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(script.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn google_rate_limits_retry_but_the_daily_quota_does_not() {
    let g = |status, reason: &str| {
        reply(
            status,
            &format!(
                r#"{{"error":{{"code":{status},"errors":[{{"domain":"usageLimits","reason":"{reason}"}}],"message":"x"}}}}"#
            ),
        )
    };
    let (script, _, client, base) = setup(
        Dialect::Google,
        vec![
            g(403, "rateLimitExceeded"),
            g(429, "rateLimitExceeded"),
            reply(200, "{}"),
        ],
    )
    .await;
    get(&client, &base).await.expect("after backoff");
    assert_eq!(script.hits.load(Ordering::SeqCst), 3);
    let (script, _, client, base) = setup(Dialect::Google, vec![g(403, "quotaExceeded")]).await;
    let e = get(&client, &base).await.expect_err("quota");
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn permanent_failures_are_not_retried_and_keep_their_detail() {
    let mut gone = reply(
        410,
        r#"{"error":{"code":"SyncStateNotFound","message":"x"}}"#,
    );
    gone.headers
        .push(("location", "http://graph/delta?$deltatoken=".into()));
    let (script, _, client, base) = setup(
        Dialect::Graph,
        vec![
            gone,
            reply(
                412,
                r#"{"error":{"code":"ErrorIrresolvableConflict","message":"x"}}"#,
            ),
        ],
    )
    .await;
    let e = get(&client, &base).await.expect_err("410");
    assert_eq!(e.kind, ErrorKind::SyncReset);
    assert_eq!(
        e.location.as_deref(),
        Some("http://graph/delta?$deltatoken=")
    );
    let e = get(&client, &base).await.expect_err("412");
    assert_eq!(e.kind, ErrorKind::PreconditionFailed);
    assert_eq!(script.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unsafe_writes_are_not_repeated_after_an_unknown_outcome() {
    let (script, _, client, base) = setup(
        Dialect::Graph,
        vec![reply(503, r#"{"error":{"code":"x","message":"x"}}"#)],
    )
    .await;
    let req = ApiRequest {
        method: reqwest::Method::POST,
        body: Some(serde_json::json!({"subject": "x"})),
        retry_safe: false,
        ..ApiRequest::get(format!("{base}/v1.0/me/events"))
    };
    let e = client.send("a", req).await.expect_err("503");
    assert_eq!(e.kind, ErrorKind::ProviderUnavailable);
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn offline_is_offline() {
    let tokens = Arc::new(Tokens::default());
    let client = ApiClient::new(Dialect::Google, tokens, fast()).expect("client");
    // A port nothing listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    let e = get(&client, &format!("http://127.0.0.1:{port}"))
        .await
        .expect_err("offline");
    assert_eq!(e.kind, ErrorKind::Offline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_four_requests_per_graph_mailbox_at_once() {
    let slow = || Reply {
        delay: Duration::from_millis(150),
        ..reply(200, "{}")
    };
    let (script, _, client, base) = setup(Dialect::Graph, (0..24).map(|_| slow()).collect()).await;
    let client = Arc::new(client);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mailbox = if i < 8 {
                "adele@contoso.example"
            } else {
                "ADELE@contoso.example"
            };
            client
                .send(mailbox, ApiRequest::get(format!("{base}/x")))
                .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("ok");
    }
    let capped = script.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&capped),
        "{capped} in flight for one mailbox"
    );
    // Another mailbox has its own four.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mailbox = if i % 2 == 0 { "a@x" } else { "b@x" };
            client
                .send(mailbox, ApiRequest::get(format!("{base}/x")))
                .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("ok");
    }
    // More than one mailbox's four at once (timing-tolerant: not necessarily all 8).
    let both = script.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (5..=8).contains(&both),
        "{both} in flight for two mailboxes"
    );
}

/// A redirect to another origin is not followed (the token must not go there, and its
/// JSON is no provider data); one on the API's own origin is.
#[tokio::test]
async fn a_redirect_leaves_the_apis_origin_never() {
    let elsewhere = Arc::new(Script::default());
    let other = serve(elsewhere.clone()).await;
    let mut away = reply(302, "");
    away.headers
        .push(("location", format!("{other}/v1.0/me/events")));
    let (script, _, client, base) = setup(Dialect::Graph, vec![away]).await;
    let answer = get(&client, &base).await;
    assert!(answer.is_err(), "{answer:?}");
    assert_eq!(elsewhere.hits.load(Ordering::SeqCst), 0);
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);

    let mut here = reply(302, "");
    here.headers
        .push(("location", format!("{base}/v1.0/me/events?moved=1")));
    script.replies.lock().expect("lock").push_back(here);
    let answer = get(&client, &base).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(script.hits.load(Ordering::SeqCst), 3);
}

/// An answer past the size the client reads (a gzip bomb, a server gone wrong) is an
/// error, not the machine's memory, and is not asked for again.
#[tokio::test]
async fn an_answer_too_large_is_refused_not_read() {
    let mut huge = reply(200, "");
    huge.body = format!("[{}]", " ".repeat(almanac_provider::LONGEST_ANSWER));
    let (script, _, client, base) = setup(Dialect::Google, vec![huge]).await;
    let e = get(&client, &base).await.expect_err("too large");
    assert_eq!(e.kind, ErrorKind::ProviderUnavailable, "{e:?}");
    assert!(e.message.contains("more than 64 MB"), "{}", e.message);
    assert_eq!(script.hits.load(Ordering::SeqCst), 1);
}
