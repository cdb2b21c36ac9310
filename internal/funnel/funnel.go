// Package funnel computes the lifecycle funnel report: per motion, source or period,
// how many contacts reached each stage of the SMB funnel (lead → mql → sql →
// opportunity → customer) in a window, how many of them went on to the next stage,
// how long that took, lead → customer conversion by source, and the side exits
// (disqualified, nurture). Every report names the conventions it used.
package funnel

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Stages are the funnel stages, in order.
var Stages = []string{"lead", "mql", "sql", "opportunity", "customer"}

// Exits are the side exits counted beside the funnel.
var Exits = []string{"disqualified", "nurture"}

// Groupings and periods a report accepts.
var (
	Groupings = []string{"motion", "source", "period"}
	Periods   = []string{"month", "week"}
)

// Unknown is the group of contacts without an account motion or a source.
const Unknown = "unknown"

// Params choose the window and the grouping. From and To are dates (their time of
// day is ignored); both days are inside the window.
type Params struct {
	From, To time.Time
	By       string // motion, source or period
	Period   string // month or week; used when By is period (default month)
}

// Result is the funnel report.
type Result struct {
	From       string     `json:"from"`
	To         string     `json:"to"`
	By         string     `json:"by"`
	Period     string     `json:"period,omitempty"`
	Convention Convention `json:"convention"`
	Total      Group      `json:"total"`
	Groups     []Group    `json:"groups"`
	// LeadToCustomerBySource is lead → customer conversion per contact source,
	// whatever the grouping.
	LeadToCustomerBySource []SourceConversion `json:"lead_to_customer_by_source"`
}

// Convention says how every figure of the report was computed.
type Convention struct {
	Window     string `json:"window"`
	Reached    string `json:"reached"`
	Conversion string `json:"conversion"`
	Days       string `json:"days"`
	Grouping   string `json:"grouping"`
	Exits      string `json:"exits"`
}

// Group is the funnel of one motion, source or period.
type Group struct {
	Key            string       `json:"key"`
	Stages         []StageCount `json:"stages"`
	Conversions    []Conversion `json:"conversions"`
	Durations      []Duration   `json:"durations"`
	LeadToCustomer Conversion   `json:"lead_to_customer"`
	Exits          []Exit       `json:"exits"`
}

// StageCount is how many contacts reached a stage in the window.
type StageCount struct {
	Stage   string `json:"stage"`
	Reached int    `json:"reached"`
}

// Conversion is converted ÷ denominator, the denominator being the contacts that
// reached From in the window (DenominatorIs says so in words).
type Conversion struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	Converted     int      `json:"converted"`
	Denominator   int      `json:"denominator"`
	DenominatorIs string   `json:"denominator_is"`
	Rate          *float64 `json:"rate"` // null when the denominator is 0
}

// Duration is the time between reaching From and reaching To, over the contacts
// counted as converted by the matching Conversion.
type Duration struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	N          int      `json:"n"`
	MedianDays *float64 `json:"median_days"` // null when n is 0
	MeanDays   *float64 `json:"mean_days"`
}

// Exit counts contacts that left the funnel to disqualified or nurture in the
// window, and the stage they left from.
type Exit struct {
	Stage string         `json:"stage"`
	Count int            `json:"count"`
	From  map[string]int `json:"from"`
}

// SourceConversion is lead → customer conversion of one contact source.
type SourceConversion struct {
	Source string `json:"source"`
	Conversion
}

// FieldError names the parameter at fault.
type FieldError = store.FieldError

// Check validates and normalises p: dates to UTC midnight, Period defaulted.
func (p *Params) Check() error {
	if !slices.Contains(Groupings, p.By) {
		return &FieldError{Field: "by", Message: "must be motion, source or period"}
	}
	if p.Period == "" {
		p.Period = "month"
	}
	if !slices.Contains(Periods, p.Period) {
		return &FieldError{Field: "period", Message: "must be month or week"}
	}
	if p.From.IsZero() {
		return &FieldError{Field: "from", Message: "is required (YYYY-MM-DD)"}
	}
	if p.To.IsZero() {
		return &FieldError{Field: "to", Message: "is required (YYYY-MM-DD)"}
	}
	p.From, p.To = day(p.From), day(p.To)
	if p.To.Before(p.From) {
		return &FieldError{Field: "to", Message: "must not be before from"}
	}
	if p.To.Sub(p.From) > 3660*24*time.Hour {
		return &FieldError{Field: "from", Message: "the window may span at most ten years"}
	}
	return nil
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// contact is one contact folded from the store's rows.
type contact struct {
	source, motion, stage string
	created               time.Time
	changes               []change
}

type change struct {
	from, to string
	at       time.Time
}

// Report computes the funnel of workspace ws.
func Report(ctx context.Context, st *store.Store, ws int64, p Params) (Result, error) {
	if err := p.Check(); err != nil {
		return Result{}, err
	}
	start, end := p.From, p.To.AddDate(0, 0, 1)
	acc := newAccumulator(p, start, end)
	var cur *contact
	var curID int64
	flush := func() {
		if cur != nil {
			acc.add(cur)
		}
	}
	// FunnelRows gives only the contacts that can reach a stage in the window
	// (created in it, or changing stage in it: the reach times add uses).
	err := st.Read().FunnelRows(ctx, ws, start, end, func(r store.FunnelRow) error {
		if cur == nil || r.ContactID != curID {
			flush()
			cur = &contact{source: r.Source, motion: r.Motion, stage: r.Stage, created: r.CreatedAt}
			curID = r.ContactID
		}
		if !r.Change || r.From == r.To {
			return nil // not a lifecycle change
		}
		cur.changes = append(cur.changes, change{from: r.From, to: r.To, at: r.At})
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	flush()
	return acc.report(), nil
}

// tally is the running count of one group.
type tally struct {
	reached   map[string]int
	converted map[string]int // by from-stage: reached the next stage afterwards
	days      map[string][]float64
	l2cDen    int
	l2cNum    int
	exits     map[string]int
	exitFrom  map[string]map[string]int
}

func newTally() *tally {
	return &tally{reached: map[string]int{}, converted: map[string]int{}, days: map[string][]float64{},
		exits: map[string]int{}, exitFrom: map[string]map[string]int{}}
}

type accumulator struct {
	p          Params
	start, end time.Time
	groups     map[string]*tally
	total      *tally
	bySource   map[string]*tally
}

func newAccumulator(p Params, start, end time.Time) *accumulator {
	a := &accumulator{p: p, start: start, end: end, groups: map[string]*tally{}, total: newTally(), bySource: map[string]*tally{}}
	if p.By == "period" {
		// Every period of the window appears, even an empty one.
		for t := start; t.Before(end); t = t.AddDate(0, 0, 1) {
			a.group(a.periodKey(t))
		}
	}
	return a
}

func (a *accumulator) group(key string) *tally {
	g := a.groups[key]
	if g == nil {
		g = newTally()
		a.groups[key] = g
	}
	return g
}

func (a *accumulator) periodKey(t time.Time) string {
	t = t.UTC()
	if a.p.Period == "week" {
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	}
	return t.Format("2006-01")
}

func orUnknown(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

// groupOf is the group a contact's event at t belongs to.
func (a *accumulator) groupOf(c *contact, t time.Time) *tally {
	switch a.p.By {
	case "motion":
		return a.group(orUnknown(c.motion))
	case "source":
		return a.group(orUnknown(c.source))
	}
	return a.group(a.periodKey(t))
}

func (a *accumulator) in(t time.Time) bool { return !t.Before(a.start) && t.Before(a.end) }

// add folds one contact in. A contact reaches a stage when it enters it for the
// first time: at creation for the stage it was created in, else at the history
// entry that moved it there. Entries after the window's end are ignored.
func (a *accumulator) add(c *contact) {
	initial := c.stage
	if len(c.changes) > 0 && c.changes[0].from != "" {
		initial = c.changes[0].from
	}
	reach := map[string]time.Time{initial: c.created}
	exitFrom := map[string]string{}
	for _, ch := range c.changes {
		if !ch.at.Before(a.end) {
			break
		}
		if _, seen := reach[ch.to]; !seen {
			reach[ch.to] = ch.at
			exitFrom[ch.to] = ch.from
		}
	}
	for i, s := range Stages {
		t, ok := reach[s]
		if !ok || !a.in(t) {
			continue
		}
		gs := []*tally{a.total, a.groupOf(c, t)}
		for _, g := range gs {
			g.reached[s]++
		}
		if i+1 < len(Stages) {
			if tn, ok := reach[Stages[i+1]]; ok && !tn.Before(t) {
				d := tn.Sub(t).Hours() / 24
				for _, g := range gs {
					g.converted[s]++
					g.days[s] = append(g.days[s], d)
				}
			}
		}
		if s == "lead" {
			src := a.bySource[orUnknown(c.source)]
			if src == nil {
				src = newTally()
				a.bySource[orUnknown(c.source)] = src
			}
			gs = append(gs, src)
			tc, won := reach["customer"]
			won = won && !tc.Before(t)
			for _, g := range gs {
				g.l2cDen++
				if won {
					g.l2cNum++
				}
			}
		}
	}
	for _, e := range Exits {
		t, ok := reach[e]
		if !ok || !a.in(t) {
			continue
		}
		from := exitFrom[e]
		if from == "" {
			from = "created"
		}
		for _, g := range []*tally{a.total, a.groupOf(c, t)} {
			g.exits[e]++
			if g.exitFrom[e] == nil {
				g.exitFrom[e] = map[string]int{}
			}
			g.exitFrom[e][from]++
		}
	}
}

func ratio(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	r := math.Round(float64(num)/float64(den)*10000) / 10000
	return &r
}

func round2(x float64) *float64 {
	r := math.Round(x*100) / 100
	return &r
}

func conversion(from, to string, num, den int) Conversion {
	return Conversion{From: from, To: to, Converted: num, Denominator: den, Rate: ratio(num, den),
		DenominatorIs: fmt.Sprintf("contacts that reached %s in the window", from)}
}

func (t *tally) group(key string) Group {
	g := Group{Key: key, Stages: []StageCount{}, Conversions: []Conversion{}, Durations: []Duration{}, Exits: []Exit{}}
	for i, s := range Stages {
		g.Stages = append(g.Stages, StageCount{Stage: s, Reached: t.reached[s]})
		if i+1 == len(Stages) {
			continue
		}
		next := Stages[i+1]
		g.Conversions = append(g.Conversions, conversion(s, next, t.converted[s], t.reached[s]))
		d := Duration{From: s, To: next, N: len(t.days[s])}
		if d.N > 0 {
			xs := slices.Clone(t.days[s])
			sort.Float64s(xs)
			med := xs[d.N/2]
			if d.N%2 == 0 {
				med = (xs[d.N/2-1] + xs[d.N/2]) / 2
			}
			sum := 0.0
			for _, x := range xs {
				sum += x
			}
			d.MedianDays, d.MeanDays = round2(med), round2(sum/float64(d.N))
		}
		g.Durations = append(g.Durations, d)
	}
	g.LeadToCustomer = conversion("lead", "customer", t.l2cNum, t.l2cDen)
	for _, e := range Exits {
		from := t.exitFrom[e]
		if from == nil {
			from = map[string]int{}
		}
		g.Exits = append(g.Exits, Exit{Stage: e, Count: t.exits[e], From: from})
	}
	return g
}

func (a *accumulator) report() Result {
	r := Result{
		From: a.p.From.Format(time.DateOnly), To: a.p.To.Format(time.DateOnly), By: a.p.By,
		Convention: Convention{
			Window: fmt.Sprintf("%s ≤ t < %s UTC: from and to are whole days, both included",
				a.start.Format(time.DateOnly), a.end.Format(time.DateOnly)),
			Reached: "a contact reaches a stage the first time it enters it: at creation for the stage it was created in " +
				"(the stage before its first recorded lifecycle change, else its current stage), otherwise at the history entry " +
				"that moved it there; a stage skipped over is not reached; re-entries are not counted again; " +
				"stages reached in the window are counted; lifecycle changes made without history (bulk imports) are not seen",
			Conversion: "cohort: of the contacts that reached a stage in the window (the denominator), those that reached the next " +
				"stage at or after it and before the window's end; lead → customer likewise",
			Days: "calendar days (24 h) from reaching a stage to reaching the next, over the converted contacts of that conversion; " +
				"median (mean of the middle two for an even count) and mean, rounded to 0.01",
			Exits: "contacts that first entered disqualified or nurture in the window, by the stage they left (created: created in it)",
		},
		Groups: []Group{},
	}
	switch a.p.By {
	case "motion":
		r.Convention.Grouping = "by the motion of the contact's account now (accounts.motion); unknown without an account or motion"
	case "source":
		r.Convention.Grouping = "by the contact's source now; unknown when empty"
	default:
		r.Period = a.p.Period
		label := "calendar month (YYYY-MM)"
		if a.p.Period == "week" {
			label = "ISO week (YYYY-Www, Monday to Sunday)"
		}
		r.Convention.Grouping = "by the UTC " + label + " in which the contact reached the stage (for conversions and days: the earlier stage; for exits: the exit)"
	}
	r.Total = a.total.group("total")
	for _, k := range slices.Sorted(maps.Keys(a.groups)) {
		r.Groups = append(r.Groups, a.groups[k].group(k))
	}
	r.LeadToCustomerBySource = []SourceConversion{}
	for _, k := range slices.Sorted(maps.Keys(a.bySource)) {
		t := a.bySource[k]
		r.LeadToCustomerBySource = append(r.LeadToCustomerBySource, SourceConversion{Source: k, Conversion: conversion("lead", "customer", t.l2cNum, t.l2cDen)})
	}
	return r
}
