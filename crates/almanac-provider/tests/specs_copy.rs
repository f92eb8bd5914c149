//! The provider specs in `tests/specs/` are byte-for-byte copies of the project's
//! `../shared/specs/` (the tests validate against the in-repository copy so they run
//! on any clean clone). Where the originals are present, they must be equal.

use std::path::PathBuf;

#[test]
fn in_repository_specs_equal_the_shared_originals() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let copy = root.join("tests/specs");
    let original = root.join("../shared/specs");
    let files = [
        "README.md",
        "cldr-48-windowsZones.json",
        "google-calendar-v3.discovery.json",
        "msgraph-v1.0-calendar.openapi.json",
        "windowsZones.xml",
    ];
    for f in files {
        let ours = std::fs::read(copy.join(f)).unwrap_or_else(|e| panic!("tests/specs/{f}: {e}"));
        assert!(!ours.is_empty(), "tests/specs/{f} is empty");
        match std::fs::read(original.join(f)) {
            Ok(theirs) => assert!(
                ours == theirs,
                "tests/specs/{f} differs from ../shared/specs/{f}; copy it again"
            ),
            Err(_) => println!("../shared/specs/{f} is not beside this checkout; using the copy"),
        }
    }
}
