package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// TestTrackingScript loads /t.js into a page of another origin in Chromium: the
// page view, a content view and a custom event arrive through sendBeacon and are
// stored under the rs_vid cookie; stitching the visitor puts them on a contact.
// A consent-required site sets no cookie until the page grants consent.
// Commits are observed as the 202 answers to /t/e in the browser's network
// events (the endpoint answers only after the commit).
func TestTrackingScript(t *testing.T) {
	b := newBrowser(t)
	e := apptest.New(t, store.SQLite)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Pricing plans</title>
<script>window.rightsize = window.rightsize || function () { (window.rightsize.q = window.rightsize.q || []).push(arguments) };</script>
<script src="%s/t.js" data-site="%s"%s async></script></head><body><h1>Pricing</h1></body></html>`,
			e.URL, r.URL.Query().Get("site"), map[bool]string{true: ` data-consent="required"`}[r.URL.Query().Get("consent") == "1"])
	}))
	t.Cleanup(page.Close)
	mkSite := func(mode string) store.TrackingSite {
		name, origins := "Site "+mode, []string{page.URL}
		s, err := e.App.Tracking.CreateSite(context.Background(), model.Actor{Workspace: e.A.ID, Label: "test"}, tracking.SiteInput{Name: &name, AllowedOrigins: &origins, ConsentMode: &mode})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	accepted := make(chan int64, 16)
	if err := chromedp.Listen(b.ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && strings.HasSuffix(r.Response.URL, tracking.IngestPath) {
			select {
			case accepted <- r.Response.Status:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}

	site := mkSite(tracking.ConsentNone)
	b.run("open the page and send events",
		chromedp.Navigate(page.URL+"/pricing?utm_source=newsletter&site="+site.PublicKey),
		chromedp.Poll[chromedp.Void](`window.__rightsize === 1`),
		chromedp.Evaluate[chromedp.Void](`rightsize('content', 'ebook-7'); rightsize('track', 'demo_requested', {plan: 'pro'}); rightsize('flush')`),
	)
	if st := wait202(t, b, accepted); st != http.StatusAccepted {
		t.Fatalf("/t/e answered %d", st)
	}
	vid, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.cookie.match(/rs_vid=([^;]+)/) || [])[1] || ""`))
	if err != nil || len(vid) < 8 {
		t.Fatalf("rs_vid cookie %q: %v", vid, err)
	}
	evs, err := e.App.St.Read().VisitorWebEvents(context.Background(), e.A.ID, vid, 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("visitor %s events: %+v %v", vid, evs, err)
	}
	kinds := evs[0].Kind + "," + evs[1].Kind + "," + evs[2].Kind
	if kinds != "page_view,content_view,custom" || evs[0].Title != "Pricing plans" || !strings.Contains(evs[0].URL, "/pricing?utm_source=newsletter") ||
		!strings.Contains(evs[0].Props, `"utm_source":"newsletter"`) || evs[1].Name != "ebook-7" || evs[2].Name != "demo_requested" {
		t.Fatalf("events: %+v", evs)
	}
	contact, err := e.App.CRM.CreateContact(context.Background(), model.Actor{Workspace: e.A.ID, Label: "test"}, map[string]any{"email": "beacon@web.example", "lifecycle_stage": "lead"})
	if err != nil {
		t.Fatal(err)
	}
	err = e.App.St.InTx(context.Background(), func(q store.Q) error {
		res, err := e.App.Tracking.Stitch(context.Background(), q, e.A.ID, vid, contact.ID)
		if err == nil && (res.Attached != 3 || res.Scored != 2) {
			err = fmt.Errorf("stitch %+v, want 3 attached and 2 scored (pricing page, content)", res)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Consent required: no cookie until consent, then the queued page view goes.
	cs := mkSite(tracking.ConsentRequired)
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.run("open the consent page",
		chromedp.Navigate(page.URL+"/?consent=1&site="+cs.PublicKey),
		chromedp.Poll[chromedp.Void](`window.__rightsize === 1`),
		chromedp.Evaluate[chromedp.Void](`rightsize('flush')`),
	)
	if c, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie`)); err != nil || strings.Contains(c, "rs_vid") {
		t.Fatalf("cookie before consent: %q %v", c, err)
	}
	b.run("grant consent", chromedp.Evaluate[chromedp.Void](`rightsize('consent', true)`))
	if st := wait202(t, b, accepted); st != http.StatusAccepted {
		t.Fatalf("/t/e after consent answered %d", st)
	}
	vid2, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.cookie.match(/rs_vid=([^;]+)/) || [])[1] || ""`))
	if err != nil || vid2 == "" {
		t.Fatalf("no cookie after consent: %v", err)
	}
	if evs, err := e.App.St.Read().VisitorWebEvents(context.Background(), e.A.ID, vid2, 10); err != nil || len(evs) != 1 {
		t.Fatalf("consented page view: %+v %v", evs, err)
	}
	b.checkConsole()
}

// wait202 waits for the next /t/e answer seen by the browser, within the test's
// browser deadline.
func wait202(t *testing.T, b *browser, accepted <-chan int64) int64 {
	t.Helper()
	select {
	case st := <-accepted:
		return st
	case <-b.ctx.Done():
		t.Fatal("no answer from /t/e before the browser deadline")
		return 0
	}
}
