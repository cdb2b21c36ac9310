package app

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/webhooks"
)

// wireWebhooks makes the existing hook points emit outgoing webhook events,
// each in the transaction of the change it reports (docs/webhooks.md):
// contacts and deals written through crm, lifecycle changes (crm, scoring,
// the LDR desk), deals won, routing decisions, sequence exits and
// unsubscribes. Call it after every other hook is set: it wraps them.
func wireWebhooks(a *App) {
	a.CRM.Written = append(a.CRM.Written, webhookRecords{})
	a.CRM.Won = append(a.CRM.Won, webhookRecords{})
	lc := lifecycleTee{next: a.CRM.Lifecycle}
	a.CRM.Lifecycle = lc
	if a.Scoring != nil {
		a.Scoring.Lifecycle = lifecycleTee{next: a.Scoring.Lifecycle}
	}
	a.Routing.OnDecision = func(ctx context.Context, q store.Q, ws int64, d *model.RoutingDecision, rerouted bool) error {
		var inputs any
		if len(d.Inputs) > 0 {
			inputs = json.RawMessage(d.Inputs)
		}
		return webhooks.Emit(ctx, q, ws, webhooks.AccountRouted, map[string]any{
			"account_id": d.AccountID, "rerouted": rerouted,
			"decision": map[string]any{
				"segment": d.Segment, "motion": d.Motion, "pipeline": d.Pipeline, "team": d.Team, "assignment_policy": d.Policy,
				"manual": d.Manual, "reason": d.Reason, "inputs": inputs, "triggered_by": d.TriggeredBy,
				"previous_segment": d.PreviousSegment, "previous_motion": d.PreviousMotion,
				"segment_rule_id": d.SegmentRuleID, "routing_rule_id": d.RoutingRuleID,
			},
		})
	}
	prevExit := a.Sequences.OnExit
	a.Sequences.OnExit = func(ctx context.Context, q store.Q, ws int64, exited []model.Enrollment, reason string) error {
		if prevExit != nil {
			if err := prevExit(ctx, q, ws, exited, reason); err != nil {
				return err
			}
		}
		for _, e := range exited {
			if err := webhooks.Emit(ctx, q, ws, webhooks.SequenceExited, map[string]any{
				"enrollment_id": e.ID, "sequence_id": e.SequenceID, "contact_id": e.ContactID, "reason": reason, "position": e.Position,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	prevSup := a.Mail.OnSuppressed
	a.Mail.OnSuppressed = func(ctx context.Context, q store.Q, ws int64, email, reason string) error {
		if prevSup != nil {
			if err := prevSup(ctx, q, ws, email, reason); err != nil {
				return err
			}
		}
		if reason != store.SuppressUnsub && reason != store.SuppressCompl {
			return nil
		}
		data := map[string]any{"email": email, "reason": reason}
		c, err := q.ContactByEmail(ctx, ws, email)
		switch {
		case err == nil:
			data["contact_id"] = c.ID
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		return webhooks.Emit(ctx, q, ws, webhooks.ContactUnsubscribed, data)
	}
}

// webhookRecords emits contact and deal events from crm's write and won
// hooks.
type webhookRecords struct{}

func (webhookRecords) ContactWritten(ctx context.Context, q store.Q, act model.Actor, before, after *model.Contact) error {
	if before == nil {
		return webhooks.Emit(ctx, q, act.Workspace, webhooks.ContactCreated, map[string]any{"contact": after, "by": act.Label})
	}
	return webhooks.Emit(ctx, q, act.Workspace, webhooks.ContactUpdated, map[string]any{"contact": after, "by": act.Label})
}

func (webhookRecords) DealWritten(ctx context.Context, q store.Q, act model.Actor, before, after *model.Deal) error {
	if before == nil {
		return webhooks.Emit(ctx, q, act.Workspace, webhooks.DealCreated, map[string]any{"deal": after, "by": act.Label})
	}
	if err := webhooks.Emit(ctx, q, act.Workspace, webhooks.DealUpdated, map[string]any{"deal": after, "by": act.Label}); err != nil {
		return err
	}
	if before.Stage == after.Stage && before.Pipeline == after.Pipeline {
		return nil
	}
	return webhooks.Emit(ctx, q, act.Workspace, webhooks.DealStageChanged, map[string]any{
		"deal": after, "by": act.Label,
		"from": map[string]string{"pipeline": before.Pipeline, "stage": before.Stage},
		"to":   map[string]string{"pipeline": after.Pipeline, "stage": after.Stage},
	})
}

func (webhookRecords) DealWon(ctx context.Context, q store.Q, act model.Actor, d *model.Deal) error {
	return webhooks.Emit(ctx, q, act.Workspace, webhooks.DealWon, map[string]any{"deal": d, "by": act.Label})
}

// lifecycleTee tells the next lifecycle hook (sequences) and then emits
// contact.lifecycle_changed for a contact that moved (not a new one: that is
// contact.created).
type lifecycleTee struct{ next crm.LifecycleHook }

func (l lifecycleTee) StageChanged(ctx context.Context, q store.Q, ws int64, c *model.Contact, from string) error {
	if l.next != nil {
		if err := l.next.StageChanged(ctx, q, ws, c, from); err != nil {
			return err
		}
	}
	if from == "" || from == c.LifecycleStage {
		return nil
	}
	return webhooks.Emit(ctx, q, ws, webhooks.ContactLifecycleChanged, map[string]any{"contact_id": c.ID, "email": c.Email, "from": from, "to": c.LifecycleStage})
}
