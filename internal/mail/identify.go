package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// IdentifyParam is the query parameter a tracked click adds to its target: the
// tracking script on the landing page sends it back, and the visitor's earlier
// anonymous browsing joins the contact (docs/tracking.md).
const IdentifyParam = "rs_id"

// identifyTTL bounds how long a clicked link still identifies (a forwarded
// email should not tie someone else's browsing to the contact forever).
const identifyTTL = 30 * 24 * time.Hour

// ErrBadIdentify is an identify token that fails verification or expired.
var ErrBadIdentify = errors.New("identify token is invalid or expired")

func identifyMAC(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("identify:")) // domain-separated from unsubscribe and engagement tokens
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// IdentifyToken signs "workspace ws's contact, as of now".
// Every tracked click of a person signs one (with the pooled keyed HMAC of
// the engagement tokens, domain-separated by its prefix).
func (s *Service) IdentifyToken(ws, contact int64) string {
	k := s.signers()
	g := k.pool.Get().(*engageSigner)
	defer k.pool.Put(g)
	p := append(g.payload[:0], "i1|"...)
	p = strconv.AppendInt(p, ws, 10)
	p = append(p, '|')
	p = strconv.AppendInt(p, contact, 10)
	p = append(p, '|')
	p = strconv.AppendInt(p, s.Now().Unix(), 10)
	g.payload = p
	g.h.Reset()
	g.h.Write([]byte("identify:"))
	g.h.Write(p)
	g.sum = g.h.Sum(g.sum[:0])
	out := make([]byte, 0, base64.RawURLEncoding.EncodedLen(len(p))+1+base64.RawURLEncoding.EncodedLen(16))
	out = base64.RawURLEncoding.AppendEncode(out, p)
	out = append(out, '.')
	return string(base64.RawURLEncoding.AppendEncode(out, g.sum[:16]))
}

// VerifyIdentify checks tok and returns its workspace and contact.
func (s *Service) VerifyIdentify(tok string) (ws, contact int64, err error) {
	pb64, sb64, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 200 {
		return 0, 0, ErrBadIdentify
	}
	pb, err1 := decodeB64(nil, pb64)
	sb, err2 := decodeB64(nil, sb64)
	if err1 != nil || err2 != nil || !hmac.Equal(sb, identifyMAC(s.Secret, string(pb))) {
		return 0, 0, ErrBadIdentify
	}
	parts := strings.Split(string(pb), "|")
	if len(parts) != 4 || parts[0] != "i1" {
		return 0, 0, ErrBadIdentify
	}
	ws, e1 := strconv.ParseInt(parts[1], 10, 64)
	contact, e2 := strconv.ParseInt(parts[2], 10, 64)
	issued, e3 := strconv.ParseInt(parts[3], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || s.Now().Sub(time.Unix(issued, 0)) > identifyTTL {
		return 0, 0, ErrBadIdentify
	}
	return ws, contact, nil
}

// withIdentify appends the identify parameter to target's query, leaving the
// rest of the URL byte for byte as the message had it (unchanged when target
// does not parse).
func withIdentify(target, tok string) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	add := IdentifyParam + "=" + url.QueryEscape(tok)
	if u.RawQuery == "" {
		u.RawQuery = add
	} else {
		u.RawQuery += "&" + add
	}
	return u.String()
}
