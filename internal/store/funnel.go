package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// FunnelRow is one row of the funnel report's stream: a contact (its source, the
// motion of its account, its current stage and creation time) joined with one of
// its lifecycle-stage changes, oldest entry first per contact. A contact without
// one comes once with Change false (and so does an entry that only looked
// like one).
type FunnelRow struct {
	ContactID int64
	Source    string
	Motion    string // accounts.motion; "" when the contact has no account or it has none
	Stage     string // current lifecycle stage
	CreatedAt time.Time
	Change    bool      // the row carries a stage change: From → To at At
	From, To  string    // the change's stages ("" for a JSON null); may be equal
	At        time.Time // when the history entry was recorded
}

// stageChangeLike pre-filters record_history for entries whose detail names a
// lifecycle_stage: every writer stores the detail with encodeJSON (json.Marshal,
// no spaces), so a stage change always contains this text. It is a superset
// (LIKE's _ matches any character; SQLite's LIKE ignores case); stageChange
// decides.
const stageChangeLike = `h.detail LIKE '%"lifecycle_stage":%'`

// stageChange gives the SQL that reads a lifecycle change out of h.detail as
// the funnel has always read it: from is the first of the two stages when the
// detail is a JSON object whose "lifecycle_stage" is an array of exactly two
// strings or nulls (a null as ""), else NULL; to is the second. They sit in the
// select list, not the join: as join conditions PostgreSQL multiplied the
// guessed selectivities of these opaque terms down to one row and picked a
// nested loop that rescanned the history for every contact. SQLite guards with
// json_valid because its JSON functions raise an error on malformed text;
// PostgreSQL 15 has no such test, so there a malformed detail that passes
// stageChangeLike would fail the query (every writer stores json.Marshal
// output, so there is none).
func (q Q) stageChange() (from, to string) {
	if q.kind == Postgres {
		j := `(h.detail::jsonb -> 'lifecycle_stage')`
		return `CASE WHEN jsonb_typeof(` + j + `) = 'array' AND ` + j + ` -> 2 IS NULL AND jsonb_typeof(` + j + ` -> 0) IN ('string', 'null')
				AND jsonb_typeof(` + j + ` -> 1) IN ('string', 'null') THEN COALESCE(` + j + ` ->> 0, '') END`,
			`COALESCE(` + j + ` ->> 1, '')`
	}
	return `CASE WHEN json_valid(h.detail) AND json_type(h.detail, '$.lifecycle_stage') = 'array' AND json_type(h.detail, '$.lifecycle_stage[2]') IS NULL
			AND json_type(h.detail, '$.lifecycle_stage[0]') IN ('text', 'null') AND json_type(h.detail, '$.lifecycle_stage[1]') IN ('text', 'null')
			THEN COALESCE(json_extract(h.detail, '$.lifecycle_stage[0]'), '') END`,
		`CASE WHEN json_valid(h.detail) THEN COALESCE(json_extract(h.detail, '$.lifecycle_stage[1]'), '') END`
}

// FunnelRows streams the contacts of ws that can count in the window
// [start, end) — created in it, or created before end with a lifecycle change
// recorded in it — each with all its "updated" lifecycle changes (before, in
// and after the window: the first says which stage the contact was created in,
// and the caller stops at end), ordered by contact then entry. Contacts
// created before start that did not change stage in the window are not read:
// none of their reach times can fall in it. The caller folds the rows per
// contact and keeps its own check that From and To differ. CROSS JOIN keeps
// SQLite's join order (it has no statistics): from the candidates to their
// contacts by primary key, not every contact created before end probing the
// candidates; PostgreSQL reads it as an inner join and plans freely.
func (q Q) FunnelRows(ctx context.Context, ws int64, start, end time.Time, fn func(FunnelRow) error) error {
	from, to := q.stageChange()
	rows, err := q.db.QueryContext(ctx, `WITH cand AS (
			SELECT id FROM contacts WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
			UNION
			SELECT h.object_id FROM record_history h WHERE h.workspace_id = $1 AND h.object_type = 'contact' AND h.action = 'updated'
				AND h.created_at >= $2 AND h.created_at < $3 AND `+stageChangeLike+`
		)
		SELECT c.id, c.source, COALESCE(a.motion, ''), c.lifecycle_stage, c.created_at, h.created_at,
			`+from+`, `+to+`
		FROM cand CROSS JOIN contacts c
		LEFT JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
		LEFT JOIN record_history h ON h.workspace_id = c.workspace_id AND h.object_type = 'contact' AND h.object_id = c.id AND h.action = 'updated'
			AND `+stageChangeLike+`
		WHERE c.workspace_id = $1 AND c.id = cand.id AND c.created_at < $3
		ORDER BY c.id, h.id`, ws, start.UTC(), end.UTC())
	if err != nil {
		return fmt.Errorf("store: funnel: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r FunnelRow
		var created, at dbTime
		var src, motion, fromS, toS sql.NullString
		if err := rows.Scan(&r.ContactID, &src, &motion, &r.Stage, &created, &at, &fromS, &toS); err != nil {
			return fmt.Errorf("store: funnel: %w", err)
		}
		r.Source, r.Motion, r.CreatedAt = src.String, motion.String, created.T
		if at.Valid && fromS.Valid && toS.Valid {
			r.Change, r.At, r.From, r.To = true, at.T, fromS.String, toS.String
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
