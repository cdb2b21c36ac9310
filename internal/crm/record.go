package crm

import (
	"context"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// kind describes one record type to the shared create and update paths: every
// record is validated against its custom fields, checked for references inside the
// workspace, written, and given a history entry in one transaction.
type kind[T any] struct {
	obj    string // object type of custom fields and history
	get    func(q store.Q, ctx context.Context, ws, id int64) (T, error)
	apply  func(*T, Fields, []model.CustomField) error
	check  func(s *Service, ctx context.Context, q store.Q, ws int64, x *T) error
	create func(q store.Q, ctx context.Context, ws int64, x *T) error
	update func(q store.Q, ctx context.Context, ws int64, x *T) error
	id     func(*T) int64
	// owner points at the record's owner_id (a partner's records are its own:
	// confine).
	owner func(*T) **int64
	// history returns the history detail of a create (before == nil) or an update;
	// nil means the kind keeps no history.
	history func(before, after *T, f Fields) any
	// route, when set, runs after apply and check and before the write (before is
	// nil on create); the function it returns runs after the write.
	route func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, x *T) (func() error, error)
	// written, when set, runs last in the transaction of a create (before is
	// nil) or an update (s.Written hooks).
	written func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, after *T) error
}

// tellWritten runs the kind's written hook after a create or an update.
func tellWritten[T any](s *Service, ctx context.Context, q store.Q, act model.Actor, k kind[T], before, after *T) error {
	if k.written == nil || len(s.Written) == 0 {
		return nil
	}
	return k.written(s, ctx, q, act, before, after)
}

// routeAndWrite writes x between the kind's route hook and what the hook returns.
func routeAndWrite[T any](s *Service, ctx context.Context, q store.Q, act model.Actor, k kind[T], before, x *T, write func(q store.Q, ctx context.Context, ws int64, x *T) error) error {
	var after func() error
	if k.route != nil {
		var err error
		if after, err = k.route(s, ctx, q, act, before, x); err != nil {
			return err
		}
	}
	if err := write(q, ctx, act.Workspace, x); err != nil {
		return err
	}
	if after != nil {
		return after()
	}
	return nil
}

// createRecord applies f to x (which carries the kind's defaults) and inserts it.
func createRecord[T any](s *Service, ctx context.Context, act model.Actor, k kind[T], x T, f Fields, prepare func(q store.Q, x *T) error) (T, error) {
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		x, err = createIn(s, ctx, q, act, k, x, f, prepare)
		return err
	})
	return x, err
}

// createIn is createRecord inside the caller's transaction.
func createIn[T any](s *Service, ctx context.Context, q store.Q, act model.Actor, k kind[T], x T, f Fields, prepare func(q store.Q, x *T) error) (T, error) {
	ws := act.Workspace
	if prepare != nil {
		if err := prepare(q, &x); err != nil {
			return x, err
		}
	}
	defs, err := s.customDefs(ctx, q, ws, k.obj)
	if err != nil {
		return x, err
	}
	if err := k.apply(&x, f, defs); err != nil {
		return x, err
	}
	if err := confine(act, k, nil, &x); err != nil {
		return x, err
	}
	// A partner links only to records it can see (store.ScopeOf).
	if err := k.check(s, ctx, q.Scoped(store.ScopeOf(act)), ws, &x); err != nil {
		return x, err
	}
	if err := routeAndWrite(s, ctx, q, act, k, nil, &x, k.create); err != nil {
		return x, err
	}
	if k.history != nil {
		if err := q.AddHistory(ctx, ws, k.obj, k.id(&x), "created", k.history(nil, &x, f), act.Label); err != nil {
			return x, err
		}
	}
	return x, tellWritten(s, ctx, q, act, k, nil, &x)
}

// updateRecord applies the partial change f to record id of the actor's workspace.
func updateRecord[T any](s *Service, ctx context.Context, act model.Actor, k kind[T], id int64, f Fields) (T, error) {
	var x T
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		x, err = updateIn(s, ctx, q, act, k, id, f)
		return err
	})
	return x, err
}

// updateIn is updateRecord inside the caller's transaction.
func updateIn[T any](s *Service, ctx context.Context, q store.Q, act model.Actor, k kind[T], id int64, f Fields) (T, error) {
	ws := act.Workspace
	// A record outside a partner's scope is not found, like another workspace's.
	sc := store.ScopeOf(act)
	x, err := k.get(q.Scoped(sc), ctx, ws, id)
	if err != nil {
		return x, err
	}
	before := x
	defs, err := s.customDefs(ctx, q, ws, k.obj)
	if err != nil {
		return x, err
	}
	if err := k.apply(&x, f, defs); err != nil {
		return x, err
	}
	if err := confine(act, k, &before, &x); err != nil {
		return x, err
	}
	if err := k.check(s, ctx, q.Scoped(sc), ws, &x); err != nil {
		return x, err
	}
	if err := routeAndWrite(s, ctx, q, act, k, &before, &x, k.update); err != nil {
		return x, err
	}
	if k.history != nil {
		if err := q.AddHistory(ctx, ws, k.obj, id, "updated", k.history(&before, &x, f), act.Label); err != nil {
			return x, err
		}
	}
	return x, tellWritten(s, ctx, q, act, k, &before, &x)
}

// confine keeps a partner's records its own: a record it creates (before is
// nil) without an owner is given to it, one it creates for someone else is
// refused, and it never changes a record's owner (it would give its leads away,
// or take someone else's).
func confine[T any](act model.Actor, k kind[T], before, x *T) error {
	sc := store.ScopeOf(act)
	if !sc.Confined() || k.owner == nil {
		return nil
	}
	o := k.owner(x)
	if before != nil {
		if !samePtr(*k.owner(before), *o) {
			return fe("owner_id", "a partner cannot change who owns a record")
		}
		return nil
	}
	switch {
	case *o == nil && sc.Owner > 0:
		id := sc.Owner
		*o = &id
	case *o == nil || **o != sc.Owner:
		return fe("owner_id", "a partner owns the records it creates: leave it empty or name yourself")
	}
	return nil
}

// change records before → after of one field in a history detail when it moved.
func change(detail map[string]any, field, before, after string) {
	if before != after {
		detail[field] = []string{before, after}
	}
}

// useWorkspaceCurrency defaults a new record's currency to its workspace's.
func useWorkspaceCurrency(ctx context.Context, ws int64, cur *string) func(q store.Q) error {
	return func(q store.Q) error {
		w, err := q.GetWorkspace(ctx, ws)
		if err != nil {
			return err
		}
		*cur = w.Currency
		return nil
	}
}

var accountKind = kind[model.Account]{
	obj: "account", get: store.Q.GetAccount, apply: applyAccount,
	check: func(s *Service, ctx context.Context, q store.Q, ws int64, a *model.Account) error {
		return s.checkOwner(ctx, q, ws, a.OwnerID)
	},
	create: store.Q.CreateAccount, update: store.Q.UpdateAccount,
	id: func(a *model.Account) int64 { return a.ID }, owner: func(a *model.Account) **int64 { return &a.OwnerID },
	history: func(before, _ *model.Account, f Fields) any {
		if before == nil {
			return nil
		}
		return keys(f)
	},
	route: func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, a *model.Account) (func() error, error) {
		if s.Router == nil {
			return nil, nil
		}
		why := "created"
		if before != nil {
			why = "updated"
		}
		if act.Label != "" {
			why += " by " + act.Label
		}
		after, err := s.Router.Route(ctx, q, act.Workspace, before, a, why)
		if err != nil || s.Segments == nil {
			return after, err
		}
		prev := ""
		if before != nil {
			prev = before.Segment
		}
		return func() error {
			if after != nil {
				if err := after(); err != nil {
					return err
				}
			}
			if a.Segment == "" || a.Segment == prev {
				return nil
			}
			return s.Segments.SegmentEntered(ctx, q, act.Workspace, a, prev)
		}, nil
	},
}

// CreateAccount validates and inserts an account.
func (s *Service) CreateAccount(ctx context.Context, act model.Actor, f Fields) (model.Account, error) {
	a := model.Account{Custom: model.Custom{}}
	return createRecord(s, ctx, act, accountKind, a, f, func(q store.Q, a *model.Account) error {
		return useWorkspaceCurrency(ctx, act.Workspace, &a.Currency)(q)
	})
}

// UpdateAccount applies a partial change.
func (s *Service) UpdateAccount(ctx context.Context, act model.Actor, id int64, f Fields) (model.Account, error) {
	return updateRecord(s, ctx, act, accountKind, id, f)
}

var contactKind = kind[model.Contact]{
	obj: "contact", get: store.Q.GetContact, apply: applyContact,
	check: func(s *Service, ctx context.Context, q store.Q, ws int64, c *model.Contact) error {
		if err := s.checkAccount(ctx, q, ws, c.AccountID, "account_id"); err != nil {
			return err
		}
		return s.checkOwner(ctx, q, ws, c.OwnerID)
	},
	create: store.Q.CreateContact, update: store.Q.UpdateContact,
	id: func(c *model.Contact) int64 { return c.ID }, owner: func(c *model.Contact) **int64 { return &c.OwnerID },
	history: func(before, after *model.Contact, f Fields) any {
		if before == nil {
			return nil
		}
		d := map[string]any{"fields": keys(f)}
		change(d, "lifecycle_stage", before.LifecycleStage, after.LifecycleStage)
		return d
	},
	route: contactHooks,
	written: func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, after *model.Contact) error {
		for _, h := range s.Written {
			if err := h.ContactWritten(ctx, q, act, before, after); err != nil {
				return err
			}
		}
		return nil
	},
}

// contactHooks runs assignMQL and then tells s.Lifecycle about a stage change,
// both after the write in the same transaction.
func contactHooks(s *Service, ctx context.Context, q store.Q, act model.Actor, before, c *model.Contact) (func() error, error) {
	mql, err := assignMQL(s, ctx, q, act, before, c)
	if err != nil {
		return nil, err
	}
	from := ""
	if before != nil {
		from = before.LifecycleStage
	}
	if s.Lifecycle == nil || from == c.LifecycleStage {
		return mql, nil
	}
	return func() error {
		if mql != nil {
			if err := mql(); err != nil {
				return err
			}
		}
		return s.Lifecycle.StageChanged(ctx, q, act.Workspace, c, from)
	}, nil
}

// assignMQL hands a contact that becomes an mql (created as one or moved to
// mql) to an LDR through s.MQL, after the write, in the same transaction. An
// owner chosen in the same change is kept. Nobody available leaves the contact
// unowned; either way its history says what happened.
func assignMQL(s *Service, ctx context.Context, q store.Q, act model.Actor, before, c *model.Contact) (func() error, error) {
	if s.MQL == nil || c.LifecycleStage != "mql" {
		return nil, nil
	}
	if before == nil && c.OwnerID != nil {
		return nil, nil
	}
	if before != nil && (before.LifecycleStage == "mql" || !samePtr(before.OwnerID, c.OwnerID)) {
		return nil, nil
	}
	return func() error {
		owner, action, detail, err := s.MQL.AssignMQL(ctx, q, act.Workspace, c, store.Now())
		if err != nil {
			return err
		}
		if owner != nil {
			if err := q.SetContactOwner(ctx, act.Workspace, c.ID, *owner); err != nil {
				return err
			}
			c.OwnerID = owner
		}
		return q.AddHistory(ctx, act.Workspace, "contact", c.ID, action, detail, act.Label)
	}, nil
}

func samePtr(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// CreateContact validates and inserts a contact.
func (s *Service) CreateContact(ctx context.Context, act model.Actor, f Fields) (model.Contact, error) {
	return createRecord(s, ctx, act, contactKind, model.Contact{LifecycleStage: "lead", Custom: model.Custom{}}, f, nil)
}

// CreateContactIn is CreateContact inside the caller's transaction (forms write
// the contact, its submission and what follows in one).
func (s *Service) CreateContactIn(ctx context.Context, q store.Q, act model.Actor, f Fields) (model.Contact, error) {
	return createIn(s, ctx, q, act, contactKind, model.Contact{LifecycleStage: "lead", Custom: model.Custom{}}, f, nil)
}

// UpdateContactIn is UpdateContact inside the caller's transaction.
func (s *Service) UpdateContactIn(ctx context.Context, q store.Q, act model.Actor, id int64, f Fields) (model.Contact, error) {
	return updateIn(s, ctx, q, act, contactKind, id, f)
}

// UpdateContact applies a partial change; a lifecycle change lands in history.
func (s *Service) UpdateContact(ctx context.Context, act model.Actor, id int64, f Fields) (model.Contact, error) {
	return updateRecord(s, ctx, act, contactKind, id, f)
}

var dealKind = kind[model.Deal]{
	obj: "deal", get: store.Q.GetDeal, apply: applyDeal,
	check: func(s *Service, ctx context.Context, q store.Q, ws int64, d *model.Deal) error {
		if err := s.checkAccount(ctx, q, ws, d.AccountID, "account_id"); err != nil {
			return err
		}
		if err := s.checkOwner(ctx, q, ws, d.OwnerID); err != nil {
			return err
		}
		return checkDealStage(ctx, q, ws, d)
	},
	create: store.Q.CreateDeal, update: store.Q.UpdateDeal,
	id: func(d *model.Deal) int64 { return d.ID }, owner: func(d *model.Deal) **int64 { return &d.OwnerID },
	history: func(before, after *model.Deal, f Fields) any {
		if before == nil {
			return map[string]any{"stage": after.Stage}
		}
		d := map[string]any{"fields": keys(f)}
		change(d, "stage", before.Stage, after.Stage)
		change(d, "outcome", before.Outcome, after.Outcome)
		return d
	},
	written: func(s *Service, ctx context.Context, q store.Q, act model.Actor, before, after *model.Deal) error {
		for _, h := range s.Written {
			if err := h.DealWritten(ctx, q, act, before, after); err != nil {
				return err
			}
		}
		return nil
	},
}

// CreateDeal validates and inserts a deal. A deal created past its pipeline's
// first stage without meeting the earlier stages' gates is kept and flagged
// needs_review (see dealGate).
func (s *Service) CreateDeal(ctx context.Context, act model.Actor, f Fields) (model.Deal, error) {
	k, f, err := gatedDealKind(act, f)
	if err != nil {
		return model.Deal{}, err
	}
	d := model.Deal{Custom: model.Custom{}}
	return createRecord(s, ctx, act, k, d, f, func(q store.Q, d *model.Deal) error {
		return useWorkspaceCurrency(ctx, act.Workspace, &d.Currency)(q)
	})
}

// CreateDealIn is CreateDeal inside the caller's transaction: forms open a
// raised hand's deal with the submission, through the same gates (a deal
// created past stages whose exit criteria it does not meet is flagged
// needs_review with the unmet gates as the reason) and stage history.
func (s *Service) CreateDealIn(ctx context.Context, q store.Q, act model.Actor, f Fields) (model.Deal, error) {
	k, f, err := gatedDealKind(act, f)
	if err != nil {
		return model.Deal{}, err
	}
	d := model.Deal{Custom: model.Custom{}}
	return createIn(s, ctx, q, act, k, d, f, func(q store.Q, d *model.Deal) error {
		return useWorkspaceCurrency(ctx, act.Workspace, &d.Currency)(q)
	})
}

// UpdateDeal applies a partial change; stage and outcome changes land in history.
// A move forward past a stage whose exit criteria the deal does not meet is
// refused with *model.GateError unless an admin gives override_reason.
func (s *Service) UpdateDeal(ctx context.Context, act model.Actor, id int64, f Fields) (model.Deal, error) {
	var d model.Deal
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		d, err = s.UpdateDealIn(ctx, q, act, id, f)
		return err
	})
	return d, err
}

// UpdateDealIn is UpdateDeal inside the caller's transaction: automation (the
// nurture engine, jobs) sets deal fields through it and meets the same gates.
func (s *Service) UpdateDealIn(ctx context.Context, q store.Q, act model.Actor, id int64, f Fields) (model.Deal, error) {
	k, f, err := gatedDealKind(act, f)
	if err != nil {
		return model.Deal{}, err
	}
	return updateIn(s, ctx, q, act, k, id, f)
}

// Activities are themselves the history of their records: they keep none of their own.
var activityKind = kind[model.Activity]{
	obj: "activity", get: store.Q.GetActivity, apply: applyActivity,
	check:  (*Service).checkActivityLinks,
	create: store.Q.CreateActivity, update: store.Q.UpdateActivity,
	id: func(a *model.Activity) int64 { return a.ID }, owner: func(a *model.Activity) **int64 { return &a.OwnerID },
}

// CreateActivity validates and inserts an activity.
func (s *Service) CreateActivity(ctx context.Context, act model.Actor, f Fields) (model.Activity, error) {
	return createRecord(s, ctx, act, activityKind, model.Activity{Custom: model.Custom{}, Participants: []string{}}, f, nil)
}

// UpdateActivity applies a partial change.
func (s *Service) UpdateActivity(ctx context.Context, act model.Actor, id int64, f Fields) (model.Activity, error) {
	return updateRecord(s, ctx, act, activityKind, id, f)
}
