package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

// The staffing planner page: scenarios side by side (a comparison table and
// charts of cumulative cost and SQLs over 24 months), each scenario's plan
// summary and inputs, and the form for a new one.

type measureRow struct {
	Label string
	Cells []measureCell
}

type measureCell struct {
	Text string
	Best bool
}

type scenarioView struct {
	staffing.Scenario
	Plan       staffing.Plan
	Edit       *form
	Open       bool
	KindLabel  string
	Conversion string
	BreakEven  string
	Inputs     string
	// Assumptions says whether the rates are the scenario's or a partner's
	// actuals ("actual from N months …" or "assumed: …").
	Assumptions string
	Actual      bool
}

type staffingPage struct {
	Currency  string
	Scenarios []scenarioView
	Measures  []measureRow
	CostChart lineChart
	SQLChart  lineChart
	Create    *form
	CreateErr bool
	Note      string
	Profiles  int
	Example   bool // the article example can still be added
}

func scenarioForm(action, submit, cur string, segs []string, profiles []economics.Profile, ps []model.Partner) *form {
	partnerOpts := []option{{"", "— none: the assumptions above —"}}
	for _, p := range ps {
		partnerOpts = append(partnerOpts, option{strconv.FormatInt(p.ID, 10), p.Name + " (" + p.Currency + ")"})
	}
	var popts []option
	popts = append(popts, option{"", "— none (partner) —"})
	for _, p := range profiles {
		popts = append(popts, option{strconv.FormatInt(p.ID, 10), fmt.Sprintf("%s (%s, %s a month)", p.Name, humanize(p.Role), formatMoney(int64(p.Cost.Monthly+0.5), p.Currency))})
	}
	return newForm(action, submit, "", []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Placeholder: "Two in-house LDRs"},
		{Name: "kind", Label: "Kind", Type: "select", Required: true, Groups: []optGroup{{Options: []option{{staffing.InHouse, "In-house reps"}, {staffing.Partner, "Partner (sales as a service)"}}}}},
		{Name: "segment", Label: "Segment", Type: "select", Groups: opts(segs, "—")},
		{Name: "motion", Label: "Motion", Type: "select", Groups: opts(model.Motions, "— all —"), Hint: "Picks the funnel whose SQL → won rate is used when there is enough data."},
		{Name: "reps", Label: "Reps", Type: "number", Required: true, Hint: "In-house hires, or the partner's dedicated reps."},
		{Name: "lead_time_months", Label: "Lead time (months)", Type: "number", Hint: "Hiring, or partner onboarding: no work, no cost."},
		{Name: "ramp_months", Label: "Ramp (months)", Type: "number", Hint: "~3 for LDRs/SDRs, ~5 for AEs."},
		{Name: "ramp_curve", Label: "Ramp productivity (%, one per ramp month)", Type: "text", Placeholder: "25, 50, 75", Hint: "Empty: linear."},
		{Name: "meetings_per_month", Label: "Meetings per ramped rep-month", Type: "number", Required: true},
		{Name: "sqls_per_month", Label: "SQLs per ramped rep-month", Type: "number", Required: true},
		{Name: "sql_to_won", Label: "SQL → won (%)", Type: "number", Hint: "Used when the workspace's own funnel has too little data."},
		{Name: "arpa", Label: "ARPA (per month)", Type: "money", Hint: "Values the customers won: break-even and LTV."},
		{Name: "monthly_churn", Label: "Monthly churn (%)", Type: "number"},
		{Name: "gross_margin", Label: "Gross margin (%)", Type: "number", Hint: "Empty: the workspace setting."},
		{Name: "management_monthly", Label: "Internal management overhead (per month)", Type: "money"},
		{Name: "cost_profile_id", Label: "In-house: cost profile of one rep", Type: "select", Groups: []optGroup{{Options: popts}}},
		{Name: "tenure_months", Label: "In-house: tenure (months)", Type: "number", Hint: "How long a rep stays (~14 for SDRs); then a new hire ramps again."},
		{Name: "retainer_monthly", Label: "Partner: retainer (per month)", Type: "money"},
		{Name: "fee_per_meeting", Label: "Partner: fee per meeting", Type: "money"},
		{Name: "fee_per_sql", Label: "Partner: fee per SQL", Type: "money"},
		{Name: "fee_per_won", Label: "Partner: fee per won deal", Type: "money"},
		{Name: "setup_fee", Label: "Partner: setup fee (once)", Type: "money"},
		{Name: "partner_id", Label: "Partner: measure against", Type: "select", Groups: []optGroup{{Options: partnerOpts}},
			Hint: "A partner record: its terms replace the fees above, and after one full month its actual meetings and accepted SQLs replace the rates."},
	})
}

func fillScenarioForm(f *form, sc staffing.Scenario) {
	p, cur := sc.Params, sc.Currency
	f.Values["name"], f.Values["kind"], f.Values["segment"], f.Values["motion"] = sc.Name, sc.Kind, p.Segment, p.Motion
	itoa := func(n int) string { return strconv.Itoa(n) }
	f.Values["reps"], f.Values["lead_time_months"], f.Values["ramp_months"] = itoa(p.Reps), itoa(p.LeadTimeMonths), itoa(p.RampMonths)
	var curve []string
	for _, v := range p.RampCurve {
		curve = append(curve, pctText(v))
	}
	f.Values["ramp_curve"] = strings.Join(curve, ", ")
	f.Values["meetings_per_month"] = strconv.FormatFloat(p.MeetingsPerMonth, 'f', -1, 64)
	f.Values["sqls_per_month"] = strconv.FormatFloat(p.SQLsPerMonth, 'f', -1, 64)
	pctp := func(v *float64) string {
		if v == nil {
			return ""
		}
		return pctText(*v)
	}
	f.Values["sql_to_won"], f.Values["monthly_churn"], f.Values["gross_margin"] = pctp(p.SQLToWon), pctp(p.MonthlyChurn), pctp(p.GrossMargin)
	money := func(v int64) string {
		if v == 0 {
			return ""
		}
		return majorUnits(v, cur)
	}
	if p.ARPA != nil {
		f.Values["arpa"] = majorUnits(*p.ARPA, cur)
	}
	f.Values["management_monthly"], f.Values["retainer_monthly"], f.Values["fee_per_meeting"], f.Values["fee_per_sql"], f.Values["fee_per_won"], f.Values["setup_fee"] =
		money(p.ManagementMonthly), money(p.RetainerMonthly), money(p.FeePerMeeting), money(p.FeePerSQL), money(p.FeePerWon), money(p.SetupFee)
	if p.PartnerID != nil {
		f.Values["partner_id"] = strconv.FormatInt(*p.PartnerID, 10)
	}
	if p.CostProfileID != nil {
		f.Values["cost_profile_id"] = strconv.FormatInt(*p.CostProfileID, 10)
	}
	if p.TenureMonths != 0 {
		f.Values["tenure_months"] = itoa(p.TenureMonths)
	}
}

// scenarioInput reads a scenario form; bad numbers become field errors.
func scenarioInput(f *form, cur string) staffing.Input {
	in := staffing.Input{Name: f.Values["name"], Kind: f.Values["kind"]}
	p := &in.Params
	p.Segment, p.Motion, p.RampCurve = f.Values["segment"], f.Values["motion"], []float64{}
	ints := map[string]*int{"reps": &p.Reps, "lead_time_months": &p.LeadTimeMonths, "ramp_months": &p.RampMonths, "tenure_months": &p.TenureMonths}
	for k, dst := range ints {
		v := strings.TrimSpace(f.Values[k])
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			f.Errors[k] = "must be a whole number"
			continue
		}
		*dst = n
	}
	for k, dst := range map[string]*float64{"meetings_per_month": &p.MeetingsPerMonth, "sqls_per_month": &p.SQLsPerMonth} {
		if v, _, err := parseNum(f.Values[k]); err != nil {
			f.Errors[k] = err.Error()
		} else {
			*dst = v
		}
	}
	for k, dst := range map[string]**float64{"sql_to_won": &p.SQLToWon, "monthly_churn": &p.MonthlyChurn, "gross_margin": &p.GrossMargin} {
		if v, ok, err := parsePct(f.Values[k]); err != nil {
			f.Errors[k] = err.Error()
		} else if ok {
			*dst = &v
		}
	}
	for _, part := range strings.Split(f.Values["ramp_curve"], ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		v, _, err := parsePct(part)
		if err != nil {
			f.Errors["ramp_curve"] = err.Error()
			break
		}
		p.RampCurve = append(p.RampCurve, v)
	}
	if v, ok, err := parseMoney(f.Values["arpa"], cur); err != nil {
		f.Errors["arpa"] = err.Error()
	} else if ok {
		p.ARPA = &v
	}
	for k, dst := range map[string]*int64{"management_monthly": &p.ManagementMonthly, "retainer_monthly": &p.RetainerMonthly, "fee_per_meeting": &p.FeePerMeeting, "fee_per_sql": &p.FeePerSQL, "fee_per_won": &p.FeePerWon, "setup_fee": &p.SetupFee} {
		if v, _, err := parseMoney(f.Values[k], cur); err != nil {
			f.Errors[k] = err.Error()
		} else {
			*dst = v
		}
	}
	if v := f.Values["cost_profile_id"]; v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.CostProfileID = &n
		}
	}
	if v := f.Values["partner_id"]; v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.PartnerID = &n
		}
	}
	return in
}

func (u *UI) economicsStaffing(w http.ResponseWriter, r *http.Request, s *session) {
	u.showStaffing(w, r, s, http.StatusOK, nil)
}

func (u *UI) showStaffing(w http.ResponseWriter, r *http.Request, s *session, status int, mod func(*staffingPage)) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	profiles, err := u.d.Econ.Profiles(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	cmp, err := u.d.Staffing.Comparison(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	prs, err := u.partnerOptions(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	cur := ws.Currency
	segs := u.segmentsOf(r, s.WS())
	p := staffingPage{Currency: cur, Create: scenarioForm("/economics/staffing", "Create scenario", cur, segs, profiles, prs), Note: cmp.Note, Profiles: len(profiles), Example: true}
	p.Create.Values["kind"], p.Create.Values["reps"], p.Create.Values["ramp_months"], p.Create.Values["lead_time_months"] = staffing.InHouse, "1", "3", "2"
	p.Create.Values["tenure_months"] = "14"
	for _, pl := range cmp.Plans {
		sc := pl.Scenario
		if strings.Contains(sc.Name, "(article example)") {
			p.Example = false
		}
		v := scenarioView{Scenario: sc, Plan: pl, Edit: scenarioForm(fmt.Sprintf("/economics/staffing/%d", sc.ID), "Save scenario", cur, segs, profiles, prs)}
		fillScenarioForm(v.Edit, sc)
		v.KindLabel = map[string]string{staffing.InHouse: "In-house", staffing.Partner: "Partner"}[sc.Kind]
		switch pl.Conversion.Source {
		case "workspace_data":
			v.Conversion = "SQL → won " + economics.Percent(*pl.Conversion.SQLToWon) + " from this workspace's funnel: " + pl.Conversion.Detail
		case "configured":
			v.Conversion = "SQL → won " + economics.Percent(*pl.Conversion.SQLToWon) + ", configured: " + pl.Conversion.Detail
		default:
			v.Conversion = pl.Conversion.Detail
		}
		v.BreakEven = pl.Summary.BreakEvenNote
		v.Assumptions, v.Actual = pl.Assumptions.Detail, pl.Assumptions.Source == staffing.Actual
		v.Inputs = scenarioInputsText(sc)
		p.Scenarios = append(p.Scenarios, v)
	}
	p.Measures = measures(cmp, cur)
	var xs []string
	for m := 1; m <= staffing.Horizon; m++ {
		xs = append(xs, "M"+strconv.Itoa(m))
	}
	var costs, sqls []seriesIn
	for _, pl := range cmp.Plans {
		if pl.Problem != "" || pl.Scenario.Currency != cur {
			continue
		}
		c, q := seriesIn{Name: pl.Scenario.Name}, seriesIn{Name: pl.Scenario.Name}
		for _, m := range pl.Months {
			c.Values = append(c.Values, float64(m.CumCost))
			q.Values = append(q.Values, m.CumSQLs)
		}
		costs, sqls = append(costs, c), append(sqls, q)
	}
	p.CostChart = newLineChart("chart-staffing-cost", "Cumulative cost by scenario, months 1–24", xs, costs, func(v float64) string { return formatMoneyShort(int64(v), cur) })
	p.SQLChart = newLineChart("chart-staffing-sqls", "Cumulative SQLs by scenario, months 1–24", xs, sqls, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) })
	if mod != nil {
		mod(&p)
	}
	note := ""
	switch r.URL.Query().Get("notice") {
	case "created":
		note = "Scenario created."
	case "saved":
		note = "Scenario saved."
	case "deleted":
		note = "Scenario deleted."
	case "example":
		note = "The article's example was added: an LDR cost profile and two scenarios. Edit them to your numbers."
	}
	u.render(w, r, status, "economics_staffing", view{Title: "Staffing planner", Section: "economics", S: s, D: p, Notice: note})
}

func scenarioInputsText(sc staffing.Scenario) string {
	p, cur := sc.Params, sc.Currency
	parts := []string{fmt.Sprintf("%d reps", p.Reps), fmt.Sprintf("lead time %d months", p.LeadTimeMonths), fmt.Sprintf("ramp %d months", p.RampMonths)}
	if sc.Kind == staffing.InHouse {
		parts = append(parts, fmt.Sprintf("tenure %d months", p.TenureMonths))
	} else {
		parts = append(parts, "retainer "+formatMoney(p.RetainerMonthly, cur)+"/month", formatMoney(p.FeePerMeeting, cur)+" per meeting", formatMoney(p.FeePerSQL, cur)+" per SQL")
		if p.FeePerWon != 0 {
			parts = append(parts, formatMoney(p.FeePerWon, cur)+" per won deal")
		}
	}
	parts = append(parts, fmt.Sprintf("%s meetings and %s SQLs per ramped rep-month", strconv.FormatFloat(p.MeetingsPerMonth, 'f', -1, 64), strconv.FormatFloat(p.SQLsPerMonth, 'f', -1, 64)))
	if p.ManagementMonthly > 0 {
		parts = append(parts, "management "+formatMoney(p.ManagementMonthly, cur)+"/month")
	}
	return strings.Join(parts, " · ")
}

// measures lays the comparison out as rows of measures with a column per
// scenario, the best of each measure marked.
func measures(c staffing.Comparison, cur string) []measureRow {
	num := func(v float64, dec int) string { return strconv.FormatFloat(v, 'f', dec, 64) }
	opt := func(v *float64, f func(float64) string) string {
		if v == nil {
			return "n/a"
		}
		return f(*v)
	}
	month := func(m *int) string {
		if m == nil {
			return "not within 24"
		}
		return "month " + strconv.Itoa(*m)
	}
	money := func(v float64) string { return formatMoney(int64(v+0.5), cur) }
	type def struct {
		label, best string
		get         func(staffing.Plan) string
	}
	defs := []def{
		{"Meetings and SQLs per rep from", "", func(p staffing.Plan) string {
			if p.Assumptions.Source == staffing.Actual {
				return fmt.Sprintf("actual from %d month%s", p.Assumptions.Months, map[bool]string{true: "", false: "s"}[p.Assumptions.Months == 1])
			}
			return "assumed"
		}},
		{"Total cost, 24 months", "", func(p staffing.Plan) string { return formatMoney(p.Summary.TotalCost, p.Scenario.Currency) }},
		{"Productive rep-months", "", func(p staffing.Plan) string { return num(p.Summary.ProductiveMonths, 1) }},
		{"Meetings", "", func(p staffing.Plan) string { return num(p.Summary.Meetings, 0) }},
		{"SQLs", "", func(p staffing.Plan) string { return num(p.Summary.SQLs, 0) }},
		{"Won customers", "", func(p staffing.Plan) string { return opt(p.Summary.Won, func(v float64) string { return num(v, 1) }) }},
		{"Cost per productive month", "cost_per_productive_month", func(p staffing.Plan) string { return opt(p.Summary.CostPerProductiveMonth, money) }},
		{"Cost per meeting", "cost_per_meeting", func(p staffing.Plan) string { return opt(p.Summary.CostPerMeeting, money) }},
		{"Cost per SQL", "cost_per_sql", func(p staffing.Plan) string { return opt(p.Summary.CostPerSQL, money) }},
		{"Cost per won customer (this team's CAC)", "cost_per_won", func(p staffing.Plan) string { return opt(p.Summary.CostPerWon, money) }},
		{"At full capacity from", "full_capacity_month", func(p staffing.Plan) string { return month(p.Summary.FullCapacityMonth) }},
		{"Break-even", "break_even_month", func(p staffing.Plan) string {
			if p.Summary.BreakEvenMonth == nil {
				return "—"
			}
			return month(p.Summary.BreakEvenMonth)
		}},
		{"LTV (simple_gm)", "", func(p staffing.Plan) string {
			if p.Summary.LTV == nil {
				return "n/a"
			}
			s := money(p.Summary.LTV.Value)
			if p.Summary.LTV.Lifetime.Capped {
				s += " (lifetime capped)"
			}
			return s
		}},
		{"LTV:CAC", "", func(p staffing.Plan) string {
			return opt(p.Summary.LTVToCAC, func(v float64) string { return num(v, 2) + ":1" })
		}},
		{"Per rep: productive months over a tenure (P)", "", func(p staffing.Plan) string {
			if p.Summary.PerRep == nil {
				return "—"
			}
			r := p.Summary.PerRep
			return fmt.Sprintf("%s = %d − %d + %d × %s %%", num(r.ProductiveMonths, 2), r.TenureMonths, r.RampMonths, r.RampMonths, pctText(r.AverageRamp))
		}},
	}
	var out []measureRow
	for _, d := range defs {
		row := measureRow{Label: d.label}
		for _, p := range c.Plans {
			cell := measureCell{Text: d.get(p)}
			if p.Problem != "" {
				cell.Text = "—"
			}
			if d.best != "" && len(c.Plans) > 1 && c.Best[d.best] == p.Scenario.ID {
				cell.Best = true
			}
			row.Cells = append(row.Cells, cell)
		}
		out = append(out, row)
	}
	return out
}

func (u *UI) economicsScenarioSave(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	profiles, err := u.d.Econ.Profiles(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var id int64
	action, submit := "/economics/staffing", "Create scenario"
	if r.PathValue("id") != "" {
		if id, err = httpx.PathID(r, "id"); err != nil {
			u.notFound(w, r, s)
			return
		}
		action, submit = fmt.Sprintf("/economics/staffing/%d", id), "Save scenario"
	}
	prs, err := u.partnerOptions(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := scenarioForm(action, submit, ws.Currency, u.segmentsOf(r, s.WS()), profiles, prs)
	f.read(r)
	in := scenarioInput(f, ws.Currency)
	if len(f.Errors) == 0 {
		if id == 0 {
			_, err = u.d.Staffing.Create(ctx, s.Actor(), in)
		} else {
			_, err = u.d.Staffing.Replace(ctx, s.Actor(), id, in)
		}
		if err == nil {
			if id == 0 {
				redirect(w, r, "/economics/staffing?notice=created")
			} else {
				redirect(w, r, "/economics/staffing?notice=saved")
			}
			return
		}
		if !f.setError(scenarioFieldErr(err)) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showStaffing(w, r, s, http.StatusUnprocessableEntity, func(p *staffingPage) {
		if id == 0 {
			p.Create, p.CreateErr = f, true
			return
		}
		for i := range p.Scenarios {
			if p.Scenarios[i].ID == id {
				p.Scenarios[i].Edit, p.Scenarios[i].Open = f, true
			}
		}
	})
}

// scenarioFieldErr points a ramp_curve[i] error at the ramp curve input.
func scenarioFieldErr(err error) error {
	var fe *store.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Field, "ramp_curve[") {
		return &store.FieldError{Field: "ramp_curve", Message: "value " + strings.TrimSuffix(strings.TrimPrefix(fe.Field, "ramp_curve["), "]") + " (from 0): " + fe.Message}
	}
	return err
}

func (u *UI) economicsScenarioDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Staffing.Delete(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/staffing?notice=deleted")
}

func (u *UI) economicsStaffingExample(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := u.d.Staffing.AddArticleExample(r.Context(), s.Actor()); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/staffing?notice=example")
}
