package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

// unmetCodes lists "stage/code/detail" of a gate_unmet problem's extra.unmet.
func unmetCodes(t *testing.T, p map[string]any) []string {
	t.Helper()
	if p["code"] != "gate_unmet" || p["status"] != 422.0 {
		t.Fatalf("not a gate refusal: %v", p)
	}
	var out []string
	for _, u := range p["extra"].(map[string]any)["unmet"].([]any) {
		m := u.(map[string]any)
		d := ""
		for _, k := range []string{"field", "kind", "role"} {
			if v, ok := m[k].(string); ok {
				d = v
			}
		}
		if m["code"] == "committee_approved" {
			d = fmt.Sprintf("%v/%v", m["have"], m["need"])
		}
		if m["message"] == "" {
			t.Errorf("unmet without a message: %v", m)
		}
		out = append(out, fmt.Sprintf("%v/%v/%s", m["stage"], m["code"], d))
	}
	slices.Sort(out)
	return out
}

func (h *harness) testPipelines(t *testing.T) {
	a := h.env.A
	ae, admin := a.Keys[model.RoleAE], h.adminA()

	def := h.want(t, http.StatusOK, ae, "GET", "/api/v1/pipelines", "")
	if def["default"] != true || len(def["pipelines"].([]any)) != 2 {
		t.Fatalf("defaults: %v", def)
	}
	// Validation names the element.
	bad := `{"pipelines":[{"key":"high_touch","stages":[{"key":"suspect"},{"key":"prospect","probability":140}]},{"key":"digital","stages":[{"key":"qualified"}]}]}`
	r := h.call(t, admin, "PUT", "/api/v1/pipelines", bad)
	if p := r.object(t); r.Status != 400 || p["field"] != "pipelines[0].stages[1].probability" {
		t.Fatalf("bad probability: %d %v", r.Status, p)
	}
	r = h.call(t, admin, "PUT", "/api/v1/pipelines", `{"pipelines":[{"key":"digital","stages":[{"key":"qualified","exit":{"activities":["lunch"]}}]}]}`)
	if p := r.object(t); r.Status != 400 || p["field"] != "pipelines[0].stages[0].exit.activities[0]" {
		t.Fatalf("bad activity: %d %v", r.Status, p)
	}
	h.want(t, http.StatusForbidden, ae, "PUT", "/api/v1/pipelines", `{"pipelines":[]}`)
	// A saved pipeline (stale days edited) is what the workspace uses; [] returns to the defaults.
	edited := strings.Replace(`{"pipelines":[{"key":"high_touch","name":"Enterprise","stages":[{"key":"suspect","stale_days":3},{"key":"prospect"},{"key":"approach","exit":{"activities":["demo"]}},{"key":"negotiation"},{"key":"close"},{"key":"order"}]},{"key":"digital","stages":[{"key":"qualified"},{"key":"trial"},{"key":"proposal"},{"key":"won"}]}]}`, "\n", "", -1)
	saved := h.want(t, http.StatusOK, admin, "PUT", "/api/v1/pipelines", edited)
	if saved["default"] != false || saved["pipelines"].([]any)[0].(map[string]any)["name"] != "Enterprise" {
		t.Fatalf("saved %v", saved)
	}
	h.want(t, http.StatusOK, admin, "PUT", "/api/v1/pipelines", `{"pipelines":[]}`)
	if got := h.want(t, http.StatusOK, ae, "GET", "/api/v1/pipelines", ""); got["default"] != true {
		t.Fatalf("not back to defaults: %v", got)
	}

	// Gates on the API PATCH path.
	acct := h.mk(t, admin, "accounts", fmt.Sprintf(`{"name":"%s"}`, uniq("Gated")))
	deal := h.mk(t, ae, "deals", fmt.Sprintf(`{"name":"Gated deal","pipeline":"high_touch","stage":"approach","account_id":%d}`, acct))
	path := fmt.Sprintf("/api/v1/deals/%d", deal)
	p := h.call(t, ae, "PATCH", path, `{"stage":"negotiation"}`).object(t)
	if got, want := unmetCodes(t, p), []string{"approach/activity/demo", "approach/required_field/amount"}; !slices.Equal(got, want) {
		t.Fatalf("approach → negotiation unmet %v, want %v", got, want)
	}
	h.mk(t, ae, "activities", fmt.Sprintf(`{"kind":"demo","subject":"Demo","deal_id":%d}`, deal))
	h.want(t, http.StatusOK, ae, "PATCH", path, `{"stage":"negotiation","amount":500000}`)
	// Skipping ahead checks every stage left.
	p = h.call(t, ae, "PATCH", path, `{"stage":"order"}`).object(t)
	want := []string{"close/committee_approved/0/6", "close/committee_role/economic_buyer", "close/committee_role/legal", "negotiation/activity/contract_discussion", "negotiation/required_field/expected_close_date"}
	if got := unmetCodes(t, p); !slices.Equal(got, want) {
		t.Fatalf("negotiation → order unmet %v, want %v", got, want)
	}
	// Losing needs no gate; moving backward neither.
	h.want(t, http.StatusOK, ae, "PATCH", path, `{"stage":"prospect"}`)
	h.want(t, http.StatusOK, ae, "PATCH", path, `{"stage":"negotiation"}`)

	// The committee.
	roles := []string{"economic_buyer", "legal", "champion", "finance", "procurement", "technical_decision_maker"}
	var contacts []int64
	for i, role := range roles {
		c := h.mk(t, ae, "contacts", fmt.Sprintf(`{"email":"%s@gated.example","first_name":"Exec%d","account_id":%d}`, uniq("exec"), i, acct))
		contacts = append(contacts, c)
		m := h.want(t, http.StatusOK, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, c), fmt.Sprintf(`{"role":"%s"}`, role))
		if m["signoff"] != "pending" || m["role"] != role {
			t.Fatalf("new member %v", m)
		}
	}
	r = h.call(t, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, contacts[0]), `{"signoff":"maybe"}`)
	if p := r.object(t); r.Status != 400 || p["field"] != "signoff" {
		t.Fatalf("bad signoff %d %v", r.Status, p)
	}
	// A contact of workspace B answers like a missing one.
	bc := h.mk(t, h.adminB(), "contacts", fmt.Sprintf(`{"email":"%s@beta.example"}`, uniq("b")))
	foreign := h.call(t, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, bc), `{"role":"legal"}`)
	missing := h.call(t, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, 999999999), `{"role":"legal"}`)
	if foreign.Status != 404 || missing.Status != 404 || foreign.object(t)["detail"] != missing.object(t)["detail"] {
		t.Fatalf("foreign contact %d %s / missing %d %s", foreign.Status, foreign.Body, missing.Status, missing.Body)
	}
	h.mk(t, ae, "activities", fmt.Sprintf(`{"kind":"contract_discussion","subject":"Redlines","deal_id":%d}`, deal))
	h.want(t, http.StatusOK, ae, "PATCH", path, `{"stage":"close","expected_close_date":"2026-12-20"}`)
	// Five approvals, no legal: still refused, and the list says so.
	for i := range 5 {
		if i == 1 {
			continue
		}
		h.want(t, http.StatusOK, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, contacts[i]), `{"signoff":"approved","note":"ok"}`)
	}
	h.want(t, http.StatusOK, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, contacts[1]), `{"signoff":"rejected","note":"redlines open"}`)
	h.want(t, http.StatusOK, ae, "PUT", fmt.Sprintf("%s/committee/%d", path, contacts[5]), `{"signoff":"approved"}`)
	p = h.call(t, ae, "PATCH", path, `{"stage":"order"}`).object(t)
	if got, want := unmetCodes(t, p), []string{"close/committee_approved/5/6", "close/committee_role/legal"}; !slices.Equal(got, want) {
		t.Fatalf("close → order unmet %v, want %v", got, want)
	}
	cm := h.want(t, http.StatusOK, ae, "GET", path+"/committee", "")
	if ms := cm["members"].([]any); len(ms) != 6 {
		t.Fatalf("committee %v", cm)
	}
	// An AE cannot override; an admin can, with a reason, audited.
	r = h.call(t, ae, "PATCH", path, `{"stage":"order","override_reason":"CEO signed"}`)
	if p := r.object(t); r.Status != 400 || p["field"] != "override_reason" {
		t.Fatalf("ae override: %d %v", r.Status, p)
	}
	h.want(t, http.StatusOK, admin, "PATCH", path, `{"stage":"order","override_reason":"Legal approved by email; signature follows"}`)
	audit := h.want(t, http.StatusOK, admin, "GET", "/api/v1/audit", "")
	found := false
	for _, e := range audit["items"].([]any) {
		m := e.(map[string]any)
		if m["action"] == "deal_gate_override" && m["target_id"] == float64(deal) {
			found = strings.Contains(fmt.Sprint(m["detail"]), "Legal approved by email")
		}
	}
	if !found {
		t.Errorf("override not audited: %v", audit)
	}
	// Taking a member off.
	h.call(t, ae, "DELETE", fmt.Sprintf("%s/committee/%d", path, contacts[5]), "")
	if ms := h.want(t, http.StatusOK, ae, "GET", path+"/committee", "")["members"].([]any); len(ms) != 5 {
		t.Fatalf("after delete %d members", len(ms))
	}
	if r := h.call(t, ae, "DELETE", fmt.Sprintf("%s/committee/%d", path, contacts[5]), ""); r.Status != 404 {
		t.Fatalf("second delete %d", r.Status)
	}
}
