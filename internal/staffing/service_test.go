package staffing_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

var seq atomic.Int64

func newWS(t *testing.T, st *store.Store) model.Actor {
	t.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: "W", Slug: fmt.Sprintf("w-%d", seq.Add(1)), Currency: "USD"}
	if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	return model.Actor{Label: "test", Workspace: w.ID, Role: model.RoleAdmin}
}

var now = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// funnelData gives ws 40 digital contacts that reached sql in the last year:
// 20 went on to opportunity and 5 of those to customer (sql → opportunity
// 50 %, opportunity → customer 25 %: SQL → won 12.5 %).
func funnelData(t *testing.T, st *store.Store, ws int64) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(q store.Q) error {
		acct := model.Account{Name: "Digital Co", Motion: "digital", Currency: "USD"}
		if err := q.CreateAccount(ctx, ws, &acct); err != nil {
			return err
		}
		for i := range 40 {
			path := []string{"lead", "mql", "sql"}
			if i < 20 {
				path = append(path, "opportunity")
			}
			if i < 5 {
				path = append(path, "customer")
			}
			c := model.Contact{Email: fmt.Sprintf("c%d@digital.example", i), AccountID: &acct.ID, LifecycleStage: path[len(path)-1]}
			if err := q.CreateContact(ctx, ws, &c); err != nil {
				return err
			}
			at := now.AddDate(0, -6, 0)
			if err := q.SetContactCreatedAt(ctx, ws, c.ID, at); err != nil {
				return err
			}
			for k := 1; k < len(path); k++ {
				at = at.Add(72 * time.Hour)
				d := map[string]any{"fields": []string{"lifecycle_stage"}, "lifecycle_stage": []string{path[k-1], path[k]}}
				if err := q.AddHistoryAt(ctx, ws, "contact", c.ID, "updated", d, "test", at); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScenarioService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		econ := &economics.Service{St: st}
		svc := &staffing.Service{St: st, Econ: econ, Now: func() time.Time { return now }}
		a, b := newWS(t, st), newWS(t, st)

		// The article example: the 2× LDR profile (106,000 a year) and two scenarios.
		made, err := svc.AddArticleExample(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if len(made) != 2 || made[0].Kind != staffing.InHouse || made[1].Kind != staffing.Partner {
			t.Fatalf("example %+v", made)
		}
		again, err := svc.AddArticleExample(ctx, a)
		if err != nil || len(again) != 0 {
			t.Fatalf("a second example run should keep the first: %v %+v", err, again)
		}
		profiles, _ := econ.Profiles(ctx, a.Workspace)
		if len(profiles) != 1 || profiles[0].Cost.Annual != 10_600_000 || profiles[0].LoadedMultiplier == nil || profiles[0].BenefitsRate != nil {
			t.Fatalf("example profile %+v", profiles)
		}

		// With too little funnel data the configured 20 % is used, and said so.
		cmp, err := svc.Comparison(ctx, a.Workspace)
		if err != nil {
			t.Fatal(err)
		}
		p0 := cmp.Plans[0]
		if p0.Conversion.Source != "configured" || *p0.Conversion.SQLToWon != 0.2 || !strings.Contains(p0.Conversion.Detail, "0 SQLs") {
			t.Errorf("conversion %+v", p0.Conversion)
		}
		// 2 reps × 10,600,000 ÷ 12 = 1,766,666.67 a month from month 3 (2 months to hire).
		if p0.Months[1].Cost != 0 || p0.Months[2].Cost != 1_766_667 || p0.GrossMargin != 0.8 {
			t.Errorf("in-house months %+v %+v (gm %v)", p0.Months[1], p0.Months[2], p0.GrossMargin)
		}
		if r := p0.Summary.PerRep; r == nil || r.ProductiveMonths != 12.5 {
			t.Errorf("article P (tenure 14, ramp 3 at 50 %%) = %+v, want 12.5", r)
		}

		// With the workspace's own funnel, its rate replaces the configured one.
		funnelData(t, st, a.Workspace)
		conv, err := svc.Conversion(ctx, a.Workspace, "digital", ptr(0.2))
		if err != nil {
			t.Fatal(err)
		}
		if conv.Source != "workspace_data" || conv.SQLToWon == nil || *conv.SQLToWon != 0.125 || !strings.Contains(conv.Detail, "20 of 40") {
			t.Errorf("conversion from data %+v", conv)
		}
		if conv, _ := svc.Conversion(ctx, a.Workspace, "high_touch", nil); conv.Source != "none" || conv.SQLToWon != nil {
			t.Errorf("high_touch has no data: %+v", conv)
		}

		// A profile of another workspace is refused like an unknown one.
		in := staffing.Input{Name: "Mine", Kind: staffing.InHouse, Params: made[0].Params}
		_, err = svc.Create(ctx, b, in)
		wantField(t, err, "cost_profile_id")
		if _, err := svc.Get(ctx, b.Workspace, made[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B reads A's scenario: %v", err)
		}
		if _, err := svc.Replace(ctx, b, made[0].ID, staffing.Input{Name: "x", Kind: staffing.Partner, Params: made[1].Params}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B replaces A's scenario: %v", err)
		}
		if err := svc.Delete(ctx, b, made[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B deletes A's scenario: %v", err)
		}

		// A profile moved to another currency is not mixed into the scenario's amounts.
		pin := staffing.ArticleProfile("EUR")
		if _, err := econ.ReplaceProfile(ctx, a, profiles[0].ID, pin); err != nil {
			t.Fatal(err)
		}
		sc0, _ := svc.Get(ctx, a.Workspace, made[0].ID)
		if p, err := svc.Plan(ctx, a.Workspace, sc0); err != nil || !strings.Contains(p.Problem, "EUR") || len(p.Months) != 0 {
			t.Errorf("plan with a profile in another currency: %v %+v", err, p.Problem)
		}
		// Deleting the profile leaves the scenario with a problem, not made-up costs.
		if err := econ.DeleteProfile(ctx, a, profiles[0].ID); err != nil {
			t.Fatal(err)
		}
		sc, _ := svc.Get(ctx, a.Workspace, made[0].ID)
		p, err := svc.Plan(ctx, a.Workspace, sc)
		if err != nil || p.Problem == "" || len(p.Months) != 0 {
			t.Errorf("plan without its profile: %v %+v", err, p)
		}
	})
}

// A partner scenario linked to a partner record plans with the partner's
// terms always, and with its actual delivery once it has a full month: here
// 2 partner reps delivered 6 meetings and 3 accepted SQLs over March–May
// (2 meetings and 1 SQL a month: 1 meeting and 0.5 SQLs per rep). Month 1 of
// the plan (no lead time, no ramp) then costs setup 2,500 + retainer 4,000 +
// 2 × 150 + 1 × 400 + 1 × 50 % won × 1,000 + management 500 = 8,200.00.
// The actual cost per SQL is (statements 7,200 + 4,700 + 4,700 + management
// 3 × 500) ÷ 3 SQLs = 6,033.33.
func TestPlannerUsesPartnerActuals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		econ := &economics.Service{St: st}
		clock := now // mid-June: March–May are full months
		ps := &partners.Service{St: st, Econ: econ, Now: func() time.Time { return clock }}
		svc := &staffing.Service{St: st, Econ: econ, Partners: ps, Now: func() time.Time { return clock }}
		a, b := newWS(t, st), newWS(t, st)
		var reps [2]int64
		var contact int64
		err := st.InTx(ctx, func(q store.Q) error {
			for i := range reps {
				u := model.User{Email: fmt.Sprintf("rep%d-%d@partner.example", i, seq.Add(1))}
				if err := q.CreateUser(ctx, &u); err != nil {
					return err
				}
				if err := q.SetMembership(ctx, a.Workspace, u.ID, model.RolePartner); err != nil {
					return err
				}
				reps[i] = u.ID
			}
			c := model.Contact{Email: "buyer@buyer.example", LifecycleStage: "sql", Custom: model.Custom{}}
			if err := q.CreateContact(ctx, a.Workspace, &c); err != nil {
				return err
			}
			contact = c.ID
			for k := range 6 {
				at := time.Date(2026, time.Month(3+k/2), 10+k, 10, 0, 0, 0, time.UTC)
				act := model.Activity{Kind: "meeting", Subject: "Intro", OccurredAt: at, OwnerID: &reps[k%2], ContactID: &c.ID, Participants: []string{}, Custom: model.Custom{}}
				if err := q.CreateActivity(ctx, a.Workspace, &act); err != nil {
					return err
				}
			}
			for k := range 4 {
				created := time.Date(2026, time.Month(3+k), 5, 10, 0, 0, 0, time.UTC)
				decided := created.Add(48 * time.Hour)
				h := model.Handoff{ContactID: contact, FromUserID: &reps[k%2], Kind: "ldr_to_ae", CreatedAt: created, Decision: model.HandoffAccepted, DecidedAt: &decided}
				if k == 3 { // June: not a full month yet
					h.Decision, h.DecidedAt = model.HandoffPending, nil
				}
				if err := q.InsertHandoffAt(ctx, a.Workspace, &h); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pr, err := ps.Create(ctx, a, partners.Input{Name: "Acme SDR Co", StartMonth: "2026-03", UserIDs: reps[:],
			PartnerTerms: model.PartnerTerms{RetainerMonthly: 400_000, FeePerMeeting: 15_000, FeePerSQL: 40_000, FeePerWon: 100_000, SetupFee: 250_000, ManagementMonthly: 50_000}})
		if err != nil {
			t.Fatal(err)
		}
		in := staffing.Input{Name: "Acme, measured", Kind: staffing.Partner, Params: staffing.Params{Reps: 2, MeetingsPerMonth: 12, SQLsPerMonth: 6,
			SQLToWon: ptr(0.5), RetainerMonthly: 1, RampCurve: []float64{}, PartnerID: &pr.ID}}
		sc, err := svc.Create(ctx, a, in)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := svc.Plan(ctx, a.Workspace, sc)
		if err != nil {
			t.Fatal(err)
		}
		as := plan.Assumptions
		if as.Source != staffing.Actual || as.Months != 3 || as.MeetingsPerMonth != 1 || as.SQLsPerMonth != 0.5 || !strings.Contains(as.Detail, "actual from 3 months") {
			t.Fatalf("assumptions %+v", as)
		}
		if as.ActualCostPerSQL == nil || math.Abs(*as.ActualCostPerSQL-(720_000+470_000+470_000+150_000)/3.0) > 1e-6 {
			t.Errorf("actual cost per SQL %v", as.ActualCostPerSQL)
		}
		if plan.Months[0].Cost != 820_000 || plan.Months[1].Cost != 570_000 {
			t.Errorf("month costs %d, %d; want 820000, 570000", plan.Months[0].Cost, plan.Months[1].Cost)
		}
		if plan.Summary.SQLs != 24 {
			t.Errorf("24 months × 1 SQL = %v", plan.Summary.SQLs)
		}

		// Before any month has ended, the scenario's own rates are used, with
		// the partner's terms, and the plan says so.
		clock = time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
		plan, _ = svc.Plan(ctx, a.Workspace, sc)
		if plan.Assumptions.Source != staffing.Assumed || plan.Assumptions.SQLsPerMonth != 6 || !strings.Contains(plan.Assumptions.Detail, "no full month") {
			t.Errorf("early assumptions %+v", plan.Assumptions)
		}
		clock = now
		// Without a link, the assumptions: 12 meetings and 6 SQLs per rep.
		in.PartnerID = nil
		plain, _ := svc.Create(ctx, a, staffing.Input{Name: "Unlinked", Kind: staffing.Partner, Params: in.Params})
		if p, _ := svc.Plan(ctx, a.Workspace, plain); p.Assumptions.Source != staffing.Assumed || p.Months[0].Meetings != 24 {
			t.Errorf("unlinked %+v %+v", p.Assumptions, p.Months[0])
		}
		// Another workspace's partner cannot be linked; in-house scenarios take none.
		in.PartnerID = &pr.ID
		_, err = svc.Create(ctx, b, in)
		wantField(t, err, "partner_id")
		// The comparison carries the switch too.
		cmp, err := svc.Comparison(ctx, a.Workspace)
		if err != nil || cmp.Plans[0].Assumptions.Source != staffing.Actual {
			t.Errorf("comparison %v %+v", err, cmp.Plans[0].Assumptions)
		}
		// A deleted partner leaves a problem, not made-up costs.
		if err := ps.Delete(ctx, a, pr.ID); err != nil {
			t.Fatal(err)
		}
		if p, _ := svc.Plan(ctx, a.Workspace, sc); p.Problem == "" || len(p.Months) != 0 {
			t.Errorf("plan without its partner %+v", p.Problem)
		}
	})
}
