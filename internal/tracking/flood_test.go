package tracking_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/tracking"
)

// TestFlood fills a tiny buffer behind a blocked writer: every request that does
// not fit is answered 429 with Retry-After (never a 5xx), nothing of it is
// stored, the counters say so, and once the writer moves on requests are
// accepted again.
func TestFlood(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var site store.TrackingSite
		svc := &tracking.Service{St: st}
		err := st.InTx(ctx, func(q store.Q) error {
			w := model.Workspace{Name: "Flood", Slug: "flood", Currency: "USD"}
			return q.CreateWorkspace(ctx, &w)
		})
		if err != nil {
			t.Fatal(err)
		}
		wsID := int64(0)
		if err := st.R.QueryRow(`SELECT id FROM workspaces WHERE slug = 'flood'`).Scan(&wsID); err != nil {
			t.Fatal(err)
		}
		name, origins := "Flood", []string{"https://flood.example"}
		site, err = svc.CreateSite(ctx, model.Actor{Workspace: wsID, Label: "test"}, tracking.SiteInput{Name: &name, AllowedOrigins: &origins})
		if err != nil {
			t.Fatal(err)
		}

		reg := prometheus.NewRegistry()
		in := tracking.NewIngester(svc, reg)
		in.MaxPending = 10
		started := make(chan int, 10)
		release := make(chan struct{})
		in.Write = func(ctx context.Context, bs []tracking.Batch) error {
			n := 0
			for _, b := range bs {
				n += len(b.Events)
			}
			started <- n
			<-release
			return svc.WriteBatches(ctx, bs)
		}
		in.Start()
		t.Cleanup(in.Close)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mux := http.NewServeMux()
			(&tracking.Endpoint{Svc: svc, In: in}).Register(mux)
			mux.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)

		body := func(n int, visitor string) string {
			evs := make([]string, n)
			for i := range evs {
				evs[i] = `{"kind":"page_view","url":"https://flood.example/"}`
			}
			return fmt.Sprintf(`{"site":%q,"visitor":%q,"events":[%s]}`, site.PublicKey, visitor, strings.Join(evs, ","))
		}
		send := func(b string) (int, string) {
			req, _ := http.NewRequest("POST", srv.URL+tracking.IngestPath, strings.NewReader(b))
			req.Header.Set("Origin", "https://flood.example")
			req.Header.Set("Content-Type", "text/plain")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return 0, ""
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode, res.Header.Get("Retry-After")
		}

		// First request: the writer takes its 5 events and blocks holding them.
		first := make(chan int, 1)
		go func() { s, _ := send(body(5, "visitor-first")); first <- s }()
		if n := <-started; n != 5 {
			t.Fatalf("writer took %d events", n)
		}
		// The flood: 5 held + 6 > 10 for every request, all at once.
		const flood = 40
		var wg sync.WaitGroup
		statuses := make(chan [2]string, flood)
		for i := 0; i < flood; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, ra := send(body(6, fmt.Sprintf("visitor-flood-%d", i)))
				statuses <- [2]string{fmt.Sprint(s), ra}
			}()
		}
		wg.Wait()
		close(statuses)
		for s := range statuses {
			if s[0] != "429" || s[1] == "" {
				t.Errorf("flooded request: status %s, Retry-After %q; want 429 with Retry-After", s[0], s[1])
			}
		}
		close(release)
		if s := <-first; s != http.StatusAccepted {
			t.Fatalf("held request: %d", s)
		}
		// The buffer drained: a request fits again.
		if s, _ := send(body(6, "visitor-after")); s != http.StatusAccepted {
			t.Fatalf("after the flood: %d", s)
		}
		total, _, err := st.Read().CountWebEvents(ctx, wsID)
		if err != nil || total != 11 {
			t.Fatalf("stored %d events (%v), want 5 + 6", total, err)
		}
		got := counters(t, reg)
		if got["accepted"] != 11 || got["throttled"] != flood*6 || got["rejected"] != 0 {
			t.Errorf("counters %v", got)
		}
	})
}

func counters(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "rightsize_tracking_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestAnsweredFreesBuffer: a request answered 202 has left the buffer, so a
// client that sends the next request as soon as it has its answer is never
// refused when the buffer holds exactly one request's worth. Before the fix the
// writer woke the request before giving its room back, and the next Submit
// could find the buffer still full.
func TestAnsweredFreesBuffer(t *testing.T) {
	in := tracking.NewIngester(&tracking.Service{}, nil)
	in.MaxPending = 3
	in.Linger = time.Microsecond
	in.Write = func(context.Context, []tracking.Batch) error { return nil }
	in.Start()
	t.Cleanup(in.Close)
	evs := make([]store.WebEvent, 3)
	for i := range 2000 {
		if err := in.Submit(context.Background(), tracking.Batch{Workspace: 1, Events: evs}); err != nil {
			t.Fatalf("request %d, sent right after the previous one was answered: %v", i, err)
		}
	}
}
