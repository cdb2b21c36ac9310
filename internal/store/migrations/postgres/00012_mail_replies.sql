-- +goose Up
-- Replies to our messages (issue 4, docs/mail.md): matched to the send by
-- In-Reply-To / References; the reply's own Message-ID makes a provider's
-- redelivery of the same reply a no-op. Auto-replies (RFC 3834) are kept,
-- marked, and fire nothing.
CREATE TABLE mail_replies (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    message_id   TEXT NOT NULL,
    send_id      BIGINT NOT NULL,
    contact_id   BIGINT NOT NULL,
    from_address TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    auto_reply   BOOLEAN NOT NULL DEFAULT FALSE,
    activity_id  BIGINT,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, message_id)
);
CREATE INDEX mail_replies_contact ON mail_replies(workspace_id, contact_id);

-- +goose Down
DROP TABLE mail_replies;
