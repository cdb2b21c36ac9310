// Package staffing is the staffing planner (PRODUCT.md §7): in-house reps
// against a sales-as-a-service partner, month by month over 24 months — what
// each costs, how much productive capacity it delivers, what a productive
// month, a meeting, an SQL and a won customer cost, and when the margin of the
// customers it wins pays its cost back. This file is the arithmetic, pure and
// hand-checked in the tests; service.go stores scenarios and resolves their
// inputs from the workspace (cost profiles, settings, conversion rates).
package staffing

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Horizon is how many months a plan projects.
const Horizon = 24

// Scenario kinds.
const (
	InHouse = "in_house"
	Partner = "partner"
)

// Kinds lists the scenario kinds.
var Kinds = []string{InHouse, Partner}

// Params are a scenario's inputs. Money is minor units (per month unless the
// name says otherwise); rates are fractions.
type Params struct {
	// Segment and Motion say what market the team works; the motion picks the
	// conversion rates read from the workspace's funnel.
	Segment  string `json:"segment"`
	Motion   string `json:"motion"`
	Currency string `json:"currency"`
	// Reps is the number of reps (in-house hires, or the partner's dedicated reps).
	Reps int `json:"reps"`
	// LeadTimeMonths pass before work starts: hiring, or partner onboarding.
	LeadTimeMonths int `json:"lead_time_months"`
	// RampMonths and RampCurve: a new rep's productivity in each ramp month
	// (fractions of a ramped rep); empty curve means linear, k ÷ (ramp + 1).
	RampMonths int       `json:"ramp_months"`
	RampCurve  []float64 `json:"ramp_curve"`
	// Per ramped rep and month.
	MeetingsPerMonth float64 `json:"meetings_per_month"`
	SQLsPerMonth     float64 `json:"sqls_per_month"`
	// SQLToWon is used when the workspace's own funnel has too little data.
	SQLToWon *float64 `json:"sql_to_won"`
	// ARPA (per month), MonthlyChurn and GrossMargin value the customers won,
	// for break-even and LTV; GrossMargin nil uses the workspace setting.
	ARPA         *int64   `json:"arpa"`
	MonthlyChurn *float64 `json:"monthly_churn"`
	GrossMargin  *float64 `json:"gross_margin"`
	// ManagementMonthly is the internal management overhead while the team works.
	ManagementMonthly int64 `json:"management_monthly"`
	// In-house only.
	CostProfileID *int64 `json:"cost_profile_id"`
	TenureMonths  int    `json:"tenure_months"`
	// Partner only.
	RetainerMonthly int64 `json:"retainer_monthly"`
	FeePerMeeting   int64 `json:"fee_per_meeting"`
	FeePerSQL       int64 `json:"fee_per_sql"`
	FeePerWon       int64 `json:"fee_per_won"`
	SetupFee        int64 `json:"setup_fee"`
	// PartnerID links a partner scenario to a partner record: once the
	// partner has a full month of delivered work, its actual rates and its
	// terms replace the scenario's assumptions (Plan.Assumptions says which).
	PartnerID *int64 `json:"partner_id"`
}

// Input creates or replaces a scenario.
type Input struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Params
}

// Scenario is a stored scenario.
type Scenario struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	Params
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const maxMoney = 1_000_000_000_000_000

func fieldErr(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

func frac(field string, v *float64, lo, hi float64) error {
	if v != nil && (math.IsNaN(*v) || *v < lo || *v > hi) {
		return fieldErr(field, "must be between %g and %g (a fraction: 0.25 is 25 %%)", lo, hi)
	}
	return nil
}

// Validate checks and normalises an input. Fields of the other kind must be
// left at zero, so a partner's retainer is never silently ignored on an
// in-house scenario (or a tenure on a partner).
func Validate(in *Input, defCurrency string) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Kind = strings.TrimSpace(in.Kind)
	p := &in.Params
	switch {
	case in.Name == "":
		return fieldErr("name", "is required")
	case len(in.Name) > 100:
		return fieldErr("name", "at most 100 characters")
	case !slices.Contains(Kinds, in.Kind):
		return fieldErr("kind", "must be in_house or partner")
	case p.Reps < 1 || p.Reps > 1000:
		return fieldErr("reps", "must be between 1 and 1000")
	case p.LeadTimeMonths < 0 || p.LeadTimeMonths > Horizon:
		return fieldErr("lead_time_months", "must be between 0 and %d", Horizon)
	case p.RampMonths < 0 || p.RampMonths > Horizon:
		return fieldErr("ramp_months", "must be between 0 and %d", Horizon)
	case len(p.RampCurve) != 0 && len(p.RampCurve) != p.RampMonths:
		return fieldErr("ramp_curve", "has %d values for %d ramp months (one per month, or none for a linear ramp)", len(p.RampCurve), p.RampMonths)
	case math.IsNaN(p.MeetingsPerMonth) || p.MeetingsPerMonth < 0 || p.MeetingsPerMonth > 10000:
		return fieldErr("meetings_per_month", "must be between 0 and 10000")
	case math.IsNaN(p.SQLsPerMonth) || p.SQLsPerMonth < 0 || p.SQLsPerMonth > 10000:
		return fieldErr("sqls_per_month", "must be between 0 and 10000")
	case p.ARPA != nil && (*p.ARPA < 0 || *p.ARPA > maxMoney):
		return fieldErr("arpa", "must be a monthly amount in minor units between 0 and 10^15")
	case p.ManagementMonthly < 0 || p.ManagementMonthly > maxMoney:
		return fieldErr("management_monthly", "must be a monthly amount in minor units between 0 and 10^15")
	}
	for i, v := range p.RampCurve {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return fieldErr(fmt.Sprintf("ramp_curve[%d]", i), "must be between 0 and 1 (0.5 is half a ramped rep)")
		}
	}
	if p.SQLToWon != nil && (math.IsNaN(*p.SQLToWon) || *p.SQLToWon <= 0 || *p.SQLToWon > 1) {
		return fieldErr("sql_to_won", "must be above 0 and at most 1 (0.2 is 20 %% of SQLs won)")
	}
	if err := frac("monthly_churn", p.MonthlyChurn, 0, 1); err != nil {
		return err
	}
	if err := frac("gross_margin", p.GrossMargin, 0, 1); err != nil {
		return err
	}
	p.Segment = strings.ToLower(strings.TrimSpace(p.Segment))
	if len(p.Segment) > 64 {
		return fieldErr("segment", "at most 64 characters")
	}
	p.Motion = strings.TrimSpace(p.Motion)
	if p.Motion != "" && !slices.Contains(model.Motions, p.Motion) {
		return fieldErr("motion", "must be one of %s, or empty", strings.Join(model.Motions, ", "))
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if p.Currency == "" {
		p.Currency = defCurrency
	}
	if len(p.Currency) != 3 || strings.Trim(p.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fieldErr("currency", "must be a 3-letter ISO 4217 code such as USD")
	}
	partnerOnly := map[string]int64{"retainer_monthly": p.RetainerMonthly, "fee_per_meeting": p.FeePerMeeting, "fee_per_sql": p.FeePerSQL, "fee_per_won": p.FeePerWon, "setup_fee": p.SetupFee}
	if in.Kind == InHouse {
		switch {
		case p.CostProfileID == nil:
			return fieldErr("cost_profile_id", "is required for in-house reps: the cost profile of one rep (GET /api/v1/cost-profiles)")
		case p.TenureMonths < 1 || p.TenureMonths > 240:
			return fieldErr("tenure_months", "must be between 1 and 240 (how long a rep stays; ~14 for SDRs)")
		case p.TenureMonths < p.RampMonths:
			return fieldErr("tenure_months", "must be at least the ramp (%d months)", p.RampMonths)
		}
		for _, k := range []string{"retainer_monthly", "fee_per_meeting", "fee_per_sql", "fee_per_won", "setup_fee"} {
			if partnerOnly[k] != 0 {
				return fieldErr(k, "applies to a partner scenario only")
			}
		}
		if p.PartnerID != nil {
			return fieldErr("partner_id", "applies to a partner scenario only")
		}
		return nil
	}
	if p.CostProfileID != nil {
		return fieldErr("cost_profile_id", "applies to in-house scenarios only (a partner's cost is its fees)")
	}
	if p.TenureMonths != 0 {
		return fieldErr("tenure_months", "applies to in-house scenarios only (the partner replaces its own reps)")
	}
	for _, k := range []string{"retainer_monthly", "fee_per_meeting", "fee_per_sql", "fee_per_won", "setup_fee"} {
		if partnerOnly[k] < 0 || partnerOnly[k] > maxMoney {
			return fieldErr(k, "must be an amount in minor units between 0 and 10^15")
		}
	}
	return nil
}

// Curve is the ramp curve of p: as given, or linear (k ÷ (ramp + 1) in ramp
// month k, so a 3-month ramp is 25 %, 50 %, 75 %).
func Curve(p Params) []float64 {
	if len(p.RampCurve) == p.RampMonths && p.RampMonths > 0 {
		return p.RampCurve
	}
	out := make([]float64, p.RampMonths)
	for k := range out {
		out[k] = float64(k+1) / float64(p.RampMonths+1)
	}
	return out
}

// AverageRamp is the mean productivity over the ramp months (1 with no ramp).
func AverageRamp(curve []float64) float64 {
	if len(curve) == 0 {
		return 1
	}
	var t float64
	for _, v := range curve {
		t += v
	}
	return t / float64(len(curve))
}

// ProductiveMonths is PRODUCT.md §7's P = tenure − ramp + ramp × average ramp
// productivity: how many fully productive months a rep delivers over a tenure.
func ProductiveMonths(tenure, ramp int, avgRamp float64) float64 {
	return float64(tenure-ramp) + float64(ramp)*avgRamp
}

// Conversion is the SQL → won rate a plan used and where it came from.
type Conversion struct {
	SQLToWon *float64 `json:"sql_to_won"`
	// Source is workspace_data, configured or none.
	Source string `json:"source"`
	Detail string `json:"detail"`
}

// Env is what a plan needs beyond its scenario, resolved from the workspace.
type Env struct {
	// RepMonthlyCost is one in-house rep's loaded cost ÷ 12 (minor units).
	RepMonthlyCost float64
	ProfileName    string
	// GrossMargin values won customers; GrossMarginSource says from where.
	GrossMargin       float64
	GrossMarginSource string
	LifetimeCapMonths int
	Conversion        Conversion
	// Assumptions, when set, say the scenario's rates were replaced by actuals
	// (the caller has already put them into the scenario).
	Assumptions *Assumptions
}

// Month is one month of a plan. Ratios are cumulative to the month's end and
// null while their denominator is zero.
type Month struct {
	Month                  int      `json:"month"`
	Productivity           float64  `json:"productivity"` // of each rep, 0–1
	Cost                   int64    `json:"cost"`
	Capacity               float64  `json:"productive_capacity"` // productive rep-months
	Meetings               float64  `json:"meetings"`
	SQLs                   float64  `json:"sqls"`
	Won                    *float64 `json:"won"`
	CumCost                int64    `json:"cum_cost"`
	CumCapacity            float64  `json:"cum_productive_capacity"`
	CumMeetings            float64  `json:"cum_meetings"`
	CumSQLs                float64  `json:"cum_sqls"`
	CumWon                 *float64 `json:"cum_won"`
	CostPerProductiveMonth *float64 `json:"cost_per_productive_month"`
	CostPerMeeting         *float64 `json:"cost_per_meeting"`
	CostPerSQL             *float64 `json:"cost_per_sql"`
	CostPerWon             *float64 `json:"cost_per_won"`
	CumMargin              *int64   `json:"cum_margin"`
}

// PerRep is the tenure view of one in-house rep (PRODUCT.md §7).
type PerRep struct {
	MonthlyCost            float64 `json:"monthly_cost"`
	TenureMonths           int     `json:"tenure_months"`
	RampMonths             int     `json:"ramp_months"`
	AverageRamp            float64 `json:"average_ramp_productivity"`
	ProductiveMonths       float64 `json:"productive_months"`
	TenureCost             float64 `json:"tenure_cost"`
	CostPerProductiveMonth float64 `json:"cost_per_productive_month"`
}

// Summary is a plan's 24-month totals and ratios.
type Summary struct {
	TotalCost              int64          `json:"total_cost"`
	ProductiveMonths       float64        `json:"productive_months"`
	Meetings               float64        `json:"meetings"`
	SQLs                   float64        `json:"sqls"`
	Won                    *float64       `json:"won"`
	CostPerProductiveMonth *float64       `json:"cost_per_productive_month"`
	CostPerMeeting         *float64       `json:"cost_per_meeting"`
	CostPerSQL             *float64       `json:"cost_per_sql"`
	CostPerWon             *float64       `json:"cost_per_won"`
	FullCapacityMonth      *int           `json:"full_capacity_month"`
	BreakEvenMonth         *int           `json:"break_even_month"`
	BreakEvenNote          string         `json:"break_even_note"`
	PerRep                 *PerRep        `json:"per_rep,omitempty"`
	LTV                    *economics.LTV `json:"ltv"`
	LTVToCAC               *float64       `json:"ltv_to_cac"`
}

// Assumption sources.
const (
	Assumed = "assumed" // the scenario's own rates and fees
	Actual  = "actual"  // a linked partner's delivered work and terms
)

// Assumptions say where a plan's output rates and fees came from: the
// scenario's inputs, or — for a partner scenario linked to a partner record
// with at least one full month of delivered work — the partner's actual
// meetings and accepted SQLs per month (÷ the scenario's reps) and its terms.
type Assumptions struct {
	Source string `json:"source"`
	// Months of delivered work behind actual rates (0 when assumed).
	Months int    `json:"months"`
	Detail string `json:"detail"`
	// MeetingsPerMonth and SQLsPerMonth per ramped rep, as the plan used them.
	MeetingsPerMonth float64 `json:"meetings_per_month"`
	SQLsPerMonth     float64 `json:"sqls_per_month"`
	// Terms are the fees the plan used: the scenario's, or a linked
	// partner's (its contract).
	Terms model.PartnerTerms `json:"terms"`
	// The partner's actual cost per meeting, SQL and won customer over those
	// months (fees + management ÷ delivered), when actual.
	ActualCostPerMeeting *float64 `json:"actual_cost_per_meeting,omitempty"`
	ActualCostPerSQL     *float64 `json:"actual_cost_per_sql,omitempty"`
	ActualCostPerWon     *float64 `json:"actual_cost_per_won,omitempty"`
}

// Plan is a scenario projected over Horizon months.
type Plan struct {
	Scenario    Scenario    `json:"scenario"`
	Assumptions Assumptions `json:"assumptions"`
	Months      []Month     `json:"months"`
	Summary     Summary     `json:"summary"`
	Conversion  Conversion  `json:"conversion"`
	GrossMargin float64     `json:"gross_margin"`
	// Problem says why there are no months (e.g. the cost profile is gone).
	Problem     string   `json:"problem,omitempty"`
	Conventions []string `json:"conventions"`
}

// Conventions say how every figure of a plan is computed.
var Conventions = []string{
	"Months are numbered 1–24 from the plan's start; nothing works during the lead time (hiring or onboarding), and nothing is paid for it except a partner's setup fee, due in month 1.",
	"In-house: each rep costs the cost profile's annual loaded cost ÷ 12 every month from the end of the lead time; reps are hired together, and a rep who leaves after the tenure is replaced at once by a new hire who ramps again.",
	"Partner: retainer + meetings × fee per meeting + SQLs × fee per SQL + won × fee per won deal each month from the end of the onboarding lead time; the partner replaces its own reps, so its ramp happens once.",
	"A partner scenario linked to a partner record with at least one full month of delivered work uses that partner's actual meetings and accepted SQLs per month (÷ reps) and its fee terms instead of the scenario's assumptions; assumptions.source says actual (from N months) or assumed.",
	"Management overhead is added every month the team works. Productive capacity = reps × ramp productivity (a ramped rep-month is 1); meetings and SQLs = capacity × the per-ramped-rep rates.",
	"Cost per productive month, meeting, SQL and won customer are cumulative: cost to date ÷ output to date. Won = SQLs × SQL→won (the workspace's funnel when it has the data, else the configured rate).",
	"Break-even: customers pay ARPA × gross margin each month from the month after they are won, and churn monthly; the break-even month is the first whose cumulative margin covers the cumulative cost.",
	"LTV is simple_gm (ARPA × gross margin ÷ churn, lifetime capped); LTV:CAC divides it by this team's cost per won customer over 24 months — the team's CAC, not the workspace's blended CAC.",
}

func ratio(num float64, den float64) *float64 {
	if den <= 0 {
		return nil
	}
	v := num / den
	return &v
}

// Project computes a scenario's plan.
func Project(sc Scenario, env Env) Plan {
	p := sc.Params
	plan := Plan{Scenario: sc, Months: make([]Month, 0, Horizon), Conversion: env.Conversion, GrossMargin: env.GrossMargin, Conventions: Conventions,
		Assumptions: Assumptions{Source: Assumed, MeetingsPerMonth: p.MeetingsPerMonth, SQLsPerMonth: p.SQLsPerMonth,
			Detail: fmt.Sprintf("assumed: the scenario's %s meetings and %s SQLs per ramped rep-month", trimNum(p.MeetingsPerMonth), trimNum(p.SQLsPerMonth))}}
	if env.Assumptions != nil {
		plan.Assumptions = *env.Assumptions
	}
	plan.Assumptions.Terms = model.PartnerTerms{RetainerMonthly: p.RetainerMonthly, FeePerMeeting: p.FeePerMeeting, FeePerSQL: p.FeePerSQL, FeePerWon: p.FeePerWon, SetupFee: p.SetupFee, ManagementMonthly: p.ManagementMonthly}
	curve := Curve(p)
	rate := env.Conversion.SQLToWon
	churn := 0.0
	if p.MonthlyChurn != nil {
		churn = *p.MonthlyChurn
	}
	var cumCost int64
	var cumCap, cumMeet, cumSQL, cumWon, active, cumMargin float64
	var lastWon float64
	valued := p.ARPA != nil && rate != nil
	for m := 1; m <= Horizon; m++ {
		mo := Month{Month: m}
		var cost float64
		if p.SetupFee != 0 && m == 1 {
			cost += float64(p.SetupFee)
		}
		if m > p.LeadTimeMonths {
			k := m - p.LeadTimeMonths - 1
			if sc.Kind == InHouse {
				k %= p.TenureMonths
			}
			mo.Productivity = 1
			if k < len(curve) {
				mo.Productivity = curve[k]
			}
			mo.Capacity = float64(p.Reps) * mo.Productivity
			mo.Meetings = mo.Capacity * p.MeetingsPerMonth
			mo.SQLs = mo.Capacity * p.SQLsPerMonth
			cost += float64(p.ManagementMonthly)
			if sc.Kind == InHouse {
				cost += float64(p.Reps) * env.RepMonthlyCost
			} else {
				cost += float64(p.RetainerMonthly) + mo.Meetings*float64(p.FeePerMeeting) + mo.SQLs*float64(p.FeePerSQL)
				if rate != nil {
					cost += mo.SQLs * *rate * float64(p.FeePerWon)
				}
			}
		}
		mo.Cost = int64(math.Round(cost))
		cumCost += mo.Cost
		cumCap += mo.Capacity
		cumMeet += mo.Meetings
		cumSQL += mo.SQLs
		mo.CumCost, mo.CumCapacity, mo.CumMeetings, mo.CumSQLs = cumCost, cumCap, cumMeet, cumSQL
		mo.CostPerProductiveMonth = ratio(float64(cumCost), cumCap)
		mo.CostPerMeeting = ratio(float64(cumCost), cumMeet)
		mo.CostPerSQL = ratio(float64(cumCost), cumSQL)
		if rate != nil {
			won := mo.SQLs * *rate
			cumWon += won
			mo.Won, mo.CumWon = &won, ptr(cumWon)
			mo.CostPerWon = ratio(float64(cumCost), cumWon)
		}
		if valued {
			// Customers won before this month pay this month.
			active = active*(1-churn) + lastWon
			cumMargin += active * float64(*p.ARPA) * env.GrossMargin
			cm := int64(math.Round(cumMargin))
			mo.CumMargin = &cm
			if mo.Won != nil {
				lastWon = *mo.Won
			}
			if plan.Summary.BreakEvenMonth == nil && cumCost > 0 && cm >= cumCost {
				plan.Summary.BreakEvenMonth = ptr(m)
			}
		}
		if plan.Summary.FullCapacityMonth == nil && mo.Productivity == 1 {
			plan.Summary.FullCapacityMonth = ptr(m)
		}
		plan.Months = append(plan.Months, mo)
	}
	last := plan.Months[Horizon-1]
	s := &plan.Summary
	s.TotalCost, s.ProductiveMonths, s.Meetings, s.SQLs, s.Won = cumCost, cumCap, cumMeet, cumSQL, last.CumWon
	s.CostPerProductiveMonth, s.CostPerMeeting, s.CostPerSQL, s.CostPerWon = last.CostPerProductiveMonth, last.CostPerMeeting, last.CostPerSQL, last.CostPerWon
	switch {
	case p.ARPA == nil:
		s.BreakEvenNote = "set an ARPA (monthly revenue per customer) to value the customers won"
	case rate == nil:
		s.BreakEvenNote = "no SQL→won rate: the workspace's funnel has too little data and none is configured"
	case s.BreakEvenMonth == nil:
		s.BreakEvenNote = fmt.Sprintf("not within %d months", Horizon)
	default:
		s.BreakEvenNote = fmt.Sprintf("month %d: cumulative margin of the customers won covers the cumulative cost", *s.BreakEvenMonth)
	}
	if sc.Kind == InHouse {
		avg := AverageRamp(curve)
		pm := ProductiveMonths(p.TenureMonths, p.RampMonths, avg)
		r := &PerRep{MonthlyCost: env.RepMonthlyCost, TenureMonths: p.TenureMonths, RampMonths: p.RampMonths, AverageRamp: avg, ProductiveMonths: pm,
			TenureCost: env.RepMonthlyCost * float64(p.TenureMonths)}
		if pm > 0 {
			r.CostPerProductiveMonth = r.TenureCost / pm
		}
		s.PerRep = r
	}
	if p.ARPA != nil {
		churnRate := 0.0
		if p.MonthlyChurn != nil {
			churnRate = *p.MonthlyChurn
		}
		if ltv, err := economics.SimpleGMLTV(float64(*p.ARPA), env.GrossMargin, churnRate, float64(env.LifetimeCapMonths)); err == nil {
			s.LTV = &ltv
			if s.CostPerWon != nil {
				if r, err := economics.LTVToCAC(ltv.Value, *s.CostPerWon); err == nil {
					s.LTVToCAC = &r
				}
			}
		}
	}
	return plan
}

func ptr[T any](v T) *T { return &v }

func trimNum(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// Row is one scenario's line in a comparison.
type Row struct {
	ID      int64   `json:"id"`
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Summary Summary `json:"summary"`
	Problem string  `json:"problem,omitempty"`
}

// Comparison puts scenarios side by side and names the best on each measure.
type Comparison struct {
	Currency string `json:"currency"`
	Rows     []Row  `json:"rows"`
	// Best maps a measure (cost_per_meeting, cost_per_sql, cost_per_won,
	// cost_per_productive_month, full_capacity_month, break_even_month) to
	// the id of the scenario that does best on it.
	Best        map[string]int64 `json:"best"`
	Plans       []Plan           `json:"plans"`
	Conventions []string         `json:"conventions"`
	// Note says when scenarios in other currencies were left out of Best.
	Note string `json:"note,omitempty"`
}

// Compare builds a comparison of plans; Best considers only plans in
// currency (amounts are never converted).
func Compare(currency string, plans []Plan) Comparison {
	c := Comparison{Currency: currency, Rows: []Row{}, Best: map[string]int64{}, Plans: plans, Conventions: Conventions}
	if c.Plans == nil {
		c.Plans = []Plan{}
	}
	lowest := func(key string, get func(Summary) *float64) {
		var best *float64
		for _, p := range plans {
			v := get(p.Summary)
			if v == nil || p.Problem != "" || p.Scenario.Currency != currency {
				continue
			}
			if best == nil || *v < *best {
				best = v
				c.Best[key] = p.Scenario.ID
			}
		}
	}
	asFloat := func(i *int) *float64 {
		if i == nil {
			return nil
		}
		return ptr(float64(*i))
	}
	other := 0
	for _, p := range plans {
		c.Rows = append(c.Rows, Row{ID: p.Scenario.ID, Name: p.Scenario.Name, Kind: p.Scenario.Kind, Summary: p.Summary, Problem: p.Problem})
		if p.Scenario.Currency != currency {
			other++
		}
	}
	lowest("cost_per_productive_month", func(s Summary) *float64 { return s.CostPerProductiveMonth })
	lowest("cost_per_meeting", func(s Summary) *float64 { return s.CostPerMeeting })
	lowest("cost_per_sql", func(s Summary) *float64 { return s.CostPerSQL })
	lowest("cost_per_won", func(s Summary) *float64 { return s.CostPerWon })
	lowest("full_capacity_month", func(s Summary) *float64 { return asFloat(s.FullCapacityMonth) })
	lowest("break_even_month", func(s Summary) *float64 { return asFloat(s.BreakEvenMonth) })
	if other > 0 {
		c.Note = fmt.Sprintf("%d scenario(s) in another currency than %s are listed but not ranked (amounts are never converted)", other, currency)
	}
	return c
}
