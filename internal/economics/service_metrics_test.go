package economics_test

import (
	"context"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// A small book written through the subscriptions service (movements derived
// as in production), spend, a cost profile and a deal's activity: the report
// matches hand-computed figures, its bridge matches the subscriptions
// package's own, guardrail evaluations raise alerts on transitions to red
// only, and cost-to-close prices the deal's hours.
func TestMetricsService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		f := newWS(t, st, "USD")
		svc := &economics.Service{St: st, Now: clock}
		subs := &subscriptions.Service{St: st, Now: clock}
		acct := map[string]int64{}
		var deal int64
		err := st.InTx(ctx, func(q store.Q) error {
			for _, a := range []struct{ name, seg, mot string }{{"S1", "smb", "digital"}, {"S2", "smb", "digital"}, {"S3", "smb", "digital"}, {"E1", "enterprise", "high_touch"}} {
				x := model.Account{Name: a.name, Currency: "USD", Segment: a.seg, Motion: a.mot, Custom: model.Custom{}}
				if err := q.CreateAccount(ctx, f.ws, &x); err != nil {
					return err
				}
				acct[a.name] = x.ID
			}
			s1 := acct["S1"]
			c := model.Contact{Email: "owner@s1.example", AccountID: &s1, LifecycleStage: "customer", Source: "Paid Search", Custom: model.Custom{}}
			if err := q.CreateContact(ctx, f.ws, &c); err != nil {
				return err
			}
			e1, ae := acct["E1"], f.users[model.RoleAE]
			d := model.Deal{AccountID: &e1, Name: "E1 expansion", Amount: 5_000_000, Currency: "USD", Pipeline: "high_touch", Stage: "approach", OwnerID: &ae, Custom: model.Custom{}}
			if err := q.CreateDeal(ctx, f.ws, &d); err != nil {
				return err
			}
			deal = d.ID
			a := model.Activity{Kind: "meeting", Subject: "Workshop", OccurredAt: time.Date(2026, 6, 2, 10, 0, 0, 0, time.UTC), DurationMinutes: 120, OwnerID: &ae, AccountID: &e1, DealID: &d.ID, Participants: []string{}, Custom: model.Custom{}}
			return q.CreateActivity(ctx, f.ws, &a)
		})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(name string, price int64, interval, start string) model.Subscription {
			t.Helper()
			a, q := acct[name], int64(1)
			s, err := subs.Create(ctx, f.act, subscriptions.Input{AccountID: &a, Quantity: &q, UnitPrice: &price, Interval: &interval, StartDate: &start})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s2 := mk("S2", 20_000, "month", "2025-11-05")
		mk("S1", 10_000, "month", "2026-01-10")
		mk("S3", 120_000, "year", "2026-02-01")
		mk("E1", 300_000, "month", "2026-04-01")
		if _, err := subs.Cancel(ctx, f.act, s2.ID, subscriptions.CancelInput{EndDate: ptr("2026-03-20")}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"} {
			if _, err := svc.CreateSpend(ctx, f.act, economics.SpendInput{Month: ptr(m), Amount: ptr(int64(100_000)), Category: ptr("programs"), Channel: ptr("paid_search"), Segment: ptr("smb"), Motion: ptr("digital")}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.CreateSpend(ctx, f.act, economics.SpendInput{Month: ptr("2026-04"), Amount: ptr(int64(500_000)), Category: ptr("programs"), Channel: ptr("events"), Segment: ptr("enterprise"), Motion: ptr("high_touch")}); err != nil {
			t.Fatal(err)
		}
		pr, err := svc.CreateProfile(ctx, f.act, economics.ProfileInput{Name: "AE", Role: "ae", BaseSalary: 9_000_000, LoadedMultiplier: ptr(2.0), TimeSplit: map[string]float64{"high_touch": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetHeadcount(ctx, f.act, pr.ID, map[string]float64{"2026-06": 1}); err != nil {
			t.Fatal(err)
		}

		m, err := svc.Metrics(ctx, f.ws, economics.MetricsParams{From: "2026-01", To: "2026-06"})
		if err != nil {
			t.Fatal(err)
		}
		br, err := subs.Bridge(ctx, f.ws, "2026-01-01", "2026-06-30", "")
		if err != nil {
			t.Fatal(err)
		}
		got, want := m.MRR.Bridge, br.Totals[0]
		if got.Start != want.Start || got.New != want.New || got.Churn != want.Churn || got.Expansion != want.Expansion || got.End != want.End || got.NewCustomers != want.NewCustomers || !got.Holds {
			t.Fatalf("bridge %+v, subscriptions say %+v", got, want)
		}
		if got.Start != 20_000 || got.New != 320_000 || got.Churn != 20_000 || got.End != 320_000 {
			t.Fatalf("bridge %+v", got)
		}
		for i, mb := range m.MRR.Months {
			if w := br.Months[i]; mb.Month != w.Month || mb.Start != w.Start || mb.End != w.End {
				t.Errorf("month %s: %+v vs %+v", mb.Month, mb.Bridge, w.Bridge)
			}
		}
		s := m.Summary
		if s.NewCustomers != 3 || s.PaidNewCustomers != 1 || s.Customers != 3 || s.MRR != 320_000 {
			t.Fatalf("summary %+v", s)
		}
		// Blended 6 × 100,000 + 500,000; fully loaded + June's AE 18,000,000 ÷ 12.
		val(t, "blended CAC", s.CAC.Blended.Value, 1_100_000.0/3)
		val(t, "paid CAC", s.CAC.Paid.Value, 1_100_000)
		val(t, "fully loaded CAC", s.CAC.FullyLoaded.Value, 2_600_000.0/3)
		sd := cellOf(t, m, "smb", "digital")
		val(t, "SMB ARPA", sd.ARPA, 150_000.0/13)
		val(t, "SMB churn", sd.Churn.Monthly, 1.0/12)
		val(t, "SMB LTV", sd.LTVUsed, 150_000.0/13*0.8*12)
		val(t, "SMB CAC", sd.CACUsed, 300_000)
		if sd.Status != economics.StatusRed {
			t.Errorf("SMB %s %v", sd.Status, sd.Reasons)
		}
		eh := cellOf(t, m, "enterprise", "high_touch")
		val(t, "enterprise CAC", eh.CACUsed, 2_000_000)
		val(t, "enterprise LTV", eh.LTVUsed, 300_000*0.8*60)
		if eh.Status != economics.StatusGreen || !eh.LTVCapped {
			t.Errorf("enterprise %s %v", eh.Status, eh.Reasons)
		}

		// Guardrails: red on the first evaluation, not again while red,
		// green under lenient targets, red again (from green) when restored.
		eval := func(want int, prev string) {
			t.Helper()
			raised, err := svc.EvaluateGuardrails(ctx, f.ws)
			if err != nil {
				t.Fatal(err)
			}
			if len(raised) != want {
				t.Fatalf("raised %d alerts, want %d: %+v", len(raised), want, raised)
			}
			if want == 1 && (raised[0].Segment != "smb" || raised[0].Motion != "digital" || raised[0].PreviousStatus != prev) {
				t.Fatalf("alert %+v", raised[0])
			}
		}
		eval(1, "none")
		eval(0, "")
		if _, err := svc.SaveSettings(ctx, f.act, economics.SettingsInput{LTVCACTarget: ptr(0.1), PaybackTargetMonths: map[string]*float64{"smb": ptr(100.0)}}); err != nil {
			t.Fatal(err)
		}
		eval(0, "")
		if _, err := svc.SaveSettings(ctx, f.act, economics.SettingsInput{LTVCACTarget: ptr(3.0), PaybackTargetMonths: map[string]*float64{"smb": nil}}); err != nil {
			t.Fatal(err)
		}
		eval(1, "green")
		alerts, err := svc.Alerts(ctx, f.ws, true, 0)
		if err != nil || len(alerts) != 2 {
			t.Fatalf("open alerts %d %v", len(alerts), err)
		}
		if a := alerts[0]; a.PreviousStatus != "green" || a.Cell.LTVToCAC == nil || a.Text == "" || a.Cell.Status != economics.StatusRed {
			t.Errorf("newest alert %+v", a)
		}
		if _, err := svc.AcknowledgeAlert(ctx, f.act, alerts[1].ID); err != nil {
			t.Fatal(err)
		}
		if open, _ := svc.Alerts(ctx, f.ws, true, 0); len(open) != 1 || open[0].ID != alerts[0].ID {
			t.Errorf("open after acknowledging %+v", open)
		}
		other := newWS(t, st, "USD")
		if _, err := svc.AcknowledgeAlert(ctx, other.act, alerts[0].ID); err == nil {
			t.Error("another workspace acknowledged the alert")
		}

		// Cost-to-close: 2 hours of the AE at 18,000,000 ÷ 1,800 = 10,000 an hour,
		// against the enterprise LTV ÷ 3 from the last evaluation.
		c, err := svc.CostToCloseOf(ctx, f.ws, deal)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Roles) != 1 || c.Roles[0].Role != "ae" || c.Roles[0].Hours != 2 || c.Cost != 20_000 || c.Exceeds || !c.Open {
			t.Fatalf("cost to close %+v", c)
		}
		val(t, "hourly", c.Roles[0].HourlyCost, 10_000)
		val(t, "limit", c.Limit, 300_000*0.8*60/3)
		if c.LTVAsOf == "" {
			t.Error("no LTV source")
		}
		if _, err := svc.CostToCloseOf(ctx, other.ws, deal); err != store.ErrNotFound {
			t.Errorf("foreign deal: %v", err)
		}
	})
}
