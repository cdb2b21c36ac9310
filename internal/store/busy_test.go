package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// IsBusy recognises what each engine answers when another session holds the
// lock a write needs (SQLite: a write transaction on another connection past
// busy_timeout; PostgreSQL: LOCK TABLE in another session past lock_timeout),
// and nothing else.
func TestIsBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if store.IsBusy(errors.New("database is busy")) || store.IsBusy(nil) || store.IsBusy(store.ErrNotFound) {
			t.Fatal("IsBusy matched an error that is not the engine's")
		}
		var holder, waiter *sql.DB
		var hold, write string
		if st.Kind == store.SQLite {
			var err error
			// Short busy timeouts: the production 10 s is not what is tested here.
			if holder, err = sql.Open("sqlite", "file:"+st.DSN+"?_pragma=busy_timeout(50)&_txlock=immediate"); err != nil {
				t.Fatal(err)
			}
			if waiter, err = sql.Open("sqlite", "file:"+st.DSN+"?_pragma=busy_timeout(50)&_txlock=immediate"); err != nil {
				t.Fatal(err)
			}
			hold, write = `INSERT INTO instance_flags (name, value, set_by, set_at) VALUES ('busy_test', '', '', '2026-01-01')`, `INSERT INTO instance_flags (name, value, set_by, set_at) VALUES ('busy_test2', '', '', '2026-01-01')`
		} else {
			holder, waiter = st.W, st.W
			hold, write = `LOCK TABLE instance_flags IN ACCESS EXCLUSIVE MODE`, `SET LOCAL lock_timeout = '50ms'; INSERT INTO instance_flags (name, value, set_by, set_at) VALUES ('busy_test2', '', '', now())`
		}
		tx, err := holder.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, hold); err != nil {
			t.Fatal(err)
		}
		var werr error
		wtx, err := waiter.BeginTx(ctx, nil)
		if err == nil {
			_, werr = wtx.ExecContext(ctx, write)
			_ = wtx.Rollback()
		} else {
			werr = err
		}
		if werr == nil || !store.IsBusy(werr) {
			t.Fatalf("write beside a held lock: %v (%T); want an error IsBusy recognises", werr, werr)
		}
		if st.Kind == store.SQLite {
			holder.Close()
			waiter.Close()
		}
	})
}
