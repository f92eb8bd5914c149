//! `almanac events list|add|edit|rm`.

use std::collections::HashMap;

use almanac_model::time::{
    format_date, format_wall_time, parse_date, parse_instant, parse_zone, to_instant, EventTime,
};
use almanac_model::{
    instance_key, EditScope, EventChange, EventInput, EventKind, EventTarget, EventView,
    Importance, Occurrence, RangeQuery, RecurrenceInput, ShowAs,
};
use almanac_store::{Source, Store, MAX_QUERY_DAYS};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::args::{AddArgs, EditArgs, ImportanceArg, ListArgs, RmArgs, ShowAsArg};
use crate::error::{invalid, not_found, CliResult};
use crate::output;
use crate::zone::{
    default_end, event_instant, event_time, in_years, instant_text, local_zone, range_end,
    range_start, shift_event_time,
};
use crate::Ctx;

pub fn show_as(v: ShowAsArg) -> ShowAs {
    match v {
        ShowAsArg::Busy => ShowAs::Busy,
        ShowAsArg::Free => ShowAs::Free,
        ShowAsArg::Tentative => ShowAs::Tentative,
        ShowAsArg::Oof => ShowAs::Oof,
        ShowAsArg::WorkingElsewhere => ShowAs::WorkingElsewhere,
    }
}

pub fn importance(v: ImportanceArg) -> Importance {
    match v {
        ImportanceArg::Low => Importance::Low,
        ImportanceArg::Normal => Importance::Normal,
        ImportanceArg::High => Importance::High,
    }
}

pub fn list(store: &mut Store, ctx: &Ctx, a: &ListArgs) -> CliResult<()> {
    let tz = local_zone(ctx.tz.as_deref())?;
    let from = range_start(&a.from, tz)?;
    let to = range_end(&a.to, tz)?;
    let names: HashMap<String, String> = store
        .list_calendars()?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    if let Some(unknown) = a.calendars.iter().find(|id| !names.contains_key(*id)) {
        return Err(not_found(format!(
            "There is no calendar \"{}\"; `almanac calendars list` shows their ids.",
            unknown.chars().take(80).collect::<String>()
        )));
    }
    // All-day events are dates, stored from UTC midnight to UTC midnight: the store is
    // asked a day wider each side (within its longest range), and each date is then
    // taken as the local day it names (see `in_range`).
    let widen = Duration::days(1).min((Duration::days(MAX_QUERY_DAYS) - (to - from)) / 2);
    let widen = widen.max(Duration::zero());
    let query = RangeQuery {
        from: instant_text(in_years(from - widen)),
        to: instant_text(in_years(to + widen)),
        calendar_ids: (!a.calendars.is_empty()).then(|| a.calendars.clone()),
    };
    let occurrences: Vec<Occurrence> = store
        .list_occurrences(&query)?
        .into_iter()
        .filter(|o| in_range(o, from, to, tz))
        .collect();
    if ctx.json {
        return output::json(&occurrences);
    }
    for o in &occurrences {
        output::line(&output::occurrence_line(o, tz, &names))?;
    }
    Ok(())
}

/// Does `o` overlap `[from, to)`? A timed one by its instants (an instant of length
/// zero counts at its start), an all-day one by its dates read as local days in `tz`.
fn in_range(o: &Occurrence, from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> bool {
    let bounds = if o.all_day {
        let local = |d: &str| parse_date(d).map(|d| to_instant(d.and_time(NaiveTime::MIN), tz));
        local(&o.start).zip(local(&o.end))
    } else {
        parse_instant(&o.start).zip(parse_instant(&o.end))
    };
    let Some((start, end)) = bounds else {
        return true; // the store's own spelling; never hide what it returned
    };
    start < to && (end > from || (start == end && start >= from))
}

pub fn add(store: &mut Store, ctx: &Ctx, a: &AddArgs) -> CliResult<()> {
    let zone = local_zone(ctx.tz.as_deref())?.name().to_owned();
    let start = if a.all_day {
        a.start.trim().to_owned()
    } else {
        event_time(&a.start, &zone)
    };
    let end = match &a.end {
        Some(e) if a.all_day => e.trim().to_owned(),
        Some(e) => event_time(e, &zone),
        None => default_end(&start, a.all_day, &zone),
    };
    let input = EventInput {
        calendar_id: a.calendar.clone(),
        title: a.title.clone(),
        all_day: a.all_day,
        start,
        end,
        time_zone: zone,
        recurrence: a.rrule.as_ref().map(|rule| RecurrenceInput {
            rrule: rule.clone(),
            exdates: a.exdates.clone(),
            rdates: a.rdates.clone(),
        }),
        location: a.location.clone(),
        description: a.description.clone(),
        show_as: show_as(a.show_as),
        importance: importance(a.importance),
        categories: a.categories.clone(),
    };
    let view = store.create_event(input, Source::Cli, ctx.now)?;
    print_view(ctx, &view)
}

fn print_view(ctx: &Ctx, view: &EventView) -> CliResult<()> {
    if ctx.json {
        output::json(view)
    } else {
        output::line(&view.id)
    }
}

pub fn edit(store: &mut Store, ctx: &Ctx, a: &EditArgs) -> CliResult<()> {
    let view = store.get_event(&a.id)?;
    let (mut input, scope) = match (&a.occurrence, view.kind) {
        (None, _) => (view.input.clone(), EditScope::All),
        (Some(occ), EventKind::Master) => {
            if changes_rule(a) {
                return Err(invalid(
                    "The repeat rule and its dates belong to the whole series; drop --occurrence to change them.",
                ));
            }
            if a.calendar.is_some() {
                return Err(invalid("An occurrence stays in its series' calendar; drop --occurrence to move the series."));
            }
            (occurrence_base(store, &view, occ)?, EditScope::Occurrence)
        }
        // A single event is refused by the store with a clear message; an exception is
        // one occurrence already, edited in place whatever the scope.
        (Some(_), _) => (view.input.clone(), EditScope::Occurrence),
    };
    if view.kind == EventKind::Exception {
        let series = view.series_id.as_deref().unwrap_or("its series");
        if changes_rule(a) {
            return Err(invalid(format!(
                "This is one occurrence of a series: it repeats by the series' rule. \
                 Edit the series ({series}) to change the rule or its dates."
            )));
        }
        if a.calendar.is_some() {
            return Err(invalid(format!(
                "This is one occurrence of a series: it stays in the series' calendar. \
                 Edit the series ({series}) to move it."
            )));
        }
    }
    apply(&mut input, ctx, a)?;
    let change = EventChange {
        id: view.id.clone(),
        scope,
        original_start: a.occurrence.clone(),
        input,
    };
    let updated = store.update_event(change, Source::Cli, ctx.now)?;
    print_view(ctx, &updated)
}

/// The current state of one occurrence of a series: its exception if it has one
/// (wherever it was moved to), else the master's fields at the occurrence's own times.
fn occurrence_base(
    store: &mut Store,
    master: &EventView,
    occurrence: &str,
) -> CliResult<EventInput> {
    // One the series left behind at the provider (a key of the other kind) is named
    // by its own key: read as one of the series' days, it would take that day's data.
    if let Some(left) = store.left_behind_of(&master.id, occurrence)? {
        return Ok(left.input);
    }
    let m = &master.input;
    let key = instance_key("occurrence", occurrence, m.all_day)?;
    let tz = parse_zone(&m.time_zone)?;
    let key_text = if m.all_day {
        format_date(key.date())
    } else {
        format_wall_time(key)
    };
    if let Some(exception) = store.exception_of(&master.id, &key_text)? {
        return Ok(exception.input);
    }
    let mut input = m.clone();
    input.recurrence = None;
    if m.all_day {
        let days = parse_date(&m.start)
            .zip(parse_date(&m.end))
            .map(|(s, e)| (e - s).num_days())
            .unwrap_or(1);
        input.start = format_date(key.date());
        input.end = format_date(key.date() + Duration::days(days.max(1)));
    } else {
        let length = event_instant(&m.start, &m.time_zone)
            .zip(event_instant(&m.end, &m.time_zone))
            .map(|(s, e)| e - s)
            .unwrap_or_else(Duration::zero);
        input.start = format_wall_time(key);
        input.end = EventTime::of(to_instant(key, tz) + length, tz).to_string();
    }
    Ok(input)
}

/// Does the command line change the repeat rule or its dates?
fn changes_rule(a: &EditArgs) -> bool {
    a.rrule.is_some() || a.no_rrule || !a.exdates.is_empty() || !a.rdates.is_empty()
}

/// Applies the fields given on the command line; everything else is kept.
fn apply(input: &mut EventInput, ctx: &Ctx, a: &EditArgs) -> CliResult<()> {
    if let Some(t) = &a.title {
        input.title = t.clone();
    }
    if let Some(zone) = ctx.tz.as_deref().map(str::trim) {
        if zone != input.time_zone && !input.all_day {
            // The wall times are read in the new zone; an offset naming the second pass
            // of a fold was about the old one.
            for t in [&mut input.start, &mut input.end] {
                if let Some(wall) = EventTime::parse(t).map(|e| e.wall) {
                    *t = format_wall_time(wall);
                }
            }
        }
        input.time_zone = zone.to_owned();
    }
    if a.all_day && !input.all_day {
        input.all_day = true;
        let wall = |v: &str| EventTime::parse(v).map(|t| t.wall);
        let start = wall(&input.start).map(|t| t.date());
        let end = wall(&input.end).map(|t| {
            if t.time() == NaiveTime::MIN {
                t.date()
            } else {
                t.date() + Duration::days(1)
            }
        });
        if let Some(s) = start {
            input.start = format_date(s);
            input.end = format_date(end.filter(|e| *e > s).unwrap_or(s + Duration::days(1)));
        }
    }
    if a.timed && input.all_day {
        if a.start.is_none() || a.end.is_none() {
            return Err(invalid(
                "To make an all-day event timed, give --start and --end.",
            ));
        }
        input.all_day = false;
    }
    let old_length = length_of(input);
    if let Some(s) = &a.start {
        input.start = if input.all_day {
            s.trim().to_owned()
        } else {
            event_time(s, &input.time_zone)
        };
        if a.end.is_none() {
            // Moving the start keeps the length.
            if let Some(end) = old_length.and_then(|l| shifted(input, l)) {
                input.end = end;
            }
        }
    }
    if let Some(e) = &a.end {
        input.end = if input.all_day {
            e.trim().to_owned()
        } else {
            event_time(e, &input.time_zone)
        };
    }
    if let Some(c) = &a.calendar {
        input.calendar_id = c.clone();
    }
    if a.no_rrule {
        input.recurrence = None;
    }
    if let Some(rule) = &a.rrule {
        match &mut input.recurrence {
            Some(r) => r.rrule = rule.clone(),
            None => {
                input.recurrence = Some(RecurrenceInput {
                    rrule: rule.clone(),
                    exdates: Vec::new(),
                    rdates: Vec::new(),
                })
            }
        }
    }
    if !a.exdates.is_empty() || !a.rdates.is_empty() {
        let Some(r) = &mut input.recurrence else {
            return Err(invalid(
                "--exdate and --rdate need a repeating event; give --rrule too.",
            ));
        };
        for d in &a.exdates {
            if !r.exdates.contains(d) {
                r.exdates.push(d.clone());
            }
        }
        for d in &a.rdates {
            if !r.rdates.contains(d) {
                r.rdates.push(d.clone());
            }
        }
    }
    if let Some(l) = &a.location {
        input.location = l.clone();
    }
    if let Some(d) = &a.description {
        input.description = d.clone();
    }
    if let Some(v) = a.show_as {
        input.show_as = show_as(v);
    }
    if let Some(v) = a.importance {
        input.importance = importance(v);
    }
    if !a.categories.is_empty() {
        input.categories = a.categories.clone();
    }
    Ok(())
}

/// Length of an event: whole days for all-day events, elapsed time for timed ones.
fn length_of(input: &EventInput) -> Option<Duration> {
    if input.all_day {
        parse_date(&input.start)
            .zip(parse_date(&input.end))
            .map(|(s, e)| e - s)
    } else {
        event_instant(&input.start, &input.time_zone)
            .zip(event_instant(&input.end, &input.time_zone))
            .map(|(s, e)| e - s)
    }
}

/// The end of `input` if it lasted `length` from its start.
fn shifted(input: &EventInput, length: Duration) -> Option<String> {
    if input.all_day {
        parse_date(&input.start).map(|s| format_date(s + length))
    } else {
        shift_event_time(&input.start, length, &input.time_zone)
    }
}

pub fn rm(store: &mut Store, ctx: &Ctx, a: &RmArgs) -> CliResult<()> {
    let target = EventTarget {
        id: a.id.clone(),
        scope: if a.occurrence.is_some() {
            EditScope::Occurrence
        } else {
            EditScope::All
        },
        original_start: a.occurrence.clone(),
    };
    store.delete_event(target, Source::Cli, ctx.now)?;
    if ctx.json {
        return output::json(&serde_json::json!({ "deleted": a.id, "occurrence": a.occurrence }));
    }
    match &a.occurrence {
        Some(o) => output::line(&format!("Removed the occurrence {o} of {}.", a.id)),
        None => output::line(&format!("Removed {}.", a.id)),
    }
}
