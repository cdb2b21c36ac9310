package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

var secretRE = regexp.MustCompile(`value="(whsec_[^"]+)"`)

// TestWebhookPages: an admin adds an endpoint (the secret is on that answer
// only), sends a test event, sees the delivery log with the receiver's
// answer escaped, redelivers, edits and deletes; other roles are refused; a
// foreign endpoint is a 404. While sending is paused admins see the banner
// and resume from it.
func TestWebhookPages(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		e.App.Webhooks.HTTP.AllowForTests = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		var hits atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			hits.Add(1)
			w.WriteHeader(202)
			_, _ = io.WriteString(w, `<script>alert(1)</script> ok`)
		}))
		defer srv.Close()
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		ok(t, get(t, e, ae, "/settings/webhooks"), http.StatusForbidden)
		ok(t, get(t, e, admin, "/settings"), http.StatusOK, `href="/settings/webhooks"`)
		ok(t, get(t, e, admin, "/settings/webhooks"), http.StatusOK, "No endpoints yet")

		// A refused URL is shown next to its field, the typing kept.
		bad := post(t, e, admin, "/settings/webhooks", url.Values{"url": {"http://169.254.169.254/latest"}, "enabled": {"on"}})
		ok(t, bad, http.StatusUnprocessableEntity, "cloud metadata address", `value="http://169.254.169.254/latest"`)
		created := post(t, e, admin, "/settings/webhooks", url.Values{"url": {srv.URL + "/hook"}, "description": {"Warehouse"}, "event_types": {"deal.won", "contact.created"}, "enabled": {"on"}})
		ok(t, created, http.StatusOK, "Endpoint added", "only time it is shown", "Warehouse")
		m := secretRE.FindStringSubmatch(created.Body)
		if m == nil {
			t.Fatal("no secret on the creation page")
		}
		es, err := e.App.Webhooks.List(ctx, e.A.ID)
		if err != nil || len(es) != 1 || strings.Join(es[0].EventTypes, ",") != "contact.created,deal.won" {
			t.Fatalf("endpoints %+v %v", es, err)
		}
		id := es[0].ID
		list := get(t, e, admin, "/settings/webhooks")
		ok(t, list, http.StatusOK, srv.URL+"/hook")
		if strings.Contains(list.Body, m[1]) {
			t.Fatal("the list page shows the secret")
		}
		page := fmt.Sprintf("/settings/webhooks/%d", id)
		show := get(t, e, admin, page)
		ok(t, show, http.StatusOK, "Send test event", "Nothing delivered yet", `value="contact.created" checked`)
		if strings.Contains(show.Body, m[1]) {
			t.Fatal("the endpoint page shows the secret")
		}
		// The test event: sent at once, the answer escaped on the page.
		test := post(t, e, admin, page+"/test", nil)
		ok(t, test, http.StatusOK, `id="test-result"`, "HTTP 202", "&lt;script&gt;alert(1)&lt;/script&gt; ok")
		if strings.Contains(test.Body, "<script>alert(1)") || hits.Load() != 1 {
			t.Fatalf("test page: %d hits, raw script %v", hits.Load(), strings.Contains(test.Body, "<script>alert(1)"))
		}
		ds, _ := e.App.Webhooks.Deliveries(ctx, e.A.ID, id, 10)
		if len(ds) != 1 || ds[0].EventType != "webhook.test" {
			t.Fatalf("deliveries %+v", ds)
		}
		ok(t, get(t, e, admin, page), http.StatusOK, "webhook.test", "HTTP 202", ds[0].MsgID)
		// Redeliver from the log.
		r := post(t, e, admin, fmt.Sprintf("%s/deliveries/%d/redeliver", page, ds[0].ID), nil)
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "notice=redeliver") {
			t.Fatalf("redeliver: %d %s", r.Status, r.Header.Get("Location"))
		}
		// Edit: untick every event (every event), disable.
		saved := post(t, e, admin, page, url.Values{"url": {srv.URL + "/hook2"}, "description": {"Warehouse"}})
		if saved.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", saved.Status, snippet(saved.Body))
		}
		got, _ := e.App.Webhooks.Get(ctx, e.A.ID, id)
		if got.Enabled || len(got.EventTypes) != 0 || got.URL != srv.URL+"/hook2" {
			t.Fatalf("after save %+v", got)
		}
		badEdit := post(t, e, admin, page, url.Values{"url": {"http://0x7f.1/"}, "enabled": {"on"}})
		ok(t, badEdit, http.StatusUnprocessableEntity, "non-standard notation")
		// Workspace B's admin cannot see or touch it.
		bAdmin := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, bAdmin, page), http.StatusNotFound)
		ok(t, post(t, e, bAdmin, page+"/test", nil), http.StatusNotFound)
		ok(t, post(t, e, bAdmin, page+"/delete", nil), http.StatusNotFound)
		ok(t, post(t, e, ae, page+"/delete", nil), http.StatusForbidden)
		del := post(t, e, admin, page+"/delete", nil)
		if del.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", del.Status)
		}
		ok(t, get(t, e, admin, page), http.StatusNotFound)

		// The sending banner: admins see it, others do not; resume clears it.
		err = e.App.St.InTx(ctx, func(q store.Q) error {
			return q.AdminSetFlag(ctx, store.InstanceFlag{Name: store.FlagSendingPaused, Value: "restored from nightly.db on 1 Jan 2026 03:00 UTC", SetAt: store.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		ok(t, get(t, e, admin, "/contacts"), http.StatusOK, `id="sending-paused"`, "restored from nightly.db")
		if b := get(t, e, ae, "/contacts").Body; strings.Contains(b, "sending-paused") {
			t.Fatal("a non-admin sees the resume banner")
		}
		ok(t, post(t, e, ae, "/settings/sending/resume", url.Values{"next": {"/contacts"}}), http.StatusForbidden)
		res := post(t, e, admin, "/settings/sending/resume", url.Values{"next": {"/contacts"}})
		if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/contacts" {
			t.Fatalf("resume: %d %s", res.Status, res.Header.Get("Location"))
		}
		if paused, _ := e.App.St.Read().AdminSendingPaused(ctx); paused {
			t.Fatal("still paused after resume")
		}
		if b := get(t, e, admin, "/contacts").Body; strings.Contains(b, "sending-paused") {
			t.Fatal("banner still shown")
		}
	})
}
