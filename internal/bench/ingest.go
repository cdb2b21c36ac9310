package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/tracking"
)

// runIngest: the tracking endpoint POST /t/e under load through the app's
// whole handler on loopback: --conns keep-alive connections for --duration,
// each request a batch of 50 page views of one of 512 visitors, answered 202
// after the group commit. Every accepted event must be stored.
func runIngest(ctx context.Context, o Options, r *Result) error {
	e, err := newDB(ctx, o)
	if err != nil {
		return err
	}
	defer e.close(r)
	if err := e.openApp(ctx, ""); err != nil {
		return err
	}
	a := e.App
	const origin = "https://www.acme.example"
	name, origins := "Bench site", []string{origin}
	site, err := a.Tracking.CreateSite(ctx, e.actor(), tracking.SiteInput{Name: &name, AllowedOrigins: &origins})
	if err != nil {
		return err
	}
	const visitors = 512
	reqs := make([][]byte, visitors)
	for v := range reqs {
		evs := make([]string, tracking.MaxEvents)
		for i := range evs {
			evs[i] = fmt.Sprintf(`{"kind":"page_view","url":"https://www.acme.example/docs/page-%d?utm_source=newsletter","title":"Docs page %d","referrer":"https://search.example/?q=crm","props":{"utm_source":"newsletter"}}`, i, i)
		}
		body := fmt.Sprintf(`{"site":%q,"visitor":"bench-visitor-%04d","events":[%s]}`, site.PublicKey, v, strings.Join(evs, ","))
		reqs[v] = []byte("POST " + tracking.IngestPath + " HTTP/1.1\r\nHost: crm.bench.example\r\nContent-Type: text/plain;charset=UTF-8\r\nOrigin: " + origin +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	done := measure(o)
	pg := e.pgMeter(ctx)
	cpu0 := cpuTime()
	lr, err := Load{Addr: ln.Addr().String(), Conns: o.Conns, Duration: o.Duration,
		Request: func(c int, n int64) []byte { return reqs[(int(n)*o.Conns+c)%visitors] }}.Run(ctx)
	cpu := cpuTime() - cpu0
	done()
	if err != nil {
		return err
	}
	_ = srv.Shutdown(context.WithoutCancel(ctx))
	accepted := lr.Status[http.StatusAccepted] * tracking.MaxEvents
	pg.stop(ctx, r, "events", accepted)
	stored, _, err := a.St.Read().CountWebEvents(context.WithoutCancel(ctx), e.WS.ID)
	if err != nil {
		return err
	}
	r.Size = int(accepted)
	r.add(atLeast("ingest rate", float64(accepted)/lr.Elapsed.Seconds(), "events/s", 100000))
	r.add(plain("requests/s", lr.Rate(), "req/s"))
	r.add(plain("p50 request", ms(lr.P50), "ms"))
	r.add(plain("p99 request", ms(lr.P99), "ms"))
	r.add(plain("throttled requests (429)", float64(lr.Status[http.StatusTooManyRequests]), ""))
	r.add(plain("events accepted", float64(accepted), "events"))
	r.add(below("accepted − stored", float64(accepted-stored), "events", 1))
	if accepted > 0 {
		r.add(plain("CPU per event", float64(cpu.Microseconds())/float64(accepted), "cpu-µs"))
	}
	if lr.Failures > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d client failures, first: %s", lr.Failures, lr.FirstErr))
	}
	if other := lr.Requests - lr.Status[http.StatusAccepted] - lr.Status[http.StatusTooManyRequests]; other > 0 {
		return fmt.Errorf("%d answers were neither 202 nor 429 (%v)", other, lr.Status)
	}
	r.Notes = append(r.Notes, fmt.Sprintf("load: %d keep-alive connections for %s, 50 events a request, in this process (raw HTTP/1.1 client)", o.Conns, o.Duration))
	if stored != accepted {
		return fmt.Errorf("%d events accepted, %d stored", accepted, stored)
	}
	return nil
}
