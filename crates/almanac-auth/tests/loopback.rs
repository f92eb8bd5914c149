//! The loopback redirect listener against hostile clients: only one response with our
//! state ends the wait, nothing else does, and after it nothing is listening.

use std::time::Duration;

use almanac_auth::{AuthError, Loopback, Secret};
use almanac_model::Provider;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn send(port: u16, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(raw).await.expect("write");
    let mut out = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out)).await;
    out
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes()
}

fn port_of(l: &Loopback) -> u16 {
    let uri = l.redirect_uri();
    let rest = uri
        .strip_prefix("http://127.0.0.1:")
        .expect("127.0.0.1 redirect");
    rest.split('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[tokio::test]
async fn hostile_requests_are_answered_and_ignored_then_the_real_one_wins() {
    let l = Loopback::bind(Provider::Google).await.expect("bind");
    assert!(
        l.redirect_uri().ends_with("/callback/google"),
        "{}",
        l.redirect_uri()
    );
    let port = port_of(&l);
    let waiter = tokio::spawn(l.wait("the-state", Duration::from_secs(30)));

    // A slow client that never finishes its request must not block anyone.
    let mut slow = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    slow.write_all(b"GET /callback/google?co")
        .await
        .expect("write");

    let wrong_state = send(port, &get("/callback/google?code=evil&state=other")).await;
    assert!(wrong_state.starts_with("HTTP/1.1 400"), "{wrong_state}");
    let no_state = send(port, &get("/callback/google?code=evil")).await;
    assert!(no_state.starts_with("HTTP/1.1 400"), "{no_state}");
    // The other provider's path (mix-up defence) and other paths.
    let mixup = send(port, &get("/callback/microsoft?code=evil&state=the-state")).await;
    assert!(mixup.starts_with("HTTP/1.1 404"), "{mixup}");
    let traversal = send(
        port,
        &get("/callback/google/../google?code=e&state=the-state"),
    )
    .await;
    assert!(traversal.starts_with("HTTP/1.1 404"), "{traversal}");
    let post = send(
        port,
        b"POST /callback/google?code=e&state=the-state HTTP/1.1\r\n\r\n",
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 400"), "{post}");
    let garbage = send(port, b"\x00\x01\x02\xff\r\n\r\n").await;
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
    let mut huge = b"GET /callback/google?code=".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    let _ = send(port, &huge).await;
    assert!(!waiter.is_finished(), "a hostile request ended the sign-in");

    let ok = send(port, &get("/callback/google?code=the-code&state=the-state")).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("You can close this tab"), "{ok}");
    assert!(ok.contains("Referrer-Policy: no-referrer"), "{ok}");
    let code = waiter.await.expect("join").expect("code");
    assert_eq!(code, Secret::new("the-code"));

    // Closed: a second (replayed) callback finds nothing listening.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    drop(slow);
}

#[tokio::test]
async fn an_error_response_with_our_state_ends_the_sign_in() {
    let l = Loopback::bind(Provider::Microsoft).await.expect("bind");
    let port = port_of(&l);
    let waiter = tokio::spawn(l.wait("s", Duration::from_secs(30)));
    let page = send(
        port,
        &get("/callback/microsoft?error=access_denied&error_description=%3Cb%3Ex&state=s"),
    )
    .await;
    assert!(page.contains("did not finish"), "{page}");
    assert!(
        !page.contains("<b>x"),
        "provider text must not be echoed as HTML"
    );
    match waiter.await.expect("join") {
        Err(AuthError::SignInFailed(why)) => assert!(why.contains("declined"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn idle_connections_cannot_keep_the_browser_out() {
    let l = Loopback::bind(Provider::Microsoft).await.expect("bind");
    let port = port_of(&l);
    let waiter = tokio::spawn(l.wait("s", Duration::from_secs(30)));
    // Far more silent connections than the listener serves at once (16), each held.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(
            TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect"),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ok = send(port, &get("/callback/microsoft?code=c&state=s")).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert_eq!(waiter.await.expect("join").expect("code"), Secret::new("c"));
    drop(idle);
}

#[tokio::test]
async fn the_listener_times_out_and_closes() {
    let l = Loopback::bind(Provider::Google).await.expect("bind");
    let port = port_of(&l);
    let r = l.wait("s", Duration::from_millis(300)).await;
    assert!(matches!(r, Err(AuthError::SignInFailed(_))), "{r:?}");
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[test]
fn pkce_matches_rfc_7636_appendix_b() {
    // The verifier of Appendix B and the S256 challenge the RFC derives from it.
    let verifier =
        oauth2::PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
    let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    assert_eq!(
        challenge.as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(challenge.method().as_str(), "S256");
    // And the random ones are 43-character base64url verifiers.
    let (_, v) = oauth2::PkceCodeChallenge::new_random_sha256();
    assert_eq!(v.secret().len(), 43);
    assert!(v
        .secret()
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
}
