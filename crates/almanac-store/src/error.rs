use almanac_model::{AppError, ErrorCode, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    NotFound(String),
    #[error("The calendar \"{0}\" is read-only.")]
    ReadOnly(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(
        "Almanac is already running on the data directory {0} (the app, `almanac daemon` or \
         another `almanac` command holds it). Close it or let it finish, then try again."
    )]
    Locked(String),
    #[error(
        "The database was written by a newer version of Almanac (schema {found}; this \
         version knows up to {known}). Update Almanac; the file was left untouched."
    )]
    TooNew { found: i64, known: i64 },
    #[error("Could not use the data directory {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("Database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("Stored data is damaged: {0}")]
    Corrupt(String),
    /// A sync step was rolled back by its caller (the caller's own error says why).
    #[error("The change was rolled back.")]
    RolledBack,
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) | Self::BadRequest(_) => ErrorCode::InvalidInput,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::ReadOnly(_) => ErrorCode::ReadOnly,
            Self::Locked(_) => ErrorCode::Locked,
            Self::TooNew { .. }
            | Self::Io { .. }
            | Self::Sqlite(_)
            | Self::Migration(_)
            | Self::Corrupt(_)
            | Self::RolledBack => ErrorCode::Storage,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;
