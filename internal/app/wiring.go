package app

import (
	"context"
	"errors"

	"github.com/rightsize/rightsize/internal/mail"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/tracking"
)

// formsTracking lets forms stitch a submitting visitor's browsing to the
// contact, and find the contact of a returning visitor for progressive
// profiling, without forms depending on tracking.
type formsTracking struct{ t *tracking.Service }

func (f formsTracking) Stitch(ctx context.Context, q store.Q, ws int64, visitorID string, contactID int64) error {
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
