package economics_test

import (
	"math"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// mi is a month index as the cube counts months.
func mi(m string) int {
	var y, mo int
	for i := 0; i < 4; i++ {
		y = y*10 + int(m[i]-'0')
	}
	mo = int(m[5]-'0')*10 + int(m[6]-'0')
	return y*12 + mo - 1
}

type mv struct {
	acct         int64
	month, kind  string
	amount       int64
	seg, mot, ch string
	paid         bool
}

// buildCube makes a cube up to last from customers' movements (the first
// movement of an account must be its new one).
func buildCube(last string, ms []mv) *economics.Cube {
	c := economics.NewCube("JPY", mi(last))
	seen := map[int64]bool{}
	for _, m := range ms {
		if m.kind == "new" && !seen[m.acct] {
			seen[m.acct] = true
			c.AddCustomer(economics.Customer{AccountID: m.acct, Cohort: mi(m.month), Cell: c.CellIndex(economics.Cell{Segment: m.seg, Motion: m.mot}), Channel: m.ch, Paid: m.paid, NewMRR: m.amount})
		}
	}
	c.Finish()
	for _, m := range ms {
		c.AddMovement(m.acct, m.month, m.kind, m.amount)
	}
	return c
}

// The worked example of docs/economics.md ("A worked report"): five
// customers, a quarter, every figure computed by hand.
func workedInput() economics.MetricsInput {
	smb, ent := [2]string{"smb", "digital"}, [2]string{"enterprise", "high_touch"}
	m := func(acct int64, month, kind string, amount int64, cell [2]string, ch string) mv {
		return mv{acct, month, kind, amount, cell[0], cell[1], ch, ch == "paid_search"}
	}
	cube := buildCube("2026-03", []mv{
		m(5, "2025-11", "new", 100, smb, "referral"),
		m(1, "2025-12", "new", 100, smb, "referral"),
		m(2, "2025-12", "new", 200, smb, "referral"),
		m(5, "2025-12", "churn", 100, smb, ""),
		m(3, "2026-01", "new", 100, smb, "paid_search"),
		m(2, "2026-01", "expansion", 50, smb, ""),
		m(1, "2026-02", "churn", 100, smb, ""),
		m(4, "2026-02", "new", 300, ent, "events"),
		m(2, "2026-03", "contraction", 30, smb, ""),
		m(5, "2026-03", "reactivation", 100, smb, ""),
	})
	set := economics.Settings{GrossMargin: 0.8, DiscountRate: 0.01, LifetimeCapMonths: 60, LTVCACTarget: 3,
		PaybackTargetMonths: map[string]float64{"smb": 12, "mid_market": 18, "enterprise": 24}, PaidChannels: []string{"paid_search"}, WorkingHoursPerYear: 1800}
	spend := func(month string, amount int64, cat, ch, seg, mot string) model.SpendEntry {
		return model.SpendEntry{Month: month, Amount: amount, Currency: "JPY", Category: cat, Channel: ch, Segment: seg, Motion: mot}
	}
	f := &funnel.Result{Groups: []funnel.Group{
		{Key: "digital", Stages: []funnel.StageCount{{Stage: "mql", Reached: 10}, {Stage: "sql", Reached: 4}, {Stage: "opportunity", Reached: 2}}},
		{Key: "high_touch", Stages: []funnel.StageCount{{Stage: "mql", Reached: 2}, {Stage: "sql", Reached: 1}, {Stage: "opportunity", Reached: 1}}},
	}}
	acc := int64(77)
	return economics.MetricsInput{
		Params:   economics.MetricsParams{From: "2026-01", To: "2026-03", Period: "month", Churn: economics.ChurnStart, LTV: economics.LTVSimpleGM, CAC: economics.CACFullyLoaded, Currency: "JPY"},
		Settings: set,
		Cube:     cube,
		Spend: []model.SpendEntry{
			spend("2025-12", 1200, "programs", "paid_search", "smb", "digital"),
			spend("2026-01", 600, "programs", "paid_search", "smb", "digital"),
			spend("2026-01", 300, "tools", "", "", ""),
			spend("2026-02", 1000, "people", "", "enterprise", "high_touch"),
			spend("2026-02", 100, "overhead", "", "", ""),
			spend("2026-03", 400, "programs", "events", "enterprise", "high_touch"),
		},
		Rules: []model.AllocationRule{{Category: "tools", Shares: []model.Share{{Segment: "smb", Motion: "digital", BP: 5000}, {Segment: "enterprise", Motion: "high_touch", BP: 5000}}}},
		People: []economics.PeopleCostRow{
			{Month: "2026-03", Currency: "JPY", Role: "ae", Motion: "high_touch", Amount: 900, Headcount: 1},
			{Month: "2026-03", Currency: "JPY", Role: "csm", Motion: "digital", Amount: 500, Headcount: 1},
		},
		Minutes: []store.SegmentMinutes{{Month: "2026-03", Motion: "high_touch", Segment: "enterprise", Minutes: 500}, {Month: "2026-03", Motion: "high_touch", Segment: "smb", Minutes: 100}},
		Funnel:  f,
		OpenDeals: []store.OpenDeal{
			{ID: 11, Name: "Small one", Pipeline: "high_touch", AccountID: &acc, Segment: "enterprise", Motion: "high_touch"},
			{ID: 12, Name: "Big one", Pipeline: "high_touch", AccountID: &acc, Segment: "enterprise", Motion: "high_touch"},
		},
		Effort: map[int64]map[string]int64{11: {"ae": 600, "admin": 60}, 12: {"ae": 3000}},
		Rates:  map[string]economics.RoleRate{"ae": {Role: "ae", Annual: ptr(180000.0), Hourly: ptr(100.0), Basis: "test"}},
		Scenarios: []economics.ScenarioCost{
			{ID: 1, Name: "Two in-house LDRs", Kind: "in_house", Currency: "JPY", CostPerSQL: ptr(412.0)},
			{ID: 2, Name: "Partner", Kind: "partner", Currency: "JPY", CostPerSQL: ptr(260.0)},
			{ID: 3, Name: "Euro partner", Kind: "partner", Currency: "EUR", CostPerSQL: ptr(10.0)},
		},
	}
}

func val(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %.6f", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9f, want %.9f", what, *got, want)
	}
}

func cellOf(t *testing.T, m economics.Metrics, seg, mot string) economics.CellMetrics {
	t.Helper()
	for _, c := range m.Matrix.Cells {
		if c.Segment == seg && c.Motion == mot {
			return c
		}
	}
	t.Fatalf("no cell %s × %s", seg, mot)
	return economics.CellMetrics{}
}

func ltvOf(ls []economics.LTVFigure, v string) economics.LTVFigure {
	for _, l := range ls {
		if l.Variant == v {
			return l
		}
	}
	return economics.LTVFigure{}
}

func TestWorkedReport(t *testing.T) {
	m := economics.ComputeMetrics(workedInput())
	s := m.Summary

	// MRR: 300 at the start; + new 400 + expansion 50 + reactivation 100 −
	// contraction 30 − churn 100 = 720.
	b := m.MRR.Bridge
	if b.Start != 300 || b.New != 400 || b.Expansion != 50 || b.Reactivation != 100 || b.Contraction != 30 || b.Churn != 100 || b.End != 720 || !b.Holds {
		t.Fatalf("bridge %+v", b)
	}
	if s.MRR != 720 || s.ARR != 8640 || s.Customers != 4 || s.NewCustomers != 2 || s.PaidNewCustomers != 1 || s.ChurnedCustomers != 1 || s.ReactivatedCustomers != 1 {
		t.Fatalf("summary counts %+v", s)
	}
	if len(m.MRR.Months) != 3 || m.MRR.Months[1].Start != 450 || m.MRR.Months[1].End != 650 || !m.MRR.Months[2].Holds {
		t.Errorf("months %+v", m.MRR.Months)
	}
	// ARPA = (450 + 650 + 720) ÷ (3 + 3 + 4) customer-months = 182.
	val(t, "ARPA", s.ARPA, 182)
	// Logo churn, one event: ÷ (2+3+3) start customers; ÷ (3+4+4) start+new+reactivated; ÷ 9 customer-months.
	want := map[string]float64{economics.ChurnStart: 1.0 / 8, economics.ChurnStartPlusNew: 1.0 / 11, economics.ChurnExposure: 1.0 / 9}
	for _, r := range s.LogoChurnAll {
		val(t, "logo churn "+r.Convention, r.Monthly, want[r.Convention])
	}
	if s.LogoChurn.Convention != economics.ChurnStart || s.LogoChurn.Events != 1 || s.LogoChurn.Denominator != 8 {
		t.Errorf("logo churn %+v", s.LogoChurn)
	}
	// Gross MRR churn (100 + 30) ÷ 300; net (130 − 50 − 100) ÷ 300.
	val(t, "gross MRR churn", s.GrossMRRChurn, 130.0/300)
	val(t, "net MRR churn", s.NetMRRChurn, -20.0/300)
	// Quick ratio (400 + 50) ÷ (30 + 100).
	val(t, "quick ratio", s.QuickRatio, 450.0/130)
	// NRR/GRR over customers acquired before January: +50 −30 −100 on 300.
	val(t, "NRR", s.NRR, 220.0/300)
	val(t, "GRR", s.GRR, 170.0/300)
	// Magic number of 2026-Q1: (1,820 − 400) × 4 ÷ 1,200 (December's spend).
	if s.MagicQuarter != "2026-Q1" {
		t.Errorf("magic quarter %q", s.MagicQuarter)
	}
	val(t, "magic number", s.MagicNumber, 1420.0*4/1200)

	// CAC: blended 2,400 ÷ 2; paid 2,400 ÷ 1; fully loaded + March's AE 900
	// (the CSM's 500 is not acquisition cost) = 3,300 ÷ 2.
	val(t, "blended CAC", s.CAC.Blended.Value, 1200)
	val(t, "paid CAC", s.CAC.Paid.Value, 2400)
	val(t, "fully loaded CAC", s.CAC.FullyLoaded.Value, 1650)
	if s.CAC.FullyLoaded.Cost != 3300 || s.CAC.Blended.Cost != 2400 {
		t.Errorf("CAC costs %+v", s.CAC)
	}

	// Periods: January 900 ÷ 1, February 1,100 ÷ 1, March none new.
	if len(m.Periods) != 3 {
		t.Fatalf("periods %d", len(m.Periods))
	}
	val(t, "January CAC", m.Periods[0].CAC.Blended.Value, 900)
	val(t, "February CAC", m.Periods[1].CAC.Blended.Value, 1100)
	if m.Periods[2].CAC.Blended.Value != nil || m.Periods[2].CAC.FullyLoaded.Cost != 1300 {
		t.Errorf("March CAC %+v", m.Periods[2].CAC)
	}
	val(t, "February logo churn", m.Periods[1].LogoChurn, 1.0/3)
	val(t, "January logo churn", m.Periods[0].LogoChurn, 0)

	// SMB × digital: ARPA (450+350+420) ÷ (3+2+3) = 152.5, churn 1 ÷ 7,
	// LTV 152.5 × 0.8 × 7 = 854; CAC 600 + 150 (half the tools) = 750.
	sd := cellOf(t, m, "smb", "digital")
	val(t, "SMB ARPA", sd.ARPA, 152.5)
	val(t, "SMB churn", sd.Churn.Monthly, 1.0/7)
	val(t, "SMB LTV", sd.LTVUsed, 854)
	val(t, "SMB CAC", sd.CACUsed, 750)
	val(t, "SMB LTV:CAC", sd.LTVToCAC, 854.0/750)
	val(t, "SMB payback", sd.PaybackMonths, 750/(152.5*0.8))
	val(t, "SMB max affordable", sd.MaxAffordableCAC, 854.0/3)
	if sd.Status != economics.StatusRed || sd.NewCustomers != 1 || sd.FullyLoadedCost != 750 {
		t.Errorf("SMB cell %s %+v", sd.Status, sd)
	}
	// revenue 152.5 × 7; discounted 152.5 × 0.8 × 1.01 ÷ (0.01 + 1/7).
	val(t, "SMB revenue LTV", ltvOf(sd.LTV, "revenue").Value, 152.5*7)
	val(t, "SMB discounted LTV", ltvOf(sd.LTV, "discounted").Value, 152.5*0.8*1.01/(0.01+1.0/7))

	// Enterprise × high touch: A4 alone, no churn → lifetime capped at 60:
	// 300 × 0.8 × 60 = 14,400; CAC 150 + 1,000 + 400 + 5/6 of 900 = 2,300.
	eh := cellOf(t, m, "enterprise", "high_touch")
	val(t, "enterprise LTV", eh.LTVUsed, 14400)
	val(t, "enterprise CAC", eh.CACUsed, 2300)
	val(t, "enterprise blended CAC", eh.CAC.Blended.Value, 1550)
	val(t, "enterprise payback", eh.PaybackMonths, 2300.0/240)
	if !eh.LTVCapped || eh.Status != economics.StatusGreen {
		t.Errorf("enterprise cell %s capped=%v %v", eh.Status, eh.LTVCapped, eh.Reasons)
	}
	// SMB × high touch got the other 1/6 of March's AE cost, but no customer.
	sh := cellOf(t, m, "smb", "high_touch")
	if sh.FullyLoadedCost != 150 || sh.Status != economics.StatusNoData {
		t.Errorf("SMB high touch %+v", sh)
	}
	// Every unit of fully loaded cost is in a cell or unallocated (overhead 100).
	var cells int64
	for _, c := range m.Matrix.Cells {
		cells += c.FullyLoadedCost
	}
	if cells+100 != s.CAC.FullyLoaded.Cost {
		t.Errorf("cells %d + unallocated 100 ≠ %d", cells, s.CAC.FullyLoaded.Cost)
	}

	// By segment: SMB 750 blended, 750 + its 150 of March's AE = 900 fully
	// loaded, one new customer; by motion: high touch takes all of March's
	// AE (1,550 + 900 = 2,450) for its one new customer.
	groups := map[string]economics.GroupCAC{}
	for _, g := range append(append([]economics.GroupCAC{}, m.Segments...), m.Motions...) {
		groups[g.Key] = g
	}
	val(t, "SMB blended CAC", groups["smb"].CAC.Blended.Value, 750)
	val(t, "SMB fully loaded CAC", groups["smb"].CAC.FullyLoaded.Value, 900)
	val(t, "enterprise fully loaded CAC", groups["enterprise"].CAC.FullyLoaded.Value, 2300)
	val(t, "high touch fully loaded CAC", groups["high_touch"].CAC.FullyLoaded.Value, 2450)
	val(t, "digital fully loaded CAC", groups["digital"].CAC.FullyLoaded.Value, 750)
	if len(m.Segments) != 3 || len(m.Motions) != 2 {
		t.Errorf("groups %+v %+v", m.Segments, m.Motions)
	}

	// Channels: paid_search 600 ÷ 1, events 400 ÷ 1.
	ch := map[string]economics.ChannelCAC{}
	for _, c := range m.Channels {
		ch[c.Channel] = c
	}
	val(t, "paid_search CAC", ch["paid_search"].CAC, 600)
	val(t, "events CAC", ch["events"].CAC, 400)
	if !ch["paid_search"].Paid || ch["events"].Paid || ch["none"].Spend != 1400 || ch["none"].CAC != nil {
		t.Errorf("channels %+v", m.Channels)
	}

	// Cohorts: January (one customer, 100 a month for three months), February.
	if len(m.Cohorts.Rows) != 2 || m.Cohorts.Rows[0].Cohort != "2026-01" || m.Cohorts.Rows[1].Customers != 1 {
		t.Fatalf("cohorts %+v", m.Cohorts.Rows)
	}
	jan := m.Cohorts.Rows[0]
	if len(jan.MRR) != 3 || jan.MRR[2] != 100 || jan.ActiveLogos[2] != 1 || jan.StartMRR != 100 {
		t.Errorf("January cohort %+v", jan)
	}
	val(t, "January realised LTV", jan.RealisedLTV, 300*0.8)
	// Tail: 100 × 0.8 × min(1 ÷ 0.125, 60 − 3) = 640.
	val(t, "January tail", jan.Tail, 640)
	val(t, "January cohort LTV", jan.CohortLTV, 880)

	// Funnel: digital 750 ÷ 10 MQLs …; high touch 1,550 + 900 = 2,450.
	fe := map[string]economics.FunnelMotion{}
	for _, r := range m.Funnel.Rows {
		fe[r.Motion] = r
	}
	if fe["digital"].Cost != 750 || fe["high_touch"].Cost != 2450 {
		t.Fatalf("funnel costs %+v", m.Funnel.Rows)
	}
	val(t, "digital cost per MQL", fe["digital"].Stages[0].CostPer, 75)
	val(t, "digital cost per SQL", fe["digital"].Stages[1].CostPer, 187.5)
	val(t, "digital cost per won", fe["digital"].Stages[3].CostPer, 750)
	val(t, "high touch cost per SQL", fe["high_touch"].Stages[1].CostPer, 2450)

	// Cost-to-close: 10 h × 100 = 1,000 (the admin's hour is not costed);
	// 50 h × 100 = 5,000 > 14,400 ÷ 3 = 4,800.
	if len(m.CostToClose) != 2 || m.CostToClose[0].DealID != 12 || m.CostToClose[0].Cost != 5000 || !m.CostToClose[0].Exceeds {
		t.Fatalf("cost to close %+v", m.CostToClose)
	}
	small := m.CostToClose[1]
	if small.Cost != 1000 || small.UncostedHours != 1 || small.Exceeds {
		t.Errorf("small deal %+v", small)
	}
	val(t, "limit", small.Limit, 4800)

	// Recommendations, most urgent first.
	rules := map[string]economics.Recommendation{}
	var order []string
	for _, r := range m.Recommendations {
		rules[r.Rule] = r
		order = append(order, r.Rule)
	}
	if strings.Join(order, ",") != "cut_cac,cost_to_close,outsource,capped_ltv" {
		t.Fatalf("recommendations %v", order)
	}
	if r := rules["cut_cac"]; r.Text != "SMB via digital: CAC 750 JPY vs max affordable 285 JPY → cut CAC by 62 % or raise LTV 2.6× to reach 3:1" {
		t.Errorf("cut_cac %q", r.Text)
	}
	if r := rules["cost_to_close"]; r.Text != "enterprise deal Big one: cost-to-close so far 5,000 JPY exceeds LTV ÷ 3 = 4,800 JPY" || !strings.Contains(r.Arithmetic, "ae 50.0 h × 100 JPY/h") {
		t.Errorf("cost_to_close %q / %q", r.Text, r.Arithmetic)
	}
	if r := rules["outsource"]; r.Text != "outsourcing LDR work lowers cost per SQL from 412 JPY to 260 JPY" {
		t.Errorf("outsource %q", r.Text)
	}
}
