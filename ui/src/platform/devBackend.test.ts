// The dev backend's sync commands behave like the real ones, closely enough for `npm run dev`.
import { describe, expect, it } from "vitest";
import type { Calendar, ConflictView, SettledConflict, SyncOverview } from "./bindings";
import { devInvoke, devListen } from "./devBackend";

const overview = async () => (await devInvoke("sync_overview", {})) as SyncOverview;
const conflicts = async () => (await devInvoke("list_conflicts", {})) as ConflictView[];

describe("dev backend: sync", () => {
  it("reports accounts, conflicts and a held calendar", async () => {
    const o = await overview();
    expect(o.accounts.length).toBeGreaterThan(0);
    expect(o.openConflicts).toBe((await conflicts()).length);
    expect(o.accounts.some((a) => a.heldCalendars.length > 0)).toBe(true);
  });

  it("sets a synced calendar's conflict policy and refuses others", async () => {
    await devInvoke("set_conflict_policy", { calendarId: "work", policy: "prefer_remote" });
    const cals = (await devInvoke("list_calendars", {})) as Calendar[];
    expect(cals.find((c) => c.id === "work")?.conflictPolicy).toBe("prefer_remote");
    expect(cals.find((c) => c.id === "personal")?.conflictPolicy).toBeNull();
    await expect(devInvoke("set_conflict_policy", { calendarId: "personal", policy: "ask" })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(devInvoke("set_conflict_policy", { calendarId: "work", policy: "sometimes" })).rejects.toMatchObject({
      code: "invalid_input",
    });
    await devInvoke("set_conflict_policy", { calendarId: "work", policy: "ask" });
  });

  it("lists what the calendars' policies settled", async () => {
    const settled = (await devInvoke("list_settled_conflicts", {})) as SettledConflict[];
    expect(settled.length).toBeGreaterThan(0);
    expect(settled[0].kept).toBe("remote");
    expect(settled[0].conflict.fields[0].local).not.toBe(settled[0].conflict.fields[0].remote);
  });

  it("pauses and resumes, announcing sync-changed", async () => {
    const seen: SyncOverview[] = [];
    const off = devListen("sync-changed", (p) => seen.push(p as SyncOverview));
    await devInvoke("set_sync_paused", { paused: true });
    expect((await overview()).paused).toBe(true);
    await devInvoke("set_sync_paused", { paused: false });
    expect((await overview()).paused).toBe(false);
    await new Promise((r) => setTimeout(r, 10));
    off();
    expect(seen.map((o) => o.paused)).toEqual([true, false]);
  });

  it("resolves conflicts and rejects incomplete answers", async () => {
    const [first] = await conflicts();
    await expect(devInvoke("resolve_conflict", { answer: { conflictId: first.id, keep: null, fields: [] } })).rejects.toMatchObject({
      code: "invalid_input",
    });
    const before = (await conflicts()).length;
    await devInvoke("resolve_conflict", { answer: { conflictId: first.id, keep: "remote", fields: [] } });
    expect((await conflicts()).length).toBe(before - 1);
    expect((await overview()).openConflicts).toBe(before - 1);
    await expect(devInvoke("resolve_conflict", { answer: { conflictId: first.id, keep: "local", fields: [] } })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("confirms deletions of a held calendar once", async () => {
    const held = (await overview()).accounts.flatMap((a) => a.heldCalendars)[0];
    await devInvoke("confirm_deletions", { calendarId: held.calendarId });
    expect((await overview()).accounts.flatMap((a) => a.heldCalendars)).toEqual([]);
    await expect(devInvoke("confirm_deletions", { calendarId: held.calendarId })).rejects.toMatchObject({ code: "not_found" });
  });
});
