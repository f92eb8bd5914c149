-- Provider ids of events deleted at the provider from here while a round of the
-- calendar's changes was under way. A round's pages can come from a snapshot taken
-- when it began (Graph's delta rounds are), so a later page of the same round can
-- still show an event deleted since; applied, it would bring the event back. Written
-- with the delete's acknowledgement, cleared when the next round begins.
CREATE TABLE round_gone (
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    remote_id           TEXT NOT NULL,
    PRIMARY KEY (calendar_id, remote_id)
) STRICT, WITHOUT ROWID;
