//! One interactive sign-in: authorization code + PKCE (S256) + state + nonce, the
//! system browser, a loopback or deep-link redirect, the code exchange, and who signed
//! in. Nothing is stored here; the caller records the account and keeps the tokens.

use std::time::Duration;

use almanac_model::Provider;
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope};

use crate::callback::{self, Callback};
use crate::config::{ProviderConfig, RedirectKind};
use crate::deep_link::{self, DeepLinks};
use crate::error::{AuthError, Result};
use crate::id_token::{self, Identity};
use crate::loopback::Loopback;
use crate::oauth;
use crate::secret::TokenSet;

/// How long a sign-in waits for the browser to come back.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What a finished sign-in produced.
#[derive(Debug)]
pub struct SignedIn {
    pub provider: Provider,
    pub identity: Identity,
    pub tokens: TokenSet,
    pub authority: String,
    /// Where the tokens were issued and may be sent
    /// ([`ProviderConfig::token_destinations`]).
    pub destinations: String,
}

/// Options of one sign-in.
#[derive(Debug, Clone)]
pub struct SignIn<'a> {
    pub config: &'a ProviderConfig,
    pub timeout: Duration,
    /// Where deep links are routed; required for a deep-link redirect. Without it a
    /// configured deep-link redirect falls back to loopback (the CLI has no deep links).
    pub deep_links: Option<&'a DeepLinks>,
    /// Opens the authorization URL; [`crate::browser::open`] in the apps.
    pub open: fn(&str) -> Result<()>,
}

enum Redirect {
    Loopback(Loopback),
    DeepLink(DeepLinks),
}

/// Forgets a deep-link sign-in's state however its wait ends — also when the sign-in
/// is dropped, cancelled: a link arriving later finds nobody waiting.
struct Expecting<'a> {
    links: &'a DeepLinks,
    state: &'a str,
}

impl Drop for Expecting<'_> {
    fn drop(&mut self) {
        self.links.forget(self.state);
    }
}

impl SignIn<'_> {
    /// Runs the flow until it ends or `cancel` completes (the user's Cancel), then
    /// ends at once with [`AuthError::SignInCancelled`]: its loopback port closed, its
    /// deep-link state forgotten, no token asked for. Otherwise the user who closed
    /// the browser's tab waits out the whole [`SignIn::timeout`].
    pub async fn run_until(
        &self,
        now: impl Fn() -> i64,
        cancel: impl std::future::Future<Output = ()>,
    ) -> Result<SignedIn> {
        tokio::select! {
            done = self.run(now) => done,
            () = cancel => Err(AuthError::SignInCancelled),
        }
    }

    /// Runs the flow. `now` gives Unix seconds, read when the tokens arrive.
    pub async fn run(&self, now: impl Fn() -> i64) -> Result<SignedIn> {
        let cfg = self.config;
        let provider = cfg.provider;
        let redirect = match (cfg.redirect, self.deep_links) {
            (RedirectKind::DeepLink, Some(links)) => Redirect::DeepLink(links.clone()),
            _ => Redirect::Loopback(Loopback::bind(provider).await?),
        };
        let redirect_uri = match &redirect {
            Redirect::Loopback(l) => l.redirect_uri(),
            Redirect::DeepLink(_) => deep_link::REDIRECT_URI.to_string(),
        };
        let client = oauth::client(cfg, Some(&redirect_uri))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(
                oauth::scopes(provider)
                    .iter()
                    .map(|s| Scope::new(s.to_string())),
            )
            .set_pkce_challenge(challenge)
            .add_extra_param("nonce", nonce.secret());
        request = match provider {
            Provider::Microsoft => request.add_extra_param("prompt", "select_account"),
            // Google returns a refresh token only with offline access, and again on a
            // later sign-in only when consent is asked for.
            Provider::Google => request
                .add_extra_param("access_type", "offline")
                .add_extra_param("prompt", "consent"),
        };
        let (url, state) = request.url();
        let state = state.secret().clone();

        let code = match redirect {
            Redirect::Loopback(listener) => {
                (self.open)(url.as_str())?;
                listener.wait(&state, self.timeout).await?
            }
            Redirect::DeepLink(links) => {
                let rx = links.expect(&state);
                let expecting = Expecting {
                    links: &links,
                    state: &state,
                };
                (self.open)(url.as_str())?;
                let outcome = tokio::time::timeout(self.timeout, rx).await;
                drop(expecting);
                let query = match outcome {
                    Ok(Ok(q)) => q,
                    _ => {
                        return Err(AuthError::SignInFailed(
                            "no answer from the browser in time; try again.".into(),
                        ))
                    }
                };
                match callback::check(&query, &state) {
                    Callback::Code(c) => c,
                    Callback::Refused(why) => return Err(AuthError::SignInFailed(why)),
                    Callback::Foreign(why) => {
                        return Err(AuthError::SignInFailed(format!(
                            "the browser returned an invalid response ({why})."
                        )))
                    }
                }
            }
        };

        let http = oauth::http()?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .map_err(|e| match oauth::classify(provider, e) {
                // A refused code is not a lost grant: nothing was stored yet.
                AuthError::ActionRequired { .. } => AuthError::SignInFailed(format!(
                    "{} did not accept the sign-in; try again.",
                    provider.display_name()
                )),
                other => other,
            })?;
        let tokens = oauth::token_set(&response, now());
        let raw_id = response.extra_fields().id_token.as_deref().ok_or_else(|| {
            AuthError::SignInFailed(format!(
                "{} sent no ID token; was the openid scope granted?",
                provider.display_name()
            ))
        })?;
        let identity = id_token::identity(provider, raw_id, &cfg.client_id, nonce.secret())?;
        if tokens.refresh_token.is_none() {
            return Err(AuthError::SignInFailed(format!(
                "{} granted no offline access, so Almanac would have to ask you to sign in \
                 every hour; allow offline access and try again.",
                provider.display_name()
            )));
        }
        Ok(SignedIn {
            provider,
            identity,
            tokens,
            authority: cfg.authority.clone(),
            destinations: cfg.token_destinations(),
        })
    }
}
