//! Token values. They print as `[redacted]`, cannot be serialised, and are read only
//! through [`Secret::expose`], so a token cannot reach a log, the database or IPC by
//! accident.

/// A token or other credential. Deliberately not `Serialize`, not `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header or form).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What the token endpoint gave us for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    pub access_token: Secret,
    /// Unix seconds after which the access token is no longer accepted.
    pub expires_at: i64,
    pub refresh_token: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let t = TokenSet {
            access_token: Secret::new("canary-access"),
            expires_at: 1,
            refresh_token: Some(Secret::new("canary-refresh")),
        };
        let shown = format!("{t:?} {t:#?}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
