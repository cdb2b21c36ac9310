package mail_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Concurrent opens and clicks share group commits and keep every rule of the
// one-at-a-time path: every answered event is stored, the first human open and
// the first human click per URL score exactly once, scanner agents are tagged
// machine, and a token signed for another workspace records nothing.
func TestEngagementGroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, snd, html, mux := engageFixture(t, st, true)
		var clicks []string
		for _, h := range hrefs(html) {
			if strings.HasPrefix(h, "https://crm.test/c/") {
				clicks = append(clicks, h)
			}
		}
		pixel := pixelRE.FindStringSubmatch(html)[1]
		f.now = f.now.Add(time.Minute) // past the machine window
		otherWS := f.svc.OpenURL(f.ws2, snd.ID)
		type req struct{ url, ua string }
		var reqs []req
		for range 60 {
			reqs = append(reqs, req{pixel, humanUA})
		}
		for range 40 {
			reqs = append(reqs, req{clicks[0], humanUA})
		}
		for range 20 {
			reqs = append(reqs, req{clicks[1], "Mozilla/5.0 (compatible; Proofpoint URL Defense)"})
		}
		for range 10 {
			reqs = append(reqs, req{otherWS, humanUA})
		}
		codes := make([]int, len(reqs))
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = get(mux, r.url, r.ua).Code
			}()
		}
		wg.Wait()
		for i, c := range codes {
			want := http.StatusOK
			if strings.Contains(reqs[i].url, "/c/") {
				want = http.StatusFound
			}
			if c != want {
				t.Fatalf("request %d (%s): %d, want %d", i, reqs[i].url, c, want)
			}
		}
		es := events(t, st, f.ws, snd.ID)
		var opens, humanClicks, machine, scoredN int
		for _, e := range es {
			switch {
			case e.Machine:
				machine++
				if e.URL != docsURL || !strings.Contains(e.Reason, "proofpoint") {
					t.Fatalf("machine event %+v", e)
				}
			case e.Kind == store.MailOpen:
				opens++
			case e.Kind == store.MailClick && e.URL == pricingURL:
				humanClicks++
			}
			if e.Scored {
				scoredN++
			}
		}
		if len(es) != 120 || opens != 60 || humanClicks != 40 || machine != 20 || scoredN != 2 {
			t.Fatalf("%d events (%d opens, %d human clicks, %d machine, %d scored); want 120 (60, 40, 20, 2)", len(es), opens, humanClicks, machine, scoredN)
		}
		if o, c := scored(t, f, snd.ContactID, "email_open"), scored(t, f, snd.ContactID, "email_click"); o != 1 || c != 1 {
			t.Fatalf("scored email_open %d, email_click %d; want 1 each", o, c)
		}
		if got := events(t, st, f.ws2, snd.ID); len(got) != 0 {
			t.Fatalf("workspace B recorded %d events for A's send", len(got))
		}
		s := f.svc.EngageStats()
		if s.Recorded != 120 || s.Unknown != 10 || s.Dropped != 0 || s.Commits < 1 || s.Commits > 120 {
			t.Fatalf("stats %+v", s)
		}
		t.Logf("130 concurrent requests in %d commits", s.Commits)
	})
}
