// Package storetest gives tests a fresh, migrated store of each dialect. Each call
// makes its own SQLite file or PostgreSQL database, so parallel tests and parallel
// packages never see each other's rows.
//
// PostgreSQL is used when RIGHTSIZE_TEST_PG names a server URL (CI sets
// postgres://postgres@127.0.0.1:5432/postgres) or, when unset, when that default
// answers; RIGHTSIZE_TEST_PG=off disables it. When it is required (RIGHTSIZE_TEST_PG
// set) and cannot be reached, tests fail rather than skip.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rightsize/rightsize/internal/store"
)

const defaultPG = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce     sync.Once
	pgAdminURL string
	pgReason   string
	tmplMu     sync.Mutex
	tmplName   string
)

func pgURL() (string, string) {
	pgOnce.Do(func() {
		env := os.Getenv("RIGHTSIZE_TEST_PG")
		if env == "off" {
			pgReason = "RIGHTSIZE_TEST_PG=off"
			return
		}
		u := env
		if u == "" {
			u = defaultPG
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			if env != "" {
				pgReason = "REQUIRED:" + err.Error()
			} else {
				pgReason = fmt.Sprintf("no PostgreSQL at %s (%v); set RIGHTSIZE_TEST_PG to a server URL to run the PostgreSQL leg", defaultPG, err)
			}
			return
		}
		conn.Close(ctx)
		pgAdminURL = u
	})
	return pgAdminURL, pgReason
}

// Kinds lists the dialects available to this test run.
func Kinds(t testing.TB) []store.Kind {
	kinds := []store.Kind{store.SQLite}
	if u, _ := pgURL(); u != "" {
		kinds = append(kinds, store.Postgres)
	}
	return kinds
}

// Each runs fn as a subtest once per available dialect, each with a fresh store.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, New(t, store.SQLite)) })
	t.Run("postgres", func(t *testing.T) { fn(t, New(t, store.Postgres)) })
}

// New returns a fresh migrated store of kind, closed and dropped at cleanup. The
// PostgreSQL leg skips with the reason when no server is reachable, and fails if
// RIGHTSIZE_TEST_PG demanded one.
func New(t testing.TB, kind store.Kind) *store.Store {
	t.Helper()
	ctx := context.Background()
	if kind == store.SQLite {
		st, err := store.Open(ctx, NewSQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	dsn := NewPostgresDSN(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// NewSQLitePath returns the path of a fresh, migrated SQLite file in a
// directory removed at cleanup. The file is a copy of one migrated once per
// test process: running every migration (goose's and River's) for each of the
// suite's ~700 stores was a third of some packages' CPU.
func NewSQLitePath(t testing.TB) string {
	t.Helper()
	img, err := sqliteImage()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rightsize.db")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sqliteImage is the bytes of a migrated SQLite database, made once: migrated
// in a scratch directory, then written out whole with VACUUM INTO (one file,
// no WAL to carry along).
var sqliteImage = sync.OnceValues(func() ([]byte, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "rs-sqlite-tmpl-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "migrate.db"))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "image.db")
	if _, err := st.W.ExecContext(ctx, "VACUUM INTO '"+out+"'"); err != nil {
		return nil, fmt.Errorf("storetest: copy migrated database: %w", err)
	}
	return os.ReadFile(out)
})

// NewPostgresDSN creates a fresh migrated PostgreSQL database (cloned from a
// migrated template) and returns its URL; it is dropped at cleanup.
func NewPostgresDSN(t testing.TB) string {
	t.Helper()
	return newPostgresDB(t, true)
}

// NewEmptyPostgresDSN is NewPostgresDSN without the migrations: an empty
// database (dropped after the test), for tests of Migrate itself.
func NewEmptyPostgresDSN(t testing.TB) string {
	t.Helper()
	return newPostgresDB(t, false)
}

func newPostgresDB(t testing.TB, migrated bool) string {
	t.Helper()
	admin, reason := pgURL()
	if admin == "" {
		if len(reason) > 9 && reason[:9] == "REQUIRED:" {
			t.Fatalf("PostgreSQL required by RIGHTSIZE_TEST_PG but unreachable: %s", reason[9:])
		}
		t.Skip("PostgreSQL leg skipped: " + reason)
	}
	ctx := context.Background()
	create := "CREATE DATABASE %s"
	if migrated {
		tmpl, err := template(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		create += " TEMPLATE " + tmpl
	}
	name := "rs_test_" + randHex()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(create, name)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// A test database need not survive a server crash: commits that do not
	// wait for the WAL flush make write-heavy tests (the security matrix)
	// markedly cheaper on a busy machine, and change nothing they observe.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off"); err != nil {
		t.Fatalf("test database settings: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDB(admin, name)
}

func withDB(admin, name string) string {
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// template builds, once per test process, a migrated database to clone from.
func template(ctx context.Context, admin string) (string, error) {
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if tmplName != "" {
		return tmplName, nil
	}
	name := "rs_tmpl_" + randHex()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create template database: %w", err)
	}
	st, err := store.Open(ctx, withDB(admin, name))
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", err
	}
	tmplName = name
	registerTemplateDrop(admin, name)
	return name, nil
}

func randHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	dropMu    sync.Mutex
	dropNames []string
	dropAdmin string
)

func registerTemplateDrop(admin, name string) {
	dropMu.Lock()
	defer dropMu.Unlock()
	dropAdmin = admin
	dropNames = append(dropNames, name)
}

// Cleanup drops the template database; call it from TestMain after m.Run. Databases
// left behind by a killed run are named rs_tmpl_*/rs_test_* and are safe to drop.
func Cleanup() {
	dropMu.Lock()
	defer dropMu.Unlock()
	if dropAdmin == "" {
		return
	}
	c, err := pgx.Connect(context.Background(), dropAdmin)
	if err != nil {
		return
	}
	defer c.Close(context.Background())
	for _, n := range dropNames {
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
}
