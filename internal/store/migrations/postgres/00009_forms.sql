-- +goose Up
-- Forms and the content library (issue 4, PRODUCT.md §3). A form is found by its
-- public key (embedded in customers' pages), never by a workspace id from the
-- client. Every submission is kept, spam included, so the counts reconcile:
-- submissions = accepted + spam. contact/deal ids are plain numbers: a
-- submission is history and outlives a merge.
CREATE TABLE forms (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id     BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    public_key       TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    fields           TEXT NOT NULL DEFAULT '[]',
    progressive      TEXT NOT NULL DEFAULT '[]',
    consent_text     TEXT NOT NULL DEFAULT '',
    consent_version  TEXT NOT NULL DEFAULT '',
    double_opt_in    BOOLEAN NOT NULL DEFAULT FALSE,
    redirect_url     TEXT NOT NULL DEFAULT '',
    allowed_origins  TEXT NOT NULL DEFAULT '[]',
    asset_id         BIGINT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE form_submissions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    form_id         BIGINT NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    contact_id      BIGINT,
    deal_id         BIGINT,
    visitor_id      TEXT NOT NULL DEFAULT '',
    fields          TEXT NOT NULL DEFAULT '{}',
    utm             TEXT NOT NULL DEFAULT '{}',
    consent_version TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    confirm_token   TEXT,
    confirmed_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX form_submissions_form ON form_submissions(form_id, created_at);
CREATE INDEX form_submissions_contact ON form_submissions(workspace_id, contact_id);
CREATE UNIQUE INDEX form_submissions_token ON form_submissions(confirm_token) WHERE confirm_token IS NOT NULL;
CREATE TABLE content_assets (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    url          TEXT NOT NULL,
    type         TEXT NOT NULL,
    stage        TEXT NOT NULL DEFAULT '',
    segment      TEXT NOT NULL DEFAULT '',
    topic        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX content_assets_ws ON content_assets(workspace_id, id);

-- +goose Down
DROP TABLE content_assets; DROP TABLE form_submissions; DROP TABLE forms;
