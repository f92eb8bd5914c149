import type { EventInput, Importance, Occurrence, RecurrenceInput, ShowAs } from "../platform";
import {
  addDays,
  eventTimeOffset,
  exclusiveToInclusiveEnd,
  inclusiveToExclusiveEnd,
  instantToEventTime,
  instantToWall,
  localDateString,
  shiftWall,
  wallDiffMinutes,
} from "./time";

export type Repeat = "none" | "daily" | "weekly" | "monthly" | "yearly" | "custom";

export const REPEAT_OPTIONS: ReadonlyArray<[Repeat, string]> = [
  ["none", "Does not repeat"],
  ["daily", "Daily"],
  ["weekly", "Weekly"],
  ["monthly", "Monthly"],
  ["yearly", "Yearly"],
  ["custom", "Custom…"],
];

const PRESETS: Record<Exclude<Repeat, "none" | "custom">, string> = {
  daily: "FREQ=DAILY",
  weekly: "FREQ=WEEKLY",
  monthly: "FREQ=MONTHLY",
  yearly: "FREQ=YEARLY",
};

/** The editor's form state: everything as the user sees it (all-day end inclusive). */
export type FormState = {
  title: string;
  allDay: boolean;
  startDate: string; // YYYY-MM-DD
  startTime: string; // HH:MM
  endDate: string; // YYYY-MM-DD, inclusive for all-day events
  endTime: string; // HH:MM
  timeZone: string;
  calendarId: string;
  repeat: Repeat;
  rrule: string;
  location: string;
  description: string;
  showAs: ShowAs;
  importance: Importance;
  categories: string; // comma separated
  /**
   * The exact start and end the form was filled from. One in the second pass of a DST
   * fall-back carries its UTC offset, which the date and time fields cannot show; it
   * is sent back while those fields (and the zone) still say the same.
   */
  exact: { start: string; end: string; timeZone: string } | null;
};

export function repeatFromRrule(rrule: string | null | undefined): Repeat {
  const r = (rrule || "").trim().toUpperCase().replace(/^RRULE:/, "");
  if (!r) return "none";
  for (const [k, v] of Object.entries(PRESETS)) if (r === v) return k as Repeat;
  return "custom";
}

/** The RRULE text to show after the user picks `repeat` (custom keeps the current text). */
export function rruleForRepeat(repeat: Repeat, current: string): string {
  if (repeat === "none") return "";
  if (repeat === "custom") return current;
  return PRESETS[repeat];
}

export function parseCategories(s: string): string[] {
  return s
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

const datePart = (s: string) => s.slice(0, 10);
const timePart = (s: string, fallback: string) => (s.length >= 16 ? s.slice(11, 16) : fallback);

export function inputToForm(input: EventInput): FormState {
  const rrule = input.recurrence?.rrule ?? "";
  return {
    title: input.title,
    allDay: input.allDay,
    startDate: datePart(input.start),
    startTime: timePart(input.start, "09:00"),
    endDate: input.allDay ? exclusiveToInclusiveEnd(datePart(input.end)) : datePart(input.end),
    endTime: timePart(input.end, "10:00"),
    timeZone: input.timeZone,
    calendarId: input.calendarId,
    repeat: repeatFromRrule(rrule),
    rrule,
    location: input.location,
    description: input.description,
    showAs: input.showAs,
    importance: input.importance,
    categories: input.categories.join(", "),
    exact: input.allDay ? null : { start: input.start, end: input.end, timeZone: input.timeZone },
  };
}

/** `wall` from the form, or the exact time it was filled from if that is the same. */
function keepExact(wall: string, exact: string | undefined, f: FormState): string {
  if (!exact || f.exact?.timeZone !== f.timeZone || !eventTimeOffset(exact)) return wall;
  return exact.slice(0, 16) === wall ? exact : wall;
}

/** The second-pass offsets the form keeps ("" for none; see `FormState.exact`). */
export function keptOffsets(f: FormState): { start: string; end: string } {
  if (f.allDay) return { start: "", end: "" };
  return {
    start: eventTimeOffset(keepExact(`${f.startDate}T${f.startTime}`, f.exact?.start, f)),
    end: eventTimeOffset(keepExact(`${f.endDate}T${f.endTime}`, f.exact?.end, f)),
  };
}

/**
 * Form → EventInput. `base` carries the existing exdates/rdates so editing a
 * series does not drop them.
 */
export function formToInput(f: FormState, base: RecurrenceInput | null): EventInput {
  const recurrence: RecurrenceInput | null =
    f.repeat === "none"
      ? null
      : { rrule: f.rrule.trim(), exdates: base?.exdates ?? [], rdates: base?.rdates ?? [] };
  return {
    calendarId: f.calendarId,
    title: f.title,
    allDay: f.allDay,
    start: f.allDay ? f.startDate : keepExact(`${f.startDate}T${f.startTime}`, f.exact?.start, f),
    end: f.allDay ? inclusiveToExclusiveEnd(f.endDate) : keepExact(`${f.endDate}T${f.endTime}`, f.exact?.end, f),
    timeZone: f.timeZone,
    recurrence,
    location: f.location,
    description: f.description,
    showAs: f.showAs,
    importance: f.importance,
    categories: parseCategories(f.categories),
  };
}

/** The form's fields as the user names them, each with the state it is made of. */
const FIELD_GROUPS: ReadonlyArray<[string, ReadonlyArray<keyof FormState>]> = [
  ["title", ["title"]],
  ["time", ["allDay", "startDate", "startTime", "endDate", "endTime", "timeZone", "exact"]],
  ["calendar", ["calendarId"]],
  ["repeat", ["repeat", "rrule"]],
  ["location", ["location"]],
  ["description", ["description"]],
  ["show as", ["showAs"]],
  ["importance", ["importance"]],
  ["categories", ["categories"]],
];

const sameIn = (a: FormState, b: FormState, keys: ReadonlyArray<keyof FormState>) =>
  keys.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));

/**
 * The form to save when the event may have changed since the editor opened (a sync
 * brought someone's change): a field the user left as it opened takes `fresh`, the
 * event as it is now; one the user changed keeps the user's. Sent whole from the
 * opening copy instead, the editor undid the other change — at the provider too, as
 * a change made here. `clashes` names the fields changed on both sides, differently:
 * the caller asks before overwriting them.
 */
export function mergeWithFresh(
  initial: FormState,
  mine: FormState,
  fresh: FormState,
): { form: FormState; clashes: string[] } {
  const form = { ...mine };
  const clashes: string[] = [];
  for (const [name, keys] of FIELD_GROUPS) {
    if (sameIn(mine, initial, keys)) {
      for (const k of keys) (form as Record<string, unknown>)[k] = fresh[k];
    } else if (!sameIn(fresh, initial, keys) && !sameIn(fresh, mine, keys)) {
      clashes.push(name);
    }
  }
  return { form, clashes };
}

/** A new-event form for the range [start, end) (end exclusive, as FullCalendar gives it). */
export function blankForm(opts: {
  start: Date;
  end: Date;
  allDay: boolean;
  timeZone: string;
  calendarId: string;
}): FormState {
  const { start, end, allDay, timeZone, calendarId } = opts;
  const s = allDay ? `${localDateString(start)}T09:00` : instantToWall(start, timeZone);
  const e = allDay ? `${exclusiveToInclusiveEnd(localDateString(end))}T10:00` : instantToWall(end, timeZone);
  return {
    title: "",
    allDay,
    startDate: datePart(s),
    startTime: timePart(s, "09:00"),
    endDate: datePart(e),
    endTime: timePart(e, "10:00"),
    timeZone,
    calendarId,
    repeat: "none",
    rrule: "",
    location: "",
    description: "",
    showAs: "busy",
    importance: "normal",
    categories: "",
    exact: null,
  };
}

/** Start/end of an occurrence as wall times ("YYYY-MM-DDTHH:MM") or dates (all-day, end exclusive). */
export function occurrenceWallRange(o: Pick<Occurrence, "start" | "end" | "allDay">, timeZone: string) {
  if (o.allDay) return { start: datePart(o.start), end: datePart(o.end) };
  return { start: instantToWall(o.start, timeZone), end: instantToWall(o.end, timeZone) };
}

/** Replace the form's start/end with the clicked occurrence's own times. */
export function withOccurrenceTimes(f: FormState, o: Pick<Occurrence, "start" | "end" | "allDay">): FormState {
  const r = occurrenceWallRange(o, f.timeZone);
  return {
    ...f,
    allDay: o.allDay,
    startDate: datePart(r.start),
    startTime: o.allDay ? f.startTime : timePart(r.start, f.startTime),
    endDate: o.allDay ? exclusiveToInclusiveEnd(r.end) : datePart(r.end),
    endTime: o.allDay ? f.endTime : timePart(r.end, f.endTime),
    exact: o.allDay
      ? null
      : { start: instantToEventTime(o.start, f.timeZone), end: instantToEventTime(o.end, f.timeZone), timeZone: f.timeZone },
  };
}

/**
 * Editing or moving a whole series from one of its occurrences: the user changed
 * that occurrence from `occStart`/`occEnd` to `newStart`/`newEnd` (all wall times
 * or dates, all-day ends exclusive). Apply the same day shift, time of day and
 * duration to the series' own start so that earlier occurrences are not lost.
 */
export function rebaseOnSeries(
  series: { start: string; end: string; allDay: boolean },
  occStart: string,
  occEnd: string,
  newStart: string,
  newEnd: string,
  newAllDay: boolean,
): { start: string; end: string } {
  if (newStart === occStart && newEnd === occEnd && newAllDay === series.allDay) {
    return { start: series.start, end: series.end };
  }
  const dayShift = Math.round(wallDiffMinutes(datePart(occStart), datePart(newStart)) / 1440);
  const startDate = addDays(datePart(series.start), dayShift);
  if (newAllDay) {
    const days = Math.round(wallDiffMinutes(datePart(newStart), datePart(newEnd)) / 1440);
    return { start: startDate, end: addDays(startDate, Math.max(1, days)) };
  }
  const start = `${startDate}T${timePart(newStart, "09:00")}`;
  return { start, end: shiftWall(start, wallDiffMinutes(newStart, newEnd)) };
}

/** Whole days from the date of `from` to the date of `to` (wall times or dates). */
export function dayShift(from: string, to: string): number {
  return Math.round(wallDiffMinutes(datePart(from), datePart(to)) / 1440);
}

const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/**
 * A series' rule for all its occurrences moved `days` days ("All occurrences" of a
 * Monday dragged to Tuesday): the weekdays and days of the month it names, and its
 * UNTIL, move too. Left as it was, the rule kept making Mondays and the new start
 * became one extra Tuesday (RFC 5545: the start is always an occurrence). A rule
 * whose days cannot move so (a numbered weekday, a day near a month's end, BYSETPOS,
 * BYYEARDAY, BYWEEKNO) is refused with the reason: its repeat rule is the place.
 */
export function shiftRuleByDays(rrule: string, days: number): string {
  if (days === 0) return rrule;
  const refuse = (why: string) =>
    new Error(
      `The series repeats ${why}, which cannot simply move ${Math.abs(days)} day(s); change its repeat rule in the editor instead.`,
    );
  const body = rrule.trim().replace(/^RRULE:/i, "");
  const parts = body.split(";").map((part) => {
    const eq = part.indexOf("=");
    if (eq < 0) return part;
    const key = part.slice(0, eq).trim().toUpperCase();
    const value = part.slice(eq + 1).trim();
    switch (key) {
      case "BYDAY":
        return `${key}=${value
          .split(",")
          .map((d) => {
            const m = /^([+-]?\d+)?(MO|TU|WE|TH|FR|SA|SU)$/i.exec(d.trim());
            if (!m) throw refuse(`on "${d}"`);
            if (m[1]) throw refuse(`on a numbered weekday (${d})`);
            const i = WEEKDAYS.indexOf(m[2].toUpperCase());
            return WEEKDAYS[(((i + days) % 7) + 7) % 7];
          })
          .join(",")}`;
      case "BYMONTHDAY":
        return `${key}=${value
          .split(",")
          .map((d) => {
            const n = Number(d);
            if (!Number.isInteger(n) || n < 1 || n + days < 1 || n + days > 28) throw refuse(`on day ${d} of the month`);
            return String(n + days);
          })
          .join(",")}`;
      case "BYSETPOS":
      case "BYYEARDAY":
      case "BYWEEKNO":
        throw refuse(`by ${key}`);
      case "UNTIL": {
        const m = /^(\d{4})(\d{2})(\d{2})(.*)$/.exec(value);
        if (!m) return part;
        const date = addDays(`${m[1]}-${m[2]}-${m[3]}`, days).replaceAll("-", "");
        return `${key}=${date}${m[4]}`;
      }
      default:
        return part;
    }
  });
  return parts.join(";");
}
