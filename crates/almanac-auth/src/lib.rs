//! Almanac's sign-in: OAuth 2.0 authorization code + PKCE against Microsoft identity
//! and Google, with loopback or deep-link redirects; tokens kept only in the OS
//! keyring; access tokens refreshed ahead of expiry, one refresh per account at a time.

pub mod accounts;
pub mod browser;
pub mod callback;
mod config;
mod credentials;
pub mod deep_link;
mod error;
mod id_token;
mod loopback;
mod oauth;
mod secret;
mod sign_in;
mod vault;

pub use config::{config_path, AuthConfig, ProviderConfig, RedirectKind};
pub use credentials::{Credentials, REFRESH_AHEAD_SECS};
pub use deep_link::DeepLinks;
pub use error::{AuthError, Result};
pub use id_token::Identity;
pub use loopback::Loopback;
pub use oauth::scopes;
pub use secret::{Secret, TokenSet};
pub use sign_in::{SignIn, SignedIn, DEFAULT_TIMEOUT};
pub use vault::{Vault, SERVICE};
