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
	}
	const chunk = 500
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(start+chunk, len(values))]
		var sb strings.Builder
		args := make([]any, 0, len(part)+1)
		args = append(args, ws)
		sb.WriteString("SELECT " + col + ", id FROM " + table + " WHERE workspace_id = " + q.ph(1) + " AND " + col + " IN (")
		for i, v := range part {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(q.ph(i + 2))
			if column == "name" {
				v = strings.ToLower(v)
			}
			args = append(args, v)
		}
		sb.WriteByte(')')
		rows, err := q.db.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("store: lookup %s.%s: %w", table, column, err)
		}
		for rows.Next() {
			var k string
			var id int64
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return nil, err
			}
			if _, dup := out[k]; dup {
				id = -1
			}
			out[k] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertContacts writes many new contacts with multi-row INSERTs (100 rows a
// statement, prepared once per call). Callers have already ruled out unique
// conflicts, because on PostgreSQL a conflict would abort the whole transaction.
func (q Q) InsertContacts(ctx context.Context, ws int64, cs []*model.Contact) error {
	const cols = 20
	const per = 100
	now := Now()
	if q.kind == Postgres && q.conn != nil {
		return q.copyContacts(ctx, ws, cs, now)
	}
	var full *sql.Stmt
	if len(cs) >= per && q.tx != nil {
		st, err := q.tx.PrepareContext(ctx, insertSQL(q.kind, insertContactsHead, cols, per))
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
			c.CreatedAt, c.UpdatedAt = now, now
			args = append(args, contactArgs(ws, c)...)
			args = append(args, now, now)
		}
		var err error
		if full != nil && len(part) == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = q.db.ExecContext(ctx, insertSQL(q.kind, insertContactsHead, cols, len(part)), args...)
		}
		if err != nil {
			return wrapWrite("insert contacts", err)
		}
	}
	return nil
}

const insertContactsHead = `INSERT INTO contacts (workspace_id, external_id, email, first_name, last_name, title, phone, account_id, lifecycle_stage, owner_id, source, utm_source, utm_medium, utm_campaign, consent_basis, consent_source, consent_at, custom, created_at, updated_at) VALUES `

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
		c.CreatedAt, c.UpdatedAt = now, now
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
