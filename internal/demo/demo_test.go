package demo_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func TestSeedIsDeterministicAndRealistic(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r1, err := demo.Seed(ctx, st, demo.Options{Now: now, Slug: "one"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := demo.Seed(ctx, st, demo.Options{Now: now, Slug: "two"})
		if err != nil {
			t.Fatal(err)
		}
		if r1.Accounts != 2210 || r1.Contacts != r2.Contacts || r1.Deals != r2.Deals || r1.Activities != r2.Activities {
			t.Fatalf("not deterministic: %+v vs %+v", r1, r2)
		}
		if r1.Contacts < 3500 || r1.Deals < 700 || r1.Activities < 3000 {
			t.Fatalf("too small to be realistic: %+v", r1)
		}
		if r1.Submissions != r2.Submissions || r1.WebEvents != r2.WebEvents || r1.Submissions < 50 || r1.WebEvents < r1.Submissions || r1.Disqualified < 20 {
			t.Fatalf("digital front door: %+v vs %+v", r1, r2)
		}
		fs, err := st.Read().Forms(ctx, r1.Workspace.ID)
		if err != nil || len(fs) != 3 {
			t.Fatalf("forms %+v %v", fs, err)
		}
		if stats, _ := st.Read().FormStats(ctx, r1.Workspace.ID, fs[2].ID); stats["accepted"] != int64(r1.Submissions) { // by name: Pricing guide download
			t.Fatalf("submissions of %s: %v, want %d", fs[2].Name, stats, r1.Submissions)
		}
		if total, stitched, err := st.Read().CountWebEvents(ctx, r1.Workspace.ID); err != nil || total != int64(r1.WebEvents) || stitched != total {
			t.Fatalf("web events %d (%d stitched), want %d: %v", total, stitched, r1.WebEvents, err)
		}
		sum, err := st.Read().DealSummary(ctx, r1.Workspace.ID)
		if err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]int64{}
		pipelines := map[string]int64{}
		for _, s := range sum {
			outcomes[s.Outcome] += s.Count
			pipelines[s.Pipeline] += s.Count
		}
		for _, o := range []string{"", "won", "lost", "no_decision"} {
			if outcomes[o] == 0 {
				t.Errorf("no deals with outcome %q: %v", o, outcomes)
			}
		}
		if pipelines["digital"] == 0 || pipelines["high_touch"] == 0 {
			t.Errorf("pipelines: %v", pipelines)
		}
		for seg, want := range map[string]int64{"smb": 2000, "mid_market": 150, "enterprise": 60} {
			p, err := st.Read().ListAccounts(ctx, r1.Workspace.ID, store.ListParams{Filters: []store.Filter{{Field: "segment", Value: seg}}, Count: true, Limit: 1}, nil)
			if err != nil || *p.Total != want {
				t.Errorf("segment %s: %v %v", seg, p.Total, err)
			}
		}
		// The funnel of the last 90 days shows contacts moving between
		// stages (the demo's lifecycle history), not every contact created
		// today in its final stage: each step converts some, in some days.
		fr, err := funnel.Report(ctx, st, r1.Workspace.ID, funnel.Params{From: now.AddDate(0, 0, -89), To: now, By: "motion"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range fr.Total.Conversions {
			if c.Denominator == 0 || c.Converted == 0 || c.Converted >= c.Denominator {
				t.Errorf("funnel %s → %s: %d of %d converted; want some, not all", c.From, c.To, c.Converted, c.Denominator)
			}
		}
		for _, d := range fr.Total.Durations {
			if d.N == 0 || d.MedianDays == nil || *d.MedianDays < 1 {
				t.Errorf("funnel %s → %s: %d durations, median %v days", d.From, d.To, d.N, d.MedianDays)
			}
		}
		dq := 0
		for _, e := range fr.Total.Exits {
			if e.Stage == "disqualified" {
				dq = e.Count
			}
		}
		if dq == 0 {
			t.Errorf("funnel exits %+v: no disqualified leads in the last 90 days", fr.Total.Exits)
		}
		// Customers from the won deals, with a year of MRR movements that add up.
		if r1.Customers != r2.Customers || r1.Subscriptions != r2.Subscriptions || r1.Customers < 50 || r1.Subscriptions < r1.Customers {
			t.Fatalf("customers %d/%d, subscriptions %d/%d", r1.Customers, r2.Customers, r1.Subscriptions, r2.Subscriptions)
		}
		subs := &subscriptions.Service{St: st, Now: func() time.Time { return now }}
		rep, err := subs.Bridge(ctx, r1.Workspace.ID, "2025-12-01", "2026-11-01", "segment")
		if err != nil || len(rep.Totals) != 1 {
			t.Fatalf("bridge %+v %v", rep.Totals, err)
		}
		b := rep.Totals[0]
		if !b.Holds || b.Start <= 0 || b.New <= 0 || b.Expansion <= 0 || b.Contraction <= 0 || b.Churn <= 0 || b.ChurnedCustomers == 0 || len(rep.Groups) < 3 {
			t.Fatalf("a year of demo MRR: %+v (%d groups)", b, len(rep.Groups))
		}
		for _, g := range rep.Groups {
			if !g.Holds {
				t.Errorf("segment %s: identity fails %+v", g.Group, g.Bridge)
			}
		}
	})
}
