package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/subscriptions"
)

// The metrics on /economics (docs/economics.md): KPI tiles coloured by the
// guardrails, the segment × motion matrix with the numbers behind each
// colour, recommendations with their arithmetic, CAC payback and an MRR
// waterfall, cohort heatmaps, funnel cost per stage, CAC by period and
// channel, cost-to-close of open high-touch deals and every convention.

// econTile is a KPI tile with a guardrail tone (good, warn, bad or "").
type econTile struct {
	Label, Value, Sub, Href, Tone string
}

type matrixCellView struct {
	economics.CellMetrics
	Tone                                           string
	LTVCAC, CAC, LTV, Payback, MaxCAC, ARPA, Churn string
}

type matrixRowView struct {
	Segment string
	Cells   []matrixCellView
}

type heatCell struct {
	Text, Title string
	Heat        int // 0–10, for the heat-N class; -1 none
}

type heatRow struct {
	Cohort, Customers, Realised, CohortLTV string
	Cells                                  []heatCell
}

type funnelRowView struct {
	Motion, Cost string
	Stages       []funnelStageView
}

type funnelStageView struct {
	Stage, Reached, CostPer string
}

type periodRowView struct {
	Key, New, Paid, Blended, PaidCAC, Fully, Churn, MRREnd, Net string
	Partial                                                     bool
}

type channelRowView struct {
	Channel, Spend, New, CAC, Note string
	Paid                           bool
}

type convView struct{ Key, Label, Text string }

type groupRowView struct {
	Kind, Key, New, Blended, Paid, Fully string
}

type costRowView struct {
	DealID               int64
	Name, Segment, Hours string
	Cost, Limit          string
	Exceeds              bool
}

type alertView struct {
	economics.Alert
	When string
}

type econMetricsView struct {
	M               economics.Metrics
	Params          economics.MetricsParams
	Query           string // the report's query string, for links to the JSON
	Tiles           []econTile
	Motions         []string
	Rows            []matrixRowView
	Payback         barChart
	Waterfall       waterfall
	Logo, Revenue   []heatRow
	MaxAge          []int
	Funnel          []funnelRowView
	Periods         []periodRowView
	Channels        []channelRowView
	Groups          []groupRowView
	Costs           []costRowView
	Conventions     []convView
	Alerts          []alertView
	PeriodGroups    []optGroup
	ChurnGroups     []optGroup
	LTVGroups       []optGroup
	CACGroups       []optGroup
	HeadlineVariant string
}

// toneOf maps a guardrail status to a visual tone.
func toneOf(status string) string {
	switch status {
	case economics.StatusGreen:
		return "good"
	case economics.StatusAmber:
		return "warn"
	case economics.StatusRed:
		return "bad"
	}
	return ""
}

func fmtRatioPtr(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", *v), "0"), ".")
}

func fmtPctPtr(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f %%", *v*100)
}

func fmtMonths(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f mo", *v)
}

// convLabels names the conventions in display order.
var convLabels = []struct{ Key, Label string }{
	{"window", "Window"}, {"currency", "Currency"}, {"customer", "Customers"}, {"channel", "Channels and paid customers"},
	{"mrr", "MRR and ARR"}, {"arpa", "ARPA"}, {"logo_churn", "Logo churn"}, {"mrr_churn", "MRR churn"}, {"nrr", "NRR and GRR"},
	{"quick_ratio", "Quick ratio"}, {"magic_number", "Magic number"}, {"cac_blended", "Blended CAC"}, {"cac_paid", "Paid CAC"},
	{"cac_fully_loaded", "Fully loaded CAC"}, {"people_to_cells", "People cost by segment"}, {"gross_margin", "Gross margin"},
	{"ltv_simple_gm", "LTV simple_gm"}, {"ltv_revenue", "LTV revenue"}, {"ltv_ecom", "LTV ecom"}, {"ltv_discounted", "LTV discounted"},
	{"ltv_cohort", "LTV cohort"}, {"ltv_cac", "LTV:CAC and max affordable CAC"}, {"payback", "CAC payback"}, {"guardrail", "Guardrail colours"},
	{"cohorts", "Cohorts"}, {"funnel", "Funnel economics"}, {"cost_to_close", "Cost-to-close"},
}

// metricsView computes the report for the query's parameters; a bad parameter
// falls back to the defaults with the error shown.
func (u *UI) metricsView(r *http.Request, s *session) (econMetricsView, string, error) {
	q := r.URL.Query()
	p := economics.MetricsParams{From: q.Get("from"), To: q.Get("to"), Period: q.Get("period"), Churn: q.Get("churn"), LTV: q.Get("ltv"), CAC: q.Get("cac")}
	m, err := u.d.Econ.Metrics(r.Context(), s.WS(), p)
	problem := ""
	var fe *store.FieldError
	if errors.As(err, &fe) {
		problem = fmt.Sprintf("%s: %s — showing the defaults instead.", humanize(fe.Field), fe.Message)
		m, err = u.d.Econ.Metrics(r.Context(), s.WS(), economics.MetricsParams{})
	}
	if err != nil {
		return econMetricsView{}, "", err
	}
	v := econMetricsView{M: m, Params: economics.MetricsParams{From: m.From, To: m.To, Period: m.Period, Churn: m.Churn, LTV: m.Matrix.LTV, CAC: m.Matrix.CAC},
		PeriodGroups: econOptions(economics.ReportPeriods), ChurnGroups: econOptions(economics.ChurnConventions), LTVGroups: econOptions(economics.LTVVariants),
		CACGroups: econOptions(economics.CACVariants), Motions: m.Matrix.Motions, HeadlineVariant: m.Summary.Headline.Variant}
	vals := url.Values{}
	vals.Set("from", m.From)
	vals.Set("to", m.To)
	vals.Set("period", m.Period)
	vals.Set("churn", m.Churn)
	vals.Set("ltv", m.Matrix.LTV)
	vals.Set("cac", m.Matrix.CAC)
	v.Query = vals.Encode()
	cur := m.Currency
	money := func(f *float64) string { return moneyF(f, cur) }
	sm := m.Summary

	cacVal := sm.CAC.FullyLoaded
	if m.Matrix.CAC == economics.CACBlended {
		cacVal = sm.CAC.Blended
	}
	magicSub := "no complete quarter"
	if sm.MagicQuarter != "" {
		magicSub = sm.MagicQuarter
	}
	churnSub := "a month, " + humanize(m.Churn)
	v.Tiles = []econTile{
		{Label: "MRR", Value: formatMoneyShort(sm.MRR, cur), Sub: "ARR " + formatMoneyShort(sm.ARR, cur) + " · " + formatNumber(sm.Customers) + " customers", Href: "#conv-mrr"},
		{Label: "NRR / GRR", Value: fmtPctPtr(sm.NRR), Sub: "GRR " + fmtPctPtr(sm.GRR), Href: "#conv-nrr"},
		{Label: "Logo churn", Value: fmtPctPtr(sm.LogoChurn.Monthly), Sub: churnSub, Href: "#conv-logo_churn"},
		{Label: "Quick ratio", Value: fmtRatioPtr(sm.QuickRatio), Sub: "(new + expansion) ÷ (contraction + churn)", Href: "#conv-quick_ratio"},
		{Label: "Magic number", Value: fmtRatioPtr(sm.MagicNumber), Sub: magicSub, Href: "#conv-magic_number"},
		{Label: "CAC (" + humanize(m.Matrix.CAC) + ")", Value: money(cacVal.Value), Sub: "blended " + money(sm.CAC.Blended.Value) + " · paid " + money(sm.CAC.Paid.Value), Href: "#conv-cac_" + m.Matrix.CAC},
		{Label: "LTV (" + sm.Headline.Variant + ")", Value: money(sm.Headline.Value), Sub: "ARPA " + money(sm.ARPA) + capped(sm.Headline.Capped), Href: "#conv-ltv_" + sm.Headline.Variant},
		{Label: "LTV:CAC", Value: fmtRatioPtr(sm.LTVToCAC), Sub: fmt.Sprintf("target %s:1", trimNum(m.Matrix.Target)), Href: "#matrix", Tone: toneOf(sm.Status)},
		{Label: "CAC payback", Value: fmtMonths(sm.PaybackMonths), Sub: "CAC ÷ (ARPA × gross margin)", Href: "#conv-payback"},
		{Label: "Max affordable CAC", Value: money(sm.MaxAffordableCAC), Sub: "LTV ÷ " + trimNum(m.Matrix.Target), Href: "#conv-ltv_cac"},
	}

	// The matrix, segment rows × motion columns.
	var paybackBars []bar
	for _, seg := range m.Matrix.Segments {
		row := matrixRowView{Segment: seg}
		for _, mot := range m.Matrix.Motions {
			for _, c := range m.Matrix.Cells {
				if c.Segment != seg || c.Motion != mot {
					continue
				}
				cv := matrixCellView{CellMetrics: c, Tone: toneOf(c.Status), LTVCAC: fmtRatioPtr(c.LTVToCAC), CAC: money(c.CACUsed), LTV: money(c.LTVUsed),
					Payback: fmtMonths(c.PaybackMonths), MaxCAC: money(c.MaxAffordableCAC), ARPA: money(c.ARPA), Churn: fmtPctPtr(c.Churn.Monthly)}
				row.Cells = append(row.Cells, cv)
				if c.PaybackMonths != nil && *c.PaybackMonths >= 0 {
					disp := fmt.Sprintf("%.1f months", *c.PaybackMonths)
					if c.PaybackTarget != nil {
						disp += fmt.Sprintf(" (target %s)", trimNum(*c.PaybackTarget))
					}
					paybackBars = append(paybackBars, bar{Label: humanize(seg) + " · " + humanize(mot), Value: int64(math.Round(*c.PaybackMonths * 10)), Display: disp, Tone: toneOf(c.Status), Href: "#cell-" + seg + "-" + mot})
				}
			}
		}
		v.Rows = append(v.Rows, row)
	}
	v.Payback = widenBarChart(newBarChart("chart-payback", "CAC payback by segment × motion, months", paybackBars), 200, 190)
	v.Waterfall = newWaterfall("chart-mrr-waterfall", "MRR movements, "+m.From+" to "+m.To, m.MRR.Bridge, cur)

	// Cohort heatmaps.
	for k := 0; k <= m.Cohorts.MaxAge; k++ {
		v.MaxAge = append(v.MaxAge, k)
	}
	for _, c := range m.Cohorts.Rows {
		lr := heatRow{Cohort: c.Cohort, Customers: formatNumber(c.Customers), Realised: money(c.RealisedLTV), CohortLTV: money(c.CohortLTV)}
		rr := heatRow{Cohort: c.Cohort, Customers: formatMoney(c.StartMRR, cur), Realised: money(c.RealisedLTV), CohortLTV: money(c.CohortLTV)}
		for k := 0; k <= m.Cohorts.MaxAge; k++ {
			if k >= len(c.Logo) {
				lr.Cells = append(lr.Cells, heatCell{Heat: -1})
				rr.Cells = append(rr.Cells, heatCell{Heat: -1})
				continue
			}
			lr.Cells = append(lr.Cells, heatOf(c.Logo[k], fmt.Sprintf("%s, month %d: %d of %d customers active", c.Cohort, k, c.ActiveLogos[k], c.Customers)))
			rr.Cells = append(rr.Cells, heatOf(c.Revenue[k], fmt.Sprintf("%s, month %d: MRR %s of %s", c.Cohort, k, formatMoney(c.MRR[k], cur), formatMoney(c.StartMRR, cur))))
		}
		v.Logo, v.Revenue = append(v.Logo, lr), append(v.Revenue, rr)
	}

	for _, f := range m.Funnel.Rows {
		fr := funnelRowView{Motion: f.Motion, Cost: formatMoney(f.Cost, cur)}
		for _, st := range f.Stages {
			fr.Stages = append(fr.Stages, funnelStageView{Stage: st.Stage, Reached: formatNumber(st.Reached), CostPer: money(st.CostPer)})
		}
		v.Funnel = append(v.Funnel, fr)
	}
	for _, pr := range m.Periods {
		v.Periods = append(v.Periods, periodRowView{Key: pr.Key, Partial: pr.Partial, New: formatNumber(pr.NewCustomers), Paid: formatNumber(pr.PaidNewCustomers),
			Blended: money(pr.CAC.Blended.Value), PaidCAC: money(pr.CAC.Paid.Value), Fully: money(pr.CAC.FullyLoaded.Value), Churn: fmtPctPtr(pr.LogoChurn),
			MRREnd: formatMoney(pr.MRREnd, cur), Net: formatMoney(pr.MRREnd-pr.MRRStart, cur)})
	}
	for _, c := range m.Channels {
		v.Channels = append(v.Channels, channelRowView{Channel: c.Channel, Paid: c.Paid, Spend: formatMoney(c.Spend, cur), New: formatNumber(c.NewCustomers), CAC: money(c.CAC), Note: c.Note})
	}
	for _, g := range m.Segments {
		v.Groups = append(v.Groups, groupRowView{Kind: "segment", Key: g.Key, New: formatNumber(g.NewCustomers), Blended: money(g.CAC.Blended.Value), Paid: money(g.CAC.Paid.Value), Fully: money(g.CAC.FullyLoaded.Value)})
	}
	for _, g := range m.Motions {
		v.Groups = append(v.Groups, groupRowView{Kind: "motion", Key: g.Key, New: formatNumber(g.NewCustomers), Blended: money(g.CAC.Blended.Value), Paid: money(g.CAC.Paid.Value), Fully: money(g.CAC.FullyLoaded.Value)})
	}
	for i, c := range m.CostToClose {
		if i == 8 {
			break
		}
		v.Costs = append(v.Costs, costRowView{DealID: c.DealID, Name: c.Name, Segment: c.Segment, Hours: fmt.Sprintf("%.1f", c.Hours),
			Cost: moneyF(&c.Cost, cur), Limit: money(c.Limit), Exceeds: c.Exceeds})
	}
	for _, c := range convLabels {
		if t, ok := m.Conventions[c.Key]; ok {
			v.Conventions = append(v.Conventions, convView{Key: c.Key, Label: c.Label, Text: t})
		}
	}
	as, err := u.d.Econ.Alerts(r.Context(), s.WS(), true, 20)
	if err != nil {
		return v, problem, err
	}
	for _, a := range as {
		v.Alerts = append(v.Alerts, alertView{Alert: a, When: formatDateTime(a.CreatedAt)})
	}
	return v, problem, nil
}

func econOptions(keys []string) []optGroup {
	g := optGroup{}
	for _, k := range keys {
		g.Options = append(g.Options, option{k, strings.ReplaceAll(k, "_", " ")})
	}
	return []optGroup{g}
}

func capped(c bool) string {
	if c {
		return " · lifetime capped"
	}
	return ""
}

func trimNum(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// heatOf shades a retention share in tenths (over 100 % is the darkest).
func heatOf(v *float64, title string) heatCell {
	if v == nil {
		return heatCell{Text: "n/a", Title: title, Heat: -1}
	}
	h := int(math.Round(*v * 10))
	h = min(max(h, 0), 10)
	return heatCell{Text: fmt.Sprintf("%.0f%%", *v*100), Title: title, Heat: h}
}

// economicsAlertAck acknowledges an alert from the banner.
func (u *UI) economicsAlertAck(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if _, err := u.d.Econ.AcknowledgeAlert(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	back := r.PostFormValue("back")
	if back != "/" && back != "/economics" {
		back = "/economics"
	}
	redirect(w, r, back+"#alerts")
}

// waterfall is the MRR bridge drawn as floating columns: start, each
// movement up or down from where the last one ended, end.
type waterfall struct {
	ID, Title, Desc string
	Width, Height   int
	BaseY           int
	Steps           []waterStep
}

type waterStep struct {
	Label, Display, Class  string
	X, Y, W, H, MidX, LabY int
	ValY                   int
}

func newWaterfall(id, title string, b subscriptions.Bridge, cur string) waterfall {
	const width, height, top, bottom = 640, 230, 26, 30
	w := waterfall{ID: id, Title: title, Width: width, Height: height, BaseY: height - bottom}
	type st struct {
		label    string
		from, to int64
		class    string
		signed   int64
		isTotal  bool
	}
	run := b.Start
	steps := []st{{label: "Start", from: 0, to: b.Start, class: "wf-total", isTotal: true}}
	add := func(label string, delta int64, class string) {
		steps = append(steps, st{label: label, from: run, to: run + delta, class: class, signed: delta})
		run += delta
	}
	add("New", b.New, "wf-up")
	add("Expansion", b.Expansion, "wf-up")
	add("Reactivation", b.Reactivation, "wf-up")
	add("Contraction", -b.Contraction, "wf-down")
	add("Churn", -b.Churn, "wf-down")
	steps = append(steps, st{label: "End", from: 0, to: b.End, class: "wf-total", isTotal: true})
	var hi int64
	for _, s := range steps {
		hi = max(hi, s.from, s.to)
	}
	var desc []string
	slot := width / len(steps)
	track := float64(w.BaseY - top)
	y := func(v int64) int {
		if hi <= 0 {
			return w.BaseY
		}
		return w.BaseY - int(float64(v)/float64(hi)*track)
	}
	for i, s := range steps {
		lo, up := min(s.from, s.to), max(s.from, s.to)
		disp := formatMoneyShort(s.to, cur)
		if !s.isTotal {
			sign := "+"
			if s.signed < 0 {
				sign = "−"
			}
			disp = sign + formatMoneyShort(abs64(s.signed), cur)
		}
		x := i*slot + 10
		ws := waterStep{Label: s.label, Display: disp, Class: s.class, X: x, W: slot - 20, Y: y(up), H: max(y(lo)-y(up), 1), MidX: x + (slot-20)/2, LabY: w.BaseY + 18}
		ws.ValY = ws.Y - 6
		w.Steps = append(w.Steps, ws)
		desc = append(desc, s.label+" "+disp)
	}
	w.Desc = title + ": " + strings.Join(desc, ", ") + "."
	return w
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// costCard is the deal page's cost-to-close card.
type costCard struct {
	Hours, Cost, Limit, Target, Cell, Note string
	Exceeds                                bool
	Lines                                  []string
}

// costCardOf prices an open high-touch deal's time for admins and managers
// (nil for anyone else or any other deal).
func (u *UI) costCardOf(r *http.Request, s *session, d model.Deal) (*costCard, error) {
	if !s.CanManage || d.Outcome != "" || d.Pipeline != "high_touch" {
		return nil, nil
	}
	c, err := u.d.Econ.CostToCloseOf(r.Context(), s.WS(), d.ID)
	if err != nil {
		return nil, err
	}
	cur := c.Currency
	card := &costCard{Hours: fmt.Sprintf("%.1f", c.Hours), Cost: moneyF(&c.Cost, cur), Limit: moneyF(c.Limit, cur), Target: trimNum(c.Target),
		Cell: humanize(c.Segment) + " via " + humanize(c.Motion), Exceeds: c.Exceeds}
	for _, rc := range c.Roles {
		if rc.Cost != nil {
			card.Lines = append(card.Lines, fmt.Sprintf("%s %.1f h × %s/h = %s", humanize(rc.Role), rc.Hours, moneyF(rc.HourlyCost, cur), moneyF(rc.Cost, cur)))
		} else {
			card.Lines = append(card.Lines, fmt.Sprintf("%s %.1f h: %s", humanize(rc.Role), rc.Hours, rc.Note))
		}
	}
	card.Note = fmt.Sprintf("Hourly cost = loaded annual cost ÷ %d working hours; LTV (%s) from the %s", c.WorkingHours, c.LTVVariant, c.LTVAsOf)
	return card, nil
}

// widenBarChart gives a bar chart wider label and value columns (long
// segment × motion labels, "37.4 months (target 12)"), keeping its rows.
func widenBarChart(c barChart, labelW, valueW int) barChart {
	old := c.TrackW
	c.LabelW = labelW
	c.TrackW = c.Width - labelW - valueW
	for i := range c.Rows {
		row := &c.Rows[i]
		if old > 0 && row.W > 0 {
			row.W = max(3, row.W*c.TrackW/old)
		}
		row.ValueX = labelW + row.W + 8
	}
	return c
}
