package economics

import (
	"fmt"
	"strings"
)

// Recommendations follow from the report's arithmetic by fixed rules with
// fixed thresholds (docs/economics.md, "Recommendations"); each says which
// rule fired and shows the numbers it compared.

// Recommendation rules.
const (
	RuleRoute       = "route_segment" // CAC over max affordable, another motion meets the target for the segment
	RuleCutCAC      = "cut_cac"       // CAC over max affordable, no motion of the segment meets it
	RulePayback     = "payback"       // LTV:CAC on target, payback over the segment's target
	RuleCostToClose = "cost_to_close" // an open deal's cost so far exceeds LTV ÷ target
	RuleOutsource   = "outsource"     // a partner scenario's cost per SQL is ≥ 10 % below the in-house one
	RuleCappedLTV   = "capped_ltv"    // a cell's LTV hit the lifetime cap (no churn observed)
)

// OutsourceThreshold: the partner must be at least this much cheaper per SQL.
const OutsourceThreshold = 0.10

// Severities, most urgent first.
var severities = []string{"high", "medium", "info"}

// Recommendation is one suggested change with its arithmetic.
type Recommendation struct {
	Rule       string             `json:"rule"`
	Severity   string             `json:"severity"` // high, medium, info
	Segment    string             `json:"segment,omitempty"`
	Motion     string             `json:"motion,omitempty"`
	DealID     int64              `json:"deal_id,omitempty"`
	Text       string             `json:"text"`
	Arithmetic string             `json:"arithmetic"`
	Numbers    map[string]float64 `json:"numbers"`
}

// Recommend applies the rules to a computed report.
func Recommend(m Metrics, scenarios []ScenarioCost) []Recommendation {
	cur := m.Currency
	money := func(v float64) string { return fmtMoneyF(v, cur) }
	var out []Recommendation
	cells := map[Cell]CellMetrics{}
	for _, c := range m.Matrix.Cells {
		cells[Cell{c.Segment, c.Motion}] = c
	}
	target := m.Matrix.Target
	cacName := strings.ReplaceAll(m.Matrix.CAC, "_", " ")
	for _, c := range m.Matrix.Cells {
		if c.CACUsed == nil || c.LTVUsed == nil || c.MaxAffordableCAC == nil || *c.CACUsed <= 0 {
			continue
		}
		name := fmt.Sprintf("%s via %s", human(c.Segment), c.Motion)
		cost := c.FullyLoadedCost
		if m.Matrix.CAC == CACBlended {
			cost = c.BlendedCost
		}
		cacArith := fmt.Sprintf("CAC %s = %s cost %s ÷ %d new customers", money(*c.CACUsed), cacName, fmtMoney(cost, cur), c.NewCustomers)
		ltvArith := fmt.Sprintf("max affordable CAC = LTV %s (%s) ÷ target %s = %s", money(*c.LTVUsed), m.Matrix.LTV, fmtRatio(target), money(*c.MaxAffordableCAC))
		sev := "medium"
		if c.Status == StatusRed {
			sev = "high"
		}
		nums := map[string]float64{"cac": *c.CACUsed, "ltv": *c.LTVUsed, "max_affordable_cac": *c.MaxAffordableCAC, "target": target, "new_customers": float64(c.NewCustomers)}
		if *c.CACUsed > *c.MaxAffordableCAC {
			var alt *CellMetrics
			for _, o := range m.Matrix.Cells {
				if o.Segment == c.Segment && o.Motion != c.Motion && o.LTVToCAC != nil && *o.LTVToCAC >= target && (alt == nil || *o.LTVToCAC > *alt.LTVToCAC) {
					o := o
					alt = &o
				}
			}
			if alt != nil {
				nums["alternative_ltv_to_cac"] = *alt.LTVToCAC
				out = append(out, Recommendation{Rule: RuleRoute, Severity: sev, Segment: c.Segment, Motion: c.Motion,
					Text: fmt.Sprintf("%s: CAC %s vs max affordable %s → route %s to %s", name, money(*c.CACUsed), money(*c.MaxAffordableCAC), human(c.Segment), alt.Motion),
					Arithmetic: fmt.Sprintf("%s; %s; via %s the same segment has LTV:CAC %s (LTV %s ÷ CAC %s), at or above the target",
						cacArith, ltvArith, alt.Motion, fmtRatio(*alt.LTVToCAC), money(*alt.LTVUsed), money(*alt.CACUsed)),
					Numbers: nums})
				continue
			}
			cut := 1 - *c.MaxAffordableCAC / *c.CACUsed
			raise := *c.CACUsed * target / *c.LTVUsed
			nums["cac_cut"], nums["ltv_multiple"] = cut, raise
			out = append(out, Recommendation{Rule: RuleCutCAC, Severity: sev, Segment: c.Segment, Motion: c.Motion,
				Text:       fmt.Sprintf("%s: CAC %s vs max affordable %s → cut CAC by %.0f %% or raise LTV %.1f× to reach %s:1", name, money(*c.CACUsed), money(*c.MaxAffordableCAC), cut*100, raise, fmtRatio(target)),
				Arithmetic: fmt.Sprintf("%s; %s; no other motion meets the target for %s; cut = 1 − %s ÷ %s", cacArith, ltvArith, human(c.Segment), money(*c.MaxAffordableCAC), money(*c.CACUsed)),
				Numbers:    nums})
			continue
		}
		if c.PaybackMonths != nil && c.PaybackTarget != nil && *c.PaybackMonths > *c.PaybackTarget && c.ARPA != nil {
			need := *c.PaybackTarget * *c.ARPA * c.GrossMargin
			nums["payback_months"], nums["payback_target_months"], nums["cac_for_target"] = *c.PaybackMonths, *c.PaybackTarget, need
			out = append(out, Recommendation{Rule: RulePayback, Severity: sev, Segment: c.Segment, Motion: c.Motion,
				Text: fmt.Sprintf("%s: payback %.1f months vs target %s → CAC must fall to %s (or ARPA rise by %.0f %%) to pay back in time", name, *c.PaybackMonths, trimFloat(*c.PaybackTarget), money(need), (*c.PaybackMonths / *c.PaybackTarget - 1)*100),
				Arithmetic: fmt.Sprintf("payback = CAC %s ÷ (ARPA %s × gross margin %s) = %.1f months; CAC for %s months = %s × %s × %s = %s",
					money(*c.CACUsed), money(*c.ARPA), Percent(c.GrossMargin), *c.PaybackMonths, trimFloat(*c.PaybackTarget), trimFloat(*c.PaybackTarget), money(*c.ARPA), Percent(c.GrossMargin), money(need)),
				Numbers: nums})
		}
	}
	for _, d := range m.CostToClose {
		if !d.Exceeds || d.Limit == nil || d.LTV == nil {
			continue
		}
		var parts []string
		for _, r := range d.Roles {
			if r.Cost != nil {
				parts = append(parts, fmt.Sprintf("%s %.1f h × %s/h", r.Role, r.Hours, money(*r.HourlyCost)))
			}
		}
		out = append(out, Recommendation{Rule: RuleCostToClose, Severity: "high", Segment: d.Segment, Motion: d.Motion, DealID: d.DealID,
			Text: fmt.Sprintf("%s deal %s: cost-to-close so far %s exceeds LTV ÷ %s = %s", human(d.Segment), d.Name, money(d.Cost), fmtRatio(d.Target), money(*d.Limit)),
			Arithmetic: fmt.Sprintf("cost so far = %s = %s; limit = LTV %s (%s, %s via %s) ÷ target %s = %s",
				strings.Join(parts, " + "), money(d.Cost), money(*d.LTV), d.LTVVariant, human(d.Segment), d.Motion, fmtRatio(d.Target), money(*d.Limit)),
			Numbers: map[string]float64{"cost": d.Cost, "ltv": *d.LTV, "limit": *d.Limit, "hours": d.Hours}})
	}
	var bestIn, bestOut *ScenarioCost
	for i := range scenarios {
		s := &scenarios[i]
		if s.CostPerSQL == nil || s.Currency != cur {
			continue
		}
		switch s.Kind {
		case "in_house":
			if bestIn == nil || *s.CostPerSQL < *bestIn.CostPerSQL {
				bestIn = s
			}
		case "partner":
			if bestOut == nil || *s.CostPerSQL < *bestOut.CostPerSQL {
				bestOut = s
			}
		}
	}
	if bestIn != nil && bestOut != nil && *bestOut.CostPerSQL <= *bestIn.CostPerSQL*(1-OutsourceThreshold) {
		saving := 1 - *bestOut.CostPerSQL / *bestIn.CostPerSQL
		out = append(out, Recommendation{Rule: RuleOutsource, Severity: "medium", Motion: bestOut.Motion,
			Text: fmt.Sprintf("outsourcing LDR work lowers cost per SQL from %s to %s", money(*bestIn.CostPerSQL), money(*bestOut.CostPerSQL)),
			Arithmetic: fmt.Sprintf("staffing planner, 24 months: %q (in-house) %s per SQL vs %q (partner) %s per SQL, %.0f %% less (the rule needs at least %.0f %%)",
				bestIn.Name, money(*bestIn.CostPerSQL), bestOut.Name, money(*bestOut.CostPerSQL), saving*100, OutsourceThreshold*100),
			Numbers: map[string]float64{"in_house_cost_per_sql": *bestIn.CostPerSQL, "partner_cost_per_sql": *bestOut.CostPerSQL, "saving": saving}})
	}
	for _, c := range m.Matrix.Cells {
		if c.LTVCapped && c.Status != StatusNoData {
			ch := 0.0
			if c.Churn.Monthly != nil {
				ch = *c.Churn.Monthly
			}
			out = append(out, Recommendation{Rule: RuleCappedLTV, Severity: "info", Segment: c.Segment, Motion: c.Motion,
				Text:       fmt.Sprintf("%s via %s: LTV is capped at %d months of lifetime (churn %s a month): read its LTV:CAC with care", human(c.Segment), c.Motion, m.Settings.LifetimeCapMonths, Percent(ch)),
				Arithmetic: fmt.Sprintf("1 ÷ churn %s exceeds the lifetime cap of %d months, so the lifetime is the cap", Percent(ch), m.Settings.LifetimeCapMonths),
				Numbers:    map[string]float64{"churn": ch, "lifetime_cap_months": float64(m.Settings.LifetimeCapMonths)}})
		}
	}
	// Most urgent first; within a severity the rule order above.
	sorted := make([]Recommendation, 0, len(out))
	for _, s := range severities {
		for _, r := range out {
			if r.Severity == s {
				sorted = append(sorted, r)
			}
		}
	}
	return sorted
}

// human writes a segment key for a sentence: smb → SMB, mid_market → mid-market.
func human(seg string) string {
	switch seg {
	case "smb":
		return "SMB"
	case "mid_market":
		return "mid-market"
	}
	return strings.ReplaceAll(seg, "_", " ")
}
