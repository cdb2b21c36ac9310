-- +goose Up
-- The LDR desk (PRODUCT.md §3): a handoff records who passed a qualified contact
-- and its new deal to whom, with the BANT answers and the note; a
-- disqualification keeps the reason so reasons can be counted per period.
-- contact/deal/user ids are plain numbers: these rows are history and outlive
-- a merge or a rep leaving.
CREATE TABLE handoffs (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   BIGINT NOT NULL,
    deal_id      BIGINT,
    from_user_id BIGINT,
    to_user_id   BIGINT,
    kind         TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    bant         TEXT NOT NULL DEFAULT '{}',
    created_at   DATETIME NOT NULL
);
CREATE INDEX handoffs_deal ON handoffs(workspace_id, deal_id);
CREATE INDEX handoffs_contact ON handoffs(workspace_id, contact_id);
CREATE TABLE disqualifications (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    contact_id   BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    user_id      BIGINT,
    created_at   DATETIME NOT NULL
);
-- Reason counts per period.
CREATE INDEX disqualifications_period ON disqualifications(workspace_id, created_at);

-- +goose Down
DROP TABLE disqualifications; DROP TABLE handoffs;
