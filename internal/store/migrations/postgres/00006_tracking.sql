-- +goose Up
-- First-party web tracking (issue 4, docs/tracking.md). A site is what a page's
-- snippet names by its public key; the key alone decides the workspace of an event.
CREATE TABLE tracking_sites (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    public_key      TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    allowed_origins JSONB NOT NULL DEFAULT '[]',
    consent_mode    TEXT NOT NULL DEFAULT 'none' CHECK (consent_mode IN ('none', 'required')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX tracking_sites_workspace ON tracking_sites(workspace_id, id);
-- A visitor (the rs_vid cookie) known to be a contact. Anonymous visitors have no
-- row: ingest writes only events.
CREATE TABLE tracking_visitors (
    workspace_id BIGINT NOT NULL,
    visitor_id   TEXT NOT NULL,
    contact_id   BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    stitched_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, visitor_id)
);
CREATE INDEX tracking_visitors_contact ON tracking_visitors(contact_id);
-- Narrow, append-mostly rows. Two indexes only: the visitor one serves stitching;
-- the contact one holds stitched rows only and serves the timeline and the contact
-- cascade. workspace_id has no foreign key (as in engagement_events): the ingest
-- sets it from the site key, and a per-row parent check is a large share of the
-- cost of an insert at 100,000 events/s.
CREATE TABLE web_events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id BIGINT NOT NULL,
    visitor_id   TEXT NOT NULL,
    contact_id   BIGINT REFERENCES contacts(id) ON DELETE SET NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    referrer     TEXT NOT NULL DEFAULT '',
    props        TEXT NOT NULL DEFAULT '{}', -- valid JSON object, checked at ingest
    occurred_at  TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_events_visitor ON web_events(workspace_id, visitor_id);
CREATE INDEX web_events_contact ON web_events(contact_id, occurred_at) WHERE contact_id IS NOT NULL;

-- +goose Down
DROP TABLE web_events; DROP TABLE tracking_visitors; DROP TABLE tracking_sites;
