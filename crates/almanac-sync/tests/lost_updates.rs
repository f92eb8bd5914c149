//! An update that reached the provider but whose answer was lost, followed by another
//! change here before the update is tried again, end to end against the fake cloud's
//! Graph and Google (issue 5, I1). The provider holds our first edit under a version
//! this computer never saw: that edit is ours, not a change made there, so the second
//! change here — an undo back to the old value, another value, or a deletion — must
//! reach the provider as it is, with no conflict and without the first edit coming
//! back here. The same for an occurrence's first change, which goes out as an update
//! of the provider's instance.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[path = "common/policy.rs"]
mod policy;
#[path = "common/signed_in.rs"]
mod signed_in;

use almanac_model::{EditScope, EventChange, EventInput, EventTarget, RangeQuery, ShowAs};
use almanac_provider::CalendarProvider;
use almanac_store::{Source, Store};
use almanac_sync::{resolve_conflict, sync_account, Choice, RunSummary, SyncOptions};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use std::sync::Mutex;

use cloud::{Cloud, Kind, EMAIL};
use policy::set_primary_policy;
use signed_in::signed_in;

const TITLE: &str = "Renewal call with Acme";
const EDITED: &str = "Renewal call with Acme, moved to video";
const EDITED_AGAIN: &str = "Renewal call with Acme and their CFO";

/// `t` as a UTC wall time, as Graph's `dateTime` and the store's inputs write it.
fn wall(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Google's changed instance (an event of its own) of the series' occurrence at `at`.
fn google_exception_at(
    events: &[serde_json::Value],
    at: DateTime<Utc>,
) -> Option<&serde_json::Value> {
    events.iter().find(|e| {
        e["recurringEventId"].is_string()
            && e["originalStartTime"]["dateTime"]
                .as_str()
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .is_some_and(|d| d == at)
    })
}

struct Harness {
    kind: Kind,
    cloud: Cloud,
    provider: Box<dyn CalendarProvider>,
    store: Mutex<Store>,
    account: String,
    rt: tokio::runtime::Runtime,
    start: DateTime<Utc>,
    /// The test's clock: a failed push waits a minute before it is tried again.
    now: Mutex<DateTime<Utc>>,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// One meeting at the provider, made by another client and synced here.
    fn new(kind: Kind) -> Harness {
        Harness::seeded(kind, false)
    }

    /// One meeting at the provider (a daily series of three if `daily`), made by
    /// another client and synced here.
    fn seeded(kind: Kind, daily: bool) -> Harness {
        let cloud = Cloud::start().with_graph_user();
        let start = Utc::now() + TimeDelta::days(2);
        let start = DateTime::from_timestamp(start.timestamp() / 60 * 60, 0).expect("a time");
        let end = start + TimeDelta::minutes(45);
        match kind {
            Kind::Graph => {
                let seed = json!({
                    "email": EMAIL,
                    "event": {
                        "subject": TITLE,
                        "start": {"dateTime": wall(start), "timeZone": "UTC"},
                        "end": {"dateTime": wall(end), "timeZone": "UTC"},
                    },
                });
                let mut seed = seed;
                if daily {
                    seed["event"]["recurrence"] = json!({
                        "pattern": {"type": "daily", "interval": 1},
                        "range": {"type": "numbered", "startDate": start.date_naive().to_string(), "numberOfOccurrences": 3},
                    });
                }
                let seed = serde_json::from_value(seed).expect("seed spec");
                cloud.state.graph_seed_event(seed).expect("seed");
            }
            Kind::Google => {
                let mut event = json!({
                    "summary": TITLE,
                    "start": {"dateTime": start.to_rfc3339(), "timeZone": "UTC"},
                    "end": {"dateTime": end.to_rfc3339(), "timeZone": "UTC"},
                });
                if daily {
                    event["recurrence"] = json!(["RRULE:FREQ=DAILY;COUNT=3"]);
                }
                cloud
                    .state
                    .google_seed_event(EMAIL, "primary", &event)
                    .expect("seed");
            }
        }
        let provider = cloud.provider(kind);
        let (dir, store, account) = signed_in(kind.provider(), EMAIL, Utc::now());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let h = Harness {
            kind,
            cloud,
            provider,
            store,
            account,
            rt,
            start,
            now: Mutex::new(Utc::now()),
            _dir: dir,
        };
        h.run();
        assert_eq!(h.here(), Some(TITLE.to_owned()));
        h
    }

    fn options(&self) -> SyncOptions {
        self.kind.options()
    }

    /// One run, a minute after the last (a failed push is due again).
    fn run_unchecked(&self) -> RunSummary {
        let now = {
            let mut now = self.now.lock().expect("clock");
            *now += TimeDelta::minutes(2);
            *now
        };
        self.rt
            .block_on(sync_account(
                &self.store,
                &*self.provider,
                &self.account,
                &self.options(),
                &move || now,
            ))
            .expect("run")
    }

    fn run(&self) -> RunSummary {
        let s = self.run_unchecked();
        assert_eq!(s.outcome, "ok", "{s:?}");
        s
    }

    /// A run in which every update of an event takes effect at the provider and its
    /// answer is lost (the client's retries too).
    fn run_losing_update_answers(&self) {
        self.run_dropping_updates(true);
    }

    /// A run in which every update of an event is cut off unanswered, after it took
    /// effect if `landed`, else before.
    fn run_dropping_updates(&self, landed: bool) {
        self.set_faults(match self.kind {
            Kind::Graph => json!({"add": [{
                "kind": "drop_connection",
                "method": "PATCH",
                "path_contains": "/events/",
                "after_processing": landed,
                "count": 50,
            }]}),
            Kind::Google => json!({"add": [{
                "kind": "drop_connection",
                "route": "events.patch",
                "processed": landed,
                "count": 50,
            }]}),
        });
        let s = self.run_unchecked();
        self.set_faults(json!({"clear": true}));
        assert!(s.calendars.iter().any(|c| c.error.is_some()), "{s:?}");
    }

    /// Sets the provider's faults (its control API's JSON).
    fn set_faults(&self, spec: serde_json::Value) {
        match self.kind {
            Kind::Graph => {
                let spec = serde_json::from_value(spec).expect("fault spec");
                self.cloud.state.graph_set_faults(spec).expect("faults");
            }
            Kind::Google => {
                let spec = serde_json::from_value(spec).expect("fault spec");
                self.cloud.state.google_set_faults(spec).expect("faults");
            }
        }
    }

    /// The meeting's id here.
    fn id(&self) -> String {
        self.found().expect("the meeting here").0
    }

    /// The meeting's title here, if it is here.
    fn here(&self) -> Option<String> {
        self.found().map(|(_, title)| title)
    }

    fn found(&self) -> Option<(String, String)> {
        let q = RangeQuery {
            from: (self.start - TimeDelta::hours(1)).to_rfc3339(),
            to: (self.start + TimeDelta::hours(2)).to_rfc3339(),
            calendar_ids: None,
        };
        let mut store = self.store.lock().expect("store");
        let found = store.list_occurrences(&q).expect("range");
        assert!(found.len() <= 1, "{found:?}");
        found.into_iter().next().map(|o| (o.event_id, o.title))
    }

    /// The live (not cancelled) events at the provider, in its JSON.
    fn live_there(&self) -> Vec<serde_json::Value> {
        match self.kind {
            Kind::Graph => self.cloud.state.graph_events(EMAIL).expect("events")["value"]
                .as_array()
                .expect("events")
                .clone(),
            Kind::Google => self
                .cloud
                .state
                .google_events(EMAIL, "primary")
                .expect("events")
                .into_iter()
                .filter(|e| e["status"] != "cancelled")
                .collect(),
        }
    }

    /// The titles of the live events at the provider.
    fn there(&self) -> Vec<String> {
        let key = match self.kind {
            Kind::Graph => "subject",
            Kind::Google => "summary",
        };
        self.live_there()
            .iter()
            .map(|e| e[key].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The meeting's location at the provider.
    fn location_there(&self) -> String {
        let events = self.live_there();
        assert_eq!(events.len(), 1, "{events:?}");
        match self.kind {
            Kind::Graph => events[0]["location"]["displayName"].as_str(),
            Kind::Google => events[0]["location"].as_str(),
        }
        .unwrap_or_default()
        .to_owned()
    }

    /// The meeting's location here.
    fn location_here(&self) -> String {
        let id = self.id();
        let store = self.store.lock().expect("store");
        store.get_event(&id).expect("the meeting").input.location
    }

    /// Another client moves the meeting to `room`.
    fn phone_sets_room(&self, room: &str) {
        self.phone_sets_room_of(room, |_| true);
    }

    /// Another client moves the first event `pick` chooses to `room`.
    fn phone_sets_room_of(&self, room: &str, pick: impl Fn(&serde_json::Value) -> bool) {
        let id_of = |events: &[serde_json::Value]| {
            events
                .iter()
                .find(|e| pick(e))
                .and_then(|e| e["id"].as_str())
                .expect("the event")
                .to_owned()
        };
        match self.kind {
            Kind::Graph => {
                let events = self.cloud.state.graph_events(EMAIL).expect("events");
                let id = id_of(events["value"].as_array().expect("events"));
                let edit =
                    json!({"email": EMAIL, "id": id, "patch": {"location": {"displayName": room}}});
                self.cloud
                    .state
                    .graph_edit_event(serde_json::from_value(edit).expect("edit spec"))
                    .expect("edit on the phone");
            }
            Kind::Google => {
                let id = id_of(&self.google_all());
                self.cloud
                    .state
                    .google_edit_event(EMAIL, "primary", &id, &json!({"location": room}))
                    .expect("edit on the phone");
            }
        }
    }

    fn retitle_here(&self, title: &str) {
        self.edit_here(|input| input.title = title.into());
    }

    /// Edits the meeting here as `edit` says.
    fn edit_here(&self, edit: impl FnOnce(&mut EventInput)) {
        let id = self.id();
        let mut store = self.store.lock().expect("store");
        let mut input = store.get_event(&id).expect("the meeting").input;
        edit(&mut input);
        let change = EventChange {
            id,
            scope: EditScope::All,
            original_start: None,
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("edit it here");
    }

    fn delete_here(&self) {
        let id = self.id();
        let target = EventTarget {
            id,
            scope: EditScope::All,
            original_start: None,
        };
        self.store
            .lock()
            .expect("store")
            .delete_event(target, Source::Cli, Utc::now())
            .expect("delete it here");
    }

    fn open_conflicts(&self) -> usize {
        let store = self.store.lock().expect("store");
        store.conflicts(true).expect("conflicts").len()
    }

    /// Two runs, then one that finds nothing to do.
    fn settle(&self) {
        self.run();
        self.run();
        let s = self.run();
        assert_eq!((s.pulled, s.pushed, s.conflicts), (0, 0, 0), "{s:?}");
    }

    /// Retitled here, the update's answer lost: the provider has the new title.
    fn edited_answer_lost(kind: Kind) -> Harness {
        let h = Harness::new(kind);
        h.retitle_here(EDITED);
        h.run_losing_update_answers();
        assert_eq!(h.there(), [EDITED], "the update landed");
        h
    }
}

fn undone(kind: Kind) {
    let h = Harness::edited_answer_lost(kind);
    h.retitle_here(TITLE);
    h.settle();
    assert_eq!(h.here(), Some(TITLE.to_owned()), "the undo stays here");
    assert_eq!(h.there(), [TITLE], "the undo reaches the provider");
    assert_eq!(h.open_conflicts(), 0);
}

fn changed_again(kind: Kind) {
    let h = Harness::edited_answer_lost(kind);
    h.retitle_here(EDITED_AGAIN);
    h.settle();
    assert_eq!(
        h.open_conflicts(),
        0,
        "our own first edit is no change there"
    );
    assert_eq!(h.here(), Some(EDITED_AGAIN.to_owned()));
    assert_eq!(h.there(), [EDITED_AGAIN]);
}

fn deleted(kind: Kind) {
    let h = Harness::edited_answer_lost(kind);
    h.delete_here();
    h.settle();
    assert_eq!(h.open_conflicts(), 0, "our own edit is no change there");
    assert_eq!(h.here(), None);
    assert!(h.there().is_empty(), "{:?}", h.there());
}

/// The same with an edit the provider also keeps in a form of its own (Google's
/// `transparency` for "show as"): that form changed with our edit too.
fn deleted_after_show_as(kind: Kind) {
    let h = Harness::new(kind);
    h.edit_here(|input| input.show_as = ShowAs::Free);
    h.run_losing_update_answers();
    h.delete_here();
    h.settle();
    assert_eq!(h.open_conflicts(), 0, "our own edit is no change there");
    assert_eq!(h.here(), None);
    assert!(h.there().is_empty(), "{:?}", h.there());
}

#[test]
fn an_edit_undone_after_its_answer_was_lost_reaches_outlook() {
    undone(Kind::Graph);
}

#[test]
fn an_edit_undone_after_its_answer_was_lost_reaches_google() {
    undone(Kind::Google);
}

#[test]
fn an_edit_changed_again_after_its_answer_was_lost_is_no_conflict_at_outlook() {
    changed_again(Kind::Graph);
}

#[test]
fn an_edit_changed_again_after_its_answer_was_lost_is_no_conflict_at_google() {
    changed_again(Kind::Google);
}

#[test]
fn an_event_deleted_after_its_edit_answer_was_lost_is_deleted_at_outlook() {
    deleted(Kind::Graph);
}

#[test]
fn an_event_deleted_after_its_edit_answer_was_lost_is_deleted_at_google() {
    deleted(Kind::Google);
}

/// Their change between our landed edit and its undo (another field) is theirs: it
/// stays, and the undo goes.
fn undone_around_their_change(kind: Kind) {
    let h = Harness::edited_answer_lost(kind);
    h.phone_sets_room("Room 7");
    h.retitle_here(TITLE);
    h.settle();
    assert_eq!(h.open_conflicts(), 0);
    assert_eq!(h.there(), [TITLE], "the undo reaches the provider");
    assert_eq!(h.location_there(), "Room 7", "their room stays there");
    assert_eq!(
        (h.here(), h.location_here()),
        (Some(TITLE.to_owned()), "Room 7".to_owned())
    );
}

/// An update cut off before it reached the provider, then merged with their change of
/// the room, then sent again and landed unanswered; they set the room back. The first
/// version, sent against the older base, names their old room — it can no longer have
/// landed and must not make their room's return read as ours: it stays theirs.
fn sent_against_an_older_base(kind: Kind) {
    let h = Harness::new(kind);
    h.phone_sets_room("Room 1");
    h.run();
    h.retitle_here(EDITED);
    h.run_dropping_updates(false);
    assert_eq!(h.there(), [TITLE], "nothing landed");
    h.phone_sets_room("Room 2");
    h.run_dropping_updates(true);
    assert_eq!(h.there(), [EDITED], "the second attempt landed");
    assert_eq!(h.location_there(), "Room 2");
    h.phone_sets_room("Room 1");
    h.settle();
    assert_eq!(h.open_conflicts(), 0);
    assert_eq!(h.location_there(), "Room 1", "their change stands there");
    assert_eq!(h.location_here(), "Room 1", "and here");
    assert_eq!(h.here(), Some(EDITED.to_owned()));
}

#[test]
fn their_change_around_an_undone_lost_edit_stays_at_outlook() {
    undone_around_their_change(Kind::Graph);
}

#[test]
fn their_change_around_an_undone_lost_edit_stays_at_google() {
    undone_around_their_change(Kind::Google);
}

#[test]
fn a_version_sent_against_an_older_base_is_not_ours_at_outlook() {
    sent_against_an_older_base(Kind::Graph);
}

#[test]
fn a_version_sent_against_an_older_base_is_not_ours_at_google() {
    sent_against_an_older_base(Kind::Google);
}

#[test]
fn an_event_deleted_after_its_show_as_answer_was_lost_is_deleted_at_outlook() {
    deleted_after_show_as(Kind::Graph);
}

#[test]
fn an_event_deleted_after_its_show_as_answer_was_lost_is_deleted_at_google() {
    deleted_after_show_as(Kind::Google);
}

impl Harness {
    /// The start of the series' second occurrence.
    fn second(&self) -> DateTime<Utc> {
        self.start + TimeDelta::days(1)
    }

    /// The title of the series' second occurrence here.
    fn second_here(&self) -> String {
        let q = RangeQuery {
            from: (self.second() - TimeDelta::hours(1)).to_rfc3339(),
            to: (self.second() + TimeDelta::hours(2)).to_rfc3339(),
            calendar_ids: None,
        };
        let mut store = self.store.lock().expect("store");
        let found = store.list_occurrences(&q).expect("range");
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].title.clone()
    }

    /// The title of the series' second occurrence at the provider.
    fn second_there(&self) -> String {
        match self.kind {
            Kind::Graph => {
                let on_day: Vec<String> = self
                    .graph_live_at(self.second())
                    .iter()
                    .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
                    .collect();
                assert_eq!(on_day.len(), 1, "{on_day:?}");
                on_day[0].clone()
            }
            Kind::Google => {
                let events = self.google_all();
                let exception = google_exception_at(&events, self.second());
                assert!(
                    exception.is_none_or(|e| e["status"] != "cancelled"),
                    "the occurrence is cancelled there: {exception:?}"
                );
                let from = exception.or_else(|| events.iter().find(|e| e["recurrence"].is_array()));
                from.expect("the series")["summary"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            }
        }
    }

    /// Whether the series' occurrence at `at` is one, not cancelled, at the provider.
    fn occurrence_live_there(&self, at: DateTime<Utc>) -> bool {
        match self.kind {
            Kind::Graph => !self.graph_live_at(at).is_empty(),
            Kind::Google => {
                let events = self.google_all();
                // Removed by the series' EXDATE (which Almanac sends at Google), or
                // its instance cancelled.
                let day = at.format("%Y%m%dT%H%M%S").to_string();
                let series = events
                    .iter()
                    .find(|e| e["recurrence"].is_array())
                    .expect("the series");
                let removed = series["recurrence"]
                    .as_array()
                    .expect("a rule")
                    .iter()
                    .any(|l| {
                        l.as_str()
                            .is_some_and(|l| l.starts_with("EXDATE") && l.contains(&day))
                    });
                // (A changed instance Google keeps as an event of its own, listed
                // as it is, whatever the rule says.)
                google_exception_at(&events, at).map_or(!removed, |e| e["status"] != "cancelled")
            }
        }
    }

    /// Graph's live (not cancelled) instances that start at `at`.
    fn graph_live_at(&self, at: DateTime<Utc>) -> Vec<serde_json::Value> {
        let from = (self.start - TimeDelta::days(1)).naive_utc();
        let to = (self.start + TimeDelta::days(5)).naive_utc();
        let view = self
            .cloud
            .state
            .graph_instances(EMAIL, from, to)
            .expect("instances");
        view["value"]
            .as_array()
            .expect("instances")
            .iter()
            .filter(|e| {
                e["isCancelled"] != true
                    && e["start"]["dateTime"]
                        .as_str()
                        .is_some_and(|d| d.starts_with(&wall(at)))
            })
            .cloned()
            .collect()
    }

    /// Every event Google stores in the calendar, cancelled ones included.
    fn google_all(&self) -> Vec<serde_json::Value> {
        self.cloud
            .state
            .google_events(EMAIL, "primary")
            .expect("events")
    }

    /// How many occurrences of the series start at `at` here.
    fn count_here(&self, at: DateTime<Utc>) -> usize {
        let q = RangeQuery {
            from: (at - TimeDelta::minutes(1)).to_rfc3339(),
            to: (at + TimeDelta::minutes(1)).to_rfc3339(),
            calendar_ids: None,
        };
        let mut store = self.store.lock().expect("store");
        store.list_occurrences(&q).expect("range").len()
    }

    /// Deletes the series' second occurrence here, only that one.
    fn delete_second_here(&self) {
        let target = EventTarget {
            id: self.id(),
            scope: EditScope::Occurrence,
            original_start: Some(wall(self.second())),
        };
        self.store
            .lock()
            .expect("store")
            .delete_event(target, Source::Cli, Utc::now())
            .expect("delete the occurrence here");
    }

    /// Retitles the series' second occurrence here, only that one.
    fn retitle_second_here(&self, title: &str) {
        let id = self.id();
        let mut store = self.store.lock().expect("store");
        let mut input = store.get_event(&id).expect("the series").input;
        input.title = title.into();
        input.start = wall(self.second());
        input.end = wall(self.second() + TimeDelta::minutes(45));
        let change = EventChange {
            id,
            scope: EditScope::Occurrence,
            original_start: Some(wall(self.second())),
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("retitle the occurrence here");
    }
}

/// An occurrence's first change goes out as an update of its instance: its answer
/// lost, then undone here, the undo reaches the provider too.
fn occurrence_undone(kind: Kind) {
    let h = Harness::seeded(kind, true);
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.retitle_second_here(TITLE);
    h.settle();
    assert_eq!(h.open_conflicts(), 0);
    assert_eq!(h.second_here(), TITLE, "the undo stays here");
    assert_eq!(h.second_there(), TITLE, "the undo reaches the provider");
}

/// The same changed again here: no conflict with our own change.
fn occurrence_changed_again(kind: Kind) {
    let h = Harness::seeded(kind, true);
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.retitle_second_here(EDITED_AGAIN);
    h.settle();
    assert_eq!(
        h.open_conflicts(),
        0,
        "our own first change is no change there"
    );
    assert_eq!(h.second_here(), EDITED_AGAIN);
    assert_eq!(h.second_there(), EDITED_AGAIN);
}

#[test]
fn an_occurrence_changed_again_after_its_answer_was_lost_is_no_conflict_at_outlook() {
    occurrence_changed_again(Kind::Graph);
}

#[test]
fn an_occurrence_changed_again_after_its_answer_was_lost_is_no_conflict_at_google() {
    occurrence_changed_again(Kind::Google);
}

#[test]
fn an_occurrence_change_undone_after_its_answer_was_lost_reaches_outlook() {
    occurrence_undone(Kind::Graph);
}

#[test]
fn an_occurrence_change_undone_after_its_answer_was_lost_reaches_google() {
    occurrence_undone(Kind::Google);
}

/// Changed again here and then deleted, before the retry: the instance there has our
/// first change, which is no change made there — the deletion goes, no conflict with
/// our own edit.
fn occurrence_changed_again_then_deleted(kind: Kind) {
    let h = Harness::seeded(kind, true);
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.retitle_second_here(EDITED_AGAIN);
    h.delete_second_here();
    h.settle();
    assert_eq!(h.open_conflicts(), 0, "our own change is no change there");
    let days = [h.start, h.second(), h.second() + TimeDelta::days(1)];
    let state = |h: &Harness| days.map(|d| (h.count_here(d), h.occurrence_live_there(d)));
    let expected = [(1, true), (0, false), (1, true)];
    assert_eq!(state(&h), expected, "the deletion reaches the provider");
    // A full listing (its cursor lost) brings nothing back.
    h.store
        .lock()
        .expect("store")
        .forget_sync_cursors(&h.account)
        .expect("forget the cursors");
    h.settle();
    assert_eq!(state(&h), expected, "after a full listing");
}

#[test]
fn an_occurrence_changed_again_and_deleted_after_its_answer_was_lost_is_deleted_at_outlook() {
    occurrence_changed_again_then_deleted(Kind::Graph);
}

#[test]
fn an_occurrence_changed_again_and_deleted_after_its_answer_was_lost_is_deleted_at_google() {
    occurrence_changed_again_then_deleted(Kind::Google);
}

/// An occurrence's change whose answer was lost, deleted here since (its series'
/// update would remove that day there); then this computer and the phone move the
/// series to different rooms and the calendar keeps both: the provider's series stays
/// the event, ours becomes a copy (without that day). The series' update never goes,
/// so the provider keeps our landed change of that day: the calendar is listed again
/// and it comes here too. It used to stay at the provider only (I3).
fn occurrence_deleted_then_series_kept_both(kind: Kind) {
    let h = Harness::seeded(kind, true);
    set_primary_policy(&h.store, "keep_both");
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.delete_second_here();
    h.edit_here(|input| input.location = "Room here".into());
    h.phone_sets_series_room("Room there");
    h.settle();
    assert_eq!(h.open_conflicts(), 0, "settled by the policy");
    assert_eq!(h.second_there(), EDITED, "their series keeps the day");
    let days = [h.start, h.second(), h.second() + TimeDelta::days(1)];
    assert_eq!(
        days.map(|d| h.count_here(d)),
        [2, 1, 2],
        "the series as the provider has it, and our copy without the day"
    );
    assert_eq!(h.second_here(), EDITED, "here too");
}

#[test]
fn a_deleted_occurrence_whose_series_is_kept_both_stays_as_outlook_has_it() {
    occurrence_deleted_then_series_kept_both(Kind::Graph);
}

#[test]
fn a_deleted_occurrence_whose_series_is_kept_both_stays_as_google_has_it() {
    occurrence_deleted_then_series_kept_both(Kind::Google);
}

/// An occurrence's change whose answer was lost, deleted here; then the whole series
/// deleted here while the phone moves it to another room: Keep theirs brings the
/// series back without that day. The instance our change made is ours — its
/// tombstone waited with the series' deletion and tells the series brought back so —
/// and goes too, with no question. The tombstone went with the series' deletion
/// before: the instance then came back as "deleted here, changed at the provider",
/// and Keep theirs on that brought back the occurrence the user had deleted
/// (simulation seed 87355).
fn occurrence_deleted_then_series_kept_theirs(kind: Kind) {
    let h = Harness::seeded(kind, true);
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.delete_second_here();
    h.delete_here();
    h.phone_sets_series_room("Room there");
    h.run();
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    assert_eq!(open.len(), 1, "the series': {open:?}");
    resolve_conflict(&h.store, &open[0].id, &Choice::KeepTheirs, Utc::now()).expect("answer");
    h.settle();
    assert_eq!(h.open_conflicts(), 0, "nothing asked about our own change");
    let days = [h.start, h.second(), h.second() + TimeDelta::days(1)];
    let state = |h: &Harness| days.map(|d| (h.count_here(d), h.occurrence_live_there(d)));
    assert_eq!(state(&h), [(1, true), (0, false), (1, true)]);
}

#[test]
fn a_deleted_occurrence_stays_deleted_when_outlook_s_series_comes_back() {
    occurrence_deleted_then_series_kept_theirs(Kind::Graph);
}

#[test]
fn a_deleted_occurrence_stays_deleted_when_google_s_series_comes_back() {
    occurrence_deleted_then_series_kept_theirs(Kind::Google);
}

/// An occurrence's change whose answer was lost, deleted here; then the day given back
/// to the series here (its removed dates cleared in the editor, its description
/// changed) before anything goes. The series no longer removes the day, so the pull
/// that lists our landed change of it takes it here rather than leave it to the
/// series' update; that update, which no longer removes the day, lands and drops the
/// tombstone: the day as the provider keeps it, on both sides (I3).
fn occurrence_deleted_then_given_back_to_its_series(kind: Kind) {
    let h = Harness::seeded(kind, true);
    h.retitle_second_here(EDITED);
    h.run_losing_update_answers();
    assert_eq!(h.second_there(), EDITED, "the change landed");
    h.delete_second_here();
    h.edit_here(|input| {
        if let Some(r) = input.recurrence.as_mut() {
            r.exdates.clear();
        }
        input.description = "Agenda: renewals".into();
    });
    h.settle();
    assert_eq!(h.open_conflicts(), 0);
    assert_eq!(
        h.second_there(),
        EDITED,
        "the provider keeps the day as changed"
    );
    assert_eq!(h.second_here(), EDITED, "here too");
}

#[test]
fn a_deleted_occurrence_given_back_to_its_series_is_as_outlook_has_it() {
    occurrence_deleted_then_given_back_to_its_series(Kind::Graph);
}

#[test]
fn a_deleted_occurrence_given_back_to_its_series_is_as_google_has_it() {
    occurrence_deleted_then_given_back_to_its_series(Kind::Google);
}

impl Harness {
    /// Another client moves the whole series to `room`.
    fn phone_sets_series_room(&self, room: &str) {
        self.phone_sets_room_of(room, |e| {
            e["type"] == "seriesMaster" || e["recurrence"].is_array()
        });
    }
}
