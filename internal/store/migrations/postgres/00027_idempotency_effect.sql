-- +goose Up
-- Fault injection (issue 8, docs/reliability.md): effect_at is set in the
-- transaction of a keyed POST's own change (store.InTx with the key in its
-- context), so a key whose answer was never stored (the process died between
-- the handler's commit and the storing) is known to have taken effect and is
-- not run again.
ALTER TABLE idempotency_keys ADD COLUMN effect_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN effect_at;
