//! The authorization-code + PKCE flow and the token endpoint, shared by both identity
//! providers. What differs between them (error shapes, claims, token looks, secrets) is
//! asked of [`crate::microsoft_identity`] and [`crate::google_oauth`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::state::{
    AccessToken, AuthCode, Client, Grant, Provider, RefreshToken, RotationMode, SharedState, State,
    TokenErrorFault, MICROSOFT_TENANT_ID,
};
use crate::{google_oauth, id_token, microsoft_identity, util, DropConnection};

/// A token-endpoint failure, rendered in each provider's own shape.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    BodyTooLarge,
    NotForm,
    MalformedForm(String),
    MissingParam(&'static str),
    UnsupportedGrantType(String),
    MalformedClientAuth,
    UnknownClient(String),
    SecretMissing,
    SecretWrong(String),
    PublicClientSecret,
    CodeInvalid,
    CodeRedeemed,
    CodeExpired,
    CodeClientMismatch,
    RedirectMismatch { given: String, expected: String },
    VerifierMissing,
    VerifierMismatch,
    RefreshInvalid,
    RefreshRevoked,
    RefreshReused,
    RefreshClientMismatch,
    Injected(TokenErrorFault),
}

/// An authorize-request failure that is safe to report by redirect.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizeError {
    pub(crate) error: String,
    /// Microsoft AADSTS code (the description is prefixed with it).
    pub(crate) code: Option<u32>,
    pub(crate) description: Option<String>,
}

impl AuthorizeError {
    fn invalid_request(code: u32, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError {
            error: "invalid_request".to_string(),
            code: Some(code),
            description: Some(description.into()),
        }
    }
}

/// An authorize-request failure that must not be redirected (unknown client or a
/// redirect URI that does not validate): a plain 400 page.
pub(crate) fn error_page(text: String) -> Response {
    let mut response = (StatusCode::BAD_REQUEST, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => error_page("The redirect could not be built.".to_string()),
    }
}

fn with_query(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    format!("{redirect_uri}?{}", query.finish())
}

/// The deep-link redirect registered for Microsoft clients besides the loopback one.
pub const MICROSOFT_DEEP_LINK_REDIRECT: &str = "almanac://oauth/callback";

/// Checks a loopback redirect URI against the client's registered path: `http`, host
/// `127.0.0.1` or `localhost` (Google also `[::1]`), any port, then exactly the path.
fn check_redirect_uri(provider: Provider, registered_path: &str, uri: &str) -> Result<(), String> {
    // Microsoft clients may also register a custom-scheme ("Mobile and desktop")
    // redirect; such URIs match exactly. Almanac's is registered with every client.
    if provider == Provider::Microsoft && uri == MICROSOFT_DEEP_LINK_REDIRECT {
        return Ok(());
    }
    let Some(rest) = uri.strip_prefix("http://") else {
        return Err("only http:// loopback redirect URIs are registered".to_string());
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = if let Some(port) = authority.strip_prefix("[::1]") {
        ("[::1]", port)
    } else {
        match authority.rfind(':') {
            Some(i) => authority.split_at(i),
            None => (authority, ""),
        }
    };
    match host {
        "127.0.0.1" | "localhost" => {}
        "[::1]" if provider == Provider::Google => {}
        "[::1]" => return Err("the IPv6 loopback address [::1] is not supported".to_string()),
        _ => return Err("the host is not a loopback address".to_string()),
    }
    if !port.is_empty() {
        let digits = &port[1..];
        let valid = !digits.is_empty()
            && digits.len() <= 5
            && digits.chars().all(|c| c.is_ascii_digit())
            && digits.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Err("the port is not valid".to_string());
        }
    }
    if path.contains('?') && provider == Provider::Microsoft {
        return Err("query parameters are not allowed in redirect URIs".to_string());
    }
    if path.contains('#') {
        return Err("a redirect URI must not contain a fragment".to_string());
    }
    if path != registered_path {
        return Err(format!(
            "the path must be exactly '{registered_path}' (only the loopback port may vary)"
        ));
    }
    Ok(())
}

fn valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

fn scope_has(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// `GET` authorize, for either provider.
pub(crate) fn authorize(shared: &SharedState, provider: Provider, query: Option<&str>) -> Response {
    let mut state = shared.lock();
    state.counters.of(provider).authorize += 1;

    let params = match util::parse_form(query.unwrap_or_default().as_bytes()) {
        Ok(params) => params,
        Err(e) => return error_page(format!("Bad request: {e}.")),
    };
    let get = |k: &str| params.get(k).map(String::as_str);

    // Until the client and its redirect URI are known good, never redirect anywhere.
    let client_id = get("client_id").unwrap_or_default();
    let client = match state.clients.get(client_id) {
        Some(c) if c.provider == provider && !client_id.is_empty() => c.clone(),
        _ => {
            return error_page(match provider {
                Provider::Microsoft => microsoft_identity::unknown_client_page(client_id),
                Provider::Google => google_oauth::unknown_client_page(client_id),
            })
        }
    };
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    if let Err(reason) = check_redirect_uri(provider, &client.redirect_path, redirect_uri) {
        return error_page(match provider {
            Provider::Microsoft => {
                microsoft_identity::redirect_mismatch_page(redirect_uri, client_id, &reason)
            }
            Provider::Google => google_oauth::redirect_mismatch_page(redirect_uri, &reason),
        });
    }

    let st = get("state");
    let fail = |e: AuthorizeError| -> Response {
        let description = match (provider, e.code, e.description) {
            (Provider::Microsoft, Some(code), Some(d)) => Some(format!("AADSTS{code}: {d}")),
            (_, _, d) => d,
        };
        let mut pairs = vec![("error", e.error.as_str())];
        if let Some(d) = description.as_deref() {
            pairs.push(("error_description", d));
        }
        if let Some(s) = st {
            pairs.push(("state", s));
        }
        redirect(&with_query(redirect_uri, &pairs))
    };

    if let Some(fault) = state.take_authorize_error(provider) {
        let (code, default_description) = match provider {
            Provider::Microsoft => (
                Some(65004),
                Some("User declined to consent to access the app.".to_string()),
            ),
            Provider::Google => (None, None),
        };
        let description = fault.description.clone().or(default_description);
        return fail(AuthorizeError {
            error: fault.error,
            code: if fault.description.is_some() {
                None
            } else {
                code
            },
            description,
        });
    }

    match get("response_type") {
        Some("code") => {}
        Some(other) => {
            return fail(AuthorizeError::invalid_request(
                900144,
                format!("The response_type '{other}' is not supported: only 'code' is."),
            ))
        }
        None => {
            return fail(AuthorizeError::invalid_request(
                900144,
                "The request body must contain the following parameter: 'response_type'.",
            ))
        }
    }
    if provider == Provider::Microsoft && get("response_mode").is_some_and(|m| m != "query") {
        return fail(AuthorizeError::invalid_request(
            9002313,
            "This fake answers with response_mode=query only.",
        ));
    }
    let Some(challenge) = get("code_challenge") else {
        return fail(AuthorizeError::invalid_request(
            9002325,
            "Proof Key for Code Exchange is required: the request must contain 'code_challenge'.",
        ));
    };
    match get("code_challenge_method") {
        Some("S256") => {}
        other => {
            return fail(AuthorizeError::invalid_request(
                9002325,
                format!(
                    "code_challenge_method must be 'S256' (got {}).",
                    other.unwrap_or("none, which means 'plain'")
                ),
            ))
        }
    }
    if !valid_challenge(challenge) {
        return fail(AuthorizeError::invalid_request(
            9002325,
            "code_challenge must be 43 base64url characters (an S256 challenge).",
        ));
    }
    let scope = get("scope").unwrap_or_default();
    if !scope_has(scope, "openid") {
        return fail(AuthorizeError::invalid_request(
            900144,
            "The scope must contain 'openid'.",
        ));
    }
    let offline = match provider {
        Provider::Microsoft => scope_has(scope, "offline_access"),
        Provider::Google => match get("access_type") {
            None | Some("online") => false,
            Some("offline") => true,
            Some(_) => {
                return fail(AuthorizeError::invalid_request(
                    0,
                    "Invalid access_type: must be 'online' or 'offline'.",
                ))
            }
        },
    };
    let nonce = get("nonce").map(str::to_string);
    if nonce.as_ref().is_some_and(|n| n.len() > 1024) {
        return fail(AuthorizeError::invalid_request(
            90014,
            "The nonce is too long.",
        ));
    }

    let user = get("login_hint")
        .and_then(|hint| state.find_user(provider, hint))
        .or_else(|| state.current_user(provider))
        .cloned();
    let Some(user) = user else {
        return fail(AuthorizeError {
            error: "access_denied".to_string(),
            code: Some(50058),
            description: Some("No user is signed in.".to_string()),
        });
    };

    let code = match provider {
        Provider::Microsoft => format!("M.C5_{}", util::random_token()),
        Provider::Google => format!("4/0A{}", util::random_token()),
    };
    let now = Instant::now();
    state
        .codes
        .retain(|_, c| now.duration_since(c.issued_at) < Duration::from_secs(24 * 3600));
    state.codes.insert(
        code.clone(),
        AuthCode {
            provider,
            client_id: client.client_id.clone(),
            redirect_uri: redirect_uri.to_string(),
            code_challenge: challenge.to_string(),
            scope: scope.to_string(),
            nonce,
            email: user.email.clone(),
            offline,
            issued_at: now,
            used: false,
            grant: None,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = st {
        pairs.push(("state", s));
    }
    if provider == Provider::Google {
        pairs.push(("scope", scope));
    }
    redirect(&with_query(redirect_uri, &pairs))
}

/// `POST` token, for either provider.
pub(crate) async fn token(
    shared: SharedState,
    provider: Provider,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let render = |f: Failure| -> Response {
        match provider {
            Provider::Microsoft => microsoft_identity::token_error(&f),
            Provider::Google => google_oauth::token_error(&f),
        }
    };
    let count_other = || shared.lock().counters.of(provider).token.other += 1;
    let Ok(bytes) = util::read_body(body).await else {
        count_other();
        return render(Failure::BodyTooLarge);
    };
    if !util::is_form_content_type(&headers) {
        count_other();
        return render(Failure::NotForm);
    }
    let form = match util::parse_form(&bytes) {
        Ok(form) => form,
        Err(e) => {
            count_other();
            return render(Failure::MalformedForm(e));
        }
    };
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    let delay = {
        let mut state = shared.lock();
        let counts = &mut state.counters.of(provider).token;
        match grant_type.as_str() {
            "authorization_code" => counts.authorization_code += 1,
            "refresh_token" => counts.refresh_token += 1,
            _ => counts.other += 1,
        }
        state.config.token_delay_ms
    };
    let _in_flight = match (grant_type.as_str(), form.get("refresh_token")) {
        ("refresh_token", Some(rt)) => Some(shared.begin_refresh(rt)),
        _ => None,
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    let (result, drop_connection) = {
        let mut state = shared.lock();
        if let Some(fault) = state.take_token_error(provider, &grant_type) {
            return render(Failure::Injected(fault));
        }
        let drop_connection = state.take_drop_connection(provider, &grant_type);
        let result = match grant_type.as_str() {
            "authorization_code" => exchange_code(&mut state, provider, &headers, &form),
            "refresh_token" => refresh(&mut state, provider, &headers, &form),
            "" => Err(Failure::MissingParam("grant_type")),
            other => Err(Failure::UnsupportedGrantType(other.to_string())),
        };
        (result, drop_connection)
    };
    let mut response = match result {
        Ok(body) => {
            let mut response = axum::Json(body).into_response();
            let h = response.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            response
        }
        Err(f) => render(f),
    };
    if drop_connection {
        response.extensions_mut().insert(DropConnection);
    }
    response
}

/// Client authentication at the token endpoint: `client_id` (form or Basic) must be a
/// client of this provider; a client with a secret must present it (`client_secret_post`
/// or `client_secret_basic`); a Microsoft public client must not present one.
fn authenticate_client(
    state: &State,
    provider: Provider,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Client, Failure> {
    let basic = util::basic_credentials(headers).map_err(|()| Failure::MalformedClientAuth)?;
    let form_id = form.get("client_id");
    let client_id = match (&basic, form_id) {
        (Some((id, _)), Some(form_id)) if id != form_id => {
            return Err(Failure::MalformedClientAuth)
        }
        (Some((id, _)), _) => id.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => return Err(Failure::MissingParam("client_id")),
    };
    let client = match state.clients.get(&client_id) {
        Some(c) if c.provider == provider => c.clone(),
        _ => return Err(Failure::UnknownClient(client_id)),
    };
    let presented = match (&basic, form.get("client_secret")) {
        (Some((_, secret)), _) => Some(secret.clone()),
        (None, Some(secret)) => Some(secret.clone()),
        (None, None) => None,
    };
    match (&client.client_secret, presented) {
        (Some(_), None) => Err(Failure::SecretMissing),
        (Some(expected), Some(given)) if *expected != given => {
            Err(Failure::SecretWrong(client.client_id.clone()))
        }
        (None, Some(_)) if provider == Provider::Microsoft => Err(Failure::PublicClientSecret),
        _ => Ok(client),
    }
}

fn exchange_code(
    state: &mut State,
    provider: Provider,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, Failure> {
    let code = form.get("code").ok_or(Failure::MissingParam("code"))?;
    let client = authenticate_client(state, provider, headers, form)?;
    let code_lifetime = Duration::from_secs(state.config.code_lifetime_secs);
    let entry = match state.codes.get_mut(code) {
        Some(entry) if entry.provider == provider => entry,
        _ => return Err(Failure::CodeInvalid),
    };
    if entry.client_id != client.client_id {
        return Err(Failure::CodeClientMismatch);
    }
    if entry.used {
        // RFC 6749 §4.1.2: a replayed code revokes what was issued from it.
        if let Some(grant) = entry.grant {
            state.revoke_grant(grant);
        }
        return Err(Failure::CodeRedeemed);
    }
    entry.used = true;
    let entry = entry.clone();
    if entry.issued_at.elapsed() >= code_lifetime {
        return Err(Failure::CodeExpired);
    }
    match form.get("redirect_uri") {
        Some(given) if *given == entry.redirect_uri => {}
        given => {
            return Err(Failure::RedirectMismatch {
                given: given.cloned().unwrap_or_default(),
                expected: entry.redirect_uri.clone(),
            })
        }
    }
    let verifier = form.get("code_verifier").ok_or(Failure::VerifierMissing)?;
    if !valid_verifier(verifier) || util::pkce_s256(verifier) != entry.code_challenge {
        return Err(Failure::VerifierMismatch);
    }
    let grant = state.new_grant(Grant {
        provider,
        client_id: client.client_id.clone(),
        email: entry.email.clone(),
        scope: entry.scope.clone(),
        revoked: false,
    });
    if let Some(stored) = state.codes.get_mut(code) {
        stored.grant = Some(grant);
    }
    Ok(issue(state, grant, entry.offline, entry.nonce.as_deref()))
}

fn refresh(
    state: &mut State,
    provider: Provider,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, Failure> {
    let token = form
        .get("refresh_token")
        .ok_or(Failure::MissingParam("refresh_token"))?;
    let client = authenticate_client(state, provider, headers, form)?;
    let rt = state
        .refresh_tokens
        .get(token)
        .cloned()
        .ok_or(Failure::RefreshInvalid)?;
    let grant = state
        .grants
        .get(&rt.grant)
        .cloned()
        .ok_or(Failure::RefreshInvalid)?;
    if grant.provider != provider {
        return Err(Failure::RefreshInvalid);
    }
    if grant.client_id != client.client_id {
        return Err(Failure::RefreshClientMismatch);
    }
    if grant.revoked {
        return Err(Failure::RefreshRevoked);
    }
    if rt.rotated {
        // RFC 9700 §4.14.2: reuse of an invalidated refresh token revokes the chain.
        state.revoke_grant(rt.grant);
        return Err(Failure::RefreshReused);
    }
    let rotation = state.config.rotation.for_provider(provider);
    if rotation == RotationMode::InvalidateOld {
        if let Some(old) = state.refresh_tokens.get_mut(token) {
            old.rotated = true;
        }
    }
    Ok(issue(state, rt.grant, rotation != RotationMode::None, None))
}

/// Issues an access token (and a refresh token and ID token where due) on `grant_id`.
fn issue(state: &mut State, grant_id: u64, with_refresh: bool, nonce: Option<&str>) -> Value {
    let Some(grant) = state.grants.get(&grant_id).cloned() else {
        return json!({});
    };
    let prefix = state.config.token_prefix.clone();
    let access = match grant.provider {
        Provider::Microsoft => format!("{prefix}EwB{}", util::random_token()),
        Provider::Google => format!("{prefix}ya29.a0{}", util::random_token()),
    };
    let expires_at = state.access_token_expiry();
    state.access_tokens.insert(
        access.clone(),
        AccessToken {
            grant: grant_id,
            expires_at,
            force_expired: false,
        },
    );
    let lifetime = state.config.access_token_lifetime_secs;
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": grant.scope,
    });
    if grant.provider == Provider::Microsoft {
        body["ext_expires_in"] = json!(lifetime);
    }
    if with_refresh {
        let refresh = match grant.provider {
            Provider::Microsoft => format!("{prefix}M.C5_{}", util::random_token()),
            Provider::Google => format!("{prefix}1//0{}", util::random_token()),
        };
        state.refresh_tokens.insert(
            refresh.clone(),
            RefreshToken {
                grant: grant_id,
                rotated: false,
            },
        );
        body["refresh_token"] = json!(refresh);
    }
    if scope_has(&grant.scope, "openid") {
        if let Some(claims) = id_token_claims(state, &grant, nonce) {
            body["id_token"] = json!(id_token::sign(&claims));
        }
    }
    body
}

fn id_token_claims(state: &State, grant: &Grant, nonce: Option<&str>) -> Option<Value> {
    let user = state.find_user(grant.provider, &grant.email)?;
    let now = util::now_unix();
    let mut claims = match grant.provider {
        Provider::Microsoft => json!({
            "ver": "2.0",
            "iss": format!("{}/{MICROSOFT_TENANT_ID}/v2.0", state.base_url),
            "sub": util::b64url(&util::sha256(format!("{}:{}", user.id, grant.client_id).as_bytes())[..24]),
            "aud": grant.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.name,
            "preferred_username": user.email,
            "email": user.email,
            "oid": user.id,
            "tid": MICROSOFT_TENANT_ID,
        }),
        Provider::Google => {
            let mut names = user.name.splitn(2, ' ');
            json!({
                "iss": state.base_url,
                "azp": grant.client_id,
                "aud": grant.client_id,
                "sub": user.id,
                "email": user.email,
                "email_verified": true,
                "name": user.name,
                "given_name": names.next().unwrap_or_default(),
                "family_name": names.next().unwrap_or_default(),
                "iat": now,
                "exp": now + 3600,
            })
        }
    };
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    Some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        let ms = |u: &str| check_redirect_uri(Provider::Microsoft, "/callback/microsoft", u);
        let g = |u: &str| check_redirect_uri(Provider::Google, "/callback/google", u);
        assert!(ms("http://127.0.0.1:49152/callback/microsoft").is_ok());
        assert!(ms("http://localhost:8080/callback/microsoft").is_ok());
        assert!(ms("http://127.0.0.1/callback/microsoft").is_ok());
        assert!(ms("almanac://oauth/callback").is_ok());
        assert!(ms("almanac://oauth/callback/").is_err());
        assert!(g("almanac://oauth/callback").is_err());
        assert!(ms("http://[::1]:1234/callback/microsoft").is_err());
        assert!(ms("http://127.0.0.1:1234/callback/microsoft?x=1").is_err());
        assert!(ms("https://127.0.0.1:1234/callback/microsoft").is_err());
        assert!(ms("http://127.0.0.1:1234/callback/Microsoft").is_err());
        assert!(ms("http://127.0.0.1:0/callback/microsoft").is_err());
        assert!(ms("http://127.0.0.1:99999/callback/microsoft").is_err());
        assert!(ms("http://evil.example@127.0.0.1:1/callback/microsoft").is_err());
        assert!(ms("http://127.0.0.1:1/callback/microsoft#x").is_err());
        assert!(ms("http://127.0.0.1:1/callback/microsoft/../microsoft").is_err());
        assert!(g("http://[::1]:1234/callback/google").is_ok());
        assert!(g("http://127.0.0.1:1234/callback/google?x=1").is_err());
        assert!(g("http://127.0.0.1:1234/callback/microsoft").is_err());
    }
}
