package mail_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

const (
	pricingURL = "https://acme.example/pricing?plan=pro&seats=5"
	docsURL    = "http://docs.example/start"
	humanUA    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)

// linkTemplate has two trackable links, a mailto, the unsubscribe link in the
// body and an unquoted href.
const linkTemplate = `<p>Hi {{.Contact.FirstName}},</p>
<p><a class="btn" href="https://acme.example/pricing?plan=pro&seats=5">See pricing</a>
or <A HREF='http://docs.example/start' target=_blank>read the docs</A>.</p>
<p><a href="mailto:sales@acme.example">Write to us</a> · <a href="{{.UnsubscribeURL}}">stop these</a> · <a href="https://crm.test/f/confirm?t=1">confirm</a></p>`

// engageFixture: one delivered tracked send in workspace A, scoring wired in.
func engageFixture(t *testing.T, st *store.Store, track bool) (*fixture, store.Send, string, *http.ServeMux) {
	t.Helper()
	ctx := context.Background()
	f := setup(t, st, 2)
	err := st.InTx(ctx, func(q store.Q) error {
		tm := store.MailTemplate{Name: "links", Subject: "Links", HTML: linkTemplate}
		if err := q.SaveMailTemplate(ctx, f.ws, &tm); err != nil {
			return err
		}
		f.tmpl = tm.ID
		snd, err := q.GetMailSender(ctx, f.ws)
		if err != nil {
			return err
		}
		snd.TrackOff = !track
		return q.SaveMailSender(ctx, f.ws, &snd)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Scoring = &scoring.Service{St: st, Now: func() time.Time { return f.now }}
	sends := f.plan(t, 0)
	if got := f.drain(t); got.Accepted != 1 {
		t.Fatalf("stats %+v", got)
	}
	msgs := f.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	_, html := parts(t, msgs[0].Raw)
	mux := http.NewServeMux()
	f.svc.Register(mux)
	return f, sends[0], html, mux
}

var (
	hrefRE  = regexp.MustCompile(`(?i)href=["']([^"']*)["']`)
	pixelRE = regexp.MustCompile(`<img src="(https://crm\.test/o/[^"]+)" width="1" height="1"`)
)

func hrefs(html string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(html, -1) {
		out = append(out, m[1])
	}
	return out
}

func get(mux *http.ServeMux, rawURL, ua string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", strings.TrimPrefix(rawURL, "https://crm.test"), nil)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func events(t *testing.T, st *store.Store, ws, send int64) []store.MailEvent {
	t.Helper()
	es, err := st.Read().ListMailEvents(context.Background(), ws, send)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// scored counts the contact's engagement events of kind (lead scoring's rows).
func scored(t *testing.T, f *fixture, contact int64, kind string) int {
	t.Helper()
	es, err := f.st.Read().RecentEngagementEvents(context.Background(), f.ws, contact, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func signals(t *testing.T, f *fixture, s store.Send) (opened, clicked bool) {
	t.Helper()
	ctx := context.Background()
	var err error
	if opened, err = f.svc.Opened(ctx, f.st.Read(), f.ws, *s.EnrollmentID, *s.StepID); err != nil {
		t.Fatal(err)
	}
	if clicked, err = f.svc.Clicked(ctx, f.st.Read(), f.ws, *s.EnrollmentID, *s.StepID); err != nil {
		t.Fatal(err)
	}
	return opened, clicked
}

// The whole path: a delivered message has rewritten links and a pixel; machine
// events (within 10 s of delivery, scanner agents) are tagged and never score
// nor count as signals; the first human open and the first human click per URL
// score once; clicks redirect to the URL that was in the message.
func TestEngagementTracking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, snd, html, mux := engageFixture(t, st, true)
		contact := snd.ContactID

		links := hrefs(html)
		var clicks []string
		for _, h := range links {
			if strings.HasPrefix(h, "https://crm.test/c/") {
				clicks = append(clicks, h)
			}
		}
		if len(clicks) != 2 {
			t.Fatalf("want 2 tracked links, got hrefs %q", links)
		}
		for _, keep := range []string{"mailto:sales@acme.example", "https://crm.test/f/confirm?t=1"} {
			if !contains(links, keep) {
				t.Fatalf("%s rewritten: %q", keep, links)
			}
		}
		unsubs := 0
		for _, h := range links {
			if strings.HasPrefix(h, "https://crm.test/u/") {
				unsubs++
			}
		}
		if unsubs != 2 { // the body's own link and the footer's
			t.Fatalf("unsubscribe links %d in %q", unsubs, links)
		}
		if strings.Contains(html, "acme.example/pricing") || strings.Contains(html, "docs.example") {
			t.Fatalf("original URL left in the HTML:\n%s", html)
		}
		pm := pixelRE.FindStringSubmatch(html)
		if pm == nil {
			t.Fatalf("no open pixel:\n%s", html)
		}
		pixel := pm[1]

		// Within 10 s of delivery, a browser agent: machine (a gateway prefetch).
		rec := get(mux, clicks[0], humanUA)
		// A machine click gets the plain URL: a scanner must not tie its own
		// visitor id to the contact.
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != pricingURL || rec.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("click: %d %v", rec.Code, rec.Header())
		}
		rec = get(mux, pixel, humanUA)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/gif" || !strings.Contains(rec.Header().Get("Cache-Control"), "no-store") || !strings.HasPrefix(rec.Body.String(), "GIF89a") {
			t.Fatalf("pixel: %d %v", rec.Code, rec.Header())
		}
		// Later, scanner agents: machine too.
		f.now = f.now.Add(time.Minute)
		for _, ua := range []string{"Mozilla/5.0 (compatible; Proofpoint URL Defense)", "python-requests/2.32", "Mozilla/5.0 HeadlessChrome/126.0", ""} {
			if rec := get(mux, clicks[1], ua); rec.Code != http.StatusFound || rec.Header().Get("Location") != docsURL {
				t.Fatalf("scanner click %q: %d %v", ua, rec.Code, rec.Header())
			}
			get(mux, pixel, ua)
		}
		es := events(t, st, f.ws, snd.ID)
		if len(es) != 10 {
			t.Fatalf("%d events, want 10", len(es))
		}
		for i, e := range es {
			if !e.Machine || e.Scored || e.Reason == "" || e.ContactID != contact || e.EnrollmentID == nil || *e.EnrollmentID != *snd.EnrollmentID {
				t.Fatalf("event %d: %+v", i, e)
			}
		}
		if !strings.Contains(es[0].Reason, "within 10s") || es[0].Kind != store.MailClick || es[0].URL != pricingURL || es[1].Kind != store.MailOpen {
			t.Fatalf("first events %+v %+v", es[0], es[1])
		}
		if !strings.Contains(es[2].Reason, "proofpoint") || !strings.Contains(es[4].Reason, "python-requests") {
			t.Fatalf("scanner reasons %q %q", es[2].Reason, es[4].Reason)
		}
		if n := scored(t, f, contact, "email_open") + scored(t, f, contact, "email_click"); n != 0 {
			t.Fatalf("machine events scored %d times", n)
		}
		if o, c := signals(t, f, snd); o || c {
			t.Fatalf("machine events count as signals: opened %v clicked %v", o, c)
		}

		// A person opens twice: scored once.
		get(mux, pixel, humanUA)
		get(mux, pixel, humanUA)
		if n := scored(t, f, contact, "email_open"); n != 1 {
			t.Fatalf("email_open scored %d times", n)
		}
		if o, c := signals(t, f, snd); !o || c {
			t.Fatalf("after open: opened %v clicked %v", o, c)
		}
		// Clicks: once per URL.
		get(mux, clicks[0], humanUA)
		get(mux, clicks[0], humanUA)
		get(mux, clicks[1], humanUA)
		if n := scored(t, f, contact, "email_click"); n != 2 {
			t.Fatalf("email_click scored %d times", n)
		}
		if o, c := signals(t, f, snd); !o || !c {
			t.Fatalf("after click: opened %v clicked %v", o, c)
		}
		es = events(t, st, f.ws, snd.ID)
		nScored := 0
		for _, e := range es[10:] {
			if e.Machine {
				t.Fatalf("human event tagged machine: %+v", e)
			}
			if e.Scored {
				nScored++
			}
		}
		if len(es) != 15 || nScored != 3 {
			t.Fatalf("%d events, %d scored", len(es), nScored)
		}
		// Another enrollment's step has no signals.
		ctx := context.Background()
		if o, err := f.svc.Opened(ctx, st.Read(), f.ws, *snd.EnrollmentID+1, *snd.StepID); err != nil || o {
			t.Fatalf("other enrollment opened %v %v", o, err)
		}
		if o, err := f.svc.Opened(ctx, st.Read(), f.ws2, *snd.EnrollmentID, *snd.StepID); err != nil || o {
			t.Fatalf("workspace B sees A's open: %v %v", o, err)
		}
	})
}

// Tampered tokens answer 404 with no redirect and record nothing; a token
// signed for workspace B never records into A (nor B).
func TestEngagementTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, snd, html, mux := engageFixture(t, st, true)
		f.now = f.now.Add(time.Minute)
		var click string
		for _, h := range hrefs(html) {
			if strings.HasPrefix(h, "https://crm.test/c/") {
				click = h
				break
			}
		}
		tok := strings.TrimPrefix(click, "https://crm.test/c/")
		payload, sig, _ := strings.Cut(tok, ".")
		evil := b64(`e1|c|` + itoa(f.ws) + `|` + itoa(snd.ID) + `|https://evil.example/`)
		flip := func(s string) string {
			b := []byte(s)
			if b[3] == 'A' {
				b[3] = 'B'
			} else {
				b[3] = 'A'
			}
			return string(b)
		}
		other, err := mail.New(context.Background(), st, mail.Options{BaseURL: "https://crm.test", Secret: "another install"})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{
			"/c/" + evil + "." + sig,          // another URL under the real signature
			"/c/" + payload + "." + flip(sig), // signature changed
			"/c/" + flip(payload) + "." + sig, // payload changed
			"/c/" + payload,                   // no signature
			strings.TrimPrefix(other.ClickURL(f.ws, snd.ID, "https://evil.example/"), "https://crm.test"),         // another secret
			strings.Replace(strings.TrimPrefix(f.svc.OpenURL(f.ws, snd.ID), "https://crm.test"), "/o/", "/c/", 1), // an open token as a click
			"/o/" + tok, // a click token as an open
			"/o/%00",
		} {
			rec := get(mux, bad, humanUA)
			if rec.Code != http.StatusNotFound || rec.Header().Get("Location") != "" {
				t.Fatalf("%s: %d %v", bad, rec.Code, rec.Header())
			}
		}
		// An unsubscribe token does not verify as an engagement token.
		_, unsubTok := f.svc.UnsubscribeURL(f.ws, snd.ContactID, snd.ToEmail)
		if rec := get(mux, "/o/"+unsubTok, humanUA); rec.Code != http.StatusNotFound {
			t.Fatalf("unsubscribe token as pixel: %d", rec.Code)
		}
		if es := events(t, st, f.ws, snd.ID); len(es) != 0 {
			t.Fatalf("tampered tokens recorded %+v", es)
		}

		// Validly signed for workspace B with A's send id: the redirect works (it
		// is B's own signed URL) but nothing is recorded anywhere.
		if rec := get(mux, f.svc.ClickURL(f.ws2, snd.ID, docsURL), humanUA); rec.Code != http.StatusFound || rec.Header().Get("Location") != docsURL {
			t.Fatalf("B click: %d %v", rec.Code, rec.Header())
		}
		if rec := get(mux, f.svc.OpenURL(f.ws2, snd.ID), humanUA); rec.Code != http.StatusOK {
			t.Fatalf("B pixel: %d", rec.Code)
		}
		if a, b := events(t, st, f.ws, snd.ID), events(t, st, f.ws2, snd.ID); len(a)+len(b) != 0 {
			t.Fatalf("cross-workspace token recorded: A %+v B %+v", a, b)
		}
		if o, c := signals(t, f, snd); o || c {
			t.Fatalf("signals after foreign tokens: %v %v", o, c)
		}
		// The real token records into A, and redirects to the URL of the
		// message with a token that identifies the clicking contact.
		rec := get(mux, click, humanUA)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusFound || !strings.HasPrefix(loc, pricingURL+"&"+mail.IdentifyParam+"=") {
			t.Fatalf("real click %d %v", rec.Code, rec.Header())
		}
		tok, _ = url.QueryUnescape(strings.TrimPrefix(loc, pricingURL+"&"+mail.IdentifyParam+"="))
		if ws, contact, err := f.svc.VerifyIdentify(tok); err != nil || ws != f.ws || contact != snd.ContactID {
			t.Fatalf("identify token %q: ws %d contact %d %v", tok, ws, contact, err)
		}
		if _, _, err := f.svc.VerifyIdentify(tok[:len(tok)-2] + "AA"); err == nil {
			t.Fatal("a tampered identify token verified")
		}
		if es := events(t, st, f.ws, snd.ID); len(es) != 1 || es[0].Machine || !es[0].Scored {
			t.Fatalf("real click recorded %+v", es)
		}
	})
}

// The switch off: no pixel, links untouched, nothing to record.
func TestEngagementSwitchOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		_, _, html, _ := engageFixture(t, st, false)
		if strings.Contains(html, "https://crm.test/c/") || strings.Contains(html, "https://crm.test/o/") || strings.Contains(html, "<img") {
			t.Fatalf("tracking with the switch off:\n%s", html)
		}
		links := hrefs(html)
		if !contains(links, pricingURL) || !contains(links, docsURL) {
			t.Fatalf("links changed: %q", links)
		}
	})
}

func TestRewriteLinks(t *testing.T) {
	mark := func(dst []byte, u string) ([]byte, bool) {
		if strings.HasPrefix(u, "http") {
			return append(dst, "T["+u+"]"...), true
		}
		return dst, false
	}
	for _, c := range []struct{ in, want string }{
		{`<a href="https://x.example/?a=1&amp;b=2">x</a>`, `<a href="T[https://x.example/?a=1&b=2]">x</a>`},
		{`<A class=b HREF = 'http://y.example' >y</A>`, `<A class=b HREF = "T[http://y.example]" >y</A>`},
		{`<a href=https://z.example/p>z</a>`, `<a href="T[https://z.example/p]">z</a>`},
		{`<a data-href="https://no.example" title="href=https://no.example">n</a>`, `<a data-href="https://no.example" title="href=https://no.example">n</a>`},
		{`<abbr href="https://no.example">n</abbr><img src="https://no.example/i.png">`, `<abbr href="https://no.example">n</abbr><img src="https://no.example/i.png">`},
		{`<a href="mailto:a@b.example">m</a><a href="  https://t.example  ">t</a>`, `<a href="mailto:a@b.example">m</a><a href="T[https://t.example]">t</a>`},
		{`<a href="https://unterminated`, `<a href="https://unterminated`},
		{`<a `, `<a `},
		{`<a/href="https://s.example">`, `<a/href="https://s.example">`},
		{`<a hidden href="https://h.example">`, `<a hidden href="T[https://h.example]">`},
	} {
		if got := string(mail.RewriteLinks([]byte(c.in), mark)); got != c.want {
			t.Errorf("RewriteLinks(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestClassifyTokensRoundTrip(t *testing.T) {
	svc := &mail.Service{BaseURL: "https://crm.test", Secret: []byte("k")}
	tok := strings.TrimPrefix(svc.ClickURL(3, 9, "https://a.example/x|y"), "https://crm.test/c/")
	got, err := mail.VerifyEngage(svc.Secret, tok)
	if err != nil || got != (mail.EngageToken{Kind: store.MailClick, Workspace: 3, Send: 9, URL: "https://a.example/x|y"}) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := mail.VerifyEngage([]byte("other"), tok); err == nil {
		t.Fatal("verified with another secret")
	}
	// A click token for a non-http URL is refused even when signed (javascript:).
	if _, err := mail.VerifyEngage(svc.Secret, strings.TrimPrefix(svc.ClickURL(3, 9, "javascript:alert(1)"), "https://crm.test/c/")); err == nil {
		t.Fatal("javascript: URL verified")
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
