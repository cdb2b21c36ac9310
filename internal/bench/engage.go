package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// browserUA makes the events human (scanner agents are tagged machine and
// never scored): the first open of each send, and the first click per URL,
// run lead scoring in the writer's transaction.
const browserUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

func runPixel(ctx context.Context, o Options, r *Result) error { return runEngage(ctx, o, r, "open") }
func runClick(ctx context.Context, o Options, r *Result) error { return runEngage(ctx, o, r, "click") }

// engageRig is the open/click workload's server: the app (a role all node,
// so the scoring jobs of first human events run in this process) on a fresh
// database with delivered sends, its whole handler on a loopback listener,
// and one pre-built request per send.
type engageRig struct {
	e               *env
	kind            string
	want            int // the answer's status
	paths           []string
	reqs            [][]byte
	ln              net.Listener
	srv             *http.Server
	stop            func()
	answered, other atomic.Int64
}

// newEngageRig seeds sends (delivered an hour ago) and starts serving. The
// caller closes the rig.
func newEngageRig(ctx context.Context, o Options, kind string, sends int) (*engageRig, error) {
	e, err := newDB(ctx, o)
	if err != nil {
		return nil, err
	}
	g := &engageRig{e: e, kind: kind, want: http.StatusOK, stop: func() {}}
	if kind == "click" {
		g.want = http.StatusFound
	}
	const base = "https://crm.bench.example"
	// A role all node: the first human open of each send is scored by a
	// River job this process works while it serves.
	if err := e.openAppWorkers(ctx, base, true); err != nil {
		return g, err
	}
	a, st, ws := e.App, e.App.St, e.WS.ID
	ids, err := SeedPlannedSends(ctx, st, ws, sends, fmt.Sprintf("run%d.bench.example", time.Now().UnixNano()))
	if err != nil {
		return g, err
	}
	if err := deliverAll(ctx, st, len(ids), time.Now().Add(-time.Hour)); err != nil {
		return g, err
	}
	g.paths = make([]string, len(ids))
	for i, id := range ids {
		u := a.Mail.OpenURL(ws, id)
		if kind == "click" {
			u = a.Mail.ClickURL(ws, id, fmt.Sprintf("https://www.bench.example/pricing?plan=pro&n=%d", i%7))
		}
		g.paths[i] = strings.TrimPrefix(u, base)
	}
	g.reqs = make([][]byte, len(g.paths))
	for i, p := range g.paths {
		g.reqs[i] = []byte("GET " + p + " HTTP/1.1\r\nHost: crm.bench.example\r\nUser-Agent: " + browserUA + "\r\nAccept: */*\r\n\r\n")
	}
	// The server counts its own answers, so an external load generator (wrk,
	// --hold) is checked the same way as the built-in one.
	h := a.Handler()
	counted := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusCounter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		if sw.status == g.want {
			g.answered.Add(1)
		} else {
			g.other.Add(1)
		}
	})
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	if err := a.River.Start(jobs); err != nil {
		stopJobs()
		return g, err
	}
	if g.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		stopJobs()
		return g, err
	}
	g.srv = &http.Server{Handler: counted, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = g.srv.Serve(g.ln) }()
	g.stop = func() {
		g.srv.Close()
		_ = a.River.Stop(context.WithoutCancel(ctx))
		stopJobs()
	}
	return g, nil
}

// load sends requests from conns connections for d (or until max requests),
// walking the tokens round-robin from different offsets.
func (g *engageRig) load(ctx context.Context, conns int, d time.Duration, maxReq int64) (LoadResult, error) {
	return Load{Addr: g.ln.Addr().String(), Conns: conns, Duration: d, MaxRequests: maxReq,
		Request: func(c int, n int64) []byte {
			return g.reqs[(int(n)*conns+c)%len(g.reqs)]
		}}.Run(ctx)
}

// settle stops serving, waits until every answered event is durable (the
// app answers before the disk, within Service.EngageEarlyAck), and waits,
// bounded, for the scoring jobs to catch up. It returns the events stored and
// marked scored, and how long the scoring took after the load; an error when
// a scored event did not reach lead scoring.
func (g *engageRig) settle(ctx context.Context) (stored, scored int64, caught time.Duration, err error) {
	_ = g.srv.Shutdown(ctx)
	if err = g.e.App.Mail.SyncEngagement(ctx); err != nil {
		return
	}
	st, ws := g.e.App.St, g.e.WS.ID
	if stored, scored, err = st.Read().CountMailEvents(ctx, ws); err != nil {
		return
	}
	scoreKind := "email_open"
	if g.kind == "click" {
		scoreKind = "email_click"
	}
	var applied int64
	t0 := time.Now()
	for {
		m, err := st.Read().CountBy(ctx, ws, "engagement_events", "kind")
		if err != nil {
			return stored, scored, 0, err
		}
		if applied = m[scoreKind]; applied >= scored || time.Since(t0) > 2*time.Minute {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	caught = time.Since(t0)
	if applied != scored {
		err = fmt.Errorf("%d events marked scored, %d reached lead scoring", scored, applied)
	}
	return
}

func (g *engageRig) close(r *Result) {
	g.stop()
	g.e.close(r)
}

// runEngage: --rows sends (default 10,000) delivered an hour ago, one token
// each; the app's whole handler (middleware, cross-origin protection, mux) on
// a loopback listener; GET /o/{token} or /c/{token} from --conns keep-alive
// connections for --duration, round-robin over the tokens with a browser user
// agent. Every answered request must be a stored event.
func runEngage(ctx context.Context, o Options, r *Result, kind string) error {
	sends := o.Rows
	if sends <= 0 {
		sends = 10000
	}
	r.Size = sends
	g, err := newEngageRig(ctx, o, kind, sends)
	if g != nil {
		defer g.close(r)
	}
	if err != nil {
		return err
	}
	a := g.e.App
	if o.Reference && !o.Hold {
		ref, err := referenceLoad(ctx, kind, o.Conns, o.Duration)
		if err != nil {
			return err
		}
		r.add(plain("reference: bare net/http, requests/s", ref.Rate(), "req/s"))
		r.add(plain("reference: bare net/http, p99 latency", ms(ref.P99), "ms"))
		r.Notes = append(r.Notes, "reference: a bare Go net/http server in this process answering every request with a constant "+map[string]string{"open": "GIF", "click": "302"}[kind]+" (no database, no token), driven by the same client for the same time just before the app: what this machine gives any Go HTTP server right now")
	}
	done := measure(o)
	pg := g.e.pgMeter(ctx)
	cpu0 := cpuTime()
	var lr LoadResult
	if o.Hold || o.Keep {
		script, err := wrkScript(g.paths)
		if err != nil {
			return err
		}
		r.Notes = append(r.Notes, "wrk script over this database's tokens: "+script)
		if o.Hold {
			fmt.Fprintf(o.Out, "serving on http://%[1]s with %[2]d tokens; run for example\n\n  wrk -t2 -c64 -d15s --latency -s %[3]s http://%[1]s\n\nthen press Ctrl-C: answered and stored events are compared.\n", g.ln.Addr(), len(g.paths), script)
			<-ctx.Done()
		}
	}
	if !o.Hold {
		if lr, err = g.load(ctx, o.Conns, o.Duration, 0); err != nil {
			return err
		}
	}
	cpu := cpuTime() - cpu0
	done()
	bg := context.WithoutCancel(ctx)
	stored, scored, caught, err := g.settle(bg)
	if err != nil {
		return err
	}
	stats := a.Mail.EngageStats()
	acc := g.answered.Load()
	if !o.Hold {
		r.add(atLeast("requests/s", lr.Rate(), "req/s", 25000))
		r.add(below("p99 latency", ms(lr.P99), "ms", 10))
		r.add(plain("p50 latency", ms(lr.P50), "ms"))
		r.add(plain("p99.9 latency", ms(lr.P999), "ms"))
		r.add(plain("max latency", ms(lr.Max), "ms"))
		r.add(plain("requests answered", float64(lr.Requests), ""))
		if lr.Failures > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%d client failures, first: %s", lr.Failures, lr.FirstErr))
		}
		r.Notes = append(r.Notes, fmt.Sprintf("load: %d keep-alive connections for %s, in this process (raw HTTP/1.1 client); the server is the app's whole handler", o.Conns, o.Duration))
	}
	if n := a.Mail.EngageEarlyAck; n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("requests are answered before their event is on disk while fewer than %d answered events wait for it (a crash loses at most those); stored is counted after every answered event is durable", n))
	}
	want := g.want
	r.add(plain(fmt.Sprintf("answered %d", want), float64(acc), "events"))
	lost := float64(acc - stored)
	r.add(below("accepted − stored", lost, "events", 1))
	r.add(plain("stored", float64(stored), "events"))
	r.add(plain("dropped (queue full)", float64(stats.Dropped), "events"))
	r.add(plain("answered only once stored", float64(stats.Waited), "requests"))
	if n := g.other.Load(); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d answers were not %d", n, want))
	}
	if stats.Commits > 0 {
		r.add(plain("events per commit", float64(stats.Recorded)/float64(stats.Commits), ""))
	}
	if acc > 0 {
		r.add(plain("CPU per 1,000 requests", cpu.Seconds()*1000/float64(acc), "cpu-s"))
	}
	r.add(plain("first human events (scored)", float64(scored), "events"))
	r.add(plain("scoring jobs caught up, after the load", caught.Seconds(), "s"))
	pg.stop(bg, r, "requests", acc)
	if stored != acc {
		return fmt.Errorf("%d events answered, %d stored", acc, stored)
	}
	return nil
}

// deliverAll marks every planned send accepted at at (claim, start, finish),
// as the delivery path would have.
func deliverAll(ctx context.Context, st *store.Store, n int, at time.Time) error {
	done := 0
	for done < n {
		var got int
		err := st.InTx(ctx, func(q store.Q) error {
			cl, _, err := q.AdminClaimDueSends(ctx, time.Now(), 1000, "bench")
			if err != nil {
				return err
			}
			got = len(cl)
			ids := make([]int64, len(cl))
			outs := make([]store.SendOutcome, len(cl))
			for i, c := range cl {
				ids[i] = c.ID
				outs[i] = store.SendOutcome{ID: c.ID, Workspace: c.Workspace, Email: c.ToEmail, State: store.SendAccepted, Code: 250, Text: "OK"}
			}
			if err := q.AdminStartSends(ctx, ids, "bench", at); err != nil {
				return err
			}
			return q.AdminFinishSends(ctx, outs, at)
		})
		if err != nil {
			return fmt.Errorf("mark sends delivered: %w", err)
		}
		if got == 0 {
			return fmt.Errorf("mark sends delivered: %d of %d claimed", done, n)
		}
		done += got
	}
	return nil
}

// wrkScript writes the token paths to a file and a wrk script that walks
// them round-robin with a browser user agent; it returns the script's path.
func wrkScript(paths []string) (string, error) {
	dir, err := os.MkdirTemp("", "rightsize-wrk-")
	if err != nil {
		return "", err
	}
	list := filepath.Join(dir, "paths.txt")
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		return "", err
	}
	script := filepath.Join(dir, "tokens.lua")
	lua := `-- Round-robin over the bench's token paths, a browser user agent.
local paths = {}
for line in io.lines("` + list + `") do paths[#paths + 1] = line end
local i = math.random(#paths)
wrk.headers["User-Agent"] = "` + browserUA + `"
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
`
	return script, os.WriteFile(script, []byte(lua), 0o644)
}

type statusCounter struct {
	http.ResponseWriter
	status int
}

func (s *statusCounter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusCounter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusCounter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is the user+system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// referenceLoad serves what the endpoint answers — a constant 43-byte GIF
// for an open, a constant 302 for a click — from a bare net/http server on
// loopback in this process, and drives it like the app. Its rate and p99 are
// the floor the machine allows any Go server at this moment; the VM's speed
// drifts from hour to hour, so the app's figures are read against it.
func referenceLoad(ctx context.Context, kind string, conns int, d time.Duration) (LoadResult, error) {
	gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;") // the app's pixel
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if kind == "click" {
			http.Redirect(w, r, "https://www.bench.example/pricing?plan=pro", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write(gif)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return LoadResult{}, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	req := []byte("GET /o/reference HTTP/1.1\r\nHost: crm.bench.example\r\nUser-Agent: " + browserUA + "\r\nAccept: */*\r\n\r\n")
	return Load{Addr: ln.Addr().String(), Conns: conns, Duration: d,
		Request: func(int, int64) []byte { return req }}.Run(ctx)
}
