package mail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// One batch mixing two workspaces (one sender signs with DKIM, the other
// does not), composed by two workers whose message buffers are pooled and
// reused: every message that arrives carries its own row's Message-ID, its
// own contact's name and its own workspace's sender and postal address.
func TestBatchComposesEachRowWithItsOwnData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		const n = 24
		f := setup(t, st, n)
		ctx := context.Background()
		var tmplB int64
		var bobs []model.Contact
		err := st.InTx(ctx, func(q store.Q) error {
			if err := q.SaveMailSender(ctx, f.ws2, &store.MailSender{FromName: "Bea", FromAddress: "bea@other.test", PostalAddress: "B GmbH, 2 Other Road, Berlin"}); err != nil {
				return err
			}
			tm := store.MailTemplate{Name: "b", Subject: "For {{.Contact.FirstName}}", HTML: `<p>Dear {{.Contact.FirstName}},</p><p>from B.</p>`}
			if err := q.SaveMailTemplate(ctx, f.ws2, &tm); err != nil {
				return err
			}
			tmplB = tm.ID
			for i := range n {
				c := model.Contact{Email: fmt.Sprintf("b%d@rcpt.test", i), FirstName: fmt.Sprintf("Bob%d", i), LifecycleStage: "lead"}
				if err := q.CreateContact(ctx, f.ws2, &c); err != nil {
					return err
				}
				bobs = append(bobs, c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		type want struct{ from, name, greeting, postal string }
		byMsgID := map[string]want{}
		err = st.InTx(ctx, func(q store.Q) error {
			for i := range n {
				// Interleaved due times: the claim's due order alternates workspaces.
				due := f.now.Add(time.Duration(-2*n+2*i) * time.Second)
				a, _, err := f.svc.Plan(ctx, q, f.ws, mail.PlanRequest{DedupeKey: fmt.Sprintf("a%d", i), ContactID: f.contacts[i].ID, TemplateID: f.tmpl, DueAt: due})
				if err != nil {
					return err
				}
				byMsgID[a.MessageID] = want{"ada@sender.test", f.contacts[i].FirstName, "Hi " + f.contacts[i].FirstName + " at Acme & Co,", "Rightsize Ltd, 1 Engine Street, London"}
				b, _, err := f.svc.Plan(ctx, q, f.ws2, mail.PlanRequest{DedupeKey: fmt.Sprintf("b%d", i), ContactID: bobs[i].ID, TemplateID: tmplB, DueAt: due.Add(time.Second)})
				if err != nil {
					return err
				}
				byMsgID[b.MessageID] = want{"bea@other.test", bobs[i].FirstName, "Dear " + bobs[i].FirstName + ",", "B GmbH, 2 Other Road, Berlin"}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Batch = 2 * n // one batch holds both workspaces' rows
		if got := f.drain(t); got.Accepted != 2*n {
			t.Fatalf("stats %+v, want %d accepted", got, 2*n)
		}
		msgs := f.srv.Messages()
		if len(msgs) != 2*n {
			t.Fatalf("server got %d messages, want %d", len(msgs), 2*n)
		}
		seen := map[string]bool{}
		for _, m := range msgs {
			id := header(t, m.Raw, "Message-ID")
			w, ok := byMsgID[id]
			if !ok || seen[id] {
				t.Fatalf("message %q unknown or repeated", id)
			}
			seen[id] = true
			plain, html := parts(t, m.Raw)
			if from := header(t, m.Raw, "From"); !strings.Contains(from, "<"+w.from+">") || m.From != w.from {
				t.Errorf("%s: From %q (envelope %q), want %s", id, from, m.From, w.from)
			}
			if !strings.Contains(plain, w.greeting) || !strings.Contains(plain, w.postal) || !strings.Contains(html, w.postal) {
				t.Errorf("%s: want %q and %q in\n%s", id, w.greeting, w.postal, plain)
			}
			if subj, _ := new(mimeDec).DecodeHeader(header(t, m.Raw, "Subject")); !strings.HasSuffix(subj, " "+w.name) && !strings.Contains(subj, " "+w.name+" ") {
				t.Errorf("%s: subject %q, want %s", id, subj, w.name)
			}
			// No other contact's greeting leaked in (a reused buffer would
			// carry another message's bytes).
			if c := strings.Count(plain, "Hi ") + strings.Count(plain, "Dear "); c != 1 {
				t.Errorf("%s: %d greetings in\n%s", id, c, plain)
			}
		}
	})
}
