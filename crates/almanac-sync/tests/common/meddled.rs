//! A provider through which a change lands in the middle of a run — another
//! client's there, or the user's here — at a chosen moment.

use std::sync::Mutex;

use almanac_provider::{
    BoxFuture, CalendarProvider, ChangePage, OriginalStart, RemoteCalendar, RemoteEvent, Window,
};

pub type Meddling<'a> = Box<dyn FnOnce() + Send + 'a>;

/// When, around this computer's first read of an instance, the change lands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Moment {
    Before,
    /// Between that read and the write that follows it.
    After,
    /// Instead of that read, which fails: the provider is unavailable.
    Instead,
    /// Just before this computer's first update of an event (not at an instance read).
    BeforeUpdate,
    /// Just before this computer's first delete of an event (not at an instance read).
    BeforeDelete,
}

/// A provider through which another client's change lands in the middle of a run.
pub struct Meddled<'a> {
    pub inner: Box<dyn CalendarProvider>,
    pub moment: Moment,
    pub meddle: Mutex<Option<Meddling<'a>>>,
}

impl CalendarProvider for Meddled<'_> {
    fn list_calendars(&self) -> BoxFuture<'_, almanac_provider::Result<Vec<RemoteCalendar>>> {
        self.inner.list_calendars()
    }
    fn changes<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        cursor: Option<&'a str>,
        window: Window,
    ) -> BoxFuture<'a, almanac_provider::Result<ChangePage>> {
        self.inner.changes(calendar, cursor, window)
    }
    fn event<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
    ) -> BoxFuture<'a, almanac_provider::Result<Option<RemoteEvent>>> {
        self.inner.event(calendar, remote_id)
    }
    fn instance<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        master_id: &'a str,
        original_start: &'a OriginalStart,
    ) -> BoxFuture<'a, almanac_provider::Result<Option<RemoteEvent>>> {
        if matches!(self.moment, Moment::BeforeUpdate | Moment::BeforeDelete) {
            return self.inner.instance(calendar, master_id, original_start);
        }
        let meddle = self.meddle.lock().expect("hook").take();
        if self.moment == Moment::Instead && meddle.is_some() {
            meddle.into_iter().for_each(|m| m());
            return Box::pin(async {
                Err(almanac_provider::ProviderError::new(
                    almanac_provider::ErrorKind::ProviderUnavailable,
                    "503 from the test",
                ))
            });
        }
        if self.moment == Moment::Before {
            meddle.into_iter().for_each(|m| m());
            return self.inner.instance(calendar, master_id, original_start);
        }
        Box::pin(async move {
            let read = self
                .inner
                .instance(calendar, master_id, original_start)
                .await;
            meddle.into_iter().for_each(|m| m());
            read
        })
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
    ) -> BoxFuture<'a, almanac_provider::Result<RemoteEvent>> {
        self.inner.create(calendar, event, idempotency_key)
    }
    fn update<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        event: &'a RemoteEvent,
        etag: &'a str,
    ) -> BoxFuture<'a, almanac_provider::Result<RemoteEvent>> {
        if self.moment == Moment::BeforeUpdate {
            let meddle = self.meddle.lock().expect("hook").take();
            meddle.into_iter().for_each(|m| m());
        }
        self.inner.update(calendar, event, etag)
    }
    fn delete<'a>(
        &'a self,
        calendar: &'a RemoteCalendar,
        remote_id: &'a str,
        etag: Option<&'a str>,
    ) -> BoxFuture<'a, almanac_provider::Result<almanac_provider::Deleted>> {
        if self.moment == Moment::BeforeDelete {
            let meddle = self.meddle.lock().expect("hook").take();
            meddle.into_iter().for_each(|m| m());
        }
        self.inner.delete(calendar, remote_id, etag)
    }
}
