//! Microsoft Graph v1.0. For now only `GET /v1.0/me`; the calendar endpoints come later.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::{Provider, SharedState};
use crate::util;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new().route("/v1.0/me", get(me))
}

/// A Graph error: `{"error":{"code","message","innerError":{...}}}`.
pub(crate) fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": util::format_timestamp(util::now_unix()).replace(' ', "T"),
                "request-id": util::random_guid(),
                "client-request-id": util::random_guid(),
            }
        }
    });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    response
}

async fn me(State(shared): State<SharedState>, headers: HeaderMap) -> Response {
    let mut state = shared.lock();
    state.counters.microsoft.me += 1;
    let Some(token) = util::bearer_token(&headers) else {
        return graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token is empty.",
        );
    };
    let user = match state.valid_access_token(&token) {
        Some((grant, user)) if grant.provider == Provider::Microsoft => user.clone(),
        _ => {
            let message = if state.access_tokens.contains_key(&token) {
                "Lifetime validation failed, the token is expired or revoked."
            } else {
                "IDX14100: JWT is not well formed, there are no dots (.)."
            };
            return graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            );
        }
    };
    drop(state);
    let mut names = user.name.splitn(2, ' ');
    Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
        "id": user.id,
        "displayName": user.name,
        "givenName": names.next().unwrap_or_default(),
        "surname": names.next().unwrap_or_default(),
        "mail": user.email,
        "userPrincipalName": user.email,
        "businessPhones": [],
        "jobTitle": null,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
    }))
    .into_response()
}
