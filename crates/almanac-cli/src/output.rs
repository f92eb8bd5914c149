//! Writing to stdout (a closed pipe is not an error) and the human formats.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use almanac_model::time::{parse_date, parse_instant, to_local};
use almanac_model::{Calendar, ConflictPolicy, Occurrence};
use chrono_tz::Tz;
use serde::Serialize;

use crate::error::{storage, CliResult};

/// `text` safe for a terminal: titles, names and messages come from other people
/// (invitations, shared calendars, providers), and a control character in them —
/// an escape sequence above all — would act on the user's terminal. Each one but line
/// breaks (LF, CRLF: an exported calendar's lines end so) and tabs becomes U+FFFD, as
/// do the bidirectional overrides and isolates, which would reorder the rest of the
/// line (a title showing another event's time or id).
pub fn printable(text: &str) -> String {
    cleaned(text, true)
}

fn cleaned(text: &str, bidi: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let line_break = c == '\n' || (c == '\r' && chars.peek() == Some(&'\n'));
        let unsafe_char = c.is_control() || (bidi && reorders(c));
        let harmless = !unsafe_char || c == '\t' || line_break;
        out.push(if harmless { c } else { '\u{FFFD}' });
    }
    out
}

/// Prints a document (an iCalendar file on stdout): control characters as in
/// [`printable`], but bidirectional marks kept — in a file they belong to the text
/// (Arabic, Hebrew), and `> file.ics` must not change it.
pub fn document(text: &str) -> CliResult<()> {
    write_line(&cleaned(text, false))
}

/// A bidirectional override or isolate: it reorders the text after it.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A field shown inside one line: its line breaks become spaces (and see [`printable`]),
/// so a title cannot forge a line of its own (another conflict, another run).
pub fn one_line(text: &str) -> Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        Cow::Owned(text.replace("\r\n", " ").replace(['\n', '\r'], " "))
    } else {
        Cow::Borrowed(text)
    }
}

/// Prints one line (see [`printable`]). `almanac events list | head` closing the pipe
/// ends output quietly.
pub fn line(text: &str) -> CliResult<()> {
    write_line(&printable(text))
}

fn write_line(text: &str) -> CliResult<()> {
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(storage(format!("Could not write the output: {e}"))),
    }
}

/// Prints a value as pretty JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| storage(format!("Could not encode the output as JSON: {e}")))?;
    line(&terminal_safe_json(&text))
}

/// A value as JSON on one line (the daemon's events, errors on stderr), escaped as
/// [`json`] does.
pub fn json_line<T: Serialize + ?Sized>(value: &T) -> Option<String> {
    serde_json::to_string(value)
        .ok()
        .map(|t| terminal_safe_json(&t))
}

/// serde_json leaves DEL and the C1 controls raw, and the bidirectional marks; escaped,
/// they are the same JSON and no longer reach the terminal (the only raw line breaks
/// are the layout's).
fn terminal_safe_json(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n') || reorders(c) {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// `text` of several lines under a label: each line after the first indented by
/// `indent`, so a description's lines cannot pass for lines of their own.
pub fn indented(text: &str, indent: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    lines.join(&format!("\n{indent}"))
}

pub fn calendar_line(c: &Calendar) -> String {
    let mut flags = Vec::new();
    if c.is_primary {
        flags.push("primary");
    }
    if !c.can_edit {
        flags.push("read-only");
    }
    if !c.visible {
        flags.push("hidden");
    }
    let policy;
    if let Some(p) = c
        .conflict_policy
        .filter(|p| *p != ConflictPolicy::Ask && c.can_edit)
    {
        policy = format!("conflicts: {}", p.as_str());
        flags.push(&policy);
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!("  ({})", flags.join(", "))
    };
    format!("{}  {}{flags}", c.id, one_line(&c.name))
}

/// `2026-11-23 09:00–10:00  Standup  [On this computer]  id=… occurrence=…`
pub fn occurrence_line(o: &Occurrence, tz: Tz, calendars: &HashMap<String, String>) -> String {
    let when = if o.all_day {
        let days = parse_date(&o.start)
            .zip(parse_date(&o.end))
            .map(|(s, e)| (e - s).num_days())
            .unwrap_or(1);
        if days > 1 {
            format!("{}  (all day, {days} days)", o.start)
        } else {
            format!("{}  (all day)", o.start)
        }
    } else {
        match (parse_instant(&o.start), parse_instant(&o.end)) {
            (Some(s), Some(e)) => {
                let (s, e) = (to_local(s, tz), to_local(e, tz));
                if s.date() == e.date() {
                    format!(
                        "{} {}–{}",
                        s.format("%Y-%m-%d"),
                        s.format("%H:%M"),
                        e.format("%H:%M")
                    )
                } else {
                    format!(
                        "{}–{}",
                        s.format("%Y-%m-%d %H:%M"),
                        e.format("%Y-%m-%d %H:%M")
                    )
                }
            }
            _ => format!("{}–{}", o.start, o.end),
        }
    };
    let calendar = calendars.get(&o.calendar_id).unwrap_or(&o.calendar_id);
    let mut text = format!(
        "{when}  {}  [{}]  id={}",
        one_line(&o.title),
        one_line(calendar),
        o.event_id
    );
    if let Some(key) = &o.original_start {
        text.push_str(&format!(" occurrence={key}"));
    }
    text
}
