package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestAPI runs every scenario against one app per store dialect. The scenarios
// share the app (creating one costs a dozen password hashes) and use unique
// names so they do not see each other's records.
func TestAPI(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			h := newHarness(t, kind)
			scenarios := []struct {
				name string
				fn   func(*testing.T)
			}{
				{"openapi_matches_routes", h.testOpenAPIMatchesRoutes},
				{"unauthenticated", h.testUnauthenticated},
				{"fallback", h.testFallback},
				{"crud", h.testCRUD},
				{"conflicts", h.testConflicts},
				{"lists", h.testLists},
				{"bad_inputs", h.testBadInputs},
				{"merge", h.testMerge},
				{"timeline", h.testTimeline},
				{"custom_fields", h.testCustomFields},
				{"api_keys", h.testAPIKeys},
				{"audit", h.testAudit},
				{"export", h.testExport},
				{"me", h.testMe},
				{"roles", h.testRoles},
				{"session_cookie", h.testSessionCookie},
				{"imports", h.testImports},
				{"large_upload", h.testLargeUpload},
				{"events", h.testEvents},
				{"scoring_config", h.testScoringConfig},
				{"routing_rules", h.testRoutingRules},
				{"pools", h.testPools},
				{"mail_sender", h.testMailSender},
				{"mail_imap", h.testMailIMAP},
				{"funnel", h.testFunnel},
				{"desk", h.testDesk},
				{"forms", h.testForms},
				{"content_files", h.testContentFiles},
				{"tracking_sites", h.testTrackingSites},
				{"sequences", h.testSequences},
				{"pipelines", h.testPipelines},
				{"economics", h.testEconomics},
				{"unit_economics", h.testUnitEconomics},
				{"partners", h.testPartners},
				{"success", h.testSuccess},
				{"subscriptions", h.testSubscriptions},
				{"forecast", h.testForecast},
				{"webhooks", h.testWebhooks},
				{"sending_pause", h.testSendingPause},
				{"idempotency", h.testIdempotency},
				{"cross_workspace", h.testCrossWorkspace},
			}
			ran := 0
			for _, s := range scenarios {
				t.Run(s.name, func(t *testing.T) { ran++; s.fn(t) })
			}
			// Last: every route must have answered 2xx to some scenario above;
			// meaningful only when -run did not leave scenarios out.
			t.Run("every_route_exercised", func(t *testing.T) {
				if ran < len(scenarios) {
					t.Skip("only with every scenario run")
				}
				h.testEveryRouteExercised(t)
			})
		})
	}
}

func (h *harness) adminA() string { return h.env.A.Keys[model.RoleAdmin] }
func (h *harness) adminB() string { return h.env.B.Keys[model.RoleAdmin] }

// mk creates a record through the API and returns its id.
func (h *harness) mk(t *testing.T, key, plural, body string) int64 {
	t.Helper()
	return id(t, h.want(t, http.StatusCreated, key, "POST", "/api/v1/"+plural, body), "id")
}

func (h *harness) park(route, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.parked[route] = why
}

func (h *harness) testOpenAPIMatchesRoutes(t *testing.T) {
	if h.doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", h.doc["openapi"])
	}
	documented := map[string]bool{}
	opIDs := map[string]bool{}
	for _, o := range h.ops {
		documented[o.method+" "+o.pattern] = true
		oid, _ := o.op["operationId"].(string)
		if oid == "" || opIDs[oid] {
			t.Errorf("%s %s: missing or duplicate operationId %q", o.method, o.pattern, oid)
		}
		opIDs[oid] = true
		// Every path wildcard is a declared, required path parameter.
		var declared []string
		params, _ := o.op["parameters"].([]any)
		for _, p := range params {
			pm := p.(map[string]any)
			if pm["in"] == "path" {
				declared = append(declared, pm["name"].(string))
				if pm["required"] != true {
					t.Errorf("%s %s: path parameter %v not required", o.method, o.pattern, pm["name"])
				}
			}
		}
		for _, seg := range strings.Split(o.pattern, "/") {
			if strings.HasPrefix(seg, "{") && !slices.Contains(declared, strings.Trim(seg, "{}")) {
				t.Errorf("%s %s: path parameter %s not declared", o.method, o.pattern, seg)
			}
		}
		// Every documented response schema compiles.
		for status, r := range o.op["responses"].(map[string]any) {
			contents, _ := r.(map[string]any)["content"].(map[string]any)
			for ct, mt := range contents {
				ptr := "/paths/" + pointerEscape(o.pattern) + "/" + strings.ToLower(o.method) + "/responses/" + status + "/content/" + pointerEscape(ct) + "/schema"
				h.schema(t, mt.(map[string]any)["schema"].(map[string]any), ptr)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range h.api.Routes() {
		k := rt.Method + " " + rt.Pattern
		registered[k] = true
		if !documented[k] {
			t.Errorf("route %s is registered but not in openapi.json", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("openapi.json documents %s, which is not a registered route", k)
		}
	}
	// Every component schema compiles, so no $ref dangles.
	comps := h.doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, name := range []string{"Account", "Contact", "Deal", "Activity", "CustomField", "APIKey", "Import", "ImportError", "Problem",
		"AccountPage", "ContactPage", "DealPage", "ActivityPage"} {
		if comps[name] == nil {
			t.Errorf("components/schemas/%s missing", name)
		}
	}
	for name := range comps {
		h.schema(t, map[string]any{"$ref": "#/components/schemas/" + name}, "")
	}
}

// testUnauthenticated calls every route without a credential and with bad ones;
// it also proves every table route is really mounted (the fallback would answer
// no_endpoint otherwise).
func (h *harness) testUnauthenticated(t *testing.T) {
	revoked := h.want(t, http.StatusCreated, h.adminA(), "POST", "/api/v1/api-keys", `{"name":"soon revoked","role":"ae"}`)
	h.want(t, http.StatusNoContent, h.adminA(), "DELETE", fmt.Sprintf("/api/v1/api-keys/%d", id(t, revoked, "id")), "")
	creds := map[string]func(*http.Request){
		"none":         func(*http.Request) {},
		"unknown key":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer rsk_"+strings.Repeat("x", 43)) },
		"revoked key":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+revoked["secret"].(string)) },
		"basic auth":   func(r *http.Request) { r.SetBasicAuth("admin", "admin") },
		"bad cookie":   func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "rs_session", Value: "forged"}) },
		"empty bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer ") },
	}
	for _, rt := range h.api.Routes() {
		path := strings.ReplaceAll(rt.Pattern, "{id}", "1")
		if rt.Access == "public" {
			if res := h.call(t, "", rt.Method, path, ""); res.Status != http.StatusOK {
				t.Errorf("%s %s without credentials: %d", rt.Method, path, res.Status)
			}
			continue
		}
		for name, set := range creds {
			req := h.request(t, "", rt.Method, path, "")
			set(req)
			res := h.do(t, req)
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s %s with %s: status %d, want 401: %s", rt.Method, path, name, res.Status, res.Body)
				continue
			}
			if p := res.object(t); p["code"] != "unauthenticated" {
				t.Errorf("%s %s with %s: code %v", rt.Method, path, name, p["code"])
			}
			if res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 without WWW-Authenticate", rt.Method, path)
			}
		}
	}
}

func (h *harness) testFallback(t *testing.T) {
	res := h.call(t, h.adminA(), "GET", "/api/v1/widgets", "")
	if p := wantProblem(t, res, http.StatusNotFound, ""); p["code"] != "no_endpoint" {
		t.Errorf("code %v", p["code"])
	}
	res = h.call(t, h.adminA(), "PUT", "/api/v1/contacts/1", "{}")
	wantProblem(t, res, http.StatusMethodNotAllowed, "")
	if allow := res.Header.Get("Allow"); allow != "GET, PATCH, DELETE" {
		t.Errorf("Allow = %q", allow)
	}
}

const absent = "<absent>"

func (h *harness) testCRUD(t *testing.T) {
	key := h.adminA()
	acct := h.mk(t, key, "accounts", `{"name":"CRUD parent"}`)
	cases := []struct {
		plural           string
		create           string
		created          map[string]any
		patch            string
		patched          map[string]any
		filterOnCustomer string
	}{
		{
			plural:  "accounts",
			create:  `{"name":"Acme CRUD","domain":"https://www.acme-crud.example/about","employees":1200,"motion":"HIGH_TOUCH"}`,
			created: map[string]any{"name": "Acme CRUD", "domain": "acme-crud.example", "employees": 1200.0, "currency": "USD", "motion": "high_touch"},
			patch:   `{"industry":"Software","employees":null}`,
			patched: map[string]any{"name": "Acme CRUD", "industry": "Software", "employees": absent},
		},
		{
			plural:  "contacts",
			create:  fmt.Sprintf(`{"email":" Ann.CRUD@Example.COM ","first_name":"Ann","account_id":%d}`, acct),
			created: map[string]any{"email": "ann.crud@example.com", "first_name": "Ann", "lifecycle_stage": "lead", "account_id": float64(acct)},
			patch:   `{"lifecycle_stage":"MQL","title":"CTO","account_id":null}`,
			patched: map[string]any{"lifecycle_stage": "mql", "title": "CTO", "first_name": "Ann", "account_id": absent},
		},
		{
			plural:  "deals",
			create:  fmt.Sprintf(`{"name":"Deal CRUD","pipeline":"high_touch","amount":4800000,"account_id":%d}`, acct),
			created: map[string]any{"name": "Deal CRUD", "stage": "suspect", "amount": 4800000.0, "currency": "USD", "outcome": absent},
			patch:   `{"stage":"prospect","outcome":"lost","loss_reason":"no budget"}`,
			patched: map[string]any{"stage": "prospect", "outcome": "lost", "loss_reason": "no budget", "name": "Deal CRUD"},
		},
		{
			plural:  "activities",
			create:  `{"kind":"demo","subject":"Demo CRUD","duration_minutes":45,"participants":["ann@example.com"],"occurred_at":"2025-03-01T10:00:00Z"}`,
			created: map[string]any{"kind": "demo", "subject": "Demo CRUD", "duration_minutes": 45.0, "occurred_at": "2025-03-01T10:00:00Z", "participants": []any{"ann@example.com"}},
			patch:   `{"subject":"Demo CRUD 2","duration_minutes":60}`,
			patched: map[string]any{"subject": "Demo CRUD 2", "duration_minutes": 60.0, "kind": "demo"},
		},
	}
	for _, c := range cases {
		t.Run(c.plural, func(t *testing.T) {
			res := h.call(t, key, "POST", "/api/v1/"+c.plural, c.create)
			if res.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", res.Status, res.Body)
			}
			rec := res.object(t)
			rid := id(t, rec, "id")
			loc := fmt.Sprintf("/api/v1/%s/%d", c.plural, rid)
			if got := res.Header.Get("Location"); got != loc {
				t.Errorf("Location = %q, want %q", got, loc)
			}
			expectFields(t, "created", rec, c.created)
			if got := h.want(t, http.StatusOK, key, "GET", loc, ""); !reflect.DeepEqual(got, rec) {
				t.Errorf("GET after create:\n got %v\nwant %v", got, rec)
			}
			upd := h.want(t, http.StatusOK, key, "PATCH", loc, c.patch)
			expectFields(t, "patched", upd, c.patched)
			if got := h.want(t, http.StatusOK, key, "GET", loc, ""); !reflect.DeepEqual(got, upd) {
				t.Errorf("GET after patch:\n got %v\nwant %v", got, upd)
			}
			page := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/%s?id=%d&count=true", c.plural, rid), "")
			if its := items(t, page); len(its) != 1 || id(t, its[0], "id") != rid || page["total"] != 1.0 {
				t.Errorf("list by id: %v", page)
			}
			if res := h.call(t, key, "DELETE", loc, ""); res.Status != http.StatusNoContent || len(res.Body) != 0 {
				t.Fatalf("delete: %d %q", res.Status, res.Body)
			}
			for _, m := range []string{"GET", "DELETE"} {
				wantProblem(t, h.call(t, key, m, loc, ""), http.StatusNotFound, "")
			}
			wantProblem(t, h.call(t, key, "PATCH", loc, c.patch), http.StatusNotFound, "")
		})
	}
}

// expectFields compares the listed fields; absent means the key must not appear.
func expectFields(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		v, ok := got[k]
		if w == absent {
			if ok {
				t.Errorf("%s: %s = %v, want it absent", what, k, v)
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, v, w)
		}
	}
}

func (h *harness) testConflicts(t *testing.T) {
	key := h.adminA()
	h.mk(t, key, "contacts", `{"email":"taken@conflict.example"}`)
	p := wantProblem(t, h.call(t, key, "POST", "/api/v1/contacts", `{"email":"TAKEN@conflict.example"}`), http.StatusConflict, "email")
	if p["code"] != "conflict" {
		t.Errorf("code %v", p["code"])
	}
	h.mk(t, key, "accounts", `{"name":"Taken","domain":"taken-conflict.example"}`)
	other := h.mk(t, key, "accounts", `{"name":"Other"}`)
	wantProblem(t, h.call(t, key, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", other), `{"domain":"www.taken-conflict.example"}`), http.StatusConflict, "domain")
	// The same email in another workspace is no conflict: uniqueness is per workspace.
	h.mk(t, h.adminB(), "contacts", `{"email":"taken@conflict.example"}`)
}

func (h *harness) testLists(t *testing.T) {
	key := h.adminA()
	tier, score := uniq("tier_"), uniq("score_")
	h.want(t, http.StatusCreated, key, "POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"account","key":%q,"type":"enum","options":["gold","silver"]}`, tier))
	h.want(t, http.StatusCreated, key, "POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"account","key":%q,"type":"number"}`, score))
	tag := uniq("listtest-")
	emps := []int{10, 200, 1500, 50, 5000}
	for i, e := range emps {
		tr := "silver"
		if e >= 1000 {
			tr = "gold"
		}
		domain := fmt.Sprintf(`"%s-%d.example"`, tag, i)
		if i == 3 {
			domain = "null"
		}
		h.mk(t, key, "accounts", fmt.Sprintf(`{"name":"%s %c","industry":%q,"employees":%d,"domain":%s,"custom":{%q:%q,%q:%d}}`,
			tag, 'A'+i, tag, e, domain, tier, tr, score, i))
	}
	base := "/api/v1/accounts?industry=" + url.QueryEscape(tag)
	names := func(page map[string]any) []string {
		var out []string
		for _, it := range items(t, page) {
			out = append(out, strings.TrimPrefix(it["name"].(string), tag+" "))
		}
		return out
	}
	cases := []struct {
		query string
		want  []string
		total float64 // 0: do not ask
	}{
		{"&count=true&sort=name", []string{"A", "B", "C", "D", "E"}, 5},
		{"&employees[gte]=200&sort=-employees", []string{"E", "C", "B"}, 0},
		{"&employees[lt]=200&sort=employees", []string{"A", "D"}, 0},
		{"&employees[in]=10,5000&sort=name", []string{"A", "E"}, 0},
		{"&employees[ne]=10&sort=name&count=true", []string{"B", "C", "D", "E"}, 4},
		{"&name[contains]=" + url.QueryEscape(tag+" C"), []string{"C"}, 0},
		{"&" + url.QueryEscape("custom."+tier) + "=GOLD&sort=name", []string{"C", "E"}, 0},
		{"&" + url.QueryEscape("custom."+score+"[gte]") + "=3&sort=name", []string{"D", "E"}, 0},
		{"&domain[empty]=true", []string{"D"}, 0},
		{"&domain[empty]=false&sort=-name&limit=2", []string{"E", "C"}, 0},
		{"&q=" + url.QueryEscape(tag+" b"), []string{"B"}, 0},
	}
	for _, c := range cases {
		page := h.want(t, http.StatusOK, key, "GET", base+c.query, "")
		if got := names(page); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
		if c.total != 0 && page["total"] != c.total {
			t.Errorf("%s: total %v, want %v", c.query, page["total"], c.total)
		}
		if c.total == 0 && page["total"] != nil {
			t.Errorf("%s: total %v without count=true", c.query, page["total"])
		}
	}
	// Walk the pages: every row once, in order, and the last page has no cursor.
	var walked []string
	next := base + "&sort=-employees&limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("cursor does not end")
		}
		page := h.want(t, http.StatusOK, key, "GET", next, "")
		walked = append(walked, names(page)...)
		next = ""
		if c, _ := page["next_cursor"].(string); c != "" {
			next = base + "&sort=-employees&limit=2&cursor=" + url.QueryEscape(c)
		}
	}
	if want := []string{"E", "C", "B", "D", "A"}; !slices.Equal(walked, want) {
		t.Errorf("paged walk %v, want %v", walked, want)
	}
	// A list never shows another workspace's rows.
	if page := h.want(t, http.StatusOK, h.adminB(), "GET", base+"&count=true", ""); page["total"] != 0.0 {
		t.Errorf("workspace B sees A's accounts: %v", page)
	}
}

func (h *harness) testBadInputs(t *testing.T) {
	key := h.adminA()
	cid := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@bad.example"}`, uniq("bad")))
	contact := fmt.Sprintf("/api/v1/contacts/%d", cid)
	cases := []struct {
		name, method, path, body string
		status                   int
		field, code              string
	}{
		{"unknown field", "POST", "/api/v1/contacts", `{"email":"u@bad.example","favourite_colour":"red"}`, 400, "favourite_colour", "invalid_field"},
		{"read-only field", "PATCH", contact, `{"id":5}`, 400, "id", "invalid_field"},
		{"bad email", "POST", "/api/v1/contacts", `{"email":"not-an-email"}`, 400, "email", "invalid_field"},
		{"missing email", "POST", "/api/v1/contacts", `{"first_name":"Nobody"}`, 400, "email", "invalid_field"},
		{"bad enum", "POST", "/api/v1/contacts", `{"email":"e@bad.example","lifecycle_stage":"bogus"}`, 400, "lifecycle_stage", "invalid_field"},
		{"bad stage", "POST", "/api/v1/deals", `{"name":"x","pipeline":"high_touch","stage":"trial"}`, 400, "stage", "invalid_field"},
		{"bad pipeline", "POST", "/api/v1/deals", `{"name":"x","pipeline":"enterprise"}`, 400, "pipeline", "invalid_field"},
		{"negative amount", "POST", "/api/v1/deals", `{"name":"x","pipeline":"digital","amount":-1}`, 400, "amount", "invalid_field"},
		{"bad activity kind", "POST", "/api/v1/activities", `{"kind":"lunch"}`, 400, "kind", "invalid_field"},
		{"bad currency", "POST", "/api/v1/accounts", `{"name":"x","currency":"dollars"}`, 400, "currency", "invalid_field"},
		{"foreign account ref", "POST", "/api/v1/contacts", `{"email":"r@bad.example","account_id":999999999}`, 400, "account_id", "invalid_field"},
		{"unknown custom field", "PATCH", contact, `{"custom":{"nope":1}}`, 400, "custom.nope", "invalid_field"},
		{"malformed JSON", "POST", "/api/v1/accounts", `{"name":`, 400, "", "invalid_json"},
		{"JSON array body", "POST", "/api/v1/accounts", `[1,2]`, 400, "", "invalid_json"},
		{"empty body", "POST", "/api/v1/accounts", ``, 400, "", "invalid_json"},
		{"trailing data", "PATCH", contact, `{} {}`, 400, "", "invalid_json"},
		{"unknown query param", "GET", "/api/v1/contacts?emial=x", "", 400, "emial", "invalid_field"},
		{"unknown query param on get", "GET", contact + "?expand=all", "", 400, "expand", "invalid_field"},
		{"unknown query param on create", "POST", "/api/v1/contacts?dry_run=1", `{"email":"q@bad.example"}`, 400, "dry_run", "invalid_field"},
		{"bad filter op", "GET", "/api/v1/contacts?email[like]=x", "", 400, "email", "invalid_field"},
		{"malformed filter", "GET", "/api/v1/contacts?email[eq=x", "", 400, "email[eq", "invalid_field"},
		{"bad filter value", "GET", "/api/v1/accounts?employees[gt]=many", "", 400, "employees", "invalid_field"},
		{"unknown custom filter", "GET", "/api/v1/contacts?custom.nope=1", "", 400, "custom.nope", "invalid_field"},
		{"limit too high", "GET", "/api/v1/contacts?limit=201", "", 400, "limit", "invalid_field"},
		{"limit not a number", "GET", "/api/v1/contacts?limit=ten", "", 400, "limit", "invalid_field"},
		{"limit zero", "GET", "/api/v1/deals?limit=0", "", 400, "limit", "invalid_field"},
		{"limit twice", "GET", "/api/v1/deals?limit=1&limit=2", "", 400, "limit", "invalid_field"},
		{"unsortable", "GET", "/api/v1/contacts?sort=phone", "", 400, "sort", "invalid_field"},
		{"bad cursor", "GET", "/api/v1/contacts?cursor=garbage", "", 400, "cursor", "invalid_field"},
		{"bad count", "GET", "/api/v1/contacts?count=maybe", "", 400, "count", "invalid_field"},
		{"malformed query", "GET", "/api/v1/contacts?a=%zz", "", 400, "", "invalid_query"},
		{"timeline limit", "GET", contact + "/timeline?limit=1000", "", 400, "limit", "invalid_field"},
		{"timeline unknown param", "GET", contact + "/timeline?sort=name", "", 400, "sort", "invalid_field"},
		{"merge without id", "POST", contact + "/merge", `{}`, 400, "merge_id", "invalid_field"},
		{"merge id not a number", "POST", contact + "/merge", `{"merge_id":"x"}`, 400, "merge_id", "invalid_field"},
		{"merge into itself", "POST", contact + "/merge", fmt.Sprintf(`{"merge_id":%d}`, cid), 400, "merge_id", "invalid_field"},
		{"merge missing record", "POST", contact + "/merge", `{"merge_id":999999999}`, 400, "merge_id", "invalid_field"},
		{"merge extra field", "POST", contact + "/merge", `{"merge_id":1,"winner":2}`, 400, "winner", "invalid_field"},
		{"bad key role", "POST", "/api/v1/api-keys", `{"name":"x","role":"god"}`, 400, "role", "invalid_field"},
		{"key without name", "POST", "/api/v1/api-keys", `{"role":"ae"}`, 400, "name", "invalid_field"},
		{"key unknown field", "POST", "/api/v1/api-keys", `{"name":"x","role":"ae","scopes":[]}`, 400, "scopes", "invalid_field"},
		{"bad custom key", "POST", "/api/v1/custom-fields", `{"object_type":"contact","key":"Bad Key","type":"text"}`, 400, "key", "invalid_field"},
		{"enum without options", "POST", "/api/v1/custom-fields", `{"object_type":"contact","key":"tier","type":"enum"}`, 400, "options", "invalid_field"},
		{"bad object type filter", "GET", "/api/v1/custom-fields?object_type=widget", "", 400, "object_type", "invalid_field"},
		{"audit limit", "GET", "/api/v1/audit?limit=0", "", 400, "limit", "invalid_field"},
		{"import list param", "GET", "/api/v1/imports?status=done", "", 400, "status", "invalid_field"},
		{"import bad object", "POST", "/api/v1/imports?object=widgets", "a,b\n", 400, "object", "invalid_field"},
		{"import missing object", "POST", "/api/v1/imports", "a,b\n", 400, "object", "invalid_field"},
		{"import unknown option", "POST", "/api/v1/imports?object=contacts&options=" + url.QueryEscape(`{"delimter":";"}`), "a,b\n", 400, "options", "invalid_field"},
		{"import JSON body", "POST", "/api/v1/imports?object=contacts", `{"rows":[]}`, 415, "", "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := wantProblem(t, h.call(t, key, c.method, c.path, c.body), c.status, c.field)
			if p["code"] != c.code {
				t.Errorf("code %v, want %s", p["code"], c.code)
			}
			if d, _ := p["detail"].(string); d == "" {
				t.Errorf("no detail")
			}
		})
	}
	t.Run("import multipart without file", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("note", "no file here")
		mw.Close()
		req := h.request(t, key, "POST", "/api/v1/imports?object=contacts", "")
		req.Body = io.NopCloser(&buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		wantProblem(t, h.do(t, req), http.StatusBadRequest, "file")
	})
	// Nothing above created anything.
	if page := h.want(t, http.StatusOK, key, "GET", "/api/v1/contacts?email[contains]=%40bad.example&count=true", ""); page["total"] != 1.0 {
		t.Errorf("bad inputs left records behind: %v", page)
	}
}

func (h *harness) testMerge(t *testing.T) {
	key := h.adminA()
	t.Run("contacts", func(t *testing.T) {
		win := h.mk(t, key, "contacts", `{"email":"winner@merge.example"}`)
		lose := h.mk(t, key, "contacts", `{"email":"loser@merge.example","first_name":"Bea","title":"CTO"}`)
		act := h.mk(t, key, "activities", fmt.Sprintf(`{"kind":"call","subject":"call Bea","contact_id":%d}`, lose))
		got := h.want(t, http.StatusOK, key, "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", win), fmt.Sprintf(`{"merge_id":%d}`, lose))
		expectFields(t, "merged", got, map[string]any{"id": float64(win), "email": "winner@merge.example", "first_name": "Bea", "title": "CTO"})
		wantProblem(t, h.call(t, key, "GET", fmt.Sprintf("/api/v1/contacts/%d", lose), ""), http.StatusNotFound, "")
		a := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/activities/%d", act), "")
		if id(t, a, "contact_id") != win {
			t.Errorf("activity not moved to the winner: %v", a)
		}
		tl := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", win), "")
		if !hasHistory(tl, "merged") {
			t.Errorf("timeline has no merge entry: %v", tl["history"])
		}
	})
	t.Run("accounts", func(t *testing.T) {
		win := h.mk(t, key, "accounts", `{"name":"Winner Ltd"}`)
		lose := h.mk(t, key, "accounts", `{"name":"Loser Ltd","domain":"loser-merge.example","employees":40}`)
		c := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"staff@loser-merge.example","account_id":%d}`, lose))
		got := h.want(t, http.StatusOK, key, "POST", fmt.Sprintf("/api/v1/accounts/%d/merge", win), fmt.Sprintf(`{"merge_id":%d}`, lose))
		expectFields(t, "merged", got, map[string]any{"name": "Winner Ltd", "domain": "loser-merge.example", "employees": 40.0})
		if got := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/contacts/%d", c), ""); id(t, got, "account_id") != win {
			t.Errorf("contact not moved: %v", got)
		}
		wantProblem(t, h.call(t, key, "GET", fmt.Sprintf("/api/v1/accounts/%d", lose), ""), http.StatusNotFound, "")
	})
	t.Run("merge_id from another workspace", func(t *testing.T) {
		win := h.mk(t, key, "contacts", `{"email":"stays@merge.example"}`)
		foreign := h.mk(t, h.adminB(), "contacts", `{"email":"foreign@merge.example"}`)
		wantProblem(t, h.call(t, key, "POST", fmt.Sprintf("/api/v1/contacts/%d/merge", win), fmt.Sprintf(`{"merge_id":%d}`, foreign)), http.StatusBadRequest, "merge_id")
		h.want(t, http.StatusOK, h.adminB(), "GET", fmt.Sprintf("/api/v1/contacts/%d", foreign), "")
	})
}

func hasHistory(tl map[string]any, action string) bool {
	hist, _ := tl["history"].([]any)
	for _, e := range hist {
		if e.(map[string]any)["action"] == action {
			return true
		}
	}
	return false
}

func (h *harness) testTimeline(t *testing.T) {
	key := h.adminA()
	acct := h.mk(t, key, "accounts", `{"name":"Timeline Co"}`)
	c := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"tl@timeline.example","account_id":%d}`, acct))
	d := h.mk(t, key, "deals", fmt.Sprintf(`{"name":"Timeline deal","pipeline":"high_touch","account_id":%d}`, acct))
	for i, when := range []string{"2025-01-02T09:00:00Z", "2025-03-04T09:00:00Z", "2025-02-03T09:00:00Z"} {
		h.mk(t, key, "activities", fmt.Sprintf(`{"kind":"meeting","subject":"m%d","occurred_at":%q,"contact_id":%d,"account_id":%d,"deal_id":%d}`, i, when, c, acct, d))
	}
	h.mk(t, key, "activities", `{"kind":"note","subject":"unrelated"}`)
	h.want(t, http.StatusOK, key, "PATCH", fmt.Sprintf("/api/v1/deals/%d", d), `{"stage":"prospect"}`)
	for _, path := range []string{
		fmt.Sprintf("/api/v1/contacts/%d/timeline", c),
		fmt.Sprintf("/api/v1/accounts/%d/timeline", acct),
		fmt.Sprintf("/api/v1/deals/%d/timeline", d),
	} {
		tl := h.want(t, http.StatusOK, key, "GET", path, "")
		var subjects []string
		for _, a := range tl["activities"].([]any) {
			subjects = append(subjects, a.(map[string]any)["subject"].(string))
		}
		if want := []string{"m1", "m2", "m0"}; !slices.Equal(subjects, want) {
			t.Errorf("%s: activities %v, want %v (newest first)", path, subjects, want)
		}
		if !hasHistory(tl, "created") {
			t.Errorf("%s: no created entry in history %v", path, tl["history"])
		}
		// Paging.
		first := h.want(t, http.StatusOK, key, "GET", path+"?limit=2", "")
		cur, _ := first["next_cursor"].(string)
		if len(first["activities"].([]any)) != 2 || cur == "" {
			t.Fatalf("%s?limit=2: %v", path, first)
		}
		rest := h.want(t, http.StatusOK, key, "GET", path+"?limit=2&cursor="+url.QueryEscape(cur), "")
		if acts := rest["activities"].([]any); len(acts) != 1 || acts[0].(map[string]any)["subject"] != "m0" || rest["next_cursor"] != nil {
			t.Errorf("%s second page: %v", path, rest)
		}
	}
	tl := h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/deals/%d/timeline", d), "")
	if !hasHistory(tl, "updated") {
		t.Errorf("deal stage change not in history: %v", tl["history"])
	}
}

func (h *harness) testCustomFields(t *testing.T) {
	key := h.adminA()
	k := uniq("region_code_")
	cf := h.want(t, http.StatusCreated, key, "POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"contact","key":%q,"label":"Region code","type":"text"}`, k))
	cfID := id(t, cf, "id")
	wantProblem(t, h.call(t, key, "POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"contact","key":%q,"type":"number"}`, k)), http.StatusConflict, "key")
	has := func(query string) bool {
		for _, it := range items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/custom-fields"+query, "")) {
			if id(t, it, "id") == cfID {
				return true
			}
		}
		return false
	}
	if !has("") || !has("?object_type=contact") || has("?object_type=deal") {
		t.Errorf("custom field list/filter wrong")
	}
	c := h.want(t, http.StatusCreated, key, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"cf@custom.example","custom":{%q:"EMEA"}}`, k))
	if c["custom"].(map[string]any)[k] != "EMEA" {
		t.Errorf("custom value not stored: %v", c)
	}
	if page := h.want(t, http.StatusOK, key, "GET", "/api/v1/contacts?count=true&"+url.QueryEscape("custom."+k)+"=emea", ""); page["total"] != 1.0 {
		t.Errorf("custom filter: %v", page)
	}
	h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/custom-fields/%d", cfID), "")
	if has("") {
		t.Errorf("deleted custom field still listed")
	}
	wantProblem(t, h.call(t, key, "DELETE", fmt.Sprintf("/api/v1/custom-fields/%d", cfID), ""), http.StatusNotFound, "")
	if !h.auditHas(t, "custom_field_delete", "custom_field", cfID) {
		t.Errorf("custom field deletion not audited")
	}
}

// testExport: admins stream a formula-safe CSV of their own workspace's records; the
// export is audited; other roles are refused; an unknown kind is a 404.
func (h *harness) testExport(t *testing.T) {
	h.want(t, http.StatusCreated, h.adminA(), "POST", "/api/v1/contacts", `{"email":"export-me@export.example","first_name":"=cmd|' /C calc'!A0"}`)
	h.want(t, http.StatusCreated, h.adminB(), "POST", "/api/v1/contacts", `{"email":"not-mine@export.example"}`)
	res := h.call(t, h.adminA(), "GET", "/api/v1/exports/contacts", "")
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.Status, res.Body)
	}
	body := string(res.Body)
	if !strings.Contains(body, "export-me@export.example") || strings.Contains(body, "not-mine@export.example") {
		t.Fatalf("export holds the wrong rows:\n%.500s", body)
	}
	if !strings.Contains(body, `'=cmd`) {
		t.Errorf("formula not neutralised:\n%.500s", body)
	}
	if !h.auditHas(t, "export", "contacts", 0) {
		t.Errorf("export not audited")
	}
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleLDR], "GET", "/api/v1/exports/contacts", ""), http.StatusForbidden, "")
	wantProblem(t, h.call(t, h.adminA(), "GET", "/api/v1/exports/widgets", ""), http.StatusNotFound, "")
}

func (h *harness) auditHas(t *testing.T, action, target string, targetID int64) bool {
	t.Helper()
	for _, e := range items(t, h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/audit?limit=200", "")) {
		if e["action"] == action && e["target_type"] == target && (targetID == 0 || e["target_id"] == float64(targetID)) {
			return true
		}
	}
	return false
}

func (h *harness) testAPIKeys(t *testing.T) {
	key := h.adminA()
	k := h.want(t, http.StatusCreated, key, "POST", "/api/v1/api-keys", `{"name":"ci pipeline","role":"AE"}`)
	secret, _ := k["secret"].(string)
	kid := id(t, k, "id")
	if !strings.HasPrefix(secret, "rsk_") || k["role"] != "ae" || k["workspace_id"] != float64(h.env.A.ID) {
		t.Fatalf("created key: %v", k)
	}
	me := h.want(t, http.StatusOK, secret, "GET", "/api/v1/me", "")
	expectFields(t, "me with new key", me, map[string]any{"kind": "api_key", "role": "ae", "api_key_id": float64(kid), "workspace_id": float64(h.env.A.ID)})
	res := h.call(t, key, "GET", "/api/v1/api-keys", "")
	if bytes.Contains(res.Body, []byte(secret)) || bytes.Contains(res.Body, []byte(`"secret"`)) {
		t.Fatalf("key list leaks a secret: %s", res.Body)
	}
	found := false
	for _, it := range items(t, res.object(t)) {
		if id(t, it, "id") == kid {
			found = true
		}
	}
	if !found {
		t.Errorf("new key not listed")
	}
	h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/api-keys/%d", kid), "")
	wantProblem(t, h.call(t, secret, "GET", "/api/v1/me", ""), http.StatusUnauthorized, "")
	wantProblem(t, h.call(t, key, "DELETE", fmt.Sprintf("/api/v1/api-keys/%d", kid), ""), http.StatusNotFound, "")
	if !h.auditHas(t, "api_key_create", "api_key", kid) || !h.auditHas(t, "api_key_revoke", "api_key", kid) {
		t.Errorf("key create/revoke not audited")
	}
	// Keys are integration secrets: admins only (docs/security.md).
	mgr := h.env.A.Keys[model.RoleManager]
	wantProblem(t, h.call(t, mgr, "POST", "/api/v1/api-keys", `{"name":"by manager","role":"csm"}`), http.StatusForbidden, "")
	// A key made by a key acts for that key's member (here the admin who owns
	// the admin key); a partner key must act for a partner member and then
	// reads as them.
	if k["user_id"] != float64(h.env.A.Users[model.RoleAdmin].ID) {
		t.Errorf("key made by the admin's key acts for %v, want the admin %d", k["user_id"], h.env.A.Users[model.RoleAdmin].ID)
	}
	wantProblem(t, h.call(t, key, "POST", "/api/v1/api-keys", `{"name":"dialer","role":"partner"}`), http.StatusBadRequest, "user_id")
	wantProblem(t, h.call(t, key, "POST", "/api/v1/api-keys", fmt.Sprintf(`{"name":"dialer","role":"partner","user_id":%d}`, h.env.A.Users[model.RoleLDR].ID)), http.StatusBadRequest, "user_id")
	wantProblem(t, h.call(t, key, "POST", "/api/v1/api-keys", fmt.Sprintf(`{"name":"dialer","role":"ae","user_id":%d}`, h.env.B.Users[model.RoleAE].ID)), http.StatusBadRequest, "user_id")
	partner := h.env.A.Users[model.RolePartner]
	pk := h.want(t, http.StatusCreated, key, "POST", "/api/v1/api-keys", fmt.Sprintf(`{"name":"dialer","role":"partner","user_id":%d}`, partner.ID))
	if pk["user_id"] != float64(partner.ID) {
		t.Fatalf("partner key: %v", pk)
	}
	h.want(t, http.StatusOK, pk["secret"].(string), "GET", "/api/v1/desk/queue", "")
}

func (h *harness) testAudit(t *testing.T) {
	all := items(t, h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/audit", ""))
	if len(all) == 0 {
		t.Fatal("empty audit log")
	}
	for i := 1; i < len(all); i++ {
		if id(t, all[i-1], "id") <= id(t, all[i], "id") {
			t.Fatalf("audit not newest first")
		}
	}
	for _, e := range all {
		if e["workspace_id"] != float64(h.env.A.ID) {
			t.Fatalf("audit shows another workspace's entry: %v", e)
		}
	}
	if one := items(t, h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/audit?limit=1", "")); len(one) != 1 {
		t.Errorf("limit=1 gave %d", len(one))
	}
}

func (h *harness) testMe(t *testing.T) {
	me := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/me", "")
	expectFields(t, "me", me, map[string]any{"kind": "api_key", "role": "admin", "workspace_id": float64(h.env.B.ID), "memberships": []any{}})
	if ws := me["workspace"].(map[string]any); ws["slug"] != "beta" {
		t.Errorf("workspace %v", ws)
	}
}

func (h *harness) testRoles(t *testing.T) {
	a := h.env.A
	cf := id(t, h.want(t, http.StatusCreated, h.adminA(), "POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"deal","key":%q,"type":"bool"}`, uniq("roles_"))), "id")
	for _, role := range model.Roles {
		key := a.Keys[role]
		privileged := role == model.RoleAdmin || role == model.RoleManager
		t.Run(role, func(t *testing.T) {
			adminOnly := []struct{ method, path, body string }{
				{"POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"contact","key":%q,"type":"text"}`, uniq("r_"))},
				{"GET", "/api/v1/audit", ""},
			}
			for _, c := range adminOnly {
				res := h.call(t, key, c.method, c.path, c.body)
				if privileged && res.Status/100 != 2 {
					t.Errorf("%s %s as %s: %d %s", c.method, c.path, role, res.Status, res.Body)
				}
				if !privileged {
					if p := wantProblem(t, res, http.StatusForbidden, ""); p["code"] != "forbidden" {
						t.Errorf("code %v", p["code"])
					}
				}
			}
			if role == model.RolePartner {
				h.partnerScope(t, key)
				return
			}
			// Every member reads and writes records and reads custom field definitions.
			h.want(t, http.StatusOK, key, "GET", "/api/v1/custom-fields", "")
			cid := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@roles.example"}`, uniq(role)))
			h.want(t, http.StatusOK, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", cid), `{"title":"VP"}`)
			h.want(t, http.StatusNoContent, key, "DELETE", fmt.Sprintf("/api/v1/contacts/%d", cid), "")
		})
	}
	wantProblem(t, h.call(t, a.Keys[model.RoleLDR], "DELETE", fmt.Sprintf("/api/v1/custom-fields/%d", cf), ""), http.StatusForbidden, "")
	h.want(t, http.StatusNoContent, a.Keys[model.RoleManager], "DELETE", fmt.Sprintf("/api/v1/custom-fields/%d", cf), "")
}

// partnerScope checks the partner role's confined access with its key (the
// whole matrix is internal/security's): it reads and works only the leads it
// owns — another member's contact is a 404 like another workspace's, its desk
// queue has its own MQLs and no unassigned ones — and economics, settings,
// exports, deals and the audit log are 403.
func (h *harness) partnerScope(t *testing.T, key string) {
	a := h.env.A
	partner, ldr := a.Users[model.RolePartner], a.Users[model.RoleLDR]
	mk := func(owner int64) int64 {
		return h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":"%s@roles.example","lifecycle_stage":"mql","owner_id":%d}`, uniq("p"), owner))
	}
	own, other := mk(partner.ID), mk(ldr.ID)
	free := h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":"%s@roles.example","lifecycle_stage":"mql"}`, uniq("p")))
	listed := map[int64]bool{}
	for _, it := range items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/contacts?limit=200", "")) {
		listed[id(t, it, "id")] = true
		if it["owner_id"] != float64(partner.ID) {
			t.Errorf("partner lists a contact it does not own: %v", it)
		}
	}
	if !listed[own] || listed[other] || listed[free] {
		t.Errorf("partner's contact list: own %v, another member's %v, unassigned %v", listed[own], listed[other], listed[free])
	}
	h.want(t, http.StatusOK, key, "GET", fmt.Sprintf("/api/v1/contacts/%d", own), "")
	wantProblem(t, h.call(t, key, "GET", fmt.Sprintf("/api/v1/contacts/%d", other), ""), http.StatusNotFound, "")
	wantProblem(t, h.call(t, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", other), `{"title":"VP"}`), http.StatusNotFound, "")
	wantProblem(t, h.call(t, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", free), `{"title":"VP"}`), http.StatusNotFound, "")
	h.want(t, http.StatusOK, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", own), `{"title":"VP"}`)
	// What it creates is its own; it cannot hand a lead to someone else.
	cid := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@roles.example"}`, uniq("p")))
	if c := h.want(t, http.StatusOK, h.adminA(), "GET", fmt.Sprintf("/api/v1/contacts/%d", cid), ""); c["owner_id"] != float64(partner.ID) {
		t.Errorf("a partner's new contact is owned by %v", c["owner_id"])
	}
	wantProblem(t, h.call(t, key, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", cid), fmt.Sprintf(`{"owner_id":%d}`, ldr.ID)), http.StatusBadRequest, "owner_id")
	q := h.want(t, http.StatusOK, key, "GET", "/api/v1/desk/queue", "")
	mine, _ := q["mine"].([]any)
	unassigned, _ := q["unassigned"].([]any)
	if id(t, q, "user_id") != partner.ID || len(unassigned) != 0 {
		t.Errorf("partner's queue: %v", q)
	}
	inMine := false
	for _, x := range mine {
		c := x.(map[string]any)["contact"].(map[string]any)
		inMine = inMine || id(t, c, "id") == own
		if id(t, c, "id") == other || id(t, c, "id") == free {
			t.Errorf("partner's queue has a lead it does not own: %v", c)
		}
	}
	if !inMine {
		t.Errorf("partner's queue misses its own MQL %d: %v", own, q)
	}
	for _, c := range [][2]string{
		{"GET", "/api/v1/economics/metrics"}, {"GET", "/api/v1/partners"}, {"GET", "/api/v1/spend"},
		{"GET", "/api/v1/scoring/config"}, {"GET", "/api/v1/routing/rules"}, {"GET", "/api/v1/mail/sender"},
		{"GET", "/api/v1/exports/contacts"}, {"GET", "/api/v1/imports"}, {"GET", "/api/v1/deals"},
		{"GET", "/api/v1/api-keys"}, {"DELETE", fmt.Sprintf("/api/v1/contacts/%d", own)},
	} {
		if p := wantProblem(t, h.call(t, key, c[0], c[1], ""), http.StatusForbidden, ""); p["code"] != "forbidden" {
			t.Errorf("%s %s as partner: code %v", c[0], c[1], p["code"])
		}
	}
}

// sessionToken logs in through the UI's form when the web package serves it, and
// through auth.Service.Login otherwise, returning the rs_session cookie value.
func (h *harness) sessionToken(t *testing.T, email string) string {
	t.Helper()
	form := url.Values{"email": {email}, "password": {apptest.Password}}
	req, _ := http.NewRequest("POST", h.env.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.env.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "rs_session" && ck.Value != "" {
			return ck.Value
		}
	}
	t.Logf("POST /login gave %d without a session cookie; opening the session with auth.Service.Login", resp.StatusCode)
	tok, _, err := h.env.App.Auth.Login(context.Background(), email, apptest.Password, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (h *harness) testSessionCookie(t *testing.T) {
	user := h.env.A.Users[model.RoleAE]
	tok := h.sessionToken(t, user.Email)
	withCookie := func(method, path, body string) result {
		req := h.request(t, "", method, path, body)
		req.AddCookie(&http.Cookie{Name: "rs_session", Value: tok})
		return h.do(t, req)
	}
	res := withCookie("GET", "/api/v1/me", "")
	if res.Status != http.StatusOK {
		t.Fatalf("me with session: %d %s", res.Status, res.Body)
	}
	expectFields(t, "me", res.object(t), map[string]any{"kind": "user", "email": user.Email, "role": "ae", "user_id": float64(user.ID), "workspace_id": float64(h.env.A.ID)})
	res = withCookie("POST", "/api/v1/contacts", `{"email":"via-session@session.example"}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("create with session: %d %s", res.Status, res.Body)
	}
	if got := h.want(t, http.StatusOK, h.adminA(), "GET", res.Header.Get("Location"), ""); got["email"] != "via-session@session.example" {
		t.Errorf("session write landed elsewhere: %v", got)
	}
	wantProblem(t, withCookie("GET", "/api/v1/api-keys", ""), http.StatusForbidden, "")
	// A session that logged out no longer opens the API.
	if err := h.env.App.Auth.Logout(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, withCookie("GET", "/api/v1/me", ""), http.StatusUnauthorized, "")
}

// storeImport makes a finished import with two rejected rows directly in the
// store, so the read endpoints can be tested without the importer.
func (h *harness) storeImport(t *testing.T, ws int64) int64 {
	t.Helper()
	ctx := context.Background()
	im := model.Import{ObjectType: "contact", Filename: "people.csv", Status: "done", CreatedBy: "test"}
	err := h.env.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateImport(ctx, ws, &im); err != nil {
			return err
		}
		if err := q.SetImportCounts(ctx, ws, im.ID, 4, 1, 3, 0); err != nil {
			return err
		}
		return q.AddImportErrors(ctx, im.ID, []model.ImportError{
			{Line: 4, Col: 3, Field: "employees", Reason: `"many" is not a whole number`, Raw: `x,"y, z",many`},
			{Line: 2, Col: 1, Field: "email", Reason: "not an email address", Raw: "bob at example"},
			{Line: 5, Col: 1, Field: "email", Reason: "not an email address", Raw: `=HYPERLINK("http://evil.example","x")`},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return im.ID
}

func (h *harness) testImports(t *testing.T) {
	key := h.env.A.Keys[model.RoleCSM]
	imID := h.storeImport(t, h.env.A.ID)
	base := fmt.Sprintf("/api/v1/imports/%d", imID)
	t.Run("read", func(t *testing.T) {
		list := items(t, h.want(t, http.StatusOK, key, "GET", "/api/v1/imports", ""))
		if len(list) == 0 || id(t, list[0], "id") != imID {
			t.Errorf("import list: %v", list)
		}
		im := h.want(t, http.StatusOK, key, "GET", base, "")
		expectFields(t, "import", im, map[string]any{"rows": 4.0, "accepted": 1.0, "rejected": 3.0, "merged": 0.0, "filename": "people.csv"})
		errs := items(t, h.want(t, http.StatusOK, key, "GET", base+"/errors", ""))
		if len(errs) != 3 || errs[0]["line"] != 2.0 || errs[1]["column"] != 3.0 || errs[2]["raw"] != `=HYPERLINK("http://evil.example","x")` {
			t.Errorf("errors not in file order: %v", errs)
		}
		if one := items(t, h.want(t, http.StatusOK, key, "GET", base+"/errors?limit=1", "")); len(one) != 1 {
			t.Errorf("limit=1: %v", one)
		}
		res := h.call(t, key, "GET", base+"/errors.csv", "")
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("errors.csv: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
			t.Errorf("Content-Disposition %q", cd)
		}
		rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"line", "column", "field", "reason", "raw"},
			{"2", "1", "email", "not an email address", "bob at example"},
			{"4", "3", "employees", `"many" is not a whole number`, `x,"y, z",many`},
			{"5", "1", "email", "not an email address", `'=HYPERLINK("http://evil.example","x")`},
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("errors.csv:\n got %q\nwant %q", rows, want)
		}
	})
	t.Run("create", func(t *testing.T) {
		csvText := "email,first_name\nann@import.example,Ann\nnot-an-email,Bob\n"
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "people.csv")
		_, _ = fw.Write([]byte(csvText))
		mw.Close()
		req := h.request(t, key, "POST", "/api/v1/imports?object=contacts", "")
		req.Body = io.NopCloser(&buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res := h.do(t, req)
		if res.Status != http.StatusAccepted {
			t.Fatalf("multipart import: %d %s", res.Status, res.Body)
		}
		im := h.waitImport(t, key, res.Header.Get("Location"))
		expectFields(t, "import", im, map[string]any{"status": "done", "rows": 2.0, "accepted": 1.0, "rejected": 1.0, "filename": "people.csv", "object_type": "contact"})
		errs := items(t, h.want(t, http.StatusOK, key, "GET", res.Header.Get("Location")+"/errors", ""))
		if len(errs) != 1 || errs[0]["line"] != 3.0 {
			t.Errorf("errors: %v", errs)
		}
		// Raw CSV body.
		req = h.request(t, key, "POST", "/api/v1/imports?object=contacts&filename=raw.csv", "")
		req.Body = io.NopCloser(strings.NewReader("email\ncarl@import.example\n"))
		req.Header.Set("Content-Type", "text/csv")
		res = h.do(t, req)
		if res.Status != http.StatusAccepted {
			t.Fatalf("raw import: %d %s", res.Status, res.Body)
		}
		im = h.waitImport(t, key, res.Header.Get("Location"))
		expectFields(t, "raw import", im, map[string]any{"status": "done", "rows": 1.0, "accepted": 1.0, "filename": "raw.csv"})
	})
}

// testLargeUpload is the reason for the import route's own body limit: a file
// beyond the 1 MiB request default must be accepted.
func (h *harness) testLargeUpload(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,first_name\n")
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "person%07d@big-upload.example,Person %d\n", i, i)
	}
	req := h.request(t, h.adminA(), "POST", "/api/v1/imports?object=contacts&filename=big.csv", "")
	req.Body = io.NopCloser(strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "text/csv")
	res := h.do(t, req)
	if res.Status != http.StatusAccepted {
		t.Fatalf("3 MiB upload: %d %s", res.Status, res.Body)
	}
	if im := res.object(t); im["bytes"] != float64(b.Len()) {
		t.Errorf("stored %v bytes, sent %d", im["bytes"], b.Len())
	}
}

func (h *harness) waitImport(t *testing.T, key, loc string) map[string]any {
	t.Helper()
	id, err := strconv.ParseInt(loc[strings.LastIndexByte(loc, '/')+1:], 10, 64)
	if err != nil {
		t.Fatalf("import location %q: %v", loc, err)
	}
	h.env.WaitImport(t, id)
	im := h.want(t, http.StatusOK, key, "GET", loc, "")
	if s := im["status"]; s != "done" && s != "failed" {
		t.Fatalf("import %d finished its job but is %v", id, s)
	}
	return im
}

// target knows how to make a record of one resource in a workspace and how to
// take a snapshot of it as its owner sees it.
type target struct {
	create   func(t *testing.T, ws apptest.WS) int64
	snapshot func(t *testing.T, id int64) string
	patch    string // a valid PATCH body, "" if the resource has no PATCH
}

func (h *harness) targets() map[string]target {
	record := func(plural, body, patch string) target {
		return target{
			create: func(t *testing.T, ws apptest.WS) int64 {
				return h.mk(t, ws.Keys[model.RoleAdmin], plural, fmt.Sprintf(body, uniq("xws")))
			},
			snapshot: func(t *testing.T, id int64) string {
				return string(h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/%s/%d", plural, id), "").Body)
			},
			patch: patch,
		}
	}
	inList := func(path string) func(t *testing.T, id int64) string {
		return func(t *testing.T, rid int64) string {
			for _, it := range items(t, h.want(t, http.StatusOK, h.adminA(), "GET", path, "")) {
				if id(t, it, "id") == rid {
					b, _ := json.Marshal(it)
					return string(b)
				}
			}
			return "missing"
		}
	}
	// The record plus what the {id} sub-resources show of it (routing decisions, the
	// score without its as_of clock), so the walk also proves they did not change.
	withSub := func(tg target, sub func(id int64) string) target {
		snap := tg.snapshot
		tg.snapshot = func(t *testing.T, id int64) string {
			res := h.call(t, h.adminA(), "GET", sub(id), "")
			if res.Status != http.StatusOK {
				return "missing"
			}
			m := res.object(t)
			delete(m, "as_of")
			b, _ := json.Marshal(m)
			return snap(t, id) + string(b)
		}
		return tg
	}
	tg := map[string]target{
		"accounts": withSub(record("accounts", `{"name":"%s account","employees":1200}`, `{"name":"Hijacked"}`),
			func(id int64) string { return fmt.Sprintf("/api/v1/accounts/%d/routing", id) }),
		"contacts": withSub(record("contacts", `{"email":"%s@victim.example","title":"VP"}`, `{"first_name":"Mallory"}`),
			func(id int64) string { return fmt.Sprintf("/api/v1/contacts/%d/score", id) }),
		"deals":      record("deals", `{"name":"%s deal","pipeline":"digital"}`, `{"name":"Hijacked"}`),
		"activities": record("activities", `{"kind":"note","subject":"%s"}`, `{"subject":"Hijacked"}`),
		"custom-fields": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				return id(t, h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/custom-fields",
					fmt.Sprintf(`{"object_type":"contact","key":%q,"type":"text"}`, uniq("xws_"))), "id")
			},
			snapshot: inList("/api/v1/custom-fields"),
		},
		"api-keys": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				return id(t, h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/api-keys", `{"name":"victim key","role":"csm"}`), "id")
			},
			snapshot: inList("/api/v1/api-keys"),
		},
		"forms": withSub(record("forms", `{"name":"%s form","kind":"signup"}`, `{"name":"Hijacked"}`),
			func(id int64) string { return fmt.Sprintf("/api/v1/forms/%d/submissions", id) }),
		"content": record("content", `{"title":"%s guide","url":"https://cdn.example/g.pdf","type":"guide"}`, `{"title":"Hijacked"}`),
		"pools": {
			// A pool with a member, so the snapshot shows membership changes too.
			create: func(t *testing.T, ws apptest.WS) int64 {
				key := ws.Keys[model.RoleAdmin]
				pid := id(t, h.want(t, http.StatusCreated, key, "POST", "/api/v1/pools", fmt.Sprintf(`{"name":%q,"role":"ldr","capacity":5}`, uniq("xws pool "))), "id")
				h.want(t, http.StatusOK, key, "PUT", fmt.Sprintf("/api/v1/pools/%d/members/%d", pid, ws.Users[model.RoleLDR].ID), `{}`)
				return pid
			},
			snapshot: func(t *testing.T, id int64) string {
				return string(h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/pools/%d", id), "").Body)
			},
			patch: `{"name":"Hijacked"}`,
		},
		// /api/v1/tracking/sites/{id}: the walk's segment is "tracking".
		"tracking": h.trackingTarget(),
		// /api/v1/customers/{id}/…: {id} is the account of a won customer.
		"customers": h.customersTarget(),
		"sequences": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				return id(t, h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/sequences", fmt.Sprintf(seqBody, uniq("victim"))), "id")
			},
			snapshot: func(t *testing.T, id int64) string {
				s := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/sequences/%d", id), "")
				if s.Status != http.StatusOK {
					return "missing"
				}
				st := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/sequences/%d/stats", id), "")
				return string(s.Body) + string(st.Body)
			},
		},
		"enrollments": {
			create: func(t *testing.T, ws apptest.WS) int64 {
				h.mailer()
				key := ws.Keys[model.RoleAdmin]
				sid := id(t, h.want(t, http.StatusCreated, key, "POST", "/api/v1/sequences", fmt.Sprintf(seqBody, uniq("victim"))), "id")
				cid := h.mk(t, key, "contacts", fmt.Sprintf(`{"email":"%s@victim.example"}`, uniq("enr")))
				res := h.want(t, http.StatusOK, key, "POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", sid), fmt.Sprintf(`{"contact_ids":[%d]}`, cid))
				return int64(res["enrolled"].([]any)[0].(float64))
			},
			snapshot: func(t *testing.T, id int64) string {
				e := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/enrollments/%d", id), "")
				if e.Status != http.StatusOK {
					return "missing"
				}
				m := e.object(t)
				delete(m, "updated_at") // the due-steps worker may run its first step meanwhile
				delete(m, "next_due_at")
				delete(m, "position")
				b, _ := json.Marshal(m)
				return string(b)
			},
		},
		"webhooks": h.webhooksTarget(),
		"imports": {
			create: func(t *testing.T, ws apptest.WS) int64 { return h.storeImport(t, ws.ID) },
			snapshot: func(t *testing.T, id int64) string {
				im := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/imports/%d", id), "")
				errs := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/imports/%d/errors", id), "")
				return string(im.Body) + string(errs.Body)
			},
		},
	}
	h.subscriptionTargets(tg)
	return tg
}

// deskBodies are valid desk action forms, by route suffix.
var deskBodies = map[string]string{
	"/qualify":        `{"budget":"b","authority":"a","need":"n","timeline":"t","note":"hijack"}`,
	"/disqualify":     `{"reason":"other","note":"hijack"}`,
	"/nurture":        `{"note":"hijack"}`,
	"/meeting-booked": `{"note":"hijack"}`,
}

// testCrossWorkspace walks every route with an {id}: B's admin key on A's record
// must answer exactly like an id that never existed, and change nothing. A route
// this test cannot build a call for fails, so new routes are covered or noticed.
func (h *harness) testCrossWorkspace(t *testing.T) {
	targets := h.targets()
	maps.Copy(targets, h.economicsTargets())
	maps.Copy(targets, h.partnerTargets())
	targets["economics"] = h.economicsAlertTarget()
	walked := 0
	for _, rt := range h.api.Routes() {
		if !strings.Contains(rt.Pattern, "{id}") {
			continue
		}
		walked++
		name := rt.Method + " " + rt.Pattern
		t.Run(name, func(t *testing.T) {
			seg := strings.Split(rt.Pattern, "/")[3]
			tg, ok := targets[seg]
			if !ok {
				t.Fatalf("no cross-workspace target for %q: teach testCrossWorkspace to create one", seg)
			}
			suffix := rt.Pattern[strings.Index(rt.Pattern, "{id}")+len("{id}"):]
			var body string
			switch {
			case rt.Method == "GET" || rt.Method == "DELETE":
			case rt.Method == "PATCH" && suffix == "" && tg.patch != "":
				body = tg.patch
			case rt.Method == "POST" && suffix == "/merge":
				// A real record of B as merge_id, so only the path id is wrong.
				bID := tg.create(t, h.env.B)
				body = fmt.Sprintf(`{"merge_id":%d}`, bID)
				defer func() {
					h.want(t, http.StatusOK, h.adminB(), "GET", fmt.Sprintf("/api/v1/%s/%d", seg, bID), "")
				}()
			case rt.Method == "PUT" && seg == "deals" && suffix == "/committee/{contact_id}":
				// A valid member, so only the deal id is wrong.
				body = `{"role":"legal","signoff":"approved"}`
			case rt.Method == "PUT" && seg == "pools" && suffix == "/members/{user_id}":
				// A member of B, so only the pool id is wrong.
				body = `{"active":true}`
			case rt.Method == "POST" && seg == "contacts" && deskBodies[suffix] != "":
				// A valid form, so only the path id is wrong; the snapshot's
				// lifecycle_stage proves the desk action did not run.
				body = deskBodies[suffix]
			case rt.Method == "PUT" && (seg == "cost-profiles" || seg == "staffing" || seg == "partners") && suffix == "":
				body = tg.patch
			case rt.Method == "PUT" && seg == "cost-profiles" && suffix == "/headcount":
				body = `{"months":{"2026-01":1}}`
			case rt.Method == "PUT" && seg == "sequences":
				body = fmt.Sprintf(seqBody, uniq("hijack"))
			case rt.Method == "POST" && seg == "sequences" && suffix == "/enrollments":
				body = fmt.Sprintf(`{"contact_ids":[%d]}`, h.mk(t, h.adminB(), "contacts", fmt.Sprintf(`{"email":"%s@b.example"}`, uniq("xws"))))
			case rt.Method == "PUT" && seg == "content" && suffix == "/file":
				// No body: a foreign id answers before the upload is read.
			case seg == "customers":
				body = customerBodies[rt.Method+" "+suffix]
			case rt.Method == "POST" && seg == "subscriptions":
				// cancel and reactivate with their defaults: only the path id is wrong.
				body = `{}`
			case rt.Method == "POST" && seg == "handoffs":
				// A valid decision, so only the path id is wrong.
				body = `{"note":"hijack"}`
			case rt.Method == "POST" && seg == "renewals":
				body = `{"outcome":"renew"}`
			case rt.Method == "POST" && seg == "webhooks":
				// test and redeliver take no body.
			case rt.Method == "POST" && (seg == "sequences" || seg == "enrollments" || seg == "economics"):
				// Actions without a body (activate, pause, release, skip, exit…).
			default:
				t.Fatalf("no cross-workspace call for %s: teach testCrossWorkspace its body", name)
			}
			victim := tg.create(t, h.env.A)
			before := tg.snapshot(t, victim)
			if before == "missing" {
				t.Fatalf("snapshot cannot see the new %s %d", seg, victim)
			}
			send := func(idText string) (result, string) {
				path := strings.Replace(rt.Pattern, "{id}", idText, 1)
				path = strings.Replace(path, "{user_id}", fmt.Sprint(h.env.B.Users[model.RoleLDR].ID), 1)
				path = strings.Replace(path, "{contact_id}", "1", 1)
				path = strings.Replace(path, "{item_id}", "1", 1)
				path = strings.Replace(path, "{delivery_id}", "1", 1)
				return h.call(t, h.adminB(), rt.Method, path, body), path
			}
			foreign, fpath := send(fmt.Sprint(victim))
			missing, mpath := send("999999999")
			malformed, xpath := send("x1")
			for _, r := range []result{foreign, missing, malformed} {
				if r.Status != http.StatusNotFound {
					t.Fatalf("status %d, want 404: %s", r.Status, r.Body)
				}
			}
			strip := func(r result, path string) string {
				return strings.Replace(string(r.Body), `"instance":"`+path+`"`, `"instance":""`, 1)
			}
			if f, m := strip(foreign, fpath), strip(missing, mpath); f != m {
				t.Errorf("foreign id answers differently from a missing one:\nforeign %s\nmissing %s", f, m)
			}
			if f, x := strip(foreign, fpath), strip(malformed, xpath); f != x {
				t.Errorf("foreign id answers differently from a malformed one:\nforeign %s\nmalformed %s", f, x)
			}
			if foreign.Header.Get("Content-Type") != missing.Header.Get("Content-Type") {
				t.Errorf("content types differ")
			}
			if after := tg.snapshot(t, victim); after != before {
				t.Errorf("workspace B changed A's %s %d:\nbefore %s\nafter  %s", seg, victim, before, after)
			}
		})
	}
	if walked == 0 {
		t.Fatal("no {id} routes found")
	}
}

func (h *harness) testEveryRouteExercised(t *testing.T) {
	for _, rt := range h.api.Routes() {
		k := rt.Method + " " + rt.Pattern
		if why, ok := h.parked[k]; ok {
			t.Logf("%s not exercised: %s", k, why)
			continue
		}
		if !h.seen[k] {
			t.Errorf("%s never answered 2xx in these tests: add a scenario for it", k)
		}
	}
}
