// Package desk is the LDR desk (PRODUCT.md §3): the queue of MQLs a lead
// development rep works, sorted by SLA and score, and the actions on each —
// qualify (BANT + note → sql, a deal in the motion's pipeline handed to an AE),
// disqualify with a reason, return to nurture, log a call.
//
// Qualify writes everything in one transaction through store methods (deal,
// owner, assignment, handoff, contact stage, history, SLA touch): crm.Service
// opens its own transaction per call and cannot be composed, so the desk writes
// the deal itself. The deal's fields are all set here (no user input reaches
// them), so crm's form validation has nothing to check. LogCall is the one
// action in two steps (crm.Service.CreateActivity, then the SLA touch).
package desk

import (
	"context"
	"errors"
	"fmt"
	pipelinePkg "github.com/rightsize/rightsize/internal/pipeline"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// Service runs the desk.
type Service struct {
	St         *store.Store
	CRM        *crm.Service
	Scoring    *scoring.Service
	Assignment *assignment.Service
	// Exits, when set, ends nurture enrollments (internal/sequences).
	Exits Exiter
	// Now is the clock (nil: store.Now); tests set it.
	Now func() time.Time
}

// Exiter ends a contact's nurture enrollments that exit on reason.
type Exiter interface {
	Exit(ctx context.Context, q store.Q, ws, contactID int64, reason string) (int, error)
}

// MeetingBooked records that a meeting with contactID is booked (by an LDR, or
// a calendar tool through the API): a meeting activity at when (now when zero)
// on the contact's timeline, the SLA clock stopped, and the contact's nurture
// sequences that exit on "meeting_booked" ended — in one transaction.
func (s *Service) MeetingBooked(ctx context.Context, act model.Actor, contactID int64, when time.Time, subject, note string) (model.Activity, error) {
	ws := act.Workspace
	now := s.now()
	var a model.Activity
	err := s.St.InTx(ctx, func(q store.Q) error {
		c, err := q.Scoped(store.ScopeOf(act)).GetContact(ctx, ws, contactID)
		if err != nil {
			return err
		}
		if subject, err = text("subject", subject, false, 200); err != nil {
			return err
		}
		if note, err = text("note", note, false, 4000); err != nil {
			return err
		}
		if subject == "" {
			subject = "Meeting booked with " + contactName(c)
		}
		if when.IsZero() {
			when = now
		}
		a = model.Activity{Kind: "meeting", Subject: subject, Body: note, OccurredAt: when.UTC(), ContactID: &c.ID, AccountID: c.AccountID,
			OwnerID: act.UserID, Participants: []string{c.Email}, Custom: model.Custom{"booked_at": now.Format(time.RFC3339)}}
		if err := q.CreateActivity(ctx, ws, &a); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "contact", c.ID, "meeting_booked", map[string]any{"activity_id": a.ID, "at": a.OccurredAt, "subject": subject}, act.Label); err != nil {
			return err
		}
		if _, err := s.Assignment.MarkTouched(ctx, q, ws, "contact", c.ID, now); err != nil {
			return err
		}
		if s.Exits != nil {
			_, err = s.Exits.Exit(ctx, q, ws, c.ID, "meeting_booked")
		}
		return err
	})
	return a, err
}

// stageChanged tells crm's lifecycle hook (nurture triggers) about a move the
// desk made, as an edit through crm would.
func (s *Service) stageChanged(ctx context.Context, q store.Q, ws int64, c *model.Contact, from string) error {
	if s.CRM == nil || s.CRM.Lifecycle == nil {
		return nil
	}
	return s.CRM.Lifecycle.StageChanged(ctx, q, ws, c, from)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// MaxQueue is the most MQLs one queue read considers.
const MaxQueue = 200

// TopLines is how many breakdown lines each queue item shows.
const TopLines = 3

// Item is one MQL in the queue.
type Item struct {
	store.QueueRow
	Score   float64
	Lines   []string // the largest contributions to the score, as a rep reads them
	Overdue bool
}

// Queue is what an LDR works: their own MQLs, then MQLs nobody owns yet.
type Queue struct {
	Mine       []Item
	Unassigned []Item
}

// Queue returns the MQLs of ws owned by userID, and the unowned ones, each
// sorted: overdue SLA clocks first (most overdue first), then by score
// (highest first), then by SLA due time (soonest first; no clock last).
func (s *Service) Queue(ctx context.Context, ws, userID int64, now time.Time) (Queue, error) {
	return s.ScopedQueue(ctx, store.Scope{}, ws, userID, now)
}

// ScopedQueue is Queue read through sc: a partner's scope shows its own MQLs
// only, never the unassigned ones or another rep's.
func (s *Service) ScopedQueue(ctx context.Context, sc store.Scope, ws, userID int64, now time.Time) (Queue, error) {
	rows, err := s.St.Read().Scoped(sc).QueueCandidates(ctx, ws, userID, MaxQueue)
	if err != nil {
		return Queue{}, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.Contact.ID
	}
	scores, err := s.Scoring.Scores(ctx, ws, ids, now)
	if err != nil {
		return Queue{}, err
	}
	var q Queue
	for _, r := range rows {
		it := Item{QueueRow: r, Score: scores[r.Contact.ID].Score, Overdue: r.SLADueAt != nil && r.SLADueAt.Before(now)}
		b, err := s.Scoring.Breakdown(ctx, ws, r.Contact.ID, now, 10)
		if err != nil {
			return Queue{}, err
		}
		lines := slices.Clone(b.Lines)
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].Points > lines[j].Points })
		for _, l := range lines {
			if len(it.Lines) == TopLines || l.Points <= 0 {
				break
			}
			it.Lines = append(it.Lines, l.Text)
		}
		if r.Contact.OwnerID != nil {
			q.Mine = append(q.Mine, it)
		} else {
			q.Unassigned = append(q.Unassigned, it)
		}
	}
	sortQueue(q.Mine)
	sortQueue(q.Unassigned)
	return q, nil
}

func sortQueue(items []Item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Overdue != b.Overdue {
			return a.Overdue
		}
		if a.Overdue {
			return a.SLADueAt.Before(*b.SLADueAt)
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		switch {
		case a.SLADueAt == nil || b.SLADueAt == nil:
			return a.SLADueAt != nil && b.SLADueAt == nil
		default:
			return a.SLADueAt.Before(*b.SLADueAt)
		}
	})
}

// Qualified is what Qualify opened.
type Qualified struct {
	Contact  model.Contact
	Deal     model.Deal
	Handoff  model.Handoff
	AE       int64
	Assigned model.Assignment
}

// qualifiable are the stages an LDR can qualify, disqualify or return to
// nurture from.
var qualifiable = []string{"subscriber", "lead", "mql", "nurture"}

func checkStage(c model.Contact, action string, from []string) error {
	if !slices.Contains(from, c.LifecycleStage) {
		return &store.FieldError{Field: "lifecycle_stage", Message: fmt.Sprintf("is %s; only a contact at %s can be %s", c.LifecycleStage, strings.Join(from, ", "), action)}
	}
	return nil
}

func text(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		return v, &store.FieldError{Field: field, Message: "is required"}
	case len(v) > max:
		return v, &store.FieldError{Field: field, Message: fmt.Sprintf("is longer than %d characters", max)}
	}
	return v, nil
}

func checkBANT(b model.BANT, note string) (model.BANT, string, error) {
	var err error
	for _, f := range []struct {
		name string
		v    *string
	}{{"budget", &b.Budget}, {"authority", &b.Authority}, {"need", &b.Need}, {"timeline", &b.Timeline}} {
		if *f.v, err = text(f.name, *f.v, true, 1000); err != nil {
			return b, note, err
		}
	}
	note, err = text("note", note, false, 4000)
	return b, note, err
}

// ErrNoAE wraps the FieldError Qualify returns when no AE can take the deal.
var ErrNoAE = errors.New("no AE available")

// Qualify turns contactID of the actor's workspace into an SQL: it opens a deal
// in the pipeline of the account's motion (the latest routing decision's
// pipeline; digital when the contact has no routed account), hands it to an AE
// by round-robin over the ae pools, records the handoff with the BANT answers
// and note, and stops the contact's SLA clock. One transaction: when no AE is
// available nothing changes and the error (field "ae") says why.
func (s *Service) Qualify(ctx context.Context, act model.Actor, contactID int64, bant model.BANT, note string) (Qualified, error) {
	ws := act.Workspace
	now := s.now()
	var out Qualified
	err := s.St.InTx(ctx, func(q store.Q) error {
		c, err := q.Scoped(store.ScopeOf(act)).GetContact(ctx, ws, contactID)
		if err != nil {
			return err
		}
		if err := checkStage(c, "qualified", qualifiable); err != nil {
			return err
		}
		if bant, note, err = checkBANT(bant, note); err != nil {
			return err
		}
		w, err := q.GetWorkspace(ctx, ws)
		if err != nil {
			return err
		}
		motion, pipeline, name := assignment.Digital, "digital", contactName(c)
		var acct *model.Account
		if c.AccountID != nil {
			a, err := q.GetAccount(ctx, ws, *c.AccountID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil {
				acct = &a
				name = a.Name + " — " + name
				if a.Motion == assignment.HighTouch {
					motion, pipeline = a.Motion, a.Motion
				}
				if d, err := q.LatestRoutingDecision(ctx, ws, a.ID); err == nil && d.Motion == motion {
					// The decision's pipeline, if the workspace still has it.
					ps, _, err := pipelinePkg.Load(ctx, q, ws)
					if err != nil {
						return err
					}
					if _, ok := pipelinePkg.Find(ps, d.Pipeline); ok {
						pipeline = d.Pipeline
					}
				} else if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
		}
		// A new deal starts in the first stage of the workspace's pipeline: no
		// stage is left, so no gate applies.
		first, err := pipelinePkg.FirstStage(ctx, q, ws, pipeline)
		if err != nil {
			return err
		}
		d := model.Deal{Name: name, AccountID: c.AccountID, Currency: w.Currency, Pipeline: pipeline, Stage: first, Custom: model.Custom{}}
		if err := q.CreateDeal(ctx, ws, &d); err != nil {
			return err
		}
		req := assignment.Request{Role: model.RoleAE, Motion: motion, ObjectType: "deal", ObjectID: d.ID, Now: now}
		if acct != nil {
			req.Region, req.Industry = acct.Region, acct.Industry
		}
		asg, err := s.Assignment.Assign(ctx, q, ws, req)
		var unavailable *assignment.UnavailableError
		if errors.As(err, &unavailable) {
			return fmt.Errorf("%w: %w", ErrNoAE, &store.FieldError{Field: "ae", Message: "no account executive can take this deal (" + strings.Join(unavailable.Reasons, "; ") + "); nothing was changed"})
		}
		if err != nil {
			return err
		}
		d.OwnerID = &asg.UserID
		if err := q.UpdateDeal(ctx, ws, &d); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "deal", d.ID, "created", map[string]any{"stage": d.Stage, "pipeline": d.Pipeline, "qualified_contact_id": c.ID}, act.Label); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "deal", d.ID, "assigned", map[string]any{"owner_id": asg.UserID, "reason": asg.Reason}, act.Label); err != nil {
			return err
		}
		h := model.Handoff{ContactID: c.ID, DealID: &d.ID, FromUserID: act.UserID, ToUserID: &asg.UserID, Kind: "ldr_to_ae", Note: note, BANT: bant}
		if err := q.InsertHandoff(ctx, ws, &h); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "deal", d.ID, "handoff", map[string]any{"kind": h.Kind, "from_user_id": h.FromUserID, "to_user_id": asg.UserID, "note": note, "bant": bant}, act.Label); err != nil {
			return err
		}
		before := c.LifecycleStage
		c.LifecycleStage = "sql"
		if err := q.UpdateContact(ctx, ws, &c); err != nil {
			return err
		}
		if err := s.stageChanged(ctx, q, ws, &c, before); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, ws, "contact", c.ID, "qualified", map[string]any{"lifecycle_stage": []string{before, "sql"}, "deal_id": d.ID, "ae_user_id": asg.UserID, "bant": bant, "note": note}, act.Label); err != nil {
			return err
		}
		if _, err := s.Assignment.MarkTouched(ctx, q, ws, "contact", c.ID, now); err != nil {
			return err
		}
		out = Qualified{Contact: c, Deal: d, Handoff: h, AE: asg.UserID, Assigned: asg}
		return nil
	})
	return out, err
}

// Disqualify moves contactID to disqualified with a reason from
// model.DisqualifyReasons (counted by store.Q.DisqualificationCounts) and stops
// its SLA clock.
func (s *Service) Disqualify(ctx context.Context, act model.Actor, contactID int64, reason, note string) (model.Contact, error) {
	if !slices.Contains(model.DisqualifyReasons, reason) {
		return model.Contact{}, &store.FieldError{Field: "reason", Message: fmt.Sprintf("%q is not one of %s", reason, strings.Join(model.DisqualifyReasons, ", "))}
	}
	return s.move(ctx, act, contactID, "disqualified", "disqualified", note, reason)
}

// Nurture returns contactID to nurture (not now) and stops its SLA clock.
func (s *Service) Nurture(ctx context.Context, act model.Actor, contactID int64, note string) (model.Contact, error) {
	return s.move(ctx, act, contactID, "nurture", "returned to nurture", note, "")
}

func (s *Service) move(ctx context.Context, act model.Actor, contactID int64, stage, action, note, reason string) (model.Contact, error) {
	ws := act.Workspace
	now := s.now()
	var c model.Contact
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if c, err = q.Scoped(store.ScopeOf(act)).GetContact(ctx, ws, contactID); err != nil {
			return err
		}
		from := qualifiable
		if stage == "disqualified" {
			from = append(slices.Clone(qualifiable), "sql")
		}
		if err := checkStage(c, action, slices.DeleteFunc(slices.Clone(from), func(s string) bool { return s == stage })); err != nil {
			return err
		}
		if note, err = text("note", note, false, 4000); err != nil {
			return err
		}
		before := c.LifecycleStage
		c.LifecycleStage = stage
		if err := q.UpdateContact(ctx, ws, &c); err != nil {
			return err
		}
		if err := s.stageChanged(ctx, q, ws, &c, before); err != nil {
			return err
		}
		detail := map[string]any{"lifecycle_stage": []string{before, stage}, "note": note}
		if reason != "" {
			detail["reason"] = reason
			if err := q.InsertDisqualification(ctx, ws, c.ID, reason, note, act.UserID); err != nil {
				return err
			}
		}
		if err := q.AddHistory(ctx, ws, "contact", c.ID, stage, detail, act.Label); err != nil {
			return err
		}
		_, err = s.Assignment.MarkTouched(ctx, q, ws, "contact", c.ID, now)
		return err
	})
	return c, err
}

// Call is a logged call.
type Call struct {
	Subject string
	Body    string
	Minutes string
}

// LogCall records a call with contactID (crm.Service.CreateActivity, kind
// call, linked to its account) and then stops the contact's SLA clock.
func (s *Service) LogCall(ctx context.Context, act model.Actor, contactID int64, call Call) (model.Activity, error) {
	ws := act.Workspace
	c, err := s.St.Read().Scoped(store.ScopeOf(act)).GetContact(ctx, ws, contactID)
	if err != nil {
		return model.Activity{}, err
	}
	now := s.now()
	f := crm.Fields{"kind": "call", "subject": call.Subject, "body": call.Body, "contact_id": id(c.ID), "occurred_at": now.Format(time.RFC3339Nano)}
	if strings.TrimSpace(call.Subject) == "" {
		f["subject"] = "Call with " + contactName(c)
	}
	if call.Minutes != "" {
		f["duration_minutes"] = call.Minutes
	}
	if c.AccountID != nil {
		f["account_id"] = id(*c.AccountID)
	}
	if act.UserID != nil {
		f["owner_id"] = id(*act.UserID)
	}
	a, err := s.CRM.CreateActivity(ctx, act, f)
	if err != nil {
		return a, err
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		_, err := s.Assignment.MarkTouched(ctx, q, ws, "contact", c.ID, now)
		return err
	})
	return a, err
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func contactName(c model.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	return c.Email
}
