package store_test

import (
	"context"
	"database/sql"
	"errors"
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
