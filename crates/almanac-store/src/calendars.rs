use almanac_model::{Calendar, ConflictPolicy};
use rusqlite::{params, OptionalExtension};

use crate::error::{Result, StoreError};
use crate::Store;

pub(crate) struct CalendarAccess {
    pub can_edit: bool,
}

impl Store {
    pub fn list_calendars(&self) -> Result<Vec<Calendar>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, color, account_id, can_edit, is_primary, visible, conflict_policy
             FROM calendars ORDER BY account_id IS NOT NULL, is_primary DESC, name",
        )?;
        let rows = stmt.query_map([], |r| {
            let account_id: Option<String> = r.get(3)?;
            let policy: String = r.get(7)?;
            Ok(Calendar {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
                // The column's CHECK admits only the four names.
                conflict_policy: account_id
                    .is_some()
                    .then(|| ConflictPolicy::parse(&policy).unwrap_or_default()),
                account_id,
                can_edit: r.get(4)?,
                is_primary: r.get(5)?,
                visible: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Shows or hides a calendar in the window (and so in the tray's next meeting,
    /// which lists shown calendars only). Kept across restarts.
    pub fn set_calendar_visible(&mut self, id: &str, visible: bool) -> Result<()> {
        self.durable(|tx| {
            let n = tx.execute(
                "UPDATE calendars SET visible = ?2 WHERE id = ?1",
                params![id, visible],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!(
                    "There is no calendar with id \"{id}\"."
                )));
            }
            Ok(())
        })
    }

    pub(crate) fn calendar_access(conn: &rusqlite::Connection, id: &str) -> Result<CalendarAccess> {
        conn.query_row(
            "SELECT can_edit FROM calendars WHERE id = ?1",
            params![id],
            |r| {
                Ok(CalendarAccess {
                    can_edit: r.get(0)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("There is no calendar with id \"{id}\".")))
    }
}
