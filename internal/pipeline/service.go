package pipeline

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

// Service reads and saves pipelines and buying committees.
type Service struct {
	St *store.Store
	// Now is the clock (tests inject one); nil means store.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return store.Now()
}

// Set is a workspace's pipelines as the API shows and saves them.
type Set struct {
	Pipelines []model.PipelineDef `json:"pipelines"`
	// Default is true when the workspace stored none and uses Defaults.
	Default bool `json:"default"`
}

// Get returns the pipelines of ws.
func (s *Service) Get(ctx context.Context, ws int64) (Set, error) {
	ps, def, err := Load(ctx, s.St.Read(), ws)
	return Set{Pipelines: ps, Default: def}, err
}

// Save validates and stores ps as the pipelines of the actor's workspace, audited.
// An empty list returns the workspace to the defaults. Deals in a stage that no
// longer exists keep it; they are refused on their next write until moved.
func (s *Service) Save(ctx context.Context, act model.Actor, ps []model.PipelineDef) (Set, error) {
	ws := act.Workspace
	err := s.St.InTx(ctx, func(q store.Q) error {
		if len(ps) > 0 {
			defs, err := q.CustomFields(ctx, ws, "deal")
			if err != nil {
				return err
			}
			types := map[string]string{}
			for _, d := range defs {
				types[d.Key] = d.Type
			}
			if ps, err = Validate(ps, types); err != nil {
				return err
			}
			if err := keepRouted(ctx, q, ws, ps); err != nil {
				return err
			}
		}
		if err := q.ReplacePipelines(ctx, ws, ps); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"pipelines": Keys(ps)})
		return q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "pipelines_update", TargetType: "pipelines", Detail: detail, IP: act.IP})
	})
	if err != nil {
		return Set{}, err
	}
	return s.Get(ctx, ws)
}

// Committee lists a deal's buying committee (ErrNotFound for a deal outside ws).
func (s *Service) Committee(ctx context.Context, ws, dealID int64) ([]model.CommitteeMember, error) {
	q := s.St.Read()
	if _, err := q.GetDeal(ctx, ws, dealID); err != nil {
		return nil, err
	}
	return q.Committee(ctx, ws, dealID)
}

// MemberInput is a change to one committee member; nil fields keep their value
// (a new member defaults to signoff pending; role is required for one).
type MemberInput struct {
	Role    *string `json:"role"`
	Signoff *string `json:"signoff"`
	Note    *string `json:"note"`
}

// PutMember adds a contact to a deal's committee or changes its role, sign-off
// or note. A changed sign-off is stamped with the time and the actor, and lands
// in the deal's history. A deal or contact outside ws is ErrNotFound.
func (s *Service) PutMember(ctx context.Context, act model.Actor, dealID, contactID int64, in MemberInput) (model.CommitteeMember, error) {
	ws := act.Workspace
	var out model.CommitteeMember
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := q.GetDeal(ctx, ws, dealID); err != nil {
			return err
		}
		c, err := q.GetContact(ctx, ws, contactID)
		if err != nil {
			return err
		}
		m, err := q.GetCommitteeMember(ctx, ws, dealID, contactID)
		isNew := errors.Is(err, store.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		before := m
		if isNew {
			m = model.CommitteeMember{DealID: dealID, ContactID: contactID, Signoff: "pending"}
			if in.Role == nil {
				return fe("role", "is required to add a contact to the committee (%s)", strings.Join(model.CommitteeRoles, ", "))
			}
		}
		if in.Role != nil {
			r := strings.ToLower(strings.TrimSpace(*in.Role))
			if !model.Contains(model.CommitteeRoles, r) {
				return fe("role", "%q is not one of %s", *in.Role, strings.Join(model.CommitteeRoles, ", "))
			}
			m.Role = r
		}
		if in.Signoff != nil {
			so := strings.ToLower(strings.TrimSpace(*in.Signoff))
			if !model.Contains(model.SignoffStates, so) {
				return fe("signoff", "%q is not one of %s", *in.Signoff, strings.Join(model.SignoffStates, ", "))
			}
			if so != m.Signoff || isNew {
				m.Signoff = so
				now := s.now()
				m.SignoffAt, m.RecordedBy = &now, act.Label
				if so == "pending" {
					m.SignoffAt = nil
				}
			}
		}
		if in.Note != nil {
			if len(*in.Note) > 2000 {
				return fe("note", "is longer than 2000 characters")
			}
			m.Note = strings.TrimSpace(*in.Note)
		}
		if err := q.PutCommitteeMember(ctx, ws, &m); err != nil {
			return err
		}
		name := strings.TrimSpace(c.FirstName + " " + c.LastName)
		if name == "" {
			name = c.Email
		}
		detail := map[string]any{"contact_id": contactID, "contact": name, "role": m.Role, "signoff": m.Signoff}
		if !isNew && before.Signoff != m.Signoff {
			detail["signoff"] = []string{before.Signoff, m.Signoff}
		}
		if err := q.AddHistory(ctx, ws, "deal", dealID, "committee", detail, act.Label); err != nil {
			return err
		}
		out, err = q.GetCommitteeMember(ctx, ws, dealID, contactID)
		return err
	})
	return out, err
}

// RemoveMember takes a contact off a deal's committee.
func (s *Service) RemoveMember(ctx context.Context, act model.Actor, dealID, contactID int64) error {
	ws := act.Workspace
	return s.St.InTx(ctx, func(q store.Q) error {
		if _, err := q.GetDeal(ctx, ws, dealID); err != nil {
			return err
		}
		if err := q.DeleteCommitteeMember(ctx, ws, dealID, contactID); err != nil {
			return err
		}
		return q.AddHistory(ctx, ws, "deal", dealID, "committee_removed", map[string]any{"contact_id": contactID}, act.Label)
	})
}

// Checklist is the deal page's gate panel: the current stage, what leaving it
// takes and what is missing, the stay history and staleness.
type Checklist struct {
	Pipeline     model.PipelineDef
	Stage        model.StageDef
	Next         string // the next stage's name ("" at the last stage)
	Unmet        []model.Unmet
	History      []model.StageStay
	InStageSince time.Time
	DaysInStage  int
	LastActivity *time.Time
	Stale        bool
	Committee    []model.CommitteeMember
	Known        bool // false when the deal's stage is not in its pipeline any more
}

// DealChecklist builds the checklist of deal d.
func (s *Service) DealChecklist(ctx context.Context, ws int64, d model.Deal) (Checklist, error) {
	q := s.St.Read()
	var c Checklist
	ps, _, err := Load(ctx, q, ws)
	if err != nil {
		return c, err
	}
	f, err := LoadFacts(ctx, q, ws, d.ID)
	if err != nil {
		return c, err
	}
	c.Committee = f.Committee
	if c.History, err = q.StageHistory(ctx, ws, d.ID); err != nil {
		return c, err
	}
	if c.LastActivity, err = q.LastDealActivity(ctx, ws, d.ID); err != nil {
		return c, err
	}
	c.InStageSince = d.CreatedAt
	if n := len(c.History); n > 0 && c.History[n-1].LeftAt == nil {
		c.InStageSince = c.History[n-1].EnteredAt
	}
	now := s.now()
	c.DaysInStage = DaysBetween(c.InStageSince, now)
	p, ok := Find(ps, d.Pipeline)
	if !ok {
		return c, nil
	}
	c.Pipeline = p
	i := p.Index(d.Stage)
	if i < 0 {
		return c, nil
	}
	c.Known, c.Stage = true, p.Stages[i]
	if i+1 < len(p.Stages) {
		c.Next = p.Stages[i+1].Name
	}
	c.Unmet = StageUnmet(c.Stage, &d, f)
	c.Stale = d.Outcome == "" && IsStale(c.Stage, c.InStageSince, c.LastActivity, now)
	return c, nil
}

// DaysBetween counts whole days from a to b (0 when b is before a).
func DaysBetween(a, b time.Time) int {
	if b.Before(a) {
		return 0
	}
	return int(b.Sub(a) / (24 * time.Hour))
}

// IsStale reports whether a deal in stage s has had no activity for the stage's
// StaleDays: counted from the newest activity, or from entering the stage when
// that is later (a deal that just moved is not stale) or there is none.
func IsStale(s model.StageDef, inStageSince time.Time, last *time.Time, now time.Time) bool {
	if s.StaleDays <= 0 {
		return false
	}
	since := inStageSince
	if last != nil && last.After(since) {
		since = *last
	}
	return DaysBetween(since, now) >= s.StaleDays
}

// ErrOverrideForbidden answers a gate override by someone who is not an admin.
var ErrOverrideForbidden = errors.New("only an admin may override stage gates")

// OverrideField is the deal write field carrying an admin's override reason.
const OverrideField = "override_reason"

func overrideDetail(from, to string, reason string, unmet []model.Unmet) map[string]any {
	return map[string]any{"from": from, "to": to, "reason": reason, "unmet": unmet}
}

// AuditOverride records an admin's override in the audit log and the deal history.
func AuditOverride(ctx context.Context, q store.Q, act model.Actor, d *model.Deal, from, reason string, unmet []model.Unmet) error {
	ws := act.Workspace
	detail := overrideDetail(from, d.Stage, reason, unmet)
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("pipeline: override detail: %w", err)
	}
	if err := q.Audit(ctx, model.AuditEntry{WorkspaceID: &ws, UserID: act.UserID, APIKeyID: act.APIKeyID, Action: "deal_gate_override", TargetType: "deal", TargetID: &d.ID, Detail: b, IP: act.IP}); err != nil {
		return err
	}
	return q.AddHistory(ctx, ws, "deal", d.ID, "gate_override", detail, act.Label)
}

// keepRouted refuses a pipeline list that drops a pipeline a stored routing
// rule sends deals to (Validate already keeps each motion's own pipeline, which
// the default rules use). Without this, routed leads would reach the desk with
// nowhere to open their deal.
func keepRouted(ctx context.Context, q store.Q, ws int64, ps []model.PipelineDef) error {
	rules, err := q.RoutingRules(ctx, ws)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if _, ok := Find(ps, r.Pipeline); !ok {
			return fe("pipelines", "routing rule %d sends the %s motion to the %q pipeline; keep it, or change that rule first", r.Position, r.Motion, r.Pipeline)
		}
	}
	return nil
}
