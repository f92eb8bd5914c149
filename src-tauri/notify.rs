//! OS notifications (freedesktop notifications over D-Bus). Each is sent once by
//! the caller's decision (the store remembers who was told); failures to notify are
//! not errors for the user.

use almanac_model::{Account, ConflictKindView, ConflictView};

/// "Action required": the account's access was lost and the user must sign in again.
pub fn action_required(account: &Account, reason: &str) {
    let body = format!(
        "{} ({}): {reason}\nOpen Almanac → Settings → Accounts and choose Reconnect.",
        account.email,
        account.provider.display_name()
    );
    let sent = notify_rust::Notification::new()
        .appname("Almanac")
        .summary("Almanac: sign in again")
        .body(&body)
        .show();
    if let Err(e) = sent {
        eprintln!("almanac: could not show a notification: {e}");
    }
}

/// One new conflict: what happened to which event, and where to settle it.
pub fn conflict(c: &ConflictView) {
    let what = match c.kind {
        ConflictKindView::EditEdit => "was changed here and at the provider",
        ConflictKindView::EditDelete => "was changed here but deleted at the provider",
        ConflictKindView::DeleteEdit => "was deleted here but changed at the provider",
    };
    let body = format!(
        "\"{}\" ({}) {what}. Open Almanac → Conflicts to choose which version to keep.",
        c.title, c.calendar_name
    );
    let sent = notify_rust::Notification::new()
        .appname("Almanac")
        .summary("Almanac: a sync conflict")
        .body(&body)
        .show();
    if let Err(e) = sent {
        eprintln!("almanac: could not show a notification: {e}");
    }
}
