// Package scoring computes lead scores: a fit score from rules on who a contact is,
// plus an engagement score from what they do, which decays exponentially with a
// configurable half-life. Decay is exact and lazy: a score is stored as a value at
// a moment and every read decays it to the present in closed form, so nothing
// rewrites scores as time passes. The moment a decaying score will fall below the
// MQL threshold is computed in closed form too and stored as an indexed due time,
// which a River job works off (docs/scoring.md).
package scoring

import (
	"math"
	"time"
)

// Engagement is a decaying score: Value at the moment At. Its value at t ≥ At is
// Value · 2^(−(t−At)/h).
type Engagement struct {
	Value float64
	At    time.Time
}

// Factor is the share of a score left after dt with half-life h: 2^(−dt/h). A
// non-positive dt leaves the score whole (scores never grow towards the past).
func Factor(dt, h time.Duration) float64 {
	if dt <= 0 {
		return 1
	}
	return math.Exp2(-float64(dt) / float64(h))
}

// ValueAt is the engagement decayed to t. A t before At (a read racing a batch
// that carried a slightly future timestamp) returns Value rather than growing it.
func (e Engagement) ValueAt(t time.Time, h time.Duration) float64 {
	return e.Value * Factor(t.Sub(e.At), h)
}

// Add applies an event of weight w that happened at t. An event at or after At
// moves the timestamp: v(t) = ValueAt(t) + w. An event older than At (events arrive
// out of order) is decayed to At instead: v(At) = Value + w·2^(−(At−t)/h). Either
// way the result is Σ wᵢ·2^(−(T−tᵢ)/h) at T = the latest event, whatever the order
// of arrival.
func (e Engagement) Add(w float64, t time.Time, h time.Duration) Engagement {
	switch {
	case e.At.IsZero():
		return Engagement{Value: w, At: t}
	case t.Before(e.At):
		return Engagement{Value: e.Value + w*Factor(e.At.Sub(t), h), At: e.At}
	default:
		return Engagement{Value: e.ValueAt(t, h) + w, At: t}
	}
}

// maxCrossing bounds a crossing time so it stays a valid time.Duration (an absurd
// ratio of score to threshold would overflow int64 nanoseconds).
const maxCrossing = 200 * 365 * 24 * time.Hour

// Crossing returns when fit + e, decaying, falls to threshold:
//
//	t = At + h · log2(Value / (threshold − fit))
//
// rounded up to the microsecond the store keeps, so the total at t is never above
// the threshold. ok is false when that never happens (fit alone reaches the
// threshold) or has already happened (the total at At is not above it).
func Crossing(e Engagement, fit, threshold float64, h time.Duration) (t time.Time, ok bool) {
	gap := threshold - fit
	if gap <= 0 || e.Value <= gap || e.At.IsZero() {
		return time.Time{}, false
	}
	d := math.Log2(e.Value/gap) * float64(h)
	if d > float64(maxCrossing) || math.IsNaN(d) {
		d = float64(maxCrossing)
	}
	return ceilMicro(e.At.Add(time.Duration(math.Ceil(d)))), true
}

func ceilMicro(t time.Time) time.Time {
	r := t.Truncate(time.Microsecond)
	if r.Before(t) {
		r = r.Add(time.Microsecond)
	}
	return r
}
