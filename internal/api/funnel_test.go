package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/model"
)

// testFunnel moves contacts of one fresh source through the lifecycle through the
// API and reads the funnel report grouped by source. The contacts are created now,
// so days between stages are about 0; the counts and conversions are exact.
func (h *harness) testFunnel(t *testing.T) {
	key := h.adminA()
	src := uniq("funnel_src_")
	patch := func(id int64, stage string) {
		h.want(t, http.StatusOK, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", id), fmt.Sprintf(`{"lifecycle_stage":%q}`, stage))
	}
	c1 := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@funnel.example","source":%q}`, uniq("f"), src))
	for _, s := range []string{"mql", "sql", "opportunity", "customer"} {
		patch(c1, s)
	}
	c2 := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@funnel.example","source":%q}`, uniq("f"), src))
	patch(c2, "mql")
	patch(c2, "disqualified")
	h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@funnel.example","source":%q,"lifecycle_stage":"sql"}`, uniq("f"), src))

	today := time.Now().UTC()
	window := fmt.Sprintf("from=%s&to=%s", today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 1).Format(time.DateOnly))
	// Any member may read reports.
	r := h.want(t, http.StatusOK, h.env.A.Keys[model.RoleLDR], "GET", "/api/v1/reports/funnel?by=source&"+window, "")
	if r["by"] != "source" {
		t.Fatalf("by: %v", r["by"])
	}
	conv, _ := r["convention"].(map[string]any)
	for _, k := range []string{"window", "reached", "conversion", "days", "grouping", "exits"} {
		if s, _ := conv[k].(string); s == "" {
			t.Errorf("convention.%s missing: %v", k, conv)
		}
	}
	var g map[string]any
	for _, x := range r["groups"].([]any) {
		if x.(map[string]any)["key"] == src {
			g = x.(map[string]any)
		}
	}
	if g == nil {
		t.Fatalf("no group for %s: %v", src, r["groups"])
	}
	got := ""
	for _, s := range g["stages"].([]any) {
		got += fmt.Sprintf("%v=%v ", s.(map[string]any)["stage"], s.(map[string]any)["reached"])
	}
	for _, c := range g["conversions"].([]any) {
		m := c.(map[string]any)
		got += fmt.Sprintf("%v/%v ", m["converted"], m["denominator"])
	}
	if want := "lead=2 mql=2 sql=2 opportunity=1 customer=1 2/2 1/2 1/2 1/1 "; got != want {
		t.Errorf("group %s:\n got %s\nwant %s", src, got, want)
	}
	exits := g["exits"].([]any)
	if d := exits[0].(map[string]any); d["stage"] != "disqualified" || d["count"] != 1.0 || d["from"].(map[string]any)["mql"] != 1.0 {
		t.Errorf("exits: %v", exits)
	}
	found := false
	for _, x := range r["lead_to_customer_by_source"].([]any) {
		m := x.(map[string]any)
		if m["source"] == src {
			found = true
			if m["converted"] != 1.0 || m["denominator"] != 2.0 || m["rate"] != 0.5 {
				t.Errorf("lead → customer of %s: %v", src, m)
			}
		}
	}
	if !found {
		t.Errorf("no lead → customer row for %s", src)
	}

	// Workspace B does not see A's contacts.
	rb := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/reports/funnel?by=source&"+window, "")
	for _, x := range rb["groups"].([]any) {
		if x.(map[string]any)["key"] == src {
			t.Errorf("workspace B sees A's source %s", src)
		}
	}

	// Defaults (by motion, the last 90 days) and weekly periods.
	if r := h.want(t, http.StatusOK, key, "GET", "/api/v1/reports/funnel", ""); r["by"] != "motion" {
		t.Errorf("default by: %v", r["by"])
	}
	if r := h.want(t, http.StatusOK, key, "GET", "/api/v1/reports/funnel?by=period&period=week&"+window, ""); r["period"] != "week" || len(r["groups"].([]any)) == 0 {
		t.Errorf("weekly: %v", r)
	}

	for q, field := range map[string]string{
		"by=channel":                        "by",
		"by=period&period=year":             "period",
		"from=2026-13-01":                   "from",
		"to=yesterday":                      "to",
		"from=2026-02-01&to=2026-01-31":     "to",
		"segment=smb":                       "segment",
		"by=motion&by=source":               "by",
		"from=2000-01-01&to=2026-01-01&x=1": "x",
	} {
		wantProblem(t, h.call(t, key, "GET", "/api/v1/reports/funnel?"+q, ""), http.StatusBadRequest, field)
	}
}
