package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/app"
	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A double opt-in form plans its confirmation email through the send ledger in
// the submission's transaction; the message carries the confirmation link. A
// workspace without a sender still accepts the buyer and says why no mail went.
func TestDoubleOptInConfirmationMail(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			mk := func(ws apptest.WS) model.Form {
				f, err := e.App.Forms.CreateForm(ctx, model.Actor{Workspace: ws.ID, Label: "test"}, model.Form{Name: "News", Kind: "newsletter",
					ConsentText: "Send me the newsletter", ConsentVersion: "v3", DoubleOptIn: true})
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			submit := func(f model.Form, email string) {
				res, err := http.Post(e.URL+"/f/"+f.Key, "application/json", strings.NewReader(`{"email":"`+email+`","consent":"yes"}`))
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("submit: %d", res.StatusCode)
				}
			}
			if code, body := e.Do(t, e.A.Keys["admin"], "PUT", "/api/v1/mail/sender", `{"from_name":"Ada","from_address":"ada@sender.example","postal_address":"1 Engine St, London","rate_per_sec":20}`); code != 200 {
				t.Fatalf("sender: %d %s", code, body)
			}
			submit(mk(e.A), "reader@shop.example")
			sends, err := e.App.St.Read().ListSends(ctx, e.A.ID, "planned", 10)
			if err != nil || len(sends) != 1 || !strings.HasPrefix(sends[0].DedupeKey, "confirm:") {
				t.Fatalf("planned sends %+v %v", sends, err)
			}
			tpl, err := e.App.St.Read().MailTemplateByName(ctx, e.A.ID, app.ConfirmTemplate)
			if err != nil || tpl.ID != sends[0].TemplateID {
				t.Fatalf("template %+v %v", tpl, err)
			}
			var claimed []store.ClaimedSend
			if err := e.App.St.InTx(ctx, func(q store.Q) (err error) {
				claimed, _, err = q.AdminClaimDueSends(ctx, e.App.Mail.Now(), 10, "test")
				return err
			}); err != nil || len(claimed) != 1 {
				t.Fatalf("claim %d %v", len(claimed), err)
			}
			raw, _, err := e.App.Mail.Compose(ctx, &claimed[0])
			if err != nil {
				t.Fatal(err)
			}
			if msg := string(raw); !strings.Contains(msg, "/subscribe/confirm/") || !strings.Contains(msg, "Please confirm your email address") {
				t.Fatalf("message has no confirmation link:\n%s", msg)
			}

			// Workspace B has no sender: accepted, no send, the reason in history.
			submit(mk(e.B), "other@shop.example")
			if sends, _ := e.App.St.Read().ListSends(ctx, e.B.ID, "", 10); len(sends) != 0 {
				t.Fatalf("B planned %+v", sends)
			}
			c, err := e.App.St.Read().ContactByEmail(ctx, e.B.ID, "other@shop.example")
			if err != nil {
				t.Fatal(err)
			}
			hs, _ := e.App.St.Read().History(ctx, e.B.ID, "contact", c.ID)
			found := false
			for _, h := range hs {
				found = found || h.Action == "confirmation_not_sent"
			}
			if !found {
				t.Fatalf("history %+v", hs)
			}
		})
	}
}
