package importer_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// An import that makes contacts MQLs hands them to LDRs with SLA clocks, as an
// API or UI change would, and records merged stage changes for the funnel.
func TestImportedMQLsAreAssigned(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st)
		f.svc.CRM = &crm.Service{St: st, MQL: &assignment.Service{St: st}}
		var ldr, ae int64
		err := st.InTx(ctx, func(q store.Q) error {
			for _, u := range []struct {
				id   *int64
				role string
			}{{&ldr, model.RoleLDR}, {&ae, model.RoleAE}} {
				usr := model.User{Email: u.role + "@example.com"}
				if err := q.CreateUser(ctx, &usr); err != nil {
					return err
				}
				if err := q.SetMembership(ctx, f.ws, usr.ID, u.role); err != nil {
					return err
				}
				*u.id = usr.ID
			}
			p := model.Pool{Name: "LDRs", Role: model.RoleLDR, Capacity: 2}
			if err := q.CreatePool(ctx, f.ws, &p); err != nil {
				return err
			}
			return q.SetPoolMember(ctx, f.ws, model.PoolMember{PoolID: p.ID, UserID: ldr, Active: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		// New MQL without owner → assigned; new MQL with an owner → kept; a lead → untouched.
		im := f.run(t, "contacts", "email,lifecycle_stage,owner\nm1@x.io,mql,\nm2@x.io,mql,ae@example.com\nl1@x.io,lead,\nl2@x.io,lead,\n", importer.Options{})
		if im.Accepted != 4 {
			t.Fatalf("first import: %+v", im)
		}
		get := func(email string) model.Contact {
			c, err := st.Read().ContactByEmail(ctx, f.ws, email)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := get("m1@x.io"); c.OwnerID == nil || *c.OwnerID != ldr {
			t.Fatalf("m1 owner %v, want the LDR %d", c.OwnerID, ldr)
		}
		if c := get("m2@x.io"); c.OwnerID == nil || *c.OwnerID != ae {
			t.Fatalf("m2 owner %v, want the owner from the file %d", c.OwnerID, ae)
		}
		if c := get("l1@x.io"); c.OwnerID != nil {
			t.Fatalf("lead l1 got owner %v", *c.OwnerID)
		}
		m1 := get("m1@x.io")
		as, err := st.Read().Assignments(ctx, f.ws, "contact", m1.ID)
		if err != nil || len(as) != 1 || as[0].UserID != ldr || as[0].SLADueAt.IsZero() {
			t.Fatalf("m1 assignments %+v %v", as, err)
		}
		var sum importer.Summary
		if err := json.Unmarshal(mustImport(t, st, f.ws, im.ID).Summary, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.MQLs["assigned"] != 1 || sum.MQLs["unassigned"] != 0 {
			t.Fatalf("summary MQLs %v, want 1 assigned", sum.MQLs)
		}

		// A merge moving both leads to mql: l1 fills the pool's capacity (2), l2
		// finds nobody and stays unowned with the reason; both stage changes are history.
		im = f.run(t, "contacts", "email,lifecycle_stage\nl1@x.io,mql\nl2@x.io,mql\n", importer.Options{})
		if im.Merged != 2 {
			t.Fatalf("second import: %+v", im)
		}
		if c := get("l1@x.io"); c.OwnerID == nil || *c.OwnerID != ldr {
			t.Fatalf("l1 owner %v, want the LDR", c.OwnerID)
		}
		l2 := get("l2@x.io")
		if l2.OwnerID != nil {
			t.Fatalf("l2 owner %v, want none (LDR at capacity)", *l2.OwnerID)
		}
		hs, err := st.Read().History(ctx, f.ws, "contact", l2.ID)
		if err != nil {
			t.Fatal(err)
		}
		var stage, unassigned bool
		for _, h := range hs {
			var d map[string]any
			_ = json.Unmarshal(h.Detail, &d)
			if h.Action == "updated" && d["lifecycle_stage"] != nil {
				stage = true
			}
			if h.Action == "unassigned" {
				unassigned = true
			}
		}
		if !stage || !unassigned {
			t.Fatalf("l2 history %+v: want the stage change and the unassigned reason", hs)
		}
		if err := json.Unmarshal(mustImport(t, st, f.ws, im.ID).Summary, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.MQLs["assigned"] != 1 || sum.MQLs["unassigned"] != 1 {
			t.Fatalf("summary MQLs %v, want 1 assigned, 1 unassigned", sum.MQLs)
		}
	})
}

func mustImport(t *testing.T, st *store.Store, ws, id int64) model.Import {
	t.Helper()
	im, err := st.Read().GetImport(context.Background(), ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return im
}
