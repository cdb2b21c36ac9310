package store

import (
	"context"
	"fmt"
	"strings"
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

// AdminTableRowCounts counts the rows of every table of the schema, across all
// workspaces (the name says so): tests compare it before and after a run of
// hostile input to prove the run changed nothing. Table names come from the
// catalogue, never from a caller.
func (s *Store) AdminTableRowCounts(ctx context.Context) (map[string]int64, error) {
	// Virtual tables (the contentless FTS5 search index) cannot be scanned;
	// their shadow tables, which hold the index, are counted.
	q := `SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`
	if s.Kind == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema=current_schema() AND table_type='BASE TABLE' ORDER BY table_name`
	}
	rows, err := s.R.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, n := range names {
		var c int64
		if err := s.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+strings.ReplaceAll(n, `"`, `""`)+`"`).Scan(&c); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", n, err)
		}
		out[n] = c
	}
	return out, nil
}

// AnalyzeTable refreshes PostgreSQL's statistics of a table a bulk write is
// growing (no-op on SQLite, which plans without them): planned for the empty
// table it was, the CSV import's batch lookup cost over 100 ms a batch at 1M
// contacts (docs/benchmarks.md). table is one of the bulk-written tables,
// never user input.
func (s *Store) AnalyzeTable(ctx context.Context, table string) error {
	if s.Kind != Postgres {
		return nil
	}
	switch table {
	case "contacts", "accounts", "deals":
	default:
		return fmt.Errorf("store: analyze %q: not a bulk-written table", table)
	}
	if _, err := s.W.ExecContext(ctx, "ANALYZE "+table); err != nil {
		return fmt.Errorf("store: analyze %s: %w", table, err)
	}
	return nil
}
