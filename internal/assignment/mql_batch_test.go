package assignment_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The batch assigner answers every contact as AssignMQL does: without an LDR
// pool the same "unassigned" entry (an invalid request the same field
// error); once a pool exists, the same assignment.
func TestMQLBatchMatchesAssignMQL(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st, 2)
		s := &assignment.Service{St: st}
		var _ crm.MQLBatchAssigner = s
		type answer struct {
			owner  *int64
			action string
			detail map[string]any
		}
		both := func(c *model.Contact) (one, batch answer) {
			t.Helper()
			err := st.InTx(ctx, func(q store.Q) error {
				var err error
				one.owner, one.action, one.detail, err = s.AssignMQL(ctx, q, f.ws, c, monday)
				if err != nil {
					return err
				}
				b, err := s.ForBatch(ctx, q, f.ws)
				if err != nil {
					return err
				}
				batch.owner, batch.action, batch.detail, err = b.AssignMQL(ctx, q, f.ws, c, monday)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return one, batch
		}
		for _, c := range []*model.Contact{{ID: 41, LifecycleStage: "mql"}, {ID: 0, LifecycleStage: "mql"}} {
			one, batch := both(c)
			if one.action != "unassigned" || !reflect.DeepEqual(one, batch) {
				t.Fatalf("contact %d without a pool: AssignMQL %+v, batch %+v", c.ID, one, batch)
			}
		}
		f.pool(model.Pool{Name: "LDRs", Role: model.RoleLDR, Capacity: 10}, f.users...)
		one, batch := both(&model.Contact{ID: 42, LifecycleStage: "mql"})
		// Round robin: the two calls took the two reps in turn.
		if one.action != "assigned" || batch.action != "assigned" || one.owner == nil || batch.owner == nil || *one.owner == *batch.owner {
			t.Fatalf("with a pool: AssignMQL %+v, batch %+v", one, batch)
		}
	})
}
