package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Open and click events (migration 00011, docs/mail.md "Open and click
// tracking"). internal/mail decides machine or human; the store keeps rows and
// makes "the first human event per send, kind and URL" race-free.

// Mail event kinds.
const (
	MailOpen  = "open"
	MailClick = "click"
)

// MailEvent is one pixel fetch or tracked click.
type MailEvent struct {
	ID           int64
	SendID       int64
	ContactID    int64
	EnrollmentID *int64
	StepID       *int64
	Kind         string // MailOpen or MailClick
	URL          string // clicks: the target
	UserAgent    string
	Machine      bool   // scanner or prefetch: never scored, never a branch signal
	Reason       string // why Machine
	Scored       bool   // this row fed lead scoring (at most one per send, kind, URL)
	At           time.Time
}

// InsertMailEvent stores e for ws. A human event (Scored asked for) is stored
// scored only when no scored row exists yet for its send, kind and URL; e.Scored
// tells the caller which happened, in the same transaction.
func (q Q) InsertMailEvent(ctx context.Context, ws int64, e *MailEvent) error {
	ins := `INSERT INTO mail_events (workspace_id, send_id, contact_id, enrollment_id, step_id, kind, url, user_agent, machine, reason, scored, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`
	args := []any{ws, e.SendID, e.ContactID, nullInt(e.EnrollmentID), nullInt(e.StepID), e.Kind, e.URL, e.UserAgent, e.Machine, e.Reason, e.Scored, e.At.UTC()}
	if e.Scored {
		err := q.db.QueryRowContext(ctx, ins+` ON CONFLICT (workspace_id, send_id, kind, url) WHERE scored DO NOTHING RETURNING id`, args...).Scan(&e.ID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: mail event: %w", err)
		}
		e.Scored = false
		args[10] = false
	}
	if err := q.db.QueryRowContext(ctx, ins+` RETURNING id`, args...).Scan(&e.ID); err != nil {
		return fmt.Errorf("store: mail event: %w", err)
	}
	return nil
}

// MailEngaged reports whether a human event of one of kinds exists for the
// send of an enrollment's step in ws (machine events never count).
func (q Q) MailEngaged(ctx context.Context, ws, enrollmentID, stepID int64, kinds ...string) (bool, error) {
	if len(kinds) == 0 || len(kinds) > 2 {
		return false, errors.New("store: mail engaged: want one or two kinds")
	}
	k2 := kinds[len(kinds)-1]
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM mail_events WHERE workspace_id=$1 AND enrollment_id=$2 AND step_id=$3
		AND kind IN ($4,$5) AND NOT machine LIMIT 1) x`, ws, enrollmentID, stepID, kinds[0], k2).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: mail engaged: %w", err)
	}
	return n > 0, nil
}

// ListMailEvents lists ws's events of one send, oldest first.
func (q Q) ListMailEvents(ctx context.Context, ws, sendID int64) ([]MailEvent, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, send_id, contact_id, enrollment_id, step_id, kind, url, user_agent, machine, reason, scored, at
		FROM mail_events WHERE workspace_id=$1 AND send_id=$2 ORDER BY id`, ws, sendID)
	if err != nil {
		return nil, fmt.Errorf("store: mail events: %w", err)
	}
	defer rows.Close()
	var out []MailEvent
	for rows.Next() {
		var e MailEvent
		var enr, step sql.NullInt64
		var at dbTime
		if err := rows.Scan(&e.ID, &e.SendID, &e.ContactID, &enr, &step, &e.Kind, &e.URL, &e.UserAgent, &e.Machine, &e.Reason, &e.Scored, &at); err != nil {
			return nil, fmt.Errorf("store: mail events: %w", err)
		}
		e.EnrollmentID, e.StepID, e.At = intPtr(enr), intPtr(step), at.T
		out = append(out, e)
	}
	return out, rows.Err()
}

// SendsByIDs loads many sends of ws at once (the open/click writer resolves a
// batch of tokens with one query). Ids of other workspaces or of no send are
// absent from the map.
func (q Q) SendsByIDs(ctx context.Context, ws int64, ids []int64) (map[int64]Send, error) {
	out := make(map[int64]Send, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// "+workspace_id": SQLite looks the ids up by rowid (see ContactsByIDs).
	err := inList(ctx, q, "SELECT "+sendCols+" FROM send_ledger WHERE +workspace_id = $1 AND id", ws, ids, func(rows *sql.Rows) error {
		s, err := scanSend(rows)
		if err != nil {
			return err
		}
		out[s.ID] = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: sends by ids: %w", err)
	}
	return out, nil
}

// InsertMailEvents stores many events of ws in a few statements. Events that
// ask to be scored are stored scored only if no scored row exists yet for
// their send, kind and URL (also not earlier in es): the rest are stored
// unscored and have Scored set to false, so the caller scores exactly the
// events left with Scored true, in the same transaction. IDs are not returned.
func (q Q) InsertMailEvents(ctx context.Context, ws int64, es []*MailEvent) error {
	type key struct {
		send      int64
		kind, url string
	}
	var cand, plain []*MailEvent
	seen := map[key]bool{}
	for _, e := range es {
		k := key{e.SendID, e.Kind, e.URL}
		if e.Scored && !seen[k] {
			seen[k] = true
			cand = append(cand, e)
			continue
		}
		e.Scored = false
		plain = append(plain, e)
	}
	if len(cand) > 0 {
		// Key order: concurrent writers (PostgreSQL runs several) that insert
		// the same scored keys wait for each other in one order instead of
		// deadlocking (which PostgreSQL breaks only after deadlock_timeout).
		slices.SortFunc(cand, func(a, b *MailEvent) int {
			return cmp.Or(cmp.Compare(a.SendID, b.SendID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.URL, b.URL))
		})
		won := map[key]bool{}
		err := q.insertMailEvents(ctx, ws, cand, ` ON CONFLICT (workspace_id, send_id, kind, url) WHERE scored DO NOTHING RETURNING send_id, kind, url`, func(rows *sql.Rows) error {
			var k key
			if err := rows.Scan(&k.send, &k.kind, &k.url); err != nil {
				return err
			}
			won[k] = true
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range cand {
			if !won[key{e.SendID, e.Kind, e.URL}] {
				// A person's earlier event of this kind scored already.
				e.Scored = false
				plain = append(plain, e)
			}
		}
	}
	return q.insertMailEvents(ctx, ws, plain, "", nil)
}

// mailEventsPerStmt rows go in one SQLite INSERT (12 values each, plain "?"
// placeholders: see webEventsPerStmt); the prepared sizes are it divided by
// powers of 4 (256, 64, 16, 4, 1).
const mailEventsPerStmt = 256

func (q Q) insertMailEvents(ctx context.Context, ws int64, es []*MailEvent, tail string, row func(*sql.Rows) error) error {
	if len(es) == 0 {
		return nil
	}
	const head = `INSERT INTO mail_events (workspace_id, send_id, contact_id, enrollment_id, step_id, kind, url, user_agent, machine, reason, scored, at) `
	run := func(sqlText string, args ...any) error {
		if row == nil {
			_, err := q.db.ExecContext(ctx, sqlText, args...)
			return err
		}
		rows, err := q.db.QueryContext(ctx, sqlText, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if q.kind == Postgres && row == nil && tail == "" && q.conn != nil {
		return q.copyMailEvents(ctx, ws, es)
	}
	if q.kind == Postgres {
		n := len(es)
		send, contact, enr, step := make([]int64, n), make([]int64, n), make([]*int64, n), make([]*int64, n)
		kind, u, ua, reason := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		machine, scored, at := make([]bool, n), make([]bool, n), make([]time.Time, n)
		for i, e := range es {
			send[i], contact[i], enr[i], step[i] = e.SendID, e.ContactID, e.EnrollmentID, e.StepID
			kind[i], u[i], ua[i], reason[i] = e.Kind, e.URL, e.UserAgent, e.Reason
			machine[i], scored[i], at[i] = e.Machine, e.Scored, e.At.UTC()
		}
		err := run(head+`SELECT $1, v.s, v.c, v.e, v.st, v.k, v.u, v.ua, v.m, v.r, v.sc, v.a
			FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::text[], $11::bool[], $12::timestamptz[])
			AS v(s, c, e, st, k, u, ua, m, r, sc, a)`+tail, ws, send, contact, enr, step, kind, u, ua, machine, reason, scored, at)
		if err != nil {
			return fmt.Errorf("store: mail events: %w", err)
		}
		return nil
	}
	// The workspace id is a trusted integer (from a verified token), written
	// into the statement so it is not bound once per row.
	lit := "(" + strconv.FormatInt(ws, 10) + ",?,?,?,?,?,?,?,?,?,?,?)"
	text := func(rows int) string {
		var sb strings.Builder
		sb.Grow(len(head) + rows*(len(lit)+1) + len(tail) + 8)
		sb.WriteString(head)
		sb.WriteString("VALUES ")
		for i := range rows {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(lit)
		}
		sb.WriteString(tail)
		return sb.String()
	}
	args := make([]any, 0, mailEventsPerStmt*11)
	bind := func(part []*MailEvent) []any {
		args = args[:0]
		for _, e := range part {
			args = append(args, e.SendID, e.ContactID, nullInt(e.EnrollmentID), nullInt(e.StepID), e.Kind, e.URL, e.UserAgent, e.Machine, e.Reason, e.Scored, e.At.UTC())
		}
		return args
	}
	if row == nil && q.stmts != nil {
		// Plain rows in statements of a few fixed sizes, kept prepared
		// across transactions (stmtCache): the group commit's batches vary
		// in size, and a statement text per size would never be reused.
		for rest := es; len(rest) > 0; {
			n := mailEventsPerStmt
			for n > len(rest) {
				n /= 4
			}
			n = max(n, 1)
			if err := q.exec(ctx, text(n), bind(rest[:n])...); err != nil {
				return fmt.Errorf("store: mail events: %w", err)
			}
			rest = rest[n:]
			// The open/click group commit runs SQLite's engine (pure Go) on
			// one of the server's Go processors for milliseconds at a time;
			// yielding between statements lets the goroutines of waiting
			// requests run now instead of at the scheduler's 10 ms
			// preemption. Pixel p99 under load: 12.0–14.5 → 8.7–10.0 ms on
			// 2 cores (docs/benchmarks.md, "Open pixel and click").
			runtime.Gosched()
		}
		return nil
	}
	for start := 0; start < len(es); start += mailEventsPerStmt {
		end := min(start+mailEventsPerStmt, len(es))
		if err := run(text(end-start), bind(es[start:end])...); err != nil {
			return fmt.Errorf("store: mail events: %w", err)
		}
	}
	return nil
}

// CountMailEvents counts ws's open and click rows, and those marked scored
// (benchmarks check that every answered request was stored and every scored
// event reached lead scoring).
func (q Q) CountMailEvents(ctx context.Context, ws int64) (total, scored int64, err error) {
	err = q.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE scored) FROM mail_events WHERE workspace_id=$1`, ws).Scan(&total, &scored)
	if err != nil {
		return 0, 0, fmt.Errorf("store: count mail events: %w", err)
	}
	return total, scored, nil
}

var mailEventCopyCols = []string{"workspace_id", "send_id", "contact_id", "enrollment_id", "step_id", "kind", "url", "user_agent", "machine", "reason", "scored", "at"}

// copyMailEvents writes plain (unscored) events with COPY on PostgreSQL:
// the open/click writer's bulk of rows, in one round trip with no statement
// to plan (an INSERT … SELECT FROM unnest was planned again each commit
// under plan_cache_mode=force_custom_plan), in the caller's transaction.
func (q Q) copyMailEvents(ctx context.Context, ws int64, es []*MailEvent) error {
	i := 0
	row := make([]any, len(mailEventCopyCols))
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(es) {
			return nil, nil
		}
		e := es[i]
		i++
		row[0], row[1], row[2], row[3], row[4], row[5] = ws, e.SendID, e.ContactID, e.EnrollmentID, e.StepID, e.Kind
		row[6], row[7], row[8], row[9], row[10], row[11] = e.URL, e.UserAgent, e.Machine, e.Reason, e.Scored, e.At.UTC()
		return row, nil
	})
	err := q.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"mail_events"}, mailEventCopyCols, src)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mail events: copy: %w", err)
	}
	return nil
}
