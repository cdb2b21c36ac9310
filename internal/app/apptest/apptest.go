// Package apptest starts a whole Rightsize (store, services, jobs, HTTP) for tests,
// on a fresh store of a given dialect, with two workspaces and credentials for each
// role so tests can act as anyone.
package apptest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/alexedwards/argon2id"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Password is every test user's password.
const Password = "correct horse battery"

// WS is one test workspace with a user and an API key per role.
type WS struct {
	ID    int64
	Slug  string
	Users map[string]model.User // by role
	Keys  map[string]string     // role → API key secret
}

// Env is a running app.
type Env struct {
	App *app.App
	URL string // http://127.0.0.1:port
	A   WS
	B   WS
	// Agency is a user who is admin in A and ae in B.
	Agency model.User

	jobsMu   sync.Mutex
	jobsDone map[int64]bool // import ids whose job finished (completed or failed)
	// kindsDone counts job attempts that ended (completed or failed), by kind.
	kindsDone map[string]int
	allDone   int // attempts of any kind that have ended
	jobsCond  *sync.Cond
}

// New starts an app on a fresh store of kind and serves it on a loopback port until
// the test ends (shut down gracefully at cleanup).
func New(t testing.TB, kind store.Kind) *Env {
	t.Helper()
	return NewWith(t, kind, Options{})
}

// Options change how NewWith starts the app.
type Options struct {
	// Config adjusts the configuration before the app opens (SMTP, base URL…).
	Config func(*config.Config)
	// Log, when set, receives every log line of the app at debug level (tests
	// that check what is logged); default: stderr at warn.
	Log io.Writer
	// Timeouts are the HTTP server's slow-client timeouts (zero: the defaults).
	Timeouts app.Timeouts
	// BeforeServe, when set, adjusts the opened app before it serves.
	BeforeServe func(*app.App)
	// NoJobs starts no job workers: jobs are enqueued and never run, so
	// nothing changes the database but the requests the test sends (the
	// security matrix fingerprints the database around requests).
	NoJobs bool
}

// NewWithoutJobs is New with no job workers (Options.NoJobs).
func NewWithoutJobs(t testing.TB, kind store.Kind) *Env {
	t.Helper()
	return NewWith(t, kind, Options{NoJobs: true})
}

// NewWith is New with options.
func NewWith(t testing.TB, kind store.Kind, o Options) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dsn := ""
	if kind == store.SQLite {
		dsn = storetest.NewSQLitePath(t)
	} else {
		dsn = storetest.NewPostgresDSN(t)
	}
	cfg := config.Defaults()
	cfg.DB = dsn
	cfg.Workers = 2
	if o.Config != nil {
		o.Config(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("RIGHTSIZE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	var w io.Writer = os.Stderr
	if o.Log != nil {
		w, level = o.Log, slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	a, err := app.Open(ctx, cfg, log, !o.NoJobs)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a.Auth.Hash = memoHash
	// Test mail servers (IMAP) listen on loopback, which the product refuses.
	a.Mail.IMAPNet.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.Timeouts = o.Timeouts
	if o.BeforeServe != nil {
		o.BeforeServe(a)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		a.Close()
	})
	e := &Env{App: a, URL: "http://" + ln.Addr().String(), jobsDone: map[int64]bool{}, kindsDone: map[string]int{}}
	e.jobsCond = sync.NewCond(&e.jobsMu)
	if !o.NoJobs {
		e.watchJobs(t)
	}
	e.A = e.makeWS(t, "alpha")
	e.B = e.makeWS(t, "beta")
	ag, err := a.Auth.CreateUser(ctx, "agency@example.com", "Agency Operator", Password, e.A.ID, model.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	err = a.St.InTx(ctx, func(q store.Q) error { return q.SetMembership(ctx, e.B.ID, ag.ID, model.RoleAE) })
	if err != nil {
		t.Fatal(err)
	}
	e.Agency = ag
	return e
}

// memoHash hashes each fixture password once per test process, with argon2id
// at 1 MiB instead of the product's 64 MiB: fixtures create a dozen users per
// Env and tests sign in through the login form ~100 times per package, and the
// 64 MiB hashes were half the CPU of the suite. Logins still run the real
// argon2id verification (its parameters come from the stored hash). A test
// that needs production-cost hashes (login timing) sets Auth.Hash back to
// auth.HashPassword in Options.BeforeServe.
func memoHash(pw string) (string, error) {
	if len(pw) < 10 || len(pw) > 1024 {
		return auth.HashPassword(pw) // its length errors
	}
	hashMu.Lock()
	defer hashMu.Unlock()
	if h, ok := hashes[pw]; ok {
		return h, nil
	}
	h, err := argon2id.CreateHash(pw, &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	if err == nil {
		hashes[pw] = h
	}
	return h, err
}

var (
	hashMu sync.Mutex
	hashes = map[string]string{}
)

func (e *Env) makeWS(t testing.TB, slug string) WS {
	t.Helper()
	ctx := context.Background()
	w := model.Workspace{Name: strings.ToUpper(slug[:1]) + slug[1:] + " Inc", Slug: slug, Currency: "USD"}
	if err := e.App.St.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
		t.Fatal(err)
	}
	ws := WS{ID: w.ID, Slug: slug, Users: map[string]model.User{}, Keys: map[string]string{}}
	for _, role := range model.Roles {
		u, err := e.App.Auth.CreateUser(ctx, role+"@"+slug+".example.com", role, Password, w.ID, role)
		if err != nil {
			t.Fatal(err)
		}
		ws.Users[role] = u
		uid := u.ID
		_, secret, err := e.App.Auth.CreateAPIKey(ctx, model.Actor{Workspace: w.ID, UserID: &uid}, "test "+role, role)
		if err != nil {
			t.Fatal(err)
		}
		ws.Keys[role] = secret
	}
	return ws
}

// watchJobs counts the jobs that end, for WaitImport, WaitJobs and WaitUntil.
func (e *Env) watchJobs(t testing.TB) {
	events, stop := e.App.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	go func() {
		for ev := range events {
			e.jobsMu.Lock()
			e.kindsDone[ev.Job.Kind]++
			e.allDone++
			e.jobsCond.Broadcast()
			e.jobsMu.Unlock()
			var args importer.Args
			if ev.Job.Kind == args.Kind() && json.Unmarshal(ev.Job.EncodedArgs, &args) == nil {
				e.jobsMu.Lock()
				e.jobsDone[args.ImportID] = true
				e.jobsCond.Broadcast()
				e.jobsMu.Unlock()
			}
		}
	}()
	t.Cleanup(stop)
}

// WaitImport blocks until the job of import id has finished (River reports it), or
// fails the test after a minute.
func (e *Env) WaitImport(t testing.TB, id int64) {
	t.Helper()
	timer := time.AfterFunc(time.Minute, func() {
		e.jobsMu.Lock()
		e.jobsDone[-id] = true // wake the waiter with a timeout mark
		e.jobsCond.Broadcast()
		e.jobsMu.Unlock()
	})
	defer timer.Stop()
	e.jobsMu.Lock()
	defer e.jobsMu.Unlock()
	for !e.jobsDone[id] {
		if e.jobsDone[-id] {
			t.Fatalf("import %d: job did not finish within a minute", id)
		}
		e.jobsCond.Wait()
	}
}

// JobsDone is how many attempts of jobs of kind have ended so far; pass it
// plus the number expected to WaitJobs.
func (e *Env) JobsDone(kind string) int {
	e.jobsMu.Lock()
	defer e.jobsMu.Unlock()
	return e.kindsDone[kind]
}

// WaitUntil checks cond after each job attempt of kind that ends, until it
// holds; it fails the test when a minute passes with no attempt ending.
func (e *Env) WaitUntil(t testing.TB, kind string, cond func() bool) {
	t.Helper()
	n := e.JobsDone(kind)
	for !cond() {
		n++
		e.WaitJobs(t, kind, n)
	}
}

// WaitJobs blocks until at least n attempts of jobs of kind have ended
// (completed or failed) since the app started, or fails the test after a minute.
func (e *Env) WaitJobs(t testing.TB, kind string, n int) {
	t.Helper()
	timedOut := false
	timer := time.AfterFunc(time.Minute, func() {
		e.jobsMu.Lock()
		timedOut = true
		e.jobsCond.Broadcast()
		e.jobsMu.Unlock()
	})
	defer timer.Stop()
	e.jobsMu.Lock()
	defer e.jobsMu.Unlock()
	for e.kindsDone[kind] < n {
		if timedOut {
			t.Fatalf("%d %s jobs did not finish within a minute (%d did)", n, kind, e.kindsDone[kind])
		}
		e.jobsCond.Wait()
	}
}

// startSweeps are the periodic jobs that run on start and write rows of the
// workspaces (renewals, guardrail states, health): River's leader enqueues
// them once elected, which can be seconds after the app serves.
var startSweeps = []string{"subscriptions_renewals_sweep", "economics_guardrails_sweep", "success_health_sweep"}

// WaitIdle blocks until the start's sweeps have run and no job is waiting to
// run or running, so what the app and a test's setup queued (guardrail
// evaluations, renewals, scoring, ...) has ended before the test takes a
// snapshot; it fails the test when a minute passes with no attempt ending.
// Jobs scheduled for later are not waited for.
func (e *Env) WaitIdle(t testing.TB) {
	t.Helper()
	for _, kind := range startSweeps {
		e.WaitJobs(t, kind, 1)
	}
	params := river.NewJobListParams().States(rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning).First(1)
	for {
		e.jobsMu.Lock()
		n := e.allDone
		e.jobsMu.Unlock()
		res, err := e.App.River.JobList(context.Background(), params)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == 0 {
			return
		}
		timedOut := false
		timer := time.AfterFunc(time.Minute, func() {
			e.jobsMu.Lock()
			timedOut = true
			e.jobsCond.Broadcast()
			e.jobsMu.Unlock()
		})
		e.jobsMu.Lock()
		for e.allDone == n && !timedOut {
			e.jobsCond.Wait()
		}
		e.jobsMu.Unlock()
		timer.Stop()
		if timedOut {
			t.Fatalf("job %d (%s, %s) still waiting or running after a minute with no job ending", res.Jobs[0].ID, res.Jobs[0].Kind, res.Jobs[0].State)
		}
	}
}

// Do sends a request with an API key (empty key: none) and returns status and body.
func (e *Env) Do(t testing.TB, key, method, path string, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// Browser returns an HTTP client with a cookie jar, logged in as email through the
// login form (as a browser would: same-origin form post).
func (e *Env) Browser(t testing.TB, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {email}, "password": {Password}}
	req, _ := http.NewRequest("POST", e.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: status %d", email, resp.StatusCode)
	}
	return c
}

// Session is Browser without the login: a session of user u in workspace ws
// is stored directly and its cookie put in a fresh jar, so tests that need
// many signed-in browsers skip a password hash check each. The token is
// stored as auth stores it (the SHA-256 of the token, hex); the session is
// resolved through auth once, so a change there fails here, not later.
func (e *Env) Session(t testing.TB, u model.User, ws int64) *http.Client {
	t.Helper()
	ctx := context.Background()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	now := store.Now()
	sess := store.Session{IDHash: hex.EncodeToString(sum[:]), UserID: u.ID, WorkspaceID: &ws, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(auth.AbsoluteTimeout)}
	if err := e.App.St.InTx(ctx, func(q store.Q) error { return q.CreateSession(ctx, sess) }); err != nil {
		t.Fatal(err)
	}
	if p, err := e.App.Auth.Session(ctx, tok); err != nil || p.UserID != u.ID || p.WorkspaceID != ws {
		t.Fatalf("stored session of %s does not resolve: %v %+v", u.Email, err, p)
	}
	jar, _ := cookiejar.New(nil)
	base, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(base, []*http.Cookie{{Name: auth.SessionCookie, Value: tok, Path: "/"}})
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Principal authenticates a key directly (for tests that call services).
func (e *Env) Principal(t testing.TB, key string) *auth.Principal {
	t.Helper()
	p, err := e.App.Auth.APIKey(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
