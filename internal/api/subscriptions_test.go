package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

// apiToday is the app's clock (the real one) as a day.
func apiToday() string { return time.Now().UTC().Format(time.DateOnly) }

func monthsAgo(n int) string { return time.Now().UTC().AddDate(0, -n, 0).Format(time.DateOnly) }

// mkSubscription creates an account and a subscription on it through the API.
func (h *harness) mkSubscription(t *testing.T, key, body string) (acct, sub int64) {
	t.Helper()
	acct = h.mk(t, key, "accounts", fmt.Sprintf(`{"name":%q}`, uniq("Customer ")))
	sub = h.mk(t, key, "subscriptions", fmt.Sprintf(`{"account_id":%d,`, acct)+body[1:])
	return acct, sub
}

func (h *harness) testSubscriptions(t *testing.T) {
	a := h.env.A
	admin, csm, ae := h.adminA(), a.Keys[model.RoleCSM], a.Keys[model.RoleAE]
	today := apiToday()
	start := monthsAgo(5)

	// 10 seats at 1,200.00 a year = 1,000.00 a month.
	acct, sub := h.mkSubscription(t, csm, fmt.Sprintf(`{"plan":"Growth","quantity":10,"unit_price":120000,"interval":"year","start_date":%q}`, start))
	got := h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/subscriptions/%d", sub), "")
	expectFields(t, "created", got, map[string]any{"mrr": 100000.0, "status": "active", "currency": "USD", "term_months": 12.0, "auto_renew": true, "end_date": absent})
	if cs := got["changes"].([]any); len(cs) != 1 || cs[0].(map[string]any)["kind"] != "start" {
		t.Fatalf("changes %v", cs)
	}
	// Two more seats from today: an expansion of 200.00.
	upd := h.want(t, http.StatusOK, csm, "PATCH", fmt.Sprintf("/api/v1/subscriptions/%d", sub), `{"quantity":12,"note":"two more teams"}`)
	expectFields(t, "patched", upd, map[string]any{"quantity": 12.0, "mrr": 120000.0})
	// A scheduled end, withdrawn.
	c := h.want(t, http.StatusOK, csm, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sub), fmt.Sprintf(`{"end_date":%q}`, time.Now().UTC().AddDate(0, 2, 0).Format(time.DateOnly)))
	if c["end_date"] == nil || c["status"] != "active" {
		t.Fatalf("scheduled end %v", c)
	}
	r := h.want(t, http.StatusOK, csm, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/reactivate", sub), `{}`)
	expectFields(t, "withdrawn", r, map[string]any{"end_date": absent})

	list := h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/subscriptions?account_id=%d&status=active&limit=10", acct), "")
	if its := items(t, list); len(its) != 1 || id(t, its[0], "id") != sub {
		t.Fatalf("list %v", list)
	}
	if its := items(t, h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/subscriptions?account_id=%d&status=ended", acct), "")); len(its) != 0 {
		t.Fatalf("ended %v", its)
	}

	cust := h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/customers/%d", acct), "")
	expectFields(t, "customer", cust, map[string]any{"mrr": 120000.0, "status": "active", "customer_since": start, "subscription_count": 1.0})
	mv := cust["movements"].([]any)
	if len(mv) != 2 || mv[0].(map[string]any)["kind"] != "new" || mv[0].(map[string]any)["amount"] != 100000.0 ||
		mv[1].(map[string]any)["kind"] != "expansion" || mv[1].(map[string]any)["amount"] != 20000.0 || mv[1].(map[string]any)["date"] != today {
		t.Fatalf("movements %v", mv)
	}
	if hist := cust["history"].([]any); len(hist) != 12 || hist[11].(map[string]any)["mrr"] != 120000.0 {
		t.Fatalf("history %v", hist)
	}
	found := false
	for _, it := range items(t, h.want(t, http.StatusOK, ae, "GET", "/api/v1/customers?status=active&sort=-mrr&limit=200", "")) {
		if id(t, it, "account_id") == acct {
			found = it["mrr"] == 120000.0 && fmt.Sprint(it["plans"]) == "[Growth]"
		}
	}
	if !found {
		t.Fatal("customer missing from the list or wrong")
	}

	rep := h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/reports/mrr?from=%s&to=%s", start, today), "")
	tot := rep["totals"].([]any)[0].(map[string]any)
	if tot["identity_holds"] != true || tot["end"] != tot["start"].(float64)+tot["new"].(float64)+tot["expansion"].(float64)+tot["reactivation"].(float64)-tot["contraction"].(float64)-tot["churn"].(float64) {
		t.Fatalf("report %v", tot)
	}
	if rep["convention"].(map[string]any)["identity"] == "" || len(rep["months"].([]any)) < 6 {
		t.Fatalf("report %v", rep)
	}
	bySeg := h.want(t, http.StatusOK, ae, "GET", "/api/v1/reports/mrr?by=segment", "")
	if _, ok := bySeg["groups"]; !ok {
		t.Fatalf("by segment %v", bySeg)
	}

	// Renewals: an annual subscription that renews within the lead time.
	acct2, sub2 := h.mkSubscription(t, admin, fmt.Sprintf(`{"plan":"Scale","unit_price":240000,"interval":"year","start_date":%q}`, monthsAgo(11)))
	if _, err := h.env.App.Subscriptions.RunRenewals(context.Background(), a.ID, today); err != nil {
		t.Fatal(err)
	}
	rs := items(t, h.want(t, http.StatusOK, csm, "GET", fmt.Sprintf("/api/v1/renewals?status=open&account_id=%d", acct2), ""))
	if len(rs) != 1 || id(t, rs[0], "subscription_id") != sub2 || rs[0]["mrr_before"] != 20000.0 {
		t.Fatalf("renewals %v", rs)
	}
	rid := id(t, rs[0], "id")
	wantProblem(t, h.call(t, csm, "POST", fmt.Sprintf("/api/v1/renewals/%d/outcome", rid), `{"outcome":"expand","quantity":1}`), http.StatusBadRequest, "outcome")
	closed := h.want(t, http.StatusOK, csm, "POST", fmt.Sprintf("/api/v1/renewals/%d/outcome", rid), `{"outcome":"expand","quantity":2,"note":"second team"}`)
	expectFields(t, "closed", closed, map[string]any{"status": "closed", "outcome": "expand", "mrr_after": 40000.0, "note": "second team"})
	if by, _ := closed["decided_by"].(string); !strings.HasPrefix(by, "key:") {
		t.Fatalf("decided_by %q", by)
	}
	wantProblem(t, h.call(t, csm, "POST", fmt.Sprintf("/api/v1/renewals/%d/outcome", rid), `{"outcome":"renew"}`), http.StatusBadRequest, "outcome")

	// LDRs read customers but do not change what they pay.
	ldr := a.Keys[model.RoleLDR]
	h.want(t, http.StatusOK, ldr, "GET", fmt.Sprintf("/api/v1/customers/%d", acct2), "")
	h.want(t, http.StatusForbidden, ldr, "POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"month"}`, acct2))
	h.want(t, http.StatusForbidden, ldr, "PATCH", fmt.Sprintf("/api/v1/subscriptions/%d", sub2), `{"quantity":3}`)
	h.want(t, http.StatusForbidden, ldr, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sub2), `{}`)
	h.want(t, http.StatusForbidden, ldr, "POST", fmt.Sprintf("/api/v1/renewals/%d/outcome", rid), `{"outcome":"renew"}`)
	ldrImport := h.request(t, ldr, "POST", "/api/v1/imports?object=subscriptions", "")
	ldrImport.Body = io.NopCloser(strings.NewReader("Account ID,Price,Interval,Start Date\nx,1,monthly,2025-01-01\n"))
	ldrImport.Header.Set("Content-Type", "text/csv")
	if res := h.do(t, ldrImport); res.Status != http.StatusForbidden {
		t.Fatalf("LDR subscriptions import: %d %s", res.Status, res.Body)
	}

	// Settings: everyone reads, admins and managers write.
	if s := h.want(t, http.StatusOK, ae, "GET", "/api/v1/renewals/settings", ""); s["renewal_lead_days"] != 90.0 {
		t.Fatalf("default lead %v", s)
	}
	h.want(t, http.StatusForbidden, csm, "PUT", "/api/v1/renewals/settings", `{"renewal_lead_days":30}`)
	wantProblem(t, h.call(t, admin, "PUT", "/api/v1/renewals/settings", `{"renewal_lead_days":-1}`), http.StatusBadRequest, "renewal_lead_days")
	if s := h.want(t, http.StatusOK, admin, "PUT", "/api/v1/renewals/settings", `{"renewal_lead_days":60}`); s["renewal_lead_days"] != 60.0 {
		t.Fatalf("saved %v", s)
	}
	h.want(t, http.StatusOK, admin, "PUT", "/api/v1/renewals/settings", `{"renewal_lead_days":90}`)

	// Bad input names the field; nothing is a 500.
	other := h.mk(t, h.adminB(), "accounts", `{"name":"B's account"}`)
	plain := h.mk(t, admin, "accounts", `{"name":"Not a customer"}`)
	for _, c := range []struct{ body, field string }{
		{fmt.Sprintf(`{"account_id":%d,"interval":"year"}`, acct), "unit_price"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"weekly"}`, acct), "interval"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"month","seats":3}`, acct), "seats"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":"100","interval":"month"}`, acct), "unit_price"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"month"}`, other), "account_id"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"month","start_date":"31/12/2025"}`, acct), "start_date"},
		{fmt.Sprintf(`{"account_id":%d,"unit_price":100,"interval":"month","currency":"EUR"}`, acct), "currency"},
	} {
		wantProblem(t, h.call(t, admin, "POST", "/api/v1/subscriptions", c.body), http.StatusBadRequest, c.field)
	}
	wantProblem(t, h.call(t, admin, "PATCH", fmt.Sprintf("/api/v1/subscriptions/%d", sub), `{"quantity":3,"effective_date":"2000-01-01"}`), http.StatusBadRequest, "effective_date")
	wantProblem(t, h.call(t, admin, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/reactivate", sub), `{}`), http.StatusBadRequest, "date")
	wantProblem(t, h.call(t, admin, "GET", fmt.Sprintf("/api/v1/customers/%d", plain), ""), http.StatusNotFound, "")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/reports/mrr?from=2026-13-01", ""), http.StatusBadRequest, "from")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/reports/mrr?by=team", ""), http.StatusBadRequest, "by")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/reports/mrr?from=2026-05-01&to=2026-04-01", ""), http.StatusBadRequest, "to")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/subscriptions?status=paused", ""), http.StatusBadRequest, "status")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/customers?sort=revenue", ""), http.StatusBadRequest, "sort")
	wantProblem(t, h.call(t, admin, "GET", "/api/v1/renewals?due_by=soon", ""), http.StatusBadRequest, "due_by")

	// The import API takes subscriptions like any other object.
	ext := uniq("imp-acct-")
	h.mk(t, admin, "accounts", fmt.Sprintf(`{"name":"Imported customer","external_id":%q}`, ext))
	req := h.request(t, csm, "POST", "/api/v1/imports?object=subscriptions&filename=subs.csv", "")
	req.Body = io.NopCloser(strings.NewReader("Subscription ID,Account ID,Plan,Price,Interval,Start Date,End Date\n" +
		uniq("imp-sub-") + "," + ext + ",Basic,99.00,monthly,2025-02-01,2026-01-01\n" +
		uniq("imp-sub-") + ",nobody,Basic,99.00,monthly,2025-02-01,\n"))
	req.Header.Set("Content-Type", "text/csv")
	res := h.do(t, req)
	if res.Status != http.StatusAccepted {
		t.Fatalf("subscriptions import: %d %s", res.Status, res.Body)
	}
	im := h.waitImport(t, csm, res.Header.Get("Location"))
	expectFields(t, "subscriptions import", im, map[string]any{"status": "done", "object_type": "subscription", "rows": 2.0, "accepted": 1.0, "rejected": 1.0, "merged": 0.0})

	// Cancelling for good: the customer churns.
	h.want(t, http.StatusOK, admin, "POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sub), `{}`)
	cust = h.want(t, http.StatusOK, ae, "GET", fmt.Sprintf("/api/v1/customers/%d", acct), "")
	expectFields(t, "churned", cust, map[string]any{"mrr": 0.0, "status": "churned"})
	if mv := cust["movements"].([]any); mv[len(mv)-1].(map[string]any)["kind"] != "churn" {
		t.Fatalf("movements after cancel %v", mv)
	}
}

// subscriptionTargets are the cross-workspace walk's victims for the
// subscriptions, customers and renewals routes.
func (h *harness) subscriptionTargets(tg map[string]target) {
	mk := func(t *testing.T, ws apptest.WS, start string) (int64, int64) {
		key := ws.Keys[model.RoleAdmin]
		acct := h.mk(t, key, "accounts", fmt.Sprintf(`{"name":%q}`, uniq("victim ")))
		sub := h.mk(t, key, "subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":12000,"interval":"year","start_date":%q}`, acct, start))
		return acct, sub
	}
	get := func(path string) func(t *testing.T, id int64) string {
		return func(t *testing.T, id int64) string {
			res := h.call(t, h.adminA(), "GET", fmt.Sprintf(path, id), "")
			if res.Status != http.StatusOK {
				return "missing"
			}
			return string(res.Body)
		}
	}
	tg["subscriptions"] = target{
		create:   func(t *testing.T, ws apptest.WS) int64 { _, s := mk(t, ws, monthsAgo(2)); return s },
		snapshot: get("/api/v1/subscriptions/%d"),
		patch:    `{"quantity":7}`,
	}
	tg["customers"] = target{
		create:   func(t *testing.T, ws apptest.WS) int64 { a, _ := mk(t, ws, monthsAgo(2)); return a },
		snapshot: get("/api/v1/customers/%d"),
	}
	tg["renewals"] = target{
		create: func(t *testing.T, ws apptest.WS) int64 {
			acct, _ := mk(t, ws, monthsAgo(11))
			if _, err := h.env.App.Subscriptions.RunRenewals(context.Background(), ws.ID, apiToday()); err != nil {
				t.Fatal(err)
			}
			rs := items(t, h.want(t, http.StatusOK, ws.Keys[model.RoleAdmin], "GET", fmt.Sprintf("/api/v1/renewals?account_id=%d", acct), ""))
			if len(rs) != 1 {
				t.Fatalf("victim renewals %v", rs)
			}
			return id(t, rs[0], "id")
		},
		snapshot: func(t *testing.T, rid int64) string {
			for _, it := range items(t, h.want(t, http.StatusOK, h.adminA(), "GET", "/api/v1/renewals?limit=1000", "")) {
				if id(t, it, "id") == rid {
					return fmt.Sprint(it)
				}
			}
			return "missing"
		},
	}
}
