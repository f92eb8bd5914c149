//! The interface the sync engine drives, implemented by the Graph and Google clients.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::event::{OriginalStart, RemoteEvent};

/// A calendar in the account's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCalendar {
    pub remote_id: String,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    pub can_edit: bool,
    pub is_primary: bool,
    /// Set for calendars shared with or delegated to the user: the owner's address.
    pub owner_email: Option<String>,
    /// The calendar's IANA zone, when the provider says.
    pub time_zone: Option<String>,
    pub extra: Map<String, Value>,
}

/// The span incremental sync covers (Graph's delta window is fixed per cursor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Created or changed at the provider (full representation).
    Upsert(Box<RemoteEvent>),
    /// Deleted at the provider, or moved out of reach.
    Removed { remote_id: String },
}

/// What a delete found: an event already gone is success too, but not the same news.
/// At Outlook an occurrence's instance deleted now is among its series'
/// cancellations there; one already gone may have gone with a move of its series,
/// which brought the day back at the new time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The provider had it and deleted it.
    Now,
    /// The provider had no such event (404, 410), or it was deleted already — maybe
    /// by an earlier attempt of ours whose answer was lost.
    AlreadyGone,
}

/// What the provider answered for one event asked for by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Box<RemoteEvent>),
    /// The provider has no such event (404, 410, or deleted).
    Gone,
    /// The provider has it, but sent what Almanac cannot read (why — cut to
    /// [`UNREADABLE_REASON_CHARS`]): neither gone nor usable.
    Unreadable(String),
}

impl Lookup {
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Gone)
    }

    /// The event, when it was found and read.
    pub fn found(self) -> Option<RemoteEvent> {
        match self {
            Self::Found(ev) => Some(*ev),
            Self::Gone | Self::Unreadable(_) => None,
        }
    }
}

/// Where listing goes on from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// More pages in this round (Graph nextLink, Google pageToken): ask again with it.
    More(String),
    /// The round is complete; keep this for the next incremental round (Graph
    /// deltaLink, Google nextSyncToken). Only ever returned with the last page.
    Done(String),
}

/// One page of changes. A page may be empty and still have more after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    pub cursor: Cursor,
    /// This page belongs to a complete listing of the calendar: the first round, or
    /// one the client restarted because the provider invalidated the cursor (Graph
    /// 410 / `syncStateNotFound` / `resyncRequired`, Google 410 `fullSyncRequired`).
    /// When such a round reaches [`Cursor::Done`], every event of the calendar (inside
    /// the window, for Graph) that the round did not list is gone at the provider:
    /// the engine reconciles by remote id, keeping its outbox. A round that fails
    /// midway implies nothing.
    pub full_listing: bool,
    /// This call began a full listing (the first one, or because the provider
    /// invalidated the cursor, possibly in the middle of another listing): ids
    /// collected for an earlier listing no longer count.
    pub restarted: bool,
    /// Events the page lists that could not be read (remote id, why — cut to
    /// [`UNREADABLE_REASON_CHARS`]): skipped and logged, counted as listed, so that one
    /// malformed event neither stops its calendar at every run nor reads as deleted.
    pub unreadable: Vec<(String, String)>,
}

/// Longest reason kept for an unreadable event, in characters: it may quote the
/// provider's text (a zone name, a value), which is not the user's log to fill.
pub const UNREADABLE_REASON_CHARS: usize = 200;

/// `reason` cut to [`UNREADABLE_REASON_CHARS`], one line.
pub fn unreadable_reason(reason: &str) -> String {
    let mut out: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(UNREADABLE_REASON_CHARS)
        .collect();
    if reason.chars().nth(UNREADABLE_REASON_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A page's events as read, in page order, the last of each id winning whether it
/// read or not (a provider may list an event twice in a page when it changed while
/// the page was made): the changes, and the events that could not be read (id, why).
/// An older version is never applied when a newer one could not be read. Unreadable
/// events with no id are all kept.
pub fn last_of_each(
    read: Vec<(String, std::result::Result<Change, String>)>,
) -> (Vec<Change>, Vec<(String, String)>) {
    let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, (id, _)) in read.iter().enumerate() {
        last.insert(id.as_str(), i);
    }
    let last: Vec<bool> = (0..read.len())
        .map(|i| read[i].0.is_empty() || last.get(read[i].0.as_str()) == Some(&i))
        .collect();
    let mut changes = Vec::with_capacity(read.len());
    let mut unreadable = Vec::new();
    for ((id, got), last) in read.into_iter().zip(last) {
        match (got, last) {
            (_, false) => {}
            (Ok(change), true) => changes.push(change),
            (Err(why), true) => unreadable.push((id, why)),
        }
    }
    (changes, unreadable)
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A provider client for one account. Every method is one logical request (with the
/// client's retries inside); errors are classified [`crate::ProviderError`]s.
pub trait CalendarProvider: Send + Sync {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>>;

    /// One page of changes of `calendar`: from scratch when `cursor` is `None` (a full
    /// listing of `window`), else from a `Cursor::More` or `Cursor::Done` value. When
    /// the provider says the cursor is no longer valid, the client starts a full
    /// listing itself and says so with [`ChangePage::full_listing`].
    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>>;

    /// The event as the provider holds it now (`None` when it is gone): a series master
    /// an instance points at, or the current version after a 412.
    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>>;

    /// The provider's instance of series `master_id` at `original_start` (its id and
    /// etag, to update or delete that one occurrence); `None` when the series has no
    /// such instance.
    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>>;

    /// Whether a series' EXDATEs are part of the rule the provider stores (Google's
    /// `recurrence` lines). Where they are not (Graph), a removed occurrence is a
    /// delete of that instance.
    fn exdates_in_rule(&self) -> bool;

    /// [`Self::event`], where one the provider sent but that cannot be read is
    /// [`Lookup::Unreadable`] rather than a failure, so that it neither fails a
    /// listing nor reads as gone. The default cannot tell it apart: a client that can
    /// overrides this.
    fn lookup<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Lookup>> {
        Box::pin(async move {
            Ok(match self.event(calendar, remote_id).await? {
                Some(ev) => Lookup::Found(Box::new(ev)),
                None => Lookup::Gone,
            })
        })
    }

    /// Several events at once (series masters for a page's instances), in the order
    /// of `ids`, each a [`Self::lookup`]. Where the provider can batch (Graph
    /// `$batch`) this saves round trips; the default asks one by one.
    fn events<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.push(self.lookup(calendar, id).await?);
            }
            Ok(out)
        })
    }

    /// The idempotency key a create of ours carried, read back from the provider's
    /// version of the event (Graph `transactionId`, Google's id derived from it), so a
    /// create whose answer was lost is linked, not duplicated.
    fn creation_key(&self, event: &RemoteEvent) -> Option<String>;

    /// Creates `event`; `idempotency_key` makes a retried create land once (Graph
    /// `transactionId`, Google client-chosen id; a "duplicate" answer means done).
    fn create<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>>;

    /// Updates `event` (by its `remote_id`) if it still has `etag` (412 otherwise).
    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>>;

    /// Updates `event` sending only what differs from `base` (the version both sides
    /// last agreed on), where the provider's PATCH makes that matter: Outlook drops a
    /// series' exceptions when a PATCH names its times or pattern, changed or not. The
    /// default sends everything, like [`CalendarProvider::update`].
    fn update_changed<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
        base: Option<&'a RemoteEvent>,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        let _ = base;
        self.update(calendar, event, etag)
    }

    /// Deletes; an already deleted event is success ([`Deleted::AlreadyGone`]).
    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Deleted>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(id: &str) -> Change {
        Change::Removed {
            remote_id: id.to_owned(),
        }
    }

    #[test]
    fn the_last_of_each_id_wins_read_or_not() {
        let read = vec![
            ("a".to_owned(), Ok(removed("a"))),
            ("b".to_owned(), Ok(removed("b"))),
            ("a".to_owned(), Err("bad zone".to_owned())),
            ("c".to_owned(), Err("bad date".to_owned())),
            ("c".to_owned(), Ok(removed("c"))),
            (String::new(), Err("no id".to_owned())),
            (String::new(), Err("no id either".to_owned())),
        ];
        let (changes, unreadable) = last_of_each(read);
        // `a`'s older version is not applied: its newer one could not be read.
        assert_eq!(changes, vec![removed("b"), removed("c")]);
        assert_eq!(
            unreadable,
            vec![
                ("a".to_owned(), "bad zone".to_owned()),
                (String::new(), "no id".to_owned()),
                (String::new(), "no id either".to_owned()),
            ]
        );
    }
}
