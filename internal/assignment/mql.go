package assignment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// mqlOutcome is what AssignMQL did with a new MQL: Assigned is nil when no LDR
// could take it, and Reason then says why.
type mqlOutcome struct {
	Assigned *model.Assignment
	Reason   string
}

// history is the contact history entry (action, detail) of the outcome.
func (o mqlOutcome) history() (string, map[string]any) {
	if o.Assigned == nil {
		return "unassigned", map[string]any{"role": model.RoleLDR, "reason": o.Reason}
	}
	a := o.Assigned
	return "assigned", map[string]any{"role": model.RoleLDR, "owner_id": a.UserID, "pool_id": a.PoolID, "motion": a.Motion,
		"reason": a.Reason, "sla_due_at": a.SLADueAt.UTC().Format(time.RFC3339)}
}

// AssignMQL hands contact c, which just became an MQL, to an LDR inside the
// caller's write transaction and starts its SLA clock. The pool is the LDR pool
// of the team its account was last routed to, when such a pool exists, else any
// LDR pool; the motion is the account's (digital without one). It does not write
// the contact: the caller sets the owner to Assigned.UserID. Nobody available
// (or no LDR pool) is not an error: the outcome says why and the contact stays
// unowned in the desk's Unassigned list. Errors are the store's only. action
// and detail are the contact history entry: "assigned" (owner, pool, SLA due
// time) or "unassigned" (the reason). It implements crm.MQLAssigner.
func (s *Service) AssignMQL(ctx context.Context, q store.Q, ws int64, c *model.Contact, now time.Time) (owner *int64, action string, detail map[string]any, err error) {
	o, err := s.assignMQL(ctx, q, ws, c, now)
	if err != nil {
		return nil, "", nil, err
	}
	if o.Assigned != nil {
		owner = &o.Assigned.UserID
	}
	action, detail = o.history()
	return owner, action, detail, nil
}

// ForBatch returns an assigner for many new MQLs of ws in q's transaction
// (an import batch; it implements crm.MQLBatchAssigner). It reads the
// workspace's LDR pools once: without any, every contact gets the outcome
// AssignMQL gives then ("no pool for role ldr") without its queries — an
// account, a routing decision and the pools, per contact, were a third of a
// 100,000-row import's CPU (docs/benchmarks.md). With pools, each contact goes
// through AssignMQL.
func (s *Service) ForBatch(ctx context.Context, q store.Q, ws int64) (crm.MQLAssigner, error) {
	pools, err := q.Pools(ctx, ws, model.RoleLDR, "")
	if err != nil {
		return nil, err
	}
	return mqlBatch{s: s, none: len(pools) == 0}, nil
}

type mqlBatch struct {
	s    *Service
	none bool // the workspace has no LDR pool
}

func (b mqlBatch) AssignMQL(ctx context.Context, q store.Q, ws int64, c *model.Contact, now time.Time) (*int64, string, map[string]any, error) {
	if !b.none {
		return b.s.AssignMQL(ctx, q, ws, c, now)
	}
	// What assignMQL decides without a pool: the request it would build
	// (the motion does not matter before the pools), checked the same way.
	r := Request{Role: model.RoleLDR, Motion: Digital, ObjectType: "contact", ObjectID: c.ID, Now: now}
	o := mqlOutcome{Reason: "no LDR available: " + noPool(r)}
	if err := validate(r); err != nil {
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			return nil, "", nil, err
		}
		o.Reason = fmt.Sprintf("not assigned: %s %s", fe.Field, fe.Message)
	}
	action, detail := o.history()
	return nil, action, detail, nil
}

func (s *Service) assignMQL(ctx context.Context, q store.Q, ws int64, c *model.Contact, now time.Time) (mqlOutcome, error) {
	r := Request{Role: model.RoleLDR, Motion: Digital, ObjectType: "contact", ObjectID: c.ID, Now: now}
	if c.AccountID != nil {
		a, err := q.GetAccount(ctx, ws, *c.AccountID)
		switch {
		case err == nil:
			if a.Motion == HighTouch {
				r.Motion = HighTouch
			}
			r.Region, r.Industry = a.Region, a.Industry
			d, err := q.LatestRoutingDecision(ctx, ws, a.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return mqlOutcome{}, err
			}
			if err == nil && d.Team != "" {
				pools, err := q.Pools(ctx, ws, model.RoleLDR, d.Team)
				if err != nil {
					return mqlOutcome{}, err
				}
				if len(pools) > 0 {
					r.Team = d.Team
				}
			}
		case !errors.Is(err, store.ErrNotFound):
			return mqlOutcome{}, err
		}
	}
	a, err := s.Assign(ctx, q, ws, r)
	var unavailable *UnavailableError
	var fe *store.FieldError
	switch {
	case errors.As(err, &unavailable):
		return mqlOutcome{Reason: "no LDR available: " + strings.Join(unavailable.Reasons, "; ")}, nil
	case errors.As(err, &fe):
		return mqlOutcome{Reason: fmt.Sprintf("not assigned: %s %s", fe.Field, fe.Message)}, nil
	case err != nil:
		return mqlOutcome{}, err
	}
	return mqlOutcome{Assigned: &a}, nil
}

// BreachesSince is Breaches counting only breaches touched at or after since
// (say, the start of the month); overdue items count whenever assigned.
func (s *Service) BreachesSince(ctx context.Context, ws int64, now, since time.Time) ([]model.BreachCount, error) {
	return s.St.Read().BreachCountsSince(ctx, ws, now, since)
}
