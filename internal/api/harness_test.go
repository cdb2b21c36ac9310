package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rightsize/rightsize/internal/api"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	// The access log goes to slog's default logger; keep test output to failures.
	if os.Getenv("RIGHTSIZE_TEST_LOG") == "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

const docURL = "https://rightsize.test/api/v1/openapi.json"

// harness is one running app plus the OpenAPI document it serves. Every request a
// test sends goes through do, which validates the response against the schema the
// document gives for its route, status and media type.
type harness struct {
	env    *apptest.Env
	api    *api.API
	doc    map[string]any
	ops    []docOp
	comp   *jsonschema.Compiler
	mu     sync.Mutex
	cache  map[string]*jsonschema.Schema
	seen   map[string]bool // "METHOD pattern" that answered 2xx
	parked map[string]string
}

type docOp struct {
	method, pattern string
	re              *regexp.Regexp
	op              map[string]any
}

type result struct {
	Status int
	Header http.Header
	Body   []byte
}

func newHarness(t *testing.T, kind store.Kind) *harness {
	t.Helper()
	env := apptest.New(t, kind)
	h := &harness{env: env, cache: map[string]*jsonschema.Schema{}, seen: map[string]bool{}, parked: map[string]string{}}
	h.api = api.New(api.Deps{St: env.App.St, Auth: env.App.Auth, CRM: env.App.CRM, Imports: env.App.Imports, Scoring: env.App.Scoring, Routing: env.App.Routing, Sequences: env.App.Sequences})
	resp, err := http.Get(env.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &h.doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h.comp = jsonschema.NewCompiler()
	h.comp.DefaultDraft(jsonschema.Draft2020)
	h.comp.AssertFormat()
	if err := h.comp.AddResource(docURL, inst); err != nil {
		t.Fatal(err)
	}
	paths, _ := h.doc["paths"].(map[string]any)
	for pattern, item := range paths {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(regexp.QuoteMeta(pattern), `[^/]+`) + "$")
		for method, o := range item.(map[string]any) {
			h.ops = append(h.ops, docOp{method: strings.ToUpper(method), pattern: pattern, re: re, op: o.(map[string]any)})
		}
	}
	h.seen["GET /api/v1/openapi.json"] = true
	return h
}

// schema compiles (once) the schema at a location in the document: a component
// $ref when the response schema is one, else the JSON pointer of the inline schema.
func (h *harness) schema(t *testing.T, s map[string]any, pointer string) *jsonschema.Schema {
	t.Helper()
	loc := docURL + "#" + pointer
	if ref, ok := s["$ref"].(string); ok && len(s) == 1 {
		loc = docURL + ref
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if sch, ok := h.cache[loc]; ok {
		return sch
	}
	sch, err := h.comp.Compile(loc)
	if err != nil {
		t.Fatalf("compile %s: %v", loc, err)
	}
	h.cache[loc] = sch
	return sch
}

func pointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// do sends req and checks the answer against the document: the status must be
// documented (or covered by default), the media type must be one the document
// lists for it, and a JSON body must validate against that schema.
func (h *harness) do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return h.check(t, req, resp)
}

func (h *harness) check(t *testing.T, req *http.Request, resp *http.Response) result {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := result{Status: resp.StatusCode, Header: resp.Header, Body: body}
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	var found *docOp
	for i := range h.ops {
		o := &h.ops[i]
		if o.method == req.Method && o.re.MatchString(req.URL.Path) {
			// A literal path beats a wildcard one (errors.csv vs {id}).
			if found == nil || strings.Count(o.pattern, "{") < strings.Count(found.pattern, "{") {
				found = o
			}
		}
	}
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if found == nil {
		// Not a documented route: the fallback must still answer with a problem.
		if ctype != "application/problem+json" || (res.Status != 404 && res.Status != 405) {
			t.Errorf("%s: undocumented route answered %q", what, ctype)
		}
		h.validate(t, what, map[string]any{"$ref": "#/components/schemas/Problem"}, "", body)
		return res
	}
	if res.Status/100 == 2 {
		h.mu.Lock()
		h.seen[found.method+" "+found.pattern] = true
		h.mu.Unlock()
	}
	responses := found.op["responses"].(map[string]any)
	key := strconv.Itoa(res.Status)
	r, ok := responses[key].(map[string]any)
	if !ok {
		key = "default"
		r, ok = responses[key].(map[string]any)
		if !ok || res.Status < 400 {
			t.Errorf("%s: status not documented for %s %s (body %s)", what, found.method, found.pattern, body)
			return res
		}
	}
	contents, _ := r["content"].(map[string]any)
	if contents == nil {
		if len(body) != 0 {
			t.Errorf("%s: documented without a body, got %q", what, body)
		}
		return res
	}
	mt, ok := contents[ctype].(map[string]any)
	if !ok {
		t.Errorf("%s: media type %q not documented (have %v); body %s", what, ctype, keysOf(contents), body)
		return res
	}
	if ctype == "application/json" || strings.HasSuffix(ctype, "+json") {
		ptr := "/paths/" + pointerEscape(found.pattern) + "/" + strings.ToLower(found.method) + "/responses/" + key + "/content/" + pointerEscape(ctype) + "/schema"
		h.validate(t, what, mt["schema"].(map[string]any), ptr, body)
	}
	return res
}

func (h *harness) validate(t *testing.T, what string, s map[string]any, ptr string, body []byte) {
	t.Helper()
	sch := h.schema(t, s, ptr)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: body is not JSON: %v: %s", what, err, body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s: body does not match the documented schema: %v\nbody: %s", what, err, body)
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// request builds a request with an API key (none when key is "") and a JSON body.
func (h *harness) request(t *testing.T, key, method, path, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// call sends a JSON request with an API key.
func (h *harness) call(t *testing.T, key, method, path, body string) result {
	t.Helper()
	return h.do(t, h.request(t, key, method, path, body))
}

// want sends a request and fails unless it answers status; it returns the body
// decoded as a JSON object (nil for an empty body).
func (h *harness) want(t *testing.T, status int, key, method, path, body string) map[string]any {
	t.Helper()
	res := h.call(t, key, method, path, body)
	if res.Status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.Status, status, res.Body)
	}
	return res.object(t)
}

func (r result) object(t *testing.T) map[string]any {
	t.Helper()
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// id reads a numeric id field of a decoded object.
func id(t *testing.T, m map[string]any, field string) int64 {
	t.Helper()
	f, ok := m[field].(float64)
	if !ok {
		t.Fatalf("no numeric %s in %v", field, m)
	}
	return int64(f)
}

func items(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["items"].([]any)
	if !ok {
		t.Fatalf("no items in %v", m)
	}
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

// wantProblem checks a problem answer's status, code (if given) and field.
func wantProblem(t *testing.T, res result, status int, field string) map[string]any {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	p := res.object(t)
	if got, _ := p["field"].(string); got != field {
		t.Fatalf("problem field %q, want %q: %s", got, field, res.Body)
	}
	return p
}

var seq atomic.Int64

func uniq(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, seq.Add(1))
}
