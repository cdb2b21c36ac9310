-- +goose Up
-- Customers, subscriptions, MRR movements and renewals (issue 5, PRODUCT.md §5;
-- docs/subscriptions.md). A customer is an account with a subscription; there is
-- no separate customer row to keep in step. Dates are 'YYYY-MM-DD' text in both
-- dialects (compared as text), money is integer minor units with a currency.
CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    workspace_id  BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    deal_id       BIGINT REFERENCES deals(id) ON DELETE SET NULL,
    external_id   TEXT,
    plan          TEXT NOT NULL DEFAULT '',
    quantity      BIGINT NOT NULL CHECK (quantity >= 1),
    unit_price    BIGINT NOT NULL CHECK (unit_price >= 0),
    currency      TEXT NOT NULL,
    billing_interval TEXT NOT NULL CHECK (billing_interval IN ('month', 'quarter', 'year')),
    mrr           BIGINT NOT NULL,
    start_date    TEXT NOT NULL,
    term_months   INTEGER NOT NULL CHECK (term_months >= 1),
    renewal_date  TEXT NOT NULL,
    auto_renew    BOOLEAN NOT NULL DEFAULT TRUE,
    end_date      TEXT,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX subscriptions_ext ON subscriptions(workspace_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX subscriptions_account ON subscriptions(workspace_id, account_id);
CREATE INDEX subscriptions_deal ON subscriptions(workspace_id, deal_id) WHERE deal_id IS NOT NULL;
CREATE INDEX subscriptions_renewal ON subscriptions(workspace_id, renewal_date) WHERE end_date IS NULL;
-- Every change of a subscription, with its terms after the change and the day it
-- takes effect. MRR movements are derived from these (per account, by day).
CREATE TABLE subscription_changes (
    id              INTEGER PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('start', 'change', 'end', 'reactivate', 'renew')),
    effective_date  TEXT NOT NULL,
    plan            TEXT NOT NULL DEFAULT '',
    quantity        BIGINT NOT NULL,
    unit_price      BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    billing_interval TEXT NOT NULL,
    mrr             BIGINT NOT NULL,
    active          BOOLEAN NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE INDEX subscription_changes_account ON subscription_changes(workspace_id, account_id, effective_date, id);
CREATE INDEX subscription_changes_sub ON subscription_changes(subscription_id, effective_date, id);
-- MRR movements: at most one per account, currency and day. amount is positive;
-- contraction and churn subtract. segment and motion are the account's when the
-- movement was written; month is effective_date's 'YYYY-MM' (economics groups by it).
CREATE TABLE mrr_movements (
    id              INTEGER PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subscription_id BIGINT REFERENCES subscriptions(id) ON DELETE SET NULL,
    effective_date  TEXT NOT NULL,
    month           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('new', 'expansion', 'reactivation', 'contraction', 'churn')),
    amount          BIGINT NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL,
    segment         TEXT NOT NULL DEFAULT '',
    motion          TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX mrr_movements_day ON mrr_movements(workspace_id, account_id, currency, effective_date);
-- Covering for the bridge's sums: a period is read from the index alone.
CREATE INDEX mrr_movements_date ON mrr_movements(workspace_id, effective_date, currency, kind, amount, month, account_id);
CREATE INDEX mrr_movements_month ON mrr_movements(workspace_id, month, kind);
-- Renewal opportunities: one per subscription and renewal date (the idempotency
-- key of the renewal job), open until an outcome is recorded.
CREATE TABLE renewals (
    id              INTEGER PRIMARY KEY,
    workspace_id    BIGINT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    renewal_date    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    outcome         TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'renew', 'expand', 'contract', 'churn')),
    mrr_before      BIGINT NOT NULL,
    mrr_after       BIGINT,
    currency        TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    opened_at       DATETIME NOT NULL,
    decided_at      DATETIME,
    decided_by      TEXT NOT NULL DEFAULT '',
    UNIQUE (workspace_id, subscription_id, renewal_date)
);
CREATE INDEX renewals_open ON renewals(workspace_id, renewal_date) WHERE status = 'open';
CREATE INDEX renewals_account ON renewals(workspace_id, account_id);
CREATE TABLE subscription_settings (
    workspace_id      BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    renewal_lead_days INTEGER NOT NULL DEFAULT 90 CHECK (renewal_lead_days >= 0),
    updated_at        DATETIME NOT NULL
);

-- +goose Down
DROP TABLE subscription_settings;
DROP TABLE renewals;
DROP TABLE mrr_movements;
DROP TABLE subscription_changes;
DROP TABLE subscriptions;
