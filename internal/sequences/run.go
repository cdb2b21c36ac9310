package sequences

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// RunResult counts what a run of due steps did.
type RunResult struct {
	Claimed   int `json:"claimed"`   // enrollments claimed
	Steps     int `json:"steps"`     // steps run
	Planned   int `json:"planned"`   // emails planned in the send ledger
	Duplicate int `json:"duplicate"` // emails whose key was already planned (not sent again)
	Held      int `json:"held"`      // steps held as stale
	Completed int `json:"completed"` // enrollments that finished
}

func (r *RunResult) add(o RunResult) {
	r.Claimed += o.Claimed
	r.Steps += o.Steps
	r.Planned += o.Planned
	r.Duplicate += o.Duplicate
	r.Held += o.Held
	r.Completed += o.Completed
}

// maxStepsPerRun stops a branch loop without a wait from spinning a batch: the
// enrollment is held for an admin to look at.
const maxStepsPerRun = 100

func (s *Service) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return 1000
}

// RunDue runs every step due at or before now, one claimed batch per transaction,
// until a batch comes back short. now is explicit so tests move the clock.
func (s *Service) RunDue(ctx context.Context, now time.Time) (RunResult, error) {
	var total RunResult
	for {
		res, err := s.RunBatch(ctx, now)
		total.add(res)
		if err != nil {
			return total, err
		}
		if res.Claimed < s.batchSize() {
			return total, nil
		}
	}
}

// RunBatch claims up to BatchSize due enrollments and runs their due steps, all
// in one transaction: the emails planned, the step log and every enrollment's
// next due time commit together or not at all (a crashed batch is claimed again
// and its sends find their keys taken).
func (s *Service) RunBatch(ctx context.Context, now time.Time) (RunResult, error) {
	return s.runClaimed(ctx, now, func(q store.Q) ([]model.Enrollment, error) {
		return q.AdminClaimDueEnrollments(ctx, now, s.batchSize())
	})
}

// runClaimed runs the steps of the enrollments claim returns inside one
// transaction.
func (s *Service) runClaimed(ctx context.Context, now time.Time, claim func(q store.Q) ([]model.Enrollment, error)) (RunResult, error) {
	var res RunResult
	err := s.St.InTx(ctx, func(q store.Q) error {
		res = RunResult{}
		// A restored instance runs no step until an admin confirms
		// (docs/reliability.md): due enrollments stay due.
		if paused, err := q.AdminSendingPaused(ctx); err != nil || paused {
			return err
		}
		if err := q.PreferKeyedPlans(ctx); err != nil {
			return err
		}
		es, err := claim(q)
		if err != nil {
			return err
		}
		res.Claimed = len(es)
		byWS := map[int64][]model.Enrollment{}
		var order []int64
		for _, e := range es {
			if byWS[e.WorkspaceID] == nil {
				order = append(order, e.WorkspaceID)
			}
			byWS[e.WorkspaceID] = append(byWS[e.WorkspaceID], e)
		}
		runners := make([]*runner, len(order))
		for i, ws := range order {
			r := &runner{s: s, q: q, ws: ws, now: now, res: &res}
			if err := r.run(ctx, byWS[ws]); err != nil {
				return fmt.Errorf("sequences: run due steps of workspace %d: %w", ws, err)
			}
			if err := q.SaveEnrollments(ctx, ws, r.es); err != nil {
				return err
			}
			runners[i] = r
		}
		// Lookups and bulk UPDATEs done (they keep custom plans): let PostgreSQL
		// cache the foreign-key checks of the inserts that follow.
		if err := q.CacheForeignKeyPlans(ctx); err != nil {
			return err
		}
		for _, r := range runners {
			if err := r.write(ctx); err != nil {
				return fmt.Errorf("sequences: record due steps of workspace %d: %w", r.ws, err)
			}
		}
		return nil
	})
	if err != nil {
		return RunResult{}, err
	}
	return res, nil
}

// runner runs one workspace's share of a claimed batch.
type runner struct {
	s        *Service
	q        store.Q
	ws       int64
	now      time.Time
	res      *RunResult
	seqs     map[int64]*model.Sequence
	contacts map[int64]*model.Contact
	es       []model.Enrollment
	locs     locations
	logs     []model.StepLog
	sends    []PlannedSend
	sendLog  []int // index into logs of each send
}

func (r *runner) run(ctx context.Context, es []model.Enrollment) error {
	r.es = es
	seen := map[int64]bool{}
	var ids []int64
	for _, e := range es {
		if !seen[e.SequenceID] {
			seen[e.SequenceID] = true
			ids = append(ids, e.SequenceID)
		}
	}
	var err error
	if r.seqs, err = r.q.SequencesByID(ctx, r.ws, ids); err != nil {
		return err
	}
	for i := range es {
		if err := r.advance(ctx, &es[i]); err != nil {
			return fmt.Errorf("enrollment %d: %w", es[i].ID, err)
		}
	}
	return nil
}

// write plans the runner's emails and appends its step log.
func (r *runner) write(ctx context.Context) error {
	if err := r.planSends(ctx); err != nil {
		return err
	}
	return r.q.InsertStepLogs(ctx, r.ws, r.logs)
}

func (r *runner) contact(ctx context.Context, id int64) (*model.Contact, error) {
	if r.contacts == nil {
		ids := make([]int64, len(r.es))
		for i, e := range r.es {
			ids[i] = e.ContactID
		}
		var err error
		if r.contacts, err = r.q.ContactsForScoring(ctx, r.ws, ids, false); err != nil {
			return nil, err
		}
	}
	if c := r.contacts[id]; c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("contact %d: %w", id, store.ErrNotFound)
}

func (r *runner) log(e *model.Enrollment, st *model.SequenceStep, outcome, detail string) int {
	var id *int64
	if st != nil {
		sid := st.ID
		id = &sid
	}
	r.logs = append(r.logs, model.StepLog{EnrollmentID: e.ID, SequenceID: e.SequenceID, StepID: id, Position: e.Position, Outcome: outcome, Detail: detail, At: r.now})
	return len(r.logs) - 1
}

// advance runs e's due steps until one is due later, the enrollment ends or a
// step is held. at is the schedule's clock: the time the current step was due,
// so waits count from when they were meant to start, not from worker latency.
func (r *runner) advance(ctx context.Context, e *model.Enrollment) error {
	seq := r.seqs[e.SequenceID]
	if seq == nil { // cannot happen: the enrollment references its sequence
		return fmt.Errorf("sequence %d missing", e.SequenceID)
	}
	at := r.now
	if e.NextDueAt != nil {
		at = *e.NextDueAt
	}
	if r.now.Sub(at) > time.Duration(seq.StalenessMinutes)*time.Minute {
		e.Status = "held"
		e.HoldReason = fmt.Sprintf("step became due %s ago, past the %d-minute staleness window", r.now.Sub(at).Round(time.Minute), seq.StalenessMinutes)
		r.log(e, stepAt(seq, e.Position), "held", e.HoldReason)
		r.res.Held++
		return nil
	}
	for n := 0; ; n++ {
		if e.Position >= len(seq.Steps) {
			e.Status, e.NextDueAt, e.EndedAt = "completed", nil, &r.now
			r.log(e, nil, "completed", "")
			r.res.Completed++
			return nil
		}
		if n == maxStepsPerRun {
			e.Status = "held"
			e.HoldReason = fmt.Sprintf("ran %d steps without a wait: check the sequence's branches for a loop", maxStepsPerRun)
			r.log(e, stepAt(seq, e.Position), "held", e.HoldReason)
			r.res.Held++
			return nil
		}
		st := &seq.Steps[e.Position]
		next, err := r.step(ctx, e, seq, st, at)
		if err != nil {
			return err
		}
		if next == nil { // exited by the step (set_field made it a customer)
			return nil
		}
		if next.After(r.now) {
			e.NextDueAt = next
			return nil
		}
		at = *next
	}
}

func stepAt(seq *model.Sequence, i int) *model.SequenceStep {
	if i < len(seq.Steps) {
		return &seq.Steps[i]
	}
	return nil
}

// step runs the step at e.Position (due at at) and returns when the next thing
// is due: after now means "stop and wait"; nil means the enrollment left.
func (r *runner) step(ctx context.Context, e *model.Enrollment, seq *model.Sequence, st *model.SequenceStep, at time.Time) (*time.Time, error) {
	switch st.Kind {
	case "send_email":
		if seq.SendWindow != nil {
			loc, err := r.loc(ctx, e)
			if err != nil {
				return nil, err
			}
			if open := NextOpen(r.now, *seq.SendWindow, loc); open.After(r.now) {
				return &open, nil // the same step, when the window opens
			}
		}
		r.res.Steps++
		r.sendLog = append(r.sendLog, r.log(e, st, "sent", ""))
		r.sends = append(r.sends, PlannedSend{Key: SendKey(e.ID, st.ID), EnrollmentID: e.ID, StepID: st.ID, ContactID: e.ContactID, Subject: st.Subject, HTML: st.HTML, Text: st.Text})
		id := st.ID
		e.LastSendStepID = &id
		e.Position++
		return &at, nil
	case "wait":
		r.res.Steps++
		loc, err := r.loc(ctx, e)
		if err != nil {
			return nil, err
		}
		due := at
		if st.Duration != "" {
			w, err := ParseWait(st.Duration)
			if err != nil { // validated on save; a bad stored value is a bug
				return nil, fmt.Errorf("step %d: %w", st.ID, err)
			}
			due = w.After(due, loc)
		}
		if st.UntilWindow != nil {
			due = NextOpen(due, *st.UntilWindow, loc)
		}
		r.log(e, st, "waited", "until "+due.Format(time.RFC3339))
		e.Position++
		if !due.After(at) {
			due = at
		}
		return &due, nil
	case "branch":
		r.res.Steps++
		ok, why, err := r.holds(ctx, e, seq, st.If)
		if err != nil {
			return nil, err
		}
		to, outcome := st.Else, "else"
		if ok {
			to, outcome = st.Then, "then"
		}
		r.log(e, st, outcome, why)
		if to != nil {
			e.Position = *to
		} else {
			e.Position++
		}
		return &at, nil
	case "create_task":
		r.res.Steps++
		detail, err := r.task(ctx, e, st)
		if err != nil {
			return nil, err
		}
		r.log(e, st, "task", detail)
		e.Position++
		return &at, nil
	case "set_field":
		r.res.Steps++
		f := crm.Fields{st.Field: st.Value}
		if key, ok := strings.CutPrefix(st.Field, "custom."); ok {
			f = crm.Fields{"custom": map[string]any{key: st.Value}}
		}
		if r.s.CRM == nil {
			return nil, errors.New("set_field step needs the crm service")
		}
		act := model.Actor{Workspace: r.ws, Label: Actor + ":" + seq.Name}
		_, err := r.s.CRM.UpdateContactIn(ctx, r.q, act, e.ContactID, f)
		var fe *store.FieldError
		switch {
		case errors.As(err, &fe):
			r.log(e, st, "failed", fe.Error()) // a field removed since the step was saved: visible, not fatal
		case err != nil:
			return nil, err
		default:
			r.log(e, st, "field", fmt.Sprintf("%s = %v", st.Field, st.Value))
		}
		if r.contacts != nil {
			delete(r.contacts, e.ContactID) // reload: the change may matter to later steps
			r.contacts = nil
		}
		e.Position++
		status, err := r.q.EnrollmentStatus(ctx, r.ws, e.ID)
		if err != nil {
			return nil, err
		}
		if status != "active" { // the change fired an exit rule
			e.Status = status
			return nil, nil
		}
		return &at, nil
	}
	return nil, fmt.Errorf("step %d: unknown kind %q", st.ID, st.Kind)
}

func (r *runner) loc(ctx context.Context, e *model.Enrollment) (*time.Location, error) {
	c, err := r.contact(ctx, e.ContactID)
	if err != nil {
		return nil, err
	}
	return r.locs.of(ctx, r.q, r.ws, c)
}

// task creates an LDR task (an activity of kind task) for the contact's owner,
// or for an LDR the assignment pools pick when it has none.
func (r *runner) task(ctx context.Context, e *model.Enrollment, st *model.SequenceStep) (string, error) {
	c, err := r.contact(ctx, e.ContactID)
	if err != nil {
		return "", err
	}
	owner, detail := c.OwnerID, "for the contact's owner"
	if owner == nil {
		detail = "unassigned: the contact has no owner and no LDR pool is set up"
		if r.s.Assign != nil {
			a, err := r.s.Assign.Assign(ctx, r.q, r.ws, assignment.Request{Role: model.RoleLDR, Motion: assignment.Digital, ObjectType: "contact", ObjectID: c.ID, Now: r.now})
			var un *assignment.UnavailableError
			switch {
			case err == nil:
				owner, detail = &a.UserID, fmt.Sprintf("for LDR %d from pool %d", a.UserID, a.PoolID)
			case errors.As(err, &un):
				detail = "unassigned: no LDR available: " + strings.Join(un.Reasons, "; ")
			default:
				return "", err
			}
		}
	}
	cid := c.ID
	act := model.Activity{Kind: "task", Subject: st.TaskSubject, OccurredAt: r.now, OwnerID: owner, ContactID: &cid, AccountID: c.AccountID, Custom: model.Custom{}, Participants: []string{}}
	if err := r.q.CreateActivity(ctx, r.ws, &act); err != nil {
		return "", err
	}
	return detail, nil
}

// planSends plans the batch's emails, in one statement when the Mailer can, and
// marks the log rows of keys that were already planned as duplicates.
func (r *runner) planSends(ctx context.Context) error {
	if len(r.sends) == 0 {
		return nil
	}
	if r.s.Mailer == nil {
		return errors.New("a send_email step needs a Mailer")
	}
	var planned []bool
	notSent := make([]bool, len(r.sends))
	if bm, ok := r.s.Mailer.(BatchMailer); ok {
		var err error
		planned, err = bm.PlanSends(ctx, r.q, r.ws, r.sends)
		if errors.Is(err, ErrCannotSend) {
			// The workspace cannot send at all: every email of the batch is
			// logged not sent, and the rest of the run goes on.
			for i := range r.sends {
				r.logs[r.sendLog[i]].Outcome, r.logs[r.sendLog[i]].Detail = "not_sent", err.Error()
			}
			return nil
		}
		if err != nil {
			return err
		}
		if len(planned) != len(r.sends) {
			return fmt.Errorf("mailer answered %d of %d sends", len(planned), len(r.sends))
		}
	} else {
		planned = make([]bool, len(r.sends))
		for i, snd := range r.sends {
			ok, err := r.s.Mailer.PlanSend(ctx, r.q, r.ws, snd)
			if errors.Is(err, ErrCannotSend) {
				// This workspace cannot send (no sender set up): the step is
				// logged as not sent, and the rest of the batch goes on.
				r.logs[r.sendLog[i]].Outcome, r.logs[r.sendLog[i]].Detail = "not_sent", err.Error()
				notSent[i] = true
				continue
			}
			if err != nil {
				return err
			}
			planned[i] = ok
		}
	}
	for i, ok := range planned {
		if notSent[i] {
			continue
		}
		if ok {
			r.res.Planned++
		} else {
			r.res.Duplicate++
			r.logs[r.sendLog[i]].Outcome, r.logs[r.sendLog[i]].Detail = "duplicate", "already planned: not sent again"
		}
	}
	return nil
}
