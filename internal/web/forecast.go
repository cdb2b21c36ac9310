package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/store"
)

// The forecast page (/forecast): the weighted pipeline by period stacked by
// forecast category, configured vs learned stage probabilities, win rate,
// cycle and velocity tiles, loss reasons, and the tables behind them. Figures
// come from internal/forecast, the same functions the API and CLI call.

type forecastFilter struct {
	From, To, Period, Currency, MinSample string
	Periods                               []optGroup
	Errors                                map[string]string
}

type forecastPage struct {
	F         forecastFilter
	Error     string
	Cur       string
	Tiles     []tile
	ByPeriod  stackChart
	Probs     []forecastProbs
	MinSample string // "20 deals"
	Losses    barChart
	LossTotal int64
	P         forecast.Pipeline
	Outcomes  []outcomeRow
	Total     outcomeRow
	R         forecast.Forecast
	Breakdown []forecastTable
	Other     int64
}

type forecastProbs struct {
	P      forecast.PipelineProbabilities
	Chart  pairChart
	Stages []probRow
}

// probRow is one stage of the probabilities table, formatted.
type probRow struct {
	Name, Category, Open, Configured, ConfWeighted string
	Learned, LearnedNote, LearnedWeighted, Reached string
}

// outcomeRow is one motion's win rate, cycle and velocity, formatted.
type outcomeRow struct {
	Label, Won, Lost, NoDecision, WinRate, WinRateND, Avg, Cycle, Engaged, Open, Velocity string
}

func newOutcomeRow(o forecast.Outcomes, cur string) outcomeRow {
	pctp := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", *p*100)
	}
	days := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f", *p)
	}
	money := func(p *int64) string {
		if p == nil {
			return "–"
		}
		return formatMoney(*p, cur)
	}
	return outcomeRow{Label: o.Label, Won: formatNumber(o.Won), Lost: formatNumber(o.Lost), NoDecision: formatNumber(o.NoDecision),
		WinRate: pctp(o.WinRate), WinRateND: pctp(o.WinRateNoDecisionAsLoss), Avg: money(o.AverageWonDeal),
		Cycle: days(o.CycleDays), Engaged: days(o.CycleDaysFromFirstEngagement), Open: formatNumber(o.OpenOpportunities), Velocity: money(o.VelocityPerDay)}
}

type forecastTable struct {
	Title   string
	Buckets []forecast.Bucket
}

// categoryLabels name the forecast categories for people.
var categoryLabels = map[string]string{"pipeline": "Pipeline", "best_case": "Best case", "commit": "Commit", "closed": "Closed", "omitted": "Omitted"}

func (u *UI) forecastShow(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	q := r.URL.Query()
	f := forecastFilter{From: q.Get("from"), To: q.Get("to"), Period: q.Get("period"), Currency: q.Get("currency"), MinSample: q.Get("min_sample"), Errors: map[string]string{}}
	var p forecast.Params
	for _, d := range []struct {
		name, v string
		dst     *time.Time
	}{{"from", f.From, &p.From}, {"to", f.To, &p.To}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.v)
		if err != nil {
			f.Errors[d.name] = "must be a date, YYYY-MM-DD"
			continue
		}
		*d.dst = t
	}
	p.Period, p.Currency = f.Period, f.Currency
	if f.MinSample != "" {
		n, err := strconv.Atoi(f.MinSample)
		if err != nil || n < 1 {
			f.Errors["min_sample"] = "must be a whole number, at least 1"
		}
		p.MinSample = n
	}
	if len(f.Errors) == 0 {
		var fe *store.FieldError
		if err := p.Check(); errors.As(err, &fe) {
			f.Errors[fe.Field] = fe.Message
		} else if err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	f.Periods = []optGroup{{Options: []option{{"quarter", "Quarter"}, {"month", "Month"}}}}
	var page forecastPage
	if len(f.Errors) > 0 {
		page.F = f
		for _, k := range []string{"from", "to", "period", "currency", "min_sample"} {
			if m, ok := f.Errors[k]; ok {
				page.Error = fmt.Sprintf("%s: %s", humanize(k), m)
				break
			}
		}
		u.render(w, r, http.StatusBadRequest, "forecast", view{Title: "Forecast", Section: "forecast", S: s, D: page})
		return
	}
	fr, err := forecast.Report(ctx, u.d.St, s.WS(), p)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pr, err := forecast.PipelineReport(ctx, u.d.St, s.WS(), p)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	// The filter shows what was used, defaults included.
	f.From, f.To, f.Period, f.Currency, f.MinSample = fr.From, fr.To, fr.Period, fr.Currency, strconv.Itoa(fr.MinSample)
	page = forecastPage{F: f, Cur: fr.Currency, P: pr, R: fr, Other: fr.OtherCurrencyDeals}
	page.Tiles = forecastTiles(fr, pr)

	var series []legendItem
	for _, c := range fr.Categories {
		series = append(series, legendItem{Class: "cat-" + c, Label: categoryLabels[c]})
	}
	var rows []stackInput
	for _, b := range fr.ByPeriod {
		in := stackInput{Label: b.Label, Display: formatMoneyShort(b.Weighted, fr.Currency)}
		for _, c := range b.Categories {
			in.Values = append(in.Values, c.Weighted)
			in.Titles = append(in.Titles, fmt.Sprintf("%s %s (%s deals, %s unweighted)", categoryLabels[c.Category], formatMoney(c.Weighted, fr.Currency), formatNumber(c.Deals), formatMoney(c.Amount, fr.Currency)))
		}
		rows = append(rows, in)
	}
	page.ByPeriod = newStackChart("chart-forecast-period", "Weighted pipeline by "+fr.Period, series, rows)

	for _, pp := range fr.Probabilities {
		var in []pairInput
		for _, st := range pp.Stages {
			pi := pairInput{Label: st.Name, A: float64(st.ConfiguredPct), B: st.LearnedPct, BNote: fmt.Sprintf("not enough history (%d of %d)", st.Reached, fr.MinSample)}
			in = append(in, pi)
		}
		fp := forecastProbs{P: pp, Chart: newPairChart("chart-probs-"+pp.Pipeline, "Stage probability · "+pp.Name, "configured", "learned", in)}
		for _, st := range pp.Stages {
			row := probRow{Name: st.Name, Category: humanize(st.Category), Open: formatMoney(st.OpenAmount, fr.Currency), Configured: fmt.Sprintf("%d%%", st.ConfiguredPct),
				ConfWeighted: formatMoney(st.ConfiguredWeighted, fr.Currency), Learned: "not enough history", LearnedNote: st.Note, LearnedWeighted: "–",
				Reached: formatNumber(st.Reached) + " / " + formatNumber(st.Won)}
			if st.LearnedPct != nil {
				row.Learned, row.LearnedWeighted = trimPct(*st.LearnedPct), formatMoney(*st.LearnedWeighted, fr.Currency)
			}
			fp.Stages = append(fp.Stages, row)
		}
		page.Probs = append(page.Probs, fp)
	}
	page.MinSample = formatNumber(int64(fr.MinSample)) + " closed deals"
	for _, o := range pr.ByMotion {
		page.Outcomes = append(page.Outcomes, newOutcomeRow(o, fr.Currency))
	}
	page.Total = newOutcomeRow(pr.Total, fr.Currency)

	var bars []bar
	for _, l := range pr.Total.LossReasons {
		page.LossTotal += l.Count
		label, tone, href := humanize(l.Reason), "", "/deals?outcome=lost"
		if l.Reason == forecast.NoDecisionReason {
			label, tone, href = "No decision", "muted", "/deals?outcome=no_decision"
		} else if l.Reason == forecast.Unspecified {
			label = "No reason given"
		}
		bars = append(bars, bar{Label: label, Value: l.Count, Display: fmt.Sprintf("%s · %.0f%%", formatNumber(l.Count), l.Share*100), Href: href, Tone: tone})
	}
	page.Losses = newBarChart("chart-forecast-losses", "Loss reasons", bars)
	page.Breakdown = []forecastTable{{"by motion", fr.ByMotion}, {"by team", fr.ByTeam}, {"by owner", fr.ByOwner}}
	u.render(w, r, http.StatusOK, "forecast", view{Title: "Forecast", Section: "forecast", S: s, D: page})
}

func forecastTiles(fr forecast.Forecast, pr forecast.Pipeline) []tile {
	cur, t := fr.Currency, pr.Total
	pctp := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", *p*100)
	}
	tiles := []tile{{Label: "Weighted forecast", Value: formatMoneyShort(fr.Total.Weighted, cur),
		Sub: fmt.Sprintf("of %s in %s deals", formatMoneyShort(fr.Total.Amount, cur), formatNumber(fr.Total.Deals)), Href: "#by-period"}}
	tiles = append(tiles, tile{Label: "Win rate", Value: pctp(t.WinRate), Sub: pctp(t.WinRateNoDecisionAsLoss) + " with no decision as a loss", Href: "#outcomes"})
	avg := "–"
	if t.AverageWonDeal != nil {
		avg = formatMoneyShort(*t.AverageWonDeal, cur)
	}
	tiles = append(tiles, tile{Label: "Average won deal", Value: avg, Sub: formatNumber(t.Won) + " won", Href: "#outcomes"})
	cycle, eng := "–", ""
	if t.CycleDays != nil {
		cycle = fmt.Sprintf("%.1f days", *t.CycleDays)
	}
	if t.CycleDaysFromFirstEngagement != nil {
		eng = fmt.Sprintf("%.1f from first engagement", *t.CycleDaysFromFirstEngagement)
	}
	tiles = append(tiles, tile{Label: "Sales cycle", Value: cycle, Sub: eng, Href: "#outcomes"})
	vel := "–"
	if t.VelocityPerDay != nil {
		vel = formatMoneyShort(*t.VelocityPerDay, cur) + "/day"
	}
	tiles = append(tiles, tile{Label: "Sales velocity", Value: vel, Sub: formatNumber(t.OpenOpportunities) + " open opportunities", Href: "#outcomes"})
	return tiles
}
