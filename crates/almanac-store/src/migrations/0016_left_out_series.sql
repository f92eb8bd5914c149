-- Series a pull could not read (the provider sent them in a form Almanac cannot read)
-- and not held here, whose changed instances it therefore left out: once such a series
-- reads again, its calendar is listed again from the start, so those instances come —
-- a later round lists only what changes after it.
CREATE TABLE left_out_series (
    calendar_id TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    PRIMARY KEY (calendar_id, remote_id)
) WITHOUT ROWID;
