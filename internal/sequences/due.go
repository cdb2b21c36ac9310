package sequences

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rightsize/rightsize/internal/store"
)

// DueArgs is the River job that dispatches due sequence steps: it cuts every
// enrollment due now into ranges of BatchSize in due order and enqueues one
// DueBatchArgs job per range, in one transaction. The job granularity is the
// batch, not the message (River on SQLite works about 1,000 jobs/s; 1M due
// steps are 1,000 batch jobs), and on PostgreSQL the batch jobs spread over
// every worker node. Inserted by the periodic sweep and, in the transaction that
// makes a step due now, by enrolment, resume and release.
type DueArgs struct{}

// Kind names the job.
func (DueArgs) Kind() string { return "sequences_due" }

// InsertOpts: a few attempts; a dispatch that fails rolled back with its
// inserts. Jobs are not unique: uniqueness across running jobs would drop the
// insert of a step that became due while a dispatch was finishing; a dispatch
// that finds batch jobs still pending enqueues nothing (Dispatch).
func (DueArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// DueBatchArgs is one range of due enrollments, (After, Upto] in (next_due_at,
// id) order with nil meaning unbounded, run at Now.
type DueBatchArgs struct {
	After *store.DueKey `json:"after,omitempty"`
	Upto  *store.DueKey `json:"upto,omitempty"`
	Now   time.Time     `json:"now"`
}

// Kind names the job.
func (DueBatchArgs) Kind() string { return "sequences_due_batch" }

// InsertOpts: a failed batch rolled back, so a retry claims the same rows again
// and their send keys keep it from sending twice.
func (DueBatchArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// DueInterval is how often the periodic sweep runs: a step that became due by
// the passing of time (a wait ending) runs at most this late.
const DueInterval = 15 * time.Second

// DuePeriodicJob is registered by app; River runs it on the elected leader.
func DuePeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(DueInterval), func() (river.JobArgs, *river.InsertOpts) {
		return DueArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "sequences_due", RunOnStart: true})
}

// DispatchResult says what a dispatch did.
type DispatchResult struct {
	Batches int  `json:"batches"` // batch jobs enqueued
	Pending bool `json:"pending"` // batch jobs of an earlier dispatch were still pending: nothing enqueued
}

// pendingStates are the states of a batch job that will still run.
var pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending}

// Dispatch partitions every enrollment due at now into batch jobs. While batch
// jobs of an earlier dispatch are pending it enqueues nothing: their ranges
// cover what was due then, and what became due since waits for the next sweep
// instead of being enqueued twice. Two dispatches racing on PostgreSQL may
// enqueue overlapping ranges; the batch jobs' SKIP LOCKED claims and the
// moved due times make the second visit a no-op.
func (s *Service) Dispatch(ctx context.Context, now time.Time) (DispatchResult, error) {
	if s.River == nil {
		return DispatchResult{}, errors.New("sequences: dispatch needs a River client")
	}
	var res DispatchResult
	err := s.St.InTx(ctx, func(q store.Q) error {
		res = DispatchResult{}
		if paused, err := q.AdminSendingPaused(ctx); err != nil || paused {
			return err // a restore not yet confirmed: nothing is dispatched
		}
		pending, err := s.River.JobListTx(ctx, q.Tx(), river.NewJobListParams().Kinds(DueBatchArgs{}.Kind()).States(pendingStates...).First(1))
		if err != nil {
			return fmt.Errorf("sequences: pending batch jobs: %w", err)
		}
		if len(pending.Jobs) > 0 {
			res.Pending = true
			return nil
		}
		bounds, err := q.AdminDueBoundaries(ctx, now, s.batchSize())
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, 0, len(bounds)+1)
		var after *store.DueKey
		for i := range bounds {
			params = append(params, river.InsertManyParams{Args: DueBatchArgs{After: after, Upto: &bounds[i], Now: now}})
			after = &bounds[i]
		}
		// The tail after the last full run (possibly empty: a batch job that
		// finds nothing is cheaper than a second query to find out).
		params = append(params, river.InsertManyParams{Args: DueBatchArgs{After: after, Now: now}})
		if _, err := s.River.InsertManyFastTx(ctx, q.Tx(), params); err != nil {
			return fmt.Errorf("sequences: enqueue due batches: %w", err)
		}
		res.Batches = len(params)
		return nil
	})
	return res, err
}

// DueWorker dispatches due steps at the service's clock; without a River client
// (tools, tests) it runs them itself.
type DueWorker struct {
	river.WorkerDefaults[DueArgs]
	Svc *Service
}

// Work dispatches every due step.
func (w *DueWorker) Work(ctx context.Context, _ *river.Job[DueArgs]) error {
	if w.Svc.River == nil {
		_, err := w.Svc.RunDue(ctx, w.Svc.now())
		return err
	}
	_, err := w.Svc.Dispatch(ctx, w.Svc.now())
	return err
}

// DueBatchWorker runs one dispatched range.
type DueBatchWorker struct {
	river.WorkerDefaults[DueBatchArgs]
	Svc *Service
}

// Work runs the range's due steps at the dispatch's clock.
func (w *DueBatchWorker) Work(ctx context.Context, j *river.Job[DueBatchArgs]) error {
	_, err := w.Svc.RunRange(ctx, j.Args.Now, j.Args.After, j.Args.Upto)
	return err
}
