package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// InTxDeferSync commits like InTx (rolls back on error, statements kept
// prepared across transactions give the same rows) and relaxes the sync for
// its own transaction only: SQLite's write connection is back at FULL
// afterwards, after a failed transaction too, and on PostgreSQL the next
// transaction on the pool commits synchronously — so no other write (the
// send ledger) loses its fsync. SyncWAL then succeeds.
func TestInTxDeferSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if st.Kind == store.Postgres {
			// Test databases commit asynchronously (storetest); this test
			// needs the production default to see that SET LOCAL does not
			// leak, so it uses a database of its own set back to it.
			dsn := storetest.NewPostgresDSN(t)
			first, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			_, err = first.W.ExecContext(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$`)
			first.Close()
			if err != nil {
				t.Fatal(err)
			}
			if st, err = store.Open(ctx, dsn); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
		}
		w := model.Workspace{Name: "W", Slug: "w", Currency: "USD"}
		if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
			t.Fatal(err)
		}
		sync := func() int {
			t.Helper()
			if st.Kind != store.SQLite {
				// Every pooled connection: SET LOCAL ended with its transaction.
				conns := make([]*sql.Conn, 0, 8)
				defer func() {
					for _, c := range conns {
						c.Close()
					}
				}()
				for range 8 {
					c, err := st.W.Conn(ctx)
					if err != nil {
						t.Fatal(err)
					}
					conns = append(conns, c)
					var v string
					if err := c.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v); err != nil {
						t.Fatal(err)
					}
					if v != "on" {
						return 0
					}
				}
				return 2
			}
			var v int
			if err := st.W.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if got := sync(); got != 2 {
			t.Fatalf("synchronous %d before, want 2 (FULL)", got)
		}
		at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		want := 0
		// Sizes that cross the prepared statement sizes (1, 4, 16, 64, 256),
		// twice, so the second round runs prepared.
		for round := range 2 {
			for _, n := range []int{1, 3, 17, 70, 300} {
				evs := make([]*store.MailEvent, n)
				for i := range evs {
					evs[i] = &store.MailEvent{SendID: int64(1000*round + i), ContactID: 7, Kind: store.MailOpen, UserAgent: "ua", At: at}
				}
				if err := st.InTxDeferSync(ctx, func(q store.Q) error { return q.InsertMailEvents(ctx, w.ID, evs) }); err != nil {
					t.Fatal(err)
				}
				want += n
				if got := sync(); got != 2 {
					t.Fatalf("synchronous %d after a deferred-sync transaction, want 2 (FULL)", got)
				}
			}
		}
		boom := errors.New("boom")
		err := st.InTxDeferSync(ctx, func(q store.Q) error {
			if err := q.InsertMailEvents(ctx, w.ID, []*store.MailEvent{{SendID: 1, ContactID: 7, Kind: store.MailOpen, At: at}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("failed transaction: %v", err)
		}
		if got := sync(); got != 2 {
			t.Fatalf("synchronous %d after a failed transaction, want 2 (FULL)", got)
		}
		if err := st.SyncWAL(); err != nil {
			t.Fatal(err)
		}
		total, _, err := st.Read().CountMailEvents(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		if total != int64(want) {
			t.Fatalf("%d events stored, want %d (the failed transaction's rolled back)", total, want)
		}
		if !st.DeferSync() {
			t.Fatalf("DeferSync false on %s", st.Kind)
		}
	})
}

// InTxSharedSync: writers that commit while an fsync is under way share the
// next one. With the fsync held (a slow disk), eight writers commit and wait;
// once it is let go exactly one fsync covers all eight, every row is there,
// and a later commit gets an fsync of its own. PostgreSQL: plain InTx.
func TestInTxSharedSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		write := func(i int) error {
			return st.InTxSharedSync(ctx, func(q store.Q) error {
				w := model.Workspace{Name: "S", Slug: fmt.Sprintf("shared-%d", i), Currency: "USD"}
				return q.CreateWorkspace(ctx, &w)
			})
		}
		count := func() int {
			t.Helper()
			var n int
			if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM workspaces WHERE slug LIKE 'shared-%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if st.Kind == store.Postgres {
			if err := write(0); err != nil || count() != 1 {
				t.Fatalf("write: %v, %d rows", err, count())
			}
			return
		}
		if err := write(0); err != nil { // the WAL file exists from here on
			t.Fatal(err)
		}
		const writers = 8
		syncs0, committed0 := st.WALSyncs(), st.WALCommitted()
		release := st.HoldWALSync()
		errs := make(chan error, writers)
		for i := 1; i <= writers; i++ {
			go func() { errs <- write(i) }()
		}
		// Every writer has committed and now waits for an fsync.
		deadline := time.Now().Add(30 * time.Second)
		for st.WALCommitted() < committed0+writers {
			if time.Now().After(deadline) {
				release()
				t.Fatalf("%d of %d writers committed", st.WALCommitted()-committed0, writers)
			}
			runtime.Gosched()
		}
		select {
		case err := <-errs:
			release()
			t.Fatalf("a writer returned before its commit was synced: %v", err)
		default:
		}
		release()
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if got := st.WALSyncs() - syncs0; got != 1 {
			t.Errorf("%d fsyncs for %d writers waiting together, want 1", got, writers)
		}
		if n := count(); n != writers+1 {
			t.Errorf("%d rows, want %d", n, writers+1)
		}
		if err := write(writers + 1); err != nil {
			t.Fatal(err)
		}
		if got := st.WALSyncs() - syncs0; got != 2 {
			t.Errorf("a commit after the shared fsync: %d fsyncs in all, want 2", got)
		}
	})
}
