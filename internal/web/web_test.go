package web_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

// eachKind runs fn against a running app on every available store dialect. One
// app per dialect is shared by the subtests; each subtest makes its own records.
func eachKind(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) { fn(t, apptest.New(t, kind)) })
	}
}

type resp struct {
	Status int
	Header http.Header
	Body   string
}

// do sends a browser-like request: same-origin, form-encoded, no redirect
// following.
func do(t *testing.T, e *apptest.Env, c *http.Client, method, path string, form url.Values, hdr ...string) resp {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != "GET" {
		req.Header.Set("Origin", e.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func get(t *testing.T, e *apptest.Env, c *http.Client, path string) resp {
	t.Helper()
	return do(t, e, c, "GET", path, nil)
}

func post(t *testing.T, e *apptest.Env, c *http.Client, path string, form url.Values) resp {
	t.Helper()
	return do(t, e, c, "POST", path, form)
}

func noFollow() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// ok checks a rendered page: the status, no html/template escaping failure
// marker, and the wanted texts.
func ok(t *testing.T, r resp, status int, want ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, status, snippet(r.Body))
	}
	if strings.Contains(r.Body, "ZgotmplZ") {
		t.Errorf("page contains ZgotmplZ (an unsafe value was filtered by html/template)")
	}
	for _, w := range want {
		if !strings.Contains(r.Body, w) {
			t.Errorf("page lacks %q; body:\n%s", w, snippet(r.Body))
		}
	}
}

func snippet(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func actor(t *testing.T, e *apptest.Env, ws apptest.WS) model.Actor {
	t.Helper()
	return e.Principal(t, ws.Keys[model.RoleAdmin]).Actor("127.0.0.1")
}

var idRE = regexp.MustCompile(`/(\d+)`)

func locationID(t *testing.T, r resp) string {
	t.Helper()
	loc := r.Header.Get("Location")
	m := idRE.FindStringSubmatch(loc)
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("want a 303 to a record, got %d %q; body:\n%s", r.Status, loc, snippet(r.Body))
	}
	return m[1]
}

func TestUI(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		t.Run("login and logout", func(t *testing.T) { testLoginLogout(t, e) })
		t.Run("cross-origin post refused", func(t *testing.T) { testCrossOrigin(t, e) })
		t.Run("create contact via form", func(t *testing.T) { testCreateContact(t, e) })
		t.Run("validation errors inline", func(t *testing.T) { testValidation(t, e) })
		t.Run("foreign id is 404", func(t *testing.T) { testForeign(t, e) })
		t.Run("workspace switch", func(t *testing.T) { testWorkspaceSwitch(t, e) })
		t.Run("pages render", func(t *testing.T) { testPagesRender(t, e) })
		t.Run("list filter errors", func(t *testing.T) { testListErrors(t, e) })
		t.Run("deal amount in major units", func(t *testing.T) { testDealAmount(t, e) })
		t.Run("merge contacts", func(t *testing.T) { testMerge(t, e) })
		t.Run("log activity", func(t *testing.T) { testActivity(t, e) })
		t.Run("import report", func(t *testing.T) { testImportReport(t, e) })
		t.Run("api keys", func(t *testing.T) { testAPIKeys(t, e) })
		t.Run("tracking settings", func(t *testing.T) { testTrackingSettings(t, e) })
		t.Run("export from the list", func(t *testing.T) { testExport(t, e) })
		t.Run("deals needing review", func(t *testing.T) { testNeedsReview(t, e) })
	})
}

func testLoginLogout(t *testing.T, e *apptest.Env) {
	c := noFollow()
	r := get(t, e, c, "/contacts?lifecycle_stage=lead")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+url.QueryEscape("/contacts?lifecycle_stage=lead") {
		t.Fatalf("anonymous: %d %q", r.Status, r.Header.Get("Location"))
	}
	ok(t, get(t, e, c, "/login?next=%2Fcontacts"), 200, `name="next" value="/contacts"`, "Sign in")

	// Wrong password and unknown user get the same generic answer and no cookie.
	email := e.A.Users[model.RoleAE].Email
	for _, f := range []url.Values{{"email": {email}, "password": {"wrong password!"}}, {"email": {"nobody@example.com"}, "password": {"wrong password!"}}} {
		r = post(t, e, c, "/login", f)
		ok(t, r, http.StatusUnauthorized, "Wrong email or password.")
		if r.Header.Get("Set-Cookie") != "" {
			t.Errorf("failed login set a cookie: %s", r.Header.Get("Set-Cookie"))
		}
	}

	// A next that leaves the site is ignored.
	r = post(t, e, c, "/login", url.Values{"email": {email}, "password": {apptest.Password}, "next": {"//evil.example/x"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", r.Status, r.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "rs_session" {
			sess = ck
		}
	}
	if sess == nil {
		t.Fatal("no rs_session cookie")
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Path=%q Secure=%v", sess.HttpOnly, sess.SameSite, sess.Path, sess.Secure)
	}
	ok(t, get(t, e, c, "/"), 200, "Dashboard", email)

	// A local next is honoured.
	c2 := noFollow()
	r = post(t, e, c2, "/login", url.Values{"email": {email}, "password": {apptest.Password}, "next": {"/deals?outcome=open"}})
	if r.Header.Get("Location") != "/deals?outcome=open" {
		t.Errorf("next: %q", r.Header.Get("Location"))
	}
	// Each login gets a new session id.
	var sess2 string
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "rs_session" {
			sess2 = ck.Value
		}
	}
	if sess2 == "" || sess2 == sess.Value {
		t.Errorf("second login reused the session token")
	}

	r = post(t, e, c, "/logout", nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", r.Status, r.Header.Get("Location"))
	}
	if sc := r.Header.Get("Set-Cookie"); !strings.Contains(sc, "rs_session=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("logout did not clear the cookie: %q", sc)
	}
	// Replaying the old cookie: the session is gone server-side.
	replay := noFollow()
	u, _ := url.Parse(e.URL)
	replay.Jar.SetCookies(u, []*http.Cookie{{Name: "rs_session", Value: sess.Value}})
	r = get(t, e, replay, "/")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("replayed cookie after logout: %d %q", r.Status, r.Header.Get("Location"))
	}
	// The other session is unaffected.
	ok(t, get(t, e, c2, "/"), 200, "Dashboard")
}

func testCrossOrigin(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	form := url.Values{"email": {"csrf@example.com"}, "lifecycle_stage": {"lead"}}
	r := do(t, e, c, "POST", "/contacts", form, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-site POST: status %d, want 403", r.Status)
	}
	r = do(t, e, c, "POST", "/logout", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.Status != http.StatusForbidden {
		t.Fatalf("cross-site logout: status %d, want 403", r.Status)
	}
	if _, err := e.App.St.Read().ContactByEmail(context.Background(), e.A.ID, "csrf@example.com"); err != store.ErrNotFound {
		t.Fatalf("the refused POST created a contact (err=%v)", err)
	}
	ok(t, get(t, e, c, "/"), 200, "Dashboard") // still signed in
}

func testCreateContact(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	ok(t, get(t, e, c, "/contacts/new"), 200, `name="email"`, "New contact")
	r := post(t, e, c, "/contacts", url.Values{
		"email": {"Grace.Hopper@Navy.example"}, "first_name": {"Grace"}, "last_name": {"Hopper"},
		"title": {"Rear Admiral"}, "lifecycle_stage": {"mql"}, "account_id": {""}, "owner_id": {""},
	})
	id := locationID(t, r)
	ok(t, get(t, e, c, "/contacts/"+id), 200, "Grace Hopper", "grace.hopper@navy.example", "Rear Admiral", "MQL", "Contact created")
	ok(t, get(t, e, c, "/contacts"), 200, "Grace Hopper", "grace.hopper@navy.example")
	ok(t, get(t, e, c, "/contacts?q=hopper"), 200, "Grace Hopper")
	r = get(t, e, c, "/contacts?q=nobody-matches-this")
	ok(t, r, 200, "No contacts match")

	// Edit: an emptied field is cleared.
	r = post(t, e, c, "/contacts/"+id, url.Values{"email": {"grace.hopper@navy.example"}, "first_name": {"Grace"}, "last_name": {"Hopper"}, "title": {""}, "lifecycle_stage": {"sql"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, snippet(r.Body))
	}
	got, err := e.App.St.Read().ContactByEmail(context.Background(), e.A.ID, "grace.hopper@navy.example")
	if err != nil || got.Title != "" || got.LifecycleStage != "sql" {
		t.Fatalf("after edit: %+v %v", got, err)
	}
	ok(t, get(t, e, c, "/contacts/"+id), 200, "Lifecycle stage: MQL → SQL")
}

func testValidation(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r := post(t, e, c, "/contacts", url.Values{"email": {"not an email"}, "first_name": {"Ada <b>"}, "lifecycle_stage": {"lead"}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-email-err"`, `aria-invalid="true" aria-describedby="f-email-err"`, "is not a valid email address", `value="not an email"`, `value="Ada &lt;b&gt;"`)

	// The error sits next to the email field, not somewhere else.
	field := r.Body[strings.Index(r.Body, `for="f-email"`):]
	field = field[:strings.Index(field, `</div>`)]
	if !strings.Contains(field, "field-error") {
		t.Errorf("email error is not inside the email field:\n%s", field)
	}

	// A duplicate email is a conflict shown on the email field.
	if _, err := e.App.CRM.CreateContact(context.Background(), actor(t, e, e.A), crm.Fields{"email": "dup@example.com"}); err != nil {
		t.Fatal(err)
	}
	r = post(t, e, c, "/contacts", url.Values{"email": {"dup@example.com"}, "lifecycle_stage": {"lead"}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-email-err"`, "another contact already has this email")

	// Account: a bad number and a bad amount are both reported on their fields.
	r = post(t, e, c, "/accounts", url.Values{"name": {"Acme"}, "employees": {"many"}, "annual_revenue": {"1,2"}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-annual_revenue-err"`, "is not an amount")
	r = post(t, e, c, "/accounts", url.Values{"name": {""}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-name-err"`, "is required")
}

func testForeign(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	bc, err := e.App.CRM.CreateContact(ctx, actor(t, e, e.B), crm.Fields{"email": "secret@beta.example", "first_name": "Beta"})
	if err != nil {
		t.Fatal(err)
	}
	ba, err := e.App.CRM.CreateAccount(ctx, actor(t, e, e.B), crm.Fields{"name": "Beta Secret Co"})
	if err != nil {
		t.Fatal(err)
	}
	bd, err := e.App.CRM.CreateDeal(ctx, actor(t, e, e.B), crm.Fields{"name": "Beta deal", "pipeline": "digital"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	for _, p := range []string{
		fmt.Sprintf("/contacts/%d", bc.ID), fmt.Sprintf("/contacts/%d/edit", bc.ID),
		fmt.Sprintf("/accounts/%d", ba.ID), fmt.Sprintf("/accounts/%d/edit", ba.ID),
		fmt.Sprintf("/deals/%d", bd.ID), fmt.Sprintf("/deals/%d/edit", bd.ID),
		"/contacts/999999", "/contacts/abc", "/imports/999999", "/imports/999999/errors.csv", "/no/such/page",
	} {
		r := get(t, e, c, p)
		ok(t, r, http.StatusNotFound, "Page not found")
		if strings.Contains(r.Body, "secret@beta.example") || strings.Contains(r.Body, "Beta Secret Co") {
			t.Errorf("%s leaked a foreign record", p)
		}
	}
	// Writes to a foreign id answer the same.
	r := post(t, e, c, fmt.Sprintf("/contacts/%d", bc.ID), url.Values{"email": {"x@example.com"}, "lifecycle_stage": {"lead"}})
	ok(t, r, http.StatusNotFound, "Page not found")
	r = post(t, e, c, fmt.Sprintf("/accounts/%d/merge", ba.ID), url.Values{"other": {"1"}})
	ok(t, r, http.StatusNotFound)
	// A foreign id typed into a form is a field error, not a leak.
	r = post(t, e, c, "/contacts", url.Values{"email": {"ok@alpha.example"}, "lifecycle_stage": {"lead"}, "account_id": {fmt.Sprint(ba.ID)}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-account_id-err"`, "no account")
	got, _ := e.App.St.Read().GetContact(ctx, e.B.ID, bc.ID)
	if got.Email != "secret@beta.example" {
		t.Fatalf("foreign contact changed: %+v", got)
	}
}

func testWorkspaceSwitch(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	if _, err := e.App.CRM.CreateContact(ctx, actor(t, e, e.A), crm.Fields{"email": "only-in-a@alpha.example", "first_name": "Alfa"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.CRM.CreateContact(ctx, actor(t, e, e.B), crm.Fields{"email": "only-in-b@beta.example", "first_name": "Bravo"}); err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.Agency.Email)
	r := get(t, e, c, "/contacts")
	ok(t, r, 200, "only-in-a@alpha.example", "Alpha Inc", "Beta Inc")
	if strings.Contains(r.Body, "only-in-b@beta.example") {
		t.Fatal("workspace A shows B's contact")
	}
	ok(t, get(t, e, c, "/settings/api-keys"), 200) // admin in A

	r = post(t, e, c, "/workspace", url.Values{"workspace_id": {fmt.Sprint(e.B.ID)}, "next": {"/contacts/12/edit"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/contacts" {
		t.Fatalf("switch: %d %q", r.Status, r.Header.Get("Location"))
	}
	r = get(t, e, c, "/contacts")
	ok(t, r, 200, "only-in-b@beta.example", "Account executive · Beta Inc")
	if strings.Contains(r.Body, "only-in-a@alpha.example") {
		t.Fatal("after switching to B the list still shows A's contact")
	}
	ok(t, get(t, e, c, "/settings/api-keys"), http.StatusForbidden, "Not allowed") // ae in B

	// A workspace the user does not belong to cannot be selected.
	outsider := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r = post(t, e, outsider, "/workspace", url.Values{"workspace_id": {fmt.Sprint(e.B.ID)}})
	ok(t, r, http.StatusNotFound)
	r = get(t, e, outsider, "/contacts")
	if strings.Contains(r.Body, "only-in-b@beta.example") {
		t.Fatal("a non-member switched into B")
	}
}

// seed makes demo-like records in ws and returns the ids of one of each.
func seed(t *testing.T, e *apptest.Env, ws apptest.WS) (acct, contact, deal int64) {
	t.Helper()
	ctx := context.Background()
	act := actor(t, e, ws)
	owner := fmt.Sprint(ws.Users[model.RoleAE].ID)
	var ids []int64
	for i, a := range []crm.Fields{
		{"name": "Globex Corporation", "domain": "globex.example", "employees": "4200", "industry": "Manufacturing", "segment": "enterprise", "motion": "high_touch", "annual_revenue": "8200000000", "owner_id": owner},
		{"name": "Initech", "domain": "initech.example", "employees": "310", "industry": "Software", "segment": "mid_market", "motion": "high_touch"},
		{"name": "Bluth's Banana Stand", "domain": "bluth.example", "employees": "12", "industry": "Retail", "segment": "smb", "motion": "digital"},
	} {
		a, err := e.App.CRM.CreateAccount(ctx, act, a)
		if err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
		ids = append(ids, a.ID)
	}
	var cids []int64
	for _, c := range []crm.Fields{
		{"email": "hank@globex.example", "first_name": "Hank", "last_name": "Scorpio", "title": "CEO", "lifecycle_stage": "opportunity", "account_id": fmt.Sprint(ids[0]), "owner_id": owner},
		{"email": "peter@initech.example", "first_name": "Peter", "last_name": "Gibbons", "title": "Engineer", "lifecycle_stage": "mql", "account_id": fmt.Sprint(ids[1])},
		{"email": "gob@bluth.example", "first_name": "George Oscar", "last_name": "Bluth", "lifecycle_stage": "customer", "account_id": fmt.Sprint(ids[2])},
		{"email": "lead@nowhere.example", "lifecycle_stage": "lead"},
	} {
		ct, err := e.App.CRM.CreateContact(ctx, act, c)
		if err != nil {
			t.Fatal(err)
		}
		cids = append(cids, ct.ID)
	}
	var dids []int64
	for _, d := range []crm.Fields{
		{"name": "Globex — global rollout", "account_id": fmt.Sprint(ids[0]), "pipeline": "high_touch", "stage": "negotiation", "amount": "48000000", "expected_close_date": "2026-09-30", "owner_id": owner},
		{"name": "Initech pilot", "account_id": fmt.Sprint(ids[1]), "pipeline": "high_touch", "stage": "approach", "amount": "1250000"},
		{"name": "Bluth starter plan", "account_id": fmt.Sprint(ids[2]), "pipeline": "digital", "stage": "won", "amount": "99000", "outcome": "won"},
		{"name": "Initech — lost renewal", "account_id": fmt.Sprint(ids[1]), "pipeline": "high_touch", "stage": "close", "amount": "300000", "outcome": "no_decision", "loss_reason": "budget frozen"},
	} {
		dl, err := e.App.CRM.CreateDeal(ctx, act, d)
		if err != nil {
			t.Fatal(err)
		}
		dids = append(dids, dl.ID)
	}
	for _, a := range []crm.Fields{
		{"kind": "meeting", "subject": "Discovery with the buying group", "contact_id": fmt.Sprint(cids[0]), "account_id": fmt.Sprint(ids[0]), "deal_id": fmt.Sprint(dids[0]), "duration_minutes": "60", "participants": "hank@globex.example, cfo@globex.example", "occurred_at": time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)},
		{"kind": "demo", "subject": "Product demo", "contact_id": fmt.Sprint(cids[0]), "account_id": fmt.Sprint(ids[0]), "deal_id": fmt.Sprint(dids[0]), "duration_minutes": "45", "body": "Showed forecasting.\nThey want SSO."},
		{"kind": "call", "subject": "Intro call", "contact_id": fmt.Sprint(cids[1]), "account_id": fmt.Sprint(ids[1]), "duration_minutes": "20"},
	} {
		if _, err := e.App.CRM.CreateActivity(ctx, act, a); err != nil {
			t.Fatal(err)
		}
	}
	return ids[0], cids[0], dids[0]
}

func testPagesRender(t *testing.T, e *apptest.Env) {
	acct, contact, deal := seed(t, e, e.A)
	ctx := context.Background()
	if err := e.App.St.InTx(ctx, func(q store.Q) error {
		for _, reason := range []string{"no_budget", "no_budget", "competitor"} {
			if err := q.InsertDisqualification(ctx, e.A.ID, contact, reason, "", nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	r := get(t, e, c, "/")
	ok(t, r, 200, "Dashboard", "<svg", "<title id=\"chart-lifecycle-t\">Contacts by lifecycle stage</title>", "$480,000.00", "Open deals", "Discovery with the buying group", `<title id="chart-funnel-t">Funnel, last 90 days</title>`,
		`<title id="chart-disqualified-t">Disqualification reasons, last 90 days</title>`, "No budget", "3 disqualifications on the LDR desk",
		`<title id="chart-losses-t">Loss reasons, last 90 days</title>`, "No decision", "1 deal closed lost or with no decision")
	ok(t, get(t, e, c, "/accounts"), 200, "Globex Corporation", "globex.example", "Enterprise", "$82,000,000.00", "4,200")
	ok(t, get(t, e, c, "/accounts?segment=smb"), 200, "Bluth&#39;s Banana Stand")
	ok(t, get(t, e, c, "/accounts?employees_min=1000&sort=-employees"), 200, "Globex Corporation", `aria-sort="descending"`)
	ok(t, get(t, e, c, "/accounts?industry=software"), 200, "Initech")
	ok(t, get(t, e, c, fmt.Sprintf("/accounts/%d", acct)), 200, "Hank Scorpio", "Globex — global rollout", "Timeline", "Discovery with the buying group", "Account created")
	ok(t, get(t, e, c, fmt.Sprintf("/accounts/%d/edit", acct)), 200, `value="82,000,000.00"`, `value="Globex Corporation"`)
	ok(t, get(t, e, c, "/accounts/new"), 200, `value="USD"`)
	ok(t, get(t, e, c, "/contacts?lifecycle_stage=mql"), 200, "Peter Gibbons")
	ok(t, get(t, e, c, "/contacts?sort=email"), 200, `aria-sort="ascending"`)
	ok(t, get(t, e, c, fmt.Sprintf("/contacts/%d", contact)), 200, "Hank Scorpio", "Globex Corporation", "Product demo", "They want SSO.", "60 min", "cfo@globex.example")
	ok(t, get(t, e, c, fmt.Sprintf("/contacts/%d/edit", contact)), 200, `value="hank@globex.example"`)
	ok(t, get(t, e, c, "/deals"), 200, "Globex — global rollout", "$480,000.00", "Open", "No decision", "Won")
	ok(t, get(t, e, c, "/deals?outcome=open&pipeline=high_touch"), 200, "Initech pilot")
	ok(t, get(t, e, c, "/deals?outcome=won"), 200, "Bluth starter plan")
	ok(t, get(t, e, c, fmt.Sprintf("/deals/%d", deal)), 200, "Negotiation", `aria-current="step"`, "$480,000.00")
	ok(t, get(t, e, c, fmt.Sprintf("/deals/%d/edit", deal)), 200, `value="480,000.00"`)
	ok(t, get(t, e, c, "/deals/new"), 200, "High touch (SPANCO)")
	ok(t, get(t, e, c, "/imports"), 200, "Imports")
	ok(t, get(t, e, c, "/imports/new"), 200, `enctype="multipart/form-data"`)
	ok(t, get(t, e, c, "/settings/api-keys"), 200, "API keys")
	ok(t, get(t, e, c, "/settings"), 200, `href="/settings/routing"`, `href="/settings/scoring"`, `href="/settings/pools"`, `href="/settings/api-keys"`)
	ok(t, get(t, e, c, "/settings/routing"), 200, "Segment rules", `name="seg-0-segment" value="smb"`, "Save rules")
	ok(t, get(t, e, c, "/settings/scoring"), 200, "Event weights", `name="mql_threshold" value="50"`, "Save scoring")
	ok(t, get(t, e, c, "/settings/pools"), 200, "Speed-to-lead SLA", "Create pool")

	// Pagination: more than a page of contacts gives a working Next link.
	for i := 0; i < 55; i++ {
		if _, err := e.App.CRM.CreateContact(ctx, actor(t, e, e.A), crm.Fields{"email": fmt.Sprintf("bulk%02d@page.example", i), "source": "paging"}); err != nil {
			t.Fatal(err)
		}
	}
	r = get(t, e, c, "/contacts?source=paging&sort=email")
	ok(t, r, 200, "Showing <strong>1–50</strong> of <strong>55</strong>", "bulk00@page.example", `rel="next"`)
	m := regexp.MustCompile(`href="(/contacts\?[^"]*cursor=[^"]*)" rel="next"`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("no next link")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	r = get(t, e, c, next)
	ok(t, r, 200, "Showing <strong>51–55</strong> of <strong>55</strong>", "bulk54@page.example", "First page")
	if strings.Contains(r.Body, "bulk00@page.example") {
		t.Error("page 2 repeats page 1")
	}

	// Static assets are served under hashed names with long cache headers.
	css := regexp.MustCompile(`href="(/static/app\.[0-9a-f]+\.css)"`).FindStringSubmatch(r.Body)
	if css == nil {
		t.Fatal("no hashed stylesheet link")
	}
	sr := get(t, e, noFollow(), css[1])
	if sr.Status != 200 || !strings.Contains(sr.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(sr.Header.Get("Content-Type"), "text/css") {
		t.Errorf("static: %d %v", sr.Status, sr.Header)
	}
	if r := get(t, e, noFollow(), "/static/app.css"); r.Status != http.StatusNotFound {
		t.Errorf("unhashed asset name: %d", r.Status)
	}
}

func testListErrors(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r := get(t, e, c, "/accounts?employees_min=lots")
	ok(t, r, http.StatusBadRequest, `id="f-employees_min-err"`, "is not a whole number", `value="lots"`)
	ok(t, get(t, e, c, "/accounts?sort=password_hash"), http.StatusBadRequest, "cannot be sorted")
	ok(t, get(t, e, c, "/contacts?cursor=garbage"), http.StatusBadRequest, "no longer valid")
	ok(t, get(t, e, c, "/deals?sort=-loss_reason"), http.StatusBadRequest, "cannot be sorted")
}

func testDealAmount(t *testing.T, e *apptest.Env) {
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r := post(t, e, c, "/deals", url.Values{"name": {"Typed amount"}, "amount": {"1,200.50"}, "currency": {"USD"}, "pipeline": {"digital"}, "stage": {"trial"}})
	id := locationID(t, r)
	var n int64
	fmt.Sscan(id, &n)
	d, err := e.App.St.Read().GetDeal(context.Background(), e.A.ID, n)
	if err != nil || d.Amount != 120050 || d.Stage != "trial" {
		t.Fatalf("deal: %+v %v", d, err)
	}
	ok(t, get(t, e, c, "/deals/"+id), 200, "$1,200.50")
	// A stage of the other pipeline is refused on the stage field, input kept.
	r = post(t, e, c, "/deals/"+id, url.Values{"name": {"Typed amount"}, "amount": {"1,200.50"}, "currency": {"USD"}, "pipeline": {"digital"}, "stage": {"suspect"}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-stage-err"`, "is not a stage of digital", `value="1,200.50"`)
	r = post(t, e, c, "/deals", url.Values{"name": {"Too precise"}, "amount": {"10.005"}, "pipeline": {"digital"}})
	ok(t, r, http.StatusUnprocessableEntity, `id="f-amount-err"`, "more than 2 decimal places")
}

func testMerge(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	act := actor(t, e, e.A)
	w, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "keep@merge.example", "first_name": "Keep"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.App.CRM.CreateContact(ctx, act, crm.Fields{"email": "dupe@merge.example", "phone": "+1 555 0100"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	base := fmt.Sprintf("/contacts/%d/merge", w.ID)
	ok(t, post(t, e, c, base, url.Values{"other": {"nobody@merge.example"}}), http.StatusUnprocessableEntity, `id="merge-other-err"`, "no contact with that id or email")
	ok(t, post(t, e, c, base, url.Values{"other": {fmt.Sprint(w.ID)}}), http.StatusUnprocessableEntity, "pick its duplicate")
	r := post(t, e, c, base, url.Values{"other": {"DUPE@merge.example"}})
	ok(t, r, 200, "Merge contacts?", "dupe@merge.example", "will be deleted", fmt.Sprintf(`name="loser_id" value="%d"`, l.ID))
	if _, err := e.App.St.Read().GetContact(ctx, e.A.ID, l.ID); err != nil {
		t.Fatal("the confirmation step merged already")
	}
	r = post(t, e, c, base, url.Values{"confirm": {"1"}, "loser_id": {fmt.Sprint(l.ID)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", r.Status, snippet(r.Body))
	}
	if _, err := e.App.St.Read().GetContact(ctx, e.A.ID, l.ID); err != store.ErrNotFound {
		t.Fatalf("loser still there: %v", err)
	}
	ok(t, get(t, e, c, fmt.Sprintf("/contacts/%d?notice=merged", w.ID)), 200, "Duplicate merged", "555 0100", "dupe@merge.example was merged into this contact")
	// Confirming again: the duplicate is gone, shown inline.
	ok(t, post(t, e, c, base, url.Values{"confirm": {"1"}, "loser_id": {fmt.Sprint(l.ID)}}), http.StatusUnprocessableEntity, "no longer exists")

	// Accounts merge by domain.
	wa, _ := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Umbrella", "domain": "umbrella.example"})
	la, _ := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Umbrella Corp (old)", "domain": "umbrella-corp.example", "industry": "Pharma"})
	ab := fmt.Sprintf("/accounts/%d/merge", wa.ID)
	ok(t, post(t, e, c, ab, url.Values{"other": {"https://www.umbrella-corp.example/"}}), 200, "Merge accounts?", "Umbrella Corp (old)")
	if r := post(t, e, c, ab, url.Values{"confirm": {"1"}, "loser_id": {fmt.Sprint(la.ID)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("account merge: %d", r.Status)
	}
	ok(t, get(t, e, c, fmt.Sprintf("/accounts/%d", wa.ID)), 200, "Pharma")
}

func testActivity(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	ct, err := e.App.CRM.CreateContact(ctx, actor(t, e, e.A), crm.Fields{"email": "timeline@act.example"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	back := fmt.Sprintf("contact:%d", ct.ID)
	r := post(t, e, c, "/activities", url.Values{"kind": {"call"}, "subject": {"Pricing questions"}, "duration_minutes": {"25"}, "occurred_at": {"2026-03-04T10:30"}, "contact_id": {fmt.Sprint(ct.ID)}, "back": {back}})
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "#timeline") {
		t.Fatalf("log activity: %d %q %s", r.Status, r.Header.Get("Location"), snippet(r.Body))
	}
	ok(t, get(t, e, c, fmt.Sprintf("/contacts/%d", ct.ID)), 200, "Pricing questions", "4 Mar 2026, 10:30 UTC", "25 min")
	r = post(t, e, c, "/activities", url.Values{"kind": {"call"}, "subject": {"Bad"}, "duration_minutes": {"-5"}, "contact_id": {fmt.Sprint(ct.ID)}, "back": {back}})
	ok(t, r, http.StatusUnprocessableEntity, `id="act-duration_minutes-err"`, "must not be negative", `value="Bad"`, "timeline@act.example")
	r = post(t, e, c, "/activities", url.Values{"kind": {"call"}, "back": {"nonsense"}})
	ok(t, r, http.StatusBadRequest)
}

func testImportReport(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	// The importer is written elsewhere; the report page reads whatever an import
	// recorded, so the test records one directly.
	im := model.Import{ObjectType: "contact", Filename: "leads <2026>.csv", CreatedBy: "user:admin@alpha.example.com"}
	err := e.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateImport(ctx, e.A.ID, &im); err != nil {
			return err
		}
		if err := q.SetImportCounts(ctx, e.A.ID, im.ID, 10, 7, 2, 1); err != nil {
			return err
		}
		if err := q.AddImportErrors(ctx, im.ID, []model.ImportError{
			{Line: 4, Col: 2, Field: "email", Reason: `"bob@" is not a valid email address`, Raw: "Bob,bob@,lead"},
			{Line: 9, Col: 3, Field: "lifecycle_stage", Reason: `"hot" is not one of visitor, lead`, Raw: "=HYPERLINK(\"x\"),a@b.example,hot"},
		}); err != nil {
			return err
		}
		return q.SetImportStatus(ctx, e.A.ID, im.ID, "done", "")
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAE].Email)
	r := get(t, e, c, fmt.Sprintf("/imports/%d", im.ID))
	ok(t, r, 200, "leads &lt;2026&gt;.csv", "Reconciled", "4:2", "9:3", "is not a valid email address", "errors.csv", `aria-label="7 accepted, 1 merged, 2 rejected of 10 rows"`)
	if strings.Contains(r.Body, `http-equiv="refresh"`) {
		t.Error("a finished import still refreshes")
	}
	ok(t, get(t, e, c, "/imports"), 200, "leads &lt;2026&gt;.csv", "Done")
	r = get(t, e, c, fmt.Sprintf("/imports/%d/errors.csv", im.ID))
	ok(t, r, 200, "line,column,field,reason,raw", `4,2,email,"""bob@"" is not a valid email address","Bob,bob@,lead"`, `'=HYPERLINK`)
	if !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("csv disposition: %q", r.Header.Get("Content-Disposition"))
	}
	// Another workspace cannot read it.
	other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
	ok(t, get(t, e, other, fmt.Sprintf("/imports/%d/errors.csv", im.ID)), http.StatusNotFound)

	// A running import refreshes itself.
	run := model.Import{ObjectType: "account", Filename: "big.csv"}
	_ = e.App.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateImport(ctx, e.A.ID, &run); err != nil {
			return err
		}
		return q.SetImportStatus(ctx, e.A.ID, run.ID, "running", "")
	})
	ok(t, get(t, e, c, fmt.Sprintf("/imports/%d", run.ID)), 200, `http-equiv="refresh"`, `role="progressbar"`)

	// Upload form validation.
	ok(t, post(t, e, c, "/imports", url.Values{"object_type": {"contact"}}), http.StatusUnprocessableEntity, `id="f-file-err"`)
	// A file beyond the 1 MiB request default is accepted: uploads have their own limit.
	r = upload(t, e, c, "contact", "big.csv", "email,first_name\n"+strings.Repeat("a@b.example,x\n", 200_000))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("2.8 MB upload: status %d", r.Status)
	}
	r = upload(t, e, c, "spaceship", "x.csv", "email\n")
	ok(t, r, http.StatusUnprocessableEntity, `id="f-object_type-err"`)
}

// upload posts a multipart import form as a browser does.
func upload(t *testing.T, e *apptest.Env, c *http.Client, objectType, name, content string) resp {
	t.Helper()
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("object_type", objectType)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/imports", strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func testAPIKeys(t *testing.T, e *apptest.Env) {
	// API keys are integration secrets: admins only (docs/security.md).
	mgr := e.Browser(t, e.A.Users[model.RoleManager].Email)
	ok(t, get(t, e, mgr, "/settings/api-keys"), http.StatusForbidden, "Not allowed")
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	r := post(t, e, c, "/settings/api-keys", url.Values{"name": {"Warehouse sync"}, "role": {"ae"}})
	ok(t, r, 200, "Warehouse sync", "only time it is shown")
	secret := regexp.MustCompile(`value="(rsk_[^"]+)"`).FindStringSubmatch(r.Body)
	if secret == nil {
		t.Fatal("secret not shown")
	}
	if st, _ := e.Do(t, secret[1], "GET", "/api/v1/me", ""); st != 200 {
		t.Errorf("new key does not work: %d", st)
	}
	ok(t, post(t, e, c, "/settings/api-keys", url.Values{"name": {""}, "role": {"ae"}}), http.StatusUnprocessableEntity, `id="key-name-err"`)
	keys, _ := e.App.St.Read().ListAPIKeys(context.Background(), e.A.ID)
	var id int64
	for _, k := range keys {
		if k.Name == "Warehouse sync" {
			id = k.ID
		}
	}
	if r := post(t, e, c, fmt.Sprintf("/settings/api-keys/%d/revoke", id), nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	if st, _ := e.Do(t, secret[1], "GET", "/api/v1/me", ""); st != http.StatusUnauthorized {
		t.Errorf("revoked key still works: %d", st)
	}
	ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
	ok(t, get(t, e, ae, "/settings/api-keys"), http.StatusForbidden, "Not allowed")
	ok(t, post(t, e, ae, "/settings/api-keys", url.Values{"name": {"x"}, "role": {"admin"}}), http.StatusForbidden)
	if strings.Contains(get(t, e, ae, "/").Body, `href="/settings/api-keys"`) {
		t.Error("an ae sees the API keys link")
	}
}

// testExport: admins get an Export CSV button on lists that downloads with their
// session; reps see no button and are refused.
func testExport(t *testing.T, e *apptest.Env) {
	admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	ok(t, post(t, e, admin, "/contacts", url.Values{"email": {"exported@list.example"}, "lifecycle_stage": {"lead"}}), http.StatusSeeOther)
	ok(t, get(t, e, admin, "/contacts"), http.StatusOK, `href="/api/v1/exports/contacts"`)
	r := get(t, e, admin, "/api/v1/exports/contacts")
	ok(t, r, http.StatusOK, "exported@list.example")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	ldr := e.Browser(t, e.A.Users[model.RoleLDR].Email)
	if strings.Contains(get(t, e, ldr, "/contacts").Body, "/api/v1/exports/") {
		t.Errorf("ldr sees the export button")
	}
	ok(t, get(t, e, ldr, "/api/v1/exports/contacts"), http.StatusForbidden)
}

// testNeedsReview: when an account is re-routed its open deals are flagged; the deal
// list shows the flag and filters on it.
func testNeedsReview(t *testing.T, e *apptest.Env) {
	ctx := context.Background()
	act := e.Principal(t, e.A.Keys[model.RoleAdmin]).Actor("127.0.0.1")
	acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Growing Co", "employees": 40.0})
	if err != nil {
		t.Fatal(err)
	}
	flagged, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Review me deal", "pipeline": "digital", "account_id": float64(acct.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.CRM.CreateDeal(ctx, act, crm.Fields{"name": "Calm deal", "pipeline": "digital"}); err != nil {
		t.Fatal(err)
	}
	// Crossing the enterprise threshold re-routes the account and flags its open deal.
	if _, err := e.App.CRM.UpdateAccount(ctx, act, acct.ID, crm.Fields{"employees": 1500.0}); err != nil {
		t.Fatal(err)
	}
	c := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
	r := get(t, e, c, "/deals?needs_review=true")
	ok(t, r, http.StatusOK, fmt.Sprintf(`href="/deals/%d"`, flagged.ID), "Needs review")
	// The account page answers "why is this account in this motion?" and shows the change.
	ok(t, get(t, e, c, fmt.Sprintf("/accounts/%d", acct.ID)), http.StatusOK, "Why this motion", "1,000", "enterprise", "SMB → Enterprise")
	if strings.Contains(r.Body, "Calm deal") {
		t.Errorf("unflagged deal listed under needs review")
	}
}
