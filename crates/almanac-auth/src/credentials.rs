//! Access tokens on demand: from the keyring while fresh, otherwise refreshed — one
//! refresh per account at a time, however many requests ask at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use almanac_model::Provider;
use oauth2::RefreshToken;

use crate::config::{AuthConfig, ProviderConfig};
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
    /// token, [`AuthError::EndpointsChanged`] when the configuration would send the
    /// tokens elsewhere (the caller marks the account and stops; no retry), `Offline` /
    /// `Provider` for transient failures (retry later), `KeyringUnavailable`.
    pub async fn access_token(
        &self,
        account_id: &str,
        provider: Provider,
        now: impl Fn() -> i64,
    ) -> Result<Secret> {
        let lock = self.lock_for(account_id);
        let _one_at_a_time = lock.lock().await;
        self.bound(account_id, provider)?;
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
        let cfg = self.bound(account_id, provider)?;
        let refresh = self
            .vault
            .refresh_token(account_id)?
            .ok_or_else(|| AuthError::NoTokens(account_id.to_string()))?;
        let client = oauth::client(cfg, None)?;
        let old = RefreshToken::new(refresh.expose().to_string());
        let response = match client
            .exchange_refresh_token(&old)
            .request_async(&self.http)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let e = oauth::classify(provider, e);
                if matches!(e, AuthError::ActionRequired { .. }) {
                    // The grant is gone: its access token, still "fresh" by its expiry,
                    // must not pass for a working sign-in (a check at the next start
                    // would take the account back to connected, and notify again).
                    // A keyring failing here must not hide that the user is needed.
                    if let Err(k) = self.vault.forget_access(account_id) {
                        eprintln!("almanac: could not forget a dead access token: {k}");
                    }
                }
                return Err(e);
            }
        };
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

    /// The provider's configuration, if it still sends the account's tokens where they
    /// were issued. A configuration that names another token endpoint, API or cloud
    /// (a typo, another national cloud) would hand the tokens to whoever answers there:
    /// the account needs a new sign-in instead. An account signed in before Almanac
    /// kept the destinations is bound to the configuration it is first used with.
    pub fn bound(&self, account_id: &str, provider: Provider) -> Result<&ProviderConfig> {
        let cfg = self.config.provider(provider)?;
        let now = cfg.token_destinations();
        match self.vault.destinations(account_id)? {
            // (An account signed out has no tokens left to bind: nothing written.)
            None if self.vault.refresh_token(account_id)?.is_none() => {}
            None => self.vault.set_destinations(account_id, &now)?,
            Some(was) if was == now => {}
            Some(was) => {
                return Err(AuthError::EndpointsChanged {
                    provider,
                    reason: moved(&was, &now, &self.config.path),
                })
            }
        }
        Ok(cfg)
    }

    fn lock_for(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        account_lock(account_id)
    }
}

/// The account's lock against concurrent refreshes ([`LOCKS`]); a sign-out holds it
/// too, so that no refresh under way writes tokens back after the keyring is cleared.
pub(crate) fn account_lock(account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
    LOCKS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(account_id.to_string())
        .or_default()
        .clone()
}

/// Which destination changed between `was` and `now` (see
/// [`ProviderConfig::token_destinations`]), in words.
fn moved(was: &str, now: &str, config: &std::path::Path) -> String {
    let lines = |t: &str| -> Vec<(String, String)> {
        t.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let (was, now) = (lines(was), lines(now));
    let changed = now
        .iter()
        .find(|(k, v)| was.iter().any(|(wk, wv)| wk == k && wv != v))
        .and_then(|(k, v)| Some((k, v, &was.iter().find(|(wk, _)| wk == k)?.1)));
    let what = match changed {
        Some((k, new, old)) => {
            let name = match k.as_str() {
                "authority" => "sign-in authority",
                "token" => "token endpoint",
                "api" => "API address",
                _ => "revocation endpoint",
            };
            format!(
                "{} now names {new} as its {name}, not {old} where this account signed in",
                config.display()
            )
        }
        None => format!(
            "{} now names other endpoints than this account signed in at",
            config.display()
        ),
    };
    format!(
        "{what}. Almanac sends an account's tokens only where they were issued: put the \
         old setting back, or sign in again to use the new one."
    )
}
