use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Someone on an event: an e-mail address and, when known, a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AttendeeKind {
    #[default]
    Required,
    Optional,
    /// A room or equipment mailbox.
    Resource,
}

/// An attendee's answer. Graph and Google name them differently; this is the union.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Response {
    /// Not answered yet (Graph `none`/`notResponded`, Google `needsAction`).
    #[default]
    None,
    Organizer,
    Accepted,
    Tentative,
    Declined,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub person: Person,
    pub kind: AttendeeKind,
    pub response: Response,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum MeetingProvider {
    Teams,
    Meet,
    Other,
}

/// A video meeting attached to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnlineMeeting {
    pub provider: MeetingProvider,
    pub join_url: String,
    pub conference_id: Option<String>,
    /// Dial-in number (Teams toll number, Meet phone entry point).
    pub toll_number: Option<String>,
    /// PIN for the dial-in, when the provider gives one.
    pub pin: Option<String>,
}

/// The longest join link Almanac opens (browsers cut URLs near 2 KB in places; Teams'
/// links are about 300 characters).
const MAX_LINK: usize = 2048;

impl OnlineMeeting {
    /// The join link, when it is one Almanac opens in the browser: an absolute `https`
    /// address with a host and no user part, printable ASCII only (providers send
    /// links percent-encoded; a space, a control or a bidi character is not a link
    /// anyone meant), at most 2 KB. The link comes from the provider — anyone who
    /// invites you writes it — so anything else (`file:`, `javascript:`, a custom
    /// scheme that starts a program) stays text.
    pub fn web_link(&self) -> Option<&str> {
        let url = self.join_url.as_str();
        let scheme = url.get(..8)?;
        let rest = &url[8..];
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let ok = scheme.eq_ignore_ascii_case("https://")
            && url.len() <= MAX_LINK
            && host_end > 0
            && !rest[..host_end].contains('@')
            && url.bytes().all(|b| b.is_ascii_graphic());
        ok.then_some(url)
    }
}

/// Who a synced event is with and how to join it, as its provider last said. The
/// editor shows it read-only: an edit in Almanac changes none of it (the push keeps
/// what the provider has). Empty for an event of this computer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EventMeeting {
    pub organizer: Option<Person>,
    pub attendees: Vec<Attendee>,
    pub online_meeting: Option<OnlineMeeting>,
    /// The online meeting's link is one Almanac opens ([`OnlineMeeting::web_link`]).
    pub joinable: bool,
}

impl EventMeeting {
    pub fn new(
        organizer: Option<Person>,
        attendees: Vec<Attendee>,
        online_meeting: Option<OnlineMeeting>,
    ) -> Self {
        let joinable = online_meeting
            .as_ref()
            .is_some_and(|m| m.web_link().is_some());
        Self {
            organizer,
            attendees,
            online_meeting,
            joinable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(url: &str) -> Option<String> {
        OnlineMeeting {
            provider: MeetingProvider::Other,
            join_url: url.into(),
            conference_id: None,
            toll_number: None,
            pin: None,
        }
        .web_link()
        .map(str::to_owned)
    }

    #[test]
    fn only_an_https_address_with_a_host_is_a_web_link() {
        for ok in [
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d",
            "https://meet.google.com/abc-defg-hij",
            "HTTPS://zoom.us/j/123?pwd=x",
            "https://example.com",
        ] {
            assert_eq!(link(ok).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "http://meet.example.com/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "zoommtg://zoom.us/join?confno=1",
            "https://",
            "https:///path",
            "https://user:pass@evil.example/",
            "https://meet.google.com/abc def",
            "https://meet.google.com/abc\ndef",
            "https://meet.google.com/\u{202e}x",
        ] {
            assert_eq!(link(bad), None, "{bad:?}");
        }
        assert_eq!(
            link(&format!("https://x.example/{}", "a".repeat(2100))),
            None
        );
    }
}
