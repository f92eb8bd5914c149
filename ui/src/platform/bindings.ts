// Generated from crates/almanac-model by `UPDATE_BINDINGS=1 cargo test -p almanac-model`. Do not edit.
export type ErrorCode = "invalid_input" | "not_found" | "read_only" | "conflict" | "storage" | "locked" | "auth_expired" | "throttled" | "offline" | "precondition_failed" | "action_required" | "keyring_unavailable" | "sign_in_failed" | "config" | "provider_unavailable" | "invalid_request" | "forbidden" | "internal";
export type AppErrorPayload = { code: ErrorCode, message: string, };
export type ShowAs = "free" | "tentative" | "busy" | "oof" | "workingElsewhere";
export type Importance = "low" | "normal" | "high";
export type Sensitivity = "normal" | "personal" | "private" | "confidential";
export type EditScope = "occurrence" | "all";
export type EventKind = "single" | "master" | "exception";
export type ConflictPolicy = "ask" | "prefer_local" | "prefer_remote" | "keep_both";
export type Calendar = { id: string, name: string, 
/**
 * CSS colour, `#rrggbb`.
 */
color: string, 
/**
 * `None` for calendars that live only on this computer.
 */
accountId: string | null, canEdit: boolean, isPrimary: boolean, visible: boolean, 
/**
 * How a synced calendar settles a conflict by itself; `None` for calendars that
 * live only on this computer (they have no other side).
 */
conflictPolicy: ConflictPolicy | null, };
export type Provider = "microsoft" | "google";
export type AccountStatus = "connected" | "action_required" | "error" | "paused";
export type Account = { id: string, provider: Provider, email: string, displayName: string, status: AccountStatus, 
/**
 * Plain-language reason for `action_required` / `error`.
 */
statusMessage: string | null, 
/**
 * Unix seconds.
 */
createdAt: number, };
export type RevokeOutcome = "revoked" | "not_supported" | "failed" | "no_token";
export type Disconnected = { account: Account, revoked: RevokeOutcome, };
export type RecurrenceInput = { 
/**
 * RRULE value, e.g. `FREQ=WEEKLY;BYDAY=MO` (an `RRULE:` prefix is accepted).
 */
rrule: string, 
/**
 * Removed instances, as wall times like `start`.
 */
exdates: Array<string>, 
/**
 * Added instances, as wall times like `start`.
 */
rdates: Array<string>, };
export type EventInput = { calendarId: string, title: string, allDay: boolean, 
/**
 * Timed: `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`, with the UTC offset after it
 * only for the second pass of a DST fold (`2027-10-31T02:15:00+01:00`; see
 * [`EventTime`]). All-day: `YYYY-MM-DD`.
 */
start: string, 
/**
 * As `start`; for all-day events the end date is exclusive.
 */
end: string, 
/**
 * IANA zone name.
 */
timeZone: string, recurrence: RecurrenceInput | null, location: string, description: string, showAs: ShowAs, importance: Importance, categories: Array<string>, };
export type Person = { email: string, name: string, };
export type AttendeeKind = "required" | "optional" | "resource";
export type Response = "none" | "organizer" | "accepted" | "tentative" | "declined";
export type Attendee = { person: Person, kind: AttendeeKind, response: Response, };
export type MeetingProvider = "teams" | "meet" | "other";
export type OnlineMeeting = { provider: MeetingProvider, joinUrl: string, conferenceId: string | null, 
/**
 * Dial-in number (Teams toll number, Meet phone entry point).
 */
tollNumber: string | null, 
/**
 * PIN for the dial-in, when the provider gives one.
 */
pin: string | null, };
export type EventMeeting = { organizer: Person | null, attendees: Array<Attendee>, onlineMeeting: OnlineMeeting | null, 
/**
 * The online meeting's link is one Almanac opens ([`OnlineMeeting::web_link`]).
 */
joinable: boolean, };
export type EventView = { id: string, kind: EventKind, seriesId: string | null, 
/**
 * For exceptions: the original start (local wall time) of the instance it replaces.
 */
originalStart: string | null, input: EventInput, 
/**
 * Organizer, attendees and online meeting of a synced event (read-only).
 */
meeting: EventMeeting, 
/**
 * The provider keeps the description formatted (HTML: links, tables, a meeting's
 * join details), which `input.description` gives as text only. An edit of the
 * description replaces it with that text, for everyone the event is shared with.
 */
formattedDescription: boolean, 
/**
 * Who may see it (a provider's, or a file's `CLASS`); not part of the editor's
 * input, and kept by its edits.
 */
sensitivity: Sensitivity, 
/**
 * RFC 3339 UTC.
 */
createdAt: string, updatedAt: string, };
export type Occurrence = { 
/**
 * The row to open: the master for series instances, the exception row for exceptions.
 */
eventId: string, seriesId: string | null, 
/**
 * Series instance key: local wall time of the original start in the event's zone
 * (`YYYY-MM-DDTHH:MM:SS`, or `YYYY-MM-DD` for all-day series).
 */
originalStart: string | null, calendarId: string, title: string, allDay: boolean, 
/**
 * Timed: RFC 3339 UTC instant. All-day: `YYYY-MM-DD`.
 */
start: string, 
/**
 * Timed: RFC 3339 UTC instant. All-day: `YYYY-MM-DD`, exclusive.
 */
end: string, timeZone: string, location: string, showAs: ShowAs, importance: Importance, categories: Array<string>, recurring: boolean, exception: boolean, };
export type RangeQuery = { 
/**
 * RFC 3339 instant, inclusive.
 */
from: string, 
/**
 * RFC 3339 instant, exclusive.
 */
to: string, calendarIds: Array<string> | null, };
export type EventChange = { id: string, scope: EditScope, originalStart: string | null, input: EventInput, };
export type EventTarget = { id: string, scope: EditScope, originalStart: string | null, };
export type EventMove = { id: string, scope: EditScope, originalStart: string | null, allDay: boolean, 
/**
 * Timed: RFC 3339 instant. All-day: `YYYY-MM-DD`.
 */
start: string, 
/**
 * Timed: RFC 3339 instant. All-day: `YYYY-MM-DD`, exclusive.
 */
end: string, };
export type HeldCalendar = { calendarId: string, name: string, wouldDelete: number, total: number, };
export type AccountSync = { accountId: string, email: string, provider: Provider, status: AccountStatus, 
/**
 * A run of this account is in flight.
 */
running: boolean, lastSuccessAt: string | null, lastAttemptAt: string | null, 
/**
 * When the background loop runs the account next (`None`: not scheduled).
 */
nextSyncAt: string | null, 
/**
 * The last run's error in plain words; `None` after a success.
 */
lastError: AppErrorPayload | null, 
/**
 * Local changes waiting to be sent.
 */
pendingPushes: number, openConflicts: number, heldCalendars: Array<HeldCalendar>, };
export type SyncOverview = { accounts: Array<AccountSync>, 
/**
 * Some run is in flight (Sync now is disabled meanwhile).
 */
running: boolean, paused: boolean, openConflicts: number, };
export type CalendarProgress = { accountId: string, calendarId: string, name: string, pulled: number, pushed: number, conflicts: number, 
/**
 * Stopped by the deletion guard, or failed (the message in plain words).
 */
problem: string | null, };
export type ConflictKindView = "editEdit" | "editDelete" | "deleteEdit";
export type ConflictField = { 
/**
 * The field's stable name (`title`, `timing`, `extra.<key>`…), used to answer.
 */
field: string, 
/**
 * What the user reads (`Title`, `Time`…).
 */
label: string, base: string, local: string, remote: string, };
export type ConflictView = { id: string, eventId: string, calendarId: string, calendarName: string, kind: ConflictKindView, title: string, detectedAt: string, fields: Array<ConflictField>, 
/**
 * This computer's version in one line (`None` when deleted here).
 */
localSummary: string | null, 
/**
 * The provider's version in one line (`None` when deleted there).
 */
remoteSummary: string | null, };
export type KeepSide = "local" | "remote" | "both";
export type SettledConflict = { conflict: ConflictView, kept: KeepSide, settledAt: string, };
export type FieldSide = "local" | "remote";
export type FieldPick = { field: string, side: FieldSide, };
export type ConflictAnswer = { conflictId: string, keep: KeepSide | null, fields: Array<FieldPick>, 
/**
 * The conflict's `detectedAt` as the user saw it: a newer version from the
 * provider since (it refreshes the conflict) refuses the answer, nothing changed,
 * rather than keep a version the user never saw. `None`: not checked.
 */
detectedAt: string | null, };
