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
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// testPartnersUI (a part of TestEconomicsUI, sharing its app) drives the
// partner pages and the AE's decision on the deal page without a browser: who
// may see them, the form's inline errors, and a statement that follows a
// meeting and an accepted SQL.
func testPartnersUI(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	for _, role := range []string{model.RoleAE, model.RoleLDR, model.RoleCSM, model.RolePartner} {
		c := e.Browser(t, e.A.Users[role].Email)
		ok(t, get(t, e, c, "/economics/partners"), http.StatusForbidden, "Not allowed")
		ok(t, post(t, e, c, "/economics/partners", url.Values{"name": {"x"}, "start_month": {"2026-01"}}), http.StatusForbidden)
	}
	// The partner role works its own leads only (store.Scope; the whole matrix
	// is internal/security's): another member's lead is a 404 and absent from
	// its lists and desk, and economics, settings, deals and imports are 403.
	partner := e.Browser(t, e.A.Users[model.RolePartner].Email)
	var own, other model.Contact
	err := e.App.St.InTx(ctx, func(q store.Q) error {
		pid, lid := e.A.Users[model.RolePartner].ID, e.A.Users[model.RoleLDR].ID
		own = model.Contact{Email: "own-lead@partner.example", LifecycleStage: "mql", OwnerID: &pid, Custom: model.Custom{}}
		other = model.Contact{Email: "ldr-lead@partner.example", LifecycleStage: "mql", OwnerID: &lid, Custom: model.Custom{}}
		if err := q.CreateContact(ctx, e.A.ID, &own); err != nil {
			return err
		}
		return q.CreateContact(ctx, e.A.ID, &other)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/contacts", "/desk"} {
		r := get(t, e, partner, path)
		ok(t, r, 200, "own-lead@partner.example")
		if strings.Contains(r.Body, "ldr-lead@partner.example") {
			t.Errorf("%s shows the partner another member's lead", path)
		}
	}
	ok(t, get(t, e, partner, fmt.Sprintf("/contacts/%d", own.ID)), 200, "own-lead@partner.example")
	ok(t, get(t, e, partner, fmt.Sprintf("/contacts/%d", other.ID)), http.StatusNotFound)
	if r := get(t, e, partner, "/"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/desk" {
		t.Errorf("a partner's home: %d to %q, want 303 to its desk", r.Status, r.Header.Get("Location"))
	}
	ok(t, get(t, e, partner, "/settings/password"), 200)
	for _, path := range []string{"/economics", "/settings", "/settings/routing", "/deals", "/imports", "/pipeline"} {
		ok(t, get(t, e, partner, path), http.StatusForbidden, "Not allowed")
	}
	ok(t, get(t, e, admin, "/economics/partners"), 200, "No partners yet", `href="/economics/partners" aria-current="page"`, `name="user_ids"`)

	rep, ae := e.A.Users[model.RolePartner], e.A.Users[model.RoleAE]
	thisMonth := time.Now().UTC().Format("2006-01")
	form := url.Values{"name": {"Acme SDR Co"}, "start_month": {"2026-1"}, "retainer_monthly": {"4,000"}, "fee_per_meeting": {"150"}, "fee_per_sql": {"400"},
		"user_ids": {fmt.Sprint(e.A.Users[model.RoleLDR].ID)}}
	ok(t, post(t, e, admin, "/economics/partners", form), http.StatusUnprocessableEntity, `id="new-start_month-err"`)
	form.Set("start_month", thisMonth)
	ok(t, post(t, e, admin, "/economics/partners", form), http.StatusUnprocessableEntity, `id="new-user_ids-err"`, "only members with the role partner")
	form.Set("user_ids", fmt.Sprint(rep.ID))
	form.Set("fee_per_sql", "four hundred")
	ok(t, post(t, e, admin, "/economics/partners", form), http.StatusUnprocessableEntity, `id="new-fee_per_sql-err"`)
	form.Set("fee_per_sql", "400")
	r := post(t, e, admin, "/economics/partners", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.Status, snippet(r.Body))
	}
	loc := r.Header.Get("Location")
	ps, err := e.App.Partners.List(ctx, e.A.ID)
	if err != nil || len(ps) != 1 || ps[0].RetainerMonthly != 400_000 || len(ps[0].UserIDs) != 1 || ps[0].UserIDs[0] != rep.ID {
		t.Fatalf("stored %v %+v", err, ps)
	}
	pid := ps[0].ID
	if !strings.HasPrefix(loc, fmt.Sprintf("/economics/partners/%d", pid)) {
		t.Errorf("Location %q", loc)
	}

	// The rep's meeting and SQL this month; the AE accepts on the deal page.
	var deal, handoff int64
	err = e.App.St.InTx(ctx, func(q store.Q) error {
		c := model.Contact{Email: "bea@buyer.example", LifecycleStage: "sql", Custom: model.Custom{}}
		if err := q.CreateContact(ctx, e.A.ID, &c); err != nil {
			return err
		}
		a := model.Activity{Kind: "meeting", Subject: "Intro with Bea", OccurredAt: time.Now().UTC(), OwnerID: &rep.ID, ContactID: &c.ID, Participants: []string{}, Custom: model.Custom{}}
		if err := q.CreateActivity(ctx, e.A.ID, &a); err != nil {
			return err
		}
		d := model.Deal{Name: "Bea's bakery — Starter", Amount: 120_000, Currency: "USD", Pipeline: "digital", Stage: "qualified", OwnerID: &ae.ID, Custom: model.Custom{}}
		if err := q.CreateDeal(ctx, e.A.ID, &d); err != nil {
			return err
		}
		h := model.Handoff{ContactID: c.ID, DealID: &d.ID, FromUserID: &rep.ID, ToUserID: &ae.ID, Kind: "ldr_to_ae", CreatedAt: time.Now().UTC()}
		if err := q.InsertHandoffAt(ctx, e.A.ID, &h); err != nil {
			return err
		}
		deal, handoff = d.ID, h.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/economics/partners/%d?month=%s", pid, thisMonth)
	// 4,000 + 1 × 150; the SQL awaits the AE.
	ok(t, get(t, e, admin, page), 200, "Acme SDR Co", "$4,150.00", "Awaiting an AE", "Intro with Bea", "no full month")
	ldr := e.Browser(t, e.A.Users[model.RoleLDR].Email)
	dealPath := fmt.Sprintf("/deals/%d", deal)
	if r := get(t, e, ldr, dealPath); strings.Contains(r.Body, "Accept SQL") {
		t.Errorf("an LDR sees the accept button")
	}
	ok(t, post(t, e, ldr, fmt.Sprintf("/deals/%d/handoffs/%d/accept", deal, handoff), nil), http.StatusForbidden)
	aeC := e.Browser(t, ae.Email)
	ok(t, get(t, e, aeC, dealPath), 200, "Accept SQL", "Awaiting the AE")
	ok(t, post(t, e, aeC, fmt.Sprintf("/deals/%d/handoffs/%d/reject", deal, handoff), url.Values{"note": {""}}), http.StatusUnprocessableEntity, "is required when rejecting")
	// Another deal's path with this handoff answers 404.
	ok(t, post(t, e, aeC, fmt.Sprintf("/deals/%d/handoffs/%d/accept", deal+1000, handoff), nil), http.StatusNotFound)
	ok(t, post(t, e, aeC, fmt.Sprintf("/deals/%d/handoffs/%d/accept", deal, handoff), nil), http.StatusSeeOther)
	ok(t, get(t, e, aeC, dealPath+"?notice=accepted"), 200, "SQL accepted", "it counts as delivered")
	// Accepted: 4,000 + 150 + 400 = 4,550.00, the SQL traced to its deal.
	ok(t, get(t, e, admin, page), 200, "$4,550.00", "1 × $400.00", fmt.Sprintf(`href="/deals/%d"`, deal))
	ok(t, get(t, e, admin, "/economics/partners"), 200, "Acme SDR Co", "$4,550.00")

	// Save with an error, then a good one; another workspace's id is a 404.
	ok(t, post(t, e, admin, fmt.Sprintf("/economics/partners/%d", pid), url.Values{"name": {""}, "start_month": {thisMonth}}), http.StatusUnprocessableEntity, `id="edit-name-err"`)
	ok(t, post(t, e, admin, fmt.Sprintf("/economics/partners/%d", pid), url.Values{"name": {"Acme SDR Co"}, "start_month": {thisMonth}, "fee_per_sql": {"500"}, "user_ids": {fmt.Sprint(rep.ID)}}), http.StatusSeeOther)
	ok(t, get(t, e, admin, page), 200, "$500.00", "1 × $500.00")
	b := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, b, fmt.Sprintf("/economics/partners/%d", pid)), http.StatusNotFound)
	ok(t, post(t, e, b, fmt.Sprintf("/economics/partners/%d/delete", pid), nil), http.StatusNotFound)
	ok(t, post(t, e, admin, fmt.Sprintf("/economics/partners/%d/delete", pid), nil), http.StatusSeeOther)
	ok(t, get(t, e, admin, "/economics/partners"), 200, "No partners yet")
}
