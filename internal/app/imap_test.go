package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A reply that arrives in the workspace's IMAP mailbox, read by the
// mail_imap_poll River job, takes the whole reply path: the enrollment exits
// "replied" before its next email, the reply is on the contact's timeline and
// a task waits for the owner.
func TestIMAPReplyExitsNurture(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			e := apptest.New(t, kind)
			ctx := context.Background()
			admin := e.A.Keys["admin"]
			if code, body := e.Do(t, admin, "PUT", "/api/v1/mail/sender", `{"from_address":"ada@sender.example","reply_to":"replies@sender.example","postal_address":"1 Engine St"}`); code != 200 {
				t.Fatalf("sender: %d %s", code, body)
			}
			code, body := e.Do(t, admin, "POST", "/api/v1/sequences", `{"name":"Welcome","status":"active","trigger":{"kind":"manual"},"exit_rules":["replied"],"steps":[
				{"kind":"send_email","subject":"Hello","html":"<p>Hi</p>"},{"kind":"wait","duration":"3d"},{"kind":"send_email","subject":"Again","html":"<p>Again</p>"}]}`)
			if code != 201 {
				t.Fatalf("sequence: %d %s", code, body)
			}
			seqID := jsonID(t, body)
			code, body = e.Do(t, admin, "POST", "/api/v1/contacts", `{"email":"ann@shop.example","first_name":"Ann"}`)
			if code != 201 {
				t.Fatalf("contact: %d %s", code, body)
			}
			cid := jsonID(t, body)
			if code, body := e.Do(t, admin, "POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", seqID), fmt.Sprintf(`{"contact_ids":[%d]}`, cid)); code != 200 {
				t.Fatalf("enrol: %d %s", code, body)
			}
			var send store.Send
			e.WaitUntil(t, "sequences_due_batch", func() bool {
				sends, err := e.App.St.Read().ListSends(ctx, e.A.ID, "", 10)
				if err != nil || len(sends) != 1 {
					return false
				}
				send = sends[0]
				return true
			})
			// The reply mailbox, on a real IMAP server on loopback.
			mem := imapmemserver.New()
			u := imapmemserver.NewUser("replies@sender.example", "pw-imap")
			if err := u.Create("INBOX", nil); err != nil {
				t.Fatal(err)
			}
			mem.AddUser(u)
			srv := imapserver.New(&imapserver.Options{NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return mem.NewSession(), nil, nil
			}, Caps: imap.CapSet{imap.CapIMAP4rev1: {}}, InsecureAuth: true})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln) //nolint:errcheck
			t.Cleanup(func() { srv.Close() })
			host, port, _ := strings.Cut(ln.Addr().String(), ":")
			if code, body := e.Do(t, admin, "PUT", "/api/v1/mail/imap", fmt.Sprintf(`{"host":%q,"port":%s,"tls":"none","username":"replies@sender.example","password":"pw-imap"}`, host, port)); code != 200 {
				t.Fatalf("imap: %d %s", code, body)
			}
			c, err := imapclient.DialInsecure(ln.Addr().String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Login("replies@sender.example", "pw-imap").Wait(); err != nil {
				t.Fatal(err)
			}
			raw := fmt.Sprintf("From: Ann <ann@shop.example>\r\nTo: replies@sender.example\r\nSubject: Re: Hello\r\nMessage-ID: <ann-1@shop.example>\r\nIn-Reply-To: %s\r\nContent-Type: text/plain\r\n\r\nLet's talk on Monday.\r\n", send.MessageID)
			ap := c.Append("INBOX", int64(len(raw)), nil)
			if _, err := ap.Write([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			if err := ap.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := ap.Wait(); err != nil {
				t.Fatal(err)
			}
			// The periodic job's next run is a minute away: run it now.
			if _, err := e.App.River.Insert(ctx, mail.IMAPPollArgs{}, nil); err != nil {
				t.Fatal(err)
			}
			e.WaitUntil(t, "mail_imap_poll", func() bool {
				rs, err := e.App.St.Read().MailReplies(ctx, e.A.ID, cid)
				return err == nil && len(rs) == 1
			})
			enr := enrollments(t, e, e.A)
			if len(enr) != 1 || enr[0].Status != "exited" || enr[0].ExitReason != "replied" {
				t.Fatalf("enrollment after the reply: %+v", enr)
			}
			code, body = e.Do(t, admin, "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", cid), "")
			if code != 200 || !strings.Contains(string(body), "Let's talk on Monday.") || !strings.Contains(string(body), "Answer the reply from Ann") {
				t.Fatalf("timeline %d %s", code, body)
			}
			if v, err := e.App.Mail.IMAP(ctx, e.A.ID); err != nil || v.LastPollAt == nil || v.LastFetched != 1 || v.LastError != "" {
				t.Fatalf("mailbox status %+v %v", v, err)
			}
		})
	}
}

func jsonID(t *testing.T, body []byte) int64 {
	t.Helper()
	var v struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.ID == 0 {
		t.Fatalf("no id in %s: %v", body, err)
	}
	return v.ID
}
