package economics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The matrix colouring: green at or past both targets, amber within 20 % on
// the wrong side of either, red beyond; no LTV:CAC is no_data.
func TestGrade(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		ratio, payback, target *float64
		want                   string
	}{
		{p(3), p(12), p(12), economics.StatusGreen},           // both exactly on target
		{p(4.5), p(3), nil, economics.StatusGreen},            // no payback target
		{p(2.4), p(12), p(12), economics.StatusAmber},         // 3 × 0.8 = 2.4: still amber
		{p(2.399), p(12), p(12), economics.StatusRed},         // just below the band
		{p(3.5), p(14.4), p(12), economics.StatusAmber},       // 12 × 1.2 = 14.4: still amber
		{p(3.5), p(14.41), p(12), economics.StatusRed},        // over the band
		{p(2.7), p(13), p(12), economics.StatusAmber},         // amber on both
		{p(2.7), p(20), p(12), economics.StatusRed},           // the worse wins
		{nil, p(1), p(12), economics.StatusNoData},            // no LTV:CAC
		{p(10), nil, p(12), economics.StatusGreen},            // no payback (no ARPA): judged on LTV:CAC
		{p(1.0), p(1), p(12), economics.StatusRed},            // LTV:CAC 1 is red whatever the payback
		{p(3.0000001), p(11.9), p(12), economics.StatusGreen}, // on the right side of both
	} {
		got, reasons := economics.Grade(c.ratio, c.payback, c.target, 3)
		if got != c.want || len(reasons) == 0 {
			t.Errorf("Grade(%v, %v, %v) = %s %v, want %s", deref(c.ratio), deref(c.payback), deref(c.target), got, reasons, c.want)
		}
	}
	_, reasons := economics.Grade(p(2.5), p(13), p(12), 3)
	if !strings.Contains(strings.Join(reasons, "; "), "LTV:CAC 2.5 is below the target 3 but within 20 % (amber down to 2.4)") {
		t.Errorf("reasons %v", reasons)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The LTV divides by the churn of the chosen convention.
func TestLTVFollowsChurnConvention(t *testing.T) {
	for conv, churn := range map[string]float64{economics.ChurnStart: 1.0 / 8, economics.ChurnStartPlusNew: 1.0 / 11, economics.ChurnExposure: 1.0 / 9} {
		in := workedInput()
		in.Params.Churn = conv
		m := economics.ComputeMetrics(in)
		if m.Summary.LogoChurn.Convention != conv {
			t.Errorf("%s: convention %q", conv, m.Summary.LogoChurn.Convention)
		}
		// ARPA 182 × 0.8 ÷ churn.
		val(t, conv+" simple_gm", m.Summary.Headline.Value, 182*0.8/churn)
		val(t, conv+" revenue", ltvOf(m.Summary.LTV, "revenue").Value, 182/churn)
		if !strings.Contains(m.Summary.Headline.Convention, "ARPA × gross margin 80.0 %") {
			t.Errorf("%s: headline convention %q", conv, m.Summary.Headline.Convention)
		}
	}
	// The headline variant is the one asked for, and every variant is named.
	in := workedInput()
	in.Params.LTV = economics.LTVDiscounted
	m := economics.ComputeMetrics(in)
	if m.Summary.Headline.Variant != "discounted" || len(m.Summary.LTV) != 5 {
		t.Fatalf("headline %+v", m.Summary.Headline)
	}
	for i, v := range []string{"simple_gm", "revenue", "ecom", "discounted", "cohort"} {
		if m.Summary.LTV[i].Variant != v || m.Summary.LTV[i].Convention == "" {
			t.Errorf("LTV %d: %+v", i, m.Summary.LTV[i])
		}
	}
	val(t, "discounted", m.Summary.Headline.Value, 182*0.8*1.01/(0.01+0.125))
}

// ecom LTV from the subscriptions active at the end: an annual charge of
// 1,200 (MRR 100) and a monthly 50 for one customer, a monthly 100 for
// another: AOV (1,200 + 50 + 100) ÷ 3 = 450, orders per customer-month
// (1/12 + 1 + 1) ÷ 2 customers; × GM 0.8 × lifetime 8 (churn 1/8).
func TestEcomLTV(t *testing.T) {
	in := workedInput()
	in.Subs = []store.ActiveSubscription{
		{AccountID: 2, Plan: "pro", Interval: "year", Currency: "JPY", MRR: 100},
		{AccountID: 2, Plan: "addon", Interval: "month", Currency: "JPY", MRR: 50},
		{AccountID: 3, Plan: "pro", Interval: "month", Currency: "JPY", MRR: 100},
	}
	m := economics.ComputeMetrics(in)
	val(t, "ecom", ltvOf(m.Summary.LTV, "ecom").Value, 450*((1.0/12+2)/2)*0.8*8)
	// With plan margins the margin is MRR-weighted: pro 90 %, addon the workspace's 80 %:
	// (200 × 0.9 + 50 × 0.8) ÷ 250 = 0.88.
	in.Settings.PlanMargins = map[string]float64{"pro": 0.9}
	m = economics.ComputeMetrics(in)
	if math.Abs(m.Summary.GrossMargin-0.88) > 1e-12 {
		t.Errorf("weighted margin %v", m.Summary.GrossMargin)
	}
	if sd := cellOf(t, m, "smb", "digital"); math.Abs(sd.GrossMargin-0.88) > 1e-12 || sd.MarginSource == "workspace" {
		t.Errorf("cell margin %v %s", sd.GrossMargin, sd.MarginSource)
	}
}

// Recommendation rules on a hand-made matrix: route (another motion meets
// the target), payback (on target but slow), and no rule for a healthy cell.
func TestRecommendRules(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	m := economics.Metrics{Currency: "USD", Settings: economics.Settings{LifetimeCapMonths: 60}, Matrix: economics.Matrix{CAC: "fully_loaded", LTV: "simple_gm", Target: 3, Cells: []economics.CellMetrics{
		// SMB via high touch: CAC 9,400 vs LTV 6,300 → max affordable 2,100; digital meets 3:1.
		{Segment: "smb", Motion: "high_touch", NewCustomers: 12, FullyLoadedCost: 11_280_000, CACUsed: p(940_000), LTVUsed: p(630_000), MaxAffordableCAC: p(210_000), LTVToCAC: p(630_000.0 / 940_000), Status: economics.StatusRed},
		{Segment: "smb", Motion: "digital", NewCustomers: 100, FullyLoadedCost: 15_000_000, CACUsed: p(150_000), LTVUsed: p(630_000), MaxAffordableCAC: p(210_000), LTVToCAC: p(4.2), Status: economics.StatusGreen},
		// Mid-market via digital: LTV:CAC 4, payback 20 months vs 18.
		{Segment: "mid_market", Motion: "digital", NewCustomers: 10, FullyLoadedCost: 10_000_000, CACUsed: p(1_000_000), LTVUsed: p(4_000_000), MaxAffordableCAC: p(4_000_000.0 / 3), LTVToCAC: p(4),
			ARPA: p(62_500), GrossMargin: 0.8, PaybackMonths: p(20), PaybackTarget: p(18), Status: economics.StatusAmber},
	}}}
	rs := economics.Recommend(m, nil)
	if len(rs) != 2 {
		t.Fatalf("recommendations %+v", rs)
	}
	if rs[0].Rule != economics.RuleRoute || rs[0].Severity != "high" || rs[0].Text != "SMB via high_touch: CAC 9,400 USD vs max affordable 2,100 USD → route SMB to digital" {
		t.Errorf("route %+v", rs[0])
	}
	if !strings.Contains(rs[0].Arithmetic, "CAC 9,400 USD = fully loaded cost 112,800 USD ÷ 12 new customers") || !strings.Contains(rs[0].Arithmetic, "via digital the same segment has LTV:CAC 4.2") {
		t.Errorf("route arithmetic %q", rs[0].Arithmetic)
	}
	// CAC for 18 months = 18 × 625 × 0.8 = 9,000: ARPA up by 20/18 − 1 = 11 %.
	if rs[1].Rule != economics.RulePayback || rs[1].Text != "mid-market via digital: payback 20.0 months vs target 18 → CAC must fall to 9,000 USD (or ARPA rise by 11 %) to pay back in time" {
		t.Errorf("payback %+v", rs[1])
	}
	// The outsourcing rule needs 10 %: 400 vs 365 (8.75 % less) does not fire.
	rs = economics.Recommend(economics.Metrics{Currency: "USD"}, []economics.ScenarioCost{
		{Name: "In", Kind: "in_house", Currency: "USD", CostPerSQL: p(40_000)}, {Name: "Out", Kind: "partner", Currency: "USD", CostPerSQL: p(36_500)}})
	if len(rs) != 0 {
		t.Errorf("outsourcing under the threshold: %+v", rs)
	}
}

// randomWorld makes a random book of customers and spend where every cell
// with spend has new customers in the window and every entry is attributed
// explicitly, and people cost goes to motions with new customers.
func randomWorld(r *rand.Rand) economics.MetricsInput {
	segs, mots := []string{"smb", "mid_market", "enterprise"}, []string{"digital", "high_touch"}
	months := []string{"2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"}
	var ms []mv
	acct := int64(0)
	type cellKey struct{ s, m string }
	newIn := map[cellKey]bool{}
	for n := 20 + r.IntN(60); n > 0; n-- {
		acct++
		seg, mot := segs[r.IntN(3)], mots[r.IntN(2)]
		start := r.IntN(len(months))
		mrr := int64(100 + r.IntN(900))
		ms = append(ms, mv{acct, months[start], "new", mrr, seg, mot, "x", r.IntN(3) == 0})
		if start >= 3 {
			newIn[cellKey{seg, mot}] = true
		}
		active := true
		for i := start + 1; i < len(months); i++ {
			switch k := r.IntN(6); {
			case k == 0 && active:
				ms = append(ms, mv{acct, months[i], "churn", mrr, seg, mot, "", false})
				active = false
			case k == 1 && !active:
				mrr = int64(50 + r.IntN(500))
				ms = append(ms, mv{acct, months[i], "reactivation", mrr, seg, mot, "", false})
				active = true
			case k == 2 && active:
				d := int64(1 + r.IntN(100))
				mrr += d
				ms = append(ms, mv{acct, months[i], "expansion", d, seg, mot, "", false})
			}
		}
	}
	in := workedInput()
	in.Cube = buildCube("2026-06", ms)
	in.Params.From, in.Params.To = "2026-01", "2026-06"
	in.Spend, in.Rules, in.Minutes, in.OpenDeals, in.Scenarios = nil, nil, nil, nil, nil
	in.People = nil
	for c := range newIn {
		for _, m := range months[3:] {
			in.Spend = append(in.Spend, model.SpendEntry{Month: m, Amount: int64(r.IntN(100_000)), Currency: "JPY", Category: []string{"programs", "tools", "people"}[r.IntN(3)], Segment: c.s, Motion: c.m})
		}
		if r.IntN(2) == 0 {
			in.People = append(in.People, economics.PeopleCostRow{Month: months[3+r.IntN(6)], Currency: "JPY", Role: "ae", Motion: c.m, Amount: int64(r.IntN(50_000)), Headcount: 1})
		}
	}
	return in
}

// Property: segment × motion CACs weighted by their new customers add up to
// the blended (and the fully loaded) CAC when all cost is attributed.
func TestSegmentCACsSumToBlended(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 200; i++ {
		m := economics.ComputeMetrics(randomWorld(r))
		if m.Summary.NewCustomers == 0 {
			continue
		}
		var blended, fully float64
		var n int64
		for _, c := range m.Matrix.Cells {
			if c.CAC.Blended.Value != nil {
				blended += *c.CAC.Blended.Value * float64(c.NewCustomers)
				fully += *c.CAC.FullyLoaded.Value * float64(c.NewCustomers)
			} else if c.BlendedCost != 0 || c.FullyLoadedCost != 0 {
				t.Fatalf("world %d: cost %d/%d in %s × %s without new customers", i, c.BlendedCost, c.FullyLoadedCost, c.Segment, c.Motion)
			}
			n += c.NewCustomers
		}
		if n != m.Summary.NewCustomers {
			t.Fatalf("world %d: cells have %d new customers, the summary %d", i, n, m.Summary.NewCustomers)
		}
		val(t, fmt.Sprintf("world %d blended", i), ptr(blended/float64(n)), *m.Summary.CAC.Blended.Value)
		val(t, fmt.Sprintf("world %d fully loaded", i), ptr(fully/float64(n)), *m.Summary.CAC.FullyLoaded.Value)
	}
}

// Property: on random histories every month's and period's MRR walk holds,
// the cohort rows add up to the new customers, and the months chain.
func TestCubeIdentityProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < 200; i++ {
		in := randomWorld(r)
		in.Params.Period = []string{"month", "quarter"}[i%2]
		m := economics.ComputeMetrics(in)
		if !m.MRR.Bridge.Holds {
			t.Fatalf("world %d: bridge %+v", i, m.MRR.Bridge)
		}
		prev := m.MRR.Bridge.Start
		for _, mb := range m.MRR.Months {
			if !mb.Holds || mb.Start != prev {
				t.Fatalf("world %d: month %+v after %d", i, mb, prev)
			}
			prev = mb.End
		}
		if prev != m.MRR.Bridge.End {
			t.Fatalf("world %d: months end at %d, bridge at %d", i, prev, m.MRR.Bridge.End)
		}
		var cohorts, periods int64
		for _, c := range m.Cohorts.Rows {
			cohorts += c.Customers
		}
		for _, p := range m.Periods {
			if !p.IdentityHolds || p.CustomersEnd != p.CustomersStart+p.NewCustomers+p.ReactivatedCustomers-p.ChurnedCustomers {
				t.Fatalf("world %d: period %+v", i, p)
			}
			periods += p.NewCustomers
		}
		if cohorts != m.Summary.NewCustomers || periods != m.Summary.NewCustomers {
			t.Fatalf("world %d: cohorts %d, periods %d, new %d", i, cohorts, periods, m.Summary.NewCustomers)
		}
	}
}
