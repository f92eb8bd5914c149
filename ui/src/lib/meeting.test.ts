import { describe, expect, it } from "vitest";
import type { Attendee, AttendeeKind, EventMeeting, Response } from "../platform";
import { answersText, attendeesInOrder, dialInText, hasMeeting, joinText, personText, responseText } from "./meeting";

const att = (email: string, response: Response, kind: AttendeeKind = "required", name = ""): Attendee => ({
  person: { email, name },
  kind,
  response,
});

const empty: EventMeeting = { organizer: null, attendees: [], onlineMeeting: null, joinable: false };

describe("meeting details", () => {
  it("shows nothing for an event of this computer", () => {
    expect(hasMeeting(empty)).toBe(false);
    expect(hasMeeting(undefined)).toBe(false);
    expect(hasMeeting({ ...empty, attendees: [att("a@x", "none")] })).toBe(true);
    expect(hasMeeting({ ...empty, organizer: { email: "o@x", name: "" } })).toBe(true);
  });

  it("names a person by name and address, or the address alone", () => {
    expect(personText({ email: "ana@customer.example", name: "Ana Silva" })).toBe("Ana Silva <ana@customer.example>");
    expect(personText({ email: "ana@customer.example", name: " " })).toBe("ana@customer.example");
    expect(personText({ email: "ana@customer.example", name: "ana@customer.example" })).toBe("ana@customer.example");
  });

  it("counts the answers of the people invited, not of the rooms", () => {
    const list = [
      att("o@x", "organizer"),
      att("a@x", "accepted"),
      att("b@x", "declined", "optional"),
      att("c@x", "none"),
      att("d@x", "tentative"),
      att("room@x", "accepted", "resource"),
    ];
    expect(answersText(list)).toBe("5 people: 2 accepted, 1 tentative, 1 declined, 1 no answer");
    expect(answersText([att("a@x", "none")])).toBe("1 person: 1 no answer");
    expect(answersText([att("room@x", "accepted", "resource")])).toBe("");
    expect(responseText("none")).toBe("No answer");
  });

  it("lists required people, then optional ones, then rooms, each in the provider's order", () => {
    const list = [att("room@x", "none", "resource"), att("b@x", "none", "optional"), att("a@x", "none"), att("c@x", "none")];
    expect(attendeesInOrder(list).map((a) => a.person.email)).toEqual(["a@x", "c@x", "b@x", "room@x"]);
  });

  it("says which kind of meeting it joins and how to dial in", () => {
    expect(joinText("teams")).toBe("Join Teams meeting");
    expect(joinText("meet")).toBe("Join Google Meet");
    expect(joinText("other")).toBe("Join online meeting");
    const m: EventMeeting = {
      ...empty,
      onlineMeeting: { provider: "teams", joinUrl: "https://t", conferenceId: "123 456#", tollNumber: "+1 555 0100", pin: null },
    };
    expect(dialInText(m)).toBe("Dial-in: +1 555 0100, conference ID 123 456#");
    const meet: EventMeeting = {
      ...empty,
      onlineMeeting: { provider: "meet", joinUrl: "https://m", conferenceId: "abc-defg-hij", tollNumber: null, pin: null },
    };
    expect(dialInText(meet)).toBe("Meeting ID abc-defg-hij");
    expect(dialInText({ ...empty, onlineMeeting: { ...meet.onlineMeeting!, conferenceId: null } })).toBe("");
    expect(dialInText(empty)).toBe("");
  });
});
