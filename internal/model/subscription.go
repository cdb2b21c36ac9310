package model

import "time"

// Billing intervals a subscription's unit price is quoted per.
var BillingIntervals = []string{"month", "quarter", "year"}

// IntervalMonths is how many months one billing interval covers (0 for an
// unknown interval).
func IntervalMonths(interval string) int64 {
	switch interval {
	case "month":
		return 1
	case "quarter":
		return 3
	case "year":
		return 12
	}
	return 0
}

// MonthlyValue is the MRR of quantity × unitPrice per interval, normalised to
// one month and rounded half up to a whole minor unit: (q·p·2 + m) ÷ 2m in
// integer arithmetic. Annual 120000 (1,200.00) → 10000 (100.00) a month. It is
// computed once per subscription state; MRR movements are differences of these
// values, so the MRR bridge adds up exactly (docs/subscriptions.md).
func MonthlyValue(quantity, unitPrice int64, interval string) int64 {
	m := IntervalMonths(interval)
	if m == 0 || quantity <= 0 || unitPrice <= 0 {
		return 0
	}
	return (quantity*unitPrice*2 + m) / (2 * m)
}

// MRR movement kinds. New, expansion and reactivation add to MRR; contraction
// and churn subtract.
var MovementKinds = []string{"new", "expansion", "reactivation", "contraction", "churn"}

// MovementSign is +1 for the kinds that add to MRR and -1 for those that subtract.
func MovementSign(kind string) int64 {
	if kind == "contraction" || kind == "churn" {
		return -1
	}
	return 1
}

// Subscription statuses, relative to a day: future (starts later), active,
// ended (its end date has come).
var SubscriptionStatuses = []string{"future", "active", "ended"}

// Subscription is a customer's recurring contract: quantity × unit price per
// billing interval, from StartDate, renewing every TermMonths on RenewalDate
// until EndDate (the first day it no longer runs). Dates are YYYY-MM-DD. The
// terms are the latest recorded ones (a change recorded for a later day is
// shown already); Status is computed for today.
type Subscription struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"account_id"`
	DealID      *int64    `json:"deal_id,omitempty"`
	ExternalID  string    `json:"external_id,omitempty"`
	Plan        string    `json:"plan"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   int64     `json:"unit_price"` // minor units of Currency per Interval per unit
	Currency    string    `json:"currency"`
	Interval    string    `json:"interval"`
	MRR         int64     `json:"mrr"` // MonthlyValue of the terms
	StartDate   string    `json:"start_date"`
	TermMonths  int64     `json:"term_months"`
	RenewalDate string    `json:"renewal_date"`
	AutoRenew   bool      `json:"auto_renew"`
	EndDate     string    `json:"end_date,omitempty"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// StatusOn is the subscription's status on day (YYYY-MM-DD).
func (s *Subscription) StatusOn(day string) string {
	switch {
	case s.StartDate > day:
		return "future"
	case s.EndDate != "" && s.EndDate <= day:
		return "ended"
	}
	return "active"
}

// SubscriptionChange is one recorded change of a subscription: its terms after
// the change and the day it takes effect. Kinds: start, change, end,
// reactivate, renew. Active is false from an end until a reactivate.
type SubscriptionChange struct {
	ID             int64     `json:"id"`
	SubscriptionID int64     `json:"subscription_id"`
	AccountID      int64     `json:"account_id"`
	Kind           string    `json:"kind"`
	EffectiveDate  string    `json:"effective_date"`
	Plan           string    `json:"plan"`
	Quantity       int64     `json:"quantity"`
	UnitPrice      int64     `json:"unit_price"`
	Currency       string    `json:"currency"`
	Interval       string    `json:"interval"`
	MRR            int64     `json:"mrr"`
	Active         bool      `json:"active"`
	Note           string    `json:"note,omitempty"`
	Actor          string    `json:"actor,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// MRRMovement is one change of an account's MRR on one day. Amount is
// positive; MovementSign says which way it moves MRR. SubscriptionID names the
// subscription when exactly one changed that day. Segment and Motion are the
// account's when the movement was written.
type MRRMovement struct {
	ID             int64     `json:"id"`
	AccountID      int64     `json:"account_id"`
	SubscriptionID *int64    `json:"subscription_id,omitempty"`
	Date           string    `json:"date"`
	Month          string    `json:"month"`
	Kind           string    `json:"kind"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	Segment        string    `json:"segment,omitempty"`
	Motion         string    `json:"motion,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Renewal outcomes.
var RenewalOutcomes = []string{"renew", "expand", "contract", "churn"}

// Renewal is the renewal opportunity of one subscription for one renewal date,
// opened ahead of it by the renewal job and closed by an outcome.
type Renewal struct {
	ID             int64      `json:"id"`
	SubscriptionID int64      `json:"subscription_id"`
	AccountID      int64      `json:"account_id"`
	AccountName    string     `json:"account_name,omitempty"`
	Plan           string     `json:"plan,omitempty"`
	RenewalDate    string     `json:"renewal_date"`
	Status         string     `json:"status"` // open, closed
	Outcome        string     `json:"outcome,omitempty"`
	MRRBefore      int64      `json:"mrr_before"`
	MRRAfter       *int64     `json:"mrr_after,omitempty"`
	Currency       string     `json:"currency"`
	Note           string     `json:"note,omitempty"`
	OpenedAt       time.Time  `json:"opened_at"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecidedBy      string     `json:"decided_by,omitempty"`
}
