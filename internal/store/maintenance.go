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

// BackendPIDs lists the PostgreSQL server processes serving this database
// (benchmarks read their CPU time from /proc when the server is local); nil
// on SQLite.
func (s *Store) BackendPIDs(ctx context.Context) ([]int, error) {
	if s.Kind != Postgres {
		return nil, nil
	}
	rows, err := s.R.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil, fmt.Errorf("store: backend pids: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		out = append(out, pid)
	}
	return out, rows.Err()
}
