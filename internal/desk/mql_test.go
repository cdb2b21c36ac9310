package desk_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// monday10 is a business hour: a digital MQL assigned then is due at 11:00.
var monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// withMQL wires MQL assignment into f's crm and scoring (as app.Open does), with
// scoring's clock at now.
func (f *fx) withMQL(now time.Time) {
	asg := &assignment.Service{St: f.st}
	f.crm = &crm.Service{St: f.st, Router: &routing.Service{St: f.st}, MQL: asg}
	f.scoring = &scoring.Service{St: f.st, MQL: asg, Now: func() time.Time { return now }}
}

func (f *fx) ldrPool(name, team string, members ...int64) int64 {
	f.t.Helper()
	var id int64
	err := f.st.InTx(f.ctx, func(q store.Q) error {
		p := model.Pool{Name: name, Role: model.RoleLDR, Team: team, Capacity: 10}
		if err := q.CreatePool(f.ctx, f.ws, &p); err != nil {
			return err
		}
		id = p.ID
		for _, u := range members {
			if err := q.SetPoolMember(f.ctx, f.ws, model.PoolMember{PoolID: p.ID, UserID: u, Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fx) get(id int64) model.Contact {
	f.t.Helper()
	c, err := f.st.Read().GetContact(f.ctx, f.ws, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// lastHistory returns the detail of c's latest history entry with action.
func (f *fx) lastHistory(id int64, action string) map[string]any {
	f.t.Helper()
	hs, err := f.st.Read().History(f.ctx, f.ws, "contact", id)
	if err != nil {
		f.t.Fatal(err)
	}
	var d map[string]any
	for _, h := range hs {
		if h.Action == action {
			d = map[string]any{}
			if err := json.Unmarshal(h.Detail, &d); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	if d == nil {
		f.t.Fatalf("contact %d has no %q history: %+v", id, action, hs)
	}
	return d
}

func (f *fx) assignments(id int64) []model.Assignment {
	f.t.Helper()
	as, err := f.st.Read().Assignments(f.ctx, f.ws, "contact", id)
	if err != nil {
		f.t.Fatal(err)
	}
	return as
}

func TestPromotionAssignsLDR(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.withMQL(monday10)
		pool := f.ldrPool("LDRs", "", f.ldr, f.ldr2)
		var leads []model.Contact
		for i := range 3 {
			leads = append(leads, f.contact(fmt.Sprintf("lead%d@x.example", i), "lead", nil, 0))
		}
		var evs []scoring.Event
		for _, c := range leads {
			for range 6 {
				evs = append(evs, scoring.Event{ContactID: c.ID, Kind: "pricing_page_view", URL: "/pricing"})
			}
		}
		res, err := f.scoring.Ingest(f.ctx, f.ws, evs)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Promoted) != 3 {
			t.Fatalf("promoted %v", res.Promoted)
		}
		// Round-robin in user id order: ldr, ldr2, ldr.
		want := []int64{f.ldr, f.ldr2, f.ldr}
		for i, c := range leads {
			got := f.get(c.ID)
			if got.LifecycleStage != "mql" || got.OwnerID == nil || *got.OwnerID != want[i] {
				t.Fatalf("lead %d: stage %q owner %v, want mql owned by %d", i, got.LifecycleStage, got.OwnerID, want[i])
			}
			as := f.assignments(c.ID)
			if len(as) != 1 || as[0].PoolID != pool || as[0].Motion != assignment.Digital ||
				!as[0].AssignedAt.Equal(monday10) || !as[0].SLADueAt.Equal(monday10.Add(time.Hour)) {
				t.Fatalf("lead %d assignments: %+v", i, as)
			}
			d := f.lastHistory(c.ID, "assigned")
			if d["owner_id"] != float64(want[i]) || d["sla_due_at"] != "2026-11-23T11:00:00Z" || !strings.Contains(fmt.Sprint(d["reason"]), `pool "LDRs"`) {
				t.Errorf("lead %d assigned history: %v", i, d)
			}
		}
		// Promoted by scoring and not touched since: the owner write kept updated_at,
		// so decay can still tell (scoring's due sweep).
		sc, err := f.st.Read().ContactScores(f.ctx, f.ws, []int64{leads[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		if m := sc[leads[0].ID].MQLAt; m == nil || !f.get(leads[0].ID).UpdatedAt.Equal(*m) {
			t.Errorf("updated_at %v, mql_at %v", f.get(leads[0].ID).UpdatedAt, m)
		}
		// The queue shows them as the LDR's, with the SLA clock.
		q, err := f.desk.Queue(f.ctx, f.ws, f.ldr, monday10)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Mine) != 2 || len(q.Unassigned) != 0 || q.Mine[0].SLADueAt == nil {
			t.Fatalf("queue: mine %v unassigned %v", ids(q.Mine), ids(q.Unassigned))
		}
	})
}

func TestPromotionTeamAndMotion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.withMQL(monday10)
		f.ldrPool("General", "", f.ldr)
		emea := f.ldrPool("EMEA", "emea", f.ldr2)
		acct := f.account("Big Co", 5000)
		err := st.InTx(f.ctx, func(q store.Q) error {
			a, err := q.GetAccount(f.ctx, f.ws, acct)
			if err != nil {
				return err
			}
			a.Motion = assignment.HighTouch
			if err := q.UpdateAccount(f.ctx, f.ws, &a); err != nil {
				return err
			}
			return q.InsertRoutingDecision(f.ctx, f.ws, &model.RoutingDecision{AccountID: acct, Segment: "enterprise", Motion: assignment.HighTouch, Pipeline: "high_touch", Team: "emea", Policy: "round_robin", Inputs: json.RawMessage(`{}`), Reason: "test"})
		})
		if err != nil {
			t.Fatal(err)
		}
		c := f.contact("cfo@big.example", "lead", nil, acct)
		f.views(c, 6)
		as := f.assignments(c.ID)
		if len(as) != 1 || as[0].PoolID != emea || as[0].UserID != f.ldr2 || as[0].Motion != assignment.HighTouch ||
			!as[0].SLADueAt.Equal(monday10.Add(8*time.Hour).Add(16*time.Hour)) { // 480 business minutes: Tuesday 10:00
			t.Fatalf("assignments: %+v", as)
		}
		// A team without an LDR pool falls back to any LDR pool.
		other := f.account("Other Co", 30)
		err = st.InTx(f.ctx, func(q store.Q) error {
			return q.InsertRoutingDecision(f.ctx, f.ws, &model.RoutingDecision{AccountID: other, Segment: "smb", Motion: "digital", Pipeline: "digital", Team: "apac", Policy: "round_robin", Inputs: json.RawMessage(`{}`), Reason: "test"})
		})
		if err != nil {
			t.Fatal(err)
		}
		d := f.contact("dev@other.example", "lead", nil, other)
		f.views(d, 6)
		if as := f.assignments(d.ID); len(as) != 1 || as[0].UserID != f.ldr {
			t.Fatalf("fallback assignments: %+v", as)
		}
	})
}

func TestPromotionWithoutLDR(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.withMQL(monday10)
		c := f.contact("solo@x.example", "lead", nil, 0)
		f.views(c, 6) // no LDR pool at all
		got := f.get(c.ID)
		if got.LifecycleStage != "mql" || got.OwnerID != nil {
			t.Fatalf("stage %q owner %v", got.LifecycleStage, got.OwnerID)
		}
		if d := f.lastHistory(c.ID, "unassigned"); !strings.Contains(fmt.Sprint(d["reason"]), `no pool for role "ldr"`) {
			t.Errorf("history: %v", d)
		}
		if as := f.assignments(c.ID); len(as) != 0 {
			t.Errorf("assignments: %+v", as)
		}
		// A pool whose only LDR is out of office: still promoted, reason recorded.
		err := st.InTx(f.ctx, func(q store.Q) error {
			p := model.Pool{Name: "LDRs", Role: model.RoleLDR, Capacity: 10}
			if err := q.CreatePool(f.ctx, f.ws, &p); err != nil {
				return err
			}
			back := monday10.Add(48 * time.Hour)
			return q.SetPoolMember(f.ctx, f.ws, model.PoolMember{PoolID: p.ID, UserID: f.ldr, Active: true, OutOfOfficeUntil: &back})
		})
		if err != nil {
			t.Fatal(err)
		}
		c2 := f.contact("away@x.example", "lead", nil, 0)
		f.views(c2, 6)
		if got := f.get(c2.ID); got.LifecycleStage != "mql" || got.OwnerID != nil {
			t.Fatalf("stage %q owner %v", got.LifecycleStage, got.OwnerID)
		}
		if d := f.lastHistory(c2.ID, "unassigned"); !strings.Contains(fmt.Sprint(d["reason"]), "out of office") {
			t.Errorf("history: %v", d)
		}
		q, err := f.desk.Queue(f.ctx, f.ws, f.ldr, monday10)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Unassigned) != 2 {
			t.Errorf("unassigned %v", ids(q.Unassigned))
		}
	})
}

func TestCRMUpdateToMQLAssigns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		f.withMQL(monday10)
		f.ldrPool("LDRs", "", f.ldr, f.ldr2)
		c := f.contact("manual@x.example", "lead", nil, 0)
		if as := f.assignments(c.ID); len(as) != 0 {
			t.Fatalf("a lead was assigned: %+v", as)
		}
		up, err := f.crm.UpdateContact(f.ctx, f.admin(), c.ID, crm.Fields{"lifecycle_stage": "mql"})
		if err != nil {
			t.Fatal(err)
		}
		got := f.get(c.ID)
		if up.OwnerID == nil || got.OwnerID == nil || *got.OwnerID != f.ldr || *up.OwnerID != f.ldr {
			t.Fatalf("owner: returned %v stored %v", up.OwnerID, got.OwnerID)
		}
		as := f.assignments(c.ID)
		if len(as) != 1 || as[0].UserID != f.ldr || !as[0].SLADueAt.After(as[0].AssignedAt) {
			t.Fatalf("assignments: %+v", as)
		}
		if d := f.lastHistory(c.ID, "assigned"); d["owner_id"] != float64(f.ldr) {
			t.Errorf("history %v", d)
		}
		// Created as an mql: assigned too (next in turn).
		n := f.contact("new@x.example", "mql", nil, 0)
		if got := f.get(n.ID); got.OwnerID == nil || *got.OwnerID != f.ldr2 || n.OwnerID == nil {
			t.Fatalf("created mql owner %v (returned %v)", got.OwnerID, n.OwnerID)
		}
		// An owner chosen in the same change is kept; no assignment.
		k := f.contact("kept@x.example", "lead", nil, 0)
		if _, err := f.crm.UpdateContact(f.ctx, f.admin(), k.ID, crm.Fields{"lifecycle_stage": "mql", "owner_id": fmt.Sprint(f.ae1)}); err != nil {
			t.Fatal(err)
		}
		if got := f.get(k.ID); got.OwnerID == nil || *got.OwnerID != f.ae1 || len(f.assignments(k.ID)) != 0 {
			t.Fatalf("explicit owner: %v, %+v", got.OwnerID, f.assignments(k.ID))
		}
		// Staying an mql does not assign again.
		if _, err := f.crm.UpdateContact(f.ctx, f.admin(), c.ID, crm.Fields{"title": "CTO"}); err != nil {
			t.Fatal(err)
		}
		if len(f.assignments(c.ID)) != 1 {
			t.Fatalf("reassigned: %+v", f.assignments(c.ID))
		}
	})
}

func TestSLALine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
		pool := f.ldrPool("LDRs", "", f.ldr, f.ldr2)
		add := func(user int64, due time.Time, touched *time.Time) {
			t.Helper()
			err := st.InTx(f.ctx, func(q store.Q) error {
				a := model.Assignment{PoolID: pool, UserID: user, ObjectType: "contact", ObjectID: 1000 + user*10 + int64(due.Day()), Motion: "digital", Reason: "test", AssignedAt: due.Add(-time.Hour), SLADueAt: due}
				if err := q.InsertAssignment(f.ctx, f.ws, &a); err != nil {
					return err
				}
				if touched != nil {
					_, err := q.TouchAssignments(f.ctx, f.ws, "contact", a.ObjectID, *touched)
					return err
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		late := now.Add(-time.Hour)
		add(f.ldr, now.Add(-2*time.Hour), nil)    // overdue
		add(f.ldr, now.Add(-48*time.Hour), &late) // breached this month
		oct := time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)
		octLate := oct.Add(time.Hour)
		add(f.ldr, oct, &octLate)               // breached last month
		add(f.ldr2, now.Add(-3*time.Hour), nil) // a pool mate's overdue
		add(f.ldr2, now.Add(time.Hour), nil)    // not due yet
		sla, err := f.desk.SLA(f.ctx, f.ws, f.ldr, now)
		if err != nil {
			t.Fatal(err)
		}
		want := desk.SLA{Mine: desk.SLACount{Overdue: 1, Breached: 1}, Pools: desk.SLACount{Overdue: 2, Breached: 1}, InPools: true, MonthFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		if !sla.MonthFrom.Equal(want.MonthFrom) || sla.Mine != want.Mine || sla.Pools != want.Pools || !sla.InPools {
			t.Fatalf("sla = %+v, want %+v", sla, want)
		}
		if s, err := f.desk.SLA(f.ctx, f.ws, f.ae1, now); err != nil || s.InPools || s.Mine != (desk.SLACount{}) {
			t.Fatalf("ae sla = %+v %v", s, err)
		}
	})
}
