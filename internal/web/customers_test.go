package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// TestCustomerPages: the customer list and page render a customer's MRR,
// plans, renewal, subscriptions and movements; the account page links to it;
// the renewal form refuses a bad outcome inline and records a good one; a
// customer of another workspace, or an account that is not a customer, is a
// 404.
func TestCustomerPages(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		act := actor(t, e, e.A)
		acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Initech Customer", "employees": 40.0})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Not Yet"})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().UTC().AddDate(-1, 1, 0).Format(time.DateOnly) // renews in about a month
		q, price, iv, plan := int64(4), int64(300_00), "year", "Team"
		sub, err := e.App.Subscriptions.Create(ctx, act, subscriptions.Input{AccountID: &acct.ID, Quantity: &q, UnitPrice: &price, Interval: &iv, StartDate: &start, Plan: &plan})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Subscriptions.RunRenewals(ctx, e.A.ID, e.App.Subscriptions.Today()); err != nil {
			t.Fatal(err)
		}
		rs, err := e.App.Subscriptions.Renewals(ctx, e.A.ID, store.RenewalFilter{AccountID: acct.ID, Status: "open"})
		if err != nil || len(rs) != 1 {
			t.Fatalf("renewals %v %v", rs, err)
		}
		c := e.Browser(t, e.A.Users[model.RoleCSM].Email)
		// 4 × 300.00 a year = 100.00 a month.
		ok(t, get(t, e, c, "/customers"), 200, "Initech Customer", "$100.00", "Team", "Active customers", "MRR, last 12 months", `href="/customers/`+fmt.Sprint(acct.ID)+`"`)
		ok(t, get(t, e, c, "/customers?status=churned"), 200, "No customers match these filters.")
		// A bad filter is a 400 with the field marked, like the other lists.
		ok(t, get(t, e, c, "/customers?status=bogus"), http.StatusBadRequest, `id="f-status" aria-invalid="true"`)
		page := fmt.Sprintf("/customers/%d", acct.ID)
		ok(t, get(t, e, c, page), 200, "Initech Customer", "$100.00", "4 × $300.00 / year", "MRR history", "MRR movements", "+$100.00",
			"renews on", "Record outcome", fmt.Sprintf(`action="/customers/%d/renewals/%d"`, acct.ID, rs[0].ID))
		ok(t, get(t, e, c, fmt.Sprintf("/accounts/%d", acct.ID)), 200, `href="/customers/`+fmt.Sprint(acct.ID)+`" id="customer-link"`)
		if r := get(t, e, c, fmt.Sprintf("/accounts/%d", plain.ID)); r.Status != 200 || strings.Contains(r.Body, "customer-link") {
			t.Fatalf("a non-customer account links to a customer page: %d", r.Status)
		}
		ok(t, get(t, e, c, fmt.Sprintf("/customers/%d", plain.ID)), http.StatusNotFound)
		ok(t, get(t, e, c, "/imports/new"), 200, `<option value="subscription">`)

		// A refused outcome is shown next to the form; nothing changes.
		outcome := fmt.Sprintf("/customers/%d/renewals/%d", acct.ID, rs[0].ID)
		ok(t, post(t, e, c, outcome, url.Values{"outcome": {"expand"}, "quantity": {"4"}}), http.StatusUnprocessableEntity, "expand needs a higher MRR")
		ok(t, post(t, e, c, outcome, url.Values{"outcome": {"expand"}, "unit_price": {"1,2"}}), http.StatusUnprocessableEntity, "Unit price:")
		// Six seats at 320.00 from the renewal date: 160.00 a month.
		r := post(t, e, c, outcome, url.Values{"outcome": {"expand"}, "quantity": {"6"}, "unit_price": {"320.00"}, "note": {"the ops team joins"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("outcome: %d %s", r.Status, snippet(r.Body))
		}
		got, err := e.App.St.Read().GetSubscription(ctx, e.A.ID, sub.ID)
		if err != nil || got.Quantity != 6 || got.UnitPrice != 32000 || got.MRR != 16000 {
			t.Fatalf("after the outcome: %+v %v", got, err)
		}
		ok(t, get(t, e, c, page+"?notice=renewal"), 200, "Renewal outcome recorded.", "Expand", "the ops team joins", "+$60.00")

		// An LDR sees the customer but may not decide its renewal.
		ldr := e.Browser(t, e.A.Users[model.RoleLDR].Email)
		if r := get(t, e, ldr, page); r.Status != 200 || !strings.Contains(r.Body, "Initech Customer") || strings.Contains(r.Body, "Record outcome") {
			t.Fatalf("LDR view of the customer: %d", r.Status)
		}
		ok(t, post(t, e, ldr, outcome, url.Values{"outcome": {"renew"}}), http.StatusForbidden)

		// Workspace B sees neither the customer nor its renewal.
		cb := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		ok(t, get(t, e, cb, page), http.StatusNotFound)
		ok(t, post(t, e, cb, outcome, url.Values{"outcome": {"renew"}}), http.StatusNotFound)
	})
}

// TestSubscriptionForms: a subscription is added from the account page (the
// account becomes a customer), its terms changed and it is cancelled and
// reactivated from the customer page; each write moves MRR through the same
// service as the API; a bad amount is refused naming the field; an LDR may
// not write; another workspace's subscription answers 404.
func TestSubscriptionForms(t *testing.T) {
	eachKind(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		act := actor(t, e, e.A)
		acct, err := e.App.CRM.CreateAccount(ctx, act, crm.Fields{"name": "Billed Elsewhere"})
		if err != nil {
			t.Fatal(err)
		}
		ae := e.Browser(t, e.A.Users[model.RoleAE].Email)
		accountPage := fmt.Sprintf("/accounts/%d", acct.ID)
		base := fmt.Sprintf("/customers/%d/subscriptions", acct.ID)
		ok(t, get(t, e, ae, accountPage), 200, `id="first-subscription"`, `action="`+base+`"`)

		// A bad price is refused on the account page, naming the field.
		ok(t, post(t, e, ae, base, url.Values{"quantity": {"2"}, "unit_price": {"twelve"}, "interval": {"month"}}), http.StatusUnprocessableEntity, "Unit price:", `id="sub-add-err"`)
		if yes, _ := e.App.Subscriptions.IsCustomer(ctx, e.A.ID, acct.ID); yes {
			t.Fatal("a refused form made the account a customer")
		}
		// 2 × 50.00 a month → MRR 100.00.
		start := time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly)
		r := post(t, e, ae, base, url.Values{"plan": {"Starter"}, "quantity": {"2"}, "unit_price": {"50.00"}, "interval": {"month"}, "term_months": {"12"}, "start_date": {start}, "auto_renew": {"true"}})
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), fmt.Sprintf("/customers/%d?notice=subscription", acct.ID)) {
			t.Fatalf("add: %d %s %s", r.Status, r.Header.Get("Location"), snippet(r.Body))
		}
		subs, _, err := e.App.St.Read().ListSubscriptions(ctx, e.A.ID, store.SubscriptionFilter{AccountID: acct.ID})
		if err != nil || len(subs) != 1 || subs[0].MRR != 100_00 || subs[0].Plan != "Starter" || !subs[0].AutoRenew {
			t.Fatalf("after add: %+v %v", subs, err)
		}
		sub := subs[0]
		page := fmt.Sprintf("/customers/%d", acct.ID)
		ok(t, get(t, e, ae, page+"?notice=subscription"), 200, "Subscription saved", "$100.00", fmt.Sprintf(`action="%s/%d/change"`, base, sub.ID))

		// Five seats from today: MRR 250.00, an expansion of 150.00.
		ok(t, post(t, e, ae, fmt.Sprintf("%s/%d/change", base, sub.ID), url.Values{}), http.StatusUnprocessableEntity, "Nothing to change")
		r = post(t, e, ae, fmt.Sprintf("%s/%d/change", base, sub.ID), url.Values{"quantity": {"5"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("change: %d %s", r.Status, snippet(r.Body))
		}
		ok(t, get(t, e, ae, page), 200, "$250.00", "+$150.00")
		// A change dated before the start is refused by the service, naming the date.
		ok(t, post(t, e, ae, fmt.Sprintf("%s/%d/change", base, sub.ID), url.Values{"quantity": {"6"}, "effective_date": {"2000-01-01"}}), http.StatusUnprocessableEntity, "Effective date")

		// Cancelled today; reactivated: back to 250.00.
		if r := post(t, e, ae, fmt.Sprintf("%s/%d/cancel", base, sub.ID), url.Values{}); r.Status != http.StatusSeeOther {
			t.Fatalf("cancel: %d %s", r.Status, snippet(r.Body))
		}
		got, err := e.App.Subscriptions.Get(ctx, e.A.ID, sub.ID)
		if err != nil || got.Status != "ended" {
			t.Fatalf("after cancel: %+v %v", got, err)
		}
		// Same-day changes net into one movement: yesterday's 100.00 churns.
		ok(t, get(t, e, ae, page), 200, "−$100.00", fmt.Sprintf(`action="%s/%d/reactivate"`, base, sub.ID))
		if r := post(t, e, ae, fmt.Sprintf("%s/%d/reactivate", base, sub.ID), url.Values{}); r.Status != http.StatusSeeOther {
			t.Fatalf("reactivate: %d %s", r.Status, snippet(r.Body))
		}
		if got, err := e.App.Subscriptions.Get(ctx, e.A.ID, sub.ID); err != nil || got.Status != "active" || got.MRR != 250_00 {
			t.Fatalf("after reactivate: %+v %v", got, err)
		}

		// An LDR may not write; workspace B cannot reach A's subscription.
		ldr := e.Browser(t, e.A.Users[model.RoleLDR].Email)
		ok(t, post(t, e, ldr, fmt.Sprintf("%s/%d/cancel", base, sub.ID), url.Values{}), http.StatusForbidden)
		cb := e.Browser(t, e.B.Users[model.RoleAdmin].Email)
		ok(t, post(t, e, cb, fmt.Sprintf("%s/%d/cancel", base, sub.ID), url.Values{}), http.StatusNotFound)
		ok(t, post(t, e, cb, base, url.Values{"quantity": {"1"}, "unit_price": {"1.00"}}), http.StatusNotFound)
		if got, err := e.App.Subscriptions.Get(ctx, e.A.ID, sub.ID); err != nil || got.Status != "active" {
			t.Fatalf("after foreign and LDR writes: %+v %v", got, err)
		}
	})
}
