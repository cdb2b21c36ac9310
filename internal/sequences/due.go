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

// DueArgs is the River job that dispatches due sequence steps: it counts the
// enrollments due now and enqueues one DueBatchArgs job per BatchSize of them,
// in one transaction. The job granularity is the batch, not the message (River
// on SQLite works about 1,000 jobs/s; 1M due steps are 1,000 batch jobs), and
// on PostgreSQL the batch jobs spread over every worker node. Inserted by the periodic sweep and, in the transaction that
// makes a step due now, by enrolment, resume and release.
type DueArgs struct{}

// Kind names the job.
func (DueArgs) Kind() string { return "sequences_due" }

// InsertOpts: a few attempts; a dispatch that fails rolled back with its
// inserts. Jobs are not unique: uniqueness across running jobs would drop the
// insert of a step that became due while a dispatch was finishing; a dispatch
// that finds batch jobs still pending enqueues nothing (Dispatch).
func (DueArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// DueBatchArgs is one batch of due steps: its job claims up to BatchSize of
// the oldest due enrollments at Now (FOR UPDATE SKIP LOCKED on PostgreSQL, so
// concurrent batch jobs on any node take disjoint rows; one at a time on
// SQLite's single writer) and runs them. A job that finds nothing left (the
// rows were run by another job, or exited) is done.
type DueBatchArgs struct {
	Now time.Time `json:"now"`
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
	Due     int  `json:"due"`     // enrollments due at the dispatch
	Batches int  `json:"batches"` // batch jobs enqueued
	Pending bool `json:"pending"` // batch jobs of an earlier dispatch were still pending: nothing enqueued
}

// pendingStates are the states of a batch job that will still run.
var pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending}

// Dispatch enqueues one batch job per BatchSize enrollments due at now.
// While batch jobs of an earlier dispatch are pending it enqueues nothing:
// they will claim what is due when they run, and what becomes due since waits
// for the next sweep instead of being enqueued twice. Two dispatches racing on
// PostgreSQL may enqueue more jobs than rows; the extra ones claim nothing.
func (s *Service) Dispatch(ctx context.Context, now time.Time) (DispatchResult, error) {
	if s.River == nil {
		return DispatchResult{}, errors.New("sequences: dispatch needs a River client")
	}
	var res DispatchResult
	err := s.St.InTx(ctx, func(q store.Q) error {
		res = DispatchResult{}
		pending, err := s.River.JobListTx(ctx, q.Tx(), river.NewJobListParams().Kinds(DueBatchArgs{}.Kind()).States(pendingStates...).First(1))
		if err != nil {
			return fmt.Errorf("sequences: pending batch jobs: %w", err)
		}
		if len(pending.Jobs) > 0 {
			res.Pending = true
			return nil
		}
		due, err := q.AdminCountDue(ctx, now)
		if err != nil || due == 0 {
			return err
		}
		n := (due + s.batchSize() - 1) / s.batchSize()
		params := make([]river.InsertManyParams, n)
		for i := range params {
			params[i] = river.InsertManyParams{Args: DueBatchArgs{Now: now}}
		}
		if _, err := s.River.InsertManyFastTx(ctx, q.Tx(), params); err != nil {
			return fmt.Errorf("sequences: enqueue due batches: %w", err)
		}
		res.Batches, res.Due = n, due
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

// DueBatchWorker runs one dispatched batch.
type DueBatchWorker struct {
	river.WorkerDefaults[DueBatchArgs]
	Svc *Service
}

// Work runs one batch of due steps at the dispatch's clock.
func (w *DueBatchWorker) Work(ctx context.Context, j *river.Job[DueBatchArgs]) error {
	_, err := w.Svc.RunBatch(ctx, j.Args.Now)
	return err
}
