//! The loopback redirect listener (RFC 8252 §7.3, §8.3): `127.0.0.1` on an ephemeral
//! port, a callback path per provider, open for one sign-in only. It answers one valid
//! response, then closes; everything else gets a short error page and is otherwise
//! ignored, so a wrong state, a stray request or a slow client cannot end the sign-in
//! or cause a token request.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use almanac_model::Provider;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::callback::{self, Callback, MAX_QUERY_LEN};
use crate::error::{AuthError, Result};
use crate::secret::Secret;

/// Largest request head read from a connection.
const MAX_HEAD: usize = MAX_QUERY_LEN + 4 * 1024;
/// A connection that has not sent its request line and headers by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handled at once. One more closes the oldest: a client that opens
/// connections and sends nothing cannot keep the browser's answer out.
const MAX_CONNECTIONS: usize = 16;

#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    path: String,
    port: u16,
}

impl Loopback {
    /// Binds `127.0.0.1:0`. IPv4 only: Microsoft does not accept `[::1]` redirects.
    pub async fn bind(provider: Provider) -> Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(|e| AuthError::SignInFailed(format!("could not listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| AuthError::SignInFailed(format!("could not listen on 127.0.0.1: {e}")))?
            .port();
        Ok(Self {
            listener,
            path: format!("/callback/{}", provider.as_str()),
            port,
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    /// Waits for the browser to come back with a response carrying `state`. Returns
    /// the code; the listener is closed when this returns, so a second callback finds
    /// nothing listening.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<Secret> {
        let (tx, mut rx) = mpsc::channel::<Outcome>(4);
        let mut live: VecDeque<AbortHandle> = VecDeque::new();
        let shared = Arc::new((self.path.clone(), state.to_string()));
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tasks = tokio::task::JoinSet::new();
        let result = loop {
            tokio::select! {
                _ = &mut deadline => break Err(AuthError::SignInFailed(format!(
                    "no answer from the browser within {}; try again.",
                    almanac_model::time::spoken_wait(timeout)
                ))),
                Some(outcome) = rx.recv() => match outcome {
                    Outcome::Code(c) => break Ok(c),
                    Outcome::Refused(why) => break Err(AuthError::SignInFailed(why)),
                },
                accepted = self.listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    while tasks.try_join_next().is_some() {}
                    live.retain(|h| !h.is_finished());
                    if live.len() >= MAX_CONNECTIONS {
                        if let Some(oldest) = live.pop_front() {
                            oldest.abort();
                        }
                    }
                    let tx = tx.clone();
                    let shared = shared.clone();
                    live.push_back(tasks.spawn(async move {
                        if let Ok(Some(outcome)) = tokio::time::timeout(
                            READ_TIMEOUT,
                            serve(stream, &shared.0, &shared.1),
                        )
                        .await
                        {
                            let _ = tx.send(outcome).await;
                        }
                    }));
                }
            }
        };
        tasks.abort_all();
        drop(self.listener);
        result
    }
}

enum Outcome {
    Code(Secret),
    Refused(String),
}

async fn serve(mut stream: TcpStream, path: &str, state: &str) -> Option<Outcome> {
    let head = read_head(&mut stream).await?;
    let Some(target) = request_target(&head) else {
        respond(
            &mut stream,
            400,
            "Bad request",
            "This is not a sign-in response.",
        )
        .await;
        return None;
    };
    let (p, query) = target.split_once('?').unwrap_or((target, ""));
    if p != path {
        respond(
            &mut stream,
            404,
            "Not found",
            "This is not a sign-in response.",
        )
        .await;
        return None;
    }
    match callback::check(query, state) {
        Callback::Code(code) => {
            respond(
                &mut stream,
                200,
                "Signed in",
                "Almanac received your sign-in. You can close this tab and go back to Almanac.",
            )
            .await;
            Some(Outcome::Code(code))
        }
        Callback::Refused(why) => {
            respond(
                &mut stream,
                200,
                "Sign-in not completed",
                &format!("Sign-in did not finish: {why} You can close this tab."),
            )
            .await;
            Some(Outcome::Refused(why))
        }
        Callback::Foreign(_) => {
            respond(
                &mut stream,
                400,
                "Not a sign-in in progress",
                "This response does not belong to the sign-in Almanac is waiting for.",
            )
            .await;
            None
        }
    }
}

/// Reads up to the end of the request head, refusing anything larger than
/// [`MAX_HEAD`].
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

/// `GET <target> HTTP/1.x` → target (origin form only).
fn request_target(head: &str) -> Option<&str> {
    let line = head.split("\r\n").next()?;
    let mut parts = line.split(' ');
    let (Some("GET"), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (version.starts_with("HTTP/1.") && target.starts_with('/')).then_some(target)
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} – Almanac</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    // no-referrer keeps the code in this URL from leaking to any page opened next;
    // the CSP allows nothing to load or run.
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_parsing_is_strict() {
        assert_eq!(request_target("GET /a?b HTTP/1.1\r\n\r\n"), Some("/a?b"));
        assert_eq!(request_target("POST /a HTTP/1.1\r\n\r\n"), None);
        assert_eq!(request_target("GET http://x/a HTTP/1.1\r\n\r\n"), None);
        assert_eq!(request_target("GET /a HTTP/1.1 extra\r\n\r\n"), None);
        assert_eq!(request_target("GET /a\r\n\r\n"), None);
    }
}
