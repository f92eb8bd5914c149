//! The fake cloud for the benchmarks: a Google account and a Microsoft 365 mailbox with
//! calendars of realistic events, served on threads of their own so the engine's
//! threads' CPU time is the engine's.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;

use almanac_auth::Secret;
use almanac_fakecloud::google_store::{GoogleFaultsUpdate, EVENTS_MAX_RESULTS};
use almanac_fakecloud::graph_store::{GraphCalendarSpec, GraphEventSeed, GraphFaultsUpdate};
use almanac_fakecloud::latency::ListLatency;
use almanac_fakecloud::{FakeCloud, Provider as FakeProvider, SharedState, UserSpec};
use almanac_google::GoogleCalendar;
use almanac_graph::GraphCalendar;
use almanac_model::Provider;
use almanac_provider::{ApiClient, Backoff, CalendarProvider, Dialect, TokenSource};
use almanac_sync::SyncOptions;
use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde_json::{json, Value};

pub const EMAIL: &str = "csm@example.com";

/// Which provider a benchmark runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Google,
    Graph,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Google => "google",
            Kind::Graph => "graph",
        }
    }

    pub fn provider(self) -> Provider {
        match self {
            Kind::Google => Provider::Google,
            Kind::Graph => Provider::Microsoft,
        }
    }

    fn fake(self) -> FakeProvider {
        match self {
            Kind::Google => FakeProvider::Google,
            Kind::Graph => FakeProvider::Microsoft,
        }
    }

    /// The most events the client asks for per listing page.
    pub fn page_size(self) -> usize {
        match self {
            Kind::Google => EVENTS_MAX_RESULTS,
            Kind::Graph => almanac_graph::PAGE_SIZE as usize,
        }
    }

    /// As the apps run it (`almanac_sync::clients`): Graph's delta is windowed.
    pub fn options(self) -> SyncOptions {
        SyncOptions {
            windowed: self == Kind::Graph,
            ..SyncOptions::default()
        }
    }

    /// Whether a fake-cloud route (its statistics' key) lists a calendar's changes.
    pub fn is_listing(self, route: &str) -> bool {
        match self {
            Kind::Google => route == "events.list",
            Kind::Graph => route.ends_with("/calendarView/delta"),
        }
    }

    /// Whether a route lists the account's calendars.
    pub fn is_calendar_list(self, route: &str) -> bool {
        match self {
            Kind::Google => route == "calendarList.list",
            Kind::Graph => route == "GET /me/calendars",
        }
    }
}

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
                provider: FakeProvider::Google,
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

    /// Adds [`EMAIL`] as a Microsoft 365 user too (a Google user is there from the start).
    pub fn with_graph_user(self) -> Cloud {
        self.state
            .add_user(UserSpec {
                provider: FakeProvider::Microsoft,
                email: EMAIL.into(),
                name: Some("Casey Success".into()),
                current: true,
            })
            .expect("seed user");
        self
    }

    /// Seeds `calendars` calendars with `per_calendar` events each (1 in 200 a weekly
    /// series), returns their ids.
    pub fn seed(
        &self,
        kind: Kind,
        calendars: usize,
        per_calendar: usize,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        for c in 0..calendars {
            let name = format!("Customers {c}");
            let id = match kind {
                Kind::Google => self
                    .state
                    .google_seed_calendar(EMAIL, &json!({ "summary": name })),
                Kind::Graph => self.state.graph_add_calendar(GraphCalendarSpec {
                    email: EMAIL.into(),
                    name,
                    color: None,
                }),
            }
            .expect("seed calendar")["id"]
                .as_str()
                .expect("calendar id")
                .to_owned();
            for i in 0..per_calendar {
                let m = Meeting::new(c, i, now);
                match kind {
                    Kind::Google => self.state.google_seed_event(EMAIL, &id, &m.google()),
                    Kind::Graph => self.state.graph_seed_event(GraphEventSeed {
                        email: EMAIL.into(),
                        calendar_id: Some(id.clone()),
                        event: m.graph(),
                    }),
                }
                .expect("seed event");
            }
            ids.push(id);
        }
        ids
    }

    pub fn latency(&self, kind: Kind, latency: ListLatency) {
        match kind {
            Kind::Google => self
                .state
                .google_set_faults(GoogleFaultsUpdate {
                    list_latency: Some(latency),
                    ..GoogleFaultsUpdate::default()
                })
                .map(drop),
            Kind::Graph => self
                .state
                .graph_set_faults(GraphFaultsUpdate {
                    list_latency: Some(latency),
                    ..GraphFaultsUpdate::default()
                })
                .map(drop),
        }
        .expect("set latency");
    }

    /// Requests served per route so far.
    pub fn requests(&self, kind: Kind) -> BTreeMap<String, u64> {
        match kind {
            Kind::Google => self.state.google_calendar_stats().requests,
            Kind::Graph => self.state.graph_stats().requests,
        }
    }

    /// The real Google client, with a token the fake minted (no keyring here).
    pub fn client(&self) -> GoogleCalendar {
        self.client_for(EMAIL)
    }

    /// [`Cloud::client`] for another (seeded) user.
    pub fn client_for(&self, email: &str) -> GoogleCalendar {
        let api = self.api(Kind::Google, email);
        GoogleCalendar::new(api, self.base(Kind::Google), email)
    }

    /// The real client of `kind` for [`EMAIL`], as the apps build it.
    pub fn provider(&self, kind: Kind) -> Box<dyn CalendarProvider> {
        match kind {
            Kind::Google => Box::new(self.client()),
            Kind::Graph => Box::new(GraphCalendar::new(
                self.api(kind, EMAIL),
                self.base(kind),
                EMAIL,
                "UTC",
            )),
        }
    }

    fn api(&self, kind: Kind, email: &str) -> ApiClient {
        let token = self
            .state
            .mint_access_token(kind.fake(), email)
            .expect("mint token");
        let dialect = match kind {
            Kind::Google => Dialect::Google,
            Kind::Graph => Dialect::Graph,
        };
        ApiClient::new(
            dialect,
            Arc::new(Fixed(Secret::new(token))),
            Backoff::default(),
        )
        .expect("api client")
    }

    fn base(&self, kind: Kind) -> url::Url {
        let path = match kind {
            Kind::Google => "calendar/v3",
            Kind::Graph => "v1.0",
        };
        url::Url::parse(&format!("{}/{path}", self.base_url)).expect("base url")
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
/// agenda, three to five attendees; one in 200 a weekly series of 26. Spread over the
/// sync window (89 days back to 360 ahead).
struct Meeting {
    cal: usize,
    i: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

const AGENDA: &str = "Agenda: adoption since last review, open support tickets, renewal \
                      timeline, next steps. Bring the usage dashboard.";

impl Meeting {
    fn new(cal: usize, i: usize, now: DateTime<Utc>) -> Meeting {
        // From midnight UTC, so that the hours do not depend on when the benchmark runs:
        // 08:00–16:30 UTC never falls in Berlin's repeated autumn hour (00:00–01:00
        // UTC), where a wall time names two instants and the store keeps only the first.
        // Day 0 is 89 days back: 90 days back at 08:00 can fall before the window
        // begins (now − 90 days), and Graph's windowed listing would leave it out.
        let midnight = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        let day = (i * 7 + cal * 13) % 450;
        let start = midnight - Duration::days(89)
            + Duration::days(day as i64)
            + Duration::minutes(((i % 18) * 30) as i64 + 8 * 60);
        let end = start + Duration::minutes(30 + (i % 3) as i64 * 15);
        Meeting { cal, i, start, end }
    }

    fn weekly(&self) -> bool {
        self.i.is_multiple_of(200)
    }

    fn title(&self) -> String {
        format!("Customer {} — quarterly review #{}", self.i % 41, self.i)
    }

    fn location(&self) -> String {
        if self.i.is_multiple_of(2) {
            "Room 4.12".to_owned()
        } else {
            format!("https://meet.example/{}-{}", self.cal, self.i)
        }
    }

    /// (address, name) of each attendee.
    fn attendees(&self) -> Vec<(String, String)> {
        let i = self.i;
        (0..3 + i % 3)
            .map(|a| {
                (
                    format!("person{a}.{}@customer{}.example", i % 97, i % 41),
                    format!("Person {a} of Customer {}", i % 41),
                )
            })
            .collect()
    }

    fn google(&self) -> Value {
        let attendees: Vec<Value> = self
            .attendees()
            .into_iter()
            .enumerate()
            .map(|(a, (email, name))| {
                json!({
                    "email": email,
                    "displayName": name,
                    "responseStatus": if a == 0 { "accepted" } else { "needsAction" },
                })
            })
            .collect();
        let mut ev = json!({
            "summary": self.title(),
            "location": self.location(),
            "description": AGENDA,
            "start": {"dateTime": self.start.to_rfc3339(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": self.end.to_rfc3339(), "timeZone": "Europe/Berlin"},
            "attendees": attendees,
        });
        if self.weekly() {
            ev["recurrence"] = json!(["RRULE:FREQ=WEEKLY;COUNT=26"]);
        }
        ev
    }

    /// As Outlook writes it: Berlin wall times under the Windows zone name.
    fn graph(&self) -> Value {
        let berlin = |t: DateTime<Utc>| {
            t.with_timezone(&chrono_tz::Europe::Berlin)
                .naive_local()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        };
        let attendees: Vec<Value> = self
            .attendees()
            .into_iter()
            .map(|(address, name)| {
                json!({"emailAddress": {"address": address, "name": name}, "type": "required"})
            })
            .collect();
        let mut ev = json!({
            "subject": self.title(),
            "location": {"displayName": self.location()},
            "body": {"contentType": "text", "content": AGENDA},
            "start": {"dateTime": berlin(self.start), "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": berlin(self.end), "timeZone": "W. Europe Standard Time"},
            "attendees": attendees,
        });
        if self.weekly() {
            let local = self.start.with_timezone(&chrono_tz::Europe::Berlin);
            ev["recurrence"] = json!({
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [day_name(local.weekday())],
                },
                "range": {
                    "type": "numbered",
                    "startDate": local.date_naive().to_string(),
                    "numberOfOccurrences": 26,
                },
            });
        }
        ev
    }
}

/// Graph's name of a day of the week.
fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}
