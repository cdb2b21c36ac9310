package subscriptions_test

import (
	"errors"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// setClock makes the fixture's service live on day.
func (f *fixture) setClock(day string) {
	d, _ := time.Parse(time.DateOnly, day)
	f.svc.Now = func() time.Time { return d.Add(9 * time.Hour) }
}

func (f *fixture) openRenewals(acct int64) []string {
	f.t.Helper()
	rs, err := f.svc.Renewals(f.ctx, f.act.Workspace, store.RenewalFilter{AccountID: acct})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.RenewalDate+" "+r.Status+" "+r.Outcome)
	}
	return out
}

// TestRenewalJob runs the renewal job's work function at chosen days: a
// renewal opens lead days ahead, once; outcomes apply on the renewal date; an
// auto-renewing subscription nobody decided renews itself, one without
// auto-renew ends (churn) on its date.
func TestRenewalJob(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ws := f.act.Workspace
		annual := f.account("Annual", "mid_market")
		monthly := f.account("Monthly", "smb")
		fixed := f.account("Fixed term", "enterprise")
		a := f.create(annual, 10, 120_00, "year", "2025-09-01") // 10 × 120/yr = 100.00/month, renews 2026-09-01
		f.create(monthly, 1, 50_00, "month", "2026-05-20")      // renews 2026-06-20
		off := false
		x, err := f.svc.Create(f.ctx, f.act, subscriptions.Input{AccountID: &fixed, UnitPrice: p(int64(2400_00)), Interval: p("year"), StartDate: p("2024-10-01"),
			TermMonths: p(int64(24)), AutoRenew: &off}) // 200.00/month, renews 2026-10-01
		if err != nil {
			t.Fatal(err)
		}
		if a.RenewalDate != "2026-09-01" || x.RenewalDate != "2026-10-01" {
			t.Fatalf("renewal dates %s %s", a.RenewalDate, x.RenewalDate)
		}
		if _, err := f.svc.SaveSettings(f.ctx, f.act, subscriptions.SettingsInput{RenewalLeadDays: p(80)}); err != nil {
			t.Fatal(err)
		}
		// 2026-06-15 + 80 days = 2026-09-03: the annual and the monthly renewal
		// open, the 2026-10-01 one does not yet.
		res, err := f.svc.RunRenewals(f.ctx, ws, "2026-06-15")
		if err != nil {
			t.Fatal(err)
		}
		if res.Opened != 2 || res.AutoRenewed != 0 || res.Expired != 0 {
			t.Fatalf("first run %+v", res)
		}
		if again, err := f.svc.RunRenewals(f.ctx, ws, "2026-06-15"); err != nil || again != (subscriptions.RenewalResult{}) {
			t.Fatalf("second run on the same day did something: %+v %v", again, err)
		}
		wantList(t, "fixed-term renewals", f.openRenewals(fixed), nil)

		// The CSM records an expansion ahead of the date: 12 seats from 2026-09-01.
		rs, _ := f.svc.Renewals(f.ctx, ws, store.RenewalFilter{AccountID: annual})
		r, err := f.svc.RecordOutcome(f.ctx, f.act, rs[0].ID, subscriptions.OutcomeInput{Outcome: p("expand"), Quantity: p(int64(12)), Note: p("two more teams")})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != "closed" || r.Outcome != "expand" || r.MRRBefore != 100_00 || *r.MRRAfter != 120_00 {
			t.Fatalf("closed renewal %+v", r)
		}
		if _, err := f.svc.RecordOutcome(f.ctx, f.act, rs[0].ID, subscriptions.OutcomeInput{Outcome: p("renew")}); fieldOf(err) != "outcome" {
			t.Fatalf("second outcome: %v", err)
		}
		wantList(t, "annual movements", f.movements(annual), []string{"2025-09-01 new 10000", "2026-09-01 expansion 2000"})
		if got, _ := st.Read().GetSubscription(f.ctx, ws, a.ID); got.RenewalDate != "2027-09-01" || got.Quantity != 12 {
			t.Fatalf("after expand: %+v", got)
		}

		// Time passes to 2026-10-02 without anyone deciding the others.
		f.setClock("2026-10-02")
		res, err = f.svc.RunRenewals(f.ctx, ws, "2026-10-02")
		if err != nil {
			t.Fatal(err)
		}
		// monthly: the open 06-20 renewal and those opened for 07-20, 08-20 and
		// 09-20 settle as renewed one term at a time; the next one (10-20) opens
		// and waits. fixed: opened and, its date passed without auto-renew,
		// churned on it.
		if res.AutoRenewed != 4 || res.Expired != 1 || res.Opened != 1+4 {
			t.Fatalf("catch-up run %+v", res)
		}
		wantList(t, "monthly renewals", f.openRenewals(monthly), []string{
			"2026-06-20 closed renew", "2026-07-20 closed renew", "2026-08-20 closed renew", "2026-09-20 closed renew", "2026-10-20 open ",
		})
		wantList(t, "monthly movements", f.movements(monthly), []string{"2026-05-20 new 5000"})
		wantList(t, "fixed movements", f.movements(fixed), []string{"2024-10-01 new 20000", "2026-10-01 churn 20000"})
		wantList(t, "fixed renewals", f.openRenewals(fixed), []string{"2026-10-01 closed churn"})
	})
}

// TestRenewalOutcomeRules: expand must raise MRR, contract lower it; churn
// ends on the renewal date; renew takes no terms.
func TestRenewalOutcomeRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ws := f.act.Workspace
		acct := f.account("Rules", "smb")
		other := f.account("Other", "smb")
		f.create(acct, 5, 1200_00, "year", "2025-08-01") // 500.00/month, renews 2026-08-01
		f.create(other, 1, 100_00, "month", "2026-01-01")
		if _, err := f.svc.RunRenewals(f.ctx, ws, today); err != nil {
			t.Fatal(err)
		}
		rs, _ := f.svc.Renewals(f.ctx, ws, store.RenewalFilter{AccountID: acct, Status: "open"})
		if len(rs) != 1 {
			t.Fatalf("renewals %+v", rs)
		}
		id := rs[0].ID
		for _, c := range []subscriptions.OutcomeInput{
			{Outcome: p("expand"), Quantity: p(int64(5))},
			{Outcome: p("contract"), UnitPrice: p(int64(1300_00))},
			{Outcome: p("expand")},
			{Outcome: p("renew"), Quantity: p(int64(6))},
			{Outcome: p("upsell")},
			{},
		} {
			if _, err := f.svc.RecordOutcome(f.ctx, f.act, id, c); fieldOf(err) != "outcome" {
				t.Errorf("%+v: %v, want a refusal naming outcome", c, err)
			}
		}
		if _, err := f.svc.RecordOutcome(f.ctx, f.act, id, subscriptions.OutcomeInput{Outcome: p("contract"), Quantity: p(int64(0))}); fieldOf(err) != "quantity" {
			t.Errorf("quantity 0: %v", err)
		}
		if _, err := f.svc.RecordOutcome(f.ctx, f.act, id, subscriptions.OutcomeInput{Outcome: p("churn")}); err != nil {
			t.Fatal(err)
		}
		wantList(t, "movements", f.movements(acct), []string{"2025-08-01 new 50000", "2026-08-01 churn 50000"})
		sub, _, _ := st.Read().ListSubscriptions(f.ctx, ws, store.SubscriptionFilter{AccountID: acct})
		if sub[0].EndDate != "2026-08-01" {
			t.Fatalf("end %q", sub[0].EndDate)
		}
		// A renewal of another workspace's subscription is a missing one.
		ors, _ := f.svc.Renewals(f.ctx, ws, store.RenewalFilter{AccountID: other, Status: "open"})
		g := newFixture(t, st)
		if _, err := g.svc.RecordOutcome(g.ctx, g.act, ors[0].ID, subscriptions.OutcomeInput{Outcome: p("renew")}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign renewal: %v", err)
		}
	})
}
