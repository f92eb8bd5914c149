//! ID tokens: compact JWTs signed with HS256 and a fixed, public test key.
//!
//! Real providers sign with RS256 and publish JWKS; this fake only needs the claims to be
//! right, so anyone (tests included) can verify its tokens with [`SIGNING_KEY`].

use serde_json::Value;

use crate::util;

/// The HMAC-SHA256 key every ID token is signed with.
pub const SIGNING_KEY: &[u8] = b"almanac-fakecloud-id-token-test-signing-key";

/// Why [`decode`] refused a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// The header is not `{"alg":"HS256",...}`.
    UnsupportedAlgorithm,
    /// The signature does not match [`SIGNING_KEY`].
    BadSignature,
}

impl std::fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdTokenError::Malformed => "malformed JWT",
            IdTokenError::UnsupportedAlgorithm => "unsupported JWT algorithm",
            IdTokenError::BadSignature => "bad JWT signature",
        })
    }
}

impl std::error::Error for IdTokenError {}

/// Signs `claims` into a compact JWT.
pub fn sign(claims: &Value) -> String {
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": "almanac-fakecloud"});
    let signing_input = format!(
        "{}.{}",
        util::b64url(header.to_string().as_bytes()),
        util::b64url(claims.to_string().as_bytes())
    );
    let signature = util::hmac_sha256(SIGNING_KEY, signing_input.as_bytes());
    format!("{signing_input}.{}", util::b64url(&signature))
}

/// Verifies a token signed by [`sign`] and returns its claims. Does not check `exp`,
/// `aud` or `iss`: that is the caller's job.
pub fn decode(token: &str) -> Result<Value, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed);
    };
    let parse = |part: &str| -> Result<Value, IdTokenError> {
        let bytes = util::b64url_decode(part).ok_or(IdTokenError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)
    };
    let header = parse(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(IdTokenError::UnsupportedAlgorithm);
    }
    let signature = util::b64url_decode(signature).ok_or(IdTokenError::Malformed)?;
    let expected = util::hmac_sha256(
        SIGNING_KEY,
        format!("{}.{payload}", token_prefix(token)).as_bytes(),
    );
    if signature != expected {
        return Err(IdTokenError::BadSignature);
    }
    parse(payload)
}

/// The header part of a compact JWT.
fn token_prefix(token: &str) -> &str {
    token.split('.').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let claims = serde_json::json!({"sub": "x", "nonce": "n"});
        let token = sign(&claims);
        assert_eq!(decode(&token), Ok(claims));
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(decode(&tampered).is_err());
        assert_eq!(decode("a.b"), Err(IdTokenError::Malformed));
    }
}
