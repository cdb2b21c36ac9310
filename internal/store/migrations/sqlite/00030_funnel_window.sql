-- +goose Up
-- The lifecycle funnel reads only the contacts a window can count
-- (store.FunnelRows): those created in it, found by creation time, and those
-- with a lifecycle change recorded in it, found through a partial index of the
-- stage-change history entries alone (its condition is the query's LIKE
-- pre-filter, written the same way so both planners can use it). Without them
-- each report scanned every contact and every history entry of the workspace.
CREATE INDEX contacts_created ON contacts(workspace_id, created_at);
CREATE INDEX record_history_stage ON record_history(workspace_id, created_at, object_id)
    WHERE object_type = 'contact' AND action = 'updated' AND detail LIKE '%"lifecycle_stage":%';

-- +goose Down
DROP INDEX record_history_stage; DROP INDEX contacts_created;
