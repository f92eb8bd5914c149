-- `round_gone` (0010) kept the events deleted from here during a round; every write
-- of ours is newer than the round's snapshot, not only a delete: an edit or a create
-- too, and a version fetched to re-merge a refused write. Kept the same way.
ALTER TABLE round_gone RENAME TO round_written;
