package subscriptions_test

import (
	"encoding/json"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func (f *fixture) dealHistory(id int64) []string {
	f.t.Helper()
	hs, err := f.st.Read().History(f.ctx, f.act.Workspace, "deal", id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, h := range hs {
		out = append(out, h.Action)
	}
	return out
}

func has(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestDealWon: winning a deal through crm opens one annual subscription at the
// deal's amount (read as ACV) from the close date, making the account a
// customer with a new movement; a second win opens nothing more; a deal
// without an account opens nothing and says why; custom fields set plan,
// quantity and interval; an unreadable one refuses the write naming it.
func TestDealWon(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		c := &crm.Service{St: st, Won: []crm.WonHook{f.svc}}
		act := f.act
		act.Role = model.RoleAdmin
		acct := f.account("Winner", "mid_market")
		d, err := c.CreateDeal(f.ctx, act, crm.Fields{"name": "Winner — Platform", "pipeline": "digital", "account_id": float64(acct), "amount": float64(1_200_000)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateDeal(f.ctx, act, d.ID, crm.Fields{"outcome": "won", "stage": "won", "closed_at": "2026-06-01T10:00:00Z"}); err != nil {
			t.Fatal(err)
		}
		subs, _ := st.Read().AccountSubscriptions(f.ctx, act.Workspace, acct)
		if len(subs) != 1 {
			t.Fatalf("%d subscriptions", len(subs))
		}
		s := subs[0]
		if s.Plan != "Winner — Platform" || s.Quantity != 1 || s.UnitPrice != 1_200_000 || s.Interval != "year" || s.MRR != 100_000 ||
			s.StartDate != "2026-06-01" || s.TermMonths != 12 || s.RenewalDate != "2027-06-01" || !s.AutoRenew || s.DealID == nil || *s.DealID != d.ID || s.Currency != "USD" {
			t.Fatalf("subscription from the deal: %+v", s)
		}
		wantList(t, "movements", f.movements(acct), []string{"2026-06-01 new 100000"})
		if !has(f.dealHistory(d.ID), "subscription_opened") {
			t.Fatalf("deal history %v", f.dealHistory(d.ID))
		}
		// Reopened and won again: still one subscription.
		if _, err := c.UpdateDeal(f.ctx, act, d.ID, crm.Fields{"outcome": ""}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateDeal(f.ctx, act, d.ID, crm.Fields{"outcome": "won"}); err != nil {
			t.Fatal(err)
		}
		if subs, _ := st.Read().AccountSubscriptions(f.ctx, act.Workspace, acct); len(subs) != 1 {
			t.Fatalf("second win: %d subscriptions", len(subs))
		}
		if !has(f.dealHistory(d.ID), "subscription_not_opened") {
			t.Fatalf("second win left no note: %v", f.dealHistory(d.ID))
		}

		// No account: nothing opened, the deal's history says why.
		orphan, err := c.CreateDeal(f.ctx, act, crm.Fields{"name": "Orphan", "pipeline": "digital", "amount": float64(50_000), "outcome": "won", "stage": "won"})
		if err != nil {
			t.Fatal(err)
		}
		hs, _ := st.Read().History(f.ctx, act.Workspace, "deal", orphan.ID)
		var why map[string]any
		for _, h := range hs {
			if h.Action == "subscription_not_opened" {
				_ = json.Unmarshal(h.Detail, &why)
			}
		}
		if why == nil || why["reason"] == "" {
			t.Fatalf("orphan deal history %+v", hs)
		}

		// Custom fields: 20 seats, monthly, 24 months. ACV 24,000.00 → 2,000.00 a
		// month → 100.00 per seat per month.
		for _, cf := range []crm.Fields{
			{"object_type": "deal", "key": "quantity", "type": "number"},
			{"object_type": "deal", "key": "billing_interval", "type": "enum", "options": []any{"month", "quarter", "year", "weekly"}},
			{"object_type": "deal", "key": "term_months", "type": "number"},
			{"object_type": "deal", "key": "plan", "type": "text"},
		} {
			if _, err := c.CreateCustomField(f.ctx, act, cf); err != nil {
				t.Fatal(err)
			}
		}
		seats := f.account("Seats", "smb")
		d2, err := c.CreateDeal(f.ctx, act, crm.Fields{"name": "Seats deal", "pipeline": "digital", "account_id": float64(seats), "amount": float64(2_400_000),
			"closed_at": "2026-05-10", "outcome": "won", "stage": "won", "custom": map[string]any{"quantity": float64(20), "billing_interval": "month", "term_months": float64(24), "plan": "Team"}})
		if err != nil {
			t.Fatal(err)
		}
		subs, _ = st.Read().AccountSubscriptions(f.ctx, act.Workspace, seats)
		if len(subs) != 1 || subs[0].Plan != "Team" || subs[0].Quantity != 20 || subs[0].UnitPrice != 10_000 || subs[0].Interval != "month" || subs[0].MRR != 200_000 || subs[0].TermMonths != 24 || subs[0].RenewalDate != "2028-05-10" {
			t.Fatalf("from custom fields (deal %d): %+v", d2.ID, subs)
		}
		// The same account wins an upsell: an expansion, not a second new.
		if _, err := c.CreateDeal(f.ctx, act, crm.Fields{"name": "Seats upsell", "pipeline": "digital", "account_id": float64(seats), "amount": float64(120_000),
			"closed_at": "2026-06-10", "outcome": "won", "stage": "won"}); err != nil {
			t.Fatal(err)
		}
		wantList(t, "upsell movements", f.movements(seats), []string{"2026-05-10 new 200000", "2026-06-10 expansion 10000"})

		// An unreadable custom value refuses the win, naming the field, and
		// writes nothing.
		bad := f.account("Bad", "smb")
		_, err = c.CreateDeal(f.ctx, act, crm.Fields{"name": "Bad deal", "pipeline": "digital", "account_id": float64(bad), "amount": float64(100),
			"outcome": "won", "stage": "won", "custom": map[string]any{"quantity": float64(2.5)}})
		if fieldOf(err) != "custom.quantity" {
			t.Fatalf("fractional quantity: %v", err)
		}
		_, err = c.CreateDeal(f.ctx, act, crm.Fields{"name": "Bad deal", "pipeline": "digital", "account_id": float64(bad), "amount": float64(100),
			"outcome": "won", "stage": "won", "custom": map[string]any{"billing_interval": "weekly"}})
		if fieldOf(err) != "custom.billing_interval" {
			t.Fatalf("weekly interval: %v", err)
		}
		if subs, _ := st.Read().AccountSubscriptions(f.ctx, act.Workspace, bad); len(subs) != 0 {
			t.Fatalf("a refused win opened %d subscriptions", len(subs))
		}
	})
}
