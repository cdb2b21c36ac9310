package httpx_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/rightsize/rightsize/internal/httpx"
	_ "github.com/rightsize/rightsize/internal/store" // registers the sqlite driver
)

// A database that stays busy past its timeout is a 503 with Retry-After and
// the code database_busy, never a 500: nothing was written and the same
// request a moment later will do (docs/reliability.md). The error is a real
// SQLITE_BUSY from a second connection.
func TestBusyIs503WithRetryAfter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	holder, waiter := open(), open()
	if _, err := holder.Exec(`CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, busy := waiter.BeginTx(ctx, nil)
	if busy == nil {
		t.Fatal("a second writer got the lock")
	}
	busy = fmt.Errorf("store: begin: %w", busy)
	w := httptest.NewRecorder()
	httpx.Error(w, httptest.NewRequest("POST", "/api/v1/contacts", nil), busy)
	var p httpx.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if w.Code != 503 || p.Code != "database_busy" || w.Header().Get("Retry-After") != httpx.BusyRetryAfter {
		t.Fatalf("busy database: %d %s, Retry-After %q; want 503 database_busy with Retry-After", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
}
