//! Opening the system browser (RFC 8252 §5: never an embedded web view).

use std::process::{Command, Stdio};

use crate::error::{AuthError, Result};

/// Opens `url` in the user's browser. `$BROWSER` wins when set (a `:`-separated list
/// of commands, `%s` standing for the URL, as xdg-utils and Python's webbrowser read
/// it) — which is also how tests play the browser; otherwise the platform opener.
pub fn open(url: &str) -> Result<()> {
    if let Some(list) = std::env::var_os("BROWSER").filter(|v| !v.is_empty()) {
        let list = list.to_string_lossy().into_owned();
        let mut last = String::from("no command in $BROWSER");
        for cmd in list.split(':').filter(|c| !c.trim().is_empty()) {
            match spawn(cmd, url) {
                Ok(()) => return Ok(()),
                Err(e) => last = format!("{}: {e}", cmd.trim()),
            }
        }
        return Err(AuthError::Browser(format!("$BROWSER failed ({last})")));
    }
    ::open::that_detached(url).map_err(|e| AuthError::Browser(e.to_string()))
}

fn spawn(cmd: &str, url: &str) -> std::io::Result<()> {
    let mut words = cmd.split_whitespace();
    let program = words.next().unwrap_or_default();
    let mut args: Vec<String> = words.map(|w| w.replace("%s", url)).collect();
    if !cmd.contains("%s") {
        args.push(url.to_string());
    }
    Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|mut child| {
            // Reap it when it exits; browsers usually hand off and exit at once.
            std::thread::spawn(move || child.wait());
        })
}
