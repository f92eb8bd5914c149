//! OS notifications (freedesktop notifications over D-Bus). Each is sent once by
//! the caller's decision (the store remembers who was told); failures to notify are
//! not errors for the user.

use almanac_model::Account;
use almanac_sync::Notice;

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

/// New conflicts, as `almanac_sync::conflict_notices` words them (one each, or one
/// for many).
pub fn show(n: &Notice) {
    let sent = notify_rust::Notification::new()
        .appname("Almanac")
        .summary(&n.summary)
        .body(&n.body)
        .show();
    if let Err(e) = sent {
        eprintln!("almanac: could not show a notification: {e}");
    }
}
