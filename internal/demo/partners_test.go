package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The demo's partner tells partner mode's story: five full months of
// meetings and accepted SQLs (a few rejected, the month to date open), deals
// won from them, statements that add up, an actual cost per SQL below the
// in-house LDRs', and a staffing scenario that plans with those actuals.
func TestDemoPartnerStory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	st := storetest.New(t, store.SQLite)
	ctx := context.Background()
	res, err := demo.Seed(ctx, st, demo.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ws := res.Workspace.ID
	clock := func() time.Time { return now }
	econ := &economics.Service{St: st, Now: clock}
	ps := &partners.Service{St: st, Econ: econ, Now: clock}
	list, err := ps.List(ctx, ws)
	if err != nil || len(list) != 1 || list[0].Name != demo.DemoPartner || len(list[0].UserIDs) != 2 || list[0].StartMonth != "2026-06" {
		t.Fatalf("demo partners %v %+v", err, list)
	}
	p := list[0]
	a, err := ps.Actuals(ctx, ws, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Source != "actual" || a.Months != 5 || a.Partner.SQLs < 25 || a.Partner.Meetings < 60 || a.Partner.WonCustomers == 0 || a.InHouse.SQLs < 25 || a.InHouse.WonCustomers == 0 {
		t.Fatalf("actuals %+v", a)
	}
	if a.Partner.CostPerSQL == nil || a.InHouse.CostPerSQL == nil || *a.Partner.CostPerSQL >= *a.InHouse.CostPerSQL {
		t.Errorf("the partner should deliver SQLs for less: %v vs %v", a.Partner.CostPerSQL, a.InHouse.CostPerSQL)
	}
	var fees, rejected int64
	for _, m := range economics.Months("2026-06", "2026-10") {
		s, err := ps.Statement(ctx, ws, p.ID, m)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, l := range s.Lines {
			sum += l.Amount
		}
		if s.Status != partners.StatusClosed || s.Total != sum || s.Total < p.RetainerMonthly || s.Work.SQLsAccepted == 0 {
			t.Errorf("%s: %+v", m, s)
		}
		fees += s.Total
		rejected += int64(s.Work.SQLsRejected)
	}
	if rejected == 0 || fees+5*p.ManagementMonthly != a.Partner.Cost {
		t.Errorf("rejected %d; fees %d + management ≠ cost %d", rejected, fees, a.Partner.Cost)
	}
	if open, _ := ps.Statement(ctx, ws, p.ID, "2026-11"); open.Status != partners.StatusOpen {
		t.Errorf("this month %+v", open.Status)
	}
	sv := &staffing.Service{St: st, Econ: econ, Partners: ps, Now: clock}
	cmp, err := sv.Comparison(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pl := range cmp.Plans {
		if pl.Scenario.Name == demo.DemoPartner+" (measured)" {
			found = true
			if pl.Assumptions.Source != staffing.Actual || pl.Assumptions.Months != 5 || !strings.Contains(pl.Assumptions.Detail, "actual from 5 months") {
				t.Errorf("measured scenario %+v", pl.Assumptions)
			}
		} else if pl.Assumptions.Source != staffing.Assumed {
			t.Errorf("%s: %+v", pl.Scenario.Name, pl.Assumptions)
		}
	}
	if !found {
		t.Error("no measured scenario")
	}
}
