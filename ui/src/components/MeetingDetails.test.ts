// Markup checks for a synced event's meeting details (static render).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { Attendee, EventMeeting } from "../platform/bindings";
import { MeetingDetails } from "./MeetingDetails";

const person = (i: number): Attendee => ({
  person: { email: `p${i}@customer.example`, name: `Person ${i}` },
  kind: "required",
  response: "accepted",
});
const teams = { provider: "teams" as const, joinUrl: "https://teams.microsoft.com/l/meetup-join/x", conferenceId: null, tollNumber: null, pin: null };
const render = (m: EventMeeting) => renderToStaticMarkup(createElement(MeetingDetails, { meeting: m, onJoin: async () => {} }));

describe("MeetingDetails", () => {
  it("offers Join for a web link and lists a short list open", () => {
    const html = render({ organizer: null, attendees: [1, 2, 3].map(person), onlineMeeting: teams, joinable: true });
    expect(html).toMatch(/<button id="ev-join"[^>]*>Join Teams meeting<\/button>/);
    expect(html).toMatch(/<details class="meeting-people" open="">/);
    expect(html).toContain("3 people: 3 accepted");
    expect(html).not.toContain("ev-meeting-link");
  });

  it("shows another link as text, not as a button", () => {
    const app = { ...teams, provider: "other" as const, joinUrl: "zoommtg://zoom.us/join?confno=1" };
    const html = render({ organizer: null, attendees: [], onlineMeeting: app, joinable: false });
    expect(html).not.toContain("ev-join");
    expect(html).toMatch(/<span id="ev-meeting-link"[^>]*>zoommtg:\/\/zoom.us\/join\?confno=1<\/span>/);
  });

  it("keeps a long list behind its summary line", () => {
    const html = render({ organizer: null, attendees: [1, 2, 3, 4, 5, 6, 7].map(person), onlineMeeting: null, joinable: false });
    expect(html).toMatch(/<details class="meeting-people">/);
    expect(html).toContain("7 people: 7 accepted");
    expect(html.match(/<li /g)?.length).toBe(7);
  });
});
