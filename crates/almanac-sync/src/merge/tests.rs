use super::*;
use almanac_model::{AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Response};
use almanac_model::{Sensitivity, ShowAs};
use almanac_provider::SeriesLink;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::Map;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a valid instant")
}

fn attendee(email: &str, kind: AttendeeKind, response: Response) -> Attendee {
    Attendee {
        person: Person {
            email: email.into(),
            name: String::new(),
        },
        kind,
        response,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn base() -> RemoteEvent {
    RemoteEvent {
        remote_id: "AAMk-1".into(),
        etag: Some("e1".into()),
        ical_uid: Some("uid-1".into()),
        kind: RemoteKind::Master,
        series: None,
        cancelled: false,
        title: "Weekly sync".into(),
        body_text: "Agenda".into(),
        body_html: Some("<p>Agenda</p>".into()),
        timing: Timing::Timed {
            start: at(2, 9),
            end: at(2, 10),
            time_zone: "Europe/Paris".into(),
        },
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        sensitivity: Sensitivity::Normal,
        categories: vec!["Red".into(), "Blue".into()],
        location: "Room 1".into(),
        attendees: vec![
            attendee("ann@x.com", AttendeeKind::Required, Response::None),
            attendee("bob@x.com", AttendeeKind::Optional, Response::None),
        ],
        organizer: Some(Person {
            email: "org@x.com".into(),
            name: "Org".into(),
        }),
        online_meeting: None,
        recurrence: Some(RemoteRecurrence {
            rrule: "FREQ=WEEKLY;BYDAY=MO".into(),
            exdates: vec!["2026-03-09T10:00".into()],
            rdates: vec![],
        }),
        reminder_minutes: Some(15),
        extra: obj(json!({ "webLink": "https://x/1", "hideAttendees": false })).into(),
    }
}

fn rec(e: &mut RemoteEvent) -> &mut RemoteRecurrence {
    e.recurrence.get_or_insert_with(|| RemoteRecurrence {
        rrule: String::new(),
        exdates: vec![],
        rdates: vec![],
    })
}

type Edit = fn(&mut RemoteEvent);

fn keep(_: &mut RemoteEvent) {}

struct Case {
    local: Edit,
    remote: Edit,
    merged: Edit,
    conflicts: Vec<Field>,
    push: bool,
    apply: bool,
}

fn check(name: &str, case: Case) {
    let b = base();
    let mut l = b.clone();
    (case.local)(&mut l);
    let mut r = b.clone();
    r.etag = Some("e2".into());
    (case.remote)(&mut r);
    let mut want = b.clone();
    (case.merged)(&mut want);

    let m = merge(&b, &l, &r);
    assert_eq!(changed_fields(&m.merged, &want), vec![], "{name}: merged");
    let fields: Vec<Field> = m.conflicts.iter().map(|c| c.field.clone()).collect();
    assert_eq!(fields, case.conflicts, "{name}: conflicts");
    assert_eq!(m.push, case.push, "{name}: push");
    assert_eq!(m.apply_locally, case.apply, "{name}: apply locally");
    assert_eq!(
        m.merged.etag.as_deref(),
        Some("e2"),
        "{name}: identity from remote"
    );
    for c in &m.conflicts {
        assert_eq!(c.base, c.field.value(&b), "{name}: base kept");
        assert_eq!(c.local, c.field.value(&l), "{name}: local kept");
        assert_eq!(c.remote, c.field.value(&r), "{name}: remote kept");
    }
    // Which side is "local" does not matter outside the conflicts.
    let swapped = merge(&b, &r, &l);
    let swapped_fields: Vec<Field> = swapped.conflicts.iter().map(|c| c.field.clone()).collect();
    assert_eq!(swapped_fields, fields, "{name}: symmetric conflicts");
    for f in changed_fields(&m.merged, &swapped.merged) {
        assert!(fields.contains(&f), "{name}: {f} differs when swapped");
    }
}

macro_rules! cases {
    ($($name:ident: $local:expr, $remote:expr => $merged:expr, [$($c:expr),*], push $p:expr, apply $a:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name), Case {
                    local: $local,
                    remote: $remote,
                    merged: $merged,
                    conflicts: vec![$($c),*],
                    push: $p,
                    apply: $a,
                });
            }
        )*
    };
}

cases! {
    nothing_changed_is_quiet: keep, keep => keep, [], push false, apply false;
    title_changed_locally_is_pushed:
        |e| e.title = "Mine".into(), keep => |e| e.title = "Mine".into(), [], push true, apply false;
    title_changed_remotely_is_applied_locally:
        keep, |e| e.title = "Theirs".into() => |e| e.title = "Theirs".into(), [], push false, apply true;
    disjoint_fields_merge_both_ways:
        |e| e.title = "Mine".into(), |e| e.location = "Room 2".into()
        => |e| { e.title = "Mine".into(); e.location = "Room 2".into(); }, [], push true, apply true;
    same_change_on_both_sides_is_not_a_conflict:
        |e| e.title = "Same".into(), |e| e.title = "Same".into()
        => |e| e.title = "Same".into(), [], push false, apply false;
    different_titles_conflict_and_merged_holds_remote_meanwhile:
        |e| e.title = "Mine".into(), |e| e.title = "Theirs".into()
        => |e| e.title = "Theirs".into(), [Field::Title], push false, apply true;
    body_text_and_html_are_one_field:
        |e| { e.body_text = "Mine".into(); e.body_html = None },
        |e| { e.body_text = "Theirs".into(); e.body_html = Some("<p>Theirs</p>".into()) }
        => |e| { e.body_text = "Theirs".into(); e.body_html = Some("<p>Theirs</p>".into()) },
        [Field::Body], push false, apply true;
    a_formatted_body_read_again_is_the_same_body:
        keep, |e| e.body_text = "Agenda\n".into()
        => keep, [], push false, apply false;
    a_description_edited_here_replaces_the_formatted_one:
        |e| { e.body_text = "Agenda, v2".into(); e.body_html = None },
        |e| e.body_text = "Agenda\n".into()
        => |e| { e.body_text = "Agenda, v2".into(); e.body_html = None },
        [], push true, apply false;
    move_made_locally_is_pushed:
        |e| e.timing = Timing::AllDay {
            start: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap_or_default(),
        }, keep
        => |e| e.timing = Timing::AllDay {
            start: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap_or_default(),
        }, [], push true, apply false;
    different_moves_conflict:
        |e| e.timing = Timing::Timed { start: at(2, 11), end: at(2, 12), time_zone: "Europe/Paris".into() },
        |e| e.timing = Timing::Timed { start: at(2, 14), end: at(2, 15), time_zone: "Europe/Paris".into() }
        => |e| e.timing = Timing::Timed { start: at(2, 14), end: at(2, 15), time_zone: "Europe/Paris".into() },
        [Field::Timing], push false, apply true;
    show_as_and_importance_changed_apart_are_both_kept:
        |e| e.show_as = ShowAs::Free, |e| e.importance = Importance::High
        => |e| { e.show_as = ShowAs::Free; e.importance = Importance::High; }, [], push true, apply true;
    sensitivity_changed_alike_then_title_remotely:
        |e| e.sensitivity = Sensitivity::Private,
        |e| { e.sensitivity = Sensitivity::Private; e.title = "Theirs".into(); }
        => |e| { e.sensitivity = Sensitivity::Private; e.title = "Theirs".into(); }, [], push false, apply true;
    reminder_removed_locally_is_pushed:
        |e| e.reminder_minutes = None, keep => |e| e.reminder_minutes = None, [], push true, apply false;
    organizer_changed_remotely_is_applied:
        keep, |e| e.organizer = None => |e| e.organizer = None, [], push false, apply true;
    teams_meeting_added_locally_is_pushed:
        |e| e.online_meeting = Some(OnlineMeeting {
            provider: MeetingProvider::Teams, join_url: "https://teams/j".into(),
            conference_id: None, toll_number: None, pin: None,
        }), |e| e.importance = Importance::Low
        => |e| {
            e.online_meeting = Some(OnlineMeeting {
                provider: MeetingProvider::Teams, join_url: "https://teams/j".into(),
                conference_id: None, toll_number: None, pin: None,
            });
            e.importance = Importance::Low;
        }, [], push true, apply true;
    instance_cancelled_remotely_is_applied:
        keep, |e| e.cancelled = true => |e| e.cancelled = true, [], push false, apply true;
    occurrence_edited_here_and_cancelled_there_conflicts:
        |e| e.title = "Mine".into(), |e| e.cancelled = true
        => |e| { e.title = "Mine".into(); e.cancelled = true; }, [Field::Cancelled], push true, apply true;
    occurrence_cancelled_here_and_edited_there_conflicts:
        |e| e.cancelled = true, |e| e.location = "Room 2".into()
        => |e| e.location = "Room 2".into(), [Field::Cancelled], push false, apply true;
    occurrence_cancelled_on_both_sides_with_an_edit_there_is_cancelled:
        |e| e.cancelled = true, |e| { e.cancelled = true; e.title = "Theirs".into(); }
        => |e| { e.cancelled = true; e.title = "Theirs".into(); }, [], push false, apply true;
    extra_key_added_remotely_is_kept:
        |e| e.title = "Mine".into(), |e| { e.extra.insert("isDraft".into(), json!(false)); }
        => |e| { e.title = "Mine".into(); e.extra.insert("isDraft".into(), json!(false)); },
        [], push true, apply true;
    extra_key_added_locally_is_kept_and_pushed:
        |e| { e.extra.insert("colorId".into(), json!("5")); }, |e| e.title = "Theirs".into()
        => |e| { e.extra.insert("colorId".into(), json!("5")); e.title = "Theirs".into(); },
        [], push true, apply true;
    extra_keys_added_on_both_sides_are_both_kept:
        |e| { e.extra.insert("a".into(), json!(1)); }, |e| { e.extra.insert("b".into(), json!(2)); }
        => |e| { e.extra.insert("a".into(), json!(1)); e.extra.insert("b".into(), json!(2)); },
        [], push true, apply true;
    extra_key_changed_differently_conflicts_alone:
        |e| { e.extra.insert("webLink".into(), json!("mine")); },
        |e| { e.extra.insert("webLink".into(), json!("theirs")); e.title = "Theirs".into(); }
        => |e| { e.extra.insert("webLink".into(), json!("theirs")); e.title = "Theirs".into(); },
        [Field::Extra("webLink".into())], push false, apply true;
    extra_key_removed_remotely_is_removed:
        keep, |e| { e.extra.remove("hideAttendees"); }
        => |e| { e.extra.remove("hideAttendees"); }, [], push false, apply true;
    extra_key_removed_remotely_while_edited_locally_conflicts:
        |e| { e.extra.insert("hideAttendees".into(), json!(true)); }, |e| { e.extra.remove("hideAttendees"); }
        => |e| { e.extra.remove("hideAttendees"); }, [Field::Extra("hideAttendees".into())], push false, apply true;
    categories_added_on_both_sides_are_united:
        |e| e.categories.push("Green".into()), |e| e.categories.push("Gold".into())
        => |e| { e.categories.push("Green".into()); e.categories.push("Gold".into()); },
        [], push true, apply true;
    category_removed_locally_stays_removed_while_remote_adds_another:
        |e| e.categories.retain(|c| c != "Red"), |e| e.categories.push("Gold".into())
        => |e| e.categories = vec!["Blue".into(), "Gold".into()], [], push true, apply true;
    categories_reordered_is_no_change:
        keep, |e| e.categories.reverse() => keep, [], push false, apply false;
    attendee_added_locally_while_someone_answers_remotely_merges:
        |e| e.attendees.push(attendee("cat@x.com", AttendeeKind::Required, Response::None)),
        |e| e.attendees[0].response = Response::Accepted
        => |e| {
            e.attendees[0].response = Response::Accepted;
            e.attendees.push(attendee("cat@x.com", AttendeeKind::Required, Response::None));
        }, [], push true, apply true;
    attendee_removed_remotely_is_removed:
        |e| e.title = "Mine".into(), |e| { e.attendees.remove(1); }
        => |e| { e.title = "Mine".into(); e.attendees.remove(1); }, [], push true, apply true;
    attendee_removed_locally_while_answering_remotely_conflicts:
        |e| { e.attendees.remove(1); }, |e| e.attendees[1].response = Response::Declined
        => |e| e.attendees[1].response = Response::Declined, [Field::Attendees], push false, apply true;
    one_attendee_changed_in_different_fields_merges_field_by_field:
        |e| e.attendees[1].kind = AttendeeKind::Required, |e| e.attendees[1].response = Response::Tentative
        => |e| { e.attendees[1].kind = AttendeeKind::Required; e.attendees[1].response = Response::Tentative; },
        [], push true, apply true;
    one_attendee_answer_changed_differently_conflicts:
        |e| e.attendees[0].response = Response::Accepted, |e| e.attendees[0].response = Response::Declined
        => |e| e.attendees[0].response = Response::Declined, [Field::Attendees], push false, apply true;
    attendee_addresses_match_case_insensitively:
        |e| e.attendees[1].person.email = "Bob@X.com".into(), |e| e.attendees[1].response = Response::Accepted
        => |e| { e.attendees[1].person.email = "Bob@X.com".into(); e.attendees[1].response = Response::Accepted; },
        [], push true, apply true;
    attendees_reordered_is_no_change:
        keep, |e| e.attendees.reverse() => keep, [], push false, apply false;
    attendees_without_unique_addresses_merge_as_a_whole_list:
        |e| e.attendees.push(attendee("", AttendeeKind::Resource, Response::None)),
        |e| e.attendees[0].response = Response::Accepted
        => |e| e.attendees[0].response = Response::Accepted, [Field::Attendees], push false, apply true;
    exclusions_added_on_both_sides_are_united:
        |e| rec(e).exdates.push("2026-03-16T10:00".into()), |e| rec(e).exdates.push("2026-03-23T10:00".into())
        => |e| { rec(e).exdates.push("2026-03-16T10:00".into()); rec(e).exdates.push("2026-03-23T10:00".into()); },
        [], push true, apply true;
    series_edited_locally_while_occurrence_cancelled_remotely_keeps_both:
        |e| rec(e).rrule = "FREQ=WEEKLY;BYDAY=MO;COUNT=10".into(),
        |e| rec(e).exdates.push("2026-03-16T10:00".into())
        => |e| { rec(e).rrule = "FREQ=WEEKLY;BYDAY=MO;COUNT=10".into(); rec(e).exdates.push("2026-03-16T10:00".into()); },
        [], push true, apply true;
    exclusion_lifted_on_one_side_is_lifted:
        |e| rec(e).exdates.push("2026-03-16T10:00".into()), |e| rec(e).exdates.clear()
        => |e| rec(e).exdates = vec!["2026-03-16T10:00".into()], [], push true, apply true;
    different_rules_conflict_but_exclusions_still_merge:
        |e| { rec(e).rrule = "FREQ=DAILY".into(); rec(e).exdates.push("2026-03-03T10:00".into()); },
        |e| { rec(e).rrule = "FREQ=MONTHLY".into(); rec(e).exdates.push("2026-04-06T10:00".into()); }
        => |e| {
            rec(e).rrule = "FREQ=MONTHLY".into();
            rec(e).exdates.push("2026-04-06T10:00".into());
            rec(e).exdates.push("2026-03-03T10:00".into());
        }, [Field::Recurrence], push true, apply true;
    series_made_single_locally_while_occurrence_cancelled_remotely_conflicts:
        |e| e.recurrence = None, |e| rec(e).exdates.push("2026-03-16T10:00".into())
        => |e| rec(e).exdates.push("2026-03-16T10:00".into()), [Field::Recurrence], push false, apply true;
    extra_dates_changed_differently_conflict:
        |e| rec(e).rdates.push("2026-03-04T10:00".into()), |e| rec(e).rdates.push("2026-03-05T10:00".into())
        => |e| rec(e).rdates.push("2026-03-05T10:00".into()), [Field::Recurrence], push false, apply true;
    same_exclusion_added_in_another_order_is_no_change:
        |e| rec(e).exdates.push("2026-03-16T10:00".into()),
        |e| rec(e).exdates.insert(0, "2026-03-16T10:00".into())
        => |e| rec(e).exdates.push("2026-03-16T10:00".into()), [], push false, apply false;
}

#[test]
fn changed_fields_ignores_identity_and_bookkeeping() {
    let a = base();
    let mut b = base();
    b.remote_id = "other".into();
    b.etag = None;
    b.ical_uid = None;
    b.kind = RemoteKind::Exception;
    b.series = Some(SeriesLink {
        master_id: "m".into(),
        original_start: almanac_provider::OriginalStart::Timed(at(2, 9)),
    });
    assert_eq!(changed_fields(&a, &b), vec![]);
    b.title = "x".into();
    b.extra.insert("new".into(), json!(1));
    b.extra.remove("webLink");
    assert_eq!(
        changed_fields(&a, &b),
        vec![
            Field::Title,
            Field::Extra("new".into()),
            Field::Extra("webLink".into())
        ]
    );
}

#[test]
fn field_names_are_stable_and_extra_keys_are_prefixed() {
    assert_eq!(Field::Title.name(), "title");
    assert_eq!(Field::OnlineMeeting.to_string(), "onlineMeeting");
    assert_eq!(Field::Extra("webLink".into()).name(), "extra.webLink");
    assert_eq!(Field::MODELLED.len(), 14);
}

#[test]
fn conflict_values_are_json_for_display() {
    let e = base();
    assert_eq!(
        Field::Timing.value(&e),
        json!({ "start": "2026-03-02T09:00:00+00:00", "end": "2026-03-02T10:00:00+00:00",
                "timeZone": "Europe/Paris" })
    );
    assert_eq!(Field::Extra("absent".into()).value(&e), Value::Null);
    assert_eq!(Field::ShowAs.value(&e), json!("busy"));
    assert_eq!(
        Field::Recurrence.value(&e),
        json!({ "rrule": "FREQ=WEEKLY;BYDAY=MO", "exdates": ["2026-03-09T10:00"], "rdates": [] })
    );
}

// ---- presence ----

fn edited() -> RemoteEvent {
    let mut e = base();
    e.title = "Edited".into();
    e
}

#[test]
fn created_remotely_is_created_locally() {
    assert_eq!(
        merge_presence(None, None, Some(&base())),
        Presence::CreateLocal
    );
}

#[test]
fn created_locally_is_created_remotely() {
    assert_eq!(
        merge_presence(None, Some(&base()), None),
        Presence::CreateRemote
    );
}

#[test]
fn deleted_remotely_and_unchanged_locally_is_deleted_locally() {
    assert_eq!(
        merge_presence(Some(&base()), Some(&base()), None),
        Presence::DeleteLocal
    );
}

#[test]
fn deleted_locally_and_unchanged_remotely_is_deleted_remotely() {
    let mut r = base();
    r.etag = Some("bookkeeping only".into());
    assert_eq!(
        merge_presence(Some(&base()), None, Some(&r)),
        Presence::DeleteRemote
    );
}

#[test]
fn edited_locally_and_deleted_remotely_is_an_edit_delete_conflict_keeping_both() {
    assert_eq!(
        merge_presence(Some(&base()), Some(&edited()), None),
        Presence::Conflict {
            kind: ConflictKind::EditDelete,
            base: base(),
            edited: edited(),
        }
    );
}

#[test]
fn deleted_locally_and_edited_remotely_is_a_delete_edit_conflict_keeping_both() {
    assert_eq!(
        merge_presence(Some(&base()), None, Some(&edited())),
        Presence::Conflict {
            kind: ConflictKind::DeleteEdit,
            base: base(),
            edited: edited(),
        }
    );
}

#[test]
fn deleted_on_both_sides_or_absent_everywhere_is_gone() {
    assert_eq!(merge_presence(Some(&base()), None, None), Presence::Gone);
    assert_eq!(merge_presence(None, None, None), Presence::Gone);
}

#[test]
fn present_everywhere_is_merged() {
    let Presence::Merge(m) = merge_presence(Some(&base()), Some(&base()), Some(&edited())) else {
        panic!("expected a merge");
    };
    assert_eq!(m.merged.title, "Edited");
    assert!(m.apply_locally && !m.push);
}

#[test]
fn created_on_both_sides_differently_keeps_both() {
    assert_eq!(
        merge_presence(None, Some(&base()), Some(&edited())),
        Presence::KeepBoth {
            local: base(),
            remote: edited(),
        }
    );
}

#[test]
fn created_on_both_sides_alike_is_one_event_with_nothing_to_write() {
    let mut r = base();
    r.etag = Some("e9".into());
    let Presence::Merge(m) = merge_presence(None, Some(&base()), Some(&r)) else {
        panic!("expected a merge");
    };
    assert_eq!(m.merged, r);
    assert!(!m.push && !m.apply_locally && m.conflicts.is_empty());
}

// ---- policies and choices ----

/// Title conflicts; location changed remotely only; reminder changed locally only.
fn conflicted() -> (RemoteEvent, RemoteEvent, RemoteEvent, Merge) {
    let b = base();
    let mut l = b.clone();
    l.title = "Mine".into();
    l.reminder_minutes = Some(30);
    let mut r = b.clone();
    r.title = "Theirs".into();
    r.location = "Room 2".into();
    let m = merge(&b, &l, &r);
    (b, l, r, m)
}

#[test]
fn no_conflict_is_merged_whatever_the_policy() {
    let b = base();
    let r = edited();
    let m = merge(&b, &b, &r);
    for p in [
        Policy::Ask,
        Policy::PreferLocal,
        Policy::PreferRemote,
        Policy::KeepBoth,
    ] {
        assert_eq!(resolve(&m, &b, &b, &r, p), Resolution::Merged(m.clone()));
    }
}

#[test]
fn ask_shows_mine_in_conflicting_fields_theirs_elsewhere_and_pushes_nothing() {
    let (b, l, r, m) = conflicted();
    let Resolution::Open {
        kind,
        shown: Some(shown),
        conflicts,
    } = resolve(&m, &b, &l, &r, Policy::Ask)
    else {
        panic!("expected an open conflict");
    };
    assert_eq!(kind, ConflictKind::EditEdit);
    assert_eq!(conflicts, m.conflicts);
    assert_eq!(shown.title, "Mine");
    assert_eq!(shown.location, "Room 2");
    assert_eq!(shown.reminder_minutes, Some(30));
    // Stable: the shown row merged again gives the same conflict and the same row.
    let again = merge(&b, &shown, &r);
    assert_eq!(again.conflicts, m.conflicts);
    let Resolution::Open {
        shown: Some(shown_again),
        ..
    } = resolve(&again, &b, &shown, &r, Policy::Ask)
    else {
        panic!("expected an open conflict");
    };
    assert_eq!(shown_again, shown);
}

#[test]
fn prefer_local_takes_mine_for_conflicts_and_keeps_their_disjoint_changes() {
    let (b, l, r, m) = conflicted();
    let Resolution::Merged(s) = resolve(&m, &b, &l, &r, Policy::PreferLocal) else {
        panic!("expected a merge");
    };
    assert!(s.conflicts.is_empty());
    assert_eq!(
        (s.merged.title.as_str(), s.merged.location.as_str()),
        ("Mine", "Room 2")
    );
    assert!(s.push && s.apply_locally);
}

#[test]
fn prefer_remote_takes_theirs_for_conflicts_and_still_pushes_my_disjoint_changes() {
    let (b, l, r, m) = conflicted();
    let Resolution::Merged(s) = resolve(&m, &b, &l, &r, Policy::PreferRemote) else {
        panic!("expected a merge");
    };
    assert!(s.conflicts.is_empty());
    assert_eq!(s.merged.title, "Theirs");
    assert_eq!(s.merged.reminder_minutes, Some(30));
    assert!(s.push && s.apply_locally);
}

#[test]
fn keep_both_keeps_theirs_as_the_event_and_mine_as_a_new_event() {
    let (b, l, r, m) = conflicted();
    let Resolution::KeepBoth { remote, copy } = resolve(&m, &b, &l, &r, Policy::KeepBoth) else {
        panic!("expected keep both");
    };
    assert_eq!(remote, r);
    // Everything of mine but the meeting's people: a copy invites nobody again.
    assert!(!l.attendees.is_empty() && l.organizer.is_some());
    assert_eq!(
        changed_fields(&copy, &l),
        vec![Field::Attendees, Field::Organizer]
    );
    assert!(copy.attendees.is_empty() && copy.organizer.is_none());
    assert!(copy.online_meeting.is_none());
    assert_eq!(
        (
            copy.remote_id.as_str(),
            copy.etag,
            copy.ical_uid,
            copy.series
        ),
        ("", None, None, None)
    );
    assert_eq!(copy.kind, RemoteKind::Master);
}

#[test]
fn per_field_choice_settles_each_field_and_leaves_the_unpicked_open() {
    let b = base();
    let mut l = b.clone();
    l.title = "Mine".into();
    l.location = "My room".into();
    let mut r = b.clone();
    r.title = "Theirs".into();
    r.location = "Their room".into();
    let picks = BTreeMap::from([(Field::Title, Side::Local), (Field::Location, Side::Remote)]);
    let Resolution::Merged(s) = apply_choice(&b, &l, &r, &Choice::PerField(picks)) else {
        panic!("expected a merge");
    };
    assert_eq!(
        (s.merged.title.as_str(), s.merged.location.as_str()),
        ("Mine", "Their room")
    );
    let partial = BTreeMap::from([(Field::Location, Side::Remote)]);
    let Resolution::Open {
        shown: Some(shown),
        conflicts,
        ..
    } = apply_choice(&b, &l, &r, &Choice::PerField(partial))
    else {
        panic!("expected an open conflict");
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, Field::Title);
    assert_eq!(
        (shown.title.as_str(), shown.location.as_str()),
        ("Mine", "Their room")
    );
}

#[test]
fn keep_mine_on_attendees_decides_only_the_disagreeing_attendee() {
    let b = base();
    let mut l = b.clone();
    l.attendees[0].response = Response::Accepted;
    l.attendees.push(attendee(
        "cat@x.com",
        AttendeeKind::Optional,
        Response::None,
    ));
    let mut r = b.clone();
    r.attendees[0].response = Response::Declined;
    r.attendees[1].response = Response::Tentative;
    let Resolution::Merged(s) = apply_choice(&b, &l, &r, &Choice::KeepMine) else {
        panic!("expected a merge");
    };
    let responses: Vec<(&str, Response)> = s
        .merged
        .attendees
        .iter()
        .map(|a| (a.person.email.as_str(), a.response))
        .collect();
    assert_eq!(
        responses,
        vec![
            ("ann@x.com", Response::Accepted),
            ("bob@x.com", Response::Tentative),
            ("cat@x.com", Response::None)
        ]
    );
}

#[test]
fn delete_conflicts_by_policy() {
    let e = edited();
    // Edited locally, deleted remotely.
    assert_eq!(
        resolve_deleted(Side::Remote, &e, Policy::Ask),
        Resolution::Open {
            kind: ConflictKind::EditDelete,
            shown: Some(e.clone()),
            conflicts: vec![],
        }
    );
    assert_eq!(
        resolve_deleted(Side::Remote, &e, Policy::PreferRemote),
        Resolution::Delete
    );
    for p in [Policy::PreferLocal, Policy::KeepBoth] {
        let Resolution::Restore { event, on } = resolve_deleted(Side::Remote, &e, p) else {
            panic!("expected a restore");
        };
        assert_eq!(on, Side::Remote);
        assert_eq!(
            (event.title.as_str(), event.remote_id.as_str()),
            ("Edited", "")
        );
    }
    // Deleted locally, edited remotely.
    assert_eq!(
        resolve_deleted(Side::Local, &e, Policy::Ask),
        Resolution::Open {
            kind: ConflictKind::DeleteEdit,
            shown: None,
            conflicts: vec![],
        }
    );
    assert_eq!(
        resolve_deleted(Side::Local, &e, Policy::PreferLocal),
        Resolution::Delete
    );
    for p in [Policy::PreferRemote, Policy::KeepBoth] {
        assert_eq!(
            resolve_deleted(Side::Local, &e, p),
            Resolution::Restore {
                event: e.clone(),
                on: Side::Local
            }
        );
    }
    assert_eq!(
        apply_deleted_choice(Side::Local, &e, &Choice::PerField(BTreeMap::new())),
        Resolution::Restore {
            event: e.clone(),
            on: Side::Local
        }
    );
    assert_eq!(ConflictKind::DeleteEdit.deleted_on(), Some(Side::Local));
    assert_eq!(ConflictKind::EditDelete.as_str(), "edit/delete");
}

// ---- properties ----

const EMAILS: [&str; 3] = ["ann@x.com", "bob@x.com", "cat@x.com"];
const DATES: [&str; 3] = ["2026-03-09T10:00", "2026-03-16T10:00", "2026-03-23T10:00"];

fn arb_attendees() -> impl Strategy<Value = Vec<Attendee>> {
    proptest::collection::vec((0..3usize, 0..2u8, 0..3u8, 0..2u8), 0..4).prop_map(|raw| {
        let mut seen = BTreeSet::new();
        raw.into_iter()
            .filter(|(i, ..)| seen.insert(*i))
            .map(|(i, kind, response, name)| Attendee {
                person: Person {
                    email: EMAILS[i].into(),
                    name: ["", "Ann"][usize::from(name)].into(),
                },
                kind: [AttendeeKind::Required, AttendeeKind::Optional][usize::from(kind)],
                response: [Response::None, Response::Accepted, Response::Declined]
                    [usize::from(response)],
            })
            .collect()
    })
}

fn arb_recurrence() -> impl Strategy<Value = Option<RemoteRecurrence>> {
    proptest::option::of(
        (
            prop::sample::select(vec!["FREQ=WEEKLY", "FREQ=DAILY"]),
            prop::sample::subsequence(DATES.to_vec(), 0..=3),
            prop::sample::subsequence(DATES[..2].to_vec(), 0..=2),
        )
            .prop_map(|(rrule, exdates, rdates)| RemoteRecurrence {
                rrule: rrule.into(),
                exdates: exdates.into_iter().map(String::from).collect(),
                rdates: rdates.into_iter().map(String::from).collect(),
            }),
    )
}

fn arb_event() -> impl Strategy<Value = RemoteEvent> {
    let s = |xs: &[&'static str]| prop::sample::select(xs.to_vec()).prop_map(String::from);
    (
        (
            s(&["a", "b", "c"]),
            s(&["x", "y"]),
            0..3u32,
            prop::sample::select(vec![ShowAs::Busy, ShowAs::Free]),
            prop::sample::select(vec![Importance::Normal, Importance::High]),
            prop::sample::select(vec![Sensitivity::Normal, Sensitivity::Private]),
        ),
        (
            prop::sample::subsequence(vec!["Red", "Blue", "Gold"], 0..=3),
            s(&["", "Room 1"]),
            arb_attendees(),
            prop::option::of(s(&["org@x.com", "boss@x.com"])),
            any::<bool>(),
        ),
        (
            arb_recurrence(),
            prop::option::of(prop::sample::select(vec![10u32, 15])),
            any::<bool>(),
            proptest::collection::btree_map(s(&["p", "q", "r"]), 0..2i64, 0..3),
            s(&["e1", "e2"]),
        ),
    )
        .prop_map(
            |(
                (title, body, hour, show_as, importance, sensitivity),
                (categories, location, attendees, organizer, meeting),
                (recurrence, reminder_minutes, cancelled, extra, etag),
            )| RemoteEvent {
                remote_id: "id".into(),
                etag: Some(etag),
                ical_uid: None,
                kind: RemoteKind::Single,
                series: None,
                cancelled,
                title,
                body_text: body,
                body_html: None,
                timing: Timing::Timed {
                    start: at(2, 9 + hour),
                    end: at(2, 10 + hour),
                    time_zone: "UTC".into(),
                },
                show_as,
                importance,
                sensitivity,
                categories: categories.into_iter().map(String::from).collect(),
                location,
                attendees,
                organizer: organizer.map(|email| Person {
                    email,
                    name: String::new(),
                }),
                online_meeting: meeting.then(|| OnlineMeeting {
                    provider: MeetingProvider::Meet,
                    join_url: "https://meet/x".into(),
                    conference_id: None,
                    toll_number: None,
                    pin: None,
                }),
                recurrence,
                reminder_minutes,
                extra: extra
                    .into_iter()
                    .map(|(k, v)| (k, json!(v)))
                    .collect::<Map<String, Value>>()
                    .into(),
            },
        )
}

/// Whether `side`'s change of `field` (from `base`) survives in `merged`: whole, or for
/// lists and EXDATEs every addition, removal and attendee field that side changed.
fn change_kept(
    field: &Field,
    base: &RemoteEvent,
    side: &RemoteEvent,
    merged: &RemoteEvent,
) -> bool {
    let set_kept = |b: &[String], s: &[String], m: &[String]| {
        let (b, s, m) = (set(b), set(s), set(m));
        s.difference(&b).all(|x| m.contains(x)) && b.difference(&s).all(|x| !m.contains(x))
    };
    match field {
        Field::Categories => set_kept(&base.categories, &side.categories, &merged.categories),
        Field::Attendees => {
            let (Some(b), Some(s), Some(m)) = (
                by_address(&base.attendees),
                by_address(&side.attendees),
                by_address(&merged.attendees),
            ) else {
                return field.same(side, merged);
            };
            b.keys()
                .chain(s.keys())
                .all(|k| match (b.get(k), s.get(k), m.get(k)) {
                    (old, None, got) => old.is_none() || got.is_none(),
                    (None, Some(a), got) => got == Some(a),
                    (Some(o), Some(a), Some(g)) => {
                        (a.person == o.person || a.person == g.person)
                            && (a.kind == o.kind || a.kind == g.kind)
                            && (a.response == o.response || a.response == g.response)
                    }
                    (Some(o), Some(a), None) => a == o,
                })
        }
        Field::Recurrence => match (&base.recurrence, &side.recurrence, &merged.recurrence) {
            (Some(b), Some(s), Some(m)) => {
                (same_rule(s, b) || same_rule(s, m)) && set_kept(&b.exdates, &s.exdates, &m.exdates)
            }
            _ => field.same(side, merged),
        },
        _ => field.same(side, merged),
    }
}

fn conflict_fields(m: &Merge) -> Vec<Field> {
    m.conflicts.iter().map(|c| c.field.clone()).collect()
}

proptest! {
    #[test]
    fn remote_unchanged_gives_local(base in arb_event(), x in arb_event()) {
        let m = merge(&base, &x, &base);
        prop_assert_eq!(changed_fields(&m.merged, &x), vec![]);
        prop_assert!(m.conflicts.is_empty() && !m.apply_locally);
        prop_assert_eq!(m.push, !changed_fields(&x, &base).is_empty());
    }

    #[test]
    fn local_unchanged_gives_remote(base in arb_event(), y in arb_event()) {
        let m = merge(&base, &base, &y);
        prop_assert_eq!(changed_fields(&m.merged, &y), vec![]);
        prop_assert!(m.conflicts.is_empty() && !m.push);
        prop_assert_eq!(m.apply_locally, !changed_fields(&y, &base).is_empty());
    }

    #[test]
    fn merge_is_symmetric_outside_conflicts(b in arb_event(), l in arb_event(), r in arb_event()) {
        let m = merge(&b, &l, &r);
        let s = merge(&b, &r, &l);
        let conflicts = conflict_fields(&m);
        prop_assert_eq!(&conflict_fields(&s), &conflicts);
        for f in changed_fields(&m.merged, &s.merged) {
            prop_assert!(conflicts.contains(&f), "{} differs", f);
        }
        if conflicts.is_empty() {
            prop_assert_eq!((m.push, m.apply_locally), (s.apply_locally, s.push));
        }
    }

    #[test]
    fn no_change_is_lost(b in arb_event(), l in arb_event(), r in arb_event()) {
        let m = merge(&b, &l, &r);
        let conflicts = conflict_fields(&m);
        for side in [&l, &r] {
            for f in changed_fields(&b, side) {
                prop_assert!(
                    conflicts.contains(&f) || change_kept(&f, &b, side, &m.merged),
                    "{} lost", f
                );
            }
        }
        prop_assert_eq!(m.push, !changed_fields(&m.merged, &r).is_empty());
        prop_assert_eq!(m.apply_locally, !changed_fields(&m.merged, &l).is_empty());
    }

    #[test]
    fn preferring_a_side_leaves_no_conflict(b in arb_event(), l in arb_event(), r in arb_event()) {
        let m = merge(&b, &l, &r);
        for (policy, winner) in [(Policy::PreferLocal, &l), (Policy::PreferRemote, &r)] {
            let Resolution::Merged(s) = resolve(&m, &b, &l, &r, policy) else {
                return Err(TestCaseError::fail("not merged"));
            };
            prop_assert!(s.conflicts.is_empty());
            for c in &m.conflicts {
                if !matches!(c.field, Field::Attendees | Field::Categories | Field::Recurrence) {
                    prop_assert!(c.field.same(&s.merged, winner), "{} not from the winner", c.field);
                }
            }
        }
    }

    #[test]
    fn ask_keeps_every_local_change_on_screen(b in arb_event(), l in arb_event(), r in arb_event()) {
        let m = merge(&b, &l, &r);
        if let Resolution::Open { shown: Some(shown), conflicts, .. } = resolve(&m, &b, &l, &r, Policy::Ask) {
            prop_assert_eq!(&conflicts, &m.conflicts);
            for f in changed_fields(&b, &l) {
                prop_assert!(change_kept(&f, &b, &l, &shown), "{} hidden", f);
            }
        } else {
            prop_assert!(m.conflicts.is_empty());
        }
    }
}

/// What the provider keeps of our create, field by field: a body in its own
/// rendering, the same times in another zone, a rule written back with its week start
/// and its end as a day are what was sent; anything else is a change there.
#[test]
fn a_create_as_the_provider_keeps_it_is_what_was_sent() {
    let mut sent = base();
    sent.body_html = None;
    sent.body_text = "Agenda:\nPricing".into();
    rec(&mut sent).rrule = "FREQ=WEEKLY;BYDAY=TU,MO;UNTIL=20260330T090000Z".into();
    let mut there = sent.clone();
    there.body_html = Some("Agenda:<br>\r\nPricing".into());
    there.body_text = "Agenda:\n\nPricing".into();
    there.timing = Timing::Timed {
        start: at(2, 9),
        end: at(2, 10),
        time_zone: "UTC".into(),
    };
    rec(&mut there).rrule =
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU;WKST=SU;UNTIL=20260330T235959Z".into();
    there.location = "Room 7".into();
    let base_of = |there: &RemoteEvent| as_sent(there.clone(), std::slice::from_ref(&sent), &sent);
    let b = base_of(&there);
    assert_eq!(changed_fields(&b, &there), vec![Field::Location], "{b:?}");
    assert_eq!(b.location, "Room 1");
    // A week start changes the dates of a rule with an interval: a change there.
    let mut every_other = sent.clone();
    rec(&mut every_other).rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO".into();
    let mut there = every_other.clone();
    rec(&mut there).rrule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU".into();
    let b = as_sent(
        there.clone(),
        std::slice::from_ref(&every_other),
        &every_other,
    );
    assert_eq!(changed_fields(&b, &there), vec![Field::Recurrence]);
    // Moved there: a change, whatever zone names it.
    let mut moved = sent.clone();
    moved.timing = Timing::Timed {
        start: at(2, 11),
        end: at(2, 12),
        time_zone: "Europe/Paris".into(),
    };
    assert_eq!(
        changed_fields(&base_of(&moved), &moved),
        vec![Field::Timing]
    );
}

/// An update that landed unanswered: the provider's version holds our change, which
/// the base then takes — a change here since goes out against it, unchallenged —,
/// while a field changed there since, or one our update did not change, stays as it
/// was, so theirs is still theirs.
#[test]
fn an_update_landed_unanswered_is_ours_in_the_base() {
    let base = base();
    let mut sent = base.clone();
    sent.title = "Weekly sync with Acme".into();
    let mut there = sent.clone();
    there.location = "Room 7".into();
    there.etag = Some("e2".into());
    let b = as_landed(&base, std::slice::from_ref(&sent), &there);
    assert_eq!(b.title, "Weekly sync with Acme");
    assert_eq!(b.location, "Room 1");
    // Undone here since: the undo goes, and their room is taken.
    let m = merge(&b, &base, &there);
    assert!(m.conflicts.is_empty(), "{m:?}");
    assert!(m.push);
    assert_eq!(
        (m.merged.title.as_str(), m.merged.location.as_str()),
        ("Weekly sync", "Room 7")
    );
    // Not landed (the provider has another title): no field of ours is in the base,
    // and the title is a conflict.
    let mut other = base.clone();
    other.title = "Weekly sync, moved".into();
    let b = as_landed(&base, std::slice::from_ref(&sent), &other);
    assert!(changed_fields(&b, &base).is_empty(), "{b:?}");
    assert_eq!(merge(&b, &sent, &other).conflicts.len(), 1);
}

/// A series' removed dates count one by one: our removal landed (the provider has
/// it) is ours even where another removal there changed the set since; undone here,
/// the undo goes and theirs stays. And a rule we changed, landed, is ours whatever
/// removals the provider's version has (Graph drops them when a pattern changes).
#[test]
fn a_series_update_landed_unanswered_is_ours_date_by_date() {
    let base = base();
    let ours = "2026-03-09T09:00".to_owned();
    let theirs = "2026-03-16T09:00".to_owned();
    let mut sent = base.clone();
    rec(&mut sent).exdates.push(ours.clone());
    let mut there = sent.clone();
    rec(&mut there).exdates.push(theirs.clone());
    let b = as_landed(&base, std::slice::from_ref(&sent), &there);
    let exdates = &b.recurrence.as_ref().expect("a series").exdates;
    assert!(
        exdates.contains(&ours) && !exdates.contains(&theirs),
        "{exdates:?}"
    );
    let m = merge(&b, &base, &there);
    assert!(m.conflicts.is_empty(), "{m:?}");
    let merged = &m.merged.recurrence.as_ref().expect("a series").exdates;
    assert!(
        !merged.contains(&ours) && merged.contains(&theirs),
        "{merged:?}"
    );
    // A new rule, landed with none of the removals.
    let mut sent = base.clone();
    rec(&mut sent).rrule = "FREQ=WEEKLY;BYDAY=TU".into();
    let mut there = sent.clone();
    rec(&mut there).exdates.clear();
    let b = as_landed(&base, std::slice::from_ref(&sent), &there);
    let r = b.recurrence.as_ref().expect("a series");
    assert_eq!(r.rrule, "FREQ=WEEKLY;BYDAY=TU");
    assert_eq!(
        r.exdates,
        base.recurrence.as_ref().expect("a series").exdates
    );
}
