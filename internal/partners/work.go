package partners

import (
	"fmt"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Work is what one scope (a partner's users, or the in-house LDRs) delivered
// in a window, as the records behind it.
type Work struct {
	Meetings []store.DeliveredMeeting
	Handoffs []store.DeliveredHandoff
	Wins     []store.DeliveredWin
}

// When each record counts (docs/economics.md, Partners):
//   - a meeting in the month it takes place (the activity's occurred_at): a
//     meeting booked through the desk or the API is a meeting activity at its
//     time, owned by whoever booked it;
//   - an SQL in the month the AE accepted it (decided_at): the handoff alone
//     is not delivery — an AE may still reject it;
//   - a pending SQL in the month it was handed off; a rejected one in the
//     month it was rejected;
//   - a won deal in the month it closed (closed_at), when an accepted SQL of
//     the scope opened it.

// MonthWork is what a scope delivered in one month.
type MonthWork struct {
	Month        string `json:"month"`
	Meetings     int    `json:"meetings"`
	SQLsAccepted int    `json:"sqls_accepted"`
	// SQLsPending were handed off this month and await the AE's decision.
	SQLsPending  int `json:"sqls_pending"`
	SQLsRejected int `json:"sqls_rejected"`
	Won          int `json:"won_deals"`
	// WonCustomers counts the distinct accounts of the won deals (a deal
	// without an account counts as one).
	WonCustomers int `json:"won_customers"`
	// Revenue is the won deals' amounts by currency (never converted).
	Revenue []economics.CurrencyAmount `json:"revenue"`
}

func month(t time.Time) string { return economics.MonthOf(t) }

// ByMonth sorts w into the months from..to (inclusive), one row each.
func ByMonth(w Work, from, to string) []MonthWork {
	months := economics.Months(from, to)
	rows := make([]MonthWork, len(months))
	idx := map[string]int{}
	for i, m := range months {
		rows[i] = MonthWork{Month: m, Revenue: []economics.CurrencyAmount{}}
		idx[m] = i
	}
	at := func(t time.Time) *MonthWork {
		if i, ok := idx[month(t)]; ok {
			return &rows[i]
		}
		return nil
	}
	for _, m := range w.Meetings {
		if r := at(m.OccurredAt); r != nil {
			r.Meetings++
		}
	}
	for _, h := range w.Handoffs {
		switch {
		case h.Decision == model.HandoffAccepted && h.DecidedAt != nil:
			if r := at(*h.DecidedAt); r != nil {
				r.SQLsAccepted++
			}
		case h.Decision == model.HandoffRejected && h.DecidedAt != nil:
			if r := at(*h.DecidedAt); r != nil {
				r.SQLsRejected++
			}
		case h.Decision == model.HandoffPending:
			if r := at(h.CreatedAt); r != nil {
				r.SQLsPending++
			}
		}
	}
	accounts := map[string]map[int64]bool{}
	for _, d := range w.Wins {
		r := at(d.ClosedAt)
		if r == nil {
			continue
		}
		r.Won++
		if d.AccountID == nil {
			r.WonCustomers++
		} else {
			if accounts[r.Month] == nil {
				accounts[r.Month] = map[int64]bool{}
			}
			if !accounts[r.Month][*d.AccountID] {
				accounts[r.Month][*d.AccountID] = true
				r.WonCustomers++
			}
		}
		r.Revenue = addAmount(r.Revenue, d.Currency, d.Amount)
	}
	return rows
}

func addAmount(xs []economics.CurrencyAmount, cur string, v int64) []economics.CurrencyAmount {
	for i := range xs {
		if xs[i].Currency == cur {
			xs[i].Amount += v
			return xs
		}
	}
	xs = append(xs, economics.CurrencyAmount{Currency: cur, Amount: v})
	slices.SortFunc(xs, func(a, b economics.CurrencyAmount) int {
		if a.Currency < b.Currency {
			return -1
		}
		if a.Currency > b.Currency {
			return 1
		}
		return 0
	})
	return xs
}

// InContract reports whether month is within the partner's contract.
func InContract(p model.Partner, m string) bool {
	return m >= p.StartMonth && (p.EndMonth == "" || m <= p.EndMonth)
}

// Record is one record behind a statement line, so every amount can be
// traced: a meeting activity, an accepted (or pending) handoff, a won deal.
type Record struct {
	Type      string    `json:"type"` // activity, handoff, deal
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Label     string    `json:"label"`
	UserID    int64     `json:"user_id,omitempty"`
	ContactID *int64    `json:"contact_id,omitempty"`
	DealID    *int64    `json:"deal_id,omitempty"`
	Amount    *int64    `json:"amount,omitempty"`
	Currency  string    `json:"currency,omitempty"`
}

// Line is one line of a statement: quantity × unit fee = amount.
type Line struct {
	Kind       string   `json:"kind"` // retainer, setup_fee, meetings, sqls, won_deals
	Label      string   `json:"label"`
	Quantity   int      `json:"quantity"`
	UnitAmount int64    `json:"unit_amount"`
	Amount     int64    `json:"amount"`
	Arithmetic string   `json:"arithmetic"`
	Records    []Record `json:"records"`
}

// Statement statuses.
const (
	StatusClosed        = "closed"          // the month has ended
	StatusOpen          = "open"            // this month: to date
	StatusFuture        = "future"          // not begun
	StatusOutOfContract = "out_of_contract" // before the start or after the end month
)

// Statement is what a partner is owed for one month, every line traceable to
// its records. Amounts are minor units of the partner's currency.
type Statement struct {
	PartnerID int64     `json:"partner_id"`
	Partner   string    `json:"partner"`
	Month     string    `json:"month"`
	Currency  string    `json:"currency"`
	Status    string    `json:"status"`
	Work      MonthWork `json:"work"`
	Lines     []Line    `json:"lines"`
	Total     int64     `json:"total"`
	// ManagementMonthly is the client's own management time that month: part
	// of the partner's cost (actuals), not owed to it.
	ManagementMonthly int64 `json:"management_monthly"`
	// Pending are SQLs handed off this month that no AE has decided on yet:
	// not billed until accepted (then in the month of acceptance).
	Pending []Record `json:"pending"`
	// Won lists the deals won this month from the partner's accepted SQLs
	// (billed only with a fee per won deal; always shown).
	Won         []Record `json:"won"`
	Conventions []string `json:"conventions"`
}

// StatementConventions say how a statement is computed.
var StatementConventions = []string{
	"A meeting counts in the month it takes place: meeting activities owned by the partner's users (booked through the desk, the API or logged), by occurred_at.",
	"An SQL counts in the month its AE accepted it: ldr_to_ae handoffs sent by the partner's users with decision accepted, by decided_at. Pending and rejected SQLs are listed, never billed.",
	"A won deal counts in the month it closed, when an accepted SQL of the partner opened it; revenue is the deal amount in its own currency.",
	"Fees owed = retainer + meetings × fee per meeting + accepted SQLs × fee per SQL + won deals × fee per won deal, plus the setup fee in the start month; nothing outside the contract months.",
	"Amounts are integer minor units of the partner's currency; the current month is open (to date) until it ends.",
}

func arith(qty int, unit int64, cur string) string {
	return fmt.Sprintf("%d × %s = %s", qty, economics.FormatMoney(unit, cur), economics.FormatMoney(int64(qty)*unit, cur))
}

// ComputeStatement builds a partner's statement for month m from w (the work
// of its users; records of other months are ignored), as of now.
func ComputeStatement(p model.Partner, m string, w Work, now time.Time) Statement {
	st := Statement{PartnerID: p.ID, Partner: p.Name, Month: m, Currency: p.Currency, Lines: []Line{}, Pending: []Record{}, Won: []Record{}, Conventions: StatementConventions}
	st.Work = ByMonth(w, m, m)[0]
	cur := p.Currency
	thisMonth := month(now)
	switch {
	case !InContract(p, m):
		st.Status = StatusOutOfContract
	case m > thisMonth:
		st.Status = StatusFuture
	case m == thisMonth:
		st.Status = StatusOpen
	default:
		st.Status = StatusClosed
	}
	var meetings, sqls, won []Record
	for _, x := range w.Meetings {
		if month(x.OccurredAt) == m {
			meetings = append(meetings, Record{Type: "activity", ID: x.ActivityID, At: x.OccurredAt, Label: x.Subject, UserID: x.UserID, ContactID: x.ContactID, DealID: x.DealID})
		}
	}
	for _, h := range w.Handoffs {
		r := Record{Type: "handoff", ID: h.ID, Label: h.DealName, ContactID: &h.ContactID, DealID: h.DealID}
		if h.FromUserID != nil {
			r.UserID = *h.FromUserID
		}
		switch {
		case h.Decision == model.HandoffAccepted && h.DecidedAt != nil && month(*h.DecidedAt) == m:
			r.At = *h.DecidedAt
			sqls = append(sqls, r)
		case h.Decision == model.HandoffPending && month(h.CreatedAt) == m:
			r.At = h.CreatedAt
			st.Pending = append(st.Pending, r)
		}
	}
	for _, d := range w.Wins {
		if month(d.ClosedAt) == m {
			amt := d.Amount
			won = append(won, Record{Type: "deal", ID: d.DealID, At: d.ClosedAt, Label: d.Name, UserID: d.UserID, DealID: &d.DealID, Amount: &amt, Currency: d.Currency})
		}
	}
	if won != nil {
		st.Won = won
	}
	if st.Status == StatusOutOfContract || st.Status == StatusFuture {
		return st
	}
	add := func(l Line) {
		if l.Records == nil {
			l.Records = []Record{}
		}
		st.Lines = append(st.Lines, l)
		st.Total += l.Amount
	}
	if m == p.StartMonth && p.SetupFee > 0 {
		add(Line{Kind: "setup_fee", Label: "Setup fee (start month)", Quantity: 1, UnitAmount: p.SetupFee, Amount: p.SetupFee, Arithmetic: arith(1, p.SetupFee, cur)})
	}
	if p.RetainerMonthly > 0 {
		add(Line{Kind: "retainer", Label: "Monthly retainer", Quantity: 1, UnitAmount: p.RetainerMonthly, Amount: p.RetainerMonthly, Arithmetic: arith(1, p.RetainerMonthly, cur)})
	}
	if p.FeePerMeeting > 0 || len(meetings) > 0 {
		add(Line{Kind: "meetings", Label: "Meetings held", Quantity: len(meetings), UnitAmount: p.FeePerMeeting, Amount: int64(len(meetings)) * p.FeePerMeeting, Arithmetic: arith(len(meetings), p.FeePerMeeting, cur), Records: meetings})
	}
	if p.FeePerSQL > 0 || len(sqls) > 0 {
		add(Line{Kind: "sqls", Label: "SQLs accepted by AEs", Quantity: len(sqls), UnitAmount: p.FeePerSQL, Amount: int64(len(sqls)) * p.FeePerSQL, Arithmetic: arith(len(sqls), p.FeePerSQL, cur), Records: sqls})
	}
	if p.FeePerWon > 0 {
		add(Line{Kind: "won_deals", Label: "Deals won from its SQLs", Quantity: len(won), UnitAmount: p.FeePerWon, Amount: int64(len(won)) * p.FeePerWon, Arithmetic: arith(len(won), p.FeePerWon, cur), Records: won})
	}
	st.ManagementMonthly = p.ManagementMonthly
	return st
}

// Side is one column of the partner-vs-in-house comparison over the same
// months.
type Side struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"` // partner or in_house
	Currency string `json:"currency"`
	// Cost is fees owed + internal management (partner), or the in-house
	// LDRs' loaded people cost (in_house), in minor units.
	Cost           int64                      `json:"cost"`
	CostDetail     string                     `json:"cost_detail"`
	Meetings       int                        `json:"meetings"`
	SQLs           int                        `json:"sqls_accepted"`
	WonCustomers   int                        `json:"won_customers"`
	Revenue        []economics.CurrencyAmount `json:"revenue"`
	CostPerMeeting *float64                   `json:"cost_per_meeting"`
	CostPerSQL     *float64                   `json:"cost_per_sql"`
	CostPerWon     *float64                   `json:"cost_per_won"`
	// Note says why a figure is n/a.
	Note string `json:"note,omitempty"`
}

// MonthRow is one full month of the comparison.
type MonthRow struct {
	Month   string    `json:"month"`
	Partner MonthWork `json:"partner"`
	Fees    int64     `json:"fees"`
	InHouse MonthWork `json:"in_house"`
	// InHouseCost is the LDRs' people cost that month in the partner's currency.
	InHouseCost int64 `json:"in_house_cost"`
}

// Actuals compare a partner's delivered work and cost with the in-house LDRs'
// over the partner's full months (at most the last MaxActualMonths).
type Actuals struct {
	PartnerID int64  `json:"partner_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	// Months is how many full months of data there are in the window; the
	// planner switches to actuals from one.
	Months      int        `json:"months"`
	Source      string     `json:"source"` // actual, or none (no full month yet)
	Detail      string     `json:"detail"`
	Partner     Side       `json:"partner"`
	InHouse     Side       `json:"in_house"`
	ByMonth     []MonthRow `json:"by_month"`
	Conventions []string   `json:"conventions"`
}

// MaxActualMonths bounds the actuals' window: the last 12 full months.
const MaxActualMonths = 12

// ActualsConventions say how actuals are computed.
var ActualsConventions = []string{
	"Full months only: from the partner's start month to the month before this one (or its end month), at most the last 12.",
	"Partner cost = fees owed (the monthly statements) + internal management overhead; in-house cost = the people cost of the ldr role (cost profiles × headcount, every motion) in the partner's currency.",
	"In-house work = meetings, accepted SQLs and wins of members with the role ldr who work for no partner, attributed exactly as the partner's.",
	"Cost per meeting, per SQL and per won customer = cost ÷ count over the same months; n/a when the count is zero.",
}

// FullMonths is the window of the partner's full months as of now: from
// its start month to the month before now (or its end month), at most the
// last MaxActualMonths; ok is false when there is none.
func FullMonths(p model.Partner, now time.Time) (from, to string, ok bool) {
	to = economics.AddMonths(month(now), -1)
	if p.EndMonth != "" && p.EndMonth < to {
		to = p.EndMonth
	}
	from = p.StartMonth
	if to < from {
		return "", "", false
	}
	if ms := economics.Months(from, to); len(ms) > MaxActualMonths {
		from = ms[len(ms)-MaxActualMonths]
	}
	return from, to, true
}

func per(cost int64, n int) *float64 {
	if n <= 0 {
		return nil
	}
	v := float64(cost) / float64(n)
	return &v
}

// ComputeActuals puts a partner's work and statements next to the in-house
// LDRs' work and monthly people cost (month → minor units of the partner's
// currency) for the months from..to.
func ComputeActuals(p model.Partner, from, to string, partnerWork, inHouseWork Work, inHouseCost map[string]int64, now time.Time) Actuals {
	a := Actuals{PartnerID: p.ID, From: from, To: to, Source: "actual", ByMonth: []MonthRow{}, Conventions: ActualsConventions}
	pw, iw := ByMonth(partnerWork, from, to), ByMonth(inHouseWork, from, to)
	a.Months = len(pw)
	a.Partner = Side{Name: p.Name, Kind: "partner", Currency: p.Currency, Revenue: []economics.CurrencyAmount{}}
	a.InHouse = Side{Name: "In-house LDRs", Kind: "in_house", Currency: p.Currency, Revenue: []economics.CurrencyAmount{}}
	var fees, mgmt int64
	for i, m := range economics.Months(from, to) {
		st := ComputeStatement(p, m, partnerWork, now)
		row := MonthRow{Month: m, Partner: pw[i], Fees: st.Total, InHouse: iw[i], InHouseCost: inHouseCost[m]}
		a.ByMonth = append(a.ByMonth, row)
		fees += st.Total
		mgmt += p.ManagementMonthly
		for _, s := range []struct {
			side *Side
			w    MonthWork
			cost int64
		}{{&a.Partner, pw[i], 0}, {&a.InHouse, iw[i], inHouseCost[m]}} {
			s.side.Meetings += s.w.Meetings
			s.side.SQLs += s.w.SQLsAccepted
			s.side.WonCustomers += s.w.WonCustomers
			s.side.Cost += s.cost
			for _, r := range s.w.Revenue {
				s.side.Revenue = addAmount(s.side.Revenue, r.Currency, r.Amount)
			}
		}
	}
	a.Partner.Cost = fees + mgmt
	a.Partner.CostDetail = fmt.Sprintf("fees owed %s + internal management %s over %d months", economics.FormatMoney(fees, p.Currency), economics.FormatMoney(mgmt, p.Currency), a.Months)
	a.InHouse.CostDetail = fmt.Sprintf("people cost of the ldr role %s over %d months (cost profiles × headcount)", economics.FormatMoney(a.InHouse.Cost, p.Currency), a.Months)
	for _, s := range []*Side{&a.Partner, &a.InHouse} {
		s.CostPerMeeting, s.CostPerSQL, s.CostPerWon = per(s.Cost, s.Meetings), per(s.Cost, s.SQLs), per(s.Cost, s.WonCustomers)
	}
	if a.InHouse.Cost == 0 {
		a.InHouse.CostPerMeeting, a.InHouse.CostPerSQL, a.InHouse.CostPerWon = nil, nil, nil
		a.InHouse.Note = fmt.Sprintf("no ldr cost profile with headcount in %s in these months: add one under People costs", p.Currency)
	}
	a.Detail = fmt.Sprintf("actual from %d %s (%s to %s) of %s's delivered work", a.Months, plural(a.Months, "month", "months"), from, to, p.Name)
	return a
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Rates are a partner's average delivery per full month, for the planner.
func (a Actuals) Rates() (meetings, sqls float64) {
	if a.Months == 0 {
		return 0, 0
	}
	return float64(a.Partner.Meetings) / float64(a.Months), float64(a.Partner.SQLs) / float64(a.Months)
}
