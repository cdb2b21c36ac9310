package mail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TokenTTL is how long an unsubscribe link works (RFC 8058 senders are asked to
// honour old mail; the brief requires at least 60 days).
const TokenTTL = 180 * 24 * time.Hour

// Unsubscribe tokens are base64url("v1|ws|contact|issued unix|email") + "." +
// base64url(HMAC-SHA256(secret, payload)[:16]): bound to the workspace, the
// contact and the address, verifiable without a database row.

var b64 = base64.RawURLEncoding.Strict()

// decodeB64 decodes one part of a signed token, accepting only the canonical
// encoding: the base64url alphabet (the decoder alone skips CR and LF) and zero
// padding bits (Strict), so no other string decodes to the same bytes and a
// changed token never verifies.
func decodeB64(dst []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, base64.CorruptInputError(i)
		}
	}
	return b64.AppendDecode(dst, []byte(s))
}

// Token is a verified unsubscribe token.
type Token struct {
	Workspace, Contact int64
	Email              string
	Issued             time.Time
}

// ErrBadToken is any token that fails verification or has expired.
var ErrBadToken = errors.New("unsubscribe link is invalid or expired")

// SignToken makes a token for t.
func SignToken(secret []byte, t Token) string {
	payload := fmt.Sprintf("v1|%d|%d|%d|%s", t.Workspace, t.Contact, t.Issued.Unix(), strings.ToLower(t.Email))
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(mac(secret, payload))
}

func mac(secret []byte, payload string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("unsubscribe:"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}

// VerifyToken checks the signature (constant time) and the age at now.
func VerifyToken(secret []byte, tok string, now time.Time) (Token, error) {
	var t Token
	p, s, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 1024 {
		return t, ErrBadToken
	}
	pb, err1 := decodeB64(nil, p)
	sb, err2 := decodeB64(nil, s)
	if err1 != nil || err2 != nil || !hmac.Equal(sb, mac(secret, string(pb))) {
		return t, ErrBadToken
	}
	f := strings.SplitN(string(pb), "|", 5)
	if len(f) != 5 || f[0] != "v1" {
		return t, ErrBadToken
	}
	ws, e1 := strconv.ParseInt(f[1], 10, 64)
	c, e2 := strconv.ParseInt(f[2], 10, 64)
	iat, e3 := strconv.ParseInt(f[3], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil {
		return t, ErrBadToken
	}
	t = Token{Workspace: ws, Contact: c, Email: f[4], Issued: time.Unix(iat, 0).UTC()}
	if now.Sub(t.Issued) > TokenTTL {
		return Token{}, ErrBadToken
	}
	return t, nil
}
