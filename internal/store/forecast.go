package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The forecast and pipeline reports (internal/forecast) aggregate deals in SQL:
// a workspace with 100,000 deals answers with a few thousand grouped rows, and
// the arithmetic (probabilities, categories, win rates) runs in Go over those.

// OpenDealGroup is the open deals of one pipeline stage, currency, owner and
// expected close month.
type OpenDealGroup struct {
	Pipeline string
	Stage    string
	Currency string
	OwnerID  int64  // 0: no owner
	Month    string // YYYY-MM of expected_close_date; "" when none
	Count    int64
	Amount   int64
}

// ForecastOpenDeals groups the open deals of ws (no outcome) by pipeline, stage,
// currency, owner and expected close month.
func (q Q) ForecastOpenDeals(ctx context.Context, ws int64) ([]OpenDealGroup, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, stage, currency, COALESCE(owner_id, 0), substr(expected_close_date, 1, 7), COUNT(*), COALESCE(SUM(amount), 0)
		FROM deals WHERE workspace_id = $1 AND outcome = ''
		GROUP BY pipeline, stage, currency, owner_id, substr(expected_close_date, 1, 7)`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: forecast open deals: %w", err)
	}
	defer rows.Close()
	out := []OpenDealGroup{}
	for rows.Next() {
		var g OpenDealGroup
		if err := rows.Scan(&g.Pipeline, &g.Stage, &g.Currency, &g.OwnerID, &g.Month, &g.Count, &g.Amount); err != nil {
			return nil, fmt.Errorf("store: forecast open deals: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ClosedDealGroup is the deals of one pipeline, outcome, loss reason, currency,
// owner and close month closed in a window. The second sums are over won deals
// only (the sales cycle is measured on wins).
type ClosedDealGroup struct {
	Pipeline   string
	Outcome    string // won, lost, no_decision
	LossReason string // "" for won deals and when none was given
	Currency   string
	OwnerID    int64  // 0: no owner
	Month      string // YYYY-MM of closed_at (UTC)
	Count      int64
	Amount     int64
	// CycleSeconds sums, over won deals, closed_at − created_at.
	CycleSeconds float64
	// EngagedSeconds sums, over won deals, closed_at − first engagement: the
	// earlier of created_at and the deal's first activity.
	EngagedSeconds float64
}

// ForecastClosedDeals groups the deals of ws with an outcome whose closed_at
// falls in [from, to).
func (q Q) ForecastClosedDeals(ctx context.Context, ws int64, from, to time.Time) ([]ClosedDealGroup, error) {
	month := `substr(closed_at, 1, 7)`
	secs := func(a, b string) string { return `(julianday(` + b + `) - julianday(` + a + `)) * 86400.0` }
	before := `julianday(first_act) < julianday(created_at)`
	if q.kind == Postgres {
		month = `to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM')`
		secs = func(a, b string) string { return `EXTRACT(EPOCH FROM (` + b + ` - ` + a + `))::float8` }
		before = `first_act < created_at`
	}
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, outcome, reason, currency, owner, month, COUNT(*), COALESCE(SUM(amount), 0),
			COALESCE(SUM(CASE WHEN outcome = 'won' THEN `+secs("created_at", "closed_at")+` END), 0),
			COALESCE(SUM(CASE WHEN outcome = 'won' THEN `+secs("CASE WHEN first_act IS NOT NULL AND "+before+" THEN first_act ELSE created_at END", "closed_at")+` END), 0)
		FROM (SELECT d.pipeline, d.outcome, CASE WHEN d.outcome = 'won' THEN '' ELSE d.loss_reason END AS reason, d.currency,
				COALESCE(d.owner_id, 0) AS owner, `+month+` AS month, d.amount, d.created_at, d.closed_at,
				CASE WHEN d.outcome = 'won' THEN (SELECT MIN(x.occurred_at) FROM activities x WHERE x.workspace_id = $1 AND x.deal_id = d.id) END AS first_act
			FROM deals d
			WHERE d.workspace_id = $1 AND d.outcome <> '' AND d.closed_at >= $2 AND d.closed_at < $3) c
		GROUP BY pipeline, outcome, reason, currency, owner, month`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: forecast closed deals: %w", err)
	}
	defer rows.Close()
	out := []ClosedDealGroup{}
	for rows.Next() {
		var g ClosedDealGroup
		if err := rows.Scan(&g.Pipeline, &g.Outcome, &g.LossReason, &g.Currency, &g.OwnerID, &g.Month, &g.Count, &g.Amount, &g.CycleSeconds, &g.EngagedSeconds); err != nil {
			return nil, fmt.Errorf("store: forecast closed deals: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// StageRank places a stage in its pipeline's order (0 = first stage).
type StageRank struct {
	Pipeline string
	Stage    string
	Rank     int
}

// ReachCount is how many deals of one pipeline and outcome, closed in a window,
// got as far as the stage ranked Furthest (-1: none of their stages is in the
// ranks given).
type ReachCount struct {
	Pipeline string
	Outcome  string
	Furthest int
	Count    int64
}

// ForecastReach counts the deals of ws in currency closed in [from, to) by how
// far they got in their pipeline: the highest rank among their current stage and
// every stage they stayed in (deal_stage_history rows of the same pipeline).
// ranks maps stages to their order; stages not in it rank -1.
func (q Q) ForecastReach(ctx context.Context, ws int64, currency string, from, to time.Time, ranks []StageRank) ([]ReachCount, error) {
	args := []any{ws, currency, from.UTC(), to.UTC()}
	var rank strings.Builder
	rank.WriteString("CASE")
	for _, r := range ranks {
		args = append(args, r.Pipeline, r.Stage)
		fmt.Fprintf(&rank, " WHEN s.pipeline = $%d AND s.stage = $%d THEN %d", len(args)-1, len(args), r.Rank)
	}
	rank.WriteString(" ELSE -1 END")
	if len(ranks) == 0 {
		rank.Reset()
		rank.WriteString("-1")
	}
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, outcome, furthest, COUNT(*) FROM (
			SELECT s.id, s.pipeline, s.outcome, MAX(`+rank.String()+`) AS furthest FROM (
				SELECT d.id, d.pipeline, d.outcome, d.stage FROM deals d
				WHERE d.workspace_id = $1 AND d.currency = $2 AND d.outcome <> '' AND d.closed_at >= $3 AND d.closed_at < $4
				UNION ALL
				SELECT d.id, d.pipeline, d.outcome, h.stage FROM deals d
				JOIN deal_stage_history h ON h.workspace_id = $1 AND h.deal_id = d.id AND h.pipeline = d.pipeline
				WHERE d.workspace_id = $1 AND d.currency = $2 AND d.outcome <> '' AND d.closed_at >= $3 AND d.closed_at < $4
			) s GROUP BY s.id, s.pipeline, s.outcome
		) t GROUP BY pipeline, outcome, furthest`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: forecast reach: %w", err)
	}
	defer rows.Close()
	out := []ReachCount{}
	for rows.Next() {
		var r ReachCount
		if err := rows.Scan(&r.Pipeline, &r.Outcome, &r.Furthest, &r.Count); err != nil {
			return nil, fmt.Errorf("store: forecast reach: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Person is a user as the reports name and attribute them: their role in the
// workspace and team (the team of the first pool, by id, they belong to that
// names one; "" for none).
type Person struct {
	ID    int64
	Name  string
	Email string
	Role  string
	Team  string
}

// ForecastPeople lists the members of ws with their role and team.
func (q Q) ForecastPeople(ctx context.Context, ws int64) (map[int64]Person, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT u.id, u.name, u.email, m.role,
			COALESCE((SELECT p.team FROM pool_members pm JOIN assignment_pools p ON p.id = pm.pool_id AND p.workspace_id = pm.workspace_id
				WHERE pm.workspace_id = $1 AND pm.user_id = u.id AND p.team <> '' ORDER BY p.id LIMIT 1), '')
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = $1`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: forecast people: %w", err)
	}
	defer rows.Close()
	out := map[int64]Person{}
	for rows.Next() {
		var p Person
		if err := rows.Scan(&p.ID, &p.Name, &p.Email, &p.Role, &p.Team); err != nil {
			return nil, fmt.Errorf("store: forecast people: %w", err)
		}
		out[p.ID] = p
	}
	return out, rows.Err()
}

// EffortActivity is one activity on a deal, as effort counts it.
type EffortActivity struct {
	DealID       int64
	OwnerID      int64 // 0: none
	Minutes      int64
	Participants []string
}

// DealEffortActivities streams the activities of ws linked to a deal — one deal
// when dealID > 0, every deal otherwise — ordered by deal.
func (q Q) DealEffortActivities(ctx context.Context, ws, dealID int64, fn func(EffortActivity) error) error {
	query := `SELECT deal_id, COALESCE(owner_id, 0), duration_minutes, participants FROM activities WHERE workspace_id = $1 AND deal_id IS NOT NULL ORDER BY deal_id`
	args := []any{ws}
	if dealID > 0 {
		query = `SELECT deal_id, COALESCE(owner_id, 0), duration_minutes, participants FROM activities WHERE workspace_id = $1 AND deal_id = $2`
		args = append(args, dealID)
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: deal effort: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a EffortActivity
		var parts jsonText
		if err := rows.Scan(&a.DealID, &a.OwnerID, &a.Minutes, &parts); err != nil {
			return fmt.Errorf("store: deal effort: %w", err)
		}
		if len(parts) > 2 { // "[]" is the common case
			_ = json.Unmarshal(parts, &a.Participants) // written only by encodeJSON of a []string
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: deal effort: %w", err)
	}
	return nil
}

// DealCurrencies counts the deals of ws by currency (the report currencies offered).
func (q Q) DealCurrencies(ctx context.Context, ws int64) (map[string]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT currency, COUNT(*) FROM deals WHERE workspace_id = $1 GROUP BY currency`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: deal currencies: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("store: deal currencies: %w", err)
		}
		out[c] = n
	}
	return out, rows.Err()
}
