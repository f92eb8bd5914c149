-- An event's attendees move into the event row, as a JSON array of
-- {"email", "name", "type", "response"} in the order the provider gave them.
-- As rows of their own table, every synced event cost its attendees' inserts into a
-- table and its primary-key index (about half of a first sync's writes); nothing
-- queries attendees apart from their event.
ALTER TABLE events ADD COLUMN attendees TEXT NOT NULL DEFAULT '[]';

UPDATE events SET attendees = (
    SELECT json_group_array(json_object('email', a.email, 'name', a.name, 'type', a.type,
                                        'response', a.response) ORDER BY a.rowid)
    FROM attendees a WHERE a.event_id = events.id
)
WHERE EXISTS (SELECT 1 FROM attendees a WHERE a.event_id = events.id);

DROP TABLE attendees;
