//! The provider configuration file (`config.toml`): client ids, the Microsoft tenant,
//! and endpoint overrides for national clouds and local test servers.

use std::path::{Path, PathBuf};

use almanac_model::Provider;
use serde::Deserialize;
use url::{Host, Url};

use crate::error::{AuthError, Result};

/// Where the configuration file is: `$ALMANAC_CONFIG`, else
/// `$XDG_CONFIG_HOME/almanac/config.toml` (`~/.config/almanac/config.toml`).
pub fn config_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("ALMANAC_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    directories::BaseDirs::new()
        .map(|d| d.config_dir().join("almanac").join("config.toml"))
        .ok_or_else(|| {
            AuthError::Config(
                "Could not find a home directory for the configuration file; set ALMANAC_CONFIG."
                    .into(),
            )
        })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    microsoft: Option<RawMicrosoft>,
    google: Option<RawGoogle>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMicrosoft {
    client_id: String,
    #[serde(default = "default_tenant")]
    tenant: String,
    authority: Option<String>,
    graph_url: Option<String>,
    #[serde(default)]
    redirect: RedirectKind,
}

fn default_tenant() -> String {
    "common".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoogle {
    client_id: String,
    client_secret: String,
    auth_url: Option<String>,
    token_url: Option<String>,
    revoke_url: Option<String>,
    calendar_url: Option<String>,
}

/// How the browser hands the authorization response back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectKind {
    /// `http://127.0.0.1:{ephemeral}/callback/{provider}` (RFC 8252 §7.3).
    #[default]
    Loopback,
    /// `almanac://oauth/callback`, delivered by the OS to the running desktop app.
    /// Microsoft only; Google desktop clients support loopback alone.
    DeepLink,
}

/// One provider's resolved settings.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub client_id: String,
    /// Google's "Desktop app" secret. Google requires it on the token request although
    /// it is not confidential in an installed app (RFC 8252 §8.5); it protects nothing.
    pub client_secret: Option<String>,
    pub auth_url: Url,
    pub token_url: Url,
    pub revoke_url: Option<Url>,
    /// Graph (`…/v1.0`) or Google Calendar (`…/calendar/v3`) base URL.
    pub api_url: Url,
    /// What identifies the authority the account signed in against.
    pub authority: String,
    pub redirect: RedirectKind,
}

impl ProviderConfig {
    /// Everywhere this configuration sends an account's tokens, one `name URL` per
    /// line: an account's tokens go only where they were issued ([`crate::Credentials`]).
    pub fn token_destinations(&self) -> String {
        let mut out = format!(
            "authority {}\ntoken {}\napi {}",
            self.authority, self.token_url, self.api_url
        );
        if let Some(revoke) = &self.revoke_url {
            out.push_str(&format!("\nrevoke {revoke}"));
        }
        out
    }
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("auth_url", &self.auth_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("api_url", &self.api_url.as_str())
            .field("redirect", &self.redirect)
            .finish()
    }
}

/// The whole configuration file, validated.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub path: PathBuf,
    microsoft: Option<ProviderConfig>,
    google: Option<ProviderConfig>,
}

impl AuthConfig {
    /// Reads the file at [`config_path`]. A missing file is an empty configuration:
    /// the app runs with local calendars and says what to add when an account is
    /// connected.
    pub fn load() -> Result<Self> {
        Self::load_from(&config_path()?)
    }

    pub fn load_from(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_path_buf(),
                    ..Self::default()
                })
            }
            Err(e) => {
                return Err(AuthError::Config(format!(
                    "Could not read the configuration file {}: {e}",
                    path.display()
                )))
            }
        };
        Self::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let bad = |msg: String| AuthError::Config(format!("{}: {msg}", path.display()));
        let raw: RawConfig = toml::from_str(text).map_err(|e| bad(toml_error(&e, text)))?;
        let microsoft = raw.microsoft.map(microsoft).transpose().map_err(bad)?;
        let google = raw.google.map(google).transpose().map_err(bad)?;
        Ok(Self {
            path: path.to_path_buf(),
            microsoft,
            google,
        })
    }

    /// The settings of `provider`, or an error that says what to add to which file.
    pub fn provider(&self, provider: Provider) -> Result<&ProviderConfig> {
        let found = match provider {
            Provider::Microsoft => self.microsoft.as_ref(),
            Provider::Google => self.google.as_ref(),
        };
        found.ok_or_else(|| {
            let needs = match provider {
                Provider::Microsoft => "client_id (and optionally tenant)",
                Provider::Google => "client_id and client_secret",
            };
            AuthError::Config(format!(
                "{} is not set up: add a [{}] section with {needs} to {} \
                 (the README explains how to register the application).",
                provider.display_name(),
                provider.as_str(),
                self.path.display()
            ))
        })
    }

    pub fn configured(&self) -> Vec<Provider> {
        Provider::ALL
            .into_iter()
            .filter(|p| self.provider(*p).is_ok())
            .collect()
    }
}

/// A TOML error with the line it is about (which names the key), shortened, and
/// without the names of Almanac's own types.
fn toml_error(e: &toml::de::Error, text: &str) -> String {
    // In "missing field `client_id`" the quoted part is a name, which helps; in
    // "invalid type: string \"GOCSPX-…\"" or "unknown variant `x`" it is the value
    // read, which may be the client secret.
    let names = ["missing field", "unknown field", "duplicate key"];
    let message = if names.iter().any(|n| e.message().starts_with(n)) {
        e.message().to_owned()
    } else {
        without_quoted(e.message())
    };
    let message = message
        .replace("struct RawConfig", "a configuration file")
        .replace("struct RawMicrosoft", "a [microsoft] section")
        .replace("struct RawGoogle", "a [google] section");
    let Some(at) = e.span().map(|s| s.start.min(text.len())) else {
        return message;
    };
    let line_no = text[..at].matches('\n').count() + 1;
    // A section header or a key, never a value (a line that is neither — a value's
    // continuation, `client_secret: "…"` — is named by its number alone).
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    let bare_key = |k: &str| {
        !k.is_empty()
            && k.len() <= 60
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    let shown = match line.split_once('=') {
        _ if line.starts_with('[') && line.len() <= 60 && line.ends_with(']') => Some(line),
        Some((key, _)) if bare_key(key.trim()) => Some(key.trim()),
        _ => None,
    };
    match shown {
        Some(shown) => format!("line {line_no} (`{shown}`): {message}"),
        None => format!("line {line_no}: {message}"),
    }
}

/// `text` without its first quoted part (in backticks or double quotes): the value
/// read, where the rest ("expected one of `loopback`, `deep-link`") helps.
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    let mut done = false;
    for c in text.chars() {
        match (quote, c) {
            (None, '`' | '"') if !done => quote = Some(c),
            (Some(q), c) if c == q => {
                quote = None;
                done = true;
            }
            (None, c) => out.push(c),
            _ => {}
        }
    }
    out.replace("  ", " ").replace(" ,", ",")
}

fn microsoft(m: RawMicrosoft) -> std::result::Result<ProviderConfig, String> {
    let client_id = client_id(&m.client_id, "microsoft")?;
    check_tenant(&m.tenant)?;
    let authority = endpoint(
        m.authority
            .as_deref()
            .unwrap_or("https://login.microsoftonline.com"),
        "microsoft.authority",
    )?;
    let base = format!("{}/{}/oauth2/v2.0", trimmed(&authority), m.tenant);
    let api_url = endpoint(
        m.graph_url
            .as_deref()
            .unwrap_or("https://graph.microsoft.com/v1.0"),
        "microsoft.graph_url",
    )?;
    Ok(ProviderConfig {
        provider: Provider::Microsoft,
        client_id,
        client_secret: None,
        auth_url: parse_url(&format!("{base}/authorize"))?,
        token_url: parse_url(&format!("{base}/token"))?,
        // Microsoft's v2.0 endpoint offers public clients no token revocation.
        revoke_url: None,
        api_url,
        authority: format!("{}/{}", trimmed(&authority), m.tenant),
        redirect: m.redirect,
    })
}

fn google(g: RawGoogle) -> std::result::Result<ProviderConfig, String> {
    let client_id = client_id(&g.client_id, "google")?;
    if g.client_secret.trim().is_empty() || g.client_secret.chars().any(char::is_control) {
        return Err(
            "google.client_secret is empty or malformed; copy it from the \
                    \"Desktop app\" client in the Google Cloud console."
                .into(),
        );
    }
    let auth_url = endpoint(
        g.auth_url
            .as_deref()
            .unwrap_or("https://accounts.google.com/o/oauth2/v2/auth"),
        "google.auth_url",
    )?;
    let token_url = endpoint(
        g.token_url
            .as_deref()
            .unwrap_or("https://oauth2.googleapis.com/token"),
        "google.token_url",
    )?;
    let revoke_url = endpoint(
        g.revoke_url
            .as_deref()
            .unwrap_or("https://oauth2.googleapis.com/revoke"),
        "google.revoke_url",
    )?;
    let api_url = endpoint(
        g.calendar_url
            .as_deref()
            .unwrap_or("https://www.googleapis.com/calendar/v3"),
        "google.calendar_url",
    )?;
    let authority = origin(&auth_url);
    Ok(ProviderConfig {
        provider: Provider::Google,
        client_id,
        client_secret: Some(g.client_secret),
        auth_url,
        token_url,
        revoke_url: Some(revoke_url),
        api_url,
        authority,
        redirect: RedirectKind::Loopback,
    })
}

fn client_id(v: &str, section: &str) -> std::result::Result<String, String> {
    let ok = !v.is_empty()
        && v.len() <= 256
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "{section}.client_id {v:?} is not a valid client id (letters, digits, - . _ ~)."
        ))
    }
}

/// `common`, `organizations`, `consumers`, a tenant GUID or a verified domain.
fn check_tenant(t: &str) -> std::result::Result<(), String> {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let named = matches!(t, "common" | "organizations" | "consumers");
    let guid = t.len() == 36
        && t.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    let domain = t.len() <= 253 && t.contains('.') && t.split('.').all(label);
    if named || guid || domain {
        Ok(())
    } else {
        Err(format!(
            "microsoft.tenant {t:?} is not common, organizations, consumers, a tenant id \
             (GUID) or a domain such as contoso.onmicrosoft.com."
        ))
    }
}

/// An endpoint override: `https`, or `http` on a loopback host only (local test
/// servers). No credentials, query or fragment.
pub fn endpoint(v: &str, key: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("{key} {v:?} is not a URL ({e})."))?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
            "{key} {v:?} must use https (http is allowed only for 127.0.0.1, [::1] and localhost)."
        ))
        }
        _ => return Err(format!("{key} {v:?} must be an https URL.")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{key} must not contain a user name or password."));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{key} {v:?} must not have a query or fragment."));
    }
    let s = trimmed(&url);
    parse_url(s)
}

fn trimmed(u: &Url) -> &str {
    u.as_str().trim_end_matches('/')
}

fn origin(u: &Url) -> String {
    u.origin().ascii_serialization()
}

fn parse_url(s: &str) -> std::result::Result<Url, String> {
    Url::parse(s).map_err(|e| format!("{s:?} is not a URL ({e})."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AuthConfig> {
        AuthConfig::parse(text, Path::new("/cfg/config.toml"))
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_are_the_public_clouds() -> Result<()> {
        let c = parse(
            "[microsoft]\nclient_id = \"abc-123\"\n[google]\nclient_id = \"x.apps.googleusercontent.com\"\nclient_secret = \"s\"\n",
        )?;
        let m = c.provider(Provider::Microsoft)?;
        assert_eq!(
            m.auth_url.as_str(),
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
        );
        assert_eq!(
            m.token_url.as_str(),
            "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        );
        assert_eq!(m.api_url.as_str(), "https://graph.microsoft.com/v1.0");
        assert_eq!(m.redirect, RedirectKind::Loopback);
        let g = c.provider(Provider::Google)?;
        assert_eq!(
            g.auth_url.as_str(),
            "https://accounts.google.com/o/oauth2/v2/auth"
        );
        assert_eq!(g.token_url.as_str(), "https://oauth2.googleapis.com/token");
        assert_eq!(
            g.revoke_url.as_ref().map(Url::as_str),
            Some("https://oauth2.googleapis.com/revoke")
        );
        assert!(!format!("{g:?}").contains("\"s\""), "secret in Debug");
        Ok(())
    }

    #[test]
    fn national_clouds_and_tenants_by_configuration() -> Result<()> {
        let c = parse(
            "[microsoft]\nclient_id = \"abc\"\ntenant = \"contoso.onmicrosoft.us\"\n\
             authority = \"https://login.microsoftonline.us/\"\ngraph_url = \"https://dod-graph.microsoft.us/v1.0\"\nredirect = \"deep-link\"\n",
        )?;
        let m = c.provider(Provider::Microsoft)?;
        assert_eq!(
            m.token_url.as_str(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token"
        );
        assert_eq!(m.api_url.as_str(), "https://dod-graph.microsoft.us/v1.0");
        assert_eq!(m.redirect, RedirectKind::DeepLink);
        for t in [
            "organizations",
            "consumers",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        ] {
            parse(&format!(
                "[microsoft]\nclient_id = \"a\"\ntenant = \"{t}\"\n"
            ))?;
        }
        Ok(())
    }

    #[test]
    fn http_only_for_loopback_hosts() -> Result<()> {
        for host in ["127.0.0.1:8080", "[::1]:9", "localhost:1"] {
            parse(&format!(
                "[microsoft]\nclient_id = \"a\"\nauthority = \"http://{host}\"\n"
            ))?;
        }
        for bad in [
            "http://login.example.com",
            "http://127.0.0.1.evil.example",
            "ftp://127.0.0.1",
            "https://user:pw@login.example.com",
            "https://login.example.com/?x=1",
            "javascript:alert(1)",
            "not a url",
        ] {
            let e = err(&format!(
                "[microsoft]\nclient_id = \"a\"\nauthority = \"{bad}\"\n"
            ));
            assert!(e.contains("microsoft.authority"), "{bad}: {e}");
        }
        Ok(())
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(err("[microsoft]\nclient_id = \"a\"\ntenant = \"../evil\"\n").contains("tenant"));
        assert!(err("[microsoft]\nclient_id = \"a b\"\n").contains("client_id"));
        assert!(err("[google]\nclient_id = \"a\"\n").contains("client_secret"));
        assert!(
            err("[google]\nclient_id = \"a\"\nclient_secret = \"\"\n").contains("client_secret")
        );
        assert!(err("[microsoft]\nclient_id = \"a\"\nclientid = \"b\"\n").contains("clientid"));
        assert!(err(
            "[google]\nclient_id = \"a\"\nclient_secret = \"s\"\nredirect = \"deep-link\"\n"
        )
        .contains("redirect"));
        assert!(err("[microsoft\n").contains("/cfg/config.toml"));
        // TOML's own errors name the line, never Almanac's type names.
        let e = err("[microsoft]\nclient_id = 5\n");
        assert!(e.contains("line 2 (`client_id`)"), "{e}");
        let e = err("microsoft = 1\n");
        assert!(
            e.contains("line 1 (`microsoft`)") && e.contains("a [microsoft] section"),
            "{e}"
        );
        assert!(!e.contains("Raw"), "{e}");
        let e = err("[microsoft]\ntenant = \"x\"\n");
        assert!(e.contains("client_id") && e.contains("[microsoft]"), "{e}");
        assert!(err("[google]\n[google]\n").contains("line 2"));
        // A value is not echoed back (it may be the secret).
        let e = err("[google]\nclient_id = \"a\"\nclient_secret = 123456789\n");
        assert!(
            e.contains("line 3 (`client_secret`)") && !e.contains("123456789"),
            "{e}"
        );
        // Nor in lines that are not `key = value`, nor as TOML quotes it.
        for (file, secret) in [
            (
                "[google]\nclient_id = \"a\"\nclient_secret: \"GOCSPX-secret1\"\n",
                "GOCSPX-secret1",
            ),
            (
                "[google]\nclient_id = \"a\"\nclient_secret = [\"GOCSPX-secret2\"]\n",
                "GOCSPX-secret2",
            ),
            (
                "[microsoft]\nclient_id = \"a\"\nredirect = \"GOCSPX-secret3\"\n",
                "GOCSPX-secret3",
            ),
            ("google = \"GOCSPX-secret4\"\n", "GOCSPX-secret4"),
        ] {
            let e = err(file);
            assert!(!e.contains(secret), "{e}");
            assert!(e.contains("line "), "{e}");
        }
        let e = err("[microsoft]\nclient_id = \"a\"\nredirect = \"x\"\n");
        assert!(e.contains("`loopback`"), "{e}");
        // A huge value is not echoed back whole.
        let e = err(&format!(
            "[microsoft]\nclient_id = [\"{}\"]\n",
            "x".repeat(100_000)
        ));
        assert!(e.len() < 500, "{} characters", e.len());
    }

    #[test]
    fn a_missing_provider_says_where_to_add_it() -> Result<()> {
        let c = parse("")?;
        let e = c
            .provider(Provider::Google)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("[google]") && e.contains("/cfg/config.toml"),
            "{e}"
        );
        assert!(c.configured().is_empty());
        Ok(())
    }
}
