package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// AdminRescueRunningJobs hands back every River job left in state running by
// a process that is gone, the way River's own rescuer does after
// RescueStuckJobsAfter: available again now when it has attempts left,
// discarded when not, cancelled when a cancel was asked for; an error entry
// gives why (reason). Only where no process can be working those jobs: the
// start of a SQLite serve process (one process owns the file, so a running
// job at start is a dead one's), and a restore (the rows come from the backup;
// the servers are stopped). On a live PostgreSQL other processes may be
// working them; River's rescuer is the mechanism there (docs/reliability.md).
func (s *Store) AdminRescueRunningJobs(ctx context.Context, now time.Time, reason string) (rescued, discarded int, err error) {
	exec := s.RiverDriver().GetExecutor()
	horizon := now.Add(time.Second)
	var after int64
	for {
		jobs, err := exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{AfterID: after, Max: 500, StuckHorizon: horizon})
		if err != nil {
			return rescued, discarded, fmt.Errorf("store: running jobs: %w", err)
		}
		if len(jobs) == 0 {
			return rescued, discarded, nil
		}
		p := &riverdriver.JobRescueManyParams{StuckHorizon: horizon}
		for _, j := range jobs {
			after = j.ID
			msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(j.Attempt, 0),
				Error: reason})
			var meta struct {
				CancelAttemptedAt time.Time `json:"cancel_attempted_at"`
			}
			_ = json.Unmarshal(j.Metadata, &meta)
			fin := &now
			state := rivertype.JobStateDiscarded
			switch {
			case !meta.CancelAttemptedAt.IsZero():
				state = rivertype.JobStateCancelled
				discarded++
			case j.Attempt < j.MaxAttempts:
				state, fin = rivertype.JobStateAvailable, nil
				rescued++
			default:
				discarded++
			}
			p.ID = append(p.ID, j.ID)
			p.Error = append(p.Error, msg)
			p.FinalizedAt = append(p.FinalizedAt, fin)
			p.ScheduledAt = append(p.ScheduledAt, now)
			p.State = append(p.State, string(state))
		}
		if _, err := exec.JobRescueMany(ctx, p); err != nil {
			return rescued, discarded, fmt.Errorf("store: rescue running jobs: %w", err)
		}
	}
}
