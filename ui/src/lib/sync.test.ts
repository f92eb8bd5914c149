import { describe, expect, it } from "vitest";
import type { AccountSync, Calendar, ConflictView, SyncOverview } from "../platform/bindings";
import {
  CONFLICT_POLICIES,
  allFieldsPicked,
  canKeepBoth,
  canPickFields,
  canSyncNow,
  conflictKindText,
  conflictsButtonText,
  hasSyncAccounts,
  heldCalendarText,
  heldCalendars,
  freshPicks,
  keepAnswer,
  nextSyncText,
  progressText,
  oldestSuccess,
  pauseButtonText,
  pickedAnswer,
  policyCalendars,
  policyDomId,
  policyHelp,
  providerOfCalendar,
  selectedConflict,
  syncStatus,
  syncStatusText,
  syncedWhen,
  withPick,
} from "./sync";

const acct = (over: Partial<AccountSync> = {}): AccountSync => ({
  accountId: "a1",
  email: "ann@example.com",
  provider: "microsoft",
  status: "connected",
  running: false,
  lastSuccessAt: null,
  lastAttemptAt: null,
  nextSyncAt: null,
  lastError: null,
  pendingPushes: 0,
  openConflicts: 0,
  heldCalendars: [],
  ...over,
});
const ov = (accounts: AccountSync[], over: Partial<SyncOverview> = {}): SyncOverview => ({
  accounts,
  running: false,
  paused: false,
  openConflicts: 0,
  ...over,
});

// Local wall times, so the day comparisons do not depend on the test machine's zone.
const NOW = new Date(2025, 5, 18, 15, 30, 0);
const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi).toISOString();
const hhmm = (iso: string) => new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });

describe("syncedWhen", () => {
  it("says just now for under a minute (and for a clock slightly ahead)", () => {
    expect(syncedWhen(new Date(NOW.getTime() - 59_000).toISOString(), NOW)).toBe("just now");
    expect(syncedWhen(new Date(NOW.getTime() + 5_000).toISOString(), NOW)).toBe("just now");
  });
  it("counts minutes within the hour", () => {
    expect(syncedWhen(new Date(NOW.getTime() - 60_000).toISOString(), NOW)).toBe("1 minute ago");
    expect(syncedWhen(new Date(NOW.getTime() - 59 * 60_000).toISOString(), NOW)).toBe("59 minutes ago");
  });
  it("gives the local time for today and yesterday", () => {
    const today = at(2025, 6, 18, 9, 5);
    expect(syncedWhen(today, NOW, "en-GB")).toBe(`today at ${hhmm(today)}`);
    expect(syncedWhen(today, NOW, "en-GB")).toBe("today at 09:05");
    const yesterday = at(2025, 6, 17, 23, 50);
    expect(syncedWhen(yesterday, NOW, "en-GB")).toBe("yesterday at 23:50");
  });
  it("gives the date for older times, with the year only when it differs", () => {
    expect(syncedWhen(at(2025, 3, 3, 14, 5), NOW, "en-GB")).toBe("on 3 Mar at 14:05");
    expect(syncedWhen(at(2024, 12, 30, 8, 0), NOW, "en-GB")).toBe("on 30 Dec 2024 at 08:00");
  });
  it("passes an unreadable time through", () => {
    expect(syncedWhen("not a time", NOW)).toBe("not a time");
  });
});

describe("oldestSuccess", () => {
  it("takes the oldest of the accounts that have synced", () => {
    expect(oldestSuccess([])).toBeNull();
    expect(oldestSuccess([acct()])).toBeNull();
    expect(
      oldestSuccess([
        acct({ lastSuccessAt: "2025-06-18T12:00:00Z" }),
        acct({ lastSuccessAt: null }),
        acct({ lastSuccessAt: "2025-06-18T10:00:00Z" }),
      ]),
    ).toBe("2025-06-18T10:00:00Z");
  });
});

describe("syncStatus", () => {
  it("is empty (hidden) without accounts", () => {
    expect(hasSyncAccounts(null)).toBe(false);
    expect(hasSyncAccounts(ov([]))).toBe(false);
    expect(hasSyncAccounts(ov([acct()]))).toBe(true);
    expect(syncStatus(ov([]), NOW)).toEqual({ kind: "none", text: "" });
    expect(syncStatusText(null, NOW)).toBe("");
  });
  it("says Syncing… while a run is in flight", () => {
    const err = { code: "offline" as const, message: "No connection" };
    const o = ov([acct({ running: true, lastError: err })], { running: true, paused: true, openConflicts: 2 });
    expect(syncStatus(o, NOW)).toEqual({ kind: "syncing", text: "Syncing…" });
  });
  it("keeps asking for a new sign-in while another account syncs", () => {
    const o = ov([acct({ status: "action_required" }), acct({ email: "bo@gmail.com", running: true })], { running: true });
    expect(syncStatus(o, NOW)).toEqual({ kind: "action", text: "Action required: sign in again to ann@example.com" });
  });
  it("says Paused", () => {
    const err = { code: "offline" as const, message: "No connection" };
    const o = ov([acct({ lastError: err })], { paused: true, openConflicts: 2 });
    expect(syncStatus(o, NOW)).toEqual({ kind: "paused", text: "Paused" });
  });
  it("asks for a new sign-in even while paused (only the user can mend it)", () => {
    const o = ov([acct({ status: "action_required" })], { paused: true, openConflicts: 2 });
    expect(syncStatus(o, NOW)).toEqual({ kind: "action", text: "Action required: sign in again to ann@example.com" });
  });
  it("asks for a new sign-in, naming the accounts", () => {
    const err = { code: "auth_expired" as const, message: "Expired" };
    expect(
      syncStatusText(ov([acct(), acct({ email: "bo@gmail.com", status: "action_required", lastError: err })], { openConflicts: 1 }), NOW),
    ).toBe("Action required: sign in again to bo@gmail.com");
    expect(
      syncStatusText(
        ov([acct({ email: "a@x.com", status: "action_required" }), acct({ email: "b@y.com", status: "action_required" })]),
        NOW,
      ),
    ).toBe("Action required: sign in again to a@x.com and b@y.com");
  });
  it("counts open conflicts", () => {
    expect(syncStatus(ov([acct()], { openConflicts: 1 }), NOW)).toEqual({
      kind: "conflicts",
      text: "1 conflict to resolve",
    });
    expect(syncStatusText(ov([acct()], { openConflicts: 3 }), NOW)).toBe("3 conflicts to resolve");
  });
  it("shows the last error, naming the account among several, and when it last synced", () => {
    const o = ov([
      acct({ lastSuccessAt: "2025-06-18T10:00:00Z" }),
      acct({
        accountId: "a2",
        email: "bo@gmail.com",
        lastSuccessAt: new Date(NOW.getTime() - 10 * 60_000).toISOString(),
        lastError: { code: "provider_unavailable", message: "The provider could not be reached." },
      }),
    ]);
    expect(syncStatus(o, NOW)).toEqual({
      kind: "error",
      text: "Sync failed for bo@gmail.com: The provider could not be reached. (last complete sync 10 minutes ago)",
    });
    const alone = ov([acct({ lastError: { code: "throttled", message: "Too many requests" } })]);
    expect(syncStatusText(alone, NOW)).toBe("Sync failed: Too many requests");
  });
  it("shows a failing sync before open conflicts, which keep their own button", () => {
    const err = { code: "provider_unavailable" as const, message: "Service unavailable" };
    expect(syncStatus(ov([acct({ lastError: err })], { openConflicts: 1 }), NOW)).toEqual({
      kind: "error",
      text: "Sync failed: Service unavailable",
    });
  });
  it("says offline is a wait, not a failure, after any real failure", () => {
    const away = new Date(NOW.getTime() - 10 * 60_000).toISOString();
    const offline = { code: "offline" as const, message: "No connection" };
    expect(syncStatus(ov([acct({ lastSuccessAt: away, lastError: offline })], { openConflicts: 1 }), NOW)).toEqual({
      kind: "offline",
      text: "Offline: changes wait here until the connection is back (last synced 10 minutes ago)",
    });
    const failing = acct({ accountId: "a2", email: "bo@gmail.com", lastError: { code: "forbidden", message: "No access" } });
    expect(syncStatus(ov([acct({ lastError: offline }), failing]), NOW).kind).toBe("error");
  });
  it("says when the oldest account last synced", () => {
    const recent = new Date(NOW.getTime() - 2 * 60_000).toISOString();
    const older = new Date(NOW.getTime() - 10 * 60_000).toISOString();
    const o = ov([acct({ lastSuccessAt: recent }), acct({ accountId: "a2", lastSuccessAt: older })]);
    expect(syncStatus(o, NOW)).toEqual({ kind: "synced", text: "Synced 10 minutes ago" });
    expect(syncStatusText(ov([acct({ lastSuccessAt: at(2025, 6, 18, 8, 0) })]), NOW, "en-GB")).toBe("Synced today at 08:00");
  });
  it("says Not synced yet when no account has synced", () => {
    expect(syncStatus(ov([acct(), acct({ accountId: "a2" })]), NOW)).toEqual({ kind: "never", text: "Not synced yet" });
  });
});

describe("buttons", () => {
  it("offers Sync now only when idle and not paused", () => {
    expect(canSyncNow(ov([acct()]))).toBe(true);
    expect(canSyncNow(ov([acct()], { running: true }))).toBe(false);
    // As the tray offers it: one run on request, paused again after it.
    expect(canSyncNow(ov([acct()], { paused: true }))).toBe(true);
  });
  it("labels Pause/Resume and Conflicts", () => {
    expect(pauseButtonText(false)).toBe("Pause");
    expect(pauseButtonText(true)).toBe("Resume");
    expect(conflictsButtonText(2)).toBe("Conflicts (2)");
  });
});

describe("held calendars", () => {
  it("lists each held calendar once", () => {
    const h1 = { calendarId: "c1", name: "Work", wouldDelete: 12, total: 15 };
    const h2 = { calendarId: "c2", name: "Family", wouldDelete: 40, total: 40 };
    expect(heldCalendars(null)).toEqual([]);
    expect(heldCalendars(ov([acct({ heldCalendars: [h1] }), acct({ accountId: "a2", heldCalendars: [h2, h1] })]))).toEqual([h1, h2]);
  });
  it("explains what was stopped", () => {
    expect(heldCalendarText({ calendarId: "c1", name: "Work", wouldDelete: 12, total: 15 })).toBe(
      "Work: the provider's listing would delete 12 of 15 events. Nothing was deleted. Check the calendar at the provider, then confirm.",
    );
    expect(heldCalendarText({ calendarId: "c1", name: "Solo", wouldDelete: 1, total: 1 })).toContain("would delete 1 of 1 event.");
  });
});

const conflict = (over: Partial<ConflictView> = {}): ConflictView => ({
  id: "k1",
  eventId: "e1",
  calendarId: "cal-work",
  calendarName: "Work",
  kind: "editEdit",
  title: "Stand-up",
  detectedAt: "2025-06-18T10:00:00Z",
  fields: [
    { field: "title", label: "Title", base: "A", local: "B", remote: "C" },
    { field: "extra.sensitivity", label: "Other (sensitivity)", base: "normal", local: "normal", remote: "private" },
  ],
  localSummary: "B — …",
  remoteSummary: "C — …",
  ...over,
});

describe("conflict texts", () => {
  it("finds the provider through the calendar's account", () => {
    const cals = [
      { id: "cal-work", accountId: "a1" },
      { id: "local", accountId: null },
    ];
    const accts = [{ accountId: "a1", provider: "google" as const }];
    expect(providerOfCalendar("cal-work", cals, accts)).toBe("google");
    expect(providerOfCalendar("local", cals, accts)).toBeNull();
    expect(providerOfCalendar("gone", cals, accts)).toBeNull();
    expect(providerOfCalendar("cal-work", cals, [])).toBeNull();
  });
  it("says what happened", () => {
    expect(conflictKindText("editEdit", "microsoft", "Work")).toBe("Changed here and at Microsoft 365 (Work)");
    expect(conflictKindText("editEdit", null, "Work")).toBe("Changed here and at the provider (Work)");
    expect(conflictKindText("editEdit", "google", "")).toBe("Changed here and at Google");
    expect(conflictKindText("editDelete", "google", "Work")).toBe("Changed here, deleted at the provider");
    expect(conflictKindText("deleteEdit", "google", "Work")).toBe("Deleted here, changed at the provider");
  });
  it("keeps the selection while it is open, else takes the first", () => {
    const a = conflict({ id: "a" });
    const b = conflict({ id: "b" });
    expect(selectedConflict([a, b], null)).toBe(a);
    expect(selectedConflict([a, b], "b")).toBe(b);
    expect(selectedConflict([a], "b")).toBe(a);
    expect(selectedConflict([], "b")).toBeNull();
  });
  it("offers Keep both and field picks for edit/edit only", () => {
    expect(canKeepBoth(conflict())).toBe(true);
    expect(canKeepBoth(conflict({ kind: "editDelete" }))).toBe(false);
    expect(canKeepBoth(conflict({ kind: "deleteEdit" }))).toBe(false);
    expect(canPickFields(conflict())).toBe(true);
    expect(canPickFields(conflict({ fields: [] }))).toBe(false);
    expect(canPickFields(conflict({ kind: "editDelete" }))).toBe(false);
  });
});

describe("answers", () => {
  // The versions an answer was given on: the back end refuses it once they changed.
  const SEEN = "2025-06-18T10:00:00Z";
  it("keeps one side", () => {
    expect(keepAnswer({ id: "k1", detectedAt: SEEN }, "local")).toEqual({ conflictId: "k1", keep: "local", fields: [], detectedAt: SEEN });
    expect(keepAnswer({ id: "k1", detectedAt: SEEN }, "remote")).toEqual({ conflictId: "k1", keep: "remote", fields: [], detectedAt: SEEN });
    expect(keepAnswer({ id: "k1", detectedAt: SEEN }, "both")).toEqual({ conflictId: "k1", keep: "both", fields: [], detectedAt: SEEN });
  });
  it("knows when every field has a pick", () => {
    const c = conflict();
    expect(allFieldsPicked(c, {})).toBe(false);
    const one = withPick({}, "title", "local");
    expect(allFieldsPicked(c, one)).toBe(false);
    const both = withPick(one, "extra.sensitivity", "remote");
    expect(allFieldsPicked(c, both)).toBe(true);
    // Picks for fields the conflict does not have do not count.
    expect(allFieldsPicked(c, withPick(one, "location", "remote"))).toBe(false);
    // Nothing to pick: never complete.
    expect(allFieldsPicked(conflict({ fields: [] }), {})).toBe(false);
    expect(allFieldsPicked(conflict({ kind: "editDelete" }), both)).toBe(false);
  });
  it("drops the picks of a conflict refreshed or gone since, keeps the rest", () => {
    const a = { id: "a", detectedAt: "2025-06-18T10:00:00Z" };
    const b = { id: "b", detectedAt: "2025-06-18T10:00:00Z" };
    const picks = { a: { title: "remote" as const }, b: { title: "local" as const }, c: { title: "local" as const } };
    const newer = { ...b, detectedAt: "2025-06-18T10:05:00Z" };
    expect(freshPicks([a, b], [a, newer], picks)).toEqual({ a: { title: "remote" } });
    expect(freshPicks(null, [a], picks)).toEqual({});
  });
  it("withPick replaces an earlier pick without touching the old object", () => {
    const a = withPick({}, "title", "local");
    const b = withPick(a, "title", "remote");
    expect(a).toEqual({ title: "local" });
    expect(b).toEqual({ title: "remote" });
  });
  it("builds the per-field answer in the conflict's field order", () => {
    const c = conflict();
    expect(pickedAnswer(c, { title: "local" })).toBeNull();
    expect(pickedAnswer(c, { "extra.sensitivity": "remote", title: "local", location: "remote" })).toEqual({
      conflictId: "k1",
      keep: null,
      fields: [
        { field: "title", side: "local" },
        { field: "extra.sensitivity", side: "remote" },
      ],
      detectedAt: "2025-06-18T10:00:00Z",
    });
  });
});

describe("nextSyncText", () => {
  it("names the earliest scheduled run", () => {
    const text = nextSyncText(ov([acct({ nextSyncAt: "2026-12-02T10:30:00Z" }), acct({ nextSyncAt: "2026-12-02T10:05:00Z" })]), "en-GB");
    expect(text).toMatch(/^Next sync at \d\d:05$/);
  });
  it("is empty when nothing is scheduled or sync is paused", () => {
    expect(nextSyncText(ov([acct()]))).toBe("");
    expect(nextSyncText(ov([acct({ nextSyncAt: "2026-12-02T10:05:00Z" })], { paused: true }))).toBe("");
    expect(nextSyncText(null)).toBe("");
  });
});

describe("progressText", () => {
  const p = { accountId: "a1", calendarId: "c1", name: "Work", pulled: 12, pushed: 1, conflicts: 0, problem: null };
  it("says what moved in the calendar just done", () => {
    expect(progressText(p)).toBe("Work: 12 in, 1 out");
    expect(progressText({ ...p, conflicts: 2 })).toBe("Work: 12 in, 1 out, 2 conflicts");
  });
  it("says what stopped it", () => {
    expect(progressText({ ...p, problem: "stopped: it would delete 12 of 15 events" })).toBe("Work: stopped: it would delete 12 of 15 events");
  });
  it("is empty before the first calendar is done", () => {
    expect(progressText(null)).toBe("");
  });
});

describe("conflict policies", () => {
  const cal = (over: Partial<Calendar>): Calendar => ({
    id: "c1",
    name: "Work",
    color: "#16a34a",
    accountId: "a1",
    canEdit: true,
    isPrimary: false,
    visible: true,
    conflictPolicy: "ask",
    ...over,
  });

  it("lists each policy once, ask first, with help for each", () => {
    const values = CONFLICT_POLICIES.map((p) => p.value);
    expect(values).toEqual(["ask", "prefer_local", "prefer_remote", "keep_both"]);
    expect(new Set(values.map(policyHelp)).size).toBe(4);
    // Prefer remote never lets a deletion online beat an edit here: the help says so.
    expect(policyHelp("prefer_remote")).toContain("still asks you");
  });

  it("offers only synced, editable calendars", () => {
    const shown = policyCalendars([
      cal({}),
      cal({ id: "local", accountId: null, conflictPolicy: null }),
      cal({ id: "ro", canEdit: false }),
    ]);
    expect(shown.map((c) => c.id)).toEqual(["c1"]);
  });

  it("gives each calendar's choice a stable DOM id", () => {
    expect(policyDomId("AAMk/x+y=")).toBe("policy-AAMk_x_y_");
  });
});
