package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// asUser sends a JSON request with a signed-in user's session (activities
// and handoffs name the user; an API key has no user of its own).
func (h *harness) asUser(t *testing.T, token, method, path, body string) result {
	t.Helper()
	req := h.request(t, "", method, path, body)
	req.AddCookie(&http.Cookie{Name: "rs_session", Value: token})
	return h.do(t, req)
}

// testPartners drives partner mode end to end over the API: a partner with
// its user, a meeting the partner's rep books, an SQL it qualifies that the
// AE accepts, and the month's statement with every line traced to those
// records; the AE's decision rules; admins and managers only for partners.
func (h *harness) testPartners(t *testing.T) {
	a := h.env.A
	admin, mgr := h.adminA(), a.Keys[model.RoleManager]
	rep, ae := a.Users[model.RolePartner], a.Users[model.RoleAE]
	thisMonth := time.Now().UTC().Format("2006-01")

	for _, role := range []string{model.RoleLDR, model.RoleAE, model.RoleCSM, model.RolePartner} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/api/v1/partners", ""},
			{"POST", "/api/v1/partners", `{"name":"x","start_month":"2026-01"}`},
			{"GET", "/api/v1/partners/statements", ""},
		} {
			if p := wantProblem(t, h.call(t, a.Keys[role], c.method, c.path, c.body), http.StatusForbidden, ""); p["code"] != "forbidden" {
				t.Errorf("%s %s as %s: %v", c.method, c.path, role, p)
			}
		}
	}

	// Field errors name the field; a user without the partner role cannot
	// work for a partner.
	for _, c := range []struct{ body, field string }{
		{`{"start_month":"2026-01"}`, "name"},
		{`{"name":"P"}`, "start_month"},
		{`{"name":"P","start_month":"2026-01","end_month":"2025-12"}`, "end_month"},
		{`{"name":"P","start_month":"2026-01","fee_per_sql":-5}`, "fee_per_sql"},
		{fmt.Sprintf(`{"name":"P","start_month":"2026-01","user_ids":[%d]}`, a.Users[model.RoleLDR].ID), "user_ids[0]"},
		{fmt.Sprintf(`{"name":"P","start_month":"2026-01","user_ids":[%d]}`, h.env.B.Users[model.RolePartner].ID), "user_ids[0]"},
		{`{"name":"P","start_month":"2026-01","retainer":5}`, "retainer"},
	} {
		wantProblem(t, h.call(t, admin, "POST", "/api/v1/partners", c.body), http.StatusBadRequest, c.field)
	}
	name := uniq("Acme SDR ")
	res := h.call(t, mgr, "POST", "/api/v1/partners", fmt.Sprintf(`{"name":%q,"retainer_monthly":400000,"fee_per_meeting":15000,"fee_per_sql":40000,"management_monthly":50000,"start_month":%q,"user_ids":[%d]}`, name, thisMonth, rep.ID))
	if res.Status != http.StatusCreated {
		t.Fatalf("create partner: %d %s", res.Status, res.Body)
	}
	pr := res.object(t)
	pid := id(t, pr, "id")
	if res.Header.Get("Location") != fmt.Sprintf("/api/v1/partners/%d", pid) || pr["currency"] != "USD" || len(pr["user_ids"].([]any)) != 1 {
		t.Fatalf("partner %v (Location %q)", pr, res.Header.Get("Location"))
	}
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/partners", fmt.Sprintf(`{"name":%q,"start_month":"2026-01"}`, name)), http.StatusConflict, "name")

	// The partner's rep books a meeting and qualifies its contact; the AE accepts.
	repTok, aeTok := h.sessionToken(t, rep.Email), h.sessionToken(t, ae.Email)
	cid := h.mk(t, admin, "contacts", fmt.Sprintf(`{"email":"%s@buyer.example","first_name":"Bea","lifecycle_stage":"mql","owner_id":%d}`, uniq("partner"), rep.ID))
	mres := h.asUser(t, repTok, "POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", cid), `{"subject":"Intro with Bea"}`)
	if mres.Status != http.StatusCreated {
		t.Fatalf("meeting booked: %d %s", mres.Status, mres.Body)
	}
	meeting := id(t, mres.object(t), "id")
	h.aePool(t, a.ID, ae.ID)
	qres := h.asUser(t, repTok, "POST", fmt.Sprintf("/api/v1/contacts/%d/qualify", cid), `{"budget":"10k","authority":"owner","need":"leads","timeline":"now"}`)
	if qres.Status != http.StatusOK {
		t.Fatalf("qualify: %d %s", qres.Status, qres.Body)
	}
	q := qres.object(t)
	handoff := id(t, q["handoff"].(map[string]any), "id")
	if got := h.want(t, http.StatusOK, a.Keys[model.RoleLDR], "GET", fmt.Sprintf("/api/v1/handoffs/%d", handoff), ""); got["decision"] != "pending" || id(t, got, "from_user_id") != rep.ID {
		t.Fatalf("handoff %v", got)
	}
	statement := func(month string) map[string]any {
		return h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/partners/%d/statement?month=%s", pid, month), "")
	}
	// Pending: listed, not billed. Retainer 4,000 + 1 meeting × 150 = 4,150.00.
	st := statement(thisMonth)
	if st["total"] != 415000.0 || len(st["pending"].([]any)) != 1 || st["status"] != "open" {
		t.Errorf("statement before acceptance: %v", st)
	}
	// Only the receiving AE (or an admin or manager) decides.
	wantProblem(t, h.call(t, a.Keys[model.RoleLDR], "POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", handoff), ""), http.StatusForbidden, "")
	wantProblem(t, h.asUser(t, aeTok, "POST", fmt.Sprintf("/api/v1/handoffs/%d/reject", handoff), `{}`), http.StatusBadRequest, "note")
	acc := h.asUser(t, aeTok, "POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", handoff), `{"note":"good fit"}`)
	if acc.Status != http.StatusOK {
		t.Fatalf("accept: %d %s", acc.Status, acc.Body)
	}
	if got := acc.object(t); got["decision"] != "accepted" || id(t, got, "decided_by") != ae.ID {
		t.Errorf("accepted %v", got)
	}
	wantProblem(t, h.asUser(t, aeTok, "POST", fmt.Sprintf("/api/v1/handoffs/%d/reject", handoff), `{"note":"changed my mind"}`), http.StatusConflict, "decision")

	// Accepted: 4,000 + 1 × 150 + 1 × 400 = 4,550.00, each line with its records.
	st = statement(thisMonth)
	if st["total"] != 455000.0 || len(st["pending"].([]any)) != 0 {
		t.Fatalf("statement: %v", st)
	}
	for _, l := range st["lines"].([]any) {
		line := l.(map[string]any)
		recs := line["records"].([]any)
		switch line["kind"] {
		case "meetings":
			if line["amount"] != 15000.0 || len(recs) != 1 || id(t, recs[0].(map[string]any), "id") != meeting {
				t.Errorf("meetings line %v", line)
			}
		case "sqls":
			if line["amount"] != 40000.0 || len(recs) != 1 || id(t, recs[0].(map[string]any), "id") != handoff {
				t.Errorf("sqls line %v", line)
			}
		case "retainer":
			if line["amount"] != 400000.0 {
				t.Errorf("retainer %v", line)
			}
		default:
			t.Errorf("unexpected line %v", line)
		}
	}
	all := h.want(t, http.StatusOK, admin, "GET", "/api/v1/partners/statements?month="+thisMonth, "")
	found := false
	for _, x := range all["items"].([]any) {
		if s := x.(map[string]any); id(t, s, "partner_id") == pid && s["total"] == 455000.0 {
			found = true
		}
	}
	if !found {
		t.Errorf("statements of the month: %v", all)
	}
	wantProblem(t, h.call(t, admin, "GET", fmt.Sprintf("/api/v1/partners/%d/statement?month=2026-13", pid), ""), http.StatusBadRequest, "month")
	wantProblem(t, h.call(t, admin, "GET", fmt.Sprintf("/api/v1/partners/%d/statement?when=1", pid), ""), http.StatusBadRequest, "when")
	// No full month yet: the actuals say so rather than making figures up.
	if act := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/partners/%d/actuals", pid), ""); act["source"] != "none" || act["months"] != 0.0 {
		t.Errorf("actuals %v", act)
	}
	// Terms changed: the statement follows.
	h.want(t, http.StatusOK, admin, "PUT", fmt.Sprintf("/api/v1/partners/%d", pid), fmt.Sprintf(`{"name":%q,"retainer_monthly":0,"fee_per_sql":50000,"start_month":%q,"user_ids":[%d]}`, name, thisMonth, rep.ID))
	if st = statement(thisMonth); st["total"] != 50000.0 {
		t.Errorf("after new terms: %v", st["total"])
	}
	if got := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/partners/%d", pid), ""); got["fee_per_sql"] != 50000.0 {
		t.Errorf("get %v", got)
	}
	lst := h.want(t, http.StatusOK, admin, "GET", "/api/v1/partners", "")
	if len(lst["items"].([]any)) == 0 {
		t.Errorf("list %v", lst)
	}
	// A rejected SQL is never billed.
	cid2 := h.mk(t, admin, "contacts", fmt.Sprintf(`{"email":"%s@buyer.example","lifecycle_stage":"mql","owner_id":%d}`, uniq("partner"), rep.ID))
	q2 := h.asUser(t, repTok, "POST", fmt.Sprintf("/api/v1/contacts/%d/qualify", cid2), `{"budget":"b","authority":"a","need":"n","timeline":"t"}`).object(t)
	h2 := id(t, q2["handoff"].(map[string]any), "id")
	h.want(t, http.StatusOK, mgr, "POST", fmt.Sprintf("/api/v1/handoffs/%d/reject", h2), `{"note":"student project"}`)
	if st = statement(thisMonth); st["total"] != 50000.0 || st["work"].(map[string]any)["sqls_rejected"] != 1.0 {
		t.Errorf("after a rejection: %v", st)
	}
	gone := h.mk(t, admin, "partners", fmt.Sprintf(`{"name":%q,"start_month":"2026-01"}`, uniq("Gone ")))
	h.want(t, http.StatusNoContent, admin, "DELETE", fmt.Sprintf("/api/v1/partners/%d", gone), "")
	wantProblem(t, h.call(t, admin, "GET", fmt.Sprintf("/api/v1/partners/%d", gone), ""), http.StatusNotFound, "")
}

// partnerTargets are the cross-workspace walk's victims for partner routes.
func (h *harness) partnerTargets() map[string]target {
	get := func(path string) func(t *testing.T, id int64) string {
		return func(t *testing.T, rid int64) string {
			res := h.call(t, h.adminA(), "GET", fmt.Sprintf(path, rid), "")
			if res.Status != http.StatusOK {
				return "missing"
			}
			return string(res.Body)
		}
	}
	return map[string]target{
		"partners": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				return h.mk(t, ws.Keys[model.RoleAdmin], "partners", fmt.Sprintf(`{"name":%q,"fee_per_sql":100,"start_month":"2026-01"}`, uniq("victim ")))
			},
			snapshot: get("/api/v1/partners/%d"),
			patch:    `{"name":"Hijacked","start_month":"2026-02"}`,
		},
		"handoffs": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				ctx := context.Background()
				cid := h.mk(t, ws.Keys[model.RoleAdmin], "contacts", fmt.Sprintf(`{"email":"%s@victim.example"}`, uniq("handoff")))
				hd := model.Handoff{ContactID: cid, Kind: "ldr_to_ae", CreatedAt: time.Now().UTC()}
				if err := h.env.App.St.InTx(ctx, func(q store.Q) error { return q.InsertHandoffAt(ctx, ws.ID, &hd) }); err != nil {
					t.Fatal(err)
				}
				return hd.ID
			},
			snapshot: get("/api/v1/handoffs/%d"),
		},
	}
}
