//! Recurring series changed occurrence by occurrence on both sides, end to end against
//! the fake cloud's Google (issue 5: series and their exceptions merge without phantom
//! or lost instances). Each case is one the simulation's series mix found.

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;
#[allow(dead_code)]
#[path = "common/meddled.rs"]
mod meddled;
#[path = "common/policy.rs"]
mod policy;
#[path = "common/signed_in.rs"]
mod signed_in;

use std::sync::Mutex;

use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, RecurrenceInput, ShowAs,
};
use almanac_provider::CalendarProvider;
use almanac_store::{Source, Store};
use almanac_sync::{
    parse_pick, per_field, resolve_conflict, sync_account, Choice, RunSummary, SyncOptions,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use cloud::{Cloud, Kind, EMAIL};
use meddled::{Meddled, Moment};
use policy::set_primary_policy;
use signed_in::signed_in;

const SERIES: &str = "Daily stand-up";
const CHANGED_HERE: &str = "Stand-up, moved here";
const CHANGED_THERE: &str = "Stand-up, moved on the phone";

struct Harness {
    cloud: Cloud,
    google: Box<dyn CalendarProvider>,
    store: Mutex<Store>,
    account: String,
    rt: tokio::runtime::Runtime,
    /// The series' first start (whole minutes, UTC).
    first: DateTime<Utc>,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let cloud = Cloud::start();
        let google = cloud.provider(Kind::Google);
        let (dir, store, account) = signed_in(Provider::Google, EMAIL, Utc::now());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let first = Utc::now() + TimeDelta::days(2);
        let first = DateTime::from_timestamp(first.timestamp() / 60 * 60, 0).expect("a time");
        Harness {
            cloud,
            google,
            store,
            account,
            rt,
            first,
            _dir: dir,
        }
    }

    /// Seeds the daily series (three times) at the provider, as another client; its id.
    fn seed_series(&self) -> String {
        self.seed_series_in("UTC")
    }

    /// [`Harness::seed_series`] with its times in `zone`.
    fn seed_series_in(&self, zone: &str) -> String {
        let event = json!({
            "summary": SERIES,
            "start": {"dateTime": self.first.to_rfc3339(), "timeZone": zone},
            "end": {"dateTime": (self.first + TimeDelta::minutes(15)).to_rfc3339(), "timeZone": zone},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        });
        let made = self
            .cloud
            .state
            .google_seed_event(EMAIL, "primary", &event)
            .expect("seed the series");
        made["id"].as_str().expect("an id").to_owned()
    }

    /// [`Harness::seed_series`], then the phone changes its second occurrence (an
    /// exception at the provider) and a run brings both here; the series' id.
    fn seed_series_changed_there(&self) -> String {
        self.seed_series_changed_there_in("UTC")
    }

    /// [`Harness::seed_series_changed_there`] with the series' times in `zone`.
    fn seed_series_changed_there_in(&self, zone: &str) -> String {
        let master_remote = self.seed_series_in(zone);
        let second = self.first + TimeDelta::days(1);
        let instance = format!("{master_remote}_{}", second.format("%Y%m%dT%H%M%SZ"));
        self.cloud
            .state
            .google_edit_event(
                EMAIL,
                "primary",
                &instance,
                &json!({"summary": CHANGED_THERE}),
            )
            .expect("change the occurrence there");
        self.run();
        master_remote
    }

    fn run(&self) -> RunSummary {
        self.run_with(&*self.google)
    }

    fn run_with(&self, provider: &dyn CalendarProvider) -> RunSummary {
        let s = self
            .rt
            .block_on(sync_account(
                &self.store,
                provider,
                &self.account,
                &SyncOptions::default(),
                &Utc::now,
            ))
            .expect("run");
        assert!(s.error.is_none(), "{s:?}");
        for c in &s.calendars {
            assert!(c.error.is_none(), "{s:?}");
        }
        s
    }

    /// Local ids of the live (not cancelled) events titled `title`.
    fn here(&self, title: &str) -> Vec<String> {
        let store = self.store.lock().expect("store");
        let mut out = Vec::new();
        for cal in store.sync_calendars(None).expect("calendars") {
            for e in store.sync_entries(&cal.id).expect("entries") {
                if e.row
                    .as_ref()
                    .is_some_and(|r| r.input.title == title && !r.cancelled)
                {
                    out.push(e.local_id);
                }
            }
        }
        out
    }

    /// Live (not cancelled) events titled `title` at the provider.
    fn there(&self, title: &str) -> usize {
        self.cloud
            .state
            .google_events(EMAIL, "primary")
            .expect("events")
            .iter()
            .filter(|e| e["status"] != "cancelled" && e["summary"] == title)
            .count()
    }

    /// Changes the series' second occurrence here ("this occurrence").
    fn change_second_here(&self, master: &str) {
        let second = self.first + TimeDelta::days(1);
        let mut store = self.store.lock().expect("store");
        let mut input = store.get_event(master).expect("the series").input;
        input.title = CHANGED_HERE.into();
        input.start = wall(second + TimeDelta::hours(1));
        input.end = wall(second + TimeDelta::hours(1) + TimeDelta::minutes(15));
        store
            .update_event(
                EventChange {
                    id: master.to_owned(),
                    scope: EditScope::Occurrence,
                    original_start: Some(wall(second)),
                    input,
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("change the occurrence here");
    }

    /// Deletes series `master` here, all of it.
    fn delete_series_here(&self, master: &str) {
        self.store
            .lock()
            .expect("store")
            .delete_event(
                EventTarget {
                    id: master.to_owned(),
                    scope: EditScope::All,
                    original_start: None,
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("delete the series here");
    }

    /// Deletes series `master`'s second occurrence here ("this occurrence").
    fn delete_second_here(&self, master: &str) {
        let second = self.first + TimeDelta::days(1);
        self.store
            .lock()
            .expect("store")
            .delete_event(
                EventTarget {
                    id: master.to_owned(),
                    scope: EditScope::Occurrence,
                    original_start: Some(wall(second)),
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("delete the occurrence here");
    }

    /// The provider's id of the series' second occurrence.
    fn second_id(&self, master_remote: &str) -> String {
        let second = self.first + TimeDelta::days(1);
        format!("{master_remote}_{}", second.format("%Y%m%dT%H%M%SZ"))
    }

    /// The series' second occurrence at the provider, as a JSON event.
    fn second_there(&self, master_remote: &str) -> serde_json::Value {
        let id = self.second_id(master_remote);
        self.cloud
            .state
            .google_events(EMAIL, "primary")
            .expect("events")
            .into_iter()
            .find(|e| e["id"] == id.as_str())
            .expect("the second occurrence is an exception there")
    }

    /// The daily series seeded at the provider and synced, its second occurrence then
    /// changed here (not sent yet); the series' provider id.
    fn series_changed_here(&self) -> String {
        let master_remote = self.seed_series();
        self.run();
        let master = self.here(SERIES);
        assert_eq!(master.len(), 1, "{master:?}");
        self.change_second_here(&master[0]);
        master_remote
    }

    /// A daily series (three times) made here in the primary calendar, not sent yet;
    /// its id.
    fn series_made_here(&self) -> String {
        self.run();
        let calendar = self
            .store
            .lock()
            .expect("store")
            .sync_calendars(None)
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("the primary calendar")
            .id;
        self.store
            .lock()
            .expect("store")
            .create_event(
                EventInput {
                    calendar_id: calendar,
                    title: SERIES.into(),
                    all_day: false,
                    start: wall(self.first),
                    end: wall(self.first + TimeDelta::minutes(15)),
                    time_zone: "UTC".into(),
                    recurrence: Some(RecurrenceInput {
                        rrule: "FREQ=DAILY;COUNT=3".into(),
                        exdates: vec![],
                        rdates: vec![],
                    }),
                    location: String::new(),
                    description: String::new(),
                    show_as: ShowAs::Busy,
                    importance: Importance::Normal,
                    categories: Vec::new(),
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("create the series here")
            .id
    }

    /// The phone moves the second occurrence of the series made here (at the provider
    /// by now) to Room 4 at `moment` of this computer's first read of an instance.
    fn room_of_new_series_second_moved(&self, moment: Moment) -> Meddled<'static> {
        let state = self.cloud.state.clone();
        let second = self.first + TimeDelta::days(1);
        Meddled {
            inner: self.cloud.provider(Kind::Google),
            moment,
            meddle: Mutex::new(Some(Box::new(move || {
                let series = series_there(&state);
                let instance = format!(
                    "{}_{}",
                    series["id"].as_str().expect("an id"),
                    second.format("%Y%m%dT%H%M%SZ")
                );
                state
                    .google_edit_event(EMAIL, "primary", &instance, &json!({"location": "Room 4"}))
                    .expect("change the occurrence there");
            }))),
        }
    }

    /// The second occurrence has our title and time and the phone's room, there and
    /// here, and the reminder its series has (the provider's default).
    fn assert_second_merged_with_series_reminder(&self) {
        let series = series_there(&self.cloud.state);
        let master_remote = series["id"].as_str().expect("an id").to_owned();
        self.assert_second(&master_remote, CHANGED_HERE, "Room 4");
        let there = self.second_there(&master_remote);
        let moved = self.first + TimeDelta::days(1) + TimeDelta::hours(1);
        let start = there["start"]["dateTime"].as_str().expect("a start");
        assert_eq!(
            DateTime::parse_from_rfc3339(start).map(|t| t.to_utc()),
            Ok(moved),
            "{there}"
        );
        assert_eq!(there["reminders"], json!({"useDefault": true}), "{there}");
        assert_eq!(there["reminders"], series["reminders"], "{series}");
        // Here too: the occurrence's row has its series' reminder.
        let reminder = |title: &str| {
            let ids = self.here(title);
            assert_eq!(ids.len(), 1, "{title}: {ids:?}");
            let store = self.store.lock().expect("store");
            store
                .sync_calendars(None)
                .expect("calendars")
                .iter()
                .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
                .find(|e| e.local_id == ids[0])
                .and_then(|e| e.row)
                .map(|r| r.reminder_minutes)
        };
        let series_reminder = reminder(SERIES);
        assert!(
            matches!(series_reminder, Some(Some(_))),
            "{series_reminder:?}"
        );
        assert_eq!(reminder(CHANGED_HERE), series_reminder);
    }

    /// The Google provider, with the user doing `act` here to the second occurrence
    /// (changed here, title [`CHANGED_HERE`]) just before this computer first asks for
    /// an instance: while that change goes out. `act` gets the store, the occurrence's
    /// id and the occurrence as "only this occurrence" of its series.
    fn meanwhile_here<'a>(
        &'a self,
        act: impl FnOnce(&mut Store, String, EventTarget) + Send + 'a,
    ) -> Meddled<'a> {
        let second = self.first + TimeDelta::days(1);
        Meddled {
            inner: self.cloud.provider(Kind::Google),
            moment: Moment::Before,
            meddle: Mutex::new(Some(Box::new(move || {
                let ids = self.here(CHANGED_HERE);
                let [id] = <[String; 1]>::try_from(ids).expect("the occurrence changed here");
                let mut store = self.store.lock().expect("store");
                let series = store.get_event(&id).expect("it").series_id;
                let target = EventTarget {
                    id: series.expect("a series"),
                    scope: EditScope::Occurrence,
                    original_start: Some(wall(second)),
                };
                act(&mut store, id, target);
            }))),
        }
    }

    /// A run to take in the echoes of what the last one did, then one that must find
    /// nothing to do.
    fn assert_settles(&self) {
        self.run();
        self.assert_quiet();
    }

    /// A run that finds nothing to do.
    fn assert_quiet(&self) {
        let s = self.run();
        assert_eq!((s.pulled, s.pushed, s.conflicts), (0, 0, 0), "{s:?}");
    }

    /// The second occurrence has `title` and `location`, at the provider and here.
    fn assert_second(&self, master_remote: &str, title: &str, location: &str) {
        let there = self.second_there(master_remote);
        assert_eq!(
            (there["summary"].as_str(), there["location"].as_str()),
            (Some(title), Some(location)),
            "{there}"
        );
        let here = self.here(title);
        assert_eq!(here.len(), 1, "{here:?}");
        let row = self
            .store
            .lock()
            .expect("store")
            .get_event(&here[0])
            .expect("occurrence");
        assert_eq!(row.input.location, location);
    }

    /// The Google provider, with the phone merge-patching event `id` (a series or an
    /// occurrence) by `patch` just before this computer first asks for an instance:
    /// after the run's pull, before its push.
    fn meddled(&self, id: String, patch: serde_json::Value) -> Meddled<'static> {
        self.meddled_at(Moment::Before, id, patch)
    }

    /// [`Harness::meddled`], at `moment` (of the first instance read, or of the first
    /// update for [`Moment::BeforeUpdate`]).
    fn meddled_at(&self, moment: Moment, id: String, patch: serde_json::Value) -> Meddled<'static> {
        let state = self.cloud.state.clone();
        Meddled {
            inner: self.cloud.provider(Kind::Google),
            moment,
            meddle: Mutex::new(Some(Box::new(move || {
                state
                    .google_edit_event(EMAIL, "primary", &id, &patch)
                    .expect("change it there");
            }))),
        }
    }

    /// The one live event titled `title` here is an occurrence of a series (not an
    /// event of its own).
    fn assert_occurrence(&self, title: &str) {
        let [id] = <[String; 1]>::try_from(self.here(title)).expect("one event");
        let row = self
            .store
            .lock()
            .expect("store")
            .get_event(&id)
            .expect("it");
        assert!(row.series_id.is_some(), "{row:?}");
    }

    /// The series' second occurrence has its change made here, at the provider and here
    /// (once, an occurrence of the series).
    fn assert_second_changed_here(&self, master_remote: &str) {
        assert_eq!(
            self.second_there(master_remote)["summary"].as_str(),
            Some(CHANGED_HERE)
        );
        self.assert_occurrence(CHANGED_HERE);
    }

    /// Seeds a daily all-day series (three days from the first start's date) at the
    /// provider, as another client; its id.
    fn seed_all_day_series(&self) -> String {
        let event = json!({
            "summary": SERIES,
            "start": {"date": self.day(0)},
            "end": {"date": self.day(1)},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        });
        let made = self
            .cloud
            .state
            .google_seed_event(EMAIL, "primary", &event)
            .expect("seed the series");
        made["id"].as_str().expect("an id").to_owned()
    }

    /// The date `days` after the series' first start (UTC), as `YYYY-MM-DD`.
    fn day(&self, days: i64) -> String {
        (self.first + TimeDelta::days(days))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// Makes series `id` all-day (`true`, on its first day) or timed (15 minutes at
    /// the first start), here, for all occurrences.
    fn switch_all_day(&self, id: &str, all_day: bool) {
        let mut store = self.store.lock().expect("store");
        change_series(&mut store, id, |input| {
            input.all_day = all_day;
            if all_day {
                input.start = self.day(0);
                input.end = self.day(1);
            } else {
                input.time_zone = "UTC".into();
                input.start = wall(self.first);
                input.end = wall(self.first + TimeDelta::minutes(15));
            }
        });
    }

    /// Sets the primary calendar's conflict policy.
    fn set_policy(&self, policy: &str) {
        set_primary_policy(&self.store, policy);
    }

    /// The seeded series synced, its second occurrence deleted here while the phone
    /// changes it by `patch`: a run meets the two as a delete/edit conflict, the
    /// removal held apart from the series. The series' (provider id, local id) and the
    /// conflict's (id, tombstone's local id).
    fn deleted_here_changed_there(&self, patch: serde_json::Value) -> [String; 4] {
        let master_remote = self.seed_series();
        self.run();
        let [master] = <[String; 1]>::try_from(self.here(SERIES)).expect("the series");
        self.delete_second_here(&master);
        self.cloud
            .state
            .google_edit_event(EMAIL, "primary", &self.second_id(&master_remote), &patch)
            .expect("change the occurrence there");
        let s = self.run();
        assert_eq!(s.conflicts, 1, "{s:?}");
        let (conflict, kind, tombstone) = self.open_conflict();
        assert_eq!(kind, "delete_edit");
        [master_remote, master, conflict, tombstone]
    }

    /// Series `master`'s removed dates here.
    fn exdates_here(&self, master: &str) -> Vec<String> {
        self.store
            .lock()
            .expect("store")
            .get_event(master)
            .expect("the series")
            .input
            .recurrence
            .expect("a rule")
            .exdates
    }

    fn open_conflict(&self) -> (String, String, String) {
        let open = self
            .store
            .lock()
            .expect("store")
            .conflicts(true)
            .expect("conflicts");
        assert_eq!(open.len(), 1, "{open:?}");
        let c = &open[0];
        (c.id.clone(), c.kind.clone(), c.event_id.clone())
    }
}

#[test]
fn an_occurrence_changed_before_its_series_is_pushed_goes_out_after_it() {
    let h = Harness::new();
    let master = h.series_made_here();
    // Changed before any run: the series has no provider id yet. The pull used to stop
    // here ("its series is not known"), so neither ever went out.
    h.change_second_here(&master);
    let s = h.run();
    assert_eq!(s.pushed, 2, "{s:?}");
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (1, 1));
    h.assert_quiet();
    assert_eq!(h.here(CHANGED_HERE).len(), 1);
}

/// A series made here takes the provider's default reminder when it lands; its
/// occurrence changed here before that has no reminder of its own. When the phone
/// changes that occurrence between the series' push and the occurrence's, the merge
/// must not read the missing reminder as "removed here" (it was sent as none).
#[test]
fn an_occurrence_changed_there_before_ours_reaches_it_keeps_the_series_reminder() {
    let h = Harness::new();
    let master = h.series_made_here();
    h.change_second_here(&master);
    let phone = h.room_of_new_series_second_moved(Moment::Before);
    let s = h.run_with(&phone);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    h.assert_second_merged_with_series_reminder();
}

/// The same when the occurrence's push fails once the series has landed (the provider
/// is unavailable) and the phone changes the occurrence before the next run: that
/// run's pull pairs the two and merges them.
#[test]
fn an_occurrence_changed_there_before_ours_is_sent_again_keeps_the_series_reminder() {
    let h = Harness::new();
    let master = h.series_made_here();
    h.change_second_here(&master);
    let phone = h.room_of_new_series_second_moved(Moment::Instead);
    let failed =
        h.rt.block_on(sync_account(
            &h.store,
            &phone,
            &h.account,
            &SyncOptions::default(),
            &Utc::now,
        ))
        .expect("run");
    assert!(
        failed.calendars.iter().any(|c| c.error.is_some()),
        "{failed:?}"
    );
    // The series, and the occurrence the phone changed (its title still the series').
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (2, 0));
    let s = h.run();
    assert_eq!(s.conflicts, 0, "{s:?}");
    // That run paired the two, and its log says what it took from theirs.
    let linked: Vec<_> = {
        let store = h.store.lock().expect("store");
        store
            .sync_actions(s.run_id)
            .expect("actions")
            .into_iter()
            .filter(|a| a.direction == "pull" && a.action == "linked")
            .collect()
    };
    assert_eq!(linked.len(), 1, "{linked:?}");
    let fields: Vec<String> = serde_json::from_str(&linked[0].fields).expect("a list");
    assert_eq!(fields, ["location", "organizer", "reminder"], "{linked:?}");
    assert!(
        linked[0].reason.contains("taken from the provider"),
        "{linked:?}"
    );
    h.assert_settles();
    h.assert_second_merged_with_series_reminder();
}

/// The user renames the occurrence again while its first change goes out (between
/// this computer's read of the instance and its write): the newer name is not
/// overwritten by the one being sent, and goes out after it.
#[test]
fn an_occurrence_renamed_again_while_it_goes_out_keeps_the_newer_name() {
    const AGAIN: &str = "Stand-up, moved here and renamed";
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    let user = h.meanwhile_here(|store, id, target| {
        let mut input = store.get_event(&id).expect("the occurrence").input;
        input.title = AGAIN.into();
        let change = EventChange {
            id: target.id,
            scope: target.scope,
            original_start: target.original_start,
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("rename it again");
    });
    let s = h.run_with(&user);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    assert_eq!((h.there(CHANGED_HERE), h.there(AGAIN)), (0, 1));
    assert_eq!(
        h.second_there(&master_remote)["summary"].as_str(),
        Some(AGAIN)
    );
    assert_eq!((h.here(CHANGED_HERE).len(), h.here(AGAIN).len()), (0, 1));
}

/// The user deletes the occurrence while its first change goes out: the change is not
/// sent after all, and the occurrence goes (its series' update removes it there) — no
/// conflict with the user's own change, and it does not come back.
#[test]
fn an_occurrence_deleted_while_its_change_goes_out_stays_deleted() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    let user = h.meanwhile_here(|store, _, target| {
        store
            .delete_event(target, Source::Cli, Utc::now())
            .expect("delete it");
    });
    let s = h.run_with(&user);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (1, 0));
    // Removed from the series there (an EXDATE), not left as a changed instance.
    let second = h.second_id(&master_remote);
    let events = h
        .cloud
        .state
        .google_events(EMAIL, "primary")
        .expect("events");
    assert!(
        !events
            .iter()
            .any(|e| e["id"] == second.as_str() && e["status"] != "cancelled"),
        "{events:?}"
    );
    let series = series_there(&h.cloud.state);
    assert!(
        series["recurrence"].to_string().contains("EXDATE"),
        "{series}"
    );
    assert!(h.here(CHANGED_HERE).is_empty());
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    assert!(open.is_empty(), "{open:?}");
}

/// The user moves the whole series an hour later while one occurrence's first change
/// goes out (between this computer's read of the instance and its write): the run
/// fails nothing, the occurrence keeps its change at the provider and here, once.
#[test]
fn an_occurrence_whose_series_moves_while_it_goes_out_keeps_its_change() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    let first = h.first;
    let user = h.meanwhile_here(move |store, _, target| {
        change_series(store, &target.id, |input| {
            input.start = wall(first + TimeDelta::hours(1));
            input.end = wall(first + TimeDelta::hours(1) + TimeDelta::minutes(15));
        });
    });
    let s = h.run_with(&user);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    let series = series_there(&h.cloud.state);
    let start = series["start"]["dateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    assert_eq!(
        start.map(|t| t.to_utc()),
        Some(first + TimeDelta::hours(1)),
        "{series}"
    );
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (1, 1));
    assert_eq!(h.here(SERIES).len(), 1);
    h.assert_second_changed_here(&master_remote);
}

/// The user makes the whole series all-day while one occurrence's first change goes
/// out: no run fails, and the occurrence, keyed by the time it had, stays.
#[test]
fn an_occurrence_whose_series_turns_all_day_while_it_goes_out_fails_no_run() {
    let h = Harness::new();
    h.series_changed_here();
    let first = h.first;
    let user = h.meanwhile_here(move |store, _, target| {
        change_series(store, &target.id, |input| {
            input.all_day = true;
            input.start = first.format("%Y-%m-%d").to_string();
            input.end = (first + TimeDelta::days(1)).format("%Y-%m-%d").to_string();
        });
    });
    let s = h.run_with(&user);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    let series = series_there(&h.cloud.state);
    assert!(series["start"]["date"].is_string(), "{series}");
    assert_eq!(h.here(SERIES).len(), 1);
    h.assert_occurrence(CHANGED_HERE);
    assert_eq!(h.there(CHANGED_HERE), 1);
}

#[test]
fn a_series_deleted_there_does_not_take_an_occurrence_changed_here_with_it() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    // Changed here, deleted there: the user decides; nothing is lost meanwhile.
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, kind, event) = h.open_conflict();
    assert_eq!((kind.as_str(), &event), ("edit_delete", &h.here(SERIES)[0]));
    assert_eq!(
        h.here(CHANGED_HERE).len(),
        1,
        "the occurrence changed here is kept"
    );
    // Keep mine: the series is made again at the provider, and the changed occurrence
    // follows it once it has an id there.
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (1, 1));
    h.assert_quiet();
}

/// A day of a series deleted here (the series' only change here: an EXDATE), the whole
/// series deleted on the phone before that goes out: gone on both sides, with nothing
/// to ask whatever the policy. It used to be an edit/delete conflict on the series, and
/// a policy keeping edits made the series again at the provider without that day.
#[test]
fn a_series_deleted_there_after_a_day_of_it_was_deleted_here_is_simply_gone() {
    simply_gone_after(|h, master| h.delete_second_here(master));
}

/// A series renamed here and renamed back before that went out (marked changed, but
/// no different from the provider's), deleted on the phone meanwhile: the same. It was
/// an edit/delete conflict about no edit, and a policy keeping edits made the series
/// again there.
#[test]
fn a_series_deleted_there_after_its_change_here_was_undone_is_simply_gone() {
    simply_gone_after(|h, master| {
        for title in ["Daily stand-up, renamed", SERIES] {
            let mut store = h.store.lock().expect("store");
            change_series(&mut store, master, |i| i.title = title.into());
        }
    });
}

/// The series seeded and synced, changed here by `change` (its local id), then deleted
/// on the phone before that goes out: gone on both sides, nothing sent and nothing
/// asked, whatever the policy.
fn simply_gone_after(change: impl Fn(&Harness, &str)) {
    for policy in ["ask", "prefer_local", "keep_both"] {
        let h = Harness::new();
        let master_remote = h.seed_series();
        h.run();
        h.set_policy(policy);
        let master = h.here(SERIES).pop().expect("the series here");
        change(&h, &master);
        h.cloud
            .state
            .google_delete_event(EMAIL, "primary", &master_remote)
            .expect("delete the series there");
        let s = h.run();
        assert_eq!((s.pushed, s.conflicts), (0, 0), "{policy}: {s:?}");
        let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
        assert!(outbox.is_empty(), "{policy}: {outbox:?}");
        h.assert_quiet();
        assert_eq!(h.here(SERIES), Vec::<String>::new(), "{policy}: here");
        assert_eq!(h.there(SERIES), 0, "{policy}: the provider");
    }
}

#[test]
fn a_series_restored_from_the_provider_comes_back_with_its_changed_occurrences() {
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there();
    assert_eq!(h.here(CHANGED_THERE).len(), 1);
    // Deleted here (its changed occurrence with it), changed there meanwhile.
    let master = h.here(SERIES);
    assert_eq!(master.len(), 1, "{master:?}");
    h.store
        .lock()
        .expect("store")
        .delete_event(
            EventTarget {
                id: master[0].clone(),
                scope: EditScope::All,
                original_start: None,
            },
            Source::Cli,
            Utc::now(),
        )
        .expect("delete the series here");
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &master_remote,
            &json!({"location": "Room 4"}),
        )
        .expect("change the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, kind, _) = h.open_conflict();
    assert_eq!(kind, "delete_edit");
    // Keep theirs: the series comes back, and so must the occurrence changed in it
    // (no later round lists it again: the calendar is listed anew).
    resolve_conflict(&h.store, &conflict, &Choice::KeepTheirs, Utc::now()).expect("keep theirs");
    h.run();
    assert_eq!(h.here(SERIES).len(), 1);
    assert_eq!(
        h.here(CHANGED_THERE).len(),
        1,
        "the changed occurrence is back"
    );
    h.assert_quiet();
}

#[test]
fn keep_mine_on_a_deleted_series_and_on_its_changed_occurrence_keeps_both() {
    let h = Harness::new();
    // The phone changes the second occurrence; this computer then changes it again.
    let master_remote = h.seed_series_changed_there();
    let occurrence = h.here(CHANGED_THERE);
    assert_eq!(occurrence.len(), 1, "{occurrence:?}");
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&occurrence[0]).expect("occurrence").input;
        input.title = CHANGED_HERE.into();
        store
            .update_event(
                EventChange {
                    id: occurrence[0].clone(),
                    scope: EditScope::Occurrence,
                    original_start: None,
                    input,
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("change it here");
    }
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    let s = h.run();
    assert!(s.conflicts >= 1, "{s:?}");
    // Keep mine on the series, then on its occurrence if that is in conflict too (the
    // series has no provider id between the two).
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    let series = h.here(SERIES);
    let (first, then): (Vec<_>, Vec<_>) = open.iter().partition(|c| series.contains(&c.event_id));
    for c in first.iter().chain(then.iter()) {
        resolve_conflict(&h.store, &c.id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    }
    for _ in 0..3 {
        h.run();
    }
    assert_eq!((h.there(SERIES), h.there(CHANGED_HERE)), (1, 1));
    h.assert_quiet();
}

#[test]
fn an_occurrence_changed_there_while_ours_goes_out_is_merged_not_overwritten() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    // The phone sets the room of the same occurrence after this run's pull: a
    // different field, so both changes stand, there and here.
    let phone = h.meddled(h.second_id(&master_remote), json!({"location": "Room 4"}));
    let s = h.run_with(&phone);
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_second(&master_remote, CHANGED_HERE, "Room 4");
    h.assert_quiet();
}

#[test]
fn an_occurrence_changed_there_between_our_read_and_our_write_is_merged() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    // The phone's change lands after the push read the instance: the update is
    // refused (412), read again, merged.
    let phone = h.meddled_at(
        Moment::After,
        h.second_id(&master_remote),
        json!({"location": "Room 4"}),
    );
    let s = h.run_with(&phone);
    assert_eq!((s.pushed, s.conflicts), (1, 0), "{s:?}");
    h.assert_second(&master_remote, CHANGED_HERE, "Room 4");
    h.assert_settles();
}

#[test]
fn an_occurrence_retitled_there_while_ours_goes_out_is_a_conflict() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    // The phone retitles the same occurrence after this run's pull: the same field.
    let phone = h.meddled(
        h.second_id(&master_remote),
        json!({"summary": CHANGED_THERE}),
    );
    let s = h.run_with(&phone);
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, kind, _) = h.open_conflict();
    assert_eq!(kind, "edit_edit");
    assert_eq!(
        h.second_there(&master_remote)["summary"].as_str(),
        Some(CHANGED_THERE),
        "the phone's title is not overwritten while the user decides"
    );
    assert_eq!(h.here(CHANGED_HERE).len(), 1, "ours is kept here");
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    assert_eq!((h.there(CHANGED_HERE), h.there(CHANGED_THERE)), (1, 0));
    h.assert_quiet();
}

#[test]
fn an_occurrence_changed_here_follows_its_series_where_it_was_not_changed() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    // The organiser moves the whole series to another room before this computer
    // syncs: the occurrence changed here keeps its new title and time and takes the
    // room, there and here.
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &master_remote,
            &json!({"location": "Room 9"}),
        )
        .expect("change the series there");
    h.run();
    h.assert_second(&master_remote, CHANGED_HERE, "Room 9");
    h.assert_quiet();
}

#[test]
fn an_occurrence_whose_series_changes_there_while_it_goes_out_follows_the_series() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    // The room of the whole series changes after this run's pull: the occurrence is
    // not sent over it (that would undo the new room there); the series is merged
    // first, and the occurrence goes out with the new room.
    let phone = h.meddled(master_remote.clone(), json!({"location": "Room 9"}));
    let s = h.run_with(&phone);
    assert_eq!((s.pushed, s.conflicts), (1, 0), "{s:?}");
    h.assert_second(&master_remote, CHANGED_HERE, "Room 9");
    h.assert_settles();
}

#[test]
fn a_series_made_again_drops_an_occurrence_hidden_on_both_sides() {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    let master = h.here(SERIES);
    assert_eq!(master.len(), 1, "{master:?}");
    // The second occurrence goes on both sides: the phone cancels it, this computer
    // deletes it (an EXDATE of the series). Both are kept.
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &h.second_id(&master_remote))
        .expect("cancel the occurrence there");
    h.delete_second_here(&master[0]);
    h.run();
    // Then the series is renamed here and deleted there; "keep mine" makes it again,
    // without that occurrence.
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&master[0]).expect("the series").input;
        input.title = "Daily stand-up, renamed".into();
        store
            .update_event(
                EventChange {
                    id: master[0].clone(),
                    scope: EditScope::All,
                    original_start: None,
                    input,
                },
                Source::Cli,
                Utc::now(),
            )
            .expect("rename the series here");
    }
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, _, _) = h.open_conflict();
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    // The hidden occurrence's row went with the series into the outbox; the new
    // series has no such occurrence to hide. It used to be refused on every run.
    h.run();
    h.run();
    assert_eq!(h.there("Daily stand-up, renamed"), 1);
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    h.assert_quiet();
}

#[test]
fn an_answer_that_makes_no_event_is_refused_and_changes_nothing() {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    // Here: five days later, ten times.
    let later = h.first + TimeDelta::days(5);
    change_series(&mut h.store.lock().expect("store"), &master, |input| {
        input.start = wall(later);
        input.end = wall(later + TimeDelta::minutes(15));
        if let Some(rule) = input.recurrence.as_mut() {
            rule.rrule = "FREQ=DAILY;COUNT=10".into();
        }
    });
    // There: an hour later, until the second day.
    let hour = h.first + TimeDelta::hours(1);
    let until = (h.first + TimeDelta::days(1) + TimeDelta::hours(2)).format("%Y%m%dT%H%M%SZ");
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &master_remote,
            &json!({
                "start": {"dateTime": hour.to_rfc3339(), "timeZone": "UTC"},
                "end": {"dateTime": (hour + TimeDelta::minutes(15)).to_rfc3339(), "timeZone": "UTC"},
                "recurrence": [format!("RRULE:FREQ=DAILY;UNTIL={until}")],
            }),
        )
        .expect("change the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, kind, _) = h.open_conflict();
    assert_eq!(kind, "edit_edit");
    // Our start, their end: a series that ends before it starts.
    let picks = ["timing=local", "recurrence=remote"].map(|p| parse_pick(p).expect("a pick"));
    let refused = resolve_conflict(
        &h.store,
        &conflict,
        &per_field(picks).expect("one pick per field"),
        Utc::now(),
    )
    .expect_err("no such series");
    let said = refused.to_string();
    assert!(said.contains("This answer cannot be kept"), "{said}");
    assert!(
        said.contains("ends (UNTIL) before the event starts"),
        "{said}"
    );
    // Nothing changed: the conflict still asks, ours is as it was, nothing was logged
    // as resolved.
    assert_eq!(h.open_conflict().0, conflict);
    let ours = h
        .store
        .lock()
        .expect("store")
        .get_event(&master)
        .expect("ours");
    assert_eq!(ours.input.start, wall(later));
    let rule = ours.input.recurrence.expect("a rule");
    assert_eq!(rule.rrule, "FREQ=DAILY;COUNT=10");
    // Another answer still goes.
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    let there = series_there(&h.cloud.state);
    assert_eq!(
        there["recurrence"],
        json!(["RRULE:FREQ=DAILY;COUNT=10"]),
        "{there}"
    );
    h.assert_settles();
}

#[test]
fn keep_theirs_that_cannot_be_merged_with_ours_takes_theirs_whole() {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    // Here: renamed, and five days later (a field only we changed).
    let later = h.first + TimeDelta::days(5);
    change_series(&mut h.store.lock().expect("store"), &master, |input| {
        input.title = "Stand-up (mine)".into();
        input.start = wall(later);
        input.end = wall(later + TimeDelta::minutes(15));
    });
    // There: renamed, and until the second day (a field only they changed).
    let until = (h.first + TimeDelta::days(1)).format("%Y%m%dT%H%M%SZ");
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &master_remote,
            &json!({
                "summary": "Stand-up (theirs)",
                "recurrence": [format!("RRULE:FREQ=DAILY;UNTIL={until}")],
            }),
        )
        .expect("change the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (conflict, kind, _) = h.open_conflict();
    assert_eq!(kind, "edit_edit");
    // Theirs merged with our start would end before it starts: theirs whole.
    let done = resolve_conflict(&h.store, &conflict, &Choice::KeepTheirs, Utc::now())
        .expect("keep theirs");
    assert!(!done.pushes, "{done:?}");
    let ours = h
        .store
        .lock()
        .expect("store")
        .get_event(&master)
        .expect("ours");
    assert_eq!(ours.input.title, "Stand-up (theirs)");
    assert_eq!(ours.input.start, wall(h.first));
    h.run();
    h.assert_settles();
}

#[test]
fn keep_both_by_policy_on_an_occurrence_keeps_theirs_and_a_copy_of_ours() {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    h.set_policy("keep_both");
    let master = h.here(SERIES);
    h.change_second_here(&master[0]);
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &h.second_id(&master_remote),
            &json!({"summary": CHANGED_THERE}),
        )
        .expect("retitle the occurrence there");
    let s = h.run();
    assert_eq!(s.conflicts, 0, "{s:?}");
    // The occurrence as the phone left it; ours, an event of its own at its time.
    assert_eq!(h.second_there(&master_remote)["summary"], CHANGED_THERE);
    assert_eq!((h.there(CHANGED_THERE), h.there(CHANGED_HERE)), (1, 1));
    assert_eq!(
        (h.here(CHANGED_THERE).len(), h.here(CHANGED_HERE).len()),
        (1, 1)
    );
    h.assert_quiet();
}

/// An occurrence changed here whose series the phone changes between this run's pull
/// and its push, removing that occurrence: the series' update meets a 412, and its
/// re-merge makes the occurrence an event of its own (the calendar prefers this
/// computer), with a create under a new key. The occurrence's own entry, listed for
/// the same pass before the re-merge replaced it, went out too: two events there.
#[test]
fn an_occurrence_made_its_own_event_by_a_remerge_is_created_once() {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    h.set_policy("prefer_local");
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    // Queued first: the series' update; then the occurrence's change.
    change_series(&mut h.store.lock().expect("store"), &master, |input| {
        input.location = "Room 1".into();
    });
    h.change_second_here(&master);
    let second = (h.first + TimeDelta::days(1)).format("%Y%m%dT%H%M%SZ");
    let phone = h.meddled_at(
        Moment::BeforeUpdate,
        master_remote.clone(),
        json!({"recurrence": ["RRULE:FREQ=DAILY;COUNT=3", format!("EXDATE:{second}")]}),
    );
    h.run_with(&phone);
    assert_eq!(
        h.there(CHANGED_HERE),
        1,
        "the occurrence's change landed twice"
    );
    assert_eq!(h.here(CHANGED_HERE).len(), 1);
    h.assert_settles();
    assert_eq!(h.there(CHANGED_HERE), 1);
    assert_eq!(series_there(&h.cloud.state)["location"], "Room 1");
}

/// Changes series `id` here, for all occurrences, by `edit`.
fn change_series(store: &mut Store, id: &str, edit: impl FnOnce(&mut EventInput)) {
    let mut input = store.get_event(id).expect("the series").input;
    edit(&mut input);
    let change = EventChange {
        id: id.to_owned(),
        scope: EditScope::All,
        original_start: None,
        input,
    };
    store
        .update_event(change, Source::Cli, Utc::now())
        .expect("change the series");
}

/// `t` as an event's wall time (UTC).
fn wall(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The series at the provider (the one live event of it with a rule).
fn series_there(state: &almanac_fakecloud::SharedState) -> serde_json::Value {
    state
        .google_events(EMAIL, "primary")
        .expect("events")
        .into_iter()
        .find(|e| {
            e["summary"] == SERIES && e["recurrence"].is_array() && e["status"] != "cancelled"
        })
        .expect("the series is there")
}

/// A series with an occurrence changed (and synced) made all-day here: the occurrence,
/// keyed by the time it had, stays readable — it stopped every later run of the
/// calendar ("Stored sync data is damaged") — and the series' update goes out (Google
/// keeps the old `dateTime` beside a new `date` unless it is sent as `null`). Google
/// keeps the changed occurrence; so does this computer.
#[test]
fn a_series_made_all_day_here_keeps_its_changed_occurrence_and_syncs() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    h.run();
    let [series] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    h.switch_all_day(&series, true);
    h.run();
    h.assert_settles();
    let there = series_there(&h.cloud.state);
    assert_eq!(
        there["start"]["date"].as_str(),
        Some(h.day(0).as_str()),
        "{there}"
    );
    assert!(there["start"].get("dateTime").is_none(), "{there}");
    assert_eq!(h.here(SERIES).len(), 1);
    h.assert_second_changed_here(&master_remote);
}

/// The other way: an all-day series with an occurrence changed at the provider, made
/// timed here — the occurrence keyed by its date stays readable, the update goes out.
#[test]
fn an_all_day_series_made_timed_here_keeps_its_changed_occurrence_and_syncs() {
    let h = Harness::new();
    h.all_day_series_made_timed_here();
    let there = series_there(&h.cloud.state);
    assert!(there["start"]["dateTime"].is_string(), "{there}");
    assert!(there["start"].get("date").is_none(), "{there}");
    assert_eq!(h.here(SERIES).len(), 1);
    h.assert_occurrence(CHANGED_THERE);
    assert_eq!(h.there(CHANGED_THERE), 1);
}

/// Moving that series here afterwards (all occurrences, an hour later): the
/// occurrence it left behind (a date) is no day of it and stays where it is. Its key
/// was read as one of the series' times, and every such edit failed ("Stored data is
/// damaged").
#[test]
fn a_series_that_left_an_occurrence_behind_can_still_be_moved_here() {
    let h = Harness::new();
    let series = h.all_day_series_made_timed_here();
    let later = h.first + TimeDelta::hours(1);
    change_series(&mut h.store.lock().expect("store"), &series, |input| {
        input.start = wall(later);
        input.end = wall(later + TimeDelta::minutes(15));
    });
    h.run();
    h.assert_settles();
    let there = series_there(&h.cloud.state);
    assert_eq!(
        there["start"]["dateTime"],
        json!(later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "{there}"
    );
    h.assert_occurrence(CHANGED_THERE);
    assert_eq!(h.there(CHANGED_THERE), 1);
    let [left] = <[String; 1]>::try_from(h.here(CHANGED_THERE)).expect("the one left behind");
    let key = h
        .store
        .lock()
        .expect("store")
        .get_event(&left)
        .expect("it")
        .original_start;
    assert_eq!(key, Some(h.day(1)));
}

impl Harness {
    /// An all-day series with its second day changed at Google, synced, then made
    /// timed here and synced: Google keeps that occurrence (a date) behind. The local
    /// series' id.
    fn all_day_series_made_timed_here(&self) -> String {
        let master_remote = self.seed_all_day_series();
        let second = format!("{master_remote}_{}", self.day(1).replace('-', ""));
        self.cloud
            .state
            .google_edit_event(
                EMAIL,
                "primary",
                &second,
                &json!({"summary": CHANGED_THERE}),
            )
            .expect("change the occurrence there");
        self.run();
        let [series] = <[String; 1]>::try_from(self.here(SERIES)).expect("the series");
        self.switch_all_day(&series, false);
        self.run();
        self.assert_settles();
        series
    }
}

/// The series made all-day at the provider: its changed occurrence, kept there under
/// the time it had, can still change there and come here.
#[test]
fn a_series_made_all_day_there_keeps_its_changed_occurrence_in_sync() {
    const AGAIN: &str = "Stand-up, moved on the phone again";
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there();
    let all_day = json!({
        "start": {"date": h.day(0), "dateTime": null, "timeZone": null},
        "end": {"date": h.day(1), "dateTime": null, "timeZone": null},
    });
    h.cloud
        .state
        .google_edit_event(EMAIL, "primary", &master_remote, &all_day)
        .expect("make it all-day there");
    h.run();
    let second = h.second_id(&master_remote);
    h.cloud
        .state
        .google_edit_event(EMAIL, "primary", &second, &json!({"summary": AGAIN}))
        .expect("change the occurrence there again");
    h.run();
    h.assert_settles();
    assert!(h.here(CHANGED_THERE).is_empty());
    h.assert_occurrence(AGAIN);
}

/// An all-day series made timed here, one of its occurrences then changed here, and
/// the series renamed on the phone before any of it went out: the pull's rebase leaves
/// the occurrence, keyed as the timed series has it, where it is — no conflict with a
/// series that "no longer has" it — and it goes out after the series.
#[test]
fn an_occurrence_changed_after_its_series_was_made_timed_here_is_no_conflict() {
    const RENAMED: &str = "Daily stand-up, renamed on the phone";
    let h = Harness::new();
    let master_remote = h.seed_all_day_series();
    h.run();
    let [series] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    h.switch_all_day(&series, false);
    h.change_second_here(&series);
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &master_remote,
            &json!({"summary": RENAMED}),
        )
        .expect("rename the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 0, "{s:?}");
    h.assert_settles();
    let there = h
        .cloud
        .state
        .google_events(EMAIL, "primary")
        .expect("events")
        .into_iter()
        .find(|e| e["id"] == master_remote.as_str())
        .expect("the series is there");
    assert_eq!(there["summary"].as_str(), Some(RENAMED), "{there}");
    assert!(there["start"]["dateTime"].is_string(), "{there}");
    h.assert_second_changed_here(&master_remote);
}

/// An occurrence changed here, then its series made all-day here, before either went
/// out: the occurrence goes out under the time it had, then the series.
#[test]
fn an_occurrence_changed_before_its_series_was_made_all_day_here_goes_out_too() {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    let [series] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    h.switch_all_day(&series, true);
    let s = h.run();
    assert_eq!((s.pushed, s.conflicts), (2, 0), "{s:?}");
    h.assert_settles();
    let there = series_there(&h.cloud.state);
    assert_eq!(
        there["start"]["date"].as_str(),
        Some(h.day(0).as_str()),
        "{there}"
    );
    h.assert_second_changed_here(&master_remote);
}

/// A series made all-day leaves its changed occurrence (a time) behind at Google; the
/// same day's all-day occurrence is then changed here too. When the one left behind
/// changes there again, it keeps a key of its own kind: taken as the day's date, it
/// collided with the other's (`UNIQUE`), and every later pull of the calendar failed.
#[test]
fn an_occurrence_left_behind_by_an_all_day_switch_and_its_days_own_both_sync() {
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there();
    let keys = h.left_behind_and_days_own(&master_remote, &json!({}));
    assert_eq!(keys, (wall(h.first + TimeDelta::days(1)), h.day(1)));
}

/// [`an_occurrence_left_behind_by_an_all_day_switch_and_its_days_own_both_sync`] with
/// the series in Berlin, and the one left behind made all-day at Google before it
/// changes again: its key, a wall time, is read and written in one frame, so it stays
/// its own.
#[test]
fn an_occurrence_left_behind_in_another_zone_stays_its_own_when_made_all_day_there() {
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there_in("Europe/Berlin");
    let all_day = json!({
        "start": {"date": h.day(1), "dateTime": null, "timeZone": null},
        "end": {"date": h.day(2), "dateTime": null, "timeZone": null},
    });
    let (left, days_own) = h.left_behind_and_days_own(&master_remote, &all_day);
    assert!(left.contains('T'), "{left}");
    assert_eq!(days_own, h.day(1));
}

/// Another computer first sees the occurrence left behind and the day's own changed
/// occurrence together: each takes a key of its own kind (Google's original start
/// tells), as here — taken as its UTC date, the one left behind collided with the
/// day's own and that computer's pulls of the calendar failed.
#[test]
fn another_computer_takes_an_occurrence_left_behind_beside_its_days_own() {
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there();
    let (left, days_own) = h.left_behind_and_days_own(&master_remote, &json!({}));
    let (_dir, other, account) = signed_in(Provider::Google, EMAIL, Utc::now());
    let run = || {
        h.rt.block_on(sync_account(
            &other,
            &*h.google,
            &account,
            &SyncOptions::default(),
            &Utc::now,
        ))
        .expect("run")
    };
    for _ in 0..2 {
        let s = run();
        assert!(s.calendars.iter().all(|c| c.error.is_none()), "{s:?}");
    }
    let s = run();
    assert_eq!((s.pulled, s.pushed, s.conflicts), (0, 0, 0), "{s:?}");
    let store = other.lock().expect("store");
    let mut keys = Vec::new();
    for cal in store.sync_calendars(None).expect("calendars") {
        for e in store.sync_entries(&cal.id).expect("entries") {
            keys.extend(e.row.and_then(|r| r.original_start));
        }
    }
    keys.sort();
    let mut want = vec![left, days_own];
    want.sort();
    assert_eq!(keys, want);
}

/// An occurrence left behind can be changed and deleted here as "this occurrence" of
/// its series, as the window offers it (it was "no occurrence" of the series), and
/// its deletion removes nothing from the series: a removed time on the all-day series
/// made Google refuse the series' next update.
#[test]
fn an_occurrence_left_behind_is_changed_and_deleted_here_alone() {
    const MINE: &str = "Stand-up, left behind, renamed here";
    let h = Harness::new();
    let master_remote = h.seed_series_changed_there();
    let (left, _) = h.left_behind_and_days_own(&master_remote, &json!({}));
    let [series] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    let target = EventTarget {
        id: series.clone(),
        scope: EditScope::Occurrence,
        original_start: Some(left.clone()),
    };
    let [id] = <[String; 1]>::try_from(h.here("Stand-up, moved on the phone again"))
        .expect("the one left behind");
    {
        let mut store = h.store.lock().expect("store");
        let mut input = store.get_event(&id).expect("it").input;
        input.title = MINE.into();
        let change = EventChange {
            id: target.id.clone(),
            scope: target.scope,
            original_start: target.original_start.clone(),
            input,
        };
        store
            .update_event(change, Source::Cli, Utc::now())
            .expect("rename the one left behind here");
    }
    h.run();
    h.assert_settles();
    assert_eq!(h.there(MINE), 1);
    h.assert_occurrence(MINE);
    h.store
        .lock()
        .expect("store")
        .delete_event(target, Source::Cli, Utc::now())
        .expect("delete the one left behind here");
    h.run();
    h.assert_settles();
    assert_eq!(h.there(MINE), 0);
    assert!(h.here(MINE).is_empty());
    let there = series_there(&h.cloud.state);
    assert!(
        !there["recurrence"].to_string().contains("EXDATE"),
        "{there}"
    );
    let row = h
        .store
        .lock()
        .expect("store")
        .get_event(&series)
        .expect("the series");
    assert_eq!(row.input.recurrence.map(|r| r.exdates), Some(vec![]));
}

impl Harness {
    /// The series (with its second occurrence changed there, `master_remote`) made
    /// all-day here, which leaves that occurrence behind at Google; the day's own
    /// all-day occurrence then changed here, the one left behind patched by `first`
    /// there, then renamed there: each step synced, both occurrences end on both sides.
    /// The keys of the one left behind and of the day's own.
    fn left_behind_and_days_own(
        &self,
        master_remote: &str,
        first: &serde_json::Value,
    ) -> (String, String) {
        const ALL_DAY: &str = "Stand-up, all day, changed here";
        const AGAIN: &str = "Stand-up, moved on the phone again";
        let [series] = <[String; 1]>::try_from(self.here(SERIES)).expect("the series");
        self.switch_all_day(&series, true);
        self.run();
        {
            let mut store = self.store.lock().expect("store");
            let mut input = store.get_event(&series).expect("the series").input;
            input.title = ALL_DAY.into();
            input.start = self.day(1);
            input.end = self.day(2);
            input.recurrence = None;
            let change = EventChange {
                id: series.clone(),
                scope: EditScope::Occurrence,
                original_start: Some(self.day(1)),
                input,
            };
            store
                .update_event(change, Source::Cli, Utc::now())
                .expect("change the day's occurrence here");
        }
        self.run();
        let left = self.second_id(master_remote);
        for patch in [first.clone(), json!({"summary": AGAIN})] {
            self.cloud
                .state
                .google_edit_event(EMAIL, "primary", &left, &patch)
                .expect("change the one left behind there");
            self.run();
        }
        self.assert_settles();
        assert_eq!((self.there(ALL_DAY), self.there(AGAIN)), (1, 1));
        assert!(self.here(CHANGED_THERE).is_empty());
        let key = |title: &str| {
            self.assert_occurrence(title);
            let [id] = <[String; 1]>::try_from(self.here(title)).expect("one");
            let row = self
                .store
                .lock()
                .expect("store")
                .get_event(&id)
                .expect("it");
            row.original_start.expect("a key")
        };
        (key(AGAIN), key(ALL_DAY))
    }
}

/// An occurrence deleted here and changed on the phone — a new title and reminder —
/// (a delete/edit conflict, its removal held apart from the series), then the series
/// changed here and deleted there, and made again by "keep mine": the occurrence's
/// conflict still waits, about the old series. With `sent`, a run has made the new
/// series at the provider (another id there); without, its create is still queued.
/// The occurrence's conflict.
fn occurrence_waiting_through_its_series_made_again(h: &Harness, sent: bool) -> String {
    occurrence_waiting_through_its_series_changed_and_made_again(h, sent, |input| {
        input.location = "Room 9".into()
    })
}

/// [`occurrence_waiting_through_its_series_made_again`], the series changed here by
/// `edit`.
fn occurrence_waiting_through_its_series_changed_and_made_again(
    h: &Harness,
    sent: bool,
    edit: impl FnOnce(&mut EventInput),
) -> String {
    let [master_remote, master, occurrence_conflict, tombstone] =
        h.deleted_here_changed_there(json!({"summary": CHANGED_THERE,
            "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 42}]}}));
    {
        let mut store = h.store.lock().expect("store");
        change_series(&mut store, &master, edit);
    }
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let series_conflict = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts")
        .into_iter()
        .find(|c| c.event_id == master)
        .expect("the series' conflict");
    assert_eq!(series_conflict.kind, "edit_delete");
    resolve_conflict(&h.store, &series_conflict.id, &Choice::KeepMine, Utc::now())
        .expect("keep mine on the series");
    if sent {
        h.run();
        let made_again = series_there(&h.cloud.state)["id"].clone();
        assert_ne!(made_again, master_remote.as_str());
    }
    // The removal still waits apart from the series, for the user.
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(
        outbox
            .iter()
            .any(|o| o.event_id == tombstone && o.op == almanac_store::OutboxOp::Delete),
        "{outbox:?}"
    );
    occurrence_conflict
}

/// [`occurrence_waiting_through_its_series_made_again`], then the occurrence's
/// conflict answered with `choice`, which goes to the provider; a few runs settle
/// it. The new series' id.
fn occurrence_answered_after_its_series_was_made_again(
    h: &Harness,
    choice: &Choice,
    sent: bool,
) -> String {
    let conflict = occurrence_waiting_through_its_series_made_again(h, sent);
    let answer =
        resolve_conflict(&h.store, &conflict, choice, Utc::now()).expect("answer the conflict");
    assert!(answer.pushes, "{answer:?}");
    h.run();
    h.run();
    assert_eq!(h.there(SERIES), 1);
    h.assert_quiet();
    series_there(&h.cloud.state)["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Keep theirs: the phone's change of that day stands — title and reminder — in the
/// series made again, there and here, rather than the day as the series makes it.
fn keep_theirs_after_the_series_was_made_again(sent: bool) {
    let h = Harness::new();
    let series = occurrence_answered_after_its_series_was_made_again(&h, &Choice::KeepTheirs, sent);
    assert_eq!(h.there(CHANGED_THERE), 1);
    let there = h.second_there(&series);
    assert_eq!(there["summary"], CHANGED_THERE, "{there}");
    assert_eq!(there["reminders"]["overrides"][0]["minutes"], 42, "{there}");
    h.assert_occurrence(CHANGED_THERE);
    let [id] = <[String; 1]>::try_from(h.here(CHANGED_THERE)).expect("the occurrence");
    let store = h.store.lock().expect("store");
    let row = store
        .sync_calendars(None)
        .expect("calendars")
        .iter()
        .flat_map(|c| store.sync_entries(&c.id).expect("entries"))
        .find(|e| e.local_id == id)
        .and_then(|e| e.row)
        .expect("its row");
    assert_eq!(row.reminder_minutes, Some(42), "{row:?}");
}

/// Keep mine: the day deleted here is not in the series made again, there or here.
fn keep_mine_after_the_series_was_made_again(sent: bool) {
    let h = Harness::new();
    let series = occurrence_answered_after_its_series_was_made_again(&h, &Choice::KeepMine, sent);
    assert_eq!(h.there(CHANGED_THERE), 0);
    assert!(!second_live_there(&h, &series));
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    assert_eq!(
        h.exdates_here(&master),
        vec![wall(h.first + TimeDelta::days(1))]
    );
}

/// Whether the series' second day is an occurrence there (not cancelled, not removed).
fn second_live_there(h: &Harness, master_remote: &str) -> bool {
    let id = h.second_id(master_remote);
    let events = h
        .cloud
        .state
        .google_events(EMAIL, "primary")
        .expect("events");
    if let Some(e) = events.iter().find(|e| e["id"] == id.as_str()) {
        return e["status"] != "cancelled";
    }
    let day = (h.first + TimeDelta::days(1)).format("%Y%m%d").to_string();
    !series_there(&h.cloud.state)["recurrence"]
        .as_array()
        .expect("a rule")
        .iter()
        .any(|l| {
            l.as_str()
                .is_some_and(|l| l.starts_with("EXDATE") && l.contains(&day))
        })
}

#[test]
fn keep_theirs_on_an_occurrence_after_its_series_was_made_again_keeps_their_change() {
    keep_theirs_after_the_series_was_made_again(true);
}

#[test]
fn keep_theirs_on_an_occurrence_before_its_series_made_again_is_sent_keeps_their_change() {
    keep_theirs_after_the_series_was_made_again(false);
}

#[test]
fn keep_mine_on_an_occurrence_after_its_series_was_made_again_removes_that_day() {
    keep_mine_after_the_series_was_made_again(true);
}

#[test]
fn keep_mine_on_an_occurrence_before_its_series_made_again_is_sent_removes_that_day() {
    keep_mine_after_the_series_was_made_again(false);
}

/// An occurrence deleted here and changed on the phone (a delete/edit conflict), then
/// changed here again — the day is shown while that conflict waits — and deleted on
/// the phone. The phone's deletion meets the change here as a conflict of its own
/// (seed 38542: its create waited for good for a pull that had come already), which
/// is answered with `choice`; the first conflict, moot now, is answered "keep
/// theirs". The series' provider id.
fn changed_again_here_and_deleted_there(h: &Harness, choice: &Choice) -> String {
    let [master_remote, master, first, _] =
        h.deleted_here_changed_there(json!({"summary": CHANGED_THERE}));
    h.change_second_here(&master);
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &h.second_id(&master_remote))
        .expect("delete the occurrence there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    let second = open
        .iter()
        .find(|c| c.id != first)
        .expect("the second conflict");
    let [changed] = <[String; 1]>::try_from(h.here(CHANGED_HERE)).expect("the change");
    assert_eq!(second.event_id, changed);
    resolve_conflict(&h.store, &first, &Choice::KeepTheirs, Utc::now()).expect("answer");
    resolve_conflict(&h.store, &second.id, choice, Utc::now()).expect("answer");
    h.run();
    h.assert_settles();
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    master_remote
}

#[test]
fn keep_mine_on_a_day_changed_here_again_and_deleted_there_brings_it_back_there() {
    let h = Harness::new();
    let master_remote = changed_again_here_and_deleted_there(&h, &Choice::KeepMine);
    let there = h.second_there(&master_remote);
    assert_eq!(there["status"], "confirmed", "{there}");
    assert_eq!(there["summary"], CHANGED_HERE, "{there}");
    h.assert_occurrence(CHANGED_HERE);
    assert_eq!(h.there(SERIES), 1);
}

#[test]
fn keep_theirs_on_a_day_changed_here_again_and_deleted_there_removes_it_here() {
    let h = Harness::new();
    let master_remote = changed_again_here_and_deleted_there(&h, &Choice::KeepTheirs);
    assert!(!second_live_there(&h, &master_remote));
    assert!(h.here(CHANGED_HERE).is_empty());
    assert_eq!(h.there(CHANGED_HERE), 0);
    assert_eq!(h.there(SERIES), 1);
}

/// An occurrence deleted here that the phone changed (a delete/edit conflict, its
/// removal held apart from the series), then the whole series moved an hour later
/// here — the move sent before the answer if `pushed` — and the conflict answered
/// Keep mine: that day is gone at its new time, there and here, with the phone's
/// change. (The held removal kept the day's old time, which the moved series has
/// no occurrence at: nothing was removed, and the day stayed — I1.)
fn keep_mine_after_the_series_moved_here(pushed: bool) {
    let h = Harness::new();
    let [_, master, conflict, _] = h.deleted_here_changed_there(json!({"summary": CHANGED_THERE}));
    {
        let mut store = h.store.lock().expect("store");
        change_series(&mut store, &master, |input| {
            input.start = wall(h.first + TimeDelta::hours(1));
            input.end = wall(h.first + TimeDelta::hours(1) + TimeDelta::minutes(15));
        });
    }
    if pushed {
        h.run();
    }
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    h.run();
    h.assert_quiet();
    let at = |days: i64| h.first + TimeDelta::days(days) + TimeDelta::hours(1);
    let q = almanac_model::RangeQuery {
        from: (h.first - TimeDelta::hours(1)).to_rfc3339(),
        to: (h.first + TimeDelta::days(3)).to_rfc3339(),
        calendar_ids: None,
    };
    let here: Vec<String> = h
        .store
        .lock()
        .expect("store")
        .list_occurrences(&q)
        .expect("range")
        .into_iter()
        .map(|o| o.start)
        .collect();
    let rfc = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(here, vec![rfc(at(0)), rfc(at(2))], "here");
    assert_eq!(h.there(CHANGED_THERE), 0);
    let rule = series_there(&h.cloud.state)["recurrence"].to_string();
    let day = at(1).format("%Y%m%dT%H%M%S").to_string();
    assert!(rule.contains(&day), "{rule}");
}

#[test]
fn keep_mine_on_an_occurrence_whose_series_moved_here_since_removes_that_day() {
    keep_mine_after_the_series_moved_here(true);
}

#[test]
fn keep_mine_on_an_occurrence_whose_series_move_waits_removes_that_day() {
    keep_mine_after_the_series_moved_here(false);
}

/// An occurrence deleted here that the phone changed (a delete/edit conflict), changed
/// here again while that waits, then the whole series moved here; Keep mine: the
/// change made since stands for the day, as without the move — the deletion is
/// dropped, not sent as a removal of the day at its new time.
#[test]
fn keep_mine_after_the_day_changed_again_and_the_series_moved_here_keeps_the_change() {
    let h = Harness::new();
    let [_, master, conflict, _] = h.deleted_here_changed_there(json!({"summary": CHANGED_THERE}));
    h.change_second_here(&master);
    {
        let mut store = h.store.lock().expect("store");
        change_series(&mut store, &master, |input| {
            input.start = wall(h.first + TimeDelta::hours(3));
            input.end = wall(h.first + TimeDelta::hours(3) + TimeDelta::minutes(15));
        });
    }
    resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
    assert_eq!(h.exdates_here(&master), Vec::<String>::new());
    h.run();
    h.run();
    assert_eq!(h.exdates_here(&master), Vec::<String>::new());
    assert_eq!(h.here(CHANGED_HERE).len(), 1);
    let there = series_there(&h.cloud.state)["recurrence"].to_string();
    assert!(!there.contains("EXDATE"), "{there}");
}

/// [`occurrence_waiting_through_its_series_changed_and_made_again`], the series moved
/// an hour later here; Keep mine on the occurrence removes that day, at its new time,
/// from the series made again, there and here.
#[test]
fn keep_mine_on_an_occurrence_after_its_series_was_moved_and_made_again_removes_that_day() {
    for sent in [true, false] {
        let h = Harness::new();
        let conflict =
            occurrence_waiting_through_its_series_changed_and_made_again(&h, sent, |input| {
                input.start = wall(h.first + TimeDelta::hours(1));
                input.end = wall(h.first + TimeDelta::hours(1) + TimeDelta::minutes(15));
            });
        resolve_conflict(&h.store, &conflict, &Choice::KeepMine, Utc::now()).expect("keep mine");
        h.run();
        h.run();
        assert_eq!(h.there(SERIES), 1);
        h.assert_quiet();
        let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
        let moved = h.first + TimeDelta::days(1) + TimeDelta::hours(1);
        assert_eq!(h.exdates_here(&master), vec![wall(moved)], "sent: {sent}");
        let rule = series_there(&h.cloud.state)["recurrence"].to_string();
        let day = moved.format("%Y%m%dT%H%M%S").to_string();
        assert!(rule.contains(&day), "sent: {sent}: {rule}");
        assert_eq!(h.there(CHANGED_THERE), 0, "sent: {sent}");
    }
}

/// The second occurrence changed on both sides (an edit/edit conflict on its title),
/// then the phone deletes the series and Keep mine on the series makes it again (a
/// new id there); the occurrence's conflict, answered `choice` after that, is
/// carried out on that day of the new series, there and here: `title`.
fn occurrence_in_conflict_answered_after_its_series_was_made_again(choice: &Choice, title: &str) {
    let h = Harness::new();
    let master_remote = h.series_changed_here();
    h.cloud
        .state
        .google_edit_event(
            EMAIL,
            "primary",
            &h.second_id(&master_remote),
            &json!({"summary": CHANGED_THERE}),
        )
        .expect("change the occurrence there");
    let s = h.run();
    assert_eq!(s.conflicts, 1, "{s:?}");
    let (on_occurrence, kind, _) = h.open_conflict();
    assert_eq!(kind, "edit_edit");
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    h.run();
    let open = h
        .store
        .lock()
        .expect("store")
        .conflicts(true)
        .expect("conflicts");
    let on_series = open
        .iter()
        .find(|c| c.id != on_occurrence)
        .expect("the series' conflict");
    assert_eq!(on_series.kind, "edit_delete");
    resolve_conflict(&h.store, &on_series.id, &Choice::KeepMine, Utc::now()).expect("keep mine");
    h.run();
    let made_again = series_there(&h.cloud.state)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert_ne!(made_again, master_remote);
    let answer = resolve_conflict(&h.store, &on_occurrence, choice, Utc::now()).expect("answer it");
    assert!(answer.pushes, "{answer:?}");
    h.run();
    h.run();
    h.assert_quiet();
    let other = if title == CHANGED_HERE {
        CHANGED_THERE
    } else {
        CHANGED_HERE
    };
    assert_eq!((h.there(title), h.there(other)), (1, 0), "there");
    assert_eq!(h.second_there(&made_again)["summary"], title);
    h.assert_occurrence(title);
    assert!(h.here(other).is_empty(), "here");
}

#[test]
fn keep_theirs_on_an_occurrence_in_conflict_after_its_series_was_made_again() {
    occurrence_in_conflict_answered_after_its_series_was_made_again(
        &Choice::KeepTheirs,
        CHANGED_THERE,
    );
}

#[test]
fn keep_mine_on_an_occurrence_in_conflict_after_its_series_was_made_again() {
    occurrence_in_conflict_answered_after_its_series_was_made_again(
        &Choice::KeepMine,
        CHANGED_HERE,
    );
}

/// The series' second occurrence deleted here, then the whole series, before either
/// went out; the phone gives the series a room meanwhile (or, `moved`, moves it an
/// hour later too): a delete/edit conflict on the series. Brought back — Keep theirs,
/// or a policy that prefers the provider — it has their change and still not that day
/// (at its new time), there and here: the series' deletion did not undo the day's
/// (simulation seed 22649: it came back with it, I1).
fn series_brought_back_keeps_a_day_removed_before(policy: Option<&str>, moved: bool) {
    let h = Harness::new();
    let master_remote = h.seed_series();
    h.run();
    if let Some(policy) = policy {
        h.set_policy(policy);
    }
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    h.delete_second_here(&master);
    h.delete_series_here(&master);
    let by = TimeDelta::hours(i64::from(moved));
    let change = json!({
        "location": "Room 9",
        "start": {"dateTime": (h.first + by).to_rfc3339(), "timeZone": "UTC"},
        "end": {"dateTime": (h.first + by + TimeDelta::minutes(15)).to_rfc3339(), "timeZone": "UTC"},
    });
    h.cloud
        .state
        .google_edit_event(EMAIL, "primary", &master_remote, &change)
        .expect("change the series there");
    let s = h.run();
    // (A conflict the policy settles is on record, not counted as open.)
    assert_eq!(s.conflicts, usize::from(policy.is_none()), "{s:?}");
    if policy.is_none() {
        let (conflict, kind, _) = h.open_conflict();
        assert_eq!(kind, "delete_edit");
        resolve_conflict(&h.store, &conflict, &Choice::KeepTheirs, Utc::now())
            .expect("keep theirs");
    }
    h.run();
    h.run();
    h.assert_quiet();
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series, back");
    let day = h.first + TimeDelta::days(1) + by;
    assert_eq!(h.exdates_here(&master), vec![wall(day)]);
    let series = series_there(&h.cloud.state);
    assert_eq!(series["location"], "Room 9", "{series}");
    let rule = series["recurrence"].to_string();
    assert!(
        rule.contains(&day.format("%Y%m%dT%H%M%S").to_string()),
        "{rule}"
    );
    if !moved {
        assert!(!second_live_there(&h, &master_remote), "{series}");
    }
}

#[test]
fn keep_theirs_on_a_series_deleted_here_keeps_a_day_removed_before() {
    series_brought_back_keeps_a_day_removed_before(None, false);
}

#[test]
fn keep_theirs_on_a_series_deleted_here_and_moved_there_keeps_a_day_removed_before() {
    series_brought_back_keeps_a_day_removed_before(None, true);
}

#[test]
fn a_series_brought_back_by_policy_keeps_a_day_removed_before() {
    series_brought_back_keeps_a_day_removed_before(Some("prefer_remote"), false);
}

/// A series whose second occurrence the phone changed, synced; then that occurrence
/// and the whole series deleted here. The series' provider id.
fn changed_day_and_series_deleted_here(h: &Harness) -> String {
    let master_remote = h.seed_series_changed_there();
    let [master] = <[String; 1]>::try_from(h.here(SERIES)).expect("the series");
    h.delete_second_here(&master);
    h.delete_series_here(&master);
    master_remote
}

/// A changed occurrence and then its whole series deleted here, and the series
/// deleted on the phone before either goes out: gone on both sides, the series takes
/// the occurrence's waiting deletion along (Google lists the instance cancelled with
/// its series, which settles nothing of its own) — no request goes for it, nothing
/// waits.
#[test]
fn a_changed_day_deleted_before_its_series_goes_with_the_series_deleted_on_both_sides() {
    let h = Harness::new();
    let master_remote = changed_day_and_series_deleted_here(&h);
    h.cloud
        .state
        .google_delete_event(EMAIL, "primary", &master_remote)
        .expect("delete the series there");
    let s = h.run();
    assert_eq!((s.pushed, s.conflicts), (0, 0), "{s:?}");
    let outbox = h.store.lock().expect("store").outbox(None).expect("outbox");
    assert!(outbox.is_empty(), "{outbox:?}");
    h.assert_quiet();
    assert!(h.here(SERIES).is_empty());
}

/// An occurrence the phone changed, deleted here, then its whole series, while the
/// phone renames the series just before the series' deletion goes out (a delete/edit
/// conflict); Keep theirs brings the series back without that day, there and here:
/// the day's deletion waited for the series', with the version the user had seen.
#[test]
fn a_changed_day_deleted_before_its_series_stays_deleted_when_the_series_comes_back() {
    let h = Harness::new();
    let master_remote = changed_day_and_series_deleted_here(&h);
    let meddled = h.meddled_at(
        Moment::BeforeDelete,
        master_remote.clone(),
        json!({"summary": "Daily stand-up, renamed on the phone"}),
    );
    h.run_with(&meddled);
    assert!(meddled.meddle.lock().expect("hook").is_none(), "renamed");
    let (conflict, kind, _) = h.open_conflict();
    assert_eq!(kind, "delete_edit");
    resolve_conflict(&h.store, &conflict, &Choice::KeepTheirs, Utc::now()).expect("answer");
    h.run();
    h.run();
    h.assert_quiet();
    assert!(!second_live_there(&h, &master_remote), "the provider");
    assert_eq!(h.there(CHANGED_THERE), 0);
    let [master] = <[String; 1]>::try_from(h.here("Daily stand-up, renamed on the phone"))
        .expect("the series here");
    assert_eq!(
        h.exdates_here(&master),
        vec![wall(h.first + TimeDelta::days(1))]
    );
}
