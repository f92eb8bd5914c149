//! Checking an authorization response (the query of the redirect) against the sign-in
//! in progress. Hostile input: anything but one well-formed response carrying our
//! `state` is refused before a token request could happen.

use crate::secret::Secret;

/// Longest redirect query accepted; real responses are well under 2 KiB.
pub const MAX_QUERY_LEN: usize = 8 * 1024;
const MAX_CODE_LEN: usize = 4 * 1024;

/// What a redirect turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    /// Our state and a code: exchange it.
    Code(Secret),
    /// Our state and `error=`: the user declined or the provider refused; the sign-in
    /// ends without a token request. Holds a plain-language reason.
    Refused(String),
    /// Not a response to this sign-in (wrong, missing or repeated state, garbage).
    /// Ignored: the sign-in keeps waiting for the real one.
    Foreign(&'static str),
}

pub fn check(query: &str, expected_state: &str) -> Callback {
    if query.len() > MAX_QUERY_LEN {
        return Callback::Foreign("too long");
    }
    let mut state = None;
    let mut code = None;
    let mut error = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            _ => continue,
        };
        if slot.is_some() {
            return Callback::Foreign("repeated parameter");
        }
        *slot = Some(v.into_owned());
    }
    match state {
        None => return Callback::Foreign("no state"),
        Some(s) if !same(&s, expected_state) => return Callback::Foreign("wrong state"),
        Some(_) => {}
    }
    if let Some(e) = error {
        return Callback::Refused(refusal(&e));
    }
    match code {
        Some(c)
            if !c.is_empty()
                && c.len() <= MAX_CODE_LEN
                && c.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Callback::Code(Secret::new(c))
        }
        Some(_) => Callback::Refused("the provider sent a malformed authorization code.".into()),
        None => Callback::Refused("the provider sent no authorization code.".into()),
    }
}

/// Constant-time comparison: the state is a secret of this flow.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn refusal(error: &str) -> String {
    match error {
        "access_denied" => "you declined, or the sign-in was cancelled.".into(),
        "consent_required" | "interaction_required" | "login_required" => {
            "the provider needs you to finish signing in in the browser.".into()
        }
        "temporarily_unavailable" | "server_error" => {
            "the provider is having trouble; try again in a few minutes.".into()
        }
        other => {
            let code: String = other
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            format!("the provider refused the sign-in ({code}).")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_state_with_a_code_is_accepted() {
        assert_eq!(
            check("code=abc&state=s1", "s1"),
            Callback::Code(Secret::new("abc"))
        );
        assert!(matches!(check("code=abc", "s1"), Callback::Foreign(_)));
        assert!(matches!(
            check("code=abc&state=s2", "s1"),
            Callback::Foreign(_)
        ));
        assert!(matches!(
            check("code=abc&state=s", "s1"),
            Callback::Foreign(_)
        ));
        assert!(matches!(
            check("code=a&state=s1&state=s1", "s1"),
            Callback::Foreign(_)
        ));
        assert!(matches!(
            check("code=a&code=b&state=s1", "s1"),
            Callback::Foreign(_)
        ));
        assert!(matches!(check("", "s1"), Callback::Foreign(_)));
        assert!(matches!(check("%%%&&&==", "s1"), Callback::Foreign(_)));
        let long = format!("code={}&state=s1", "a".repeat(MAX_QUERY_LEN));
        assert!(matches!(check(&long, "s1"), Callback::Foreign(_)));
    }

    #[test]
    fn an_error_with_our_state_ends_the_sign_in_without_a_code() {
        match check(
            "error=access_denied&error_description=x&state=s1&code=abc",
            "s1",
        ) {
            Callback::Refused(why) => assert!(why.contains("declined"), "{why}"),
            other => panic!("{other:?}"),
        }
        match check("error=%3Cscript%3E&state=s1", "s1") {
            Callback::Refused(why) => assert!(!why.contains('<'), "{why}"),
            other => panic!("{other:?}"),
        }
        // An error without our state is someone else's: ignored.
        assert!(matches!(
            check("error=access_denied&state=x", "s1"),
            Callback::Foreign(_)
        ));
        assert!(matches!(check("state=s1", "s1"), Callback::Refused(_)));
        assert!(matches!(
            check("state=s1&code=a%00b", "s1"),
            Callback::Refused(_)
        ));
    }
}
