// Typed wrappers around the Tauri commands. The only place (with the rest of
// platform/) allowed to import @tauri-apps/*.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  Account,
  CalendarProgress,
  AppErrorPayload,
  Calendar,
  ConflictAnswer,
  ConflictPolicy,
  ConflictView,
  Disconnected,
  ErrorCode,
  EventChange,
  EventInput,
  EventMove,
  EventTarget,
  EventView,
  Occurrence,
  Provider,
  RangeQuery,
  SettledConflict,
  SyncOverview,
} from "./bindings";

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "AppError";
    this.code = code;
    Object.setPrototypeOf(this, AppError.prototype);
  }
}

function isPayload(e: unknown): e is AppErrorPayload {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as AppErrorPayload).code === "string" &&
    typeof (e as AppErrorPayload).message === "string"
  );
}

/** Normalise anything a command can reject with into an AppError. */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (isPayload(e)) return new AppError(e.code, e.message);
  if (typeof e === "string") return new AppError("internal", e);
  if (e instanceof Error) return new AppError("internal", e.message);
  return new AppError("internal", String(e));
}

/** True inside the Tauri webview. */
export function inTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    if (inTauri()) return await invoke<T>(cmd, args);
    if (import.meta.env.DEV) {
      // Dev-only in-memory backend for `npm run dev` in a plain browser.
      const { devInvoke } = await import("./devBackend");
      return (await devInvoke(cmd, args ?? {})) as T;
    }
    throw new AppError("internal", "The Almanac backend is not available outside the desktop app.");
  } catch (e) {
    throw toAppError(e);
  }
}

export const listCalendars = () => call<Calendar[]>("list_calendars");
/** Shows or hides a calendar; kept across restarts (the tray's next meeting follows). */
export const setCalendarVisible = (calendarId: string, visible: boolean) =>
  call<null>("set_calendar_visible", { calendarId, visible });
export const listOccurrences = (query: RangeQuery) => call<Occurrence[]>("list_occurrences", { query });
export const getEvent = (id: string) => call<EventView>("get_event", { id });
export const createEvent = (input: EventInput) => call<EventView>("create_event", { input });
export const updateEvent = (change: EventChange) => call<EventView>("update_event", { change });
export const moveEvent = (change: EventMove) => call<EventView>("move_event", { change });
export const deleteEvent = (target: EventTarget) => call<null>("delete_event", { target });
/** Opens the event's online meeting in the browser (the back end reads the link itself). */
export const joinMeeting = (id: string) => call<null>("join_meeting", { id });
export const listTimeZones = () => call<string[]>("list_time_zones");
export const defaultTimeZone = () => call<string>("default_time_zone");
/** Startup probe: the week view is painted with its first events (see scripts/bench-startup). */
export const reportReady = () => (inTauri() ? call<null>("report_ready") : Promise.resolve(null));

// ----- accounts -----
export const listAccounts = () => call<Account[]>("list_accounts");
/** Providers that have a section in the user's config.toml. */
export const configuredProviders = () => call<Provider[]>("configured_providers");
/** Opens the system browser; resolves only when the sign-in has finished (may take minutes). */
export const connectAccount = (provider: Provider) => call<Account>("connect_account", { provider });
/** Ends the sign-in waiting for the browser; its connectAccount rejects at once. */
export const cancelSignIn = () => call<boolean>("cancel_sign_in");
/**
 * `discardUnpushed`: how many changes not sent yet the user was told of and chose to
 * drop; with more pending (made since), nothing is removed and the error says so.
 */
export const disconnectAccount = (accountId: string, discardUnpushed = 0) =>
  call<Disconnected>("disconnect_account", { accountId, discardUnpushed });

/**
 * Calls `cb` whenever the back end reports that some account's status changed
 * (event `accounts-changed`, no payload). Resolves to an unsubscribe function.
 * Outside Tauri (dev in a plain browser) this is a no-op.
 */
export async function onAccountsChanged(cb: () => void): Promise<() => void> {
  if (!inTauri()) return () => {};
  try {
    return await listen("accounts-changed", () => cb());
  } catch (e) {
    throw toAppError(e);
  }
}

/**
 * Calls `cb` with the address a sign-in opened in the browser (event `sign-in-url`),
 * to offer when no browser appears. Resolves to an unsubscribe function.
 */
export async function onSignInUrl(cb: (url: string) => void): Promise<() => void> {
  if (!inTauri()) return () => {};
  try {
    return await listen<string>("sign-in-url", (e) => cb(e.payload));
  } catch (e) {
    throw toAppError(e);
  }
}

// ----- sync -----
export const syncOverview = () => call<SyncOverview>("sync_overview");
/** Runs every account now (ignored while a run is in flight). */
export const syncNow = () => call<null>("sync_now");
export const setSyncPaused = (paused: boolean) => call<null>("set_sync_paused", { paused });
/** Open conflicts, newest first. */
export const listConflicts = () => call<ConflictView[]>("list_conflicts");
export const resolveConflict = (answer: ConflictAnswer) => call<null>("resolve_conflict", { answer });
/** Lets the deletions the deletion guard stopped for this calendar through on the next run. */
export const confirmDeletions = (calendarId: string) => call<null>("confirm_deletions", { calendarId });
/** How a synced calendar settles conflicts from now on (reload the calendars after). */
export const setConflictPolicy = (calendarId: string, policy: ConflictPolicy) =>
  call<null>("set_conflict_policy", { calendarId, policy });
/** The conflicts calendars' policies settled by themselves, newest first (the last 20). */
export const listSettledConflicts = () => call<SettledConflict[]>("list_settled_conflicts");

/**
 * Subscribes to a back-end event; resolves to an unsubscribe function. In a plain
 * browser during development the dev backend emits the events; otherwise outside
 * Tauri this is a no-op.
 */
async function subscribe<T>(event: string, cb: (payload: T) => void): Promise<() => void> {
  try {
    if (inTauri()) return await listen<T>(event, (e) => cb(e.payload));
    if (import.meta.env.DEV) {
      const { devListen } = await import("./devBackend");
      return devListen(event, (payload) => cb(payload as T));
    }
    return () => {};
  } catch (e) {
    throw toAppError(e);
  }
}

/** Calls `cb` with the new overview whenever sync's state changes (event `sync-changed`). */
export const onSyncChanged = (cb: (overview: SyncOverview) => void) => subscribe<SyncOverview>("sync-changed", cb);
/** One calendar of a run in flight is done (event `sync-progress`). */
export const onSyncProgress = (cb: (p: CalendarProgress) => void) => subscribe<CalendarProgress>("sync-progress", cb);

/** Calls `cb` whenever sync changed calendar data (event `events-changed`, no payload): refetch events. */
export const onEventsChanged = (cb: () => void) => subscribe<null>("events-changed", () => cb());
