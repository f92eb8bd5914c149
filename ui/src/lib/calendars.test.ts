import { describe, expect, it } from "vitest";
import type { Calendar } from "../platform/bindings";
import { calendarGroupDomId, calendarGroups } from "./calendars";

const cal = (id: string, name: string, accountId: string | null): Calendar => ({
  id,
  name,
  color: "#3366cc",
  accountId,
  canEdit: true,
  isPrimary: false,
  visible: true,
  conflictPolicy: accountId === null ? null : "ask",
});

const shape = (groups: ReturnType<typeof calendarGroups>) =>
  groups.map((g) => [g.heading, g.label, g.calendars.map((c) => c.id)]);

describe("calendarGroups", () => {
  const calendars = [
    cal("g1", "alex@gmail.example", "ga"),
    cal("local", "On this computer", null),
    cal("m1", "Calendar", "ma"),
    cal("m2", "Calendar", "mb"),
    cal("g2", "Team", "ga"),
  ];
  const accounts = [
    { accountId: "ma", email: "adele@contoso.example", provider: "microsoft" as const },
    { accountId: "mb", email: "adele@fabrikam.example", provider: "microsoft" as const },
    { accountId: "ga", email: "alex@gmail.example", provider: "google" as const },
  ];

  it("puts this computer's first, then each account's under its address, in the accounts' order", () => {
    expect(shape(calendarGroups(calendars, accounts))).toEqual([
      [null, "On this computer", ["local"]],
      ["adele@contoso.example", "Microsoft 365 account adele@contoso.example", ["m1"]],
      ["adele@fabrikam.example", "Microsoft 365 account adele@fabrikam.example", ["m2"]],
      ["alex@gmail.example", "Google account alex@gmail.example", ["g1", "g2"]],
    ]);
  });

  it("shows an account not named yet last, under no heading, and an account without calendars not at all", () => {
    const groups = calendarGroups(calendars, [
      accounts[2],
      { accountId: "empty", email: "none@example.com", provider: "google" },
    ]);
    expect(shape(groups)).toEqual([
      [null, "On this computer", ["local"]],
      ["alex@gmail.example", "Google account alex@gmail.example", ["g1", "g2"]],
      [null, "Other calendars", ["m1", "m2"]],
    ]);
  });

  it("lists every calendar exactly once, also with an account named twice or no status yet", () => {
    for (const names of [[], accounts, [...accounts, accounts[0]]]) {
      const ids = calendarGroups(calendars, names).flatMap((g) => g.calendars.map((c) => c.id));
      expect(ids.sort()).toEqual(calendars.map((c) => c.id).sort());
    }
    expect(calendarGroups([], accounts)).toEqual([]);
  });

  it("gives each group a stable, safe DOM id", () => {
    expect(calendarGroupDomId("local")).toBe("cal-group-local");
    expect(calendarGroupDomId("a/b c")).toBe("cal-group-a_b_c");
  });
});
