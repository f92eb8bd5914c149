import type { Attendee, EventMeeting, MeetingProvider, Person, Response } from "../platform";

/** Whether there is anything to show about who an event is with or how to join it. */
export function hasMeeting(m: EventMeeting | null | undefined): m is EventMeeting {
  return !!m && (m.organizer !== null || m.attendees.length > 0 || m.onlineMeeting !== null);
}

/** "Name <address>", or the address alone when there is no name. */
export function personText(p: Person): string {
  const name = p.name.trim();
  return name && name !== p.email ? `${name} <${p.email}>` : p.email;
}

const RESPONSE: Record<Response, string> = {
  organizer: "Organizer",
  accepted: "Accepted",
  tentative: "Tentative",
  declined: "Declined",
  none: "No answer",
};

export function responseText(r: Response): string {
  return RESPONSE[r];
}

/** People first (required, then optional), rooms and equipment last; the list order within each. */
export function attendeesInOrder(list: readonly Attendee[]): Attendee[] {
  const rank = (a: Attendee) => (a.kind === "required" ? 0 : a.kind === "optional" ? 1 : 2);
  return list.map((a, i) => [a, i] as const).sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([a]) => a);
}

/**
 * "5 people: 2 accepted, 1 tentative, 1 declined, 1 no answer" — the answers of the
 * people invited (rooms and equipment are not counted), most useful first.
 */
export function answersText(list: readonly Attendee[]): string {
  const people = list.filter((a) => a.kind !== "resource");
  if (people.length === 0) return "";
  const count = (r: Response) => people.filter((a) => a.response === r).length;
  const parts = (["accepted", "tentative", "declined", "none"] as const)
    .map((r) => [count(r) + (r === "accepted" ? count("organizer") : 0), r === "none" ? "no answer" : r] as const)
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`);
  return `${people.length} ${people.length === 1 ? "person" : "people"}: ${parts.join(", ")}`;
}

export function joinText(p: MeetingProvider): string {
  return p === "teams" ? "Join Teams meeting" : p === "meet" ? "Join Google Meet" : "Join online meeting";
}

/**
 * How to join by phone, or failing that the meeting's id: "Dial-in: +1 555 0100,
 * conference ID 123 456#, PIN 42", "Meeting ID abc-defg-hij" (a Meet code), or "".
 */
export function dialInText(m: EventMeeting): string {
  const om = m.onlineMeeting;
  if (!om) return "";
  if (!om.tollNumber) return om.conferenceId ? `Meeting ID ${om.conferenceId}` : "";
  const rest = [om.conferenceId && `conference ID ${om.conferenceId}`, om.pin && `PIN ${om.pin}`].filter(Boolean);
  return `Dial-in: ${[om.tollNumber, ...rest].join(", ")}`;
}
