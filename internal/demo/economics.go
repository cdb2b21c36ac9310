package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

// economics gives the demo what unit economics is computed from, so
// /economics tells a story out of the box: a year of spend attributed across
// segment × motion (explicitly and by allocation rules), cost profiles with
// headcount for the team, the staffing planner's article example, and one
// small business worked like an enterprise deal. With the customers of the
// previous step, SMB through the digital motion meets 3:1 while SMB through
// high touch does not, and the recommendations say so with their arithmetic.
func (g *gen) economics() error {
	cur := "USD"
	usd := func(n int64) int64 { return n * 100 }
	// Allocation rules: what a channel or category serves.
	rules := []economics.Rule{
		{Category: "programs", Channel: "paid_search", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.85}, {Segment: "mid_market", Motion: "digital", Share: 0.15}}},
		{Category: "programs", Channel: "content_download", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.7}, {Segment: "mid_market", Motion: "digital", Share: 0.3}}},
		{Category: "programs", Channel: "webinar", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.5}, {Segment: "mid_market", Motion: "digital", Share: 0.5}}},
		{Category: "programs", Channel: "event", Shares: []economics.RuleShare{{Segment: "enterprise", Motion: "high_touch", Share: 0.5}, {Segment: "mid_market", Motion: "high_touch", Share: 0.3}, {Segment: "smb", Motion: "high_touch", Share: 0.2}}},
		{Category: "", Channel: "", Shares: []economics.RuleShare{
			{Segment: "smb", Motion: "digital", Share: 0.4}, {Segment: "smb", Motion: "high_touch", Share: 0.05}, {Segment: "mid_market", Motion: "digital", Share: 0.15},
			{Segment: "mid_market", Motion: "high_touch", Share: 0.15}, {Segment: "enterprise", Motion: "high_touch", Share: 0.25}}},
	}
	rs, err := economics.ValidateRules(rules)
	if err != nil {
		return fmt.Errorf("demo: allocation rules: %w", err)
	}
	if err := g.q.ReplaceAllocationRules(g.ctx, g.ws, rs); err != nil {
		return fmt.Errorf("demo: allocation rules: %w", err)
	}
	// Twelve months of spend ending this month: programs by channel, tools,
	// overhead and the lead-generation partner's fees; SMB high-touch events
	// named explicitly.
	thisMonth := g.now.UTC().Format("2006-01")
	type line struct {
		cat, ch, seg, mot string
		amount            int64
	}
	lines := []line{
		{"programs", "paid_search", "", "", 6_000},
		{"programs", "content_download", "", "", 1_500},
		{"programs", "webinar", "", "", 1_000},
		{"programs", "event", "", "", 9_000},
		{"programs", "outbound", "smb", "high_touch", 1_500},
		{"tools", "", "", "", 3_500},
		{"overhead", "", "", "", 4_000},
		{"partner_fees", "partner", "smb", "digital", 2_000},
	}
	for k := 11; k >= 0; k-- {
		month := economics.AddMonths(thisMonth, -k)
		for i, l := range lines {
			amount := usd(l.amount) + usd(int64(g.r.IntN(int(l.amount/10+1))))
			e := model.SpendEntry{Month: month, Amount: amount, Currency: cur, Category: l.cat, Channel: l.ch, Segment: l.seg, Motion: l.mot,
				ExternalID: fmt.Sprintf("demo-spend-%s-%d", month, i), Note: "demo"}
			if err := economics.ValidateSpend(&e, cur); err != nil {
				return fmt.Errorf("demo: spend: %w", err)
			}
			if err := g.q.CreateSpend(g.ctx, g.ws, &e); err != nil {
				return fmt.Errorf("demo: spend: %w", err)
			}
		}
	}
	// The team's cost profiles (the people in `people`), with headcount for
	// the same twelve months; the AEs' time splits by their logged activities.
	f := func(v float64) *float64 { return &v }
	profiles := []struct {
		in economics.ProfileInput
		hc float64
	}{
		{economics.ProfileInput{Name: "SMB LDR", Role: model.RoleLDR, BaseSalary: usd(50_000), LoadedMultiplier: f(2), Office: usd(3_600), Phone: usd(600), Internet: usd(600), Software: usd(1_200),
			TimeSplit: map[string]float64{"digital": 1}}, 2},
		{economics.ProfileInput{Name: "Account executive", Role: model.RoleAE, BaseSalary: usd(90_000), EmployerTaxRate: f(0.0765), BenefitsRate: f(0.2), TrainingRate: f(0.02),
			Software: usd(1_200), VariablePay: usd(30_000), TimeSplit: map[string]float64{"digital": 0.3, "high_touch": 0.7}, SplitFromActivities: true}, 3},
		{economics.ProfileInput{Name: "Sales manager", Role: model.RoleManager, BaseSalary: usd(130_000), LoadedMultiplier: f(1.4), TimeSplit: map[string]float64{"digital": 0.4, "high_touch": 0.6}}, 0.5},
		{economics.ProfileInput{Name: "Customer success manager", Role: model.RoleCSM, BaseSalary: usd(70_000), LoadedMultiplier: f(1.5), TimeSplit: map[string]float64{"digital": 0.6, "high_touch": 0.4}}, 2},
	}
	var ldrProfile int64
	for _, p := range profiles {
		cp := model.CostProfile{Name: p.in.Name, Role: p.in.Role, BaseSalary: p.in.BaseSalary, LoadedMultiplier: p.in.LoadedMultiplier, EmployerTaxRate: p.in.EmployerTaxRate,
			BenefitsRate: p.in.BenefitsRate, TrainingRate: p.in.TrainingRate, Office: p.in.Office, Phone: p.in.Phone, Internet: p.in.Internet, Software: p.in.Software,
			VariablePay: p.in.VariablePay, TimeSplit: p.in.TimeSplit, SplitFromActivities: p.in.SplitFromActivities}
		if err := economics.ValidateProfile(&cp, cur); err != nil {
			return fmt.Errorf("demo: cost profile %s: %w", p.in.Name, err)
		}
		if err := g.q.CreateCostProfile(g.ctx, g.ws, &cp); err != nil {
			return fmt.Errorf("demo: cost profile %s: %w", p.in.Name, err)
		}
		if cp.Role == model.RoleLDR {
			ldrProfile = cp.ID
		}
		var hs []model.Headcount
		for k := 11; k >= 0; k-- {
			hs = append(hs, model.Headcount{ProfileID: cp.ID, Month: economics.AddMonths(thisMonth, -k), Headcount: p.hc})
		}
		if err := g.q.SetHeadcount(g.ctx, g.ws, cp.ID, hs); err != nil {
			return fmt.Errorf("demo: headcount: %w", err)
		}
	}
	// The staffing planner: two in-house LDRs against a partner, on the
	// article's assumptions (the LDR profile above).
	for _, sc := range staffing.ArticleScenarios(ldrProfile, cur) {
		if sc.RampCurve == nil {
			sc.RampCurve = []float64{}
		}
		b, err := json.Marshal(sc.Params)
		if err != nil {
			return err
		}
		if err := g.q.CreateStaffingScenario(g.ctx, g.ws, &store.StaffingScenario{Name: sc.Name, Kind: sc.Kind, Params: b}); err != nil {
			return fmt.Errorf("demo: staffing scenario: %w", err)
		}
	}
	// An SMB owner who asked for a custom demo and got the full enterprise
	// treatment: an open high-touch deal with weeks of AE time logged on it.
	for i := range g.accts {
		a := &g.accts[i]
		if a.Segment != "smb" || a.Motion != "high_touch" {
			continue
		}
		created := g.now.AddDate(0, -4, 0).Truncate(time.Second)
		d := model.Deal{ExternalID: "demo-deal-smb-custom", AccountID: &a.ID, Name: a.Name + " — Custom rollout", Amount: usd(9_600), Currency: cur,
			Pipeline: "high_touch", Stage: "negotiation", OwnerID: g.owner(model.RoleAE), ExpectedCloseDate: g.now.AddDate(0, 1, 0).Format(time.DateOnly), CreatedAt: created, Custom: model.Custom{}}
		if err := g.q.CreateDeal(g.ctx, g.ws, &d); err != nil {
			return fmt.Errorf("demo: deal: %w", err)
		}
		g.res.Deals++
		kinds := []string{"demo", "meeting", "contract_discussion", "call", "meeting", "demo"}
		for k := 0; k < 24; k++ {
			at := created.Add(time.Duration(k*5*24) * time.Hour).Add(time.Duration(9+g.r.IntN(8)) * time.Hour)
			if at.After(g.now) {
				break
			}
			act := model.Activity{Kind: kinds[k%len(kinds)], Subject: "Custom rollout: " + strings.ReplaceAll(kinds[k%len(kinds)], "_", " "), OccurredAt: at, DurationMinutes: int64(150 + g.r.IntN(180)),
				OwnerID: d.OwnerID, AccountID: &a.ID, DealID: &d.ID, Participants: []string{}, Custom: model.Custom{}}
			if err := g.q.CreateActivity(g.ctx, g.ws, &act); err != nil {
				return fmt.Errorf("demo: activity: %w", err)
			}
			g.res.Activities++
		}
		break
	}
	return nil
}
