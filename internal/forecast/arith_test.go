package forecast_test

import (
	"math"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/store"
)

// TestWorkedCheck is PRODUCT.md §6: 20 won, 60 lost → win rate 25 %;
// 100 opportunities × 50,000 × 25 % ÷ 90 days → 13,888.89 per day.
func TestWorkedCheck(t *testing.T) {
	wr := forecast.WinRate(20, 60)
	if wr == nil || *wr != 0.25 {
		t.Fatalf("win rate = %v, want 0.25", wr)
	}
	v, ok := forecast.Velocity(100, 50_000, *wr, 90)
	if !ok || math.Abs(v-13_888.888_888_9) > 1e-6 {
		t.Fatalf("velocity = %v %v, want 13,888.89", v, ok)
	}
	if got := math.Round(v*100) / 100; got != 13_888.89 {
		t.Fatalf("velocity rounded = %v, want 13888.89", got)
	}
	// In minor units (cents) as the reports carry money: 1,388,889 ¢ = 13,888.89.
	if v, _ := forecast.Velocity(100, 5_000_000, 0.25, 90); math.Round(v) != 1_388_889 {
		t.Fatalf("velocity in cents = %v, want 1,388,889", math.Round(v))
	}
	// no decision counted as a loss: 20 ÷ (20 + 60 + 20).
	if wr := forecast.WinRate(20, 60+20); *wr != 0.2 {
		t.Fatalf("win rate with no decision = %v, want 0.2", *wr)
	}
	if forecast.WinRate(0, 0) != nil {
		t.Fatal("win rate of nothing must be unknown")
	}
	if _, ok := forecast.Velocity(100, 50_000, 0.25, 0); ok {
		t.Fatal("a zero-day cycle has no velocity")
	}
}

// TestLearn: won deals reached every stage; a lost deal reached every stage up
// to where it stopped. Stages 0..3; 3 won; lost at 0: 2, at 1: 1, at 3: 1.
func TestLearn(t *testing.T) {
	r := forecast.Reach{Won: 3, Lost: []int64{2, 1, 0, 1}}
	got := forecast.Learn(r, 5)
	want := []struct {
		reached int64
		rate    float64 // -1: not enough history
	}{{7, 3.0 / 7}, {5, 0.6}, {4, -1}, {4, -1}}
	for i, w := range want {
		g := got[i]
		if g.Reached != w.reached || g.Won != 3 {
			t.Errorf("stage %d: reached %d won %d, want %d and 3", i, g.Reached, g.Won, w.reached)
		}
		switch {
		case w.rate < 0 && g.Rate != nil:
			t.Errorf("stage %d: rate %v below the minimum sample", i, *g.Rate)
		case w.rate >= 0 && (g.Rate == nil || math.Abs(*g.Rate-w.rate) > 1e-12):
			t.Errorf("stage %d: rate %v, want %v", i, g.Rate, w.rate)
		}
	}
	// 1,000 at 3/7 = 428.57 → 429; at 0.6 → 600; no rate → 0.
	if w := forecast.LearnedWeighted(1000, got[0]); w != 429 {
		t.Errorf("learned weighted = %d, want 429", w)
	}
	if w := forecast.LearnedWeighted(1000, got[1]); w != 600 {
		t.Errorf("learned weighted = %d, want 600", w)
	}
	if w := forecast.LearnedWeighted(1000, got[2]); w != 0 {
		t.Errorf("learned weighted without a rate = %d", w)
	}
	if l := forecast.Learn(forecast.Reach{Lost: []int64{0, 0}}, 1); l[0].Rate != nil {
		t.Error("no history must have no rate even with a minimum sample of 1")
	}
}

func TestRoundingAndPeriods(t *testing.T) {
	// 333 × 25 % = 83.25 → 83; 334 × 25 % = 83.5 → 84 (half away from zero).
	for _, c := range []struct{ amount, want int64 }{{333, 83}, {334, 84}, {0, 0}, {-334, -84}} {
		if got := forecast.Round100(forecast.Weighted100(c.amount, 25)); got != c.want {
			t.Errorf("%d × 25 %% = %d, want %d", c.amount, got, c.want)
		}
	}
	for in, want := range map[[2]string]string{
		{"2026-01", "quarter"}: "2026-Q1", {"2026-03", "quarter"}: "2026-Q1", {"2026-04", "quarter"}: "2026-Q2",
		{"2026-12", "quarter"}: "2026-Q4", {"2026-07", "month"}: "2026-07", {"", "quarter"}: "",
	} {
		if got := forecast.PeriodKey(in[0], in[1]); got != want {
			t.Errorf("PeriodKey(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func TestParamsCheck(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	p := forecast.Params{To: d("2026-06-30")}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if p.From != d("2025-07-01") || p.Period != "quarter" || p.MinSample != forecast.DefaultMinSample {
		t.Fatalf("defaults: from %v period %q min %d", p.From, p.Period, p.MinSample)
	}
	for field, bad := range map[string]forecast.Params{
		"from":       {From: d("2026-07-01"), To: d("2026-06-30")},
		"period":     {Period: "week"},
		"min_sample": {MinSample: -1},
		"currency":   {Currency: "dollars"},
	} {
		err := bad.Check()
		fe, ok := err.(*store.FieldError)
		if !ok || fe.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
}
