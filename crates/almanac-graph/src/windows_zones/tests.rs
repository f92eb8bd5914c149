use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{Offset, TimeZone, Utc};

use super::*;

fn spec_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/specs")
        .join(file)
}

/// The official file; a missing file is a failure, not a skip.
fn official_text(file: &str) -> String {
    let path = spec_path(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the official CLDR table {} is needed to validate the embedded copy: {e}",
            path.display()
        )
    })
}

fn official_rows() -> Vec<MapZone> {
    parse_cldr_json(&official_text("cldr-48-windowsZones.json"))
        .unwrap_or_else(|e| panic!("official CLDR JSON does not parse: {e}"))
}

fn row_set(rows: &[MapZone]) -> BTreeSet<(String, String, Vec<String>)> {
    rows.iter()
        .map(|r| (r.windows.clone(), r.territory.clone(), r.iana.clone()))
        .collect()
}

fn attr<'a>(line: &'a str, name: &str) -> &'a str {
    let start = line
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        + name.len()
        + 2;
    let len = line[start..].find('"').unwrap_or_else(|| panic!("{line}"));
    &line[start..start + len]
}

#[test]
fn embedded_copy_is_the_official_table() {
    assert_eq!(
        include_str!("../../data/windowsZones.json"),
        official_text("cldr-48-windowsZones.json"),
        "data/windowsZones.json differs from tests/specs/cldr-48-windowsZones.json"
    );
    // The XML twin has the same rows.
    let xml: Vec<MapZone> = official_text("windowsZones.xml")
        .lines()
        .filter(|l| l.trim_start().starts_with("<mapZone "))
        .map(|l| MapZone {
            windows: attr(l, "other").to_owned(),
            territory: attr(l, "territory").to_owned(),
            iana: attr(l, "type")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        })
        .collect();
    let json = official_rows();
    assert_eq!(json.len(), 500);
    assert_eq!(row_set(&xml), row_set(&json));
    assert_eq!(row_set(&TABLE.rows), row_set(&json));
}

#[test]
fn every_golden_row_round_trips() {
    let golden: Vec<_> = official_rows()
        .into_iter()
        .filter(|r| r.territory == "001")
        .collect();
    assert_eq!(golden.len(), 139);
    for row in golden {
        let iana = to_iana(&row.windows).unwrap_or_else(|| panic!("{} unmapped", row.windows));
        assert!(iana.parse::<Tz>().is_ok(), "{iana} is not a chrono-tz zone");
        assert_eq!(to_windows(iana), Some(row.windows.as_str()), "{iana}");
    }
}

#[test]
fn every_listed_id_maps_to_its_row() {
    for row in official_rows() {
        let golden = to_iana(&row.windows);
        for id in &row.iana {
            let w = to_windows(id).unwrap_or_else(|| panic!("{id} ({}) unmapped", row.windows));
            assert!(
                w == row.windows || to_iana(w) == golden,
                "{id}: row {} but mapped to {w}",
                row.windows
            );
            assert!(to_iana(id).is_some(), "{id} is unknown to chrono-tz");
        }
    }
}

#[test]
fn whitespace_and_case_quirks() {
    assert_eq!(
        to_iana("Pacific Standard Time "),
        Some("America/Los_Angeles")
    );
    assert_eq!(
        to_iana("  pacific STANDARD time\t"),
        Some("America/Los_Angeles")
    );
    assert_eq!(to_iana("W. Europe Standard Time"), Some("Europe/Berlin"));
    assert_eq!(to_iana(" europe/berlin "), Some("Europe/Berlin"));
    assert_eq!(
        to_windows("Europe/Berlin "),
        Some("W. Europe Standard Time")
    );
    assert_eq!(
        to_windows("america/new_york"),
        Some("Eastern Standard Time")
    );
    // The CLDR value with a trailing space.
    for id in [
        "America/Chihuahua",
        "America/Monterrey",
        "America/Bahia_Banderas",
    ] {
        assert_eq!(
            to_windows(id),
            Some("Central Standard Time (Mexico)"),
            "{id}"
        );
    }
    // A Windows name passed where an IANA one was expected.
    assert_eq!(
        to_windows("pacific standard time "),
        Some("Pacific Standard Time")
    );
}

#[test]
fn aliases_are_canonicalised() {
    for (given, want) in [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("India Standard Time", "Asia/Kolkata"),
        ("US/Pacific", "America/Los_Angeles"),
        ("US/Eastern", "America/New_York"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("FLE Standard Time", "Europe/Kyiv"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Argentina Standard Time", "America/Argentina/Buenos_Aires"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        // Merged distinct locations keep their own name.
        ("Africa/Accra", "Africa/Accra"),
        ("Europe/Oslo", "Europe/Oslo"),
    ] {
        assert_eq!(to_iana(given), Some(want), "{given}");
    }
    for (given, want) in [
        ("Asia/Kolkata", "India Standard Time"),
        ("Asia/Calcutta", "India Standard Time"),
        ("US/Pacific", "Pacific Standard Time"),
        ("America/Argentina/Buenos_Aires", "Argentina Standard Time"),
        ("Europe/Kyiv", "FLE Standard Time"),
        ("Asia/Ho_Chi_Minh", "SE Asia Standard Time"),
        ("Africa/Accra", "Greenwich Standard Time"),
    ] {
        assert_eq!(to_windows(given), Some(want), "{given}");
    }
}

#[test]
fn utc_custom_and_unknown() {
    for name in [
        "UTC",
        "Etc/UTC",
        "tzone://Microsoft/Utc",
        " utc ",
        "Etc/Zulu",
        "Universal",
    ] {
        assert_eq!(to_iana(name), Some("UTC"), "{name}");
        assert_eq!(to_windows(name), Some("UTC"), "{name}");
    }
    assert_eq!(to_iana("Etc/GMT+12"), Some("Etc/GMT+12"));
    assert_eq!(to_windows("Etc/GMT+12"), Some("Dateline Standard Time"));
    for name in [
        "tzone://Microsoft/Custom",
        "",
        "  ",
        "Mars/Olympus",
        "Nowhere Standard Time",
        "Pacific",
    ] {
        assert_eq!(to_iana(name), None, "{name:?}");
        assert_eq!(to_windows(name), None, "{name:?}");
    }
}

#[test]
fn link_table_names_exist_in_chrono_tz() {
    for &(link, target, _) in aliases::LINKS {
        assert!(link.parse::<Tz>().is_ok(), "{link}");
        assert!(target.parse::<Tz>().is_ok(), "{target}");
        assert!(
            aliases::LINKS.iter().all(|l| l.0 != target),
            "{target} is a link"
        );
    }
}

/// Every chrono-tz zone: no panic, `to_iana` keeps it a known zone, and where a Windows zone
/// is found its default IANA zone has the same UTC offsets in 2026 (catches gross mismaps).
#[test]
fn all_chrono_tz_zones() {
    let probes = [
        Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0),
        Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0),
    ];
    let offset = |tz: Tz| -> Vec<i32> {
        probes
            .iter()
            .map(|p| {
                let p = p.single().expect("fixed UTC instant");
                tz.offset_from_utc_datetime(&p.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
            .collect()
    };
    let (mut mapped, mut mismatched) = (0, Vec::new());
    for tz in chrono_tz::TZ_VARIANTS {
        let iana = to_iana(tz.name()).unwrap_or_else(|| panic!("{} lost", tz.name()));
        assert!(iana.parse::<Tz>().is_ok(), "{iana}");
        if let Some(w) = to_windows(tz.name()) {
            mapped += 1;
            let golden = parse(w).unwrap_or_else(|| panic!("{w} has no IANA zone"));
            if offset(golden) != offset(tz) {
                mismatched.push(format!("{} → {w}", tz.name()));
            }
        }
    }
    assert!(mapped > 500, "only {mapped} zones map to Windows");
    // Known drift between CLDR 48 (Windows data) and tzdb 2025b (chrono-tz): these zones
    // changed their rules recently (D2). A new entry here means a mapping to re-check.
    let known = [
        "America/Scoresbysund → Azores Standard Time",
        "Antarctica/Casey → Central Pacific Standard Time",
        "Antarctica/Vostok → Central Asia Standard Time",
    ];
    assert_eq!(
        mismatched, known,
        "offsets differ from the Windows zone's default"
    );
}
