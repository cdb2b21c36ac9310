-- +goose Up
-- Unit economics inputs (PRODUCT.md §6–8, docs/economics.md): the spend ledger and
-- its allocation rules, people cost profiles with headcount by month, the
-- workspace's economics settings, market sizing and staffing scenarios. Months are
-- 'YYYY-MM' text (a calendar month, the same in both dialects); money is integer
-- minor units with a currency; rates are fractions (0.8 = 80 %).
CREATE TABLE spend_entries (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    amount       BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    category     TEXT NOT NULL CHECK (category IN ('people', 'programs', 'tools', 'partner_fees', 'overhead')),
    channel      TEXT NOT NULL DEFAULT '',
    -- Both set: explicit attribution; both empty: allocated by rule.
    segment      TEXT NOT NULL DEFAULT '',
    motion       TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    external_id  TEXT,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    CHECK ((segment = '') = (motion = ''))
);
CREATE UNIQUE INDEX spend_entries_ext ON spend_entries(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX spend_entries_month ON spend_entries(workspace_id, month, id);
-- Shares are JSON [{"segment","motion","bp"}] in basis points summing to 10000;
-- '' for category or channel matches any.
CREATE TABLE spend_allocation_rules (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    category     TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    shares       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    UNIQUE (workspace_id, category, channel)
);
-- A loaded multiplier or itemised rates, never both (the schema says so too).
CREATE TABLE cost_profiles (
    id                    INTEGER PRIMARY KEY,
    workspace_id          BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    role                  TEXT NOT NULL CHECK (role IN ('ldr', 'ae', 'csm', 'manager', 'partner')),
    currency              TEXT NOT NULL,
    base_salary           BIGINT NOT NULL CHECK (base_salary > 0),
    loaded_multiplier     REAL,
    employer_tax_rate     REAL,
    benefits_rate         REAL,
    training_rate         REAL,
    office                BIGINT NOT NULL DEFAULT 0,
    phone                 BIGINT NOT NULL DEFAULT 0,
    internet              BIGINT NOT NULL DEFAULT 0,
    software              BIGINT NOT NULL DEFAULT 0,
    recruiting            BIGINT NOT NULL DEFAULT 0,
    variable_pay          BIGINT NOT NULL DEFAULT 0,
    time_split            TEXT NOT NULL DEFAULT '{}',
    split_from_activities INTEGER NOT NULL DEFAULT 0,
    created_at            DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL,
    UNIQUE (workspace_id, name),
    CHECK (loaded_multiplier IS NULL OR (employer_tax_rate IS NULL AND benefits_rate IS NULL AND training_rate IS NULL))
);
CREATE TABLE cost_headcount (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    profile_id   BIGINT NOT NULL REFERENCES cost_profiles(id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    headcount    REAL NOT NULL CHECK (headcount >= 0),
    PRIMARY KEY (workspace_id, profile_id, month)
);
-- One row per workspace that changed a default; the JSON holds only what was set.
CREATE TABLE economics_settings (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    settings     TEXT NOT NULL DEFAULT '{}',
    updated_at   DATETIME NOT NULL
);
CREATE TABLE market_sizing (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    currency     TEXT NOT NULL,
    segments     TEXT NOT NULL DEFAULT '[]',
    updated_at   DATETIME NOT NULL
);
-- A scenario's inputs are JSON validated in Go (internal/staffing).
CREATE TABLE staffing_scenarios (
    id           INTEGER PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('in_house', 'partner')),
    params       TEXT NOT NULL DEFAULT '{}',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    UNIQUE (workspace_id, name)
);

-- +goose Down
DROP TABLE staffing_scenarios; DROP TABLE market_sizing; DROP TABLE economics_settings; DROP TABLE cost_headcount;
DROP TABLE cost_profiles; DROP TABLE spend_allocation_rules; DROP TABLE spend_entries;
