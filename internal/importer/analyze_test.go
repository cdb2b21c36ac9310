package importer_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A large import refreshes PostgreSQL's statistics of the table it grows
// (after batches 1, 4, 16, … once 20,000 rows are in), so the batch lookups are
// planned for the table as it is; a small one leaves them to autovacuum.
func TestLargeImportAnalyzes(t *testing.T) {
	st := storetest.New(t, store.Postgres)
	ctx := context.Background()
	f := setup(t, st)
	f.svc.BatchSize = 5000
	analyzed := func() int64 {
		t.Helper()
		var n sql.NullInt64
		if err := st.R.QueryRowContext(ctx, `SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'contacts'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n.Int64
	}
	csv := func(from, n int) string {
		var b strings.Builder
		b.WriteString("email,first_name\n")
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "p%d@x.test,P%d\n", i, i)
		}
		return b.String()
	}
	before := analyzed()
	if im := f.run(t, "contacts", csv(0, 100), importer.Options{}); im.Accepted != 100 {
		t.Fatalf("small import: %+v", im)
	}
	if got := analyzed(); got != before {
		t.Fatalf("a 100-row import analysed contacts %d times", got-before)
	}
	// 20,000 rows in batches of 5,000: batch 4 reaches the threshold.
	if im := f.run(t, "contacts", csv(100, 20000), importer.Options{}); im.Accepted != 20000 {
		t.Fatalf("large import: %+v", im)
	}
	// pg_stat counters are reported asynchronously: read them fresh.
	if _, err := st.R.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		t.Fatal(err)
	}
	if got := analyzed(); got <= before {
		t.Fatalf("a 20,000-row import did not analyse contacts (count %d → %d)", before, got)
	}
}
