-- +goose Up
-- Free-text contact search (docs/benchmarks.md, "Lists over 1M contacts"):
-- trigram indexes on the exact expressions the list query matches with LIKE
-- (store/list.go), so a rare term is found through the index instead of a
-- walk of the whole workspace; the planner still walks the primary key for a
-- common term's first page. Needs the pg_trgm extension (in PostgreSQL's
-- contrib, trusted since PostgreSQL 13): where it cannot be created, the
-- migration leaves the indexes out and the query plans stay as they were.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (%): contact search runs without a trigram index', SQLERRM;
            RETURN;
        END;
        CREATE INDEX contacts_search_email ON contacts USING gin (LOWER(COALESCE(email, '')) gin_trgm_ops);
        CREATE INDEX contacts_search_first ON contacts USING gin (LOWER(COALESCE(first_name, '')) gin_trgm_ops);
        CREATE INDEX contacts_search_last ON contacts USING gin (LOWER(COALESCE(last_name, '')) gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not available: contact search runs without a trigram index';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX IF EXISTS contacts_search_last;
DROP INDEX IF EXISTS contacts_search_first;
DROP INDEX IF EXISTS contacts_search_email;
