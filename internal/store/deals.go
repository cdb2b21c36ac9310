package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rightsize/rightsize/internal/model"
)

const dealCols = `id, external_id, account_id, name, amount, currency, pipeline, stage, owner_id, expected_close_date, outcome, loss_reason, closed_at, needs_review, review_reason, custom, created_at, updated_at`

var dealList = listSpec{
	table: "deals",
	cols:  dealCols,
	fields: map[string]fieldSpec{
		"id": {"id", fID, true}, "external_id": {"external_id", fText, false}, "account_id": {"account_id", fID, false},
		"name": {"name", fText, true}, "amount": {"amount", fInt, true}, "currency": {"currency", fText, false},
		"pipeline": {"pipeline", fText, true}, "stage": {"stage", fText, true}, "owner_id": {"owner_id", fID, false},
		"expected_close_date": {"expected_close_date", fText, true}, "outcome": {"outcome", fText, true},
		"loss_reason": {"loss_reason", fText, false}, "closed_at": {"closed_at", fTime, false}, "needs_review": {"needs_review", fBool, false},
		"created_at": {"created_at", fTime, true}, "updated_at": {"updated_at", fTime, true},
	},
	search:  []string{"name"},
	defSort: "-created_at",
}

func scanDeal(r rowScanner, extra ...any) (model.Deal, int64, error) {
	var d model.Deal
	var ext sql.NullString
	var acct, owner sql.NullInt64
	var closed, created, updated dbTime
	var custom jsonText
	dest := append([]any{&d.ID, &ext, &acct, &d.Name, &d.Amount, &d.Currency, &d.Pipeline, &d.Stage, &owner, &d.ExpectedCloseDate, &d.Outcome, &d.LossReason, &closed, &d.NeedsReview, &d.ReviewReason, &custom, &created, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return d, 0, err
	}
	d.ExternalID = str(ext)
	d.AccountID, d.OwnerID = intPtr(acct), intPtr(owner)
	d.ClosedAt = closed.ptr()
	d.Custom = decodeCustom(custom)
	d.CreatedAt, d.UpdatedAt = created.T, updated.T
	return d, d.ID, nil
}

// GetDeal loads one deal of workspace ws.
func (q Q) GetDeal(ctx context.Context, ws, id int64) (model.Deal, error) {
	query, args := q.scopedOne(`SELECT `+dealCols+` FROM deals WHERE workspace_id = $1 AND id = $2`, "deals", ws, id)
	d, _, err := scanDeal(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("store: get deal %d: %w", id, err)
	}
	return d, nil
}

func dealArgs(ws int64, d *model.Deal) []any {
	return []any{ws, nullStr(d.ExternalID), nullInt(d.AccountID), d.Name, d.Amount, d.Currency, d.Pipeline, d.Stage, nullInt(d.OwnerID), d.ExpectedCloseDate, d.Outcome, d.LossReason, nullTime(d.ClosedAt), encodeCustom(d.Custom), d.NeedsReview, d.ReviewReason}
}

// CreateDeal inserts d. CreatedAt is kept when set (imports and demo data carry history).
func (q Q) CreateDeal(ctx context.Context, ws int64, d *model.Deal) error {
	now := Now()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	d.UpdatedAt = now
	args := append(dealArgs(ws, d), d.CreatedAt.UTC(), now)
	err := q.db.QueryRowContext(ctx, `INSERT INTO deals (workspace_id, external_id, account_id, name, amount, currency, pipeline, stage, owner_id, expected_close_date, outcome, loss_reason, closed_at, custom, needs_review, review_reason, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) RETURNING id`, args...).Scan(&d.ID)
	if err != nil {
		return wrapWrite("create deal", err)
	}
	return nil
}

// UpdateDeal writes every field of d.
func (q Q) UpdateDeal(ctx context.Context, ws int64, d *model.Deal) error {
	d.UpdatedAt = Now()
	args := append(dealArgs(ws, d), d.UpdatedAt, d.ID)
	res, err := q.db.ExecContext(ctx, `UPDATE deals SET external_id=$2, account_id=$3, name=$4, amount=$5, currency=$6, pipeline=$7, stage=$8, owner_id=$9, expected_close_date=$10, outcome=$11, loss_reason=$12, closed_at=$13, custom=$14, needs_review=$15, review_reason=$16, updated_at=$17
		WHERE workspace_id=$1 AND id=$18`, args...)
	return affected(res, err, "update deal")
}

// DeleteDeal removes a deal; its activities stay, unlinked.
func (q Q) DeleteDeal(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM deals WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete deal")
}

// ListDeals pages through deals.
func (q Q) ListDeals(ctx context.Context, ws int64, p ListParams, customTypes map[string]string) (Page[model.Deal], error) {
	bl, err := buildList(q, dealList, ws, p, customTypes)
	if err != nil {
		return Page[model.Deal]{}, err
	}
	page, err := runList(ctx, q, "deals", bl, scanDeal)
	if err == nil && p.Count {
		page.Total, err = q.count(ctx, bl)
	}
	return page, err
}

// StageSummary is the count and total amount of open deals in one stage.
type StageSummary struct {
	Pipeline string `json:"pipeline"`
	Stage    string `json:"stage"`
	Outcome  string `json:"outcome"`
	Currency string `json:"currency"`
	Count    int64  `json:"count"`
	Amount   int64  `json:"amount"`
}

// DealSummary groups deals by pipeline, stage, outcome and currency (dashboard).
func (q Q) DealSummary(ctx context.Context, ws int64) ([]StageSummary, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT pipeline, stage, outcome, currency, COUNT(*), COALESCE(SUM(amount),0) FROM deals WHERE workspace_id=$1 GROUP BY pipeline, stage, outcome, currency ORDER BY pipeline, stage`, ws)
	if err != nil {
		return nil, fmt.Errorf("store: deal summary: %w", err)
	}
	defer rows.Close()
	var out []StageSummary
	for rows.Next() {
		var s StageSummary
		if err := rows.Scan(&s.Pipeline, &s.Stage, &s.Outcome, &s.Currency, &s.Count, &s.Amount); err != nil {
			return nil, fmt.Errorf("store: deal summary: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
