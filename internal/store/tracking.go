package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// TrackingSite is a website whose pages carry the tracking snippet. PublicKey is
// what the snippet names; it alone decides the workspace of an ingested event.
type TrackingSite struct {
	ID             int64     `json:"id"`
	WorkspaceID    int64     `json:"workspace_id"`
	PublicKey      string    `json:"public_key"`
	Name           string    `json:"name"`
	AllowedOrigins []string  `json:"allowed_origins"`
	ConsentMode    string    `json:"consent_mode"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// WebEvent is one page view, content view or custom event of a visitor. Props is
// a JSON object (validated at ingest). ContactID is set once the visitor is
// stitched to a contact.
type WebEvent struct {
	ID         int64     `json:"id"`
	VisitorID  string    `json:"visitor_id"`
	ContactID  *int64    `json:"contact_id,omitempty"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name,omitempty"`
	URL        string    `json:"url,omitempty"`
	Title      string    `json:"title,omitempty"`
	Referrer   string    `json:"referrer,omitempty"`
	Props      string    `json:"-"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
}

const siteCols = `id, workspace_id, public_key, name, allowed_origins, consent_mode, created_at, updated_at`

func scanSite(r rowScanner) (TrackingSite, error) {
	var s TrackingSite
	var origins jsonText
	if err := r.Scan(&s.ID, &s.WorkspaceID, &s.PublicKey, &s.Name, &origins, &s.ConsentMode, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return s, err
	}
	s.AllowedOrigins = []string{}
	if err := jsonUnmarshal(origins, &s.AllowedOrigins); err != nil {
		return s, fmt.Errorf("store: site %d origins: %w", s.ID, err)
	}
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, nil
}

func oneSite(row *sql.Row, what string) (TrackingSite, error) {
	s, err := scanSite(row)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: %s: %w", what, err)
	}
	return s, nil
}

// CreateTrackingSite inserts s into ws, setting its id and times.
func (q Q) CreateTrackingSite(ctx context.Context, ws int64, s *TrackingSite) error {
	now := Now()
	s.WorkspaceID, s.CreatedAt, s.UpdatedAt = ws, now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO tracking_sites (workspace_id, public_key, name, allowed_origins, consent_mode, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, ws, s.PublicKey, s.Name, encodeJSON(s.AllowedOrigins), s.ConsentMode, now, now).Scan(&s.ID)
	if err != nil {
		return wrapWrite("create tracking site", err)
	}
	return nil
}

// TrackingSites lists ws's sites in creation order.
func (q Q) TrackingSites(ctx context.Context, ws int64) ([]TrackingSite, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+siteCols+` FROM tracking_sites WHERE workspace_id = $1 ORDER BY id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: list tracking sites: %w", err)
	}
	defer rows.Close()
	out := []TrackingSite{}
	for rows.Next() {
		s, err := scanSite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tracking sites: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GetTrackingSite returns site id of ws (ErrNotFound for another workspace's).
func (q Q) GetTrackingSite(ctx context.Context, ws, id int64) (TrackingSite, error) {
	return oneSite(q.db.QueryRowContext(ctx, `SELECT `+siteCols+` FROM tracking_sites WHERE workspace_id = $1 AND id = $2`, ws, id), "get tracking site")
}

// AdminTrackingSiteByKey finds a site by its public key in any workspace: the
// public ingest endpoint learns the workspace from the key and nothing else.
func (q Q) AdminTrackingSiteByKey(ctx context.Context, key string) (TrackingSite, error) {
	return oneSite(q.db.QueryRowContext(ctx, `SELECT `+siteCols+` FROM tracking_sites WHERE public_key = $1`, key), "tracking site by key")
}

// UpdateTrackingSite stores s's name, origins and consent mode.
func (q Q) UpdateTrackingSite(ctx context.Context, ws int64, s *TrackingSite) error {
	s.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE tracking_sites SET name = $3, allowed_origins = $4, consent_mode = $5, updated_at = $6
		WHERE workspace_id = $1 AND id = $2`, ws, s.ID, s.Name, encodeJSON(s.AllowedOrigins), s.ConsentMode, s.UpdatedAt)
	return affected(res, err, "update tracking site")
}

// DeleteTrackingSite removes site id of ws. Its events stay (they belong to the
// workspace's visitors, not to the snippet).
func (q Q) DeleteTrackingSite(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM tracking_sites WHERE workspace_id = $1 AND id = $2`, ws, id)
	return affected(res, err, "delete tracking site")
}

// InsertWebEvents appends events to ws in multi-row statements.
func (q Q) InsertWebEvents(ctx context.Context, ws int64, es []WebEvent) error {
	if len(es) == 0 {
		return nil
	}
	props := func(e *WebEvent) string {
		if e.Props == "" {
			return "{}"
		}
		return e.Props
	}
	if q.kind == Postgres {
		n := len(es)
		vis, cid, kind, name, u, title, ref, pr := make([]string, n), make([]*int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		at, recv := make([]time.Time, n), make([]time.Time, n)
		for i := range es {
			e := &es[i]
			vis[i], cid[i], kind[i], name[i], u[i], title[i], ref[i], pr[i], at[i], recv[i] = e.VisitorID, e.ContactID, e.Kind, e.Name, e.URL, e.Title, e.Referrer, props(e), e.OccurredAt.UTC(), e.ReceivedAt.UTC()
		}
		_, err := q.db.ExecContext(ctx, `INSERT INTO web_events (workspace_id, visitor_id, contact_id, kind, name, url, title, referrer, props, occurred_at, received_at)
			SELECT $1, u.v, u.c, u.k, u.n, u.u, u.t, u.r, u.p, u.o, u.rc
			FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[]) AS u(v, c, k, n, u, t, r, p, o, rc)`,
			ws, vis, cid, kind, name, u, title, ref, pr, at, recv)
		if err != nil {
			return wrapWrite("insert web events", err)
		}
		return nil
	}
	return q.insertWebEventsSQLite(ctx, ws, es, props)
}

// webEventsPerStmt rows go in one SQLite INSERT. The workspace id is written into
// the statement as an integer literal (it comes from the site row, never from
// the request) so it is not bound once per row: binding is a large share of the
// cost. Placeholders are plain "?": the driver looks numbered ones up by name,
// which is quadratic in their number.
const webEventsPerStmt = 200

func webEventsInsert(ws int64, rows int) string {
	lit := "(" + strconv.FormatInt(ws, 10) + ",?,?,?,?,?,?,?,?,?,?)"
	var sb strings.Builder
	sb.Grow(rows * (len(lit) + 1))
	sb.WriteString(`INSERT INTO web_events (workspace_id, visitor_id, contact_id, kind, name, url, title, referrer, props, occurred_at, received_at) VALUES `)
	for r := 0; r < rows; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(lit)
	}
	return sb.String()
}

func (q Q) insertWebEventsSQLite(ctx context.Context, ws int64, es []WebEvent, props func(*WebEvent) string) error {
	var full *sql.Stmt
	if len(es) >= webEventsPerStmt && q.tx != nil {
		st, err := q.tx.PrepareContext(ctx, webEventsInsert(ws, webEventsPerStmt))
		if err != nil {
			return fmt.Errorf("store: prepare web events insert: %w", err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, webEventsPerStmt*10)
	for start := 0; start < len(es); start += webEventsPerStmt {
		end := min(start+webEventsPerStmt, len(es))
		args = args[:0]
		for i := start; i < end; i++ {
			e := &es[i]
			args = append(args, e.VisitorID, nullInt(e.ContactID), e.Kind, e.Name, e.URL, e.Title, e.Referrer, props(e), e.OccurredAt.UTC(), e.ReceivedAt.UTC())
		}
		var err error
		if full != nil && end-start == webEventsPerStmt {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = q.db.ExecContext(ctx, webEventsInsert(ws, end-start), args...)
		}
		if err != nil {
			return wrapWrite("insert web events", err)
		}
	}
	return nil
}

// LockVisitors serialises ingest and stitching of the same visitors on
// PostgreSQL with transaction-scoped advisory locks: ingest takes them shared,
// Stitch exclusive, so an event batch committing while a visitor is stitched is
// either seen by the stitch or sees the stitch. On SQLite the single writer
// already serialises them.
func (q Q) LockVisitors(ctx context.Context, ws int64, visitors []string, exclusive bool) error {
	if q.kind != Postgres || len(visitors) == 0 {
		return nil
	}
	keys := make([]int64, len(visitors))
	for i, v := range visitors {
		h := fnv.New64a()
		fmt.Fprintf(h, "rs-visitor:%d:%s", ws, v)
		keys[i] = int64(h.Sum64())
	}
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	// Sorted order keeps two batches from deadlocking on each other's keys.
	_, err := q.db.ExecContext(ctx, `SELECT `+fn+`(k) FROM (SELECT DISTINCT unnest($1::bigint[]) AS k ORDER BY 1) s`, keys)
	if err != nil {
		return fmt.Errorf("store: lock visitors: %w", err)
	}
	return nil
}

// StitchedVisitors maps those of visitors that are linked to a contact of ws.
func (q Q) StitchedVisitors(ctx context.Context, ws int64, visitors []string) (map[string]int64, error) {
	out := map[string]int64{}
	err := inList(ctx, q, `SELECT visitor_id, contact_id FROM tracking_visitors WHERE workspace_id = $1 AND visitor_id`, ws, visitors, func(rows *sql.Rows) error {
		var v string
		var c int64
		if err := rows.Scan(&v, &c); err != nil {
			return err
		}
		out[v] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: stitched visitors: %w", err)
	}
	return out, nil
}

// LinkVisitor records that visitor of ws is contact (a later link replaces an
// earlier one: the cookie now belongs to someone else).
func (q Q) LinkVisitor(ctx context.Context, ws int64, visitor string, contact int64, at time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO tracking_visitors (workspace_id, visitor_id, contact_id, stitched_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (workspace_id, visitor_id) DO UPDATE SET contact_id = excluded.contact_id, stitched_at = excluded.stitched_at`, ws, visitor, contact, at.UTC())
	return wrapNil("link visitor", err)
}

func wrapNil(what string, err error) error {
	if err == nil {
		return nil
	}
	return wrapWrite(what, err)
}

const webEventCols = `id, visitor_id, contact_id, kind, name, url, title, referrer, props, occurred_at, received_at`

func scanWebEvents(rows *sql.Rows) ([]WebEvent, error) {
	defer rows.Close()
	out := []WebEvent{}
	for rows.Next() {
		var e WebEvent
		var cid sql.NullInt64
		if err := rows.Scan(&e.ID, &e.VisitorID, &cid, &e.Kind, &e.Name, &e.URL, &e.Title, &e.Referrer, &e.Props, &e.OccurredAt, &e.ReceivedAt); err != nil {
			return nil, err
		}
		e.ContactID = intPtr(cid)
		e.OccurredAt, e.ReceivedAt = e.OccurredAt.UTC(), e.ReceivedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// AttachVisitorEvents gives visitor's anonymous events of ws to contact and
// returns them. Events already attached are left alone, so running it twice
// returns nothing the second time (no double counting downstream).
func (q Q) AttachVisitorEvents(ctx context.Context, ws int64, visitor string, contact int64) ([]WebEvent, error) {
	rows, err := q.db.QueryContext(ctx, `UPDATE web_events SET contact_id = $3
		WHERE workspace_id = $1 AND visitor_id = $2 AND contact_id IS NULL RETURNING `+webEventCols, ws, visitor, contact)
	if err != nil {
		return nil, wrapWrite("attach visitor events", err)
	}
	evs, err := scanWebEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: attach visitor events: %w", err)
	}
	return evs, nil
}

// ContactWebEvents returns contact's web events of ws, newest first.
func (q Q) ContactWebEvents(ctx context.Context, ws, contact int64, limit int) ([]WebEvent, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+webEventCols+` FROM web_events
		WHERE contact_id = $2 AND workspace_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $3`, ws, contact, limit)
	if err != nil {
		return nil, fmt.Errorf("store: contact web events: %w", err)
	}
	evs, err := scanWebEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: contact web events: %w", err)
	}
	return evs, nil
}

// VisitorWebEvents returns visitor's events of ws, oldest first (tests, support).
func (q Q) VisitorWebEvents(ctx context.Context, ws int64, visitor string, limit int) ([]WebEvent, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+webEventCols+` FROM web_events
		WHERE workspace_id = $1 AND visitor_id = $2 ORDER BY occurred_at, id LIMIT $3`, ws, visitor, limit)
	if err != nil {
		return nil, fmt.Errorf("store: visitor web events: %w", err)
	}
	evs, err := scanWebEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: visitor web events: %w", err)
	}
	return evs, nil
}

// CountWebEvents counts ws's web events and those attached to a contact.
func (q Q) CountWebEvents(ctx context.Context, ws int64) (total, stitched int64, err error) {
	err = q.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(contact_id) FROM web_events WHERE workspace_id = $1`, ws).Scan(&total, &stitched)
	if err != nil {
		return 0, 0, fmt.Errorf("store: count web events: %w", err)
	}
	return total, stitched, nil
}

// ContactVisited reports whether contact of ws viewed a page whose URL contains
// part at or after since (a nurture branch: "visited /pricing").
func (q Q) ContactVisited(ctx context.Context, ws, contact int64, part string, since time.Time) (bool, error) {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM web_events WHERE workspace_id = $1 AND contact_id = $2 AND kind = 'page_view' AND occurred_at >= $3 AND url LIKE $4 ESCAPE '\' LIMIT 1) x`,
		ws, contact, since.UTC(), "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(part)+"%").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: contact visited: %w", err)
	}
	return n > 0, nil
}
