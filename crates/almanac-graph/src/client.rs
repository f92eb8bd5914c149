//! The Microsoft Graph calendar client: one account's mailbox (and the calendars
//! shared with it), as a [`CalendarProvider`].

use std::collections::HashMap;
use std::sync::Mutex;

use almanac_provider::header::{HeaderName, IF_MATCH};
use almanac_provider::raw::RawObject;
use almanac_provider::Method;
use almanac_provider::{last_of_each, unreadable_reason};
use almanac_provider::{
    ApiClient, ApiRequest, BodyRead, BoxFuture, CalendarProvider, Change, ChangePage, Cursor,
    Deleted, ErrorKind, Lookup, OriginalStart, ProviderError, RemoteCalendar, RemoteEvent, Result,
    Window,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use url::Url;

use crate::mapping;
use crate::page::RawPage;

/// Events per delta page we ask for (Graph may send more for recurring series).
pub const PAGE_SIZE: u32 = 100;
/// Pages after which the calendar list is abandoned: Graph has been seen to loop
/// through nextLinks forever (reference F.2). A round of changes that never ends the
/// sync engine bounds itself, across runs (`SyncOptions::longest_round`).
pub const MAX_LIST_PAGES: usize = 500;
/// Requests per `$batch` (Graph's limit).
pub const BATCH_LIMIT: usize = 20;
/// Longest inner `Retry-After` waited out before retrying a batched request alone.
const MAX_INNER_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

static PREFER: HeaderName = HeaderName::from_static("prefer");

#[derive(Debug)]
pub struct GraphCalendar {
    api: ApiClient,
    /// The Graph base, e.g. `https://graph.microsoft.com/v1.0` (national clouds differ).
    base: Url,
    /// The signed-in user's address: the mailbox key for the concurrency cap.
    mailbox: String,
    /// Zone for events whose own zone cannot be mapped (legacy custom zones).
    fallback_zone: String,
    /// Mailboxes whose calendars are shared with or delegated to the user
    /// (`Calendars.ReadWrite.Shared`), read through `/users/{owner}/…`.
    delegates: Vec<String>,
    /// Calendars whose current round is a full listing (started without a cursor).
    full_rounds: Mutex<HashMap<String, bool>>,
}

/// Who is signed in, from `GET /me`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub id: String,
    pub display_name: String,
    /// `mail`, else `userPrincipalName`.
    pub email: String,
}

fn bad(kind: ErrorKind, message: impl Into<String>) -> ProviderError {
    ProviderError::new(kind, message)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl GraphCalendar {
    pub fn new(api: ApiClient, base: Url, mailbox: &str, fallback_zone: &str) -> Self {
        Self {
            api,
            base,
            mailbox: mailbox.to_ascii_lowercase(),
            fallback_zone: fallback_zone.to_string(),
            delegates: Vec::new(),
            full_rounds: Mutex::new(HashMap::new()),
        }
    }

    /// Also lists the calendars these mailboxes share with the user.
    pub fn with_delegates(mut self, owners: &[String]) -> Self {
        self.delegates = owners.iter().map(|o| o.to_ascii_lowercase()).collect();
        self
    }

    /// `/me` for the user's own calendars, `/users/{owner}` for a shared one; and the
    /// mailbox whose concurrency budget the request spends (Graph counts per mailbox).
    fn scope(&self, cal: &RemoteCalendar) -> (String, String) {
        match &cal.owner_email {
            Some(owner) => (format!("/users/{}", urlencode(owner)), owner.clone()),
            None => ("/me".to_string(), self.mailbox.clone()),
        }
    }

    /// The signed-in user.
    pub async fn me(&self) -> Result<Me> {
        let v = self.get_json(self.url("/me")).await?;
        let text = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let email = Some(text("mail"))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| text("userPrincipalName"));
        Ok(Me {
            id: text("id"),
            display_name: text("displayName"),
            email,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// A link Graph handed us (nextLink, deltaLink) is followed only if it points back
    /// at the configured Graph host: the bearer token goes with it.
    fn trusted_link(&self, link: &str) -> Result<String> {
        let ok = Url::parse(link).ok().is_some_and(|u| {
            u.origin() == self.base.origin() && u.path().starts_with(self.base.path())
        });
        if ok {
            Ok(link.to_string())
        } else {
            Err(bad(
                ErrorKind::ProviderUnavailable,
                "Microsoft 365 sent a paging link to another host; it was not followed.",
            ))
        }
    }

    fn request(&self, method: Method, url: String) -> ApiRequest {
        ApiRequest {
            method,
            url,
            headers: vec![(PREFER.clone(), "IdType=\"ImmutableId\"".into())],
            body: None,
            retry_safe: true,
            // Answers are read as a tree, but for listing pages (`changes_once`).
            read: BodyRead::Tree,
        }
    }

    async fn get_json(&self, url: String) -> Result<Value> {
        Ok(self
            .api
            .send(&self.mailbox, self.request(Method::GET, url))
            .await?
            .into_value())
    }

    async fn calendars_of(&self, scope: &str, mailbox: &str) -> Result<Vec<RemoteCalendar>> {
        let mut out = Vec::new();
        let mut url = self.url(&format!("{scope}/calendars"));
        for _ in 0..MAX_LIST_PAGES {
            let page = self
                .api
                .send(mailbox, self.request(Method::GET, url))
                .await?
                .into_value();
            let items = page.get("value").and_then(Value::as_array).ok_or_else(|| {
                bad(
                    ErrorKind::ProviderUnavailable,
                    "Microsoft 365 sent a calendar list without a list.",
                )
            })?;
            out.extend(items.iter().filter_map(|c| calendar(c, &self.mailbox)));
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) => url = self.trusted_link(next)?,
                None => return Ok(out),
            }
        }
        Err(bad(
            ErrorKind::ProviderUnavailable,
            "Microsoft 365's calendar list did not end.",
        ))
    }

    async fn changes_once(
        &self,
        cal: &RemoteCalendar,
        cursor: Option<&str>,
        window: Window,
    ) -> Result<ChangePage> {
        let cursor_in = cursor;
        let url = match cursor {
            Some(link) => self.trusted_link(link)?,
            None => {
                let mut u = Url::parse(&self.url(&format!(
                    "{}/calendars/{}/calendarView/delta",
                    self.scope(cal).0,
                    urlencode(&cal.remote_id)
                )))
                .map_err(|_| bad(ErrorKind::InvalidRequest, "Bad calendar id."))?;
                u.query_pairs_mut()
                    .append_pair("startDateTime", &rfc3339(window.start))
                    .append_pair("endDateTime", &rfc3339(window.end));
                u.to_string()
            }
        };
        let mut req = self.request(Method::GET, url);
        req.headers
            .push((PREFER.clone(), format!("odata.maxpagesize={PAGE_SIZE}")));
        // Read as the text of each event's properties: most are only kept, never read.
        req.read = BodyRead::Borrowed;
        let answer = self.api.send(&self.scope(cal).1, req).await?;
        let page: RawPage = answer.json_borrowed()?;
        // The same event can appear more than once in a page: the last one wins. One
        // that does not read is skipped and logged: failing the page would stop the
        // calendar at every run.
        let read = page
            .value
            .iter()
            .filter_map(|item| {
                let id = item.str("id")?;
                let got = if item.get("@removed").is_some() {
                    Ok(Change::Removed {
                        remote_id: id.to_string(),
                    })
                } else {
                    self.read_listed(item)
                        .map(|ev| Change::Upsert(Box::new(ev)))
                        .map_err(|e| unreadable_reason(&e.message))
                };
                Some((id.into_owned(), got))
            })
            .collect();
        let (mut changes, mut unreadable) = last_of_each(read);
        // Graph also lists as removed events outside the window that merely changed
        // (reference B5): a removal is only believed once the event is really gone.
        // Asked in `$batch`es of 20: a deleted daily series lists every instance.
        let removed: Vec<String> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Removed { remote_id } => Some(remote_id.clone()),
                Change::Upsert(_) => None,
            })
            .collect();
        let found = match removed.as_slice() {
            [] => Vec::new(),
            [one] => vec![self.look_up(cal, one).await?],
            many => self.get_many(cal, many).await?,
        };
        let mut now: HashMap<String, Lookup> = removed.into_iter().zip(found).collect();
        changes.retain_mut(|c| {
            let Change::Removed { remote_id } = c else {
                return true;
            };
            match now.remove(remote_id.as_str()) {
                Some(Lookup::Found(event)) => *c = Change::Upsert(event),
                // Still there: not a removal, and skipped like any unreadable event.
                Some(Lookup::Unreadable(why)) => {
                    unreadable.push((remote_id.clone(), why));
                    return false;
                }
                Some(Lookup::Gone) | None => {}
            }
            true
        });
        let (next, delta) = (page.next_link.as_deref(), page.delta_link.as_deref());
        let cursor = match (next, delta) {
                (Some(n), _) => Cursor::More(self.trusted_link(n)?),
                (None, Some(d)) => Cursor::Done(self.trusted_link(d)?),
                // A page with neither is not the end of anything: never read it as one.
                (None, None) => {
                    return Err(bad(
                        ErrorKind::ProviderUnavailable,
                        "Microsoft 365 sent a page of changes with no way to continue; nothing was applied.",
                    ))
                }
            };
        let full_listing = {
            let mut rounds = self.full_rounds.lock().unwrap_or_else(|p| p.into_inner());
            let full = if cursor_in.is_none() {
                true
            } else {
                rounds.get(&cal.remote_id).copied().unwrap_or(false)
            };
            // The round after a finished one is incremental.
            rounds.insert(
                cal.remote_id.clone(),
                full && matches!(cursor, Cursor::More(_)),
            );
            full
        };
        Ok(ChangePage {
            changes,
            cursor,
            full_listing,
            restarted: cursor_in.is_none(),
            unreadable,
        })
    }

    /// An event Graph sent, mapped; one that cannot be read fails the request (a page
    /// is applied whole or not at all) rather than being skipped.
    fn read_event(&self, v: &Value) -> Result<RemoteEvent> {
        mapping::from_graph(v, &self.fallback_zone)
            .map_err(|e| bad(ErrorKind::ProviderUnavailable, e.to_string()))
    }

    /// [`Self::read_event`] of an event of a listing page.
    fn read_listed(&self, v: &RawObject<'_>) -> Result<RemoteEvent> {
        mapping::from_raw(v, &self.fallback_zone)
            .map_err(|e| bad(ErrorKind::ProviderUnavailable, e.to_string()))
    }

    /// The event as Graph holds it now (a delta `@removed` for an event that only
    /// moved out of the window, or changed there, is still there).
    async fn look_up(&self, cal: &RemoteCalendar, remote_id: &str) -> Result<Lookup> {
        let (scope, mailbox) = self.scope(cal);
        let req = self.request(
            Method::GET,
            self.url(&format!("{scope}/events/{}", urlencode(remote_id))),
        );
        match self.api.send(&mailbox, req).await {
            Ok(r) => self.lookup_of(&r.into_value()),
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Gone) => Ok(Lookup::Gone),
            Err(e) => Err(e),
        }
    }

    /// An event Graph sent for an id asked for, read.
    /// An answer that is no JSON object at all (an empty body) is the answer gone
    /// wrong, not the event: it fails the request, as one that is not JSON does.
    fn lookup_of(&self, v: &Value) -> Result<Lookup> {
        if !v.is_object() {
            return Err(bad(
                ErrorKind::ProviderUnavailable,
                "Microsoft 365 answered with no event where one was asked for; nothing was changed.",
            ));
        }
        Ok(match mapping::from_graph(v, &self.fallback_zone) {
            Ok(ev) => Lookup::Found(Box::new(ev)),
            Err(e) => Lookup::Unreadable(unreadable_reason(&e.to_string())),
        })
    }

    /// [`Self::look_up`] where an event that cannot be read fails the request.
    async fn still_there(
        &self,
        cal: &RemoteCalendar,
        remote_id: &str,
    ) -> Result<Option<RemoteEvent>> {
        match self.look_up(cal, remote_id).await? {
            Lookup::Found(ev) => Ok(Some(*ev)),
            Lookup::Gone => Ok(None),
            Lookup::Unreadable(why) => Err(bad(ErrorKind::ProviderUnavailable, why)),
        }
    }

    /// Deletes several events (e.g. the occurrences a local EXDATE removes) in `$batch`
    /// requests of at most 20. An inner request that failed for a passing reason
    /// (429, 503, 504) is retried on its own, with the client's backoff; one that was
    /// already gone counts as deleted. Results are in the order of `targets`.
    pub async fn delete_many(
        &self,
        cal: &RemoteCalendar,
        targets: &[(String, Option<String>)],
    ) -> Vec<Result<()>> {
        let scope = self.scope(cal);
        let mut results: Vec<Option<Result<()>>> = vec![None; targets.len()];
        for (chunk_no, chunk) in targets.chunks(BATCH_LIMIT).enumerate() {
            let requests: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (id, etag))| {
                    let mut headers = json!({"Prefer": "IdType=\"ImmutableId\""});
                    if let Some(etag) = etag {
                        headers["If-Match"] = json!(etag);
                    }
                    json!({"id": i.to_string(), "method": "DELETE",
                           "url": format!("{}/events/{}", scope.0, urlencode(id)), "headers": headers})
                })
                .collect();
            let mut req = self.request(Method::POST, self.url("/$batch"));
            req.body = Some(json!({"requests": requests}));
            let answers = match self.api.send(&scope.1, req).await {
                Ok(r) => r.into_value(),
                Err(e) => {
                    for i in 0..chunk.len() {
                        results[chunk_no * BATCH_LIMIT + i] = Some(Err(e.clone()));
                    }
                    continue;
                }
            };
            let inner = answers
                .get("responses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, (id, etag)) in chunk.iter().enumerate() {
                let answer = inner
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(&i.to_string()));
                let outcome = inner_result(answer).map(|_| ());
                let outcome = match outcome {
                    Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Gone) => Ok(()),
                    Err(e) if e.kind.retryable() => {
                        // Honour the inner Retry-After before going again on our own.
                        if let Some(wait) = e.retry_after.filter(|w| *w <= MAX_INNER_RETRY_AFTER) {
                            tokio::time::sleep(wait).await;
                        }
                        self.delete_one(&scope, id, etag.as_deref())
                            .await
                            .map(|_| ())
                    }
                    other => other,
                };
                results[chunk_no * BATCH_LIMIT + i] = Some(outcome);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(bad(ErrorKind::ProviderUnavailable, "not attempted"))))
            .collect()
    }

    /// Several events by id in `$batch` requests of at most 20 (a first sync of a
    /// calendar with many series needs each series' master; a page of changes, the
    /// events it lists as removed). An inner request that failed for a passing reason
    /// is retried on its own.
    pub async fn get_many(&self, cal: &RemoteCalendar, ids: &[String]) -> Result<Vec<Lookup>> {
        let scope = self.scope(cal);
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_LIMIT) {
            let requests: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    json!({"id": i.to_string(), "method": "GET",
                           "url": format!("{}/events/{}", scope.0, urlencode(id)),
                           "headers": {"Prefer": "IdType=\"ImmutableId\""}})
                })
                .collect();
            let mut req = self.request(Method::POST, self.url("/$batch"));
            req.body = Some(json!({"requests": requests}));
            let answers = self.api.send(&scope.1, req).await?.into_value();
            let inner = answers
                .get("responses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (i, id) in chunk.iter().enumerate() {
                let answer = inner
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(&i.to_string()));
                let got = match inner_result(answer) {
                    Ok(body) => self.lookup_of(&body)?,
                    Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Gone) => {
                        Lookup::Gone
                    }
                    Err(e) if e.kind.retryable() => {
                        if let Some(wait) = e.retry_after.filter(|w| *w <= MAX_INNER_RETRY_AFTER) {
                            tokio::time::sleep(wait).await;
                        }
                        self.look_up(cal, id).await?
                    }
                    Err(e) => return Err(e),
                };
                out.push(got);
            }
        }
        Ok(out)
    }

    async fn delete_one(
        &self,
        scope: &(String, String),
        remote_id: &str,
        etag: Option<&str>,
    ) -> Result<Deleted> {
        let mut req = self.request(
            Method::DELETE,
            self.url(&format!("{}/events/{}", scope.0, urlencode(remote_id))),
        );
        if let Some(etag) = etag {
            req.headers.push((IF_MATCH, etag.to_string()));
        }
        match self.api.send(&scope.1, req).await {
            Ok(_) => Ok(Deleted::Now),
            // Already gone is what we wanted.
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::Gone) => {
                Ok(Deleted::AlreadyGone)
            }
            Err(e) => Err(e),
        }
    }

    /// Free/busy of people (`getSchedule`). Personal Microsoft accounts do not offer
    /// it; that comes back as a plain message.
    pub async fn get_schedule(
        &self,
        addresses: &[String],
        window: Window,
        interval_minutes: u32,
    ) -> Result<Value> {
        let mut req = self.request(Method::POST, self.url("/me/calendar/getSchedule"));
        req.body = Some(json!({
            "schedules": addresses,
            "startTime": {"dateTime": window.start.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
            "endTime": {"dateTime": window.end.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"},
            "availabilityViewInterval": interval_minutes,
        }));
        self.api
            .send(&self.mailbox, req)
            .await
            .map(|r| r.into_value())
            .map_err(personal_account)
    }

    /// Meeting time suggestions (`findMeetingTimes`); same limits as `get_schedule`.
    pub async fn find_meeting_times(&self, body: Value) -> Result<Value> {
        let mut req = self.request(Method::POST, self.url("/me/findMeetingTimes"));
        req.body = Some(body);
        self.api
            .send(&self.mailbox, req)
            .await
            .map(|r| r.into_value())
            .map_err(personal_account)
    }
}

/// Graph refuses free/busy for personal (consumer) accounts with 400/403.
fn personal_account(e: ProviderError) -> ProviderError {
    if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::InvalidRequest) {
        ProviderError {
            message: "Free/busy and meeting suggestions need a work or school Microsoft 365 \
                      account; personal Microsoft accounts do not offer them."
                .into(),
            ..e
        }
    } else {
        e
    }
}

fn calendar(v: &Value, me: &str) -> Option<RemoteCalendar> {
    let id = v.get("id")?.as_str()?.to_string();
    let owner = v
        .get("owner")
        .and_then(|o| o.get("address"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let color = v
        .get("hexColor")
        .and_then(Value::as_str)
        .filter(|c| c.len() == 7 && c.starts_with('#'))
        .unwrap_or("#0078d4")
        .to_string();
    let mut extra = v.as_object().cloned().unwrap_or_default();
    for k in ["id", "name", "hexColor", "canEdit", "isDefaultCalendar"] {
        extra.remove(k);
    }
    Some(RemoteCalendar {
        remote_id: id,
        name: v
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("Calendar")
            .to_string(),
        color,
        can_edit: v.get("canEdit").and_then(Value::as_bool).unwrap_or(false),
        is_primary: v
            .get("isDefaultCalendar")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        owner_email: owner.filter(|o| o != me),
        time_zone: None,
        extra,
    })
}

impl CalendarProvider for GraphCalendar {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>> {
        Box::pin(async move {
            let mut out = self.calendars_of("/me", &self.mailbox).await?;
            for owner in &self.delegates {
                let scope = format!("/users/{}", urlencode(owner));
                let mut shared = self.calendars_of(&scope, owner).await?;
                for c in &mut shared {
                    c.owner_email = Some(owner.clone());
                    // The owner's default calendar is not the user's.
                    c.is_primary = false;
                }
                out.extend(shared);
            }
            Ok(out)
        })
    }

    fn changes<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>> {
        Box::pin(async move {
            match self.changes_once(cal, cursor, window).await {
                // The cursor is dead: list the calendar again from scratch, and say so.
                Err(e) if e.kind == ErrorKind::SyncReset && cursor.is_some() => {
                    self.changes_once(cal, None, window).await
                }
                other => other,
            }
        })
    }

    fn event<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        Box::pin(self.still_there(cal, remote_id))
    }

    fn instance<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        Box::pin(async move {
            // The instances around the original start; the one whose originalStart
            // matches is it (an instance that moved still carries its original start).
            let at = match original_start {
                OriginalStart::Timed(t) => *t,
                OriginalStart::AllDay(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
            };
            let (scope, mailbox) = self.scope(cal);
            let mut u = Url::parse(&self.url(&format!(
                "{scope}/events/{}/instances",
                urlencode(master_id)
            )))
            .map_err(|_| bad(ErrorKind::InvalidRequest, "Bad series id."))?;
            u.query_pairs_mut()
                .append_pair("startDateTime", &rfc3339(at - chrono::TimeDelta::days(2)))
                .append_pair("endDateTime", &rfc3339(at + chrono::TimeDelta::days(2)));
            let mut next = Some(u.to_string());
            let mut pages = 0;
            while let Some(url) = next.take() {
                pages += 1;
                // Four days of one series: more pages than that is no answer to
                // trust, and "no such instance" would delete or hide it here.
                if pages > 20 {
                    return Err(bad(
                        ErrorKind::ProviderUnavailable,
                        "Outlook listed a series' instances without end; nothing was changed.",
                    ));
                }
                let page = self
                    .api
                    .send(&mailbox, self.request(Method::GET, url))
                    .await?
                    .into_value();
                // A page without its list (an error object in a 200) is a failure,
                // not a series without that instance.
                let items = page
                    .get("value")
                    .and_then(Value::as_array)
                    .cloned()
                    .ok_or_else(|| {
                        bad(
                            ErrorKind::ProviderUnavailable,
                            "Outlook answered a series' instances without a list; nothing was changed.",
                        )
                    })?;
                for item in &items {
                    let ev = self.read_event(item)?;
                    if ev
                        .series
                        .as_ref()
                        .is_some_and(|l| same_start(&l.original_start, original_start))
                    {
                        return Ok(Some(ev));
                    }
                }
                next = page
                    .get("@odata.nextLink")
                    .and_then(Value::as_str)
                    .map(|n| self.trusted_link(n))
                    .transpose()?;
            }
            Ok(None)
        })
    }

    fn exdates_in_rule(&self) -> bool {
        false
    }

    fn lookup<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Lookup>> {
        Box::pin(self.look_up(cal, remote_id))
    }

    fn events<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        Box::pin(self.get_many(cal, ids))
    }

    fn creation_key(&self, event: &RemoteEvent) -> Option<String> {
        // Asked of every listed event: read without building the event's other fields.
        match event.extra.field("transactionId") {
            Some(Value::String(key)) => Some(key),
            _ => None,
        }
    }

    fn create<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        Box::pin(async move {
            let mut body =
                mapping::to_graph(event).map_err(|why| bad(ErrorKind::InvalidRequest, why))?;
            // Graph de-duplicates creates that carry the same transactionId.
            body["transactionId"] = json!(idempotency_key);
            // No reminder chosen here, nothing known from Outlook: the mailbox's
            // default, as Outlook gives a new event (sent as off, the event would have
            // no reminder at all). A copy of an event Outlook had keeps its own.
            if event.reminder_minutes.is_none() && event.extra.is_empty() {
                if let Some(fields) = body.as_object_mut() {
                    fields.remove("isReminderOn");
                }
            }
            let (scope, mailbox) = self.scope(cal);
            let mut req = self.request(
                Method::POST,
                self.url(&format!(
                    "{scope}/calendars/{}/events",
                    urlencode(&cal.remote_id)
                )),
            );
            req.body = Some(body);
            let created = self.api.send(&mailbox, req).await?.into_value();
            self.read_event(&created)
        })
    }

    fn update<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        Box::pin(async move {
            let body =
                mapping::to_graph(event).map_err(|why| bad(ErrorKind::InvalidRequest, why))?;
            let (scope, mailbox) = self.scope(cal);
            let mut req = self.request(
                Method::PATCH,
                self.url(&format!("{scope}/events/{}", urlencode(&event.remote_id))),
            );
            req.headers.push((IF_MATCH, etag.to_string()));
            req.body = Some(body);
            let updated = self.api.send(&mailbox, req).await?.into_value();
            self.read_event(&updated)
        })
    }

    fn update_changed<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
        base: Option<&'a RemoteEvent>,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        let Some(base) = base else {
            return self.update(cal, event, etag);
        };
        Box::pin(async move {
            let full =
                mapping::to_graph(event).map_err(|why| bad(ErrorKind::InvalidRequest, why))?;
            let before = mapping::to_graph(base).unwrap_or_default();
            let body = changed_properties(&full, &before);
            let (scope, mailbox) = self.scope(cal);
            let mut req = self.request(
                Method::PATCH,
                self.url(&format!("{scope}/events/{}", urlencode(&event.remote_id))),
            );
            req.headers.push((IF_MATCH, etag.to_string()));
            req.body = Some(body);
            let updated = self.api.send(&mailbox, req).await?.into_value();
            self.read_event(&updated)
        })
    }

    fn delete<'a>(
        &'a self,
        cal: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Deleted>> {
        Box::pin(async move { self.delete_one(&self.scope(cal), remote_id, etag).await })
    }
}

/// The properties of `full` that differ from `before`: a PATCH that names only what
/// changed. The times travel together (`start`, `end`, `isAllDay`): a PATCH with one
/// bound and not the other is read against the stored other bound.
fn changed_properties(full: &Value, before: &Value) -> Value {
    let mut out = serde_json::Map::new();
    let (Some(full), before) = (full.as_object(), before.as_object()) else {
        return full.clone();
    };
    let differs = |k: &str| before.is_none_or(|b| b.get(k) != full.get(k));
    let times = ["start", "end", "isAllDay"];
    let times_changed = times.iter().any(|k| differs(k));
    for (k, v) in full {
        if differs(k) || (times_changed && times.contains(&k.as_str())) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Two original starts name the same instance (an all-day one may come back as the
/// midnight of its date).
fn same_start(a: &OriginalStart, b: &OriginalStart) -> bool {
    let day = |o: &OriginalStart| match o {
        OriginalStart::Timed(t) => (t.date_naive(), Some(*t)),
        OriginalStart::AllDay(d) => (*d, None),
    };
    match (day(a), day(b)) {
        ((_, Some(x)), (_, Some(y))) => x == y,
        ((x, _), (y, _)) => x == y,
    }
}

/// One answer of a `$batch`, classified like a response of its own (`None`: the batch
/// left the request unanswered).
fn inner_result(answer: Option<&Value>) -> Result<Value> {
    let Some(a) = answer else {
        return Err(bad(
            ErrorKind::ProviderUnavailable,
            "Microsoft 365 left a request of a batch unanswered.",
        ));
    };
    // (A status beyond u16 is no status: not read as a wrapped-around 200.)
    let status = (a.get("status").and_then(Value::as_u64))
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(502);
    if (200..300).contains(&status) {
        return Ok(a.get("body").cloned().unwrap_or(Value::Null));
    }
    let retry_after = a
        .get("headers")
        .and_then(|h| h.get("Retry-After").or_else(|| h.get("retry-after")))
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or_else(|| v.as_u64())
        });
    Err(almanac_provider::classify_inner(
        almanac_provider::Dialect::Graph,
        status,
        retry_after,
        a.get("body"),
    ))
}

/// Graph ids are base64-ish (`+`, `/`, `=`): escape them in a path segment.
fn urlencode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use almanac_provider::{Backoff, Dialect, TokenSource};

    use super::*;

    struct NoTokens;

    impl TokenSource for NoTokens {
        fn token(&self, _: bool) -> BoxFuture<'_, Result<almanac_auth::Secret>> {
            Box::pin(async { Err(bad(ErrorKind::ActionRequired, "none")) })
        }
    }

    #[test]
    fn links_to_other_hosts_are_not_followed() {
        let api =
            ApiClient::new(Dialect::Graph, Arc::new(NoTokens), Backoff::default()).expect("api");
        let g = GraphCalendar::new(
            api,
            Url::parse("https://graph.example/v1.0").expect("url"),
            "a@b.c",
            "UTC",
        );
        assert!(g
            .trusted_link("https://graph.example/v1.0/me/calendarView/delta?$skiptoken=x")
            .is_ok());
        for bad_link in [
            "https://evil.example/v1.0/me/calendarView/delta",
            "http://graph.example/v1.0/me",
            "https://graph.example:444/v1.0/me",
            "https://graph.example/beta/me",
            "not a url",
        ] {
            assert!(g.trusted_link(bad_link).is_err(), "{bad_link}");
        }
    }

    #[test]
    fn teams_meetings_are_never_switched_off() {
        let v = serde_json::json!({"id": "x", "subject": "s", "isOnlineMeeting": true,
            "onlineMeetingProvider": "teamsForBusiness",
            "onlineMeeting": {"joinUrl": "https://teams.example/j"},
            "start": {"dateTime": "2026-01-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-01-01T11:00:00", "timeZone": "UTC"}});
        let mut e = mapping::from_graph(&v, "UTC").expect("maps");
        e.online_meeting = None;
        let out = mapping::to_graph(&e).expect("writable");
        // Graph cannot turn a Teams meeting off; Almanac never asks it to.
        assert!(
            out.get("isOnlineMeeting").is_none_or(|v| v == true),
            "{out}"
        );
    }
}
