package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The routing tables on both dialects: rule lists replace whole and stay per
// workspace, decisions list newest first and only in their workspace, and
// flagging touches open deals of the one account.
// Not parallel: twoWorkspaces shares a counter with the conformance suite.
func TestRoutingStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		segs := []model.SegmentRule{
			{Segment: "big", Conditions: []model.Condition{{Field: "employees", Op: "gte", Value: int64(500)}, {Field: "region", Op: "in", Value: []any{"EMEA"}}}},
			{Segment: "small", Conditions: []model.Condition{}, CatchAll: true},
		}
		routes := []model.RoutingRule{{Segment: "", Motion: "digital", Pipeline: "digital", Team: "t", Policy: "round_robin"}}
		acct := model.Account{Name: "Acme", Currency: "USD"}
		other := model.Account{Name: "Other", Currency: "USD"}
		var open, won model.Deal
		err := st.InTx(ctx, func(q store.Q) error {
			if err := q.ReplaceSegmentRules(ctx, a, segs); err != nil {
				return err
			}
			if err := q.ReplaceRoutingRules(ctx, a, routes); err != nil {
				return err
			}
			// Replacing again keeps one dense list.
			if err := q.ReplaceSegmentRules(ctx, a, segs); err != nil {
				return err
			}
			if err := q.CreateAccount(ctx, a, &acct); err != nil {
				return err
			}
			if err := q.CreateAccount(ctx, a, &other); err != nil {
				return err
			}
			open = model.Deal{Name: "open", Amount: 700, Currency: "USD", Pipeline: "digital", Stage: "trial", AccountID: &acct.ID}
			won = model.Deal{Name: "won", Amount: 900, Currency: "USD", Pipeline: "digital", Stage: "won", Outcome: "won", AccountID: &acct.ID}
			o2 := model.Deal{Name: "other", Amount: 5, Currency: "USD", Pipeline: "digital", Stage: "trial", AccountID: &other.ID}
			for _, d := range []*model.Deal{&open, &won, &o2} {
				if err := q.CreateDeal(ctx, a, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r := st.Read()
		got, err := r.SegmentRules(ctx, a)
		if err != nil || len(got) != 2 || got[0].Position != 1 || got[1].Position != 2 || !got[1].CatchAll || got[0].CatchAll || got[0].ID != segs[0].ID {
			t.Fatalf("segment rules: %+v %v", got, err)
		}
		if c := got[0].Conditions; len(c) != 2 || c[0].Value != 500.0 || c[1].Op != "in" || len(c[1].Value.([]any)) != 1 || got[1].Conditions == nil {
			t.Fatalf("conditions: %#v", got[0].Conditions)
		}
		if rr, err := r.RoutingRules(ctx, a); err != nil || len(rr) != 1 || rr[0].Team != "t" || rr[0].Policy != "round_robin" || rr[0].CreatedAt.IsZero() {
			t.Fatalf("routing rules: %+v %v", rr, err)
		}
		for _, ws := range []int64{b} {
			if s, _ := r.SegmentRules(ctx, ws); len(s) != 0 {
				t.Fatalf("B sees A's segment rules: %+v", s)
			}
			if s, _ := r.RoutingRules(ctx, ws); len(s) != 0 {
				t.Fatalf("B sees A's routing rules: %+v", s)
			}
		}
		if n, err := r.MaxOpenDealAmount(ctx, a, acct.ID); err != nil || n == nil || *n != 700 {
			t.Fatalf("max open amount: %v %v", n, err)
		}
		if n, err := r.MaxOpenDealAmount(ctx, b, acct.ID); err != nil || n != nil {
			t.Fatalf("max open amount from B: %v %v", n, err)
		}
		if _, err := r.LatestRoutingDecision(ctx, a, acct.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("latest of none: %v", err)
		}
		srID := segs[0].ID
		err = st.InTx(ctx, func(q store.Q) error {
			for i, seg := range []string{"small", "big"} {
				d := model.RoutingDecision{AccountID: acct.ID, SegmentRuleID: &srID, Segment: seg, Motion: "digital", Manual: i == 1, Inputs: []byte(`{"employees":600}`), Reason: "why " + seg, TriggeredBy: "test", PreviousSegment: "x"}
				if err := q.InsertRoutingDecision(ctx, a, &d); err != nil {
					return err
				}
			}
			n, err := q.FlagOpenDeals(ctx, b, acct.ID, "not mine")
			if err != nil || n != 0 {
				t.Errorf("flag from B: %d %v", n, err)
			}
			n, err = q.FlagOpenDeals(ctx, a, acct.ID, "re-routed")
			if err != nil || n != 1 {
				t.Errorf("flag: %d %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A batch: multi-row statements on SQLite, COPY on PostgreSQL.
		var batch []*model.RoutingDecision
		for i := range 620 {
			batch = append(batch, &model.RoutingDecision{AccountID: other.ID, Segment: fmt.Sprintf("s%d", i), Motion: "high_touch", Pipeline: "high_touch", RoutingRuleID: &srID, Manual: i%2 == 0, Reason: "r", Inputs: []byte(`{"region":"EMEA"}`)})
		}
		if err := st.InTx(ctx, func(q store.Q) error { return q.InsertRoutingDecisions(ctx, a, batch) }); err != nil {
			t.Fatal(err)
		}
		bs, err := r.RoutingDecisions(ctx, a, other.ID, 1000)
		if err != nil || len(bs) != 620 || bs[0].Segment != "s619" || bs[619].Segment != "s0" || !bs[619].Manual || bs[618].Manual ||
			bs[0].RoutingRuleID == nil || *bs[0].RoutingRuleID != srID || bs[0].SegmentRuleID != nil || string(bs[0].Inputs) != `{"region":"EMEA"}` || bs[0].CreatedAt.IsZero() {
			t.Fatalf("batch: %d %+v %v", len(bs), bs[0], err)
		}
		ds, err := r.RoutingDecisions(ctx, a, acct.ID, 0)
		if err != nil || len(ds) != 2 || ds[0].Segment != "big" || !ds[0].Manual || ds[1].Manual || ds[0].SegmentRuleID == nil || *ds[0].SegmentRuleID != srID ||
			ds[0].RoutingRuleID != nil || string(ds[0].Inputs) != `{"employees":600}` || ds[0].PreviousSegment != "x" || ds[0].CreatedAt.IsZero() {
			t.Fatalf("decisions: %+v %v", ds, err)
		}
		if last, err := r.LatestRoutingDecision(ctx, a, acct.ID); err != nil || last.ID != ds[0].ID {
			t.Fatalf("latest: %+v %v", last, err)
		}
		if ds, err := r.RoutingDecisions(ctx, b, acct.ID, 0); err != nil || len(ds) != 0 {
			t.Fatalf("B lists A's decisions: %+v %v", ds, err)
		}
		if d, _ := r.GetDeal(ctx, a, open.ID); !d.NeedsReview || d.ReviewReason != "re-routed" {
			t.Fatalf("open deal: %+v", d)
		}
		if d, _ := r.GetDeal(ctx, a, won.ID); d.NeedsReview {
			t.Fatalf("won deal flagged: %+v", d)
		}
		page, err := r.ListDeals(ctx, a, store.ListParams{Filters: []store.Filter{{Field: "needs_review", Value: "false"}}, Count: true}, nil)
		if err != nil || *page.Total != 2 {
			t.Fatalf("needs_review=false: %+v %v", page, err)
		}
		// Clearing the flag through UpdateDeal, and deleting the account drops its history.
		err = st.InTx(ctx, func(q store.Q) error {
			d, err := q.GetDeal(ctx, a, open.ID)
			if err != nil {
				return err
			}
			d.NeedsReview, d.ReviewReason = false, ""
			if err := q.UpdateDeal(ctx, a, &d); err != nil {
				return err
			}
			return q.DeleteAccount(ctx, a, acct.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := r.GetDeal(ctx, a, open.ID); d.NeedsReview || d.ReviewReason != "" {
			t.Fatalf("cleared: %+v", d)
		}
		if ds, _ := r.RoutingDecisions(ctx, a, acct.ID, 0); len(ds) != 0 {
			t.Fatalf("decisions outlive their account: %+v", ds)
		}
		// An empty list returns the workspace to the defaults.
		if err := st.InTx(ctx, func(q store.Q) error { return q.ReplaceSegmentRules(ctx, a, nil) }); err != nil {
			t.Fatal(err)
		}
		if s, _ := r.SegmentRules(ctx, a); len(s) != 0 {
			t.Fatalf("not emptied: %+v", s)
		}
	})
}
