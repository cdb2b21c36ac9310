package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// DefaultDSN is the PostgreSQL server a run uses without --dsn: the test
// server's URL (RIGHTSIZE_TEST_PG) or the local default.
func DefaultDSN() string {
	if v := os.Getenv("RIGHTSIZE_TEST_PG"); v != "" && v != "off" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// env is a fresh database for one run, and the app on it.
type env struct {
	o   Options
	DB  string // SQLite path or PostgreSQL URL
	dir string
	pg  struct{ admin, name string }
	App *app.App
	WS  model.Workspace
}

// newDB makes a fresh, empty database: a SQLite file in a temporary directory,
// or a new database on the PostgreSQL server (dropped by close unless --keep).
func newDB(ctx context.Context, o Options) (*env, error) {
	e := &env{o: o}
	dir, err := os.MkdirTemp("", "rightsize-bench-")
	if err != nil {
		return nil, err
	}
	e.dir = dir
	if o.Store == "sqlite" {
		e.DB = filepath.Join(dir, "bench.db")
		return e, nil
	}
	admin := o.DSN
	if admin == "" {
		admin = DefaultDSN()
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "rs_bench_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("--dsn: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	e.DB, e.pg.admin, e.pg.name = u.String(), admin, name
	return e, nil
}

// openApp opens (and migrates) the app on the database without job workers,
// and creates the bench workspace.
// startApp sizes a workload (o.Rows, else def; recorded in r) and opens its
// database and app; the caller defers e.close(r).
func startApp(ctx context.Context, o Options, r *Result, def int) (*env, int, error) {
	n := o.Rows
	if n <= 0 {
		n = def
	}
	r.Size = n
	e, err := newDB(ctx, o)
	if err != nil {
		return nil, n, err
	}
	if err := e.openApp(ctx, ""); err != nil {
		e.close(r)
		return nil, n, err
	}
	return e, n, nil
}

func (e *env) openApp(ctx context.Context, baseURL string) error {
	return e.openAppWorkers(ctx, baseURL, false)
}

// openAppWorkers is openApp; with workers the app can work jobs once its
// River client is started (a role all node).
func (e *env) openAppWorkers(ctx context.Context, baseURL string, workers bool) error {
	cfg := config.Defaults()
	cfg.DB = e.DB
	cfg.BaseURL = baseURL
	if e.o.EarlyAck != nil {
		cfg.EngageEarlyAck = *e.o.EarlyAck
	}
	a, err := app.Open(ctx, cfg, e.o.Log, workers)
	if err != nil {
		return err
	}
	e.App = a
	e.WS = model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
	return a.St.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &e.WS) })
}

// close closes the app and removes the database unless it is kept.
func (e *env) close(r *Result) {
	if e.App != nil {
		e.App.Close()
	}
	if e.o.Keep {
		r.Database = e.DB
		return
	}
	if e.pg.name != "" {
		ctx := context.Background()
		if conn, err := pgx.Connect(ctx, e.pg.admin); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+e.pg.name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	}
	os.RemoveAll(e.dir)
}

// actor is what the bench's writes are recorded as.
func (e *env) actor() model.Actor {
	return model.Actor{Workspace: e.WS.ID, Label: "bench", Role: model.RoleAdmin}
}
