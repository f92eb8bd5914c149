import { describe, expect, it } from "vitest";
import type { Calendar, Occurrence } from "../platform/bindings";
import { occurrenceToEvent, textColorFor } from "./mapping";
import { occurrenceDomId, sanitizeId } from "./ids";

const cal: Calendar = { id: "c1", name: "Work", color: "#16a34a", accountId: null, canEdit: true, isPrimary: true, visible: true, conflictPolicy: null };
const cals = new Map([[cal.id, cal]]);

const occ = (over: Partial<Occurrence>): Occurrence => ({
  eventId: "e1", seriesId: null, originalStart: null, calendarId: "c1", title: "T", allDay: false,
  start: "2025-03-10T09:00:00Z", end: "2025-03-10T10:00:00Z", timeZone: "Europe/Berlin", location: "",
  showAs: "busy", importance: "normal", categories: [], recurring: false, exception: false, ...over,
});

describe("occurrenceToEvent", () => {
  it("maps a timed occurrence", () => {
    const ev = occurrenceToEvent(occ({}), cals);
    expect(ev).toMatchObject({
      id: "occ-e1-single", title: "T", start: "2025-03-10T09:00:00Z", end: "2025-03-10T10:00:00Z",
      allDay: false, backgroundColor: "#16a34a", borderColor: "#16a34a", editable: true,
    });
    expect(ev.extendedProps?.occurrence.eventId).toBe("e1");
  });
  it("maps an all-day occurrence with exclusive end", () => {
    const ev = occurrenceToEvent(occ({ allDay: true, start: "2025-03-10", end: "2025-03-12" }), cals);
    expect(ev).toMatchObject({ allDay: true, start: "2025-03-10", end: "2025-03-12" });
  });
  it("uses a fallback colour and read-only flag", () => {
    const ro = new Map([["c1", { ...cal, canEdit: false, color: "" }]]);
    const ev = occurrenceToEvent(occ({}), ro);
    expect(ev.editable).toBe(false);
    expect(ev.backgroundColor).toMatch(/^#/);
  });
  it("gives recurring instances distinct ids", () => {
    const a = occurrenceToEvent(occ({ originalStart: "2025-03-10T10:00:00", recurring: true }), cals);
    const b = occurrenceToEvent(occ({ originalStart: "2025-03-11T10:00:00", recurring: true }), cals);
    expect(a.id).toBe("occ-e1-2025-03-10T10_00_00");
    expect(a.id).not.toBe(b.id);
  });
  it("picks readable text colour", () => {
    expect(textColorFor("#ffff00")).toBe("#111111");
    expect(textColorFor("#1e3a8a")).toBe("#ffffff");
  });
});

describe("ids", () => {
  it("sanitises", () => {
    expect(sanitizeId("a b/c:d.e_f-g")).toBe("a_b_c_d_e_f-g");
    expect(occurrenceDomId("ev 1", "2025-01-01")).toBe("occ-ev_1-2025-01-01");
    expect(occurrenceDomId("x", null)).toBe("occ-x-single");
  });
});
