package economics

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// People cost profiles: what one person of a role costs a year, fully loaded
// (PRODUCT.md §7), and how many of them there are each month. Monthly people
// cost per role and motion = annual loaded cost ÷ 12 × headcount × time split.

// ProfileInput creates or replaces a cost profile. Rates are fractions
// (0.0765 is 7.65 %); money is minor units per year.
type ProfileInput struct {
	Name                string             `json:"name"`
	Role                string             `json:"role"`
	Currency            string             `json:"currency"`
	BaseSalary          int64              `json:"base_salary"`
	LoadedMultiplier    *float64           `json:"loaded_multiplier"`
	EmployerTaxRate     *float64           `json:"employer_tax_rate"`
	BenefitsRate        *float64           `json:"benefits_rate"`
	TrainingRate        *float64           `json:"training_rate"`
	Office              int64              `json:"office"`
	Phone               int64              `json:"phone"`
	Internet            int64              `json:"internet"`
	Software            int64              `json:"software"`
	Recruiting          int64              `json:"recruiting"`
	VariablePay         int64              `json:"variable_pay"`
	TimeSplit           map[string]float64 `json:"time_split"`
	SplitFromActivities bool               `json:"split_from_activities"`
}

func (in ProfileInput) profile() model.CostProfile {
	return model.CostProfile{Name: in.Name, Role: in.Role, Currency: in.Currency, BaseSalary: in.BaseSalary,
		LoadedMultiplier: in.LoadedMultiplier, EmployerTaxRate: in.EmployerTaxRate, BenefitsRate: in.BenefitsRate, TrainingRate: in.TrainingRate,
		Office: in.Office, Phone: in.Phone, Internet: in.Internet, Software: in.Software, Recruiting: in.Recruiting, VariablePay: in.VariablePay,
		TimeSplit: in.TimeSplit, SplitFromActivities: in.SplitFromActivities}
}

// LoadingConflictError refuses a profile with both a loaded multiplier and
// itemised rates: a 2× multiplier already covers the taxes, benefits and
// training it stands for, so adding the items would count them twice. The API
// answers it with 422; it is also a *store.FieldError on loaded_multiplier.
type LoadingConflictError struct {
	store.FieldError
	Itemised []string // the itemised fields that were set
}

func (e *LoadingConflictError) Unwrap() error { return &e.FieldError }

// ValidateProfile checks and normalises a profile: name, role (ldr, ae, csm,
// manager, partner), currency (defCurrency when empty), a positive base
// salary, exactly one loading form (multiplier 1–5, or itemised rates 0–2
// each), non-negative per-seat items and variable pay, and a time split by
// motion summing to 100 %.
func ValidateProfile(p *model.CostProfile, defCurrency string) error {
	p.Name = strings.TrimSpace(p.Name)
	p.Role = strings.ToLower(strings.TrimSpace(p.Role))
	switch {
	case p.Name == "":
		return fieldErr("name", "is required")
	case len(p.Name) > 100:
		return fieldErr("name", "at most 100 characters")
	case !slices.Contains(model.CostRoles, p.Role):
		return fieldErr("role", "%q is not one of %s", p.Role, strings.Join(model.CostRoles, ", "))
	case p.BaseSalary <= 0:
		return fieldErr("base_salary", "must be a positive annual amount in minor units (5000000 is 50,000.00)")
	case p.BaseSalary > maxMoney:
		return fieldErr("base_salary", "at most 10^15 minor units")
	}
	var err error
	if p.Currency, err = normCurrency("currency", p.Currency, defCurrency); err != nil {
		return err
	}
	var itemised []string
	for _, it := range []struct {
		name string
		v    *float64
	}{{"employer_tax_rate", p.EmployerTaxRate}, {"benefits_rate", p.BenefitsRate}, {"training_rate", p.TrainingRate}} {
		if it.v == nil {
			continue
		}
		itemised = append(itemised, it.name)
		if err := rate(it.name, *it.v, 0, 2); err != nil {
			return err
		}
	}
	switch {
	case p.LoadedMultiplier != nil && len(itemised) > 0:
		return &LoadingConflictError{Itemised: itemised, FieldError: store.FieldError{Field: "loaded_multiplier",
			Message: fmt.Sprintf("give a loaded multiplier or itemised rates (%s), not both: a multiplier such as 2× already covers the taxes, benefits and training it stands for, so adding them again would count them twice", strings.Join(itemised, ", "))}}
	case p.LoadedMultiplier == nil && len(itemised) == 0:
		return fieldErr("loaded_multiplier", "is required unless the itemised rates are given: a multiplier (2 for about 2× base, covering taxes, benefits and training) or employer_tax_rate, benefits_rate and training_rate")
	case p.LoadedMultiplier != nil:
		if m := *p.LoadedMultiplier; math.IsNaN(m) || m < 1 || m > 5 {
			return fieldErr("loaded_multiplier", "must be between 1 and 5 (2 is about 2× base)")
		}
	}
	for _, it := range []struct {
		name string
		v    int64
	}{{"office", p.Office}, {"phone", p.Phone}, {"internet", p.Internet}, {"software", p.Software}, {"recruiting", p.Recruiting}, {"variable_pay", p.VariablePay}} {
		if it.v < 0 || it.v > maxMoney {
			return fieldErr(it.name, "must be an annual amount between 0 and 10^15 minor units")
		}
	}
	split, err := ValidateSplit("time_split", p.TimeSplit)
	if err != nil {
		return err
	}
	p.TimeSplit = split
	return nil
}

// ValidateSplit checks a share of time per motion: known motions, fractions
// in [0, 1] summing to 1 (within 0.0001).
func ValidateSplit(field string, split map[string]float64) (map[string]float64, error) {
	if len(split) == 0 {
		return nil, fieldErr(field, "is required: the share of time per motion, e.g. {\"digital\": 0.7, \"high_touch\": 0.3}")
	}
	out := map[string]float64{}
	total := 0.0
	for _, k := range sortedKeys(split) {
		v := split[k]
		if !slices.Contains(model.Motions, k) {
			return nil, fieldErr(field+"."+k, "is not a motion (%s)", strings.Join(model.Motions, ", "))
		}
		if err := rate(field+"."+k, v, 0, 1); err != nil {
			return nil, err
		}
		if v > 0 {
			out[k] = v
		}
		total += v
	}
	if math.Abs(total-1) > 1e-4 {
		return nil, fieldErr(field, "sums to %s %%; the shares must sum to 100 %%", trimFloat(total*100))
	}
	return out, nil
}

// ProfileCost is a profile's fully loaded cost with its parts.
type ProfileCost struct {
	Annual      float64 `json:"annual"`  // minor units per year
	Monthly     float64 `json:"monthly"` // Annual ÷ 12
	Base        int64   `json:"base_salary"`
	Loading     float64 `json:"loading"`      // taxes, benefits, training on top of base
	PerSeat     int64   `json:"per_seat"`     // office, phone, internet, software, recruiting
	VariablePay int64   `json:"variable_pay"` // added as is, not loaded
	Multiplier  float64 `json:"effective_multiplier"`
	Form        string  `json:"form"` // multiplier or itemised
	Convention  string  `json:"convention"`
}

// LoadedCostOf computes a validated profile's annual loaded cost with the
// formulas of formulas.go: base × multiplier + per-seat items, or base × (1 +
// tax + benefits + training) + per-seat items; variable pay is added on top.
func LoadedCostOf(p model.CostProfile) (ProfileCost, error) {
	perSeat := p.Office + p.Phone + p.Internet + p.Software + p.Recruiting
	var lc LoadedCost
	var err error
	form := "itemised"
	if p.LoadedMultiplier != nil {
		form = "multiplier"
		lc, err = MultiplierLoadedCost(p.BaseSalary, *p.LoadedMultiplier, perSeat)
	} else {
		val := func(x *float64) float64 {
			if x == nil {
				return 0
			}
			return *x
		}
		lc, err = ItemisedLoadedCost(p.BaseSalary, val(p.EmployerTaxRate), val(p.BenefitsRate), val(p.TrainingRate), perSeat)
	}
	if err != nil {
		return ProfileCost{}, err
	}
	annual := lc.Annual + float64(p.VariablePay)
	return ProfileCost{Annual: annual, Monthly: annual / 12, Base: p.BaseSalary, Loading: lc.Annual - float64(p.BaseSalary) - float64(perSeat),
		PerSeat: perSeat, VariablePay: p.VariablePay, Multiplier: annual / float64(p.BaseSalary), Form: form,
		Convention: lc.Convention + " (office, phone, internet, software licences, recruiting per seat per year) + variable pay, per year; monthly = annual ÷ 12"}, nil
}

// Profile is a cost profile with its loaded cost and headcount.
type Profile struct {
	model.CostProfile
	Cost      ProfileCost       `json:"cost"`
	Headcount []model.Headcount `json:"headcount"`
}

func (s *Service) withCost(p model.CostProfile, hc []model.Headcount) (Profile, error) {
	c, err := LoadedCostOf(p)
	if err != nil {
		return Profile{}, err
	}
	if hc == nil {
		hc = []model.Headcount{}
	}
	if p.TimeSplit == nil {
		p.TimeSplit = map[string]float64{}
	}
	return Profile{CostProfile: p, Cost: c, Headcount: hc}, nil
}

// Profiles lists the cost profiles of ws with their costs and headcount.
func (s *Service) Profiles(ctx context.Context, ws int64) ([]Profile, error) {
	q := s.St.Read()
	ps, err := q.CostProfiles(ctx, ws)
	if err != nil {
		return nil, err
	}
	hcs, err := q.Headcounts(ctx, ws, 0, "", "")
	if err != nil {
		return nil, err
	}
	by := map[int64][]model.Headcount{}
	for _, h := range hcs {
		by[h.ProfileID] = append(by[h.ProfileID], h)
	}
	out := make([]Profile, 0, len(ps))
	for _, p := range ps {
		pr, err := s.withCost(p, by[p.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// Profile returns one cost profile of ws with its cost and headcount.
func (s *Service) Profile(ctx context.Context, ws, id int64) (Profile, error) {
	q := s.St.Read()
	p, err := q.GetCostProfile(ctx, ws, id)
	if err != nil {
		return Profile{}, err
	}
	hc, err := q.Headcounts(ctx, ws, id, "", "")
	if err != nil {
		return Profile{}, err
	}
	return s.withCost(p, hc)
}

func profileDetail(p model.CostProfile) map[string]any {
	return map[string]any{"name": p.Name, "role": p.Role, "base_salary": p.BaseSalary, "currency": p.Currency}
}

// CreateProfile validates and stores a cost profile in the actor's workspace.
func (s *Service) CreateProfile(ctx context.Context, act model.Actor, in ProfileInput) (Profile, error) {
	p := in.profile()
	err := s.St.InTx(ctx, func(q store.Q) error {
		cur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		if err := ValidateProfile(&p, cur); err != nil {
			return err
		}
		if err := q.CreateCostProfile(ctx, act.Workspace, &p); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "cost_profile_create", "cost_profile", &p.ID, profileDetail(p))
	})
	if err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, act.Workspace, p.ID)
}

// ReplaceProfile replaces every input of a cost profile of the actor's
// workspace (its headcount stays).
func (s *Service) ReplaceProfile(ctx context.Context, act model.Actor, id int64, in ProfileInput) (Profile, error) {
	p := in.profile()
	p.ID = id
	err := s.St.InTx(ctx, func(q store.Q) error {
		if _, err := q.GetCostProfile(ctx, act.Workspace, id); err != nil {
			return err
		}
		cur, err := s.workspaceCurrency(ctx, q, act.Workspace)
		if err != nil {
			return err
		}
		if err := ValidateProfile(&p, cur); err != nil {
			return err
		}
		if err := q.UpdateCostProfile(ctx, act.Workspace, &p); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "cost_profile_update", "cost_profile", &p.ID, profileDetail(p))
	})
	if err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, act.Workspace, id)
}

// DeleteProfile removes a cost profile of the actor's workspace and its headcount.
func (s *Service) DeleteProfile(ctx context.Context, act model.Actor, id int64) error {
	return s.St.InTx(ctx, func(q store.Q) error {
		p, err := q.GetCostProfile(ctx, act.Workspace, id)
		if err != nil {
			return err
		}
		if err := q.DeleteCostProfile(ctx, act.Workspace, id); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "cost_profile_delete", "cost_profile", &id, profileDetail(p))
	})
}

// SetHeadcount stores the headcount (FTE, 0–100,000, at most 2 decimals) of a
// profile for the months given ("YYYY-MM" → FTE); 0 removes a month.
func (s *Service) SetHeadcount(ctx context.Context, act model.Actor, id int64, months map[string]float64) (Profile, error) {
	if len(months) == 0 {
		return Profile{}, fieldErr("months", "is required: {\"2026-01\": 3, …}")
	}
	if len(months) > 240 {
		return Profile{}, fieldErr("months", "at most 240 months at a time")
	}
	var hs []model.Headcount
	for _, k := range sortedKeys(months) {
		m, err := ParseMonth(k)
		if err != nil || m != strings.TrimSpace(k) {
			return Profile{}, fieldErr("months."+k, "is not a month (YYYY-MM)")
		}
		v := months[k]
		if math.IsNaN(v) || v < 0 || v > 100000 {
			return Profile{}, fieldErr("months."+k, "must be a headcount between 0 and 100000")
		}
		if math.Abs(v*100-math.Round(v*100)) > 1e-6 {
			return Profile{}, fieldErr("months."+k, "at most 2 decimals (0.5 is a half-time person)")
		}
		hs = append(hs, model.Headcount{ProfileID: id, Month: m, Headcount: v})
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		if err := q.SetHeadcount(ctx, act.Workspace, id, hs); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "headcount_set", "cost_profile", &id, map[string]any{"months": months})
	})
	if err != nil {
		return Profile{}, err
	}
	return s.Profile(ctx, act.Workspace, id)
}

// MinSplitMinutes is how much logged time a role needs in a month, on
// accounts with a motion, before its activity durations replace the
// configured split (10 hours).
const MinSplitMinutes = 600

// SplitFromMinutes turns logged minutes by motion into a time split. Minutes
// on accounts without a motion ("" key) are left out; ok is false when fewer
// than min minutes have a motion.
func SplitFromMinutes(minutes map[string]int64, min int64) (split map[string]float64, ok bool) {
	var total int64
	for m, v := range minutes {
		if slices.Contains(model.Motions, m) && v > 0 {
			total += v
		}
	}
	if total <= 0 || total < min {
		return nil, false
	}
	split = map[string]float64{}
	for m, v := range minutes {
		if slices.Contains(model.Motions, m) && v > 0 {
			split[m] = float64(v) / float64(total)
		}
	}
	return split, true
}

// PeopleCostRow is the people cost of one role and motion in one month.
type PeopleCostRow struct {
	Month     string  `json:"month"`
	Currency  string  `json:"currency"`
	Role      string  `json:"role"`
	Motion    string  `json:"motion"`
	Amount    int64   `json:"amount"`    // minor units, rounded
	Headcount float64 `json:"headcount"` // FTE of the role's profiles that month
	// SplitSource is "configured" or "activities" (the role's logged
	// durations that month); "mixed" when the role's profiles differ.
	SplitSource string `json:"split_source"`
}

// PeopleCost is people cost by month, role and motion.
type PeopleCost struct {
	From       string           `json:"from"`
	To         string           `json:"to"`
	Rows       []PeopleCostRow  `json:"rows"`
	Totals     []CurrencyAmount `json:"totals"`
	Convention string           `json:"convention"`
}

// PeopleCostConvention says how people cost is computed.
const PeopleCostConvention = "Per profile and month: annual loaded cost ÷ 12 × headcount (FTE) × the profile's share of time in the motion, summed by role and motion, rounded to minor units per row. " +
	"The share is the configured time split, or — for profiles set to split from activities — the role's logged activity minutes that month on accounts of each motion (activity's account, else its deal's, else its contact's), " +
	"when at least 600 minutes have a motion. Currencies are never converted."

// ComputePeopleCost is the pure form: profiles, headcount and per-role,
// per-month logged minutes by motion (role → month → motion → minutes).
func ComputePeopleCost(from, to string, profiles []model.CostProfile, hcs []model.Headcount, minutes map[string]map[string]map[string]int64) (PeopleCost, error) {
	out := PeopleCost{From: from, To: to, Rows: []PeopleCostRow{}, Totals: []CurrencyAmount{}, Convention: PeopleCostConvention}
	byID := map[int64]model.CostProfile{}
	cost := map[int64]ProfileCost{}
	for _, p := range profiles {
		c, err := LoadedCostOf(p)
		if err != nil {
			return out, fmt.Errorf("economics: profile %d: %w", p.ID, err)
		}
		byID[p.ID], cost[p.ID] = p, c
	}
	type key struct{ month, cur, role, motion string }
	amounts := map[key]float64{}
	heads := map[key]float64{}
	sources := map[key]string{}
	for _, h := range hcs {
		p, ok := byID[h.ProfileID]
		if !ok || h.Month < from || h.Month > to {
			continue
		}
		split, src := p.TimeSplit, "configured"
		if p.SplitFromActivities {
			if sp, ok := SplitFromMinutes(minutes[p.Role][h.Month], MinSplitMinutes); ok {
				split, src = sp, "activities"
			}
		}
		for _, m := range model.Motions {
			sh := split[m]
			if sh == 0 {
				continue
			}
			k := key{h.Month, p.Currency, p.Role, m}
			amounts[k] += cost[p.ID].Monthly * h.Headcount * sh
			heads[k] += h.Headcount
			switch prev := sources[k]; {
			case prev == "":
				sources[k] = src
			case prev != src:
				sources[k] = "mixed"
			}
		}
	}
	totals := map[string]int64{}
	for k, v := range amounts {
		a := roundMinor(v)
		out.Rows = append(out.Rows, PeopleCostRow{Month: k.month, Currency: k.cur, Role: k.role, Motion: k.motion, Amount: a, Headcount: heads[k], SplitSource: sources[k]})
		totals[k.cur] += a
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.Role != b.Role {
			return slices.Index(model.CostRoles, a.Role) < slices.Index(model.CostRoles, b.Role)
		}
		return a.Motion < b.Motion
	})
	for _, c := range sortedKeys(totals) {
		out.Totals = append(out.Totals, CurrencyAmount{Currency: c, Amount: totals[c]})
	}
	return out, nil
}

// PeopleCost reads profiles, headcount and logged activity time of ws and
// computes people cost for the months from..to.
func (s *Service) PeopleCost(ctx context.Context, ws int64, from, to string) (PeopleCost, error) {
	q := s.St.Read()
	ps, err := q.CostProfiles(ctx, ws)
	if err != nil {
		return PeopleCost{}, err
	}
	hcs, err := q.Headcounts(ctx, ws, 0, from, to)
	if err != nil {
		return PeopleCost{}, err
	}
	minutes := map[string]map[string]map[string]int64{}
	if slices.ContainsFunc(ps, func(p model.CostProfile) bool { return p.SplitFromActivities }) {
		start, err := monthStart(from)
		if err != nil {
			return PeopleCost{}, err
		}
		end, err := monthStart(AddMonths(to, 1))
		if err != nil {
			return PeopleCost{}, err
		}
		rms, err := q.ActivityMinutesByMotion(ctx, ws, start, end)
		if err != nil {
			return PeopleCost{}, err
		}
		for _, r := range rms {
			if minutes[r.Role] == nil {
				minutes[r.Role] = map[string]map[string]int64{}
			}
			if minutes[r.Role][r.Month] == nil {
				minutes[r.Role][r.Month] = map[string]int64{}
			}
			minutes[r.Role][r.Month][r.Motion] += r.Minutes
		}
	}
	return ComputePeopleCost(from, to, ps, hcs, minutes)
}
