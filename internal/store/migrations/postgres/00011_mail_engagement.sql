-- +goose Up
-- Open and click tracking (issue 4, docs/mail.md "Open and click tracking").
-- The workspace switch: off means no pixel and untouched links.
ALTER TABLE mail_senders ADD COLUMN track_engagement BOOLEAN NOT NULL DEFAULT TRUE;
-- One row per pixel fetch or tracked click. machine marks scanner/prefetch
-- events (reason says why); they never score nor count for branches. scored is
-- set on the one human event per (send, kind, url) that fed lead scoring; the
-- partial unique index makes "first human open/click" race-free.
CREATE TABLE mail_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    send_id       BIGINT NOT NULL,
    contact_id    BIGINT NOT NULL,
    enrollment_id BIGINT,
    step_id       BIGINT,
    kind          TEXT NOT NULL,
    url           TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    machine       BOOLEAN NOT NULL,
    reason        TEXT NOT NULL DEFAULT '',
    scored        BOOLEAN NOT NULL DEFAULT FALSE,
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX mail_events_send ON mail_events(workspace_id, send_id, kind);
CREATE INDEX mail_events_step ON mail_events(workspace_id, enrollment_id, step_id, kind);
CREATE UNIQUE INDEX mail_events_scored ON mail_events(workspace_id, send_id, kind, url) WHERE scored;

-- +goose Down
DROP TABLE mail_events;
ALTER TABLE mail_senders DROP COLUMN track_engagement;
