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

// TestCustomerSuccessHandoff: the AE wins a deal on its edit form; the
// handoff appears in the CSM queue, assigned from the csm pool; the AE writes
// the note; the CSM accepts it and ticks the first onboarding item.
func TestCustomerSuccessHandoff(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			ae, csm := e.A.Users[model.RoleAE], e.A.Users[model.RoleCSM]
			err := e.App.St.InTx(ctx, func(q store.Q) error {
				p := model.Pool{Name: "CSMs", Role: model.RoleCSM, Capacity: 40}
				if err := q.CreatePool(ctx, e.A.ID, &p); err != nil {
					return err
				}
				return q.SetPoolMember(ctx, e.A.ID, model.PoolMember{PoolID: p.ID, UserID: csm.ID, Active: true})
			})
			if err != nil {
				t.Fatal(err)
			}
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Pied Piper", "employees": "40"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Pied Piper — Growth", "pipeline": "digital", "stage": "proposal", "amount": "1800000",
				"account_id": fmt.Sprint(acct.ID), "owner_id": fmt.Sprint(ae.ID)})
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
			signIn(ae.Email, fmt.Sprintf("%%2Fdeals%%2F%d%%2Fedit", d.ID), `select[name=outcome]`)
			b.run("win the deal",
				chromedp.SetValue(`select[name=outcome]`, "won"),
				chromedp.Click(`main form.form button[type=submit]`),
				chromedp.WaitVisible(`.stepper-card`),
			)
			row := fmt.Sprintf(`#awaiting-note tr[data-customer="%d"]`, acct.ID)
			b.run("the queue shows the handoff", chromedp.Navigate(e.URL+"/success"), chromedp.WaitVisible(row))
			mustContain(t, "queue row", b.text(row), "Pied Piper", "Pied Piper — Growth", "Digital", "csm", "0 of 5")
			b.screenshot(string(kind) + "-success-queue")

			b.run("open the customer", chromedp.Click(row+` a[href^="/customers/"]`), chromedp.WaitVisible(`#cs-handoff`))
			mustContain(t, "handoff", b.text(`#cs-handoff`), "Awaiting note", "The AE's note still needs: goals, stakeholders, risks", "Kickoff call held", "csm@alpha.example.com")
			b.run("write the note",
				chromedp.SendKeys(`#cs-goals`, "Replace spreadsheets for 40 users by January"),
				chromedp.SendKeys(`#cs-stakeholders`, "Richard (CEO, sponsor); Jared (ops, admin)"),
				chromedp.SendKeys(`#cs-risks`, "Data export from the old tool is manual"),
				chromedp.Click(`.cs-note-form button[type=submit]`),
				chromedp.WaitVisible(`#cs-handoff [data-status="awaiting_acceptance"]`),
			)
			mustContain(t, "note saved", b.text(`#cs-handoff`), "The note is complete")
			b.run("sign out", chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/logout"]').submit()`), chromedp.WaitVisible(`#email`))

			page := fmt.Sprintf("%%2Fcustomers%%2F%d%%2Fsuccess", acct.ID)
			signIn(csm.Email, page, `#cs-handoff [data-accept]`)
			b.run("accept",
				chromedp.Click(`#cs-handoff [data-accept]`),
				chromedp.WaitVisible(`#cs-handoff [data-status="accepted"]`),
			)
			mustContain(t, "accepted", b.text(`#cs-handoff`), "Accepted by csm@alpha.example.com", "Replace spreadsheets for 40 users by January", "Data export from the old tool is manual")
			b.run("tick the kickoff",
				chromedp.Click(`[data-item="kickoff_call"] .cs-toggle`),
				chromedp.WaitVisible(`li.done[data-item="kickoff_call"]`),
			)
			mustContain(t, "checklist", b.text(`#cs-handoff .cs-sub`), "1 of 5")
			mustContain(t, "health", b.text(`#cs-health`), "Health", "No data yet", "0 usage: no data yet")
			b.screenshot(string(kind) + "-customer-success")

			h, err := e.App.Success.Handoff(ctx, e.A.ID, acct.ID, nil)
			if err != nil || h.Status != "accepted" || h.ItemsDone != 1 || h.CSMUserID == nil || *h.CSMUserID != csm.ID {
				t.Fatalf("stored handoff %+v %v", h, err)
			}
			b.checkConsole()
		})
	}
}
