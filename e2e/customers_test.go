package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// TestCustomerPage: a CSM opens the customer list, follows a customer with a
// year of history to its page (subscriptions, MRR chart, movements, the open
// renewal), records an expansion through the renewal form, and sees it.
func TestCustomerPage(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			svc := e.App.Subscriptions
			acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Hooli Health", "domain": "hooli-health.example", "employees": "640"})
			if err != nil {
				t.Fatal(err)
			}
			day := func(months int) string { return time.Now().UTC().AddDate(0, months, 0).Format(time.DateOnly) }
			p := func(s string) *string { return &s }
			n := func(v int64) *int64 { return &v }
			// Platform: 20 seats at 600.00 a year from 11 months ago (1,000.00 a
			// month), 25 seats from 5 months ago; an add-on from 8 months ago,
			// cancelled 2 months ago.
			plat, err := svc.Create(ctx, act, subscriptions.Input{AccountID: &acct.ID, Plan: p("Platform"), Quantity: n(20), UnitPrice: n(600_00), Interval: p("year"), StartDate: p(day(-11))})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Change(ctx, act, plat.ID, subscriptions.ChangeInput{Quantity: n(25), EffectiveDate: p(day(-5))}); err != nil {
				t.Fatal(err)
			}
			addon, err := svc.Create(ctx, act, subscriptions.Input{AccountID: &acct.ID, Plan: p("Analytics add-on"), UnitPrice: n(150_00), Interval: p("month"), StartDate: p(day(-8))})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Cancel(ctx, act, addon.ID, subscriptions.CancelInput{EndDate: p(day(-2))}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.RunRenewals(ctx, e.A.ID, svc.Today()); err != nil {
				t.Fatal(err)
			}
			csm := e.A.Users[model.RoleCSM]
			row := fmt.Sprintf(`#customers a[href="/customers/%d"]`, acct.ID)
			b.run("sign in as the CSM",
				chromedp.Navigate(e.URL+"/login?next=%2Fcustomers"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, csm.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(row),
			)
			mustContain(t, "customer list", b.text("#customers"), "Hooli Health", "$1,250.00", "Platform")
			b.screenshot(string(kind) + "-customers")
			b.run("open the customer", chromedp.Click(row), chromedp.WaitVisible(`#renewals form`))
			mustContain(t, "tiles", b.text(".tiles"), "$1,250.00", "ARR $15,000.00")
			mustContain(t, "subscriptions", b.text("#subscriptions"), "Platform", "25 × $600.00 / year", "Analytics add-on", "ended", "Ended")
			mustContain(t, "movements", b.text("#movements"), "New", "+$1,000.00", "Expansion", "+$150.00", "+$250.00", "Contraction", "−$150.00")
			mustContain(t, "renewal", b.text("#renewals"), "Platform renews on", "$1,250.00 a month")
			b.screenshot(string(kind) + "-customer")
			b.run("record an expansion at renewal",
				chromedp.SetValue(`#renewals select[name=outcome]`, "expand"),
				chromedp.SendKeys(`#renewals input[name=quantity]`, "30"),
				chromedp.SendKeys(`#renewals input[name=note]`, "Clinical ops joins"),
				chromedp.Click(`#renewals button[type=submit]`),
				chromedp.WaitVisible(`#past-renewals`),
			)
			mustContain(t, "past renewals", b.text("#past-renewals"), "Expand", "$1,250.00 → $1,500.00", "Clinical ops joins")
			mustContain(t, "movements after", b.text("#movements"), "+$250.00")
			b.screenshot(string(kind) + "-customer-renewed")
			b.run("open a subscription's change form",
				chromedp.Click(`#subscriptions tbody tr:first-child .sub-actions summary`),
				chromedp.WaitVisible(`#subscriptions tbody tr:first-child .sub-actions input[name=quantity]`),
				chromedp.Click(`.sub-add summary`),
				chromedp.WaitVisible(`#sub-add-form input[name=unit_price]`),
			)
			b.screenshot(string(kind) + "-customer-forms")
			b.checkConsole()
		})
	}
}
