//! What the CLI end-to-end tests share: the real `almanac` binary run in a scratch
//! data directory with a config file, and leak sweeps over what it printed and left.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_almanac");
pub const CANARY: &str = "CANARYcli";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn browser() -> PathBuf {
    root().join("tests/oauth-server/browser.py")
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub transcript: std::cell::RefCell<String>,
}

impl Env {
    pub fn new(config_text: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, config_text).expect("config");
        std::fs::create_dir(dir.path().join("data")).expect("data dir");
        Self {
            dir,
            config,
            transcript: Default::default(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env("ALMANAC_CONFIG", &self.config)
            .env("BROWSER", browser())
            .env("BROWSER_LOG", self.dir.path().join("browser.log"));
        c
    }

    pub fn run_with(&self, mut c: Command) -> Output {
        let o = c.output().expect("run almanac");
        let mut t = self.transcript.borrow_mut();
        t.push_str(&String::from_utf8_lossy(&o.stdout));
        t.push_str(&String::from_utf8_lossy(&o.stderr));
        o
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(self.command(args))
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "almanac {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("json output")
    }

    /// No canary token in anything the CLI printed or left in the data directory
    /// (database, WAL, shm).
    pub fn assert_no_leak(&self) {
        self.assert_absent(CANARY);
    }

    /// `secret` appears in nothing the CLI printed and in no file of the data directory.
    pub fn assert_absent(&self, secret: &str) {
        assert!(secret.len() >= 8, "too short to sweep for");
        assert!(
            !self.transcript.borrow().contains(secret),
            "a token reached the output"
        );
        for entry in std::fs::read_dir(self.data()).expect("data dir") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token leaked into {}",
                path.display()
            );
        }
    }
}

/// A config file pointing both providers' sign-in and APIs at the fake cloud.
pub fn fake_config(base: &str) -> String {
    format!(
        "[microsoft]\nclient_id = \"{}\"\nauthority = \"{base}\"\ngraph_url = \"{base}/v1.0\"\n\
         [google]\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
         auth_url = \"{base}/o/oauth2/v2/auth\"\ntoken_url = \"{base}/token\"\nrevoke_url = \"{base}/revoke\"\n\
         calendar_url = \"{base}/calendar/v3\"\n",
        almanac_fakecloud::state::DEFAULT_MICROSOFT_CLIENT_ID,
        almanac_fakecloud::state::DEFAULT_GOOGLE_CLIENT_ID,
        almanac_fakecloud::state::DEFAULT_GOOGLE_CLIENT_SECRET,
    )
}
