import type { EventInput as FcEventInput } from "@fullcalendar/core";
import type { Calendar, Occurrence } from "../platform";
import { occurrenceDomId } from "./ids";

export const FALLBACK_COLOR = "#3b82f6";

/** Unique FullCalendar id of an occurrence (also its DOM id). */
export function occurrenceKey(o: Occurrence): string {
  return occurrenceDomId(o.eventId, o.originalStart);
}

/** Pick black or white text for a background colour "#rrggbb". */
export function textColorFor(bg: string): string {
  const m = /^#?([0-9a-f]{6})$/i.exec(bg.trim());
  if (!m) return "#ffffff";
  const n = parseInt(m[1], 16);
  const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
  const luma = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  return luma > 0.6 ? "#111111" : "#ffffff";
}

/** Backend occurrence → FullCalendar event input. */
export function occurrenceToEvent(o: Occurrence, calendars: ReadonlyMap<string, Calendar>): FcEventInput {
  const cal = calendars.get(o.calendarId);
  const color = cal?.color || FALLBACK_COLOR;
  return {
    id: occurrenceKey(o),
    title: o.title,
    // timed: UTC RFC 3339 instants; all-day: YYYY-MM-DD with exclusive end
    start: o.start,
    end: o.end,
    allDay: o.allDay,
    backgroundColor: color,
    borderColor: color,
    textColor: textColorFor(color),
    editable: cal ? cal.canEdit : true,
    classNames: [`show-as-${o.showAs}`, `importance-${o.importance}`],
    extendedProps: { occurrence: o },
  };
}
