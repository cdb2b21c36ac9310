package sequences

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// DueArgs is the River job that runs due sequence steps. One job works through
// every due enrollment in batches (RunDue): the job granularity is the batch,
// not the message, so 1M due steps are a few hundred transactions rather than a
// million jobs. Inserted by the periodic sweep and, in the transaction that
// makes a step due now, by enrolment, resume and release.
type DueArgs struct{}

// Kind names the job.
func (DueArgs) Kind() string { return "sequences_due" }

// InsertOpts: a few attempts; a failed batch rolled back, so a retry claims
// the same rows again and their send keys keep it from sending twice. Jobs are
// not unique: a second one running beside the first only finds rows the first
// holds skipped (PostgreSQL) or waits for the writer (SQLite), and uniqueness
// across running jobs would drop the insert of a step that became due while a
// sweep was finishing.
func (DueArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// DueInterval is how often the periodic sweep runs: a step that became due by
// the passing of time (a wait ending) runs at most this late.
const DueInterval = 15 * time.Second

// DuePeriodicJob is registered by app; River runs it on the elected leader.
func DuePeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(DueInterval), func() (river.JobArgs, *river.InsertOpts) {
		return DueArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "sequences_due", RunOnStart: true})
}

// DueWorker runs due steps at the service's clock.
type DueWorker struct {
	river.WorkerDefaults[DueArgs]
	Svc *Service
}

// Work runs every due step.
func (w *DueWorker) Work(ctx context.Context, _ *river.Job[DueArgs]) error {
	_, err := w.Svc.RunDue(ctx, w.Svc.now())
	return err
}
