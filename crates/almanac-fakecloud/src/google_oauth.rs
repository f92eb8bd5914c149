//! Google OAuth 2.0 for a "Desktop app" client.
//!
//! `GET /o/oauth2/v2/auth`, `POST /token`, `POST /revoke`; errors in Google's shape
//! (`{"error": ..., "error_description": ...}`).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::oauth::{self, Failure};
use crate::state::{Provider, SharedState};
use crate::util;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/o/oauth2/v2/auth", get(authorize))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
}

async fn authorize(State(shared): State<SharedState>, RawQuery(query): RawQuery) -> Response {
    oauth::authorize(&shared, Provider::Google, query.as_deref())
}

async fn token(State(shared): State<SharedState>, headers: HeaderMap, body: Body) -> Response {
    oauth::token(shared, Provider::Google, headers, body).await
}

pub(crate) fn unknown_client_page(client_id: &str) -> String {
    if client_id.is_empty() {
        "Access blocked: Authorization Error\n\nError 400: invalid_request\nMissing required \
         parameter: client_id"
            .to_string()
    } else {
        format!(
            "Access blocked: Authorization Error\n\nThe OAuth client was not found.\n\
             Error 401: invalid_client\nclient_id: {client_id}"
        )
    }
}

pub(crate) fn redirect_mismatch_page(redirect_uri: &str, reason: &str) -> String {
    format!(
        "Access blocked: This app's request is invalid\n\nError 400: redirect_uri_mismatch\n\
         redirect_uri={redirect_uri}\n{reason}."
    )
}

fn error_response(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

pub(crate) fn token_error(failure: &Failure) -> Response {
    use StatusCode as S;
    let (status, error, description): (S, &str, String) = match failure {
        Failure::BodyTooLarge => (
            S::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "Request body too large.".into(),
        ),
        Failure::NotForm => (
            S::BAD_REQUEST,
            "invalid_request",
            "The request body must be application/x-www-form-urlencoded.".into(),
        ),
        Failure::MalformedForm(e) => (
            S::BAD_REQUEST,
            "invalid_request",
            format!("Bad Request: {e}."),
        ),
        Failure::MissingParam("client_id") => (
            S::BAD_REQUEST,
            "invalid_request",
            "Could not determine client ID from request.".into(),
        ),
        Failure::MissingParam(p) => (
            S::BAD_REQUEST,
            "invalid_request",
            format!("Missing required parameter: {p}"),
        ),
        Failure::UnsupportedGrantType(g) => (
            S::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Invalid grant_type: {g}"),
        ),
        Failure::MalformedClientAuth => (S::UNAUTHORIZED, "invalid_client", "Unauthorized".into()),
        Failure::UnknownClient(_) => (
            S::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.".into(),
        ),
        Failure::SecretMissing => (
            S::BAD_REQUEST,
            "invalid_request",
            "client_secret is missing.".into(),
        ),
        Failure::SecretWrong(_) | Failure::PublicClientSecret => {
            (S::UNAUTHORIZED, "invalid_client", "Unauthorized".into())
        }
        Failure::CodeInvalid => (
            S::BAD_REQUEST,
            "invalid_grant",
            "Malformed auth code.".into(),
        ),
        Failure::CodeRedeemed | Failure::CodeExpired | Failure::CodeClientMismatch => {
            (S::BAD_REQUEST, "invalid_grant", "Bad Request".into())
        }
        Failure::RedirectMismatch { .. } => (
            S::BAD_REQUEST,
            "redirect_uri_mismatch",
            "Bad Request".into(),
        ),
        Failure::VerifierMissing => (
            S::BAD_REQUEST,
            "invalid_grant",
            "Missing code verifier.".into(),
        ),
        Failure::VerifierMismatch => (
            S::BAD_REQUEST,
            "invalid_grant",
            "Invalid code verifier.".into(),
        ),
        Failure::RefreshInvalid => (S::BAD_REQUEST, "invalid_grant", "Bad Request".into()),
        Failure::RefreshRevoked | Failure::RefreshReused => (
            S::BAD_REQUEST,
            "invalid_grant",
            "Token has been expired or revoked.".into(),
        ),
        Failure::RefreshClientMismatch => (
            S::UNAUTHORIZED,
            "unauthorized_client",
            "Unauthorized".into(),
        ),
        Failure::Injected(fault) => {
            let status = fault.status.and_then(|s| S::from_u16(s).ok()).unwrap_or(
                match fault.error.as_str() {
                    "invalid_client" | "unauthorized_client" => S::UNAUTHORIZED,
                    "temporarily_unavailable" => S::SERVICE_UNAVAILABLE,
                    "server_error" => S::INTERNAL_SERVER_ERROR,
                    _ => S::BAD_REQUEST,
                },
            );
            let description = fault.description.clone().unwrap_or_else(|| {
                match fault.error.as_str() {
                    "invalid_grant" => "Token has been expired or revoked.",
                    "invalid_client" => "The OAuth client was not found.",
                    "temporarily_unavailable" => "The service is currently unavailable.",
                    "server_error" => "Internal error.",
                    _ => "The request failed (a fault injected into the fake).",
                }
                .to_string()
            });
            return error_response(status, &fault.error, &description);
        }
    };
    error_response(status, error, &description)
}

/// `POST /revoke` with `token=` (form body, or the query string as Google also accepts).
/// Revoking either token of a grant revokes the whole grant: the refresh token and every
/// access token issued with it (as Google documents for both kinds).
async fn revoke(
    State(shared): State<SharedState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    shared.lock().counters.google.revoke += 1;
    let Ok(bytes) = util::read_body(body).await else {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "Request body too large.",
        );
    };
    let form = if bytes.is_empty() {
        util::parse_form(query.unwrap_or_default().as_bytes())
    } else if util::is_form_content_type(&headers) {
        util::parse_form(&bytes)
    } else {
        Err("the request body must be application/x-www-form-urlencoded".to_string())
    };
    let form = match form {
        Ok(form) => form,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, "invalid_request", &e),
    };
    let Some(token) = form.get("token") else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: token",
        );
    };
    let mut state = shared.lock();
    let grant = if state.valid_access_token(token).is_some() {
        state.access_tokens.get(token).map(|t| t.grant)
    } else {
        state
            .refresh_tokens
            .get(token)
            .filter(|rt| !rt.rotated)
            .map(|rt| rt.grant)
            .filter(|g| state.grants.get(g).is_some_and(|g| !g.revoked))
    };
    match grant {
        Some(id)
            if state
                .grants
                .get(&id)
                .is_some_and(|g| g.provider == Provider::Google) =>
        {
            state.revoke_grant(id);
            (StatusCode::OK, Json(json!({}))).into_response()
        }
        _ => error_response(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        ),
    }
}
