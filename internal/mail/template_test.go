package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
)

func sample() *mail.Data {
	return &mail.Data{Contact: mail.ContactData{FirstName: "Zoë", LastName: "<script>", Email: "z@x.test", Custom: map[string]any{"plan": "pro", "seats": []any{1, 2}}},
		Account: mail.AccountData{Name: "Acme & Co"}, UnsubscribeURL: "https://crm.test/u/t", PostalAddress: "1 Street"}
}

func TestTemplateRender(t *testing.T) {
	tm, err := mail.Compile(`Hi {{.Contact.FirstName | upper}}`, `<p>{{.Contact.LastName}} at {{.Account.Name}} on {{.Contact.Custom.plan}}{{range .Contact.Custom.seats}}.{{.}}{{end}}</p><p>{{default "there" .Contact.Title}}</p>`, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(context.Background(), sample())
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi ZOË" {
		t.Errorf("subject %q", r.Subject)
	}
	if h := string(r.HTML); h != "<p>&lt;script&gt; at Acme &amp; Co on pro.1.2</p><p>there</p>" {
		t.Errorf("html %q", h)
	}
	if txt := string(r.Text); txt != "<script> at Acme & Co on pro.1.2\n\nthere\n" {
		t.Errorf("derived text %q", txt)
	}
}

// Bad templates name part and line:col; sandbox escapes are refused.
func TestTemplateErrors(t *testing.T) {
	for _, c := range []struct {
		subject, html, text string
		want                string
	}{
		{"ok", "<p>\n  {{.Contact.FirstName}\n</p>", "", "html template 2:3:"},
		{"{{if .Contact.FirstName}}x", "<p>x</p>", "", "subject template 1:"},
		{"ok", "<p>x</p>", "line one\n{{env \"HOME\"}}", "text template 2:1: function \"env\" not defined"},
		{"ok", `<p>{{readFile "/etc/passwd"}}</p>`, "", `function "readFile" not defined`},
		{"ok", `{{range 1000000000}}{{end}}`, "", "html template 1:"},
		{"ok", `{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`, "", "{{template}} is not allowed"},
		{"ok", `{{block "b" .}}x{{end}}`, "", "{{template}} is not allowed"},
		{"ok", "  ", "", "html template 1:1: empty"},
		{"ok", strings.Repeat("x", mail.MaxTemplateBytes+1), "", "longer than"},
	} {
		_, err := mail.Compile(c.subject, c.html, c.text)
		var te *mail.TemplateError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q/%q/%q: %v, want %q", c.subject, c.html, c.text, err, c.want)
		}
	}
	// {{range}} over a number is refused with its position.
	_, err := mail.Compile("ok", "<p>\n {{range $i := 5}}{{end}}</p>", "")
	if err == nil || !strings.Contains(err.Error(), "html template 2:") || !strings.Contains(err.Error(), "may only walk") {
		t.Errorf("range over int: %v", err)
	}
}

// Output is capped: a template cannot produce more than MaxOutputBytes.
func TestTemplateOutputCap(t *testing.T) {
	big := strings.Repeat("x", 60<<10)
	d := sample()
	d.Contact.Custom = map[string]any{"rows": make([]any, 10)}
	tm, err := mail.Compile("ok", `{{range .Contact.Custom.rows}}`+big+`{{end}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.Render(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "output longer than") {
		t.Fatalf("got %v", err)
	}
	// A context deadline already past stops rendering at the first write.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	tm, _ = mail.Compile("ok", "<p>{{.Contact.FirstName}}</p>", "")
	if _, err := tm.Render(ctx, sample()); err == nil || !strings.Contains(err.Error(), "render took longer") {
		t.Fatalf("deadline: %v", err)
	}
}

func TestToken(t *testing.T) {
	secret := []byte("install-secret")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := mail.SignToken(secret, mail.Token{Workspace: 3, Contact: 9, Email: "Ann@X.test", Issued: now})
	got, err := mail.VerifyToken(secret, tok, now.Add(60*24*time.Hour))
	if err != nil || got.Workspace != 3 || got.Contact != 9 || got.Email != "ann@x.test" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := mail.VerifyToken(secret, tok, now.Add(mail.TokenTTL+time.Hour)); !errors.Is(err, mail.ErrBadToken) {
		t.Errorf("expired token accepted: %v", err)
	}
	if _, err := mail.VerifyToken([]byte("other"), tok, now); !errors.Is(err, mail.ErrBadToken) {
		t.Error("token verified with another secret")
	}
	other := mail.SignToken(secret, mail.Token{Workspace: 4, Contact: 9, Email: "ann@x.test", Issued: now})
	p1, _, _ := strings.Cut(tok, ".")
	_, s2, _ := strings.Cut(other, ".")
	if _, err := mail.VerifyToken(secret, p1+"."+s2, now); !errors.Is(err, mail.ErrBadToken) {
		t.Error("spliced token accepted")
	}
}

// A send's own variables reach the template; in HTML they are escaped like any
// other value (an attribute cannot be broken out of).
func TestTemplateVars(t *testing.T) {
	tm, err := mail.Compile("Confirm, {{.Contact.FirstName}}", `<a href="{{.Vars.confirm_url}}">Confirm</a>`, "Confirm: {{.Vars.confirm_url}}")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(context.Background(), &mail.Data{Contact: mail.ContactData{FirstName: "Ann"}, Vars: map[string]string{"confirm_url": `https://rs.example/subscribe/confirm/abc?x="><script>`}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.HTML), `href="https://rs.example/subscribe/confirm/abc?x=%22%3e%3cscript%3e"`) || !strings.Contains(string(r.Text), "Confirm: https://rs.example/subscribe/confirm/abc") {
		t.Fatalf("html %s\ntext %s", r.HTML, r.Text)
	}
	if r.Subject != "Confirm, Ann" {
		t.Fatalf("subject %q", r.Subject)
	}
}

// A text-only template gets an HTML part made from the rendered text, escaped,
// with paragraphs and line breaks kept (sequence steps written as plain text).
func TestTextOnlyTemplate(t *testing.T) {
	tm, err := mail.Compile("Hi {{.Contact.FirstName}}", "", "Hello {{.Contact.FirstName}},\nwelcome.\n\nSee <you> & soon")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tm.Render(context.Background(), &mail.Data{Contact: mail.ContactData{FirstName: "Zoë"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(r.HTML) != "<p>Hello Zoë,<br>\nwelcome.</p>\n<p>See &lt;you&gt; &amp; soon</p>\n" || string(r.Text) != "Hello Zoë,\nwelcome.\n\nSee <you> & soon" {
		t.Fatalf("html %q\ntext %q", r.HTML, r.Text)
	}
	if _, err := mail.Compile("x", "", " "); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("no body: %v", err)
	}
}
