-- Who settled a conflict: the user (an answer), the calendar's conflict policy (the
-- conflict is recorded settled, with every version, so an edit the policy gave up stays
-- where the user can see it — I1), or sync itself (a newer provider version made it
-- moot). NULL while open, and for conflicts settled before this column existed.
ALTER TABLE conflicts ADD COLUMN resolved_by TEXT CHECK (resolved_by IN ('user', 'policy', 'sync'));
