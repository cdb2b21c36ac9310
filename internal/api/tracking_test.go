package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

// testTrackingSites: create, list, read, update and delete a tracking site; the
// key is random and stays; origins are validated per index; only admins write.
func (h *harness) testTrackingSites(t *testing.T) {
	admin := h.adminA()
	s := h.want(t, http.StatusCreated, admin, "POST", "/api/v1/tracking/sites", `{"name":"Docs","allowed_origins":["https://docs.acme.example"]}`)
	sid := id(t, s, "id")
	key, _ := s["public_key"].(string)
	if !strings.HasPrefix(key, "rs_") || s["consent_mode"] != "none" || s["workspace_id"] != float64(h.env.A.ID) {
		t.Fatalf("created: %v", s)
	}
	path := fmt.Sprintf("/api/v1/tracking/sites/%d", sid)
	found := false
	for _, it := range items(t, h.want(t, http.StatusOK, h.env.A.Keys[model.RoleLDR], "GET", "/api/v1/tracking/sites", "")) {
		found = found || id(t, it, "id") == sid
	}
	if !found {
		t.Fatal("site not listed")
	}
	if got := h.want(t, http.StatusOK, h.env.A.Keys[model.RoleLDR], "GET", path, ""); got["public_key"] != key {
		t.Fatalf("get: %v", got)
	}
	u := h.want(t, http.StatusOK, admin, "PATCH", path, `{"consent_mode":"required","allowed_origins":["https://docs.acme.example","http://localhost:3000"]}`)
	if u["public_key"] != key || u["consent_mode"] != "required" || len(u["allowed_origins"].([]any)) != 2 || u["name"] != "Docs" {
		t.Fatalf("patched: %v", u)
	}
	wantProblem(t, h.call(t, admin, "PATCH", path, `{"allowed_origins":["https://ok.example","https://bad.example/path"]}`), http.StatusBadRequest, "allowed_origins[1]")
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/tracking/sites", `{"name":"","allowed_origins":["https://a.example"]}`), http.StatusBadRequest, "name")
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleAE], "PATCH", path, `{"name":"x"}`), http.StatusForbidden, "")
	h.want(t, http.StatusNoContent, admin, "DELETE", path, "")
	wantProblem(t, h.call(t, admin, "GET", path, ""), http.StatusNotFound, "")
}

func (h *harness) trackingTarget() target {
	return target{
		create: func(t *testing.T, ws apptest.WS) int64 {
			return id(t, h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/tracking/sites",
				fmt.Sprintf(`{"name":%q,"allowed_origins":["https://victim.example"]}`, uniq("xws"))), "id")
		},
		snapshot: func(t *testing.T, sid int64) string {
			return string(h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/tracking/sites/%d", sid), "").Body)
		},
		patch: `{"name":"Hijacked","allowed_origins":["https://evil.example"]}`,
	}
}
