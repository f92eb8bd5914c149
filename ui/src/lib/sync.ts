// Pure helpers for the sync status area and the Conflicts panel (no React, no platform calls).
import type {
  AccountSync,
  CalendarProgress,
  Calendar,
  ConflictAnswer,
  ConflictKindView,
  ConflictPolicy,
  ConflictView,
  FieldSide,
  HeldCalendar,
  KeepSide,
  Provider,
  SettledConflict,
  SyncOverview,
} from "../platform/bindings";
import { providerName } from "./accounts";
import { sanitizeId } from "./ids";
import { localDateString } from "./time";

// ----- status area -----

/** The status area is shown only when some account is connected. */
export function hasSyncAccounts(o: SyncOverview | null | undefined): o is SyncOverview {
  return !!o && o.accounts.length > 0;
}

/** "a", "a and b", "a, b and c". */
function joinList(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * When something happened, as a person says it: "just now", "5 minutes ago",
 * "today at 14:05", "yesterday at 09:10", "on 3 Mar at 14:05" (local time; `locale`
 * only for tests, undefined = the system's).
 */
export function syncedWhen(iso: string, now: Date, locale?: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const ms = now.getTime() - t.getTime();
  if (ms < 60_000) return "just now"; // also a clock that is slightly ahead
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${plural(minutes, "minute", "minutes")} ago`;
  const time = t.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  const day = localDateString(t);
  if (day === localDateString(now)) return `today at ${time}`;
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (day === localDateString(yesterday)) return `yesterday at ${time}`;
  const date = t.toLocaleDateString(locale, {
    day: "numeric",
    month: "short",
    year: t.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
  return `on ${date} at ${time}`;
}

/** The oldest last success over the accounts that have one (null if none has). */
export function oldestSuccess(accounts: readonly AccountSync[]): string | null {
  let best: string | null = null;
  let bestMs = Infinity;
  for (const a of accounts) {
    if (!a.lastSuccessAt) continue;
    const ms = new Date(a.lastSuccessAt).getTime();
    if (ms < bestMs || best === null) {
      best = a.lastSuccessAt;
      bestMs = ms;
    }
  }
  return best;
}

export type SyncStatusKind = "none" | "syncing" | "paused" | "action" | "conflicts" | "offline" | "error" | "synced" | "never";

/**
 * The one-line status, most pressing first: an account that needs a new sign-in (also
 * while paused, and while the others sync — the progress bar says that: only the user
 * can mend it, and its Sign in again button must not come and go with every run),
 * syncing, paused, the last error (with the
 * account, when there are several, and its last complete sync: a run where one calendar
 * failed is not one) — no connection being no failure of sync, but a wait (the
 * scheduler probes quietly, and runs at once when the network is back) —, open conflicts (which keep
 * their own button, so a failing sync is not hidden behind one), else when the oldest
 * account last synced.
 */
export function syncStatus(o: SyncOverview | null | undefined, now: Date, locale?: string): { kind: SyncStatusKind; text: string } {
  if (!hasSyncAccounts(o)) return { kind: "none", text: "" };
  const signIn = o.accounts.filter((a) => a.status === "action_required").map((a) => a.email);
  if (signIn.length > 0) return { kind: "action", text: `Action required: sign in again to ${joinList(signIn)}` };
  if (o.running) return { kind: "syncing", text: "Syncing…" };
  if (o.paused) return { kind: "paused", text: "Paused" };
  const failed = o.accounts.find((a) => a.lastError && a.lastError.code !== "offline");
  if (failed?.lastError) {
    const who = o.accounts.length > 1 ? ` for ${failed.email}` : "";
    const since = failed.lastSuccessAt ? ` (last complete sync ${syncedWhen(failed.lastSuccessAt, now, locale)})` : "";
    return { kind: "error", text: `Sync failed${who}: ${failed.lastError.message || failed.lastError.code}${since}` };
  }
  const offline = o.accounts.filter((a) => a.lastError?.code === "offline");
  if (offline.length > 0) {
    const last = oldestSuccess(offline);
    const since = last ? ` (last synced ${syncedWhen(last, now, locale)})` : "";
    return { kind: "offline", text: `Offline: changes wait here until the connection is back${since}` };
  }
  if (o.openConflicts > 0) return { kind: "conflicts", text: `${plural(o.openConflicts, "conflict", "conflicts")} to resolve` };
  const last = oldestSuccess(o.accounts);
  if (last) return { kind: "synced", text: `Synced ${syncedWhen(last, now, locale)}` };
  return { kind: "never", text: "Not synced yet" };
}

export function syncStatusText(o: SyncOverview | null | undefined, now: Date, locale?: string): string {
  return syncStatus(o, now, locale).text;
}

/**
 * Sync now is offered whenever no run is in flight — also while paused, as in the
 * tray: asked for explicitly, the loop runs everyone once and stays paused.
 */
export function canSyncNow(o: SyncOverview): boolean {
  return !o.running;
}

export function pauseButtonText(paused: boolean): string {
  return paused ? "Resume" : "Pause";
}

export function conflictsButtonText(n: number): string {
  return `Conflicts (${n})`;
}

/** Every calendar the deletion guard is holding, once each. */
export function heldCalendars(o: SyncOverview | null | undefined): HeldCalendar[] {
  if (!o) return [];
  const seen = new Set<string>();
  const out: HeldCalendar[] = [];
  for (const a of o.accounts)
    for (const h of a.heldCalendars) {
      if (seen.has(h.calendarId)) continue;
      seen.add(h.calendarId);
      out.push(h);
    }
  return out;
}

export function heldCalendarText(h: HeldCalendar): string {
  return (
    `${h.name}: the provider's listing would delete ${h.wouldDelete} of ${plural(h.total, "event", "events")}. ` +
    "Nothing was deleted. Check the calendar at the provider, then confirm."
  );
}

// ----- Conflicts panel -----

/** The provider a calendar syncs with (null for local calendars or when unknown). */
export function providerOfCalendar(
  calendarId: string,
  calendars: readonly Pick<Calendar, "id" | "accountId">[],
  accounts: readonly Pick<AccountSync, "accountId" | "provider">[],
): Provider | null {
  const accountId = calendars.find((c) => c.id === calendarId)?.accountId;
  if (!accountId) return null;
  return accounts.find((a) => a.accountId === accountId)?.provider ?? null;
}

/** What happened, in one line. */
export function conflictKindText(kind: ConflictKindView, provider: Provider | null, calendarName: string): string {
  switch (kind) {
    case "editEdit": {
      const where = provider ? providerName(provider) : "the provider";
      return calendarName ? `Changed here and at ${where} (${calendarName})` : `Changed here and at ${where}`;
    }
    case "editDelete":
      return "Changed here, deleted at the provider";
    case "deleteEdit":
      return "Deleted here, changed at the provider";
    default:
      return String(kind);
  }
}

/** The conflict to show: the one selected if it is still open, else the first (null if none). */
export function selectedConflict(list: readonly ConflictView[], selectedId: string | null): ConflictView | null {
  return list.find((c) => c.id === selectedId) ?? list[0] ?? null;
}

/** Keep both and per-field choices exist only when both sides edited the event. */
export function canKeepBoth(c: Pick<ConflictView, "kind">): boolean {
  return c.kind === "editEdit";
}
export function canPickFields(c: Pick<ConflictView, "kind" | "fields">): boolean {
  return c.kind === "editEdit" && c.fields.length > 0;
}

/** The user's side per field name. */
export type Picks = Readonly<Record<string, FieldSide>>;

export function withPick(picks: Picks, field: string, side: FieldSide): Picks {
  return { ...picks, [field]: side };
}

/** Has every differing field of this conflict got a side? */
export function allFieldsPicked(c: Pick<ConflictView, "kind" | "fields">, picks: Picks): boolean {
  return canPickFields(c) && c.fields.every((f) => picks[f.field] === "local" || picks[f.field] === "remote");
}

/**
 * Answer: one side for everything. It names the versions it was given on (the
 * conflict's `detectedAt`): refreshed since by a newer version from the provider, the
 * back end refuses it rather than keep a version the user never saw.
 */
export function keepAnswer(c: Pick<ConflictView, "id" | "detectedAt">, keep: KeepSide): ConflictAnswer {
  return { conflictId: c.id, keep, fields: [], detectedAt: c.detectedAt };
}

/**
 * The picks still valid once the conflicts are read again: those of a conflict a newer
 * provider version refreshed (its `detectedAt` moved), or that is gone, are dropped —
 * a pick of "Provider" meant the version shown then.
 */
export function freshPicks(
  before: readonly Pick<ConflictView, "id" | "detectedAt">[] | null,
  now: readonly Pick<ConflictView, "id" | "detectedAt">[],
  picks: Readonly<Record<string, Picks>>,
): Record<string, Picks> {
  const seen = new Map((before ?? []).map((c) => [c.id, c.detectedAt]));
  const out: Record<string, Picks> = {};
  for (const c of now) {
    const p = picks[c.id];
    if (p && seen.get(c.id) === c.detectedAt) out[c.id] = p;
  }
  return out;
}

/** Answer: a side per field, in the conflict's field order; null until every field is picked. */
export function pickedAnswer(c: Pick<ConflictView, "id" | "kind" | "fields" | "detectedAt">, picks: Picks): ConflictAnswer | null {
  if (!allFieldsPicked(c, picks)) return null;
  return { conflictId: c.id, keep: null, fields: c.fields.map((f) => ({ field: f.field, side: picks[f.field] })), detectedAt: c.detectedAt };
}

/** "Next sync at 14:05" from the earliest scheduled run ("" when none is scheduled). */
export function nextSyncText(o: SyncOverview | null | undefined, locale?: string): string {
  if (!o || o.paused) return "";
  const times = o.accounts
    .map((a) => a.nextSyncAt)
    .filter((t): t is string => !!t)
    .map((t) => new Date(t))
    .filter((t) => !Number.isNaN(t.getTime()));
  if (times.length === 0) return "";
  const next = new Date(Math.min(...times.map((t) => t.getTime())));
  return `Next sync at ${next.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })}`;
}

/** While a run is in flight: the calendar it last finished and what moved ("" if none yet). */
export function progressText(p: CalendarProgress | null | undefined): string {
  if (!p) return "";
  if (p.problem) return `${p.name}: ${p.problem}`;
  const parts = [`${p.pulled} in`, `${p.pushed} out`];
  if (p.conflicts > 0) parts.push(plural(p.conflicts, "conflict", "conflicts"));
  return `${p.name}: ${parts.join(", ")}`;
}

// ----- conflict policies (Settings › Sync) -----

/** The conflict policies, in the order Settings lists them, in the user's words. */
export const CONFLICT_POLICIES: readonly { value: ConflictPolicy; label: string }[] = [
  { value: "ask", label: "Ask me" },
  { value: "prefer_local", label: "Keep this computer's version" },
  { value: "prefer_remote", label: "Keep the online version" },
  { value: "keep_both", label: "Keep both (mine as a copy)" },
];

/**
 * What a policy does when the same event changed on both sides, for the help line
 * under a calendar's choice.
 */
export function policyHelp(p: ConflictPolicy): string {
  switch (p) {
    case "ask":
      return "A conflict waits in the Conflicts panel until you choose.";
    case "prefer_local":
      return "Your change wins where both sides changed the same thing.";
    case "prefer_remote":
      return "The online change wins where both sides changed the same thing. An edit here against a deletion online still asks you.";
    case "keep_both":
      return "The online version stays and yours becomes a separate event.";
  }
}

/**
 * The calendars whose conflict policy the user can choose: synced and editable (a
 * read-only calendar is never written from here, so nothing of it conflicts).
 */
export function policyCalendars(calendars: readonly Calendar[]): Calendar[] {
  return calendars.filter((c) => c.conflictPolicy !== null && c.canEdit);
}

/** DOM id of a calendar's conflict-policy choice. */
export function policyDomId(calendarId: string): string {
  return sanitizeId(`policy-${calendarId}`);
}

/** What a policy kept, in words. */
export function keptText(kept: KeepSide): string {
  switch (kept) {
    case "local":
      return "kept this computer's version";
    case "remote":
      return "kept the online version";
    case "both":
      return "kept both (yours as a separate event)";
    default:
      return String(kept);
  }
}

/**
 * A conflict a policy settled, in words: a headline, and both versions — per
 * conflicting field, or whole when one side deleted the event — so the one given up
 * can still be read. `when` is the settling time as the status area says it.
 */
export function settledLines(s: SettledConflict, when: string): { headline: string; details: string[] } {
  const c = s.conflict;
  const headline = `“${c.title}” in ${c.calendarName}, ${when}: ${keptText(s.kept)}`;
  const details =
    c.fields.length > 0
      ? c.fields.map((f) => `${f.label}: here “${f.local}”, online “${f.remote}”`)
      : [`Here: ${c.localSummary ?? "deleted"}`, `Online: ${c.remoteSummary ?? "deleted"}`];
  return { headline, details };
}
