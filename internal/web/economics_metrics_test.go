package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// testEconomicsMetrics: workspace B's small book (Y: SMB 300.00 a month from
// December, cancelled in February; X: SMB 100.00 from January; Z: enterprise
// 2,000.00 from February; spend 600.00 on SMB digital, 2,000.00 on enterprise
// high touch) as /economics shows it for 2025-01..2025-03, the alert banner
// on /economics and the dashboard, and the deal page's cost-to-close card.
func testEconomicsMetrics(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	b := e.B
	act := model.Actor{Label: "test", Workspace: b.ID, Role: model.RoleAdmin}
	acct := map[string]int64{}
	err := e.App.St.InTx(ctx, func(q store.Q) error {
		for _, a := range []struct{ name, seg, mot string }{{"X", "smb", "digital"}, {"Y", "smb", "digital"}, {"Z", "enterprise", "high_touch"}} {
			x := model.Account{Name: a.name, Currency: "USD", Segment: a.seg, Motion: a.mot, Custom: model.Custom{}}
			if err := q.CreateAccount(ctx, b.ID, &x); err != nil {
				return err
			}
			acct[a.name] = x.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, price int64, start string) model.Subscription {
		a, q, iv := acct[name], int64(1), "month"
		s, err := e.App.Subscriptions.Create(ctx, act, subscriptions.Input{AccountID: &a, Quantity: &q, UnitPrice: &price, Interval: &iv, StartDate: &start})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	y := mk("Y", 30000, "2024-12-10")
	mk("X", 10000, "2025-01-15")
	mk("Z", 200000, "2025-02-01")
	end := "2025-02-10"
	if _, err := e.App.Subscriptions.Cancel(ctx, act, y.ID, subscriptions.CancelInput{EndDate: &end}); err != nil {
		t.Fatal(err)
	}
	str := func(s string) *string { return &s }
	for _, in := range []economics.SpendInput{
		{Month: str("2025-01"), Amount: ptrTo(int64(60000)), Category: str("programs"), Channel: str("paid_search"), Segment: str("smb"), Motion: str("digital")},
		{Month: str("2025-02"), Amount: ptrTo(int64(200000)), Category: str("programs"), Channel: str("events"), Segment: str("enterprise"), Motion: str("high_touch")},
	} {
		if _, err := e.App.Econ.CreateSpend(ctx, act, in); err != nil {
			t.Fatal(err)
		}
	}
	c := e.Browser(t, b.Users[model.RoleAdmin].Email)
	page := get(t, e, c, "/economics?from=2025-01&to=2025-03&period=month")
	ok(t, page, 200, `id="cell-smb-digital" data-status="red"`, `id="cell-enterprise-high_touch" data-status="green"`,
		"SMB via digital: CAC 600 USD vs max affordable 160 USD → cut CAC by 73 % or raise LTV 3.8× to reach 3:1",
		`id="cohort-logo"`, `id="cohort-revenue"`, "chart-mrr-waterfall", `id="funnel-costs"`, `id="conv-guardrail"`, "end = start + new + expansion + reactivation − contraction − churn")
	// The matrix cell shows its numbers: LTV 15,000 × 0.8 × 4 = 480.00, CAC 600.00.
	cell := page.Body[strings.Index(page.Body, `id="cell-smb-digital"`):]
	cell = cell[:strings.Index(cell, "</td>")]
	for _, want := range []string{"0.8", "$600.00", "$480.00", "$160.00"} {
		if !strings.Contains(cell, want) {
			t.Errorf("SMB cell lacks %q:\n%s", want, cell)
		}
	}
	ok(t, get(t, e, c, "/economics?churn=median"), 200, "Churn: must be one of", `id="matrix"`)

	// An alert shows on /economics and the dashboard until acknowledged.
	al := store.EconomicsAlert{Segment: "smb", Motion: "digital", PreviousStatus: "green", Status: "red", WindowFrom: "2025-01", WindowTo: "2025-03", CreatedAt: time.Now().UTC(),
		Detail: []byte(`{"segment":"smb","motion":"digital","status":"red","ltv_to_cac":0.8,"reasons":["LTV:CAC 0.8 is below 2.4 (the target 3 less 20 %)"]}`)}
	if err := e.App.St.InTx(ctx, func(q store.Q) error { return q.InsertEconomicsAlert(ctx, b.ID, &al) }); err != nil {
		t.Fatal(err)
	}
	ok(t, get(t, e, c, "/economics"), 200, `id="alerts"`, "SMB via digital turned red (was green): LTV:CAC 0.8")
	ok(t, get(t, e, c, "/"), 200, `id="guardrail-alerts"`, "SMB via digital turned red")
	ldr := e.Browser(t, b.Users[model.RoleLDR].Email)
	if r := get(t, e, ldr, "/"); strings.Contains(r.Body, "guardrail-alerts") {
		t.Error("an LDR sees the guardrail banner")
	}
	ok(t, post(t, e, ldr, fmt.Sprintf("/economics/alerts/%d/acknowledge", al.ID), url.Values{"back": {"/"}}), http.StatusForbidden)
	r := post(t, e, c, fmt.Sprintf("/economics/alerts/%d/acknowledge", al.ID), url.Values{"back": {"/"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/#alerts" {
		t.Fatalf("acknowledge: %d %s", r.Status, r.Header.Get("Location"))
	}
	if r := get(t, e, c, "/"); strings.Contains(r.Body, "guardrail-alerts") {
		t.Error("the banner stays after acknowledging")
	}
	ok(t, post(t, e, c, "/economics/alerts/999999/acknowledge", nil), http.StatusNotFound)

	// Cost-to-close card: 90 minutes of an AE at 180,000.00 a year ÷ 1,800 h = 100.00/h.
	if _, err := e.App.Econ.CreateProfile(ctx, act, economics.ProfileInput{Name: "AE", Role: "ae", BaseSalary: 9_000_000, LoadedMultiplier: ptrTo(2.0), TimeSplit: map[string]float64{"high_touch": 1}}); err != nil {
		t.Fatal(err)
	}
	var deal int64
	err = e.App.St.InTx(ctx, func(q store.Q) error {
		z, ae := acct["Z"], b.Users[model.RoleAE].ID
		d := model.Deal{AccountID: &z, Name: "Z rollout", Amount: 1, Currency: "USD", Pipeline: "high_touch", Stage: "approach", OwnerID: &ae, Custom: model.Custom{}}
		if err := q.CreateDeal(ctx, b.ID, &d); err != nil {
			return err
		}
		deal = d.ID
		a := model.Activity{Kind: "meeting", Subject: "Workshop", OccurredAt: time.Now().UTC().Add(-time.Hour), DurationMinutes: 90, OwnerID: &ae, DealID: &d.ID, Participants: []string{}, Custom: model.Custom{}}
		return q.CreateActivity(ctx, b.ID, &a)
	})
	if err != nil {
		t.Fatal(err)
	}
	ok(t, get(t, e, c, fmt.Sprintf("/deals/%d", deal)), 200, `id="cost-to-close"`, "1.5 h", "$150.00", "AE 1.5 h × $100.00/h = $150.00")
	ae := e.Browser(t, b.Users[model.RoleAE].Email)
	if r := get(t, e, ae, fmt.Sprintf("/deals/%d", deal)); r.Status != 200 || strings.Contains(r.Body, `id="cost-to-close"`) {
		t.Errorf("an AE sees the cost-to-close card (%d)", r.Status)
	}
}
func ptrTo[T any](v T) *T { return &v }
