package success

import (
	"context"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The health score moves with time (usage and engagement windows slide, NPS
// responses age out), so every customer is recomputed once a day. A sweep
// runs every hour on the River leader and queues one daily job per workspace
// and UTC day (unique by arguments, so at most one per day even across
// restarts); each history row of the daily cause is unique per customer and
// day, so a job that runs twice writes nothing the second time.

// SweepArgs is the hourly sweep that queues each workspace's daily recompute.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "success_health_sweep" }

// InsertOpts keeps one sweep queued or running at a time.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// SweepInterval is how often the sweep looks for workspaces due their daily
// recompute; a day is never skipped for longer than this after midnight UTC.
const SweepInterval = time.Hour

// SweepPeriodicJob is the periodic job app registers.
func SweepPeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepInterval), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "success_health_sweep", RunOnStart: true})
}

// SweepWorker queues a DailyArgs per workspace for today.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Svc *Service
}

// Work queues today's daily job of every workspace.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.Svc.QueueDaily(ctx)
}

// QueueDaily queues today's (UTC) daily recompute of every workspace; a
// workspace whose job for today exists already is skipped by River.
func (s *Service) QueueDaily(ctx context.Context) error {
	if s.River == nil {
		return fmt.Errorf("success: no job client")
	}
	wss, err := s.St.Read().AdminListWorkspaces(ctx)
	if err != nil {
		return err
	}
	today := day(s.now())
	for _, w := range wss {
		if _, err := s.River.Insert(ctx, DailyArgs{WorkspaceID: w.ID, Day: today}, nil); err != nil {
			return fmt.Errorf("success: queue daily recompute of workspace %d: %w", w.ID, err)
		}
	}
	return nil
}

// DailyArgs recomputes every customer of one workspace for one UTC day.
type DailyArgs struct {
	WorkspaceID int64  `json:"workspace_id"`
	Day         string `json:"day"`
}

// Kind names the job.
func (DailyArgs) Kind() string { return "success_health_daily" }

// InsertOpts: unique by workspace and day in every state but cancelled and
// discarded (River's default), so a day runs once.
func (DailyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// DailyWorker runs DailyArgs.
type DailyWorker struct {
	river.WorkerDefaults[DailyArgs]
	Svc *Service
}

// Work recomputes the workspace's customers as of now with the daily cause.
func (w *DailyWorker) Work(ctx context.Context, j *river.Job[DailyArgs]) error {
	_, err := w.Svc.RecomputeAll(ctx, j.Args.WorkspaceID, CauseDaily, w.Svc.now())
	return err
}

// RecomputeArgs recomputes every customer of a workspace after its health
// settings changed.
type RecomputeArgs struct {
	WorkspaceID int64  `json:"workspace_id"`
	Cause       string `json:"cause"`
}

// Kind names the job.
func (RecomputeArgs) Kind() string { return "success_health_recompute" }

// RecomputeWorker runs RecomputeArgs.
type RecomputeWorker struct {
	river.WorkerDefaults[RecomputeArgs]
	Svc *Service
}

// Work recomputes the workspace's customers as of now.
func (w *RecomputeWorker) Work(ctx context.Context, j *river.Job[RecomputeArgs]) error {
	_, err := w.Svc.RecomputeAll(ctx, j.Args.WorkspaceID, j.Args.Cause, w.Svc.now())
	return err
}

// recomputeBatch is how many customers one transaction recomputes.
const recomputeBatch = 200

// RecomputeResult counts a workspace recompute: Customers scored, History rows
// written (a daily run repeated the same day writes none).
type RecomputeResult struct {
	Customers int `json:"customers"`
	History   int `json:"history"`
}

// RecomputeAll recomputes every customer of ws as of asOf with cause, in
// batches of recomputeBatch per transaction.
func (s *Service) RecomputeAll(ctx context.Context, ws int64, cause string, asOf time.Time) (RecomputeResult, error) {
	var res RecomputeResult
	after := int64(0)
	for {
		ids, err := s.St.Read().CustomerIDs(ctx, ws, after, recomputeBatch)
		if err != nil || len(ids) == 0 {
			return res, err
		}
		err = s.St.InTx(ctx, func(q store.Q) error {
			for _, id := range ids {
				_, written, err := Recompute(ctx, q, ws, id, cause, asOf)
				if err != nil {
					return fmt.Errorf("success: recompute account %d of workspace %d: %w", id, ws, err)
				}
				if written {
					res.History++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Customers += len(ids)
		after = ids[len(ids)-1]
	}
}

// enqueueRecompute queues RecomputeArgs in q's transaction; without a job
// client it recomputes in q instead.
func (s *Service) enqueueRecompute(ctx context.Context, q store.Q, ws int64, cause string) error {
	if s.River != nil {
		_, err := s.River.InsertTx(ctx, q.Tx(), RecomputeArgs{WorkspaceID: ws, Cause: cause}, &river.InsertOpts{MaxAttempts: 5})
		return err
	}
	now := s.now()
	after := int64(0)
	for {
		ids, err := q.CustomerIDs(ctx, ws, after, recomputeBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			if _, _, err := Recompute(ctx, q, ws, id, cause, now); err != nil {
				return err
			}
		}
		after = ids[len(ids)-1]
	}
}
