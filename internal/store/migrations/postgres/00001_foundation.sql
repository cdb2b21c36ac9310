-- +goose Up
CREATE TABLE workspaces (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    currency   TEXT NOT NULL DEFAULT 'USD',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id BIGINT REFERENCES workspaces(id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_ws ON api_keys(workspace_id);
CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT,
    user_id      BIGINT,
    api_key_id   BIGINT,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    BIGINT,
    detail       TEXT NOT NULL DEFAULT '{}',
    ip           TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_ws ON audit_log(workspace_id, id);
CREATE TABLE accounts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id   BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    external_id    TEXT,
    name           TEXT NOT NULL,
    domain         TEXT,
    employees      BIGINT,
    annual_revenue BIGINT,
    budget         BIGINT,
    currency       TEXT NOT NULL,
    industry       TEXT NOT NULL DEFAULT '',
    region         TEXT NOT NULL DEFAULT '',
    owner_id       BIGINT REFERENCES users(id) ON DELETE SET NULL,
    segment        TEXT NOT NULL DEFAULT '',
    motion         TEXT NOT NULL DEFAULT '',
    custom         JSONB NOT NULL DEFAULT '{}',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX accounts_domain ON accounts(workspace_id, domain) WHERE domain IS NOT NULL;
CREATE UNIQUE INDEX accounts_ext ON accounts(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_name ON accounts(workspace_id, name);
CREATE TABLE contacts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    external_id     TEXT,
    email           TEXT NOT NULL,
    first_name      TEXT NOT NULL DEFAULT '',
    last_name       TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    account_id      BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'lead',
    owner_id        BIGINT REFERENCES users(id) ON DELETE SET NULL,
    source          TEXT NOT NULL DEFAULT '',
    utm_source      TEXT NOT NULL DEFAULT '',
    utm_medium      TEXT NOT NULL DEFAULT '',
    utm_campaign    TEXT NOT NULL DEFAULT '',
    consent_basis   TEXT NOT NULL DEFAULT '',
    consent_source  TEXT NOT NULL DEFAULT '',
    consent_at      TIMESTAMPTZ,
    custom          JSONB NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX contacts_email ON contacts(workspace_id, email);
CREATE UNIQUE INDEX contacts_ext ON contacts(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_account ON contacts(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX contacts_stage ON contacts(workspace_id, lifecycle_stage, id);
CREATE TABLE deals (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id        BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    external_id         TEXT,
    account_id          BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    amount              BIGINT NOT NULL DEFAULT 0,
    currency            TEXT NOT NULL,
    pipeline            TEXT NOT NULL,
    stage               TEXT NOT NULL,
    owner_id            BIGINT REFERENCES users(id) ON DELETE SET NULL,
    expected_close_date TEXT NOT NULL DEFAULT '',
    outcome             TEXT NOT NULL DEFAULT '',
    loss_reason         TEXT NOT NULL DEFAULT '',
    closed_at           TIMESTAMPTZ,
    custom              JSONB NOT NULL DEFAULT '{}',
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX deals_ext ON deals(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX deals_account ON deals(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX deals_stage ON deals(workspace_id, pipeline, stage);
CREATE INDEX deals_created ON deals(workspace_id, created_at, id);
CREATE TABLE activities (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    external_id      TEXT,
    kind             TEXT NOT NULL,
    subject          TEXT NOT NULL DEFAULT '',
    body             TEXT NOT NULL DEFAULT '',
    occurred_at      TIMESTAMPTZ NOT NULL,
    duration_minutes BIGINT NOT NULL DEFAULT 0,
    owner_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    contact_id       BIGINT REFERENCES contacts(id) ON DELETE SET NULL,
    account_id       BIGINT REFERENCES accounts(id) ON DELETE SET NULL,
    deal_id          BIGINT REFERENCES deals(id) ON DELETE SET NULL,
    participants     TEXT NOT NULL DEFAULT '[]',
    custom           JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX activities_ext ON activities(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX activities_contact ON activities(contact_id, occurred_at);
CREATE INDEX activities_account ON activities(account_id, occurred_at);
CREATE INDEX activities_deal ON activities(deal_id, occurred_at);
CREATE INDEX activities_ws ON activities(workspace_id, occurred_at);
CREATE TABLE custom_fields (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    object_type  TEXT NOT NULL,
    key          TEXT NOT NULL,
    label        TEXT NOT NULL,
    type         TEXT NOT NULL,
    options      TEXT NOT NULL DEFAULT '[]',
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, object_type, key)
);
CREATE TABLE record_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    object_type  TEXT NOT NULL,
    object_id    BIGINT NOT NULL,
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '{}',
    actor        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX record_history_obj ON record_history(workspace_id, object_type, object_id, id);
CREATE TABLE imports (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    object_type  TEXT NOT NULL,
    filename     TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    options      TEXT NOT NULL DEFAULT '{}',
    bytes        BIGINT NOT NULL DEFAULT 0,
    rows_total   BIGINT NOT NULL DEFAULT 0,
    accepted     BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    merged       BIGINT NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT '{}',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX imports_ws ON imports(workspace_id, id);
CREATE TABLE import_chunks (
    import_id BIGINT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);
CREATE TABLE import_errors (
    import_id BIGINT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line      BIGINT NOT NULL,
    col       BIGINT NOT NULL,
    field     TEXT NOT NULL DEFAULT '',
    reason    TEXT NOT NULL,
    raw       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (import_id, line, col)
);

-- +goose Down
DROP TABLE import_errors; DROP TABLE import_chunks; DROP TABLE imports; DROP TABLE record_history;
DROP TABLE custom_fields; DROP TABLE activities; DROP TABLE deals; DROP TABLE contacts; DROP TABLE accounts;
DROP TABLE audit_log; DROP TABLE api_keys; DROP TABLE sessions; DROP TABLE memberships; DROP TABLE users; DROP TABLE workspaces;
