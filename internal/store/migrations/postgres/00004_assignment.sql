-- +goose Up
-- Assignment (PRODUCT.md §2): pools of reps per role and team, round-robin from a
-- stored cursor (so it survives restarts and is shared by every serve process),
-- capacity over a rolling 30 days, and speed-to-lead SLA timers. Territories
-- (regions, industries) are JSON lists matched in Go; an empty list matches all.
CREATE TABLE assignment_pools (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('ldr', 'ae', 'csm')),
    team           TEXT NOT NULL DEFAULT '',
    regions        TEXT NOT NULL DEFAULT '[]',
    industries     TEXT NOT NULL DEFAULT '[]',
    capacity       INTEGER NOT NULL CHECK (capacity > 0),
    cursor_user_id BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX assignment_pools_role ON assignment_pools(workspace_id, role, team);
CREATE TABLE pool_members (
    pool_id             BIGINT NOT NULL REFERENCES assignment_pools(id) ON DELETE CASCADE,
    workspace_id        BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id             BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    out_of_office_until TIMESTAMPTZ,
    regions             TEXT NOT NULL DEFAULT '[]',
    industries          TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (pool_id, user_id)
);
-- pool_id/user_id are kept as plain numbers: an assignment is history and
-- outlives a pool or a rep leaving.
CREATE TABLE assignments (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    pool_id        BIGINT NOT NULL,
    user_id        BIGINT NOT NULL,
    object_type    TEXT NOT NULL CHECK (object_type IN ('contact', 'account', 'deal')),
    object_id      BIGINT NOT NULL,
    motion         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    assigned_at    TIMESTAMPTZ NOT NULL,
    sla_due_at     TIMESTAMPTZ NOT NULL,
    first_touch_at TIMESTAMPTZ,
    breached       BOOLEAN NOT NULL DEFAULT FALSE
);
-- Open items per rep in the last 30 days (capacity).
CREATE INDEX assignments_rep ON assignments(workspace_id, user_id, assigned_at);
-- SLA due, not touched (queues, overdue counts).
CREATE INDEX assignments_sla ON assignments(workspace_id, sla_due_at) WHERE first_touch_at IS NULL;
CREATE INDEX assignments_object ON assignments(workspace_id, object_type, object_id);
-- One row per workspace that changed the defaults (UTC; 60 and 480 business minutes).
CREATE TABLE assignment_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    timezone     TEXT NOT NULL DEFAULT '',
    sla_minutes  TEXT NOT NULL DEFAULT '{}',
    updated_at   TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE assignment_settings; DROP TABLE assignments; DROP TABLE pool_members; DROP TABLE assignment_pools;
