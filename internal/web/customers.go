package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// Customers: the list (/customers) and one customer's page (/customers/{id},
// the account id) with subscriptions, MRR history, movements and renewals
// (docs/subscriptions.md).

type customerListData struct {
	L            listReq
	Rows         []subscriptions.CustomerSummary
	Pager        pager
	FilterErrors map[string]string
	Error        string
	Statuses     []optGroup
	Segments     []optGroup
	Tiles        []tile
	Chart        *columnChart
	Convention   string
}

func (u *UI) customerList(w http.ResponseWriter, r *http.Request, s *session) {
	if u.d.Subscriptions == nil {
		u.notFound(w, r, s)
		return
	}
	ctx := r.Context()
	lr := parseList("/customers", r.URL.Query(), "status", "segment")
	sort := lr.Sort
	if sort == "" {
		sort = "-mrr"
	}
	f := store.CustomerFilter{Status: lr.Filters["status"], Segment: lr.Filters["segment"], Query: lr.Q, Sort: sort, Cursor: lr.Cursor, Limit: pageSize}
	d := customerListData{L: lr, Statuses: opts(subscriptions.CustomerStatuses, "Any status"), Segments: segmentFilterOptions(), Convention: subscriptions.TheConvention.MRR}
	rows, next, err := u.d.Subscriptions.Customers(ctx, s.WS(), f)
	if err == nil {
		var total int64
		if total, err = u.d.Subscriptions.CountCustomers(ctx, s.WS(), f); err == nil {
			d.Rows, d.Pager = rows, newPager(lr, len(rows), &total, next, "customers")
		}
	}
	status := http.StatusOK
	if err != nil {
		fe, msg, err := listError(err, map[string]string{"status": "status", "segment": "segment"})
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		d.FilterErrors, d.Error = fe, msg
		status = http.StatusBadRequest
	}
	rep, err := u.d.Subscriptions.MRRHistory(ctx, s.WS(), 12)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	active, err := u.d.Subscriptions.CountCustomers(ctx, s.WS(), store.CustomerFilter{Status: "active"})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.Tiles = []tile{{Label: "Active customers", Value: formatNumber(active), Href: "/customers?status=active"}}
	for _, b := range rep.Totals {
		d.Tiles = append(d.Tiles,
			tile{Label: "MRR · " + b.Currency, Value: formatMoney(b.End, b.Currency), Sub: "ARR " + formatMoney(b.End*12, b.Currency), Href: "/api/v1/reports/mrr"},
			tile{Label: "New + expansion, 12 mo", Value: formatMoney(b.New+b.Expansion+b.Reactivation, b.Currency), Sub: pluralCount(b.NewCustomers, "new customer", "new customers"), Href: "/api/v1/reports/mrr"},
			tile{Label: "Churn + contraction, 12 mo", Value: formatMoney(b.Churn+b.Contraction, b.Currency), Sub: pluralCount(b.ChurnedCustomers, "customer lost", "customers lost"), Href: "/customers?status=churned"})
		if d.Chart == nil {
			var bars []bar
			for _, m := range rep.Months {
				if m.Currency == b.Currency {
					bars = append(bars, bar{Label: monthLabel(m.Month), Value: m.End, Display: formatMoneyShort(m.End, b.Currency)})
				}
			}
			c := newColumnChartWidth("mrr-history", "MRR at the end of each month, "+b.Currency, bars, 1100)
			d.Chart = &c
		}
	}
	u.render(w, r, status, "customers", view{Title: "Customers", Section: "customers", S: s, D: d})
}

func pluralCount(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatNumber(n) + " " + many
}

func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 06")
}

// customerPage is what the customer page shows. Success is the customer
// success section (handoff, onboarding, health) another package fills in;
// nil leaves it out.
type customerPage struct {
	C         subscriptions.Customer
	ARR       int64 // 12 × MRR
	Chart     columnChart
	OpenCount int64
	Open      []model.Renewal
	Closed    []model.Renewal
	Subs      map[int64]model.Subscription
	MoveSub   map[int64]string // movement id → the subscription it names
	// CanWrite: the viewer may record renewal outcomes (not LDRs).
	CanWrite bool
	Err      string // a refused renewal outcome
	ErrFor   int64  // the renewal it was about
	// SubErr is a refused subscription form; SubErrFor the subscription it
	// was about (-1: the add form). Today fills the date inputs.
	SubErr    string
	SubErrFor int64
	Today     string
	Success   any
}

func (u *UI) customerShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil || u.d.Subscriptions == nil {
		u.notFound(w, r, s)
		return
	}
	u.showCustomer(w, r, s, id, http.StatusOK, "", 0)
}

// showCustomerSub renders the page with a refused subscription form.
func (u *UI) showCustomerSub(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, msg string, subID int64) {
	u.renderCustomer(w, r, s, id, status, "", 0, msg, subID)
}

func (u *UI) showCustomer(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, errMsg string, errFor int64) {
	u.renderCustomer(w, r, s, id, status, errMsg, errFor, "", 0)
}

func (u *UI) renderCustomer(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, errMsg string, errFor int64, subErr string, subFor int64) {
	c, err := u.d.Subscriptions.Customer(r.Context(), s.WS(), id)
	if errors.Is(err, store.ErrNotFound) && u.d.Success != nil {
		// Handed to success without a subscription yet (a won deal whose
		// subscription was not opened): its success page is its customer page.
		if _, herr := u.d.Success.Handoff(r.Context(), s.WS(), id, nil); herr == nil {
			http.Redirect(w, r, fmt.Sprintf("/customers/%d/success", id), http.StatusSeeOther)
			return
		}
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := customerPage{C: c, ARR: 12 * c.MRR, Subs: map[int64]model.Subscription{}, Err: errMsg, ErrFor: errFor, CanWrite: subscriptions.CanWrite(s.Role),
		SubErr: subErr, SubErrFor: subFor, Today: u.d.Subscriptions.Today()}
	for _, x := range c.Subscriptions {
		p.Subs[x.ID] = x
	}
	for _, x := range c.Renewals {
		if x.Status == "open" {
			p.Open = append(p.Open, x)
			p.OpenCount++
		} else {
			p.Closed = append([]model.Renewal{x}, p.Closed...) // newest first
		}
	}
	var bars []bar
	for _, m := range c.History {
		bars = append(bars, bar{Label: monthLabel(m.Month), Value: m.MRR, Display: formatMoneyShort(m.MRR, c.Currency)})
	}
	p.Chart = newColumnChart("customer-mrr", "MRR at the end of each month, "+c.Currency, bars)
	p.MoveSub = map[int64]string{}
	for _, m := range c.Movements {
		label := "several subscriptions"
		if m.SubscriptionID != nil {
			x := p.Subs[*m.SubscriptionID]
			label = x.Plan
			if label == "" {
				label = "#" + formatInt(x.ID)
			}
		}
		p.MoveSub[m.ID] = label
	}
	// Newest movements first on the page.
	for i, j := 0, len(p.C.Movements)-1; i < j; i, j = i+1, j-1 {
		p.C.Movements[i], p.C.Movements[j] = p.C.Movements[j], p.C.Movements[i]
	}
	notice := ""
	switch r.URL.Query().Get("notice") {
	case "renewal":
		notice = "Renewal outcome recorded."
	case "subscription":
		notice = "Subscription saved; MRR movements updated."
	}
	if u.d.Success != nil {
		sec, err := u.customerSuccess(r, s, id)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		p.Success = sec
	}
	u.render(w, r, status, "customer", view{Title: c.Name, Section: "customers", S: s, D: p, Notice: notice})
}

// renewalOutcome records the outcome form of one of the customer's renewals.
func (u *UI) renewalOutcome(w http.ResponseWriter, r *http.Request, s *session) {
	id, err1 := httpx.PathID(r, "id")
	rid, err2 := httpx.PathID(r, "renewal_id")
	if err1 != nil || err2 != nil || u.d.Subscriptions == nil {
		u.notFound(w, r, s)
		return
	}
	ren, err := u.d.St.Read().GetRenewal(r.Context(), s.WS(), rid)
	if err == nil && ren.AccountID != id {
		err = store.ErrNotFound
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	in := subscriptions.OutcomeInput{}
	outcome := r.PostFormValue("outcome")
	in.Outcome = &outcome
	if v := strings.TrimSpace(r.PostFormValue("note")); v != "" {
		in.Note = &v
	}
	if v := strings.TrimSpace(r.PostFormValue("quantity")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			u.showCustomer(w, r, s, id, http.StatusUnprocessableEntity, "Quantity: "+strconv.Quote(v)+" is not a whole number", rid)
			return
		}
		in.Quantity = &n
	}
	if v := r.PostFormValue("unit_price"); strings.TrimSpace(v) != "" {
		n, ok, err := parseMoney(v, ren.Currency)
		if err != nil || !ok {
			msg := "Unit price: not an amount"
			if err != nil {
				msg = "Unit price: " + err.Error()
			}
			u.showCustomer(w, r, s, id, http.StatusUnprocessableEntity, msg, rid)
			return
		}
		in.UnitPrice = &n
	}
	_, err = u.d.Subscriptions.RecordOutcome(r.Context(), s.Actor(), rid, in)
	var fe *store.FieldError
	switch {
	case err == nil:
		redirect(w, r, "/customers/"+formatInt(id)+"?notice=renewal#renewals")
	case errors.As(err, &fe):
		u.showCustomer(w, r, s, id, http.StatusUnprocessableEntity, humanize(fe.Field)+": "+fe.Message, rid)
	default:
		u.fail(w, r, s, err)
	}
}
