package economics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Workspace economics settings: gross margin (per workspace, optionally per
// plan), monthly discount rate, lifetime cap, LTV:CAC target and CAC payback
// target per segment. A workspace that never set one gets the default, and
// the answer lists which settings are still defaults.

// Defaults.
const (
	DefaultGrossMargin  = 0.80 // a common SaaS gross margin; set your own
	DefaultDiscountRate = 0.01 // per month (about 12.7 % a year)
	DefaultLTVCACTarget = 3.0  // PRODUCT.md §1: LTV:CAC of at least 3:1
)

// DefaultPaidChannels are the acquisition channels whose customers count as
// paid for paid CAC, until a workspace sets its own: the channels where each
// visitor is bought (ads), not earned (search, content, referrals, events).
var DefaultPaidChannels = []string{"paid_search", "paid_social", "display"}

// DefaultWorkingHours is the working hours of one full-time person a year:
// cost-to-close turns an annual loaded cost into an hourly one with it
// (about 45 weeks × 40 hours, after holidays, leave and sick days).
const DefaultWorkingHours = 1800

// DefaultPaybackTargets are CAC payback targets in months per default segment.
var DefaultPaybackTargets = map[string]float64{"smb": 12, "mid_market": 18, "enterprise": 24}

// Settings are a workspace's economics settings, defaults filled in.
type Settings struct {
	GrossMargin         float64            `json:"gross_margin"`
	PlanMargins         map[string]float64 `json:"plan_margins"`
	DiscountRate        float64            `json:"discount_rate"`
	LifetimeCapMonths   int                `json:"lifetime_cap_months"`
	LTVCACTarget        float64            `json:"ltv_cac_target"`
	PaybackTargetMonths map[string]float64 `json:"payback_target_months"`
	// PaidChannels are the acquisition channels (channel keys) whose
	// customers count as paid for paid CAC.
	PaidChannels []string `json:"paid_channels"`
	// WorkingHoursPerYear turns a loaded annual cost into an hourly one.
	WorkingHoursPerYear int `json:"working_hours_per_year"`
	// Defaults names the settings still at their default.
	Defaults  []string   `json:"defaults"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// SettingsInput changes settings: a field left out keeps its value; in the
// maps, a key set to null goes back to its default (or away).
type SettingsInput struct {
	GrossMargin         *float64            `json:"gross_margin"`
	PlanMargins         map[string]*float64 `json:"plan_margins"`
	DiscountRate        *float64            `json:"discount_rate"`
	LifetimeCapMonths   *int                `json:"lifetime_cap_months"`
	LTVCACTarget        *float64            `json:"ltv_cac_target"`
	PaybackTargetMonths map[string]*float64 `json:"payback_target_months"`
	PaidChannels        *[]string           `json:"paid_channels"`
	WorkingHoursPerYear *int                `json:"working_hours_per_year"`
}

// stored is what the settings row keeps: only what was set.
type stored struct {
	GrossMargin         *float64           `json:"gross_margin,omitempty"`
	PlanMargins         map[string]float64 `json:"plan_margins,omitempty"`
	DiscountRate        *float64           `json:"discount_rate,omitempty"`
	LifetimeCapMonths   *int               `json:"lifetime_cap_months,omitempty"`
	LTVCACTarget        *float64           `json:"ltv_cac_target,omitempty"`
	PaybackTargetMonths map[string]float64 `json:"payback_target_months,omitempty"`
	PaidChannels        *[]string          `json:"paid_channels,omitempty"`
	WorkingHoursPerYear *int               `json:"working_hours_per_year,omitempty"`
}

func effectiveSettings(st stored, at *time.Time) Settings {
	s := Settings{GrossMargin: DefaultGrossMargin, DiscountRate: DefaultDiscountRate, LifetimeCapMonths: DefaultLifetimeCapMonths,
		LTVCACTarget: DefaultLTVCACTarget, PlanMargins: map[string]float64{}, PaybackTargetMonths: map[string]float64{}, Defaults: []string{}, UpdatedAt: at}
	if st.GrossMargin != nil {
		s.GrossMargin = *st.GrossMargin
	} else {
		s.Defaults = append(s.Defaults, "gross_margin")
	}
	if st.DiscountRate != nil {
		s.DiscountRate = *st.DiscountRate
	} else {
		s.Defaults = append(s.Defaults, "discount_rate")
	}
	if st.LifetimeCapMonths != nil {
		s.LifetimeCapMonths = *st.LifetimeCapMonths
	} else {
		s.Defaults = append(s.Defaults, "lifetime_cap_months")
	}
	if st.LTVCACTarget != nil {
		s.LTVCACTarget = *st.LTVCACTarget
	} else {
		s.Defaults = append(s.Defaults, "ltv_cac_target")
	}
	for k, v := range st.PlanMargins {
		s.PlanMargins[k] = v
	}
	if st.PaidChannels != nil {
		s.PaidChannels = slices.Clone(*st.PaidChannels)
	} else {
		s.PaidChannels = slices.Clone(DefaultPaidChannels)
		s.Defaults = append(s.Defaults, "paid_channels")
	}
	if st.WorkingHoursPerYear != nil {
		s.WorkingHoursPerYear = *st.WorkingHoursPerYear
	} else {
		s.WorkingHoursPerYear = DefaultWorkingHours
		s.Defaults = append(s.Defaults, "working_hours_per_year")
	}
	for k, v := range DefaultPaybackTargets {
		s.PaybackTargetMonths[k] = v
	}
	for _, k := range sortedKeys(DefaultPaybackTargets) {
		if _, set := st.PaybackTargetMonths[k]; !set {
			s.Defaults = append(s.Defaults, "payback_target_months."+k)
		}
	}
	for k, v := range st.PaybackTargetMonths {
		s.PaybackTargetMonths[k] = v
	}
	return s
}

// MarginFor is the gross margin of a plan: its own when set, else the
// workspace's.
func (s Settings) MarginFor(plan string) float64 {
	if m, ok := s.PlanMargins[plan]; ok {
		return m
	}
	return s.GrossMargin
}

// Settings returns the economics settings of ws with defaults filled in.
func (s *Service) Settings(ctx context.Context, ws int64) (Settings, error) {
	return settingsOf(ctx, s.St.Read(), ws)
}

func settingsOf(ctx context.Context, q store.Q, ws int64) (Settings, error) {
	raw, at, err := q.EconomicsSettingsJSON(ctx, ws)
	if err != nil {
		return Settings{}, err
	}
	var st stored
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			return Settings{}, fmt.Errorf("economics: settings of workspace %d: %w", ws, err)
		}
	}
	return effectiveSettings(st, at), nil
}

// ValidateSettings checks an input: gross margins 0–1, discount rate 0–0.5 a
// month, lifetime cap 1–600 months, LTV:CAC target above 0 and at most 100,
// payback targets above 0 and at most 240 months, paid channels as channel keys
// (normalised in place), working hours 100–8760 a year; plan and segment keys are
// lower snake keys. Errors name the field (plan_margins.pro).
func ValidateSettings(in SettingsInput) error {
	if in.GrossMargin != nil {
		if err := rate("gross_margin", *in.GrossMargin, 0, 1); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(in.PlanMargins) {
		if !keyRE.MatchString(k) {
			return fieldErr("plan_margins."+k, "is not a plan key (lower-case letters, digits, _)")
		}
		if v := in.PlanMargins[k]; v != nil {
			if err := rate("plan_margins."+k, *v, 0, 1); err != nil {
				return err
			}
		}
	}
	if in.DiscountRate != nil {
		if err := rate("discount_rate", *in.DiscountRate, 0, 0.5); err != nil {
			return fieldErr("discount_rate", "must be a monthly rate between 0 and 0.5 (0.01 is 1 %% a month)")
		}
	}
	if in.LifetimeCapMonths != nil && (*in.LifetimeCapMonths < 1 || *in.LifetimeCapMonths > 600) {
		return fieldErr("lifetime_cap_months", "must be between 1 and 600 months")
	}
	if in.LTVCACTarget != nil {
		if v := *in.LTVCACTarget; math.IsNaN(v) || v <= 0 || v > 100 {
			return fieldErr("ltv_cac_target", "must be above 0 and at most 100 (3 means LTV of at least 3× CAC)")
		}
	}
	for _, k := range sortedKeys(in.PaybackTargetMonths) {
		if !keyRE.MatchString(k) {
			return fieldErr("payback_target_months."+k, "is not a segment key (e.g. smb)")
		}
		if v := in.PaybackTargetMonths[k]; v != nil && (math.IsNaN(*v) || *v <= 0 || *v > 240) {
			return fieldErr("payback_target_months."+k, "must be above 0 and at most 240 months")
		}
	}
	if in.PaidChannels != nil {
		if len(*in.PaidChannels) > 50 {
			return fieldErr("paid_channels", "at most 50 channels")
		}
		seen := map[string]bool{}
		for i, c := range *in.PaidChannels {
			k, err := channelKey(fmt.Sprintf("paid_channels[%d]", i), c)
			if err != nil {
				return err
			}
			if k == "" {
				return fieldErr(fmt.Sprintf("paid_channels[%d]", i), "is empty: name a channel such as paid_search")
			}
			if seen[k] {
				return fieldErr(fmt.Sprintf("paid_channels[%d]", i), "%s is listed twice", k)
			}
			seen[k] = true
			(*in.PaidChannels)[i] = k
		}
	}
	if in.WorkingHoursPerYear != nil && (*in.WorkingHoursPerYear < 100 || *in.WorkingHoursPerYear > 8760) {
		return fieldErr("working_hours_per_year", "must be between 100 and 8760 hours (1800 is about 45 weeks × 40 hours)")
	}
	return nil
}

// SaveSettings merges in into the stored settings of the actor's workspace.
func (s *Service) SaveSettings(ctx context.Context, act model.Actor, in SettingsInput) (Settings, error) {
	if err := ValidateSettings(in); err != nil {
		return Settings{}, err
	}
	err := s.St.InTx(ctx, func(q store.Q) error {
		raw, _, err := q.EconomicsSettingsJSON(ctx, act.Workspace)
		if err != nil {
			return err
		}
		var st stored
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &st); err != nil {
				return fmt.Errorf("economics: settings: %w", err)
			}
		}
		if in.GrossMargin != nil {
			st.GrossMargin = in.GrossMargin
		}
		if in.DiscountRate != nil {
			st.DiscountRate = in.DiscountRate
		}
		if in.LifetimeCapMonths != nil {
			st.LifetimeCapMonths = in.LifetimeCapMonths
		}
		if in.LTVCACTarget != nil {
			st.LTVCACTarget = in.LTVCACTarget
		}
		if in.PaidChannels != nil {
			st.PaidChannels = in.PaidChannels
		}
		if in.WorkingHoursPerYear != nil {
			st.WorkingHoursPerYear = in.WorkingHoursPerYear
		}
		st.PlanMargins = mergeMap(st.PlanMargins, in.PlanMargins)
		st.PaybackTargetMonths = mergeMap(st.PaybackTargetMonths, in.PaybackTargetMonths)
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := q.SetEconomicsSettingsJSON(ctx, act.Workspace, b); err != nil {
			return err
		}
		if err := s.queueGuardrails(ctx, q, act.Workspace); err != nil {
			return err
		}
		return crm.Audit(ctx, q, act, "economics_settings_update", "economics_settings", nil, st)
	})
	if err != nil {
		return Settings{}, err
	}
	return s.Settings(ctx, act.Workspace)
}

func mergeMap(cur map[string]float64, in map[string]*float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range in {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// SettingsFields lists the settings in display order (for the defaults list).
var SettingsFields = []string{"gross_margin", "plan_margins", "discount_rate", "lifetime_cap_months", "ltv_cac_target", "payback_target_months", "paid_channels", "working_hours_per_year"}

// IsDefault reports whether field is still at its default.
func (s Settings) IsDefault(field string) bool { return slices.Contains(s.Defaults, field) }
