-- +goose Up
-- Free-text contact search (docs/benchmarks.md, "Lists over 1M contacts"):
-- SQLite gets a trigram index in this migration; PostgreSQL none. Three
-- pg_trgm GIN indexes (one per searched column) were tried and made each
-- imported contact cost about twice the PostgreSQL CPU (GIN entries for every
-- trigram of the email and names), against the CSV import's target; without
-- them a search's first page walks the primary key and stops after a page
-- (a few ms for a term that many contacts match, a full walk for a rare one)
-- and the exact count reads the workspace. The version is kept so both
-- dialects number their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
