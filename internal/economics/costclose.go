package economics

import (
	"fmt"
	"math"
	"slices"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Cost-to-close: what the time spent on a deal cost, from its effort by role
// (internal/forecast) and each role's loaded hourly cost (cost profiles),
// against what a customer of its segment × motion is worth.

// RoleRate is a role's loaded hourly cost.
type RoleRate struct {
	Role     string   `json:"role"`
	Annual   *float64 `json:"annual"` // minor units a year
	Hourly   *float64 `json:"hourly"` // minor units an hour
	Profiles int      `json:"profiles"`
	Basis    string   `json:"basis"`
}

// effortCostRole maps a membership (effort) role to the cost-profile role
// whose cost it has; admins, former members and unattributed time have none.
var effortCostRole = map[string]string{model.RoleManager: model.RoleManager, model.RoleLDR: model.RoleLDR, model.RoleAE: model.RoleAE, model.RoleCSM: model.RoleCSM}

// RoleRates computes the hourly cost of each cost role from the profiles of
// currency: annual loaded cost weighted by each profile's headcount over the
// 12 months ending toMonth (a plain mean when the role has no headcount then),
// ÷ hours a year.
func RoleRates(profiles []Profile, currency, toMonth string, hours int) map[string]RoleRate {
	fromMonth := AddMonths(toMonth, -11)
	type acc struct {
		weighted, fte, sum float64
		n                  int
	}
	accs := map[string]*acc{}
	for _, p := range profiles {
		if p.Currency != currency {
			continue
		}
		a := accs[p.Role]
		if a == nil {
			a = &acc{}
			accs[p.Role] = a
		}
		a.n++
		a.sum += p.Cost.Annual
		for _, h := range p.Headcount {
			if h.Month >= fromMonth && h.Month <= toMonth {
				a.weighted += p.Cost.Annual * h.Headcount
				a.fte += h.Headcount
			}
		}
	}
	out := map[string]RoleRate{}
	for role, a := range accs {
		r := RoleRate{Role: role, Profiles: a.n}
		if a.fte > 0 {
			r.Annual = ptr(a.weighted / a.fte)
			r.Basis = fmt.Sprintf("headcount-weighted over %s to %s", fromMonth, toMonth)
		} else {
			r.Annual = ptr(a.sum / float64(a.n))
			r.Basis = "mean of the role's profiles (no headcount in the last 12 months)"
		}
		r.Hourly = ptr(*r.Annual / float64(hours))
		out[role] = r
	}
	return out
}

// RoleCost is one role's time and cost on a deal.
type RoleCost struct {
	Role       string   `json:"role"`
	Minutes    int64    `json:"minutes"`
	Hours      float64  `json:"hours"`
	HourlyCost *float64 `json:"hourly_cost"`
	Cost       *float64 `json:"cost"`
	Basis      string   `json:"basis,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// CostToClose is what a deal's time cost and what that is worth against.
type CostToClose struct {
	DealID        int64      `json:"deal_id"`
	Name          string     `json:"name"`
	Pipeline      string     `json:"pipeline"`
	Stage         string     `json:"stage"`
	Open          bool       `json:"open"`
	Segment       string     `json:"segment"`
	Motion        string     `json:"motion"`
	Currency      string     `json:"currency"`
	Roles         []RoleCost `json:"roles"`
	Hours         float64    `json:"hours"`
	UncostedHours float64    `json:"uncosted_hours"`
	Cost          float64    `json:"cost"`
	LTV           *float64   `json:"ltv"`
	LTVVariant    string     `json:"ltv_variant"`
	LTVAsOf       string     `json:"ltv_as_of,omitempty"`
	Target        float64    `json:"ltv_cac_target"`
	Limit         *float64   `json:"limit"` // LTV ÷ target
	Exceeds       bool       `json:"exceeds"`
	WorkingHours  int        `json:"working_hours_per_year"`
	Convention    string     `json:"convention"`
	Notes         []string   `json:"notes"`
}

// ComputeCostToClose prices a deal's effort minutes by role (forecast roles)
// with rates, and compares the cost with ltv ÷ target (ltv may be nil).
func ComputeCostToClose(d store.OpenDeal, outcome string, minutes map[string]int64, rates map[string]RoleRate, currency string, hours int, ltv *LTVFigure, target float64) CostToClose {
	c := CostToClose{DealID: d.ID, Name: d.Name, Pipeline: d.Pipeline, Stage: d.Stage, Open: outcome == "", Segment: cellOf(d.Segment, d.Motion).Segment,
		Motion: cellOf(d.Segment, d.Motion).Motion, Currency: currency, Roles: []RoleCost{}, Target: target, WorkingHours: hours,
		Convention: metricConventions["cost_to_close"], Notes: []string{}}
	for _, role := range forecast.EffortRoles {
		m, ok := minutes[role]
		if !ok || m == 0 {
			continue
		}
		rc := RoleCost{Role: role, Minutes: m, Hours: math.Round(float64(m)/60*100) / 100}
		c.Hours += float64(m) / 60
		cr, costed := effortCostRole[role]
		rate, has := rates[cr]
		switch {
		case !costed:
			rc.Note = "no cost profile role for " + role
		case !has:
			rc.Note = "no " + cr + " cost profile in " + currency
		default:
			rc.HourlyCost = rate.Hourly
			rc.Cost = ptr(float64(m) / 60 * *rate.Hourly)
			rc.Basis = rate.Basis
			c.Cost += *rc.Cost
		}
		if rc.Cost == nil {
			c.UncostedHours += float64(m) / 60
		}
		c.Roles = append(c.Roles, rc)
	}
	c.Hours = math.Round(c.Hours*100) / 100
	c.UncostedHours = math.Round(c.UncostedHours*100) / 100
	if c.UncostedHours > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("%.2f hours have no cost profile and are not in the cost", c.UncostedHours))
	}
	if ltv != nil {
		c.LTVVariant = ltv.Variant
		c.LTV = ltv.Value
		if ltv.Value == nil {
			c.Notes = append(c.Notes, "no LTV for "+c.Segment+" via "+c.Motion+": "+ltv.Note)
		} else if target > 0 {
			c.Limit = ptr(*ltv.Value / target)
			c.Exceeds = c.Cost > *c.Limit
		}
	}
	return c
}

// costToCloseAll prices every open deal of a pipeline from the effort of all deals.
func costToCloseAll(deals []store.OpenDeal, effort map[int64]map[string]int64, rates map[string]RoleRate, currency string, hours int, ltvs map[Cell]LTVFigure, target float64) []CostToClose {
	out := []CostToClose{}
	for _, d := range deals {
		m := effort[d.ID]
		if len(m) == 0 {
			continue
		}
		l, ok := ltvs[cellOf(d.Segment, d.Motion)]
		var lp *LTVFigure
		if ok {
			lp = &l
		}
		out = append(out, ComputeCostToClose(d, "", m, rates, currency, hours, lp, target))
	}
	slices.SortStableFunc(out, func(a, b CostToClose) int {
		switch {
		case a.Cost > b.Cost:
			return -1
		case a.Cost < b.Cost:
			return 1
		}
		return 0
	})
	return out
}
