package web

import (
	"errors"
	"github.com/rightsize/rightsize/internal/subscriptions"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
)

type accountRow struct {
	model.Account
	Owner string
}

type accountListData struct {
	L            listReq
	Rows         []accountRow
	Pager        pager
	FilterErrors map[string]string
	Error        string
	Segments     []optGroup
	Motions      []optGroup
}

func (u *UI) accountList(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	lr := parseList("/accounts", r.URL.Query(), "segment", "motion", "industry", "employees_min")
	var fs []store.Filter
	switch seg := lr.Filters["segment"]; seg {
	case "":
	case "none":
		fs = append(fs, store.Filter{Field: "segment", Op: "empty", Value: "true"})
	default:
		fs = eq(fs, "segment", seg)
	}
	fs = eq(fs, "motion", lr.Filters["motion"])
	fs = eq(fs, "industry", lr.Filters["industry"])
	if v := lr.Filters["employees_min"]; v != "" {
		fs = append(fs, store.Filter{Field: "employees", Op: "gte", Value: v})
	}
	d := accountListData{L: lr, Segments: segmentFilterOptions(), Motions: opts(model.Motions, "Any motion")}
	page, err := u.q(s).ListAccounts(ctx, s.WS(), lr.params(fs), nil)
	status := http.StatusOK
	if err != nil {
		if d.FilterErrors, d.Error, err = listError(err, map[string]string{"employees": "employees_min", "segment": "segment", "industry": "industry", "motion": "motion"}); err != nil {
			u.fail(w, r, s, err)
			return
		}
		status = http.StatusBadRequest
	}
	_, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, a := range page.Items {
		row := accountRow{Account: a}
		if a.OwnerID != nil {
			row.Owner = owners[*a.OwnerID]
		}
		d.Rows = append(d.Rows, row)
	}
	d.Pager = newPager(lr, len(page.Items), page.Total, page.NextCursor, "accounts")
	u.render(w, r, status, "accounts", view{Title: "Accounts", Section: "accounts", S: s, D: d})
}

func segmentFilterOptions() []optGroup {
	g := opts(model.Segments, "Any segment")
	g[0].Options = append(g[0].Options, option{"none", "Not segmented"})
	return g
}

type accountPage struct {
	A             model.Account
	Owner         string
	Contacts      []model.Contact
	ContactsTotal int64
	Deals         []model.Deal
	DealsTotal    int64
	OpenPipeline  []moneyTotal
	Timeline      []timelineItem
	Activity      *form
	Merge         *form
	Notice        string
	// Why answers "why is this account in this motion?" from the current rules;
	// Decisions are the recorded routing changes, newest first.
	Why       *routing.Decision
	Decisions []model.RoutingDecision
	// Customer is set when the account has a subscription: the page links
	// to its customer page. Otherwise a writer may add the first subscription
	// here (CanAddSub); SubErr is that form's refusal.
	Customer  bool
	CanAddSub bool
	SubErr    string
	Today     string
}

type moneyTotal struct {
	Currency string
	Amount   int64
	Count    int64
}

func (u *UI) accountShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	u.showAccount(w, r, s, id, http.StatusOK, nil, nil)
}

// showAccount renders an account page; act and merge carry a form being
// corrected after a validation error.
func (u *UI) showAccount(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act, merge *form) {
	u.renderAccount(w, r, s, id, status, act, merge, "")
}

// showAccountWith renders the account page with a refused first subscription.
func (u *UI) showAccountWith(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, subErr string) {
	u.renderAccount(w, r, s, id, status, nil, nil, subErr)
}

func (u *UI) renderAccount(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act, merge *form, subErr string) {
	ctx := r.Context()
	q := u.q(s)
	a, err := q.GetAccount(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	byAccount := []store.Filter{{Field: "account_id", Op: "eq", Value: formatInt(id)}}
	contacts, err := q.ListContacts(ctx, s.WS(), store.ListParams{Filters: byAccount, Sort: "-created_at", Limit: 25, Count: true}, nil)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	deals, err := q.ListDeals(ctx, s.WS(), store.ListParams{Filters: byAccount, Sort: "-created_at", Limit: 25, Count: true}, nil)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	tl, err := u.timeline(ctx, s, "account", "account_id", id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := accountPage{A: a, Contacts: contacts.Items, Deals: deals.Items, Timeline: tl, Activity: act, Merge: merge}
	if contacts.Total != nil {
		p.ContactsTotal = *contacts.Total
	}
	if deals.Total != nil {
		p.DealsTotal = *deals.Total
	}
	if a.OwnerID != nil {
		p.Owner = owners[*a.OwnerID]
	}
	p.OpenPipeline = openTotals(deals.Items)
	if u.d.Routing != nil {
		why, err := u.d.Routing.Explain(ctx, s.WS(), id)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		p.Why = &why
		if p.Decisions, err = u.d.Routing.Decisions(ctx, s.WS(), id); err != nil {
			u.fail(w, r, s, err)
			return
		}
		if len(p.Decisions) > 5 {
			p.Decisions = p.Decisions[:5]
		}
	}
	if u.d.Subscriptions != nil {
		if p.Customer, err = u.d.Subscriptions.IsCustomer(ctx, s.WS(), id); err != nil {
			u.fail(w, r, s, err)
			return
		}
		p.CanAddSub = !p.Customer && subscriptions.CanWrite(s.Role)
		p.SubErr, p.Today = subErr, u.d.Subscriptions.Today()
	}
	if p.Activity == nil {
		p.Activity = activityForm("account:"+formatInt(id), map[string]*int64{"account_id": &a.ID})
	}
	if p.Merge == nil {
		p.Merge = accountMergeForm(id)
	}
	u.render(w, r, status, "account", view{Title: a.Name, Section: "accounts", S: s, D: p, Notice: notice(r, "Account")})
}

func openTotals(deals []model.Deal) []moneyTotal {
	var out []moneyTotal
	for _, d := range deals {
		if d.Outcome != "" {
			continue
		}
		found := false
		for i := range out {
			if out[i].Currency == d.Currency {
				out[i].Amount += d.Amount
				out[i].Count++
				found = true
			}
		}
		if !found {
			out = append(out, moneyTotal{Currency: d.Currency, Amount: d.Amount, Count: 1})
		}
	}
	return out
}

func accountFields(owners, segments []optGroup) []field {
	return []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Autofocus: true, Placeholder: "Acme Corporation"},
		{Name: "domain", Label: "Domain", Type: "text", Placeholder: "acme.com", Hint: "Used to match contacts and to find duplicates."},
		{Name: "industry", Label: "Industry", Type: "text", Placeholder: "Software"},
		{Name: "region", Label: "Region", Type: "text", Placeholder: "EMEA"},
		{Name: "employees", Label: "Employees", Type: "number"},
		{Name: "annual_revenue", Label: "Annual revenue", Type: "money", Placeholder: "1,200,000.00"},
		{Name: "budget", Label: "Budget", Type: "money", Placeholder: "50,000.00"},
		{Name: "currency", Label: "Currency", Type: "text", Placeholder: "USD", Hint: "ISO 4217 code of the amounts above."},
		{Name: "segment", Label: "Segment", Type: "select", Groups: segments},
		{Name: "motion", Label: "Motion", Type: "select", Groups: opts(model.Motions, "Not set")},
		{Name: "owner_id", Label: "Owner", Type: "select", Groups: owners},
	}
}

func (u *UI) accountForm(r *http.Request, s *session, action, submit, cancel string) (*form, error) {
	ms, _, err := u.members(r.Context(), s)
	if err != nil {
		return nil, err
	}
	// Offer the default segments, routing's catch-all, and every segment the
	// workspace's accounts are in (custom segment rules), so saving the form never
	// clears a segment it did not list.
	inUse, err := u.q(s).CountBy(r.Context(), s.WS(), "accounts", "segment")
	if err != nil {
		return nil, err
	}
	segs := append([]string{}, model.Segments...)
	segs = append(segs, "unknown")
	var extra []string
	for seg := range inUse {
		if seg != "" && !slices.Contains(segs, seg) {
			extra = append(extra, seg)
		}
	}
	sort.Strings(extra)
	return newForm(action, submit, cancel, accountFields(ownerOptions(ms), opts(append(segs, extra...), "Not set (routing decides)"))), nil
}

type formPage struct {
	Heading string
	Sub     string
	F       *form
}

func (u *UI) accountNew(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := u.accountForm(r, s, "/accounts", "Create account", "/accounts")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ws, err := u.q(s).GetWorkspace(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.Values["currency"] = ws.Currency
	u.render(w, r, http.StatusOK, "form", view{Title: "New account", Section: "accounts", S: s, D: formPage{Heading: "New account", F: f}})
}

func (u *UI) accountCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := u.accountForm(r, s, "/accounts", "Create account", "/accounts")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	fields, ok := f.crmFields(f.Values["currency"])
	if f.Values["currency"] == "" {
		delete(fields, "currency") // the workspace's currency
	}
	if ok {
		a, err := u.d.CRM.CreateAccount(r.Context(), s.Actor(), fields)
		if err == nil {
			redirect(w, r, "/accounts/"+formatInt(a.ID)+"?notice=created")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "New account", Section: "accounts", S: s, D: formPage{Heading: "New account", F: f}})
}

func (u *UI) accountEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	a, err := u.q(s).GetAccount(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	self := "/accounts/" + formatInt(id)
	f, err := u.accountForm(r, s, self, "Save changes", self)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := f.Values
	v["name"], v["domain"], v["industry"], v["region"] = a.Name, a.Domain, a.Industry, a.Region
	v["employees"] = idString(a.Employees)
	v["annual_revenue"], v["budget"] = majorPtr(a.AnnualRevenue, a.Currency), majorPtr(a.Budget, a.Currency)
	v["currency"], v["segment"], v["motion"], v["owner_id"] = a.Currency, a.Segment, a.Motion, idString(a.OwnerID)
	u.render(w, r, http.StatusOK, "form", view{Title: "Edit " + a.Name, Section: "accounts", S: s, D: formPage{Heading: "Edit account", Sub: a.Name, F: f}})
}

func majorPtr(p *int64, cur string) string {
	if p == nil {
		return ""
	}
	return majorUnits(*p, cur)
}

func (u *UI) accountUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	self := "/accounts/" + formatInt(id)
	f, err := u.accountForm(r, s, self, "Save changes", self)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	if fields, ok := f.crmFields(f.Values["currency"]); ok {
		_, err := u.d.CRM.UpdateAccount(r.Context(), s.Actor(), id, fields)
		if err == nil {
			redirect(w, r, self+"?notice=saved")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "Edit account", Section: "accounts", S: s, D: formPage{Heading: "Edit account", Sub: f.Values["name"], F: f}})
}

func accountMergeForm(id int64) *form {
	return newForm("/accounts/"+formatInt(id)+"/merge", "Review merge", "", []field{
		{Name: "other", Label: "Duplicate account", Type: "text", Placeholder: "id or domain, e.g. 42 or acme.io", Hint: "Its contacts, deals and activities move here; it is then deleted."},
	})
}

// accountMerge is two steps: the first POST finds the duplicate and shows what
// will happen; the confirmation POST (confirm=1, loser_id) merges.
func (u *UI) accountMerge(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	winner, err := u.q(s).GetAccount(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := accountMergeForm(id)
	f.read(r)
	if r.PostFormValue("confirm") == "1" {
		loserID, _ := strconv.ParseInt(r.PostFormValue("loser_id"), 10, 64)
		_, err := u.d.CRM.MergeAccounts(ctx, s.Actor(), id, loserID)
		if err == nil {
			redirect(w, r, "/accounts/"+formatInt(id)+"?notice=merged")
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			f.Errors["other"] = "that account no longer exists (already merged or deleted?)"
		} else if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showAccount(w, r, s, id, http.StatusUnprocessableEntity, nil, f)
		return
	}
	loser, err := u.findAccount(r, s, f.Values["other"])
	if err == nil && loser.ID == id {
		err = &store.FieldError{Field: "other", Message: "this is the account you are on; pick its duplicate"}
	}
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showAccount(w, r, s, id, http.StatusUnprocessableEntity, nil, f)
		return
	}
	u.render(w, r, http.StatusOK, "merge", view{Title: "Merge accounts", Section: "accounts", S: s, D: mergePage{
		Noun:     "account",
		Action:   "/accounts/" + formatInt(id) + "/merge",
		LoserID:  loser.ID,
		Cancel:   "/accounts/" + formatInt(id),
		Winner:   accountSummary(winner),
		Loser:    accountSummary(loser),
		Outcomes: []string{"Contacts, deals and activities of the duplicate move to " + winner.Name + ".", "Fields that are empty here are filled from the duplicate; nothing here is overwritten.", "The duplicate is deleted; its history is kept on this account and the merge is audited."},
	}})
}

// findAccount resolves "42" or "acme.io" to an account of the workspace.
func (u *UI) findAccount(r *http.Request, s *session, ref string) (model.Account, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return model.Account{}, &store.FieldError{Field: "other", Message: "enter the id or domain of the duplicate"}
	}
	q := u.q(s)
	var a model.Account
	var err error
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		a, err = q.GetAccount(r.Context(), s.WS(), n)
	} else {
		dom, derr := crm.NormalizeDomain(ref)
		if derr != nil || dom == "" {
			return a, &store.FieldError{Field: "other", Message: "not an id or a domain"}
		}
		a, err = q.AccountByDomain(r.Context(), s.WS(), dom)
	}
	if errors.Is(err, store.ErrNotFound) {
		return a, &store.FieldError{Field: "other", Message: "no account with that id or domain in this workspace"}
	}
	return a, err
}

type mergePage struct {
	Noun     string
	Action   string
	LoserID  int64
	Cancel   string
	Winner   summary
	Loser    summary
	Outcomes []string
}

// summary is a record reduced to a heading and label/value rows.
type summary struct {
	Title string
	Sub   string
	Href  string
	Rows  [][2]string
}

func accountSummary(a model.Account) summary {
	return summary{Title: a.Name, Sub: a.Domain, Href: "/accounts/" + formatInt(a.ID), Rows: [][2]string{
		{"Id", formatInt(a.ID)},
		{"Industry", a.Industry},
		{"Employees", formatNumberPtr(a.Employees)},
		{"Segment", humanize(a.Segment)},
		{"Created", formatDate(a.CreatedAt)},
	}}
}

// notice maps a ?notice= key to a fixed message about a noun ("Contact");
// user input is never echoed.
func notice(r *http.Request, noun string) string {
	switch r.URL.Query().Get("notice") {
	case "created":
		return noun + " created."
	case "saved":
		return "Changes to this " + strings.ToLower(noun) + " saved."
	case "merged":
		return "Duplicate merged. Its records now live here."
	case "activity":
		return "Activity logged."
	case "revoked":
		return "API key revoked."
	case "accepted":
		return "SQL accepted: it counts as delivered this month."
	case "rejected":
		return "SQL rejected: it will not be counted or billed."
	}
	return ""
}
