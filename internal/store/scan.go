package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rightsize/rightsize/internal/model"
)

// nullStr stores "" as NULL so partial unique indexes (domain, external id) ignore it.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullTime(p *time.Time) any {
	if p == nil {
		return nil
	}
	return p.UTC()
}

func intPtr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func str(n sql.NullString) string { return n.String }

// dbTime scans a timestamp from either dialect: SQLite hands back text for computed
// expressions (MAX, COALESCE) and time.Time for plain columns.
type dbTime struct {
	T     time.Time
	Valid bool
}

func (d *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		d.Valid = false
	case time.Time:
		d.T, d.Valid = v.UTC(), true
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	case int64:
		d.T, d.Valid = time.Unix(v, 0).UTC(), true
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

func (d *dbTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			d.T, d.Valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("store: cannot parse time %q", s)
}

func (d dbTime) ptr() *time.Time {
	if !d.Valid {
		return nil
	}
	t := d.T
	return &t
}

// jsonText scans a JSON column stored as TEXT (SQLite) or JSONB (PostgreSQL).
type jsonText []byte

func (j *jsonText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = []byte(v)
	case []byte:
		*j = append((*j)[:0], v...)
	default:
		return fmt.Errorf("store: cannot scan %T into json", src)
	}
	return nil
}

func decodeCustom(b jsonText) model.Custom {
	c := model.Custom{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &c) // written only by encodeCustom
	}
	return c
}

func encodeCustom(c model.Custom) string {
	if len(c) == 0 {
		return "{}"
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// isUnique reports a unique-constraint violation in either dialect.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// uniqueField names the field a unique violation is about, for a clear error.
func uniqueField(err error) string {
	msg := err.Error()
	for _, f := range []string{"email", "domain", "external_id", "slug", "key"} {
		if strings.Contains(msg, "."+f) || strings.Contains(msg, "_"+strings.TrimSuffix(f, "_id")) {
			return f
		}
	}
	return ""
}

// ConflictError says which unique field a write collided on.
type ConflictError struct{ Field string }

func (e *ConflictError) Error() string { return "conflict: " + e.Field + " already exists" }
func (e *ConflictError) Unwrap() error { return ErrConflict }

func wrapWrite(what string, err error) error {
	if isUnique(err) {
		return &ConflictError{Field: uniqueField(err)}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return wrapWrite(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// int64s runs a query whose rows are one integer each (ids).
func (q Q) int64s(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
