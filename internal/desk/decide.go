package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The AE's side of an LDR → AE handoff. Qualify hands the deal to an AE at
// once (round-robin), but an SQL only counts as delivered once the AE who
// received it accepts it: that decision is what a partner is paid per SQL
// for, and what in-house reps are measured by (docs/economics.md, Partners).
// A rejection keeps the contact and deal as they are (disqualify the contact
// to close it out) and is never billed.

// ErrNotYours answers a decision by someone who neither received the handoff
// nor owns its deal, and is not an admin or manager.
var ErrNotYours = errors.New("desk: only the AE who received the handoff (or owns its deal now), an admin or a manager may decide on it")

// mayDecide reports whether the actor may accept or reject h: an admin or a
// manager, the AE it was handed to, or the deal's owner now (the deal may
// have been reassigned since).
func mayDecide(ctx context.Context, q store.Q, act model.Actor, h model.Handoff) (bool, error) {
	if act.Role == model.RoleAdmin || act.Role == model.RoleManager {
		return true, nil
	}
	if act.UserID == nil {
		return false, nil
	}
	if h.ToUserID != nil && *act.UserID == *h.ToUserID {
		return true, nil
	}
	if h.DealID == nil {
		return false, nil
	}
	d, err := q.GetDeal(ctx, act.Workspace, *h.DealID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && d.OwnerID != nil && *d.OwnerID == *act.UserID, err
}

// DecideHandoff records the receiving AE's decision (model.HandoffAccepted
// or model.HandoffRejected; a rejection needs a note saying why) on an
// ldr_to_ae handoff of the actor's workspace, with history on its deal. A
// handoff already decided answers a ConflictError on decision: the first
// decision stands, so a statement that billed the SQL does not change.
func (s *Service) DecideHandoff(ctx context.Context, act model.Actor, id int64, decision, note string) (model.Handoff, error) {
	ws := act.Workspace
	var h model.Handoff
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if h, err = q.GetHandoff(ctx, ws, id); err != nil {
			return err
		}
		if !slices.Contains([]string{model.HandoffAccepted, model.HandoffRejected}, decision) {
			return &store.FieldError{Field: "decision", Message: fmt.Sprintf("%q is not accepted or rejected", decision)}
		}
		if note, err = text("note", note, decision == model.HandoffRejected, 4000); err != nil {
			if decision == model.HandoffRejected && note == "" {
				return &store.FieldError{Field: "note", Message: "is required when rejecting: say why this is not an SQL"}
			}
			return err
		}
		if h.Kind != "ldr_to_ae" {
			return &store.FieldError{Field: "kind", Message: fmt.Sprintf("is %s; only an ldr_to_ae handoff is accepted or rejected", h.Kind)}
		}
		if ok, err := mayDecide(ctx, q, act, h); err != nil {
			return err
		} else if !ok {
			return ErrNotYours
		}
		at := s.now()
		h.Decision, h.DecidedAt, h.DecidedBy, h.DecisionNote = decision, &at, act.UserID, note
		if err := q.DecideHandoff(ctx, ws, &h); err != nil {
			return err
		}
		detail := map[string]any{"handoff_id": h.ID, "decision": decision, "note": note, "from_user_id": h.FromUserID}
		if h.DealID != nil {
			if err := q.AddHistory(ctx, ws, "deal", *h.DealID, "sql_"+decision, detail, act.Label); err != nil {
				return err
			}
		}
		return crm.Audit(ctx, q, act, "handoff_"+decision, "handoff", &h.ID, detail)
	})
	return h, err
}
