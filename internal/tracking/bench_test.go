package tracking_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
	"github.com/rightsize/rightsize/internal/tracking"
)

// BenchmarkIngestHTTP is sustained ingest through the real endpoint: the whole
// app served by net/http on loopback, benchClients concurrent keep-alive
// clients, each request a batch of 50 page views, one iteration one request.
// It reports events/s, the p99 request latency, and checks afterwards that the
// store holds exactly the accepted events. Run it at a fixed count, e.g.
//
//	go test -run XXX -bench IngestHTTP -benchtime 4000x ./internal/tracking/
func BenchmarkIngestHTTP(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		b.Run(string(kind), func(b *testing.B) { benchIngest(b, kind) })
	}
}

const benchClients = 64

func benchIngest(b *testing.B, kind store.Kind) {
	e := newEnv(b, kind)
	const visitors = 512
	bodies := make([][]byte, visitors)
	for v := range bodies {
		evs := make([]string, tracking.MaxEvents)
		for i := range evs {
			evs[i] = fmt.Sprintf(`{"kind":"page_view","url":"https://www.acme.example/docs/page-%d?utm_source=newsletter","title":"Docs page %d","referrer":"https://search.example/?q=crm","props":{"utm_source":"newsletter"}}`, i, i)
		}
		bodies[v] = []byte(batch(e.siteA.PublicKey, fmt.Sprintf("bench-visitor-%04d", v), evs...))
	}
	tr := &http.Transport{MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, MaxConnsPerHost: benchClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := e.URL + tracking.IngestPath

	var next, accepted, throttled atomic.Int64
	lat := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	var failMu sync.Mutex
	var failure string
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for c := 0; c < benchClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[int(i)%visitors]))
				req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
				req.Header.Set("Origin", origin)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failMu.Lock()
					failure = err.Error()
					failMu.Unlock()
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
				switch res.StatusCode {
				case http.StatusAccepted:
					accepted.Add(tracking.MaxEvents)
				case http.StatusTooManyRequests:
					throttled.Add(1)
				default:
					failMu.Lock()
					failure = fmt.Sprintf("status %d", res.StatusCode)
					failMu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if failure != "" {
		b.Fatal(failure)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	p99 := all[len(all)*99/100]
	stored, _ := e.count(b, e.A.ID)
	// Setup stored no events; every accepted event is in the store.
	if stored != accepted.Load() {
		b.Fatalf("stored %d events, accepted %d", stored, accepted.Load())
	}
	b.ReportMetric(float64(accepted.Load())/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(throttled.Load()), "throttled_reqs")
	// CPU of this process (server, writer and the load-generating clients) per
	// event: the machine is shared, so this says more than events/s alone does.
	b.ReportMetric(float64(cpu.Microseconds())/float64(max(accepted.Load(), 1)), "cpu_us/event")
	b.Logf("cpu %s of %s wall (%.2f cores)", cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), cpu.Seconds()/elapsed.Seconds())
	b.Logf("%s: %d requests, %d events stored in %s, %d throttled; p50 %s p99 %s", kind, len(all), stored, elapsed.Round(time.Millisecond), throttled.Load(),
		all[len(all)/2].Round(time.Microsecond), p99.Round(time.Microsecond))
}

// cpuTime is the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
