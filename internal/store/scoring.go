package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Lead scoring's tables (migration 00003, docs/scoring.md). The arithmetic lives in
// internal/scoring; the store only keeps the numbers and hands back rows.

// ScoringConfig is a workspace's scoring configuration as stored. Weights and rules
// are JSON the scoring package writes and validates; the store does not interpret
// them.
type ScoringConfig struct {
	HalfLifeSeconds int64
	MQLThreshold    float64
	EventWeights    json.RawMessage
	FitRules        json.RawMessage
	UpdatedBy       string
	UpdatedAt       time.Time
}

// GetScoringConfig loads ws's configuration; ErrNotFound means it scores with the
// defaults.
func (q Q) GetScoringConfig(ctx context.Context, ws int64) (ScoringConfig, error) {
	var c ScoringConfig
	var w, r jsonText
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT half_life_seconds, mql_threshold, event_weights, fit_rules, updated_by, updated_at FROM scoring_config WHERE workspace_id=$1`, ws).
		Scan(&c.HalfLifeSeconds, &c.MQLThreshold, &w, &r, &c.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: scoring config: %w", err)
	}
	c.EventWeights, c.FitRules, c.UpdatedAt = json.RawMessage(w), json.RawMessage(r), at.T
	return c, nil
}

// SaveScoringConfig creates or replaces ws's configuration.
func (q Q) SaveScoringConfig(ctx context.Context, ws int64, c *ScoringConfig) error {
	c.UpdatedAt = Now()
	_, err := q.db.ExecContext(ctx, `INSERT INTO scoring_config (workspace_id, half_life_seconds, mql_threshold, event_weights, fit_rules, updated_by, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (workspace_id) DO UPDATE SET half_life_seconds=excluded.half_life_seconds, mql_threshold=excluded.mql_threshold, event_weights=excluded.event_weights,
		fit_rules=excluded.fit_rules, updated_by=excluded.updated_by, updated_at=excluded.updated_at`,
		ws, c.HalfLifeSeconds, c.MQLThreshold, string(c.EventWeights), string(c.FitRules), c.UpdatedBy, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: save scoring config: %w", err)
	}
	return nil
}

// ContactScore is one contact's stored score. The engagement part is a value at a
// moment (EngagementValue at EngagementAt); readers decay it to the present.
// Total is Fit + EngagementValue at EngagementAt. DueAt is when the decaying total
// falls below the MQL threshold (nil: never, or already below). MQLAt is set when
// scoring itself promoted the contact, to the updated_at it wrote, so a later edit
// shows the contact has been touched.
type ContactScore struct {
	ContactID       int64
	Fit             float64
	EngagementValue float64
	EngagementAt    time.Time
	Total           float64
	DueAt           *time.Time
	MQLAt           *time.Time
	Events          int64
	Breakdown       json.RawMessage
	UpdatedAt       time.Time
}

const scoreCols = `contact_id, fit, engagement_value, engagement_at, total, due_at, mql_at, events, breakdown, updated_at`

func scanScore(r rowScanner) (ContactScore, error) {
	var s ContactScore
	var ea, due, mql, up dbTime
	var bd jsonText
	if err := r.Scan(&s.ContactID, &s.Fit, &s.EngagementValue, &ea, &s.Total, &due, &mql, &s.Events, &bd, &up); err != nil {
		return s, err
	}
	s.EngagementAt, s.DueAt, s.MQLAt, s.UpdatedAt = ea.T, due.ptr(), mql.ptr(), up.T
	s.Breakdown = json.RawMessage(bd)
	return s, nil
}

// GetContactScore loads the score of one contact of ws; ErrNotFound when it has none.
func (q Q) GetContactScore(ctx context.Context, ws, contactID int64) (ContactScore, error) {
	s, err := scanScore(q.db.QueryRowContext(ctx, `SELECT `+scoreCols+` FROM contact_scores WHERE workspace_id=$1 AND contact_id=$2`, ws, contactID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: contact score: %w", err)
	}
	return s, nil
}

// ContactScores loads the scores of many contacts of ws; contacts without one are
// absent from the map.
func (q Q) ContactScores(ctx context.Context, ws int64, ids []int64) (map[int64]ContactScore, error) {
	out := make(map[int64]ContactScore, len(ids))
	err := q.scoringIn(ctx, ws, `SELECT `+scoreCols+` FROM contact_scores WHERE workspace_id = $1 AND `, "contact_id", "", ids, func(rows *sql.Rows) error {
		s, err := scanScore(rows)
		out[s.ContactID] = s
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: contact scores: %w", err)
	}
	return out, nil
}

// ScoredContactIDs pages through the ids of ws's scored contacts in id order (a
// configuration change recomputes fit and due times page by page).
func (q Q) ScoredContactIDs(ctx context.Context, ws, after int64, limit int) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT contact_id FROM contact_scores WHERE workspace_id=$1 AND contact_id > $2 ORDER BY contact_id LIMIT $3`, ws, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: scored contacts: %w", err)
	}
	return ids, nil
}

// PutContactScores inserts or replaces many scores of ws: multi-row statements on
// SQLite, one INSERT … SELECT FROM unnest(arrays) on PostgreSQL (one round trip and
// a dozen parameters however many rows). Each contact may appear once.
func (q Q) PutContactScores(ctx context.Context, ws int64, ss []ContactScore) error {
	if len(ss) == 0 {
		return nil
	}
	now := Now()
	bd := func(s *ContactScore) string {
		if len(s.Breakdown) == 0 {
			return "{}"
		}
		return string(s.Breakdown)
	}
	for i := range ss {
		ss[i].UpdatedAt = now
	}
	const tail = ` ON CONFLICT (workspace_id, contact_id) DO UPDATE SET fit=excluded.fit, engagement_value=excluded.engagement_value,
		engagement_at=excluded.engagement_at, total=excluded.total, due_at=excluded.due_at, mql_at=excluded.mql_at, events=excluded.events,
		breakdown=excluded.breakdown, updated_at=excluded.updated_at`
	if q.kind == Postgres {
		n := len(ss)
		id, cnt := make([]int64, n), make([]int64, n)
		fit, ev, tot := make([]float64, n), make([]float64, n), make([]float64, n)
		at, due, mql := make([]time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		bds := make([]string, n)
		for i := range ss {
			s := &ss[i]
			id[i], cnt[i], fit[i], ev[i], tot[i], at[i], due[i], mql[i], bds[i] = s.ContactID, s.Events, s.Fit, s.EngagementValue, s.Total, s.EngagementAt.UTC(), s.DueAt, s.MQLAt, bd(s)
		}
		_, err := q.db.ExecContext(ctx, `INSERT INTO contact_scores (workspace_id, `+scoreCols+`)
			SELECT $1, u.c, u.f, u.ev, u.ea, u.t, u.due, u.mql, u.n, u.bd::jsonb, $11
			FROM unnest($2::bigint[], $3::float8[], $4::float8[], $5::timestamptz[], $6::float8[], $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::text[])
			AS u(c, f, ev, ea, t, due, mql, n, bd)`+tail, ws, id, fit, ev, at, tot, due, mql, cnt, bds, now)
		if err != nil {
			return wrapWrite("put contact scores", err)
		}
		return nil
	}
	head := `INSERT INTO contact_scores (workspace_id, ` + scoreCols + `) VALUES `
	return q.scoringInsert(ctx, head, tail, 11, len(ss), func(i int, args []any) []any {
		s := &ss[i]
		return append(args, ws, s.ContactID, s.Fit, s.EngagementValue, s.EngagementAt.UTC(), s.Total, nullTime(s.DueAt), nullTime(s.MQLAt), s.Events, bd(s), now)
	})
}

// CacheForeignKeyPlans lets PostgreSQL reuse cached plans for the rest of the
// transaction; call it after a batch's lookups and before its writes. openPostgres
// sets plan_cache_mode=force_custom_plan so lookups never get a generic plan chosen
// from stale statistics (they keep it: they ran already), but foreign-key checks are
// cached plans too, and under that setting every checked row is planned again:
// writing 1,000 engagement events and their scores took twice as long. No-op on SQLite.
func (q Q) CacheForeignKeyPlans(ctx context.Context) error {
	if q.kind != Postgres || q.tx == nil {
		return nil
	}
	if _, err := q.db.ExecContext(ctx, `SET LOCAL plan_cache_mode = auto`); err != nil {
		return fmt.Errorf("store: plan cache mode: %w", err)
	}
	return nil
}

// EngagementEvent is one thing a contact did that feeds their engagement score.
// Weight is the kind's weight when it was recorded, so a later change of weights
// leaves past events as they were scored.
type EngagementEvent struct {
	ID         int64             `json:"id"`
	ContactID  int64             `json:"contact_id"`
	Kind       string            `json:"kind"`
	Weight     float64           `json:"weight"`
	OccurredAt time.Time         `json:"occurred_at"`
	Detail     map[string]string `json:"detail,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}

// InsertEngagementEvents writes many events of ws (multi-row statements on SQLite,
// one INSERT … SELECT FROM unnest(arrays) on PostgreSQL).
func (q Q) InsertEngagementEvents(ctx context.Context, ws int64, es []EngagementEvent) error {
	if len(es) == 0 {
		return nil
	}
	now := Now()
	detail := func(e *EngagementEvent) string {
		if len(e.Detail) == 0 {
			return "{}"
		}
		return encodeJSON(e.Detail)
	}
	for i := range es {
		es[i].CreatedAt = now
	}
	if q.kind == Postgres {
		n := len(es)
		cid, kind, w, at, d := make([]int64, n), make([]string, n), make([]float64, n), make([]time.Time, n), make([]string, n)
		for i := range es {
			e := &es[i]
			cid[i], kind[i], w[i], at[i], d[i] = e.ContactID, e.Kind, e.Weight, e.OccurredAt.UTC(), detail(e)
		}
		_, err := q.db.ExecContext(ctx, `INSERT INTO engagement_events (workspace_id, contact_id, kind, weight, occurred_at, detail, created_at)
			SELECT $1, u.c, u.k, u.w, u.o, u.d::jsonb, $7 FROM unnest($2::bigint[], $3::text[], $4::float8[], $5::timestamptz[], $6::text[]) AS u(c, k, w, o, d)`,
			ws, cid, kind, w, at, d, now)
		if err != nil {
			return wrapWrite("insert engagement events", err)
		}
		return nil
	}
	head := `INSERT INTO engagement_events (workspace_id, contact_id, kind, weight, occurred_at, detail, created_at) VALUES `
	return q.scoringInsert(ctx, head, "", 7, len(es), func(i int, args []any) []any {
		e := &es[i]
		return append(args, ws, e.ContactID, e.Kind, e.Weight, e.OccurredAt.UTC(), detail(e), now)
	})
}

// RecentEngagementEvents lists a contact's newest events first (score breakdowns).
func (q Q) RecentEngagementEvents(ctx context.Context, ws, contactID int64, limit int) ([]EngagementEvent, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, contact_id, kind, weight, occurred_at, detail, created_at FROM engagement_events
		WHERE workspace_id=$1 AND contact_id=$2 ORDER BY occurred_at DESC, id DESC LIMIT $3`, ws, contactID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: engagement events: %w", err)
	}
	defer rows.Close()
	out := []EngagementEvent{}
	for rows.Next() {
		var e EngagementEvent
		var at, created dbTime
		var d jsonText
		if err := rows.Scan(&e.ID, &e.ContactID, &e.Kind, &e.Weight, &at, &d, &created); err != nil {
			return nil, err
		}
		e.OccurredAt, e.CreatedAt = at.T, created.T
		_ = jsonUnmarshal(d, &e.Detail) // written only by InsertEngagementEvents
		out = append(out, e)
	}
	return out, rows.Err()
}

// ContactsForScoring loads many contacts of ws in id order. With lock (inside a
// transaction) PostgreSQL locks the rows, so two batches that score the same
// contact run one after the other instead of losing an update; SQLite's single
// writer already serialises them.
func (q Q) ContactsForScoring(ctx context.Context, ws int64, ids []int64, lock bool) (map[int64]*model.Contact, error) {
	out := make(map[int64]*model.Contact, len(ids))
	suffix := " ORDER BY id"
	if lock && q.kind == Postgres {
		suffix += " FOR UPDATE"
	}
	err := q.scoringIn(ctx, ws, `SELECT `+contactCols+` FROM contacts WHERE `+q.scoringByKey("workspace_id")+` = $1 AND `, "id", suffix, ids, func(rows *sql.Rows) error {
		c, _, err := scanContact(rows)
		out[c.ID] = &c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: contacts for scoring: %w", err)
	}
	return out, nil
}

// AccountsByIDs loads many accounts of ws (fit rules read firmographics).
func (q Q) AccountsByIDs(ctx context.Context, ws int64, ids []int64) (map[int64]*model.Account, error) {
	out := make(map[int64]*model.Account, len(ids))
	err := q.scoringIn(ctx, ws, `SELECT `+accountCols+` FROM accounts WHERE `+q.scoringByKey("workspace_id")+` = $1 AND `, "id", "", ids, func(rows *sql.Rows) error {
		a, _, err := scanAccount(rows)
		out[a.ID] = &a
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: accounts by ids: %w", err)
	}
	return out, nil
}

// MoveContactsStage sets the lifecycle stage of those of ids that are in one of
// from, stamping updated_at with at, and returns the ids it moved. The stage
// condition sits in the UPDATE so a contact someone else moved meanwhile is left alone.
func (q Q) MoveContactsStage(ctx context.Context, ws int64, ids []int64, from []string, to string, at time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.QueryContext(ctx, `UPDATE contacts SET lifecycle_stage = $1, updated_at = $2 WHERE `+q.scoringByKey("workspace_id")+` = $3 AND `+
		q.scoringIs(q.scoringByKey("lifecycle_stage"), "$4", "text")+` AND `+q.scoringIs("id", "$5", "bigint")+` RETURNING id`,
		to, at.UTC(), ws, q.scoringArg(from), q.scoringArg(ids))
	if err != nil {
		return nil, fmt.Errorf("store: move contacts stage: %w", err)
	}
	defer rows.Close()
	var moved []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		moved = append(moved, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: move contacts stage: %w", err)
	}
	sort.Slice(moved, func(i, j int) bool { return moved[i] < moved[j] })
	return moved, nil
}

// HistoryRecord is one record_history entry for AddHistories.
type HistoryRecord struct {
	ObjectType string
	ObjectID   int64
	Action     string
	Detail     any
	Actor      string
	At         time.Time // when it happened; zero: now (set it only to load history that happened elsewhere)
}

// AddHistories records many changes of ws at once (AddHistory in bulk).
func (q Q) AddHistories(ctx context.Context, ws int64, hs []HistoryRecord) error {
	now := Now()
	head := `INSERT INTO record_history (workspace_id, object_type, object_id, action, detail, actor, created_at) VALUES `
	return q.scoringInsert(ctx, head, "", 7, len(hs), func(i int, args []any) []any {
		h := &hs[i]
		at := now
		if !h.At.IsZero() {
			at = h.At.UTC().Truncate(time.Microsecond)
		}
		return append(args, ws, h.ObjectType, h.ObjectID, h.Action, encodeJSON(h.Detail), h.Actor, at)
	})
}

// AdminWorkspacesWithDueScores lists the workspaces that have a score due at or
// before now. It works across workspaces (the due-time job's entry point) but
// probes each workspace through the (workspace_id, due_at) index rather than
// scanning scores.
func (q Q) AdminWorkspacesWithDueScores(ctx context.Context, now time.Time) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT w.id FROM workspaces w WHERE EXISTS (SELECT 1 FROM contact_scores s WHERE s.workspace_id = w.id AND s.due_at IS NOT NULL AND s.due_at <= $1) ORDER BY w.id`, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: workspaces with due scores: %w", err)
	}
	return ids, nil
}

// ClaimDueScores returns up to limit scores of ws due at or before now, earliest
// first, through the (workspace_id, due_at) index. Inside a transaction on
// PostgreSQL the score and its contact are locked with SKIP LOCKED, so concurrent
// workers take disjoint rows and never wait on (or deadlock with) a batch that is
// scoring the same contact; on SQLite the single writer serialises them. The caller
// must clear or move due_at of every row it gets, in the same transaction.
func (q Q) ClaimDueScores(ctx context.Context, ws int64, now time.Time, limit int) ([]ContactScore, error) {
	cols := "s." + strings.ReplaceAll(scoreCols, ", ", ", s.")
	query := `SELECT ` + cols + ` FROM contact_scores s JOIN contacts c ON c.workspace_id = s.workspace_id AND c.id = s.contact_id
		WHERE s.workspace_id = $1 AND s.due_at IS NOT NULL AND s.due_at <= $2 ORDER BY s.due_at LIMIT $3`
	if q.kind == Postgres && q.tx != nil {
		query += ` FOR UPDATE OF s, c SKIP LOCKED`
	}
	rows, err := q.db.QueryContext(ctx, query, ws, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim due scores: %w", err)
	}
	defer rows.Close()
	var out []ContactScore
	for rows.Next() {
		s, err := scanScore(rows)
		if err != nil {
			return nil, fmt.Errorf("store: claim due scores: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ContactActivitySince reports whether someone logged an activity on the contact
// after since (a touched MQL is not sent back to nurture).
func (q Q) ContactActivitySince(ctx context.Context, ws, contactID int64, since time.Time) (bool, error) {
	var n int64
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM activities WHERE `+q.scoringByKey("workspace_id")+`=$1 AND contact_id=$2 AND created_at > $3`, ws, contactID, since.UTC()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: contact activity: %w", err)
	}
	return n > 0, nil
}

// scorePH is the i-th placeholder: "$i" on PostgreSQL, "?" on SQLite, whose
// parser resolves numbered variables with a linear search (see docs/benchmarks.md).
// A statement uses one style throughout.
func (q Q) scorePH(i int) string {
	if q.kind == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(i)
}

// scoringIn runs query + "col is one of ids" + suffix, calling scan for each row.
// The query binds the workspace as $1; the ids travel as $2, one parameter (see
// scoringIs).
func (q Q) scoringIn(ctx context.Context, ws int64, query, col, suffix string, ids []int64, scan func(*sql.Rows) error) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.db.QueryContext(ctx, query+q.scoringIs(col, "$2", "bigint")+suffix, ws, q.scoringArg(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// scoringIs is the condition "col is one of the list bound to ph". The list is one
// parameter (a pgType[] on PostgreSQL, a JSON array read by json_each on SQLite):
// a statement with a thousand placeholders costs more to parse and plan than to run.
func (q Q) scoringIs(col, ph, pgType string) string {
	if q.kind == Postgres {
		return col + " = ANY(" + ph + "::" + pgType + "[])"
	}
	return col + " IN (SELECT value FROM json_each(" + ph + "))"
}

// scoringByKey keeps SQLite's planner off an index on col: without statistics it would
// rather scan a workspace through (workspace_id, …) than look a short id list up
// by primary key. ("+col" is SQLite's documented way to say so; PostgreSQL plans
// from statistics and gets col unchanged.)
func (q Q) scoringByKey(col string) string {
	if q.kind == SQLite {
		return "+" + col
	}
	return col
}

// scoringArg binds a list for scoringIs.
func (q Q) scoringArg(list any) any {
	if q.kind == Postgres {
		return list
	}
	return encodeJSON(list)
}

// ContactIDsByEmail maps each of emails (normalised) that is a contact of ws to its id.
func (q Q) ContactIDsByEmail(ctx context.Context, ws int64, emails []string) (map[string]int64, error) {
	out := make(map[string]int64, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	rows, err := q.db.QueryContext(ctx, `SELECT email, id FROM contacts WHERE workspace_id = $1 AND `+q.scoringIs("email", "$2", "text"), ws, q.scoringArg(emails))
	if err != nil {
		return nil, fmt.Errorf("store: contacts by email: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e string
		var id int64
		if err := rows.Scan(&e, &id); err != nil {
			return nil, err
		}
		out[e] = id
	}
	return out, rows.Err()
}

// scoringInsert writes n rows of cols values each with multi-row statements:
// head + "(…),(…)" + tail. Full chunks reuse one prepared statement inside a
// transaction (parsing is a large share of a big INSERT's cost on SQLite; pgx
// caches the prepared statement by its text anyway). Chunks are 100 rows on SQLite
// and 1,000 on PostgreSQL, whose cost is per round trip.
func (q Q) scoringInsert(ctx context.Context, head, tail string, cols, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	per := 100
	if q.kind == Postgres {
		per = 1000
	}
	var full *sql.Stmt
	if n >= per && q.tx != nil {
		st, err := q.tx.PrepareContext(ctx, head+q.scoringValues(cols, per)+tail)
		if err != nil {
			return fmt.Errorf("store: prepare %s: %w", strings.Fields(head)[2], err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, per*cols)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var err error
		if full != nil && end-start == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = q.db.ExecContext(ctx, head+q.scoringValues(cols, end-start)+tail, args...)
		}
		if err != nil {
			return wrapWrite("insert "+strings.Fields(head)[2], err)
		}
	}
	return nil
}

func (q Q) scoringValues(cols, rows int) string {
	var sb strings.Builder
	sb.Grow(rows * cols * 6)
	p := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(q.scorePH(p))
			p++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}
