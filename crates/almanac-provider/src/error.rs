use std::time::Duration;

use almanac_model::{AppError, ErrorCode};

/// What went wrong with a provider request, as the sync engine branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 401 after a fresh token: the grant may be gone (the auth layer decides).
    AuthExpired,
    /// The account needs the user to sign in again (from the token source).
    ActionRequired,
    /// 429, Google 403 rate limits; `retry_after` says how long the server asked for.
    Throttled,
    /// No connection, DNS failure, timeout.
    Offline,
    /// 412: the event changed at the provider since we read it.
    PreconditionFailed,
    NotFound,
    /// Already deleted (Google 410 `deleted`).
    Gone,
    /// 409: e.g. Google `duplicate` for an id that already exists.
    Conflict,
    /// The incremental-sync cursor is no longer valid (Graph 410 / `syncStateNotFound` /
    /// `resyncRequired`, Google 410 `fullSyncRequired`): list again and reconcile.
    SyncReset,
    /// No access, or a daily quota that retrying today will not fix.
    Forbidden,
    /// 5xx, or an answer that is not the API (HTML from a captive portal or proxy).
    ProviderUnavailable,
    /// 400 and other 4xx: the request itself is wrong.
    InvalidRequest,
}

impl ErrorKind {
    pub fn code(self) -> ErrorCode {
        match self {
            Self::AuthExpired => ErrorCode::AuthExpired,
            Self::ActionRequired => ErrorCode::ActionRequired,
            Self::Throttled => ErrorCode::Throttled,
            Self::Offline => ErrorCode::Offline,
            Self::PreconditionFailed => ErrorCode::PreconditionFailed,
            Self::NotFound | Self::Gone | Self::SyncReset => ErrorCode::NotFound,
            Self::Conflict => ErrorCode::Conflict,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::ProviderUnavailable => ErrorCode::ProviderUnavailable,
            Self::InvalidRequest => ErrorCode::InvalidRequest,
        }
    }

    /// Worth retrying in-line with backoff.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Self::Throttled | Self::Offline | Self::ProviderUnavailable
        )
    }
}

/// A classified failure. The message is plain language and holds no token or body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub message: String,
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The provider's own error code or reason (`syncStateNotFound`, `rateLimitExceeded`).
    pub provider_code: Option<String>,
    pub retry_after: Option<Duration>,
    /// Graph's 410 reset: where to start the new round.
    pub location: Option<String>,
    /// Set when the answer was not JSON: it must never be read as an empty result.
    pub not_json: bool,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            status: None,
            provider_code: None,
            retry_after: None,
            location: None,
            not_json: false,
        }
    }
}

impl From<ProviderError> for AppError {
    fn from(e: ProviderError) -> Self {
        AppError::new(e.kind.code(), e.message)
    }
}

pub type Result<T> = std::result::Result<T, ProviderError>;
