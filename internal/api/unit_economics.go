package api

import (
	"net/http"
	"reflect"
	"strconv"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
)

// Unit economics metrics (docs/economics.md): the whole report and its parts,
// guardrail alerts and cost-to-close. Admins and managers only, like the
// inputs. Every answer repeats the window and conventions it was computed with.

var metricsParamNames = []string{"from", "to", "period", "churn", "ltv", "cac", "currency"}

// metrics reads the report parameters (plus extra allowed ones) and computes the report.
func (a *API) metrics(r *http.Request, ws int64, extra ...string) (economics.Metrics, error) {
	v, err := onlyParams(r, append(append([]string{}, metricsParamNames...), extra...)...)
	if err != nil {
		return economics.Metrics{}, err
	}
	return a.d.Econ.Metrics(r.Context(), ws, economics.MetricsParams{From: v.Get("from"), To: v.Get("to"), Period: v.Get("period"),
		Churn: v.Get("churn"), LTV: v.Get("ltv"), CAC: v.Get("cac"), Currency: v.Get("currency")})
}

// ReportHead is what every part repeats: the window and the conventions.
type ReportHead struct {
	From        string            `json:"from"`
	To          string            `json:"to"`
	Period      string            `json:"period"`
	Currency    string            `json:"currency"`
	Churn       string            `json:"churn_convention"`
	Conventions map[string]string `json:"conventions"`
	Notes       []string          `json:"notes"`
}

func headOf(m economics.Metrics) ReportHead {
	return ReportHead{From: m.From, To: m.To, Period: m.Period, Currency: m.Currency, Churn: m.Churn, Conventions: m.Conventions, Notes: m.Notes}
}

// cellCAC is one cell's CAC.
type cellCAC struct {
	Segment         string           `json:"segment"`
	Motion          string           `json:"motion"`
	NewCustomers    int64            `json:"new_customers"`
	BlendedCost     int64            `json:"blended_cost"`
	FullyLoadedCost int64            `json:"fully_loaded_cost"`
	CAC             economics.CACSet `json:"cac"`
}

type periodCAC struct {
	Key              string           `json:"key"`
	From             string           `json:"from"`
	To               string           `json:"to"`
	Partial          bool             `json:"partial"`
	NewCustomers     int64            `json:"new_customers"`
	PaidNewCustomers int64            `json:"paid_new_customers"`
	CAC              economics.CACSet `json:"cac"`
}

type cacReport struct {
	ReportHead
	CAC      economics.CACSet       `json:"cac"`
	Periods  []periodCAC            `json:"periods"`
	Cells    []cellCAC              `json:"segments_motions"`
	Segments []economics.GroupCAC   `json:"segments"`
	Motions  []economics.GroupCAC   `json:"motions"`
	Channels []economics.ChannelCAC `json:"channels"`
}

type mrrPart struct {
	ReportHead
	MRR                  economics.MRRReport   `json:"mrr"`
	Customers            int64                 `json:"customers"`
	ARPA                 *float64              `json:"arpa"`
	LogoChurn            economics.ChurnRate   `json:"logo_churn"`
	LogoChurnConventions []economics.ChurnRate `json:"logo_churn_conventions"`
	GrossMRRChurn        *float64              `json:"gross_mrr_churn"`
	NetMRRChurn          *float64              `json:"net_mrr_churn"`
	NRR                  *float64              `json:"nrr"`
	GRR                  *float64              `json:"grr"`
	QuickRatio           *float64              `json:"quick_ratio"`
	MagicNumber          *float64              `json:"magic_number"`
	MagicQuarter         string                `json:"magic_number_quarter"`
	Periods              []economics.Period    `json:"periods"`
	Notes                map[string]string     `json:"figure_notes"`
}

type cellLTV struct {
	Segment string                `json:"segment"`
	Motion  string                `json:"motion"`
	LTV     []economics.LTVFigure `json:"ltv"`
}

type ltvPart struct {
	ReportHead
	Headline economics.LTVFigure   `json:"headline"`
	LTV      []economics.LTVFigure `json:"ltv"`
	Cells    []cellLTV             `json:"segments_motions"`
}

type matrixPart struct {
	ReportHead
	Summary economics.Summary `json:"summary"`
	Matrix  economics.Matrix  `json:"matrix"`
}

type cohortsPart struct {
	ReportHead
	Cohorts economics.Cohorts `json:"cohorts"`
}

type funnelPart struct {
	ReportHead
	Funnel economics.FunnelEconomics `json:"funnel"`
}

type recommendationsPart struct {
	ReportHead
	Recommendations []economics.Recommendation `json:"recommendations"`
	CostToClose     []economics.CostToClose    `json:"cost_to_close"`
}

func getEconomicsMetrics(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

func getEconomicsCAC(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	out := cacReport{ReportHead: headOf(m), CAC: m.Summary.CAC, Periods: []periodCAC{}, Cells: []cellCAC{}, Segments: m.Segments, Motions: m.Motions, Channels: m.Channels}
	for _, pr := range m.Periods {
		out.Periods = append(out.Periods, periodCAC{Key: pr.Key, From: pr.From, To: pr.To, Partial: pr.Partial, NewCustomers: pr.NewCustomers, PaidNewCustomers: pr.PaidNewCustomers, CAC: pr.CAC})
	}
	for _, c := range m.Matrix.Cells {
		out.Cells = append(out.Cells, cellCAC{Segment: c.Segment, Motion: c.Motion, NewCustomers: c.NewCustomers, BlendedCost: c.BlendedCost, FullyLoadedCost: c.FullyLoadedCost, CAC: c.CAC})
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

func getEconomicsMRR(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	s := m.Summary
	httpx.JSON(w, http.StatusOK, mrrPart{ReportHead: headOf(m), MRR: m.MRR, Customers: s.Customers, ARPA: s.ARPA, LogoChurn: s.LogoChurn, LogoChurnConventions: s.LogoChurnAll,
		GrossMRRChurn: s.GrossMRRChurn, NetMRRChurn: s.NetMRRChurn, NRR: s.NRR, GRR: s.GRR, QuickRatio: s.QuickRatio, MagicNumber: s.MagicNumber, MagicQuarter: s.MagicQuarter,
		Periods: m.Periods, Notes: s.Notes})
	return nil
}

func getEconomicsLTV(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	out := ltvPart{ReportHead: headOf(m), Headline: m.Summary.Headline, LTV: m.Summary.LTV, Cells: []cellLTV{}}
	for _, c := range m.Matrix.Cells {
		out.Cells = append(out.Cells, cellLTV{Segment: c.Segment, Motion: c.Motion, LTV: c.LTV})
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

func getEconomicsMatrix(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, matrixPart{ReportHead: headOf(m), Summary: m.Summary, Matrix: m.Matrix})
	return nil
}

func getEconomicsCohorts(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, cohortsPart{ReportHead: headOf(m), Cohorts: m.Cohorts})
	return nil
}

func getEconomicsFunnel(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, funnelPart{ReportHead: headOf(m), Funnel: m.Funnel})
	return nil
}

func getEconomicsRecommendations(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	m, err := a.metrics(r, p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, recommendationsPart{ReportHead: headOf(m), Recommendations: m.Recommendations, CostToClose: m.CostToClose})
	return nil
}

// getCostToClose answers one deal's cost-to-close (deal_id; a deal of another
// workspace is 404 like a missing one), or every open high-touch deal's.
func getCostToClose(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "deal_id")
	if err != nil {
		return err
	}
	if s := v.Get("deal_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return store.ErrNotFound
		}
		c, err := a.d.Econ.CostToCloseOf(r.Context(), p.WorkspaceID, id)
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, list[economics.CostToClose]{Items: []economics.CostToClose{c}})
		return nil
	}
	m, err := a.d.Econ.Metrics(r.Context(), p.WorkspaceID, economics.MetricsParams{})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[economics.CostToClose]{Items: m.CostToClose})
	return nil
}

func listEconomicsAlerts(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "open", "limit")
	if err != nil {
		return err
	}
	open := false
	switch v.Get("open") {
	case "", "false":
	case "true":
		open = true
	default:
		return badField("open", "must be true or false")
	}
	limit := 100
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be between 1 and 1000")
		}
		limit = n
	}
	as, err := a.d.Econ.Alerts(r.Context(), p.WorkspaceID, open, limit)
	if err != nil {
		return err
	}
	gs, err := a.d.Econ.GuardrailStatuses(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, alertsBody{Items: as, Guardrails: gs, EventType: economics.GuardrailRedEvent})
	return nil
}

type alertsBody struct {
	Items      []economics.Alert           `json:"items"`
	Guardrails []economics.GuardrailStatus `json:"guardrails"`
	EventType  string                      `json:"event_type"`
}

func acknowledgeEconomicsAlert(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	al, err := a.d.Econ.AcknowledgeAlert(r.Context(), p.Actor(httpx.ClientIP(r)), id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, al)
	return nil
}

var (
	metricsParams = append(append([]param{}, monthWindowParams...),
		param{name: "period", desc: "the periods table groups by calendar month (default) or quarter (quarters cut by the window are marked partial)", schema: enum(economics.ReportPeriods...)},
		param{name: "churn", desc: "logo churn convention (default start_of_period); LTV divides by it", schema: enum(economics.ChurnConventions...)},
		param{name: "ltv", desc: "headline LTV variant used by the matrix (default simple_gm); every variant is answered", schema: enum(economics.LTVVariants...)},
		param{name: "cac", desc: "CAC variant used by the matrix (default fully_loaded)", schema: enum(economics.CACVariants...)},
		param{name: "currency", desc: "report currency (default the workspace's); other currencies are left out and counted in notes", schema: tCurrency},
	)
	getEconomicsMetricsDoc = op{id: "getEconomicsMetrics", tag: "economics", summary: "The whole unit economics report: MRR and its movements, churn (every convention), NRR, GRR, quick ratio, magic number, CAC (blended, paid, fully loaded) by period, segment × motion and channel, every LTV variant, the segment × motion matrix with guardrail colours and the numbers behind them, cohorts, funnel economics, cost-to-close of open high-touch deals and recommendations; conventions name how every figure is computed" + econAccess,
		params: metricsParams, resp: ok200("EconomicsMetrics")}
	getEconomicsCACDoc = op{id: "getEconomicsCAC", tag: "economics", summary: "CAC blended, paid and fully loaded: for the window, by period, by segment × motion and by channel" + econAccess,
		params: metricsParams, resp: ok200("EconomicsCAC")}
	getEconomicsMRRDoc = op{id: "getEconomicsMRR", tag: "economics", summary: "MRR and ARR with the movements bridge (identity checked), ARPA, logo churn under every convention, gross and net MRR churn, NRR, GRR, quick ratio and magic number, by period" + econAccess,
		params: metricsParams, resp: ok200("EconomicsMRR")}
	getEconomicsLTVDoc = op{id: "getEconomicsLTV", tag: "economics", summary: "LTV in every variant (simple_gm, revenue, ecom, discounted, cohort), for the workspace and each segment × motion; zero churn caps the lifetime and flags it" + econAccess,
		params: metricsParams, resp: ok200("EconomicsLTV")}
	getEconomicsMatrixDoc = op{id: "getEconomicsMatrix", tag: "economics", summary: "LTV:CAC, CAC payback and max affordable CAC by segment × motion, each cell green, amber or red against the LTV:CAC target and the segment's payback target (amber: within 20 %), with the numbers and reasons" + econAccess,
		params: metricsParams, resp: ok200("EconomicsMatrix")}
	getEconomicsCohortsDoc = op{id: "getEconomicsCohorts", tag: "economics", summary: "Logo and revenue retention by acquisition month, with realised and cohort LTV per cohort" + econAccess,
		params: metricsParams, resp: ok200("EconomicsCohorts")}
	getEconomicsFunnelDoc = op{id: "getEconomicsFunnel", tag: "economics", summary: "Cost per MQL, SQL, opportunity and won customer, per motion" + econAccess,
		params: metricsParams, resp: ok200("EconomicsFunnel")}
	getEconomicsRecommendationsDoc = op{id: "getEconomicsRecommendations", tag: "economics", summary: "Recommendations from fixed rules, each with the arithmetic behind it, and the cost-to-close of open high-touch deals" + econAccess,
		params: metricsParams, resp: ok200("EconomicsRecommendations")}
	getCostToCloseDoc = op{id: "getCostToClose", tag: "economics", summary: "Cost-to-close: effort hours by role × each role's loaded hourly cost, against LTV ÷ the LTV:CAC target of the deal's segment × motion; one deal (deal_id, any state) or every open high-touch deal with logged time" + econAccess,
		params: []param{{name: "deal_id", desc: "one deal; a deal of another workspace answers 404 like a missing one", schema: js{"type": "integer", "minimum": 1}}},
		resp:   append(ok200("CostToCloseList"), resp{http.StatusNotFound, "application/problem+json", "Problem", "no such deal", false})}
	listEconomicsAlertsDoc = op{id: "listEconomicsAlerts", tag: "economics", summary: "Guardrail alerts (a segment × motion turning red, with its numbers), newest first, and each cell's last evaluated status; event_type names the outgoing webhook event" + econAccess,
		params: []param{{name: "open", desc: "only alerts nobody acknowledged", schema: js{"type": "string", "enum": []any{"true", "false"}}},
			{name: "limit", desc: "at most this many", schema: js{"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}},
		resp: ok200("EconomicsAlerts")}
	acknowledgeEconomicsAlertDoc = op{id: "acknowledgeEconomicsAlert", tag: "economics", summary: "Acknowledge an alert (it leaves the banner; the first acknowledgement is kept)" + econAccess,
		resp: ok200("EconomicsAlert")}
)

func unitEconomicsSchemas(s js) {
	out := func(v any) js { return econSchema(reflect.TypeOf(v), false) }
	s["EconomicsMetrics"] = out(economics.Metrics{})
	s["EconomicsCAC"] = out(cacReport{})
	s["EconomicsMRR"] = out(mrrPart{})
	s["EconomicsLTV"] = out(ltvPart{})
	s["EconomicsMatrix"] = out(matrixPart{})
	s["EconomicsCohorts"] = out(cohortsPart{})
	s["EconomicsFunnel"] = out(funnelPart{})
	s["EconomicsRecommendations"] = out(recommendationsPart{})
	s["CostToCloseList"] = out(list[economics.CostToClose]{})
	s["EconomicsAlerts"] = out(alertsBody{})
	s["EconomicsAlert"] = out(economics.Alert{})
}
