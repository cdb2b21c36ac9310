package web

import (
	"context"
	"net/http"
	"net/url"

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
}

func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d := dashboardData{WSName: ws.Name, Currency: ws.Currency}

	// Accounts by segment.
	var segBars []bar
	var accounts int64
	for _, seg := range append(append([]string{}, model.Segments...), "") {
		f := store.Filter{Field: "segment", Op: "eq", Value: seg}
		label, href := humanize(seg), "/accounts?segment="+url.QueryEscape(seg)
		if seg == "" {
			f = store.Filter{Field: "segment", Op: "empty", Value: "true"}
			label, href = "Not segmented", "/accounts?segment=none"
		}
		n, err := u.countAccounts(ctx, s.WS(), f)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		accounts += n
		if seg == "" && n == 0 {
			continue
		}
		segBars = append(segBars, bar{Label: label, Value: n, Display: formatNumber(n), Href: href})
	}
	d.Segments = newBarChart("chart-segments", "Accounts by segment", segBars)

	// Contacts by lifecycle stage.
	var stageBars []bar
	var contacts int64
	for _, st := range model.LifecycleStages {
		n, err := u.countContacts(ctx, s.WS(), store.Filter{Field: "lifecycle_stage", Op: "eq", Value: st})
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
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
	for _, p := range pipelineOrder {
		var bars []bar
		for _, st := range model.Pipelines[p] {
			line := stageLine{Pipeline: pipelineLabel(p), Stage: st, Href: "/deals?outcome=open&pipeline=" + p + "&stage=" + st}
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
			bars = append(bars, bar{Label: humanize(st), Value: inCur, Display: formatMoneyShort(inCur, ws.Currency), Href: line.Href})
		}
		d.Pipelines = append(d.Pipelines, newBarChart("chart-pipeline-"+p, "Open pipeline · "+pipelineLabel(p), bars))
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
	recent, err := u.d.St.Read().ListActivities(ctx, s.WS(), store.ListParams{Sort: "-occurred_at", Limit: 8}, nil)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	d.Recent = recent.Items
	d.Empty = accounts == 0 && contacts == 0 && len(sum) == 0
	u.render(w, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Section: "dashboard", S: s, D: d})
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

// countAccounts and countContacts use the list queries' exact count. A GROUP BY
// summary in the store would do this in one query (asked of the store owner).
func (u *UI) countAccounts(ctx context.Context, ws int64, f store.Filter) (int64, error) {
	p, err := u.d.St.Read().ListAccounts(ctx, ws, store.ListParams{Filters: []store.Filter{f}, Limit: 1, Count: true, Sort: "id"}, nil)
	if err != nil || p.Total == nil {
		return 0, err
	}
	return *p.Total, nil
}

func (u *UI) countContacts(ctx context.Context, ws int64, f store.Filter) (int64, error) {
	p, err := u.d.St.Read().ListContacts(ctx, ws, store.ListParams{Filters: []store.Filter{f}, Limit: 1, Count: true, Sort: "id"}, nil)
	if err != nil || p.Total == nil {
		return 0, err
	}
	return *p.Total, nil
}
