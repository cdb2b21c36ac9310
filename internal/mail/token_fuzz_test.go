package mail_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
)

// FuzzUnsubscribeToken: decoding any string never panics and verifies only
// what was signed with the secret, byte for byte (a token that verifies is the
// one SignToken makes for the fields it carries); a signed token verifies to
// its own fields; and any change to a signed token (one byte replaced,
// inserted or removed) never verifies. The last is what a non-strict base64
// decoder broke: a changed padding bit in the last character, or an inserted
// CR or LF, decoded to the same bytes. Engagement tokens (open/click) share
// the decoder and are held to the same rule.
// Seeds: testdata/fuzz/FuzzUnsubscribeToken.
func FuzzUnsubscribeToken(f *testing.F) {
	f.Add("djF8M3w5fDE3MDAwMDAwMDB8YW5uQHgudGVzdA.AAAAAAAAAAAAAAAAAAAAAA", int64(3), int64(9), "Ann@X.test", uint16(40), byte('x'), uint8(0))
	f.Add("", int64(1), int64(1), "a@b.test", uint16(0), byte('\n'), uint8(1))
	f.Add("..", int64(-1), int64(0), "", uint16(65535), byte(0), uint8(2))
	f.Add("x.y", int64(1<<62), int64(7), "ZOË@example.com|v1|2", uint16(5), byte('A'), uint8(0))
	secret := []byte("fuzz-secret-0123456789")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string, ws, contact int64, email string, pos uint16, b byte, how uint8) {
		// Arbitrary input: only a token this secret signed verifies.
		if got, err := mail.VerifyToken(secret, raw, now); err == nil {
			if again := mail.SignToken(secret, got); again != raw {
				t.Fatalf("%q verified as %+v, whose token is %q", raw, got, again)
			}
		} else if !errors.Is(err, mail.ErrBadToken) {
			t.Fatalf("error %v is not ErrBadToken", err)
		}
		if _, err := mail.VerifyEngage(secret, raw); err == nil {
			// The fuzzer cannot produce an engagement MAC for this secret.
			t.Fatalf("arbitrary %q verified as an engagement token", raw)
		}

		// A signed token verifies to its fields. Addresses are valid UTF-8
		// (the CRM refuses anything else) of at most 254 bytes (RFC 5321),
		// counted as signed, lower-cased; VerifyToken refuses tokens over
		// 1,024 characters, which a much longer "address" would make (found
		// by this target, once with 254 invalid bytes that lower-casing made
		// three bytes each).
		r := []rune(strings.ToValidUTF8(email, ""))
		for len(strings.ToLower(string(r))) > 254 {
			r = r[:len(r)-1]
		}
		email = string(r)
		want := mail.Token{Workspace: ws, Contact: contact, Email: email, Issued: now.Add(-time.Hour)}
		tok := mail.SignToken(secret, want)
		got, err := mail.VerifyToken(secret, tok, now)
		if err != nil {
			t.Fatalf("own token %q: %v", tok, err)
		}
		if got.Workspace != ws || got.Contact != contact || got.Email != strings.ToLower(email) || !got.Issued.Equal(want.Issued) {
			t.Fatalf("round trip %+v -> %q -> %+v", want, tok, got)
		}
		if _, err := mail.VerifyToken([]byte("another secret"), tok, now); err == nil {
			t.Fatalf("%q verified under another secret", tok)
		}
		if _, err := mail.VerifyToken(secret, tok, now.Add(mail.TokenTTL+2*time.Hour)); err == nil {
			t.Fatalf("%q verified after its lifetime", tok)
		}

		// Any change to it does not.
		if m := mutate(tok, int(pos), b, how); m != tok {
			if _, err := mail.VerifyToken(secret, m, now); err == nil {
				t.Fatalf("modified token verifies: %q (signed %q)", m, tok)
			}
		}
	})
}

// mutate replaces (how%3 == 0), inserts (1) or removes (2) the byte at pos
// (modulo the length).
func mutate(s string, pos int, b byte, how uint8) string {
	if s == "" {
		return s
	}
	pos %= len(s)
	switch how % 3 {
	case 0:
		return s[:pos] + string([]byte{b}) + s[pos+1:]
	case 1:
		return s[:pos] + string([]byte{b}) + s[pos:]
	}
	return s[:pos] + s[pos+1:]
}

// TestTokenCanonical pins the two malleabilities a lenient base64 decoder
// allowed: the unused low bits of the last character, and CR/LF inside.
func TestTokenCanonical(t *testing.T) {
	secret := []byte("s")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tok := mail.SignToken(secret, mail.Token{Workspace: 1, Contact: 2, Email: "a@b.test", Issued: now})
	// 16 MAC bytes are 22 characters whose last carries 4 bits and 2 unused.
	last := tok[len(tok)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	sibling := alphabet[i^1] // the same 4 data bits, a different unused bit
	for name, m := range map[string]string{
		"padding bit": tok[:len(tok)-1] + string(sibling),
		"LF":          tok[:5] + "\n" + tok[5:],
		"CR in MAC":   tok[:len(tok)-3] + "\r" + tok[len(tok)-3:],
	} {
		if _, err := mail.VerifyToken(secret, m, now); err == nil {
			t.Errorf("%s: %q verifies", name, m)
		}
	}
	if _, err := mail.VerifyToken(secret, tok, now); err != nil {
		t.Fatalf("the token itself: %v", err)
	}
}
