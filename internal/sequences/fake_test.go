package sequences_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
)

// ledger is a table-backed Mailer standing in for the mail layer's send ledger:
// one row per key under a primary key, so planning a key twice is caught by the
// database, in the caller's transaction, exactly as the real ledger would.
type ledger struct{ st *store.Store }

func newLedger(t testing.TB, st *store.Store) *ledger {
	t.Helper()
	_, err := st.W.ExecContext(context.Background(), `CREATE TABLE test_send_ledger (
		key TEXT PRIMARY KEY, workspace_id BIGINT NOT NULL, enrollment_id BIGINT NOT NULL, step_id BIGINT NOT NULL,
		contact_id BIGINT NOT NULL, subject TEXT NOT NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	return &ledger{st: st}
}

func (l *ledger) PlanSend(ctx context.Context, q store.Q, ws int64, s sequences.PlannedSend) (bool, error) {
	res, err := q.Tx().ExecContext(ctx, `INSERT INTO test_send_ledger (key, workspace_id, enrollment_id, step_id, contact_id, subject)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (key) DO NOTHING`, s.Key, ws, s.EnrollmentID, s.StepID, s.ContactID, s.Subject)
	if err != nil {
		return false, fmt.Errorf("ledger: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PlanSends is the batch path: one statement on PostgreSQL, a prepared insert per
// row on SQLite.
func (l *ledger) PlanSends(ctx context.Context, q store.Q, ws int64, ss []sequences.PlannedSend) ([]bool, error) {
	out := make([]bool, len(ss))
	if q.Kind() == store.Postgres {
		keys, subj := make([]string, len(ss)), make([]string, len(ss))
		enr, step, con := make([]int64, len(ss)), make([]int64, len(ss)), make([]int64, len(ss))
		idx := map[string]int{}
		for i, s := range ss {
			keys[i], subj[i], enr[i], step[i], con[i] = s.Key, s.Subject, s.EnrollmentID, s.StepID, s.ContactID
			idx[s.Key] = i
		}
		rows, err := q.Tx().QueryContext(ctx, `INSERT INTO test_send_ledger (key, workspace_id, enrollment_id, step_id, contact_id, subject)
			SELECT k, $1, e, s, c, j FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[]) AS v(k, e, s, c, j)
			ON CONFLICT (key) DO NOTHING RETURNING key`, ws, keys, enr, step, con, subj)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return nil, err
			}
			out[idx[k]] = true
		}
		return out, rows.Err()
	}
	stmt, err := q.Tx().PrepareContext(ctx, `INSERT INTO test_send_ledger (key, workspace_id, enrollment_id, step_id, contact_id, subject)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (key) DO NOTHING`)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for i, s := range ss {
		res, err := stmt.ExecContext(ctx, s.Key, ws, s.EnrollmentID, s.StepID, s.ContactID, s.Subject)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		out[i] = n == 1
	}
	return out, nil
}

// rows counts ledger rows, and rows per key above one (impossible by the key).
func (l *ledger) count(t testing.TB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := l.st.W.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM test_send_ledger `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// signals are test doubles answering from maps.
type signals struct {
	opened  map[[2]int64]bool // enrollment, step
	clicked map[[2]int64]bool
	visited map[int64]string // contact → url visited
}

func (s *signals) Opened(_ context.Context, _ store.Q, _ int64, e, st int64) (bool, error) {
	return s.opened[[2]int64{e, st}], nil
}
func (s *signals) Clicked(_ context.Context, _ store.Q, _ int64, e, st int64) (bool, error) {
	return s.clicked[[2]int64{e, st}], nil
}
func (s *signals) Visited(_ context.Context, _ store.Q, _ int64, c int64, url string, _ time.Time) (bool, error) {
	return s.visited[c] != "" && strings.Contains(s.visited[c], url), nil
}
