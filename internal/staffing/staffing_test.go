package staffing_test

import (
	"errors"
	"math"
	"testing"

	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f", what, got, want)
	}
}

func nearPtr(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s is null, want %.6f", what, want)
		return
	}
	near(t, what, *got, want, tol)
}

func ptr[T any](v T) *T { return &v }

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
}

// PRODUCT.md §7: P = tenure − ramp + ramp × average ramp productivity.
// Tenure 14, ramp 3 at 50 % on average → 12.5 productive months; the default
// linear 3-month ramp is 25 %, 50 %, 75 % (average 50 %).
func TestProductiveMonths(t *testing.T) {
	near(t, "P", staffing.ProductiveMonths(14, 3, 0.5), 12.5, 1e-12)
	near(t, "AE P", staffing.ProductiveMonths(18, 5, 0.4), 15, 1e-12)
	c := staffing.Curve(staffing.Params{RampMonths: 3})
	if len(c) != 3 || c[0] != 0.25 || c[1] != 0.5 || c[2] != 0.75 {
		t.Errorf("linear curve %v", c)
	}
	near(t, "average", staffing.AverageRamp(c), 0.5, 1e-12)
	near(t, "no ramp", staffing.AverageRamp(nil), 1, 0)
}

// inHouse: 2 reps at 1,000,000 a month each, hired after 1 month, a 2-month
// ramp at 25 % then 75 %, 4 months' tenure (then a new hire ramps again), 10
// meetings and 4 SQLs per ramped rep-month, 25 % of SQLs won, ARPA 400,000 at
// 50 % margin, no churn.
func inHouse() (staffing.Scenario, staffing.Env) {
	sc := staffing.Scenario{ID: 1, Name: "in-house", Kind: staffing.InHouse, Params: staffing.Params{
		Currency: "USD", Reps: 2, LeadTimeMonths: 1, RampMonths: 2, RampCurve: []float64{0.25, 0.75}, TenureMonths: 4,
		MeetingsPerMonth: 10, SQLsPerMonth: 4, ARPA: ptr(int64(400_000)), MonthlyChurn: ptr(0.0), CostProfileID: ptr(int64(9)),
	}}
	env := staffing.Env{RepMonthlyCost: 1_000_000, GrossMargin: 0.5, LifetimeCapMonths: 60,
		Conversion: staffing.Conversion{SQLToWon: ptr(0.25), Source: "configured"}}
	return sc, env
}

// Hand-computed: months 2–24 cost 2,000,000 each (46,000,000); capacity
// cycles 0.5, 1.5, 2, 2 from month 2: five whole cycles (30) plus 0.5, 1.5, 2
// = 34 productive rep-months, 340 meetings, 136 SQLs, 34 won. Cost per
// productive month 46,000,000 ÷ 34 = 1,352,941.18; per meeting 135,294.12;
// per SQL 338,235.29; per won 1,352,941.18. Full capacity in month 4. The
// margin of 200,000 per customer-month first covers the cumulative cost in
// month 17 (34,000,000 ≥ 32,000,000; month 16 had 29,600,000 < 30,000,000).
// LTV at zero churn is capped: 400,000 × 0.5 × 60 = 12,000,000, so LTV:CAC =
// 12,000,000 ÷ 1,352,941.18 = 8.87. Per rep: P = 4 − 2 + 2 × 0.5 = 3, tenure
// cost 4,000,000, 1,333,333.33 per productive month.
func TestProjectInHouse(t *testing.T) {
	sc, env := inHouse()
	p := staffing.Project(sc, env)
	if len(p.Months) != staffing.Horizon {
		t.Fatalf("%d months", len(p.Months))
	}
	m1, m2, m3, m6 := p.Months[0], p.Months[1], p.Months[2], p.Months[5]
	if m1.Cost != 0 || m1.Capacity != 0 || m1.CostPerSQL != nil {
		t.Errorf("month 1 (hiring) %+v", m1)
	}
	if m2.Cost != 2_000_000 || m2.Capacity != 0.5 || m2.Meetings != 5 || m2.SQLs != 2 || *m2.Won != 0.5 {
		t.Errorf("month 2 %+v", m2)
	}
	if m3.Capacity != 1.5 || m3.CumCost != 4_000_000 || m3.CumSQLs != 8 {
		t.Errorf("month 3 %+v", m3)
	}
	nearPtr(t, "month 3 cost per SQL", m3.CostPerSQL, 500_000, 1e-6)
	if m6.Productivity != 0.25 {
		t.Errorf("month 6: the replacement should ramp again, productivity %v", m6.Productivity)
	}
	s := p.Summary
	if s.TotalCost != 46_000_000 || s.ProductiveMonths != 34 || s.Meetings != 340 || s.SQLs != 136 {
		t.Errorf("summary %+v", s)
	}
	nearPtr(t, "won", s.Won, 34, 1e-9)
	nearPtr(t, "cost per productive month", s.CostPerProductiveMonth, 1_352_941.1765, 0.001)
	nearPtr(t, "cost per meeting", s.CostPerMeeting, 135_294.1176, 0.001)
	nearPtr(t, "cost per SQL", s.CostPerSQL, 338_235.2941, 0.001)
	nearPtr(t, "cost per won", s.CostPerWon, 1_352_941.1765, 0.001)
	if s.FullCapacityMonth == nil || *s.FullCapacityMonth != 4 {
		t.Errorf("full capacity month %v", s.FullCapacityMonth)
	}
	if s.BreakEvenMonth == nil || *s.BreakEvenMonth != 17 {
		t.Errorf("break-even month %v (%s)", s.BreakEvenMonth, s.BreakEvenNote)
	}
	if cm := p.Months[15].CumMargin; cm == nil || *cm != 29_600_000 {
		t.Errorf("month 16 cumulative margin %v", cm)
	}
	if s.LTV == nil || s.LTV.Value != 12_000_000 || !s.LTV.Lifetime.Capped {
		t.Errorf("LTV %+v", s.LTV)
	}
	nearPtr(t, "LTV:CAC", s.LTVToCAC, 8.869565, 1e-5)
	if r := s.PerRep; r == nil || r.ProductiveMonths != 3 || r.TenureCost != 4_000_000 {
		t.Errorf("per rep %+v", r)
	} else {
		near(t, "per rep cost per productive month", r.CostPerProductiveMonth, 1_333_333.3333, 0.001)
	}
}

// partner: 2 reps, onboarding 1 month, first month at 50 %; retainer 500,000,
// 10,000 per meeting, 20,000 per SQL, setup fee 300,000 (month 1),
// management 100,000 a month while working. Month 2: 100,000 + 500,000 + 10 ×
// 10,000 + 4 × 20,000 = 780,000; months 3–24: 100,000 + 500,000 + 200,000 +
// 160,000 = 960,000. Total 300,000 + 780,000 + 22 × 960,000 = 22,200,000 for
// 45 productive months, 450 meetings, 180 SQLs: 493,333.33 per productive
// month, 49,333.33 per meeting, 123,333.33 per SQL.
func partner() staffing.Scenario {
	return staffing.Scenario{ID: 2, Name: "partner", Kind: staffing.Partner, Params: staffing.Params{
		Currency: "USD", Reps: 2, LeadTimeMonths: 1, RampMonths: 1, RampCurve: []float64{0.5}, MeetingsPerMonth: 10, SQLsPerMonth: 4,
		RetainerMonthly: 500_000, FeePerMeeting: 10_000, FeePerSQL: 20_000, SetupFee: 300_000, ManagementMonthly: 100_000,
	}}
}

func TestProjectPartner(t *testing.T) {
	_, env := inHouse()
	p := staffing.Project(partner(), env)
	if p.Months[0].Cost != 300_000 || p.Months[1].Cost != 780_000 || p.Months[2].Cost != 960_000 {
		t.Errorf("costs %d %d %d", p.Months[0].Cost, p.Months[1].Cost, p.Months[2].Cost)
	}
	s := p.Summary
	if s.TotalCost != 22_200_000 || s.ProductiveMonths != 45 || s.Meetings != 450 || s.SQLs != 180 || s.PerRep != nil {
		t.Errorf("summary %+v", s)
	}
	nearPtr(t, "cost per productive month", s.CostPerProductiveMonth, 493_333.3333, 0.001)
	nearPtr(t, "cost per meeting", s.CostPerMeeting, 49_333.3333, 0.001)
	nearPtr(t, "cost per SQL", s.CostPerSQL, 123_333.3333, 0.001)
	if s.FullCapacityMonth == nil || *s.FullCapacityMonth != 3 {
		t.Errorf("full capacity %v", s.FullCapacityMonth)
	}
	if s.BreakEvenMonth != nil || s.BreakEvenNote == "" {
		t.Errorf("no ARPA: no break-even, with a note; got %v %q", s.BreakEvenMonth, s.BreakEvenNote)
	}
	// Without a conversion rate nothing is won and nothing per won customer is claimed.
	env.Conversion = staffing.Conversion{Source: "none"}
	p = staffing.Project(partner(), env)
	if p.Summary.Won != nil || p.Summary.CostPerWon != nil || p.Months[5].Won != nil {
		t.Errorf("won without a rate: %+v", p.Summary)
	}
}

func TestCompare(t *testing.T) {
	sc, env := inHouse()
	a := staffing.Project(sc, env)
	b := staffing.Project(partner(), env)
	eur := partner()
	eur.ID, eur.Currency, eur.FeePerSQL = 3, "EUR", 0
	c := staffing.Compare("USD", []staffing.Plan{a, b, staffing.Project(eur, env)})
	if len(c.Rows) != 3 || c.Best["cost_per_sql"] != 2 || c.Best["cost_per_meeting"] != 2 || c.Best["full_capacity_month"] != 2 || c.Best["break_even_month"] != 1 {
		t.Errorf("best %v", c.Best)
	}
	if c.Note == "" {
		t.Error("a scenario in another currency should be noted")
	}
}

func TestValidate(t *testing.T) {
	ok := func() staffing.Input {
		sc, _ := inHouse()
		return staffing.Input{Name: "x", Kind: staffing.InHouse, Params: sc.Params}
	}
	in := ok()
	in.Currency = ""
	if err := staffing.Validate(&in, "EUR"); err != nil || in.Currency != "EUR" {
		t.Fatalf("%v %+v", err, in)
	}
	for _, c := range []struct {
		mod   func(*staffing.Input)
		field string
	}{
		{func(i *staffing.Input) { i.Name = " " }, "name"},
		{func(i *staffing.Input) { i.Kind = "agency" }, "kind"},
		{func(i *staffing.Input) { i.Reps = 0 }, "reps"},
		{func(i *staffing.Input) { i.RampCurve = []float64{0.5} }, "ramp_curve"},
		{func(i *staffing.Input) { i.RampCurve = []float64{0.5, 1.5} }, "ramp_curve[1]"},
		{func(i *staffing.Input) { i.TenureMonths = 1 }, "tenure_months"},
		{func(i *staffing.Input) { i.CostProfileID = nil }, "cost_profile_id"},
		{func(i *staffing.Input) { i.RetainerMonthly = 5 }, "retainer_monthly"},
		{func(i *staffing.Input) { i.SQLToWon = ptr(0.0) }, "sql_to_won"},
		{func(i *staffing.Input) { i.MonthlyChurn = ptr(2.0) }, "monthly_churn"},
		{func(i *staffing.Input) { i.Motion = "carrier_pigeon" }, "motion"},
		{func(i *staffing.Input) { i.Kind = staffing.Partner }, "cost_profile_id"},
		{func(i *staffing.Input) { i.Kind, i.CostProfileID = staffing.Partner, nil }, "tenure_months"},
	} {
		in := ok()
		c.mod(&in)
		wantField(t, staffing.Validate(&in, "USD"), c.field)
	}
}
