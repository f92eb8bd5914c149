//! The provider client for an account: Graph or Google Calendar, with the account's
//! tokens from the keyring. Shared by the CLI and the desktop app.

use std::sync::Arc;

use almanac_auth::{AuthConfig, Credentials};
use almanac_google::GoogleCalendar;
use almanac_graph::GraphCalendar;
use almanac_model::{Account, Provider};
use almanac_provider::{AccountTokens, ApiClient, Backoff, CalendarProvider, Dialect};

use crate::error::SyncError;
use crate::run::SyncOptions;

/// The client for `account` and the options its provider needs.
pub fn provider_for(
    account: &Account,
    config: &AuthConfig,
    credentials: Arc<Credentials>,
) -> Result<(Box<dyn CalendarProvider>, SyncOptions), SyncError> {
    let cfg = config
        .provider(account.provider)
        .map_err(|e| SyncError::Config(e.to_string()))?;
    let tokens = Arc::new(AccountTokens {
        credentials,
        account_id: account.id.clone(),
        provider: account.provider,
    });
    let dialect = match account.provider {
        Provider::Microsoft => Dialect::Graph,
        Provider::Google => Dialect::Google,
    };
    let api = ApiClient::new(dialect, tokens, Backoff::default())?;
    let base = cfg.api_url.clone();
    Ok(match account.provider {
        Provider::Microsoft => (
            Box::new(GraphCalendar::new(api, base, &account.email, &own_zone())),
            SyncOptions {
                windowed: true,
                ..SyncOptions::default()
            },
        ),
        Provider::Google => (
            Box::new(GoogleCalendar::new(api, base, account.email.clone())),
            SyncOptions::default(),
        ),
    })
}

/// The zone an Outlook event is read in when none it names has a name (a legacy
/// custom zone from desktop Outlook, and its series' and end's too): this computer's,
/// where the user most likely made it, else UTC.
fn own_zone() -> String {
    iana_time_zone::get_timezone()
        .ok()
        .filter(|z| almanac_model::time::parse_zone(z).is_ok())
        .unwrap_or_else(|| "UTC".to_owned())
}
