package api

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
)

// forecastParams reads the report parameters both forecast routes share;
// forecast.Params.Check fills the defaults and names a bad value's parameter.
func forecastParams(v url.Values) (forecast.Params, error) {
	var p forecast.Params
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &p.From}, {"to", &p.To}} {
		name, dst := f.name, f.dst
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return p, badField(name, "must be a date, YYYY-MM-DD")
			}
			*dst = t
		}
	}
	p.Currency = v.Get("currency")
	p.Period = v.Get("period")
	if s := v.Get("min_sample"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, badField("min_sample", "must be a whole number, at least 1")
		}
		p.MinSample = n
	}
	return p, p.Check()
}

func getForecastReport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to", "currency", "period", "min_sample")
	if err != nil {
		return err
	}
	fp, err := forecastParams(v)
	if err != nil {
		return err
	}
	res, err := forecast.Report(r.Context(), a.d.St, p.WorkspaceID, fp)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

func getPipelineReport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to", "currency")
	if err != nil {
		return err
	}
	fp, err := forecastParams(v)
	if err != nil {
		return err
	}
	res, err := forecast.PipelineReport(r.Context(), a.d.St, p.WorkspaceID, fp)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

func getDealEffort(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	e, err := forecast.DealEffort(r.Context(), a.d.St.Read(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

var (
	closedWindowParams = []param{
		{name: "from", desc: "first day of the closed_at window, UTC (default: 364 days before to)", schema: tDate},
		{name: "to", desc: "last day of the closed_at window, included, UTC (default: today)", schema: tDate},
		{name: "currency", desc: "report currency (default: the workspace's); deals in other currencies are counted in other_currency_deals, in no figure", schema: tCurrency},
	}
	getForecastReportDoc = op{id: "getForecastReport", tag: "reports",
		summary: "Weighted pipeline (amount × stage probability) by period, owner, team and motion, split by forecast category, with deals won in the window under closed; " +
			"each stage's configured and learned (stage-to-win) probability side by side with the weighted totals under each; the convention object says how each figure is computed",
		params: append(append([]param{}, closedWindowParams...),
			param{name: "period", desc: "bucket open deals by expected close date and won deals by close date per calendar month or quarter", schema: withDesc(enum(forecast.Periods...), "default quarter")},
			param{name: "min_sample", desc: "closed deals that must have reached a stage before its learned probability is shown", schema: withDesc(js{"type": "integer", "minimum": 1, "maximum": 1000000}, "default 20")},
		),
		resp: ok200("ForecastReport")}
	getPipelineReportDoc = op{id: "getPipelineReport", tag: "reports",
		summary: "Pipeline analytics of the deals closed in the window, per motion and overall: win rate (and with no decision counted as a loss), average won deal, " +
			"cycle days (from creation and from first engagement), open opportunities, sales velocity, loss reasons with no_decision as its own category",
		params: closedWindowParams,
		resp:   ok200("PipelineReport")}
	getDealEffortDoc = op{id: "getDealEffort", tag: "deals",
		summary: "Time spent on the deal in person-minutes and hours, by role and by person, from its activities' durations and participants (the convention field says how)",
		resp:    ok200("DealEffort")}
)

// forecastSchemas describe forecast.Forecast, forecast.Pipeline and forecast.Effort.
func forecastSchemas(s js) {
	money := withDesc(tInt, "minor units of currency")
	nMoney := withDesc(js{"type": []any{"integer", "null"}}, "minor units of currency; null when unknown")
	nNum := js{"type": []any{"number", "null"}, "minimum": 0}
	rate := withDesc(js{"type": []any{"number", "null"}, "minimum": 0, "maximum": 1}, "a fraction, 4 decimals; null when nothing closed")
	conv := func(keys ...string) js {
		props := js{}
		for _, k := range keys {
			props[k] = str(0)
		}
		return object(keys, props)
	}
	cat := object([]string{"category", "deals", "amount", "weighted"}, js{
		"category": enum(model.ForecastCategories...), "deals": tCount, "amount": money, "weighted": money,
	})
	s["ForecastBucket"] = object([]string{"key", "label", "deals", "amount", "weighted", "categories"}, js{
		"key":   withDesc(str(0), "the period (YYYY-MM, YYYY-Qn or none), owner (user:<id> or none), team (or none), motion (pipeline key), or total"),
		"label": str(0), "deals": tCount, "amount": money,
		"weighted":   withDesc(money, "Σ amount × configured probability (won deals at 100 %)"),
		"categories": withDesc(arrayOf(cat), "every forecast category, in the report's categories order"),
	})
	stage := object([]string{"stage", "name", "forecast_category", "open_deals", "open_amount", "configured_pct", "configured_weighted", "reached", "won", "learned_pct", "learned_weighted"}, js{
		"stage": tKey, "name": str(0), "forecast_category": enum(model.ForecastCategories...), "open_deals": tCount, "open_amount": money,
		"configured_pct": js{"type": "integer", "minimum": 0, "maximum": 100}, "configured_weighted": money,
		"reached":          withDesc(tCount, "deals closed in the window that got at least this far"),
		"won":              withDesc(tCount, "of them, won"),
		"learned_pct":      withDesc(js{"type": []any{"number", "null"}, "minimum": 0, "maximum": 100}, "won ÷ reached in percent, 1 decimal; null: not enough history"),
		"learned_weighted": nMoney,
		"note":             withDesc(str(0), "why there is no learned probability"),
	})
	s["ForecastProbabilities"] = object([]string{"pipeline", "name", "closed_deals", "won", "unplaced", "stages", "open_deals", "open_amount", "configured_weighted", "learned_weighted", "not_learned_amount"}, js{
		"pipeline": tKey, "name": str(0), "closed_deals": tCount, "won": tCount,
		"unplaced": withDesc(tCount, "closed, not won deals none of whose stages is in the pipeline"),
		"stages":   arrayOf(stage), "open_deals": tCount, "open_amount": money, "configured_weighted": money,
		"learned_weighted":   withDesc(money, "over the stages with a learned probability"),
		"not_learned_amount": withDesc(money, "open amount of the stages without one (not in learned_weighted)"),
	})
	s["ForecastReport"] = object([]string{"from", "to", "currency", "period", "min_sample", "convention", "categories", "total", "by_period", "by_owner", "by_team", "by_motion", "probabilities", "other_currency_deals", "unknown_stage_deals"}, js{
		"from": tDate, "to": tDate, "currency": tCurrency, "period": enum(forecast.Periods...), "min_sample": js{"type": "integer", "minimum": 1},
		"convention": conv("weighted", "categories", "period", "owner", "team", "motion", "learned", "currency"),
		"categories": arrayOf(enum(model.ForecastCategories...)),
		"total":      ref("ForecastBucket"), "by_period": arrayOf(ref("ForecastBucket")), "by_owner": arrayOf(ref("ForecastBucket")),
		"by_team": arrayOf(ref("ForecastBucket")), "by_motion": arrayOf(ref("ForecastBucket")),
		"probabilities":        arrayOf(ref("ForecastProbabilities")),
		"other_currency_deals": tCount, "unknown_stage_deals": tCount,
	})
	s["PipelineOutcomes"] = object([]string{"key", "label", "won", "lost", "no_decision", "win_rate", "win_rate_no_decision_as_loss", "won_amount", "average_won_deal",
		"cycle_days", "cycle_days_from_first_engagement", "open_opportunities", "velocity_per_day", "loss_reasons"}, js{
		"key": withDesc(str(0), "the motion (pipeline key) or total"), "label": str(0),
		"won": tCount, "lost": tCount, "no_decision": tCount, "win_rate": rate, "win_rate_no_decision_as_loss": rate,
		"won_amount": money, "average_won_deal": nMoney, "cycle_days": nNum, "cycle_days_from_first_engagement": nNum,
		"open_opportunities": tCount, "velocity_per_day": withDesc(nMoney, "money per day, minor units; null when a factor is unknown"),
		"loss_reasons": arrayOf(object([]string{"reason", "outcome", "count", "amount", "share"}, js{
			"reason":  withDesc(str(0), "the loss_reason, unspecified, or no_decision"),
			"outcome": enum("lost", "no_decision"), "count": tCount, "amount": money,
			"share": js{"type": "number", "minimum": 0, "maximum": 1},
		})),
	})
	s["PipelineReport"] = object([]string{"from", "to", "currency", "convention", "total", "by_motion", "other_currency_deals"}, js{
		"from": tDate, "to": tDate, "currency": tCurrency,
		"convention": conv("window", "win_rate", "average_won_deal", "cycle_days", "cycle_days_from_first_engagement", "velocity", "loss_reasons", "motion", "currency"),
		"total":      ref("PipelineOutcomes"), "by_motion": arrayOf(ref("PipelineOutcomes")), "other_currency_deals": tCount,
	})
	hours := js{"type": "number", "minimum": 0}
	s["DealEffort"] = object([]string{"deal_id", "convention", "activities", "total_minutes", "roles", "people"}, js{
		"deal_id": tID, "convention": str(0), "activities": tCount, "total_minutes": withDesc(tCount, "person-minutes"),
		"roles": arrayOf(object([]string{"role", "minutes", "hours"}, js{"role": enum(forecast.EffortRoles...), "minutes": tCount, "hours": hours})),
		"people": arrayOf(object([]string{"user_id", "name", "role", "minutes", "hours"}, js{
			"user_id": tID, "name": str(0), "role": enum(forecast.EffortRoles[:len(forecast.EffortRoles)-1]...), "minutes": tCount, "hours": hours,
		})),
	})
}
