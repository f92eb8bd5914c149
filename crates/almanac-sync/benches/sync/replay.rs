//! A provider that answers `changes` with pages recorded from the real client, and
//! passes everything else to that client: the apply benchmark measures the engine's
//! path from a provider page to the store without the network in the way.

use std::collections::HashMap;
use std::sync::Mutex;

use almanac_provider::{
    BoxFuture, CalendarProvider, ChangePage, ErrorKind, Lookup, OriginalStart, ProviderError,
    RemoteCalendar, RemoteEvent, Result, Window,
};

pub struct Replay {
    pub inner: Box<dyn CalendarProvider>,
    /// Per calendar, the pages still to serve, in order.
    pub pages: Mutex<HashMap<String, Vec<ChangePage>>>,
    /// What a calendar whose pages are used up is answered: this error, or (`None`)
    /// what the real provider says.
    pub then: Option<ErrorKind>,
    /// What `list_calendars` answers instead of the real provider (`None`: its answer).
    pub calendars: Option<Vec<RemoteCalendar>>,
}

impl CalendarProvider for Replay {
    fn list_calendars(&self) -> BoxFuture<'_, Result<Vec<RemoteCalendar>>> {
        match &self.calendars {
            Some(list) => {
                let list = list.clone();
                Box::pin(async move { Ok(list) })
            }
            None => self.inner.list_calendars(),
        }
    }

    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        window: Window,
    ) -> BoxFuture<'a, Result<ChangePage>> {
        let next = {
            let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
            pages
                .get_mut(&calendar.remote_id)
                .map(|p| (!p.is_empty()).then(|| p.remove(0)))
        };
        match (next, self.then) {
            (Some(Some(page)), _) => Box::pin(async move { Ok(page) }),
            (Some(None), Some(kind)) => {
                Box::pin(
                    async move { Err(ProviderError::new(kind, "the replayed pages are used up")) },
                )
            }
            // Not replayed, or recorded pages used up: the real provider answers.
            _ => self.inner.changes(calendar, cursor, window),
        }
    }

    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        self.inner.event(calendar, remote_id)
    }

    fn lookup<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Lookup>> {
        self.inner.lookup(calendar, remote_id)
    }

    fn events<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Lookup>>> {
        self.inner.events(calendar, ids)
    }

    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, Result<Option<RemoteEvent>>> {
        self.inner.instance(calendar, master_id, original_start)
    }

    fn exdates_in_rule(&self) -> bool {
        self.inner.exdates_in_rule()
    }

    fn creation_key(&self, event: &RemoteEvent) -> Option<String> {
        self.inner.creation_key(event)
    }

    fn create<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        idempotency_key: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        self.inner.create(calendar, event, idempotency_key)
    }

    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        self.inner.update(calendar, event, etag)
    }

    fn update_changed<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
        base: Option<&'a RemoteEvent>,
    ) -> BoxFuture<'a, Result<RemoteEvent>> {
        self.inner.update_changed(calendar, event, etag, base)
    }

    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<almanac_provider::Deleted>> {
        self.inner.delete(calendar, remote_id, etag)
    }
}
