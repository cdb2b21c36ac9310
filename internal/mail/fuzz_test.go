package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"mime"
	"net/textproto"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rightsize/rightsize/internal/mail"
)

// FuzzTemplateRender: any template either compiles and renders within the
// output cap, or fails with a TemplateError at a line:col; it never panics.
// Data cannot inject markup: every data string carries a tag, and the HTML
// part never holds that tag unescaped unless the template itself wrote it.
// The subject is one line.
func FuzzTemplateRender(f *testing.F) {
	for _, s := range []string{"<p>{{.Contact.FirstName}}</p>", "{{range .Contact.Custom}}{{.}}{{end}}", "{{if}}", "{{.Nope.Nope}}", "{{printf \"%v\" .}}", "{{define \"a\"}}{{end}}", "{{ call .Contact }}", "{{range $i := 3}}{{end}}",
		`<a href="{{.UnsubscribeURL}}" title={{.Account.Name}}>x</a>`, `<script>var n = {{.Contact.FirstName}};</script>`, `<style>p{color:{{.Contact.LastName}}}</style>`, `<textarea>{{.Contact.Email}}</textarea><!-- {{.Contact.Title}} -->`, `<img src=x onerror="{{.Vars.link}}">`} {
		f.Add(s, "Zoë")
	}
	const tag = "<x-rs-inj>"
	f.Fuzz(func(t *testing.T, src, name string) {
		tm, err := mail.Compile("Hi {{.Contact.FirstName}} {{.Account.Name}}", src, src)
		if err != nil {
			var te *mail.TemplateError
			if !errors.As(err, &te) || te.Line < 1 || te.Col < 1 {
				t.Fatalf("compile error %v is not a TemplateError with line:col", err)
			}
			return
		}
		d := sample()
		d.Contact.FirstName = name + tag
		d.Contact.LastName, d.Contact.Title, d.Contact.Email = tag, `"`+tag, tag+"@x.test"
		d.Account.Name, d.UnsubscribeURL, d.PostalAddress = `'>`+tag, "javascript:"+tag, tag
		d.Contact.Custom = map[string]any{"plan": tag, "seats": []any{tag, 2}}
		d.Vars = map[string]string{"link": tag}
		r, err := tm.Render(context.Background(), d)
		if err != nil {
			var te *mail.TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("render error %T %v", err, err)
			}
			return
		}
		if len(r.HTML) > mail.MaxOutputBytes || len(r.Text) > mail.MaxOutputBytes || strings.ContainsAny(r.Subject, "\r\n") {
			t.Fatalf("output over limits or subject with a line break: %d %d %q", len(r.HTML), len(r.Text), r.Subject)
		}
		if !strings.Contains(strings.ToLower(src), "x-rs-inj") && strings.Contains(strings.ToLower(string(r.HTML)), "<x-rs-inj") {
			t.Fatalf("data injected markup: template %q rendered %q", src, r.HTML)
		}
	})
}

// FuzzEncodeHeader: the field is one logical line (CRLF only as folding),
// lines stay under 998 bytes, and it decodes back to the sanitised value.
func FuzzEncodeHeader(f *testing.F) {
	for _, s := range []string{"Hello", "Grüße aus Köln", "a\r\nBcc: evil@x.test", "=?utf-8?q?x?=", strings.Repeat("long words ", 30), "\xff\xfe", "日本語のメール件名です、長いものもあります。日本語のメール件名です"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out := mail.EncodeHeader("Subject", v)
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("no CRLF end: %q", out)
		}
		body := strings.TrimSuffix(out, "\r\n")
		for i, line := range strings.Split(body, "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bare CR/LF in %q", out)
			}
			if i > 0 && !strings.HasPrefix(line, " ") {
				t.Fatalf("continuation without whitespace: %q", out)
			}
			if len(line) > 998 {
				t.Fatalf("line of %d bytes", len(line))
			}
		}
		h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(out + "\r\n"))).ReadMIMEHeader()
		if err != nil {
			t.Fatalf("unparseable %q: %v", out, err)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil {
			t.Fatalf("decode %q: %v", out, err)
		}
		want := strings.ToValidUTF8(v, "\uFFFD")
		want = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, want)
		want = strings.TrimSpace(want)
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") || !utf8.ValidString(got) {
			t.Fatalf("round trip: %q -> %q -> %q", v, out, got)
		}
	})
}

// FuzzMessageBody: any body survives Build → quoted-printable → decode, and
// no line of the message exceeds 78 characters outside headers.
func FuzzMessageBody(f *testing.F) {
	for _, s := range []string{"plain", "a=b \r\ntrailing \t\nlast ", strings.Repeat("é", 200), ".\r\n.leading dot", "\x00\x7f\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m := mail.Message{From: "a@b.test", To: "c@d.test", Subject: "s", MessageID: "<m@b.test>", Date: time.Unix(0, 0), UnsubscribeURL: "https://x.test/u/t", HTML: []byte(body), Text: []byte(body), PostalAddress: "1 St"}
		var buf bytes.Buffer
		if err := m.Build(&buf); err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(buf.String(), "\r\n\r\n")
		for _, line := range strings.Split(rest, "\r\n") {
			if len(line) > 78 {
				t.Fatalf("body line of %d", len(line))
			}
		}
		plain, html := parts(t, buf.Bytes())
		wantText := strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
		if !strings.HasPrefix(plain, wantText) || !strings.HasPrefix(html, wantText) {
			t.Fatalf("round trip: %q -> plain %q html %q", body, plain, html)
		}
	})
}

// FuzzInboundSnippet reads arbitrary messages the way the inbound hook does:
// never a panic, never invalid UTF-8 or more than 2,001 runes of snippet.
func FuzzInboundSnippet(f *testing.F) {
	f.Add("From: a@b\r\nMessage-ID: <x@y>\r\nIn-Reply-To: <s@rs>\r\nContent-Type: text/plain\r\n\r\nhello\r\n> quoted\r\n")
	f.Add("Message-ID: <x@y>\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--B--\r\n")
	f.Add("Subject: =?utf-8?q?Automatic_reply?=\r\nAuto-Submitted: auto-replied\r\n\r\naway")
	f.Fuzz(func(t *testing.T, raw string) {
		out := mail.InboundSnippet([]byte(raw))
		if !utf8.ValidString(out) || utf8.RuneCountInString(out) > 2001 {
			t.Fatalf("snippet %q", out)
		}
	})
}

// FuzzRewriteLinks: the link scanner never panics, never changes HTML when it
// rewrites nothing, and when it rewrites every link the result keeps all the
// text outside the href values (only <a href> values change).
func FuzzRewriteLinks(f *testing.F) {
	for _, s := range []string{`<a href="https://x.example/?a=1&amp;b=2">x</a>`, `<A HREF='http://y'>`, `<a href=https://z>`, `<a href="`, `<a `, `<a/`, `<a x= href=>`, `<<a a=b href="http://q"`, `<a href='http://a' href="http://b">`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if got := mail.RewriteLinks([]byte(src), func(d []byte, _ string) ([]byte, bool) { return d, false }); string(got) != src {
			t.Fatalf("unchanged rewrite altered %q into %q", src, got)
		}
		n := 0
		got := string(mail.RewriteLinks([]byte(src), func(d []byte, _ string) ([]byte, bool) { n++; return d, true }))
		if n > strings.Count(strings.ToLower(src), "href") {
			t.Fatalf("%d rewrites but only %d hrefs in %q", n, strings.Count(strings.ToLower(src), "href"), src)
		}
		if len(got) > len(src)+2*n {
			t.Fatalf("output grew past the quotes: %q -> %q", src, got)
		}
	})
}
