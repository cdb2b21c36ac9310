package store

import (
	"context"
	"fmt"
	"time"
)

// DealReasonCount is how many deals of one outcome (lost or no_decision) were
// closed with one loss reason ("" when none was given).
type DealReasonCount struct {
	Outcome    string `json:"outcome"`
	LossReason string `json:"loss_reason"`
	Count      int64  `json:"count"`
}

// DealLossCounts counts the deals of ws closed lost or no_decision in the
// period [from, to) (by closed_at) per outcome and loss reason: by outcome,
// then most frequent first, then by reason.
func (q Q) DealLossCounts(ctx context.Context, ws int64, from, to time.Time) ([]DealReasonCount, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT outcome, COALESCE(loss_reason, ''), COUNT(*) FROM deals
		WHERE workspace_id = $1 AND outcome IN ('lost', 'no_decision') AND closed_at >= $2 AND closed_at < $3
		GROUP BY outcome, COALESCE(loss_reason, '') ORDER BY outcome, COUNT(*) DESC, COALESCE(loss_reason, '')`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: deal loss counts: %w", err)
	}
	defer rows.Close()
	out := []DealReasonCount{}
	for rows.Next() {
		var r DealReasonCount
		if err := rows.Scan(&r.Outcome, &r.LossReason, &r.Count); err != nil {
			return nil, fmt.Errorf("store: deal loss counts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
