package success

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Bands of a health score.
const (
	BandHealthy  = "healthy"
	BandAtRisk   = "at_risk"
	BandCritical = "critical"
	// BandNoData is a customer none of whose inputs has data yet: its score
	// is the base, which says nothing about risk, so it is kept out of the
	// at-risk queue.
	BandNoData = "no_data"
)

// Bands lists the bands, best first, then no_data.
var Bands = []string{BandHealthy, BandAtRisk, BandCritical, BandNoData}

// Causes of a recompute, recorded on each history row.
const (
	CauseWon       = "won"       // the handoff opened (first score)
	CauseUsage     = "usage"     // usage events arrived
	CauseNPS       = "nps"       // an NPS response arrived
	CauseSupport   = "support"   // the open support count changed
	CauseSentiment = "sentiment" // the CSM set a sentiment
	CauseSettings  = "settings"  // the weights changed
	CauseDaily     = "daily"     // the daily job (engagement and windows move with time)
	CauseLive      = "live"      // computed for a read, not stored
)

// Causes lists every cause (the API documents them).
var Causes = []string{CauseWon, CauseUsage, CauseNPS, CauseSupport, CauseSentiment, CauseSettings, CauseDaily, CauseLive}

// Sentiments a CSM can record.
var Sentiments = []string{"positive", "neutral", "negative"}

// Input names, in breakdown order.
const (
	InUsage      = "usage"
	InEngagement = "engagement"
	InSupport    = "support"
	InNPS        = "nps"
	InSentiment  = "sentiment"
)

// InputNames lists the inputs in breakdown order.
var InputNames = []string{InUsage, InEngagement, InSupport, InNPS, InSentiment}

// Convention is stated with every score: how the number was made.
const Convention = "score = clamp(base + sum of points, 0, 100). usage and engagement: weight × (2 × min(count, target) ÷ target − 1) " +
	"over the window ending at as_of (half the target scores 0); support: −weight × min(open, cap) ÷ cap; NPS (latest response no older " +
	"than max_age_days): 9–10 promoter +weight, 7–8 passive 0, 0–6 detractor −weight; CSM sentiment: positive +weight, neutral 0, " +
	"negative −weight. Each input's points are rounded half away from zero; an input with no data, or weight 0, adds 0. " +
	"Bands: healthy ≥ healthy_min, critical < critical_below, else at_risk; no_data when no input has data yet."

// Inputs are what a score is computed from. A nil pointer (or empty
// Sentiment) is "no data": the input was never reported.
type Inputs struct {
	AsOf          time.Time
	Usage         *int64 // usage events in the window
	Engagement    *int64 // engagement events of the account's contacts in the window
	OpenSupport   *int64
	NPS           *store.NPSResponse // latest response within max_age_days
	Sentiment     string
	SentimentNote string
	SentimentAt   *time.Time
}

// Part is one input's contribution to a score.
type Part struct {
	Input  string `json:"input"`
	Weight int    `json:"weight"`
	Points int    `json:"points"`
	NoData bool   `json:"no_data"`
	Reason string `json:"reason"`
}

// Breakdown is a computed score with its reasons and the convention and
// settings it used.
type Breakdown struct {
	Score      int            `json:"score"`
	Band       string         `json:"band"`
	Base       int            `json:"base"`
	Sum        int            `json:"sum"` // base + points before clamping to 0–100
	Parts      []Part         `json:"parts"`
	AsOf       time.Time      `json:"as_of"`
	Convention string         `json:"convention"`
	Settings   HealthSettings `json:"settings"`
}

// Points maps input → points, for history rows and change detection.
func (b Breakdown) Points() map[string]int {
	m := make(map[string]int, len(b.Parts))
	for _, p := range b.Parts {
		m[p.Input] = p.Points
	}
	return m
}

// Reasons lists the parts' reasons in order.
func (b Breakdown) Reasons() []string {
	out := make([]string, len(b.Parts))
	for i, p := range b.Parts {
		out[i] = p.Reason
	}
	return out
}

// round is half away from zero (math.Round), stated in Convention.
func round(f float64) int { return int(math.Round(f)) }

// signed renders points as the breakdown shows them: +25, −15 (U+2212), 0.
func signed(p int) string {
	switch {
	case p > 0:
		return "+" + strconv.Itoa(p)
	case p < 0:
		return "−" + strconv.Itoa(-p)
	}
	return "0"
}

// thousands renders 1240 as "1,240".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// volume scores a count against a target: −weight at 0, 0 at half the target,
// +weight at or above it.
func volume(w WindowInput, name, unit string, n *int64) Part {
	p := Part{Input: name, Weight: w.Weight}
	switch {
	case w.Weight == 0:
		p.Reason = fmt.Sprintf("0 %s: off (weight 0)", name)
	case n == nil:
		p.NoData, p.Reason = true, fmt.Sprintf("0 %s: no data yet", name)
	default:
		c := min(max(*n, 0), w.Target)
		p.Points = round(float64(w.Weight) * (2*float64(c)/float64(w.Target) - 1))
		p.Reason = fmt.Sprintf("%s %s %s %s/%dd (target %s)", signed(p.Points), name, thousands(*n), unit, w.WindowDays, thousands(w.Target))
	}
	return p
}

// Compute scores in with h. It is pure: the same settings and inputs give the
// same breakdown.
func Compute(h HealthSettings, in Inputs) Breakdown {
	b := Breakdown{Base: h.Base, AsOf: in.AsOf.UTC(), Convention: Convention, Settings: h}
	b.Parts = append(b.Parts, volume(h.Usage, InUsage, "events", in.Usage))
	b.Parts = append(b.Parts, volume(h.Engagement, InEngagement, "contact events", in.Engagement))

	sup := Part{Input: InSupport, Weight: h.Support.Weight}
	switch {
	case h.Support.Weight == 0:
		sup.Reason = "0 support: off (weight 0)"
	case in.OpenSupport == nil:
		sup.NoData, sup.Reason = true, "0 support: no data yet"
	case *in.OpenSupport == 0:
		sup.Reason = "0 support: no open items"
	default:
		c := min(*in.OpenSupport, h.Support.Cap)
		sup.Points = -round(float64(h.Support.Weight) * float64(c) / float64(h.Support.Cap))
		items := "items"
		if *in.OpenSupport == 1 {
			items = "item"
		}
		sup.Reason = fmt.Sprintf("%s support %s open %s (full penalty at %s)", signed(sup.Points), thousands(*in.OpenSupport), items, thousands(h.Support.Cap))
	}
	b.Parts = append(b.Parts, sup)

	nps := Part{Input: InNPS, Weight: h.NPS.Weight}
	switch {
	case h.NPS.Weight == 0:
		nps.Reason = "0 NPS: off (weight 0)"
	case in.NPS == nil:
		nps.NoData, nps.Reason = true, fmt.Sprintf("0 NPS: no response in the last %d days", h.NPS.MaxAgeDays)
	default:
		kind := "passive"
		switch s := in.NPS.Score; {
		case s >= 9:
			kind, nps.Points = "promoter", h.NPS.Weight
		case s <= 6:
			kind, nps.Points = "detractor", -h.NPS.Weight
		}
		nps.Reason = fmt.Sprintf("%s NPS %d on %s (%s)", signed(nps.Points), in.NPS.Score, day(in.NPS.RespondedAt), kind)
	}
	b.Parts = append(b.Parts, nps)

	sen := Part{Input: InSentiment, Weight: h.Sentiment.Weight}
	switch {
	case h.Sentiment.Weight == 0:
		sen.Reason = "0 CSM sentiment: off (weight 0)"
	case in.Sentiment == "":
		sen.NoData, sen.Reason = true, "0 CSM sentiment: not set yet"
	default:
		switch in.Sentiment {
		case "positive":
			sen.Points = h.Sentiment.Weight
		case "negative":
			sen.Points = -h.Sentiment.Weight
		}
		sen.Reason = fmt.Sprintf("%s CSM sentiment %s", signed(sen.Points), in.Sentiment)
		if in.SentimentAt != nil {
			sen.Reason += " on " + day(*in.SentimentAt)
		}
		if in.SentimentNote != "" {
			sen.Reason += ": " + in.SentimentNote
		}
	}
	b.Parts = append(b.Parts, sen)

	b.Sum = h.Base
	for _, p := range b.Parts {
		b.Sum += p.Points
	}
	b.Score = min(max(b.Sum, 0), 100)
	b.Band = band(h, b.Score)
	if !anyData(b.Parts) {
		b.Band = BandNoData
	}
	return b
}

// anyData reports whether some input counted (had data and a weight).
func anyData(ps []Part) bool {
	for _, p := range ps {
		if !p.NoData && p.Weight != 0 {
			return true
		}
	}
	return false
}

func band(h HealthSettings, score int) string {
	switch {
	case score >= h.HealthyMin:
		return BandHealthy
	case score < h.CriticalBelow:
		return BandCritical
	}
	return BandAtRisk
}

// gather reads an account's inputs of ws as of asOf through q.
func gather(ctx context.Context, q store.Q, ws, accountID int64, h HealthSettings, asOf time.Time) (Inputs, error) {
	in := Inputs{AsOf: asOf}
	window := func(days int) time.Time { return asOf.Add(-time.Duration(days) * 24 * time.Hour) }
	n, any, err := q.UsageSum(ctx, ws, accountID, window(h.Usage.WindowDays), asOf)
	if err != nil {
		return in, err
	}
	if any {
		in.Usage = &n
	}
	e, any, err := q.AccountEngagement(ctx, ws, accountID, window(h.Engagement.WindowDays), asOf)
	if err != nil {
		return in, err
	}
	if any {
		in.Engagement = &e
	}
	ci, err := q.GetCustomerInputs(ctx, ws, accountID)
	if err != nil {
		return in, err
	}
	in.OpenSupport = ci.OpenSupportItems
	if ci.SentimentAt == nil || !ci.SentimentAt.After(asOf) {
		in.Sentiment, in.SentimentNote, in.SentimentAt = ci.Sentiment, ci.SentimentNote, ci.SentimentAt
	}
	rs, err := q.NPSResponses(ctx, ws, accountID, asOf, 1)
	if err != nil {
		return in, err
	}
	if len(rs) > 0 && !rs[0].RespondedAt.Before(window(h.NPS.MaxAgeDays)) {
		in.NPS = &rs[0]
	}
	return in, nil
}

// Score computes an account's health of ws as of asOf through q, without
// storing it.
func Score(ctx context.Context, q store.Q, ws, accountID int64, asOf time.Time) (Breakdown, error) {
	set, err := LoadSettings(ctx, q, ws)
	if err != nil {
		return Breakdown{}, err
	}
	in, err := gather(ctx, q, ws, accountID, set.Health, asOf)
	if err != nil {
		return Breakdown{}, err
	}
	return Compute(set.Health, in), nil
}

// Recompute scores an account of ws as of asOf inside the caller's write
// transaction and stores it as the current health. History: the daily cause
// writes one row per account and UTC day (a second run that day writes
// nothing, current included); any other cause writes a row unless the score,
// band and every input's points equal the latest row's. It reports whether a
// history row was written.
func Recompute(ctx context.Context, q store.Q, ws, accountID int64, cause string, asOf time.Time) (Breakdown, bool, error) {
	b, err := Score(ctx, q, ws, accountID, asOf)
	if err != nil {
		return b, false, err
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return b, false, err
	}
	rec := store.HealthRecord{Score: b.Score, Band: b.Band, Breakdown: raw, Cause: cause, ComputedAt: asOf}
	history := true
	if cause == CauseDaily {
		rec.Day = day(asOf)
	} else {
		last, err := q.LatestHealthHistory(ctx, ws, accountID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return b, false, err
		default:
			var lb Breakdown
			if json.Unmarshal(last.Breakdown, &lb) == nil && lb.Score == b.Score && lb.Band == b.Band && samePoints(lb.Points(), b.Points()) {
				history = false
			}
		}
	}
	written, err := q.PutHealth(ctx, ws, accountID, &rec, history)
	return b, written, err
}

func samePoints(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
