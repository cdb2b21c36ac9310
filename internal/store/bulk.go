package store

import (
	"context"
	"database/sql"
	"time"

	"fmt"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
)

// lookupKeys are the (table, column) pairs LookupIDs may read; anything else is a
// programming error, never user input.
var lookupKeys = map[string]bool{
	"contacts.email": true, "contacts.external_id": true,
	"accounts.domain": true, "accounts.external_id": true, "accounts.name": true,
	"deals.external_id": true, "activities.external_id": true,
}

// LookupIDs maps each of values that exists in table.column of ws to its row id (for
// accounts.name the match is case-insensitive and the key is the lower-cased name;
// names that match several accounts map to -1 so callers can report the ambiguity).
// It is the batch lookup imports use to dedupe and link.
func (q Q) LookupIDs(ctx context.Context, ws int64, table, column string, values []string) (map[string]int64, error) {
	out := make(map[string]int64, len(values))
	if len(values) == 0 {
		return out, nil
	}
	if !lookupKeys[table+"."+column] {
		return nil, fmt.Errorf("store: lookup on %s.%s is not allowed", table, column)
	}
	col := column
	if column == "name" {
		col = "LOWER(name)"
		lower := make([]string, len(values))
		for i, v := range values {
			lower[i] = strings.ToLower(v)
		}
		values = lower
	}
	err := inList(ctx, q, "SELECT "+col+", id FROM "+table+" WHERE workspace_id = $1 AND "+col, ws, values, func(rows *sql.Rows) error {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return err
		}
		if _, dup := out[k]; dup {
			id = -1
		}
		out[k] = id
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: lookup %s.%s: %w", table, column, err)
	}
	return out, nil
}

// inList runs "head IN (values)" for many values and calls row for each result row.
// head must use $1 for the workspace and end with the compared expression. On
// PostgreSQL the values travel as one array parameter (= ANY($2)): one plan for any
// length instead of a statement with hundreds of parameters. On SQLite they go in
// chunks of 500 plain "?" placeholders.
func inList[T any](ctx context.Context, q Q, head string, ws int64, values []T, row func(*sql.Rows) error) error {
	each := func(sqlText string, args []any) error {
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
	if q.kind == Postgres {
		return each(head+" = ANY($2)", []any{ws, values})
	}
	head = strings.Replace(head, "$1", "?", 1)
	const chunk = 500
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(start+chunk, len(values))]
		var sb strings.Builder
		args := make([]any, 0, len(part)+1)
		args = append(args, ws)
		sb.WriteString(head + " IN (")
		for i, v := range part {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('?')
			args = append(args, v)
		}
		sb.WriteByte(')')
		if err := each(sb.String(), args); err != nil {
			return err
		}
	}
	return nil
}

// contactCol is one insertable column of contacts: used reports whether a contact
// carries a non-default value for it.
type contactCol struct {
	name string
	used func(c *model.Contact) bool
	val  func(c *model.Contact) any
}

var contactInsertCols = []contactCol{
	{"external_id", func(c *model.Contact) bool { return c.ExternalID != "" }, func(c *model.Contact) any { return nullStr(c.ExternalID) }},
	{"first_name", func(c *model.Contact) bool { return c.FirstName != "" }, func(c *model.Contact) any { return c.FirstName }},
	{"last_name", func(c *model.Contact) bool { return c.LastName != "" }, func(c *model.Contact) any { return c.LastName }},
	{"title", func(c *model.Contact) bool { return c.Title != "" }, func(c *model.Contact) any { return c.Title }},
	{"phone", func(c *model.Contact) bool { return c.Phone != "" }, func(c *model.Contact) any { return c.Phone }},
	{"account_id", func(c *model.Contact) bool { return c.AccountID != nil }, func(c *model.Contact) any { return nullInt(c.AccountID) }},
	{"owner_id", func(c *model.Contact) bool { return c.OwnerID != nil }, func(c *model.Contact) any { return nullInt(c.OwnerID) }},
	{"source", func(c *model.Contact) bool { return c.Source != "" }, func(c *model.Contact) any { return c.Source }},
	{"utm_source", func(c *model.Contact) bool { return c.UTMSource != "" }, func(c *model.Contact) any { return c.UTMSource }},
	{"utm_medium", func(c *model.Contact) bool { return c.UTMMedium != "" }, func(c *model.Contact) any { return c.UTMMedium }},
	{"utm_campaign", func(c *model.Contact) bool { return c.UTMCampaign != "" }, func(c *model.Contact) any { return c.UTMCampaign }},
	{"consent_basis", func(c *model.Contact) bool { return c.ConsentBasis != "" }, func(c *model.Contact) any { return c.ConsentBasis }},
	{"consent_source", func(c *model.Contact) bool { return c.ConsentSource != "" }, func(c *model.Contact) any { return c.ConsentSource }},
	{"consent_at", func(c *model.Contact) bool { return c.ConsentAt != nil }, func(c *model.Contact) any { return nullTime(c.ConsentAt) }},
	{"custom", func(c *model.Contact) bool { return len(c.Custom) > 0 }, func(c *model.Contact) any { return encodeCustom(c.Custom) }},
}

// InsertContacts writes many new contacts. On SQLite it uses multi-row INSERTs of
// 100 rows, prepared once per call, naming only the columns some row of the batch
// sets (the rest take their defaults: fewer values to bind is most of the cost). On
// PostgreSQL it uses COPY. Callers have already ruled out unique conflicts, because
// on PostgreSQL a conflict would abort the whole transaction.
func (q Q) InsertContacts(ctx context.Context, ws int64, cs []*model.Contact) error {
	now := Now()
	for _, c := range cs {
		c.CreatedAt, c.UpdatedAt = now, now
	}
	if q.kind == Postgres && q.conn != nil {
		return q.copyContacts(ctx, ws, cs, now)
	}
	var used []contactCol
	for _, col := range contactInsertCols {
		for _, c := range cs {
			if col.used(c) {
				used = append(used, col)
				break
			}
		}
	}
	head := "INSERT INTO contacts (workspace_id, email, lifecycle_stage, created_at, updated_at"
	for _, col := range used {
		head += ", " + col.name
	}
	head += ") VALUES "
	cols := 5 + len(used)
	const per = 100
	// SQLite stores timestamps as text; format "now" once, as the driver would.
	var nowV any = now
	if q.kind == SQLite {
		nowV = now.Format(sqliteTimeLayout)
	}
	if q.kind == SQLite && q.tx != nil && len(cs) > 1 {
		return q.insertContactsDeferredFTS(ctx, func() error {
			return q.insertContactRows(ctx, cs, head, cols, per, used, ws, nowV)
		})
	}
	return q.insertContactRows(ctx, cs, head, cols, per, used, ws, nowV)
}

// insertContactsDeferredFTS runs insert (multi-row INSERTs of new contacts)
// with the search index's insert trigger standing aside, then indexes the new
// rows in one statement (migration 00029): one FTS5 segment for the call
// instead of one per statement. The new rows are those above the largest id
// before: SQLite's one write connection is this transaction's.
//
// It runs in a savepoint: on any error the rows it inserted and the marker
// are rolled back together, so the trigger can never stay off for a caller
// that goes on after the error.
func (q Q) insertContactsDeferredFTS(ctx context.Context, insert func() error) (err error) {
	if _, err := q.db.ExecContext(ctx, `SAVEPOINT contacts_bulk`); err != nil {
		return wrapWrite("insert contacts", err)
	}
	defer func() {
		if err != nil {
			_, _ = q.db.ExecContext(ctx, `ROLLBACK TO contacts_bulk`)
		}
		if _, rerr := q.db.ExecContext(ctx, `RELEASE contacts_bulk`); rerr != nil && err == nil {
			err = wrapWrite("insert contacts", rerr)
		}
	}()
	var before int64
	if err := q.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM contacts`).Scan(&before); err != nil {
		return wrapWrite("insert contacts", err)
	}
	if _, err := q.db.ExecContext(ctx, `INSERT INTO contacts_fts_deferred (one) VALUES (1)`); err != nil {
		return wrapWrite("insert contacts: defer search index", err)
	}
	if err := insert(); err != nil {
		return err
	}
	if _, err := q.db.ExecContext(ctx, `INSERT INTO contacts_fts (rowid, email_text, first_name_text, last_name_text)
		SELECT id, email, first_name, last_name FROM contacts WHERE id > ?`, before); err != nil {
		return wrapWrite("insert contacts: search index", err)
	}
	if _, err := q.db.ExecContext(ctx, `DELETE FROM contacts_fts_deferred`); err != nil {
		return wrapWrite("insert contacts: search index", err)
	}
	return nil
}

func (q Q) insertContactRows(ctx context.Context, cs []*model.Contact, head string, cols, per int, used []contactCol, ws int64, nowV any) error {
	var full *sql.Stmt
	if len(cs) >= per && q.tx != nil {
		st, err := q.tx.PrepareContext(ctx, insertSQL(q.kind, head, cols, per))
		if err != nil {
			return fmt.Errorf("store: prepare insert contacts: %w", err)
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, per*cols)
	for start := 0; start < len(cs); start += per {
		part := cs[start:min(start+per, len(cs))]
		args = args[:0]
		for _, c := range part {
			args = append(args, ws, c.Email, c.LifecycleStage, nowV, nowV)
			for _, col := range used {
				args = append(args, col.val(c))
			}
		}
		var err error
		if full != nil && len(part) == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = q.db.ExecContext(ctx, insertSQL(q.kind, head, cols, len(part)), args...)
		}
		if err != nil {
			return wrapWrite("insert contacts", err)
		}
	}
	return nil
}

// sqliteTimeLayout is how modernc.org/sqlite writes a time.Time with
// _time_format=sqlite; values written either way compare and scan alike.
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// ph is the i-th placeholder of a long generated statement: "$i" on PostgreSQL,
// "?" on SQLite (see insertSQL).
func (q Q) ph(i int) string {
	if q.kind == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(i)
}

// insertSQL builds "head ($1,…,$cols),(…)" for n rows. SQLite gets plain "?":
// its parser resolves each numbered or named variable with a linear search, which
// makes a 2,000-parameter statement quadratic.
func insertSQL(kind Kind, head string, cols, n int) string {
	var sb strings.Builder
	sb.Grow(len(head) + n*cols*6)
	sb.WriteString(head)
	p := 1
	for r := 0; r < n; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				sb.WriteByte(',')
			}
			if kind == SQLite {
				sb.WriteByte('?')
			} else {
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(p))
			}
			p++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

var contactCopyCols = []string{"workspace_id", "external_id", "email", "first_name", "last_name", "title", "phone", "account_id", "lifecycle_stage", "owner_id", "source", "utm_source", "utm_medium", "utm_campaign", "consent_basis", "consent_source", "consent_at", "custom", "created_at", "updated_at"}

// copyContacts streams rows with COPY on PostgreSQL: one round trip for the whole
// batch instead of one per 100 rows, inside the caller's transaction.
func (q Q) copyContacts(ctx context.Context, ws int64, cs []*model.Contact, now time.Time) error {
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(cs) {
			return nil, nil
		}
		c := cs[i]
		i++
		return append(contactArgs(ws, c), now, now), nil
	})
	err := q.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: copy: unexpected driver connection %T", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"contacts"}, contactCopyCols, src)
		return err
	})
	if err != nil {
		return wrapWrite("copy contacts", err)
	}
	return nil
}

// countByKeys are the (table, column) pairs CountBy may group on.
var countByKeys = map[string]bool{"accounts.segment": true, "accounts.motion": true, "contacts.lifecycle_stage": true, "engagement_events.kind": true}

// CountBy counts a workspace's rows of table grouped by column (dashboards).
func (q Q) CountBy(ctx context.Context, ws int64, table, column string) (map[string]int64, error) {
	if !countByKeys[table+"."+column] {
		return nil, fmt.Errorf("store: count by %s.%s is not allowed", table, column)
	}
	rows, err := q.db.QueryContext(ctx, `SELECT `+column+`, COUNT(*) FROM `+table+` WHERE workspace_id = $1 GROUP BY `+column, ws)
	if err != nil {
		return nil, fmt.Errorf("store: count by %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// ContactsByIDs loads many contacts of ws at once (imports merging duplicates).
func (q Q) ContactsByIDs(ctx context.Context, ws int64, ids []int64) (map[int64]*model.Contact, error) {
	out := make(map[int64]*model.Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// "+workspace_id" keeps SQLite's planner from scanning the workspace's index
	// for every row instead of looking the ids up by rowid (it has no statistics).
	err := inList(ctx, q, "SELECT "+contactCols+" FROM contacts WHERE +workspace_id = $1 AND id", ws, ids, func(rows *sql.Rows) error {
		c, _, err := scanContact(rows)
		if err != nil {
			return err
		}
		out[c.ID] = &c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: contacts by ids: %w", err)
	}
	return out, nil
}

// UpdateContacts writes every field of many contacts of ws. SQLite runs one prepared
// UPDATE per contact; PostgreSQL copies them into a temporary table and updates from
// it in one statement, instead of a round trip per row.
func (q Q) UpdateContacts(ctx context.Context, ws int64, cs []*model.Contact) error {
	if len(cs) == 0 {
		return nil
	}
	now := Now()
	for _, c := range cs {
		c.UpdatedAt = now
	}
	if q.kind == Postgres && q.conn != nil {
		return q.copyUpdateContacts(ctx, ws, cs, now)
	}
	if q.tx == nil {
		return fmt.Errorf("store: update contacts outside a transaction")
	}
	st, err := q.tx.PrepareContext(ctx, `UPDATE contacts SET external_id=$2, email=$3, first_name=$4, last_name=$5, title=$6, phone=$7, account_id=$8, lifecycle_stage=$9, owner_id=$10, source=$11, utm_source=$12, utm_medium=$13, utm_campaign=$14, consent_basis=$15, consent_source=$16, consent_at=$17, custom=$18, updated_at=$19
		WHERE workspace_id=$1 AND id=$20`)
	if err != nil {
		return fmt.Errorf("store: prepare update contacts: %w", err)
	}
	defer st.Close()
	for _, c := range cs {
		if _, err := st.ExecContext(ctx, append(contactArgs(ws, c), now, c.ID)...); err != nil {
			return wrapWrite("update contacts", err)
		}
	}
	return nil
}

func (q Q) copyUpdateContacts(ctx context.Context, ws int64, cs []*model.Contact, now time.Time) error {
	if _, err := q.db.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS import_contacts (LIKE contacts INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return fmt.Errorf("store: update contacts: %w", err)
	}
	if _, err := q.db.ExecContext(ctx, `DELETE FROM import_contacts`); err != nil {
		return fmt.Errorf("store: update contacts: %w", err)
	}
	cols := append([]string{"id"}, contactCopyCols...)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(cs) {
			return nil, nil
		}
		c := cs[i]
		i++
		return append(append([]any{c.ID}, contactArgs(ws, c)...), c.CreatedAt, now), nil
	})
	err := q.conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: copy: unexpected driver connection %T", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"import_contacts"}, cols, src)
		return err
	})
	if err != nil {
		return wrapWrite("update contacts", err)
	}
	_, err = q.db.ExecContext(ctx, `UPDATE contacts c SET external_id=t.external_id, email=t.email, first_name=t.first_name, last_name=t.last_name, title=t.title, phone=t.phone,
		account_id=t.account_id, lifecycle_stage=t.lifecycle_stage, owner_id=t.owner_id, source=t.source, utm_source=t.utm_source, utm_medium=t.utm_medium,
		utm_campaign=t.utm_campaign, consent_basis=t.consent_basis, consent_source=t.consent_source, consent_at=t.consent_at, custom=t.custom, updated_at=t.updated_at
		FROM import_contacts t WHERE c.id = t.id AND c.workspace_id = $1`, ws)
	if err != nil {
		return wrapWrite("update contacts", err)
	}
	return nil
}
