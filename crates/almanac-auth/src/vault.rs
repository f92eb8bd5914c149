//! Tokens in the OS keyring (the Secret Service on Linux), and nowhere else. With no
//! keyring the caller gets a clear error; there is no plaintext fallback.

use crate::error::{AuthError, Result};
use crate::secret::{Secret, TokenSet};

/// The keyring service name Almanac's entries are filed under.
pub const SERVICE: &str = "almanac";

/// One account's tokens in the keyring: `<account id>/refresh`,
/// `<account id>/access` (the access token with its expiry) and
/// `<account id>/destinations` (where they may be sent: see
/// [`crate::config::ProviderConfig::token_destinations`]).
#[derive(Debug, Clone)]
pub struct Vault {
    service: String,
}

impl Default for Vault {
    fn default() -> Self {
        Self::new(SERVICE)
    }
}

impl Vault {
    /// A vault under another service name (tests use their own, so they never touch
    /// a real user's entries).
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    /// Fails with [`AuthError::KeyringUnavailable`] unless an entry can be written,
    /// read back and deleted. Run before a sign-in so the user does not sign in only
    /// to find the tokens cannot be kept.
    pub fn probe(&self) -> Result<()> {
        // One entry per probe: two Almanac processes probing at once (the app and a
        // CLI command) must not delete each other's entry mid-probe.
        let e = self.entry(&format!("probe-{}", uuid::Uuid::new_v4()))?;
        twice(|| e.set_password("probe")).map_err(unavailable)?;
        let back = twice(|| e.get_password()).map_err(unavailable)?;
        twice(|| e.delete_credential()).map_err(unavailable)?;
        if back == "probe" {
            Ok(())
        } else {
            Err(AuthError::KeyringUnavailable(
                "it returned something else than was stored".into(),
            ))
        }
    }

    /// Stores a fresh sign-in's tokens.
    pub fn save(&self, account_id: &str, t: &TokenSet) -> Result<()> {
        if let Some(r) = &t.refresh_token {
            self.set_refresh(account_id, r)?;
        }
        self.set_access(account_id, &t.access_token, t.expires_at)
    }

    pub fn refresh_token(&self, account_id: &str) -> Result<Option<Secret>> {
        self.get(&format!("{account_id}/refresh"))
            .map(|v| v.map(Secret::new))
    }

    /// Replaces the refresh token: the new one is stored (and the old one gone)
    /// before anything uses it.
    pub fn set_refresh(&self, account_id: &str, token: &Secret) -> Result<()> {
        self.set(&format!("{account_id}/refresh"), token.expose())
    }

    /// The stored access token and its expiry (Unix seconds).
    pub fn access_token(&self, account_id: &str) -> Result<Option<(Secret, i64)>> {
        let Some(v) = self.get(&format!("{account_id}/access"))? else {
            return Ok(None);
        };
        Ok(v.split_once(' ')
            .and_then(|(exp, tok)| Some((Secret::new(tok), exp.parse().ok()?))))
    }

    pub fn set_access(&self, account_id: &str, token: &Secret, expires_at: i64) -> Result<()> {
        self.set(
            &format!("{account_id}/access"),
            &format!("{expires_at} {}", token.expose()),
        )
    }

    /// Forgets the access token (its grant is gone); absent is fine.
    pub fn forget_access(&self, account_id: &str) -> Result<()> {
        let entry = self.entry(&format!("{account_id}/access"))?;
        match twice(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Where the account's tokens were issued and may be sent.
    pub fn destinations(&self, account_id: &str) -> Result<Option<String>> {
        self.get(&format!("{account_id}/destinations"))
    }

    pub fn set_destinations(&self, account_id: &str, destinations: &str) -> Result<()> {
        self.set(&format!("{account_id}/destinations"), destinations)
    }

    /// Deletes the account's entries; absent entries are fine.
    pub fn delete(&self, account_id: &str) -> Result<()> {
        for kind in ["access", "refresh", "destinations"] {
            let entry = self.entry(&format!("{account_id}/{kind}"))?;
            match twice(|| entry.delete_credential()) {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(())
    }

    fn get(&self, user: &str) -> Result<Option<String>> {
        let entry = self.entry(user)?;
        match twice(|| entry.get_password()) {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, user: &str, value: &str) -> Result<()> {
        let entry = self.entry(user)?;
        twice(|| entry.set_password(value)).map_err(unavailable)
    }

    fn entry(&self, user: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, user).map_err(unavailable)
    }
}

/// How long to wait before trying a dropped call again: time for the bus to see the
/// old daemon gone and start a new one.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// One call to the Secret Service, made once more if it failed on the way (the daemon
/// dropped it: it stopped or restarted, and the bus starts it again for the next call).
/// A locked keyring or a missing entry is an answer and is not asked again. Every call
/// here may be repeated: writes replace, deletes of a gone entry say `NoEntry`.
fn twice<T>(mut call: impl FnMut() -> keyring::Result<T>) -> keyring::Result<T> {
    match call() {
        Err(keyring::Error::PlatformFailure(_)) => {
            std::thread::sleep(RETRY_AFTER);
            call()
        }
        other => other,
    }
}

fn unavailable(e: keyring::Error) -> AuthError {
    // keyring's messages name the platform failure, never the stored value.
    let why = match &e {
        keyring::Error::NoStorageAccess(_) => "the keyring is locked or not running".to_string(),
        keyring::Error::PlatformFailure(_) => format!("the Secret Service failed: {e}"),
        other => other.to_string(),
    };
    AuthError::KeyringUnavailable(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn dropped() -> keyring::Error {
        keyring::Error::PlatformFailure("Message recipient disconnected from message bus".into())
    }

    #[test]
    fn a_dropped_call_is_made_once_more() {
        let calls = Cell::new(0);
        let got = twice(|| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                Err(dropped())
            } else {
                Ok(7)
            }
        });
        assert_eq!(got.ok(), Some(7));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_call_dropped_twice_is_reported() {
        let calls = Cell::new(0);
        let got: keyring::Result<()> = twice(|| {
            calls.set(calls.get() + 1);
            Err(dropped())
        });
        assert!(matches!(got, Err(keyring::Error::PlatformFailure(_))));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_locked_keyring_or_a_missing_entry_is_an_answer() {
        for answer in [
            keyring::Error::NoStorageAccess("locked".into()),
            keyring::Error::NoEntry,
        ] {
            let calls = Cell::new(0);
            let got: keyring::Result<()> = twice(|| {
                calls.set(calls.get() + 1);
                Err(match &answer {
                    keyring::Error::NoEntry => keyring::Error::NoEntry,
                    _ => keyring::Error::NoStorageAccess("locked".into()),
                })
            });
            assert!(got.is_err());
            assert_eq!(calls.get(), 1, "{answer}");
        }
    }
}
