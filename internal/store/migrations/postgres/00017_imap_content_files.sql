-- +goose Up
-- Reply mailbox polling and uploaded content files (issue 4, docs/mail.md and
-- docs/forms.md).
--
-- mail_imap: a workspace's reply mailbox. The password is stored encrypted
-- (AES-256-GCM under a key derived from the install's mail secret) and is
-- write-only: no response, page or log shows it. last_* keep the outcome of
-- the latest poll for the settings page.
CREATE TABLE mail_imap (
    workspace_id  BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    host          TEXT NOT NULL,
    port          INTEGER NOT NULL,
    tls_mode      TEXT NOT NULL,
    username      TEXT NOT NULL,
    password_enc  TEXT NOT NULL DEFAULT '',
    mailbox       TEXT NOT NULL DEFAULT 'INBOX',
    last_poll_at  TIMESTAMPTZ,
    last_error    TEXT NOT NULL DEFAULT '',
    last_fetched  INTEGER NOT NULL DEFAULT 0,
    updated_by    TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMPTZ NOT NULL
);
-- Uploaded files of the content library, in the database so every serve
-- process on one PostgreSQL serves the same bytes. One file per asset; the
-- asset row carries the metadata lists show (file_name, file_type, file_size).
CREATE TABLE content_files (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    asset_id     BIGINT NOT NULL REFERENCES content_assets(id) ON DELETE CASCADE,
    sha256       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, asset_id)
);
ALTER TABLE content_assets ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE content_assets ADD COLUMN file_type TEXT NOT NULL DEFAULT '';
ALTER TABLE content_assets ADD COLUMN file_size BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE content_assets DROP COLUMN file_size;
ALTER TABLE content_assets DROP COLUMN file_type;
ALTER TABLE content_assets DROP COLUMN file_name;
DROP TABLE content_files;
DROP TABLE mail_imap;
