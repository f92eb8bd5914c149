//! Windows ↔ IANA time-zone names, from the CLDR `windowsZones` table (CLDR 48, embedded
//! from `data/windowsZones.json`).
//!
//! Graph sends Windows names ("W. Europe Standard Time") or a subset of IANA names; Almanac
//! stores IANA names. CLDR spells IANA zones with its own, often legacy, ids
//! (`Asia/Calcutta`, `Europe/Kiev`), so both directions go through tzdb's links.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;
use serde::Deserialize;

mod aliases;

/// One `mapZone` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MapZone {
    pub windows: String,
    pub territory: String,
    /// The row's IANA ids (CLDR spelling), split on whitespace.
    pub iana: Vec<String>,
}

#[derive(Deserialize)]
struct Doc {
    supplemental: Supplemental,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Supplemental {
    windows_zones: WindowsZones,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WindowsZones {
    map_timezones: Vec<Entry>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    map_zone: RawZone,
}
#[derive(Deserialize)]
struct RawZone {
    #[serde(rename = "_other")]
    other: String,
    #[serde(rename = "_territory")]
    territory: String,
    #[serde(rename = "_type")]
    kind: String,
}

/// Parses a CLDR `windowsZones.json` document into rows.
pub(crate) fn parse_cldr_json(text: &str) -> Result<Vec<MapZone>, serde_json::Error> {
    let doc: Doc = serde_json::from_str(text)?;
    Ok(doc
        .supplemental
        .windows_zones
        .map_timezones
        .into_iter()
        .map(|e| MapZone {
            windows: e.map_zone.other.trim().to_owned(),
            territory: e.map_zone.territory.trim().to_owned(),
            // One CLDR value ends with a space: split on whitespace, never on ' '.
            iana: e
                .map_zone
                .kind
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
        .collect())
}

struct Table {
    rows: Vec<MapZone>,
    /// Lower-cased Windows name → index of its `001` row.
    golden: HashMap<String, usize>,
    /// IANA id (CLDR spelling and tzdb-canonical spelling) → index of a row listing it.
    by_iana: HashMap<&'static str, usize>,
    /// Lower-cased chrono-tz zone name → the name as chrono-tz spells it.
    tz_names: HashMap<String, &'static str>,
    /// tzdb link name → (target, is a rename).
    links: HashMap<&'static str, (&'static str, bool)>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let rows = parse_cldr_json(include_str!("../data/windowsZones.json"))
        .expect("the embedded CLDR table is checked by the tests");
    let links: HashMap<_, _> = aliases::LINKS
        .iter()
        .map(|&(link, target, rename)| (link, (target, rename)))
        .collect();
    let tz_names = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name().to_ascii_lowercase(), tz.name()))
        .collect();
    let mut table = Table {
        rows: Vec::new(),
        golden: HashMap::new(),
        by_iana: HashMap::new(),
        tz_names,
        links,
    };
    let mut golden = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.territory == "001" {
            golden.insert(row.windows.to_ascii_lowercase(), i);
        }
    }
    // Insert-if-absent in priority order: `001` rows win for the round trip, and an id
    // as CLDR spells it wins over another id that only canonicalises to it.
    let mut by_iana: HashMap<&'static str, usize> = HashMap::new();
    for pass in 0..4 {
        let (want_golden, canonical) = (pass < 2, pass % 2 == 1);
        for (i, row) in rows.iter().enumerate() {
            if (row.territory == "001") != want_golden {
                continue;
            }
            for id in &row.iana {
                let Some(name) = table.tz_name(id) else {
                    continue;
                };
                let key = if canonical {
                    table.canonical(name)
                } else {
                    name
                };
                by_iana.entry(key).or_insert(i);
            }
        }
    }
    table.rows = rows;
    table.golden = golden;
    table.by_iana = by_iana;
    table
});

impl Table {
    /// The zone name as chrono-tz spells it (case-insensitive match).
    fn tz_name(&self, name: &str) -> Option<&'static str> {
        self.tz_names.get(&name.to_ascii_lowercase()).copied()
    }

    /// Follows tzdb rename links (not merges of distinct locations); the UTC family is "UTC".
    fn canonical(&self, name: &'static str) -> &'static str {
        let name = match self.links.get(name) {
            Some(&(target, true)) => target,
            _ => name,
        };
        if name == "Etc/UTC" {
            "UTC"
        } else {
            name
        }
    }

    fn windows_of(&'static self, iana: &'static str) -> Option<&'static str> {
        let row = self
            .by_iana
            .get(iana)
            .or_else(|| self.by_iana.get(self.canonical(iana)))
            // A merged location CLDR does not list: use the zone it was merged into.
            .or_else(|| {
                let &(target, _) = self.links.get(iana)?;
                self.by_iana.get(self.canonical(target))
            })?;
        Some(self.rows[*row].windows.as_str())
    }
}

/// Windows zone id → IANA zone name (canonical tzdb spelling).
///
/// Uses CLDR's `001` (default) row. Whitespace around the name is ignored and the match is
/// case-insensitive. An IANA name is accepted too and returned in canonical form
/// (`Asia/Calcutta` → `Asia/Kolkata`); the UTC family and `tzone://Microsoft/Utc` give
/// `"UTC"`. `tzone://Microsoft/Custom` (a legacy Outlook custom zone) and unknown names
/// give `None`.
pub fn to_iana(windows: &str) -> Option<&'static str> {
    let t: &'static Table = &TABLE;
    let name = windows.trim();
    if name.eq_ignore_ascii_case("tzone://Microsoft/Utc") {
        return Some("UTC");
    }
    if let Some(&row) = t.golden.get(&name.to_ascii_lowercase()) {
        let first = t.rows[row].iana.first()?;
        return t.tz_name(first).map(|n| t.canonical(n));
    }
    t.tz_name(name).map(|n| t.canonical(n))
}

/// IANA zone name → Windows zone id.
///
/// Any id listed in any CLDR row is found, as are its tzdb aliases (`Asia/Kolkata` and
/// `Asia/Calcutta`, `US/Pacific`). When an id appears under several Windows zones, the
/// `001` row wins, so `to_windows(to_iana(w)) == w` for every Windows zone. A Windows name
/// given by mistake is returned in CLDR's spelling. Unknown names give `None`.
pub fn to_windows(iana: &str) -> Option<&'static str> {
    let t: &'static Table = &TABLE;
    let name = iana.trim();
    if name.eq_ignore_ascii_case("tzone://Microsoft/Utc") {
        return Some("UTC");
    }
    if let Some(tz) = t.tz_name(name) {
        if let Some(w) = t.windows_of(tz) {
            return Some(w);
        }
    }
    t.golden
        .get(&name.to_ascii_lowercase())
        .map(|&row| t.rows[row].windows.as_str())
}

/// The IANA zone for a Graph zone name, parsed (Windows or IANA spelling).
pub fn parse(name: &str) -> Option<Tz> {
    to_iana(name)?.parse().ok()
}

#[cfg(test)]
mod tests;
