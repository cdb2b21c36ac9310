package web

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The economics section (docs/economics.md): an overview of the inputs unit
// economics is computed from, and pages for the spend ledger, people costs,
// the staffing planner, market sizing and the settings. Admins and managers
// only: what people cost is not for every rep to read. Every write goes
// through internal/economics or internal/staffing, which the API calls too.

// pctText shows a fraction as a percentage for an input: 0.8 → "80".
func pctText(f float64) string {
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(f*100, 'f', 4, 64), "0"), ".")
}

// parsePct reads a percentage typed into a form ("80", "80 %", "7.65") as a
// fraction; ok is false for an empty input.
func parsePct(s string) (float64, bool, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if t == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("%q is not a percentage (for example 7.65)", strings.TrimSpace(s))
	}
	return v / 100, true, nil
}

// parseNum reads a plain decimal number ("2", "1.5"); ok is false when empty.
func parseNum(s string) (float64, bool, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(t, ",", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, fmt.Errorf("%q is not a number", t)
	}
	return v, true, nil
}

// moneyF shows a fractional amount of minor units (a ratio) rounded to the
// minor unit.
func moneyF(v *float64, cur string) string {
	if v == nil {
		return "n/a"
	}
	return formatMoney(int64(math.Round(*v)), cur)
}

// segmentsOf is the default segments plus those the workspace's segment rules use.
func (u *UI) segmentsOf(r *http.Request, ws int64) []string {
	out := slices.Clone(model.Segments)
	rules, err := u.d.St.Read().SegmentRules(r.Context(), ws)
	if err != nil {
		return out
	}
	for _, sr := range rules {
		if sr.Segment != "" && !slices.Contains(out, sr.Segment) {
			out = append(out, sr.Segment)
		}
	}
	return out
}

type allocRow struct {
	Segment, Motion         string
	Explicit, ByRule, Total string
}

type peopleRow struct {
	Role, Motion string
	Headcount    string // average FTE over the months with headcount
	Amount       string
}

type econHub struct {
	Currency    string
	From, To    string
	Tiles       []tile
	Settings    economics.Settings
	Payback     []kv
	SpendChart  barChart
	Alloc       []allocRow
	Unallocated []economics.UnallocatedCell
	People      []peopleRow
	Market      economics.Market
	MarketRows  []marketRow
	Pending     []string
	OtherCur    bool
	Rules       int
	GM, Disc    string // percentages
	// Metrics is the unit economics report (economics_metrics.go); Problem a
	// report parameter that could not be read.
	Metrics econMetricsView
	Problem string
}

type kv struct{ K, V string }

type marketRow struct {
	Segment       string
	TAM, SAM, SOM string
	Arithmetic    []string
	Source        string
}

func marketRows(m economics.Market) []marketRow {
	var out []marketRow
	for _, s := range m.Segments {
		out = append(out, marketRow{Segment: s.Segment, TAM: formatMoneyShort(s.TAM, m.Currency), SAM: formatMoneyShort(s.SAM, m.Currency),
			SOM: formatMoneyShort(s.SOM, m.Currency), Arithmetic: s.Arithmetic, Source: s.Source})
	}
	return out
}

func (u *UI) economicsHub(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	mv, problem, err := u.metricsView(r, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	from, to := mv.M.From, mv.M.To
	in, err := u.d.Econ.Inputs(ctx, s.WS(), from, to)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	scs, err := u.d.Staffing.List(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	cur := ws.Currency
	d := econHub{Currency: cur, From: from, To: to, Settings: in.Settings, Market: in.Market, MarketRows: marketRows(in.Market),
		Pending: in.Pending, Unallocated: in.Spend.Unallocated, Rules: in.Rules, GM: pctText(in.Settings.GrossMargin), Disc: pctText(in.Settings.DiscountRate),
		Metrics: mv, Problem: problem}
	var spend, people int64
	for _, t := range in.Spend.Totals {
		if t.Currency == cur {
			spend = t.Amount
		} else {
			d.OtherCur = true
		}
	}
	for _, t := range in.PeopleCost.Totals {
		if t.Currency == cur {
			people = t.Amount
		} else {
			d.OtherCur = true
		}
	}
	som := "—"
	if in.Market.Saved {
		som = formatMoneyShort(in.Market.SOM, in.Market.Currency)
	}
	d.Tiles = []tile{
		{Label: "Spend in the window", Value: formatMoneyShort(spend, cur), Sub: fmt.Sprintf("%s entries · %s to %s", formatNumber(int64(in.Spend.Entries)), from, to), Href: "/economics/spend"},
		{Label: "People cost in the window", Value: formatMoneyShort(people, cur), Sub: fmt.Sprintf("%d cost profiles", len(in.Profiles)), Href: "/economics/people"},
		{Label: "Staffing scenarios", Value: formatNumber(int64(len(scs))), Sub: "in-house vs partner, 24 months", Href: "/economics/staffing"},
		{Label: "Obtainable market (SOM)", Value: som, Sub: "per year", Href: "/economics/market"},
	}
	for _, k := range sortedSegments(in.Settings.PaybackTargetMonths) {
		v := strconv.FormatFloat(in.Settings.PaybackTargetMonths[k], 'f', -1, 64) + " months"
		if in.Settings.IsDefault("payback_target_months." + k) {
			v += " (default)"
		}
		d.Payback = append(d.Payback, kv{humanize(k), v})
	}
	byCat := map[string]int64{}
	for _, c := range in.Spend.ByCategory {
		if c.Currency == cur {
			byCat[c.Category] += c.Amount
		}
	}
	var bars []bar
	for _, c := range model.SpendCategories {
		bars = append(bars, bar{Label: humanize(c), Value: max(byCat[c], 0), Display: formatMoneyShort(byCat[c], cur), Href: "/economics/spend?category=" + c})
	}
	d.SpendChart = newBarChart("chart-spend-category", "Spend by category, "+from+" to "+to, bars)
	for _, c := range in.Spend.Allocated {
		if c.Currency != cur {
			continue
		}
		d.Alloc = append(d.Alloc, allocRow{Segment: c.Segment, Motion: c.Motion, Explicit: formatMoney(c.Explicit, cur), ByRule: formatMoney(c.ByRule, cur), Total: formatMoney(c.Total, cur)})
	}
	d.People = peopleRows(in.PeopleCost, cur)
	u.render(w, r, http.StatusOK, "economics", view{Title: "Economics", Section: "economics", S: s, D: d})
}

// peopleRows totals people cost by role and motion over the window, in cur.
func peopleRows(pc economics.PeopleCost, cur string) []peopleRow {
	type rm struct{ role, motion string }
	amt, fte, months := map[rm]int64{}, map[rm]float64{}, map[rm]int{}
	for _, row := range pc.Rows {
		if row.Currency != cur {
			continue
		}
		k := rm{row.Role, row.Motion}
		amt[k] += row.Amount
		fte[k] += row.Headcount
		months[k]++
	}
	keys := make([]rm, 0, len(amt))
	for k := range amt {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].role != keys[j].role {
			return slices.Index(model.CostRoles, keys[i].role) < slices.Index(model.CostRoles, keys[j].role)
		}
		return keys[i].motion < keys[j].motion
	})
	var out []peopleRow
	for _, k := range keys {
		out = append(out, peopleRow{Role: k.role, Motion: k.motion, Headcount: strconv.FormatFloat(fte[k]/float64(months[k]), 'f', 1, 64), Amount: formatMoney(amt[k], cur)})
	}
	return out
}

// sortedSegments orders segment keys: the default segments by size, then the rest.
func sortedSegments[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := slices.Index(model.Segments, out[i]), slices.Index(model.Segments, out[j])
		switch {
		case a >= 0 && b >= 0:
			return a < b
		case a >= 0:
			return true
		case b >= 0:
			return false
		}
		return out[i] < out[j]
	})
	return out
}

// ---- settings -------------------------------------------------------------------

type econSettingsPage struct {
	F        *form
	Settings economics.Settings
	Defaults string // the settings still at their default, in words
}

func defaultsText(st economics.Settings) string {
	var out []string
	for _, d := range st.Defaults {
		if seg, ok := strings.CutPrefix(d, "payback_target_months."); ok {
			out = append(out, "payback target for "+humanize(seg))
			continue
		}
		out = append(out, strings.ToLower(humanize(d)))
	}
	return strings.Join(out, ", ")
}

func (u *UI) econSettingsForm(r *http.Request, s *session, st economics.Settings) *form {
	fields := []field{
		{Name: "gross_margin", Label: "Gross margin (%)", Type: "number", Required: true, Hint: "Revenue minus cost of service, as a share of revenue; LTV uses it."},
		{Name: "discount_rate", Label: "Discount rate (% per month)", Type: "number", Required: true, Hint: "For the discounted LTV: 1 % a month is about 12.7 % a year."},
		{Name: "lifetime_cap_months", Label: "Lifetime cap (months)", Type: "number", Required: true, Hint: "A customer lifetime never counts longer than this, e.g. at zero churn."},
		{Name: "ltv_cac_target", Label: "LTV:CAC target", Type: "number", Required: true, Hint: "3 means every unit of acquisition cost must return 3 of lifetime value; max affordable CAC = LTV ÷ target."},
	}
	segs := u.segmentsOf(r, s.WS())
	for k := range st.PaybackTargetMonths {
		if !slices.Contains(segs, k) {
			segs = append(segs, k)
		}
	}
	for _, seg := range segs {
		fd := field{Name: "payback." + seg, Label: "CAC payback target, " + humanize(seg) + " (months)", Type: "number", Hint: "Empty: no target."}
		if d, ok := economics.DefaultPaybackTargets[seg]; ok {
			fd.Placeholder = strconv.FormatFloat(d, 'f', -1, 64) + " (default)"
			fd.Hint = "Empty: the default, " + fd.Placeholder[:len(fd.Placeholder)-len(" (default)")] + " months."
		}
		fields = append(fields, fd)
	}
	fields = append(fields,
		field{Name: "paid_channels", Label: "Paid channels", Type: "text", Wide: true, Placeholder: "paid_search, paid_social, display",
			Hint: "Channel keys, comma-separated: customers whose first contact came from one of these count as paid for paid CAC."},
		field{Name: "working_hours_per_year", Label: "Working hours a year", Type: "number", Required: true,
			Hint: "Cost-to-close turns a loaded annual cost into an hourly one with it (1,800 is about 45 weeks × 40 hours)."})
	fields = append(fields, field{Name: "plan_margins", Label: "Gross margin per plan", Type: "textarea", Wide: true, Placeholder: "pro = 85\nenterprise = 78",
		Hint: "One plan per line, \"plan = percent\"; plans not listed use the workspace's gross margin."})
	f := newForm("/economics/settings", "Save settings", "/economics", fields)
	f.Values["gross_margin"] = pctText(st.GrossMargin)
	f.Values["discount_rate"] = pctText(st.DiscountRate)
	f.Values["lifetime_cap_months"] = strconv.Itoa(st.LifetimeCapMonths)
	f.Values["ltv_cac_target"] = strconv.FormatFloat(st.LTVCACTarget, 'f', -1, 64)
	f.Values["paid_channels"] = strings.Join(st.PaidChannels, ", ")
	f.Values["working_hours_per_year"] = strconv.Itoa(st.WorkingHoursPerYear)
	for k, v := range st.PaybackTargetMonths {
		if !st.IsDefault("payback_target_months." + k) {
			f.Values["payback."+k] = strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	var lines []string
	for _, k := range sortedKeys(st.PlanMargins) {
		lines = append(lines, k+" = "+pctText(st.PlanMargins[k]))
	}
	f.Values["plan_margins"] = strings.Join(lines, "\n")
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (u *UI) economicsSettings(w http.ResponseWriter, r *http.Request, s *session) {
	st, err := u.d.Econ.Settings(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	note := ""
	if r.URL.Query().Get("notice") == "saved" {
		note = "Economics settings saved."
	}
	u.render(w, r, http.StatusOK, "economics_settings", view{Title: "Economics settings", Section: "economics", S: s, D: econSettingsPage{F: u.econSettingsForm(r, s, st), Settings: st, Defaults: defaultsText(st)}, Notice: note})
}

func (u *UI) economicsSettingsSave(w http.ResponseWriter, r *http.Request, s *session) {
	st, err := u.d.Econ.Settings(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := u.econSettingsForm(r, s, st)
	f.read(r)
	var in economics.SettingsInput
	pct := func(name string) *float64 {
		v, ok, err := parsePct(f.Values[name])
		switch {
		case err != nil:
			f.Errors[name] = err.Error()
		case !ok:
			f.Errors[name] = "is required"
		default:
			return &v
		}
		return nil
	}
	in.GrossMargin, in.DiscountRate = pct("gross_margin"), pct("discount_rate")
	if n, err := strconv.Atoi(f.Values["lifetime_cap_months"]); err != nil {
		f.Errors["lifetime_cap_months"] = "must be a whole number of months"
	} else {
		in.LifetimeCapMonths = &n
	}
	if v, ok, err := parseNum(f.Values["ltv_cac_target"]); err != nil || !ok {
		f.Errors["ltv_cac_target"] = "must be a number such as 3"
	} else {
		in.LTVCACTarget = &v
	}
	var paid []string
	for _, c := range strings.Split(f.Values["paid_channels"], ",") {
		if c = strings.TrimSpace(c); c != "" {
			paid = append(paid, c)
		}
	}
	if paid == nil {
		paid = []string{}
	}
	in.PaidChannels = &paid
	if n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(f.Values["working_hours_per_year"]), ",", "")); err != nil {
		f.Errors["working_hours_per_year"] = "must be a whole number of hours"
	} else {
		in.WorkingHoursPerYear = &n
	}
	in.PaybackTargetMonths = map[string]*float64{}
	for _, fd := range f.Fields {
		seg, ok := strings.CutPrefix(fd.Name, "payback.")
		if !ok {
			continue
		}
		v, set, err := parseNum(f.Values[fd.Name])
		switch {
		case err != nil:
			f.Errors[fd.Name] = err.Error()
		case set:
			in.PaybackTargetMonths[seg] = &v
		default:
			in.PaybackTargetMonths[seg] = nil // back to the default
		}
	}
	in.PlanMargins = map[string]*float64{}
	for k := range st.PlanMargins {
		in.PlanMargins[k] = nil // lines removed from the text go away
	}
	for i, line := range strings.Split(f.Values["plan_margins"], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		p, set, err := parsePct(v)
		if !ok || err != nil || !set {
			f.Errors["plan_margins"] = fmt.Sprintf("line %d: write \"plan = percent\", e.g. pro = 85", i+1)
			break
		}
		in.PlanMargins[strings.TrimSpace(k)] = &p
	}
	if len(f.Errors) == 0 {
		if _, err := u.d.Econ.SaveSettings(r.Context(), s.Actor(), in); err == nil {
			redirect(w, r, "/economics/settings?notice=saved")
			return
		} else if !f.setError(settingsField(err)) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "economics_settings", view{Title: "Economics settings", Section: "economics", S: s, D: econSettingsPage{F: f, Settings: st, Defaults: defaultsText(st)}})
}

// settingsField maps the service's field names onto the form's.
func settingsField(err error) error {
	fe, ok := err.(*store.FieldError)
	if !ok {
		return err
	}
	switch {
	case strings.HasPrefix(fe.Field, "payback_target_months."):
		return &store.FieldError{Field: "payback." + strings.TrimPrefix(fe.Field, "payback_target_months."), Message: fe.Message}
	case strings.HasPrefix(fe.Field, "paid_channels"):
		return &store.FieldError{Field: "paid_channels", Message: fe.Message}
	case strings.HasPrefix(fe.Field, "plan_margins."):
		return &store.FieldError{Field: "plan_margins", Message: strings.TrimPrefix(fe.Field, "plan_margins.") + ": " + fe.Message}
	}
	return err
}

// ---- market sizing --------------------------------------------------------------

type marketPage struct {
	Rows     []marketInputRow
	Currency string
	Err      string
	Errs     map[string]string
	ErrList  []string // Errs in words, in row order
	Market   economics.Market
	Results  []marketRow
	Preset   bool
}

type marketInputRow struct {
	I                                                       int
	Segment, Accounts, PerAccount, Total, Serv, Obt, Source string
}

const marketBlankRows = 2

func marketInputRows(m economics.Market) []marketInputRow {
	var out []marketInputRow
	for i, s := range m.Segments {
		row := marketInputRow{I: i, Segment: s.Segment, Accounts: strconv.FormatInt(s.Accounts, 10), Serv: pctText(s.ServiceableShare), Obt: pctText(s.ObtainableShare), Source: s.Source}
		if s.SpendPerAccount != nil {
			row.PerAccount = majorUnits(*s.SpendPerAccount, m.Currency)
		}
		if s.SpendTotal != nil {
			row.Total = majorUnits(*s.SpendTotal, m.Currency)
		}
		out = append(out, row)
	}
	for k := 0; k < marketBlankRows; k++ {
		out = append(out, marketInputRow{I: len(out)})
	}
	return out
}

func (u *UI) economicsMarket(w http.ResponseWriter, r *http.Request, s *session) {
	m, err := u.d.Econ.Market(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := marketPage{Currency: m.Currency, Market: m, Results: marketRows(m)}
	note := ""
	if r.URL.Query().Get("preset") == "article" {
		if m, err = economics.SizeMarket(economics.ArticleMarket()); err != nil {
			u.fail(w, r, s, err)
			return
		}
		p = marketPage{Currency: m.Currency, Market: m, Results: marketRows(m), Preset: true}
		note = "The article's example is loaded below, computed but not saved. Replace the example shares with yours and save."
	}
	if r.URL.Query().Get("notice") == "saved" {
		note = "Market sizing saved."
	}
	p.Rows = marketInputRows(m)
	u.render(w, r, http.StatusOK, "economics_market", view{Title: "Market sizing", Section: "economics", S: s, D: p, Notice: note})
}

func (u *UI) economicsMarketSave(w http.ResponseWriter, r *http.Request, s *session) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, s, &store.FieldError{Field: "form", Message: "could not be read"})
		return
	}
	p := marketPage{Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency"))), Errs: map[string]string{}}
	var ms model.MarketSizing
	ms.Currency = p.Currency
	n, _ := strconv.Atoi(r.PostFormValue("rows"))
	n = min(max(n, 0), 52)
	var formRow []int
	for i := range n {
		get := func(k string) string { return strings.TrimSpace(r.PostFormValue(fmt.Sprintf("m%d.%s", i, k))) }
		row := marketInputRow{I: i, Segment: get("segment"), Accounts: get("accounts"), PerAccount: get("per_account"), Total: get("total"), Serv: get("serviceable"), Obt: get("obtainable"), Source: get("source")}
		p.Rows = append(p.Rows, row)
		if row.Segment == "" && row.Accounts == "" && row.PerAccount == "" && row.Total == "" {
			continue // a blank row
		}
		fail := func(k, msg string) {
			if p.Errs[fmt.Sprintf("m%d.%s", i, k)] == "" {
				p.Errs[fmt.Sprintf("m%d.%s", i, k)] = msg
			}
		}
		seg := model.MarketSegment{Segment: row.Segment, Source: row.Source}
		if v, err := strconv.ParseInt(strings.ReplaceAll(row.Accounts, ",", ""), 10, 64); err != nil {
			fail("accounts", "a whole number of businesses")
		} else {
			seg.Accounts = v
		}
		cur := ms.Currency
		if cur == "" {
			cur = "USD"
		}
		if v, ok, err := parseMoney(row.PerAccount, cur); err != nil {
			fail("per_account", err.Error())
		} else if ok {
			seg.SpendPerAccount = &v
		}
		if v, ok, err := parseMoney(row.Total, cur); err != nil {
			fail("total", err.Error())
		} else if ok {
			seg.SpendTotal = &v
		}
		if v, _, err := parsePct(row.Serv); err != nil {
			fail("serviceable", err.Error())
		} else {
			seg.ServiceableShare = v
		}
		if v, _, err := parsePct(row.Obt); err != nil {
			fail("obtainable", err.Error())
		} else {
			seg.ObtainableShare = v
		}
		formRow = append(formRow, i)
		ms.Segments = append(ms.Segments, seg)
	}
	if len(p.Errs) == 0 {
		_, err := u.d.Econ.SaveMarket(r.Context(), s.Actor(), ms)
		if err == nil {
			redirect(w, r, "/economics/market?notice=saved")
			return
		}
		fe, ok := err.(*store.FieldError)
		if !ok {
			u.fail(w, r, s, err)
			return
		}
		p.Err = marketFieldError(fe, formRow, p.Errs)
	}
	if p.Err == "" {
		p.Err = "Please correct the fields listed below."
	}
	labels := map[string]string{"segment": "segment", "accounts": "businesses", "per_account": "spend per business", "total": "spend in total",
		"serviceable": "serviceable share", "obtainable": "obtainable share", "source": "source"}
	for _, k := range sortedKeys(p.Errs) {
		row, in, _ := strings.Cut(strings.TrimPrefix(k, "m"), ".")
		n, _ := strconv.Atoi(row)
		p.ErrList = append(p.ErrList, fmt.Sprintf("Row %d, %s: %s", n+1, labels[in], p.Errs[k]))
	}
	u.render(w, r, http.StatusUnprocessableEntity, "economics_market", view{Title: "Market sizing", Section: "economics", S: s, D: p})
}

// marketInputs names the form input of each market segment field.
var marketInputs = map[string]string{"segment": "segment", "accounts": "accounts", "annual_spend_per_account": "per_account",
	"annual_spend_total": "total", "serviceable_share": "serviceable", "obtainable_share": "obtainable", "source": "source"}

// marketFieldError places a service error ("segments[1].accounts") next to
// its input in the form (formRow maps the n-th saved segment to its form row);
// errors not about one input come back as the form's message.
func marketFieldError(fe *store.FieldError, formRow []int, errs map[string]string) string {
	f := fe.Field
	if rest, ok := strings.CutPrefix(f, "segments["); ok {
		if end := strings.Index(rest, "]"); end > 0 {
			if n, err := strconv.Atoi(rest[:end]); err == nil && n < len(formRow) {
				if in, ok := marketInputs[strings.TrimPrefix(rest[end+1:], ".")]; ok {
					errs[fmt.Sprintf("m%d.%s", formRow[n], in)] = fe.Message
					return ""
				}
			}
		}
	}
	return humanize(f) + ": " + fe.Message
}
