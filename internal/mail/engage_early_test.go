package mail_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
		click := firstClickURL(t, html)
		pixel := pixelRE.FindStringSubmatch(html)[1]
		f.now = f.now.Add(time.Minute) // past the machine window
		identified := func(rec interface {
			Header() http.Header
		}) bool {
			return strings.Contains(rec.Header().Get("Location"), "&"+mail.IdentifyParam+"=")
		}
		// The first click reads the send's facts once (learnSend); later
		// ones find them remembered.
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

// The first click of a delivered send is answered at once too: one read of
// the send gives the contact, so the redirect carries the identify token
// while the writer is held up; the event is stored once the writer goes on.
func TestFirstClickAnsweredEarly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, snd, html, mux := engageFixture(t, st, true)
		f.svc.EngageEarlyAck = 1000
		ctx := context.Background()
		click := firstClickURL(t, html)
		f.now = f.now.Add(time.Minute) // past the machine window
		// Hold the writer up: SQLite's one write connection in a
		// transaction; on PostgreSQL the events table locked against
		// inserts (reads of the sends go on).
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if st.Kind == store.Postgres {
			if _, err := tx.ExecContext(ctx, "LOCK TABLE mail_events IN EXCLUSIVE MODE"); err != nil {
				t.Fatal(err)
			}
		}
		answered := make(chan *httptest.ResponseRecorder, 1)
		go func() { answered <- get(mux, click, humanUA) }()
		select {
		case rec := <-answered:
			if rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "&"+mail.IdentifyParam+"=") {
				t.Fatalf("first click: %d %v", rec.Code, rec.Header())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the first click waited for the held writer")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SyncEngagement(ctx); err != nil {
			t.Fatal(err)
		}
		es := events(t, st, f.ws, snd.ID)
		if len(es) != 1 || es[0].Kind != store.MailClick || es[0].Machine || !es[0].Scored {
			t.Fatalf("events %+v; want one human click, scored", es)
		}
		if s := f.svc.EngageStats(); s.Waited != 0 || s.Recorded != 1 {
			t.Fatalf("stats %+v; want 1 recorded, none waited", s)
		}
	})
}

// firstClickURL is the first tracked link of a rendered message.
func firstClickURL(t *testing.T, html string) string {
	t.Helper()
	for _, h := range hrefs(html) {
		if strings.HasPrefix(h, "https://crm.test/c/") {
			return h
		}
	}
	t.Fatal("no tracked link in the message")
	return ""
}
