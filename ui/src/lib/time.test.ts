import { describe, expect, it } from "vitest";
import {
  addDays,
  eventTimeOffset,
  exclusiveToInclusiveEnd,
  inclusiveToExclusiveEnd,
  instantToEventTime,
  instantToWall,
  nextFullHour,
  shiftWall,
  wallDiffMinutes,
  wallToInstant,
} from "./time";

describe("instantToWall", () => {
  it("formats an instant as wall time in a zone", () => {
    expect(instantToWall("2025-03-10T14:30:00Z", "Europe/Berlin")).toBe("2025-03-10T15:30");
    expect(instantToWall("2025-07-10T14:30:00Z", "Europe/Berlin")).toBe("2025-07-10T16:30");
    expect(instantToWall("2025-07-10T02:00:00Z", "America/New_York")).toBe("2025-07-09T22:00");
    expect(instantToWall("2025-01-01T00:00:00Z", "UTC")).toBe("2025-01-01T00:00");
  });
  it("prints midnight as 00, not 24", () => {
    expect(instantToWall("2025-01-01T23:00:00Z", "Europe/Berlin")).toBe("2025-01-02T00:00");
  });
});

describe("wallToInstant", () => {
  it("round-trips ordinary times", () => {
    expect(wallToInstant("2025-03-10T15:30", "Europe/Berlin").toISOString()).toBe("2025-03-10T14:30:00.000Z");
    expect(wallToInstant("2025-07-09T22:00:00", "America/New_York").toISOString()).toBe("2025-07-10T02:00:00.000Z");
    expect(wallToInstant("2025-07-09T22:00", "Asia/Kolkata").toISOString()).toBe("2025-07-09T16:30:00.000Z");
  });
  it("resolves the DST fall-back overlap to the earlier instant", () => {
    // 2025-10-26 02:30 happens twice in Berlin (CEST then CET)
    expect(wallToInstant("2025-10-26T02:30", "Europe/Berlin").toISOString()).toBe("2025-10-26T00:30:00.000Z");
    // 2025-11-02 01:30 twice in New York
    expect(wallToInstant("2025-11-02T01:30", "America/New_York").toISOString()).toBe("2025-11-02T05:30:00.000Z");
  });
  it("moves times in the spring-forward gap forward", () => {
    // 2025-03-30 02:30 does not exist in Berlin → 03:30 CEST
    expect(wallToInstant("2025-03-30T02:30", "Europe/Berlin").toISOString()).toBe("2025-03-30T01:30:00.000Z");
  });
});

describe("event times", () => {
  it("carry an offset only in the second pass of a fall-back", () => {
    // Berlin 2027-10-31 03:00 CEST → 02:00 CET; New York 2026-11-01 02:00 EDT → 01:00 EST.
    expect(instantToEventTime("2027-10-31T00:15:00Z", "Europe/Berlin")).toBe("2027-10-31T02:15");
    expect(instantToEventTime("2027-10-31T01:15:00Z", "Europe/Berlin")).toBe("2027-10-31T02:15+01:00");
    expect(instantToEventTime("2027-10-31T02:15:00Z", "Europe/Berlin")).toBe("2027-10-31T03:15");
    expect(instantToEventTime("2026-11-01T06:30:00Z", "America/New_York")).toBe("2026-11-01T01:30-05:00");
  });
  it("read their offset", () => {
    expect(eventTimeOffset("2027-10-31T02:15:00+01:00")).toBe("+01:00");
    expect(eventTimeOffset("2027-10-31T02:15-05:00")).toBe("-05:00");
    expect(eventTimeOffset("2027-10-31T02:15:00")).toBe("");
    expect(eventTimeOffset("2027-10-31")).toBe("");
  });
});

describe("all-day end conversion", () => {
  it("converts exclusive ↔ inclusive", () => {
    expect(exclusiveToInclusiveEnd("2025-03-02")).toBe("2025-03-01");
    expect(exclusiveToInclusiveEnd("2024-03-01")).toBe("2024-02-29");
    expect(inclusiveToExclusiveEnd("2025-12-31")).toBe("2026-01-01");
    expect(inclusiveToExclusiveEnd(exclusiveToInclusiveEnd("2025-06-10"))).toBe("2025-06-10");
  });
  it("adds days across months", () => {
    expect(addDays("2025-01-31", 1)).toBe("2025-02-01");
    expect(addDays("2025-03-01", -1)).toBe("2025-02-28");
  });
  it("rejects garbage with a readable message", () => {
    expect(() => inclusiveToExclusiveEnd("tomorrow")).toThrow(/Invalid date/);
  });
});

describe("wall arithmetic", () => {
  it("shifts and diffs", () => {
    expect(shiftWall("2025-01-31T23:30", 45)).toBe("2025-02-01T00:15");
    expect(wallDiffMinutes("2025-01-01T09:00", "2025-01-02T10:30")).toBe(1530);
  });
  it("next full hour", () => {
    const d = nextFullHour(new Date(2025, 0, 1, 9, 15, 30));
    expect([d.getHours(), d.getMinutes(), d.getSeconds()]).toEqual([10, 0, 0]);
    expect(nextFullHour(new Date(2025, 0, 1, 23, 0)).getDate()).toBe(2);
  });
});
