// Package sequences owns nurture sequences: their steps and validation, who is
// enrolled (triggers) and when they leave (exit rules), and the durable,
// batch-claimed execution of due steps (docs/sequences.md). Email goes out
// through a Mailer (the mail layer's send ledger); engagement questions go to
// Signals (mail and tracking).
package sequences

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/riverqueue/river"
)

// Mailer plans one email in the caller's transaction. The mail layer writes a send-ledger
// row (state planned) under the unique key and sends it later; planning the same key twice
// is a no-op that returns (false, nil). Suppressed/unsubscribed contacts: planned anyway, the
// mail layer re-checks at claim time.
type Mailer interface {
	PlanSend(ctx context.Context, q store.Q, ws int64, s PlannedSend) (planned bool, err error)
}

// ErrCannotSend, wrapped by a Mailer, says the workspace cannot send at all
// (no sender configured): the step is logged "not_sent" and the batch goes on,
// instead of failing every workspace's enrollments in the batch.
var ErrCannotSend = errors.New("sequences: the workspace cannot send email")

// BatchMailer is optional: a Mailer that can plan many sends in one statement.
// A claimed batch of 1,000 enrollments plans its emails through it, which is
// what keeps 1M due steps inside the throughput goal (docs/benchmarks.md).
// planned[i] answers sends[i] exactly as PlanSend would.
type BatchMailer interface {
	PlanSends(ctx context.Context, q store.Q, ws int64, sends []PlannedSend) (planned []bool, err error)
}

// PlannedSend is one email of one enrollment at one step.
type PlannedSend struct {
	Key                             string // "enrollment:<id>:step:<id>"
	EnrollmentID, StepID, ContactID int64
	Subject, HTML, Text             string // the step's template sources; the mail layer renders
}

// SendKey is the ledger key of an enrollment's email at a step: unique, so
// pause, resume, release and a crashed batch re-run never send twice.
func SendKey(enrollmentID, stepID int64) string {
	return fmt.Sprintf("enrollment:%d:step:%d", enrollmentID, stepID)
}

// Signals answers branch conditions that depend on other capabilities.
type Signals interface {
	Opened(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error)
	Clicked(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error)
	Visited(ctx context.Context, q store.Q, ws, contactID int64, urlContains string, since time.Time) (bool, error)
}

// Scorer is scoring's read path: the current (decayed) score of contacts.
type Scorer interface {
	Scores(ctx context.Context, ws int64, ids []int64, now time.Time) (map[int64]scoring.Current, error)
}

// Service runs sequences on top of the store.
type Service struct {
	St      *store.Store
	Mailer  Mailer
	Signals Signals // nil: opened/clicked/visited conditions are false
	CRM     *crm.Service
	// Assign finds an LDR for a create_task step when the contact has no owner.
	Assign *assignment.Service
	Scores Scorer
	// River, when set, gets a due-steps job inserted in the transaction that makes
	// a step due now, so it runs without waiting for the periodic sweep.
	River *river.Client[*sql.Tx]
	// Now is the clock (tests move it); nil is store.Now.
	Now func() time.Time
	// BatchSize is how many enrollments one transaction claims (default 1,000).
	BatchSize int
	// OnExit, when set, hears enrollments ended early (reply, unsubscribe,
	// bounce, raised hand, customer, manual) in the transaction that ends
	// them; exited holds them as they were before. Webhooks emit from here.
	OnExit func(ctx context.Context, q store.Q, ws int64, exited []model.Enrollment, reason string) error
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// Actor labels what sequences write (history, set_field changes).
const Actor = "sequences"

// DefaultStalenessMinutes is how late a step may run before it is held (24 h).
const DefaultStalenessMinutes = 24 * 60

// validate normalises s and returns a FieldError naming the field (steps[i].x).
func validate(s *model.Sequence) error {
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" {
		return &store.FieldError{Field: "name", Message: "is required"}
	}
	if s.Trigger.Kind == "" {
		s.Trigger.Kind = "manual"
	}
	if !slices.Contains(model.SequenceTriggers, s.Trigger.Kind) {
		return &store.FieldError{Field: "trigger.kind", Message: fmt.Sprintf("%q is not one of %s", s.Trigger.Kind, strings.Join(model.SequenceTriggers, ", "))}
	}
	s.Trigger.Ref = strings.TrimSpace(s.Trigger.Ref)
	switch {
	case s.Trigger.Kind == "manual":
		s.Trigger.Ref = ""
	case s.Trigger.Ref == "":
		return &store.FieldError{Field: "trigger.ref", Message: "is required for a " + s.Trigger.Kind + " trigger (the stage, segment or form)"}
	case s.Trigger.Kind == "lifecycle_stage" && !slices.Contains(model.LifecycleStages, s.Trigger.Ref):
		return &store.FieldError{Field: "trigger.ref", Message: fmt.Sprintf("%q is not a lifecycle stage", s.Trigger.Ref)}
	}
	if s.ExitRules == nil {
		s.ExitRules = []string{}
	}
	for i, r := range s.ExitRules {
		if !slices.Contains(model.ExitReasons, r) {
			return &store.FieldError{Field: fmt.Sprintf("exit_rules[%d]", i), Message: fmt.Sprintf("%q is not one of %s", r, strings.Join(model.ExitReasons, ", "))}
		}
	}
	if s.SendWindow != nil {
		if err := validWindow(s.SendWindow, "send_window"); err != nil {
			return err
		}
	}
	if s.StalenessMinutes == 0 {
		s.StalenessMinutes = DefaultStalenessMinutes
	}
	if s.StalenessMinutes < 1 {
		return &store.FieldError{Field: "staleness_minutes", Message: "must be at least 1"}
	}
	if s.Steps == nil {
		s.Steps = []model.SequenceStep{}
	}
	for i := range s.Steps {
		if err := validateStep(&s.Steps[i], i, len(s.Steps)); err != nil {
			return err
		}
	}
	return nil
}

func validateStep(st *model.SequenceStep, i, n int) error {
	f := func(name string) string { return fmt.Sprintf("steps[%d].%s", i, name) }
	switch st.Kind {
	case "send_email":
		if strings.TrimSpace(st.Subject) == "" {
			return &store.FieldError{Field: f("subject"), Message: "is required"}
		}
		if strings.TrimSpace(st.HTML) == "" && strings.TrimSpace(st.Text) == "" {
			return &store.FieldError{Field: f("text"), Message: "an email needs a text or html body"}
		}
	case "wait":
		if st.Duration == "" && st.UntilWindow == nil {
			return &store.FieldError{Field: f("duration"), Message: "a wait needs a duration or until_window"}
		}
		if st.Duration != "" {
			if _, err := ParseWait(st.Duration); err != nil {
				return &store.FieldError{Field: f("duration"), Message: err.Error()}
			}
		}
		if st.UntilWindow != nil {
			if err := validWindow(st.UntilWindow, f("until_window")); err != nil {
				return err
			}
		}
	case "branch":
		c := st.If
		if c == nil {
			return &store.FieldError{Field: f("if"), Message: "a branch needs a condition"}
		}
		switch c.Kind {
		case "opened", "clicked":
			if c.Step != nil && (*c.Step < 0 || *c.Step >= i) {
				return &store.FieldError{Field: f("if.step"), Message: "must name an earlier send_email step"}
			}
		case "visited":
			if strings.TrimSpace(c.URL) == "" {
				return &store.FieldError{Field: f("if.url"), Message: "is required (a part of the page URL)"}
			}
		case "score":
			if c.Score <= 0 {
				return &store.FieldError{Field: f("if.score"), Message: "must be above 0"}
			}
		case "field":
			if c.Field == "" {
				return &store.FieldError{Field: f("if.field"), Message: "is required"}
			}
			if !slices.Contains(fieldOps, c.Op) {
				return &store.FieldError{Field: f("if.op"), Message: fmt.Sprintf("%q is not one of %s", c.Op, strings.Join(fieldOps, ", "))}
			}
		default:
			return &store.FieldError{Field: f("if.kind"), Message: fmt.Sprintf("%q is not one of %s", c.Kind, strings.Join(model.ConditionKinds, ", "))}
		}
		for name, to := range map[string]*int{"then": st.Then, "else": st.Else} {
			if to != nil && (*to < 0 || *to > n) {
				return &store.FieldError{Field: f(name), Message: fmt.Sprintf("must be a step index 0..%d (%d ends the sequence)", n, n)}
			}
		}
	case "create_task":
		if strings.TrimSpace(st.TaskSubject) == "" {
			return &store.FieldError{Field: f("task_subject"), Message: "is required"}
		}
	case "set_field":
		if st.Field == "" {
			return &store.FieldError{Field: f("field"), Message: "is required (a contact field, lifecycle_stage or custom.<key>)"}
		}
		if st.Field == "lifecycle_stage" {
			v, _ := st.Value.(string)
			if !slices.Contains(model.LifecycleStages, v) {
				return &store.FieldError{Field: f("value"), Message: fmt.Sprintf("%v is not a lifecycle stage", st.Value)}
			}
		}
	default:
		return &store.FieldError{Field: f("kind"), Message: fmt.Sprintf("%q is not one of %s", st.Kind, strings.Join(model.StepKinds, ", "))}
	}
	return nil
}

// Create validates and inserts a sequence (status draft unless given).
func (s *Service) Create(ctx context.Context, ws int64, seq model.Sequence) (model.Sequence, error) {
	if seq.Status == "" {
		seq.Status = "draft"
	}
	if !slices.Contains(model.SequenceStatuses, seq.Status) {
		return seq, &store.FieldError{Field: "status", Message: fmt.Sprintf("%q is not one of draft, active, paused", seq.Status)}
	}
	if err := validate(&seq); err != nil {
		return seq, err
	}
	if seq.Status == "active" && len(seq.Steps) == 0 {
		return seq, &store.FieldError{Field: "steps", Message: "an active sequence needs at least one step"}
	}
	err := s.St.InTx(ctx, func(q store.Q) error { return q.CreateSequence(ctx, ws, &seq) })
	return seq, err
}

// Update replaces a sequence's settings and steps; its status is changed only by
// Activate and Pause. Running enrollments keep their position (docs/sequences.md).
func (s *Service) Update(ctx context.Context, ws, id int64, seq model.Sequence) (model.Sequence, error) {
	var out model.Sequence
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetSequence(ctx, ws, id)
		if err != nil {
			return err
		}
		seq.ID, seq.Status, seq.CreatedAt = id, cur.Status, cur.CreatedAt
		if err := validate(&seq); err != nil {
			return err
		}
		if seq.Status != "draft" && len(seq.Steps) == 0 {
			return &store.FieldError{Field: "steps", Message: "an active or paused sequence needs at least one step"}
		}
		if err := q.UpdateSequence(ctx, ws, &seq); err != nil {
			return err
		}
		out = seq
		return nil
	})
	return out, err
}

// Get loads one sequence.
func (s *Service) Get(ctx context.Context, ws, id int64) (model.Sequence, error) {
	return s.St.Read().GetSequence(ctx, ws, id)
}

// List lists the workspace's sequences.
func (s *Service) List(ctx context.Context, ws int64) ([]model.Sequence, error) {
	return s.St.Read().Sequences(ctx, ws)
}

// Delete removes a sequence with its enrollments and log.
func (s *Service) Delete(ctx context.Context, ws, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error { return q.DeleteSequence(ctx, ws, id) })
}

// SetStatus activates, pauses or resumes (activates again) a sequence. Pausing
// parks its active enrollments; resuming wakes them with their due times as they
// were, so a step that fell due long ago is held by the staleness window.
func (s *Service) SetStatus(ctx context.Context, ws, id int64, status string) (model.Sequence, error) {
	if status != "active" && status != "paused" {
		return model.Sequence{}, &store.FieldError{Field: "status", Message: "must be active or paused"}
	}
	var out model.Sequence
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetSequence(ctx, ws, id)
		if err != nil {
			return err
		}
		if status == "active" && len(cur.Steps) == 0 {
			return &store.FieldError{Field: "steps", Message: "add a step before activating"}
		}
		if status == "paused" && cur.Status == "draft" {
			return &store.FieldError{Field: "status", Message: "a draft cannot be paused"}
		}
		if _, err := q.SetSequenceStatus(ctx, ws, id, status); err != nil {
			return err
		}
		if status == "active" {
			if err := s.kick(ctx, q); err != nil {
				return err
			}
		}
		out, err = q.GetSequence(ctx, ws, id)
		return err
	})
	return out, err
}

// kick inserts a due-steps job in q's transaction: it becomes visible with the
// change that made something due, and not before.
func (s *Service) kick(ctx context.Context, q store.Q) error {
	if s.River == nil || q.Tx() == nil {
		return nil
	}
	if _, err := s.River.InsertTx(ctx, q.Tx(), DueArgs{}, nil); err != nil {
		return fmt.Errorf("sequences: enqueue due steps: %w", err)
	}
	return nil
}

var errNotRunning = errors.New("not running")
