-- +goose Up
-- Sessions, throttling, password resets and system mail (issue 8;
-- docs/security-sessions.md).
--
-- api_keys.created_by_user_id: the user who minted a key. A disabled user's
-- keys are refused while they are disabled. Keys made before this column
-- existed take their creator from the audit log's api_key_create entry (keys
-- made from the CLI have none and are not tied to a user).
ALTER TABLE api_keys ADD COLUMN created_by_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
UPDATE api_keys SET created_by_user_id = (
    SELECT a.user_id FROM audit_log a
    WHERE a.action = 'api_key_create' AND a.target_type = 'api_key' AND a.target_id = api_keys.id
      AND a.user_id IN (SELECT id FROM users)
    ORDER BY a.id LIMIT 1);
CREATE INDEX api_keys_creator ON api_keys(created_by_user_id);
-- Login and password-reset throttling: one fixed window per key
-- ("login:acct:<email>", "login:ip:<ip>", ...), in the database so every
-- serve process sharing it sees the same counts.
CREATE TABLE auth_throttle (
    key          TEXT PRIMARY KEY,
    window_start DATETIME NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX auth_throttle_window ON auth_throttle(window_start);
-- Self-service password reset: only the SHA-256 of the emailed token is kept;
-- a token works once, for an hour.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE INDEX password_resets_user ON password_resets(user_id);
CREATE INDEX password_resets_expires ON password_resets(expires_at);
-- Install-wide transactional mail (password resets) to users, who are not
-- contacts of a workspace: a ledger with a unique key, the body sealed with
-- the install key and wiped once the row is finished.
CREATE TABLE system_mail (
    id         INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    to_email   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body_enc   TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_code  INTEGER NOT NULL DEFAULT 0,
    last_text  TEXT NOT NULL DEFAULT '',
    due_at     DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    started_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX system_mail_due ON system_mail(due_at, id) WHERE state = 'planned';

-- +goose Down
DROP TABLE system_mail; DROP TABLE password_resets; DROP TABLE auth_throttle;
DROP INDEX api_keys_creator;
-- SQLite cannot drop a column that references another table; created_by_user_id stays (NULL-able, unused by older code).
