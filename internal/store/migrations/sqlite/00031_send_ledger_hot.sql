-- +goose Up
-- PostgreSQL moves the send ledger's due index onto a generated column so
-- the smtp_started and accepted updates are HOT (see its 00031). SQLite
-- updates a row in place (no row versions, nothing like HOT to enable):
-- nothing to do. The version is kept so both
-- dialects number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
