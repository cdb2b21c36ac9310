package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// Subscriptions managed from the customer page (add, change terms, cancel,
// reactivate) for companies that do not bill through an import or the API.
// Each form posts here, goes through subscriptions.Service like the API, and
// returns to the customer page; a refusal re-renders it naming the field.

// subForm reads the optional fields of a subscription form. cur is the
// currency unit prices are typed in.
type subForm struct {
	r   *http.Request
	cur string
	err string // the first field that could not be read, as a message
}

func (f *subForm) str(name string) *string {
	v := strings.TrimSpace(f.r.PostFormValue(name))
	if v == "" {
		return nil
	}
	return &v
}

func (f *subForm) int(name, label string) *int64 {
	v := strings.TrimSpace(f.r.PostFormValue(name))
	if v == "" || f.err != "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64)
	if err != nil {
		f.err = label + ": " + strconv.Quote(v) + " is not a whole number"
		return nil
	}
	return &n
}

func (f *subForm) money(name, label string) *int64 {
	v := f.r.PostFormValue(name)
	if strings.TrimSpace(v) == "" || f.err != "" {
		return nil
	}
	n, ok, err := parseMoney(v, f.cur)
	if err != nil || !ok {
		f.err = label + ": not an amount"
		if err != nil {
			f.err = label + ": " + err.Error()
		}
		return nil
	}
	return &n
}

// subAccount reads the account id and checks the viewer may write
// subscriptions; it answers the request itself when not.
func (u *UI) subAccount(w http.ResponseWriter, r *http.Request, s *session) (model.Account, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil || u.d.Subscriptions == nil {
		u.notFound(w, r, s)
		return model.Account{}, false
	}
	a, err := u.d.St.Read().GetAccount(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return a, false
	}
	return a, true
}

// subDone answers a subscription action: back to the customer page, or the
// page again with the refusal when the service named a field.
func (u *UI) subDone(w http.ResponseWriter, r *http.Request, s *session, accountID, subID int64, err error) {
	var fe *store.FieldError
	switch {
	case err == nil:
		redirect(w, r, "/customers/"+formatInt(accountID)+"?notice=subscription#subscriptions")
	case errors.As(err, &fe):
		u.subRefused(w, r, s, accountID, subID, humanize(fe.Field)+": "+fe.Message)
	default:
		u.fail(w, r, s, err)
	}
}

// subRefused shows the refusal on the customer page, or on the account page
// when the account is not a customer yet (its first subscription was refused).
func (u *UI) subRefused(w http.ResponseWriter, r *http.Request, s *session, accountID, subID int64, msg string) {
	if ok, err := u.d.Subscriptions.IsCustomer(r.Context(), s.WS(), accountID); err == nil && !ok {
		u.showAccountWith(w, r, s, accountID, http.StatusUnprocessableEntity, msg)
		return
	}
	u.showCustomerSub(w, r, s, accountID, http.StatusUnprocessableEntity, msg, subID)
}

// subscriptionAdd opens a subscription for the account (which makes it a
// customer).
func (u *UI) subscriptionAdd(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.subAccount(w, r, s)
	if !ok {
		return
	}
	f := &subForm{r: r, cur: a.Currency}
	in := subscriptions.Input{AccountID: &a.ID, Plan: f.str("plan"), Quantity: f.int("quantity", "Quantity"), UnitPrice: f.money("unit_price", "Unit price"),
		Interval: f.str("interval"), StartDate: f.str("start_date"), TermMonths: f.int("term_months", "Term")}
	auto := r.PostFormValue("auto_renew") == "true"
	in.AutoRenew = &auto
	if f.err != "" {
		u.subRefused(w, r, s, a.ID, -1, f.err)
		return
	}
	_, err := u.d.Subscriptions.Create(r.Context(), s.Actor(), in)
	u.subDone(w, r, s, a.ID, -1, err)
}

// subscriptionOf reads the subscription of the path and checks it belongs to
// the account of the path (a mismatch answers like a missing one).
func (u *UI) subscriptionOf(w http.ResponseWriter, r *http.Request, s *session, a model.Account) (model.Subscription, bool) {
	sid, err := httpx.PathID(r, "sub_id")
	if err != nil {
		u.notFound(w, r, s)
		return model.Subscription{}, false
	}
	d, err := u.d.Subscriptions.Get(r.Context(), s.WS(), sid)
	if err == nil && d.AccountID != a.ID {
		err = store.ErrNotFound
	}
	if err != nil {
		u.fail(w, r, s, err)
		return model.Subscription{}, false
	}
	return d.Subscription, true
}

// subscriptionChange changes quantity, unit price or plan from a date.
func (u *UI) subscriptionChange(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.subAccount(w, r, s)
	if !ok {
		return
	}
	sub, ok := u.subscriptionOf(w, r, s, a)
	if !ok {
		return
	}
	f := &subForm{r: r, cur: sub.Currency}
	in := subscriptions.ChangeInput{Plan: f.str("plan"), Quantity: f.int("quantity", "Quantity"), UnitPrice: f.money("unit_price", "Unit price"),
		EffectiveDate: f.str("effective_date"), Note: f.str("note")}
	if f.err != "" {
		u.subRefused(w, r, s, a.ID, sub.ID, f.err)
		return
	}
	if in.Plan == nil && in.Quantity == nil && in.UnitPrice == nil {
		u.subRefused(w, r, s, a.ID, sub.ID, "Nothing to change: give a new quantity, unit price or plan")
		return
	}
	_, err := u.d.Subscriptions.Change(r.Context(), s.Actor(), sub.ID, in)
	u.subDone(w, r, s, a.ID, sub.ID, err)
}

// subscriptionCancel ends a subscription on a date (default today).
func (u *UI) subscriptionCancel(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.subAccount(w, r, s)
	if !ok {
		return
	}
	sub, ok := u.subscriptionOf(w, r, s, a)
	if !ok {
		return
	}
	f := &subForm{r: r}
	_, err := u.d.Subscriptions.Cancel(r.Context(), s.Actor(), sub.ID, subscriptions.CancelInput{EndDate: f.str("end_date"), Note: f.str("note")})
	u.subDone(w, r, s, a.ID, sub.ID, err)
}

// subscriptionReactivate restarts an ended subscription, or withdraws a
// cancellation that has not taken effect.
func (u *UI) subscriptionReactivate(w http.ResponseWriter, r *http.Request, s *session) {
	a, ok := u.subAccount(w, r, s)
	if !ok {
		return
	}
	sub, ok := u.subscriptionOf(w, r, s, a)
	if !ok {
		return
	}
	f := &subForm{r: r}
	_, err := u.d.Subscriptions.Reactivate(r.Context(), s.Actor(), sub.ID, subscriptions.ReactivateInput{Date: f.str("date")})
	u.subDone(w, r, s, a.ID, sub.ID, err)
}
