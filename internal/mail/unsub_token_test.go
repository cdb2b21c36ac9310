package mail_test

import (
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
)

// Compose signs unsubscribe links with the pooled keyed HMAC: the token must
// be exactly SignToken's (links already sent keep verifying), for any
// secret the service holds.
func TestUnsubscribeURLIsSignToken(t *testing.T) {
	at := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)
	svc := &mail.Service{BaseURL: "https://crm.test", Secret: []byte("first secret, 32 bytes long.....")}
	svc.Now = func() time.Time { return at }
	cases := []mail.Token{
		{Workspace: 1, Contact: 2, Email: "Ada@Example.com"},
		{Workspace: 7, Contact: 99999, Email: "zoë.ünï@xn--bcher-kva.example"},
		{Workspace: 123456789, Contact: 1, Email: "a+b@c.io"},
	}
	for round := range 2 {
		if round == 1 {
			svc.Secret = []byte("another secret after a key change")
		}
		for _, c := range cases {
			url, tok := svc.UnsubscribeURL(c.Workspace, c.Contact, c.Email)
			c.Issued = at
			want := mail.SignToken(svc.Secret, c)
			if tok != want || url != "https://crm.test/u/"+want {
				t.Fatalf("round %d %+v: got %q %q, want token %q", round, c, url, tok, want)
			}
			got, err := mail.VerifyToken(svc.Secret, tok, at)
			if err != nil || got.Workspace != c.Workspace || got.Contact != c.Contact || !got.Issued.Equal(at) {
				t.Fatalf("round %d %+v: verify %+v %v", round, c, got, err)
			}
		}
	}
}
