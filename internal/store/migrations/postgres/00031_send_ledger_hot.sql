-- +goose Up
-- The send ledger's hot path (docs/mail.md, `rightsize bench send`): every
-- message updates its row three times (claimed, smtp_started, accepted). The
-- due index's predicate named state, and PostgreSQL makes an update that
-- changes a column an index or its predicate reads a non-HOT one: a new entry
-- in each of the table's six indexes, three times a message. The predicate now
-- reads a stored column that changes only when a row enters or leaves the
-- queue (plan, claim, defer, recover), so smtp_started and accepted are HOT
-- updates (no index entries) when the row's page has room — which fillfactor
-- leaves. The claim's WHERE names queued so the planner matches the index.
ALTER TABLE send_ledger ADD COLUMN queued boolean GENERATED ALWAYS AS (state IN ('planned','deferred')) STORED;
DROP INDEX send_ledger_due;
CREATE INDEX send_ledger_due ON send_ledger(due_at, id) WHERE queued;
ALTER TABLE send_ledger SET (fillfactor = 70);

-- +goose Down
DROP INDEX send_ledger_due;
CREATE INDEX send_ledger_due ON send_ledger(due_at, id) WHERE state IN ('planned','deferred');
ALTER TABLE send_ledger DROP COLUMN queued;
ALTER TABLE send_ledger RESET (fillfactor);
