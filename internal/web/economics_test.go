package web_test

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// TestEconomicsUI drives the economics pages without a browser: who may see
// them, every form's happy path and its inline errors, and the figures shown.
func TestEconomicsUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		t.Run("roles", func(t *testing.T) { testEconomicsRoles(t, e) })
		t.Run("spend", func(t *testing.T) { testEconomicsSpend(t, e) })
		t.Run("people", func(t *testing.T) { testEconomicsPeople(t, e) })
		t.Run("settings", func(t *testing.T) { testEconomicsSettings(t, e) })
		t.Run("market", func(t *testing.T) { testEconomicsMarket(t, e) })
		t.Run("staffing", func(t *testing.T) { testEconomicsStaffing(t, e) })
		t.Run("metrics", func(t *testing.T) { testEconomicsMetrics(t, e) })
		t.Run("partners", func(t *testing.T) { testPartnersUI(t, e) })
	})
}

func testEconomicsRoles(t *testing.T, e *apptest.Env) {
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, admin, "/economics"), 200, `href="/economics"`, "LTV:CAC by segment × motion", "Not built yet: Partner mode", "Obtainable market (SOM)")
	mgr := e.Browser(t, e.A.Users[model.RoleManager].Email)
	ok(t, get(t, e, mgr, "/economics/staffing"), 200, "Staffing planner")
	for _, role := range []string{model.RoleAE, model.RoleLDR, model.RoleCSM} {
		c := e.Browser(t, e.A.Users[role].Email)
		for _, path := range []string{"/economics", "/economics/spend", "/economics/people", "/economics/settings", "/economics/market", "/economics/staffing"} {
			ok(t, get(t, e, c, path), http.StatusForbidden, "Not allowed")
		}
		ok(t, post(t, e, c, "/economics/spend", url.Values{"month": {"2026-01"}, "amount": {"1"}, "category": {"tools"}}), http.StatusForbidden)
		if r := get(t, e, c, "/"); strings.Contains(r.Body, `href="/economics"`) {
			t.Errorf("%s sees the Economics nav entry", role)
		}
	}
}

func spendUpload(t *testing.T, e *apptest.Env, c *http.Client, name, content string) resp {
	t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/economics/spend/import", strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func testEconomicsSpend(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, c, "/economics/spend"), 200, "Allocation rules", "Add spend")
	// A typed amount in major units becomes minor units; explicit attribution.
	r := post(t, e, c, "/economics/spend", url.Values{"month": {"2026-02"}, "amount": {"1,250.50"}, "category": {"programs"}, "channel": {"Paid Search"}, "segment": {"smb"}, "motion": {"digital"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("add spend: %d\n%s", r.Status, snippet(r.Body))
	}
	all, err := e.App.St.Read().ListSpend(ctx, e.A.ID, store.SpendFilter{From: "2026-02", To: "2026-02"})
	if err != nil || len(all) != 1 || all[0].Amount != 125050 || all[0].Channel != "paid_search" || all[0].Attribution != model.AttributionExplicit {
		t.Fatalf("stored %v %+v", err, all)
	}
	ok(t, get(t, e, c, "/economics/spend?from=2026-01&to=2026-03"), 200, "$1,250.50", "paid_search")
	// Errors stay next to their inputs with what was typed.
	ok(t, post(t, e, c, "/economics/spend", url.Values{"month": {"2026-02"}, "amount": {"lots"}, "category": {"programs"}}), http.StatusUnprocessableEntity, `id="sp-amount-err"`, `value="lots"`)
	ok(t, post(t, e, c, "/economics/spend", url.Values{"month": {"2026-02"}, "amount": {"10"}, "category": {"tools"}, "segment": {"smb"}}), http.StatusUnprocessableEntity, `id="sp-motion-err"`, "explicit attribution names both")

	// A CSV upload answers with its reconciliation and line:column reasons.
	r = spendUpload(t, e, c, "ledger.csv", "month,amount,category,channel\n2026-03,900.00,tools,crm\n2026-03,abc,tools,\n")
	ok(t, r, 200, `id="rep-rows">2<`, `id="rep-accepted">1<`, `id="rep-rejected">1<`, "Reconciled", "3:9", "is not a valid number")
	ok(t, spendUpload(t, e, c, "bad.csv", "amount,category\n1,tools\n"), http.StatusUnprocessableEntity, "no month column")

	// A rule from the grid; shares that do not add to 100 % are refused in words.
	ok(t, post(t, e, c, "/economics/spend/rules", url.Values{"category": {"tools"}, "share.smb.digital": {"60"}, "share.mid_market.digital": {"30"}}), http.StatusUnprocessableEntity, "sum to 90 %")
	r = post(t, e, c, "/economics/spend/rules", url.Values{"category": {"tools"}, "share.smb.digital": {"60"}, "share.mid_market.digital": {"40"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save rule: %d\n%s", r.Status, snippet(r.Body))
	}
	rules, _ := e.App.Econ.AllocationRules(ctx, e.A.ID)
	if len(rules) != 1 || len(rules[0].Shares) != 2 || rules[0].Shares[1].Share != 0.6 {
		t.Fatalf("rules %+v", rules)
	}
	ok(t, get(t, e, c, "/economics/spend"), 200, "SMB × Digital 60 %", "Mid-market × Digital 40 %")
	// The overview allocates the March tools spend 60/40 by that rule: 540.00 and 360.00.
	ok(t, get(t, e, c, "/economics"), 200, "$540.00", "$360.00")
	ok(t, post(t, e, c, "/economics/spend/rules/delete", url.Values{"category": {"tools"}, "channel": {""}}), http.StatusSeeOther)
	if rules, _ := e.App.Econ.AllocationRules(ctx, e.A.ID); len(rules) != 0 {
		t.Errorf("rule not removed: %+v", rules)
	}
	// Another workspace's entry cannot be deleted from here.
	b, _ := e.App.Econ.CreateSpend(ctx, actor(t, e, e.B), econInput("2026-01", 77))
	ok(t, post(t, e, c, "/economics/spend/"+econItoa(b.ID)+"/delete", nil), http.StatusNotFound)
	if _, err := e.App.St.Read().GetSpend(ctx, e.B.ID, b.ID); err != nil {
		t.Errorf("B's entry is gone: %v", err)
	}
}

func testEconomicsPeople(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	c := e.Browser(t, e.A.Users[model.RoleManager].Email)
	page := get(t, e, c, "/economics/people")
	ok(t, page, 200, "already covers employer taxes, benefits and training")
	form := formValues(t, page.Body, "/economics/people")
	form.Set("name", "SMB LDR")
	form.Set("base_salary", "50,000")
	form.Set("loaded_multiplier", "2")
	form.Set("benefits_rate", "25")
	form.Set("office", "3,600")
	form.Set("split_digital", "100")
	form.Set("split_high_touch", "0")
	// Both loading forms: refused next to the multiplier, saying why.
	ok(t, post(t, e, c, "/economics/people", form), http.StatusUnprocessableEntity, `id="new-loaded_multiplier-err"`, "not both", "count them twice")
	form.Set("benefits_rate", "")
	r := post(t, e, c, "/economics/people", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create profile: %d\n%s", r.Status, snippet(r.Body))
	}
	ps, _ := e.App.Econ.Profiles(ctx, e.A.ID)
	if len(ps) != 1 || ps[0].Cost.Annual != 10_360_000 {
		t.Fatalf("profiles %+v", ps)
	}
	id := econItoa(ps[0].ID)
	// 50,000 × 2 + 3,600 = 103,600 a year, 8,633.33 a month.
	ok(t, get(t, e, c, "/economics/people"), 200, "$103,600.00", "$8,633.33", "2× multiplier")
	ok(t, post(t, e, c, "/economics/people/"+id+"/headcount?year=2026", url.Values{"hc.2026-01": {"two"}}), http.StatusUnprocessableEntity, "is not a number")
	r = post(t, e, c, "/economics/people/"+id+"/headcount?year=2026", url.Values{"hc.2026-01": {"2"}, "hc.2026-02": {"1.5"}, "hc.2026-03": {""}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("headcount: %d\n%s", r.Status, snippet(r.Body))
	}
	pc, _ := e.App.Econ.PeopleCost(ctx, e.A.ID, "2026-01", "2026-03")
	if len(pc.Rows) != 2 || pc.Rows[0].Amount != 1_726_667 {
		t.Errorf("people cost %+v", pc.Rows)
	}
	ok(t, get(t, e, c, "/economics/people?year=2026"), 200, `name="hc.2026-02" id="hc-`+id+`-2026-02" value="1.5"`)
	// The split must add to 100 %.
	edit := formValues(t, get(t, e, c, "/economics/people").Body, "/economics/people/"+id)
	edit.Set("split_digital", "70")
	ok(t, post(t, e, c, "/economics/people/"+id, edit), http.StatusUnprocessableEntity, "sums to 70 %")
	ok(t, post(t, e, c, "/economics/people/"+id+"/delete", nil), http.StatusSeeOther)
}

func testEconomicsSettings(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	page := get(t, e, c, "/economics/settings")
	ok(t, page, 200, "Still at their defaults", `name="gross_margin" value="80"`)
	form := formValues(t, page.Body, "/economics/settings")
	form.Set("gross_margin", "72.5")
	form.Set("payback.smb", "9")
	form.Set("plan_margins", "pro = 85")
	r := post(t, e, c, "/economics/settings", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", r.Status, snippet(r.Body))
	}
	st, _ := e.App.Econ.Settings(context.Background(), e.A.ID)
	if st.GrossMargin != 0.725 || st.PaybackTargetMonths["smb"] != 9 || st.PlanMargins["pro"] != 0.85 {
		t.Errorf("saved %+v", st)
	}
	form.Set("paid_channels", "Paid Search, partner")
	form.Set("working_hours_per_year", "1,700")
	if r := post(t, e, c, "/economics/settings", form); r.Status != http.StatusSeeOther {
		t.Fatalf("save channels: %d\n%s", r.Status, snippet(r.Body))
	}
	st, _ = e.App.Econ.Settings(context.Background(), e.A.ID)
	if strings.Join(st.PaidChannels, ",") != "paid_search,partner" || st.WorkingHoursPerYear != 1700 {
		t.Errorf("saved channels %+v", st)
	}
	form.Set("paid_channels", "paid_search, paid_search")
	ok(t, post(t, e, c, "/economics/settings", form), http.StatusUnprocessableEntity, `id="es-paid_channels-err"`, "listed twice")
	form.Set("paid_channels", "paid_search")
	form.Set("working_hours_per_year", "12")
	ok(t, post(t, e, c, "/economics/settings", form), http.StatusUnprocessableEntity, `id="es-working_hours_per_year-err"`)
	form.Set("working_hours_per_year", "1800")
	form.Set("gross_margin", "180")
	ok(t, post(t, e, c, "/economics/settings", form), http.StatusUnprocessableEntity, `id="es-gross_margin-err"`)
	form.Set("gross_margin", "70")
	form.Set("plan_margins", "pro 85")
	ok(t, post(t, e, c, "/economics/settings", form), http.StatusUnprocessableEntity, `id="es-plan_margins-err"`, "line 1")
}

func testEconomicsMarket(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, c, "/economics/market?preset=article"), 200, "684,000,000,000.00 USD", "30,200,000 businesses", "SOM = SAM 34,200,000,000.00 USD × obtainable 1 % = 342,000,000.00 USD", "not saved")
	r := post(t, e, c, "/economics/market", url.Values{"rows": {"2"}, "currency": {"USD"},
		"m0.segment": {"smb"}, "m0.accounts": {"1,000"}, "m0.per_account": {"12,000"}, "m0.serviceable": {"30"}, "m0.obtainable": {"10"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("save market: %d\n%s", r.Status, snippet(r.Body))
	}
	ok(t, get(t, e, c, "/economics"), 200, "TAM = 1,000 businesses × 12,000.00 USD = 12,000,000.00 USD", "SOM = SAM 3,600,000.00 USD × obtainable 10 % = 360,000.00 USD")
	ok(t, post(t, e, c, "/economics/market", url.Values{"rows": {"1"}, "m0.segment": {"smb"}, "m0.accounts": {"many"}}), http.StatusUnprocessableEntity, "Row 1, businesses")
	ok(t, post(t, e, c, "/economics/market", url.Values{"rows": {"1"}, "m0.segment": {"smb"}, "m0.accounts": {"10"}, "m0.serviceable": {"10"}, "m0.obtainable": {"10"}}), http.StatusUnprocessableEntity, "Row 1, spend per business: is required")
}

func testEconomicsStaffing(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, c, "/economics/staffing"), 200, "No scenarios yet", "P = tenure − ramp + ramp × average ramp productivity", "Add the article")
	ok(t, post(t, e, c, "/economics/staffing/example", nil), http.StatusSeeOther)
	page := get(t, e, c, "/economics/staffing")
	ok(t, page, 200, `id="comparison"`, "In-house LDRs (article example)", "Sales-as-a-service partner (example)", "12.50 = 14 − 3 &#43; 3 × 50 %",
		`id="chart-staffing-cost-t"`, "<polyline", "configured")
	form := formValues(t, page.Body, "/economics/staffing")
	form.Set("name", "Agency B")
	form.Set("kind", "partner")
	form.Set("cost_profile_id", "")
	form.Set("tenure_months", "")
	form.Set("ramp_months", "0")
	form.Set("lead_time_months", "0")
	form.Set("meetings_per_month", "10")
	form.Set("sqls_per_month", "5")
	form.Set("retainer_monthly", "4,000")
	r := post(t, e, c, "/economics/staffing", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create scenario: %d\n%s", r.Status, snippet(r.Body))
	}
	// 4,000 a month for 5 SQLs: 800.00 per SQL.
	ok(t, get(t, e, c, "/economics/staffing"), 200, "Agency B", "$800.00")
	form.Set("name", "Agency C")
	form.Set("tenure_months", "12")
	ok(t, post(t, e, c, "/economics/staffing", form), http.StatusUnprocessableEntity, `id="new-tenure_months-err"`, "in-house scenarios only")
	form.Set("tenure_months", "")
	form.Set("ramp_months", "2")
	form.Set("ramp_curve", "50")
	ok(t, post(t, e, c, "/economics/staffing", form), http.StatusUnprocessableEntity, `id="new-ramp_curve-err"`, "has 1 values for 2 ramp months")
}

func econItoa(n int64) string { return strconv.FormatInt(n, 10) }

func econInput(month string, amount int64) economics.SpendInput {
	cat := "tools"
	return economics.SpendInput{Month: &month, Amount: &amount, Category: &cat}
}
