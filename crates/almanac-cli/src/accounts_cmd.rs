//! `almanac accounts …`: sign in, list, remove, check.

use std::sync::Mutex;
use std::time::Duration;

use almanac_auth::{accounts, AuthConfig, AuthError, Credentials, SignIn, Vault};
use almanac_model::{Account, AccountStatus, AppError, ErrorCode, Provider, RevokeOutcome};
use almanac_store::Store;
use serde::Serialize;

use crate::args::{AccountAddArgs, AccountCheckArgs, ProviderArg};
use crate::error::CliResult;
use crate::{output, Ctx};

fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("Could not start: {e}")))
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Prints the address (so it can be opened by hand) and opens the browser.
fn open_browser(url: &str) -> almanac_auth::Result<()> {
    eprintln!("Opening your browser to sign in. If nothing opens, visit:\n  {url}");
    if let Err(e) = almanac_auth::browser::open(url) {
        eprintln!("({e})");
    }
    Ok(())
}

/// How long a finished sign-in waits for the data directory (a command started
/// meanwhile has it) before its account is given up.
const KEEP_WAIT: Duration = Duration::from_secs(30);

/// Signs in and records the account. `open` opens the store, waiting at most the
/// given time for the lock: once before the browser (no point signing in when the
/// data directory cannot be written: the app holds it), then again for the account,
/// so the wait for the browser holds nothing.
pub fn add(
    open: impl Fn(Duration) -> CliResult<Store>,
    ctx: &Ctx,
    a: &AccountAddArgs,
) -> CliResult<()> {
    drop(open(Duration::from_secs(3))?);
    let provider = match a.provider {
        ProviderArg::Microsoft => Provider::Microsoft,
        ProviderArg::Google => Provider::Google,
    };
    let config = AuthConfig::load()?;
    let cfg = config.provider(provider)?;
    let vault = Vault::default();
    // Before the browser: no point signing in if the tokens cannot be kept.
    vault.probe()?;
    let signed_in = runtime()?.block_on(
        SignIn {
            config: cfg,
            timeout: Duration::from_secs(a.timeout),
            deep_links: None,
            open: open_browser,
        }
        .run(unix_now),
    )?;
    let mut store = open(KEEP_WAIT).map_err(|e| {
        AppError::new(
            e.code,
            format!(
                "Signed in, but the account could not be recorded: {} Connect it where Almanac runs (the app: Settings › Accounts), or stop that and run this again.",
                e.message
            ),
        )
    })?;
    let account = accounts::keep(&mut store, &vault, &signed_in, ctx.now.timestamp())?;
    if ctx.json {
        output::json(&account)?;
    } else {
        output::line(&format!(
            "Connected {} ({}) as account {}",
            account.email,
            provider.display_name(),
            account.id
        ))?;
    }
    Ok(())
}

pub fn list(store: &Store, ctx: &Ctx) -> CliResult<()> {
    let list = store.list_accounts()?;
    if ctx.json {
        return output::json(&list);
    }
    if list.is_empty() {
        return output::line(
            "No accounts. Connect one with `almanac accounts add microsoft|google`.",
        );
    }
    for a in &list {
        output::line(&account_line(a))?;
    }
    Ok(())
}

fn account_line(a: &Account) -> String {
    let status = match a.status {
        AccountStatus::Connected => "Connected".to_string(),
        AccountStatus::ActionRequired => format!(
            "Action required: {}",
            a.status_message.as_deref().unwrap_or("sign in again")
        ),
        AccountStatus::Error => format!("Error: {}", a.status_message.as_deref().unwrap_or("")),
        AccountStatus::Paused => "Paused".to_string(),
    };
    format!(
        "{}  {:<13} {}  [{}]",
        a.id,
        a.provider.display_name(),
        a.email,
        status
    )
}

pub fn remove(store: Store, ctx: &Ctx, id: &str, discard_unpushed: bool) -> CliResult<()> {
    // A broken config file must not keep anyone from removing an account; it only
    // means the revocation cannot be sent (reported as failed).
    let config = AuthConfig::load().unwrap_or_default();
    let vault = Vault::default();
    let store = Mutex::new(store);
    let done = runtime()?.block_on(accounts::disconnect(
        &store,
        &config,
        &vault,
        id,
        if discard_unpushed { i64::MAX } else { 0 },
    ))?;
    if ctx.json {
        return output::json(&done);
    }
    output::line(&format!(
        "Removed {} ({}) and its local copy; events at {} were not touched.",
        done.account.email,
        done.account.provider.display_name(),
        done.account.provider.display_name()
    ))?;
    match done.revoked {
        RevokeOutcome::Revoked => output::line("Almanac's access was revoked."),
        RevokeOutcome::NotSupported => output::line(
            "Microsoft does not let apps revoke their own access; remove Almanac under \
             https://myaccount.microsoft.com → Privacy → Apps if you want it gone now.",
        ),
        RevokeOutcome::Failed => output::line(&format!(
            "{} could not be asked to revoke Almanac's access; remove it under {} if you \
             want it gone now.",
            done.account.provider.display_name(),
            match done.account.provider {
                Provider::Google => "https://myaccount.google.com/permissions",
                Provider::Microsoft => "https://myaccount.microsoft.com (Privacy → Apps)",
            }
        )),
        RevokeOutcome::NoToken => Ok(()),
    }
}

#[derive(Serialize)]
struct Checked {
    account: Account,
    ok: bool,
    error: Option<AppError>,
}

/// Asks each account's provider for a fresh access token and records what a failure
/// means for the account.
pub fn check(store: &mut Store, ctx: &Ctx, a: &AccountCheckArgs) -> CliResult<bool> {
    let targets = match &a.id {
        Some(id) => vec![store.account(id)?],
        None => store.list_accounts()?,
    };
    let creds = Credentials::new(AuthConfig::load()?, Vault::default())?;
    let rt = runtime()?;
    let mut results = Vec::new();
    let mut all_ok = true;
    for account in targets {
        // A fresh token, not the cached one: only the provider can say whether the
        // grant still holds (a revoked one keeps its access tokens working for a while).
        let got = rt.block_on(creds.refresh(&account.id, account.provider, unix_now));
        let error = match got {
            Ok(_) => {
                if account.status != AccountStatus::Connected {
                    store.set_account_status(&account.id, AccountStatus::Connected, None, None)?;
                }
                None
            }
            Err(e) => {
                all_ok = false;
                if !matches!(e, AuthError::KeyringUnavailable(_) | AuthError::Config(_)) {
                    accounts::record_failure(store, &account.id, &e)?;
                }
                Some(AppError::from(e))
            }
        };
        let account = store.account(&account.id)?;
        if !ctx.json {
            let line = match &error {
                None => format!("{}  ok", account_line(&account)),
                Some(e) => format!("{}  — {}", account_line(&account), e.message),
            };
            output::line(&line)?;
        }
        results.push(Checked {
            ok: error.is_none(),
            account,
            error,
        });
    }
    if ctx.json {
        output::json(&results)?;
    }
    Ok(all_ok)
}
