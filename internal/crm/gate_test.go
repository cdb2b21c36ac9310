package crm_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func messages(err error) []string {
	var ge *model.GateError
	if !errors.As(err, &ge) {
		return nil
	}
	var out []string
	for _, u := range ge.Unmet {
		out = append(out, u.Stage+"/"+u.Code+": "+u.Message)
	}
	return out
}

// TestGateEveryCrmPath: the API/UI path (UpdateDeal) and the automation path
// (UpdateDealIn inside a caller's transaction, as the nurture engine would
// set a field) refuse the same move with the same criteria and write nothing;
// an admin override goes through, audited and in the deal history; a
// non-admin cannot override; stage history records every stay.
func TestGateEveryCrmPath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := model.Workspace{Name: "W", Slug: "w", Currency: "EUR"}
		if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
			t.Fatal(err)
		}
		s := &crm.Service{St: st}
		ae := model.Actor{Workspace: w.ID, Label: "user:ae@x.io", Role: model.RoleAE}
		admin := model.Actor{Workspace: w.ID, Label: "user:admin@x.io", Role: model.RoleAdmin}
		d, err := s.CreateDeal(ctx, ae, crm.Fields{"name": "Gated", "pipeline": "high_touch", "stage": "approach"})
		if err != nil {
			t.Fatal(err)
		}
		if d.NeedsReview {
			t.Fatalf("suspect and prospect have no gates; flagged: %+v", d)
		}
		api := messages(func() error { _, err := s.UpdateDeal(ctx, ae, d.ID, crm.Fields{"stage": "negotiation"}); return err }())
		want := []string{"approach/required_field: amount is required to leave Approach", "approach/activity: a demo activity is required to leave Approach"}
		if !slices.Equal(api, want) {
			t.Fatalf("UpdateDeal refusal %v, want %v", api, want)
		}
		var job []string
		err = st.InTx(ctx, func(q store.Q) error {
			_, err := s.UpdateDealIn(ctx, q, model.Actor{Workspace: w.ID, Label: "job:nurture"}, d.ID, crm.Fields{"stage": "negotiation"})
			job = messages(err)
			return err
		})
		if !slices.Equal(job, api) {
			t.Fatalf("automation refusal %v differs from the API's %v", job, api)
		}
		got, _ := st.Read().GetDeal(ctx, w.ID, d.ID)
		if got.Stage != "approach" {
			t.Fatalf("a refused move was written: %+v", got)
		}
		// Non-admins cannot override.
		_, err = s.UpdateDeal(ctx, ae, d.ID, crm.Fields{"stage": "negotiation", "override_reason": "trust me"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "override_reason" {
			t.Fatalf("ae override: %v", err)
		}
		// An admin's override is audited and in the history.
		d2, err := s.UpdateDeal(ctx, admin, d.ID, crm.Fields{"stage": "negotiation", "override_reason": "Demo held at the trade show"})
		if err != nil || d2.Stage != "negotiation" {
			t.Fatalf("admin override: %+v %v", d2, err)
		}
		audit, err := st.Read().ListAudit(ctx, w.ID, 10)
		if err != nil || len(audit) == 0 || audit[0].Action != "deal_gate_override" || !strings.Contains(string(audit[0].Detail), "Demo held at the trade show") || !strings.Contains(string(audit[0].Detail), `"code":"activity"`) {
			t.Fatalf("audit %+v %v", audit, err)
		}
		hist, err := st.Read().History(ctx, w.ID, "deal", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, h := range hist {
			actions = append(actions, h.Action)
		}
		if !slices.Contains(actions, "gate_override") {
			t.Fatalf("history %v", actions)
		}
		stays, err := st.Read().StageHistory(ctx, w.ID, d.ID)
		if err != nil || len(stays) != 2 || stays[0].Stage != "approach" || stays[0].LeftBy != "user:admin@x.io" || stays[1].Stage != "negotiation" || stays[1].Override != "Demo held at the trade show" || stays[1].LeftAt != nil {
			b, _ := json.Marshal(stays)
			t.Fatalf("stage history %s %v", b, err)
		}
		// Lost from any stage without gates; reopening in place moves nothing.
		if _, err := s.UpdateDeal(ctx, ae, d.ID, crm.Fields{"stage": "close", "outcome": "lost", "loss_reason": "budget"}); err != nil {
			t.Fatalf("lost: %v", err)
		}
		// Winning counts as reaching the last stage: Close's committee gate applies.
		_, err = s.UpdateDeal(ctx, ae, d.ID, crm.Fields{"outcome": "won"})
		if m := messages(err); len(m) == 0 || !strings.Contains(strings.Join(m, "|"), "close/committee_role") {
			t.Fatalf("won without sign-offs: %v", err)
		}
		// An unknown stage names the workspace's stages.
		_, err = s.UpdateDeal(ctx, ae, d.ID, crm.Fields{"stage": "trial"})
		if !errors.As(err, &fe) || fe.Field != "stage" || !strings.Contains(fe.Message, "suspect, prospect") {
			t.Fatalf("unknown stage: %v", err)
		}
	})
}
