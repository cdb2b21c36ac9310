package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/funnel"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

type tile struct {
	Label string
	Value string
	Sub   string
	Href  string
}

type stageLine struct {
	Pipeline string
	Stage    string
	Count    int64
	Amounts  []moneyTotal
	Href     string
}

type dashboardData struct {
	WSName    string
	Tiles     []tile
	Segments  barChart
	Lifecycle barChart
	Pipelines []barChart
	Stages    []stageLine
	OtherCur  bool
	Currency  string
	Recent    []model.Activity
	Empty     bool
	// Funnel is how many contacts reached each stage in the last 90 days, with the
	// conversion from the stage before (funnel package conventions).
	Funnel       barChart
	FunnelNote   string
	FunnelLeadTo string
	// Disqualified and Losses are why leads and deals fell out in the same 90
	// days: desk disqualification reasons; lost deals' loss reasons with
	// no_decision as its own bar (reports/disqualifications has the conventions).
	Disqualified barChart
	Losses       barChart
	DQTotal      int64
	LossTotal    int64
	// Alerts are the open economics guardrail alerts, for admins and managers.
	Alerts []economics.Alert
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	// The dashboard is the whole workspace's numbers; a partner's home is its
	// own queue.
	if !s.Can(read) {
		redirect(w, r, "/desk")
		return
	}
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := dashboardData{WSName: ws.Name, Currency: ws.Currency}
	if s.CanManage {
		if d.Alerts, err = u.d.Econ.Alerts(ctx, s.WS(), true, 5); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}

	// Accounts by segment: the default segments first, then any others in use.
	bySeg, err := u.d.St.Read().CountBy(ctx, s.WS(), "accounts", "segment")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var segBars []bar
	var accounts int64
	segs := append([]string{}, model.Segments...)
	var extra []string
	for seg := range bySeg {
		if seg != "" && !model.Contains(segs, seg) {
			extra = append(extra, seg)
		}
	}
	sort.Strings(extra)
	for _, seg := range append(append(segs, extra...), "") {
		n := bySeg[seg]
		label, href := humanize(seg), "/accounts?segment="+url.QueryEscape(seg)
		if seg == "" {
			label, href = "Not segmented", "/accounts?segment=none"
		}
		accounts += n
		if seg == "" && n == 0 {
			continue
		}
		segBars = append(segBars, bar{Label: label, Value: n, Display: formatNumber(n), Href: href})
	}
	d.Segments = newBarChart("chart-segments", "Accounts by segment", segBars)

	// Contacts by lifecycle stage.
	byStage, err := u.d.St.Read().CountBy(ctx, s.WS(), "contacts", "lifecycle_stage")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var stageBars []bar
	var contacts int64
	for _, st := range model.LifecycleStages {
		n := byStage[st]
		contacts += n
		tone := ""
		if st == "disqualified" || st == "nurture" {
			tone = "muted"
		}
		stageBars = append(stageBars, bar{Label: humanize(st), Value: n, Display: formatNumber(n), Href: "/contacts?lifecycle_stage=" + st, Tone: tone})
	}
	d.Lifecycle = newBarChart("chart-lifecycle", "Contacts by lifecycle stage", stageBars)

	// Open deals by pipeline and stage; won this far.
	sum, err := u.d.St.Read().DealSummary(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var openCount int64
	var openAmt, wonAmt int64
	set, err := u.d.Pipeline.Get(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, pd := range set.Pipelines {
		p := pd.Key
		var bars []bar
		for _, sd := range pd.Stages {
			st := sd.Key
			if st == "won" {
				continue // won deals are closed, not open pipeline
			}
			line := stageLine{Pipeline: pd.Name, Stage: st, Href: "/deals?outcome=open&pipeline=" + url.QueryEscape(p) + "&stage=" + url.QueryEscape(st)}
			var inCur int64
			for _, x := range sum {
				if x.Pipeline != p || x.Stage != st || x.Outcome != "" {
					continue
				}
				line.Count += x.Count
				line.Amounts = addTotal(line.Amounts, x.Currency, x.Amount, x.Count)
				if x.Currency == ws.Currency {
					inCur += x.Amount
				} else {
					d.OtherCur = true
				}
			}
			openCount += line.Count
			openAmt += inCur
			if line.Count > 0 {
				d.Stages = append(d.Stages, line)
			}
			bars = append(bars, bar{Label: sd.Name, Value: inCur, Display: formatMoneyShort(inCur, ws.Currency), Href: line.Href})
		}
		d.Pipelines = append(d.Pipelines, newBarChart("chart-pipeline-"+p, "Open pipeline · "+pd.Name, bars))
	}
	var wonCount int64
	for _, x := range sum {
		if x.Outcome == "won" {
			wonCount += x.Count
			if x.Currency == ws.Currency {
				wonAmt += x.Amount
			}
		}
	}
	d.Tiles = []tile{
		{Label: "Accounts", Value: formatNumber(accounts), Href: "/accounts"},
		{Label: "Contacts", Value: formatNumber(contacts), Href: "/contacts"},
		{Label: "Open deals", Value: formatNumber(openCount), Sub: formatMoney(openAmt, ws.Currency) + " in pipeline", Href: "/deals?outcome=open"},
		{Label: "Won", Value: formatMoney(wonAmt, ws.Currency), Sub: formatNumber(wonCount) + " deals", Href: "/deals?outcome=won"},
	}
	now := time.Now().UTC()
	fr, err := funnel.Report(ctx, u.d.St, s.WS(), funnel.Params{From: now.AddDate(0, 0, -89), To: now, By: "motion"})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var fbars []bar
	for i, sc := range fr.Total.Stages {
		disp := formatNumber(int64(sc.Reached))
		if i > 0 && i-1 < len(fr.Total.Conversions) {
			if rate := fr.Total.Conversions[i-1].Rate; rate != nil {
				disp += fmt.Sprintf(" · %.0f%%", *rate*100)
			}
		}
		fbars = append(fbars, bar{Label: humanize(sc.Stage), Value: int64(sc.Reached), Display: disp, Href: "/contacts?lifecycle_stage=" + sc.Stage})
	}
	d.Funnel = newBarChart("chart-funnel", "Funnel, last 90 days", fbars)
	d.FunnelNote = fr.Convention.Reached + " " + fr.Convention.Conversion
	if rate := fr.Total.LeadToCustomer.Rate; rate != nil {
		d.FunnelLeadTo = fmt.Sprintf("Lead → customer: %.1f%% (%d of %d)", *rate*100, fr.Total.LeadToCustomer.Converted, fr.Total.LeadToCustomer.Denominator)
	}
	if err := u.fallout(r, s, &d, now); err != nil {
		u.fail(w, r, s, err)
		return
	}
	recent, err := u.d.St.Read().ListActivities(ctx, s.WS(), store.ListParams{Sort: "-occurred_at", Limit: 8}, nil)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.Recent = recent.Items
	d.Empty = accounts == 0 && contacts == 0 && len(sum) == 0
	u.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Section: "dashboard", S: s, D: d})
}

// fallout fills the dashboard's "why they fell out" charts for the last 90
// days (whole UTC days, today included, as the funnel card).
func (u *UI) fallout(r *http.Request, s *session, d *dashboardData, now time.Time) error {
	ctx := r.Context()
	today := now.Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -89), today.AddDate(0, 0, 1)
	q := u.d.St.Read()
	dq, err := q.DisqualificationCounts(ctx, s.WS(), from, to)
	if err != nil {
		return err
	}
	var bars []bar
	for _, c := range dq {
		d.DQTotal += c.Count
		bars = append(bars, bar{Label: humanize(c.Reason), Value: c.Count, Display: formatNumber(c.Count), Href: "/contacts?lifecycle_stage=disqualified"})
	}
	d.Disqualified = newBarChart("chart-disqualified", "Disqualification reasons, last 90 days", bars)
	losses, err := q.DealLossCounts(ctx, s.WS(), from, to)
	if err != nil {
		return err
	}
	bars = nil
	var noDecision int64
	for _, l := range losses {
		d.LossTotal += l.Count
		if l.Outcome == "no_decision" {
			noDecision += l.Count
			continue
		}
		label := humanize(l.LossReason)
		if l.LossReason == "" {
			label = "No reason given"
		}
		bars = append(bars, bar{Label: label, Value: l.Count, Display: formatNumber(l.Count), Href: "/deals?outcome=lost"})
	}
	if noDecision > 0 {
		bars = append(bars, bar{Label: "No decision", Value: noDecision, Display: formatNumber(noDecision), Href: "/deals?outcome=no_decision", Tone: "muted"})
	}
	d.Losses = newBarChart("chart-losses", "Loss reasons, last 90 days", bars)
	return nil
}

func addTotal(ts []moneyTotal, cur string, amt, n int64) []moneyTotal {
	for i := range ts {
		if ts[i].Currency == cur {
			ts[i].Amount += amt
			ts[i].Count += n
			return ts
		}
	}
	return append(ts, moneyTotal{Currency: cur, Amount: amt, Count: n})
}
