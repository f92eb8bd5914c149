use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A cloud calendar provider Almanac can sign in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Microsoft,
    Google,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Microsoft, Provider::Google];

    /// The spelling used in the database, the config file, the CLI and callback paths.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Microsoft => "microsoft",
            Self::Google => "google",
        }
    }

    /// The name people know the service by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Microsoft => "Microsoft 365",
            Self::Google => "Google",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an account stands, as its badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Tokens work (or were last seen working).
    Connected,
    /// The provider refused the grant: the user has to sign in again. Never retried.
    ActionRequired,
    /// Something else went wrong; the message says what.
    Error,
    /// Sync paused by the user.
    Paused,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::ActionRequired => "action_required",
            Self::Error => "error",
            Self::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Connected,
            Self::ActionRequired,
            Self::Error,
            Self::Paused,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// A connected account as the UI and the CLI see it. Holds no secret: tokens live
/// only in the OS keyring, under the account id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub provider: Provider,
    pub email: String,
    pub display_name: String,
    pub status: AccountStatus,
    /// Plain-language reason for `action_required` / `error`.
    pub status_message: Option<String>,
    /// Unix seconds.
    #[ts(type = "number")]
    pub created_at: i64,
}

impl Account {
    /// The account as messages name it: its address and provider (one address can be
    /// both a Microsoft 365 and a Google account).
    pub fn label(&self) -> String {
        format!("{} ({})", self.email, self.provider.display_name())
    }
}

/// What happened to the provider-side grant when an account was disconnected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RevokeOutcome {
    /// The provider revoked Almanac's access.
    Revoked,
    /// The provider offers apps no revocation (Microsoft); the user can remove the
    /// app in their account settings.
    NotSupported,
    /// Revocation was attempted and failed (offline, refused); local data is gone anyway.
    Failed,
    /// There was no token left to revoke.
    NoToken,
}

/// The result of disconnecting an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Disconnected {
    pub account: Account,
    pub revoked: RevokeOutcome,
}
