//! The Microsoft identity platform (v2.0 endpoints) of a public desktop client.
//!
//! `GET /{tenant}/oauth2/v2.0/authorize`, `POST /{tenant}/oauth2/v2.0/token`; errors in
//! Microsoft's shape (`error`, `error_description` starting `AADSTSnnnn:`, `error_codes`,
//! `timestamp`, `trace_id`, `correlation_id`).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
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
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
}

/// `common`, `organizations`, `consumers`, a tenant GUID or a domain.
fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 128
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

async fn authorize(
    State(shared): State<SharedState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if !valid_tenant(&tenant) {
        return oauth::error_page(
            "AADSTS90002: Tenant not found. Check to make sure you have the correct tenant ID."
                .to_string(),
        );
    }
    oauth::authorize(&shared, Provider::Microsoft, query.as_deref())
}

async fn token(
    State(shared): State<SharedState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !valid_tenant(&tenant) {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            "Tenant not found. Check to make sure you have the correct tenant ID.",
        );
    }
    oauth::token(shared, Provider::Microsoft, headers, body).await
}

pub(crate) fn unknown_client_page(client_id: &str) -> String {
    if client_id.is_empty() {
        "AADSTS900144: The request body must contain the following parameter: 'client_id'."
            .to_string()
    } else {
        format!(
            "AADSTS700016: Application with identifier '{client_id}' was not found in the \
             directory. This can happen if the application has not been installed by the \
             administrator of the tenant or consented to by any user in the tenant."
        )
    }
}

pub(crate) fn redirect_mismatch_page(redirect_uri: &str, client_id: &str, reason: &str) -> String {
    format!(
        "AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match \
         the redirect URIs configured for the application '{client_id}': {reason}."
    )
}

/// A token-endpoint error in Microsoft's shape.
pub(crate) fn error_response(
    status: StatusCode,
    error: &str,
    code: u32,
    description: &str,
) -> Response {
    let trace_id = util::random_guid();
    let correlation_id = util::random_guid();
    let timestamp = util::format_timestamp(util::now_unix());
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    (status, Json(body)).into_response()
}

/// The description Microsoft gives for an AADSTS code.
fn aadsts_description(code: u32) -> &'static str {
    match code {
        700082 => {
            "The refresh token has expired due to inactivity. The token was issued on \
             2024-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00."
        }
        70008 => {
            "The provided authorization code or refresh token has expired due to inactivity. \
             Send a new interactive authorization request for this user and resource."
        }
        50173 => {
            "The provided grant has expired due to it being revoked, a fresh auth token is \
             needed. The user might have changed or reset their password."
        }
        50076 => {
            "Due to a configuration change made by your administrator, or because you moved \
             to a new location, you must use multi-factor authentication to access the resource."
        }
        65001 => {
            "The user or administrator has not consented to use the application. Send an \
             interactive authorization request for this user and resource."
        }
        7000215 => "Invalid client secret provided.",
        90033 => "A transient error has occurred. Please try again.",
        50000 => "There was an error issuing a token or an issue with our sign-in service.",
        _ => "The request failed (a fault injected into the fake).",
    }
}

pub(crate) fn token_error(failure: &Failure) -> Response {
    use StatusCode as S;
    let (status, error, code, description): (S, &str, u32, String) = match failure {
        Failure::BodyTooLarge => (
            S::PAYLOAD_TOO_LARGE,
            "invalid_request",
            9002313,
            "Invalid request. The request body is too large.".into(),
        ),
        Failure::NotForm => (
            S::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must be application/x-www-form-urlencoded.".into(),
        ),
        Failure::MalformedForm(e) => (
            S::BAD_REQUEST,
            "invalid_request",
            9002313,
            format!("Invalid request. Request is malformed or invalid: {e}."),
        ),
        Failure::MissingParam(p) => (
            S::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{p}'."),
        ),
        Failure::UnsupportedGrantType(g) => (
            S::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{g}'."),
        ),
        Failure::MalformedClientAuth => (
            S::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "The client credentials in the request are malformed or inconsistent.".into(),
        ),
        Failure::UnknownClient(id) => (
            S::UNAUTHORIZED,
            "invalid_client",
            700016,
            format!("Application with identifier '{id}' was not found in the directory."),
        ),
        Failure::SecretMissing => (
            S::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'."
                .into(),
        ),
        Failure::SecretWrong(id) => (
            S::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request \
                 is the client secret value, not the client secret ID, for a secret added to \
                 app '{id}'."
            ),
        ),
        Failure::PublicClientSecret => (
            S::UNAUTHORIZED,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be \
             presented."
                .into(),
        ),
        Failure::CodeInvalid => (
            S::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The provided value for the 'code' parameter is not valid.".into(),
        ),
        Failure::CodeRedeemed => (
            S::BAD_REQUEST,
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid \
             code or use an existing refresh token."
                .into(),
        ),
        Failure::CodeExpired => (
            S::BAD_REQUEST,
            "invalid_grant",
            70008,
            aadsts_description(70008).into(),
        ),
        Failure::CodeClientMismatch => (
            S::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The authorization code was issued to a different client.".into(),
        ),
        Failure::RedirectMismatch { given, expected } => (
            S::BAD_REQUEST,
            "invalid_grant",
            500112,
            format!(
                "The reply address '{given}' does not match the reply address '{expected}' \
                 provided when requesting Authorization code."
            ),
        ),
        Failure::VerifierMissing => (
            S::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier is missing: the authorization request had a code_challenge.".into(),
        ),
        Failure::VerifierMismatch => (
            S::BAD_REQUEST,
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization \
             request."
                .into(),
        ),
        Failure::RefreshInvalid => (
            S::BAD_REQUEST,
            "invalid_grant",
            9002313,
            "Invalid request. Request is malformed or invalid: the refresh token is not valid."
                .into(),
        ),
        Failure::RefreshRevoked => (
            S::BAD_REQUEST,
            "invalid_grant",
            50173,
            aadsts_description(50173).into(),
        ),
        Failure::RefreshReused => (
            S::BAD_REQUEST,
            "invalid_grant",
            70008,
            "The refresh token was already used and has been invalidated; every token of \
             this grant is now revoked."
                .into(),
        ),
        Failure::RefreshClientMismatch => (
            S::BAD_REQUEST,
            "invalid_grant",
            70000,
            "The refresh token was issued to a different client.".into(),
        ),
        Failure::Injected(fault) => {
            let code = fault.code.unwrap_or(match fault.error.as_str() {
                "invalid_grant" => 700082,
                "interaction_required" => 50076,
                "consent_required" => 65001,
                "invalid_client" => 7000215,
                "temporarily_unavailable" => 90033,
                "server_error" => 50000,
                _ => 0,
            });
            let status = fault.status.and_then(|s| S::from_u16(s).ok()).unwrap_or(
                match fault.error.as_str() {
                    "invalid_client" => S::UNAUTHORIZED,
                    "temporarily_unavailable" => S::SERVICE_UNAVAILABLE,
                    "server_error" => S::INTERNAL_SERVER_ERROR,
                    _ => S::BAD_REQUEST,
                },
            );
            let description = fault
                .description
                .clone()
                .unwrap_or_else(|| aadsts_description(code).to_string());
            return error_response(status, &fault.error, code, &description);
        }
    };
    error_response(status, error, code, &description)
}
