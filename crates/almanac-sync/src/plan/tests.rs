use super::*;
use almanac_model::{Importance, Sensitivity, ShowAs};
use almanac_provider::{Cursor, SeriesLink};
use almanac_provider::{OriginalStart, RemoteRecurrence};
use chrono::TimeZone;
use proptest::prelude::*;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The event `id` as both sides last agreed on it, with `etag` (other modules' tests
/// use it too).
pub(crate) fn ev(id: &str, etag: &str) -> RemoteEvent {
    RemoteEvent {
        remote_id: id.into(),
        etag: Some(etag.into()),
        ical_uid: Some(format!("uid-{id}")),
        kind: RemoteKind::Single,
        series: None,
        cancelled: false,
        title: "Review".into(),
        body_text: String::new(),
        body_html: None,
        timing: Timing::Timed {
            start: at(10, 9),
            end: at(10, 10),
            time_zone: "UTC".into(),
        },
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        sensitivity: Sensitivity::Normal,
        categories: vec![],
        location: "Room 1".into(),
        attendees: vec![],
        organizer: None,
        online_meeting: None,
        recurrence: None,
        reminder_minutes: Some(15),
        extra: Default::default(),
    }
}

fn edited(mut e: RemoteEvent, edit: Edit) -> RemoteEvent {
    edit(&mut e);
    e
}

type Edit = fn(&mut RemoteEvent);

fn keep(_: &mut RemoteEvent) {}
fn title_mine(e: &mut RemoteEvent) {
    e.title = "Mine".into();
}
fn title_theirs(e: &mut RemoteEvent) {
    e.title = "Theirs".into();
}
fn room_2(e: &mut RemoteEvent) {
    e.location = "Room 2".into();
}
fn cancelled_instance(e: &mut RemoteEvent) {
    e.kind = RemoteKind::Exception;
    e.cancelled = true;
    e.series = Some(SeriesLink {
        master_id: "m".into(),
        original_start: OriginalStart::Timed(at(10, 9)),
    });
}

fn entry(local: &str, id: Option<&str>, state: SyncState) -> LocalEntry {
    let base = id.map(|id| ev(id, "e1"));
    LocalEntry {
        local_id: local.into(),
        remote_id: id.map(String::from),
        state,
        current: base.clone(),
        base_etag: base.as_ref().and_then(|b| b.etag.clone()),
        base,
        pending_push: state != SyncState::Synced,
        open_conflict: None,
        sent: Vec::new(),
    }
}

fn synced(local: &str, id: &str) -> LocalEntry {
    entry(local, Some(id), SyncState::Synced)
}

fn modified(local: &str, id: &str, edit: Edit) -> LocalEntry {
    let mut e = entry(local, Some(id), SyncState::LocallyModified);
    e.current = e.current.map(|c| edited(c, edit));
    e
}

fn deleted(local: &str, id: &str) -> LocalEntry {
    LocalEntry {
        current: None,
        ..entry(local, Some(id), SyncState::LocallyDeleted)
    }
}

/// A local create not yet acknowledged, whose row (as sent) is `current`.
fn created(local: &str, current: RemoteEvent) -> LocalEntry {
    LocalEntry {
        current: Some(current),
        ..entry(local, None, SyncState::LocallyCreated)
    }
}

fn up(id: &str, etag: &str, edit: Edit) -> Change {
    Change::Upsert(Box::new(edited(ev(id, etag), edit)))
}

fn rm(id: &str) -> Change {
    Change::Removed {
        remote_id: id.into(),
    }
}

fn page(changes: Vec<Change>) -> ChangePage {
    ChangePage {
        changes,
        cursor: Cursor::Done("token".into()),
        full_listing: false,
        restarted: false,
        unreadable: Vec::new(),
    }
}

/// An op, reduced to what the tables check.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    Apply(Option<&'static str>),
    Delete(&'static str),
    Merged {
        id: &'static str,
        push: bool,
        apply: bool,
    },
    Conflict(&'static str, ConflictKind),
    /// A conflict recorded as the policy settled it.
    Settled(&'static str, ConflictKind),
    Both(&'static str),
    Restore(&'static str),
    Recreate(&'static str),
    KeepDeletion(&'static str),
    Link(&'static str, bool),
    Echo(&'static str),
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

fn shape(op: &Op) -> Want {
    match op {
        Op::ApplyRemote { local_id, .. } => Want::Apply(local_id.as_deref().map(leak)),
        Op::DeleteLocal { local_id } => Want::Delete(leak(local_id)),
        Op::Merged {
            local_id,
            push,
            apply_locally,
            ..
        } => Want::Merged {
            id: leak(local_id),
            push: *push,
            apply: *apply_locally,
        },
        Op::RecordConflict {
            local_id,
            kind,
            settled_by: Some(_),
            ..
        } => Want::Settled(leak(local_id), *kind),
        Op::RecordConflict { local_id, kind, .. } => Want::Conflict(leak(local_id), *kind),
        Op::KeepBoth { local_id, .. } => Want::Both(leak(local_id)),
        Op::RestoreLocal { local_id, .. } => Want::Restore(leak(local_id)),
        Op::RecreateRemote { local_id, .. } => Want::Recreate(leak(local_id)),
        Op::KeepLocalDeletion { local_id, .. } => Want::KeepDeletion(leak(local_id)),
        Op::LinkCreated { local_id, push, .. } => Want::Link(leak(local_id), *push),
        Op::AcknowledgeEcho { local_id, .. } => Want::Echo(leak(local_id)),
    }
}

struct Case {
    name: &'static str,
    entries: Vec<LocalEntry>,
    changes: Vec<Change>,
    policy: Policy,
    want: Vec<Want>,
}

fn case(
    name: &'static str,
    entries: Vec<LocalEntry>,
    changes: Vec<Change>,
    policy: Policy,
    want: Vec<Want>,
) -> Case {
    Case {
        name,
        entries,
        changes,
        policy,
        want,
    }
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let index = LocalIndex::new(c.entries);
        let plan = plan_page(
            &index,
            page(c.changes),
            c.policy,
            Some(MassDeleteGuard::default()),
        );
        assert_eq!(plan.guard, None, "{}: guard", c.name);
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(got, c.want, "{}", c.name);
    }
}

fn chosen_id_create() -> LocalEntry {
    let mut e = ev("g-42", "");
    e.etag = None;
    created("L", e)
}

fn uid_create(edit: Edit) -> LocalEntry {
    let mut e = edited(ev("", ""), edit);
    e.etag = None;
    e.ical_uid = Some("uid-R".into());
    created("L", e)
}

#[test]
fn remote_upserts_of_unknown_events() {
    use Policy::Ask;
    use Want::*;
    run(vec![
        case(
            "unknown id: a new local row",
            vec![],
            vec![up("R", "e1", keep)],
            Ask,
            vec![Apply(None)],
        ),
        case(
            "our create by its client-chosen id: linked, not duplicated",
            vec![chosen_id_create()],
            vec![up("g-42", "e1", keep)],
            Ask,
            vec![Link("L", false)],
        ),
        case(
            "our create by iCalUID, edited since it was sent: linked, pushed as an update",
            vec![uid_create(title_mine)],
            vec![up("R", "e1", keep)],
            Ask,
            vec![Link("L", true)],
        ),
        case(
            "an instance sharing the create's iCalUID is not the create",
            vec![uid_create(keep)],
            vec![up("R", "e1", cancelled_instance)],
            Ask,
            vec![Apply(None)],
        ),
        case(
            "one create links once: a second event with its iCalUID is new",
            vec![uid_create(keep)],
            vec![up("R", "e1", keep), {
                let mut e = ev("R2", "e1");
                e.ical_uid = Some("uid-R".into());
                Change::Upsert(Box::new(e))
            }],
            Ask,
            vec![Link("L", false), Apply(None)],
        ),
        case(
            "a cancelled instance of a series is a hidden instance, not a removal",
            vec![],
            vec![up("R", "e1", cancelled_instance)],
            Ask,
            vec![Apply(None)],
        ),
    ]);
}

#[test]
fn remote_upserts_of_synced_events() {
    use Policy::Ask;
    use Want::*;
    run(vec![
        case(
            "same etag as the base: an echo, no work",
            vec![synced("A", "R")],
            vec![up("R", "e1", keep)],
            Ask,
            vec![],
        ),
        case(
            "new etag, same content: only the base etag moves",
            vec![synced("A", "R")],
            vec![up("R", "e2", keep)],
            Ask,
            vec![Echo("A")],
        ),
        case(
            "new etag, new content: applied",
            vec![synced("A", "R")],
            vec![up("R", "e2", room_2)],
            Ask,
            vec![Apply(Some("A"))],
        ),
        case(
            "an instance cancelled remotely: applied as an upsert",
            vec![synced("A", "R")],
            vec![up("R", "e2", cancelled_instance)],
            Ask,
            vec![Apply(Some("A"))],
        ),
        case(
            "a synced row with an outbox entry is merged, not overwritten",
            vec![LocalEntry {
                pending_push: true,
                ..synced("A", "R")
            }],
            vec![up("R", "e2", room_2)],
            Ask,
            vec![Merged {
                id: "A",
                push: false,
                apply: true,
            }],
        ),
    ]);
}

#[test]
fn remote_upserts_of_locally_modified_events() {
    use Policy::*;
    use Want::*;
    let mine = || vec![modified("A", "R", title_mine)];
    run(vec![
        case(
            "disjoint changes merge and the merge is pushed",
            mine(),
            vec![up("R", "e2", room_2)],
            Ask,
            vec![Merged {
                id: "A",
                push: true,
                apply: true,
            }],
        ),
        case(
            "the same change on both sides: nothing to push",
            mine(),
            vec![up("R", "e2", title_mine)],
            Ask,
            vec![Merged {
                id: "A",
                push: false,
                apply: false,
            }],
        ),
        case(
            "remote unchanged since the base: nothing to merge, the outbox pushes",
            mine(),
            vec![up("R", "e1", keep)],
            Ask,
            vec![],
        ),
        case(
            "conflict, ask: recorded, local shown",
            mine(),
            vec![up("R", "e2", title_theirs)],
            Ask,
            vec![Conflict("A", ConflictKind::EditEdit)],
        ),
        case(
            "conflict, prefer local: local wins and is pushed",
            mine(),
            vec![up("R", "e2", title_theirs)],
            PreferLocal,
            vec![
                Settled("A", ConflictKind::EditEdit),
                Merged {
                    id: "A",
                    push: true,
                    apply: false,
                },
            ],
        ),
        case(
            "conflict, prefer remote: remote written locally, nothing pushed",
            mine(),
            vec![up("R", "e2", title_theirs)],
            PreferRemote,
            vec![
                Settled("A", ConflictKind::EditEdit),
                Merged {
                    id: "A",
                    push: false,
                    apply: true,
                },
            ],
        ),
        case(
            "conflict, keep both: remote kept, local becomes a copy",
            mine(),
            vec![up("R", "e2", title_theirs)],
            KeepBoth,
            vec![Settled("A", ConflictKind::EditEdit), Both("A")],
        ),
        case(
            "the version an open conflict already holds is not recorded again",
            vec![LocalEntry {
                open_conflict: Some(OpenConflict {
                    kind: ConflictKind::EditEdit,
                    remote_etag: Some("e2".into()),
                }),
                ..modified("A", "R", title_mine)
            }],
            vec![up("R", "e2", title_theirs)],
            Ask,
            vec![],
        ),
        case(
            "a newer version than the open conflict's is merged again",
            vec![LocalEntry {
                open_conflict: Some(OpenConflict {
                    kind: ConflictKind::EditEdit,
                    remote_etag: Some("e2".into()),
                }),
                ..modified("A", "R", title_mine)
            }],
            vec![up("R", "e3", title_theirs)],
            Ask,
            vec![Conflict("A", ConflictKind::EditEdit)],
        ),
    ]);
}

#[test]
fn remote_upserts_of_locally_deleted_events() {
    use Policy::*;
    use Want::*;
    let gone = || vec![deleted("A", "R")];
    run(vec![
        case(
            "remote unchanged since the base: the pending delete goes out",
            gone(),
            vec![up("R", "e1", keep)],
            Ask,
            vec![],
        ),
        case(
            "new etag, same content: the deletion stands with the new etag",
            gone(),
            vec![up("R", "e2", keep)],
            Ask,
            vec![KeepDeletion("A")],
        ),
        case(
            "edited remotely, ask: delete/edit conflict",
            gone(),
            vec![up("R", "e2", room_2)],
            Ask,
            vec![Conflict("A", ConflictKind::DeleteEdit)],
        ),
        case(
            "edited remotely, prefer local: the deletion stands",
            gone(),
            vec![up("R", "e2", room_2)],
            PreferLocal,
            vec![Settled("A", ConflictKind::DeleteEdit), KeepDeletion("A")],
        ),
        case(
            "edited remotely, prefer remote: restored locally",
            gone(),
            vec![up("R", "e2", room_2)],
            PreferRemote,
            vec![Settled("A", ConflictKind::DeleteEdit), Restore("A")],
        ),
        case(
            "edited remotely, keep both: the edit is kept",
            gone(),
            vec![up("R", "e2", room_2)],
            KeepBoth,
            vec![Settled("A", ConflictKind::DeleteEdit), Restore("A")],
        ),
        case(
            "an occurrence cancelled there (Google's deletion of it): gone on both sides",
            gone(),
            vec![up("R", "e2", cancelled_instance)],
            Ask,
            vec![Delete("A")],
        ),
    ]);
}

#[test]
fn remote_removals() {
    use Policy::*;
    use Want::*;
    run(vec![
        case(
            "of a synced event: deleted locally",
            vec![synced("A", "R")],
            vec![rm("R")],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "of a local edit, ask: edit/delete conflict",
            vec![modified("A", "R", title_mine)],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a local edit, prefer remote: still a conflict, never a silent loss",
            vec![modified("A", "R", title_mine)],
            vec![rm("R")],
            PreferRemote,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a local edit, prefer local: recreated remotely",
            vec![modified("A", "R", title_mine)],
            vec![rm("R")],
            PreferLocal,
            vec![Settled("A", ConflictKind::EditDelete), Recreate("A")],
        ),
        case(
            "of a local edit, keep both: recreated remotely",
            vec![modified("A", "R", title_mine)],
            vec![rm("R")],
            KeepBoth,
            vec![Settled("A", ConflictKind::EditDelete), Recreate("A")],
        ),
        case(
            "of an edit undone (marked changed, equal to its base): deleted, nothing to ask",
            vec![modified("A", "R", keep)],
            vec![rm("R")],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "of an edit undone, prefer local: not made again",
            vec![modified("A", "R", keep)],
            vec![rm("R")],
            PreferLocal,
            vec![Delete("A")],
        ),
        case(
            "of a series whose change was undone, keep both: not copied",
            vec![{
                let mut e = series_day_removed("A", "R", keep);
                e.current.clone_from(&e.base);
                e
            }],
            vec![rm("R")],
            KeepBoth,
            vec![Delete("A")],
        ),
        case(
            "of a synced row with a pending push (its change unknown): a conflict",
            vec![LocalEntry {
                pending_push: true,
                ..synced("A", "R")
            }],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of an edit undone with a conflict open: the conflict is refreshed",
            vec![LocalEntry {
                open_conflict: Some(OpenConflict {
                    kind: ConflictKind::EditEdit,
                    remote_etag: None,
                }),
                ..modified("A", "R", keep)
            }],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a series changed here only by a removed day: deleted, nothing to ask",
            vec![series_day_removed("A", "R", keep)],
            vec![rm("R")],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "of a series changed here only by a removed day, prefer local: not made again",
            vec![series_day_removed("A", "R", keep)],
            vec![rm("R")],
            PreferLocal,
            vec![Delete("A")],
        ),
        case(
            "of a series changed here only by a removed day, keep both: not copied",
            vec![series_day_removed("A", "R", keep)],
            vec![rm("R")],
            KeepBoth,
            vec![Delete("A")],
        ),
        case(
            "of a series with a removed day and an edit: edit/delete conflict",
            vec![series_day_removed("A", "R", title_mine)],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a series with a removed day and a new rule: edit/delete conflict",
            vec![series_day_removed("A", "R", |e| {
                if let Some(r) = e.recurrence.as_mut() {
                    r.rrule = "FREQ=DAILY;COUNT=5".into();
                }
            })],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a series with a removed day and an added date: edit/delete conflict",
            vec![series_day_removed("A", "R", |e| {
                if let Some(r) = e.recurrence.as_mut() {
                    r.rdates.push("2026-11-20T09:00:00".into());
                }
            })],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a series with a day removed and another given back: edit/delete conflict",
            vec![{
                let mut e = series_day_removed("A", "R", keep);
                if let Some(r) = e.base.as_mut().and_then(|b| b.recurrence.as_mut()) {
                    r.exdates.push("2026-11-12T09:00:00".into());
                }
                e
            }],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a series with a removed day and an open conflict: the conflict is refreshed",
            vec![LocalEntry {
                open_conflict: Some(OpenConflict {
                    kind: ConflictKind::EditEdit,
                    remote_etag: None,
                }),
                ..series_day_removed("A", "R", keep)
            }],
            vec![rm("R")],
            Ask,
            vec![Conflict("A", ConflictKind::EditDelete)],
        ),
        case(
            "of a local deletion: both deleted",
            vec![deleted("A", "R")],
            vec![rm("R")],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "of an unknown event: nothing",
            vec![synced("A", "R")],
            vec![rm("X")],
            Ask,
            vec![],
        ),
        case(
            "of an edit whose edit/delete conflict is on record: nothing",
            vec![LocalEntry {
                open_conflict: Some(OpenConflict {
                    kind: ConflictKind::EditDelete,
                    remote_etag: None,
                }),
                ..modified("A", "R", title_mine)
            }],
            vec![rm("R")],
            Ask,
            vec![],
        ),
        case(
            "of an id only a pending create has chosen: the create is left alone",
            vec![chosen_id_create()],
            vec![rm("g-42")],
            Ask,
            vec![],
        ),
    ]);
}

/// Graph's unchanged instance of a series (`type: occurrence`).
fn plain_occurrence(e: &mut RemoteEvent) {
    e.kind = RemoteKind::Occurrence;
    e.series = Some(SeriesLink {
        master_id: "m".into(),
        original_start: OriginalStart::Timed(at(10, 9)),
    });
}

/// Outlook drops a series' changed occurrences when the series' times change and
/// lists their instances, under the same ids, as plain occurrences: merged like any
/// version of them (applied, a plain one takes the row away); one deleted here is gone
/// on both sides; one with no row here is its series' to show.
#[test]
fn plain_occurrences_under_the_ids_of_changed_ones() {
    use Policy::Ask;
    use Want::*;
    run(vec![
        case(
            "of no row here: nothing (its series makes it)",
            vec![],
            vec![up("R", "e2", plain_occurrence)],
            Ask,
            vec![],
        ),
        case(
            "of a change synced: applied",
            vec![synced("A", "R")],
            vec![up("R", "e2", plain_occurrence)],
            Ask,
            vec![Apply(Some("A"))],
        ),
        case(
            "of a change waiting here, the same field changed there: a conflict",
            vec![modified("A", "R", title_mine)],
            vec![up("R", "e2", |e| {
                plain_occurrence(e);
                title_theirs(e);
            })],
            Ask,
            vec![Conflict("A", ConflictKind::EditEdit)],
        ),
        case(
            "of an occurrence deleted here: deleted on both sides",
            vec![synced("S", "m"), deleted("A", "R")],
            vec![up("R", "e2", plain_occurrence)],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "of an occurrence deleted here, its series too: it waits for the series'",
            vec![deleted("S", "m"), deleted("A", "R")],
            vec![up("R", "e2", plain_occurrence)],
            Ask,
            vec![],
        ),
    ]);
}

#[test]
fn the_last_change_of_a_remote_id_wins() {
    use Policy::Ask;
    use Want::*;
    run(vec![
        case(
            "upsert then removal: deleted",
            vec![synced("A", "R")],
            vec![up("R", "e2", room_2), rm("R")],
            Ask,
            vec![Delete("A")],
        ),
        case(
            "removal then upsert: applied",
            vec![synced("A", "R")],
            vec![rm("R"), up("R", "e2", room_2)],
            Ask,
            vec![Apply(Some("A"))],
        ),
        case(
            "ops follow the page order of the last changes",
            vec![synced("A", "R"), synced("B", "S")],
            vec![up("R", "e2", room_2), rm("S"), up("R", "e3", title_theirs)],
            Ask,
            vec![Delete("B"), Apply(Some("A"))],
        ),
    ]);
    let index = LocalIndex::new(vec![]);
    let plan = plan_page(
        &index,
        page(vec![up("R", "e1", title_mine), up("R", "e2", room_2)]),
        Ask,
        None,
    );
    assert_eq!(
        plan.ops,
        vec![Op::ApplyRemote {
            local_id: None,
            event: ev("R", "e2").tap(room_2),
        }]
    );
}

trait Tap {
    fn tap(self, edit: Edit) -> Self;
}
impl Tap for RemoteEvent {
    fn tap(self, edit: Edit) -> Self {
        edited(self, edit)
    }
}

#[test]
fn ops_carry_the_versions_the_executor_needs() {
    let index = LocalIndex::new(vec![modified("A", "R", title_mine)]);
    let base = ev("R", "e1");
    let local = base.clone().tap(title_mine);

    let remote = ev("R", "e2").tap(room_2);
    let plan = plan_page(
        &index,
        page(vec![Change::Upsert(Box::new(remote.clone()))]),
        Policy::Ask,
        None,
    );
    let merged = remote.clone().tap(title_mine);
    assert_eq!(
        plan.ops,
        vec![Op::Merged {
            local_id: "A".into(),
            merged,
            base: remote,
            apply_locally: true,
            push: true,
            by: MergedBy::Clean,
        }]
    );

    let remote = ev("R", "e2").tap(title_theirs).tap(room_2);
    let plan = plan_page(
        &index,
        page(vec![Change::Upsert(Box::new(remote.clone()))]),
        Policy::Ask,
        None,
    );
    let [Op::RecordConflict {
        kind,
        base: b,
        local: l,
        remote: r,
        fields,
        shown,
        ..
    }] = plan.ops.as_slice()
    else {
        panic!("one conflict: {:?}", plan.ops);
    };
    assert_eq!(*kind, ConflictKind::EditEdit);
    assert_eq!(
        (b, l, r),
        (&Some(base), &Some(local), &Some(remote.clone()))
    );
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, crate::merge::Field::Title);
    // Local values in the conflicting field, the other side's disjoint change merged.
    assert_eq!(shown, &Some(remote.tap(title_mine)));

    let plan = plan_page(
        &index,
        page(vec![up("R", "e2", title_theirs)]),
        Policy::KeepBoth,
        None,
    );
    let [Op::RecordConflict {
        settled_by: Some(Policy::KeepBoth),
        local: Some(mine),
        ..
    }, Op::KeepBoth { remote, copy, .. }] = plan.ops.as_slice()
    else {
        panic!("the conflict on record, settled; keep both: {:?}", plan.ops);
    };
    assert_eq!(mine.title, "Mine");
    assert_eq!(remote.title, "Theirs");
    assert_eq!((copy.title.as_str(), copy.remote_id.as_str()), ("Mine", ""));

    let index = LocalIndex::new(vec![uid_create(title_mine)]);
    let plan = plan_page(&index, page(vec![up("R", "e1", keep)]), Policy::Ask, None);
    let [Op::LinkCreated { event, base, .. }] = plan.ops.as_slice() else {
        panic!("link: {:?}", plan.ops);
    };
    assert_eq!(
        (event.remote_id.as_str(), event.title.as_str()),
        ("R", "Mine")
    );
    assert_eq!(event.etag.as_deref(), Some("e1"));
    assert_eq!(base, &ev("R", "e1"));
}

/// Our own series coming back after another client removed one of its occurrences
/// (Graph lists that on the series): linked with their removal, ours kept and sent.
/// Not so at Google, whose create took our removals with it.
#[test]
fn our_series_linked_keeps_the_occurrences_removed_there_since() {
    let series = |id: &str, etag: &str, exdates: &[&str]| {
        let mut e = ev(id, etag);
        e.kind = RemoteKind::Master;
        e.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;COUNT=5".into(),
            exdates: exdates.iter().map(|d| d.to_string()).collect(),
            rdates: vec![],
        });
        e.ical_uid = Some("uid-R".into());
        e
    };
    let (ours, theirs) = ("2026-03-11T09:00:00", "2026-03-12T09:00:00");
    // Our create (removing `here`) linked to the provider's series (removing `there`):
    // the removals linked, sorted, and whether ours goes out.
    let link = |here: &[&str], there: &[&str], on_series: bool| {
        let mut mine = series("", "", here);
        mine.etag = None;
        let index = LocalIndex::new(vec![created("L", mine)]).with_removals_on_series(on_series);
        let remote = series("R", "e2", there);
        let plan = plan_page(
            &index,
            page(vec![Change::Upsert(Box::new(remote))]),
            Policy::Ask,
            None,
        );
        let [Op::LinkCreated { event, push, .. }] = plan.ops.as_slice() else {
            panic!("link: {:?}", plan.ops);
        };
        let mut removed = event
            .recurrence
            .as_ref()
            .map(|r| r.exdates.clone())
            .unwrap_or_default();
        removed.sort();
        (removed, *push)
    };
    // Sent with no removal: theirs is taken, nothing to send.
    assert_eq!(
        link(&[], &[theirs], true),
        (vec![theirs.to_string()], false)
    );
    // One removed here too (its instance not deleted there yet): both kept, ours sent.
    assert_eq!(
        link(&[ours], &[theirs], true),
        (vec![ours.to_string(), theirs.to_string()], true)
    );
    // At Google a create carries its removals: one there and not here was ours, and
    // the user brought that occurrence back since. Theirs is not taken; the restore
    // goes out.
    assert_eq!(link(&[], &[theirs], false), (vec![], true));
}

/// What happened, the versions sent, the row here, the provider's copy, and the link
/// as (title, room, pushed) — or `None`: linked as shown here, held by a conflict.
type LinkCase = (
    &'static str,
    Vec<Edit>,
    Edit,
    Edit,
    Option<(&'static str, &'static str, bool)>,
);

/// Our create found at the provider by the next pull (its answer lost), changed there
/// since it landed: what the pull links is merged against what was sent, so their
/// change is taken and ours is kept; the same field changed on both is a conflict.
#[test]
fn our_create_linked_takes_what_changed_there_since_it_was_sent() {
    // What was sent (the provider's copy shows it under id R).
    let sent = |edit: Edit| {
        let mut e = edited(ev("", ""), edit);
        e.etag = None;
        e.ical_uid = Some("uid-R".into());
        e
    };
    let link = |sent: Vec<RemoteEvent>, here: Edit, there: Edit, policy: Policy| {
        let mut entry = uid_create(here);
        entry.sent = sent;
        let index = LocalIndex::new(vec![entry]);
        plan_page(&index, page(vec![up("R", "e2", there)]), policy, None).ops
    };
    let both = |e: &mut RemoteEvent| {
        title_mine(e);
        room_2(e);
    };
    let conflict = None;
    let cases: [LinkCase; 7] = [
        (
            "the room changed there: taken, nothing of ours to send",
            vec![keep],
            keep,
            room_2,
            Some(("Review", "Room 2", false)),
        ),
        (
            "renamed here after the send: both kept, ours sent",
            vec![keep],
            title_mine,
            room_2,
            Some(("Mine", "Room 2", true)),
        ),
        (
            "renamed between two attempts, the provider kept the first: ours, sent",
            vec![keep, title_mine],
            title_mine,
            keep,
            Some(("Mine", "Room 1", true)),
        ),
        (
            "the provider kept the second attempt and changed its room since",
            vec![keep, title_mine],
            title_mine,
            both,
            Some(("Mine", "Room 2", false)),
        ),
        (
            "renamed between two attempts and renamed there: which attempt the provider \
          holds is not known, so neither rename is taken over the other",
            vec![keep, title_mine],
            title_mine,
            title_theirs,
            conflict,
        ),
        (
            "renamed between two attempts and back since, renamed there: the provider may \
          hold the second attempt",
            vec![keep, title_mine],
            keep,
            title_theirs,
            conflict,
        ),
        (
            "nothing recorded as sent (an outbox from before creates kept what they sent, \
          or too many versions): ours wins on every field, as before",
            vec![],
            keep,
            room_2,
            Some(("Review", "Room 1", true)),
        ),
    ];
    for (what, versions, here, there, want) in cases {
        let ops = link(
            versions.into_iter().map(sent).collect(),
            here,
            there,
            Policy::Ask,
        );
        match (want, ops.as_slice()) {
            (Some(want), [Op::LinkCreated { event, push, .. }]) => assert_eq!(
                (event.title.as_str(), event.location.as_str(), *push),
                want,
                "{what}"
            ),
            (None, [Op::LinkCreated { push: true, .. }, Op::RecordConflict { .. }]) => {}
            _ => panic!("{what}: {ops:?}"),
        }
    }
    // Renamed on both sides: linked as shown here, its push held by the conflict.
    let ops = link(vec![sent(keep)], title_mine, title_theirs, Policy::Ask);
    let [Op::LinkCreated {
        event, push: true, ..
    }, Op::RecordConflict {
        kind: ConflictKind::EditEdit,
        fields,
        settled_by: None,
        ..
    }] = ops.as_slice()
    else {
        panic!("linked, and a conflict: {ops:?}");
    };
    assert_eq!(event.remote_id, "R");
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].field, crate::merge::Field::Title);
    assert_eq!(fields[0].base, serde_json::json!("Review"));
    // A policy settles it.
    let ops = link(
        vec![sent(keep)],
        title_mine,
        title_theirs,
        Policy::PreferRemote,
    );
    let [Op::RecordConflict {
        settled_by: Some(Policy::PreferRemote),
        ..
    }, Op::LinkCreated { event, push, .. }] = ops.as_slice()
    else {
        panic!("settled, linked: {ops:?}");
    };
    assert_eq!((event.title.as_str(), *push), ("Theirs", false));
}

fn listed(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn window() -> Window {
    Window {
        start: at(5, 0),
        end: at(20, 0),
    }
}

fn timed_at(local: &str, id: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> LocalEntry {
    let mut e = synced(local, id);
    for ev in [&mut e.base, &mut e.current].into_iter().flatten() {
        ev.timing = Timing::Timed {
            start,
            end,
            time_zone: "UTC".into(),
        };
    }
    e
}

fn all_day(local: &str, id: &str, start: u32, end: u32) -> LocalEntry {
    let mut e = synced(local, id);
    let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).expect("a date");
    for ev in [&mut e.base, &mut e.current].into_iter().flatten() {
        ev.timing = Timing::AllDay {
            start: d(start),
            end: d(end),
        };
    }
    e
}

fn master(local: &str, id: &str) -> LocalEntry {
    let mut e = synced(local, id);
    for ev in [&mut e.base, &mut e.current].into_iter().flatten() {
        ev.kind = RemoteKind::Master;
        ev.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY".into(),
            exdates: vec![],
            rdates: vec![],
        });
    }
    e
}

/// Series `local` (`id` there) changed here by removing one of its days, and `edit`.
fn series_day_removed(local: &str, id: &str, edit: Edit) -> LocalEntry {
    let mut e = master(local, id);
    e.state = SyncState::LocallyModified;
    e.pending_push = true;
    if let Some(c) = e.current.as_mut() {
        edit(c);
        if let Some(r) = c.recurrence.as_mut() {
            r.exdates.push("2026-11-11T09:00:00".into());
        }
    }
    e
}

#[test]
fn reconcile_after_a_full_listing() {
    use Want::*;
    let calendar = || {
        vec![
            synced("A", "R"),
            synced("B", "S"),
            modified("C", "T", title_mine),
            deleted("D", "U"),
            uid_create(keep),
            synced("F", "V"),
        ]
    };
    struct R {
        name: &'static str,
        entries: Vec<LocalEntry>,
        listed: Vec<&'static str>,
        window: Option<Window>,
        want: Vec<Want>,
    }
    let cases = vec![
        R {
            name: "everything listed: nothing",
            entries: calendar(),
            listed: vec!["R", "S", "T", "U", "V"],
            window: None,
            want: vec![],
        },
        R {
            name: "unlisted: synced deleted, edit in conflict, deletion done, create kept",
            entries: calendar(),
            listed: vec!["S", "V"],
            window: None,
            want: vec![
                Delete("A"),
                Conflict("C", ConflictKind::EditDelete),
                Delete("D"),
            ],
        },
        R {
            name: "unlisted series changed here only by a removed day: deleted",
            entries: vec![
                series_day_removed("A", "R", keep),
                series_day_removed("B", "S", room_2),
            ],
            listed: vec![],
            window: None,
            want: vec![Delete("A"), Conflict("B", ConflictKind::EditDelete)],
        },
        R {
            name: "windowed: only events surely inside the window count",
            entries: vec![
                timed_at("A", "R", at(6, 9), at(6, 10)),
                timed_at("B", "S", at(2, 9), at(2, 10)),
                timed_at("C", "T", at(4, 23), at(5, 1)),
                timed_at("D", "U", at(19, 23), at(21, 0)),
                all_day("E", "V", 8, 9),
                all_day("F", "W", 5, 6),
                master("G", "X"),
                synced("H", "Y"),
            ],
            listed: vec!["Y"],
            window: Some(window()),
            want: vec![Delete("A"), Delete("E")],
        },
    ];
    for c in cases {
        let index = LocalIndex::new(c.entries);
        let plan = plan_reconcile(&index, &listed(&c.listed), c.window, Policy::Ask, None);
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(got, c.want, "{}", c.name);
    }
}

fn many_synced(n: usize) -> Vec<LocalEntry> {
    (0..n)
        .map(|i| synced(&format!("l{i:02}"), &format!("r{i:02}")))
        .collect()
}

#[test]
fn the_mass_deletion_guard() {
    let guard = Some(MassDeleteGuard::default());
    let removals = |n: usize| page((0..n).map(|i| rm(&format!("r{i:02}"))).collect());
    // (calendar size, removals in one page, trips)
    for (size, removed, trips) in [
        (12, 10, true),
        (12, 9, false),
        (20, 10, false),
        (20, 11, true),
        (40, 40, true),
    ] {
        let index = LocalIndex::new(many_synced(size));
        let plan = plan_page(&index, removals(removed), Policy::Ask, guard);
        let want = trips.then_some(GuardTrip {
            would_delete: removed,
            total: size,
        });
        assert_eq!(plan.guard, want, "{removed} of {size}");
        assert_eq!(plan.ops.is_empty(), trips, "{removed} of {size}: no ops");
        // Confirmed by the user: no guard.
        let plan = plan_page(&index, removals(removed), Policy::Ask, None);
        assert_eq!((plan.guard, plan.ops.len()), (None, removed));
    }

    // Local edits count: a bogus listing would flood the user with conflicts.
    let mut entries = many_synced(12);
    for e in &mut entries[..10] {
        *e = modified(
            &e.local_id.clone(),
            &e.remote_id.clone().unwrap_or_default(),
            title_mine,
        );
    }
    let plan = plan_page(&LocalIndex::new(entries), removals(10), Policy::Ask, guard);
    assert_eq!(
        plan.guard,
        Some(GuardTrip {
            would_delete: 10,
            total: 12
        })
    );

    // A calendar that had one event lists empty.
    let index = LocalIndex::new(many_synced(1));
    let plan = plan_reconcile(&index, &listed(&[]), None, Policy::Ask, guard);
    assert_eq!(
        (plan.guard, plan.ops),
        (
            Some(GuardTrip {
                would_delete: 1,
                total: 1
            }),
            vec![]
        )
    );
    // Reconcile, many gone.
    let index = LocalIndex::new(many_synced(30));
    let plan = plan_reconcile(&index, &listed(&["r00"]), None, Policy::Ask, guard);
    assert_eq!(
        plan.guard,
        Some(GuardTrip {
            would_delete: 29,
            total: 30
        })
    );
    // Empty, but only local deletions and unpushed creates: nothing the user has loses.
    let index = LocalIndex::new(vec![deleted("A", "R"), uid_create(keep)]);
    let plan = plan_reconcile(&index, &listed(&[]), None, Policy::Ask, guard);
    assert_eq!(plan.guard, None);
    assert_eq!(
        plan.ops,
        vec![Op::DeleteLocal {
            local_id: "A".into()
        }]
    );
    // Outside a window, nothing is at stake.
    let index = LocalIndex::new(vec![timed_at("A", "R", at(1, 9), at(1, 10))]);
    let plan = plan_reconcile(&index, &listed(&[]), Some(window()), Policy::Ask, guard);
    assert_eq!((plan.guard, plan.ops), (None, vec![]));
    // A windowed reconcile is given only what the listing lacks: what it showed
    // counts toward the whole by number.
    let inside: Vec<LocalEntry> = (0..10)
        .map(|i| {
            timed_at(
                &format!("l{i:02}"),
                &format!("r{i:02}"),
                at(6, 9),
                at(6, 10),
            )
        })
        .collect();
    for (shown, trips) in [(2, true), (10, false)] {
        let index = LocalIndex::new(inside.clone()).with_listed(shown);
        let plan = plan_reconcile(
            &index,
            &listed(&["shown"]),
            Some(window()),
            Policy::Ask,
            guard,
        );
        let want = trips.then_some(GuardTrip {
            would_delete: 10,
            total: 10 + shown,
        });
        assert_eq!(plan.guard, want, "{shown} shown");
        assert_eq!(plan.ops.len(), if trips { 0 } else { 10 }, "{shown} shown");
    }
}

#[test]
fn a_windowed_reconcile_removes_the_series_the_provider_says_are_gone() {
    // A windowed listing never names a series: one it did not show stays, unless the
    // provider, asked, no longer has it; changed here, that is an edit/delete.
    let index = LocalIndex::new(vec![master("G", "X"), master("H", "Y"), {
        let mut m = master("I", "Z");
        if let Some(c) = m.current.as_mut() {
            c.title = "Mine".into();
        }
        m.state = SyncState::LocallyModified;
        m
    }])
    .with_gone_series(listed(&["X", "Z"]));
    let plan = plan_reconcile(&index, &listed(&[]), Some(window()), Policy::Ask, None);
    let got: Vec<Want> = plan.ops.iter().map(shape).collect();
    assert_eq!(
        got,
        vec![
            Want::Delete("G"),
            Want::Conflict("I", ConflictKind::EditDelete)
        ]
    );
}

#[test]
fn stats_count_the_plan() {
    let index = LocalIndex::new(vec![
        synced("A", "R1"),
        synced("B", "R2"),
        modified("C", "R3", title_mine),
        modified("D", "R4", title_mine),
        synced("E", "R5"),
        synced("F", "R6"),
        chosen_id_create(),
    ]);
    let plan = plan_page(
        &index,
        page(vec![
            up("R1", "e2", room_2),       // applied
            rm("R2"),                     // deleted
            up("R3", "e2", room_2),       // merged, pushed
            up("R4", "e2", title_theirs), // conflict
            up("R5", "e1", keep),         // echo (etag)
            up("R6", "e2", keep),         // echo (content)
            up("g-42", "e1", keep),       // linked create: echo
            up("N", "e1", keep),          // applied
        ]),
        Policy::Ask,
        None,
    );
    assert_eq!(
        plan.stats,
        PlanStats {
            applied: 2,
            deleted: 1,
            merged: 1,
            pushed: 1,
            conflicts: 1,
            echoes: 3,
        }
    );
}

#[test]
fn listed_ids_are_the_upserts() {
    let p = page(vec![up("R", "e1", keep), rm("S"), up("T", "e1", keep)]);
    assert_eq!(listed_ids(&p).collect::<Vec<_>>(), vec!["R", "T"]);
}

// ---- Properties -----------------------------------------------------------------

const TITLES: [&str; 3] = ["Review", "Mine", "Theirs"];
const ROOMS: [&str; 2] = ["Room 1", "Room 2"];

fn version(id: &str, etag: usize, title: usize, room: usize, uid: usize) -> RemoteEvent {
    let mut e = ev(id, &format!("e{etag}"));
    e.title = TITLES[title].into();
    e.location = ROOMS[room].into();
    e.ical_uid = Some(format!("u{uid}"));
    e
}

fn arb_entry(i: usize) -> impl Strategy<Value = LocalEntry> {
    (
        0..4u8,
        0..3usize,
        0..3usize,
        0..2usize,
        0..2usize,
        any::<bool>(),
        0..8usize,
    )
        .prop_map(move |(state, etag, base_title, title, room, flag, uid)| {
            let id = format!("r{i}");
            let base = version(&id, etag, base_title, 0, i);
            let mut e = LocalEntry {
                local_id: format!("l{i}"),
                remote_id: Some(id.clone()),
                state: SyncState::Synced,
                current: Some(base.clone()),
                base_etag: base.etag.clone(),
                base: Some(base.clone()),
                pending_push: false,
                open_conflict: None,
                sent: Vec::new(),
            };
            match state {
                0 => e.pending_push = flag && title == 1, // now and then an inconsistent row
                1 => {
                    e.state = SyncState::LocallyModified;
                    e.pending_push = true;
                    e.current = Some(version(&id, etag, title + 1, room, i));
                }
                2 => {
                    e.state = SyncState::LocallyDeleted;
                    e.pending_push = true;
                    e.current = None;
                }
                _ => {
                    e.state = SyncState::LocallyCreated;
                    e.pending_push = true;
                    e.remote_id = None;
                    e.base = None;
                    e.base_etag = None;
                    // A Google create chose its id; a Graph one did not.
                    let chosen = if flag {
                        format!("r{}", i + 4)
                    } else {
                        String::new()
                    };
                    let mut c = version(&chosen, 0, title, room, uid);
                    c.etag = None;
                    e.current = Some(c);
                }
            }
            e
        })
}

fn arb_entries() -> impl Strategy<Value = Vec<LocalEntry>> {
    (0..=6usize).prop_flat_map(|n| (0..n).map(arb_entry).collect::<Vec<_>>())
}

fn arb_page() -> impl Strategy<Value = ChangePage> {
    proptest::collection::vec(
        (
            0..10usize,
            0..4u8,
            0..3usize,
            0..3usize,
            0..2usize,
            0..10usize,
        ),
        0..10,
    )
    .prop_map(|raw| {
        let changes = raw
            .into_iter()
            .map(|(idx, kind, etag, title, room, uid)| {
                let id = format!("r{idx}");
                if kind == 0 {
                    rm(&id)
                } else {
                    // Mostly the event's own iCalUID, sometimes another (a create's).
                    let uid = if uid < 8 { idx } else { uid - 8 };
                    Change::Upsert(Box::new(version(&id, etag, title, room, uid)))
                }
            })
            .collect();
        page(changes)
    })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    prop::sample::select(vec![
        Policy::Ask,
        Policy::PreferLocal,
        Policy::PreferRemote,
        Policy::KeepBoth,
    ])
}

/// The plan-level invariants: one op per local event, never an edit lost, never an
/// unpushed change overwritten, unpushed creates touched only to be linked.
fn check_plan(index: &LocalIndex, plan: &Plan) -> Result<(), TestCaseError> {
    let mut seen = BTreeSet::new();
    for op in &plan.ops {
        let Some(id) = op.local_id() else { continue };
        if matches!(
            op,
            Op::RecordConflict {
                settled_by: Some(_),
                ..
            }
        ) {
            continue; // on record only: the op after it settles the event
        }
        prop_assert!(
            seen.insert(id.to_string()),
            "two ops for {id}: {:?}",
            plan.ops
        );
        let target = index.by_local_id(id).expect("ops target known entries");
        match op {
            // (An edit undone has nothing the provider's deletion loses.)
            Op::DeleteLocal { .. } => prop_assert!(
                target.state == SyncState::LocallyDeleted
                    || !target.has_local_changes()
                    || (target.state == SyncState::LocallyModified
                        && target.open_conflict.is_none()
                        && target
                            .base
                            .as_ref()
                            .zip(target.current.as_ref())
                            .is_some_and(|(b, c)| changed_fields(b, c).is_empty())),
                "an edit deleted: {target:?}"
            ),
            Op::ApplyRemote { .. } | Op::AcknowledgeEcho { .. } => prop_assert!(
                !target.has_local_changes(),
                "unpushed work overwritten: {target:?}"
            ),
            Op::LinkCreated { .. } => prop_assert!(target.remote_id.is_none()),
            _ => prop_assert!(target.remote_id.is_some(), "a pending create touched"),
        }
    }
    Ok(())
}

/// The executor, in memory: applies a plan's effects on the entries.
fn apply(entries: &mut Vec<LocalEntry>, plan: &Plan, next: &mut usize) {
    let synced = |local_id: String, ev: &RemoteEvent| LocalEntry {
        local_id,
        remote_id: Some(ev.remote_id.clone()),
        state: SyncState::Synced,
        current: Some(ev.clone()),
        base: Some(ev.clone()),
        base_etag: ev.etag.clone(),
        pending_push: false,
        open_conflict: None,
        sent: Vec::new(),
    };
    let mut fresh = |prefix: &str| {
        *next += 1;
        format!("{prefix}{next}")
    };
    for op in &plan.ops {
        let pos = op
            .local_id()
            .and_then(|id| entries.iter().position(|e| e.local_id == id));
        match op {
            Op::ApplyRemote { local_id, event } => match pos.map(|p| &mut entries[p]) {
                Some(e) => *e = synced(e.local_id.clone(), event),
                None => {
                    let id = local_id.clone().unwrap_or_else(|| fresh("new"));
                    entries.push(synced(id, event));
                }
            },
            Op::DeleteLocal { .. } => {
                if let Some(p) = pos {
                    entries.remove(p);
                }
            }
            Op::Merged {
                merged, base, push, ..
            } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    e.current = Some(merged.clone());
                    e.base = Some(base.clone());
                    e.base_etag = base.etag.clone();
                    e.state = if *push {
                        SyncState::LocallyModified
                    } else {
                        SyncState::Synced
                    };
                    e.pending_push = *push;
                    e.open_conflict = None;
                }
            }
            Op::RecordConflict {
                settled_by: Some(_),
                ..
            } => {}
            Op::RecordConflict {
                kind,
                remote,
                shown,
                ..
            } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    if shown.is_some() {
                        e.current = shown.clone();
                    }
                    e.open_conflict = Some(OpenConflict {
                        kind: *kind,
                        remote_etag: remote.as_ref().and_then(|r| r.etag.clone()),
                    });
                }
            }
            Op::KeepBoth { remote, copy, .. } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    *e = synced(e.local_id.clone(), remote);
                }
                entries.push(LocalEntry {
                    local_id: fresh("copy"),
                    remote_id: None,
                    state: SyncState::LocallyCreated,
                    current: Some(copy.clone()),
                    base: None,
                    base_etag: None,
                    pending_push: true,
                    open_conflict: None,
                    sent: Vec::new(),
                });
            }
            Op::RestoreLocal { event, .. } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    *e = synced(e.local_id.clone(), event);
                }
            }
            Op::RecreateRemote { event, .. } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    e.remote_id = None;
                    e.state = SyncState::LocallyCreated;
                    e.current = Some(event.clone());
                    e.base = None;
                    e.base_etag = None;
                    e.pending_push = true;
                    e.open_conflict = None;
                }
            }
            Op::KeepLocalDeletion { base, .. } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    e.base = Some(base.clone());
                    e.base_etag = base.etag.clone();
                }
            }
            Op::LinkCreated {
                event, base, push, ..
            } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    e.remote_id = Some(base.remote_id.clone());
                    e.current = Some(event.clone());
                    e.base = Some(base.clone());
                    e.base_etag = base.etag.clone();
                    e.state = if *push {
                        SyncState::LocallyModified
                    } else {
                        SyncState::Synced
                    };
                    e.pending_push = *push;
                }
            }
            Op::AcknowledgeEcho { etag, .. } => {
                if let Some(e) = pos.map(|p| &mut entries[p]) {
                    e.base_etag = etag.clone();
                    for v in [&mut e.base, &mut e.current].into_iter().flatten() {
                        v.etag = etag.clone();
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn planning_is_deterministic_and_safe(
        entries in arb_entries(),
        page in arb_page(),
        policy in arb_policy(),
    ) {
        let index = LocalIndex::new(entries.clone());
        let plan = plan_page(&index, page.clone(), policy, Some(MassDeleteGuard::default()));
        let mut reversed = entries;
        reversed.reverse();
        let again = plan_page(&LocalIndex::new(reversed), page, policy, Some(MassDeleteGuard::default()));
        prop_assert_eq!(&plan, &again);
        check_plan(&index, &plan)?;
        // New rows are for distinct remote ids nobody here has.
        let new: Vec<&str> = plan.ops.iter().filter_map(|op| match op {
            Op::ApplyRemote { local_id: None, event } => Some(event.remote_id.as_str()),
            _ => None,
        }).collect();
        prop_assert_eq!(new.iter().collect::<BTreeSet<_>>().len(), new.len());
        for id in new {
            prop_assert!(index.by_remote_id(id).is_none());
        }
    }

    #[test]
    fn reconcile_is_safe(
        entries in arb_entries(),
        listed in prop::sample::subsequence((0..8).map(|i| format!("r{i}")).collect::<Vec<_>>(), 0..=8),
        policy in arb_policy(),
    ) {
        let index = LocalIndex::new(entries);
        let listed: BTreeSet<String> = listed.into_iter().collect();
        let plan = plan_reconcile(&index, &listed, None, policy, None);
        check_plan(&index, &plan)?;
        for op in &plan.ops {
            let id = op.local_id().expect("reconcile only touches known entries");
            let e = index.by_local_id(id).expect("a known entry");
            prop_assert!(!listed.contains(e.remote_id.as_deref().unwrap_or_default()));
        }
    }

    #[test]
    fn replaying_a_page_is_quiet(
        entries in arb_entries(),
        page in arb_page(),
        policy in arb_policy(),
    ) {
        let mut model = entries;
        let mut next = 0;
        let first = plan_page(&LocalIndex::new(model.clone()), page.clone(), policy, None);
        apply(&mut model, &first, &mut next);
        let index = LocalIndex::new(model.clone());
        let second = plan_page(&index, page.clone(), policy, None);
        prop_assert!(
            second.ops.iter().all(|op| matches!(op, Op::AcknowledgeEcho { .. })),
            "replay did work: {:?}\nafter {:?}", second.ops, first.ops
        );
        prop_assert_eq!(PlanStats { echoes: 0, ..second.stats }, PlanStats::default());
        // And a reconcile of what the page listed is as quiet the second time.
        let listed: BTreeSet<String> = listed_ids(&page).map(String::from).collect();
        let first = plan_reconcile(&index, &listed, None, policy, None);
        apply(&mut model, &first, &mut next);
        let second = plan_reconcile(&LocalIndex::new(model), &listed, None, policy, None);
        prop_assert_eq!(second.ops, vec![]);
    }
}

/// Series "m" (synced) and its occurrence of the 10th changed here with `edit`, not
/// yet acknowledged (no remote id).
fn changed_occurrence(edit: Edit) -> LocalIndex {
    changed_occurrence_of(keep, edit)
}

/// [`changed_occurrence`], the series as synced changed with `of_series` too.
fn changed_occurrence_of(of_series: Edit, edit: Edit) -> LocalIndex {
    let mut master = synced("M", "m");
    let series = |e: &mut RemoteEvent| {
        e.kind = RemoteKind::Master;
        e.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;COUNT=3".into(),
            exdates: vec![],
            rdates: vec![],
        });
    };
    master.current = master.current.map(|c| edited(edited(c, series), of_series));
    master.base = master.base.map(|c| edited(edited(c, series), of_series));
    let mut occurrence = edited(ev("", ""), cancelled_instance);
    occurrence.cancelled = false;
    occurrence.etag = None;
    occurrence.ical_uid = None;
    LocalIndex::new(vec![master, created("X", edited(occurrence, edit))])
}

/// The provider's exception of the 10th's occurrence of "m", changed with `edit`.
fn listed_occurrence(edit: Edit) -> Change {
    let mut e = edited(ev("m_20260310T090000Z", "e7"), cancelled_instance);
    e.cancelled = false;
    Change::Upsert(Box::new(edited(e, edit)))
}

/// A series made here took the provider's default reminder when it landed, after its
/// occurrence changed here was made without one. That row no provider copy filled
/// (`extra` empty) did not remove the reminder: paired with the provider's exception,
/// the merge takes the provider's. A row a provider copy filled keeps its own.
#[test]
fn an_occurrence_no_provider_filled_takes_the_providers_unedited_fields() {
    let reminded: Edit = |e| e.reminder_minutes = Some(10);
    let theirs = listed_occurrence(|e| {
        room_2(e);
        e.reminder_minutes = Some(10);
    });
    let unfilled: Edit = |e| {
        title_mine(e);
        e.reminder_minutes = None;
    };
    let plan = plan_page(
        &changed_occurrence_of(reminded, unfilled),
        page(vec![theirs.clone()]),
        Policy::Ask,
        None,
    );
    let [Op::LinkCreated { event, push, .. }] = plan.ops.as_slice() else {
        panic!("link: {:?}", plan.ops);
    };
    assert_eq!(
        (event.title.as_str(), event.location.as_str()),
        ("Mine", "Room 2")
    );
    assert_eq!((event.reminder_minutes, *push), (Some(10), true));

    // Filled by a provider copy once (an exception sent again by "keep mine"): its
    // missing reminder is its own, a change here.
    let filled: Edit = |e| {
        title_mine(e);
        e.reminder_minutes = None;
        e.extra
            .insert("htmlLink".into(), serde_json::json!("https://x"));
    };
    let plan = plan_page(
        &changed_occurrence_of(reminded, filled),
        page(vec![theirs]),
        Policy::Ask,
        None,
    );
    let [Op::LinkCreated { event, .. }] = plan.ops.as_slice() else {
        panic!("link: {:?}", plan.ops);
    };
    assert_eq!(event.reminder_minutes, None);
}

#[test]
fn an_occurrence_changed_on_both_sides_is_linked_and_merged() {
    // Our own update of the instance, its answer lost: linked, nothing to push.
    let plan = plan_page(
        &changed_occurrence(title_mine),
        page(vec![listed_occurrence(title_mine)]),
        Policy::Ask,
        None,
    );
    let [Op::LinkCreated {
        local_id,
        event,
        push,
        ..
    }] = plan.ops.as_slice()
    else {
        panic!("link: {:?}", plan.ops);
    };
    assert_eq!((local_id.as_str(), *push), ("X", false));
    assert_eq!(event.remote_id, "m_20260310T090000Z");

    // Another client changed the room of the same occurrence: both changes kept.
    let plan = plan_page(
        &changed_occurrence(title_mine),
        page(vec![listed_occurrence(room_2)]),
        Policy::Ask,
        None,
    );
    let [Op::LinkCreated { event, push, .. }] = plan.ops.as_slice() else {
        panic!("link: {:?}", plan.ops);
    };
    assert_eq!(
        (event.title.as_str(), event.location.as_str(), *push),
        ("Mine", "Room 2", true)
    );

    // Both changed the title: linked (its push held) and left to the user.
    let plan = plan_page(
        &changed_occurrence(title_mine),
        page(vec![listed_occurrence(title_theirs)]),
        Policy::Ask,
        None,
    );
    let [Op::LinkCreated {
        event,
        base: linked,
        ..
    }, Op::RecordConflict {
        local_id,
        kind,
        fields,
        base,
        ..
    }] = plan.ops.as_slice()
    else {
        panic!("link and conflict: {:?}", plan.ops);
    };
    // The stored base stays what both changes started from (a newer version of the
    // occurrence must meet the same conflict, not settle it), with the provider's etag.
    assert_eq!(
        (linked.title.as_str(), linked.etag.as_deref()),
        ("Review", Some("e7"))
    );
    assert_eq!((event.title.as_str(), local_id.as_str()), ("Mine", "X"));
    assert_eq!(*kind, ConflictKind::EditEdit);
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].field, crate::merge::Field::Title);
    // The base is the occurrence as the series makes it.
    assert_eq!(base.as_ref().map(|b| b.title.as_str()), Some("Review"));

    // By policy: this computer's title.
    let plan = plan_page(
        &changed_occurrence(title_mine),
        page(vec![listed_occurrence(title_theirs)]),
        Policy::PreferLocal,
        None,
    );
    let [Op::RecordConflict {
        settled_by: Some(Policy::PreferLocal),
        remote: Some(theirs),
        ..
    }, Op::LinkCreated { event, push, .. }] = plan.ops.as_slice()
    else {
        panic!("the conflict on record, settled; link: {:?}", plan.ops);
    };
    assert_eq!(theirs.title, "Theirs");
    assert_eq!((event.title.as_str(), *push), ("Mine", true));

    // By the keep-both policy: the occurrence as the provider has it, and ours as an
    // event of its own.
    let plan = plan_page(
        &changed_occurrence(title_mine),
        page(vec![listed_occurrence(title_theirs)]),
        Policy::KeepBoth,
        None,
    );
    let [Op::RecordConflict {
        settled_by: Some(Policy::KeepBoth),
        ..
    }, Op::KeepBoth {
        local_id,
        remote,
        copy,
    }] = plan.ops.as_slice()
    else {
        panic!("keep both: {:?}", plan.ops);
    };
    assert_eq!(local_id, "X");
    assert_eq!(
        (remote.title.as_str(), remote.remote_id.as_str()),
        ("Theirs", "m_20260310T090000Z")
    );
    assert_eq!(
        (copy.title.as_str(), copy.kind, copy.series.is_none()),
        ("Mine", RemoteKind::Single, true)
    );
    assert!(copy.remote_id.is_empty());
}

#[test]
fn an_occurrence_deleted_here_does_not_come_back_before_its_series_is_pushed() {
    // The 10th's occurrence of "m" was deleted here (an EXDATE, the series' update
    // still queued) after a change of it whose answer was lost: the provider's
    // exception of it is not a new event.
    let deleted = |e: &mut RemoteEvent| {
        e.kind = RemoteKind::Master;
        e.recurrence = Some(RemoteRecurrence {
            rrule: "FREQ=DAILY;COUNT=3".into(),
            exdates: vec!["2026-03-10T09:00:00".into()],
            rdates: vec![],
        });
    };
    let index = LocalIndex::new(vec![modified("M", "m", deleted)]);
    let plan = plan_page(
        &index,
        page(vec![listed_occurrence(title_mine)]),
        Policy::Ask,
        None,
    );
    assert_eq!(plan.ops, vec![], "{:?}", plan.ops);

    // With the series pushed (nothing queued), the provider's exception is applied.
    let mut synced_series = synced("M", "m");
    synced_series.current = synced_series.current.map(|c| edited(c, deleted));
    let plan = plan_page(
        &LocalIndex::new(vec![synced_series]),
        page(vec![listed_occurrence(title_mine)]),
        Policy::Ask,
        None,
    );
    assert_eq!(plan.ops.len(), 1, "{:?}", plan.ops);
}

/// An occurrence of series `m` (10th, 09:00) changed here: an exception row with a
/// provider id, its title edited.
fn occurrence_changed_here(local: &str, id: &str) -> LocalEntry {
    let mut e = modified(local, id, title_mine);
    for ev in [&mut e.base, &mut e.current].into_iter().flatten() {
        ev.kind = RemoteKind::Exception;
        ev.series = Some(SeriesLink {
            master_id: "m".into(),
            original_start: OriginalStart::Timed(at(10, 9)),
        });
    }
    e
}

#[test]
fn an_occurrence_changed_here_removed_with_its_series_is_the_series_conflict() {
    use Policy::*;
    use Want::*;
    let waiting = || LocalEntry {
        open_conflict: Some(OpenConflict {
            kind: ConflictKind::EditDelete,
            remote_etag: None,
        }),
        ..master("M", "m")
    };
    run(vec![
        case(
            "both removed, the occurrence first: one conflict, on the series",
            vec![master("M", "m"), occurrence_changed_here("O", "m_1")],
            vec![rm("m_1"), rm("m")],
            Ask,
            vec![Conflict("M", ConflictKind::EditDelete)],
        ),
        case(
            "both removed, the series first: the same",
            vec![master("M", "m"), occurrence_changed_here("O", "m_1")],
            vec![rm("m"), rm("m_1")],
            Ask,
            vec![Conflict("M", ConflictKind::EditDelete)],
        ),
        case(
            "both removed, a policy that keeps edits: the series made again, once",
            vec![master("M", "m"), occurrence_changed_here("O", "m_1")],
            vec![rm("m_1"), rm("m")],
            PreferLocal,
            vec![Settled("M", ConflictKind::EditDelete), Recreate("M")],
        ),
        case(
            "the occurrence alone (cancelled there): its own conflict",
            vec![master("M", "m"), occurrence_changed_here("O", "m_1")],
            vec![rm("m_1")],
            Ask,
            vec![Conflict("O", ConflictKind::EditDelete)],
        ),
        case(
            "the occurrence after its series' removal waits for the user: nothing",
            vec![waiting(), occurrence_changed_here("O", "m_1")],
            vec![rm("m_1")],
            Ask,
            vec![],
        ),
    ]);
}

/// Outlook lists a long series' removed instances pages before the series' own
/// removal: the page that removes the changed occurrence, told that its series is
/// gone (see `LocalIndex::with_gone_series`), leaves it to the series' edit/delete,
/// as when both come on one page; not told, the occurrence has its own conflict.
#[test]
fn an_occurrence_changed_here_removed_before_its_gone_series_is_left_to_it() {
    use Want::*;
    let entries = || vec![master("M", "m"), occurrence_changed_here("O", "m_1")];
    for (gone, want) in [
        (vec!["m"], vec![]),
        (vec![], vec![Conflict("O", ConflictKind::EditDelete)]),
    ] {
        let index = LocalIndex::new(entries())
            .with_gone_series(gone.iter().map(|s| (*s).to_owned()).collect());
        let plan = plan_page(&index, page(vec![rm("m_1")]), Policy::Ask, None);
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(got, want, "gone: {gone:?}");
    }
    // The series' own removal, on the next page: its edit/delete holds the change.
    let index = LocalIndex::new(entries());
    let plan = plan_page(&index, page(vec![rm("m")]), Policy::Ask, None);
    let got: Vec<Want> = plan.ops.iter().map(shape).collect();
    assert_eq!(got, vec![Conflict("M", ConflictKind::EditDelete)]);
}

/// A full listing that lacks both a series and its occurrence changed here: one
/// conflict, on the series, whichever the reconcile meets first (entries go in local
/// id order).
#[test]
fn a_reconcile_that_lacks_a_series_and_its_changed_occurrence_asks_once() {
    use Want::*;
    for (entries, series) in [
        (
            vec![master("M", "m"), occurrence_changed_here("O", "m_1")],
            "M",
        ),
        (
            vec![occurrence_changed_here("A", "m_1"), master("Z", "m")],
            "Z",
        ),
    ] {
        let index = LocalIndex::new(entries);
        let plan = plan_reconcile(&index, &listed(&[]), None, Policy::Ask, None);
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(
            got,
            [Conflict(series, ConflictKind::EditDelete)],
            "{series}"
        );
    }
}

/// An update that landed unanswered (its version `sent`), then the event deleted
/// here: the provider's version is our edit with the stamps every write leaves
/// (Google's sequence, its time of change) and its own form of what we changed
/// (Google's `transparency` for show-as), no change made there — the deletion goes.
/// Anything else changed there since is one: a conflict.
#[test]
fn a_deletion_after_an_update_landed_unanswered_goes_unless_changed_there() {
    use Want::*;
    let stamp = |e: &mut RemoteEvent, key: &str, v: Value| {
        e.extra.insert(key.into(), v);
    };
    let mut before = ev("R", "e1");
    stamp(&mut before, "sequence", serde_json::json!(0));
    let sent = edited(before.clone(), title_mine);
    let mut landed = sent.clone();
    landed.etag = Some("e2".into());
    stamp(&mut landed, "sequence", serde_json::json!(1));
    let mut coloured = landed.clone();
    stamp(&mut coloured, "colorId", serde_json::json!("5"));
    // Shown as free: Google rewrites its own form of it too.
    let mut free = before.clone();
    free.show_as = ShowAs::Free;
    let mut free_there = free.clone();
    free_there.etag = Some("e2".into());
    stamp(
        &mut free_there,
        "transparency",
        serde_json::json!("transparent"),
    );
    stamp(&mut free_there, "sequence", serde_json::json!(1));
    for (sent, remote, want) in [
        (sent.clone(), landed, KeepDeletion("L")),
        (sent, coloured, Conflict("L", ConflictKind::DeleteEdit)),
        (free, free_there, KeepDeletion("L")),
    ] {
        let entry = LocalEntry {
            base: Some(before.clone()),
            sent: vec![sent],
            ..deleted("L", "R")
        };
        let index = LocalIndex::new(vec![entry]);
        let change = Change::Upsert(Box::new(remote));
        let plan = plan_page(&index, page(vec![change]), Policy::Ask, None);
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(got, [want]);
    }
}

/// Series "m" (daily from the 10th, synced) with `n` exceptions here, of the 11th on
/// ("X0" = "m_0", …), each changed here with `edit` when `changed`.
fn series_with_exceptions(n: u32, changed: bool, edit: Edit) -> Vec<LocalEntry> {
    let mut entries = vec![master("M", "m")];
    for i in 0..n {
        let day = at(11 + i, 9);
        let mut x = synced(leak(&format!("X{i}")), leak(&format!("m_{i}")));
        for e in [&mut x.base, &mut x.current].into_iter().flatten() {
            e.kind = RemoteKind::Exception;
            e.title = "Review, moved to Room 2".into();
            e.timing = Timing::Timed {
                start: day,
                end: day + TimeDelta::hours(1),
                time_zone: "UTC".into(),
            };
            e.series = Some(SeriesLink {
                master_id: "m".into(),
                original_start: OriginalStart::Timed(day),
            });
        }
        if changed {
            x.state = SyncState::LocallyModified;
            x.pending_push = true;
            x.current = x.current.map(|c| edited(c, edit));
        }
        entries.push(x);
    }
    entries
}

/// Series "m" as the provider lists it with its first `n` days from the 11th
/// cancelled (Graph's `cancelledOccurrences`), as `edit` leaves it.
fn series_cancelling(n: u32, edit: Edit) -> Change {
    let mut m = edited(ev("m", "e2"), edit);
    m.kind = RemoteKind::Master;
    m.recurrence = Some(RemoteRecurrence {
        rrule: "FREQ=DAILY".into(),
        exdates: (0..n)
            .map(|i| format!("2026-03-{:02}T09:00:00", 11 + i))
            .collect(),
        rdates: vec![],
    });
    Change::Upsert(Box::new(m))
}

/// Graph: a series listing a day cancelled that has an exception here takes the
/// exception along (a full listing, or a series read back after a push, names no
/// removal of the instance): unchanged here, deleted; changed here, an edit/delete.
/// Named by its own removal on the same page too, it goes once. Those deletions are
/// the series' own word, day by day: not for the mass-deletion guard. A series moved
/// there keys its cancellations by new times: left to the rebase; an exception not
/// linked yet, to its own update. At Google (removals not on the series) nothing
/// changes.
#[test]
fn a_series_cancelling_a_day_takes_its_exception_along() {
    use Want::*;
    let moved: Edit = |e| {
        e.timing = Timing::Timed {
            start: at(10, 11),
            end: at(10, 12),
            time_zone: "UTC".into(),
        };
    };
    let cases = [
        (
            "unchanged here",
            series_with_exceptions(1, false, keep),
            vec![series_cancelling(1, keep)],
            vec![Delete("X0"), Apply(Some("M"))],
        ),
        (
            "changed here",
            series_with_exceptions(1, true, title_mine),
            vec![series_cancelling(1, keep)],
            vec![Conflict("X0", ConflictKind::EditDelete), Apply(Some("M"))],
        ),
        (
            "its own removal after",
            series_with_exceptions(1, false, keep),
            vec![series_cancelling(1, keep), rm("m_0")],
            vec![Delete("X0"), Apply(Some("M"))],
        ),
        (
            "its own removal before",
            series_with_exceptions(1, true, title_mine),
            vec![rm("m_0"), series_cancelling(1, keep)],
            vec![Conflict("X0", ConflictKind::EditDelete), Apply(Some("M"))],
        ),
        (
            "renamed there too",
            series_with_exceptions(1, false, keep),
            vec![series_cancelling(1, title_theirs)],
            vec![Delete("X0"), Apply(Some("M"))],
        ),
        (
            "moved there",
            series_with_exceptions(1, false, keep),
            vec![series_cancelling(1, moved)],
            vec![Apply(Some("M"))],
        ),
        (
            "another day",
            series_with_exceptions(2, false, keep),
            vec![series_cancelling(1, keep)],
            vec![Delete("X0"), Apply(Some("M"))],
        ),
        (
            "many days",
            series_with_exceptions(12, false, keep),
            vec![series_cancelling(12, keep)],
            {
                // (In local id order.)
                let mut ids: Vec<String> = (0..12).map(|i| format!("X{i}")).collect();
                ids.sort();
                ids.iter()
                    .map(|id| Delete(leak(id)))
                    .chain([Apply(Some("M"))])
                    .collect()
            },
        ),
    ];
    let unlinked = {
        let mut e = series_with_exceptions(1, true, title_mine);
        e[1].remote_id = None;
        e[1].state = SyncState::LocallyCreated;
        e[1].base = None;
        e
    };
    // Already cancelled in the base (an older store's leftover): not repaired here.
    let known = {
        let mut e = series_with_exceptions(1, false, keep);
        let one = &mut e[0];
        for m in [&mut one.base, &mut one.current].into_iter().flatten() {
            if let Some(r) = m.recurrence.as_mut() {
                r.exdates.push("2026-03-11T09:00:00".into());
            }
        }
        e
    };
    let longer: Edit = |e| {
        e.timing = Timing::Timed {
            start: at(10, 9),
            end: at(10, 11),
            time_zone: "UTC".into(),
        };
    };
    let cases = cases.into_iter().chain([
        (
            // Its update meets the deletion when it goes out.
            "not linked yet",
            unlinked,
            vec![series_cancelling(1, keep)],
            vec![Apply(Some("M"))],
        ),
        (
            "known",
            known,
            vec![series_cancelling(1, keep)],
            vec![Echo("M")],
        ),
        (
            "made longer there",
            series_with_exceptions(1, false, keep),
            vec![series_cancelling(1, longer)],
            vec![Delete("X0"), Apply(Some("M"))],
        ),
        // Keys read in the series' zone, across a change of its offset.
        berlin_across_dst(),
        all_day_series(),
    ]);
    for (name, entries, changes, want) in cases {
        let index = LocalIndex::new(entries.clone()).with_removals_on_series(true);
        let plan = plan_page(
            &index,
            page(changes.clone()),
            Policy::Ask,
            Some(MassDeleteGuard::default()),
        );
        assert_eq!(plan.guard, None, "{name}: guard");
        let got: Vec<Want> = plan.ops.iter().map(shape).collect();
        assert_eq!(got, want, "{name}");
        // Newer than the rest of a round under way can show.
        let taken = want
            .iter()
            .any(|w| matches!(w, Delete(id) | Conflict(id, _) if id.starts_with('X')));
        assert_eq!(
            !plan.cancelled.is_empty(),
            taken,
            "{name}: {:?}",
            plan.cancelled
        );
        // Google: an instance's cancellation is its own to list.
        if changes.iter().any(|c| matches!(c, Change::Removed { .. })) {
            continue;
        }
        let plan = plan_page(&LocalIndex::new(entries), page(changes), Policy::Ask, None);
        assert!(
            !plan
                .ops
                .iter()
                .any(|op| matches!(shape(op), Delete(id) if id.starts_with('X'))),
            "{name}: Google {:?}",
            plan.ops
        );
    }
}

type CancelCase = (&'static str, Vec<LocalEntry>, Vec<Change>, Vec<Want>);

/// Series "m" in Berlin, daily at 09:00 from the 10th (08:00 UTC), its occurrence of
/// the 30th (09:00 summer time, 07:00 UTC) changed, synced; listed with that day
/// cancelled.
fn berlin_across_dst() -> CancelCase {
    let zoned = |e: &mut RemoteEvent, start: DateTime<Utc>| {
        e.timing = Timing::Timed {
            start,
            end: start + TimeDelta::hours(1),
            time_zone: "Europe/Berlin".into(),
        };
    };
    let mut entries = series_with_exceptions(1, false, keep);
    let one = &mut entries[0];
    for m in [&mut one.base, &mut one.current].into_iter().flatten() {
        zoned(m, at(10, 8));
    }
    let one = &mut entries[1];
    for x in [&mut one.base, &mut one.current].into_iter().flatten() {
        zoned(x, at(30, 7));
        x.series = Some(SeriesLink {
            master_id: "m".into(),
            original_start: OriginalStart::Timed(at(30, 7)),
        });
    }
    let Change::Upsert(mut m) = series_cancelling(0, keep) else {
        unreachable!()
    };
    zoned(&mut m, at(10, 8));
    if let Some(r) = m.recurrence.as_mut() {
        r.exdates = vec!["2026-03-30T09:00:00".into()];
    }
    (
        "Berlin, after the clocks change",
        entries,
        vec![Change::Upsert(m)],
        vec![Want::Delete("X0"), Want::Apply(Some("M"))],
    )
}

/// An all-day series "m" from the 10th, its occurrence of the 12th changed, synced;
/// listed with that day cancelled.
fn all_day_series() -> CancelCase {
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).expect("a date");
    let mut entries = series_with_exceptions(1, false, keep);
    let one = &mut entries[0];
    for m in [&mut one.base, &mut one.current].into_iter().flatten() {
        m.timing = Timing::AllDay {
            start: day(10),
            end: day(11),
        };
    }
    let one = &mut entries[1];
    for x in [&mut one.base, &mut one.current].into_iter().flatten() {
        x.timing = Timing::AllDay {
            start: day(12),
            end: day(13),
        };
        x.series = Some(SeriesLink {
            master_id: "m".into(),
            original_start: OriginalStart::AllDay(day(12)),
        });
    }
    let Change::Upsert(mut m) = series_cancelling(0, keep) else {
        unreachable!()
    };
    m.timing = Timing::AllDay {
        start: day(10),
        end: day(11),
    };
    if let Some(r) = m.recurrence.as_mut() {
        r.exdates = vec!["2026-03-12".into()];
    }
    (
        "all-day",
        entries,
        vec![Change::Upsert(m)],
        vec![Want::Delete("X0"), Want::Apply(Some("M"))],
    )
}
