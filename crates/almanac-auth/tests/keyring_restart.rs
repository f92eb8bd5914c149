//! The test harness's Secret Service comes back, unlocked and with what it kept, when
//! its daemon stops (`scripts/secret-service.sh`): CI once lost gnome-keyring mid-run
//! and every later keyring test failed. It also exercises [`Vault`]'s second try of a
//! dropped call. Run only under `scripts/with-keyring`: it stops that session's daemon,
//! and that is the only test in this binary, so no other test loses a call to it.

use std::process::Command;
use std::time::{Duration, Instant};

use almanac_auth::{Secret, Vault};

/// The process that owns the Secret Service's name on the session bus.
fn secret_service_pid() -> u32 {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text}"))
}

#[test]
fn tokens_survive_the_secret_service_stopping() {
    // Only the harness's own daemon (its directory logs the starts): never a desktop's.
    let session = std::env::var_os("ALMANAC_KEYRING_SESSION")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.join("starts").is_file());
    assert!(
        session.is_some(),
        "run this through scripts/with-keyring: it stops the session's Secret Service"
    );
    let vault = Vault::new(&format!("almanac-test-{}", uuid::Uuid::new_v4()));
    vault.probe().expect("a Secret Service");
    vault
        .set_refresh("acct", &Secret::new("refresh-1"))
        .expect("store");
    let before = secret_service_pid();

    let stopped = Command::new("kill")
        .args(["-TERM", &before.to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let started = Instant::now();
    while std::path::Path::new(&format!("/proc/{before}")).exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "daemon still running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let back = vault
        .refresh_token("acct")
        .expect("the keyring after the restart")
        .expect("the token kept");
    assert_eq!(back.expose(), "refresh-1");
    assert_ne!(secret_service_pid(), before, "a new daemon");
    vault.delete("acct").expect("delete");
    assert!(vault.refresh_token("acct").expect("read").is_none());
}
