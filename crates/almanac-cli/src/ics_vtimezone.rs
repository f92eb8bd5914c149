//! The zones a file's TZIDs name, read with the file's own VTIMEZONEs.
//!
//! A TZID is only a label; its VTIMEZONE says what the offsets are. Read by the label
//! alone, a file that defines `TZID:GMT` as the UK's GMT/BST (conference tools write
//! that) imported every summer event an hour late, and one from Outlook with
//! `TZID:Customized Time Zone` was refused. So where a file defines a TZID, the zone
//! taken is one of the tz database whose offsets agree with the definition over the
//! years around now: the named zone when it does, else the importing computer's, else
//! the main zone of a Windows zone (Europe/Berlin rather than Africa/Ceuta), else any;
//! else the named zone, if the name is one. A definition without daylight time is
//! taken as cut short when its name is a zone. An unknown name whose definition no
//! zone agrees with is refused, by name.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::Component;

/// Years whose offsets must agree: definitions often give only today's rules (Outlook
/// starts them in 1601), which the tz database's history does not share.
const FIRST_YEAR: i32 = 2021;
const LAST_YEAR: i32 = 2030;

/// The zone of each TZID the file defines, by lowercased TZID.
#[derive(Debug, Default)]
pub struct Declared(HashMap<String, Result<Tz, String>>);

impl Declared {
    /// Reads the VTIMEZONEs among `components`; `named` looks a TZID up by its name,
    /// `local` is the importing computer's zone.
    pub fn read(
        components: &[Component<'_>],
        named: impl Fn(&str) -> Result<Tz, String>,
        local: Tz,
    ) -> Self {
        let mut out = HashMap::new();
        for c in components {
            if !c.name.as_str().eq_ignore_ascii_case("VTIMEZONE") {
                continue;
            }
            let Some(tzid) = text(c, "TZID") else {
                continue;
            };
            let Some(offsets) = Offsets::of(c) else {
                continue; // a definition that does not read: the name decides
            };
            let found = matching(&offsets, named(&tzid).ok(), local).ok_or_else(|| {
                format!(
                    "time zone \"{}\" (TZID): its VTIMEZONE gives offsets no known time zone \
                     has.",
                    tzid.chars().take(60).collect::<String>()
                )
            });
            out.insert(tzid.to_lowercase(), found);
        }
        Self(out)
    }

    /// The zone the file's VTIMEZONE for `tzid` makes it, if the file has one.
    pub fn get(&self, tzid: &str) -> Option<Result<Tz, String>> {
        self.0.get(&tzid.trim().to_lowercase()).cloned()
    }
}

fn text(c: &Component<'_>, name: &str) -> Option<String> {
    c.properties
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
        .map(|p| p.val.as_str().trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// `+HHMM`, `-HHMM` or `+HHMMSS` as seconds east of UTC.
fn offset_secs(v: &str) -> Option<i32> {
    let (sign, digits) = match v.trim().split_at_checked(1)? {
        ("+", d) => (1, d),
        ("-", d) => (-1, d),
        _ => return None,
    };
    if !matches!(digits.len(), 4 | 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<i32>().ok());
    let secs = n(0..2)? * 3600 + n(2..4)? * 60 + if digits.len() == 6 { n(4..6)? } else { 0 };
    Some(sign * secs)
}

fn wall(v: &str) -> Option<NaiveDateTime> {
    let v = v.trim().trim_end_matches(['Z', 'z']);
    NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()
}

/// A definition's changes of offset (instant, new offset), in order, over the years it
/// is compared in ([`Offsets::years`]).
struct Offsets {
    onsets: Vec<(DateTime<Utc>, i32)>,
    before: i32,
    /// From when it says anything: its earliest observance.
    begins: DateTime<Utc>,
    /// It has daylight time.
    daylight: bool,
}

fn observances<'a, 'c>(c: &'a Component<'c>) -> impl Iterator<Item = &'a Component<'c>> {
    c.components.iter().filter(|o| {
        let kind = o.name.as_str();
        kind.eq_ignore_ascii_case("STANDARD") || kind.eq_ignore_ascii_case("DAYLIGHT")
    })
}

impl Offsets {
    /// The years compared: [`FIRST_YEAR`] to [`LAST_YEAR`], or five from a definition
    /// that begins later (an export's begins at its first event's year).
    fn years(begins: DateTime<Utc>) -> (i32, i32) {
        let from = FIRST_YEAR.max(chrono::Datelike::year(&begins));
        (from, LAST_YEAR.max(from + 5))
    }

    fn of(c: &Component<'_>) -> Option<Self> {
        let begins = observances(c)
            .filter_map(|o| {
                let start = wall(&text(o, "DTSTART")?)?;
                let from = offset_secs(&text(o, "TZOFFSETFROM")?)?;
                Some((start - Duration::seconds(i64::from(from))).and_utc())
            })
            .min()?;
        let (_, last) = Self::years(begins);
        let end = Utc.with_ymd_and_hms(last + 1, 1, 1, 0, 0, 0).single()?;
        let mut onsets = Vec::new();
        let mut first: Option<(NaiveDateTime, i32)> = None;
        for o in observances(c) {
            let start = wall(&text(o, "DTSTART")?)?;
            let from = offset_secs(&text(o, "TZOFFSETFROM")?)?;
            let to = offset_secs(&text(o, "TZOFFSETTO")?)?;
            if first.is_none_or(|(s, _)| start < s) {
                first = Some((start, from));
            }
            let at = |w: NaiveDateTime| (w - Duration::seconds(i64::from(from))).and_utc();
            let mut walls = vec![start];
            if let Some(rule) = text(o, "RRULE") {
                // Expanded in floating wall time, as the model expands a series.
                let set: rrule::RRuleSet = format!(
                    "DTSTART:{}Z\nRRULE:{}",
                    start.format("%Y%m%dT%H%M%S"),
                    rule.trim_start_matches("RRULE:")
                )
                .parse()
                .ok()?;
                for t in set.into_iter().take(2_000) {
                    let w = t.naive_utc();
                    if at(w) >= end {
                        break;
                    }
                    walls.push(w);
                }
            }
            for p in o.properties.iter() {
                if p.name.as_str().eq_ignore_ascii_case("RDATE") {
                    walls.extend(p.val.as_str().split(',').filter_map(wall));
                }
            }
            onsets.extend(walls.into_iter().map(|w| (at(w), to)));
        }
        let (_, before) = first?;
        onsets.sort_by_key(|(t, _)| *t);
        let daylight = observances(c).any(|o| o.name.as_str().eq_ignore_ascii_case("DAYLIGHT"));
        Some(Self {
            onsets,
            before,
            begins,
            daylight,
        })
    }

    fn at(&self, t: DateTime<Utc>) -> i32 {
        let i = self.onsets.partition_point(|(o, _)| *o <= t);
        i.checked_sub(1).map_or(self.before, |i| self.onsets[i].1)
    }
}

/// The instants compared: the 1st and 15th of each month, at noon UTC, of the years
/// compared, from the definition's beginning (before it, it says nothing).
fn samples(offsets: &Offsets) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    let (first, last) = Offsets::years(offsets.begins);
    (first..=last)
        .flat_map(|y| {
            (1..=12).flat_map(move |m| {
                [1, 15]
                    .into_iter()
                    .filter_map(move |d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single())
            })
        })
        .filter(|t| *t >= offsets.begins)
}

fn agrees(offsets: &Offsets, tz: Tz) -> bool {
    samples(offsets).all(|t| {
        let local = tz.offset_from_utc_datetime(&t.naive_utc());
        chrono::Offset::fix(&local).local_minus_utc() == offsets.at(t)
    })
}

/// The zone whose offsets agree with `offsets`, in the order of the module's comment.
fn matching(offsets: &Offsets, named: Option<Tz>, local: Tz) -> Option<Tz> {
    // A definition without daylight time for a zone that has it is more often cut
    // short by its writer than true: the name is taken.
    if let Some(tz) = named.filter(|tz| !offsets.daylight || agrees(offsets, *tz)) {
        return Some(tz);
    }
    if agrees(offsets, local) {
        return Some(local);
    }
    let main = |tz: &Tz| {
        almanac_graph::windows_zones::to_windows(tz.name())
            .and_then(almanac_graph::windows_zones::to_iana)
            == Some(tz.name())
    };
    let all = chrono_tz::TZ_VARIANTS.iter();
    let mut candidates = all
        .clone()
        .filter(|tz| main(tz))
        .chain(all.filter(|tz| !main(tz)));
    // None agrees (rules older than the database's, say): a zone the name names is
    // still the writer's best word.
    candidates
        .find(|tz| agrees(offsets, **tz))
        .copied()
        .or(named)
}
