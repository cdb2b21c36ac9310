package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Deal custom fields the won-deal hook reads, when a workspace defines them
// (any type; numbers may be text). Without them a deal opens one unit of an
// annual subscription at its amount.
const (
	FieldPlan     = "plan"             // plan name (default: the deal's name)
	FieldQuantity = "quantity"         // whole units ≥ 1 (default 1)
	FieldInterval = "billing_interval" // month, quarter or year (default year)
	FieldTerm     = "term_months"      // contract term in months (default 12)
)

// DealWon opens a subscription for a deal that was just won (crm.WonHook),
// inside the deal's write transaction, which makes its account a customer and
// writes the new (or reactivation, or — for an existing customer — expansion)
// movement.
//
// The deal's amount is read as its annual contract value (ACV): the
// subscription bills quantity × unit price per interval with unit price =
// amount × interval months ÷ 12 ÷ quantity (rounded half up), so its MRR is
// amount ÷ 12. It starts on the day the deal closed, for term_months (12),
// auto-renewing. A deal without an account opens nothing (its history says
// so): there is no customer to bill. A deal that already opened one (won,
// reopened, won again) opens no second one. A custom field with a value that
// cannot be read refuses the write naming the field, rather than opening a
// subscription with made-up terms.
func (s *Service) DealWon(ctx context.Context, q store.Q, act model.Actor, d *model.Deal) error {
	ws := act.Workspace
	note := func(reason string) error {
		return q.AddHistory(ctx, ws, "deal", d.ID, "subscription_not_opened", map[string]any{"reason": reason}, act.Label)
	}
	if d.AccountID == nil {
		return note("the deal has no account: link one and open the subscription from the customer's account (POST /api/v1/subscriptions)")
	}
	if prev, err := q.SubscriptionByDeal(ctx, ws, d.ID); err == nil {
		return note(fmt.Sprintf("subscription %d was already opened from this deal", prev.ID))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	in, err := termsFromDeal(d, s.Today())
	if err != nil {
		return err
	}
	have, err := accountCurrency(ctx, q, ws, *d.AccountID, 0)
	if err != nil {
		return err
	}
	if have != "" && have != d.Currency {
		return note(fmt.Sprintf("the deal is in %s but the customer is billed in %s; open the subscription by hand", d.Currency, have))
	}
	sub, err := s.CreateIn(ctx, q, act, in)
	if err != nil {
		return err
	}
	return q.AddHistory(ctx, ws, "deal", d.ID, "subscription_opened", historyDetail(&sub, map[string]any{"start_date": sub.StartDate, "renewal_date": sub.RenewalDate}), act.Label)
}

// termsFromDeal derives a subscription from a won deal (see DealWon).
func termsFromDeal(d *model.Deal, today string) (Input, error) {
	interval := "year"
	if v, ok := d.Custom[FieldInterval]; ok && v != nil && fmt.Sprint(v) != "" {
		iv, err := checkInterval("custom."+FieldInterval, fmt.Sprint(v))
		if err != nil {
			return Input{}, err
		}
		interval = iv
	}
	quantity, err := customWhole(d.Custom, FieldQuantity, 1, MaxQuantity, 1)
	if err != nil {
		return Input{}, err
	}
	term, err := customWhole(d.Custom, FieldTerm, 1, MaxTerm, 12)
	if err != nil {
		return Input{}, err
	}
	plan := strings.TrimSpace(d.Name)
	if v, ok := d.Custom[FieldPlan].(string); ok && strings.TrimSpace(v) != "" {
		plan = strings.TrimSpace(v)
	}
	if len(plan) > 200 {
		plan = plan[:200]
	}
	months := model.IntervalMonths(interval)
	// amount × months ÷ (12 × quantity), rounded half up.
	if d.Amount > math.MaxInt64/24 {
		return Input{}, fe("amount", "too large to open a subscription from")
	}
	den := 12 * quantity
	price := (d.Amount*months*2 + den) / (2 * den)
	if price > MaxUnitPrice {
		return Input{}, fe("amount", "too large to open a subscription from")
	}
	start := today
	if d.ClosedAt != nil {
		start = d.ClosedAt.UTC().Format(time.DateOnly)
	}
	acct, deal := *d.AccountID, d.ID
	cur := d.Currency
	auto := true
	return Input{AccountID: &acct, DealID: &deal, Plan: &plan, Quantity: &quantity, UnitPrice: &price, Currency: &cur,
		Interval: &interval, StartDate: &start, TermMonths: &term, AutoRenew: &auto, Note: "opened from won deal " + strconv.FormatInt(d.ID, 10)}, nil
}

// customWhole reads a whole number from a deal custom field (a number, or
// text holding one); absent or blank gives def.
func customWhole(c model.Custom, key string, lo, hi, def int64) (int64, error) {
	v, ok := c[key]
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		if strings.TrimSpace(x) == "" {
			return def, nil
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fe("custom."+key, "%q is not a whole number", x)
		}
		f = p
	default:
		return 0, fe("custom."+key, "must be a whole number from %d to %d to open the subscription", lo, hi)
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fe("custom."+key, "%v is not a whole number from %d to %d (needed to open the subscription)", v, lo, hi)
	}
	return int64(f), nil
}
