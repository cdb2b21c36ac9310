package tracking_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/tracking"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

const origin = "https://www.acme.example"

// env is a running app with a tracking site in workspace A and one in B.
type env struct {
	*apptest.Env
	siteA, siteB store.TrackingSite
}

func newEnv(t testing.TB, kind store.Kind) *env {
	t.Helper()
	e := &env{Env: apptest.New(t, kind)}
	e.siteA = e.mkSite(t, e.A, `{"name":"A site","allowed_origins":["https://WWW.acme.example:443/"]}`)
	e.siteB = e.mkSite(t, e.B, `{"name":"B site","allowed_origins":["https://beta.example"]}`)
	return e
}

func (e *env) mkSite(t testing.TB, ws apptest.WS, body string) store.TrackingSite {
	t.Helper()
	status, b := e.Do(t, ws.Keys[model.RoleAdmin], "POST", "/api/v1/tracking/sites", body)
	if status != http.StatusCreated {
		t.Fatalf("create site: %d %s", status, b)
	}
	var s store.TrackingSite
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends an ingest request as a browser on origin would (text/plain, no preflight).
func (e *env) post(t testing.TB, orig, body string) answer {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+tracking.IngestPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if orig != "" {
		req.Header.Set("Origin", orig)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("answer is not JSON: %d %s", res.StatusCode, raw)
		}
	}
	return a
}

func batch(site, visitor string, events ...string) string {
	return fmt.Sprintf(`{"site":%q,"visitor":%q,"events":[%s]}`, site, visitor, strings.Join(events, ","))
}

func pv(path string) string {
	return fmt.Sprintf(`{"kind":"page_view","url":"https://www.acme.example%s","title":"T %s","referrer":"https://search.example/","props":{"utm_source":"news"}}`, path, path)
}

func (e *env) count(t testing.TB, ws int64) (int64, int64) {
	t.Helper()
	total, stitched, err := e.App.St.Read().CountWebEvents(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return total, stitched
}

func TestTracking(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, kind)
			t.Run("site_validation", e.testSiteValidation)
			t.Run("script", e.testScript)
			t.Run("cors", e.testCORS)
			t.Run("wrong_site_key", e.testWrongKey)
			t.Run("consent", e.testConsent)
			t.Run("reconciliation", e.testReconciliation)
			t.Run("cross_workspace", e.testCrossWorkspace)
			t.Run("stitching", e.testStitching)
		})
	}
}

func (e *env) testSiteValidation(t *testing.T) {
	if !strings.HasPrefix(e.siteA.PublicKey, "rs_") || len(e.siteA.PublicKey) < 20 {
		t.Fatalf("key %q", e.siteA.PublicKey)
	}
	if e.siteA.PublicKey == e.siteB.PublicKey {
		t.Fatal("two sites share a key")
	}
	if got := e.siteA.AllowedOrigins; len(got) != 1 || got[0] != origin {
		t.Fatalf("origin not normalised: %v", got)
	}
	admin := e.A.Keys[model.RoleAdmin]
	bad := map[string]string{
		`{"allowed_origins":["https://a.example"]}`: "name",
		`{"name":"x"}`:                      "allowed_origins",
		`{"name":"x","allowed_origins":[]}`: "allowed_origins",
		`{"name":"x","allowed_origins":["https://a.example/path"]}`:               "allowed_origins[0]",
		`{"name":"x","allowed_origins":["https://a.example","ftp://a.example"]}`:  "allowed_origins[1]",
		`{"name":"x","allowed_origins":["https://*.example"]}`:                    "allowed_origins[0]",
		`{"name":"x","allowed_origins":["https://u:p@a.example"]}`:                "allowed_origins[0]",
		`{"name":"x","allowed_origins":["https://a.example?x=1"]}`:                "allowed_origins[0]",
		`{"name":"x","allowed_origins":["a.example"]}`:                            "allowed_origins[0]",
		`{"name":"x","allowed_origins":["https://a.example"],"consent_mode":"x"}`: "consent_mode",
		`{"name":"x","allowed_origins":["https://a.example"],"workspace_id":2}`:   "workspace_id",
	}
	for body, field := range bad {
		status, b := e.Do(t, admin, "POST", "/api/v1/tracking/sites", body)
		var p map[string]any
		_ = json.Unmarshal(b, &p)
		if status != http.StatusBadRequest || p["field"] != field {
			t.Errorf("%s: %d %s, want 400 on %s", body, status, b, field)
		}
	}
	// Only admins write; everyone reads.
	if status, _ := e.Do(t, e.A.Keys[model.RoleAE], "POST", "/api/v1/tracking/sites", `{"name":"x","allowed_origins":["https://a.example"]}`); status != http.StatusForbidden {
		t.Errorf("ae create: %d", status)
	}
	if status, _ := e.Do(t, e.A.Keys[model.RoleAE], "GET", "/api/v1/tracking/sites", ""); status != http.StatusOK {
		t.Errorf("ae list: %d", status)
	}
	// CRUD round trip; the key never changes.
	s := e.mkSite(t, e.A, `{"name":"Temp","allowed_origins":["http://localhost:8080"]}`)
	path := fmt.Sprintf("/api/v1/tracking/sites/%d", s.ID)
	status, b := e.Do(t, admin, "PATCH", path, `{"name":"Temp 2","consent_mode":"required"}`)
	var got store.TrackingSite
	_ = json.Unmarshal(b, &got)
	if status != http.StatusOK || got.Name != "Temp 2" || got.ConsentMode != "required" || got.PublicKey != s.PublicKey || got.AllowedOrigins[0] != "http://localhost:8080" {
		t.Fatalf("patch: %d %s", status, b)
	}
	if status, _ := e.Do(t, e.B.Keys[model.RoleAdmin], "GET", path, ""); status != http.StatusNotFound {
		t.Errorf("B reads A's site: %d", status)
	}
	if status, _ := e.Do(t, admin, "DELETE", path, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, _ := e.Do(t, admin, "GET", path, ""); status != http.StatusNotFound {
		t.Errorf("deleted site still there: %d", status)
	}
	// The deleted key no longer ingests.
	if a := e.post(t, "http://localhost:8080", batch(s.PublicKey, "visitor-deleted", pv("/"))); a.status != http.StatusNotFound {
		t.Errorf("deleted site's key: %d %v", a.status, a.body)
	}
}

func (e *env) testScript(t *testing.T) {
	req, _ := http.NewRequest("GET", e.URL+tracking.ScriptPath, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(res.Body)
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || etag == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
		t.Fatalf("t.js: %d %v", res.StatusCode, res.Header)
	}
	if len(gz) > 2500 {
		t.Errorf("t.js is %d bytes gzipped; keep it small", len(gz))
	}
	req.Header.Set("If-None-Match", etag)
	res, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: %d", res.StatusCode)
	}
	status, body := e.Do(t, "", "GET", tracking.ScriptPath, "")
	for _, want := range []string{"sendBeacon", "keepalive", "rs_vid", "SameSite=Lax", "pagehide", "visibilitychange", "data-consent", "utm_source"} {
		if status != 200 || !strings.Contains(string(body), want) {
			t.Errorf("t.js lacks %q", want)
		}
	}
}

func (e *env) testCORS(t *testing.T) {
	before, _ := e.count(t, e.A.ID)
	ok := e.post(t, origin, batch(e.siteA.PublicKey, "visitor-cors-1", pv("/")))
	if ok.status != http.StatusAccepted || ok.header.Get("Access-Control-Allow-Origin") != origin || ok.body["accepted"] != float64(1) {
		t.Fatalf("allowed origin: %d %v %v", ok.status, ok.header, ok.body)
	}
	for _, o := range []string{"https://evil.example", "http://www.acme.example", "https://www.acme.example:8443", ""} {
		a := e.post(t, o, batch(e.siteA.PublicKey, "visitor-cors-2", pv("/")))
		if a.status != http.StatusForbidden || a.body["code"] != "origin_not_allowed" || a.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("origin %q: %d %v %v", o, a.status, a.header, a.body)
		}
	}
	if after, _ := e.count(t, e.A.ID); after != before+1 {
		t.Errorf("stored %d events, want 1 (refused origins store nothing)", after-before)
	}
	// Preflight: the origin is echoed only for a site that allows it.
	pre := func(o, site string) http.Header {
		req, _ := http.NewRequest("OPTIONS", e.URL+tracking.IngestPath+"?site="+site, nil)
		req.Header.Set("Origin", o)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("preflight: %d", res.StatusCode)
		}
		return res.Header
	}
	if h := pre(origin, e.siteA.PublicKey); h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("allowed preflight: %v", h)
	}
	if h := pre("https://evil.example", e.siteA.PublicKey); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disallowed preflight echoed: %v", h)
	}
}

func (e *env) testWrongKey(t *testing.T) {
	before, _ := e.count(t, e.A.ID)
	for key, status := range map[string]int{"rs_doesnotexist000000000": 404, "": 400, "no spaces allowed": 400, fmt.Sprint(e.A.ID): 400} {
		a := e.post(t, origin, batch(key, "visitor-wrong-key", pv("/")))
		if a.status != status || a.body["field"] != "site" {
			t.Errorf("key %q: %d %v, want %d on site", key, a.status, a.body, status)
		}
	}
	if after, _ := e.count(t, e.A.ID); after != before {
		t.Errorf("a wrong key stored %d events", after-before)
	}
}

func (e *env) testConsent(t *testing.T) {
	s := e.mkSite(t, e.A, `{"name":"Consent site","allowed_origins":["https://consent.example"],"consent_mode":"required"}`)
	before, _ := e.count(t, e.A.ID)
	a := e.post(t, "https://consent.example", batch(s.PublicKey, "visitor-consent", pv("/")))
	if a.status != http.StatusForbidden || a.body["code"] != "consent_required" {
		t.Fatalf("no consent: %d %v", a.status, a.body)
	}
	if after, _ := e.count(t, e.A.ID); after != before {
		t.Fatal("an unconsented batch was stored")
	}
	body := strings.Replace(batch(s.PublicKey, "visitor-consent", pv("/")), `"events"`, `"consent":true,"events"`, 1)
	if a := e.post(t, "https://consent.example", body); a.status != http.StatusAccepted {
		t.Fatalf("with consent: %d %v", a.status, a.body)
	}
	if after, _ := e.count(t, e.A.ID); after != before+1 {
		t.Fatalf("consented batch: %d stored", after-before)
	}
}

func (e *env) testReconciliation(t *testing.T) {
	before, _ := e.count(t, e.A.ID)
	now := time.Now().UnixMilli()
	events := []string{
		pv("/a"),
		`{"kind":"page_view"}`,
		`{"kind":"click","url":"https://www.acme.example/"}`,
		`{"kind":"custom","name":"signup_started","props":{"plan":"pro"}}`,
		`{"kind":"custom","name":"bad name!"}`,
		`{"kind":"content_view","asset":"ebook-42","url":"https://www.acme.example/ebook"}`,
		fmt.Sprintf(`{"kind":"page_view","url":"https://www.acme.example/","ts":%d}`, now+int64(time.Hour/time.Millisecond)),
		`{"kind":"page_view","url":"javascript:alert(1)"}`,
		fmt.Sprintf(`{"kind":"page_view","url":"https://www.acme.example/","title":%q}`, strings.Repeat("t", 501)),
		`{"kind":"page_view","url":"https://www.acme.example/","props":[1]}`,
		`{"kind":"page_view","url":"https://www.acme.example/","ts":"yesterday"}`,
		`{"kind":"page_view","url":"https://www.acme.example/","workspace_id":2}`,
	}
	a := e.post(t, origin, batch(e.siteA.PublicKey, "visitor-reconcile", events...))
	if a.status != http.StatusAccepted {
		t.Fatalf("%d %v", a.status, a.body)
	}
	want := map[string]bool{"events[1].url": true, "events[2].kind": true, "events[4].name": true, "events[6].ts": true, "events[7].url": true,
		"events[8].title": true, "events[9].props": true, "events[10].ts": true, "events[11].workspace_id": true}
	errs := a.body["errors"].([]any)
	for _, x := range errs {
		f := x.(map[string]any)["field"].(string)
		if !want[f] {
			t.Errorf("unexpected error on %s", f)
		}
		delete(want, f)
	}
	for f := range want {
		t.Errorf("no error on %s", f)
	}
	acc, rej := a.body["accepted"].(float64), a.body["rejected"].(float64)
	if acc != 3 || rej != 9 || int(acc+rej) != len(events) {
		t.Errorf("accepted %v rejected %v of %d", acc, rej, len(events))
	}
	if after, _ := e.count(t, e.A.ID); after-before != int64(acc) {
		t.Errorf("stored %d, accepted %v", after-before, acc)
	}
	evs, err := e.App.St.Read().VisitorWebEvents(context.Background(), e.A.ID, "visitor-reconcile", 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("%v %v", evs, err)
	}
	if evs[0].Props == "" || !strings.Contains(evs[0].Props+evs[1].Props+evs[2].Props, `"utm_source":"news"`) {
		t.Errorf("props not kept: %+v", evs)
	}
	// Request-level errors name the field and store nothing.
	for body, field := range map[string]string{
		`[]`: "body", `{"site":`: "body",
		fmt.Sprintf(`{"site":%q,"visitor":"short","events":[%s]}`, e.siteA.PublicKey, pv("/")):                                "visitor",
		fmt.Sprintf(`{"site":%q,"visitor":"visitor-x1","events":[]}`, e.siteA.PublicKey):                                      "events",
		batch(e.siteA.PublicKey, "visitor-x1", strings.Repeat(pv("/")+",", 50)+pv("/")):                                       "events",
		fmt.Sprintf(`{"site":%q,"visitor":"visitor-x1","workspace_id":%d,"events":[%s]}`, e.siteA.PublicKey, e.B.ID, pv("/")): "workspace_id",
	} {
		a := e.post(t, origin, body)
		if a.status != http.StatusBadRequest || a.body["field"] != field {
			t.Errorf("%.60s: %d %v, want 400 on %s", body, a.status, a.body, field)
		}
	}
	if after, _ := e.count(t, e.A.ID); after-before != int64(acc) {
		t.Errorf("bad requests stored events")
	}
}

func (e *env) testCrossWorkspace(t *testing.T) {
	beforeA, _ := e.count(t, e.A.ID)
	beforeB, _ := e.count(t, e.B.ID)
	// A's key from B's origin, B's key from A's origin: refused.
	if a := e.post(t, "https://beta.example", batch(e.siteA.PublicKey, "visitor-xws", pv("/"))); a.status != http.StatusForbidden {
		t.Errorf("A's key from B's origin: %d", a.status)
	}
	if a := e.post(t, origin, batch(e.siteB.PublicKey, "visitor-xws", pv("/"))); a.status != http.StatusForbidden {
		t.Errorf("B's key from A's origin: %d", a.status)
	}
	// A's key writes into A only, whatever else the body claims.
	if a := e.post(t, origin, batch(e.siteA.PublicKey, "visitor-xws", pv("/"), pv("/b"))); a.status != http.StatusAccepted {
		t.Fatalf("%d %v", a.status, a.body)
	}
	afterA, _ := e.count(t, e.A.ID)
	afterB, _ := e.count(t, e.B.ID)
	if afterA-beforeA != 2 || afterB != beforeB {
		t.Errorf("A +%d, B +%d; want A +2, B +0", afterA-beforeA, afterB-beforeB)
	}
	// Stitching A's visitor to a contact of B is a not-found, and changes nothing.
	cB := e.contact(t, e.B, "xws")
	err := e.App.St.InTx(context.Background(), func(q store.Q) error {
		_, err := e.App.Tracking.Stitch(context.Background(), q, e.A.ID, "visitor-xws", cB)
		return err
	})
	if err != store.ErrNotFound {
		t.Errorf("stitch to B's contact from A: %v", err)
	}
	if _, stitched := e.count(t, e.A.ID); stitched != 0 {
		t.Errorf("events stitched across workspaces")
	}
}

func (e *env) contact(t testing.TB, ws apptest.WS, name string) int64 {
	t.Helper()
	status, b := e.Do(t, ws.Keys[model.RoleAdmin], "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"%s-%d@acme.example","first_name":"Ann","lifecycle_stage":"lead"}`, name, time.Now().UnixNano()))
	if status != http.StatusCreated {
		t.Fatalf("contact: %d %s", status, b)
	}
	var c struct{ ID int64 }
	_ = json.Unmarshal(b, &c)
	return c.ID
}

func (e *env) stitch(t testing.TB, ws int64, visitor string, contact int64) tracking.StitchResult {
	t.Helper()
	var res tracking.StitchResult
	err := e.App.St.InTx(context.Background(), func(q store.Q) error {
		var err error
		res, err = e.App.Tracking.Stitch(context.Background(), q, ws, visitor, contact)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) score(t testing.TB, contact int64) store.ContactScore {
	t.Helper()
	sc, err := e.App.St.Read().GetContactScore(context.Background(), e.A.ID, contact)
	if err != nil && err != store.ErrNotFound {
		t.Fatal(err)
	}
	return sc
}

func (e *env) testStitching(t *testing.T) {
	const visitor = "visitor-stitch-1"
	a := e.post(t, origin, batch(e.siteA.PublicKey, visitor,
		pv("/"), pv("/pricing"), pv("/blog/post"),
		`{"kind":"content_view","asset":"ebook-7","url":"https://www.acme.example/ebook","title":"The ebook"}`,
		`{"kind":"custom","name":"video_played"}`,
		`{"kind":"custom","name":"trial_activity"}`))
	if a.status != http.StatusAccepted {
		t.Fatalf("%d %v", a.status, a.body)
	}
	c := e.contact(t, e.A, "stitch")
	if sc := e.score(t, c); sc.Events != 0 {
		t.Fatalf("score before stitching: %+v", sc)
	}
	// 3 page views (one of them pricing), a content view, trial_activity (a
	// scoring kind); video_played is kept but not scored.
	res := e.stitch(t, e.A.ID, visitor, c)
	if res.Attached != 6 || res.Scored != 5 {
		t.Fatalf("first stitch: %+v", res)
	}
	sc := e.score(t, c)
	if sc.Events != 5 || sc.EngagementValue < 30 {
		t.Fatalf("score after stitching: %+v", sc)
	}
	// Twice: nothing attached or counted again.
	if res := e.stitch(t, e.A.ID, visitor, c); res.Attached != 0 || res.Scored != 0 {
		t.Fatalf("second stitch: %+v", res)
	}
	if sc2 := e.score(t, c); sc2.Events != sc.Events || sc2.EngagementValue != sc.EngagementValue {
		t.Fatalf("second stitch changed the score: %+v → %+v", sc, sc2)
	}
	// Later events of the visitor go straight to the contact and to scoring.
	if a := e.post(t, origin, batch(e.siteA.PublicKey, visitor, pv("/pricing"))); a.status != http.StatusAccepted {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if sc3 := e.score(t, c); sc3.Events != 6 || sc3.EngagementValue <= sc.EngagementValue {
		t.Fatalf("later event not scored: %+v", sc3)
	}
	evs, err := e.App.St.Read().ContactWebEvents(context.Background(), e.A.ID, c, 50)
	if err != nil || len(evs) != 7 {
		t.Fatalf("contact's web events: %d %v", len(evs), err)
	}
	// The contact's timeline (API) lists them.
	status, b := e.Do(t, e.A.Keys[model.RoleAdmin], "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", c), "")
	var tl struct {
		WebEvents []store.WebEvent `json:"web_events"`
	}
	_ = json.Unmarshal(b, &tl)
	if status != 200 || len(tl.WebEvents) != 7 {
		t.Fatalf("timeline: %d %s", status, b)
	}
	// Visitor ids are per workspace: the same cookie value in B is another visitor.
	if a := e.post(t, "https://beta.example", batch(e.siteB.PublicKey, visitor, `{"kind":"page_view","url":"https://beta.example/"}`)); a.status != http.StatusAccepted {
		t.Fatalf("%d %v", a.status, a.body)
	}
	if _, stitchedB := e.count(t, e.B.ID); stitchedB != 0 {
		t.Errorf("B's event went to A's contact")
	}
}
