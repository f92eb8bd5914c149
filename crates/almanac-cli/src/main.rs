//! `almanac`: the command line over the same model and store as the desktop app.
//! Exit codes: 0 ok, 1 the command failed, 2 usage error (from clap).

mod accounts_cmd;
mod args;
mod error;
mod events_cmd;
mod ics_export;
mod ics_import;
mod ics_people;
mod ics_text;
mod ics_vtimezone;
mod ics_zones;
mod output;
mod sync_cmd;
mod zone;

use std::process::ExitCode;
use std::time::Duration;

use almanac_store::{DataDir, Store};
use chrono::{DateTime, Utc};
use clap::Parser;

use crate::args::{AccountsCmd, CalendarsCmd, Cli, Command, ConflictsCmd, DbCmd, EventsCmd};
use crate::error::CliResult;

/// The desktop app's allocator (see its `main.rs`): the daemon and `almanac sync` run
/// the same engine.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What every command gets besides its own arguments.
#[derive(Debug)]
pub struct Ctx {
    pub json: bool,
    /// `--tz` as given (not `$TZ`): the zone for dates on the command line.
    pub tz: Option<String>,
    /// Read once per run.
    pub now: DateTime<Utc>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let ctx = Ctx {
        json: cli.json,
        tz: cli.tz.clone(),
        now: Utc::now(),
    };
    match run(cli, &ctx) {
        Ok(code) => code,
        Err(e) => {
            error::report(&e, ctx.json);
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refuses: with `--json` anywhere in it, as `{code, message}` on
/// stderr like every other error (a script reading stderr as JSON got clap's text);
/// else clap's own text. Exit code 2 either way; help and version as clap prints them.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let wants_json = std::env::args_os().skip(1).any(|a| a == "--json");
    let shows_help = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if shows_help || !wants_json {
        let _ = e.print();
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    // clap's words up to its usage lines: the error and what it names.
    let text = e.render().to_string();
    let said: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect();
    let joined = said.join(" ");
    let message = joined.strip_prefix("error: ").unwrap_or(&joined);
    error::report(
        &almanac_model::AppError::new(
            almanac_model::ErrorCode::InvalidInput,
            format!("{message} (see `almanac --help`)"),
        ),
        true,
    );
    ExitCode::from(2)
}

fn open_store(cli: &Cli) -> CliResult<Store> {
    open_store_within(cli, LOCK_WAIT)
}

fn data_path(cli: &Cli) -> CliResult<std::path::PathBuf> {
    Ok(match &cli.data_dir {
        Some(p) => p.clone(),
        None => DataDir::default_path()?,
    })
}

fn open_store_within(cli: &Cli, wait: Duration) -> CliResult<Store> {
    // A command run alongside another (a script's `&`) waits its turn; one run while
    // the desktop app or the daemon holds the directory is refused after the wait.
    Ok(Store::open(DataDir::lock_within(&data_path(cli)?, wait)?)?)
}

/// For a command that only looks: the data directory as usual, or, while the app or
/// the daemon holds it, its database read-only beside them.
fn open_for_reading(cli: &Cli) -> CliResult<Store> {
    match open_store_within(cli, Duration::ZERO) {
        Err(e) if e.code == almanac_model::ErrorCode::Locked => Ok(Store::open_read_only(
            DataDir::for_reading(&data_path(cli)?)?,
        )?),
        other => other,
    }
}

/// Commands that never write (`events list` may: it extends the occurrence index).
fn only_reads(command: &Command) -> bool {
    matches!(
        command,
        Command::Status(_)
            | Command::Log(_)
            | Command::Conflicts(ConflictsCmd::List(_) | ConflictsCmd::Show(_))
            | Command::Accounts(AccountsCmd::List)
            | Command::Calendars(CalendarsCmd::List)
            | Command::Db(DbCmd::Check)
    )
}

/// How long a command waits for another process to let go of the data directory.
const LOCK_WAIT: Duration = Duration::from_secs(3);

fn run(cli: Cli, ctx: &Ctx) -> CliResult<ExitCode> {
    // An explicit but unknown --tz is an error before anything is opened.
    zone::local_zone(ctx.tz.as_deref())?;
    // A sign-in waits minutes for the browser: it holds the data directory only to
    // record the account, not while it waits.
    if let Command::Accounts(AccountsCmd::Add(a)) = &cli.command {
        accounts_cmd::add(|wait| open_store_within(&cli, wait), ctx, a)?;
        return Ok(ExitCode::SUCCESS);
    }
    // Reads its file first: the file may be another command's output on this directory.
    if let Command::Import(a) = &cli.command {
        ics_import::import(|| open_store(&cli), ctx, a)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut store = if only_reads(&cli.command) {
        open_for_reading(&cli)?
    } else {
        open_store(&cli)?
    };
    match &cli.command {
        Command::Accounts(AccountsCmd::Add(_)) => {} // above
        Command::Accounts(AccountsCmd::List) => accounts_cmd::list(&store, ctx)?,
        Command::Accounts(AccountsCmd::Remove(a)) => {
            accounts_cmd::remove(store, ctx, &a.id, a.discard_unpushed)?
        }
        Command::Accounts(AccountsCmd::Check(a)) => {
            if !accounts_cmd::check(&mut store, ctx, a)? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Calendars(CalendarsCmd::List) => {
            let calendars = store.list_calendars()?;
            if ctx.json {
                output::json(&calendars)?;
            } else {
                for c in &calendars {
                    output::line(&output::calendar_line(c))?;
                }
            }
        }
        Command::Calendars(CalendarsCmd::Policy(a)) => sync_cmd::set_policy(&mut store, ctx, a)?,
        Command::Calendars(CalendarsCmd::ConfirmDeletions(a)) => {
            sync_cmd::confirm_deletions(&mut store, ctx, &a.id)?
        }
        Command::Sync(a) => {
            if !sync_cmd::sync(store, ctx, a)? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Status(a) => {
            if !sync_cmd::status(&store, ctx)? && a.check {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Conflicts(ConflictsCmd::List(a)) => sync_cmd::conflicts_list(&store, ctx, a)?,
        Command::Conflicts(ConflictsCmd::Show(a)) => sync_cmd::conflicts_show(&store, ctx, &a.id)?,
        Command::Conflicts(ConflictsCmd::Resolve(a)) => sync_cmd::conflicts_resolve(store, ctx, a)?,
        Command::Log(a) => sync_cmd::log(&store, ctx, a)?,
        Command::Daemon(a) => sync_cmd::daemon(store, ctx, a)?,
        Command::Events(EventsCmd::List(a)) => events_cmd::list(&mut store, ctx, a)?,
        Command::Events(EventsCmd::Add(a)) => events_cmd::add(&mut store, ctx, a)?,
        Command::Events(EventsCmd::Edit(a)) => events_cmd::edit(&mut store, ctx, a)?,
        Command::Events(EventsCmd::Rm(a)) => events_cmd::rm(&mut store, ctx, a)?,
        Command::Export(a) => ics_export::export(&mut store, ctx, a)?,
        Command::Import(_) => {} // above
        Command::Db(DbCmd::Check) => {
            let problems = store.check()?;
            if ctx.json {
                output::json(
                    &serde_json::json!({ "ok": problems.is_empty(), "problems": problems }),
                )?;
            } else if problems.is_empty() {
                output::line("ok")?;
            } else {
                for p in &problems {
                    output::line(p)?;
                }
            }
            if !problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
