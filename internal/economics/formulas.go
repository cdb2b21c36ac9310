// Package economics turns what each motion costs into what its customers are
// worth: CAC, LTV, payback, churn and the ratios built on them. This file holds
// the arithmetic only, as pure functions over plain numbers, so every worked
// check in PRODUCT.md section 6 is a unit test; the services that read spend,
// subscriptions and activities from the store feed these.
//
// Conventions (docs/economics.md): money is in minor units of one currency;
// rates are fractions per month (0.05 = 5 %/month); results that are money are
// float64 minor units, rounded only for display. Every result names the
// convention it used, so a number is never shown without its definition.
package economics

import (
	"errors"
	"fmt"
	"math"
)

// DefaultLifetimeCapMonths bounds a customer lifetime when churn is zero (or so
// low that 1/churn exceeds it): infinite lifetimes make infinite LTVs.
const DefaultLifetimeCapMonths = 60

// LTV variants, always named in output.
const (
	LTVSimpleGM   = "simple_gm"  // ARPA × gross margin ÷ churn (headline)
	LTVRevenue    = "revenue"    // ARPA ÷ churn (what ChartMogul/Baremetrics report)
	LTVEcom       = "ecom"       // average order value × orders per month × GM × lifetime
	LTVDiscounted = "discounted" // ARPA × GM × (1+d) ÷ (d + c), paid at the start of each month
	LTVCohort     = "cohort"     // realised gross profit per cohort customer plus a tail
)

// ErrUndefined answers a ratio whose denominator is zero or whose inputs are out
// of range; callers show "n/a" with the reason instead of a number.
var ErrUndefined = errors.New("economics: undefined")

func undefined(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUndefined, fmt.Sprintf(format, args...))
}

// Lifetime is the expected customer lifetime in months for a monthly churn
// rate: 1 ÷ churn, capped at capMonths (Capped says the cap applied, e.g. at
// zero churn).
type Lifetime struct {
	Months float64 `json:"months"`
	Capped bool    `json:"capped"`
}

// LifetimeMonths is 1 ÷ churn, capped at capMonths (DefaultLifetimeCapMonths
// when capMonths ≤ 0).
func LifetimeMonths(churn float64, capMonths float64) (Lifetime, error) {
	if capMonths <= 0 {
		capMonths = DefaultLifetimeCapMonths
	}
	if churn < 0 || churn > 1 || math.IsNaN(churn) {
		return Lifetime{}, undefined("churn %.4f is not a monthly rate between 0 and 1", churn)
	}
	if churn == 0 || 1/churn > capMonths {
		return Lifetime{Months: capMonths, Capped: true}, nil
	}
	return Lifetime{Months: 1 / churn}, nil
}

// LTV is one lifetime value with the variant and inputs that produced it.
type LTV struct {
	Variant  string   `json:"variant"`
	Value    float64  `json:"value"` // minor units
	Lifetime Lifetime `json:"lifetime"`
	// Convention says in words what was computed ("ARPA × GM ÷ churn, churn
	// 2.00 %/month, lifetime 50.0 months").
	Convention string `json:"convention"`
}

func checkMargin(gm float64) error {
	if gm < 0 || gm > 1 || math.IsNaN(gm) {
		return undefined("gross margin %.4f is not between 0 and 1", gm)
	}
	return nil
}

// SimpleGMLTV is ARPA × gross margin × lifetime (= ÷ churn), the headline LTV.
func SimpleGMLTV(arpa, gm, churn, capMonths float64) (LTV, error) {
	if err := checkMargin(gm); err != nil {
		return LTV{}, err
	}
	l, err := LifetimeMonths(churn, capMonths)
	if err != nil {
		return LTV{}, err
	}
	return LTV{Variant: LTVSimpleGM, Value: arpa * gm * l.Months, Lifetime: l,
		Convention: fmt.Sprintf("ARPA × gross margin %.1f %% × lifetime %.1f months (1 ÷ churn %.2f %%/month%s)", gm*100, l.Months, churn*100, capNote(l))}, nil
}

// RevenueLTV is ARPA × lifetime (= ÷ churn): no margin, what revenue analytics
// tools report.
func RevenueLTV(arpa, churn, capMonths float64) (LTV, error) {
	l, err := LifetimeMonths(churn, capMonths)
	if err != nil {
		return LTV{}, err
	}
	return LTV{Variant: LTVRevenue, Value: arpa * l.Months, Lifetime: l,
		Convention: fmt.Sprintf("ARPA × lifetime %.1f months (1 ÷ churn %.2f %%/month%s), no margin", l.Months, churn*100, capNote(l))}, nil
}

// EcomLTV is average order value × orders per month × gross margin × lifetime:
// the purchase-frequency form. It divides by churn once, through the lifetime
// (the source article's form would divide twice; docs/economics.md).
func EcomLTV(avgOrder, ordersPerMonth, gm, churn, capMonths float64) (LTV, error) {
	if err := checkMargin(gm); err != nil {
		return LTV{}, err
	}
	if ordersPerMonth < 0 {
		return LTV{}, undefined("orders per month %.2f is negative", ordersPerMonth)
	}
	l, err := LifetimeMonths(churn, capMonths)
	if err != nil {
		return LTV{}, err
	}
	return LTV{Variant: LTVEcom, Value: avgOrder * ordersPerMonth * gm * l.Months, Lifetime: l,
		Convention: fmt.Sprintf("average order × %.2f orders/month × gross margin %.1f %% × lifetime %.1f months%s", ordersPerMonth, gm*100, l.Months, capNote(l))}, nil
}

// DiscountedLTV is ARPA × GM × (1+d) ÷ (d + c): the present value of a margin
// paid at the start of every month while the customer survives with monthly
// churn c, discounted at d per month. At c = 0 the sum is cut at the lifetime
// cap instead (finite sum of the same series), and flagged.
func DiscountedLTV(arpa, gm, churn, discount, capMonths float64) (LTV, error) {
	if err := checkMargin(gm); err != nil {
		return LTV{}, err
	}
	if discount < 0 || math.IsNaN(discount) {
		return LTV{}, undefined("discount rate %.4f is negative", discount)
	}
	l, err := LifetimeMonths(churn, capMonths)
	if err != nil {
		return LTV{}, err
	}
	m := arpa * gm
	var v float64
	if l.Capped {
		// Σ_{t=0}^{n-1} m × ((1−c)/(1+d))^t over the capped lifetime.
		r := (1 - churn) / (1 + discount)
		n := l.Months
		if r == 1 {
			v = m * n
		} else {
			v = m * (1 - math.Pow(r, n)) / (1 - r)
		}
	} else {
		if discount+churn == 0 {
			return LTV{}, undefined("discount rate and churn are both zero")
		}
		v = m * (1 + discount) / (discount + churn)
	}
	return LTV{Variant: LTVDiscounted, Value: v, Lifetime: l,
		Convention: fmt.Sprintf("ARPA × gross margin %.1f %% × (1+d) ÷ (d+c), d %.2f %%/month, churn %.2f %%/month, paid at the start of each month%s", gm*100, discount*100, churn*100, capNote(l))}, nil
}

func capNote(l Lifetime) string {
	if l.Capped {
		return "; lifetime capped"
	}
	return ""
}

// CAC is acquisition cost ÷ new customers for one variant.
type CAC struct {
	Variant    string  `json:"variant"` // blended, paid, fully_loaded
	Value      float64 `json:"value"`   // minor units per customer
	Spend      int64   `json:"spend"`
	Customers  int64   `json:"customers"`
	Convention string  `json:"convention"`
}

// BlendedCAC is all sales & marketing spend ÷ all new customers of the period.
func BlendedCAC(spend, newCustomers int64) (CAC, error) {
	if newCustomers <= 0 {
		return CAC{}, undefined("no new customers in the period")
	}
	return CAC{Variant: "blended", Value: float64(spend) / float64(newCustomers), Spend: spend, Customers: newCustomers,
		Convention: "sales & marketing spend of the period ÷ all new customers of the period"}, nil
}

// PaidCAC is the same spend ÷ only the customers acquired through paid
// channels: what the spend bought, without organic customers diluting it.
func PaidCAC(spend, paidCustomers int64) (CAC, error) {
	if paidCustomers <= 0 {
		return CAC{}, undefined("no customers from paid channels in the period")
	}
	return CAC{Variant: "paid", Value: float64(spend) / float64(paidCustomers), Spend: spend, Customers: paidCustomers,
		Convention: "sales & marketing spend of the period ÷ new customers from paid channels"}, nil
}

// PaybackMonths is CAC ÷ (ARPA × gross margin): months of margin to earn back
// what acquiring the customer cost.
func PaybackMonths(cac, arpa, gm float64) (float64, error) {
	if err := checkMargin(gm); err != nil {
		return 0, err
	}
	if arpa*gm <= 0 {
		return 0, undefined("ARPA × gross margin is zero")
	}
	return cac / (arpa * gm), nil
}

// MaxAffordableCAC is LTV ÷ target (default 3): the most a customer may cost
// to acquire while LTV:CAC stays on target.
func MaxAffordableCAC(ltv, target float64) (float64, error) {
	if target <= 0 {
		return 0, undefined("LTV:CAC target %.2f is not positive", target)
	}
	return ltv / target, nil
}

// LTVToCAC is LTV ÷ CAC.
func LTVToCAC(ltv, cac float64) (float64, error) {
	if cac <= 0 {
		return 0, undefined("CAC is zero")
	}
	return ltv / cac, nil
}

// MRRChurn is gross and net MRR churn of a period over its starting MRR.
type MRRChurn struct {
	Gross float64 `json:"gross"` // (churn + contraction) ÷ start MRR
	Net   float64 `json:"net"`   // (churn + contraction − expansion − reactivation) ÷ start MRR
}

// MRRChurnRates computes gross and net MRR churn; all amounts are positive
// magnitudes of the period's movements.
func MRRChurnRates(startMRR, churn, contraction, expansion, reactivation int64) (MRRChurn, error) {
	if startMRR <= 0 {
		return MRRChurn{}, undefined("no MRR at the start of the period")
	}
	s := float64(startMRR)
	return MRRChurn{
		Gross: float64(churn+contraction) / s,
		Net:   float64(churn+contraction-expansion-reactivation) / s,
	}, nil
}

// QuickRatio is (new + expansion) ÷ (contraction + churn): growth bought per
// unit of revenue lost; above 4 is healthy for SaaS by common rule of thumb.
func QuickRatio(newMRR, expansion, contraction, churn int64) (float64, error) {
	if contraction+churn <= 0 {
		return 0, undefined("no contraction or churn in the period")
	}
	return float64(newMRR+expansion) / float64(contraction+churn), nil
}

// MagicNumber is (this quarter's recurring revenue − last quarter's) × 4 ÷ last
// quarter's sales & marketing spend: annualised new revenue per unit of spend.
func MagicNumber(prevQuarterRevenue, quarterRevenue, prevQuarterSM int64) (float64, error) {
	if prevQuarterSM <= 0 {
		return 0, undefined("no sales & marketing spend in the prior quarter")
	}
	return float64(quarterRevenue-prevQuarterRevenue) * 4 / float64(prevQuarterSM), nil
}

// LoadedCost is one person's fully loaded annual cost, in the itemised form or
// the multiplier form, never both (a 2× multiplier already covers the taxes,
// benefits and training it stands for).
type LoadedCost struct {
	Annual     float64 `json:"annual"`     // minor units per year
	Multiplier float64 `json:"multiplier"` // Annual ÷ base salary
	Convention string  `json:"convention"`
}

// ItemisedLoadedCost is base × (1 + employer tax + benefits + training) +
// per-seat items (overhead, office, phone, software, recruiting) per year.
func ItemisedLoadedCost(base int64, employerTax, benefits, training float64, perSeat int64) (LoadedCost, error) {
	if base <= 0 {
		return LoadedCost{}, undefined("base salary is not positive")
	}
	for _, r := range []float64{employerTax, benefits, training} {
		if r < 0 || math.IsNaN(r) {
			return LoadedCost{}, undefined("a loading rate is negative")
		}
	}
	a := float64(base)*(1+employerTax+benefits+training) + float64(perSeat)
	return LoadedCost{Annual: a, Multiplier: a / float64(base),
		Convention: fmt.Sprintf("base × (1 + tax %.2f %% + benefits %.2f %% + training %.2f %%) + per-seat items", employerTax*100, benefits*100, training*100)}, nil
}

// MultiplierLoadedCost is base × multiplier + per-seat infrastructure that the
// multiplier does not cover (office, phone, internet, software licences).
func MultiplierLoadedCost(base int64, multiplier float64, perSeat int64) (LoadedCost, error) {
	if base <= 0 {
		return LoadedCost{}, undefined("base salary is not positive")
	}
	if multiplier < 1 || math.IsNaN(multiplier) {
		return LoadedCost{}, undefined("loaded multiplier %.2f is below 1", multiplier)
	}
	a := float64(base)*multiplier + float64(perSeat)
	return LoadedCost{Annual: a, Multiplier: a / float64(base),
		Convention: fmt.Sprintf("base × %.2f (taxes, benefits, training) + per-seat infrastructure", multiplier)}, nil
}
