package scoring

import (
	"context"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DueArgs is the River job that works off scores whose due time has passed: the
// moment decay takes a contact's total below the MQL threshold.
type DueArgs struct{}

// Kind names the job.
func (DueArgs) Kind() string { return "scoring_due" }

// InsertOpts keeps at most one sweep queued or running: a second would only find
// the rows the first is working on locked.
func (DueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// DueInterval is how often the sweep runs; a decayed MQL returns to nurture at
// most this long after its due time.
const DueInterval = time.Minute

// DuePeriodicJob is the periodic job app registers. River runs periodic jobs on
// the elected leader only, and the job is durable: a sweep that dies leaves its
// rows due, and the next one picks them up.
func DuePeriodicJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(DueInterval), func() (river.JobArgs, *river.InsertOpts) {
		return DueArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "scoring_due", RunOnStart: true})
}

// DueWorker runs the sweep against the service's clock.
type DueWorker struct {
	river.WorkerDefaults[DueArgs]
	Svc *Service
}

// Work sweeps every workspace with due scores.
func (w *DueWorker) Work(ctx context.Context, _ *river.Job[DueArgs]) error {
	_, err := w.Svc.RunDue(ctx, w.Svc.now())
	return err
}

// DueResult counts what a sweep did. Claimed = Rescheduled + Cleared + Decayed.
type DueResult struct {
	Claimed     int `json:"claimed"`
	Rescheduled int `json:"rescheduled"` // the score no longer crosses at that time (rules or fit changed): new due time
	Cleared     int `json:"cleared"`     // below the threshold, but not an mql: nothing to do
	Decayed     int `json:"decayed"`     // an mql whose score decayed: recorded in history
	Nurtured    int `json:"nurtured"`    // of those, untouched and moved to nurture
}

// dueBatch is how many scores one transaction claims.
const dueBatch = 500

// RunDue handles every score due at or before now, workspace by workspace, in
// batches of dueBatch per transaction. For a contact whose total has decayed below
// the threshold while it is an mql it records "score decayed below threshold"; an
// mql that scoring promoted and no one has touched since (no edit of the contact,
// no activity logged on it) goes back to nurture. now is explicit so tests move the
// clock instead of sleeping.
func (s *Service) RunDue(ctx context.Context, now time.Time) (DueResult, error) {
	var res DueResult
	wss, err := s.St.Read().AdminWorkspacesWithDueScores(ctx, now)
	if err != nil {
		return res, err
	}
	for _, ws := range wss {
		for {
			var n int
			err := s.St.InTx(ctx, func(q store.Q) error {
				var err error
				n, err = s.dueBatch(ctx, q, ws, now, &res)
				return err
			})
			if err != nil {
				return res, fmt.Errorf("scoring: due scores of workspace %d: %w", ws, err)
			}
			if n < dueBatch {
				break
			}
		}
	}
	return res, nil
}

// dueBatch claims and settles up to dueBatch due scores of ws; every claimed row
// leaves with its due_at cleared or moved past now, so the loop ends.
func (s *Service) dueBatch(ctx context.Context, q store.Q, ws int64, now time.Time, res *DueResult) (int, error) {
	rows, err := q.ClaimDueScores(ctx, ws, now, dueBatch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	cfg, err := loadConfig(ctx, q, ws)
	if err != nil {
		return 0, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ContactID
	}
	contacts, accounts, err := loadContacts(ctx, q, ws, ids, false) // ClaimDueScores locked them
	if err != nil {
		return 0, err
	}
	h, threshold := cfg.HalfLife(), cfg.MQLThreshold
	var nurture []int64
	type decayed struct {
		id       int64
		score    float64
		untouch  bool
		promoted bool
	}
	var ds []decayed
	for i := range rows {
		sc := &rows[i]
		res.Claimed++
		c := contacts[sc.ContactID]
		if c == nil { // cannot happen: the claim joined and locked the contact
			return 0, fmt.Errorf("contact %d of a claimed score is missing", sc.ContactID)
		}
		// Fit is taken afresh: attributes may have changed since the last event.
		e := Engagement{Value: sc.EngagementValue, At: sc.EngagementAt}
		fit, hits := cfg.Fit(c, accountOf(c, accounts))
		setScore(sc, cfg, fit, e, hits)
		if sc.DueAt != nil && sc.DueAt.After(now) {
			res.Rescheduled++
			continue
		}
		sc.DueAt = nil
		if c.LifecycleStage != "mql" {
			sc.MQLAt = nil // someone moved it on: scoring's promotion no longer stands
			res.Cleared++
			continue
		}
		if fit >= threshold { // fit alone keeps it at the threshold: nothing decays below
			res.Cleared++
			continue
		}
		d := decayed{id: c.ID, score: fit + e.ValueAt(now, h), promoted: sc.MQLAt != nil}
		if sc.MQLAt != nil && c.UpdatedAt.Equal(*sc.MQLAt) {
			active, err := q.ContactActivitySince(ctx, ws, c.ID, *sc.MQLAt)
			if err != nil {
				return 0, err
			}
			d.untouch = !active
		}
		sc.MQLAt = nil
		ds = append(ds, d)
		if d.untouch {
			nurture = append(nurture, c.ID)
		}
	}
	moved, err := q.MoveContactsStage(ctx, ws, nurture, []string{"mql"}, "nurture", store.Now())
	if err != nil {
		return 0, err
	}
	isMoved := map[int64]bool{}
	for _, id := range moved {
		isMoved[id] = true
		if s.Lifecycle != nil {
			c, err := q.GetContact(ctx, ws, id)
			if err != nil {
				return 0, err
			}
			if err := s.Lifecycle.StageChanged(ctx, q, ws, &c, "mql"); err != nil {
				return 0, err
			}
		}
	}
	hist := make([]store.HistoryRecord, 0, len(ds))
	for _, d := range ds {
		res.Decayed++
		detail := map[string]any{
			"reason":    "score decayed below threshold",
			"score":     round1(d.score),
			"threshold": threshold,
		}
		action := "score_decayed"
		switch {
		case isMoved[d.id]:
			res.Nurtured++
			action = "updated"
			detail["lifecycle_stage"] = []string{"mql", "nurture"}
		case d.promoted:
			detail["kept_stage"] = "mql: touched since scoring promoted it"
		default:
			detail["kept_stage"] = "mql: not promoted by scoring"
		}
		hist = append(hist, store.HistoryRecord{ObjectType: "contact", ObjectID: d.id, Action: action, Detail: detail, Actor: Actor})
	}
	if err := q.PutContactScores(ctx, ws, rows); err != nil {
		return 0, err
	}
	return len(rows), q.AddHistories(ctx, ws, hist)
}
