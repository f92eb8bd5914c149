//! Ids of new rows.

/// A new event's local id: a UUIDv7, whose leading timestamp makes ids made one after
/// another sort together. A first sync's thousands of inserts then land at the end of
/// the id index (and of the indexes keyed by event id) instead of on random pages of
/// them; with random (v4) ids that cost a quarter of a synced event's writes.
pub(crate) fn new_event_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
