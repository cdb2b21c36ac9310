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

// dragJS drags card deal-%d onto the %q column with the events a browser
// sends for a drag and drop (headless Chromium does not synthesise native
// drags from mouse input); the board script handles them as for a real drag.
const dragJS = `(function(){
  var card = document.getElementById("deal-%d");
  var col = document.querySelector('.board-col[data-stage="%s"]');
  var dt = new DataTransfer();
  card.dispatchEvent(new DragEvent("dragstart", {bubbles: true, dataTransfer: dt}));
  col.dispatchEvent(new DragEvent("dragover", {bubbles: true, cancelable: true, dataTransfer: dt}));
  col.dispatchEvent(new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: dt}));
})()`

// TestBoardGate: an AE drags a deal to Order without sign-offs and is refused
// with the reasons on the card; records the six sign-offs on the deal page's
// committee grid; drags again and the move is allowed.
func TestBoardGate(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			act := model.Actor{Label: "seed", Workspace: e.A.ID, Role: model.RoleAdmin}
			acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Globex Corporation", "employees": "4200"})
			if err != nil {
				t.Fatal(err)
			}
			ae := e.A.Users[model.RoleAE]
			d, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Globex — global rollout", "pipeline": "high_touch", "stage": "close", "amount": "48000000",
				"expected_close_date": "2026-12-20", "account_id": fmt.Sprint(acct.ID), "owner_id": fmt.Sprint(ae.ID)})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"Initech pilot", "Umbrella — clinical ops"} {
				if _, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": n, "pipeline": "high_touch", "stage": "prospect", "amount": "1250000", "account_id": fmt.Sprint(acct.ID)}); err != nil {
					t.Fatal(err)
				}
			}
			people := []struct{ first, last, title, role string }{
				{"Hank", "Scorpio", "CEO", "economic_buyer"}, {"Lisa", "Ledger", "General Counsel", "legal"}, {"Carl", "Champion", "VP Ops", "champion"},
				{"Fran", "Finance", "CFO", "finance"}, {"Paula", "Purchase", "Head of Procurement", "procurement"}, {"Ted", "Tech", "CTO", "technical_decision_maker"},
			}
			var contacts []int64
			for i, p := range people {
				c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": fmt.Sprintf("exec%d@globex.example", i), "first_name": p.first, "last_name": p.last, "title": p.title, "account_id": fmt.Sprint(acct.ID)})
				if err != nil {
					t.Fatal(err)
				}
				contacts = append(contacts, c.ID)
			}
			card := fmt.Sprintf("#deal-%d", d.ID)
			b.run("sign in as the AE",
				chromedp.Navigate(e.URL+"/login?next=%2Fpipeline%3Fmotion%3Dhigh_touch"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, ae.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(card),
			)
			mustContain(t, "card", b.text(card), "Globex — global rollout", "Globex Corporation", "$480,000.00", "d in stage")
			b.run("drag to Order without sign-offs",
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(dragJS, d.ID, "order")),
				chromedp.WaitVisible(card+` [data-refusal]`),
			)
			mustContain(t, "refusal", b.text(card+` [data-refusal]`), "Move refused", "0 of 6 required committee sign-offs approved to leave Close",
				"an approved economic buyer sign-off is required", "an approved legal sign-off is required")
			b.screenshot(string(kind) + "-board-refused")
			if got, _ := e.App.St.Read().GetDeal(ctx, e.A.ID, d.ID); got.Stage != "close" {
				t.Fatalf("a refused move was written: %s", got.Stage)
			}

			// The deal page's checklist says what is missing; record the sign-offs there.
			b.run("deal page", chromedp.Navigate(fmt.Sprintf("%s/deals/%d", e.URL, d.ID)), chromedp.WaitVisible(`#gates`))
			mustContain(t, "checklist", b.text(`#gates`), "To leave Close for Order", "0 of 6 required committee sign-offs approved")
			for i, p := range people {
				b.run("sign-off "+p.role,
					chromedp.SetValue(`#committee .committee-form select[name=contact_id]`, fmt.Sprint(contacts[i])),
					chromedp.SetValue(`#committee .committee-form select[name=role]`, p.role),
					chromedp.SetValue(`#committee .committee-form select[name=signoff]`, "approved"),
					chromedp.SetValue(`#committee .committee-form input[name=note]`, "signed in the steering meeting"),
					chromedp.Click(`#committee .committee-form button[type=submit]`),
					chromedp.WaitVisible(fmt.Sprintf(`#committee tr[data-contact="%d"]`, contacts[i])),
				)
			}
			mustContain(t, "grid", b.text(`#committee`), "Hank Scorpio", "Economic buyer", "Lisa Ledger", "Legal", "Approved")
			mustContain(t, "checklist met", b.text(`#gates`), "Every exit criterion of Close is met")
			b.screenshot(string(kind) + "-deal-committee")

			b.run("drag to Order again",
				chromedp.Navigate(e.URL+"/pipeline?motion=high_touch"),
				chromedp.WaitVisible(card),
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(dragJS, d.ID, "order")),
				chromedp.WaitVisible(`.board-col[data-stage="order"] `+card),
			)
			// The column amounts follow the move (re-read from the server).
			if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('.board-col[data-stage="order"] [data-amount]').textContent.trim() !== ""`)); err != nil {
				t.Fatalf("order column amount never updated: %v", err)
			}
			b.screenshot(string(kind) + "-board-moved")
			if got, _ := e.App.St.Read().GetDeal(ctx, e.A.ID, d.ID); got.Stage != "order" {
				t.Fatalf("allowed move not written: %s", got.Stage)
			}
			b.checkConsole()
		})
	}
}
