package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// testMailSender reads and replaces the sender identity: unconfigured first,
// errors naming the field, admin-only writes, the DKIM key stored but never
// returned, and workspace B untouched.
func (h *harness) testMailSender(t *testing.T) {
	a := h.env.A
	ldr := a.Keys[model.RoleLDR]
	if got := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/mail/sender", ""); got["configured"] != false {
		t.Errorf("B before any save: %v", got)
	}
	good := `{"from_name":"Ada","from_address":"ada@sender.example","reply_to":"replies@sender.example","postal_address":"1 Engine St, London","rate_per_sec":20}`
	if p := wantProblem(t, h.call(t, ldr, "PUT", "/api/v1/mail/sender", good), http.StatusForbidden, ""); p["code"] != "forbidden" {
		t.Errorf("ldr: %v", p)
	}
	for _, c := range []struct{ body, field string }{
		{`{"from_address":"not an address","postal_address":"x"}`, "from_address"},
		{`{"from_address":"a@b.example","postal_address":""}`, "postal_address"},
		{`{"from_address":"a@b.example","postal_address":"x","reply_to":"nope"}`, "reply_to"},
		{`{"from_address":"a@b.example","postal_address":"x","rate_per_sec":-1}`, "rate_per_sec"},
		{`{"from_address":"a@b.example","postal_address":"x","dkim_domain":"b.example","dkim_selector":"s","dkim_private_key":"garbage"}`, "dkim_private_key"},
		{`{"from_address":"a@b.example","postal_address":"x","colour":"red"}`, "colour"},
	} {
		wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/sender", c.body), http.StatusBadRequest, c.field)
	}
	saved := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/sender", good)
	expectFields(t, "saved", saved, map[string]any{"configured": true, "from_address": "ada@sender.example", "postal_address": "1 Engine St, London", "rate_per_sec": float64(20), "dkim_key": false, "track_engagement": true})
	// The tracking switch: off is kept when a later PUT leaves it out.
	off := `{"from_address":"ada@sender.example","postal_address":"1 Engine St, London","track_engagement":false}`
	if got := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/sender", off); got["track_engagement"] != false {
		t.Errorf("switch off: %v", got)
	}
	if got := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/sender", good); got["track_engagement"] != false {
		t.Errorf("switch left out turned tracking back on: %v", got)
	}
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/sender", `{"from_address":"a@b.example","postal_address":"x","track_engagement":"yes"}`), http.StatusBadRequest, "track_engagement")

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key, _ := json.Marshal(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	withKey := `{"from_address":"ada@sender.example","postal_address":"1 Engine St, London","dkim_domain":"sender.example","dkim_selector":"rs1","dkim_private_key":` + string(key) + `}`
	// The sender holds the DKIM key: admins only.
	wantProblem(t, h.call(t, a.Keys[model.RoleManager], "PUT", "/api/v1/mail/sender", withKey), http.StatusForbidden, "")
	if got := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/sender", withKey); got["dkim_key"] != true || got["dkim_private_key"] != nil {
		t.Errorf("with key: %v", got)
	}
	// Leaving the key out keeps it.
	keep := `{"from_address":"ada@sender.example","postal_address":"2 Engine St","dkim_domain":"sender.example","dkim_selector":"rs1"}`
	if got := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/sender", keep); got["dkim_key"] != true {
		t.Errorf("key dropped: %v", got)
	}
	if got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/mail/sender", ""); got["postal_address"] != "2 Engine St" || got["dkim_key"] != true {
		t.Errorf("GET after PUT: %v", got)
	}
	if got := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/mail/sender", ""); got["configured"] != false {
		t.Errorf("B after A's save: %v", got)
	}

	// The ledger list: a planned send shows in A (filtered by state), not in B.
	ctx := context.Background()
	cid := h.mk(t, h.adminA(), "contacts", fmt.Sprintf(`{"email":"%s@mail.example"}`, uniq("send")))
	err := h.env.App.St.InTx(ctx, func(q store.Q) error {
		tm := store.MailTemplate{Name: "t", Subject: "Hi", HTML: "<p>Hi</p>"}
		if err := q.SaveMailTemplate(ctx, a.ID, &tm); err != nil {
			return err
		}
		_, _, err := h.env.App.Mail.Plan(ctx, q, a.ID, mail.PlanRequest{DedupeKey: uniq("api-send"), ContactID: cid, TemplateID: tm.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/mail/sends?state=planned", "")
	items := got["items"].([]any)
	if len(items) == 0 || items[0].(map[string]any)["contact_id"] != float64(cid) || items[0].(map[string]any)["state"] != "planned" {
		t.Errorf("sends %v", got)
	}
	if got := h.want(t, http.StatusOK, ldr, "GET", "/api/v1/mail/sends?state=unknown", ""); len(got["items"].([]any)) != 0 {
		t.Errorf("unknown sends %v", got)
	}
	if got := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/mail/sends", ""); len(got["items"].([]any)) != 0 {
		t.Errorf("B sees A's sends: %v", got)
	}
	wantProblem(t, h.call(t, ldr, "GET", "/api/v1/mail/sends?state=lost", ""), http.StatusBadRequest, "state")
}

// testMailIMAP sets the reply mailbox: unconfigured first, field errors, the
// password required once and never returned, admin-only writes, B untouched;
// the connection test reports a refused login and a working mailbox against a
// real IMAP server on loopback.
func (h *harness) testMailIMAP(t *testing.T) {
	addr := imapTestServer(t, "replies@a.example", "imap-pw-123")
	host, port, _ := strings.Cut(addr, ":")
	if got := h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/mail/imap", ""); got["configured"] != false {
		t.Errorf("before any save: %v", got)
	}
	base := fmt.Sprintf(`"host":%q,"port":%s,"tls":"none","username":"replies@a.example"`, host, port)
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/imap", "{"+base+"}"), http.StatusBadRequest, "password")
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/imap", `{"host":"imap://x","username":"u","password":"p"}`), http.StatusBadRequest, "host")
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/imap", `{"host":"imap.x.example","username":"u","password":"p","tls":"ssl"}`), http.StatusBadRequest, "tls")
	wantProblem(t, h.call(t, h.adminA(), "PUT", "/api/v1/mail/imap", `{"host":"imap.x.example","username":"u","password":"p","port":70000}`), http.StatusBadRequest, "port")
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleAE], "PUT", "/api/v1/mail/imap", "{"+base+`,"password":"imap-pw-123"}`), http.StatusForbidden, "")
	// A wrong password: the test answers which step failed.
	bad := h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/mail/imap/test", "{"+base+`,"password":"nope"}`)
	if bad["ok"] != false || !strings.Contains(fmt.Sprint(bad["error"]), "login as") {
		t.Errorf("wrong password test: %v", bad)
	}
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleManager], "PUT", "/api/v1/mail/imap", "{"+base+`,"password":"imap-pw-123"}`), http.StatusForbidden, "")
	wantProblem(t, h.call(t, h.env.A.Keys[model.RoleManager], "GET", "/api/v1/mail/imap", ""), http.StatusForbidden, "")
	saved := h.want(t, http.StatusOK, h.adminA(), "PUT", "/api/v1/mail/imap", "{"+base+`,"password":"imap-pw-123"}`)
	expectFields(t, "saved", saved, map[string]any{"configured": true, "enabled": true, "password_set": true, "mailbox": "INBOX", "tls": "none"})
	res := h.call(t, h.adminA(), "GET", "/api/v1/mail/imap", "")
	if strings.Contains(string(res.Body), "imap-pw-123") || res.Status != 200 {
		t.Fatalf("GET shows the password: %s", res.Body)
	}
	// The stored password is used when the test leaves it out.
	if ok := h.want(t, http.StatusOK, h.adminA(), "POST", "/api/v1/mail/imap/test", "{"+base+"}"); ok["ok"] != true || ok["mailbox"] != "INBOX" {
		t.Errorf("test with the stored password: %v", ok)
	}
	if got := h.want(t, http.StatusOK, h.adminB(), "GET", "/api/v1/mail/imap", ""); got["configured"] != false {
		t.Errorf("B after A's save: %v", got)
	}
	// B has no stored password to fall back on.
	wantProblem(t, h.call(t, h.adminB(), "POST", "/api/v1/mail/imap/test", "{"+base+"}"), http.StatusBadRequest, "password")
}
