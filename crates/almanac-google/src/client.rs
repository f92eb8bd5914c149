//! [`GoogleCalendar`]: the [`CalendarProvider`] for a Google account, on the shared
//! [`ApiClient`] (retries, backoff, `Retry-After`, one token refresh on 401, the JSON
//! guard that never reads a portal page as an empty calendar).

use std::collections::BTreeMap;

use almanac_provider::header::IF_MATCH;
use almanac_provider::Method;
use almanac_provider::{last_of_each, unreadable_reason};
use almanac_provider::{
    ApiClient, ApiRequest, ApiResponse, BodyRead, BoxFuture, CalendarProvider, Change, ChangePage,
    Cursor, Deleted, ErrorKind, Lookup, OriginalStart, ProviderError, RemoteCalendar, RemoteEvent,
    Result, Window,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::dto::{
    CalendarList, CalendarListEntry, Event, Events, FreeBusyRequest, FreeBusyRequestItem,
    FreeBusyResponse,
};
use crate::mapping::{
    as_patch, from_google, from_google_listed, meet_request, to_google, CalendarContext,
    MappingError,
};

/// Google's production endpoint (the `calendar_url` of a Google account).
pub const GOOGLE_CALENDAR_URL: &str = "https://www.googleapis.com/calendar/v3";

/// `events.list` page size: Google's maximum.
const EVENTS_PAGE: &str = "2500";
/// `calendarList.list` page size: Google's maximum.
const CALENDARS_PAGE: &str = "250";
/// Calendar-list pages followed before the listing is declared broken (a loop).
const MAX_CALENDAR_PAGES: usize = 100;
/// `freeBusy.query` takes at most this many calendars per request.
const FREE_BUSY_BATCH: usize = 50;
/// The colour of a calendar Google gives none for (Google's default, "Peacock").
const DEFAULT_COLOR: &str = "#039be5";

/// A Google Calendar account.
pub struct GoogleCalendar {
    api: ApiClient,
    base: Url,
    account: String,
}

impl std::fmt::Debug for GoogleCalendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleCalendar")
            .field("base", &self.base.as_str())
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// Busy time of one calendar from `freeBusy.query`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarBusy {
    pub busy: Vec<BusyPeriod>,
    /// Google's per-calendar errors (`notFound`, `internalError`, …): the calendar's
    /// busy list is then incomplete or empty, and must not be read as "free".
    pub errors: Vec<FreeBusyError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyPeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeBusyError {
    pub domain: String,
    pub reason: String,
}

/// Where a listing goes on from. The engine stores the string and hands it back; a
/// page token belongs to the request it came from, so it travels with that request's
/// sync token (none during a full listing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CursorState {
    v: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_token: Option<String>,
    /// The round is a full listing (see `ChangePage::full_listing`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    full: bool,
}

impl CursorState {
    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn decode(s: &str) -> Result<Self> {
        serde_json::from_str::<Self>(s)
            .ok()
            .filter(|c| c.v == 1)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::SyncReset,
                    "The saved sync position of this Google calendar is unreadable; a full \
                     sync is needed.",
                )
            })
    }
}

fn unreadable(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::ProviderUnavailable,
        format!("Google answered with {what} Almanac cannot read; nothing was changed."),
    )
}

fn mapping_error(e: MappingError) -> ProviderError {
    unreadable_event(&e.to_string())
}

fn unreadable_event(why: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::ProviderUnavailable,
        format!("Google sent an event Almanac cannot read ({why}); nothing was changed."),
    )
}

fn write_error(e: MappingError) -> ProviderError {
    ProviderError::new(
        ErrorKind::InvalidRequest,
        format!("The event cannot be written to Google: {e}."),
    )
}

fn parse<T: serde::de::DeserializeOwned>(resp: ApiResponse, what: &str) -> Result<T> {
    resp.json().map_err(|_| unreadable(what))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The client-chosen Google event id for an idempotency key: the key's bytes (the 16
/// bytes of a UUID, else its UTF-8) in lowercase base32hex without padding — Google's
/// id alphabet (`a–v`, `0–9`), 5–1024 characters. The same key always gives the same
/// id, so a retried create collides with itself (409 `duplicate`) instead of
/// duplicating the event.
pub fn event_id_for_key(key: &str) -> Result<String> {
    let bytes = uuid_bytes(key).map_or_else(|| key.as_bytes().to_vec(), |b| b.to_vec());
    let id = base32hex(&bytes);
    if (5..=1024).contains(&id.len()) {
        Ok(id)
    } else {
        Err(ProviderError::new(
            ErrorKind::InvalidRequest,
            "The idempotency key does not give a valid Google event id (4 to 640 bytes).",
        ))
    }
}

/// The idempotency key (a UUID) an id from [`event_id_for_key`] was made from; `None`
/// for ids Almanac did not choose.
pub fn key_of_event_id(id: &str) -> Option<String> {
    // Asked of every listed event (a page's thousands): decoded by arithmetic and
    // written into one string, not searched and formatted byte by byte.
    if id.len() != 26 {
        return None;
    }
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    let mut bytes = [0u8; 16];
    let mut n = 0;
    for c in id.bytes() {
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'v' => c - b'a' + 10,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            // 26 characters carry 130 bits: 16 bytes, and 2 bits that must be zero.
            *bytes.get_mut(n)? = (buffer >> bits) as u8;
            n += 1;
            buffer &= (1 << bits) - 1;
        }
    }
    if n != 16 || buffer != 0 {
        return None;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            key.push('-');
        }
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Some(key)
}

fn uuid_bytes(key: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = key.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A calendar id that is someone's address (shared primaries) rather than a group or
/// resource calendar's generated id.
fn person_address(id: &str) -> bool {
    match id.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.to_ascii_lowercase().ends_with("calendar.google.com")
        }
        None => false,
    }
}

/// The calendars of one page of `calendarList.list`. An empty page may leave its
/// items out; an answer that is no list (an error object, a proxy's JSON), read as an
/// empty one, would remove every calendar here not on it.
fn calendars_on(
    items: Option<Vec<CalendarListEntry>>,
    kind: Option<&str>,
) -> Result<Vec<RemoteCalendar>> {
    let items = match items {
        Some(items) => items,
        None if kind == Some("calendar#calendarList") => Vec::new(),
        None => return Err(unreadable("a calendar list without its items")),
    };
    Ok(items.into_iter().filter_map(calendar_of).collect())
}

fn calendar_of(entry: CalendarListEntry) -> Option<RemoteCalendar> {
    if entry.deleted == Some(true) {
        return None;
    }
    let id = entry.id.clone().filter(|id| !id.is_empty())?;
    let role = entry.access_role.as_deref().unwrap_or("reader");
    let owner_email = if role == "owner" {
        None
    } else {
        entry
            .data_owner
            .clone()
            .or_else(|| person_address(&id).then(|| id.clone()))
    };
    let name = entry
        .summary_override
        .clone()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| entry.summary.clone())
        .unwrap_or_else(|| id.clone());
    let mut extra = match serde_json::to_value(&entry) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    extra.remove("id");
    Some(RemoteCalendar {
        remote_id: id,
        name,
        color: entry
            .background_color
            .clone()
            .unwrap_or_else(|| DEFAULT_COLOR.to_owned()),
        // reader, freeBusyReader (and anything unknown) are read-only.
        can_edit: matches!(role, "owner" | "writer"),
        is_primary: entry.primary == Some(true),
        owner_email,
        time_zone: entry.time_zone.clone(),
        extra,
    })
}

impl GoogleCalendar {
    /// `base` is the account's configured calendar URL ([`GOOGLE_CALENDAR_URL`], or
    /// the fake cloud's `{base}/calendar/v3`); `account` keys the per-account request
    /// slot of `api`.
    pub fn new(api: ApiClient, base: Url, account: impl Into<String>) -> Self {
        Self {
            api,
            base,
            account: account.into(),
        }
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<String> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| {
                ProviderError::new(
                    ErrorKind::InvalidRequest,
                    "The Google calendar URL is not a web address.",
                )
            })?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url.into())
    }

    async fn send(
        &self,
        method: Method,
        url: String,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Result<ApiResponse> {
        self.send_read(method, url, body, if_match, BodyRead::Checked)
            .await
    }

    /// [`Self::send`], with the answer's body checked and read as `read` says.
    async fn send_read(
        &self,
        method: Method,
        url: String,
        body: Option<Value>,
        if_match: Option<&str>,
        read: BodyRead,
    ) -> Result<ApiResponse> {
        let mut req = ApiRequest {
            method,
            url,
            headers: Vec::new(),
            body,
            // Reads, deletes, If-Match writes and creates with a client-chosen id are
            // all safe to send again.
            retry_safe: true,
            read,
        };
        if let Some(etag) = if_match {
            req = req.header(IF_MATCH, etag);
        }
        self.api.send(&self.account, req).await
    }

    fn event_url(
        &self,
        calendar: &RemoteCalendar,
        event_id: &str,
        query: &[(&str, &str)],
    ) -> Result<String> {
        self.url(
            &["calendars", &calendar.remote_id, "events", event_id],
            query,
        )
    }

    fn upsert(body: Value, ctx: &CalendarContext) -> Result<RemoteEvent> {
        let ev: Event = serde_json::from_value(body).map_err(|_| unreadable("an event"))?;
        match from_google(ev, ctx).map_err(mapping_error)? {
            Change::Upsert(e) => Ok(*e),
            Change::Removed { .. } => Err(ProviderError::new(
                ErrorKind::NotFound,
                "Google no longer has this event (it was deleted).",
            )),
        }
    }

    /// `events.get`: the event as Google holds it now (a deleted one is `Removed`).
    pub async fn get_event(&self, calendar: &RemoteCalendar, event_id: &str) -> Result<Lookup> {
        let ctx = CalendarContext::of_calendar(calendar);
        let sent = self
            .send(
                Method::GET,
                self.event_url(calendar, event_id, &[])?,
                None,
                None,
            )
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Gone) => {
                return Ok(Lookup::Gone)
            }
            Err(e) => return Err(e),
        };
        // Not JSON at all is an answer gone wrong; JSON that is not an event Almanac
        // can read is that event's.
        let body: Value = parse(resp, "an event")?;
        let read = serde_json::from_value::<Event>(body)
            .map_err(|e| e.to_string())
            .and_then(|ev| from_google(ev, &ctx).map_err(|e| e.to_string()));
        Ok(match read {
            Ok(Change::Upsert(ev)) => Lookup::Found(ev),
            Ok(Change::Removed { .. }) => Lookup::Gone,
            Err(why) => Lookup::Unreadable(unreadable_reason(&why)),
        })
    }

    /// `freeBusy.query` for `calendars` over `window`. Google's per-calendar errors are
    /// returned with that calendar (a calendar Google leaves out gets a `notReturned`
    /// error); only a failure of the whole request is an `Err`.
    pub async fn free_busy(
        &self,
        calendars: &[String],
        window: Window,
    ) -> Result<BTreeMap<String, CalendarBusy>> {
        let mut out = BTreeMap::new();
        let url = self.url(&["freeBusy"], &[])?;
        for chunk in calendars.chunks(FREE_BUSY_BATCH) {
            let req = FreeBusyRequest {
                time_min: rfc3339(window.start),
                time_max: rfc3339(window.end),
                time_zone: Some("UTC".to_owned()),
                calendar_expansion_max: None,
                items: chunk
                    .iter()
                    .map(|id| FreeBusyRequestItem { id: id.clone() })
                    .collect(),
            };
            let body = serde_json::to_value(&req).map_err(|_| unreadable("a request"))?;
            let resp = self
                .send(Method::POST, url.clone(), Some(body), None)
                .await?;
            let mut answer: FreeBusyResponse = parse(resp, "free/busy data")?;
            for id in chunk {
                let entry = match answer.calendars.remove(id) {
                    Some(c) => {
                        let mut busy = Vec::with_capacity(c.busy.len());
                        for p in c.busy {
                            let at = |s: &str| {
                                DateTime::parse_from_rfc3339(s)
                                    .map(|t| t.with_timezone(&Utc))
                                    .map_err(|_| unreadable("free/busy data"))
                            };
                            busy.push(BusyPeriod {
                                start: at(&p.start)?,
                                end: at(&p.end)?,
                            });
                        }
                        CalendarBusy {
                            busy,
                            errors: c
                                .errors
                                .into_iter()
                                .map(|e| FreeBusyError {
                                    domain: e.domain,
                                    reason: e.reason,
                                })
                                .collect(),
                        }
                    }
                    None => CalendarBusy {
                        busy: Vec::new(),
                        errors: vec![FreeBusyError {
                            domain: "almanac".into(),
                            reason: "notReturned".into(),
                        }],
                    },
                };
                out.insert(id.clone(), entry);
            }
        }
        Ok(out)
    }

    /// Asks Google for a new Meet on an existing event (PATCH `conferenceData.createRequest`
    /// with `conferenceDataVersion=1`, guarded by `etag`). Creation is asynchronous: the
    /// answer usually holds a Meet with no join URL yet (pending); a later sync brings
    /// the link. Use a fresh `request_id` for each new meeting (Google ignores repeats).
    pub async fn request_meet(
        &self,
        calendar: &RemoteCalendar,
        event_id: &str,
        etag: &str,
        request_id: &str,
    ) -> Result<RemoteEvent> {
        let ctx = CalendarContext::of_calendar(calendar);
        let body = serde_json::json!({ "conferenceData": meet_request(request_id) });
        let url = self.event_url(calendar, event_id, &[("conferenceDataVersion", "1")])?;
        let resp = self
            .send(Method::PATCH, url, Some(body), Some(etag))
            .await?;
        Self::upsert(resp.value(), &ctx)
    }

    async fn list_calendars_impl(&self) -> Result<Vec<RemoteCalendar>> {
        let mut out = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_CALENDAR_PAGES {
            let mut query = vec![("maxResults", CALENDARS_PAGE)];
            if let Some(t) = page_token.as_deref() {
                query.push(("pageToken", t));
            }
            let url = self.url(&["users", "me", "calendarList"], &query)?;
            let resp = self.send(Method::GET, url, None, None).await?;
            let page: CalendarList = parse(resp, "a calendar list")?;
            out.extend(calendars_on(page.items, page.kind.as_deref())?);
            match page.next_page_token {
                Some(t) if !t.is_empty() => page_token = Some(t),
                _ => return Ok(out),
            }
        }
        Err(unreadable("a calendar list that never ends"))
    }

    async fn changes_impl(
        &self,
        calendar: &RemoteCalendar,
        cursor: Option<&str>,
    ) -> Result<ChangePage> {
        let state = match cursor {
            Some(c) => CursorState::decode(c)?,
            None => CursorState {
                v: 1,
                full: true,
                ..CursorState::default()
            },
        };
        // Every round uses the same parameters: all series masters and exceptions
        // (singleEvents=false; Almanac expands rules itself), deleted items included,
        // the largest page. No timeMin/timeMax: Google forbids them together with
        // syncToken, and a token's round must use the first round's parameters, so the
        // full listing covers the whole calendar, whatever `window` the engine syncs —
        // events outside the window arrive too, and the engine filters or expands them
        // itself. (orderBy, q, iCalUID, updatedMin and extended-property filters are
        // forbidden with syncToken as well, and never sent.)
        let mut query = vec![
            ("singleEvents", "false"),
            ("showDeleted", "true"),
            ("maxResults", EVENTS_PAGE),
        ];
        if let Some(t) = state.sync_token.as_deref() {
            query.push(("syncToken", t));
        }
        if let Some(t) = state.page_token.as_deref() {
            query.push(("pageToken", t));
        }
        let url = self.url(&["calendars", &calendar.remote_id, "events"], &query)?;
        // A 410 fullSyncRequired comes back from here as ErrorKind::SyncReset.
        // Read once, which is also the JSON check: an event page is the largest answer
        // (2,500 events), and checking it before reading it was a sixth of listing it.
        // A page that does not read is refused as not calendar data.
        let resp = self
            .send_read(Method::GET, url, None, None, BodyRead::Borrowed)
            .await?;
        let page: Events = resp.json_borrowed()?;
        let ctx = CalendarContext::of_calendar(calendar).with_page(&page);
        let next = match (&page.next_page_token, &page.next_sync_token) {
            // More to come, even when this page is empty.
            (Some(p), _) if !p.is_empty() => Cursor::More(
                CursorState {
                    v: 1,
                    page_token: Some(p.clone()),
                    sync_token: state.sync_token.clone(),
                    full: state.full,
                }
                .encode(),
            ),
            // Only the last page has the next round's token.
            (_, Some(s)) if !s.is_empty() => Cursor::Done(
                CursorState {
                    v: 1,
                    page_token: None,
                    sync_token: Some(s.clone()),
                    full: false,
                }
                .encode(),
            ),
            _ => {
                return Err(unreadable(
                    "an event list without a next page or sync token",
                ))
            }
        };
        // One event that does not read is skipped and logged: failing the page would
        // stop the calendar at every run.
        let read = page
            .items
            .iter()
            .map(|item| {
                let id = item
                    .str("id")
                    .map_or_else(String::new, |id| id.into_owned());
                let got =
                    from_google_listed(item, &ctx).map_err(|e| unreadable_reason(&e.to_string()));
                (id, got)
            })
            .collect();
        // Google may repeat an item within a page when it changed while the page was
        // built: the last one wins.
        let (changes, unreadable) = last_of_each(read);
        Ok(ChangePage {
            changes,
            cursor: next,
            full_listing: state.full,
            restarted: cursor.is_none(),
            unreadable,
        })
    }

    async fn create_impl(
        &self,
        calendar: &RemoteCalendar,
        event: &RemoteEvent,
        idempotency_key: &str,
    ) -> Result<RemoteEvent> {
        let id = event_id_for_key(idempotency_key)?;
        let ctx = CalendarContext::of_calendar(calendar);
        let mut ev = event.clone();
        ev.remote_id = id.clone();
        ev.etag = None;
        let mut body = to_google(&ev, &ctx).map_err(write_error)?;
        // Google takes an id or an iCalUID on insert, not both; it derives the UID.
        body.remove("iCalUID");
        // No reminder chosen here, none known from Google: the calendar's default
        // reminders, as Google's own apps give a new event (sent as "none", the event
        // would have no reminder at all).
        if ev.reminder_minutes.is_none() && !ev.extra.contains_key("reminders") {
            body.remove("reminders");
        }
        let url = self.url(
            &["calendars", &calendar.remote_id, "events"],
            &[("conferenceDataVersion", "1")],
        )?;
        match self
            .send(Method::POST, url, Some(Value::Object(body)), None)
            .await
        {
            Ok(resp) => Self::upsert(resp.value(), &ctx),
            // The id exists: an earlier attempt landed. Answer with that event.
            Err(e)
                if e.kind == ErrorKind::Conflict
                    && e.provider_code.as_deref() == Some("duplicate") =>
            {
                match self.get_event(calendar, &id).await? {
                    Lookup::Found(existing) => Ok(*existing),
                    Lookup::Unreadable(why) => Err(unreadable_event(&why)),
                    Lookup::Gone => Err(ProviderError {
                        message: "Google already had this event and it has since been \
                                  deleted."
                            .into(),
                        ..e
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn update_impl(
        &self,
        calendar: &RemoteCalendar,
        event: &RemoteEvent,
        etag: &str,
    ) -> Result<RemoteEvent> {
        let ctx = CalendarContext::of_calendar(calendar);
        let mut body = to_google(event, &ctx).map_err(write_error)?;
        as_patch(&mut body);
        let url = self.event_url(
            calendar,
            &event.remote_id,
            &[("conferenceDataVersion", "1")],
        )?;
        // 412 conditionNotMet comes back as ErrorKind::PreconditionFailed.
        let resp = self
            .send(Method::PATCH, url, Some(Value::Object(body)), Some(etag))
            .await?;
        Self::upsert(resp.value(), &ctx)
    }

    async fn delete_impl(
        &self,
        calendar: &RemoteCalendar,
        remote_id: &str,
        etag: Option<&str>,
    ) -> Result<Deleted> {
        let url = self.event_url(calendar, remote_id, &[])?;
        match self.send(Method::DELETE, url, None, etag).await {
            Ok(_) => Ok(Deleted::Now),
            // 410 `deleted` and 404: already gone, which is what was asked.
            Err(e) if matches!(e.kind, ErrorKind::Gone | ErrorKind::NotFound) => {
                Ok(Deleted::AlreadyGone)
            }
            // The etag no longer matches: because someone changed the event (report
            // it), or because it is deleted already — by us, when an earlier attempt
            // landed and its answer was lost (done).
            Err(e) if e.kind == ErrorKind::PreconditionFailed => {
                match self.get_event(calendar, remote_id).await {
                    Ok(Lookup::Gone) => Ok(Deleted::AlreadyGone),
                    Ok(Lookup::Found(ev)) if ev.cancelled => Ok(Deleted::AlreadyGone),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

impl CalendarProvider for GoogleCalendar {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>> {
        Box::pin(self.list_calendars_impl())
    }

    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        _window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>> {
        Box::pin(async move {
            match self.changes_impl(calendar, cursor).await {
                // 410 fullSyncRequired, or a cursor we cannot read: list again from
                // scratch, and say so (the engine reconciles by id; its outbox stays).
                Err(e) if e.kind == ErrorKind::SyncReset && cursor.is_some() => {
                    self.changes_impl(calendar, None).await
                }
                other => other,
            }
        })
    }

    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        Box::pin(async move {
            match self.get_event(calendar, remote_id).await? {
                Lookup::Found(ev) => Ok(Some(*ev)),
                Lookup::Gone => Ok(None),
                Lookup::Unreadable(why) => Err(unreadable_event(&why)),
            }
        })
    }

    fn lookup<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Lookup>> {
        Box::pin(self.get_event(calendar, remote_id))
    }

    fn creation_key(&self, event: &RemoteEvent) -> Option<String> {
        key_of_event_id(&event.remote_id)
    }

    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        // Google names an instance `<series id>_<original start>` (UTC basic format,
        // or the date for all-day series).
        let id = match original_start {
            OriginalStart::Timed(t) => format!("{master_id}_{}", t.format("%Y%m%dT%H%M%SZ")),
            OriginalStart::AllDay(d) => format!("{master_id}_{}", d.format("%Y%m%d")),
        };
        Box::pin(async move {
            CalendarProvider::event(self, calendar, &id)
                .await
                .map(|e| e.filter(|e| !e.cancelled))
        })
    }

    fn exdates_in_rule(&self) -> bool {
        true
    }

    fn create<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        Box::pin(self.create_impl(calendar, event, idempotency_key))
    }

    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        Box::pin(self.update_impl(calendar, event, etag))
    }

    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Deleted>> {
        Box::pin(self.delete_impl(calendar, remote_id, etag))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_answer_that_is_no_calendar_list_is_an_error_not_an_empty_list() {
        let page = |text: &str| -> CalendarList { serde_json::from_str(text).expect("json") };
        for not_a_list in [
            r#"{}"#,
            r#"{"error": {"code": 500, "message": "Backend Error"}}"#,
        ] {
            let p = page(not_a_list);
            let err = calendars_on(p.items, p.kind.as_deref()).expect_err(not_a_list);
            assert_eq!(err.kind, ErrorKind::ProviderUnavailable);
        }
        let p = page(r#"{"kind": "calendar#calendarList"}"#);
        assert_eq!(
            calendars_on(p.items, p.kind.as_deref()).expect("empty page"),
            vec![]
        );
        let p = page(
            r#"{"kind": "calendar#calendarList", "items": [{"id": "primary@example.com", "summary": "Me", "accessRole": "owner", "primary": true}]}"#,
        );
        let cals = calendars_on(p.items, p.kind.as_deref()).expect("a list");
        assert_eq!(cals.len(), 1);
        assert_eq!(cals[0].remote_id, "primary@example.com");
    }

    use super::*;

    #[test]
    fn an_id_chosen_from_a_key_gives_the_key_back() {
        let key = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let id = event_id_for_key(key).expect("id");
        assert_eq!(key_of_event_id(&id).as_deref(), Some(key));
        assert_eq!(key_of_event_id("abcdef"), None);
        assert_eq!(key_of_event_id("zzzzzzzzzzzzzzzzzzzzzzzzzz"), None);
        // Upper case is not Google's alphabet; 26 characters whose last 2 bits are set
        // are no 16 bytes.
        assert_eq!(key_of_event_id(&id.to_uppercase()), None);
        assert_eq!(key_of_event_id("0000000000000000000000000v"), None);
        assert_eq!(
            key_of_event_id("00000000000000000000000000").as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
    }

    #[test]
    fn every_key_comes_back_from_its_id_and_every_such_id_from_its_key() {
        let mut x: u64 = 0x2026_1203;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        };
        for _ in 0..2000 {
            let key = uuid_string(next(), next());
            let id = event_id_for_key(&key).expect("id");
            assert_eq!(key_of_event_id(&id).as_deref(), Some(key.as_str()));
            // An id Google chose that happens to decode names the key that gives it.
            let google: String = (0..26)
                .map(|i| {
                    char::from(
                        b"0123456789abcdefghijklmnopqrstuv"[(next() >> 59) as usize ^ (i & 1)],
                    )
                })
                .collect();
            if let Some(k) = key_of_event_id(&google) {
                assert_eq!(event_id_for_key(&k).expect("id"), google);
            }
        }
    }

    fn uuid_string(hi: u64, lo: u64) -> String {
        let h = format!("{hi:016x}{lo:016x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    #[test]
    fn base32hex_matches_rfc4648_vectors() {
        // RFC 4648 §10, lowercased and without padding.
        for (input, want) in [
            ("", ""),
            ("f", "co"),
            ("fo", "cpng"),
            ("foo", "cpnmu"),
            ("foob", "cpnmuog"),
            ("fooba", "cpnmuoj1"),
            ("foobar", "cpnmuoj1e8"),
        ] {
            assert_eq!(base32hex(input.as_bytes()), want, "{input}");
        }
    }

    #[test]
    fn event_ids_from_keys_are_valid_google_ids() {
        let a = event_id_for_key("550e8400-e29b-41d4-a716-446655440000").expect("uuid");
        let b = event_id_for_key("550E8400E29B41D4A716446655440000").expect("uuid");
        assert_eq!(a, b, "one UUID, one id, however it is spelled");
        assert_eq!(a.len(), 26);
        for id in [a, event_id_for_key("some-other-key").expect("key")] {
            assert!(id
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c)));
            assert!((5..=1024).contains(&id.len()));
        }
        assert!(event_id_for_key("ab").is_err());
        assert!(event_id_for_key(&"x".repeat(700)).is_err());
    }

    #[test]
    fn cursors_carry_the_sync_token_with_the_page_token() {
        let c = CursorState {
            v: 1,
            page_token: Some("p2".into()),
            sync_token: Some("s1".into()),
            full: true,
        };
        assert_eq!(CursorState::decode(&c.encode()).expect("decode"), c);
        let err = CursorState::decode("raw-token").expect_err("garbage");
        assert_eq!(err.kind, ErrorKind::SyncReset);
    }

    #[test]
    fn calendar_list_entries() {
        let entry = |v: Value| calendar_of(serde_json::from_value(v).expect("entry"));
        let own = entry(serde_json::json!({"id": "me@example.com", "summary": "Me",
            "accessRole": "owner", "primary": true, "backgroundColor": "#112233",
            "timeZone": "Europe/Paris", "defaultReminders": [{"method": "popup", "minutes": 10}]}))
        .expect("own");
        assert!(own.can_edit && own.is_primary);
        assert_eq!(own.owner_email, None);
        assert_eq!(own.color, "#112233");
        assert_eq!(own.time_zone.as_deref(), Some("Europe/Paris"));
        assert!(own.extra.contains_key("defaultReminders"));
        let shared = entry(
            serde_json::json!({"id": "boss@example.com", "summary": "Boss",
            "summaryOverride": "My boss", "accessRole": "reader"}),
        )
        .expect("shared");
        assert!(!shared.can_edit);
        assert_eq!(shared.name, "My boss");
        assert_eq!(shared.owner_email.as_deref(), Some("boss@example.com"));
        assert_eq!(shared.color, DEFAULT_COLOR);
        let group = entry(serde_json::json!({"id": "abc@group.calendar.google.com",
            "summary": "Team", "accessRole": "writer"}))
        .expect("group");
        assert!(group.can_edit);
        assert_eq!(group.owner_email, None);
        let fb = entry(serde_json::json!({"id": "x@group.calendar.google.com",
            "accessRole": "freeBusyReader", "dataOwner": "owner@example.com"}))
        .expect("fb");
        assert!(!fb.can_edit);
        assert_eq!(fb.owner_email.as_deref(), Some("owner@example.com"));
        assert!(entry(serde_json::json!({"id": "gone@x", "deleted": true})).is_none());
    }
}
