-- +goose Up
-- Contact search on PostgreSQL (docs/benchmarks.md, "Contact search"): one
-- pg_trgm GIN index over the searched columns joined, lower-cased. A search
-- for a term few contacts match looks its candidates up here instead of
-- reading every contact; the per-column LIKE the search has always used still
-- decides (a match in a column is a match in the joined text, so the index
-- never drops a row). One index over the joined text instead of one per
-- column (tried in 00029 and dropped) is one set of GIN entries per contact.
-- pg_trgm is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_search ON contacts USING gin ((lower(email || ' ' || first_name || ' ' || last_name)) gin_trgm_ops);

-- +goose Down
DROP INDEX contacts_search;
