//! `almanac export --ics FILE`: every event with an occurrence in the export window,
//! as an RFC 5545 VCALENDAR.
//!
//! The store has no "all event rows" API, so the rows are found through the public
//! API: `list_occurrences` over the window in chunks (one query is capped at
//! `MAX_QUERY_DAYS`), deduplicated to series masters and single events, then loaded
//! with `get_event`. A series goes out with every one of its exceptions, wherever they
//! were moved to (an importer rebuilds the whole series, so one left out would bring
//! its original occurrence back): `Store::exceptions_of`. A removed instance a provider
//! keeps as a cancelled exception goes out as `STATUS:CANCELLED`.
//!
//! TZID parameters carry IANA names, each with its VTIMEZONE (RFC 5545 requires one;
//! Outlook reads a TZID without one an hour off): `ics_zones.rs`. Almanac's import
//! reads the TZID's name.

use std::collections::{HashMap, HashSet};

use almanac_model::time::{parse_date, parse_instant, parse_zone, to_instant, EventTime};
use almanac_model::{EventKind, EventView, Importance, RangeQuery, Sensitivity, ShowAs};
use almanac_store::Store;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};

use crate::args::ExportArgs;
use crate::error::{file_error, invalid, storage, CliResult};
use crate::ics_people;
use crate::ics_text::{escape, ics_date, ics_wall, push_line};
use crate::ics_zones;
use crate::output;
use crate::zone::{instant_text, local_zone, range_end, range_start};
use crate::Ctx;

/// One query asks for at most this many days (below the store's cap).
const CHUNK_DAYS: i64 = 1_000;
const DEFAULT_YEARS: i64 = 5;

pub fn export(store: &mut Store, ctx: &Ctx, a: &ExportArgs) -> CliResult<()> {
    let tz = local_zone(ctx.tz.as_deref())?;
    let from = match &a.from {
        Some(v) => range_start(v, tz)?,
        None => ctx.now - Duration::days(365 * DEFAULT_YEARS),
    };
    let to = match &a.to {
        Some(v) => range_end(v, tz)?,
        None => ctx.now + Duration::days(365 * DEFAULT_YEARS),
    };
    if to <= from {
        return Err(invalid(
            "The end of the export range must be after its start.",
        ));
    }
    let calendars = (!a.calendars.is_empty()).then(|| a.calendars.clone());
    let (events, exceptions) = gather(store, from, to, calendars)?;
    let uids = unique_uids(&events, |id| Ok(store.ical_uid_of(id)?))?;
    let text = render(&events, &exceptions, &uids, ctx.now)?;
    if a.ics.as_os_str() == "-" {
        return output::document(text.trim_end());
    }
    std::fs::write(&a.ics, text).map_err(|e| file_error(&a.ics, &e))?;
    if ctx.json {
        output::json(&serde_json::json!({
            "file": a.ics.display().to_string(),
            "events": events.len(),
            "exceptions": exceptions.len(),
        }))
    } else {
        output::line(&format!(
            "Exported {} events and {} changed occurrences to {}.",
            events.len(),
            exceptions.len(),
            a.ics.display()
        ))
    }
}

/// Each event's UID (`uid_of`), one per event in a file: the same meeting in two
/// calendars (or one file imported into two) goes out the second time under its
/// Almanac id, or the file could not be imported again.
fn unique_uids(
    events: &[EventView],
    uid_of: impl Fn(&str) -> CliResult<String>,
) -> CliResult<HashMap<String, String>> {
    let mut uids = HashMap::new();
    let mut taken = HashSet::new();
    for e in events {
        let mut uid = uid_of(&e.id)?;
        // Taken: the event's id, or (an imported copy of this very export carries the
        // id as its UID) the id with a number.
        let mut n = 1;
        while taken.contains(&uid) {
            uid = if n == 1 {
                e.id.clone()
            } else {
                format!("{}-{n}", e.id)
            };
            n += 1;
        }
        taken.insert(uid.clone());
        uids.insert(e.id.clone(), uid);
    }
    Ok(uids)
}

/// A series' exception as exported.
#[derive(Debug)]
pub struct Exception {
    pub view: EventView,
    /// A removed instance (a provider's cancelled occurrence): it only hides its slot.
    pub cancelled: bool,
}

/// Masters and single events with an occurrence in the window, each once, in
/// first-seen order; and every exception of those series, series by series.
fn gather(
    store: &mut Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    calendar_ids: Option<Vec<String>>,
) -> CliResult<(Vec<EventView>, Vec<Exception>)> {
    let mut main_ids = Vec::new();
    let mut seen = HashSet::new();
    let mut cur = from;
    while cur < to {
        let next = (cur + Duration::days(CHUNK_DAYS)).min(to);
        let query = RangeQuery {
            from: instant_text(cur),
            to: instant_text(next),
            calendar_ids: calendar_ids.clone(),
        };
        for o in store.list_occurrences(&query)? {
            let main = o.series_id.unwrap_or(o.event_id);
            if seen.insert(main.clone()) {
                main_ids.push(main);
            }
        }
        cur = next;
    }
    let events = main_ids
        .iter()
        .map(|id| store.get_event(id))
        .collect::<Result<Vec<_>, _>>()?;
    let series: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::Master)
        .map(|e| e.id.as_str())
        .collect();
    let mut exceptions = Vec::new();
    for master in series {
        for (view, cancelled) in store.exceptions_of(master)? {
            exceptions.push(Exception { view, cancelled });
        }
    }
    Ok((events, exceptions))
}

/// `uids` gives each event's and series' UID by id (its own id when absent): the UID
/// it came with keeps it one event across files and calendars.
pub fn render(
    events: &[EventView],
    exceptions: &[Exception],
    uids: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> CliResult<String> {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Almanac//Almanac CLI//EN",
        "CALSCALE:GREGORIAN",
    ] {
        push_line(&mut out, l);
    }
    for line in vtimezones(events, exceptions, now) {
        push_line(&mut out, &line);
    }
    let masters: HashMap<&str, &EventView> = events.iter().map(|e| (e.id.as_str(), e)).collect();
    let uid = |id: &str| uids.get(id).map_or(id, String::as_str).to_owned();
    for e in events {
        vevent(&mut out, e, &uid(&e.id), None, false, now)?;
    }
    for Exception { view: e, cancelled } in exceptions {
        let master = e
            .series_id
            .as_deref()
            .and_then(|id| masters.get(id))
            .copied();
        let Some(master) = master else {
            return Err(storage(format!(
                "The changed occurrence {} has no series to belong to.",
                e.id
            )));
        };
        vevent(&mut out, e, &uid(&master.id), Some(master), *cancelled, now)?;
    }
    push_line(&mut out, "END:VCALENDAR");
    Ok(out)
}

/// A VTIMEZONE for each zone a TZID names (every timed event's zone that is not UTC),
/// over the years from the first event's to a year past the last one's, or now's.
fn vtimezones(events: &[EventView], exceptions: &[Exception], now: DateTime<Utc>) -> Vec<String> {
    let all = || events.iter().chain(exceptions.iter().map(|x| &x.view));
    let year = |e: &EventView| e.input.start.get(..4).and_then(|y| y.parse::<i32>().ok());
    let Some(first) = all().filter_map(year).min() else {
        return Vec::new();
    };
    let last = all()
        .filter_map(year)
        .max()
        .unwrap_or(first)
        .max(now.year())
        + 1;
    let mut zones: Vec<&str> = all()
        .filter(|e| !e.input.all_day && !is_utc(&e.input.time_zone))
        .map(|e| e.input.time_zone.as_str())
        .collect();
    zones.sort_unstable();
    zones.dedup();
    zones
        .into_iter()
        .filter_map(|z| parse_zone(z).ok())
        .flat_map(|tz| ics_zones::vtimezone(tz, first, last.max(first + 2)))
        .collect()
}

fn is_utc(zone: &str) -> bool {
    matches!(
        zone,
        "UTC" | "Etc/UTC" | "Etc/Universal" | "Universal" | "Zulu" | "Etc/Zulu" | "GMT" | "Etc/GMT"
    )
}

fn damaged(e: &EventView, what: &str) -> almanac_model::AppError {
    storage(format!("Event {} has an unreadable {what}.", e.id))
}

/// `NAME;VALUE=DATE:…`, `NAME:…Z` (UTC) or `NAME;TZID=zone:…` for a list of values.
fn time_prop(
    name: &str,
    values: &[String],
    all_day: bool,
    zone: &str,
    e: &EventView,
) -> CliResult<String> {
    let mut formatted = Vec::new();
    for v in values {
        if all_day {
            let d = parse_date(v).ok_or_else(|| damaged(e, name))?;
            formatted.push(ics_date(d));
        } else {
            let t = EventTime::parse(v).ok_or_else(|| damaged(e, name))?.wall;
            formatted.push(if is_utc(zone) {
                format!("{}Z", ics_wall(t))
            } else {
                ics_wall(t)
            });
        }
    }
    let params = if all_day {
        ";VALUE=DATE".to_owned()
    } else if is_utc(zone) {
        String::new()
    } else {
        format!(";TZID={zone}")
    };
    Ok(format!("{name}{params}:{}", formatted.join(",")))
}

/// DTSTART or DTEND. A time in the second pass of a DST fold (written with its
/// offset, see [`EventTime`]) goes out in UTC: with a TZID it would read as the first
/// pass. A series' DTSTART keeps its TZID (its rule repeats wall times in that zone);
/// its DTEND only sets the length, which a UTC end keeps.
fn bound_prop(name: &str, value: &str, e: &EventView) -> CliResult<String> {
    let i = &e.input;
    if !i.all_day && (i.recurrence.is_none() || name == "DTEND") {
        let t = EventTime::parse(value).ok_or_else(|| damaged(e, name))?;
        if t.offset.is_some() {
            let tz = parse_zone(&i.time_zone).map_err(|_| damaged(e, "time zone"))?;
            let (instant, _) = t.resolve(tz).ok_or_else(|| damaged(e, name))?;
            return Ok(format!("{name}:{}", instant.format("%Y%m%dT%H%M%SZ")));
        }
    }
    time_prop(name, &[value.to_owned()], i.all_day, &i.time_zone, e)
}

fn utc_stamp(rfc3339: &str) -> Option<String> {
    parse_instant(rfc3339).map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
}

/// The stored rule with `UNTIL` written as RFC 5545 wants it: UTC for timed events
/// (the model reads a floating UNTIL as a wall time in the event's zone), a date for
/// all-day ones.
fn export_rule(rule: &str, all_day: bool, zone: &str) -> String {
    let body = rule.trim();
    let body = body
        .strip_prefix("RRULE:")
        .or_else(|| body.strip_prefix("rrule:"))
        .unwrap_or(body);
    let tz = parse_zone(zone).unwrap_or(chrono_tz::Tz::UTC);
    body.split(';')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let Some((key, value)) = part.split_once('=') else {
                return part.to_ascii_uppercase();
            };
            let key = key.to_ascii_uppercase();
            if key != "UNTIL" {
                return format!("{key}={}", value.to_ascii_uppercase());
            }
            let value = value.to_ascii_uppercase();
            let until = if all_day {
                value.get(..8).unwrap_or(&value).to_owned()
            } else if value.ends_with('Z') {
                value
            } else if let Some(wall) = crate::ics_text::parse_ics_wall(&value) {
                to_instant(wall, tz).format("%Y%m%dT%H%M%SZ").to_string()
            } else if let Some(d) = crate::ics_text::parse_ics_date(&value) {
                let wall =
                    d.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
                to_instant(wall, tz).format("%Y%m%dT%H%M%SZ").to_string()
            } else {
                value
            };
            format!("UNTIL={until}")
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn vevent(
    out: &mut String,
    e: &EventView,
    uid: &str,
    master: Option<&EventView>,
    cancelled: bool,
    now: DateTime<Utc>,
) -> CliResult<()> {
    let i = &e.input;
    let mut lines = vec!["BEGIN:VEVENT".to_owned(), format!("UID:{}", escape(uid))];
    lines.push(format!("DTSTAMP:{}", now.format("%Y%m%dT%H%M%SZ")));
    if let Some(t) = utc_stamp(&e.created_at) {
        lines.push(format!("CREATED:{t}"));
    }
    if let Some(t) = utc_stamp(&e.updated_at) {
        lines.push(format!("LAST-MODIFIED:{t}"));
    }
    if let Some(m) = master {
        let key = e
            .original_start
            .clone()
            .ok_or_else(|| damaged(e, "original start"))?;
        // Keyed as its own kind: an occurrence a provider's series left behind when it
        // became all-day or timed keeps a key of the other kind (a date under a timed
        // series), which read as the series' kind failed the whole export.
        let key_all_day = parse_date(&key).is_some();
        lines.push(time_prop(
            "RECURRENCE-ID",
            &[key],
            key_all_day,
            &m.input.time_zone,
            e,
        )?);
    }
    lines.push(format!("SUMMARY:{}", escape(&i.title)));
    if !i.description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", escape(&i.description)));
    }
    if !i.location.is_empty() {
        lines.push(format!("LOCATION:{}", escape(&i.location)));
    }
    lines.push(bound_prop("DTSTART", &i.start, e)?);
    lines.push(bound_prop("DTEND", &i.end, e)?);
    lines.extend(ics_people::lines(&e.meeting));
    // Who may see it: left out, a private appointment read back anywhere is public.
    match e.sensitivity {
        Sensitivity::Private | Sensitivity::Personal => lines.push("CLASS:PRIVATE".to_owned()),
        Sensitivity::Confidential => lines.push("CLASS:CONFIDENTIAL".to_owned()),
        Sensitivity::Normal => {}
    }
    if let (Some(r), None) = (&i.recurrence, master) {
        lines.push(format!(
            "RRULE:{}",
            export_rule(&r.rrule, i.all_day, &i.time_zone)
        ));
        if !r.exdates.is_empty() {
            lines.push(time_prop("EXDATE", &r.exdates, i.all_day, &i.time_zone, e)?);
        }
        if !r.rdates.is_empty() {
            lines.push(time_prop("RDATE", &r.rdates, i.all_day, &i.time_zone, e)?);
        }
    }
    if !i.categories.is_empty() {
        let list: Vec<String> = i.categories.iter().map(|c| escape(c)).collect();
        lines.push(format!("CATEGORIES:{}", list.join(",")));
    }
    let (transp, busy) = match i.show_as {
        ShowAs::Free => ("TRANSPARENT", "FREE"),
        ShowAs::Tentative => ("OPAQUE", "TENTATIVE"),
        ShowAs::Busy => ("OPAQUE", "BUSY"),
        ShowAs::Oof => ("OPAQUE", "OOF"),
        ShowAs::WorkingElsewhere => ("OPAQUE", "WORKINGELSEWHERE"),
    };
    lines.push(format!("TRANSP:{transp}"));
    lines.push(format!("X-MICROSOFT-CDO-BUSYSTATUS:{busy}"));
    let priority = match i.importance {
        Importance::High => 1,
        Importance::Normal => 5,
        Importance::Low => 9,
    };
    lines.push(format!("PRIORITY:{priority}"));
    if cancelled {
        lines.push("STATUS:CANCELLED".to_owned());
    }
    lines.push("END:VEVENT".to_owned());
    for l in &lines {
        push_line(out, l);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_model::{EventInput, RecurrenceInput};

    fn view(id: &str, kind: EventKind, series: Option<&str>, start: &str) -> EventView {
        EventView {
            id: id.to_owned(),
            kind,
            series_id: series.map(str::to_owned),
            original_start: series.map(|_| start.to_owned()),
            input: EventInput {
                calendar_id: "local".into(),
                title: "Standup".into(),
                all_day: false,
                start: start.to_owned(),
                end: start.replace("T09:", "T10:"),
                time_zone: "Europe/Berlin".into(),
                recurrence: series.is_none().then(|| RecurrenceInput {
                    rrule: "FREQ=DAILY;COUNT=3".into(),
                    exdates: Vec::new(),
                    rdates: Vec::new(),
                }),
                location: String::new(),
                description: String::new(),
                show_as: ShowAs::Busy,
                importance: Importance::Normal,
                categories: Vec::new(),
            },
            meeting: Default::default(),
            formatted_description: false,
            sensitivity: Default::default(),
            created_at: "2026-03-01T00:00:00Z".into(),
            updated_at: "2026-03-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn one_uid_is_written_once() {
        let events = [
            view("a", EventKind::Single, None, "2026-03-02T09:00:00"),
            view("b", EventKind::Single, None, "2026-03-03T09:00:00"),
            view("c", EventKind::Single, None, "2026-03-04T09:00:00"),
        ];
        let uids = unique_uids(&events, |id| {
            Ok(if id == "c" {
                id.to_owned()
            } else {
                "meeting@example.com".to_owned()
            })
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(uids["a"], "meeting@example.com");
        assert_eq!(uids["b"], "b");
        assert_eq!(uids["c"], "c");
        // A copy imported from an export carries the original's id as its UID; listed
        // first, it takes it, and the original falls back to its id with a number.
        let uids = unique_uids(&events, |id| {
            Ok(if id == "a" {
                "b".to_owned()
            } else {
                id.to_owned()
            })
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((uids["a"].as_str(), uids["b"].as_str()), ("b", "b-2"));
    }

    #[test]
    fn a_cancelled_exception_goes_out_cancelled() {
        let master = view("m", EventKind::Master, None, "2026-03-02T09:00:00");
        let exceptions = [
            Exception {
                view: view("x1", EventKind::Exception, Some("m"), "2026-03-03T09:00:00"),
                cancelled: true,
            },
            Exception {
                view: view("x2", EventKind::Exception, Some("m"), "2026-03-04T09:00:00"),
                cancelled: false,
            },
        ];
        let text = render(&[master], &exceptions, &HashMap::new(), Utc::now())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let vevents: Vec<&str> = text.split("BEGIN:VEVENT").skip(1).collect();
        assert_eq!(vevents.len(), 3, "{text}");
        assert!(vevents[1].contains("RECURRENCE-ID;TZID=Europe/Berlin:20260303T090000\r\n"));
        assert!(vevents[1].contains("STATUS:CANCELLED\r\n"), "{text}");
        assert!(!vevents[0].contains("\nSTATUS:") && !vevents[2].contains("\nSTATUS:"));
    }

    #[test]
    fn an_occurrence_left_behind_by_an_all_day_switch_is_exported() {
        let master = view("m", EventKind::Master, None, "2026-03-02T09:00:00");
        let mut left = view("x", EventKind::Exception, Some("m"), "2026-03-03T09:00:00");
        left.original_start = Some("2026-03-03".into());
        let exceptions = [Exception {
            view: left,
            cancelled: false,
        }];
        let text = render(&[master], &exceptions, &HashMap::new(), Utc::now())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            text.contains("RECURRENCE-ID;VALUE=DATE:20260303\r\n"),
            "{text}"
        );
    }
}
