package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/webhooks"
)

// receiver is a loopback webhook endpoint; the app's client is allowed to
// reach loopback for the test (AllowForTests), which a production client never is.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []receivedHook
	hold chan struct{} // when set, each request waits for a value
	in   chan struct{} // a request arrived (when hold is set)
}

type receivedHook struct {
	header http.Header
	body   []byte
}

func (h *harness) receiver(t *testing.T) *receiver {
	t.Helper()
	h.env.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, receivedHook{r.Header.Clone(), b})
		hold, in := rc.hold, rc.in
		rc.mu.Unlock()
		if hold != nil {
			in <- struct{}{}
			<-hold
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `<b>thanks</b>`)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []receivedHook {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receivedHook(nil), rc.got...)
}

func (h *harness) testWebhooks(t *testing.T) {
	rc := h.receiver(t)
	admin := h.adminA()
	// Refused URLs name the field.
	for _, u := range []string{"ftp://hooks.example.com/", "http://169.254.169.254/latest/meta-data", "http://0x7f.1/", "http://user:pw@hooks.example.com/"} {
		wantProblem(t, h.call(t, admin, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q}`, u)), http.StatusBadRequest, "url")
	}
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"event_types":["contact.created","nope.nope"]}`, rc.srv.URL)), http.StatusBadRequest, "event_types[1]")
	// Only admins manage endpoints (integration secrets; docs/security.md).
	for _, role := range []string{model.RoleManager, model.RoleAE, model.RoleLDR, model.RoleCSM, model.RolePartner} {
		wantProblem(t, h.call(t, h.env.A.Keys[role], "GET", "/api/v1/webhooks", ""), http.StatusForbidden, "")
		wantProblem(t, h.call(t, h.env.A.Keys[role], "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q}`, rc.srv.URL+"/x")), http.StatusForbidden, "")
	}
	res := h.call(t, admin, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"description":"sync","event_types":["contact.created","deal.won"]}`, rc.srv.URL+"/hook"))
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	ep := res.object(t)
	epID := id(t, ep, "id")
	secret, _ := ep["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || res.Header.Get("Location") != fmt.Sprintf("/api/v1/webhooks/%d", epID) {
		t.Fatalf("created %s, Location %q", res.Body, res.Header.Get("Location"))
	}
	got := h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/webhooks/%d", epID), "")
	if _, ok := got["secret"]; ok {
		t.Fatal("GET returned the secret")
	}
	listed := h.call(t, admin, "GET", "/api/v1/webhooks", "")
	if strings.Contains(string(listed.Body), strings.TrimPrefix(secret, "whsec_")) || !strings.Contains(string(listed.Body), rc.srv.URL+"/hook") {
		t.Fatalf("list: %s", listed.Body)
	}
	// A contact created through the API reaches the endpoint, signed.
	email := uniq("hook") + "@acme.example"
	cid := h.mk(t, admin, "contacts", fmt.Sprintf(`{"email":%q}`, email))
	deliveries := func() []map[string]any {
		return items(t, h.want(t, http.StatusOK, admin, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", epID), ""))
	}
	h.env.WaitUntil(t, "webhook_drain", func() bool {
		ds := deliveries()
		return len(ds) == 1 && ds[0]["state"] == store.WebhookSucceeded
	})
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	if err := webhooks.Verify(secret, reqs[0].header, reqs[0].body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var env struct {
		Type string `json:"type"`
		Data struct {
			Contact model.Contact `json:"contact"`
		} `json:"data"`
	}
	if err := json.Unmarshal(reqs[0].body, &env); err != nil || env.Type != webhooks.ContactCreated || env.Data.Contact.ID != cid || env.Data.Contact.Email != email {
		t.Fatalf("payload %s (%v)", reqs[0].body, err)
	}
	d := deliveries()[0]
	log := d["log"].([]any)[0].(map[string]any)
	if log["status_code"] != float64(200) || log["response_excerpt"] != "<b>thanks</b>" || d["event_id"] != reqs[0].header.Get("webhook-id") {
		t.Fatalf("delivery %v", d)
	}
	// Filtered out: contact.updated is not one of its event types.
	h.want(t, http.StatusOK, admin, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", cid), `{"title":"CTO"}`)
	// Redeliver: the same event again, logged as manual.
	dID := id(t, d, "id")
	h.want(t, http.StatusAccepted, admin, "POST", fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/redeliver", epID, dID), "")
	h.env.WaitUntil(t, "webhook_drain", func() bool { return len(rc.requests()) == 2 })
	if id2 := rc.requests()[1].header.Get("webhook-id"); id2 != d["event_id"] {
		t.Fatalf("redelivered %s, want %s", id2, d["event_id"])
	}
	h.env.WaitUntil(t, "webhook_drain", func() bool {
		ds := deliveries()
		return len(ds) == 1 && len(ds[0]["log"].([]any)) == 2
	})
	if l := deliveries()[0]["log"].([]any)[1].(map[string]any); l["trigger"] != "manual" || l["attempt"] != float64(2) {
		t.Fatalf("manual attempt %v", l)
	}
	wantProblem(t, h.call(t, admin, "POST", fmt.Sprintf("/api/v1/webhooks/%d/deliveries/999999/redeliver", epID), ""), http.StatusNotFound, "")
	// The test button: sent at once, answered with the attempt.
	tr := h.want(t, http.StatusOK, admin, "POST", fmt.Sprintf("/api/v1/webhooks/%d/test", epID), "")
	if a := tr["attempt"].(map[string]any); a["outcome"] != "succeeded" || a["trigger"] != "test" {
		t.Fatalf("test %v", tr)
	}
	last := rc.requests()[len(rc.requests())-1]
	if !strings.Contains(string(last.body), `"type":"webhook.test"`) || webhooks.Verify(secret, last.header, last.body, time.Now(), time.Minute) != nil {
		t.Fatalf("test event %s", last.body)
	}
	// Disable, then delete.
	up := h.want(t, http.StatusOK, admin, "PATCH", fmt.Sprintf("/api/v1/webhooks/%d", epID), `{"enabled":false,"event_types":[]}`)
	if up["enabled"] != false || up["disabled_reason"] != "disabled by an admin" || len(up["event_types"].([]any)) != 0 {
		t.Fatalf("patch %v", up)
	}
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleManager], "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", epID), ""), http.StatusForbidden, "")
	h.want(t, http.StatusNoContent, admin, "DELETE", fmt.Sprintf("/api/v1/webhooks/%d", epID), "")
	wantProblem(t, h.call(t, admin, "GET", fmt.Sprintf("/api/v1/webhooks/%d", epID), ""), http.StatusNotFound, "")
}

func (h *harness) testSendingPause(t *testing.T) {
	ctx := context.Background()
	st := h.env.App.St
	if s := h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/sending", ""); s["paused"] != false {
		t.Fatalf("status %v", s)
	}
	err := st.InTx(ctx, func(q store.Q) error {
		return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, Value: "restored from nightly.db", SetBy: "cli@host", SetAt: store.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	s := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/sending", "")
	if s["paused"] != true || s["reason"] != "restored from nightly.db" {
		t.Fatalf("status %v", s)
	}
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleAE], "POST", "/api/v1/sending/resume", ""), http.StatusForbidden, "")
	if s := h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/sending/resume", ""); s["paused"] != false {
		t.Fatalf("after resume %v", s)
	}
	if paused, _ := st.Read().AdminSendingPaused(ctx); paused {
		t.Fatal("still paused")
	}
	audit := items(t, h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/audit?limit=5", ""))
	found := false
	for _, a := range audit {
		found = found || a["action"] == "sending_resume"
	}
	if !found {
		t.Fatalf("no sending_resume audit entry: %v", audit)
	}
	// Confirming again changes nothing.
	h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/sending/resume", "")
}

// idem sends a POST with an Idempotency-Key.
func (h *harness) idem(t *testing.T, key, path, idemKey, body string) result {
	t.Helper()
	req := h.request(t, key, "POST", path, body)
	req.Header.Set("Idempotency-Key", idemKey)
	return h.do(t, req)
}

func (h *harness) testIdempotency(t *testing.T) {
	admin := h.adminA()
	k := uniq("idem-") + "-7f3e"
	email := uniq("idem") + "@acme.example"
	body := fmt.Sprintf(`{"email":%q}`, email)
	first := h.idem(t, admin, "/api/v1/contacts", k, body)
	if first.Status != http.StatusCreated || first.Header.Get("Idempotency-Replayed") != "" {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	again := h.idem(t, admin, "/api/v1/contacts", k, body)
	if again.Status != http.StatusCreated || string(again.Body) != string(first.Body) || again.Header.Get("Idempotency-Replayed") != "true" ||
		again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay: %d %s %v", again.Status, again.Body, again.Header)
	}
	count := func(email string) int {
		return len(items(t, h.want(t, http.StatusOK, admin, "GET", "/api/v1/contacts?email="+email, "")))
	}
	if n := count(email); n != 1 {
		t.Fatalf("%d contacts after a replay, want 1", n)
	}
	// Same key, another body: 422 naming the header.
	p := wantProblem(t, h.idem(t, admin, "/api/v1/contacts", k, fmt.Sprintf(`{"email":%q}`, uniq("other")+"@acme.example")), http.StatusUnprocessableEntity, "Idempotency-Key")
	if p["code"] != "idempotency_key_reused" {
		t.Fatalf("problem %v", p)
	}
	// Same key, same body, another path: also another request.
	wantProblem(t, h.idem(t, admin, "/api/v1/accounts", k, body), http.StatusUnprocessableEntity, "Idempotency-Key")
	// Keys are per credential: another key of the same workspace may reuse it.
	email2 := uniq("idem") + "@acme.example"
	if r := h.idem(t, h.env.A.Keys[model.RoleManager], "/api/v1/contacts", k, fmt.Sprintf(`{"email":%q}`, email2)); r.Status != http.StatusCreated || r.Header.Get("Idempotency-Replayed") != "" {
		t.Fatalf("another credential's key: %d %s", r.Status, r.Body)
	}
	// A client error is kept and replayed too (the request was answered).
	bad := uniq("idem-bad")
	b1 := h.idem(t, admin, "/api/v1/contacts", bad, `{"email":"not an email"}`)
	b2 := h.idem(t, admin, "/api/v1/contacts", bad, `{"email":"not an email"}`)
	if b1.Status != http.StatusBadRequest || b2.Status != http.StatusBadRequest || b2.Header.Get("Idempotency-Replayed") != "true" || string(b1.Body) != string(b2.Body) {
		t.Fatalf("bad request replay: %d %d %s", b1.Status, b2.Status, b2.Header)
	}
	// Malformed keys.
	for _, bk := range []string{"has space", strings.Repeat("k", 256), "tab\tkey"} {
		wantProblem(t, h.idem(t, admin, "/api/v1/contacts", bk, body), http.StatusBadRequest, "Idempotency-Key")
	}
	// Without the header nothing changes: a second POST is a second request.
	wantProblem(t, h.call(t, admin, "POST", "/api/v1/contacts", body), http.StatusConflict, "email")

	t.Run("upload", func(t *testing.T) {
		// An import larger than the in-memory spool: the body is hashed
		// through a temporary file and the handler still reads all of it
		// under the upload limit; the retry gets the same import back.
		// Rows carry an unmapped 100 kB column, so 2 MB is ~20 contacts:
		// 75,000 small rows made every later scenario's reports slow.
		var b strings.Builder
		b.WriteString("email,padding\n")
		pad := strings.Repeat("x", 100<<10)
		for i := 0; b.Len() < 2<<20; i++ {
			fmt.Fprintf(&b, "idem%07d@upload.example,%s\n", i, pad)
		}
		k := uniq("upload-")
		send := func() result {
			req := h.request(t, admin, "POST", "/api/v1/imports?object=contacts&filename=idem.csv", "")
			req.Body = io.NopCloser(strings.NewReader(b.String()))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Idempotency-Key", k)
			return h.do(t, req)
		}
		first := send()
		if first.Status != http.StatusAccepted || first.object(t)["bytes"] != float64(b.Len()) {
			t.Fatalf("upload: %d %s", first.Status, first.Body)
		}
		again := send()
		if again.Status != http.StatusAccepted || again.Header.Get("Idempotency-Replayed") != "true" || id(t, again.object(t), "id") != id(t, first.object(t), "id") {
			t.Fatalf("replayed upload: %d %s", again.Status, again.Body)
		}
		latest := items(t, h.want(t, http.StatusOK, admin, "GET", "/api/v1/imports?limit=1", ""))
		if id(t, latest[0], "id") != id(t, first.object(t), "id") {
			t.Fatalf("a second import was created: %v", latest[0])
		}
		h.env.WaitImport(t, id(t, first.object(t), "id"))
	})

	t.Run("concurrent_same_key", func(t *testing.T) {
		// Eight clients race with one key: one request runs, the others get
		// 409 (still running) or the replayed 201. One contact exists.
		k := uniq("race-")
		email := uniq("race") + "@acme.example"
		body := fmt.Sprintf(`{"email":%q}`, email)
		var wg sync.WaitGroup
		results := make([]result, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = h.idem(t, admin, "/api/v1/contacts", k, body)
			}()
		}
		wg.Wait()
		created, replayed := 0, 0
		for _, r := range results {
			switch {
			case r.Status == http.StatusCreated && r.Header.Get("Idempotency-Replayed") == "":
				created++
			case r.Status == http.StatusCreated:
				replayed++
			case r.Status == http.StatusConflict:
				if r.Header.Get("Retry-After") == "" || r.object(t)["code"] != "idempotency_key_in_use" {
					t.Fatalf("409 %v %s", r.Header, r.Body)
				}
			default:
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
		}
		if created != 1 {
			t.Fatalf("%d requests ran (%d replayed), want exactly 1", created, replayed)
		}
		if n := count(email); n != 1 {
			t.Fatalf("%d contacts, want 1", n)
		}
	})

	t.Run("in_progress", func(t *testing.T) {
		// A request held inside its handler (the test button waits for the
		// receiver): the same key meanwhile is a 409, afterwards a replay.
		rc := h.receiver(t)
		ep := id(t, h.want(t, http.StatusCreated, admin, "POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q,"enabled":false}`, rc.srv.URL+"/slow")), "id")
		rc.mu.Lock()
		rc.hold, rc.in = make(chan struct{}), make(chan struct{}, 1)
		hold, in := rc.hold, rc.in
		rc.mu.Unlock()
		k := uniq("slow-")
		path := fmt.Sprintf("/api/v1/webhooks/%d/test", ep)
		done := make(chan result, 1)
		go func() { done <- h.idem(t, admin, path, k, "") }()
		<-in // the first request is in its handler, waiting for the receiver
		busy := h.idem(t, admin, path, k, "")
		if p := wantProblem(t, busy, http.StatusConflict, "Idempotency-Key"); p["code"] != "idempotency_key_in_use" || busy.Header.Get("Retry-After") == "" {
			t.Fatalf("while running: %v %v", p, busy.Header)
		}
		// Another query is another request.
		wantProblem(t, h.idem(t, admin, fmt.Sprintf("/api/v1/webhooks/%d/test?x=1", ep), k, ""), http.StatusUnprocessableEntity, "Idempotency-Key")
		close(hold)
		first := <-done
		if first.Status != http.StatusOK {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		replay := h.idem(t, admin, path, k, "")
		if replay.Status != http.StatusOK || string(replay.Body) != string(first.Body) || replay.Header.Get("Idempotency-Replayed") != "true" {
			t.Fatalf("replay: %d %s", replay.Status, replay.Body)
		}
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("the test event was sent %d times, want 1", n)
		}
	})
}

// webhooksTarget is the cross-workspace walk's victim endpoint: disabled, so
// the walk's other writes send it nothing.
func (h *harness) webhooksTarget() target {
	return target{
		create: func(t *testing.T, ws apptest.WS) int64 {
			return id(t, h.want(t, http.StatusCreated, ws.Keys[model.RoleAdmin], "POST", "/api/v1/webhooks",
				fmt.Sprintf(`{"url":"https://hooks.example.com/%s","enabled":false}`, uniq("victim"))), "id")
		},
		snapshot: func(t *testing.T, id int64) string {
			e := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/webhooks/%d", id), "")
			if e.Status != http.StatusOK {
				return "missing"
			}
			d := h.call(t, h.adminA(), "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", id), "")
			return string(e.Body) + string(d.Body)
		},
		patch: `{"description":"Hijacked","enabled":true}`,
	}
}
