package mail_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A reply posted by the mail provider is matched to its send by
// In-Reply-To/References: it lands on the contact's timeline, creates a task,
// fires the reply hook once (a redelivery is a no-op); an out-of-office answer
// and a message answering something else fire nothing.
func TestInboundReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st, 2)
		sends := f.plan(t, 0, 1)
		f.drain(t)
		var hooked []int64
		f.svc.OnReply = func(ctx context.Context, q store.Q, ws, contactID int64, send store.Send) error {
			hooked = append(hooked, contactID)
			return nil
		}
		mux := http.NewServeMux()
		f.svc.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		post := func(secret, body string) (int, string) {
			req, _ := http.NewRequest("POST", srv.URL+"/hooks/mail/inbound", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set("Content-Type", "message/rfc822")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		reply := func(id, inReplyTo, refs, subject, extra, body string) string {
			return fmt.Sprintf("From: %s\r\nTo: ada@sender.example\r\nSubject: %s\r\nMessage-ID: %s\r\nIn-Reply-To: %s\r\nReferences: %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s",
				f.contacts[0].Email, subject, id, inReplyTo, refs, extra, body)
		}
		human := reply("<r1@client.example>", sends[0].MessageID, "<older@x> "+sends[0].MessageID, "Re: your guide",
			"", "Yes please, let's talk next week =E2=80=94 Tuesday?\r\n\r\nOn Mon, Ada wrote:\r\n> the guide\r\n")
		if code, _ := post("wrong", human); code != 401 {
			t.Fatalf("wrong secret: %d", code)
		}
		if code, out := post("hook-secret", "not a message"); code != 400 || !strings.Contains(out, "message") {
			t.Fatalf("garbage: %d %s", code, out)
		}
		code, out := post("hook-secret", human)
		if code != 200 || !strings.Contains(out, `"status":"recorded"`) {
			t.Fatalf("reply: %d %s", code, out)
		}
		if code, out := post("hook-secret", human); code != 200 || !strings.Contains(out, `"status":"duplicate"`) {
			t.Fatalf("redelivery: %d %s", code, out)
		}
		if len(hooked) != 1 || hooked[0] != f.contacts[0].ID {
			t.Fatalf("reply hook calls %v", hooked)
		}
		acts, err := st.Read().ListActivities(context.Background(), f.ws, store.ListParams{Limit: 10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var email, task bool
		for _, a := range acts.Items {
			if a.Kind == "email" && a.Subject == "Re: your guide" {
				email = strings.Contains(a.Body, "Tuesday?") && !strings.Contains(a.Body, "> the guide")
			}
			if a.Kind == "task" && strings.Contains(a.Subject, "Answer the reply") {
				task = true
			}
		}
		if !email || !task {
			t.Fatalf("activities %+v: want the reply (without the quote) and a task", acts.Items)
		}
		// Out of office (RFC 3834): recorded as such, no hook, no activity.
		ooo := reply("<r2@client.example>", sends[1].MessageID, "", "Automatic reply: away", "Auto-Submitted: auto-replied\r\n", "I am away until Monday.")
		if code, out := post("hook-secret", ooo); code != 200 || !strings.Contains(out, `"status":"auto_reply"`) {
			t.Fatalf("auto reply: %d %s", code, out)
		}
		if len(hooked) != 1 {
			t.Fatalf("an auto-reply fired the hook: %v", hooked)
		}
		// Not an answer to anything we sent.
		other := reply("<r3@client.example>", "<someone-else@x>", "", "Hello", "", "hi")
		if code, out := post("hook-secret", other); code != 200 || !strings.Contains(out, `"status":"unmatched"`) {
			t.Fatalf("unmatched: %d %s", code, out)
		}
		rs, err := st.Read().MailReplies(context.Background(), f.ws, f.contacts[0].ID)
		if err != nil || len(rs) != 1 || rs[0].ActivityID == nil || rs[0].AutoReply {
			t.Fatalf("replies %+v %v", rs, err)
		}
	})
}
