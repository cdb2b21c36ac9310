package success_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/success"
)

// BenchmarkDailyRecompute: the daily job over 1,000 customers, each with 30
// days of usage, an NPS response, a support count and a sentiment. Each
// iteration is a new day, so every customer gets its history row.
//
//	go test ./internal/success/ -run '^$' -bench DailyRecompute -benchtime 1x
func BenchmarkDailyRecompute(b *testing.B) {
	const customers = 1000
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.New(b, kind)
			var ws int64
			day0 := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
			err := st.InTx(ctx, func(q store.Q) error {
				w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
				if err := q.CreateWorkspace(ctx, &w); err != nil {
					return err
				}
				ws = w.ID
				for i := range customers {
					a := model.Account{Name: fmt.Sprintf("Customer %d", i), Currency: "USD", Custom: model.Custom{}}
					if err := q.CreateAccount(ctx, ws, &a); err != nil {
						return err
					}
					es := make([]store.UsageEvent, 30)
					for d := range es {
						es[d] = store.UsageEvent{Kind: "session", Quantity: int64(10 + i%50), OccurredAt: day0.Add(-time.Duration(d) * 24 * time.Hour)}
					}
					if _, err := q.InsertUsageEvents(ctx, ws, a.ID, es); err != nil {
						return err
					}
					r := store.NPSResponse{Score: i % 11, RespondedAt: day0.Add(-48 * time.Hour)}
					if err := q.InsertNPS(ctx, ws, a.ID, &r); err != nil {
						return err
					}
					if err := q.SetSupportItems(ctx, ws, a.ID, int64(i%4), "bench", day0); err != nil {
						return err
					}
					if err := q.SetSentiment(ctx, ws, a.ID, success.Sentiments[i%3], "bench", "bench", day0); err != nil {
						return err
					}
					h := store.HealthRecord{Score: 50, Band: success.BandAtRisk, Cause: success.CauseWon, ComputedAt: day0}
					if _, err := q.PutHealth(ctx, ws, a.ID, &h, true); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			svc := &success.Service{St: st}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := svc.RecomputeAll(ctx, ws, success.CauseDaily, day0.Add(time.Duration(i+1)*24*time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				if res.Customers != customers || res.History != customers {
					b.Fatalf("recomputed %+v", res)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*customers), "µs/customer")
		})
	}
}
