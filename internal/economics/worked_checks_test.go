package economics_test

import (
	"fmt"
	"testing"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
)

// PRODUCT.md §6's worked checks again, this time through the whole report:
// each check's inputs are made as customers, movements and spend, and the
// figure is read from what ComputeMetrics answers (formulas_test.go checks
// the formulas alone). MRR 12,500 from 100 monthly and 50 annual
// subscriptions is TestProductMRRCase in internal/subscriptions; win rate
// and velocity are TestWorkedCheck in internal/forecast; the loaded cost of
// 164,180 goes through a cost profile in the API test.

func report(from, to string, ms []mv, spend []model.SpendEntry, tweak func(*economics.MetricsInput)) economics.Metrics {
	in := economics.MetricsInput{
		Params:   economics.MetricsParams{From: from, To: to, Period: "month", Churn: economics.ChurnStart, LTV: economics.LTVSimpleGM, CAC: economics.CACBlended, Currency: "JPY"},
		Settings: economics.Settings{GrossMargin: 0.8, DiscountRate: 0.01, LifetimeCapMonths: 60, LTVCACTarget: 3, PaybackTargetMonths: map[string]float64{}, PaidChannels: []string{"paid_search"}, WorkingHoursPerYear: 1800},
		Cube:     buildCube(to, ms),
		Spend:    spend,
	}
	if tweak != nil {
		tweak(&in)
	}
	return economics.ComputeMetrics(in)
}

// book makes n customers of mrr each, acquired in month, in SMB digital;
// the first churned of them churn in churnMonth.
func book(n int, mrr int64, month string, churned int, churnMonth string) []mv {
	var ms []mv
	for i := 1; i <= n; i++ {
		ms = append(ms, mv{int64(i), month, "new", mrr, "smb", "digital", "referral", false})
	}
	for i := 1; i <= churned; i++ {
		ms = append(ms, mv{int64(i), churnMonth, "churn", mrr, "smb", "digital", "", false})
	}
	return ms
}

func TestWorkedChecksThroughReport(t *testing.T) {
	// ARPA 100, monthly churn 5 %, revenue LTV → 2,000: 20 customers, one churns.
	m := report("2026-03", "2026-03", book(20, 100, "2026-01", 1, "2026-03"), nil, nil)
	val(t, "ARPA", m.Summary.ARPA, 100)
	val(t, "churn", m.Summary.LogoChurn.Monthly, 0.05)
	val(t, "revenue LTV", ltvOf(m.Summary.LTV, "revenue").Value, 2000)

	// ARPA 100, GM 80 %, churn 2 % → lifetime 50 months, simple_gm 4,000; and
	// discounted at d 1 % (payment at t = 0) → 2,693.33.
	m = report("2026-03", "2026-03", book(50, 100, "2026-01", 1, "2026-03"), nil, nil)
	l := m.Summary.Headline
	val(t, "lifetime", l.LifetimeMonths, 50)
	val(t, "simple_gm LTV", l.Value, 4000)
	if d := ltvOf(m.Summary.LTV, "discounted"); d.Value == nil || fmt.Sprintf("%.2f", *d.Value) != "2693.33" {
		t.Errorf("discounted LTV %v", d.Value)
	}

	// ARPU 40, GM 75 %, churn 4 % → 750.
	m = report("2026-03", "2026-03", book(25, 40, "2026-01", 1, "2026-03"), nil, func(in *economics.MetricsInput) { in.Settings.GrossMargin = 0.75 })
	val(t, "simple_gm LTV (ARPU 40)", m.Summary.Headline.Value, 750)

	// Start MRR 100; churn 10, contraction 10, expansion 10 → gross 20 %, net
	// 10 %; then new + expansion 24k against contraction + churn 4k → quick
	// ratio 6 (and the PRODUCT.md pairs 30k/10k, 40k/20k → 3, 2 below).
	mix := []mv{
		{1, "2026-01", "new", 60, "smb", "digital", "", false},
		{2, "2026-01", "new", 30, "smb", "digital", "", false},
		{3, "2026-01", "new", 10, "smb", "digital", "", false},
		{3, "2026-03", "churn", 10, "smb", "digital", "", false},
		{1, "2026-03", "contraction", 10, "smb", "digital", "", false},
		{2, "2026-03", "expansion", 10, "smb", "digital", "", false},
		{4, "2026-04", "new", 12000, "enterprise", "high_touch", "", false},
		{5, "2026-04", "new", 8000, "enterprise", "high_touch", "", false},
		{2, "2026-04", "expansion", 4000, "smb", "digital", "", false},
		{1, "2026-04", "contraction", 10, "smb", "digital", "", false},
		{4, "2026-04", "contraction", 990, "enterprise", "high_touch", "", false},
		{5, "2026-04", "churn", 3000, "enterprise", "high_touch", "", false},
	}
	m = report("2026-03", "2026-04", mix, nil, nil)
	march, april := m.Periods[0], m.Periods[1]
	val(t, "gross MRR churn", march.GrossMRRChurn, 0.20)
	val(t, "net MRR churn", march.NetMRRChurn, 0.10)
	val(t, "quick ratio 24k/4k", april.QuickRatio, 6)
	for _, q := range []struct {
		grow, lose int64
		want       float64
	}{{30000, 10000, 3}, {40000, 20000, 2}} {
		ms := []mv{{1, "2026-01", "new", 100000, "smb", "digital", "", false}, {2, "2026-02", "new", q.grow, "smb", "digital", "", false}, {1, "2026-02", "contraction", q.lose, "smb", "digital", "", false}}
		val(t, fmt.Sprintf("quick ratio %d/%d", q.grow, q.lose), report("2026-02", "2026-02", ms, nil, nil).Summary.QuickRatio, q.want)
	}

	// Spend 1,000; 20 new customers, 5 from paid channels → blended 50, paid 200.
	var twenty []mv
	for i := 1; i <= 20; i++ {
		twenty = append(twenty, mv{int64(i), "2026-05", "new", 100, "smb", "digital", "referral", i <= 5})
	}
	m = report("2026-05", "2026-05", twenty, []model.SpendEntry{{Month: "2026-05", Amount: 1000, Currency: "JPY", Category: "programs", Channel: "paid_search", Segment: "smb", Motion: "digital"}}, nil)
	val(t, "blended CAC", m.Summary.CAC.Blended.Value, 50)
	val(t, "paid CAC", m.Summary.CAC.Paid.Value, 200)

	// CAC 900, ARPA 150, GM 80 % → payback 7.5 months (the matrix cell).
	m = report("2026-05", "2026-05", []mv{{1, "2026-05", "new", 150, "smb", "digital", "", false}},
		[]model.SpendEntry{{Month: "2026-05", Amount: 900, Currency: "JPY", Category: "programs", Segment: "smb", Motion: "digital"}}, nil)
	sd := cellOf(t, m, "smb", "digital")
	val(t, "CAC", sd.CACUsed, 900)
	val(t, "payback", sd.PaybackMonths, 7.5)

	// Prior-quarter recurring revenue 100,000 → 130,000 with prior-quarter
	// S&M 120,000 → magic number 1.00: end-of-month MRR 30k, 30k, 40k in Q4
	// and 40k, 40k, 50k in Q1.
	q := []mv{
		{1, "2025-10", "new", 30000, "smb", "digital", "", false},
		{1, "2025-12", "expansion", 10000, "smb", "digital", "", false},
		{2, "2026-03", "new", 10000, "smb", "digital", "", false},
	}
	var sm []model.SpendEntry
	for _, month := range []string{"2025-10", "2025-11", "2025-12"} {
		sm = append(sm, model.SpendEntry{Month: month, Amount: 40000, Currency: "JPY", Category: "programs", Segment: "smb", Motion: "digital"})
	}
	m = report("2026-01", "2026-03", q, sm, nil)
	if m.Summary.MagicQuarter != "2026-Q1" {
		t.Fatalf("magic quarter %q", m.Summary.MagicQuarter)
	}
	val(t, "magic number", m.Summary.MagicNumber, 1.0)
}
