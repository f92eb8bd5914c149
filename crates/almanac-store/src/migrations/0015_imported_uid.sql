-- The UID an imported file gave an event (or, where it gave none, the one made from
-- the event's details). In an account's calendar the provider names the event's
-- iCalendar UID, so `ical_uid` cannot keep the file's: importing that file there
-- again finds the event by this column instead of copying it.
ALTER TABLE events ADD COLUMN imported_uid TEXT;
-- In a calendar on this computer an event's UID can only have come from a file (a move
-- from an account's calendar leaves the provider's behind): it is the file's UID.
UPDATE events SET imported_uid = ical_uid
 WHERE ical_uid IS NOT NULL
   AND calendar_id IN (SELECT id FROM calendars WHERE account_id IS NULL);
