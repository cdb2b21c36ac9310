-- +goose Up
-- Segment and routing rules are ordered lists per workspace: the first rule that
-- matches wins, and the last one matches everything. A workspace without rows uses
-- the built-in defaults (internal/routing). Conditions are JSON evaluated in Go,
-- never turned into SQL.
CREATE TABLE segment_rules (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    segment      TEXT NOT NULL,
    conditions   TEXT NOT NULL DEFAULT '[]',
    is_catch_all INTEGER NOT NULL DEFAULT 0,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    UNIQUE (workspace_id, position)
);
CREATE TABLE routing_rules (
    id                INTEGER PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    segment           TEXT NOT NULL DEFAULT '',
    conditions        TEXT NOT NULL DEFAULT '[]',
    motion            TEXT NOT NULL,
    pipeline          TEXT NOT NULL,
    team              TEXT NOT NULL DEFAULT '',
    assignment_policy TEXT NOT NULL,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (workspace_id, position)
);
-- Rule ids are kept as plain numbers: a decision is a snapshot (inputs and reason)
-- that outlives the rule list it was made from.
CREATE TABLE routing_decisions (
    id                INTEGER PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id        BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    segment_rule_id   BIGINT,
    routing_rule_id   BIGINT,
    segment           TEXT NOT NULL,
    motion            TEXT NOT NULL,
    pipeline          TEXT NOT NULL DEFAULT '',
    team              TEXT NOT NULL DEFAULT '',
    assignment_policy TEXT NOT NULL DEFAULT '',
    manual            INTEGER NOT NULL DEFAULT 0,
    inputs            TEXT NOT NULL DEFAULT '{}',
    reason            TEXT NOT NULL,
    triggered_by      TEXT NOT NULL DEFAULT '',
    previous_segment  TEXT NOT NULL DEFAULT '',
    previous_motion   TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL
);
-- account_id first: it also serves the ON DELETE CASCADE lookup when an account goes.
CREATE INDEX routing_decisions_account ON routing_decisions(account_id, id);
-- Re-routing flags an account's open deals for review instead of moving them.
ALTER TABLE deals ADD COLUMN needs_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deals ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX deals_review ON deals(workspace_id, id) WHERE needs_review = 1;

-- +goose Down
DROP INDEX deals_review;
ALTER TABLE deals DROP COLUMN review_reason;
ALTER TABLE deals DROP COLUMN needs_review;
DROP TABLE routing_decisions; DROP TABLE routing_rules; DROP TABLE segment_rules;
