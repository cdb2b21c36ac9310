package sequences_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// A dispatch enqueues one batch job per BatchSize due enrollments; running
// the jobs runs every due enrollment exactly once, oldest first, even when all
// of them share one due time. While those jobs are pending a second dispatch
// enqueues nothing. Enrollments of both workspaces are dispatched together; a
// not-yet-due one is left alone.
func TestDispatchPartitionsDueSteps(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.svc.Signals = nil
		f.svc.BatchSize = 100
		rc, err := river.NewClient(st.RiverDriver(), &river.Config{}) // insert-only: the test runs the batches
		if err != nil {
			t.Fatal(err)
		}
		f.svc.River = rc
		steps := []model.SequenceStep{{Kind: "send_email", Subject: "Hello", Text: "Hi"}, {Kind: "wait", Duration: "3d"}}
		seqA := f.sequence(t, f.a, model.Sequence{Name: "a", Steps: steps})
		seqB := f.sequence(t, f.b, model.Sequence{Name: "b", Steps: steps})
		due := f.clock
		later := due.Add(time.Hour)
		enrol := func(ws, seq int64, n int, at time.Time) {
			ids := seedContacts(t, st, ws, n)
			es := make([]model.Enrollment, 0, n)
			for _, id := range ids {
				es = append(es, model.Enrollment{SequenceID: seq, ContactID: id, Status: "active", Source: "test", NextDueAt: &at})
			}
			if err := st.InTx(ctx, func(q store.Q) error { return q.InsertEnrollments(ctx, ws, es) }); err != nil {
				t.Fatal(err)
			}
		}
		enrol(f.a, seqA.ID, 180, due) // one shared due time
		enrol(f.b, seqB.ID, 70, due)
		// One more in B, due after the dispatch's clock: not part of this run.
		c := f.contact(t, f.b, "later@x.io", nil)
		if err := st.InTx(ctx, func(q store.Q) error {
			return q.InsertEnrollments(ctx, f.b, []model.Enrollment{{SequenceID: seqB.ID, ContactID: c, Status: "active", Source: "test", NextDueAt: &later}})
		}); err != nil {
			t.Fatal(err)
		}

		now := due.Add(time.Minute)
		res, err := f.svc.Dispatch(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		// 250 due in batches of 100: three jobs.
		if res.Batches != 3 || res.Due != 250 || res.Pending {
			t.Fatalf("dispatch: %+v, want 3 batches", res)
		}
		again, err := f.svc.Dispatch(ctx, now)
		if err != nil || !again.Pending || again.Batches != 0 {
			t.Fatalf("second dispatch while batches are pending: %+v %v", again, err)
		}
		jobs, err := rc.JobList(ctx, river.NewJobListParams().Kinds((sequences.DueBatchArgs{}).Kind()).States(rivertype.JobStateAvailable).First(100))
		if err != nil || len(jobs.Jobs) != 3 {
			t.Fatalf("batch jobs: %d %v", len(jobs.Jobs), err)
		}
		total, claimed := 0, []int{}
		for _, j := range jobs.Jobs {
			var a sequences.DueBatchArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				t.Fatal(err)
			}
			r, err := f.svc.RunBatch(ctx, a.Now)
			if err != nil {
				t.Fatal(err)
			}
			claimed = append(claimed, r.Claimed)
			total += r.Planned
		}
		if total != 250 || claimed[0] != 100 || claimed[1] != 100 || claimed[2] != 50 {
			t.Fatalf("batches claimed %v and planned %d emails, want 100, 100, 50 and 250", claimed, total)
		}
		// Every due enrollment ran its step once (its send key is planned once and
		// it now waits); the later one was not touched.
		var planned int
		if err := st.W.QueryRowContext(ctx, `SELECT COUNT(*) FROM test_send_ledger`).Scan(&planned); err != nil || planned != 250 {
			t.Fatalf("ledger rows %d %v", planned, err)
		}
		es, err := f.svc.Enrollments(ctx, f.b, store.EnrollmentFilter{SequenceID: seqB.ID, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.ContactID == c && (e.Position != 0 || !e.NextDueAt.Equal(later)) {
				t.Errorf("the enrollment due later was run: %+v", e)
			}
		}
	})
}
