-- What the sync engine needs beyond schema 1 (issue 5).
-- A meeting's PIN (Teams / Meet dial-in), beside the other online-meeting columns.
ALTER TABLE events ADD COLUMN online_pin TEXT;
-- A calendar whose sync stopped and waits for the user (the mass-deletion guard):
-- JSON {"wouldDelete": n, "total": m}; NULL while it syncs normally. And when it last
-- completed a pull and a push.
ALTER TABLE calendars ADD COLUMN sync_hold TEXT;
ALTER TABLE calendars ADD COLUMN last_synced_at INTEGER;
-- The fields a conflict is about (JSON list of {field, base, local, remote}), so the
-- Conflicts panel shows them side by side without recomputing the merge.
ALTER TABLE conflicts ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';
-- How many of an account's runs in a row failed: the scheduler's backoff survives
-- restarts, and the status line can say "failing since".
ALTER TABLE accounts ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN next_sync_at INTEGER;
CREATE INDEX outbox_event ON outbox (event_id);
