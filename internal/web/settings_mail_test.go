package web_test

import (
	"context"
	"github.com/rightsize/rightsize/internal/store"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

func TestMailSettings(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, admin, "/settings/mail"), 200, "Mail sender", "No sender yet", `name="postal_address"`)
		bad := url.Values{"from_address": {"not-an-address"}, "postal_address": {"1 Engine St"}, "track_engagement": {"on"}, "dkim_private_key": {"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----"}}
		r := post(t, e, admin, "/settings/mail", bad)
		ok(t, r, http.StatusUnprocessableEntity, `id="m-from_address-err"`, `value="not-an-address"`)
		if strings.Contains(r.Body, "BEGIN PRIVATE KEY") {
			t.Error("the page echoed a private key back")
		}
		good := url.Values{"from_name": {"Ada"}, "from_address": {"ada@sender.example"}, "postal_address": {"1 Engine St, London"}, "rate_per_sec": {"5"}, "track_engagement": {"off"}}
		if r := post(t, e, admin, "/settings/mail", good); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, snippet(r.Body))
		}
		v, err := e.App.Mail.Sender(t.Context(), e.A.ID)
		if err != nil || !v.Configured || v.FromAddress != "ada@sender.example" || v.RatePerSec != 5 || v.TrackEngagement {
			t.Fatalf("sender %+v %v", v, err)
		}
		ok(t, get(t, e, admin, "/settings/mail?notice=saved"), 200, `value="ada@sender.example"`, `<option value="off" selected`)
		// Read-only for other roles; writes refused; B sees its own (none).
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		page := get(t, e, ae, "/settings/mail")
		ok(t, page, 200, "ada@sender.example", "Admins change these settings")
		ok(t, post(t, e, ae, "/settings/mail", good), http.StatusForbidden)
		// The sender holds the DKIM key: managers read it and may not change it.
		mgr := e.Browser(t, e.A.Users[model.RoleManager].Email)
		ok(t, get(t, e, mgr, "/settings/mail"), 200, "Admins change these settings")
		ok(t, post(t, e, mgr, "/settings/mail", good), http.StatusForbidden)
		other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, other, "/settings/mail"), 200, "No sender yet")
	})
}

// The reply mailbox section: the test-connection action names a refused login
// and reports a working mailbox (a real IMAP server on loopback) without
// saving; save stores it without ever showing the password; other roles read.
func TestMailSettingsIMAP(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		addr := imapTestServer(t, "replies@alpha.example", "imap-secret-9")
		host, port, _ := strings.Cut(addr, ":")
		admin := e.Browser(t, e.A.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, admin, "/settings/mail"), 200, "Reply mailbox (IMAP)", `name="host"`, `type="password"`, "Test connection")
		vals := url.Values{"host": {host}, "port": {port}, "tls": {"none"}, "username": {"replies@alpha.example"}, "password": {"wrong-one"}, "mailbox": {""}, "enabled": {"on"}}
		r := post(t, e, admin, "/settings/mail/imap/test", vals)
		ok(t, r, 200, "Connection test failed: login as", "refused")
		if strings.Contains(r.Body, "wrong-one") {
			t.Error("the page echoed the password")
		}
		vals.Set("password", "imap-secret-9")
		ok(t, post(t, e, admin, "/settings/mail/imap/test", vals), 200, "Connection works: INBOX has 0 messages")
		if v, _ := e.App.Mail.IMAP(t.Context(), e.A.ID); v.Configured {
			t.Fatal("a connection test saved the mailbox")
		}
		bad := url.Values{"host": {host}, "port": {"port"}, "tls": {"none"}, "username": {"u"}, "password": {"x"}}
		ok(t, post(t, e, admin, "/settings/mail/imap", bad), http.StatusUnprocessableEntity, `id="i-port-err"`, "must be a whole number")
		if r := post(t, e, admin, "/settings/mail/imap", vals); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, snippet(r.Body))
		}
		page := get(t, e, admin, "/settings/mail?notice=imap")
		ok(t, page, 200, "Reply mailbox saved", `value="replies@alpha.example"`, "A password is stored.", "Not yet")
		if strings.Contains(page.Body, "imap-secret-9") {
			t.Error("the page shows the stored password")
		}
		// After a poll the page shows when and how many (the poll job may also
		// have run by now; this makes the case certain).
		if err := e.App.St.InTx(context.Background(), func(q store.Q) error {
			return q.RecordIMAPPoll(context.Background(), e.A.ID, time.Now(), 1234, "")
		}); err != nil {
			t.Fatal(err)
		}
		ok(t, get(t, e, admin, "/settings/mail"), 200, "1,234 messages")
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		// The mailbox login is half a credential: other roles see that one is set.
		if r := get(t, e, ae, "/settings/mail"); !strings.Contains(r.Body, "Set (its login is for admins only)") || strings.Contains(r.Body, "replies@alpha.example") {
			t.Errorf("an ae's mail settings page: %s", snippet(r.Body))
		}
		ok(t, post(t, e, ae, "/settings/mail/imap", vals), http.StatusForbidden)
		mgr := e.Browser(t, e.A.Users[model.RoleManager].Email)
		ok(t, post(t, e, mgr, "/settings/mail/imap", vals), http.StatusForbidden)
		ok(t, post(t, e, ae, "/settings/mail/imap/test", vals), http.StatusForbidden)
		other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		if strings.Contains(get(t, e, other, "/settings/mail").Body, "replies@alpha.example") {
			t.Error("B sees A's mailbox")
		}
	})
}
