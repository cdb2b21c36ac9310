package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/success"
)

// Customer success in the UI (docs/success.md): the section of a customer's
// page (handoff, checklist, health) rendered by the "customer_success" partial
// from what customerSuccess returns, the CSM queue (/success) and the health
// settings (/settings/success). Writes go through success.Service.

// customerHref is the customer page, which embeds the success section
// (/customers/{id}/success shows the section alone, e.g. before a subscription).
func customerHref(accountID int64) string { return fmt.Sprintf("/customers/%d", accountID) }

// successSection is what the "customer_success" partial renders.
type successSection struct {
	AccountID int64
	// Base is the path forms post under; Next is where they return to.
	Base string
	Next string
	// Handoff is nil when the customer has none (no won deal yet).
	Handoff         *success.HandoffView
	CanAccept       bool
	CanSetSentiment bool
	CanAssign       bool
	CSMs            []option
	CSMSelected     string
	Health          success.Current
	History         []success.HistoryPoint
	Inputs          success.InputsView
	Chart           scoreChart
	// Err and Errors carry a refused action back (field → message); Values
	// keep what was typed.
	Err    string
	Errors map[string]string
	Values map[string]string
}

// Val is what the note field name holds: what was typed on an error, else
// the stored value.
func (s *successSection) Val(name string) string {
	if v, ok := s.Values[name]; ok {
		return v
	}
	if s.Handoff == nil {
		return ""
	}
	switch name {
	case "goals":
		return s.Handoff.Goals
	case "stakeholders":
		return s.Handoff.Stakeholders
	case "risks":
		return s.Handoff.Risks
	}
	return ""
}

// noteField is one part of the handoff note as the form shows it.
type noteField struct {
	Name, Label, Placeholder, Value, Err string
}

// NoteFields are the note's inputs in order.
func (s *successSection) NoteFields() []noteField {
	ph := map[string]string{
		"goals":        "What the customer wants to achieve, and by when",
		"stakeholders": "Who matters on their side: sponsor, admin, users",
		"risks":        "What could go wrong: data, adoption, politics",
	}
	out := make([]noteField, 0, len(success.NoteParts))
	for _, n := range success.NoteParts {
		out = append(out, noteField{Name: n, Label: humanize(n), Placeholder: ph[n], Value: s.Val(n), Err: s.Errors[n]})
	}
	return out
}

type selOption struct {
	Value, Label string
	Selected     bool
}

// SentimentOpts are the sentiment choices, the current (or typed) one selected.
func (s *successSection) SentimentOpts() []selOption {
	cur := s.Values["sentiment"]
	if cur == "" {
		cur = s.Inputs.Sentiment
	}
	if cur == "" {
		cur = "neutral"
	}
	out := make([]selOption, 0, len(success.Sentiments))
	for _, v := range success.Sentiments {
		out = append(out, selOption{Value: v, Label: humanize(v), Selected: v == cur})
	}
	return out
}

// customerSuccess loads the success section of customer (account) accountID
// for the signed-in user: the customer page calls it and hands the result to
// {{template "customer_success" .Success}}. A foreign or missing account is
// store.ErrNotFound.
func (u *UI) customerSuccess(r *http.Request, s *session, accountID int64) (*successSection, error) {
	ctx := r.Context()
	ws := s.WS()
	h, err := u.d.Success.Health(ctx, ws, accountID)
	if err != nil {
		return nil, err
	}
	sec := &successSection{AccountID: accountID, Base: fmt.Sprintf("/customers/%d/success", accountID), Next: r.URL.Path,
		Health: h.Current, History: h.History, Inputs: h.Inputs, Errors: map[string]string{}, Values: map[string]string{}}
	if p, ok := localPath(r.URL.Path); ok {
		sec.Next = p
	}
	ho, err := u.d.Success.Handoff(ctx, ws, accountID, nil)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		sec.Handoff = &ho
	}
	manage := s.Role == model.RoleCSM || s.CanManage
	sec.CanSetSentiment = manage
	if sec.Handoff != nil {
		mine := sec.Handoff.CSMUserID == nil || *sec.Handoff.CSMUserID == s.P.UserID || s.CanManage
		sec.CanAccept = manage && mine && sec.Handoff.Status == success.StatusAwaitingAcceptance
		sec.CanAssign = s.CanManage && sec.Handoff.Status != success.StatusAccepted
	}
	if sec.CanAssign {
		if id := sec.Handoff.CSMUserID; id != nil {
			sec.CSMSelected = strconv.FormatInt(*id, 10)
		}
		ms, err := u.d.St.Read().WorkspaceMembers(ctx, ws)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.Role == model.RoleCSM || m.Role == model.RoleManager || m.Role == model.RoleAdmin {
				sec.CSMs = append(sec.CSMs, option{strconv.FormatInt(m.UserID, 10), m.UserEmail + " (" + humanize(m.Role) + ")"})
			}
		}
	}
	set, err := u.d.Success.Settings(ctx, ws)
	if err != nil {
		return nil, err
	}
	sec.Chart = newScoreChart("health-chart", h.History, set.Health)
	return sec, nil
}

type customerSuccessPage struct {
	Account model.Account
	Success *successSection
}

func (u *UI) customerSuccessShow(w http.ResponseWriter, r *http.Request, s *session) {
	u.showCustomerSuccess(w, r, s, http.StatusOK, nil)
}

// showCustomerSuccess renders the standalone page; a refused action arrives
// with its errors and the values typed.
func (u *UI) showCustomerSuccess(w http.ResponseWriter, r *http.Request, s *session, status int, fill func(*successSection)) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	acct, err := u.d.St.Read().GetAccount(r.Context(), s.WS(), id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	sec, err := u.customerSuccess(r, s, id)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	sec.Next = customerHref(id)
	if fill != nil {
		fill(sec)
	}
	var note string
	switch r.URL.Query().Get("notice") {
	case "note":
		note = "Handoff note saved."
	case "accepted":
		note = "Handoff accepted. The customer is yours."
	case "input":
		note = "Saved; the health score was recomputed."
	case "csm":
		note = "CSM changed."
	case "item":
		note = "Onboarding checklist updated."
	}
	u.render(w, r, status, "customer_success_page", view{Title: acct.Name + " · Customer success", Section: "success", S: s, D: customerSuccessPage{Account: acct, Success: sec}, Notice: note})
}

// successBack redirects to the form's next path (a local one) or the
// standalone page, with a notice.
func successBack(w http.ResponseWriter, r *http.Request, accountID int64, notice string) {
	to := customerHref(accountID)
	if p, ok := localPath(r.PostFormValue("next")); ok {
		to = p
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	redirect(w, r, to+sep+"notice="+notice+"#customer-success")
}

// successAction reads the customer id and the optional deal id of a posted
// success form.
func successAction(r *http.Request) (int64, *int64, bool) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return 0, nil, false
	}
	if v := strings.TrimSpace(r.PostFormValue("deal_id")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, nil, false
		}
		return id, &n, true
	}
	return id, nil, true
}

// successRefused shows a refused success action on the standalone page:
// field errors next to their input, state errors and forbidden at the top.
func (u *UI) successRefused(w http.ResponseWriter, r *http.Request, s *session, err error, values map[string]string) {
	var fe *store.FieldError
	var se *success.StateError
	switch {
	case errors.Is(err, success.ErrForbidden):
		u.forbidden(w, r, s)
	case errors.As(err, &se):
		u.showCustomerSuccess(w, r, s, http.StatusUnprocessableEntity, func(sec *successSection) {
			sec.Err, sec.Values = se.Message, values
			for _, m := range se.Missing {
				sec.Errors[m] = "is required before a CSM can accept"
			}
		})
	case errors.As(err, &fe):
		u.showCustomerSuccess(w, r, s, http.StatusUnprocessableEntity, func(sec *successSection) {
			sec.Errors[fe.Field], sec.Values = fe.Message, values
			sec.Err = "Not saved: " + humanize(fe.Field) + " " + fe.Message + "."
		})
	default:
		u.fail(w, r, s, err)
	}
}

func (u *UI) successNote(w http.ResponseWriter, r *http.Request, s *session) {
	id, deal, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	vals := map[string]string{}
	var p success.HandoffPatch
	for _, k := range success.NoteParts {
		v := r.PostFormValue(k)
		vals[k] = v
		switch k {
		case "goals":
			p.Goals = &v
		case "stakeholders":
			p.Stakeholders = &v
		case "risks":
			p.Risks = &v
		}
	}
	if _, err := u.d.Success.UpdateHandoff(r.Context(), s.Actor(), id, deal, p); err != nil {
		u.successRefused(w, r, s, err, vals)
		return
	}
	successBack(w, r, id, "note")
}

func (u *UI) successAccept(w http.ResponseWriter, r *http.Request, s *session) {
	id, deal, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	if _, err := u.d.Success.Accept(r.Context(), s.Actor(), id, deal); err != nil {
		u.successRefused(w, r, s, err, nil)
		return
	}
	successBack(w, r, id, "accepted")
}

func (u *UI) successCSM(w http.ResponseWriter, r *http.Request, s *session) {
	id, deal, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	p := success.HandoffPatch{CSMUserID: success.OptionalID{Set: true}}
	if v := strings.TrimSpace(r.PostFormValue("csm_user_id")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			u.successRefused(w, r, s, &store.FieldError{Field: "csm_user_id", Message: "is not a user"}, nil)
			return
		}
		p.CSMUserID.ID = &n
	}
	if _, err := u.d.Success.UpdateHandoff(r.Context(), s.Actor(), id, deal, p); err != nil {
		u.successRefused(w, r, s, err, nil)
		return
	}
	successBack(w, r, id, "csm")
}

func (u *UI) successItem(w http.ResponseWriter, r *http.Request, s *session) {
	id, deal, ok := successAction(r)
	item, err := httpx.PathID(r, "item_id")
	if !ok || err != nil {
		u.notFound(w, r, s)
		return
	}
	if _, err := u.d.Success.SetItem(r.Context(), s.Actor(), id, deal, item, r.PostFormValue("done") == "1"); err != nil {
		u.successRefused(w, r, s, err, nil)
		return
	}
	successBack(w, r, id, "item")
}

func (u *UI) successSentiment(w http.ResponseWriter, r *http.Request, s *session) {
	id, _, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	sent, note := r.PostFormValue("sentiment"), r.PostFormValue("sentiment_note")
	if _, err := u.d.Success.SetSentiment(r.Context(), s.Actor(), id, sent, note); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) && fe.Field == "note" {
			fe = &store.FieldError{Field: "sentiment_note", Message: fe.Message}
			err = fe
		}
		u.successRefused(w, r, s, err, map[string]string{"sentiment": sent, "sentiment_note": note})
		return
	}
	successBack(w, r, id, "input")
}

func (u *UI) successNPS(w http.ResponseWriter, r *http.Request, s *session) {
	id, _, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	vals := map[string]string{"nps_score": r.PostFormValue("nps_score"), "nps_comment": r.PostFormValue("nps_comment")}
	var in success.NPSIn
	if v := strings.TrimSpace(vals["nps_score"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			u.successRefused(w, r, s, &store.FieldError{Field: "nps_score", Message: "must be a whole number from 0 to 10"}, vals)
			return
		}
		in.Score = &n
	}
	in.Comment = vals["nps_comment"]
	if _, err := u.d.Success.RecordNPS(r.Context(), s.Actor(), id, in); err != nil {
		var fe *store.FieldError
		if errors.As(err, &fe) {
			err = &store.FieldError{Field: "nps_" + fe.Field, Message: fe.Message}
		}
		u.successRefused(w, r, s, err, vals)
		return
	}
	successBack(w, r, id, "input")
}

func (u *UI) successSupport(w http.ResponseWriter, r *http.Request, s *session) {
	id, _, ok := successAction(r)
	if !ok {
		u.notFound(w, r, s)
		return
	}
	v := strings.TrimSpace(r.PostFormValue("open_items"))
	vals := map[string]string{"open_items": v}
	var open *int64
	if v != "" {
		n, err := strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64)
		if err != nil {
			u.successRefused(w, r, s, &store.FieldError{Field: "open_items", Message: "must be a whole number"}, vals)
			return
		}
		open = &n
	}
	if _, err := u.d.Success.SetSupport(r.Context(), s.Actor(), id, open); err != nil {
		u.successRefused(w, r, s, err, vals)
		return
	}
	successBack(w, r, id, "input")
}

// ---- the CSM queue ----------------------------------------------------------------

type successQueuePage struct {
	Q    success.Queue
	Href func(int64) string
}

func (u *UI) successQueue(w http.ResponseWriter, r *http.Request, s *session) {
	q, err := u.d.Success.Queue(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	u.render(w, r, http.StatusOK, "success", view{Title: "Customer success", Section: "success", S: s, D: successQueuePage{Q: q, Href: customerHref}})
}

// ---- health score history chart ---------------------------------------------------

// scoreChart is a customer's health history as an inline SVG line chart (the
// "scorechart" template in the customer_success partial): score 0–100 on the
// y axis, time on the x axis, the band thresholds as dashed lines. Like
// barChart, the geometry is computed here and the SVG carries a text
// alternative.
type scoreChart struct {
	ID, Title, Desc         string
	Width, Height           int
	Left, Right, Top, Bot   int
	Line                    string
	Dots                    []scoreDot
	Healthy, Critical       scoreRule
	Ticks                   []scoreRule
	FirstLabel, LastLabel   string
	Empty                   bool
	HealthyMin, CriticalMin int
}

type scoreDot struct {
	X, Y  float64
	Label string
	Band  string
}

type scoreRule struct {
	Y     float64
	Label string
}

func newScoreChart(id string, hist []success.HistoryPoint, h success.HealthSettings) scoreChart {
	c := scoreChart{ID: id, Title: "Health score history", Width: 640, Height: 200, Left: 34, Right: 12, Top: 10, Bot: 26, Empty: len(hist) == 0,
		HealthyMin: h.HealthyMin, CriticalMin: h.CriticalBelow}
	plotW, plotH := float64(c.Width-c.Left-c.Right), float64(c.Height-c.Top-c.Bot)
	y := func(score int) float64 { return float64(c.Top) + plotH*(1-float64(score)/100) }
	c.Healthy = scoreRule{Y: y(h.HealthyMin), Label: fmt.Sprintf("healthy ≥ %d", h.HealthyMin)}
	c.Critical = scoreRule{Y: y(h.CriticalBelow), Label: fmt.Sprintf("critical < %d", h.CriticalBelow)}
	for _, v := range []int{0, 50, 100} {
		c.Ticks = append(c.Ticks, scoreRule{Y: y(v), Label: strconv.Itoa(v)})
	}
	if c.Empty {
		c.Desc = "No health history yet."
		return c
	}
	t0, t1 := hist[0].ComputedAt, hist[len(hist)-1].ComputedAt
	span := t1.Sub(t0).Seconds()
	var pts, desc []string
	for i, p := range hist {
		x := float64(c.Left) + plotW/2
		if span > 0 {
			x = float64(c.Left) + plotW*p.ComputedAt.Sub(t0).Seconds()/span
		} else if len(hist) > 1 {
			x = float64(c.Left) + plotW*float64(i)/float64(len(hist)-1)
		}
		d := scoreDot{X: x, Y: y(p.Score), Band: p.Band, Label: fmt.Sprintf("%d (%s) on %s, %s", p.Score, humanize(p.Band), formatDate(p.ComputedAt), humanize(p.Cause))}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", d.X, d.Y))
		c.Dots = append(c.Dots, d)
		desc = append(desc, fmt.Sprintf("%d on %s", p.Score, formatDate(p.ComputedAt)))
	}
	// Dots only while they stay readable; the line carries a long history.
	if len(c.Dots) > 60 {
		c.Dots = c.Dots[len(c.Dots)-1:]
	}
	c.Line = strings.Join(pts, " ")
	c.FirstLabel, c.LastLabel = formatDate(t0), formatDate(t1)
	if len(desc) > 12 {
		desc = append(desc[:3], append([]string{"…"}, desc[len(desc)-8:]...)...)
	}
	c.Desc = fmt.Sprintf("Health score over %d recomputes: %s.", len(hist), strings.Join(desc, "; "))
	return c
}
