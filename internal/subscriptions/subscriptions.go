// Package subscriptions keeps customers' subscriptions and the MRR movements
// they make (PRODUCT.md §5, docs/subscriptions.md): a customer is an account
// with a subscription; every change of a subscription is recorded with the day
// it takes effect, and the account's MRR movements (new, expansion,
// contraction, churn, reactivation) are derived from those changes in the same
// transaction, so MRR_end = MRR_start + new + expansion + reactivation −
// contraction − churn holds for any period. Subscriptions are opened by a won
// deal (DealWon), through the API, or by import; renewals are opened ahead of
// the renewal date by a periodic job and closed by an outcome.
package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Service writes and reads subscriptions.
type Service struct {
	St *store.Store
	// Now is the clock; nil means store.Now. Tests move it instead of sleeping.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return store.Now()
}

// Today is the service's current day, YYYY-MM-DD (UTC).
func (s *Service) Today() string { return s.now().Format(time.DateOnly) }

// WriterRoles may create and change subscriptions and record renewal
// outcomes: everyone who sells to or looks after customers. LDRs qualify
// leads and read customers but do not change what a customer pays.
var WriterRoles = []string{model.RoleAdmin, model.RoleManager, model.RoleCSM, model.RoleAE}

// CanWrite reports whether role may change subscriptions (see WriterRoles).
func CanWrite(role string) bool { return model.Contains(WriterRoles, role) }

// Limits keep quantity × unit price × 2 far inside int64.
const (
	MaxQuantity  = 1_000_000
	MaxUnitPrice = 1_000_000_000_000 // minor units: 10 billion in a 2-decimal currency
	MaxTerm      = 120
)

func fe(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Input creates a subscription. Absent fields take defaults: quantity 1,
// start today, term = the interval's months (12 for year), renewal = the first
// start + k·term after today (or after the start, for a future start),
// auto_renew true, currency = the account's other subscriptions', else the
// deal's, else the workspace's.
type Input struct {
	AccountID   *int64  `json:"account_id"`
	DealID      *int64  `json:"deal_id"`
	ExternalID  *string `json:"external_id"`
	Plan        *string `json:"plan"`
	Quantity    *int64  `json:"quantity"`
	UnitPrice   *int64  `json:"unit_price"`
	Currency    *string `json:"currency"`
	Interval    *string `json:"interval"`
	StartDate   *string `json:"start_date"`
	TermMonths  *int64  `json:"term_months"`
	RenewalDate *string `json:"renewal_date"`
	AutoRenew   *bool   `json:"auto_renew"`
	EndDate     *string `json:"end_date"`
	// Note is kept on the start change (why it was opened).
	Note string `json:"-"`
}

// ChangeInput changes a subscription. Plan, quantity, unit price and interval
// are its terms: a change of them is recorded as of EffectiveDate (default
// today; not before the start or the last recorded change, not on or after
// the end) and moves MRR. Term, renewal date, auto-renew and external id only
// change the record.
type ChangeInput struct {
	Plan          *string `json:"plan"`
	Quantity      *int64  `json:"quantity"`
	UnitPrice     *int64  `json:"unit_price"`
	Interval      *string `json:"interval"`
	EffectiveDate *string `json:"effective_date"`
	TermMonths    *int64  `json:"term_months"`
	RenewalDate   *string `json:"renewal_date"`
	AutoRenew     *bool   `json:"auto_renew"`
	ExternalID    *string `json:"external_id"`
	Note          *string `json:"note"`
}

// CancelInput ends a subscription on EndDate (default today): from that day
// it no longer counts. A date in the future schedules the end.
type CancelInput struct {
	EndDate *string `json:"end_date"`
	Note    *string `json:"note"`
}

// ReactivateInput restarts an ended subscription on Date (default today) with
// its last terms, or withdraws a cancellation that has not taken effect yet.
type ReactivateInput struct {
	Date *string `json:"date"`
	Note *string `json:"note"`
}

// parseDay checks a YYYY-MM-DD date.
func parseDay(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Year() < 1900 || t.Year() > 2999 {
		return "", fe(field, "%q is not a date (YYYY-MM-DD)", v)
	}
	return t.Format(time.DateOnly), nil
}

// addMonths moves a YYYY-MM-DD day n months on, keeping the day of month
// where the target month has it and taking its last day where not (31 Jan + 1
// month = 28/29 Feb).
func addMonths(day string, n int64) string {
	t, _ := time.Parse(time.DateOnly, day)
	y, m, d := t.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, int(n), 0)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func addDays(day string, n int) string {
	t, _ := time.Parse(time.DateOnly, day)
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

// nextRenewal is the first start + k·term (k ≥ 1) after today, or start + term
// for a subscription that has not started.
func nextRenewal(start string, term int64, today string) string {
	r := addMonths(start, term)
	for k := int64(2); r <= today && k < 10_000; k++ {
		r = addMonths(start, k*term)
	}
	return r
}

func checkQuantity(field string, n int64) error {
	if n < 1 || n > MaxQuantity {
		return fe(field, "must be a whole number from 1 to %d", MaxQuantity)
	}
	return nil
}

func checkPrice(field string, n int64) error {
	if n < 0 || n > MaxUnitPrice {
		return fe(field, "must be from 0 to %d minor units", int64(MaxUnitPrice))
	}
	return nil
}

func checkInterval(field, v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if !model.Contains(model.BillingIntervals, v) {
		return "", fe(field, "%q is not month, quarter or year", v)
	}
	return v, nil
}

func checkTerm(field string, n int64) error {
	if n < 1 || n > MaxTerm {
		return fe(field, "must be a whole number of months from 1 to %d", MaxTerm)
	}
	return nil
}

func checkText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) > max {
		return "", fe(field, "longer than %d characters", max)
	}
	return v, nil
}

func checkCurrency(field, v string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(v))
	if len(u) != 3 || strings.Trim(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", fe(field, "%q is not a 3-letter currency code", v)
	}
	return u, nil
}

// accountCurrency is the currency of the account's subscriptions ("" when it
// has none): every subscription of a customer is in one currency, so its MRR
// and movements are one series.
func accountCurrency(ctx context.Context, q store.Q, ws, accountID, except int64) (string, error) {
	subs, err := q.AccountSubscriptions(ctx, ws, accountID)
	if err != nil {
		return "", err
	}
	for _, x := range subs {
		if x.ID != except {
			return x.Currency, nil
		}
	}
	return "", nil
}

// Create opens a subscription.
func (s *Service) Create(ctx context.Context, act model.Actor, in Input) (model.Subscription, error) {
	var sub model.Subscription
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		sub, err = s.CreateIn(ctx, q, act, in)
		return err
	})
	return sub, err
}

// CreateIn is Create inside the caller's transaction (the won-deal hook, demo data).
func (s *Service) CreateIn(ctx context.Context, q store.Q, act model.Actor, in Input) (model.Subscription, error) {
	ws := act.Workspace
	today := s.Today()
	sub := model.Subscription{Quantity: 1, AutoRenew: true, StartDate: today}
	var err error
	if in.AccountID == nil {
		return sub, fe("account_id", "is required")
	}
	sub.AccountID = *in.AccountID
	if err := q.LockAccount(ctx, ws, sub.AccountID); errors.Is(err, store.ErrNotFound) {
		return sub, fe("account_id", "no account %d", sub.AccountID)
	} else if err != nil {
		return sub, err
	}
	var deal *model.Deal
	if in.DealID != nil {
		d, err := q.GetDeal(ctx, ws, *in.DealID)
		if errors.Is(err, store.ErrNotFound) {
			return sub, fe("deal_id", "no deal %d", *in.DealID)
		} else if err != nil {
			return sub, err
		}
		deal, sub.DealID = &d, &d.ID
	}
	if in.ExternalID != nil {
		if sub.ExternalID, err = checkText("external_id", *in.ExternalID, 200); err != nil {
			return sub, err
		}
	}
	if in.Plan != nil {
		if sub.Plan, err = checkText("plan", *in.Plan, 200); err != nil {
			return sub, err
		}
	}
	if in.Quantity != nil {
		if err := checkQuantity("quantity", *in.Quantity); err != nil {
			return sub, err
		}
		sub.Quantity = *in.Quantity
	}
	if in.UnitPrice == nil {
		return sub, fe("unit_price", "is required (minor units per interval per unit, e.g. 120000 for 1,200.00)")
	}
	if err := checkPrice("unit_price", *in.UnitPrice); err != nil {
		return sub, err
	}
	sub.UnitPrice = *in.UnitPrice
	if in.Interval == nil {
		return sub, fe("interval", "is required (month, quarter or year)")
	}
	if sub.Interval, err = checkInterval("interval", *in.Interval); err != nil {
		return sub, err
	}
	have, err := accountCurrency(ctx, q, ws, sub.AccountID, 0)
	if err != nil {
		return sub, err
	}
	switch {
	case in.Currency != nil:
		if sub.Currency, err = checkCurrency("currency", *in.Currency); err != nil {
			return sub, err
		}
	case have != "":
		sub.Currency = have
	case deal != nil:
		sub.Currency = deal.Currency
	default:
		w, err := q.GetWorkspace(ctx, ws)
		if err != nil {
			return sub, err
		}
		sub.Currency = w.Currency
	}
	if have != "" && have != sub.Currency {
		return sub, fe("currency", "account %d is billed in %s; a customer's subscriptions share one currency", sub.AccountID, have)
	}
	if in.StartDate != nil {
		if sub.StartDate, err = parseDay("start_date", *in.StartDate); err != nil {
			return sub, err
		}
	}
	sub.TermMonths = model.IntervalMonths(sub.Interval)
	if in.TermMonths != nil {
		if err := checkTerm("term_months", *in.TermMonths); err != nil {
			return sub, err
		}
		sub.TermMonths = *in.TermMonths
	}
	if in.AutoRenew != nil {
		sub.AutoRenew = *in.AutoRenew
	}
	if in.EndDate != nil && strings.TrimSpace(*in.EndDate) != "" {
		if sub.EndDate, err = parseDay("end_date", *in.EndDate); err != nil {
			return sub, err
		}
		if sub.EndDate <= sub.StartDate {
			return sub, fe("end_date", "%s is not after start_date %s", sub.EndDate, sub.StartDate)
		}
	}
	if in.RenewalDate != nil && strings.TrimSpace(*in.RenewalDate) != "" {
		if sub.RenewalDate, err = parseDay("renewal_date", *in.RenewalDate); err != nil {
			return sub, err
		}
		if sub.RenewalDate <= sub.StartDate {
			return sub, fe("renewal_date", "%s is not after start_date %s", sub.RenewalDate, sub.StartDate)
		}
	} else {
		sub.RenewalDate = nextRenewal(sub.StartDate, sub.TermMonths, today)
	}
	sub.MRR = model.MonthlyValue(sub.Quantity, sub.UnitPrice, sub.Interval)
	if sub.ExternalID != "" {
		if _, err := q.SubscriptionByExternalID(ctx, ws, sub.ExternalID); err == nil {
			return sub, &store.ConflictError{Field: "external_id"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return sub, err
		}
	}
	if err := q.CreateSubscription(ctx, ws, &sub); err != nil {
		return sub, err
	}
	if err := record(ctx, q, ws, &sub, "start", sub.StartDate, true, in.Note, act.Label); err != nil {
		return sub, err
	}
	if sub.EndDate != "" {
		if err := record(ctx, q, ws, &sub, "end", sub.EndDate, false, "", act.Label); err != nil {
			return sub, err
		}
	}
	if err := sync(ctx, q, ws, sub.AccountID); err != nil {
		return sub, err
	}
	sub.Status = sub.StatusOn(today)
	return sub, q.AddHistory(ctx, ws, "account", sub.AccountID, "subscription_started", historyDetail(&sub, nil), act.Label)
}

// record writes a change of sub with its current terms.
func record(ctx context.Context, q store.Q, ws int64, sub *model.Subscription, kind, day string, active bool, note, actor string) error {
	c := model.SubscriptionChange{SubscriptionID: sub.ID, AccountID: sub.AccountID, Kind: kind, EffectiveDate: day, Plan: sub.Plan,
		Quantity: sub.Quantity, UnitPrice: sub.UnitPrice, Currency: sub.Currency, Interval: sub.Interval, MRR: sub.MRR, Active: active,
		Note: note, Actor: actor}
	return q.AddSubscriptionChange(ctx, ws, &c)
}

func historyDetail(sub *model.Subscription, extra map[string]any) map[string]any {
	d := map[string]any{"subscription_id": sub.ID, "plan": sub.Plan, "quantity": sub.Quantity, "unit_price": sub.UnitPrice,
		"currency": sub.Currency, "interval": sub.Interval, "mrr": sub.MRR}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// lastChange is the newest recorded change of a subscription (by effect).
func lastChange(ctx context.Context, q store.Q, ws, subID int64) (model.SubscriptionChange, []model.SubscriptionChange, error) {
	cs, err := q.SubscriptionChanges(ctx, ws, subID)
	if err != nil {
		return model.SubscriptionChange{}, nil, err
	}
	if len(cs) == 0 {
		return model.SubscriptionChange{}, nil, fmt.Errorf("subscriptions: subscription %d has no recorded start", subID)
	}
	return cs[len(cs)-1], cs, nil
}

// load reads a subscription for a write: the subscription row and then its
// account are locked (always in that order).
func load(ctx context.Context, q store.Q, ws, id int64) (model.Subscription, error) {
	sub, err := q.GetSubscription(ctx, ws, id)
	if err != nil {
		return sub, err
	}
	return sub, q.LockAccount(ctx, ws, sub.AccountID)
}

// Change applies a change to subscription id.
func (s *Service) Change(ctx context.Context, act model.Actor, id int64, in ChangeInput) (model.Subscription, error) {
	var sub model.Subscription
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		sub, err = s.ChangeIn(ctx, q, act, id, in)
		return err
	})
	return sub, err
}

// ChangeIn is Change inside the caller's transaction.
func (s *Service) ChangeIn(ctx context.Context, q store.Q, act model.Actor, id int64, in ChangeInput) (model.Subscription, error) {
	sub, err := load(ctx, q, act.Workspace, id)
	if err != nil {
		return sub, err
	}
	err = s.changeIn(ctx, q, act, &sub, in)
	return sub, err
}

// terms are the parts of a subscription that set its MRR.
type terms struct {
	plan      string
	quantity  int64
	unitPrice int64
	interval  string
}

func termsOf(sub *model.Subscription) terms {
	return terms{sub.Plan, sub.Quantity, sub.UnitPrice, sub.Interval}
}

func (t terms) applyTo(sub *model.Subscription) {
	sub.Plan, sub.Quantity, sub.UnitPrice, sub.Interval = t.plan, t.quantity, t.unitPrice, t.interval
	sub.MRR = model.MonthlyValue(t.quantity, t.unitPrice, t.interval)
}

func (s *Service) changeIn(ctx context.Context, q store.Q, act model.Actor, sub *model.Subscription, in ChangeInput) error {
	ws := act.Workspace
	today := s.Today()
	t := termsOf(sub)
	var err error
	if in.Plan != nil {
		if t.plan, err = checkText("plan", *in.Plan, 200); err != nil {
			return err
		}
	}
	if in.Quantity != nil {
		if err := checkQuantity("quantity", *in.Quantity); err != nil {
			return err
		}
		t.quantity = *in.Quantity
	}
	if in.UnitPrice != nil {
		if err := checkPrice("unit_price", *in.UnitPrice); err != nil {
			return err
		}
		t.unitPrice = *in.UnitPrice
	}
	if in.Interval != nil {
		if t.interval, err = checkInterval("interval", *in.Interval); err != nil {
			return err
		}
	}
	note := ""
	if in.Note != nil {
		if note, err = checkText("note", *in.Note, 2000); err != nil {
			return err
		}
	}
	effective := today
	if in.EffectiveDate != nil {
		if effective, err = parseDay("effective_date", *in.EffectiveDate); err != nil {
			return err
		}
	}
	before := *sub
	if in.TermMonths != nil {
		if err := checkTerm("term_months", *in.TermMonths); err != nil {
			return err
		}
		sub.TermMonths = *in.TermMonths
	}
	if in.RenewalDate != nil {
		if sub.RenewalDate, err = parseDay("renewal_date", *in.RenewalDate); err != nil {
			return err
		}
		if sub.RenewalDate <= sub.StartDate {
			return fe("renewal_date", "%s is not after start_date %s", sub.RenewalDate, sub.StartDate)
		}
	}
	if in.AutoRenew != nil {
		sub.AutoRenew = *in.AutoRenew
	}
	if in.ExternalID != nil {
		if sub.ExternalID, err = checkText("external_id", *in.ExternalID, 200); err != nil {
			return err
		}
		if sub.ExternalID != "" && sub.ExternalID != before.ExternalID {
			if other, err := q.SubscriptionByExternalID(ctx, ws, sub.ExternalID); err == nil && other.ID != sub.ID {
				return &store.ConflictError{Field: "external_id"}
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	termsChanged := t != termsOf(sub)
	if termsChanged {
		if err := s.checkEffective(ctx, q, ws, sub, "effective_date", effective); err != nil {
			return err
		}
		t.applyTo(sub)
		if err := record(ctx, q, ws, sub, "change", effective, true, note, act.Label); err != nil {
			return err
		}
	}
	if err := q.UpdateSubscription(ctx, ws, sub); err != nil {
		return err
	}
	if termsChanged {
		if err := sync(ctx, q, ws, sub.AccountID); err != nil {
			return err
		}
	}
	sub.Status = sub.StatusOn(today)
	extra := map[string]any{}
	if termsChanged {
		extra["effective_date"] = effective
		extra["mrr_before"] = before.MRR
	}
	return q.AddHistory(ctx, ws, "account", sub.AccountID, "subscription_changed", historyDetail(sub, extra), act.Label)
}

// checkEffective says whether sub's terms may change on day: while it runs,
// not before its start or its last recorded change.
func (s *Service) checkEffective(ctx context.Context, q store.Q, ws int64, sub *model.Subscription, field, day string) error {
	if day < sub.StartDate {
		return fe(field, "%s is before the subscription starts (%s)", day, sub.StartDate)
	}
	if sub.EndDate != "" && day >= sub.EndDate {
		return fe(field, "the subscription ends on %s; reactivate it before changing its terms after that", sub.EndDate)
	}
	last, cs, err := lastChange(ctx, q, ws, sub.ID)
	if err != nil {
		return err
	}
	if last.Kind == "end" && len(cs) > 1 { // a scheduled end: compare with what came before it
		last = cs[len(cs)-2]
	}
	if day < last.EffectiveDate {
		return fe(field, "%s is before the last recorded change (%s, %s); changes are recorded in order", day, last.Kind, last.EffectiveDate)
	}
	return nil
}

// Cancel ends subscription id.
func (s *Service) Cancel(ctx context.Context, act model.Actor, id int64, in CancelInput) (model.Subscription, error) {
	var sub model.Subscription
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		sub, err = s.CancelIn(ctx, q, act, id, in)
		return err
	})
	return sub, err
}

// CancelIn is Cancel inside the caller's transaction.
func (s *Service) CancelIn(ctx context.Context, q store.Q, act model.Actor, id int64, in CancelInput) (model.Subscription, error) {
	sub, err := load(ctx, q, act.Workspace, id)
	if err != nil {
		return sub, err
	}
	end := s.Today()
	if in.EndDate != nil {
		if end, err = parseDay("end_date", *in.EndDate); err != nil {
			return sub, err
		}
	}
	note := ""
	if in.Note != nil {
		if note, err = checkText("note", *in.Note, 2000); err != nil {
			return sub, err
		}
	}
	err = s.cancelIn(ctx, q, act, &sub, end, note, "end_date")
	return sub, err
}

// cancelIn ends sub on day end (rescheduling an end that has not come yet) and
// closes its open renewals as churned.
func (s *Service) cancelIn(ctx context.Context, q store.Q, act model.Actor, sub *model.Subscription, end, note, field string) error {
	ws := act.Workspace
	today := s.Today()
	if sub.EndDate != "" && sub.EndDate <= today {
		return fe(field, "the subscription already ended on %s", sub.EndDate)
	}
	if end < sub.StartDate {
		return fe(field, "%s is before the subscription starts (%s)", end, sub.StartDate)
	}
	last, cs, err := lastChange(ctx, q, ws, sub.ID)
	if err != nil {
		return err
	}
	if last.Kind == "end" { // a scheduled end: move it
		prev := cs[:len(cs)-1]
		if len(prev) > 0 && end < prev[len(prev)-1].EffectiveDate {
			return fe(field, "%s is before the last recorded change (%s)", end, prev[len(prev)-1].EffectiveDate)
		}
		last.EffectiveDate, last.Actor = end, act.Label
		if note != "" {
			last.Note = note
		}
		if err := q.UpdateSubscriptionChange(ctx, ws, &last); err != nil {
			return err
		}
	} else {
		if end < last.EffectiveDate {
			return fe(field, "%s is before the last recorded change (%s, %s)", end, last.Kind, last.EffectiveDate)
		}
		if err := record(ctx, q, ws, sub, "end", end, false, note, act.Label); err != nil {
			return err
		}
	}
	sub.EndDate = end
	if err := q.UpdateSubscription(ctx, ws, sub); err != nil {
		return err
	}
	open, err := q.ListRenewals(ctx, ws, store.RenewalFilter{Status: "open", SubscriptionID: sub.ID})
	if err != nil {
		return err
	}
	for i := range open {
		r := &open[i]
		zero := int64(0)
		r.Outcome, r.MRRAfter, r.DecidedBy = "churn", &zero, act.Label
		r.Note = "the subscription was cancelled (ends " + end + ")"
		if err := q.CloseRenewal(ctx, ws, r); err != nil {
			return err
		}
	}
	if err := sync(ctx, q, ws, sub.AccountID); err != nil {
		return err
	}
	sub.Status = sub.StatusOn(today)
	return q.AddHistory(ctx, ws, "account", sub.AccountID, "subscription_cancelled", historyDetail(sub, map[string]any{"end_date": end, "note": note}), act.Label)
}

// Reactivate restarts an ended subscription, or withdraws a scheduled end.
func (s *Service) Reactivate(ctx context.Context, act model.Actor, id int64, in ReactivateInput) (model.Subscription, error) {
	var sub model.Subscription
	err := s.St.InTx(ctx, func(q store.Q) error {
		var err error
		sub, err = s.ReactivateIn(ctx, q, act, id, in)
		return err
	})
	return sub, err
}

// ReactivateIn is Reactivate inside the caller's transaction.
func (s *Service) ReactivateIn(ctx context.Context, q store.Q, act model.Actor, id int64, in ReactivateInput) (model.Subscription, error) {
	sub, err := load(ctx, q, act.Workspace, id)
	if err != nil {
		return sub, err
	}
	day := ""
	if in.Date != nil {
		if day, err = parseDay("date", *in.Date); err != nil {
			return sub, err
		}
	}
	note := ""
	if in.Note != nil {
		if note, err = checkText("note", *in.Note, 2000); err != nil {
			return sub, err
		}
	}
	err = s.reactivateIn(ctx, q, act, &sub, day, note)
	return sub, err
}

func (s *Service) reactivateIn(ctx context.Context, q store.Q, act model.Actor, sub *model.Subscription, day, note string) error {
	ws := act.Workspace
	today := s.Today()
	if sub.EndDate == "" {
		return fe("date", "the subscription is not cancelled")
	}
	action := "subscription_reactivated"
	if sub.EndDate > today && day == "" {
		// The end has not come: withdraw it; nothing happened to MRR.
		last, _, err := lastChange(ctx, q, ws, sub.ID)
		if err != nil {
			return err
		}
		if last.Kind != "end" {
			return fmt.Errorf("subscriptions: subscription %d has an end date but its last change is %s", sub.ID, last.Kind)
		}
		if err := q.DeleteSubscriptionChange(ctx, ws, last.ID); err != nil {
			return err
		}
		action = "subscription_cancellation_withdrawn"
	} else {
		if day == "" {
			day = today
		}
		if day < sub.EndDate {
			return fe("date", "%s is before the subscription ended (%s)", day, sub.EndDate)
		}
		if err := record(ctx, q, ws, sub, "reactivate", day, true, note, act.Label); err != nil {
			return err
		}
		if sub.RenewalDate <= day {
			sub.RenewalDate = addMonths(day, sub.TermMonths)
		}
	}
	sub.EndDate = ""
	if err := q.UpdateSubscription(ctx, ws, sub); err != nil {
		return err
	}
	if err := sync(ctx, q, ws, sub.AccountID); err != nil {
		return err
	}
	sub.Status = sub.StatusOn(today)
	return q.AddHistory(ctx, ws, "account", sub.AccountID, action, historyDetail(sub, map[string]any{"date": day}), act.Label)
}

// AccountsMerged derives the winner's movements again after an account merge
// moved the loser's subscriptions to it (crm.MergeHook).
func (s *Service) AccountsMerged(ctx context.Context, q store.Q, act model.Actor, winnerID, _ int64) error {
	return sync(ctx, q, act.Workspace, winnerID)
}

// Detail is a subscription with its recorded changes.
type Detail struct {
	model.Subscription
	Changes []model.SubscriptionChange `json:"changes"`
}

// Get reads one subscription and its changes.
func (s *Service) Get(ctx context.Context, ws, id int64) (Detail, error) {
	q := s.St.Read()
	sub, err := q.GetSubscription(ctx, ws, id)
	if err != nil {
		return Detail{}, err
	}
	sub.Status = sub.StatusOn(s.Today())
	cs, err := q.SubscriptionChanges(ctx, ws, id)
	return Detail{Subscription: sub, Changes: cs}, err
}

// List pages through subscriptions; the filter's Today is set here.
func (s *Service) List(ctx context.Context, ws int64, f store.SubscriptionFilter) ([]model.Subscription, int64, error) {
	if f.Status != "" && !model.Contains(model.SubscriptionStatuses, f.Status) {
		return nil, 0, fe("status", "%q is not future, active or ended", f.Status)
	}
	f.Today = s.Today()
	items, next, err := s.St.Read().ListSubscriptions(ctx, ws, f)
	for i := range items {
		items[i].Status = items[i].StatusOn(f.Today)
	}
	return items, next, err
}
