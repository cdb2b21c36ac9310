package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// seedEconomics gives workspace A a year of spend (explicit and by rule), an
// allocation rule, an AE cost profile with headcount and a saved market sizing.
func seedEconomics(t *testing.T, e *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
	svc := e.App.Econ
	month := economics.MonthOf(time.Now())
	str := func(s string) *string { return &s }
	for i := 0; i < 6; i++ {
		m := economics.AddMonths(month, -i)
		for _, in := range []economics.SpendInput{
			{Month: str(m), Amount: econPtr(int64(1_800_000 + 100_000*int64(i))), Category: str("programs"), Channel: str("paid_search")},
			{Month: str(m), Amount: econPtr(int64(650_000)), Category: str("programs"), Channel: str("events"), Segment: str("enterprise"), Motion: str("high_touch")},
			{Month: str(m), Amount: econPtr(int64(420_000)), Category: str("tools"), Channel: str("crm")},
			{Month: str(m), Amount: econPtr(int64(300_000)), Category: str("partner_fees"), Channel: str("partner")},
		} {
			if _, err := svc.CreateSpend(ctx, act, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := svc.SaveAllocationRules(ctx, act, []economics.Rule{
		{Category: "programs", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.7}, {Segment: "mid_market", Motion: "digital", Share: 0.3}}},
		{Category: "tools", Shares: []economics.RuleShare{{Segment: "smb", Motion: "digital", Share: 0.5}, {Segment: "enterprise", Motion: "high_touch", Share: 0.5}}},
	}); err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateProfile(ctx, act, economics.ProfileInput{Name: "Enterprise AE", Role: "ae", BaseSalary: 12_000_000, EmployerTaxRate: econPtr(0.0765), BenefitsRate: econPtr(0.25),
		Office: 500_000, VariablePay: 6_000_000, TimeSplit: map[string]float64{"high_touch": 0.8, "digital": 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	hc := map[string]float64{}
	for i := 0; i < 12; i++ {
		hc[economics.AddMonths(month, -i)] = 3
	}
	if _, err := svc.SetHeadcount(ctx, act, p.ID, hc); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SaveMarket(ctx, act, economics.ArticleMarket()); err != nil {
		t.Fatal(err)
	}
}

func econPtr[T any](v T) *T { return &v }

// TestEconomicsPages: an admin opens Economics from the navigation, sees the
// inputs (spend allocated by segment × motion, people cost, market sizing and
// the pending section), adds the article's staffing example and compares
// in-house and partner in the charts and table, and is refused a cost profile
// that gives both a 2× multiplier and itemised benefits.
func TestEconomicsPages(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			seedEconomics(t, e)
			admin := e.A.Users[model.RoleAdmin]
			b.run("sign in and open Economics from the navigation",
				chromedp.Navigate(e.URL+"/login"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, admin.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`nav[aria-label=Main] a[href="/economics"]`),
				chromedp.Click(`nav[aria-label=Main] a[href="/economics"]`),
				chromedp.WaitVisible(`#matrix`),
			)
			mustContain(t, "pending", b.text(`#pending`), "Partner mode")
			mustContain(t, "matrix", b.text(`#matrix`), "LTV:CAC by segment × motion", "SMB", "High touch")
			mustContain(t, "allocation", b.text(`#alloc-table`), "SMB", "Enterprise", "High touch")
			mustContain(t, "market", b.text(`#market`), "684,000,000,000.00 USD", "342,000,000.00 USD")
			b.screenshot("economics-overview-" + string(kind))

			b.run("staffing planner: add the article's example",
				chromedp.Click(`.econ-tabs a[href="/economics/staffing"]`),
				chromedp.WaitVisible(`#add-example`),
				chromedp.Click(`#add-example`),
				chromedp.WaitVisible(`#comparison`),
			)
			mustContain(t, "notice", b.text(`.notice`), "article's example was added")
			mustContain(t, "comparison", b.text(`#comparison`), "In-house LDRs (article example)", "Sales-as-a-service partner (example)", "Cost per SQL", "12.50 = 14 − 3 + 3 × 50 %")
			lines, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#h-cost-chart ~ figure polyline').length`))
			if err != nil || lines != 2 {
				t.Errorf("cost chart lines %d (%v), want one per scenario", lines, err)
			}
			mustContain(t, "legend", b.text(`#h-sql-chart ~ figure .lc-legend`), "In-house LDRs", "Sales-as-a-service partner")
			b.screenshot("economics-staffing-" + string(kind))

			b.run("people costs: both loading forms are refused",
				chromedp.Click(`.econ-tabs a[href="/economics/people"]`),
				chromedp.WaitVisible(`#new-name`),
				chromedp.SetValue(`#new-name`, "Double loaded"),
				chromedp.SetValue(`#new-base_salary`, "50,000"),
				chromedp.SetValue(`#new-loaded_multiplier`, "2"),
				chromedp.SetValue(`#new-benefits_rate`, "25"),
				chromedp.Click(`#h-new-profile ~ form button.btn-primary`),
				chromedp.WaitVisible(`#new-loaded_multiplier-err`),
			)
			mustContain(t, "conflict", b.text(`#new-loaded_multiplier-err`), "not both", "count them twice")
			mustContain(t, "note", b.text(`#multiplier-note`), "already covers employer taxes, benefits and training")
			b.screenshot("economics-people-" + string(kind))

			b.run("spend page", chromedp.Click(`.econ-tabs a[href="/economics/spend"]`), chromedp.WaitVisible(`#spend-table`))
			mustContain(t, "rules", b.text(`#rules-table`), "SMB × Digital 70 %")
			b.screenshot("economics-spend-" + string(kind))
			b.run("market page", chromedp.Click(`.econ-tabs a[href="/economics/market"]`), chromedp.WaitVisible(`#market-result`))
			b.screenshot("economics-market-" + string(kind))
			b.run("settings page", chromedp.Click(`.econ-tabs a[href="/economics/settings"]`), chromedp.WaitVisible(`#es-gross_margin`))
			b.screenshot("economics-settings-" + string(kind))
			b.checkConsole()
		})
	}
}

// TestEconomicsDemo opens the demo workspace's economics: the KPI tiles, the
// segment × motion matrix (SMB digital green, SMB high touch red), the
// recommendation to route SMB to digital, cohort heatmaps and charts; then a
// guardrail evaluation raises alerts, the banner shows on /economics and the
// dashboard and goes once acknowledged; the costly SMB deal shows its
// cost-to-close card.
func TestEconomicsDemo(t *testing.T) {
	b := newBrowser(t)
	e := apptest.New(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, e.App.St, demo.Options{Now: time.Now().UTC(), Slug: "northwind"})
	if err != nil {
		t.Fatal(err)
	}
	b.run("sign in to the demo and open Economics",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, res.AdminEmail),
		chromedp.SendKeys(`#password`, res.Password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`nav[aria-label=Main] a[href="/economics"]`),
		chromedp.Click(`nav[aria-label=Main] a[href="/economics"]`),
		chromedp.WaitVisible(`#matrix`),
	)
	status := func(cell string) string {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#cell-`+cell+`').dataset.status`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if s := status("smb-digital"); s != "green" {
		t.Errorf("SMB digital is %s", s)
	}
	if s := status("smb-high_touch"); s != "red" {
		t.Errorf("SMB high touch is %s", s)
	}
	mustContain(t, "recommendations", b.text(`#recommendations`), "route SMB to digital", "cost-to-close so far", "outsourcing LDR work lowers cost per SQL")
	mustContain(t, "tiles", b.text(`#kpis`), "MRR", "LTV:CAC", "Magic number")
	cells, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#cohort-logo td[class*="heat-"]').length`))
	if err != nil || cells < 20 {
		t.Errorf("cohort heatmap cells %d (%v)", cells, err)
	}
	b.screenshot("economics-demo")

	// The guardrail evaluation (the job's, run here directly; the sweep the
	// app ran on start may have evaluated the demo already).
	if _, err := e.App.Econ.EvaluateGuardrails(ctx, res.Workspace.ID); err != nil {
		t.Fatal(err)
	}
	raised, err := e.App.Econ.Alerts(ctx, res.Workspace.ID, true, 0)
	if err != nil || len(raised) == 0 || raised[0].Segment != "smb" || raised[0].Motion != "high_touch" {
		t.Fatalf("open alerts %+v (%v)", raised, err)
	}
	b.run("the alert banner", chromedp.Navigate(e.URL+"/economics"), chromedp.WaitVisible(`#alerts`))
	mustContain(t, "banner", b.text(`#alerts`), "turned red", "Acknowledge")
	b.screenshot("economics-demo-alerts")
	b.run("the dashboard banner", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(`#guardrail-alerts`))
	b.screenshot("economics-demo-dashboard")
	for _, a := range raised {
		li := fmt.Sprintf(`#guardrail-alerts li[data-alert="%d"]`, a.ID)
		b.run("acknowledge", chromedp.Click(li+` button[type=submit]`), chromedp.WaitNotPresent(li))
	}
	b.run("the banner is gone", chromedp.WaitNotPresent(`#guardrail-alerts`), chromedp.WaitVisible(`.tiles`))

	var deal int64
	deals, err := e.App.St.Read().OpenDealsIn(ctx, res.Workspace.ID, "high_touch")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deals {
		if strings.HasSuffix(d.Name, "Custom rollout") {
			deal = d.ID
		}
	}
	b.run("the costly SMB deal", chromedp.Navigate(fmt.Sprintf("%s/deals/%d", e.URL, deal)), chromedp.WaitVisible(`#cost-to-close`))
	mustContain(t, "cost card", b.text(`#cost-to-close`), "Cost-to-close", "Exceeds what one SMB via High touch customer is worth")
	b.screenshot("economics-demo-deal")
	b.checkConsole()
}
