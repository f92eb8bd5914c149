//! The `almanac://oauth/callback` deep link (Microsoft only). Deep links arrive from
//! the OS or another process's command line: hostile input. Only the exact callback
//! URL is accepted, and only for a sign-in that is waiting for it, once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::callback::MAX_QUERY_LEN;

pub const SCHEME: &str = "almanac";
pub const REDIRECT_URI: &str = "almanac://oauth/callback";

/// Why a deep link was ignored (for a log line; holds no part of the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    TooLong,
    NotAUrl,
    NotOurs,
    NoSignInWaiting,
}

/// The query of a well-formed callback link, or why it is not one.
pub fn parse(link: &str) -> Result<String, Ignored> {
    if link.len() > MAX_QUERY_LEN + REDIRECT_URI.len() + 1 {
        return Err(Ignored::TooLong);
    }
    // The raw text must already be the exact URL: the parser would normalise
    // `%2e%2e`, `..` and case, turning a foreign link into ours.
    match link.strip_prefix(REDIRECT_URI) {
        Some(rest) if rest.is_empty() || rest.starts_with('?') => {}
        _ => return Err(Ignored::NotOurs),
    }
    let url = url::Url::parse(link).map_err(|_| Ignored::NotAUrl)?;
    let exact = url.scheme() == SCHEME
        && url.host_str() == Some("oauth")
        && url.path() == "/callback"
        && url.port().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none();
    if !exact {
        return Err(Ignored::NotOurs);
    }
    Ok(url.query().unwrap_or("").to_string())
}

/// Picks the deep link out of a command line (`argv` of a second instance or of the
/// first launch): exactly one argument after the program, and it is ours. Anything
/// else — extra arguments, options, several links — yields nothing.
pub fn from_args(args: &[String]) -> Option<&str> {
    match args {
        [_, link] if link.starts_with("almanac:") => Some(link.as_str()),
        _ => None,
    }
}

/// Sign-ins waiting for a deep link, by state. A link is delivered to the sign-in
/// whose state it carries, then that entry is gone: a repeat finds nobody.
#[derive(Debug, Clone, Default)]
pub struct DeepLinks {
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<String>>>>,
}

impl DeepLinks {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn expect(&self, state: &str) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(state.to_string(), tx);
        rx
    }

    pub(crate) fn forget(&self, state: &str) {
        self.lock().remove(state);
    }

    /// Hands a link to the sign-in waiting for it.
    pub fn deliver(&self, link: &str) -> Result<(), Ignored> {
        let query = parse(link)?;
        let state = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .ok_or(Ignored::NoSignInWaiting)?;
        let waiter = self.lock().remove(&state).ok_or(Ignored::NoSignInWaiting)?;
        waiter.send(query).map_err(|_| Ignored::NoSignInWaiting)
    }

    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<String>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_callback_url_parses() {
        assert_eq!(
            parse("almanac://oauth/callback?code=a&state=b"),
            Ok("code=a&state=b".into())
        );
        for bad in [
            "almanac://evil/callback?code=a",
            "almanac://oauth/callback/../../etc/passwd?code=a",
            "almanac://oauth/other?code=a",
            "almanac://oauth:99/callback?code=a",
            "almanac://user@oauth/callback?code=a",
            "almanac://oauth/callback?code=a#frag",
            "https://oauth/callback?code=a",
            "file:///etc/passwd",
            "almanac:oauth/callback",
            "ALMANAC://OAUTH/callback?code=a",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("almanac://oauth/%2e%2e/callback"),
            Err(Ignored::NotOurs)
        );
        let huge = format!("almanac://oauth/callback?code={}", "a".repeat(20_000));
        assert_eq!(parse(&huge), Err(Ignored::TooLong));
    }

    #[test]
    fn command_lines_with_anything_extra_yield_no_link() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let link = "almanac://oauth/callback?code=a&state=b";
        assert_eq!(from_args(&a(&["almanac", link])), Some(link));
        assert_eq!(from_args(&a(&["almanac"])), None);
        assert_eq!(from_args(&a(&["almanac", "--flag", link])), None);
        assert_eq!(from_args(&a(&["almanac", link, link])), None);
        assert_eq!(from_args(&a(&["almanac", "https://x"])), None);
    }

    #[tokio::test]
    async fn a_link_reaches_its_sign_in_once() {
        let links = DeepLinks::new();
        let rx = links.expect("s1");
        assert_eq!(
            links.deliver("almanac://oauth/callback?code=a&state=nope"),
            Err(Ignored::NoSignInWaiting)
        );
        assert_eq!(
            links.deliver("almanac://oauth/callback?code=a&state=s1"),
            Ok(())
        );
        assert_eq!(
            links.deliver("almanac://oauth/callback?code=b&state=s1"),
            Err(Ignored::NoSignInWaiting),
            "a repeat must find nobody"
        );
        assert_eq!(rx.await.ok().as_deref(), Some("code=a&state=s1"));
        assert_eq!(links.waiting(), 0);
    }
}
