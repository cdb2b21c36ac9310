package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// testForecast reads the forecast, pipeline and effort reports over deals in a
// currency no other scenario uses (SEK), so the figures are exactly this
// scenario's: open negotiation 1,000.00 SEK × 50 % = 500.00 best_case, open
// digital trial 200.00 × 30 % = 60.00 best_case, won 300.00 (closed), lost
// 100.00 for price, 50.00 with no decision.
func (h *harness) testForecast(t *testing.T) {
	a := h.env.A
	ae, ldr := a.Keys[model.RoleAE], a.Keys[model.RoleLDR]
	aeID := a.Users[model.RoleAE].ID
	closed := time.Now().UTC().AddDate(0, 0, 30).Format(time.RFC3339)
	window := "currency=SEK&from=" + time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly) + "&to=" + time.Now().UTC().AddDate(0, 0, 40).Format(time.DateOnly)
	deal := func(body string) int64 { return h.mk(t, ae, "deals", body) }
	open := deal(fmt.Sprintf(`{"name":"%s","pipeline":"high_touch","stage":"negotiation","amount":100000,"currency":"SEK","owner_id":%d,"expected_close_date":"2031-02-10"}`, uniq("Fc open"), aeID))
	deal(fmt.Sprintf(`{"name":"%s","pipeline":"digital","stage":"trial","amount":20000,"currency":"SEK"}`, uniq("Fc trial")))
	deal(fmt.Sprintf(`{"name":"%s","pipeline":"digital","stage":"won","amount":30000,"currency":"SEK","owner_id":%d,"outcome":"won","closed_at":%q}`, uniq("Fc won"), aeID, closed))
	deal(fmt.Sprintf(`{"name":"%s","pipeline":"digital","stage":"proposal","amount":10000,"currency":"SEK","outcome":"lost","loss_reason":"price","closed_at":%q}`, uniq("Fc lost"), closed))
	deal(fmt.Sprintf(`{"name":"%s","pipeline":"digital","stage":"trial","amount":5000,"currency":"SEK","outcome":"no_decision","closed_at":%q}`, uniq("Fc nd"), closed))

	f := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/reports/forecast?period=month&min_sample=1&"+window, "")
	total := f["total"].(map[string]any)
	if f["currency"] != "SEK" || total["deals"] != 3.0 || total["amount"] != 150000.0 || total["weighted"] != 86000.0 {
		t.Fatalf("forecast total %v (currency %v)", total, f["currency"])
	}
	cats := map[string]float64{}
	for _, c := range total["categories"].([]any) {
		m := c.(map[string]any)
		cats[m["category"].(string)] = m["weighted"].(float64)
	}
	if cats["best_case"] != 56000 || cats["closed"] != 30000 || cats["commit"] != 0 {
		t.Fatalf("categories %v", cats)
	}
	var periods []string
	for _, b := range f["by_period"].([]any) {
		periods = append(periods, b.(map[string]any)["key"].(string))
	}
	if want := fmt.Sprint([]string{time.Now().UTC().AddDate(0, 0, 30).Format("2006-01"), "2031-02", "none"}); fmt.Sprint(periods) != want {
		t.Fatalf("periods %v, want %v", periods, want)
	}
	owner := f["by_owner"].([]any)[0].(map[string]any)
	if owner["key"] != fmt.Sprintf("user:%d", aeID) || owner["weighted"] != 80000.0 {
		t.Fatalf("top owner %v", owner)
	}
	// Learned (min_sample 1): digital closed: 1 won, lost at proposal (2),
	// no decision at trial (1): trial reached by 3 → 33.3 %.
	for _, p := range f["probabilities"].([]any) {
		pm := p.(map[string]any)
		if pm["pipeline"] != "digital" {
			continue
		}
		trial := pm["stages"].([]any)[1].(map[string]any)
		if trial["stage"] != "trial" || trial["reached"] != 3.0 || trial["learned_pct"] != 33.3 || trial["configured_pct"] != 30.0 || trial["learned_weighted"] != 6667.0 {
			t.Fatalf("digital trial %v", trial)
		}
	}

	r := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/reports/pipeline?"+window, "")
	tot := r["total"].(map[string]any)
	if tot["won"] != 1.0 || tot["lost"] != 1.0 || tot["no_decision"] != 1.0 || tot["win_rate"] != 0.5 || tot["win_rate_no_decision_as_loss"] != 0.3333 ||
		tot["average_won_deal"] != 30000.0 || tot["open_opportunities"] != 2.0 {
		t.Fatalf("pipeline total %v", tot)
	}
	var reasons []string
	for _, l := range tot["loss_reasons"].([]any) {
		m := l.(map[string]any)
		reasons = append(reasons, fmt.Sprintf("%v:%v", m["reason"], m["count"]))
	}
	if fmt.Sprint(reasons) != "[no_decision:1 price:1]" {
		t.Fatalf("loss reasons %v", reasons)
	}

	// Another workspace has no SEK deals.
	fb := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/reports/forecast?"+window, "")
	if fb["total"].(map[string]any)["deals"] != 0.0 {
		t.Fatalf("workspace B sees %v", fb["total"])
	}
	h.want(t, http.StatusOK, ae, "GET", "/api/v1/reports/forecast", "")
	h.want(t, http.StatusOK, ae, "GET", "/api/v1/reports/pipeline", "")

	// Effort: the AE's 60-minute meeting with the manager → ae 60, manager 60.
	h.mk(t, ae, "activities", fmt.Sprintf(`{"kind":"meeting","subject":"Pricing","deal_id":%d,"duration_minutes":60,"owner_id":%d,"participants":["manager@alpha.example.com","cfo@buyer.example"]}`, open, aeID))
	h.mk(t, ae, "activities", fmt.Sprintf(`{"kind":"call","subject":"Intro","deal_id":%d,"duration_minutes":15}`, open))
	e := h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/deals/%d/effort", open), "")
	var roles []string
	for _, x := range e["roles"].([]any) {
		m := x.(map[string]any)
		roles = append(roles, fmt.Sprintf("%v:%v:%v", m["role"], m["minutes"], m["hours"]))
	}
	if fmt.Sprint(roles) != "[manager:60:1 ae:60:1 unattributed:15:0.25]" || e["total_minutes"] != 135.0 || e["activities"] != 2.0 {
		t.Fatalf("effort %v, total %v", roles, e["total_minutes"])
	}
	h.want(t, http.StatusNotFound, h.adminB(), "GET", fmt.Sprintf("/api/v1/deals/%d/effort", open), "")

	for q, field := range map[string]string{
		"period=week": "period", "from=2026-13-01": "from", "to=yesterday": "to", "min_sample=0": "min_sample",
		"currency=dollars": "currency", "from=2026-02-01&to=2026-01-01": "from", "by=owner": "by",
	} {
		wantProblem(t, h.call(t, ae, "GET", "/api/v1/reports/forecast?"+q, ""), http.StatusBadRequest, field)
	}
	wantProblem(t, h.call(t, ae, "GET", "/api/v1/reports/pipeline?period=month", ""), http.StatusBadRequest, "period")
	wantProblem(t, h.call(t, ae, "GET", fmt.Sprintf("/api/v1/deals/%d/effort?x=1", open), ""), http.StatusBadRequest, "x")
}
