-- The UID an imported file gave an event (or, where it gave none, the one made from
-- the event's details). In an account's calendar the provider names the event's
-- iCalendar UID, so `ical_uid` cannot keep the file's: importing that file there
-- again finds the event by this column instead of copying it.
ALTER TABLE events ADD COLUMN imported_uid TEXT;
