package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// BenchmarkEngage is the open pixel and the click redirect through the
// app's whole handler on loopback (the `rightsize bench pixel/click` rig),
// 64 keep-alive connections, b.N requests, measured in CPU per request —
// what stays comparable while other work shares the machine:
//
//   - repeat: 1,000 delivered sends already opened (clicked) once and scored,
//     so each request is one more event row: the steady state of the
//     15-second workload;
//   - first: b.N fresh sends, each opened (clicked) once by a person, so each
//     request is a first human event that lead scoring must apply; the clock
//     runs until the scoring jobs have caught up.
//
// Run with
//
//	go test ./internal/bench -run '^$' -bench Engage -benchtime 20000x
func BenchmarkEngage(b *testing.B) {
	for _, kind := range storetest.Kinds(b) {
		for _, ev := range []string{"open", "click"} {
			b.Run(fmt.Sprintf("%s/%s/repeat", kind, ev), func(b *testing.B) {
				ctx := context.Background()
				g := benchRig(b, kind, ev, 1000)
				if _, err := g.load(ctx, 64, time.Minute, 1000); err != nil {
					b.Fatal(err)
				}
				waitScored(b, g)
				b.ResetTimer()
				engageRun(b, g, func() {})
			})
			b.Run(fmt.Sprintf("%s/%s/first", kind, ev), func(b *testing.B) {
				g := benchRig(b, kind, ev, b.N)
				b.ResetTimer()
				engageRun(b, g, func() { waitScored(b, g) })
			})
		}
	}
}

func benchRig(b *testing.B, kind store.Kind, ev string, sends int) *engageRig {
	b.Helper()
	g, err := newEngageRig(context.Background(), Options{Store: string(kind), DSN: DefaultDSN(), Log: discardLog()}, ev, sends)
	if g != nil {
		b.Cleanup(func() { g.close(&Result{}) })
	}
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// engageRun sends b.N requests, runs after (inside the clock), and reports
// CPU per request and the latencies.
func engageRun(b *testing.B, g *engageRig, after func()) {
	b.Helper()
	before := g.answered.Load()
	st0 := g.e.App.Mail.EngageStats()
	cpu0 := cpuTime()
	lr, err := g.load(context.Background(), 64, time.Hour, int64(b.N))
	if err != nil {
		b.Fatal(err)
	}
	after()
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if n := g.answered.Load() - before; n != int64(b.N) || lr.Failures > 0 {
		b.Fatalf("%d of %d answered %d (%d failures: %s)", n, b.N, g.want, lr.Failures, lr.FirstErr)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(ms(lr.P99), "p99-ms")
	b.ReportMetric(lr.Rate(), "req/s")
	if st := g.e.App.Mail.EngageStats(); st.Commits > st0.Commits {
		b.ReportMetric(float64(st.Recorded-st0.Recorded)/float64(st.Commits-st0.Commits), "events/commit")
	}
}

// waitScored waits until every event marked scored reached lead scoring.
func waitScored(b *testing.B, g *engageRig) {
	b.Helper()
	ctx := context.Background()
	st, ws := g.e.App.St, g.e.WS.ID
	scoreKind := "email_open"
	if g.kind == "click" {
		scoreKind = "email_click"
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		_, scored, err := st.Read().CountMailEvents(ctx, ws)
		if err != nil {
			b.Fatal(err)
		}
		m, err := st.Read().CountBy(ctx, ws, "engagement_events", "kind")
		if err != nil {
			b.Fatal(err)
		}
		if m[scoreKind] >= scored {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("scoring: %d of %d applied", m[scoreKind], scored)
		}
		// Not too often: each look scans the events, and its CPU counts.
		time.Sleep(50 * time.Millisecond)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
