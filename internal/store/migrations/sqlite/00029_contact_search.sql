-- +goose Up
-- Free-text contact search (docs/benchmarks.md, "Lists over 1M contacts"): a
-- trigram index over the three searched columns, so `q=smith` finds its
-- candidates without reading every contact of the workspace. The list query
-- keeps the exact LIKE condition it always had and uses this table only to
-- narrow the rows it checks: the answers do not change (store/list.go).
-- Contentless (the index only, no copy of the text); kept in sync by the
-- triggers below, whatever writes the contacts. Its columns have their own
-- names so a join with contacts leaves every contacts column unambiguous.
-- detail = none keeps only which rows hold each trigram (no positions): a
-- third of the indexing cost of the default (measured: +9 instead of +23 µs
-- CPU per inserted contact), and the query asks for rows holding all of the
-- term's trigrams, a superset the LIKE then decides on. columnsize = 0 keeps
-- no per-row size table (nothing ranks these matches; a quarter less CPU per
-- insert), so a change removes the old row's terms with FTS5's 'delete'
-- command, which takes the values that were indexed: the triggers have them.
CREATE VIRTUAL TABLE contacts_fts USING fts5(email_text, first_name_text, last_name_text, tokenize = 'trigram case_sensitive 0', content = '', columnsize = 0, detail = none);
INSERT INTO contacts_fts(rowid, email_text, first_name_text, last_name_text) SELECT id, email, first_name, last_name FROM contacts;
-- A bulk insert (InsertContacts, the CSV import) indexes its rows with one
-- statement at the end instead of the trigger per row: FTS5 writes its
-- pending terms out as a new segment at every statement, so a 100-row INSERT
-- made a segment each and merging them was most of the index's cost. While
-- contacts_fts_deferred holds a row — only inside such a write transaction,
-- which removes it before it commits — the insert trigger stands aside.
CREATE TABLE contacts_fts_deferred (one INTEGER PRIMARY KEY CHECK (one = 1));
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts
WHEN NOT EXISTS (SELECT 1 FROM contacts_fts_deferred) BEGIN
    INSERT INTO contacts_fts(rowid, email_text, first_name_text, last_name_text) VALUES (new.id, new.email, new.first_name, new.last_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, email_text, first_name_text, last_name_text) VALUES ('delete', old.id, old.email, old.first_name, old.last_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF email, first_name, last_name ON contacts
WHEN old.email IS NOT new.email OR old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, email_text, first_name_text, last_name_text) VALUES ('delete', old.id, old.email, old.first_name, old.last_name);
    INSERT INTO contacts_fts(rowid, email_text, first_name_text, last_name_text) VALUES (new.id, new.email, new.first_name, new.last_name);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER contacts_fts_update;
DROP TRIGGER contacts_fts_delete;
DROP TRIGGER contacts_fts_insert;
DROP TABLE contacts_fts;
DROP TABLE contacts_fts_deferred;
