// Package store owns every SQL statement Rightsize runs. It opens either an embedded
// SQLite file or a PostgreSQL database behind one API, applies the per-dialect
// migrations, and scopes every record query by workspace: there is no method that
// reads a record across workspaces except those whose names say so (Admin*).
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrationsFS embed.FS

// Kind names the database engine behind a Store.
type Kind string

const (
	SQLite   Kind = "sqlite"
	Postgres Kind = "postgres"
)

// ErrNotFound is returned for a missing record and, deliberately, for a record that
// belongs to another workspace: callers cannot tell the two apart.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a unique key (email, domain, external id) is taken.
var ErrConflict = errors.New("conflict")

// Store is an open database. W is the write handle (one connection on SQLite, so
// writers queue in-process instead of failing with SQLITE_BUSY); R is the read pool.
type Store struct {
	Kind Kind
	W    *sql.DB
	R    *sql.DB
	DSN  string
	pool *pgxpool.Pool // PostgreSQL only: River's LISTEN/NOTIFY connection
	wal  walSyncer     // SQLite only: SyncWAL's handle on the WAL file
	// stmts keeps statements of SQLite write transactions prepared across
	// them (see stmtCache).
	stmts stmtCache
}

// Open connects to dsn: a postgres:// URL, or a SQLite file path (optionally
// prefixed with sqlite:). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
}

// sqlitePragmas: busy_timeout first so the other pragmas wait for a lock too; WAL lets
// readers run beside the writer; synchronous=FULL so an acknowledged write survives a
// power cut (see docs/store.md); immediate transactions so a read-then-write
// transaction takes the write lock up front instead of failing on upgrade;
// temp_store=MEMORY keeps the statement journals of multi-row writes (and sort
// scratch) in memory instead of a temporary file written with a syscall per
// page (docs/benchmarks.md, open pixel).
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_time_format=sqlite"

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+sqlitePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite reader %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	return &Store{Kind: SQLite, W: w, R: r, DSN: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres dsn: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	// pgx prepares and caches statements; after five runs PostgreSQL may switch a
	// cached statement to a generic plan chosen from stale statistics (e.g. a
	// sequential scan picked while a table was empty), which turns batch lookups
	// during a large import quadratic. Custom plans cost little here.
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres %s: %w", redact(dsn), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &Store{Kind: Postgres, W: db, R: db, DSN: dsn, pool: pool}, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// Close releases every connection.
func (s *Store) Close() error {
	var errs []error
	errs = append(errs, s.W.Close())
	if s.R != s.W {
		errs = append(errs, s.R.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	s.stmts.close()
	s.wal.mu.Lock()
	if s.wal.f != nil {
		s.wal.f.Close()
		s.wal.f = nil
	}
	s.wal.mu.Unlock()
	return errors.Join(errs...)
}

// RiverDriver returns the River driver for this store. Both dialects use *sql.Tx so
// jobs are inserted in the same transaction as the change that causes them.
func (s *Store) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if s.Kind == Postgres {
		return riverdatabasesql.NewWithPgxListener(s.W, s.pool)
	}
	return riversqlite.New(s.W)
}

// Migrate applies the schema migrations of this dialect and River's own.
func (s *Store) Migrate(ctx context.Context) error {
	if s.Kind == Postgres {
		// Nodes started together (docs/scaling.md) migrate one at a time: the
		// first applies what is missing, the others wait on this lock and then
		// find nothing to do. A session lock on a connection of its own; a
		// process that dies drops it with its connection.
		conn, err := s.W.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		}()
	}
	sub, err := fs.Sub(migrationsFS, "migrations/"+string(s.Kind))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	dialect := goose.DialectSQLite3
	if s.Kind == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, s.W, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate %s: %w", s.Kind, err)
	}
	m, err := rivermigrate.New(s.RiverDriver(), nil)
	if err != nil {
		return fmt.Errorf("store: river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("store: river migrate: %w", err)
	}
	return nil
}

// migrationLockKey is the PostgreSQL advisory lock Migrate holds (an
// arbitrary constant: "rightsiz" in ASCII).
const migrationLockKey int64 = 0x7269676874736971

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.R.PingContext(ctx) }

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Q runs statements on the read pool or inside a write transaction. Every method
// that touches a workspace's records takes the workspace id first.
type Q struct {
	db   execer
	tx   *sql.Tx
	conn *sql.Conn // PostgreSQL transactions: the connection, for COPY
	kind Kind
	// scope confines record reads (Scoped); zero: the whole workspace.
	scope Scope
	// stmts, when set (SQLite write transactions), serves prepared
	// statements that outlive the transaction.
	stmts *stmtCache
}

// Read returns a Q on the read pool. Writing through it fails on SQLite.
func (s *Store) Read() Q { return Q{db: s.R, kind: s.Kind} }

// Tx exposes the transaction so jobs can be enqueued in it; nil outside InTx.
func (q Q) Tx() *sql.Tx { return q.tx }

// Kind tells which dialect q speaks.
func (q Q) Kind() Kind { return q.kind }

// InTx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(q Q) error) error {
	var conn *sql.Conn
	var tx *sql.Tx
	var err error
	if s.Kind == Postgres {
		// A dedicated connection lets bulk writes reach pgx's COPY inside the
		// transaction (see InsertContacts).
		if conn, err = s.W.Conn(ctx); err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		defer conn.Close()
		tx, err = conn.BeginTx(ctx, nil)
	} else {
		// Statements noted by earlier transactions (Q.exec, Q.query) are
		// prepared while the connection is free (see stmtCache).
		s.stmts.prepareWanted(ctx, s.W)
		tx, err = s.W.BeginTx(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	q := Q{db: tx, tx: tx, conn: conn, kind: s.Kind}
	if s.Kind == SQLite {
		q.stmts = &s.stmts
	}
	if err := fn(q); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := markIdemEffect(ctx, q); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Now is the store's clock: UTC, truncated to microseconds so both dialects keep the
// same value.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
