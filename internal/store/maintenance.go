package store

import (
	"context"
	"fmt"
)

// Analyze refreshes the planner statistics of every table. On PostgreSQL
// autovacuum does this by itself soon after a bulk load; benchmarks call it
// right after generating data so that they measure the steady state and not
// the minute before autovacuum's analyze (docs/benchmarks.md). On SQLite it
// runs ANALYZE, which the product itself never does.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.W.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("store: analyze: %w", err)
	}
	return nil
}
