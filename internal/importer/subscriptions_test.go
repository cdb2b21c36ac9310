package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// TestImportSubscriptions: a billing export with history imports into
// subscriptions whose movements fall on the file's dates (started in 2025,
// ended in 2026: new, then churn), a duplicate row merges (new terms from
// today), and bad rows are rejected at line:column; rows = accepted +
// rejected + merged.
func TestImportSubscriptions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		day := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
		f.svc.Subs = &subscriptions.Service{St: st, Now: func() time.Time { return day }}
		accts := map[string]int64{}
		for _, ext := range []string{"acc-1", "acc-2", "acc-3"} {
			a := model.Account{Name: "Account " + ext, ExternalID: ext, Currency: "EUR", Custom: model.Custom{}}
			if err := st.InTx(ctx, func(q store.Q) error { return q.CreateAccount(ctx, f.ws, &a) }); err != nil {
				t.Fatal(err)
			}
			accts[ext] = a.ID
		}
		csv := "Subscription ID,Customer ID,Plan,Seats,Price,Billing Period,Start Date,Cancelled At,Status,Auto Renew\n" +
			"sub-1,acc-1,Pro,10,\"1,200.00\",annual,2025-03-01,2026-02-01,cancelled,yes\n" +
			"sub-2,acc-2,Team,1,99.00,monthly,2025-06-15,,active,no\n" +
			"sub-3,acc-1,Pro,1,50.00,monthly,2025-09-01,,active,yes\n" +
			"sub-4,acc-9,Pro,1,10.00,monthly,2025-01-01,,,\n" +
			"sub-5,acc-2,Pro,1,10.00,weekly,2025-01-01,,,\n" +
			"sub-6,acc-2,Pro,1,10.00,monthly,2025-01-01,,cancelled,\n" +
			"sub-2,acc-2,Team,3,99.00,monthly,2025-06-15,,active,no\n" +
			"sub-7,acc-3,Lite,1,30.00,monthly,2025-04-01,2026-01-15,churned,\n"
		im := f.run(t, "subscriptions", csv, importer.Options{})
		if im.Status != "done" || im.ObjectType != "subscription" || im.Rows != 8 || im.Accepted != 4 || im.Rejected != 3 || im.Merged != 1 {
			t.Fatalf("import %+v", im)
		}
		var errs []string
		for _, e := range f.errs(t, im) {
			errs = append(errs, fmt.Sprintf("%d:%d %s: %s", e.Line, e.Col, e.Field, e.Reason))
		}
		if len(errs) != 3 || !strings.HasPrefix(errs[0], `5:7 Customer ID: no account with external id "acc-9"`) ||
			!strings.HasPrefix(errs[1], "6:25 Billing Period:") || !strings.Contains(errs[1], "weekly") ||
			!strings.HasPrefix(errs[2], "7:") || !strings.Contains(errs[2], "Status: a cancelled subscription needs an end_date") {
			t.Fatalf("rejections:\n%s", strings.Join(errs, "\n"))
		}
		mv := func(ext string) []string {
			ms, err := st.Read().AccountMovements(ctx, f.ws, accts[ext])
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, fmt.Sprintf("%s %s %d %s", m.Date, m.Kind, m.Amount, m.Currency))
			}
			return out
		}
		want := map[string][]string{
			"acc-1": {"2025-03-01 new 100000 EUR", "2025-09-01 expansion 5000 EUR", "2026-02-01 contraction 100000 EUR"},
			"acc-2": {"2025-06-15 new 9900 EUR", "2026-06-15 expansion 19800 EUR"},
			"acc-3": {"2025-04-01 new 3000 EUR", "2026-01-15 churn 3000 EUR"},
		}
		for ext, w := range want {
			if got := mv(ext); strings.Join(got, "|") != strings.Join(w, "|") {
				t.Errorf("%s movements %q, want %q", ext, got, w)
			}
		}
		s2, err := st.Read().SubscriptionByExternalID(ctx, f.ws, "sub-2")
		if err != nil || s2.Quantity != 3 || s2.AutoRenew || s2.Interval != "month" || s2.UnitPrice != 9900 {
			t.Fatalf("merged sub-2 %+v %v", s2, err)
		}
		// Importing the same file again changes nothing: every good row merges.
		again := f.run(t, "subscriptions", csv, importer.Options{})
		if again.Accepted != 0 || again.Merged != 5 || again.Rejected != 3 {
			t.Fatalf("re-import %+v", again)
		}
		if got := mv("acc-2"); len(got) != 2 {
			t.Fatalf("re-import moved MRR again: %q", got)
		}
	})
}
