package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Partner mode (docs/economics.md, "Partners"): partner records with their
// members, the AE's decision on an LDR → AE handoff, and the reads that
// attribute delivered work — meetings, accepted SQLs, won deals — to a partner
// or to the in-house reps. Validation and the arithmetic live in
// internal/partners.

const partnerCols = `id, name, currency, retainer_monthly, fee_per_meeting, fee_per_sql, fee_per_won, setup_fee, management_monthly, start_month, end_month, note, created_at, updated_at`

func scanPartner(r rowScanner) (model.Partner, error) {
	var p model.Partner
	var c, u dbTime
	err := r.Scan(&p.ID, &p.Name, &p.Currency, &p.RetainerMonthly, &p.FeePerMeeting, &p.FeePerSQL, &p.FeePerWon, &p.SetupFee, &p.ManagementMonthly,
		&p.StartMonth, &p.EndMonth, &p.Note, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: partner: %w", err)
	}
	p.CreatedAt, p.UpdatedAt, p.UserIDs = c.T, u.T, []int64{}
	return p, nil
}

// CreatePartner inserts a partner of ws (without members: SetPartnerMembers).
// A taken name is a ConflictError on name.
func (q Q) CreatePartner(ctx context.Context, ws int64, p *model.Partner) error {
	now := Now()
	p.CreatedAt, p.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO partners (workspace_id, name, currency, retainer_monthly, fee_per_meeting, fee_per_sql, fee_per_won, setup_fee, management_monthly, start_month, end_month, note, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13) RETURNING id`,
		ws, p.Name, p.Currency, p.RetainerMonthly, p.FeePerMeeting, p.FeePerSQL, p.FeePerWon, p.SetupFee, p.ManagementMonthly, p.StartMonth, p.EndMonth, p.Note, now).Scan(&p.ID)
	if err != nil {
		if isUnique(err) {
			return &ConflictError{Field: "name"}
		}
		return wrapWrite("create partner", err)
	}
	return nil
}

// UpdatePartner replaces every field of a partner of ws (members apart).
func (q Q) UpdatePartner(ctx context.Context, ws int64, p *model.Partner) error {
	now := Now()
	res, err := q.db.ExecContext(ctx, `UPDATE partners SET name=$3, currency=$4, retainer_monthly=$5, fee_per_meeting=$6, fee_per_sql=$7, fee_per_won=$8, setup_fee=$9,
		management_monthly=$10, start_month=$11, end_month=$12, note=$13, updated_at=$14 WHERE workspace_id=$1 AND id=$2`,
		ws, p.ID, p.Name, p.Currency, p.RetainerMonthly, p.FeePerMeeting, p.FeePerSQL, p.FeePerWon, p.SetupFee, p.ManagementMonthly, p.StartMonth, p.EndMonth, p.Note, now)
	if err != nil && isUnique(err) {
		return &ConflictError{Field: "name"}
	}
	if err := affected(res, err, "update partner"); err != nil {
		return err
	}
	p.UpdatedAt = now
	return nil
}

// DeletePartner removes a partner of ws and its member list (the work its
// users did stays; it is simply no longer attributed to a partner).
func (q Q) DeletePartner(ctx context.Context, ws, id int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM partner_members WHERE workspace_id=$1 AND partner_id=$2`, ws, id); err != nil {
		return fmt.Errorf("store: delete partner members: %w", err)
	}
	res, err := q.db.ExecContext(ctx, `DELETE FROM partners WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete partner")
}

// GetPartner returns one partner of ws with its members.
func (q Q) GetPartner(ctx context.Context, ws, id int64) (model.Partner, error) {
	p, err := scanPartner(q.db.QueryRowContext(ctx, `SELECT `+partnerCols+` FROM partners WHERE workspace_id=$1 AND id=$2`, ws, id))
	if err != nil {
		return p, err
	}
	ids, err := q.int64s(ctx, `SELECT user_id FROM partner_members WHERE workspace_id=$1 AND partner_id=$2 ORDER BY user_id`, ws, id)
	if err != nil {
		return p, fmt.Errorf("store: partner members: %w", err)
	}
	if ids != nil {
		p.UserIDs = ids
	}
	return p, nil
}

// Partners lists the partners of ws by name, with their members.
func (q Q) Partners(ctx context.Context, ws int64) ([]model.Partner, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+partnerCols+` FROM partners WHERE workspace_id=$1 ORDER BY name, id`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: partners: %w", err)
	}
	out := []model.Partner{}
	for rows.Next() {
		p, err := scanPartner(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: partners: %w", err)
	}
	members, err := q.PartnerMembers(ctx, ws)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for uid, pid := range members {
			if pid == out[i].ID {
				out[i].UserIDs = append(out[i].UserIDs, uid)
			}
		}
		slices.Sort(out[i].UserIDs)
	}
	return out, nil
}

// PartnerMembers maps each user of ws who works for a partner to the partner.
func (q Q) PartnerMembers(ctx context.Context, ws int64) (map[int64]int64, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT user_id, partner_id FROM partner_members WHERE workspace_id=$1`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: partner members: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var u, p int64
		if err := rows.Scan(&u, &p); err != nil {
			return nil, fmt.Errorf("store: partner members: %w", err)
		}
		out[u] = p
	}
	return out, rows.Err()
}

// SetPartnerMembers replaces the users who work for a partner of ws. A user
// who already works for another partner is a ConflictError on user_ids.
func (q Q) SetPartnerMembers(ctx context.Context, ws, partnerID int64, userIDs []int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM partner_members WHERE workspace_id=$1 AND partner_id=$2`, ws, partnerID); err != nil {
		return fmt.Errorf("store: set partner members: %w", err)
	}
	for _, u := range userIDs {
		if _, err := q.db.ExecContext(ctx, `INSERT INTO partner_members (workspace_id, partner_id, user_id) VALUES ($1,$2,$3)`, ws, partnerID, u); err != nil {
			if isUnique(err) {
				return &ConflictError{Field: "user_ids"}
			}
			return wrapWrite("set partner members", err)
		}
	}
	return nil
}

// ---- handoff decisions ----------------------------------------------------------

const handoffCols = `id, contact_id, deal_id, from_user_id, to_user_id, kind, note, bant, created_at, decision, decided_at, decided_by, decision_note`

func scanHandoff(r rowScanner) (model.Handoff, error) {
	var h model.Handoff
	var deal, from, to, by sql.NullInt64
	var bant jsonText
	var at, decided dbTime
	err := r.Scan(&h.ID, &h.ContactID, &deal, &from, &to, &h.Kind, &h.Note, &bant, &at, &h.Decision, &decided, &by, &h.DecisionNote)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("store: handoff: %w", err)
	}
	h.DealID, h.FromUserID, h.ToUserID, h.DecidedBy, h.CreatedAt, h.DecidedAt = intPtr(deal), intPtr(from), intPtr(to), intPtr(by), at.T, decided.ptr()
	if err := jsonUnmarshal(bant, &h.BANT); err != nil {
		return h, fmt.Errorf("store: handoff %d: %w", h.ID, err)
	}
	return h, nil
}

// GetHandoff returns one handoff of ws.
func (q Q) GetHandoff(ctx context.Context, ws, id int64) (model.Handoff, error) {
	return scanHandoff(q.db.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE workspace_id=$1 AND id=$2`, ws, id))
}

// DecideHandoff records the AE's decision on a pending handoff of ws. A
// handoff already decided is a ConflictError on decision (the first decision
// stands: a billed SQL does not change under a statement).
func (q Q) DecideHandoff(ctx context.Context, ws int64, h *model.Handoff) error {
	res, err := q.db.ExecContext(ctx, `UPDATE handoffs SET decision=$3, decided_at=$4, decided_by=$5, decision_note=$6
		WHERE workspace_id=$1 AND id=$2 AND decision='pending'`, ws, h.ID, h.Decision, nullTime(h.DecidedAt), nullInt(h.DecidedBy), h.DecisionNote)
	err = affected(res, err, "decide handoff")
	if errors.Is(err, ErrNotFound) {
		if _, gerr := q.GetHandoff(ctx, ws, h.ID); gerr == nil {
			return &ConflictError{Field: "decision"}
		}
	}
	return err
}

// InsertHandoffAt records a handoff of ws as of h.CreatedAt with its decision
// as given (demo data and history loaded from elsewhere).
func (q Q) InsertHandoffAt(ctx context.Context, ws int64, h *model.Handoff) error {
	if h.Decision == "" {
		h.Decision = model.HandoffPending
	}
	err := q.db.QueryRowContext(ctx, `INSERT INTO handoffs (workspace_id, contact_id, deal_id, from_user_id, to_user_id, kind, note, bant, created_at, decision, decided_at, decided_by, decision_note)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
		ws, h.ContactID, nullInt(h.DealID), nullInt(h.FromUserID), nullInt(h.ToUserID), h.Kind, h.Note, encodeJSON(h.BANT), h.CreatedAt.UTC(),
		h.Decision, nullTime(h.DecidedAt), nullInt(h.DecidedBy), h.DecisionNote).Scan(&h.ID)
	if err != nil {
		return wrapWrite("insert handoff", err)
	}
	return nil
}

// ---- delivered work -------------------------------------------------------------

// DeliveryScope names whose work a delivered-work read covers: the users of
// one partner (PartnerID), or the in-house members of a role (InHouseRole:
// members with that role who work for no partner).
type DeliveryScope struct {
	PartnerID   int64
	InHouseRole string
}

// who is the SQL condition "col is a user of the scope"; $1 is the workspace
// and the scope's value is bound as $n.
func (s DeliveryScope) who(col string, n int) (string, any, error) {
	switch {
	case s.PartnerID != 0:
		return fmt.Sprintf(`%s IN (SELECT pm.user_id FROM partner_members pm WHERE pm.workspace_id = $1 AND pm.partner_id = $%d)`, col, n), s.PartnerID, nil
	case s.InHouseRole != "":
		return fmt.Sprintf(`%s IN (SELECT m.user_id FROM memberships m WHERE m.workspace_id = $1 AND m.role = $%d
			AND m.user_id NOT IN (SELECT pm.user_id FROM partner_members pm WHERE pm.workspace_id = $1))`, col, n), s.InHouseRole, nil
	}
	return "", nil, errors.New("store: delivery scope names neither a partner nor a role")
}

// DeliveredMeeting is a meeting activity owned by a user of a scope.
type DeliveredMeeting struct {
	ActivityID int64     `json:"activity_id"`
	UserID     int64     `json:"user_id"`
	OccurredAt time.Time `json:"occurred_at"`
	Subject    string    `json:"subject"`
	ContactID  *int64    `json:"contact_id,omitempty"`
	AccountID  *int64    `json:"account_id,omitempty"`
	DealID     *int64    `json:"deal_id,omitempty"`
}

// DeliveredMeetings lists the meeting activities of ws owned by the scope's
// users with occurred_at in [from, to), oldest first.
func (q Q) DeliveredMeetings(ctx context.Context, ws int64, s DeliveryScope, from, to time.Time) ([]DeliveredMeeting, error) {
	cond, arg, err := s.who("a.owner_id", 4)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.QueryContext(ctx, `SELECT a.id, a.owner_id, a.occurred_at, a.subject, a.contact_id, a.account_id, a.deal_id FROM activities a
		WHERE a.workspace_id = $1 AND a.kind = 'meeting' AND a.occurred_at >= $2 AND a.occurred_at < $3 AND `+cond+`
		ORDER BY a.occurred_at, a.id`, ws, from.UTC(), to.UTC(), arg)
	if err != nil {
		return nil, fmt.Errorf("store: delivered meetings: %w", err)
	}
	defer rows.Close()
	out := []DeliveredMeeting{}
	for rows.Next() {
		var m DeliveredMeeting
		var at dbTime
		var c, a, d sql.NullInt64
		if err := rows.Scan(&m.ActivityID, &m.UserID, &at, &m.Subject, &c, &a, &d); err != nil {
			return nil, fmt.Errorf("store: delivered meetings: %w", err)
		}
		m.OccurredAt, m.ContactID, m.AccountID, m.DealID = at.T, intPtr(c), intPtr(a), intPtr(d)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeliveredHandoff is an ldr_to_ae handoff sent by a user of a scope, with
// the deal it opened.
type DeliveredHandoff struct {
	model.Handoff
	DealName    string `json:"deal_name"`
	DealOutcome string `json:"deal_outcome"`
}

// DeliveredHandoffs lists the ldr_to_ae handoffs of ws sent by the scope's
// users that were created or decided in [from, to), oldest first.
func (q Q) DeliveredHandoffs(ctx context.Context, ws int64, s DeliveryScope, from, to time.Time) ([]DeliveredHandoff, error) {
	cond, arg, err := s.who("h.from_user_id", 4)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.QueryContext(ctx, `SELECT h.id, h.contact_id, h.deal_id, h.from_user_id, h.to_user_id, h.kind, h.note, h.bant, h.created_at, h.decision, h.decided_at, h.decided_by, h.decision_note,
			COALESCE(d.name, ''), COALESCE(d.outcome, '')
		FROM handoffs h LEFT JOIN deals d ON d.workspace_id = h.workspace_id AND d.id = h.deal_id
		WHERE h.workspace_id = $1 AND h.kind = 'ldr_to_ae' AND ((h.created_at >= $2 AND h.created_at < $3) OR (h.decided_at >= $2 AND h.decided_at < $3)) AND `+cond+`
		ORDER BY h.created_at, h.id`, ws, from.UTC(), to.UTC(), arg)
	if err != nil {
		return nil, fmt.Errorf("store: delivered handoffs: %w", err)
	}
	defer rows.Close()
	out := []DeliveredHandoff{}
	for rows.Next() {
		var dh DeliveredHandoff
		h := &dh.Handoff
		var deal, fromU, toU, by sql.NullInt64
		var bant jsonText
		var at, decided dbTime
		if err := rows.Scan(&h.ID, &h.ContactID, &deal, &fromU, &toU, &h.Kind, &h.Note, &bant, &at, &h.Decision, &decided, &by, &h.DecisionNote, &dh.DealName, &dh.DealOutcome); err != nil {
			return nil, fmt.Errorf("store: delivered handoffs: %w", err)
		}
		h.DealID, h.FromUserID, h.ToUserID, h.DecidedBy, h.CreatedAt, h.DecidedAt = intPtr(deal), intPtr(fromU), intPtr(toU), intPtr(by), at.T, decided.ptr()
		if err := jsonUnmarshal(bant, &h.BANT); err != nil {
			return nil, fmt.Errorf("store: handoff %d: %w", h.ID, err)
		}
		out = append(out, dh)
	}
	return out, rows.Err()
}

// DeliveredWin is a won deal that came from an accepted SQL of a scope.
type DeliveredWin struct {
	DealID    int64     `json:"deal_id"`
	Name      string    `json:"name"`
	AccountID *int64    `json:"account_id,omitempty"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	ClosedAt  time.Time `json:"closed_at"`
	HandoffID int64     `json:"handoff_id"`
	UserID    int64     `json:"user_id"`
}

// DeliveredWins lists the deals of ws won (closed_at) in [from, to) that an
// accepted ldr_to_ae handoff of the scope's users opened, oldest first; a
// deal with several such handoffs counts once, by its first.
func (q Q) DeliveredWins(ctx context.Context, ws int64, s DeliveryScope, from, to time.Time) ([]DeliveredWin, error) {
	cond, arg, err := s.who("h.from_user_id", 4)
	if err != nil {
		return nil, err
	}
	rows, err := q.db.QueryContext(ctx, `SELECT d.id, d.name, d.account_id, d.amount, d.currency, d.closed_at, h.id, h.from_user_id
		FROM deals d JOIN handoffs h ON h.workspace_id = d.workspace_id AND h.deal_id = d.id
		WHERE d.workspace_id = $1 AND d.outcome = 'won' AND d.closed_at >= $2 AND d.closed_at < $3
			AND h.kind = 'ldr_to_ae' AND h.decision = 'accepted' AND `+cond+`
		ORDER BY d.closed_at, d.id, h.id`, ws, from.UTC(), to.UTC(), arg)
	if err != nil {
		return nil, fmt.Errorf("store: delivered wins: %w", err)
	}
	defer rows.Close()
	out := []DeliveredWin{}
	seen := map[int64]bool{}
	for rows.Next() {
		var w DeliveredWin
		var acct sql.NullInt64
		var closed dbTime
		if err := rows.Scan(&w.DealID, &w.Name, &acct, &w.Amount, &w.Currency, &closed, &w.HandoffID, &w.UserID); err != nil {
			return nil, fmt.Errorf("store: delivered wins: %w", err)
		}
		if seen[w.DealID] {
			continue
		}
		seen[w.DealID] = true
		w.AccountID, w.ClosedAt = intPtr(acct), closed.T
		out = append(out, w)
	}
	return out, rows.Err()
}
