//! What the hosts do with accounts: keep a finished sign-in, disconnect, and record
//! what a token failure means for the account's badge.

use almanac_model::{Account, AccountStatus};
use almanac_store::{StatusChange, Store};
use oauth2::StandardRevocableToken;

use crate::config::AuthConfig;
use crate::error::{AuthError, Result};
use crate::oauth;
use crate::sign_in::SignedIn;
use crate::vault::Vault;

/// Records the account and puts its tokens in the keyring. If the keyring refuses,
/// a new account is taken out again, so no account exists without its tokens.
pub fn keep(store: &mut Store, vault: &Vault, s: &SignedIn, now: i64) -> Result<Account> {
    let (account, created) = store.record_sign_in(
        &almanac_store::SignedIn {
            provider: s.provider,
            subject: s.identity.subject.clone(),
            email: s.identity.email.clone(),
            display_name: s.identity.display_name.clone(),
            authority: s.authority.clone(),
        },
        now,
    )?;
    if let Err(e) = vault.save(&account.id, &s.tokens) {
        if created {
            store.remove_account(&account.id)?;
        } else {
            store.set_account_status(
                &account.id,
                AccountStatus::Error,
                Some(e.code().as_str()),
                Some(&e.to_string()),
            )?;
        }
        return Err(e);
    }
    Ok(account)
}

/// How a disconnect went.
#[derive(Debug)]
pub struct Disconnected {
    pub account: Account,
    /// Whether the provider revoked the grant. Microsoft offers public clients no
    /// revocation; a Google revocation that failed (offline) is reported, not fatal.
    pub revoked: Revocation,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    NotSupported,
    Failed(String),
    NoToken,
}

/// Revokes the grant where the provider supports it, deletes the keyring entries and
/// the account's local mirror. Never touches remote events.
pub async fn disconnect(
    store: &std::sync::Mutex<Store>,
    config: &AuthConfig,
    vault: &Vault,
    account_id: &str,
) -> Result<Disconnected> {
    let account = lock(store).account(account_id)?;
    let revoked = match vault.refresh_token(account_id)? {
        None => Revocation::NoToken,
        Some(token) => match config.provider(account.provider) {
            Ok(cfg) if cfg.revoke_url.is_some() => {
                let client = oauth::client(cfg, None)?;
                match client.revoke_token(StandardRevocableToken::RefreshToken(
                    oauth2::RefreshToken::new(token.expose().to_string()),
                )) {
                    Ok(req) => match req.request_async(&oauth::http()?).await {
                        Ok(()) => Revocation::Revoked,
                        Err(_) => Revocation::Failed(
                            "the provider could not be reached or refused; remove Almanac's \
                             access in your account's security settings if you want it gone now."
                                .into(),
                        ),
                    },
                    Err(_) => Revocation::NotSupported,
                }
            }
            _ => Revocation::NotSupported,
        },
    };
    vault.delete(account_id)?;
    let account = lock(store).remove_account(account_id)?;
    Ok(Disconnected { account, revoked })
}

/// Records what a token failure means for the account: a lost grant puts it in
/// "Action required" (the caller notifies once when told to); a transient failure
/// leaves the status alone. Never deletes anything.
pub fn record_failure(store: &mut Store, account_id: &str, e: &AuthError) -> Result<StatusChange> {
    let status = match e {
        AuthError::ActionRequired { .. } | AuthError::NoTokens(_) => AccountStatus::ActionRequired,
        AuthError::Offline { .. } => {
            return Ok(StatusChange {
                notify_action_required: false,
            })
        }
        _ => AccountStatus::Error,
    };
    Ok(store.set_account_status(
        account_id,
        status,
        Some(e.code().as_str()),
        Some(&e.to_string()),
    )?)
}

fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}
