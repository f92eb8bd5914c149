/** Replace every character outside [A-Za-z0-9_-] with "_". */
export function sanitizeId(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** DOM id of a rendered occurrence: occ-<eventId>-<originalStart | "single">. */
export function occurrenceDomId(eventId: string, originalStart: string | null): string {
  return sanitizeId(`occ-${eventId}-${originalStart ?? "single"}`);
}
