//! The tray's "next meeting" line: the first timed occurrence that starts within the
//! next 24 hours, refreshed every 30 s and whenever the events change; and its Join
//! item, which opens that meeting's online meeting.

use std::sync::Mutex;
use std::time::Duration;

use almanac_model::time::parse_instant;
use almanac_model::Occurrence;
use chrono::{DateTime, Local, TimeZone, Utc};
use tauri::{AppHandle, Manager};

/// How far ahead the tray looks.
const LOOKAHEAD_HOURS: i64 = 24;
/// How often the line is brought up to date (a meeting passes, the next one shows).
const REFRESH: Duration = Duration::from_secs(30);
/// The longest title the line shows before cutting it.
const MAX_TITLE: usize = 40;

/// The line for `next`, said in the zone of `now`: "Next: 15:00 Customer call",
/// "Next: tomorrow 09:30 Standup", or that there is none.
pub fn line<Z: TimeZone>(next: Option<&Occurrence>, now: &DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    let Some((o, start)) = next.and_then(|o| Some((o, parse_instant(&o.start)?))) else {
        return format!("No meetings in the next {LOOKAHEAD_HOURS} hours");
    };
    let start = start.with_timezone(&now.timezone());
    let day = if start.date_naive() == now.date_naive() {
        ""
    } else {
        "tomorrow "
    };
    format!(
        "Next: {day}{} {}",
        start.format("%H:%M"),
        menu_text(&o.title)
    )
}

/// The Join item for `next` (with whether its online meeting is one Almanac opens):
/// its text, and whether it can be clicked.
pub fn join_item(next: Option<(&Occurrence, bool)>) -> (String, bool) {
    match next {
        Some((o, true)) => (format!("Join {}", menu_text(&o.title)), true),
        _ => ("No meeting link to join".into(), false),
    }
}

/// The event the Join item opens: the next meeting, when it has a link to open.
#[derive(Debug, Default)]
pub struct JoinTarget(Mutex<Option<String>>);

/// A title as a menu label: on one line, cut to [`MAX_TITLE`] characters, and `&`
/// doubled (a single one marks the menu's keyboard shortcut). The title comes from
/// whoever sent the invitation.
fn menu_text(title: &str) -> String {
    let flat: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    let mut out: String = flat.chars().take(MAX_TITLE).collect();
    if flat.chars().count() > MAX_TITLE {
        out = format!("{}…", out.trim_end());
    }
    out.replace('&', "&&")
}

/// Reads the next meeting and puts it in the tray (nothing when there is no tray).
pub fn refresh(app: &AppHandle) {
    let now = Utc::now();
    let (next, joinable) = {
        let state = app.state::<crate::AppState>();
        let Ok(mut store) = state.store.lock() else {
            return;
        };
        let next = store
            .next_occurrence(now, now + chrono::Duration::hours(LOOKAHEAD_HOURS))
            .ok()
            .flatten();
        let joinable = next.as_ref().is_some_and(|o| {
            store
                .get_event(&o.event_id)
                .is_ok_and(|e| e.meeting.joinable)
        });
        (next, joinable)
    };
    if let Some(target) = app.try_state::<JoinTarget>() {
        if let Ok(mut id) = target.0.lock() {
            *id = next
                .as_ref()
                .filter(|_| joinable)
                .map(|o| o.event_id.clone());
        }
    }
    let text = line(next.as_ref(), &now.with_timezone(&Local));
    let join = join_item(next.as_ref().map(|o| (o, joinable)));
    crate::tray::set_next_meeting(app, &text, next.is_some(), &join);
}

/// The Join item's click: opens the next meeting's online meeting.
pub fn join(app: &AppHandle) {
    let id = app
        .try_state::<JoinTarget>()
        .and_then(|t| t.0.lock().ok().and_then(|id| id.clone()));
    let Some(id) = id else {
        return;
    };
    if let Err(e) = crate::commands::open_meeting(&app.state::<crate::AppState>(), &id) {
        eprintln!("almanac: could not open the meeting: {}", e.message);
    }
}

/// [`refresh`] on a thread of its own: after a change, off the caller's path.
pub fn refresh_soon(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || refresh(&app));
}

/// Keeps the line up to date, starting a little after the window's first paint.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        loop {
            refresh(&app);
            std::thread::sleep(REFRESH);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn occurrence(title: &str, start: &str) -> Occurrence {
        Occurrence {
            event_id: "e".into(),
            series_id: None,
            original_start: None,
            calendar_id: "local".into(),
            title: title.into(),
            all_day: false,
            start: start.into(),
            end: start.into(),
            time_zone: "UTC".into(),
            location: String::new(),
            show_as: almanac_model::ShowAs::Busy,
            importance: almanac_model::Importance::Normal,
            categories: vec![],
            recurring: false,
            exception: false,
        }
    }

    #[test]
    fn the_line_says_when_in_the_users_zone_and_what() {
        let berlin = FixedOffset::east_opt(3600).unwrap_or_else(|| unreachable!());
        let now = berlin
            .with_ymd_and_hms(2026, 12, 4, 22, 0, 0)
            .single()
            .unwrap_or_else(|| unreachable!());
        let call = occurrence("Customer call", "2026-12-04T22:30:00Z");
        assert_eq!(line(Some(&call), &now), "Next: 23:30 Customer call");
        let standup = occurrence("Standup", "2026-12-05T08:30:00Z");
        assert_eq!(line(Some(&standup), &now), "Next: tomorrow 09:30 Standup");
        assert_eq!(line(None, &now), "No meetings in the next 24 hours");
    }

    #[test]
    fn join_names_the_meeting_only_when_its_link_can_be_opened() {
        let call = occurrence("Q&A call", "2026-12-04T10:00:00Z");
        assert_eq!(
            join_item(Some((&call, true))),
            ("Join Q&&A call".to_owned(), true)
        );
        let no_link = ("No meeting link to join".to_owned(), false);
        assert_eq!(join_item(Some((&call, false))), no_link);
        assert_eq!(join_item(None), no_link);
    }

    #[test]
    fn a_title_is_one_line_cut_and_keeps_its_ampersands() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 4, 9, 0, 0)
            .single()
            .unwrap_or_else(|| unreachable!());
        let o = occurrence("Q&A\nwith ACME_Corp", "2026-12-04T10:00:00Z");
        assert_eq!(line(Some(&o), &now), "Next: 10:00 Q&&A with ACME_Corp");
        let long = occurrence(
            &"Quarterly business review ".repeat(3),
            "2026-12-04T10:00:00Z",
        );
        assert_eq!(
            line(Some(&long), &now),
            "Next: 10:00 Quarterly business review Quarterly busi…"
        );
    }
}
