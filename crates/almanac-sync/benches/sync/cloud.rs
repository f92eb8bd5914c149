//! The fake cloud for the benchmarks: a Google account with calendars of realistic
//! events, served on its own threads so the engine's thread CPU time is the engine's.

use std::sync::mpsc;
use std::sync::Arc;

use almanac_auth::Secret;
use almanac_fakecloud::google_store::{GoogleFaultsUpdate, ListLatency};
use almanac_fakecloud::{FakeCloud, Provider, SharedState, UserSpec};
use almanac_google::GoogleCalendar;
use almanac_provider::{ApiClient, Backoff, Dialect, TokenSource};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

pub const EMAIL: &str = "csm@example.com";

/// A fake cloud running on a runtime of its own (two worker threads).
pub struct Cloud {
    pub base_url: String,
    pub state: SharedState,
    _stop: mpsc::Sender<()>,
}

impl Cloud {
    pub fn start() -> Cloud {
        let (tx, rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("fakecloud")
                .enable_all()
                .build()
                .expect("fake cloud runtime");
            rt.block_on(async move {
                let cloud = FakeCloud::start().await.expect("start fake cloud");
                tx.send((cloud.base_url(), cloud.state()))
                    .expect("hand over");
                // Lives until the benchmark drops its `Cloud`.
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                cloud.stop().await;
            });
        });
        let (base_url, state) = rx.recv().expect("fake cloud started");
        state
            .add_user(UserSpec {
                provider: Provider::Google,
                email: EMAIL.into(),
                name: Some("Casey Success".into()),
                current: true,
            })
            .expect("seed user");
        Cloud {
            base_url,
            state,
            _stop: stop_tx,
        }
    }

    /// Seeds `calendars` calendars with `per_calendar` events each (1 in 200 a weekly
    /// series), returns their ids.
    pub fn seed(&self, calendars: usize, per_calendar: usize, now: DateTime<Utc>) -> Vec<String> {
        let mut ids = Vec::new();
        for c in 0..calendars {
            let cal = self
                .state
                .google_seed_calendar(EMAIL, &json!({"summary": format!("Customers {c}")}))
                .expect("seed calendar");
            let id = cal["id"].as_str().expect("calendar id").to_owned();
            for i in 0..per_calendar {
                self.state
                    .google_seed_event(EMAIL, &id, &event(c, i, now))
                    .expect("seed event");
            }
            ids.push(id);
        }
        ids
    }

    pub fn latency(&self, latency: ListLatency) {
        self.state
            .google_set_faults(GoogleFaultsUpdate {
                list_latency: Some(latency),
                ..GoogleFaultsUpdate::default()
            })
            .expect("set latency");
    }

    /// Requests served per route so far.
    pub fn requests(&self) -> std::collections::BTreeMap<String, u64> {
        self.state.google_calendar_stats().requests
    }

    /// The real Google client, with a token the fake minted (no keyring here).
    pub fn client(&self) -> GoogleCalendar {
        self.client_for(EMAIL)
    }

    /// [`Cloud::client`] for another (seeded) user.
    pub fn client_for(&self, email: &str) -> GoogleCalendar {
        let token = self
            .state
            .mint_access_token(Provider::Google, email)
            .expect("mint token");
        let api = ApiClient::new(
            Dialect::Google,
            Arc::new(Fixed(Secret::new(token))),
            Backoff::default(),
        )
        .expect("api client");
        let base = url::Url::parse(&format!("{}/calendar/v3", self.base_url)).expect("base url");
        GoogleCalendar::new(api, base, email)
    }
}

/// A token source that always answers with the same (fake-minted) token.
pub struct Fixed(pub Secret);

impl TokenSource for Fixed {
    fn token(
        &self,
        _force_refresh: bool,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = almanac_provider::Result<Secret>> + Send + '_>,
    > {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// A customer meeting as a CSM's calendar holds them: a title, a room or a link, an
/// agenda, three to five attendees; one in 200 a weekly series. Spread over the sync
/// window (90 days back, a year ahead).
fn event(cal: usize, i: usize, now: DateTime<Utc>) -> Value {
    // From midnight UTC, so that the hours do not depend on when the benchmark runs:
    // 08:00–16:30 UTC never falls in Berlin's repeated autumn hour (00:00–01:00 UTC),
    // where a wall time names two instants and the store keeps only the first.
    let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let day = (i * 7 + cal * 13) % 450;
    let start = midnight - Duration::days(90)
        + Duration::days(day as i64)
        + Duration::minutes(((i % 18) * 30) as i64 + 8 * 60);
    let end = start + Duration::minutes(30 + (i % 3) as i64 * 15);
    let attendees: Vec<Value> = (0..3 + i % 3)
        .map(|a| {
            json!({
                "email": format!("person{a}.{}@customer{}.example", i % 97, i % 41),
                "displayName": format!("Person {a} of Customer {}", i % 41),
                "responseStatus": if a == 0 { "accepted" } else { "needsAction" },
            })
        })
        .collect();
    let mut ev = json!({
        "summary": format!("Customer {} — quarterly review #{i}", i % 41),
        "location": if i.is_multiple_of(2) { "Room 4.12".to_owned() } else { format!("https://meet.example/{cal}-{i}") },
        "description": "Agenda: adoption since last review, open support tickets, renewal timeline, next steps. Bring the usage dashboard.",
        "start": {"dateTime": start.to_rfc3339(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": end.to_rfc3339(), "timeZone": "Europe/Berlin"},
        "attendees": attendees,
    });
    if i.is_multiple_of(200) {
        ev["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=26"]);
    }
    ev
}
