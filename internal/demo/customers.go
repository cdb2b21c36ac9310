package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// customers makes the won deals' accounts customers through the same hook a
// deal won in the UI runs (one annual subscription at the deal's amount from
// its close date), then gives them the history a real book of business has:
// seat expansions, price increases, downgrades, cancellations (churn, or
// contraction for a customer with another subscription) and some returns.
// Renewals open when `serve` first runs the renewal job.
func (g *gen) customers() error {
	act := model.Actor{Workspace: g.ws, Label: "demo"}
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	today := day(g.now)
	accounts := map[int64]bool{}
	acctSeg := map[int64]string{}
	for _, a := range g.accts {
		acctSeg[a.ID] = a.Segment
	}
	for i := range g.won {
		d := &g.won[i]
		// What the AE would have put on the deal: the plan, the seats, and for
		// half the small customers monthly billing (the hook's custom fields).
		plan := "Platform"
		if _, p, ok := strings.Cut(d.Name, " — "); ok && p != "Renewal" {
			plan = p
		}
		seats := 1 + g.r.IntN(10)
		switch acctSeg[*d.AccountID] {
		case "mid_market":
			seats = 10 + g.r.IntN(50)
		case "enterprise":
			seats = 50 + g.r.IntN(350)
		}
		d.Custom = model.Custom{subscriptions.FieldPlan: plan, subscriptions.FieldQuantity: float64(seats)}
		if acctSeg[*d.AccountID] == "smb" && g.r.IntN(2) == 0 {
			d.Custom[subscriptions.FieldInterval] = "month"
		}
		if err := g.subs.DealWon(g.ctx, g.q, act, d); err != nil {
			return fmt.Errorf("demo: subscription of deal %d: %w", d.ID, err)
		}
		sub, err := g.q.SubscriptionByDeal(g.ctx, g.ws, d.ID)
		if err != nil {
			return fmt.Errorf("demo: subscription of deal %d: %w", d.ID, err)
		}
		accounts[sub.AccountID] = true
		g.res.Subscriptions++
		// Walk forward from the start in steps of one to seven months.
		at := d.ClosedAt.UTC()
		qty, price := sub.Quantity, sub.UnitPrice
		for {
			at = at.AddDate(0, 1+g.r.IntN(7), g.r.IntN(28))
			when := day(at)
			if when > today {
				break
			}
			roll := g.r.IntN(100)
			var err error
			switch {
			case roll < 30: // more seats: 5–25 % more, at least one
				qty += max(1, qty*int64(5+g.r.IntN(21))/100)
				_, err = g.subs.ChangeIn(g.ctx, g.q, act, sub.ID, subscriptions.ChangeInput{Quantity: &qty, EffectiveDate: &when})
			case roll < 40: // a price increase of 5–20 %
				price += price * int64(5+g.r.IntN(16)) / 100
				_, err = g.subs.ChangeIn(g.ctx, g.q, act, sub.ID, subscriptions.ChangeInput{UnitPrice: &price, EffectiveDate: &when})
			case roll < 50 && qty > 1: // fewer seats: 5–20 % fewer, at least one
				qty -= max(1, qty*int64(5+g.r.IntN(16))/100)
				_, err = g.subs.ChangeIn(g.ctx, g.q, act, sub.ID, subscriptions.ChangeInput{Quantity: &qty, EffectiveDate: &when})
			case roll < 62: // cancelled; a few come back
				note := g.pick([]string{"budget cut", "moved to a competitor", "project ended", "acquired"})
				if _, err = g.subs.CancelIn(g.ctx, g.q, act, sub.ID, subscriptions.CancelInput{EndDate: &when, Note: &note}); err != nil {
					break
				}
				back := day(at.AddDate(0, 2+g.r.IntN(5), 0))
				if g.r.IntN(100) < 25 && back <= today {
					_, err = g.subs.ReactivateIn(g.ctx, g.q, act, sub.ID, subscriptions.ReactivateInput{Date: &back})
					at, _ = time.Parse(time.DateOnly, back)
					break
				}
				at = g.now.AddDate(1, 0, 0) // ended for good
			case roll < 70: // an add-on on a monthly plan
				plan, one, addon, iv := "Analytics add-on", int64(1), int64(50_00*(1+g.r.IntN(4))), "month"
				_, err = g.subs.CreateIn(g.ctx, g.q, act, subscriptions.Input{AccountID: &sub.AccountID, Plan: &plan, Quantity: &one, UnitPrice: &addon, Interval: &iv, StartDate: &when})
				if err == nil {
					g.res.Subscriptions++
				}
			}
			if err != nil {
				return fmt.Errorf("demo: history of subscription %d: %w", sub.ID, err)
			}
		}
	}
	g.res.Customers = len(accounts)
	return nil
}
