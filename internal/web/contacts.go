package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

type contactRow struct {
	model.Contact
	Account string
	Owner   string
}

// Name is the display name, falling back to the email.
func (c contactRow) Name() string { return contactName(c.Contact) }

func contactName(c model.Contact) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	return c.Email
}

type contactListData struct {
	L            listReq
	Rows         []contactRow
	Pager        pager
	FilterErrors map[string]string
	Error        string
	Stages       []optGroup
	Owners       []optGroup
}

func (u *UI) contactList(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	lr := parseList("/contacts", r.URL.Query(), "lifecycle_stage", "owner_id", "source")
	var fs []store.Filter
	fs = eq(fs, "lifecycle_stage", lr.Filters["lifecycle_stage"])
	switch o := lr.Filters["owner_id"]; o {
	case "":
	case "none":
		fs = append(fs, store.Filter{Field: "owner_id", Op: "empty", Value: "true"})
	default:
		fs = eq(fs, "owner_id", o)
	}
	fs = eq(fs, "source", lr.Filters["source"])
	ms, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ownerOpts := ownerOptions(ms)
	ownerOpts[0].Options[0] = option{"", "Any owner"}
	ownerOpts[0].Options = append(ownerOpts[0].Options, option{"none", "Unassigned"})
	d := contactListData{L: lr, Stages: opts(model.LifecycleStages, "Any stage"), Owners: ownerOpts}
	page, err := u.q(s).ListContacts(ctx, s.WS(), lr.params(fs), nil)
	status := http.StatusOK
	if err != nil {
		if d.FilterErrors, d.Error, err = listError(err, map[string]string{"lifecycle_stage": "lifecycle_stage", "owner_id": "owner_id", "source": "source"}); err != nil {
			u.fail(w, r, s, err)
			return
		}
		status = http.StatusBadRequest
	}
	var ids []int64
	for _, c := range page.Items {
		if c.AccountID != nil {
			ids = append(ids, *c.AccountID)
		}
	}
	names, err := u.accountNames(ctx, s, ids)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, c := range page.Items {
		row := contactRow{Contact: c}
		if c.AccountID != nil {
			row.Account = names[*c.AccountID]
		}
		if c.OwnerID != nil {
			row.Owner = owners[*c.OwnerID]
		}
		d.Rows = append(d.Rows, row)
	}
	d.Pager = newPager(lr, len(page.Items), page.Total, page.NextCursor, "contacts")
	u.render(w, r, status, "contacts", view{Title: "Contacts", Section: "contacts", S: s, D: d})
}

type contactPage struct {
	C        model.Contact
	Name     string
	Account  *model.Account
	Owner    string
	Deals    []model.Deal
	Timeline []timelineItem
	Activity *form
	Merge    *form
}

func (u *UI) contactShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	u.showContact(w, r, s, id, http.StatusOK, nil, nil)
}

func (u *UI) showContact(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act, merge *form) {
	ctx := r.Context()
	q := u.q(s)
	c, err := q.GetContact(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := contactPage{C: c, Name: contactName(c), Activity: act, Merge: merge}
	if c.AccountID != nil {
		a, err := q.GetAccount(ctx, s.WS(), *c.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			u.fail(w, r, s, err)
			return
		}
		if err == nil {
			p.Account = &a
			deals, err := q.ListDeals(ctx, s.WS(), store.ListParams{Filters: []store.Filter{{Field: "account_id", Op: "eq", Value: formatInt(a.ID)}}, Sort: "-created_at", Limit: 10}, nil)
			if err != nil {
				u.fail(w, r, s, err)
				return
			}
			p.Deals = deals.Items
		}
	}
	if p.Timeline, err = u.timeline(ctx, s, "contact", "contact_id", id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	if c.OwnerID != nil {
		p.Owner = owners[*c.OwnerID]
	}
	if p.Activity == nil {
		p.Activity = activityForm("contact:"+formatInt(id), map[string]*int64{"contact_id": &c.ID, "account_id": c.AccountID})
	}
	if p.Merge == nil {
		p.Merge = contactMergeForm(id)
	}
	u.render(w, r, status, "contact", view{Title: p.Name, Section: "contacts", S: s, D: p, Notice: notice(r, "Contact")})
}

func contactFields(accounts, owners []optGroup) []field {
	return []field{
		{Name: "email", Label: "Email", Type: "email", Required: true, Autofocus: true, Placeholder: "ada@example.com"},
		{Name: "first_name", Label: "First name", Type: "text"},
		{Name: "last_name", Label: "Last name", Type: "text"},
		{Name: "title", Label: "Job title", Type: "text", Placeholder: "VP Sales"},
		{Name: "phone", Label: "Phone", Type: "tel"},
		{Name: "account_id", Label: "Account", Type: "select", Groups: accounts},
		{Name: "lifecycle_stage", Label: "Lifecycle stage", Type: "select", Required: true, Groups: opts(model.LifecycleStages, noBlank)},
		{Name: "owner_id", Label: "Owner", Type: "select", Groups: owners},
		{Name: "source", Label: "Source", Type: "text", Placeholder: "webinar, referral, outbound…"},
		{Name: "consent_basis", Label: "Consent basis", Type: "select", Groups: opts([]string{"consent", "legitimate_interest", "contract", "none"}, "Not recorded")},
	}
}

func (u *UI) contactForm(r *http.Request, s *session, action, submit, cancel, account string) (*form, error) {
	ms, _, err := u.members(r.Context(), s)
	if err != nil {
		return nil, err
	}
	accts, err := u.accountOptions(r.Context(), s, account)
	if err != nil {
		return nil, err
	}
	return newForm(action, submit, cancel, contactFields(accts, ownerOptions(ms))), nil
}

func (u *UI) contactNew(w http.ResponseWriter, r *http.Request, s *session) {
	account := r.URL.Query().Get("account_id")
	f, err := u.contactForm(r, s, "/contacts", "Create contact", "/contacts", account)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.Values["lifecycle_stage"] = "lead"
	f.Values["account_id"] = account
	f.Values["owner_id"] = formatInt(s.P.UserID)
	u.render(w, r, http.StatusOK, "form", view{Title: "New contact", Section: "contacts", S: s, D: formPage{Heading: "New contact", F: f}})
}

func (u *UI) contactCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := u.contactForm(r, s, "/contacts", "Create contact", "/contacts", r.PostFormValue("account_id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	fields, _ := f.crmFields("")
	c, err := u.d.CRM.CreateContact(r.Context(), s.Actor(), fields)
	if err == nil {
		redirect(w, r, "/contacts/"+formatInt(c.ID)+"?notice=created")
		return
	}
	if !f.setError(err) {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "New contact", Section: "contacts", S: s, D: formPage{Heading: "New contact", F: f}})
}

func (u *UI) contactEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	c, err := u.q(s).GetContact(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	self := "/contacts/" + formatInt(id)
	f, err := u.contactForm(r, s, self, "Save changes", self, idString(c.AccountID))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := f.Values
	v["email"], v["first_name"], v["last_name"], v["title"], v["phone"] = c.Email, c.FirstName, c.LastName, c.Title, c.Phone
	v["account_id"], v["lifecycle_stage"], v["owner_id"] = idString(c.AccountID), c.LifecycleStage, idString(c.OwnerID)
	v["source"], v["consent_basis"] = c.Source, c.ConsentBasis
	u.render(w, r, http.StatusOK, "form", view{Title: "Edit " + contactName(c), Section: "contacts", S: s, D: formPage{Heading: "Edit contact", Sub: contactName(c), F: f}})
}

func (u *UI) contactUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	self := "/contacts/" + formatInt(id)
	f, err := u.contactForm(r, s, self, "Save changes", self, r.PostFormValue("account_id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	fields, _ := f.crmFields("")
	_, err = u.d.CRM.UpdateContact(r.Context(), s.Actor(), id, fields)
	if err == nil {
		redirect(w, r, self+"?notice=saved")
		return
	}
	if !f.setError(err) {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "Edit contact", Section: "contacts", S: s, D: formPage{Heading: "Edit contact", Sub: f.Values["email"], F: f}})
}

func contactMergeForm(id int64) *form {
	return newForm("/contacts/"+formatInt(id)+"/merge", "Review merge", "", []field{
		{Name: "other", Label: "Duplicate contact", Type: "text", Placeholder: "id or email, e.g. 42 or ada@old-domain.com", Hint: "Its activities and history move here; it is then deleted."},
	})
}

// contactMerge: the first POST finds the duplicate and shows a confirmation;
// the second (confirm=1, loser_id) merges.
func (u *UI) contactMerge(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	winner, err := u.q(s).GetContact(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := contactMergeForm(id)
	f.read(r)
	if r.PostFormValue("confirm") == "1" {
		loserID, _ := strconv.ParseInt(r.PostFormValue("loser_id"), 10, 64)
		_, err := u.d.CRM.MergeContacts(ctx, s.Actor(), id, loserID)
		if err == nil {
			redirect(w, r, "/contacts/"+formatInt(id)+"?notice=merged")
			return
		}
		if errors.Is(err, store.ErrNotFound) {
			f.Errors["other"] = "that contact no longer exists (already merged or deleted?)"
		} else if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showContact(w, r, s, id, http.StatusUnprocessableEntity, nil, f)
		return
	}
	loser, err := u.findContact(r, s, f.Values["other"])
	if err == nil && loser.ID == id {
		err = &store.FieldError{Field: "other", Message: "this is the contact you are on; pick its duplicate"}
	}
	if err != nil {
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showContact(w, r, s, id, http.StatusUnprocessableEntity, nil, f)
		return
	}
	u.render(w, r, http.StatusOK, "merge", view{Title: "Merge contacts", Section: "contacts", S: s, D: mergePage{
		Noun:     "contact",
		Action:   "/contacts/" + formatInt(id) + "/merge",
		LoserID:  loser.ID,
		Cancel:   "/contacts/" + formatInt(id),
		Winner:   contactSummary(winner),
		Loser:    contactSummary(loser),
		Outcomes: []string{"Activities of the duplicate move to " + contactName(winner) + ".", "Fields that are empty here are filled from the duplicate; nothing here is overwritten.", "The duplicate (" + loser.Email + ") is deleted; the merge is kept in history and audited."},
	}})
}

func (u *UI) findContact(r *http.Request, s *session, ref string) (model.Contact, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return model.Contact{}, &store.FieldError{Field: "other", Message: "enter the id or email of the duplicate"}
	}
	q := u.q(s)
	var c model.Contact
	var err error
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		c, err = q.GetContact(r.Context(), s.WS(), n)
	} else {
		email, eerr := crm.NormalizeEmail(ref)
		if eerr != nil {
			return c, &store.FieldError{Field: "other", Message: "not an id or an email address"}
		}
		c, err = q.ContactByEmail(r.Context(), s.WS(), email)
	}
	if errors.Is(err, store.ErrNotFound) {
		return c, &store.FieldError{Field: "other", Message: "no contact with that id or email in this workspace"}
	}
	return c, err
}

func contactSummary(c model.Contact) summary {
	return summary{Title: contactName(c), Sub: c.Email, Href: "/contacts/" + formatInt(c.ID), Rows: [][2]string{
		{"Id", formatInt(c.ID)},
		{"Title", c.Title},
		{"Phone", c.Phone},
		{"Lifecycle stage", humanize(c.LifecycleStage)},
		{"Created", formatDate(c.CreatedAt)},
	}}
}
