package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// Subscriptions, customers, renewals and the MRR report (docs/subscriptions.md).

func listSubscriptions(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "account_id", "deal_id", "status", "plan", "currency", "external_id", "renewal_after", "renewal_before", "cursor", "limit")
	if err != nil {
		return err
	}
	f := store.SubscriptionFilter{Status: v.Get("status"), Plan: v.Get("plan"), Currency: v.Get("currency"), ExternalID: v.Get("external_id")}
	if f.AccountID, err = intParam(v, "account_id"); err != nil {
		return err
	}
	if f.DealID, err = intParam(v, "deal_id"); err != nil {
		return err
	}
	if f.After, err = intParam(v, "cursor"); err != nil {
		return badField("cursor", "invalid cursor")
	}
	if f.RenewalAfter, err = dateParam(v.Get("renewal_after"), "renewal_after"); err != nil {
		return err
	}
	if f.RenewalBefore, err = dateParam(v.Get("renewal_before"), "renewal_before"); err != nil {
		return err
	}
	if f.Limit, err = limitParam(v, store.DefaultPageSize, store.MaxPageSize); err != nil {
		return err
	}
	items, next, err := a.d.Subscriptions.List(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	out := map[string]any{"items": items}
	if next != 0 {
		out["next_cursor"] = strconv.FormatInt(next, 10)
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

// dateParam checks an optional YYYY-MM-DD query parameter.
func dateParam(s, name string) (string, error) {
	if s == "" {
		return "", nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", badField(name, "must be a date, YYYY-MM-DD")
	}
	return s, nil
}

func createSubscription(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in subscriptions.Input
	if err := body(r, &in); err != nil {
		return err
	}
	sub, err := a.d.Subscriptions.Create(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/subscriptions/%d", sub.ID))
	httpx.JSON(w, http.StatusCreated, sub)
	return nil
}

func getSubscription(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	d, err := a.d.Subscriptions.Get(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, d)
	return nil
}

// subscriptionWrite runs one of the subscription actions that take a JSON
// body and answer with the subscription.
func subscriptionWrite[T any](do func(a *API, r *http.Request, act model.Actor, id int64, in T) (model.Subscription, error)) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := onlyParams(r); err != nil {
			return err
		}
		var in T
		if err := body(r, &in); err != nil {
			return err
		}
		sub, err := do(a, r, p.Actor(httpx.ClientIP(r)), id, in)
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, sub)
		return nil
	}
}

var (
	updateSubscription = subscriptionWrite(func(a *API, r *http.Request, act model.Actor, id int64, in subscriptions.ChangeInput) (model.Subscription, error) {
		return a.d.Subscriptions.Change(r.Context(), act, id, in)
	})
	cancelSubscription = subscriptionWrite(func(a *API, r *http.Request, act model.Actor, id int64, in subscriptions.CancelInput) (model.Subscription, error) {
		return a.d.Subscriptions.Cancel(r.Context(), act, id, in)
	})
	reactivateSubscription = subscriptionWrite(func(a *API, r *http.Request, act model.Actor, id int64, in subscriptions.ReactivateInput) (model.Subscription, error) {
		return a.d.Subscriptions.Reactivate(r.Context(), act, id, in)
	})
)

func listCustomers(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "status", "segment", "motion", "q", "sort", "cursor", "limit")
	if err != nil {
		return err
	}
	f := store.CustomerFilter{Status: v.Get("status"), Segment: v.Get("segment"), Motion: v.Get("motion"), Query: v.Get("q"), Sort: v.Get("sort"), Cursor: v.Get("cursor")}
	if f.Limit, err = limitParam(v, store.DefaultPageSize, store.MaxPageSize); err != nil {
		return err
	}
	items, next, err := a.d.Subscriptions.Customers(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	out := map[string]any{"items": items}
	if next != "" {
		out["next_cursor"] = next
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

func getCustomer(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	c, err := a.d.Subscriptions.Customer(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, c)
	return nil
}

func listRenewals(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "status", "account_id", "subscription_id", "due_by", "limit")
	if err != nil {
		return err
	}
	f := store.RenewalFilter{Status: v.Get("status")}
	if f.AccountID, err = intParam(v, "account_id"); err != nil {
		return err
	}
	if f.SubscriptionID, err = intParam(v, "subscription_id"); err != nil {
		return err
	}
	if f.DueBy, err = dateParam(v.Get("due_by"), "due_by"); err != nil {
		return err
	}
	if f.Limit, err = limitParam(v, store.MaxPageSize, 1000); err != nil {
		return err
	}
	items, err := a.d.Subscriptions.Renewals(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func renewalOutcome(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in subscriptions.OutcomeInput
	if err := body(r, &in); err != nil {
		return err
	}
	x, err := a.d.Subscriptions.RecordOutcome(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, x)
	return nil
}

func getRenewalSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Subscriptions.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

func putRenewalSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in subscriptions.SettingsInput
	if err := body(r, &in); err != nil {
		return err
	}
	s, err := a.d.Subscriptions.SaveSettings(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

// defaultMRRMonths is the window of the MRR report when from is left out:
// this many calendar months ending with to's.
const defaultMRRMonths = 12

func getMRRReport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to", "by")
	if err != nil {
		return err
	}
	to := v.Get("to")
	if to == "" {
		to = a.d.Subscriptions.Today()
	}
	if _, err := dateParam(to, "to"); err != nil {
		return err
	}
	from := v.Get("from")
	if from == "" {
		t, _ := time.Parse(time.DateOnly, to)
		from = time.Date(t.Year(), t.Month()-(defaultMRRMonths-1), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if _, err := dateParam(from, "from"); err != nil {
		return err
	}
	rep, err := a.d.Subscriptions.Bridge(r.Context(), p.WorkspaceID, from, to, v.Get("by"))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rep)
	return nil
}

var (
	listSubscriptionsDoc = op{id: "listSubscriptions", tag: "subscriptions", summary: "List subscriptions by id, filtered; status is judged on today (UTC)",
		params: []param{
			{name: "account_id", desc: "the customer's account", schema: tID},
			{name: "deal_id", desc: "opened from this deal", schema: tID},
			{name: "status", desc: "future (starts later), active, ended (its end date has come)", schema: enum(model.SubscriptionStatuses...)},
			{name: "plan", desc: "plan name (case-insensitive)", schema: str(200)},
			{name: "currency", desc: "ISO 4217 code", schema: tCurrency},
			{name: "external_id", desc: "the billing system's id", schema: str(200)},
			{name: "renewal_after", desc: "renewal date on or after", schema: tDate},
			{name: "renewal_before", desc: "renewal date on or before", schema: tDate},
			{name: "cursor", desc: "next_cursor of the previous page", schema: str(0)},
			{name: "limit", desc: "page size", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize, "default": store.DefaultPageSize}},
		},
		resp: ok200("SubscriptionPage")}
	createSubscriptionDoc = op{id: "createSubscription", tag: "subscriptions",
		summary: "Open a subscription for an account (it becomes a customer; admin, manager, csm, ae); writes the new, reactivation or expansion MRR movement on its start date, and churn or contraction on its end date when one is given",
		body:    []content{{"application/json", ref("SubscriptionCreate"), map[string]any{"account_id": 42, "plan": "Growth", "quantity": 10, "unit_price": 120000, "interval": "year", "start_date": "2026-01-15"}}},
		resp:    []resp{{http.StatusCreated, "application/json", "Subscription", "", true}}}
	getSubscriptionDoc    = op{id: "getSubscription", tag: "subscriptions", summary: "A subscription and its recorded changes in effect order", resp: ok200("SubscriptionDetail")}
	updateSubscriptionDoc = op{id: "updateSubscription", tag: "subscriptions",
		summary: "Change a subscription (admin, manager, csm, ae): new terms (plan, quantity, unit_price, interval) take effect on effective_date (default today; not before the last recorded change) and write an expansion or contraction; term_months, renewal_date, auto_renew and external_id only change the record",
		body:    jsonBody("SubscriptionUpdate"), resp: ok200("Subscription")}
	cancelSubscriptionDoc = op{id: "cancelSubscription", tag: "subscriptions",
		summary: "End a subscription (admin, manager, csm, ae) on end_date (default today; a later date schedules it): churn when it was the customer's last active subscription, else contraction; its open renewal closes as churn",
		body:    jsonBody("SubscriptionCancel"), resp: ok200("Subscription")}
	reactivateSubscriptionDoc = op{id: "reactivateSubscription", tag: "subscriptions",
		summary: "Restart an ended subscription (admin, manager, csm, ae) on date (default today) with its last terms — a reactivation when the customer had no other active subscription, else an expansion — or, without a date, withdraw an end that has not come yet",
		body:    jsonBody("SubscriptionReactivate"), resp: ok200("Subscription")}
	listCustomersDoc = op{id: "listCustomers", tag: "customers", summary: "Customers (accounts with a subscription) with MRR as of today, plans, next renewal and status",
		params: []param{
			{name: "status", desc: "active (an active subscription today), churned (none active or future), future (only later starts)", schema: enum(subscriptions.CustomerStatuses...)},
			{name: "segment", desc: "the account's segment", schema: str(64)},
			{name: "motion", desc: "the account's motion", schema: enum(model.Motions...)},
			{name: "q", desc: "free text over name and domain", schema: str(0)},
			{name: "sort", desc: "name (default) or -mrr", schema: enum("name", "-mrr")},
			{name: "cursor", desc: "next_cursor of the previous page", schema: str(0)},
			{name: "limit", desc: "page size", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize, "default": store.DefaultPageSize}},
		},
		resp: ok200("CustomerPage")}
	getCustomerDoc = op{id: "getCustomer", tag: "customers", summary: "One customer by account id: its subscriptions, MRR, movements, renewals and the MRR at the end of each of the last 12 months; an account without subscriptions answers 404",
		resp: ok200("Customer")}
	listRenewalsDoc = op{id: "listRenewals", tag: "renewals", summary: "Renewal opportunities by renewal date (opened by the renewal job lead days ahead)",
		params: []param{
			{name: "status", desc: "open or closed", schema: enum("open", "closed")},
			{name: "account_id", desc: "the customer's account", schema: tID},
			{name: "subscription_id", desc: "the subscription", schema: tID},
			{name: "due_by", desc: "renewal date on or before", schema: tDate},
			{name: "limit", desc: "how many", schema: js{"type": "integer", "minimum": 1, "maximum": 1000, "default": store.MaxPageSize}},
		},
		resp: ok200("RenewalList")}
	renewalOutcomeDoc = op{id: "recordRenewalOutcome", tag: "renewals",
		summary: "Close an open renewal (admin, manager, csm, ae): renew (same terms), expand or contract (the renewed quantity and/or unit_price must raise or lower MRR), churn (the subscription ends on the renewal date); applied on the renewal date",
		body:    []content{{"application/json", ref("RenewalOutcome"), map[string]any{"outcome": "expand", "quantity": 12, "note": "two more teams"}}}, resp: ok200("Renewal")}
	getRenewalSettingsDoc = op{id: "getRenewalSettings", tag: "renewals", summary: "How many days before its renewal date a renewal opens (default 90)", resp: ok200("RenewalSettings")}
	putRenewalSettingsDoc = op{id: "putRenewalSettings", tag: "renewals", summary: "Set the renewal lead time (admin, manager)", body: jsonBody("RenewalSettingsInput"), resp: ok200("RenewalSettings")}
	getMRRReportDoc       = op{id: "getMRRReport", tag: "reports",
		summary: "MRR bridge of a period per currency: start, new, expansion, reactivation, contraction, churn, end, whether end = start + new + expansion + reactivation − contraction − churn holds, and the period's months; the convention object says how each figure is computed",
		params: []param{
			{name: "from", desc: "first day, included (default: the first day of the month 11 months before to's)", schema: tDate},
			{name: "to", desc: "last day, included (default: today, UTC)", schema: tDate},
			{name: "by", desc: "also group by the account's current segment or motion", schema: enum(subscriptions.Groupings...)},
		},
		resp: ok200("MRRReport")}
)

func subscriptionSchemas(s js) {
	day := withDesc(tDate, "YYYY-MM-DD")
	money := withDesc(tCount, "minor units of currency")
	sub := object([]string{"id", "account_id", "plan", "quantity", "unit_price", "currency", "interval", "mrr", "start_date", "term_months", "renewal_date", "auto_renew", "status", "created_at", "updated_at"}, js{
		"id": tID, "account_id": tID, "deal_id": withDesc(tID, "the won deal it was opened from"), "external_id": str(0), "plan": str(0),
		"quantity": tID, "unit_price": withDesc(tCount, "minor units of currency per interval per unit"), "currency": tCurrency,
		"interval": enum(model.BillingIntervals...), "mrr": withDesc(tCount, "quantity × unit_price ÷ months of the interval, rounded half up (the latest recorded terms)"),
		"start_date": day, "term_months": tID, "renewal_date": day, "auto_renew": js{"type": "boolean"},
		"end_date": withDesc(tDate, "the first day it no longer runs"), "status": withDesc(enum(model.SubscriptionStatuses...), "on today (UTC)"),
		"created_at": tTime, "updated_at": tTime,
	})
	s["Subscription"] = sub
	change := object([]string{"id", "subscription_id", "account_id", "kind", "effective_date", "plan", "quantity", "unit_price", "currency", "interval", "mrr", "active", "created_at"}, js{
		"id": tID, "subscription_id": tID, "account_id": tID, "kind": enum("start", "change", "end", "reactivate", "renew"), "effective_date": day,
		"plan": str(0), "quantity": tID, "unit_price": money, "currency": tCurrency, "interval": enum(model.BillingIntervals...),
		"mrr": money, "active": js{"type": "boolean"}, "note": str(0), "actor": str(0), "created_at": tTime,
	})
	s["SubscriptionChange"] = change
	detail := object(append(sub["required"].([]string), "changes"), js{})
	props := js{}
	for k, v := range sub["properties"].(js) {
		props[k] = v
	}
	props["changes"] = arrayOf(change)
	detail["properties"] = props
	s["SubscriptionDetail"] = detail
	s["SubscriptionPage"] = object([]string{"items"}, js{"items": arrayOf(ref("Subscription")), "next_cursor": withDesc(str(0), "pass as cursor for the next page; absent on the last page")})
	nday := nullable(str(10))
	s["SubscriptionCreate"] = object([]string{"account_id", "unit_price", "interval"}, js{
		"account_id": tID, "deal_id": nullable(tID), "external_id": nullable(str(200)), "plan": nullable(str(200)),
		"quantity":     withDesc(nullable(js{"type": "integer", "minimum": 1, "maximum": subscriptions.MaxQuantity}), "default 1"),
		"unit_price":   withDesc(js{"type": "integer", "minimum": 0, "maximum": subscriptions.MaxUnitPrice}, "minor units per interval per unit"),
		"currency":     withDesc(nullable(str(3)), "default: the customer's other subscriptions', else the deal's, else the workspace's"),
		"interval":     enum(model.BillingIntervals...),
		"start_date":   withDesc(nday, "YYYY-MM-DD, default today"),
		"term_months":  withDesc(nullable(js{"type": "integer", "minimum": 1, "maximum": subscriptions.MaxTerm}), "default: the interval's months"),
		"renewal_date": withDesc(nday, "default: the first start + k·term after today"),
		"auto_renew":   withDesc(nullable(js{"type": "boolean"}), "default true"),
		"end_date":     withDesc(nday, "an already ended (or scheduled) subscription: the first day it no longer runs"),
	})
	s["SubscriptionUpdate"] = object(nil, js{
		"plan": nullable(str(200)), "quantity": nullable(js{"type": "integer", "minimum": 1}), "unit_price": nullable(js{"type": "integer", "minimum": 0}),
		"interval": nullable(enum(model.BillingIntervals...)), "effective_date": withDesc(nday, "when new terms take effect (default today)"),
		"term_months": nullable(js{"type": "integer", "minimum": 1}), "renewal_date": nday, "auto_renew": nullable(js{"type": "boolean"}),
		"external_id": nullable(str(200)), "note": nullable(str(2000)),
	})
	s["SubscriptionCancel"] = object(nil, js{"end_date": withDesc(nday, "default today"), "note": nullable(str(2000))})
	s["SubscriptionReactivate"] = object(nil, js{"date": withDesc(nday, "default today; leave out to withdraw an end that has not come"), "note": nullable(str(2000))})
	movement := object([]string{"id", "account_id", "date", "month", "kind", "amount", "currency", "created_at"}, js{
		"id": tID, "account_id": tID, "subscription_id": withDesc(tID, "when exactly one subscription changed that day"), "date": day,
		"month": js{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}, "kind": enum(model.MovementKinds...),
		"amount": withDesc(tCount, "positive; contraction and churn subtract"), "currency": tCurrency,
		"segment": withDesc(str(0), "the account's when written"), "motion": str(0), "created_at": tTime,
	})
	s["MRRMovement"] = movement
	renewal := object([]string{"id", "subscription_id", "account_id", "renewal_date", "status", "mrr_before", "currency", "opened_at"}, js{
		"id": tID, "subscription_id": tID, "account_id": tID, "account_name": str(0), "plan": str(0), "renewal_date": day,
		"status": enum("open", "closed"), "outcome": enum(model.RenewalOutcomes...), "mrr_before": money,
		"mrr_after": money, "currency": tCurrency, "note": str(0), "opened_at": tTime, "decided_at": tTime,
		"decided_by": withDesc(str(0), "who recorded the outcome; system:renewals for one the job settled"),
	})
	s["Renewal"] = renewal
	s["RenewalList"] = object([]string{"items"}, js{"items": arrayOf(ref("Renewal"))})
	s["RenewalOutcome"] = object([]string{"outcome"}, js{
		"outcome": enum(model.RenewalOutcomes...), "quantity": nullable(js{"type": "integer", "minimum": 1}),
		"unit_price": nullable(js{"type": "integer", "minimum": 0}), "note": nullable(str(2000)),
	})
	s["RenewalSettings"] = object([]string{"renewal_lead_days"}, js{"renewal_lead_days": js{"type": "integer", "minimum": 0, "maximum": subscriptions.MaxLeadDays}})
	s["RenewalSettingsInput"] = object([]string{"renewal_lead_days"}, js{"renewal_lead_days": js{"type": "integer", "minimum": 0, "maximum": subscriptions.MaxLeadDays}})
	summaryProps := js{
		"account_id": tID, "name": str(0), "domain": str(0), "segment": str(0), "motion": str(0),
		"customer_since": withDesc(tDate, "the first subscription's start"), "active_subscriptions": tCount, "future_subscriptions": tCount,
		"subscription_count": tCount, "next_renewal": tDate, "currency": tCurrency, "mrr": withDesc(js{"type": "integer"}, "MRR at the end of today, minor units"),
		"status": enum(subscriptions.CustomerStatuses...), "plans": arrayOf(str(0)),
	}
	summaryReq := []string{"account_id", "name", "customer_since", "active_subscriptions", "future_subscriptions", "subscription_count", "currency", "mrr", "status", "plans"}
	s["CustomerSummary"] = object(summaryReq, summaryProps)
	s["CustomerPage"] = object([]string{"items"}, js{"items": arrayOf(ref("CustomerSummary")), "next_cursor": withDesc(str(0), "pass as cursor for the next page; absent on the last page")})
	custProps := js{}
	for k, v := range summaryProps {
		custProps[k] = v
	}
	custProps["subscriptions"] = arrayOf(ref("Subscription"))
	custProps["movements"] = arrayOf(ref("MRRMovement"))
	custProps["renewals"] = arrayOf(ref("Renewal"))
	custProps["history"] = withDesc(arrayOf(object([]string{"month", "mrr"}, js{"month": str(7), "mrr": tInt})), "MRR at the end of each of the last 12 months")
	s["Customer"] = object(append(append([]string{}, summaryReq...), "subscriptions", "movements", "renewals", "history"), custProps)
	bridgeProps := js{
		"currency": tCurrency, "start": tInt, "new": tCount, "expansion": tCount, "reactivation": tCount, "contraction": tCount, "churn": tCount, "end": tInt,
		"identity_holds": withDesc(js{"type": "boolean"}, "end = start + new + expansion + reactivation − contraction − churn, with end read independently"),
		"new_customers":  tCount, "reactivated_customers": tCount, "churned_customers": tCount,
	}
	bridgeReq := []string{"currency", "start", "new", "expansion", "reactivation", "contraction", "churn", "end", "identity_holds", "new_customers", "reactivated_customers", "churned_customers"}
	s["MRRBridge"] = object(bridgeReq, bridgeProps)
	withKeys := func(extra js, req ...string) js {
		p := js{}
		for k, v := range bridgeProps {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		return object(append(append([]string{}, bridgeReq...), req...), p)
	}
	s["MRRReport"] = object([]string{"from", "to", "convention", "totals", "months"}, js{
		"from": tDate, "to": tDate, "by": enum(subscriptions.Groupings...),
		"convention": object([]string{"mrr", "period", "movements", "identity", "grouping", "currency"}, js{
			"mrr": str(0), "period": str(0), "movements": str(0), "identity": str(0), "grouping": str(0), "currency": str(0),
		}),
		"totals": withDesc(arrayOf(ref("MRRBridge")), "one per currency"),
		"groups": withDesc(arrayOf(withKeys(js{"group": str(0)}, "group")), "with by: one per group and currency"),
		"months": withDesc(arrayOf(withKeys(js{"month": str(7), "from": tDate, "to": tDate}, "month", "from", "to")), "calendar months, the first and last clipped to the period"),
	})
}
