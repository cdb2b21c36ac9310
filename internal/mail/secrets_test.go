package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// verifies reports whether the newest message the server got carries a valid
// DKIM signature under the fixture's key.
func (f *fixture) verifies(t *testing.T) bool {
	t.Helper()
	msgs := f.srv.Messages()
	if len(msgs) == 0 {
		t.Fatal("no message")
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msgs[len(msgs)-1].Raw), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) {
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(f.pub)}, nil
	}})
	return err == nil && len(vs) == 1 && vs[0].Err == nil
}

func (f *fixture) storedKey(t *testing.T) string {
	t.Helper()
	s, err := f.st.Read().GetMailSender(context.Background(), f.ws)
	if err != nil {
		t.Fatal(err)
	}
	return s.DKIMKeyPEM
}

// DKIM private keys are sealed at rest: a plain row from before sealing keeps
// signing, is sealed at start-up (SealPlainDKIMKeys) and keeps signing; a key
// saved through SaveSender is stored sealed; another install key cannot open it.
func TestDKIMKeySealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := setup(t, st, 3)
		plain := f.storedKey(t)
		if !strings.Contains(plain, "PRIVATE KEY") {
			t.Fatalf("fixture row is not plain: %q", plain[:20])
		}
		f.plan(t, 0)
		f.drain(t)
		if !f.verifies(t) {
			t.Fatal("a plain (pre-sealing) key does not sign")
		}
		n, err := f.svc.SealPlainDKIMKeys(ctx)
		if err != nil || n != 1 {
			t.Fatalf("sealed %d, %v", n, err)
		}
		sealed := f.storedKey(t)
		if !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "PRIVATE") || strings.Contains(sealed, strings.Split(plain, "\n")[1]) {
			t.Fatalf("stored key after sealing: %q", sealed)
		}
		if n, _ := f.svc.SealPlainDKIMKeys(ctx); n != 0 {
			t.Fatalf("sealed again: %d", n)
		}
		f.plan(t, 1)
		f.drain(t)
		if !f.verifies(t) {
			t.Fatal("the sealed key does not sign")
		}
		// A save that keeps the key (nil) keeps it sealed and working; the view never shows it.
		act := model.Actor{Workspace: f.ws, Label: "test", Role: "admin"}
		v, err := f.svc.SaveSender(ctx, act, mail.SenderInput{FromName: "Ada", FromAddress: "ada@sender.test", PostalAddress: "1 Engine St", DKIMDomain: "sender.test", DKIMSelector: "rs1"})
		if err != nil || !v.DKIMKey || v.MailSender.DKIMKeyPEM != "" && !strings.HasPrefix(v.MailSender.DKIMKeyPEM, "v1:") {
			t.Fatalf("save: %+v %v", v, err)
		}
		if k := f.storedKey(t); !strings.HasPrefix(k, "v1:") || k == sealed {
			t.Fatalf("after save the key is %q", k[:10])
		}
		f.plan(t, 2)
		f.drain(t)
		if !f.verifies(t) {
			t.Fatal("the key re-sealed by a save does not sign")
		}
		// Another install key (mail_secret changed) cannot open it: the save asks for the key again.
		other, err := mail.New(ctx, st, mail.Options{Secret: "another install key"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = other.SaveSender(ctx, act, mail.SenderInput{FromAddress: "ada@sender.test", PostalAddress: "1 Engine St", DKIMDomain: "sender.test", DKIMSelector: "rs1"})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != "dkim_private_key" || !strings.Contains(fe.Message, "cannot be decrypted") {
			t.Fatalf("foreign install key: %v", err)
		}
	})
}
