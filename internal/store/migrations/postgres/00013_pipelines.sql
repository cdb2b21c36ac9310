-- +goose Up
-- Pipelines, stage history and buying committees (issue 5, PRODUCT.md §4). A
-- workspace's pipeline is stored whole (stages with their exit criteria as JSON):
-- the API and UI edit it at once and internal/pipeline validates it; a workspace
-- with no rows uses the built-in defaults.
CREATE TABLE pipelines (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    stages        JSONB NOT NULL DEFAULT '[]',
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, key)
);
-- One row per stay of a deal in a stage; left_at is NULL for the current one.
CREATE TABLE deal_stage_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    deal_id      BIGINT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    pipeline     TEXT NOT NULL,
    stage        TEXT NOT NULL,
    entered_at   TIMESTAMPTZ NOT NULL,
    entered_by   TEXT NOT NULL DEFAULT '',
    left_at      TIMESTAMPTZ,
    left_by      TEXT NOT NULL DEFAULT '',
    override     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history(deal_id, id);
CREATE INDEX deal_stage_history_open ON deal_stage_history(workspace_id, deal_id) WHERE left_at IS NULL;
-- The buying committee: a contact's role on a deal and their sign-off.
CREATE TABLE deal_committee (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    deal_id      BIGINT NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    contact_id   BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    signoff      TEXT NOT NULL DEFAULT 'pending',
    signoff_at   TIMESTAMPTZ,
    recorded_by  TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (deal_id, contact_id)
);
CREATE INDEX deal_committee_ws ON deal_committee(workspace_id, deal_id);

-- +goose Down
DROP TABLE deal_committee;
DROP TABLE deal_stage_history;
DROP TABLE pipelines;
