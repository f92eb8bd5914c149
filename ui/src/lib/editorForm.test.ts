import { describe, expect, it } from "vitest";
import type { EventInput } from "../platform/bindings";
import {
  blankForm,
  formToInput,
  inputToForm,
  keptOffsets,
  mergeWithFresh,
  parseCategories,
  rebaseOnSeries,
  repeatFromRrule,
  shiftRuleByDays,
  rruleForRepeat,
  withOccurrenceTimes,
} from "./editorForm";

const input = (over: Partial<EventInput> = {}): EventInput => ({
  calendarId: "c1", title: "Standup", allDay: false, start: "2025-03-10T09:30", end: "2025-03-10T09:45",
  timeZone: "Europe/Berlin", recurrence: null, location: "Room", description: "<b>hi</b>", showAs: "busy",
  importance: "normal", categories: ["a", "b"], ...over,
});

describe("form ↔ input", () => {
  it("round-trips a timed event", () => {
    const i = input();
    expect(formToInput(inputToForm(i), null)).toEqual(i);
  });
  it("shows the inclusive end for all-day events and converts back", () => {
    const i = input({ allDay: true, start: "2025-03-10", end: "2025-03-12" });
    const f = inputToForm(i);
    expect(f.endDate).toBe("2025-03-11");
    expect(formToInput(f, null)).toEqual(i);
  });
  it("accepts wall times with seconds", () => {
    const f = inputToForm(input({ start: "2025-03-10T09:30:00", end: "2025-03-10T10:00:00" }));
    expect([f.startTime, f.endTime]).toEqual(["09:30", "10:00"]);
  });
  it("keeps exdates/rdates of an existing series", () => {
    const rec = { rrule: "FREQ=WEEKLY", exdates: ["2025-03-17T09:30:00"], rdates: [] };
    const f = inputToForm(input({ recurrence: rec }));
    expect(f.repeat).toBe("weekly");
    expect(formToInput({ ...f, rrule: "FREQ=WEEKLY;BYDAY=MO", repeat: "custom" }, rec).recurrence).toEqual({
      ...rec, rrule: "FREQ=WEEKLY;BYDAY=MO",
    });
    expect(formToInput({ ...f, repeat: "none" }, rec).recurrence).toBeNull();
  });
  it("parses categories", () => {
    expect(parseCategories(" a, ,b ,c,")).toEqual(["a", "b", "c"]);
  });
});

describe("a DST fall-back's second pass", () => {
  // Berlin 2027-10-31: 03:00 CEST → 02:00 CET, so 02:00–02:59 happens twice.
  const second = input({ start: "2027-10-31T02:10:00+01:00", end: "2027-10-31T02:40:00+01:00" });
  it("is sent back with its offset while the fields say the same", () => {
    const f = inputToForm(second);
    expect([f.startTime, f.endTime]).toEqual(["02:10", "02:40"]);
    expect(keptOffsets(f)).toEqual({ start: "+01:00", end: "+01:00" });
    const out = formToInput({ ...f, title: "Renamed" }, null);
    expect([out.start, out.end]).toEqual([second.start, second.end]);
  });
  it("is let go when the user changes the time or the zone", () => {
    const f = inputToForm(second);
    const moved = formToInput({ ...f, startTime: "02:20" }, null);
    expect([moved.start, moved.end]).toEqual(["2027-10-31T02:20", second.end]);
    const rezoned = { ...f, timeZone: "Europe/Paris" };
    expect(keptOffsets(rezoned)).toEqual({ start: "", end: "" });
    expect(formToInput(rezoned, null).start).toBe("2027-10-31T02:10");
  });
  it("is recovered from an occurrence's instants", () => {
    const f = withOccurrenceTimes(inputToForm(input()), {
      allDay: false, start: "2027-10-31T00:30:00Z", end: "2027-10-31T01:15:00Z",
    });
    expect([f.startTime, f.endTime]).toEqual(["02:30", "02:15"]);
    const out = formToInput(f, null);
    expect([out.start, out.end]).toEqual(["2027-10-31T02:30", "2027-10-31T02:15+01:00"]);
  });
});

describe("repeat presets", () => {
  it("classifies rrules", () => {
    expect(repeatFromRrule("")).toBe("none");
    expect(repeatFromRrule("FREQ=DAILY")).toBe("daily");
    expect(repeatFromRrule("freq=monthly")).toBe("monthly");
    expect(repeatFromRrule("FREQ=WEEKLY;BYDAY=MO")).toBe("custom");
    expect(rruleForRepeat("yearly", "x")).toBe("FREQ=YEARLY");
    expect(rruleForRepeat("custom", "FREQ=DAILY;INTERVAL=2")).toBe("FREQ=DAILY;INTERVAL=2");
    expect(rruleForRepeat("none", "FREQ=DAILY")).toBe("");
  });
});

describe("blankForm / occurrence times", () => {
  it("prefills a timed range in the zone", () => {
    const f = blankForm({
      start: new Date("2025-03-10T08:00:00Z"), end: new Date("2025-03-10T09:00:00Z"), allDay: false,
      timeZone: "Europe/Berlin", calendarId: "c1",
    });
    expect([f.startDate, f.startTime, f.endDate, f.endTime]).toEqual(["2025-03-10", "09:00", "2025-03-10", "10:00"]);
  });
  it("prefills an all-day selection with the inclusive end", () => {
    const f = blankForm({ start: new Date(2025, 2, 10), end: new Date(2025, 2, 12), allDay: true, timeZone: "UTC", calendarId: "c1" });
    expect([f.allDay, f.startDate, f.endDate]).toEqual([true, "2025-03-10", "2025-03-11"]);
  });
  it("uses the occurrence's own times converted to the event zone", () => {
    const f = withOccurrenceTimes(inputToForm(input()), {
      allDay: false, start: "2025-03-12T08:30:00Z", end: "2025-03-12T08:45:00Z",
    });
    expect([f.startDate, f.startTime, f.endDate, f.endTime]).toEqual(["2025-03-12", "09:30", "2025-03-12", "09:45"]);
  });
});

describe("rebaseOnSeries", () => {
  const series = { start: "2025-03-10T09:30", end: "2025-03-10T09:45", allDay: false };
  it("keeps the series untouched when the occurrence times were not changed", () => {
    expect(rebaseOnSeries(series, "2025-03-12T09:30", "2025-03-12T09:45", "2025-03-12T09:30", "2025-03-12T09:45", false)).toEqual({
      start: "2025-03-10T09:30", end: "2025-03-10T09:45",
    });
  });
  it("applies new time of day and duration to the series start", () => {
    expect(rebaseOnSeries(series, "2025-03-12T09:30", "2025-03-12T09:45", "2025-03-12T10:00", "2025-03-12T10:30", false)).toEqual({
      start: "2025-03-10T10:00", end: "2025-03-10T10:30",
    });
  });
  it("applies a day shift", () => {
    expect(rebaseOnSeries(series, "2025-03-12T09:30", "2025-03-12T09:45", "2025-03-13T09:30", "2025-03-13T09:45", false)).toEqual({
      start: "2025-03-11T09:30", end: "2025-03-11T09:45",
    });
  });
  it("handles all-day series", () => {
    const s = { start: "2025-03-10", end: "2025-03-11", allDay: true };
    expect(rebaseOnSeries(s, "2025-03-17", "2025-03-18", "2025-03-18", "2025-03-20", true)).toEqual({
      start: "2025-03-11", end: "2025-03-13",
    });
  });
});

describe("saving over a change made meanwhile", () => {
  const opened = inputToForm(input());
  it("takes the fields the user did not touch from the event as it is now", () => {
    const mine = { ...opened, location: "Room 9" };
    const fresh = inputToForm(input({ title: "Standup (moved)", start: "2025-03-10T10:00", end: "2025-03-10T10:15" }));
    const { form, clashes } = mergeWithFresh(opened, mine, fresh);
    expect(clashes).toEqual([]);
    expect(formToInput(form, null)).toEqual(
      input({ title: "Standup (moved)", start: "2025-03-10T10:00", end: "2025-03-10T10:15", location: "Room 9" }),
    );
  });
  it("names a field changed on both sides, differently", () => {
    const mine = { ...opened, title: "Mine" };
    const fresh = inputToForm(input({ title: "Theirs" }));
    const { form, clashes } = mergeWithFresh(opened, mine, fresh);
    expect(clashes).toEqual(["title"]);
    expect(form.title).toBe("Mine");
    // The same change on both sides is no clash.
    expect(mergeWithFresh(opened, mine, { ...fresh, title: "Mine" }).clashes).toEqual([]);
  });
  it("changes nothing when nothing changed meanwhile", () => {
    const mine = { ...opened, description: "New agenda", categories: "a" };
    expect(mergeWithFresh(opened, mine, opened)).toEqual({ form: mine, clashes: [] });
  });
});

describe("shiftRuleByDays", () => {
  it("moves the weekdays, days of the month and end with the series", () => {
    expect(shiftRuleByDays("FREQ=WEEKLY;BYDAY=MO,WE;WKST=MO", 1)).toBe("FREQ=WEEKLY;BYDAY=TU,TH;WKST=MO");
    expect(shiftRuleByDays("RRULE:FREQ=WEEKLY;BYDAY=MO", -1)).toBe("FREQ=WEEKLY;BYDAY=SU");
    expect(shiftRuleByDays("FREQ=MONTHLY;BYMONTHDAY=15", 2)).toBe("FREQ=MONTHLY;BYMONTHDAY=17");
    expect(shiftRuleByDays("FREQ=WEEKLY;BYDAY=FR;UNTIL=20260626T070000Z", 3)).toBe(
      "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260629T070000Z",
    );
    expect(shiftRuleByDays("FREQ=DAILY;COUNT=5", 2)).toBe("FREQ=DAILY;COUNT=5");
    expect(shiftRuleByDays("FREQ=WEEKLY;BYDAY=MO", 0)).toBe("FREQ=WEEKLY;BYDAY=MO");
  });
  it("refuses days that cannot simply move, saying why", () => {
    expect(() => shiftRuleByDays("FREQ=MONTHLY;BYDAY=2TU", 1)).toThrow(/numbered weekday/);
    expect(() => shiftRuleByDays("FREQ=MONTHLY;BYMONTHDAY=28", 1)).toThrow(/day 28 of the month/);
    expect(() => shiftRuleByDays("FREQ=MONTHLY;BYMONTHDAY=-1", 1)).toThrow(/repeat rule/);
    expect(() => shiftRuleByDays("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1", 1)).toThrow(/BYSETPOS/);
  });
});
