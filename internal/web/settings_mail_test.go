package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

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
		ok(t, page, 200, "ada@sender.example", "Admins and managers change these settings.")
		ok(t, post(t, e, ae, "/settings/mail", good), http.StatusForbidden)
		other := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, other, "/settings/mail"), 200, "No sender yet")
	})
}
