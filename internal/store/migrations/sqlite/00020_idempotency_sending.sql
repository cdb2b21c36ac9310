-- +goose Up
-- Idempotency-Key on POST /api/v1 (docs/api.md, docs/reliability.md): the
-- first request with a key claims it (status 0 while it runs); its response
-- is kept for 24 hours and replayed to a retry with the same body hash. Keys
-- are scoped to the workspace and the credential (user or API key) that sent
-- them. A periodic job deletes keys older than 24 hours.
CREATE TABLE idempotency_keys (
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    principal     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    content_type  TEXT NOT NULL DEFAULT '',
    location      TEXT NOT NULL DEFAULT '',
    body          BLOB,
    created_at    DATETIME NOT NULL,
    locked_until  DATETIME NOT NULL,
    completed_at  DATETIME,
    PRIMARY KEY (workspace_id, principal, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
-- Install-wide switches that are not workspace data. sending_paused is set by
-- `rightsize restore`: mail delivery, sequence dispatch and webhook delivery
-- wait until an admin confirms (docs/reliability.md).
CREATE TABLE instance_flags (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL DEFAULT '',
    set_by  TEXT NOT NULL DEFAULT '',
    set_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE instance_flags; DROP TABLE idempotency_keys;
