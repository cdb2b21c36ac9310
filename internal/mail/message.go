package mail

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-msgauth/dkim"
)

// Message is one outgoing mail, rendered and ready to serialise.
type Message struct {
	FromName, From, ReplyTo string
	To                      string
	Subject                 string
	MessageID               string // with angle brackets
	Date                    time.Time
	UnsubscribeURL          string
	UnsubscribeMailto       string
	HTML, Text              []byte // bodies before the footer
	PostalAddress           string
}

// DKIMHeaders are the header fields the signature covers.
var DKIMHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To", "MIME-Version", "Content-Type"}

// MessageID derives the deterministic Message-ID of a ledger row from its
// workspace and dedupe key, so a reply's In-Reply-To finds the send.
func MessageID(ws int64, dedupeKey, domain string) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d\x00%s", ws, dedupeKey)))
	id := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15]))
	return fmt.Sprintf("<%s.%d@%s>", id, ws, domain)
}

// sanitize drops control characters (CR and LF above all: header injection)
// and invalid UTF-8.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// EncodeHeader returns a header field "Name: value\r\n" with value sanitised,
// RFC 2047-encoded when not ASCII, and folded at 78 columns where it can be.
func EncodeHeader(name, value string) string {
	v := strings.TrimSpace(sanitize(value))
	ascii := true
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		v = mime.QEncoding.Encode("utf-8", v)
	} else if strings.Contains(v, "=?") || longestWord(v) > maxHeaderWord {
		// Text that looks like an encoded word is encoded so it reads back as
		// itself; a word too long for one line (RFC 5322: 998 bytes) is
		// encoded as encoded words short enough to fold between.
		v = forceQ(v)
	}
	return fold(name+": ", v)
}

// maxHeaderWord is the longest unencoded word EncodeHeader writes: with a
// header name, it stays well inside a 998-byte line.
const maxHeaderWord = 900

func longestWord(s string) int {
	n := 0
	for _, w := range strings.Split(s, " ") {
		n = max(n, len(w))
	}
	return n
}

// forceQ encodes ASCII s as RFC 2047 Q encoded words (mime.QEncoding leaves
// ASCII alone, so "=?...?=" would be decoded by the reader).
func forceQ(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i += 40 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("=?utf-8?q?")
		for _, c := range []byte(s[i:min(i+40, len(s))]) {
			switch {
			case c == ' ':
				b.WriteByte('_')
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
				b.WriteByte(c)
			default:
				b.WriteByte('=')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
		b.WriteString("?=")
	}
	return b.String()
}

func fold(head, v string) string {
	var b strings.Builder
	b.WriteString(head)
	col := len(head)
	for i, w := range strings.Split(v, " ") {
		if i > 0 {
			if col+1+len(w) > 78 && col > len(head) {
				b.WriteString("\r\n ")
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteString("\r\n")
	return b.String()
}

func address(name, addr string) string {
	return (&mail.Address{Name: sanitize(name), Address: sanitize(addr)}).String()
}

// Footer is appended to every message: the postal address and a visible
// unsubscribe link (CAN-SPAM, RFC 8058's visible counterpart).
func footerHTML(postal, unsub string) string {
	return `<hr style="border:none;border-top:1px solid #ddd;margin:24px 0 8px"><p style="font-size:12px;color:#666">` +
		strings.ReplaceAll(html.EscapeString(postal), "\n", "<br>") +
		`<br><a href="` + html.EscapeString(unsub) + `">Unsubscribe</a> from these emails.</p>`
}

func footerText(postal, unsub string) string {
	return "\n--\n" + postal + "\nUnsubscribe: " + unsub + "\n"
}

// Build serialises m as RFC 5322 with a multipart/alternative body
// (text/plain then text/html, quoted-printable) into b.
func (m *Message) Build(b *bytes.Buffer) error {
	if m.From == "" || m.To == "" || m.MessageID == "" || m.UnsubscribeURL == "" {
		return errors.New("mail: message needs From, To, Message-ID and an unsubscribe URL")
	}
	boundary := "=_rs_" + strings.Trim(strings.SplitN(m.MessageID, "@", 2)[0], "<")
	b.WriteString(fold("From: ", address(m.FromName, m.From)))
	b.WriteString(fold("To: ", address("", m.To)))
	if m.ReplyTo != "" {
		b.WriteString(fold("Reply-To: ", address("", m.ReplyTo)))
	}
	b.WriteString(EncodeHeader("Subject", m.Subject))
	b.WriteString("Date: " + m.Date.Format(time.RFC1123Z) + "\r\n")
	b.WriteString("Message-ID: " + sanitize(m.MessageID) + "\r\n")
	lu := "<" + sanitize(m.UnsubscribeURL) + ">"
	if m.UnsubscribeMailto != "" {
		lu += ", <" + sanitize(m.UnsubscribeMailto) + ">"
	}
	b.WriteString(fold("List-Unsubscribe: ", lu))
	b.WriteString("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString(`Content-Type: multipart/alternative; boundary="` + boundary + "\"\r\n\r\n")
	// Body and footer are encoded as one text (a line may run across them),
	// joined in a pooled scratch buffer rather than a new copy per part.
	scratch := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(scratch)
	part := func(ctype string, body []byte, footer string) error {
		b.WriteString("--" + boundary + "\r\nContent-Type: " + ctype + "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		*scratch = append(append((*scratch)[:0], body...), footer...)
		qp(b, *scratch)
		b.WriteString("\r\n")
		return nil
	}
	if err := part("text/plain", m.Text, footerText(m.PostalAddress, m.UnsubscribeURL)); err != nil {
		return err
	}
	if err := part("text/html", m.HTML, footerHTML(m.PostalAddress, m.UnsubscribeURL)); err != nil {
		return err
	}
	b.WriteString("--" + boundary + "--\r\n")
	return nil
}

// scratchPool holds Build's buffers for a part's body and footer.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// buildSize is about how many bytes Build writes for bodies of htmlLen and
// textLen bytes: quoted-printable adds soft breaks and "=3D" for each "="
// (common in HTML attributes), headers and footers add about 2 kB.
func buildSize(htmlLen, textLen int) int {
	return (htmlLen+textLen)*9/8 + 2048
}

// qp writes src quoted-printable (RFC 2045): lines of at most 76 characters
// with soft breaks, CRLF kept as hard breaks, "=", controls, 8-bit bytes and
// whitespace before a break encoded. (mime/quotedprintable works byte by byte
// through an interface; this runs for every message.)
func qp(dst *bytes.Buffer, src []byte) {
	const hexd = "0123456789ABCDEF"
	dst.Grow(len(src) + len(src)/8) // "=3D" for each "=" of HTML attributes, soft breaks
	n := 0
	for i := 0; i < len(src); {
		// Copy a run of bytes that need no encoding in one write.
		j := i
		for j < len(src) && n+(j-i) < 75 && qpSafe[src[j]] {
			j++
		}
		if j > i {
			// Whitespace right before a line break (or the end) must be encoded.
			if k := j - 1; (src[k] == ' ' || src[k] == '\t') && (j == len(src) || src[j] == '\r' || src[j] == '\n') {
				j = k
			}
			dst.Write(src[i:j])
			n += j - i
			i = j
			if i == len(src) {
				break
			}
		}
		c := src[i]
		switch {
		case c == '\n' || c == '\r' && i+1 < len(src) && src[i+1] == '\n':
			if c == '\r' {
				i++
			}
			dst.WriteString("\r\n")
			n = 0
			i++
			continue
		case qpSafe[c] && n < 75:
			// whitespace held back above: encode it
		case qpSafe[c]:
			dst.WriteString("=\r\n")
			n = 0
			continue
		}
		if n+3 > 75 {
			dst.WriteString("=\r\n")
			n = 0
		}
		dst.Write([]byte{'=', hexd[c>>4], hexd[c&15]})
		n += 3
		i++
	}
}

// qpSafe marks the bytes quoted-printable writes literally.
var qpSafe = func() (t [256]bool) {
	for c := ' '; c <= '~'; c++ {
		t[c] = c != '='
	}
	t['\t'] = true
	return
}()

// Signer signs messages with one workspace's DKIM key.
type Signer struct {
	opts dkim.SignOptions
}

// NewSigner parses a PEM private key (RSA in PKCS#1 or PKCS#8, or Ed25519 in PKCS#8).
func NewSigner(domain, selector, keyPEM string) (*Signer, error) {
	blk, _ := pem.Decode([]byte(keyPEM))
	if blk == nil {
		return nil, errors.New("dkim_key: not a PEM block")
	}
	var key crypto.Signer
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		key = k
	} else {
		k8, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("dkim_key: %v", err)
		}
		switch k := k8.(type) {
		case *rsa.PrivateKey:
			key = k
		case ed25519.PrivateKey:
			key = k
		default:
			return nil, fmt.Errorf("dkim_key: unsupported key type %T", k8)
		}
	}
	if domain == "" || selector == "" {
		return nil, errors.New("dkim_domain and dkim_selector are required with a key")
	}
	return &Signer{opts: dkim.SignOptions{Domain: domain, Selector: selector, Signer: key, HeaderKeys: DKIMHeaders,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}}, nil
}

// Sign returns raw with a DKIM-Signature header in front.
func (s *Signer) Sign(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	opts := s.opts
	if err := dkim.Sign(&out, bytes.NewReader(raw), &opts); err != nil {
		return nil, fmt.Errorf("dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// validAddress reports whether s is a bare addr-spec.
func validAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && utf8.ValidString(s)
}
