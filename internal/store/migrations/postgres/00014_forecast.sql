-- +goose Up
-- Forecast and effort (issue 5, internal/forecast; docs/forecast.md). The reports
-- aggregate a workspace's deals in SQL; these indexes let each pass read an index
-- instead of visiting every deal row (100,000 deals in well under a second).
-- Open deals by stage, currency, owner and expected close month (covering).
CREATE INDEX deals_forecast_open ON deals(workspace_id, outcome, pipeline, stage, currency, owner_id, expected_close_date, amount);
-- Deals closed in a window, with what the closed-deal pass groups and sums (covering).
CREATE INDEX deals_forecast_closed ON deals(workspace_id, outcome, pipeline, currency, loss_reason, closed_at, stage, owner_id, amount, created_at) WHERE outcome <> '';
-- How far a lost deal got: its stays in its pipeline (covering).
CREATE INDEX deal_stage_history_reach ON deal_stage_history(workspace_id, deal_id, pipeline, stage);
-- A won deal's first activity, and effort's activities of a deal, by (workspace,
-- deal): without it the planner walked the workspace's activities by time
-- (activities_ws) for each deal on tables without statistics.
CREATE INDEX activities_ws_deal ON activities(workspace_id, deal_id, occurred_at) WHERE deal_id IS NOT NULL;

-- +goose Down
DROP INDEX activities_ws_deal;
DROP INDEX deal_stage_history_reach;
DROP INDEX deals_forecast_closed;
DROP INDEX deals_forecast_open;
