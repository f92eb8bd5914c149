//! Events by their iCalendar UID (RFC 5545 §3.8.4.7), the identity an event keeps
//! across calendars and files. A synced event carries its provider's iCalUID; an
//! event imported into a calendar on this computer keeps the file's UID; any other
//! event's UID is its Almanac id (what `export` writes for it). Every imported event
//! also remembers the file's UID (`imported_uid`), which an account's calendar cannot
//! keep as its UID. Importing a file again finds its events by these UIDs instead of
//! making copies.

use std::collections::HashMap;

use rusqlite::params;

use crate::error::Result;
use crate::events::Batch;
use crate::Store;

/// The longest UID kept: RFC 5545 sets no limit; real producers stay far below
/// (Outlook's are ~120 characters, Google accepts up to 1024).
pub const MAX_UID_CHARS: usize = 1024;

impl Store {
    /// The UID of event `id` (a series' master or a single event) as exported.
    pub fn ical_uid_of(&self, id: &str) -> Result<String> {
        let uid: Option<String> = self.conn.query_row(
            "SELECT COALESCE(ical_uid, id) FROM events WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        Ok(uid.unwrap_or_else(|| id.to_owned()))
    }

    /// Every single event and series of calendar `calendar_id` by its UID → its id,
    /// by the UID of the file it was imported from, and by its id as well: an export
    /// writes the id for an event whose UID another event of the file took.
    pub fn events_by_ical_uid(&self, calendar_id: &str) -> Result<HashMap<String, String>> {
        let mut st = self.conn.prepare(
            "SELECT ical_uid, imported_uid, id FROM events
             WHERE calendar_id = ?1 AND kind <> 'exception'",
        )?;
        let rows = st.query_map(params![calendar_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (uid, imported, id) = row?;
            for uid in [uid, imported].into_iter().flatten() {
                out.insert(uid, id.clone());
            }
            out.entry(id.clone()).or_insert(id);
        }
        Ok(out)
    }
}

impl Batch<'_, '_> {
    /// Keeps `uid`, the UID of the file event `id` was imported from, and keeps it as
    /// the event's UID too when it lies in a calendar on this computer. (In an
    /// account's calendar the provider names the UID, and the next sync brings it.)
    pub fn keep_ical_uid(&mut self, id: &str, uid: &str) -> Result<()> {
        self.tx().execute(
            "UPDATE events SET imported_uid = ?2,
                 ical_uid = CASE WHEN calendar_id IN
                     (SELECT id FROM calendars WHERE account_id IS NULL) THEN ?2
                     ELSE ical_uid END
             WHERE id = ?1",
            params![id, uid],
        )?;
        Ok(())
    }
}
