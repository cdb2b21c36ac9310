-- +goose Up
-- Access (docs/security.md). An API key acts for its owner, the member in
-- api_keys.created_by_user_id (00024): it stops working while they are
-- disabled, once they leave the workspace or when their role no longer covers
-- the key's, and a partner key sees only its partner's records. NULL: a
-- workspace key made from the CLI (or before owners were recorded), bound to
-- no one. No schema change is needed for that; this migration adds what the
-- partner role's confined reads use: contacts and accounts by owner
-- (activities by owner have activities_owner_kind, 00026).
CREATE INDEX contacts_owner ON contacts(workspace_id, owner_id, id) WHERE owner_id IS NOT NULL;
CREATE INDEX accounts_owner ON accounts(workspace_id, owner_id) WHERE owner_id IS NOT NULL;

-- +goose Down
DROP INDEX accounts_owner; DROP INDEX contacts_owner;
