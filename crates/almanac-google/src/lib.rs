//! Google Calendar API v3 for Almanac: [`GoogleCalendar`], the
//! [`almanac_provider::CalendarProvider`] of Google accounts, on the shared
//! [`almanac_provider::ApiClient`].
//!
//! * [`dto`]: Google's resources as serde types that keep every unmodelled field.
//! * [`mapping`]: Google `Event` ↔ [`almanac_provider::RemoteEvent`], both ways, with
//!   the extended properties that hold what Google has no field for.
//! * [`client`]: calendar list, paged full and incremental sync (`syncToken`),
//!   idempotent creates (client-chosen ids), If-Match updates and deletes, free/busy
//!   and Meet requests.

pub mod client;
pub mod dto;
pub mod mapping;

pub use client::{
    event_id_for_key, BusyPeriod, CalendarBusy, FreeBusyError, GoogleCalendar, GOOGLE_CALENDAR_URL,
};
pub use mapping::{
    from_google, from_google_json, from_google_listed, meet_request, to_google, CalendarContext,
    MappingError, PROP_CATEGORIES, PROP_IMPORTANCE, PROP_ONLINE_MEETING, PROP_SENSITIVITY,
    PROP_SHOW_AS,
};
