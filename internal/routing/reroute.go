package routing

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
)

// RerouteResult reconciles a re-routing pass: Visited = Changed + Unchanged +
// Pinned (accounts whose segment or motion was set by hand keep it).
type RerouteResult struct {
	Visited   int `json:"visited"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	Pinned    int `json:"pinned"`
}

// rerouteBatch is how many accounts one transaction re-routes.
const rerouteBatch = 1000

// RerouteAll applies the workspace's current rules to every account, a batch
// of accounts per transaction, exactly as a write of the account would: an
// account whose segment or motion changes gets a decision saying why (with
// why as its trigger) and its open deals are flagged for review; accounts
// pinned by a manual decision keep it. It runs after a rule change (a River
// job, RerouteArgs) so the stored segments match the rules without waiting for
// each account's next write.
func (s *Service) RerouteAll(ctx context.Context, ws int64, why string) (RerouteResult, error) {
	var res RerouteResult
	var after int64
	for {
		var n int
		err := s.St.InTx(ctx, func(q store.Q) error {
			accts, err := q.AccountsAfter(ctx, ws, after, rerouteBatch)
			if err != nil {
				return err
			}
			n = len(accts)
			b := s.Batch(ctx, q, ws)
			var part RerouteResult
			for i := range accts {
				prev := accts[i]
				a := prev
				after = a.ID
				part.Visited++
				done, err := b.Route(&prev, &a, why)
				if err != nil {
					return err
				}
				if err := done(); err != nil {
					return err
				}
				switch {
				case a.Segment == prev.Segment && a.Motion == prev.Motion:
					// Unchanged, or held by a manual decision the rules disagree with.
					pinned, err := s.disagrees(ctx, q, ws, &a)
					if err != nil {
						return err
					}
					if pinned {
						part.Pinned++
					} else {
						part.Unchanged++
					}
				default:
					if err := q.SetAccountRouting(ctx, ws, a.ID, a.Segment, a.Motion); err != nil {
						return err
					}
					part.Changed++
				}
			}
			if err := b.Flush(); err != nil {
				return err
			}
			res.Visited += part.Visited
			res.Changed += part.Changed
			res.Unchanged += part.Unchanged
			res.Pinned += part.Pinned
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("routing: re-route workspace %d: %w", ws, err)
		}
		if n < rerouteBatch {
			return res, nil
		}
	}
}

// disagrees reports whether the rules would put a elsewhere than it is.
func (s *Service) disagrees(ctx context.Context, q store.Q, ws int64, a *model.Account) (bool, error) {
	rs, err := s.ruleset(ctx, q, ws)
	if err != nil {
		return false, err
	}
	var acv *int64
	if rs.UsesExpectedACV() {
		if acv, err = q.MaxOpenDealAmount(ctx, ws, a.ID); err != nil {
			return false, err
		}
	}
	d := rs.Evaluate(a, acv)
	return d.Segment != a.Segment || d.Motion != a.Motion, nil
}

// RerouteArgs is the job a rule change enqueues in its transaction.
type RerouteArgs struct {
	WorkspaceID int64  `json:"workspace_id"`
	Why         string `json:"why"`
}

// Kind names the job for River.
func (RerouteArgs) Kind() string { return "routing_reroute" }

// RerouteWorker re-routes a workspace's accounts after its rules changed.
type RerouteWorker struct {
	river.WorkerDefaults[RerouteArgs]
	Svc *Service
}

// Work runs the pass; a failed batch is retried by River from the start, which
// is safe: accounts already re-routed are unchanged the second time.
func (w *RerouteWorker) Work(ctx context.Context, job *river.Job[RerouteArgs]) error {
	res, err := w.Svc.RerouteAll(ctx, job.Args.WorkspaceID, job.Args.Why)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "routing: accounts re-routed after a rule change", "workspace", job.Args.WorkspaceID,
		"visited", res.Visited, "changed", res.Changed, "unchanged", res.Unchanged, "pinned", res.Pinned)
	return nil
}
