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
)

// TestPartnersDemo opens the demo's partner: Economics → Partners lists
// Pipeline Pros with last month's statement; its page shows the statement
// line by line with the records behind each line, the months side by side
// and its actual cost per SQL next to the in-house LDRs'; the staffing
// planner's measured scenario says "actual from 5 months". Then an SQL the
// partner handed off today is accepted on its deal page and this month's
// statement grows by the fee per SQL.
func TestPartnersDemo(t *testing.T) {
	e := apptest.New(t, store.SQLite)
	ctx := context.Background()
	now := time.Now().UTC()
	res, err := demo.Seed(ctx, e.App.St, demo.Options{Now: now, Slug: "northwind"})
	if err != nil {
		t.Fatal(err)
	}
	ws := res.Workspace.ID
	ps, err := e.App.Partners.List(ctx, ws)
	if err != nil || len(ps) != 1 {
		t.Fatalf("demo partners %v %+v", err, ps)
	}
	p := ps[0]
	// The browser's time budget starts after the demo is seeded.
	b := newBrowser(t)
	last := economics.AddMonths(economics.MonthOf(now), -1)
	st, err := e.App.Partners.Statement(ctx, ws, p.ID, last)
	if err != nil {
		t.Fatal(err)
	}
	b.run("sign in and open Economics → Partners",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, res.AdminEmail),
		chromedp.SendKeys(`#password`, res.Password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`nav[aria-label=Main] a[href="/economics"]`),
		chromedp.Navigate(e.URL+"/economics/staffing"),
		chromedp.WaitVisible(`.econ-tabs a[href="/economics/partners"]`),
		chromedp.Click(`.econ-tabs a[href="/economics/partners"]`),
		chromedp.WaitVisible(`#partners`),
	)
	total := economics.FormatMoney(st.Total, "USD") // "12,345.00 USD"; the UI writes $12,345.00
	uiTotal := "$" + strings.TrimSuffix(total, " USD")
	mustContain(t, "partners", b.text(`#partners`), demo.DemoPartner, uiTotal, "meetings")
	b.screenshot("partners-list")

	b.run("open the partner's statement (last month by default)",
		chromedp.Click(fmt.Sprintf(`#partners a[href="/economics/partners/%d"]`, p.ID)),
		chromedp.WaitVisible(`#statement-lines`),
	)
	mustContain(t, "statement", b.text(`#statement`), "Statement for "+last, "Monthly retainer", "Meetings held", "SQLs accepted by AEs", "records behind this line")
	if got := b.text(`#statement-total`); got != uiTotal {
		t.Errorf("statement total %q, want %q (the service's)", got, uiTotal)
	}
	opened, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`(() => { const d = document.querySelectorAll('#statement-lines details'); d.forEach(x => x.open = true); return document.querySelectorAll('#statement-lines .record-list li').length })()`))
	if err != nil || opened != st.Work.Meetings+st.Work.SQLsAccepted {
		t.Errorf("records listed %d (%v), want %d meetings + %d SQLs", opened, err, st.Work.Meetings, st.Work.SQLsAccepted)
	}
	mustContain(t, "actuals", b.text(`#actuals-table`), "Cost per SQL", "In-house LDRs", demo.DemoPartner)
	best, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const r = [...document.querySelectorAll('#actuals-table tr')].find(tr => tr.textContent.includes('Cost per SQL')); return r.querySelector('td.best') === r.cells[1] ? 'partner' : 'other' })()`))
	if err != nil || best != "partner" {
		t.Errorf("the partner's cost per SQL should be marked cheaper: %q %v", best, err)
	}
	mustContain(t, "months", b.text(`#partner-months`), last)
	b.screenshot("partners-statement")

	b.run("the staffing planner uses the actuals",
		chromedp.Click(`.econ-tabs a[href="/economics/staffing"]`),
		chromedp.WaitVisible(`#comparison`),
	)
	mustContain(t, "comparison", b.text(`#comparison`), demo.DemoPartner+" (measured)", "actual from 5 months", "assumed")
	b.screenshot("partners-staffing")

	// An SQL the partner handed off today awaits its AE; the admin accepts it.
	this := economics.MonthOf(now)
	before, err := e.App.Partners.Statement(ctx, ws, p.ID, this)
	if err != nil {
		t.Fatal(err)
	}
	var deal, handoff int64
	err = e.App.St.InTx(ctx, func(q store.Q) error {
		c := model.Contact{Email: "owner@bakery.example", FirstName: "Bea", LifecycleStage: "sql", Custom: model.Custom{}}
		if err := q.CreateContact(ctx, ws, &c); err != nil {
			return err
		}
		var ae int64 // an AE of the demo owns the deal
		members, err := q.WorkspaceMembers(ctx, ws)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.Role == model.RoleAE {
				ae = m.UserID
				break
			}
		}
		d := model.Deal{Name: "Bea's Bakery — Starter", Amount: 360_000, Currency: "USD", Pipeline: "digital", Stage: "qualified", OwnerID: &ae, Custom: model.Custom{}}
		if err := q.CreateDeal(ctx, ws, &d); err != nil {
			return err
		}
		h := model.Handoff{ContactID: c.ID, DealID: &d.ID, FromUserID: &p.UserIDs[0], ToUserID: &ae, Kind: "ldr_to_ae", CreatedAt: now, Note: "owner wants online ordering",
			BANT: model.BANT{Budget: "300/month", Authority: "owner", Need: "online orders", Timeline: "next month"}}
		if err := q.InsertHandoffAt(ctx, ws, &h); err != nil {
			return err
		}
		deal, handoff = d.ID, h.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b.run("accept the SQL on the deal page",
		chromedp.Navigate(fmt.Sprintf("%s/deals/%d", e.URL, deal)),
		chromedp.WaitVisible(fmt.Sprintf(`#accept-sql-%d`, handoff)),
	)
	mustContain(t, "handoff", b.text(fmt.Sprintf(`#handoff-%d`, handoff)), "Awaiting the AE", "owner wants online ordering")
	b.screenshot("partners-deal-handoff")
	b.run("accept", chromedp.Click(fmt.Sprintf(`#accept-sql-%d`, handoff)), chromedp.WaitVisible(`.notice`))
	mustContain(t, "accepted", b.text(fmt.Sprintf(`#handoff-%d`, handoff)), "SQL accepted")
	after, err := e.App.Partners.Statement(ctx, ws, p.ID, this)
	if err != nil {
		t.Fatal(err)
	}
	if after.Work.SQLsAccepted != before.Work.SQLsAccepted+1 || after.Total != before.Total+p.FeePerSQL {
		t.Errorf("this month: %d SQLs, %d owed; before %d, %d (fee per SQL %d)", after.Work.SQLsAccepted, after.Total, before.Work.SQLsAccepted, before.Total, p.FeePerSQL)
	}
	b.checkConsole()
}
