package bench_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/cli"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// The send and idle workloads start this binary as a helper (`bench
// _smtpsink`, `serve`): the test binary plays the CLI when asked to.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "bench") {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func figure(t *testing.T, r *bench.Result, prefix string) bench.Figure {
	t.Helper()
	for _, f := range r.Figures {
		if strings.HasPrefix(f.Name, prefix) {
			return f
		}
	}
	t.Fatalf("%s: no figure %q in %+v", r.Workload, prefix, r.Figures)
	return bench.Figure{}
}

// Every workload runs end to end at a tiny size on each store, and checks
// what it measured: the list counts are hand-computed from the generator's
// cycles (3,000 contacts: stage mql is every 10th from i=4 → 300; stage lead
// (i mod 10 in 1,2,3,6) and source webinar (i mod 7 = 0) → 4 in every 70
// plus 3 in the last 60 → 171; last name Smith every 12th → 250), 2,500 due
// enrollments are 3 batch jobs (of up to 1,000 each), and the
// load workloads stored every event they answered.
func TestWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every workload")
	}
	for _, kind := range storetest.Kinds(t) {
		t.Run(string(kind), func(t *testing.T) {
			ctx := context.Background()
			run := func(name string, o bench.Options) *bench.Result {
				t.Helper()
				o.Store = string(kind)
				r, err := bench.Run(ctx, name, o)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if r.PeakRSSMB <= 0 || r.LoadStart == [3]float64{} && r.LoadEnd == [3]float64{} {
					t.Fatalf("%s: no RSS or load average: %+v", name, r)
				}
				return r
			}
			r := run("list", bench.Options{Rows: 3000})
			for name, want := range map[string]float64{"stage = mql: matching": 300, "stage = lead and source = webinar: matching": 171, `search "smith" (name or email): matching`: 250} {
				if got := figure(t, r, name).Value; got != want {
					t.Errorf("%s: %v, want %v", name, got, want)
				}
			}
			r = run("due", bench.Options{Rows: 2500})
			if got := figure(t, r, "batch jobs").Value; got != 3 {
				t.Errorf("due: %v batch jobs, want 3", got)
			}
			if got := figure(t, r, "drain rate").Value; got <= 0 {
				t.Errorf("due: drain rate %v", got)
			}
			// The workloads check their reports against the generators'
			// own tallies (open deals and amount, won/lost/no decision; the
			// MRR the movements sum to) and fail otherwise.
			r = run("forecast", bench.Options{Rows: 400})
			if got := figure(t, r, "open deals in the forecast").Value; got < 100 || got > 220 {
				t.Errorf("forecast: %v open deals of 400 (about 40 %% are open)", got)
			}
			if got := figure(t, r, "forecast.Report (worst").Value; got <= 0 {
				t.Errorf("forecast took %v ms", got)
			}
			r = run("economics", bench.Options{Rows: 300})
			if got := figure(t, r, "subscription events").Value; got != 3000 {
				t.Errorf("economics: %v movements, want 3000", got)
			}
			if got := figure(t, r, "MRR at the end").Value; got <= 0 {
				t.Errorf("economics: MRR %v", got)
			}
			r = run("import", bench.Options{Rows: 500})
			if got := figure(t, r, "import rate").Value; got <= 0 {
				t.Errorf("import rate %v", got)
			}
			for _, w := range []string{"pixel", "click", "ingest"} {
				r = run(w, bench.Options{Rows: 50, Duration: 300 * time.Millisecond, Conns: 8})
				if lost := figure(t, r, "accepted − stored"); lost.Value != 0 || lost.Met == nil || !*lost.Met {
					t.Errorf("%s: %+v", w, lost)
				}
			}
			if got := figure(t, r, "events accepted").Value; got <= 0 || int(got)%50 != 0 {
				t.Errorf("ingest accepted %v events, want a positive multiple of 50", got)
			}
			// --early-ack 0: no early answers, every request waits for its
			// event to be stored (the counter the bench prints says so).
			zero := 0
			r = run("pixel", bench.Options{Rows: 50, Duration: 300 * time.Millisecond, Conns: 8, EarlyAck: &zero, Reference: true})
			if got := figure(t, r, "reference: bare net/http, requests/s").Value; got <= 0 {
				t.Errorf("pixel reference: %v req/s", got)
			}
			if waited, answered := figure(t, r, "answered only once stored").Value, figure(t, r, "requests answered").Value; answered <= 0 || waited != answered {
				t.Errorf("pixel with early-ack 0: %v of %v requests waited for the disk, want all", waited, answered)
			}
			if kind == store.SQLite {
				// One store is enough for the helper-process workloads.
				r = run("send", bench.Options{Rows: 200})
				if got := figure(t, r, "ledger ÷ raw go-mail").Value; got <= 0 {
					t.Errorf("send ratio %v", got)
				}
				r = run("idle", bench.Options{})
				if got := figure(t, r, "idle RSS").Value; got < 5 || got > 1000 {
					t.Errorf("idle RSS %v MB", got)
				}
			}
		})
	}
	if _, err := bench.Run(context.Background(), "nope", bench.Options{}); err == nil || !strings.Contains(err.Error(), "unknown workload") {
		t.Errorf("unknown workload: %v", err)
	}
}
