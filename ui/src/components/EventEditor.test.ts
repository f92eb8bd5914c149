// Markup checks for the event editor (static render; effects do not run).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { inputToForm } from "../lib/editorForm";
import { EventEditor } from "./EventEditor";

const initial = inputToForm({
  calendarId: "c1", title: "Board review", allDay: false, start: "2026-03-10T09:00", end: "2026-03-10T10:00",
  timeZone: "Europe/Berlin", recurrence: null, location: "", description: "", showAs: "busy",
  importance: "normal", categories: [],
});

const render = (readOnly: boolean, formattedDescription = false) =>
  renderToStaticMarkup(
    createElement(EventEditor, {
      mode: "edit",
      initial,
      formattedDescription,
      calendars: [],
      accounts: [],
      timeZones: ["Europe/Berlin"],
      readOnly,
      onJoin: async () => {},
      onSave: async () => {},
      onDelete: async () => {},
      onCancel: () => {},
    }),
  );

describe("EventEditor", () => {
  it("shows a read-only event's fields disabled, with no Save or Delete", () => {
    const html = render(true);
    const fieldsets = html.match(/<fieldset[^>]*>/g) ?? [];
    expect(fieldsets.length).toBe(2);
    for (const f of fieldsets) expect(f).toContain("disabled");
    expect(html).not.toContain('id="ev-save"');
    expect(html).not.toContain('id="ev-delete"');
    expect(html).toMatch(/id="ev-cancel"[^>]*>Close</);
  });
  it("lets an editable event be changed, saved and deleted", () => {
    const html = render(false);
    for (const f of html.match(/<fieldset[^>]*>/g) ?? []) expect(f).not.toContain("disabled");
    expect(html).toContain('id="ev-save"');
    expect(html).toContain('id="ev-delete"');
    expect(html).toMatch(/id="ev-cancel"[^>]*>Cancel</);
  });
  it("shows a formatted description as text, edited only when the user says so", () => {
    const html = render(false, true);
    expect(html).toMatch(/<textarea[^>]*id="ev-description"[^>]*readOnly=""/i);
    expect(html).toContain('id="ev-description-edit"');
    expect(html).toContain("shown here as text");
    const plain = render(false, false);
    expect(plain).not.toMatch(/<textarea[^>]*readOnly/i);
    expect(plain).not.toContain('id="ev-description-edit"');
  });
});
