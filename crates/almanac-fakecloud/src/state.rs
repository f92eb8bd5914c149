//! The fake's whole state (users, clients, codes, grants, tokens, configuration, faults,
//! statistics) behind one mutex, and the operations the control API exposes.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::util;

/// The Microsoft tenant every fake Microsoft user belongs to (`tid`, and the issuer path).
pub const MICROSOFT_TENANT_ID: &str = "3f7a1c52-9b1e-4c2d-8e6f-5a4b3c2d1e0f";
/// The Microsoft public client registered by default (no secret).
pub const DEFAULT_MICROSOFT_CLIENT_ID: &str = "almanac-test-ms";
/// The Google "Desktop app" client registered by default.
pub const DEFAULT_GOOGLE_CLIENT_ID: &str = "almanac-test-google.apps.googleusercontent.com";
/// The secret of [`DEFAULT_GOOGLE_CLIENT_ID`].
pub const DEFAULT_GOOGLE_CLIENT_SECRET: &str = "almanac-test-google-secret";
/// Registered loopback callback path of Microsoft clients unless told otherwise.
pub const DEFAULT_MICROSOFT_REDIRECT_PATH: &str = "/callback/microsoft";
/// Registered loopback callback path of Google clients unless told otherwise.
pub const DEFAULT_GOOGLE_REDIRECT_PATH: &str = "/callback/google";

const MAX_TOKEN_DELAY_MS: u64 = 60_000;
const MAX_LIFETIME_SECS: u64 = 10 * 365 * 86_400;
const MAX_FAULT_COUNT: u32 = 10_000;

/// An identity provider the fake imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Microsoft,
    Google,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Microsoft => "microsoft",
            Provider::Google => "google",
        }
    }
}

/// What a `refresh_token` grant does with the refresh token it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationMode {
    /// Return a new refresh token; the old one stays valid (Microsoft's behaviour).
    KeepOld,
    /// Return a new refresh token and invalidate the old one; reusing the old one
    /// revokes the whole chain (RFC 9700 §4.14.2).
    InvalidateOld,
    /// Return no refresh token; the old one stays valid.
    None,
}

/// A seeded user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub provider: Provider,
    /// Microsoft: the object id (`oid`, Graph `id`); Google: the numeric `sub`.
    pub id: String,
    pub email: String,
    pub name: String,
}

/// `POST /_control/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub provider: Provider,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Make this user the one the authorize endpoint signs in (without `login_hint`).
    #[serde(default)]
    pub current: bool,
}

/// `POST /_control/clients`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub provider: Provider,
    pub client_id: String,
    /// Google clients normally have one; a Microsoft client with a secret is confidential.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The registered loopback path (default `/callback/microsoft` or `/callback/google`).
    #[serde(default)]
    pub redirect_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub microsoft: RotationMode,
    pub google: RotationMode,
}

impl Rotation {
    pub fn for_provider(&self, provider: Provider) -> RotationMode {
        match provider {
            Provider::Microsoft => self.microsoft,
            Provider::Google => self.google,
        }
    }
}

/// The fake's tunables (`GET`/`POST /_control/config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Prepended to every access and refresh token issued (a canary for leak sweeps).
    pub token_prefix: String,
    pub access_token_lifetime_secs: u64,
    pub rotation: Rotation,
    /// Delay before the token endpoint answers (to make concurrent refreshes overlap).
    pub token_delay_ms: u64,
    /// How long an authorization code can be redeemed.
    pub code_lifetime_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            token_prefix: String::new(),
            access_token_lifetime_secs: 3599,
            rotation: Rotation {
                microsoft: RotationMode::KeepOld,
                google: RotationMode::InvalidateOld,
            },
            token_delay_ms: 0,
            code_lifetime_secs: 600,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationUpdate {
    #[serde(default)]
    pub microsoft: Option<RotationMode>,
    #[serde(default)]
    pub google: Option<RotationMode>,
}

/// A partial [`Config`] update; absent fields are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigUpdate {
    #[serde(default)]
    pub token_prefix: Option<String>,
    #[serde(default)]
    pub access_token_lifetime_secs: Option<u64>,
    #[serde(default)]
    pub rotation: Option<RotationUpdate>,
    #[serde(default)]
    pub token_delay_ms: Option<u64>,
    #[serde(default)]
    pub code_lifetime_secs: Option<u64>,
}

fn one() -> u32 {
    1
}

fn access_denied() -> String {
    "access_denied".to_string()
}

/// The next `count` token-endpoint calls for `provider` fail with `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenErrorFault {
    pub provider: Provider,
    /// `invalid_grant`, `interaction_required`, `consent_required`, `invalid_client`,
    /// `temporarily_unavailable`, `server_error`, or any other OAuth error code.
    pub error: String,
    /// Microsoft AADSTS code (default chosen by `error`, e.g. 700082 for `invalid_grant`).
    #[serde(default)]
    pub code: Option<u32>,
    /// Overrides the error description.
    #[serde(default)]
    pub description: Option<String>,
    /// Overrides the HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default = "one")]
    pub count: u32,
    /// Only calls with this `grant_type` are affected (default: all).
    #[serde(default)]
    pub grant_type: Option<String>,
}

/// The next `count` authorize requests for `provider` redirect with `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeErrorFault {
    pub provider: Provider,
    #[serde(default = "access_denied")]
    pub error: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
}

/// The next `count` token-endpoint calls for `provider` are processed, then the
/// connection is closed without an answer (a lost response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropConnectionFault {
    pub provider: Provider,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub grant_type: Option<String>,
}

/// `POST /_control/faults`: each present fault replaces that kind's pending fault for its
/// provider (a `count` of 0 clears it); `clear: true` first removes every pending fault.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsUpdate {
    #[serde(default)]
    pub clear: bool,
    #[serde(default)]
    pub token_error: Option<TokenErrorFault>,
    #[serde(default)]
    pub authorize_error: Option<AuthorizeErrorFault>,
    #[serde(default)]
    pub drop_connection: Option<DropConnectionFault>,
}

/// The pending faults (`GET /_control/faults`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    pub token_error: Vec<TokenErrorFault>,
    pub authorize_error: Vec<AuthorizeErrorFault>,
    pub drop_connection: Vec<DropConnectionFault>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub authorization_code: u64,
    pub refresh_token: u64,
    /// Missing or unsupported `grant_type`, or a body that could not be read.
    pub other: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointCounts {
    pub authorize: u64,
    pub token: TokenCounts,
    pub revoke: u64,
    /// Graph `GET /v1.0/me`.
    pub me: u64,
}

/// Request counts (`GET /_control/stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Both providers together.
    #[serde(flatten)]
    pub total: EndpointCounts,
    /// Largest number of `refresh_token` requests in flight at once for one refresh-token
    /// chain (one code exchange and every token rotated from it).
    pub max_concurrent_refresh: u64,
    /// `refresh_token` requests per presented refresh token.
    pub refresh_by_token: BTreeMap<String, u64>,
    pub microsoft: EndpointCounts,
    pub google: EndpointCounts,
}

/// A control-API request that could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError(pub String);

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ControlError {}

fn control_err<T>(message: impl Into<String>) -> Result<T, ControlError> {
    Err(ControlError(message.into()))
}

// ---------------------------------------------------------------------------------------
// Internal records.

#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    pub(crate) redirect_path: String,
}

#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: String,
    pub(crate) nonce: Option<String>,
    pub(crate) email: String,
    pub(crate) offline: bool,
    pub(crate) issued_at: Instant,
    /// Set on the first redemption attempt: the code is single use.
    pub(crate) used: bool,
    /// The grant the (first, successful) redemption created.
    pub(crate) grant: Option<u64>,
}

/// One consent: a successful code exchange and every token derived from it.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) provider: Provider,
    pub(crate) client_id: String,
    pub(crate) email: String,
    pub(crate) scope: String,
    pub(crate) revoked: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub(crate) grant: u64,
    pub(crate) expires_at: Instant,
    pub(crate) force_expired: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshToken {
    pub(crate) grant: u64,
    /// Invalidated by rotation (`invalidate_old`).
    pub(crate) rotated: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) microsoft: EndpointCounts,
    pub(crate) google: EndpointCounts,
    pub(crate) max_concurrent_refresh: u64,
    pub(crate) refresh_by_token: BTreeMap<String, u64>,
    pub(crate) refresh_in_flight: HashMap<String, u64>,
}

impl Counters {
    pub(crate) fn of(&mut self, provider: Provider) -> &mut EndpointCounts {
        match provider {
            Provider::Microsoft => &mut self.microsoft,
            Provider::Google => &mut self.google,
        }
    }
}

/// One JSON request body a calendar API received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedBody {
    pub provider: Provider,
    /// `"METHOD /route/template"` (Graph) or the method name (`events.insert`).
    pub route: String,
    pub body: serde_json::Value,
}

/// Request bodies kept for [`SharedState::received_bodies`].
pub const MAX_RECEIVED: usize = 1000;

#[derive(Debug)]
pub(crate) struct State {
    /// JSON bodies the calendar APIs received, oldest first (bounded), so tests can
    /// validate what a client really sent.
    pub(crate) received: Vec<ReceivedBody>,
    pub(crate) base_url: String,
    pub(crate) config: Config,
    pub(crate) users: Vec<User>,
    pub(crate) current: HashMap<Provider, String>,
    pub(crate) clients: HashMap<String, Client>,
    pub(crate) codes: HashMap<String, AuthCode>,
    pub(crate) grants: HashMap<u64, Grant>,
    pub(crate) next_grant: u64,
    pub(crate) access_tokens: HashMap<String, AccessToken>,
    pub(crate) refresh_tokens: HashMap<String, RefreshToken>,
    pub(crate) faults: Faults,
    pub(crate) counters: Counters,
    /// Google Calendar v3 data, faults and statistics (see `google_store`).
    pub(crate) google_calendar: crate::google_store::GoogleStore,
    /// Microsoft Graph mailboxes (calendars, events, delta), faults and statistics (see
    /// `graph_store`).
    pub(crate) graph: crate::graph_store::GraphStore,
}

/// Deterministic ids, so a reset or a restart gives a user the same ids again.
fn user_id(provider: Provider, email: &str) -> String {
    let digest = util::sha256(format!("{}:{email}", provider.as_str()).as_bytes());
    match provider {
        Provider::Microsoft => {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            util::guid_from(&bytes)
        }
        Provider::Google => {
            // 21 decimal digits, like Google's `sub`.
            let mut id = String::from("1");
            for b in &digest[..20] {
                id.push(char::from(b'0' + b % 10));
            }
            id
        }
    }
}

impl State {
    fn new(base_url: String) -> State {
        let mut state = State {
            received: Vec::new(),
            base_url,
            config: Config::default(),
            users: Vec::new(),
            current: HashMap::new(),
            clients: HashMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults: Faults::default(),
            counters: Counters::default(),
            google_calendar: crate::google_store::GoogleStore::default(),
            graph: crate::graph_store::GraphStore::default(),
        };
        let seeds = [
            (
                Provider::Microsoft,
                "adele@contoso.example",
                "Adele Vance",
                true,
            ),
            (
                Provider::Microsoft,
                "megan@contoso.example",
                "Megan Bowen",
                false,
            ),
            (Provider::Google, "alex.kim@gmail.example", "Alex Kim", true),
            (Provider::Google, "sam.lee@gmail.example", "Sam Lee", false),
        ];
        for (provider, email, name, current) in seeds {
            state.upsert_user(provider, email, name, current);
        }
        state.clients.insert(
            DEFAULT_MICROSOFT_CLIENT_ID.to_string(),
            Client {
                provider: Provider::Microsoft,
                client_id: DEFAULT_MICROSOFT_CLIENT_ID.to_string(),
                client_secret: None,
                redirect_path: DEFAULT_MICROSOFT_REDIRECT_PATH.to_string(),
            },
        );
        state.clients.insert(
            DEFAULT_GOOGLE_CLIENT_ID.to_string(),
            Client {
                provider: Provider::Google,
                client_id: DEFAULT_GOOGLE_CLIENT_ID.to_string(),
                client_secret: Some(DEFAULT_GOOGLE_CLIENT_SECRET.to_string()),
                redirect_path: DEFAULT_GOOGLE_REDIRECT_PATH.to_string(),
            },
        );
        state
    }

    fn upsert_user(&mut self, provider: Provider, email: &str, name: &str, current: bool) -> User {
        let user = User {
            provider,
            id: user_id(provider, &email.to_ascii_lowercase()),
            email: email.to_string(),
            name: name.to_string(),
        };
        match self
            .users
            .iter_mut()
            .find(|u| u.provider == provider && u.email.eq_ignore_ascii_case(email))
        {
            Some(existing) => existing.name = user.name.clone(),
            None => self.users.push(user.clone()),
        }
        if current {
            self.current.insert(provider, email.to_ascii_lowercase());
        }
        user
    }

    pub(crate) fn find_user(&self, provider: Provider, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.provider == provider && u.email.eq_ignore_ascii_case(email))
    }

    pub(crate) fn current_user(&self, provider: Provider) -> Option<&User> {
        let email = self.current.get(&provider)?;
        self.find_user(provider, email)
    }

    pub(crate) fn new_grant(&mut self, grant: Grant) -> u64 {
        let id = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(id, grant);
        id
    }

    pub(crate) fn revoke_grant(&mut self, id: u64) {
        if let Some(grant) = self.grants.get_mut(&id) {
            grant.revoked = true;
        }
    }

    /// The access token's grant and user, if the token is valid now.
    pub(crate) fn valid_access_token(&self, token: &str) -> Option<(&Grant, &User)> {
        let at = self.access_tokens.get(token)?;
        if at.force_expired || Instant::now() >= at.expires_at {
            return None;
        }
        let grant = self.grants.get(&at.grant)?;
        if grant.revoked {
            return None;
        }
        let user = self.find_user(grant.provider, &grant.email)?;
        Some((grant, user))
    }

    /// Takes one use of the pending token-error fault for `provider`, if it applies.
    pub(crate) fn take_token_error(
        &mut self,
        provider: Provider,
        grant_type: &str,
    ) -> Option<TokenErrorFault> {
        let faults = &mut self.faults.token_error;
        let index = faults.iter().position(|f| {
            f.provider == provider && f.grant_type.as_deref().is_none_or(|g| g == grant_type)
        })?;
        let fault = faults[index].clone();
        faults[index].count -= 1;
        if faults[index].count == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn take_authorize_error(
        &mut self,
        provider: Provider,
    ) -> Option<AuthorizeErrorFault> {
        let faults = &mut self.faults.authorize_error;
        let index = faults.iter().position(|f| f.provider == provider)?;
        let fault = faults[index].clone();
        faults[index].count -= 1;
        if faults[index].count == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn take_drop_connection(&mut self, provider: Provider, grant_type: &str) -> bool {
        let faults = &mut self.faults.drop_connection;
        let Some(index) = faults.iter().position(|f| {
            f.provider == provider && f.grant_type.as_deref().is_none_or(|g| g == grant_type)
        }) else {
            return false;
        };
        faults[index].count -= 1;
        if faults[index].count == 0 {
            faults.remove(index);
        }
        true
    }

    pub(crate) fn access_token_expiry(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(Duration::from_secs(self.config.access_token_lifetime_secs))
            .unwrap_or(now)
    }
}

// ---------------------------------------------------------------------------------------
// Validation of control input.

fn validate_email(email: &str) -> Result<(), ControlError> {
    let ok = email.len() <= 254
        && email.contains('@')
        && !email.starts_with('@')
        && !email.ends_with('@')
        && email
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\'));
    if ok {
        Ok(())
    } else {
        control_err(format!("not a plausible email address: {email:?}"))
    }
}

fn validate_text(what: &str, text: &str, max: usize) -> Result<(), ControlError> {
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return control_err(format!(
            "{what} must be 1 to {max} characters without control characters"
        ));
    }
    Ok(())
}

/// Characters a bearer token may hold (RFC 6750 `b64token`).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/')
}

fn validate_fault_error(error: &str) -> Result<(), ControlError> {
    if error.is_empty()
        || error.len() > 64
        || !error.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        return control_err("error must be 1 to 64 characters of [a-z_]");
    }
    Ok(())
}

fn validate_count(count: u32) -> Result<(), ControlError> {
    if count > MAX_FAULT_COUNT {
        return control_err(format!("count must be at most {MAX_FAULT_COUNT}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------

/// A handle on the fake's state, shared by the server and by in-process tests. Every
/// method here has a control-API twin.
#[derive(Debug, Clone)]
pub struct SharedState {
    inner: Arc<Mutex<State>>,
}

impl SharedState {
    pub(crate) fn new(base_url: String) -> SharedState {
        SharedState {
            inner: Arc::new(Mutex::new(State::new(base_url))),
        }
    }

    /// Locks the state. A panic while locked cannot leave it half-updated in a way that
    /// matters to a fake, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn base_url(&self) -> String {
        self.lock().base_url.clone()
    }

    /// Seeds (or renames) a user; `current` makes them the one authorize signs in.
    pub fn add_user(&self, spec: UserSpec) -> Result<User, ControlError> {
        validate_email(&spec.email)?;
        let name = match spec.name {
            Some(name) => name,
            None => spec.email.split('@').next().unwrap_or_default().to_string(),
        };
        validate_text("name", &name, 256)?;
        Ok(self
            .lock()
            .upsert_user(spec.provider, &spec.email, &name, spec.current))
    }

    pub fn users(&self) -> Vec<User> {
        self.lock().users.clone()
    }

    pub fn current_user(&self, provider: Provider) -> Option<User> {
        self.lock().current_user(provider).cloned()
    }

    /// Registers (or replaces) a client.
    pub fn register_client(&self, spec: ClientSpec) -> Result<(), ControlError> {
        validate_text("client_id", &spec.client_id, 256)?;
        if spec.client_id.chars().any(char::is_whitespace) {
            return control_err("client_id must not contain whitespace");
        }
        if let Some(secret) = &spec.client_secret {
            validate_text("client_secret", secret, 256)?;
        }
        let redirect_path = match spec.redirect_path {
            Some(path) => path,
            None => match spec.provider {
                Provider::Microsoft => DEFAULT_MICROSOFT_REDIRECT_PATH.to_string(),
                Provider::Google => DEFAULT_GOOGLE_REDIRECT_PATH.to_string(),
            },
        };
        if !redirect_path.starts_with('/')
            || redirect_path.len() > 200
            || redirect_path
                .chars()
                .any(|c| !c.is_ascii_graphic() || matches!(c, '?' | '#'))
        {
            return control_err(
                "redirect_path must start with '/', be at most 200 printable ASCII characters, \
                 and hold no '?' or '#'",
            );
        }
        self.lock().clients.insert(
            spec.client_id.clone(),
            Client {
                provider: spec.provider,
                client_id: spec.client_id,
                client_secret: spec.client_secret,
                redirect_path,
            },
        );
        Ok(())
    }

    pub fn config(&self) -> Config {
        self.lock().config.clone()
    }

    /// Applies a partial configuration update and returns the resulting configuration.
    pub fn update_config(&self, update: ConfigUpdate) -> Result<Config, ControlError> {
        if let Some(prefix) = &update.token_prefix {
            if prefix.len() > 200 || !prefix.chars().all(is_token_char) {
                return control_err(
                    "token_prefix must be at most 200 characters of [A-Za-z0-9-._~+/]",
                );
            }
        }
        if update
            .access_token_lifetime_secs
            .is_some_and(|s| s > MAX_LIFETIME_SECS)
        {
            return control_err(format!(
                "access_token_lifetime_secs must be at most {MAX_LIFETIME_SECS}"
            ));
        }
        if update
            .code_lifetime_secs
            .is_some_and(|s| s > MAX_LIFETIME_SECS)
        {
            return control_err(format!(
                "code_lifetime_secs must be at most {MAX_LIFETIME_SECS}"
            ));
        }
        if update
            .token_delay_ms
            .is_some_and(|ms| ms > MAX_TOKEN_DELAY_MS)
        {
            return control_err(format!(
                "token_delay_ms must be at most {MAX_TOKEN_DELAY_MS}"
            ));
        }
        let mut state = self.lock();
        let config = &mut state.config;
        if let Some(prefix) = update.token_prefix {
            config.token_prefix = prefix;
        }
        if let Some(secs) = update.access_token_lifetime_secs {
            config.access_token_lifetime_secs = secs;
        }
        if let Some(secs) = update.code_lifetime_secs {
            config.code_lifetime_secs = secs;
        }
        if let Some(ms) = update.token_delay_ms {
            config.token_delay_ms = ms;
        }
        if let Some(rotation) = update.rotation {
            if let Some(mode) = rotation.microsoft {
                config.rotation.microsoft = mode;
            }
            if let Some(mode) = rotation.google {
                config.rotation.google = mode;
            }
        }
        Ok(config.clone())
    }

    /// Queues faults; see [`FaultsUpdate`].
    pub fn set_faults(&self, update: FaultsUpdate) -> Result<Faults, ControlError> {
        if let Some(f) = &update.token_error {
            validate_fault_error(&f.error)?;
            validate_count(f.count)?;
            if let Some(d) = &f.description {
                validate_text("description", d, 1024)?;
            }
            if f.status.is_some_and(|s| !(400..=599).contains(&s)) {
                return control_err("status must be 400..=599");
            }
        }
        if let Some(f) = &update.authorize_error {
            validate_fault_error(&f.error)?;
            validate_count(f.count)?;
            if let Some(d) = &f.description {
                validate_text("description", d, 1024)?;
            }
        }
        if let Some(f) = &update.drop_connection {
            validate_count(f.count)?;
        }
        let mut state = self.lock();
        let faults = &mut state.faults;
        if update.clear {
            *faults = Faults::default();
        }
        if let Some(f) = update.token_error {
            faults.token_error.retain(|old| old.provider != f.provider);
            if f.count > 0 {
                faults.token_error.push(f);
            }
        }
        if let Some(f) = update.authorize_error {
            faults
                .authorize_error
                .retain(|old| old.provider != f.provider);
            if f.count > 0 {
                faults.authorize_error.push(f);
            }
        }
        if let Some(f) = update.drop_connection {
            faults
                .drop_connection
                .retain(|old| old.provider != f.provider);
            if f.count > 0 {
                faults.drop_connection.push(f);
            }
        }
        Ok(faults.clone())
    }

    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Revokes every grant (so every access and refresh token) of one user, like an
    /// administrator's "revoke sessions". Returns how many grants were revoked.
    pub fn revoke_all(&self, provider: Provider, email: &str) -> usize {
        let mut state = self.lock();
        let mut n = 0;
        for grant in state.grants.values_mut() {
            if grant.provider == provider
                && grant.email.eq_ignore_ascii_case(email)
                && !grant.revoked
            {
                grant.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Makes every access token issued so far expired. Returns how many there were.
    pub fn expire_access_tokens(&self) -> usize {
        let mut state = self.lock();
        for token in state.access_tokens.values_mut() {
            token.force_expired = true;
        }
        state.access_tokens.len()
    }

    pub fn stats(&self) -> Stats {
        let state = self.lock();
        let c = &state.counters;
        let (m, g) = (&c.microsoft, &c.google);
        Stats {
            total: EndpointCounts {
                authorize: m.authorize + g.authorize,
                token: TokenCounts {
                    authorization_code: m.token.authorization_code + g.token.authorization_code,
                    refresh_token: m.token.refresh_token + g.token.refresh_token,
                    other: m.token.other + g.token.other,
                },
                revoke: m.revoke + g.revoke,
                me: m.me + g.me,
            },
            max_concurrent_refresh: c.max_concurrent_refresh,
            refresh_by_token: c.refresh_by_token.clone(),
            microsoft: m.clone(),
            google: g.clone(),
        }
    }

    /// Restores the state a fresh server starts with (users, clients, configuration,
    /// no faults, no tokens, zero counters).
    pub fn reset(&self) {
        let mut state = self.lock();
        let base_url = state.base_url.clone();
        *state = State::new(base_url);
    }

    /// The JSON request bodies the Graph and Google calendar APIs received (at most the
    /// last [`MAX_RECEIVED`]), for tests that validate what a client sent.
    pub fn received_bodies(&self, provider: Provider) -> Vec<ReceivedBody> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.provider == provider)
            .cloned()
            .collect()
    }

    pub(crate) fn record_body(&self, provider: Provider, route: &str, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let mut state = self.lock();
            if state.received.len() >= MAX_RECEIVED {
                state.received.remove(0);
            }
            state.received.push(ReceivedBody {
                provider,
                route: route.to_string(),
                body: value,
            });
        }
    }

    /// Issues a valid access token for `email` without the browser flow, as if the
    /// provider's default client had signed them in (a grant with a calendar scope).
    /// For tests of the API surfaces (Graph, Google Calendar); the user must be seeded.
    pub fn mint_access_token(
        &self,
        provider: Provider,
        email: &str,
    ) -> Result<String, ControlError> {
        let client_id = match provider {
            Provider::Microsoft => DEFAULT_MICROSOFT_CLIENT_ID,
            Provider::Google => DEFAULT_GOOGLE_CLIENT_ID,
        };
        self.mint_access_token_for(provider, email, client_id)
    }

    /// [`SharedState::mint_access_token`] for a given (registered) client.
    pub fn mint_access_token_for(
        &self,
        provider: Provider,
        email: &str,
        client_id: &str,
    ) -> Result<String, ControlError> {
        let mut state = self.lock();
        let Some(user) = state.find_user(provider, email).cloned() else {
            return control_err(format!("no {} user {email:?}", provider.as_str()));
        };
        if state
            .clients
            .get(client_id)
            .is_none_or(|c| c.provider != provider)
        {
            return control_err(format!("no {} client {client_id:?}", provider.as_str()));
        }
        let scope = match provider {
            Provider::Microsoft => "openid profile email offline_access Calendars.ReadWrite",
            Provider::Google => "openid email https://www.googleapis.com/auth/calendar",
        };
        let grant = state.new_grant(Grant {
            provider,
            client_id: client_id.to_string(),
            email: user.email,
            scope: scope.to_string(),
            revoked: false,
        });
        let prefix = state.config.token_prefix.clone();
        let token = match provider {
            Provider::Microsoft => format!("{prefix}EwB{}", util::random_token()),
            Provider::Google => format!("{prefix}ya29.a0{}", util::random_token()),
        };
        let expires_at = state.access_token_expiry();
        state.access_tokens.insert(
            token.clone(),
            AccessToken {
                grant,
                expires_at,
                force_expired: false,
            },
        );
        Ok(token)
    }

    /// Marks one `refresh_token` request in flight for the chain of `refresh_token`
    /// until the returned guard is dropped.
    pub(crate) fn begin_refresh(&self, refresh_token: &str) -> RefreshFlight {
        let mut state = self.lock();
        let key = match state.refresh_tokens.get(refresh_token) {
            Some(rt) => format!("grant:{}", rt.grant),
            None => format!("token:{refresh_token}"),
        };
        let counters = &mut state.counters;
        *counters
            .refresh_by_token
            .entry(refresh_token.to_string())
            .or_default() += 1;
        let n = counters.refresh_in_flight.entry(key.clone()).or_default();
        *n += 1;
        let n = *n;
        counters.max_concurrent_refresh = counters.max_concurrent_refresh.max(n);
        RefreshFlight {
            shared: self.clone(),
            key,
        }
    }
}

/// A `refresh_token` request in flight (see [`SharedState::begin_refresh`]).
#[derive(Debug)]
pub(crate) struct RefreshFlight {
    shared: SharedState,
    key: String,
}

impl Drop for RefreshFlight {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let in_flight = &mut state.counters.refresh_in_flight;
        if let Some(n) = in_flight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                in_flight.remove(&self.key);
            }
        }
    }
}
