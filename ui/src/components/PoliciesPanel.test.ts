// Markup checks for Settings › Sync (static render; effects do not run).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { Calendar } from "../platform/bindings";
import type { SettledConflict } from "../platform/bindings";
import { PoliciesPanel, SettledList } from "./PoliciesPanel";

const cal = (over: Partial<Calendar>): Calendar => ({
  id: "c1",
  name: "Work",
  color: "#16a34a",
  accountId: "a1",
  canEdit: true,
  isPrimary: true,
  visible: true,
  conflictPolicy: "ask",
  ...over,
});
const render = (calendars: Calendar[]) =>
  renderToStaticMarkup(createElement(PoliciesPanel, { calendars, onChange: async () => {}, loadSettled: async () => [] }));

describe("PoliciesPanel", () => {
  it("offers a choice per synced, editable calendar, showing its policy", () => {
    const html = render([
      cal({}),
      cal({ id: "c 2", name: "Team", conflictPolicy: "prefer_remote" }),
      cal({ id: "local", name: "On this computer", accountId: null, conflictPolicy: null }),
      cal({ id: "ro", name: "Holidays", canEdit: false }),
    ]);
    expect(html).toMatch(/<select id="policy-c1"[^>]*aria-describedby="policy-c1-help"/);
    expect(html).toMatch(/<select id="policy-c_2"/);
    expect(html).not.toContain(`id="policy-local"`);
    expect(html).not.toContain(`id="policy-ro"`);
    // The stored policy is the selected option; every policy is offered.
    expect(html).toMatch(/id="policy-c_2"[\s\S]*?<option value="prefer_remote" selected="">Keep the online version<\/option>/);
    for (const v of ["ask", "prefer_local", "prefer_remote", "keep_both"]) {
      expect(html).toContain(`<option value="${v}"`);
    }
    expect(html).toMatch(/id="policy-c1-help"[^>]*>A conflict waits in the Conflicts panel until you choose\.</);
    expect(html).toMatch(/id="policy-c_2-help"[^>]*>The online change wins/);
    expect(html).not.toContain('id="policies-empty"');
    expect(html).toMatch(/id="policies-error"[^>]*hidden=""/);
  });

  it("says where to go when nothing is synced yet", () => {
    const html = render([cal({ id: "local", accountId: null, conflictPolicy: null })]);
    expect(html).toContain('id="policies-empty"');
    expect(html).not.toContain("<select");
  });
});

describe("SettledList", () => {
  const settled = (over: Partial<SettledConflict>): SettledConflict => ({
    conflict: {
      id: "k1",
      eventId: "e1",
      calendarId: "c1",
      calendarName: "Work",
      kind: "editEdit",
      title: "Plan <b>",
      detectedAt: "2026-12-04T10:00:00Z",
      fields: [{ field: "title", label: "Title", base: "Plan", local: "Plan (mine)", remote: "Plan <b>" }],
      localSummary: "Plan (mine)",
      remoteSummary: "Plan <b>",
    },
    kept: "remote",
    settledAt: "2026-12-04T10:00:00Z",
    ...over,
  });
  const now = new Date("2026-12-04T10:05:00Z");

  it("shows what each policy kept and the version it gave up, as text", () => {
    const html = renderToStaticMarkup(createElement(SettledList, { settled: [settled({})], now }));
    expect(html).toContain('id="settled-k1"');
    expect(html).toContain("“Plan &lt;b&gt;” in Work, 5 minutes ago: kept the online version");
    expect(html).toContain("Title: here “Plan (mine)”, online “Plan &lt;b&gt;”");
  });

  it("shows both versions whole when one side deleted the event", () => {
    const gone = settled({
      kept: "local",
      conflict: { ...settled({}).conflict, kind: "deleteEdit", fields: [], localSummary: null },
    });
    const html = renderToStaticMarkup(createElement(SettledList, { settled: [gone], now }));
    expect(html).toContain("kept this computer&#x27;s version");
    expect(html).toContain("Here: deleted");
    expect(html).toContain("Online: Plan &lt;b&gt;");
  });

  it("says when nothing was settled", () => {
    const html = renderToStaticMarkup(createElement(SettledList, { settled: [], now }));
    expect(html).toContain('id="settled-empty"');
  });
});
