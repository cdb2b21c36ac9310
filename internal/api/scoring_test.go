package api_test

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

// testEvents posts event batches: applied and rejected events reconcile, errors
// name events[i].field, a batch can promote a lead to mql, and malformed or
// oversized batches are refused whole.
func (h *harness) testEvents(t *testing.T) {
	ldr := h.env.A.Keys[model.RoleLDR]
	email := uniq("events") + "@score.example"
	cid := h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":%q,"lifecycle_stage":"lead"}`, email))

	res := h.want(t, http.StatusOK, ldr, "POST", "/api/v1/events", fmt.Sprintf(`{"events":[
		{"email":%q,"kind":"pricing_page_view","url":"https://acme.example/pricing","title":"Pricing"},
		{"contact_id":%d,"kind":"bogus_kind"},
		{"email":"nobody-%s@score.example","kind":"page_view"},
		{"contact_id":%d,"kind":"page_view","occurred_at":"2026-01-02T03:04:05Z"}]}`, email, cid, uniq("x"), cid))
	expectFields(t, "result", res, map[string]any{"submitted": float64(4), "applied": float64(2), "rejected": float64(2), "promoted": []any{}})
	errs := res["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	for i, want := range []struct {
		index float64
		field string
	}{{1, "events[1].kind"}, {2, "events[2].email"}} {
		e := errs[i].(map[string]any)
		if e["index"] != want.index || e["field"] != want.field || e["message"] == "" {
			t.Errorf("errors[%d] = %v, want %v", i, e, want)
		}
	}

	// 4 × 15 = 60 reaches the default threshold of 50: the lead becomes an mql.
	batch := strings.TrimSuffix(strings.Repeat(fmt.Sprintf(`{"contact_id":%d,"kind":"trial_activity"},`, cid), 4), ",")
	res = h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/events", `{"events":[`+batch+`]}`)
	expectFields(t, "result", res, map[string]any{"submitted": float64(4), "applied": float64(4), "rejected": float64(0), "errors": []any{}, "promoted": []any{float64(cid)}})
	if c := h.want(t, http.StatusOK, h.adminA(), "GET", fmt.Sprintf("/api/v1/contacts/%d", cid), ""); c["lifecycle_stage"] != "mql" {
		t.Errorf("lifecycle_stage %v, want mql", c["lifecycle_stage"])
	}

	// The score: what the events add, line by line.
	sc := h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/contacts/%d/score", cid), "")
	if sc["contact_id"] != float64(cid) || sc["events"] != float64(6) || sc["mql_threshold"] != float64(50) {
		t.Errorf("score %v", sc)
	}
	score := sc["score"].(float64)
	if score < 60 || score > 71 {
		t.Errorf("score %v, want about 70 (10 + 60 now, plus a decayed page view)", score)
	}
	var sum float64
	for _, l := range sc["lines"].([]any) {
		sum += l.(map[string]any)["points"].(float64)
	}
	if math.Abs(sum-score) > 1e-6 {
		t.Errorf("lines add up to %v, score is %v", sum, score)
	}
	// A contact never scored has a zero score, not an error.
	fresh := h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":"%s@score.example"}`, uniq("fresh")))
	if sc := h.want(t, http.StatusOK, h.adminA(), "GET", fmt.Sprintf("/api/v1/contacts/%d/score", fresh), ""); sc["score"] != float64(0) {
		t.Errorf("fresh score %v", sc)
	}
	wantProblem(t, h.call(t, h.adminA(), "GET", "/api/v1/contacts/999999999/score", ""), http.StatusNotFound, "")

	// Refused whole, with the field at fault.
	over := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"contact_id":1,"kind":"page_view"},`, 1001), ",") + `]}`
	for _, c := range []struct{ body, field string }{
		{over, "events"},
		{`{"events":[]}`, "events"},
		{`{}`, "events"},
		{`{"events":{}}`, "events"},
		{`{"evnts":[]}`, "evnts"},
		{`{"events":[{"contact_id":"x","kind":"page_view"}]}`, "events[0].contact_id"},
		{`{"events":[{"contact_id":1,"kynd":"page_view"}]}`, "events[0].kynd"},
		{`{"events":[{"contact_id":1,"kind":"page_view","occurred_at":"yesterday"}]}`, "events[0].occurred_at"},
		{`{"events":[7]}`, "events[0]"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/events", c.body), http.StatusBadRequest, c.field)
	}
	for _, bad := range []string{`{"events":[`, `[]`, `null`} {
		if p := wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/events", bad), http.StatusBadRequest, ""); p["code"] != "invalid_json" {
			t.Errorf("%s: code %v", bad, p["code"])
		}
	}
	if p := wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/events", ""), http.StatusBadRequest, ""); p["code"] != "invalid_json" {
		t.Errorf("empty body: code %v", p["code"])
	}
	// Nothing of the refused batches was applied.
	if sc := h.want(t, http.StatusOK, h.adminA(), "GET", fmt.Sprintf("/api/v1/contacts/%d/score", cid), ""); sc["events"] != float64(6) {
		t.Errorf("events %v after refused batches, want 6", sc["events"])
	}
}

// testScoringConfig reads and replaces the scoring configuration: defaults first,
// validation errors naming the rule part, admin-only writes, and fit rules that
// show in a breakdown. It puts the defaults back at the end.
func (h *harness) testScoringConfig(t *testing.T) {
	a := h.env.A
	ldr := a.Keys[model.RoleLDR]
	def := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/scoring/config", "")
	expectFields(t, "config", def, map[string]any{"half_life_seconds": float64(14 * 24 * 3600), "mql_threshold": float64(50), "fit_rules": []any{}})
	if w := def["event_weights"].(map[string]any); w["pricing_page_view"] != float64(10) || len(w) != 7 {
		t.Errorf("event_weights %v", w)
	}

	good := `{"half_life_seconds":604800,"mql_threshold":40,"event_weights":{"page_view":1,"demo_request":25},
		"fit_rules":[{"field":"title","op":"contains","value":"VP","points":15}]}`
	for _, role := range []string{model.RoleLDR, model.RoleAE} {
		if p := wantProblem(t, h.call(t, a.Keys[role], "PUT", "/api/v1/scoring/config", good), http.StatusForbidden, ""); p["code"] != "forbidden" {
			t.Errorf("%s: code %v", role, p["code"])
		}
	}
	for _, c := range []struct{ body, field string }{
		{`{"half_life_seconds":604800,"mql_threshold":40,"event_weights":{"page_view":1},"fit_rules":[{"field":"title","op":"contains","value":"VP","points":15},{"field":"title","op":"bogus","value":"x","points":1}]}`, "fit_rules[1].op"},
		{`{"half_life_seconds":60,"mql_threshold":40,"event_weights":{"page_view":1},"fit_rules":[]}`, "half_life_seconds"},
		{`{"half_life_seconds":604800,"mql_threshold":40,"event_weights":{"page_view":-1},"fit_rules":[]}`, "event_weights.page_view"},
		{`{"half_life_seconds":604800,"mql_threshold":40,"event_weights":{"page_view":1},"fit_rules":[{"field":"custom.nope","op":"eq","value":"x","points":1}]}`, "fit_rules[0].field"},
		{`{"half_life_seconds":"week","mql_threshold":40,"event_weights":{"page_view":1}}`, "half_life_seconds"},
		{`{"half_life":604800}`, "half_life"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/scoring/config", c.body), http.StatusBadRequest, c.field)
	}
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/scoring/config", `{"half_life_seconds":`), http.StatusBadRequest, "")
	if cfg := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/scoring/config", ""); cfg["mql_threshold"] != float64(50) {
		t.Errorf("a refused save changed the configuration: %v", cfg)
	}

	saved := h.want(t, http.StatusOK, a.Keys[model.RoleManager], "PUT", "/api/v1/scoring/config", good)
	expectFields(t, "saved", saved, map[string]any{"half_life_seconds": float64(604800), "mql_threshold": float64(40)})
	if saved["updated_by"] == nil || saved["updated_at"] == nil {
		t.Errorf("saved without updated_by/updated_at: %v", saved)
	}
	rules := saved["fit_rules"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["label"] == "" {
		t.Errorf("fit_rules %v (a missing label defaults to a description)", rules)
	}
	got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/scoring/config", "")
	if got["mql_threshold"] != float64(40) || len(got["event_weights"].(map[string]any)) != 2 {
		t.Errorf("GET after PUT: %v", got)
	}
	// The fit rule shows in a breakdown, and the new event kind scores.
	cid := h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":"%s@score.example","title":"VP Sales"}`, uniq("vp")))
	h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/events", fmt.Sprintf(`{"events":[{"contact_id":%d,"kind":"demo_request"}]}`, cid))
	sc := h.want(t, http.StatusOK, h.adminA(), "GET", fmt.Sprintf("/api/v1/contacts/%d/score", cid), "")
	if sc["fit"] != float64(15) || sc["mql_threshold"] != float64(40) || sc["half_life_seconds"] != float64(604800) {
		t.Errorf("score %v", sc)
	}
	if line := sc["lines"].([]any)[0].(map[string]any); line["source"] != "fit" || !strings.Contains(line["text"].(string), "VP") {
		t.Errorf("first line %v", line)
	}

	// Workspace B still scores with the defaults.
	if cfg := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/scoring/config", ""); cfg["mql_threshold"] != float64(50) {
		t.Errorf("B's configuration changed: %v", cfg)
	}
	h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/scoring/config", `{"half_life_seconds":1209600,"mql_threshold":50,"event_weights":{"page_view":1,"pricing_page_view":10,"content_download":8,"email_open":1,"email_click":3,"form_submit":10,"trial_activity":15},"fit_rules":[]}`)
}

// segmentRules is a valid segment list whose third rule's value is filled in.
func segmentRules(bigValue string) string {
	return `{"segment_rules":[
		{"segment":"smb","conditions":[{"field":"employees","op":"lt","value":100}]},
		{"segment":"mid","conditions":[{"field":"employees","op":"LT","value":1000}]},
		{"segment":"big","conditions":[{"field":"employees","op":"gte","value":` + bigValue + `}]},
		{"segment":"unknown","catch_all":true,"conditions":[]}],
	 "routing_rules":[
		{"segment":"big","motion":"high_touch","team":"enterprise","assignment_policy":"territory"},
		{"segment":"","motion":"digital","team":"smb"}]}`
}

// testRoutingRules reads and replaces the rule set and explains an account's
// routing; it puts the defaults back at the end.
func (h *harness) testRoutingRules(t *testing.T) {
	a := h.env.A
	ldr := a.Keys[model.RoleLDR]
	def := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/routing/rules", "")
	expectFields(t, "rules", def, map[string]any{"default_segment_rules": true, "default_routing_rules": true})
	if n, m := len(def["segment_rules"].([]any)), len(def["routing_rules"].([]any)); n != 4 || m != 4 {
		t.Errorf("default rules: %d segment, %d routing", n, m)
	}

	// Under the defaults: 1,200 employees is enterprise, high touch.
	acct := h.mk(t, h.adminA(), "accounts", fmt.Sprintf(`{"name":"%s","employees":1200}`, uniq("routed")))
	rt := h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/accounts/%d/routing", acct), "")
	cur := rt["current"].(map[string]any)
	if cur["segment"] != "enterprise" || cur["motion"] != "high_touch" || !strings.Contains(cur["reason"].(string), "1,200") {
		t.Errorf("current %v", cur)
	}
	if in := cur["inputs"].(map[string]any); in["employees"] != float64(1200) {
		t.Errorf("inputs %v", in)
	}
	decs := rt["decisions"].([]any)
	if len(decs) != 1 {
		t.Fatalf("decisions %v", decs)
	}
	if d := decs[0].(map[string]any); d["segment"] != "enterprise" || d["motion"] != "high_touch" || d["account_id"] != float64(acct) || d["manual"] != false {
		t.Errorf("decision %v", d)
	}
	wantProblem(t, h.call(t, h.adminA(), "GET", "/api/v1/accounts/999999999/routing", ""), http.StatusNotFound, "")

	good := segmentRules(`"1,000"`)
	for _, role := range []string{model.RoleLDR, model.RoleAE} {
		if p := wantProblem(t, h.call(t, a.Keys[role], "PUT", "/api/v1/routing/rules", good), http.StatusForbidden, ""); p["code"] != "forbidden" {
			t.Errorf("%s: code %v", role, p["code"])
		}
	}
	for _, c := range []struct{ body, field string }{
		{segmentRules(`"lots"`), "segment_rules[2].conditions[0].value"},
		{strings.Replace(good, `"segment":"big","motion"`, `"segment":"huge","motion"`, 1), "routing_rules[0].segment"},
		{strings.Replace(good, `"field":"employees","op":"lt"`, `"field":"custom.tier","op":"lt"`, 1), "segment_rules[0].conditions[0].field"},
		{`{"segment_rules":{}}`, "segment_rules"},
		{`{"segment_rulez":[]}`, "segment_rulez"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/routing/rules", c.body), http.StatusBadRequest, c.field)
	}
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/routing/rules", `{"segment_rules":[`), http.StatusBadRequest, "")
	if got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/routing/rules", ""); got["default_segment_rules"] != true {
		t.Errorf("a refused save changed the rules: %v", got)
	}

	// Saving enqueues the re-routing of existing accounts; wait for it so the
	// assertions (and later scenarios' snapshots) see a settled workspace.
	rerouted := h.env.JobsDone("routing_reroute")
	saved := h.want(t, http.StatusOK, a.Keys[model.RoleManager], "PUT", "/api/v1/routing/rules", good)
	h.env.WaitJobs(t, "routing_reroute", rerouted+1)
	expectFields(t, "saved", saved, map[string]any{"default_segment_rules": false, "default_routing_rules": false})
	segs := saved["segment_rules"].([]any)
	if len(segs) != 4 {
		t.Fatalf("segment_rules %v", segs)
	}
	c := segs[2].(map[string]any)["conditions"].([]any)[0].(map[string]any)
	if c["value"] != float64(1000) || segs[1].(map[string]any)["conditions"].([]any)[0].(map[string]any)["op"] != "lt" {
		t.Errorf("values and ops are not normalised: %v", segs)
	}
	if r := saved["routing_rules"].([]any)[1].(map[string]any); r["pipeline"] != "digital" || r["assignment_policy"] != "round_robin" {
		t.Errorf("routing rule defaults not filled in: %v", r)
	}
	got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/routing/rules", "")
	if got["default_segment_rules"] != false || len(got["routing_rules"].([]any)) != 2 {
		t.Errorf("GET after PUT: %v", got)
	}
	// The job moved the account under the new rules, with a decision naming the change.
	rt = h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/accounts/%d/routing", acct), "")
	if cur := rt["current"].(map[string]any); cur["segment"] != "big" || cur["motion"] != "high_touch" {
		t.Errorf("current after the rule change %v", cur)
	}
	decs = rt["decisions"].([]any)
	if len(decs) != 2 {
		t.Fatalf("decisions after the rule change %v", decs)
	}
	if d := decs[0].(map[string]any); d["segment"] != "big" || d["previous_segment"] != "enterprise" || !strings.HasPrefix(d["triggered_by"].(string), "routing rules changed by ") {
		t.Errorf("re-routing decision %v", d)
	}
	if acc := h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/accounts/%d", acct), ""); acc["segment"] != "big" {
		t.Errorf("stored segment %v, want big", acc["segment"])
	}
	h.want(t, http.StatusOK, h.adminA(), "PATCH", fmt.Sprintf("/api/v1/accounts/%d", acct), `{"employees":50}`)
	rt = h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/accounts/%d/routing", acct), "")
	decs = rt["decisions"].([]any)
	if len(decs) != 3 {
		t.Fatalf("decisions %v", decs)
	}
	if d := decs[0].(map[string]any); d["segment"] != "smb" || d["previous_segment"] != "big" || d["previous_motion"] != "high_touch" {
		t.Errorf("newest decision %v", d)
	}

	// B keeps the defaults; empty lists put A's back.
	if got := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/routing/rules", ""); got["default_segment_rules"] != true {
		t.Errorf("B's rules changed: %v", got)
	}
	rerouted = h.env.JobsDone("routing_reroute")
	back := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/routing/rules", `{"segment_rules":[],"routing_rules":[]}`)
	h.env.WaitJobs(t, "routing_reroute", rerouted+1)
	expectFields(t, "reset", back, map[string]any{"default_segment_rules": true, "default_routing_rules": true})
	if n := len(back["segment_rules"].([]any)); n != 4 {
		t.Errorf("reset gave %d segment rules", n)
	}
}
