package economics_test

import (
	"errors"
	"math"
	"testing"

	"github.com/rightsize/rightsize/internal/economics"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f", what, got, want)
	}
}

// must unwraps a result; an error here is a failed worked check (the panic
// fails the test with the error's text).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The worked checks of PRODUCT.md section 6 that are pure arithmetic. (MRR
// normalisation lives in internal/subscriptions, win rate and velocity in
// internal/forecast, each with its own worked check.)
func TestWorkedChecks(t *testing.T) {
	// ARPA 100, monthly churn 5 %, revenue LTV → 2,000.
	near(t, "revenue LTV", must(economics.RevenueLTV(100, 0.05, 0)).Value, 2000, 1e-9)

	// ARPA 100, GM 80 %, churn 2 %/month, simple_gm → lifetime 50 months, 4,000.
	l := must(economics.SimpleGMLTV(100, 0.8, 0.02, 0))
	near(t, "lifetime", l.Lifetime.Months, 50, 1e-9)
	near(t, "simple_gm LTV", l.Value, 4000, 1e-9)
	if l.Variant != economics.LTVSimpleGM || l.Lifetime.Capped || l.Convention == "" {
		t.Errorf("simple_gm: %+v", l)
	}

	// ARPU 40, GM 75 %, churn 4 % → 750.
	near(t, "simple_gm LTV (ARPU 40)", must(economics.SimpleGMLTV(40, 0.75, 0.04, 0)).Value, 750, 1e-9)

	// start MRR 100; churn 10, contraction 10, expansion 10 → gross 20 %, net 10 %.
	c := must(economics.MRRChurnRates(100, 10, 10, 10, 0))
	near(t, "gross MRR churn", c.Gross, 0.20, 1e-12)
	near(t, "net MRR churn", c.Net, 0.10, 1e-12)

	// Quick ratio: 24k/4k → 6, 30k/10k → 3, 40k/20k → 2 (new+expansion vs contraction+churn).
	for _, q := range []struct{ grow, lose int64 }{{24000, 4000}, {30000, 10000}, {40000, 20000}} {
		got := must(economics.QuickRatio(q.grow, 0, q.lose, 0))
		near(t, "quick ratio", got, float64(q.grow)/float64(q.lose), 1e-12)
	}
	near(t, "quick ratio split", must(economics.QuickRatio(20000, 4000, 1000, 3000)), 6, 1e-12)

	// CAC 900, ARPA 150, GM 80 % → payback 7.5 months.
	near(t, "payback", must(economics.PaybackMonths(900, 150, 0.8)), 7.5, 1e-12)

	// spend 1,000; 20 new customers, 5 from paid → blended 50, paid 200.
	near(t, "blended CAC", must(economics.BlendedCAC(1000, 20)).Value, 50, 1e-12)
	near(t, "paid CAC", must(economics.PaidCAC(1000, 5)).Value, 200, 1e-12)

	// ARPA 100, GM 0.8, c 2 %, d 1 % per month, paid at t=0 → 2,693.33.
	d := must(economics.DiscountedLTV(100, 0.8, 0.02, 0.01, 0))
	near(t, "discounted LTV", d.Value, 2693.33, 0.005)

	// salary 120,000, employer tax 7.65 %, benefits 25 %, overhead 5,000 → 164,180 (×1.368).
	lc := must(economics.ItemisedLoadedCost(120000, 0.0765, 0.25, 0, 5000))
	near(t, "loaded cost", lc.Annual, 164180, 1e-6)
	near(t, "loaded multiplier", lc.Multiplier, 1.368, 0.0005)

	// Prior-quarter recurring revenue 100,000 → 130,000, prior-quarter S&M 120,000 → 1.00.
	near(t, "magic number", must(economics.MagicNumber(100000, 130000, 120000)), 1.0, 1e-12)
}

// Zero churn caps the lifetime (default 60 months) and flags it, in every
// variant that divides by churn.
func TestZeroChurnIsCapped(t *testing.T) {
	l := must(economics.SimpleGMLTV(100, 0.8, 0, 0))
	if !l.Lifetime.Capped || l.Lifetime.Months != 60 || l.Value != 100*0.8*60 {
		t.Errorf("simple_gm at zero churn: %+v", l)
	}
	r := must(economics.RevenueLTV(100, 0.001, 24))
	if !r.Lifetime.Capped || r.Value != 2400 {
		t.Errorf("revenue LTV under a 24-month cap: %+v", r)
	}
	// Discounted at zero churn: the capped sum of 60 payments of 80 discounted at 1 %.
	d := must(economics.DiscountedLTV(100, 0.8, 0, 0.01, 0))
	want := 0.0
	for t := 0; t < 60; t++ {
		want += 80 / math.Pow(1.01, float64(t))
	}
	if !d.Lifetime.Capped {
		t.Errorf("discounted at zero churn not flagged: %+v", d)
	}
	near(t, "discounted capped", d.Value, want, 1e-6)
	// And the closed form agrees with the series when nothing is capped.
	d2 := must(economics.DiscountedLTV(100, 0.8, 0.05, 0.01, 0))
	series := 0.0
	for t := 0; t < 5000; t++ {
		series += 80 * math.Pow(0.95/1.01, float64(t))
	}
	near(t, "discounted closed form vs series", d2.Value, series, 1e-6)
}

func TestUndefinedInputs(t *testing.T) {
	for name, err := range map[string]error{
		"negative churn":    func() error { _, err := economics.RevenueLTV(100, -0.1, 0); return err }(),
		"margin above 1":    func() error { _, err := economics.SimpleGMLTV(100, 80, 0.02, 0); return err }(),
		"no new customers":  func() error { _, err := economics.BlendedCAC(1000, 0); return err }(),
		"no paid customers": func() error { _, err := economics.PaidCAC(1000, 0); return err }(),
		"zero margin":       func() error { _, err := economics.PaybackMonths(900, 150, 0); return err }(),
		"no start MRR":      func() error { _, err := economics.MRRChurnRates(0, 1, 0, 0, 0); return err }(),
		"no losses":         func() error { _, err := economics.QuickRatio(10, 0, 0, 0); return err }(),
		"no prior spend":    func() error { _, err := economics.MagicNumber(1, 2, 0); return err }(),
		"multiplier < 1":    func() error { _, err := economics.MultiplierLoadedCost(50000, 0.5, 0); return err }(),
		"zero target":       func() error { _, err := economics.MaxAffordableCAC(3000, 0); return err }(),
	} {
		if !errors.Is(err, economics.ErrUndefined) {
			t.Errorf("%s: %v, want ErrUndefined", name, err)
		}
	}
}

// The article's LDR: 50,000 salary at about 2× loaded, plus office, phone,
// internet and software per seat (here 6,000 a year) — the multiplier form does
// not add taxes and benefits again.
func TestMultiplierLoadedCost(t *testing.T) {
	lc := must(economics.MultiplierLoadedCost(50000, 2, 6000))
	near(t, "LDR loaded", lc.Annual, 106000, 1e-9)
	near(t, "max affordable CAC", must(economics.MaxAffordableCAC(4000, 3)), 1333.3333, 0.0001)
	near(t, "LTV:CAC", must(economics.LTVToCAC(4000, 1000)), 4, 1e-12)
}
