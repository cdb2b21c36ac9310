package economics_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("want a field error on %q, got %v", field, err)
	}
}

func shares(bps ...int) []model.Share {
	out := make([]model.Share, len(bps))
	for i, bp := range bps {
		out[i] = model.Share{Segment: "s", Motion: "digital", BP: bp}
	}
	return out
}

// Allocation splits in whole minor units with the largest remainders getting
// the leftover units, so the parts always sum to the entry.
func TestAllocate(t *testing.T) {
	for _, c := range []struct {
		amount int64
		bps    []int
		want   []int64
	}{
		// 1000 × 33.33 % = 333.3 → 333 (rem .3); × 33.34 % = 333.4 → 333 (rem .4): one unit left, to the third.
		{1000, []int{3333, 3333, 3334}, []int64{333, 333, 334}},
		{1000, []int{5000, 5000}, []int64{500, 500}},
		// One unit between equal halves: the tie goes to the first.
		{1, []int{5000, 5000}, []int64{1, 0}},
		// 10 × 60 % = 6, × 40 % = 4.
		{10, []int{6000, 4000}, []int64{6, 4}},
		// 7 × 25 % = 1.75 each: 1 each, three units left for the first three.
		{7, []int{2500, 2500, 2500, 2500}, []int64{2, 2, 2, 1}},
		{-1000, []int{3333, 3333, 3334}, []int64{-333, -333, -334}},
		{0, []int{10000}, []int64{0}},
	} {
		got := economics.Allocate(c.amount, shares(c.bps...))
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("Allocate(%d, %v) = %v, want %v", c.amount, c.bps, got, c.want)
				break
			}
		}
	}
	// Property: for random amounts and random share sets, the parts sum to the amount
	// and each part is within one unit of its exact share.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		n := 1 + rng.IntN(6)
		bps := make([]int, n)
		left := 10000
		for i := range n - 1 {
			bps[i] = rng.IntN(left + 1)
			left -= bps[i]
		}
		bps[n-1] = left
		amount := rng.Int64N(2_000_000_000_000) - 1_000_000_000_000
		parts := economics.Allocate(amount, shares(bps...))
		var sum int64
		for i, p := range parts {
			sum += p
			exact := float64(amount) * float64(bps[i]) / 10000
			if d := float64(p) - exact; d > 1 || d < -1 {
				t.Fatalf("Allocate(%d, %v)[%d] = %d, exact %.2f", amount, bps, i, p, exact)
			}
		}
		if sum != amount {
			t.Fatalf("Allocate(%d, %v) sums to %d", amount, bps, sum)
		}
	}
}

func TestMatchRulePrecedence(t *testing.T) {
	rules := []model.AllocationRule{
		{ID: 1},                       // default
		{ID: 2, Category: "programs"}, // any channel
		{ID: 3, Channel: "events"},    // any category
		{ID: 4, Category: "programs", Channel: "paid_search"},
	}
	for _, c := range []struct {
		cat, ch string
		want    int64
	}{
		{"programs", "paid_search", 4},
		{"programs", "events", 3}, // channel alone beats category alone
		{"programs", "display", 2},
		{"tools", "events", 3},
		{"tools", "", 1},
	} {
		if r := economics.MatchRule(rules, c.cat, c.ch); r == nil || r.ID != c.want {
			t.Errorf("MatchRule(%s, %s) = %v, want rule %d", c.cat, c.ch, r, c.want)
		}
	}
	if r := economics.MatchRule(rules[1:2], "tools", "x"); r != nil {
		t.Errorf("no rule should match tools/x, got %v", r)
	}
}

// A hand-computed summary: explicit entries count in full, the rest is shared
// by rule, what no rule matches is listed, and totals = allocated + unallocated.
func TestSummarizeSpend(t *testing.T) {
	entries := []model.SpendEntry{
		{Month: "2026-01", Amount: 100000, Currency: "USD", Category: "programs", Channel: "paid_search"},
		{Month: "2026-01", Amount: 50000, Currency: "USD", Category: "tools", Segment: "enterprise", Motion: "high_touch"},
		{Month: "2026-02", Amount: 30001, Currency: "USD", Category: "programs", Channel: "events"},
		{Month: "2026-02", Amount: 7000, Currency: "USD", Category: "overhead"},
		{Month: "2026-02", Amount: 9900, Currency: "EUR", Category: "programs", Channel: "paid_search"},
	}
	rules := []model.AllocationRule{
		{Category: "programs", Shares: []model.Share{{Segment: "smb", Motion: "digital", BP: 7000}, {Segment: "mid_market", Motion: "digital", BP: 3000}}},
		{Category: "programs", Channel: "events", Shares: []model.Share{{Segment: "enterprise", Motion: "high_touch", BP: 10000}}},
	}
	s := economics.SummarizeSpend("2026-01", "2026-02", entries, rules)
	alloc := map[[3]string][2]int64{}
	for _, c := range s.Allocated {
		if c.Total != c.Explicit+c.ByRule {
			t.Errorf("cell %+v: total is not explicit + by rule", c)
		}
		alloc[[3]string{c.Currency, c.Segment, c.Motion}] = [2]int64{c.Explicit, c.ByRule}
	}
	want := map[[3]string][2]int64{
		{"USD", "smb", "digital"}:           {0, 70000},
		{"USD", "mid_market", "digital"}:    {0, 30000},
		{"USD", "enterprise", "high_touch"}: {50000, 30001},
		{"EUR", "smb", "digital"}:           {0, 6930},
		{"EUR", "mid_market", "digital"}:    {0, 2970},
	}
	if len(alloc) != len(want) {
		t.Fatalf("allocated %v, want %v", alloc, want)
	}
	for k, v := range want {
		if alloc[k] != v {
			t.Errorf("%v = %v, want %v", k, alloc[k], v)
		}
	}
	if len(s.Unallocated) != 1 || s.Unallocated[0] != (economics.UnallocatedCell{Currency: "USD", Category: "overhead", Amount: 7000, Entries: 1}) {
		t.Errorf("unallocated %+v", s.Unallocated)
	}
	if len(s.Totals) != 2 || s.Totals[0] != (economics.CurrencyAmount{Currency: "EUR", Amount: 9900}) || s.Totals[1] != (economics.CurrencyAmount{Currency: "USD", Amount: 187001}) {
		t.Errorf("totals %+v", s.Totals)
	}
	// Totals = allocated + unallocated, per currency.
	per := map[string]int64{}
	for _, c := range s.Allocated {
		per[c.Currency] += c.Total
	}
	for _, u := range s.Unallocated {
		per[u.Currency] += u.Amount
	}
	for _, tot := range s.Totals {
		if per[tot.Currency] != tot.Amount {
			t.Errorf("%s: allocated + unallocated %d ≠ total %d", tot.Currency, per[tot.Currency], tot.Amount)
		}
	}
	if len(s.ByCategory) != 5 || s.ByCategory[0].Month != "2026-01" || s.ByCategory[0].Category != "programs" {
		t.Errorf("by month/category %+v", s.ByCategory)
	}
}

func TestValidateSpend(t *testing.T) {
	ok := func() model.SpendEntry {
		return model.SpendEntry{Month: "2026-03", Amount: 100, Category: "Programs/Ads", Channel: " Paid Search "}
	}
	e := ok()
	if err := economics.ValidateSpend(&e, "EUR"); err != nil {
		t.Fatal(err)
	}
	if e.Category != "programs" || e.Channel != "paid_search" || e.Currency != "EUR" || e.Attribution != model.AttributionRule {
		t.Errorf("normalised %+v", e)
	}
	e = ok()
	e.Month, e.Segment, e.Motion = "2026-03-15", "SMB", "digital"
	if err := economics.ValidateSpend(&e, "EUR"); err != nil || e.Month != "2026-03" || e.Segment != "smb" || e.Attribution != model.AttributionExplicit {
		t.Errorf("%v %+v", err, e)
	}
	for _, c := range []struct {
		mod   func(*model.SpendEntry)
		field string
	}{
		{func(e *model.SpendEntry) { e.Month = "" }, "month"},
		{func(e *model.SpendEntry) { e.Month = "2026-13" }, "month"},
		{func(e *model.SpendEntry) { e.Month = "March" }, "month"},
		{func(e *model.SpendEntry) { e.Category = "" }, "category"},
		{func(e *model.SpendEntry) { e.Category = "progams" }, "category"},
		{func(e *model.SpendEntry) { e.Currency = "dollars" }, "currency"},
		{func(e *model.SpendEntry) { e.Amount = 2_000_000_000_000_000 }, "amount"},
		{func(e *model.SpendEntry) { e.Segment = "smb" }, "motion"},
		{func(e *model.SpendEntry) { e.Motion = "digital" }, "segment"},
		{func(e *model.SpendEntry) { e.Segment, e.Motion = "smb", "carrier_pigeon" }, "motion"},
		{func(e *model.SpendEntry) { e.Channel = "ads!" }, "channel"},
	} {
		e := ok()
		c.mod(&e)
		wantField(t, economics.ValidateSpend(&e, "USD"), c.field)
	}
}

func TestValidateRules(t *testing.T) {
	good := economics.Rule{Category: "programs", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.6}, {Segment: "enterprise", Motion: "high_touch", Share: 0.4}}}
	rs, err := economics.ValidateRules([]economics.Rule{good, {Shares: []economics.RuleShare{{Segment: "SMB", Motion: "digital", Share: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Shares[0].BP != 6000 || rs[0].Shares[1].BP != 4000 || rs[1].Shares[0].Segment != "smb" {
		t.Errorf("rules %+v", rs)
	}
	for _, c := range []struct {
		rules []economics.Rule
		field string
	}{
		{[]economics.Rule{{Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.5}}}}, "rules[0].shares"},
		{[]economics.Rule{{Shares: nil}}, "rules[0].shares"},
		{[]economics.Rule{{Shares: []economics.RuleShare{{Segment: "smb", Motion: "walk", Share: 1}}}}, "rules[0].shares[0].motion"},
		{[]economics.Rule{{Shares: []economics.RuleShare{{Segment: "", Motion: "digital", Share: 1}}}}, "rules[0].shares[0].segment"},
		{[]economics.Rule{{Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.33333}, {Segment: "x", Motion: "digital", Share: 0.66667}}}}, "rules[0].shares[0].share"},
		{[]economics.Rule{{Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.5}, {Segment: "smb", Motion: "digital", Share: 0.5}}}}, "rules[0].shares[1].segment"},
		{[]economics.Rule{good, good}, "rules[1].channel"},
		{[]economics.Rule{{Category: "lunch", Shares: good.Shares}}, "rules[0].category"},
	} {
		_, err := economics.ValidateRules(c.rules)
		wantField(t, err, c.field)
	}
}

func f64(v float64) *float64 { return &v }

// The "never both" rule: a multiplier and itemised rates together are refused
// with a conflict naming loaded_multiplier, which is also a field error.
func TestProfileLoadingForms(t *testing.T) {
	base := func() model.CostProfile {
		return model.CostProfile{Name: "LDR", Role: "ldr", BaseSalary: 5_000_000, TimeSplit: map[string]float64{"digital": 1}}
	}
	p := base()
	p.LoadedMultiplier, p.BenefitsRate = f64(2), f64(0.25)
	err := economics.ValidateProfile(&p, "USD")
	var lc *economics.LoadingConflictError
	if !errors.As(err, &lc) || lc.Field != "loaded_multiplier" || len(lc.Itemised) != 1 || lc.Itemised[0] != "benefits_rate" {
		t.Fatalf("both forms: %v", err)
	}
	wantField(t, err, "loaded_multiplier")
	p = base()
	wantField(t, economics.ValidateProfile(&p, "USD"), "loaded_multiplier") // neither
	for _, c := range []struct {
		mod   func(*model.CostProfile)
		field string
	}{
		{func(p *model.CostProfile) { p.LoadedMultiplier = f64(0.5) }, "loaded_multiplier"},
		{func(p *model.CostProfile) { p.EmployerTaxRate = f64(-0.1) }, "employer_tax_rate"},
		{func(p *model.CostProfile) { p.LoadedMultiplier, p.BaseSalary = f64(2), 0 }, "base_salary"},
		{func(p *model.CostProfile) { p.LoadedMultiplier, p.Role = f64(2), "sdr" }, "role"},
		{func(p *model.CostProfile) { p.LoadedMultiplier, p.Office = f64(2), -1 }, "office"},
		{func(p *model.CostProfile) {
			p.LoadedMultiplier, p.TimeSplit = f64(2), map[string]float64{"digital": 0.5}
		}, "time_split"},
		{func(p *model.CostProfile) { p.LoadedMultiplier, p.TimeSplit = f64(2), map[string]float64{"phone": 1} }, "time_split.phone"},
		{func(p *model.CostProfile) { p.LoadedMultiplier, p.TimeSplit = f64(2), nil }, "time_split"},
	} {
		p := base()
		c.mod(&p)
		wantField(t, economics.ValidateProfile(&p, "USD"), c.field)
	}
}

// The article's LDR: 50,000 salary, 2× loaded (covering taxes, benefits,
// training), plus office 3,600, phone 600, internet 600 and software 1,200 a
// year → 106,000 a year, 8,833.33 a month; variable pay 10,000 is added as is.
// The itemised worked check of PRODUCT.md §6 (164,180) holds through a profile too.
func TestLoadedCostOf(t *testing.T) {
	p := model.CostProfile{BaseSalary: 5_000_000, LoadedMultiplier: f64(2), Office: 360_000, Phone: 60_000, Internet: 60_000, Software: 120_000}
	c, err := economics.LoadedCostOf(p)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "annual", c.Annual, 10_600_000, 1e-6)
	near(t, "monthly", c.Monthly, 883_333.3333, 0.001)
	near(t, "loading", c.Loading, 5_000_000, 1e-6)
	if c.PerSeat != 600_000 || c.Form != "multiplier" {
		t.Errorf("%+v", c)
	}
	p.VariablePay = 1_000_000
	c, _ = economics.LoadedCostOf(p)
	near(t, "with variable pay", c.Annual, 11_600_000, 1e-6)

	it := model.CostProfile{BaseSalary: 12_000_000, EmployerTaxRate: f64(0.0765), BenefitsRate: f64(0.25), Office: 500_000}
	c, _ = economics.LoadedCostOf(it)
	near(t, "itemised", c.Annual, 16_418_000, 1e-6)
	near(t, "multiplier", c.Multiplier, 1.368, 0.0005)
	if c.Form != "itemised" {
		t.Errorf("form %s", c.Form)
	}
}

func TestSplitFromMinutes(t *testing.T) {
	s, ok := economics.SplitFromMinutes(map[string]int64{"digital": 300, "high_touch": 900, "": 5000}, 600)
	if !ok || s["digital"] != 0.25 || s["high_touch"] != 0.75 {
		t.Errorf("%v %v", s, ok)
	}
	if _, ok := economics.SplitFromMinutes(map[string]int64{"digital": 500, "": 5000}, 600); ok {
		t.Error("500 minutes with a motion is below the 600 minimum")
	}
}

// Hand-computed people cost: one AE profile at 120,000.00 a year loaded
// (1,000,000 minor a month), 2 people in January split 75/25 → digital
// 1,500,000 and high touch 500,000; in February 1.5 people with the split from
// activities (300 digital / 900 high-touch minutes → 25/75) → 375,000 and
// 1,125,000. A month outside the window is left out.
func TestComputePeopleCost(t *testing.T) {
	ae := model.CostProfile{ID: 7, Role: "ae", Currency: "USD", BaseSalary: 12_000_000, LoadedMultiplier: f64(1),
		TimeSplit: map[string]float64{"digital": 0.75, "high_touch": 0.25}, SplitFromActivities: true}
	hc := []model.Headcount{{ProfileID: 7, Month: "2026-01", Headcount: 2}, {ProfileID: 7, Month: "2026-02", Headcount: 1.5}, {ProfileID: 7, Month: "2026-04", Headcount: 9}}
	minutes := map[string]map[string]map[string]int64{"ae": {"2026-02": {"digital": 300, "high_touch": 900}, "2026-01": {"digital": 100}}}
	pc, err := economics.ComputePeopleCost("2026-01", "2026-03", []model.CostProfile{ae}, hc, minutes)
	if err != nil {
		t.Fatal(err)
	}
	want := []economics.PeopleCostRow{
		{Month: "2026-01", Currency: "USD", Role: "ae", Motion: "digital", Amount: 1_500_000, Headcount: 2, SplitSource: "configured"},
		{Month: "2026-01", Currency: "USD", Role: "ae", Motion: "high_touch", Amount: 500_000, Headcount: 2, SplitSource: "configured"},
		{Month: "2026-02", Currency: "USD", Role: "ae", Motion: "digital", Amount: 375_000, Headcount: 1.5, SplitSource: "activities"},
		{Month: "2026-02", Currency: "USD", Role: "ae", Motion: "high_touch", Amount: 1_125_000, Headcount: 1.5, SplitSource: "activities"},
	}
	if len(pc.Rows) != len(want) {
		t.Fatalf("rows %+v", pc.Rows)
	}
	for i := range want {
		if pc.Rows[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, pc.Rows[i], want[i])
		}
	}
	if len(pc.Totals) != 1 || pc.Totals[0].Amount != 3_500_000 {
		t.Errorf("totals %+v", pc.Totals)
	}
}

// Market sizing, hand-computed: the article's 684 billion USD over 30.2 million
// SMBs is 22,649.01 USD each; 5 % serviceable = 34.2 billion; 1 % of that
// obtainable = 342 million. Per business: 1,000 × 12,000.00 = 12,000,000.00;
// 30 % → 3,600,000.00; 10 % → 360,000.00.
func TestSizeMarket(t *testing.T) {
	m := economics.ArticleMarket()
	if err := economics.ValidateMarket(&m, "EUR"); err != nil {
		t.Fatal(err)
	}
	r, err := economics.SizeMarket(m)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Segments[0]
	if s.TAM != 68_400_000_000_000 || s.SAM != 3_420_000_000_000 || s.SOM != 34_200_000_000 || r.Currency != "USD" {
		t.Errorf("article market %+v", s)
	}
	near(t, "per SMB", s.PerAccount, 2_264_900.66, 0.01)
	if s.Arithmetic[0] != "TAM = annual spend in total 684,000,000,000.00 USD (30,200,000 businesses × 22,649.01 USD each on average)" ||
		s.Arithmetic[2] != "SOM = SAM 34,200,000,000.00 USD × obtainable 1 % = 342,000,000.00 USD" {
		t.Errorf("arithmetic %q", s.Arithmetic)
	}
	per := int64(1_200_000)
	m2 := model.MarketSizing{Segments: []model.MarketSegment{{Segment: "Mid Market", Accounts: 1000, SpendPerAccount: &per, ServiceableShare: 0.3, ObtainableShare: 0.1}}}
	if err := economics.ValidateMarket(&m2, "EUR"); err != nil {
		t.Fatal(err)
	}
	r, _ = economics.SizeMarket(m2)
	if s := r.Segments[0]; s.Segment != "mid_market" || s.TAM != 1_200_000_000 || s.SAM != 360_000_000 || s.SOM != 36_000_000 || r.Currency != "EUR" || r.SOM != 36_000_000 {
		t.Errorf("per-business market %+v", r)
	}
	for _, c := range []struct {
		mod   func(*model.MarketSegment)
		field string
	}{
		{func(s *model.MarketSegment) { s.SpendTotal = &per }, "segments[0].annual_spend_total"},
		{func(s *model.MarketSegment) { s.SpendPerAccount = nil }, "segments[0].annual_spend_per_account"},
		{func(s *model.MarketSegment) { s.Accounts = 0 }, "segments[0].accounts"},
		{func(s *model.MarketSegment) { s.ServiceableShare = 1.5 }, "segments[0].serviceable_share"},
		{func(s *model.MarketSegment) { s.Segment = "" }, "segments[0].segment"},
	} {
		sg := model.MarketSegment{Segment: "smb", Accounts: 10, SpendPerAccount: &per, ServiceableShare: 0.5, ObtainableShare: 0.5}
		c.mod(&sg)
		m := model.MarketSizing{Segments: []model.MarketSegment{sg}}
		wantField(t, economics.ValidateMarket(&m, "USD"), c.field)
	}
}
