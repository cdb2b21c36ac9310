package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/sequences"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// formsTracking lets forms stitch a submitting visitor's browsing to the
// contact, and find the contact of a returning visitor for progressive
// profiling, without forms depending on tracking.
type formsTracking struct{ t *tracking.Service }

func (f formsTracking) Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) error {
	if !tracking.ValidVisitor(visitorID) {
		// Not an id the tracking script set (a hand-written form's hidden
		// input): there is no browsing to join, and the buyer is not refused
		// for it. The submission keeps the value as posted.
		return nil
	}
	_, err := f.t.Stitch(ctx, q, ws, visitorID, contactID)
	return err
}

func (f formsTracking) ContactForVisitor(ctx context.Context, q store.Q, ws int64, visitorID string) (*model.Contact, error) {
	m, err := q.StitchedVisitors(ctx, ws, []string{visitorID})
	if err != nil {
		return nil, err
	}
	id, ok := m[visitorID]
	if !ok {
		return nil, nil
	}
	c, err := q.GetContact(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// formsConfirmer sends a double opt-in form's confirmation link through the
// send ledger, in the submission's transaction: the message goes out with the
// workspace's sender, footer and unsubscribe link like any other.
type formsConfirmer struct{ m *mail.Service }

// ConfirmTemplate is the name of the workspace's confirmation template; an
// admin may edit its wording (it must keep {{.Vars.confirm_url}}).
const ConfirmTemplate = "Double opt-in confirmation"

func (c formsConfirmer) SendConfirmation(ctx context.Context, q store.Q, ws, contactID int64, f model.Form, confirmURL string) error {
	t, err := q.MailTemplateByName(ctx, ws, ConfirmTemplate)
	if errors.Is(err, store.ErrNotFound) {
		t = store.MailTemplate{Name: ConfirmTemplate, Subject: "Please confirm your email address",
			HTML: `<p>Hello{{with .Contact.FirstName}} {{.}}{{end}},</p><p>Please confirm that you want to hear from us by opening this link:</p><p><a href="{{.Vars.confirm_url}}">Confirm my email address</a></p><p>If you did not ask for this, ignore this message and nothing will happen.</p>`,
			Text: "Hello{{with .Contact.FirstName}} {{.}}{{end}},\n\nPlease confirm that you want to hear from us by opening this link:\n{{.Vars.confirm_url}}\n\nIf you did not ask for this, ignore this message and nothing will happen.\n"}
		err = q.SaveMailTemplate(ctx, ws, &t)
	}
	if err != nil {
		return err
	}
	_, _, err = c.m.Plan(ctx, q, ws, mail.PlanRequest{DedupeKey: "confirm:" + confirmURL, ContactID: contactID, TemplateID: t.ID, Vars: map[string]string{"confirm_url": confirmURL}})
	if errors.Is(err, mail.ErrNoSender) {
		// The buyer is not refused for the workspace's missing setup; the
		// contact's history says why no confirmation went out.
		return q.AddHistory(ctx, ws, "contact", contactID, "confirmation_not_sent", map[string]any{"form": f.Name, "reason": "the workspace has no sender configured (Settings → mail sender); the submission waits unconfirmed"}, "form: "+f.Name)
	}
	return err
}

// sequencesMailer plans a nurture step's email through the send ledger. Each
// step keeps its own template (named after the step), updated when the step's
// text changes, so a message renders what the step says when it is sent.
type sequencesMailer struct{ m *mail.Service }

func stepTemplateName(stepID int64) string { return fmt.Sprintf("sequence step %d", stepID) }

// stepTemplate finds or creates the template of a step, brought up to date
// with the step's text.
func stepTemplate(ctx context.Context, q store.Q, ws int64, ps sequences.PlannedSend) (store.MailTemplate, error) {
	t, err := q.MailTemplateByName(ctx, ws, stepTemplateName(ps.StepID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		t = store.MailTemplate{Name: stepTemplateName(ps.StepID), Subject: ps.Subject, HTML: ps.HTML, Text: ps.Text}
		return t, q.SaveMailTemplate(ctx, ws, &t)
	case err != nil:
		return t, err
	case t.Subject != ps.Subject || t.HTML != ps.HTML || t.Text != ps.Text:
		t.Subject, t.HTML, t.Text = ps.Subject, ps.HTML, ps.Text
		return t, q.SaveMailTemplate(ctx, ws, &t)
	}
	return t, nil
}

// PlanSends plans a batch's emails: each step's template once, then the
// ledger rows (mail.Service.PlanBatch).
func (sm sequencesMailer) PlanSends(ctx context.Context, q store.Q, ws int64, sends []sequences.PlannedSend) ([]bool, error) {
	tmpl := map[int64]int64{}
	reqs := make([]mail.PlanRequest, len(sends))
	for i, ps := range sends {
		tid, ok := tmpl[ps.StepID]
		if !ok {
			t, err := stepTemplate(ctx, q, ws, ps)
			if err != nil {
				return nil, err
			}
			tid, tmpl[ps.StepID] = t.ID, t.ID
		}
		enr, step := ps.EnrollmentID, ps.StepID
		reqs[i] = mail.PlanRequest{DedupeKey: ps.Key, EnrollmentID: &enr, StepID: &step, ContactID: ps.ContactID, TemplateID: tid}
	}
	planned, err := sm.m.PlanBatch(ctx, q, ws, reqs)
	if errors.Is(err, mail.ErrNoSender) {
		return nil, fmt.Errorf("%w: %v", sequences.ErrCannotSend, err)
	}
	return planned, err
}

func (sm sequencesMailer) PlanSend(ctx context.Context, q store.Q, ws int64, ps sequences.PlannedSend) (bool, error) {
	planned, err := sm.PlanSends(ctx, q, ws, []sequences.PlannedSend{ps})
	if err != nil {
		return false, err
	}
	return planned[0], nil
}

// sequencesSignals answers nurture branches from the mail events (human opens
// and clicks of the step's send) and the contact's stitched page views.
type sequencesSignals struct{ m *mail.Service }

func (s sequencesSignals) Opened(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error) {
	return s.m.Opened(ctx, q, ws, enrollmentID, stepID)
}

func (s sequencesSignals) Clicked(ctx context.Context, q store.Q, ws, enrollmentID, stepID int64) (bool, error) {
	return s.m.Clicked(ctx, q, ws, enrollmentID, stepID)
}

func (s sequencesSignals) Visited(ctx context.Context, q store.Q, ws, contactID int64, urlContains string, since time.Time) (bool, error) {
	return q.ContactVisited(ctx, ws, contactID, urlContains, since)
}

// sequencesExiter lets forms end a contact's nurture when they raise a hand.
type sequencesExiter struct{ s *sequences.Service }

func (e sequencesExiter) Exit(ctx context.Context, q store.Q, ws, contactID int64, reason string) error {
	_, err := e.s.Exit(ctx, q, ws, contactID, reason)
	return err
}

// mailExits ends nurture for the contacts behind mail events: a human reply
// ("replied"), an unsubscribe or complaint ("unsubscribed"), a bounce ("bounced").
func mailExits(m *mail.Service, s *sequences.Service) {
	m.OnReply = func(ctx context.Context, q store.Q, ws, contactID int64, _ store.Send) error {
		_, err := s.Exit(ctx, q, ws, contactID, "replied")
		return err
	}
	m.OnSuppressed = func(ctx context.Context, q store.Q, ws int64, email, reason string) error {
		why := "bounced"
		if reason == store.SuppressUnsub || reason == store.SuppressCompl {
			why = "unsubscribed"
		}
		c, err := q.ContactByEmail(ctx, ws, email)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = s.Exit(ctx, q, ws, c.ID, why)
		return err
	}
}

// staffingCosts hands the staffing planner's cost per SQL per scenario to the
// economics recommendations (staffing imports economics, not the other way).
func staffingCosts(st *staffing.Service) func(ctx context.Context, ws int64) ([]economics.ScenarioCost, error) {
	return func(ctx context.Context, ws int64) ([]economics.ScenarioCost, error) {
		cmp, err := st.Comparison(ctx, ws)
		if err != nil {
			return nil, err
		}
		out := make([]economics.ScenarioCost, 0, len(cmp.Plans))
		for _, p := range cmp.Plans {
			if p.Problem != "" {
				continue
			}
			out = append(out, economics.ScenarioCost{ID: p.Scenario.ID, Name: p.Scenario.Name, Kind: p.Scenario.Kind, Motion: p.Scenario.Motion,
				Currency: p.Scenario.Currency, CostPerSQL: p.Summary.CostPerSQL})
		}
		return out, nil
	}
}
