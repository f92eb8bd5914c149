//! The occurrences a user's create or edit removes (EXDATEs) must be occurrences: one
//! that names none removes nothing — the user meant another time, and would believe
//! the occurrence gone — and Outlook could not even list it (its series names removed
//! occurrences, so such a date would be sent again on every sync). Only what the
//! user adds is checked: dates already stored (from a provider, an import, or left by
//! an earlier rule) stay as they are.

use almanac_model::recurrence::SeriesSpec;
use almanac_model::{instance_key, EventInput, ValidEvent, ValidationError};
use chrono::{Duration, NaiveDateTime, TimeZone, Utc};

use crate::error::Result;
use crate::feed::Source;

/// The removed dates `input` has that `before` (the stored series' keys) does not, as
/// typed and as keys. Unreadable ones are left to the input's own validation.
pub(crate) fn added(input: &EventInput, before: &[NaiveDateTime]) -> Vec<(String, NaiveDateTime)> {
    let Some(rec) = &input.recurrence else {
        return Vec::new();
    };
    rec.exdates
        .iter()
        .filter_map(|v| {
            let key = instance_key("removed date", v, input.all_day).ok()?;
            (!before.contains(&key)).then(|| (v.clone(), key))
        })
        .collect()
}

/// Refuses a removal in `added` that is no occurrence of the series as edited (`v`).
/// (An edit that moves the series carries the removals already stored along; one typed
/// with it names an occurrence of the series as it will be.) Only for a person's
/// write; imports and sync keep what they are given.
pub(crate) fn check(
    v: &ValidEvent,
    added: &[(String, NaiveDateTime)],
    source: Source,
) -> Result<()> {
    if !matches!(source, Source::Cli | Source::UserWindow) {
        return Ok(());
    }
    let Some(spec) = &v.series else {
        return Ok(());
    };
    for (typed, key) in added {
        if spec.produces(*key) {
            continue;
        }
        return Err(ValidationError::NotAnOccurrence {
            value: typed.chars().take(60).collect(),
            hint: that_day(spec, *key),
        }
        .into());
    }
    Ok(())
}

/// Where the series has occurrences on `key`'s day, to say so in the error.
fn that_day(spec: &SeriesSpec, key: NaiveDateTime) -> String {
    let day = key.date();
    let from = Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN));
    let starts: Vec<String> = spec
        .expand(from - Duration::days(2), from + Duration::days(3), 5_000)
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.original.date() == day)
        .map(|i| {
            if spec.all_day {
                i.original.format("%Y-%m-%d").to_string()
            } else {
                i.original.format("%Y-%m-%dT%H:%M").to_string()
            }
        })
        .collect();
    if starts.is_empty() {
        "; the series has no occurrence that day".into()
    } else {
        format!("; that day: {}", starts.join(", "))
    }
}
