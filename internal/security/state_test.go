package security_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// touched are the writes a read may make, and why:
//   - sessions: every request with a session moves its last_seen_at (at most
//     once a minute), the idle timeout's clock;
//   - api_keys.last_used_at: the same for an API key.
//
// Nothing else may change on a GET.
var touched = []string{"sessions.*", "api_keys.last_used_at"}

// readWrites are the routes whose GET writes on purpose, and what: an export
// is audited (who took the workspace's records out, and when).
var readWrites = map[string][]string{
	"GET /api/v1/exports/{object}": {"audit_log"},
}

func (s *suite) fingerprint(t *testing.T) map[string]store.TableState {
	t.Helper()
	fp, err := s.e.App.St.Fingerprint(ctx, touched...)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// changed names the tables whose state differs.
func changed(before, after map[string]store.TableState) []string {
	var out []string
	for table, st := range after {
		if before[table] != st {
			out = append(out, fmt.Sprintf("%s (%d → %d rows)", table, before[table].Rows, st.Rows))
		}
	}
	for table := range before {
		if _, ok := after[table]; !ok {
			out = append(out, table+" (gone)")
		}
	}
	slices.Sort(out)
	return out
}

// testGETChangesNothing walks every GET route of the UI (by session) and the
// API (by key) as A's admin, who may open all of them, and fingerprints the
// whole database (every table's rows, hashed) around each request: nothing may
// change but the session and key touches above and a route's declared writes.
// The app runs no job workers, so nothing else writes meanwhile.
func (s *suite) testGETChangesNothing(t *testing.T) {
	byRoute := routeOf(t)
	admin := s.e.A.Users[model.RoleAdmin]
	walked := 0
	for _, rt := range allRoutes() {
		if rt.method != http.MethodGet {
			continue
		}
		walked++
		e := byRoute[rt.key()]
		r := e.req(&fx{s: s, t: t, owner: admin})
		before := s.fingerprint(t)
		var res resp
		if rt.api {
			res = s.api(t, s.e.A.Keys[model.RoleAdmin], r)
		} else {
			res = s.browser(t, s.ui[model.RoleAdmin], r, nil)
		}
		after := s.fingerprint(t)
		if !ok(rt, res) {
			t.Errorf("%s %s: %s", r.method, r.path, res)
		}
		allowed := readWrites[rt.key()]
		for table := range after {
			if slices.Contains(allowed, table) {
				delete(after, table)
				delete(before, table)
			}
		}
		if diff := changed(before, after); len(diff) > 0 {
			t.Errorf("GET %s changed %s", r.path, strings.Join(diff, ", "))
		}
	}
	if walked < 100 {
		t.Fatalf("walked %d GET routes", walked)
	}
}

// testCSRF sends every state-changing UI route as a signed-in admin from
// another site: with Sec-Fetch-Site cross-site or same-site, and with only a
// foreign Origin (an older browser). Each is refused with 403 before any
// handler and changes nothing; the same request from this origin then passes
// to the handler. The API's session-cookie writes are covered by the same
// middleware; one is checked.
func (s *suite) testCSRF(t *testing.T) {
	byRoute := routeOf(t)
	admin := s.e.A.Users[model.RoleAdmin]
	attacks := []map[string]string{
		{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "same-site", "Origin": "https://other.rightsize.test"},
		{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
	}
	walked := 0
	for _, rt := range allRoutes() {
		if rt.api || rt.method == http.MethodGet {
			continue
		}
		walked++
		e := byRoute[rt.key()]
		t.Run(rt.key(), func(t *testing.T) {
			c := s.client(t, e, model.RoleAdmin)
			r := e.req(&fx{s: s, t: t, owner: admin, fresh: true})
			before := s.fingerprint(t)
			for _, h := range attacks {
				res := s.browser(t, c, r, h)
				if res.status != http.StatusForbidden || !strings.Contains(res.body, "cross_origin") {
					t.Errorf("%s %s with %v: %s", r.method, r.path, h, res)
				}
			}
			if diff := changed(before, s.fingerprint(t)); len(diff) > 0 {
				t.Errorf("refused cross-origin %s %s changed %s", r.method, r.path, strings.Join(diff, ", "))
			}
			if res := s.browser(t, c, r, nil); !ok(rt, res) {
				t.Errorf("same-origin %s %s: %s", r.method, r.path, res)
			}
		})
	}
	if walked < 50 {
		t.Fatalf("walked %d state-changing UI routes", walked)
	}
	// The API accepts the session cookie too: the same protection applies.
	tok := ""
	for _, ck := range s.ui[model.RoleAdmin].Jar.Cookies(mustURL(s.e.URL)) {
		if ck.Name == "rs_session" {
			tok = ck.Value
		}
	}
	before := s.fingerprint(t)
	res := s.browser(t, nil, call("POST", "/api/v1/contacts", `{"email":"csrf@evil.example"}`), map[string]string{
		"Cookie": "rs_session=" + tok, "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "cross_origin") {
		t.Errorf("cross-site API write with the session cookie: %s", res)
	}
	if diff := changed(before, s.fingerprint(t)); len(diff) > 0 {
		t.Errorf("refused API write changed %s", strings.Join(diff, ", "))
	}
}

// testCrossWorkspaceUI walks every UI route with an id by session as B's
// admin on A's records: each answers 404, like an id that never existed, and
// changes nothing.
func (s *suite) testCrossWorkspaceUI(t *testing.T) {
	byRoute := routeOf(t)
	b := s.e.Browser(t, s.e.B.Users[model.RoleAdmin].Email)
	admin := s.e.A.Users[model.RoleAdmin]
	walked := 0
	for _, rt := range allRoutes() {
		if rt.api || !hasID(rt.pattern) {
			continue
		}
		walked++
		e := byRoute[rt.key()]
		r := e.req(&fx{s: s, t: t, owner: admin, fresh: true})
		before := s.fingerprint(t)
		res := s.browser(t, b, r, nil)
		if res.status != http.StatusNotFound {
			t.Errorf("%s %s as B's admin: want 404, got %s", r.method, r.path, res)
		}
		if diff := changed(before, s.fingerprint(t)); len(diff) > 0 {
			t.Errorf("%s %s as B's admin changed %s", r.method, r.path, strings.Join(diff, ", "))
		}
	}
	if walked < 40 {
		t.Fatalf("walked %d UI routes with an id", walked)
	}
}

// testWorkspaceForgery: the agency operator (admin in A, ae in B) switches
// between its workspaces but cannot select, or reach by id, a workspace it
// does not belong to; the workspace always comes from the session.
func (s *suite) testWorkspaceForgery(t *testing.T) {
	ws := model.Workspace{Name: "Gamma Inc", Slug: "gamma", Currency: "USD"}
	var secret model.Contact
	err := s.e.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateWorkspace(ctx, &ws); err != nil {
			return err
		}
		secret = model.Contact{Email: "secret@gamma.example", LifecycleStage: "lead", Custom: model.Custom{}}
		return q.CreateContact(ctx, ws.ID, &secret)
	})
	if err != nil {
		t.Fatal(err)
	}
	agency := s.e.Browser(t, s.e.Agency.Email)
	me := func() string {
		res := s.browser(t, agency, get("/api/v1/me"), nil)
		if res.status != http.StatusOK {
			t.Fatalf("me: %s", res)
		}
		return res.body
	}
	in := func(id int64) string { return fmt.Sprintf(`"workspace_id":%d`, id) }
	if !strings.Contains(me(), in(s.e.A.ID)) {
		t.Fatalf("agency starts in %s", me())
	}
	for _, forged := range []string{itoa(ws.ID), "999999999", "0", "-1", "x"} {
		before := s.fingerprint(t)
		res := s.browser(t, agency, post("/workspace", vals("workspace_id", forged, "next", "/contacts")), nil)
		if res.status != http.StatusNotFound && res.status != http.StatusBadRequest {
			t.Errorf("switch to workspace %s: %s", forged, res)
		}
		if diff := changed(before, s.fingerprint(t)); len(diff) > 0 {
			t.Errorf("refused switch to %s changed %s", forged, strings.Join(diff, ", "))
		}
		if got := me(); !strings.Contains(got, in(s.e.A.ID)) {
			t.Errorf("after a refused switch to %s the session is in %s", forged, got)
		}
	}
	if res := s.browser(t, agency, post("/workspace", vals("workspace_id", itoa(s.e.B.ID), "next", "/")), nil); res.status != http.StatusSeeOther {
		t.Fatalf("switch to B: %s", res)
	}
	if got := me(); !strings.Contains(got, in(s.e.B.ID)) || !strings.Contains(got, `"role":"ae"`) {
		t.Fatalf("after switching to B: %s", got)
	}
	// A record of a workspace it does not belong to is not found, whatever
	// the request says its workspace is.
	for _, r := range []req{
		get("/contacts/%d", secret.ID),
		get("/contacts/%d?workspace_id=%d", secret.ID, ws.ID),
		get("/api/v1/contacts/%d", secret.ID),
		post(fmt.Sprintf("/contacts/%d", secret.ID), vals("email", "owned@evil.example", "lifecycle_stage", "lead", "workspace_id", itoa(ws.ID))),
	} {
		if res := s.browser(t, agency, r, nil); res.status != http.StatusNotFound {
			t.Errorf("%s %s: %s", r.method, r.path, res)
		}
	}
	res := s.browser(t, agency, call("POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"planted@gamma.example","workspace_id":%d}`, ws.ID)), map[string]string{"Content-Type": "application/json"})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `"field":"workspace_id"`) {
		t.Errorf("a body naming the workspace: %s", res)
	}
	if n, _ := s.e.App.St.Read().ListContacts(ctx, ws.ID, store.ListParams{Limit: 10, Count: true}, nil); *n.Total != 1 {
		t.Errorf("gamma has %d contacts", *n.Total)
	}
}

// testRemoval: a membership change takes effect on the next request. The
// agency operator removed from B loses B at once, in its open session and
// through the API key that acts for it there; a demoted manager loses the
// manager's pages on its next click.
func (s *suite) testRemoval(t *testing.T) {
	agency := s.e.Browser(t, s.e.Agency.Email)
	if res := s.browser(t, agency, post("/workspace", vals("workspace_id", itoa(s.e.B.ID), "next", "/")), nil); res.status != http.StatusSeeOther {
		t.Fatalf("switch to B: %s", res)
	}
	bContact := id(t, mustJSON(t, s.api(t, s.e.B.Keys[model.RoleAdmin], call("POST", "/api/v1/contacts", `{"email":"kept@beta.example"}`))))
	uid := s.e.Agency.ID
	_, key, err := s.e.App.Auth.CreateAPIKeyFor(ctx, model.Actor{Workspace: s.e.B.ID, Role: model.RoleAdmin}, "agency sync", model.RoleAE, uid)
	if err != nil {
		t.Fatal(err)
	}
	if res := s.api(t, key, get("/api/v1/contacts/%d", bContact)); res.status != http.StatusOK {
		t.Fatalf("agency key in B: %s", res)
	}
	if res := s.browser(t, agency, get("/contacts/%d", bContact), nil); res.status != http.StatusOK {
		t.Fatalf("agency session in B: %s", res)
	}
	if err := s.e.App.Auth.SetRole(ctx, model.Actor{Workspace: s.e.B.ID}, s.e.Agency.Email, ""); err != nil {
		t.Fatal(err)
	}
	if res := s.api(t, key, get("/api/v1/contacts/%d", bContact)); res.status != http.StatusUnauthorized {
		t.Errorf("the removed member's key: %s", res)
	}
	if res := s.browser(t, agency, get("/contacts/%d", bContact), nil); res.status != http.StatusNotFound {
		t.Errorf("the removed member's session on B's contact: %s", res)
	}
	if res := s.browser(t, agency, get("/api/v1/me"), nil); !strings.Contains(res.body, fmt.Sprintf(`"workspace_id":%d`, s.e.A.ID)) {
		t.Errorf("the removed member's session: %s", res)
	}
	if res := s.browser(t, agency, post("/workspace", vals("workspace_id", itoa(s.e.B.ID))), nil); res.status != http.StatusNotFound {
		t.Errorf("switch back to B after removal: %s", res)
	}
	// A role change: the manager's open session loses the manager's pages.
	mgr := s.e.A.Users[model.RoleManager]
	c := s.e.Browser(t, mgr.Email)
	if res := s.browser(t, c, get("/economics"), nil); res.status != http.StatusOK {
		t.Fatalf("manager on /economics: %s", res)
	}
	if err := s.e.App.Auth.SetRole(ctx, model.Actor{Workspace: s.e.A.ID}, mgr.Email, model.RoleLDR); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.e.App.Auth.SetRole(ctx, model.Actor{Workspace: s.e.A.ID}, mgr.Email, model.RoleManager) }()
	if res := s.browser(t, c, get("/economics"), nil); res.status != http.StatusForbidden {
		t.Errorf("demoted manager on /economics: %s", res)
	}
	// The manager's key may not outrank its member any more: it stops.
	if res := s.api(t, s.e.A.Keys[model.RoleManager], get("/api/v1/me")); res.status != http.StatusUnauthorized {
		t.Errorf("the demoted manager's manager key: %s", res)
	}
	if res := s.api(t, s.e.A.Keys[model.RoleLDR], get("/api/v1/me")); res.status != http.StatusOK {
		t.Errorf("an untouched member's key: %s", res)
	}
}
