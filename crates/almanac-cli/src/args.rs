//! Command-line grammar (clap derive). No behaviour here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "almanac",
    version,
    about = "Almanac from the command line: list, add, edit and remove events; import and export iCalendar files; connect Microsoft 365 and Google accounts, sync them, see their status and log, and answer conflicts.",
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    /// Data directory (default: $ALMANAC_DATA_DIR, else $XDG_DATA_HOME/almanac).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Machine-readable output: JSON on stdout, errors as {"code","message"} on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    /// IANA time zone for reading and showing dates and times (default: $TZ, else the
    /// system zone). For `events add` it is also the event's zone; for `events edit` it
    /// moves the event to that zone (keeping its wall-clock times).
    #[arg(long, global = true, value_name = "ZONE")]
    pub tz: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Calendars.
    #[command(subcommand)]
    Calendars(CalendarsCmd),
    /// Events.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Write events to an iCalendar (.ics) file.
    Export(ExportArgs),
    /// Read events from an iCalendar (.ics) file (all or nothing).
    Import(ImportArgs),
    /// Database maintenance.
    #[command(subcommand)]
    Db(DbCmd),
    /// Microsoft 365 and Google accounts (configured in the config file; see README).
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// Sync connected accounts once: pull each calendar's changes, then push local
    /// ones; prints a summary. Exit code 1 if an account failed.
    Sync(SyncArgs),
    /// Each account's sync health: last success, last attempt, errors, pending pushes,
    /// open conflicts, calendars stopped by the deletion guard.
    Status(StatusArgs),
    /// Events changed on both sides: list, show, resolve.
    #[command(subcommand)]
    Conflicts(ConflictsCmd),
    /// What recent sync runs did, change by change.
    Log(LogArgs),
    /// Keep syncing in the background until interrupted (Ctrl-C / SIGTERM): every
    /// account on an interval with jitter, backing off after failures, quiet while
    /// offline. Prints one line per run. (The desktop app runs the same loop itself.)
    Daemon(DaemonArgs),
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Seconds between runs of a healthy account.
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this account (default: every account).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit code 1 when an account needs you or its sync is failing (for scripts and
    /// monitoring; reads only what the last runs recorded, no network).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// How many runs to show, newest first.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Only this account.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Changes shown per run; the rest are counted (`--run` shows them all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub changes: u32,
    /// Only this run (its number in the log), with every change.
    #[arg(long, value_name = "ID", conflicts_with_all = ["account", "limit"])]
    pub run: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum ConflictsCmd {
    /// Open conflicts (with --all, resolved ones too).
    List(ConflictListArgs),
    /// Every version of one conflict, field by field.
    Show(ConflictIdArg),
    /// Settle a conflict: keep the local version, the provider's, both (a copy), or
    /// pick per field with --field FIELD=local|remote (repeatable).
    Resolve(ConflictResolveArgs),
}

#[derive(Debug, Args)]
pub struct ConflictListArgs {
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ConflictIdArg {
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeepArg {
    Local,
    Remote,
    Both,
}

#[derive(Debug, Args)]
pub struct ConflictResolveArgs {
    pub id: String,
    #[arg(
        long,
        value_name = "SIDE",
        required_unless_present = "field",
        conflicts_with = "field"
    )]
    pub keep: Option<KeepArg>,
    /// FIELD=local or FIELD=remote, e.g. --field title=remote --field location=local.
    #[arg(long, value_name = "FIELD=SIDE")]
    pub field: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCmd {
    /// Sign in to an account in the browser and keep its tokens in the OS keyring.
    Add(AccountAddArgs),
    /// List accounts with their status.
    List,
    /// Disconnect an account: revoke where the provider supports it, delete its tokens
    /// and its local copy. Events at the provider are not touched. Refused while changes
    /// made here wait to be sent, unless --discard-unpushed.
    Remove(AccountRemoveArgs),
    /// Check that accounts can still get access (refreshing tokens as needed); exit
    /// code 1 if one needs action.
    Check(AccountCheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    Microsoft,
    Google,
}

#[derive(Debug, Args)]
pub struct AccountAddArgs {
    pub provider: ProviderArg,
    /// Give up waiting for the browser after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct AccountRemoveArgs {
    pub id: String,
    /// Discard the account's changes that were not sent yet.
    #[arg(long)]
    pub discard_unpushed: bool,
}

#[derive(Debug, Args)]
pub struct AccountCheckArgs {
    /// Only this account (default: all).
    pub id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CalendarsCmd {
    /// List calendars.
    List,
    /// Set how a synced calendar settles conflicts: ask (default), prefer-local,
    /// prefer-remote, keep-both.
    Policy(CalendarPolicyArgs),
    /// Let a calendar stopped by the deletion guard apply the deletions on its next
    /// sync (after checking at the provider that they are meant).
    ConfirmDeletions(CalendarIdArg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    Ask,
    PreferLocal,
    PreferRemote,
    KeepBoth,
}

#[derive(Debug, Args)]
pub struct CalendarPolicyArgs {
    pub id: String,
    pub policy: PolicyArg,
}

#[derive(Debug, Args)]
pub struct CalendarIdArg {
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Check the database's integrity; exit code 1 if there are problems.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// List the occurrences in a date range (repeating events expanded).
    List(ListArgs),
    /// Add an event; prints its id.
    Add(AddArgs),
    /// Change only the given fields of an event, a series or one occurrence.
    Edit(EditArgs),
    /// Remove an event, a whole series, or one occurrence.
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// First day (YYYY-MM-DD, in the local zone) or an RFC 3339 instant.
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Last day, inclusive (YYYY-MM-DD), or an RFC 3339 instant (exclusive).
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Only these calendars (repeatable).
    #[arg(long = "calendar", value_name = "ID")]
    pub calendars: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowAsArg {
    Busy,
    Free,
    Tentative,
    Oof,
    #[value(name = "workingElsewhere", alias = "working-elsewhere")]
    WorkingElsewhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportanceArg {
    Low,
    Normal,
    High,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    #[arg(long)]
    pub title: String,
    /// YYYY-MM-DDTHH:MM (wall time in the event's zone), an RFC 3339 instant, or
    /// YYYY-MM-DD with --all-day.
    #[arg(long)]
    pub start: String,
    /// As --start (default: one hour, or one day, after it). All-day: exclusive date.
    #[arg(long)]
    pub end: Option<String>,
    #[arg(long)]
    pub all_day: bool,
    /// Calendar id.
    #[arg(long, default_value = almanac_model::LOCAL_CALENDAR_ID, value_name = "ID")]
    pub calendar: String,
    /// Repeat rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10.
    #[arg(long, value_name = "RULE")]
    pub rrule: Option<String>,
    /// Skip the occurrence starting at this wall time (repeatable).
    #[arg(long = "exdate", value_name = "X", requires = "rrule")]
    pub exdates: Vec<String>,
    /// Add an occurrence at this wall time (repeatable).
    #[arg(long = "rdate", value_name = "X", requires = "rrule")]
    pub rdates: Vec<String>,
    #[arg(long, default_value = "")]
    pub location: String,
    #[arg(long, default_value = "")]
    pub description: String,
    #[arg(long, value_enum, default_value = "busy")]
    pub show_as: ShowAsArg,
    #[arg(long, value_enum, default_value = "normal")]
    pub importance: ImportanceArg,
    /// Category (repeatable).
    #[arg(long = "category", value_name = "C")]
    pub categories: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// Event id (as printed by `events list`).
    pub id: String,
    /// Edit only the occurrence of a series that originally started at this wall time.
    #[arg(long, value_name = "ORIGINAL_START")]
    pub occurrence: Option<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// Make it an all-day event (dates are taken from the start if not given).
    #[arg(long, conflicts_with = "timed")]
    pub all_day: bool,
    /// Make it a timed event (give --start and --end).
    #[arg(long)]
    pub timed: bool,
    /// Move to another calendar.
    #[arg(long, value_name = "ID")]
    pub calendar: Option<String>,
    /// Set the repeat rule (makes the event a series).
    #[arg(long, value_name = "RULE", conflicts_with = "no_rrule")]
    pub rrule: Option<String>,
    /// Stop repeating (the series' changed occurrences are dropped).
    #[arg(long)]
    pub no_rrule: bool,
    /// Add a skipped occurrence (repeatable).
    #[arg(long = "exdate", value_name = "X")]
    pub exdates: Vec<String>,
    /// Add an extra occurrence (repeatable).
    #[arg(long = "rdate", value_name = "X")]
    pub rdates: Vec<String>,
    #[arg(long)]
    pub location: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, value_enum)]
    pub show_as: Option<ShowAsArg>,
    #[arg(long, value_enum)]
    pub importance: Option<ImportanceArg>,
    /// Replace the categories (repeatable).
    #[arg(long = "category", value_name = "C")]
    pub categories: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Event id.
    pub id: String,
    /// Remove only the occurrence of a series that originally started at this wall time.
    #[arg(long, value_name = "ORIGINAL_START")]
    pub occurrence: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub ics: PathBuf,
    /// Only these calendars (repeatable).
    #[arg(long = "calendar", value_name = "ID")]
    pub calendars: Vec<String>,
    /// Events with an occurrence from this day on (default: five years ago).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// ...up to this day, inclusive (default: five years ahead).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The .ics file to read (at most 10 MiB and 10,000 events).
    #[arg(long, value_name = "FILE")]
    pub ics: PathBuf,
    /// Calendar to import into.
    #[arg(long, default_value = almanac_model::LOCAL_CALENDAR_ID, value_name = "ID")]
    pub calendar: String,
}
