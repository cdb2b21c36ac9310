package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestRoutingSettings: an admin lowers the SMB employee threshold in the routing
// editor and saves; the account page's "Why this motion" card then routes an
// 80-employee account to mid-market instead of SMB.
func TestRoutingSettings(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Kramerica Industries", "employees": "80"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.App.Assignment.CreatePool(ctx, act, model.Pool{Name: "SMB LDRs", Role: model.RoleLDR, Team: "smb", Capacity: 40}); err != nil {
				t.Fatal(err)
			}
			admin := e.A.Users[model.RoleAdmin]
			b.run("sign in",
				chromedp.Navigate(e.URL+"/login?next=%2Fsettings"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, admin.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`a.tile[href="/settings/routing"]`),
			)
			b.screenshot("settings-hub-" + string(kind))
			page := fmt.Sprintf("%s/accounts/%d", e.URL, acct.ID)
			b.run("account before", chromedp.Navigate(page), chromedp.WaitVisible(`#why-reason`))
			mustContain(t, "why before", b.text(`#why-reason`), "→ smb")

			b.run("open the routing editor from the settings nav",
				chromedp.Click(`nav[aria-label=Main] a[href="/settings"]`),
				chromedp.WaitVisible(`a.tile[href="/settings/routing"]`),
				chromedp.Click(`a.tile[href="/settings/routing"]`),
				chromedp.WaitVisible(`#seg-0-c-0-value`),
			)
			if v := b.value(`#seg-0-c-0-value`); v != "100" {
				t.Fatalf("SMB threshold shows %q", v)
			}
			// The move buttons (app.js) reorder and renumber; moving down and up again
			// leaves the order as it was.
			b.run("move a rule down and back",
				chromedp.Click(`ol[data-rules=seg] li:first-child button[data-move="1"]`),
				chromedp.Click(`ol[data-rules=seg] li:nth-child(2) button[data-move="-1"]`),
			)
			if v := b.value(`#seg-0-segment`); v != "smb" {
				t.Fatalf("after moving, the first rule is %q", v)
			}
			b.run("a threshold that is not a number is refused next to its input",
				chromedp.SetValue(`#seg-0-c-0-value`, "fifty"),
				chromedp.Click(`form.rules-form button.btn-primary`),
				chromedp.WaitVisible(`#seg-0-c-0-err`),
			)
			mustContain(t, "error", b.text(`#seg-0-c-0-err`), "not a whole number")
			if v := b.value(`#seg-0-c-0-value`); v != "fifty" {
				t.Fatalf("the typed value was not kept: %q", v)
			}
			b.screenshot("settings-routing-error-" + string(kind))
			b.run("lower the SMB threshold to 50 and save",
				chromedp.SetValue(`#seg-0-c-0-value`, "50"),
				chromedp.SetValue(`#seg-1-c-0-value`, "50"),
				chromedp.Click(`form.rules-form button.btn-primary`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "notice", b.text(`.notice`), "Routing rules saved")
			if v := b.value(`#seg-0-c-0-value`); v != "50" {
				t.Fatalf("after saving the SMB threshold shows %q", v)
			}
			b.screenshot("settings-routing-" + string(kind))

			b.run("account after", chromedp.Navigate(page), chromedp.WaitVisible(`#why-reason`))
			mustContain(t, "why after", b.text(`#why-reason`), "employees 80 ≥ 50", "→ mid_market")
			b.screenshot("account-rerouted-" + string(kind))

			b.run("scoring page", chromedp.Navigate(e.URL+"/settings/scoring"), chromedp.WaitVisible(`#half_life_days`))
			b.screenshot("settings-scoring-" + string(kind))
			b.run("pools page", chromedp.Navigate(e.URL+"/settings/pools"), chromedp.WaitVisible(`#h-sla`))
			mustContain(t, "pools", b.text(`.record-main`), "SMB LDRs")
			b.screenshot("settings-pools-" + string(kind))
			b.checkConsole()
		})
	}
}

// value returns the current value of the input matching sel.
func (b *browser) value(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return v
}
