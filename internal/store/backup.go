package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// SchemaVersion is the newest migration this binary carries for kind (the
// goose version a fully migrated database reports).
func SchemaVersion(kind Kind) (int64, error) {
	entries, err := fs.ReadDir(migrationsFS, "migrations/"+string(kind))
	if err != nil {
		return 0, err
	}
	var max int64
	for _, e := range entries {
		num, _, ok := strings.Cut(path.Base(e.Name()), "_")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err == nil && n > max {
			max = n
		}
	}
	return max, nil
}

// AppliedVersion is the newest migration applied to the open database (0 for
// an empty one).
func (s *Store) AppliedVersion(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := s.R.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
	if err != nil {
		if strings.Contains(err.Error(), "goose_db_version") {
			return 0, nil
		}
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v.Int64, nil
}

// VacuumInto writes a consistent copy of a SQLite database to dest (which
// must not exist) with VACUUM INTO: a snapshot taken inside one read
// transaction, so writers carry on meanwhile and the copy is compacted.
func (s *Store) VacuumInto(ctx context.Context, dest string) error {
	if s.Kind != SQLite {
		return errors.New("store: VACUUM INTO is SQLite only")
	}
	if _, err := s.W.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return fmt.Errorf("store: vacuum into %s: %w", dest, err)
	}
	return nil
}

// IntegrityCheck runs SQLite's integrity_check and returns its first
// complaint ("" when the file is sound).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.Kind != SQLite {
		return "", nil
	}
	var res string
	if err := s.R.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	if res == "ok" {
		return "", nil
	}
	return res, nil
}

// HasTable reports whether the database has table name (a Rightsize schema
// has workspaces).
func (s *Store) HasTable(ctx context.Context, name string) (bool, error) {
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=$1`
	if s.Kind == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=current_schema() AND table_name=$1`
	}
	if err := s.R.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, fmt.Errorf("store: has table: %w", err)
	}
	return n > 0, nil
}
