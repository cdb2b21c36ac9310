package forecast_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

const benchDeals = 100_000

// BenchmarkForecast computes the forecast (weighted pipeline by period, owner,
// team and motion; configured vs learned probabilities) and the pipeline
// report (win rates, cycle, velocity, loss reasons) of a workspace with
// 100,000 deals: 40 % open, 60 % closed over the last year (a quarter won),
// each with its stage history (about 2.5 stays a deal), an activity on half of
// them, 24 owners in 3 teams. cpu-ms/op is this process's CPU time (on
// PostgreSQL most of the work is the server's, not counted there). Run with
//
//	go test ./internal/forecast -run '^$' -bench Forecast -benchtime 5x
func BenchmarkForecast(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ctx := context.Background()
			ws := seedBench(b, ctx, st)
			now := store.Now()
			p := forecast.Params{To: now, From: now.AddDate(-1, 0, 0)}
			b.Run("forecast", func(b *testing.B) {
				defer reportCPU(b, cpuNow())
				for range b.N {
					f, err := forecast.Report(ctx, st, ws, p)
					if err != nil {
						b.Fatal(err)
					}
					if f.Total.Deals < benchDeals/3 {
						b.Fatalf("forecast saw %d deals", f.Total.Deals)
					}
				}
			})
			b.Run("pipeline", func(b *testing.B) {
				defer reportCPU(b, cpuNow())
				for range b.N {
					r, err := forecast.PipelineReport(ctx, st, ws, p)
					if err != nil {
						b.Fatal(err)
					}
					if r.Total.Won+r.Total.Lost+r.Total.NoDecision < benchDeals/2 {
						b.Fatalf("pipeline report saw %d won", r.Total.Won)
					}
				}
			})
		})
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the process CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// seedBench writes the benchmark workspace with the suite's generator
// (bench.SeedDeals, shared with `rightsize bench forecast`).
func seedBench(b *testing.B, ctx context.Context, st *store.Store) int64 {
	b.Helper()
	start := time.Now()
	w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		b.Fatal(err)
	}
	if _, err := bench.SeedDeals(ctx, st, w.ID, benchDeals); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d deals in %s", benchDeals, time.Since(start).Round(time.Millisecond))
	return w.ID
}
