//! What the provider clients (Microsoft Graph, Google Calendar) share: an HTTP client
//! with timeouts, retries with exponential backoff and jitter that honour
//! `Retry-After`, a per-mailbox concurrency cap, bearer tokens refreshed once on a
//! 401, and the classification of every failure into a closed set of kinds with a
//! plain-language message. A non-JSON answer is a transport error, never an empty
//! calendar.

mod backoff;
mod error;
mod event;
mod extra;
mod http;
mod provider;
pub mod raw;

pub use backoff::{Backoff, RetryDecision};
pub use error::{ErrorKind, ProviderError, Result};
pub use event::{OriginalStart, RemoteEvent, RemoteKind, RemoteRecurrence, SeriesLink, Timing};
pub use extra::Extra;
pub use http::{
    classify_inner, AccountTokens, ApiClient, ApiRequest, ApiResponse, BodyRead, Dialect,
    TokenSource, GRAPH_CONCURRENCY_PER_MAILBOX, LONGEST_ANSWER, LONGEST_RETRY_AFTER,
};
pub use provider::{
    last_of_each, unreadable_reason, BoxFuture, CalendarProvider, Change, ChangePage, Cursor,
    Deleted, Lookup, RemoteCalendar, Window, UNREADABLE_REASON_CHARS,
};

/// The HTTP types of [`ApiRequest`], so clients need no HTTP crate of their own.
pub use reqwest::{header, Method};
