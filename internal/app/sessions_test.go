package app_test

import (
	"context"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/config"
	"github.com/rightsize/rightsize/internal/mail/smtptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// form posts a same-origin form (as a browser would) with optional cookies and
// returns the response with its body read.
func form(t *testing.T, e *apptest.Env, path string, v url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return send(t, req)
}

func get(t *testing.T, e *apptest.Env, path string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %d response (headers %v)", auth.SessionCookie, res.StatusCode, res.Header)
	return nil
}

// signedIn reports whether the cookie opens the UI (the dashboard, not the
// login redirect).
func signedIn(t *testing.T, e *apptest.Env, c *http.Cookie) bool {
	t.Helper()
	res, _ := get(t, e, "/", c)
	return res.StatusCode == http.StatusOK
}

// Cookie flags: HttpOnly, SameSite=Lax, Path=/, Secure exactly when the base
// URL is https, on login and on logout.
func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "https://crm.example.com"} {
		t.Run("base="+base, func(t *testing.T) {
			e := apptest.NewWith(t, store.SQLite, apptest.Options{Config: func(c *config.Config) { c.BaseURL = base }})
			res, _ := form(t, e, "/login", url.Values{"email": {"admin@alpha.example.com"}, "password": {apptest.Password}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", res.StatusCode)
			}
			c := sessionCookie(t, res)
			out, _ := form(t, e, "/logout", nil, &http.Cookie{Name: c.Name, Value: c.Value})
			cleared := sessionCookie(t, out)
			for name, ck := range map[string]*http.Cookie{"login": c, "logout": cleared} {
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != (base != "") {
					t.Errorf("%s cookie flags: HttpOnly=%v SameSite=%v Path=%q Secure=%v (base %q)", name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, base)
				}
			}
			if c.MaxAge != int(auth.AbsoluteTimeout.Seconds()) || cleared.MaxAge >= 0 || cleared.Value != "" {
				t.Errorf("max-age: login %d, logout %d %q", c.MaxAge, cleared.MaxAge, cleared.Value)
			}
		})
	}
}

// A cookie presented at login is never the session after it (fixation): a
// planted value is replaced, and a planted valid session (someone else's) is
// ended server-side. Logout ends the session: the old token opens nothing,
// in the UI or the API.
func TestSessionRotationAndLogout(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			creds := url.Values{"email": {"ae@alpha.example.com"}, "password": {apptest.Password}}
			planted := &http.Cookie{Name: auth.SessionCookie, Value: "attacker-chosen-value-0123456789abcdefghijklmnop"}
			res, _ := form(t, e, "/login", creds, planted)
			first := sessionCookie(t, res)
			if first.Value == planted.Value || signedIn(t, e, planted) {
				t.Fatal("the planted cookie became the session")
			}
			// An attacker's own valid session planted in the victim's browser.
			res, _ = form(t, e, "/login", url.Values{"email": {"ldr@alpha.example.com"}, "password": {apptest.Password}})
			attacker := sessionCookie(t, res)
			res, _ = form(t, e, "/login", creds, &http.Cookie{Name: auth.SessionCookie, Value: attacker.Value})
			victim := sessionCookie(t, res)
			if victim.Value == attacker.Value || signedIn(t, e, attacker) {
				t.Fatal("a session presented at login survived it")
			}
			if !signedIn(t, e, victim) || !signedIn(t, e, first) {
				t.Fatal("fresh sessions do not work")
			}
			// Logout: the token is dead server-side, whatever the browser keeps.
			if res, _ := form(t, e, "/logout", nil, victim); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("logout: %d", res.StatusCode)
			}
			if signedIn(t, e, victim) {
				t.Fatal("the UI accepts a logged-out session")
			}
			req, _ := http.NewRequest("GET", e.URL+"/api/v1/me", nil)
			req.AddCookie(victim)
			if res, _ := send(t, req); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the API accepts a logged-out session: %d", res.StatusCode)
			}
			if !signedIn(t, e, first) {
				t.Fatal("logout ended another session of the user")
			}
		})
	}
}

var emailEcho = regexp.MustCompile(`value="[^"]*@[^"]*"`)

// Login throttling through HTTP: past five failures the answer is 429 with
// Retry-After in seconds, the same status, header and page for a known and an
// unknown email; wrong passwords for known and unknown emails take about the
// same time (a dummy hash for unknown ones).
func TestLoginThrottleHTTP(t *testing.T) {
	t.Parallel()
	// Production-cost hashes: the fixtures' cheap ones would make a known
	// email answer faster than the dummy hash of an unknown one.
	e := apptest.NewWith(t, store.SQLite, apptest.Options{BeforeServe: func(a *app.App) { a.Auth.Hash = auth.HashPassword }})
	try := func(email, pw string) (*http.Response, string, time.Duration) {
		start := time.Now()
		res, body := form(t, e, "/login", url.Values{"email": {email}, "password": {pw}})
		return res, emailEcho.ReplaceAllString(body, `value="…"`), time.Since(start)
	}
	var known, unknown []time.Duration
	for i := 0; i < auth.DefaultThrottle.Account.Max; i++ {
		r1, b1, d1 := try("manager@alpha.example.com", "wrong password!!")
		r2, b2, d2 := try("nobody@alpha.example.com", "wrong password!!")
		if r1.StatusCode != http.StatusUnauthorized || r2.StatusCode != r1.StatusCode || b1 != b2 {
			t.Fatalf("failure %d: %d vs %d, same page %v", i+1, r1.StatusCode, r2.StatusCode, b1 == b2)
		}
		known, unknown = append(known, d1), append(unknown, d2)
	}
	slices.Sort(known)
	slices.Sort(unknown)
	mk, mu := known[len(known)/2], unknown[len(unknown)/2]
	// Both hash (argon2id, ~40 ms alone); a factor of 4 leaves room for a busy machine.
	if mu*4 < mk || mk*4 < mu {
		t.Errorf("median time: known email %s, unknown %s — the difference tells which exists", mk, mu)
	}
	r1, b1, _ := try("manager@alpha.example.com", apptest.Password)
	r2, b2, _ := try("nobody@alpha.example.com", apptest.Password)
	if r1.StatusCode != http.StatusTooManyRequests || r2.StatusCode != http.StatusTooManyRequests || b1 != b2 {
		t.Fatalf("throttled: %d vs %d, same page %v", r1.StatusCode, r2.StatusCode, b1 == b2)
	}
	ra1, _ := strconv.Atoi(r1.Header.Get("Retry-After"))
	ra2, _ := strconv.Atoi(r2.Header.Get("Retry-After"))
	window := int(auth.DefaultThrottle.Account.Window / time.Second)
	if ra1 < window-60 || ra1 > window || ra2 < window-60 || ra2 > window {
		t.Fatalf("Retry-After %q / %q, want about %d", r1.Header.Get("Retry-After"), r2.Header.Get("Retry-After"), window)
	}
	if !strings.Contains(b1, "Too many attempts") {
		t.Fatalf("throttled page does not say so: %s", b1)
	}
	// Another account from the same client still signs in (the IP allowance is wider).
	if res, _, _ := try("ldr@alpha.example.com", apptest.Password); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another account: %d", res.StatusCode)
	}
}

var resetLink = regexp.MustCompile(`https?://\S+/reset\?token=[A-Za-z0-9_%-]+`)

// The self-service reset end to end over a real SMTP server: the request page
// answers the same for known and unknown addresses, one email arrives with a
// link, the link sets a new password once and ends every session.
func TestPasswordResetThroughSMTP(t *testing.T) {
	t.Parallel()
	srv, err := smtptest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, port, _ := strings.Cut(srv.Addr, ":")
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.NewWith(t, kind, apptest.Options{Config: func(c *config.Config) {
				c.SMTPHost, c.SMTPTLS, c.MailFrom = host, "none", "accounts@rightsize.test"
				c.SMTPPort, _ = strconv.Atoi(port)
			}})
			to := "csm@alpha.example.com"
			if kind == store.Postgres {
				to = "csm@beta.example.com"
			}
			old := sessionCookie(t, func() *http.Response {
				r, _ := form(t, e, "/login", url.Values{"email": {to}, "password": {apptest.Password}})
				return r
			}())
			r1, b1 := form(t, e, "/forgot", url.Values{"email": {to}})
			r2, b2 := form(t, e, "/forgot", url.Values{"email": {"nobody@" + strings.SplitN(to, "@", 2)[1]}})
			b1, b2 = strings.ReplaceAll(b1, to, "X"), strings.ReplaceAll(b2, "nobody@"+strings.SplitN(to, "@", 2)[1], "X")
			if r1.StatusCode != http.StatusOK || r1.StatusCode != r2.StatusCode || b1 != b2 || !strings.Contains(b1, "on its way") {
				t.Fatalf("forgot: %d vs %d, same page %v", r1.StatusCode, r2.StatusCode, b1 == b2)
			}
			var msg *smtptest.Message
			deadline := time.Now().Add(time.Minute)
			for msg == nil && time.Now().Before(deadline) {
				for _, m := range srv.Messages() {
					if slices.Contains(m.To, to) {
						msg = &m
					}
				}
				if msg == nil {
					time.Sleep(50 * time.Millisecond) // polling the SMTP server with a deadline
				}
			}
			if msg == nil {
				t.Fatal("no reset email within a minute")
			}
			pm, err := mail.ReadMessage(strings.NewReader(string(msg.Raw)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(pm.Body))
			link := resetLink.FindString(string(body))
			if pm.Header.Get("From") != `"Rightsize" <accounts@rightsize.test>` || link == "" || strings.Contains(string(msg.Raw), "nobody@") {
				t.Fatalf("reset email: from %q, link %q\n%s", pm.Header.Get("From"), link, msg.Raw)
			}
			u, _ := url.Parse(link)
			path := u.RequestURI()
			if res, page := get(t, e, path); res.StatusCode != http.StatusOK || !strings.Contains(page, `name="password_again"`) {
				t.Fatalf("reset page: %d", res.StatusCode)
			}
			tok := u.Query().Get("token")
			if res, page := form(t, e, "/reset", url.Values{"token": {tok}, "password": {"new long password 1"}, "password_again": {"new long password 2"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "differ") {
				t.Fatalf("mismatched passwords: %d", res.StatusCode)
			}
			res, _ := form(t, e, "/reset", url.Values{"token": {tok}, "password": {"new long password 1"}, "password_again": {"new long password 1"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?reset=1" {
				t.Fatalf("reset: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			if signedIn(t, e, old) {
				t.Fatal("a session survived the reset")
			}
			if res, _ := form(t, e, "/login", url.Values{"email": {to}, "password": {"new long password 1"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login with the new password: %d", res.StatusCode)
			}
			if res, _ := get(t, e, path); res.StatusCode != http.StatusGone {
				t.Fatalf("used link: %d", res.StatusCode)
			}
			if res, _ := form(t, e, "/reset", url.Values{"token": {tok}, "password": {"third long password"}, "password_again": {"third long password"}}); res.StatusCode != http.StatusGone {
				t.Fatalf("used token posted again: %d", res.StatusCode)
			}
			// The ledger row is finished and keeps no body.
			rows, err := e.App.St.Read().AdminSystemMail(context.Background(), 10)
			if err != nil || len(rows) != 1 || rows[0].State != store.SystemMailSent || rows[0].BodyEnc != "" || rows[0].ToEmail != to {
				t.Fatalf("system mail rows: %+v %v", rows, err)
			}
		})
	}
}

// A disabled user's sessions and API keys stop on the next request, through
// the whole app (UI cookie, API cookie, API key).
func TestDisableUserThroughApp(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			email := "manager@alpha.example.com"
			res, _ := form(t, e, "/login", url.Values{"email": {email}, "password": {apptest.Password}})
			c := sessionCookie(t, res)
			key := e.A.Keys["manager"] // made with the manager as its creator
			if code, _ := e.Do(t, key, "GET", "/api/v1/me", ""); code != 200 {
				t.Fatalf("key before: %d", code)
			}
			if _, err := e.App.Auth.SetDisabled(context.Background(), model.Actor{Label: "test"}, email, true); err != nil {
				t.Fatal(err)
			}
			if signedIn(t, e, c) {
				t.Fatal("UI session of a disabled user works")
			}
			if code, _ := e.Do(t, key, "GET", "/api/v1/contacts", ""); code != http.StatusUnauthorized {
				t.Fatalf("API key of a disabled user: %d", code)
			}
			if res, _ := form(t, e, "/login", url.Values{"email": {email}, "password": {apptest.Password}}); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("disabled login: %d", res.StatusCode)
			}
			if code, _ := e.Do(t, e.A.Keys["admin"], "GET", "/api/v1/me", ""); code != 200 {
				t.Fatalf("another user's key: %d", code)
			}
		})
	}
}

// The self-service password change: the current password is required; every
// session ends and the browser carries on with a new cookie.
func TestChangePasswordPage(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, store.SQLite)
	email := "ae@alpha.example.com"
	login := func() *http.Cookie {
		res, _ := form(t, e, "/login", url.Values{"email": {email}, "password": {apptest.Password}})
		return sessionCookie(t, res)
	}
	here, other := login(), login()
	if res, page := get(t, e, "/settings/password", here); res.StatusCode != 200 || !strings.Contains(page, `name="current_password"`) {
		t.Fatalf("password page: %d", res.StatusCode)
	}
	res, page := form(t, e, "/settings/password", url.Values{"current_password": {"not it at all"}, "new_password": {"brand new password"}, "new_password_again": {"brand new password"}}, here)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, "not the password you sign in with") || strings.Contains(page, "brand new password") {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	res, _ = form(t, e, "/settings/password", url.Values{"current_password": {apptest.Password}, "new_password": {"brand new password"}, "new_password_again": {"brand new password"}}, here)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", res.StatusCode)
	}
	fresh := sessionCookie(t, res)
	if signedIn(t, e, here) || signedIn(t, e, other) {
		t.Fatal("an old session survived the change")
	}
	if !signedIn(t, e, fresh) || fresh.Value == here.Value {
		t.Fatal("the browser that changed it is not signed in with a new session")
	}
}
