-- +goose Up
-- Unit economics metrics (issue 6, phase 2; docs/economics.md): guardrail state
-- per segment × motion, the alerts raised when a cell turns red, and indexes
-- that let the metrics read 1,000,000 MRR movements in one pass.
--
-- Each customer's acquisition: its one 'new' movement (month, segment, motion),
-- read by account — the cohort and the segment × motion every later movement of
-- the customer is counted in.
CREATE INDEX mrr_movements_acquired ON mrr_movements(workspace_id, account_id, month, segment, motion, currency, amount, effective_date) WHERE kind = 'new';
-- The metrics' scan: every movement of a workspace in account order, from the
-- index alone.
CREATE INDEX mrr_movements_econ ON mrr_movements(workspace_id, account_id, month, kind, amount);
-- The last evaluated status of each segment × motion cell (green, amber, red,
-- no_data): an alert is raised on a transition to red.
CREATE TABLE economics_guardrails (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    segment      TEXT NOT NULL,
    motion       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('green', 'amber', 'red', 'no_data')),
    detail       TEXT NOT NULL DEFAULT '{}',
    evaluated_at DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, segment, motion)
);
-- One row per transition to red, with the numbers behind it (JSON).
CREATE TABLE economics_alerts (
    id              INTEGER PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    segment         TEXT NOT NULL,
    motion          TEXT NOT NULL,
    previous_status TEXT NOT NULL,
    status          TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT '{}',
    window_from     TEXT NOT NULL,
    window_to       TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    acknowledged_at DATETIME,
    acknowledged_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX economics_alerts_ws ON economics_alerts(workspace_id, created_at, id);

-- +goose Down
DROP TABLE economics_alerts;
DROP TABLE economics_guardrails;
DROP INDEX mrr_movements_econ;
DROP INDEX mrr_movements_acquired;
