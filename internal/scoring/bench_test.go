package scoring_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// BenchmarkIngest applies 100,000 events to the scores of 10,000 contacts through
// Ingest in batches of 1,000 (one transaction each), as POST /api/v1/events would:
// half name the contact by id, half by email; timestamps are spread over 30 days
// and arrive out of order; contacts that reach 50 are promoted to mql. Run with
//
//	go test ./internal/scoring -run '^$' -bench Ingest -benchtime 1x
func BenchmarkIngest(b *testing.B) {
	n := envInt("RIGHTSIZE_BENCH_EVENTS", 100_000)
	const contacts, batch = 10_000, scoring.MaxBatch
	kinds := []string{"page_view", "page_view", "page_view", "page_view", "email_open", "email_open", "email_click", "content_download", "pricing_page_view", "form_submit", "trial_activity"}
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.New(b, kind)
			ctx := context.Background()
			promoted := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := model.Workspace{Name: "bench", Slug: fmt.Sprintf("bench-%d", i)}
				ids := make([]int64, contacts)
				err := st.InTx(ctx, func(q store.Q) error {
					if err := q.CreateWorkspace(ctx, &w); err != nil {
						return err
					}
					for j := range ids {
						c := model.Contact{Email: fmt.Sprintf("p%d@co%d.example", j, j%500), Title: []string{"VP Sales", "Engineer", "Analyst"}[j%3], LifecycleStage: "lead"}
						if err := q.CreateContact(ctx, w.ID, &c); err != nil {
							return err
						}
						ids[j] = c.ID
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				svc := &scoring.Service{St: st, Now: func() time.Time { return t0 }}
				cfg := scoring.DefaultConfig()
				cfg.FitRules = []scoring.FitRule{{Field: "title", Op: "contains", Value: "VP", Points: 15}}
				if _, err := svc.SaveConfig(ctx, model.Actor{Workspace: w.ID, Label: "bench"}, cfg); err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, uint64(i)))
				evs := make([]scoring.Event, n)
				for j := range evs {
					c := rng.IntN(contacts)
					e := scoring.Event{Kind: kinds[rng.IntN(len(kinds))], OccurredAt: t0.Add(-time.Duration(rng.Int64N(int64(30 * day)))), URL: "https://example.com/page"}
					if j%2 == 0 {
						e.ContactID = ids[c]
					} else {
						e.Email = fmt.Sprintf("p%d@co%d.example", c, c%500)
					}
					evs[j] = e
				}
				b.StartTimer()
				for start := 0; start < n; start += batch {
					res, err := svc.Ingest(ctx, w.ID, evs[start:min(start+batch, n)])
					if err != nil {
						b.Fatal(err)
					}
					if res.Rejected != 0 {
						b.Fatalf("rejected: %+v", res.Errors[0])
					}
					promoted += len(res.Promoted)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(promoted)/float64(b.N), "promoted/op")
		})
	}
}

func envInt(k string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(k), &n); err == nil && n > 0 {
		return n
	}
	return def
}
