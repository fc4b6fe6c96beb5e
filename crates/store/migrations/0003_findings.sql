-- Findings: what a detector saw, where, with its evidence. The whole finding is kept
-- as JSON (it is shared as a STIX sighting as it is); the columns beside it are the
-- ones queries filter and sort on.
CREATE TABLE findings (
    id            TEXT    PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES campaigns (id),
    detector      TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    observed_at   TEXT    NOT NULL,
    recorded_at   TEXT    NOT NULL,
    finding       TEXT    NOT NULL
);
CREATE INDEX findings_campaign ON findings (campaign_id, observed_at);
