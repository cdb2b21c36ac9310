package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// BookSeeded is what SeedBook wrote, for checking what the recompute saw.
type BookSeeded struct {
	Customers int
	Movements int
	// MRRAt is the book's MRR at the end of month (YYYY-MM): the signed sum
	// of the movements of that month and before.
	MRRAt func(month string) int64
}

// bookCells are the segment × motion cells the customers are spread over.
var bookCells = [][2]string{{"smb", "digital"}, {"smb", "high_touch"}, {"mid_market", "digital"}, {"mid_market", "high_touch"}, {"enterprise", "high_touch"}, {"smb", "digital"}}

// bookKinds are a customer's movements after its "new": expansions and
// contractions, a churn and a return.
var bookKinds = []string{"expansion", "contraction", "expansion", "churn", "reactivation", "expansion", "contraction", "expansion", "contraction"}

// SeedBook writes n customers into ws over five segment × motion cells,
// with ten MRR movements each across three years ending around last (a new,
// then expansions and contractions, a churn and a return) — the subscription
// events the metrics are computed from — each customer's current
// subscription, 15 months of spend in four categories, an allocation rule
// and four cost profiles with headcount; all in one transaction, in
// multi-row statements. Deterministic for a given n and last.
func SeedBook(ctx context.Context, st *store.Store, ws int64, n int, last time.Time) (BookSeeded, error) {
	type mv struct {
		month  string
		signed int64
	}
	var signed []mv
	err := st.InTx(ctx, func(q store.Q) error {
		as := make([]model.Account, n)
		for i := range as {
			c := bookCells[i%len(bookCells)]
			as[i] = model.Account{Name: fmt.Sprintf("Customer %d", i), Currency: "USD", Segment: c[0], Motion: c[1]}
		}
		ids, err := q.BulkAccounts(ctx, ws, as)
		if err != nil {
			return err
		}
		first := last.AddDate(0, -35, 0)
		ms := make([]model.MRRMovement, 0, 10*n)
		signed = make([]mv, 0, 10*n)
		subs := make([]model.Subscription, 0, n)
		for i, id := range ids {
			c := bookCells[i%len(bookCells)]
			mrr := int64(5_000 + (i*37)%95_000)
			at := first.AddDate(0, i%33, i%28)
			start := at.Format(time.DateOnly)
			add := func(kind string, amount int64) {
				d := at.Format(time.DateOnly)
				ms = append(ms, model.MRRMovement{AccountID: id, Date: d, Month: d[:7], Kind: kind, Amount: amount, Currency: "USD", Segment: c[0], Motion: c[1]})
				s := amount
				if kind == "contraction" || kind == "churn" {
					s = -amount
				}
				signed = append(signed, mv{d[:7], s})
				at = at.AddDate(0, 1+(i+len(ms))%2, 0)
			}
			add("new", mrr)
			for k, kind := range bookKinds {
				var amt int64
				switch kind {
				case "expansion":
					amt = mrr / 10
					mrr += amt
				case "contraction":
					amt = mrr / 20
					mrr -= amt
				case "churn":
					amt, mrr = mrr, 0
				case "reactivation":
					mrr = int64(4_000 + (i*k)%50_000)
					amt = mrr
				}
				add(kind, amt)
			}
			subs = append(subs, model.Subscription{AccountID: id, Plan: c[0], Quantity: 1, UnitPrice: mrr, Currency: "USD", Interval: "month", MRR: mrr,
				StartDate: start, TermMonths: 12, RenewalDate: at.Format(time.DateOnly)})
		}
		if err := q.BulkMovements(ctx, ws, ms); err != nil {
			return err
		}
		if err := q.BulkSubscriptions(ctx, ws, subs); err != nil {
			return err
		}
		rules, err := economics.ValidateRules([]economics.Rule{{Shares: []economics.RuleShare{
			{Segment: "smb", Motion: "digital", Share: 0.4}, {Segment: "smb", Motion: "high_touch", Share: 0.1}, {Segment: "mid_market", Motion: "digital", Share: 0.2},
			{Segment: "mid_market", Motion: "high_touch", Share: 0.1}, {Segment: "enterprise", Motion: "high_touch", Share: 0.2}}}})
		if err != nil {
			return err
		}
		if err := q.ReplaceAllocationRules(ctx, ws, rules); err != nil {
			return err
		}
		m := last.Format("2006-01")
		for k := range 15 {
			month := economics.AddMonths(m, -k)
			for j, cat := range []string{"programs", "tools", "partner_fees", "overhead"} {
				e := model.SpendEntry{Month: month, Amount: int64(10_000_000 * (j + 1)), Currency: "USD", Category: cat, Channel: "paid_search"}
				if err := q.CreateSpend(ctx, ws, &e); err != nil {
					return err
				}
			}
		}
		for _, role := range []string{"ldr", "ae", "manager", "csm"} {
			two := 2.0
			p := model.CostProfile{Name: role, Role: role, Currency: "USD", BaseSalary: 9_000_000, LoadedMultiplier: &two, TimeSplit: map[string]float64{"digital": 0.5, "high_touch": 0.5}}
			if err := q.CreateCostProfile(ctx, ws, &p); err != nil {
				return err
			}
			var hs []model.Headcount
			for k := range 15 {
				hs = append(hs, model.Headcount{ProfileID: p.ID, Month: economics.AddMonths(m, -k), Headcount: 10})
			}
			if err := q.SetHeadcount(ctx, ws, p.ID, hs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return BookSeeded{}, fmt.Errorf("seed book: %w", err)
	}
	if st.Kind == store.Postgres {
		if _, err := st.W.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return BookSeeded{}, fmt.Errorf("seed book: vacuum: %w", err)
		}
	}
	return BookSeeded{Customers: n, Movements: len(signed), MRRAt: func(month string) int64 {
		var sum int64
		for _, m := range signed {
			if m.month <= month {
				sum += m.signed
			}
		}
		return sum
	}}, nil
}

// runEconomics: --rows customers (default 100,000) with ten MRR movements
// each (1,000,000 subscription events; SeedBook), then the recompute behind
// `rightsize economics`, GET /api/v1/economics/metrics and the Economics
// page — economics.Service.Metrics over the last twelve months: MRR and its
// bridge, churn under every convention, NRR, GRR, quick ratio, magic number,
// CAC by period, cell and channel, every LTV variant, the matrix with its
// guardrails, cohorts, funnel economics, recommendations — timed 3 times
// (target < 2 s); and the whole `rightsize economics` report (inputs,
// metrics, staffing comparison) once. The MRR it reports must be the
// generator's.
func runEconomics(ctx context.Context, o Options, r *Result) error {
	e, n, err := startApp(ctx, o, r, 100_000)
	if err != nil {
		return err
	}
	defer e.close(r)
	st, ws, econ := e.App.St, e.WS.ID, e.App.Econ
	last := time.Now().UTC()
	fmt.Fprintf(o.Out, "seeding %d customers and %d MRR movements…\n", n, 10*n)
	t0 := time.Now()
	book, err := SeedBook(ctx, st, ws, n, last)
	if err != nil {
		return err
	}
	r.add(plain("data generation (not timed)", time.Since(t0).Seconds(), "s"))
	from, to, err := econ.Window("", "")
	if err != nil {
		return err
	}
	const runs = 3
	done := measure(o)
	pg := e.pgMeter(ctx)
	cpu0 := cpuTime()
	var worst, best time.Duration
	var m economics.Metrics
	for i := range runs {
		t := time.Now()
		m, err = econ.Metrics(ctx, ws, economics.MetricsParams{From: from, To: to})
		el := time.Since(t)
		if err != nil {
			done()
			return fmt.Errorf("economics metrics: %w", err)
		}
		worst = max(worst, el)
		if i == 0 || el < best {
			best = el
		}
	}
	cpuM := cpuTime() - cpu0
	t := time.Now()
	if _, err := econ.Inputs(ctx, ws, from, to); err != nil {
		done()
		return fmt.Errorf("economics inputs: %w", err)
	}
	if _, err := econ.Metrics(ctx, ws, economics.MetricsParams{From: from, To: to}); err != nil {
		done()
		return err
	}
	if _, err := e.App.Staffing.Comparison(ctx, ws); err != nil {
		done()
		return fmt.Errorf("staffing comparison: %w", err)
	}
	whole := time.Since(t)
	done()
	pg.stop(ctx, r, "recomputes", runs+1)
	if want := book.MRRAt(to); m.Summary.MRR != want {
		return fmt.Errorf("economics: MRR at %s is %d, the generated movements sum to %d", to, m.Summary.MRR, want)
	}
	if !m.MRR.Bridge.Holds || len(m.Matrix.Cells) == 0 || len(m.Cohorts.Rows) == 0 {
		return fmt.Errorf("economics: incomplete report (bridge holds %v, %d matrix cells, %d cohorts)", m.MRR.Bridge.Holds, len(m.Matrix.Cells), len(m.Cohorts.Rows))
	}
	r.add(below("recompute: economics.Service.Metrics (worst of 3)", worst.Seconds(), "s", 2))
	r.add(plain("recompute (best of 3)", best.Seconds(), "s"))
	r.add(plain("recompute CPU of this process", cpuM.Seconds()/runs, "cpu-s"))
	r.add(plain("`rightsize economics` report: inputs + metrics + staffing", whole.Seconds(), "s"))
	r.add(plain("customers", float64(book.Customers), ""))
	r.add(plain("subscription events (MRR movements)", float64(book.Movements), ""))
	r.add(plain("MRR at the end of the window", float64(m.Summary.MRR)/100, "USD"))
	return nil
}
