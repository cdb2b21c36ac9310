-- +goose Up
-- Customer success (issue 5, docs/success.md): the AE → CSM handoff opened when a
-- deal is won, its onboarding checklist, the health inputs of a customer (an
-- account) and its health score with history. These tables are separate from
-- handoffs (00005, LDR → AE) so the two kinds are never conflated.

-- A workspace's settings; a NULL column means the built-in defaults.
CREATE TABLE cs_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    health       TEXT,
    checklists   TEXT,
    updated_by   TEXT NOT NULL DEFAULT '',
    updated_at   DATETIME NOT NULL
);
-- One handoff per won deal. account/deal/user ids are plain numbers, like the
-- desk's handoffs: a handoff is history and outlives a deleted deal or a rep
-- leaving. status: awaiting_note → awaiting_acceptance → accepted.
CREATE TABLE cs_handoffs (
    id                INTEGER PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id        BIGINT NOT NULL,
    deal_id           BIGINT NOT NULL,
    motion            TEXT NOT NULL,
    ae_user_id        BIGINT,
    csm_user_id       BIGINT,
    assignment_id     BIGINT,
    assignment_reason TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    goals             TEXT NOT NULL DEFAULT '',
    stakeholders      TEXT NOT NULL DEFAULT '',
    risks             TEXT NOT NULL DEFAULT '',
    note_by           TEXT NOT NULL DEFAULT '',
    note_at           DATETIME,
    accepted_by       TEXT NOT NULL DEFAULT '',
    accepted_at       DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE UNIQUE INDEX cs_handoffs_deal ON cs_handoffs(workspace_id, deal_id);
CREATE INDEX cs_handoffs_account ON cs_handoffs(workspace_id, account_id, id);
CREATE INDEX cs_handoffs_status ON cs_handoffs(workspace_id, status, id);
-- The checklist instantiated from the motion's template when the handoff opened.
CREATE TABLE cs_onboarding_items (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    handoff_id   BIGINT NOT NULL REFERENCES cs_handoffs(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    item_key     TEXT NOT NULL,
    title        TEXT NOT NULL,
    done_at      DATETIME,
    done_by      TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX cs_onboarding_items_key ON cs_onboarding_items(handoff_id, item_key);
-- Product usage reported by the customer's product (POST …/usage). dedupe_key,
-- when given, makes a re-sent event count once (NULLs never collide).
CREATE TABLE cs_usage_events (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    occurred_at  DATETIME NOT NULL,
    dedupe_key   TEXT,
    created_at   DATETIME NOT NULL
);
CREATE INDEX cs_usage_account ON cs_usage_events(workspace_id, account_id, occurred_at);
CREATE UNIQUE INDEX cs_usage_dedupe ON cs_usage_events(workspace_id, account_id, dedupe_key);
CREATE TABLE cs_nps_responses (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id   BIGINT,
    score        INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    comment      TEXT NOT NULL DEFAULT '',
    responded_at DATETIME NOT NULL,
    recorded_by  TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL
);
CREATE INDEX cs_nps_account ON cs_nps_responses(workspace_id, account_id, responded_at);
-- The scalar inputs: open support items (a count reported by the help desk)
-- and the CSM's sentiment with its note. NULL: never reported.
CREATE TABLE cs_customer_inputs (
    workspace_id       BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id         BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    open_support_items BIGINT,
    support_by         TEXT NOT NULL DEFAULT '',
    support_at         DATETIME,
    sentiment          TEXT,
    sentiment_note     TEXT NOT NULL DEFAULT '',
    sentiment_by       TEXT NOT NULL DEFAULT '',
    sentiment_at       DATETIME,
    PRIMARY KEY (workspace_id, account_id)
);
-- The latest health of each customer (what queues and lists read) …
CREATE TABLE cs_health (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    score        INTEGER NOT NULL,
    band         TEXT NOT NULL,
    breakdown    TEXT NOT NULL DEFAULT '{}',
    cause        TEXT NOT NULL,
    computed_at  DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, account_id)
);
CREATE INDEX cs_health_band ON cs_health(workspace_id, band, score);
-- … and its history: a row per recompute that changed something, plus one per
-- customer per UTC day from the daily job (day set; the unique index makes the
-- daily recompute idempotent, NULL days never collide).
CREATE TABLE cs_health_history (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    score        INTEGER NOT NULL,
    band         TEXT NOT NULL,
    breakdown    TEXT NOT NULL DEFAULT '{}',
    cause        TEXT NOT NULL,
    day          TEXT,
    computed_at  DATETIME NOT NULL
);
CREATE INDEX cs_health_history_account ON cs_health_history(workspace_id, account_id, computed_at);
CREATE UNIQUE INDEX cs_health_history_day ON cs_health_history(workspace_id, account_id, day);

-- +goose Down
DROP TABLE cs_health_history; DROP TABLE cs_health; DROP TABLE cs_customer_inputs; DROP TABLE cs_nps_responses;
DROP TABLE cs_usage_events; DROP TABLE cs_onboarding_items; DROP TABLE cs_handoffs; DROP TABLE cs_settings;
