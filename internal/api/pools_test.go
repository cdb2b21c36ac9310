package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

// testPools creates, reads, changes and deletes a pool, manages a member and
// the SLA settings, checking the validation errors name their field and that
// only admins (and managers) write.
func (h *harness) testPools(t *testing.T) {
	a, b := h.env.A, h.env.B
	ldrKey := a.Keys[model.RoleLDR]
	name := uniq("pool ")
	body := fmt.Sprintf(`{"name":%q,"role":"ldr","team":"smb","regions":["EMEA"," ","emea"],"capacity":25}`, name)

	for _, role := range []string{model.RoleLDR, model.RoleAE} {
		wantProblem(t, h.call(t, a.Keys[role], "POST", "/api/v1/pools", body), http.StatusForbidden, "")
	}
	for _, c := range []struct{ body, field string }{
		{`{"name":"x","role":"sdr","capacity":5}`, "role"},
		{`{"name":"x","role":"ae","capacity":0}`, "capacity"},
		{`{"name":"x","role":"ae","capacity":-3}`, "capacity"},
		{`{"name":"x","role":"ae"}`, "capacity"},
		{`{"name":"  ","role":"ae","capacity":5}`, "name"},
		{`{"name":"x","role":"ae","capacity":"lots"}`, "capacity"},
		{`{"name":"x","role":"ae","capacity":5,"colour":"red"}`, "colour"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/pools", c.body), http.StatusBadRequest, c.field)
	}

	res := h.call(t, h.adminA(), "POST", "/api/v1/pools", body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	created := res.object(t)
	pid := id(t, created, "id")
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/pools/%d", pid) {
		t.Errorf("Location %q", loc)
	}
	if r := created["regions"].([]any); len(r) != 1 || r[0] != "EMEA" {
		t.Errorf("regions not normalised: %v", r)
	}
	wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/pools", body), http.StatusConflict, "name")
	if !h.auditHas(t, "pool_create", "pool", pid) {
		t.Error("pool_create not audited")
	}

	// Reads for any role.
	got := h.want(t, http.StatusOK, ldrKey, "GET", fmt.Sprintf("/api/v1/pools/%d", pid), "")
	expectFields(t, "pool", got, map[string]any{"name": name, "role": "ldr", "team": "smb", "capacity": float64(25)})
	found := false
	for _, it := range items(t, h.want(t, http.StatusOK, ldrKey, "GET", "/api/v1/pools", "")) {
		found = found || id(t, it, "id") == pid
	}
	if !found {
		t.Errorf("pool %d not listed", pid)
	}

	// PATCH changes only what it names.
	wantProblem(t, h.call(t, ldrKey, "PATCH", fmt.Sprintf("/api/v1/pools/%d", pid), `{"capacity":3}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, h.adminA(), "PATCH", fmt.Sprintf("/api/v1/pools/%d", pid), `{"role":"boss"}`), http.StatusBadRequest, "role")
	got = h.want(t, http.StatusOK, h.adminA(), "PATCH", fmt.Sprintf("/api/v1/pools/%d", pid), `{"capacity":3,"team":"mid"}`)
	expectFields(t, "patched", got, map[string]any{"name": name, "role": "ldr", "team": "mid", "capacity": float64(3)})

	// Members: a workspace member is added; a user of B answers like a missing user.
	ldr := a.Users[model.RoleLDR].ID
	mpath := func(uid int64) string { return fmt.Sprintf("/api/v1/pools/%d/members/%d", pid, uid) }
	wantProblem(t, h.call(t, ldrKey, "PUT", mpath(ldr), `{}`), http.StatusForbidden, "")
	m := h.want(t, http.StatusOK, h.adminA(), "PUT", mpath(ldr), `{"out_of_office_until":"2030-01-02T00:00:00Z","regions":["NA"]}`)
	expectFields(t, "member", m, map[string]any{"user_id": float64(ldr), "active": true, "out_of_office_until": "2030-01-02T00:00:00Z", "open_items": float64(0), "email": a.Users[model.RoleLDR].Email})
	m = h.want(t, http.StatusOK, h.adminA(), "PUT", mpath(ldr), `{"active":false,"out_of_office_until":null}`)
	if m["active"] != false || m["out_of_office_until"] != nil {
		t.Errorf("member not replaced: %v", m)
	}
	foreign := wantProblem(t, h.call(t, h.adminA(), "PUT", mpath(b.Users[model.RoleLDR].ID), `{}`), http.StatusBadRequest, "user_id")
	missing := wantProblem(t, h.call(t, h.adminA(), "PUT", mpath(999999999), `{}`), http.StatusBadRequest, "user_id")
	if foreign["detail"] != missing["detail"] {
		t.Errorf("a foreign user answers differently from a missing one: %v vs %v", foreign, missing)
	}
	wantProblem(t, h.call(t, h.adminA(), "PUT", mpath(ldr), `{"out_of_office_until":"next week"}`), http.StatusBadRequest, "out_of_office_until")
	got = h.want(t, http.StatusOK, ldrKey, "GET", fmt.Sprintf("/api/v1/pools/%d", pid), "")
	if ms := got["members"].([]any); len(ms) != 1 || ms[0].(map[string]any)["user_id"] != float64(ldr) {
		t.Errorf("members %v", ms)
	}
	h.want(t, http.StatusNoContent, h.adminA(), "DELETE", mpath(ldr), "")
	wantProblem(t, h.call(t, h.adminA(), "DELETE", mpath(ldr), ""), http.StatusNotFound, "")

	// SLA settings.
	st := h.want(t, http.StatusOK, ldrKey, "GET", "/api/v1/assignment/settings", "")
	if st["timezone"] == "" || st["sla_minutes"].(map[string]any)["digital"] == nil {
		t.Errorf("settings %v", st)
	}
	wantProblem(t, h.call(t, ldrKey, "PUT", "/api/v1/assignment/settings", `{"timezone":"UTC","sla_minutes":{}}`), http.StatusForbidden, "")
	for _, c := range []struct{ body, field string }{
		{`{"timezone":"Mars/Olympus","sla_minutes":{}}`, "timezone"},
		{`{"timezone":"Europe/Berlin","sla_minutes":{"digital":0}}`, "sla_minutes.digital"},
		{`{"timezone":"Europe/Berlin","sla_minutes":{"carrier_pigeon":5}}`, "sla_minutes.carrier_pigeon"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/assignment/settings", c.body), http.StatusBadRequest, c.field)
	}
	st = h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/assignment/settings", `{"timezone":"Europe/Berlin","sla_minutes":{"digital":30}}`)
	expectFields(t, "settings", st, map[string]any{"timezone": "Europe/Berlin"})
	if mins := st["sla_minutes"].(map[string]any); mins["digital"] != float64(30) || mins["high_touch"] != float64(480) {
		t.Errorf("sla_minutes %v", mins)
	}
	if other := h.want(t, http.StatusOK, b.Keys[model.RoleLDR], "GET", "/api/v1/assignment/settings", ""); other["timezone"] == "Europe/Berlin" {
		t.Error("B sees A's settings")
	}
	h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/assignment/settings", `{"timezone":"UTC","sla_minutes":{"digital":60}}`)

	h.want(t, http.StatusNoContent, h.adminA(), "DELETE", fmt.Sprintf("/api/v1/pools/%d", pid), "")
	wantProblem(t, h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/pools/%d", pid), ""), http.StatusNotFound, "")
}
