package scoring

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Line is one readable part of a score: a fit rule that matched, one recent event
// with what it still adds, or what older events add together.
type Line struct {
	Source     string     `json:"source"` // fit, event, earlier
	Points     float64    `json:"points"` // what it adds now
	Text       string     `json:"text"`   // "+10 viewed /pricing 14 days ago (20, half-life 14 d)"
	Kind       string     `json:"kind,omitempty"`
	Weight     float64    `json:"weight,omitempty"` // the event's weight when it happened
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
}

// Breakdown explains a contact's current score; its lines add up to Score.
type Breakdown struct {
	ContactID       int64      `json:"contact_id"`
	Score           float64    `json:"score"`
	Fit             float64    `json:"fit"`
	Engagement      float64    `json:"engagement"`
	MQLThreshold    float64    `json:"mql_threshold"`
	HalfLifeSeconds int64      `json:"half_life_seconds"`
	AsOf            time.Time  `json:"as_of"`
	DueAt           *time.Time `json:"due_at,omitempty"` // when decay takes it below the threshold
	Events          int64      `json:"events"`
	Lines           []Line     `json:"lines"`
}

// storedBreakdown is what contact_scores.breakdown keeps: the fit rules that
// matched at the last change. It stays small because every batch rewrites many
// score rows; the events part of a breakdown is read from engagement_events.
type storedBreakdown struct {
	Fit []FitHit `json:"fit"`
}

const topN = 5

// eventLine explains one event at now.
func eventLine(kind string, w float64, at time.Time, u, title string, now time.Time, h time.Duration) Line {
	contrib := w * Factor(now.Sub(at), h)
	t := at
	return Line{
		Source: "event", Points: contrib, Kind: kind, Weight: w, OccurredAt: &t,
		Text: fmt.Sprintf("%s %s %s (%s, half-life %s)", signed(contrib), describeEvent(kind, u, title), ago(now.Sub(at)), num(w), halfLife(h)),
	}
}

func fitLine(h FitHit) Line {
	return Line{Source: "fit", Points: h.Points, Text: signed(h.Points) + " " + h.Label}
}

// describeEvent says what the contact did: "viewed /pricing".
func describeEvent(kind, u, title string) string {
	p := path(u)
	q := func(s string) string { return "'" + clip(s, 80) + "'" }
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	switch kind {
	case "page_view":
		return "viewed " + or(p, or(title, "a page"))
	case "pricing_page_view":
		return "viewed " + or(p, "the pricing page")
	case "content_download":
		if title != "" {
			return "downloaded " + q(title)
		}
		return "downloaded " + or(p, "content")
	case "email_open":
		if title != "" {
			return "opened email " + q(title)
		}
		return "opened an email"
	case "email_click":
		s := "clicked " + or(p, "a link")
		if title != "" {
			s += " in email " + q(title)
		}
		return s
	case "form_submit":
		if title != "" {
			return "submitted form " + q(title)
		}
		return "submitted a form" + prefixed(" on ", p)
	case "trial_activity":
		return "trial activity" + prefixed(": ", clip(title, 80))
	}
	s := strings.ReplaceAll(kind, "_", " ")
	if title != "" {
		return s + " " + q(title)
	}
	return s + prefixed(" ", p)
}

func prefixed(pre, s string) string {
	if s == "" {
		return ""
	}
	return pre + s
}

// path shortens a URL to what a rep recognises: its path.
func path(u string) string {
	if u == "" {
		return ""
	}
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		if p.Path == "" {
			return "/"
		}
		return clip(p.Path, 80)
	}
	return clip(u, 80)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ago is a rounded-down age: "just now", "5 minutes ago", "3 hours ago", "14 days ago".
func ago(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64(d/(24*time.Hour)), "day")
}

// num prints a score to one decimal, without a trailing ".0".
func num(x float64) string {
	r := math.Round(x*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func signed(x float64) string {
	s := num(x)
	if !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	return s
}

// halfLife prints a half-life in days ("14 d") or, below a day, hours ("12 h").
func halfLife(h time.Duration) string {
	if h >= 24*time.Hour {
		return num(h.Hours()/24) + " d"
	}
	return num(h.Hours()) + " h"
}

// breakdownOf builds the lines of a score at now: fit rules, the recent events and
// a line for what older events add together, so the lines sum to the score.
func breakdownOf(cfg Config, contactID int64, fitHits []FitHit, fit float64, sc *store.ContactScore, recent []store.EngagementEvent, now time.Time) Breakdown {
	h := cfg.HalfLife()
	b := Breakdown{ContactID: contactID, Fit: fit, MQLThreshold: cfg.MQLThreshold, HalfLifeSeconds: cfg.HalfLifeSeconds, AsOf: now, Lines: []Line{}}
	for _, hit := range fitHits {
		b.Lines = append(b.Lines, fitLine(hit))
	}
	if sc != nil {
		e := Engagement{Value: sc.EngagementValue, At: sc.EngagementAt}
		b.Engagement = e.ValueAt(now, h)
		b.Events = sc.Events
		if t, ok := Crossing(e, fit, cfg.MQLThreshold, h); ok && t.After(now) {
			b.DueAt = &t
		}
	}
	listed := 0.0
	for _, ev := range recent {
		l := eventLine(ev.Kind, ev.Weight, ev.OccurredAt, ev.Detail["url"], ev.Detail["title"], now, h)
		listed += l.Points
		b.Lines = append(b.Lines, l)
	}
	rest := b.Engagement - listed
	if older := b.Events - int64(len(recent)); math.Abs(rest) >= 0.05 {
		text := fmt.Sprintf("%s from %d earlier events", signed(rest), older)
		if older == 1 {
			text = signed(rest) + " from 1 earlier event"
		}
		if older <= 0 {
			text = signed(rest) + " scored under an earlier half-life"
		}
		b.Lines = append(b.Lines, Line{Source: "earlier", Points: rest, Text: text})
	}
	b.Score = b.Fit + b.Engagement
	return b
}
