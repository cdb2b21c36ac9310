package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rightsize/rightsize/internal/model"
)

const accountCols = `id, external_id, name, domain, employees, annual_revenue, budget, currency, industry, region, owner_id, segment, motion, custom, created_at, updated_at`

var accountList = listSpec{
	table: "accounts",
	cols:  accountCols,
	fields: map[string]fieldSpec{
		"id": {"id", fID, true}, "name": {"name", fText, true}, "domain": {"domain", fText, true},
		"external_id": {"external_id", fText, false},
		"employees":   {"employees", fInt, true}, "annual_revenue": {"annual_revenue", fInt, true},
		"budget": {"budget", fInt, true}, "industry": {"industry", fText, true}, "region": {"region", fText, true},
		"owner_id": {"owner_id", fID, false}, "segment": {"segment", fText, true}, "motion": {"motion", fText, true},
		"created_at": {"created_at", fTime, true}, "updated_at": {"updated_at", fTime, true},
	},
	search:  []string{"name", "domain"},
	defSort: "name",
}

func scanAccount(r rowScanner, extra ...any) (model.Account, int64, error) {
	var a model.Account
	var ext, domain sql.NullString
	var emp, rev, bud, owner sql.NullInt64
	var custom jsonText
	var created, updated dbTime
	dest := append([]any{&a.ID, &ext, &a.Name, &domain, &emp, &rev, &bud, &a.Currency, &a.Industry, &a.Region, &owner, &a.Segment, &a.Motion, &custom, &created, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return a, 0, err
	}
	a.ExternalID, a.Domain = str(ext), str(domain)
	a.Employees, a.AnnualRevenue, a.Budget, a.OwnerID = intPtr(emp), intPtr(rev), intPtr(bud), intPtr(owner)
	a.Custom = decodeCustom(custom)
	a.CreatedAt, a.UpdatedAt = created.T, updated.T
	return a, a.ID, nil
}

// GetAccount loads one account of workspace ws.
func (q Q) GetAccount(ctx context.Context, ws, id int64) (model.Account, error) {
	query, args := q.scopedOne(`SELECT `+accountCols+` FROM accounts WHERE workspace_id = $1 AND id = $2`, "accounts", ws, id)
	a, _, err := scanAccount(q.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: get account %d: %w", id, err)
	}
	return a, nil
}

// AccountByDomain finds the account with a normalised domain, for dedupe and linking.
func (q Q) AccountByDomain(ctx context.Context, ws int64, domain string) (model.Account, error) {
	a, _, err := scanAccount(q.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE workspace_id = $1 AND domain = $2`, ws, domain))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: account by domain: %w", err)
	}
	return a, nil
}

// CreateAccount inserts a and sets its id and timestamps.
func (q Q) CreateAccount(ctx context.Context, ws int64, a *model.Account) error {
	now := Now()
	a.CreatedAt, a.UpdatedAt = now, now
	err := q.db.QueryRowContext(ctx, `INSERT INTO accounts (workspace_id, external_id, name, domain, employees, annual_revenue, budget, currency, industry, region, owner_id, segment, motion, custom, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$15) RETURNING id`,
		ws, nullStr(a.ExternalID), a.Name, nullStr(a.Domain), nullInt(a.Employees), nullInt(a.AnnualRevenue), nullInt(a.Budget), a.Currency, a.Industry, a.Region, nullInt(a.OwnerID), a.Segment, a.Motion, encodeCustom(a.Custom), now).Scan(&a.ID)
	if err != nil {
		return wrapWrite("create account", err)
	}
	return nil
}

// UpdateAccount writes every field of a.
func (q Q) UpdateAccount(ctx context.Context, ws int64, a *model.Account) error {
	a.UpdatedAt = Now()
	res, err := q.db.ExecContext(ctx, `UPDATE accounts SET external_id=$3, name=$4, domain=$5, employees=$6, annual_revenue=$7, budget=$8, currency=$9, industry=$10, region=$11, owner_id=$12, segment=$13, motion=$14, custom=$15, updated_at=$16
		WHERE workspace_id=$1 AND id=$2`,
		ws, a.ID, nullStr(a.ExternalID), a.Name, nullStr(a.Domain), nullInt(a.Employees), nullInt(a.AnnualRevenue), nullInt(a.Budget), a.Currency, a.Industry, a.Region, nullInt(a.OwnerID), a.Segment, a.Motion, encodeCustom(a.Custom), a.UpdatedAt)
	return affected(res, err, "update account")
}

// DeleteAccount removes an account; its contacts, deals and activities keep existing
// without it.
func (q Q) DeleteAccount(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM accounts WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete account")
}

// ListAccounts pages through accounts.
func (q Q) ListAccounts(ctx context.Context, ws int64, p ListParams, customTypes map[string]string) (Page[model.Account], error) {
	bl, err := buildList(q, accountList, ws, p, customTypes)
	if err != nil {
		return Page[model.Account]{}, err
	}
	page, err := runList(ctx, q, "accounts", bl, scanAccount)
	if err == nil && p.Count {
		page.Total, err = q.count(ctx, bl)
	}
	return page, err
}

// MergeAccounts folds loser into winner: contacts, deals, activities and subscriptions move, blank
// fields of the winner are filled from the loser, history is kept, loser is deleted.
func (q Q) MergeAccounts(ctx context.Context, ws, winnerID, loserID int64, actor string) (model.Account, error) {
	if winnerID == loserID {
		return model.Account{}, &FieldError{Field: "merge_id", Message: "cannot merge an account into itself"}
	}
	w, err := q.GetAccount(ctx, ws, winnerID)
	if err != nil {
		return w, err
	}
	l, err := q.GetAccount(ctx, ws, loserID)
	if err != nil {
		return w, err
	}
	for _, stmt := range []string{
		`UPDATE contacts SET account_id=$3 WHERE workspace_id=$1 AND account_id=$2`,
		`UPDATE deals SET account_id=$3 WHERE workspace_id=$1 AND account_id=$2`,
		`UPDATE activities SET account_id=$3 WHERE workspace_id=$1 AND account_id=$2`,
		`UPDATE record_history SET object_id=$3 WHERE workspace_id=$1 AND object_type='account' AND object_id=$2`,
	} {
		if _, err := q.db.ExecContext(ctx, stmt, ws, loserID, winnerID); err != nil {
			return w, fmt.Errorf("store: merge accounts: %w", err)
		}
	}
	// Subscriptions would go with the loser (ON DELETE CASCADE): they move too.
	if err := q.MoveSubscriptions(ctx, ws, loserID, winnerID); err != nil {
		return w, err
	}
	if err := q.DeleteAccount(ctx, ws, loserID); err != nil {
		return w, err
	}
	fillStr(&w.ExternalID, l.ExternalID)
	fillStr(&w.Domain, l.Domain)
	fillStr(&w.Industry, l.Industry)
	fillStr(&w.Region, l.Region)
	fillStr(&w.Segment, l.Segment)
	fillStr(&w.Motion, l.Motion)
	fillInt(&w.Employees, l.Employees)
	fillInt(&w.AnnualRevenue, l.AnnualRevenue)
	fillInt(&w.Budget, l.Budget)
	fillInt(&w.OwnerID, l.OwnerID)
	fillCustom(w.Custom, l.Custom)
	if err := q.UpdateAccount(ctx, ws, &w); err != nil {
		return w, err
	}
	err = q.AddHistory(ctx, ws, "account", winnerID, "merged", map[string]any{"merged_id": loserID, "merged_name": l.Name, "merged_domain": l.Domain}, actor)
	return w, err
}

func fillStr(dst *string, src string) {
	if *dst == "" {
		*dst = src
	}
}

func fillInt(dst **int64, src *int64) {
	if *dst == nil {
		*dst = src
	}
}

func fillCustom(dst, src map[string]any) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v
		}
	}
}

// AccountsAfter pages through the accounts of ws by id (keyset: the first limit
// accounts with id > after), for jobs that visit every account and write some
// back: on PostgreSQL the rows are locked (FOR UPDATE), so a concurrent edit
// is either seen or waits, never overwritten with a decision made on the old
// row; SQLite's single writer gives the same.
func (q Q) AccountsAfter(ctx context.Context, ws, after int64, limit int) ([]model.Account, error) {
	lock := ""
	if q.kind == Postgres {
		lock = " FOR UPDATE"
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3`+lock, ws, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: accounts after %d: %w", after, err)
	}
	defer rows.Close()
	var out []model.Account
	for rows.Next() {
		a, _, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: accounts after %d: %w", after, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAccountRouting writes only an account's segment and motion (re-routing after
// a rule change: nothing else about the account changed).
func (q Q) SetAccountRouting(ctx context.Context, ws, id int64, segment, motion string) error {
	res, err := q.db.ExecContext(ctx, `UPDATE accounts SET segment = $3, motion = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2`, ws, id, segment, motion, Now())
	return affected(res, err, "set account routing")
}
