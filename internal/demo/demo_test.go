package demo_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/demo"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
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
	})
}
