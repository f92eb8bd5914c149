//! The TypeScript declarations of every type that crosses the IPC boundary, generated
//! from the Rust definitions with ts-rs. `ui/src/platform/bindings.ts` is this output;
//! a test fails when the two drift (`UPDATE_BINDINGS=1 cargo test -p almanac-model`
//! rewrites the file).

use ts_rs::{Config, TS};

use crate::*;

/// Header of the generated file.
pub const BINDINGS_HEADER: &str =
    "// Generated from crates/almanac-model by `UPDATE_BINDINGS=1 cargo test -p almanac-model`. Do not edit.\n";

/// The full text of `ui/src/platform/bindings.ts`.
pub fn typescript_bindings() -> String {
    let cfg = Config::new();
    let decls = [
        ErrorCode::decl(&cfg),
        AppError::decl(&cfg),
        ShowAs::decl(&cfg),
        Importance::decl(&cfg),
        Sensitivity::decl(&cfg),
        EditScope::decl(&cfg),
        EventKind::decl(&cfg),
        ConflictPolicy::decl(&cfg),
        Calendar::decl(&cfg),
        Provider::decl(&cfg),
        AccountStatus::decl(&cfg),
        Account::decl(&cfg),
        RevokeOutcome::decl(&cfg),
        Disconnected::decl(&cfg),
        RecurrenceInput::decl(&cfg),
        EventInput::decl(&cfg),
        Person::decl(&cfg),
        AttendeeKind::decl(&cfg),
        Response::decl(&cfg),
        Attendee::decl(&cfg),
        MeetingProvider::decl(&cfg),
        OnlineMeeting::decl(&cfg),
        EventMeeting::decl(&cfg),
        EventView::decl(&cfg),
        Occurrence::decl(&cfg),
        RangeQuery::decl(&cfg),
        EventChange::decl(&cfg),
        EventTarget::decl(&cfg),
        EventMove::decl(&cfg),
        HeldCalendar::decl(&cfg),
        AccountSync::decl(&cfg),
        SyncOverview::decl(&cfg),
        CalendarProgress::decl(&cfg),
        ConflictKindView::decl(&cfg),
        ConflictField::decl(&cfg),
        ConflictView::decl(&cfg),
        KeepSide::decl(&cfg),
        SettledConflict::decl(&cfg),
        FieldSide::decl(&cfg),
        FieldPick::decl(&cfg),
        ConflictAnswer::decl(&cfg),
    ];
    let mut out = String::from(BINDINGS_HEADER);
    for d in decls {
        out.push_str("export ");
        out.push_str(&d);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_typescript_bindings_match_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../ui/src/platform/bindings.ts");
        let want = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &want)
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date with the Rust IPC types; run `UPDATE_BINDINGS=1 cargo test -p almanac-model` and commit it.\n--- generated ---\n{want}",
            path.display()
        );
    }
}
