package subscriptions

import (
	"context"
	"errors"
	"sort"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// CustomerStatuses: active (an active subscription today), churned (none
// active or future), future (only subscriptions that start later).
var CustomerStatuses = []string{"active", "churned", "future"}

// CustomerSummary is one row of the customer list.
type CustomerSummary struct {
	store.CustomerRow
	Status string `json:"status"`
	// Plans are the plans of the customer's active subscriptions (of all, when
	// none is active), biggest MRR first.
	Plans []string `json:"plans"`
}

func customerStatus(r *store.CustomerRow) string {
	switch {
	case r.Active > 0:
		return "active"
	case r.Future > 0:
		return "future"
	}
	return "churned"
}

// Customers pages through the workspace's customers (accounts with a
// subscription), with MRR as of today.
func (s *Service) Customers(ctx context.Context, ws int64, f store.CustomerFilter) ([]CustomerSummary, string, error) {
	if f.Status != "" && !model.Contains(CustomerStatuses, f.Status) {
		return nil, "", fe("status", "%q is not active, churned or future", f.Status)
	}
	if f.Sort != "" && f.Sort != "name" && f.Sort != "-mrr" {
		return nil, "", fe("sort", "%q is not name or -mrr", f.Sort)
	}
	f.Today = s.Today()
	q := s.St.Read()
	rows, next, err := q.ListCustomers(ctx, ws, f)
	if err != nil {
		return nil, "", err
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].AccountID
	}
	subs, err := q.AccountSubscriptions(ctx, ws, ids...)
	if err != nil {
		return nil, "", err
	}
	byAcct := map[int64][]model.Subscription{}
	for _, x := range subs {
		byAcct[x.AccountID] = append(byAcct[x.AccountID], x)
	}
	out := make([]CustomerSummary, len(rows))
	for i := range rows {
		out[i] = CustomerSummary{CustomerRow: rows[i], Status: customerStatus(&rows[i]), Plans: plans(byAcct[rows[i].AccountID], f.Today)}
	}
	return out, next, nil
}

func plans(subs []model.Subscription, today string) []string {
	pick := func(active bool) []string {
		xs := append([]model.Subscription(nil), subs...)
		sort.SliceStable(xs, func(i, j int) bool { return xs[i].MRR > xs[j].MRR })
		seen := map[string]bool{}
		out := []string{}
		for _, x := range xs {
			if active && x.StatusOn(today) != "active" {
				continue
			}
			if x.Plan != "" && !seen[x.Plan] {
				seen[x.Plan] = true
				out = append(out, x.Plan)
			}
		}
		return out
	}
	if p := pick(true); len(p) > 0 {
		return p
	}
	return pick(false)
}

// MonthMRR is a customer's MRR at the end of one month.
type MonthMRR struct {
	Month string `json:"month"`
	MRR   int64  `json:"mrr"`
}

// Customer is one customer with everything its page shows.
type Customer struct {
	CustomerSummary
	Subscriptions []model.Subscription `json:"subscriptions"`
	Movements     []model.MRRMovement  `json:"movements"`
	Renewals      []model.Renewal      `json:"renewals"`
	// History is the MRR at the end of each of the last 12 months (today's
	// month last), in the customer's currency.
	History []MonthMRR `json:"history"`
}

// Customer reads one customer; an account without subscriptions (or of
// another workspace) is ErrNotFound.
func (s *Service) Customer(ctx context.Context, ws, accountID int64) (Customer, error) {
	var c Customer
	today := s.Today()
	q := s.St.Read()
	rows, _, err := q.ListCustomers(ctx, ws, store.CustomerFilter{Today: today, AccountID: accountID, Limit: 1})
	if err != nil {
		return c, err
	}
	if len(rows) == 0 {
		return c, store.ErrNotFound
	}
	if c.Subscriptions, err = q.AccountSubscriptions(ctx, ws, accountID); err != nil {
		return c, err
	}
	for i := range c.Subscriptions {
		c.Subscriptions[i].Status = c.Subscriptions[i].StatusOn(today)
	}
	c.CustomerSummary = CustomerSummary{CustomerRow: rows[0], Status: customerStatus(&rows[0]), Plans: plans(c.Subscriptions, today)}
	if c.Movements, err = q.AccountMovements(ctx, ws, accountID); err != nil {
		return c, err
	}
	if c.Renewals, err = q.ListRenewals(ctx, ws, store.RenewalFilter{AccountID: accountID}); err != nil {
		return c, err
	}
	c.History = accountHistory(c.Movements, c.Currency, today, 12)
	return c, nil
}

// accountHistory is the MRR in cur at the end of each of the n months up to
// today's, from an account's movements.
func accountHistory(ms []model.MRRMovement, cur, today string, n int) []MonthMRR {
	out := make([]MonthMRR, 0, n)
	m := addMonths(today[:7]+"-01", int64(1-n))[:7]
	for i := 0; i < n; i++ {
		end := monthEnd(m)
		var sum int64
		for _, x := range ms {
			if x.Currency == cur && x.Date <= end {
				sum += model.MovementSign(x.Kind) * x.Amount
			}
		}
		out = append(out, MonthMRR{Month: m, MRR: sum})
		m = nextMonth(m)
	}
	return out
}

// IsCustomer reports whether an account has ever had a subscription (the
// account page links to the customer page then).
func (s *Service) IsCustomer(ctx context.Context, ws, accountID int64) (bool, error) {
	ok, err := s.St.Read().IsCustomer(ctx, ws, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return ok, err
}

// CountCustomers counts the customers a filter matches.
func (s *Service) CountCustomers(ctx context.Context, ws int64, f store.CustomerFilter) (int64, error) {
	f.Today = s.Today()
	return s.St.Read().CountCustomers(ctx, ws, f)
}
