package mail

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// parseEngageReference is the token payload parser as it was before it
// parsed in place (strings.SplitN and strconv): the in-place parser must
// accept and reject exactly the same payloads.
func parseEngageReference(payload string) (EngageToken, bool) {
	f := strings.SplitN(payload, "|", 5)
	if len(f) < 4 || f[0] != "e1" {
		return EngageToken{}, false
	}
	ws, e1 := strconv.ParseInt(f[2], 10, 64)
	send, e2 := strconv.ParseInt(f[3], 10, 64)
	if e1 != nil || e2 != nil {
		return EngageToken{}, false
	}
	t := EngageToken{Workspace: ws, Send: send}
	switch {
	case f[1] == "o" && len(f) == 4:
		t.Kind = store.MailOpen
	case f[1] == "c" && len(f) == 5 && isHTTP(f[4]):
		t.Kind, t.URL = store.MailClick, f[4]
	default:
		return EngageToken{}, false
	}
	return t, true
}

func checkEngageParse(t *testing.T, payload string) {
	t.Helper()
	tok := b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString([]byte("sig"))
	got, err := verifyEngage(tok, nil, nil, func(p, s []byte) bool { return string(p) == payload && string(s) == "sig" })
	want, ok := parseEngageReference(payload)
	if (err == nil) != ok || got != want {
		t.Errorf("payload %q: got %+v, %v; the reference parser %+v, %v", payload, got, err, want, ok)
	}
}

func TestEngagePayloadParse(t *testing.T) {
	for _, p := range []string{
		"e1|o|1|2", "e1|o|12|345", "e1|o|1|2|", "e1|o|1|2|x", "e1|c|1|2|https://a.example/x", "e1|c|1|2|http://a.b/|pipe|s",
		"e1|c|1|2", "e1|c|1|2|ftp://x", "e1|c|1|2|https://", "e1|x|1|2", "e1|oo|1|2", "e2|o|1|2", "e1|o||2", "e1|o|1|",
		"e1|o|+1|2", "e1|o|-1|-2", "e1|o|1|9223372036854775807", "e1|o|1|9223372036854775808", "e1|o|-9223372036854775808|1",
		"e1|o|-9223372036854775809|1", "e1|o|1|99999999999999999999", "e1|o|1|0x10", "e1|o|1|1_000", "e1|o|1 |2", "e1|o| 1|2",
		"e1|o|1", "e1|o", "e1|", "", "|||", "e1|o|1|2\x00", "e1|o|٣|2", "e1|c|1|2|HTTPS://A.EXAMPLE", "e1|o|-|2", "e1|o|+|2",
	} {
		checkEngageParse(t, p)
	}
}

// FuzzEngagePayload: the in-place parser agrees with the reference on any
// payload.
func FuzzEngagePayload(f *testing.F) {
	for _, s := range []string{"e1|o|1|2", "e1|c|3|4|https://x.example/a|b", "e1|o|-1|+2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if len(payload) > 400 {
			return // the verifier decodes into a 512-byte buffer; longer is fine but slower
		}
		checkEngageParse(t, payload)
	})
}

// The open pixel verifies a token per request: it decodes into the pooled
// signer's buffers, so an open token costs at most one allocation (the
// string-to-bytes copy of its payload) and a click's adds its URL.
func TestVerifyEngageAllocs(t *testing.T) {
	st := storetest.New(t, store.SQLite)
	s, err := New(context.Background(), st, Options{BaseURL: "https://crm.test"})
	if err != nil {
		t.Fatal(err)
	}
	open := s.signEngage('o', 12, 345678, "")
	click := s.signEngage('c', 12, 345678, "https://www.example.com/pricing?plan=pro&n=3")
	if _, err := s.verifyEngage(open); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.verifyEngage(open) }); n > 1 {
		t.Errorf("verifying an open token: %v allocations, want at most 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = s.verifyEngage(click) }); n > 3 {
		t.Errorf("verifying a click token: %v allocations, want at most 3", n)
	}
}
