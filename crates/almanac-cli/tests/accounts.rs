//! `almanac accounts …` end to end: the real binary signing in through a stand-in
//! browser ($BROWSER) against a real, independent authorization server
//! (oidc-provider, tests/oauth-server) and the project's fake cloud, with tokens in
//! a real Secret Service. Run under `scripts/with-keyring` (scripts/test does).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use almanac_fakecloud::{ConfigUpdate, FakeCloud, FaultsUpdate};
use serde_json::Value;

mod support;

use support::{fake_config, root, Env, CANARY};

/// The oidc-provider server of tests/oauth-server, stopped on drop.
struct OidcServer {
    child: Child,
    endpoints: Value,
    log: PathBuf,
}

impl OidcServer {
    fn start(email: &str, log: PathBuf) -> Self {
        let dir = root().join("tests/oauth-server");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "run `npm ci` in tests/oauth-server (scripts/test does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .env("OIDC_ACCOUNT_EMAIL", email)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("start node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let endpoints = serde_json::from_str(&line).expect("server line");
        Self {
            child,
            endpoints,
            log,
        }
    }

    fn endpoint(&self, key: &str) -> &str {
        self.endpoints[key].as_str().expect("endpoint")
    }

    fn token_requests(&self, grant: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with(&format!("token grant_type={grant} ")))
            .count()
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn google_sign_in_against_a_real_oidc_provider() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let email = "casey.cli@example.test";
    let server = OidcServer::start(email, scratch.path().join("server.log"));
    let env = Env::new(&format!(
        "[google]\nclient_id = \"almanac-desktop\"\nclient_secret = \"almanac-desktop-not-secret\"\n\
         auth_url = \"{}\"\ntoken_url = \"{}\"\nrevoke_url = \"{}\"\n",
        server.endpoint("authorization_endpoint"),
        server.endpoint("token_endpoint"),
        server.endpoint("revocation_endpoint"),
    ));
    let account = env.json(&["--json", "accounts", "add", "google", "--timeout", "60"]);
    assert_eq!(account["email"], email);
    assert_eq!(account["provider"], "google");
    assert_eq!(account["status"], "connected");
    assert_eq!(server.token_requests("authorization_code"), 1);
    let log = std::fs::read_to_string(env.dir.path().join("browser.log")).unwrap_or_default();
    assert!(log.contains("status=200 path=/callback/google"), "{log}");

    let list = env.json(&["--json", "accounts", "list"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    // A check asks the server for a fresh access token with the refresh token.
    let checked = env.json(&["--json", "accounts", "check"]);
    assert_eq!(checked[0]["ok"], true);
    assert_eq!(server.token_requests("refresh_token"), 1);

    let id = account["id"].as_str().expect("id");
    // The real tokens the server issued (read from the keyring, where they live) are
    // in nothing the CLI printed and in no database, WAL or shm file.
    let vault = almanac_auth::Vault::default();
    let refresh = vault
        .refresh_token(id)
        .expect("keyring")
        .expect("refresh token");
    let (access, _) = vault
        .access_token(id)
        .expect("keyring")
        .expect("access token");
    env.assert_absent(refresh.expose());
    env.assert_absent(access.expose());
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(!log.contains(refresh.expose()) && !log.contains(access.expose()));
    let removed = env.json(&["--json", "accounts", "remove", id]);
    assert_eq!(removed["revoked"], "revoked");
    assert_eq!(
        env.json(&["--json", "accounts", "list"]),
        serde_json::json!([])
    );
    assert!(
        vault.refresh_token(id).expect("keyring").is_none(),
        "keyring entries deleted"
    );
    env.assert_absent(refresh.expose());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_lost_grant_and_removal_through_the_cli_leave_no_token_behind() {
    let cloud = FakeCloud::start().await.expect("fake cloud");
    let state = cloud.state();
    state
        .update_config(ConfigUpdate {
            token_prefix: Some(CANARY.into()),
            ..ConfigUpdate::default()
        })
        .expect("config");
    let env = Env::new(&fake_config(&cloud.base_url()));
    let account = tokio::task::block_in_place(|| {
        env.json(&["--json", "accounts", "add", "microsoft", "--timeout", "60"])
    });
    assert_eq!(account["email"], "adele@contoso.example");
    let id = account["id"].as_str().expect("id").to_string();

    // A check asks the provider, even with an access token valid for an hour: a
    // cached token proves nothing about the grant.
    let checked = tokio::task::block_in_place(|| env.json(&["--json", "accounts", "check"]));
    assert_eq!(checked[0]["ok"], true, "{checked}");
    assert_eq!(state.stats().total.token.refresh_token, 1);

    // The grant is revoked at the provider: Action required, exit code 1, no loop,
    // and the account stays.
    let f: FaultsUpdate = serde_json::from_value(serde_json::json!({
        "token_error": {"provider": "microsoft", "error": "invalid_grant", "count": 100}
    }))
    .expect("fault");
    state.set_faults(f).expect("faults");
    let o = tokio::task::block_in_place(|| env.run(&["--json", "accounts", "check"]));
    assert_eq!(o.status.code(), Some(1));
    let checked: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(checked[0]["error"]["code"], "action_required");
    assert_eq!(checked[0]["account"]["status"], "action_required");
    assert_eq!(state.stats().total.token.refresh_token, 2);
    let list = tokio::task::block_in_place(|| env.run(&["accounts", "list"]));
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("Action required"), "{text}");

    let removed = tokio::task::block_in_place(|| env.json(&["--json", "accounts", "remove", &id]));
    assert_eq!(removed["revoked"], "not_supported");
    env.assert_no_leak();
}

#[test]
fn without_a_keyring_sign_in_stops_before_the_browser_with_a_fix() {
    let env = Env::new(&fake_config("http://127.0.0.1:9"));
    let marker = env.dir.path().join("browser-opened");
    let mut c = env.command(&["accounts", "add", "google"]);
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("BROWSER", format!("touch {}", marker.display()));
    let o = env.run_with(c);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keyring") && err.contains("gnome-keyring"),
        "{err}"
    );
    assert!(err.contains("never written to a plain file"), "{err}");
    assert!(!marker.exists(), "the browser must not open");
}

#[test]
fn a_sign_in_waiting_for_the_browser_holds_nothing() {
    let env = Env::new(&fake_config("http://127.0.0.1:9"));
    let marker = env.dir.path().join("browser-opened");
    let mut c = env.command(&["accounts", "add", "microsoft", "--timeout", "30"]);
    c.env("BROWSER", format!("touch {}", marker.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut waiting = c.spawn().expect("spawn");
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(started.elapsed().as_secs() < 20, "the browser never opened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Other commands use the data directory meanwhile (they waited for the whole
    // sign-in, up to 5 minutes, and then failed).
    let listed = env.run(&["accounts", "list"]);
    let events = env.run(&[
        "events",
        "list",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-02",
    ]);
    let _ = waiting.kill();
    let _ = waiting.wait();
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(
        events.status.success(),
        "{}",
        String::from_utf8_lossy(&events.stderr)
    );
}

#[test]
fn configuration_problems_are_explained() {
    let env = Env::new("");
    let o = env.run(&["accounts", "add", "google"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("[google]") && err.contains("config.toml"),
        "{err}"
    );

    let env =
        Env::new("[microsoft]\nclient_id = \"x\"\nauthority = \"http://login.example.com\"\n");
    let o = env.run(&["--json", "accounts", "add", "microsoft"]);
    assert_eq!(o.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&o.stderr).expect("json error");
    assert_eq!(err["code"], "config");
    assert!(
        err["message"].as_str().unwrap_or("").contains("https"),
        "{err}"
    );

    let o = env.run(&["accounts", "remove", "no-such-id"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("accounts list"));
}
