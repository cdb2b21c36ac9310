-- +goose Up
-- Access (docs/security.md). An API key minted by a member acts for that member:
-- it stops working when the member leaves the workspace or is disabled, and a
-- partner key sees only its partner's records. NULL: a key made by the CLI or by
-- another key, bound to no one.
ALTER TABLE api_keys ADD COLUMN user_id BIGINT REFERENCES users(id) ON DELETE CASCADE;
-- The partner role reads its own records: contacts and activities by owner.
CREATE INDEX contacts_owner ON contacts(workspace_id, owner_id, id) WHERE owner_id IS NOT NULL;
CREATE INDEX activities_owner ON activities(workspace_id, owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX accounts_owner ON accounts(workspace_id, owner_id) WHERE owner_id IS NOT NULL;

-- +goose Down
DROP INDEX accounts_owner; DROP INDEX activities_owner; DROP INDEX contacts_owner;
ALTER TABLE api_keys DROP COLUMN user_id;
