-- +goose Up
-- Lead scoring (issue 3, docs/scoring.md). A workspace without a scoring_config row
-- scores with the defaults.
CREATE TABLE scoring_config (
    workspace_id      BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    half_life_seconds BIGINT NOT NULL,
    mql_threshold     DOUBLE PRECISION NOT NULL,
    event_weights     JSONB NOT NULL DEFAULT '{}',
    fit_rules         JSONB NOT NULL DEFAULT '[]',
    updated_by        TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMPTZ NOT NULL
);
-- One row per scored contact. The engagement score is a value at a moment
-- (engagement_value at engagement_at) decayed on read, so nothing rewrites it as time
-- passes; due_at is when the decaying total will fall below the MQL threshold. Kept
-- narrow: every event batch rewrites many rows. workspace_id has no foreign key of its
-- own here or in engagement_events: rows go with their contact, which goes with its
-- workspace (and each check cost per row written).
CREATE TABLE contact_scores (
    workspace_id     BIGINT NOT NULL,
    contact_id       BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    fit              DOUBLE PRECISION NOT NULL DEFAULT 0,
    engagement_value DOUBLE PRECISION NOT NULL DEFAULT 0,
    engagement_at    TIMESTAMPTZ NOT NULL,
    total            DOUBLE PRECISION NOT NULL DEFAULT 0,
    due_at           TIMESTAMPTZ,
    mql_at           TIMESTAMPTZ,
    events           BIGINT NOT NULL DEFAULT 0,
    breakdown        JSONB NOT NULL DEFAULT '{}',
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, contact_id)
);
CREATE INDEX contact_scores_due ON contact_scores(workspace_id, due_at) WHERE due_at IS NOT NULL;
CREATE TABLE engagement_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    contact_id   BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    weight       DOUBLE PRECISION NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    detail       JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL
);
-- contact_id first: it also serves the ON DELETE CASCADE lookup when a contact goes.
CREATE INDEX engagement_events_contact ON engagement_events(contact_id, occurred_at);
CREATE INDEX contact_scores_contact ON contact_scores(contact_id);

-- +goose Down
DROP TABLE engagement_events; DROP TABLE contact_scores; DROP TABLE scoring_config;
