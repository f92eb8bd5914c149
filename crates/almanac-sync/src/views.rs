//! Sync as the window shows it ([`SyncOverview`], [`ConflictView`]) and the window's
//! answer to a conflict as a [`Choice`].

use std::collections::BTreeSet;

use almanac_model::{
    AccountStatus, AccountSync, AppError, ConflictAnswer, ConflictField, ConflictKindView,
    ConflictView, ErrorCode, FieldSide, KeepSide, Provider, SettledConflict, SyncOverview,
};
use almanac_provider::{RemoteEvent, Timing};
use almanac_store::{ConflictRecord, Store};
use chrono::DateTime;
use serde_json::Value;

use crate::convert::current_version;
use crate::error::SyncError;
use crate::local::{conflict_kind, parse_snapshot, snapshot};
use crate::merge::{merge, Choice, ConflictKind, FieldConflict, Side};
use crate::resolve::{parse_pick, per_field};

fn rfc3339(t: Option<i64>) -> Option<String> {
    t.and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn error_code(s: &str) -> ErrorCode {
    serde_json::from_value(Value::String(s.to_owned())).unwrap_or(ErrorCode::Internal)
}

/// Every account's sync health; `running` holds the accounts with a run in flight.
pub fn overview(
    store: &Store,
    running: &BTreeSet<String>,
    paused: bool,
) -> Result<SyncOverview, SyncError> {
    let mut accounts = Vec::new();
    for s in store.sync_status()? {
        let status = AccountStatus::parse(&s.status).unwrap_or(AccountStatus::Error);
        accounts.push(AccountSync {
            running: running.contains(&s.account_id),
            provider: Provider::parse(&s.provider).unwrap_or(Provider::Microsoft),
            email: s.email,
            status,
            last_success_at: rfc3339(s.last_success_at),
            last_attempt_at: rfc3339(s.last_attempt_at),
            next_sync_at: rfc3339(s.next_sync_at),
            last_error: s.last_error_message.map(|m| {
                AppError::new(
                    s.last_error_code
                        .as_deref()
                        .map_or(ErrorCode::Internal, error_code),
                    m,
                )
            }),
            pending_pushes: s.pending_pushes.max(0) as u32,
            open_conflicts: s.open_conflicts.max(0) as u32,
            held_calendars: s.held_calendars,
            account_id: s.account_id,
        });
    }
    Ok(SyncOverview {
        running: accounts.iter().any(|a| a.running),
        open_conflicts: accounts.iter().map(|a| a.open_conflicts).sum(),
        accounts,
        paused,
    })
}

/// An OS notification's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
}

/// New conflicts told one by one up to this many at once; more are told in one
/// notification (a week offline can bring dozens: never a storm).
pub const CONFLICT_NOTICES_AT_ONCE: usize = 3;

/// Longest title or name quoted in a notification, in characters.
const NOTICE_QUOTE_CHARS: usize = 100;

/// `text` from others (a title, a calendar's name, an address) as a notification quotes
/// it: one line, cut to [`NOTICE_QUOTE_CHARS`], and with `&`, `<`, `>` escaped — the
/// freedesktop servers of GNOME and KDE read a body's `<a>`, `<img>` and `<b>` as
/// markup, and anyone who sends the user an invitation chooses its title.
pub fn notice_quote(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().map(|c| if c.is_control() { ' ' } else { c });
    for c in chars.by_ref().take(NOTICE_QUOTE_CHARS) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// "Action required": the account `email` of `provider` lost its access (`reason`, in
/// Almanac's words) and the user must sign in again.
pub fn action_required_notice(email: &str, provider: &str, reason: &str) -> Notice {
    Notice {
        summary: "Almanac: sign in again".into(),
        body: format!(
            "{} ({provider}): {}\nOpen Almanac → Settings → Accounts and choose Reconnect.",
            notice_quote(email),
            notice_quote(reason)
        ),
    }
}

/// What to tell the user of the conflicts a run recorded.
pub fn conflict_notices(new: &[ConflictView]) -> Vec<Notice> {
    if new.len() > CONFLICT_NOTICES_AT_ONCE {
        let calendars: BTreeSet<String> =
            new.iter().map(|c| notice_quote(&c.calendar_name)).collect();
        return vec![Notice {
            summary: format!("Almanac: {} sync conflicts", new.len()),
            body: format!(
                "{} events in {} were changed or deleted both here and at the provider. \
                 Open Almanac → Conflicts to choose which versions to keep.",
                new.len(),
                calendars.into_iter().collect::<Vec<_>>().join(", ")
            ),
        }];
    }
    new.iter()
        .map(|c| {
            let what = match c.kind {
                ConflictKindView::EditEdit => "was changed here and at the provider",
                ConflictKindView::EditDelete => "was changed here but deleted at the provider",
                ConflictKindView::DeleteEdit => "was deleted here but changed at the provider",
            };
            Notice {
                summary: "Almanac: a sync conflict".into(),
                body: format!(
                    "\"{}\" ({}) {what}. Open Almanac → Conflicts to choose which version \
                     to keep.",
                    notice_quote(&c.title),
                    notice_quote(&c.calendar_name)
                ),
            }
        })
        .collect()
}

fn label(field: &str) -> String {
    match field {
        "title" => "Title".into(),
        "body" => "Description".into(),
        "timing" => "Time".into(),
        "showAs" => "Show as".into(),
        "importance" => "Importance".into(),
        "sensitivity" => "Privacy".into(),
        "categories" => "Categories".into(),
        "location" => "Location".into(),
        "attendees" => "Attendees".into(),
        "organizer" => "Organizer".into(),
        "onlineMeeting" => "Online meeting".into(),
        "recurrence" => "Repeats".into(),
        "reminder" => "Reminder".into(),
        "cancelled" => "Cancelled".into(),
        // The provider's own form of the attendees (Google keeps only what Almanac's
        // attendees cannot say, under `almanacAttendees`).
        "extra.attendees" | "extra.almanacAttendees" => "Attendee details".into(),
        other => other
            .strip_prefix("extra.")
            .map_or_else(|| other.to_owned(), |k| format!("Other ({k})")),
    }
}

/// Field `field`'s value (as [`crate::merge::Field::value`] writes it) as a person reads
/// it: a time in the event's own zone (stored in UTC), an all-day span to its last day
/// (the stored end is the day after), a reminder in minutes before.
fn field_text(field: &str, v: &Value) -> String {
    let read = match (field, v) {
        ("timing", Value::Object(o)) => timing_text(o),
        ("reminder", Value::Number(n)) => n.as_i64().map(|m| match m {
            0 => "at the start".to_owned(),
            1 => "1 minute before".to_owned(),
            m => format!("{m} minutes before"),
        }),
        ("recurrence", Value::Object(o)) => o.get("rrule").and_then(Value::as_str).map(|rule| {
            let dates = |key: &str| {
                o.get(key)
                    .and_then(Value::as_array)
                    .filter(|a| !a.is_empty())
                    .map(|a| text(&Value::Array(a.clone())))
            };
            let mut out = rule.to_owned();
            if let Some(x) = dates("exdates") {
                out.push_str(&format!("; except {x}"));
            }
            if let Some(r) = dates("rdates") {
                out.push_str(&format!("; also {r}"));
            }
            out
        }),
        _ => None,
    };
    read.unwrap_or_else(|| text(v))
}

/// A day as the panel shows it: `Wed 18 Jun 2025`.
const DAY: &str = "%a %-d %b %Y";

fn timing_text(o: &serde_json::Map<String, Value>) -> Option<String> {
    let str_of = |k: &str| o.get(k).and_then(Value::as_str);
    if let (Some(s), Some(e)) = (str_of("startDate"), str_of("endDate")) {
        let first = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        let end = chrono::NaiveDate::parse_from_str(e, "%Y-%m-%d").ok()?;
        let last = end.pred_opt()?.max(first);
        return Some(match last == first {
            true => format!("{} (all day)", first.format(DAY)),
            false => format!("{} – {} (all day)", first.format(DAY), last.format(DAY)),
        });
    }
    let zone = str_of("timeZone")?;
    let tz = almanac_model::time::parse_zone(zone).ok()?;
    let at = |k: &str| {
        Some(
            DateTime::parse_from_rfc3339(str_of(k)?)
                .ok()?
                .with_timezone(&tz),
        )
    };
    let (start, end) = (at("start")?, at("end")?);
    Some(match start.date_naive() == end.date_naive() {
        true => format!(
            "{}, {}–{} ({zone})",
            start.format(DAY),
            start.format("%H:%M"),
            end.format("%H:%M")
        ),
        false => format!(
            "{}, {} – {}, {} ({zone})",
            start.format(DAY),
            start.format("%H:%M"),
            end.format(DAY),
            end.format("%H:%M")
        ),
    })
}

/// A field value as text a person reads.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) if a.is_empty() => "(none)".into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => {
            if let Some(t) = o.get("text") {
                return text(t); // a body: its text rendering
            }
            if let (Some(s), Some(e)) = (o.get("start"), o.get("end")) {
                let zone = o
                    .get("timeZone")
                    .and_then(Value::as_str)
                    .map(|z| format!(" ({z})"))
                    .unwrap_or_default();
                return format!("{} – {}{zone}", text(s), text(e));
            }
            if let Some(e) = o.get("email") {
                return text(e);
            }
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}: {}", text(v)))
                .collect::<Vec<_>>()
                .join("; ")
        }
        other => other.to_string(),
    }
}

fn field_name(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .get("extra")
            .and_then(Value::as_str)
            .map_or_else(|| "extra".into(), |k| format!("extra.{k}")),
        other => other.to_string(),
    }
}

fn summary(ev: &RemoteEvent) -> String {
    let when = match &ev.timing {
        Timing::Timed {
            start, time_zone, ..
        } => match almanac_model::time::parse_zone(time_zone) {
            Ok(tz) => {
                let here = start.with_timezone(&tz);
                format!(
                    "{}, {} ({time_zone})",
                    here.format(DAY),
                    here.format("%H:%M")
                )
            }
            Err(_) => format!("{}, {} UTC", start.format(DAY), start.format("%H:%M")),
        },
        Timing::AllDay { start, end } => {
            let last = end.pred_opt().unwrap_or(*end).max(*start);
            match last == *start {
                true => format!("{} (all day)", start.format(DAY)),
                false => format!("{} – {} (all day)", start.format(DAY), last.format(DAY)),
            }
        }
    };
    if ev.location.is_empty() {
        format!("{} — {when}", ev.title)
    } else {
        format!("{} — {when} — {}", ev.title, ev.location)
    }
}

/// A conflict record for the Conflicts panel.
pub fn conflict_view(c: &ConflictRecord) -> ConflictView {
    let local = parse_snapshot(c.local.as_deref());
    let remote = parse_snapshot(c.remote.as_deref());
    let base = parse_snapshot(c.base.as_deref());
    let fields: Vec<Value> = serde_json::from_str(&c.fields).unwrap_or_default();
    let kind = match conflict_kind(&c.kind) {
        ConflictKind::EditEdit => ConflictKindView::EditEdit,
        ConflictKind::EditDelete => ConflictKindView::EditDelete,
        ConflictKind::DeleteEdit => ConflictKindView::DeleteEdit,
    };
    let title = local
        .as_ref()
        .or(remote.as_ref())
        .or(base.as_ref())
        .map_or_else(|| "(untitled)".into(), |e| e.title.clone());
    ConflictView {
        id: c.id.clone(),
        event_id: c.event_id.clone(),
        calendar_id: c.calendar_id.clone(),
        calendar_name: c.calendar_name.clone(),
        kind,
        title,
        detected_at: rfc3339(Some(c.detected_at)).unwrap_or_default(),
        fields: fields
            .iter()
            .map(|f| {
                let name = field_name(f.get("field").unwrap_or(&Value::Null));
                ConflictField {
                    label: label(&name),
                    base: field_text(&name, f.get("base").unwrap_or(&Value::Null)),
                    local: field_text(&name, f.get("local").unwrap_or(&Value::Null)),
                    remote: field_text(&name, f.get("remote").unwrap_or(&Value::Null)),
                    field: name,
                }
            })
            .collect(),
        local_summary: match kind {
            ConflictKindView::DeleteEdit => None,
            _ => local.as_ref().map(summary),
        },
        remote_summary: match kind {
            ConflictKindView::EditDelete => None,
            _ => remote.as_ref().map(summary),
        },
    }
}

/// The open conflicts, newest first.
pub fn open_conflicts(store: &Store) -> Result<Vec<ConflictView>, SyncError> {
    store
        .conflicts(true)?
        .iter()
        .map(|c| conflict_view_now(store, c))
        .collect()
}

/// [`conflict_view`] of `c` with this computer's side as the event is now (see
/// [`as_now`]): what the panel and `almanac conflicts show` present.
pub fn conflict_view_now(store: &Store, c: &ConflictRecord) -> Result<ConflictView, SyncError> {
    Ok(conflict_view(&as_now(store, c)?))
}

/// Conflict `c` with this computer's side as the event is now: the user may have
/// edited it since (its push waits for the answer), and that is what Keep mine sends
/// and what per-field picks are taken against (`resolve.rs` reads it the same way).
/// A row that no longer reads as an event leaves the record as it is.
fn as_now(store: &Store, c: &ConflictRecord) -> Result<ConflictRecord, SyncError> {
    let kind = conflict_kind(&c.kind);
    // An answered conflict keeps the versions it was answered on.
    if kind == ConflictKind::DeleteEdit || c.resolved_at.is_some() {
        return Ok(c.clone());
    }
    // Read as `resolve` reads it.
    let mine = match current_version(&c.event_id, |id| store.synced_event(id)) {
        Ok(Some(mine)) => mine,
        Ok(None) | Err(SyncError::Corrupt(_)) => return Ok(c.clone()),
        Err(e) => return Err(e),
    };
    let mut now = c.clone();
    if kind == ConflictKind::EditEdit {
        let (Some(base), Some(remote)) = (
            parse_snapshot(c.base.as_deref()),
            parse_snapshot(c.remote.as_deref()),
        ) else {
            return Ok(c.clone());
        };
        let mut fields = merge(&base, &mine, &remote).conflicts;
        if fields.is_empty() {
            // Edited to agree with theirs on every field: the recorded fields still say
            // what the conflict was about, with this computer's values as they are now.
            fields = serde_json::from_str::<Vec<FieldConflict>>(&c.fields).unwrap_or_default();
            for f in &mut fields {
                f.local = f.field.value(&mine);
            }
        }
        if !fields.is_empty() {
            now.fields = serde_json::to_string(&fields).unwrap_or(now.fields);
        }
    }
    now.local = Some(snapshot(&mine));
    Ok(now)
}

/// The conflicts calendars' policies settled by themselves, newest first, at most
/// `limit`: what each kept, and the versions it did not.
pub fn settled_by_policy(store: &Store, limit: usize) -> Result<Vec<SettledConflict>, SyncError> {
    Ok(store
        .conflicts(false)?
        .iter()
        .filter(|c| c.resolved_by.as_deref() == Some("policy"))
        .filter_map(|c| {
            let kept = match c.resolution.as_deref()? {
                "keep_local" => KeepSide::Local,
                "keep_remote" => KeepSide::Remote,
                "keep_both" => KeepSide::Both,
                _ => return None,
            };
            let mut conflict = conflict_view(c);
            // Named as the event is now: the provider's title when theirs was kept.
            if let Some(theirs) =
                parse_snapshot(c.remote.as_deref()).filter(|_| kept == KeepSide::Remote)
            {
                conflict.title = theirs.title;
            }
            Some(SettledConflict {
                conflict,
                kept,
                settled_at: rfc3339(c.resolved_at).unwrap_or_default(),
            })
        })
        .take(limit)
        .collect())
}

/// The window's answer as the engine's choice.
pub fn choice_of(a: &ConflictAnswer) -> Result<Choice, SyncError> {
    if a.keep.is_some() && !a.fields.is_empty() {
        return Err(SyncError::BadRequest(
            "Choose one version to keep, or a side for each field — not both.".into(),
        ));
    }
    match a.keep {
        Some(KeepSide::Local) => Ok(Choice::KeepMine),
        Some(KeepSide::Remote) => Ok(Choice::KeepTheirs),
        Some(KeepSide::Both) => Ok(Choice::KeepBoth),
        None if a.fields.is_empty() => Err(SyncError::BadRequest(
            "Choose which version to keep, or a side for each field.".into(),
        )),
        None => {
            let picks = a
                .fields
                .iter()
                .map(|p| {
                    let side = match p.side {
                        FieldSide::Local => "local",
                        FieldSide::Remote => "remote",
                    };
                    parse_pick(&format!("{}={side}", p.field))
                })
                .collect::<Result<Vec<(crate::merge::Field, Side)>, _>>()?;
            per_field(picks)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        action_required_notice, choice_of, conflict_notices, field_text, label, notice_quote,
    };
    use almanac_model::{ConflictAnswer, FieldPick, FieldSide, KeepSide};
    use serde_json::json;

    #[test]
    fn many_new_conflicts_are_told_in_one_notification() {
        let record = |n: usize, calendar: &str| almanac_store::ConflictRecord {
            id: format!("c{n}"),
            event_id: format!("e{n}"),
            calendar_id: "cal".into(),
            calendar_name: calendar.into(),
            account_id: Some("a".into()),
            kind: "edit_edit".into(),
            base: None,
            local: None,
            remote: None,
            fields: "[]".into(),
            detected_at: 0,
            resolved_at: None,
            resolution: None,
            resolved_by: None,
        };
        let views = |n: usize| -> Vec<_> {
            (0..n)
                .map(|i| super::conflict_view(&record(i, if i % 2 == 0 { "Work" } else { "Team" })))
                .collect()
        };
        let few = conflict_notices(&views(3));
        assert_eq!(few.len(), 3);
        assert!(few.iter().all(|n| n.summary == "Almanac: a sync conflict"));
        assert!(
            few[0]
                .body
                .contains("(Work) was changed here and at the provider"),
            "{few:?}"
        );
        let many = conflict_notices(&views(30));
        assert_eq!(many.len(), 1, "{many:?}");
        assert_eq!(many[0].summary, "Almanac: 30 sync conflicts");
        assert!(
            many[0]
                .body
                .starts_with("30 events in Team, Work were changed"),
            "{many:?}"
        );
        assert!(conflict_notices(&[]).is_empty());
    }

    #[test]
    fn notifications_quote_others_text_as_text() {
        assert_eq!(
            notice_quote("<a href=\"https://x\">Reconnect</a> & <img src=y>\nline"),
            "&lt;a href=\"https://x\"&gt;Reconnect&lt;/a&gt; &amp; &lt;img src=y&gt; line"
        );
        let long = "é".repeat(150);
        assert_eq!(notice_quote(&long), format!("{}…", "é".repeat(100)));
        let n = action_required_notice("<b>ann</b>@x.example", "Google", "Access was revoked.");
        assert!(
            n.body
                .starts_with("&lt;b&gt;ann&lt;/b&gt;@x.example (Google): Access was revoked."),
            "{n:?}"
        );
    }

    #[test]
    fn conflicting_values_read_as_a_person_would() {
        // 07:00 UTC is 09:00 in Berlin, in summer.
        let berlin = json!({
            "start": "2025-06-18T07:00:00+00:00",
            "end": "2025-06-18T08:30:00+00:00",
            "timeZone": "Europe/Berlin"
        });
        assert_eq!(
            field_text("timing", &berlin),
            "Wed 18 Jun 2025, 09:00–10:30 (Europe/Berlin)"
        );
        let overnight = json!({
            "start": "2025-06-18T21:00:00+00:00",
            "end": "2025-06-19T01:00:00+00:00",
            "timeZone": "America/New_York"
        });
        assert_eq!(
            field_text("timing", &overnight),
            "Wed 18 Jun 2025, 17:00–21:00 (America/New_York)"
        );
        let late = json!({
            "start": "2025-06-18T21:00:00+00:00",
            "end": "2025-06-18T23:00:00+00:00",
            "timeZone": "Europe/Berlin"
        });
        assert_eq!(
            field_text("timing", &late),
            "Wed 18 Jun 2025, 23:00 – Thu 19 Jun 2025, 01:00 (Europe/Berlin)"
        );
        // All day: to the last day, not the day after.
        let one = json!({"startDate": "2025-06-18", "endDate": "2025-06-19"});
        assert_eq!(field_text("timing", &one), "Wed 18 Jun 2025 (all day)");
        let three = json!({"startDate": "2025-06-18", "endDate": "2025-06-21"});
        assert_eq!(
            field_text("timing", &three),
            "Wed 18 Jun 2025 – Fri 20 Jun 2025 (all day)"
        );
        assert_eq!(field_text("reminder", &json!(15)), "15 minutes before");
        assert_eq!(field_text("reminder", &json!(0)), "at the start");
        assert_eq!(field_text("reminder", &json!(null)), "(none)");
        let rule = json!({"rrule": "FREQ=WEEKLY;BYDAY=MO", "exdates": ["2025-06-23T09:00:00"], "rdates": []});
        assert_eq!(
            field_text("recurrence", &rule),
            "FREQ=WEEKLY;BYDAY=MO; except 2025-06-23T09:00:00"
        );
        // Anything else as before; an unknown zone falls back to the values.
        assert_eq!(field_text("title", &json!("Renewal")), "Renewal");
        let odd = json!({"start": "2025-06-18T07:00:00+00:00", "end": "2025-06-18T08:00:00+00:00", "timeZone": "Mars/Olympus"});
        assert!(field_text("timing", &odd).contains("2025-06-18T07:00:00+00:00"));
    }

    #[test]
    fn an_answer_from_the_window_is_one_choice_or_refused() {
        let pick = |field: &str, side| FieldPick {
            field: field.into(),
            side,
        };
        let answer = |keep, fields| ConflictAnswer {
            conflict_id: "c".into(),
            keep,
            fields,
            detected_at: None,
        };
        let refused = |a: &ConflictAnswer| match choice_of(a) {
            Err(e) => e.to_string(),
            Ok(c) => panic!("taken as {c:?}"),
        };
        // A side for everything and per field at once: which did the user mean?
        let both = answer(
            Some(KeepSide::Local),
            vec![pick("title", FieldSide::Remote)],
        );
        assert!(refused(&both).contains("not both"), "{}", refused(&both));
        // Two sides for one field: the last would win unseen.
        let twice = answer(
            None,
            vec![
                pick("title", FieldSide::Remote),
                pick("title", FieldSide::Local),
            ],
        );
        assert!(refused(&twice).contains("title is chosen more than once"));
        assert!(refused(&answer(None, Vec::new())).contains("Choose which version"));
        assert!(refused(&answer(None, vec![pick("titel", FieldSide::Local)])).contains("titel"));
        assert!(choice_of(&answer(None, vec![pick("title", FieldSide::Local)])).is_ok());
    }

    #[test]
    fn provider_fields_are_named_for_a_person() {
        assert_eq!(label("attendees"), "Attendees");
        assert_eq!(label("extra.almanacAttendees"), "Attendee details");
        assert_eq!(label("extra.attendees"), "Attendee details");
        assert_eq!(label("extra.colorId"), "Other (colorId)");
    }
}
