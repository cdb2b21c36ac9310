package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/store"
)

// runDue: --rows enrollments (default 1,000,000) of one active sequence — an
// email, a 3-day wait, an email — all due, seeded in bulk (not timed). Then,
// timed: the dispatch the periodic job runs (the due enrollments counted, one
// sequences_due_batch River job per 1,000 enqueued, one transaction), and the
// drain: every enqueued batch job's work run in this process one after the
// other, through the app's real wiring (each email planned in the send ledger,
// the wait's due time written back, step log). On PostgreSQL every worker node
// runs batch jobs at once (docs/scaling.md).
func runDue(ctx context.Context, o Options, r *Result) error {
	n := o.Rows
	if n <= 0 {
		n = 1000000
	}
	r.Size = n
	e, err := newDB(ctx, o)
	if err != nil {
		return err
	}
	defer e.close(r)
	if err := e.openApp(ctx, "https://crm.bench.example"); err != nil {
		return err
	}
	a, st, ws := e.App, e.App.St, e.WS.ID
	if err := st.InTx(ctx, func(q store.Q) error {
		return q.SaveMailSender(ctx, ws, &store.MailSender{FromName: "Ada", FromAddress: "ada@sender.test", PostalAddress: "1 Engine Street, London"})
	}); err != nil {
		return err
	}
	seq, err := a.Sequences.Create(ctx, ws, model.Sequence{Name: "bench", Status: "active", Trigger: model.SequenceTrigger{Kind: "manual"}, Steps: []model.SequenceStep{
		{Kind: "send_email", Subject: "Hello {{.Contact.FirstName}}", HTML: "<p>Hi {{.Contact.FirstName}}</p>"}, {Kind: "wait", Duration: "3d"}, {Kind: "send_email", Subject: "Again", HTML: "<p>Again</p>"},
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "seeding %d contacts and enrollments…\n", n)
	ids, err := SeedContacts(ctx, st, ws, n, PlainContact, nil)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := SeedEnrollments(ctx, st, ws, seq.ID, ids, now.Add(-time.Minute)); err != nil {
		return err
	}
	ids = nil
	if o.Store == "postgres" {
		if err := st.Analyze(ctx); err != nil {
			return err
		}
		r.Notes = append(r.Notes, "PostgreSQL: ANALYZE after seeding (autovacuum would, within a minute of a bulk load)")
	}
	done := measure(o)
	defer done()
	pg := e.pgMeter(ctx)
	t0 := time.Now()
	res, err := a.Sequences.Dispatch(ctx, now)
	dispatch := time.Since(t0)
	if err != nil {
		return err
	}
	if want := (n + 999) / 1000; res.Batches != want {
		return fmt.Errorf("dispatch enqueued %d batch jobs, want %d", res.Batches, want)
	}
	r.add(below("dispatch: claimed and enqueued", dispatch.Seconds(), "s", 10*float64(n)/1e6))
	r.add(plain("batch jobs enqueued", float64(res.Batches), "jobs"))
	r.add(plain("dispatch rate", float64(n)/dispatch.Seconds(), "enrollments/s"))
	if o.NoDrain {
		pg.stop(ctx, r, "enrollments dispatched", int64(n))
		r.Notes = append(r.Notes, "drain skipped (--drain=false)")
		return nil
	}
	fmt.Fprintf(o.Out, "dispatched in %s; draining %d batch jobs…\n", dispatch.Round(time.Millisecond), res.Batches)
	t0 = time.Now()
	ran, jobs := 0, 0
	var after *river.JobListCursor
	for {
		p := river.NewJobListParams().Kinds(sequences.DueBatchArgs{}.Kind()).States(rivertype.JobStateAvailable).First(1000)
		if after != nil {
			p = p.After(after)
		}
		page, err := a.River.JobList(ctx, p)
		if err != nil {
			return err
		}
		for _, j := range page.Jobs {
			var args sequences.DueBatchArgs
			if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
				return err
			}
			rr, err := a.Sequences.RunBatch(ctx, args.Now)
			if err != nil {
				return err
			}
			ran += rr.Planned
			jobs++
		}
		if len(page.Jobs) < 1000 {
			break
		}
		after = river.JobListCursorFromJob(page.Jobs[len(page.Jobs)-1])
	}
	drain := time.Since(t0)
	pg.stop(ctx, r, "steps (dispatch and drain)", int64(ran))
	if ran != n {
		return fmt.Errorf("drained %d emails, want %d", ran, n)
	}
	r.add(plain("drain: every batch job run in one process", drain.Seconds(), "s"))
	r.add(plain("drain rate", float64(n)/drain.Seconds(), "steps/s"))
	r.Notes = append(r.Notes, fmt.Sprintf("drain: %d batch jobs run one after the other in this process; each planned its emails in the send ledger (real mail wiring, sender configured, no SMTP)", jobs))
	return nil
}
