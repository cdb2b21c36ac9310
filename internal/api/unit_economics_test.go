package api_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// testUnitEconomics drives the metrics routes on a small CHF book of
// workspace A (the currency keeps it apart from what other scenarios write):
// Y (SMB, 300.00 a month from December, cancelled in February), X (SMB,
// 100.00 from January), Z (enterprise, 2,000.00 from February); spend 600.00
// on SMB digital in January and 2,000.00 on enterprise high touch in February.
func (h *harness) testUnitEconomics(t *testing.T) {
	a := h.env.A
	key, mgr := h.adminA(), a.Keys[model.RoleManager]
	for _, role := range []string{model.RoleLDR, model.RoleAE, model.RoleCSM} {
		for _, path := range []string{"/api/v1/economics/metrics", "/api/v1/economics/matrix", "/api/v1/economics/alerts", "/api/v1/economics/cost-to-close"} {
			if p := wantProblem(t, h.call(t, a.Keys[role], "GET", path, ""), http.StatusForbidden, ""); p["code"] != "forbidden" {
				t.Errorf("%s as %s: %v", path, role, p)
			}
		}
	}
	h.want(t, http.StatusOK, key, "PUT", "/api/v1/economics/settings", `{"gross_margin":0.8,"ltv_cac_target":3,"payback_target_months":{"smb":12,"enterprise":24}}`)
	acct := func(name, seg, mot string) int64 {
		return h.mk(t, key, "accounts", fmt.Sprintf(`{"name":%q,"currency":"CHF","segment":%q,"motion":%q}`, uniq(name), seg, mot))
	}
	x, y, z := acct("X ", "smb", "digital"), acct("Y ", "smb", "digital"), acct("Z ", "enterprise", "high_touch")
	sub := func(acct int64, price int, start string) int64 {
		return h.mk(t, key, "subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":%d,"interval":"month","currency":"CHF","start_date":%q}`, acct, price, start))
	}
	sy := sub(y, 30000, "2024-12-10")
	sub(x, 10000, "2025-01-15")
	sub(z, 200000, "2025-02-01")
	h.want(t, http.StatusOK, key, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sy), `{"end_date":"2025-02-10"}`)
	h.mk(t, key, "spend", `{"month":"2025-01","amount":60000,"currency":"CHF","category":"programs","channel":"paid_search","segment":"smb","motion":"digital"}`)
	h.mk(t, key, "spend", `{"month":"2025-02","amount":200000,"currency":"CHF","category":"programs","channel":"events","segment":"enterprise","motion":"high_touch"}`)

	q := "?from=2025-01&to=2025-03&currency=CHF"
	m := h.want(t, http.StatusOK, mgr, "GET", "/api/v1/economics/metrics"+q, "")
	if m["currency"] != "CHF" || m["churn_convention"] != "start_of_period" || m["period"] != "month" {
		t.Fatalf("head %v %v %v", m["currency"], m["churn_convention"], m["period"])
	}
	near := func(what string, got any, want float64) {
		t.Helper()
		f, ok := got.(float64)
		if !ok || math.Abs(f-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	br := m["mrr"].(map[string]any)["bridge"].(map[string]any)
	expectFields(t, "bridge", br, map[string]any{"start": 30000.0, "new": 210000.0, "churn": 30000.0, "end": 210000.0, "identity_holds": true, "new_customers": 2.0})
	s := m["summary"].(map[string]any)
	expectFields(t, "summary", s, map[string]any{"mrr": 210000.0, "arr": 2520000.0, "customers": 2.0, "new_customers": 2.0, "paid_new_customers": 0.0})
	cac := s["cac"].(map[string]any)
	near("blended CAC", cac["blended"].(map[string]any)["value"], 130000)
	if cac["paid"].(map[string]any)["value"] != nil {
		t.Errorf("paid CAC without paid customers: %v", cac["paid"])
	}
	cells := map[string]map[string]any{}
	for _, c := range m["matrix"].(map[string]any)["cells"].([]any) {
		cm := c.(map[string]any)
		cells[cm["segment"].(string)+"/"+cm["motion"].(string)] = cm
	}
	sd, eh := cells["smb/digital"], cells["enterprise/high_touch"]
	// SMB: ARPA (40,000 + 10,000 + 10,000) ÷ 4 = 15,000, churn 1 ÷ 4, LTV 15,000 × 0.8 × 4.
	near("SMB ARPA", sd["arpa"], 15000)
	near("SMB LTV", sd["ltv_used"], 48000)
	near("SMB CAC", sd["cac_used"], 60000)
	near("SMB LTV:CAC", sd["ltv_to_cac"], 0.8)
	if sd["status"] != "red" || eh["status"] != "green" || eh["ltv_capped"] != true {
		t.Errorf("statuses %v %v", sd["status"], eh["status"])
	}
	near("enterprise LTV", eh["ltv_used"], 200000*0.8*60)
	recs := m["recommendations"].([]any)
	if len(recs) == 0 || recs[0].(map[string]any)["text"] != "SMB via digital: CAC 600 CHF vs max affordable 160 CHF → cut CAC by 73 % or raise LTV 3.8× to reach 3:1" {
		t.Errorf("recommendations %v", recs)
	}

	// Each part answers the same figures with the window and conventions.
	for _, part := range []string{"cac", "mrr", "ltv", "matrix", "cohorts", "funnel", "recommendations"} {
		p := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/"+part+q+"&period=quarter&churn=exposure", "")
		if p["from"] != "2025-01" || p["churn_convention"] != "exposure" || p["period"] != "quarter" || len(p["conventions"].(map[string]any)) == 0 {
			t.Errorf("%s head %v", part, p)
		}
	}
	mr := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/mrr"+q+"&churn=exposure", "")
	// Exposure: 1 churn over (1+2)/2 + (2+2)/2 + (2+2)/2 = 5.5 customer-months.
	near("exposure churn", mr["logo_churn"].(map[string]any)["monthly"], 1/5.5)
	co := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/cohorts"+q, "")
	if rows := co["cohorts"].(map[string]any)["rows"].([]any); len(rows) != 2 || rows[0].(map[string]any)["cohort"] != "2025-01" {
		t.Errorf("cohorts %v", rows)
	}

	for _, c := range []struct{ query, field string }{
		{"?churn=median", "churn"}, {"?period=week", "period"}, {"?cac=paid", "cac"}, {"?ltv=lifetime", "ltv"},
		{"?currency=usd1", "currency"}, {"?from=2025-13", "from"}, {"?from=2025-05&to=2025-01", "from"}, {"?segment=smb", "segment"},
	} {
		wantProblem(t, h.call(t, key, "GET", "/api/v1/economics/metrics"+c.query, ""), http.StatusBadRequest, c.field)
	}

	// Cost-to-close: 90 minutes of an AE on Z's open deal, at the mean AE
	// profile's annual cost ÷ 1,800 hours.
	h.mk(t, key, "cost-profiles", fmt.Sprintf(`{"name":%q,"role":"ae","base_salary":9000000,"loaded_multiplier":2,"time_split":{"high_touch":1}}`, uniq("AE ")))
	var sum float64
	var n int
	for _, p := range items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/cost-profiles", "")) {
		if p["role"] == "ae" && p["currency"] == "USD" {
			sum += p["cost"].(map[string]any)["annual"].(float64)
			n++
		}
	}
	deal := h.mk(t, key, "deals", fmt.Sprintf(`{"name":"Z rollout","amount":5000000,"currency":"CHF","pipeline":"high_touch","account_id":%d}`, z))
	h.mk(t, key, "activities", fmt.Sprintf(`{"kind":"meeting","subject":"Workshop","occurred_at":"2025-03-03T10:00:00Z","duration_minutes":90,"deal_id":%d,"owner_id":%d}`, deal, a.Users[model.RoleAE].ID))
	cc := items(t, h.want(t, http.StatusOK, mgr, "GET", fmt.Sprintf("/api/v1/economics/cost-to-close?deal_id=%d", deal), ""))
	if len(cc) != 1 || cc[0]["open"] != true || cc[0]["hours"] != 1.5 {
		t.Fatalf("cost to close %v", cc)
	}
	near("cost", cc[0]["cost"], 1.5*sum/float64(n)/1800)
	all := items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/cost-to-close", ""))
	found := false
	for _, c := range all {
		found = found || c["deal_id"] == float64(deal)
	}
	if !found {
		t.Errorf("open high-touch deal %d not listed: %v", deal, all)
	}
	bDeal := h.mk(t, h.adminB(), "deals", `{"name":"B's deal","amount":1,"pipeline":"high_touch"}`)
	foreign := h.call(t, key, "GET", fmt.Sprintf("/api/v1/economics/cost-to-close?deal_id=%d", bDeal), "")
	missing := h.call(t, key, "GET", "/api/v1/economics/cost-to-close?deal_id=999999999", "")
	malformed := h.call(t, key, "GET", "/api/v1/economics/cost-to-close?deal_id=x1", "")
	for _, r := range []result{foreign, missing, malformed} {
		if r.Status != http.StatusNotFound {
			t.Fatalf("cost-to-close of another workspace's deal: %d %s", r.Status, r.Body)
		}
	}
	strip := func(r result) string { return string(r.Body[:strings.Index(string(r.Body), `"instance"`)]) }
	if strip(foreign) != strip(missing) || strip(foreign) != strip(malformed) {
		t.Errorf("foreign %s / missing %s / malformed %s", foreign.Body, missing.Body, malformed.Body)
	}

	// Alerts: listed while open, gone from the open list once acknowledged.
	alert := h.insertAlert(t, a.ID)
	open := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/alerts?open=true", "")
	if open["event_type"] != "guardrail.red" || !hasID(open["items"].([]any), alert) {
		t.Fatalf("open alerts %v", open)
	}
	ack := h.want(t, http.StatusOK, mgr, "POST", fmt.Sprintf("/api/v1/economics/alerts/%d/acknowledge", alert), "")
	if ack["acknowledged_at"] == nil || ack["status"] != "red" || ack["text"] == "" {
		t.Errorf("acknowledged %v", ack)
	}
	if open := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/alerts?open=true", ""); hasID(open["items"].([]any), alert) {
		t.Errorf("acknowledged alert still open")
	}
	if all := h.want(t, http.StatusOK, key, "GET", "/api/v1/economics/alerts?limit=1000", ""); !hasID(all["items"].([]any), alert) {
		t.Errorf("acknowledged alert not listed")
	}
	wantProblem(t, h.call(t, key, "GET", "/api/v1/economics/alerts?open=yes", ""), http.StatusBadRequest, "open")
	wantProblem(t, h.call(t, key, "GET", "/api/v1/economics/alerts?limit=0", ""), http.StatusBadRequest, "limit")
}

func hasID(xs []any, id int64) bool {
	for _, x := range xs {
		if x.(map[string]any)["id"] == float64(id) {
			return true
		}
	}
	return false
}

// insertAlert writes an alert record for ws as the guardrail job would.
func (h *harness) insertAlert(t *testing.T, ws int64) int64 {
	t.Helper()
	a := store.EconomicsAlert{Segment: "smb", Motion: "high_touch", PreviousStatus: "amber", Status: "red",
		Detail:     []byte(`{"segment":"smb","motion":"high_touch","status":"red","ltv_to_cac":0.9,"reasons":["LTV:CAC 0.9 is below 2.4 (the target 3 less 20 %)"]}`),
		WindowFrom: "2025-01", WindowTo: "2025-12", CreatedAt: time.Now().UTC()}
	if err := h.env.App.St.InTx(context.Background(), func(q store.Q) error { return q.InsertEconomicsAlert(context.Background(), ws, &a) }); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// economicsAlertTarget is the cross-workspace walk's victim for
// /api/v1/economics/alerts/{id}/acknowledge.
func (h *harness) economicsAlertTarget() target {
	return target{
		create: func(t *testing.T, ws apptest.WS) int64 { return h.insertAlert(t, ws.ID) },
		snapshot: func(t *testing.T, id int64) string {
			res := h.call(t, h.adminA(), "GET", "/api/v1/economics/alerts?limit=1000", "")
			for _, x := range res.object(t)["items"].([]any) {
				if x.(map[string]any)["id"] == float64(id) {
					return fmt.Sprint(x)
				}
			}
			return "missing"
		},
	}
}
