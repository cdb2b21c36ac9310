package scoring_test

import (
	"math"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/scoring"
)

const (
	hour = time.Hour
	day  = 24 * time.Hour
	tol  = 1e-9
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

// Decay against values worked out by hand: v0 · 2^(−dt/h).
func TestDecayHandComputed(t *testing.T) {
	for _, c := range []struct {
		name string
		v0   float64
		h    time.Duration
		dt   time.Duration
		want float64
	}{
		{"two half-lives", 20, 7 * day, 14 * day, 5},
		{"one half-life", 80, 14 * day, 14 * day, 40},
		{"half a half-life", 80, 14 * day, 7 * day, 56.5685424949238},                 // 80/√2
		{"thirty minutes of an hour", 100, hour, 30 * time.Minute, 70.71067811865476}, // 100/√2
		{"six half-lives", 64, day, 6 * day, 1},
		{"three half-lives", 50, 14 * day, 42 * day, 6.25},
		{"half a day of a two-day half-life", 3, 2 * day, day, 2.1213203435596424}, // 3/√2
		{"no time", 10, 14 * day, 0, 10},
		{"read before the timestamp", 10, 14 * day, -hour, 10},
	} {
		e := scoring.Engagement{Value: c.v0, At: t0}
		if got := e.ValueAt(t0.Add(c.dt), c.h); !near(got, c.want) {
			t.Errorf("%s: %v after %v (h %v) = %.15f, want %.15f", c.name, c.v0, c.dt, c.h, got, c.want)
		}
	}
	if f := scoring.Factor(14*day, 14*day); f != 0.5 {
		t.Errorf("one half-life leaves %v, want exactly 0.5", f)
	}
}

// Events older than the stored timestamp are decayed to it; newer ones move it.
func TestOutOfOrderEvents(t *testing.T) {
	h := 14 * day
	e := scoring.Engagement{Value: 10, At: t0}
	old := e.Add(8, t0.Add(-14*day), h)
	if !old.At.Equal(t0) || !near(old.Value, 14) {
		t.Fatalf("old event: %+v, want 14 at t0", old)
	}
	later := scoring.Engagement{Value: 10, At: t0}.Add(5, t0.Add(7*day), 7*day)
	if !later.At.Equal(t0.Add(7*day)) || !near(later.Value, 10) {
		t.Fatalf("later event: %+v, want 10 at t0+7d", later)
	}
	// Every arrival order gives Σ wᵢ·2^(−(T−tᵢ)/h): 8·¼ + 4·½ + 10 + 2·2^(−1.5).
	evs := []struct {
		w float64
		t time.Time
	}{{8, t0}, {4, t0.Add(14 * day)}, {10, t0.Add(28 * day)}, {2, t0.Add(7 * day)}}
	want := 14.707106781186548
	perm := []int{0, 1, 2, 3}
	var permute func(k int)
	n := 0
	permute = func(k int) {
		if k == len(perm) {
			var e scoring.Engagement
			for _, i := range perm {
				e = e.Add(evs[i].w, evs[i].t, h)
			}
			n++
			if got := e.ValueAt(t0.Add(28*day), h); !near(got, want) || !e.At.Equal(t0.Add(28*day)) {
				t.Errorf("order %v: %.15f at %v, want %.15f at t0+28d", perm, got, e.At, want)
			}
			return
		}
		for i := k; i < len(perm); i++ {
			perm[k], perm[i] = perm[i], perm[k]
			permute(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	permute(0)
	if n != 24 {
		t.Fatalf("tried %d orders", n)
	}
}

// t = t0 + h·log2(v0 / (T − F)) when T − F > 0 and v0 > T − F.
func TestCrossingTime(t *testing.T) {
	for _, c := range []struct {
		name       string
		v0, fit, T float64
		h          time.Duration
		want       time.Duration // after t0
		ok         bool
	}{
		{"issue example: 80 falls to 40 in one half-life", 80, 10, 50, 14 * day, 14 * day, true},
		{"20 falls to 5 in two half-lives", 20, 0, 5, 7 * day, 14 * day, true},
		{"100 falls to 25 in two hours", 100, 0, 25, hour, 2 * hour, true},
		{"negative fit widens the gap", 120, -10, 50, 14 * day, 14 * day, true},
		{"60 falls to 50 after 14 d·log2(1.2), rounded up to the µs", 60, 0, 50, 14 * day, 318166417297 * time.Microsecond, true},
		{"fit alone reaches the threshold: never", 80, 50, 50, 14 * day, 0, false},
		{"fit above the threshold: never", 80, 60, 50, 14 * day, 0, false},
		{"exactly at the threshold: already", 40, 10, 50, 14 * day, 0, false},
		{"below the threshold: already", 30, 10, 50, 14 * day, 0, false},
	} {
		e := scoring.Engagement{Value: c.v0, At: t0}
		at, ok := scoring.Crossing(e, c.fit, c.T, c.h)
		if ok != c.ok || (ok && !at.Equal(t0.Add(c.want))) {
			t.Errorf("%s: %v %v, want %v %v", c.name, at.Sub(t0), ok, c.want, c.ok)
			continue
		}
		if ok {
			// At the crossing the total is the threshold (to float precision) and
			// a microsecond earlier it is still above.
			if got := c.fit + e.ValueAt(at, c.h); !near(got, c.T) || got > c.T+tol {
				t.Errorf("%s: total at crossing %.12f, want %v", c.name, got, c.T)
			}
			if before := c.fit + e.ValueAt(at.Add(-time.Millisecond), c.h); before <= c.T {
				t.Errorf("%s: total just before crossing %.12f is not above %v", c.name, before, c.T)
			}
		}
	}
}
