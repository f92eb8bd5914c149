//! The control API under `/_control/`: JSON in, JSON out, for tests and for a person
//! driving the fake by hand. Each route calls the [`SharedState`] method of the same name.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::state::{
    ClientSpec, ConfigUpdate, ControlError, FaultsUpdate, Provider, SharedState, UserSpec,
};
use crate::util;

pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_control/users", post(add_user).get(users))
        .route("/_control/clients", post(register_client))
        .route("/_control/config", post(update_config).get(config))
        .route("/_control/faults", post(set_faults).get(faults))
        .route("/_control/revoke_all", post(revoke_all))
        .route("/_control/expire_access_tokens", post(expire_access_tokens))
        .route("/_control/stats", get(stats))
        .route("/_control/reset", post(reset))
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": message})),
    )
        .into_response()
}

async fn parse<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes = util::read_body(body).await.map_err(|()| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"error": "invalid_request", "error_description": "body too large"})),
        )
            .into_response()
    })?;
    serde_json::from_slice(&bytes).map_err(|e| bad_request(&e.to_string()))
}

fn answer<T: serde::Serialize>(result: Result<T, ControlError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => bad_request(&e.0),
    }
}

async fn add_user(State(shared): State<SharedState>, body: Body) -> Response {
    match parse::<UserSpec>(body).await {
        Ok(spec) => answer(shared.add_user(spec)),
        Err(r) => r,
    }
}

async fn users(State(shared): State<SharedState>) -> Response {
    Json(shared.users()).into_response()
}

async fn register_client(State(shared): State<SharedState>, body: Body) -> Response {
    match parse::<ClientSpec>(body).await {
        Ok(spec) => answer(shared.register_client(spec).map(|()| json!({}))),
        Err(r) => r,
    }
}

async fn update_config(State(shared): State<SharedState>, body: Body) -> Response {
    match parse::<ConfigUpdate>(body).await {
        Ok(update) => answer(shared.update_config(update)),
        Err(r) => r,
    }
}

async fn config(State(shared): State<SharedState>) -> Response {
    Json(shared.config()).into_response()
}

async fn set_faults(State(shared): State<SharedState>, body: Body) -> Response {
    match parse::<FaultsUpdate>(body).await {
        Ok(update) => answer(shared.set_faults(update)),
        Err(r) => r,
    }
}

async fn faults(State(shared): State<SharedState>) -> Response {
    Json(shared.faults()).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeAll {
    provider: Provider,
    email: String,
}

async fn revoke_all(State(shared): State<SharedState>, body: Body) -> Response {
    match parse::<RevokeAll>(body).await {
        Ok(r) => {
            Json(json!({"revoked_grants": shared.revoke_all(r.provider, &r.email)})).into_response()
        }
        Err(r) => r,
    }
}

async fn expire_access_tokens(State(shared): State<SharedState>) -> Response {
    Json(json!({"expired": shared.expire_access_tokens()})).into_response()
}

async fn stats(State(shared): State<SharedState>) -> Response {
    Json(shared.stats()).into_response()
}

async fn reset(State(shared): State<SharedState>) -> Response {
    shared.reset();
    Json(json!({})).into_response()
}
