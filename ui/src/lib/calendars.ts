// How the sidebar groups calendars (no React, no platform calls).
import type { Calendar, Provider } from "../platform/bindings";
import { providerName } from "./accounts";
import { sanitizeId } from "./ids";

/** An account as the sidebar names it (the sync status carries these for every account). */
export type AccountName = { accountId: string; email: string; provider: Provider };

/** A run of the sidebar's calendars, under its account's address when it has one. */
export type CalendarGroup = {
  key: string;
  /** The account's address; `null` for the calendars on this computer. */
  heading: string | null;
  /** What the group is, in words (its accessible name and tooltip). */
  label: string;
  calendars: Calendar[];
};

/**
 * The calendars on this computer first, then each account's under its address, in the
 * accounts' order: a Microsoft account's calendar is called "Calendar" in every
 * mailbox, so a name alone does not say whose it is. Calendars of an account not named
 * yet (connected a moment ago) come last, under no heading; an account with no calendar
 * shows nothing. Order within a group is the order given.
 */
export function calendarGroups(calendars: readonly Calendar[], accounts: readonly AccountName[]): CalendarGroup[] {
  const groups: CalendarGroup[] = [];
  const push = (key: string, heading: string | null, label: string, of: (c: Calendar) => boolean) => {
    const own = calendars.filter(of);
    if (own.length > 0) groups.push({ key, heading, label, calendars: own });
  };
  push("local", null, "On this computer", (c) => c.accountId === null);
  const named = new Set<string>();
  for (const a of accounts) {
    if (named.has(a.accountId)) continue;
    named.add(a.accountId);
    push(a.accountId, a.email, `${providerName(a.provider)} account ${a.email}`, (c) => c.accountId === a.accountId);
  }
  push("other", null, "Other calendars", (c) => c.accountId !== null && !named.has(c.accountId));
  return groups;
}

/** DOM id of a sidebar group. */
export function calendarGroupDomId(key: string): string {
  return sanitizeId(`cal-group-${key}`);
}
