//! The conflict policy of the account's primary calendar, as the user sets it.

use std::sync::Mutex;

use almanac_store::Store;

/// Sets the primary calendar's conflict policy (`ask`, `prefer_local`, …).
pub fn set_primary_policy(store: &Mutex<Store>, policy: &str) {
    let mut store = store.lock().expect("store");
    let calendar = store
        .sync_calendars(None)
        .expect("calendars")
        .into_iter()
        .find(|c| c.is_primary)
        .expect("the primary calendar");
    store
        .set_conflict_policy(&calendar.id, policy)
        .expect("set the policy");
}
