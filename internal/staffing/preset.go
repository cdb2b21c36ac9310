package staffing

import (
	"context"
	"errors"
	"math"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The source article's example, as a starting point to edit: an LDR at 50,000
// salary costs about twice that loaded (the 2× covers employer taxes,
// benefits and training, so those are not itemised again), plus per-seat
// office, phone, internet and software. The per-seat amounts, the rates and
// the partner's fees are example assumptions, named as such.

// ArticleProfileName names the example LDR profile.
const ArticleProfileName = "LDR (article example)"

func major(n int64, cur string) int64 {
	return n * int64(math.Pow10(economics.Digits(cur)))
}

// ArticleProfile is the article's LDR in currency cur.
func ArticleProfile(cur string) economics.ProfileInput {
	two := 2.0
	return economics.ProfileInput{Name: ArticleProfileName, Role: model.RoleLDR, Currency: cur, BaseSalary: major(50_000, cur), LoadedMultiplier: &two,
		Office: major(3_600, cur), Phone: major(600, cur), Internet: major(600, cur), Software: major(1_200, cur),
		TimeSplit: map[string]float64{"digital": 1}}
}

// ArticleScenarios are two example scenarios on the same assumptions: two
// in-house LDRs (2 months to hire, a 3-month linear ramp, 14 months' tenure)
// against a sales-as-a-service partner with two reps (1 month to onboard, one
// month at half speed).
func ArticleScenarios(profileID int64, cur string) []Input {
	won, churn := 0.2, 0.02
	arpa := major(500, cur)
	common := Params{Segment: "smb", Motion: "digital", Currency: cur, Reps: 2, MeetingsPerMonth: 12, SQLsPerMonth: 6,
		SQLToWon: &won, ARPA: &arpa, MonthlyChurn: &churn, RampCurve: []float64{}}
	in := common
	in.CostProfileID, in.LeadTimeMonths, in.RampMonths, in.TenureMonths = &profileID, 2, 3, 14
	out := common
	out.LeadTimeMonths, out.RampMonths, out.RampCurve = 1, 1, []float64{0.5}
	out.RetainerMonthly, out.FeePerMeeting, out.ManagementMonthly = major(8_000, cur), major(100, cur), major(1_000, cur)
	return []Input{
		{Name: "In-house LDRs (article example)", Kind: InHouse, Params: in},
		{Name: "Sales-as-a-service partner (example)", Kind: Partner, Params: out},
	}
}

// AddArticleExample creates the example profile and scenarios in the actor's
// workspace, keeping any that already exist by name.
func (s *Service) AddArticleExample(ctx context.Context, act model.Actor) ([]Scenario, error) {
	w, err := s.St.Read().GetWorkspace(ctx, act.Workspace)
	if err != nil {
		return nil, err
	}
	profiles, err := s.Econ.Profiles(ctx, act.Workspace)
	if err != nil {
		return nil, err
	}
	var pid int64
	for _, p := range profiles {
		if p.Name == ArticleProfileName {
			pid = p.ID
		}
	}
	if pid == 0 {
		p, err := s.Econ.CreateProfile(ctx, act, ArticleProfile(w.Currency))
		if err != nil {
			return nil, err
		}
		pid = p.ID
	}
	var out []Scenario
	for _, in := range ArticleScenarios(pid, w.Currency) {
		sc, err := s.Create(ctx, act, in)
		var ce *store.ConflictError
		if errors.As(err, &ce) {
			continue // kept as the workspace has it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}
