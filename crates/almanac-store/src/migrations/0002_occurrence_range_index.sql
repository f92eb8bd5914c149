-- Covering index for range queries: the bounds and the calendar are read from the index
-- itself instead of looking up each occurrence row by its text key.
CREATE INDEX occurrences_range ON occurrences (start_utc, end_utc, calendar_id);
DROP INDEX occurrences_start;
