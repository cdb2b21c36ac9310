package forecast_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
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

// seedBench writes the benchmark workspace: on PostgreSQL in four concurrent
// transactions (single-row inserts are round trips), on SQLite in one.
func seedBench(b *testing.B, ctx context.Context, st *store.Store) int64 {
	b.Helper()
	start := time.Now()
	w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
	var owners []int64
	err := st.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		var pools []int64
		for _, team := range []string{"enterprise", "mid_market", "smb"} {
			p := model.Pool{Name: team, Role: "ae", Team: team, Regions: []string{}, Industries: []string{}, Capacity: 1000}
			if err := q.CreatePool(ctx, w.ID, &p); err != nil {
				return err
			}
			pools = append(pools, p.ID)
		}
		for i := range 24 {
			u := model.User{Email: fmt.Sprintf("ae%d@bench.example", i), Name: fmt.Sprintf("AE %d", i)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, w.ID, u.ID, model.RoleAE); err != nil {
				return err
			}
			if err := q.SetPoolMember(ctx, w.ID, model.PoolMember{PoolID: pools[i%3], UserID: u.ID, Active: true, Regions: []string{}, Industries: []string{}}); err != nil {
				return err
			}
			owners = append(owners, u.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	pipes := pipeline.Defaults()
	parts := 1
	if st.Kind == store.Postgres {
		parts = 4
	}
	var wg sync.WaitGroup
	errs := make(chan error, parts)
	for part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.InTx(ctx, func(q store.Q) error {
				return seedPart(ctx, q, w.ID, owners, pipes, part, parts)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	if st.Kind == store.Postgres {
		// What autovacuum does to a table after a bulk load (statistics, the
		// visibility map index-only scans rely on); SQLite keeps no statistics
		// unless asked and the queries are written not to need them.
		if _, err := st.W.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d deals in %s", benchDeals, time.Since(start).Round(time.Millisecond))
	return w.ID
}

func seedPart(ctx context.Context, q store.Q, ws int64, owners []int64, pipes []model.PipelineDef, part, parts int) error {
	r := rand.New(rand.NewPCG(uint64(part), 42))
	now := store.Now()
	reasons := []string{"price", "competitor", "timing", "no budget", ""}
	for i := part; i < benchDeals; i += parts {
		p := pipes[0]
		if r.IntN(10) < 4 {
			p = pipes[1]
		}
		owner := owners[r.IntN(len(owners))]
		created := now.Add(-time.Duration(30+r.IntN(500)) * 24 * time.Hour)
		d := model.Deal{Name: fmt.Sprintf("Deal %06d", i), Amount: int64(100_00 + r.IntN(5_000_000_00)), Currency: "USD", Pipeline: p.Key,
			OwnerID: &owner, Custom: model.Custom{}, CreatedAt: created}
		last := len(p.Stages) - 1
		furthest := r.IntN(last) // open and lost deals stop before the last stage
		if r.IntN(10) < 4 {
			if r.IntN(10) < 7 {
				d.ExpectedCloseDate = now.AddDate(0, r.IntN(12)-2, r.IntN(28)).Format(time.DateOnly)
			}
		} else {
			// closed within the last year, after it was created
			age := now.Sub(created)
			closed := created.Add(time.Duration(r.Int64N(int64(age))))
			if now.Sub(closed) > 364*24*time.Hour {
				closed = now.Add(-time.Duration(r.IntN(364*24)) * time.Hour)
				created = closed.Add(-time.Duration(1+r.IntN(120)) * 24 * time.Hour)
				d.CreatedAt = created
			}
			d.ClosedAt = &closed
			switch x := r.IntN(20); {
			case x < 5:
				d.Outcome, furthest = "won", last
			case x < 16:
				d.Outcome, d.LossReason = "lost", reasons[r.IntN(len(reasons))]
			default:
				d.Outcome = "no_decision"
			}
		}
		d.Stage = p.Stages[furthest].Key
		if err := q.CreateDeal(ctx, ws, &d); err != nil {
			return err
		}
		for s := max(0, furthest-2); s <= furthest; s++ { // the last few stays
			if err := q.EnterStage(ctx, ws, d.ID, p.Key, p.Stages[s].Key, "bench", "", created.Add(time.Duration(s)*time.Hour)); err != nil {
				return err
			}
		}
		if i%2 == 0 {
			a := model.Activity{Kind: "call", Subject: "call", OccurredAt: created.Add(-48 * time.Hour), DurationMinutes: 30, OwnerID: &owner, DealID: &d.ID,
				Participants: []string{}, Custom: model.Custom{}}
			if err := q.CreateActivity(ctx, ws, &a); err != nil {
				return err
			}
		}
	}
	return nil
}
