-- +goose NO TRANSACTION
-- +goose Up
-- SQLite gave a new row max(id)+1, so after the newest contact, account or
-- deal was deleted the next one created took its id — and with it whatever
-- still pointed at that id without a foreign key: the timeline
-- (record_history), pending and sent mail (send_ledger, mail_events, replies),
-- form submissions, desk items, assignments. AUTOINCREMENT never hands an id
-- out twice (PostgreSQL's identities never did). A table's AUTOINCREMENT is
-- part of its CREATE TABLE, so each table is rebuilt the way SQLite documents
-- (https://www.sqlite.org/lang_altertable.html, "other kinds of table schema
-- changes"): foreign keys off (outside a transaction, hence NO TRANSACTION;
-- the store's write pool is one connection), a new table, the rows copied
-- with their ids, the old table dropped, the new one renamed, its indexes and
-- triggers made again, all in one transaction. The rows keep their ids, so
-- the children's foreign keys and the contacts' FTS5 index (keyed by id) stay
-- as they were; sqlite_sequence starts from each table's largest id (the
-- copy sets it, and the rename carries it over).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- contacts
CREATE TABLE contacts_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
    consent_at      DATETIME,
    custom          TEXT NOT NULL DEFAULT '{}',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
INSERT INTO contacts_new (id, workspace_id, external_id, email, first_name, last_name, title, phone, account_id, lifecycle_stage, owner_id, source, utm_source, utm_medium, utm_campaign, consent_basis, consent_source, consent_at, custom, created_at, updated_at)
    SELECT id, workspace_id, external_id, email, first_name, last_name, title, phone, account_id, lifecycle_stage, owner_id, source, utm_source, utm_medium, utm_campaign, consent_basis, consent_source, consent_at, custom, created_at, updated_at FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_new RENAME TO contacts;
CREATE INDEX contacts_account ON contacts(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX contacts_created ON contacts(workspace_id, created_at);
CREATE UNIQUE INDEX contacts_email ON contacts(workspace_id, email);
CREATE UNIQUE INDEX contacts_ext ON contacts(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX contacts_owner ON contacts(workspace_id, owner_id, id) WHERE owner_id IS NOT NULL;
CREATE INDEX contacts_stage ON contacts(workspace_id, lifecycle_stage, id);
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, email_text, first_name_text, last_name_text) VALUES ('delete', old.id, old.email, old.first_name, old.last_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts
WHEN NOT EXISTS (SELECT 1 FROM contacts_fts_deferred) BEGIN
    INSERT INTO contacts_fts(rowid, email_text, first_name_text, last_name_text) VALUES (new.id, new.email, new.first_name, new.last_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF email, first_name, last_name ON contacts
WHEN old.email IS NOT new.email OR old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, email_text, first_name_text, last_name_text) VALUES ('delete', old.id, old.email, old.first_name, old.last_name);
    INSERT INTO contacts_fts(rowid, email_text, first_name_text, last_name_text) VALUES (new.id, new.email, new.first_name, new.last_name);
END;
-- +goose StatementEnd

-- accounts
CREATE TABLE accounts_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
    custom         TEXT NOT NULL DEFAULT '{}',
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
INSERT INTO accounts_new (id, workspace_id, external_id, name, domain, employees, annual_revenue, budget, currency, industry, region, owner_id, segment, motion, custom, created_at, updated_at)
    SELECT id, workspace_id, external_id, name, domain, employees, annual_revenue, budget, currency, industry, region, owner_id, segment, motion, custom, created_at, updated_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_new RENAME TO accounts;
CREATE UNIQUE INDEX accounts_domain ON accounts(workspace_id, domain) WHERE domain IS NOT NULL;
CREATE UNIQUE INDEX accounts_ext ON accounts(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_name ON accounts(workspace_id, name);
CREATE INDEX accounts_owner ON accounts(workspace_id, owner_id) WHERE owner_id IS NOT NULL;

-- deals
CREATE TABLE deals_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
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
    closed_at           DATETIME,
    custom              TEXT NOT NULL DEFAULT '{}',
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
, needs_review INTEGER NOT NULL DEFAULT 0, review_reason TEXT NOT NULL DEFAULT '');
INSERT INTO deals_new (id, workspace_id, external_id, account_id, name, amount, currency, pipeline, stage, owner_id, expected_close_date, outcome, loss_reason, closed_at, custom, created_at, updated_at, needs_review, review_reason)
    SELECT id, workspace_id, external_id, account_id, name, amount, currency, pipeline, stage, owner_id, expected_close_date, outcome, loss_reason, closed_at, custom, created_at, updated_at, needs_review, review_reason FROM deals;
DROP TABLE deals;
ALTER TABLE deals_new RENAME TO deals;
CREATE INDEX deals_account ON deals(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX deals_created ON deals(workspace_id, created_at, id);
CREATE UNIQUE INDEX deals_ext ON deals(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX deals_forecast_closed ON deals(workspace_id, outcome, pipeline, currency, loss_reason, closed_at, stage, owner_id, amount, created_at) WHERE outcome <> '';
CREATE INDEX deals_forecast_open ON deals(workspace_id, outcome, pipeline, stage, currency, owner_id, expected_close_date, amount);
CREATE INDEX deals_review ON deals(workspace_id, id) WHERE needs_review = 1;
CREATE INDEX deals_stage ON deals(workspace_id, pipeline, stage);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- AUTOINCREMENT is kept: without it ids could be handed out twice again.
SELECT 1;
