// Markup checks for the Conflicts panel (static render of its presentational part).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { ConflictView } from "../platform/bindings";
import { ConflictsPanel, type ConflictsPanelProps } from "./ConflictsDialog";

const noop = () => {};
const editEdit: ConflictView = {
  id: "k1",
  eventId: "e1",
  calendarId: "cal-work",
  calendarName: "Work",
  kind: "editEdit",
  title: "Stand-up",
  detectedAt: "2025-06-18T10:00:00Z",
  fields: [
    { field: "title", label: "Title", base: "Stand-up", local: "Team stand-up", remote: "Daily <stand-up>" },
    { field: "extra.sensitivity", label: "Other (sensitivity)", base: "normal", local: "normal", remote: "private" },
  ],
  localSummary: "Team stand-up — 09:30",
  remoteSummary: "Daily stand-up — 10:00",
};
const editDelete: ConflictView = {
  ...editEdit,
  id: "k2",
  kind: "editDelete",
  title: "Conference",
  fields: [],
  localSummary: "Conference — all day",
  remoteSummary: null,
};

const render = (over: Partial<ConflictsPanelProps> = {}) => {
  const props: ConflictsPanelProps = {
    list: [editEdit, editDelete],
    selectedId: null,
    picks: {},
    busy: false,
    error: "",
    providerOf: () => "microsoft",
    readOnly: () => false,
    now: new Date("2025-06-18T12:00:00Z"),
    onSelect: noop,
    onPick: noop,
    onResolve: noop,
    onClose: noop,
    ...over,
  };
  const html = renderToStaticMarkup(createElement(ConflictsPanel, props));
  const tag = (id: string) => html.match(new RegExp(`<[a-z0-9]+[^>]*\\sid="${id.replace(/[.]/g, "\\.")}"[^>]*>`))?.[0] ?? null;
  return {
    html,
    tag,
    has: (id: string) => tag(id) !== null,
    disabled: (id: string) => / disabled=""/.test(tag(id) ?? ""),
    checked: (id: string) => / checked=""/.test(tag(id) ?? ""),
  };
};

describe("ConflictsPanel", () => {
  it("is an accessible modal with a close button and a hidden error", () => {
    const r = render();
    expect(r.tag("conflicts-dialog")).toMatch(/role="dialog"/);
    expect(r.tag("conflicts-dialog")).toMatch(/aria-modal="true"/);
    expect(r.tag("conflicts-close")).toMatch(/^<button/);
    expect(r.tag("conflicts-error")).toMatch(/ hidden=""/);
    expect(r.has("conflicts-empty")).toBe(false);
  });

  it("lists the conflicts and selects the first", () => {
    const r = render();
    expect(r.tag("conflict-k1")).toMatch(/aria-current="true"/);
    expect(r.tag("conflict-k2")).not.toMatch(/aria-current/);
    expect(r.html).toMatch(/id="conflict-title"[^>]*>Stand-up</);
    expect(r.html).toMatch(/id="conflict-calendar"[^>]*>Work</);
    expect(r.html).toMatch(/id="conflict-kind"[^>]*>Changed here and at Microsoft 365 \(Work\)</);
  });

  it("edit/edit: a row per field with two radios, all four buttons", () => {
    const r = render();
    expect(r.html).toMatch(/<th scope="col">Before<\/th><th scope="col">This computer<\/th><th scope="col">Provider<\/th>/);
    // Ids safe for CSS selectors: the dot of `extra.sensitivity` becomes `_`.
    for (const f of ["title", "extra_sensitivity"]) {
      expect(r.tag(`conflict-field-${f}`)).toMatch(/^<tr/);
      expect(r.tag(`pick-${f}-local`)).toMatch(/type="radio"/);
      expect(r.tag(`pick-${f}-remote`)).toMatch(/type="radio"/);
    }
    expect(r.html).toContain("Daily &lt;stand-up&gt;");
    expect(r.html).toMatch(/id="keep-local"[^>]*>Keep mine</);
    expect(r.html).toMatch(/id="keep-remote"[^>]*>Keep theirs</);
    expect(r.html).toMatch(/id="keep-both"[^>]*>Keep both</);
    expect(r.html).toMatch(/id="keep-picked"[^>]*>Use my choices</);
    expect(r.disabled("keep-picked")).toBe(true);
    expect(r.has("conflict-local-summary")).toBe(false);
  });

  it("enables Use my choices once every field is picked", () => {
    const some = render({ picks: { k1: { title: "remote" } } });
    expect(some.checked("pick-title-remote")).toBe(true);
    expect(some.checked("pick-title-local")).toBe(false);
    expect(some.disabled("keep-picked")).toBe(true);
    const all = render({ picks: { k1: { title: "remote", "extra.sensitivity": "local" } } });
    expect(all.disabled("keep-picked")).toBe(false);
    expect(render({ picks: { k1: { title: "remote", "extra.sensitivity": "local" } }, busy: true }).disabled("keep-picked")).toBe(true);
  });

  it("in a calendar made read-only offers only Keep theirs, and says why", () => {
    const picks = { k1: { title: "remote" as const, "extra.sensitivity": "local" as const } };
    const r = render({ readOnly: (id) => id === "cal-work", picks });
    expect(r.has("conflict-read-only")).toBe(true);
    expect(r.disabled("keep-local")).toBe(true);
    expect(r.disabled("keep-both")).toBe(true);
    expect(r.disabled("keep-picked")).toBe(true);
    expect(r.disabled("keep-remote")).toBe(false);
    // No field picks offered either: none could be carried out.
    expect(r.has("pick-title-local")).toBe(false);
    expect(render().has("conflict-read-only")).toBe(false);
  });

  it("delete kinds: the two summaries, no Keep both or picks", () => {
    const r = render({ selectedId: "k2" });
    expect(r.tag("conflict-k2")).toMatch(/aria-current="true"/);
    expect(r.html).toMatch(/id="conflict-kind"[^>]*>Changed here, deleted at the provider</);
    expect(r.html).toMatch(/id="conflict-local-summary"[^>]*>Conference — all day</);
    expect(r.html).toMatch(/id="conflict-remote-summary"[^>]*>Deleted</);
    expect(r.has("keep-local")).toBe(true);
    expect(r.has("keep-remote")).toBe(true);
    expect(r.has("keep-both")).toBe(false);
    expect(r.has("keep-picked")).toBe(false);
    expect(r.has("conflict-fields")).toBe(false);
  });

  it("shows errors and the empty state", () => {
    const err = render({ error: "This conflict is no longer open." });
    expect(err.tag("conflicts-error")).not.toMatch(/ hidden=""/);
    expect(err.html).toContain("This conflict is no longer open.");
    const empty = render({ list: [] });
    expect(empty.html).toMatch(/id="conflicts-empty"[^>]*>No conflicts left\.</);
    expect(empty.has("conflicts-list")).toBe(false);
    expect(render({ list: null }).has("conflicts-empty")).toBe(false);
  });
});
