package staffing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/store"
)

// Service stores staffing scenarios per workspace and projects them with the
// workspace's cost profiles, economics settings and funnel conversion rates.
type Service struct {
	St   *store.Store
	Econ *economics.Service
	// Partners, when set, supplies the actual delivered work of partner
	// records that partner scenarios link to (nil: always the assumptions).
	Partners *partners.Service
	// Now is the clock (tests fix it); nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func decode(r store.StaffingScenario) (Scenario, error) {
	sc := Scenario{ID: r.ID, Name: r.Name, Kind: r.Kind, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Params, &sc.Params); err != nil {
		return sc, fmt.Errorf("staffing: scenario %d: %w", r.ID, err)
	}
	if sc.RampCurve == nil {
		sc.RampCurve = []float64{}
	}
	return sc, nil
}

// List returns the scenarios of ws.
func (s *Service) List(ctx context.Context, ws int64) ([]Scenario, error) {
	rs, err := s.St.Read().StaffingScenarios(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Scenario, 0, len(rs))
	for _, r := range rs {
		sc, err := decode(r)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Get returns one scenario of ws.
func (s *Service) Get(ctx context.Context, ws, id int64) (Scenario, error) {
	r, err := s.St.Read().GetStaffingScenario(ctx, ws, id)
	if err != nil {
		return Scenario{}, err
	}
	return decode(r)
}

// check validates an input inside q's transaction, including that an
// in-house scenario's cost profile is one of the workspace's, in its currency.
func check(ctx context.Context, q store.Q, ws int64, in *Input) error {
	w, err := q.GetWorkspace(ctx, ws)
	if err != nil {
		return err
	}
	if err := Validate(in, w.Currency); err != nil {
		return err
	}
	if in.CostProfileID != nil {
		p, err := q.GetCostProfile(ctx, ws, *in.CostProfileID)
		if errors.Is(err, store.ErrNotFound) {
			return fieldErr("cost_profile_id", "no cost profile %d in this workspace", *in.CostProfileID)
		}
		if err != nil {
			return err
		}
		if p.Currency != in.Currency {
			return fieldErr("cost_profile_id", "the profile is in %s and the scenario in %s; amounts are never converted", p.Currency, in.Currency)
		}
	}
	if in.PartnerID != nil {
		p, err := q.GetPartner(ctx, ws, *in.PartnerID)
		if errors.Is(err, store.ErrNotFound) {
			return fieldErr("partner_id", "no partner %d in this workspace", *in.PartnerID)
		}
		if err != nil {
			return err
		}
		if p.Currency != in.Currency {
			return fieldErr("partner_id", "the partner is paid in %s and the scenario is in %s; amounts are never converted", p.Currency, in.Currency)
		}
	}
	return nil
}

func record(in Input) (store.StaffingScenario, error) {
	if in.RampCurve == nil {
		in.RampCurve = []float64{}
	}
	b, err := json.Marshal(in.Params)
	return store.StaffingScenario{Name: in.Name, Kind: in.Kind, Params: b}, err
}

// Create validates and stores a scenario in the actor's workspace.
func (s *Service) Create(ctx context.Context, act model.Actor, in Input) (Scenario, error) {
	var r store.StaffingScenario
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := check(ctx, q, act.Workspace, &in); err != nil {
			return err
		}
		var err error
		if r, err = record(in); err != nil {
			return err
		}
		if err := q.CreateStaffingScenario(ctx, act.Workspace, &r); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "staffing_scenario_create", "staffing_scenario", &r.ID, map[string]any{"name": r.Name, "kind": r.Kind})
	})
	if err != nil {
		return Scenario{}, err
	}
	return decode(r)
}

// Replace replaces the name, kind and inputs of a scenario of the actor's workspace.
func (s *Service) Replace(ctx context.Context, act model.Actor, id int64, in Input) (Scenario, error) {
	var r store.StaffingScenario
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetStaffingScenario(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := check(ctx, q, act.Workspace, &in); err != nil {
			return err
		}
		if r, err = record(in); err != nil {
			return err
		}
		r.ID, r.CreatedAt = id, cur.CreatedAt
		if err := q.UpdateStaffingScenario(ctx, act.Workspace, &r); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "staffing_scenario_update", "staffing_scenario", &id, map[string]any{"name": r.Name, "kind": r.Kind})
	})
	if err != nil {
		return Scenario{}, err
	}
	return decode(r)
}

// Delete removes a scenario of the actor's workspace.
func (s *Service) Delete(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		cur, err := q.GetStaffingScenario(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := q.DeleteStaffingScenario(ctx, act.Workspace, id); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "staffing_scenario_delete", "staffing_scenario", &id, map[string]any{"name": cur.Name})
	})
}

// Minimum funnel data before the workspace's own SQL → won rate is used.
const (
	MinSQLs          = 20
	MinOpportunities = 10
)

// Conversion is the SQL → won rate for a motion ("" for the whole
// workspace): the workspace's funnel over the last 365 days when at least
// MinSQLs contacts reached sql and MinOpportunities reached opportunity
// (sql → opportunity × opportunity → customer, funnel report conventions),
// else the configured rate, else none.
func (s *Service) Conversion(ctx context.Context, ws int64, motion string, configured *float64) (Conversion, error) {
	r, err := s.funnel(ctx, ws)
	if err != nil {
		return Conversion{}, err
	}
	return conversionFrom(r, motion, configured), nil
}

// funnel is the workspace's funnel by motion over the last 365 days; a
// comparison reads it once for all its scenarios.
func (s *Service) funnel(ctx context.Context, ws int64) (funnel.Result, error) {
	to := s.now()
	return funnel.Report(ctx, s.St, ws, funnel.Params{From: to.AddDate(0, 0, -364), To: to, By: "motion"})
}

func conversionFrom(r funnel.Result, motion string, configured *float64) Conversion {
	g, scope := r.Total, "all contacts"
	if motion != "" {
		g, scope = funnel.Group{}, "contacts of the "+motion+" motion"
		for _, x := range r.Groups {
			if x.Key == motion {
				g = x
			}
		}
	}
	var sqlC, oppC *funnel.Conversion
	for i := range g.Conversions {
		switch g.Conversions[i].From {
		case "sql":
			sqlC = &g.Conversions[i]
		case "opportunity":
			oppC = &g.Conversions[i]
		}
	}
	if sqlC != nil && oppC != nil && sqlC.Rate != nil && oppC.Rate != nil && sqlC.Denominator >= MinSQLs && oppC.Denominator >= MinOpportunities {
		rate := *sqlC.Rate * *oppC.Rate
		return Conversion{SQLToWon: &rate, Source: "workspace_data",
			Detail: fmt.Sprintf("sql → opportunity %s (%d of %d) × opportunity → customer %s (%d of %d), %s, %s to %s (funnel report conventions)",
				economics.Percent(*sqlC.Rate), sqlC.Converted, sqlC.Denominator, economics.Percent(*oppC.Rate), oppC.Converted, oppC.Denominator, scope, r.From, r.To)}
	}
	have := 0
	if sqlC != nil {
		have = sqlC.Denominator
	}
	if configured != nil {
		return Conversion{SQLToWon: configured, Source: "configured",
			Detail: fmt.Sprintf("the scenario's configured rate %s: the workspace's funnel has %d SQLs in the last 365 days (%s), fewer than the %d SQLs and %d opportunities needed", economics.Percent(*configured), have, scope, MinSQLs, MinOpportunities)}
	}
	return Conversion{Source: "none", Detail: fmt.Sprintf("no SQL→won rate: the workspace's funnel has %d SQLs in the last 365 days (%s) and the scenario configures none", have, scope)}
}

// Plan projects a scenario of ws with the workspace's inputs.
func (s *Service) Plan(ctx context.Context, ws int64, sc Scenario) (Plan, error) {
	r, err := s.funnel(ctx, ws)
	if err != nil {
		return Plan{}, err
	}
	set, err := s.Econ.Settings(ctx, ws)
	if err != nil {
		return Plan{}, err
	}
	return s.plan(ctx, ws, sc, r, set)
}

func (s *Service) plan(ctx context.Context, ws int64, sc Scenario, r funnel.Result, set economics.Settings) (Plan, error) {
	env := Env{GrossMargin: set.GrossMargin, GrossMarginSource: "workspace settings", LifetimeCapMonths: set.LifetimeCapMonths}
	if set.IsDefault("gross_margin") {
		env.GrossMarginSource = "default"
	}
	if sc.GrossMargin != nil {
		env.GrossMargin, env.GrossMarginSource = *sc.GrossMargin, "scenario"
	}
	env.Conversion = conversionFrom(r, sc.Motion, sc.SQLToWon)
	problem := func(format string, a ...any) Plan {
		return Plan{Scenario: sc, Months: []Month{}, Conversion: env.Conversion, GrossMargin: env.GrossMargin, Conventions: Conventions, Problem: fmt.Sprintf(format, a...)}
	}
	if sc.Kind == InHouse && sc.CostProfileID != nil {
		p, err := s.Econ.Profile(ctx, ws, *sc.CostProfileID)
		if errors.Is(err, store.ErrNotFound) {
			return problem("the cost profile %d no longer exists: choose another one", *sc.CostProfileID), nil
		}
		if err != nil {
			return Plan{}, err
		}
		if p.Currency != sc.Currency {
			return problem("the cost profile %q is now in %s and the scenario in %s: amounts are never converted", p.Name, p.Currency, sc.Currency), nil
		}
		env.RepMonthlyCost, env.ProfileName = p.Cost.Monthly, p.Name
	}
	stored := sc
	if sc.Kind == Partner && sc.PartnerID != nil && s.Partners != nil {
		pr, err := s.Partners.Get(ctx, ws, *sc.PartnerID)
		if errors.Is(err, store.ErrNotFound) {
			return problem("the partner %d no longer exists: link another one or none", *sc.PartnerID), nil
		}
		if err != nil {
			return Plan{}, err
		}
		if pr.Currency != sc.Currency {
			return problem("the partner %q is now paid in %s and the scenario is in %s: amounts are never converted", pr.Name, pr.Currency, sc.Currency), nil
		}
		act, err := s.Partners.Actuals(ctx, ws, pr.ID)
		if err != nil {
			return Plan{}, err
		}
		var as Assumptions
		sc, as = applyActuals(sc, pr, act)
		env.Assumptions = &as
	}
	plan := Project(sc, env)
	// The plan answers the scenario as stored (what a client PUTs back); the
	// rates and fees it used are in Assumptions.
	plan.Scenario = stored
	return plan, nil
}

// applyActuals puts a linked partner's terms (its contract: retainer, fees,
// setup fee, management overhead) into a partner scenario, and its actual
// delivery per month once it has at least one full month of data; until then
// the scenario's rates stay, and the answer says why.
func applyActuals(sc Scenario, pr model.Partner, act partners.Actuals) (Scenario, Assumptions) {
	p := &sc.Params
	t := pr.PartnerTerms
	p.RetainerMonthly, p.FeePerMeeting, p.FeePerSQL, p.FeePerWon, p.SetupFee, p.ManagementMonthly = t.RetainerMonthly, t.FeePerMeeting, t.FeePerSQL, t.FeePerWon, t.SetupFee, t.ManagementMonthly
	if act.Months < 1 {
		return sc, Assumptions{Source: Assumed, MeetingsPerMonth: p.MeetingsPerMonth, SQLsPerMonth: p.SQLsPerMonth,
			Detail: fmt.Sprintf("assumed: the scenario's %s meetings and %s SQLs per ramped rep-month (%s); the fees are %s's terms", trimNum(p.MeetingsPerMonth), trimNum(p.SQLsPerMonth), act.Detail, pr.Name)}
	}
	meetings, sqls := act.Rates()
	p.MeetingsPerMonth, p.SQLsPerMonth = meetings/float64(p.Reps), sqls/float64(p.Reps)
	return sc, Assumptions{Source: Actual, Months: act.Months, MeetingsPerMonth: p.MeetingsPerMonth, SQLsPerMonth: p.SQLsPerMonth,
		ActualCostPerMeeting: act.Partner.CostPerMeeting, ActualCostPerSQL: act.Partner.CostPerSQL, ActualCostPerWon: act.Partner.CostPerWon,
		Detail: fmt.Sprintf("%s: %s meetings and %s accepted SQLs a month ÷ %d reps; the fees are %s's terms", act.Detail, trimNum(meetings), trimNum(sqls), p.Reps, act.Partner.Name)}
}

// Comparison projects every scenario of ws and puts them side by side.
func (s *Service) Comparison(ctx context.Context, ws int64) (Comparison, error) {
	w, err := s.St.Read().GetWorkspace(ctx, ws)
	if err != nil {
		return Comparison{}, err
	}
	scs, err := s.List(ctx, ws)
	if err != nil {
		return Comparison{}, err
	}
	r, err := s.funnel(ctx, ws)
	if err != nil {
		return Comparison{}, err
	}
	set, err := s.Econ.Settings(ctx, ws)
	if err != nil {
		return Comparison{}, err
	}
	plans := make([]Plan, 0, len(scs))
	for _, sc := range scs {
		p, err := s.plan(ctx, ws, sc, r, set)
		if err != nil {
			return Comparison{}, err
		}
		plans = append(plans, p)
	}
	return Compare(w.Currency, plans), nil
}
