package partners

import (
	"context"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// bounds turns the months from..to into the instants [start of from, start of
// the month after to).
func bounds(from, to string) (time.Time, time.Time, error) {
	a, err := time.Parse("2006-01", from)
	if err != nil {
		return a, a, fmt.Errorf("partners: month %q: %w", from, err)
	}
	b, err := time.Parse("2006-01", economics.AddMonths(to, 1))
	if err != nil {
		return a, b, fmt.Errorf("partners: month %q: %w", to, err)
	}
	return a.UTC(), b.UTC(), nil
}

// Delivered reads the work of a scope of ws in the months from..to: its
// meetings, the handoffs its users sent that were created or decided then,
// and the deals won then from its accepted SQLs.
func (s *Service) Delivered(ctx context.Context, ws int64, scope store.DeliveryScope, from, to string) (Work, error) {
	start, end, err := bounds(from, to)
	if err != nil {
		return Work{}, err
	}
	q := s.St.Read()
	var w Work
	if w.Meetings, err = q.DeliveredMeetings(ctx, ws, scope, start, end); err != nil {
		return w, err
	}
	if w.Handoffs, err = q.DeliveredHandoffs(ctx, ws, scope, start, end); err != nil {
		return w, err
	}
	w.Wins, err = q.DeliveredWins(ctx, ws, scope, start, end)
	return w, err
}

// InHouse is the scope the partners are compared with: members with the role
// ldr who work for no partner.
var InHouse = store.DeliveryScope{InHouseRole: model.RoleLDR}

// ParseStatementMonth reads a statement month (default: the previous month,
// the last one that has ended).
func (s *Service) ParseStatementMonth(v string) (string, error) {
	if v == "" {
		return economics.AddMonths(economics.MonthOf(s.now()), -1), nil
	}
	m, err := economics.ParseMonth(v)
	if err != nil {
		return "", fieldErr("month", "%v", err)
	}
	return m, nil
}

// Statement is partner id's statement of ws for month m (YYYY-MM).
func (s *Service) Statement(ctx context.Context, ws, id int64, m string) (Statement, error) {
	p, err := s.Get(ctx, ws, id)
	if err != nil {
		return Statement{}, err
	}
	w, err := s.Delivered(ctx, ws, store.DeliveryScope{PartnerID: p.ID}, m, m)
	if err != nil {
		return Statement{}, err
	}
	return ComputeStatement(p, m, w, s.now()), nil
}

// Statements are the statements of every partner of ws for month m.
func (s *Service) Statements(ctx context.Context, ws int64, m string) ([]Statement, error) {
	ps, err := s.List(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Statement, 0, len(ps))
	for _, p := range ps {
		w, err := s.Delivered(ctx, ws, store.DeliveryScope{PartnerID: p.ID}, m, m)
		if err != nil {
			return nil, err
		}
		out = append(out, ComputeStatement(p, m, w, s.now()))
	}
	return out, nil
}

// History is a partner's statement of every month from..to.
func (s *Service) History(ctx context.Context, ws int64, p model.Partner, from, to string) ([]Statement, error) {
	w, err := s.Delivered(ctx, ws, store.DeliveryScope{PartnerID: p.ID}, from, to)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Statement{}
	for _, m := range economics.Months(from, to) {
		out = append(out, ComputeStatement(p, m, w, now))
	}
	return out, nil
}

// Actuals compares partner id of ws with the in-house LDRs over its full
// months (Source none, with the reason, when it has none yet).
func (s *Service) Actuals(ctx context.Context, ws, id int64) (Actuals, error) {
	p, err := s.Get(ctx, ws, id)
	if err != nil {
		return Actuals{}, err
	}
	return s.actualsOf(ctx, ws, p)
}

func (s *Service) actualsOf(ctx context.Context, ws int64, p model.Partner) (Actuals, error) {
	now := s.now()
	from, to, ok := FullMonths(p, now)
	if !ok {
		return Actuals{PartnerID: p.ID, Source: "none", ByMonth: []MonthRow{}, Conventions: ActualsConventions,
			Partner: Side{Name: p.Name, Kind: "partner", Currency: p.Currency, Revenue: []economics.CurrencyAmount{}},
			InHouse: Side{Name: "In-house LDRs", Kind: "in_house", Currency: p.Currency, Revenue: []economics.CurrencyAmount{}},
			Detail:  fmt.Sprintf("no full month of delivered work yet: %s started in %s, and a month counts once it has ended", p.Name, p.StartMonth)}, nil
	}
	pw, err := s.Delivered(ctx, ws, store.DeliveryScope{PartnerID: p.ID}, from, to)
	if err != nil {
		return Actuals{}, err
	}
	iw, err := s.Delivered(ctx, ws, InHouse, from, to)
	if err != nil {
		return Actuals{}, err
	}
	cost := map[string]int64{}
	if s.Econ != nil {
		pc, err := s.Econ.PeopleCost(ctx, ws, from, to)
		if err != nil {
			return Actuals{}, err
		}
		for _, r := range pc.Rows {
			if r.Role == model.RoleLDR && r.Currency == p.Currency {
				cost[r.Month] += r.Amount
			}
		}
	}
	return ComputeActuals(p, from, to, pw, iw, cost, now), nil
}
