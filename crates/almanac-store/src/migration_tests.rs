//! Migration 0009 (a rebuild of events, event_sync and change_feed): nothing is lost,
//! every constraint still holds, and the writes sync repeats per event build no
//! temporary b-trees. Migration 0014: a range query seeks each calendar's part of the
//! range index.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::connection::{migrate, MIGRATIONS};

type Rows = Vec<BTreeMap<String, Value>>;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// Every row of `table` as column name → value, in `order`.
fn dump(conn: &Connection, table: &str, order: &str) -> Rows {
    let mut stmt = ok(conn.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")));
    let names: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let rows = ok(stmt.query_map([], |r| {
        (0..names.len())
            .map(|i| Ok((names[i].clone(), r.get::<_, Value>(i)?)))
            .collect::<rusqlite::Result<BTreeMap<_, _>>>()
    }));
    ok(rows.collect::<rusqlite::Result<Rows>>())
}

fn count(conn: &Connection, sql: &str) -> i64 {
    ok(conn.query_row(sql, [], |r| r.get(0)))
}

/// A schema-8 database with a series, its exception, a single event, an event of the
/// local calendar,
/// their sync state and index rows, a customer link, and a change feed whose
/// newest rows were pruned.
fn at_version_8() -> Connection {
    let mut conn = ok(Connection::open_in_memory());
    ok(MIGRATIONS.to_version(&mut conn, 8));
    ok(conn.execute_batch(
        "INSERT INTO accounts (id, provider, email, created_at) VALUES ('a', 'google', 'me@x', 0);
         INSERT INTO calendars (id, account_id, remote_id, name, color) VALUES ('c', 'a', 'r', 'Work', '#123456');
         INSERT INTO customers (id, name, created_at) VALUES ('acme', 'Acme', 0);
         INSERT INTO events (id, calendar_id, remote_id, etag, kind, title, all_day, start_local,
            end_local, time_zone, start_utc, end_utc, show_as, importance, sensitivity, rrule,
            online_pin, attendees, customer_id, provider_extra, created_at, updated_at)
         VALUES ('m', 'c', 'rm', '\"1\"', 'master', 'Weekly', 0, '2026-12-01T10:00:00',
            '2026-12-01T11:00:00', 'Europe/Berlin', 1796115600, 1796119200, 'tentative', 'high',
            'private', 'FREQ=WEEKLY', '1234',
            '[{\"email\":\"z@c.com\",\"name\":\"Z\",\"type\":\"required\",\"response\":\"accepted\"}]',
            'acme', '{\"htmlLink\":\"https://x\"}', 1, 2);
         INSERT INTO events (id, calendar_id, remote_id, kind, series_id, original_start, title,
            all_day, start_local, end_local, time_zone, start_utc, end_utc, created_at, updated_at)
         VALUES ('x', 'c', 'rx', 'exception', 'm', '2026-12-08T10:00:00', 'Moved', 0,
            '2026-12-08T12:00:00', '2026-12-08T13:00:00', 'Europe/Berlin', 1796727600,
            1796731200, 3, 4);
         INSERT INTO events (id, calendar_id, remote_id, kind, title, all_day, start_local,
            end_local, time_zone, start_utc, end_utc, created_at, updated_at)
         VALUES ('s', 'c', 'rs', 'single', 'Alone', 1, '2026-12-02', '2026-12-03', 'UTC',
            1796169600, 1796256000, 5, 6),
                ('l', 'local', NULL, 'single', 'Mine', 0, '2026-12-02T09:00:00',
            '2026-12-02T09:30:00', 'UTC', 1796202000, 1796203800, 7, 8);
         INSERT INTO event_sync (event_id, state, base_snapshot, base_etag, updated_at) VALUES
            ('m', 'locally_modified', '{\"title\":\"Weekly\"}', '\"1\"', 9),
            ('x', 'synced', NULL, NULL, 10), ('s', 'locally_deleted', NULL, '\"2\"', 11);
         INSERT INTO occurrences (event_id, original_start, calendar_id, start_utc, end_utc) VALUES
            ('m', '2026-12-01T10:00:00', 'c', 1796115600, 1796119200),
            ('x', '2026-12-08T10:00:00', 'c', 1796727600, 1796731200),
            ('s', '', 'c', 1796169600, 1796256000), ('l', '', 'local', 1796202000, 1796203800);
         INSERT INTO event_customers (event_id, customer_id, source) VALUES ('m', 'acme', 'domain');
         INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES
            (1, 'cli', 'event', 'l', 'insert'), (2, 'sync', 'event', 'm', 'insert'),
            (3, 'sync', 'event', 'x', 'insert'), (4, 'user_window', 'event', 'l', 'update');
         DELETE FROM change_feed WHERE seq >= 3;",
    ));
    conn
}

#[test]
fn migration_9_keeps_every_row_and_the_feed_sequence() {
    let mut conn = at_version_8();
    let tables = [
        ("events", "id"),
        ("event_sync", "event_id"),
        ("occurrences", "event_id, original_start"),
        ("event_customers", "event_id"),
        ("change_feed", "seq"),
    ];
    let before: Vec<Rows> = tables.iter().map(|(t, o)| dump(&conn, t, o)).collect();
    // To 9 only: later migrations add columns.
    ok(conn.pragma_update(None, "foreign_keys", "OFF"));
    ok(MIGRATIONS.to_version(&mut conn, 9));
    ok(conn.pragma_update(None, "foreign_keys", "ON"));
    let after: Vec<Rows> = tables.iter().map(|(t, o)| dump(&conn, t, o)).collect();
    assert_eq!(after, before, "every row survives, column by column");
    assert_eq!(before[0].len(), 4);

    // The feed goes on after the pruned rows (4), never reusing a number.
    ok(conn.execute(
        "INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES (5, 'sync', 'event', 's', 'update')",
        [],
    ));
    assert_eq!(count(&conn, "SELECT max(seq) FROM change_feed"), 5);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
}

#[test]
fn after_migration_9_every_constraint_still_holds() {
    let mut conn = at_version_8();
    ok(migrate(&mut conn));
    let refused = |sql: &str| {
        assert!(
            conn.execute_batch(sql).is_err(),
            "accepted, but must be refused: {sql}"
        );
    };
    refused("UPDATE events SET kind = 'bogus' WHERE id = 's'");
    refused("UPDATE events SET show_as = 'away' WHERE id = 's'");
    refused("UPDATE events SET importance = 'urgent' WHERE id = 's'");
    refused("UPDATE events SET sensitivity = 'secret' WHERE id = 's'");
    refused("UPDATE events SET end_utc = start_utc - 1 WHERE id = 's'");
    refused("UPDATE events SET remote_id = 'rs' WHERE id = 'm'");
    refused("UPDATE event_sync SET state = 'lost' WHERE event_id = 'x'");
    refused("INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES (1, 'me', 'event', 's', 'insert')");
    refused("INSERT INTO change_feed (at, source, entity, entity_id, op) VALUES (1, 'cli', 'event', 's', 'upsert')");
    refused("INSERT INTO event_sync (event_id, state, updated_at) VALUES ('nope', 'synced', 0)");
    // A second instance for the same slot of the series.
    refused(
        "INSERT INTO events (id, calendar_id, remote_id, kind, series_id, original_start, title,
            all_day, start_local, end_local, time_zone, start_utc, end_utc, created_at, updated_at)
         VALUES ('x2', 'c', 'rx2', 'exception', 'm', '2026-12-08T10:00:00', 'Again', 0,
            '2026-12-08T14:00:00', '2026-12-08T15:00:00', 'Europe/Berlin', 1796734800,
            1796738400, 0, 0)",
    );
    // Many single events share the NULL slot, as before.
    ok(conn.execute_batch(
        "INSERT INTO events (id, calendar_id, kind, title, all_day, start_local, end_local,
            time_zone, start_utc, end_utc, created_at, updated_at)
         VALUES ('l2', 'local', 'single', 'Also mine', 1, '2026-12-04', '2026-12-05', 'UTC',
            1796342400, 1796428800, 0, 0)",
    ));
    // Deleting the series still cascades to its instance, sync state and index rows.
    ok(conn.execute("DELETE FROM events WHERE id = 'm'", []));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM events WHERE id IN ('m', 'x')"),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM event_sync WHERE event_id IN ('m', 'x')"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM occurrences WHERE event_id IN ('m', 'x')"
        ),
        0
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM event_customers"), 0);
    // And deleting a calendar cascades to its events.
    ok(conn.execute("DELETE FROM calendars WHERE id = 'c'", []));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM events WHERE calendar_id = 'c'"),
        0
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM event_sync"), 0);
}

/// The opcodes of `sql` as SQLite compiles it.
fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = ok(conn.prepare(&format!("EXPLAIN {sql}")));
    let unbound = vec![Value::Null; stmt.parameter_count()];
    let rows = ok(stmt.query_map(rusqlite::params_from_iter(unbound), |r| {
        r.get::<_, String>(1)
    }));
    ok(rows.collect::<rusqlite::Result<Vec<_>>>())
}

#[test]
fn the_writes_sync_repeats_per_event_build_no_temporary_btree() {
    let mut conn = ok(Connection::open_in_memory());
    ok(migrate(&mut conn));
    let sqls = [
        crate::sync::rows::INSERT_EVENT.as_str(),
        crate::sync::rows::UPDATE_EVENT.as_str(),
        crate::sync::tx::INSERT_SYNC_STATE,
        crate::sync::tx::UPSERT_SYNC_STATE,
        crate::feed::INSERT_FEED,
    ];
    for sql in sqls {
        let ops = opcodes(&conn, sql);
        assert!(!ops.is_empty());
        assert!(
            !ops.iter().any(|o| o == "OpenEphemeral"),
            "builds a temporary b-tree per row: {sql}"
        );
    }
}

/// Migration 0015: what an event of this computer's calendar has as its UID came from
/// a file, and is kept as the file's; an account's event's UID is its provider's.
#[test]
fn migration_15_keeps_the_uids_files_gave() {
    let mut conn = at_version_8();
    ok(MIGRATIONS.to_version(&mut conn, 14));
    ok(conn.execute_batch(
        "UPDATE events SET ical_uid = 'file@example.com' WHERE id = 'l';
         UPDATE events SET ical_uid = 'theirs@google.com' WHERE calendar_id = 'c';",
    ));
    let before = dump(&conn, "events", "id");
    ok(migrate(&mut conn));
    assert_eq!(
        count(&conn, "SELECT count(*) FROM events"),
        before.len() as i64
    );
    let imported = |id: &str| -> Option<String> {
        ok(
            conn.query_row("SELECT imported_uid FROM events WHERE id = ?1", [id], |r| {
                r.get(0)
            }),
        )
    };
    let ids: Vec<String> = ok(conn
        .prepare("SELECT id FROM events ORDER BY id")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect()));
    assert!(ids.iter().any(|id| id == "l") && ids.len() > 1, "{ids:?}");
    for id in &ids {
        let file = (id == "l").then(|| "file@example.com".to_owned());
        assert_eq!(imported(id), file, "{id}");
    }
    // Every other column as it was.
    let mut after = dump(&conn, "events", "id");
    for row in &mut after {
        row.remove("imported_uid");
    }
    assert_eq!(after, before);
}

/// SQLite's plan for `sql`: the detail column of `EXPLAIN QUERY PLAN`.
fn plan(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Vec<String> {
    let mut stmt = ok(conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")));
    let rows = ok(stmt.query_map(args, |r| r.get::<_, String>(3)));
    ok(rows.collect::<rusqlite::Result<Vec<_>>>())
}

#[test]
fn a_range_query_seeks_each_calendars_part_of_the_index() {
    let mut conn = ok(Connection::open_in_memory());
    ok(migrate(&mut conn));
    let seek = "SEARCH o USING COVERING INDEX occurrences_range \
                (calendar_id=? AND start_utc>? AND start_utc<?)";
    for calendars in [None, Some(r#"["local","c"]"#)] {
        let steps = plan(
            &conn,
            crate::occurrences::RANGE_SQL,
            rusqlite::params![0, 604_800, 86_400, calendars],
        );
        assert!(steps.iter().any(|s| s == seek), "{calendars:?}: {steps:#?}");
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN o")),
            "{calendars:?} reads every occurrence: {steps:#?}"
        );
    }
}
