package subscriptions_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// benchMovements is the size of the movements table the read benchmarks run
// against (RIGHTSIZE_BENCH_ROWS overrides): ten per customer over two years.
var benchMovements = func() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("RIGHTSIZE_BENCH_ROWS"), &n); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// seedMovements writes n/10 customers with ten movements each (a new, then
// expansions and contractions, some churn and reactivation) straight into the
// store, in one transaction.
func seedMovements(b *testing.B, st *store.Store, n int) int64 {
	b.Helper()
	ctx := context.Background()
	var ws int64
	segs := []string{"smb", "mid_market", "enterprise"}
	err := st.InTx(ctx, func(q store.Q) error {
		w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
		if err := q.CreateWorkspace(ctx, &w); err != nil {
			return err
		}
		ws = w.ID
		start, _ := time.Parse(time.DateOnly, "2024-01-01")
		for c := 0; c < n/10; c++ {
			a := model.Account{Name: fmt.Sprintf("Customer %d", c), Currency: "USD", Segment: segs[c%3], Motion: "digital", Custom: model.Custom{}}
			if err := q.CreateAccount(ctx, ws, &a); err != nil {
				return err
			}
			kinds := []string{"new", "expansion", "contraction", "expansion", "churn", "reactivation", "expansion", "contraction", "expansion", "contraction"}
			for i, k := range kinds {
				day := start.AddDate(0, i*2, c%28).Format(time.DateOnly)
				m := model.MRRMovement{AccountID: a.ID, Date: day, Month: day[:7], Kind: k, Amount: int64(1000 + (c*7+i)%500), Currency: "USD", Segment: a.Segment, Motion: a.Motion}
				if err := q.InsertMovement(ctx, ws, &m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return ws
}

// BenchmarkBridge: the MRR bridge of twelve months (with the months) over a
// workspace with benchMovements movements.
func BenchmarkBridge(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ws := seedMovements(b, st, benchMovements)
			svc := &subscriptions.Service{St: st}
			for _, by := range []string{"", "segment"} {
				b.Run("by="+by, func(b *testing.B) {
					for b.Loop() {
						r, err := svc.Bridge(context.Background(), ws, "2024-07-01", "2025-06-30", by)
						if err != nil || len(r.Totals) != 1 || !r.Totals[0].Holds {
							b.Fatalf("%+v %v", r.Totals, err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkChange: one subscription change through the service (the row, the
// change record, the customer's movements derived again and reconciled) for a
// customer with a long history.
func BenchmarkChange(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ctx := context.Background()
			w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
			a := model.Account{Name: "Long history", Currency: "USD", Custom: model.Custom{}}
			err := st.InTx(ctx, func(q store.Q) error {
				if err := q.CreateWorkspace(ctx, &w); err != nil {
					return err
				}
				return q.CreateAccount(ctx, w.ID, &a)
			})
			if err != nil {
				b.Fatal(err)
			}
			svc := &subscriptions.Service{St: st}
			act := model.Actor{Workspace: w.ID, Label: "bench"}
			qty, price, iv, start := int64(10), int64(100_00), "month", "2020-01-01"
			sub, err := svc.Create(ctx, act, subscriptions.Input{AccountID: &a.ID, Quantity: &qty, UnitPrice: &price, Interval: &iv, StartDate: &start})
			if err != nil {
				b.Fatal(err)
			}
			day, _ := time.Parse(time.DateOnly, start)
			for i := 0; i < 20; i++ { // a history of twenty changes
				day = day.AddDate(0, 1, 0)
				q, eff := int64(10+i%5), day.Format(time.DateOnly)
				if _, err := svc.Change(ctx, act, sub.ID, subscriptions.ChangeInput{Quantity: &q, EffectiveDate: &eff}); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				i++
				day = day.AddDate(0, 0, 1)
				q, eff := int64(10+i%2), day.Format(time.DateOnly)
				if _, err := svc.Change(ctx, act, sub.ID, subscriptions.ChangeInput{Quantity: &q, EffectiveDate: &eff}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
