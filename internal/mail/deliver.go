package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/faults"
	"github.com/rightsize/rightsize/internal/store"
)

// Stats counts what a drain did.
type Stats struct {
	Accepted, Deferred, Bounced, Suppressed, Unknown, Failed int
}

func (a *Stats) add(b Stats) {
	a.Accepted += b.Accepted
	a.Deferred += b.Deferred
	a.Bounced += b.Bounced
	a.Suppressed += b.Suppressed
	a.Unknown += b.Unknown
	a.Failed += b.Failed
}

// Drain sends every due row, one batch per claim transaction, over the
// transport's connections in parallel, until no row is due at s.Now().
func (s *Service) Drain(ctx context.Context) (Stats, error) {
	if s.Transport == nil {
		return Stats{}, nil
	}
	// A restored instance sends nothing until an admin confirms
	// (docs/reliability.md): due rows wait in the ledger.
	if paused, err := s.St.Read().AdminSendingPaused(ctx); err != nil || paused {
		return Stats{}, err
	}
	var total Stats
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range s.Transport.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				st, n, err := s.deliverBatch(ctx)
				mu.Lock()
				total.add(st)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil || n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total, firstErr
}

// DrainOnce is Drain, one at a time per process: asked while a drain runs,
// it returns at once and the running drain goes round once more (so rows
// planned after its last claim are not left for the periodic run). Drains in
// other processes run beside it; the claim keeps them apart.
func (s *Service) DrainOnce(ctx context.Context) (Stats, error) {
	s.drainMu.Lock()
	if s.draining {
		s.again = true
		s.drainMu.Unlock()
		return Stats{}, nil
	}
	s.draining = true
	s.drainMu.Unlock()
	var total Stats
	for {
		st, err := s.Drain(ctx)
		total.add(st)
		s.drainMu.Lock()
		if err != nil || !s.again {
			s.draining, s.again = false, false
			s.drainMu.Unlock()
			return total, err
		}
		s.again = false
		s.drainMu.Unlock()
	}
}

func (s *Service) backoff(attempts int) time.Duration {
	d := s.RetryBase
	for i := 1; i < attempts && d < s.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.RetryMax)
}

// deliverBatch claims up to Batch rows and sends them on one connection. n is
// the number of rows claimed (0: nothing due).
func (s *Service) deliverBatch(ctx context.Context) (Stats, int, error) {
	var st Stats
	var claimed []store.ClaimedSend
	var sup []store.Send
	now := s.Now()
	// The ledger's transactions are durable when they return, as InTx's;
	// the workers running side by side share their fsyncs on SQLite.
	err := s.St.InTxSharedSync(ctx, func(q store.Q) (err error) {
		claimed, sup, err = q.AdminClaimDueSends(ctx, now, s.Batch, s.claimer)
		return err
	})
	if err != nil {
		return st, 0, err
	}
	if len(claimed) > 0 {
		faults.Point(faults.SendClaimed)
	}
	st.Suppressed = len(sup)
	if len(claimed) == 0 {
		return st, len(sup), nil
	}
	type job struct {
		cs   *store.ClaimedSend
		raw  []byte
		from string
		buf  *bytes.Buffer // raw's storage (pooled): free once raw is sent
	}
	jobs := make([]job, 0, len(claimed))
	var outs []store.SendOutcome
	for i := range claimed {
		cs := &claimed[i]
		buf := msgBufs.Get().(*bytes.Buffer)
		buf.Reset()
		raw, from, err := s.composeInto(ctx, cs, buf)
		if err != nil {
			msgBufs.Put(buf)
			// A broken template or sender is not the recipient's fault: the row
			// fails visibly (bounced with code 0 and the reason) instead of looping.
			s.Log.Error("mail: compose failed", "workspace", cs.Workspace, "send", cs.ID, "err", err)
			outs = append(outs, store.SendOutcome{ID: cs.ID, Workspace: cs.Workspace, State: store.SendBounced, Text: "not sent: " + err.Error()})
			st.Failed++
			continue
		}
		jobs = append(jobs, job{cs, raw, from, buf})
	}
	release := func(reason string) error {
		for _, j := range jobs {
			outs = append(outs, store.SendOutcome{ID: j.cs.ID, Workspace: j.cs.Workspace, State: store.SendDeferred, Text: reason, DueAt: now.Add(s.backoff(j.cs.Attempts))})
			st.Deferred++
		}
		return s.finish(ctx, outs)
	}
	if len(jobs) == 0 {
		return st, len(claimed), s.finish(ctx, outs)
	}
	conn, err := s.Transport.Get(ctx)
	if err != nil {
		// Nothing reached the server: every row is deferred with backoff.
		s.Log.Warn("mail: smtp unavailable; deferring batch", "rows", len(jobs), "err", err)
		return st, len(claimed), release(err.Error())
	}
	// The batch goes out in groups: a group is marked smtp_started in the
	// transaction that records the previous group's outcomes, so a crash
	// leaves at most one group per connection unknown (the rows after it are
	// only claimed and go back to planned at recovery).
	group := s.Group
	if group <= 0 {
		group = len(jobs)
	}
	healthy, stopped := true, false
	for g := 0; g < len(jobs); g += group {
		part := jobs[g:min(g+group, len(jobs))]
		if !healthy || stopped || ctx.Err() != nil {
			// Not started: the connection died or the process is stopping.
			why, due := "connection lost before send", now
			if healthy {
				why = "stopped"
			}
			for _, j := range part {
				if !healthy {
					due = now.Add(s.backoff(j.cs.Attempts))
				}
				outs = append(outs, store.SendOutcome{ID: j.cs.ID, Workspace: j.cs.Workspace, State: store.SendDeferred, Text: why, DueAt: due})
				st.Deferred++
			}
			continue
		}
		ids := make([]int64, len(part))
		for i, j := range part {
			ids[i] = j.cs.ID
		}
		prev := outs
		if err := s.recordOutcomes(ctx, prev, func(q store.Q) error { return q.AdminStartSends(ctx, ids, s.claimer, s.Now()) }); err != nil {
			conn.Release(true)
			// The previous group's messages went out: record them on their own.
			return st, len(claimed), errors.Join(err, s.finish(ctx, prev))
		}
		outs = nil
		faults.Point(faults.SendBeforeSMTP)
		if s.BeforeData != nil {
			if err := s.BeforeData(ids); err != nil {
				conn.Release(false)
				return st, len(claimed), err
			}
		}
		for i, j := range part {
			cs := j.cs
			if !healthy {
				// The connection died before this message's MAIL FROM: it was not sent.
				outs = append(outs, store.SendOutcome{ID: cs.ID, Workspace: cs.Workspace, State: store.SendDeferred, Text: "connection lost before send", DueAt: now.Add(s.backoff(cs.Attempts))})
				st.Deferred++
				continue
			}
			se, _ := s.sender(ctx, cs.Workspace)
			if err := s.wait(ctx, cs.Workspace, se.s.RatePerSec); err != nil {
				for _, rest := range part[i:] {
					outs = append(outs, store.SendOutcome{ID: rest.cs.ID, Workspace: rest.cs.Workspace, State: store.SendDeferred, Text: "stopped", DueAt: now})
					st.Deferred++
				}
				stopped = true
				break
			}
			r := conn.Send(j.from, cs.ToEmail, j.raw)
			// Send has written the message out: its buffer can take the next
			// one. (Jobs that never reach Send leave theirs to the GC.)
			freeMsgBuf(j.buf)
			if r.Delivered {
				faults.Point(faults.SendAfterSMTP)
			}
			o := s.classify(ctx, cs, r, now)
			switch o.State {
			case store.SendAccepted:
				st.Accepted++
			case store.SendDeferred:
				st.Deferred++
			case store.SendBounced:
				st.Bounced++
			case store.SendUnknown:
				st.Unknown++
			}
			outs = append(outs, o)
			healthy = !r.Broken
		}
	}
	conn.Release(healthy)
	return st, len(claimed), s.finish(ctx, outs)
}

// msgBufs holds the buffers messages are composed in: a batch composes 100
// messages of ~10 kB, a run thousands of batches.
var msgBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// freeMsgBuf returns b to msgBufs unless it grew unusually large (a message
// near the template output limit).
func freeMsgBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		msgBufs.Put(b)
	}
}

// classify maps an SMTP result to a ledger outcome.
func (s *Service) classify(ctx context.Context, cs *store.ClaimedSend, r SendResult, now time.Time) store.SendOutcome {
	o := store.SendOutcome{ID: cs.ID, Workspace: cs.Workspace, Email: cs.ToEmail, Code: r.Code, Text: r.Text}
	switch {
	case r.Delivered:
		o.State = store.SendAccepted
	case r.Ambiguous:
		o.State = store.SendUnknown
	case r.Code >= 500 && r.Phase != "mail":
		// 5xx at RCPT or DATA: the recipient is refused for good.
		o.State, o.Suppress = store.SendBounced, store.SuppressHard
	case r.Code >= 400 && r.Code < 500:
		o.State, o.SoftBounce, o.DueAt = store.SendDeferred, true, now.Add(s.backoff(cs.Attempts))
		n, err := s.St.Read().SoftBounces(ctx, cs.Workspace, cs.ToEmail)
		if err == nil && n+1 >= s.MaxSoftBounces {
			o.State, o.Suppress = store.SendBounced, store.SuppressSoftLim
		}
	default:
		// A refused MAIL FROM (our side) or a failure before the body went out:
		// not sent, try again later.
		o.State, o.DueAt = store.SendDeferred, now.Add(s.backoff(cs.Attempts))
	}
	return o
}

func (s *Service) finish(ctx context.Context, outs []store.SendOutcome) error {
	if len(outs) == 0 {
		return nil
	}
	return s.recordOutcomes(ctx, outs, nil)
}

// recordOutcomes writes outcomes, and then runs also (when set), in one
// transaction. It runs even when ctx is cancelled (shutdown): the messages
// were sent, their outcome must not be lost.
func (s *Service) recordOutcomes(ctx context.Context, outs []store.SendOutcome, also func(q store.Q) error) error {
	wctx := context.WithoutCancel(ctx)
	return s.St.InTxSharedSync(wctx, func(q store.Q) error {
		if len(outs) > 0 {
			if err := q.AdminFinishSends(wctx, outs, s.Now()); err != nil {
				return err
			}
		}
		if s.OnSuppressed != nil {
			for _, o := range outs {
				if o.Suppress != "" {
					if err := s.OnSuppressed(wctx, q, o.Workspace, o.Email, o.Suppress); err != nil {
						return err
					}
				}
			}
		}
		if also != nil {
			return also(q)
		}
		return nil
	})
}

// RecoverStale is how long a row may stay claimed or smtp_started before the
// periodic recovery treats its process as dead.
const RecoverStale = 10 * time.Minute

// Recover marks rows left in smtp_started before cutoff unknown (never re-sent)
// and releases rows only claimed. The app calls it on open with cutoff = now on
// SQLite (one process) and the periodic job with now - RecoverStale.
func (s *Service) Recover(ctx context.Context, cutoff time.Time) ([]store.Send, error) {
	var out []store.Send
	err := s.St.InTx(ctx, func(q store.Q) (err error) {
		out, err = q.AdminRecoverSends(ctx, cutoff)
		return err
	})
	for _, r := range out {
		s.Log.Warn("mail: send outcome unknown after a stop during SMTP; not re-sent", "workspace", r.Workspace, "send", r.ID, "message_id", r.MessageID)
	}
	return out, err
}

// DeliverArgs is the River job that drains due sends.
type DeliverArgs struct{}

// Kind names the job.
func (DeliverArgs) Kind() string { return "mail_deliver" }

// InsertOpts keeps one drain queued or running at a time.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// DeliverWorker drains due sends and recovers stale ones.
type DeliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	Svc *Service
}

// Work recovers rows of dead processes, then drains.
func (w *DeliverWorker) Work(ctx context.Context, _ *river.Job[DeliverArgs]) error {
	if _, err := w.Svc.Recover(ctx, w.Svc.Now().Add(-RecoverStale)); err != nil {
		return err
	}
	return w.Svc.drainJob(ctx)
}

func (s *Service) drainJob(ctx context.Context) error {
	st, err := s.DrainOnce(ctx)
	if err != nil {
		return fmt.Errorf("mail: drain: %w", err)
	}
	if st != (Stats{}) {
		s.Log.Info("mail: drained", "claimer", s.claimer, "accepted", st.Accepted, "deferred", st.Deferred, "bounced", st.Bounced, "suppressed", st.Suppressed, "unknown", st.Unknown)
	}
	return nil
}

// DeliverNowArgs is a delivery run asked for by Plan (Service.Kick), inserted
// in the transaction that planned the rows. Not unique: one inserted while a
// drain runs must not be dropped (DrainOnce coalesces them in a process).
type DeliverNowArgs struct{}

// Kind names the job.
func (DeliverNowArgs) Kind() string { return "mail_deliver_now" }

// InsertOpts: a failed run is retried a few times; the periodic drain is the
// backstop.
func (DeliverNowArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// DeliverNowWorker drains due sends right after they were planned.
type DeliverNowWorker struct {
	river.WorkerDefaults[DeliverNowArgs]
	Svc *Service
}

// Work drains.
func (w *DeliverNowWorker) Work(ctx context.Context, _ *river.Job[DeliverNowArgs]) error {
	return w.Svc.drainJob(ctx)
}

// DeliverPeriodicJob runs the drain every interval: deferred rows become due
// by time, so no other queue is needed.
func DeliverPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return DeliverArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "mail_deliver", RunOnStart: true})
}

var _ = errors.New
