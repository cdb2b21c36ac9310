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

// ForecastOpenDeals groups the open deals of ws (no outcome) by pipeline, stage
// and currency, and by owner and expected close month when byOwnerMonth (the
// forecast; without it the groups come in index order, unsorted).
func (q Q) ForecastOpenDeals(ctx context.Context, ws int64, byOwnerMonth bool) ([]OpenDealGroup, error) {
	owner, month := "0", "''"
	if byOwnerMonth {
		owner, month = "COALESCE(owner_id, 0)", "substr(expected_close_date, 1, 7)"
	}
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, stage, currency, `+owner+`, `+month+`, COUNT(*), COALESCE(SUM(amount), 0)
		FROM deals WHERE workspace_id = $1 AND outcome = ''
		GROUP BY 1, 2, 3, 4, 5`, ws)
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

// ClosedDealGroup is the deals of one pipeline, outcome and currency closed in
// a window; won deals may be split by owner and close month (the forecast puts
// them under closed), lost and undecided ones by loss reason.
type ClosedDealGroup struct {
	Pipeline   string
	Outcome    string // won, lost, no_decision
	LossReason string // "" for won deals and when none was given
	Currency   string
	OwnerID    int64  // won deals split by owner: the owner (0: none); otherwise 0
	Month      string // won deals split by month: YYYY-MM of closed_at (UTC); otherwise ""
	Count      int64
	Amount     int64
	// CycleSeconds sums, over won deals, closed_at − created_at; LeadSeconds
	// sums, over won deals, how long before created_at their first activity
	// was (0 when it was not before).
	CycleSeconds float64
	LeadSeconds  float64
}

// sqlDialect holds the few expressions the forecast queries write per dialect.
type sqlDialect struct {
	month      string                   // YYYY-MM of d.closed_at (UTC)
	secs       func(a, b string) string // seconds from a to b
	greatest   func(a, b string) string // the larger of a and b; b may be NULL
	zeroOrMore func(x string) string
}

func (q Q) dialect() sqlDialect {
	if q.kind == Postgres {
		return sqlDialect{
			month:      `to_char(d.closed_at AT TIME ZONE 'UTC', 'YYYY-MM')`,
			secs:       func(a, b string) string { return `EXTRACT(EPOCH FROM (` + b + ` - ` + a + `))::float8` },
			greatest:   func(a, b string) string { return `GREATEST(` + a + `, ` + b + `)` },
			zeroOrMore: func(x string) string { return `GREATEST(0.0, ` + x + `)` },
		}
	}
	return sqlDialect{
		month:      `substr(d.closed_at, 1, 7)`,
		secs:       func(a, b string) string { return `(julianday(` + b + `) - julianday(` + a + `)) * 86400.0` },
		greatest:   func(a, b string) string { return `MAX(` + a + `, COALESCE(` + b + `, -1))` },
		zeroOrMore: func(x string) string { return `MAX(0.0, ` + x + `)` },
	}
}

// WonOptions choose what ForecastWonDeals splits and sums.
type WonOptions struct {
	// ByOwnerMonth splits the groups by owner and close month (the forecast);
	// otherwise OwnerID is 0 and Month "".
	ByOwnerMonth bool
	// Cycle sums CycleSeconds and LeadSeconds (the pipeline report).
	Cycle bool
}

// ForecastWonDeals groups the deals of ws won with closed_at in [from, to) by
// pipeline and currency (and owner and month when asked).
func (q Q) ForecastWonDeals(ctx context.Context, ws int64, from, to time.Time, o WonOptions) ([]ClosedDealGroup, error) {
	dl := q.dialect()
	owner, month := "0", "''"
	if o.ByOwnerMonth {
		owner, month = "COALESCE(d.owner_id, 0)", dl.month
	}
	cycle, lead := "0.0", "0.0"
	if o.Cycle {
		cycle = `COALESCE(SUM(` + dl.secs("d.created_at", "d.closed_at") + `), 0)`
		lead = `COALESCE(SUM(` + dl.zeroOrMore(dl.secs(`(SELECT MIN(x.occurred_at) FROM activities x WHERE x.workspace_id = $1 AND x.deal_id = d.id)`, "d.created_at")) + `), 0)`
	}
	rows, err := q.db.QueryContext(ctx, `SELECT d.pipeline, d.currency, `+owner+`, `+month+`, COUNT(*), COALESCE(SUM(d.amount), 0), `+cycle+`, `+lead+`
		FROM deals d
		WHERE d.workspace_id = $1 AND d.outcome <> '' AND d.outcome = 'won' AND d.closed_at >= $2 AND d.closed_at < $3
		GROUP BY 1, 2, 3, 4`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: forecast won deals: %w", err)
	}
	defer rows.Close()
	out := []ClosedDealGroup{}
	for rows.Next() {
		g := ClosedDealGroup{Outcome: "won"}
		if err := rows.Scan(&g.Pipeline, &g.Currency, &g.OwnerID, &g.Month, &g.Count, &g.Amount, &g.CycleSeconds, &g.LeadSeconds); err != nil {
			return nil, fmt.Errorf("store: forecast won deals: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ForecastLostDeals groups the deals of ws closed lost or no_decision with
// closed_at in [from, to) by outcome, pipeline, currency and loss reason (the
// covering index's order: no sort).
func (q Q) ForecastLostDeals(ctx context.Context, ws int64, from, to time.Time) ([]ClosedDealGroup, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT d.outcome, d.pipeline, d.currency, d.loss_reason, COUNT(*), COALESCE(SUM(d.amount), 0)
		FROM deals d
		WHERE d.workspace_id = $1 AND d.outcome <> '' AND d.outcome IN ('lost', 'no_decision') AND d.closed_at >= $2 AND d.closed_at < $3
		GROUP BY d.outcome, d.pipeline, d.currency, d.loss_reason`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: forecast lost deals: %w", err)
	}
	defer rows.Close()
	out := []ClosedDealGroup{}
	for rows.Next() {
		var g ClosedDealGroup
		if err := rows.Scan(&g.Outcome, &g.Pipeline, &g.Currency, &g.LossReason, &g.Count, &g.Amount); err != nil {
			return nil, fmt.Errorf("store: forecast lost deals: %w", err)
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

// ReachCount is how many lost or undecided deals of one pipeline got as far as
// the stage ranked Furthest (-1: none of their stages is ranked).
type ReachCount struct {
	Pipeline string
	Furthest int
	Count    int64
}

// ForecastReach counts the deals of ws in currency closed lost or no_decision
// with closed_at in [from, to) by how far they got in their pipeline: the
// highest rank among their current stage and the stages they stayed in
// (deal_stage_history rows of the same pipeline). Deals of a pipeline not in
// ranks are left out; other is how many deals were in another currency. The
// groups are keyed by one integer (pipeline × 64 + rank + 1), which keeps the
// sort small; ranks must be below 63.
func (q Q) ForecastReach(ctx context.Context, ws int64, currency string, from, to time.Time, ranks []StageRank) (out []ReachCount, other int64, err error) {
	args := []any{ws, from.UTC(), to.UTC(), currency}
	var pipes []string
	stages := map[string][][2]any{} // pipeline → (stage, rank)
	for _, r := range ranks {
		if r.Rank < 0 || r.Rank > 62 {
			return nil, 0, fmt.Errorf("store: forecast reach: rank %d of %s/%s out of range", r.Rank, r.Pipeline, r.Stage)
		}
		if _, ok := stages[r.Pipeline]; !ok {
			pipes = append(pipes, r.Pipeline)
		}
		stages[r.Pipeline] = append(stages[r.Pipeline], [2]any{r.Stage, r.Rank})
	}
	var key strings.Builder
	key.WriteString("CASE WHEN d.currency <> $4 THEN -1 ELSE CASE d.pipeline")
	for i, p := range pipes {
		args = append(args, p)
		pp := len(args)
		var rank strings.Builder
		rank.WriteString("CASE {s}")
		for _, sr := range stages[p] {
			args = append(args, sr[0])
			fmt.Fprintf(&rank, " WHEN $%d THEN %d", len(args), sr[1])
		}
		rank.WriteString(" ELSE -1 END")
		cur := strings.ReplaceAll(rank.String(), "{s}", "d.stage")
		stay := strings.ReplaceAll(rank.String(), "{s}", "h.stage")
		fmt.Fprintf(&key, " WHEN $%d THEN %d + ", pp, i*64+1)
		if q.kind == Postgres { // the stays are joined and aggregated per deal below
			key.WriteString(`GREATEST(` + cur + `, MAX(` + stay + `))`)
			continue
		}
		key.WriteString(q.dialect().greatest(cur, fmt.Sprintf(
			`(SELECT MAX(%s) FROM deal_stage_history h WHERE h.workspace_id = $1 AND h.deal_id = d.id AND h.pipeline = $%d)`, stay, pp)))
	}
	key.WriteString(" ELSE -2 END END")
	where := `d.workspace_id = $1 AND d.outcome <> '' AND d.outcome IN ('lost', 'no_decision') AND d.closed_at >= $2 AND d.closed_at < $3`
	// SQLite: one pass over the index, a covering-index lookup of each deal's
	// stays. PostgreSQL runs correlated subqueries one by one, so there the stays
	// are hash-joined and aggregated per deal instead.
	query := `SELECT ` + key.String() + `, COUNT(*) FROM deals d WHERE ` + where + ` GROUP BY 1`
	if q.kind == Postgres {
		query = `SELECT k, COUNT(*) FROM (SELECT ` + key.String() + ` AS k
			FROM deals d LEFT JOIN deal_stage_history h ON h.workspace_id = $1 AND h.deal_id = d.id AND h.pipeline = d.pipeline
			WHERE ` + where + `
			GROUP BY d.id, d.currency, d.pipeline, d.stage) t GROUP BY k`
	}
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: forecast reach: %w", err)
	}
	defer rows.Close()
	out = []ReachCount{}
	for rows.Next() {
		var k, n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, 0, fmt.Errorf("store: forecast reach: %w", err)
		}
		switch {
		case k == -1:
			other += n
		case k >= 0 && int(k/64) < len(pipes):
			out = append(out, ReachCount{Pipeline: pipes[k/64], Furthest: int(k%64) - 1, Count: n})
		}
	}
	return out, other, rows.Err()
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
