package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// The LDR desk (docs/desk.md): the queue read, handoff records and
// disqualification reasons. The decisions are made in internal/desk.

// QueueRow is one MQL of an LDR's queue with what the desk shows beside it:
// firmographics of its account, the due time of its untouched SLA clock (nil
// when none runs) and its last activity.
type QueueRow struct {
	Contact      model.Contact
	AccountName  string
	Segment      string
	Motion       string
	Employees    *int64
	SLADueAt     *time.Time
	LastActivity *time.Time
}

// QueueCandidates lists the mql contacts of ws owned by userID or by nobody,
// newest first, at most limit. The desk sorts them (SLA, then score). A
// confined Q (Scoped) lists only its owner's contacts: no one else's queue and
// no unassigned ones.
func (q Q) QueueCandidates(ctx context.Context, ws, userID int64, limit int) ([]QueueRow, error) {
	whose := "(c.owner_id = $2 OR c.owner_id IS NULL)"
	if q.scope.Confined() {
		userID, whose = q.scope.Owner, "c.owner_id = $2"
	}
	rows, err := q.db.QueryContext(ctx, `SELECT c.id, c.email, c.first_name, c.last_name, c.title, c.phone, c.account_id, c.owner_id, c.lifecycle_stage,
			COALESCE(a.name, ''), COALESCE(a.segment, ''), COALESCE(a.motion, ''), a.employees,
			(SELECT MIN(s.sla_due_at) FROM assignments s WHERE s.workspace_id = c.workspace_id AND s.object_type = 'contact' AND s.object_id = c.id AND s.first_touch_at IS NULL),
			(SELECT MAX(x.occurred_at) FROM activities x WHERE x.workspace_id = c.workspace_id AND x.contact_id = c.id)
		FROM contacts c LEFT JOIN accounts a ON a.workspace_id = c.workspace_id AND a.id = c.account_id
		WHERE c.workspace_id = $1 AND c.lifecycle_stage = 'mql' AND `+whose+`
		ORDER BY c.id DESC LIMIT $3`, ws, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: queue: %w", err)
	}
	defer rows.Close()
	out := []QueueRow{}
	for rows.Next() {
		var r QueueRow
		var acct, owner, emp sql.NullInt64
		var due, last dbTime
		c := &r.Contact
		if err := rows.Scan(&c.ID, &c.Email, &c.FirstName, &c.LastName, &c.Title, &c.Phone, &acct, &owner, &c.LifecycleStage,
			&r.AccountName, &r.Segment, &r.Motion, &emp, &due, &last); err != nil {
			return nil, fmt.Errorf("store: queue: %w", err)
		}
		c.AccountID, c.OwnerID, r.Employees = intPtr(acct), intPtr(owner), intPtr(emp)
		r.SLADueAt, r.LastActivity = due.ptr(), last.ptr()
		out = append(out, r)
	}
	return out, rows.Err()
}

// InsertHandoff records a handoff of ws and sets its id and time.
func (q Q) InsertHandoff(ctx context.Context, ws int64, h *model.Handoff) error {
	h.CreatedAt, h.Decision = Now(), model.HandoffPending
	err := q.db.QueryRowContext(ctx, `INSERT INTO handoffs (workspace_id, contact_id, deal_id, from_user_id, to_user_id, kind, note, bant, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
		ws, h.ContactID, nullInt(h.DealID), nullInt(h.FromUserID), nullInt(h.ToUserID), h.Kind, h.Note, encodeJSON(h.BANT), h.CreatedAt).Scan(&h.ID)
	if err != nil {
		return wrapWrite("insert handoff", err)
	}
	return nil
}

// DealHandoffs lists the handoffs of one deal of ws, newest first.
func (q Q) DealHandoffs(ctx context.Context, ws, dealID int64) ([]model.Handoff, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+handoffCols+`
		FROM handoffs WHERE workspace_id = $1 AND deal_id = $2 ORDER BY id DESC`, ws, dealID)
	if err != nil {
		return nil, fmt.Errorf("store: handoffs: %w", err)
	}
	defer rows.Close()
	out := []model.Handoff{}
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// InsertDisqualification records why a contact of ws was disqualified.
func (q Q) InsertDisqualification(ctx context.Context, ws, contactID int64, reason, note string, userID *int64) error {
	return q.InsertDisqualificationAt(ctx, ws, contactID, reason, note, userID, Now())
}

// InsertDisqualificationAt is InsertDisqualification as of at (demo data and
// history loaded from elsewhere).
func (q Q) InsertDisqualificationAt(ctx context.Context, ws, contactID int64, reason, note string, userID *int64, at time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO disqualifications (workspace_id, contact_id, reason, note, user_id, created_at) VALUES ($1,$2,$3,$4,$5,$6)`,
		ws, contactID, reason, note, nullInt(userID), at.UTC())
	if err != nil {
		return wrapWrite("insert disqualification", err)
	}
	return nil
}

// ReasonCount is how many contacts were disqualified for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// DisqualificationCounts counts the disqualifications of ws per reason in the
// period [from, to), most frequent first.
func (q Q) DisqualificationCounts(ctx context.Context, ws int64, from, to time.Time) ([]ReasonCount, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT reason, COUNT(*) FROM disqualifications
		WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3
		GROUP BY reason ORDER BY COUNT(*) DESC, reason`, ws, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("store: disqualification counts: %w", err)
	}
	defer rows.Close()
	out := []ReasonCount{}
	for rows.Next() {
		var r ReasonCount
		if err := rows.Scan(&r.Reason, &r.Count); err != nil {
			return nil, fmt.Errorf("store: disqualification counts: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
