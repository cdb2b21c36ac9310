package security_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/api"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/web"
)

// route is one route of the UI or the API, from their own tables.
type route struct {
	method, pattern string
	api             bool
	access          string // the class the route table declares
}

func (r route) key() string { return r.method + " " + r.pattern }

// allRoutes lists every route the UI and the API register, from the tables
// that register them: a new route is in the walk the day it is added.
func allRoutes() []route {
	var out []route
	for _, r := range web.New(web.Deps{}).Routes() {
		out = append(out, route{method: r.Method, pattern: r.Pattern, access: r.Access})
	}
	for _, r := range api.New(api.Deps{}).Routes() {
		out = append(out, route{method: r.Method, pattern: r.Pattern, api: true, access: r.Access})
	}
	return out
}

var idRE = regexp.MustCompile(`\{[a-z_]*id\}`)

// hasID reports whether a route pattern names a record ({id}, {sub_id}, …).
func hasID(pattern string) bool { return idRE.MatchString(pattern) }

// patternRE matches a concrete path against a route pattern.
func patternRE(pattern string) *regexp.Regexp {
	p := strings.TrimSuffix(pattern, "{$}")
	p = regexp.QuoteMeta(p)
	p = regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(p, `[^/]+`)
	return regexp.MustCompile("^" + p + "$")
}

// TestMatrixCoversEveryRoute: every route has exactly one matrix entry and
// every entry names a route, so the matrix cannot fall behind the tables.
func TestMatrixCoversEveryRoute(t *testing.T) {
	byRoute := routeOf(t)
	seen := map[string]bool{}
	for _, r := range allRoutes() {
		seen[r.key()] = true
		e, ok := byRoute[r.key()]
		if !ok {
			t.Errorf("%s has no entry in the security matrix (internal/security/matrix_test.go): add who may call it and how", r.key())
			continue
		}
		for _, who := range []string{e.who, e.whoSession} {
			if _, err := parseWho(who); who != "" && err != nil {
				t.Errorf("%s: %v", r.key(), err)
			}
		}
		if e.whoSession != "" && !r.api {
			t.Errorf("%s: whoSession is for API routes (a UI route is walked by session only)", r.key())
		}
		if (e.who == public) != (r.access == "public") {
			t.Errorf("%s: the route table says %s, the matrix %q", r.key(), r.access, e.who)
		}
	}
	for _, e := range matrix {
		if !seen[e.route] {
			t.Errorf("the matrix names %s, which no route table registers", e.route)
		}
	}
}

// expectation is a parsed matrix "who".
type expectation struct {
	public  bool
	allowed map[string]bool
	own     bool // the partner gets in with its own records only
}

func parseWho(who string) (expectation, error) {
	x := expectation{allowed: map[string]bool{}}
	if who == public {
		x.public = true
		for _, r := range roles {
			x.allowed[r] = true
		}
		return x, nil
	}
	for _, w := range strings.Fields(who) {
		role, own := strings.CutSuffix(w, ":own")
		if !slices.Contains(roles, role) {
			return x, fmt.Errorf("unknown role %q in %q", w, who)
		}
		if own && role != model.RolePartner {
			return x, fmt.Errorf("%q: only the partner is confined to its own records", w)
		}
		x.allowed[role], x.own = true, x.own || own
	}
	return x, nil
}

// ok reports whether r is a success: a 2xx, or for a UI route a redirect that
// is not to the login form (a form's 303).
func ok(rt route, r resp) bool {
	if r.status/100 == 2 {
		return true
	}
	// Signing out sends the visitor to the login form: that is its success.
	return !rt.api && r.status/100 == 3 && (rt.access == "public" || !strings.HasPrefix(r.header.Get("Location"), "/login"))
}

// TestSecurity runs the security scenarios on one app per store dialect. The
// route × role matrix, the unauthenticated walk, the GET walk and the CSRF walk
// exercise the HTTP layer, which is the same on both stores, and run on SQLite
// (about 2.5 minutes here; the PostgreSQL matrix alone took 3). What depends on
// the store — the partner's scope, cross-workspace ids with a database
// fingerprint, workspace forgery and removal — runs on both.
func TestSecurity(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			s := newSuite(t, kind)
			t.Run("matrix", s.testMatrix)
			t.Run("unauthenticated", s.testUnauthenticated)
			t.Run("partner_lists", s.testPartnerLists)
		})
	}
}

// TestNoSideEffects runs the scenarios that fingerprint the database around
// requests, on an app of their own per dialect (a small database keeps the
// fingerprints quick).
func TestNoSideEffects(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			s := newSuite(t, kind)
			if kind == store.SQLite {
				t.Run("get_changes_nothing", s.testGETChangesNothing)
				t.Run("csrf", s.testCSRF)
			}
			t.Run("cross_workspace_ui", s.testCrossWorkspaceUI)
			t.Run("workspace_forgery", s.testWorkspaceForgery)
			t.Run("removal", s.testRemoval)
		})
	}
}

// build makes the request of route rt from its matrix entry, with fixtures
// owned by owner (fresh ones unless shared is set: see fx).
func (s *suite) build(t *testing.T, rt route, e entry, owner model.User, shared bool) req {
	t.Helper()
	f := &fx{s: s, t: t, owner: owner, fresh: rt.method != http.MethodGet && !shared}
	r := e.req(f)
	if r.method == "" {
		r.method = rt.method
	}
	if path, _, _ := strings.Cut(r.path, "?"); r.method != rt.method || !patternRE(rt.pattern).MatchString(path) {
		t.Fatalf("the matrix entry of %s builds %s %s", rt.key(), r.method, r.path)
	}
	return r
}

// do sends r as role: in the role's browser (s.client) on a UI route; on an
// API route by the role's API key, or with bySession by its browser session
// (the cookie the UI's own scripts call the API with).
func (s *suite) do(t *testing.T, rt route, e entry, role string, r req, bySession bool) resp {
	t.Helper()
	switch {
	case rt.api && bySession:
		if r.body != "" && r.ctype == "" {
			r.ctype = "application/json"
		}
		return s.browser(t, s.ui[role], r, nil)
	case rt.api:
		return s.api(t, s.e.A.Keys[role], r)
	}
	return s.browser(t, s.client(t, e, role), r, nil)
}

// credential is how a matrix request authenticates.
type credential struct {
	name      string
	bySession bool
}

// credentials are the ways a route is walked: the UI by session; the API by
// key and by session.
func credentials(rt route) []credential {
	if !rt.api {
		return []credential{{"session", true}}
	}
	return []credential{{"key", false}, {"session", true}}
}

// testMatrix walks every route as every role of workspace A — the UI by
// session, the API by API key and by session — with real fixtures and valid
// bodies: the roles the matrix names succeed, every other gets 403; a partner
// on another member's record gets 404.
//
// A role that may call the route gets fixtures of its own (fresh ones for a
// request that changes them). The roles that must be refused share one
// request built on the admin's shared fixtures: the route table refuses it
// before any handler runs, so fixtures of their own would only cost time (and
// were a refusal to let a request through, the walk reports that role).
func (s *suite) testMatrix(t *testing.T) {
	byRoute := routeOf(t)
	for _, rt := range allRoutes() {
		e, has := byRoute[rt.key()]
		if !has {
			t.Errorf("%s: no matrix entry", rt.key())
			continue
		}
		t.Run(rt.key(), func(t *testing.T) {
			if rt.method == http.MethodGet && !e.ownSession && !e.throwaway {
				// Reads change nothing (get_changes_nothing proves it), so
				// they run side by side once every write has run.
				t.Parallel()
			}
			var refused *req
			for _, cr := range credentials(rt) {
				x, err := parseWho(e.whoBy(rt, cr.bySession))
				if err != nil {
					t.Fatal(err)
				}
				for _, role := range roles {
					var r req
					if x.allowed[role] {
						r = s.build(t, rt, e, s.e.A.Users[role], false)
					} else {
						if refused == nil {
							b := s.build(t, rt, e, s.e.A.Users[model.RoleAdmin], true)
							refused = &b
						}
						r = *refused
					}
					res := s.do(t, rt, e, role, r, cr.bySession)
					switch {
					case x.allowed[role] && !ok(rt, res):
						t.Errorf("%s %s as %s by %s: want success, got %s", r.method, r.path, role, cr.name, res)
					case !x.allowed[role] && res.status != http.StatusForbidden:
						t.Errorf("%s %s as %s by %s: want 403, got %s", r.method, r.path, role, cr.name, res)
					}
					if role == model.RolePartner && x.own && hasID(rt.pattern) {
						// Another member's record: not found, like a foreign id.
						r := s.build(t, rt, e, s.e.A.Users[model.RoleLDR], false)
						if res := s.do(t, rt, e, role, r, cr.bySession); res.status != http.StatusNotFound {
							t.Errorf("%s %s as partner by %s on the LDR's record: want 404, got %s", r.method, r.path, cr.name, res)
						}
					}
				}
			}
		})
	}
}

// testPartnerLists: the lists a partner reads (contacts, accounts,
// activities, the desk queue; UI pages and API) show its own records and none
// of another member's or the unassigned ones, whatever the filter says; an
// admin's show both, so the check can fail.
func (s *suite) testPartnerLists(t *testing.T) {
	partner, ldr := s.e.A.Users[model.RolePartner], s.e.A.Users[model.RoleLDR]
	canary := s.uniq("canary")
	ownMark := s.uniq("ownlead")
	acct := id(t, s.adminJSON(t, "POST", "/api/v1/accounts", fmt.Sprintf(`{"name":"%s Co","owner_id":%d}`, canary, ldr.ID)))
	foreign := id(t, s.adminJSON(t, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"%s@foreign.example","lifecycle_stage":"mql","owner_id":%d,"account_id":%d}`, canary, ldr.ID, acct)))
	s.adminJSON(t, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"%s-free@foreign.example","lifecycle_stage":"mql"}`, canary))
	s.adminJSON(t, "POST", "/api/v1/activities", fmt.Sprintf(`{"kind":"call","subject":"%s call","owner_id":%d,"contact_id":%d}`, canary, ldr.ID, foreign))
	own := id(t, s.adminJSON(t, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"%s@lead.example","lifecycle_stage":"mql","owner_id":%d}`, ownMark, partner.ID)))
	s.adminJSON(t, "POST", "/api/v1/activities", fmt.Sprintf(`{"kind":"task","subject":"%s task","owner_id":%d,"contact_id":%d}`, ownMark, partner.ID, own))

	pkey, akey := s.e.A.Keys[model.RolePartner], s.e.A.Keys[model.RoleAdmin]
	for _, path := range []string{
		"/api/v1/contacts", "/api/v1/contacts?q=" + canary, fmt.Sprintf("/api/v1/contacts?owner_id=%d", ldr.ID),
		"/api/v1/accounts", "/api/v1/activities", fmt.Sprintf("/api/v1/activities?contact_id=%d", foreign),
		"/api/v1/desk/queue",
	} {
		res := s.api(t, pkey, get("%s", path))
		if res.status != http.StatusOK || strings.Contains(res.body, canary) {
			t.Errorf("partner GET %s: %s", path, res)
		}
	}
	for _, path := range []string{"/api/v1/contacts", "/api/v1/activities", "/api/v1/desk/queue"} {
		if res := s.api(t, pkey, get("%s", path)); !strings.Contains(res.body, ownMark) {
			t.Errorf("partner GET %s lacks its own record: %s", path, res)
		}
	}
	for _, path := range []string{"/api/v1/contacts?q=" + canary, "/api/v1/accounts?q=" + canary, "/api/v1/activities?contact_id=" + itoa(foreign)} {
		if res := s.api(t, akey, get("%s", path)); !strings.Contains(res.body, canary) {
			t.Errorf("admin GET %s lacks the canary: %s", path, res)
		}
	}
	for _, path := range []string{"/contacts", "/contacts?q=" + canary, "/accounts", "/desk", "/contacts/new"} {
		res := s.browser(t, s.ui[model.RolePartner], get("%s", path), nil)
		// The search box echoes the query: look for the records, not the word.
		leak := strings.Contains(res.body, canary+"@") || strings.Contains(res.body, canary+" Co") || strings.Contains(res.body, canary+"-free")
		if res.status != http.StatusOK || leak || strings.Contains(res.body, ldr.Email) {
			t.Errorf("partner page %s shows another member's records or team: %s", path, res)
		}
	}
	if res := s.browser(t, s.ui[model.RolePartner], get("/desk"), nil); !strings.Contains(res.body, ownMark) {
		t.Errorf("partner desk lacks its own lead: %s", res)
	}
	// The partner's navigation offers what it may open, nothing else.
	nav := s.browser(t, s.ui[model.RolePartner], get("/contacts"), nil).body
	for _, hidden := range []string{`href="/deals"`, `href="/economics"`, `href="/settings"`, `href="/imports"`, `href="/api/v1/exports`} {
		if strings.Contains(nav, hidden) {
			t.Errorf("partner navigation offers %s", hidden)
		}
	}
	if !strings.Contains(nav, `href="/desk"`) {
		t.Error("partner navigation lacks the desk")
	}
	// A partner creating a record owns it, and may not give it away.
	res := s.api(t, pkey, call("POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"%s@new.example"}`, s.uniq("pnew"))))
	if res.status != http.StatusCreated || !strings.Contains(res.body, fmt.Sprintf(`"owner_id":%d`, partner.ID)) {
		t.Errorf("partner create: %s", res)
	}
	res = s.api(t, pkey, call("PATCH", fmt.Sprintf("/api/v1/contacts/%d", own), fmt.Sprintf(`{"owner_id":%d}`, ldr.ID)))
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `"field":"owner_id"`) {
		t.Errorf("partner gives its lead away: %s", res)
	}
	res = s.api(t, pkey, call("POST", "/api/v1/activities", fmt.Sprintf(`{"kind":"note","subject":"x","contact_id":%d}`, foreign)))
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `"field":"contact_id"`) {
		t.Errorf("partner logs on another member's contact: %s", res)
	}
}

// testUnauthenticated: without a credential every non-public route is refused
// before any handler: the UI sends the visitor to the login form, the API
// answers 401.
func (s *suite) testUnauthenticated(t *testing.T) {
	byRoute := routeOf(t)
	for _, rt := range allRoutes() {
		e := byRoute[rt.key()]
		if e.who == public || e.req == nil {
			continue
		}
		r := e.req(&fx{s: s, t: t, owner: s.e.A.Users[model.RoleAdmin]})
		var res resp
		if rt.api {
			res = s.api(t, "", r)
			if res.status != http.StatusUnauthorized {
				t.Errorf("%s %s without a key: %s", r.method, r.path, res)
			}
			continue
		}
		res = s.browser(t, nil, r, nil)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Errorf("%s %s without a session: %s (Location %q)", r.method, r.path, res, res.header.Get("Location"))
		}
	}
}
