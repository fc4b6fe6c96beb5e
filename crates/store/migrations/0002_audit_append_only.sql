-- The audit trail is append-only: the database itself refuses changes and deletions,
-- so that a mistake in code cannot rewrite history. (Someone with the file can still
-- edit it by hand; the hash chain is what makes that evident.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
