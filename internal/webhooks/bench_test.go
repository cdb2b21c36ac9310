package webhooks

import (
	"context"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// BenchmarkEmit measures what emitting costs the transaction of the change:
// with no endpoint (the endpoint list is read once per transaction, then
// cached) and with one endpoint taking the event (event row, delivery row,
// and one drain job per transaction). Events are emitted 100 per
// transaction, as an API batch or a form submission with its follow-ups
// would; ns/op is per event.
func BenchmarkEmit(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		for _, endpoints := range []int{0, 1} {
			b.Run(string(kind)+map[int]string{0: "/no_endpoint", 1: "/one_endpoint"}[endpoints], func(b *testing.B) {
				st := storetest.New(b, kind)
				ctx := context.Background()
				svc := &Service{St: st, HTTP: testClient(), Key: []byte("k")}
				ws := benchWorkspace(b, st)
				for range endpoints {
					u := "https://hooks.example.com/bench"
					if _, err := svc.Create(ctx, actorFor(ws), Input{URL: &u}); err != nil {
						b.Fatal(err)
					}
				}
				data := map[string]any{"contact": map[string]any{"id": 1, "email": "ann@acme.example", "first_name": "Ann", "lifecycle_stage": "lead"}}
				b.ResetTimer()
				for done := 0; done < b.N; {
					n := min(100, b.N-done)
					err := st.InTx(ctx, func(q store.Q) error {
						for range n {
							if err := Emit(ctx, q, ws, ContactCreated, data); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					done += n
				}
			})
		}
	}
}

func benchWorkspace(b *testing.B, st *store.Store) int64 {
	ctx := context.Background()
	w := model.Workspace{Name: "Bench", Slug: "bench", Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		b.Fatal(err)
	}
	return w.ID
}

func actorFor(ws int64) model.Actor {
	return model.Actor{Workspace: ws, Label: "bench", Role: model.RoleAdmin}
}
