// Markup checks for the sync status area (static render; effects do not run).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { AccountSync, SyncOverview } from "../platform/bindings";
import { HeldCalendarsNotice, SyncStatus } from "./SyncStatus";
import type { SyncModel } from "./useSync";

const noop = () => {};
const NOW = new Date("2025-06-18T12:00:00Z");
const acct = (over: Partial<AccountSync> = {}): AccountSync => ({
  accountId: "a1",
  email: "ann@example.com",
  provider: "microsoft",
  status: "connected",
  running: false,
  lastSuccessAt: "2025-06-18T11:55:00Z",
  lastAttemptAt: null,
  nextSyncAt: null,
  lastError: null,
  pendingPushes: 0,
  openConflicts: 0,
  heldCalendars: [],
  ...over,
});
const model = (overview: SyncOverview | null, over: Partial<SyncModel> = {}): SyncModel => ({
  overview,
  progress: null,
  changes: 0,
  busy: false,
  confirming: new Set(),
  syncNow: noop,
  setPaused: noop,
  confirmDeletions: noop,
  reload: noop,
  listening: Promise.resolve(),
  ...over,
});
const ov = (accounts: AccountSync[], over: Partial<SyncOverview> = {}): SyncOverview => ({
  accounts,
  running: false,
  paused: false,
  openConflicts: 0,
  ...over,
});

const render = (m: SyncModel) => {
  const html =
    renderToStaticMarkup(createElement(SyncStatus, { sync: m, onOpenConflicts: noop, onSignIn: noop, now: NOW })) +
    renderToStaticMarkup(createElement(HeldCalendarsNotice, { sync: m }));
  const tag = (id: string) => html.match(new RegExp(`<[a-z0-9]+[^>]*\\sid="${id.replace(/[.]/g, "\\.")}"[^>]*>`))?.[0] ?? null;
  return { html, tag, has: (id: string) => tag(id) !== null, disabled: (id: string) => / disabled=""/.test(tag(id) ?? "") };
};

describe("SyncStatus", () => {
  it("renders nothing without accounts", () => {
    expect(render(model(null)).html).toBe("");
    expect(render(model(ov([]))).html).toBe("");
  });

  it("idle: status text, Sync now and Pause enabled, no progress or conflicts", () => {
    const r = render(model(ov([acct()])));
    expect(r.has("sync-progress")).toBe(false);
    expect(r.html).toMatch(/id="sync-status-text"[^>]*>Synced 5 minutes ago</);
    expect(r.disabled("sync-now")).toBe(false);
    expect(r.html).toMatch(/id="sync-now"[^>]*>Sync now</);
    expect(r.html).toMatch(/id="sync-pause"[^>]*>Pause</);
    expect(r.has("open-conflicts")).toBe(false);
    expect(r.has("sync-held")).toBe(false);
  });

  it("running: progress shown, Sync now disabled", () => {
    const r = render(model(ov([acct({ running: true })], { running: true })));
    expect(r.has("sync-progress")).toBe(true);
    expect(r.html).toMatch(/id="sync-status-text"[^>]*>Syncing…</);
    expect(r.disabled("sync-now")).toBe(true);
    expect(r.disabled("sync-pause")).toBe(false);
  });

  it("paused: Resume, and Sync now still runs once on request (as in the tray)", () => {
    const r = render(model(ov([acct()], { paused: true })));
    expect(r.html).toMatch(/id="sync-status-text"[^>]*>Paused</);
    expect(r.html).toMatch(/id="sync-pause"[^>]*>Resume</);
    expect(r.disabled("sync-now")).toBe(false);
  });

  it("offers Sign in again only while an account needs it", () => {
    const r = render(model(ov([acct({ status: "action_required" }), acct({ accountId: "a2", email: "bo@example.com" })])));
    expect(r.html).toMatch(/id="sync-status-text"[^>]*>Action required: sign in again to ann@example.com</);
    expect(r.html).toMatch(/id="sync-sign-in"[^>]*>Sign in again…</);
    expect(r.disabled("sync-now")).toBe(false);
    expect(render(model(ov([acct()]))).has("sync-sign-in")).toBe(false);
  });

  it("offers the Conflicts button when there are open conflicts", () => {
    const r = render(model(ov([acct({ openConflicts: 2 })], { openConflicts: 2 })));
    expect(r.html).toMatch(/id="open-conflicts"[^>]*>Conflicts \(2\)</);
    expect(r.html).toMatch(/id="sync-status-text"[^>]*>2 conflicts to resolve</);
  });

  it("warns about held calendars, each with its confirm button", () => {
    const held = [
      { calendarId: "cal-1", name: "Work", wouldDelete: 12, total: 15 },
      { calendarId: "cal-2", name: "Family <home>", wouldDelete: 3, total: 3 },
    ];
    const r = render(model(ov([acct({ heldCalendars: held })]), { confirming: new Set(["cal-2"]) }));
    expect(r.tag("sync-held")).toMatch(/role="alert"/);
    expect(r.html).toContain(
      "Work: the provider&#x27;s listing would delete 12 of 15 events. Nothing was deleted. Check the calendar at the provider, then confirm.",
    );
    expect(r.html).toContain("Family &lt;home&gt;:");
    expect(r.disabled("confirm-deletions-cal-1")).toBe(false);
    expect(r.disabled("confirm-deletions-cal-2")).toBe(true);
  });
});
