package assignment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Pool administration for the API and the settings pages: both call these
// methods, so a pool saved in the UI is validated exactly like one sent to the
// API. Every write is audited.

// Limits that keep a pool readable.
const (
	maxPoolName   = 100
	maxTeam       = 64
	maxTerritory  = 50
	maxTerritoryV = 100
	maxSLAMinutes = 60 * 24 * 30 // a month of business minutes is already no SLA
)

// Motions are the motions an SLA can be set for, in display order.
var Motions = []string{Digital, HighTouch}

// Member is a pool member with the email a person recognises.
type Member struct {
	model.PoolMember
	Email string `json:"email"`
}

// PoolDetail is a pool with its members and their load over the last 30 days.
type PoolDetail struct {
	model.Pool
	Members []Member `json:"members"`
}

// PoolPatch changes the fields it sets; nil fields keep their value.
type PoolPatch struct {
	Name       *string   `json:"name"`
	Role       *string   `json:"role"`
	Team       *string   `json:"team"`
	Regions    *[]string `json:"regions"`
	Industries *[]string `json:"industries"`
	Capacity   *int      `json:"capacity"`
}

// MemberInput is what an upsert of a pool member sets. Active nil means true:
// a rep added to a pool takes work unless told otherwise.
type MemberInput struct {
	Active           *bool
	OutOfOfficeUntil *time.Time
	Regions          []string
	Industries       []string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ValidatePool checks and normalises a pool (trimmed name and team, territory
// lists without blanks or duplicates); errors name the field.
func ValidatePool(p *model.Pool) error {
	p.Name = strings.TrimSpace(p.Name)
	p.Role = strings.ToLower(strings.TrimSpace(p.Role))
	p.Team = strings.TrimSpace(p.Team)
	switch {
	case p.Name == "":
		return &store.FieldError{Field: "name", Message: "is required"}
	case len(p.Name) > maxPoolName:
		return &store.FieldError{Field: "name", Message: fmt.Sprintf("at most %d characters", maxPoolName)}
	case p.Role == "":
		return &store.FieldError{Field: "role", Message: "is required (ldr, ae or csm)"}
	case p.Role != model.RoleLDR && p.Role != model.RoleAE && p.Role != model.RoleCSM:
		return &store.FieldError{Field: "role", Message: fmt.Sprintf("%q is not ldr, ae or csm", p.Role)}
	case len(p.Team) > maxTeam:
		return &store.FieldError{Field: "team", Message: fmt.Sprintf("at most %d characters", maxTeam)}
	case p.Capacity < 1:
		// The schema requires a positive capacity; a pool that should take
		// nothing has its members set inactive instead.
		return &store.FieldError{Field: "capacity", Message: "must be at least 1 open item per rep over 30 days"}
	}
	var err error
	if p.Regions, err = territory("regions", p.Regions); err != nil {
		return err
	}
	p.Industries, err = territory("industries", p.Industries)
	return err
}

func territory(field string, in []string) ([]string, error) {
	out := []string{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" || slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, v) }) {
			continue
		}
		if len(v) > maxTerritoryV {
			return nil, &store.FieldError{Field: field, Message: fmt.Sprintf("%q is longer than %d characters", v, maxTerritoryV)}
		}
		out = append(out, v)
	}
	if len(out) > maxTerritory {
		return nil, &store.FieldError{Field: field, Message: fmt.Sprintf("at most %d values", maxTerritory)}
	}
	return out, nil
}

// PoolDetails lists the pools of ws with their members.
func (s *Service) PoolDetails(ctx context.Context, ws int64) ([]PoolDetail, error) {
	q := s.St.Read()
	pools, err := q.Pools(ctx, ws, "", "")
	if err != nil {
		return nil, err
	}
	emails, err := memberEmails(ctx, q, ws)
	if err != nil {
		return nil, err
	}
	out := make([]PoolDetail, 0, len(pools))
	for _, p := range pools {
		d, err := s.detail(ctx, q, ws, p, emails)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// PoolDetail returns one pool of ws with its members; a foreign or missing id
// is store.ErrNotFound.
func (s *Service) PoolDetail(ctx context.Context, ws, id int64) (PoolDetail, error) {
	q := s.St.Read()
	p, err := q.GetPool(ctx, ws, id)
	if err != nil {
		return PoolDetail{}, err
	}
	emails, err := memberEmails(ctx, q, ws)
	if err != nil {
		return PoolDetail{}, err
	}
	return s.detail(ctx, q, ws, p, emails)
}

func memberEmails(ctx context.Context, q store.Q, ws int64) (map[int64]string, error) {
	ms, err := q.WorkspaceMembers(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(ms))
	for _, m := range ms {
		out[m.UserID] = m.UserEmail
	}
	return out, nil
}

func (s *Service) detail(ctx context.Context, q store.Q, ws int64, p model.Pool, emails map[int64]string) (PoolDetail, error) {
	ms, err := q.PoolMembers(ctx, ws, p.ID, s.now().Add(-Window))
	if err != nil {
		return PoolDetail{}, err
	}
	d := PoolDetail{Pool: p, Members: make([]Member, 0, len(ms))}
	for _, m := range ms {
		d.Members = append(d.Members, Member{PoolMember: m, Email: emails[m.UserID]})
	}
	return d, nil
}

// CreatePool validates and stores a new pool in the actor's workspace.
func (s *Service) CreatePool(ctx context.Context, act model.Actor, p model.Pool) (model.Pool, error) {
	if err := ValidatePool(&p); err != nil {
		return model.Pool{}, err
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.CreatePool(ctx, act.Workspace, &p); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "pool_create", "pool", &p.ID, map[string]any{"name": p.Name, "role": p.Role, "team": p.Team, "capacity": p.Capacity})
	})
	return p, err
}

// UpdatePool applies patch to a pool of the actor's workspace.
func (s *Service) UpdatePool(ctx context.Context, act model.Actor, id int64, patch PoolPatch) (model.Pool, error) {
	var p model.Pool
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		if p, err = q.GetPool(ctx, act.Workspace, id); err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.Name, patch.Name)
		set(&p.Role, patch.Role)
		set(&p.Team, patch.Team)
		if patch.Regions != nil {
			p.Regions = *patch.Regions
		}
		if patch.Industries != nil {
			p.Industries = *patch.Industries
		}
		if patch.Capacity != nil {
			p.Capacity = *patch.Capacity
		}
		if err := ValidatePool(&p); err != nil {
			return err
		}
		if err := q.UpdatePool(ctx, act.Workspace, &p); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "pool_update", "pool", &p.ID, map[string]any{"name": p.Name, "role": p.Role, "team": p.Team, "capacity": p.Capacity})
	})
	if err != nil {
		return model.Pool{}, err
	}
	return p, nil
}

// DeletePool removes a pool of the actor's workspace; its assignments stay.
func (s *Service) DeletePool(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		p, err := q.GetPool(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := q.DeletePool(ctx, act.Workspace, id); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "pool_delete", "pool", &id, map[string]any{"name": p.Name})
	})
}

// SetMember adds a rep to a pool of the actor's workspace or replaces their
// availability and territory. The rep must be a member of the workspace: a
// user of another workspace answers exactly like a user that does not exist.
func (s *Service) SetMember(ctx context.Context, act model.Actor, poolID, userID int64, in MemberInput) (Member, error) {
	m := model.PoolMember{PoolID: poolID, UserID: userID, Active: in.Active == nil || *in.Active}
	if in.OutOfOfficeUntil != nil {
		t := in.OutOfOfficeUntil.UTC().Truncate(time.Second)
		m.OutOfOfficeUntil = &t
	}
	var err error
	if m.Regions, err = territory("regions", in.Regions); err != nil {
		return Member{}, err
	}
	if m.Industries, err = territory("industries", in.Industries); err != nil {
		return Member{}, err
	}
	var out Member
	err = s.St.InTx(ctx, func(q store.Q) error {
		ws := act.Workspace
		if _, err := q.GetPool(ctx, ws, poolID); err != nil {
			return err
		}
		emails, err := memberEmails(ctx, q, ws)
		if err != nil {
			return err
		}
		email, ok := emails[userID]
		if !ok {
			return &store.FieldError{Field: "user_id", Message: "is not a member of this workspace"}
		}
		if err := q.SetPoolMember(ctx, ws, m); err != nil {
			return err
		}
		members, err := q.PoolMembers(ctx, ws, poolID, s.now().Add(-Window))
		if err != nil {
			return err
		}
		for _, x := range members {
			if x.UserID == userID {
				out = Member{PoolMember: x, Email: email}
			}
		}
		return crm.Audit(ctx, q, act, "pool_member_set", "pool", &poolID, map[string]any{"user_id": userID, "active": m.Active, "out_of_office_until": m.OutOfOfficeUntil})
	})
	if err != nil {
		return Member{}, err
	}
	return out, nil
}

// RemoveMember takes a rep out of a pool of the actor's workspace; a pool or
// rep that is not there is store.ErrNotFound.
func (s *Service) RemoveMember(ctx context.Context, act model.Actor, poolID, userID int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		if err := q.RemovePoolMember(ctx, act.Workspace, poolID, userID); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "pool_member_remove", "pool", &poolID, map[string]any{"user_id": userID})
	})
}

// Settings returns ws's SLA settings with every motion filled in (defaults for
// the ones never set) and the timezone named ("UTC" when unset).
func (s *Service) Settings(ctx context.Context, ws int64) (model.AssignmentSettings, error) {
	st, err := s.St.Read().AssignmentSettings(ctx, ws)
	if err != nil {
		return st, err
	}
	return effective(st), nil
}

func effective(st model.AssignmentSettings) model.AssignmentSettings {
	out := model.AssignmentSettings{Timezone: st.Timezone, SLAMinutes: map[string]int{}}
	if out.Timezone == "" {
		out.Timezone = "UTC"
	}
	for _, m := range Motions {
		out.SLAMinutes[m] = DefaultSLAMinutes[m]
		if v := st.SLAMinutes[m]; v > 0 {
			out.SLAMinutes[m] = v
		}
	}
	return out
}

// ValidateSettings checks a timezone (an IANA name; empty means UTC) and the SLA
// minutes, which must be positive and per known motion; a motion left out keeps
// its default. Errors name the field ("sla_minutes.digital").
func ValidateSettings(st *model.AssignmentSettings) error {
	st.Timezone = strings.TrimSpace(st.Timezone)
	if st.Timezone == "" {
		st.Timezone = "UTC"
	}
	if st.Timezone == "Local" {
		return &store.FieldError{Field: "timezone", Message: `"Local" depends on the server; use an IANA name such as Europe/Berlin`}
	}
	if _, err := time.LoadLocation(st.Timezone); err != nil {
		return &store.FieldError{Field: "timezone", Message: fmt.Sprintf("%q is not an IANA time zone name (e.g. Europe/Berlin, America/New_York)", st.Timezone)}
	}
	keys := make([]string, 0, len(st.SLAMinutes))
	for k := range st.SLAMinutes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := st.SLAMinutes[k]
		switch {
		case !slices.Contains(Motions, k):
			return &store.FieldError{Field: "sla_minutes." + k, Message: fmt.Sprintf("%q is not a motion (%s)", k, strings.Join(Motions, ", "))}
		case v < 1:
			return &store.FieldError{Field: "sla_minutes." + k, Message: "must be at least 1 business minute"}
		case v > maxSLAMinutes:
			return &store.FieldError{Field: "sla_minutes." + k, Message: fmt.Sprintf("at most %d business minutes", maxSLAMinutes)}
		}
	}
	return nil
}

// SaveSettings validates and stores the SLA settings of the actor's workspace;
// new assignments use them, running clocks keep their due times.
func (s *Service) SaveSettings(ctx context.Context, act model.Actor, st model.AssignmentSettings) (model.AssignmentSettings, error) {
	if err := ValidateSettings(&st); err != nil {
		return model.AssignmentSettings{}, err
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.AssignmentSettings(ctx, act.Workspace)
		if err != nil {
			return err
		}
		merged := model.AssignmentSettings{Timezone: st.Timezone, SLAMinutes: map[string]int{}}
		for k, v := range cur.SLAMinutes {
			if slices.Contains(Motions, k) {
				merged.SLAMinutes[k] = v
			}
		}
		for k, v := range st.SLAMinutes {
			merged.SLAMinutes[k] = v
		}
		if err := q.SetAssignmentSettings(ctx, act.Workspace, merged); err != nil {
			return err
		}
		st = merged
		return crm.Audit(ctx, q, act, "assignment_settings_update", "assignment_settings", nil, merged)
	})
	if err != nil {
		return model.AssignmentSettings{}, err
	}
	return effective(st), nil
}
