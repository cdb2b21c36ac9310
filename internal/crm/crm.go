// Package crm owns the B2B record model's rules: which fields a client may set, how
// they are normalised and validated, that references stay inside the workspace, and
// that merges and deletes leave history and an audit trail. The API, the UI and the
// importer all create and change records through it.
package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Service applies the record rules on top of the store.
type Service struct {
	St *store.Store
	// Router, when set, decides each created or updated account's segment and
	// motion in the same transaction (internal/routing); nil leaves them as given.
	Router Router
	// MQL, when set, hands a contact whose lifecycle stage becomes mql to an LDR
	// in the same transaction (internal/assignment); nil leaves it unowned.
	MQL MQLAssigner
	// Lifecycle, when set, hears every contact's lifecycle stage change (and the
	// stage of a new contact) in the same transaction, after the write
	// (internal/sequences enrols and exits on it).
	Lifecycle LifecycleHook
	// Segments, when set, hears an account routed into a segment in the same
	// transaction, after the routing decision is recorded.
	Segments SegmentHook
	// Won hooks hear, in the write transaction and after the write, that a deal
	// written through crm became won (created won, or its outcome moved to won).
	// Customer success opens the subscription and the CSM handoff from here.
	Won []WonHook
	// Merged hooks hear, in the merge transaction, that account loserID was
	// folded into winnerID (subscriptions derive the winner's MRR movements again).
	Merged []MergeHook
	// Written hooks hear, in the write transaction and after the write and its
	// history, every contact and deal created or updated through crm (before
	// is nil for a create). Outgoing webhooks emit from here.
	Written []WriteHook
}

// MergeHook is told, inside the merge transaction and after it, that the
// account loserID was merged into winnerID.
type MergeHook interface {
	AccountsMerged(ctx context.Context, q store.Q, act model.Actor, winnerID, loserID int64) error
}

// WriteHook is told, inside the write transaction, that a contact or a deal
// was written through crm.
type WriteHook interface {
	ContactWritten(ctx context.Context, q store.Q, act model.Actor, before, after *model.Contact) error
	DealWritten(ctx context.Context, q store.Q, act model.Actor, before, after *model.Deal) error
}

// WonHook is told, inside the write transaction, that deal d was just won.
type WonHook interface {
	DealWon(ctx context.Context, q store.Q, act model.Actor, d *model.Deal) error
}

// LifecycleHook is told, inside the write transaction, that contact c moved
// from stage from ("" for a new contact) to c.LifecycleStage.
type LifecycleHook interface {
	StageChanged(ctx context.Context, q store.Q, ws int64, c *model.Contact, from string) error
}

// SegmentHook is told, inside the write transaction, that account a was routed
// into a.Segment (from prev, "" for a new account).
type SegmentHook interface {
	SegmentEntered(ctx context.Context, q store.Q, ws int64, a *model.Account, prev string) error
}

// MQLAssigner assigns a contact that just became an MQL inside a write
// transaction. It does not write the contact: it returns the chosen owner (nil
// when nobody could take it) and the contact history entry that says what it did
// or why it could not. Only store errors are errors; nobody available is not.
type MQLAssigner interface {
	AssignMQL(ctx context.Context, q store.Q, ws int64, c *model.Contact, now time.Time) (owner *int64, action string, detail map[string]any, err error)
}

// MQLBatchAssigner is an MQLAssigner that prepares for many new MQLs of ws in
// one transaction (an import batch): the assigner it returns gives each the
// answer AssignMQL would, reading what it can once for all of them.
type MQLBatchAssigner interface {
	MQLAssigner
	ForBatch(ctx context.Context, q store.Q, ws int64) (MQLAssigner, error)
}

// Router decides an account's segment and motion inside a write transaction. Route
// runs after a client's fields are applied and before the account is written; prev
// is the stored account (nil for a new one). The function it returns, when not nil,
// runs after the write, when a has its id, to record the decision.
type Router interface {
	Route(ctx context.Context, q store.Q, ws int64, prev, a *model.Account, why string) (after func() error, err error)
}

// Fields is a partial record as decoded from JSON or a form: only present keys change.
type Fields map[string]any

func (s *Service) customDefs(ctx context.Context, q store.Q, ws int64, obj string) ([]model.CustomField, error) {
	return q.CustomFields(ctx, ws, obj)
}

// CustomTypes maps custom field key → type for list filters.
func (s *Service) CustomTypes(ctx context.Context, ws int64, obj string) (map[string]string, error) {
	defs, err := s.St.Read().CustomFields(ctx, ws, obj)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(defs))
	for _, d := range defs {
		m[d.Key] = d.Type
	}
	return m, nil
}

func unknownField(k string) error { return fe(k, "unknown field") }

func (s *Service) checkAccount(ctx context.Context, q store.Q, ws int64, id *int64, field string) error {
	if id == nil {
		return nil
	}
	if _, err := q.GetAccount(ctx, ws, *id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fe(field, "no account %d", *id)
		}
		return err
	}
	return nil
}

func (s *Service) checkOwner(ctx context.Context, q store.Q, ws int64, id *int64) error {
	if id == nil {
		return nil
	}
	if _, err := q.Membership(ctx, ws, *id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fe("owner_id", "user %d is not a member of this workspace", *id)
		}
		return err
	}
	return nil
}

// applyAccount sets f onto a. Read-only fields (id, timestamps) are refused so a
// client learns its payload was not what it thought.
func applyAccount(a *model.Account, f Fields, defs []model.CustomField) error {
	var err error
	for k, v := range f {
		switch k {
		case "name":
			a.Name, err = asString(k, v, 300)
		case "external_id":
			a.ExternalID, err = asString(k, v, 200)
		case "domain":
			var s string
			if s, err = asString(k, v, 300); err == nil {
				if a.Domain, err = NormalizeDomain(s); err != nil {
					err = fe(k, "%s", err.Error())
				}
			}
		case "employees":
			a.Employees, err = asNonNegInt(k, v)
		case "annual_revenue":
			a.AnnualRevenue, err = asNonNegInt(k, v)
		case "budget":
			a.Budget, err = asNonNegInt(k, v)
		case "currency":
			a.Currency, err = asCurrency(k, v)
		case "industry":
			a.Industry, err = asString(k, v, 200)
		case "region":
			a.Region, err = asString(k, v, 200)
		case "owner_id":
			a.OwnerID, err = asID(k, v)
		case "segment":
			a.Segment, err = asString(k, v, 64)
		case "motion":
			a.Motion, err = asEnum(k, v, model.Motions, true)
		case "custom":
			err = applyCustom(a.Custom, v, defs)
		default:
			err = unknownField(k)
		}
		if err != nil {
			return err
		}
	}
	if a.Name == "" {
		return fe("name", "is required")
	}
	return nil
}

func applyContact(c *model.Contact, f Fields, defs []model.CustomField) error {
	var err error
	for k, v := range f {
		switch k {
		case "email":
			var s string
			if s, err = asString(k, v, 320); err == nil {
				if c.Email, err = NormalizeEmail(s); err != nil {
					err = fe(k, "%s", err.Error())
				}
			}
		case "external_id":
			c.ExternalID, err = asString(k, v, 200)
		case "first_name":
			c.FirstName, err = asString(k, v, 200)
		case "last_name":
			c.LastName, err = asString(k, v, 200)
		case "title":
			c.Title, err = asString(k, v, 200)
		case "phone":
			c.Phone, err = asString(k, v, 64)
		case "account_id":
			c.AccountID, err = asID(k, v)
		case "lifecycle_stage":
			c.LifecycleStage, err = asEnum(k, v, model.LifecycleStages, false)
		case "owner_id":
			c.OwnerID, err = asID(k, v)
		case "source":
			c.Source, err = asString(k, v, 200)
		case "utm_source":
			c.UTMSource, err = asString(k, v, 200)
		case "utm_medium":
			c.UTMMedium, err = asString(k, v, 200)
		case "utm_campaign":
			c.UTMCampaign, err = asString(k, v, 200)
		case "consent_basis":
			c.ConsentBasis, err = asEnum(k, v, []string{"consent", "legitimate_interest", "contract", "none"}, true)
		case "consent_source":
			c.ConsentSource, err = asString(k, v, 200)
		case "consent_at":
			c.ConsentAt, err = asTime(k, v)
		case "custom":
			err = applyCustom(c.Custom, v, defs)
		default:
			err = unknownField(k)
		}
		if err != nil {
			return err
		}
	}
	if c.Email == "" {
		return fe("email", "is required")
	}
	return nil
}

func applyDeal(d *model.Deal, f Fields, defs []model.CustomField) error {
	var err error
	for k, v := range f {
		switch k {
		case "name":
			d.Name, err = asString(k, v, 300)
		case "external_id":
			d.ExternalID, err = asString(k, v, 200)
		case "account_id":
			d.AccountID, err = asID(k, v)
		case "amount":
			var n *int64
			if n, err = asNonNegInt(k, v); err == nil {
				d.Amount = 0
				if n != nil {
					d.Amount = *n
				}
			}
		case "currency":
			d.Currency, err = asCurrency(k, v)
		case "pipeline":
			// Checked against the workspace's pipelines in checkDealStage.
			d.Pipeline, err = asString(k, v, 64)
		case "stage":
			d.Stage, err = asString(k, v, 64)
			d.Stage = strings.ToLower(d.Stage)
		case "owner_id":
			d.OwnerID, err = asID(k, v)
		case "expected_close_date":
			d.ExpectedCloseDate, err = asDate(k, v)
		case "outcome":
			d.Outcome, err = asEnum(k, v, model.Outcomes, true)
		case "loss_reason":
			d.LossReason, err = asString(k, v, 500)
		case "closed_at":
			d.ClosedAt, err = asTime(k, v)
		case "needs_review":
			// Set by re-routing; a client clears it once the deal is reviewed.
			if d.NeedsReview, err = asBool(k, v); err == nil && !d.NeedsReview {
				d.ReviewReason = ""
			}
		case "custom":
			err = applyCustom(d.Custom, v, defs)
		default:
			err = unknownField(k)
		}
		if err != nil {
			return err
		}
	}
	if d.Name == "" {
		return fe("name", "is required")
	}
	if d.Pipeline == "" {
		return fe("pipeline", "is required (high_touch or digital)")
	}
	if d.Outcome != "" && d.ClosedAt == nil {
		now := store.Now()
		d.ClosedAt = &now
	}
	if d.Outcome == "" {
		d.ClosedAt = nil
		d.LossReason = ""
	}
	if d.Outcome == "won" {
		d.LossReason = ""
	}
	return nil
}

func applyActivity(a *model.Activity, f Fields, defs []model.CustomField) error {
	var err error
	for k, v := range f {
		switch k {
		case "kind":
			a.Kind, err = asEnum(k, v, model.ActivityKinds, false)
		case "external_id":
			a.ExternalID, err = asString(k, v, 200)
		case "subject":
			a.Subject, err = asString(k, v, 500)
		case "body":
			a.Body, err = asString(k, v, 20000)
		case "occurred_at":
			var t *time.Time
			if t, err = asTime(k, v); err == nil && t != nil {
				a.OccurredAt = *t
			}
		case "duration_minutes":
			var n *int64
			if n, err = asNonNegInt(k, v); err == nil {
				a.DurationMinutes = 0
				if n != nil {
					a.DurationMinutes = *n
				}
			}
		case "owner_id":
			a.OwnerID, err = asID(k, v)
		case "contact_id":
			a.ContactID, err = asID(k, v)
		case "account_id":
			a.AccountID, err = asID(k, v)
		case "deal_id":
			a.DealID, err = asID(k, v)
		case "participants":
			a.Participants, err = asStrings(k, v)
		case "custom":
			err = applyCustom(a.Custom, v, defs)
		default:
			err = unknownField(k)
		}
		if err != nil {
			return err
		}
	}
	if a.Kind == "" {
		return fe("kind", "is required (%s)", strings.Join(model.ActivityKinds, ", "))
	}
	if a.OccurredAt.IsZero() {
		a.OccurredAt = store.Now()
	}
	return nil
}

func asStrings(field string, v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case string:
		var out []string
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fe(fmt.Sprintf("%s[%d]", field, i), "must be a string")
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	return nil, fe(field, "must be a list of strings")
}

func (s *Service) checkActivityLinks(ctx context.Context, q store.Q, ws int64, a *model.Activity) error {
	if err := s.checkAccount(ctx, q, ws, a.AccountID, "account_id"); err != nil {
		return err
	}
	if a.ContactID != nil {
		if _, err := q.GetContact(ctx, ws, *a.ContactID); errors.Is(err, store.ErrNotFound) {
			return fe("contact_id", "no contact %d", *a.ContactID)
		} else if err != nil {
			return err
		}
	}
	if a.DealID != nil {
		if _, err := q.GetDeal(ctx, ws, *a.DealID); errors.Is(err, store.ErrNotFound) {
			return fe("deal_id", "no deal %d", *a.DealID)
		} else if err != nil {
			return err
		}
	}
	return s.checkOwner(ctx, q, ws, a.OwnerID)
}

// Delete removes one record of kind ("account", "contact", "deal", "activity") and
// audits it.
func (s *Service) Delete(ctx context.Context, act model.Actor, kind string, id int64) error {
	ws := act.Workspace
	return s.St.InTx(ctx, func(q store.Q) error {
		if err := visible(ctx, q, act, kind, id); err != nil {
			return err
		}
		var err error
		switch kind {
		case "account":
			err = q.DeleteAccount(ctx, ws, id)
		case "contact":
			err = q.DeleteContact(ctx, ws, id)
		case "deal":
			err = q.DeleteDeal(ctx, ws, id)
		case "activity":
			err = q.DeleteActivity(ctx, ws, id)
		default:
			return fmt.Errorf("crm: delete: unknown kind %q", kind)
		}
		if err != nil {
			return err
		}
		return Audit(ctx, q, act, "delete", kind, &id, nil)
	})
}

// visible answers store.ErrNotFound when a record of kind is outside a
// partner's scope (the routes that delete and merge are not a partner's, but
// the service does not rely on that).
func visible(ctx context.Context, q store.Q, act model.Actor, kind string, ids ...int64) error {
	sc := store.ScopeOf(act)
	if !sc.Confined() {
		return nil
	}
	q = q.Scoped(sc)
	for _, id := range ids {
		var err error
		switch kind {
		case "account":
			_, err = q.GetAccount(ctx, act.Workspace, id)
		case "contact":
			_, err = q.GetContact(ctx, act.Workspace, id)
		case "deal":
			_, err = q.GetDeal(ctx, act.Workspace, id)
		case "activity":
			_, err = q.GetActivity(ctx, act.Workspace, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// MergeContacts folds loserID into winnerID and audits it.
func (s *Service) MergeContacts(ctx context.Context, act model.Actor, winnerID, loserID int64) (model.Contact, error) {
	var c model.Contact
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := visible(ctx, q, act, "contact", winnerID, loserID); err != nil {
			return err
		}
		var err error
		if c, err = q.MergeContacts(ctx, act.Workspace, winnerID, loserID, act.Label); err != nil {
			return err
		}
		return Audit(ctx, q, act, "merge", "contact", &winnerID, map[string]any{"merged_id": loserID})
	})
	return c, err
}

// MergeAccounts folds loserID into winnerID and audits it.
func (s *Service) MergeAccounts(ctx context.Context, act model.Actor, winnerID, loserID int64) (model.Account, error) {
	var a model.Account
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := visible(ctx, q, act, "account", winnerID, loserID); err != nil {
			return err
		}
		var err error
		if a, err = q.MergeAccounts(ctx, act.Workspace, winnerID, loserID, act.Label); err != nil {
			return err
		}
		for _, h := range s.Merged {
			if err := h.AccountsMerged(ctx, q, act, winnerID, loserID); err != nil {
				return err
			}
		}
		return Audit(ctx, q, act, "merge", "account", &winnerID, map[string]any{"merged_id": loserID})
	})
	return a, err
}

// CreateCustomField defines a custom field.
func (s *Service) CreateCustomField(ctx context.Context, act model.Actor, f Fields) (model.CustomField, error) {
	var cf model.CustomField
	var err error
	for k, v := range f {
		switch k {
		case "object_type":
			cf.ObjectType, err = asEnum(k, v, model.ObjectTypes, false)
		case "key":
			cf.Key, err = asString(k, v, 63)
			if err == nil && !store.ValidCustomKey(cf.Key) {
				err = fe(k, "must start with a-z and use only a-z, 0-9 and _")
			}
		case "label":
			cf.Label, err = asString(k, v, 200)
		case "type":
			cf.Type, err = asEnum(k, v, model.CustomFieldTypes, false)
		case "options":
			cf.Options, err = asStrings(k, v)
		default:
			err = unknownField(k)
		}
		if err != nil {
			return cf, err
		}
	}
	switch {
	case cf.ObjectType == "":
		return cf, fe("object_type", "is required")
	case cf.Key == "":
		return cf, fe("key", "is required")
	case cf.Type == "":
		return cf, fe("type", "is required")
	case cf.Type == "enum" && len(cf.Options) == 0:
		return cf, fe("options", "an enum needs at least one option")
	}
	if cf.Label == "" {
		cf.Label = cf.Key
	}
	err = s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreateCustomField(ctx, act.Workspace, &cf); err != nil {
			return err
		}
		return Audit(ctx, q, act, "custom_field_create", "custom_field", &cf.ID, map[string]any{"key": cf.Key, "object_type": cf.ObjectType})
	})
	return cf, err
}

// DeleteCustomField removes a definition and audits it.
func (s *Service) DeleteCustomField(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		if err := q.DeleteCustomField(ctx, act.Workspace, id); err != nil {
			return err
		}
		return Audit(ctx, q, act, "custom_field_delete", "custom_field", &id, nil)
	})
}

// Audit writes an audit entry for act.
func Audit(ctx context.Context, q store.Q, act model.Actor, action, targetType string, targetID *int64, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		raw, _ = json.Marshal(detail)
	}
	ws := act.Workspace
	var wsp *int64
	if ws != 0 {
		wsp = &ws
	}
	return q.Audit(ctx, model.AuditEntry{WorkspaceID: wsp, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: action, TargetType: targetType, TargetID: targetID, Detail: raw, IP: act.IP})
}

func keys(f Fields) []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	return out
}
