use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The closed set of error codes the UI and `--json` consumers can branch on.
/// Adding a code is a deliberate API change; the message is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    NotFound,
    ReadOnly,
    Conflict,
    Storage,
    Locked,
    AuthExpired,
    Throttled,
    Offline,
    PreconditionFailed,
    /// The account needs the user to sign in again (revoked or expired grant).
    ActionRequired,
    /// No usable OS keyring (Secret Service) to keep tokens in.
    KeyringUnavailable,
    /// A sign-in did not complete: declined, timed out, or the provider refused it.
    SignInFailed,
    /// The configuration file is missing something or holds a bad value.
    Config,
    /// The provider failed or answered with something that is not its API (5xx,
    /// an HTML page from a captive portal or proxy); try again later.
    ProviderUnavailable,
    /// The provider refused a request as malformed; retrying it unchanged will not help.
    InvalidRequest,
    /// The provider refuses this for good (no access, quota for the day used up).
    Forbidden,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::ReadOnly => "read_only",
            Self::Conflict => "conflict",
            Self::Storage => "storage",
            Self::Locked => "locked",
            Self::AuthExpired => "auth_expired",
            Self::Throttled => "throttled",
            Self::Offline => "offline",
            Self::PreconditionFailed => "precondition_failed",
            Self::ActionRequired => "action_required",
            Self::KeyringUnavailable => "keyring_unavailable",
            Self::SignInFailed => "sign_in_failed",
            Self::Config => "config",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::InvalidRequest => "invalid_request",
            Self::Forbidden => "forbidden",
            Self::Internal => "internal",
        }
    }
}

/// What crosses a boundary (IPC, `--json`): a code and a plain-language message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(rename = "AppErrorPayload")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// Why an event was refused. Every variant names the field and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("The title is empty.")]
    EmptyTitle,
    #[error("The {field} is too long ({len} characters; at most {max}).")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("The {field} contains a NUL character, which cannot be stored.")]
    NulByte { field: &'static str },
    #[error("Unknown time zone \"{0}\"; use an IANA name such as Europe/Berlin.")]
    UnknownTimeZone(String),
    #[error("The {field} \"{value}\" is not a valid {expected}.")]
    BadDateTime {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("The {field} \"{value}\" has a UTC offset that {zone} does not have at that time.")]
    OffsetNotInZone {
        field: &'static str,
        value: String,
        zone: String,
    },
    #[error("The event ends before it starts.")]
    EndBeforeStart,
    #[error("An all-day event must span at least one day (the end date is exclusive).")]
    ZeroLengthAllDay,
    #[error("The event is longer than {max_days} days.")]
    TooLongSpan { max_days: i64 },
    #[error("The repeat rule \"{rule}\" is not valid: {reason}")]
    BadRecurrence { rule: String, reason: String },
    #[error(
        "The repeat rule \"{rule}\" repeats too often ({count} times in a year; at most {max})."
    )]
    UnboundedRecurrence {
        rule: String,
        count: usize,
        max: usize,
    },
    #[error(
        "The repeat rule \"{rule}\" from {start} repeats too often for so long: listing its occurrences of the years ahead would take over {steps} steps from its start. Start the series later (at the first occurrence you need)."
    )]
    TooFarToList {
        rule: String,
        start: String,
        steps: usize,
    },
    #[error("Too many categories ({len}; at most {max}).")]
    TooManyCategories { len: usize, max: usize },
    #[error(
        "The removed date \"{value}\" is not an occurrence of the series, so it would remove nothing; give the start of an occurrence as `events list` shows it (occurrence=…){hint}."
    )]
    NotAnOccurrence { value: String, hint: String },
}

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError::new(ErrorCode::InvalidInput, e.to_string())
    }
}
