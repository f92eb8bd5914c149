-- Sync finds a calendar's event by its provider id for every change it applies (and
-- every page it plans); without this index each lookup walks the whole calendar.
CREATE INDEX events_remote ON events (calendar_id, remote_id) WHERE remote_id IS NOT NULL;
