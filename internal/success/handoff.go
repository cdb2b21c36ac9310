package success

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rightsize/rightsize/internal/assignment"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Handoff statuses, in order.
const (
	StatusAwaitingNote       = "awaiting_note"
	StatusAwaitingAcceptance = "awaiting_acceptance"
	StatusAccepted           = "accepted"
)

// Statuses lists the statuses in order.
var Statuses = []string{StatusAwaitingNote, StatusAwaitingAcceptance, StatusAccepted}

// NoteParts are the parts of the handoff note the AE must fill before a CSM
// can accept, in order.
var NoteParts = []string{"goals", "stakeholders", "risks"}

const maxNotePart = 4000

// motionOf is the motion a won deal is onboarded in: its pipeline when that is
// a motion's pipeline, else its account's motion, else digital.
func motionOf(d *model.Deal, a model.Account) string {
	switch {
	case d.Pipeline == assignment.Digital || d.Pipeline == assignment.HighTouch:
		return d.Pipeline
	case a.Motion == assignment.HighTouch:
		return assignment.HighTouch
	}
	return assignment.Digital
}

// DealWon implements crm.WonHook: inside the deal's write transaction it opens
// the customer-success handoff of a deal that just became won. The CSM comes
// from the workspace's csm pools (the pool of the team the account was last
// routed to when one exists, else any csm pool; motion and territory as for
// any assignment); with no pool or nobody available the handoff stays
// unassigned and says why. The checklist is the motion's template, the note
// starts empty (awaiting_note) and the customer gets its first health score.
// A deal won again (won → lost → won) keeps its first handoff. A deal without
// an account has no customer: its history says so and nothing opens.
func (s *Service) DealWon(ctx context.Context, q store.Q, act model.Actor, d *model.Deal) error {
	ws := act.Workspace
	if d.AccountID == nil {
		return q.AddHistory(ctx, ws, "deal", d.ID, "cs_handoff_skipped", map[string]any{"reason": "the deal has no account, so there is no customer to hand off"}, act.Label)
	}
	if _, err := q.CSHandoffByDeal(ctx, ws, d.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	acct, err := q.GetAccount(ctx, ws, *d.AccountID)
	if err != nil {
		return err
	}
	set, err := LoadSettings(ctx, q, ws)
	if err != nil {
		return err
	}
	now := s.now()
	h := store.CSHandoff{AccountID: acct.ID, DealID: d.ID, Motion: motionOf(d, acct), AEUserID: d.OwnerID, Status: StatusAwaitingNote, CreatedAt: now}
	if err := s.assignCSM(ctx, q, ws, acct, &h); err != nil {
		return err
	}
	created, err := q.InsertCSHandoff(ctx, ws, &h)
	if err != nil {
		return err
	}
	if !created {
		// A concurrent write won the same deal first and opened its handoff.
		return nil
	}
	tmpl := set.Checklists[h.Motion]
	items := make([]store.OnboardingItem, len(tmpl))
	for i, it := range tmpl {
		items[i] = store.OnboardingItem{Position: i + 1, Key: it.Key, Title: it.Title}
	}
	if err := q.InsertOnboardingItems(ctx, ws, h.ID, items); err != nil {
		return err
	}
	detail := map[string]any{"handoff_id": h.ID, "deal_id": d.ID, "motion": h.Motion, "csm_user_id": h.CSMUserID, "assignment": h.AssignmentReason, "checklist_items": len(items)}
	if err := history(ctx, q, act, acct.ID, "cs_handoff_opened", detail); err != nil {
		return err
	}
	if err := q.AddHistory(ctx, ws, "deal", d.ID, "cs_handoff_opened", detail, act.Label); err != nil {
		return err
	}
	_, _, err = Recompute(ctx, q, ws, acct.ID, CauseWon, now)
	return err
}

// assignCSM fills h's CSM from the csm pools, or the reason nobody was chosen.
func (s *Service) assignCSM(ctx context.Context, q store.Q, ws int64, acct model.Account, h *store.CSHandoff) error {
	if s.Assign == nil {
		h.AssignmentReason = "unassigned: CSM assignment is not set up"
		return nil
	}
	r := assignment.Request{Role: model.RoleCSM, Motion: h.Motion, ObjectType: "account", ObjectID: acct.ID, Region: acct.Region, Industry: acct.Industry, Now: h.CreatedAt}
	dec, err := q.LatestRoutingDecision(ctx, ws, acct.ID)
	switch {
	case err == nil && dec.Team != "":
		pools, err := q.Pools(ctx, ws, model.RoleCSM, dec.Team)
		if err != nil {
			return err
		}
		if len(pools) > 0 {
			r.Team = dec.Team
		}
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	a, err := s.Assign.Assign(ctx, q, ws, r)
	var unavailable *assignment.UnavailableError
	var bad *store.FieldError
	switch {
	case errors.As(err, &unavailable):
		h.AssignmentReason = "unassigned: no CSM available: " + strings.Join(unavailable.Reasons, "; ")
	case errors.As(err, &bad):
		h.AssignmentReason = fmt.Sprintf("unassigned: %s %s", bad.Field, bad.Message)
	case err != nil:
		return err
	default:
		h.CSMUserID, h.AssignmentID, h.AssignmentReason = &a.UserID, &a.ID, a.Reason
	}
	return nil
}

// HandoffRef names another handoff of the same customer.
type HandoffRef struct {
	ID        int64  `json:"id"`
	DealID    int64  `json:"deal_id"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

// HandoffView is a handoff with its checklist and what a reader needs beside it.
type HandoffView struct {
	store.CSHandoff
	AccountName string                 `json:"account_name"`
	DealName    string                 `json:"deal_name"`
	AEEmail     string                 `json:"ae_email,omitempty"`
	CSMEmail    string                 `json:"csm_email,omitempty"`
	Missing     []string               `json:"missing"`
	Items       []store.OnboardingItem `json:"items"`
	ItemsDone   int                    `json:"items_done"`
	Others      []HandoffRef           `json:"others"`
}

// missing lists the note parts still blank, in order.
func missing(h store.CSHandoff) []string {
	out := []string{}
	for i, v := range []string{h.Goals, h.Stakeholders, h.Risks} {
		if strings.TrimSpace(v) == "" {
			out = append(out, NoteParts[i])
		}
	}
	return out
}

// find loads the handoff a customer route names: the deal's when dealID is
// given (it must be of this account), else the account's newest.
func find(ctx context.Context, q store.Q, ws, accountID int64, dealID *int64) (store.CSHandoff, error) {
	if _, err := customer(ctx, q, ws, accountID); err != nil {
		return store.CSHandoff{}, err
	}
	if dealID != nil {
		return q.CSHandoffOfDeal(ctx, ws, accountID, *dealID)
	}
	return q.LatestCSHandoff(ctx, ws, accountID)
}

func (s *Service) view(ctx context.Context, q store.Q, ws int64, h store.CSHandoff) (HandoffView, error) {
	v := HandoffView{CSHandoff: h, Missing: missing(h), Others: []HandoffRef{}}
	acct, err := q.GetAccount(ctx, ws, h.AccountID)
	if err == nil {
		v.AccountName = acct.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	d, err := q.GetDeal(ctx, ws, h.DealID)
	if err == nil {
		v.DealName = d.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	email := func(id *int64) (string, error) {
		if id == nil {
			return "", nil
		}
		if _, err := q.Membership(ctx, ws, *id); errors.Is(err, store.ErrNotFound) {
			return "", nil // left the workspace: not shown
		} else if err != nil {
			return "", err
		}
		u, err := q.GetUser(ctx, *id)
		return u.Email, err
	}
	if v.AEEmail, err = email(h.AEUserID); err != nil {
		return v, err
	}
	if v.CSMEmail, err = email(h.CSMUserID); err != nil {
		return v, err
	}
	if v.Items, err = q.OnboardingItems(ctx, ws, h.ID); err != nil {
		return v, err
	}
	for _, it := range v.Items {
		if it.Done {
			v.ItemsDone++
		}
	}
	all, err := q.CSHandoffsOfAccount(ctx, ws, h.AccountID)
	if err != nil {
		return v, err
	}
	for _, o := range all {
		if o.ID != h.ID {
			v.Others = append(v.Others, HandoffRef{ID: o.ID, DealID: o.DealID, Status: o.Status, CreatedAt: o.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")})
		}
	}
	return v, nil
}

// Handoff reads a customer's handoff (the deal's, or the newest).
func (s *Service) Handoff(ctx context.Context, ws, accountID int64, dealID *int64) (HandoffView, error) {
	q := s.St.Read()
	h, err := find(ctx, q, ws, accountID, dealID)
	if err != nil {
		return HandoffView{}, err
	}
	return s.view(ctx, q, ws, h)
}

// OptionalID is a JSON field that distinguishes absent (Set false) from null
// (Set, ID nil).
type OptionalID struct {
	Set bool
	ID  *int64
}

// UnmarshalJSON records that the field was present.
func (o *OptionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.ID = nil
		return nil
	}
	var id int64
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	o.ID = &id
	return nil
}

// HandoffPatch changes the note parts it sets and, for managers and admins,
// the CSM (null unassigns).
type HandoffPatch struct {
	Goals        *string    `json:"goals"`
	Stakeholders *string    `json:"stakeholders"`
	Risks        *string    `json:"risks"`
	CSMUserID    OptionalID `json:"csm_user_id"`
}

// status is what the note makes of a handoff not yet accepted.
func status(h store.CSHandoff) string {
	if h.Status == StatusAccepted {
		return StatusAccepted
	}
	if len(missing(h)) == 0 {
		return StatusAwaitingAcceptance
	}
	return StatusAwaitingNote
}

// UpdateHandoff applies p to a customer's handoff: the AE fills the note (any
// writer may; an accepted handoff's note is final), and a manager or admin may
// set or clear the CSM. The status follows the note: all three parts present
// → awaiting_acceptance, else awaiting_note.
func (s *Service) UpdateHandoff(ctx context.Context, act model.Actor, accountID int64, dealID *int64, p HandoffPatch) (HandoffView, error) {
	ws := act.Workspace
	parts := []*string{p.Goals, p.Stakeholders, p.Risks}
	noteChange := false
	for i, v := range parts {
		if v == nil {
			continue
		}
		noteChange = true
		t := strings.TrimSpace(*v)
		if len([]rune(t)) > maxNotePart {
			return HandoffView{}, fe(NoteParts[i], "at most %d characters", maxNotePart)
		}
		parts[i] = &t
	}
	if p.CSMUserID.Set && act.Role != model.RoleAdmin && act.Role != model.RoleManager {
		return HandoffView{}, ErrForbidden
	}
	var out HandoffView
	err := s.St.InTx(ctx, func(q store.Q) error {
		h, err := find(ctx, q, ws, accountID, dealID)
		if err != nil {
			return err
		}
		if noteChange && h.Status == StatusAccepted {
			return &StateError{Field: "status", Message: "the handoff was accepted; its note is final"}
		}
		detail := map[string]any{"handoff_id": h.ID, "deal_id": h.DealID}
		if noteChange {
			for i, dst := range []*string{&h.Goals, &h.Stakeholders, &h.Risks} {
				if parts[i] != nil {
					*dst = *parts[i]
				}
			}
			now := s.now()
			h.NoteBy, h.NoteAt = act.Label, &now
			detail["missing"] = missing(h)
		}
		if p.CSMUserID.Set {
			if id := p.CSMUserID.ID; id != nil {
				if _, err := q.Membership(ctx, ws, *id); errors.Is(err, store.ErrNotFound) {
					return fe("csm_user_id", "user %d is not a member of this workspace", *id)
				} else if err != nil {
					return err
				}
				h.AssignmentReason = "set by " + act.Label
			} else {
				h.AssignmentReason = "unassigned by " + act.Label
			}
			h.CSMUserID, h.AssignmentID = p.CSMUserID.ID, nil
			detail["csm_user_id"] = h.CSMUserID
		}
		from := h.Status
		h.Status = status(h)
		detail["status"] = h.Status
		if err := q.UpdateCSHandoff(ctx, ws, &h); err != nil {
			return err
		}
		action := "cs_handoff_updated"
		if from != h.Status {
			action = "cs_handoff_" + h.Status
		}
		if err := history(ctx, q, act, h.AccountID, action, detail); err != nil {
			return err
		}
		out, err = s.view(ctx, q, ws, h)
		return err
	})
	return out, err
}

// Accept is the CSM taking the customer on. It needs the whole note: a blank
// part is a *StateError naming it (the first blank one; Missing lists all).
// CSMs, managers and admins may accept; a CSM may not accept a handoff
// assigned to another CSM, and takes an unassigned one. Accepting twice is a
// *StateError on status.
func (s *Service) Accept(ctx context.Context, act model.Actor, accountID int64, dealID *int64) (HandoffView, error) {
	if !canManageCustomer(act.Role) {
		return HandoffView{}, ErrForbidden
	}
	ws := act.Workspace
	var out HandoffView
	err := s.St.InTx(ctx, func(q store.Q) error {
		h, err := find(ctx, q, ws, accountID, dealID)
		if err != nil {
			return err
		}
		if h.Status == StatusAccepted {
			return &StateError{Field: "status", Message: fmt.Sprintf("the handoff was already accepted by %s", h.AcceptedBy)}
		}
		if m := missing(h); len(m) > 0 {
			return &StateError{Field: m[0], Missing: m, Message: fmt.Sprintf("the handoff note needs goals, stakeholders and risks before a CSM can accept it; missing: %s", strings.Join(m, ", "))}
		}
		if act.Role == model.RoleCSM && act.UserID != nil {
			switch {
			case h.CSMUserID == nil:
				h.CSMUserID, h.AssignmentID, h.AssignmentReason = act.UserID, nil, "taken on acceptance by "+act.Label
			case *h.CSMUserID != *act.UserID:
				return ErrForbidden
			}
		}
		now := s.now()
		h.Status, h.AcceptedBy, h.AcceptedAt = StatusAccepted, act.Label, &now
		if err := q.UpdateCSHandoff(ctx, ws, &h); err != nil {
			return err
		}
		if err := history(ctx, q, act, h.AccountID, "cs_handoff_accepted", map[string]any{"handoff_id": h.ID, "deal_id": h.DealID, "csm_user_id": h.CSMUserID}); err != nil {
			return err
		}
		out, err = s.view(ctx, q, ws, h)
		return err
	})
	return out, err
}

// SetItem ticks or unticks one checklist item of a customer's handoff; an item
// of another handoff is store.ErrNotFound.
func (s *Service) SetItem(ctx context.Context, act model.Actor, accountID int64, dealID *int64, itemID int64, done bool) (HandoffView, error) {
	ws := act.Workspace
	var out HandoffView
	err := s.St.InTx(ctx, func(q store.Q) error {
		h, err := find(ctx, q, ws, accountID, dealID)
		if err != nil {
			return err
		}
		if done {
			now := s.now()
			err = q.SetOnboardingItemDone(ctx, ws, h.ID, itemID, &now, act.Label)
		} else {
			err = q.SetOnboardingItemDone(ctx, ws, h.ID, itemID, nil, "")
		}
		if err != nil {
			return err
		}
		if err := history(ctx, q, act, h.AccountID, "cs_checklist_item", map[string]any{"handoff_id": h.ID, "item_id": itemID, "done": done}); err != nil {
			return err
		}
		out, err = s.view(ctx, q, ws, h)
		return err
	})
	return out, err
}

// Queue is the CSM work list: handoffs waiting for the AE's note, handoffs
// waiting for a CSM to accept (both oldest first; unassigned ones show no CSM)
// and customers whose health is at risk or critical (lowest first).
type Queue struct {
	AwaitingNote       []store.CSQueueRow        `json:"awaiting_note"`
	AwaitingAcceptance []store.CSQueueRow        `json:"awaiting_acceptance"`
	AtRisk             []store.CustomerHealthRow `json:"at_risk"`
}

// QueueLimit bounds each list of the queue.
const QueueLimit = 200

// Queue reads ws's CSM queue.
func (s *Service) Queue(ctx context.Context, ws int64) (Queue, error) {
	q := s.St.Read()
	var out Queue
	var err error
	if out.AwaitingNote, err = q.CSHandoffQueue(ctx, ws, []string{StatusAwaitingNote}, QueueLimit); err != nil {
		return out, err
	}
	if out.AwaitingAcceptance, err = q.CSHandoffQueue(ctx, ws, []string{StatusAwaitingAcceptance}, QueueLimit); err != nil {
		return out, err
	}
	out.AtRisk, err = s.AtRisk(ctx, ws, QueueLimit)
	return out, err
}
