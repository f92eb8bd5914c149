-- Almanac schema, version 1: the whole data model of DESIGN.md §3.
-- Append-only: a shipped migration is never edited; add a new file instead.
-- Instants are INTEGER Unix seconds (UTC); wall times are TEXT 'YYYY-MM-DDTHH:MM:SS'
-- in the row's IANA zone; dates are TEXT 'YYYY-MM-DD'. No tokens anywhere.

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    provider            TEXT NOT NULL CHECK (provider IN ('microsoft', 'google')),
    email               TEXT NOT NULL,
    display_name        TEXT NOT NULL DEFAULT '',
    authority           TEXT,            -- tenant / national-cloud login host
    status              TEXT NOT NULL DEFAULT 'connected'
                        CHECK (status IN ('connected', 'action_required', 'error', 'paused')),
    last_success_at     INTEGER,
    last_attempt_at     INTEGER,
    last_error_code     TEXT,
    last_error_message  TEXT,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE calendars (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    remote_id           TEXT,
    name                TEXT NOT NULL,
    color               TEXT NOT NULL,
    owner_email         TEXT,            -- set for shared / delegated calendars
    can_edit            INTEGER NOT NULL DEFAULT 1 CHECK (can_edit IN (0, 1)),
    is_primary          INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    visible             INTEGER NOT NULL DEFAULT 1 CHECK (visible IN (0, 1)),
    conflict_policy     TEXT NOT NULL DEFAULT 'ask'
                        CHECK (conflict_policy IN ('ask', 'prefer_local', 'prefer_remote', 'keep_both')),
    double_booking_alerts INTEGER NOT NULL DEFAULT 1 CHECK (double_booking_alerts IN (0, 1)),
    sync_cursor         TEXT,            -- Graph deltaLink / Google syncToken
    sync_window_start   INTEGER,
    sync_window_end     INTEGER,
    UNIQUE (account_id, remote_id)
) STRICT;

INSERT INTO calendars (id, name, color, can_edit, is_primary)
VALUES ('local', 'On this computer', '#3b82f6', 1, 1);

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    domains             TEXT NOT NULL DEFAULT '[]',          -- JSON array
    subject_patterns    TEXT NOT NULL DEFAULT '[]',          -- JSON array
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    id                  TEXT PRIMARY KEY,                    -- local UUID
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    remote_id           TEXT,
    ical_uid            TEXT,
    etag                TEXT,                                -- etag / changeKey
    kind                TEXT NOT NULL CHECK (kind IN ('single', 'master', 'exception')),
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
                        CHECK (show_as IN ('free', 'tentative', 'busy', 'oof', 'workingElsewhere')),
    importance          TEXT NOT NULL DEFAULT 'normal' CHECK (importance IN ('low', 'normal', 'high')),
    sensitivity         TEXT NOT NULL DEFAULT 'normal'
                        CHECK (sensitivity IN ('normal', 'personal', 'private', 'confidential')),
    categories          TEXT NOT NULL DEFAULT '[]',          -- JSON array
    location            TEXT NOT NULL DEFAULT '',
    organizer_email     TEXT,
    organizer_name      TEXT,
    online_provider     TEXT,                                -- teams / meet / zoom / webex
    online_join_url     TEXT,
    online_conference_id TEXT,
    online_dial_in      TEXT,
    rrule               TEXT,
    exdates             TEXT NOT NULL DEFAULT '[]',          -- JSON array of wall times
    rdates              TEXT NOT NULL DEFAULT '[]',
    reminder_minutes    INTEGER,
    customer_id         TEXT REFERENCES customers(id) ON DELETE SET NULL,
    provider_extra      TEXT,                                -- provider-only fields, verbatim JSON
    cancelled           INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    CHECK (end_utc >= start_utc),
    CHECK ((kind = 'exception') = (series_id IS NOT NULL AND original_start IS NOT NULL)),
    UNIQUE (series_id, original_start),
    UNIQUE (calendar_id, remote_id)
) STRICT;
CREATE INDEX events_calendar ON events (calendar_id);
CREATE INDEX events_series ON events (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX events_masters ON events (kind) WHERE kind = 'master';

CREATE TABLE attendees (
    event_id            TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    email               TEXT NOT NULL,
    name                TEXT NOT NULL DEFAULT '',
    type                TEXT NOT NULL DEFAULT 'required' CHECK (type IN ('required', 'optional', 'resource')),
    response            TEXT NOT NULL DEFAULT 'none'
                        CHECK (response IN ('none', 'organizer', 'accepted', 'tentative', 'declined')),
    PRIMARY KEY (event_id, email)
) STRICT;

CREATE TABLE event_sync (
    event_id            TEXT PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    state               TEXT NOT NULL
                        CHECK (state IN ('synced', 'locally_created', 'locally_modified', 'locally_deleted')),
    base_snapshot       TEXT,            -- JSON: the version both sides last agreed on
    base_etag           TEXT,
    content_hash        TEXT,
    updated_at          INTEGER NOT NULL
) STRICT;

-- Expanded instances over a rolling window, for range queries.
CREATE TABLE occurrences (
    event_id            TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    original_start      TEXT NOT NULL,   -- '' for single events
    calendar_id         TEXT NOT NULL,
    start_utc           INTEGER NOT NULL,
    end_utc             INTEGER NOT NULL,
    PRIMARY KEY (event_id, original_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX occurrences_start ON occurrences (start_utc);

CREATE TABLE store_meta (
    key                 TEXT PRIMARY KEY,
    value               INTEGER NOT NULL
) STRICT;
INSERT INTO store_meta (key, value) VALUES ('max_span', 0);

CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id            TEXT NOT NULL,   -- kept after a local delete
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    operation           TEXT NOT NULL CHECK (operation IN ('create', 'update', 'delete')),
    idempotency_key     TEXT NOT NULL UNIQUE,   -- Graph transactionId / Google event id
    payload             TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER,
    last_error_code     TEXT,
    last_error_message  TEXT,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE conflicts (
    id                  TEXT PRIMARY KEY,
    event_id            TEXT NOT NULL,
    calendar_id         TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    kind                TEXT NOT NULL CHECK (kind IN ('edit_edit', 'edit_delete', 'delete_edit')),
    base_version        TEXT,
    local_version       TEXT,
    remote_version      TEXT,
    detected_at         INTEGER NOT NULL,
    resolved_at         INTEGER,
    resolution          TEXT CHECK (resolution IN ('keep_local', 'keep_remote', 'per_field', 'keep_both'))
) STRICT;
CREATE INDEX conflicts_open ON conflicts (event_id) WHERE resolved_at IS NULL;

CREATE TABLE sync_runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    outcome             TEXT CHECK (outcome IN ('ok', 'partial', 'failed', 'stopped')),
    pulled              INTEGER NOT NULL DEFAULT 0,
    pushed              INTEGER NOT NULL DEFAULT 0,
    conflicts           INTEGER NOT NULL DEFAULT 0,
    error_code          TEXT,
    error_message       TEXT
) STRICT;

CREATE TABLE sync_actions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id              INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    event_id            TEXT,
    calendar_id         TEXT,
    direction           TEXT NOT NULL CHECK (direction IN ('pull', 'push')),
    action              TEXT NOT NULL,
    fields              TEXT NOT NULL DEFAULT '[]',
    reason              TEXT NOT NULL DEFAULT '',
    at                  INTEGER NOT NULL
) STRICT;

CREATE TABLE event_customers (
    event_id            TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    customer_id         TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    source              TEXT NOT NULL CHECK (source IN ('domain', 'subject', 'manual')),
    PRIMARY KEY (event_id, customer_id)
) STRICT;

-- Every write, tagged with where it came from; the UI and the scheduler follow it.
CREATE TABLE change_feed (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    at                  INTEGER NOT NULL,
    source              TEXT NOT NULL CHECK (source IN ('user_window', 'cli', 'sync', 'import', 'background')),
    entity              TEXT NOT NULL,
    entity_id           TEXT NOT NULL,
    op                  TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete'))
) STRICT;
