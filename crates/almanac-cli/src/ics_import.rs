//! `almanac import --ics FILE`: VEVENTs → events, all or nothing.
//!
//! 1. Bounded read: at most [`MAX_FILE_BYTES`] and [`MAX_EVENTS`] VEVENTs.
//! 2. Parse with the icalendar crate and map every VEVENT to an [`EventInput`];
//!    validate every one (the same `EventInput::validate` the store runs) and check
//!    that every RECURRENCE-ID names an occurrence of a series with the same UID in
//!    the file. Of several VEVENTs for one event or one occurrence, the newest is
//!    taken ([`Version`]). Every bad VEVENT is reported (index, UID, reason) and
//!    nothing is written.
//! 3. Write: masters and single events first, then the RECURRENCE-ID VEVENTs as
//!    occurrence edits of their series.
//!
//! Step 3 is one store transaction ([`Store::batch`]): if any write fails, none lands.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use almanac_model::recurrence::SeriesSpec;
use almanac_model::time::{format_date, format_wall_time, to_instant, to_local, EventTime};
use almanac_model::{
    AppError, EditScope, ErrorCode, EventChange, EventInput, Importance, RecurrenceInput,
    Sensitivity, ShowAs,
};
use almanac_store::{Source, Store, MAX_UID_CHARS};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property};
use sha2::{Digest, Sha256};

use crate::args::ImportArgs;
use crate::error::{file_error, invalid, not_found, CliResult};
use crate::ics_text::{
    parse_duration, parse_duration_parts, parse_ics_date, parse_ics_wall, split_text_list, unescape,
};
use crate::ics_vtimezone::Declared;
use crate::output;
use crate::zone::local_zone;
use crate::Ctx;

pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
pub const MAX_EVENTS: usize = 10_000;
/// How deep BEGIN … END blocks may nest (VCALENDAR > VEVENT > VALARM is 3).
pub const MAX_NESTING: usize = 8;

/// A DTSTART/DTEND/RECURRENCE-ID/EXDATE/RDATE value as written in the file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum When {
    Date(NaiveDate),
    Floating(NaiveDateTime),
    Utc(NaiveDateTime),
    Zoned(NaiveDateTime, Tz),
}

impl When {
    /// The wall time in `zone` (floating times are read in `zone`).
    fn wall_in(self, zone: Tz) -> NaiveDateTime {
        match self {
            Self::Date(d) => d.and_time(NaiveTime::MIN),
            Self::Floating(t) => t,
            Self::Utc(t) => to_local(t.and_utc(), zone),
            Self::Zoned(t, z) if z == zone => t,
            Self::Zoned(t, z) => to_local(to_instant(t, z), zone),
        }
    }

    /// The wall time of the series' instance (at `at` each day, in `zone`) this names:
    /// an instant names an instance in a DST gap by the time after the gap (02:30 on
    /// Berlin's spring night is 01:30Z, read there as 03:30), which is no key of the
    /// series, whose instance is 02:30.
    fn instance_wall(self, zone: Tz, at: NaiveTime) -> NaiveDateTime {
        let wall = self.wall_in(zone);
        if matches!(self, Self::Utc(_) | Self::Zoned(..)) && wall.time() != at {
            let gap = wall.date().and_time(at);
            if to_instant(gap, zone) == self.instant_in(zone) {
                return gap;
            }
        }
        wall
    }

    /// The instant (floating times are read in `zone`; dates are their midnight).
    fn instant_in(self, zone: Tz) -> DateTime<Utc> {
        match self {
            Self::Utc(t) => t.and_utc(),
            Self::Zoned(t, z) => to_instant(t, z),
            other => to_instant(other.wall_in(zone), zone),
        }
    }

    /// An event's start or end in `zone` as the model spells it: an exact time that
    /// falls in the second pass of a DST fold there keeps its offset ([`EventTime`]).
    fn event_time_in(self, zone: Tz) -> String {
        match self {
            // In its own zone a wall time is kept as written (a gap's too).
            Self::Zoned(t, z) if z == zone => format_wall_time(t),
            Self::Utc(_) | Self::Zoned(..) => {
                EventTime::of(self.instant_in(zone), zone).to_string()
            }
            other => format_wall_time(other.wall_in(zone)),
        }
    }

    fn date_in(self, zone: Tz) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            other => other.wall_in(zone).date(),
        }
    }

    /// The date as written, whatever zone it names: what a date-time removing or
    /// changing a day of an all-day series means (`EXDATE:20260324T000000Z` is the
    /// 24th, also in New York, where that instant is still the 23rd).
    fn written_date(self) -> NaiveDate {
        match self {
            Self::Date(d) => d,
            Self::Floating(t) | Self::Utc(t) | Self::Zoned(t, _) => t.date(),
        }
    }
}

/// One VEVENT after mapping.
#[derive(Debug)]
struct Mapped {
    index: usize,
    /// The file's UID or, for an event the file gave none, one made from its details
    /// ([`uid_from_details`]).
    uid: Option<String>,
    /// Whether `uid` is the file's.
    given_uid: bool,
    recurrence_id: Option<When>,
    cancelled: bool,
    input: EventInput,
    /// `CLASS`: who may see it (not part of the editor's input).
    sensitivity: Sensitivity,
    version: Version,
}

impl Mapped {
    fn label(&self) -> String {
        label(self.index, self.uid.as_deref().filter(|_| self.given_uid))
    }

    /// The same event as `other` says (exports joined that overlap); two
    /// cancellations remove the same, whatever else they say; two the file gave no
    /// UID whose UIDs made from their details agree say the same in another order.
    fn same_as(&self, other: &Self) -> bool {
        (self.input == other.input && self.cancelled == other.cancelled)
            || (self.cancelled && other.cancelled)
            || (!self.given_uid && !other.given_uid && self.uid == other.uid)
    }
}

/// What orders two versions of one VEVENT in time, as iTIP does (RFC 5546 §2.1.5):
/// the higher SEQUENCE is newer; with equal SEQUENCEs (a title change does not raise
/// it at Google), the later DTSTAMP; where DTSTAMP does not tell (exports of one
/// moment), the later LAST-MODIFIED. A stamp counts only where both versions have one,
/// so the order is partial: see [`newest`].
#[derive(Debug, Clone, PartialEq)]
struct Version {
    /// No SEQUENCE is 0 (RFC 5545 §3.8.7.4); one that is not a number orders nothing
    /// (`Err`: its text, for the message).
    sequence: Result<i64, String>,
    stamp: Option<DateTime<Utc>>,
    modified: Option<DateTime<Utc>>,
}

impl Version {
    fn of(c: &Component<'_>, declared: &Declared) -> Self {
        let sequence = match first(c, "SEQUENCE") {
            Some(p) => {
                let v = p.val.as_str().trim();
                v.parse()
                    .map_err(|_| v.chars().take(20).collect::<String>())
            }
            None => Ok(0),
        };
        // Stamps only order versions: one that does not parse orders nothing.
        let instant = |name| {
            let p = first(c, name)?;
            match when(name, p.val.as_str(), p, declared).ok()? {
                When::Date(_) => None,
                w => Some(w.instant_in(Tz::UTC)),
            }
        };
        Self {
            sequence,
            stamp: instant("DTSTAMP"),
            modified: instant("LAST-MODIFIED"),
        }
    }

    /// How `self` orders against `other`; `None` when nothing in the two tells.
    fn newer(&self, other: &Self) -> Option<Ordering> {
        let (Ok(a), Ok(b)) = (&self.sequence, &other.sequence) else {
            return None;
        };
        if a != b {
            return Some(a.cmp(b));
        }
        [(self.stamp, other.stamp), (self.modified, other.modified)]
            .into_iter()
            .find_map(|(a, b)| Some(a?.cmp(&b?)).filter(|o| o.is_ne()))
    }
}

/// A master or single event that will be written.
struct Master {
    uid: Option<String>,
    input: EventInput,
    series: Option<SeriesSpec>,
    label: String,
    version: Version,
}

fn label(index: usize, uid: Option<&str>) -> String {
    match uid {
        Some(u) => format!(
            "VEVENT #{} (UID {})",
            index + 1,
            u.chars().take(80).collect::<String>()
        ),
        None => format!("VEVENT #{} (no UID)", index + 1),
    }
}

/// What will be written.
#[derive(Debug, Default)]
struct Plan {
    /// Masters and single events, in file order, with their UID.
    events: Vec<(Option<String>, String, EventInput)>,
    /// (master UID, instance key, changed occurrence, label).
    exceptions: Vec<(String, String, EventInput, String)>,
    /// The events not public (`CLASS:PRIVATE`, `CONFIDENTIAL`), by label: imported into
    /// an account's calendar, one read as public would go out so.
    sensitivity: HashMap<String, Sensitivity>,
    skipped_cancelled: usize,
    /// VEVENTs the file has twice, the same (exports joined that overlap): taken once.
    /// By UID, for [`skip_existing`].
    duplicates: Vec<String>,
    /// Older versions of a VEVENT the file also has a newer version of: left out. By
    /// UID, as `duplicates`.
    superseded: Vec<String>,
    /// The UIDs made for events the file gave none ([`uid_from_details`]).
    made_uids: HashSet<String>,
    /// The names of the calendar's components that are no events (VTODO, VJOURNAL),
    /// left out.
    other: Vec<String>,
}

/// Whether `c` holds a VEVENT among its components, at any depth.
fn holds_an_event(c: &Component<'_>) -> bool {
    c.components
        .iter()
        .any(|sub| sub.name.as_str().eq_ignore_ascii_case("VEVENT") || holds_an_event(sub))
}

/// Reads the file, then opens the store with `open` and imports: the data directory
/// is not held while the file is read, so `almanac export --ics - | almanac import
/// --ics /dev/stdin` on one directory takes turns instead of blocking itself.
pub fn import(open: impl FnOnce() -> CliResult<Store>, ctx: &Ctx, a: &ImportArgs) -> CliResult<()> {
    let local = local_zone(ctx.tz.as_deref())?;
    let text = read_bounded(&a.ics)?;
    let mut store = open()?;
    let store = &mut store;
    let calendars = store.list_calendars()?;
    let Some(calendar) = calendars.iter().find(|c| c.id == a.calendar) else {
        return Err(not_found(format!(
            "There is no calendar with id \"{}\".",
            a.calendar
        )));
    };
    if !calendar.can_edit {
        return Err(AppError::new(
            ErrorCode::ReadOnly,
            format!("The calendar \"{}\" is read-only.", calendar.name),
        ));
    }
    let mut plan = plan(&text, &a.calendar, local)?;
    let existing = skip_existing(&mut plan, &store.events_by_ical_uid(&a.calendar)?);
    let without_uid = plan
        .events
        .iter()
        .filter(|(uid, _, _)| uid.as_ref().is_some_and(|u| plan.made_uids.contains(u)))
        .count();
    let (created, exceptions) = write(store, ctx, plan.events, plan.exceptions, &plan.sensitivity)?;
    if ctx.json {
        let existing: Vec<_> = existing
            .iter()
            .map(|(uid, id)| serde_json::json!({ "uid": uid, "id": id }))
            .collect();
        return output::json(&serde_json::json!({
            "file": a.ics.display().to_string(),
            "created": created,
            "exceptions": exceptions,
            "skippedCancelled": plan.skipped_cancelled,
            "duplicatesInFile": plan.duplicates.len(),
            "olderInFile": plan.superseded.len(),
            "skippedExisting": existing,
            "withoutUid": without_uid,
            "skippedOther": plan.other.len(),
        }));
    }
    let mut msg = format!(
        "Imported {} and {} from {}.",
        counted(created.len(), "event", "events"),
        counted(exceptions, "changed occurrence", "changed occurrences"),
        a.ics.display()
    );
    if !existing.is_empty() {
        msg.push_str(&format!(
            " Skipped {} already in this calendar (the same UID or, for one without, the same details); to take the file's version of one, delete it here and import again.",
            counted(existing.len(), "event", "events")
        ));
    }
    if without_uid > 0 {
        msg.push_str(&format!(
            " {} no UID: {} known by {} details instead, so importing this file again skips {} while the file's {} the same.",
            match without_uid {
                1 => "1 event had".to_owned(),
                n => format!("{n} events had"),
            },
            if without_uid == 1 { "it is" } else { "they are" },
            if without_uid == 1 { "its" } else { "their" },
            if without_uid == 1 { "it" } else { "them" },
            if without_uid == 1 { "event stays" } else { "events stay" },
        ));
    }
    if !plan.other.is_empty() {
        let mut kinds = plan.other.clone();
        kinds.sort();
        kinds.dedup();
        msg.push_str(&format!(
            " Left out {} that {} ({}): Almanac keeps events only.",
            counted(plan.other.len(), "component", "components"),
            if plan.other.len() == 1 {
                "is not an event"
            } else {
                "are not events"
            },
            kinds.join(", ")
        ));
    }
    if plan.skipped_cancelled > 0 {
        msg.push_str(&format!(
            " Skipped {} cancelled events.",
            plan.skipped_cancelled
        ));
    }
    if !plan.duplicates.is_empty() {
        msg.push_str(&format!(
            " {} the file had twice, the same, taken once.",
            counted(plan.duplicates.len(), "VEVENT", "VEVENTs")
        ));
    }
    if !plan.superseded.is_empty() {
        msg.push_str(&format!(
            " {} the file also has a newer version of (a higher SEQUENCE or a later stamp) left out.",
            counted(plan.superseded.len(), "older VEVENT", "older VEVENTs")
        ));
    }
    output::line(&msg)
}

/// Takes out of `plan` every event (with its changed occurrences) whose UID an event
/// of the calendar already has, and answers them as (UID, id of the one kept).
/// Importing a file again, or an invitation for a meeting already here, then makes no
/// copies; what is here, edits included, stays as it is (Thunderbird does the same).
fn skip_existing(plan: &mut Plan, existing: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut skipped = Vec::new();
    plan.events.retain(|(uid, _, _)| {
        let here = uid.as_ref().and_then(|u| existing.get(u).map(|id| (u, id)));
        if let Some((uid, id)) = here {
            skipped.push((uid.clone(), id.clone()));
        }
        here.is_none()
    });
    plan.exceptions
        .retain(|(uid, _, _, _)| !existing.contains_key(uid));
    // Versions of what is skipped are neither copies taken once nor older ones left.
    plan.duplicates.retain(|uid| !existing.contains_key(uid));
    plan.superseded.retain(|uid| !existing.contains_key(uid));
    skipped
}

/// Of the VEVENTs met under one key (a UID, or a UID and an occurrence), the one to
/// take: the one every other is the same as (exports joined that overlap: counted in
/// `duplicates`) or older than ([`Version`]: counted in `superseded`), wherever it
/// stands in the file. Stamps count only where both versions have one, so "older"
/// need not be transitive: each is tried. Where none is, every version that differs
/// from the first is one of the `problems`, `other` saying why, and none is taken.
fn newest<'a>(
    group: &[&'a Mapped],
    plan: &mut Plan,
    problems: &mut Vec<String>,
    other: &str,
) -> Option<&'a Mapped> {
    let covers = |w: &Mapped, m: &Mapped| {
        m.index == w.index || m.same_as(w) || m.version.newer(&w.version) == Some(Ordering::Less)
    };
    let Some(best) = group
        .iter()
        .copied()
        .find(|w| group.iter().all(|m| covers(w, m)))
    else {
        let first = group.first()?;
        for m in group.iter().filter(|m| !m.same_as(first)) {
            let why = match group.iter().find_map(|g| g.version.sequence.as_ref().err()) {
                Some(bad) => format!("a SEQUENCE (\"{bad}\") is not a whole number, so nothing tells which is newest"),
                None => "neither SEQUENCE, DTSTAMP nor LAST-MODIFIED tells which is newest".into(),
            };
            problems.push(format!("{}: {other}, and {why}.", m.label()));
        }
        return None;
    };
    for m in group.iter().filter(|m| m.index != best.index) {
        let uid = m.uid.clone().unwrap_or_default();
        if m.same_as(best) {
            plan.duplicates.push(uid);
        } else {
            plan.superseded.push(uid);
        }
    }
    Some(best)
}

/// The groups of `items` by key, in the order each key first appears.
fn grouped<K: Eq + std::hash::Hash + Clone, T>(
    items: impl IntoIterator<Item = (K, T)>,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    let mut at: HashMap<K, usize> = HashMap::new();
    for (k, t) in items {
        match at.get(&k) {
            Some(&i) => groups[i].1.push(t),
            None => {
                at.insert(k.clone(), groups.len());
                groups.push((k, vec![t]));
            }
        }
    }
    groups
}

/// "1 event", "3 events".
fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn read_bounded(path: &std::path::Path) -> CliResult<String> {
    let too_big = || {
        invalid(format!(
            "The file {} is larger than 10 MiB; Almanac imports at most 10 MiB at a time. Split the file and import the parts.",
            path.display()
        ))
    };
    let meta = std::fs::metadata(path).map_err(|e| file_error(path, &e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|e| file_error(path, &e))?;
    let mut bytes = Vec::new();
    // `take` also bounds files whose size the metadata does not tell (pipes, /dev/…).
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_error(path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let text = String::from_utf8(bytes)
        .or_else(|e| String::from_utf8(mend_split_characters(e.as_bytes())))
        .map_err(|_| {
            invalid(format!(
                "The file {} is not UTF-8 text, so it is not an iCalendar file.",
                path.display()
            ))
        })?;
    Ok(text.trim_start_matches('\u{feff}').to_owned())
}

/// `bytes` with the characters a fold split (RFC 5545 §3.1 only says a writer SHOULD
/// NOT) whole again: the continuation bytes after a fold's line break and space go
/// before it. The lines stay as many, so errors still name the file's own lines.
fn mend_split_characters(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let fold = [&b"\r\n "[..], b"\r\n\t", b"\n ", b"\n\t"]
            .into_iter()
            .find(|f| rest.starts_with(f))
            .map_or(0, <[u8]>::len);
        if fold == 0 {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let after = i + fold;
        let continuation = bytes[after..]
            .iter()
            .take(3)
            .take_while(|b| (0x80..=0xBF).contains(*b))
            .count();
        out.extend_from_slice(&bytes[after..after + continuation]);
        out.extend_from_slice(&bytes[i..after]);
        i = after + continuation;
    }
    out
}

fn too_many(n: usize) -> AppError {
    invalid(format!(
        "The file has {n} events; Almanac imports at most {MAX_EVENTS} at a time. Split the file and import the parts."
    ))
}

/// Parses, maps and validates everything; `Err` lists every bad VEVENT.
fn plan(text: &str, calendar_id: &str, local: Tz) -> CliResult<Plan> {
    // Cheap count before parsing, so a huge number of events costs no parse.
    let begins = text
        .lines()
        .filter(|l| l.trim().eq_ignore_ascii_case("BEGIN:VEVENT"))
        .count();
    if begins > MAX_EVENTS {
        return Err(too_many(begins));
    }
    let normalized = normalize(&icalendar::parser::unfold(text))?;
    if normalized.is_empty() {
        return Err(invalid("The file is empty; it is not an iCalendar file."));
    }
    let mut components = Vec::new();
    // Per component: its calendar is a cancellation (`METHOD:CANCEL`, RFC 5546): each
    // of its events is one cancelled, whatever its own STATUS says.
    let mut cancelling = Vec::new();
    for (first_line, part) in top_level_blocks(&normalized) {
        // The parser reads any block as a calendar: a vCard would import nothing, "ok".
        let begin = part.lines().next().unwrap_or_default();
        let begin = begin.trim_start_matches('\u{feff}').trim();
        if !begin.eq_ignore_ascii_case("BEGIN:VCALENDAR") {
            let shown: String = begin.chars().take(60).collect();
            return Err(invalid(format!(
                "The file is not valid iCalendar: at unfolded line {} it has \"{}\" where \
                 BEGIN:VCALENDAR was expected. Nothing was imported.",
                first_line + 1,
                output::one_line(&shown)
            )));
        }
        let calendar = icalendar::parser::read_calendar(part)
            .map_err(|e| parse_error(&e, part, first_line))?;
        let cancels = calendar.properties.iter().any(|p| {
            p.name.as_str().eq_ignore_ascii_case("METHOD")
                && p.val.as_str().trim().eq_ignore_ascii_case("CANCEL")
        });
        cancelling.extend(std::iter::repeat_n(cancels, calendar.components.len()));
        components.extend(calendar.components);
    }
    let is = |c: &Component<'_>, name: &str| c.name.as_str().eq_ignore_ascii_case(name);
    // An event inside anything but the calendar is no event of it: said, not dropped.
    if let Some(outer) = components
        .iter()
        .find(|c| !is(c, "VEVENT") && holds_an_event(c))
    {
        return Err(invalid(format!(
            "The file has a VEVENT inside a {}, where iCalendar has none. Nothing was \
             imported.",
            output::one_line(outer.name.as_str())
        )));
    }
    // The zones the file's own VTIMEZONEs define (a TZID is only a label).
    let declared = Declared::read(&components, zone, local);
    let vevents: Vec<(&Component<'_>, bool)> = (components.iter().zip(cancelling))
        .filter(|(c, _)| is(c, "VEVENT"))
        .collect();
    // To-dos, journal entries, free/busy: not events, left out and said so.
    let other: Vec<String> = components
        .iter()
        .filter(|c| !is(c, "VEVENT") && !is(c, "VTIMEZONE"))
        .map(|c| c.name.as_str().to_ascii_uppercase())
        .collect();
    if vevents.len() > MAX_EVENTS {
        return Err(too_many(vevents.len()));
    }

    let mut problems = Vec::new();
    let mut mapped = Vec::new();
    for (index, &(c, by_method)) in vevents.iter().enumerate() {
        // Control characters have no place in a UID (RFC 5545 TEXT): kept as U+FFFD,
        // the same in a file and on a terminal, so the UID finds its event again.
        let uid = first(c, "UID")
            .map(|p| {
                p.val
                    .as_str()
                    .trim()
                    .chars()
                    .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                    .collect::<String>()
            })
            .filter(|u| !u.is_empty());
        if uid
            .as_ref()
            .is_some_and(|u| u.chars().count() > MAX_UID_CHARS)
        {
            problems.push(format!(
                "{}: its UID is longer than {MAX_UID_CHARS} characters.",
                label(index, uid.as_deref())
            ));
            continue;
        }
        if holds_an_event(c) {
            problems.push(format!(
                "{}: it holds another VEVENT (in itself or an alarm), where iCalendar has none.",
                label(index, uid.as_deref())
            ));
            continue;
        }
        match map_vevent(c, calendar_id, local, &declared) {
            Ok((input, recurrence_id, cancelled, sensitivity)) => mapped.push(Mapped {
                index,
                given_uid: uid.is_some(),
                // A changed occurrence without a UID names no series: refused below.
                uid: uid.or_else(|| recurrence_id.is_none().then(|| uid_from_details(c))),
                recurrence_id,
                cancelled: cancelled || by_method,
                input,
                sensitivity,
                version: Version::of(c, &declared),
            }),
            Err(reason) => problems.push(format!("{}: {reason}", label(index, uid.as_deref()))),
        }
    }

    // Masters and single events, by UID: of several with one UID, the newest.
    let mut plan = Plan {
        other,
        ..Plan::default()
    };
    let mut taken: HashSet<usize> = HashSet::new();
    // UIDs whose versions nothing orders: their changed occurrences go with them.
    let mut refused: HashSet<&str> = HashSet::new();
    let singles = mapped
        .iter()
        .filter(|m| m.recurrence_id.is_none())
        .filter_map(|m| Some((m.uid.as_deref()?, m)));
    for (uid, group) in grouped(singles) {
        let other = "another VEVENT has the same UID and no RECURRENCE-ID, with other details";
        match newest(&group, &mut plan, &mut problems, other) {
            Some(m) => taken.insert(m.index),
            None => refused.insert(uid),
        };
    }
    let mut by_uid: HashMap<String, usize> = HashMap::new();
    // A cancelled series goes with its changed occurrences.
    let mut cancelled: HashSet<&str> = HashSet::new();
    let mut masters: Vec<Master> = Vec::new();
    for m in mapped.iter().filter(|m| m.recurrence_id.is_none()) {
        if m.uid.is_some() && !taken.contains(&m.index) {
            continue;
        }
        if m.cancelled {
            plan.skipped_cancelled += 1;
            cancelled.extend(m.uid.as_deref());
            continue;
        }
        match m.input.clone().validate() {
            Ok(v) => {
                if let Some(uid) = &m.uid {
                    by_uid.insert(uid.clone(), masters.len());
                    if !m.given_uid {
                        plan.made_uids.insert(uid.clone());
                    }
                }
                if m.sensitivity != Sensitivity::Normal {
                    plan.sensitivity.insert(m.label(), m.sensitivity);
                }
                masters.push(Master {
                    uid: m.uid.clone(),
                    input: m.input.clone(),
                    series: v.series,
                    label: m.label(),
                    version: m.version.clone(),
                });
            }
            Err(e) => problems.push(format!("{}: {e}", m.label())),
        }
    }

    // RECURRENCE-ID VEVENTs: occurrence edits (or, cancelled, removals) of a series,
    // by series and occurrence.
    // (index of the series in `masters`, key): one series has one UID.
    let mut changes: Vec<((usize, String), &Mapped)> = Vec::new();
    let mut occurrences = Occurrences::default();
    for m in mapped.iter() {
        let Some(rid) = m.recurrence_id else { continue };
        let Some(uid) = &m.uid else {
            problems.push(format!(
                "{}: it has a RECURRENCE-ID but no UID naming its series.",
                m.label()
            ));
            continue;
        };
        let Some(&mi) = by_uid.get(uid) else {
            if cancelled.contains(uid.as_str()) || refused.contains(uid.as_str()) {
                continue;
            }
            problems.push(format!("{}: its RECURRENCE-ID refers to a repeating event with this UID, but the file has none (or it is not valid).", m.label()));
            continue;
        };
        let master = &masters[mi];
        let Some(spec) = master.series.clone() else {
            problems.push(format!(
                "{}: its RECURRENCE-ID refers to an event with this UID that does not repeat.",
                m.label()
            ));
            continue;
        };
        let zone = if master.input.all_day {
            Tz::UTC
        } else {
            spec.tz
        };
        let wall = if master.input.all_day {
            rid.written_date().and_time(NaiveTime::MIN)
        } else {
            rid.instance_wall(zone, spec.start.time())
        };
        let key = if master.input.all_day {
            format_date(wall.date())
        } else {
            format_wall_time(wall)
        };
        // A cancellation of a day the series already removes (an invitation joined
        // with its later cancellation) says nothing new.
        let removed = (master.input.recurrence.as_ref()).is_some_and(|r| r.exdates.contains(&key));
        if m.cancelled && removed {
            continue;
        }
        if !occurrences.has(mi, &spec, wall) {
            // An older version's change of a series moved since (an invitation and
            // its update): the update replaced it.
            if m.version.newer(&master.version) == Some(Ordering::Less) {
                plan.superseded.push(uid.clone());
                continue;
            }
            problems.push(format!(
                "{}: its RECURRENCE-ID {key} is not an occurrence of the series.",
                m.label()
            ));
            continue;
        }
        changes.push(((mi, key), m));
    }
    for ((mi, key), group) in grouped(changes) {
        let other = format!("another VEVENT changes the occurrence {key} too, differently");
        let Some(m) = newest(&group, &mut plan, &mut problems, &other) else {
            continue;
        };
        let master = &mut masters[mi];
        let (Some(uid), Some(spec)) = (master.uid.clone(), master.series.clone()) else {
            continue;
        };
        let master_calendar = master.input.calendar_id.clone();
        if m.cancelled {
            let exdates = &mut master
                .input
                .recurrence
                .get_or_insert_with(|| RecurrenceInput {
                    rrule: spec.rrule.clone(),
                    exdates: Vec::new(),
                    rdates: Vec::new(),
                })
                .exdates;
            if !exdates.contains(&key) {
                exdates.push(key);
            }
            continue;
        }
        let mut input = m.input.clone();
        input.recurrence = None;
        input.calendar_id = master_calendar;
        match input.clone().validate() {
            Ok(_) => {
                if m.sensitivity != Sensitivity::Normal {
                    plan.sensitivity.insert(m.label(), m.sensitivity);
                }
                plan.exceptions.push((uid, key, input, m.label()));
            }
            Err(e) => problems.push(format!("{}: {e}", m.label())),
        }
    }

    // Cancelled occurrences became EXDATEs: validate the masters again.
    for master in &masters {
        if let Err(e) = master.input.clone().validate() {
            problems.push(format!("{}: {e}", master.label));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| {
            p.strip_prefix("VEVENT #")
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        });
        problems.dedup();
        return Err(invalid(format!(
            "Nothing was imported: {} of {} events cannot be imported:\n  {}",
            problems.len(),
            vevents.len(),
            problems.join("\n  ")
        )));
    }
    plan.events = masters
        .into_iter()
        .map(|m| (m.uid, m.label, m.input))
        .collect();
    Ok(plan)
}

/// The unfolded text as the parser wants it: one property per line, no blank lines,
/// every line ended by CRLF. A property line loses only its terminator (a value may
/// end in spaces). CRLF, not LF: the parser looks for `\r\n` first when it reads a
/// value, and with LF alone that search ran to the end of the file for every property.
///
/// The parser also goes one call deeper for every BEGIN, so nesting deeper than
/// [`MAX_NESTING`] is refused here, before it could overflow the stack.
fn normalize(unfolded: &str) -> CliResult<String> {
    let mut out = String::with_capacity(unfolded.len() + unfolded.len() / 16);
    let mut depth = 0usize;
    let mut line_no = 0usize;
    for line in unfolded.lines() {
        // A byte-order mark begins each file of exports joined with `cat`.
        let line = line.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        line_no += 1;
        let starts = |tag: &str| {
            line.get(..tag.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(tag))
        };
        let (begin, end) = (starts("BEGIN:"), starts("END:"));
        // A BEGIN or END line (or a line without a value) has no value whose spaces
        // matter, and the parser wants its name to end the line.
        let line = if begin || end || !line.contains(':') {
            line.trim_end()
        } else {
            line
        };
        if !begin && !end {
            if let Some(why) = not_a_property_line(line) {
                return Err(invalid(format!(
                    "The file is not valid iCalendar (near unfolded line {line_no}: \"{}\"): {why}. Nothing was imported.",
                    output::one_line(&line.chars().take(80).collect::<String>())
                )));
            }
        }
        if begin {
            depth += 1;
            if depth > MAX_NESTING {
                return Err(invalid(format!(
                    "The file is not valid iCalendar (near unfolded line {line_no}: \"{}\"): its BEGIN … END blocks nest more than {MAX_NESTING} deep; a calendar needs at most 3 (VCALENDAR > VEVENT > VALARM). Nothing was imported.",
                    line.chars().take(80).collect::<String>()
                )));
            }
        } else if end {
            depth = depth.saturating_sub(1);
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    Ok(out)
}

/// The normalized text cut before each top-level BEGIN, each part with the number of
/// lines before it: files made by joining exports hold several VCALENDARs one after
/// another, and the parser reads only the first of them.
fn top_level_blocks(normalized: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let (mut depth, mut part_start, mut part_line) = (0usize, 0usize, 0usize);
    let mut at = 0;
    for (line_no, line) in normalized.split_inclusive("\r\n").enumerate() {
        let starts = |tag: &str| {
            line.get(..tag.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(tag))
        };
        if starts("BEGIN:") {
            if depth == 0 && at > part_start {
                parts.push((part_line, &normalized[part_start..at]));
                (part_start, part_line) = (at, line_no);
            }
            depth += 1;
        } else if starts("END:") {
            depth = depth.saturating_sub(1);
        }
        at += line.len();
    }
    parts.push((part_line, &normalized[part_start..]));
    parts
}

/// The parser's error names a line of `text`, which starts after `lines_before` lines
/// of the unfolded file: show that line.
fn parse_error(e: &str, text: &str, lines_before: usize) -> AppError {
    let line_no = e
        .split("at line ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok());
    let detail = match line_no.and_then(|n| text.lines().nth(n.saturating_sub(1)).map(|l| (n, l))) {
        Some((n, l)) => format!(
            " (near unfolded line {}: \"{}\")",
            n + lines_before,
            l.chars().take(80).collect::<String>()
        ),
        None => String::new(),
    };
    invalid(format!(
        "The file is not valid iCalendar{detail}; expected BEGIN:VCALENDAR … END:VCALENDAR with one property per line."
    ))
}

/// What makes `line` (unfolded) no iCalendar content line, if anything: RFC 5545
/// §3.1 `name *(";" param) ":" value`, a parameter value that may be quoted (and hold
/// ':' and ';' then). The parser reads more as a property — a name alone, a line
/// without ':' cut where it stops making sense — and then a start time so written
/// (`DTSTART;TZID=Europe/Berlin 20261210T090000`) was imported as none, or the second
/// line of a badly folded description as a property of its own, its text dropped. A
/// name may hold '.', ',', '/' and '_' as well, as the parser allows: files it read
/// are not refused for them now.
fn not_a_property_line(line: &str) -> Option<String> {
    let in_name = |c: char| c.is_alphanumeric() || matches!(c, '.' | ',' | '/' | '_' | '-');
    let name_end = line.find(|c: char| !in_name(c)).unwrap_or(line.len());
    let rest = &line[name_end..];
    match rest.chars().next() {
        Some(';' | ':') if name_end == 0 => {
            return Some("the line has no property name before its ':' or ';'".into());
        }
        Some(';' | ':') => {}
        Some(c) if line.contains(':') => {
            return Some(format!(
                "{c:?} in the property name, which holds letters, digits and '-'"
            ));
        }
        _ => return Some("the line has no ':' (every property is NAME:value)".into()),
    }
    let mut quoted = false;
    for c in rest.chars() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return None,
            _ => {}
        }
    }
    Some(if quoted {
        "a parameter's quote is never closed, so its ':' is never reached".into()
    } else {
        "the line has no ':' (every property is NAME:value)".into()
    })
}

/// The UID of a VEVENT the file gave none (RFC 5545 requires one; some exporters
/// leave it out), made from what it says: importing the file again, or a later
/// export of the same events, then finds the event instead of copying it; an event
/// whose details changed since is a new one (nothing else tells it is the same).
///
/// A digest of its properties in a canonical form — names and parameter names in
/// upper case, parameters sorted, the properties sorted (their order means nothing,
/// RFC 5545 §3.6), its alarms the same way — leaving out the stamps an exporter may
/// set to the time of the export (DTSTAMP, LAST-MODIFIED, CREATED) and SEQUENCE,
/// which counts changes of something else. The value is stored, so its form must
/// not change: `a_made_uid_is_stable` pins one.
fn uid_from_details(c: &Component<'_>) -> String {
    const STAMPS: [&str; 4] = ["DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE"];
    // Every part goes in with its length, so no two different events run together.
    fn part(out: &mut Vec<u8>, text: &str) {
        out.extend((text.len() as u64).to_le_bytes());
        out.extend(text.as_bytes());
    }
    fn canonical(c: &Component<'_>) -> Vec<u8> {
        let mut said: Vec<Vec<u8>> = c
            .properties
            .iter()
            .filter(|p| {
                !STAMPS
                    .iter()
                    .any(|s| p.name.as_str().eq_ignore_ascii_case(s))
            })
            .map(|p| {
                let mut params: Vec<(String, &str)> = p
                    .params
                    .iter()
                    .map(|x| {
                        let key = x.key.as_str().to_ascii_uppercase();
                        (key, x.val.as_ref().map_or("", |v| v.as_str()))
                    })
                    .collect();
                params.sort();
                let mut out = vec![b'P'];
                part(&mut out, &p.name.as_str().to_ascii_uppercase());
                out.extend((params.len() as u64).to_le_bytes());
                for (key, val) in params {
                    part(&mut out, &key);
                    part(&mut out, val);
                }
                part(&mut out, p.val.as_str());
                out
            })
            .collect();
        said.extend(c.components.iter().map(|sub| {
            let mut out = vec![b'C'];
            part(&mut out, &sub.name.as_str().to_ascii_uppercase());
            out.extend(canonical(sub));
            out
        }));
        said.sort();
        let mut out = Vec::new();
        out.extend((said.len() as u64).to_le_bytes());
        for s in said {
            out.extend((s.len() as u64).to_le_bytes());
            out.extend(s);
        }
        out
    }
    let digest: String = Sha256::digest(canonical(c))[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("almanac-details-{digest}")
}

/// The occurrences of each series (by its index among the file's masters), expanded
/// once up to a year past the latest one asked about: expanded for each
/// RECURRENCE-ID, the rule was walked from the series' start each time (thousands of
/// changed occurrences took minutes).
#[derive(Default)]
struct Occurrences {
    by_series: HashMap<usize, (NaiveDateTime, HashSet<NaiveDateTime>)>,
}

impl Occurrences {
    /// [`is_instance`], from the series' expansion.
    fn has(&mut self, series: usize, spec: &SeriesSpec, wall: NaiveDateTime) -> bool {
        if let Some((upto, walls)) = self.by_series.get(&series) {
            if wall <= *upto {
                return walls.contains(&wall);
            }
        }
        let upto = wall + Duration::days(366);
        let first = spec.rdates.iter().copied().chain([spec.start]).min();
        let from = first.unwrap_or(spec.start).and_utc() - Duration::days(2);
        match spec.expand(from, upto.and_utc() + Duration::days(2), 200_000) {
            Ok(found) => {
                let walls: HashSet<NaiveDateTime> = found.into_iter().map(|i| i.original).collect();
                let has = walls.contains(&wall);
                self.by_series.insert(series, (upto, walls));
                has
            }
            // Too many to hold: asked on its own, as before.
            Err(_) => is_instance(spec, wall),
        }
    }
}

/// Whether `wall` is an instance of the series (EXDATEs excluded), as the store checks it.
fn is_instance(spec: &SeriesSpec, wall: NaiveDateTime) -> bool {
    let probe = wall.and_utc();
    spec.expand(probe - Duration::days(2), probe + Duration::days(2), 10_000)
        .map(|found| found.iter().any(|i| i.original == wall))
        .unwrap_or(false)
}

/// Creates the events, then the occurrence edits, in one store transaction: a failure
/// anywhere rolls every write back.
fn write(
    store: &mut Store,
    ctx: &Ctx,
    events: Vec<(Option<String>, String, EventInput)>,
    exceptions: Vec<(String, String, EventInput, String)>,
    sensitivity: &HashMap<String, Sensitivity>,
) -> CliResult<(Vec<String>, usize)> {
    let count = exceptions.len();
    // The label of the VEVENT being written, for the error message.
    let mut current = String::new();
    let result = store.batch(Source::Import, ctx.now, |b| {
        let mut created: Vec<String> = Vec::new();
        let mut ids_by_uid: HashMap<String, String> = HashMap::new();
        for (uid, lbl, input) in events {
            current = lbl;
            let v = b.create_event(input)?;
            if let Some(s) = sensitivity.get(&current) {
                b.set_sensitivity(&v.id, *s)?;
            }
            if let Some(uid) = uid {
                b.keep_ical_uid(&v.id, &uid)?;
                ids_by_uid.insert(uid, v.id.clone());
            }
            created.push(v.id);
        }
        for (uid, key, input, lbl) in exceptions {
            current = lbl;
            let Some(master) = ids_by_uid.get(&uid).cloned() else {
                return Err(almanac_store::StoreError::BadRequest(
                    "its series was not created".into(),
                ));
            };
            let v = b.update_event(EventChange {
                id: master,
                scope: EditScope::Occurrence,
                original_start: Some(key),
                input,
            })?;
            if let Some(s) = sensitivity.get(&current) {
                b.set_sensitivity(&v.id, *s)?;
            }
        }
        Ok(created)
    });
    match result {
        Ok(created) => Ok((created, count)),
        Err(e) => {
            let e: AppError = e.into();
            Err(AppError::new(
                e.code,
                format!("{current}: {}; nothing was imported.", e.message),
            ))
        }
    }
}

fn props<'c>(
    c: &'c Component<'_>,
    name: &'static str,
) -> impl Iterator<Item = &'c Property<'c>> + 'c {
    c.properties
        .iter()
        .filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn first<'c>(c: &'c Component<'_>, name: &'static str) -> Option<&'c Property<'c>> {
    props(c, name).next()
}

fn param<'p>(p: &'p Property<'_>, key: &str) -> Option<&'p str> {
    p.params
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|x| x.val.as_ref())
        .map(|v| v.as_str().trim().trim_matches('"'))
}

/// A TEXT value; the parser unescapes only properties written in upper case.
fn text(p: &Property<'_>) -> String {
    let v = p.val.as_str();
    if p.name.as_str().chars().any(|c| c.is_ascii_lowercase()) {
        unescape(v)
    } else {
        v.to_owned()
    }
}

/// The zone a TZID names: an IANA name, also in the `/vendor/…/Europe/Berlin` forms some
/// producers use, or a Windows name as Outlook writes it (`W. Europe Standard Time`,
/// through CLDR's table).
fn zone(tzid: &str) -> Result<Tz, String> {
    let tzid = tzid.trim();
    if let Ok(tz) = tzid.parse::<Tz>() {
        return Ok(tz);
    }
    for (i, c) in tzid.char_indices() {
        if c == '/' {
            if let Ok(tz) = tzid[i + 1..].parse::<Tz>() {
                return Ok(tz);
            }
        }
    }
    if let Some(tz) = almanac_graph::windows_zones::parse(tzid) {
        return Ok(tz);
    }
    Err(format!(
        "unknown time zone \"{}\" (TZID); IANA names such as Europe/Berlin and Windows \
         names such as W. Europe Standard Time are supported.",
        tzid.chars().take(60).collect::<String>()
    ))
}

/// One date or date-time value with the property's VALUE and TZID parameters.
fn when(name: &str, value: &str, p: &Property<'_>, declared: &Declared) -> Result<When, String> {
    let v = value.trim();
    let bad = || {
        format!(
            "{name} \"{}\" is not a date or date-time.",
            v.chars().take(60).collect::<String>()
        )
    };
    let is_date = param(p, "VALUE").is_some_and(|t| t.eq_ignore_ascii_case("DATE"))
        || (v.len() == 8 && !v.contains('T'));
    if is_date {
        return parse_ics_date(v).map(When::Date).ok_or_else(bad);
    }
    if let Some(utc) = v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        return parse_ics_wall(utc).map(When::Utc).ok_or_else(bad);
    }
    let t = parse_ics_wall(v).ok_or_else(bad)?;
    // `TZID=` with nothing after it names no zone: not a floating time.
    let tzid_given = p
        .params
        .iter()
        .any(|x| x.key.as_str().eq_ignore_ascii_case("TZID"));
    match param(p, "TZID").filter(|z| !z.is_empty()) {
        Some(tzid) => Ok(When::Zoned(
            t,
            declared.get(tzid).unwrap_or_else(|| zone(tzid))?,
        )),
        None if tzid_given => Err(format!(
            "{name} has an empty TZID, which names no time zone."
        )),
        None => Ok(When::Floating(t)),
    }
}

/// All values of a multi-valued date property (EXDATE, RDATE) as instance keys. A
/// date in a timed series (`EXDATE;VALUE=DATE`, as some producers write) names that
/// day's instance at the series' time of day, `at`.
fn date_list(
    c: &Component<'_>,
    name: &'static str,
    all_day: bool,
    tz: Tz,
    at: NaiveTime,
    declared: &Declared,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in props(c, name) {
        for v in p.val.as_str().split(',').filter(|v| !v.trim().is_empty()) {
            // RDATE;VALUE=PERIOD: the start of the period.
            let v = v.split('/').next().unwrap_or(v);
            let w = when(name, v, p, declared)?;
            out.push(match w {
                _ if all_day => format_date(w.written_date()),
                When::Date(d) => format_wall_time(d.and_time(at)),
                _ => format_wall_time(w.instance_wall(tz, at)),
            });
        }
    }
    Ok(out)
}

/// The end of a timed event that lasts `days` nominal days and `secs` exact seconds
/// (RFC 5545 §3.3.6): the days move the wall time in the start's own zone (UTC for a
/// UTC start, `zone` for a floating one), so `P1D` ends at the same time of day across
/// a DST change; the seconds are then added to that instant. `None` when out of range.
fn nominal_end(start: When, zone: Tz, days: i64, secs: i64) -> Option<DateTime<Utc>> {
    let (wall, in_zone) = match start {
        When::Zoned(t, z) => (t, z),
        When::Utc(t) => (t, Tz::UTC),
        other => (other.wall_in(zone), zone),
    };
    let wall = wall.checked_add_signed(Duration::try_days(days)?)?;
    to_instant(wall, in_zone).checked_add_signed(Duration::try_seconds(secs)?)
}

/// Maps one VEVENT; returns the input, its RECURRENCE-ID and whether it is cancelled.
fn map_vevent(
    c: &Component<'_>,
    calendar_id: &str,
    local: Tz,
    declared: &Declared,
) -> Result<(EventInput, Option<When>, bool, Sensitivity), String> {
    let dtstart = first(c, "DTSTART").ok_or("it has no DTSTART.")?;
    let start = when("DTSTART", dtstart.val.as_str(), dtstart, declared)?;
    let rules: Vec<&Property<'_>> = props(c, "RRULE").collect();
    if rules.len() > 1 {
        return Err("it has more than one RRULE, which Almanac does not support.".into());
    }
    let all_day = matches!(start, When::Date(_));
    // UTC times keep their exact instants: a series stays in UTC (RFC 5545 repeats it
    // in UTC); a single event is shown in the local zone.
    let tz = match start {
        When::Zoned(_, z) => z,
        When::Utc(_) if !rules.is_empty() => Tz::UTC,
        _ => local,
    };
    let start_wall = start.wall_in(tz);
    let (start_text, end_text) = if all_day {
        let s = start_wall.date();
        let end = if let Some(p) = first(c, "DTEND") {
            when("DTEND", p.val.as_str(), p, declared)?.date_in(tz)
        } else if let Some(p) = first(c, "DURATION") {
            let bad = || format!("DURATION \"{}\" is not valid.", p.val.as_str());
            let secs = parse_duration(p.val.as_str()).ok_or_else(bad)?;
            Duration::try_days(secs.div_euclid(86_400))
                .and_then(|d| s.checked_add_signed(d))
                .ok_or_else(bad)?
        } else {
            s
        };
        // Some producers write DTEND = DTSTART for one-day events.
        let end = if end == s {
            s.succ_opt().ok_or("DTSTART is out of range.")?
        } else {
            end
        };
        (format_date(s), format_date(end))
    } else {
        let end = if let Some(p) = first(c, "DTEND") {
            match when("DTEND", p.val.as_str(), p, declared)? {
                When::Date(_) => return Err("DTEND is a date but DTSTART is a date-time.".into()),
                w => w.event_time_in(tz),
            }
        } else if let Some(p) = first(c, "DURATION") {
            let bad = || format!("DURATION \"{}\" is not valid.", p.val.as_str());
            let (days, secs) = parse_duration_parts(p.val.as_str()).ok_or_else(bad)?;
            let end = nominal_end(start, tz, days, secs).ok_or_else(bad)?;
            EventTime::of(end, tz).to_string()
        } else {
            start.event_time_in(tz)
        };
        (start.event_time_in(tz), end)
    };
    let recurrence = match rules.first() {
        Some(rule) => Some(RecurrenceInput {
            rrule: rule.val.as_str().trim().to_owned(),
            exdates: date_list(c, "EXDATE", all_day, tz, start_wall.time(), declared)?,
            rdates: date_list(c, "RDATE", all_day, tz, start_wall.time(), declared)?,
        }),
        None if first(c, "RDATE").is_some() && first(c, "RECURRENCE-ID").is_none() => {
            return Err("it has RDATE without RRULE, which Almanac does not support.".into())
        }
        None => None,
    };
    let recurrence_id = match first(c, "RECURRENCE-ID") {
        Some(p) => {
            if param(p, "RANGE").is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE")) {
                return Err("RECURRENCE-ID with RANGE=THISANDFUTURE is not supported.".into());
            }
            Some(when("RECURRENCE-ID", p.val.as_str(), p, declared)?)
        }
        None => None,
    };
    let title = first(c, "SUMMARY")
        .map(text)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let show_as = match first(c, "X-MICROSOFT-CDO-BUSYSTATUS")
        .map(|p| p.val.as_str().trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("FREE") => ShowAs::Free,
        Some("TENTATIVE") => ShowAs::Tentative,
        Some("OOF") => ShowAs::Oof,
        Some("WORKINGELSEWHERE") => ShowAs::WorkingElsewhere,
        Some("BUSY") => ShowAs::Busy,
        _ if first(c, "TRANSP")
            .is_some_and(|p| p.val.as_str().trim().eq_ignore_ascii_case("TRANSPARENT")) =>
        {
            ShowAs::Free
        }
        _ if first(c, "STATUS")
            .is_some_and(|p| p.val.as_str().trim().eq_ignore_ascii_case("TENTATIVE")) =>
        {
            ShowAs::Tentative
        }
        _ => ShowAs::Busy,
    };
    let importance =
        match first(c, "PRIORITY").and_then(|p| p.val.as_str().trim().parse::<u8>().ok()) {
            Some(1..=4) => Importance::High,
            Some(6..=9) => Importance::Low,
            _ => Importance::Normal,
        };
    let cancelled =
        first(c, "STATUS").is_some_and(|p| p.val.as_str().trim().eq_ignore_ascii_case("CANCELLED"));
    let input = EventInput {
        calendar_id: calendar_id.to_owned(),
        title: title.unwrap_or_else(|| "(no title)".to_owned()),
        all_day,
        start: start_text,
        end: end_text,
        time_zone: tz.name().to_owned(),
        recurrence,
        location: first(c, "LOCATION").map(text).unwrap_or_default(),
        description: first(c, "DESCRIPTION").map(text).unwrap_or_default(),
        show_as,
        importance,
        categories: props(c, "CATEGORIES")
            .flat_map(|p| split_text_list(p.val.as_str()))
            .collect(),
    };
    let sensitivity = match first(c, "CLASS").map(|p| p.val.as_str().trim().to_ascii_uppercase()) {
        Some(class) if class == "PRIVATE" => Sensitivity::Private,
        Some(class) if class == "CONFIDENTIAL" => Sensitivity::Confidential,
        _ => Sensitivity::Normal,
    };
    Ok((input, recurrence_id, cancelled, sensitivity))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UID made for the one VEVENT of `vevent` (its lines, CRLF-ended).
    fn made_uid(vevent: &str) -> String {
        let text =
            format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{vevent}END:VCALENDAR\r\n");
        let plan = plan(&text, "local", Tz::UTC).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!(plan.events.len(), 1);
        let uid = plan.events[0].0.clone().unwrap_or_default();
        assert!(plan.made_uids.contains(&uid), "{uid}");
        uid
    }

    /// A made UID is stored: a later build must make the same one for the same event,
    /// or importing the file again would copy it. Order, case and stamps do not count.
    #[test]
    fn a_made_uid_is_stable() {
        let uid = made_uid(
            "BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Kickoff\\, Acme\r\n\
             DTSTART;TZID=Europe/Berlin:20260310T140000\r\nDURATION:PT45M\r\n\
             ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Ana:mailto:ana@example.com\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n",
        );
        assert_eq!(uid, "almanac-details-f6dc768da488c35b315f6c7d9bcc3c8c");
        let same = made_uid(
            "BEGIN:VEVENT\r\nBEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nEND:VALARM\r\n\
             ATTENDEE;cn=Ana;ROLE=REQ-PARTICIPANT:mailto:ana@example.com\r\nDURATION:PT45M\r\n\
             DTSTART;TZID=Europe/Berlin:20260310T140000\r\nSUMMARY:Kickoff\\, Ac\r\n me\r\n\
             DTSTAMP:20260401T101010Z\r\nLAST-MODIFIED:20260401T101010Z\r\nSEQUENCE:0\r\nEND:VEVENT\r\n",
        );
        assert_eq!(same, uid);
        let other = made_uid(
            "BEGIN:VEVENT\r\nSUMMARY:Kickoff\\, Acme\r\n\
             DTSTART;TZID=Europe/Berlin:20260310T150000\r\nDURATION:PT45M\r\n\
             ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Ana:mailto:ana@example.com\r\n\
             BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n",
        );
        assert_ne!(other, uid, "another time is another event");
    }

    /// Two VEVENTs without a UID that say the same in another order are one event,
    /// taken once, even where the order shows (categories), and nothing orders them.
    #[test]
    fn the_same_event_without_a_uid_in_another_order_is_taken_once() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n\
             BEGIN:VEVENT\r\nSUMMARY:Lunch\r\nDTSTART:20260310T120000Z\r\n\
             CATEGORIES:Work\r\nCATEGORIES:Blue\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nCATEGORIES:Blue\r\nCATEGORIES:Work\r\nSUMMARY:Lunch\r\n\
             DTSTART:20260310T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let plan = plan(text, "local", Tz::UTC).unwrap_or_else(|e| panic!("{}", e.message));
        assert_eq!((plan.events.len(), plan.duplicates.len()), (1, 1));
        assert_eq!(plan.events[0].2.categories, ["Work", "Blue"]);
    }
}
