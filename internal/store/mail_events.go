package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
