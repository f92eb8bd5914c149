//! Who a synced event is with, for the export: `ORGANIZER`, `ATTENDEE` (RFC 5545
//! §3.8.4) and its online meeting as `CONFERENCE` (RFC 7986). Left out, an export
//! kept as a backup or opened in another calendar lost who a meeting was with and
//! how to join it. The import does not read them back: an imported event with
//! attendees, pushed to an account, would invite them.

use almanac_model::{Attendee, AttendeeKind, EventMeeting, MeetingProvider, Person, Response};

/// A parameter value as a quoted string: RFC 5545 allows no `"` or control
/// character in one (a provider's display name may hold either).
fn quoted(v: &str) -> String {
    let clean: String = v.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// `mailto:` with the address; control characters (never in an address) dropped.
fn mailto(p: &Person) -> Option<String> {
    let address: String = p.email.chars().filter(|c| !c.is_control()).collect();
    (!address.trim().is_empty()).then(|| format!("mailto:{}", address.trim()))
}

fn with_name(name: &str, mut params: Vec<String>) -> Vec<String> {
    if !name.trim().is_empty() {
        params.insert(0, format!("CN={}", quoted(name.trim())));
    }
    params
}

fn attendee(a: &Attendee) -> Option<String> {
    let partstat = match a.response {
        Response::Accepted | Response::Organizer => "ACCEPTED",
        Response::Declined => "DECLINED",
        Response::Tentative => "TENTATIVE",
        Response::None => "NEEDS-ACTION",
    };
    let mut params = match a.kind {
        AttendeeKind::Required => vec!["ROLE=REQ-PARTICIPANT".to_owned()],
        AttendeeKind::Optional => vec!["ROLE=OPT-PARTICIPANT".to_owned()],
        AttendeeKind::Resource => vec!["CUTYPE=RESOURCE".to_owned()],
    };
    params.push(format!("PARTSTAT={partstat}"));
    let params = with_name(&a.person.name, params);
    Some(format!(
        "ATTENDEE;{}:{}",
        params.join(";"),
        mailto(&a.person)?
    ))
}

/// The content lines for `m` (none for an event of this computer).
pub fn lines(m: &EventMeeting) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(o) = &m.organizer {
        if let Some(to) = mailto(o) {
            let params = with_name(&o.name, Vec::new());
            out.push(if params.is_empty() {
                format!("ORGANIZER:{to}")
            } else {
                format!("ORGANIZER;{}:{to}", params.join(";"))
            });
        }
    }
    out.extend(m.attendees.iter().filter_map(attendee));
    // Only a link Almanac would open itself (https with a host): a provider's text.
    if let Some(link) = m.online_meeting.as_ref().and_then(|o| o.web_link()) {
        let label = match m.online_meeting.as_ref().map(|o| o.provider) {
            Some(MeetingProvider::Teams) => "Microsoft Teams",
            Some(MeetingProvider::Meet) => "Google Meet",
            _ => "Online meeting",
        };
        out.push(format!(
            "CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL={}:{link}",
            quoted(label)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use almanac_model::OnlineMeeting;

    fn person(name: &str, email: &str) -> Person {
        Person {
            email: email.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_meeting_goes_out_with_its_people_and_link() {
        let m = EventMeeting::new(
            Some(person("Alex Kim", "alex@example.com")),
            vec![
                Attendee {
                    person: person("Ana \"the\" Silva\r\nX-EVIL:1", "ana@customer.example"),
                    kind: AttendeeKind::Required,
                    response: Response::Accepted,
                },
                Attendee {
                    person: person("", "bo@example.com"),
                    kind: AttendeeKind::Optional,
                    response: Response::None,
                },
                Attendee {
                    person: person("Room 4.12", "room-4@resource.example"),
                    kind: AttendeeKind::Resource,
                    response: Response::Tentative,
                },
                Attendee {
                    person: person("No address", ""),
                    kind: AttendeeKind::Required,
                    response: Response::Declined,
                },
            ],
            Some(OnlineMeeting {
                provider: MeetingProvider::Teams,
                join_url: "https://teams.microsoft.com/l/meetup-join/19%3ameeting".into(),
                conference_id: None,
                toll_number: None,
                pin: None,
            }),
        );
        assert_eq!(
            lines(&m),
            [
                "ORGANIZER;CN=\"Alex Kim\":mailto:alex@example.com",
                "ATTENDEE;CN=\"Ana the SilvaX-EVIL:1\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:ana@customer.example",
                "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:bo@example.com",
                "ATTENDEE;CN=\"Room 4.12\";CUTYPE=RESOURCE;PARTSTAT=TENTATIVE:mailto:room-4@resource.example",
                "CONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=\"Microsoft Teams\":https://teams.microsoft.com/l/meetup-join/19%3ameeting",
            ]
        );
    }

    #[test]
    fn a_link_that_is_not_https_stays_out() {
        let m = EventMeeting::new(
            None,
            Vec::new(),
            Some(OnlineMeeting {
                provider: MeetingProvider::Other,
                join_url: "javascript:alert(1)".into(),
                conference_id: None,
                toll_number: None,
                pin: None,
            }),
        );
        assert!(lines(&m).is_empty());
    }
}
