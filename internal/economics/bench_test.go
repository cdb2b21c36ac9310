package economics_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// benchCustomers is how many customers the recompute benchmark seeds, ten
// MRR movements each (RIGHTSIZE_BENCH_CUSTOMERS overrides; the issue's
// target is 100,000 customers and 1,000,000 movements).
var benchCustomers = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("RIGHTSIZE_BENCH_CUSTOMERS"), &n); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// seedBook writes a workspace with n customers and ten movements each, with
// the suite's generator (bench.SeedBook, shared with `rightsize bench
// economics`).
func seedBook(b *testing.B, st *store.Store, n int, last time.Time) int64 {
	b.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		b.Fatal(err)
	}
	if _, err := bench.SeedBook(ctx, st, w.ID, n, last); err != nil {
		b.Fatal(err)
	}
	return w.ID
}

// BenchmarkMetrics recomputes every metric (MRR and its bridge, churn under
// every convention, NRR, GRR, quick ratio, magic number, CAC by period,
// cell and channel, every LTV variant, the matrix, cohorts, funnel economics,
// recommendations) for a year over benchCustomers customers and ten times as
// many movements.
func BenchmarkMetrics(b *testing.B) {
	last := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			t0 := time.Now()
			ws := seedBook(b, st, benchCustomers, last)
			b.Logf("seeded %d customers, %d movements in %v", benchCustomers, 10*benchCustomers, time.Since(t0).Round(time.Second))
			svc := &economics.Service{St: st, Now: func() time.Time { return last }}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				m, err := svc.Metrics(ctx, ws, economics.MetricsParams{Period: "quarter"})
				if err != nil {
					b.Fatal(err)
				}
				if !m.MRR.Bridge.Holds || len(m.Matrix.Cells) != 6 || len(m.Cohorts.Rows) == 0 || m.Summary.CAC.FullyLoaded.Value == nil {
					b.Fatalf("report %+v", m.Summary)
				}
			}
		})
	}
}
