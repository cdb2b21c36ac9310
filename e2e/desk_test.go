package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestDeskHandoff: an LDR qualifies a lead from the queue; the AE signs in and
// finds the new deal with the handoff note.
func TestDeskHandoff(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			ldr, ae := e.A.Users[model.RoleLDR], e.A.Users[model.RoleAE]
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				p := model.Pool{Name: "AEs", Role: model.RoleAE, Capacity: 50}
				if err := q.CreatePool(ctx, e.A.ID, &p); err != nil {
					return err
				}
				return q.SetPoolMember(ctx, e.A.ID, model.PoolMember{PoolID: p.ID, UserID: ae.ID, Active: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Vandelay Industries", "employees": "45"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "art@vandelay.example", "first_name": "Art", "last_name": "Vandelay", "lifecycle_stage": "mql", "owner_id": fmt.Sprint(ldr.ID), "account_id": fmt.Sprint(acct.ID)})
			if err != nil {
				t.Fatal(err)
			}
			signIn := func(email, next, wait string) {
				t.Helper()
				b.run("sign in as "+email,
					chromedp.Navigate(e.URL+"/login?next="+next),
					chromedp.WaitVisible(`#email`),
					chromedp.SendKeys(`#email`, email),
					chromedp.SendKeys(`#password`, apptest.Password),
					chromedp.Click(`button[type=submit]`),
					chromedp.WaitVisible(wait),
				)
			}
			row := fmt.Sprintf(`#desk-%d`, c.ID)
			signIn(ldr.Email, "%2Fdesk", row)
			mustContain(t, "nav", b.text(`nav[aria-label=Main]`), "LDR desk")
			mustContain(t, "queue row", b.text(row), "Art Vandelay", "Vandelay Industries")
			p := fmt.Sprintf("#qualify%d-", c.ID)
			b.run("qualify from the queue",
				chromedp.Click(row+` + tr details:first-of-type > summary`),
				chromedp.WaitVisible(p+`budget`),
				chromedp.SendKeys(p+`budget`, "$30k this year"),
				chromedp.SendKeys(p+`authority`, "Art signs"),
				chromedp.SendKeys(p+`need`, "Latex import tracking"),
				chromedp.SendKeys(p+`timeline`, "Before Q2"),
				chromedp.SendKeys(p+`note`, "Prefers email; met at the trade show"),
			)
			b.screenshot(string(kind) + "-desk-qualify")
			b.run("submit the qualification",
				chromedp.Click(row+` + tr details:first-of-type button[type=submit]`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "notice", b.text(`.notice`), "Qualified")
			deals, err := e.App.St.Read().ListDeals(ctx, e.A.ID, store.ListParams{Limit: 5}, nil)
			if err != nil || len(deals.Items) != 1 {
				t.Fatalf("deals after qualify: %v %v", deals.Items, err)
			}
			d := deals.Items[0]
			b.run("sign out", chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/logout"]').submit()`), chromedp.WaitVisible(`#email`))

			signIn(ae.Email, "%2Fdeals", `table.table`)
			mustContain(t, "AE's deals", b.text(`table.table`), d.Name)
			b.run("open the deal", chromedp.Navigate(fmt.Sprintf("%s/deals/%d", e.URL, d.ID)), chromedp.WaitVisible(`.handoff`))
			b.screenshot(string(kind) + "-deal-handoff")
			mustContain(t, "handoff", b.text(`.handoff`), "Prefers email; met at the trade show", "Latex import tracking", ldr.Email)
			b.checkConsole()
		})
	}
}
