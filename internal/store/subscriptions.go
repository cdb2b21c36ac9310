package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
)

// Subscriptions, their changes, MRR movements, renewals (docs/subscriptions.md).
// Dates are 'YYYY-MM-DD' text, compared as text. internal/subscriptions decides
// what is written; these methods only read and write rows of one workspace.

const subCols = `id, account_id, deal_id, external_id, plan, quantity, unit_price, currency, billing_interval, mrr, start_date, term_months, renewal_date, auto_renew, end_date, created_at, updated_at`

func scanSubscription(r rowScanner) (model.Subscription, error) {
	var s model.Subscription
	var deal sql.NullInt64
	var ext, end sql.NullString
	var created, updated dbTime
	err := r.Scan(&s.ID, &s.AccountID, &deal, &ext, &s.Plan, &s.Quantity, &s.UnitPrice, &s.Currency, &s.Interval, &s.MRR,
		&s.StartDate, &s.TermMonths, &s.RenewalDate, &s.AutoRenew, &end, &created, &updated)
	s.DealID = intPtr(deal)
	s.ExternalID, s.EndDate = str(ext), str(end)
	s.CreatedAt, s.UpdatedAt = created.T, updated.T
	return s, err
}

// forUpdate locks the rows a read-then-write transaction reads on PostgreSQL;
// SQLite's single writer already serialises them.
func (q Q) forUpdate() string {
	if q.tx != nil && q.kind == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// LockAccount takes the account's row lock for the rest of the transaction
// (PostgreSQL), so two writers of one account's subscriptions queue instead of
// each deriving its MRR movements without the other's change. ErrNotFound when
// the account is not in ws.
func (q Q) LockAccount(ctx context.Context, ws, id int64) error {
	var got int64
	err := q.db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE workspace_id=$1 AND id=$2`+q.forUpdate(), ws, id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: lock account %d: %w", id, err)
	}
	return nil
}

// GetSubscription loads one subscription of ws (locked inside a PostgreSQL
// transaction).
func (q Q) GetSubscription(ctx context.Context, ws, id int64) (model.Subscription, error) {
	s, err := scanSubscription(q.db.QueryRowContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE workspace_id=$1 AND id=$2`+q.forUpdate(), ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: get subscription %d: %w", id, err)
	}
	return s, nil
}

// SubscriptionByExternalID finds a subscription by its external id.
func (q Q) SubscriptionByExternalID(ctx context.Context, ws int64, ext string) (model.Subscription, error) {
	s, err := scanSubscription(q.db.QueryRowContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE workspace_id=$1 AND external_id=$2`+q.forUpdate(), ws, ext))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: subscription by external id: %w", err)
	}
	return s, nil
}

// SubscriptionByDeal finds the subscription a deal opened (the oldest one).
func (q Q) SubscriptionByDeal(ctx context.Context, ws, dealID int64) (model.Subscription, error) {
	s, err := scanSubscription(q.db.QueryRowContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE workspace_id=$1 AND deal_id=$2 ORDER BY id LIMIT 1`, ws, dealID))
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, fmt.Errorf("store: subscription of deal %d: %w", dealID, err)
	}
	return s, nil
}

func subArgs(ws int64, s *model.Subscription) []any {
	var end any
	if s.EndDate != "" {
		end = s.EndDate
	}
	return []any{ws, s.AccountID, nullInt(s.DealID), nullStr(s.ExternalID), s.Plan, s.Quantity, s.UnitPrice, s.Currency, s.Interval, s.MRR,
		s.StartDate, s.TermMonths, s.RenewalDate, s.AutoRenew, end}
}

// CreateSubscription inserts s.
func (q Q) CreateSubscription(ctx context.Context, ws int64, s *model.Subscription) error {
	now := Now()
	s.CreatedAt, s.UpdatedAt = now, now
	args := append(subArgs(ws, s), now, now)
	err := q.db.QueryRowContext(ctx, `INSERT INTO subscriptions (workspace_id, account_id, deal_id, external_id, plan, quantity, unit_price, currency, billing_interval, mrr, start_date, term_months, renewal_date, auto_renew, end_date, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING id`, args...).Scan(&s.ID)
	if err != nil {
		return wrapWrite("create subscription", err)
	}
	return nil
}

// UpdateSubscription writes every field of s.
func (q Q) UpdateSubscription(ctx context.Context, ws int64, s *model.Subscription) error {
	s.UpdatedAt = Now()
	args := append(subArgs(ws, s), s.UpdatedAt, s.ID)
	res, err := q.db.ExecContext(ctx, `UPDATE subscriptions SET account_id=$2, deal_id=$3, external_id=$4, plan=$5, quantity=$6, unit_price=$7, currency=$8, billing_interval=$9, mrr=$10,
		start_date=$11, term_months=$12, renewal_date=$13, auto_renew=$14, end_date=$15, updated_at=$16 WHERE workspace_id=$1 AND id=$17`, args...)
	return affected(res, err, "update subscription")
}

// SubscriptionFilter selects subscriptions; zero fields do not filter. Status
// (future, active, ended) is judged on Today.
type SubscriptionFilter struct {
	AccountID     int64
	DealID        int64
	Status        string
	Today         string
	Plan          string
	Currency      string
	ExternalID    string
	RenewalAfter  string // renewal_date >= this
	RenewalBefore string // renewal_date <= this
	After         int64  // keyset: id > After
	Limit         int
}

// ListSubscriptions pages through subscriptions by id; next is the id to pass
// as After for the following page (0 on the last one).
func (q Q) ListSubscriptions(ctx context.Context, ws int64, f SubscriptionFilter) (items []model.Subscription, next int64, err error) {
	where := []string{"workspace_id = $1"}
	args := []any{ws}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.AccountID != 0 {
		where = append(where, "account_id = "+arg(f.AccountID))
	}
	if f.DealID != 0 {
		where = append(where, "deal_id = "+arg(f.DealID))
	}
	switch f.Status {
	case "future":
		where = append(where, "start_date > "+arg(f.Today))
	case "active":
		t := arg(f.Today)
		where = append(where, "start_date <= "+t+" AND (end_date IS NULL OR end_date > "+t+")")
	case "ended":
		where = append(where, "end_date <= "+arg(f.Today))
	}
	if f.Plan != "" {
		where = append(where, "LOWER(plan) = LOWER("+arg(f.Plan)+")")
	}
	if f.Currency != "" {
		where = append(where, "currency = "+arg(strings.ToUpper(f.Currency)))
	}
	if f.ExternalID != "" {
		where = append(where, "external_id = "+arg(f.ExternalID))
	}
	if f.RenewalAfter != "" {
		where = append(where, "renewal_date >= "+arg(f.RenewalAfter))
	}
	if f.RenewalBefore != "" {
		where = append(where, "renewal_date <= "+arg(f.RenewalBefore))
	}
	if f.After != 0 {
		where = append(where, "id > "+arg(f.After))
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list subscriptions: %w", err)
	}
	defer rows.Close()
	items = []model.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list subscriptions: %w", err)
		}
		if len(items) == limit {
			next = items[len(items)-1].ID
			break
		}
		items = append(items, s)
	}
	return items, next, rows.Err()
}

// AccountSubscriptions lists every subscription of the given accounts, oldest first.
func (q Q) AccountSubscriptions(ctx context.Context, ws int64, accountIDs ...int64) ([]model.Subscription, error) {
	out := []model.Subscription{}
	if len(accountIDs) == 0 {
		return out, nil
	}
	args := []any{ws}
	ph := make([]string, len(accountIDs))
	for i, id := range accountIDs {
		args = append(args, id)
		ph[i] = "$" + strconv.Itoa(i+2)
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+subCols+` FROM subscriptions WHERE workspace_id=$1 AND account_id IN (`+strings.Join(ph, ",")+`) ORDER BY start_date, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: account subscriptions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("store: account subscriptions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

const changeCols = `id, subscription_id, account_id, kind, effective_date, plan, quantity, unit_price, currency, billing_interval, mrr, active, note, actor, created_at`

func scanChange(r rowScanner) (model.SubscriptionChange, error) {
	var c model.SubscriptionChange
	var created dbTime
	err := r.Scan(&c.ID, &c.SubscriptionID, &c.AccountID, &c.Kind, &c.EffectiveDate, &c.Plan, &c.Quantity, &c.UnitPrice, &c.Currency, &c.Interval,
		&c.MRR, &c.Active, &c.Note, &c.Actor, &created)
	c.CreatedAt = created.T
	return c, err
}

// AddSubscriptionChange records a change of a subscription.
func (q Q) AddSubscriptionChange(ctx context.Context, ws int64, c *model.SubscriptionChange) error {
	c.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO subscription_changes (workspace_id, subscription_id, account_id, kind, effective_date, plan, quantity, unit_price, currency, billing_interval, mrr, active, note, actor, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id`,
		ws, c.SubscriptionID, c.AccountID, c.Kind, c.EffectiveDate, c.Plan, c.Quantity, c.UnitPrice, c.Currency, c.Interval, c.MRR, c.Active, c.Note, c.Actor, c.CreatedAt).Scan(&c.ID)
	if err != nil {
		return wrapWrite("add subscription change", err)
	}
	return nil
}

// UpdateSubscriptionChange rewrites a recorded change (an import restating a
// start date or terms, a rescheduled end).
func (q Q) UpdateSubscriptionChange(ctx context.Context, ws int64, c *model.SubscriptionChange) error {
	res, err := q.db.ExecContext(ctx, `UPDATE subscription_changes SET kind=$3, effective_date=$4, plan=$5, quantity=$6, unit_price=$7, currency=$8, billing_interval=$9, mrr=$10, active=$11, note=$12, actor=$13
		WHERE workspace_id=$1 AND id=$2`, ws, c.ID, c.Kind, c.EffectiveDate, c.Plan, c.Quantity, c.UnitPrice, c.Currency, c.Interval, c.MRR, c.Active, c.Note, c.Actor)
	return affected(res, err, "update subscription change")
}

// DeleteSubscriptionChange removes a recorded change (a scheduled end withdrawn).
func (q Q) DeleteSubscriptionChange(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM subscription_changes WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete subscription change")
}

func (q Q) changes(ctx context.Context, what, cond string, args ...any) ([]model.SubscriptionChange, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+changeCols+` FROM subscription_changes WHERE `+cond+` ORDER BY effective_date, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	out := []model.SubscriptionChange{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SubscriptionChanges lists one subscription's changes in effect order.
func (q Q) SubscriptionChanges(ctx context.Context, ws, subID int64) ([]model.SubscriptionChange, error) {
	return q.changes(ctx, "subscription changes", "workspace_id=$1 AND subscription_id=$2", ws, subID)
}

// AccountSubscriptionChanges lists the changes of every subscription of an
// account in effect order (effective date, then recording order): the input
// from which its MRR movements are derived.
func (q Q) AccountSubscriptionChanges(ctx context.Context, ws, accountID int64) ([]model.SubscriptionChange, error) {
	return q.changes(ctx, "account subscription changes", "workspace_id=$1 AND account_id=$2", ws, accountID)
}

const movementCols = `id, account_id, subscription_id, effective_date, month, kind, amount, currency, segment, motion, created_at`

func scanMovement(r rowScanner) (model.MRRMovement, error) {
	var m model.MRRMovement
	var sub sql.NullInt64
	var created dbTime
	err := r.Scan(&m.ID, &m.AccountID, &sub, &m.Date, &m.Month, &m.Kind, &m.Amount, &m.Currency, &m.Segment, &m.Motion, &created)
	m.SubscriptionID = intPtr(sub)
	m.CreatedAt = created.T
	return m, err
}

// AccountMovements lists an account's MRR movements by date.
func (q Q) AccountMovements(ctx context.Context, ws, accountID int64) ([]model.MRRMovement, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+movementCols+` FROM mrr_movements WHERE workspace_id=$1 AND account_id=$2 ORDER BY effective_date, currency`, ws, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: account movements: %w", err)
	}
	defer rows.Close()
	out := []model.MRRMovement{}
	for rows.Next() {
		m, err := scanMovement(rows)
		if err != nil {
			return nil, fmt.Errorf("store: account movements: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// InsertMovement writes a new movement.
func (q Q) InsertMovement(ctx context.Context, ws int64, m *model.MRRMovement) error {
	m.CreatedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO mrr_movements (workspace_id, account_id, subscription_id, effective_date, month, kind, amount, currency, segment, motion, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		ws, m.AccountID, nullInt(m.SubscriptionID), m.Date, m.Month, m.Kind, m.Amount, m.Currency, m.Segment, m.Motion, m.CreatedAt).Scan(&m.ID)
	if err != nil {
		return wrapWrite("insert movement", err)
	}
	return nil
}

// UpdateMovement rewrites the kind, amount and subscription of a movement.
func (q Q) UpdateMovement(ctx context.Context, ws int64, m *model.MRRMovement) error {
	res, err := q.db.ExecContext(ctx, `UPDATE mrr_movements SET kind=$3, amount=$4, subscription_id=$5, segment=$6, motion=$7 WHERE workspace_id=$1 AND id=$2`,
		ws, m.ID, m.Kind, m.Amount, nullInt(m.SubscriptionID), m.Segment, m.Motion)
	return affected(res, err, "update movement")
}

// DeleteMovement removes a movement.
func (q Q) DeleteMovement(ctx context.Context, ws, id int64) error {
	res, err := q.db.ExecContext(ctx, `DELETE FROM mrr_movements WHERE workspace_id=$1 AND id=$2`, ws, id)
	return affected(res, err, "delete movement")
}

// signedAmount is a movement's effect on MRR in SQL.
const signedAmount = `CASE WHEN m.kind IN ('contraction', 'churn') THEN -m.amount ELSE m.amount END`

// groupExpr maps a bridge grouping to the account column it reads, the
// GROUP BY prefix it needs (PostgreSQL refuses a constant there) and the join
// that brings the account in (none ungrouped: the sums then read only the
// covering date index); anything else is a programming error.
func groupExpr(by string) (string, string, string, error) {
	const join = " JOIN accounts a ON a.id = m.account_id"
	switch by {
	case "":
		return "''", "", "", nil
	case "segment":
		return "a.segment", "a.segment, ", join, nil
	case "motion":
		return "a.motion", "a.motion, ", join, nil
	}
	return "", "", "", fmt.Errorf("store: no movement grouping %q", by)
}

// MovementTotal is a sum of movements: per group (the account's current segment
// or motion, "" ungrouped), currency, and kind (and month when asked). For
// MRRBefore, Kind is "" and Amount is the signed sum.
type MovementTotal struct {
	Group    string
	Month    string
	Currency string
	Kind     string
	Amount   int64
	Count    int64
}

func (q Q) totals(ctx context.Context, what, query string, withMonth, withKind bool, args ...any) ([]MovementTotal, error) {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []MovementTotal
	for rows.Next() {
		var t MovementTotal
		dest := []any{&t.Group, &t.Currency}
		if withMonth {
			dest = append(dest, &t.Month)
		}
		if withKind {
			dest = append(dest, &t.Kind)
		}
		dest = append(dest, &t.Amount, &t.Count)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// MRRBefore sums the signed movements dated before day: the MRR at the start
// of day, per group and currency.
func (q Q) MRRBefore(ctx context.Context, ws int64, day, by string) ([]MovementTotal, error) {
	g, gb, join, err := groupExpr(by)
	if err != nil {
		return nil, err
	}
	return q.totals(ctx, "mrr before", `SELECT `+g+`, m.currency, COALESCE(SUM(`+signedAmount+`), 0), COUNT(*)
		FROM mrr_movements m`+join+`
		WHERE m.workspace_id=$1 AND m.effective_date < $2 GROUP BY `+gb+`m.currency`, false, false, ws, day)
}

// MovementTotals sums the movements dated from..to (inclusive) by group,
// currency and kind, and by month too when monthly.
func (q Q) MovementTotals(ctx context.Context, ws int64, from, to, by string, monthly bool) ([]MovementTotal, error) {
	g, gb, join, err := groupExpr(by)
	if err != nil {
		return nil, err
	}
	cols := "m.currency, "
	if monthly {
		cols += "m.month, "
	}
	return q.totals(ctx, "movement totals", `SELECT `+g+`, `+cols+`m.kind, COALESCE(SUM(m.amount), 0), COUNT(*)
		FROM mrr_movements m`+join+`
		WHERE m.workspace_id=$1 AND m.effective_date >= $2 AND m.effective_date <= $3 GROUP BY `+gb+cols+`m.kind`, monthly, true, ws, from, to)
}

// CustomerRow is an account with subscriptions, as the customer list shows it.
// MRR is the sum of its movements up to the day asked (one currency per
// customer in practice; see docs/subscriptions.md).
type CustomerRow struct {
	AccountID   int64  `json:"account_id"`
	Name        string `json:"name"`
	Domain      string `json:"domain,omitempty"`
	Segment     string `json:"segment,omitempty"`
	Motion      string `json:"motion,omitempty"`
	Since       string `json:"customer_since"`
	Active      int64  `json:"active_subscriptions"`
	Future      int64  `json:"future_subscriptions"`
	Total       int64  `json:"subscription_count"`
	NextRenewal string `json:"next_renewal,omitempty"`
	Currency    string `json:"currency"`
	MRR         int64  `json:"mrr"`
}

// CustomerFilter selects customers. Status is active (an active subscription
// on Today), churned (none active or future) or future (only future ones).
// Sort is "name" (default) or "-mrr"; the cursor is keyset on it.
type CustomerFilter struct {
	Today     string
	AccountID int64
	Status    string
	Segment   string
	Motion    string
	Query     string
	Sort      string
	Cursor    string
	Limit     int
}

// customersFrom is the customer list's FROM: one row per account with a
// subscription, its counts on $2 (today) and its MRR at the end of $2.
const customersFrom = ` FROM (SELECT account_id, MIN(start_date) AS since, MIN(currency) AS currency, COUNT(*) AS total,
			SUM(CASE WHEN start_date <= $2 AND (end_date IS NULL OR end_date > $2) THEN 1 ELSE 0 END) AS active,
			SUM(CASE WHEN start_date > $2 THEN 1 ELSE 0 END) AS future,
			MIN(CASE WHEN end_date IS NULL THEN renewal_date END) AS next_renewal
		FROM subscriptions WHERE workspace_id = $1 GROUP BY account_id) c
	JOIN accounts a ON a.id = c.account_id AND a.workspace_id = $1
	LEFT JOIN (SELECT m.account_id, SUM(` + signedAmount + `) AS mrr FROM mrr_movements m WHERE m.workspace_id = $1 AND m.effective_date <= $2 GROUP BY m.account_id) m ON m.account_id = c.account_id`

// customerWhere turns a filter (without its cursor) into conditions and
// args; arg adds one more arg to the same list and names its placeholder.
func customerWhere(ws int64, f CustomerFilter) (where []string, args *[]any, arg func(any) string) {
	list := []any{ws, f.Today}
	args = &list
	arg = func(v any) string { list = append(list, v); return "$" + strconv.Itoa(len(list)) }
	if f.AccountID != 0 {
		where = append(where, "c.account_id = "+arg(f.AccountID))
	}
	switch f.Status {
	case "active":
		where = append(where, "c.active > 0")
	case "churned":
		where = append(where, "c.active = 0 AND c.future = 0")
	case "future":
		where = append(where, "c.active = 0 AND c.future > 0")
	}
	if f.Segment != "" {
		where = append(where, "a.segment = "+arg(f.Segment))
	}
	if f.Motion != "" {
		where = append(where, "a.motion = "+arg(f.Motion))
	}
	if s := strings.TrimSpace(f.Query); s != "" {
		pat := arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(s)) + "%")
		where = append(where, "(LOWER(a.name) LIKE "+pat+` ESCAPE '\' OR LOWER(COALESCE(a.domain,'')) LIKE `+pat+` ESCAPE '\')`)
	}
	return where, args, arg
}

func whereSQL(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// CountCustomers counts the customers a filter matches (its cursor ignored).
func (q Q) CountCustomers(ctx context.Context, ws int64, f CustomerFilter) (int64, error) {
	where, args, _ := customerWhere(ws, f)
	var n int64
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*)`+customersFrom+whereSQL(where), *args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count customers: %w", err)
	}
	return n, nil
}

// ListCustomers pages through the accounts that have a subscription.
func (q Q) ListCustomers(ctx context.Context, ws int64, f CustomerFilter) ([]CustomerRow, string, error) {
	where, args, arg := customerWhere(ws, f)
	byMRR := f.Sort == "-mrr"
	mrrExpr := "COALESCE(m.mrr, 0)"
	if f.Cursor != "" {
		typ := fText
		if byMRR {
			typ = fInt
		}
		v, id, err := decodeCursor(f.Cursor, typ)
		if err != nil {
			return nil, "", err
		}
		va, ia := arg(v), arg(id)
		if byMRR {
			where = append(where, "("+mrrExpr+" < "+va+" OR ("+mrrExpr+" = "+va+" AND a.id > "+ia+"))")
		} else {
			where = append(where, "(a.name > "+va+" OR (a.name = "+va+" AND a.id > "+ia+"))")
		}
	}
	order := "a.name, a.id"
	if byMRR {
		order = mrrExpr + " DESC, a.id"
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxPageSize {
		limit = DefaultPageSize
	}
	rows, err := q.db.QueryContext(ctx, `SELECT a.id, a.name, COALESCE(a.domain, ''), a.segment, a.motion, c.since, c.active, c.future, c.total, COALESCE(c.next_renewal, ''), c.currency, `+mrrExpr+
		customersFrom+whereSQL(where)+` ORDER BY `+order+` LIMIT `+strconv.Itoa(limit+1), *args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list customers: %w", err)
	}
	defer rows.Close()
	out := []CustomerRow{}
	next := ""
	for rows.Next() {
		var c CustomerRow
		if err := rows.Scan(&c.AccountID, &c.Name, &c.Domain, &c.Segment, &c.Motion, &c.Since, &c.Active, &c.Future, &c.Total, &c.NextRenewal, &c.Currency, &c.MRR); err != nil {
			return nil, "", fmt.Errorf("store: list customers: %w", err)
		}
		if len(out) == limit {
			last := out[len(out)-1]
			if byMRR {
				next = encodeCursor(last.MRR, last.AccountID)
			} else {
				next = encodeCursor(last.Name, last.AccountID)
			}
			break
		}
		out = append(out, c)
	}
	return out, next, rows.Err()
}

// IsCustomer reports whether the account has any subscription.
func (q Q) IsCustomer(ctx context.Context, ws, accountID int64) (bool, error) {
	var n int64
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions WHERE workspace_id=$1 AND account_id=$2`, ws, accountID).Scan(&n); err != nil {
		return false, fmt.Errorf("store: is customer: %w", err)
	}
	return n > 0, nil
}

const renewalCols = `r.id, r.subscription_id, r.account_id, COALESCE(a.name, ''), COALESCE(s.plan, ''), r.renewal_date, r.status, r.outcome, r.mrr_before, r.mrr_after, r.currency, r.note, r.opened_at, r.decided_at, r.decided_by`

const renewalFrom = ` FROM renewals r JOIN accounts a ON a.id = r.account_id JOIN subscriptions s ON s.id = r.subscription_id`

func scanRenewal(r rowScanner) (model.Renewal, error) {
	var x model.Renewal
	var after sql.NullInt64
	var opened, decided dbTime
	err := r.Scan(&x.ID, &x.SubscriptionID, &x.AccountID, &x.AccountName, &x.Plan, &x.RenewalDate, &x.Status, &x.Outcome, &x.MRRBefore, &after, &x.Currency, &x.Note, &opened, &decided, &x.DecidedBy)
	x.MRRAfter = intPtr(after)
	x.OpenedAt, x.DecidedAt = opened.T, decided.ptr()
	return x, err
}

// InsertRenewal opens a renewal unless one exists for the subscription and
// renewal date (the job's idempotency key); it reports whether it inserted.
func (q Q) InsertRenewal(ctx context.Context, ws int64, x *model.Renewal) (bool, error) {
	x.OpenedAt = Now()
	err := q.db.QueryRowContext(ctx, `INSERT INTO renewals (workspace_id, subscription_id, account_id, renewal_date, status, outcome, mrr_before, mrr_after, currency, note, opened_at, decided_at, decided_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (workspace_id, subscription_id, renewal_date) DO NOTHING RETURNING id`,
		ws, x.SubscriptionID, x.AccountID, x.RenewalDate, x.Status, x.Outcome, x.MRRBefore, nullInt(x.MRRAfter), x.Currency, x.Note, x.OpenedAt, nullTime(x.DecidedAt), x.DecidedBy).Scan(&x.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrapWrite("insert renewal", err)
	}
	return true, nil
}

// GetRenewal loads one renewal of ws (locked inside a PostgreSQL transaction).
func (q Q) GetRenewal(ctx context.Context, ws, id int64) (model.Renewal, error) {
	lock := ""
	if q.forUpdate() != "" {
		lock = " FOR UPDATE OF r"
	}
	x, err := scanRenewal(q.db.QueryRowContext(ctx, `SELECT `+renewalCols+renewalFrom+` WHERE r.workspace_id=$1 AND r.id=$2`+lock, ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, ErrNotFound
	}
	if err != nil {
		return x, fmt.Errorf("store: get renewal %d: %w", id, err)
	}
	return x, nil
}

// CloseRenewal records a renewal's outcome.
func (q Q) CloseRenewal(ctx context.Context, ws int64, x *model.Renewal) error {
	now := Now()
	x.Status, x.DecidedAt = "closed", &now
	res, err := q.db.ExecContext(ctx, `UPDATE renewals SET status='closed', outcome=$3, mrr_after=$4, note=$5, decided_at=$6, decided_by=$7 WHERE workspace_id=$1 AND id=$2`,
		ws, x.ID, x.Outcome, nullInt(x.MRRAfter), x.Note, now, x.DecidedBy)
	return affected(res, err, "close renewal")
}

// RenewalFilter selects renewals; zero fields do not filter.
type RenewalFilter struct {
	Status         string
	AccountID      int64
	SubscriptionID int64
	DueBy          string // renewal_date <= this
	After          int64
	Limit          int
}

// ListRenewals lists renewals by renewal date, then id.
func (q Q) ListRenewals(ctx context.Context, ws int64, f RenewalFilter) ([]model.Renewal, error) {
	where := []string{"r.workspace_id = $1"}
	args := []any{ws}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Status != "" {
		where = append(where, "r.status = "+arg(f.Status))
	}
	if f.AccountID != 0 {
		where = append(where, "r.account_id = "+arg(f.AccountID))
	}
	if f.SubscriptionID != 0 {
		where = append(where, "r.subscription_id = "+arg(f.SubscriptionID))
	}
	if f.DueBy != "" {
		where = append(where, "r.renewal_date <= "+arg(f.DueBy))
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+renewalCols+renewalFrom+` WHERE `+strings.Join(where, " AND ")+` ORDER BY r.renewal_date, r.id LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list renewals: %w", err)
	}
	defer rows.Close()
	out := []model.Renewal{}
	for rows.Next() {
		x, err := scanRenewal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list renewals: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// SubscriptionsToRenew lists up to limit running subscriptions (no end date)
// whose renewal date is on or before until and that have no renewal for that
// date yet: what the renewal job opens.
func (q Q) SubscriptionsToRenew(ctx context.Context, ws int64, until string, limit int) ([]model.Subscription, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+subCols+` FROM subscriptions s WHERE s.workspace_id=$1 AND s.end_date IS NULL AND s.renewal_date <= $2
		AND NOT EXISTS (SELECT 1 FROM renewals r WHERE r.workspace_id = s.workspace_id AND r.subscription_id = s.id AND r.renewal_date = s.renewal_date)
		ORDER BY s.renewal_date, s.id LIMIT $3`, ws, until, limit)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions to renew: %w", err)
	}
	defer rows.Close()
	out := []model.Subscription{}
	for rows.Next() {
		s, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("store: subscriptions to renew: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// AdminWorkspacesWithSubscriptions lists the workspaces that have a running
// subscription (no end date): the renewal sweep visits them. It works across
// workspaces by design (the periodic job's entry point).
func (q Q) AdminWorkspacesWithSubscriptions(ctx context.Context) ([]int64, error) {
	ids, err := q.int64s(ctx, `SELECT w.id FROM workspaces w WHERE EXISTS (SELECT 1 FROM subscriptions s WHERE s.workspace_id = w.id AND s.end_date IS NULL) ORDER BY w.id`)
	if err != nil {
		return nil, fmt.Errorf("store: workspaces with subscriptions: %w", err)
	}
	return ids, nil
}

// RenewalLeadDays is how many days before a renewal date the workspace's
// renewal opens (90 when never set).
func (q Q) RenewalLeadDays(ctx context.Context, ws int64) (int, error) {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT renewal_lead_days FROM subscription_settings WHERE workspace_id=$1`, ws).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 90, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: renewal lead days: %w", err)
	}
	return n, nil
}

// SetRenewalLeadDays stores the workspace's renewal lead time.
func (q Q) SetRenewalLeadDays(ctx context.Context, ws int64, days int) error {
	_, err := q.db.ExecContext(ctx, `INSERT INTO subscription_settings (workspace_id, renewal_lead_days, updated_at) VALUES ($1,$2,$3)
		ON CONFLICT (workspace_id) DO UPDATE SET renewal_lead_days=excluded.renewal_lead_days, updated_at=excluded.updated_at`, ws, days, Now())
	if err != nil {
		return wrapWrite("set renewal lead days", err)
	}
	return nil
}

// MoveSubscriptions gives the loser account's subscriptions, their changes,
// movements and renewals to the winner (an account merge); the caller then
// derives the winner's movements again.
func (q Q) MoveSubscriptions(ctx context.Context, ws, loserID, winnerID int64) error {
	// The loser's movements are derived data: dropped here, rebuilt for the
	// winner from the moved changes.
	if _, err := q.db.ExecContext(ctx, `DELETE FROM mrr_movements WHERE workspace_id=$1 AND account_id=$2`, ws, loserID); err != nil {
		return fmt.Errorf("store: move subscriptions: %w", err)
	}
	for _, t := range []string{"subscriptions", "subscription_changes", "renewals"} {
		if _, err := q.db.ExecContext(ctx, `UPDATE `+t+` SET account_id=$3 WHERE workspace_id=$1 AND account_id=$2`, ws, loserID, winnerID); err != nil {
			return fmt.Errorf("store: move subscriptions (%s): %w", t, err)
		}
	}
	return nil
}
