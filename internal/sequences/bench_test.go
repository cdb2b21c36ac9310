package sequences_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/bench"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// seedContacts inserts n contacts of ws in bulk and returns their ids (the
// generator `rightsize bench due` uses).
func seedContacts(t testing.TB, st *store.Store, ws int64, n int) []int64 {
	t.Helper()
	ids, err := bench.SeedContacts(context.Background(), st, ws, n, bench.PlainContact, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// BenchmarkRunDue claims and runs the due steps of N enrollments (default
// 100,000; RIGHTSIZE_BENCH_ENROLLMENTS=1000000 for the 1M) on each store:
// every enrollment's due step is an email planned in the (table-backed) send
// ledger, followed by a 3-day wait whose due time is written back. One op is the
// whole run; seeding is not timed. Reports enrollments/s.
//
//	RIGHTSIZE_BENCH_ENROLLMENTS=1000000 go test ./internal/sequences -run '^$' -bench RunDue -benchtime 1x -timeout 60m
func BenchmarkRunDue(b *testing.B) {
	n := 100000
	if v := os.Getenv("RIGHTSIZE_BENCH_ENROLLMENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("RIGHTSIZE_BENCH_ENROLLMENTS: %v", err)
		}
	}
	for _, kind := range storetest.Kinds(b) {
		b.Run(fmt.Sprintf("%s/n=%d", kind, n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st := storetest.New(b, kind)
				f := newFixture(b, st)
				f.svc.Signals = nil
				if v, err := strconv.Atoi(os.Getenv("RIGHTSIZE_BENCH_BATCH")); err == nil {
					f.svc.BatchSize = v
				}
				ctx := context.Background()
				seq, err := f.svc.Create(ctx, f.a, model.Sequence{Name: "bench", Status: "active", Steps: []model.SequenceStep{
					{Kind: "send_email", Subject: "Hello", Text: "Hi"}, {Kind: "wait", Duration: "3d"}, {Kind: "send_email", Subject: "Again", Text: "Hi"},
				}})
				if err != nil {
					b.Fatal(err)
				}
				ids := seedContacts(b, st, f.a, n)
				due := f.clock
				for start := 0; start < n; start += 10000 {
					es := make([]model.Enrollment, 0, 10000)
					for _, id := range ids[start:min(start+10000, n)] {
						es = append(es, model.Enrollment{SequenceID: seq.ID, ContactID: id, Status: "active", Source: "bench", NextDueAt: &due})
					}
					if err := st.InTx(ctx, func(q store.Q) error { return q.InsertEnrollments(ctx, f.a, es) }); err != nil {
						b.Fatal(err)
					}
				}
				f.clock = due.Add(time.Minute)
				b.StartTimer()
				start := time.Now()
				res, err := f.svc.RunDue(ctx, f.clock)
				el := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if res.Claimed != n || res.Planned != n {
					b.Fatalf("ran %+v, want %d claimed and planned", res, n)
				}
				b.ReportMetric(float64(n)/el.Seconds(), "enrollments/s")
				b.ReportMetric(el.Seconds(), "s/run")
				st.Close()
			}
		})
	}
}

// BenchmarkDispatch measures the scheduler's side of issue 7's "1M enrollments'
// due steps claimed and enqueued < 10 s": N due enrollments (default 100,000;
// RIGHTSIZE_BENCH_ENROLLMENTS=1000000) are counted and one River batch job per
// 1,000 is enqueued, in one transaction (dispatch s/run). It then runs every
// enqueued batch job's work in this process, one after the other, and reports
// that as drain s/run: the time to claim and execute the steps (plan each email
// in a table-backed ledger, log the step, write the next due time), which on
// PostgreSQL several worker nodes share.
//
//	RIGHTSIZE_BENCH_ENROLLMENTS=1000000 go test ./internal/sequences -run '^$' -bench Dispatch -benchtime 1x -timeout 60m
func BenchmarkDispatch(b *testing.B) {
	n := 100000
	if v := os.Getenv("RIGHTSIZE_BENCH_ENROLLMENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("RIGHTSIZE_BENCH_ENROLLMENTS: %v", err)
		}
	}
	for _, kind := range storetest.Kinds(b) {
		b.Run(fmt.Sprintf("%s/n=%d", kind, n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				st := storetest.New(b, kind)
				f := newFixture(b, st)
				f.svc.Signals = nil
				rc, err := river.NewClient(st.RiverDriver(), &river.Config{})
				if err != nil {
					b.Fatal(err)
				}
				f.svc.River = rc
				ctx := context.Background()
				seq, err := f.svc.Create(ctx, f.a, model.Sequence{Name: "bench", Status: "active", Steps: []model.SequenceStep{
					{Kind: "send_email", Subject: "Hello", Text: "Hi"}, {Kind: "wait", Duration: "3d"}, {Kind: "send_email", Subject: "Again", Text: "Hi"},
				}})
				if err != nil {
					b.Fatal(err)
				}
				ids := seedContacts(b, st, f.a, n)
				for start := 0; start < n; start += 10000 {
					es := make([]model.Enrollment, 0, 10000)
					for i, id := range ids[start:min(start+10000, n)] {
						due := f.clock.Add(-time.Duration(start+i) * time.Millisecond) // distinct due times, oldest last inserted
						es = append(es, model.Enrollment{SequenceID: seq.ID, ContactID: id, Status: "active", Source: "bench", NextDueAt: &due})
					}
					if err := st.InTx(ctx, func(q store.Q) error { return q.InsertEnrollments(ctx, f.a, es) }); err != nil {
						b.Fatal(err)
					}
				}
				now := f.clock.Add(time.Minute)
				b.StartTimer()
				start := time.Now()
				res, err := f.svc.Dispatch(ctx, now)
				dispatch := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if want := (n + 999) / 1000; res.Batches != want {
					b.Fatalf("dispatch %+v, want %d batches", res, want)
				}
				// Drain: run every enqueued range (what the batch workers do).
				start = time.Now()
				ran := 0
				var after *river.JobListCursor
				for {
					p := river.NewJobListParams().Kinds((sequences.DueBatchArgs{}).Kind()).States(rivertype.JobStateAvailable).First(1000)
					if after != nil {
						p = p.After(after)
					}
					jobs, err := rc.JobList(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					for _, j := range jobs.Jobs {
						var a sequences.DueBatchArgs
						if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
							b.Fatal(err)
						}
						r, err := f.svc.RunBatch(ctx, a.Now)
						if err != nil {
							b.Fatal(err)
						}
						ran += r.Planned
					}
					if len(jobs.Jobs) < 1000 {
						break
					}
					after = river.JobListCursorFromJob(jobs.Jobs[len(jobs.Jobs)-1])
				}
				drain := time.Since(start)
				if ran != n {
					b.Fatalf("drained %d emails, want %d", ran, n)
				}
				b.ReportMetric(dispatch.Seconds(), "dispatch-s/run")
				b.ReportMetric(float64(n)/dispatch.Seconds(), "dispatched/s")
				b.ReportMetric(drain.Seconds(), "drain-s/run")
				b.ReportMetric(float64(n)/drain.Seconds(), "run/s")
				st.Close()
			}
		})
	}
}
