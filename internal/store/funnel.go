package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FunnelRow is one row of the funnel report's stream: a contact (its source, the
// motion of its account, its current stage and creation time) joined with one of
// its "updated" history entries, oldest first per contact. A contact without
// history comes once with a nil Detail and a zero At.
type FunnelRow struct {
	ContactID int64
	Source    string
	Motion    string // accounts.motion; "" when the contact has no account or it has none
	Stage     string // current lifecycle stage
	CreatedAt time.Time
	Detail    []byte    // the history entry's JSON detail (nil: no entry)
	At        time.Time // when the history entry was recorded
}

// FunnelRows streams the contacts of ws created before until, each with its
// "updated" history entries, ordered by contact then entry. It is one query: the
// caller folds the rows per contact (the detail is parsed in Go, so both dialects
// share the statement) and never keeps more than one contact's entries.
func (q Q) FunnelRows(ctx context.Context, ws int64, until time.Time, fn func(FunnelRow) error) error {
	rows, err := q.db.QueryContext(ctx, `SELECT c.id, c.source, COALESCE(a.motion, ''), c.lifecycle_stage, c.created_at, h.detail, h.created_at
		FROM contacts c
		LEFT JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
		LEFT JOIN record_history h ON h.workspace_id = c.workspace_id AND h.object_type = 'contact' AND h.object_id = c.id AND h.action = 'updated'
		WHERE c.workspace_id = $1 AND c.created_at < $2
		ORDER BY c.id, h.id`, ws, until.UTC())
	if err != nil {
		return fmt.Errorf("store: funnel: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r FunnelRow
		var created, at dbTime
		var detail jsonText
		var src, motion sql.NullString
		if err := rows.Scan(&r.ContactID, &src, &motion, &r.Stage, &created, &detail, &at); err != nil {
			return fmt.Errorf("store: funnel: %w", err)
		}
		r.Source, r.Motion, r.CreatedAt = src.String, motion.String, created.T
		if at.Valid {
			r.Detail, r.At = []byte(detail), at.T
			if r.Detail == nil {
				r.Detail = []byte("null")
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: funnel: %w", err)
	}
	return nil
}

// AddHistoryAt records one change to a record as of at rather than now: for
// loading history that happened elsewhere (and for tests of time-based reports).
func (q Q) AddHistoryAt(ctx context.Context, ws int64, objType string, objID int64, action string, detail any, actor string, at time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO record_history (workspace_id, object_type, object_id, action, detail, actor, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		ws, objType, objID, action, encodeJSON(detail), actor, at.UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	return nil
}

// SetContactCreatedAt backdates a contact of ws: for loading contacts whose
// creation happened elsewhere (and for tests of time-based reports).
func (q Q) SetContactCreatedAt(ctx context.Context, ws, id int64, at time.Time) error {
	res, err := q.db.ExecContext(ctx, `UPDATE contacts SET created_at=$3 WHERE workspace_id=$1 AND id=$2`, ws, id, at.UTC().Truncate(time.Microsecond))
	return affected(res, err, "backdate contact")
}

// SetContactsCreatedAt backdates many contacts of ws at once, ids[i] to at[i]
// (SetContactCreatedAt in bulk, for loading data and seeding benchmarks): one
// statement on PostgreSQL, a prepared UPDATE per row inside the caller's
// transaction on SQLite, where a statement costs no round trip.
func (q Q) SetContactsCreatedAt(ctx context.Context, ws int64, ids []int64, at []time.Time) error {
	if len(ids) != len(at) {
		return fmt.Errorf("store: backdate contacts: %d ids but %d times", len(ids), len(at))
	}
	ts := make([]time.Time, len(at))
	for i, t := range at {
		ts[i] = t.UTC().Truncate(time.Microsecond)
	}
	if q.kind == Postgres {
		_, err := q.db.ExecContext(ctx, `UPDATE contacts c SET created_at = u.at FROM unnest($2::bigint[], $3::timestamptz[]) AS u(id, at)
			WHERE c.workspace_id = $1 AND c.id = u.id`, ws, ids, ts)
		if err != nil {
			return wrapWrite("backdate contacts", err)
		}
		return nil
	}
	if q.tx == nil {
		return fmt.Errorf("store: backdate contacts outside a transaction")
	}
	st, err := q.tx.PrepareContext(ctx, `UPDATE contacts SET created_at=$3 WHERE workspace_id=$1 AND id=$2`)
	if err != nil {
		return fmt.Errorf("store: prepare backdate contacts: %w", err)
	}
	defer st.Close()
	for i, id := range ids {
		if _, err := st.ExecContext(ctx, ws, id, ts[i]); err != nil {
			return wrapWrite("backdate contacts", err)
		}
	}
	return nil
}
