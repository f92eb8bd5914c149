//! A fresh store with one account signed in, for the tests that sync against the fake
//! cloud.

use std::sync::Mutex;

use almanac_model::Provider;
use almanac_store::{SignedIn, Store};
use chrono::{DateTime, Utc};

/// A new store with `email` signed in to `provider` at `at`: (its directory, to keep
/// while the store is used; the store; the account id).
pub fn signed_in(
    provider: Provider,
    email: &str,
    at: DateTime<Utc>,
) -> (tempfile::TempDir, Mutex<Store>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open_at(dir.path()).expect("store");
    let (account, _) = store
        .record_sign_in(
            &SignedIn {
                provider,
                subject: format!("test-{email}"),
                email: email.into(),
                display_name: "Test".into(),
                authority: "https://login.example".into(),
            },
            at.timestamp(),
        )
        .expect("sign in");
    (dir, Mutex::new(store), account.id)
}
