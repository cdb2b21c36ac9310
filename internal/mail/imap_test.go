package mail_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/safehttp"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

const (
	imapUser = "replies@sender.test"
	imapPass = "pw-7Qz!never-shown"
)

// imapServer is an in-memory IMAP server (emersion/go-imap/v2 imapserver +
// imapmemserver) on loopback with one user and an INBOX. With tlsCfg the
// listener speaks implicit TLS.
func imapServer(t *testing.T, tlsCfg *tls.Config) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(imapUser, imapPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// mailbox is a second IMAP client standing in for the mail provider and a
// person reading the mailbox: it delivers messages and looks at flags.
type mailbox struct {
	t *testing.T
	c *imapclient.Client
}

func openMailbox(t *testing.T, addr string) *mailbox {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return &mailbox{t: t, c: c}
}

func (m *mailbox) deliver(raw string) {
	m.t.Helper()
	cmd := m.c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		m.t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		m.t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mailbox) unseen() []imap.UID {
	m.t.Helper()
	if err := m.c.Noop().Wait(); err != nil {
		m.t.Fatal(err)
	}
	d, err := m.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		m.t.Fatal(err)
	}
	return d.AllUIDs()
}

func (m *mailbox) markUnseen(uid imap.UID) {
	m.t.Helper()
	if err := m.c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		m.t.Fatal(err)
	}
}

func hostPort(t *testing.T, addr string) (string, int) {
	h, p, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

func ptrTo[T any](v T) *T { return &v }

// Replies read from a workspace's IMAP mailbox take the inbound hook's path: a
// human reply lands on the timeline with a task and fires the reply hook, an
// out-of-office is recorded as such, a message answering nothing of this
// workspace (another workspace's send included) is unmatched, a message
// without a Message-ID is skipped; each is marked \Seen. Reading a message
// again (marked unseen by a person, or delivered twice) records nothing new.
// The password never appears in a view, an audit entry, an error or the row.
func TestIMAPPolling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st, 3)
		sends := f.plan(t, 0, 1)
		f.drain(t)
		// A send of workspace B: a reply to it in A's mailbox must not count.
		var foreign store.Send
		err := st.InTx(ctx, func(q store.Q) error {
			if err := q.SaveMailSender(ctx, f.ws2, &store.MailSender{FromAddress: "bea@b.test", PostalAddress: "B Street"}); err != nil {
				return err
			}
			tm := store.MailTemplate{Name: "b", Subject: "B", HTML: "<p>b</p>"}
			if err := q.SaveMailTemplate(ctx, f.ws2, &tm); err != nil {
				return err
			}
			c := model.Contact{Email: "bee@rcpt.test", LifecycleStage: "lead"}
			if err := q.CreateContact(ctx, f.ws2, &c); err != nil {
				return err
			}
			var err error
			foreign, _, err = f.svc.Plan(ctx, q, f.ws2, mail.PlanRequest{DedupeKey: "b:1", ContactID: c.ID, TemplateID: tm.ID, DueAt: f.now})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var hooked []int64
		f.svc.OnReply = func(ctx context.Context, q store.Q, ws, contactID int64, send store.Send) error {
			hooked = append(hooked, contactID)
			return nil
		}
		addr := imapServer(t, nil)
		host, port := hostPort(t, addr)
		act := model.Actor{Workspace: f.ws, Label: "admin@a"}

		// Settings: the password is required first, validated fields are named.
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser}); !fieldIs(err, "password") {
			t.Fatalf("no password: %v", err)
		}
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: "imap.example.com:993", TLS: "none", Username: imapUser, Password: ptrTo("x")}); !fieldIs(err, "host") {
			t.Fatalf("host with a port: %v", err)
		}
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: host, Port: port, TLS: "ssl", Username: imapUser, Password: ptrTo("x")}); !fieldIs(err, "tls") {
			t.Fatalf("bad tls mode: %v", err)
		}
		// Test connection: a wrong password and a closed port each say what failed.
		chk, err := f.svc.TestIMAP(ctx, f.ws, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser, Password: ptrTo("wrong-password")})
		if err != nil || chk.OK || !strings.Contains(chk.Error, "login as") || !strings.Contains(chk.Error, "refused") || strings.Contains(chk.Error, "wrong-password") {
			t.Fatalf("wrong password: %+v %v", chk, err)
		}
		closed, _ := net.Listen("tcp", "127.0.0.1:0")
		_, cport := hostPort(t, closed.Addr().String())
		closed.Close()
		chk, err = f.svc.TestIMAP(ctx, f.ws, mail.IMAPInput{Host: host, Port: cport, TLS: "none", Username: imapUser, Password: ptrTo(imapPass)})
		if err != nil || chk.OK || !strings.Contains(chk.Error, "connect to 127.0.0.1:"+strconv.Itoa(cport)) {
			t.Fatalf("closed port: %+v %v", chk, err)
		}
		v, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser, Password: ptrTo(imapPass)})
		if err != nil || !v.Configured || !v.Enabled || !v.PasswordSet || v.Mailbox != "INBOX" {
			t.Fatalf("save: %+v %v", v, err)
		}
		// A saved password is used when the test leaves it blank.
		if chk, err := f.svc.TestIMAP(ctx, f.ws, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser, Password: ptrTo("")}); err != nil || !chk.OK || chk.Messages != 0 {
			t.Fatalf("test with the stored password: %+v %v", chk, err)
		}
		js, _ := json.Marshal(v)
		row, err := st.Read().GetMailIMAP(ctx, f.ws)
		if err != nil || strings.Contains(string(js), imapPass) || strings.Contains(row.PasswordEnc, imapPass) || row.PasswordEnc == "" {
			t.Fatalf("the password shows: view %s, stored %q, %v", js, row.PasswordEnc, err)
		}
		audit, err := st.Read().ListAudit(ctx, f.ws, 10)
		if err != nil || len(audit) == 0 {
			t.Fatalf("audit %v %v", audit, err)
		}
		for _, a := range audit {
			if b, _ := json.Marshal(a); strings.Contains(string(b), imapPass) {
				t.Fatalf("audit shows the password: %s", b)
			}
		}

		box := openMailbox(t, addr)
		reply := func(id, inReplyTo, subject, extra, body string) string {
			return fmt.Sprintf("From: %s\r\nTo: replies@sender.test\r\nSubject: %s\r\nMessage-ID: %s\r\nIn-Reply-To: %s\r\n%sContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
				f.contacts[0].Email, subject, id, inReplyTo, extra, body)
		}
		human := reply("<imap-r1@client.example>", sends[0].MessageID, "Re: news", "", "Sounds good, call me on Friday.\r\n> news.")
		box.deliver(human)
		box.deliver(reply("<imap-r2@client.example>", sends[1].MessageID, "Out of office", "Auto-Submitted: auto-replied\r\n", "Away."))
		box.deliver(reply("<imap-r3@client.example>", "<nothing-we-sent@x>", "Hello", "", "hi"))
		box.deliver(reply("<imap-r4@client.example>", foreign.MessageID, "Re: B", "", "for B"))
		box.deliver("From: x@y.example\r\nSubject: no id\r\n\r\nbody\r\n")
		if n := len(box.unseen()); n != 5 {
			t.Fatalf("%d unseen before the poll", n)
		}
		res, err := f.svc.PollIMAP(ctx, f.ws)
		if err != nil {
			t.Fatal(err)
		}
		if res != (mail.IMAPPoll{Fetched: 5, Recorded: 1, AutoReplies: 1, Unmatched: 2, Skipped: 1}) {
			t.Fatalf("poll %+v", res)
		}
		if left := box.unseen(); len(left) != 0 {
			t.Fatalf("still unseen after the poll: %v", left)
		}
		if len(hooked) != 1 || hooked[0] != f.contacts[0].ID {
			t.Fatalf("reply hook %v", hooked)
		}
		acts, err := st.Read().ListActivities(ctx, f.ws, store.ListParams{Limit: 20}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var email, task int
		for _, a := range acts.Items {
			if a.Kind == "email" && a.Subject == "Re: news" && strings.Contains(a.Body, "call me on Friday") && !strings.Contains(a.Body, "> news") {
				email++
			}
			if a.Kind == "task" && strings.Contains(a.Subject, "Answer the reply") {
				task++
			}
		}
		if email != 1 || task != 1 {
			t.Fatalf("activities %+v: want one reply and one task", acts.Items)
		}
		if bs, _ := st.Read().MailReplies(ctx, f.ws2, foreign.ContactID); len(bs) != 0 {
			t.Fatalf("A's mailbox recorded a reply in B: %+v", bs)
		}
		// Read again: the human reply marked unseen by a person, and a second
		// copy of it delivered. Nothing new is recorded.
		box.markUnseen(1)
		box.deliver(human)
		res, err = f.svc.PollIMAP(ctx, f.ws)
		if err != nil || res != (mail.IMAPPoll{Fetched: 2, Duplicates: 2}) {
			t.Fatalf("second poll %+v %v", res, err)
		}
		rs, err := st.Read().MailReplies(ctx, f.ws, f.contacts[0].ID)
		if err != nil || len(rs) != 1 || len(hooked) != 1 {
			t.Fatalf("replies %+v hook %v %v", rs, hooked, err)
		}
		if v, _ := f.svc.IMAP(ctx, f.ws); v.LastPollAt == nil || v.LastFetched != 2 || v.LastError != "" {
			t.Fatalf("last poll %+v", v)
		}
		// Nothing unseen: a poll reads nothing.
		if res, err := f.svc.PollIMAP(ctx, f.ws); err != nil || res != (mail.IMAPPoll{}) {
			t.Fatalf("empty poll %+v %v", res, err)
		}
		// A mailbox whose password stopped working: the poll fails, the row
		// says why, without the password.
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser, Password: ptrTo("rotated-elsewhere")}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PollIMAP(ctx, f.ws); err == nil {
			t.Fatal("poll with a wrong password succeeded")
		}
		v, _ = f.svc.IMAP(ctx, f.ws)
		if !strings.Contains(v.LastError, "refused") || strings.Contains(v.LastError, "rotated-elsewhere") {
			t.Fatalf("last error %q", v.LastError)
		}
		// PollAllIMAP (the job) skips disabled mailboxes; B has none.
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Enabled: ptrTo(false), Host: host, Port: port, TLS: "none", Username: imapUser}); err != nil {
			t.Fatal(err)
		}
		before, _ := f.svc.IMAP(ctx, f.ws)
		if err := f.svc.PollAllIMAP(ctx); err != nil {
			t.Fatal(err)
		}
		if after, _ := f.svc.IMAP(ctx, f.ws); !after.LastPollAt.Equal(*before.LastPollAt) {
			t.Fatalf("a disabled mailbox was polled: %v → %v", before.LastPollAt, after.LastPollAt)
		}
		// The same row does not open in another workspace (the id is bound in).
		if _, err := f.svc.TestIMAP(ctx, f.ws2, mail.IMAPInput{Host: host, Port: port, TLS: "none", Username: imapUser}); !fieldIs(err, "password") {
			t.Fatalf("B without a mailbox: %v", err)
		}
	})
}

// Implicit TLS: a certificate the install trusts connects; an unknown one is
// refused with the reason.
func TestIMAPTLS(t *testing.T) {
	st := storetest.New(t, store.SQLite)
	f := setup(t, st, 1)
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.StartTLS()
	cert := hs.TLS.Certificates[0]
	roots := hs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	hs.Close()
	addr := imapServer(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	_, port := hostPort(t, addr)
	in := mail.IMAPInput{Host: "127.0.0.1", Port: port, TLS: "tls", Username: imapUser, Password: ptrTo(imapPass)}
	chk, err := f.svc.TestIMAP(context.Background(), f.ws, in)
	if err != nil || chk.OK || !strings.Contains(chk.Error, "certificate") {
		t.Fatalf("untrusted certificate: %+v %v", chk, err)
	}
	f.svc.IMAPTLSConfig = &tls.Config{RootCAs: roots}
	chk, err = f.svc.TestIMAP(context.Background(), f.ws, in)
	if err != nil || !chk.OK || chk.Mailbox != "INBOX" {
		t.Fatalf("trusted certificate: %+v %v", chk, err)
	}
}

func fieldIs(err error, field string) bool {
	var fe *store.FieldError
	for e := err; e != nil; {
		if x, ok := e.(*store.FieldError); ok {
			fe = x
			break
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return fe != nil && fe.Field == field
}

// TestIMAPRefusesInternalHosts: a workspace admin names the reply mailbox, so
// the poller must not become a way into this machine or its network. Hosts in
// blocked ranges or notations are refused on save, and a row that names one
// anyway (saved before the check existed) is refused at dial time.
func TestIMAPRefusesInternalHosts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st, 1)
		f.svc.IMAPNet = safehttp.New() // the production policy: no loopback allowance
		act := model.Actor{Workspace: f.ws, Label: "admin@a"}
		for _, host := range []string{"127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "100.64.0.1",
			"0x7f.1", "2130706433", "0177.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "fd00::1", "mail.internal", "imap.local"} {
			_, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: host, Port: 993, TLS: "tls", Username: "u", Password: ptrTo("p")})
			if !fieldIs(err, "host") {
				t.Errorf("host %q saved: %v", host, err)
			}
			chk, err := f.svc.TestIMAP(ctx, f.ws, mail.IMAPInput{Host: host, Port: 993, TLS: "tls", Username: "u", Password: ptrTo("p")})
			if !fieldIs(err, "host") {
				t.Errorf("host %q tested: %+v, %v", host, chk, err)
			}
		}
		if _, err := f.svc.SaveIMAP(ctx, act, mail.IMAPInput{Host: "imap.example.com", Port: 993, TLS: "tls", Username: "u", Password: ptrTo("p")}); err != nil {
			t.Fatalf("a public host name is refused: %v", err)
		}

		// A stored loopback host (the row written past the service) is
		// refused when the socket is about to connect.
		addr := imapServer(t, nil)
		host, port := hostPort(t, addr)
		err := st.InTx(ctx, func(q store.Q) error {
			m, err := q.GetMailIMAP(ctx, f.ws)
			if err != nil {
				return err
			}
			m.Host, m.Port, m.TLS = host, port, "none"
			return q.SaveMailIMAP(ctx, f.ws, &m)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.PollIMAP(ctx, f.ws)
		if err == nil || !strings.Contains(err.Error(), "is not allowed: a loopback address") {
			t.Fatalf("poll of a loopback mailbox: %v, want a dial-time refusal", err)
		}
	})
}
