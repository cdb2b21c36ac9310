-- +goose Up
-- Nurture sequences (docs/sequences.md): a sequence is an ordered list of steps; an
-- enrollment walks one contact through it. The schedule lives here: an active
-- enrollment's next_due_at is the time its current step runs, written in the
-- transaction that makes it due, and workers claim due rows through
-- enrollments_due. No table of "jobs per message": one River job claims a batch.
CREATE TABLE sequences (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused')),
    trigger_kind      TEXT NOT NULL DEFAULT 'manual',
    trigger_ref       TEXT NOT NULL DEFAULT '',
    exit_rules        TEXT NOT NULL DEFAULT '[]',
    send_window       TEXT,
    staleness_minutes INTEGER NOT NULL DEFAULT 1440 CHECK (staleness_minutes > 0),
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE INDEX sequences_trigger ON sequences(workspace_id, trigger_kind, trigger_ref) WHERE status = 'active';
-- A step keeps its id while its position exists, so editing a sequence never gives
-- an already-sent (enrollment, step) a new send key.
CREATE TABLE sequence_steps (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sequence_id  BIGINT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    kind         TEXT NOT NULL,
    config       TEXT NOT NULL DEFAULT '{}',
    UNIQUE (sequence_id, position)
);
CREATE TABLE enrollments (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id      BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sequence_id       BIGINT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    contact_id        BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused', 'held', 'exited', 'completed')),
    paused_by         TEXT NOT NULL DEFAULT '',
    position          INTEGER NOT NULL DEFAULT 0,
    next_due_at       TIMESTAMPTZ,
    hold_reason       TEXT NOT NULL DEFAULT '',
    exit_reason       TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL DEFAULT '',
    last_send_step_id BIGINT,
    enrolled_at       TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ
);
-- One running (active, paused or held) enrollment per contact per sequence;
-- exited and completed ones stay as history and allow re-enrolment.
CREATE UNIQUE INDEX enrollments_one_running ON enrollments(sequence_id, contact_id) WHERE status IN ('active', 'paused', 'held');
-- The claim: due active enrollments in due order.
CREATE INDEX enrollments_due ON enrollments(next_due_at) WHERE status = 'active';
CREATE INDEX enrollments_contact ON enrollments(workspace_id, contact_id);
CREATE INDEX enrollments_sequence ON enrollments(workspace_id, sequence_id, status, id);
-- Only the enrollment is a foreign key: a log row goes with its enrollment (and
-- so with its sequence and workspace), and one key to check per row keeps a
-- batch's inserts cheap. workspace_id and sequence_id are scoping copies.
CREATE TABLE sequence_step_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id  BIGINT NOT NULL,
    sequence_id   BIGINT NOT NULL,
    enrollment_id BIGINT NOT NULL REFERENCES enrollments(id) ON DELETE CASCADE,
    step_id       BIGINT,
    position      INTEGER NOT NULL,
    outcome       TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX sequence_step_log_seq ON sequence_step_log(workspace_id, sequence_id, step_id, outcome);
CREATE INDEX sequence_step_log_enrollment ON sequence_step_log(enrollment_id, id);

-- +goose Down
DROP TABLE sequence_step_log; DROP TABLE enrollments; DROP TABLE sequence_steps; DROP TABLE sequences;
