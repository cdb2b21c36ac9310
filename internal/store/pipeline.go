package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// Pipelines are stored whole, like routing rules: the API and UI replace a
// workspace's list in one transaction. Stages and their exit criteria are JSON,
// validated by internal/pipeline before they get here.

// Pipelines lists the stored pipelines of ws in order; none means the workspace
// uses the built-in defaults.
func (q Q) Pipelines(ctx context.Context, ws int64) ([]model.PipelineDef, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT key, name, stages FROM pipelines WHERE workspace_id=$1 ORDER BY position`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: pipelines: %w", err)
	}
	defer rows.Close()
	out := []model.PipelineDef{}
	for rows.Next() {
		var p model.PipelineDef
		var stages jsonText
		if err := rows.Scan(&p.Key, &p.Name, &stages); err != nil {
			return nil, fmt.Errorf("store: pipelines: %w", err)
		}
		if err := json.Unmarshal(stages, &p.Stages); err != nil {
			return nil, fmt.Errorf("store: pipeline %s stages: %w", p.Key, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ReplacePipelines makes ps (in order) the pipelines of ws. Run it inside InTx.
func (q Q) ReplacePipelines(ctx context.Context, ws int64, ps []model.PipelineDef) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM pipelines WHERE workspace_id=$1`, ws); err != nil {
		return fmt.Errorf("store: replace pipelines: %w", err)
	}
	now := Now()
	for i, p := range ps {
		if _, err := q.db.ExecContext(ctx, `INSERT INTO pipelines (workspace_id, key, position, name, stages, updated_at) VALUES ($1,$2,$3,$4,$5,$6)`,
			ws, p.Key, i+1, p.Name, encodeJSON(p.Stages), now); err != nil {
			return wrapWrite("replace pipelines", err)
		}
	}
	return nil
}

// DealActivityKinds counts the activities of one deal by kind (exit criteria).
func (q Q) DealActivityKinds(ctx context.Context, ws, dealID int64) (map[string]int, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT kind, COUNT(*) FROM activities WHERE workspace_id=$1 AND deal_id=$2 GROUP BY kind`, ws, dealID)
	if err != nil {
		return nil, fmt.Errorf("store: deal %d activity kinds: %w", dealID, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: deal %d activity kinds: %w", dealID, err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Committee lists the buying committee of one deal, by role then name.
func (q Q) Committee(ctx context.Context, ws, dealID int64) ([]model.CommitteeMember, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT m.deal_id, m.contact_id, c.first_name, c.last_name, COALESCE(c.email,''), m.role, m.signoff, m.signoff_at, m.recorded_by, m.note, m.updated_at
		FROM deal_committee m JOIN contacts c ON c.id = m.contact_id AND c.workspace_id = m.workspace_id
		WHERE m.workspace_id=$1 AND m.deal_id=$2 ORDER BY m.role, c.last_name, c.first_name, m.contact_id`, ws, dealID)
	if err != nil {
		return nil, fmt.Errorf("store: committee of deal %d: %w", dealID, err)
	}
	defer rows.Close()
	out := []model.CommitteeMember{}
	for rows.Next() {
		var m model.CommitteeMember
		var first, last string
		var at dbTime
		var upd dbTime
		if err := rows.Scan(&m.DealID, &m.ContactID, &first, &last, &m.Email, &m.Role, &m.Signoff, &at, &m.RecordedBy, &m.Note, &upd); err != nil {
			return nil, fmt.Errorf("store: committee of deal %d: %w", dealID, err)
		}
		m.Name = joinName(first, last, m.Email)
		m.SignoffAt = at.ptr()
		m.UpdatedAt = upd.T
		out = append(out, m)
	}
	return out, rows.Err()
}

func joinName(first, last, email string) string {
	switch {
	case first != "" && last != "":
		return first + " " + last
	case first != "" || last != "":
		return first + last
	}
	return email
}

// PutCommitteeMember adds or changes a contact's role and sign-off on a deal.
// Both ids must already be checked to belong to ws.
func (q Q) PutCommitteeMember(ctx context.Context, ws int64, m *model.CommitteeMember) error {
	m.UpdatedAt = Now()
	_, err := q.db.ExecContext(ctx, `INSERT INTO deal_committee (workspace_id, deal_id, contact_id, role, signoff, signoff_at, recorded_by, note, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
		ON CONFLICT (deal_id, contact_id) DO UPDATE SET role=excluded.role, signoff=excluded.signoff, signoff_at=excluded.signoff_at, recorded_by=excluded.recorded_by, note=excluded.note, updated_at=excluded.updated_at`,
		ws, m.DealID, m.ContactID, m.Role, m.Signoff, nullTime(m.SignoffAt), m.RecordedBy, m.Note, m.UpdatedAt)
	if err != nil {
		return wrapWrite("put committee member", err)
	}
	return nil
}

// GetCommitteeMember loads one member (ErrNotFound when the contact is not on the deal).
func (q Q) GetCommitteeMember(ctx context.Context, ws, dealID, contactID int64) (model.CommitteeMember, error) {
	ms, err := q.Committee(ctx, ws, dealID)
	if err != nil {
		return model.CommitteeMember{}, err
	}
	for _, m := range ms {
		if m.ContactID == contactID {
			return m, nil
		}
	}
	return model.CommitteeMember{}, ErrNotFound
}

// DeleteCommitteeMember takes a contact off a deal's committee.
func (q Q) DeleteCommitteeMember(ctx context.Context, ws, dealID, contactID int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM deal_committee WHERE workspace_id=$1 AND deal_id=$2 AND contact_id=$3`, ws, dealID, contactID)
	return affected(res, err, "delete committee member")
}

// EnterStage closes the deal's current stage stay (if any) and opens one in stage.
func (q Q) EnterStage(ctx context.Context, ws, dealID int64, pipeline, stage, by, override string, at time.Time) error {
	if _, err := q.db.ExecContext(ctx, `UPDATE deal_stage_history SET left_at=$3, left_by=$4 WHERE workspace_id=$1 AND deal_id=$2 AND left_at IS NULL`, ws, dealID, at, by); err != nil {
		return fmt.Errorf("store: leave stage of deal %d: %w", dealID, err)
	}
	if _, err := q.db.ExecContext(ctx, `INSERT INTO deal_stage_history (workspace_id, deal_id, pipeline, stage, entered_at, entered_by, override) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		ws, dealID, pipeline, stage, at, by, override); err != nil {
		return wrapWrite("enter stage", err)
	}
	return nil
}

// StageHistory lists a deal's stays, oldest first. A deal written before stage
// history existed (or by a path that keeps none) has no rows: callers count its
// current stay from its creation.
func (q Q) StageHistory(ctx context.Context, ws, dealID int64) ([]model.StageStay, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, stage, entered_at, entered_by, left_at, left_by, override FROM deal_stage_history WHERE workspace_id=$1 AND deal_id=$2 ORDER BY id`, ws, dealID)
	if err != nil {
		return nil, fmt.Errorf("store: stage history of deal %d: %w", dealID, err)
	}
	defer rows.Close()
	out := []model.StageStay{}
	for rows.Next() {
		var s model.StageStay
		var in dbTime
		var left dbTime
		if err := rows.Scan(&s.Pipeline, &s.Stage, &in, &s.EnteredBy, &left, &s.LeftBy, &s.Override); err != nil {
			return nil, fmt.Errorf("store: stage history of deal %d: %w", dealID, err)
		}
		s.EnteredAt = in.T
		s.LeftAt = left.ptr()
		out = append(out, s)
	}
	return out, rows.Err()
}

// BoardCard is one open deal as the pipeline board shows it.
type BoardCard struct {
	ID           int64
	Name         string
	Account      string
	Amount       int64
	Currency     string
	Owner        string
	Stage        string     // OpenDealStays puts the pipeline key in Name
	InStageSince time.Time  // entry into the current stage (creation when unrecorded)
	LastActivity *time.Time // newest activity on the deal
}

// BoardDeals lists, for each stage of one pipeline, its perStage biggest open
// deals with what a card shows: account and owner names, the current stage
// stay and the newest activity. The window keeps the work proportional to
// what the board shows, not to the pipeline's size; BoardTotals counts the rest.
func (q Q) BoardDeals(ctx context.Context, ws int64, pipeline string, perStage int) ([]BoardCard, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT d.id, d.name, COALESCE(a.name,''), d.amount, d.currency, COALESCE(NULLIF(u.name,''), u.email, ''), d.stage,
			COALESCE((SELECT MAX(h.entered_at) FROM deal_stage_history h WHERE h.deal_id = d.id AND h.left_at IS NULL), d.created_at),
			(SELECT MAX(x.occurred_at) FROM activities x WHERE x.deal_id = d.id)
		FROM (SELECT id, name, amount, currency, stage, account_id, owner_id, created_at,
				ROW_NUMBER() OVER (PARTITION BY stage ORDER BY amount DESC, id) AS rn
			FROM deals WHERE workspace_id=$1 AND pipeline=$2 AND outcome='') d
		LEFT JOIN accounts a ON a.id = d.account_id
		LEFT JOIN users u ON u.id = d.owner_id
		WHERE d.rn <= $3
		ORDER BY d.amount DESC, d.id`, ws, pipeline, perStage)
	if err != nil {
		return nil, fmt.Errorf("store: board %s: %w", pipeline, err)
	}
	defer rows.Close()
	out := []BoardCard{}
	for rows.Next() {
		var c BoardCard
		var since, last dbTime
		if err := rows.Scan(&c.ID, &c.Name, &c.Account, &c.Amount, &c.Currency, &c.Owner, &c.Stage, &since, &last); err != nil {
			return nil, fmt.Errorf("store: board %s: %w", pipeline, err)
		}
		c.InStageSince = since.T
		c.LastActivity = last.ptr()
		out = append(out, c)
	}
	return out, rows.Err()
}

// StageTotal is the open deals of one stage in one currency.
type StageTotal struct {
	Stage    string
	Currency string
	Count    int64
	Amount   int64
}

// BoardTotals counts the open deals of one pipeline by stage and currency.
func (q Q) BoardTotals(ctx context.Context, ws int64, pipeline string) ([]StageTotal, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT stage, currency, COUNT(*), COALESCE(SUM(amount),0) FROM deals WHERE workspace_id=$1 AND pipeline=$2 AND outcome='' GROUP BY stage, currency`, ws, pipeline)
	if err != nil {
		return nil, fmt.Errorf("store: board totals %s: %w", pipeline, err)
	}
	defer rows.Close()
	var out []StageTotal
	for rows.Next() {
		var t StageTotal
		if err := rows.Scan(&t.Stage, &t.Currency, &t.Count, &t.Amount); err != nil {
			return nil, fmt.Errorf("store: board totals %s: %w", pipeline, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OpenDealStays lists every open deal of ws with its stage, when it entered it
// and its newest activity (the stale filter).
func (q Q) OpenDealStays(ctx context.Context, ws int64) ([]BoardCard, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT d.id, d.pipeline, d.stage, COALESCE(h.entered_at, d.created_at), act.last
		FROM deals d
		LEFT JOIN deal_stage_history h ON h.deal_id = d.id AND h.workspace_id = d.workspace_id AND h.left_at IS NULL
		LEFT JOIN (SELECT deal_id, MAX(occurred_at) AS last FROM activities WHERE workspace_id=$1 AND deal_id IS NOT NULL GROUP BY deal_id) act ON act.deal_id = d.id
		WHERE d.workspace_id=$1 AND d.outcome=''`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: open deal stays: %w", err)
	}
	defer rows.Close()
	out := []BoardCard{}
	for rows.Next() {
		var c BoardCard
		var since, last dbTime
		if err := rows.Scan(&c.ID, &c.Name, &c.Stage, &since, &last); err != nil {
			return nil, fmt.Errorf("store: open deal stays: %w", err)
		}
		c.InStageSince, c.LastActivity = since.T, last.ptr()
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastDealActivity is the newest activity time of a deal (nil when none).
func (q Q) LastDealActivity(ctx context.Context, ws, dealID int64) (*time.Time, error) {
	var last dbTime
	err := q.db.QueryRowContext(ctx, `SELECT MAX(occurred_at) FROM activities WHERE workspace_id=$1 AND deal_id=$2`, ws, dealID).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: last activity of deal %d: %w", dealID, err)
	}
	return last.ptr(), nil
}
