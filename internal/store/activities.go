package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rightsize/rightsize/internal/model"
)

const activityCols = `id, external_id, kind, subject, body, occurred_at, duration_minutes, owner_id, contact_id, account_id, deal_id, participants, custom, created_at`

var activityList = listSpec{
	table: "activities",
	cols:  activityCols,
	fields: map[string]fieldSpec{
		"id": {"id", fID, true}, "external_id": {"external_id", fText, false}, "kind": {"kind", fText, true},
		"subject": {"subject", fText, true}, "occurred_at": {"occurred_at", fTime, true},
		"duration_minutes": {"duration_minutes", fInt, true}, "owner_id": {"owner_id", fID, false},
		"contact_id": {"contact_id", fID, false}, "account_id": {"account_id", fID, false}, "deal_id": {"deal_id", fID, false},
		"created_at": {"created_at", fTime, true},
	},
	search:  []string{"subject"},
	defSort: "-occurred_at",
}

func scanActivity(r rowScanner, extra ...any) (model.Activity, int64, error) {
	var a model.Activity
	var ext sql.NullString
	var owner, contact, account, deal sql.NullInt64
	var occurred, created dbTime
	var parts, custom jsonText
	dest := append([]any{&a.ID, &ext, &a.Kind, &a.Subject, &a.Body, &occurred, &a.DurationMinutes, &owner, &contact, &account, &deal, &parts, &custom, &created}, extra...)
	if err := r.Scan(dest...); err != nil {
		return a, 0, err
	}
	a.ExternalID = str(ext)
	a.OwnerID, a.ContactID, a.AccountID, a.DealID = intPtr(owner), intPtr(contact), intPtr(account), intPtr(deal)
	a.OccurredAt, a.CreatedAt = occurred.T, created.T
	a.Participants = []string{}
	if len(parts) > 0 {
		_ = json.Unmarshal(parts, &a.Participants)
	}
	a.Custom = decodeCustom(custom)
	return a, a.ID, nil
}

// GetActivity loads one activity of workspace ws.
func (q Q) GetActivity(ctx context.Context, ws, id int64) (model.Activity, error) {
	query, args := q.scopedOne(`SELECT `+activityCols+` FROM activities WHERE workspace_id = $1 AND id = $2`, "activities", ws, id)
	a, _, err := scanActivity(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: get activity %d: %w", id, err)
	}
	return a, nil
}

func activityArgs(ws int64, a *model.Activity) []any {
	if a.Participants == nil {
		a.Participants = []string{}
	}
	return []any{ws, nullStr(a.ExternalID), a.Kind, a.Subject, a.Body, a.OccurredAt.UTC(), a.DurationMinutes, nullInt(a.OwnerID), nullInt(a.ContactID), nullInt(a.AccountID), nullInt(a.DealID), encodeJSON(a.Participants), encodeCustom(a.Custom)}
}

// CreateActivity inserts a.
func (q Q) CreateActivity(ctx context.Context, ws int64, a *model.Activity) error {
	a.CreatedAt = Now()
	args := append(activityArgs(ws, a), a.CreatedAt)
	err := q.db.QueryRowContext(ctx, `INSERT INTO activities (workspace_id, external_id, kind, subject, body, occurred_at, duration_minutes, owner_id, contact_id, account_id, deal_id, participants, custom, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id`, args...).Scan(&a.ID)
	if err != nil {
		return wrapWrite("create activity", err)
	}
	return nil
}

// UpdateActivity writes every field of a.
func (q Q) UpdateActivity(ctx context.Context, ws int64, a *model.Activity) error {
	args := append(activityArgs(ws, a), a.ID)
	res, err := q.db.ExecContext(ctx, `UPDATE activities SET external_id=$2, kind=$3, subject=$4, body=$5, occurred_at=$6, duration_minutes=$7, owner_id=$8, contact_id=$9, account_id=$10, deal_id=$11, participants=$12, custom=$13
		WHERE workspace_id=$1 AND id=$14`, args...)
	return affected(res, err, "update activity")
}

// DeleteActivity removes an activity.
func (q Q) DeleteActivity(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM activities WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete activity")
}

// ListActivities pages through activities (filter by contact_id, account_id, deal_id
// for a timeline).
func (q Q) ListActivities(ctx context.Context, ws int64, p ListParams, customTypes map[string]string) (Page[model.Activity], error) {
	bl, err := buildList(q, activityList, ws, p, customTypes)
	if err != nil {
		return Page[model.Activity]{}, err
	}
	page, err := runList(ctx, q, "activities", bl, scanActivity)
	if err == nil && p.Count {
		page.Total, err = q.count(ctx, bl)
	}
	return page, err
}
