package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The desk shows the signed-in rep's SLA breaches and their pools'; a contact
// moved to mql through crm lands in an LDR's queue (app.Open wires assignment).
func TestDeskSLALine(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		st := e.App.St
		ldr := e.A.Users[model.RoleLDR]
		now := time.Now().UTC()
		err := st.InTx(ctx, func(q store.Q) error {
			p := model.Pool{Name: "LDRs", Role: model.RoleLDR, Capacity: 50}
			if err := q.CreatePool(ctx, e.A.ID, &p); err != nil {
				return err
			}
			if err := q.SetPoolMember(ctx, e.A.ID, model.PoolMember{PoolID: p.ID, UserID: ldr.ID, Active: true}); err != nil {
				return err
			}
			// Two overdue clocks and one touched late, just now.
			for i, touch := range []bool{false, false, true} {
				a := model.Assignment{PoolID: p.ID, UserID: ldr.ID, ObjectType: "contact", ObjectID: int64(9000 + i), Motion: "digital", Reason: "test",
					AssignedAt: now.Add(-2 * time.Hour), SLADueAt: now.Add(-time.Hour)}
				if err := q.InsertAssignment(ctx, e.A.ID, &a); err != nil {
					return err
				}
				if touch {
					if _, err := q.TouchAssignments(ctx, e.A.ID, "contact", a.ObjectID, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		act := actor(t, e, e.A)
		c, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "sla@desk.example", "first_name": "Sally", "lifecycle_stage": "lead"})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = e.App.CRM.UpdateContact(ctx, act, c.ID, crm.Fields{"lifecycle_stage": "mql"}); err != nil {
			t.Fatal(err)
		}
		if c.OwnerID == nil || *c.OwnerID != ldr.ID {
			t.Fatalf("mql owner %v, want the LDR %d", c.OwnerID, ldr.ID)
		}
		lc := e.Browser(t, ldr.Email)
		r := get(t, e, lc, "/desk")
		ok(t, r, http.StatusOK, `id="desk-sla"`, "SLA: 2 overdue, 1 breached this month", "your pools: 2 overdue, 1 breached this month", "Sally")
		mine := r.Body[strings.Index(r.Body, "My queue"):strings.Index(r.Body, "Unassigned")]
		if !strings.Contains(mine, "Sally") {
			t.Error("the assigned MQL is not in the LDR's own queue")
		}
		// A rep in no pool sees only their own counts.
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		r = get(t, e, ae, "/desk")
		ok(t, r, http.StatusOK, "SLA: 0 overdue, 0 breached this month")
		if strings.Contains(r.Body, "your pools") {
			t.Error("a rep in no pool sees pool counts")
		}
	})
}

// An admin can look at an LDR's queue; the rep parameter is ignored for anyone else.
func TestDeskQueueOfRep(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			ldr := e.A.Users[model.RoleLDR]
			act := e.Principal(t, e.A.Keys[model.RoleAdmin]).Actor("127.0.0.1")
			if _, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "queued@rep.example", "lifecycle_stage": "mql", "owner_id": float64(ldr.ID)}); err != nil {
				t.Fatal(err)
			}
			admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
			r := get(t, e, admin, "/desk")
			ok(t, r, http.StatusOK, `id="f-rep"`)
			if strings.Contains(r.Body, "queued@rep.example") {
				t.Fatalf("admin's own queue shows the LDR's contact")
			}
			ok(t, get(t, e, admin, fmt.Sprintf("/desk?rep=%d", ldr.ID)), http.StatusOK, "queued@rep.example")
			ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
			r = get(t, e, ae, fmt.Sprintf("/desk?rep=%d", ldr.ID))
			if strings.Contains(r.Body, "queued@rep.example") || strings.Contains(r.Body, `id="f-rep"`) {
				t.Fatalf("a non-admin looked at another rep's queue")
			}
		})
	}
}
