package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
)

func (h *harness) testForms(t *testing.T) {
	a := h.env.A
	asset := h.want(t, http.StatusCreated, a.Keys[model.RoleLDR], "POST", "/api/v1/content",
		`{"title":"SMB onboarding checklist","url":"https://cdn.example/checklist.pdf","type":"checklist","stage":"decision","segment":"smb","topic":"onboarding"}`)
	aid := id(t, asset, "id")
	wantProblem(t, h.call(t, a.Keys[model.RoleLDR], "POST", "/api/v1/content", `{"title":"x","url":"https://x.example","type":"podcast"}`), http.StatusBadRequest, "type")
	h.want(t, http.StatusOK, a.Keys[model.RoleAE], "PATCH", fmt.Sprintf("/api/v1/content/%d", aid), `{"topic":"setup"}`)
	if got := h.want(t, http.StatusOK, a.Keys[model.RoleCSM], "GET", fmt.Sprintf("/api/v1/content/%d", aid), ""); got["topic"] != "setup" || got["title"] != "SMB onboarding checklist" {
		t.Errorf("asset after patch %v", got)
	}
	if n := len(items(t, h.want(t, http.StatusOK, a.Keys[model.RoleCSM], "GET", "/api/v1/content", ""))); n < 1 {
		t.Errorf("content list has %d items", n)
	}

	body := fmt.Sprintf(`{"name":%q,"kind":"gated_content","asset_id":%d,"fields":[{"field":"first_name","required":true}],"progressive":[{"field":"title"}],
		"consent_text":"Send me the checklist and related tips.","consent_version":"2026-11","allowed_origins":["https://shop.example"]}`, uniq("Checklist "), aid)
	if p := wantProblem(t, h.call(t, a.Keys[model.RoleAE], "POST", "/api/v1/forms", body), http.StatusForbidden, ""); p["code"] != "forbidden" {
		t.Errorf("an AE created a form: %v", p)
	}
	wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/forms", `{"name":"x","kind":"signup","fields":[{"field":"shoe"}]}`), http.StatusBadRequest, "fields[0].field")
	wantProblem(t, h.call(t, h.adminA(), "POST", "/api/v1/forms", `{"name":"x","kind":"signup","colour":"red"}`), http.StatusBadRequest, "colour")
	f := h.want(t, http.StatusCreated, h.adminA(), "POST", "/api/v1/forms", body)
	fid, key := id(t, f, "id"), f["key"].(string)
	if fs := f["fields"].([]any); len(fs) != 2 || fs[0].(map[string]any)["field"] != "email" {
		t.Errorf("fields %v: email first", fs)
	}
	upd := h.want(t, http.StatusOK, h.adminA(), "PATCH", fmt.Sprintf("/api/v1/forms/%d", fid), `{"redirect_url":"https://shop.example/thanks"}`)
	if upd["key"] != key || upd["redirect_url"] != "https://shop.example/thanks" || upd["consent_version"] != "2026-11" {
		t.Errorf("after patch %v", upd)
	}
	h.want(t, http.StatusOK, a.Keys[model.RoleLDR], "GET", fmt.Sprintf("/api/v1/forms/%d", fid), "")
	if n := len(items(t, h.want(t, http.StatusOK, a.Keys[model.RoleLDR], "GET", "/api/v1/forms", ""))); n < 1 {
		t.Errorf("forms list %d", n)
	}

	// A public post through the whole app: no credential, JSON from the embed
	// (public routes are outside the API document, so not through h.call).
	public := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(h.env.URL+path, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, out := public("/f/"+key, `{"email":"reader@shop.example","first_name":"Rae","consent":"yes","utm_source":"newsletter"}`)
	if status != http.StatusOK || !strings.Contains(out, "https://cdn.example/checklist.pdf") {
		t.Fatalf("public post: %d %s", status, out)
	}
	if status, _ := public("/f/"+key, `{"email":"bot@shop.example","first_name":"B","consent":"yes","_hp":"x"}`); status != http.StatusOK {
		t.Fatalf("honeypot post: %d", status)
	}
	subs := h.want(t, http.StatusOK, a.Keys[model.RoleLDR], "GET", fmt.Sprintf("/api/v1/forms/%d/submissions?limit=10", fid), "")
	counts := subs["counts"].(map[string]any)
	if len(items(t, subs)) != 2 || counts["accepted"] != float64(1) || counts["spam"] != float64(1) {
		t.Errorf("submissions %v", subs)
	}
	contacts := items(t, h.want(t, http.StatusOK, a.Keys[model.RoleLDR], "GET", "/api/v1/contacts?email=reader@shop.example", ""))
	if len(contacts) != 1 || contacts[0]["utm_source"] != "newsletter" || contacts[0]["source"] != "form" {
		t.Errorf("contact from the form %v", contacts)
	}

	h.want(t, http.StatusNoContent, h.adminA(), "DELETE", fmt.Sprintf("/api/v1/forms/%d", fid), "")
	if status, _ := public("/f/"+key, `{"email":"late@shop.example"}`); status != http.StatusNotFound {
		t.Errorf("post to a deleted form: %d", status)
	}
	h.want(t, http.StatusNoContent, a.Keys[model.RoleAE], "DELETE", fmt.Sprintf("/api/v1/content/%d", aid), "")
}
