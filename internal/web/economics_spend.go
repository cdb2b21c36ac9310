package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/economics"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The spend page: the ledger of a window, a form to add an entry, a CSV
// upload answered with its reconciliation, and the allocation rules.

type spendRow struct {
	model.SpendEntry
	AmountText string
}

type ruleView struct {
	economics.Rule
	Shares string // "SMB × digital 60 %, …"
}

type spendPage struct {
	From, To   string
	Category   string
	Entries    []spendRow
	More       bool
	Total      []string
	Add        *form
	Upload     *form
	Report     *economics.ImportReport
	Rules      []ruleView
	RuleForm   *form
	Segments   []string
	Motions    []string
	Grid       map[string]string // share.<segment>.<motion> → typed percent
	GridErr    string
	Channels   string
	Categories []string
}

const spendPageRows = 500

func (u *UI) spendAddForm(cur string, segs []string) *form {
	f := newForm("/economics/spend", "Add spend", "", []field{
		{Name: "month", Label: "Month", Type: "month", Required: true},
		{Name: "amount", Label: "Amount", Type: "money", Required: true, Hint: "In the currency below; a negative amount is a credit or refund."},
		{Name: "currency", Label: "Currency", Type: "text", Placeholder: cur, Hint: "Empty: " + cur + "."},
		{Name: "category", Label: "Category", Type: "select", Required: true, Groups: opts(model.SpendCategories, noBlank), Hint: "Programs includes ads."},
		{Name: "channel", Label: "Channel", Type: "text", Placeholder: "paid_search", Hint: "Free text, e.g. " + strings.Join(model.SpendChannels[:6], ", ") + "."},
		{Name: "segment", Label: "Segment", Type: "select", Groups: opts(segs, "By rule"), Hint: "Explicit attribution names a segment and a motion; leave both empty to share it out by rule."},
		{Name: "motion", Label: "Motion", Type: "select", Groups: opts(model.Motions, "By rule")},
		{Name: "note", Label: "Note", Type: "text"},
		{Name: "external_id", Label: "External id", Type: "text", Hint: "An invoice or ledger reference; a CSV row with the same id updates this entry."},
	})
	f.Values["month"] = economics.MonthOf(time.Now())
	return f
}

func spendUploadForm() *form {
	return newForm("/economics/spend/import", "Upload and import", "", []field{
		{Name: "file", Label: "Spend CSV", Type: "file", Required: true, Wide: true,
			Hint: "Header: month, amount, category; optional currency, channel, segment, motion, note, external_id. Every row is accounted for: accepted, merged (same external_id) or rejected with line:column."},
	})
}

func ruleForm() *form {
	return newForm("/economics/spend/rules", "Save rule", "", []field{
		{Name: "category", Label: "Category", Type: "select", Groups: opts(model.SpendCategories, "Any category")},
		{Name: "channel", Label: "Channel", Type: "text", Placeholder: "any channel"},
	})
}

func (u *UI) economicsSpend(w http.ResponseWriter, r *http.Request, s *session) {
	u.showSpend(w, r, s, http.StatusOK, nil)
}

func (u *UI) showSpend(w http.ResponseWriter, r *http.Request, s *session, status int, mod func(*spendPage)) {
	ctx := r.Context()
	ws, err := u.d.St.Read().GetWorkspace(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	q := r.URL.Query()
	from, to, err := u.d.Econ.Window(q.Get("from"), q.Get("to"))
	if err != nil {
		from, to, _ = u.d.Econ.Window("", "")
	}
	segs := u.segmentsOf(r, s.WS())
	p := spendPage{From: from, To: to, Segments: segs, Motions: model.Motions, Add: u.spendAddForm(ws.Currency, segs), Upload: spendUploadForm(),
		RuleForm: ruleForm(), Grid: map[string]string{}, Channels: strings.Join(model.SpendChannels, ", "), Categories: model.SpendCategories}
	cat := q.Get("category")
	if model.Contains(model.SpendCategories, cat) {
		p.Category = cat
	}
	entries, err := u.d.St.Read().ListSpend(ctx, s.WS(), store.SpendFilter{From: from, To: to, Category: p.Category, Limit: spendPageRows + 1})
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	if len(entries) > spendPageRows {
		entries, p.More = entries[:spendPageRows], true
	}
	totals := map[string]int64{}
	for _, e := range entries {
		p.Entries = append(p.Entries, spendRow{SpendEntry: e, AmountText: formatMoney(e.Amount, e.Currency)})
		totals[e.Currency] += e.Amount
	}
	for _, c := range sortedKeys(totals) {
		p.Total = append(p.Total, formatMoney(totals[c], c))
	}
	rules, err := u.d.Econ.AllocationRules(ctx, s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	for _, rl := range rules {
		var parts []string
		for _, sh := range rl.Shares {
			parts = append(parts, fmt.Sprintf("%s × %s %s %%", humanize(sh.Segment), humanize(sh.Motion), pctText(sh.Share)))
			if !model.Contains(p.Segments, sh.Segment) {
				p.Segments = append(p.Segments, sh.Segment)
			}
		}
		p.Rules = append(p.Rules, ruleView{Rule: rl, Shares: strings.Join(parts, ", ")})
	}
	if mod != nil {
		mod(&p)
	}
	note := ""
	switch q.Get("notice") {
	case "created":
		note = "Spend entry added."
	case "deleted":
		note = "Spend entry deleted."
	case "rule":
		note = "Allocation rule saved."
	case "rule_deleted":
		note = "Allocation rule removed."
	}
	u.render(w, r, status, "economics_spend", view{Title: "Spend", Section: "economics", S: s, D: p, Notice: note})
}

func (u *UI) economicsSpendCreate(w http.ResponseWriter, r *http.Request, s *session) {
	ws, err := u.d.St.Read().GetWorkspace(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	f := u.spendAddForm(ws.Currency, u.segmentsOf(r, s.WS()))
	f.read(r)
	cur := strings.ToUpper(f.Values["currency"])
	if cur == "" {
		cur = ws.Currency
	}
	amount, ok, err := parseMoney(f.Values["amount"], cur)
	switch {
	case err != nil:
		f.Errors["amount"] = err.Error()
	case !ok:
		f.Errors["amount"] = "is required"
	}
	if len(f.Errors) == 0 {
		v := func(k string) *string { s := f.Values[k]; return &s }
		_, err := u.d.Econ.CreateSpend(r.Context(), s.Actor(), economics.SpendInput{Month: v("month"), Amount: &amount, Currency: v("currency"), Category: v("category"),
			Channel: v("channel"), Segment: v("segment"), Motion: v("motion"), Note: v("note"), ExternalID: v("external_id")})
		if err == nil {
			redirect(w, r, "/economics/spend?notice=created")
			return
		}
		if !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
	}
	u.showSpend(w, r, s, http.StatusUnprocessableEntity, func(p *spendPage) { p.Add = f })
}

func (u *UI) economicsSpendDelete(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Econ.DeleteSpend(r.Context(), s.Actor(), id); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/spend?notice=deleted")
}

// economicsSpendImport imports the upload at once and shows its report.
func (u *UI) economicsSpendImport(w http.ResponseWriter, r *http.Request, s *session) {
	httpx.LiftBodyLimit(w, r, 64<<20)
	f := spendUploadForm()
	file, hdr, err := r.FormFile("file")
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		f.Errors["file"] = "the file is larger than 64 MiB; split it"
	case errors.Is(err, http.ErrMissingFile):
		f.Errors["file"] = "choose a CSV file"
	case err != nil:
		f.Errors["file"] = "the upload could not be read; try again"
	}
	if len(f.Errors) > 0 {
		u.showSpend(w, r, s, http.StatusUnprocessableEntity, func(p *spendPage) { p.Upload = f })
		return
	}
	defer file.Close()
	rep, err := u.d.Econ.ImportSpend(r.Context(), s.Actor(), hdr.Filename, file)
	var fe *economics.FileError
	if errors.As(err, &fe) {
		f.Errors["file"] = fe.Error()
		u.showSpend(w, r, s, http.StatusUnprocessableEntity, func(p *spendPage) { p.Upload = f })
		return
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.showSpend(w, r, s, http.StatusOK, func(p *spendPage) { p.Report = &rep })
}

// economicsRuleSave adds a rule or replaces the one for the same category and
// channel; the whole set is saved through the service.
func (u *UI) economicsRuleSave(w http.ResponseWriter, r *http.Request, s *session) {
	f := ruleForm()
	f.read(r)
	grid := map[string]string{}
	var shares []economics.RuleShare
	gridErr := ""
	if err := r.ParseForm(); err == nil {
		for k, vs := range r.PostForm {
			rest, ok := strings.CutPrefix(k, "share.")
			if !ok || len(vs) == 0 {
				continue
			}
			grid[k] = strings.TrimSpace(vs[0])
			seg, mot, ok := strings.Cut(rest, ".")
			v, set, err := parsePct(vs[0])
			switch {
			case !ok:
			case err != nil:
				gridErr = humanize(seg) + " × " + humanize(mot) + ": " + err.Error()
			case set && v != 0:
				shares = append(shares, economics.RuleShare{Segment: seg, Motion: mot, Share: v})
			}
		}
	}
	fail := func(msg string) {
		u.showSpend(w, r, s, http.StatusUnprocessableEntity, func(p *spendPage) { p.RuleForm, p.Grid, p.GridErr = f, grid, msg })
	}
	if gridErr != "" {
		fail(gridErr)
		return
	}
	current, err := u.d.Econ.AllocationRules(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	sortShares(shares)
	nr := economics.Rule{Category: f.Values["category"], Channel: f.Values["channel"], Shares: shares}
	probe, err := economics.ValidateRules([]economics.Rule{nr})
	if err != nil {
		fail(ruleMessage(err))
		return
	}
	var set []economics.Rule
	for _, rl := range current {
		if rl.Category != probe[0].Category || rl.Channel != probe[0].Channel {
			set = append(set, rl)
		}
	}
	set = append(set, nr)
	if _, err := u.d.Econ.SaveAllocationRules(r.Context(), s.Actor(), set); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			fail(ruleMessage(err))
			return
		}
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/spend?notice=rule")
}

func sortShares(sh []economics.RuleShare) {
	for i := 1; i < len(sh); i++ {
		for j := i; j > 0 && sh[j].Segment+sh[j].Motion < sh[j-1].Segment+sh[j-1].Motion; j-- {
			sh[j], sh[j-1] = sh[j-1], sh[j]
		}
	}
}

// ruleMessage says a rule error in the form's words (the form has one rule).
func ruleMessage(err error) string {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	f := strings.TrimPrefix(fe.Field, "rules[0].")
	if f == "shares" {
		return "Shares " + fe.Message
	}
	return humanize(strings.ReplaceAll(f, ".", " ")) + ": " + fe.Message
}

func (u *UI) economicsRuleDelete(w http.ResponseWriter, r *http.Request, s *session) {
	cat, ch := r.PostFormValue("category"), r.PostFormValue("channel")
	current, err := u.d.Econ.AllocationRules(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	var set []economics.Rule
	for _, rl := range current {
		if rl.Category != cat || rl.Channel != ch {
			set = append(set, rl)
		}
	}
	if set == nil {
		set = []economics.Rule{}
	}
	if _, err := u.d.Econ.SaveAllocationRules(r.Context(), s.Actor(), set); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/economics/spend?notice=rule_deleted")
}
