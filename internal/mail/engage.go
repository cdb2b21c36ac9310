package mail

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Open and click tracking (docs/mail.md "Open and click tracking"). Compose
// rewrites the links of the rendered HTML to /c/{token} and appends a pixel
// /o/{token}. A token is signed and carries the workspace, the send and (for a
// click) the target URL, so a click can only redirect to a URL that was in
// that message; nothing is looked up to find where to go.

// MachineWindow: an event this soon after the send's delivery is a gateway
// scanning or prefetching the message, not a person.
const MachineWindow = 10 * time.Second

// maxTrackedURL: longer links are left as they are (the token would carry them).
const maxTrackedURL = 2048

// EngageToken is a verified open or click token.
type EngageToken struct {
	Kind      string // store.MailOpen or store.MailClick
	Workspace int64
	Send      int64
	URL       string // clicks only
}

// ErrBadEngageToken is a token that fails verification.
var ErrBadEngageToken = errors.New("tracking link is invalid")

// engagePayload is "e1|o|ws|send" or "e1|c|ws|send|url".
func engagePayload(buf []byte, kind byte, ws, send int64, url string) []byte {
	buf = append(buf, "e1|"...)
	buf = append(buf, kind, '|')
	buf = strconv.AppendInt(buf, ws, 10)
	buf = append(buf, '|')
	buf = strconv.AppendInt(buf, send, 10)
	if kind == 'c' {
		buf = append(buf, '|')
		buf = append(buf, url...)
	}
	return buf
}

// engageMAC is domain-separated from unsubscribe tokens ("unsubscribe:"), so
// one kind of token never verifies as the other.
func engageMAC(secret, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("engage:"))
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// engageSigner signs many tokens without allocating per token: a keyed HMAC
// (Reset keeps the key state) and a scratch buffer, pooled per secret.
type engageSigner struct {
	h       hash.Hash
	payload []byte
	sum     []byte
	sig     []byte // a verified token's decoded signature
}

type engageKeys struct {
	secret []byte
	pool   sync.Pool
}

func (s *Service) signers() *engageKeys {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engage == nil || !bytes.Equal(s.engage.secret, s.Secret) {
		k := &engageKeys{secret: bytes.Clone(s.Secret)}
		k.pool.New = func() any {
			return &engageSigner{h: hmac.New(sha256.New, k.secret), payload: make([]byte, 0, 256), sum: make([]byte, 0, sha256.Size), sig: make([]byte, 0, 32)}
		}
		s.engage = k
	}
	return s.engage
}

// appendToken appends base64url(payload) "." base64url(mac[:16]) to dst.
func (g *engageSigner) appendToken(dst []byte, kind byte, ws, send int64, url string) []byte {
	g.payload = engagePayload(g.payload[:0], kind, ws, send, url)
	g.h.Reset()
	g.h.Write([]byte("engage:"))
	g.h.Write(g.payload)
	g.sum = g.h.Sum(g.sum[:0])
	dst = b64.AppendEncode(dst, g.payload)
	dst = append(dst, '.')
	return b64.AppendEncode(dst, g.sum[:16])
}

// appendUnsubToken appends SignToken's token for t to dst, with the pooled
// keyed HMAC (the same secret signs both kinds; the MAC input's prefix keeps
// them apart).
func (g *engageSigner) appendUnsubToken(dst []byte, t Token) []byte {
	p := append(g.payload[:0], "v1|"...)
	p = strconv.AppendInt(p, t.Workspace, 10)
	p = append(p, '|')
	p = strconv.AppendInt(p, t.Contact, 10)
	p = append(p, '|')
	p = strconv.AppendInt(p, t.Issued.Unix(), 10)
	p = append(p, '|')
	p = append(p, strings.ToLower(t.Email)...)
	g.payload = p
	g.h.Reset()
	g.h.Write([]byte("unsubscribe:"))
	g.h.Write(p)
	g.sum = g.h.Sum(g.sum[:0])
	dst = b64.AppendEncode(dst, p)
	dst = append(dst, '.')
	return b64.AppendEncode(dst, g.sum[:16])
}

func (s *Service) signEngage(kind byte, ws, send int64, url string) string {
	k := s.signers()
	g := k.pool.Get().(*engageSigner)
	defer k.pool.Put(g)
	return string(g.appendToken(nil, kind, ws, send, url))
}

// VerifyEngage checks a token's signature in constant time. Engagement tokens
// do not expire: old newsletters keep working links.
func VerifyEngage(secret []byte, tok string) (EngageToken, error) {
	return verifyEngage(tok, nil, nil, func(payload, sig []byte) bool { return hmac.Equal(sig, engageMAC(secret, payload)) })
}

// verifyEngage is VerifyEngage with the service's pooled keyed HMAC: the
// open and click endpoints verify tens of thousands of tokens a second.
func (s *Service) verifyEngage(tok string) (EngageToken, error) {
	k := s.signers()
	g := k.pool.Get().(*engageSigner)
	defer k.pool.Put(g)
	// The token decodes into the signer's own buffers: no allocation per
	// request but a click's URL.
	return verifyEngage(tok, g.payload[:0], g.sig[:0], func(payload, sig []byte) bool {
		g.h.Reset()
		g.h.Write([]byte("engage:"))
		g.h.Write(payload)
		g.sum = g.h.Sum(g.sum[:0])
		return hmac.Equal(sig, g.sum[:16])
	})
}

// verifyEngage decodes tok's payload and signature (appended to pbuf and
// sbuf, which may be nil), checks them with valid and parses the payload.
func verifyEngage(tok string, pbuf, sbuf []byte, valid func(payload, sig []byte) bool) (EngageToken, error) {
	var t EngageToken
	p, s, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 4*maxTrackedURL {
		return t, ErrBadEngageToken
	}
	// decodeB64 refuses what RawURLEncoding would skip (CR, LF).
	pb, err1 := decodeB64(pbuf, p)
	sb, err2 := decodeB64(sbuf, s)
	if err1 != nil || err2 != nil || !valid(pb, sb) {
		return t, ErrBadEngageToken
	}
	// "e1|o|ws|send" or "e1|c|ws|send|url", parsed in place: only a click's
	// URL becomes a string.
	if len(pb) < 8 || string(pb[:3]) != "e1|" || pb[4] != '|' {
		return t, ErrBadEngageToken
	}
	kind, rest := pb[3], pb[5:]
	wsEnd := bytes.IndexByte(rest, '|')
	if wsEnd < 0 {
		return t, ErrBadEngageToken
	}
	ws, ok1 := parseID(rest[:wsEnd])
	rest = rest[wsEnd+1:]
	sendEnd := bytes.IndexByte(rest, '|')
	sendField, tail := rest, []byte(nil)
	if sendEnd >= 0 {
		sendField, tail = rest[:sendEnd], rest[sendEnd+1:]
	}
	send, ok2 := parseID(sendField)
	if !ok1 || !ok2 {
		return t, ErrBadEngageToken
	}
	t = EngageToken{Workspace: ws, Send: send}
	switch {
	case kind == 'o' && sendEnd < 0:
		t.Kind = store.MailOpen
	case kind == 'c' && sendEnd >= 0 && isHTTP(string(tail)):
		t.Kind, t.URL = store.MailClick, string(tail)
	default:
		return EngageToken{}, ErrBadEngageToken
	}
	return t, nil
}

// parseID is strconv.ParseInt(b, 10, 64) without converting b to a string
// (an optional sign, digits, no overflow).
func parseID(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// OpenURL is the pixel address for a send of ws.
func (s *Service) OpenURL(ws, send int64) string {
	return s.BaseURL + "/o/" + s.signEngage('o', ws, send, "")
}

// ClickURL is the tracked address of target in a send of ws.
func (s *Service) ClickURL(ws, send int64, target string) string {
	return s.BaseURL + "/c/" + s.signEngage('c', ws, send, target)
}

func isHTTP(u string) bool {
	return len(u) > 8 && (strings.EqualFold(u[:7], "http://") || strings.EqualFold(u[:8], "https://"))
}

// track rewrites html's http(s) links (not links to this install, such as the
// unsubscribe link) and appends the
// open pixel. It runs once per message on the delivery path: one pass over the
// bytes, no regexp, tokens appended in place.
func (s *Service) track(ws, send int64, body []byte, unsub string) []byte {
	base := html.EscapeString(s.BaseURL)
	k := s.signers()
	g := k.pool.Get().(*engageSigner)
	defer k.pool.Put(g)
	out := RewriteLinks(body, func(dst []byte, u string) ([]byte, bool) {
		// Links to this install (unsubscribe, confirmations) are not marketing
		// clicks and stay as they are.
		own := len(u) > len(s.BaseURL) && u[len(s.BaseURL)] == '/' && strings.HasPrefix(u, s.BaseURL)
		if !isHTTP(u) || len(u) > maxTrackedURL || u == unsub || own {
			return dst, false
		}
		dst = append(dst, base...)
		dst = append(dst, "/c/"...)
		return g.appendToken(dst, 'c', ws, send, u), true
	})
	if len(out) == len(body) {
		// Unchanged: do not append into the renderer's buffer.
		out = append(make([]byte, 0, len(body)+len(base)+len(pixelHead)+len(pixelTail)+64), body...)
	}
	out = append(out, pixelHead...)
	out = append(out, base...)
	out = append(out, "/o/"...)
	out = g.appendToken(out, 'o', ws, send, "")
	return append(out, pixelTail...)
}

const (
	pixelHead = `<img src="`
	pixelTail = `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// RewriteLinks returns src with the href of each <a> tag passed through
// rewrite, which gets the unescaped URL and appends the new value to dst (ok
// false keeps the link). The new value is written double-quoted as appended
// (it must be HTML-safe). src is returned as is when nothing changes.
func RewriteLinks(src []byte, rewrite func(dst []byte, u string) ([]byte, bool)) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '<')
		if j < 0 {
			break
		}
		i += j + 1
		if i+1 >= len(src) || src[i]|0x20 != 'a' || !isSpace(src[i+1]) {
			continue
		}
		k := i + 1
	attrs:
		for k < len(src) {
			for k < len(src) && isSpace(src[k]) {
				k++
			}
			if k >= len(src) || src[k] == '>' {
				break
			}
			if src[k] == '/' {
				k++
				continue
			}
			ns := k
			for k < len(src) && !isSpace(src[k]) && src[k] != '=' && src[k] != '>' && src[k] != '/' {
				k++
			}
			name := src[ns:k]
			for k < len(src) && isSpace(src[k]) {
				k++
			}
			if k >= len(src) || src[k] != '=' {
				continue
			}
			k++
			for k < len(src) && isSpace(src[k]) {
				k++
			}
			if k >= len(src) {
				break
			}
			start := k // the value with its quotes
			var vs, ve int
			if q := src[k]; q == '"' || q == '\'' {
				e := bytes.IndexByte(src[k+1:], q)
				if e < 0 {
					k = len(src)
					break attrs
				}
				vs, ve = k+1, k+1+e
				k = ve + 1
			} else {
				vs = k
				for k < len(src) && !isSpace(src[k]) && src[k] != '>' {
					k++
				}
				ve = k
			}
			if len(name) != 4 || !bytes.EqualFold(name, []byte("href")) {
				continue
			}
			u := strings.TrimSpace(string(src[vs:ve]))
			if strings.IndexByte(u, '&') >= 0 {
				u = html.UnescapeString(u)
			}
			if out == nil {
				out = make([]byte, 0, len(src)+len(src)/4+256)
			}
			mark := len(out)
			out = append(out, src[last:start]...)
			out = append(out, '"')
			if nu, ok := rewrite(out, u); ok {
				out = append(nu, '"')
				last = k
			} else {
				out = out[:mark]
			}
		}
		i = k
	}
	if last == 0 {
		return src
	}
	return append(out, src[last:]...)
}

// Scanner user agents (lower-case substrings). Security gateways fetch every
// link and image of a message before (or instead of) the person; scripts and
// headless browsers are not people either. docs/mail.md lists them.
var scannerAgents = []string{
	"proofpoint", "pfpt", "mimecast", "barracuda", "safelinks", "safe links", "trendmicro", "trend micro", "sophos", "forcepoint", "ironport", "fortiguard", "symantec",
	"curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "go-http-client", "java/", "okhttp", "libwww-perl", "apache-httpclient", "node-fetch", "axios/",
	"headlesschrome", "phantomjs", "bot", "spider", "crawler", "scanner",
}

// classify decides whether an event at time at with user agent ua is a
// machine's, and why.
func classify(ua string, at time.Time, snd store.Send) (bool, string) {
	if machine, why := classifyAgent(ua); machine {
		return true, why
	}
	return classifyTime(at, snd)
}

// classifyAgent is classify's user-agent half: the same agent always gets
// the same answer (the writer remembers it).
func classifyAgent(ua string) (bool, string) {
	l := strings.ToLower(ua)
	if strings.TrimSpace(l) == "" {
		return true, "no user agent"
	}
	for _, a := range scannerAgents {
		if strings.Contains(l, a) {
			return true, "scanner user agent (" + a + ")"
		}
	}
	return false, ""
}

// classifyTime is classify's time half: too soon after delivery is a gateway.
func classifyTime(at time.Time, snd store.Send) (bool, string) {
	delivered := snd.FinishedAt
	if delivered == nil {
		// SMTP done, outcome not yet recorded: the message is seconds old.
		delivered = snd.StartedAt
	}
	if delivered == nil || at.Sub(*delivered) < MachineWindow {
		return true, fmt.Sprintf("within %s of delivery", MachineWindow)
	}
	return false, ""
}

// Opened reports whether a person opened the send of an enrollment's step. A
// human click counts too (it proves the open when images were blocked);
// machine events never do.
func (s *Service) Opened(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error) {
	return q.MailEngaged(ctx, ws, enrollmentID, stepID, store.MailOpen, store.MailClick)
}

// Clicked reports whether a person clicked a link in the send of an
// enrollment's step.
func (s *Service) Clicked(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error) {
	return q.MailEngaged(ctx, ws, enrollmentID, stepID, store.MailClick)
}

// gif is a 1×1 transparent GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// Response headers of the open pixel and the click redirect, shared by every
// answer (net/http only reads them; each slice is full, so an Add elsewhere
// would copy it rather than write into it).
var (
	hdrGIF       = []string{"image/gif"}
	hdrNoStore0  = []string{"no-store, max-age=0"}
	hdrGIFLen    = []string{strconv.Itoa(len(gif))}
	hdrNoStore   = []string{"no-store"}
	hdrNoReferer = []string{"no-referrer"}
)

func (s *Service) openPixel(w http.ResponseWriter, r *http.Request) {
	s.ServeOpen(w, r, r.PathValue("token"))
}

func (s *Service) click(w http.ResponseWriter, r *http.Request) {
	s.ServeClick(w, r, r.PathValue("token"))
}

// ServeOpen answers GET /o/{token}: the GIF whatever happens to the record
// (a failed write is logged; the reader's mail client must not show a broken
// image). It returns the status it wrote; the app serves it ahead of the
// generic middleware (httpx.Lean).
func (s *Service) ServeOpen(w http.ResponseWriter, r *http.Request, token string) int {
	t, err := s.verifyEngage(token)
	if err != nil || t.Kind != store.MailOpen {
		render(w, http.StatusNotFound, page{Title: "Link not valid", Body: ErrBadEngageToken.Error()})
		return http.StatusNotFound
	}
	if _, err := s.record(r.Context(), t, r.UserAgent()); err != nil && !errors.Is(err, errEngageFull) {
		s.Log.Error("mail: record open", "workspace", t.Workspace, "send", t.Send, "err", err)
	}
	h := w.Header()
	h["Content-Type"] = hdrGIF
	h["Cache-Control"] = hdrNoStore0
	h["Content-Length"] = hdrGIFLen
	_, _ = w.Write(gif)
	return http.StatusOK
}

// ServeClick answers GET /c/{token}: a redirect to the URL signed into the
// token, never to anything else. It returns the status it wrote.
func (s *Service) ServeClick(w http.ResponseWriter, r *http.Request, token string) int {
	t, err := s.verifyEngage(token)
	if err != nil || t.Kind != store.MailClick {
		render(w, http.StatusNotFound, page{Title: "Link not valid", Body: ErrBadEngageToken.Error()})
		return http.StatusNotFound
	}
	contact, err := s.record(r.Context(), t, r.UserAgent())
	if err != nil && !errors.Is(err, errEngageFull) {
		s.Log.Error("mail: record click", "workspace", t.Workspace, "send", t.Send, "err", err)
	}
	target := t.URL
	if contact != 0 {
		// The landing page's tracking script hands this back, stitching the
		// visitor to the contact who clicked (people only: a scanner's
		// visitor id must not join the contact).
		target = withIdentify(target, s.IdentifyToken(t.Workspace, contact))
	}
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	h["Referrer-Policy"] = hdrNoReferer
	h["Location"] = []string{target}
	w.WriteHeader(http.StatusFound)
	return http.StatusFound
}
