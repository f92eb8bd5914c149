//! The oauth2 crate, configured for one provider: authorization URL, code exchange,
//! refresh and revocation, with errors classified for the user.

use std::time::Duration;

use almanac_model::Provider;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    ExtraTokenFields, HttpClientError, RedirectUrl, RequestTokenError, RevocationUrl,
    StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::config::ProviderConfig;
use crate::credentials::REFRESH_AHEAD_SECS;
use crate::error::{AuthError, Result};
use crate::secret::{Secret, TokenSet};

/// The `id_token` of an OpenID Connect token response.
#[derive(Clone, Default, Deserialize, Serialize)]
pub(crate) struct IdTokenField {
    pub id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenField([redacted])")
    }
}

impl ExtraTokenFields for IdTokenField {}

pub(crate) type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

pub(crate) type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointSet,
>;

/// Scopes per provider: enough for two-way sync of every calendar in the list.
pub fn scopes(provider: Provider) -> &'static [&'static str] {
    match provider {
        Provider::Microsoft => &[
            "offline_access",
            "openid",
            "profile",
            "email",
            "User.Read",
            "Calendars.ReadWrite",
            "Calendars.ReadWrite.Shared",
        ],
        Provider::Google => &[
            "openid",
            "email",
            "https://www.googleapis.com/auth/calendar.events",
            "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
        ],
    }
}

pub(crate) fn client(cfg: &ProviderConfig, redirect: Option<&str>) -> Result<Client> {
    let bad = |e: url::ParseError| AuthError::Config(format!("Bad endpoint URL: {e}"));
    let mut c = oauth2::Client::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_uri(AuthUrl::new(cfg.auth_url.to_string()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(cfg.token_url.to_string()).map_err(bad)?)
        .set_revocation_url_option(
            cfg.revoke_url
                .as_ref()
                .map(|u| RevocationUrl::new(u.to_string()))
                .transpose()
                .map_err(bad)?,
        )
        // Credentials in the form body: what Google documents for installed apps and
        // what public clients (Microsoft) do anyway.
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &cfg.client_secret {
        c = c.set_client_secret(ClientSecret::new(secret.clone()));
    }
    if let Some(r) = redirect {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_string()).map_err(bad)?);
    }
    Ok(c)
}

/// The HTTP client for token requests: no redirects (a token endpoint that redirects
/// is misconfigured or hostile), bounded time.
pub(crate) fn http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(45))
        .build()
        .map_err(|e| AuthError::Config(format!("Could not set up HTTPS: {e}")))
}

pub(crate) fn token_set(r: &TokenResponse, now: i64) -> TokenSet {
    let lifetime = r
        .expires_in()
        .map(|d| d.as_secs().min(24 * 3600) as i64)
        .unwrap_or(3600);
    // A token is refreshed REFRESH_AHEAD_SECS before it expires; one that lives less
    // than twice that at half its life instead (else every request refreshed it:
    // 16 API requests, 16 refreshes, for a 60-second token).
    let use_for = (lifetime - REFRESH_AHEAD_SECS).max(lifetime / 2);
    TokenSet {
        access_token: Secret::new(r.access_token().secret().clone()),
        expires_at: now + use_for + REFRESH_AHEAD_SECS,
        // An empty one is none: stored, it would replace the working one.
        refresh_token: r
            .refresh_token()
            .filter(|t| !t.secret().is_empty())
            .map(|t| Secret::new(t.secret().clone())),
    }
}

type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// Classifies a failed token request. Branches on the `error` code only, never on the
/// description text (Microsoft changes AADSTS texts); never includes the response
/// body, which on a parse failure could hold tokens.
pub(crate) fn classify(provider: Provider, e: TokenError) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(r) => match r.error() {
            BasicErrorResponseType::InvalidGrant => AuthError::ActionRequired {
                provider,
                reason: "the saved sign-in has expired or was revoked.".into(),
            },
            BasicErrorResponseType::Extension(x)
                if matches!(
                    x.as_str(),
                    "interaction_required" | "consent_required" | "login_required"
                ) =>
            {
                AuthError::ActionRequired {
                    provider,
                    reason: "it needs you to confirm your sign-in (for example multi-factor \
                             authentication or consent)."
                        .into(),
                }
            }
            BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                AuthError::Config(format!(
                    "{} refused Almanac's client id{}: check the [{}] section of the \
                     configuration file.",
                    provider.display_name(),
                    if provider == Provider::Google {
                        " or secret"
                    } else {
                        ""
                    },
                    provider.as_str()
                ))
            }
            // Failures of the moment: the same request may work later.
            BasicErrorResponseType::Extension(x)
                if matches!(x.as_str(), "temporarily_unavailable" | "server_error") =>
            {
                AuthError::Provider {
                    provider,
                    detail: format!("{} (try again later).", error_code(r.error())),
                }
            }
            // invalid_request, invalid_scope, unsupported_grant_type, or a code of its
            // own: asking again will not change the answer.
            other => AuthError::Refused {
                provider,
                code: error_code(other),
            },
        },
        RequestTokenError::Request(HttpClientError::Reqwest(e)) => AuthError::Offline {
            provider,
            detail: transport(&e),
        },
        RequestTokenError::Request(_) => AuthError::Offline {
            provider,
            detail: "the connection failed.".into(),
        },
        RequestTokenError::Parse(..) => AuthError::Provider {
            provider,
            detail: "the answer was not a token response (a proxy or captive portal may be \
                     in the way)."
                .into(),
        },
        RequestTokenError::Other(_) => AuthError::Provider {
            provider,
            detail: "the answer was not a token response.".into(),
        },
    }
}

fn error_code(t: &BasicErrorResponseType) -> String {
    let s = t.to_string();
    // Provider-chosen text: keep it short and printable.
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out.".into()
    } else if e.is_connect() {
        "could not connect (are you offline?).".into()
    } else {
        "the connection failed.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth2::{AccessToken, RefreshToken};

    fn response(lifetime: u64, refresh: Option<&str>) -> TokenResponse {
        let mut r = TokenResponse::new(
            AccessToken::new("access".into()),
            BasicTokenType::Bearer,
            IdTokenField::default(),
        );
        r.set_expires_in(Some(&Duration::from_secs(lifetime)));
        r.set_refresh_token(refresh.map(|t| RefreshToken::new(t.into())));
        r
    }

    /// The refresh-ahead check (`expires_at - REFRESH_AHEAD_SECS > now`) of a token
    /// used `after` seconds after it came.
    fn still_used(lifetime: u64, after: i64) -> bool {
        token_set(&response(lifetime, None), 1_000).expires_at - REFRESH_AHEAD_SECS > 1_000 + after
    }

    #[test]
    fn a_short_lived_token_is_used_for_half_its_life() {
        assert!(still_used(3600, 3299) && !still_used(3600, 3300));
        assert!(still_used(60, 29) && !still_used(60, 30));
        assert!(!still_used(0, 0));
    }

    #[test]
    fn an_empty_refresh_token_is_none() {
        assert!(token_set(&response(3600, Some("")), 0)
            .refresh_token
            .is_none());
        let kept = token_set(&response(3600, Some("r")), 0).refresh_token;
        assert_eq!(kept.map(|t| t.expose().to_owned()).as_deref(), Some("r"));
    }
}
