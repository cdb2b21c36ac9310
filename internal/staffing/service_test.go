package staffing_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
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
