//! Model-based property test of two-way sync (issue 5, DESIGN §4 "Merge"): random
//! sequences of local and remote creates, edits and deletes, with sync runs between
//! them, played against the real store, the real engine and the real Google client on
//! the fake cloud, and against a reference model written from the rules alone:
//!
//! * one side changed since the last sync: that side wins; both sides changed different
//!   fields: both changes are kept, on both sides;
//! * the same field changed on both sides: an `edit_edit` conflict; until the user
//!   answers, this computer shows its own value for the conflicting field and every
//!   other change merged, and the provider keeps its version;
//! * deleted on one side, edited on the other: `delete_edit` / `edit_delete`, each side
//!   keeping what it has; deleted on one side, untouched on the other: gone;
//! * "keep mine" / "keep theirs" settle a conflict for one side; a calendar whose
//!   policy is "prefer local" / "prefer remote" settles it that way in the same run
//!   (except a local edit against a deletion at the provider: that stays open, I1),
//!   and "keep both" keeps the provider's version and makes this computer's a new
//!   event (for a deletion against an edit, the edit).
//!
//! Events are timed or all-day (civil dates), single or weekly series (edited and
//! deleted whole), created on either side.
//!
//! After every run, the titles and locations of the live events here and at the
//! provider, the kinds of the open conflicts, and the kinds of the conflicts the
//! policy settled (on record, resolved its way) must be what the model says; at the
//! end every conflict is answered and both sides must hold exactly the model's events.
//! Every value is written once (a counter), so the sets compare events one to one.
//! (The simulation next door checks invariants under faults; this checks outcomes.)

#[allow(dead_code)]
#[path = "../benches/sync/cloud.rs"]
mod cloud;

use std::sync::Mutex;

use almanac_model::{
    EditScope, EventChange, EventInput, EventTarget, Importance, Provider, RecurrenceInput, ShowAs,
};
use almanac_store::{SignedIn, Source, Store};
use almanac_sync::convert::from_row;
use almanac_sync::{resolve_conflict, sync_account, Choice, SyncOptions};
use chrono::{TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::json;

use cloud::{Cloud, EMAIL};

/// Title and location: the two fields the sequences edit.
type Fields = (String, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    EditEdit,
    EditDelete,
    DeleteEdit,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::EditEdit => "edit_edit",
            Kind::EditDelete => "edit_delete",
            Kind::DeleteEdit => "delete_edit",
        }
    }
}

/// One event as the model sees it.
#[derive(Debug, Clone, Default)]
struct Ev {
    base: Option<Fields>,
    local: Option<Fields>,
    remote: Option<Fields>,
    conflict: Option<Kind>,
    local_id: Option<String>,
    remote_id: Option<String>,
}

#[derive(Debug, Clone)]
enum Op {
    /// `all_day`: a day-long event (civil dates) instead of a timed one; `weekly`: a
    /// series of five (edits and deletes then apply to the whole series).
    CreateLocal {
        all_day: bool,
        weekly: bool,
    },
    CreateRemote {
        all_day: bool,
        weekly: bool,
    },
    EditLocal {
        pick: usize,
        location: bool,
    },
    EditRemote {
        pick: usize,
        location: bool,
    },
    DeleteLocal {
        pick: usize,
    },
    DeleteRemote {
        pick: usize,
    },
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (any::<bool>(), any::<bool>()).prop_map(|(all_day, weekly)| Op::CreateLocal { all_day, weekly }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(all_day, weekly)| Op::CreateRemote { all_day, weekly }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(pick, location)| Op::EditLocal { pick, location }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(pick, location)| Op::EditRemote { pick, location }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteLocal { pick }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteRemote { pick }),
        2 => Just(Op::Sync),
    ]
}

/// A calendar's conflict policy, as the model applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    Ask,
    PreferLocal,
    PreferRemote,
    KeepBoth,
}

impl Policy {
    fn as_str(self) -> &'static str {
        match self {
            Policy::Ask => "ask",
            Policy::PreferLocal => "prefer_local",
            Policy::PreferRemote => "prefer_remote",
            Policy::KeepBoth => "keep_both",
        }
    }

    /// How a conflict it settles is recorded resolved (`ask` settles none).
    fn resolution(self) -> &'static str {
        match self {
            Policy::Ask => "",
            Policy::PreferLocal => "keep_local",
            Policy::PreferRemote => "keep_remote",
            Policy::KeepBoth => "keep_both",
        }
    }
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        3 => Just(Policy::Ask),
        1 => Just(Policy::PreferLocal),
        1 => Just(Policy::PreferRemote),
        1 => Just(Policy::KeepBoth),
    ]
}

/// The model's outcome of one sync run for one event; a conflict the calendar's
/// policy settles is settled in the same run (keep both: the local version becomes a
/// new event, returned) and stays on record, settled (its kind returned).
fn sync_model(e: &mut Ev, policy: Policy) -> (Option<Ev>, Option<Kind>) {
    let before = e.local.clone();
    sync_presence(e);
    let Some(kind) = e.conflict else {
        return (None, None);
    };
    let copy = match (policy, kind) {
        // Never a local edit lost to a remote deletion without the user (I1): open.
        (Policy::Ask, _) | (Policy::PreferRemote, Kind::EditDelete) => return (None, None),
        (Policy::PreferLocal, _) | (Policy::KeepBoth, Kind::EditDelete) => {
            resolve_model(e, true);
            None
        }
        (Policy::PreferRemote, _) | (Policy::KeepBoth, Kind::DeleteEdit) => {
            resolve_model(e, false);
            None
        }
        (Policy::KeepBoth, Kind::EditEdit) => {
            // The provider's version stays; this computer's becomes a new event.
            e.conflict = None;
            e.local = e.remote.clone();
            e.base = e.remote.clone();
            Some(Ev {
                base: before.clone(),
                local: before.clone(),
                remote: before,
                ..Ev::default()
            })
        }
    };
    (copy, Some(kind))
}

/// Who created, deleted or edited the event, and the merge (DESIGN §4).
fn sync_presence(e: &mut Ev) {
    if e.conflict.is_some() {
        return; // held until the user answers
    }
    match (&e.base, &e.local, &e.remote) {
        (None, Some(l), None) => {
            e.remote = Some(l.clone());
            e.base = Some(l.clone());
        }
        (None, None, Some(r)) => {
            e.local = Some(r.clone());
            e.base = Some(r.clone());
        }
        (None, _, _) => {}
        (Some(_), None, None) => {}
        (Some(b), None, Some(r)) => {
            if r == b {
                e.remote = None;
            } else {
                e.conflict = Some(Kind::DeleteEdit);
            }
        }
        (Some(b), Some(l), None) => {
            if l == b {
                e.local = None;
            } else {
                e.conflict = Some(Kind::EditDelete);
            }
        }
        (Some(b), Some(l), Some(r)) => {
            let pick = |bf: &String, lf: &String, rf: &String| -> (String, bool) {
                match (lf != bf, rf != bf) {
                    (true, true) if lf != rf => (lf.clone(), true),
                    (true, _) => (lf.clone(), false),
                    (false, _) => (rf.clone(), false),
                }
            };
            let (title, c1) = pick(&b.0, &l.0, &r.0);
            let (location, c2) = pick(&b.1, &l.1, &r.1);
            let merged = (title, location);
            if c1 || c2 {
                e.conflict = Some(Kind::EditEdit);
                e.local = Some(merged); // conflicting fields: this computer's value
            } else {
                e.local = Some(merged.clone());
                e.remote = Some(merged.clone());
                e.base = Some(merged);
            }
        }
    }
}

/// The model's outcome of answering an event's conflict.
fn resolve_model(e: &mut Ev, mine: bool) {
    let Some(kind) = e.conflict.take() else {
        return;
    };
    match kind {
        Kind::EditEdit => {
            let (b, l, r) = (
                e.base.clone().unwrap_or_default(),
                e.local.clone().unwrap_or_default(),
                e.remote.clone().unwrap_or_default(),
            );
            let side = |bf: &String, lf: &String, rf: &String| -> String {
                match (lf != bf, rf != bf) {
                    (true, true) => {
                        if mine {
                            lf.clone()
                        } else {
                            rf.clone()
                        }
                    }
                    (true, false) => lf.clone(),
                    _ => rf.clone(),
                }
            };
            // `local` already shows the merge with this computer's conflicting values;
            // recompute from the provider's side for "theirs".
            let merged = (side(&b.0, &l.0, &r.0), side(&b.1, &l.1, &r.1));
            e.local = Some(merged.clone());
            e.remote = Some(merged.clone());
            e.base = Some(merged);
        }
        Kind::EditDelete => {
            if mine {
                e.remote = e.local.clone(); // given back to the provider as a new event
                e.base = e.local.clone();
            } else {
                e.local = None;
            }
        }
        Kind::DeleteEdit => {
            if mine {
                e.remote = None;
            } else {
                e.local = e.remote.clone();
                e.base = e.remote.clone();
            }
        }
    }
}

struct Harness {
    cloud: Cloud,
    rt: tokio::runtime::Runtime,
    store: Mutex<Store>,
    _dir: tempfile::TempDir,
    account: String,
    calendar: String,
    provider: almanac_google::GoogleCalendar,
    counter: u64,
    policy: Policy,
    evs: Vec<Ev>,
    /// The kinds of the conflicts the policy settled so far.
    settled: Vec<&'static str>,
    log: Vec<String>,
}

impl Harness {
    fn new(policy: Policy) -> Harness {
        let cloud = Cloud::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open_at(dir.path()).expect("open store");
        let (account, _) = store
            .record_sign_in(
                &SignedIn {
                    provider: Provider::Google,
                    subject: "https://accounts.google.com/model".into(),
                    email: EMAIL.into(),
                    display_name: "Model".into(),
                    authority: "https://accounts.google.com".into(),
                },
                Utc::now().timestamp(),
            )
            .expect("sign in");
        let provider = cloud.client();
        let mut h = Harness {
            cloud,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            store: Mutex::new(store),
            _dir: dir,
            account: account.id,
            calendar: String::new(),
            provider,
            counter: 0,
            policy,
            evs: Vec::new(),
            settled: Vec::new(),
            log: Vec::new(),
        };
        h.sync();
        let cals = h
            .store()
            .sync_calendars(Some(&h.account))
            .expect("calendars");
        h.calendar = cals
            .iter()
            .find(|c| c.is_primary)
            .map(|c| c.id.clone())
            .expect("the primary calendar is synced");
        h.store()
            .set_conflict_policy(&h.calendar, policy.as_str())
            .expect("set the policy");
        h.log.push(format!("policy {policy:?}"));
        h
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn sync(&mut self) {
        let opts = SyncOptions::default();
        let clock = || Utc::now();
        let s = self
            .rt
            .block_on(sync_account(
                &self.store,
                &self.provider,
                &self.account,
                &opts,
                &clock,
            ))
            .expect("sync run");
        assert_eq!(
            s.outcome,
            "ok",
            "run failed: {s:?}\n{}",
            self.log.join("\n")
        );
    }

    /// Events that exist on `side` (true: locally) and have no open conflict.
    fn pick(&self, pick: usize, local: bool) -> Option<usize> {
        let ok: Vec<usize> = (0..self.evs.len())
            .filter(|&i| {
                let e = &self.evs[i];
                e.conflict.is_none()
                    && if local {
                        e.local.is_some() && e.local_id.is_some()
                    } else {
                        e.remote.is_some() && e.remote_id.is_some()
                    }
            })
            .collect();
        (!ok.is_empty()).then(|| ok[pick % ok.len()])
    }

    fn input(&self, f: &Fields, slot: usize, all_day: bool, weekly: bool) -> EventInput {
        let start = Utc::now().date_naive() + TimeDelta::days(1 + slot as i64);
        let (start, end) = if all_day {
            (start.to_string(), (start + TimeDelta::days(1)).to_string())
        } else {
            (format!("{start}T09:00:00"), format!("{start}T10:00:00"))
        };
        EventInput {
            calendar_id: self.calendar.clone(),
            title: f.0.clone(),
            all_day,
            start,
            end,
            time_zone: "UTC".into(),
            recurrence: weekly.then(|| RecurrenceInput {
                rrule: "FREQ=WEEKLY;COUNT=5".into(),
                exdates: Vec::new(),
                rdates: Vec::new(),
            }),
            location: f.1.clone(),
            description: String::new(),
            show_as: ShowAs::Busy,
            importance: Importance::Normal,
            categories: Vec::new(),
        }
    }

    fn play(&mut self, op: &Op) {
        self.log.push(format!("{op:?}"));
        let now = Utc::now();
        match *op {
            Op::CreateLocal { all_day, weekly } => {
                let f = (self.fresh("L"), self.fresh("here-"));
                let input = self.input(&f, self.evs.len(), all_day, weekly);
                let view = self
                    .store()
                    .create_event(input, Source::Cli, now)
                    .expect("create here");
                self.evs.push(Ev {
                    local: Some(f),
                    local_id: Some(view.id),
                    ..Ev::default()
                });
            }
            Op::CreateRemote { all_day, weekly } => {
                let f = (self.fresh("R"), self.fresh("room-"));
                let day = Utc::now().date_naive() + TimeDelta::days(1 + self.evs.len() as i64);
                let (start, end) = if all_day {
                    (
                        json!({"date": day.to_string()}),
                        json!({"date": (day + TimeDelta::days(1)).to_string()}),
                    )
                } else {
                    (
                        json!({"dateTime": format!("{day}T09:00:00Z"), "timeZone": "UTC"}),
                        json!({"dateTime": format!("{day}T10:00:00Z"), "timeZone": "UTC"}),
                    )
                };
                let made = self
                    .cloud
                    .state
                    .google_seed_event(EMAIL, "primary", &{
                        let mut ev =
                            json!({"summary": f.0, "location": f.1, "start": start, "end": end});
                        if weekly {
                            ev["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=5"]);
                        }
                        ev
                    })
                    .expect("create at the provider");
                self.evs.push(Ev {
                    remote: Some(f),
                    remote_id: made["id"].as_str().map(str::to_owned),
                    ..Ev::default()
                });
            }
            Op::EditLocal { pick, location } => {
                let Some(i) = self.pick(pick, true) else {
                    return;
                };
                let v = self.fresh(if location { "here-" } else { "L" });
                let id = self.evs[i].local_id.clone().unwrap_or_default();
                let mut input = self.store().get_event(&id).expect("get here").input;
                let f = self.evs[i].local.as_mut().expect("live here");
                if location {
                    f.1 = v.clone();
                    input.location = v;
                } else {
                    f.0 = v.clone();
                    input.title = v;
                }
                self.store()
                    .update_event(
                        EventChange {
                            id,
                            scope: EditScope::All,
                            original_start: None,
                            input,
                        },
                        Source::Cli,
                        now,
                    )
                    .expect("edit here");
            }
            Op::EditRemote { pick, location } => {
                let Some(i) = self.pick(pick, false) else {
                    return;
                };
                let v = self.fresh(if location { "room-" } else { "R" });
                let id = self.evs[i].remote_id.clone().unwrap_or_default();
                let f = self.evs[i].remote.as_mut().expect("live there");
                let patch = if location {
                    f.1 = v.clone();
                    json!({"location": v})
                } else {
                    f.0 = v.clone();
                    json!({"summary": v})
                };
                self.cloud
                    .state
                    .google_edit_event(EMAIL, "primary", &id, &patch)
                    .expect("edit at the provider");
            }
            Op::DeleteLocal { pick } => {
                let Some(i) = self.pick(pick, true) else {
                    return;
                };
                let id = self.evs[i].local_id.clone().unwrap_or_default();
                self.store()
                    .delete_event(
                        EventTarget {
                            id,
                            scope: EditScope::All,
                            original_start: None,
                        },
                        Source::Cli,
                        now,
                    )
                    .expect("delete here");
                self.evs[i].local = None;
            }
            Op::DeleteRemote { pick } => {
                let Some(i) = self.pick(pick, false) else {
                    return;
                };
                let id = self.evs[i].remote_id.clone().unwrap_or_default();
                self.cloud
                    .state
                    .google_delete_event(EMAIL, "primary", &id)
                    .expect("delete at the provider");
                self.evs[i].remote = None;
            }
            Op::Sync => self.sync_and_check(),
        }
    }

    fn sync_and_check(&mut self) {
        self.sync();
        let mut copies = Vec::new();
        for e in &mut self.evs {
            let (copy, settled) = sync_model(e, self.policy);
            copies.extend(copy);
            self.settled.extend(settled.map(Kind::as_str));
        }
        self.evs.extend(copies);
        self.learn_ids();
        self.check();
    }

    /// Local ids of events that came down and remote ids of events that went up, found
    /// by their (unique) values.
    fn learn_ids(&mut self) {
        let local = self.local_events();
        let remote = self.remote_events();
        for e in &mut self.evs {
            if let Some(l) = &e.local {
                if let Some((id, _)) = local.iter().find(|(_, f)| f == l) {
                    e.local_id = Some(id.clone());
                }
            }
            if let Some(r) = &e.remote {
                if let Some((id, _)) = remote.iter().find(|(_, f)| f == r) {
                    e.remote_id = Some(id.clone());
                }
            }
        }
    }

    /// (local id, fields) of the live events here.
    fn local_events(&self) -> Vec<(String, Fields)> {
        let entries = self.store().sync_entries(&self.calendar).expect("entries");
        let mut out: Vec<(String, Fields)> = entries
            .into_iter()
            .filter_map(|e| {
                let row = e.row?;
                let ev = from_row(&row, None).expect("readable row");
                Some((e.local_id, (ev.title, ev.location)))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// (remote id, fields) of the live events at the provider.
    fn remote_events(&self) -> Vec<(String, Fields)> {
        let mut out: Vec<(String, Fields)> = self
            .cloud
            .state
            .google_events(EMAIL, "primary")
            .expect("remote events")
            .into_iter()
            .filter(|e| e["status"] != "cancelled")
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (s("id"), (s("summary"), s("location")))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    fn check(&self) {
        let trace = self.log.join("\n");
        let mut want_local: Vec<Fields> = self.evs.iter().filter_map(|e| e.local.clone()).collect();
        let mut want_remote: Vec<Fields> =
            self.evs.iter().filter_map(|e| e.remote.clone()).collect();
        want_local.sort();
        want_remote.sort();
        let got_local: Vec<Fields> = self.local_events().into_iter().map(|(_, f)| f).collect();
        let got_remote: Vec<Fields> = self.remote_events().into_iter().map(|(_, f)| f).collect();
        assert_eq!(
            got_local, want_local,
            "events here\n{trace}\nmodel: {:#?}",
            self.evs
        );
        assert_eq!(
            got_remote, want_remote,
            "events at the provider\n{trace}\nmodel: {:#?}",
            self.evs
        );
        let mut want_conflicts: Vec<&str> = self
            .evs
            .iter()
            .filter_map(|e| e.conflict.map(Kind::as_str))
            .collect();
        let mut got_conflicts: Vec<String> = self
            .store()
            .conflicts(true)
            .expect("conflicts")
            .into_iter()
            .map(|c| c.kind)
            .collect();
        want_conflicts.sort_unstable();
        got_conflicts.sort();
        assert_eq!(
            got_conflicts, want_conflicts,
            "open conflicts\n{trace}\nmodel: {:#?}",
            self.evs
        );
        // Every conflict the policy settled is on record, settled its way.
        let mut want_settled: Vec<(&str, &str)> = self
            .settled
            .iter()
            .map(|k| (*k, self.policy.resolution()))
            .collect();
        let mut got_settled: Vec<(String, String)> = self
            .store()
            .conflicts(false)
            .expect("conflicts")
            .into_iter()
            .filter(|c| c.resolved_by.as_deref() == Some("policy"))
            .map(|c| (c.kind, c.resolution.unwrap_or_default()))
            .collect();
        want_settled.sort_unstable();
        got_settled.sort();
        let got: Vec<(&str, &str)> = got_settled
            .iter()
            .map(|(k, r)| (k.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            got, want_settled,
            "conflicts settled by policy\n{trace}\nmodel: {:#?}",
            self.evs
        );
    }

    /// Answers every open conflict (`mine` picks the side per conflict, in turn) and
    /// syncs until both sides hold the model's events.
    fn settle(&mut self, mine: &[bool]) {
        let open = self.store().conflicts(true).expect("conflicts");
        for (n, c) in open.iter().enumerate() {
            let keep_mine = mine.get(n % mine.len().max(1)).copied().unwrap_or(true);
            let i = self
                .evs
                .iter()
                .position(|e| e.conflict.is_some() && e.local_id.as_deref() == Some(&c.event_id))
                .unwrap_or_else(|| {
                    panic!(
                        "conflict on {} not in the model\n{}",
                        c.event_id,
                        self.log.join("\n")
                    )
                });
            let choice = if keep_mine {
                Choice::KeepMine
            } else {
                Choice::KeepTheirs
            };
            self.log.push(format!("resolve {} with {choice:?}", c.kind));
            resolve_conflict(&self.store, &c.id, &choice, Utc::now()).expect("resolve");
            resolve_model(&mut self.evs[i], keep_mine);
        }
        self.sync();
        self.learn_ids();
        self.check();
        // Settled: another run changes nothing.
        self.sync();
        self.check();
        let local: Vec<Fields> = self.local_events().into_iter().map(|(_, f)| f).collect();
        let remote: Vec<Fields> = self.remote_events().into_iter().map(|(_, f)| f).collect();
        assert_eq!(local, remote, "both sides equal\n{}", self.log.join("\n"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("ALMANAC_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sync_outcomes_follow_the_model(
        policy in policy(),
        ops in prop::collection::vec(op(), 1..28),
        mine in prop::collection::vec(any::<bool>(), 1..6),
    ) {
        let mut h = Harness::new(policy);
        for op in &ops {
            h.play(op);
        }
        h.sync_and_check();
        h.settle(&mine);
    }
}
