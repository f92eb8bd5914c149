//! What the hosts do with accounts: keep a finished sign-in, disconnect, check access
//! at start, and record what a token failure means for the account's badge.

use almanac_model::{Account, AccountStatus, Disconnected, RevokeOutcome};
use almanac_store::{StatusChange, Store};

use crate::config::{AuthConfig, ProviderConfig};
use crate::credentials::Credentials;
use crate::error::{AuthError, Result};
use crate::oauth;
use crate::secret::Secret;
use crate::sign_in::SignedIn;
use crate::vault::Vault;

/// Records the account and puts its tokens in the keyring, with the endpoints that
/// issued them. If the keyring refuses, a new account is taken out again; a known one
/// signed in at other endpoints keeps no tokens at all (a half-written set could pair
/// one cloud's tokens with another's endpoints) and needs a new sign-in.
pub fn keep(store: &mut Store, vault: &Vault, s: &SignedIn, now: i64) -> Result<Account> {
    let before = store.authority_of(s.provider, &s.identity.subject)?;
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
    // Signed in again at other endpoints (another cloud, a corrected address): the
    // calendars' saved links point at the old ones, so they are listed afresh. (An
    // account kept before the endpoints were is compared by its authority.)
    let moved = match vault.destinations(&account.id).ok().flatten() {
        Some(was) => was != s.destinations,
        None => !created && before.as_deref() != Some(s.authority.as_str()),
    };
    if moved {
        store.forget_sync_cursors(&account.id)?;
    }
    let saved = vault
        .save(&account.id, &s.tokens)
        .and_then(|()| vault.set_destinations(&account.id, &s.destinations));
    if let Err(e) = saved {
        if created {
            let _ = vault.delete(&account.id);
            store.remove_account(&account.id)?;
        } else if moved {
            // Whatever was written may pair new tokens with the old endpoints.
            let _ = vault.delete(&account.id);
            store.set_account_status(
                &account.id,
                AccountStatus::ActionRequired,
                Some(e.code().as_str()),
                Some(&e.to_string()),
            )?;
        } else {
            // Same endpoints: old or new, the tokens there still belong to them.
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

/// Revokes the grant where the provider supports it (Microsoft offers public clients
/// no revocation; a failed Google revocation is reported, not fatal), deletes the keyring entries and
/// the account's local mirror. Never touches remote events. Changes made here and not
/// yet sent are never dropped silently: with more pending than `discard_up_to` — the
/// number the user was told of and chose to discard (0: none; the CLI's
/// `--discard-unpushed` says all) — nothing happens, and the error says how many.
pub async fn disconnect(
    store: &std::sync::Mutex<Store>,
    config: &AuthConfig,
    vault: &Vault,
    account_id: &str,
    discard_up_to: i64,
) -> Result<Disconnected> {
    let account = lock(store).account(account_id)?;
    // No refresh of this account meanwhile: one under way when the keyring is cleared
    // would write its tokens back, a working grant left behind for good.
    let refreshes = crate::credentials::account_lock(account_id);
    let _no_refresh = refreshes.lock().await;
    // The revocation goes where the token was issued, even if the configuration
    // names another place now.
    let issued_at = vault.destinations(account_id)?.map(|d| {
        d.lines()
            .find_map(|l| l.strip_prefix("revoke "))
            .and_then(|u| url::Url::parse(u).ok())
    });
    let token = vault.refresh_token(account_id)?;
    // Counted and removed in one step: a change made here while a revocation was out
    // went with the account unseen. The keyring first: if it fails, nothing is gone.
    let account = {
        let mut store = lock(store);
        let pending = store.pending_pushes(account_id)?;
        // A change made since the user was asked is not among those agreed to.
        if pending > discard_up_to.max(0) {
            return Err(AuthError::Unpushed {
                email: account.email,
                count: pending,
            });
        }
        vault.delete(account_id)?;
        store.remove_account(account_id)?
    };
    let revoked = match token {
        None => RevokeOutcome::NoToken,
        Some(token) => match config.provider(account.provider) {
            Ok(cfg) => match issued_at.unwrap_or_else(|| cfg.revoke_url.clone()) {
                Some(url) => revoke(cfg, &url, &token).await,
                None => RevokeOutcome::NotSupported,
            },
            // Not configured any more: nowhere to send a revocation.
            Err(_) => RevokeOutcome::Failed,
        },
    };
    Ok(Disconnected { account, revoked })
}

/// Records what a token failure means for the account: a lost grant puts it in
/// "Action required" (the caller notifies once when told to); a transient failure
/// (offline, or the provider failing: a 5xx, `temporarily_unavailable`, a captive
/// portal's page) leaves the status alone. Never deletes anything.
pub fn record_failure(store: &mut Store, account_id: &str, e: &AuthError) -> Result<StatusChange> {
    let status = match e {
        AuthError::ActionRequired { .. }
        | AuthError::EndpointsChanged { .. }
        | AuthError::NoTokens(_) => AccountStatus::ActionRequired,
        AuthError::Offline { .. } | AuthError::Provider { .. } => {
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

/// What [`check_access`] found and did.
#[derive(Debug, Default)]
pub struct AccessChecked {
    /// The account's status was written (the caller tells the UI).
    pub changed: bool,
    /// The failure recorded, for the caller's log.
    pub failure: Option<AuthError>,
    /// The account just entered "Action required": the caller notifies once.
    pub notify_action_required: bool,
}

/// The app's check at start: can `account` still get access? A lost grant puts it in
/// "Action required", a grant that works again clears a stale status, and a transient
/// failure changes nothing. A failure about a grant that a sign-in replaced meanwhile
/// (the user clicked Reconnect while the check waited on the old grant) is dropped:
/// it must not mark the new grant.
pub async fn check_access(
    store: &std::sync::Mutex<Store>,
    vault: &Vault,
    creds: &Credentials,
    account: &Account,
    now: impl Fn() -> i64,
) -> Result<AccessChecked> {
    let before = vault.refresh_token(&account.id).ok().flatten();
    // Back from "Action required" (or an error) only by a refresh that works: a kept
    // access token proves nothing of the grant.
    let outcome = if account.status == AccountStatus::Connected {
        creds.access_token(&account.id, account.provider, now).await
    } else {
        creds.refresh(&account.id, account.provider, now).await
    };
    let mut store = lock(store);
    match outcome {
        Ok(_) if account.status == AccountStatus::Connected => Ok(AccessChecked::default()),
        Ok(_) => {
            store.set_account_status(&account.id, AccountStatus::Connected, None, None)?;
            Ok(AccessChecked {
                changed: true,
                ..AccessChecked::default()
            })
        }
        Err(AuthError::KeyringUnavailable(_) | AuthError::Config(_)) => {
            Ok(AccessChecked::default())
        }
        // Asked under the store's lock, which a sign-in holds from its status write to
        // its token save ([`keep`]): asked before taking it, a sign-in could finish in
        // between and its "connected" be overwritten (seen in CI as a Reconnect that did
        // not stick).
        Err(_) if vault.refresh_token(&account.id).ok().flatten() != before => {
            Ok(AccessChecked::default())
        }
        Err(e) => {
            let change = record_failure(&mut store, &account.id, &e)?;
            Ok(AccessChecked {
                changed: true,
                notify_action_required: change.notify_action_required,
                failure: Some(e),
            })
        }
    }
}

fn lock(store: &std::sync::Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// RFC 7009 revocation of the refresh token (which at Google ends the whole grant).
/// Sent directly rather than through oauth2, whose revocation refuses the http
/// loopback endpoints the configuration allows for local test servers.
async fn revoke(cfg: &ProviderConfig, url: &url::Url, token: &Secret) -> RevokeOutcome {
    let Ok(http) = oauth::http() else {
        return RevokeOutcome::Failed;
    };
    let mut form = vec![
        ("token", token.expose()),
        ("token_type_hint", "refresh_token"),
        ("client_id", cfg.client_id.as_str()),
    ];
    if let Some(secret) = &cfg.client_secret {
        form.push(("client_secret", secret.as_str()));
    }
    match http.post(url.clone()).form(&form).send().await {
        Ok(r) if r.status().is_success() => RevokeOutcome::Revoked,
        // Google answers 400 invalid_token for a token that is already dead.
        Ok(r) if r.status() == reqwest::StatusCode::BAD_REQUEST => RevokeOutcome::Revoked,
        _ => RevokeOutcome::Failed,
    }
}
