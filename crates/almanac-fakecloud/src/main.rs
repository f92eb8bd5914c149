//! `almanac-fakecloud --port N`: runs the fake cloud on 127.0.0.1, prints
//! `{"base_url":"http://127.0.0.1:PORT"}` on one line once listening, and serves until
//! SIGINT or SIGTERM.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use almanac_fakecloud::FakeCloud;
use clap::Parser;

/// Fake Microsoft identity platform + Google OAuth server for Almanac's tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 (0 = an ephemeral port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let cloud = match FakeCloud::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await
    {
        Ok(cloud) => cloud,
        Err(e) => {
            eprintln!(
                "almanac-fakecloud: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let stop = shutdown_signal();
    let line = serde_json::json!({ "base_url": cloud.base_url() });
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    stop.await;
    cloud.stop().await;
    ExitCode::SUCCESS
}

/// Registers the SIGINT/SIGTERM handlers now (before the address is printed, so a
/// test that signals right after reading it cannot kill the process unhandled) and
/// returns a future that completes on the first of them.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
