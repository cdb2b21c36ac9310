package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// TestReplyMailboxAndUpload: an admin tests the reply mailbox against a real
// IMAP server on loopback (a wrong password is named, then it works), saves
// it; then uploads a PDF into the content library and sees it listed with its
// file name and size.
func TestReplyMailboxAndUpload(t *testing.T) {
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			b := newBrowser(t)
			e := apptest.New(t, kind)
			mem := imapmemserver.New()
			u := imapmemserver.NewUser("replies@alpha.example", "imap-pw")
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

			admin := e.A.Users[model.RoleAdmin]
			b.run("sign in",
				chromedp.Navigate(e.URL+"/login?next=%2Fsettings%2Fmail"),
				chromedp.WaitVisible(`#email`),
				chromedp.SendKeys(`#email`, admin.Email),
				chromedp.SendKeys(`#password`, apptest.Password),
				chromedp.Click(`button[type=submit]`),
				chromedp.WaitVisible(`#h-imap`),
			)
			b.run("a wrong password",
				chromedp.SetValue(`#i-host`, host),
				chromedp.SetValue(`#i-port`, port),
				chromedp.SetValue(`#i-tls`, "none"),
				chromedp.SetValue(`#i-username`, "replies@alpha.example"),
				chromedp.SetValue(`#i-password`, "not-it"),
				chromedp.Click(`#imap button[formaction="/settings/mail/imap/test"]`),
				chromedp.WaitVisible(`#imap .alert-bad`),
			)
			mustContain(t, "test failed", b.text(`#imap .alert-bad`), "Connection test failed: login as", "refused")
			b.run("the right password",
				chromedp.SetValue(`#i-password`, "imap-pw"),
				chromedp.Click(`#imap button[formaction="/settings/mail/imap/test"]`),
				chromedp.WaitVisible(`#imap .alert[role=status]`),
			)
			mustContain(t, "test ok", b.text(`#imap .alert[role=status]`), "Connection works: INBOX has 0 messages")
			b.screenshot(string(kind) + "-settings-imap-test")
			b.run("save",
				chromedp.SetValue(`#i-password`, "imap-pw"),
				chromedp.Click(`#imap button.btn-primary`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "saved", b.text(`.notice`), "Reply mailbox saved")
			mustContain(t, "status", b.text(`#imap .details`), "Polling", "On", "Last read")
			b.screenshot(string(kind) + "-settings-imap-saved")

			pdf := filepath.Join(t.TempDir(), "SMB pricing guide.pdf")
			if err := os.WriteFile(pdf, []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			b.run("upload a file into the content library",
				chromedp.Navigate(e.URL+"/content"),
				chromedp.WaitVisible(`#c-title`),
				chromedp.SetValue(`#c-title`, "SMB pricing guide"),
				chromedp.SetValue(`#c-type`, "guide"),
				chromedp.SetUploadFiles(`#c-file`, []string{pdf}),
				chromedp.Click(`aside form button.btn-primary`),
				chromedp.WaitVisible(`.notice`),
			)
			mustContain(t, "listed", b.text(`table.table tbody`), "SMB pricing guide", "SMB pricing guide.pdf · 51 bytes")
			b.screenshot(string(kind) + "-content-upload")
			b.checkConsole()
		})
	}
}
