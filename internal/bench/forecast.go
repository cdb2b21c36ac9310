package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/store"
)

// DealsSeeded is what SeedDeals wrote, for checking what a report saw.
type DealsSeeded struct {
	Deals      int
	Open       int64 // deals without an outcome
	OpenAmount int64 // their amounts, minor units (USD)
	Won        int64 // closed won within the last year
	WonAmount  int64
	Lost       int64 // closed lost
	NoDecision int64
}

func (d *DealsSeeded) add(o DealsSeeded) {
	d.Deals += o.Deals
	d.Open += o.Open
	d.OpenAmount += o.OpenAmount
	d.Won += o.Won
	d.WonAmount += o.WonAmount
	d.Lost += o.Lost
	d.NoDecision += o.NoDecision
}

// SeedDeals writes n deals into ws with the default pipelines (60 %
// high_touch, 40 % digital): 40 % open (most with an expected close date),
// 60 % closed over the last year — a quarter of those won, the rest lost or no
// decision — each with its last one to three stage stays, a call on half of
// them, 24 owners in three pool teams. On PostgreSQL the deals go in through
// four concurrent transactions (single-row inserts are round trips), on
// SQLite in one; then PostgreSQL gets VACUUM ANALYZE, as autovacuum would do
// after a bulk load. Deterministic for a given n and store.
func SeedDeals(ctx context.Context, st *store.Store, ws int64, n int) (DealsSeeded, error) {
	var owners []int64
	err := st.InTx(ctx, func(q store.Q) error {
		var pools []int64
		for _, team := range []string{"enterprise", "mid_market", "smb"} {
			p := model.Pool{Name: team, Role: "ae", Team: team, Regions: []string{}, Industries: []string{}, Capacity: 1000}
			if err := q.CreatePool(ctx, ws, &p); err != nil {
				return err
			}
			pools = append(pools, p.ID)
		}
		for i := range 24 {
			u := model.User{Email: fmt.Sprintf("ae%d-ws%d@bench.example", i, ws), Name: fmt.Sprintf("AE %d", i)}
			if err := q.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := q.SetMembership(ctx, ws, u.ID, model.RoleAE); err != nil {
				return err
			}
			if err := q.SetPoolMember(ctx, ws, model.PoolMember{PoolID: pools[i%3], UserID: u.ID, Active: true, Regions: []string{}, Industries: []string{}}); err != nil {
				return err
			}
			owners = append(owners, u.ID)
		}
		return nil
	})
	if err != nil {
		return DealsSeeded{}, fmt.Errorf("seed deals: owners: %w", err)
	}
	pipes := pipeline.Defaults()
	parts := 1
	if st.Kind == store.Postgres {
		parts = 4
	}
	now := store.Now()
	var wg sync.WaitGroup
	errs := make([]error, parts)
	got := make([]DealsSeeded, parts)
	for part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[part] = st.InTx(ctx, func(q store.Q) error {
				var err error
				got[part], err = seedDealsPart(ctx, q, ws, n, owners, pipes, part, parts, now)
				return err
			})
		}()
	}
	wg.Wait()
	var total DealsSeeded
	for part := range parts {
		if errs[part] != nil {
			return DealsSeeded{}, fmt.Errorf("seed deals: %w", errs[part])
		}
		total.add(got[part])
	}
	if st.Kind == store.Postgres {
		// The visibility map (index-only scans) and statistics autovacuum
		// would provide within a minute of a bulk load.
		if _, err := st.W.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return DealsSeeded{}, fmt.Errorf("seed deals: vacuum: %w", err)
		}
	}
	return total, nil
}

func seedDealsPart(ctx context.Context, q store.Q, ws int64, n int, owners []int64, pipes []model.PipelineDef, part, parts int, now time.Time) (DealsSeeded, error) {
	var s DealsSeeded
	r := rand.New(rand.NewPCG(uint64(part), 42))
	reasons := []string{"price", "competitor", "timing", "no budget", ""}
	for i := part; i < n; i += parts {
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
			s.Open++
			s.OpenAmount += d.Amount
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
				s.Won++
				s.WonAmount += d.Amount
			case x < 16:
				d.Outcome, d.LossReason = "lost", reasons[r.IntN(len(reasons))]
				s.Lost++
			default:
				d.Outcome = "no_decision"
				s.NoDecision++
			}
		}
		d.Stage = p.Stages[furthest].Key
		if err := q.CreateDeal(ctx, ws, &d); err != nil {
			return s, err
		}
		s.Deals++
		for st := max(0, furthest-2); st <= furthest; st++ { // the last few stays
			if err := q.EnterStage(ctx, ws, d.ID, p.Key, p.Stages[st].Key, "bench", "", created.Add(time.Duration(st)*time.Hour)); err != nil {
				return s, err
			}
		}
		if i%2 == 0 {
			a := model.Activity{Kind: "call", Subject: "call", OccurredAt: created.Add(-48 * time.Hour), DurationMinutes: 30, OwnerID: &owner, DealID: &d.ID,
				Participants: []string{}, Custom: model.Custom{}}
			if err := q.CreateActivity(ctx, ws, &a); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// runForecast: --rows deals (default 100,000; SeedDeals), then
// forecast.Report — the report behind GET /api/v1/forecast, the Forecast
// page and `rightsize report forecast` — over the last year, timed 5 times
// (target < 500 ms), and forecast.PipelineReport (win rates, cycle,
// velocity) 5 times. Both must see every deal the generator wrote.
func runForecast(ctx context.Context, o Options, r *Result) error {
	e, n, err := startApp(ctx, o, r, 100_000)
	if err != nil {
		return err
	}
	defer e.close(r)
	st, ws := e.App.St, e.WS.ID
	fmt.Fprintf(o.Out, "seeding %d deals…\n", n)
	t0 := time.Now()
	want, err := SeedDeals(ctx, st, ws, n)
	if err != nil {
		return err
	}
	r.add(plain("data generation (not timed)", time.Since(t0).Seconds(), "s"))
	now := store.Now()
	p := forecast.Params{To: now, From: now.AddDate(-1, 0, 0)}
	const runs = 5
	done := measure(o)
	pg := e.pgMeter(ctx)
	cpu0 := cpuTime()
	var worst, best time.Duration
	var f forecast.Forecast
	for i := range runs {
		t := time.Now()
		f, err = forecast.Report(ctx, st, ws, p)
		el := time.Since(t)
		if err != nil {
			done()
			return fmt.Errorf("forecast: %w", err)
		}
		worst = max(worst, el)
		if i == 0 || el < best {
			best = el
		}
	}
	cpuF := cpuTime() - cpu0
	var pworst time.Duration
	var pr forecast.Pipeline
	for range runs {
		t := time.Now()
		pr, err = forecast.PipelineReport(ctx, st, ws, p)
		if err != nil {
			done()
			return fmt.Errorf("pipeline report: %w", err)
		}
		pworst = max(pworst, time.Since(t))
	}
	done()
	pg.stop(ctx, r, "reports", 2*runs)
	// The forecast's total is the open pipeline plus what closed won in
	// the window.
	if f.Total.Deals != want.Open+want.Won || f.Total.Amount != want.OpenAmount+want.WonAmount {
		return fmt.Errorf("forecast: %d deals (%d), generated %d open and %d won (%d + %d)", f.Total.Deals, f.Total.Amount, want.Open, want.Won, want.OpenAmount, want.WonAmount)
	}
	var won int64
	for _, pp := range f.Probabilities {
		won += pp.Won
	}
	if won != want.Won {
		return fmt.Errorf("forecast: %d won deals in the year, generated %d", won, want.Won)
	}
	if pr.Total.Won != want.Won || pr.Total.Lost != want.Lost || pr.Total.NoDecision != want.NoDecision {
		return fmt.Errorf("pipeline report: won/lost/no decision %d/%d/%d, generated %d/%d/%d", pr.Total.Won, pr.Total.Lost, pr.Total.NoDecision, want.Won, want.Lost, want.NoDecision)
	}
	r.add(below("forecast.Report (worst of 5)", ms(worst), "ms", 500))
	r.add(plain("forecast.Report (best of 5)", ms(best), "ms"))
	r.add(plain("forecast.Report CPU of this process", ms(cpuF)/runs, "cpu-ms/report"))
	r.add(plain("PipelineReport (worst of 5)", ms(pworst), "ms"))
	r.add(plain("open deals in the forecast", float64(f.Total.Deals-won), ""))
	r.add(plain("closed deals in the year (won, lost, no decision)", float64(pr.Total.Won+pr.Total.Lost+pr.Total.NoDecision), ""))
	return nil
}
