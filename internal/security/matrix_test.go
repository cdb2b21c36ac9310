package security_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/rightsize/rightsize/internal/app/apptest"
	"github.com/rightsize/rightsize/internal/model"
)

// Who may call a route: the roles that get a 2xx (a 303 for a UI form), as
// space-separated role names. Every other role gets 403. "partner:own" means
// the partner gets in with its own records only: another member's record
// answers 404 like a foreign id, and a list shows none of them. "public" needs
// no credential at all.
const (
	public   = "public"
	members  = "admin manager ldr ae csm partner"
	leads    = "admin manager ldr ae csm partner:own"
	staff    = "admin manager ldr ae csm"
	sellers  = "admin manager ae csm"
	success  = "admin manager csm"
	managers = "admin manager"
	admins   = "admin"
)

// entry is one route of the matrix: who may call it and how to call it with
// real fixture ids and a valid body (req builds the request; fixtures belong
// to f.owner). ownSession: the request ends or replaces the caller's session,
// so it runs in a session of its own. An API route is walked by key and by
// session (whoSession). throwaway: the request changes the
// caller's credentials (its password), so it runs as a new member of the
// role, signed in for it alone.
type entry struct {
	route      string
	who        string
	req        func(f *fx) req
	ownSession bool
	throwaway  bool
	// whoSession, when set, is who may call an API route by session, where it
	// differs from by key (who).
	whoSession string
}

// whoBy is who may call rt with the credential: by session or by key.
func (e entry) whoBy(rt route, bySession bool) string {
	if rt.api && bySession && e.whoSession != "" {
		return e.whoSession
	}
	return e.who
}

// matrix is the one declarative table of the security matrix: every route of
// web.UI.Routes() and api.API.Routes(), with the roles that may call it.
// docs/security.md renders it (go test ./internal/security -run TestMatrixDoc
// -update). A route missing here fails TestMatrixCoversEveryRoute.
var matrix = []entry{
	// ---- UI: sign-in and the shell.
	{route: "GET /static/{file}", who: public, req: func(f *fx) req { return get("%s", f.staticAsset()) }},
	{route: "GET /login", who: public, req: func(f *fx) req { return get("/login") }},
	{route: "POST /login", who: public, ownSession: true, req: func(f *fx) req {
		return post("/login", vals("email", f.owner.Email, "password", apptest.Password, "next", "/"))
	}},
	{route: "POST /logout", who: public, ownSession: true, req: func(f *fx) req { return post("/logout", nil) }},
	{route: "GET /forgot", who: public, req: func(f *fx) req { return get("/forgot") }},
	{route: "POST /forgot", who: public, req: func(f *fx) req { return post("/forgot", vals("email", f.owner.Email)) }},
	{route: "GET /reset", who: public, req: func(f *fx) req { return get("/reset?token=%s", f.resetToken()) }},
	{route: "POST /reset", who: public, ownSession: true, req: func(f *fx) req {
		return post("/reset", vals("token", f.resetToken(), "password", "a new long password", "password_again", "a new long password"))
	}},
	{route: "GET /settings/password", who: members, req: func(f *fx) req { return get("/settings/password") }},
	{route: "POST /settings/password", who: members, throwaway: true, req: func(f *fx) req {
		return post("/settings/password", vals("current_password", apptest.Password, "new_password", "a new long password", "new_password_again", "a new long password"))
	}},
	{route: "POST /workspace", who: members, req: func(f *fx) req {
		return post("/workspace", vals("workspace_id", itoa(f.s.e.A.ID), "next", "/contacts"))
	}},
	{route: "GET /{$}", who: members, req: func(f *fx) req { return get("/") }},

	// ---- UI: accounts and contacts (lead work: a partner's own records only).
	{route: "GET /accounts", who: leads, req: func(f *fx) req { return get("/accounts") }},
	{route: "GET /accounts/new", who: leads, req: func(f *fx) req { return get("/accounts/new") }},
	{route: "POST /accounts", who: leads, req: func(f *fx) req {
		return post("/accounts", vals("name", f.uniq("New account "), "currency", "USD", "owner_id", itoa(f.owner.ID)))
	}},
	{route: "GET /accounts/{id}", who: leads, req: func(f *fx) req { return get("/accounts/%d", f.account()) }},
	{route: "GET /accounts/{id}/edit", who: leads, req: func(f *fx) req { return get("/accounts/%d/edit", f.account()) }},
	{route: "POST /accounts/{id}", who: leads, req: func(f *fx) req {
		a := f.account()
		v := f.s.scrape(f.t, fmt.Sprintf("/accounts/%d/edit", a), fmt.Sprintf("/accounts/%d", a))
		v.Set("industry", "Software")
		return post(fmt.Sprintf("/accounts/%d", a), v)
	}},
	{route: "POST /accounts/{id}/merge", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/accounts/%d/merge", f.account()), vals("other", itoa(f.otherAccount())))
	}},
	{route: "GET /contacts", who: leads, req: func(f *fx) req { return get("/contacts") }},
	{route: "GET /contacts/new", who: leads, req: func(f *fx) req { return get("/contacts/new") }},
	{route: "POST /contacts", who: leads, req: func(f *fx) req {
		return post("/contacts", vals("email", f.uniq("new")+"@matrix.example", "lifecycle_stage", "lead", "owner_id", itoa(f.owner.ID)))
	}},
	{route: "GET /contacts/{id}", who: leads, req: func(f *fx) req { return get("/contacts/%d", f.contact()) }},
	{route: "GET /contacts/{id}/edit", who: leads, req: func(f *fx) req { return get("/contacts/%d/edit", f.contact()) }},
	{route: "POST /contacts/{id}", who: leads, req: func(f *fx) req {
		c := f.contact()
		v := f.s.scrape(f.t, fmt.Sprintf("/contacts/%d/edit", c), fmt.Sprintf("/contacts/%d", c))
		v.Set("title", "VP Sales")
		return post(fmt.Sprintf("/contacts/%d", c), v)
	}},
	{route: "POST /contacts/{id}/merge", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/contacts/%d/merge", f.contact()), vals("other", itoa(f.otherContact())))
	}},
	{route: "POST /activities", who: leads, req: func(f *fx) req {
		c := f.contact()
		return post("/activities", vals("back", "contact:"+itoa(c), "kind", "note", "subject", "Called", "contact_id", itoa(c)))
	}},

	// ---- UI: deals, pipeline, forecast.
	{route: "GET /deals", who: staff, req: func(f *fx) req { return get("/deals") }},
	{route: "GET /deals/new", who: staff, req: func(f *fx) req { return get("/deals/new") }},
	{route: "POST /deals", who: staff, req: func(f *fx) req {
		v := f.s.scrape(f.t, "/deals/new", "/deals")
		v.Set("name", f.uniq("New deal "))
		v.Set("pipeline", "digital")
		v.Set("stage", "qualified")
		return post("/deals", v)
	}},
	{route: "GET /deals/{id}", who: staff, req: func(f *fx) req { return get("/deals/%d", f.deal()) }},
	{route: "GET /deals/{id}/edit", who: staff, req: func(f *fx) req { return get("/deals/%d/edit", f.deal()) }},
	{route: "POST /deals/{id}", who: staff, req: func(f *fx) req {
		d := f.deal()
		v := f.s.scrape(f.t, fmt.Sprintf("/deals/%d/edit", d), fmt.Sprintf("/deals/%d", d))
		v.Set("amount", "1,500.00")
		return post(fmt.Sprintf("/deals/%d", d), v)
	}},
	{route: "POST /deals/{id}/committee", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/deals/%d/committee", f.deal()), vals("contact_id", itoa(f.otherContact()), "role", "legal", "signoff", "approved"))
	}},
	{route: "POST /deals/{id}/committee/{contact_id}/delete", who: staff, req: func(f *fx) req {
		d, c := f.committee()
		return post(fmt.Sprintf("/deals/%d/committee/%d/delete", d, c), nil)
	}},
	// The receiving AE, the deal's owner (here the caller), an admin or a
	// manager decides on an SQL.
	{route: "POST /deals/{id}/handoffs/{handoff_id}/{decision}", who: staff, req: func(f *fx) req {
		d, h := f.handoff()
		return post(fmt.Sprintf("/deals/%d/handoffs/%d/accept", d, h), vals("note", "good fit"))
	}},
	{route: "GET /pipeline", who: staff, req: func(f *fx) req { return get("/pipeline") }},
	{route: "POST /pipeline/move", who: staff, req: func(f *fx) req {
		return post("/pipeline/move", vals("deal_id", itoa(f.deal()), "stage", "trial", "motion", "digital"))
	}},
	{route: "GET /forecast", who: staff, req: func(f *fx) req { return get("/forecast") }},

	// ---- UI: customers and subscriptions.
	{route: "GET /customers", who: staff, req: func(f *fx) req { return get("/customers") }},
	{route: "GET /customers/{id}", who: staff, req: func(f *fx) req { return get("/customers/%d", f.customer()) }},
	{route: "POST /customers/{id}/renewals/{renewal_id}", who: sellers, req: func(f *fx) req {
		a, r := f.renewal()
		return post(fmt.Sprintf("/customers/%d/renewals/%d", a, r), vals("outcome", "renew"))
	}},
	{route: "POST /customers/{id}/subscriptions", who: sellers, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/subscriptions", f.otherAccount()), vals("plan", "Starter", "quantity", "2", "unit_price", "50.00", "interval", "month", "start_date", today()))
	}},
	{route: "POST /customers/{id}/subscriptions/{sub_id}/change", who: sellers, req: func(f *fx) req {
		a, s := f.subscription()
		return post(fmt.Sprintf("/customers/%d/subscriptions/%d/change", a, s), vals("quantity", "5"))
	}},
	{route: "POST /customers/{id}/subscriptions/{sub_id}/cancel", who: sellers, req: func(f *fx) req {
		a, s := f.subscription()
		return post(fmt.Sprintf("/customers/%d/subscriptions/%d/cancel", a, s), nil)
	}},
	{route: "POST /customers/{id}/subscriptions/{sub_id}/reactivate", who: sellers, req: func(f *fx) req {
		a, s := f.endedSubscription()
		return post(fmt.Sprintf("/customers/%d/subscriptions/%d/reactivate", a, s), nil)
	}},

	// ---- UI: the LDR desk (a partner works its own queue).
	{route: "GET /desk", who: leads, req: func(f *fx) req { return get("/desk") }},
	{route: "POST /desk/{id}/qualify", who: leads, req: func(f *fx) req {
		return post(fmt.Sprintf("/desk/%d/qualify", f.mql()), vals("budget", "20k", "authority", "VP", "need", "forecasting", "timeline", "Q3"))
	}},
	{route: "POST /desk/{id}/disqualify", who: leads, req: func(f *fx) req {
		return post(fmt.Sprintf("/desk/%d/disqualify", f.mql()), vals("reason", "other", "note", "no fit"))
	}},
	{route: "POST /desk/{id}/nurture", who: leads, req: func(f *fx) req {
		return post(fmt.Sprintf("/desk/%d/nurture", f.mql()), vals("note", "next year"))
	}},
	{route: "POST /desk/{id}/call", who: leads, req: func(f *fx) req {
		return post(fmt.Sprintf("/desk/%d/call", f.mql()), vals("subject", "Intro", "duration_minutes", "5"))
	}},
	{route: "POST /desk/{id}/meeting", who: leads, req: func(f *fx) req {
		return post(fmt.Sprintf("/desk/%d/meeting", f.mql()), vals("subject", "Demo booked"))
	}},

	// ---- UI: forms, content, sequences.
	{route: "GET /forms", who: staff, req: func(f *fx) req { return get("/forms") }},
	{route: "GET /forms/new", who: managers, req: func(f *fx) req { return get("/forms/new") }},
	{route: "POST /forms", who: managers, req: func(f *fx) req {
		v := f.s.scrape(f.t, "/forms/new", "/forms")
		v.Set("name", f.uniq("Form "))
		v.Set("kind", "signup")
		return post("/forms", v)
	}},
	{route: "GET /forms/{id}", who: staff, req: func(f *fx) req { return get("/forms/%d", f.form()) }},
	{route: "GET /forms/{id}/edit", who: managers, req: func(f *fx) req { return get("/forms/%d/edit", f.form()) }},
	{route: "POST /forms/{id}", who: managers, req: func(f *fx) req {
		id := f.form()
		return post(fmt.Sprintf("/forms/%d", id), f.s.scrape(f.t, fmt.Sprintf("/forms/%d/edit", id), fmt.Sprintf("/forms/%d", id)))
	}},
	{route: "GET /content", who: staff, req: func(f *fx) req { return get("/content") }},
	{route: "POST /content", who: staff, req: func(f *fx) req {
		return post("/content", vals("title", f.uniq("Checklist "), "url", "https://cdn.example/setup.pdf", "type", "checklist"))
	}},
	{route: "GET /content/{id}/edit", who: staff, req: func(f *fx) req { return get("/content/%d/edit", f.asset()) }},
	{route: "POST /content/{id}", who: staff, req: func(f *fx) req {
		id := f.asset()
		return post(fmt.Sprintf("/content/%d", id), f.s.scrape(f.t, fmt.Sprintf("/content/%d/edit", id), fmt.Sprintf("/content/%d", id)))
	}},
	{route: "GET /content/{id}/file", who: staff, req: func(f *fx) req { return get("/content/%d/file", f.asset()) }},
	{route: "GET /sequences", who: staff, req: func(f *fx) req { return get("/sequences") }},
	{route: "GET /sequences/new", who: staff, req: func(f *fx) req { return get("/sequences/new") }},
	{route: "POST /sequences", who: staff, req: func(f *fx) req {
		return post("/sequences", vals("name", f.uniq("Welcome "), "trigger_kind", "manual", "staleness_minutes", "1440", "steps", "1",
			"s0_kind", "send_email", "s0_subject", "Hi", "s0_text", "Hello", "op", "save"))
	}},
	{route: "GET /sequences/{id}/edit", who: staff, req: func(f *fx) req { return get("/sequences/%d/edit", f.sequence()) }},
	{route: "POST /sequences/{id}", who: staff, req: func(f *fx) req {
		id := f.sequence()
		v := f.s.scrape(f.t, fmt.Sprintf("/sequences/%d/edit", id), fmt.Sprintf("/sequences/%d", id))
		v.Set("op", "save")
		return post(fmt.Sprintf("/sequences/%d", id), v)
	}},
	{route: "POST /sequences/{id}/activate", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/sequences/%d/activate", f.sequenceIn("draft")), nil)
	}},
	{route: "POST /sequences/{id}/pause", who: staff, req: func(f *fx) req { return post(fmt.Sprintf("/sequences/%d/pause", f.sequence()), nil) }},
	{route: "GET /sequences/{id}/enrollments", who: staff, req: func(f *fx) req { return get("/sequences/%d/enrollments", f.sequence()) }},
	{route: "POST /enrollments/{id}/release", who: staff, req: func(f *fx) req { return post(fmt.Sprintf("/enrollments/%d/release", f.enrollment("held")), nil) }},
	{route: "POST /enrollments/{id}/skip", who: staff, req: func(f *fx) req { return post(fmt.Sprintf("/enrollments/%d/skip", f.enrollment("held")), nil) }},
	{route: "POST /enrollments/{id}/exit", who: staff, req: func(f *fx) req { return post(fmt.Sprintf("/enrollments/%d/exit", f.enrollment("active")), nil) }},

	// ---- UI: imports.
	{route: "GET /imports", who: staff, req: func(f *fx) req { return get("/imports") }},
	{route: "GET /imports/new", who: staff, req: func(f *fx) req { return get("/imports/new") }},
	{route: "POST /imports", who: staff, req: func(f *fx) req {
		body, ctype := multipartBody(map[string]string{"object_type": "contact"}, "file", "people.csv", []byte("email\n"+f.uniq("imp")+"@matrix.example\n"))
		return req{method: "POST", path: "/imports", body: body, ctype: ctype}
	}},
	{route: "GET /imports/{id}", who: staff, req: func(f *fx) req { return get("/imports/%d", f.importID()) }},
	{route: "GET /imports/{id}/errors.csv", who: staff, req: func(f *fx) req { return get("/imports/%d/errors.csv", f.importID()) }},

	// ---- UI: settings. Staff read them; managers change the team's; admins the integrations'.
	{route: "GET /settings", who: staff, req: func(f *fx) req { return get("/settings") }},
	{route: "GET /settings/routing", who: staff, req: func(f *fx) req { return get("/settings/routing") }},
	{route: "POST /settings/routing", who: managers, req: func(f *fx) req {
		return post("/settings/routing", f.s.scrape(f.t, "/settings/routing", "/settings/routing"))
	}},
	{route: "GET /settings/pipelines", who: staff, req: func(f *fx) req { return get("/settings/pipelines") }},
	{route: "POST /settings/pipelines", who: managers, req: func(f *fx) req { return post("/settings/pipelines", vals("pipelines", "[]")) }},
	{route: "GET /settings/scoring", who: staff, req: func(f *fx) req { return get("/settings/scoring") }},
	{route: "POST /settings/scoring", who: managers, req: func(f *fx) req {
		return post("/settings/scoring", f.s.scrape(f.t, "/settings/scoring", "/settings/scoring"))
	}},
	{route: "GET /settings/pools", who: staff, req: func(f *fx) req { return get("/settings/pools") }},
	{route: "POST /settings/pools", who: managers, req: func(f *fx) req {
		return post("/settings/pools", vals("name", f.uniq("Pool "), "role", "ldr", "capacity", "2"))
	}},
	{route: "POST /settings/pools/{id}", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/settings/pools/%d", f.pool()), vals("name", f.uniq("Renamed "), "role", "ldr", "capacity", "4"))
	}},
	{route: "POST /settings/pools/{id}/delete", who: managers, req: func(f *fx) req { return post(fmt.Sprintf("/settings/pools/%d/delete", f.pool()), nil) }},
	{route: "POST /settings/pools/{id}/members", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/settings/pools/%d/members", f.pool()), vals("user_id", itoa(f.user(model.RolePartner).ID)))
	}},
	{route: "POST /settings/pools/{id}/members/{user_id}", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/settings/pools/%d/members/%d", f.pool(), f.user(model.RoleLDR).ID), vals("active", "1"))
	}},
	{route: "POST /settings/pools/{id}/members/{user_id}/remove", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/settings/pools/%d/members/%d/remove", f.pool(), f.user(model.RoleLDR).ID), nil)
	}},
	{route: "POST /settings/sla", who: managers, req: func(f *fx) req {
		return post("/settings/sla", vals("timezone", "UTC", "sla_minutes.digital", "30", "sla_minutes.high_touch", "480"))
	}},
	{route: "GET /settings/mail", who: staff, req: func(f *fx) req { return get("/settings/mail") }},
	{route: "POST /settings/mail", who: admins, req: func(f *fx) req {
		return post("/settings/mail", vals("from_name", "Ada", "from_address", "ada@sender.example", "postal_address", "1 Engine St, London", "rate_per_sec", "5", "track_engagement", "off"))
	}},
	{route: "POST /settings/mail/imap", who: admins, req: func(f *fx) req { return post("/settings/mail/imap", imapForm()) }},
	{route: "POST /settings/mail/imap/test", who: admins, req: func(f *fx) req { return post("/settings/mail/imap/test", imapForm()) }},
	{route: "GET /settings/api-keys", who: admins, req: func(f *fx) req { return get("/settings/api-keys") }},
	{route: "POST /settings/api-keys", who: admins, req: func(f *fx) req {
		return post("/settings/api-keys", vals("name", f.uniq("Key "), "role", "ae"))
	}},
	{route: "POST /settings/api-keys/{id}/revoke", who: admins, req: func(f *fx) req { return post(fmt.Sprintf("/settings/api-keys/%d/revoke", f.apiKey()), nil) }},
	{route: "GET /settings/tracking", who: staff, req: func(f *fx) req { return get("/settings/tracking") }},
	{route: "POST /settings/tracking", who: managers, req: func(f *fx) req {
		return post("/settings/tracking", vals("name", f.uniq("Site "), "allowed_origins", "https://www.matrix.example", "consent_mode", "none"))
	}},
	{route: "GET /settings/webhooks", who: admins, req: func(f *fx) req { return get("/settings/webhooks") }},
	{route: "POST /settings/webhooks", who: admins, req: func(f *fx) req {
		return post("/settings/webhooks", vals("url", f.s.hooks.URL+"/"+f.uniq("ui"), "enabled", "on"))
	}},
	{route: "GET /settings/webhooks/{id}", who: admins, req: func(f *fx) req { return get("/settings/webhooks/%d", f.webhook()) }},
	{route: "POST /settings/webhooks/{id}", who: admins, req: func(f *fx) req {
		return post(fmt.Sprintf("/settings/webhooks/%d", f.webhook()), vals("url", f.s.hooks.URL+"/"+f.uniq("ui"), "description", "Warehouse", "enabled", "on"))
	}},
	{route: "POST /settings/webhooks/{id}/test", who: admins, req: func(f *fx) req { return post(fmt.Sprintf("/settings/webhooks/%d/test", f.webhook()), nil) }},
	{route: "POST /settings/webhooks/{id}/delete", who: admins, req: func(f *fx) req { return post(fmt.Sprintf("/settings/webhooks/%d/delete", f.webhook()), nil) }},
	{route: "POST /settings/webhooks/{id}/deliveries/{delivery_id}/redeliver", who: admins, req: func(f *fx) req {
		h, d := f.delivery()
		return post(fmt.Sprintf("/settings/webhooks/%d/deliveries/%d/redeliver", h, d), nil)
	}},
	{route: "POST /settings/sending/resume", who: admins, req: func(f *fx) req { return post("/settings/sending/resume", vals("next", "/")) }},
	{route: "GET /settings/success", who: staff, req: func(f *fx) req { return get("/settings/success") }},
	{route: "POST /settings/success", who: managers, req: func(f *fx) req {
		return post("/settings/success", f.s.scrape(f.t, "/settings/success", "/settings/success"))
	}},

	// ---- UI: economics (admins and managers).
	{route: "GET /economics", who: managers, req: func(f *fx) req { return get("/economics") }},
	{route: "GET /economics/settings", who: managers, req: func(f *fx) req { return get("/economics/settings") }},
	{route: "POST /economics/settings", who: managers, req: func(f *fx) req {
		return post("/economics/settings", f.s.scrape(f.t, "/economics/settings", "/economics/settings"))
	}},
	{route: "GET /economics/market", who: managers, req: func(f *fx) req { return get("/economics/market") }},
	{route: "POST /economics/market", who: managers, req: func(f *fx) req {
		return post("/economics/market", vals("rows", "1", "currency", "USD", "m0.segment", "smb", "m0.accounts", "1,000", "m0.per_account", "12,000", "m0.serviceable", "30", "m0.obtainable", "10"))
	}},
	{route: "GET /economics/spend", who: managers, req: func(f *fx) req { return get("/economics/spend") }},
	{route: "POST /economics/spend", who: managers, req: func(f *fx) req {
		return post("/economics/spend", vals("month", "2026-02", "amount", "1,250.50", "category", "programs", "channel", "Paid Search"))
	}},
	{route: "POST /economics/spend/{id}/delete", who: managers, req: func(f *fx) req { return post(fmt.Sprintf("/economics/spend/%d/delete", f.spend()), nil) }},
	{route: "POST /economics/spend/import", who: managers, req: func(f *fx) req {
		body, ctype := multipartBody(nil, "file", "ledger.csv", []byte("month,amount,category\n2026-03,100.00,tools\n"))
		return req{method: "POST", path: "/economics/spend/import", body: body, ctype: ctype}
	}},
	{route: "POST /economics/spend/rules", who: managers, req: func(f *fx) req {
		return post("/economics/spend/rules", vals("category", "tools", "share.smb.digital", "60", "share.mid_market.digital", "40"))
	}},
	{route: "POST /economics/spend/rules/delete", who: managers, req: func(f *fx) req {
		return post("/economics/spend/rules/delete", vals("category", "tools", "channel", ""))
	}},
	{route: "GET /economics/people", who: managers, req: func(f *fx) req { return get("/economics/people") }},
	{route: "POST /economics/people", who: managers, req: func(f *fx) req {
		v := f.s.scrape(f.t, "/economics/people", "/economics/people")
		v.Set("name", f.uniq("SMB LDR "))
		v.Set("base_salary", "50,000")
		v.Set("loaded_multiplier", "2")
		v.Set("split_digital", "100")
		v.Set("split_high_touch", "0")
		return post("/economics/people", v)
	}},
	{route: "POST /economics/people/{id}", who: managers, req: func(f *fx) req {
		id := f.profile()
		return post(fmt.Sprintf("/economics/people/%d", id), f.s.scrape(f.t, "/economics/people", fmt.Sprintf("/economics/people/%d", id)))
	}},
	{route: "POST /economics/people/{id}/delete", who: managers, req: func(f *fx) req { return post(fmt.Sprintf("/economics/people/%d/delete", f.profile()), nil) }},
	{route: "POST /economics/people/{id}/headcount", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/economics/people/%d/headcount?year=2026", f.profile()), vals("hc.2026-01", "2"))
	}},
	{route: "GET /economics/staffing", who: managers, req: func(f *fx) req { return get("/economics/staffing") }},
	{route: "POST /economics/staffing", who: managers, req: func(f *fx) req {
		v := f.s.scrape(f.t, "/economics/staffing", "/economics/staffing")
		for k, x := range map[string]string{"name": f.uniq("Agency "), "kind": "partner", "cost_profile_id": "", "tenure_months": "", "ramp_months": "0",
			"lead_time_months": "0", "meetings_per_month": "10", "sqls_per_month": "5", "retainer_monthly": "4,000"} {
			v.Set(k, x)
		}
		return post("/economics/staffing", v)
	}},
	{route: "POST /economics/staffing/example", who: managers, req: func(f *fx) req { return post("/economics/staffing/example", nil) }},
	{route: "POST /economics/staffing/{id}", who: managers, req: func(f *fx) req {
		id := f.scenario()
		return post(fmt.Sprintf("/economics/staffing/%d", id), f.s.scrape(f.t, "/economics/staffing", fmt.Sprintf("/economics/staffing/%d", id)))
	}},
	{route: "POST /economics/staffing/{id}/delete", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/economics/staffing/%d/delete", f.scenario()), nil)
	}},
	{route: "POST /economics/alerts/{id}/acknowledge", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/economics/alerts/%d/acknowledge", f.alert()), vals("back", "/"))
	}},
	{route: "GET /economics/partners", who: managers, req: func(f *fx) req { return get("/economics/partners") }},
	{route: "POST /economics/partners", who: managers, req: func(f *fx) req {
		return post("/economics/partners", vals("name", f.uniq("SDR Co "), "start_month", "2026-01", "fee_per_sql", "400"))
	}},
	{route: "GET /economics/partners/{id}", who: managers, req: func(f *fx) req { return get("/economics/partners/%d", f.partner()) }},
	{route: "POST /economics/partners/{id}", who: managers, req: func(f *fx) req {
		id := f.partner()
		v := f.s.scrape(f.t, fmt.Sprintf("/economics/partners/%d", id), fmt.Sprintf("/economics/partners/%d", id))
		v.Set("fee_per_meeting", "150")
		return post(fmt.Sprintf("/economics/partners/%d", id), v)
	}},
	{route: "POST /economics/partners/{id}/delete", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/economics/partners/%d/delete", f.partner()), nil)
	}},

	// ---- UI: customer success. Writes are narrowed by the service: the CSM
	// actions (accept, sentiment) are for CSMs, managers and admins.
	{route: "GET /success", who: staff, req: func(f *fx) req { return get("/success") }},
	{route: "GET /customers/{id}/success", who: staff, req: func(f *fx) req { return get("/customers/%d/success", f.customer()) }},
	{route: "POST /customers/{id}/success/note", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/note", f.customer()), vals("goals", "Live in 3 regions", "stakeholders", "Ann", "risks", "none"))
	}},
	{route: "POST /customers/{id}/success/accept", who: success, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/accept", f.readyCustomer()), nil)
	}},
	{route: "POST /customers/{id}/success/csm", who: managers, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/csm", f.customer()), vals("csm_user_id", itoa(f.user(model.RoleCSM).ID)))
	}},
	{route: "POST /customers/{id}/success/items/{item_id}", who: staff, req: func(f *fx) req {
		a := f.customer()
		return post(fmt.Sprintf("/customers/%d/success/items/%d", a, f.handoffItem(a)), vals("done", "1"))
	}},
	{route: "POST /customers/{id}/success/sentiment", who: success, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/sentiment", f.customer()), vals("sentiment", "positive", "sentiment_note", "Happy champion"))
	}},
	{route: "POST /customers/{id}/success/nps", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/nps", f.customer()), vals("nps_score", "9"))
	}},
	{route: "POST /customers/{id}/success/support", who: staff, req: func(f *fx) req {
		return post(fmt.Sprintf("/customers/%d/success/support", f.customer()), vals("open_items", "1"))
	}},

	// ---- API: meta.
	{route: "GET /api/v1/openapi.json", who: public, req: func(f *fx) req { return get("/api/v1/openapi.json") }},
	{route: "GET /api/v1/me", who: members, req: func(f *fx) req { return get("/api/v1/me") }},

	// ---- API: records (lead work: a partner's own only).
	{route: "GET /api/v1/accounts", who: leads, req: func(f *fx) req { return get("/api/v1/accounts") }},
	{route: "POST /api/v1/accounts", who: leads, req: func(f *fx) req {
		return call("POST", "/api/v1/accounts", fmt.Sprintf(`{"name":%q,"owner_id":%d}`, f.uniq("API account "), f.owner.ID))
	}},
	{route: "GET /api/v1/accounts/{id}", who: leads, req: func(f *fx) req { return get("/api/v1/accounts/%d", f.account()) }},
	{route: "PATCH /api/v1/accounts/{id}", who: leads, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/accounts/%d", f.account()), `{"industry":"Software"}`)
	}},
	{route: "DELETE /api/v1/accounts/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/accounts/%d", f.account()), "") }},
	{route: "POST /api/v1/accounts/{id}/merge", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/accounts/%d/merge", f.account()), fmt.Sprintf(`{"merge_id":%d}`, f.otherAccount()))
	}},
	{route: "GET /api/v1/accounts/{id}/timeline", who: leads, req: func(f *fx) req { return get("/api/v1/accounts/%d/timeline", f.account()) }},
	{route: "GET /api/v1/accounts/{id}/routing", who: staff, req: func(f *fx) req { return get("/api/v1/accounts/%d/routing", f.account()) }},
	{route: "GET /api/v1/contacts", who: leads, req: func(f *fx) req { return get("/api/v1/contacts") }},
	{route: "POST /api/v1/contacts", who: leads, req: func(f *fx) req {
		return call("POST", "/api/v1/contacts", fmt.Sprintf(`{"email":%q,"owner_id":%d}`, f.uniq("api")+"@matrix.example", f.owner.ID))
	}},
	{route: "GET /api/v1/contacts/{id}", who: leads, req: func(f *fx) req { return get("/api/v1/contacts/%d", f.contact()) }},
	{route: "PATCH /api/v1/contacts/{id}", who: leads, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/contacts/%d", f.contact()), `{"title":"VP Sales"}`)
	}},
	{route: "DELETE /api/v1/contacts/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/contacts/%d", f.contact()), "") }},
	{route: "POST /api/v1/contacts/{id}/merge", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/contacts/%d/merge", f.contact()), fmt.Sprintf(`{"merge_id":%d}`, f.otherContact()))
	}},
	{route: "GET /api/v1/contacts/{id}/timeline", who: leads, req: func(f *fx) req { return get("/api/v1/contacts/%d/timeline", f.contact()) }},
	{route: "GET /api/v1/contacts/{id}/score", who: leads, req: func(f *fx) req { return get("/api/v1/contacts/%d/score", f.contact()) }},
	{route: "POST /api/v1/contacts/{id}/qualify", who: leads, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/contacts/%d/qualify", f.mql()), `{"budget":"20k","authority":"VP","need":"forecasting","timeline":"Q3"}`)
	}},
	{route: "POST /api/v1/contacts/{id}/disqualify", who: leads, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/contacts/%d/disqualify", f.mql()), `{"reason":"other"}`)
	}},
	{route: "POST /api/v1/contacts/{id}/nurture", who: leads, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/contacts/%d/nurture", f.mql()), `{"note":"next year"}`)
	}},
	{route: "POST /api/v1/contacts/{id}/meeting-booked", who: leads, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/contacts/%d/meeting-booked", f.mql()), `{"subject":"Demo"}`)
	}},
	{route: "GET /api/v1/deals", who: staff, req: func(f *fx) req { return get("/api/v1/deals") }},
	{route: "POST /api/v1/deals", who: staff, req: func(f *fx) req {
		return call("POST", "/api/v1/deals", fmt.Sprintf(`{"name":%q,"pipeline":"digital"}`, f.uniq("API deal ")))
	}},
	{route: "GET /api/v1/deals/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/deals/%d", f.deal()) }},
	{route: "PATCH /api/v1/deals/{id}", who: staff, req: func(f *fx) req { return call("PATCH", fmt.Sprintf("/api/v1/deals/%d", f.deal()), `{"amount":150000}`) }},
	{route: "DELETE /api/v1/deals/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/deals/%d", f.deal()), "") }},
	{route: "GET /api/v1/deals/{id}/timeline", who: staff, req: func(f *fx) req { return get("/api/v1/deals/%d/timeline", f.deal()) }},
	{route: "GET /api/v1/deals/{id}/committee", who: staff, req: func(f *fx) req { return get("/api/v1/deals/%d/committee", f.deal()) }},
	{route: "PUT /api/v1/deals/{id}/committee/{contact_id}", who: staff, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/deals/%d/committee/%d", f.deal(), f.otherContact()), `{"role":"legal","signoff":"approved"}`)
	}},
	{route: "DELETE /api/v1/deals/{id}/committee/{contact_id}", who: staff, req: func(f *fx) req {
		d, c := f.committee()
		return call("DELETE", fmt.Sprintf("/api/v1/deals/%d/committee/%d", d, c), "")
	}},
	{route: "GET /api/v1/deals/{id}/effort", who: staff, req: func(f *fx) req { return get("/api/v1/deals/%d/effort", f.deal()) }},
	{route: "GET /api/v1/activities", who: leads, req: func(f *fx) req { return get("/api/v1/activities") }},
	{route: "POST /api/v1/activities", who: leads, req: func(f *fx) req {
		return call("POST", "/api/v1/activities", fmt.Sprintf(`{"kind":"call","subject":"Intro","contact_id":%d}`, f.contact()))
	}},
	{route: "GET /api/v1/activities/{id}", who: leads, req: func(f *fx) req { return get("/api/v1/activities/%d", f.activity()) }},
	{route: "PATCH /api/v1/activities/{id}", who: leads, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/activities/%d", f.activity()), `{"subject":"Follow up on pricing"}`)
	}},
	{route: "DELETE /api/v1/activities/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/activities/%d", f.activity()), "") }},
	{route: "GET /api/v1/custom-fields", who: members, req: func(f *fx) req { return get("/api/v1/custom-fields") }},
	{route: "POST /api/v1/custom-fields", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/custom-fields", fmt.Sprintf(`{"object_type":"contact","key":%q,"type":"text"}`, f.uniq("cf_")))
	}},
	{route: "DELETE /api/v1/custom-fields/{id}", who: managers, req: func(f *fx) req {
		return call("DELETE", fmt.Sprintf("/api/v1/custom-fields/%d", f.customField()), "")
	}},

	// ---- API: integration secrets (admins).
	{route: "GET /api/v1/api-keys", who: admins, req: func(f *fx) req { return get("/api/v1/api-keys") }},
	{route: "POST /api/v1/api-keys", who: admins, req: func(f *fx) req {
		return call("POST", "/api/v1/api-keys", fmt.Sprintf(`{"name":%q,"role":"ae"}`, f.uniq("Key ")))
	}},
	{route: "DELETE /api/v1/api-keys/{id}", who: admins, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/api-keys/%d", f.apiKey()), "") }},

	// ---- API: scoring, mail, routing, pipelines, assignment.
	{route: "POST /api/v1/events", who: staff, req: func(f *fx) req {
		return call("POST", "/api/v1/events", fmt.Sprintf(`{"events":[{"contact_id":%d,"kind":"page_view"}]}`, f.contact()))
	}},
	{route: "GET /api/v1/scoring/config", who: staff, req: func(f *fx) req { return get("/api/v1/scoring/config") }},
	{route: "PUT /api/v1/scoring/config", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/scoring/config", `{"half_life_seconds":1209600,"mql_threshold":50,"event_weights":{"page_view":1,"pricing_page_view":10},"fit_rules":[]}`)
	}},
	{route: "GET /api/v1/mail/sender", who: staff, req: func(f *fx) req { return get("/api/v1/mail/sender") }},
	{route: "PUT /api/v1/mail/sender", who: admins, req: func(f *fx) req {
		return call("PUT", "/api/v1/mail/sender", `{"from_name":"Ada","from_address":"ada@sender.example","postal_address":"1 Engine St, London"}`)
	}},
	{route: "GET /api/v1/mail/sends", who: staff, req: func(f *fx) req { return get("/api/v1/mail/sends") }},
	{route: "GET /api/v1/mail/imap", who: admins, req: func(f *fx) req { return get("/api/v1/mail/imap") }},
	{route: "PUT /api/v1/mail/imap", who: admins, req: func(f *fx) req { return call("PUT", "/api/v1/mail/imap", imapJSON) }},
	{route: "POST /api/v1/mail/imap/test", who: admins, req: func(f *fx) req { return call("POST", "/api/v1/mail/imap/test", imapJSON) }},
	{route: "GET /api/v1/routing/rules", who: staff, req: func(f *fx) req { return get("/api/v1/routing/rules") }},
	{route: "PUT /api/v1/routing/rules", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/routing/rules", `{"default_segment_rules":true,"default_routing_rules":true}`)
	}},
	{route: "GET /api/v1/pipelines", who: staff, req: func(f *fx) req { return get("/api/v1/pipelines") }},
	{route: "PUT /api/v1/pipelines", who: managers, req: func(f *fx) req { return call("PUT", "/api/v1/pipelines", `{"pipelines":[]}`) }},
	{route: "GET /api/v1/pools", who: staff, req: func(f *fx) req { return get("/api/v1/pools") }},
	{route: "POST /api/v1/pools", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/pools", fmt.Sprintf(`{"name":%q,"role":"ldr","capacity":3}`, f.uniq("API pool ")))
	}},
	{route: "GET /api/v1/pools/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/pools/%d", f.pool()) }},
	{route: "PATCH /api/v1/pools/{id}", who: managers, req: func(f *fx) req { return call("PATCH", fmt.Sprintf("/api/v1/pools/%d", f.pool()), `{"capacity":4}`) }},
	{route: "DELETE /api/v1/pools/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/pools/%d", f.pool()), "") }},
	{route: "PUT /api/v1/pools/{id}/members/{user_id}", who: managers, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/pools/%d/members/%d", f.pool(), f.user(model.RolePartner).ID), `{"active":true}`)
	}},
	{route: "DELETE /api/v1/pools/{id}/members/{user_id}", who: managers, req: func(f *fx) req {
		return call("DELETE", fmt.Sprintf("/api/v1/pools/%d/members/%d", f.pool(), f.user(model.RoleLDR).ID), "")
	}},
	{route: "GET /api/v1/assignment/settings", who: staff, req: func(f *fx) req { return get("/api/v1/assignment/settings") }},
	{route: "PUT /api/v1/assignment/settings", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/assignment/settings", `{"timezone":"UTC","sla_minutes":{"digital":60}}`)
	}},

	// ---- API: reports and the desk queue.
	{route: "GET /api/v1/reports/funnel", who: staff, req: func(f *fx) req { return get("/api/v1/reports/funnel") }},
	{route: "GET /api/v1/reports/disqualifications", who: staff, req: func(f *fx) req { return get("/api/v1/reports/disqualifications") }},
	{route: "GET /api/v1/reports/forecast", who: staff, req: func(f *fx) req { return get("/api/v1/reports/forecast") }},
	{route: "GET /api/v1/reports/pipeline", who: staff, req: func(f *fx) req { return get("/api/v1/reports/pipeline") }},
	{route: "GET /api/v1/desk/queue", who: leads, req: func(f *fx) req { return get("/api/v1/desk/queue?user_id=%d", f.owner.ID) }},

	// ---- API: forms, content, tracking, sequences.
	{route: "GET /api/v1/forms", who: staff, req: func(f *fx) req { return get("/api/v1/forms") }},
	{route: "POST /api/v1/forms", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/forms", fmt.Sprintf(`{"name":%q,"kind":"signup"}`, f.uniq("API form ")))
	}},
	{route: "GET /api/v1/forms/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/forms/%d", f.form()) }},
	{route: "PATCH /api/v1/forms/{id}", who: managers, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/forms/%d", f.form()), `{"redirect_url":"https://shop.example/thanks"}`)
	}},
	{route: "DELETE /api/v1/forms/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/forms/%d", f.form()), "") }},
	{route: "GET /api/v1/forms/{id}/submissions", who: staff, req: func(f *fx) req { return get("/api/v1/forms/%d/submissions", f.form()) }},
	{route: "GET /api/v1/content", who: staff, req: func(f *fx) req { return get("/api/v1/content") }},
	{route: "POST /api/v1/content", who: staff, req: func(f *fx) req {
		return call("POST", "/api/v1/content", fmt.Sprintf(`{"title":%q,"url":"https://cdn.example/g.pdf","type":"guide"}`, f.uniq("API guide ")))
	}},
	{route: "GET /api/v1/content/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/content/%d", f.asset()) }},
	{route: "PATCH /api/v1/content/{id}", who: staff, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/content/%d", f.asset()), `{"topic":"setup"}`)
	}},
	{route: "DELETE /api/v1/content/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/content/%d", f.asset()), "") }},
	{route: "GET /api/v1/content/{id}/file", who: staff, req: func(f *fx) req { return get("/api/v1/content/%d/file", f.asset()) }},
	{route: "PUT /api/v1/content/{id}/file", who: staff, req: func(f *fx) req {
		body, ctype := multipartBody(nil, "file", "cover.pdf", testPDF)
		return req{method: "PUT", path: fmt.Sprintf("/api/v1/content/%d/file", f.asset()), body: body, ctype: ctype}
	}},
	{route: "DELETE /api/v1/content/{id}/file", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/content/%d/file", f.asset()), "") }},
	{route: "GET /api/v1/tracking/sites", who: staff, req: func(f *fx) req { return get("/api/v1/tracking/sites") }},
	{route: "POST /api/v1/tracking/sites", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/tracking/sites", fmt.Sprintf(`{"name":%q,"allowed_origins":["https://www.matrix.example"]}`, f.uniq("API site ")))
	}},
	{route: "GET /api/v1/tracking/sites/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/tracking/sites/%d", f.site()) }},
	{route: "PATCH /api/v1/tracking/sites/{id}", who: managers, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/tracking/sites/%d", f.site()), `{"name":"Renamed site"}`)
	}},
	{route: "DELETE /api/v1/tracking/sites/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/tracking/sites/%d", f.site()), "") }},
	{route: "GET /api/v1/sequences", who: staff, req: func(f *fx) req { return get("/api/v1/sequences") }},
	{route: "POST /api/v1/sequences", who: staff, req: func(f *fx) req {
		return call("POST", "/api/v1/sequences", fmt.Sprintf(seqBody, f.uniq("API sequence "), "active"))
	}},
	{route: "GET /api/v1/sequences/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/sequences/%d", f.sequence()) }},
	{route: "PUT /api/v1/sequences/{id}", who: staff, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/sequences/%d", f.sequence()), fmt.Sprintf(seqBody, f.uniq("Renamed sequence "), "active"))
	}},
	{route: "DELETE /api/v1/sequences/{id}", who: staff, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/sequences/%d", f.sequence()), "") }},
	{route: "POST /api/v1/sequences/{id}/activate", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/sequences/%d/activate", f.sequenceIn("draft")), "")
	}},
	{route: "POST /api/v1/sequences/{id}/pause", who: staff, req: func(f *fx) req { return call("POST", fmt.Sprintf("/api/v1/sequences/%d/pause", f.sequence()), "") }},
	{route: "POST /api/v1/sequences/{id}/resume", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/sequences/%d/resume", f.sequenceIn("paused")), "")
	}},
	{route: "POST /api/v1/sequences/{id}/enrollments", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/sequences/%d/enrollments", f.sequence()), fmt.Sprintf(`{"contact_ids":[%d]}`, f.otherContact()))
	}},
	{route: "GET /api/v1/sequences/{id}/stats", who: staff, req: func(f *fx) req { return get("/api/v1/sequences/%d/stats", f.sequence()) }},
	{route: "GET /api/v1/enrollments", who: staff, req: func(f *fx) req { return get("/api/v1/enrollments") }},
	{route: "GET /api/v1/enrollments/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/enrollments/%d", f.enrollment("active")) }},
	{route: "POST /api/v1/enrollments/{id}/release", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/enrollments/%d/release", f.enrollment("held")), "")
	}},
	{route: "POST /api/v1/enrollments/{id}/skip", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/enrollments/%d/skip", f.enrollment("held")), "")
	}},
	{route: "POST /api/v1/enrollments/{id}/exit", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/enrollments/%d/exit", f.enrollment("active")), "")
	}},
	{route: "POST /api/v1/enrollments/{id}/pause", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/enrollments/%d/pause", f.enrollment("active")), "")
	}},
	{route: "POST /api/v1/enrollments/{id}/resume", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/enrollments/%d/resume", f.enrollment("paused")), "")
	}},

	// ---- API: audit and exports (managers).
	{route: "GET /api/v1/audit", who: managers, req: func(f *fx) req { return get("/api/v1/audit") }},
	{route: "GET /api/v1/exports/{object}", who: managers, req: func(f *fx) req { return get("/api/v1/exports/contacts") }},

	// ---- API: unit economics (admins and managers).
	{route: "GET /api/v1/economics/inputs", who: managers, req: func(f *fx) req { return get("/api/v1/economics/inputs") }},
	{route: "GET /api/v1/economics/settings", who: managers, req: func(f *fx) req { return get("/api/v1/economics/settings") }},
	{route: "PUT /api/v1/economics/settings", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/economics/settings", `{"gross_margin":0.75}`)
	}},
	{route: "GET /api/v1/economics/people-cost", who: managers, req: func(f *fx) req { return get("/api/v1/economics/people-cost") }},
	{route: "GET /api/v1/economics/market-sizing", who: managers, req: func(f *fx) req { return get("/api/v1/economics/market-sizing") }},
	{route: "PUT /api/v1/economics/market-sizing", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/economics/market-sizing", `{"currency":"USD","segments":[{"segment":"smb","accounts":1000,"annual_spend_per_account":1200000,"serviceable_share":0.3,"obtainable_share":0.1}]}`)
	}},
	{route: "GET /api/v1/economics/market-sizing/preset", who: managers, req: func(f *fx) req { return get("/api/v1/economics/market-sizing/preset") }},
	{route: "GET /api/v1/spend", who: managers, req: func(f *fx) req { return get("/api/v1/spend") }},
	{route: "POST /api/v1/spend", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/spend", `{"month":"2026-01","amount":100000,"category":"programs","channel":"Paid Search"}`)
	}},
	{route: "GET /api/v1/spend/{id}", who: managers, req: func(f *fx) req { return get("/api/v1/spend/%d", f.spend()) }},
	{route: "PATCH /api/v1/spend/{id}", who: managers, req: func(f *fx) req { return call("PATCH", fmt.Sprintf("/api/v1/spend/%d", f.spend()), `{"note":"Q1"}`) }},
	{route: "DELETE /api/v1/spend/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/spend/%d", f.spend()), "") }},
	{route: "POST /api/v1/spend/import", who: managers, req: func(f *fx) req {
		r := csvBody("month,amount,category\n2026-03,100.00,tools\n")
		r.method, r.path = "POST", "/api/v1/spend/import?filename=ledger.csv"
		return r
	}},
	{route: "GET /api/v1/spend/summary", who: managers, req: func(f *fx) req { return get("/api/v1/spend/summary") }},
	{route: "GET /api/v1/spend/allocation-rules", who: managers, req: func(f *fx) req { return get("/api/v1/spend/allocation-rules") }},
	{route: "PUT /api/v1/spend/allocation-rules", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/spend/allocation-rules", `{"rules":[{"category":"tools","channel":"","shares":[{"segment":"smb","motion":"digital","share":0.6},{"segment":"mid_market","motion":"digital","share":0.4}]}]}`)
	}},
	{route: "GET /api/v1/cost-profiles", who: managers, req: func(f *fx) req { return get("/api/v1/cost-profiles") }},
	{route: "POST /api/v1/cost-profiles", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/cost-profiles", fmt.Sprintf(profileBody, f.uniq("API profile ")))
	}},
	{route: "GET /api/v1/cost-profiles/{id}", who: managers, req: func(f *fx) req { return get("/api/v1/cost-profiles/%d", f.profile()) }},
	{route: "PUT /api/v1/cost-profiles/{id}", who: managers, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/cost-profiles/%d", f.profile()), fmt.Sprintf(profileBody, f.uniq("Renamed profile ")))
	}},
	{route: "DELETE /api/v1/cost-profiles/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/cost-profiles/%d", f.profile()), "") }},
	{route: "PUT /api/v1/cost-profiles/{id}/headcount", who: managers, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/cost-profiles/%d/headcount", f.profile()), `{"months":{"2026-01":2}}`)
	}},
	{route: "GET /api/v1/staffing/scenarios", who: managers, req: func(f *fx) req { return get("/api/v1/staffing/scenarios") }},
	{route: "POST /api/v1/staffing/scenarios", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/staffing/scenarios", fmt.Sprintf(scenarioBody, f.uniq("API scenario ")))
	}},
	{route: "GET /api/v1/staffing/scenarios/{id}", who: managers, req: func(f *fx) req { return get("/api/v1/staffing/scenarios/%d", f.scenario()) }},
	{route: "PUT /api/v1/staffing/scenarios/{id}", who: managers, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/staffing/scenarios/%d", f.scenario()), fmt.Sprintf(scenarioBody, f.uniq("Renamed scenario ")))
	}},
	{route: "DELETE /api/v1/staffing/scenarios/{id}", who: managers, req: func(f *fx) req {
		return call("DELETE", fmt.Sprintf("/api/v1/staffing/scenarios/%d", f.scenario()), "")
	}},
	{route: "GET /api/v1/staffing/comparison", who: managers, req: func(f *fx) req { return get("/api/v1/staffing/comparison") }},
	{route: "POST /api/v1/staffing/article-example", who: managers, req: func(f *fx) req { return call("POST", "/api/v1/staffing/article-example", "") }},
	{route: "GET /api/v1/economics/metrics", who: managers, req: func(f *fx) req { return get("/api/v1/economics/metrics") }},
	{route: "GET /api/v1/economics/cac", who: managers, req: func(f *fx) req { return get("/api/v1/economics/cac") }},
	{route: "GET /api/v1/economics/mrr", who: managers, req: func(f *fx) req { return get("/api/v1/economics/mrr") }},
	{route: "GET /api/v1/economics/ltv", who: managers, req: func(f *fx) req { return get("/api/v1/economics/ltv") }},
	{route: "GET /api/v1/economics/matrix", who: managers, req: func(f *fx) req { return get("/api/v1/economics/matrix") }},
	{route: "GET /api/v1/economics/cohorts", who: managers, req: func(f *fx) req { return get("/api/v1/economics/cohorts") }},
	{route: "GET /api/v1/economics/funnel", who: managers, req: func(f *fx) req { return get("/api/v1/economics/funnel") }},
	{route: "GET /api/v1/economics/recommendations", who: managers, req: func(f *fx) req { return get("/api/v1/economics/recommendations") }},
	{route: "GET /api/v1/economics/cost-to-close", who: managers, req: func(f *fx) req {
		return get("/api/v1/economics/cost-to-close?deal_id=%d", f.highTouchDeal())
	}},
	{route: "GET /api/v1/economics/alerts", who: managers, req: func(f *fx) req { return get("/api/v1/economics/alerts") }},
	{route: "POST /api/v1/economics/alerts/{id}/acknowledge", who: managers, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/economics/alerts/%d/acknowledge", f.alert()), "")
	}},

	// ---- API: partners (what they cost: admins and managers) and the AE's
	// decision on an SQL: the receiving AE, the deal's owner (here the
	// caller), an admin or a manager. A key acts with its role but is not its
	// member in a decision, so by key only an admin's or a manager's decides.
	{route: "GET /api/v1/partners", who: managers, req: func(f *fx) req { return get("/api/v1/partners") }},
	{route: "POST /api/v1/partners", who: managers, req: func(f *fx) req {
		return call("POST", "/api/v1/partners", fmt.Sprintf(`{"name":%q,"start_month":"2026-01","fee_per_sql":40000}`, f.uniq("API SDR Co ")))
	}},
	{route: "GET /api/v1/partners/statements", who: managers, req: func(f *fx) req { return get("/api/v1/partners/statements?month=2026-01") }},
	{route: "GET /api/v1/partners/{id}", who: managers, req: func(f *fx) req { return get("/api/v1/partners/%d", f.partner()) }},
	{route: "PUT /api/v1/partners/{id}", who: managers, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/partners/%d", f.partner()), fmt.Sprintf(`{"name":%q,"start_month":"2026-02","fee_per_meeting":15000}`, f.uniq("Renamed SDR Co ")))
	}},
	{route: "DELETE /api/v1/partners/{id}", who: managers, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/partners/%d", f.partner()), "") }},
	{route: "GET /api/v1/partners/{id}/statement", who: managers, req: func(f *fx) req { return get("/api/v1/partners/%d/statement?month=2026-01", f.partner()) }},
	{route: "GET /api/v1/partners/{id}/actuals", who: managers, req: func(f *fx) req { return get("/api/v1/partners/%d/actuals", f.partner()) }},
	{route: "GET /api/v1/handoffs/{id}", who: staff, req: func(f *fx) req {
		_, h := f.handoff()
		return get("/api/v1/handoffs/%d", h)
	}},
	{route: "POST /api/v1/handoffs/{id}/accept", who: managers, whoSession: staff, req: func(f *fx) req {
		_, h := f.handoff()
		return call("POST", fmt.Sprintf("/api/v1/handoffs/%d/accept", h), `{"note":"good fit"}`)
	}},
	{route: "POST /api/v1/handoffs/{id}/reject", who: managers, whoSession: staff, req: func(f *fx) req {
		_, h := f.handoff()
		return call("POST", fmt.Sprintf("/api/v1/handoffs/%d/reject", h), `{"note":"student project"}`)
	}},

	// ---- API: imports.
	{route: "POST /api/v1/imports", who: staff, req: func(f *fx) req {
		r := csvBody("email\n" + f.uniq("imp") + "@matrix.example\n")
		r.method, r.path = "POST", "/api/v1/imports?object=contacts&filename=people.csv"
		return r
	}},
	{route: "GET /api/v1/imports", who: staff, req: func(f *fx) req { return get("/api/v1/imports") }},
	{route: "GET /api/v1/imports/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/imports/%d", f.importID()) }},
	{route: "GET /api/v1/imports/{id}/errors", who: staff, req: func(f *fx) req { return get("/api/v1/imports/%d/errors", f.importID()) }},
	{route: "GET /api/v1/imports/{id}/errors.csv", who: staff, req: func(f *fx) req { return get("/api/v1/imports/%d/errors.csv", f.importID()) }},

	// ---- API: customer success (the CSM actions are narrowed by the service).
	{route: "GET /api/v1/customers/{id}/handoff", who: staff, req: func(f *fx) req { return get("/api/v1/customers/%d/handoff", f.customer()) }},
	{route: "PATCH /api/v1/customers/{id}/handoff", who: staff, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/customers/%d/handoff", f.customer()), `{"goals":"Live in 3 regions"}`)
	}},
	{route: "POST /api/v1/customers/{id}/handoff/accept", who: success, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/customers/%d/handoff/accept", f.readyCustomer()), "")
	}},
	{route: "PATCH /api/v1/customers/{id}/handoff/items/{item_id}", who: staff, req: func(f *fx) req {
		a := f.customer()
		return call("PATCH", fmt.Sprintf("/api/v1/customers/%d/handoff/items/%d", a, f.handoffItem(a)), `{"done":true}`)
	}},
	{route: "GET /api/v1/customers/{id}/health", who: staff, req: func(f *fx) req { return get("/api/v1/customers/%d/health", f.customer()) }},
	{route: "POST /api/v1/customers/{id}/usage", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/customers/%d/usage", f.customer()), `{"events":[{"kind":"login","quantity":5}]}`)
	}},
	{route: "POST /api/v1/customers/{id}/nps", who: staff, req: func(f *fx) req {
		return call("POST", fmt.Sprintf("/api/v1/customers/%d/nps", f.customer()), `{"score":9}`)
	}},
	{route: "PUT /api/v1/customers/{id}/support", who: staff, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/customers/%d/support", f.customer()), `{"open_items":1}`)
	}},
	{route: "PUT /api/v1/customers/{id}/sentiment", who: success, req: func(f *fx) req {
		return call("PUT", fmt.Sprintf("/api/v1/customers/%d/sentiment", f.customer()), `{"sentiment":"positive","note":"Happy champion"}`)
	}},
	{route: "GET /api/v1/success/queue", who: staff, req: func(f *fx) req { return get("/api/v1/success/queue") }},
	{route: "GET /api/v1/success/health-settings", who: staff, req: func(f *fx) req { return get("/api/v1/success/health-settings") }},
	{route: "PUT /api/v1/success/health-settings", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/success/health-settings", `{"usage":{"weight":25,"window_days":30,"target":1000}}`)
	}},
	{route: "GET /api/v1/success/checklists", who: staff, req: func(f *fx) req { return get("/api/v1/success/checklists") }},
	{route: "PUT /api/v1/success/checklists", who: managers, req: func(f *fx) req {
		return call("PUT", "/api/v1/success/checklists", `{"templates":{"digital":[{"title":"Kickoff call"}],"high_touch":[{"title":"Kickoff call"}]}}`)
	}},

	// ---- API: subscriptions, customers, renewals (what customers pay: not LDRs).
	{route: "GET /api/v1/subscriptions", who: staff, req: func(f *fx) req { return get("/api/v1/subscriptions") }},
	{route: "POST /api/v1/subscriptions", who: sellers, req: func(f *fx) req {
		return call("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"account_id":%d,"unit_price":12000,"interval":"month"}`, f.otherAccount()))
	}},
	{route: "GET /api/v1/subscriptions/{id}", who: staff, req: func(f *fx) req {
		_, s := f.sharedSubscription()
		return get("/api/v1/subscriptions/%d", s)
	}},
	{route: "PATCH /api/v1/subscriptions/{id}", who: sellers, req: func(f *fx) req {
		_, s := f.subscription()
		return call("PATCH", fmt.Sprintf("/api/v1/subscriptions/%d", s), `{"quantity":7}`)
	}},
	{route: "POST /api/v1/subscriptions/{id}/cancel", who: sellers, req: func(f *fx) req {
		_, s := f.subscription()
		return call("POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", s), `{}`)
	}},
	{route: "POST /api/v1/subscriptions/{id}/reactivate", who: sellers, req: func(f *fx) req {
		_, s := f.endedSubscription()
		return call("POST", fmt.Sprintf("/api/v1/subscriptions/%d/reactivate", s), `{}`)
	}},
	{route: "GET /api/v1/customers", who: staff, req: func(f *fx) req { return get("/api/v1/customers") }},
	{route: "GET /api/v1/customers/{id}", who: staff, req: func(f *fx) req { return get("/api/v1/customers/%d", f.customer()) }},
	{route: "GET /api/v1/renewals", who: staff, req: func(f *fx) req { return get("/api/v1/renewals") }},
	{route: "POST /api/v1/renewals/{id}/outcome", who: sellers, req: func(f *fx) req {
		_, r := f.renewal()
		return call("POST", fmt.Sprintf("/api/v1/renewals/%d/outcome", r), `{"outcome":"renew"}`)
	}},
	{route: "GET /api/v1/renewals/settings", who: staff, req: func(f *fx) req { return get("/api/v1/renewals/settings") }},
	{route: "PUT /api/v1/renewals/settings", who: managers, req: func(f *fx) req { return call("PUT", "/api/v1/renewals/settings", `{"renewal_lead_days":90}`) }},
	{route: "GET /api/v1/reports/mrr", who: staff, req: func(f *fx) req { return get("/api/v1/reports/mrr") }},

	// ---- API: webhooks and the sending pause (admins).
	{route: "GET /api/v1/webhooks", who: admins, req: func(f *fx) req { return get("/api/v1/webhooks") }},
	{route: "POST /api/v1/webhooks", who: admins, req: func(f *fx) req {
		return call("POST", "/api/v1/webhooks", fmt.Sprintf(`{"url":%q}`, f.s.hooks.URL+"/"+f.uniq("api")))
	}},
	{route: "GET /api/v1/webhooks/{id}", who: admins, req: func(f *fx) req { return get("/api/v1/webhooks/%d", f.webhook()) }},
	{route: "PATCH /api/v1/webhooks/{id}", who: admins, req: func(f *fx) req {
		return call("PATCH", fmt.Sprintf("/api/v1/webhooks/%d", f.webhook()), `{"description":"Warehouse"}`)
	}},
	{route: "DELETE /api/v1/webhooks/{id}", who: admins, req: func(f *fx) req { return call("DELETE", fmt.Sprintf("/api/v1/webhooks/%d", f.webhook()), "") }},
	{route: "POST /api/v1/webhooks/{id}/test", who: admins, req: func(f *fx) req { return call("POST", fmt.Sprintf("/api/v1/webhooks/%d/test", f.webhook()), "") }},
	{route: "GET /api/v1/webhooks/{id}/deliveries", who: admins, req: func(f *fx) req { return get("/api/v1/webhooks/%d/deliveries", f.webhook()) }},
	{route: "POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", who: admins, req: func(f *fx) req {
		h, d := f.delivery()
		return call("POST", fmt.Sprintf("/api/v1/webhooks/%d/deliveries/%d/redeliver", h, d), "")
	}},
	{route: "GET /api/v1/sending", who: admins, req: func(f *fx) req { return get("/api/v1/sending") }},
	{route: "POST /api/v1/sending/resume", who: admins, req: func(f *fx) req { return call("POST", "/api/v1/sending/resume", "") }},
}

const imapJSON = `{"host":"127.0.0.1","port":1,"tls":"none","username":"replies@matrix.example","password":"imap-secret","mailbox":"INBOX"}`

func imapForm() map[string][]string {
	return vals("host", "127.0.0.1", "port", "1", "tls", "none", "username", "replies@matrix.example", "password", "imap-secret", "mailbox", "INBOX", "enabled", "on")
}

var staticRE = regexp.MustCompile(`/static/[A-Za-z0-9._-]+`)

// staticAsset is the URL of a static file the login page links.
func (f *fx) staticAsset() string {
	r := f.s.browser(f.t, nil, get("/login"), nil)
	m := staticRE.FindString(r.body)
	if m == "" {
		f.t.Fatalf("no static asset on the login page: %s", r)
	}
	return m
}

// routeOf indexes the matrix.
func routeOf(t *testing.T) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	for _, e := range matrix {
		if _, dup := out[e.route]; dup {
			t.Fatalf("%s is in the matrix twice", e.route)
		}
		out[e.route] = e
	}
	return out
}
