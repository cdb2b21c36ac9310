package economics_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

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

// seedBook writes n customers over six segment × motion cells with ten
// movements each across three years (new, then expansions and contractions,
// a churn and a return), a year of spend and four cost profiles with
// headcount, straight into the store.
func seedBook(b *testing.B, st *store.Store, n int, last time.Time) int64 {
	b.Helper()
	ctx := context.Background()
	var ws int64
	cells := [][2]string{{"smb", "digital"}, {"smb", "high_touch"}, {"mid_market", "digital"}, {"mid_market", "high_touch"}, {"enterprise", "high_touch"}, {"smb", "digital"}}
	err := st.InTx(ctx, func(q store.Q) error {
		w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		ws = w.ID
		as := make([]model.Account, n)
		for i := range as {
			c := cells[i%len(cells)]
			as[i] = model.Account{Name: fmt.Sprintf("Customer %d", i), Currency: "USD", Segment: c[0], Motion: c[1]}
		}
		ids, err := q.BulkAccounts(ctx, ws, as)
		if err != nil {
			return err
		}
		first := last.AddDate(0, -35, 0)
		ms := make([]model.MRRMovement, 0, 10*n)
		for i, id := range ids {
			c := cells[i%len(cells)]
			mrr := int64(5_000 + (i*37)%95_000)
			at := first.AddDate(0, i%33, i%28)
			add := func(kind string, amount int64) {
				d := at.Format(time.DateOnly)
				ms = append(ms, model.MRRMovement{AccountID: id, Date: d, Month: d[:7], Kind: kind, Amount: amount, Currency: "USD", Segment: c[0], Motion: c[1]})
				at = at.AddDate(0, 1+(i+len(ms))%2, 0)
			}
			add("new", mrr)
			for k, kind := range []string{"expansion", "contraction", "expansion", "churn", "reactivation", "expansion", "contraction", "expansion", "contraction"} {
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
		}
		if err := q.BulkMovements(ctx, ws, ms); err != nil {
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
		for k := 0; k < 15; k++ {
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
			for k := 0; k < 15; k++ {
				hs = append(hs, model.Headcount{ProfileID: p.ID, Month: economics.AddMonths(m, -k), Headcount: 10})
			}
			if err := q.SetHeadcount(ctx, ws, p.ID, hs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ws
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
