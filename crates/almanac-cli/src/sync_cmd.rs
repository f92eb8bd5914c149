//! `almanac sync`, `status`, `conflicts …`, `log`, and the calendar sync settings.

use std::sync::{Arc, Mutex};

use almanac_auth::{AuthConfig, Credentials, Vault};
use almanac_model::{AccountStatus, AppError, ErrorCode};
use almanac_store::{ConflictRecord, Store, SyncStatus};
use almanac_sync::{parse_pick, per_field, provider_for, resolve_conflict, Choice, RunSummary};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::args::{
    CalendarPolicyArgs, ConflictListArgs, ConflictResolveArgs, DaemonArgs, KeepArg, LogArgs,
    PolicyArg, SyncArgs,
};
use crate::error::CliResult;
use crate::{output, Ctx};

/// Two workers, as the daemon: the next page's request proceeds while a page is
/// being stored.
fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("Could not start: {e}")))
}

fn when(t: Option<i64>) -> String {
    t.and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map_or_else(
            || "never".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        )
}

/// One sync run per account; false if one failed.
pub fn sync(store: Store, ctx: &Ctx, a: &SyncArgs) -> CliResult<bool> {
    let accounts = match &a.account {
        Some(id) => vec![store.account(id)?],
        None => store.list_accounts()?,
    };
    if accounts.is_empty() {
        if ctx.json {
            output::json(&Vec::<RunSummary>::new())?;
            return Ok(true);
        }
        output::line(
            "No accounts to sync. Connect one with `almanac accounts add microsoft|google`.",
        )?;
        return Ok(true);
    }
    let creds = Arc::new(Credentials::new(AuthConfig::load()?, Vault::default())?);
    let store = Mutex::new(store);
    let rt = runtime()?;
    let clock = Utc::now;
    let mut summaries = Vec::new();
    let mut all_ok = true;
    for account in accounts {
        // An account whose client cannot be made (its provider's section missing from
        // the settings, say) fails alone, on record as the daemon records it: the
        // others still sync, and `--json` still prints every summary.
        let summary = match provider_for(&account, creds.config(), creds.clone()) {
            Ok((provider, opts)) => rt.block_on(almanac_sync::sync_account(
                &store,
                provider.as_ref(),
                &account.id,
                &opts,
                &clock,
            ))?,
            Err(e) => almanac_sync::record_unstarted(&store, &account.id, clock(), &e)?,
        };
        if let Some(e) = &summary.error {
            if e.code == ErrorCode::ActionRequired {
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                s.set_account_status(
                    &account.id,
                    AccountStatus::ActionRequired,
                    Some(e.code.as_str()),
                    Some(&e.message),
                )?;
            }
        }
        all_ok &= summary.outcome == "ok";
        if !ctx.json {
            for l in summary_lines(&account.label(), &summary) {
                output::line(&l)?;
            }
        }
        summaries.push(summary);
    }
    if ctx.json {
        output::json(&summaries)?;
    }
    Ok(all_ok)
}

/// Every account's [`almanac_model::Account::label`], by id.
fn account_names(store: &Store) -> CliResult<std::collections::HashMap<String, String>> {
    Ok(store
        .list_accounts()?
        .into_iter()
        .map(|a| (a.id.clone(), a.label()))
        .collect())
}

/// A run's summary in words: the account's line, then one per calendar with news.
fn summary_lines(email: &str, s: &RunSummary) -> Vec<String> {
    let mut lines = vec![format!(
        "{email}: {} — {} pulled, {} pushed, {} conflict{}",
        s.outcome,
        s.pulled,
        s.pushed,
        s.conflicts,
        if s.conflicts == 1 { "" } else { "s" }
    )];
    for c in &s.calendars {
        // Names come from the provider: one line each, whatever they hold.
        let name = output::one_line(&c.name);
        if let Some(h) = c.held {
            lines.push(format!(
                "  {name}: stopped — the provider's listing would delete {} of its {} events. Check the calendar at the provider, then run `almanac calendars confirm-deletions {}`.",
                h.would_delete, h.total, c.calendar_id
            ));
        } else if let Some(e) = &c.error {
            lines.push(format!("  {name}: {}", output::one_line(&e.message)));
        } else if c.pulled + c.pushed + c.conflicts + c.skipped > 0 {
            lines.push(format!(
                "  {name}: {} pulled, {} pushed, {} conflicts{}",
                c.pulled,
                c.pushed,
                c.conflicts,
                if c.skipped > 0 {
                    format!(", {} not kept (see `almanac log`)", c.skipped)
                } else {
                    String::new()
                }
            ));
        }
    }
    if let Some(e) = &s.error {
        lines.push(format!("  {}", output::one_line(&e.message)));
    }
    lines
}

/// An account's state in words, what the user has to do first, an error time mends
/// last; and whether it is well (nothing failing, nobody needed).
fn account_state(s: &SyncStatus) -> (&'static str, bool) {
    let code = s.last_error_code.as_deref().map(|c| {
        serde_json::from_value::<ErrorCode>(Value::from(c)).unwrap_or(ErrorCode::Internal)
    });
    match (s.status.as_str(), code) {
        ("action_required", _) => (
            "Action required — sign in again (`almanac accounts add`)",
            false,
        ),
        ("paused", _) => ("Paused", true),
        _ if !s.held_calendars.is_empty() => (
            "Stopped — a calendar waits for you to confirm its deletions (below)",
            false,
        ),
        (_, Some(ErrorCode::Offline)) => ("Offline — syncs again when the network is back", false),
        (_, Some(c)) if !almanac_sync::passes_with_time(c) => (
            "Needs your attention — syncing again will not mend it (below)",
            false,
        ),
        (_, Some(_)) => ("Sync failing — tried again by itself (below)", false),
        _ if s.last_success_at.is_none() => ("Not synced yet", true),
        _ => ("OK", true),
    }
}

/// Prints each account's sync health; false if one is not well (for `--check`).
pub fn status(store: &Store, ctx: &Ctx) -> CliResult<bool> {
    let list = store.sync_status()?;
    let well = list.iter().all(|s| account_state(s).1);
    if ctx.json {
        output::json(&list)?;
        return Ok(well);
    }
    if list.is_empty() {
        output::line("No accounts. Connect one with `almanac accounts add microsoft|google`.")?;
        return Ok(true);
    }
    for s in &list {
        let (state, _) = account_state(s);
        output::line(&format!("{} ({}): {state}", s.email, s.provider))?;
        output::line(&format!(
            "  last successful sync: {}; last attempt: {}{}",
            when(s.last_success_at),
            when(s.last_attempt_at),
            // A next run is planned only while a loop runs: the desktop app or the
            // daemon holds the data directory; one that has ended leaves its plan.
            match s.next_sync_at {
                Some(t) if store.beside_holder() => format!("; next: {}", when(Some(t))),
                _ if store.beside_holder() => String::new(),
                _ => "; no daemon or desktop app is running to sync".to_owned(),
            }
        ))?;
        if let Some(m) = &s.last_error_message {
            output::line(&format!(
                "  last error ({}): {}",
                s.last_error_code.as_deref().unwrap_or("error"),
                output::one_line(m)
            ))?;
        }
        output::line(&format!(
            "  waiting to be sent: {}; open conflicts: {}",
            s.pending_pushes, s.open_conflicts
        ))?;
        for c in &s.held_calendars {
            output::line(&format!(
                "  {} stopped: it would delete {} of {} events; `almanac calendars confirm-deletions {}` once checked",
                output::one_line(&c.name), c.would_delete, c.total, c.calendar_id
            ))?;
        }
    }
    Ok(well)
}

fn title_of(version: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(version?).ok()?;
    v.get("title").and_then(Value::as_str).map(str::to_owned)
}

fn conflict_title(c: &ConflictRecord) -> String {
    title_of(c.local.as_deref())
        .or_else(|| title_of(c.remote.as_deref()))
        .or_else(|| title_of(c.base.as_deref()))
        .unwrap_or_else(|| "(untitled)".into())
}

fn kind_text(kind: &str) -> &'static str {
    match kind {
        "edit_delete" => "changed here, deleted at the provider",
        "delete_edit" => "deleted here, changed at the provider",
        _ => "changed on both sides",
    }
}

/// How a resolved conflict ended, in words (`None` while open).
fn resolved_text(c: &ConflictRecord) -> Option<String> {
    let (Some(_), Some(r)) = (&c.resolved_at, &c.resolution) else {
        return None;
    };
    Some(match c.resolved_by.as_deref() {
        Some("policy") => format!("settled by the calendar's policy: {r}"),
        Some("user") => format!("resolved by you: {r}"),
        Some("sync") => "no longer needed: a later change settled it".to_owned(),
        _ => format!("resolved: {r}"),
    })
}

pub fn conflicts_list(store: &Store, ctx: &Ctx, a: &ConflictListArgs) -> CliResult<()> {
    let list = store.conflicts(!a.all)?;
    if ctx.json {
        return output::json(&list);
    }
    if list.is_empty() {
        return output::line(if a.all {
            "No conflicts."
        } else {
            "No open conflicts."
        });
    }
    for c in &list {
        let state = match resolved_text(c) {
            Some(text) => format!("  [{text}]"),
            None => String::new(),
        };
        // The version that lives, with its time: five "Standup"s are five days.
        let view = almanac_sync::conflict_view_now(store, c)?;
        let what = match view.local_summary.or(view.remote_summary) {
            Some(summary) => summary,
            None => format!("\"{}\"", conflict_title(c)),
        };
        output::line(&format!(
            "{}  {}  in {} — {}{state}",
            c.id,
            output::one_line(&what),
            output::one_line(&c.calendar_name),
            kind_text(&c.kind)
        ))?;
    }
    Ok(())
}

pub fn conflicts_show(store: &Store, ctx: &Ctx, id: &str) -> CliResult<()> {
    let c = store.conflict(id)?;
    if ctx.json {
        return output::json(&c);
    }
    output::line(&format!(
        "\"{}\" in {} — {}",
        output::one_line(&conflict_title(&c)),
        output::one_line(&c.calendar_name),
        kind_text(&c.kind)
    ))?;
    output::line(&format!("detected {}", when(Some(c.detected_at))))?;
    let resolved = resolved_text(&c);
    if let Some(text) = &resolved {
        output::line(&format!("{text} {}", when(c.resolved_at)))?;
    }
    // As the Conflicts panel reads them: times in the event's zone, and so on.
    let view = almanac_sync::conflict_view_now(store, &c)?;
    for f in &view.fields {
        // The name to answer with, and what it is.
        output::line(&format!("{} ({}):", f.field, f.label))?;
        // A description's lines stay under their label.
        const UNDER: &str = "                 ";
        output::line(&format!(
            "  before:        {}",
            output::indented(&f.base, UNDER)
        ))?;
        output::line(&format!(
            "  this computer: {}",
            output::indented(&f.local, UNDER)
        ))?;
        output::line(&format!(
            "  provider:      {}",
            output::indented(&f.remote, UNDER)
        ))?;
    }
    if view.fields.is_empty() {
        // A deletion against an edit has no field pairs: show the version that lives.
        if let Some(mine) = &view.local_summary {
            output::line(&format!("this computer: {}", output::one_line(mine)))?;
        }
        if let Some(theirs) = &view.remote_summary {
            output::line(&format!("provider:      {}", output::one_line(theirs)))?;
        }
    }
    if resolved.is_some() {
        return Ok(());
    }
    let writable = store
        .list_calendars()?
        .iter()
        .find(|cal| cal.id == c.calendar_id)
        .is_none_or(|cal| cal.can_edit);
    if !writable {
        // `resolve` refuses the rest there: nothing can go to a read-only calendar.
        output::line(&format!(
            "The calendar is read-only now: only `almanac conflicts resolve {} --keep remote` can be carried out (your version stays on record).",
            c.id
        ))?;
    } else if view.fields.is_empty() {
        match c.kind.as_str() {
            "edit_delete" => output::line(
                "Resolve with --keep local to send your version again, or --keep remote to delete it here too.",
            )?,
            "delete_edit" => output::line(
                "Resolve with --keep local to delete it at the provider too, or --keep remote to get the provider's version back.",
            )?,
            _ => {}
        }
    } else {
        output::line(&format!(
            "Resolve with `almanac conflicts resolve {} --keep local|remote|both` or per field (--field FIELD=local|remote).",
            c.id
        ))?;
    }
    Ok(())
}

pub fn conflicts_resolve(store: Store, ctx: &Ctx, a: &ConflictResolveArgs) -> CliResult<()> {
    let choice = match a.keep {
        Some(KeepArg::Local) => Choice::KeepMine,
        Some(KeepArg::Remote) => Choice::KeepTheirs,
        Some(KeepArg::Both) => Choice::KeepBoth,
        None => {
            let picks = a
                .field
                .iter()
                .map(|f| parse_pick(f))
                .collect::<Result<Vec<_>, _>>()?;
            per_field(picks)?
        }
    };
    // Named in the answer: which event this was is not in its id.
    let named = store.conflict(&a.id).map(|c| {
        format!(
            " \"{}\" in {}",
            output::one_line(&conflict_title(&c)),
            output::one_line(&c.calendar_name)
        )
    });
    let store = Mutex::new(store);
    let done = resolve_conflict(&store, &a.id, &choice, ctx.now)?;
    if ctx.json {
        return output::json(&done);
    }
    output::line(&format!(
        "Resolved{} ({}).{}{}",
        named.unwrap_or_default(),
        done.resolution,
        done.copy_id
            .as_ref()
            .map(|id| format!(" Your version is kept as event {id}."))
            .unwrap_or_default(),
        if done.pushes {
            " The result goes to the provider on the next sync."
        } else {
            ""
        }
    ))
}

pub fn log(store: &Store, ctx: &Ctx, a: &LogArgs) -> CliResult<()> {
    if let Some(id) = &a.account {
        // An id mistyped would read as "no runs yet".
        store.account(id)?;
    }
    let runs = match a.run {
        Some(id) => vec![store.sync_run(id)?.ok_or_else(|| {
            crate::error::not_found(format!(
                "There is no sync run {id}; `almanac log` lists them."
            ))
        })?],
        None => store.sync_runs(a.account.as_deref(), a.limit as usize)?,
    };
    // A first sync applies thousands of changes: a run shows its first few unless asked.
    let shown = match a.run {
        Some(_) => usize::MAX,
        None => a.changes as usize,
    };
    if ctx.json {
        let mut out = Vec::new();
        for r in &runs {
            out.push(serde_json::json!({ "run": r, "actions": store.sync_actions(r.id)? }));
        }
        return output::json(&out);
    }
    if runs.is_empty() {
        return output::line("No sync runs yet.");
    }
    let emails = account_names(store)?;
    for r in &runs {
        let account = r
            .account_id
            .as_ref()
            .map(|id| format!(" {}", emails.get(id).unwrap_or(id)))
            .unwrap_or_default();
        output::line(&format!(
            "run {} at {}{account}: {} — {} pulled, {} pushed, {} conflicts{}",
            r.id,
            when(Some(r.started_at)),
            r.outcome.as_deref().unwrap_or("unfinished"),
            r.pulled,
            r.pushed,
            r.conflicts,
            r.error_message
                .as_deref()
                .map(|m| format!(" ({})", output::one_line(m)))
                .unwrap_or_default()
        ))?;
        let actions = store.sync_actions(r.id)?;
        if actions.len() > shown {
            output::line(&format!(
                "  ({} changes; the first {shown}: `almanac log --run {}` shows them all)",
                actions.len(),
                r.id
            ))?;
        }
        for act in actions.into_iter().take(shown) {
            let fields: Vec<String> = serde_json::from_str(&act.fields).unwrap_or_default();
            let event = match (&act.title, &act.event_id) {
                (Some(t), Some(id)) => format!("\"{}\" {id}", output::one_line(t)),
                (None, Some(id)) => id.clone(),
                (_, None) => "-".to_owned(),
            };
            output::line(&format!(
                "  {} {} {event}{} — {}",
                act.direction,
                act.action,
                if fields.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", fields.join(", "))
                },
                output::one_line(&act.reason)
            ))?;
        }
    }
    Ok(())
}

pub fn set_policy(store: &mut Store, ctx: &Ctx, a: &CalendarPolicyArgs) -> CliResult<()> {
    let policy = match a.policy {
        PolicyArg::Ask => "ask",
        PolicyArg::PreferLocal => "prefer_local",
        PolicyArg::PreferRemote => "prefer_remote",
        PolicyArg::KeepBoth => "keep_both",
    };
    store.set_conflict_policy(&a.id, policy)?;
    if ctx.json {
        return output::json(&serde_json::json!({ "calendarId": a.id, "policy": policy }));
    }
    output::line(&format!("Conflict policy of {} is now {policy}.", a.id))
}

pub fn confirm_deletions(store: &mut Store, ctx: &Ctx, id: &str) -> CliResult<()> {
    let hold = store.confirm_deletions(id)?;
    if ctx.json {
        return output::json(&serde_json::json!({ "calendarId": id, "held": hold.is_some() }));
    }
    match hold {
        Some(h) => output::line(&format!(
            "Confirmed: the next sync applies the deletion of {} of {} events.",
            h.would_delete, h.total
        )),
        None => output::line("That calendar is not stopped; nothing to confirm."),
    }
}

/// The background loop until SIGINT / SIGTERM; a run in flight finishes first.
pub fn daemon(store: Store, ctx: &Ctx, a: &DaemonArgs) -> CliResult<()> {
    use almanac_sync::schedule::ScheduleOptions;
    use almanac_sync::{Command, Scheduler, SyncEvent};

    let creds = Arc::new(Credentials::new(AuthConfig::load()?, Vault::default())?);
    // Times as the user reads a clock (`--tz`, else this computer's zone), zone named.
    let tz = crate::zone::local_zone(ctx.tz.as_deref())?;
    let stamp = move || {
        Utc::now()
            .with_timezone(&tz)
            .format("%H:%M:%S %Z")
            .to_string()
    };
    // Lines name an account by its address and provider (no account is added while
    // the daemon holds the data directory).
    let emails = account_names(&store)?;
    let name = move |id: &str| emails.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let store = Arc::new(Mutex::new(store));
    let json = ctx.json;
    let connect_creds = creds.clone();
    let connect: Arc<almanac_sync::Connect> = Arc::new(move |account| {
        provider_for(account, connect_creds.config(), connect_creds.clone())
    });
    let publish: Arc<almanac_sync::Publish> = Arc::new(move |e: SyncEvent| {
        let line = match &e {
            SyncEvent::Finished { summary } if json => output::json_line(summary),
            SyncEvent::Finished { summary } => {
                // As `almanac sync` tells it: a calendar stopped or failing says why.
                let lines = summary_lines(&name(&summary.account_id), summary);
                Some(format!("{} {}", stamp(), lines.join("\n")))
            }
            SyncEvent::Failed { account_id, error } if json => {
                output::json_line(&serde_json::json!({"accountId": account_id, "error": error}))
            }
            SyncEvent::Failed { account_id, error } => Some(format!(
                "{} {}: {}",
                stamp(),
                name(account_id),
                output::one_line(&error.message)
            )),
            // Once per account, as the notification (not once per run).
            SyncEvent::ActionRequired {
                account_id,
                notify: true,
            } if json => output::json_line(
                &serde_json::json!({"accountId": account_id, "actionRequired": true}),
            ),
            SyncEvent::ActionRequired {
                account_id,
                notify: true,
            } => Some(format!(
                "{} {}: sign in again (`almanac accounts add`); its sync waits until then",
                stamp(),
                name(account_id)
            )),
            SyncEvent::NewConflicts(list) if json => {
                let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
                output::json_line(&serde_json::json!({"newConflicts": ids}))
            }
            SyncEvent::NewConflicts(list) => Some(format!(
                "{} {} new conflict{}: `almanac conflicts list` (answer them once the daemon is stopped, or in the desktop app)",
                stamp(),
                list.len(),
                if list.len() == 1 { "" } else { "s" }
            )),
            _ => None,
        };
        if let Some(l) = line {
            let _ = output::line(&l);
        }
    });
    let opts = ScheduleOptions {
        interval: std::time::Duration::from_secs(a.interval),
        ..ScheduleOptions::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("Could not start: {e}")))?;
    rt.block_on(async move {
        let (scheduler, task) = Scheduler::spawn(store, connect, publish, opts, Arc::new(Utc::now));
        let stop = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(
                    |e| AppError::new(ErrorCode::Internal, format!("Could not watch signals: {e}")),
                )?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            Ok::<_, AppError>(())
        };
        let res = stop.await;
        scheduler.send(Command::Stop);
        let _ = task.await;
        res
    })
}
