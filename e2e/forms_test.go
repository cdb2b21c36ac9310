package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/tracking"
)

// TestEmbeddedForm puts a trial-request form on a customer's page (another
// origin), submits it empty (the error shows next to the field), then filled
// in: the contact arrives with the page's UTM campaign as an opportunity with
// a deal in the digital pipeline.
func TestEmbeddedForm(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			var key string
			site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html><head><title>Bakery software</title></head><body style="font-family:sans-serif;max-width:40rem;margin:2rem auto">
<h1>Start your free trial</h1><div data-rightsize-form="%s"></div><script src="%s/f.js" async></script></body></html>`, key, e.URL)
			}))
			defer site.Close()
			f, err := e.App.Forms.CreateForm(ctx, model.Actor{Workspace: e.A.ID, Label: "seed"}, model.Form{Name: "Free trial", Kind: "trial_request",
				Fields: []model.FormField{{Field: "first_name", Label: "First name", Required: true}}, AllowedOrigins: []string{site.URL},
				ConsentText: "Email me onboarding tips.", ConsentVersion: "2026-11"})
			if err != nil {
				t.Fatal(err)
			}
			key = f.Key
			b.run("open the customer's page",
				chromedp.Navigate(site.URL+"/?utm_source=google&utm_campaign=spring"),
				chromedp.WaitVisible(`form.rs-form input[name=email]`),
			)
			b.run("submit without a name",
				chromedp.SendKeys(`form.rs-form input[name=email]`, "olga@bakery.example"),
				chromedp.Click(`form.rs-form input[name=consent]`),
				chromedp.Click(`form.rs-form button[type=submit]`),
				chromedp.WaitVisible(`form.rs-form .rs-error:not(:empty)`),
			)
			mustContain(t, "field error", b.text(`form.rs-form .rs-error:not(:empty)`), "is required")
			b.screenshot(string(kind) + "-form-embed-error")
			b.run("submit filled in",
				chromedp.SendKeys(`form.rs-form input[name=first_name]`, "Olga"),
				chromedp.Click(`form.rs-form button[type=submit]`),
			)
			// The form is replaced by the answer (a node chromedp's DOM tracking
			// may not see), so poll the page itself.
			if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('.rs-done') !== null`)); err != nil {
				t.Fatalf("no answer after submitting: %v", err)
			}
			mustContain(t, "thanks", b.text(`.rs-done`), "trial request is in")
			b.screenshot(string(kind) + "-form-embed-done")
			c, err := e.App.St.Read().ContactByEmail(ctx, e.A.ID, "olga@bakery.example")
			if err != nil || c.FirstName != "Olga" || c.UTMCampaign != "spring" || c.LifecycleStage != "opportunity" || c.ConsentAt == nil {
				t.Fatalf("contact %+v %v", c, err)
			}
			deals, err := e.App.St.Read().ListDeals(ctx, e.A.ID, store.ListParams{Limit: 5}, nil)
			if err != nil || len(deals.Items) != 1 || deals.Items[0].Pipeline != "digital" || deals.Items[0].Stage != "trial" {
				t.Fatalf("deals %+v %v", deals.Items, err)
			}
			b.checkConsole()
		})
	}
}

// TestTrackThenSubmit is the digital motion's first touch end to end: the
// tracking script on a customer's page records a page view for an anonymous
// visitor; the visitor then submits the embedded form, which stitches the page
// view to the new contact; the contact's timeline in Rightsize shows both.
func TestTrackThenSubmit(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			act := model.Actor{Workspace: e.A.ID, Label: "seed"}
			var siteKey, formKey string
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<!doctype html><html><head><title>Pricing for bakeries</title>
<script>window.rightsize = window.rightsize || function () { (window.rightsize.q = window.rightsize.q || []).push(arguments) };</script>
<script src="%[1]s/t.js" data-site="%[2]s" async></script></head>
<body style="font-family:sans-serif;max-width:40rem;margin:2rem auto"><h1>Pricing</h1><p>Plans from $29 a month.</p>
<h2>Get the pricing guide</h2><div data-rightsize-form="%[3]s"></div><script src="%[1]s/f.js" async></script></body></html>`, e.URL, siteKey, formKey)
			}))
			defer page.Close()
			name, origins, mode := "Marketing site", []string{page.URL}, tracking.ConsentNone
			site, err := e.App.Tracking.CreateSite(ctx, act, tracking.SiteInput{Name: &name, AllowedOrigins: &origins, ConsentMode: &mode})
			if err != nil {
				t.Fatal(err)
			}
			siteKey = site.PublicKey
			f, err := e.App.Forms.CreateForm(ctx, act, model.Form{Name: "Pricing guide", Kind: "signup", AllowedOrigins: []string{page.URL},
				Fields: []model.FormField{{Field: "first_name", Label: "First name"}}})
			if err != nil {
				t.Fatal(err)
			}
			formKey = f.Key
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
			b.run("visit the pricing page",
				chromedp.Navigate(page.URL+"/pricing?utm_campaign=spring"),
				chromedp.Poll[chromedp.Void](`window.__rightsize === 1`),
				chromedp.Evaluate[chromedp.Void](`rightsize('flush')`),
			)
			if st := wait202(t, b, accepted); st != http.StatusAccepted {
				t.Fatalf("/t/e answered %d", st)
			}
			b.run("submit the form",
				chromedp.WaitVisible(`form.rs-form input[name=email]`),
				chromedp.SendKeys(`form.rs-form input[name=email]`, "baker@crumbs.example"),
				chromedp.SendKeys(`form.rs-form input[name=first_name]`, "Bea"),
				chromedp.Click(`form.rs-form button[type=submit]`),
			)
			if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.querySelector('.rs-done') !== null`)); err != nil {
				t.Fatalf("no answer after submitting: %v", err)
			}
			c, err := e.App.St.Read().ContactByEmail(ctx, e.A.ID, "baker@crumbs.example")
			if err != nil {
				t.Fatal(err)
			}
			evs, err := e.App.St.Read().ContactWebEvents(ctx, e.A.ID, c.ID, 10)
			if err != nil || len(evs) != 1 || evs[0].Kind != "page_view" || evs[0].Title != "Pricing for bakeries" {
				t.Fatalf("the page view was not stitched to the contact: %+v %v", evs, err)
			}

			// The contact's timeline in Rightsize shows the visit and the form.
			b.run("sign in and open the contact",
				chromedp.Navigate(e.URL+fmt.Sprintf("/login?next=%%2Fcontacts%%2F%d", c.ID)),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, e.A.Users[model.RoleAdmin].Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`.record-main`), // the contact page (the login page has none)
			)
			body := b.text(`main`)
			mustContain(t, "contact timeline", body, "Pricing for bakeries", "Pricing guide")
			b.screenshot(string(kind) + "-contact-timeline-web")
			b.checkConsole()
		})
	}
}
