package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/rightsize/rightsize/internal/model"
)

// Segment and routing rules are stored as whole ordered lists: the UI and API edit
// a list at once, and replacing it in one transaction keeps positions dense and
// the list never half-written. Conditions are stored as JSON and evaluated in Go by
// internal/routing; no statement here is built from rule text.

// SegmentRules lists the stored segment rules of ws in order; none means the
// workspace uses the built-in defaults.
func (q Q) SegmentRules(ctx context.Context, ws int64) ([]model.SegmentRule, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, position, segment, conditions, is_catch_all, created_at, updated_at FROM segment_rules WHERE workspace_id=$1 ORDER BY position`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: segment rules: %w", err)
	}
	defer rows.Close()
	out := []model.SegmentRule{}
	for rows.Next() {
		var r model.SegmentRule
		var conds jsonText
		var c, u dbTime
		if err := rows.Scan(&r.ID, &r.Position, &r.Segment, &conds, &r.CatchAll, &c, &u); err != nil {
			return nil, fmt.Errorf("store: segment rules: %w", err)
		}
		if err := decodeConditions(conds, &r.Conditions); err != nil {
			return nil, fmt.Errorf("store: segment rule %d: %w", r.ID, err)
		}
		r.CreatedAt, r.UpdatedAt = c.T, u.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceSegmentRules makes rules (in order) the segment rules of ws; an empty list
// returns the workspace to the defaults. Run it inside InTx. It sets each rule's
// id, position and timestamps.
func (q Q) ReplaceSegmentRules(ctx context.Context, ws int64, rules []model.SegmentRule) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM segment_rules WHERE workspace_id=$1`, ws); err != nil {
		return fmt.Errorf("store: replace segment rules: %w", err)
	}
	now := Now()
	for i := range rules {
		r := &rules[i]
		r.Position, r.CreatedAt, r.UpdatedAt = i+1, now, now
		err := q.db.QueryRowContext(ctx, `INSERT INTO segment_rules (workspace_id, position, segment, conditions, is_catch_all, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$6) RETURNING id`,
			ws, r.Position, r.Segment, encodeConditions(r.Conditions), r.CatchAll, now).Scan(&r.ID)
		if err != nil {
			return wrapWrite("replace segment rules", err)
		}
	}
	return nil
}

// RoutingRules lists the stored routing rules of ws in order; none means the
// workspace uses the built-in defaults.
func (q Q) RoutingRules(ctx context.Context, ws int64) ([]model.RoutingRule, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, position, segment, conditions, motion, pipeline, team, assignment_policy, created_at, updated_at FROM routing_rules WHERE workspace_id=$1 ORDER BY position`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: routing rules: %w", err)
	}
	defer rows.Close()
	out := []model.RoutingRule{}
	for rows.Next() {
		var r model.RoutingRule
		var conds jsonText
		var c, u dbTime
		if err := rows.Scan(&r.ID, &r.Position, &r.Segment, &conds, &r.Motion, &r.Pipeline, &r.Team, &r.Policy, &c, &u); err != nil {
			return nil, fmt.Errorf("store: routing rules: %w", err)
		}
		if err := decodeConditions(conds, &r.Conditions); err != nil {
			return nil, fmt.Errorf("store: routing rule %d: %w", r.ID, err)
		}
		r.CreatedAt, r.UpdatedAt = c.T, u.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplaceRoutingRules makes rules (in order) the routing rules of ws; an empty list
// returns the workspace to the defaults. Run it inside InTx.
func (q Q) ReplaceRoutingRules(ctx context.Context, ws int64, rules []model.RoutingRule) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM routing_rules WHERE workspace_id=$1`, ws); err != nil {
		return fmt.Errorf("store: replace routing rules: %w", err)
	}
	now := Now()
	for i := range rules {
		r := &rules[i]
		r.Position, r.CreatedAt, r.UpdatedAt = i+1, now, now
		err := q.db.QueryRowContext(ctx, `INSERT INTO routing_rules (workspace_id, position, segment, conditions, motion, pipeline, team, assignment_policy, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
			ws, r.Position, r.Segment, encodeConditions(r.Conditions), r.Motion, r.Pipeline, r.Team, r.Policy, now).Scan(&r.ID)
		if err != nil {
			return wrapWrite("replace routing rules", err)
		}
	}
	return nil
}

// InsertRoutingDecision appends a decision to the account's routing history.
func (q Q) InsertRoutingDecision(ctx context.Context, ws int64, d *model.RoutingDecision) error {
	d.CreatedAt = Now()
	inputs := string(d.Inputs)
	if len(d.Inputs) == 0 {
		inputs = "{}"
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO routing_decisions (workspace_id, account_id, segment_rule_id, routing_rule_id, segment, motion, pipeline, team, assignment_policy, manual, inputs, reason, triggered_by, previous_segment, previous_motion, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING id`,
		ws, d.AccountID, nullInt(d.SegmentRuleID), nullInt(d.RoutingRuleID), d.Segment, d.Motion, d.Pipeline, d.Team, d.Policy, d.Manual,
		inputs, d.Reason, d.TriggeredBy, d.PreviousSegment, d.PreviousMotion, d.CreatedAt).Scan(&d.ID)
	if err != nil {
		return wrapWrite("insert routing decision", err)
	}
	return nil
}

// InsertRoutingDecisions appends many decisions (an import batch) in multi-row
// statements; ids are not read back.
func (q Q) InsertRoutingDecisions(ctx context.Context, ws int64, ds []*model.RoutingDecision) error {
	if len(ds) == 1 {
		return q.InsertRoutingDecision(ctx, ws, ds[0])
	}
	const cols = 16
	const perStmt = 500
	now := Now()
	if q.kind == Postgres && q.conn != nil && len(ds) >= 50 {
		return q.copyDecisions(ctx, ws, ds, now)
	}
	for start := 0; start < len(ds); start += perStmt {
		chunk := ds[start:min(start+perStmt, len(ds))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO routing_decisions (workspace_id, account_id, segment_rule_id, routing_rule_id, segment, motion, pipeline, team, assignment_policy, manual, inputs, reason, triggered_by, previous_segment, previous_motion, created_at) VALUES `)
		args := make([]any, 0, len(chunk)*cols)
		for i, d := range chunk {
			d.CreatedAt = now
			inputs := string(d.Inputs)
			if len(d.Inputs) == 0 {
				inputs = "{}"
			}
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for c := range cols {
				if c > 0 {
					sb.WriteByte(',')
				}
				// SQLite looks numbered parameters up linearly: plain "?" keeps a
				// 8,000-parameter statement linear (docs/benchmarks.md).
				if q.kind == SQLite {
					sb.WriteByte('?')
				} else {
					sb.WriteString("$" + strconv.Itoa(len(args)+c+1))
				}
			}
			sb.WriteByte(')')
			args = append(args, ws, d.AccountID, nullInt(d.SegmentRuleID), nullInt(d.RoutingRuleID), d.Segment, d.Motion, d.Pipeline, d.Team, d.Policy, d.Manual,
				inputs, d.Reason, d.TriggeredBy, d.PreviousSegment, d.PreviousMotion, now)
		}
		if _, err := q.db.ExecContext(ctx, sb.String(), args...); err != nil {
			return wrapWrite("insert routing decisions", err)
		}
	}
	return nil
}

var decisionCopyCols = []string{"workspace_id", "account_id", "segment_rule_id", "routing_rule_id", "segment", "motion", "pipeline", "team", "assignment_policy", "manual", "inputs", "reason", "triggered_by", "previous_segment", "previous_motion", "created_at"}

// copyDecisions writes a batch with COPY (PostgreSQL): one round trip, and the
// server skips parsing and planning thousands of VALUES rows.
func (q Q) copyDecisions(ctx context.Context, ws int64, ds []*model.RoutingDecision, now time.Time) error {
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(ds) {
			return nil, nil
		}
		d := ds[i]
		i++
		d.CreatedAt = now
		inputs := string(d.Inputs)
		if len(d.Inputs) == 0 {
			inputs = "{}"
		}
		return []any{ws, d.AccountID, nullInt(d.SegmentRuleID), nullInt(d.RoutingRuleID), d.Segment, d.Motion, d.Pipeline, d.Team, d.Policy, d.Manual,
			inputs, d.Reason, d.TriggeredBy, d.PreviousSegment, d.PreviousMotion, now}, nil
	})
	err := q.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: copy: unexpected driver connection %T", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"routing_decisions"}, decisionCopyCols, src)
		return err
	})
	if err != nil {
		return wrapWrite("copy routing decisions", err)
	}
	return nil
}

const decisionCols = `id, account_id, segment_rule_id, routing_rule_id, segment, motion, pipeline, team, assignment_policy, manual, inputs, reason, triggered_by, previous_segment, previous_motion, created_at`

func scanDecision(r rowScanner) (model.RoutingDecision, error) {
	var d model.RoutingDecision
	var sr, rr sql.NullInt64
	var inputs jsonText
	var c dbTime
	err := r.Scan(&d.ID, &d.AccountID, &sr, &rr, &d.Segment, &d.Motion, &d.Pipeline, &d.Team, &d.Policy, &d.Manual, &inputs, &d.Reason, &d.TriggeredBy, &d.PreviousSegment, &d.PreviousMotion, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: routing decision: %w", err)
	}
	d.SegmentRuleID, d.RoutingRuleID, d.Inputs, d.CreatedAt = intPtr(sr), intPtr(rr), json.RawMessage(inputs), c.T
	return d, nil
}

// RoutingDecisions lists the routing history of one account of ws, newest first
// (at most limit entries; limit <= 0 means 100).
func (q Q) RoutingDecisions(ctx context.Context, ws, accountID int64, limit int) ([]model.RoutingDecision, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+decisionCols+` FROM routing_decisions WHERE workspace_id=$1 AND account_id=$2 ORDER BY id DESC LIMIT $3`, ws, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: routing decisions: %w", err)
	}
	defer rows.Close()
	out := []model.RoutingDecision{}
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// LatestRoutingDecision returns the newest decision of an account, or ErrNotFound.
func (q Q) LatestRoutingDecision(ctx context.Context, ws, accountID int64) (model.RoutingDecision, error) {
	return scanDecision(q.db.QueryRowContext(ctx, `SELECT `+decisionCols+` FROM routing_decisions WHERE workspace_id=$1 AND account_id=$2 ORDER BY id DESC LIMIT 1`, ws, accountID))
}

// FlagOpenDeals marks every open deal of an account for review with reason and
// returns how many it marked. Closed deals keep their history untouched.
func (q Q) FlagOpenDeals(ctx context.Context, ws, accountID int64, reason string) (int64, error) {
	res, err := q.db.ExecContext(ctx, `UPDATE deals SET needs_review=$3, review_reason=$4, updated_at=$5 WHERE workspace_id=$1 AND account_id=$2 AND outcome=''`,
		ws, accountID, true, reason, Now())
	if err != nil {
		return 0, fmt.Errorf("store: flag open deals: %w", err)
	}
	return res.RowsAffected()
}

// MaxOpenDealAmount is the largest amount (minor units) among the account's open
// deals, or nil when it has none: routing's expected_acv.
func (q Q) MaxOpenDealAmount(ctx context.Context, ws, accountID int64) (*int64, error) {
	var n sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT MAX(amount) FROM deals WHERE workspace_id=$1 AND account_id=$2 AND outcome=''`, ws, accountID).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("store: max open deal amount: %w", err)
	}
	return intPtr(n), nil
}

func encodeConditions(c []model.Condition) string {
	if len(c) == 0 {
		return "[]"
	}
	return encodeJSON(c)
}

func decodeConditions(b jsonText, dst *[]model.Condition) error {
	*dst = []model.Condition{}
	return jsonUnmarshal(b, dst)
}
