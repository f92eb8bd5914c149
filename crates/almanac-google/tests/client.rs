//! `GoogleCalendar` against the fake cloud's Google Calendar API (in process, on
//! loopback): paging, incremental sync, cancelled instances, 410, idempotent creates,
//! If-Match, deletes, throttling storms, captive portals, empty pages, free/busy, Meet.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use almanac_auth::Secret;
use almanac_fakecloud::google_store::GoogleFaultsUpdate;
use almanac_fakecloud::{FakeCloud, Provider, SharedState, UserSpec};
use almanac_google::{event_id_for_key, GoogleCalendar, PROP_SHOW_AS};
use almanac_model::{
    Attendee, AttendeeKind, Importance, MeetingProvider, OnlineMeeting, Person, Response,
    Sensitivity, ShowAs,
};
use almanac_provider::{
    ApiClient, Backoff, CalendarProvider, Change, Cursor, Deleted, Dialect, ErrorKind, Lookup,
    OriginalStart, ProviderError, RemoteCalendar, RemoteEvent, RemoteKind, RemoteRecurrence,
    Result, Timing, TokenSource, Window,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use url::Url;

mod support;

const ME: &str = "me@example.com";

/// Tokens minted by the fake for one user; `force_refresh` mints a new one.
struct FakeTokens {
    state: SharedState,
    email: String,
    current: Mutex<Option<String>>,
    refreshes: AtomicUsize,
}

impl TokenSource for FakeTokens {
    fn token(
        &self,
        force_refresh: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Secret>> + Send + '_>> {
        Box::pin(async move {
            let mut current = self.current.lock().expect("lock");
            if force_refresh || current.is_none() {
                if force_refresh {
                    self.refreshes.fetch_add(1, Ordering::SeqCst);
                }
                let token = self
                    .state
                    .mint_access_token(Provider::Google, &self.email)
                    .map_err(|e| ProviderError::new(ErrorKind::ActionRequired, format!("{e:?}")))?;
                *current = Some(token);
            }
            Ok(Secret::new(current.clone().unwrap_or_default()))
        })
    }
}

struct Env {
    /// Keeps the server running.
    _cloud: FakeCloud,
    state: SharedState,
    google: GoogleCalendar,
    tokens: Arc<FakeTokens>,
}

fn add_user(state: &SharedState, email: &str) {
    state
        .add_user(UserSpec {
            provider: Provider::Google,
            email: email.into(),
            name: None,
            current: false,
        })
        .expect("user");
}

async fn env_with_token(initial: Option<&str>) -> Env {
    let cloud = FakeCloud::start().await.expect("fake cloud");
    let state = cloud.state();
    add_user(&state, ME);
    let tokens = Arc::new(FakeTokens {
        state: state.clone(),
        email: ME.into(),
        current: Mutex::new(initial.map(str::to_owned)),
        refreshes: AtomicUsize::new(0),
    });
    let backoff = Backoff {
        max_attempts: 6,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    };
    let api = ApiClient::new(Dialect::Google, tokens.clone(), backoff).expect("client");
    let base = Url::parse(&format!("{}/calendar/v3", cloud.base_url())).expect("url");
    let google = GoogleCalendar::new(api, base, ME);
    Env {
        _cloud: cloud,
        state,
        google,
        tokens,
    }
}

async fn env() -> Env {
    env_with_token(None).await
}

impl Env {
    fn faults(&self, update: Value) {
        let update: GoogleFaultsUpdate = serde_json::from_value(update).expect("faults");
        self.state.google_set_faults(update).expect("set faults");
    }

    fn seed(&self, event: Value) -> Value {
        self.state
            .google_seed_event(ME, "primary", &event)
            .expect("seed")
    }

    async fn primary(&self) -> RemoteCalendar {
        self.google
            .list_calendars()
            .await
            .expect("calendars")
            .into_iter()
            .find(|c| c.is_primary)
            .expect("primary")
    }

    /// One whole round: every page until `Done`.
    async fn round(
        &self,
        cal: &RemoteCalendar,
        cursor: Option<String>,
    ) -> Result<(Vec<Change>, String, usize)> {
        let mut cursor = cursor;
        let mut all = Vec::new();
        for pages in 1..200 {
            let page = self
                .google
                .changes(cal, cursor.as_deref(), window())
                .await?;
            all.extend(page.changes);
            match page.cursor {
                Cursor::More(c) => cursor = Some(c),
                Cursor::Done(d) => return Ok((all, d, pages)),
            }
        }
        panic!("a round that never ends");
    }

    /// The stored Google JSON of an event (what the server holds).
    fn stored(&self, id: &str) -> Value {
        self.state
            .google_events(ME, "primary")
            .expect("events")
            .into_iter()
            .find(|e| e["id"] == id)
            .unwrap_or_else(|| panic!("no stored event {id}"))
    }
}

fn window() -> Window {
    Window {
        start: utc("2025-01-01T00:00:00Z"),
        end: utc("2026-01-01T00:00:00Z"),
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn upserts(changes: &[Change]) -> Vec<&RemoteEvent> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert(e) => Some(e.as_ref()),
            Change::Removed { .. } => None,
        })
        .collect()
}

fn removed(changes: &[Change]) -> Vec<&str> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Removed { remote_id } => Some(remote_id.as_str()),
            Change::Upsert(_) => None,
        })
        .collect()
}

fn timed(id: &str, start: &str, end: &str) -> Value {
    json!({"id": id, "summary": id,
        "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
        "end": {"dateTime": end, "timeZone": "Europe/Berlin"}})
}

fn weekly_series(env: &Env) {
    env.seed(json!({"id": "weekly1", "summary": "Weekly",
        "start": {"dateTime": "2025-03-03T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2025-03-03T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]}));
}

fn new_event(title: &str) -> RemoteEvent {
    RemoteEvent {
        remote_id: String::new(),
        etag: None,
        ical_uid: None,
        kind: RemoteKind::Single,
        series: None,
        cancelled: false,
        title: title.into(),
        body_text: String::new(),
        body_html: None,
        timing: Timing::Timed {
            start: utc("2025-05-05T08:00:00Z"),
            end: utc("2025-05-05T09:00:00Z"),
            time_zone: "Europe/Berlin".into(),
        },
        show_as: ShowAs::Busy,
        importance: Importance::Normal,
        sensitivity: Sensitivity::Normal,
        categories: vec![],
        location: String::new(),
        attendees: vec![],
        organizer: None,
        online_meeting: None,
        recurrence: None,
        reminder_minutes: Some(10),
        extra: Default::default(),
    }
}

#[tokio::test]
async fn calendar_list_with_paging_roles_and_owners() {
    let env = env().await;
    let s = &env.state;
    s.google_seed_calendar(
        ME,
        &json!({"id": "boss@example.com", "summary": "boss@example.com",
        "summaryOverride": "The boss", "accessRole": "reader", "backgroundColor": "#ff0000",
        "timeZone": "America/New_York"}),
    )
    .expect("shared");
    s.google_seed_calendar(
        ME,
        &json!({"id": "team@group.calendar.google.com", "summary": "Team",
        "accessRole": "writer"}),
    )
    .expect("team");
    s.google_seed_calendar(
        ME,
        &json!({"id": "fb@example.com", "summary": "Free/busy only",
        "accessRole": "freeBusyReader"}),
    )
    .expect("fb");
    env.faults(json!({"page_size": 1}));
    let cals = env.google.list_calendars().await.expect("list");
    assert_eq!(cals.len(), 4, "{cals:#?}");
    let by_id = |id: &str| cals.iter().find(|c| c.remote_id == id).expect(id);
    let primary = by_id(ME);
    assert!(primary.is_primary && primary.can_edit);
    assert_eq!(primary.owner_email, None);
    assert_eq!(primary.time_zone.as_deref(), Some("UTC"));
    assert_eq!(primary.color, "#9fe1e7");
    let boss = by_id("boss@example.com");
    assert_eq!(boss.name, "The boss");
    assert!(!boss.can_edit && !boss.is_primary);
    assert_eq!(boss.owner_email.as_deref(), Some("boss@example.com"));
    assert_eq!(boss.color, "#ff0000");
    assert_eq!(boss.time_zone.as_deref(), Some("America/New_York"));
    let team = by_id("team@group.calendar.google.com");
    assert!(team.can_edit);
    assert_eq!(team.owner_email, None);
    assert!(!by_id("fb@example.com").can_edit);
    let stats = s.google_calendar_stats();
    assert_eq!(
        stats.requests.get("calendarList.list"),
        Some(&4),
        "four pages of one"
    );
}

#[tokio::test]
async fn full_sync_pages_then_incremental_sees_other_clients_edits() {
    let env = env().await;
    for i in 0..5 {
        env.seed(timed(
            &format!("single{i}"),
            &format!("2025-04-0{}T09:00:00+02:00", i + 1),
            &format!("2025-04-0{}T10:00:00+02:00", i + 1),
        ));
    }
    weekly_series(&env);
    env.seed(json!({"recurringEventId": "weekly1", "summary": "Moved",
        "originalStartTime": {"dateTime": "2025-03-10T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "start": {"dateTime": "2025-03-10T11:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2025-03-10T12:00:00+01:00", "timeZone": "Europe/Berlin"}}));
    let cal = env.primary().await;
    env.faults(json!({"page_size": 2}));

    let (changes, done, pages) = env.round(&cal, None).await.expect("full");
    assert_eq!(pages, 4, "7 items in pages of 2");
    let events = upserts(&changes);
    assert_eq!(events.len(), 7);
    let master = events
        .iter()
        .find(|e| e.remote_id == "weekly1")
        .expect("master");
    assert_eq!(master.kind, RemoteKind::Master);
    assert_eq!(
        master.recurrence,
        Some(RemoteRecurrence {
            rrule: "FREQ=WEEKLY;COUNT=4".into(),
            exdates: vec![],
            rdates: vec![]
        })
    );
    let moved = events
        .iter()
        .find(|e| e.remote_id == "weekly1_20250310T080000Z")
        .expect("exception");
    assert_eq!(moved.kind, RemoteKind::Exception);
    assert_eq!(moved.title, "Moved");
    let link = moved.series.as_ref().expect("series");
    assert_eq!(link.master_id, "weekly1");
    assert_eq!(
        link.original_start,
        OriginalStart::Timed(utc("2025-03-10T08:00:00Z"))
    );

    // Nothing changed: an empty round.
    let (changes, done, _) = env.round(&cal, Some(done)).await.expect("quiet");
    assert!(changes.is_empty(), "{changes:#?}");

    // Another client edits one, deletes one, adds one.
    env.state
        .google_edit_event(ME, "primary", "single1", &json!({"summary": "Renamed"}))
        .expect("edit");
    env.state
        .google_delete_event(ME, "primary", "single2")
        .expect("delete");
    env.seed(timed(
        "added1",
        "2025-04-20T09:00:00+02:00",
        "2025-04-20T10:00:00+02:00",
    ));
    let (changes, done, _) = env.round(&cal, Some(done)).await.expect("incremental");
    let mut ids: Vec<&str> = upserts(&changes)
        .iter()
        .map(|e| e.remote_id.as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, vec!["added1", "single1"]);
    assert_eq!(
        upserts(&changes)
            .iter()
            .find(|e| e.remote_id == "single1")
            .map(|e| e.title.as_str()),
        Some("Renamed")
    );
    assert_eq!(removed(&changes), vec!["single2"]);

    // The incremental requests carried the token and none of the forbidden filters
    // (the fake answers 400 to any of them).
    let (changes, _, _) = env.round(&cal, Some(done)).await.expect("quiet again");
    assert!(changes.is_empty());
}

#[tokio::test]
async fn a_cancelled_instance_stays_a_hidden_instance() {
    let env = env().await;
    weekly_series(&env);
    let cal = env.primary().await;
    let (_, done, _) = env.round(&cal, None).await.expect("full");

    // One instance deleted by another client, one by us (by its instance id).
    env.state
        .google_delete_event(ME, "primary", "weekly1_20250317T080000Z")
        .expect("cancel instance");
    env.google
        .delete(&cal, "weekly1_20250324T080000Z", None)
        .await
        .expect("our delete");
    let (changes, _, _) = env.round(&cal, Some(done)).await.expect("incremental");
    assert!(
        removed(&changes).is_empty(),
        "instances are not removals: {changes:#?}"
    );
    let hidden = upserts(&changes);
    assert_eq!(hidden.len(), 2, "{hidden:#?}");
    for (id, original) in [
        ("weekly1_20250317T080000Z", "2025-03-17T08:00:00Z"),
        ("weekly1_20250324T080000Z", "2025-03-24T08:00:00Z"),
    ] {
        let e = hidden.iter().find(|e| e.remote_id == id).expect(id);
        assert!(e.cancelled);
        assert_eq!(e.kind, RemoteKind::Exception);
        let link = e.series.as_ref().expect("series");
        assert_eq!(link.master_id, "weekly1");
        assert_eq!(link.original_start, OriginalStart::Timed(utc(original)));
    }

    // A fresh full listing (showDeleted) has them too, next to the live master.
    let (changes, _, _) = env.round(&cal, None).await.expect("full again");
    let all = upserts(&changes);
    assert!(all.iter().any(|e| e.remote_id == "weekly1" && !e.cancelled));
    assert_eq!(all.iter().filter(|e| e.cancelled).count(), 2);
}

#[tokio::test]
async fn an_invalidated_sync_token_restarts_as_a_full_listing() {
    let env = env().await;
    env.seed(timed(
        "one",
        "2025-04-01T09:00:00+02:00",
        "2025-04-01T10:00:00+02:00",
    ));
    let cal = env.primary().await;
    let first = env
        .google
        .changes(&cal, None, window())
        .await
        .expect("page");
    assert!(first.full_listing, "the first round lists everything");
    let (_, done, _) = env.round(&cal, None).await.expect("full");
    let incremental = env
        .google
        .changes(&cal, Some(&done), window())
        .await
        .expect("page");
    assert!(!incremental.full_listing);
    env.state
        .google_invalidate_sync_tokens(ME, Some("primary"))
        .expect("invalidate");
    // 410 fullSyncRequired: the client lists again from scratch and says so.
    let page = env
        .google
        .changes(&cal, Some(&done), window())
        .await
        .expect("restarted");
    assert!(page.full_listing);
    assert_eq!(upserts(&page.changes).len(), 1);
    // An unreadable saved cursor also means "start over", never a silent empty round.
    let page = env
        .google
        .changes(&cal, Some("not a cursor"), window())
        .await
        .expect("restarted");
    assert!(page.full_listing);
    assert_eq!(upserts(&page.changes).len(), 1);
}

fn rich_new_event() -> RemoteEvent {
    let mut ev = new_event("Planning");
    ev.body_html = Some("<p>Plan <b>Q3</b></p>".into());
    ev.body_text = "Plan Q3".into();
    ev.show_as = ShowAs::Tentative;
    ev.importance = Importance::High;
    ev.sensitivity = Sensitivity::Personal;
    ev.categories = vec!["Work".into(), "Q3, planning".into()];
    ev.location = "HQ".into();
    ev.kind = RemoteKind::Master;
    ev.recurrence = Some(RemoteRecurrence {
        rrule: "FREQ=WEEKLY;COUNT=5".into(),
        exdates: vec!["2025-05-12T10:00".into()],
        rdates: vec![],
    });
    ev.attendees = vec![
        Attendee {
            person: Person {
                email: "ann@example.com".into(),
                name: "Ann".into(),
            },
            kind: AttendeeKind::Required,
            response: Response::None,
        },
        Attendee {
            person: Person {
                email: "room@resource.example.com".into(),
                name: String::new(),
            },
            kind: AttendeeKind::Resource,
            response: Response::None,
        },
        Attendee {
            person: Person {
                email: "opt@example.com".into(),
                name: String::new(),
            },
            kind: AttendeeKind::Optional,
            response: Response::None,
        },
    ];
    ev.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Teams,
        join_url: "https://teams.microsoft.com/l/meetup-join/abc".into(),
        conference_id: Some("123 456".into()),
        toll_number: Some("+1 555 0199".into()),
        pin: Some("9876".into()),
    });
    ev.reminder_minutes = Some(25);
    ev.extra.insert("colorId".into(), json!("4"));
    ev
}

/// What Almanac asked for came back from the server.
fn assert_same_content(got: &RemoteEvent, want: &RemoteEvent) {
    assert_eq!(got.title, want.title);
    assert_eq!(got.body_text, want.body_text);
    assert_eq!(got.body_html, want.body_html);
    assert_eq!(got.timing, want.timing);
    assert_eq!(got.show_as, want.show_as);
    assert_eq!(got.importance, want.importance);
    assert_eq!(got.sensitivity, want.sensitivity);
    assert_eq!(got.categories, want.categories);
    assert_eq!(got.location, want.location);
    assert_eq!(got.attendees, want.attendees);
    assert_eq!(got.online_meeting, want.online_meeting);
    assert_eq!(got.recurrence, want.recurrence);
    assert_eq!(got.reminder_minutes, want.reminder_minutes);
    assert_eq!(got.kind, want.kind);
    // A field Almanac does not map, written back as it was.
    assert_eq!(got.extra.get("colorId"), want.extra.get("colorId"));
}

#[tokio::test]
async fn create_is_idempotent_and_every_field_survives_the_server() {
    let env = env().await;
    let cal = env.primary().await;
    let key = "550e8400-e29b-41d4-a716-446655440000";
    let ev = rich_new_event();

    let created = env.google.create(&cal, &ev, key).await.expect("create");
    assert_eq!(created.remote_id, event_id_for_key(key).expect("id"));
    assert!(created.etag.is_some());
    assert_eq!(
        created.ical_uid.as_deref(),
        Some(format!("{}@google.com", created.remote_id).as_str())
    );
    assert_eq!(
        created.organizer.as_ref().map(|p| p.email.as_str()),
        Some(ME)
    );
    assert_same_content(&created, &ev);

    // The same key again (a retry after a lost answer): the same event, not a second one.
    let again = env
        .google
        .create(&cal, &ev, key)
        .await
        .expect("create again");
    assert_eq!(again.remote_id, created.remote_id);
    assert_eq!(again.etag, created.etag);
    let stats = env.state.google_calendar_stats();
    assert_eq!(stats.inserts_by_client.values().sum::<u64>(), 1);

    // And what a sync reads is the same.
    let (changes, _, _) = env.round(&cal, None).await.expect("list");
    let listed = upserts(&changes);
    assert_eq!(listed.len(), 1);
    assert_same_content(listed[0], &ev);

    // The private extended properties on the server.
    let stored = env.stored(&created.remote_id);
    let private = &stored["extendedProperties"]["private"];
    assert_eq!(private[PROP_SHOW_AS], "tentative");
    assert_eq!(private["almanacSensitivity"], "personal");
    assert_eq!(private["almanacImportance"], "high");
    assert_eq!(stored["visibility"], "private");
    assert_eq!(stored["transparency"], "opaque");
    assert!(stored.get("iCalUID").is_some());
    assert!(
        env.state
            .google_calendar_stats()
            .conference_data_version_1_on_every_write
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_lands_once() {
    let env = env().await;
    let cal = env.primary().await;
    env.faults(
        json!({"add": [{"kind": "drop_connection", "processed": true,
        "route": "events.insert", "count": 1}]}),
    );
    let created = env
        .google
        .create(
            &cal,
            &new_event("Lost answer"),
            "7d444840-9dc0-11d1-b245-5ffdce74fad2",
        )
        .await
        .expect("create rides out the lost answer");
    assert_eq!(created.title, "Lost answer");
    let stored = env.state.google_events(ME, "primary").expect("events");
    assert_eq!(stored.len(), 1);
    let stats = env.state.google_calendar_stats();
    assert_eq!(stats.requests.get("events.insert"), Some(&2), "{stats:?}");
    assert_eq!(stats.requests.get("events.get"), Some(&1));
}

#[tokio::test]
async fn update_needs_the_current_etag() {
    let env = env().await;
    let cal = env.primary().await;
    let created = env
        .google
        .create(&cal, &rich_new_event(), "update-test-key")
        .await
        .expect("create");
    let first_etag = created.etag.clone().expect("etag");

    let mut edit = created.clone();
    edit.title = "Planning (moved)".into();
    edit.show_as = ShowAs::Free;
    edit.sensitivity = Sensitivity::Normal;
    edit.categories.clear();
    edit.attendees.retain(|a| a.kind != AttendeeKind::Optional);
    edit.online_meeting = None;
    edit.reminder_minutes = None;
    let updated = env
        .google
        .update(&cal, &edit, &first_etag)
        .await
        .expect("update");
    assert_ne!(updated.etag.as_deref(), Some(first_etag.as_str()));
    assert_same_content(&updated, &edit);
    let stored = env.stored(&created.remote_id);
    let private = stored["extendedProperties"]["private"]
        .as_object()
        .expect("private");
    assert!(
        !private.contains_key(PROP_SHOW_AS),
        "deleted with null: {private:?}"
    );
    assert!(!private.contains_key("almanacCategories"));
    assert!(!private.contains_key("almanacOnlineMeeting"));
    assert_eq!(private["almanacImportance"], "high", "untouched");
    assert_eq!(stored["transparency"], "transparent");

    // The etag we started from is stale now.
    let mut stale = updated.clone();
    stale.title = "Lost update".into();
    let err = env
        .google
        .update(&cal, &stale, &first_etag)
        .await
        .expect_err("412");
    assert_eq!(err.kind, ErrorKind::PreconditionFailed);
    assert_eq!(err.status, Some(412));
    assert_eq!(
        env.stored(&created.remote_id)["summary"],
        "Planning (moved)"
    );
    assert!(
        env.state
            .google_calendar_stats()
            .conference_data_version_1_on_every_write
    );
}

#[tokio::test]
async fn deleting_twice_is_success_and_a_stale_etag_is_refused() {
    let env = env().await;
    let cal = env.primary().await;
    let created = env
        .google
        .create(&cal, &new_event("Doomed"), "delete-test-key")
        .await
        .expect("create");
    let etag = created.etag.clone().expect("etag");
    // Someone else edits it: our etag is stale and the delete is refused.
    env.state
        .google_edit_event(
            ME,
            "primary",
            &created.remote_id,
            &json!({"summary": "Edited"}),
        )
        .expect("edit");
    let err = env
        .google
        .delete(&cal, &created.remote_id, Some(&etag))
        .await
        .expect_err("stale");
    assert_eq!(err.kind, ErrorKind::PreconditionFailed);

    let Lookup::Found(current) = env
        .google
        .get_event(&cal, &created.remote_id)
        .await
        .expect("get")
    else {
        panic!("still there");
    };
    let etag = current.etag.clone().expect("etag");
    let first = env
        .google
        .delete(&cal, &created.remote_id, Some(&etag))
        .await
        .expect("delete");
    assert_eq!(first, Deleted::Now);
    // Again, with the same (now stale) etag, and without one: both success (410
    // deleted), and told apart from a delete that found the event.
    let again = env
        .google
        .delete(&cal, &created.remote_id, Some(&etag))
        .await
        .expect("delete again with etag");
    assert_eq!(again, Deleted::AlreadyGone);
    let again = env
        .google
        .delete(&cal, &created.remote_id, None)
        .await
        .expect("delete again");
    assert_eq!(again, Deleted::AlreadyGone);
    // Never existed: 404, also success.
    let never = env
        .google
        .delete(&cal, "neverexisted1", None)
        .await
        .expect("404 is success");
    assert_eq!(never, Deleted::AlreadyGone);
    assert!(matches!(
        env.google.get_event(&cal, &created.remote_id).await,
        Ok(Lookup::Gone)
    ));
}

#[tokio::test]
async fn an_event_asked_for_that_cannot_be_read_is_neither_gone_nor_a_failure_of_the_others() {
    let env = env().await;
    let cal = env.primary().await;
    let mut ids = Vec::new();
    for title in ["Series 0", "Series 1", "Series 2"] {
        let ev = env
            .google
            .create(&cal, &new_event(title), &format!("key-{title}"))
            .await
            .expect("create");
        ids.push(ev.remote_id);
    }
    env.google
        .delete(&cal, &ids[2], None)
        .await
        .expect("delete");
    let malformed = json!({"add": [{"kind": "malformed_event", "route": "events.get"}]});
    env.faults(malformed.clone());
    let got = env.google.events(&cal, &ids).await.expect("events");
    assert!(
        matches!(&got[0], Lookup::Unreadable(why) if why.contains("10.5")),
        "{:?}",
        got[0]
    );
    assert_eq!(
        got[1].clone().found().map(|e| e.title).as_deref(),
        Some("Series 1")
    );
    assert!(got[2].is_gone(), "{:?}", got[2]);
    // Asked for alone, it fails the request: the caller cannot go on with it.
    env.faults(malformed);
    let one = env
        .google
        .event(&cal, &ids[0])
        .await
        .expect_err("unreadable");
    assert_eq!(one.kind, ErrorKind::ProviderUnavailable);
    assert!(one.message.contains("cannot read"), "{}", one.message);
    let again = env.google.event(&cal, &ids[0]).await.expect("read");
    assert_eq!(again.map(|e| e.title).as_deref(), Some("Series 0"));
}

#[tokio::test]
async fn a_throttling_storm_with_retry_after_is_ridden_out() {
    let env = env().await;
    env.seed(timed(
        "one",
        "2025-04-01T09:00:00+02:00",
        "2025-04-01T10:00:00+02:00",
    ));
    let cal = env.primary().await;
    env.faults(json!({"add": [
        {"kind": "error", "status": 403, "reason": "rateLimitExceeded", "retry_after_secs": 1,
         "route": "events.list", "count": 1},
        {"kind": "error", "status": 429, "reason": "rateLimitExceeded", "retry_after_secs": 1,
         "route": "events.list", "count": 1},
        {"kind": "error", "status": 403, "reason": "userRateLimitExceeded",
         "route": "events.list", "count": 2},
        {"kind": "error", "status": 500, "reason": "backendError", "route": "events.list", "count": 1}
    ]}));
    let started = Instant::now();
    let (changes, _, _) = env.round(&cal, None).await.expect("ridden out");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured: {:?}",
        started.elapsed()
    );
    assert_eq!(upserts(&changes).len(), 1);
    let stats = env.state.google_calendar_stats();
    assert_eq!(stats.requests.get("events.list"), Some(&6));
    assert_eq!(stats.faults_fired, 5);

    // A daily quota is not waited out.
    env.faults(
        json!({"add": [{"kind": "error", "status": 403, "reason": "quotaExceeded",
        "route": "events.list", "count": 1}]}),
    );
    let err = env.round(&cal, None).await.expect_err("quota");
    assert_eq!(err.kind, ErrorKind::Forbidden);
}

#[tokio::test]
async fn an_html_answer_is_an_error_never_an_empty_calendar() {
    let env = env().await;
    env.seed(timed(
        "one",
        "2025-04-01T09:00:00+02:00",
        "2025-04-01T10:00:00+02:00",
    ));
    let cal = env.primary().await;
    env.faults(json!({"add": [{"kind": "captive_portal", "route": "events.list", "count": 1}]}));
    let err = env
        .google
        .changes(&cal, None, window())
        .await
        .expect_err("portal");
    assert_eq!(err.kind, ErrorKind::ProviderUnavailable);
    assert!(err.not_json);
    env.faults(
        json!({"add": [{"kind": "captive_portal", "route": "calendarList.list", "count": 1}]}),
    );
    let err = env.google.list_calendars().await.expect_err("portal");
    assert!(err.not_json);
    // Once the portal is gone, the calendar is there.
    let (changes, _, _) = env.round(&cal, None).await.expect("list");
    assert_eq!(upserts(&changes).len(), 1);
}

#[tokio::test]
async fn an_empty_page_with_a_next_page_token_is_not_the_end() {
    let env = env().await;
    for i in 0..3 {
        env.seed(timed(
            &format!("e{i}"),
            "2025-04-01T09:00:00+02:00",
            "2025-04-01T10:00:00+02:00",
        ));
    }
    let cal = env.primary().await;
    env.faults(json!({"page_size": 2, "add": [{"kind": "empty_pages", "route": "events.list", "count": 2}]}));
    let first = env
        .google
        .changes(&cal, None, window())
        .await
        .expect("page 1");
    assert!(first.changes.is_empty());
    let Cursor::More(next) = first.cursor else {
        panic!("an empty first page must not end the round");
    };
    let second = env
        .google
        .changes(&cal, Some(&next), window())
        .await
        .expect("page 2");
    assert!(second.changes.is_empty());
    let Cursor::More(next) = second.cursor else {
        panic!("still not the end");
    };
    let (changes, _, pages) = env.round(&cal, Some(next)).await.expect("rest");
    assert_eq!(pages, 2, "two short pages of 2 and 1");
    assert_eq!(upserts(&changes).len(), 3);
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once() {
    let env = env_with_token(Some("ya29.stale")).await;
    let cals = env.google.list_calendars().await.expect("after refresh");
    assert_eq!(cals.len(), 1);
    assert_eq!(env.tokens.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(env.state.google_calendar_stats().unauthenticated, 1);
}

#[tokio::test]
async fn free_busy_with_per_calendar_errors() {
    let env = env().await;
    add_user(&env.state, "other@example.com");
    env.seed(
        json!({"id": "busy1", "start": {"dateTime": "2025-05-05T10:00:00Z"},
        "end": {"dateTime": "2025-05-05T11:00:00Z"}}),
    );
    env.seed(json!({"id": "free1", "transparency": "transparent",
        "start": {"dateTime": "2025-05-05T14:00:00Z"}, "end": {"dateTime": "2025-05-05T15:00:00Z"}}));
    env.state
        .google_seed_event(
            "other@example.com",
            "primary",
            &json!({"id": "theirs1", "start": {"dateTime": "2025-05-05T12:00:00Z"},
                "end": {"dateTime": "2025-05-05T13:30:00Z"}}),
        )
        .expect("seed other");
    let who = vec![
        ME.to_owned(),
        "other@example.com".to_owned(),
        "nobody@example.com".to_owned(),
    ];
    let fb = env
        .google
        .free_busy(
            &who,
            Window {
                start: utc("2025-05-05T00:00:00Z"),
                end: utc("2025-05-06T00:00:00Z"),
            },
        )
        .await
        .expect("free/busy");
    let mine = &fb[ME];
    assert!(mine.errors.is_empty());
    assert_eq!(mine.busy.len(), 1);
    assert_eq!(mine.busy[0].start, utc("2025-05-05T10:00:00Z"));
    assert_eq!(mine.busy[0].end, utc("2025-05-05T11:00:00Z"));
    let theirs = &fb["other@example.com"];
    assert_eq!(theirs.busy.len(), 1);
    assert_eq!(theirs.busy[0].end, utc("2025-05-05T13:30:00Z"));
    let nobody = &fb["nobody@example.com"];
    assert!(nobody.busy.is_empty());
    assert_eq!(nobody.errors.len(), 1);
    assert_eq!(nobody.errors[0].reason, "notFound");
}

#[tokio::test]
async fn meet_is_requested_and_arrives_later() {
    let env = env().await;
    let cal = env.primary().await;
    let mut ev = new_event("Video call");
    ev.online_meeting = Some(OnlineMeeting {
        provider: MeetingProvider::Meet,
        join_url: String::new(),
        conference_id: None,
        toll_number: None,
        pin: None,
    });
    let created = env
        .google
        .create(&cal, &ev, "meet-test-key-1")
        .await
        .expect("create");
    let pending = created.online_meeting.clone().expect("pending meeting");
    assert_eq!(pending.provider, MeetingProvider::Meet);
    assert!(pending.join_url.is_empty(), "created asynchronously");

    let Lookup::Found(later) = env
        .google
        .get_event(&cal, &created.remote_id)
        .await
        .expect("get")
    else {
        panic!("event gone");
    };
    let meet = later.online_meeting.clone().expect("meeting");
    assert_eq!(meet.provider, MeetingProvider::Meet);
    assert!(
        meet.join_url.starts_with("https://meet.google.com/"),
        "{meet:?}"
    );
    assert!(meet.conference_id.is_some());
    assert_eq!(meet.toll_number.as_deref(), Some("+1 555-0100"));
    assert!(meet.pin.is_some());

    // An unrelated edit keeps the Meet as it is.
    let mut edit = later.clone();
    edit.title = "Video call (renamed)".into();
    let etag = later.etag.clone().expect("etag");
    let updated = env.google.update(&cal, &edit, &etag).await.expect("update");
    assert_eq!(updated.online_meeting, later.online_meeting);

    // A Meet added to an existing event.
    let plain = env
        .google
        .create(&cal, &new_event("Add a Meet"), "meet-test-key-2")
        .await
        .expect("create plain");
    let asked = env
        .google
        .request_meet(
            &cal,
            &plain.remote_id,
            plain.etag.as_deref().expect("etag"),
            "req-1",
        )
        .await
        .expect("request");
    assert_eq!(
        asked.online_meeting.as_ref().map(|m| m.join_url.as_str()),
        Some("")
    );
    let Lookup::Found(with_meet) = env
        .google
        .get_event(&cal, &plain.remote_id)
        .await
        .expect("get")
    else {
        panic!("event gone");
    };
    assert!(with_meet
        .online_meeting
        .expect("meeting")
        .join_url
        .starts_with("https://meet.google.com/"));
    let stats = env.state.google_calendar_stats();
    assert!(stats.conference_data_version_1_on_every_write);
}

#[test]
fn write_bodies_fit_the_discovery_document() {
    // The same checker the mapping tests use, on the bodies the client sends.
    let ctx = almanac_google::CalendarContext::default();
    for ev in [new_event("x"), rich_new_event()] {
        let body = almanac_google::to_google(&ev, &ctx).expect("body");
        support::discovery::assert_fits("Event", &Value::Object(body));
    }
}

#[tokio::test]
async fn every_body_the_client_sends_is_valid_against_the_discovery_document() {
    let env = env().await;
    let cal = env.primary().await;
    let created = env
        .google
        .create(
            &cal,
            &rich_new_event(),
            "0b9d1b2e-4c1a-4f7e-9d51-1f2e3d4c5b6a",
        )
        .await
        .expect("create");
    let mut changed = created.clone();
    changed.title = "Planning (moved)".into();
    changed.categories.push("Renewal".into());
    let etag = created.etag.clone().expect("etag");
    env.google
        .update(&cal, &changed, &etag)
        .await
        .expect("update");
    let bodies = env.state.received_bodies(Provider::Google);
    let writes: Vec<_> = bodies
        .iter()
        .filter(|b| b.route.starts_with("events."))
        .collect();
    assert!(writes.len() >= 2, "{bodies:?}");
    for b in writes {
        support::discovery::assert_fits("Event", &b.body);
    }
}
