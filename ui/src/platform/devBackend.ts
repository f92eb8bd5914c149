// DEV ONLY: an in-memory stand-in for the Rust backend, used by `npm run dev`
// in a plain browser (no window.__TAURI_INTERNALS__). Never used inside Tauri
// and excluded from production builds (ipc.ts imports it behind import.meta.env.DEV).
import type {
  Account,
  AccountSync,
  AppErrorPayload,
  Calendar,
  ConflictAnswer,
  ConflictPolicy,
  ConflictView,
  Disconnected,
  EventChange,
  EventInput,
  EventMove,
  EventTarget,
  EventView,
  Occurrence,
  Provider,
  RangeQuery,
  HeldCalendar,
  SettledConflict,
  SyncOverview,
} from "./bindings";
import {
  addDays,
  instantToWall,
  isValidTimeZone,
  localDateString,
  parseWall,
  shiftWall,
  wallDiffMinutes,
  wallToInstant,
} from "../lib/time";

type Row = EventView;

const fail = (code: AppErrorPayload["code"], message: string): never => {
  throw { code, message } satisfies AppErrorPayload;
};

const calendars: Calendar[] = [
  { id: "personal", name: "Personal", color: "#3b82f6", accountId: null, canEdit: true, isPrimary: true, visible: true, conflictPolicy: null },
  { id: "work", name: "Work", color: "#16a34a", accountId: "acc-ms-1", canEdit: true, isPrimary: false, visible: true, conflictPolicy: "ask" },
  { id: "holidays", name: "Holidays (read-only)", color: "#f59e0b", accountId: null, canEdit: false, isPrimary: false, visible: true, conflictPolicy: null },
];

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
let seq = 1;
const rows = new Map<string, Row>();
const now = () => new Date().toISOString();

function base(over: Partial<EventInput>): EventInput {
  return {
    calendarId: "personal", title: "", allDay: false, start: "", end: "", timeZone: zone, recurrence: null,
    location: "", description: "", showAs: "busy", importance: "normal", categories: [], ...over,
  };
}

function insert(input: EventInput, kind: Row["kind"] = "single", seriesId: string | null = null, originalStart: string | null = null): Row {
  const id = `ev${seq++}`;
  const meeting = { organizer: null, attendees: [], onlineMeeting: null, joinable: false };
  const row: Row = { id, kind: input.recurrence ? "master" : kind, seriesId, originalStart, input, meeting, formattedDescription: false, sensitivity: "normal", createdAt: now(), updatedAt: now() };
  rows.set(id, row);
  return row;
}

(function seed() {
  const today = localDateString(new Date());
  const monday = addDays(today, -((new Date().getDay() + 6) % 7));
  insert(base({ title: "Dentist", start: `${addDays(monday, 1)}T10:00`, end: `${addDays(monday, 1)}T11:00`, location: "Main St 1" }));
  insert(base({ title: "Team stand-up", calendarId: "work", start: `${monday}T09:30`, end: `${monday}T09:45`,
    recurrence: { rrule: "FREQ=DAILY;COUNT=30", exdates: [], rdates: [] }, categories: ["team"] })).meeting = {
    organizer: { email: "lead@contoso.example", name: "Team Lead" },
    attendees: [
      { person: { email: "lead@contoso.example", name: "Team Lead" }, kind: "required", response: "organizer" },
      { person: { email: "you@contoso.example", name: "You" }, kind: "required", response: "accepted" },
      { person: { email: "sam@contoso.example", name: "Sam" }, kind: "optional", response: "none" },
    ],
    onlineMeeting: { provider: "teams", joinUrl: "https://teams.microsoft.com/l/meetup-join/dev", conferenceId: "123 456 789#", tollNumber: null, pin: null },
    joinable: true,
  };
  insert(base({ title: "Gym", start: `${addDays(monday, 2)}T18:00`, end: `${addDays(monday, 2)}T19:30`,
    recurrence: { rrule: "FREQ=WEEKLY", exdates: [], rdates: [] }, description: "<b>not bold</b> – plain text only" }));
  insert(base({ title: "Conference", calendarId: "work", allDay: true, start: addDays(monday, 3), end: addDays(monday, 5) }));
  insert(base({ title: "Public holiday", calendarId: "holidays", allDay: true, start: addDays(monday, 4), end: addDays(monday, 5), showAs: "free" }));
})();

function validate(input: EventInput) {
  if (!calendars.some((c) => c.id === input.calendarId)) fail("invalid_input", "Unknown calendar.");
  if (!calendars.find((c) => c.id === input.calendarId)!.canEdit) fail("read_only", "This calendar is read-only.");
  if (!input.title.trim()) fail("invalid_input", "Title must not be empty.");
  if (!isValidTimeZone(input.timeZone)) fail("invalid_input", `Unknown time zone: ${input.timeZone}`);
  const re = input.allDay ? /^\d{4}-\d{2}-\d{2}$/ : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
  if (!re.test(input.start) || !re.test(input.end)) fail("invalid_input", "Start and end must be valid dates/times.");
  if (wallDiffMinutes(input.start, input.end) <= 0) fail("invalid_input", "End must be after start.");
  if (input.recurrence && !/^FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,+-]+)*$/i.test(input.recurrence.rrule))
    fail("invalid_input", `Invalid recurrence rule: ${input.recurrence.rrule || "(empty)"}`);
}

/** Very small RRULE expander: FREQ, INTERVAL, COUNT, UNTIL, BYDAY (weekly). Yields wall starts. */
function* expand(input: EventInput): Generator<string> {
  const rule: Record<string, string> = {};
  for (const part of input.recurrence!.rrule.toUpperCase().split(";")) {
    const [k, v] = part.split("=");
    rule[k] = v;
  }
  const interval = Math.max(1, Number(rule.INTERVAL || 1));
  const count = rule.COUNT ? Number(rule.COUNT) : Infinity;
  const until = rule.UNTIL ? `${rule.UNTIL.slice(0, 4)}-${rule.UNTIL.slice(4, 6)}-${rule.UNTIL.slice(6, 8)}` : null;
  const days = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
  const byday = rule.BYDAY ? rule.BYDAY.split(",").map((d) => days.indexOf(d.slice(-2))) : null;
  const start = input.start.length === 10 ? `${input.start}T00:00` : input.start.slice(0, 16);
  let n = 0;
  for (let i = 0; i < 5000 && n < count; i++) {
    let cands: string[];
    const p = parseWall(start);
    if (rule.FREQ === "DAILY") cands = [shiftWall(start, i * interval * 1440)];
    else if (rule.FREQ === "WEEKLY") {
      const wk = shiftWall(start, i * interval * 7 * 1440);
      const dow = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
      cands = byday ? byday.map((d) => shiftWall(wk, ((d - dow + 7) % 7) * 1440)).sort() : [wk];
    } else {
      const months = rule.FREQ === "MONTHLY" ? i * interval : i * interval * 12;
      const d = new Date(Date.UTC(p.year, p.month - 1 + months, p.day));
      if (d.getUTCDate() !== p.day) continue; // skip 31st in short months
      cands = [`${localIso(d)}${start.slice(10)}`];
    }
    for (const c of cands) {
      if (c < start) continue;
      if (until && c.slice(0, 10) > until) return;
      if (n++ >= count) return;
      yield c;
    }
  }
}
const localIso = (d: Date) => d.toISOString().slice(0, 10);

function toInstantRange(input: EventInput, wallStart: string): { start: string; end: string } {
  if (input.allDay) {
    const s = wallStart.slice(0, 10);
    return { start: s, end: addDays(s, wallDiffMinutes(input.start, input.end) / 1440) };
  }
  const dur = wallDiffMinutes(input.start, input.end);
  return {
    start: wallToInstant(wallStart, input.timeZone).toISOString(),
    end: wallToInstant(shiftWall(wallStart, dur), input.timeZone).toISOString(),
  };
}

function occ(row: Row, input: EventInput, range: { start: string; end: string }, originalStart: string | null, recurring: boolean): Occurrence {
  return {
    eventId: row.id, seriesId: row.seriesId ?? (row.kind === "master" ? row.id : null), originalStart,
    calendarId: input.calendarId, title: input.title, allDay: input.allDay, ...range, timeZone: input.timeZone,
    location: input.location, showAs: input.showAs, importance: input.importance, categories: input.categories,
    recurring, exception: row.kind === "exception",
  };
}

function listOccurrences(q: RangeQuery): Occurrence[] {
  const out: Occurrence[] = [];
  const overlaps = (r: { start: string; end: string }) => {
    const s = r.start.length === 10 ? wallToInstant(r.start, zone).toISOString() : r.start;
    const e = r.end.length === 10 ? wallToInstant(r.end, zone).toISOString() : r.end;
    return new Date(s) < new Date(q.to) && new Date(e) > new Date(q.from);
  };
  for (const row of rows.values()) {
    const input = row.input;
    if (q.calendarIds && !q.calendarIds.includes(input.calendarId)) continue;
    if (row.kind === "master") {
      const exceptions = new Set([...rows.values()].filter((r) => r.seriesId === row.id).map((r) => r.originalStart));
      for (const w of expand(input)) {
        const key = input.allDay ? w.slice(0, 10) : `${w.slice(0, 16)}:00`;
        const range = toInstantRange(input, w);
        if (new Date(range.start.length === 10 ? range.start : range.start) > new Date(q.to)) break;
        if (exceptions.has(key) || input.recurrence!.exdates.includes(key)) continue;
        if (overlaps(range)) out.push(occ(row, input, range, key, true));
      }
    } else {
      const range = toInstantRange(input, input.start);
      if (overlaps(range)) out.push(occ(row, input, range, row.originalStart, row.kind === "exception"));
    }
  }
  return out;
}

function get(id: string): Row {
  return rows.get(id) ?? fail("not_found", `No event ${id}.`);
}

function writeOccurrence(master: Row, originalStart: string, input: EventInput): Row {
  const existing = [...rows.values()].find((r) => r.seriesId === master.id && r.originalStart === originalStart);
  const exInput = { ...input, recurrence: null };
  if (existing) {
    existing.input = exInput;
    existing.updatedAt = now();
    return existing;
  }
  return insert(exInput, "exception", master.id, originalStart);
}

function update(c: EventChange): Row {
  const row = get(c.id);
  validate(c.input);
  if (c.scope === "occurrence" && row.kind === "master") {
    if (!c.originalStart) fail("invalid_input", "originalStart is required for scope occurrence.");
    return writeOccurrence(row, c.originalStart!, c.input);
  }
  row.input = row.kind === "exception" ? { ...c.input, recurrence: null } : c.input;
  if (row.kind !== "exception") row.kind = c.input.recurrence ? "master" : "single";
  row.updatedAt = now();
  return row;
}

function move(m: EventMove): Row {
  const row = get(m.id);
  const wall = (s: string, tz: string) => (m.allDay ? s.slice(0, 10) : instantToWall(s, tz));
  const input: EventInput = { ...row.input, allDay: m.allDay, start: wall(m.start, row.input.timeZone), end: wall(m.end, row.input.timeZone) };
  return update({ id: m.id, scope: m.scope, originalStart: m.originalStart, input });
}

function remove(t: EventTarget): null {
  const row = get(t.id);
  if (!calendars.find((c) => c.id === row.input.calendarId)?.canEdit) fail("read_only", "This calendar is read-only.");
  if (t.scope === "occurrence" && row.kind === "master") {
    if (!t.originalStart) fail("invalid_input", "originalStart is required for scope occurrence.");
    row.input.recurrence!.exdates.push(t.originalStart!);
    return null;
  }
  rows.delete(row.id);
  for (const r of [...rows.values()]) if (r.seriesId === row.id) rows.delete(r.id);
  return null;
}

// ----- accounts -----
// Both providers count as configured so both Connect buttons work; set
// localStorage["almanac.dev.configured"] = "microsoft" (comma-separated) to see the
// "Not set up" state.
const accounts: Account[] = [
  { id: "acc-ms-1", provider: "microsoft", email: "ann.example@contoso.com", displayName: "Ann Example", status: "connected",
    statusMessage: null, createdAt: Math.floor(Date.now() / 1000) - 86400 * 30 },
  { id: "acc-g-1", provider: "google", email: "ann.example@gmail.com", displayName: "Ann Example", status: "action_required",
    statusMessage: "Google no longer accepts Almanac's sign-in for this account. Reconnect to continue syncing.",
    createdAt: Math.floor(Date.now() / 1000) - 86400 * 3 },
];

function configuredProviders(): Provider[] {
  let raw: string | null = null;
  try {
    raw = globalThis.localStorage?.getItem("almanac.dev.configured") ?? null;
  } catch {
    raw = null;
  }
  if (raw === null) return ["microsoft", "google"];
  return raw.split(",").map((p) => p.trim()).filter((p): p is Provider => p === "microsoft" || p === "google");
}

/** Ends the sign-in "in the browser" (cancel_sign_in), if one is waiting. */
let cancelWaiting: (() => void) | null = null;

async function connect(provider: Provider): Promise<Account> {
  if (provider !== "microsoft" && provider !== "google") fail("invalid_input", `Unknown provider ${String(provider)}.`);
  if (!configuredProviders().includes(provider)) fail("config", `There is no [${provider}] section in config.toml.`);
  // Pretend the user takes a few seconds in the browser.
  const finished = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(true), 4000);
    cancelWaiting = () => {
      clearTimeout(t);
      resolve(false);
    };
  });
  cancelWaiting = null;
  if (!finished) fail("sign_in_failed", "Sign-in cancelled.");
  const existing = accounts.find((a) => a.provider === provider);
  if (existing) {
    existing.status = "connected";
    existing.statusMessage = null;
    return existing;
  }
  const a: Account = {
    id: `acc-${provider}-${seq++}`, provider, email: provider === "google" ? "new.user@gmail.com" : "new.user@contoso.com",
    displayName: "New User", status: "connected", statusMessage: null, createdAt: Math.floor(Date.now() / 1000),
  };
  accounts.push(a);
  return a;
}

function disconnect(accountId: string): Disconnected {
  const i = accounts.findIndex((a) => a.id === accountId);
  if (i < 0) fail("not_found", "No such account.");
  const [account] = accounts.splice(i, 1);
  // Like the real back end: the local copy of the account's calendars goes away.
  for (let c = calendars.length - 1; c >= 0; c--) {
    if (calendars[c].accountId !== accountId) continue;
    for (const [id, r] of rows) if (r.input.calendarId === calendars[c].id) rows.delete(id);
    calendars.splice(c, 1);
  }
  return { account, revoked: account.provider === "microsoft" ? "not_supported" : "revoked" };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

// ----- events (what Tauri's emit does in the app) -----
const listeners = new Map<string, Set<(payload: unknown) => void>>();

/** Subscribe to a dev-backend event; returns the unsubscribe function. */
export function devListen(event: string, cb: (payload: unknown) => void): () => void {
  let set = listeners.get(event);
  if (!set) listeners.set(event, (set = new Set()));
  set.add(cb);
  return () => void set.delete(cb);
}

function emit(event: string, payload: unknown = null) {
  // Asynchronous, like Tauri's events.
  setTimeout(() => {
    for (const cb of [...(listeners.get(event) ?? [])]) cb(clone(payload));
  }, 0);
}

// ----- sync -----
// Per-account sync state; accounts come and go with `accounts` above. The seeded state
// shows a calendar held by the deletion guard and two conflicts on "Work"; the Google
// account needs a new sign-in (its status comes from `accounts`).
type SyncState = { lastSuccessAt: string | null; lastAttemptAt: string | null; lastError: AppErrorPayload | null; held: HeldCalendar[] };
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
const syncStates = new Map<string, SyncState>([
  ["acc-ms-1", { lastSuccessAt: minutesAgo(7), lastAttemptAt: minutesAgo(7), lastError: null,
    held: [{ calendarId: "work", name: "Work", wouldDelete: 12, total: 15 }] }],
  ["acc-g-1", { lastSuccessAt: minutesAgo(60 * 26), lastAttemptAt: minutesAgo(3),
    lastError: { code: "action_required", message: "Google no longer accepts Almanac's sign-in for this account." }, held: [] }],
]);
let syncPaused = false;
let syncRunning = false;

const conflicts: ConflictView[] = [
  {
    id: "conf-1", eventId: "ev2", calendarId: "work", calendarName: "Work", kind: "editEdit", title: "Team stand-up",
    detectedAt: minutesAgo(30),
    fields: [
      { field: "title", label: "Title", base: "Stand-up", local: "Team stand-up", remote: "Daily stand-up" },
      { field: "timing", label: "Time", base: "09:30 – 09:45", local: "09:30 – 09:45 (Europe/Berlin)", remote: "10:00 – 10:15 (Europe/Berlin)" },
      { field: "extra.sensitivity", label: "Other (sensitivity)", base: "normal", local: "normal", remote: "private" },
    ],
    localSummary: "Team stand-up — 09:30 (every day)", remoteSummary: "Daily stand-up — 10:00 (every day)",
  },
  {
    id: "conf-2", eventId: "ev4", calendarId: "work", calendarName: "Work", kind: "editDelete", title: "Conference",
    detectedAt: minutesAgo(90), fields: [],
    localSummary: "Conference — 2 days (all day) — Hall B", remoteSummary: null,
  },
];

// One conflict the "Work" calendar's policy settled earlier (keep the online version).
const settled: SettledConflict[] = [
  {
    conflict: {
      id: "conf-0", eventId: "ev3", calendarId: "work", calendarName: "Work", kind: "editEdit", title: "Quarterly review",
      detectedAt: minutesAgo(60 * 5),
      fields: [{ field: "location", label: "Location", base: "Room 1", local: "Room 4", remote: "Board room" }],
      localSummary: "Quarterly review — 14:00 — Room 4", remoteSummary: "Quarterly review — 14:00 — Board room",
    },
    kept: "remote",
    settledAt: minutesAgo(60 * 5),
  },
];

function syncStateOf(accountId: string): SyncState {
  let st = syncStates.get(accountId);
  if (!st) syncStates.set(accountId, (st = { lastSuccessAt: null, lastAttemptAt: null, lastError: null, held: [] }));
  return st;
}

function accountOfCalendar(calendarId: string): string | null {
  return calendars.find((c) => c.id === calendarId)?.accountId ?? null;
}

function openConflicts(): ConflictView[] {
  // Conflicts of calendars that went away (account disconnected) go with them.
  return conflicts.filter((c) => accountOfCalendar(c.calendarId) !== null);
}

function overview(): SyncOverview {
  const list: AccountSync[] = accounts.map((a) => {
    const st = syncStateOf(a.id);
    return {
      accountId: a.id, email: a.email, provider: a.provider, status: a.status,
      running: syncRunning && a.status !== "action_required",
      lastSuccessAt: st.lastSuccessAt, lastAttemptAt: st.lastAttemptAt, nextSyncAt: null, lastError: st.lastError,
      pendingPushes: 0, openConflicts: openConflicts().filter((c) => accountOfCalendar(c.calendarId) === a.id).length,
      heldCalendars: st.held.filter((h) => calendars.some((c) => c.id === h.calendarId)),
    };
  });
  return {
    accounts: list, running: list.some((a) => a.running), paused: syncPaused,
    openConflicts: list.reduce((n, a) => n + a.openConflicts, 0),
  };
}

const syncChanged = () => emit("sync-changed", overview());

function syncNow(): null {
  if (syncRunning || syncPaused) return null; // like the real loop: ignored meanwhile
  if (!accounts.some((a) => a.status !== "action_required")) return null;
  syncRunning = true;
  syncChanged();
  setTimeout(() => {
    syncRunning = false;
    const at = minutesAgo(0);
    for (const a of accounts) {
      const st = syncStateOf(a.id);
      st.lastAttemptAt = at;
      if (a.status === "action_required") continue;
      st.lastSuccessAt = at;
      st.lastError = null;
    }
    syncChanged();
    emit("events-changed");
  }, 1500);
  return null;
}

function setPaused(paused: boolean): null {
  if (typeof paused !== "boolean") fail("invalid_input", "paused must be true or false.");
  syncPaused = paused;
  syncChanged();
  return null;
}

function resolveConflict(answer: ConflictAnswer): null {
  const i = conflicts.findIndex((c) => c.id === answer?.conflictId);
  if (i < 0 || !openConflicts().includes(conflicts[i])) fail("not_found", "This conflict is no longer open.");
  const c = conflicts[i];
  if (answer.keep === null) {
    if (answer.fields.length === 0) fail("invalid_input", "Choose which version to keep, or a side for each field.");
    if (c.kind !== "editEdit") fail("invalid_input", "This conflict has no fields to choose from.");
    const missing = c.fields.find((f) => !answer.fields.some((p) => p.field === f.field));
    if (missing) fail("invalid_input", `Choose a side for ${missing.label}.`);
  } else if (answer.keep === "both" && c.kind !== "editEdit") {
    fail("invalid_input", "Keep both is only possible when both sides changed the event.");
  }
  // Make the choice visible in the calendar where it is cheap to do so.
  const row = rows.get(c.eventId);
  const remoteTitle = c.fields.find((f) => f.field === "title")?.remote;
  const pickedRemoteTitle = answer.keep === "remote" || answer.fields.some((p) => p.field === "title" && p.side === "remote");
  if (row && remoteTitle && pickedRemoteTitle) row.input.title = remoteTitle;
  if (row && c.kind === "editDelete" && answer.keep === "remote") remove({ id: row.id, scope: "all", originalStart: null });
  if (row && answer.keep === "both") insert({ ...clone(row.input), title: `${row.input.title} (copy)`, recurrence: null });
  conflicts.splice(i, 1);
  emit("events-changed");
  syncChanged();
  return null;
}

function setConflictPolicy(calendarId: string, policy: ConflictPolicy): null {
  const c = calendars.find((k) => k.id === calendarId && k.accountId !== null);
  if (!c) fail("not_found", `There is no synced calendar with id "${calendarId}".`);
  if (!["ask", "prefer_local", "prefer_remote", "keep_both"].includes(policy)) {
    fail("invalid_input", `"${policy}" is not a conflict policy.`);
  }
  c!.conflictPolicy = policy;
  return null;
}

function confirmDeletions(calendarId: string): null {
  const accountId = accountOfCalendar(calendarId);
  const st = accountId ? syncStates.get(accountId) : undefined;
  if (!st || !st.held.some((h) => h.calendarId === calendarId)) fail("not_found", "This calendar is not waiting for a confirmation.");
  st!.held = st!.held.filter((h) => h.calendarId !== calendarId);
  syncChanged();
  syncNow();
  return null;
}

export async function devInvoke(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 30));
  switch (cmd) {
    case "list_calendars":
      return clone(calendars);
    case "set_calendar_visible": {
      const c = calendars.find((x) => x.id === args.calendarId);
      if (!c) fail("not_found", `There is no calendar with id "${String(args.calendarId)}".`);
      else c.visible = args.visible === true;
      return null;
    }
    case "list_occurrences":
      return clone(listOccurrences(args.query as RangeQuery));
    case "get_event":
      return clone(get(args.id as string));
    case "create_event": {
      const input = args.input as EventInput;
      validate(input);
      return clone(insert(clone(input)));
    }
    case "update_event":
      return clone(update(clone(args.change as EventChange)));
    case "move_event":
      return clone(move(args.change as EventMove));
    case "delete_event":
      return remove(args.target as EventTarget);
    case "join_meeting": {
      const m = get(args.id as string).meeting;
      if (!m.onlineMeeting || !m.joinable) return fail("invalid_input", "This event has no meeting link to open.");
      window.open(m.onlineMeeting.joinUrl, "_blank", "noopener,noreferrer");
      return null;
    }
    case "list_time_zones": {
      const sv = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
      return sv ? sv("timeZone") : ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", zone];
    }
    case "default_time_zone":
      return zone;
    case "list_accounts":
      return clone(accounts);
    case "configured_providers":
      return configuredProviders();
    case "connect_account": {
      const a = clone(await connect(args.provider as Provider));
      syncChanged();
      syncNow();
      return a;
    }
    case "cancel_sign_in": {
      const waiting = cancelWaiting;
      waiting?.();
      return waiting !== null;
    }
    case "disconnect_account": {
      const d = clone(disconnect(args.accountId as string));
      syncStates.delete(d.account.id);
      syncChanged();
      return d;
    }
    case "sync_overview":
      return clone(overview());
    case "sync_now":
      return syncNow();
    case "set_sync_paused":
      return setPaused(args.paused as boolean);
    case "list_conflicts":
      return clone(openConflicts());
    case "resolve_conflict":
      return resolveConflict(clone(args.answer as ConflictAnswer));
    case "confirm_deletions":
      return confirmDeletions(args.calendarId as string);
    case "list_settled_conflicts":
      return clone(settled.filter((s) => accountOfCalendar(s.conflict.calendarId) !== null));
    case "set_conflict_policy":
      return setConflictPolicy(args.calendarId as string, args.policy as ConflictPolicy);
    default:
      return fail("internal", `Unknown command ${cmd}`);
  }
}
