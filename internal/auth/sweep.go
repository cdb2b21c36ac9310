package auth

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/rightsize/rightsize/internal/store"
)

// Sweep deletes what no request will ever accept again: sessions past their
// absolute or idle timeout, throttle windows that ended, and reset tokens that
// expired. Requests already refuse these rows; the sweep keeps the tables small.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now()
	window := max(s.limits().Account.Window, s.limits().IP.Window)
	return s.St.InTx(ctx, func(q store.Q) error {
		if _, err := q.DeleteExpiredSessions(ctx, now); err != nil {
			return err
		}
		if _, err := q.AdminDeleteIdleSessions(ctx, now.Add(-IdleTimeout)); err != nil {
			return err
		}
		if _, err := q.AdminDeleteStaleThrottle(ctx, now.Add(-window)); err != nil {
			return err
		}
		_, err := q.AdminDeleteStalePasswordResets(ctx, now)
		return err
	})
}

// SweepArgs is the periodic job that runs Sweep.
type SweepArgs struct{}

// Kind names the job.
func (SweepArgs) Kind() string { return "auth_sweep" }

// SweepWorker runs the sweep.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Svc *Service
}

// Work runs one sweep.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.Svc.Sweep(ctx)
}

// SweepPeriodicJob runs the sweep every interval on the leader.
func SweepPeriodicJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "auth_sweep", RunOnStart: true})
}
