package sequences

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// EnrollResult reconciles an enrolment request: Enrolled + Already + Missing =
// the ids asked for.
type EnrollResult struct {
	Enrolled []int64 `json:"enrolled"` // enrollment ids created
	Already  []int64 `json:"already"`  // contact ids with a running enrollment in the sequence
	Missing  []int64 `json:"missing"`  // contact ids not found in the workspace
}

// Enroll enrols contacts by id (manual or API; source says which) into a
// sequence. A draft sequence cannot enrol; a paused one enrols them paused.
func (s *Service) Enroll(ctx context.Context, ws, seqID int64, contactIDs []int64, source string) (EnrollResult, error) {
	res := EnrollResult{Enrolled: []int64{}, Already: []int64{}, Missing: []int64{}}
	if len(contactIDs) == 0 {
		return res, &store.FieldError{Field: "contact_ids", Message: "name at least one contact"}
	}
	if len(contactIDs) > 10000 {
		return res, &store.FieldError{Field: "contact_ids", Message: "at most 10,000 contacts per request"}
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		seq, err := q.GetSequence(ctx, ws, seqID)
		if err != nil {
			return err
		}
		if seq.Status == "draft" {
			return &store.FieldError{Field: "sequence", Message: "is a draft: activate it before enrolling contacts"}
		}
		existing, err := q.ContactsForScoring(ctx, ws, contactIDs, false)
		if err != nil {
			return err
		}
		now := s.now()
		kicked := false
		for _, cid := range contactIDs {
			if existing[cid] == nil {
				res.Missing = append(res.Missing, cid)
				continue
			}
			e, ok, err := s.enrollIn(ctx, q, ws, &seq, cid, source, now)
			if err != nil {
				return err
			}
			if !ok {
				res.Already = append(res.Already, cid)
				continue
			}
			res.Enrolled = append(res.Enrolled, e.ID)
			if e.Status == "active" && !kicked {
				if err := s.kick(ctx, q); err != nil {
					return err
				}
				kicked = true
			}
		}
		return nil
	})
	return res, err
}

// enrollIn writes one enrollment whose first step is due now. false: the contact
// already has a running enrollment in seq (or was deleted meanwhile).
func (s *Service) enrollIn(ctx context.Context, q store.Q, ws int64, seq *model.Sequence, contactID int64, source string, now time.Time) (model.Enrollment, bool, error) {
	e := model.Enrollment{SequenceID: seq.ID, ContactID: contactID, Status: "active", Source: source, NextDueAt: &now}
	if seq.Status == "paused" {
		e.Status, e.PausedBy = "paused", "sequence"
	}
	ok, err := q.InsertEnrollment(ctx, ws, &e)
	if err != nil || !ok {
		return e, ok, err
	}
	return e, true, q.InsertStepLogs(ctx, ws, []model.StepLog{{EnrollmentID: e.ID, SequenceID: seq.ID, Position: 0, Outcome: "enrolled", Detail: source, At: now}})
}

// Trigger enrols contactID into every active sequence of ws whose trigger is
// kind/ref, in the caller's transaction. Forms call it with kind "form" and the
// form's key; the lifecycle and segment hooks call it too. It returns how many
// enrollments it made.
func (s *Service) Trigger(ctx context.Context, q store.Q, ws int64, kind, ref string, contactID int64) (int, error) {
	if !slices.Contains(model.SequenceTriggers, kind) || kind == "manual" {
		return 0, fmt.Errorf("sequences: unknown trigger kind %q", kind)
	}
	ids, err := q.SequencesTriggeredBy(ctx, ws, kind, ref)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	seqs, err := q.SequencesByID(ctx, ws, ids)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	for _, id := range ids {
		seq := seqs[id]
		if seq == nil || len(seq.Steps) == 0 {
			continue
		}
		_, ok, err := s.enrollIn(ctx, q, ws, seq, contactID, kind+":"+ref, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	if n > 0 {
		return n, s.kick(ctx, q)
	}
	return n, nil
}

// StageChanged is crm's lifecycle hook: becoming a customer fires the
// became_customer exit, then sequences triggered by the new stage enrol.
func (s *Service) StageChanged(ctx context.Context, q store.Q, ws int64, c *model.Contact, from string) error {
	if c.LifecycleStage == "customer" {
		if _, err := s.Exit(ctx, q, ws, c.ID, "became_customer"); err != nil {
			return err
		}
	}
	_, err := s.Trigger(ctx, q, ws, "lifecycle_stage", c.LifecycleStage, c.ID)
	return err
}

// SegmentEntered is crm's segment hook: the account's contacts enrol in the
// sequences triggered by its new segment.
func (s *Service) SegmentEntered(ctx context.Context, q store.Q, ws int64, a *model.Account, prev string) error {
	ids, err := q.ContactIDsOfAccount(ctx, ws, a.ID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.Trigger(ctx, q, ws, "segment", a.Segment, id); err != nil {
			return err
		}
	}
	return nil
}

// Exit ends every running enrollment of the contact whose sequence has the exit
// rule reason ("manual" ends all of them), in the caller's transaction, and logs
// the reason. The mail layer calls it for replied, unsubscribed and bounced;
// meeting booked and trial requests come from their own paths. It returns how
// many it ended.
func (s *Service) Exit(ctx context.Context, q store.Q, ws, contactID int64, reason string) (int, error) {
	if !slices.Contains(model.ExitReasons, reason) {
		return 0, &store.FieldError{Field: "reason", Message: fmt.Sprintf("%q is not one of %s", reason, strings.Join(model.ExitReasons, ", "))}
	}
	return s.exit(ctx, q, ws, contactID, 0, reason)
}

func (s *Service) exit(ctx context.Context, q store.Q, ws, contactID, seqID int64, reason string) (int, error) {
	now := s.now()
	es, err := q.ExitEnrollments(ctx, ws, contactID, seqID, reason, now)
	if err != nil {
		return 0, err
	}
	logs := make([]model.StepLog, len(es))
	for i, e := range es {
		logs[i] = model.StepLog{EnrollmentID: e.ID, SequenceID: e.SequenceID, StepID: e.LastSendStepID, Position: e.Position, Outcome: "exited", Detail: reason, At: now}
	}
	if err := q.InsertStepLogs(ctx, ws, logs); err != nil {
		return 0, err
	}
	if s.OnExit != nil && len(es) > 0 {
		if err := s.OnExit(ctx, q, ws, es, reason); err != nil {
			return 0, err
		}
	}
	return len(es), nil
}

// ExitEnrollment ends one enrollment by hand (reason manual).
func (s *Service) ExitEnrollment(ctx context.Context, ws, id int64) (model.Enrollment, error) {
	return s.changeEnrollment(ctx, ws, id, func(q store.Q, e *model.Enrollment, seq *model.Sequence) error {
		if !running(e.Status) {
			return &store.FieldError{Field: "status", Message: "the enrollment has already " + e.Status}
		}
		_, err := s.exit(ctx, q, ws, e.ContactID, e.SequenceID, "manual")
		return err
	})
}

func running(status string) bool { return status == "active" || status == "paused" || status == "held" }

// changeEnrollment loads (and on PostgreSQL locks) one enrollment and its
// sequence, applies fn and returns the enrollment as stored afterwards.
func (s *Service) changeEnrollment(ctx context.Context, ws, id int64, fn func(q store.Q, e *model.Enrollment, seq *model.Sequence) error) (model.Enrollment, error) {
	var out model.Enrollment
	err := s.St.InTx(ctx, func(q store.Q) error {
		e, err := q.GetEnrollment(ctx, ws, id, true)
		if err != nil {
			return err
		}
		seq, err := q.GetSequence(ctx, ws, e.SequenceID)
		if err != nil {
			return err
		}
		if err := fn(q, &e, &seq); err != nil {
			return err
		}
		out, err = q.GetEnrollment(ctx, ws, id, false)
		return err
	})
	return out, err
}

// PauseEnrollment parks one active or held enrollment; its due time is kept.
func (s *Service) PauseEnrollment(ctx context.Context, ws, id int64) (model.Enrollment, error) {
	return s.changeEnrollment(ctx, ws, id, func(q store.Q, e *model.Enrollment, _ *model.Sequence) error {
		if e.Status != "active" && e.Status != "held" {
			return &store.FieldError{Field: "status", Message: "only an active or held enrollment can be paused (it is " + e.Status + ")"}
		}
		e.Status, e.PausedBy = "paused", "enrollment"
		return q.SetEnrollmentState(ctx, ws, e)
	})
}

// ResumeEnrollment wakes an enrollment paused by hand. Its step runs at the due
// time it had, under the key it had: nothing already planned is planned again,
// and a step due longer ago than the staleness window is held.
func (s *Service) ResumeEnrollment(ctx context.Context, ws, id int64) (model.Enrollment, error) {
	return s.changeEnrollment(ctx, ws, id, func(q store.Q, e *model.Enrollment, seq *model.Sequence) error {
		if e.Status != "paused" || e.PausedBy != "enrollment" {
			return &store.FieldError{Field: "status", Message: "only an enrollment paused by hand can be resumed (resume its sequence instead)"}
		}
		e.Status, e.PausedBy = "active", ""
		if seq.Status == "paused" {
			e.Status, e.PausedBy = "paused", "sequence"
		}
		if err := q.SetEnrollmentState(ctx, ws, e); err != nil {
			return err
		}
		return s.kick(ctx, q)
	})
}

// Release runs a held step now, as confirmed by an admin.
func (s *Service) Release(ctx context.Context, ws, id int64) (model.Enrollment, error) {
	return s.unhold(ctx, ws, id, "released", 0)
}

// Skip moves a held enrollment past its held step; the next step is due now.
func (s *Service) Skip(ctx context.Context, ws, id int64) (model.Enrollment, error) {
	return s.unhold(ctx, ws, id, "skipped", 1)
}

func (s *Service) unhold(ctx context.Context, ws, id int64, outcome string, advance int) (model.Enrollment, error) {
	return s.changeEnrollment(ctx, ws, id, func(q store.Q, e *model.Enrollment, seq *model.Sequence) error {
		if e.Status != "held" {
			return &store.FieldError{Field: "status", Message: "only a held enrollment can be released or skipped (it is " + e.Status + ")"}
		}
		now := s.now()
		var step *int64
		if e.Position < len(seq.Steps) {
			step = &seq.Steps[e.Position].ID
		}
		log := model.StepLog{EnrollmentID: e.ID, SequenceID: e.SequenceID, StepID: step, Position: e.Position, Outcome: outcome, At: now}
		e.Position += advance
		e.Status, e.HoldReason, e.NextDueAt = "active", "", &now
		if seq.Status == "paused" {
			e.Status, e.PausedBy = "paused", "sequence"
		}
		if e.Position >= len(seq.Steps) {
			e.Status, e.NextDueAt, e.EndedAt = "completed", nil, &now
		}
		if err := q.SetEnrollmentState(ctx, ws, e); err != nil {
			return err
		}
		if err := q.InsertStepLogs(ctx, ws, []model.StepLog{log}); err != nil {
			return err
		}
		return s.kick(ctx, q)
	})
}

// Enrollments lists enrollments (filters: sequence, contact, status).
func (s *Service) Enrollments(ctx context.Context, ws int64, f store.EnrollmentFilter) ([]model.Enrollment, error) {
	if f.Status != "" && !slices.Contains(model.EnrollmentStatuses, f.Status) {
		return nil, &store.FieldError{Field: "status", Message: fmt.Sprintf("%q is not one of %s", f.Status, strings.Join(model.EnrollmentStatuses, ", "))}
	}
	return s.St.Read().Enrollments(ctx, ws, f)
}

// StepStats counts what happened at one step. Entered counts enrollments that
// reached it; Sent counts emails planned in the send ledger (the mail layer
// reports delivered); exits are credited to the last email the enrollment got.
type StepStats struct {
	StepID   int64  `json:"step_id"`
	Position int    `json:"position"`
	Kind     string `json:"kind"`
	Entered  int64  `json:"entered"`
	Sent     int64  `json:"sent"`
	// Delivered, Opened and Clicked come from the mail layer: accepted by the
	// receiving server; opened or clicked by a person (scanners excluded; a
	// click counts as an open).
	Delivered    int64            `json:"delivered"`
	Opened       int64            `json:"opened"`
	Clicked      int64            `json:"clicked"`
	Held         int64            `json:"held"`
	Skipped      int64            `json:"skipped"`
	Replied      int64            `json:"replied"`
	Unsubscribed int64            `json:"unsubscribed"`
	Bounced      int64            `json:"bounced"`
	Converted    int64            `json:"converted"` // exits: trial_or_contact_request, meeting_booked, became_customer
	Outcomes     map[string]int64 `json:"outcomes"`
}

// Stats is a sequence's per-step stats and its enrollments by status.
type Stats struct {
	SequenceID  int64            `json:"sequence_id"`
	Enrollments map[string]int64 `json:"enrollments"`
	Steps       []StepStats      `json:"steps"`
}

// Stats computes per-step stats from the step log and exits.
func (s *Service) Stats(ctx context.Context, ws, seqID int64) (Stats, error) {
	q := s.St.Read()
	seq, err := q.GetSequence(ctx, ws, seqID)
	if err != nil {
		return Stats{}, err
	}
	outcomes, err := q.StepOutcomeCounts(ctx, ws, seqID)
	if err != nil {
		return Stats{}, err
	}
	exits, err := q.ExitCounts(ctx, ws, seqID)
	if err != nil {
		return Stats{}, err
	}
	counts, err := q.EnrollmentCounts(ctx, ws, seqID)
	if err != nil {
		return Stats{}, err
	}
	mail, err := q.SequenceSendCounts(ctx, ws, seqID)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{SequenceID: seqID, Enrollments: counts, Steps: make([]StepStats, len(seq.Steps))}
	for i, st := range seq.Steps {
		o := outcomes[st.ID]
		if o == nil {
			o = map[string]int64{}
		}
		x := exits[st.ID]
		m := mail[st.ID]
		out.Steps[i] = StepStats{StepID: st.ID, Position: i, Kind: st.Kind, Entered: o["entered"], Sent: o["sent"], Held: o["held"], Skipped: o["skipped"],
			Delivered: m.Delivered, Opened: m.Opened, Clicked: m.Clicked,
			Replied: x["replied"], Unsubscribed: x["unsubscribed"], Bounced: x["bounced"],
			Converted: x["trial_or_contact_request"] + x["meeting_booked"] + x["became_customer"], Outcomes: o}
	}
	return out, nil
}
