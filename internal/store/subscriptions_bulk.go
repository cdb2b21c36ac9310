package store

import (
	"context"

	"github.com/rightsize/rightsize/internal/model"
)

// BulkSubscriptions inserts subscription rows of ws as given (no change
// history, no movements derived), 200 a statement: seeding for the
// economics benchmark only (real subscriptions go through
// internal/subscriptions, which records changes and derives movements).
func (q Q) BulkSubscriptions(ctx context.Context, ws int64, ss []model.Subscription) error {
	now := Now()
	var nowV any = now
	if q.kind == SQLite {
		nowV = now.Format(sqliteTimeLayout)
	}
	const per = 200
	const cols = 13
	head := "INSERT INTO subscriptions (workspace_id, account_id, plan, quantity, unit_price, currency, billing_interval, mrr, start_date, term_months, renewal_date, created_at, updated_at) VALUES "
	args := make([]any, 0, per*cols)
	for start := 0; start < len(ss); start += per {
		part := ss[start:min(start+per, len(ss))]
		args = args[:0]
		for _, s := range part {
			args = append(args, ws, s.AccountID, s.Plan, s.Quantity, s.UnitPrice, s.Currency, s.Interval, s.MRR, s.StartDate, s.TermMonths, s.RenewalDate, nowV, nowV)
		}
		if _, err := q.db.ExecContext(ctx, insertSQL(q.kind, head, cols, len(part)), args...); err != nil {
			return wrapWrite("bulk subscriptions", err)
		}
	}
	return nil
}
