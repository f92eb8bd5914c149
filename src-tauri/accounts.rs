//! Account commands and the account check at start: thin adapters over
//! `almanac-auth`. Sign-in runs without holding the store; only the short writes at
//! its end take the lock.

use std::time::Duration;

use almanac_auth::{accounts, AuthConfig, Credentials, SignIn};
use almanac_model::{Account, AccountStatus, AppError, Disconnected, ErrorCode, Provider};
use tauri::{AppHandle, Emitter, Manager, State};

use crate::{notify, AppState};

type CmdResult<T> = Result<T, AppError>;

/// Emitted (no payload) whenever an account is added, removed or changes status.
pub const ACCOUNTS_CHANGED: &str = "accounts-changed";
/// Emitted with the address a sign-in opened in the browser, so that the window can
/// offer it when no browser appears.
pub const SIGN_IN_URL: &str = "sign-in-url";

/// The app, for `open_and_offer` (a plain function, as `SignIn::open` takes).
static APP: std::sync::OnceLock<AppHandle> = std::sync::OnceLock::new();

/// Opens the sign-in page in the browser and hands its address to the window. A
/// browser that cannot be opened does not end the sign-in (as in the CLI, which prints
/// the address): the window shows the address to open by hand, and Cancel.
fn open_and_offer(url: &str) -> almanac_auth::Result<()> {
    let opened = almanac_auth::browser::open(url);
    if let Some(app) = APP.get() {
        let _ = app.emit(SIGN_IN_URL, url.to_owned());
    }
    if let Err(e) = opened {
        eprintln!("almanac: {e}; the window offers the sign-in address instead");
    }
    Ok(())
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn config(state: &AppState) -> CmdResult<&AuthConfig> {
    state.config.as_ref().map_err(Clone::clone)
}

fn store_error() -> AppError {
    AppError::new(
        ErrorCode::Internal,
        "The store is unavailable after an earlier failure; restart Almanac.",
    )
}

#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> CmdResult<Vec<Account>> {
    let store = state.store.lock().map_err(|_| store_error())?;
    Ok(store.list_accounts()?)
}

#[tauri::command]
pub async fn configured_providers(state: State<'_, AppState>) -> CmdResult<Vec<Provider>> {
    Ok(config(&state)?.configured())
}

#[tauri::command]
pub async fn connect_account(
    app: AppHandle,
    state: State<'_, AppState>,
    provider: Provider,
) -> CmdResult<Account> {
    let _ = APP.set(app.clone());
    // The user who closed the browser's tab cancels rather than wait out the timeout.
    // Listened for first: the window offers Cancel as soon as it has asked.
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    if let Ok(mut slot) = state.sign_in_cancel.lock() {
        *slot = Some(cancel);
    }
    let signed_in = signed_in_unless_cancelled(&state, provider, cancelled).await;
    if let Ok(mut slot) = state.sign_in_cancel.lock() {
        slot.take();
    }
    let signed_in = signed_in?;
    let account = {
        let mut store = state.store.lock().map_err(|_| store_error())?;
        accounts::keep(&mut store, &state.vault, &signed_in, unix_now())?
    };
    let _ = app.emit(ACCOUNTS_CHANGED, ());
    crate::sync::send(
        &app,
        almanac_sync::Command::SyncNow(Some(account.id.clone())),
    );
    crate::show_main_window(&app);
    Ok(account)
}

async fn signed_in_unless_cancelled(
    state: &AppState,
    provider: Provider,
    cancelled: tokio::sync::oneshot::Receiver<()>,
) -> CmdResult<almanac_auth::SignedIn> {
    let cfg = config(state)?.provider(provider)?;
    // Before the browser: no point signing in if the tokens cannot be kept.
    state.vault.probe()?;
    Ok(SignIn {
        config: cfg,
        timeout: almanac_auth::DEFAULT_TIMEOUT,
        deep_links: Some(&state.deep_links),
        open: open_and_offer,
    }
    .run_until(unix_now, async {
        let _ = cancelled.await;
    })
    .await?)
}

/// Ends the sign-in waiting for the browser, if there is one: its `connect_account`
/// fails at once with "Sign-in cancelled.". Answers whether one was waiting.
#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> CmdResult<bool> {
    let waiting = state.sign_in_cancel.lock().ok().and_then(|mut s| s.take());
    Ok(waiting.is_some_and(|c| c.send(()).is_ok()))
}

#[tauri::command]
pub async fn disconnect_account(
    app: AppHandle,
    state: State<'_, AppState>,
    account_id: String,
    // How many changes not yet sent the user was told of and chose to discard.
    discard_unpushed: Option<i64>,
) -> CmdResult<Disconnected> {
    let empty = AuthConfig::default();
    // A broken config file must not keep the user from disconnecting.
    let cfg = state.config.as_ref().unwrap_or(&empty);
    let done = accounts::disconnect(
        &state.store,
        cfg,
        &state.vault,
        &account_id,
        discard_unpushed.unwrap_or(0),
    )
    .await?;
    let _ = app.emit(ACCOUNTS_CHANGED, ());
    crate::sync::changed(&app);
    Ok(done)
}

/// At start (after a short delay, off the first paint's path): make sure every
/// account can still get access. A lost grant turns the badge to "Action required"
/// with one OS notification; a transient failure changes nothing.
pub fn check_at_start(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let state = app.state::<AppState>();
        let Ok(config) = state.config.clone() else {
            return;
        };
        let Ok(creds) = Credentials::new(config, state.vault.clone()) else {
            return;
        };
        let list = match state.store.lock() {
            Ok(s) => s.list_accounts().unwrap_or_default(),
            Err(_) => return,
        };
        let mut changed = false;
        for account in list {
            if account.status == AccountStatus::Paused {
                continue;
            }
            let checked =
                accounts::check_access(&state.store, &state.vault, &creds, &account, unix_now)
                    .await;
            let Ok(checked) = checked else {
                continue;
            };
            changed |= checked.changed;
            if let Some(e) = checked.failure {
                eprintln!("almanac: start-up check of account {}: {e}", account.id);
                if checked.notify_action_required {
                    notify::action_required(&account, &e.to_string());
                }
            }
        }
        if changed {
            let _ = app.emit(ACCOUNTS_CHANGED, ());
            crate::sync::changed(&app);
        }
    });
}
