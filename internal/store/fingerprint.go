package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// TableState is what Fingerprint saw of one table: its row count and a hash of
// every row's values (order-independent).
type TableState struct {
	Rows int64
	Hash string
}

// Fingerprint reads every table of the database (migrations' and River's
// included) and returns its state by table name, leaving out the columns named
// in skip ("table.column", or "table.*" for a whole table). It is for tests that prove a request changed
// nothing — a GET, a refused cross-origin or cross-workspace request — and
// reads whole tables, so it is only for test-sized databases.
func (s *Store) Fingerprint(ctx context.Context, skip ...string) (map[string]TableState, error) {
	tables, err := s.tableColumns(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]TableState, len(tables))
	for table, cols := range tables {
		cols = slices.DeleteFunc(cols, func(c string) bool {
			return slices.Contains(skip, table+"."+c) || slices.Contains(skip, table+".*")
		})
		if len(cols) == 0 {
			continue
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = `"` + c + `"`
		}
		rows, err := s.R.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`"`)
		if err != nil {
			return nil, fmt.Errorf("store: fingerprint %s: %w", table, err)
		}
		var lines []string
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: fingerprint %s: %w", table, err)
			}
			var b strings.Builder
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%v\x1f", v)
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: fingerprint %s: %w", table, err)
		}
		slices.Sort(lines)
		h := sha256.New()
		for _, l := range lines {
			h.Write([]byte(l))
			h.Write([]byte{'\n'})
		}
		out[table] = TableState{Rows: int64(len(lines)), Hash: hex.EncodeToString(h.Sum(nil))}
	}
	return out, nil
}

// tableColumns lists the user tables and their columns.
func (s *Store) tableColumns(ctx context.Context) (map[string][]string, error) {
	var rows *sql.Rows
	var err error
	if s.Kind == Postgres {
		rows, err = s.R.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	} else {
		rows, err = s.R.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY m.name, p.cid`) // a contentless FTS5 table cannot be scanned; its shadow tables are read
	}
	if err != nil {
		return nil, fmt.Errorf("store: list tables: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("store: list tables: %w", err)
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}
