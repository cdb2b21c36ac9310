package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestWebhooksSettings: an admin adds an endpoint from the settings hub
// (ticking two events), copies the secret shown once, sends a test event,
// sees a contact's event in the delivery log with the receiver's answer
// (escaped), redelivers it, and, after a restore paused sending, resumes it
// from the banner.
func TestWebhooksSettings(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			ctx := context.Background()
			e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"received":true,"note":"<img src=x onerror=alert(1)>"}`)
			}))
			defer srv.Close()
			admin := e.A.Users[model.RoleAdmin]
			b.run("sign in and open the webhooks settings",
				chromedp.Navigate(e.URL+"/login?next=%2Fsettings"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, admin.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`a.tile[href="/settings/webhooks"]`),
				chromedp.Click(`a.tile[href="/settings/webhooks"]`),
				chromedp.WaitVisible(`#wh-url`),
			)
			b.run("a metadata address is refused next to the URL",
				chromedp.SendKeys(`#wh-url`, "http://169.254.169.254/latest/meta-data"),
				chromedp.Click(`form[action="/settings/webhooks"] button.btn-primary`),
				chromedp.WaitVisible(`#wh-url-err`),
			)
			mustContain(t, "url error", b.text(`#wh-url-err`), "cloud metadata address")
			b.run("add the endpoint",
				chromedp.SetValue(`#wh-url`, srv.URL+"/rightsize"),
				chromedp.SendKeys(`#wh-description`, "Data warehouse"),
				chromedp.Click(`input[name=event_types][value="contact.created"]`),
				chromedp.Click(`input[name=event_types][value="deal.won"]`),
				chromedp.Click(`form[action="/settings/webhooks"] button.btn-primary`),
				chromedp.WaitVisible(`#new-secret`),
			)
			if v := b.value(`#new-secret`); !strings.HasPrefix(v, "whsec_") {
				t.Fatalf("secret field shows %q", v)
			}
			b.screenshot("webhooks-created-" + string(kind))
			es, err := e.App.Webhooks.List(ctx, e.A.ID)
			if err != nil || len(es) != 1 || strings.Join(es[0].EventTypes, ",") != "contact.created,deal.won" {
				t.Fatalf("endpoints %+v %v", es, err)
			}
			b.run("open the endpoint and send a test event",
				chromedp.Click(`a[href="/settings/webhooks/`+fmt.Sprint(es[0].ID)+`"]`),
				chromedp.WaitVisible(`#send-test`),
				chromedp.Click(`#send-test`),
				chromedp.WaitVisible(`#test-result`),
			)
			mustContain(t, "test result", b.text(`#test-result`), "Succeeded", "HTTP 200", `"received":true`)
			if hits.Load() != 1 {
				t.Fatalf("receiver hits %d", hits.Load())
			}
			// A contact created elsewhere reaches the endpoint through the
			// outbox and a drain job.
			if _, err := e.App.CRM.CreateContact(ctx, model.Actor{Workspace: e.A.ID, Label: "seed", Role: model.RoleAdmin}, crm.Fields{"email": "dana@initech.example"}); err != nil {
				t.Fatal(err)
			}
			e.WaitUntil(t, "webhook_drain", func() bool {
				ds, _ := e.App.Webhooks.Deliveries(ctx, e.A.ID, es[0].ID, 10)
				return len(ds) == 2 && ds[0].State == store.WebhookSucceeded
			})
			page := fmt.Sprintf("%s/settings/webhooks/%d", e.URL, es[0].ID)
			b.run("the delivery log shows it", chromedp.Navigate(page), chromedp.WaitVisible(`#deliveries table`))
			log := b.text(`#deliveries table`)
			mustContain(t, "log", log, "contact.created", "webhook.test", "HTTP 200", `<img src=x onerror=alert(1)>`)
			b.screenshot("webhook-endpoint-" + string(kind))
			b.run("redeliver the contact event",
				chromedp.Click(`#deliveries tbody tr:first-child button`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "notice", b.text(`.notice`), "queued again")
			e.WaitUntil(t, "webhook_drain", func() bool { return hits.Load() == 3 })

			// A restore paused sending: admins get the banner and resume.
			err = e.App.St.InTx(ctx, func(q store.Q) error {
				return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, Value: "restored from nightly-2026-01-01.db on 2 Jan 2026 08:00 UTC", SetBy: "cli@ops", SetAt: store.Now()})
			})
			if err != nil {
				t.Fatal(err)
			}
			b.run("the banner", chromedp.Navigate(e.URL+"/contacts"), chromedp.WaitVisible(`#sending-paused`))
			mustContain(t, "banner", b.text(`#sending-paused`), "Sending is paused", "nightly-2026-01-01.db")
			b.screenshot("sending-paused-banner-" + string(kind))
			b.run("resume from the banner",
				chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
				chromedp.Click(`#sending-paused button`),
				chromedp.WaitNotPresent(`#sending-paused`),
				chromedp.WaitVisible(`#content h1`),
			)
			if loc := b.location(); !strings.HasSuffix(loc, "/contacts") {
				t.Fatalf("after resuming at %s, want back on /contacts", loc)
			}
			if paused, _ := e.App.St.Read().AdminSendingPaused(ctx); paused {
				t.Fatal("still paused")
			}
			b.checkConsole()
		})
	}
}
