package economics

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// The unit economics report (docs/economics.md): CAC, MRR and its movements,
// churn, retention, LTV, the segment × motion matrix with its guardrails,
// cohorts, funnel economics and recommendations, computed from the cube of
// MRR movements and the acquisition cost book. ComputeMetrics is pure; the
// service reads its inputs (service_metrics.go).

// Churn conventions (logo churn).
const (
	ChurnStart        = "start_of_period" // churned ÷ customers at the start (default)
	ChurnStartPlusNew = "start_plus_new"  // churned ÷ (start + new + reactivated)
	ChurnExposure     = "exposure"        // churn events ÷ customer-months
)

// ChurnConventions lists the logo churn conventions, default first.
var ChurnConventions = []string{ChurnStart, ChurnStartPlusNew, ChurnExposure}

// Periods a report groups by.
var ReportPeriods = []string{"month", "quarter"}

// CAC variants.
const (
	CACBlended     = "blended"
	CACPaid        = "paid"
	CACFullyLoaded = "fully_loaded"
)

// CACVariants lists the CAC variants; the matrix uses fully loaded unless told.
var CACVariants = []string{CACFullyLoaded, CACBlended}

// LTVVariants lists the LTV variants, the default headline first.
var LTVVariants = []string{LTVSimpleGM, LTVRevenue, LTVEcom, LTVDiscounted, LTVCohort}

// AmberBand is how far on the wrong side of a target a cell may be and still
// be amber rather than red: 20 % (LTV:CAC down to 80 % of its target, payback
// up to 120 % of its target).
const AmberBand = 0.2

// Guardrail statuses.
const (
	StatusGreen  = "green"
	StatusAmber  = "amber"
	StatusRed    = "red"
	StatusNoData = "no_data"
)

// MetricsParams choose the window and the conventions of a report.
type MetricsParams struct {
	From, To string // months YYYY-MM, inclusive
	Period   string // month or quarter
	Churn    string // a logo churn convention
	LTV      string // the headline LTV variant
	CAC      string // the matrix CAC variant
	Currency string
}

// ScenarioCost is a staffing scenario's cost per SQL (the staffing planner's
// comparison; staffing imports this package, so it hands the figures in).
type ScenarioCost struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // in_house or partner
	Motion     string   `json:"motion"`
	Currency   string   `json:"currency"`
	CostPerSQL *float64 `json:"cost_per_sql"`
}

// CurrencyCount says how many customers are in a currency the report leaves out.
type CurrencyCount struct {
	Currency  string `json:"currency"`
	Customers int64  `json:"customers"`
}

// MetricsInput is everything ComputeMetrics reads.
type MetricsInput struct {
	Params   MetricsParams
	Settings Settings
	Cube     *Cube
	Spend    []model.SpendEntry
	Rules    []model.AllocationRule
	People   []PeopleCostRow
	Minutes  []store.SegmentMinutes
	// Subs are the subscriptions of the report currency active on the
	// window's last day.
	Subs   []store.ActiveSubscription
	Funnel *funnel.Result
	// OpenDeals are the open high-touch deals, Effort the person-minutes by
	// role of every deal, Rates the roles' hourly costs: cost-to-close.
	OpenDeals []store.OpenDeal
	Effort    map[int64]map[string]int64
	Rates     map[string]RoleRate
	Scenarios []ScenarioCost
	Others    []CurrencyCount
}

// CACFigure is one CAC variant.
type CACFigure struct {
	Variant    string   `json:"variant"`
	Value      *float64 `json:"value"`
	Cost       int64    `json:"cost"`
	Customers  int64    `json:"customers"`
	Convention string   `json:"convention"`
	Note       string   `json:"note,omitempty"`
}

// CACSet is the three CAC variants of one scope.
type CACSet struct {
	Blended     CACFigure `json:"blended"`
	Paid        CACFigure `json:"paid"`
	FullyLoaded CACFigure `json:"fully_loaded"`
}

// LTVFigure is one LTV variant.
type LTVFigure struct {
	Variant        string   `json:"variant"`
	Value          *float64 `json:"value"`
	Capped         bool     `json:"capped"`
	LifetimeMonths *float64 `json:"lifetime_months"`
	Convention     string   `json:"convention"`
	Note           string   `json:"note,omitempty"`
}

// ChurnRate is logo churn under one convention.
type ChurnRate struct {
	Convention string `json:"convention"`
	// Monthly is events ÷ the denominator summed over the window's months:
	// a monthly rate, the one LTV divides by.
	Monthly       *float64 `json:"monthly"`
	Events        int64    `json:"events"`
	Denominator   float64  `json:"denominator"`
	DenominatorIs string   `json:"denominator_is"`
	Note          string   `json:"note,omitempty"`
}

// Summary is the window's headline figures.
type Summary struct {
	MRR                  int64       `json:"mrr"`
	ARR                  int64       `json:"arr"`
	Customers            int64       `json:"customers"`
	NewCustomers         int64       `json:"new_customers"`
	PaidNewCustomers     int64       `json:"paid_new_customers"`
	ChurnedCustomers     int64       `json:"churned_customers"`
	ReactivatedCustomers int64       `json:"reactivated_customers"`
	ARPA                 *float64    `json:"arpa"`
	LogoChurn            ChurnRate   `json:"logo_churn"`
	LogoChurnAll         []ChurnRate `json:"logo_churn_conventions"`
	GrossMRRChurn        *float64    `json:"gross_mrr_churn"`
	NetMRRChurn          *float64    `json:"net_mrr_churn"`
	NRR                  *float64    `json:"nrr"`
	GRR                  *float64    `json:"grr"`
	QuickRatio           *float64    `json:"quick_ratio"`
	MagicNumber          *float64    `json:"magic_number"`
	MagicQuarter         string      `json:"magic_number_quarter"`
	GrossMargin          float64     `json:"gross_margin"`
	CAC                  CACSet      `json:"cac"`
	LTV                  []LTVFigure `json:"ltv"`
	Headline             LTVFigure   `json:"ltv_headline"`
	LTVToCAC             *float64    `json:"ltv_to_cac"`
	PaybackMonths        *float64    `json:"payback_months"`
	MaxAffordableCAC     *float64    `json:"max_affordable_cac"`
	Status               string      `json:"status"`
	Reasons              []string    `json:"reasons"`
	// Notes say why a figure is null, by field name.
	Notes map[string]string `json:"notes"`
}

// Period is one month or quarter of the window.
type Period struct {
	Key                  string            `json:"key"` // 2026-03 or 2026-Q1
	From                 string            `json:"from"`
	To                   string            `json:"to"`
	Partial              bool              `json:"partial"` // a quarter cut by the window
	CustomersStart       int64             `json:"customers_start"`
	NewCustomers         int64             `json:"new_customers"`
	PaidNewCustomers     int64             `json:"paid_new_customers"`
	ReactivatedCustomers int64             `json:"reactivated_customers"`
	ChurnedCustomers     int64             `json:"churned_customers"`
	CustomersEnd         int64             `json:"customers_end"`
	CustomerMonths       float64           `json:"customer_months"`
	MRRStart             int64             `json:"mrr_start"`
	New                  int64             `json:"new"`
	Expansion            int64             `json:"expansion"`
	Reactivation         int64             `json:"reactivation"`
	Contraction          int64             `json:"contraction"`
	Churn                int64             `json:"churn"`
	MRREnd               int64             `json:"mrr_end"`
	IdentityHolds        bool              `json:"identity_holds"`
	RecurringRevenue     int64             `json:"recurring_revenue"`
	CAC                  CACSet            `json:"cac"`
	ARPA                 *float64          `json:"arpa"`
	LogoChurn            *float64          `json:"logo_churn"`
	GrossMRRChurn        *float64          `json:"gross_mrr_churn"`
	NetMRRChurn          *float64          `json:"net_mrr_churn"`
	QuickRatio           *float64          `json:"quick_ratio"`
	MagicNumber          *float64          `json:"magic_number"`
	Notes                map[string]string `json:"notes"`
}

// ChannelCAC is blended CAC of one channel over the window.
type ChannelCAC struct {
	Channel      string   `json:"channel"`
	Paid         bool     `json:"paid"`
	Spend        int64    `json:"spend"`
	NewCustomers int64    `json:"new_customers"`
	CAC          *float64 `json:"cac"`
	Note         string   `json:"note,omitempty"`
}

// GroupCAC is CAC of one segment (over its motions) or one motion (over its
// segments).
type GroupCAC struct {
	Key              string `json:"key"`
	NewCustomers     int64  `json:"new_customers"`
	PaidNewCustomers int64  `json:"paid_new_customers"`
	BlendedCost      int64  `json:"blended_cost"`
	FullyLoadedCost  int64  `json:"fully_loaded_cost"`
	CAC              CACSet `json:"cac"`
}

// CellMetrics is one segment × motion of the matrix, with the numbers behind
// its colour.
type CellMetrics struct {
	Segment          string            `json:"segment"`
	Motion           string            `json:"motion"`
	NewCustomers     int64             `json:"new_customers"`
	PaidNewCustomers int64             `json:"paid_new_customers"`
	Customers        int64             `json:"customers"` // active at the end
	MRR              int64             `json:"mrr"`
	ARPA             *float64          `json:"arpa"`
	GrossMargin      float64           `json:"gross_margin"`
	MarginSource     string            `json:"gross_margin_source"`
	Churn            ChurnRate         `json:"logo_churn"`
	BlendedCost      int64             `json:"blended_cost"`
	FullyLoadedCost  int64             `json:"fully_loaded_cost"`
	CAC              CACSet            `json:"cac"`
	CACUsed          *float64          `json:"cac_used"`
	LTV              []LTVFigure       `json:"ltv"`
	LTVUsed          *float64          `json:"ltv_used"`
	LTVCapped        bool              `json:"ltv_capped"`
	LTVToCAC         *float64          `json:"ltv_to_cac"`
	PaybackMonths    *float64          `json:"payback_months"`
	PaybackTarget    *float64          `json:"payback_target_months"`
	MaxAffordableCAC *float64          `json:"max_affordable_cac"`
	Status           string            `json:"status"`
	Reasons          []string          `json:"reasons"`
	Notes            map[string]string `json:"notes"`
}

// Matrix is LTV:CAC and payback by segment × motion.
type Matrix struct {
	Segments   []string      `json:"segments"`
	Motions    []string      `json:"motions"`
	CAC        string        `json:"cac_variant"`
	LTV        string        `json:"ltv_variant"`
	Target     float64       `json:"ltv_cac_target"`
	AmberBand  float64       `json:"amber_band"`
	Rule       string        `json:"rule"`
	Cells      []CellMetrics `json:"cells"`
	Unassigned int64         `json:"unattributed_people_cost"`
}

// CohortRow is one acquisition month's retention.
type CohortRow struct {
	Cohort    string `json:"cohort"`
	Customers int64  `json:"customers"`
	StartMRR  int64  `json:"start_mrr"`
	// By age 0, 1, … (months after the acquisition month), up to the window's end.
	ActiveLogos []int64    `json:"active_logos"`
	MRR         []int64    `json:"mrr"`
	Logo        []*float64 `json:"logo_retention"`
	Revenue     []*float64 `json:"revenue_retention"`
	// RealisedLTV is gross profit per customer acquired so far; CohortLTV adds the tail.
	RealisedGrossProfit float64  `json:"realised_gross_profit"`
	RealisedLTV         *float64 `json:"realised_ltv"`
	Tail                *float64 `json:"tail_per_customer"`
	CohortLTV           *float64 `json:"cohort_ltv"`
}

// Cohorts are the retention matrices of the window's acquisition months.
type Cohorts struct {
	Convention string      `json:"convention"`
	Segment    string      `json:"segment,omitempty"`
	Motion     string      `json:"motion,omitempty"`
	MaxAge     int         `json:"max_age"`
	Rows       []CohortRow `json:"rows"`
}

// FunnelStageCost is cost per contact reaching one stage.
type FunnelStageCost struct {
	Stage   string   `json:"stage"`
	Reached int64    `json:"reached"`
	CostPer *float64 `json:"cost_per"`
}

// FunnelMotion is the funnel economics of one motion.
type FunnelMotion struct {
	Motion string            `json:"motion"`
	Cost   int64             `json:"cost"`
	Stages []FunnelStageCost `json:"stages"`
}

// FunnelEconomics is cost per MQL, SQL, opportunity and won customer per motion.
type FunnelEconomics struct {
	Convention string         `json:"convention"`
	Rows       []FunnelMotion `json:"rows"`
	Note       string         `json:"note,omitempty"`
}

// MRRReport is the window's MRR bridge in the subscriptions package's terms.
type MRRReport struct {
	Convention subscriptions.Convention    `json:"convention"`
	Bridge     subscriptions.Bridge        `json:"bridge"`
	Months     []subscriptions.MonthBridge `json:"months"`
	MRR        int64                       `json:"mrr"`
	ARR        int64                       `json:"arr"`
}

// Metrics is the whole unit economics report.
type Metrics struct {
	From            string            `json:"from"`
	To              string            `json:"to"`
	Period          string            `json:"period"`
	Currency        string            `json:"currency"`
	Churn           string            `json:"churn_convention"`
	Conventions     map[string]string `json:"conventions"`
	Settings        Settings          `json:"settings"`
	Summary         Summary           `json:"summary"`
	Periods         []Period          `json:"periods"`
	Channels        []ChannelCAC      `json:"channels"`
	Segments        []GroupCAC        `json:"segments"`
	Motions         []GroupCAC        `json:"motions"`
	Matrix          Matrix            `json:"matrix"`
	Cohorts         Cohorts           `json:"cohorts"`
	Funnel          FunnelEconomics   `json:"funnel"`
	MRR             MRRReport         `json:"mrr"`
	CostToClose     []CostToClose     `json:"cost_to_close"`
	Recommendations []Recommendation  `json:"recommendations"`
	Notes           []string          `json:"notes"`
}

// Conventions in words, keyed as in Metrics.Conventions.
var metricConventions = map[string]string{
	"window":           "Calendar months from..to, both included (UTC); a month's figures are at its end (end-of-month MRR and customers).",
	"currency":         "One currency (default the workspace's); customers, subscriptions, spend and people cost in other currencies are left out and counted in notes, never converted.",
	"customer":         "A customer is an account with an MRR movement. Its cohort, segment and motion are those of its one `new` movement (the account's when it first became a customer), kept for its whole history; a customer whose account had none is `unassigned`. New customers are new logos: reactivations are counted apart.",
	"channel":          "A customer's acquisition channel is the source of its account's earliest contact, as a channel key (\"Paid Search\" → paid_search); `unknown` without one. Paid customers are those of a paid channel (settings.paid_channels).",
	"mrr":              "MRR at the end of a month = Σ of the signed MRR movements up to its last day (subscriptions package: quantity × unit price ÷ months of the interval); ARR = 12 × MRR.",
	"arpa":             "ARPA = Σ end-of-month MRR ÷ Σ end-of-month active customers over the months in scope (revenue per customer-month).",
	"logo_churn":       "Logo churn (monthly) = churn events ÷ the convention's denominator, each summed over the months in scope: start_of_period (default) — customers active at each month's start; start_plus_new — start + new + reactivated in the month; exposure — customer-months, (start + end) ÷ 2 per month. A period's rate uses the period's own events and denominator (a quarter's start_of_period rate is quarterly).",
	"mrr_churn":        "Gross MRR churn = (churn + contraction) ÷ MRR at the start; net MRR churn = (churn + contraction − expansion − reactivation) ÷ MRR at the start; over the period or window named.",
	"nrr":              "NRR = (start MRR + expansion − contraction − churn) ÷ start MRR, over the window, counting only customers acquired before it (reactivations left out); GRR likewise without expansion.",
	"quick_ratio":      "Quick ratio = (new + expansion) ÷ (contraction + churn) MRR of the period (PRODUCT.md §6; reactivation is shown beside it, not in it).",
	"magic_number":     "Magic number of a calendar quarter = (its recurring revenue − the prior quarter's) × 4 ÷ the prior quarter's fully loaded sales & marketing cost; a quarter's recurring revenue = Σ of its three end-of-month MRRs. The summary shows the last complete quarter of the window.",
	"cac_blended":      "Blended CAC = " + ConvBlendedCost + " ÷ new customers of the period (all channels).",
	"cac_paid":         "Paid CAC = the same blended cost ÷ new customers from paid channels only (organic customers do not dilute what the spend bought).",
	"cac_fully_loaded": "Fully loaded CAC = " + ConvFullyLoadedCost + " ÷ new customers of the period.",
	"people_to_cells":  ConvPeopleToSegments,
	"gross_margin":     "Gross margin: the workspace's; with plan margins set, a cell uses the MRR-weighted margin of its customers' subscriptions active at the window's end.",
	"ltv_simple_gm":    "simple_gm (default headline) = ARPA × gross margin ÷ monthly logo churn; lifetime 1 ÷ churn capped at the lifetime cap (flagged).",
	"ltv_revenue":      "revenue = ARPA ÷ monthly logo churn, no margin (what ChartMogul/Baremetrics report).",
	"ltv_ecom":         "ecom = average order value × orders per month × gross margin × lifetime: an order is a billing charge of a subscription active at the window's end (MRR × months of its interval), orders per month per customer = Σ 1 ÷ interval months.",
	"ltv_discounted":   "discounted = ARPA × GM × (1 + d) ÷ (d + c), d the monthly discount rate, c monthly logo churn, margin paid at the start of each month; at zero churn the sum runs over the capped lifetime.",
	"ltv_cohort":       "cohort = (realised gross profit of the cell's cohorts up to the window's end — Σ end-of-month MRR × GM — plus a tail: each cohort's MRR at the end × GM × min(1 ÷ churn, lifetime cap − age)) ÷ customers acquired. The tail values what survives as simple_gm would, without exceeding the cap.",
	"ltv_cac":          "LTV:CAC = LTV (headline variant) ÷ CAC (matrix variant); max affordable CAC = LTV ÷ the LTV:CAC target.",
	"payback":          "CAC payback (months) = CAC ÷ (ARPA × gross margin).",
	"guardrail":        "Green: LTV:CAC ≥ target and payback ≤ the segment's payback target (when it has one). Red: LTV:CAC below target × 0.8, or payback above target × 1.2. Amber: in between (within 20 % of a target on the wrong side). no_data: no new customers in the window, no cost attributed, or no LTV.",
	"cohorts":          "Cohort = acquisition month (first `new` movement). Logo retention at age k = the cohort's customers active at the end of month cohort + k ÷ customers acquired; revenue retention = its MRR then ÷ its MRR at the end of the acquisition month. Realised LTV = Σ end-of-month MRR × GM up to the window's end ÷ customers acquired.",
	"funnel":           "Cost per stage of a motion = the motion's fully loaded cost in the window (ledger allocated to the motion + its people cost) ÷ contacts of that motion reaching the stage in the window (funnel report conventions); won customers are the motion's new customers (logos) in the window.",
	"cost_to_close":    "Cost-to-close of a deal = Σ over roles of the deal's effort hours (forecast effort convention) × the role's loaded hourly cost = annual loaded cost of its cost profiles (headcount-weighted over the last 12 months; a plain mean without headcount) ÷ working hours a year (settings, default 1,800). Admins, former members and unattributed time have no profile and are listed uncosted.",
}

func ptr(v float64) *float64 { return &v }

// val is a formula's value, or nil when it is undefined.
func val(v float64, err error) *float64 {
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// month stats over the cube's months.
type monthStat struct {
	agg
	startMRR, endMRR   int64
	startCust, endCust int64
}

// statsOf walks a series (indexed from c.First) to monthly stats for months
// [from, to]; months before the cube's first have nothing.
func statsOf(c *Cube, s []agg, from, to int) []monthStat {
	out := make([]monthStat, 0, to-from+1)
	var mrr, cust int64
	for mi := min(c.First, from); mi <= to; mi++ {
		var a agg
		if i := mi - c.First; i >= 0 && i < len(s) {
			a = s[i]
		}
		st := monthStat{agg: a, startMRR: mrr, startCust: cust}
		mrr += a.net()
		cust += a.logoNet()
		st.endMRR, st.endCust = mrr, cust
		if mi >= from {
			out = append(out, st)
		}
	}
	return out
}

// churnOf computes logo churn under conv over month stats.
func churnOf(ms []monthStat, conv string) ChurnRate {
	r := ChurnRate{Convention: conv}
	for _, m := range ms {
		r.Events += m.n[kChurn]
		switch conv {
		case ChurnStartPlusNew:
			r.Denominator += float64(m.startCust + m.n[kNew] + m.n[kReactivation])
		case ChurnExposure:
			r.Denominator += float64(m.startCust+m.endCust) / 2
		default:
			r.Denominator += float64(m.startCust)
		}
	}
	switch conv {
	case ChurnStartPlusNew:
		r.DenominatorIs = "Σ over months of customers at the start + new + reactivated in the month"
	case ChurnExposure:
		r.DenominatorIs = "customer-months: Σ over months of (customers at the start + at the end) ÷ 2"
	default:
		r.DenominatorIs = "Σ over months of customers active at the month's start"
	}
	if r.Denominator > 0 {
		r.Monthly = ptr(float64(r.Events) / r.Denominator)
	} else {
		r.Note = "no customers in the months in scope"
	}
	return r
}

// periodChurn is one period's logo churn rate under conv.
func periodChurn(ms []monthStat, conv string) (float64, bool) {
	if len(ms) == 0 {
		return 0, false
	}
	var events int64
	var den float64
	for _, m := range ms {
		events += m.n[kChurn]
	}
	switch conv {
	case ChurnStartPlusNew:
		den = float64(ms[0].startCust)
		for _, m := range ms {
			den += float64(m.n[kNew] + m.n[kReactivation])
		}
	case ChurnExposure:
		for _, m := range ms {
			den += float64(m.startCust+m.endCust) / 2
		}
	default:
		den = float64(ms[0].startCust)
	}
	if den == 0 {
		return 0, false
	}
	return float64(events) / den, true
}

// arpaOf is Σ end MRR ÷ Σ end customers.
func arpaOf(ms []monthStat) (float64, bool) {
	var mrr, cust int64
	for _, m := range ms {
		mrr += m.endMRR
		cust += m.endCust
	}
	if cust == 0 {
		return 0, false
	}
	return float64(mrr) / float64(cust), true
}

func sumAgg(ms []monthStat) agg {
	var a agg
	for i := range ms {
		a.add(&ms[i].agg)
	}
	return a
}

// ltvSet computes every LTV variant for one scope.
type ltvInputs struct {
	arpa       *float64
	gm         float64
	churn      *float64
	discount   float64
	cap        float64
	aov        *float64 // ecom: average order value
	orders     *float64 // ecom: orders per customer-month
	cohortLTV  *float64
	cohortNote string
}

func ltvSet(in ltvInputs) []LTVFigure {
	out := make([]LTVFigure, 0, len(LTVVariants))
	miss := func(variant, why string) LTVFigure {
		return LTVFigure{Variant: variant, Convention: metricConventions["ltv_"+variant], Note: why}
	}
	from := func(l LTV, err error) LTVFigure {
		if err != nil {
			return miss(l.Variant, strings.TrimPrefix(err.Error(), "economics: undefined: "))
		}
		months := l.Lifetime.Months
		return LTVFigure{Variant: l.Variant, Value: ptr(l.Value), Capped: l.Lifetime.Capped, LifetimeMonths: &months, Convention: l.Convention}
	}
	for _, v := range LTVVariants {
		if v != LTVCohort && (in.arpa == nil || in.churn == nil) {
			why := "no ARPA: no customers in the months in scope"
			if in.arpa != nil {
				why = "no churn rate: no customers in the months in scope"
			}
			out = append(out, miss(v, why))
			continue
		}
		switch v {
		case LTVSimpleGM:
			l, err := SimpleGMLTV(*in.arpa, in.gm, *in.churn, in.cap)
			l.Variant = v
			out = append(out, from(l, err))
		case LTVRevenue:
			l, err := RevenueLTV(*in.arpa, *in.churn, in.cap)
			l.Variant = v
			out = append(out, from(l, err))
		case LTVEcom:
			if in.aov == nil || in.orders == nil {
				out = append(out, miss(v, "no subscriptions active at the window's end"))
				continue
			}
			l, err := EcomLTV(*in.aov, *in.orders, in.gm, *in.churn, in.cap)
			l.Variant = v
			f := from(l, err)
			if err == nil {
				f.Convention = fmt.Sprintf("average order %.2f × %s", *in.aov/100, strings.TrimPrefix(l.Convention, "average order × "))
			}
			out = append(out, f)
		case LTVDiscounted:
			l, err := DiscountedLTV(*in.arpa, in.gm, *in.churn, in.discount, in.cap)
			l.Variant = v
			out = append(out, from(l, err))
		case LTVCohort:
			if in.cohortLTV == nil {
				out = append(out, miss(v, in.cohortNote))
				continue
			}
			out = append(out, LTVFigure{Variant: v, Value: in.cohortLTV, Convention: metricConventions["ltv_cohort"], Note: in.cohortNote})
		}
	}
	return out
}

func pick(ls []LTVFigure, variant string) LTVFigure {
	for _, l := range ls {
		if l.Variant == variant {
			return l
		}
	}
	return LTVFigure{Variant: variant}
}

// Grade colours LTV:CAC and payback against their targets (metricConventions["guardrail"]).
func Grade(ltvCAC, payback, paybackTarget *float64, target float64) (string, []string) {
	const eps = 1e-9 // the band's edges belong to amber (3 × 0.8 is 2.4000000000000004 in floating point)
	if ltvCAC == nil {
		return StatusNoData, []string{"no LTV:CAC: see the notes"}
	}
	var reasons []string
	status := StatusGreen
	worse := func(s string) {
		if s == StatusRed || (s == StatusAmber && status == StatusGreen) {
			status = s
		}
	}
	switch r := *ltvCAC; {
	case r >= target:
		reasons = append(reasons, fmt.Sprintf("LTV:CAC %s meets the target %s", fmtRatio(r), fmtRatio(target)))
	case r >= target*(1-AmberBand)-eps:
		worse(StatusAmber)
		reasons = append(reasons, fmt.Sprintf("LTV:CAC %s is below the target %s but within 20 %% (amber down to %s)", fmtRatio(r), fmtRatio(target), fmtRatio(target*(1-AmberBand))))
	default:
		worse(StatusRed)
		reasons = append(reasons, fmt.Sprintf("LTV:CAC %s is below %s (the target %s less 20 %%)", fmtRatio(r), fmtRatio(target*(1-AmberBand)), fmtRatio(target)))
	}
	if paybackTarget != nil && payback != nil {
		pt := *paybackTarget
		switch p := *payback; {
		case p <= pt:
			reasons = append(reasons, fmt.Sprintf("payback %.1f months is within the target %s months", p, trimFloat(pt)))
		case p <= pt*(1+AmberBand)+eps:
			worse(StatusAmber)
			reasons = append(reasons, fmt.Sprintf("payback %.1f months is over the target %s months but within 20 %% (amber up to %.1f)", p, trimFloat(pt), pt*(1+AmberBand)))
		default:
			worse(StatusRed)
			reasons = append(reasons, fmt.Sprintf("payback %.1f months is over %.1f (the target %s months plus 20 %%)", p, pt*(1+AmberBand), trimFloat(pt)))
		}
	} else if paybackTarget == nil {
		reasons = append(reasons, "no payback target for this segment")
	}
	return status, reasons
}

func fmtRatio(r float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", r), "0"), ".")
}

// periodSpan is one period's months (indexes) and names.
type periodSpan struct {
	key      string
	from, to int
	partial  bool
}

func periodsOf(from, to int, period string) []periodSpan {
	var out []periodSpan
	if period != "quarter" {
		for m := from; m <= to; m++ {
			out = append(out, periodSpan{key: monthName(m), from: m, to: m})
		}
		return out
	}
	for q := from - from%3; q <= to; q += 3 {
		s, e := max(q, from), min(q+2, to)
		out = append(out, periodSpan{key: fmt.Sprintf("%04d-Q%d", q/12, q%12/3+1), from: s, to: e, partial: s != q || e != q+2})
	}
	return out
}

// ComputeMetrics computes the report.
func ComputeMetrics(in MetricsInput) Metrics {
	p, set, c := in.Params, in.Settings, in.Cube
	from, _ := monthIndex(p.From)
	to, _ := monthIndex(p.To)
	out := Metrics{From: p.From, To: p.To, Period: p.Period, Currency: p.Currency, Churn: p.Churn, Settings: set,
		Conventions: metricConventions, Periods: []Period{}, Channels: []ChannelCAC{}, Recommendations: []Recommendation{}, Notes: []string{}, Segments: []GroupCAC{}, Motions: []GroupCAC{}}
	for _, o := range in.Others {
		out.Notes = append(out.Notes, fmt.Sprintf("%d customers in %s are left out (amounts are never converted).", o.Customers, o.Currency))
	}
	if c.Skipped > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d MRR movements had no matching acquisition and were left out.", c.Skipped))
	}

	// Who was acquired when, through which cell and channel.
	newBy := map[int]int64{}      // month → new customers
	paidBy := map[int]int64{}     // month → paid new customers
	cellNew := map[int]int64{}    // cell → new customers in the window
	cellPaid := map[int]int64{}   // cell → paid new customers in the window
	chanNew := map[string]int64{} // channel → new customers in the window
	chanPaid := map[string]bool{}
	newCust := map[string]map[string]int64{} // motion → segment → new in window
	for _, cu := range c.Customers {
		newBy[cu.Cohort]++
		if cu.Paid {
			paidBy[cu.Cohort]++
		}
		if cu.Cohort < from || cu.Cohort > to {
			continue
		}
		cellNew[cu.Cell]++
		if cu.Paid {
			cellPaid[cu.Cell]++
		}
		chanNew[cu.Channel]++
		chanPaid[cu.Channel] = cu.Paid
		cl := c.Cells[cu.Cell]
		if newCust[cl.Motion] == nil {
			newCust[cl.Motion] = map[string]int64{}
		}
		newCust[cl.Motion][cl.Segment]++
	}

	book := buildCosts(p.Currency, in.Spend, in.Rules, in.People)
	shares := newSegmentShares(in.Minutes)
	shares.newCust = newCust
	win := book.window(from, to, shares)
	if win.Unallocated != 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s of spend matches no allocation rule: it is in the totals, in no segment × motion.", fmtMoney(win.Unallocated, p.Currency)))
	}
	if win.UnattributedPpl != 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s of people cost could not be placed in a segment (no activity minutes and no new customers in its motion): in the totals, in no cell.", fmtMoney(win.UnattributedPpl, p.Currency)))
	}

	total := c.series(nil, math.MinInt, math.MaxInt)
	ms := statsOf(c, total, from, to)
	cac := func(blended, fully, customers, paid int64) CACSet {
		s := CACSet{
			Blended:     CACFigure{Variant: CACBlended, Cost: blended, Customers: customers, Convention: metricConventions["cac_blended"]},
			Paid:        CACFigure{Variant: CACPaid, Cost: blended, Customers: paid, Convention: metricConventions["cac_paid"]},
			FullyLoaded: CACFigure{Variant: CACFullyLoaded, Cost: fully, Customers: customers, Convention: metricConventions["cac_fully_loaded"]},
		}
		if v, err := BlendedCAC(blended, customers); err == nil {
			s.Blended.Value = ptr(v.Value)
		} else {
			s.Blended.Note = "no new customers"
		}
		if v, err := PaidCAC(blended, paid); err == nil {
			s.Paid.Value = ptr(v.Value)
		} else {
			s.Paid.Note = "no new customers from paid channels"
		}
		if v, err := BlendedCAC(fully, customers); err == nil {
			s.FullyLoaded.Value = ptr(v.Value)
		} else {
			s.FullyLoaded.Note = "no new customers"
		}
		return s
	}

	// Periods.
	revenue := func(q int) int64 { // recurring revenue of the quarter starting at month q
		var r int64
		for _, m := range statsOf(c, total, q, q+2) {
			r += m.endMRR
		}
		return r
	}
	magic := func(q int) (*float64, string) { // quarter starting at q
		rev, prev := revenue(q), revenue(q-3)
		cost := book.window(q-3, q-1, shares).FullyLoaded
		v, err := MagicNumber(prev, rev, cost)
		if err != nil {
			return nil, "no sales & marketing cost in the prior quarter"
		}
		return &v, ""
	}
	for _, ps := range periodsOf(from, to, p.Period) {
		pm := ms[ps.from-from : ps.to-from+1]
		a := sumAgg(pm)
		notes := map[string]string{}
		var nNew, nPaid int64
		for m := ps.from; m <= ps.to; m++ {
			nNew += newBy[m]
			nPaid += paidBy[m]
		}
		pc := book.window(ps.from, ps.to, shares)
		per := Period{Key: ps.key, From: monthName(ps.from), To: monthName(ps.to), Partial: ps.partial,
			CustomersStart: pm[0].startCust, NewCustomers: nNew, PaidNewCustomers: nPaid, ReactivatedCustomers: a.n[kReactivation], ChurnedCustomers: a.n[kChurn],
			CustomersEnd: pm[len(pm)-1].endCust, MRRStart: pm[0].startMRR, New: a.amt[kNew], Expansion: a.amt[kExpansion], Reactivation: a.amt[kReactivation],
			Contraction: a.amt[kContraction], Churn: a.amt[kChurn], MRREnd: pm[len(pm)-1].endMRR, Notes: notes}
		per.IdentityHolds = per.MRREnd == per.MRRStart+a.net()
		for _, m := range pm {
			per.RecurringRevenue += m.endMRR
			per.CustomerMonths += float64(m.startCust+m.endCust) / 2
		}
		per.CAC = cac(pc.Ledger, pc.FullyLoaded, nNew, nPaid)
		if v, ok := arpaOf(pm); ok {
			per.ARPA = &v
		} else {
			notes["arpa"] = "no customers"
		}
		if v, ok := periodChurn(pm, p.Churn); ok {
			per.LogoChurn = &v
		} else {
			notes["logo_churn"] = "no customers at the start"
		}
		if r, err := MRRChurnRates(per.MRRStart, per.Churn, per.Contraction, per.Expansion, per.Reactivation); err == nil {
			per.GrossMRRChurn, per.NetMRRChurn = ptr(r.Gross), ptr(r.Net)
		} else {
			notes["gross_mrr_churn"], notes["net_mrr_churn"] = "no MRR at the start", "no MRR at the start"
		}
		per.QuickRatio = val(QuickRatio(per.New, per.Expansion, per.Contraction, per.Churn))
		if per.QuickRatio == nil {
			notes["quick_ratio"] = "no contraction or churn in the period"
		}
		if p.Period == "quarter" && !ps.partial {
			var why string
			if per.MagicNumber, why = magic(ps.from); why != "" {
				notes["magic_number"] = why
			}
		}
		out.Periods = append(out.Periods, per)
	}

	// Summary over the window.
	sm := Summary{Notes: map[string]string{}, Reasons: []string{}, GrossMargin: set.GrossMargin}
	wa := sumAgg(ms)
	last := ms[len(ms)-1]
	sm.MRR, sm.ARR, sm.Customers = last.endMRR, 12*last.endMRR, last.endCust
	sm.ChurnedCustomers, sm.ReactivatedCustomers = wa.n[kChurn], wa.n[kReactivation]
	for m := from; m <= to; m++ {
		sm.NewCustomers += newBy[m]
		sm.PaidNewCustomers += paidBy[m]
	}
	if v, ok := arpaOf(ms); ok {
		sm.ARPA = &v
	} else {
		sm.Notes["arpa"] = "no customers in the window"
	}
	for _, conv := range ChurnConventions {
		sm.LogoChurnAll = append(sm.LogoChurnAll, churnOf(ms, conv))
	}
	sm.LogoChurn = churnOf(ms, p.Churn)
	if r, err := MRRChurnRates(ms[0].startMRR, wa.amt[kChurn], wa.amt[kContraction], wa.amt[kExpansion], wa.amt[kReactivation]); err == nil {
		sm.GrossMRRChurn, sm.NetMRRChurn = ptr(r.Gross), ptr(r.Net)
	} else {
		sm.Notes["gross_mrr_churn"], sm.Notes["net_mrr_churn"] = "no MRR at the window's start", "no MRR at the window's start"
	}
	sm.QuickRatio = val(QuickRatio(wa.amt[kNew], wa.amt[kExpansion], wa.amt[kContraction], wa.amt[kChurn]))
	if sm.QuickRatio == nil {
		sm.Notes["quick_ratio"] = "no contraction or churn in the window"
	}
	// NRR/GRR: customers acquired before the window.
	pre := sumAgg(statsOf(c, c.series(nil, math.MinInt, from-1), from, to))
	if start := ms[0].startMRR; start > 0 {
		s := float64(start)
		sm.NRR = ptr((s + float64(pre.amt[kExpansion]-pre.amt[kContraction]-pre.amt[kChurn])) / s)
		sm.GRR = ptr((s - float64(pre.amt[kContraction]+pre.amt[kChurn])) / s)
	} else {
		sm.Notes["nrr"], sm.Notes["grr"] = "no MRR at the window's start", "no MRR at the window's start"
	}
	{ // the last complete calendar quarter in the window
		q := to - to%3
		if q+2 > to {
			q -= 3
		}
		if q >= from {
			var why string
			if sm.MagicNumber, why = magic(q); why != "" {
				sm.Notes["magic_number"] = why
			}
			sm.MagicQuarter = fmt.Sprintf("%04d-Q%d", q/12, q%12/3+1)
		} else {
			sm.Notes["magic_number"] = "no complete calendar quarter in the window"
		}
	}
	sm.CAC = cac(win.Ledger, win.FullyLoaded, sm.NewCustomers, sm.PaidNewCustomers)

	// Gross margin and order values by cell, from the subscriptions active at the end.
	gmCell, gmSrc, aov, orders := marginsAndOrders(c, in.Subs, set)

	// The matrix.
	segs, motions := matrixAxes(c, win, set)
	mx := Matrix{Segments: segs, Motions: motions, CAC: p.CAC, LTV: p.LTV, Target: set.LTVCACTarget, AmberBand: AmberBand, Rule: metricConventions["guardrail"], Unassigned: win.UnattributedPpl, Cells: []CellMetrics{}}
	capMonths := float64(set.LifetimeCapMonths)
	cellLTVs := map[Cell]LTVFigure{}
	for _, seg := range segs {
		for _, mot := range motions {
			cl := Cell{seg, mot}
			idx, known := c.cellIdx[cl]
			cm := CellMetrics{Segment: seg, Motion: mot, Notes: map[string]string{}, Reasons: []string{}, GrossMargin: set.GrossMargin, MarginSource: "workspace"}
			var cms []monthStat
			if known {
				keep := func(i int) bool { return i == idx }
				cms = statsOf(c, c.series(keep, math.MinInt, math.MaxInt), from, to)
				cm.NewCustomers, cm.PaidNewCustomers = cellNew[idx], cellPaid[idx]
				l := cms[len(cms)-1]
				cm.Customers, cm.MRR = l.endCust, l.endMRR
				if g, ok := gmCell[idx]; ok {
					cm.GrossMargin, cm.MarginSource = g, gmSrc[idx]
				}
			}
			cm.BlendedCost, cm.FullyLoadedCost = win.CellLedger[cl], win.CellFully[cl]
			cm.CAC = cac(cm.BlendedCost, cm.FullyLoadedCost, cm.NewCustomers, cm.PaidNewCustomers)
			if known {
				if v, ok := arpaOf(cms); ok {
					cm.ARPA = &v
				}
				cm.Churn = churnOf(cms, p.Churn)
			} else {
				cm.Churn = ChurnRate{Convention: p.Churn, Note: "no customers", DenominatorIs: churnOf(nil, p.Churn).DenominatorIs}
			}
			if cm.ARPA == nil {
				cm.Notes["arpa"] = "no customers in the window"
			}
			li := ltvInputs{arpa: cm.ARPA, gm: cm.GrossMargin, churn: cm.Churn.Monthly, discount: set.DiscountRate, cap: capMonths}
			if known {
				if v, ok := aov[idx]; ok {
					li.aov, li.orders = ptr(v), ptr(orders[idx])
				}
				li.cohortLTV, li.cohortNote = cohortLTV(c, idx, to, cm.GrossMargin, cm.Churn.Monthly, capMonths)
			} else {
				li.cohortNote = "no customers"
			}
			cm.LTV = ltvSet(li)
			head := pick(cm.LTV, p.LTV)
			cellLTVs[cl] = head
			cm.LTVUsed, cm.LTVCapped = head.Value, head.Capped
			if head.Value == nil {
				cm.Notes["ltv_used"] = head.Note
			}
			cm.CACUsed = cm.CAC.FullyLoaded.Value
			if p.CAC == CACBlended {
				cm.CACUsed = cm.CAC.Blended.Value
			}
			if cm.CACUsed == nil {
				cm.Notes["cac_used"] = "no new customers in the window"
			}
			if t, ok := set.PaybackTargetMonths[seg]; ok {
				cm.PaybackTarget = ptr(t)
			}
			if cm.LTVUsed != nil {
				cm.MaxAffordableCAC = val(MaxAffordableCAC(*cm.LTVUsed, set.LTVCACTarget))
			}
			if cm.LTVUsed != nil && cm.CACUsed != nil {
				if *cm.CACUsed <= 0 {
					cm.Notes["ltv_to_cac"] = "no acquisition cost attributed to this cell"
				} else {
					cm.LTVToCAC = ptr(*cm.LTVUsed / *cm.CACUsed)
				}
			}
			if cm.CACUsed != nil && cm.ARPA != nil {
				cm.PaybackMonths = val(PaybackMonths(*cm.CACUsed, *cm.ARPA, cm.GrossMargin))
			}
			cm.Status, cm.Reasons = Grade(cm.LTVToCAC, cm.PaybackMonths, cm.PaybackTarget, set.LTVCACTarget)
			if cm.Status == StatusNoData {
				cm.Reasons = noDataReasons(cm)
			}
			mx.Cells = append(mx.Cells, cm)
		}
	}
	out.Matrix = mx

	// CAC by segment (its cells summed) and by motion (its cells, plus the
	// motion's people cost no segment could take).
	bySeg, byMot := map[string]*GroupCAC{}, map[string]*GroupCAC{}
	for _, cm := range mx.Cells {
		for _, g := range []struct {
			m   map[string]*GroupCAC
			key string
		}{{bySeg, cm.Segment}, {byMot, cm.Motion}} {
			x := g.m[g.key]
			if x == nil {
				x = &GroupCAC{Key: g.key}
				g.m[g.key] = x
			}
			x.NewCustomers += cm.NewCustomers
			x.PaidNewCustomers += cm.PaidNewCustomers
			x.BlendedCost += cm.BlendedCost
			x.FullyLoadedCost += cm.FullyLoadedCost
		}
	}
	for _, seg := range segs {
		if x := bySeg[seg]; x != nil {
			x.CAC = cac(x.BlendedCost, x.FullyLoadedCost, x.NewCustomers, x.PaidNewCustomers)
			out.Segments = append(out.Segments, *x)
		}
	}
	for _, mot := range motions {
		if x := byMot[mot]; x != nil {
			x.FullyLoadedCost = win.MotionFully[mot]
			x.CAC = cac(x.BlendedCost, x.FullyLoadedCost, x.NewCustomers, x.PaidNewCustomers)
			out.Motions = append(out.Motions, *x)
		}
	}

	// Workspace-level LTV: every customer of the currency.
	{
		var aovAll, ordAll *float64
		if v, ok := aov[-1]; ok {
			aovAll, ordAll = ptr(v), ptr(orders[-1])
		}
		gm := set.GrossMargin
		if g, ok := gmCell[-1]; ok {
			gm = g
			sm.GrossMargin = g
		}
		cl, note := cohortLTV(c, -1, to, gm, sm.LogoChurn.Monthly, capMonths)
		sm.LTV = ltvSet(ltvInputs{arpa: sm.ARPA, gm: gm, churn: sm.LogoChurn.Monthly, discount: set.DiscountRate, cap: capMonths, aov: aovAll, orders: ordAll, cohortLTV: cl, cohortNote: note})
		sm.Headline = pick(sm.LTV, p.LTV)
		cacV := sm.CAC.FullyLoaded.Value
		if p.CAC == CACBlended {
			cacV = sm.CAC.Blended.Value
		}
		if sm.Headline.Value != nil {
			sm.MaxAffordableCAC = val(MaxAffordableCAC(*sm.Headline.Value, set.LTVCACTarget))
			if cacV != nil && *cacV > 0 {
				sm.LTVToCAC = ptr(*sm.Headline.Value / *cacV)
			}
		}
		if cacV != nil && sm.ARPA != nil {
			sm.PaybackMonths = val(PaybackMonths(*cacV, *sm.ARPA, gm))
		}
		sm.Status, sm.Reasons = Grade(sm.LTVToCAC, nil, nil, set.LTVCACTarget)
		sm.Reasons = slices.DeleteFunc(sm.Reasons, func(s string) bool { return s == "no payback target for this segment" })
	}
	out.Summary = sm

	// Channels.
	chans := map[string]bool{}
	for ch := range win.ByChannel {
		chans[ch] = true
	}
	for ch := range chanNew {
		chans[ch] = true
	}
	for _, ch := range sortedKeys(chans) {
		cc := ChannelCAC{Channel: ch, Paid: slices.Contains(set.PaidChannels, ch), Spend: win.ByChannel[ch], NewCustomers: chanNew[ch]}
		if ch == "" {
			cc.Channel = "none"
			cc.Note = "ledger spend without a channel; customers without a source count under unknown"
		}
		if cc.NewCustomers > 0 {
			cc.CAC = ptr(float64(cc.Spend) / float64(cc.NewCustomers))
			if cc.Spend == 0 && cc.Note == "" {
				cc.Note = "no spend recorded on this channel"
			}
		} else if cc.Note == "" {
			cc.Note = "no new customers from this channel"
		}
		out.Channels = append(out.Channels, cc)
	}

	out.Cohorts = cohortsOf(c, nil, from, to, set.GrossMargin, sm.LogoChurn.Monthly, capMonths)
	out.Funnel = funnelEconomics(in.Funnel, win, c, cellNew, motions)
	out.MRR = mrrReport(ms, from, to, p.Currency)
	out.CostToClose = costToCloseAll(in.OpenDeals, in.Effort, in.Rates, p.Currency, set.WorkingHoursPerYear, cellLTVs, set.LTVCACTarget)
	out.Recommendations = Recommend(out, in.Scenarios)
	return out
}

func noDataReasons(cm CellMetrics) []string {
	switch {
	case cm.NewCustomers == 0:
		return []string{"no new customers in the window: no CAC"}
	case cm.LTVUsed == nil:
		return []string{"no LTV: " + cm.Notes["ltv_used"]}
	case cm.CACUsed != nil && *cm.CACUsed <= 0:
		return []string{"no acquisition cost attributed to this cell: allocate spend or add cost profiles"}
	}
	return []string{"not enough data"}
}

// matrixAxes lists the segments (defaults first, then any with customers,
// spend or a payback target) and the motions.
func matrixAxes(c *Cube, w windowCost, set Settings) ([]string, []string) {
	segs := map[string]bool{}
	mots := map[string]bool{}
	for _, s := range model.Segments {
		segs[s] = true
	}
	for _, m := range model.Motions {
		mots[m] = true
	}
	for _, cl := range c.Cells {
		segs[cl.Segment], mots[cl.Motion] = true, true
	}
	for cl := range w.CellLedger {
		segs[cl.Segment], mots[cl.Motion] = true, true
	}
	for s := range set.PaybackTargetMonths {
		segs[s] = true
	}
	ss := sortedKeys(segs)
	sort.SliceStable(ss, func(i, j int) bool { return segmentOrder(ss[i]) < segmentOrder(ss[j]) })
	ms := sortedKeys(mots)
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := slices.Index(model.Motions, ms[i]), slices.Index(model.Motions, ms[j])
		if a < 0 {
			a = 99
		}
		if b < 0 {
			b = 99
		}
		return a < b
	})
	return ss, ms
}

var intervalMonths = map[string]int64{"month": 1, "quarter": 3, "year": 12}

// marginsAndOrders reads the subscriptions active at the window's end: per
// cell (and -1 for all), the MRR-weighted gross margin when plan margins are
// set, the average order value and orders per customer-month.
func marginsAndOrders(c *Cube, subs []store.ActiveSubscription, set Settings) (gm map[int]float64, src map[int]string, aov map[int]float64, orders map[int]float64) {
	gm, src, aov, orders = map[int]float64{}, map[int]string{}, map[int]float64{}, map[int]float64{}
	type acc struct {
		mrr, weighted    float64
		charge, n, perMo float64
		customers        map[int64]bool
	}
	accs := map[int]*acc{}
	get := func(i int) *acc {
		a := accs[i]
		if a == nil {
			a = &acc{customers: map[int64]bool{}}
			accs[i] = a
		}
		return a
	}
	for _, s := range subs {
		ci, ok := c.byAccount[s.AccountID]
		if !ok || s.Currency != c.Currency {
			continue
		}
		im := intervalMonths[s.Interval]
		if im == 0 {
			im = 1
		}
		for _, i := range []int{c.Customers[ci].Cell, -1} {
			a := get(i)
			a.mrr += float64(s.MRR)
			a.weighted += float64(s.MRR) * set.MarginFor(s.Plan)
			a.charge += float64(s.MRR * im)
			a.n++
			a.perMo += 1 / float64(im)
			a.customers[s.AccountID] = true
		}
	}
	for i, a := range accs {
		if len(set.PlanMargins) > 0 && a.mrr > 0 {
			gm[i], src[i] = a.weighted/a.mrr, "plan margins, MRR-weighted"
		}
		if a.n > 0 {
			aov[i] = a.charge / a.n
			orders[i] = a.perMo / float64(len(a.customers))
		}
	}
	return
}

// cohortLTV is the cohort LTV of a cell (-1: all) over every cohort acquired
// up to month to (metricConventions["ltv_cohort"]).
func cohortLTV(c *Cube, cell, to int, gm float64, churn *float64, capMonths float64) (*float64, string) {
	var keep func(int) bool
	if cell >= 0 {
		keep = func(i int) bool { return i == cell }
	}
	var value float64
	var customers int64
	for co := c.First; co <= to && co <= c.Last; co++ {
		v := c.cohort(co, keep)
		if len(v) == 0 || v[0].n[kNew] == 0 {
			continue
		}
		size := v[0].n[kNew]
		var mrr int64
		var realised float64
		for k := 0; co+k <= to && k < len(v); k++ {
			mrr += v[k].net()
			realised += float64(mrr) * gm
		}
		age := float64(to - co + 1)
		remaining := math.Max(0, capMonths-age)
		tailMonths := remaining
		if churn != nil && *churn > 0 {
			tailMonths = math.Min(1 / *churn, remaining)
		} else if churn == nil {
			return nil, "no churn rate for the tail"
		}
		value += realised + float64(mrr)*gm*tailMonths
		customers += size
	}
	if customers == 0 {
		return nil, "no customers acquired"
	}
	return ptr(value / float64(customers)), ""
}

// cohortsOf builds the retention matrices of the cohorts acquired in the window.
func cohortsOf(c *Cube, keep func(int) bool, from, to int, gm float64, churn *float64, capMonths float64) Cohorts {
	out := Cohorts{Convention: metricConventions["cohorts"], Rows: []CohortRow{}}
	for co := from; co <= to; co++ {
		v := c.cohort(co, keep)
		row := CohortRow{Cohort: monthName(co), ActiveLogos: []int64{}, MRR: []int64{}, Logo: []*float64{}, Revenue: []*float64{}}
		if co >= c.First && len(v) > 0 {
			row.Customers = v[0].n[kNew]
		}
		if row.Customers == 0 {
			continue
		}
		var mrr, logos int64
		for k := 0; co+k <= to; k++ {
			mrr += v[k].net()
			logos += v[k].logoNet()
			if k == 0 {
				row.StartMRR = mrr
			}
			row.ActiveLogos = append(row.ActiveLogos, logos)
			row.MRR = append(row.MRR, mrr)
			row.Logo = append(row.Logo, ptr(float64(logos)/float64(row.Customers)))
			if row.StartMRR > 0 {
				row.Revenue = append(row.Revenue, ptr(float64(mrr)/float64(row.StartMRR)))
			} else {
				row.Revenue = append(row.Revenue, nil)
			}
			row.RealisedGrossProfit += float64(mrr) * gm
		}
		row.RealisedLTV = ptr(row.RealisedGrossProfit / float64(row.Customers))
		if churn != nil {
			age := float64(to - co + 1)
			tm := math.Max(0, capMonths-age)
			if *churn > 0 {
				tm = math.Min(1 / *churn, tm)
			}
			row.Tail = ptr(float64(mrr) * gm * tm / float64(row.Customers))
			row.CohortLTV = ptr(*row.RealisedLTV + *row.Tail)
		}
		out.MaxAge = max(out.MaxAge, len(row.MRR)-1)
		out.Rows = append(out.Rows, row)
	}
	return out
}

// funnelEconomics divides each motion's fully loaded cost by its funnel counts.
func funnelEconomics(f *funnel.Result, w windowCost, c *Cube, cellNew map[int]int64, motions []string) FunnelEconomics {
	out := FunnelEconomics{Convention: metricConventions["funnel"], Rows: []FunnelMotion{}}
	if f == nil {
		out.Note = "no funnel report"
	}
	won := map[string]int64{}
	for i, n := range cellNew {
		won[c.Cells[i].Motion] += n
	}
	for _, m := range motions {
		fm := FunnelMotion{Motion: m, Cost: w.MotionFully[m], Stages: []FunnelStageCost{}}
		counts := map[string]int64{}
		if f != nil {
			for _, g := range f.Groups {
				if g.Key == m || (m == Unassigned && g.Key == funnel.Unknown) {
					for _, s := range g.Stages {
						counts[s.Stage] = int64(s.Reached)
					}
				}
			}
		}
		counts["won_customer"] = won[m]
		for _, st := range []string{"mql", "sql", "opportunity", "won_customer"} {
			sc := FunnelStageCost{Stage: st, Reached: counts[st]}
			if sc.Reached > 0 {
				sc.CostPer = ptr(float64(fm.Cost) / float64(sc.Reached))
			}
			fm.Stages = append(fm.Stages, sc)
		}
		out.Rows = append(out.Rows, fm)
	}
	return out
}

// mrrReport states the window's bridge in the subscriptions package's types.
func mrrReport(ms []monthStat, from, to int, cur string) MRRReport {
	r := MRRReport{Convention: subscriptions.TheConvention, Months: []subscriptions.MonthBridge{}}
	b := subscriptions.Bridge{Currency: cur, Start: ms[0].startMRR, End: ms[len(ms)-1].endMRR}
	for i, m := range ms {
		mb := subscriptions.MonthBridge{Month: monthName(from + i), From: monthName(from+i) + "-01", To: monthEndDay(from + i),
			Bridge: subscriptions.Bridge{Currency: cur, Start: m.startMRR, End: m.endMRR}}
		fill(&mb.Bridge, m.agg)
		mb.Holds = mb.End == mb.Start+mb.Net()
		fill(&b, m.agg)
		r.Months = append(r.Months, mb)
	}
	b.Holds = b.End == b.Start+b.Net()
	r.Bridge, r.MRR, r.ARR = b, b.End, 12*b.End
	return r
}

func fill(b *subscriptions.Bridge, a agg) {
	b.New += a.amt[kNew]
	b.Expansion += a.amt[kExpansion]
	b.Reactivation += a.amt[kReactivation]
	b.Contraction += a.amt[kContraction]
	b.Churn += a.amt[kChurn]
	b.NewCustomers += a.n[kNew]
	b.ReactivatedCustomers += a.n[kReactivation]
	b.ChurnedCustomers += a.n[kChurn]
}

func monthEndDay(mi int) string {
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	y, m := mi/12, mi%12
	d := days[m]
	if m == 1 && (y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		d = 29
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m+1, d)
}

// fmtMoney writes minor units as a major amount with thousands separators.
func fmtMoney(v int64, cur string) string {
	d := Digits(cur)
	neg := v < 0
	if neg {
		v = -v
	}
	p := int64(math.Pow10(d))
	s := groupThousands(v / p)
	if d > 0 && v%p != 0 {
		s += fmt.Sprintf(".%0*d", d, v%p)
	}
	if neg {
		s = "−" + s
	}
	return s + " " + cur
}

// fmtMoneyF rounds a fractional amount of minor units to whole major units.
func fmtMoneyF(v float64, cur string) string {
	p := math.Pow10(Digits(cur))
	return fmtMoney(int64(math.Round(v/p))*int64(p), cur)
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
