package success_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/success"
)

func i64(n int64) *int64 { return &n }

// TestComputeHandComputed checks the arithmetic on cases worked out by hand
// from the convention (docs/success.md), with the default settings: base 50;
// usage ±25 against 1,000 events/30d; engagement ±10 against 20; support −15
// at 5 open; NPS ±15; sentiment ±10; healthy ≥ 70, critical < 40.
func TestComputeHandComputed(t *testing.T) {
	h := success.DefaultHealth()
	nov2 := time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		h      success.HealthSettings
		in     success.Inputs
		points map[string]int
		sum    int
		score  int
		band   string
	}{
		{
			// usage capped at target → +25; engagement 5/20 → 10×(0.5−1) = −5;
			// support 2 of 5 → −15×2/5 = −6; NPS 4 detractor −15; negative −10.
			// 50 + 25 − 5 − 6 − 15 − 10 = 39 < 40 → critical.
			name: "mixed, critical",
			h:    h,
			in: success.Inputs{Usage: i64(1240), Engagement: i64(5), OpenSupport: i64(2),
				NPS: &store.NPSResponse{Score: 4, RespondedAt: nov2}, Sentiment: "negative", SentimentNote: "champion left"},
			points: map[string]int{"usage": 25, "engagement": -5, "support": -6, "nps": -15, "sentiment": -10},
			sum:    39, score: 39, band: success.BandCritical,
		},
		{
			// usage 250/1000 → 25×(0.5−1) = −12.5 → −13 (half away from zero);
			// no engagement data → 0; 0 open → 0; NPS 9 promoter +15; positive +10.
			// 50 − 13 + 15 + 10 = 62 → at_risk.
			name: "rounding, no data, at risk",
			h:    h,
			in: success.Inputs{Usage: i64(250), OpenSupport: i64(0),
				NPS: &store.NPSResponse{Score: 9, RespondedAt: nov2}, Sentiment: "positive"},
			points: map[string]int{"usage": -13, "engagement": 0, "support": 0, "nps": 15, "sentiment": 10},
			sum:    62, score: 62, band: success.BandAtRisk,
		},
		{
			// NPS 7 passive 0; usage 500 = half the target → 0; support 7 open
			// (over the cap of 5) → −15; neutral 0. 50 + 0 + 0 − 15 + 0 = 35.
			name: "passive, capped penalty",
			h:    h,
			in: success.Inputs{Usage: i64(500), OpenSupport: i64(7),
				NPS: &store.NPSResponse{Score: 7, RespondedAt: nov2}, Sentiment: "neutral"},
			points: map[string]int{"usage": 0, "engagement": 0, "support": -15, "nps": 0, "sentiment": 0},
			sum:    35, score: 35, band: success.BandCritical,
		},
		{
			// Base 90 + 25 + 10 + 15 + 10 = 150, clamped to 100.
			name: "clamped high",
			h:    func() success.HealthSettings { x := h; x.Base = 90; return x }(),
			in: success.Inputs{Usage: i64(2000), Engagement: i64(40),
				NPS: &store.NPSResponse{Score: 10, RespondedAt: nov2}, Sentiment: "positive"},
			points: map[string]int{"usage": 25, "engagement": 10, "support": 0, "nps": 15, "sentiment": 10},
			sum:    150, score: 100, band: success.BandHealthy,
		},
		{
			// Base 10 − 25 (no usage in the window) − 15 (NPS 0) = −30, clamped to 0.
			name:   "clamped low",
			h:      func() success.HealthSettings { x := h; x.Base = 10; return x }(),
			in:     success.Inputs{Usage: i64(0), NPS: &store.NPSResponse{Score: 0, RespondedAt: nov2}},
			points: map[string]int{"usage": -25, "engagement": 0, "support": 0, "nps": -15, "sentiment": 0},
			sum:    -30, score: 0, band: success.BandCritical,
		},
		{
			// Usage weight 0 turns it off: 50 + 20 (support 0 open: 0, NPS 10
			// with weight 20) = 70 = healthy_min → healthy.
			name: "weight 0 off, boundary healthy",
			h: func() success.HealthSettings {
				x := h
				x.Usage.Weight, x.NPS.Weight = 0, 20
				return x
			}(),
			in:     success.Inputs{Usage: i64(0), OpenSupport: i64(0), NPS: &store.NPSResponse{Score: 10, RespondedAt: nov2}},
			points: map[string]int{"usage": 0, "engagement": 0, "support": 0, "nps": 20, "sentiment": 0},
			sum:    70, score: 70, band: success.BandHealthy,
		},
		{
			// 50 − 10 (negative) = 40 = critical_below → at_risk, not critical.
			name:   "boundary at risk",
			h:      h,
			in:     success.Inputs{Sentiment: "negative"},
			points: map[string]int{"usage": 0, "engagement": 0, "support": 0, "nps": 0, "sentiment": -10},
			sum:    40, score: 40, band: success.BandAtRisk,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := success.Compute(c.h, c.in)
			for k, want := range c.points {
				if got := b.Points()[k]; got != want {
					t.Errorf("%s points %d, want %d (%v)", k, got, want, b.Reasons())
				}
			}
			if b.Sum != c.sum || b.Score != c.score || b.Band != c.band {
				t.Errorf("sum %d score %d band %s, want %d %d %s", b.Sum, b.Score, b.Band, c.sum, c.score, c.band)
			}
			if b.Convention == "" || len(b.Parts) != len(success.InputNames) {
				t.Errorf("breakdown without convention or parts: %+v", b)
			}
		})
	}
}

// TestReasons: the breakdown reads like the examples.
func TestReasons(t *testing.T) {
	b := success.Compute(success.DefaultHealth(), success.Inputs{
		Usage: i64(1240), Engagement: i64(5), OpenSupport: i64(1),
		NPS:       &store.NPSResponse{Score: 4, RespondedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)},
		Sentiment: "negative", SentimentNote: "exec sponsor left", SentimentAt: ptrTime(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)),
	})
	want := []string{
		"+25 usage 1,240 events/30d (target 1,000)",
		"−5 engagement 5 contact events/30d (target 20)",
		"−3 support 1 open item (full penalty at 5)",
		"−15 NPS 4 on 2026-11-02 (detractor)",
		"−10 CSM sentiment negative on 2026-11-20: exec sponsor left",
	}
	got := b.Reasons()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("reasons\n got %q\nwant %q", got, want)
	}
	empty := success.Compute(success.DefaultHealth(), success.Inputs{})
	// Nothing reported: the base, and no band that claims a risk.
	if empty.Score != 50 || empty.Band != success.BandNoData {
		t.Errorf("no data: %d %s", empty.Score, empty.Band)
	}
	// Data only for an input that is off is still no data.
	off := success.DefaultHealth()
	off.Usage.Weight = 0
	if b := success.Compute(off, success.Inputs{Usage: i64(5)}); b.Band != success.BandNoData {
		t.Errorf("data only for an off input: %s", b.Band)
	}
	none := empty.Reasons()
	for _, r := range none {
		if !strings.HasPrefix(r, "0 ") || !(strings.Contains(r, "no data") || strings.Contains(r, "not set") || strings.Contains(r, "no response")) {
			t.Errorf("no-data reason %q", r)
		}
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestValidateSettings(t *testing.T) {
	for _, c := range []struct {
		mut   func(*success.HealthSettings)
		field string
	}{
		{func(h *success.HealthSettings) { h.Base = 101 }, "base"},
		{func(h *success.HealthSettings) { h.Usage.Weight = -1 }, "usage.weight"},
		{func(h *success.HealthSettings) { h.Usage.WindowDays = 0 }, "usage.window_days"},
		{func(h *success.HealthSettings) { h.Engagement.Target = 0 }, "engagement.target"},
		{func(h *success.HealthSettings) { h.Support.Cap = 0 }, "support.cap"},
		{func(h *success.HealthSettings) { h.NPS.MaxAgeDays = 0 }, "nps.max_age_days"},
		{func(h *success.HealthSettings) { h.CriticalBelow = 70 }, "critical_below"},
		{func(h *success.HealthSettings) { h.Sentiment.Weight = 101 }, "sentiment.weight"},
	} {
		h := success.DefaultHealth()
		c.mut(&h)
		wantField(t, h.Validate(), c.field)
	}
	if err := success.DefaultHealth().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in    success.Checklists
		field string
	}{
		{success.Checklists{"partner": nil}, "templates.partner"},
		{success.Checklists{"digital": {{Title: " "}}}, "templates.digital[0].title"},
		{success.Checklists{"digital": {{Title: "A"}, {Key: "a", Title: "B"}}}, "templates.digital[1].key"},
		{success.Checklists{"high_touch": {{Key: "Bad Key", Title: "x"}}}, "templates.high_touch[0].key"},
	} {
		_, err := c.in.Validate()
		wantField(t, err, c.field)
	}
	out, err := success.Checklists{"digital": {{Title: " Kick-off call "}}}.Validate()
	if err != nil || len(out["digital"]) != 1 || out["digital"][0].Key != "kick_off_call" || out["digital"][0].Title != "Kick-off call" || out["high_touch"] == nil {
		t.Fatalf("normalised %+v %v", out, err)
	}
}
