package routing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// After a rule change, RerouteAll brings stored segments in line with the rules:
// moved accounts get a decision and their open deals are flagged; a hand-set
// segment stays; a second pass changes nothing; other workspaces are untouched.
func TestRerouteAll(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		other := newEnv(t, st)
		mk := func(e *env, name string, employees float64, extra crm.Fields) model.Account {
			f := crm.Fields{"name": name, "employees": employees}
			for k, v := range extra {
				f[k] = v
			}
			a, err := e.crm.CreateAccount(ctx, e.act, f)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		small := mk(e, "Eighty", 80, nil)                       // smb today; mid_market once the SMB line is 50
		tiny := mk(e, "Twenty", 20, nil)                        // smb either way
		held := mk(e, "Held", 70, crm.Fields{"segment": "smb"}) // hand-set: stays
		foreign := mk(other, "Eighty elsewhere", 80, nil)
		d := e.deal(t, small.ID, "Open deal", nil)

		set, err := e.router.Rules(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		for i := range set.SegmentRules {
			for j := range set.SegmentRules[i].Conditions {
				c := &set.SegmentRules[i].Conditions[j]
				if v, ok := c.Value.(int64); c.Field == "employees" && ok && v == 100 {
					c.Value = int64(50)
				}
			}
		}
		set.DefaultSegmentRules = false
		if _, err := e.router.SaveRules(ctx, e.act, set); err != nil {
			t.Fatal(err)
		}
		res, err := e.router.RerouteAll(ctx, e.ws, "routing rules changed by test")
		if err != nil {
			t.Fatal(err)
		}
		if res != (routing.RerouteResult{Visited: 3, Changed: 1, Unchanged: 1, Pinned: 1}) {
			t.Fatalf("result %+v", res)
		}
		get := func(st *store.Store, ws, id int64) model.Account {
			a, err := st.Read().GetAccount(ctx, ws, id)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		if a := get(st, e.ws, small.ID); a.Segment != "mid_market" {
			t.Fatalf("80 employees: %s, want mid_market", a.Segment)
		}
		if a := get(st, e.ws, tiny.ID); a.Segment != "smb" {
			t.Fatalf("20 employees: %s", a.Segment)
		}
		if a := get(st, e.ws, held.ID); a.Segment != "smb" {
			t.Fatalf("hand-set account moved to %s", a.Segment)
		}
		if a := get(st, other.ws, foreign.ID); a.Segment != "smb" {
			t.Fatalf("another workspace's account moved to %s", a.Segment)
		}
		ds := e.decisions(t, small.ID)
		if len(ds) != 2 || ds[0].Segment != "mid_market" || ds[0].PreviousSegment != "smb" || ds[0].TriggeredBy != "routing rules changed by test" {
			t.Fatalf("decisions %+v", ds)
		}
		deal, err := st.Read().GetDeal(ctx, e.ws, d.ID)
		if err != nil || !deal.NeedsReview || !strings.Contains(deal.ReviewReason, "smb") {
			t.Fatalf("deal %+v %v: want it flagged for review", deal, err)
		}
		again, err := e.router.RerouteAll(ctx, e.ws, "again")
		if err != nil || again.Changed != 0 || again.Visited != 3 {
			t.Fatalf("second pass %+v %v", again, err)
		}
		if n := len(e.decisions(t, small.ID)); n != 2 {
			t.Fatalf("second pass wrote a decision: %d", n)
		}
	})
}
