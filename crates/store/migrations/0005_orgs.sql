-- Organisations, users, API tokens and sharing groups.
-- An organisation is a member of the sharing community; `default_tlp` is how its
-- unmarked objects are treated (TLP 2.0: an unmarked object follows its owner).
CREATE TABLE orgs (
    name          TEXT    PRIMARY KEY,
    default_tlp   TEXT    NOT NULL DEFAULT 'amber',
    created       TEXT    NOT NULL
);

-- People (or programs) acting for an organisation, with one role each.
CREATE TABLE users (
    org           TEXT    NOT NULL REFERENCES orgs (name),
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'analyst', 'approver', 'admin')),
    created       TEXT    NOT NULL,
    PRIMARY KEY (org, name)
);

-- API tokens: only the SHA-256 of the token is kept. `lookup` is the token's first
-- characters, so that a token is found by an index and then compared in constant
-- time against its hash (the lookup part alone grants nothing).
CREATE TABLE api_tokens (
    lookup        TEXT    PRIMARY KEY,
    hash          TEXT    NOT NULL,
    org           TEXT    NOT NULL REFERENCES orgs (name),
    user_name     TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'analyst', 'approver', 'admin')),
    created       TEXT    NOT NULL,
    revoked       TEXT
);

-- Which organisation runs a campaign, and which others share its AMBER material.
CREATE TABLE campaign_owners (
    campaign_id   TEXT    PRIMARY KEY REFERENCES campaigns (id),
    org           TEXT    NOT NULL REFERENCES orgs (name)
);
CREATE TABLE campaign_shares (
    campaign_id   TEXT    NOT NULL REFERENCES campaigns (id),
    org           TEXT    NOT NULL REFERENCES orgs (name),
    PRIMARY KEY (campaign_id, org)
);

-- TLP:RED goes to named recipients only: one row per object id and recipient.
CREATE TABLE tlp_recipients (
    object_id     TEXT    NOT NULL,
    org           TEXT    NOT NULL REFERENCES orgs (name),
    PRIMARY KEY (object_id, org)
);

-- TAXII status resources for objects added through the server.
CREATE TABLE taxii_status (
    id            TEXT    PRIMARY KEY,
    org           TEXT    NOT NULL,
    created       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    detail        TEXT    NOT NULL
);
