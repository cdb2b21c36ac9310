-- +goose Up
-- PostgreSQL gets its trigram index for contact search here; SQLite has had
-- its FTS5 trigram index since 00029. The version is kept so both dialects
-- number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
