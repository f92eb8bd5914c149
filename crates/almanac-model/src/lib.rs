//! Almanac's domain: calendars, events, time resolution, recurrence expansion and
//! validation. Pure: no I/O, no clock — callers pass "now" in.

mod account;
mod calendar;
mod error;
mod event;
mod input;
mod ipc_bindings;
mod occurrence;
mod people;
pub mod recurrence;
mod sync;
pub mod time;

pub use account::{Account, AccountStatus, Disconnected, Provider, RevokeOutcome};
pub use calendar::{Calendar, ConflictPolicy, LOCAL_CALENDAR_ID};
pub use error::{AppError, ErrorCode, ValidationError};
pub use event::{EditScope, EventKind, EventView, Importance, Sensitivity, ShowAs};
pub use input::{
    instance_key, EventChange, EventInput, EventMove, EventTarget, RecurrenceInput, ValidEvent,
    ValidTiming, MAX_CATEGORIES, MAX_CATEGORY_LEN, MAX_TEXT_LEN, MAX_TITLE_LEN,
};
pub use ipc_bindings::{typescript_bindings, BINDINGS_HEADER};
pub use occurrence::{Occurrence, RangeQuery};
pub use people::{
    Attendee, AttendeeKind, EventMeeting, MeetingProvider, OnlineMeeting, Person, Response,
};
pub use sync::{
    AccountSync, CalendarProgress, ConflictAnswer, ConflictField, ConflictKindView, ConflictView,
    FieldPick, FieldSide, HeldCalendar, KeepSide, SettledConflict, SyncOverview,
};
