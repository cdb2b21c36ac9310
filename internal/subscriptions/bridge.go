package subscriptions

import (
	"context"
	"sort"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Bridge is a period's MRR walk in one currency: MRR at the start of the first
// day, the movements dated inside the period, MRR at the end of the last day.
// End is read from the movements independently of the sum, and Holds says
// whether End = Start + New + Expansion + Reactivation − Contraction − Churn.
// The customer counts are the new, reactivation and churn movements (one per
// customer and day).
type Bridge struct {
	Currency             string `json:"currency"`
	Start                int64  `json:"start"`
	New                  int64  `json:"new"`
	Expansion            int64  `json:"expansion"`
	Reactivation         int64  `json:"reactivation"`
	Contraction          int64  `json:"contraction"`
	Churn                int64  `json:"churn"`
	End                  int64  `json:"end"`
	Holds                bool   `json:"identity_holds"`
	NewCustomers         int64  `json:"new_customers"`
	ReactivatedCustomers int64  `json:"reactivated_customers"`
	ChurnedCustomers     int64  `json:"churned_customers"`
}

// Net is the sum of the signed movements.
func (b *Bridge) Net() int64 {
	return b.New + b.Expansion + b.Reactivation - b.Contraction - b.Churn
}

func (b *Bridge) add(kind string, amount, count int64) {
	switch kind {
	case "new":
		b.New += amount
		b.NewCustomers += count
	case "expansion":
		b.Expansion += amount
	case "reactivation":
		b.Reactivation += amount
		b.ReactivatedCustomers += count
	case "contraction":
		b.Contraction += amount
	case "churn":
		b.Churn += amount
		b.ChurnedCustomers += count
	}
}

// GroupBridge is the bridge of one segment or motion (the account's current one).
type GroupBridge struct {
	Group string `json:"group"`
	Bridge
}

// MonthBridge is one calendar month's bridge, clipped to the report's period.
type MonthBridge struct {
	Month string `json:"month"`
	From  string `json:"from"`
	To    string `json:"to"`
	Bridge
}

// Convention says how the report's figures are computed.
type Convention struct {
	MRR       string `json:"mrr"`
	Period    string `json:"period"`
	Movements string `json:"movements"`
	Identity  string `json:"identity"`
	Grouping  string `json:"grouping"`
	Currency  string `json:"currency"`
}

// TheConvention is stated with every MRR report.
var TheConvention = Convention{
	MRR:       "per subscription: quantity × unit price ÷ months of the billing interval (month 1, quarter 3, year 12), rounded half up to a whole minor unit; a customer's MRR is the sum over its active subscriptions",
	Period:    "start = MRR at the start of from (movements dated before from); end = MRR at the end of to (movements dated on or before to); both days included",
	Movements: "per customer and day: new (first subscription ever), reactivation (a former customer with no active subscription comes back), expansion, contraction, churn (the customer's last active subscription ended; ending one of several is contraction); new, reactivation and churn count customers even at zero MRR",
	Identity:  "end = start + new + expansion + reactivation − contraction − churn",
	Grouping:  "by the account's current segment or motion (each customer's whole history in one group)",
	Currency:  "one bridge per currency; no conversion",
}

// Report is the MRR bridge of a period, per currency, optionally per group,
// with the period's months.
type Report struct {
	From       string        `json:"from"`
	To         string        `json:"to"`
	By         string        `json:"by,omitempty"`
	Convention Convention    `json:"convention"`
	Totals     []Bridge      `json:"totals"`
	Groups     []GroupBridge `json:"groups,omitempty"`
	Months     []MonthBridge `json:"months"`
}

// Groupings are the values of Report's by.
var Groupings = []string{"segment", "motion"}

// Bridge computes the MRR bridge of from..to (YYYY-MM-DD, both included) for
// workspace ws, grouped by the account's segment or motion when by is set.
func (s *Service) Bridge(ctx context.Context, ws int64, from, to, by string) (Report, error) {
	r := Report{From: from, To: to, By: by, Convention: TheConvention, Totals: []Bridge{}, Months: []MonthBridge{}}
	var err error
	if r.From, err = parseDay("from", from); err != nil {
		return r, err
	}
	if r.To, err = parseDay("to", to); err != nil {
		return r, err
	}
	if r.To < r.From {
		return r, fe("to", "%s is before from %s", r.To, r.From)
	}
	if by != "" && !model.Contains(Groupings, by) {
		return r, fe("by", "%q is not segment or motion", by)
	}
	q := s.St.Read()
	after := addDays(r.To, 1)
	starts, err := q.MRRBefore(ctx, ws, r.From, by)
	if err != nil {
		return r, err
	}
	ends, err := q.MRRBefore(ctx, ws, after, by)
	if err != nil {
		return r, err
	}
	// One pass over the period, by month: the period's totals (per group)
	// and the months' (all groups) are both sums of it.
	moves, err := q.MovementTotals(ctx, ws, r.From, r.To, by, true)
	if err != nil {
		return r, err
	}
	type key struct{ group, cur string }
	groups := map[key]*Bridge{}
	get := func(g, cur string) *Bridge {
		k := key{g, cur}
		b := groups[k]
		if b == nil {
			b = &Bridge{Currency: cur}
			groups[k] = b
		}
		return b
	}
	for _, t := range starts {
		get(t.Group, t.Currency).Start += t.Amount
	}
	for _, t := range ends {
		get(t.Group, t.Currency).End += t.Amount
	}
	for _, t := range moves {
		get(t.Group, t.Currency).add(t.Kind, t.Amount, t.Count)
	}
	totals := map[string]*Bridge{}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].cur < keys[j].cur
	})
	for _, k := range keys {
		b := groups[k]
		b.Holds = b.End == b.Start+b.Net()
		if by != "" {
			r.Groups = append(r.Groups, GroupBridge{Group: k.group, Bridge: *b})
		}
		t := totals[k.cur]
		if t == nil {
			t = &Bridge{Currency: k.cur}
			totals[k.cur] = t
		}
		t.Start, t.End = t.Start+b.Start, t.End+b.End
		t.New, t.Expansion, t.Reactivation, t.Contraction, t.Churn = t.New+b.New, t.Expansion+b.Expansion, t.Reactivation+b.Reactivation, t.Contraction+b.Contraction, t.Churn+b.Churn
		t.NewCustomers, t.ReactivatedCustomers, t.ChurnedCustomers = t.NewCustomers+b.NewCustomers, t.ReactivatedCustomers+b.ReactivatedCustomers, t.ChurnedCustomers+b.ChurnedCustomers
	}
	curs := make([]string, 0, len(totals))
	for c := range totals {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	for _, c := range curs {
		t := totals[c]
		t.Holds = t.End == t.Start+t.Net()
		r.Totals = append(r.Totals, *t)
	}
	r.Months = months(r.From, r.To, r.Totals, moves)
	return r, nil
}

// months splits the period into calendar months (the first and last clipped
// to it), per currency, walking from the period's start MRR.
func months(from, to string, totals []Bridge, moves []store.MovementTotal) []MonthBridge {
	out := []MonthBridge{}
	type key struct{ month, cur string }
	byMonth := map[key]*Bridge{}
	for _, t := range moves {
		k := key{t.Month, t.Currency}
		b := byMonth[k]
		if b == nil {
			b = &Bridge{Currency: t.Currency}
			byMonth[k] = b
		}
		b.add(t.Kind, t.Amount, t.Count)
	}
	for _, tot := range totals {
		run := tot.Start
		firstIdx := len(out)
		for m := from[:7]; m <= to[:7]; m = nextMonth(m) {
			first, last := m+"-01", monthEnd(m)
			if first < from {
				first = from
			}
			if last > to {
				last = to
			}
			b := Bridge{Currency: tot.Currency}
			if x := byMonth[key{m, tot.Currency}]; x != nil {
				b = *x
			}
			b.Start = run
			b.End = run + b.Net()
			run = b.End
			out = append(out, MonthBridge{Month: m, From: first, To: last, Bridge: b})
		}
		// Each month's end is its start plus its movements; the walk holds
		// when it arrives at the period's end MRR read independently.
		for i := firstIdx; i < len(out); i++ {
			out[i].Holds = run == tot.End
		}
	}
	return out
}

func nextMonth(m string) string {
	t, _ := time.Parse("2006-01", m)
	return t.AddDate(0, 1, 0).Format("2006-01")
}

func monthEnd(m string) string {
	t, _ := time.Parse("2006-01", m)
	return t.AddDate(0, 1, -1).Format(time.DateOnly)
}

// MRRHistory is the MRR at the end of each of the last n months up to today's,
// per currency (the customer page's chart uses one account's movements; this is
// the workspace's).
func (s *Service) MRRHistory(ctx context.Context, ws int64, months int) (Report, error) {
	today := s.Today()
	first := addMonths(today[:7]+"-01", int64(1-months))
	return s.Bridge(ctx, ws, first, today, "")
}
