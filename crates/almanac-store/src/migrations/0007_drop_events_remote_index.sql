-- 0006's index repeats the one SQLite already keeps for UNIQUE (calendar_id, remote_id)
-- on events (0001): every insert paid for a second copy of the same lookup.
DROP INDEX IF EXISTS events_remote;
