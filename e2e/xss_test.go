package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/forms"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/web"
)

// xssPage is one browser visit: the route it covers and the path opened.
type xssPage struct {
	pattern string // "GET /contacts/{id}": the registered route this visit covers
	path    string
	public  bool // a public page (no login): its own header policy
	// framable: customers' sites may frame it (the hosted form), so it need
	// not say frame-ancestors 'none'.
	framable bool
	status   int // the expected status (0: 200)
	// want are texts this visit must show: the payloads of the ingress
	// that feeds it, so each ingress is proven to reach a page.
	want []string
	// quiet says why no payload is expected in its text; "" means at least
	// one payload of the corpus must be visible as text (or as a form value),
	// which proves the stored text was rendered.
	quiet string
}

// xssNonPage is a GET route that is not an HTML page (a download, an asset,
// JSON, a redirect): fetched with a plain client and checked for its headers.
type xssNonPage struct {
	pattern, path string
	// attachment: the body is user data and must be a download, never
	// rendered in our origin.
	attachment bool
}

// TestStoredXSS sends the corpus through every ingress that stores text (the
// public forms, the tracking endpoint, CSV imports, the REST API, a webhook
// receiver's answers, the mail bounce and inbound hooks, users, settings),
// then opens every GET page of the UI and the public pages in Chromium with
// the page's CSP bypassed, so only the templates' escaping stands between the
// payloads and execution. On every page: no payload runs (window.__xss, the
// hit counter, JS dialogs), no element carries an event handler or a
// javascript: URL, no inline or foreign script, no base/iframe/object, and a
// payload is visible as text where the page shows stored text. Every page
// response has the security headers (CSP without unsafe-inline or
// unsafe-eval in script-src, nosniff, frame-ancestors 'none'). The route list
// comes from the source and is checked against the registered mux, so a new
// GET page fails this test until it is visited here.
func TestStoredXSS(t *testing.T) {
	start := time.Now()
	b := newBrowserFor(t, 300*time.Second)
	e := apptest.New(t, store.SQLite)
	seed := seedXSS(t, e)
	t.Logf("seeded the corpus in %s", time.Since(start).Round(time.Millisecond))

	// The marker: payloads call xss(N); it records N and pings the counter.
	var hits atomic.Int64
	var hitMu sync.Mutex
	var hitIDs []string
	counter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		hitMu.Lock()
		hitIDs = append(hitIDs, r.URL.Query().Get("p")+" on "+r.URL.Query().Get("at"))
		hitMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(counter.Close)
	var dmu sync.Mutex
	var dialogs []string
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dmu.Lock()
			dialogs = append(dialogs, string(d.Type)+": "+d.Message+" at "+d.URL)
			dmu.Unlock()
			go func() {
				_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf(`(function () {
  var hit = %q;
  window.__xss = [];
  window.xss = function (id) {
    window.__xss.push(String(id));
    try { new Image().src = hit + "?p=" + encodeURIComponent(id) + "&at=" + encodeURIComponent(location.href); } catch (e) {}
  };
})();`, counter.URL+"/hit")
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: marker}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}

	// The detectors work (else the test could not fail): a page that runs
	// xss() and alert() is seen by all three.
	probe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `<!doctype html><title>probe</title><img src=x onerror="xss('probe'); alert('probe')"><p>probe</p>`)
	}))
	t.Cleanup(probe.Close)
	b.run("open the probe", chromedp.Navigate(probe.URL), chromedp.Poll[chromedp.Void](`window.__xss.length > 0`))
	pollUntil(t, "the probe's hit and dialog", func() bool {
		dmu.Lock()
		defer dmu.Unlock()
		return hits.Load() == 1 && len(dialogs) == 1
	})
	hits.Store(0)
	hitMu.Lock()
	hitIDs = nil
	hitMu.Unlock()
	dmu.Lock()
	dialogs = nil
	dmu.Unlock()

	pages, nonPages := xssPages(seed)
	checkRouteCoverage(t, pages, nonPages)

	seen := map[int]bool{}
	// inspect checks the page now loaded in the tab; want are texts that
	// must be visible (an ingress's own payload), quiet why none need be.
	inspect := func(what, script, quiet string, want []string) {
		t.Helper()
		raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](script))
		if err != nil {
			t.Errorf("%s: inspect: %v", what, err)
			return
		}
		var got struct {
			Fired []string `json:"fired"`
			Bad   []string `json:"bad"`
			Text  string   `json:"text"`
		}
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatalf("%s: inspect result: %v", what, err)
		}
		if len(got.Fired) > 0 {
			t.Errorf("%s: payloads ran: %v", what, got.Fired)
		}
		for _, bad := range got.Bad {
			t.Errorf("%s: injected markup: %s", what, bad)
		}
		shown := 0
		for i, pl := range xssPayloads {
			if strings.Contains(got.Text, pl) {
				seen[i] = true
				shown++
			}
		}
		for _, u := range xssURLs {
			if strings.Contains(got.Text, u) {
				shown++
			}
		}
		if shown == 0 && quiet == "" {
			t.Errorf("%s: no payload visible as text: the page did not show the stored text, so it proves nothing\n%s", what, trim(got.Text))
		}
		for _, w := range want {
			if !strings.Contains(got.Text, w) {
				t.Errorf("%s: %q is not shown as text", what, w)
			}
		}
	}
	visit := func(p xssPage) {
		t.Helper()
		tctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		defer cancel()
		resp, err := chromedp.Run(tctx, chromedp.NavigateResponse(e.URL+p.path))
		if err == nil && resp == nil {
			err = fmt.Errorf("no response for the document")
		}
		if err != nil {
			t.Errorf("%s: %v (now at %s)", p.path, err, b.location())
			return
		}
		if want := max(p.status, http.StatusOK); resp.Status != int64(want) {
			t.Errorf("%s: status %d, want %d (the page must render to prove anything)", p.path, resp.Status, want)
		}
		checkPageHeaders(t, p, resp.Headers)
		inspect(p.path, xssInspect, p.quiet, p.want)
	}

	// Before signing in: the login page with a reflected next, and the public pages.
	for _, p := range pages {
		if p.public {
			visit(p)
		}
	}
	// The double opt-in's confirm button: the answer names the gated
	// content (a payload title) and links it.
	b.run("confirm the subscription",
		chromedp.Navigate(e.URL+"/subscribe/confirm/"+seed.ConfirmToken),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`a[href]`),
	)
	inspect("the confirmed page", xssInspect, "", []string{seed.AssetTitle})

	admin := e.A.Users[model.RoleAdmin]
	b.run("sign in",
		chromedp.Navigate(e.URL+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, admin.Email),
		chromedp.SendKeys(`#password`, apptest.Password),
		chromedp.Click(`button[type=submit]`),
		// The login page has a #content h1 too; the user menu is only there
		// once signed in.
		chromedp.WaitVisible(`details.usermenu`),
	)
	for _, p := range pages {
		if !p.public {
			visit(p)
		}
	}
	// A UI form post that fails validation shows what was typed again, and
	// the error quotes the bad value.
	badEmail := `x"><img src=x onerror=xss(93)>@`
	b.run("post a contact with a payload name and a bad email",
		chromedp.Navigate(e.URL+"/contacts/new"),
		chromedp.SetValue(`#f-email`, badEmail),
		chromedp.SetValue(`#f-first_name`, xssPayloads[0]),
		chromedp.SetValue(`#f-last_name`, xssPayloads[15]),
		chromedp.Click(`form.form button[type=submit]`),
		chromedp.WaitVisible(`#f-email-err`),
	)
	inspect("the contact form's error", xssInspect, "", []string{xssPayloads[0], xssPayloads[15], `onerror=xss(93)`})
	b.screenshot("xss-contact-form-error")

	b.run("open the contact the form and the tracker fed", chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", e.URL, seed.FormContact)))
	b.screenshot("xss-contact")
	b.run("open the first contact", chromedp.Navigate(fmt.Sprintf("%s/contacts/%d", e.URL, seed.Contact)))
	b.screenshot("xss-contact-api")

	// The copy-paste HTML form of the form page, pasted into a customer's
	// page, and the embed script rendering the same form there.
	b.run("open the form", chromedp.Navigate(fmt.Sprintf("%s/forms/%d", e.URL, seed.Form)))
	snippet, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelectorAll("pre.code code")[1].textContent`))
	if err != nil || !strings.Contains(snippet, "<form") {
		t.Fatalf("no HTML form snippet on the form page: %q %v", snippet, err)
	}
	customer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/pasted":
			fmt.Fprintf(w, "<!doctype html><html><head><title>Pasted</title></head><body>%s</body></html>", snippet)
		default:
			fmt.Fprintf(w, `<!doctype html><html><head><title>Embed</title></head><body><div data-rightsize-form="%s"></div><script src="%s/f.js" async></script></body></html>`, seed.FormKey, e.URL)
		}
	}))
	t.Cleanup(customer.Close)
	for _, path := range []string{"/pasted", "/embed"} {
		b.run("open the customer's page "+path, chromedp.Navigate(customer.URL+path))
		if path == "/embed" {
			if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector("form.rs-form label") !== null`)); err != nil {
				t.Fatalf("the embedded form did not render: %v", err)
			}
		}
		inspect("customer page "+path, xssInspectForeign, "", seed.FormLabels)
		b.screenshot("xss-customer-" + strings.TrimPrefix(path, "/"))
	}

	// Non-page routes: a logged-in client, headers only.
	client := e.Browser(t, admin.Email)
	for _, np := range nonPages {
		checkNonPage(t, client, e.URL, np)
	}

	dmu.Lock()
	for _, d := range dialogs {
		t.Errorf("a JS dialog opened: %s", d)
	}
	dmu.Unlock()
	if n := hits.Load(); n > 0 {
		hitMu.Lock()
		t.Errorf("%d payload executions reached the counter: %v", n, hitIDs)
		hitMu.Unlock()
	}
	var missing []string
	for i, pl := range xssPayloads {
		if !seen[i] {
			missing = append(missing, pl)
		}
	}
	if len(missing) > 0 {
		t.Errorf("payloads never seen rendered on any page (the ingress dropped them or no page shows them): %q", missing)
	}
	b.checkConsole()
	t.Logf("%d pages, %d non-page routes, %d payloads rendered as text; %s in all", len(pages), len(nonPages), len(seen), time.Since(start).Round(time.Millisecond))
}

// xssInspect runs in the page: what fired, what markup got in, and the text
// (with form values, where edit pages show stored text).
const xssInspect = `(function () {
  var bad = [];
  var urlAttrs = {href: 1, src: 1, action: 1, formaction: 1, "xlink:href": 1, data: 1, poster: 1, background: 1, ping: 1};
  document.querySelectorAll("*").forEach(function (el) {
    Array.prototype.forEach.call(el.attributes, function (a) {
      var n = a.name.toLowerCase();
      if (n.indexOf("on") === 0) bad.push(el.tagName + " has " + n + "=" + a.value);
      if (n === "srcdoc") bad.push(el.tagName + " has srcdoc");
      if (urlAttrs[n]) {
        var v = a.value.replace(/[\u0000-\u0020]/g, "").toLowerCase();
        if (/^(javascript:|vbscript:|data:text\/html)/.test(v)) bad.push(el.tagName + " " + n + "=" + a.value);
      }
    });
  });
  document.querySelectorAll("script").forEach(function (s) {
    if (!s.src) bad.push("inline script: " + s.textContent.slice(0, 80));
    else if (new URL(s.src).origin !== location.origin) bad.push("foreign script: " + s.src);
  });
  ["iframe", "frame", "object", "embed", "base", "applet"].forEach(function (t) {
    document.querySelectorAll(t).forEach(function () { bad.push("a <" + t + "> element"); });
  });
  document.querySelectorAll("meta[http-equiv]").forEach(function (m) {
    if (/url\s*=/i.test(m.getAttribute("content") || "")) bad.push("meta refresh to a URL: " + m.getAttribute("content"));
  });
  var text = [document.title, document.body ? document.body.innerText : ""];
  document.querySelectorAll("input, textarea").forEach(function (i) { text.push(i.value); });
  document.querySelectorAll("option, optgroup").forEach(function (o) { text.push(o.label || o.textContent); });
  return JSON.stringify({fired: window.__xss || ["(marker missing)"], bad: bad, text: text.join("\n")});
})()`

// xssInspectForeign is xssInspect for a customer's page: its one script is
// the app's f.js (another origin), which builds the embedded form.
var xssInspectForeign = strings.Replace(xssInspect,
	`else if (new URL(s.src).origin !== location.origin) bad.push("foreign script: " + s.src);`,
	`else if (!/\/f\.js$/.test(s.src)) bad.push("unexpected script: " + s.src);`, 1)

// xssPages lists the visits: every GET page of the UI (with the seeded
// records' ids) and the public HTML pages, plus reflected variants.
func xssPages(s *xssSeed) ([]xssPage, []xssNonPage) {
	q := url.QueryEscape(xssPayloads[3])
	ps := []xssPage{
		{pattern: "GET /login", path: "/login?next=" + url.QueryEscape(`javascript:xss(90)`), public: true, quiet: "the login page shows no stored text (next is checked, not shown)"},
		{pattern: "GET /forgot", path: "/forgot", public: true, quiet: "an empty form"},
		{pattern: "GET /reset", path: "/reset?token=" + url.QueryEscape(xssPayloads[3]), public: true, status: http.StatusGone, quiet: "a forged token shows a fixed message"},
		{pattern: "GET /f/{key}", path: "/f/" + s.FormKey, public: true, framable: true, want: s.FormLabels},
		{pattern: "GET /f/{key}", path: "/f/" + s.GatedKey, public: true, framable: true},
		{pattern: "GET /subscribe/confirm/{token}", path: "/subscribe/confirm/" + s.ConfirmToken, public: true, quiet: "asks to confirm; shows no stored text"},
		{pattern: "GET /subscribe/confirm/{token}", path: "/subscribe/confirm/" + url.PathEscape(`"><img src=x onerror=xss(91)>`), public: true, quiet: "a forged token is reflected only into the form action"},
		{pattern: "GET /u/{token}", path: "/u/" + s.UnsubToken, public: true, want: []string{xssPayloads[1] + "@xss.example"}},
		{pattern: "GET /u/{token}", path: "/u/" + url.PathEscape(`<svg onload=xss(92)>.x`), public: true, status: http.StatusNotFound, quiet: "a forged token shows a fixed message"},

		{pattern: "GET /{$}", path: "/"},
		{pattern: "/", path: "/nope/" + url.PathEscape(`<script>xss(94)</script>`), status: http.StatusNotFound, quiet: "the 404 page does not echo the path"},
		{pattern: "GET /accounts", path: "/accounts"},
		{pattern: "GET /accounts", path: "/accounts?q=" + q},
		{pattern: "GET /accounts/new", path: "/accounts/new", quiet: "an empty form with fixed choices"},
		{pattern: "GET /accounts/{id}", path: fmt.Sprintf("/accounts/%d", s.Account)},
		{pattern: "GET /accounts/{id}", path: fmt.Sprintf("/accounts/%d", s.Account2)},
		{pattern: "GET /accounts/{id}/edit", path: fmt.Sprintf("/accounts/%d/edit", s.Account)},
		{pattern: "GET /contacts", path: "/contacts"},
		{pattern: "GET /contacts", path: "/contacts?q=" + q},
		{pattern: "GET /contacts/new", path: "/contacts/new"},
		{pattern: "GET /contacts/{id}", path: fmt.Sprintf("/contacts/%d", s.Contact)},
		{pattern: "GET /contacts/{id}", path: fmt.Sprintf("/contacts/%d", s.Contact2)},
		{pattern: "GET /contacts/{id}", path: fmt.Sprintf("/contacts/%d", s.FormContact), want: []string{xssURLs[0], xssURLs[1], s.TrackTitle, s.FormAnswer}},
		{pattern: "GET /contacts/{id}", path: fmt.Sprintf("/contacts/%d", s.OptinContact), want: []string{s.ReplySubject}},
		{pattern: "GET /contacts/{id}/edit", path: fmt.Sprintf("/contacts/%d/edit", s.Contact)},
		{pattern: "GET /deals", path: "/deals"},
		{pattern: "GET /deals", path: "/deals?q=" + q},
		{pattern: "GET /deals/new", path: "/deals/new"},
		{pattern: "GET /deals/{id}", path: fmt.Sprintf("/deals/%d", s.Deal)},
		{pattern: "GET /deals/{id}", path: fmt.Sprintf("/deals/%d", s.LostDeal)},
		{pattern: "GET /deals/{id}/edit", path: fmt.Sprintf("/deals/%d/edit", s.Deal)},
		{pattern: "GET /pipeline", path: "/pipeline"},
		{pattern: "GET /pipeline", path: "/pipeline?pipeline=digital"},
		{pattern: "GET /forecast", path: "/forecast"},
		{pattern: "GET /customers", path: "/customers"},
		{pattern: "GET /customers/{id}", path: fmt.Sprintf("/customers/%d", s.Account)},
		{pattern: "GET /customers/{id}/success", path: fmt.Sprintf("/customers/%d/success", s.Account)},
		{pattern: "GET /desk", path: fmt.Sprintf("/desk?rep=%d", s.LDR), want: []string{s.DeskName}},
		{pattern: "GET /forms", path: "/forms"},
		{pattern: "GET /forms/new", path: "/forms/new"},
		{pattern: "GET /forms/{id}", path: fmt.Sprintf("/forms/%d", s.GatedForm)},
		{pattern: "GET /forms/{id}", path: fmt.Sprintf("/forms/%d", s.Form)},
		{pattern: "GET /forms/{id}/edit", path: fmt.Sprintf("/forms/%d/edit", s.Form)},
		{pattern: "GET /content", path: "/content", want: []string{s.AssetTitle}},
		{pattern: "GET /content/{id}/edit", path: fmt.Sprintf("/content/%d/edit", s.Asset)},
		{pattern: "GET /content/{id}/edit", path: fmt.Sprintf("/content/%d/edit", s.FileAsset)},
		{pattern: "GET /sequences", path: "/sequences"},
		{pattern: "GET /sequences/new", path: "/sequences/new", quiet: "an empty sequence form"},
		{pattern: "GET /sequences/{id}/edit", path: fmt.Sprintf("/sequences/%d/edit", s.Sequence)},
		{pattern: "GET /sequences/{id}/enrollments", path: fmt.Sprintf("/sequences/%d/enrollments", s.Sequence)},
		{pattern: "GET /imports", path: "/imports"},
		{pattern: "GET /imports/new", path: "/imports/new", quiet: "an empty upload form"},
		{pattern: "GET /imports/{id}", path: fmt.Sprintf("/imports/%d", s.Import), want: []string{s.ImportFile, s.ImportBad}},
		{pattern: "GET /settings", path: "/settings", quiet: "the hub shows fixed tiles and counts"},
		{pattern: "GET /settings/routing", path: "/settings/routing"},
		{pattern: "GET /settings/pipelines", path: "/settings/pipelines"},
		{pattern: "GET /settings/scoring", path: "/settings/scoring"},
		{pattern: "GET /settings/pools", path: "/settings/pools"},
		{pattern: "GET /settings/mail", path: "/settings/mail"},
		{pattern: "GET /settings/api-keys", path: "/settings/api-keys"},
		{pattern: "GET /settings/tracking", path: "/settings/tracking"},
		{pattern: "GET /settings/webhooks", path: "/settings/webhooks"},
		{pattern: "GET /settings/webhooks/{id}", path: fmt.Sprintf("/settings/webhooks/%d", s.Webhook), want: []string{`<script>xss(50)</script>`}},
		{pattern: "GET /settings/success", path: "/settings/success"},
		{pattern: "GET /economics", path: "/economics"},
		{pattern: "GET /economics", path: "/economics?from=" + q + "&to=" + q},
		{pattern: "GET /economics/settings", path: "/economics/settings", quiet: "numbers, and channel names limited to letters, digits, spaces and _"},
		{pattern: "GET /economics/market", path: "/economics/market", want: []string{s.MarketSource}},
		{pattern: "GET /economics/spend", path: "/economics/spend"},
		{pattern: "GET /economics/partners", path: "/economics/partners", want: []string{s.PartnerName}},
		{pattern: "GET /economics/partners/{id}", path: fmt.Sprintf("/economics/partners/%d", s.Partner), want: []string{s.PartnerName}},
		{pattern: "GET /settings/password", path: "/settings/password", quiet: "a password form"},
		{pattern: "GET /economics/people", path: "/economics/people"},
		{pattern: "GET /economics/staffing", path: "/economics/staffing"},
		{pattern: "GET /success", path: "/success"},
	}
	nps := []xssNonPage{
		{pattern: "GET /static/{file}", path: "/static/app.js"},
		{pattern: "GET /imports/{id}/errors.csv", path: fmt.Sprintf("/imports/%d/errors.csv", s.Import), attachment: true},
		{pattern: "GET /content/{id}/file", path: fmt.Sprintf("/content/%d/file", s.FileAsset), attachment: true},
		{pattern: "GET /f.js", path: "/f.js"},
		{pattern: "GET /f/{key}/fields", path: "/f/" + s.FormKey + "/fields"},
		{pattern: "GET /d/{token}", path: strings.TrimPrefix(s.DownloadURL, baseOf(s.DownloadURL)), attachment: true},
		{pattern: "GET /o/{token}", path: "/o/forged-token"},
		{pattern: "GET /c/{token}", path: "/c/forged-token"},
	}
	return ps, nps
}

func baseOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// getPatterns lists the GET route patterns of the UI (its route table,
// web.UI.Routes) and of the public HTML surfaces (read from their source: every
// pattern there is a string literal "GET /…"), and checks each against a mux
// they really registered on, so a stale string cannot pass for a route.
func getPatterns(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`"(GET /[^"]*)"`)
	var files []string
	for _, glob := range []string{"../internal/forms/http.go", "../internal/forms/content.go", "../internal/mail/*.go"} {
		fs, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	set := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			set[m[1]] = true
		}
	}
	ui := web.New(web.Deps{})
	for _, rt := range ui.Routes() {
		if rt.Method == "GET" {
			set["GET "+rt.Pattern] = true
		}
	}
	mux := http.NewServeMux()
	ui.Register(mux)
	(&forms.Public{}).Register(mux)
	(&mail.Service{}).Register(mux)
	var out []string
	for p := range set {
		if got := matchPattern(mux, "GET", samplePath(strings.TrimPrefix(p, "GET "))); got != p {
			t.Errorf("%q appears in the source but the mux routes it to %q", p, got)
		}
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) < 40 {
		t.Fatalf("found only %d GET routes in the source (%v): the route table changed shape; update getPatterns", len(out), out)
	}
	return out
}

func samplePath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(p, "1")
}

func matchPattern(mux *http.ServeMux, method, path string) string {
	req := httptest.NewRequest(method, path, nil)
	_, pat := mux.Handler(req)
	return pat
}

// checkRouteCoverage fails for a GET route no visit covers, and for a visit
// whose path the mux does not route to the pattern it claims.
func checkRouteCoverage(t *testing.T, pages []xssPage, nonPages []xssNonPage) {
	t.Helper()
	mux := http.NewServeMux()
	web.New(web.Deps{}).Register(mux)
	(&forms.Public{}).Register(mux)
	(&mail.Service{}).Register(mux)
	covered := map[string]bool{}
	claim := func(pattern, path string) {
		u, err := url.Parse(path)
		if err != nil {
			t.Errorf("visit %s: %v", path, err)
			return
		}
		if got := matchPattern(mux, "GET", u.EscapedPath()); got != pattern {
			t.Errorf("visit %s is routed to %q, not %q", path, got, pattern)
		}
		covered[pattern] = true
	}
	for _, p := range pages {
		claim(p.pattern, p.path)
	}
	for _, p := range nonPages {
		claim(p.pattern, p.path)
	}
	for _, p := range getPatterns(t) {
		if !covered[p] {
			t.Errorf("GET route %s is not visited by TestStoredXSS: add it to xssPages (a page) or the non-page list", p)
		}
	}
}

// header reads a response header from Chromium's map, whatever its case.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// cspDirectives parses a policy into directive → sources.
func cspDirectives(policy string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[strings.ToLower(f[0])] = f[1:]
		}
	}
	return out
}

// checkPageHeaders: the policy for every HTML page. script-src (or
// default-src without it) never allows inline or eval'd script or any host;
// nosniff; the page cannot be framed (frame-ancestors 'none', and
// X-Frame-Options DENY when sent), except the hosted form, which customers'
// sites may frame.
func checkPageHeaders(t *testing.T, p xssPage, h network.Headers) {
	t.Helper()
	csp := header(h, "Content-Security-Policy")
	if csp == "" {
		t.Errorf("%s: no Content-Security-Policy", p.path)
		return
	}
	d := cspDirectives(csp)
	src, ok := d["script-src"]
	if !ok {
		src, ok = d["default-src"]
	}
	if !ok {
		t.Errorf("%s: CSP %q restricts no script (no script-src or default-src)", p.path, csp)
	}
	for _, s := range src {
		switch strings.ToLower(s) {
		case "'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:", "'unsafe-hashes'", "blob:":
			t.Errorf("%s: script-src allows %s (CSP %q)", p.path, s, csp)
		}
	}
	if ba, ok := d["base-uri"]; !ok || strings.Join(ba, " ") != "'none'" && strings.Join(ba, " ") != "'self'" {
		t.Errorf("%s: CSP %q lacks base-uri 'none'", p.path, csp)
	}
	if v := header(h, "X-Content-Type-Options"); !strings.EqualFold(v, "nosniff") {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", p.path, v)
	}
	fa := strings.Join(d["frame-ancestors"], " ")
	if !p.framable && fa != "'none'" {
		t.Errorf("%s: frame-ancestors %q, want 'none' (CSP %q)", p.path, fa, csp)
	}
	if xfo := header(h, "X-Frame-Options"); xfo != "" && !strings.EqualFold(xfo, "DENY") && !p.framable {
		t.Errorf("%s: X-Frame-Options %q, want DENY", p.path, xfo)
	}
	if p.framable && fa == "" {
		t.Errorf("%s: a framable page names no frame-ancestors (CSP %q)", p.path, csp)
	}
}

// checkNonPage fetches a route that is not a page: never a 5xx, always
// nosniff; user files and error reports are downloads that cannot run in our
// origin (attachment, and no script if a browser renders them anyway).
func checkNonPage(t *testing.T, c *http.Client, base string, np xssNonPage) {
	t.Helper()
	res, err := c.Get(base + np.path)
	if err != nil {
		t.Errorf("%s: %v", np.path, err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 {
		t.Errorf("%s: status %d", np.path, res.StatusCode)
	}
	if v := res.Header.Get("X-Content-Type-Options"); !strings.EqualFold(v, "nosniff") {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", np.path, v)
	}
	if !np.attachment {
		return
	}
	if res.StatusCode != http.StatusOK {
		t.Errorf("%s: status %d, want the download", np.path, res.StatusCode)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("%s: Content-Disposition %q, want attachment", np.path, cd)
	}
	ct := strings.ToLower(res.Header.Get("Content-Type"))
	csp := cspDirectives(res.Header.Get("Content-Security-Policy"))
	_, sandboxed := csp["sandbox"]
	if strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.Contains(ct, "xml") {
		if !sandboxed {
			t.Errorf("%s: %s served without CSP sandbox", np.path, ct)
		}
	}
}
