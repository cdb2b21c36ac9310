-- +goose Up
-- Mail delivery (issue 4, docs/mail.md). mail_senders: a workspace's sender
-- identity, postal address (every footer), rate limit and optional DKIM key.
CREATE TABLE mail_senders (
    workspace_id   BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    from_name      TEXT NOT NULL DEFAULT '',
    from_address   TEXT NOT NULL,
    reply_to       TEXT NOT NULL DEFAULT '',
    postal_address TEXT NOT NULL,
    rate_per_sec   DOUBLE PRECISION NOT NULL DEFAULT 0,
    dkim_domain    TEXT NOT NULL DEFAULT '',
    dkim_selector  TEXT NOT NULL DEFAULT '',
    dkim_key_pem   TEXT NOT NULL DEFAULT '',
    updated_by     TEXT NOT NULL DEFAULT '',
    updated_at     DATETIME NOT NULL
);
-- Templates a send renders (subject, HTML, optional plain text).
CREATE TABLE mail_templates (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    html         TEXT NOT NULL,
    text         TEXT NOT NULL DEFAULT '',
    updated_at   DATETIME NOT NULL
);
CREATE INDEX mail_templates_ws ON mail_templates(workspace_id, id);
-- Install-wide secrets (the unsubscribe token key when config has none).
CREATE TABLE mail_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
-- One row per send; dedupe_key is unique per workspace so planning twice is a no-op.
CREATE TABLE send_ledger (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    dedupe_key    TEXT NOT NULL,
    enrollment_id BIGINT,
    step_id       BIGINT,
    contact_id    BIGINT NOT NULL,
    template_id   BIGINT NOT NULL,
    -- per-send template variables (a confirmation link), JSON object of strings
    vars          TEXT NOT NULL DEFAULT '{}',
    to_email      TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    soft_bounces  INTEGER NOT NULL DEFAULT 0,
    last_code     INTEGER NOT NULL DEFAULT 0,
    last_text     TEXT NOT NULL DEFAULT '',
    due_at        DATETIME NOT NULL,
    claimed_by    TEXT NOT NULL DEFAULT '',
    claimed_at    DATETIME,
    started_at    DATETIME,
    finished_at   DATETIME,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    UNIQUE (workspace_id, dedupe_key)
);
-- Due rows in due order: the claim reads this partial index front to back.
CREATE INDEX send_ledger_due ON send_ledger(due_at, id) WHERE state IN ('planned','deferred');
CREATE INDEX send_ledger_email ON send_ledger(workspace_id, to_email);
CREATE INDEX send_ledger_contact ON send_ledger(workspace_id, contact_id);
CREATE UNIQUE INDEX send_ledger_message_id ON send_ledger(message_id);
-- Addresses never mailed again; emails are stored lower-case and survive re-import.
CREATE TABLE suppressions (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (workspace_id, email)
);

-- +goose Down
DROP TABLE suppressions; DROP TABLE send_ledger; DROP TABLE mail_secrets; DROP TABLE mail_templates; DROP TABLE mail_senders;
