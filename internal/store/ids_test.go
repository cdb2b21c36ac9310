package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A deleted contact's, account's or deal's id is never handed out again:
// rows that point at it without a foreign key (the timeline, the send ledger,
// mail events, form submissions, desk items) must not come to describe a new
// record. SQLite gave max(id)+1 before migration 00032, so deleting the
// newest record and creating one reused its id.
func TestIDsNeverReused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := twoWorkspaces(t, st)
		kinds := []struct {
			name   string
			create func(q store.Q, i int) (int64, error)
			del    func(q store.Q, id int64) error
		}{
			{"contact", func(q store.Q, i int) (int64, error) {
				c := model.Contact{Email: fmt.Sprintf("reuse%d@x.io", i), LifecycleStage: "lead", Custom: model.Custom{}}
				err := q.CreateContact(ctx, ws, &c)
				return c.ID, err
			}, func(q store.Q, id int64) error { return q.DeleteContact(ctx, ws, id) }},
			{"account", func(q store.Q, i int) (int64, error) {
				a := model.Account{Name: fmt.Sprintf("Reuse %d", i), Currency: "USD", Custom: model.Custom{}}
				err := q.CreateAccount(ctx, ws, &a)
				return a.ID, err
			}, func(q store.Q, id int64) error { return q.DeleteAccount(ctx, ws, id) }},
			{"deal", func(q store.Q, i int) (int64, error) {
				d := model.Deal{Name: fmt.Sprintf("Reuse %d", i), Amount: 100, Currency: "USD", Pipeline: "digital", Stage: "trial", Custom: model.Custom{}}
				err := q.CreateDeal(ctx, ws, &d)
				return d.ID, err
			}, func(q store.Q, id int64) error { return q.DeleteDeal(ctx, ws, id) }},
		}
		for _, k := range kinds {
			err := st.InTx(ctx, func(q store.Q) error {
				seen := map[int64]bool{}
				for i := range 3 {
					// Create the newest record, delete it, create another:
					// each new id is one never seen before.
					id, err := k.create(q, 2*i)
					if err != nil {
						return err
					}
					if seen[id] {
						return fmt.Errorf("%s id %d handed out twice", k.name, id)
					}
					seen[id] = true
					if err := k.del(q, id); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
