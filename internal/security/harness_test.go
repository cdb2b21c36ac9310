package security_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
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

// roles are the roles the matrix walks, in its column order.
var roles = model.Roles

// suite is one running app without job workers (nothing but the requests a
// test sends changes the database), signed-in browsers for every role of
// workspace A, and the fixtures the walks create.
type suite struct {
	e    *apptest.Env
	kind store.Kind
	// ui holds a session in A per role.
	ui    map[string]*http.Client
	hooks *httptest.Server // a webhook receiver on loopback

	mu    sync.Mutex
	cache map[string]int64
	n     atomic.Int64
	// resets receives the password reset mails (their tokens).
	resets *resetMailbox
}

// resetMailbox stands in for the reset mailer: it keeps each address's
// latest token.
type resetMailbox struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (m *resetMailbox) SendPasswordReset(_ context.Context, _ store.Q, to, token string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[to] = token
	return nil
}

func (m *resetMailbox) token(to string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[to]
}

func newSuite(t *testing.T, kind store.Kind) *suite {
	t.Helper()
	resets := &resetMailbox{tokens: map[string]string{}}
	e := apptest.NewWith(t, kind, apptest.Options{NoJobs: true, BeforeServe: func(a *app.App) { a.Auth.Mailer = resets }})
	s := &suite{e: e, kind: kind, ui: map[string]*http.Client{}, cache: map[string]int64{}, resets: resets}
	// Webhook endpoints and their test sends go to a receiver on loopback.
	e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	s.hooks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.hooks.Close)
	for _, role := range roles {
		s.ui[role] = e.Session(t, e.A.Users[role], e.A.ID)
	}
	// An AE pool, so a desk qualification finds an AE.
	pool := s.adminJSON(t, "POST", "/api/v1/pools", `{"name":"Security AEs","role":"ae","capacity":1000000}`)
	s.adminJSON(t, "PUT", fmt.Sprintf("/api/v1/pools/%d/members/%d", id(t, pool), e.A.Users[model.RoleAE].ID), `{}`)
	return s
}

func (s *suite) uniq(prefix string) string { return fmt.Sprintf("%s%d", prefix, s.n.Add(1)) }

// client is the browser a UI request of e runs in as role: the role's shared
// session; a session of its own when the request ends or replaces it; a new
// member of the role, signed in for this request alone, when the request
// changes the caller's credentials. Sessions are stored directly
// (apptest.Env.Session): the password check is POST /login's, walked once per
// role like every route.
func (s *suite) client(t *testing.T, e entry, role string) *http.Client {
	t.Helper()
	switch {
	case e.throwaway:
		return s.e.Session(t, s.newUser(t, role), s.e.A.ID)
	case e.ownSession:
		return s.e.Session(t, s.e.A.Users[role], s.e.A.ID)
	}
	return s.ui[role]
}

// newUser stores a new user whose password is apptest.Password (the hash of
// an existing user's, so no password is hashed), a member of A with role
// unless role is "".
func (s *suite) newUser(t *testing.T, role string) model.User {
	t.Helper()
	u := model.User{Email: s.uniq("new") + "@alpha.example.com", Name: "New " + role, PasswordHash: s.e.A.Users[model.RoleAdmin].PasswordHash}
	if u.PasswordHash == "" {
		t.Fatal("apptest users carry no password hash")
	}
	err := s.e.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateUser(ctx, &u); err != nil || role == "" {
			return err
		}
		return q.SetMembership(ctx, s.e.A.ID, u.ID, role)
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// req is one request a matrix entry builds.
type req struct {
	method string
	path   string
	form   url.Values // a browser form (UI)
	body   string     // JSON (API), or raw with ctype
	ctype  string
}

type resp struct {
	status int
	header http.Header
	body   string
}

func (r resp) String() string {
	b := r.body
	if len(b) > 600 {
		b = b[:600] + "…"
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// browser sends r as a browser in this site would: a same-origin request with
// the session cookie of c (nil: none), or with the extra headers given.
func (s *suite) browser(t *testing.T, c *http.Client, r req, hdr map[string]string) resp {
	t.Helper()
	var body io.Reader
	ctype := r.ctype
	switch {
	case r.form != nil:
		body, ctype = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.body != "":
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, s.e.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	if r.method != http.MethodGet {
		hr.Header.Set("Origin", s.e.URL)
		hr.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	res, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

// api sends r with an API key (none when key is "").
func (s *suite) api(t *testing.T, key string, r req) resp {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, s.e.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		hr.Header.Set("Authorization", "Bearer "+key)
	}
	switch {
	case r.ctype != "":
		hr.Header.Set("Content-Type", r.ctype)
	case r.body != "":
		hr.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

// adminJSON calls the API as A's admin and fails unless it answers 2xx; it
// returns the decoded object (nil for an empty body).
func (s *suite) adminJSON(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	r := s.api(t, s.e.A.Keys[model.RoleAdmin], req{method: method, path: path, body: body})
	if r.status/100 != 2 {
		t.Fatalf("fixture %s %s: %s", method, path, r)
	}
	if r.body == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("fixture %s %s: %v: %s", method, path, err, r.body)
	}
	return m
}

func id(t *testing.T, m map[string]any) int64 {
	t.Helper()
	f, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", m)
	}
	return int64(f)
}

// multipartBody builds a multipart form with text fields and a file part.
func multipartBody(fields map[string]string, field, name string, data []byte) (string, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if data != nil {
		fw, _ := mw.CreateFormFile(field, name)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	return b.String(), mw.FormDataContentType()
}

var testPDF = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")

var (
	formRE     = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	selectRE   = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	textareaRE = regexp.MustCompile(`(?s)<textarea\b([^>]*)>(.*?)</textarea>`)
	inputRE    = regexp.MustCompile(`<input\b([^>]*)>`)
	attrRE     = regexp.MustCompile(`([a-z_-]+)(?:="([^"]*)")?`)
	optRE      = regexp.MustCompile(`<option value="([^"]*)"( selected)?`)
)

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		out[a[1]] = html.UnescapeString(a[2])
	}
	return out
}

// scrape opens page as A's admin and reads what a browser would submit from
// its first form posting to action, unchanged: inputs (checkboxes only when
// checked), each select's chosen option, textareas.
func (s *suite) scrape(t *testing.T, page, action string) url.Values {
	t.Helper()
	r := s.browser(t, s.ui[model.RoleAdmin], req{method: "GET", path: page}, nil)
	if r.status != http.StatusOK {
		t.Fatalf("scrape %s: %s", page, r)
	}
	for _, f := range formRE.FindAllStringSubmatch(r.body, -1) {
		if attrs(f[1])["action"] != action {
			continue
		}
		out := url.Values{}
		rest := f[2]
		for _, m := range selectRE.FindAllStringSubmatch(rest, -1) {
			a := attrs(m[1])
			val := ""
			for i, o := range optRE.FindAllStringSubmatch(m[2], -1) {
				if i == 0 || o[2] != "" {
					val = html.UnescapeString(o[1])
				}
			}
			if _, multi := a["multiple"]; multi {
				for _, o := range optRE.FindAllStringSubmatch(m[2], -1) {
					if o[2] != "" {
						out.Add(a["name"], html.UnescapeString(o[1]))
					}
				}
				continue
			}
			out.Set(a["name"], val)
		}
		rest = selectRE.ReplaceAllString(rest, "")
		for _, m := range textareaRE.FindAllStringSubmatch(rest, -1) {
			out.Set(attrs(m[1])["name"], html.UnescapeString(strings.TrimPrefix(m[2], "\n")))
		}
		rest = textareaRE.ReplaceAllString(rest, "")
		for _, m := range inputRE.FindAllStringSubmatch(rest, -1) {
			a := attrs(m[1])
			name, has := a["name"]
			if !has || a["type"] == "submit" || a["type"] == "file" {
				continue
			}
			if _, checked := a["checked"]; (a["type"] == "checkbox" || a["type"] == "radio") && !checked {
				continue
			}
			if a["type"] == "checkbox" {
				out.Add(name, a["value"])
				continue
			}
			out.Set(name, a["value"])
		}
		return out
	}
	t.Fatalf("scrape %s: no form posting to %s", page, action)
	return nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func mustJSON(t *testing.T, r resp) map[string]any {
	t.Helper()
	var m map[string]any
	if r.status/100 != 2 || json.Unmarshal([]byte(r.body), &m) != nil {
		t.Fatalf("want a JSON answer: %s", r)
	}
	return m
}

func today() string          { return time.Now().UTC().Format(time.DateOnly) }
func monthsAgo(n int) string { return time.Now().UTC().AddDate(0, -n, 0).Format(time.DateOnly) }

// ctx is a background context for store calls.
var ctx = context.Background()
