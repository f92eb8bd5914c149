// Pure date/time helpers. Wall times are strings "YYYY-MM-DDTHH:MM[:SS]",
// dates are "YYYY-MM-DD", instants are Date objects or RFC 3339 strings.

export type WallParts = { year: number; month: number; day: number; hour: number; minute: number; second: number };

const fmtCache = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = fmtCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hour12: false,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    fmtCache.set(timeZone, f);
  }
  return f;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** True when `timeZone` is an IANA zone name this runtime understands. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock parts of an instant as seen in `timeZone`. */
export function wallPartsInZone(instant: Date, timeZone: string): WallParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour === 24 ? 0 : parts.hour, // some engines print midnight as 24
    minute: parts.minute,
    second: parts.second,
  };
}

/** Instant (Date or RFC 3339 string) → "YYYY-MM-DDTHH:MM" wall time in `timeZone`. */
export function instantToWall(instant: Date | string, timeZone: string): string {
  const d = typeof instant === "string" ? new Date(instant) : instant;
  const p = wallPartsInZone(d, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

export function parseWall(wall: string): WallParts {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(wall);
  if (!m) throw new Error(`Invalid date or time: "${wall}"`);
  return {
    year: +m[1],
    month: +m[2],
    day: +m[3],
    hour: m[4] ? +m[4] : 0,
    minute: m[5] ? +m[5] : 0,
    second: m[6] ? +m[6] : 0,
  };
}

function partsToNaiveMs(p: WallParts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

function naiveMsToWall(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** Offset (ms) of `timeZone` from UTC at the given instant. */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const p = wallPartsInZone(new Date(instantMs), timeZone);
  return partsToNaiveMs(p) - Math.floor(instantMs / 1000) * 1000;
}

/**
 * Wall time in `timeZone` → instant. Ambiguous times (DST fall-back) resolve to
 * the earlier instant; non-existent times (spring-forward gap) move forward.
 */
export function wallToInstant(wall: string, timeZone: string): Date {
  const naive = partsToNaiveMs(parseWall(wall));
  // Offsets a day either side cover both sides of any DST transition.
  const day = 86400000;
  const candidates = [naive - zoneOffsetMs(naive - day, timeZone), naive - zoneOffsetMs(naive + day, timeZone)];
  const valid = candidates.filter((t) => zoneOffsetMs(t, timeZone) === naive - t);
  return new Date(valid.length ? Math.min(...valid) : Math.max(...candidates));
}

/**
 * The UTC offset at the end of an event time ("+01:00"), or "". The model writes one
 * only for the second pass of a DST fall-back, which the wall time alone cannot name
 * (a wall time that happens twice means the first).
 */
export function eventTimeOffset(time: string): string {
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?([+-]\d{2}:\d{2}(?::\d{2})?|Z)$/i.exec(time);
  return m ? m[1] : "";
}

/**
 * Instant → event time in `timeZone` as the model keeps it: "YYYY-MM-DDTHH:MM", with
 * the UTC offset appended only when that wall time happens twice and the instant is
 * the second.
 */
export function instantToEventTime(instant: Date | string, timeZone: string): string {
  const d = typeof instant === "string" ? new Date(instant) : instant;
  const wall = instantToWall(d, timeZone);
  const minute = Math.floor(d.getTime() / 60000) * 60000;
  if (wallToInstant(wall, timeZone).getTime() === minute) return wall;
  const offset = Math.round(zoneOffsetMs(minute, timeZone) / 60000);
  const abs = Math.abs(offset);
  return `${wall}${offset < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Add whole days to a "YYYY-MM-DD" date. */
export function addDays(date: string, days: number): string {
  const p = parseWall(date);
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Exclusive all-day end (backend) → inclusive last day (shown to the user). */
export function exclusiveToInclusiveEnd(endExclusive: string): string {
  return addDays(endExclusive, -1);
}

/** Inclusive last day (user) → exclusive all-day end (backend). */
export function inclusiveToExclusiveEnd(endInclusive: string): string {
  return addDays(endInclusive, 1);
}

/** Shift a wall time by a number of minutes (pure calendar arithmetic, no zone). */
export function shiftWall(wall: string, minutes: number): string {
  return naiveMsToWall(partsToNaiveMs(parseWall(wall)) + minutes * 60000);
}

/** b − a in minutes, both wall times (no zone). */
export function wallDiffMinutes(a: string, b: string): number {
  return Math.round((partsToNaiveMs(parseWall(b)) - partsToNaiveMs(parseWall(a))) / 60000);
}

/** Date in the runtime's local zone → "YYYY-MM-DD". */
export function localDateString(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The next full hour after `now` (local). Exactly on the hour → the following hour. */
export function nextFullHour(now: Date): Date {
  const d = new Date(now.getTime());
  d.setMinutes(0, 0, 0);
  d.setHours(d.getHours() + 1);
  return d;
}
