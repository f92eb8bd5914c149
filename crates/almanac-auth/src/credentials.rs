//! Access tokens on demand: from the keyring while fresh, otherwise refreshed — one
//! refresh per account at a time, however many requests ask at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use almanac_model::Provider;
use oauth2::RefreshToken;

use crate::config::AuthConfig;
use crate::error::{AuthError, Result};
use crate::oauth;
use crate::secret::Secret;
use crate::vault::Vault;

/// Refresh this long before the provider's expiry, so a token does not lapse between
/// being handed out and being used.
pub const REFRESH_AHEAD_SECS: i64 = 5 * 60;

/// One refresh per account at a time in the whole process, whichever [`Credentials`]
/// asks: the app's start-up check and its sync loop hold different ones, and two
/// refreshes racing with the same rotating refresh token make the provider revoke the
/// grant (reuse detection).
static LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

#[derive(Debug)]
pub struct Credentials {
    config: AuthConfig,
    vault: Vault,
    http: reqwest::Client,
}

impl Credentials {
    pub fn new(config: AuthConfig, vault: Vault) -> Result<Self> {
        Ok(Self {
            config,
            vault,
            http: oauth::http()?,
        })
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// A usable access token for the account. `now` is Unix seconds.
    ///
    /// Errors: [`AuthError::ActionRequired`] when the provider refused the refresh
    /// token (the caller marks the account and stops; no retry), `Offline` /
    /// `Provider` for transient failures (retry later), `KeyringUnavailable`.
    pub async fn access_token(
        &self,
        account_id: &str,
        provider: Provider,
        now: impl Fn() -> i64,
    ) -> Result<Secret> {
        let lock = self.lock_for(account_id);
        let _one_at_a_time = lock.lock().await;
        // Whoever held the lock before may have refreshed already.
        if let Some((token, expires_at)) = self.vault.access_token(account_id)? {
            if expires_at - REFRESH_AHEAD_SECS > now() {
                return Ok(token);
            }
        }
        self.refresh_locked(account_id, provider, now).await
    }

    /// Refreshes now, whatever the stored expiry says (for a 401 from the API).
    pub async fn refresh(
        &self,
        account_id: &str,
        provider: Provider,
        now: impl Fn() -> i64,
    ) -> Result<Secret> {
        let lock = self.lock_for(account_id);
        let _one_at_a_time = lock.lock().await;
        self.refresh_locked(account_id, provider, now).await
    }

    async fn refresh_locked(
        &self,
        account_id: &str,
        provider: Provider,
        now: impl Fn() -> i64,
    ) -> Result<Secret> {
        let refresh = self
            .vault
            .refresh_token(account_id)?
            .ok_or_else(|| AuthError::NoTokens(account_id.to_string()))?;
        let client = oauth::client(self.config.provider(provider)?, None)?;
        let old = RefreshToken::new(refresh.expose().to_string());
        let response = client
            .exchange_refresh_token(&old)
            .request_async(&self.http)
            .await
            .map_err(|e| oauth::classify(provider, e))?;
        let tokens = oauth::token_set(&response, now());
        // A rotated refresh token replaces the old one before anything uses it; if
        // the keyring fails here the old one stays and still works at Microsoft.
        if let Some(rotated) = &tokens.refresh_token {
            self.vault.set_refresh(account_id, rotated)?;
        }
        self.vault
            .set_access(account_id, &tokens.access_token, tokens.expires_at)?;
        Ok(tokens.access_token)
    }

    fn lock_for(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        LOCKS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(account_id.to_string())
            .or_default()
            .clone()
    }
}
