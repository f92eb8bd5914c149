//! `almanac-fakecloud`: Almanac's fake cloud for tests. A real HTTP server on loopback
//! that imitates the Microsoft identity platform (authorize/token, Graph `/me`) and
//! Google OAuth (auth/token/revoke) closely enough for the app's sign-in and token
//! handling to be tested end to end, plus a control API (`/_control/...`) to seed users,
//! register clients, tune token behaviour, inject faults and read request statistics.
//!
//! One module per surface: [`microsoft_identity`], [`google_oauth`], [`graph`],
//! [`control`]; the flow they share lives in `oauth`, the state in [`state`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let cloud = almanac_fakecloud::FakeCloud::start().await?;
//! let authority = cloud.base_url(); // point the app's authority / auth_url / token_url here
//! # let _ = authority;
//! cloud.stop().await;
//! # Ok(()) }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod control;
pub mod google_calendar;
pub mod google_oauth;
pub mod google_store;
pub mod graph;
pub mod graph_calendar;
pub mod graph_store;
pub mod id_token;
pub mod latency;
pub mod microsoft_identity;
mod oauth;
pub mod state;
mod util;

pub use state::{
    AuthorizeErrorFault, ClientSpec, Config, ConfigUpdate, ControlError, DropConnectionFault,
    EndpointCounts, Faults, FaultsUpdate, Provider, ReceivedBody, Rotation, RotationMode,
    RotationUpdate, SharedState, Stats, TokenCounts, TokenErrorFault, User, UserSpec, MAX_RECEIVED,
};

/// Marks a response that must not be sent: the connection is closed instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// The error a connection's service returns to make hyper close it unanswered.
#[derive(Debug)]
struct ResponseDropped;

impl std::fmt::Display for ResponseDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("response dropped on purpose (drop_connection fault)")
    }
}

impl std::error::Error for ResponseDropped {}

/// A running fake cloud. Dropping it stops accepting connections; [`FakeCloud::stop`]
/// also waits for in-flight requests to finish.
#[derive(Debug)]
pub struct FakeCloud {
    base_url: String,
    state: SharedState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeCloud {
    /// Starts on `127.0.0.1` and an ephemeral port.
    pub async fn start() -> std::io::Result<FakeCloud> {
        FakeCloud::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts on `addr` (port 0 picks an ephemeral port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeCloud> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let state = SharedState::new(base_url.clone());
        let app = router(state.clone());
        let (shutdown, shutdown_rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, app, shutdown_rx));
        Ok(FakeCloud {
            base_url,
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The state, to drive the fake in-process (the control API's twin).
    pub fn state(&self) -> SharedState {
        self.state.clone()
    }

    /// Stops accepting connections and waits (at most 5 s) for open ones to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Every surface's routes on one router.
pub fn router(state: SharedState) -> Router {
    Router::new()
        .merge(microsoft_identity::routes())
        .merge(google_oauth::routes())
        .merge(google_calendar::routes())
        .merge(graph::routes())
        .merge(graph_calendar::routes())
        .merge(control::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"error": "not_found", "error_description": "No such endpoint in the fake cloud."})),
    )
        .into_response()
}

/// The accept loop. Connections are served with hyper directly (not `axum::serve`) so
/// that a response marked [`DropConnection`] can close its connection unanswered.
async fn serve(listener: TcpListener, app: Router, mut shutdown: oneshot::Receiver<()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Typically out of file descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut app = app.clone();
            async move {
                let request = request.map(axum::body::Body::new);
                let response = match tower_service::Service::call(&mut app, request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                if response.extensions().get::<DropConnection>().is_some() {
                    Err(ResponseDropped)
                } else {
                    Ok(response)
                }
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}
