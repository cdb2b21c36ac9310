package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/partners"
	"github.com/rightsize/rightsize/internal/store"
)

// The partners pages (docs/economics.md, Partners): outsourced partners with
// their terms and users, and for each its monthly statement — every line
// traced to its records — its months side by side, and its actual cost per
// meeting, SQL and won customer next to the in-house LDRs'.

var partnerMoneyFields = []string{"retainer_monthly", "fee_per_meeting", "fee_per_sql", "fee_per_won", "setup_fee", "management_monthly"}

func partnerForm(action, submit, cur string, members []model.Membership) *form {
	var users []option
	for _, m := range members {
		if m.Role == model.RolePartner {
			users = append(users, option{strconv.FormatInt(m.UserID, 10), m.UserEmail})
		}
	}
	return newForm(action, submit, "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Acme SDR Co"},
		{Name: "currency", Label: "Currency", Type: "text", Placeholder: cur, Hint: "Fees are billed in it; never converted."},
		{Name: "start_month", Label: "Start month", Type: "text", Required: true, Placeholder: "2026-03", Hint: "YYYY-MM; the setup fee falls due in it."},
		{Name: "end_month", Label: "End month", Type: "text", Placeholder: "while it runs", Hint: "YYYY-MM; empty while the contract runs."},
		{Name: "retainer_monthly", Label: "Retainer (per month)", Type: "money"},
		{Name: "fee_per_meeting", Label: "Fee per meeting held", Type: "money"},
		{Name: "fee_per_sql", Label: "Fee per SQL accepted by an AE", Type: "money"},
		{Name: "fee_per_won", Label: "Fee per won deal", Type: "money", Hint: "Optional success fee."},
		{Name: "setup_fee", Label: "Setup fee (once)", Type: "money"},
		{Name: "management_monthly", Label: "Your management time (per month)", Type: "money", Hint: "Part of what the partner costs you, not of what it is owed."},
		{Name: "user_ids", Label: "Who works for it", Type: "checks", Wide: true, Groups: []optGroup{{Options: users}},
			Hint: "Members with the role partner; their meetings, SQLs and wins are the partner's."},
		{Name: "note", Label: "Note", Type: "textarea", Wide: true},
	})
}

func fillPartnerForm(f *form, p model.Partner) {
	cur := p.Currency
	f.Values["name"], f.Values["currency"], f.Values["start_month"], f.Values["end_month"], f.Values["note"] = p.Name, p.Currency, p.StartMonth, p.EndMonth, p.Note
	t := p.PartnerTerms
	for k, v := range map[string]int64{"retainer_monthly": t.RetainerMonthly, "fee_per_meeting": t.FeePerMeeting, "fee_per_sql": t.FeePerSQL, "fee_per_won": t.FeePerWon, "setup_fee": t.SetupFee, "management_monthly": t.ManagementMonthly} {
		if v != 0 {
			f.Values[k] = majorUnits(v, cur)
		}
	}
	var ids []string
	for _, id := range p.UserIDs {
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	f.Values["user_ids"] = strings.Join(ids, ",")
}

// partnerInput reads a partner form; bad amounts become field errors. Money
// is read in the form's currency (the workspace's when left empty).
func partnerInput(f *form, wsCur string) partners.Input {
	in := partners.Input{Name: f.Values["name"], Currency: f.Values["currency"], StartMonth: f.Values["start_month"], EndMonth: f.Values["end_month"], Note: f.Values["note"], UserIDs: []int64{}}
	cur := strings.ToUpper(strings.TrimSpace(in.Currency))
	if cur == "" {
		cur = wsCur
	}
	t := &in.PartnerTerms
	dst := map[string]*int64{"retainer_monthly": &t.RetainerMonthly, "fee_per_meeting": &t.FeePerMeeting, "fee_per_sql": &t.FeePerSQL, "fee_per_won": &t.FeePerWon, "setup_fee": &t.SetupFee, "management_monthly": &t.ManagementMonthly}
	for _, k := range partnerMoneyFields {
		if v, _, err := parseMoney(f.Values[k], cur); err != nil {
			f.Errors[k] = err.Error()
		} else {
			*dst[k] = v
		}
	}
	for _, s := range strings.Split(f.Values["user_ids"], ",") {
		if s == "" {
			continue
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			in.UserIDs = append(in.UserIDs, n)
		}
	}
	return in
}

func termsText(p model.Partner) string {
	cur := p.Currency
	t := p.PartnerTerms
	var parts []string
	add := func(v int64, format string) {
		if v != 0 {
			parts = append(parts, fmt.Sprintf(format, formatMoney(v, cur)))
		}
	}
	add(t.RetainerMonthly, "retainer %s/month")
	add(t.FeePerMeeting, "%s per meeting")
	add(t.FeePerSQL, "%s per accepted SQL")
	add(t.FeePerWon, "%s per won deal")
	add(t.SetupFee, "setup %s")
	add(t.ManagementMonthly, "your management %s/month")
	if len(parts) == 0 {
		return "no fees set"
	}
	return strings.Join(parts, " · ")
}

func contractText(p model.Partner) string {
	if p.EndMonth == "" {
		return "since " + p.StartMonth
	}
	return p.StartMonth + " to " + p.EndMonth
}

type partnerRow struct {
	model.Partner
	Users    string
	Terms    string
	Contract string
	Last     partners.Statement
	Current  partners.Statement
}

type partnersPage struct {
	Partners  []partnerRow
	Create    *form
	CreateErr bool
	LastMonth string
	ThisMonth string
	Members   int // members with the role partner
}

func userList(ids []int64, names map[int64]string) string {
	if len(ids) == 0 {
		return "nobody yet"
	}
	var out []string
	for _, id := range ids {
		if n := names[id]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("user %d", id))
		}
	}
	return strings.Join(out, ", ")
}

func (u *UI) economicsPartners(w http.ResponseWriter, r *http.Request, s *session) {
	u.showPartners(w, r, s, http.StatusOK, nil)
}

func (u *UI) showPartners(w http.ResponseWriter, r *http.Request, s *session, status int, create *form) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ms, names, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	last, _ := u.d.Partners.ParseStatementMonth("")
	this := economics.AddMonths(last, 1)
	p := partnersPage{LastMonth: last, ThisMonth: this, Create: create, CreateErr: create != nil}
	for _, m := range ms {
		if m.Role == model.RolePartner {
			p.Members++
		}
	}
	if p.Create == nil {
		p.Create = partnerForm("/economics/partners", "Add partner", ws.Currency, ms)
		p.Create.Values["start_month"] = this
	}
	ps, err := u.d.Partners.List(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, pr := range ps {
		hist, err := u.d.Partners.History(ctx, s.WS(), pr, last, this)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		p.Partners = append(p.Partners, partnerRow{Partner: pr, Users: userList(pr.UserIDs, names), Terms: termsText(pr), Contract: contractText(pr), Last: hist[0], Current: hist[1]})
	}
	note := map[string]string{"deleted": "Partner deleted. Its users' work stays on record."}[r.URL.Query().Get("notice")]
	u.render(w, r, status, "economics_partners", view{Title: "Partners", Section: "economics", S: s, D: p, Notice: note})
}

func (u *UI) economicsPartnerCreate(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ms, _, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := partnerForm("/economics/partners", "Add partner", ws.Currency, ms)
	f.read(r)
	in := partnerInput(f, ws.Currency)
	if len(f.Errors) == 0 {
		pr, err := u.d.Partners.Create(ctx, s.Actor(), in)
		if err == nil {
			redirect(w, r, fmt.Sprintf("/economics/partners/%d?notice=created", pr.ID))
			return
		}
		if !partnerFormError(f, err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPartners(w, r, s, http.StatusUnprocessableEntity, f)
}

// partnerFormError places a service error on the form: errors about one of
// the users (user_ids[2]) go next to the user list.
func partnerFormError(f *form, err error) bool {
	var fe *store.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "user_ids") {
		f.Errors["user_ids"] = fe.Message
		return true
	}
	return f.setError(err)
}

// recordView is a record behind a statement line, linked.
type recordView struct {
	partners.Record
	Kind, Href, Who, Amount string
}

type lineView struct {
	partners.Line
	Records []recordView
}

type historyRow struct {
	partners.Statement
	Current bool
	Revenue string
}

type compareRow struct {
	Label            string
	Partner, InHouse string
	Best             string // partner, in_house or ""
}

type partnerPage struct {
	P           model.Partner
	Users       string
	Terms       string
	Contract    string
	St          partners.Statement
	Lines       []lineView
	Pending     []recordView
	Won         []recordView
	Revenue     string
	StatusText  string
	Prev, Next  string
	History     []historyRow
	Actuals     partners.Actuals
	Compare     []compareRow
	SQLChart    lineChart
	Edit        *form
	EditOpen    bool
	ThisMonth   string
	Conventions []string
}

var statusText = map[string]string{
	partners.StatusClosed:        "closed",
	partners.StatusOpen:          "open — to date",
	partners.StatusFuture:        "not begun",
	partners.StatusOutOfContract: "outside the contract",
}

func recordViews(rs []partners.Record, names map[int64]string) []recordView {
	out := []recordView{}
	for _, r := range rs {
		who, _, _ := strings.Cut(names[r.UserID], "@") // the rep, briefly
		v := recordView{Record: r, Who: who}
		switch r.Type {
		case "activity":
			v.Kind = "Meeting"
			switch {
			case r.DealID != nil:
				v.Href = fmt.Sprintf("/deals/%d", *r.DealID)
			case r.ContactID != nil:
				v.Href = fmt.Sprintf("/contacts/%d", *r.ContactID)
			}
		case "handoff":
			v.Kind = "SQL"
			if r.DealID != nil {
				v.Href = fmt.Sprintf("/deals/%d", *r.DealID)
			} else if r.ContactID != nil {
				v.Href = fmt.Sprintf("/contacts/%d", *r.ContactID)
			}
			if v.Label == "" {
				v.Label = fmt.Sprintf("Handoff %d", r.ID)
			}
		case "deal":
			v.Kind = "Won deal"
			v.Href = fmt.Sprintf("/deals/%d", r.ID)
			if r.Amount != nil {
				v.Amount = formatMoney(*r.Amount, r.Currency)
			}
		}
		out = append(out, v)
	}
	return out
}

func revenueText(xs []economics.CurrencyAmount) string {
	if len(xs) == 0 {
		return "—"
	}
	var parts []string
	for _, x := range xs {
		parts = append(parts, formatMoney(x.Amount, x.Currency))
	}
	return strings.Join(parts, " + ")
}

// compareRows lays the actuals out as measure rows, the cheaper side marked.
func compareRows(a partners.Actuals) []compareRow {
	cur := a.Partner.Currency
	money := func(v *float64) string {
		if v == nil {
			return "n/a"
		}
		return formatMoney(int64(*v+0.5), cur)
	}
	cheaper := func(p, h *float64) string {
		switch {
		case p == nil || h == nil:
			return ""
		case *p < *h:
			return "partner"
		case *h < *p:
			return "in_house"
		}
		return ""
	}
	n := func(v int) string { return formatNumber(int64(v)) }
	return []compareRow{
		{Label: "Cost over the months", Partner: formatMoney(a.Partner.Cost, cur), InHouse: formatMoney(a.InHouse.Cost, cur)},
		{Label: "Meetings held", Partner: n(a.Partner.Meetings), InHouse: n(a.InHouse.Meetings)},
		{Label: "SQLs accepted by AEs", Partner: n(a.Partner.SQLs), InHouse: n(a.InHouse.SQLs)},
		{Label: "Customers won from them", Partner: n(a.Partner.WonCustomers), InHouse: n(a.InHouse.WonCustomers)},
		{Label: "Revenue won", Partner: revenueText(a.Partner.Revenue), InHouse: revenueText(a.InHouse.Revenue)},
		{Label: "Cost per meeting", Partner: money(a.Partner.CostPerMeeting), InHouse: money(a.InHouse.CostPerMeeting), Best: cheaper(a.Partner.CostPerMeeting, a.InHouse.CostPerMeeting)},
		{Label: "Cost per SQL", Partner: money(a.Partner.CostPerSQL), InHouse: money(a.InHouse.CostPerSQL), Best: cheaper(a.Partner.CostPerSQL, a.InHouse.CostPerSQL)},
		{Label: "Cost per won customer", Partner: money(a.Partner.CostPerWon), InHouse: money(a.InHouse.CostPerWon), Best: cheaper(a.Partner.CostPerWon, a.InHouse.CostPerWon)},
	}
}

func (u *UI) economicsPartner(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	u.showPartner(w, r, s, id, http.StatusOK, nil)
}

func (u *UI) showPartner(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, edit *form) {
	ctx := r.Context()
	pr, err := u.d.Partners.Get(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	month, err := u.d.Partners.ParseStatementMonth(r.URL.Query().Get("month"))
	if err != nil {
		u.errorPage(w, r, s, http.StatusBadRequest, "Not a month", "The month must be written YYYY-MM, such as 2026-10.")
		return
	}
	ms, names, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	last, _ := u.d.Partners.ParseStatementMonth("")
	this := economics.AddMonths(last, 1)
	p := partnerPage{P: pr, Users: userList(pr.UserIDs, names), Terms: termsText(pr), Contract: contractText(pr), ThisMonth: this,
		Prev: economics.AddMonths(month, -1), Next: economics.AddMonths(month, 1), Edit: edit, EditOpen: edit != nil}
	if p.St, err = u.d.Partners.Statement(ctx, s.WS(), id, month); err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.StatusText, p.Conventions = statusText[p.St.Status], p.St.Conventions
	for _, l := range p.St.Lines {
		p.Lines = append(p.Lines, lineView{Line: l, Records: recordViews(l.Records, names)})
	}
	p.Pending, p.Won, p.Revenue = recordViews(p.St.Pending, names), recordViews(p.St.Won, names), revenueText(p.St.Work.Revenue)
	// The months side by side: the contract's, at most the last 12 up to now.
	from := pr.StartMonth
	to := this
	if pr.EndMonth != "" && pr.EndMonth < to {
		to = pr.EndMonth
	}
	if ms := economics.Months(from, to); len(ms) > 12 {
		from = ms[len(ms)-12]
	}
	if from <= to {
		hist, err := u.d.Partners.History(ctx, s.WS(), pr, from, to)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		for i := len(hist) - 1; i >= 0; i-- {
			h := hist[i]
			p.History = append(p.History, historyRow{Statement: h, Current: h.Month == month, Revenue: revenueText(h.Work.Revenue)})
		}
	}
	if p.Actuals, err = u.d.Partners.Actuals(ctx, s.WS(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	if p.Actuals.Months > 0 {
		p.Compare = compareRows(p.Actuals)
		var xs []string
		ps, hs := seriesIn{Name: pr.Name}, seriesIn{Name: "In-house LDRs"}
		for _, row := range p.Actuals.ByMonth {
			xs = append(xs, monthLabel(row.Month))
			ps.Values = append(ps.Values, float64(row.Partner.SQLsAccepted))
			hs.Values = append(hs.Values, float64(row.InHouse.SQLsAccepted))
		}
		p.SQLChart = newLineChart("chart-partner-sqls", "SQLs accepted by AEs per month: "+pr.Name+" and the in-house LDRs", xs, []seriesIn{ps, hs}, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) })
	}
	if p.Edit == nil {
		p.Edit = partnerForm(fmt.Sprintf("/economics/partners/%d", id), "Save partner", pr.Currency, ms)
		fillPartnerForm(p.Edit, pr)
	}
	note := map[string]string{"created": "Partner added. Its statement fills in as its users book meetings and AEs accept their SQLs.", "saved": "Partner saved."}[r.URL.Query().Get("notice")]
	u.render(w, r, status, "economics_partner", view{Title: pr.Name + " — partner statement", Section: "economics", S: s, D: p, Notice: note})
}

func (u *UI) economicsPartnerSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	if _, err := u.d.Partners.Get(ctx, s.WS(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	ms, _, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := partnerForm(fmt.Sprintf("/economics/partners/%d", id), "Save partner", ws.Currency, ms)
	f.read(r)
	in := partnerInput(f, ws.Currency)
	if len(f.Errors) == 0 {
		_, err := u.d.Partners.Replace(ctx, s.Actor(), id, in)
		if err == nil {
			redirect(w, r, fmt.Sprintf("/economics/partners/%d?notice=saved", id))
			return
		}
		if !partnerFormError(f, err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPartner(w, r, s, id, http.StatusUnprocessableEntity, f)
}

func (u *UI) economicsPartnerDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Partners.Delete(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/partners?notice=deleted")
}

// partnerOptions lists the workspace's partners for the staffing planner's
// scenario form.
func (u *UI) partnerOptions(ctx context.Context, ws int64) ([]model.Partner, error) {
	if u.d.Partners == nil {
		return nil, nil
	}
	return u.d.Partners.List(ctx, ws)
}
