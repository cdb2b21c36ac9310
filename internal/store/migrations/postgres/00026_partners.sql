-- +goose Up
-- Partner mode (issue 6; docs/economics.md, "Partners"): an outsourced
-- (sales-as-a-service) team as a workspace record with its fee terms, the users
-- who work for it, and the AE's decision on each LDR → AE handoff — the record
-- that makes an SQL "accepted", and so billable.
--
-- Money is integer minor units of the partner's currency; months are 'YYYY-MM'.
CREATE TABLE partners (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id       BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    currency           TEXT NOT NULL,
    retainer_monthly   BIGINT NOT NULL DEFAULT 0 CHECK (retainer_monthly >= 0),
    fee_per_meeting    BIGINT NOT NULL DEFAULT 0 CHECK (fee_per_meeting >= 0),
    fee_per_sql        BIGINT NOT NULL DEFAULT 0 CHECK (fee_per_sql >= 0),
    fee_per_won        BIGINT NOT NULL DEFAULT 0 CHECK (fee_per_won >= 0),
    setup_fee          BIGINT NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
    -- Internal management time: part of what the partner costs, not of what it is owed.
    management_monthly BIGINT NOT NULL DEFAULT 0 CHECK (management_monthly >= 0),
    start_month        TEXT NOT NULL,
    -- '' while the contract runs.
    end_month          TEXT NOT NULL DEFAULT '',
    note               TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name),
    CHECK (end_month = '' OR end_month >= start_month)
);
-- A user works for at most one partner in a workspace.
CREATE TABLE partner_members (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    partner_id   BIGINT NOT NULL REFERENCES partners(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX partner_members_partner ON partner_members(workspace_id, partner_id);
-- The receiving AE accepts or rejects an ldr_to_ae handoff; pending until then.
ALTER TABLE handoffs ADD COLUMN decision TEXT NOT NULL DEFAULT 'pending' CHECK (decision IN ('pending', 'accepted', 'rejected'));
ALTER TABLE handoffs ADD COLUMN decided_at TIMESTAMPTZ;
ALTER TABLE handoffs ADD COLUMN decided_by BIGINT;
ALTER TABLE handoffs ADD COLUMN decision_note TEXT NOT NULL DEFAULT '';
-- Delivered work by rep and month: handoffs by sender, meetings by owner.
CREATE INDEX handoffs_from ON handoffs(workspace_id, from_user_id, created_at);
CREATE INDEX activities_owner_kind ON activities(workspace_id, owner_id, kind, occurred_at);

-- +goose Down
DROP INDEX activities_owner_kind;
DROP INDEX handoffs_from;
ALTER TABLE handoffs DROP COLUMN decision_note;
ALTER TABLE handoffs DROP COLUMN decided_by;
ALTER TABLE handoffs DROP COLUMN decided_at;
ALTER TABLE handoffs DROP COLUMN decision;
DROP TABLE partner_members;
DROP TABLE partners;
