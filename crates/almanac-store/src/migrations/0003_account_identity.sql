-- Who an account is at its provider (the ID token's issuer + subject), so signing in
-- again to the same account reconnects it instead of adding a duplicate; and whether
-- the user was already notified that it needs action (one notification, not one per run).
ALTER TABLE accounts ADD COLUMN subject TEXT;
ALTER TABLE accounts ADD COLUMN action_notified INTEGER NOT NULL DEFAULT 0
    CHECK (action_notified IN (0, 1));
CREATE UNIQUE INDEX accounts_identity ON accounts (provider, subject);
