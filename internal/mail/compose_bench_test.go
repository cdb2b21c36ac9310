package mail_test

import (
	"context"
	"testing"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// BenchmarkCompose is the sender-side cost of one message of `rightsize
// bench send` before SMTP: render the ~4.5 kB newsletter for a contact, sign
// the unsubscribe link, track links and the open, build the MIME message
// (DKIM off, as in the bench).
//
//	go test -run '^$' -bench BenchmarkCompose ./internal/mail/
func BenchmarkCompose(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b, store.SQLite)
	benchSetup(b, st, 1)
	svc, err := mail.New(ctx, st, mail.Options{BaseURL: "https://crm.test"})
	if err != nil {
		b.Fatal(err)
	}
	var claimed []store.ClaimedSend
	err = st.InTx(ctx, func(q store.Q) (err error) {
		claimed, _, err = q.AdminClaimDueSends(ctx, store.Now(), 1, "bench")
		return err
	})
	if err != nil || len(claimed) != 1 {
		b.Fatalf("claim: %v %d", err, len(claimed))
	}
	cs := claimed[0]
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		raw, from, err := svc.Compose(ctx, &cs)
		if err != nil || from == "" {
			b.Fatal(err)
		}
		n += len(raw)
	}
	b.SetBytes(int64(n / max(b.N, 1)))
}
