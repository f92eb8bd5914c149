use almanac_model::{AppError, ErrorCode, Provider};

/// Why signing in, refreshing or keeping tokens failed. Messages are plain language
/// and never contain a token, a code or a raw provider response.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Config(String),
    #[error(
        "No usable keyring to keep sign-in tokens in ({0}). Almanac stores tokens only in \
         the OS keyring (the Secret Service on Linux): start and unlock GNOME Keyring or \
         KWallet (for example `gnome-keyring-daemon --start --components=secrets` in your \
         desktop session), then try again. Tokens are never written to a plain file."
    )]
    KeyringUnavailable(String),
    #[error("{provider_name} asks you to sign in again: {reason}", provider_name = .provider.display_name())]
    ActionRequired { provider: Provider, reason: String },
    /// The configuration names other endpoints than the account's tokens came from.
    #[error("Sign in to {provider_name} again: {reason}", provider_name = .provider.display_name())]
    EndpointsChanged { provider: Provider, reason: String },
    #[error("Sign-in did not finish: {0}")]
    SignInFailed(String),
    /// The user cancelled the sign-in before the browser came back.
    #[error("Sign-in cancelled.")]
    SignInCancelled,
    #[error("Could not reach {provider_name}: {detail}", provider_name = .provider.display_name())]
    Offline { provider: Provider, detail: String },
    #[error("{provider_name} answered the token request with an error: {detail}", provider_name = .provider.display_name())]
    Provider { provider: Provider, detail: String },
    /// The token endpoint refused the request for good (not the grant: that is
    /// `ActionRequired`).
    #[error("{provider_name} refused the token request ({code}); check the configuration, or sign in again.", provider_name = .provider.display_name())]
    Refused { provider: Provider, code: String },
    #[error("Could not open the browser: {0}")]
    Browser(String),
    #[error("Not signed in: no saved sign-in for account {0}; connect it again.")]
    NoTokens(String),
    #[error(
        "{email} has {count} change(s) made on this computer that were not sent yet; \
         disconnecting now would discard them. Sync first, or disconnect anyway to discard \
         them (`almanac accounts remove ID --discard-unpushed`)."
    )]
    Unpushed { email: String, count: i64 },
    #[error("{0}")]
    Store(#[from] almanac_store::StoreError),
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Config(_) => ErrorCode::Config,
            Self::KeyringUnavailable(_) => ErrorCode::KeyringUnavailable,
            Self::ActionRequired { .. } | Self::EndpointsChanged { .. } | Self::NoTokens(_) => {
                ErrorCode::ActionRequired
            }
            Self::SignInFailed(_) | Self::SignInCancelled | Self::Browser(_) => {
                ErrorCode::SignInFailed
            }
            Self::Offline { .. } => ErrorCode::Offline,
            Self::Provider { .. } => ErrorCode::ProviderUnavailable,
            Self::Refused { .. } => ErrorCode::SignInFailed,
            Self::Unpushed { .. } => ErrorCode::Conflict,
            Self::Store(e) => e.code(),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, AuthError>;
