//! Microsoft Graph (Outlook calendar) for Almanac: the client ([`GraphCalendar`], a
//! `CalendarProvider`), the event mapping both ways ([`mapping`]), Windows ↔ IANA
//! time-zone names ([`windows_zones`]) and `patternedRecurrence` ↔ RFC 5545 RRULE
//! ([`recurrence`]).

mod client;
pub mod html;
pub mod mapping;
pub mod page;
pub mod recurrence;
mod series;
pub mod windows_zones;

pub use client::{GraphCalendar, Me, BATCH_LIMIT, MAX_LIST_PAGES, PAGE_SIZE};
