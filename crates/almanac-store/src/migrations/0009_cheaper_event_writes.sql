-- Cheaper writes of events, their sync state and the change feed: a first sync writes
-- one of each per event. Rebuilt as SQLite's "other kinds of table schema changes"
-- (lang_altertable.html §7), with foreign keys off (see `Store::open`); the rows, ids,
-- feed sequence and every constraint stay as they were.
--
-- * A CHECK of the form `x IN ('a', 'b', 'c')` builds a temporary b-tree of its list
--   every time a row is written (SQLite does so for lists of three or more); the same
--   test spelled with OR costs a comparison. Four such checks on events, one on
--   event_sync and two on change_feed were about a tenth of a first sync's CPU.
-- * events_calendar repeated the first column of the index kept for
--   UNIQUE (calendar_id, remote_id), which serves lookups by calendar as well.
-- * UNIQUE (series_id, original_start) indexed every single event under two NULLs;
--   only instances of a series need it (NULLs never collide), so it becomes a partial
--   unique index, which also serves the lookups events_series was for.
-- * event_sync is keyed by its event id only: WITHOUT ROWID keeps it in one b-tree
--   instead of a table and its key index.

CREATE TABLE events_new (
    id                  TEXT PRIMARY KEY,                    -- local UUID
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    remote_id           TEXT,
    ical_uid            TEXT,
    etag                TEXT,                                -- etag / changeKey
    kind                TEXT NOT NULL
                        CHECK (kind = 'single' OR kind = 'master' OR kind = 'exception'),
    series_id           TEXT REFERENCES events(id) ON DELETE CASCADE,
    original_start      TEXT,                                -- exception key: wall time
    title               TEXT NOT NULL,
    body_text           TEXT NOT NULL DEFAULT '',
    body_html           TEXT,
    all_day             INTEGER NOT NULL CHECK (all_day IN (0, 1)),
    start_local         TEXT NOT NULL,                       -- wall time, or date if all-day
    end_local           TEXT NOT NULL,                       -- all-day: exclusive date
    time_zone           TEXT NOT NULL,
    start_utc           INTEGER NOT NULL,
    end_utc             INTEGER NOT NULL,
    show_as             TEXT NOT NULL DEFAULT 'busy'
                        CHECK (show_as = 'free' OR show_as = 'tentative' OR show_as = 'busy'
                               OR show_as = 'oof' OR show_as = 'workingElsewhere'),
    importance          TEXT NOT NULL DEFAULT 'normal'
                        CHECK (importance = 'low' OR importance = 'normal' OR importance = 'high'),
    sensitivity         TEXT NOT NULL DEFAULT 'normal'
                        CHECK (sensitivity = 'normal' OR sensitivity = 'personal'
                               OR sensitivity = 'private' OR sensitivity = 'confidential'),
    categories          TEXT NOT NULL DEFAULT '[]',          -- JSON array
    location            TEXT NOT NULL DEFAULT '',
    organizer_email     TEXT,
    organizer_name      TEXT,
    online_provider     TEXT,                                -- teams / meet / zoom / webex
    online_join_url     TEXT,
    online_conference_id TEXT,
    online_dial_in      TEXT,
    online_pin          TEXT,
    rrule               TEXT,
    exdates             TEXT NOT NULL DEFAULT '[]',          -- JSON array of wall times
    rdates              TEXT NOT NULL DEFAULT '[]',
    reminder_minutes    INTEGER,
    customer_id         TEXT REFERENCES customers(id) ON DELETE SET NULL,
    attendees           TEXT NOT NULL DEFAULT '[]',          -- JSON array (0008)
    provider_extra      TEXT,                                -- provider-only fields, verbatim JSON
    cancelled           INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK (end_utc >= start_utc),
    CHECK ((kind = 'exception') = (series_id IS NOT NULL AND original_start IS NOT NULL)),
    UNIQUE (calendar_id, remote_id)
) STRICT;

INSERT INTO events_new (id, calendar_id, remote_id, ical_uid, etag, kind, series_id,
    original_start, title, body_text, body_html, all_day, start_local, end_local, time_zone,
    start_utc, end_utc, show_as, importance, sensitivity, categories, location,
    organizer_email, organizer_name, online_provider, online_join_url, online_conference_id,
    online_dial_in, online_pin, rrule, exdates, rdates, reminder_minutes, customer_id,
    attendees, provider_extra, cancelled, created_at, updated_at)
SELECT id, calendar_id, remote_id, ical_uid, etag, kind, series_id,
    original_start, title, body_text, body_html, all_day, start_local, end_local, time_zone,
    start_utc, end_utc, show_as, importance, sensitivity, categories, location,
    organizer_email, organizer_name, online_provider, online_join_url, online_conference_id,
    online_dial_in, online_pin, rrule, exdates, rdates, reminder_minutes, customer_id,
    attendees, provider_extra, cancelled, created_at, updated_at
FROM events ORDER BY rowid;

DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE UNIQUE INDEX events_instance ON events (series_id, original_start)
    WHERE series_id IS NOT NULL;
CREATE INDEX events_masters ON events (kind) WHERE kind = 'master';

CREATE TABLE event_sync_new (
    event_id            TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    state               TEXT NOT NULL
                        CHECK (state = 'synced' OR state = 'locally_created'
                               OR state = 'locally_modified' OR state = 'locally_deleted'),
    base_snapshot       TEXT,            -- JSON: the version both sides last agreed on
    base_etag           TEXT,
    content_hash        TEXT,
    updated_at          INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO event_sync_new (event_id, state, base_snapshot, base_etag, content_hash, updated_at)
SELECT event_id, state, base_snapshot, base_etag, content_hash, updated_at FROM event_sync;

DROP TABLE event_sync;
ALTER TABLE event_sync_new RENAME TO event_sync;

CREATE TABLE change_feed_new (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  INTEGER NOT NULL,
    source              TEXT NOT NULL
                        CHECK (source = 'user_window' OR source = 'cli' OR source = 'sync'
                               OR source = 'import' OR source = 'background'),
    entity              TEXT NOT NULL,
    entity_id           TEXT NOT NULL,
    op                  TEXT NOT NULL CHECK (op = 'insert' OR op = 'update' OR op = 'delete')
) STRICT;

INSERT INTO change_feed_new (seq, at, source, entity, entity_id, op)
SELECT seq, at, source, entity, entity_id, op FROM change_feed ORDER BY seq;
-- The feed's sequence never goes back, even past rows that were pruned: readers
-- follow it by number.
DELETE FROM sqlite_sequence WHERE name = 'change_feed_new';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'change_feed_new', seq FROM sqlite_sequence WHERE name = 'change_feed';

DROP TABLE change_feed;
ALTER TABLE change_feed_new RENAME TO change_feed;
