package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/staffing"
	"github.com/rightsize/rightsize/internal/store"
)

// Unit economics inputs and the staffing planner (docs/economics.md). Every
// route is for admins and managers only (the admin access class): what people
// cost and what the company spends is not for reps to browse. Handlers parse
// and render; the rules live in internal/economics and internal/staffing,
// which the UI and the CLI call too.

// window reads from/to months (YYYY-MM; default the 12 months ending now).
func (a *API) window(r *http.Request, extra ...string) (string, string, error) {
	v, err := onlyParams(r, append([]string{"from", "to"}, extra...)...)
	if err != nil {
		return "", "", err
	}
	return a.d.Econ.Window(v.Get("from"), v.Get("to"))
}

func getEconomicsInputs(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	from, to, err := a.window(r)
	if err != nil {
		return err
	}
	in, err := a.d.Econ.Inputs(r.Context(), p.WorkspaceID, from, to)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, in)
	return nil
}

func getEconomicsSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Econ.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

func putEconomicsSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in economics.SettingsInput
	if err := body(r, &in); err != nil {
		return err
	}
	s, err := a.d.Econ.SaveSettings(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

func getPeopleCost(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	from, to, err := a.window(r)
	if err != nil {
		return err
	}
	pc, err := a.d.Econ.PeopleCost(r.Context(), p.WorkspaceID, from, to)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, pc)
	return nil
}

func getMarketSizing(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	m, err := a.d.Econ.Market(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

// marketIn is a market sizing to save.
type marketIn struct {
	Currency string                `json:"currency"`
	Segments []model.MarketSegment `json:"segments"`
}

func putMarketSizing(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in marketIn
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Segments == nil {
		return badField("segments", "is required: a list of segments (may be empty)")
	}
	m, err := a.d.Econ.SaveMarket(r.Context(), p.Actor(httpx.ClientIP(r)), model.MarketSizing{Currency: in.Currency, Segments: in.Segments})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

// getMarketPreset answers the article's example inputs, computed but not saved.
func getMarketPreset(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	m, err := economics.SizeMarket(economics.ArticleMarket())
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, m)
	return nil
}

// ---- spend ----------------------------------------------------------------------

type spendPage struct {
	Items      []model.SpendEntry `json:"items"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

const (
	spendPageDefault = 100
	spendPageMax     = 1000
)

func listSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to", "category", "channel", "limit", "cursor")
	if err != nil {
		return err
	}
	f := store.SpendFilter{Limit: spendPageDefault, Category: v.Get("category"), Channel: economics.ChannelKey(v.Get("channel"))}
	for _, k := range []string{"from", "to"} {
		if s := v.Get(k); s != "" {
			m, err := economics.ParseMonth(s)
			if err != nil {
				return badField(k, "%v", err)
			}
			if k == "from" {
				f.From = m
			} else {
				f.To = m
			}
		}
	}
	if f.Category != "" && !model.Contains(model.SpendCategories, f.Category) {
		return badField("category", "%q is not one of %s", f.Category, strings.Join(model.SpendCategories, ", "))
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > spendPageMax {
			return badField("limit", "must be between 1 and %d", spendPageMax)
		}
		f.Limit = n
	}
	if c := v.Get("cursor"); c != "" {
		m, id, ok := strings.Cut(c, ".")
		n, err := strconv.ParseInt(id, 10, 64)
		if _, merr := economics.ParseMonth(m); !ok || err != nil || merr != nil {
			return badField("cursor", "is not a cursor from next_cursor")
		}
		f.AfterMonth, f.AfterID = m, n
	}
	want := f.Limit
	f.Limit++
	items, err := a.d.St.Read().ListSpend(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	page := spendPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		last := page.Items[want-1]
		page.NextCursor = fmt.Sprintf("%s.%d", last.Month, last.ID)
	}
	httpx.JSON(w, http.StatusOK, page)
	return nil
}

func createSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in economics.SpendInput
	if err := body(r, &in); err != nil {
		return err
	}
	e, err := a.d.Econ.CreateSpend(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/spend/%d", e.ID))
	httpx.JSON(w, http.StatusCreated, e)
	return nil
}

func getSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	e, err := a.d.St.Read().GetSpend(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

func updateSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in economics.SpendInput
	if err := body(r, &in); err != nil {
		return err
	}
	e, err := a.d.Econ.UpdateSpend(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

func deleteSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Econ.DeleteSpend(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxSpendUpload bounds a spend file (a ledger is small; 100,000 rows fit).
const maxSpendUpload = 64 << 20

func importSpend(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "filename")
	if err != nil {
		return err
	}
	httpx.LiftBodyLimit(w, r, maxSpendUpload)
	up, err := uploadedFile(r, v.Get("filename"), false)
	if err != nil {
		return err
	}
	if up.options != nil {
		return badField("options", "a spend import takes no options")
	}
	rep, err := a.d.Econ.ImportSpend(r.Context(), p.Actor(httpx.ClientIP(r)), up.name, up.file)
	var fe *economics.FileError
	if errors.As(err, &fe) {
		return badField("file", "%s", fe.Error())
	}
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rep)
	return nil
}

func getSpendSummary(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	from, to, err := a.window(r)
	if err != nil {
		return err
	}
	s, err := a.d.Econ.SpendSummary(r.Context(), p.WorkspaceID, from, to)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

type rulesBody struct {
	Rules []economics.Rule `json:"rules"`
}

func getAllocationRules(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	rs, err := a.d.Econ.AllocationRules(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rulesBody{Rules: rs})
	return nil
}

func putAllocationRules(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in rulesBody
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Rules == nil {
		return badField("rules", "is required: the whole rule set (an empty list removes every rule)")
	}
	rs, err := a.d.Econ.SaveAllocationRules(r.Context(), p.Actor(httpx.ClientIP(r)), in.Rules)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rulesBody{Rules: rs})
	return nil
}

// ---- cost profiles -------------------------------------------------------------

// profileErr answers a profile with both loading forms with 422: the input is
// well formed, but the two forms together would count taxes, benefits and
// training twice.
func profileErr(err error) error {
	var lc *economics.LoadingConflictError
	if errors.As(err, &lc) {
		return &httpx.StatusError{Status: http.StatusUnprocessableEntity, Code: "conflicting_fields", Field: lc.Field, Msg: lc.Message}
	}
	return err
}

func listCostProfiles(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	ps, err := a.d.Econ.Profiles(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[economics.Profile]{Items: ps})
	return nil
}

func createCostProfile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in economics.ProfileInput
	if err := body(r, &in); err != nil {
		return err
	}
	pr, err := a.d.Econ.CreateProfile(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return profileErr(err)
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/cost-profiles/%d", pr.ID))
	httpx.JSON(w, http.StatusCreated, pr)
	return nil
}

func getCostProfile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	pr, err := a.d.Econ.Profile(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, pr)
	return nil
}

func putCostProfile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in economics.ProfileInput
	if err := body(r, &in); err != nil {
		return err
	}
	pr, err := a.d.Econ.ReplaceProfile(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return profileErr(err)
	}
	httpx.JSON(w, http.StatusOK, pr)
	return nil
}

func deleteCostProfile(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Econ.DeleteProfile(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type headcountIn struct {
	Months map[string]float64 `json:"months"`
}

func putHeadcount(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in headcountIn
	if err := body(r, &in); err != nil {
		return err
	}
	pr, err := a.d.Econ.SetHeadcount(r.Context(), p.Actor(httpx.ClientIP(r)), id, in.Months)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, pr)
	return nil
}

// ---- staffing -------------------------------------------------------------------

func listScenarios(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	scs, err := a.d.Staffing.List(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[staffing.Scenario]{Items: scs})
	return nil
}

// scenarioPlan answers a scenario as its 24-month plan.
func (a *API) scenarioPlan(w http.ResponseWriter, r *http.Request, ws int64, sc staffing.Scenario, status int) error {
	plan, err := a.d.Staffing.Plan(r.Context(), ws, sc)
	if err != nil {
		return err
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", fmt.Sprintf("/api/v1/staffing/scenarios/%d", sc.ID))
	}
	httpx.JSON(w, status, plan)
	return nil
}

func createScenario(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in staffing.Input
	if err := body(r, &in); err != nil {
		return err
	}
	sc, err := a.d.Staffing.Create(r.Context(), p.Actor(httpx.ClientIP(r)), in)
	if err != nil {
		return err
	}
	return a.scenarioPlan(w, r, p.WorkspaceID, sc, http.StatusCreated)
}

func getScenario(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	sc, err := a.d.Staffing.Get(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	return a.scenarioPlan(w, r, p.WorkspaceID, sc, http.StatusOK)
}

func putScenario(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in staffing.Input
	if err := body(r, &in); err != nil {
		return err
	}
	sc, err := a.d.Staffing.Replace(r.Context(), p.Actor(httpx.ClientIP(r)), id, in)
	if err != nil {
		return err
	}
	return a.scenarioPlan(w, r, p.WorkspaceID, sc, http.StatusOK)
}

func deleteScenario(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Staffing.Delete(r.Context(), p.Actor(httpx.ClientIP(r)), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func getStaffingComparison(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	c, err := a.d.Staffing.Comparison(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, c)
	return nil
}

func createArticleExample(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	made, err := a.d.Staffing.AddArticleExample(r.Context(), p.Actor(httpx.ClientIP(r)))
	if err != nil {
		return err
	}
	if made == nil {
		made = []staffing.Scenario{}
	}
	httpx.JSON(w, http.StatusOK, list[staffing.Scenario]{Items: made})
	return nil
}

// ---- documentation ---------------------------------------------------------------

var monthWindowParams = []param{
	{name: "from", desc: "first month, YYYY-MM (default: 11 months before to)", schema: js{"type": "string", "pattern": `^\d{4}-\d{2}$`}},
	{name: "to", desc: "last month, YYYY-MM, included (default: this month)", schema: js{"type": "string", "pattern": `^\d{4}-\d{2}$`}},
}

// conflict422 documents the answer to a profile with both loading forms.
var conflict422 = resp{http.StatusUnprocessableEntity, "application/problem+json", "Problem",
	"conflicting_fields: a loaded multiplier and itemised rates together (a 2× multiplier already covers taxes, benefits and training); field names loaded_multiplier", false}

const econAccess = " (admin, manager)"

var (
	getEconomicsInputsDoc = op{id: "getEconomicsInputs", tag: "economics", summary: "Everything unit economics is computed from: settings, the spend ledger totalled and allocated, cost profiles, people cost, market sizing, and what the next phase adds" + econAccess,
		params: monthWindowParams, resp: ok200("EconomicsInputs")}
	getEconomicsSettingsDoc = op{id: "getEconomicsSettings", tag: "economics", summary: "Gross margin (per workspace and plan), monthly discount rate, lifetime cap, LTV:CAC target and CAC payback target per segment; defaults lists what is still a default" + econAccess,
		resp: ok200("EconomicsSettings")}
	putEconomicsSettingsDoc = op{id: "putEconomicsSettings", tag: "economics", summary: "Change economics settings: fields left out keep their value; a plan or segment key set to null goes back to its default" + econAccess,
		body: []content{{"application/json", ref("EconomicsSettingsInput"), map[string]any{"gross_margin": 0.78, "ltv_cac_target": 3, "payback_target_months": map[string]any{"smb": 12}}}}, resp: ok200("EconomicsSettings")}
	getPeopleCostDoc = op{id: "getPeopleCost", tag: "economics", summary: "People cost by month, role and motion: annual loaded cost ÷ 12 × headcount × time split" + econAccess,
		params: monthWindowParams, resp: ok200("PeopleCost")}
	getMarketSizingDoc = op{id: "getMarketSizing", tag: "economics", summary: "The saved TAM/SAM/SOM per segment with its arithmetic (saved false and no segments when none)" + econAccess,
		resp: ok200("MarketSizing")}
	putMarketSizingDoc = op{id: "putMarketSizing", tag: "economics", summary: "Save the market sizing: per segment, businesses × annual spend (per business or in total), serviceable and obtainable shares" + econAccess,
		body: jsonBody("MarketSizingInput"), resp: ok200("MarketSizing")}
	getMarketPresetDoc = op{id: "getMarketSizingPreset", tag: "economics", summary: "The source article's example (30.2 million US SMBs, 684 billion USD SMB technology spend by 2021, IDC) computed, not saved; the shares are example assumptions" + econAccess,
		resp: ok200("MarketSizing")}

	listSpendDoc = op{id: "listSpend", tag: "spend", summary: "Spend ledger entries, newest month first" + econAccess,
		params: append(append([]param{}, monthWindowParams...),
			param{name: "category", desc: "only this category", schema: enum(model.SpendCategories...)},
			param{name: "channel", desc: "only this channel", schema: str(64)},
			param{name: "limit", desc: "page size", schema: js{"type": "integer", "minimum": 1, "maximum": spendPageMax, "default": spendPageDefault}},
			param{name: "cursor", desc: "next_cursor of the previous page", schema: str(0)}),
		resp: ok200("SpendPage")}
	createSpendDoc = op{id: "createSpend", tag: "spend", summary: "Add a spend entry: segment and motion both (explicit attribution) or neither (allocated by rule)" + econAccess,
		body: []content{{"application/json", ref("SpendInput"), map[string]any{"month": "2026-03", "amount": 1250000, "category": "programs", "channel": "paid_search"}}},
		resp: []resp{{http.StatusCreated, "application/json", "SpendEntry", "", true}}}
	getSpendDoc    = op{id: "getSpend", tag: "spend", summary: "A spend entry" + econAccess, resp: ok200("SpendEntry")}
	updateSpendDoc = op{id: "updateSpend", tag: "spend", summary: "Change some fields of a spend entry (absent fields stay)" + econAccess,
		body: jsonBody("SpendInput"), resp: ok200("SpendEntry")}
	deleteSpendDoc = op{id: "deleteSpend", tag: "spend", summary: "Delete a spend entry" + econAccess, resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	importSpendDoc = op{id: "importSpend", tag: "spend", summary: "Import a spend CSV (month, amount, category; currency, channel, segment, motion, note, external_id) at once: rows = accepted + merged (by external_id) + rejected, each rejected row with line:column and reason; a file-level problem is a 400 on file" + econAccess,
		params: []param{{name: "filename", desc: "display name of a raw CSV upload", schema: str(200)}},
		body: []content{
			{"multipart/form-data", js{"type": "object", "required": []string{"file"}, "properties": js{"file": js{"type": "string", "contentMediaType": "text/csv"}}}, nil},
			{"text/csv", js{"type": "string"}, "month,amount,category,channel,external_id\n2026-03,\"12,500.00\",programs,paid_search,INV-1\n"},
		},
		resp: ok200("SpendImportReport")}
	getSpendSummaryDoc = op{id: "getSpendSummary", tag: "spend", summary: "Spend of a window by month and category, allocated to segment × motion (explicit and by rule) with what no rule matches" + econAccess,
		params: monthWindowParams, resp: ok200("SpendSummary")}
	getAllocationRulesDoc = op{id: "getAllocationRules", tag: "spend", summary: "Allocation rules: per category and channel (empty matches any), shares by segment × motion summing to 1" + econAccess,
		resp: ok200("AllocationRules")}
	putAllocationRulesDoc = op{id: "putAllocationRules", tag: "spend", summary: "Replace the allocation rules; errors name rules[i].shares[j].field" + econAccess,
		body: []content{{"application/json", ref("AllocationRules"), map[string]any{"rules": []any{map[string]any{"category": "programs", "channel": "", "shares": []any{
			map[string]any{"segment": "smb", "motion": "digital", "share": 0.7}, map[string]any{"segment": "mid_market", "motion": "digital", "share": 0.3}}}}}}},
		resp: ok200("AllocationRules")}

	listCostProfilesDoc  = op{id: "listCostProfiles", tag: "cost-profiles", summary: "People cost profiles with their loaded cost and headcount" + econAccess, resp: ok200("CostProfileList")}
	createCostProfileDoc = op{id: "createCostProfile", tag: "cost-profiles", summary: "Create a cost profile: a loaded multiplier or itemised rates, never both" + econAccess,
		body: []content{{"application/json", ref("CostProfileInput"), map[string]any{"name": "SMB LDR", "role": "ldr", "base_salary": 5000000, "loaded_multiplier": 2,
			"office": 360000, "phone": 60000, "internet": 60000, "software": 120000, "time_split": map[string]any{"digital": 1}}}},
		resp: []resp{{http.StatusCreated, "application/json", "CostProfile", "", true}, conflict422}}
	getCostProfileDoc = op{id: "getCostProfile", tag: "cost-profiles", summary: "A cost profile" + econAccess, resp: ok200("CostProfile")}
	putCostProfileDoc = op{id: "putCostProfile", tag: "cost-profiles", summary: "Replace every input of a cost profile (its headcount stays)" + econAccess,
		body: jsonBody("CostProfileInput"), resp: []resp{{http.StatusOK, "application/json", "CostProfile", "", false}, conflict422}}
	deleteCostProfileDoc = op{id: "deleteCostProfile", tag: "cost-profiles", summary: "Delete a cost profile and its headcount" + econAccess, resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	putHeadcountDoc      = op{id: "putHeadcount", tag: "cost-profiles", summary: "Set the headcount (FTE) of a profile for the months given; 0 removes a month" + econAccess,
		body: []content{{"application/json", ref("HeadcountInput"), map[string]any{"months": map[string]any{"2026-01": 3, "2026-02": 3.5}}}}, resp: ok200("CostProfile")}

	listScenariosDoc  = op{id: "listStaffingScenarios", tag: "staffing", summary: "Staffing scenarios (inputs only)" + econAccess, resp: ok200("StaffingScenarioList")}
	createScenarioDoc = op{id: "createStaffingScenario", tag: "staffing", summary: "Create an in-house or partner scenario; answers its 24-month plan" + econAccess,
		body: []content{{"application/json", ref("StaffingScenarioInput"), map[string]any{"name": "Two in-house LDRs", "kind": "in_house", "reps": 2, "cost_profile_id": 1,
			"lead_time_months": 2, "ramp_months": 3, "tenure_months": 14, "meetings_per_month": 12, "sqls_per_month": 6, "sql_to_won": 0.2}}},
		resp: []resp{{http.StatusCreated, "application/json", "StaffingPlan", "", true}}}
	getScenarioDoc = op{id: "getStaffingScenario", tag: "staffing", summary: "A scenario's 24-month plan: per month cost, productive capacity, meetings, SQLs, won customers and cumulative cost per unit; summary with break-even and LTV:CAC" + econAccess,
		resp: ok200("StaffingPlan")}
	putScenarioDoc = op{id: "putStaffingScenario", tag: "staffing", summary: "Replace a scenario's inputs; answers its plan" + econAccess,
		body: jsonBody("StaffingScenarioInput"), resp: ok200("StaffingPlan")}
	deleteScenarioDoc        = op{id: "deleteStaffingScenario", tag: "staffing", summary: "Delete a scenario" + econAccess, resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	getStaffingComparisonDoc = op{id: "getStaffingComparison", tag: "staffing", summary: "Every scenario side by side, with the best on each measure (workspace currency only)" + econAccess,
		resp: ok200("StaffingComparison")}
	createArticleExampleDoc = op{id: "createStaffingArticleExample", tag: "staffing", summary: "Add the source article's example: an LDR profile (50,000 at 2× plus per-seat items) and two scenarios (in-house vs partner); existing names are kept" + econAccess,
		resp: ok200("StaffingScenarioList")}
)

// econSchema derives a response or input schema from a Go type owned by the
// economics packages, so the document follows them: JSON names, nested and
// embedded structs, times as date-time; a field without omitempty is
// required (responses only) and a pointer without it is nullable.
func econSchema(t reflect.Type, input bool) js {
	if t == reflect.TypeFor[time.Time]() {
		return tTime
	}
	if t == reflect.TypeFor[json.RawMessage]() {
		return tAny
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(econSchema(t.Elem(), input))
	case reflect.String:
		return js{"type": "string"}
	case reflect.Bool:
		return js{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return js{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return js{"type": "number"}
	case reflect.Slice:
		s := arrayOf(econSchema(t.Elem(), input))
		if input {
			s = nullable(s)
		}
		return s
	case reflect.Map:
		s := js{"type": "object", "additionalProperties": econSchema(t.Elem(), input)}
		if input {
			s = nullable(s)
		}
		return s
	case reflect.Struct:
		props, req := js{}, []string{}
		econFields(t, input, props, &req)
		if input {
			req = nil
		}
		return object(req, props)
	}
	return tAny
}

func econFields(t reflect.Type, input bool, props js, req *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			econFields(f.Type, input, props, req)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := econSchema(f.Type, input)
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if optional && f.Type.Kind() == reflect.Pointer {
			s = econSchema(f.Type.Elem(), input) // left out rather than null
		}
		props[name] = s
		if !optional {
			*req = append(*req, name)
		}
	}
}

func economicsSchemas(s js) {
	out := func(v any) js { return econSchema(reflect.TypeOf(v), false) }
	in := func(v any) js { return econSchema(reflect.TypeOf(v), true) }
	s["EconomicsSettings"] = out(economics.Settings{})
	s["EconomicsSettingsInput"] = in(economics.SettingsInput{})
	s["PeopleCost"] = out(economics.PeopleCost{})
	s["MarketSizing"] = out(economics.Market{})
	s["MarketSizingInput"] = in(marketIn{})
	s["EconomicsInputs"] = out(economics.Inputs{})
	s["SpendEntry"] = out(model.SpendEntry{})
	s["SpendPage"] = out(spendPage{})
	s["SpendInput"] = in(economics.SpendInput{})
	s["SpendImportReport"] = out(economics.ImportReport{})
	s["SpendSummary"] = out(economics.SpendSummary{})
	s["AllocationRules"] = out(rulesBody{})
	s["CostProfile"] = out(economics.Profile{})
	s["CostProfileList"] = out(list[economics.Profile]{})
	s["CostProfileInput"] = in(economics.ProfileInput{})
	s["HeadcountInput"] = in(headcountIn{})
	s["StaffingScenario"] = out(staffing.Scenario{})
	s["StaffingScenarioList"] = out(list[staffing.Scenario]{})
	s["StaffingScenarioInput"] = in(staffing.Input{})
	s["StaffingPlan"] = out(staffing.Plan{})
	s["StaffingComparison"] = out(staffing.Comparison{})
}
