package web_test

import (
	"context"
	"fmt"
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

func TestDesk(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		st := e.App.St
		ldr, ae := e.A.Users[model.RoleLDR], e.A.Users[model.RoleAE]
		err := st.InTx(ctx, func(q store.Q) error {
			p := model.Pool{Name: "AEs", Role: model.RoleAE, Capacity: 50}
			if err := q.CreatePool(ctx, e.A.ID, &p); err != nil {
				return err
			}
			return q.SetPoolMember(ctx, e.A.ID, model.PoolMember{PoolID: p.ID, UserID: ae.ID, Active: true})
		})
		if err != nil {
			t.Fatal(err)
		}
		act := actor(t, e, e.A)
		acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Desk Widgets", "employees": "40"})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(act model.Actor, email string, owner int64) model.Contact {
			t.Helper()
			f := crm.Fields{"email": email, "first_name": strings.Split(email, "@")[0], "lifecycle_stage": "mql", "owner_id": fmt.Sprint(owner)}
			if act.Workspace == e.A.ID {
				f["account_id"] = fmt.Sprint(acct.ID)
			}
			c, err := e.App.CRM.CreateContact(ctx, act, f)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		qual := mk(act, "quinn@desk.example", ldr.ID)
		disq := mk(act, "dora@desk.example", ldr.ID)
		nurt := mk(act, "nate@desk.example", ldr.ID)
		call := mk(act, "cal@desk.example", ldr.ID)
		foreign := mk(actor(t, e, e.B), "bea@beta.example", e.B.Users[model.RoleLDR].ID)

		lc := e.Browser(t, ldr.Email)
		r := get(t, e, lc, "/desk")
		ok(t, r, http.StatusOK, "LDR desk", `href="/desk"`, "quinn", "Desk Widgets", fmt.Sprintf(`action="/desk/%d/qualify"`, qual.ID), "no_budget")
		if strings.Contains(r.Body, "bea@beta.example") || strings.Contains(r.Body, ">bea<") {
			t.Error("queue shows another workspace's contact")
		}
		// Any role can open the desk; only LDRs get it in the nav.
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, admin, "/desk"), http.StatusOK, "My queue")
		if r := get(t, e, admin, "/contacts"); strings.Contains(r.Body, `href="/desk"`) {
			t.Error("admin nav shows the LDR desk")
		}

		// Qualify: a missing answer is shown on its field.
		path := fmt.Sprintf("/desk/%d/qualify", qual.ID)
		r = post(t, e, lc, path, url.Values{"budget": {"20k"}, "authority": {"VP"}, "timeline": {"Q3"}})
		ok(t, r, http.StatusUnprocessableEntity, fmt.Sprintf(`id="qualify%d-need-err"`, qual.ID))
		r = post(t, e, lc, path, url.Values{"budget": {"20k"}, "authority": {"VP"}, "need": {"forecasting"}, "timeline": {"Q3"}, "note": {"Wants SSO; call before Friday"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/desk?notice=qualify" {
			t.Fatalf("qualify: %d %s\n%s", r.Status, r.Header.Get("Location"), snippet(r.Body))
		}
		ok(t, get(t, e, lc, "/desk?notice=qualify"), http.StatusOK, "Qualified")
		c, _ := st.Read().GetContact(ctx, e.A.ID, qual.ID)
		if c.LifecycleStage != "sql" {
			t.Errorf("stage %q", c.LifecycleStage)
		}
		deals, err := st.Read().ListDeals(ctx, e.A.ID, store.ListParams{Filters: []store.Filter{{Field: "account_id", Op: "eq", Value: fmt.Sprint(acct.ID)}}, Limit: 5}, nil)
		if err != nil || len(deals.Items) != 1 {
			t.Fatalf("deals %v %v", deals.Items, err)
		}
		d := deals.Items[0]
		if d.OwnerID == nil || *d.OwnerID != ae.ID || d.Pipeline != "digital" {
			t.Errorf("deal %+v", d)
		}
		// The AE sees the deal with the handoff note.
		ac := e.Browser(t, ae.Email)
		ok(t, get(t, e, ac, fmt.Sprintf("/deals/%d", d.ID)), http.StatusOK, "Handoff", "Wants SSO; call before Friday", "forecasting", ldr.Email)

		// Disqualify needs a listed reason.
		path = fmt.Sprintf("/desk/%d/disqualify", disq.ID)
		ok(t, post(t, e, lc, path, url.Values{"reason": {"meh"}}), http.StatusUnprocessableEntity, fmt.Sprintf(`id="disqualify%d-reason-err"`, disq.ID))
		r = post(t, e, lc, path, url.Values{"reason": {"no_budget"}, "note": {"frozen"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("disqualify: %d\n%s", r.Status, snippet(r.Body))
		}
		r = post(t, e, lc, fmt.Sprintf("/desk/%d/nurture", nurt.ID), url.Values{"note": {"next year"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("nurture: %d\n%s", r.Status, snippet(r.Body))
		}
		r = post(t, e, lc, fmt.Sprintf("/desk/%d/call", call.ID), url.Values{"subject": {"Intro"}, "duration_minutes": {"5"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("call: %d\n%s", r.Status, snippet(r.Body))
		}
		ok(t, post(t, e, lc, fmt.Sprintf("/desk/%d/meeting", call.ID), url.Values{"at": {"next tuesday"}}), http.StatusUnprocessableEntity, fmt.Sprintf(`id="meeting%d-at-err"`, call.ID))
		r = post(t, e, lc, fmt.Sprintf("/desk/%d/meeting", call.ID), url.Values{"at": {"2026-12-01T15:00"}, "subject": {"Demo booked"}})
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "notice=meeting") {
			t.Fatalf("meeting: %d %s\n%s", r.Status, r.Header.Get("Location"), snippet(r.Body))
		}
		acts, _ := st.Read().ListActivities(ctx, e.A.ID, store.ListParams{Limit: 50}, nil)
		met := false
		for _, a := range acts.Items {
			met = met || (a.Kind == "meeting" && a.Subject == "Demo booked" && a.ContactID != nil && *a.ContactID == call.ID && a.OccurredAt.Equal(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)))
		}
		if !met {
			t.Errorf("no meeting activity: %+v", acts.Items)
		}
		for id, want := range map[int64]string{disq.ID: "disqualified", nurt.ID: "nurture", call.ID: "mql"} {
			if c, _ := st.Read().GetContact(ctx, e.A.ID, id); c.LifecycleStage != want {
				t.Errorf("contact %d stage %q, want %q", id, c.LifecycleStage, want)
			}
		}
		r = get(t, e, lc, "/desk")
		ok(t, r, http.StatusOK, "cal", "Intro")
		if strings.Contains(r.Body, "dora@") || strings.Contains(r.Body, ">dora<") {
			t.Error("disqualified contact still in the queue")
		}

		// Foreign ids are 404 and change nothing.
		for _, a := range []string{"qualify", "disqualify", "nurture", "meeting", "call"} {
			r := post(t, e, lc, fmt.Sprintf("/desk/%d/%s", foreign.ID, a), url.Values{"budget": {"1"}, "authority": {"2"}, "need": {"3"}, "timeline": {"4"}, "reason": {"other"}})
			ok(t, r, http.StatusNotFound, "Page not found")
		}
		ok(t, post(t, e, lc, "/desk/abc/qualify", url.Values{}), http.StatusNotFound)
		if c, _ := st.Read().GetContact(ctx, e.B.ID, foreign.ID); c.LifecycleStage != "mql" {
			t.Errorf("foreign contact changed: %q", c.LifecycleStage)
		}

		// Workspace B has no AE pool: qualify says why and changes nothing.
		bc := e.Browser(t, e.B.Users[model.RoleLDR].Email)
		r = post(t, e, bc, fmt.Sprintf("/desk/%d/qualify", foreign.ID), url.Values{"budget": {"1"}, "authority": {"2"}, "need": {"3"}, "timeline": {"4"}})
		ok(t, r, http.StatusUnprocessableEntity, "No AE available", "no pool for role")
		if c, _ := st.Read().GetContact(ctx, e.B.ID, foreign.ID); c.LifecycleStage != "mql" {
			t.Errorf("contact changed without an AE: %q", c.LifecycleStage)
		}
		if strings.Contains(r.Body, "quinn") {
			t.Error("B's desk shows A's contacts")
		}
	})
}
