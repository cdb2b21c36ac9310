package economics

import (
	"context"
)

// Pending lists what issue 6 still leaves out, shown on the economics page
// and in `rightsize economics` instead of numbers that do not exist yet (the
// metrics themselves are GET /api/v1/economics/metrics).
var Pending = []string{
	"Partner mode's access rules: a user with the partner role seeing and working only the leads and queues assigned to it, with no economics, settings or export (partners, their delivered work, monthly statements and actual costs are under Economics → Partners)",
}

// Inputs is what the unit economics will be computed from, as of now.
type Inputs struct {
	Settings   Settings     `json:"settings"`
	Spend      SpendSummary `json:"spend"`
	Rules      int          `json:"allocation_rules"`
	Profiles   []Profile    `json:"cost_profiles"`
	PeopleCost PeopleCost   `json:"people_cost"`
	Market     Market       `json:"market_sizing"`
	Pending    []string     `json:"pending"`
}

// Inputs gathers the inputs of ws for the months from..to.
func (s *Service) Inputs(ctx context.Context, ws int64, from, to string) (Inputs, error) {
	var in Inputs
	var err error
	if in.Settings, err = s.Settings(ctx, ws); err != nil {
		return in, err
	}
	if in.Spend, err = s.SpendSummary(ctx, ws, from, to); err != nil {
		return in, err
	}
	rules, err := s.St.Read().AllocationRules(ctx, ws)
	if err != nil {
		return in, err
	}
	in.Rules = len(rules)
	if in.Profiles, err = s.Profiles(ctx, ws); err != nil {
		return in, err
	}
	if in.PeopleCost, err = s.PeopleCost(ctx, ws, from, to); err != nil {
		return in, err
	}
	if in.Market, err = s.Market(ctx, ws); err != nil {
		return in, err
	}
	in.Pending = Pending
	return in, nil
}
