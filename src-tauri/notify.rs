//! OS notifications (freedesktop notifications over D-Bus). Each is sent once by
//! the caller's decision (the store remembers who was told); failures to notify are
//! not errors for the user.

use almanac_model::Account;
use almanac_sync::Notice;

/// "Action required": the account's access was lost and the user must sign in again.
pub fn action_required(account: &Account, reason: &str) {
    show(&almanac_sync::action_required_notice(
        &account.email,
        account.provider.display_name(),
        reason,
    ));
}

/// A notice as the core words it (new conflicts: `almanac_sync::conflict_notices`,
/// one each or one for many; action required). Sent on a thread of its own: the call
/// waits for the notification server's answer (up to D-Bus's 25 s when it hangs),
/// and the callers are the sync loop's tasks.
pub fn show(n: &Notice) {
    let (summary, body) = (n.summary.clone(), n.body.clone());
    std::thread::spawn(move || {
        let sent = notify_rust::Notification::new()
            .appname("Almanac")
            .summary(&summary)
            .body(&body)
            .show();
        if let Err(e) = sent {
            eprintln!("almanac: could not show a notification: {e}");
        }
    });
}
