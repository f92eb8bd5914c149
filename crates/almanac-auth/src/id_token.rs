//! Who signed in, read from the ID token of the token response.
//!
//! The token comes straight from the token endpoint over the connection we opened
//! (TLS for real providers), so OpenID Connect Core §3.1.3.7 lets the client rely on
//! that instead of checking the signature. We still check the audience and the nonce
//! we sent, so a token minted for another client or another flow is refused.

use almanac_model::Provider;
use base64::Engine;
use serde::Deserialize;

use crate::error::{AuthError, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Stable id at the provider: issuer + subject (Microsoft: tenant + object id).
    pub subject: String,
    pub email: String,
    pub display_name: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    nonce: Option<String>,
    email: Option<String>,
    preferred_username: Option<String>,
    name: Option<String>,
    tid: Option<String>,
    oid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Largest ID token accepted; real ones are a few kilobytes.
const MAX_LEN: usize = 16 * 1024;

pub fn identity(
    provider: Provider,
    id_token: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Identity> {
    let bad = |why: &str| {
        AuthError::SignInFailed(format!(
            "{} sent an unusable ID token ({why}).",
            provider.display_name()
        ))
    };
    if id_token.len() > MAX_LEN {
        return Err(bad("too large"));
    }
    let mut parts = id_token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a JWT"));
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("payload is not base64url"))?;
    let c: Claims = serde_json::from_slice(&json).map_err(|_| bad("claims are malformed"))?;
    let aud_ok = match &c.aud {
        Audience::One(a) => a == client_id,
        Audience::Many(v) => v.iter().any(|a| a == client_id),
    };
    if !aud_ok {
        return Err(bad("issued to another application"));
    }
    if c.nonce.as_deref() != Some(nonce) {
        return Err(bad("nonce does not match this sign-in"));
    }
    let subject = match (provider, &c.tid, &c.oid) {
        (Provider::Microsoft, Some(tid), Some(oid)) => format!("{tid}/{oid}"),
        _ => format!("{}#{}", c.iss, c.sub),
    };
    let email = c
        .email
        .or(c.preferred_username)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| bad("no e-mail address; was the email scope granted?"))?;
    let clean = |s: String| -> String { s.chars().filter(|c| !c.is_control()).take(320).collect() };
    let email = clean(email);
    let display_name = clean(c.name.unwrap_or_else(|| email.clone()));
    Ok(Identity {
        subject,
        email,
        display_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(b"{\"alg\":\"none\"}"),
            e.encode(claims)
        )
    }

    #[test]
    fn microsoft_identity_is_tenant_and_object_id() -> Result<()> {
        let t = jwt(
            r#"{"iss":"https://login/x/v2.0","sub":"s","aud":"app","nonce":"n1","preferred_username":"adele@contoso.example","name":"Adele","tid":"t","oid":"o"}"#,
        );
        let id = identity(Provider::Microsoft, &t, "app", "n1")?;
        assert_eq!(id.subject, "t/o");
        assert_eq!(id.email, "adele@contoso.example");
        assert_eq!(id.display_name, "Adele");
        Ok(())
    }

    #[test]
    fn wrong_audience_nonce_or_shape_is_refused() {
        let ok = r#"{"iss":"i","sub":"s","aud":["app"],"nonce":"n1","email":"a@b.c"}"#;
        assert!(identity(Provider::Google, &jwt(ok), "app", "n1").is_ok());
        assert!(identity(Provider::Google, &jwt(ok), "other", "n1").is_err());
        assert!(identity(Provider::Google, &jwt(ok), "app", "n2").is_err());
        let no_mail = r#"{"iss":"i","sub":"s","aud":"app","nonce":"n1"}"#;
        assert!(identity(Provider::Google, &jwt(no_mail), "app", "n1").is_err());
        for garbage in ["", "a.b", "a.!!!.c", "a.b.c.d", &"x".repeat(MAX_LEN + 1)] {
            assert!(identity(Provider::Google, garbage, "app", "n1").is_err());
        }
    }
}
