package economics

import (
	"context"
)

// Pending lists what the next phase of unit economics adds, shown on the
// economics page and in `rightsize economics` instead of numbers that do not
// exist yet.
var Pending = []string{
	"CAC (blended, paid, fully loaded) by period, segment, motion and channel, from this spend and people cost and the new customers of each period",
	"LTV in every variant (simple_gm, revenue, ecom, discounted, cohort) and LTV:CAC with CAC payback: the segment × motion matrix",
	"MRR and ARR, MRR movements with reconciliation, churn, NRR, GRR, quick ratio and magic number, from subscriptions",
	"Cohort retention matrices and realised LTV per cohort",
	"Funnel economics: cost per MQL, SQL, opportunity and won customer, per motion",
	"Guardrails (green, amber, red against the targets below) and recommendations that show their arithmetic",
	"Cost-to-close per deal from effort hours by role × loaded hourly cost",
	"Partner mode: delivered meetings and SQLs replacing the staffing planner's assumptions",
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
