//! The engine's errors, each with a closed [`ErrorCode`] and a plain-language message.

use almanac_model::{AppError, ErrorCode};
use almanac_provider::ProviderError;
use almanac_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("Stored sync data is damaged: {0}")]
    Corrupt(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Config(String),
    /// What the user answered about changed meanwhile (a conflict refreshed by a
    /// newer version from the provider): look again, then answer.
    #[error("{0}")]
    Stale(String),
    /// A bug: a run's task that panicked, say.
    #[error("{0}")]
    Internal(String),
}

impl SyncError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Store(e) => e.code(),
            Self::Provider(e) => e.kind.code(),
            Self::Corrupt(_) => ErrorCode::Storage,
            Self::BadRequest(_) => ErrorCode::InvalidInput,
            Self::Config(_) => ErrorCode::Config,
            Self::Stale(_) => ErrorCode::Conflict,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}
