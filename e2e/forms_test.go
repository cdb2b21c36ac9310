package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
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
