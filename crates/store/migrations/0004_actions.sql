-- Actions: planned, approved, run, verified, undone; notices with idempotency keys.
-- An action is one remedy for one subject within one campaign. `target_key` is the
-- subject's short key (see `subject_key`), so that planning twice proposes nothing
-- new. `result` keeps what a connector needs to verify and undo (the SCIM user's
-- ETag, the vault item id, the notice's message id) as JSON.
CREATE TABLE actions (
    id            TEXT    PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES campaigns (id),
    kind          TEXT    NOT NULL,
    target_key    TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    state         TEXT    NOT NULL
                  CHECK (state IN ('proposed', 'approved', 'running', 'done', 'failed', 'verified', 'undone')),
    proposed_by   TEXT    NOT NULL,
    approved_by   TEXT,
    reason        TEXT    NOT NULL,
    findings      TEXT    NOT NULL,
    result        TEXT,
    created       TEXT    NOT NULL,
    updated       TEXT    NOT NULL,
    UNIQUE (campaign_id, kind, target_key)
);
CREATE INDEX actions_campaign ON actions (campaign_id, state);

-- One notice per person per campaign, whatever happens: the key is unique, and a
-- run that finds the notice already sent does not send it again.
CREATE TABLE notices (
    idempotency_key TEXT  PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES campaigns (id),
    person        TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    action_id     TEXT    REFERENCES actions (id),
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT,
    last_result   TEXT,
    created       TEXT    NOT NULL,
    updated       TEXT    NOT NULL,
    UNIQUE (campaign_id, person)
);

-- Every delivery attempt and what the mail server (or the outbox) answered.
CREATE TABLE notice_deliveries (
    idempotency_key TEXT  NOT NULL REFERENCES notices (idempotency_key),
    attempt       INTEGER NOT NULL,
    at            TEXT    NOT NULL,
    ok            INTEGER NOT NULL,
    detail        TEXT    NOT NULL,
    PRIMARY KEY (idempotency_key, attempt)
);
