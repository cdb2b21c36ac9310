package mail_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// With EngageEarlyAck set, opens and clicks of a send the writer knows are
// answered before their event is stored, with the same answer as the
// waiting path: a person's click carries the identify token, a scanner's
// does not; SyncEngagement then finds every answered event stored, the
// first human open and click scored once.
func TestEngagementEarlyAck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, snd, html, mux := engageFixture(t, st, true)
		f.svc.EngageEarlyAck = 1000
		ctx := context.Background()
		var click string
		for _, h := range hrefs(html) {
			if strings.HasPrefix(h, "https://crm.test/c/") {
				click = h
				break
			}
		}
		pixel := pixelRE.FindStringSubmatch(html)[1]
		f.now = f.now.Add(time.Minute) // past the machine window
		identified := func(rec interface {
			Header() http.Header
		}) bool {
			return strings.Contains(rec.Header().Get("Location"), "&"+mail.IdentifyParam+"=")
		}
		// The first click waits for the writer (the send is not known yet),
		// which resolves the contact.
		if rec := get(mux, click, humanUA); rec.Code != http.StatusFound || !identified(rec) {
			t.Fatalf("first click: %d %v", rec.Code, rec.Header())
		}
		for range 5 {
			if rec := get(mux, pixel, humanUA); rec.Code != http.StatusOK {
				t.Fatalf("pixel: %d", rec.Code)
			}
			if rec := get(mux, click, humanUA); rec.Code != http.StatusFound || !identified(rec) {
				t.Fatalf("known send, person: %d %v", rec.Code, rec.Header())
			}
			if rec := get(mux, click, "Mozilla/5.0 (compatible; Proofpoint URL Defense)"); rec.Code != http.StatusFound || identified(rec) || rec.Header().Get("Location") != pricingURL {
				t.Fatalf("known send, scanner: %d %v", rec.Code, rec.Header())
			}
		}
		if err := f.svc.SyncEngagement(ctx); err != nil {
			t.Fatal(err)
		}
		es := events(t, st, f.ws, snd.ID)
		var opens, clicks, machine, scoredN int
		for _, e := range es {
			switch {
			case e.Machine:
				machine++
			case e.Kind == store.MailOpen:
				opens++
			default:
				clicks++
			}
			if e.Scored {
				scoredN++
			}
		}
		if len(es) != 16 || opens != 5 || clicks != 6 || machine != 5 || scoredN != 2 {
			t.Fatalf("%d events (%d opens, %d human clicks, %d machine, %d scored); want 16 (5, 6, 5, 2)", len(es), opens, clicks, machine, scoredN)
		}
		if o, c := scored(t, f, snd.ContactID, "email_open"), scored(t, f, snd.ContactID, "email_click"); o != 1 || c != 1 {
			t.Fatalf("scored email_open %d, email_click %d; want 1 each", o, c)
		}
		if s := f.svc.EngageStats(); s.Recorded != 16 || s.Dropped != 0 {
			t.Fatalf("stats %+v", s)
		}
	})
}
