package subscriptions

import (
	"context"
	"errors"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// ImportRow is one row of a subscriptions import, parsed by internal/importer
// (which also resolves the account and deal references). Nil fields were
// blank in the file.
type ImportRow struct {
	AccountID   int64
	DealID      *int64
	ExternalID  string
	Plan        *string
	Quantity    *int64
	UnitPrice   *int64
	Currency    *string
	Interval    *string
	StartDate   *string
	EndDate     *string
	RenewalDate *string
	TermMonths  *int64
	AutoRenew   *bool
	// Status is "", "active" or "cancelled". Cancelled needs an end date;
	// active refuses an end date that has passed, and on a stored
	// subscription that ended it means the customer came back (reactivation
	// today). Blank keeps what the end date says.
	Status string
}

// AccountField is the field name Import's errors use for the row's account
// reference; the importer reports it on whichever column the row used.
const AccountField = "account"

// Import writes one row inside the importer's batch transaction: a new
// subscription (with its start and, when given, its end, so a history
// imported in any order yields the right movements on the right days), or —
// for an external id already stored — what the row changes:
//   - a new start date restates the start (not past a later recorded change);
//   - new terms (plan, quantity, unit price, interval) are a change from today
//     for a subscription running today, and correct the recorded terms of one
//     that is not (ended, or not started);
//   - an end date ends it (or moves a scheduled end); status active on an
//     ended one reactivates it today, on a scheduled end withdraws it;
//   - renewal date, term, auto-renew and deal only change the record.
//
// Every check runs before anything is written, so a rejected row (a
// *store.FieldError) leaves nothing behind.
func (s *Service) Import(ctx context.Context, q store.Q, act model.Actor, row ImportRow) (merged bool, err error) {
	ws := act.Workspace
	today := s.Today()
	if row.Status == "cancelled" && row.EndDate == nil {
		return false, fe("status", "a cancelled subscription needs an end_date (the day it stopped)")
	}
	if row.Status == "active" && row.EndDate != nil && *row.EndDate <= today {
		return false, fe("end_date", "%s has passed but status says active", *row.EndDate)
	}
	var sub model.Subscription
	if row.ExternalID != "" {
		sub, err = q.SubscriptionByExternalID(ctx, ws, row.ExternalID)
		if errors.Is(err, store.ErrNotFound) {
			sub.ID = 0
		} else if err != nil {
			return false, err
		}
	}
	if sub.ID == 0 {
		in := Input{AccountID: &row.AccountID, DealID: row.DealID, Plan: row.Plan, Quantity: row.Quantity, UnitPrice: row.UnitPrice,
			Currency: row.Currency, Interval: row.Interval, StartDate: row.StartDate, TermMonths: row.TermMonths, RenewalDate: row.RenewalDate,
			AutoRenew: row.AutoRenew, EndDate: row.EndDate, Note: "imported"}
		if row.ExternalID != "" {
			in.ExternalID = &row.ExternalID
		}
		if row.StartDate == nil {
			return false, fe("start_date", "is required for a new subscription")
		}
		_, err := s.CreateIn(ctx, q, act, in)
		return false, err
	}
	return true, s.importMerge(ctx, q, act, &sub, row, today)
}

func (s *Service) importMerge(ctx context.Context, q store.Q, act model.Actor, sub *model.Subscription, row ImportRow, today string) error {
	ws := act.Workspace
	if row.AccountID != sub.AccountID {
		return fe(AccountField, "subscription %q belongs to account %d; an import does not move it", row.ExternalID, sub.AccountID)
	}
	if err := q.LockAccount(ctx, ws, sub.AccountID); err != nil {
		return err
	}
	var err error
	if row.Currency != nil {
		cur, err := checkCurrency("currency", *row.Currency)
		if err != nil {
			return err
		}
		if cur != sub.Currency {
			return fe("currency", "the subscription is in %s; an import does not change its currency", sub.Currency)
		}
	}
	// The target state, checked before anything is written.
	start := sub.StartDate
	if row.StartDate != nil {
		if start, err = parseDay("start_date", *row.StartDate); err != nil {
			return err
		}
	}
	t := termsOf(sub)
	if row.Plan != nil {
		if t.plan, err = checkText("plan", *row.Plan, 200); err != nil {
			return err
		}
	}
	if row.Quantity != nil {
		if err := checkQuantity("quantity", *row.Quantity); err != nil {
			return err
		}
		t.quantity = *row.Quantity
	}
	if row.UnitPrice != nil {
		if err := checkPrice("unit_price", *row.UnitPrice); err != nil {
			return err
		}
		t.unitPrice = *row.UnitPrice
	}
	if row.Interval != nil {
		if t.interval, err = checkInterval("interval", *row.Interval); err != nil {
			return err
		}
	}
	end := sub.EndDate
	switch {
	case row.EndDate != nil:
		if end, err = parseDay("end_date", *row.EndDate); err != nil {
			return err
		}
	case row.Status == "active":
		end = ""
	}
	if end != "" && end <= start {
		return fe("end_date", "%s is not after start_date %s", end, start)
	}
	rec := *sub
	if row.TermMonths != nil {
		if err := checkTerm("term_months", *row.TermMonths); err != nil {
			return err
		}
		rec.TermMonths = *row.TermMonths
	}
	if row.RenewalDate != nil {
		if rec.RenewalDate, err = parseDay("renewal_date", *row.RenewalDate); err != nil {
			return err
		}
		if rec.RenewalDate <= start {
			return fe("renewal_date", "%s is not after start_date %s", rec.RenewalDate, start)
		}
	}
	if row.AutoRenew != nil {
		rec.AutoRenew = *row.AutoRenew
	}
	if row.DealID != nil {
		rec.DealID = row.DealID
	}
	cs, err := q.SubscriptionChanges(ctx, ws, sub.ID)
	if err != nil {
		return err
	}
	if len(cs) == 0 || cs[0].Kind != "start" {
		return errors.New("subscriptions: a stored subscription without its start change")
	}
	// body: the changes other than the start and a trailing end.
	body := cs[1:]
	var endChange *model.SubscriptionChange
	if n := len(cs); n > 1 && cs[n-1].Kind == "end" {
		endChange = &cs[n-1]
		body = cs[1 : n-1]
	}
	lastBody := start
	if len(body) > 0 {
		lastBody = body[len(body)-1].EffectiveDate
	}
	for _, c := range body {
		if c.EffectiveDate < start {
			return fe("start_date", "%s is after the recorded %s of %s", start, c.Kind, c.EffectiveDate)
		}
	}
	termsChanged := t != termsOf(sub)
	running := start <= today && (end == "" || end > today)
	var changeAt string // a new terms change, when running
	if termsChanged && running {
		changeAt = today
		if today < lastBody {
			return fe("unit_price", "the subscription has a change recorded for %s; new terms cannot be dated today", lastBody)
		}
		lastBody = today
	}
	endAction := ""
	switch {
	case end == sub.EndDate:
	case end != "" && endChange != nil: // move the scheduled or past end
		endAction = "move"
	case end != "": // end a running subscription
		endAction = "add"
	case sub.EndDate > today: // status active on a scheduled end
		endAction = "withdraw"
	default: // status active on an ended one
		endAction = "reactivate"
		if today < sub.EndDate {
			return fe("status", "cannot reactivate before the end (%s)", sub.EndDate)
		}
	}
	if (endAction == "move" || endAction == "add") && end < lastBody {
		return fe("end_date", "%s is before the last recorded change (%s)", end, lastBody)
	}

	// Write.
	if start != sub.StartDate {
		cs[0].EffectiveDate, cs[0].Actor = start, act.Label
		if err := q.UpdateSubscriptionChange(ctx, ws, &cs[0]); err != nil {
			return err
		}
		rec.StartDate = start
	}
	if termsChanged {
		t.applyTo(&rec)
		if changeAt != "" {
			if err := record(ctx, q, ws, &rec, "change", changeAt, true, "imported", act.Label); err != nil {
				return err
			}
		} else {
			// Not running today: correct the terms it had.
			target := &cs[0]
			for i := len(body) - 1; i >= 0; i-- {
				if body[i].Kind != "end" {
					target = &body[i]
					break
				}
			}
			target.Plan, target.Quantity, target.UnitPrice, target.Interval, target.MRR = rec.Plan, rec.Quantity, rec.UnitPrice, rec.Interval, rec.MRR
			if err := q.UpdateSubscriptionChange(ctx, ws, target); err != nil {
				return err
			}
		}
	}
	switch endAction {
	case "move":
		endChange.EffectiveDate, endChange.Actor = end, act.Label
		if err := q.UpdateSubscriptionChange(ctx, ws, endChange); err != nil {
			return err
		}
	case "add":
		if err := record(ctx, q, ws, &rec, "end", end, false, "imported", act.Label); err != nil {
			return err
		}
	case "withdraw":
		if endChange == nil {
			return errors.New("subscriptions: a scheduled end without its end change")
		}
		if err := q.DeleteSubscriptionChange(ctx, ws, endChange.ID); err != nil {
			return err
		}
	case "reactivate":
		if err := record(ctx, q, ws, &rec, "reactivate", today, true, "imported", act.Label); err != nil {
			return err
		}
		if rec.RenewalDate <= today {
			rec.RenewalDate = addMonths(today, rec.TermMonths)
		}
	}
	rec.EndDate = end
	if err := q.UpdateSubscription(ctx, ws, &rec); err != nil {
		return err
	}
	*sub = rec
	return sync(ctx, q, ws, sub.AccountID)
}
