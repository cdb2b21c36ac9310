package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsBusy reports whether err means the database could not take the request
// now but may a moment later: SQLite busy or locked (another connection held
// the write lock longer than busy_timeout, 10 s), PostgreSQL lock_not_available
// (lock_timeout), a serialization failure or a deadlock victim. HTTP answers
// it with 503 and Retry-After instead of a 500 (docs/reliability.md); nothing
// was written (the transaction rolled back).
func IsBusy(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "55P03", "40001", "40P01":
			return true
		}
	}
	return false
}
