//! `almanac sync`, `status`, `conflicts`, `log` end to end: the real binary against the
//! fake cloud (Google Calendar and Microsoft Graph), with tokens in a real Secret
//! Service. Each scenario of issue 5 that the CLI can drive: first sync, offline edits
//! pushed, both sides editing different fields, the same field, edit vs delete, a
//! calendar that suddenly lists empty, a sync token invalidated, throttling, a create
//! whose answer is lost, quiescence. Run under `scripts/with-keyring`.

use almanac_fakecloud::google_store::GoogleFaultsUpdate;
use almanac_fakecloud::{FakeCloud, SharedState};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

mod support;

use support::{fake_config, Env};

struct Sync {
    env: Env,
    state: SharedState,
    email: String,
    _cloud: FakeCloud,
}

/// Day `d`'s wall time `hm` in Berlin as the instant it is (the offset depends on
/// the season).
fn in_berlin(d: &str, hm: &str) -> chrono::DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(&format!("{d}T{hm}"), "%Y-%m-%dT%H:%M")
        .expect("wall time")
        .and_local_timezone(chrono_tz::Europe::Berlin)
        .single()
        .expect("one instant")
        .with_timezone(&Utc)
}

/// A day inside the sync window, as `YYYY-MM-DD`.
fn day(offset: i64) -> String {
    (Utc::now() + Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

impl Sync {
    async fn google() -> Self {
        Self::start("google").await
    }

    /// A fake cloud and a data directory with one account of `provider` signed in.
    async fn start(provider: &str) -> Self {
        let cloud = FakeCloud::start().await.expect("fake cloud");
        let state = cloud.state();
        let env = Env::new(&fake_config(&cloud.base_url()));
        let account = tokio::task::block_in_place(|| {
            env.json(&["--json", "accounts", "add", provider, "--timeout", "60"])
        });
        let email = account["email"].as_str().expect("email").to_owned();
        Self {
            env,
            state,
            email,
            _cloud: cloud,
        }
    }

    /// One `almanac sync --json`; the account's summary.
    fn sync(&self) -> Value {
        let o = tokio::task::block_in_place(|| self.env.run(&["--json", "sync"]));
        let out: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| {
            panic!(
                "sync printed no JSON: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
        out[0].clone()
    }

    /// One more `almanac sync` that finds nothing to pull or push.
    fn assert_quiet(&self) {
        let quiet = self.sync();
        assert_eq!(
            (&quiet["pulled"], &quiet["pushed"]),
            (&json!(0), &json!(0)),
            "{quiet}"
        );
    }

    /// `almanac ARGS…` without `--json`: (stdout, exit code).
    fn human(&self, args: &[&str]) -> (String, Option<i32>) {
        let o = tokio::task::block_in_place(|| self.env.run(args));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            o.status.code(),
        )
    }

    fn cli(&self, args: &[&str]) -> Value {
        tokio::task::block_in_place(|| {
            let mut full = vec!["--json"];
            full.extend_from_slice(args);
            self.env.json(&full)
        })
    }

    /// Local occurrences over the next two weeks (and the last one).
    fn local(&self) -> Vec<Value> {
        let v = self.cli(&[
            "--tz",
            "UTC",
            "events",
            "list",
            "--from",
            &day(-7),
            "--to",
            &day(14),
        ]);
        v.as_array().expect("list").clone()
    }

    /// `almanac --json --tz UTC events ARGS…`.
    fn events(&self, args: &[&str]) -> Value {
        let mut full = vec!["--tz", "UTC", "events"];
        full.extend_from_slice(args);
        self.cli(&full)
    }

    /// `almanac --json --tz UTC events add` into calendar `cal`, with `more` arguments
    /// (`--rrule …`); the new event.
    fn add_event(&self, cal: &str, title: &str, start: &str, end: &str, more: &[&str]) -> Value {
        let mut args = vec![
            "--tz",
            "UTC",
            "events",
            "add",
            "--calendar",
            cal,
            "--title",
            title,
            "--start",
            start,
            "--end",
            end,
        ];
        args.extend_from_slice(more);
        self.cli(&args)
    }

    /// Renames the occurrence of `series` at `at` (a wall time in UTC, or a date) here.
    fn rename_occurrence(&self, series: &str, at: &str, title: &str) {
        self.events(&["edit", series, "--occurrence", at, "--title", title]);
    }

    /// (title, start) of the local occurrences, in order.
    fn titles_and_starts(&self) -> Vec<(String, String)> {
        self.local()
            .iter()
            .map(|o| {
                let t = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
                (t("title"), t("start"))
            })
            .collect()
    }

    /// One sync that ends `ok` with `conflicts` new conflicts.
    fn sync_ok(&self, conflicts: u64) -> Value {
        let run = self.sync();
        assert_eq!(
            (&run["outcome"], &run["conflicts"]),
            (&json!("ok"), &json!(conflicts)),
            "{run}"
        );
        run
    }

    fn local_titled(&self, title: &str) -> Vec<Value> {
        self.local()
            .into_iter()
            .filter(|o| o["title"] == title)
            .collect()
    }

    fn remote(&self) -> Vec<Value> {
        self.state
            .google_events(&self.email, "primary")
            .expect("events")
            .into_iter()
            .filter(|e| e["status"] != "cancelled")
            .collect()
    }

    fn remote_titled(&self, title: &str) -> Vec<Value> {
        self.remote()
            .into_iter()
            .filter(|e| e["summary"] == title)
            .collect()
    }

    fn seed(&self, title: &str, offset: i64, hour: u32) -> Value {
        let d = day(offset);
        self.state
            .google_seed_event(
                &self.email,
                "primary",
                &json!({
                    "summary": title,
                    "location": "Room 1",
                    "start": {"dateTime": format!("{d}T{hour:02}:00:00Z"), "timeZone": "UTC"},
                    "end": {"dateTime": format!("{d}T{:02}:00:00Z", hour + 1), "timeZone": "UTC"},
                }),
            )
            .expect("seed")
    }

    /// "Office hours", daily at 13:00 UTC for four days from tomorrow, seeded at
    /// Google and synced: the provider's master and the local series' id.
    fn office_hours(&self) -> (Value, String) {
        self.series_at_google("Office hours", "13:00", "14:00", "COUNT=4")
    }

    /// A daily series `title` from tomorrow, `from`–`to` UTC, ending `end` (`COUNT=…`),
    /// seeded at Google and synced: the provider's master and the local series' id.
    fn series_at_google(&self, title: &str, from: &str, to: &str, end: &str) -> (Value, String) {
        let d = day(1);
        let master = self
            .state
            .google_seed_event(
                &self.email,
                "primary",
                &json!({
                    "summary": title,
                    "start": {"dateTime": format!("{d}T{from}:00Z"), "timeZone": "UTC"},
                    "end": {"dateTime": format!("{d}T{to}:00Z"), "timeZone": "UTC"},
                    "recurrence": [format!("RRULE:FREQ=DAILY;{end}")],
                }),
            )
            .expect("seed");
        self.sync();
        let series = self.local_titled(title)[0]["eventId"]
            .as_str()
            .expect("id")
            .to_owned();
        (master, series)
    }

    /// [`Self::office_hours`], then here the occurrence of day 2 renamed "Office hours
    /// (mine)" and that of day 3 removed, neither sent, while the series moves to
    /// 15:00 at Google: the provider's series id and the local series' id.
    fn office_hours_moved_under_changes(&self) -> (String, String) {
        let (master, series) = self.office_hours();
        let (d1, d2, d3) = (day(1), day(2), day(3));
        self.rename_occurrence(&series, &format!("{d2}T13:00"), "Office hours (mine)");
        self.events(&["rm", &series, "--occurrence", &format!("{d3}T13:00")]);
        let id = master["id"].as_str().expect("id").to_owned();
        self.edit_remote(
            &id,
            json!({
                "start": {"dateTime": format!("{d1}T15:00:00Z"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d1}T16:00:00Z"), "timeZone": "UTC"},
            }),
        );
        (id, series)
    }

    fn edit_remote(&self, id: &str, patch: Value) {
        self.state
            .google_edit_event(&self.email, "primary", id, &patch)
            .expect("edit");
    }

    fn faults(&self, f: Value) {
        let f: GoogleFaultsUpdate = serde_json::from_value(f).expect("faults");
        self.state.google_set_faults(f).expect("set faults");
    }

    fn writes(&self) -> u64 {
        let s = self.state.google_calendar_stats();
        [
            "events.insert",
            "events.update",
            "events.patch",
            "events.delete",
        ]
        .iter()
        .map(|r| s.requests.get(*r).copied().unwrap_or(0))
        .sum()
    }

    fn primary_calendar(&self) -> String {
        let cals = self.cli(&["calendars", "list"]);
        cals.as_array()
            .expect("calendars")
            .iter()
            .find(|c| c["accountId"].is_string() && c["isPrimary"] == true)
            .and_then(|c| c["id"].as_str())
            .expect("synced primary calendar")
            .to_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_two_way_sync_merges_conflicts_and_converges() {
    let s = Sync::google().await;
    let standup = s.seed("Standup", 1, 9);
    let review = s.seed("Review", 2, 14);
    let retro = s.seed("Retro", 3, 16);

    // First sync: every event comes down once; nothing goes up.
    let first = s.sync();
    assert_eq!(first["outcome"], "ok", "{first}");
    assert_eq!(first["pulled"], 3, "{first}");
    assert_eq!(s.writes(), 0);
    assert_eq!(s.local_titled("Standup").len(), 1);
    let cal = s.primary_calendar();

    // Quiescence (I4): nothing changed, nothing written anywhere.
    let again = s.sync();
    assert_eq!(
        (again["pulled"].clone(), again["pushed"].clone()),
        (json!(0), json!(0)),
        "{again}"
    );
    assert_eq!(s.writes(), 0);

    // An edit made offline is pushed on the next sync, with If-Match.
    let local_standup = s.local_titled("Standup")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&[
        "events",
        "edit",
        &local_standup,
        "--title",
        "Standup (moved)",
    ]);
    let pushed = s.sync();
    assert_eq!(pushed["pushed"], 1, "{pushed}");
    assert_eq!(s.remote_titled("Standup (moved)").len(), 1);
    assert!(s.remote_titled("Standup").is_empty());
    // The echo of our own write is no work.
    let echo = s.sync();
    assert_eq!(
        (echo["pulled"].clone(), echo["pushed"].clone()),
        (json!(0), json!(0)),
        "{echo}"
    );

    // Both sides change different fields: merged, and the merge goes up.
    let review_id = review["id"].as_str().expect("id");
    let local_review = s.local_titled("Review")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["events", "edit", &local_review, "--location", "Room 7"]);
    s.edit_remote(review_id, json!({"summary": "Review (agenda)"}));
    let merged = s.sync();
    assert_eq!(merged["conflicts"], 0, "{merged}");
    let remote = s.remote_titled("Review (agenda)");
    assert_eq!(remote.len(), 1, "{:?}", s.remote());
    assert_eq!(remote[0]["location"], "Room 7");
    let local = s.local_titled("Review (agenda)");
    assert_eq!(local.len(), 1);
    assert_eq!(local[0]["location"], "Room 7");

    // The same field on both sides: a conflict; nothing is pushed for it meanwhile.
    let retro_id = retro["id"].as_str().expect("id");
    let local_retro = s.local_titled("Retro")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["events", "edit", &local_retro, "--title", "Retro (mine)"]);
    s.edit_remote(retro_id, json!({"summary": "Retro (theirs)"}));
    let writes_before = s.writes();
    let clash = s.sync();
    assert_eq!(clash["conflicts"], 1, "{clash}");
    assert_eq!(s.writes(), writes_before, "a conflicted event was pushed");
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().expect("list").len(), 1, "{open}");
    let conflict_id = open[0]["id"].as_str().expect("id").to_owned();
    let shown = s.cli(&["conflicts", "show", &conflict_id]);
    let fields: Value =
        serde_json::from_str(shown["fields"].as_str().expect("fields")).expect("json");
    assert_eq!(fields[0]["field"], "title", "{fields}");
    assert_eq!(fields[0]["local"], "Retro (mine)");
    assert_eq!(fields[0]["remote"], "Retro (theirs)");
    // A run while it is open records it once, not again.
    let quiet = s.sync();
    assert_eq!(quiet["conflicts"], 0, "{quiet}");
    // Keep mine: it goes up on the next sync, and the conflict never fires again.
    let resolved = s.cli(&["conflicts", "resolve", &conflict_id, "--keep", "local"]);
    assert_eq!(resolved["pushes"], true);
    let after = s.sync();
    assert_eq!(after["conflicts"], 0, "{after}");
    assert_eq!(s.remote_titled("Retro (mine)").len(), 1, "{:?}", s.remote());
    assert!(s
        .cli(&["conflicts", "list"])
        .as_array()
        .expect("list")
        .is_empty());
    let twice = tokio::task::block_in_place(|| {
        s.env.run(&[
            "--json",
            "conflicts",
            "resolve",
            &conflict_id,
            "--keep",
            "remote",
        ])
    });
    assert_eq!(twice.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&twice.stderr).expect("error json");
    assert_eq!(err["code"], "invalid_input", "{err}");

    // Edit here vs delete there: a conflict that keeps the edit; keeping it sends it
    // again as a new event.
    let local_standup = s.local_titled("Standup (moved)")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["events", "edit", &local_standup, "--location", "Hall"]);
    s.state
        .google_delete_event(&s.email, "primary", standup["id"].as_str().expect("id"))
        .expect("delete");
    let gone = s.sync();
    assert_eq!(gone["conflicts"], 1, "{gone}");
    assert_eq!(
        s.local_titled("Standup (moved)").len(),
        1,
        "the local edit was lost"
    );
    let c = s.cli(&["conflicts", "list"]);
    assert_eq!(c[0]["kind"], "edit_delete", "{c}");
    // An edit against a deletion has no fields to pick: refused, nothing changed.
    let picked = tokio::task::block_in_place(|| {
        s.env.run(&[
            "conflicts",
            "resolve",
            c[0]["id"].as_str().expect("id"),
            "--field",
            "location=local",
        ])
    });
    assert_eq!(picked.status.code(), Some(1));
    let err = String::from_utf8_lossy(&picked.stderr);
    assert!(err.contains("no fields to pick"), "{err}");
    assert_eq!(s.cli(&["conflicts", "list"]), c);
    s.cli(&[
        "conflicts",
        "resolve",
        c[0]["id"].as_str().expect("id"),
        "--keep",
        "local",
    ]);
    s.sync();
    let back = s.remote_titled("Standup (moved)");
    assert_eq!(back.len(), 1, "{:?}", s.remote());
    assert_eq!(back[0]["location"], "Hall");

    // The whole history is readable.
    let log = s.cli(&["log", "--limit", "50"]);
    let actions: Vec<&Value> = log
        .as_array()
        .expect("log")
        .iter()
        .flat_map(|r| r["actions"].as_array().expect("actions"))
        .collect();
    assert!(actions.iter().any(|a| a["action"] == "merged"));
    assert!(actions.iter().any(|a| a["action"] == "conflict"));
    assert!(actions.iter().any(|a| a["direction"] == "push"));
    // Each update sent names what it changed ("Retro (mine)" kept: the title).
    let sent: Vec<Vec<String>> = actions
        .iter()
        .filter(|a| a["direction"] == "push" && a["action"] == "updated")
        .map(|a| serde_json::from_str(a["fields"].as_str().unwrap_or("[]")).expect("fields"))
        .collect();
    assert!(
        !sent.is_empty() && sent.iter().all(|f| !f.is_empty()),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|f| f.contains(&"title".to_owned())),
        "{sent:?}"
    );
    let status = s.cli(&["status"]);
    assert!(status[0]["lastSuccessAt"].is_number(), "{status}");
    assert_eq!(status[0]["pendingPushes"], 0, "{status}");
    let _ = cal;
    let check = s.cli(&["db", "check"]);
    assert_eq!(check["ok"], true);
    s.env.assert_no_leak();
}

/// The local event id of the one occurrence titled `title`.
fn event_id(s: &Sync, title: &str) -> String {
    let found = s.local_titled(title);
    assert_eq!(found.len(), 1, "{title}: {:?}", s.local());
    found[0]["eventId"].as_str().expect("id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_the_calendar_policy_settles_stays_on_record() {
    let s = Sync::google().await;
    let plan = s.seed("Plan", 1, 9);
    let sync_up = s.seed("Sync-up", 2, 11);
    assert_eq!(s.sync()["outcome"], "ok");
    let cal = s.primary_calendar();
    s.cli(&["calendars", "policy", &cal, "prefer-remote"]);
    let cals = s.cli(&["calendars", "list"]);
    let primary = cals
        .as_array()
        .expect("calendars")
        .iter()
        .find(|c| c["id"] == cal.as_str())
        .expect("the primary calendar");
    assert_eq!(primary["conflictPolicy"], "prefer_remote", "{cals}");
    assert_eq!(
        cals[0]["conflictPolicy"],
        Value::Null,
        "On this computer: {cals}"
    );
    let human = tokio::task::block_in_place(|| s.env.run(&["calendars", "list"]));
    assert!(
        String::from_utf8_lossy(&human.stdout).contains("(primary, conflicts: prefer_remote)"),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );

    // Prefer remote: the provider's title wins, my disjoint change still goes up, and
    // my title stays in a settled conflict record — nobody is asked.
    let mine = event_id(&s, "Plan");
    s.cli(&[
        "events",
        "edit",
        &mine,
        "--title",
        "Plan (mine)",
        "--location",
        "Room 9",
    ]);
    s.edit_remote(
        plan["id"].as_str().expect("id"),
        json!({"summary": "Plan (theirs)"}),
    );
    let run = s.sync();
    assert_eq!(
        run["conflicts"], 0,
        "a settled conflict counts as new: {run}"
    );
    let local = s.local_titled("Plan (theirs)");
    assert_eq!(local.len(), 1, "{:?}", s.local());
    assert_eq!(local[0]["location"], "Room 9");
    let remote = s.remote_titled("Plan (theirs)");
    assert_eq!(remote.len(), 1, "{:?}", s.remote());
    assert_eq!(remote[0]["location"], "Room 9");
    assert!(s
        .cli(&["conflicts", "list"])
        .as_array()
        .expect("list")
        .is_empty());
    let all = s.cli(&["conflicts", "list", "--all"]);
    let all = all.as_array().expect("list");
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(
        (
            &all[0]["kind"],
            &all[0]["resolution"],
            &all[0]["resolvedBy"]
        ),
        (&json!("edit_edit"), &json!("keep_remote"), &json!("policy")),
        "{all:?}"
    );
    assert!(all[0]["resolvedAt"].is_number(), "{all:?}");
    let kept: Value =
        serde_json::from_str(all[0]["local"].as_str().expect("local version")).expect("json");
    assert_eq!(
        kept["title"], "Plan (mine)",
        "the version given up is on record"
    );
    let human = tokio::task::block_in_place(|| s.env.run(&["conflicts", "list", "--all"]));
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(
        human.contains("settled by the calendar's policy: keep_remote"),
        "{human}"
    );
    let log = s.cli(&["log", "--limit", "1"]);
    let reasons: Vec<&str> = log[0]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "conflict")
        .filter_map(|a| a["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 1, "{log}");
    assert!(reasons[0].contains("prefer the provider"), "{reasons:?}");

    // Keep both: the provider's version stays, mine becomes an event of its own.
    s.cli(&["calendars", "policy", &cal, "keep-both"]);
    let mine = event_id(&s, "Sync-up");
    s.cli(&["events", "edit", &mine, "--title", "Sync-up (mine)"]);
    s.edit_remote(
        sync_up["id"].as_str().expect("id"),
        json!({"summary": "Sync-up (theirs)"}),
    );
    let run = s.sync();
    assert_eq!(run["conflicts"], 0, "{run}");
    s.sync(); // the copy goes up
    assert_eq!(
        s.remote_titled("Sync-up (theirs)").len(),
        1,
        "{:?}",
        s.remote()
    );
    assert_eq!(
        s.remote_titled("Sync-up (mine)").len(),
        1,
        "{:?}",
        s.remote()
    );
    assert_eq!(s.local_titled("Sync-up (mine)").len(), 1);
    let all = s.cli(&["conflicts", "list", "--all"]);
    let settled: Vec<&Value> = all
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["resolution"] == "keep_both")
        .collect();
    assert_eq!(settled.len(), 1, "{all}");
    assert_eq!(settled[0]["resolvedBy"], "policy");
    s.assert_quiet();
    s.env.assert_no_leak();
}

/// An event changed here and changed back before a sync: the provider has this
/// version already, so nothing is sent (no needless write there, no "updated" mail
/// to its guests), and the log says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_taken_back_before_a_sync_sends_nothing() {
    let s = Sync::google().await;
    let plan = s.seed("Plan", 1, 9);
    s.sync();
    let id = event_id(&s, "Plan");
    s.cli(&["events", "edit", &id, "--title", "Plan B"]);
    s.cli(&["events", "edit", &id, "--title", "Plan"]);
    let run = s.sync_ok(0);
    assert_eq!(run["pushed"], 0, "{run}");
    let there = s.remote_titled("Plan");
    assert_eq!(there.len(), 1);
    assert_eq!(there[0]["etag"], plan["etag"], "written again: {there:?}");
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
    let log = log_actions(&s);
    let said = log
        .iter()
        .any(|a| a["action"] == "kept" && a["eventId"] == id.as_str());
    assert!(said, "{log:?}");
    s.assert_quiet();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_creates_land_once_even_when_the_answer_is_lost() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(4);
    s.add_event(
        &cal,
        "Customer call",
        &format!("{d}T11:00"),
        &format!("{d}T12:00"),
        &[],
    );
    // The insert takes effect but its answer never arrives.
    s.faults(
        json!({"add": [{"kind": "drop_connection", "route": "events.insert", "processed": true}]}),
    );
    s.sync();
    s.sync();
    s.sync();
    assert_eq!(
        s.remote_titled("Customer call").len(),
        1,
        "{:?}",
        s.remote()
    );
    assert_eq!(s.local_titled("Customer call").len(), 1);
    let status = s.cli(&["status"]);
    assert_eq!(status[0]["pendingPushes"], 0, "{status}");
    // Throttling: a storm of 429s and 503s is waited out, nothing lost or doubled.
    let d2 = day(5);
    s.add_event(
        &cal,
        "QBR",
        &format!("{d2}T11:00"),
        &format!("{d2}T12:00"),
        &[],
    );
    s.faults(json!({"add": [
        {"kind": "error", "status": 429, "count": 3, "retry_after_secs": 1},
        {"kind": "error", "status": 503, "count": 2}
    ]}));
    let mut last = Value::Null;
    for _ in 0..4 {
        last = s.sync();
        if last["outcome"] == "ok" {
            break;
        }
    }
    assert_eq!(last["outcome"], "ok", "{last}");
    assert_eq!(s.remote_titled("QBR").len(), 1);
    assert_eq!(s.local_titled("QBR").len(), 1);
}

/// A create whose answer never comes, not even on the run's retries, is taken for the
/// provider's event by the next run's pull. The reminder the event took there (the
/// calendar's default; Almanac chose none) stays: it was sent back as "none".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_linked_by_the_next_pull_keeps_the_providers_default_reminder() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(4);
    s.add_event(
        &cal,
        "Renewal call",
        &format!("{d}T11:00"),
        &format!("{d}T12:00"),
        &[],
    );
    s.faults(json!({"add": [{"kind": "drop_connection", "route": "events.insert", "processed": true, "count": 50}]}));
    let failed = s.sync();
    assert_ne!(failed["outcome"], "ok", "{failed}");
    s.faults(json!({"clear": true}));
    let there = s.remote_titled("Renewal call");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert_eq!(there[0]["reminders"], json!({"useDefault": true}));
    // Linked: nothing of ours is left to send.
    let linked = s.sync_ok(0);
    assert_eq!(linked["pushed"], 0, "{linked}");
    s.assert_quiet();
    let there = s.remote_titled("Renewal call");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert_eq!(
        there[0]["reminders"],
        json!({"useDefault": true}),
        "{there:?}"
    );
    let here = s.local_titled("Renewal call");
    assert_eq!(here.len(), 1);
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
    // The log says the link took the provider's reminder.
    let log = log_actions(&s);
    let linked: Vec<&Value> = log
        .iter()
        .filter(|a| a["action"] == "linked" && a["eventId"] == here[0]["eventId"])
        .collect();
    assert_eq!(linked.len(), 1, "{log:?}");
    assert!(
        linked[0]["fields"]
            .as_str()
            .is_some_and(|f| f.contains("\"reminder\"")),
        "{log:?}"
    );
}

/// A create whose answer never came, changed at Google before the next pull found it
/// there: the pull merges against what was sent, so the change made there is taken
/// and the one made here since goes out; the same field changed on both sides is a
/// conflict. Neither side's edit is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_linked_by_the_next_pull_keeps_what_changed_there_since() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(4);
    // Created here, its answer lost on every attempt of the run; then changed on
    // both sides before the next run.
    let lost_create = |title: &str, hour: u32| {
        s.add_event(
            &cal,
            title,
            &format!("{d}T{hour}:00"),
            &format!("{d}T{}:00", hour + 1),
            &[],
        );
        s.faults(json!({"add": [{"kind": "drop_connection", "route": "events.insert", "processed": true, "count": 50}]}));
        let failed = s.sync();
        assert_ne!(failed["outcome"], "ok", "{failed}");
        s.faults(json!({"clear": true}));
        let there = s.remote_titled(title);
        assert_eq!(there.len(), 1, "{:?}", s.remote());
        let here = s.local_titled(title)[0]["eventId"]
            .as_str()
            .expect("id")
            .to_owned();
        (there[0]["id"].as_str().expect("id").to_owned(), here)
    };

    // A room booked there, the title changed here: both kept, on both sides.
    let (there, here) = lost_create("Renewal call", 11);
    s.edit_remote(&there, json!({"location": "Room 7"}));
    s.cli(&["events", "edit", &here, "--title", "Renewal call (Acme)"]);
    let linked = s.sync_ok(0);
    assert_eq!(linked["pushed"], 1, "{linked}");
    let remote = s.remote_titled("Renewal call (Acme)");
    assert_eq!(remote.len(), 1, "{:?}", s.remote());
    assert_eq!(remote[0]["location"], "Room 7", "{remote:?}");
    let local = s.local_titled("Renewal call (Acme)");
    assert_eq!(local.len(), 1, "{:?}", s.local());
    assert_eq!(local[0]["location"], "Room 7", "{local:?}");
    s.assert_quiet();

    // Renamed on both sides: a conflict, theirs kept there until the user decides.
    let (there, here) = lost_create("Kickoff", 14);
    s.edit_remote(&there, json!({"summary": "Kickoff (theirs)"}));
    s.cli(&["events", "edit", &here, "--title", "Kickoff (mine)"]);
    s.sync_ok(1);
    assert_eq!(
        s.remote_titled("Kickoff (theirs)").len(),
        1,
        "{:?}",
        s.remote()
    );
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["kind"], "edit_edit", "{open}");
    let shown = s.cli(&["conflicts", "show", open[0]["id"].as_str().expect("id")]);
    let fields: Value =
        serde_json::from_str(shown["fields"].as_str().expect("fields")).expect("json");
    assert_eq!(
        (&fields[0]["field"], &fields[0]["base"]),
        (&json!("title"), &json!("Kickoff")),
        "{fields}"
    );
    assert_eq!(fields.as_array().map(Vec::len), Some(1), "{fields}");
    let id = open[0]["id"].as_str().expect("id");
    s.cli(&["conflicts", "resolve", id, "--keep", "local"]);
    s.sync_ok(0);
    assert_eq!(
        s.remote_titled("Kickoff (mine)").len(),
        1,
        "{:?}",
        s.remote()
    );
    assert_eq!(s.local_titled("Kickoff (mine)").len(), 1);
    s.assert_quiet();

    // Deleted there, changed here, before the next pull: the retried insert meets
    // Google's `duplicate` for an event since deleted. Kept here; the user decides.
    let (there, here) = lost_create("Onboarding", 16);
    s.state
        .google_delete_event(&s.email, "primary", &there)
        .expect("delete");
    s.cli(&["events", "edit", &here, "--location", "Room 9"]);
    s.sync_ok(1);
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(
        (&open[0]["kind"], &open[0]["eventId"]),
        (&json!("edit_delete"), &json!(here)),
        "{open}"
    );
    assert_eq!(s.local_titled("Onboarding").len(), 1);
    assert!(s.remote_titled("Onboarding").is_empty(), "{:?}", s.remote());
    let log = s.cli(&["log", "--limit", "1"]);
    assert!(
        log[0]["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["action"] == "conflict"
                && a["reason"] == "Created here, but the provider's copy was deleted since."),
        "{log}"
    );
    let id = open[0]["id"].as_str().expect("id");
    s.cli(&["conflicts", "resolve", id, "--keep", "local"]);
    s.sync_ok(0);
    let remote = s.remote_titled("Onboarding");
    assert_eq!(remote.len(), 1, "{:?}", s.remote());
    assert_eq!(remote[0]["location"], "Room 9", "{remote:?}");
    assert_eq!(s.local_titled("Onboarding").len(), 1);
    s.assert_quiet();
}

/// A 409 on a create that is not Google's `duplicate` (its `conflict`, for one) says
/// nothing of a copy deleted there: the create is refused and reported, kept here
/// and sent again once changed, never turned into a question about a deletion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_another_409_on_a_create_is_a_refusal_not_a_deletion() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(4);
    let id = s.add_event(
        &cal,
        "QBR",
        &format!("{d}T11:00"),
        &format!("{d}T12:00"),
        &[],
    )["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.faults(json!({"add": [{"kind": "error", "route": "events.insert", "status": 409, "reason": "conflict", "count": 1}]}));
    let run = s.sync();
    assert_eq!(
        (&run["outcome"], &run["conflicts"]),
        (&json!("partial"), &json!(0)),
        "{run}"
    );
    assert!(
        run["calendars"][0]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with(
                "Google refused the change as conflicting with the item's current state."
            )),
        "{run}"
    );
    assert!(s
        .cli(&["conflicts", "list"])
        .as_array()
        .expect("list")
        .is_empty());
    assert_eq!(s.local_titled("QBR").len(), 1);
    assert!(s.remote_titled("QBR").is_empty(), "{:?}", s.remote());
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 1);
    s.faults(json!({"clear": true}));
    s.cli(&["events", "edit", &id, "--location", "Room 7"]);
    let sent = s.sync_ok(0);
    assert_eq!(sent["pushed"], 1, "{sent}");
    let there = s.remote_titled("QBR");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert_eq!(there[0]["location"], "Room 7", "{there:?}");
    s.assert_quiet();
}

/// The provider names the UID of what is imported into its calendar; the file's UID
/// (or, for an event without one, its details) still finds the event, before its
/// first sync and after it, so importing the file again makes no copies there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_imported_twice_into_an_account_calendar_lands_once() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let (d1, d2) = (day(2).replace('-', ""), day(3).replace('-', ""));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("invite.ics");
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
             BEGIN:VEVENT\r\nUID:renewal-1@example.com\r\nSUMMARY:Renewal\r\n\
             DTSTART:{d1}T100000Z\r\nDTEND:{d1}T110000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nSUMMARY:Site visit\r\nDTSTART:{d2}T090000Z\r\n\
             DTEND:{d2}T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    let import = || s.cli(&["import", "--ics", &path, "--calendar", &cal]);
    let first = import();
    assert_eq!(
        first["created"].as_array().map(Vec::len),
        Some(2),
        "{first}"
    );
    let again = import();
    assert_eq!(again["created"], json!([]), "{again}");
    s.sync_ok(0);
    let renewal = s.remote_titled("Renewal");
    assert_eq!(renewal.len(), 1, "{:?}", s.remote());
    assert_ne!(
        renewal[0]["iCalUID"], "renewal-1@example.com",
        "{renewal:?}"
    );
    let again = import();
    assert_eq!(again["created"], json!([]), "{again}");
    assert_eq!(
        again["skippedExisting"].as_array().map(Vec::len),
        Some(2),
        "{again}"
    );
    s.assert_quiet();
    assert_eq!(s.remote().len(), 2, "{:?}", s.remote());
    assert_eq!(s.local_titled("Renewal").len(), 1);
    assert_eq!(s.local_titled("Site visit").len(), 1);
}

/// A file's `CLASS:PRIVATE` event imported into an account's calendar goes out
/// private: read as public, it was shown to everyone the calendar is shared with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_event_imported_into_an_account_calendar_stays_private() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d1 = day(2).replace('-', "");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("private.ics");
    std::fs::write(
        &file,
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
             BEGIN:VEVENT\r\nUID:doctor-1@example.com\r\nSUMMARY:Doctor\r\nCLASS:PRIVATE\r\n\
             DTSTART:{d1}T100000Z\r\nDTEND:{d1}T110000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:review-1@example.com\r\nSUMMARY:Review\r\nCLASS:PUBLIC\r\n\
             DTSTART:{d1}T120000Z\r\nDTEND:{d1}T130000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    )
    .expect("write");
    let path = file.to_string_lossy().into_owned();
    s.cli(&["import", "--ics", &path, "--calendar", &cal]);
    s.sync_ok(0);
    let doctor = s.remote_titled("Doctor");
    assert_eq!(doctor.len(), 1, "{:?}", s.remote());
    assert_eq!(doctor[0]["visibility"], "private", "{doctor:?}");
    let review = s.remote_titled("Review");
    assert_ne!(review[0]["visibility"], "private", "{review:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_empty_listing_stops_and_a_reset_token_relists_without_duplicates() {
    let s = Sync::google().await;
    let seeded: Vec<Value> = (0..12)
        .map(|i| s.seed(&format!("Visit {i}"), 1 + i % 5, 8 + (i % 8) as u32))
        .collect();
    let first = s.sync();
    assert_eq!(first["pulled"], 12, "{first}");
    // The log shows a run's first changes and says how to see them all.
    let (log, _) = s.human(&["log", "--limit", "1", "--changes", "5"]);
    let created = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("  pull created"))
            .count()
    };
    assert_eq!(created(&log), 5, "{log}");
    let run_id = s.cli(&["log", "--limit", "1"])[0]["run"]["id"].to_string();
    assert!(
        log.contains(&format!(
            "(12 changes; the first 5: `almanac log --run {run_id}`"
        )),
        "{log}"
    );
    let (whole, _) = s.human(&["log", "--run", &run_id]);
    assert_eq!(created(&whole), 12, "{whole}");
    let (_, code) = s.human(&["log", "--run", "999999"]);
    assert_eq!(code, Some(1));
    let cal = s.primary_calendar();

    // A sync token invalidated: the next run re-lists and reconciles by id, keeping an
    // unpushed local create; nothing is duplicated.
    let d = day(6);
    s.add_event(
        &cal,
        "Offline note",
        &format!("{d}T07:00"),
        &format!("{d}T07:30"),
        &[],
    );
    s.state
        .google_invalidate_sync_tokens(&s.email, Some("primary"))
        .expect("invalidate");
    let relisted = s.sync();
    assert_eq!(relisted["outcome"], "ok", "{relisted}");
    for i in 0..12 {
        assert_eq!(
            s.local_titled(&format!("Visit {i}")).len(),
            1,
            "Visit {i} twice or gone"
        );
    }
    assert_eq!(s.remote_titled("Offline note").len(), 1);
    assert_eq!(s.local_titled("Offline note").len(), 1);

    // Everything vanishes at the provider at once: the calendar stops, nothing is
    // deleted locally, and the user is told.
    for e in &seeded {
        s.state
            .google_delete_event(&s.email, "primary", e["id"].as_str().expect("id"))
            .expect("delete");
    }
    let held = s.sync();
    assert_eq!(held["outcome"], "partial", "{held}");
    assert!(
        held["calendars"][0]["held"]["wouldDelete"].as_u64() >= Some(12),
        "{held}"
    );
    assert_eq!(s.local().len(), 13, "the guard let deletions through");
    let status = s.cli(&["status"]);
    assert_eq!(
        status[0]["heldCalendars"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    // Still held on the next run.
    s.sync();
    assert_eq!(s.local().len(), 13);
    // The user confirms: the deletions apply.
    s.cli(&["calendars", "confirm-deletions", &cal]);
    let applied = s.sync();
    assert_eq!(applied["outcome"], "ok", "{applied}");
    assert_eq!(s.local().len(), 1, "{:?}", s.local());
    assert_eq!(s.local_titled("Offline note").len(), 1);
}

/// [`Sync`] with a Microsoft account: the Graph side's seeding, edits and listing.
struct GraphSync(Sync);

impl std::ops::Deref for GraphSync {
    type Target = Sync;
    fn deref(&self) -> &Sync {
        &self.0
    }
}

impl GraphSync {
    async fn start() -> Self {
        GraphSync(Sync::start("microsoft").await)
    }

    fn seed(&self, event: Value) -> Value {
        let seed = serde_json::from_value(json!({"email": self.email, "event": event}))
            .expect("seed spec");
        self.state.graph_seed_event(seed).expect("seed")
    }

    fn edit(&self, id: &str, patch: Value) {
        let edit = serde_json::from_value(json!({"email": self.email, "id": id, "patch": patch}))
            .expect("edit spec");
        self.state.graph_edit_event(edit).expect("edit");
    }

    /// "Team sync", daily at 10:00 UTC for four days from tomorrow, seeded in Outlook
    /// and synced: the provider's master and the local series' id.
    fn team_sync(&self) -> (Value, String) {
        let d = day(1);
        let master = self.seed(json!({
            "subject": "Team sync",
            "start": {"dateTime": format!("{d}T10:00:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d}T10:30:00"), "timeZone": "UTC"},
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": d, "numberOfOccurrences": 4}
            }
        }));
        self.sync();
        let series = self.local_titled("Team sync")[0]["eventId"]
            .as_str()
            .expect("id")
            .to_owned();
        (master, series)
    }

    /// The id of the instance Outlook shows on day `d` (`YYYY-MM-DD`, UTC).
    fn instance_on(&self, d: &str) -> String {
        let from = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight");
        let shown = self
            .state
            .graph_instances(&self.email, from, from + Duration::days(1))
            .expect("instances");
        shown["value"][0]["id"].as_str().expect("id").to_owned()
    }

    /// The ids of the instances titled `title` Outlook shows from yesterday on, for
    /// ten days.
    fn shown_titled(&self, title: &str) -> Vec<String> {
        let from = (Utc::now() - Duration::days(1)).naive_utc();
        let shown = self
            .state
            .graph_instances(&self.email, from, from + Duration::days(10))
            .expect("instances");
        shown["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter(|e| e["subject"] == title)
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    }

    fn remote(&self) -> Vec<Value> {
        self.state.graph_events(&self.email).expect("events")["value"]
            .as_array()
            .expect("value")
            .clone()
    }
}

/// The same at Outlook, which keeps a description as HTML: a create whose answer never
/// came, a room booked there, the title and the description changed here — all of it
/// kept, no conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_linked_by_the_next_pull_keeps_what_changed_in_outlook_since() {
    let g = GraphSync::start().await;
    g.sync();
    let cal = g.primary_calendar();
    let d = day(4);
    let agenda = ["--description", "Agenda:\nPricing\nNext steps"];
    g.add_event(
        &cal,
        "Contract renewal",
        &format!("{d}T10:00"),
        &format!("{d}T11:00"),
        &agenda,
    );
    let faults = |f: Value| {
        let f = serde_json::from_value(f).expect("faults");
        g.state.graph_set_faults(f).expect("set faults");
    };
    faults(json!({"add": [{
        "kind": "drop_connection",
        "method": "POST",
        "path_contains": "/events",
        "after_processing": true,
        "count": 50,
    }]}));
    let failed = g.sync();
    assert_ne!(failed["outcome"], "ok", "{failed}");
    faults(json!({"clear": true}));
    let made: Vec<Value> = g
        .remote()
        .into_iter()
        .filter(|e| e["subject"] == "Contract renewal")
        .collect();
    assert_eq!(made.len(), 1, "{:?}", g.remote());
    let id = made[0]["id"].as_str().expect("id");
    g.edit(id, json!({"location": {"displayName": "Room 7"}}));
    let here = g.local_titled("Contract renewal");
    let here = here[0]["eventId"].as_str().expect("id");
    g.cli(&[
        "events",
        "edit",
        here,
        "--title",
        "Contract renewal (Acme)",
        "--description",
        "Agenda:\nPricing\nNext steps\nSign-off",
    ]);
    g.sync_ok(0);
    let there: Vec<Value> = g.remote().into_iter().filter(|e| e["id"] == id).collect();
    assert_eq!(there.len(), 1, "{:?}", g.remote());
    assert_eq!(
        (&there[0]["subject"], &there[0]["location"]["displayName"]),
        (&json!("Contract renewal (Acme)"), &json!("Room 7")),
        "{there:?}"
    );
    let body = there[0]["body"]["content"].as_str().unwrap_or_default();
    assert!(body.contains("Sign-off"), "{body}");
    let local = g.local_titled("Contract renewal (Acme)");
    assert_eq!(local.len(), 1, "{:?}", g.local());
    assert_eq!(local[0]["location"], "Room 7", "{local:?}");
    g.assert_quiet();
}

/// Outlook keeps a description written here as HTML, a line break as `<br>` and a
/// line end: read back, that is the same text, so the event settles after its create
/// (it went out again on every sync). So does one whose blank lines come back fewer:
/// the same words are the same description.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_of_several_lines_settles_at_outlook() {
    let g = GraphSync::start().await;
    g.sync();
    let cal = g.primary_calendar();
    let d = day(3);
    let agenda = ["--description", "Agenda:\nPricing\n\n\nNext steps"];
    g.add_event(
        &cal,
        "Pricing review",
        &format!("{d}T10:00"),
        &format!("{d}T11:00"),
        &agenda,
    );
    let made = g.sync_ok(0);
    assert_eq!(made["pushed"], 1, "{made}");
    g.assert_quiet();
    let there: Vec<Value> = g
        .remote()
        .into_iter()
        .filter(|e| e["subject"] == "Pricing review")
        .collect();
    let body = there[0]["body"]["content"].as_str().unwrap_or_default();
    assert!(body.contains("Pricing<br>"), "{body}");
}

/// An all-day series kept in Berlin: Outlook gives each day's `originalStart` as the
/// instant that day began there (the evening before, in UTC). A day renamed in
/// Outlook comes here on its own day, and a day renamed here goes to that day's
/// instance there — read as their UTC dates, each was the day before: the renamed
/// day showed beside its series' own, and an edit here changed the next day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_an_all_day_series_in_berlin_keeps_each_change_on_its_day() {
    let g = GraphSync::start().await;
    let (d1, d2, d3, d4) = (day(1), day(2), day(3), day(4));
    let berlin = "W. Europe Standard Time";
    g.seed(json!({
        "subject": "Offsite",
        "isAllDay": true,
        "start": {"dateTime": format!("{d1}T00:00:00"), "timeZone": berlin},
        "end": {"dateTime": format!("{d2}T00:00:00"), "timeZone": berlin},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": d1, "numberOfOccurrences": 3,
                      "recurrenceTimeZone": berlin}
        }
    }));
    g.sync_ok(0);
    let series = g.local_titled("Offsite")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    // Outlook's instances, by the day each starts on.
    let there = || -> Vec<(String, String, String)> {
        let from = chrono::NaiveDate::parse_from_str(&d1, "%Y-%m-%d")
            .expect("date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            - Duration::days(1);
        let shown = g
            .state
            .graph_instances(&g.email, from, from + Duration::days(6))
            .expect("instances");
        let mut out: Vec<(String, String, String)> = shown["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|e| {
                let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                let start = s(&e["start"]["dateTime"]);
                (start[..10].to_owned(), s(&e["subject"]), s(&e["id"]))
            })
            .collect();
        out.sort();
        out
    };
    let second = there()
        .into_iter()
        .find(|(d, ..)| *d == d2)
        .expect("the second day there")
        .2;
    g.edit(&second, json!({"subject": "Offsite (Outlook)"}));
    g.sync_ok(0);
    let here = |title: &str| -> Vec<String> {
        g.local_titled(title)
            .iter()
            .map(|o| o["start"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        here("Offsite (Outlook)"),
        vec![d2.clone()],
        "{:?}",
        g.local()
    );
    assert_eq!(here("Offsite"), [d1.clone(), d3.clone()], "{:?}", g.local());
    g.rename_occurrence(&series, &d3, "Offsite (here)");
    g.sync_ok(0);
    let titles: Vec<(String, String)> = there().into_iter().map(|(d, t, _)| (d, t)).collect();
    assert_eq!(
        titles,
        [
            (d1.clone(), "Offsite".to_owned()),
            (d2.clone(), "Offsite (Outlook)".to_owned()),
            (d3.clone(), "Offsite (here)".to_owned()),
        ],
        "(no {d4})"
    );
    g.assert_quiet();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_series_and_singles_sync_both_ways() {
    let g = GraphSync::start().await;
    let d = day(1);
    let series = g.seed(json!({
        "subject": "Daily check-in",
        "start": {"dateTime": format!("{d}T09:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{d}T09:15:00"), "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": d, "numberOfOccurrences": 5}
        }
    }));
    let single = g.seed(json!({
        "subject": "Renewal call",
        "start": {"dateTime": format!("{}T15:00:00", day(2)), "timeZone": "UTC"},
        "end": {"dateTime": format!("{}T16:00:00", day(2)), "timeZone": "UTC"},
    }));

    let first = g.sync();
    assert_eq!(first["outcome"], "ok", "{first}");
    // The series comes down as one repeating event: five occurrences, one master.
    let checkins = g.local_titled("Daily check-in");
    assert_eq!(checkins.len(), 5, "{checkins:?}");
    assert!(checkins.iter().all(|o| o["recurring"] == true));
    assert_eq!(g.local_titled("Renewal call").len(), 1);
    g.assert_quiet();

    // The series renamed in Outlook: every occurrence follows.
    g.edit(
        series["id"].as_str().expect("id"),
        json!({"subject": "Daily stand-up"}),
    );
    g.sync();
    assert_eq!(g.local_titled("Daily stand-up").len(), 5);
    assert!(g.local_titled("Daily check-in").is_empty());

    // A local edit of the whole series goes up as a PATCH of the master.
    let master = g.local_titled("Daily stand-up")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    g.cli(&["events", "edit", &master, "--location", "Teams room"]);
    let pushed = g.sync();
    assert_eq!(pushed["pushed"], 1, "{pushed}");
    let remote_master = g
        .remote()
        .into_iter()
        .find(|e| e["id"] == series["id"])
        .expect("master");
    assert_eq!(
        remote_master["location"]["displayName"], "Teams room",
        "{remote_master}"
    );

    // Same field on both sides of the single event: a conflict; keep theirs.
    let local_single = g.local_titled("Renewal call")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    g.cli(&[
        "events",
        "edit",
        &local_single,
        "--title",
        "Renewal call (prep)",
    ]);
    g.edit(
        single["id"].as_str().expect("id"),
        json!({"subject": "Renewal call (moved)"}),
    );
    let clash = g.sync();
    assert_eq!(clash["conflicts"], 1, "{clash}");
    let open = g.cli(&["conflicts", "list"]);
    g.cli(&[
        "conflicts",
        "resolve",
        open[0]["id"].as_str().expect("id"),
        "--keep",
        "remote",
    ]);
    g.sync();
    assert_eq!(g.local_titled("Renewal call (moved)").len(), 1);
    assert!(g.local_titled("Renewal call (prep)").is_empty());

    // Deleted in Outlook: gone here too.
    let delete =
        serde_json::from_value(json!({"email": g.email, "id": single["id"]})).expect("delete spec");
    g.state.graph_delete_event(delete).expect("delete");
    let gone = g.sync();
    assert_eq!(gone["outcome"], "ok", "{gone}");
    assert!(g.local_titled("Renewal call (moved)").is_empty());
    assert_eq!(g.cli(&["db", "check"])["ok"], true);
}

/// A series made here with an occurrence removed (`--exdate` as the README spells it)
/// reaches the provider and then stays quiet: no conflict with the provider's own
/// record of the removal (Graph cancels it after the create, and its answer to the
/// create predates that), no push on every run (Google answers the date in full).
fn a_series_with_a_removed_date_settles(s: &Sync, outlook_shows: Option<&dyn Fn() -> usize>) {
    s.sync();
    let cal = s.primary_calendar();
    let (start, end) = (format!("{}T08:00", day(1)), format!("{}T08:30", day(1)));
    let removed = format!("{}T08:00", day(2));
    s.add_event(
        &cal,
        "Ex",
        &start,
        &end,
        &["--rrule", "FREQ=DAILY;COUNT=5", "--exdate", &removed],
    );
    let mut pushes = Vec::new();
    for _ in 0..4 {
        let run = s.sync();
        assert_eq!(run["conflicts"], 0, "{run}");
        pushes.push(run["pushed"].as_u64().unwrap_or(99));
    }
    // Both take it in the first run: Google at once, Graph the series and then the
    // removal (the instance's deletion; the series read again, not sent a third time).
    // Then nothing.
    assert_eq!(pushes[1..], [0, 0, 0], "{pushes:?}");
    assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
    assert_eq!(s.local_titled("Ex").len(), 4);

    // One more removed, then every other day: the first removed date is no
    // occurrence of the new rule (the series keeps it; it removes nothing), the
    // second still is. Outlook drops a series' cancellations when its pattern
    // changes, and lists only cancelled occurrences: the first has no place there
    // (its answer without it is no rest to send on every run), the second is
    // cancelled again after the new pattern — in the same run.
    let id = s.local_titled("Ex")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    let third = format!("{}T08:00", day(3));
    s.cli(&["events", "rm", &id, "--occurrence", &third]);
    // Reported as pushed, and in the log, also where it is the instance's deletion
    // (Graph) and the series is read back rather than sent.
    let run = s.sync();
    assert_eq!(run["pushed"], 1, "{run}");
    let log = s.cli(&["log", "--limit", "1"]);
    let pushed: Vec<&Value> = log[0]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["direction"] == "push" && a["eventId"] == id.as_str())
        .collect();
    assert_eq!(pushed.len(), 1, "{log}");
    s.cli(&[
        "events",
        "edit",
        &id,
        "--rrule",
        "FREQ=DAILY;INTERVAL=2;COUNT=3",
    ]);
    let mut pushes = Vec::new();
    for _ in 0..3 {
        let run = s.sync();
        assert_eq!(run["conflicts"], 0, "{run}");
        pushes.push(run["pushed"].as_u64().unwrap_or(99));
    }
    // At Outlook the new pattern, then the occurrence cancelled again (nothing for
    // the idle date); at Google the series with its EXDATEs.
    let expected = if outlook_shows.is_some() { 2 } else { 1 };
    assert_eq!(pushes, [expected, 0, 0]);
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
    let left: Vec<Value> = s.local_titled("Ex");
    assert_eq!(left.len(), 2, "{left:?}");
    if let Some(shown) = outlook_shows {
        assert_eq!(shown(), 2, "the provider shows the series as it is here");
    }

    // New times: the removed occurrence moves with the series (see `series_edit`),
    // and Outlook, which drops its cancellations again, has it cancelled again in
    // the same run.
    let (start, end) = (format!("{}T09:00", day(1)), format!("{}T09:30", day(1)));
    let moved = s.cli(&[
        "--tz", "UTC", "events", "edit", &id, "--start", &start, "--end", &end,
    ]);
    // (The date that removes nothing is gone from the series at Outlook, which has no
    // place for it.)
    assert_eq!(
        moved["input"]["recurrence"]["exdates"]
            .as_array()
            .map(Vec::len),
        Some(if outlook_shows.is_some() { 1 } else { 2 }),
        "{moved}"
    );
    let mut pushes = Vec::new();
    for _ in 0..3 {
        let run = s.sync();
        assert_eq!(run["conflicts"], 0, "{run}");
        pushes.push(run["pushed"].as_u64().unwrap_or(99));
    }
    assert_eq!(pushes, [expected, 0, 0]);
    assert_eq!(s.local_titled("Ex").len(), 2);
    if let Some(shown) = outlook_shows {
        assert_eq!(shown(), 2, "the provider shows the series as it is here");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_made_here_with_a_removed_date_settles_at_both_providers() {
    let graph = GraphSync::start().await;
    a_series_with_a_removed_date_settles(&graph, Some(&|| graph.shown_titled("Ex").len()));
    // (Google keeps the removed dates in the series' rule as they are sent.)
    a_series_with_a_removed_date_settles(&Sync::google().await, None);
}

/// Runs `almanac daemon` for `secs`, then SIGTERM; returns its stdout and exit code.
fn daemon_for(s: &Sync, secs: u64) -> (String, Option<i32>) {
    let child = s
        .env
        .command(&["daemon", "--interval", "10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start daemon");
    std::thread::sleep(std::time::Duration::from_secs(secs));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

/// While the daemon holds the data directory, the commands that only look still
/// work (they read beside it); those that write say who holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_log_and_conflicts_read_while_the_daemon_runs() {
    let s = Sync::google().await;
    s.seed("Onboarding", 1, 10);
    let child = s
        .env
        .command(&["daemon", "--interval", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start daemon");
    let run = |args: &[&str]| tokio::task::block_in_place(|| s.env.run(args));
    let started = std::time::Instant::now();
    loop {
        let o = run(&["--json", "status"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let status: Value = serde_json::from_slice(&o.stdout).expect("json");
        if status[0]["lastSuccessAt"].is_number() {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "no run: {status}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for args in [
        &["log"][..],
        &["conflicts", "list"],
        &["accounts", "list"],
        &["calendars", "list"],
        &["db", "check"],
    ] {
        let o = run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let listed = String::from_utf8_lossy(&run(&["log"]).stdout).into_owned();
    // The daemon's first run brought "Onboarding" here: read beside it, the run
    // naming its account and the change its event.
    assert!(
        listed.contains("  pull created \"Onboarding\" "),
        "{listed}"
    );
    assert!(
        listed.contains(&format!(" {} (Google): ok — ", s.email)),
        "{listed}"
    );
    // Its next run is planned, and said.
    let status = String::from_utf8_lossy(&run(&["status"]).stdout).into_owned();
    assert!(status.contains("; next: "), "{status}");
    let add = run(&[
        "events",
        "add",
        "--title",
        "x",
        "--start",
        "2026-12-01T09:00",
    ]);
    assert_eq!(add.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&add.stderr).contains("already running"),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_syncs_backs_off_and_stops_gracefully() {
    let s = Sync::google().await;
    s.seed("Onboarding", 1, 10);
    let (out, code) = tokio::task::block_in_place(|| daemon_for(&s, 4));
    assert_eq!(code, Some(0), "{out}");
    // Named by address, not by an id nobody knows.
    assert!(
        out.contains(&format!("{} (Google): ok — 1 pulled", s.email)),
        "{out}"
    );
    assert_eq!(s.local_titled("Onboarding").len(), 1);

    // The provider fails: one attempt, then the loop backs off (the first wait is at
    // least 15 s) instead of hammering it; the failure is said in plain words.
    s.faults(json!({"add": [{"kind": "error", "status": 503, "count": 100}]}));
    let before = s
        .state
        .google_calendar_stats()
        .requests
        .get("calendarList.list")
        .copied()
        .unwrap_or(0);
    let (out, code) = tokio::task::block_in_place(|| daemon_for(&s, 6));
    assert_eq!(code, Some(0), "{out}");
    let after = s
        .state
        .google_calendar_stats()
        .requests
        .get("calendarList.list")
        .copied()
        .unwrap_or(0);
    // One run (the HTTP client's own retries included), not one per second.
    assert!(
        after - before <= 6,
        "{} calendar list requests in 6 s",
        after - before
    );
    assert!(
        out.contains("failed") || out.contains("unavailable"),
        "{out}"
    );
    let status = s.cli(&["status"]);
    assert!(status[0]["lastErrorMessage"].is_string(), "{status}");
    assert!(status[0]["failures"].as_i64() >= Some(1), "{status}");
    let (said, _) = s.human(&["status"]);
    assert!(
        said.contains(": Sync failing — tried again by itself"),
        "{said}"
    );
    // The loop said when it comes back: backing off, at least 15 s after it tried.
    let next = status[0]["nextSyncAt"].as_i64().expect("next run recorded");
    let tried = status[0]["lastAttemptAt"]
        .as_i64()
        .expect("attempt recorded");
    assert!(next >= tried + 15, "{status}");
}

/// The daemon says why a calendar stopped, and what to do, as `almanac sync` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_says_why_a_calendar_stopped() {
    let s = Sync::google().await;
    // Enough for the guard (at least 10, more than half of the calendar).
    let seeded: Vec<Value> = (0..12)
        .map(|i| s.seed(&format!("Visit {i}"), 1 + i64::from(i % 3), 8 + i % 4))
        .collect();
    s.sync();
    for e in &seeded {
        s.state
            .google_delete_event(&s.email, "primary", e["id"].as_str().expect("id"))
            .expect("delete");
    }
    let (out, code) = tokio::task::block_in_place(|| daemon_for(&s, 4));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("partial"), "{out}");
    assert!(
        out.contains("would delete 12 of its 12 events")
            && out.contains("almanac calendars confirm-deletions"),
        "{out}"
    );
    assert_eq!(s.local().len(), 12, "the guard let deletions through");
    // The daemon has ended: no next run is shown as if one were planned. The
    // account waits for the user, not for time.
    let (status, _) = s.human(&["status"]);
    assert!(
        !status.contains("next:") && status.contains("no daemon or desktop app is running"),
        "{status}"
    );
    assert!(
        status.contains("Stopped — a calendar waits for you"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_large_sync_then_restart_converges() {
    let s = Sync::google().await;
    for i in 0..240 {
        s.seed(&format!("Site visit {i:03}"), i % 12, 6 + (i % 12) as u32);
    }
    // Small pages: many page commits for the kills to land between.
    s.faults(json!({"page_size": 10}));
    let cal_before = s.cli(&["calendars", "list"]);
    let _ = cal_before;
    for (round, delay_ms) in [150u64, 300, 450, 700, 1000, 1500].into_iter().enumerate() {
        let child = s
            .env
            .command(&["--json", "sync"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start sync");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let mut child = child;
        let _ = child.wait();
        // Between kills, a local edit too: it must survive and go up.
        if round == 2 {
            let cal = s.primary_calendar();
            let d = day(3);
            s.add_event(
                &cal,
                "Written mid-sync",
                &format!("{d}T05:00"),
                &format!("{d}T05:30"),
                &[],
            );
        }
        let check = s.cli(&["db", "check"]);
        assert_eq!(check["ok"], true, "after kill {round}: {check}");
    }
    // The kills landed inside runs (their rows stay unfinished), not between them.
    let log = s.cli(&["log", "--limit", "20"]);
    let cut = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|r| r["run"]["outcome"].is_null())
        .count();
    assert!(cut >= 3, "only {cut} runs were cut short: {log}");
    let mut last = Value::Null;
    for _ in 0..3 {
        last = s.sync();
        if last["outcome"] == "ok" && last["pulled"] == 0 && last["pushed"] == 0 {
            break;
        }
    }
    assert_eq!(last["outcome"], "ok", "{last}");
    let local = s.local();
    let mut titles: Vec<String> = local
        .iter()
        .map(|o| o["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    let before = titles.len();
    titles.dedup();
    assert_eq!(before, titles.len(), "duplicates after the kills");
    assert_eq!(titles.len(), 241, "{} events locally", titles.len());
    assert_eq!(
        s.remote().len(),
        241,
        "{} events at Google",
        s.remote().len()
    );
    assert_eq!(s.remote_titled("Written mid-sync").len(), 1);
    assert_eq!(s.cli(&["db", "check"])["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_exception_moved_remotely_while_the_series_is_edited_locally() {
    let s = Sync::google().await;
    let d = day(1);
    let master = s
        .state
        .google_seed_event(
            &s.email,
            "primary",
            &json!({
                "summary": "Pipeline review",
                "start": {"dateTime": format!("{d}T08:00:00Z"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d}T08:30:00Z"), "timeZone": "UTC"},
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
            }),
        )
        .expect("seed");
    s.sync();
    assert_eq!(s.local_titled("Pipeline review").len(), 5);

    // Here: the whole series gets a room. There: the third instance moves to 15:00.
    let series = s.local_titled("Pipeline review")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["events", "edit", &series, "--location", "Room 12"]);
    let third = day(3).replace('-', "");
    let instance_id = format!("{}_{third}T080000Z", master["id"].as_str().expect("id"));
    let d3 = day(3);
    s.edit_remote(
        &instance_id,
        json!({
            "start": {"dateTime": format!("{d3}T15:00:00Z"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d3}T15:30:00Z"), "timeZone": "UTC"},
        }),
    );
    let run = s.sync();
    assert_eq!(run["conflicts"], 0, "{run}");
    // No phantom and no lost instance: five, the moved one at its new time.
    let local = s.local_titled("Pipeline review");
    assert_eq!(local.len(), 5, "{local:?}");
    assert!(
        local.iter().any(|o| o["start"]
            .as_str()
            .is_some_and(|t| t.starts_with(&format!("{d3}T15:00")))),
        "{local:?}"
    );
    assert!(
        !local.iter().any(|o| o["start"]
            .as_str()
            .is_some_and(|t| t.starts_with(&format!("{d3}T08:00")))),
        "the moved instance is also at its old time: {local:?}"
    );
    // The series' room went up; the moved instance stays moved at Google.
    let events = s.state.google_events(&s.email, "primary").expect("events");
    let m = events
        .iter()
        .find(|e| e["id"] == master["id"])
        .expect("master");
    assert_eq!(m["location"], "Room 12", "{m}");
    let moved = events
        .iter()
        .find(|e| e["id"] == instance_id.as_str())
        .expect("exception");
    assert!(
        moved["start"]["dateTime"]
            .as_str()
            .is_some_and(|t| t.contains("T15:00")),
        "{moved}"
    );
    s.assert_quiet();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_occurrence_changed_or_removed_here_goes_to_both_providers() {
    // Google: the instance is updated in place; a removed one becomes an EXDATE.
    let s = Sync::google().await;
    let (master, series) = s.office_hours();
    let d2 = day(2);
    let d3 = day(3);
    s.cli(&[
        "--tz",
        "UTC",
        "events",
        "edit",
        &series,
        "--occurrence",
        &format!("{d2}T13:00"),
        "--title",
        "Office hours (extended)",
    ]);
    s.cli(&[
        "--tz",
        "UTC",
        "events",
        "rm",
        &series,
        "--occurrence",
        &format!("{d3}T13:00"),
    ]);
    let run = s.sync();
    assert_eq!(run["outcome"], "ok", "{run}");
    let events = s.state.google_events(&s.email, "primary").expect("events");
    let instance = format!(
        "{}_{}T130000Z",
        master["id"].as_str().expect("id"),
        d2.replace('-', "")
    );
    let changed = events
        .iter()
        .find(|e| e["id"] == instance.as_str())
        .expect("the changed instance");
    assert_eq!(changed["summary"], "Office hours (extended)", "{changed}");
    let m = events
        .iter()
        .find(|e| e["id"] == master["id"])
        .expect("master");
    let rules = m["recurrence"].to_string();
    assert!(
        rules.contains("EXDATE") && rules.contains(&d3.replace('-', "")),
        "{rules}"
    );
    s.assert_quiet();
    assert_eq!(s.local_titled("Office hours").len(), 2);
    assert_eq!(s.local_titled("Office hours (extended)").len(), 1);

    // Graph: the occurrence is PATCHed; a removed one is deleted on its own.
    let g = GraphSync::start().await;
    let (gseries, local_series) = g.team_sync();
    g.cli(&[
        "--tz",
        "UTC",
        "events",
        "edit",
        &local_series,
        "--occurrence",
        &format!("{d2}T10:00"),
        "--title",
        "Team sync (demo)",
    ]);
    g.cli(&[
        "--tz",
        "UTC",
        "events",
        "rm",
        &local_series,
        "--occurrence",
        &format!("{d3}T10:00"),
    ]);
    let run = g.sync();
    assert_eq!(run["outcome"], "ok", "{run}");
    // The removed occurrence is cancelled in the series (the changed one is checked
    // from a fresh computer below).
    let remote_master = g
        .remote()
        .into_iter()
        .find(|e| e["id"] == gseries["id"])
        .expect("master");
    assert_eq!(
        remote_master["cancelledOccurrences"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{remote_master}"
    );
    g.assert_quiet();
    assert_eq!(
        g.local_titled("Team sync").len(),
        2,
        "{:?}",
        g.local_titled("Team sync")
    );
    assert_eq!(g.local_titled("Team sync (demo)").len(), 1);
    // A fresh computer signing in to the same mailbox sees what this one does.
    let fresh = Env::new(&std::fs::read_to_string(&g.env.config).expect("config"));
    tokio::task::block_in_place(|| {
        fresh.json(&["--json", "accounts", "add", "microsoft", "--timeout", "60"]);
        fresh.json(&["--json", "sync"]);
    });
    let seen: Vec<Value> = tokio::task::block_in_place(|| {
        fresh.json(&[
            "--json",
            "--tz",
            "UTC",
            "events",
            "list",
            "--from",
            &day(-7),
            "--to",
            &day(14),
        ])
    })
    .as_array()
    .expect("list")
    .clone();
    let titles: Vec<&str> = seen.iter().filter_map(|o| o["title"].as_str()).collect();
    assert_eq!(
        titles.iter().filter(|t| **t == "Team sync").count(),
        2,
        "{titles:?}"
    );
    assert_eq!(
        titles.iter().filter(|t| **t == "Team sync (demo)").count(),
        1,
        "{titles:?}"
    );
}

/// An occurrence changed here while Outlook cancelled it: a conflict (it sat in the
/// outbox for good, "refused", while the status said all was well).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occurrence_changed_here_and_cancelled_in_outlook_is_a_conflict() {
    for keep in ["remote", "local"] {
        let g = GraphSync::start().await;
        let (_, series) = g.team_sync();
        let d2 = day(2);
        g.cli(&[
            "--tz",
            "UTC",
            "events",
            "edit",
            &series,
            "--occurrence",
            &format!("{d2}T10:00"),
            "--title",
            "Team sync (demo)",
        ]);
        let occurrence = g.instance_on(&d2);
        let delete = serde_json::from_value(json!({"email": g.email, "id": occurrence}))
            .expect("delete spec");
        g.state.graph_delete_event(delete).expect("cancel it there");

        let run = g.sync();
        assert_eq!(run["conflicts"], 1, "{run}");
        let open = g.cli(&["conflicts", "list"]);
        assert_eq!(open[0]["kind"], "edit_delete", "{open}");
        // The edit is still shown here meanwhile, and `show` says what it is.
        assert_eq!(g.local_titled("Team sync (demo)").len(), 1);
        let shown = tokio::task::block_in_place(|| {
            g.env
                .run(&["conflicts", "show", open[0]["id"].as_str().expect("id")])
        });
        let shown = String::from_utf8_lossy(&shown.stdout);
        let day = chrono::NaiveDate::parse_from_str(&d2, "%Y-%m-%d").expect("a day");
        assert!(
            shown.contains(&format!(
                "this computer: Team sync (demo) — {}, 10:00 (UTC)",
                day.format("%a %-d %b %Y")
            )),
            "{shown}"
        );
        g.cli(&[
            "conflicts",
            "resolve",
            open[0]["id"].as_str().expect("id"),
            "--keep",
            keep,
        ]);
        let after = g.sync();
        assert_eq!(
            (after["outcome"].clone(), after["conflicts"].clone()),
            (json!("ok"), json!(0))
        );
        assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
        assert_eq!(g.local_titled("Team sync").len(), 3);
        let kept: Vec<Value> = g
            .remote()
            .into_iter()
            .filter(|e| e["subject"] == "Team sync (demo)")
            .collect();
        if keep == "remote" {
            assert!(g.local_titled("Team sync (demo)").is_empty());
            assert!(kept.is_empty(), "{kept:?}");
        } else {
            // Outlook's series no longer has the occurrence: the edit lives on as an
            // event of its own, here and there.
            let here = g.local_titled("Team sync (demo)");
            assert_eq!(here.len(), 1);
            assert_eq!(here[0]["recurring"], false, "{here:?}");
            assert_eq!(kept.len(), 1, "{kept:?}");
            assert_eq!(kept[0]["type"], "singleInstance");
        }
        g.assert_quiet();
    }
}

/// The same under a calendar policy that keeps an edit over a deletion (here prefer
/// this computer): settled at once and on record — the series, read back with the
/// cancellation, no longer has the occurrence — the edit an event of its own here and
/// in Outlook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_keeps_an_occurrence_changed_here_and_cancelled_in_outlook() {
    let g = GraphSync::start().await;
    let (_, series) = g.team_sync();
    let cal = g.primary_calendar();
    g.cli(&["calendars", "policy", &cal, "prefer-local"]);
    let d2 = day(2);
    g.rename_occurrence(&series, &format!("{d2}T10:00"), "Team sync (demo)");
    let occurrence = g.instance_on(&d2);
    let delete =
        serde_json::from_value(json!({"email": g.email, "id": occurrence})).expect("delete spec");
    g.state.graph_delete_event(delete).expect("cancel it there");

    g.sync_ok(0);
    assert_eq!(g.cli(&["conflicts", "list"]), json!([]));
    assert_settled_by_policy(&g, "keep_local");
    let here = g.local_titled("Team sync (demo)");
    assert_eq!(here.len(), 1, "{here:?}");
    assert_eq!(here[0]["recurring"], false, "{here:?}");
    g.sync_ok(0);
    let kept: Vec<Value> = g
        .remote()
        .into_iter()
        .filter(|e| e["subject"] == "Team sync (demo)")
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["type"], "singleInstance");
    assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
    g.assert_quiet();
}

/// The one conflict on record, settled by the calendar's policy with `resolution`.
fn assert_settled_by_policy(s: &Sync, resolution: &str) {
    let all = s.cli(&["conflicts", "list", "--all"]);
    let settled = all.as_array().expect("list");
    assert_eq!(settled.len(), 1, "{all}");
    assert_eq!(
        (
            &settled[0]["kind"],
            &settled[0]["resolution"],
            &settled[0]["resolvedBy"]
        ),
        (&json!("edit_delete"), &json!(resolution), &json!("policy")),
        "{all}"
    );
}

/// An occurrence removed here while someone changed it in Outlook: a conflict, not a
/// silent delete of their change (the series' update used to delete the instance
/// with the rest of the removed dates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occurrence_removed_here_and_changed_in_outlook_is_a_conflict() {
    // "series": the user deletes the whole series instead of answering.
    for keep in ["remote", "local", "series"] {
        let g = GraphSync::start().await;
        let (_, series) = g.team_sync();
        let d2 = day(2);
        let occurrence = g.instance_on(&d2);
        g.edit(&occurrence, json!({"subject": "Team sync (with the CFO)"}));
        g.cli(&[
            "--tz",
            "UTC",
            "events",
            "rm",
            &series,
            "--occurrence",
            &format!("{d2}T10:00"),
        ]);

        let run = g.sync();
        assert_eq!(run["conflicts"], 1, "{run}");
        let open = g.cli(&["conflicts", "list"]);
        assert_eq!(open[0]["kind"], "delete_edit", "{open}");
        // Their change is still in Outlook while the user decides.
        let there = |title: &str| g.shown_titled(title).len();
        assert_eq!(there("Team sync (with the CFO)"), 1);
        let shown = tokio::task::block_in_place(|| {
            g.env
                .run(&["conflicts", "show", open[0]["id"].as_str().expect("id")])
        });
        let shown = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.contains("Team sync (with the CFO)"), "{shown}");
        // While the user decides, the occurrence shows here as its series makes it
        // (the removal waits apart from the series, which went out without it).
        assert_eq!(g.local_titled("Team sync").len(), 4);
        if keep == "series" {
            // Deleting the series answers the conflict over its occurrence, and its
            // deletion takes the instance along.
            g.cli(&["events", "rm", &series]);
            assert_eq!(g.cli(&["conflicts", "list"]), json!([]));
            let gone = g.sync();
            assert_eq!(gone["outcome"], "ok", "{gone}");
            assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
            assert!(g.local_titled("Team sync").is_empty());
            assert_eq!(there("Team sync") + there("Team sync (with the CFO)"), 0);
            continue;
        }
        g.cli(&[
            "conflicts",
            "resolve",
            open[0]["id"].as_str().expect("id"),
            "--keep",
            keep,
        ]);
        let after = g.sync();
        assert_eq!(
            (after["outcome"].clone(), after["conflicts"].clone()),
            (json!("ok"), json!(0)),
            "{after}"
        );
        // Hidden again as soon as the provider took the deletion (keep mine), or
        // their change in its place (keep theirs).
        assert_eq!(g.local_titled("Team sync").len(), 3);
        g.sync();
        assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
        assert_eq!(g.local_titled("Team sync").len(), 3);
        if keep == "remote" {
            let here = g.local_titled("Team sync (with the CFO)");
            assert_eq!(here.len(), 1, "{here:?}");
            assert_eq!(here[0]["recurring"], true, "{here:?}");
            assert_eq!(there("Team sync (with the CFO)"), 1);
        } else {
            assert!(g.local_titled("Team sync (with the CFO)").is_empty());
            assert_eq!(there("Team sync (with the CFO)"), 0);
        }
        g.assert_quiet();
        assert_eq!(g.cli(&["db", "check"])["ok"], true);
    }
}

/// An occurrence changed before (an exception on both sides), deleted here while
/// Outlook changed it again: the pull meets that as a conflict, and the series' update
/// must not delete their change while the user decides (it deleted the instance with
/// the series' other removed dates).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_occurrence_deleted_here_and_changed_in_outlook_waits_for_the_user() {
    let g = GraphSync::start().await;
    let (_, series) = g.team_sync();
    let d2 = day(2);
    g.cli(&[
        "--tz",
        "UTC",
        "events",
        "edit",
        &series,
        "--occurrence",
        &format!("{d2}T10:00"),
        "--title",
        "Team sync (demo)",
    ]);
    g.sync();
    let there = |title: &str| g.shown_titled(title);
    let instance = there("Team sync (demo)");
    assert_eq!(instance.len(), 1, "{instance:?}");
    g.edit(&instance[0], json!({"subject": "Team sync (with the CFO)"}));
    let exception = g.local_titled("Team sync (demo)")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    g.cli(&["events", "rm", &exception]);

    let run = g.sync();
    assert_eq!(run["conflicts"], 1, "{run}");
    let open = g.cli(&["conflicts", "list"]);
    assert_eq!(open[0]["kind"], "delete_edit", "{open}");
    assert_eq!(there("Team sync (with the CFO)").len(), 1);
    // Still there on the next run: the conflict holds the deletion.
    g.sync();
    assert_eq!(there("Team sync (with the CFO)").len(), 1);
    g.cli(&[
        "conflicts",
        "resolve",
        open[0]["id"].as_str().expect("id"),
        "--keep",
        "remote",
    ]);
    let after = g.sync();
    assert_eq!(
        (after["outcome"].clone(), after["conflicts"].clone()),
        (json!("ok"), json!(0)),
        "{after}"
    );
    g.sync();
    assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
    assert_eq!(g.local_titled("Team sync").len(), 3);
    assert_eq!(g.local_titled("Team sync (with the CFO)").len(), 1);
    assert_eq!(there("Team sync (with the CFO)").len(), 1);
    g.assert_quiet();
}

/// An occurrence change whose request never landed (the connection dropped), the
/// occurrence then deleted here while Outlook changed it: their change is not taken
/// for ours (a tombstone of the lost request would say so only if the instance were
/// as ours made it), so it is a conflict, not a silent delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_never_landed_does_not_make_theirs_ours() {
    let g = GraphSync::start().await;
    let (_, series) = g.team_sync();
    let d2 = day(2);
    let occurrence = g.instance_on(&d2);
    g.cli(&[
        "--tz",
        "UTC",
        "events",
        "edit",
        &series,
        "--occurrence",
        &format!("{d2}T10:00"),
        "--title",
        "Team sync (demo)",
    ]);
    let faults = |f: Value| {
        let f = serde_json::from_value(f).expect("faults");
        g.state.graph_set_faults(f).expect("set faults");
    };
    faults(json!({"add": [{
        "kind": "drop_connection",
        "method": "PATCH",
        "path_contains": occurrence,
        "count": 10,
    }]}));
    g.sync();
    faults(json!({"clear": true}));
    g.edit(&occurrence, json!({"subject": "Team sync (with the CFO)"}));
    let exception = g.local_titled("Team sync (demo)")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    g.cli(&["events", "rm", &exception]);

    let run = g.sync();
    assert_eq!(run["conflicts"], 1, "{run}");
    let open = g.cli(&["conflicts", "list"]);
    assert_eq!(open[0]["kind"], "delete_edit", "{open}");
    assert_eq!(g.shown_titled("Team sync (with the CFO)"), [occurrence]);
}

/// A change the provider refuses for good (here a rule Outlook cannot hold) waits
/// here; each run says so instead of "ok" with a change waiting for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_provider_refuses_is_reported_until_it_is_settled() {
    let g = GraphSync::start().await;
    g.sync();
    let cal = g.primary_calendar();
    let (start, end) = (format!("{}T08:00", day(1)), format!("{}T08:30", day(1)));
    let id = g.add_event(
        &cal,
        "Hourly",
        &start,
        &end,
        &["--rrule", "FREQ=HOURLY;COUNT=3"],
    )["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for _ in 0..2 {
        let run = g.sync();
        assert_eq!(run["outcome"], "partial", "{run}");
        let error = &run["calendars"][0]["error"];
        assert_eq!(error["code"], "invalid_request", "{run}");
        let message = error["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with("1 change(s) to \"Calendar\" were refused by the provider"),
            "{message}"
        );
        let status = g.cli(&["status"]);
        assert!(
            status[0]["lastErrorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("were refused")),
            "{status}"
        );
    }
    // Changed into a rule Outlook can hold: sent at the next sync, not in a day.
    g.cli(&["events", "edit", &id, "--rrule", "FREQ=DAILY;COUNT=3"]);
    let run = g.sync();
    assert_eq!(
        (run["outcome"].clone(), run["pushed"].clone()),
        (json!("ok"), json!(1)),
        "{run}"
    );
    assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_resolved_field_by_field_takes_each_side_asked() {
    let s = Sync::google().await;
    let seeded = s.seed("Renewal", 1, 9);
    s.sync();
    let id = event_id(&s, "Renewal");
    s.cli(&[
        "events",
        "edit",
        &id,
        "--title",
        "Renewal (mine)",
        "--location",
        "Room mine",
    ]);
    s.edit_remote(
        seeded["id"].as_str().expect("id"),
        json!({"summary": "Renewal (theirs)", "location": "Room theirs"}),
    );
    assert_eq!(s.sync()["conflicts"], 1);
    let conflict = s.cli(&["conflicts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // One answer per field: a second one for the same field is refused, not the
    // last one silently taken; an unknown field is named, and so is one that is not
    // in conflict (its pick would do nothing).
    for (args, says) in [
        (
            vec![
                "--field",
                "title=remote",
                "--field",
                "location=local",
                "--field",
                "showAs=remote",
            ],
            "showAs is not in conflict here; pick a side for: location, title.",
        ),
        (
            vec!["--field", "title=remote", "--field", "title=local"],
            "title is chosen more than once",
        ),
        (
            vec!["--field", "titel=remote"],
            "\"titel=remote\" is not a field choice",
        ),
    ] {
        let mut all = vec!["conflicts", "resolve", &conflict];
        all.extend(args);
        let o = tokio::task::block_in_place(|| s.env.run(&all));
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
        // Nothing of it was carried out.
        assert_eq!(s.cli(&["conflicts", "list"])[0]["id"], conflict.as_str());
        assert_eq!(s.local_titled("Renewal (mine)").len(), 1);
    }
    s.cli(&[
        "conflicts",
        "resolve",
        &conflict,
        "--field",
        "title=remote",
        "--field",
        "location=local",
    ]);
    assert_eq!(s.sync()["outcome"], "ok");
    let here = s.local_titled("Renewal (theirs)");
    assert_eq!(here.len(), 1);
    assert_eq!(here[0]["location"], "Room mine");
    let there = s.remote_titled("Renewal (theirs)");
    assert_eq!(there.len(), 1);
    assert_eq!(there[0]["location"], "Room mine");
    assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_in_a_calendar_made_read_only_can_only_keep_theirs() {
    let s = Sync::google().await;
    let seeded = s.seed("Handover", 1, 9);
    s.sync();
    let id = event_id(&s, "Handover");
    // The title on both sides, the room only here.
    s.cli(&[
        "events",
        "edit",
        &id,
        "--title",
        "Handover (mine)",
        "--location",
        "Room mine",
    ]);
    s.edit_remote(
        seeded["id"].as_str().expect("id"),
        json!({"summary": "Handover (theirs)"}),
    );
    assert_eq!(s.sync()["conflicts"], 1);
    // The calendar's owner takes write access back.
    s.state
        .google_seed_calendar(&s.email, &json!({"id": "primary", "accessRole": "reader"}))
        .expect("read-only");
    s.sync();
    let conflict = s.cli(&["conflicts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Mine, both or a field of mine could never reach the provider: refused.
    for args in [
        vec!["--keep", "local"],
        vec!["--keep", "both"],
        vec!["--field", "title=local"],
    ] {
        let mut all = vec!["conflicts", "resolve", &conflict];
        all.extend(args);
        let o = tokio::task::block_in_place(|| s.env.run(&all));
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("is read-only now"), "{err}");
        assert_eq!(s.cli(&["conflicts", "list"])[0]["id"], conflict.as_str());
    }
    // Theirs whole: our room could not go out either.
    let done = s.cli(&["conflicts", "resolve", &conflict, "--keep", "remote"]);
    assert_eq!(done["pushes"], false, "{done}");
    let here = s.local_titled("Handover (theirs)");
    assert_eq!(here.len(), 1);
    assert_ne!(here[0]["location"], "Room mine", "{here:?}");
    assert!(s.local_titled("Handover (mine)").is_empty());
    assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
    let status = s.cli(&["status"]);
    assert_eq!(status[0]["pendingPushes"], 0, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_that_fails_is_named_in_the_accounts_status() {
    let s = Sync::google().await;
    s.seed("Kickoff", 1, 9);
    assert_eq!(s.sync()["outcome"], "ok");
    // The provider stops letting Almanac read the calendar's events.
    s.faults(json!({"add": [{
        "kind": "error", "status": 403, "reason": "forbidden", "count": 100,
        "route": "events.list"
    }]}));
    let run = s.sync();
    assert_eq!(run["outcome"], "partial", "{run}");
    let name = run["calendars"][0]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    let status = s.cli(&["status"]);
    let message = status[0]["lastErrorMessage"].as_str().unwrap_or("");
    // The status line shows the message alone: which calendar it is about is in it.
    assert!(
        message.starts_with(&format!("\"{name}\": ")) && message.contains("does not allow"),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_cannot_connect_fails_alone() {
    let s = Sync::google().await;
    s.seed("Kickoff", 1, 9);
    let outlook = s.cli(&["accounts", "add", "microsoft", "--timeout", "60"]);
    let (status, _) = s.human(&["status"]);
    assert_eq!(status.matches(": Not synced yet").count(), 2, "{status}");
    // Nothing is wrong yet: a health check passes.
    assert_eq!(s.human(&["status", "--check"]).1, Some(0));
    // Microsoft's section goes from the settings: that account's client cannot be made.
    let full = fake_config(&s._cloud.base_url());
    let google_only = &full[full.find("[google]").expect("google section")..];
    std::fs::write(&s.env.config, google_only).expect("config");
    let o = tokio::task::block_in_place(|| s.env.run(&["--json", "sync"]));
    assert_eq!(
        o.status.code(),
        Some(1),
        "a failed account is a failed command"
    );
    let runs: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|_| panic!("no summaries: {}", String::from_utf8_lossy(&o.stderr)));
    let of = |id: &str| {
        runs.as_array()
            .expect("summaries")
            .iter()
            .find(|r| r["accountId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no summary of {id}: {runs}"))
    };
    let google_id = s
        .cli(&["accounts", "list"])
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["provider"] == "google")
        .and_then(|a| a["id"].as_str())
        .expect("google account")
        .to_owned();
    // The other account synced all the same.
    assert_eq!(of(&google_id)["outcome"], "ok", "{runs}");
    assert_eq!(s.local_titled("Kickoff").len(), 1);
    let outlook_id = outlook["id"].as_str().expect("id");
    let failed = of(outlook_id);
    assert_eq!(failed["outcome"], "failed", "{runs}");
    assert_eq!(failed["error"]["code"], "config", "{runs}");
    // On record: `status` says why, as for the daemon.
    let status = s.cli(&["status"]);
    let row = status
        .as_array()
        .expect("status")
        .iter()
        .find(|a| a["accountId"] == outlook_id)
        .cloned()
        .expect("outlook's status");
    assert!(
        row["lastErrorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("[microsoft]")),
        "{status}"
    );
    assert!(row["lastAttemptAt"].is_number(), "{status}");
    // Read as what it is: syncing again will not mend a missing setting.
    let (status, _) = s.human(&["status"]);
    assert!(
        status.contains(&format!("{} (google): OK", s.email))
            && status.contains("(microsoft): Needs your attention"),
        "{status}"
    );
    // A health check says so by its exit code; `status` alone still exits 0.
    assert_eq!(s.human(&["status", "--check"]).1, Some(1));
    assert_eq!(s.human(&["status"]).1, Some(0));
}

/// Keep both on a meeting: the copy of mine is the user's own, with nobody invited —
/// created with the attendees, it would invite them all again to a duplicate.
/// The export keeps who a meeting is with and how to join it (an export kept as a
/// backup, or opened elsewhere, lost both); the import reads such a file, and takes
/// no attendee from it (pushed to an account, they would be invited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_meeting_keeps_its_people_and_link() {
    let s = Sync::google().await;
    let d = day(1);
    s.state
        .google_seed_event(
            &s.email,
            "primary",
            &json!({
                "summary": "QBR",
                "start": {"dateTime": format!("{d}T09:00:00Z"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d}T10:00:00Z"), "timeZone": "UTC"},
                "attendees": [
                    {"email": "ceo@customer.example", "displayName": "Dana Lee",
                     "responseStatus": "accepted"},
                    {"email": "room-7@resource.example", "displayName": "Room 7",
                     "resource": true, "responseStatus": "tentative"}
                ],
                "conferenceData": {
                    "conferenceId": "abc-defg-hij",
                    "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                    "entryPoints": [{"entryPointType": "video",
                                     "uri": "https://meet.google.com/abc-defg-hij"}]
                },
            }),
        )
        .expect("seed");
    s.sync();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("out.ics");
    let path = file.to_string_lossy().into_owned();
    s.cli(&["export", "--ics", &path]);
    // Unfolded: lines are folded at 75 octets.
    let text = std::fs::read_to_string(&file)
        .expect("export")
        .replace("\r\n ", "");
    for line in [
        "ATTENDEE;CN=\"Dana Lee\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:ceo@customer.example\r\n",
        "ATTENDEE;CN=\"Room 7\";CUTYPE=RESOURCE;PARTSTAT=TENTATIVE:mailto:room-7@resource.example\r\n",
        "CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=\"Google Meet\":https://meet.google.com/abc-defg-hij\r\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    assert!(text.contains("ORGANIZER"), "{text}");
    let imported = s.cli(&["import", "--ics", &path, "--calendar", "local"]);
    assert_eq!(
        imported["created"].as_array().map(Vec::len),
        Some(1),
        "{imported}"
    );
    let copy = imported["created"][0].as_str().expect("id").to_owned();
    let shown = s.cli(&["events", "edit", &copy, "--title", "QBR (copy)"]);
    assert_eq!(shown["meeting"]["attendees"], json!([]), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_both_on_a_meeting_invites_nobody_to_the_copy() {
    let s = Sync::google().await;
    let d = day(1);
    let seeded = s
        .state
        .google_seed_event(
            &s.email,
            "primary",
            &json!({
                "summary": "Renewal",
                "start": {"dateTime": format!("{d}T09:00:00Z"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d}T10:00:00Z"), "timeZone": "UTC"},
                "attendees": [
                    {"email": "ceo@customer.example", "responseStatus": "accepted"},
                    {"email": "cfo@customer.example", "responseStatus": "needsAction"}
                ],
            }),
        )
        .expect("seed");
    s.sync();
    let id = event_id(&s, "Renewal");
    s.cli(&["events", "edit", &id, "--title", "Renewal (mine)"]);
    s.edit_remote(
        seeded["id"].as_str().expect("id"),
        json!({"summary": "Renewal (theirs)"}),
    );
    assert_eq!(s.sync()["conflicts"], 1);
    let conflict = s.cli(&["conflicts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let done = s.cli(&["conflicts", "resolve", &conflict, "--keep", "both"]);
    // The answer names the copy: the event of this computer's version.
    let mine_here = s.local_titled("Renewal (mine)");
    assert_eq!(mine_here.len(), 1, "{:?}", s.local());
    assert_eq!(done["copyId"], mine_here[0]["eventId"], "{done}");
    assert_ne!(done["copyId"], done["eventId"], "{done}");
    assert_eq!(s.sync()["outcome"], "ok");
    let theirs = s.remote_titled("Renewal (theirs)");
    assert_eq!(theirs.len(), 1, "{:?}", s.remote());
    assert_eq!(theirs[0]["attendees"].as_array().map(Vec::len), Some(2));
    let copy = s.remote_titled("Renewal (mine)");
    assert_eq!(copy.len(), 1, "{:?}", s.remote());
    assert!(
        copy[0]["attendees"].as_array().is_none_or(Vec::is_empty),
        "the copy invites: {}",
        copy[0]
    );
}

/// An event the provider lists that Almanac cannot read is skipped and logged: it
/// neither stops its calendar at every run nor, left out of a full listing, reads as
/// deleted here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_event_is_skipped_not_a_stuck_calendar() {
    let s = Sync::google().await;
    let id = |v: Value| v["id"].as_str().expect("id").to_owned();
    let kickoff = id(s.seed("Kickoff", 1, 9));
    let review = id(s.seed("Review", 2, 9));
    assert_eq!(s.sync()["outcome"], "ok");
    // The sync token is lost, so the next run lists the calendar whole — and the
    // provider's pages carry, in their first event, what its own schema forbids (a
    // reminder at a fraction of a minute).
    s.state
        .google_invalidate_sync_tokens(&s.email, Some("primary"))
        .expect("invalidate");
    let retro = id(s.seed("Retro", 3, 9));
    s.faults(json!({"add": [{"kind": "malformed_event", "count": 100, "route": "events.list"}]}));
    for _ in 0..2 {
        let run = s.sync();
        assert_eq!(run["outcome"], "ok", "{run}");
    }
    // Which one is first on the page (the unreadable one) goes by Google's random ids.
    let reasons = log_reasons(&s);
    let unreadable = [&kickoff, &review, &retro]
        .into_iter()
        .find(|id| {
            reasons
                .iter()
                .any(|r| r.contains(id.as_str()) && r.contains("not kept locally"))
        })
        .unwrap_or_else(|| panic!("no event logged as not kept: {reasons:?}"));
    // The rest synced; the unreadable one, if it was here, stays as it was, not
    // deleted; if new, it is not here.
    let here = |title: &str| s.local_titled(title).len();
    assert_eq!(here("Kickoff"), 1);
    assert_eq!(here("Review"), 1);
    assert_eq!(
        here("Retro"),
        usize::from(unreadable != &retro),
        "{reasons:?}"
    );
}

/// Calendar names, titles and descriptions come from other people: in human output
/// none of them can make a line that reads as one of Almanac's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_the_provider_cannot_forge_lines_of_the_output() {
    let s = Sync::google().await;
    let seeded = s.seed("Renewal", 1, 9);
    s.sync();
    let id = event_id(&s, "Renewal");
    s.cli(&["events", "edit", &id, "--description", "Agenda"]);
    s.edit_remote(
        seeded["id"].as_str().expect("id"),
        json!({"description": "Notes\n  provider:      forged"}),
    );
    s.state
        .google_seed_calendar(
            &s.email,
            &json!({"id": "primary", "summary": "Team\nabc  \"Board\" in Team — changed on both sides"}),
        )
        .expect("rename");
    assert_eq!(s.sync()["conflicts"], 1);
    let conflict = s.cli(&["conflicts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (listed, _) = s.human(&["conflicts", "list"]);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("in Team abc  \"Board\""), "{listed}");
    // The conflict's line names its time: five "Renewal"s would be five days.
    let d = chrono::NaiveDate::parse_from_str(&day(1), "%Y-%m-%d").expect("day");
    assert!(
        listed.contains(&format!(
            "Renewal — {}, 09:00 (UTC)",
            d.format("%a %-d %b %Y")
        )),
        "{listed}"
    );
    let (shown, _) = s.human(&["conflicts", "show", &conflict]);
    // One "provider:" line per field in conflict: the description's second line
    // stays under its label.
    let labels = shown
        .lines()
        .filter(|l| l.starts_with("  provider:"))
        .count();
    assert_eq!(labels, 1, "{shown}");
    assert!(
        shown.contains("\n                   provider:      forged"),
        "{shown}"
    );
    assert_eq!(
        shown.lines().next().map(|l| l.contains("Team abc")),
        Some(true),
        "{shown}"
    );
    let (done, _) = s.human(&["conflicts", "resolve", &conflict, "--keep", "local"]);
    assert!(
        done.starts_with("Resolved \"Renewal\" in Team abc"),
        "{done}"
    );
    // Answered: nothing left to answer with.
    let (shown, _) = s.human(&["conflicts", "show", &conflict]);
    assert!(!shown.contains("Resolve with"), "{shown}");
    // The log of an account that does not exist is refused, not "no runs yet".
    let (_, code) = s.human(&["log", "--account", "nope"]);
    assert_eq!(code, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_titles_from_the_provider_are_kept_and_block_nothing() {
    let s = Sync::google().await;
    let seeded = s.seed("Review", 1, 9);
    let long = "L".repeat(1_500);
    s.seed(&long, 2, 9);
    let out = s.sync();
    assert_eq!(out["outcome"], "ok", "{out}");
    // Kept, cut to the store's limit, and counted as nothing left out.
    let kept: Vec<Value> = s
        .local()
        .into_iter()
        .filter(|o| o["title"].as_str().is_some_and(|t| t.starts_with("LLL")))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0]["title"].as_str().map(|t| t.chars().count()),
        Some(1_000)
    );
    // An edit waits here while another client gives the event a title with a NUL.
    let id = event_id(&s, "Review");
    s.cli(&["events", "edit", &id, "--location", "Room 7"]);
    let remote_id = seeded["id"].as_str().expect("id");
    s.edit_remote(remote_id, json!({"summary": "Re\u{0}view"}));
    let out = s.sync();
    assert_eq!(out["outcome"], "ok", "{out}");
    let status = s.cli(&["status"]);
    assert_eq!(status[0]["pendingPushes"], 0, "{status}");
    let here = s.local_titled("Re\u{FFFD}view");
    assert_eq!(here.len(), 1, "{:?}", s.local());
    assert_eq!(here[0]["location"], "Room 7");
    let there = s.remote_titled("Re\u{FFFD}view");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert_eq!(there[0]["location"], "Room 7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_moved_to_another_synced_calendar_lands_there() {
    let s = Sync::google().await;
    let team = s
        .state
        .google_seed_calendar(&s.email, &json!({"summary": "Team"}))
        .expect("calendar");
    let team_remote = team["id"].as_str().expect("id").to_owned();
    s.seed("Move me", 1, 9);
    assert_eq!(s.sync()["outcome"], "ok");
    let cals = s.cli(&["calendars", "list"]);
    let team_local = cals
        .as_array()
        .expect("calendars")
        .iter()
        .find(|c| c["name"] == "Team")
        .and_then(|c| c["id"].as_str())
        .expect("Team here")
        .to_owned();
    let id = event_id(&s, "Move me");
    // Not while a conflict on it waits for an answer: that names the event here.
    s.cli(&["events", "edit", &id, "--title", "Move me (mine)"]);
    let seeded = s.remote_titled("Move me")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.edit_remote(&seeded, json!({"summary": "Move me (theirs)"}));
    assert_eq!(s.sync()["conflicts"], 1);
    let moved = tokio::task::block_in_place(|| {
        s.env
            .run(&["events", "edit", &id, "--calendar", &team_local])
    });
    assert_eq!(moved.status.code(), Some(1));
    let err = String::from_utf8_lossy(&moved.stderr);
    assert!(err.contains("resolve it"), "{err}");
    let here = s.local_titled("Move me (mine)");
    assert_eq!(here.len(), 1, "{:?}", s.local());
    assert_ne!(
        here[0]["calendarId"],
        team_local.as_str(),
        "moved all the same"
    );
    let conflict = s.cli(&["conflicts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["conflicts", "resolve", &conflict, "--keep", "remote"]);
    assert_eq!(s.sync()["outcome"], "ok");
    let id = event_id(&s, "Move me (theirs)");
    s.edit_remote(&seeded, json!({"summary": "Move me"}));
    assert_eq!(s.sync()["outcome"], "ok");
    s.cli(&["events", "edit", &id, "--calendar", &team_local]);
    // Deleted in the primary calendar, created in Team: before, only the delete went
    // out, and the event was left on this computer alone, with nothing waiting.
    let out = s.sync();
    assert_eq!(out["outcome"], "ok", "{out}");
    assert!(s.remote_titled("Move me").is_empty());
    let there: Vec<Value> = s
        .state
        .google_events(&s.email, &team_remote)
        .expect("events")
        .into_iter()
        .filter(|e| e["status"] != "cancelled" && e["summary"] == "Move me")
        .collect();
    assert_eq!(there.len(), 1, "{there:?}");
    let status = s.cli(&["status"]);
    assert_eq!(status[0]["pendingPushes"], 0, "{status}");
    // And it stays one event, in Team, after the next run.
    assert_eq!(s.sync()["outcome"], "ok");
    let here = s.local_titled("Move me");
    assert_eq!(here.len(), 1);
    assert_eq!(here[0]["calendarId"], team_local.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsent_changes_survive_until_the_user_discards_them() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(2);
    s.add_event(
        &cal,
        "Not sent yet",
        &format!("{d}T09:00"),
        &format!("{d}T10:00"),
        &[],
    );
    let id = s.cli(&["accounts", "list"])[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Removing the account would drop the change: refused, with the way out.
    let o = tokio::task::block_in_place(|| s.env.run(&["--json", "accounts", "remove", &id]));
    assert_eq!(o.status.code(), Some(1));
    let err: Value = serde_json::from_slice(&o.stderr).expect("error json");
    assert_eq!(err["code"], "conflict", "{err}");
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("--discard-unpushed")),
        "{err}"
    );
    assert_eq!(s.local_titled("Not sent yet").len(), 1);
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 1);
    // The user chooses to discard them.
    let removed = s.cli(&["accounts", "remove", &id, "--discard-unpushed"]);
    assert_eq!(removed["account"]["id"], id.as_str());
    assert!(s.local_titled("Not sent yet").is_empty());
    assert!(s.remote_titled("Not sent yet").is_empty());
}

/// The same at Outlook: an event of a delta page that does not read (a zone Graph never
/// sends) is skipped and logged; the rest of the page syncs, and the calendar with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_an_unreadable_event_is_skipped_not_a_stuck_calendar() {
    let g = GraphSync::start().await;
    for (i, subject) in ["Kickoff", "Review"].iter().enumerate() {
        let d = day(1 + i as i64);
        g.seed(json!({
            "subject": subject,
            "start": {"dateTime": format!("{d}T09:00:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d}T10:00:00"), "timeZone": "UTC"},
        }));
    }
    let faults = serde_json::from_value(json!({"add": [{
        "kind": "malformed_event", "path_contains": "calendarView/delta", "count": 100
    }]}))
    .expect("faults");
    g.state.graph_set_faults(faults).expect("set faults");
    for _ in 0..2 {
        let run = g.sync();
        assert_eq!(run["outcome"], "ok", "{run}");
    }
    // One of the two was unreadable in every listing; the other is here.
    let here = g.local_titled("Kickoff").len() + g.local_titled("Review").len();
    assert_eq!(here, 1, "{:?}", g.local());
    let reasons = log_reasons(&g);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("not kept locally") && r.contains("Mars Standard Time")),
        "{reasons:?}"
    );
}

/// Series whose masters come back unreadable when their changed instances are listed:
/// a series held here keeps its rows and takes its changed occurrence; a new one's
/// instances are left out and logged with it; the rest of the calendar syncs, and the
/// calendar is not stuck (it failed at every run). A later change of the new series,
/// read again, brings it down whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_series_that_cannot_be_read_leave_out_their_instances_not_the_calendar() {
    let g = GraphSync::start().await;
    let (master, _) = g.team_sync();
    let master_id = master["id"].as_str().expect("id").to_owned();
    let moved = g.instance_on(&day(2));
    g.edit(&moved, json!({"location": {"displayName": "Room 5"}}));
    g.edit(&master_id, json!({"subject": "Team sync (new agenda)"}));
    let d = day(3);
    g.seed(json!({
        "subject": "Kickoff",
        "start": {"dateTime": format!("{d}T14:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{d}T15:00:00"), "timeZone": "UTC"},
    }));
    let onboarding = g.seed(json!({
        "subject": "Onboarding",
        "start": {"dateTime": format!("{d}T08:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{d}T08:30:00"), "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": d, "numberOfOccurrences": 3}
        }
    }));
    let onboarding_id = onboarding["id"].as_str().expect("id").to_owned();
    let onboarding_moved = g
        .state
        .graph_instances(
            &g.email,
            chrono::NaiveDate::parse_from_str(&day(4), "%Y-%m-%d")
                .expect("date")
                .and_hms_opt(0, 0, 0)
                .expect("midnight"),
            chrono::NaiveDate::parse_from_str(&day(4), "%Y-%m-%d")
                .expect("date")
                .and_hms_opt(23, 0, 0)
                .expect("evening"),
        )
        .expect("instances")["value"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| i["subject"] == "Onboarding")
        .and_then(|i| i["id"].as_str())
        .expect("an Onboarding instance on day 4")
        .to_owned();
    g.edit(
        &onboarding_moved,
        json!({"location": {"displayName": "Lobby"}}),
    );
    let set_faults = |f: Value| {
        let f = serde_json::from_value(f).expect("faults");
        g.state.graph_set_faults(f).expect("set faults");
    };
    set_faults(json!({"add": [{
        "kind": "malformed_event", "method": "GET", "path_contains": "/events/", "count": 100
    }]}));
    for _ in 0..2 {
        let run = g.sync();
        assert_eq!(run["outcome"], "ok", "{run}");
    }
    assert_eq!(g.local_titled("Kickoff").len(), 1, "{:?}", g.local());
    // The series held here: its rows stay, its changed occurrence comes down.
    assert_eq!(g.local_titled("Team sync").len(), 3, "{:?}", g.local());
    let changed = g.local_titled("Team sync (new agenda)");
    assert_eq!(changed.len(), 1, "{:?}", g.local());
    assert_eq!(changed[0]["location"], "Room 5");
    // The new one: nothing of it placed without it.
    assert!(g.local_titled("Onboarding").is_empty(), "{:?}", g.local());
    let reasons = log_reasons(&g);
    let logged = |id: &str, what: &str| {
        reasons.iter().any(|r| {
            r.contains(id)
                && r.contains("not kept locally")
                && r.contains(what)
                && r.contains("Mars Standard Time")
        })
    };
    assert!(logged(&master_id, "cannot read"), "{reasons:?}");
    assert!(logged(&onboarding_moved, "its series"), "{reasons:?}");
    // Read again at its next change, the new series comes down; and with it, by a
    // listing from the start, its changed occurrence left out before (which changes
    // no more, so no later round would list it).
    set_faults(json!({"clear": true}));
    g.edit(&onboarding_id, json!({"subject": "Onboarding (week 1)"}));
    for _ in 0..2 {
        let run = g.sync();
        assert_eq!(run["outcome"], "ok", "{run}");
    }
    let series = g.local_titled("Onboarding (week 1)");
    assert_eq!(series.len(), 3, "{:?}", g.local());
    assert!(
        series.iter().any(|o| o["location"] == "Lobby"),
        "{series:?}"
    );
    let reasons = log_reasons(&g);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&onboarding_id) && r.contains("listed again")),
        "{reasons:?}"
    );
    // Once: the calendar is not listed again at every run.
    g.sync();
    let relisted = log_reasons(&g)
        .iter()
        .filter(|r| r.contains("listed again"))
        .count();
    assert_eq!(relisted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_delta_resets_duplicates_and_throttling_neither_lose_nor_double() {
    let g = GraphSync::start().await;
    let seeded: Vec<Value> = (0..6)
        .map(|i| {
            let d = day(1 + i);
            g.seed(json!({
                "subject": format!("Account review {i}"),
                "start": {"dateTime": format!("{d}T11:00:00"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d}T12:00:00"), "timeZone": "UTC"},
            }))
        })
        .collect();
    let first = g.sync();
    assert_eq!(first["pulled"], 6, "{first}");
    let set_faults = |f: Value| {
        let f = serde_json::from_value(f).expect("faults");
        g.state.graph_set_faults(f).expect("set faults");
    };
    let all_once = |g: &GraphSync| {
        for i in 0..6 {
            assert_eq!(
                g.local_titled(&format!("Account review {i}")).len(),
                1,
                "Account review {i}"
            );
        }
    };

    for mode in ["gone", "sync_state_not_found", "resync_required"] {
        // A local edit waits in the outbox while the cursor dies and the calendar is
        // listed again: the edit survives and goes up; nothing doubles or vanishes.
        let id = g.local_titled("Account review 0")[0]["eventId"]
            .as_str()
            .expect("id")
            .to_owned();
        let loc = format!("Room {mode}");
        g.cli(&["events", "edit", &id, "--location", &loc]);
        set_faults(json!({"invalidate_delta": {"email": g.email, "mode": mode}}));
        let run = g.sync();
        assert_eq!(run["outcome"], "ok", "{mode}: {run}");
        all_once(&g);
        let remote = g
            .remote()
            .into_iter()
            .find(|e| e["id"] == seeded[0]["id"])
            .expect("event");
        assert_eq!(remote["location"]["displayName"], loc.as_str(), "{mode}");
    }

    // A round that lists an event twice and starts with an empty page; then a 429
    // storm with Retry-After and a 503.
    g.edit(
        seeded[3]["id"].as_str().expect("id"),
        json!({"subject": "Account review 3"}),
    );
    set_faults(json!({
        "duplicate_in_round": {"email": g.email},
        "empty_page": {"email": g.email},
        "add": [
            {"kind": "throttle", "count": 2, "retry_after_secs": 1},
            {"kind": "unavailable", "count": 1}
        ]
    }));
    let mut last = Value::Null;
    for _ in 0..3 {
        last = g.sync();
        if last["outcome"] == "ok" {
            break;
        }
    }
    assert_eq!(last["outcome"], "ok", "{last}");
    all_once(&g);
    assert_eq!(g.cli(&["db", "check"])["ok"], true);
}

/// The same on Google: an occurrence removed here while changed there is a conflict
/// (the series' EXDATE hid their change, here and in Google's own apps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occurrence_removed_here_and_changed_in_google_is_a_conflict() {
    for keep in ["remote", "local"] {
        let s = Sync::google().await;
        let (master, series) = s.office_hours();
        let d2 = day(2);
        let instance = format!(
            "{}_{}T130000Z",
            master["id"].as_str().expect("id"),
            d2.replace('-', "")
        );
        s.edit_remote(&instance, json!({"summary": "Office hours (with the CFO)"}));
        s.cli(&[
            "--tz",
            "UTC",
            "events",
            "rm",
            &series,
            "--occurrence",
            &format!("{d2}T13:00"),
        ]);
        let run = s.sync();
        assert_eq!(run["conflicts"], 1, "{run}");
        let open = s.cli(&["conflicts", "list"]);
        assert_eq!(open[0]["kind"], "delete_edit", "{open}");
        // The series went out without the removal: their change stays visible there.
        let rules = s.remote_titled("Office hours")[0]["recurrence"].to_string();
        assert!(!rules.contains("EXDATE"), "{rules}");
        assert_eq!(s.remote_titled("Office hours (with the CFO)").len(), 1);
        s.cli(&[
            "conflicts",
            "resolve",
            open[0]["id"].as_str().expect("id"),
            "--keep",
            keep,
        ]);
        let after = s.sync();
        assert_eq!(
            (after["outcome"].clone(), after["conflicts"].clone()),
            (json!("ok"), json!(0)),
            "{after}"
        );
        s.sync();
        assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
        assert_eq!(s.local_titled("Office hours").len(), 3);
        if keep == "remote" {
            assert_eq!(s.local_titled("Office hours (with the CFO)").len(), 1);
            assert_eq!(s.remote_titled("Office hours (with the CFO)").len(), 1);
        } else {
            assert!(s.local_titled("Office hours (with the CFO)").is_empty());
            assert!(s.remote_titled("Office hours (with the CFO)").is_empty());
        }
        s.assert_quiet();
    }
}

/// Occurrences changed and removed here, not sent yet, when the series moves at the
/// provider: they move with it (the renamed one is the renamed one at the new time,
/// not a copy at the old time beside the series' own, which could never be sent);
/// one the series no longer has is a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_here_follow_a_series_moved_at_the_provider() {
    let s = Sync::google().await;
    let (id, series) = s.office_hours_moved_under_changes();
    let id = id.as_str();
    let (d1, d2, d3, d4) = (day(1), day(2), day(3), day(4));
    s.sync_ok(0);
    let seen = s.titles_and_starts();
    let at = |d: &str| format!("{d}T15:00:00Z");
    assert_eq!(
        seen,
        [
            ("Office hours".to_owned(), at(&d1)),
            ("Office hours (mine)".to_owned(), at(&d2)),
            ("Office hours".to_owned(), at(&d4)),
        ],
        "{seen:?}"
    );
    // Google has both: the renamed instance at 15:00, the removed one excluded.
    let events = s.state.google_events(&s.email, "primary").expect("events");
    let renamed = events
        .iter()
        .find(|e| e["summary"] == "Office hours (mine)")
        .expect("the renamed instance");
    assert_eq!(renamed["start"]["dateTime"], at(&d2), "{renamed}");
    let m = events.iter().find(|e| e["id"] == id).expect("master");
    let rules = m["recurrence"].to_string();
    assert!(
        rules.contains(&format!("{}T150000", d3.replace('-', ""))),
        "{rules}"
    );
    s.assert_quiet();
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);

    // A rule that no longer has the occurrence changed here: a conflict, not a change
    // that waits for ever.
    s.rename_occurrence(&series, &format!("{d4}T15:00"), "Office hours (last)");
    s.edit_remote(
        id,
        json!({
            "start": {"date": null, "dateTime": format!("{d1}T13:00:00Z"), "timeZone": "UTC"},
            "end": {"date": null, "dateTime": format!("{d1}T14:00:00Z"), "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        }),
    );
    let run = s.sync();
    assert_eq!(run["conflicts"], 1, "{run}");
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["kind"], "edit_delete", "{open}");
}

/// The series moved at Google and one of its occurrences changed there at the new
/// time: the change here that would land on it is a conflict (both versions kept),
/// and the pull goes on. A series whose start moved to another day keeps the
/// changes here on their days, as a series edit here would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_here_meet_a_series_moved_and_changed_at_the_provider() {
    let s = Sync::google().await;
    let (id, _) = s.office_hours_moved_under_changes();
    let id = id.as_str();
    let (d1, d2, d3) = (day(1), day(2), day(3));
    for (d, title) in [
        (&d2, "Office hours (theirs)"),
        (&d3, "Office hours (moved)"),
    ] {
        s.edit_remote(&moved_instance(id, d), json!({"summary": title}));
    }
    let run = s.sync();
    assert_eq!(run["outcome"], "ok", "{run}");
    // The renamed occurrence meets their rename: an edit/edit conflict. The removed one
    // meets their change: a conflict too (deleted here, changed there) — neither their
    // change deleted unasked nor the removal dropped.
    let open = s.cli(&["conflicts", "list"]);
    let mut kinds: Vec<&str> = open
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["delete_edit", "edit_edit"], "{open}");
    // Until it is settled the renamed occurrence shows ours here (as any edit/edit
    // conflict does), theirs at Google.
    let titles: Vec<Value> = s.local().iter().map(|o| o["title"].clone()).collect();
    assert!(titles.contains(&json!("Office hours (mine)")), "{titles:?}");
    assert!(
        s.local_titled("Office hours (theirs)").is_empty(),
        "{titles:?}"
    );
    assert_eq!(s.remote_titled("Office hours (theirs)").len(), 1);
    // Until it is settled, the removed occurrence shows as its series makes it, and
    // their change stays at Google.
    assert!(
        s.local_titled("Office hours (moved)").is_empty(),
        "{titles:?}"
    );
    s.sync_ok(0);
    assert!(s.remote_titled("Office hours (mine)").is_empty());
    assert_eq!(s.remote_titled("Office hours (moved)").len(), 1);
    // Keep mine: the occurrence goes, there too.
    let removal = open
        .as_array()
        .and_then(|a| a.iter().find(|c| c["kind"] == "delete_edit"))
        .and_then(|c| c["id"].as_str())
        .expect("the delete/edit conflict");
    s.cli(&["conflicts", "resolve", removal, "--keep", "local"]);
    s.sync_ok(0);
    assert!(s.remote_titled("Office hours (moved)").is_empty());
    let on_d3: Vec<(String, String)> = s
        .titles_and_starts()
        .into_iter()
        .filter(|(_, start)| start.starts_with(&d3))
        .collect();
    assert!(on_d3.is_empty(), "{on_d3:?}");
    // Only the renamed occurrence still waits (for its conflict).
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 1);

    // The series moves to another zone at Google (13:00 in Berlin now) and its new
    // occurrence there is changed, while the same wall time was renamed here: the two
    // are paired (an edit/edit conflict), not stored twice under one key, and the
    // pull goes on.
    let (berlin, review) = s.series_at_google("Review", "13:00", "14:00", "COUNT=3");
    s.rename_occurrence(&review, &format!("{d2}T13:00"), "Review (mine)");
    let rid = berlin["id"].as_str().expect("id");
    s.edit_remote(
        rid,
        json!({
            "start": {"dateTime": format!("{d1}T13:00:00"), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": format!("{d1}T14:00:00"), "timeZone": "Europe/Berlin"},
        }),
    );
    let theirs = format!("{rid}_{}", in_berlin(&d2, "13:00").format("%Y%m%dT%H%M%SZ"));
    s.edit_remote(&theirs, json!({"summary": "Review (theirs)"}));
    let run = s.sync();
    assert_eq!(run["outcome"], "ok", "{run}");
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().map(Vec::len), Some(2), "{open}");
    s.sync_ok(0);

    // Another series, daily at 09:00 from tomorrow; two occurrences renamed here, then
    // it starts a day later at Google: the renamed ones keep their days (as they
    // would for a series edited here), the one before the new start is a conflict.
    let (standup, local_id) = s.series_at_google("Standup", "09:00", "09:15", "COUNT=6");
    for (d, title) in [(&d1, "Standup (Mon)"), (&d3, "Standup (Wed)")] {
        s.rename_occurrence(&local_id, &format!("{d}T09:00"), title);
    }
    s.edit_remote(
        standup["id"].as_str().expect("id"),
        json!({
            "start": {"dateTime": format!("{d2}T09:00:00Z"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d2}T09:15:00Z"), "timeZone": "UTC"},
        }),
    );
    s.sync_ok(1);
    let wed = s.local_titled("Standup (Wed)");
    assert_eq!(wed.len(), 1, "{wed:?}");
    assert_eq!(wed[0]["start"], format!("{d3}T09:00:00Z"));
    assert_eq!(s.remote_titled("Standup (Wed)").len(), 1);
}

/// The actions in the last 50 runs' log, newest run first.
fn log_actions(s: &Sync) -> Vec<Value> {
    let log = s.cli(&["log", "--limit", "50"]);
    log.as_array()
        .expect("log")
        .iter()
        .flat_map(|r| r["actions"].as_array().expect("actions").clone())
        .collect()
}

/// The reasons of the actions in the last 50 runs' log, newest first.
fn log_reasons(s: &Sync) -> Vec<String> {
    log_actions(s)
        .iter()
        .filter_map(|a| a["reason"].as_str().map(str::to_owned))
        .collect()
}

/// The Google instance id of day `d`'s occurrence of series `id` after
/// [`Sync::office_hours_moved_under_changes`] moved it to 15:00.
fn moved_instance(id: &str, d: &str) -> String {
    format!("{id}_{}T150000Z", d.replace('-', ""))
}

/// A series moved at Google to start a day later, under a calendar policy that keeps
/// an edit over a deletion: the occurrence renamed here that the series no longer has
/// is kept as an event of its own (settled, on record), not left as a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_keeps_a_change_here_its_moved_series_no_longer_has() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    s.cli(&["calendars", "policy", &cal, "keep-both"]);
    let (d1, d2) = (day(1), day(2));
    let (standup, local_id) = s.series_at_google("Standup", "09:00", "09:15", "COUNT=6");
    s.rename_occurrence(&local_id, &format!("{d1}T09:00"), "Standup (Mon)");
    s.edit_remote(
        standup["id"].as_str().expect("id"),
        json!({
            "start": {"dateTime": format!("{d2}T09:00:00Z"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d2}T09:15:00Z"), "timeZone": "UTC"},
        }),
    );
    s.sync_ok(0);
    assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
    assert_settled_by_policy(&s, "keep_both");
    let mon = s.local_titled("Standup (Mon)");
    assert_eq!(mon.len(), 1, "{mon:?}");
    assert_eq!(
        (&mon[0]["start"], &mon[0]["recurring"]),
        (&json!(format!("{d1}T09:00:00Z")), &json!(false)),
        "{mon:?}"
    );
    let there = s.remote_titled("Standup (Mon)");
    assert_eq!(there.len(), 1, "{there:?}");
    assert!(there[0].get("recurringEventId").is_none(), "{there:?}");
    assert_eq!(s.local_titled("Standup").len(), 6);
    s.assert_quiet();
}

/// The same meeting under a policy, which settles both: the removed occurrence meets
/// their change (keep both keeps their change, on record with the event as it was;
/// prefer this computer deletes it there), the renamed one meets their rename (keep
/// both: theirs, and ours as an event of its own; prefer this computer: ours).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_settles_what_a_series_moved_and_changed_there_meets() {
    for (policy, resolution) in [("keep-both", "keep_both"), ("prefer-local", "keep_local")] {
        let s = Sync::google().await;
        s.sync();
        let cal = s.primary_calendar();
        s.cli(&["calendars", "policy", &cal, policy]);
        let (id, _) = s.office_hours_moved_under_changes();
        let (d2, d3) = (day(2), day(3));
        for (d, title) in [
            (&d2, "Office hours (theirs)"),
            (&d3, "Office hours (moved)"),
        ] {
            s.edit_remote(&moved_instance(&id, d), json!({"summary": title}));
        }
        s.sync_ok(0);
        assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
        let all = s.cli(&["conflicts", "list", "--all"]);
        let mut settled: Vec<(&str, &str)> = all
            .as_array()
            .expect("list")
            .iter()
            .filter(|c| c["resolvedBy"] == "policy")
            .filter_map(|c| Some((c["kind"].as_str()?, c["resolution"].as_str()?)))
            .collect();
        settled.sort_unstable();
        assert_eq!(
            settled,
            [("delete_edit", resolution), ("edit_edit", resolution)],
            "{policy}: {all}"
        );
        if policy == "prefer-local" {
            let reasons = log_reasons(&s);
            let said = reasons.iter().any(|r| r.contains("meets its removal here"));
            assert!(said, "{reasons:?}");
        }
        s.sync_ok(0);
        let kept = usize::from(policy == "keep-both");
        for (title, n) in [
            ("Office hours (moved)", kept),
            ("Office hours (theirs)", kept),
            ("Office hours (mine)", 1),
        ] {
            assert_eq!(s.local_titled(title).len(), n, "{policy}: {title}");
            assert_eq!(s.remote_titled(title).len(), n, "{policy}: {title}");
        }
        s.assert_quiet();
    }
}

/// A series moved at Google, its new occurrence given a new room there, while the same
/// occurrence was renamed here: one occurrence changed in different fields on both
/// sides, merged — no conflict, both changes at Google.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_here_merges_with_theirs_at_the_moved_series_new_time() {
    let s = Sync::google().await;
    let (id, _) = s.office_hours_moved_under_changes();
    let d2 = day(2);
    let theirs = moved_instance(&id, &d2);
    s.edit_remote(&theirs, json!({"location": "Room 9"}));
    s.sync_ok(0);
    assert_eq!(s.cli(&["conflicts", "list", "--all"]), json!([]));
    let here = s.local_titled("Office hours (mine)");
    assert_eq!(here.len(), 1, "{here:?}");
    assert_eq!(
        (&here[0]["start"], &here[0]["location"]),
        (&json!(format!("{d2}T15:00:00Z")), &json!("Room 9")),
        "{here:?}"
    );
    let there = s.remote_titled("Office hours (mine)");
    assert_eq!(there.len(), 1, "{there:?}");
    assert_eq!(
        (&there[0]["id"], &there[0]["location"]),
        (&json!(theirs), &json!("Room 9")),
        "{there:?}"
    );
    let reasons = log_reasons(&s);
    let said = reasons
        .iter()
        .any(|r| r.contains("meets the change here of the same occurrence"));
    assert!(said, "{reasons:?}");
    s.assert_quiet();
}

/// A series moved to another zone at Google (13:00 UTC to 13:00 in Berlin) while its
/// occurrence on day 2 was changed here and at Google, a pair the page cannot see
/// (the two name one wall time in different zones): met as the planner meets any
/// such pair. Different fields merge (your title, their room); the same field is
/// settled by the calendar's policy — prefer this computer: ours at Google's
/// instance; keep both: theirs, and ours as an event of its own — on record, no
/// conflict left open. Either way the occurrence is at the series' new time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_settles_a_rename_on_both_sides_of_a_series_moved_to_another_zone() {
    for (policy, resolution) in [
        ("ask", ""),
        ("prefer-local", "keep_local"),
        ("keep-both", "keep_both"),
    ] {
        let s = Sync::google().await;
        s.sync();
        let cal = s.primary_calendar();
        s.cli(&["calendars", "policy", &cal, policy]);
        let (d1, d2) = (day(1), day(2));
        let (berlin, review) = s.series_at_google("Review", "13:00", "14:00", "COUNT=3");
        if policy == "ask" {
            // The series' room changed here too, not sent yet: the occurrence takes it
            // along, though the provider's series does not have it yet.
            s.events(&["edit", &review, "--location", "Room 2"]);
        }
        s.rename_occurrence(&review, &format!("{d2}T13:00"), "Review (mine)");
        let rid = berlin["id"].as_str().expect("id");
        s.edit_remote(
            rid,
            json!({
                "start": {"dateTime": format!("{d1}T13:00:00"), "timeZone": "Europe/Berlin"},
                "end": {"dateTime": format!("{d1}T14:00:00"), "timeZone": "Europe/Berlin"},
            }),
        );
        let new_time = in_berlin(&d2, "13:00");
        let theirs = format!("{rid}_{}", new_time.format("%Y%m%dT%H%M%SZ"));
        // Under "ask", their change is in another field: merged.
        let their_change = if policy == "ask" {
            json!({"description": "Agenda"})
        } else {
            json!({"summary": "Review (theirs)"})
        };
        s.edit_remote(&theirs, their_change);
        s.sync_ok(0);
        assert_eq!(s.cli(&["conflicts", "list"]), json!([]), "{policy}");
        let all = s.cli(&["conflicts", "list", "--all"]);
        let settled: Vec<(&Value, &Value, &Value, Vec<Value>)> = all
            .as_array()
            .expect("list")
            .iter()
            .map(|c| {
                let fields: Value = serde_json::from_str(c["fields"].as_str().expect("fields"))
                    .expect("fields json");
                let names = fields
                    .as_array()
                    .expect("fields")
                    .iter()
                    .map(|f| f["field"].clone())
                    .collect();
                (&c["kind"], &c["resolution"], &c["resolvedBy"], names)
            })
            .collect();
        let expected = (
            &json!("edit_edit"),
            &json!(resolution),
            &json!("policy"),
            vec![json!("title")],
        );
        let expected = if policy == "ask" {
            Vec::new()
        } else {
            vec![expected]
        };
        assert_eq!(settled, expected, "{policy}: {all}");
        s.sync_ok(0);
        let keep_both = policy == "keep-both";
        let mine = s.remote_titled("Review (mine)");
        assert_eq!(mine.len(), 1, "{policy}: {mine:?}");
        assert_eq!(
            mine[0]["id"] == json!(theirs),
            !keep_both,
            "{policy}: {mine:?}"
        );
        if policy == "ask" {
            assert_eq!(
                (&mine[0]["location"], &mine[0]["description"]),
                (&json!("Room 2"), &json!("Agenda")),
                "{mine:?}"
            );
        }
        let kept = usize::from(keep_both);
        assert_eq!(s.remote_titled("Review (theirs)").len(), kept, "{policy}");
        let at = new_time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        for (title, n) in [("Review (mine)", 1), ("Review (theirs)", kept)] {
            let here = s.local_titled(title);
            assert_eq!(here.len(), n, "{policy}: {title}: {here:?}");
            assert!(here.iter().all(|o| o["start"] == at), "{policy}: {here:?}");
        }
        s.assert_quiet();
    }
}

/// A series made all-day at Google while two of its occurrences were renamed here:
/// the renamed ones follow onto its days (one also changed there: an edit/edit
/// conflict); one another series made all-day no longer has is a conflict — and the
/// calendar keeps syncing (a timed key left under an all-day series stopped every
/// pull).
/// A series made all-day at Google keeps an occurrence changed there before (at its
/// time) behind. `events edit SERIES --occurrence TIME` edits that one as it is: read as
/// one of the series' days, the edit took the data of that day's own changed
/// occurrence (all day, its title) and wrote it over the one left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occurrence_left_behind_is_edited_from_the_command_line_as_it_is() {
    let s = Sync::google().await;
    let (master, series) = s.office_hours();
    let id = master["id"].as_str().expect("id");
    let (d1, d2) = (day(1), day(2));
    let instance = format!("{id}_{}T130000Z", d2.replace('-', ""));
    s.edit_remote(&instance, json!({"summary": "Office hours (moved)"}));
    s.sync_ok(0);
    s.edit_remote(
        id,
        json!({
            "start": {"date": d1, "dateTime": null, "timeZone": null},
            "end": {"date": d2, "dateTime": null, "timeZone": null},
        }),
    );
    s.sync_ok(0);
    s.rename_occurrence(&series, &d2, "Office hours (all day)");
    s.sync_ok(0);
    s.rename_occurrence(&series, &format!("{d2}T13:00"), "Office hours (left)");
    s.sync_ok(0);
    s.assert_quiet();
    let left = s.local_titled("Office hours (left)");
    assert_eq!(left.len(), 1, "{:?}", s.local());
    assert_eq!(
        (&left[0]["allDay"], &left[0]["start"]),
        (&json!(false), &json!(format!("{d2}T13:00:00Z"))),
        "{left:?}"
    );
    assert_eq!(s.local_titled("Office hours (all day)").len(), 1);
    let there = s.remote_titled("Office hours (left)");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert!(there[0]["start"]["dateTime"].is_string(), "{there:?}");
    assert_eq!(s.remote_titled("Office hours (all day)").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_made_all_day_there_takes_the_changes_here_along() {
    let s = Sync::google().await;
    let (master, series) = s.office_hours();
    let id = master["id"].as_str().expect("id");
    let (d1, d2, d3, d4) = (day(1), day(2), day(3), day(4));
    for (d, title) in [(&d2, "Office hours (2)"), (&d4, "Office hours (4)")] {
        s.rename_occurrence(&series, &format!("{d}T13:00"), title);
    }
    s.edit_remote(
        id,
        json!({
            "start": {"date": d1, "dateTime": null, "timeZone": null},
            "end": {"date": d2, "dateTime": null, "timeZone": null},
        }),
    );
    let theirs = format!("{id}_{}", d2.replace('-', ""));
    s.edit_remote(&theirs, json!({"summary": "Office hours (theirs)"}));
    s.sync_ok(1);
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open[0]["kind"], "edit_edit", "{open}");
    let four = s.local_titled("Office hours (4)");
    assert_eq!(four.len(), 1, "{four:?}");
    assert_eq!(
        (&four[0]["allDay"], &four[0]["start"]),
        (&json!(true), &json!(d4)),
        "{four:?}"
    );
    assert_eq!(s.remote_titled("Office hours (4)").len(), 1);
    s.sync_ok(0);

    // Another series made all-day and cut short to two days at Google while its day 3
    // was renamed here: a conflict for it (changed here, gone there), held as an event
    // of its own meanwhile, and the next runs are fine.
    let (review, review_id) = s.series_at_google("Review", "10:00", "11:00", "COUNT=4");
    s.rename_occurrence(&review_id, &format!("{d3}T10:00"), "Review (3)");
    s.edit_remote(
        review["id"].as_str().expect("id"),
        json!({
            "start": {"date": d1, "dateTime": null, "timeZone": null},
            "end": {"date": d2, "dateTime": null, "timeZone": null},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        }),
    );
    s.sync_ok(1);
    s.sync_ok(0);
    let open = s.cli(&["conflicts", "list"]);
    assert_eq!(open.as_array().map(Vec::len), Some(2), "{open}");
    let three = s.local_titled("Review (3)");
    assert_eq!(three.len(), 1, "{three:?}");
    assert_eq!(three[0]["recurring"], false, "{three:?}");
    assert!(s.remote_titled("Review (3)").is_empty());
}

/// An occurrence removed here whose series moved at Google, where the occurrence was
/// cancelled at its new time too: gone on both sides, no conflict, nothing to send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removal_here_meets_the_same_removal_at_the_new_time() {
    let s = Sync::google().await;
    let (id, _) = s.office_hours_moved_under_changes();
    let d3 = day(3);
    s.edit_remote(&moved_instance(&id, &d3), json!({"status": "cancelled"}));
    s.sync_ok(0);
    assert_eq!(s.cli(&["conflicts", "list", "--all"]), json!([]));
    let reasons = log_reasons(&s);
    let said = reasons
        .iter()
        .any(|r| r.contains("cancelled an occurrence removed here"));
    assert!(said, "{reasons:?}");
    let on_d3: Vec<(String, String)> = s
        .titles_and_starts()
        .into_iter()
        .filter(|(_, start)| start.starts_with(&d3))
        .collect();
    assert!(on_d3.is_empty(), "{on_d3:?}");
    assert_eq!(s.cli(&["status"])[0]["pendingPushes"], 0);
    s.assert_quiet();
}

/// A change here whose occurrence Google cancelled at the series' new time: the new
/// series has no such occurrence, so a policy that keeps edits keeps the change as an
/// event of its own, as when the series' rule no longer has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_keeps_a_change_here_cancelled_at_the_new_time() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    s.cli(&["calendars", "policy", &cal, "keep-both"]);
    let (id, _) = s.office_hours_moved_under_changes();
    let d2 = day(2);
    s.edit_remote(&moved_instance(&id, &d2), json!({"status": "cancelled"}));
    s.sync_ok(0);
    assert_eq!(s.cli(&["conflicts", "list"]), json!([]));
    assert_settled_by_policy(&s, "keep_both");
    let mine = s.local_titled("Office hours (mine)");
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["recurring"], false, "{mine:?}");
    let there = s.remote_titled("Office hours (mine)");
    assert_eq!(there.len(), 1, "{there:?}");
    assert!(there[0].get("recurringEventId").is_none(), "{there:?}");
    s.assert_quiet();
}

/// The same at Outlook, which drops a series' changed and cancelled occurrences when
/// its times change: the changes here, moved along, go out after the new times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_here_follow_a_series_moved_in_outlook() {
    let g = GraphSync::start().await;
    let (master, series) = g.team_sync();
    let (d1, d2, d3, d4) = (day(1), day(2), day(3), day(4));
    g.rename_occurrence(&series, &format!("{d2}T10:00"), "Team sync (demo)");
    g.events(&["rm", &series, "--occurrence", &format!("{d3}T10:00")]);
    g.edit(
        master["id"].as_str().expect("id"),
        json!({
            "start": {"dateTime": format!("{d1}T12:00:00"), "timeZone": "UTC"},
            "end": {"dateTime": format!("{d1}T12:30:00"), "timeZone": "UTC"},
        }),
    );
    g.sync_ok(0);
    let seen = g.titles_and_starts();
    let at = |d: &str| format!("{d}T12:00:00Z");
    assert_eq!(
        seen,
        [
            ("Team sync".to_owned(), at(&d1)),
            ("Team sync (demo)".to_owned(), at(&d2)),
            ("Team sync".to_owned(), at(&d4)),
        ],
        "{seen:?}"
    );
    g.assert_quiet();
    assert_eq!(g.shown_titled("Team sync").len(), 2);
    assert_eq!(g.shown_titled("Team sync (demo)").len(), 1);
    assert_eq!(g.cli(&["status"])[0]["pendingPushes"], 0);
}

/// One occurrence of a meeting renamed here: at the provider it is still the private
/// meeting with its people, its reminder and its formatted agenda — only the title
/// changed. (A new occurrence row lacked what the editor does not show, and the push
/// sent it as removed: the occurrence public, without reminder or attendees.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_occurrence_keeps_what_the_editor_does_not_show() {
    let s = Sync::google().await;
    s.sync();
    let d = day(1);
    s.state
        .google_seed_event(
            &s.email,
            "primary",
            &json!({
                "summary": "Weekly",
                "start": {"dateTime": format!("{d}T09:00:00Z"), "timeZone": "UTC"},
                "end": {"dateTime": format!("{d}T10:00:00Z"), "timeZone": "UTC"},
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
                "attendees": [
                    {"email": "sam@example.com"},
                    {"email": s.email.clone(), "self": true, "organizer": true},
                ],
                "reminders": {"useDefault": false, "overrides": [{"method": "popup", "minutes": 25}]},
                "visibility": "private",
                "description": "<b>Agenda</b> first",
            }),
        )
        .expect("seed");
    s.sync();
    let series = s.local_titled("Weekly")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.rename_occurrence(&series, &format!("{}T09:00", day(2)), "Weekly (moved)");
    s.sync_ok(0);
    let there = s.remote_titled("Weekly (moved)");
    assert_eq!(there.len(), 1, "{there:?}");
    let people: Vec<&Value> = there[0]["attendees"]
        .as_array()
        .expect("attendees")
        .iter()
        .map(|a| &a["email"])
        .collect();
    assert_eq!(
        people,
        [&json!("sam@example.com"), &json!(s.email)],
        "{there:?}"
    );
    assert_eq!(
        (
            &there[0]["visibility"],
            &there[0]["reminders"],
            &there[0]["description"]
        ),
        (
            &json!("private"),
            &json!({"useDefault": false, "overrides": [{"method": "popup", "minutes": 25}]}),
            &json!("<b>Agenda</b> first")
        ),
        "{there:?}"
    );
    s.assert_quiet();

    // The same in Outlook.
    let g = GraphSync::start().await;
    let d = day(1);
    g.seed(json!({
        "subject": "Weekly",
        "start": {"dateTime": format!("{d}T09:00:00"), "timeZone": "UTC"},
        "end": {"dateTime": format!("{d}T10:00:00"), "timeZone": "UTC"},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": d, "numberOfOccurrences": 3}
        },
        "sensitivity": "private",
        "isReminderOn": true,
        "reminderMinutesBeforeStart": 25,
        "attendees": [{"emailAddress": {"address": "sam@example.com"}, "type": "required"}],
        "body": {"contentType": "html", "content": "<b>Agenda</b> first"},
    }));
    g.sync();
    let series = g.local_titled("Weekly")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    let d2 = day(2);
    g.rename_occurrence(&series, &format!("{d2}T09:00"), "Weekly (moved)");
    g.sync_ok(0);
    let from = chrono::NaiveDate::parse_from_str(&d2, "%Y-%m-%d")
        .expect("date")
        .and_hms_opt(0, 0, 0)
        .expect("midnight");
    let shown = g
        .state
        .graph_instances(&g.email, from, from + Duration::days(1))
        .expect("instances");
    let moved = &shown["value"][0];
    assert_eq!(moved["subject"], "Weekly (moved)", "{shown}");
    assert_eq!(
        (
            &moved["sensitivity"],
            &moved["isReminderOn"],
            &moved["reminderMinutesBeforeStart"],
            &moved["attendees"][0]["emailAddress"]["address"],
            &moved["body"]["contentType"],
        ),
        (
            &json!("private"),
            &json!(true),
            &json!(25),
            &json!("sam@example.com"),
            &json!("html")
        ),
        "{moved}"
    );
    g.assert_quiet();
}

/// An event added here to an account's calendar gets the reminder a new event gets
/// there: Google's calendar default, Outlook's. (It was sent as "no reminder": the
/// user's new meeting never reminded them.) So does one whose create's answer was lost
/// and that was renamed after, and a series added here whose occurrence was moved
/// before its first sync: that occurrence keeps the series' default too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_added_here_gets_the_providers_default_reminder() {
    let s = Sync::google().await;
    s.sync();
    let cal = s.primary_calendar();
    let d = day(4);
    let add = |s: &Sync, cal: &str, title: &str, rule: Option<&str>| -> Value {
        let (start, end) = (format!("{d}T11:00"), format!("{d}T12:00"));
        let rule: Vec<&str> = rule.map(|r| vec!["--rrule", r]).unwrap_or_default();
        s.add_event(cal, title, &start, &end, &rule)
    };
    add(&s, &cal, "Customer call", None);
    // The weekly series, one occurrence moved an hour before it was ever sent.
    let weekly = add(&s, &cal, "Weekly", Some("FREQ=WEEKLY;COUNT=3"));
    let weekly = weekly["id"].as_str().expect("id");
    let next_week = (chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").expect("date")
        + Duration::days(7))
    .format("%Y-%m-%d")
    .to_string();
    s.events(&[
        "edit",
        weekly,
        "--occurrence",
        &format!("{next_week}T11:00"),
        "--title",
        "Weekly (moved)",
    ]);
    s.sync_ok(0);
    for title in ["Customer call", "Weekly", "Weekly (moved)"] {
        let there = s.remote_titled(title);
        assert_eq!(there.len(), 1, "{title}: {there:?}");
        assert_eq!(
            there[0]["reminders"],
            json!({"useDefault": true}),
            "{title}: {there:?}"
        );
    }
    s.assert_quiet();

    // The answer to its create lost (the retry finds Google's copy), then renamed
    // here: the title goes out, the default reminder stays.
    add(&s, &cal, "Follow-up", None);
    s.faults(
        json!({"add": [{"kind": "drop_connection", "route": "events.insert", "processed": true}]}),
    );
    s.sync();
    let id = s.local_titled("Follow-up")[0]["eventId"]
        .as_str()
        .expect("id")
        .to_owned();
    s.cli(&["events", "edit", &id, "--title", "Follow-up (renamed)"]);
    s.sync();
    s.sync_ok(0);
    let there = s.remote_titled("Follow-up (renamed)");
    assert_eq!(there.len(), 1, "{:?}", s.remote());
    assert_eq!(
        there[0]["reminders"],
        json!({"useDefault": true}),
        "{there:?}"
    );
    s.assert_quiet();

    let g = GraphSync::start().await;
    g.sync();
    let cals = g.cli(&["calendars", "list"]);
    let cal = cals
        .as_array()
        .expect("calendars")
        .iter()
        .find(|c| c["accountId"].is_string())
        .and_then(|c| c["id"].as_str())
        .expect("an Outlook calendar")
        .to_owned();
    add(&g, &cal, "Customer call", None);
    g.sync_ok(0);
    let there: Vec<Value> = g
        .remote()
        .into_iter()
        .filter(|e| e["subject"] == "Customer call")
        .collect();
    assert_eq!(there.len(), 1, "{there:?}");
    assert_eq!(
        (
            &there[0]["isReminderOn"],
            &there[0]["reminderMinutesBeforeStart"]
        ),
        (&json!(true), &json!(15)),
        "{there:?}"
    );
    g.assert_quiet();
}
