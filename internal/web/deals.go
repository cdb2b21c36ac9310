package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rightsize/rightsize/internal/forecast"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

func pipelineLabel(p string) string {
	switch p {
	case "high_touch":
		return "High touch (SPANCO)"
	case "digital":
		return "Digital"
	}
	return humanize(p)
}

// stageGroups lists the stages of the workspace's pipelines, one group each.
func stageGroups(ps []model.PipelineDef, blank string) []optGroup {
	var gs []optGroup
	if blank != noBlank {
		gs = append(gs, optGroup{Options: []option{{"", blank}}})
	}
	for _, p := range ps {
		g := optGroup{Label: p.Name}
		for _, st := range p.Stages {
			g.Options = append(g.Options, option{st.Key, st.Name})
		}
		gs = append(gs, g)
	}
	return gs
}

func pipelineOptions(ps []model.PipelineDef, blank string) []optGroup {
	g := optGroup{}
	if blank != noBlank {
		g.Options = append(g.Options, option{"", blank})
	}
	for _, p := range ps {
		g.Options = append(g.Options, option{p.Key, p.Name})
	}
	return []optGroup{g}
}

type dealRow struct {
	model.Deal
	Account string
	Owner   string
}

type dealListData struct {
	L            listReq
	Rows         []dealRow
	Pager        pager
	FilterErrors map[string]string
	Error        string
	Pipelines    []optGroup
	Stages       []optGroup
	Outcomes     []optGroup
}

func (u *UI) dealList(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	lr := parseList("/deals", r.URL.Query(), "pipeline", "stage", "outcome", "needs_review", "stale")
	var fs []store.Filter
	fs = eq(fs, "pipeline", lr.Filters["pipeline"])
	fs = eq(fs, "stage", lr.Filters["stage"])
	switch o := lr.Filters["outcome"]; o {
	case "":
	case "open":
		fs = append(fs, store.Filter{Field: "outcome", Op: "empty", Value: "true"})
	default:
		fs = eq(fs, "outcome", o)
	}
	if lr.Filters["needs_review"] == "true" {
		// Re-routed accounts flag their open deals instead of moving them.
		fs = append(fs, store.Filter{Field: "needs_review", Value: "true"})
	}
	var stale []store.StaleRule
	if lr.Filters["stale"] == "true" {
		// Stale: open, and no activity for the stage's stale_days (docs/pipeline.md).
		var err error
		if stale, err = u.d.Pipeline.StaleRules(ctx, s.WS()); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	outcomes := opts(model.Outcomes, "Any outcome")
	outcomes[0].Options = append([]option{outcomes[0].Options[0], {"open", "Open"}}, outcomes[0].Options[1:]...)
	set, err := u.d.Pipeline.Get(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := dealListData{L: lr, Pipelines: pipelineOptions(set.Pipelines, "Any pipeline"), Stages: stageGroups(set.Pipelines, "Any stage"), Outcomes: outcomes}
	lp := lr.params(fs)
	lp.Stale = stale
	page, err := u.q(s).ListDeals(ctx, s.WS(), lp, nil)
	status := http.StatusOK
	if err != nil {
		if d.FilterErrors, d.Error, err = listError(err, map[string]string{"pipeline": "pipeline", "stage": "stage", "outcome": "outcome"}); err != nil {
			u.fail(w, r, s, err)
			return
		}
		status = http.StatusBadRequest
	}
	var ids []int64
	for _, dl := range page.Items {
		if dl.AccountID != nil {
			ids = append(ids, *dl.AccountID)
		}
	}
	names, err := u.accountNames(ctx, s, ids)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, dl := range page.Items {
		row := dealRow{Deal: dl}
		if dl.AccountID != nil {
			row.Account = names[*dl.AccountID]
		}
		if dl.OwnerID != nil {
			row.Owner = owners[*dl.OwnerID]
		}
		d.Rows = append(d.Rows, row)
	}
	d.Pager = newPager(lr, len(page.Items), page.Total, page.NextCursor, "deals")
	u.render(w, r, status, "deals", view{Title: "Deals", Section: "deals", S: s, D: d})
}

type stageStep struct {
	Stage   string
	Done    bool
	Current bool
}

type dealPage struct {
	D        model.Deal
	Account  *model.Account
	Owner    string
	Steps    []stageStep
	Pipeline string
	Timeline []timelineItem
	Activity *form
	Handoffs []handoffView
	Gates    *dealGates
	// Effort is the time logged on the deal by role (internal/forecast).
	Effort      forecast.Effort
	EffortHours string
	// Cost is the cost-to-close card of an open high-touch deal, for admins
	// and managers (economics_metrics.go).
	Cost *costCard
}

// handoffView is a handoff as the deal page shows it, with the AE's decision
// on it (an SQL counts as delivered once accepted: docs/economics.md).
type handoffView struct {
	model.Handoff
	From, To, DecidedBy string
	// CanDecide: the viewer may accept or reject it (the receiving AE, the
	// deal's owner, an admin or a manager) and it is still pending.
	CanDecide bool
	Err       string
}

func (u *UI) dealShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	u.showDeal(w, r, s, id, http.StatusOK, nil)
}

func (u *UI) showDeal(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act *form) {
	u.showDealWith(w, r, s, id, status, act, "")
}

// showDealWith renders the deal page; committeeErr is a refused committee change.
func (u *UI) showDealWith(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act *form, committeeErr string) {
	u.showDealMod(w, r, s, id, status, act, committeeErr, nil)
}

// showDealMod renders the deal page, letting mod adjust it (a refused
// handoff decision shown on its card).
func (u *UI) showDealMod(w http.ResponseWriter, r *http.Request, s *session, id int64, status int, act *form, committeeErr string, mod func(*dealPage)) {
	ctx := r.Context()
	q := u.q(s)
	d, err := q.GetDeal(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := dealPage{D: d, Activity: act, Pipeline: pipelineLabel(d.Pipeline)}
	if d.AccountID != nil {
		a, err := q.GetAccount(ctx, s.WS(), *d.AccountID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			u.fail(w, r, s, err)
			return
		}
		if err == nil {
			p.Account = &a
		}
	}
	if p.Gates, err = u.dealGatesOf(ctx, s, d); err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.Gates.Err = committeeErr
	if p.Gates.C.Pipeline.Name != "" {
		p.Pipeline = p.Gates.C.Pipeline.Name
	}
	reached := true
	for _, st := range p.Gates.C.Pipeline.StageKeys() {
		cur := st == d.Stage
		p.Steps = append(p.Steps, stageStep{Stage: st, Done: reached && !cur, Current: cur})
		if cur {
			reached = false
		}
	}
	if p.Timeline, err = u.timeline(ctx, s, "deal", "deal_id", id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, owners, err := u.members(ctx, s)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	if d.OwnerID != nil {
		p.Owner = owners[*d.OwnerID]
	}
	hs, err := u.q(s).DealHandoffs(ctx, s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, h := range hs {
		hv := handoffView{Handoff: h}
		if h.FromUserID != nil {
			hv.From = owners[*h.FromUserID]
		}
		if h.ToUserID != nil {
			hv.To = owners[*h.ToUserID]
		}
		if h.DecidedBy != nil {
			hv.DecidedBy = owners[*h.DecidedBy]
		}
		me := s.P.UserID
		hv.CanDecide = h.Kind == "ldr_to_ae" && h.Decision == model.HandoffPending &&
			(s.CanManage || (h.ToUserID != nil && *h.ToUserID == me) || (d.OwnerID != nil && *d.OwnerID == me))
		p.Handoffs = append(p.Handoffs, hv)
	}
	if p.Effort, err = forecast.DealEffort(ctx, q, s.WS(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.EffortHours = fmt.Sprintf("%.2f", float64(p.Effort.TotalMinutes)/60)
	if p.Cost, err = u.costCardOf(r, s, d); err != nil {
		u.fail(w, r, s, err)
		return
	}
	if p.Activity == nil {
		p.Activity = activityForm("deal:"+formatInt(id), map[string]*int64{"deal_id": &d.ID, "account_id": d.AccountID})
	}
	if mod != nil {
		mod(&p)
	}
	u.render(w, r, status, "deal", view{Title: d.Name, Section: "deals", S: s, D: p, Notice: notice(r, "Deal")})
}

func dealFields(accounts, owners []optGroup, ps []model.PipelineDef) []field {
	return []field{
		{Name: "name", Label: "Name", Type: "text", Required: true, Autofocus: true, Placeholder: "Acme — 200 seats", Wide: true},
		{Name: "account_id", Label: "Account", Type: "select", Groups: accounts},
		{Name: "owner_id", Label: "Owner", Type: "select", Groups: owners},
		{Name: "amount", Label: "Amount", Type: "money", Placeholder: "1,200.50", Hint: "In major units of the currency, e.g. dollars."},
		{Name: "currency", Label: "Currency", Type: "text", Placeholder: "USD"},
		{Name: "pipeline", Label: "Pipeline", Type: "select", Required: true, Groups: pipelineOptions(ps, noBlank)},
		{Name: "stage", Label: "Stage", Type: "select", Required: true, Groups: stageGroups(ps, noBlank)},
		{Name: "expected_close_date", Label: "Expected close", Type: "date"},
		{Name: "outcome", Label: "Outcome", Type: "select", Groups: opts(model.Outcomes, "Open")},
		{Name: "loss_reason", Label: "Loss reason", Type: "text", Hint: "When lost or no decision.", Wide: true},
	}
}

func (u *UI) dealForm(r *http.Request, s *session, action, submit, cancel, account string) (*form, error) {
	ms, _, err := u.members(r.Context(), s)
	if err != nil {
		return nil, err
	}
	accts, err := u.accountOptions(r.Context(), s, account)
	if err != nil {
		return nil, err
	}
	set, err := u.d.Pipeline.Get(r.Context(), s.WS())
	if err != nil {
		return nil, err
	}
	return newForm(action, submit, cancel, dealFields(accts, ownerOptions(ms), set.Pipelines)), nil
}

func (u *UI) dealNew(w http.ResponseWriter, r *http.Request, s *session) {
	account := r.URL.Query().Get("account_id")
	f, err := u.dealForm(r, s, "/deals", "Create deal", "/deals", account)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	ws, err := u.q(s).GetWorkspace(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.Values["account_id"], f.Values["currency"], f.Values["owner_id"] = account, ws.Currency, formatInt(s.P.UserID)
	f.Values["pipeline"], f.Values["stage"] = "high_touch", "suspect"
	u.render(w, r, http.StatusOK, "form", view{Title: "New deal", Section: "deals", S: s, D: formPage{Heading: "New deal", F: f}})
}

func (u *UI) dealCreate(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := u.dealForm(r, s, "/deals", "Create deal", "/deals", r.PostFormValue("account_id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	cur := f.Values["currency"]
	if cur == "" {
		ws, err := u.q(s).GetWorkspace(r.Context(), s.WS())
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		cur = ws.Currency
	}
	fields, ok := f.crmFields(cur)
	if f.Values["currency"] == "" {
		delete(fields, "currency")
	}
	if ok {
		d, err := u.d.CRM.CreateDeal(r.Context(), s.Actor(), fields)
		if err == nil {
			redirect(w, r, "/deals/"+formatInt(d.ID)+"?notice=created")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "New deal", Section: "deals", S: s, D: formPage{Heading: "New deal", F: f}})
}

func (u *UI) dealEdit(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	d, err := u.q(s).GetDeal(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	self := "/deals/" + formatInt(id)
	f, err := u.dealForm(r, s, self, "Save changes", self, idString(d.AccountID))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := f.Values
	v["name"], v["account_id"], v["owner_id"] = d.Name, idString(d.AccountID), idString(d.OwnerID)
	v["amount"], v["currency"] = majorUnits(d.Amount, d.Currency), d.Currency
	v["pipeline"], v["stage"], v["expected_close_date"] = d.Pipeline, d.Stage, d.ExpectedCloseDate
	v["outcome"], v["loss_reason"] = d.Outcome, d.LossReason
	u.render(w, r, http.StatusOK, "form", view{Title: "Edit " + d.Name, Section: "deals", S: s, D: formPage{Heading: "Edit deal", Sub: d.Name, F: f}})
}

func (u *UI) dealUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	self := "/deals/" + formatInt(id)
	f, err := u.dealForm(r, s, self, "Save changes", self, r.PostFormValue("account_id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f.read(r)
	if fields, ok := f.crmFields(f.Values["currency"]); ok {
		_, err := u.d.CRM.UpdateDeal(r.Context(), s.Actor(), id, fields)
		if err == nil {
			redirect(w, r, self+"?notice=saved")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.render(w, r, http.StatusUnprocessableEntity, "form", view{Title: "Edit deal", Section: "deals", S: s, D: formPage{Heading: "Edit deal", Sub: f.Values["name"], F: f}})
}
