package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// testDesk drives the LDR desk over the API: whose queue a credential reads,
// qualify (BANT → deal and handoff to an AE; no AE → 409 with nothing changed),
// disqualify, nurture, and the reasons report.
func (h *harness) testDesk(t *testing.T) {
	a := h.env.A
	ldr, ae := a.Users[model.RoleLDR], a.Users[model.RoleAE]
	admin, ldrKey := h.adminA(), a.Keys[model.RoleLDR]
	contact := func(stage string, owner int64) int64 {
		body := fmt.Sprintf(`{"email":"%s@desk.example","first_name":"Dee","lifecycle_stage":%q}`, uniq("desk"), stage)
		if owner != 0 {
			body = fmt.Sprintf(`{"email":"%s@desk.example","first_name":"Dee","lifecycle_stage":%q,"owner_id":%d}`, uniq("desk"), stage, owner)
		}
		return h.mk(t, admin, "contacts", body)
	}
	// A scheduling tool reports a booked meeting: an activity on the contact.
	booked := contact("mql", ldr.ID)
	act := h.want(t, http.StatusCreated, ldrKey, "POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", booked), `{"at":"2026-12-01T15:00:00Z","subject":"Intro call","note":"via the website"}`)
	if act["kind"] != "meeting" || act["subject"] != "Intro call" || act["occurred_at"] != "2026-12-01T15:00:00Z" || id(t, act, "contact_id") != booked {
		t.Errorf("meeting activity %v", act)
	}
	wantProblem(t, h.call(t, ldrKey, "POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", booked), `{"at":"soon"}`), http.StatusBadRequest, "at")
	stage := func(cid int64) string {
		s, _ := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/contacts/%d", cid), "")["lifecycle_stage"].(string)
		return s
	}
	inQueue := func(list []any, cid int64) bool {
		for _, x := range list {
			if id(t, x.(map[string]any)["contact"].(map[string]any), "id") == cid {
				return true
			}
		}
		return false
	}

	// Queue: a key that acts for a member reads that member's queue; a key
	// acting for no one (a workspace key, made from the CLI) must name whose.
	mine, free := contact("mql", ldr.ID), contact("mql", 0)
	if q := h.want(t, http.StatusOK, ldrKey, "GET", "/api/v1/desk/queue", ""); id(t, q, "user_id") != ldr.ID || !inQueue(q["mine"].([]any), mine) {
		t.Fatalf("the LDR key's own queue: %v", q)
	}
	wantProblem(t, h.call(t, ldrKey, "GET", fmt.Sprintf("/api/v1/desk/queue?user_id=%d", h.env.A.Users[model.RoleAE].ID), ""), http.StatusForbidden, "")
	_, unbound, err := h.env.App.Auth.CreateAPIKey(context.Background(), model.Actor{Workspace: a.ID, Label: "cli"}, "desk tool", model.RoleLDR)
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, h.call(t, unbound, "GET", "/api/v1/desk/queue", ""), http.StatusBadRequest, "user_id")
	wantProblem(t, h.call(t, unbound, "GET", fmt.Sprintf("/api/v1/desk/queue?user_id=%d", ldr.ID), ""), http.StatusForbidden, "")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/desk/queue?user_id=999999999", ""), http.StatusBadRequest, "user_id")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/desk/queue?user=1", ""), http.StatusBadRequest, "user")
	q := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/desk/queue?user_id=%d", ldr.ID), "")
	if id(t, q, "user_id") != ldr.ID || !inQueue(q["mine"].([]any), mine) || !inQueue(q["unassigned"].([]any), free) || inQueue(q["mine"].([]any), free) {
		t.Fatalf("ldr's queue read by admin key: %v", q)
	}
	// A signed-in LDR reads their own queue without naming themselves.
	tok := h.sessionToken(t, ldr.Email)
	req := h.request(t, "", "GET", "/api/v1/desk/queue", "")
	req.AddCookie(&http.Cookie{Name: "rs_session", Value: tok})
	res := h.do(t, req)
	if res.Status != http.StatusOK {
		t.Fatalf("queue with session: %d %s", res.Status, res.Body)
	}
	if q := res.object(t); id(t, q, "user_id") != ldr.ID || !inQueue(q["mine"].([]any), mine) {
		t.Fatalf("ldr's own queue: %v", q)
	}

	// Qualify: the form's fields are named; no AE is a 409 on ae that changes nothing.
	path := func(cid int64, action string) string { return fmt.Sprintf("/api/v1/contacts/%d/%s", cid, action) }
	bant := `{"budget":"50k","authority":"VP signs","need":"spreadsheets hurt","timeline":"Q3","note":"demo next week"}`
	wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "qualify"), `{"authority":"VP","need":"n","timeline":"t"}`), http.StatusBadRequest, "budget")
	wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "qualify"), `{"budget":"  ","authority":"VP","need":"n","timeline":"t"}`), http.StatusBadRequest, "budget")
	wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "qualify"), `{"budget":"b","authority":"a","need":"n","timeline":"t","amount":5}`), http.StatusBadRequest, "amount")
	p := wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "qualify"), bant), http.StatusConflict, "ae")
	if p["code"] != "no_ae_available" {
		t.Errorf("no AE: code %v", p["code"])
	}
	if s := stage(mine); s != "mql" {
		t.Fatalf("a failed qualify moved the contact to %s", s)
	}
	h.aePool(t, a.ID, ae.ID)
	got := h.want(t, http.StatusOK, ldrKey, "POST", path(mine, "qualify"), bant)
	deal := got["deal"].(map[string]any)
	handoff := got["handoff"].(map[string]any)
	if id(t, got, "ae_user_id") != ae.ID || id(t, deal, "owner_id") != ae.ID || got["contact"].(map[string]any)["lifecycle_stage"] != "sql" {
		t.Fatalf("qualified: %v", got)
	}
	if handoff["note"] != "demo next week" || handoff["bant"].(map[string]any)["budget"] != "50k" || id(t, handoff, "deal_id") != id(t, deal, "id") {
		t.Errorf("handoff: %v", handoff)
	}
	if d := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/deals/%d", id(t, deal, "id")), ""); id(t, d, "owner_id") != ae.ID {
		t.Errorf("deal as stored: %v", d)
	}
	if s := stage(mine); s != "sql" {
		t.Errorf("qualified contact is %s", s)
	}
	wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "qualify"), bant), http.StatusConflict, "lifecycle_stage")

	// Disqualify and nurture.
	report := func() map[string]any {
		return h.want(t, http.StatusOK, admin, "GET", "/api/v1/reports/disqualifications", "")
	}
	count := func(m map[string]any, list, key, val string) int64 {
		for _, x := range m[list].([]any) {
			if e := x.(map[string]any); e[key] == val {
				return int64(e["count"].(float64))
			}
		}
		return 0
	}
	before := report()
	wantProblem(t, h.call(t, ldrKey, "POST", path(free, "disqualify"), `{"reason":"bored"}`), http.StatusBadRequest, "reason")
	wantProblem(t, h.call(t, ldrKey, "POST", path(free, "disqualify"), `{}`), http.StatusBadRequest, "reason")
	if s := stage(free); s != "mql" {
		t.Fatalf("a refused disqualify moved the contact to %s", s)
	}
	if c := h.want(t, http.StatusOK, ldrKey, "POST", path(free, "disqualify"), `{"reason":"competitor","note":"went with X"}`); c["lifecycle_stage"] != "disqualified" {
		t.Errorf("disqualified: %v", c)
	}
	wantProblem(t, h.call(t, ldrKey, "POST", path(free, "nurture"), `{}`), http.StatusConflict, "lifecycle_stage")
	// sql can be disqualified (the deal stays), not returned to nurture.
	wantProblem(t, h.call(t, ldrKey, "POST", path(mine, "nurture"), `{}`), http.StatusConflict, "lifecycle_stage")
	h.want(t, http.StatusOK, ldrKey, "POST", path(mine, "disqualify"), `{"reason":"competitor"}`)
	later := contact("lead", 0)
	wantProblem(t, h.call(t, ldrKey, "POST", path(later, "nurture"), `{"note":7}`), http.StatusBadRequest, "note")
	if c := h.want(t, http.StatusOK, ldrKey, "POST", path(later, "nurture"), `{"note":"next year"}`); c["lifecycle_stage"] != "nurture" {
		t.Errorf("nurtured: %v", c)
	}
	for _, cid := range []int64{free, mine, later} {
		if q := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/desk/queue?user_id=%d", ldr.ID), ""); inQueue(q["mine"].([]any), cid) || inQueue(q["unassigned"].([]any), cid) {
			t.Errorf("contact %d still queued after its action", cid)
		}
	}

	// The report: disqualification reasons, and deals lost or without decision.
	lost, stalled := uniq("price-"), uniq("status quo ")
	for _, d := range []string{
		fmt.Sprintf(`{"name":"L1","pipeline":"digital","outcome":"lost","loss_reason":%q}`, lost),
		fmt.Sprintf(`{"name":"L2","pipeline":"digital","outcome":"lost","loss_reason":%q}`, lost),
		fmt.Sprintf(`{"name":"N1","pipeline":"digital","outcome":"no_decision","loss_reason":%q}`, stalled),
		`{"name":"W1","pipeline":"digital","outcome":"won","loss_reason":"n/a"}`,
	} {
		h.mk(t, admin, "deals", d)
	}
	after := report()
	if n := count(after, "disqualifications", "reason", "competitor") - count(before, "disqualifications", "reason", "competitor"); n != 2 {
		t.Errorf("competitor disqualifications grew by %d, want 2: %v", n, after)
	}
	if n := count(after, "lost", "loss_reason", lost); n != 2 {
		t.Errorf("lost %q: %d, want 2: %v", lost, n, after)
	}
	if n := count(after, "no_decision", "loss_reason", stalled); n != 1 || count(after, "lost", "loss_reason", stalled) != 0 {
		t.Errorf("no_decision %q: %d, want 1: %v", stalled, n, after)
	}
	if count(after, "lost", "loss_reason", "n/a")+count(after, "no_decision", "loss_reason", "n/a") != 0 {
		t.Errorf("a won deal was counted: %v", after)
	}
	if conv, _ := after["convention"].(map[string]any); conv["window"] == "" || conv["lost"] == "" {
		t.Errorf("convention: %v", after["convention"])
	}
	old := h.want(t, http.StatusOK, admin, "GET", "/api/v1/reports/disqualifications?from=2001-01-01&to=2001-12-31", "")
	if len(old["disqualifications"].([]any))+len(old["lost"].([]any))+len(old["no_decision"].([]any)) != 0 || old["from"] != "2001-01-01" || old["to"] != "2001-12-31" {
		t.Errorf("a window in 2001 counted something: %v", old)
	}
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/reports/disqualifications?from=May", ""), http.StatusBadRequest, "from")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/reports/disqualifications?from=2002-01-02&to=2002-01-01", ""), http.StatusBadRequest, "from")
	// Workspace B sees none of A's reasons.
	if b := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/reports/disqualifications", ""); count(b, "lost", "loss_reason", lost) != 0 {
		t.Errorf("B sees A's losses: %v", b)
	}
}

// aePool gives workspace ws an ae pool with the given active members.
func (h *harness) aePool(t *testing.T, ws int64, members ...int64) {
	t.Helper()
	ctx := context.Background()
	err := h.env.App.St.InTx(ctx, func(q store.Q) error {
		p := model.Pool{Name: uniq("AEs "), Role: model.RoleAE, Capacity: 100}
		if err := q.CreatePool(ctx, ws, &p); err != nil {
			return err
		}
		for _, u := range members {
			if err := q.SetPoolMember(ctx, ws, model.PoolMember{PoolID: p.ID, UserID: u, Active: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
