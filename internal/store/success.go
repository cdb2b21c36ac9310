package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Customer success's tables (migration 00016, docs/success.md): the AE → CSM
// handoff of a won deal with its onboarding checklist, the health inputs of a
// customer (an account) and its health score with history. The rules live in
// internal/success; the store keeps rows.

// CSSettings is a workspace's customer-success configuration as stored: JSON
// the success package writes and validates. A nil part means the defaults.
type CSSettings struct {
	Health     json.RawMessage
	Checklists json.RawMessage
	UpdatedBy  string
	UpdatedAt  time.Time
}

// GetCSSettings loads ws's settings; ErrNotFound means it uses the defaults.
func (q Q) GetCSSettings(ctx context.Context, ws int64) (CSSettings, error) {
	var c CSSettings
	var h, cl jsonText
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT health, checklists, updated_by, updated_at FROM cs_settings WHERE workspace_id=$1`, ws).Scan(&h, &cl, &c.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: cs settings: %w", err)
	}
	if len(h) > 0 {
		c.Health = json.RawMessage(h)
	}
	if len(cl) > 0 {
		c.Checklists = json.RawMessage(cl)
	}
	c.UpdatedAt = at.T
	return c, nil
}

// SaveCSHealthSettings stores ws's health settings (nil: back to the defaults),
// leaving its checklist templates alone.
func (q Q) SaveCSHealthSettings(ctx context.Context, ws int64, health json.RawMessage, by string) error {
	return q.saveCSSettings(ctx, ws, "health", health, by)
}

// SaveCSChecklists stores ws's checklist templates (nil: back to the defaults),
// leaving its health settings alone.
func (q Q) SaveCSChecklists(ctx context.Context, ws int64, checklists json.RawMessage, by string) error {
	return q.saveCSSettings(ctx, ws, "checklists", checklists, by)
}

func (q Q) saveCSSettings(ctx context.Context, ws int64, col string, v json.RawMessage, by string) error {
	var arg any
	if v != nil {
		arg = string(v)
	}
	_, err := q.db.ExecContext(ctx, `INSERT INTO cs_settings (workspace_id, `+col+`, updated_by, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (workspace_id) DO UPDATE SET `+col+`=excluded.`+col+`, updated_by=excluded.updated_by, updated_at=excluded.updated_at`,
		ws, arg, by, Now())
	if err != nil {
		return fmt.Errorf("store: save cs settings: %w", err)
	}
	return nil
}

// CSHandoff is the AE → CSM handoff of one won deal. Status is awaiting_note,
// awaiting_acceptance or accepted.
type CSHandoff struct {
	ID               int64      `json:"id"`
	AccountID        int64      `json:"account_id"`
	DealID           int64      `json:"deal_id"`
	Motion           string     `json:"motion"`
	AEUserID         *int64     `json:"ae_user_id,omitempty"`
	CSMUserID        *int64     `json:"csm_user_id,omitempty"`
	AssignmentID     *int64     `json:"assignment_id,omitempty"`
	AssignmentReason string     `json:"assignment_reason"`
	Status           string     `json:"status"`
	Goals            string     `json:"goals"`
	Stakeholders     string     `json:"stakeholders"`
	Risks            string     `json:"risks"`
	NoteBy           string     `json:"note_by,omitempty"`
	NoteAt           *time.Time `json:"note_at,omitempty"`
	AcceptedBy       string     `json:"accepted_by,omitempty"`
	AcceptedAt       *time.Time `json:"accepted_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

const csHandoffCols = `id, account_id, deal_id, motion, ae_user_id, csm_user_id, assignment_id, assignment_reason, status, goals, stakeholders, risks, note_by, note_at, accepted_by, accepted_at, created_at, updated_at`

func scanCSHandoff(r rowScanner) (CSHandoff, error) {
	var h CSHandoff
	var ae, csm, asg sql.NullInt64
	var noteAt, accAt, c, u dbTime
	err := r.Scan(&h.ID, &h.AccountID, &h.DealID, &h.Motion, &ae, &csm, &asg, &h.AssignmentReason, &h.Status, &h.Goals, &h.Stakeholders, &h.Risks,
		&h.NoteBy, &noteAt, &h.AcceptedBy, &accAt, &c, &u)
	h.AEUserID, h.CSMUserID, h.AssignmentID = intPtr(ae), intPtr(csm), intPtr(asg)
	h.NoteAt, h.AcceptedAt, h.CreatedAt, h.UpdatedAt = noteAt.ptr(), accAt.ptr(), c.T, u.T
	return h, err
}

// InsertCSHandoff records a new handoff of ws at h.CreatedAt (Now when zero)
// and sets its id. A deal that already has one keeps it: created is false and
// h is left as given.
func (q Q) InsertCSHandoff(ctx context.Context, ws int64, h *CSHandoff) (created bool, err error) {
	if h.CreatedAt.IsZero() {
		h.CreatedAt = Now()
	}
	h.UpdatedAt = h.CreatedAt
	rows, err := q.db.QueryContext(ctx, `INSERT INTO cs_handoffs (workspace_id, account_id, deal_id, motion, ae_user_id, csm_user_id, assignment_id, assignment_reason, status,
		goals, stakeholders, risks, note_by, note_at, accepted_by, accepted_at, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) ON CONFLICT (workspace_id, deal_id) DO NOTHING RETURNING id`,
		ws, h.AccountID, h.DealID, h.Motion, nullInt(h.AEUserID), nullInt(h.CSMUserID), nullInt(h.AssignmentID), h.AssignmentReason, h.Status,
		h.Goals, h.Stakeholders, h.Risks, h.NoteBy, nullTime(h.NoteAt), h.AcceptedBy, nullTime(h.AcceptedAt), h.CreatedAt.UTC(), h.UpdatedAt.UTC())
	if err != nil {
		return false, wrapWrite("insert cs handoff", err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&h.ID); err != nil {
			return false, fmt.Errorf("store: insert cs handoff: %w", err)
		}
		created = true
	}
	return created, rows.Err()
}

// GetCSHandoff loads one handoff of ws by id.
func (q Q) GetCSHandoff(ctx context.Context, ws, id int64) (CSHandoff, error) {
	return q.oneCSHandoff(ctx, `SELECT `+csHandoffCols+` FROM cs_handoffs WHERE workspace_id=$1 AND id=$2`, ws, id)
}

// CSHandoffOfDeal loads the handoff of a deal of an account of ws.
func (q Q) CSHandoffOfDeal(ctx context.Context, ws, accountID, dealID int64) (CSHandoff, error) {
	return q.oneCSHandoff(ctx, `SELECT `+csHandoffCols+` FROM cs_handoffs WHERE workspace_id=$1 AND account_id=$2 AND deal_id=$3`, ws, accountID, dealID)
}

// CSHandoffByDeal loads the handoff of a deal of ws, whatever its account.
func (q Q) CSHandoffByDeal(ctx context.Context, ws, dealID int64) (CSHandoff, error) {
	return q.oneCSHandoff(ctx, `SELECT `+csHandoffCols+` FROM cs_handoffs WHERE workspace_id=$1 AND deal_id=$2`, ws, dealID)
}

// LatestCSHandoff loads the newest handoff of an account of ws.
func (q Q) LatestCSHandoff(ctx context.Context, ws, accountID int64) (CSHandoff, error) {
	return q.oneCSHandoff(ctx, `SELECT `+csHandoffCols+` FROM cs_handoffs WHERE workspace_id=$1 AND account_id=$2 ORDER BY id DESC LIMIT 1`, ws, accountID)
}

func (q Q) oneCSHandoff(ctx context.Context, query string, args ...any) (CSHandoff, error) {
	h, err := scanCSHandoff(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("store: cs handoff: %w", err)
	}
	return h, nil
}

// CSHandoffsOfAccount lists an account's handoffs of ws, newest first.
func (q Q) CSHandoffsOfAccount(ctx context.Context, ws, accountID int64) ([]CSHandoff, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+csHandoffCols+` FROM cs_handoffs WHERE workspace_id=$1 AND account_id=$2 ORDER BY id DESC`, ws, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: cs handoffs: %w", err)
	}
	defer rows.Close()
	out := []CSHandoff{}
	for rows.Next() {
		h, err := scanCSHandoff(rows)
		if err != nil {
			return nil, fmt.Errorf("store: cs handoffs: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// UpdateCSHandoff writes the mutable fields of h (CSM, status, note, acceptance)
// and stamps updated_at.
func (q Q) UpdateCSHandoff(ctx context.Context, ws int64, h *CSHandoff) error {
	h.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE cs_handoffs SET csm_user_id=$3, assignment_id=$4, assignment_reason=$5, status=$6, goals=$7, stakeholders=$8, risks=$9,
		note_by=$10, note_at=$11, accepted_by=$12, accepted_at=$13, updated_at=$14 WHERE workspace_id=$1 AND id=$2`,
		ws, h.ID, nullInt(h.CSMUserID), nullInt(h.AssignmentID), h.AssignmentReason, h.Status, h.Goals, h.Stakeholders, h.Risks,
		h.NoteBy, nullTime(h.NoteAt), h.AcceptedBy, nullTime(h.AcceptedAt), h.UpdatedAt)
	return affected(res, err, "update cs handoff")
}

// OnboardingItem is one step of a handoff's onboarding checklist.
type OnboardingItem struct {
	ID       int64      `json:"id"`
	Position int        `json:"position"`
	Key      string     `json:"key"`
	Title    string     `json:"title"`
	Done     bool       `json:"done"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
	DoneBy   string     `json:"done_by,omitempty"`
}

// InsertOnboardingItems writes a handoff's checklist in order and sets the ids.
func (q Q) InsertOnboardingItems(ctx context.Context, ws, handoffID int64, items []OnboardingItem) error {
	for i := range items {
		it := &items[i]
		err := q.db.QueryRowContext(ctx, `INSERT INTO cs_onboarding_items (workspace_id, handoff_id, position, item_key, title, done_at, done_by) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`,
			ws, handoffID, it.Position, it.Key, it.Title, nullTime(it.DoneAt), it.DoneBy).Scan(&it.ID)
		if err != nil {
			return wrapWrite("insert onboarding item", err)
		}
	}
	return nil
}

// OnboardingItems lists a handoff's checklist of ws in order.
func (q Q) OnboardingItems(ctx context.Context, ws, handoffID int64) ([]OnboardingItem, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, position, item_key, title, done_at, done_by FROM cs_onboarding_items WHERE workspace_id=$1 AND handoff_id=$2 ORDER BY position, id`, ws, handoffID)
	if err != nil {
		return nil, fmt.Errorf("store: onboarding items: %w", err)
	}
	defer rows.Close()
	out := []OnboardingItem{}
	for rows.Next() {
		var it OnboardingItem
		var at dbTime
		if err := rows.Scan(&it.ID, &it.Position, &it.Key, &it.Title, &at, &it.DoneBy); err != nil {
			return nil, fmt.Errorf("store: onboarding items: %w", err)
		}
		it.DoneAt, it.Done = at.ptr(), at.Valid
		out = append(out, it)
	}
	return out, rows.Err()
}

// SetOnboardingItemDone ticks (at non-nil) or unticks (nil) one item of a
// handoff of ws; an item of another handoff or workspace is ErrNotFound.
func (q Q) SetOnboardingItemDone(ctx context.Context, ws, handoffID, itemID int64, at *time.Time, by string) error {
	res, err := q.db.ExecContext(ctx, `UPDATE cs_onboarding_items SET done_at=$4, done_by=$5 WHERE workspace_id=$1 AND handoff_id=$2 AND id=$3`,
		ws, handoffID, itemID, nullTime(at), by)
	return affected(res, err, "set onboarding item")
}

// CSQueueRow is a handoff with what the CSM queue shows beside it.
type CSQueueRow struct {
	CSHandoff
	AccountName string `json:"account_name"`
	DealName    string `json:"deal_name"`
	AEEmail     string `json:"ae_email,omitempty"`
	CSMEmail    string `json:"csm_email,omitempty"`
	ItemsDone   int64  `json:"items_done"`
	ItemsTotal  int64  `json:"items_total"`
}

// CSHandoffQueue lists ws's handoffs in one of statuses, oldest first (the
// longest-waiting on top), at most limit.
func (q Q) CSHandoffQueue(ctx context.Context, ws int64, statuses []string, limit int) ([]CSQueueRow, error) {
	if len(statuses) == 0 {
		return []CSQueueRow{}, nil
	}
	args := []any{ws, limit}
	in := ""
	for i, s := range statuses {
		if i > 0 {
			in += ","
		}
		args = append(args, s)
		in += fmt.Sprintf("$%d", len(args))
	}
	cols := "h." + strings.ReplaceAll(csHandoffCols, ", ", ", h.")
	rows, err := q.db.QueryContext(ctx, `SELECT `+cols+`, COALESCE(a.name, ''), COALESCE(d.name, ''), COALESCE(ua.email, ''), COALESCE(uc.email, ''),
			(SELECT COUNT(*) FROM cs_onboarding_items i WHERE i.handoff_id = h.id AND i.done_at IS NOT NULL),
			(SELECT COUNT(*) FROM cs_onboarding_items i WHERE i.handoff_id = h.id)
		FROM cs_handoffs h
		LEFT JOIN accounts a ON a.workspace_id = h.workspace_id AND a.id = h.account_id
		LEFT JOIN deals d ON d.workspace_id = h.workspace_id AND d.id = h.deal_id
		LEFT JOIN users ua ON ua.id = h.ae_user_id
		LEFT JOIN users uc ON uc.id = h.csm_user_id
		WHERE h.workspace_id = $1 AND h.status IN (`+in+`) ORDER BY h.created_at, h.id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: cs queue: %w", err)
	}
	defer rows.Close()
	out := []CSQueueRow{}
	for rows.Next() {
		var r CSQueueRow
		var ae, csm, asg sql.NullInt64
		var noteAt, accAt, c, u dbTime
		h := &r.CSHandoff
		if err := rows.Scan(&h.ID, &h.AccountID, &h.DealID, &h.Motion, &ae, &csm, &asg, &h.AssignmentReason, &h.Status, &h.Goals, &h.Stakeholders, &h.Risks,
			&h.NoteBy, &noteAt, &h.AcceptedBy, &accAt, &c, &u, &r.AccountName, &r.DealName, &r.AEEmail, &r.CSMEmail, &r.ItemsDone, &r.ItemsTotal); err != nil {
			return nil, fmt.Errorf("store: cs queue: %w", err)
		}
		h.AEUserID, h.CSMUserID, h.AssignmentID = intPtr(ae), intPtr(csm), intPtr(asg)
		h.NoteAt, h.AcceptedAt, h.CreatedAt, h.UpdatedAt = noteAt.ptr(), accAt.ptr(), c.T, u.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// UsageEvent is product usage of a customer: Quantity events of Kind at
// OccurredAt. DedupeKey, when set, makes a re-sent event count once.
type UsageEvent struct {
	Kind       string    `json:"kind"`
	Quantity   int64     `json:"quantity"`
	OccurredAt time.Time `json:"occurred_at"`
	DedupeKey  string    `json:"key,omitempty"`
}

// InsertUsageEvents writes an account's usage events of ws and returns how many
// were new (an event whose key was seen before is skipped). Rows go in
// multi-row statements of usageChunk.
func (q Q) InsertUsageEvents(ctx context.Context, ws, accountID int64, es []UsageEvent) (int, error) {
	const usageChunk = 200
	now := Now()
	n := 0
	for start := 0; start < len(es); start += usageChunk {
		chunk := es[start:min(start+usageChunk, len(es))]
		var b strings.Builder
		args := make([]any, 0, len(chunk)*7)
		b.WriteString(`INSERT INTO cs_usage_events (workspace_id, account_id, kind, quantity, occurred_at, dedupe_key, created_at) VALUES `)
		for i, e := range chunk {
			if i > 0 {
				b.WriteString(",")
			}
			k := len(args)
			fmt.Fprintf(&b, "($%d,$%d,$%d,$%d,$%d,$%d,$%d)", k+1, k+2, k+3, k+4, k+5, k+6, k+7)
			args = append(args, ws, accountID, e.Kind, e.Quantity, e.OccurredAt.UTC(), nullStr(e.DedupeKey), now)
		}
		b.WriteString(` ON CONFLICT (workspace_id, account_id, dedupe_key) DO NOTHING`)
		res, err := q.db.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return n, wrapWrite("insert usage events", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("store: insert usage events: %w", err)
		}
		n += int(k)
	}
	return n, nil
}

// UsageSum totals an account's usage quantity of ws in (from, to], and says
// whether the account has reported any usage at or before to.
func (q Q) UsageSum(ctx context.Context, ws, accountID int64, from, to time.Time) (sum int64, any bool, err error) {
	var first dbTime
	err = q.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN occurred_at > $3 THEN quantity ELSE 0 END), 0), MIN(occurred_at)
		FROM cs_usage_events WHERE workspace_id=$1 AND account_id=$2 AND occurred_at <= $4`, ws, accountID, from.UTC(), to.UTC()).Scan(&sum, &first)
	if err != nil {
		return 0, false, fmt.Errorf("store: usage sum: %w", err)
	}
	return sum, first.Valid, nil
}

// AccountEngagement counts the engagement events (email opens and clicks, page
// views, downloads, form posts: what lead scoring records) of an account's
// contacts of ws in (from, to], and says whether they have any at or before to.
func (q Q) AccountEngagement(ctx context.Context, ws, accountID int64, from, to time.Time) (n int64, any bool, err error) {
	var first dbTime
	err = q.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN e.occurred_at > $3 THEN 1 ELSE 0 END), 0), MIN(e.occurred_at)
		FROM contacts c JOIN engagement_events e ON e.contact_id = c.id
		WHERE c.workspace_id=$1 AND c.account_id=$2 AND e.workspace_id=$1 AND e.occurred_at <= $4`, ws, accountID, from.UTC(), to.UTC()).Scan(&n, &first)
	if err != nil {
		return 0, false, fmt.Errorf("store: account engagement: %w", err)
	}
	return n, first.Valid, nil
}

// NPSResponse is one NPS answer (0–10) of a customer.
type NPSResponse struct {
	ID          int64     `json:"id"`
	ContactID   *int64    `json:"contact_id,omitempty"`
	Score       int       `json:"score"`
	Comment     string    `json:"comment"`
	RespondedAt time.Time `json:"responded_at"`
	RecordedBy  string    `json:"recorded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// InsertNPS records an NPS response of an account of ws.
func (q Q) InsertNPS(ctx context.Context, ws, accountID int64, r *NPSResponse) error {
	r.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO cs_nps_responses (workspace_id, account_id, contact_id, score, comment, responded_at, recorded_by, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`, ws, accountID, nullInt(r.ContactID), r.Score, r.Comment, r.RespondedAt.UTC(), r.RecordedBy, r.CreatedAt).Scan(&r.ID)
	if err != nil {
		return wrapWrite("insert nps", err)
	}
	return nil
}

// NPSResponses lists an account's responses of ws answered at or before to,
// newest first, at most limit.
func (q Q) NPSResponses(ctx context.Context, ws, accountID int64, to time.Time, limit int) ([]NPSResponse, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, contact_id, score, comment, responded_at, recorded_by, created_at FROM cs_nps_responses
		WHERE workspace_id=$1 AND account_id=$2 AND responded_at <= $3 ORDER BY responded_at DESC, id DESC LIMIT $4`, ws, accountID, to.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: nps: %w", err)
	}
	defer rows.Close()
	out := []NPSResponse{}
	for rows.Next() {
		var r NPSResponse
		var c sql.NullInt64
		var at, cr dbTime
		if err := rows.Scan(&r.ID, &c, &r.Score, &r.Comment, &at, &r.RecordedBy, &cr); err != nil {
			return nil, fmt.Errorf("store: nps: %w", err)
		}
		r.ContactID, r.RespondedAt, r.CreatedAt = intPtr(c), at.T, cr.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// CustomerInputs are the scalar health inputs of a customer: nil when never
// reported.
type CustomerInputs struct {
	OpenSupportItems *int64     `json:"open_support_items"`
	SupportBy        string     `json:"support_by,omitempty"`
	SupportAt        *time.Time `json:"support_at,omitempty"`
	Sentiment        string     `json:"sentiment,omitempty"`
	SentimentNote    string     `json:"sentiment_note,omitempty"`
	SentimentBy      string     `json:"sentiment_by,omitempty"`
	SentimentAt      *time.Time `json:"sentiment_at,omitempty"`
}

// GetCustomerInputs loads an account's scalar inputs of ws (all nil when none).
func (q Q) GetCustomerInputs(ctx context.Context, ws, accountID int64) (CustomerInputs, error) {
	var in CustomerInputs
	var open sql.NullInt64
	var sent sql.NullString
	var sAt, tAt dbTime
	err := q.db.QueryRowContext(ctx, `SELECT open_support_items, support_by, support_at, sentiment, sentiment_note, sentiment_by, sentiment_at
		FROM cs_customer_inputs WHERE workspace_id=$1 AND account_id=$2`, ws, accountID).Scan(&open, &in.SupportBy, &sAt, &sent, &in.SentimentNote, &in.SentimentBy, &tAt)
	if errors.Is(err, sql.ErrNoRows) {
		return in, nil
	}
	if err != nil {
		return in, fmt.Errorf("store: customer inputs: %w", err)
	}
	in.OpenSupportItems, in.SupportAt, in.Sentiment, in.SentimentAt = intPtr(open), sAt.ptr(), sent.String, tAt.ptr()
	return in, nil
}

// SetSupportItems records an account's open support item count of ws.
func (q Q) SetSupportItems(ctx context.Context, ws, accountID, open int64, by string, at time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO cs_customer_inputs (workspace_id, account_id, open_support_items, support_by, support_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (workspace_id, account_id) DO UPDATE SET open_support_items=excluded.open_support_items, support_by=excluded.support_by, support_at=excluded.support_at`,
		ws, accountID, open, by, at.UTC())
	if err != nil {
		return wrapWrite("set support items", err)
	}
	return nil
}

// SetSentiment records the CSM's sentiment of an account of ws with its note.
func (q Q) SetSentiment(ctx context.Context, ws, accountID int64, sentiment, note, by string, at time.Time) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO cs_customer_inputs (workspace_id, account_id, sentiment, sentiment_note, sentiment_by, sentiment_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (workspace_id, account_id) DO UPDATE SET sentiment=excluded.sentiment, sentiment_note=excluded.sentiment_note, sentiment_by=excluded.sentiment_by, sentiment_at=excluded.sentiment_at`,
		ws, accountID, sentiment, note, by, at.UTC())
	if err != nil {
		return wrapWrite("set sentiment", err)
	}
	return nil
}

// HealthRecord is one computed health score of a customer. Breakdown is the
// JSON the success package writes (points per input, reasons, convention).
type HealthRecord struct {
	ID         int64           `json:"id,omitempty"`
	Score      int             `json:"score"`
	Band       string          `json:"band"`
	Breakdown  json.RawMessage `json:"breakdown"`
	Cause      string          `json:"cause"`
	Day        string          `json:"day,omitempty"`
	ComputedAt time.Time       `json:"computed_at"`
}

// GetHealth loads the latest health of an account of ws; ErrNotFound when it
// was never computed.
func (q Q) GetHealth(ctx context.Context, ws, accountID int64) (HealthRecord, error) {
	var h HealthRecord
	var bd jsonText
	var at dbTime
	err := q.db.QueryRowContext(ctx, `SELECT score, band, breakdown, cause, computed_at FROM cs_health WHERE workspace_id=$1 AND account_id=$2`, ws, accountID).
		Scan(&h.Score, &h.Band, &bd, &h.Cause, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("store: health: %w", err)
	}
	h.Breakdown, h.ComputedAt = json.RawMessage(bd), at.T
	return h, nil
}

// PutHealth makes h the current health of an account of ws and, when history
// is set, appends it to the history. A history row with a day (the daily
// recompute) is written once per account and day: a second one for the same
// day writes nothing and reports written false.
func (q Q) PutHealth(ctx context.Context, ws, accountID int64, h *HealthRecord, history bool) (written bool, err error) {
	bd := string(h.Breakdown)
	if bd == "" {
		bd = "{}"
	}
	if history {
		rows, err := q.db.QueryContext(ctx, `INSERT INTO cs_health_history (workspace_id, account_id, score, band, breakdown, cause, day, computed_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
			ON CONFLICT (workspace_id, account_id, day) DO NOTHING RETURNING id`, ws, accountID, h.Score, h.Band, bd, h.Cause, nullStr(h.Day), h.ComputedAt.UTC())
		if err != nil {
			return false, wrapWrite("insert health history", err)
		}
		if rows.Next() {
			if err := rows.Scan(&h.ID); err != nil {
				rows.Close()
				return false, fmt.Errorf("store: insert health history: %w", err)
			}
			written = true
		}
		if err := rows.Close(); err != nil {
			return false, fmt.Errorf("store: insert health history: %w", err)
		}
		if !written {
			return false, nil
		}
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO cs_health (workspace_id, account_id, score, band, breakdown, cause, computed_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (workspace_id, account_id) DO UPDATE SET score=excluded.score, band=excluded.band, breakdown=excluded.breakdown, cause=excluded.cause, computed_at=excluded.computed_at`,
		ws, accountID, h.Score, h.Band, bd, h.Cause, h.ComputedAt.UTC())
	if err != nil {
		return false, wrapWrite("put health", err)
	}
	return written, nil
}

// HealthHistory lists an account's history rows of ws, oldest first, the
// newest limit of them.
func (q Q) HealthHistory(ctx context.Context, ws, accountID int64, limit int) ([]HealthRecord, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT id, score, band, breakdown, cause, COALESCE(day, ''), computed_at FROM (
			SELECT id, score, band, breakdown, cause, day, computed_at FROM cs_health_history WHERE workspace_id=$1 AND account_id=$2 ORDER BY computed_at DESC, id DESC LIMIT $3
		) x ORDER BY computed_at, id`, ws, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: health history: %w", err)
	}
	defer rows.Close()
	out := []HealthRecord{}
	for rows.Next() {
		var h HealthRecord
		var bd jsonText
		var at dbTime
		if err := rows.Scan(&h.ID, &h.Score, &h.Band, &bd, &h.Cause, &h.Day, &at); err != nil {
			return nil, fmt.Errorf("store: health history: %w", err)
		}
		h.Breakdown, h.ComputedAt = json.RawMessage(bd), at.T
		out = append(out, h)
	}
	return out, rows.Err()
}

// LatestHealthHistory loads an account's newest history row of ws (a recompute
// that changes nothing is not written again); ErrNotFound when none.
func (q Q) LatestHealthHistory(ctx context.Context, ws, accountID int64) (HealthRecord, error) {
	hs, err := q.HealthHistory(ctx, ws, accountID, 1)
	if err != nil {
		return HealthRecord{}, err
	}
	if len(hs) == 0 {
		return HealthRecord{}, ErrNotFound
	}
	return hs[0], nil
}

// CustomerHealthRow is a customer with its current health, for lists.
type CustomerHealthRow struct {
	AccountID   int64     `json:"account_id"`
	AccountName string    `json:"account_name"`
	Score       int       `json:"score"`
	Band        string    `json:"band"`
	ComputedAt  time.Time `json:"computed_at"`
}

// CustomersInBands lists ws's customers whose current band is one of bands,
// lowest score first, at most limit.
func (q Q) CustomersInBands(ctx context.Context, ws int64, bands []string, limit int) ([]CustomerHealthRow, error) {
	out := []CustomerHealthRow{}
	if len(bands) == 0 {
		return out, nil
	}
	args := []any{ws, limit}
	in := ""
	for i, b := range bands {
		if i > 0 {
			in += ","
		}
		args = append(args, b)
		in += fmt.Sprintf("$%d", len(args))
	}
	rows, err := q.db.QueryContext(ctx, `SELECT h.account_id, a.name, h.score, h.band, h.computed_at FROM cs_health h
		JOIN accounts a ON a.workspace_id = h.workspace_id AND a.id = h.account_id
		WHERE h.workspace_id = $1 AND h.band IN (`+in+`) ORDER BY h.score, h.account_id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: customers in bands: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r CustomerHealthRow
		var at dbTime
		if err := rows.Scan(&r.AccountID, &r.AccountName, &r.Score, &r.Band, &at); err != nil {
			return nil, fmt.Errorf("store: customers in bands: %w", err)
		}
		r.ComputedAt = at.T
		out = append(out, r)
	}
	return out, rows.Err()
}

// CustomerIDs pages through the ids of ws's customers in id order: accounts
// with a won deal, a customer-success handoff or a health input.
func (q Q) CustomerIDs(ctx context.Context, ws, after int64, limit int) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT a.id FROM accounts a WHERE a.workspace_id = $1 AND a.id > $2 AND (
			EXISTS (SELECT 1 FROM deals d WHERE d.workspace_id = a.workspace_id AND d.account_id = a.id AND d.outcome = 'won')
			OR EXISTS (SELECT 1 FROM cs_handoffs h WHERE h.workspace_id = a.workspace_id AND h.account_id = a.id)
			OR EXISTS (SELECT 1 FROM cs_health x WHERE x.workspace_id = a.workspace_id AND x.account_id = a.id)
		) ORDER BY a.id LIMIT $3`, ws, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: customer ids: %w", err)
	}
	return ids, nil
}
