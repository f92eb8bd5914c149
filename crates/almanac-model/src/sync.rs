//! What the window shows of sync: each account's health, the conflicts and the user's
//! answer to one. Times are RFC 3339 UTC strings.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{AccountStatus, AppError, Provider};

/// A calendar stopped by the mass-deletion guard, waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HeldCalendar {
    pub calendar_id: String,
    pub name: String,
    pub would_delete: u32,
    pub total: u32,
}

/// One account's sync health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountSync {
    pub account_id: String,
    pub email: String,
    pub provider: Provider,
    pub status: AccountStatus,
    /// A run of this account is in flight.
    pub running: bool,
    pub last_success_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// When the background loop runs the account next (`None`: not scheduled).
    pub next_sync_at: Option<String>,
    /// The last run's error in plain words; `None` after a success.
    pub last_error: Option<AppError>,
    /// Local changes waiting to be sent.
    pub pending_pushes: u32,
    pub open_conflicts: u32,
    pub held_calendars: Vec<HeldCalendar>,
}

/// Sync as the status area, the tray and the Sync now button see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncOverview {
    pub accounts: Vec<AccountSync>,
    /// Some run is in flight (Sync now is disabled meanwhile).
    pub running: bool,
    pub paused: bool,
    pub open_conflicts: u32,
}

/// What a conflict is about; the first word is this computer's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKindView {
    /// The same field changed differently on both sides.
    EditEdit,
    /// Changed here, deleted at the provider.
    EditDelete,
    /// Deleted here, changed at the provider.
    DeleteEdit,
}

/// One field changed differently on both sides, as display text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConflictField {
    /// The field's stable name (`title`, `timing`, `extra.<key>`…), used to answer.
    pub field: String,
    /// What the user reads (`Title`, `Time`…).
    pub label: String,
    pub base: String,
    pub local: String,
    pub remote: String,
}

/// A conflict for the Conflicts panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConflictView {
    pub id: String,
    pub event_id: String,
    pub calendar_id: String,
    pub calendar_name: String,
    pub kind: ConflictKindView,
    pub title: String,
    pub detected_at: String,
    pub fields: Vec<ConflictField>,
    /// This computer's version in one line (`None` when deleted here).
    pub local_summary: Option<String>,
    /// The provider's version in one line (`None` when deleted there).
    pub remote_summary: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum KeepSide {
    /// This computer's version.
    Local,
    /// The provider's version.
    Remote,
    /// Both: the provider's stays, this computer's becomes a copy.
    Both,
}

/// A conflict a calendar's conflict policy settled by itself (Settings › Sync): the
/// side it kept, and every version — the one it gave up too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettledConflict {
    pub conflict: ConflictView,
    pub kept: KeepSide,
    pub settled_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FieldSide {
    Local,
    Remote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FieldPick {
    pub field: String,
    pub side: FieldSide,
}

/// The user's answer to a conflict: one side for everything, or a side per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConflictAnswer {
    pub conflict_id: String,
    pub keep: Option<KeepSide>,
    pub fields: Vec<FieldPick>,
    /// The conflict's `detectedAt` as the user saw it: a newer version from the
    /// provider since (it refreshes the conflict) refuses the answer, nothing changed,
    /// rather than keep a version the user never saw. `None`: not checked.
    pub detected_at: Option<String>,
}

/// One calendar of a run in flight is done: the `sync-progress` event's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CalendarProgress {
    pub account_id: String,
    pub calendar_id: String,
    pub name: String,
    pub pulled: u32,
    pub pushed: u32,
    pub conflicts: u32,
    /// Stopped by the deletion guard, or failed (the message in plain words).
    pub problem: Option<String>,
}
