-- 1 while the calendar's full listing under way began with nothing it could reconcile:
-- no event of the calendar had a provider copy and no deletion of one was waiting to
-- be sent. Every provider copy it has since came from the listing or from a create of
-- ours, so the listing's end removes nothing, and its shown ids (`listing_seen`) are
-- not kept: on a first sync that bookkeeping was a quarter of applying a page.
ALTER TABLE calendars ADD COLUMN listing_from_empty INTEGER NOT NULL DEFAULT 0
    CHECK (listing_from_empty IN (0, 1));
