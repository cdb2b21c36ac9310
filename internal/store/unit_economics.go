package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Unit economics metrics (docs/economics.md, issue 6 phase 2): what the metrics
// read — every customer's acquisition, every MRR movement in one pass, active
// subscriptions, acquisition channels, activity minutes by segment — and the
// guardrail state and alerts they write. internal/economics decides what the
// numbers mean; these methods only read and write rows of one workspace.

// Acquisition is a customer's one `new` movement: when it became a customer,
// in which segment and motion (the account's at the time), currency and MRR.
type Acquisition struct {
	AccountID int64
	Date      string // YYYY-MM-DD
	Month     string // YYYY-MM
	Segment   string
	Motion    string
	Currency  string
	Amount    int64
}

// Acquisitions lists the `new` movements of ws dated on or before to
// (YYYY-MM-DD; "" for all), one per customer, by account.
func (q Q) Acquisitions(ctx context.Context, ws int64, to string) ([]Acquisition, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT account_id, effective_date, month, segment, motion, currency, amount FROM mrr_movements
		WHERE workspace_id = $1 AND kind = 'new' AND ($2 = '' OR effective_date <= $2) ORDER BY account_id`, ws, to)
	if err != nil {
		return nil, fmt.Errorf("store: acquisitions: %w", err)
	}
	defer rows.Close()
	out := make([]Acquisition, 0, 1024)
	for rows.Next() {
		var a Acquisition
		if err := rows.Scan(&a.AccountID, &a.Date, &a.Month, &a.Segment, &a.Motion, &a.Currency, &a.Amount); err != nil {
			return nil, fmt.Errorf("store: acquisitions: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// MovementRow is one MRR movement as the metrics read it.
type MovementRow struct {
	AccountID int64
	Month     string
	Kind      string
	Amount    int64
}

// EachMovement calls fn with every MRR movement of ws in a month on or before
// toMonth (YYYY-MM), in account order, read from the mrr_movements_econ index
// alone. fn must not keep the row.
func (q Q) EachMovement(ctx context.Context, ws int64, toMonth string, fn func(MovementRow) error) error {
	rows, err := q.db.QueryContext(ctx, `SELECT account_id, month, kind, amount FROM mrr_movements
		WHERE workspace_id = $1 AND month <= $2 ORDER BY account_id`, ws, toMonth)
	if err != nil {
		return fmt.Errorf("store: movements: %w", err)
	}
	defer rows.Close()
	var m MovementRow
	for rows.Next() {
		if err := rows.Scan(&m.AccountID, &m.Month, &m.Kind, &m.Amount); err != nil {
			return fmt.Errorf("store: movements: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ActiveSubscription is a subscription running on a day, as LTV's margin and
// order values read it.
type ActiveSubscription struct {
	AccountID int64
	Plan      string
	Interval  string
	Currency  string
	MRR       int64
}

// ActiveSubscriptions lists the subscriptions of ws running on day
// (YYYY-MM-DD): started on or before it and not ended by it. Their terms are
// the latest recorded ones (a change dated after day is already applied).
func (q Q) ActiveSubscriptions(ctx context.Context, ws int64, day string) ([]ActiveSubscription, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT account_id, plan, billing_interval, currency, mrr FROM subscriptions
		WHERE workspace_id = $1 AND start_date <= $2 AND (end_date IS NULL OR end_date > $2)`, ws, day)
	if err != nil {
		return nil, fmt.Errorf("store: active subscriptions: %w", err)
	}
	defer rows.Close()
	var out []ActiveSubscription
	for rows.Next() {
		var s ActiveSubscription
		if err := rows.Scan(&s.AccountID, &s.Plan, &s.Interval, &s.Currency, &s.MRR); err != nil {
			return nil, fmt.Errorf("store: active subscriptions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AccountSources maps each account of ws that has a contact with a source to
// the source of its earliest contact (by creation, then id): the channel the
// customer came through.
func (q Q) AccountSources(ctx context.Context, ws int64) (map[int64]string, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT account_id, source FROM contacts
		WHERE workspace_id = $1 AND account_id IS NOT NULL AND source <> '' ORDER BY account_id, created_at, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: account sources: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var src string
		if err := rows.Scan(&id, &src); err != nil {
			return nil, fmt.Errorf("store: account sources: %w", err)
		}
		if _, seen := out[id]; !seen {
			out[id] = src
		}
	}
	return out, rows.Err()
}

// SegmentMinutes is logged activity time of one month on accounts of one
// motion and segment (the account's current ones).
type SegmentMinutes struct {
	Month, Motion, Segment string
	Minutes                int64
}

// ActivityMinutesBySegment sums the activity minutes of ws's members in
// [from, to) by month, and by the motion and segment of the account the
// activity concerns (its account, else its deal's, else its contact's), like
// ActivityMinutesByMotion; activities of no account are left out.
func (q Q) ActivityMinutesBySegment(ctx context.Context, ws int64, from, to time.Time) ([]SegmentMinutes, error) {
	month := `substr(a.occurred_at, 1, 7)`
	if q.kind == Postgres {
		month = `to_char(a.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')`
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+month+` AS mon, x.motion, x.segment, SUM(a.duration_minutes)
		FROM activities a
		JOIN memberships m ON m.workspace_id = a.workspace_id AND m.user_id = a.owner_id
		LEFT JOIN deals d ON d.workspace_id = a.workspace_id AND d.id = a.deal_id
		LEFT JOIN contacts c ON c.workspace_id = a.workspace_id AND c.id = a.contact_id
		JOIN accounts x ON x.workspace_id = a.workspace_id AND x.id = COALESCE(a.account_id, d.account_id, c.account_id)
		WHERE a.workspace_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3 AND a.duration_minutes > 0 AND x.motion <> ''
		GROUP BY 1, 2, 3
		ORDER BY 1, 2, 3`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: activity minutes by segment: %w", err)
	}
	defer rows.Close()
	var out []SegmentMinutes
	for rows.Next() {
		var r SegmentMinutes
		if err := rows.Scan(&r.Month, &r.Motion, &r.Segment, &r.Minutes); err != nil {
			return nil, fmt.Errorf("store: activity minutes by segment: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenDeal is an open deal as cost-to-close reads it: with its account's
// segment and motion.
type OpenDeal struct {
	ID        int64
	Name      string
	Pipeline  string
	Stage     string
	Amount    int64
	Currency  string
	AccountID *int64
	Segment   string
	Motion    string
}

const openDealSelect = `SELECT d.id, d.name, d.pipeline, d.stage, d.amount, d.currency, d.account_id, COALESCE(a.segment, ''), COALESCE(a.motion, '')
	FROM deals d LEFT JOIN accounts a ON a.workspace_id = d.workspace_id AND a.id = d.account_id`

func scanOpenDeal(r rowScanner) (OpenDeal, error) {
	var d OpenDeal
	var acc sql.NullInt64
	err := r.Scan(&d.ID, &d.Name, &d.Pipeline, &d.Stage, &d.Amount, &d.Currency, &acc, &d.Segment, &d.Motion)
	d.AccountID = intPtr(acc)
	return d, err
}

// DealForCost returns one deal of ws (open or not) with its account's segment
// and motion; ErrNotFound when it is not in ws.
func (q Q) DealForCost(ctx context.Context, ws, id int64) (OpenDeal, error) {
	d, err := scanOpenDeal(q.db.QueryRowContext(ctx, openDealSelect+` WHERE d.workspace_id = $1 AND d.id = $2`, ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: deal %d: %w", id, err)
	}
	return d, nil
}

// OpenDealsIn lists the open deals of ws whose pipeline is pipeline.
func (q Q) OpenDealsIn(ctx context.Context, ws int64, pipeline string) ([]OpenDeal, error) {
	rows, err := q.db.QueryContext(ctx, openDealSelect+` WHERE d.workspace_id = $1 AND d.pipeline = $2 AND d.outcome = '' ORDER BY d.id`, ws, pipeline)
	if err != nil {
		return nil, fmt.Errorf("store: open deals: %w", err)
	}
	defer rows.Close()
	var out []OpenDeal
	for rows.Next() {
		d, err := scanOpenDeal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: open deals: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GuardrailState is the last evaluated status of one segment × motion cell.
type GuardrailState struct {
	Segment, Motion string
	Status          string
	Detail          []byte
	EvaluatedAt     time.Time
}

// GuardrailStates lists the stored cell statuses of ws.
func (q Q) GuardrailStates(ctx context.Context, ws int64) ([]GuardrailState, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT segment, motion, status, detail, evaluated_at FROM economics_guardrails WHERE workspace_id = $1 ORDER BY segment, motion`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: guardrails: %w", err)
	}
	defer rows.Close()
	var out []GuardrailState
	for rows.Next() {
		var g GuardrailState
		var d jsonText
		var at dbTime
		if err := rows.Scan(&g.Segment, &g.Motion, &g.Status, &d, &at); err != nil {
			return nil, fmt.Errorf("store: guardrails: %w", err)
		}
		g.Detail, g.EvaluatedAt = []byte(d), at.T
		out = append(out, g)
	}
	return out, rows.Err()
}

// SetGuardrailState stores the status of one cell of ws.
func (q Q) SetGuardrailState(ctx context.Context, ws int64, g GuardrailState) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO economics_guardrails (workspace_id, segment, motion, status, detail, evaluated_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (workspace_id, segment, motion) DO UPDATE SET status=excluded.status, detail=excluded.detail, evaluated_at=excluded.evaluated_at`,
		ws, g.Segment, g.Motion, g.Status, string(g.Detail), g.EvaluatedAt.UTC())
	if err != nil {
		return wrapWrite("set guardrail", err)
	}
	return nil
}

// DeleteGuardrailState forgets a cell of ws that no longer exists.
func (q Q) DeleteGuardrailState(ctx context.Context, ws int64, segment, motion string) error {
	_, err := q.db.ExecContext(ctx, `DELETE FROM economics_guardrails WHERE workspace_id = $1 AND segment = $2 AND motion = $3`, ws, segment, motion)
	if err != nil {
		return wrapWrite("delete guardrail", err)
	}
	return nil
}

// EconomicsAlert is one transition of a cell to red, with its numbers.
type EconomicsAlert struct {
	ID             int64
	Segment        string
	Motion         string
	PreviousStatus string
	Status         string
	Detail         []byte
	WindowFrom     string
	WindowTo       string
	CreatedAt      time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy string
}

const alertCols = `id, segment, motion, previous_status, status, detail, window_from, window_to, created_at, acknowledged_at, acknowledged_by`

func scanAlert(r rowScanner) (EconomicsAlert, error) {
	var a EconomicsAlert
	var d jsonText
	var c, ack dbTime
	err := r.Scan(&a.ID, &a.Segment, &a.Motion, &a.PreviousStatus, &a.Status, &d, &a.WindowFrom, &a.WindowTo, &c, &ack, &a.AcknowledgedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: economics alert: %w", err)
	}
	a.Detail, a.CreatedAt, a.AcknowledgedAt = []byte(d), c.T, ack.ptr()
	return a, nil
}

// InsertEconomicsAlert records an alert of ws.
func (q Q) InsertEconomicsAlert(ctx context.Context, ws int64, a *EconomicsAlert) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = Now()
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO economics_alerts (workspace_id, segment, motion, previous_status, status, detail, window_from, window_to, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`, ws, a.Segment, a.Motion, a.PreviousStatus, a.Status, string(a.Detail), a.WindowFrom, a.WindowTo, a.CreatedAt.UTC()).Scan(&a.ID)
	if err != nil {
		return wrapWrite("insert economics alert", err)
	}
	return nil
}

// EconomicsAlerts lists the alerts of ws, newest first; unacknowledged only
// when open; at most limit (0: 100).
func (q Q) EconomicsAlerts(ctx context.Context, ws int64, open bool, limit int) ([]EconomicsAlert, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+alertCols+` FROM economics_alerts WHERE workspace_id = $1 AND (NOT $2 OR acknowledged_at IS NULL)
		ORDER BY created_at DESC, id DESC LIMIT $3`, ws, open, limit)
	if err != nil {
		return nil, fmt.Errorf("store: economics alerts: %w", err)
	}
	defer rows.Close()
	out := []EconomicsAlert{}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// GetEconomicsAlert returns one alert of ws.
func (q Q) GetEconomicsAlert(ctx context.Context, ws, id int64) (EconomicsAlert, error) {
	return scanAlert(q.db.QueryRowContext(ctx, `SELECT `+alertCols+` FROM economics_alerts WHERE workspace_id = $1 AND id = $2`, ws, id))
}

// AcknowledgeEconomicsAlert marks an alert of ws as seen by who (once: an
// acknowledged alert keeps its first acknowledgement).
func (q Q) AcknowledgeEconomicsAlert(ctx context.Context, ws, id int64, who string, at time.Time) error {
	res, err := q.db.ExecContext(ctx, `UPDATE economics_alerts SET acknowledged_at = COALESCE(acknowledged_at, $3), acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $4 ELSE acknowledged_by END
		WHERE workspace_id = $1 AND id = $2`, ws, id, at.UTC(), who)
	return affected(res, err, "acknowledge economics alert")
}

// BulkAccounts inserts bare accounts of ws (name, currency, segment, motion)
// in multi-row statements and returns their ids in order: seeding for
// benchmarks and the demo, where thousands of customers are made at once.
func (q Q) BulkAccounts(ctx context.Context, ws int64, as []model.Account) ([]int64, error) {
	now := Now()
	var nowV any = now
	if q.kind == SQLite {
		nowV = now.Format(sqliteTimeLayout)
	}
	ids := make([]int64, 0, len(as))
	const per = 200
	head := "INSERT INTO accounts (workspace_id, name, currency, segment, motion, created_at, updated_at) VALUES "
	for start := 0; start < len(as); start += per {
		part := as[start:min(start+per, len(as))]
		args := make([]any, 0, len(part)*7)
		for _, a := range part {
			args = append(args, ws, a.Name, a.Currency, a.Segment, a.Motion, nowV, nowV)
		}
		rows, err := q.db.QueryContext(ctx, insertSQL(q.kind, head, 7, len(part))+" RETURNING id", args...)
		if err != nil {
			return nil, wrapWrite("bulk accounts", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, wrapWrite("bulk accounts", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrapWrite("bulk accounts", err)
		}
	}
	return ids, nil
}

// BulkMovements inserts MRR movements of ws as given, in multi-row
// statements, without deriving them from subscriptions: seeding for the
// metrics benchmark only (real movements are written by internal/subscriptions).
func (q Q) BulkMovements(ctx context.Context, ws int64, ms []model.MRRMovement) error {
	now := Now()
	var nowV any = now
	if q.kind == SQLite {
		nowV = now.Format(sqliteTimeLayout)
	}
	const per = 200
	head := "INSERT INTO mrr_movements (workspace_id, account_id, effective_date, month, kind, amount, currency, segment, motion, created_at) VALUES "
	var full *sql.Stmt
	if len(ms) >= per && q.tx != nil {
		st, err := q.tx.PrepareContext(ctx, insertSQL(q.kind, head, 10, per))
		if err != nil {
			return fmt.Errorf("store: prepare bulk movements: %w", err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, per*10)
	for start := 0; start < len(ms); start += per {
		part := ms[start:min(start+per, len(ms))]
		args = args[:0]
		for _, m := range part {
			args = append(args, ws, m.AccountID, m.Date, m.Month, m.Kind, m.Amount, m.Currency, m.Segment, m.Motion, nowV)
		}
		var err error
		if full != nil && len(part) == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = q.db.ExecContext(ctx, insertSQL(q.kind, head, 10, len(part)), args...)
		}
		if err != nil {
			return wrapWrite("bulk movements", err)
		}
	}
	return nil
}

// LockWorkspace takes ws's row lock for the rest of the transaction on
// PostgreSQL (SQLite's single writer serialises already), so two guardrail
// evaluations of one workspace cannot both see a cell as not yet red.
func (q Q) LockWorkspace(ctx context.Context, ws int64) error {
	var got int64
	err := q.db.QueryRowContext(ctx, `SELECT id FROM workspaces WHERE id=$1`+q.forUpdate(), ws).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: lock workspace %d: %w", ws, err)
	}
	return nil
}
