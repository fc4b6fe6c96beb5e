-- Intel: every STIX object ever imported, one row per version. The newest version
-- of an id is the current one; older ones are kept as history.
-- Types stay portable (TEXT, INTEGER, BIGINT) so that a PostgreSQL backend can run
-- the same migrations.
CREATE TABLE stix_objects (
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
    object        TEXT    NOT NULL,
    UNIQUE (id, modified)
);
-- UNIQUE (id, modified) already indexes lookups by id.
CREATE INDEX stix_objects_type ON stix_objects (type, is_current);
CREATE INDEX stix_objects_source_ref ON stix_objects (source_ref);
CREATE INDEX stix_objects_target_ref ON stix_objects (target_ref);

-- One row per `intel import` run that committed.
CREATE TABLE imports (
    import_id     INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    files         TEXT    NOT NULL,
    summary       TEXT    NOT NULL
);

CREATE TABLE campaigns (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    actor         TEXT,
    description   TEXT,
    tlp           TEXT    NOT NULL,
    created       TEXT    NOT NULL
);

-- Append-only, hash-chained: each row carries the hash of the one before.
CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    verb          TEXT    NOT NULL,
    object        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL
);
