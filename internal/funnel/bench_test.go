package funnel

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// benchContacts is how many contacts BenchmarkReport seeds over three years
// (RIGHTSIZE_BENCH_FUNNEL_CONTACTS overrides).
var benchContacts = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("RIGHTSIZE_BENCH_FUNNEL_CONTACTS"), &n); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// BenchmarkReport computes the funnel by motion over benchContacts contacts
// created across three years, with about two stage changes and two other
// updates each, for the dashboard's 90-day window and the staffing plan's
// 365-day one ending on the last day of data. cpu-ms/op is this process's CPU
// time (on PostgreSQL most of the work is the server's, not counted there). Run
// with
//
//	go test ./internal/funnel -run '^$' -bench Report -benchtime 5x
func BenchmarkReport(b *testing.B) {
	last := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			t0 := time.Now()
			w, err := generate(ctx, st, "bench", benchContacts, 1, last, 3*365*24*time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			if kind == store.Postgres {
				// What autovacuum would have done to a table this size.
				if err := st.Analyze(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("seeded %d contacts, %d history entries in %v", len(w.contacts), len(w.history), time.Since(t0).Round(time.Second))
			for _, days := range []int{90, 365} {
				b.Run(fmt.Sprintf("%dd", days), func(b *testing.B) {
					p := Params{From: last.AddDate(0, 0, -days), To: last.AddDate(0, 0, -1), By: "motion"}
					defer reportCPU(b, cpuNow())
					for range b.N {
						r, err := Report(ctx, st, w.ws, p)
						if err != nil {
							b.Fatal(err)
						}
						if r.Total.Stages[0].Reached == 0 || r.Total.Stages[4].Reached == 0 {
							b.Fatalf("empty funnel: %+v", r.Total)
						}
					}
				})
			}
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
