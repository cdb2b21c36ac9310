package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/pipeline"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var slugN atomic.Int64

type env struct {
	st     *store.Store
	router *routing.Service
	crm    *crm.Service
	ws     int64
	act    model.Actor
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", slugN.Add(1)), Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	r := &routing.Service{St: st}
	return &env{st: st, router: r, crm: &crm.Service{St: st, Router: r}, ws: w.ID, act: model.Actor{Workspace: w.ID, Label: "user:ann@acme.test"}}
}

func (e *env) decisions(t *testing.T, id int64) []model.RoutingDecision {
	t.Helper()
	ds, err := e.router.Decisions(context.Background(), e.ws, id)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func (e *env) deal(t *testing.T, acct int64, name string, f crm.Fields) model.Deal {
	t.Helper()
	base := crm.Fields{"name": name, "pipeline": "digital", "amount": 1000.0, "account_id": float64(acct)}
	for k, v := range f {
		base[k] = v
	}
	d, err := e.crm.CreateDeal(context.Background(), e.act, base)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRouting(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t.Run("reroute", func(t *testing.T) { testReroute(t, st) })
		t.Run("manual", func(t *testing.T) { testManual(t, st) })
		t.Run("rules", func(t *testing.T) { testSaveRules(t, st) })
		t.Run("custom_pipelines", func(t *testing.T) { testCustomPipelines(t, st) })
		t.Run("isolation", func(t *testing.T) { testIsolation(t, st) })
		t.Run("expected_acv", func(t *testing.T) { testExpectedACV(t, st) })
		t.Run("import", func(t *testing.T) { testImport(t, st) })
		t.Run("unrouted", func(t *testing.T) { testWithoutRouter(t, st) })
	})
}

// An SMB grows past 1,000 employees: the update re-routes it in the same
// transaction, records old and new values with the reason, and flags its open
// deals (not the closed ones) for review. An update that changes nothing routing
// reads stores nothing.
func testReroute(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	a, err := e.crm.CreateAccount(ctx, e.act, crm.Fields{"name": "Acme", "employees": 40.0})
	if err != nil {
		t.Fatal(err)
	}
	if a.Segment != "smb" || a.Motion != "digital" {
		t.Fatalf("created: %s/%s", a.Segment, a.Motion)
	}
	ds := e.decisions(t, a.ID)
	if len(ds) != 1 || ds[0].Segment != "smb" || ds[0].Motion != "digital" || ds[0].Pipeline != "digital" || ds[0].Team != "smb" ||
		ds[0].Policy != "round_robin" || ds[0].PreviousSegment != "" || ds[0].TriggeredBy != "created by user:ann@acme.test" || ds[0].Manual {
		t.Fatalf("first decision: %+v", ds)
	}
	open := e.deal(t, a.ID, "Open", nil)
	won := e.deal(t, a.ID, "Won", crm.Fields{"outcome": "won"})
	lost := e.deal(t, a.ID, "Lost", crm.Fields{"outcome": "lost", "loss_reason": "price"})

	// Not a routing input, and an employee count that stays SMB: nothing stored.
	for _, f := range []crm.Fields{{"name": "Acme Inc"}, {"employees": 60.0}, {"segment": "smb", "motion": "digital"}} {
		if _, err := e.crm.UpdateAccount(ctx, e.act, a.ID, f); err != nil {
			t.Fatal(err)
		}
	}
	if ds := e.decisions(t, a.ID); len(ds) != 1 {
		t.Fatalf("unchanged updates stored decisions: %+v", ds)
	}

	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"employees": "1,200"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Segment != "enterprise" || a.Motion != "high_touch" {
		t.Fatalf("after growth: %s/%s", a.Segment, a.Motion)
	}
	stored, err := st.Read().GetAccount(ctx, e.ws, a.ID)
	if err != nil || stored.Segment != "enterprise" || stored.Motion != "high_touch" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	ds = e.decisions(t, a.ID)
	if len(ds) != 2 {
		t.Fatalf("decisions: %+v", ds)
	}
	d := ds[0] // newest first
	want := "employees 1,200 ≥ 1,000 → enterprise (default segment rule 3); enterprise → high_touch (default routing rule 3)"
	if d.Segment != "enterprise" || d.Motion != "high_touch" || d.Pipeline != "high_touch" || d.Policy != "territory" ||
		d.PreviousSegment != "smb" || d.PreviousMotion != "digital" || d.Reason != want || d.TriggeredBy != "updated by user:ann@acme.test" ||
		d.SegmentRuleID != nil || d.RoutingRuleID != nil || d.Manual || d.ID <= ds[1].ID {
		t.Fatalf("re-route decision: %+v", d)
	}
	if string(d.Inputs) != `{"employees":1200}` {
		t.Fatalf("inputs %s", d.Inputs)
	}
	got, err := st.Read().GetDeal(ctx, e.ws, open.ID)
	if err != nil || !got.NeedsReview || !strings.Contains(got.ReviewReason, "from smb/digital to enterprise/high_touch") || !strings.Contains(got.ReviewReason, "employees 1,200") {
		t.Fatalf("open deal: %+v %v", got, err)
	}
	if got.Pipeline != "digital" || got.Stage != open.Stage {
		t.Fatalf("open deal was moved: %+v", got)
	}
	for _, c := range []model.Deal{won, lost} {
		if got, _ := st.Read().GetDeal(ctx, e.ws, c.ID); got.NeedsReview || got.ReviewReason != "" {
			t.Fatalf("closed deal flagged: %+v", got)
		}
	}
	page, err := st.Read().ListDeals(ctx, e.ws, store.ListParams{Filters: []store.Filter{{Field: "needs_review", Value: "true"}}, Count: true}, nil)
	if err != nil || *page.Total != 1 || page.Items[0].ID != open.ID {
		t.Fatalf("needs_review filter: %+v %v", page, err)
	}
	// Reviewing the deal clears the flag and its reason.
	got, err = e.crm.UpdateDeal(ctx, e.act, open.ID, crm.Fields{"needs_review": false})
	if err != nil || got.NeedsReview || got.ReviewReason != "" {
		t.Fatalf("review: %+v %v", got, err)
	}
	// Still enterprise: nothing new.
	if _, err := e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"employees": 5000.0}); err != nil {
		t.Fatal(err)
	}
	if ds := e.decisions(t, a.ID); len(ds) != 2 {
		t.Fatalf("same segment stored a decision: %d", len(ds))
	}
	// A failed write rolls its decision back with it.
	if _, err := e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"employees": 10.0, "owner_id": 999999.0}); err == nil {
		t.Fatal("bad owner accepted")
	}
	if ds := e.decisions(t, a.ID); len(ds) != 2 {
		t.Fatalf("rolled-back write left a decision: %d", len(ds))
	}
}

// A segment or motion set by a client wins, is recorded as a manual decision and
// holds while firmographics change, until the client clears it.
func testManual(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	a, err := e.crm.CreateAccount(ctx, e.act, crm.Fields{"name": "Strategic", "employees": 50.0, "motion": "high_touch"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Segment != "smb" || a.Motion != "high_touch" {
		t.Fatalf("manual motion: %s/%s", a.Segment, a.Motion)
	}
	ds := e.decisions(t, a.ID)
	if len(ds) != 1 || !ds[0].Manual || ds[0].Pipeline != "high_touch" || ds[0].Policy != "owner_keeps" || ds[0].RoutingRuleID != nil ||
		ds[0].Reason != "motion high_touch set by hand; segment by the rules: employees 50 < 100 → smb (default segment rule 1) (the rules alone give smb → digital)" {
		t.Fatalf("manual decision: %+v", ds)
	}
	deal := e.deal(t, a.ID, "Open", nil)
	// Growth does not override the manual choice.
	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"employees": 5000.0})
	if err != nil || a.Segment != "smb" || a.Motion != "high_touch" {
		t.Fatalf("pinned: %s/%s %v", a.Segment, a.Motion, err)
	}
	if ds := e.decisions(t, a.ID); len(ds) != 1 {
		t.Fatalf("pinned account re-routed: %+v", ds)
	}
	// Setting the segment by hand: the routing rules pick the motion for it.
	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"segment": "enterprise", "motion": ""})
	if err != nil || a.Segment != "enterprise" || a.Motion != "high_touch" {
		t.Fatalf("manual segment: %s/%s %v", a.Segment, a.Motion, err)
	}
	ds = e.decisions(t, a.ID)
	if len(ds) != 2 || !ds[0].Manual || ds[0].PreviousSegment != "smb" || ds[0].Team != "enterprise" ||
		ds[0].Reason != "segment enterprise set by hand; enterprise → high_touch (default routing rule 3) (the rules alone give enterprise → high_touch)" {
		t.Fatalf("manual segment decision: %+v", ds[0])
	}
	if got, _ := st.Read().GetDeal(ctx, e.ws, deal.ID); !got.NeedsReview {
		t.Fatalf("deal not flagged by a manual change: %+v", got)
	}
	// Clearing the segment hands the account back to the rules; the decision is
	// recorded even though the rules agree, so the account is no longer pinned.
	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"segment": nil})
	if err != nil || a.Segment != "enterprise" || a.Motion != "high_touch" {
		t.Fatalf("cleared: %s/%s %v", a.Segment, a.Motion, err)
	}
	ds = e.decisions(t, a.ID)
	if len(ds) != 3 || ds[0].Manual {
		t.Fatalf("unpin decision: %+v", ds)
	}
	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"employees": 20.0})
	if err != nil || a.Segment != "smb" || a.Motion != "digital" {
		t.Fatalf("rules again: %s/%s %v", a.Segment, a.Motion, err)
	}
	if ds := e.decisions(t, a.ID); len(ds) != 4 || ds[0].PreviousSegment != "enterprise" || ds[0].PreviousMotion != "high_touch" {
		t.Fatalf("re-route after unpin: %+v", ds[0])
	}
	// Clearing an account that was never pinned, with the rules agreeing, stores nothing.
	if _, err := e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"motion": ""}); err != nil {
		t.Fatal(err)
	}
	if ds := e.decisions(t, a.ID); len(ds) != 4 {
		t.Fatalf("no-op clear stored a decision: %d", len(ds))
	}
}

func testSaveRules(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	set, err := e.router.Rules(ctx, e.ws)
	if err != nil || !set.DefaultSegmentRules || !set.DefaultRoutingRules || len(set.SegmentRules) != 4 || len(set.RoutingRules) != 4 {
		t.Fatalf("defaults: %+v %v", set, err)
	}
	// Invalid rules are refused whole, naming the element.
	_, err = e.router.SaveRules(ctx, e.act, routing.RuleSet{SegmentRules: []model.SegmentRule{
		{Segment: "big", Conditions: []routing.Condition{cond("employees", "gte", 500)}},
		{Segment: "vip", Conditions: []routing.Condition{cond("custom.tier", "eq", "gold")}},
		catchAll("small"),
	}})
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "segment_rules[1].conditions[0].field" {
		t.Fatalf("save invalid: %v", err)
	}
	if set, _ := e.router.Rules(ctx, e.ws); !set.DefaultSegmentRules {
		t.Fatal("invalid save changed the rules")
	}
	err = st.InTx(ctx, func(q store.Q) error {
		return q.CreateCustomField(ctx, e.ws, &model.CustomField{ObjectType: "account", Key: "tier", Label: "Tier", Type: "enum", Options: []string{"gold", "silver"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	saved, err := e.router.SaveRules(ctx, e.act, routing.RuleSet{
		SegmentRules: []model.SegmentRule{
			{Segment: "vip", Conditions: []routing.Condition{cond("custom.tier", "eq", "gold")}},
			{Segment: "big", Conditions: []routing.Condition{cond("employees", "gte", "500")}},
			catchAll("small"),
		},
		RoutingRules: []model.RoutingRule{
			{Segment: "vip", Motion: "high_touch", Team: "strategic", Policy: "owner_keeps"},
			{Segment: "big", Motion: "high_touch", Policy: "territory"},
			anyRoute("digital"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err = e.router.Rules(ctx, e.ws)
	if err != nil || set.DefaultSegmentRules || set.DefaultRoutingRules || len(set.SegmentRules) != 3 || set.SegmentRules[1].ID == 0 ||
		set.SegmentRules[1].ID != saved.SegmentRules[1].ID || set.SegmentRules[1].Position != 2 || set.RoutingRules[0].Team != "strategic" || set.RoutingRules[2].Pipeline != "digital" {
		t.Fatalf("stored: %+v %v", set, err)
	}
	if v, _ := set.SegmentRules[1].Conditions[0].Value.(float64); v != 500 {
		t.Fatalf("value not normalised: %#v", set.SegmentRules[1].Conditions[0].Value)
	}
	a, err := e.crm.CreateAccount(ctx, e.act, crm.Fields{"name": "Gold", "employees": 3.0, "custom": map[string]any{"tier": "gold"}})
	if err != nil || a.Segment != "vip" || a.Motion != "high_touch" {
		t.Fatalf("stored rules: %+v %v", a, err)
	}
	ds := e.decisions(t, a.ID)
	if len(ds) != 1 || ds[0].SegmentRuleID == nil || *ds[0].SegmentRuleID != set.SegmentRules[0].ID || ds[0].RoutingRuleID == nil || *ds[0].RoutingRuleID != set.RoutingRules[0].ID ||
		ds[0].Team != "strategic" || ds[0].Reason != "custom.tier gold = gold → vip (segment rule 1); vip → high_touch (routing rule 1)" {
		t.Fatalf("decision: %+v", ds)
	}
	var inputs map[string]any
	if err := json.Unmarshal(ds[0].Inputs, &inputs); err != nil || inputs["custom.tier"] != "gold" || inputs["employees"] != 3.0 {
		t.Fatalf("inputs %s", ds[0].Inputs)
	}
	ex, err := e.router.Explain(ctx, e.ws, a.ID)
	if err != nil || ex.Segment != "vip" || ex.Reason != ds[0].Reason {
		t.Fatalf("explain: %+v %v", ex, err)
	}
	audit, err := st.Read().ListAudit(ctx, e.ws, 10)
	if err != nil || len(audit) == 0 || audit[0].Action != "routing_rules_update" {
		t.Fatalf("audit: %+v %v", audit, err)
	}
	// Empty lists return the workspace to the defaults.
	if _, err := e.router.SaveRules(ctx, e.act, routing.RuleSet{}); err != nil {
		t.Fatal(err)
	}
	if set, _ := e.router.Rules(ctx, e.ws); !set.DefaultSegmentRules || !set.DefaultRoutingRules {
		t.Fatalf("reset: %+v", set)
	}
}

// Rules of workspace A never apply to B, and B cannot read A's decisions.
func testIsolation(t *testing.T, st *store.Store) {
	ctx := context.Background()
	a, b := newEnv(t, st), newEnv(t, st)
	_, err := a.router.SaveRules(ctx, a.act, routing.RuleSet{SegmentRules: []model.SegmentRule{
		{Segment: "enterprise", Conditions: []routing.Condition{cond("employees", "gte", 10)}},
		catchAll("smb"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	// One service for both workspaces, one transaction each: no rules leak
	// through its per-transaction cache either.
	b.router, b.crm = a.router, &crm.Service{St: st, Router: a.router}
	inA, err := a.crm.CreateAccount(ctx, a.act, crm.Fields{"name": "Fifty", "employees": 50.0})
	if err != nil {
		t.Fatal(err)
	}
	inB, err := b.crm.CreateAccount(ctx, b.act, crm.Fields{"name": "Fifty", "employees": 50.0})
	if err != nil {
		t.Fatal(err)
	}
	if inA.Segment != "enterprise" || inA.Motion != "high_touch" || inB.Segment != "smb" || inB.Motion != "digital" {
		t.Fatalf("A %s/%s, B %s/%s", inA.Segment, inA.Motion, inB.Segment, inB.Motion)
	}
	var both []model.Account
	err = st.InTx(ctx, func(q store.Q) error {
		for _, e := range []*env{a, b} {
			acct := model.Account{Name: "Same tx", Currency: "USD", Employees: ptr[int64](50)}
			after, err := a.router.Route(ctx, q, e.ws, nil, &acct, "test")
			if err != nil {
				return err
			}
			if err := q.CreateAccount(ctx, e.ws, &acct); err != nil {
				return err
			}
			if err := after(); err != nil {
				return err
			}
			both = append(both, acct)
		}
		return nil
	})
	if err != nil || both[0].Segment != "enterprise" || both[1].Segment != "smb" {
		t.Fatalf("same transaction: %+v %v", both, err)
	}
	if _, err := b.router.Decisions(ctx, b.ws, inA.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("B reads A's decisions: %v", err)
	}
	if ds, err := st.Read().RoutingDecisions(ctx, b.ws, inA.ID, 0); err != nil || len(ds) != 0 {
		t.Fatalf("store leaks decisions: %+v %v", ds, err)
	}
	if set, _ := b.router.Rules(ctx, b.ws); !set.DefaultSegmentRules {
		t.Fatalf("B sees A's rules: %+v", set)
	}
	// Flagging deals through B's workspace touches none of A's.
	d := a.deal(t, inA.ID, "A deal", nil)
	if n, err := st.Read().FlagOpenDeals(ctx, b.ws, inA.ID, "x"); err == nil && n != 0 {
		t.Fatalf("flagged %d deals across workspaces", n)
	}
	if err := st.InTx(ctx, func(q store.Q) error {
		n, err := q.FlagOpenDeals(ctx, b.ws, inA.ID, "x")
		if err == nil && n != 0 {
			return fmt.Errorf("flagged %d deals across workspaces", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Read().GetDeal(ctx, a.ws, d.ID); got.NeedsReview {
		t.Fatal("A's deal flagged from B")
	}
}

// expected_acv is the largest open deal of the account.
func testExpectedACV(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	_, err := e.router.SaveRules(ctx, e.act, routing.RuleSet{SegmentRules: []model.SegmentRule{
		{Segment: "enterprise", Conditions: []routing.Condition{cond("expected_acv", "gte", 50_000_00)}},
		catchAll("smb"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.crm.CreateAccount(ctx, e.act, crm.Fields{"name": "Buyer"})
	if err != nil || a.Segment != "smb" {
		t.Fatalf("no deals: %+v %v", a, err)
	}
	e.deal(t, a.ID, "small", crm.Fields{"amount": 10_000_00.0})
	e.deal(t, a.ID, "big but lost", crm.Fields{"amount": 90_000_00.0, "outcome": "lost"})
	if a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"industry": "Retail"}); err != nil || a.Segment != "smb" {
		t.Fatalf("closed deals count: %+v %v", a, err)
	}
	e.deal(t, a.ID, "big", crm.Fields{"amount": 60_000_00.0})
	if a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"industry": "Retail"}); err != nil || a.Segment != "enterprise" {
		t.Fatalf("open deal of 60,000: %+v %v", a, err)
	}
	ds := e.decisions(t, a.ID)
	if ds[0].Reason != "expected_acv 60,000 USD ≥ 50,000 → enterprise (segment rule 1); enterprise → high_touch (default routing rule 3)" || string(ds[0].Inputs) != `{"expected_acv":6000000}` {
		t.Fatalf("decision: %+v %s", ds[0], ds[0].Inputs)
	}
}

// Imported accounts are routed in the batch transaction, and a re-import that
// changes firmographics re-routes them.
func testImport(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	imp := &importer.Service{St: st, CRM: e.crm, Router: e.router}
	run := func(csv string) model.Import {
		t.Helper()
		im, err := imp.CreateLocal(ctx, e.act, "accounts", "a.csv", strings.NewReader(csv), importer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if im, err = imp.Run(ctx, e.ws, im.ID, nil); err != nil {
			t.Fatal(err)
		}
		return im
	}
	im := run("Name,Domain,Employees,Segment\nSmall,small.test,12,\nMid,mid.test,450,\nBig,big.test,\"2,500\",\nNobody,nobody.test,,\nPinned,pinned.test,5,enterprise\n")
	if im.Accepted != 5 {
		t.Fatalf("import: %+v", im)
	}
	want := map[string][2]string{"small.test": {"smb", "digital"}, "mid.test": {"mid_market", "digital"}, "big.test": {"enterprise", "high_touch"}, "nobody.test": {"unknown", "digital"}, "pinned.test": {"enterprise", "high_touch"}}
	ids := map[string]int64{}
	for dom, w := range want {
		a, err := st.Read().AccountByDomain(ctx, e.ws, dom)
		if err != nil || a.Segment != w[0] || a.Motion != w[1] {
			t.Fatalf("%s: %s/%s %v, want %v", dom, a.Segment, a.Motion, err, w)
		}
		ids[dom] = a.ID
		ds := e.decisions(t, a.ID)
		if len(ds) != 1 || ds[0].TriggeredBy != fmt.Sprintf("import %d by %s", im.ID, e.act.Label) || ds[0].Manual != (dom == "pinned.test") {
			t.Fatalf("%s decisions: %+v", dom, ds)
		}
	}
	deal := e.deal(t, ids["small.test"], "Open", nil)
	im = run("Name,Domain,Employees\nSmall,small.test,1500\nMid,mid.test,460\nPinned,pinned.test,6\n")
	if im.Merged != 3 {
		t.Fatalf("reimport: %+v", im)
	}
	a, _ := st.Read().GetAccount(ctx, e.ws, ids["small.test"])
	ds := e.decisions(t, a.ID)
	if a.Segment != "enterprise" || len(ds) != 2 || ds[0].PreviousSegment != "smb" || !strings.HasPrefix(ds[0].TriggeredBy, "import ") {
		t.Fatalf("re-routed by import: %+v %+v", a, ds)
	}
	if got, _ := st.Read().GetDeal(ctx, e.ws, deal.ID); !got.NeedsReview {
		t.Fatal("import re-route did not flag the open deal")
	}
	for _, dom := range []string{"mid.test", "pinned.test"} {
		if ds := e.decisions(t, ids[dom]); len(ds) != 1 {
			t.Fatalf("%s: unchanged routing stored a decision: %+v", dom, ds)
		}
	}
}

// Without a Router, crm leaves segment and motion as given and stores nothing.
func testWithoutRouter(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	plain := &crm.Service{St: st}
	a, err := plain.CreateAccount(ctx, e.act, crm.Fields{"name": "Plain", "employees": 5000.0})
	if err != nil || a.Segment != "" || a.Motion != "" {
		t.Fatalf("%+v %v", a, err)
	}
	if ds := e.decisions(t, a.ID); len(ds) != 0 {
		t.Fatalf("decisions without a router: %+v", ds)
	}
	// The first routed write routes it.
	a, err = e.crm.UpdateAccount(ctx, e.act, a.ID, crm.Fields{"name": "Plain 2"})
	if err != nil || a.Segment != "enterprise" || len(e.decisions(t, a.ID)) != 1 {
		t.Fatalf("first routing of an old account: %+v %v", a, err)
	}
}

// A workspace with its own pipelines: routing rules may name them (and only
// them), and a pipeline that routing sends deals to cannot be dropped.
func testCustomPipelines(t *testing.T, st *store.Store) {
	ctx := context.Background()
	e := newEnv(t, st)
	pipes := &pipeline.Service{St: st}
	rules := routing.RuleSet{RoutingRules: []model.RoutingRule{
		{Segment: "enterprise", Motion: "high_touch", Pipeline: "enterprise_eu"},
		anyRoute("digital"),
	}}
	var fe *store.FieldError
	if _, err := e.router.SaveRules(ctx, e.act, rules); !errors.As(err, &fe) || fe.Field != "routing_rules[0].pipeline" || !strings.Contains(fe.Message, "(high_touch, digital)") {
		t.Fatalf("rule naming a pipeline the workspace lacks: %v", err)
	}
	ps := append(pipeline.Defaults(), model.PipelineDef{Key: "enterprise_eu", Name: "Enterprise EU", Stages: []model.StageDef{{Key: "suspect"}, {Key: "order"}}})
	if _, err := pipes.Save(ctx, e.act, ps); err != nil {
		t.Fatal(err)
	}
	saved, err := e.router.SaveRules(ctx, e.act, rules)
	if err != nil || saved.RoutingRules[0].Pipeline != "enterprise_eu" {
		t.Fatalf("rule naming the workspace's pipeline: %+v %v", saved, err)
	}
	// Dropping the routed pipeline is refused, naming the rule.
	if _, err := pipes.Save(ctx, e.act, pipeline.Defaults()); !errors.As(err, &fe) || fe.Field != "pipelines" || !strings.Contains(fe.Message, `routing rule 1 sends the high_touch motion to the "enterprise_eu" pipeline`) {
		t.Fatalf("dropping a routed pipeline: %v", err)
	}
	// Once no rule names it, it may go.
	if _, err := e.router.SaveRules(ctx, e.act, routing.RuleSet{DefaultRoutingRules: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := pipes.Save(ctx, e.act, pipeline.Defaults()); err != nil {
		t.Fatalf("dropping a pipeline no rule uses: %v", err)
	}
}
