package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// injectionPayloads is the compact corpus for the parameters that steer the
// SQL itself — the search (q), every sort and every cursor: one or two
// payloads per class — quote breaking, boolean, UNION, stacked queries,
// comments, time-based (both dialects), LIKE wildcards, placeholders and list
// splitting, NUL and invalid UTF-8, numbers that overflow, Unicode that
// changes case or direction, a double-encoded quote and a very long string.
// A payload per class is enough: what decides the outcome is the path a
// value takes (bound, allow-listed, parsed or refused), not which SQL it
// spells.
var injectionPayloads = []string{
	`'`,
	`' OR '1'='1`,
	`1) OR (1=1`,
	`' UNION SELECT NULL,NULL,NULL --`,
	`0 UNION ALL SELECT name, sql FROM sqlite_master`,
	`'; DROP TABLE contacts; --`,
	`'||pg_sleep(3)||'`,
	`1 AND randomblob(500000000)`,
	`/**/--#`,
	`%_%' OR '%'='`,
	`?,$1,:name,@p1`,
	"a\x00b",
	"\xff\xfe\xfd",
	`9223372036854775808`,
	`-1e309`,
	"İß ﬀ\u202eevil\u202c 😀",
	`%27%20OR%201%3D1`,
	strings.Repeat("'", 3000),
}

// valuePayloads go into every other parameter (some 500: every field of the
// record list filters in its equality form, and the named parameters of the
// routes and pages — periods, segments, statuses, limits, ids), whose values
// are parsed by type and bound: a value that breaks quotes, a stacked query,
// the bytes PostgreSQL refuses, numbers that overflow, wildcards and list
// separators, a long string.
var valuePayloads = []string{
	`' OR '1'='1`,
	`'; DROP TABLE contacts; --`,
	"a\x00b",
	"\xff\xfe\xfd",
	`9223372036854775808`,
	`-1e309`,
	`%_,',`,
	strings.Repeat("'", 3000),
}

// operatorPayloads go into the operator forms of every list filter field
// (name[contains], stage[in], amount[lt], ...; some 450 parameters). The
// operators differ from equality only in the comparison they write and in
// how they read the value, so each gets what its reading can trip on:
// contains its LIKE escaping, in its list splitting, lt and ne the parse by
// type; empty only reads true or false.
var operatorPayloads = map[string][]string{
	"[contains]": {`' OR '1'='1`, "a\x00b", "\xff\xfe\xfd", `%_\'`},
	"[in]":       {`a,' OR '1'='1`, `1,9223372036854775808`, "a,\x00", `,,`},
	"[lt]":       {`' OR '1'='1`, `9223372036854775808`, "a\x00b", "\xff\xfe\xfd"},
	"[ne]":       {`' OR '1'='1`, `9223372036854775808`, "a\x00b", "\xff\xfe\xfd"},
	"[empty]":    {`' OR '1'='1`, "a\x00b"},
	// An unknown field or operator is refused by name before its value is read.
	"unknown": {`' OR '1'='1`, "a\x00b"},
}

// sortPayloads are what a sort parameter gets beyond the corpus: near
// misses of an allow-listed key and direction.
var sortPayloads = []string{`name desc`, `-`, `--name`, `id,name`, `name;DROP`, `name DESC NULLS FIRST`}

// cursorPayloads are well-formed cursors (base64url JSON, as the lists hand
// out) carrying the payloads, so they reach the keyset comparison.
var cursorPayloads = func() []string {
	var out []string
	for _, v := range []string{`"' OR '1'='1"`, `"a\u0000b"`, `"x') UNION SELECT 1 --"`, `1e309`, `-9223372036854775809`, `"2026-01-01T00:00:00Z' OR 1=1"`, `null`, `{"a":1}`} {
		out = append(out, base64.RawURLEncoding.EncodeToString([]byte(`{"v":`+v+`,"id":1}`)))
	}
	out = append(out, base64.RawURLEncoding.EncodeToString([]byte(`{"v":"a","id":"1 OR 1=1"}`)))
	return out
}()

// payloadsFor picks the payloads of a parameter: the corpus for a search,
// plus near misses for a sort and well-formed cursors for a cursor; the
// payloads of its operator for a list filter's operator form (op); the value
// payloads for any other.
func payloadsFor(name, kind, op string) []string {
	switch {
	case kind == "sort":
		return slices.Concat(injectionPayloads, sortPayloads)
	case kind == "cursor":
		return slices.Concat(injectionPayloads, cursorPayloads)
	case name == "q":
		return injectionPayloads
	case op != "":
		return operatorPayloads[op]
	}
	return valuePayloads
}

// dbErrorRE is database error text that must never reach a response. None of
// the payloads contains it, so an echo of the input cannot match.
var dbErrorRE = regexp.MustCompile(`SQLSTATE|SQLITE_(?:ERROR|BUSY|LOCKED|CONSTRAINT|MISMATCH|MISUSE|RANGE|TOOBIG|INTERNAL|CORRUPT)|sqlite3|SQL logic error|(?i:syntax error)|pq: |pgx|pgconn|unrecognized token|no such column|no such table|invalid input syntax|invalid byte sequence|unterminated quoted|database is locked|bad connection|sql: |driver: `)

// injCase is one request of the corpus.
type injCase struct {
	surface string // api or ui
	route   string // pattern or page path, for reports
	param   string // the parameter the payload went into
	kind    string // sort, cursor, or "" (filter, search and others)
	url     string
	payload string
}

// TestSQLInjectionCorpus sends the payloads to every query parameter of every
// GET route of the API (from the OpenAPI document, which is built from the
// route table, so a new route is covered when it is added: list filters are
// every field of the listed record, with each operator) and of every UI page
// with a list (found by following the links and GET forms of the pages an
// admin sees, so a new list page is covered once it is linked). Each
// parameter gets the payloads of its class (payloadsFor): the whole corpus
// for searches, sorts and cursors, a short list per filter operator, the
// value payloads for the rest — some 4,000 requests per store, over one app,
// one seeded workspace and one API key, four at a time. On both stores,
// every answer: is not a 5xx, holds no database error text, refuses an
// unknown sort key or direction with 400 naming sort, a malformed cursor
// with 400 naming cursor; and afterwards every table has the rows it had.
func TestSQLInjectionCorpus(t *testing.T) {
	all := slices.Concat(injectionPayloads, valuePayloads, sortPayloads, cursorPayloads)
	for _, ps := range operatorPayloads {
		all = append(all, ps...)
	}
	for _, p := range all {
		if dbErrorRE.MatchString(p) || dbErrorRE.MatchString(strings.ToUpper(p)) || dbErrorRE.MatchString(strings.ToLower(p)) {
			t.Fatalf("payload %q matches the database-error pattern; the check could not tell an echo from a leak", p)
		}
	}
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ids := seedForInjection(t, e)
			e.WaitIdle(t) // the start's and the seed's jobs write rows of their own (renewals, guardrails)
			ctx := context.Background()
			admin := e.A.Keys[model.RoleAdmin]
			browser := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
			before, err := e.App.St.AdminTableRowCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			apiCases, apiParams := apiInjectionCases(t, e, admin, ids)
			uiCases, uiParams := uiInjectionCases(t, e, browser)
			// The enumerations must reach what they exist for.
			for _, want := range []string{"GET /api/v1/accounts q", "GET /api/v1/accounts sort", "GET /api/v1/accounts cursor", "GET /api/v1/accounts name[contains]",
				"GET /api/v1/contacts email", "GET /api/v1/contacts custom.tier", "GET /api/v1/deals stage[in]", "GET /api/v1/activities sort",
				"GET /api/v1/customers sort", "GET /api/v1/accounts/{id}/timeline cursor", "GET /api/v1/enrollments status"} {
				if !apiParams[want] {
					t.Errorf("the API enumeration missed %s", want)
				}
			}
			for _, want := range []string{"/accounts q", "/accounts sort", "/accounts cursor", "/contacts q", "/contacts sort", "/deals sort", "/customers sort"} {
				if !uiParams[want] {
					t.Errorf("the UI enumeration missed %s (found %v)", want, slices.Sorted(maps.Keys(uiParams)))
				}
			}
			t.Logf("%d API and %d UI requests over %d API and %d UI parameters", len(apiCases), len(uiCases), len(apiParams), len(uiParams))
			var mu sync.Mutex
			failures := 0
			fail := func(format string, a ...any) {
				mu.Lock()
				defer mu.Unlock()
				failures++
				if failures <= 40 || os.Getenv("RIGHTSIZE_TEST_ALL_FAILURES") != "" {
					t.Errorf(format, a...)
				}
			}
			run := func(c injCase) {
				var res *http.Response
				var err error
				req, err := http.NewRequest("GET", c.url, nil)
				if err != nil {
					fail("%s %s: %v", c.route, c.param, err)
					return
				}
				if c.surface == "api" {
					req.Header.Set("Authorization", "Bearer "+admin)
					res, err = http.DefaultClient.Do(req)
				} else {
					res, err = browser.Do(req)
				}
				if err != nil {
					fail("%s %s=%.40q: %v", c.route, c.param, c.payload, err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				checkInjectionAnswer(c, res.StatusCode, body, fail)
			}
			cases := append(apiCases, uiCases...)
			work := make(chan injCase)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for c := range work {
						run(c)
					}
				})
			}
			for _, c := range cases {
				work <- c
			}
			close(work)
			wg.Wait()
			if failures > 40 {
				t.Errorf("… and %d more failures", failures-40)
			}
			after, err := e.App.St.AdminTableRowCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range slices.Sorted(maps.Keys(before)) {
				if strings.HasPrefix(name, "river_") {
					continue // the job queue's own bookkeeping
				}
				if after[name] != before[name] {
					t.Errorf("table %s: %d rows before the corpus, %d after", name, before[name], after[name])
				}
			}
		})
	}
}

// checkInjectionAnswer applies the rules to one answer.
func checkInjectionAnswer(c injCase, status int, body []byte, fail func(string, ...any)) {
	where := fmt.Sprintf("%s %s %s=%.60q", c.surface, c.route, c.param, c.payload)
	if status >= 500 {
		fail("%s: %d %.300s", where, status, body)
		return
	}
	if m := dbErrorRE.Find(body); m != nil {
		fail("%s: database error text %q in the answer (%d)", where, m, status)
		return
	}
	var problem struct{ Field string }
	if c.surface == "api" && status >= 400 {
		if err := json.Unmarshal(body, &problem); err != nil {
			fail("%s: %d answer is not a problem document: %.200s", where, status, body)
			return
		}
	}
	switch c.kind {
	case "sort":
		if c.payload == "" {
			return
		}
		switch {
		case status != http.StatusBadRequest:
			fail("%s: unknown sort key answered %d, want 400", where, status)
		case c.surface == "api" && problem.Field != "sort":
			fail("%s: 400 names %q, want sort", where, problem.Field)
		case c.surface == "ui" && !strings.Contains(string(body), "cannot be sorted") && !strings.Contains(string(body), "sort: must"):
			fail("%s: 400 page does not say the column cannot be sorted", where)
		}
	case "cursor":
		if !malformedCursor(c.payload) {
			return
		}
		switch {
		case status != http.StatusBadRequest:
			fail("%s: malformed cursor answered %d, want 400", where, status)
		case c.surface == "api" && problem.Field != "cursor":
			fail("%s: 400 names %q, want cursor", where, problem.Field)
		case c.surface == "ui" && !strings.Contains(string(body), "page link is no longer valid") && !strings.Contains(string(body), "cursor: must"):
			fail("%s: 400 page does not say the page link is invalid", where)
		}
	default:
		if c.surface == "api" && status == http.StatusBadRequest && problem.Field == "" {
			fail("%s: 400 without a field: %.200s", where, body)
		}
	}
}

// malformedCursor: not a cursor any list hands out (base64url JSON, or a
// plain id for the id-keyed lists).
func malformedCursor(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return true
	}
	var v map[string]any
	return json.Unmarshal(raw, &v) != nil
}

// injectionIDs are records of workspace A that path parameters name, so the
// routes under an id are reached, by the first path segment after /api/v1/.
type injectionIDs map[string]int64

func seedForInjection(t *testing.T, e *apptest.Env) injectionIDs {
	t.Helper()
	key := e.A.Keys[model.RoleAdmin]
	ids := injectionIDs{}
	mk := func(path, body string) int64 {
		t.Helper()
		status, b := e.Do(t, key, "POST", path, body)
		if status != http.StatusCreated && status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %s", path, status, b)
		}
		var v struct{ ID int64 }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	mk("/api/v1/custom-fields", `{"object_type":"contact","key":"tier","label":"Tier","type":"text"}`)
	mk("/api/v1/custom-fields", `{"object_type":"account","key":"score","label":"Score","type":"number"}`)
	ids["accounts"] = mk("/api/v1/accounts", `{"name":"O'Brien & Sons","domain":"obrien.example","employees":120,"industry":"Software","custom":{"score":7}}`)
	mk("/api/v1/accounts", `{"name":"Zeta; DROP TABLE accounts","employees":5000}`)
	ids["contacts"] = mk("/api/v1/contacts", fmt.Sprintf(`{"email":"ann@obrien.example","first_name":"Ann","account_id":%d,"custom":{"tier":"gold"}}`, ids["accounts"]))
	mk("/api/v1/contacts", `{"email":"bob@zeta.example","last_name":"' OR 1=1"}`)
	ids["deals"] = mk("/api/v1/deals", fmt.Sprintf(`{"name":"Big deal","pipeline":"high_touch","amount":4800000,"account_id":%d}`, ids["accounts"]))
	ids["activities"] = mk("/api/v1/activities", fmt.Sprintf(`{"kind":"call","subject":"Intro","contact_id":%d}`, ids["contacts"]))
	ids["forms"] = mk("/api/v1/forms", `{"name":"Signup","kind":"signup","fields":[{"field":"email","required":true}]}`)
	ids["webhooks"] = mk("/api/v1/webhooks", `{"url":"https://hooks.example.com/rs","event_types":["deal.won"]}`)
	ids["subscriptions"] = mk("/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"plan":"Growth","quantity":3,"unit_price":120000,"interval":"year","start_date":"2026-01-15"}`, ids["accounts"]))
	ids["customers"] = ids["accounts"]
	return ids
}

// apiInjectionCases builds the API requests from the OpenAPI document.
func apiInjectionCases(t *testing.T, e *apptest.Env, key string, ids injectionIDs) ([]injCase, map[string]bool) {
	t.Helper()
	status, raw := e.Do(t, "", "GET", "/api/v1/openapi.json", "")
	if status != http.StatusOK {
		t.Fatalf("openapi.json: %d", status)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage
		Components struct{ Schemas map[string]json.RawMessage }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	type param struct {
		Name, In string
		Style    string
	}
	var op struct {
		Parameters []param
		Responses  map[string]struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				}
			}
		}
	}
	idRE := regexp.MustCompile(`\{[a-z_]+\}`)
	var cases []injCase
	params := map[string]bool{}
	for _, pattern := range slices.Sorted(maps.Keys(doc.Paths)) {
		rawOp, ok := doc.Paths[pattern]["get"]
		if !ok {
			continue
		}
		op.Parameters, op.Responses = nil, nil
		if err := json.Unmarshal(rawOp, &op); err != nil {
			t.Fatal(err)
		}
		coll := strings.SplitN(strings.TrimPrefix(pattern, "/api/v1/"), "/", 2)[0]
		path := idRE.ReplaceAllStringFunc(pattern, func(string) string {
			if id, ok := ids[coll]; ok {
				return strconv.FormatInt(id, 10)
			}
			return "1"
		})
		route := "GET " + pattern
		add := func(name, kind, op string) {
			params[route+" "+name] = true
			ps := payloadsFor(name, kind, op)
			if len(ps) == 0 {
				t.Fatalf("no payloads for %s %s", route, name)
			}
			for _, p := range ps {
				cases = append(cases, injCase{surface: "api", route: route, param: name, kind: kind, payload: p,
					url: e.URL + path + "?" + url.Values{name: {p}}.Encode()})
			}
		}
		for _, p := range op.Parameters {
			if p.In != "query" {
				continue
			}
			if p.Style != "form" || p.Name != "filters" {
				kind := ""
				if p.Name == "sort" || p.Name == "cursor" {
					kind = p.Name
				}
				add(p.Name, kind, "")
				continue
			}
			// Free-form filters: every field of the listed record, with each
			// operator, and custom fields.
			ref := op.Responses["200"].Content["application/json"].Schema.Ref
			fields := itemFields(t, doc.Components.Schemas, strings.TrimPrefix(ref, "#/components/schemas/"))
			if coll == "contacts" {
				fields = append(fields, "custom.tier")
			}
			if coll == "accounts" {
				fields = append(fields, "custom.score")
			}
			for _, f := range fields {
				for _, o := range []string{"", "[contains]", "[in]", "[lt]", "[ne]", "[empty]"} {
					add(f+o, "", o)
				}
			}
			add("nosuchfield", "", "unknown")
			add("name[drop]", "", "unknown")
		}
	}
	return cases, params
}

// itemFields lists the properties of the items of a page schema.
func itemFields(t *testing.T, schemas map[string]json.RawMessage, page string) []string {
	t.Helper()
	var p struct {
		Properties struct {
			Items struct {
				Items struct {
					Ref string `json:"$ref"`
				}
			}
		}
	}
	if err := json.Unmarshal(schemas[page], &p); err != nil {
		t.Fatalf("schema %s: %v", page, err)
	}
	var item struct{ Properties map[string]json.RawMessage }
	if err := json.Unmarshal(schemas[strings.TrimPrefix(p.Properties.Items.Items.Ref, "#/components/schemas/")], &item); err != nil || len(item.Properties) == 0 {
		t.Fatalf("items of %s: %v", page, err)
	}
	return slices.Sorted(maps.Keys(item.Properties))
}

var (
	uiLinkRE  = regexp.MustCompile(`href="(/[^"#]*)"`)
	getFormRE = regexp.MustCompile(`(?s)<form[^>]*method="get"[^>]*>(.*?)</form>`)
	nameRE    = regexp.MustCompile(`name="([a-z_]+)"`)
	numSegRE  = regexp.MustCompile(`/[0-9]+(/|$)`)
)

// uiInjectionCases finds the UI's list parameters by walking what an admin
// sees: every page linked from the dashboard and from those pages, the query
// keys of their links and the inputs of their GET forms.
func uiInjectionCases(t *testing.T, e *apptest.Env, c *http.Client) ([]injCase, map[string]bool) {
	t.Helper()
	seen := map[string]bool{"/": true}
	queue := []string{"/"}
	byPage := map[string]map[string]bool{} // page path → parameter names
	for len(queue) > 0 && len(seen) < 400 {
		u := queue[0]
		queue = queue[1:]
		res, err := c.Get(e.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue
		}
		page, _, _ := strings.Cut(u, "?")
		for _, m := range uiLinkRE.FindAllSubmatch(body, -1) {
			link := strings.ReplaceAll(string(m[1]), "&amp;", "&")
			p, q, _ := strings.Cut(link, "?")
			if strings.HasPrefix(p, "/static/") || strings.HasPrefix(p, "/api/") || strings.HasSuffix(p, ".csv") || strings.HasPrefix(p, "/logout") {
				continue
			}
			if vals, err := url.ParseQuery(q); err == nil && q != "" && !numSegRE.MatchString(p) {
				for k := range vals {
					addParam(byPage, p, k)
				}
			}
			if !seen[p] && (!numSegRE.MatchString(p) || strings.Count(p, "/") <= 3) {
				seen[p] = true
				queue = append(queue, p)
			}
		}
		if numSegRE.MatchString(page) {
			continue
		}
		for _, f := range getFormRE.FindAllSubmatch(body, -1) {
			for _, n := range nameRE.FindAllSubmatch(f[1], -1) {
				addParam(byPage, page, string(n[1]))
			}
		}
	}
	// A page with sortable columns is a list, and every list pages with a
	// cursor (its next link only shows past 50 rows).
	for _, names := range byPage {
		if names["sort"] {
			names["cursor"] = true
		}
	}
	var cases []injCase
	found := map[string]bool{}
	for _, page := range slices.Sorted(maps.Keys(byPage)) {
		names := slices.Sorted(maps.Keys(byPage[page]))
		sort.Strings(names)
		for _, name := range names {
			if name == "offset" {
				continue // a display number, only read with a cursor
			}
			found[page+" "+name] = true
			kind := ""
			if name == "sort" || name == "cursor" {
				kind = name
			}
			for _, p := range payloadsFor(name, kind, "") {
				cases = append(cases, injCase{surface: "ui", route: page, param: name, kind: kind, payload: p,
					url: e.URL + page + "?" + url.Values{name: {p}}.Encode()})
			}
		}
	}
	return cases, found
}

func addParam(m map[string]map[string]bool, page, name string) {
	if m[page] == nil {
		m[page] = map[string]bool{}
	}
	m[page][name] = true
}
