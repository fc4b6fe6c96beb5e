-- Every stored version belongs to the organisation that wrote it (`org`; NULL is the
-- server itself: the built-in pack and the operator's own imports). History and the
-- current version are kept per (id, owner): one owner's write never retires or
-- replaces another's. SQLite cannot drop a table's UNIQUE constraint, so the table
-- is built again with the same columns and rows (row_id, the paging cursor, kept).
CREATE TABLE stix_objects_by_owner (
    row_id        INTEGER PRIMARY KEY,
    id            TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    modified      TEXT    NOT NULL,
    spec_version  TEXT    NOT NULL,
    is_current    INTEGER NOT NULL,
    tlp           TEXT,
    org           TEXT,
    source        TEXT    NOT NULL,
    import_id     BIGINT  NOT NULL,
    name          TEXT,
    source_ref    TEXT,
    target_ref    TEXT,
    relationship_type TEXT,
    object        TEXT    NOT NULL
);
INSERT INTO stix_objects_by_owner
    SELECT row_id, id, type, modified, spec_version, is_current, tlp, org, source, import_id, name,
           source_ref, target_ref, relationship_type, object
    FROM stix_objects;
DROP TABLE stix_objects;
ALTER TABLE stix_objects_by_owner RENAME TO stix_objects;

-- One version per (id, modified) and owner. The server's own rows have no owner, and
-- NULLs never clash in a UNIQUE index, so the owner is indexed as '' (organisation
-- names are never empty). (id, modified) first: reads look up the copies of one
-- version that several owners hold.
CREATE UNIQUE INDEX stix_objects_version ON stix_objects (id, modified, COALESCE(org, ''));

-- Until now a write retired the current version of an id whoever owned it: each
-- owner's newest version becomes its current one again (after the index above,
-- which this lookup uses).
UPDATE stix_objects SET is_current = CASE WHEN modified = (
    SELECT MAX(m.modified) FROM stix_objects m
    WHERE m.id = stix_objects.id AND COALESCE(m.org, '') = COALESCE(stix_objects.org, '')
) THEN 1 ELSE 0 END;

-- At most one current version per (id, owner); also the lookup of it.
CREATE UNIQUE INDEX stix_objects_current ON stix_objects (id, COALESCE(org, '')) WHERE is_current = 1;
CREATE INDEX stix_objects_type ON stix_objects (type, is_current);
CREATE INDEX stix_objects_source_ref ON stix_objects (source_ref);
CREATE INDEX stix_objects_target_ref ON stix_objects (target_ref);
