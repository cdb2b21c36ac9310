package subscriptions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// today is the service's clock in these tests.
const today = "2026-06-15"

type fixture struct {
	t   *testing.T
	st  *store.Store
	svc *subscriptions.Service
	act model.Actor
	ctx context.Context
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: "Subs", Slug: fmt.Sprintf("subs-%d", time.Now().UnixNano()), Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	day, _ := time.Parse(time.DateOnly, today)
	svc := &subscriptions.Service{St: st, Now: func() time.Time { return day.Add(12 * time.Hour) }}
	return &fixture{t: t, st: st, svc: svc, act: model.Actor{Workspace: w.ID, Label: "test"}, ctx: ctx}
}

func (f *fixture) account(name, segment string) int64 {
	f.t.Helper()
	a := model.Account{Name: name, Currency: "USD", Segment: segment, Motion: "digital", Custom: model.Custom{}}
	if err := f.st.InTx(f.ctx, func(q store.Q) error { return q.CreateAccount(f.ctx, f.act.Workspace, &a) }); err != nil {
		f.t.Fatal(err)
	}
	return a.ID
}

func p[T any](v T) *T { return &v }

func (f *fixture) create(acct int64, qty, price int64, interval, start string) model.Subscription {
	f.t.Helper()
	s, err := f.svc.Create(f.ctx, f.act, subscriptions.Input{AccountID: &acct, Quantity: &qty, UnitPrice: &price, Interval: &interval, StartDate: &start, Plan: p("Pro")})
	if err != nil {
		f.t.Fatalf("create: %v", err)
	}
	return s
}

// movements renders an account's movements as "date kind amount".
func (f *fixture) movements(acct int64) []string {
	f.t.Helper()
	ms, err := f.st.Read().AccountMovements(f.ctx, f.act.Workspace, acct)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s %d", m.Date, m.Kind, m.Amount))
	}
	return out
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestMonthlyValue(t *testing.T) {
	cases := []struct {
		q, p     int64
		interval string
		want     int64
	}{
		{1, 120000, "year", 10000},   // annual 1,200.00 → 100.00 a month (PRODUCT.md §5)
		{1, 30000, "quarter", 10000}, // 300.00 a quarter → 100.00
		{3, 2500, "month", 7500},
		{1, 100000, "year", 8333}, // 83.333… → 83.33
		{1, 6, "year", 1},         // 0.5 rounds half up
		{1, 18, "year", 2},        // 1.5 → 2
		{1, 17, "year", 1},        // 1.4166… → 1
		{1, 0, "month", 0},
		{1, 100, "week", 0}, // not an interval
	}
	for _, c := range cases {
		if got := model.MonthlyValue(c.q, c.p, c.interval); got != c.want {
			t.Errorf("MonthlyValue(%d, %d, %s) = %d, want %d", c.q, c.p, c.interval, got, c.want)
		}
	}
}

// TestProductMRRCase is PRODUCT.md §6: 100 subscriptions × 100/month plus 50
// subscriptions × 600/year make an MRR of 12,500.
func TestProductMRRCase(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for i := 0; i < 100; i++ {
			f.create(f.account(fmt.Sprintf("Monthly %d", i), "smb"), 1, 100_00, "month", "2026-01-10")
		}
		for i := 0; i < 50; i++ {
			f.create(f.account(fmt.Sprintf("Annual %d", i), "mid_market"), 1, 600_00, "year", "2026-02-20")
		}
		r, err := f.svc.Bridge(f.ctx, f.act.Workspace, "2026-01-01", "2026-03-31", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Totals) != 1 {
			t.Fatalf("totals %+v", r.Totals)
		}
		b := r.Totals[0]
		if b.Start != 0 || b.End != 12_500_00 || b.New != 12_500_00 || b.NewCustomers != 150 || !b.Holds {
			t.Fatalf("bridge %+v, want 0 → 12,500.00 from 150 new customers", b)
		}
		// January: the 100 monthly ones (10,000); February: the 50 annual (2,500).
		if len(r.Months) != 3 || r.Months[0].End != 10_000_00 || r.Months[1].New != 2_500_00 || r.Months[1].End != 12_500_00 || r.Months[2].End != 12_500_00 {
			t.Fatalf("months %+v", r.Months)
		}
		seg, err := f.svc.Bridge(f.ctx, f.act.Workspace, "2026-01-01", "2026-03-31", "segment")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, g := range seg.Groups {
			got[g.Group] = g.End
		}
		if got["smb"] != 10_000_00 || got["mid_market"] != 2_500_00 || len(got) != 2 {
			t.Fatalf("by segment %v", got)
		}
		cs, _, err := f.svc.Customers(f.ctx, f.act.Workspace, store.CustomerFilter{Status: "active", Sort: "-mrr", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, c := range cs {
			sum += c.MRR
		}
		if len(cs) != 150 || sum != 12_500_00 || cs[0].MRR != 100_00 || cs[149].MRR != 50_00 {
			t.Fatalf("%d customers, MRR %d, first %d last %d", len(cs), sum, cs[0].MRR, cs[len(cs)-1].MRR)
		}
	})
}

// TestChurnOnlyWhenNoOtherActive: ending one of two subscriptions is a
// contraction; ending the last is churn; coming back is a reactivation.
func TestChurnOnlyWhenNoOtherActive(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.account("Two subs", "smb")
		s1 := f.create(a, 2, 50_00, "month", "2025-01-01")    // 100.00
		s2 := f.create(a, 1, 1200_00, "year", "2025-03-01")   // 100.00
		f.cancel(s1.ID, "2025-06-01")                         // one left: contraction 100
		f.cancel(s2.ID, "2025-09-01")                         // none left: churn 100
		s3 := f.create(a, 1, 300_00, "quarter", "2026-01-01") // 100.00, a former customer: reactivation
		if _, err := f.svc.Change(f.ctx, f.act, s3.ID, subscriptions.ChangeInput{Quantity: p(int64(3)), EffectiveDate: p("2026-02-01")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Change(f.ctx, f.act, s3.ID, subscriptions.ChangeInput{UnitPrice: p(int64(150_00)), EffectiveDate: p("2026-03-01")}); err != nil {
			t.Fatal(err)
		}
		wantList(t, "movements", f.movements(a), []string{
			"2025-01-01 new 10000",
			"2025-03-01 expansion 10000",
			"2025-06-01 contraction 10000",
			"2025-09-01 churn 10000",
			"2026-01-01 reactivation 10000",
			"2026-02-01 expansion 20000", // 3 × 300 / 3 = 300
			"2026-03-01 contraction 15000",
		})
		r, err := f.svc.Bridge(f.ctx, f.act.Workspace, "2025-02-01", "2026-02-28", "")
		if err != nil {
			t.Fatal(err)
		}
		b := r.Totals[0]
		// start 100 (s1); +100 expansion, −100 contraction, −100 churn, +100 reactivation, +200 expansion → 300
		if b.Start != 10000 || b.Expansion != 30000 || b.Contraction != 10000 || b.Churn != 10000 || b.Reactivation != 10000 || b.New != 0 || b.End != 30000 || !b.Holds {
			t.Fatalf("bridge %+v", b)
		}
		if b.ChurnedCustomers != 1 || b.ReactivatedCustomers != 1 {
			t.Fatalf("customer counts %+v", b)
		}
	})
}

func (f *fixture) cancel(id int64, end string) {
	f.t.Helper()
	if _, err := f.svc.Cancel(f.ctx, f.act, id, subscriptions.CancelInput{EndDate: &end}); err != nil {
		f.t.Fatalf("cancel %d: %v", id, err)
	}
}

// TestSameDayChangesNet: a plan swap (one subscription ends, another starts
// the same day) is one expansion, not a churn and a reactivation.
func TestSameDayChangesNet(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.account("Swapper", "smb")
		s1 := f.create(a, 1, 100_00, "month", "2025-01-01")
		f.cancel(s1.ID, "2025-05-01")
		f.create(a, 1, 250_00, "month", "2025-05-01")
		wantList(t, "movements", f.movements(a), []string{"2025-01-01 new 10000", "2025-05-01 expansion 15000"})
		ms, _ := st.Read().AccountMovements(f.ctx, f.act.Workspace, a)
		if ms[1].SubscriptionID != nil {
			t.Fatalf("a day where two subscriptions changed names one: %v", *ms[1].SubscriptionID)
		}
		if ms[0].SubscriptionID == nil || *ms[0].SubscriptionID != s1.ID || ms[0].Month != "2025-01" || ms[0].Segment != "smb" {
			t.Fatalf("first movement %+v", ms[0])
		}
	})
}

// TestHistoryInAnyOrder: subscriptions recorded out of date order (an import
// of history) still yield new first, expansion after, churn at the end.
func TestHistoryInAnyOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.account("Backfilled", "enterprise")
		later := f.create(a, 1, 500_00, "month", "2025-09-01")
		if _, err := f.svc.Cancel(f.ctx, f.act, later.ID, subscriptions.CancelInput{EndDate: p("2026-03-01")}); err != nil {
			t.Fatal(err)
		}
		first := f.create(a, 1, 1200_00, "year", "2025-02-01")
		f.cancel(first.ID, "2026-03-01")
		wantList(t, "movements", f.movements(a), []string{
			"2025-02-01 new 10000",
			"2025-09-01 expansion 50000",
			"2026-03-01 churn 60000",
		})
	})
}

// TestCancelReactivate: a scheduled end can be withdrawn (nothing moves), an
// end that has come is undone by a reactivation.
func TestCancelReactivate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.account("Undecided", "smb")
		s := f.create(a, 1, 100_00, "month", "2026-01-01")
		f.cancel(s.ID, "2026-09-01") // scheduled
		got, err := f.svc.Reactivate(f.ctx, f.act, s.ID, subscriptions.ReactivateInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got.EndDate != "" || got.Status != "active" {
			t.Fatalf("after withdrawing: %+v", got)
		}
		wantList(t, "after withdrawal", f.movements(a), []string{"2026-01-01 new 10000"})
		f.cancel(s.ID, "2026-04-01")
		if _, err := f.svc.Cancel(f.ctx, f.act, s.ID, subscriptions.CancelInput{}); err == nil || !strings.Contains(err.Error(), "already ended on 2026-04-01") {
			t.Fatalf("second cancel: %v", err)
		}
		if _, err := f.svc.Reactivate(f.ctx, f.act, s.ID, subscriptions.ReactivateInput{Date: p("2026-03-01")}); err == nil || fieldOf(err) != "date" {
			t.Fatalf("reactivation before the end: %v", err)
		}
		got, err = f.svc.Reactivate(f.ctx, f.act, s.ID, subscriptions.ReactivateInput{Date: p("2026-05-10")})
		if err != nil {
			t.Fatal(err)
		}
		wantList(t, "after reactivation", f.movements(a), []string{"2026-01-01 new 10000", "2026-04-01 churn 10000", "2026-05-10 reactivation 10000"})
		if got.RenewalDate != "2026-07-01" { // monthly term from 2026-01-01, the first renewal after today
			t.Fatalf("renewal date %s", got.RenewalDate)
		}
	})
}

func fieldOf(err error) string {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// TestValidation: bad input names its field; nothing is written.
func TestValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.account("Strict", "smb")
		other := f.account("Other", "smb")
		ok := func(in subscriptions.Input) subscriptions.Input {
			in.AccountID = &a
			if in.UnitPrice == nil {
				in.UnitPrice = p(int64(100))
			}
			if in.Interval == nil {
				in.Interval = p("month")
			}
			return in
		}
		cases := []struct {
			in    subscriptions.Input
			field string
		}{
			{subscriptions.Input{UnitPrice: p(int64(1)), Interval: p("month")}, "account_id"},
			{subscriptions.Input{AccountID: p(int64(999999)), UnitPrice: p(int64(1)), Interval: p("month")}, "account_id"},
			{subscriptions.Input{AccountID: &a, Interval: p("month")}, "unit_price"},
			{ok(subscriptions.Input{Interval: p("weekly")}), "interval"},
			{ok(subscriptions.Input{Quantity: p(int64(0))}), "quantity"},
			{ok(subscriptions.Input{UnitPrice: p(int64(-1))}), "unit_price"},
			{ok(subscriptions.Input{StartDate: p("2026-02-30")}), "start_date"},
			{ok(subscriptions.Input{StartDate: p("2026-02-01"), EndDate: p("2026-02-01")}), "end_date"},
			{ok(subscriptions.Input{StartDate: p("2026-02-01"), RenewalDate: p("2026-01-01")}), "renewal_date"},
			{ok(subscriptions.Input{TermMonths: p(int64(0))}), "term_months"},
			{ok(subscriptions.Input{Currency: p("EURO")}), "currency"},
			{ok(subscriptions.Input{DealID: p(int64(999999))}), "deal_id"},
		}
		for i, c := range cases {
			if _, err := f.svc.Create(f.ctx, f.act, c.in); fieldOf(err) != c.field {
				t.Errorf("case %d: error %v, want one naming %s", i, err, c.field)
			}
		}
		if subs, _ := st.Read().AccountSubscriptions(f.ctx, f.act.Workspace, a); len(subs) != 0 {
			t.Fatalf("refused input wrote %d subscriptions", len(subs))
		}
		s := f.create(a, 1, 100, "month", "2026-01-01")
		if _, err := f.svc.Create(f.ctx, f.act, ok(subscriptions.Input{Currency: p("EUR")})); fieldOf(err) != "currency" {
			t.Fatalf("second currency for one customer: %v", err)
		}
		if _, err := f.svc.Change(f.ctx, f.act, s.ID, subscriptions.ChangeInput{Quantity: p(int64(2)), EffectiveDate: p("2025-12-01")}); fieldOf(err) != "effective_date" {
			t.Fatalf("change before start: %v", err)
		}
		if _, err := f.svc.Change(f.ctx, f.act, s.ID, subscriptions.ChangeInput{Quantity: p(int64(2)), EffectiveDate: p("2026-03-01")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Change(f.ctx, f.act, s.ID, subscriptions.ChangeInput{Quantity: p(int64(3)), EffectiveDate: p("2026-02-01")}); fieldOf(err) != "effective_date" {
			t.Fatalf("change before the last change: %v", err)
		}
		// Another workspace's subscription is a missing one.
		w2 := model.Workspace{Name: "B", Slug: fmt.Sprintf("b-%d", time.Now().UnixNano()), Currency: "USD"}
		if err := st.InTx(f.ctx, func(q store.Q) error { return q.CreateWorkspace(f.ctx, &w2) }); err != nil {
			t.Fatal(err)
		}
		actB := model.Actor{Workspace: w2.ID, Label: "b"}
		if _, err := f.svc.Change(f.ctx, actB, s.ID, subscriptions.ChangeInput{Quantity: p(int64(9))}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign change: %v", err)
		}
		if _, err := f.svc.Create(f.ctx, actB, subscriptions.Input{AccountID: &other, UnitPrice: p(int64(1)), Interval: p("month")}); fieldOf(err) != "account_id" {
			t.Fatalf("foreign account: %v", err)
		}
		if _, err := f.svc.Customer(f.ctx, w2.ID, a); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign customer: %v", err)
		}
	})
}

// TestProductChurnCases are the PRODUCT.md §6 checks that read the bridge:
// start MRR 100 with churn 10, contraction 10 and expansion 10 gives a gross
// MRR churn of (10 + 10) ÷ 100 = 20 % and a net one of (10 + 10 − 10) ÷ 100 =
// 10 %; new + expansion of 24k against contraction + churn of 4k is a quick
// ratio of 6. The bridge must deliver exactly those components from real
// subscription changes.
func TestProductChurnCases(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.create(f.account("A", "smb"), 6, 10_00, "month", "2025-01-05") // 60.00
		b := f.create(f.account("B", "smb"), 3, 10_00, "month", "2025-01-05") // 30.00
		c := f.create(f.account("C", "smb"), 1, 10_00, "month", "2025-01-05") // 10.00
		f.cancel(c.ID, "2025-03-10")                                          // churn 10
		if _, err := f.svc.Change(f.ctx, f.act, a.ID, subscriptions.ChangeInput{Quantity: p(int64(5)), EffectiveDate: p("2025-03-12")}); err != nil {
			t.Fatal(err) // contraction 10
		}
		if _, err := f.svc.Change(f.ctx, f.act, b.ID, subscriptions.ChangeInput{Quantity: p(int64(4)), EffectiveDate: p("2025-03-20")}); err != nil {
			t.Fatal(err) // expansion 10
		}
		r, err := f.svc.Bridge(f.ctx, f.act.Workspace, "2025-03-01", "2025-03-31", "")
		if err != nil {
			t.Fatal(err)
		}
		m := r.Totals[0]
		if m.Start != 100_00 || m.Churn != 10_00 || m.Contraction != 10_00 || m.Expansion != 10_00 || m.New != 0 || m.Reactivation != 0 || m.End != 90_00 || !m.Holds {
			t.Fatalf("bridge %+v", m)
		}
		if gross, net := float64(m.Churn+m.Contraction)/float64(m.Start), float64(m.Churn+m.Contraction-m.Expansion-m.Reactivation)/float64(m.Start); gross != 0.2 || net != 0.1 {
			t.Fatalf("gross %v net %v", gross, net)
		}

		// April: 20k new (two customers), 4k expansion, 1k contraction, 3k churn.
		for i, mrr := range []int64{12_000_00, 8_000_00} {
			f.create(f.account(fmt.Sprintf("New %d", i), "enterprise"), 1, mrr, "month", "2025-04-02")
		}
		if _, err := f.svc.Change(f.ctx, f.act, b.ID, subscriptions.ChangeInput{UnitPrice: p(int64(1_010_00)), EffectiveDate: p("2025-04-03")}); err != nil {
			t.Fatal(err) // 4 × 1,010.00 = 4,040.00: expansion 4,000.00
		}
		big := f.create(f.account("Big", "enterprise"), 1, 4_000_00, "month", "2025-01-05")
		if _, err := f.svc.Change(f.ctx, f.act, big.ID, subscriptions.ChangeInput{UnitPrice: p(int64(3_000_00)), EffectiveDate: p("2025-04-04")}); err != nil {
			t.Fatal(err) // contraction 1,000.00
		}
		f.cancel(big.ID, "2025-04-20") // churn 3,000.00
		r, err = f.svc.Bridge(f.ctx, f.act.Workspace, "2025-04-01", "2025-04-30", "")
		if err != nil {
			t.Fatal(err)
		}
		m = r.Totals[0]
		if m.New+m.Expansion != 24_000_00 || m.Contraction+m.Churn != 4_000_00 || !m.Holds {
			t.Fatalf("April bridge %+v", m)
		}
		if qr := float64(m.New+m.Expansion) / float64(m.Contraction+m.Churn); qr != 6 {
			t.Fatalf("quick ratio %v", qr)
		}
	})
}

// TestCustomersPages walks the customer list one row a page, by name and by
// MRR: the cursor carries on where the page ended (it used to lose its
// arguments, a 500 on the second page) and every customer comes once.
func TestCustomersPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for i, name := range []string{"Cedar", "Alder", "Birch", "Alder"} {
			f.create(f.account(name, "smb"), int64(i+1), 100_00, "month", "2026-01-01")
		}
		for _, c := range []struct{ sort, want string }{
			{"", "Alder 20000, Alder 40000, Birch 30000, Cedar 10000"},
			{"-mrr", "Alder 40000, Birch 30000, Alder 20000, Cedar 10000"},
		} {
			var got []string
			cursor := ""
			for range 10 {
				rows, next, err := f.svc.Customers(f.ctx, f.act.Workspace, store.CustomerFilter{Sort: c.sort, Cursor: cursor, Limit: 1})
				if err != nil {
					t.Fatalf("sort %q cursor %q: %v", c.sort, cursor, err)
				}
				for _, r := range rows {
					got = append(got, fmt.Sprintf("%s %d", r.Name, r.MRR))
				}
				if cursor = next; cursor == "" {
					break
				}
			}
			if g := strings.Join(got, ", "); g != c.want {
				t.Errorf("sort %q pages: %s, want %s", c.sort, g, c.want)
			}
		}
	})
}
