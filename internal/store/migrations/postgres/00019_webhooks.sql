-- +goose Up
-- Outgoing webhooks (issue 8, docs/webhooks.md), Standard Webhooks signing.
--
-- webhook_endpoints: where a workspace wants events. event_types is a JSON
-- list of event type names ('[]': every event). secret_enc is the signing
-- secret sealed with AES-256-GCM under a key derived from the install's mail
-- secret (like the IMAP password); it is shown once at creation and never
-- again. disabled_reason says why delivery stopped (an admin, or a 410 Gone).
CREATE TABLE webhook_endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL DEFAULT '[]',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    secret_enc      TEXT NOT NULL,
    disabled_reason TEXT NOT NULL DEFAULT '',
    disabled_at     TIMESTAMPTZ,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_ws ON webhook_endpoints(workspace_id, id);
-- The outbox: one row per emitted event, written in the transaction of the
-- change it reports. msg_id is the webhook-id header (receivers dedupe on it).
CREATE TABLE webhook_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    msg_id       TEXT NOT NULL,
    type         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, msg_id)
);
CREATE INDEX webhook_events_created ON webhook_events(created_at);
-- One row per (event, endpoint): its state (pending, sending, retrying,
-- succeeded, failed), the attempt count, when the next attempt is due and
-- when retrying stops. A 'sending' row is claimed (claim_token) by the worker
-- that is making the HTTP call; the claim commits before the call.
CREATE TABLE webhook_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    endpoint_id     BIGINT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id        BIGINT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    trigger_kind    TEXT NOT NULL DEFAULT 'auto',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    give_up_at      TIMESTAMPTZ NOT NULL,
    claim_token     TEXT NOT NULL DEFAULT '',
    claimed_at      TIMESTAMPTZ,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(workspace_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);
CREATE INDEX webhook_deliveries_sending ON webhook_deliveries(endpoint_id, claimed_at) WHERE state = 'sending';
-- The drain's next due delivery of an endpoint, and the sweep's overdue ones.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(endpoint_id, next_attempt_at) WHERE state IN ('pending','retrying');
CREATE INDEX webhook_deliveries_overdue ON webhook_deliveries(next_attempt_at) WHERE state IN ('pending','retrying');
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries(finished_at) WHERE finished_at IS NOT NULL;
-- The delivery log: one row per HTTP attempt. response_excerpt is at most
-- 1 kB of the body, valid UTF-8 with control characters escaped.
CREATE TABLE webhook_attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    delivery_id      BIGINT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    trigger_kind     TEXT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    latency_ms       BIGINT NOT NULL DEFAULT 0,
    status_code      INTEGER NOT NULL DEFAULT 0,
    outcome          TEXT NOT NULL,
    error            TEXT NOT NULL DEFAULT '',
    response_excerpt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(workspace_id, delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts; DROP TABLE webhook_deliveries; DROP TABLE webhook_events; DROP TABLE webhook_endpoints;
