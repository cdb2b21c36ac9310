package web_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/pipeline"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// TestPipelineUI: a move the gates refuse answers the same unmet criteria on
// the deal form and the board as crm gives the API; the board, the deal
// page's checklist and committee grid, the stale filter and the settings page
// render; a move that meets its gates goes through.
func TestPipelineUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		act := actor(t, e, e.A)
		acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Globex Gates"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Globex — board deal", "pipeline": "high_touch", "stage": "close", "amount": 900000.0, "account_id": float64(acct.ID)})
		if err != nil {
			t.Fatal(err)
		}
		// Created past unmet gates: kept, flagged for review.
		if !d.NeedsReview || d.ReviewReason == "" {
			t.Fatalf("created at close without gates, not flagged: %+v", d)
		}
		// What crm (the API's path) refuses, with which messages.
		_, err = e.App.CRM.UpdateDeal(ctx, act, d.ID, crm.Fields{"stage": "order"})
		var ge *model.GateError
		if !errors.As(err, &ge) || len(ge.Unmet) != 3 {
			t.Fatalf("crm: %v", err)
		}
		c := e.Browser(t, e.A.Users[model.RoleAE].Email)
		// The deal form.
		r := post(t, e, c, fmt.Sprintf("/deals/%d", d.ID), url.Values{"name": {d.Name}, "pipeline": {"high_touch"}, "stage": {"order"}, "amount": {"9,000.00"}, "currency": {"USD"}})
		want := []string{}
		for _, u := range ge.Unmet {
			want = append(want, html.EscapeString(u.Message))
		}
		ok(t, r, http.StatusUnprocessableEntity, want...)
		// The board's move form.
		r = post(t, e, c, "/pipeline/move", url.Values{"deal_id": {fmt.Sprint(d.ID)}, "stage": {"order"}, "motion": {"high_touch"}})
		ok(t, r, http.StatusUnprocessableEntity, append(want, "Move refused")...)
		// The deal page says exactly what is missing to leave Close.
		ok(t, get(t, e, c, fmt.Sprintf("/deals/%d", d.ID)), 200, "Gate checklist", "To leave <strong>Close</strong> for Order", "0 of 6 required committee sign-offs approved to leave Close",
			"Buying committee", "No committee members yet.")

		// Six sign-offs through the deal page's committee form.
		roles := []string{"economic_buyer", "legal", "champion", "finance", "procurement", "executive_sponsor"}
		for i, role := range roles {
			ct, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": fmt.Sprintf("exec%d@globex-gates.example", i), "first_name": fmt.Sprintf("Exec%d", i), "last_name": "Globex", "account_id": float64(acct.ID)})
			if err != nil {
				t.Fatal(err)
			}
			r := post(t, e, c, fmt.Sprintf("/deals/%d/committee", d.ID), url.Values{"contact_id": {fmt.Sprint(ct.ID)}, "role": {role}, "signoff": {"approved"}, "note": {"signed"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("committee post %d: %s", r.Status, snippet(r.Body))
			}
		}
		r = post(t, e, c, fmt.Sprintf("/deals/%d/committee", d.ID), url.Values{"contact_id": {"abc"}})
		ok(t, r, http.StatusUnprocessableEntity, "Choose a contact.")
		ok(t, get(t, e, c, fmt.Sprintf("/deals/%d", d.ID)), 200, "Exec0 Globex", "Economic buyer", "Approved", "Every exit criterion of Close is met")
		r = post(t, e, c, "/pipeline/move", url.Values{"deal_id": {fmt.Sprint(d.ID)}, "stage": {"order"}, "motion": {"high_touch"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("allowed move: %d %s", r.Status, snippet(r.Body))
		}
		got, err := e.App.St.Read().GetDeal(ctx, e.A.ID, d.ID)
		if err != nil || got.Stage != "order" {
			t.Fatalf("after move: %+v %v", got, err)
		}
		hist, err := e.App.St.Read().StageHistory(ctx, e.A.ID, d.ID)
		if err != nil || len(hist) != 2 || hist[0].Stage != "close" || hist[0].LeftAt == nil || hist[1].Stage != "order" || hist[1].EnteredBy == "" {
			t.Fatalf("stage history %+v %v", hist, err)
		}

		// The board, and staleness under a clock 40 days on.
		if _, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Initech — quiet deal", "pipeline": "high_touch", "account_id": float64(acct.ID), "amount": 100.0}); err != nil {
			t.Fatal(err)
		}
		ok(t, get(t, e, c, "/pipeline?motion=high_touch"), 200, "High touch (SPANCO)", `data-stage="suspect"`, "Initech — quiet deal", "Globex Gates", "0 d in stage", "Move to")
		if got := get(t, e, c, "/pipeline?motion=high_touch").Body; containsAll(got, `data-stale`) {
			t.Errorf("a fresh deal is stale")
		}
		e.App.Pipeline.Now = func() time.Time { return store.Now().Add(40 * 24 * time.Hour) }
		defer func() { e.App.Pipeline.Now = nil }()
		ok(t, get(t, e, c, "/pipeline?motion=high_touch"), 200, "40 d in stage", `data-stale`)
		ok(t, get(t, e, c, "/deals?stale=true"), 200, "Initech — quiet deal", `id="f-stale" type="checkbox" name="stale" value="true" checked`)
		if got := get(t, e, c, "/deals?stale=true").Body; containsAll(got, "Globex — board deal") {
			t.Errorf("the stale filter lists a deal in order (never stale)")
		}
		// A call 35 days on (5 days before the clock) makes the quiet deal fresh again:
		// the filter runs in SQL against activities, not against a list of ids.
		quiet, err := e.App.St.Read().ListDeals(ctx, e.A.ID, store.ListParams{Query: "quiet deal"}, nil)
		if err != nil || len(quiet.Items) != 1 {
			t.Fatalf("quiet deal: %+v %v", quiet, err)
		}
		if _, err := e.App.CRM.CreateActivity(ctx, act, crm.Fields{"kind": "call", "deal_id": float64(quiet.Items[0].ID), "occurred_at": store.Now().Add(35 * 24 * time.Hour).Format(time.RFC3339)}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, e, c, "/deals?stale=true").Body; containsAll(got, "Initech — quiet deal") {
			t.Errorf("a deal with a call 5 days ago is listed as stale")
		}
		ok(t, get(t, e, c, "/pipeline?motion=digital"), 200, "Qualified", "Trial")
		ok(t, get(t, e, c, "/pipeline?motion=nope"), http.StatusNotFound)

		// Settings: linked from the hub; errors name the element.
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		// An admin overrides a refused move from the board with a reason; an AE cannot.
		ap, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Approach deal", "pipeline": "high_touch", "stage": "approach", "account_id": float64(acct.ID)})
		if err != nil {
			t.Fatal(err)
		}
		mv := url.Values{"deal_id": {fmt.Sprint(ap.ID)}, "stage": {"negotiation"}, "motion": {"high_touch"}, "override_reason": {"Demo held offline"}}
		ok(t, post(t, e, c, "/pipeline/move", mv), http.StatusUnprocessableEntity, "only an admin may override stage gates")
		ok(t, post(t, e, admin, "/pipeline/move", url.Values{"deal_id": {fmt.Sprint(ap.ID)}, "stage": {"negotiation"}, "motion": {"high_touch"}}), http.StatusUnprocessableEntity, `name="override_reason"`)
		if r := post(t, e, admin, "/pipeline/move", mv); r.Status != http.StatusSeeOther {
			t.Fatalf("admin override: %d %s", r.Status, snippet(r.Body))
		}
		audit, err := e.App.St.Read().ListAudit(ctx, e.A.ID, 5)
		if err != nil || len(audit) == 0 || audit[0].Action != "deal_gate_override" || !strings.Contains(string(audit[0].Detail), "Demo held offline") {
			t.Fatalf("override audit %+v %v", audit, err)
		}
		ok(t, get(t, e, admin, fmt.Sprintf("/deals/%d", ap.ID)), 200, "override", "Stage history")
		ok(t, get(t, e, admin, "/settings"), 200, `href="/settings/pipelines"`)
		ok(t, get(t, e, admin, "/settings/pipelines"), 200, "Pipelines and gates", "Suspect", "≥ 6 approved, Economic buyer, Legal", "contract_discussion")
		r = post(t, e, admin, "/settings/pipelines", url.Values{"pipelines": {`[{"key":"high_touch","stages":[{"key":"suspect","forecast_category":"maybe"}]},{"key":"digital","stages":[{"key":"qualified"}]}]`}})
		ok(t, r, http.StatusUnprocessableEntity, "pipelines[0].stages[0].forecast_category")
		r = post(t, e, c, "/settings/pipelines", url.Values{"pipelines": {`[]`}})
		ok(t, r, http.StatusForbidden)

		// The dashboard charts the workspace's own pipelines and stage names.
		ps := append(pipeline.Defaults(), model.PipelineDef{Key: "renewals", Name: "Renewals desk", Stages: []model.StageDef{{Key: "due", Name: "Due soon"}}})
		if _, err := e.App.Pipeline.Save(ctx, model.Actor{Workspace: e.A.ID, Label: "test", Role: model.RoleAdmin}, ps); err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Acme renewal", "pipeline": "renewals", "amount": 100.0}); err != nil {
			t.Fatal(err)
		}
		ok(t, get(t, e, admin, "/"), 200, "Open pipeline · Renewals desk", "Due soon", `/deals?outcome=open&amp;pipeline=renewals&amp;stage=due`)
	})
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
