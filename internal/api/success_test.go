package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

// wonCustomer creates an account and a digital deal owned by the AE and wins
// it through the API, which opens the customer's handoff. It returns the
// account and deal ids.
func (h *harness) wonCustomer(t *testing.T, ws apptest.WS, name string) (int64, int64) {
	t.Helper()
	key := ws.Keys[model.RoleAdmin]
	acct := h.mk(t, key, "accounts", fmt.Sprintf(`{"name":%q}`, name))
	deal := h.mk(t, key, "deals", fmt.Sprintf(`{"name":"%s — Growth","pipeline":"digital","account_id":%d,"owner_id":%d,"amount":1200000}`, name, acct, ws.Users[model.RoleAE].ID))
	h.want(t, http.StatusOK, ws.Keys[model.RoleAE], "PATCH", fmt.Sprintf("/api/v1/deals/%d", deal), `{"outcome":"won"}`)
	return acct, deal
}

func strs(m map[string]any, k string) []string {
	var out []string
	for _, v := range m[k].([]any) {
		out = append(out, v.(string))
	}
	return out
}

// testSuccess: a won deal's handoff through the API (note required for
// accept, naming the missing part; roles; checklist toggles), the health
// inputs and the score they give (hand-computed), history, the queue, and the
// settings.
func (h *harness) testSuccess(t *testing.T) {
	a := h.env.A
	ae, csm, mgr, admin := a.Keys[model.RoleAE], a.Keys[model.RoleCSM], a.Keys[model.RoleManager], h.adminA()
	acct, deal := h.wonCustomer(t, a, uniq("Acme Success "))
	base := fmt.Sprintf("/api/v1/customers/%d", acct)

	ho := h.want(t, http.StatusOK, ae, "GET", base+"/handoff", "")
	if id(t, ho, "deal_id") != deal || ho["status"] != "awaiting_note" || len(ho["items"].([]any)) != 5 || strings.Join(strs(ho, "missing"), ",") != "goals,stakeholders,risks" {
		t.Fatalf("handoff %v", ho)
	}
	if _, assigned := ho["csm_user_id"]; assigned || !strings.Contains(ho["assignment_reason"].(string), "no pool") {
		t.Fatalf("no csm pool, yet: %v", ho)
	}
	// Accept without a note: 422 naming the first missing part.
	p := wantProblem(t, h.call(t, csm, "POST", base+"/handoff/accept", ""), http.StatusUnprocessableEntity, "goals")
	if p["code"] != "handoff_note_incomplete" || !strings.Contains(p["detail"].(string), "missing: goals, stakeholders, risks") {
		t.Fatalf("problem %v", p)
	}
	ho = h.want(t, http.StatusOK, ae, "PATCH", base+"/handoff", `{"goals":"Live in 3 regions by Q1","stakeholders":"Ann Lee (COO)"}`)
	if ho["status"] != "awaiting_note" || strings.Join(strs(ho, "missing"), ",") != "risks" {
		t.Fatalf("partial note %v", ho)
	}
	wantProblem(t, h.call(t, csm, "POST", base+"/handoff/accept", ""), http.StatusUnprocessableEntity, "risks")
	ho = h.want(t, http.StatusOK, ae, "PATCH", base+"/handoff", `{"risks":"Legacy data migration"}`)
	if ho["status"] != "awaiting_acceptance" || len(ho["missing"].([]any)) != 0 {
		t.Fatalf("full note %v", ho)
	}
	wantProblem(t, h.call(t, ae, "PATCH", base+"/handoff", `{"csm_user_id":null}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, ae, "PATCH", base+"/handoff", `{"goals":"x","mood":"happy"}`), http.StatusBadRequest, "mood")
	wantProblem(t, h.call(t, ae, "POST", base+"/handoff/accept", ""), http.StatusForbidden, "")
	ho = h.want(t, http.StatusOK, csm, "POST", base+"/handoff/accept", "")
	if ho["status"] != "accepted" || ho["accepted_at"] == nil {
		t.Fatalf("accepted %v", ho)
	}
	wantProblem(t, h.call(t, csm, "POST", base+"/handoff/accept", ""), http.StatusUnprocessableEntity, "status")
	wantProblem(t, h.call(t, ae, "PATCH", base+"/handoff", `{"risks":"changed"}`), http.StatusUnprocessableEntity, "status")

	// Checklist toggles.
	item := id(t, ho["items"].([]any)[0].(map[string]any), "id")
	ho = h.want(t, http.StatusOK, csm, "PATCH", fmt.Sprintf("%s/handoff/items/%d", base, item), `{"done":true}`)
	if ho["items_done"] != 1.0 || ho["items"].([]any)[0].(map[string]any)["done"] != true {
		t.Fatalf("ticked %v", ho)
	}
	wantProblem(t, h.call(t, csm, "PATCH", fmt.Sprintf("%s/handoff/items/%d", base, item), `{}`), http.StatusBadRequest, "done")
	h.want(t, http.StatusNotFound, csm, "PATCH", fmt.Sprintf("%s/handoff/items/%d", base, 999999), `{"done":true}`)
	// deal_id picks a handoff; a wrong one is bad input or not found.
	h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("%s/handoff?deal_id=%d", base, deal), "")
	wantProblem(t, h.call(t, ae, "GET", base+"/handoff?deal_id=abc", ""), http.StatusBadRequest, "deal_id")
	wantProblem(t, h.call(t, ae, "GET", base+"/handoff?dael_id=1", ""), http.StatusBadRequest, "dael_id")
	h.want(t, http.StatusNotFound, ae, "GET", base+"/handoff?deal_id=999999", "")
	// A customer without a handoff.
	plain := h.mk(t, admin, "accounts", fmt.Sprintf(`{"name":%q}`, uniq("No deal ")))
	h.want(t, http.StatusNotFound, ae, "GET", fmt.Sprintf("/api/v1/customers/%d/handoff", plain), "")

	// Inputs. usage 1,000 + 240 in the window (+25), support 2 (−6), NPS 4
	// (−15), sentiment negative (−10), no engagement: 50 + 25 − 6 − 15 − 10 = 44.
	ev := `{"events":[{"kind":"login","quantity":1000,"key":"d1"},{"kind":"report_run","quantity":240,"occurred_at":"%s"}]}`
	u := h.want(t, http.StatusOK, admin, "POST", base+"/usage", fmt.Sprintf(ev, time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)))
	if u["accepted"] != 2.0 || u["duplicates"] != 0.0 {
		t.Fatalf("usage %v", u)
	}
	u = h.want(t, http.StatusOK, admin, "POST", base+"/usage", `{"events":[{"kind":"login","quantity":1000,"key":"d1"}]}`)
	if u["accepted"] != 0.0 || u["duplicates"] != 1.0 {
		t.Fatalf("duplicate usage %v", u)
	}
	wantProblem(t, h.call(t, admin, "POST", base+"/usage", `{"events":[{"quantity":0}]}`), http.StatusBadRequest, "events[0].quantity")
	wantProblem(t, h.call(t, admin, "POST", base+"/usage", `{"events":[{"kind":"login","colour":"red"}]}`), http.StatusBadRequest, "events[0].colour")
	wantProblem(t, h.call(t, admin, "POST", base+"/usage", `{"events":[{"occurred_at":"yesterday"}]}`), http.StatusBadRequest, "events[0].occurred_at")
	wantProblem(t, h.call(t, admin, "POST", base+"/usage", `{}`), http.StatusBadRequest, "events")
	npsAt := time.Now().UTC().Add(-25 * 24 * time.Hour).Truncate(time.Second)
	res := h.call(t, admin, "POST", base+"/nps", fmt.Sprintf(`{"score":4,"comment":"support is slow","responded_at":%q}`, npsAt.Format(time.RFC3339)))
	if res.Status != http.StatusCreated || res.Header.Get("Location") != base+"/health" {
		t.Fatalf("nps %d %s %s", res.Status, res.Header.Get("Location"), res.Body)
	}
	wantProblem(t, h.call(t, admin, "POST", base+"/nps", `{"score":11}`), http.StatusBadRequest, "score")
	wantProblem(t, h.call(t, admin, "POST", base+"/nps", `{"score":5,"responded_at":"2026-13-01"}`), http.StatusBadRequest, "responded_at")
	h.want(t, http.StatusOK, admin, "PUT", base+"/support", `{"open_items":2}`)
	wantProblem(t, h.call(t, admin, "PUT", base+"/support", `{}`), http.StatusBadRequest, "open_items")
	wantProblem(t, h.call(t, admin, "PUT", base+"/support", `{"open_items":-1}`), http.StatusBadRequest, "open_items")
	wantProblem(t, h.call(t, ae, "PUT", base+"/sentiment", `{"sentiment":"negative","note":"x"}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, csm, "PUT", base+"/sentiment", `{"sentiment":"negative"}`), http.StatusBadRequest, "note")
	wantProblem(t, h.call(t, csm, "PUT", base+"/sentiment", `{"sentiment":"grumpy","note":"x"}`), http.StatusBadRequest, "sentiment")
	s := h.want(t, http.StatusOK, csm, "PUT", base+"/sentiment", `{"sentiment":"negative","note":"Champion left"}`)
	hb := s["health"].(map[string]any)
	if hb["score"] != 44.0 || hb["band"] != "at_risk" || hb["sum"] != 44.0 {
		t.Fatalf("score %v", hb)
	}

	hl := h.want(t, http.StatusOK, ae, "GET", base+"/health", "")
	cur := hl["current"].(map[string]any)
	var reasons []string
	for _, p := range cur["parts"].([]any) {
		reasons = append(reasons, p.(map[string]any)["reason"].(string))
	}
	want := []string{"+25 usage 1,240 events/30d (target 1,000)", "0 engagement: no data yet", "−6 support 2 open items (full penalty at 5)",
		fmt.Sprintf("−15 NPS 4 on %s (detractor)", npsAt.Format("2006-01-02")), "−10 CSM sentiment negative on "}
	for i, w := range want {
		if !strings.HasPrefix(reasons[i], w) {
			t.Errorf("reason %d %q, want %q…", i, reasons[i], w)
		}
	}
	var causes []string
	for _, p := range hl["history"].([]any) {
		// The daily job may add its row for today at any point; it is not
		// what this checks.
		if c := p.(map[string]any)["cause"].(string); c != "daily" {
			causes = append(causes, c)
		}
	}
	if cur["stored"] != true || cur["score"] != 44.0 || strings.Join(causes, ",") != "won,usage,nps,support,sentiment" {
		t.Fatalf("health current %v history %v", cur, causes)
	}

	q := h.want(t, http.StatusOK, csm, "GET", "/api/v1/success/queue", "")
	found := false
	for _, r := range q["at_risk"].([]any) {
		if m := r.(map[string]any); id(t, m, "account_id") == acct && m["score"] == 44.0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("at-risk customer not in the queue: %v", q["at_risk"])
	}
	acct2, _ := h.wonCustomer(t, a, uniq("Queue Co "))
	found = false
	for _, r := range q["awaiting_note"].([]any) {
		if id(t, r.(map[string]any), "account_id") == acct {
			t.Fatalf("an accepted handoff is awaiting its note: %v", r)
		}
	}
	q = h.want(t, http.StatusOK, csm, "GET", "/api/v1/success/queue", "")
	for _, r := range q["awaiting_note"].([]any) {
		if m := r.(map[string]any); id(t, m, "account_id") == acct2 && m["items_total"] == 5.0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("new handoff not awaiting its note: %v", q["awaiting_note"])
	}

	// Health settings: defaults, role, validation naming the setting, and a
	// recompute of every customer in the background (usage weight 30: 44 + 5).
	hs := h.want(t, http.StatusOK, ae, "GET", "/api/v1/success/health-settings", "")
	if hs["default"] != true || hs["base"] != 50.0 {
		t.Fatalf("default settings %v", hs)
	}
	wantProblem(t, h.call(t, ae, "PUT", "/api/v1/success/health-settings", `{}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/health-settings", `{"critical_below":80}`), http.StatusBadRequest, "critical_below")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/health-settings", `{"usage":{"weight":30,"window_days":0,"target":1000}}`), http.StatusBadRequest, "usage.window_days")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/health-settings", `{"usage":{"weight":30,"windows":30}}`), http.StatusBadRequest, "usage.windows")
	hs = h.want(t, http.StatusOK, mgr, "PUT", "/api/v1/success/health-settings", `{"usage":{"weight":30,"window_days":30,"target":1000}}`)
	if hs["default"] != false || hs["usage"].(map[string]any)["weight"] != 30.0 || hs["nps"].(map[string]any)["weight"] != 15.0 || hs["updated_by"] == nil {
		t.Fatalf("saved settings %v", hs)
	}
	h.env.WaitUntil(t, "success_health_recompute", func() bool {
		c := h.want(t, http.StatusOK, ae, "GET", base+"/health", "")["current"].(map[string]any)
		return c["score"] == 49.0
	})
	found = false
	for _, p := range h.want(t, http.StatusOK, ae, "GET", base+"/health", "")["history"].([]any) {
		// The settings recompute writes the row, unless the daily job got
		// there first with the new weights (then nothing changed for it).
		if m := p.(map[string]any); (m["cause"] == "settings" || m["cause"] == "daily") && m["score"] == 49.0 {
			found = true
		}
	}
	if !found {
		t.Fatal("no history row with the new weights")
	}
	h.want(t, http.StatusOK, mgr, "PUT", "/api/v1/success/health-settings", `{}`)

	// Checklist templates.
	cl := h.want(t, http.StatusOK, ae, "GET", "/api/v1/success/checklists", "")
	if cl["default"] != true || len(cl["templates"].(map[string]any)["high_touch"].([]any)) != 7 {
		t.Fatalf("default templates %v", cl)
	}
	wantProblem(t, h.call(t, ae, "PUT", "/api/v1/success/checklists", `{"templates":{}}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/checklists", `{"templates":{"partner":[]}}`), http.StatusBadRequest, "templates.partner")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/checklists", `{"templates":{"digital":[{"title":""}]}}`), http.StatusBadRequest, "templates.digital[0].title")
	wantProblem(t, h.call(t, mgr, "PUT", "/api/v1/success/checklists", `{}`), http.StatusBadRequest, "templates")
	cl = h.want(t, http.StatusOK, mgr, "PUT", "/api/v1/success/checklists", `{"templates":{"digital":[{"title":"Welcome call"}]}}`)
	d := cl["templates"].(map[string]any)["digital"].([]any)
	if cl["default"] != false || len(d) != 1 || d[0].(map[string]any)["key"] != "welcome_call" || len(cl["templates"].(map[string]any)["high_touch"].([]any)) != 0 {
		t.Fatalf("saved templates %v", cl)
	}
	acct3, _ := h.wonCustomer(t, a, uniq("Template Co "))
	ho = h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/customers/%d/handoff", acct3), "")
	if len(ho["items"].([]any)) != 1 {
		t.Fatalf("new template not used: %v", ho["items"])
	}
}

// customersTarget is the cross-workspace walk's victim for /customers/{id}/…:
// a won customer with its handoff and a health input; the snapshot is the
// handoff and the health as A sees them.
func (h *harness) customersTarget() target {
	return target{
		create: func(t *testing.T, ws apptest.WS) int64 {
			acct, _ := h.wonCustomer(t, ws, uniq("xws customer "))
			h.want(t, http.StatusOK, ws.Keys[model.RoleAdmin], "PUT", fmt.Sprintf("/api/v1/customers/%d/support", acct), `{"open_items":1}`)
			return acct
		},
		snapshot: func(t *testing.T, acct int64) string {
			ho := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/customers/%d/handoff", acct), "")
			hl := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/customers/%d/health", acct), "")
			if ho.Status != http.StatusOK || hl.Status != http.StatusOK {
				return "missing"
			}
			// The daily job may recompute at any moment: its row and the
			// time of the current score are not B's doing.
			m := hl.object(t)
			cur := m["current"].(map[string]any)
			delete(cur, "cause")
			delete(cur, "computed_at")
			delete(cur, "as_of")
			var hist []any
			for _, p := range m["history"].([]any) {
				if p.(map[string]any)["cause"] != "daily" {
					hist = append(hist, p)
				}
			}
			m["history"] = hist
			b, _ := json.Marshal(m)
			return string(ho.Body) + string(b)
		},
	}
}

// customerBodies are valid bodies of the customer routes (method + suffix),
// so the walk's only wrong thing is the account id.
var customerBodies = map[string]string{
	"PATCH /handoff":                 `{"goals":"hijack","stakeholders":"hijack","risks":"hijack"}`,
	"POST /handoff/accept":           ``,
	"PATCH /handoff/items/{item_id}": `{"done":true}`,
	"POST /usage":                    `{"events":[{"kind":"login","quantity":5}]}`,
	"POST /nps":                      `{"score":0}`,
	"PUT /support":                   `{"open_items":99}`,
	"PUT /sentiment":                 `{"sentiment":"negative","note":"hijack"}`,
}
