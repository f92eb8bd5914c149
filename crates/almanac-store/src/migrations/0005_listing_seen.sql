-- The ids a full listing of a calendar has shown so far. A listing can span several
-- runs (a crash, a page limit); kept with each page in the page's transaction, the
-- set is whole when the listing ends, so the reconcile that follows sees every id the
-- provider listed, not just the last run's.
CREATE TABLE listing_seen (
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    remote_id           TEXT NOT NULL,
    PRIMARY KEY (calendar_id, remote_id)
) STRICT, WITHOUT ROWID;
