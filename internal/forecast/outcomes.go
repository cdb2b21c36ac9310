package forecast

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// Pipeline is the pipeline analytics report: how deals closed in the window
// came out, per motion and overall.
type Pipeline struct {
	From       string             `json:"from"`
	To         string             `json:"to"`
	Currency   string             `json:"currency"`
	Convention PipelineConvention `json:"convention"`
	Total      Outcomes           `json:"total"`
	ByMotion   []Outcomes         `json:"by_motion"`
	// OtherCurrencyDeals are open deals, and deals closed in the window, whose
	// currency is not the report's: counted here, in no figure above.
	OtherCurrencyDeals int64 `json:"other_currency_deals"`
}

// PipelineConvention says how every figure of the pipeline report is computed.
type PipelineConvention struct {
	Window      string `json:"window"`
	WinRate     string `json:"win_rate"`
	AverageDeal string `json:"average_won_deal"`
	Cycle       string `json:"cycle_days"`
	Engagement  string `json:"cycle_days_from_first_engagement"`
	Velocity    string `json:"velocity"`
	LossReasons string `json:"loss_reasons"`
	Motion      string `json:"motion"`
	Currency    string `json:"currency"`
}

// Outcomes are the figures of one motion (or the total).
type Outcomes struct {
	Key        string `json:"key"`
	Label      string `json:"label"`
	Won        int64  `json:"won"`
	Lost       int64  `json:"lost"`
	NoDecision int64  `json:"no_decision"`
	// WinRate is won ÷ (won + lost); WinRateNoDecisionAsLoss is won ÷ (won +
	// lost + no_decision). Fractions (0.25 is 25 %), four decimals; nil with no
	// closed deal.
	WinRate                 *float64 `json:"win_rate"`
	WinRateNoDecisionAsLoss *float64 `json:"win_rate_no_decision_as_loss"`
	WonAmount               int64    `json:"won_amount"`
	AverageWonDeal          *int64   `json:"average_won_deal"`
	// CycleDays and CycleDaysFromFirstEngagement are means over won deals, two
	// decimals.
	CycleDays                    *float64 `json:"cycle_days"`
	CycleDaysFromFirstEngagement *float64 `json:"cycle_days_from_first_engagement"`
	OpenOpportunities            int64    `json:"open_opportunities"`
	// VelocityPerDay is money per day in minor units; nil when a factor is unknown.
	VelocityPerDay *int64       `json:"velocity_per_day"`
	LossReasons    []LossReason `json:"loss_reasons"`
}

// LossReason is one reason deals were not won: a lost deal's loss_reason
// ("unspecified" when none was given), or no_decision as its own category.
type LossReason struct {
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"` // lost or no_decision
	Count   int64  `json:"count"`
	Amount  int64  `json:"amount"`
	// Share of the motion's lost + no_decision deals, four decimals.
	Share float64 `json:"share"`
}

// Unspecified is the loss reason of a lost deal closed without one;
// NoDecisionReason is the category of every no_decision deal.
const (
	Unspecified      = "unspecified"
	NoDecisionReason = "no_decision"
)

func (p Params) pipelineConvention() PipelineConvention {
	return PipelineConvention{
		Window: fmt.Sprintf("deals whose closed_at (UTC) falls in %s … %s, both days included; open opportunities are the deals open now",
			p.From.Format(time.DateOnly), p.To.Format(time.DateOnly)),
		WinRate:     "win_rate = won ÷ (won + lost); win_rate_no_decision_as_loss = won ÷ (won + lost + no_decision)",
		AverageDeal: "mean amount of the won deals, rounded to a minor unit",
		Cycle:       "mean over won deals of closed_at − created_at, in days",
		Engagement: "mean over won deals of closed_at − first engagement, in days; first engagement is the earlier of the deal's created_at and " +
			"its first activity (activities linked by deal_id). It differs from cycle_days only when work was logged on the deal before it was opened",
		Velocity: "open_opportunities × average_won_deal × win_rate ÷ cycle_days, money per day (minor units, rounded); " +
			"win_rate without no-decision, cycle_days from creation",
		LossReasons: "lost deals by loss_reason (unspecified when none was given), and every no_decision deal as its own category no_decision " +
			"whatever its loss_reason; share of lost + no_decision",
		Motion:   "the deal's pipeline: high_touch and digital are the motions' pipelines; any other pipeline is its own row",
		Currency: fmt.Sprintf("only deals in %s count, in every figure (counts too); other_currency_deals says how many were left out", p.Currency),
	}
}

// oacc accumulates one motion's outcomes.
type oacc struct {
	key, label       string
	won, lost, nd    int64
	wonAmt           int64
	cycleS, engagedS float64
	open             int64
	reasons          map[[2]string]*[2]int64 // (outcome, reason) → count, amount
}

func (a *oacc) add(g store.ClosedDealGroup) {
	switch g.Outcome {
	case "won":
		a.won += g.Count
		a.wonAmt += g.Amount
		a.cycleS += g.CycleSeconds
		a.engagedS += g.CycleSeconds + g.LeadSeconds
		return
	case "lost":
		a.lost += g.Count
	default:
		a.nd += g.Count
	}
	reason := g.LossReason
	if g.Outcome != "lost" {
		reason = NoDecisionReason
	} else if reason == "" {
		reason = Unspecified
	}
	if a.reasons == nil {
		a.reasons = map[[2]string]*[2]int64{}
	}
	k := [2]string{g.Outcome, reason}
	r := a.reasons[k]
	if r == nil {
		r = &[2]int64{}
		a.reasons[k] = r
	}
	r[0] += g.Count
	r[1] += g.Amount
}

func (a *oacc) outcomes() Outcomes {
	o := Outcomes{Key: a.key, Label: a.label, Won: a.won, Lost: a.lost, NoDecision: a.nd, WonAmount: a.wonAmt, OpenOpportunities: a.open,
		LossReasons: []LossReason{}}
	round4 := func(f *float64) *float64 {
		if f == nil {
			return nil
		}
		v := RoundTo(*f, 4)
		return &v
	}
	wr := WinRate(a.won, a.lost)
	o.WinRate = round4(wr)
	o.WinRateNoDecisionAsLoss = round4(WinRate(a.won, a.lost+a.nd))
	avg := Mean(float64(a.wonAmt), a.won)
	if avg != nil {
		v := int64(math.Round(*avg))
		o.AverageWonDeal = &v
	}
	cycle := Mean(a.cycleS/86400, a.won)
	if cycle != nil {
		v := RoundTo(*cycle, 2)
		o.CycleDays = &v
	}
	if e := Mean(a.engagedS/86400, a.won); e != nil {
		v := RoundTo(*e, 2)
		o.CycleDaysFromFirstEngagement = &v
	}
	if avg != nil && wr != nil && cycle != nil {
		if v, ok := Velocity(a.open, *avg, *wr, *cycle); ok {
			r := int64(math.Round(v))
			o.VelocityPerDay = &r
		}
	}
	notWon := a.lost + a.nd
	for k, r := range a.reasons {
		o.LossReasons = append(o.LossReasons, LossReason{Reason: k[1], Outcome: k[0], Count: r[0], Amount: r[1], Share: RoundTo(float64(r[0])/float64(notWon), 4)})
	}
	slices.SortFunc(o.LossReasons, func(x, y LossReason) int {
		if c := cmp.Compare(y.Count, x.Count); c != 0 {
			return c
		}
		return cmp.Compare(x.Reason, y.Reason)
	})
	return o
}

// PipelineReport computes win rates, average won deal, cycle, velocity and loss
// reasons of ws per motion and overall.
func PipelineReport(ctx context.Context, st *store.Store, ws int64, p Params) (Pipeline, error) {
	d, err := load(ctx, st, ws, &p, false)
	if err != nil {
		return Pipeline{}, err
	}
	r := Pipeline{From: p.From.Format(time.DateOnly), To: p.To.Format(time.DateOnly), Currency: p.Currency, Convention: p.pipelineConvention(),
		OtherCurrencyDeals: d.otherOpen + d.otherShut}
	total := &oacc{key: "total", label: "All motions"}
	motions := map[string]*oacc{}
	var order []string
	get := func(k string) *oacc {
		a := motions[k]
		if a == nil {
			a = &oacc{key: k, label: d.pipeName(k)}
			motions[k] = a
			order = append(order, k)
		}
		return a
	}
	for _, pd := range d.pipes {
		get(pd.Key)
	}
	for _, g := range d.open {
		total.open += g.Count
		get(g.Pipeline).open += g.Count
	}
	for _, g := range d.closed {
		total.add(g)
		get(g.Pipeline).add(g)
	}
	r.Total = total.outcomes()
	for _, k := range order {
		r.ByMotion = append(r.ByMotion, motions[k].outcomes())
	}
	return r, nil
}
