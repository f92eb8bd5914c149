import { useState } from "react";
import type { EventMeeting } from "../platform";
import { answersText, attendeesInOrder, dialInText, joinText, personText, responseText } from "../lib/meeting";

/** Up to this many attendees are listed open; more are one click away. */
const OPEN_UP_TO = 6;

/**
 * Who a synced event is with and how to join it, read-only: the organizer, the
 * attendees with their answers, and the online meeting (a Join button when its link is
 * a web address; otherwise the link as text to copy).
 */
export function MeetingDetails(props: { meeting: EventMeeting; onJoin: () => Promise<void> }) {
  const { meeting } = props;
  const [joining, setJoining] = useState(false);
  const om = meeting.onlineMeeting;
  const people = attendeesInOrder(meeting.attendees);
  const dialIn = dialInText(meeting);
  return (
    <section id="ev-meeting" className="meeting" aria-label="Meeting">
      {om && (
        <div className="meeting-online">
          {meeting.joinable ? (
            <button
              id="ev-join"
              type="button"
              className="primary"
              disabled={joining}
              title={om.joinUrl}
              onClick={() => {
                setJoining(true);
                void props.onJoin().finally(() => setJoining(false));
              }}
            >
              {joinText(om.provider)}
            </button>
          ) : (
            <span id="ev-meeting-link" className="meeting-link" title="Not a web address: Almanac does not open it">
              {om.joinUrl}
            </span>
          )}
          {dialIn && (
            <span id={om.tollNumber ? "ev-dial-in" : "ev-meeting-id"} className="hint">
              {dialIn}
            </span>
          )}
        </div>
      )}
      {meeting.organizer && (
        <p id="ev-organizer" className="meeting-line">
          <span className="meeting-label">Organizer</span> {personText(meeting.organizer)}
        </p>
      )}
      {people.length > 0 && (
        // A short list shows at once; a long one (a town hall) behind its summary line.
        <details className="meeting-people" open={people.length <= OPEN_UP_TO}>
          <summary id="ev-answers" className="meeting-line">
            <span className="meeting-label">Attendees</span> {answersText(people) || `${people.length} rooms or resources`}
          </summary>
          <ul id="ev-attendees" className="meeting-attendees">
            {people.map((a, i) => (
              // Two attendees may share an address, or have none: the place keys them.
              <li key={`${i}:${a.person.email}`} data-response={a.response}>
                <span className="meeting-person">{personText(a.person)}</span>
                <span className="meeting-response">
                  {a.kind === "resource" ? "Room / resource" : a.kind === "optional" ? `Optional · ${responseText(a.response)}` : responseText(a.response)}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
