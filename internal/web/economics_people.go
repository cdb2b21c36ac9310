package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The people costs page: cost profiles (what one person of a role costs a
// year, fully loaded), their headcount by month, and the resulting people
// cost by role and motion.

type profileView struct {
	economics.Profile
	Edit      *form
	Open      bool
	Annual    string
	Monthly   string
	Base      string
	Loading   string
	PerSeat   string
	Variable  string
	FormText  string
	SplitText string
	HC        []hcCell
	HCErr     string
}

type hcCell struct {
	Month, Label, Value string
}

type peoplePage struct {
	Profiles  []profileView
	Create    *form
	CreateErr bool
	Year      int
	People    []peopleRow
	From, To  string
	Currency  string
	Note      string
}

var moneyProfileFields = []string{"base_salary", "office", "phone", "internet", "software", "recruiting", "variable_pay"}

func profileForm(action, submit, cur string) *form {
	return newForm(action, submit, "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "SMB LDR"},
		{Name: "role", Label: "Role", Type: "select", Required: true, Groups: opts(model.CostRoles, noBlank)},
		{Name: "currency", Label: "Currency", Type: "text", Placeholder: cur},
		{Name: "base_salary", Label: "Base salary (per year)", Type: "money", Required: true},
		{Name: "loaded_multiplier", Label: "Loaded multiplier (×)", Type: "number", Placeholder: "2", Hint: "Covers employer taxes, benefits and training. Leave empty to itemise them instead."},
		{Name: "employer_tax_rate", Label: "Employer taxes (%)", Type: "number", Placeholder: "7.65", Hint: "Itemised form only."},
		{Name: "benefits_rate", Label: "Benefits (%)", Type: "number", Placeholder: "25", Hint: "Itemised form only."},
		{Name: "training_rate", Label: "Training (%)", Type: "number", Placeholder: "2", Hint: "Itemised form only."},
		{Name: "office", Label: "Office space (per year)", Type: "money"},
		{Name: "phone", Label: "Phone (per year)", Type: "money"},
		{Name: "internet", Label: "Internet (per year)", Type: "money"},
		{Name: "software", Label: "Software licences (per year)", Type: "money"},
		{Name: "recruiting", Label: "Recruiting (per seat per year)", Type: "money"},
		{Name: "variable_pay", Label: "Variable pay (per year, at target)", Type: "money", Hint: "Commission and bonus; added as is."},
		{Name: "split_digital", Label: "Time on digital (%)", Type: "number", Required: true},
		{Name: "split_high_touch", Label: "Time on high touch (%)", Type: "number", Required: true},
		{Name: "split_from_activities", Label: "Time split source", Type: "select", Groups: []optGroup{{Options: []option{
			{"", "The split above"}, {"1", "Logged activity time when there is enough (else the split above)"}}}}},
	})
}

func fillProfileForm(f *form, p model.CostProfile) {
	cur := p.Currency
	f.Values["name"], f.Values["role"], f.Values["currency"] = p.Name, p.Role, p.Currency
	money := map[string]int64{"base_salary": p.BaseSalary, "office": p.Office, "phone": p.Phone, "internet": p.Internet, "software": p.Software, "recruiting": p.Recruiting, "variable_pay": p.VariablePay}
	for k, v := range money {
		if v != 0 || k == "base_salary" {
			f.Values[k] = majorUnits(v, cur)
		}
	}
	if p.LoadedMultiplier != nil {
		f.Values["loaded_multiplier"] = strconv.FormatFloat(*p.LoadedMultiplier, 'f', -1, 64)
	}
	for k, v := range map[string]*float64{"employer_tax_rate": p.EmployerTaxRate, "benefits_rate": p.BenefitsRate, "training_rate": p.TrainingRate} {
		if v != nil {
			f.Values[k] = pctText(*v)
		}
	}
	f.Values["split_digital"] = pctText(p.TimeSplit["digital"])
	f.Values["split_high_touch"] = pctText(p.TimeSplit["high_touch"])
	if p.SplitFromActivities {
		f.Values["split_from_activities"] = "1"
	}
}

// profileInput reads a profile form; bad numbers become field errors.
func profileInput(f *form, defCur string) economics.ProfileInput {
	in := economics.ProfileInput{Name: f.Values["name"], Role: f.Values["role"], Currency: f.Values["currency"], TimeSplit: map[string]float64{},
		SplitFromActivities: f.Values["split_from_activities"] == "1"}
	cur := strings.ToUpper(in.Currency)
	if cur == "" {
		cur = defCur
	}
	dst := map[string]*int64{"base_salary": &in.BaseSalary, "office": &in.Office, "phone": &in.Phone, "internet": &in.Internet, "software": &in.Software, "recruiting": &in.Recruiting, "variable_pay": &in.VariablePay}
	for _, k := range moneyProfileFields {
		v, _, err := parseMoney(f.Values[k], cur)
		if err != nil {
			f.Errors[k] = err.Error()
		}
		*dst[k] = v
	}
	if v, ok, err := parseNum(f.Values["loaded_multiplier"]); err != nil {
		f.Errors["loaded_multiplier"] = err.Error()
	} else if ok {
		in.LoadedMultiplier = &v
	}
	for k, dst := range map[string]**float64{"employer_tax_rate": &in.EmployerTaxRate, "benefits_rate": &in.BenefitsRate, "training_rate": &in.TrainingRate} {
		if v, ok, err := parsePct(f.Values[k]); err != nil {
			f.Errors[k] = err.Error()
		} else if ok {
			*dst = &v
		}
	}
	for _, m := range model.Motions {
		if v, ok, err := parsePct(f.Values["split_"+m]); err != nil {
			f.Errors["split_"+m] = err.Error()
		} else if ok {
			in.TimeSplit[m] = v
		}
	}
	return in
}

// profileFieldErr maps the service's time_split errors onto the form's inputs.
func profileFieldErr(f *form, err error) bool {
	if !f.setError(err) {
		return false
	}
	if msg, ok := f.Errors["time_split"]; ok || strings.Contains(f.Err, "Time split") {
		delete(f.Errors, "time_split")
		if msg == "" {
			msg = f.Err
			f.Err = ""
		}
		f.Errors["split_digital"] = msg
	}
	return true
}

func (u *UI) economicsPeople(w http.ResponseWriter, r *http.Request, s *session) {
	u.showPeople(w, r, s, http.StatusOK, nil)
}

func (u *UI) showPeople(w http.ResponseWriter, r *http.Request, s *session, status int, mod func(*peoplePage)) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	year := time.Now().UTC().Year()
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 1970 && y <= 2199 {
		year = y
	}
	p := peoplePage{Year: year, Currency: ws.Currency, Create: profileForm("/economics/people", "Create profile", ws.Currency)}
	p.Create.Values["role"] = model.RoleLDR
	p.Create.Values["split_digital"], p.Create.Values["split_high_touch"] = "50", "50"
	profiles, err := u.d.Econ.Profiles(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, pr := range profiles {
		pv := profileView{Profile: pr, Edit: profileForm(fmt.Sprintf("/economics/people/%d", pr.ID), "Save profile", ws.Currency)}
		fillProfileForm(pv.Edit, pr.CostProfile)
		c, cur := pr.Cost, pr.Currency
		pv.Annual, pv.Monthly = formatMoney(int64(c.Annual+0.5), cur), formatMoney(int64(c.Monthly+0.5), cur)
		pv.Base, pv.Loading, pv.PerSeat, pv.Variable = formatMoney(c.Base, cur), formatMoney(int64(c.Loading+0.5), cur), formatMoney(c.PerSeat, cur), formatMoney(c.VariablePay, cur)
		if c.Form == "multiplier" {
			pv.FormText = strconv.FormatFloat(*pr.LoadedMultiplier, 'f', -1, 64) + "× multiplier"
		} else {
			pv.FormText = "itemised"
		}
		var parts []string
		for _, m := range model.Motions {
			if v := pr.TimeSplit[m]; v > 0 {
				parts = append(parts, humanize(m)+" "+pctText(v)+" %")
			}
		}
		pv.SplitText = strings.Join(parts, ", ")
		if pr.SplitFromActivities {
			pv.SplitText += " (or logged activity time)"
		}
		have := map[string]float64{}
		for _, h := range pr.Headcount {
			have[h.Month] = h.Headcount
		}
		for m := 1; m <= 12; m++ {
			mon := fmt.Sprintf("%04d-%02d", year, m)
			v := ""
			if x, ok := have[mon]; ok {
				v = strconv.FormatFloat(x, 'f', -1, 64)
			}
			pv.HC = append(pv.HC, hcCell{Month: mon, Label: time.Month(m).String()[:3], Value: v})
		}
		p.Profiles = append(p.Profiles, pv)
	}
	p.From, p.To, _ = u.d.Econ.Window("", "")
	pc, err := u.d.Econ.PeopleCost(ctx, s.WS(), p.From, p.To)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.People = peopleRows(pc, ws.Currency)
	if mod != nil {
		mod(&p)
	}
	note := ""
	switch r.URL.Query().Get("notice") {
	case "created":
		note = "Cost profile created."
	case "saved":
		note = "Cost profile saved."
	case "deleted":
		note = "Cost profile deleted."
	case "headcount":
		note = "Headcount saved."
	}
	u.render(w, r, status, "economics_people", view{Title: "People costs", Section: "economics", S: s, D: p, Notice: note})
}

func (u *UI) economicsProfileSave(w http.ResponseWriter, r *http.Request, s *session) {
	ws, err := u.d.St.Read().GetWorkspace(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var id int64
	action, submit := "/economics/people", "Create profile"
	if r.PathValue("id") != "" {
		if id, err = httpx.PathID(r, "id"); err != nil {
			u.notFound(w, r, s)
			return
		}
		action, submit = fmt.Sprintf("/economics/people/%d", id), "Save profile"
	}
	f := profileForm(action, submit, ws.Currency)
	f.read(r)
	in := profileInput(f, ws.Currency)
	if len(f.Errors) == 0 {
		if id == 0 {
			_, err = u.d.Econ.CreateProfile(r.Context(), s.Actor(), in)
		} else {
			_, err = u.d.Econ.ReplaceProfile(r.Context(), s.Actor(), id, in)
		}
		if err == nil {
			if id == 0 {
				redirect(w, r, "/economics/people?notice=created")
			} else {
				redirect(w, r, "/economics/people?notice=saved")
			}
			return
		}
		if !profileFieldErr(f, err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPeople(w, r, s, http.StatusUnprocessableEntity, func(p *peoplePage) {
		if id == 0 {
			p.Create, p.CreateErr = f, true
			return
		}
		for i := range p.Profiles {
			if p.Profiles[i].ID == id {
				p.Profiles[i].Edit, p.Profiles[i].Open = f, true
			}
		}
	})
}

func (u *UI) economicsProfileDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Econ.DeleteProfile(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/people?notice=deleted")
}

func (u *UI) economicsHeadcountSave(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, s, err)
		return
	}
	months := map[string]float64{}
	bad := ""
	for k, vs := range r.PostForm {
		mon, ok := strings.CutPrefix(k, "hc.")
		if !ok || len(vs) == 0 {
			continue
		}
		v, _, err := parseNum(vs[0])
		if err != nil {
			bad = mon + ": " + err.Error()
			continue
		}
		months[mon] = v
	}
	year := r.URL.Query().Get("year")
	if bad == "" {
		_, err = u.d.Econ.SetHeadcount(r.Context(), s.Actor(), id, months)
		if err == nil {
			redirect(w, r, "/economics/people?notice=headcount&year="+year)
			return
		}
		var fe *store.FieldError
		switch {
		case errors.As(err, &fe):
			bad = strings.TrimPrefix(fe.Field, "months.") + ": " + fe.Message
		case errors.Is(err, store.ErrNotFound):
			u.notFound(w, r, s)
			return
		default:
			u.fail(w, r, s, err)
			return
		}
	}
	u.showPeople(w, r, s, http.StatusUnprocessableEntity, func(p *peoplePage) {
		for i := range p.Profiles {
			if p.Profiles[i].ID == id {
				p.Profiles[i].HCErr = bad
				for j, c := range p.Profiles[i].HC {
					if v, ok := r.PostForm["hc."+c.Month]; ok && len(v) > 0 {
						p.Profiles[i].HC[j].Value = v[0]
					}
				}
			}
		}
	})
}
