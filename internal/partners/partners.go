// Package partners is partner mode's measuring side (issue 6; docs/economics.md,
// "Partners"): an outsourced (sales-as-a-service) team as a workspace record —
// its fee terms, contract months and the users who work for it — and what it
// delivered, attributed from real records: meetings its users own, SQLs its
// users handed to AEs that the AEs accepted, and the deals won from those
// SQLs. From those come the monthly partner statement (fees owed, each line
// traceable to its records) and the partner's actual cost per meeting, SQL and
// won customer, side by side with the in-house LDRs' loaded cost over the same
// months; the staffing planner uses those actuals once there is a full month.
//
// partners.go is the record and its validation; work.go the attribution and
// the arithmetic (pure, hand-checked in the tests); service.go the reads.
package partners

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Service keeps partners and answers their statements and actuals. The API,
// the UI, the CLI and the staffing planner call it.
type Service struct {
	St *store.Store
	// Econ computes the in-house people cost the partner is compared with.
	Econ *economics.Service
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Input creates or replaces a partner. Money is minor units of Currency
// (default: the workspace's); months are YYYY-MM.
type Input struct {
	Name     string `json:"name"`
	Currency string `json:"currency"`
	model.PartnerTerms
	StartMonth string  `json:"start_month"`
	EndMonth   string  `json:"end_month"`
	Note       string  `json:"note"`
	UserIDs    []int64 `json:"user_ids"`
}

const maxMoney = 1_000_000_000_000_000 // 10^15 minor units, as the ledger

func fieldErr(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Validate checks and normalises an input that needs no database: name,
// currency, amounts, months, distinct user ids.
func Validate(in *Input, defCurrency string) error {
	in.Name = strings.TrimSpace(in.Name)
	in.Note = strings.TrimSpace(in.Note)
	switch {
	case in.Name == "":
		return fieldErr("name", "is required")
	case len(in.Name) > 100:
		return fieldErr("name", "at most 100 characters")
	case len(in.Note) > 2000:
		return fieldErr("note", "at most 2000 characters")
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = defCurrency
	}
	if len(in.Currency) != 3 || strings.Trim(in.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fieldErr("currency", "must be a 3-letter ISO 4217 code such as USD")
	}
	t := in.PartnerTerms
	for _, f := range []struct {
		name string
		v    int64
	}{{"retainer_monthly", t.RetainerMonthly}, {"fee_per_meeting", t.FeePerMeeting}, {"fee_per_sql", t.FeePerSQL}, {"fee_per_won", t.FeePerWon}, {"setup_fee", t.SetupFee}, {"management_monthly", t.ManagementMonthly}} {
		if f.v < 0 || f.v > maxMoney {
			return fieldErr(f.name, "must be an amount in minor units between 0 and 10^15")
		}
	}
	var err error
	if strings.TrimSpace(in.StartMonth) == "" {
		return fieldErr("start_month", "is required: the first month of the contract (YYYY-MM)")
	}
	if in.StartMonth, err = economics.ParseMonth(in.StartMonth); err != nil {
		return fieldErr("start_month", "%v", err)
	}
	if strings.TrimSpace(in.EndMonth) != "" {
		if in.EndMonth, err = economics.ParseMonth(in.EndMonth); err != nil {
			return fieldErr("end_month", "%v", err)
		}
		if in.EndMonth < in.StartMonth {
			return fieldErr("end_month", "must not be before start_month %s", in.StartMonth)
		}
	} else {
		in.EndMonth = ""
	}
	if in.UserIDs == nil {
		in.UserIDs = []int64{}
	}
	if len(in.UserIDs) > 500 {
		return fieldErr("user_ids", "at most 500 users")
	}
	seen := map[int64]bool{}
	for i, id := range in.UserIDs {
		if seen[id] {
			return fieldErr(fmt.Sprintf("user_ids[%d]", i), "user %d is listed twice", id)
		}
		seen[id] = true
	}
	slices.Sort(in.UserIDs)
	return nil
}

// check validates an input inside q's transaction: every user is a member of
// the workspace with role partner and works for no other partner.
func check(ctx context.Context, q store.Q, ws, self int64, in *Input) error {
	w, err := q.GetWorkspace(ctx, ws)
	if err != nil {
		return err
	}
	if err := Validate(in, w.Currency); err != nil {
		return err
	}
	if len(in.UserIDs) == 0 {
		return nil
	}
	members, err := q.WorkspaceMembers(ctx, ws)
	if err != nil {
		return err
	}
	role := map[int64]string{}
	for _, m := range members {
		role[m.UserID] = m.Role
	}
	taken, err := q.PartnerMembers(ctx, ws)
	if err != nil {
		return err
	}
	for i, id := range in.UserIDs {
		field := fmt.Sprintf("user_ids[%d]", i)
		switch r, ok := role[id]; {
		case !ok:
			return fieldErr(field, "user %d is not a member of this workspace", id)
		case r != model.RolePartner:
			return fieldErr(field, "user %d has the role %s; only members with the role partner work for a partner", id, r)
		}
		if other, ok := taken[id]; ok && other != self {
			p, err := q.GetPartner(ctx, ws, other)
			if err != nil {
				return err
			}
			return fieldErr(field, "user %d already works for the partner %q", id, p.Name)
		}
	}
	return nil
}

func (in Input) record() model.Partner {
	return model.Partner{Name: in.Name, Currency: in.Currency, PartnerTerms: in.PartnerTerms, StartMonth: in.StartMonth, EndMonth: in.EndMonth, Note: in.Note, UserIDs: in.UserIDs}
}

func detail(p model.Partner) map[string]any {
	return map[string]any{"name": p.Name, "currency": p.Currency, "terms": p.PartnerTerms, "start_month": p.StartMonth, "end_month": p.EndMonth, "user_ids": p.UserIDs}
}

// List returns the partners of ws.
func (s *Service) List(ctx context.Context, ws int64) ([]model.Partner, error) {
	return s.St.Read().Partners(ctx, ws)
}

// Get returns one partner of ws.
func (s *Service) Get(ctx context.Context, ws, id int64) (model.Partner, error) {
	return s.St.Read().GetPartner(ctx, ws, id)
}

// Create validates and stores a partner in the actor's workspace.
func (s *Service) Create(ctx context.Context, act model.Actor, in Input) (model.Partner, error) {
	var p model.Partner
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := check(ctx, q, act.Workspace, 0, &in); err != nil {
			return err
		}
		p = in.record()
		if err := q.CreatePartner(ctx, act.Workspace, &p); err != nil {
			return err
		}
		if err := q.SetPartnerMembers(ctx, act.Workspace, p.ID, p.UserIDs); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "partner_create", "partner", &p.ID, detail(p))
	})
	return p, err
}

// Replace replaces every field of a partner of the actor's workspace,
// including who works for it.
func (s *Service) Replace(ctx context.Context, act model.Actor, id int64, in Input) (model.Partner, error) {
	var p model.Partner
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetPartner(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := check(ctx, q, act.Workspace, id, &in); err != nil {
			return err
		}
		p = in.record()
		p.ID, p.CreatedAt = id, cur.CreatedAt
		if err := q.UpdatePartner(ctx, act.Workspace, &p); err != nil {
			return err
		}
		if err := q.SetPartnerMembers(ctx, act.Workspace, id, p.UserIDs); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "partner_update", "partner", &id, detail(p))
	})
	return p, err
}

// Delete removes a partner of the actor's workspace. Its users' work stays
// on record; it is no longer attributed to a partner (nor, while they keep
// the role partner, to the in-house reps).
func (s *Service) Delete(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetPartner(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := q.DeletePartner(ctx, act.Workspace, id); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "partner_delete", "partner", &id, map[string]any{"name": cur.Name})
	})
}
