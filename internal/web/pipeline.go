package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/pipeline"
	"github.com/rightsize/rightsize/internal/store"
)

// The pipeline board (/pipeline?motion=…), the deal page's committee and gate
// panels, and the pipelines settings page. Moves go through crm.UpdateDeal, the
// API's path: a refused move shows the same unmet criteria the API answers.

type boardPage struct {
	B       pipeline.Board
	Motions []option
	Refused map[int64][]model.Unmet // deal id → why its move was refused
	MoveErr map[int64]string
	Admin   bool // admins may override with a reason
}

func (u *UI) board(w http.ResponseWriter, r *http.Request, s *session) {
	u.showBoard(w, r, s, r.URL.Query().Get("motion"), http.StatusOK, nil, nil)
}

func (u *UI) showBoard(w http.ResponseWriter, r *http.Request, s *session, motion string, status int, refused map[int64][]model.Unmet, moveErr map[int64]string) {
	if motion == "" {
		motion = "high_touch"
	}
	b, err := u.d.Pipeline.Board(r.Context(), s.WS(), motion)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := boardPage{B: b, Refused: refused, MoveErr: moveErr, Admin: s.Role == model.RoleAdmin}
	for _, pd := range b.Pipelines {
		p.Motions = append(p.Motions, option{pd.Key, pd.Name})
	}
	u.render(w, r, status, "pipeline", view{Title: b.Pipeline.Name + " pipeline", Section: "pipeline", S: s, D: p, Notice: notice(r, "Deal")})
}

// boardMove is the no-script move (and what the board script falls back to):
// one deal to one stage through crm, the same gate as every other path.
func (u *UI) boardMove(w http.ResponseWriter, r *http.Request, s *session) {
	motion := r.PostFormValue("motion")
	id, err := strconv.ParseInt(r.PostFormValue("deal_id"), 10, 64)
	if err != nil || id <= 0 {
		u.notFound(w, r, s)
		return
	}
	f := crm.Fields{"stage": r.PostFormValue("stage")}
	if reason := strings.TrimSpace(r.PostFormValue("override_reason")); reason != "" {
		f[pipeline.OverrideField] = reason
	}
	_, err = u.d.CRM.UpdateDeal(r.Context(), s.Actor(), id, f)
	var ge *model.GateError
	var fe *store.FieldError
	switch {
	case err == nil:
		redirect(w, r, "/pipeline?motion="+motion+"&notice=moved#deal-"+formatInt(id))
	case errors.As(err, &ge):
		u.showBoard(w, r, s, motion, http.StatusUnprocessableEntity, map[int64][]model.Unmet{id: ge.Unmet}, nil)
	case errors.As(err, &fe):
		u.showBoard(w, r, s, motion, http.StatusUnprocessableEntity, nil, map[int64]string{id: fe.Error()})
	default:
		u.fail(w, r, s, err)
	}
}

// dealGates is the deal page's gate checklist and committee grid.
type dealGates struct {
	C        pipeline.Checklist
	Contacts []option // contacts that can join the committee
	Roles    []option
	Signoffs []option
	Err      string
}

func (u *UI) dealGatesOf(ctx context.Context, s *session, d model.Deal) (*dealGates, error) {
	c, err := u.d.Pipeline.DealChecklist(ctx, s.WS(), d)
	if err != nil {
		return nil, err
	}
	g := &dealGates{C: c}
	for _, r := range model.CommitteeRoles {
		g.Roles = append(g.Roles, option{r, humanize(r)})
	}
	for _, so := range model.SignoffStates {
		g.Signoffs = append(g.Signoffs, option{so, humanize(so)})
	}
	lp := store.ListParams{Limit: 200, Sort: "last_name"}
	if d.AccountID != nil {
		lp.Filters = []store.Filter{{Field: "account_id", Value: formatInt(*d.AccountID)}}
	}
	page, err := u.d.St.Read().ListContacts(ctx, s.WS(), lp, nil)
	if err != nil {
		return nil, err
	}
	for _, ct := range page.Items {
		name := strings.TrimSpace(ct.FirstName + " " + ct.LastName)
		if name == "" {
			name = ct.Email
		} else if ct.Title != "" {
			name += " — " + ct.Title
		}
		g.Contacts = append(g.Contacts, option{formatInt(ct.ID), name})
	}
	return g, nil
}

func (u *UI) committeePut(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	cid, err := strconv.ParseInt(r.PostFormValue("contact_id"), 10, 64)
	if err != nil || cid <= 0 {
		u.showDealErr(w, r, s, id, "Choose a contact.")
		return
	}
	in := pipeline.MemberInput{}
	for name, dst := range map[string]**string{"role": &in.Role, "signoff": &in.Signoff, "note": &in.Note} {
		if _, ok := r.PostForm[name]; ok {
			v := r.PostFormValue(name)
			*dst = &v
		}
	}
	_, err = u.d.Pipeline.PutMember(r.Context(), s.Actor(), id, cid, in)
	var fe *store.FieldError
	switch {
	case err == nil:
		redirect(w, r, "/deals/"+formatInt(id)+"?notice=saved#committee")
	case errors.Is(err, store.ErrNotFound):
		// The deal, or a contact of another workspace: the same answer.
		u.notFound(w, r, s)
	case errors.As(err, &fe):
		u.showDealErr(w, r, s, id, humanize(fe.Field)+": "+fe.Message)
	default:
		u.fail(w, r, s, err)
	}
}

func (u *UI) committeeRemove(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	cid, err := httpx.PathID(r, "contact_id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	if err := u.d.Pipeline.RemoveMember(r.Context(), s.Actor(), id, cid); err != nil {
		u.fail(w, r, s, err)
		return
	}
	redirect(w, r, "/deals/"+formatInt(id)+"?notice=saved#committee")
}

func (u *UI) showDealErr(w http.ResponseWriter, r *http.Request, s *session, id int64, msg string) {
	u.showDealWith(w, r, s, id, http.StatusUnprocessableEntity, nil, msg)
}

// pipelinesPage edits the workspace's pipelines as JSON (the API's document):
// stages, probabilities, categories and exit criteria are nested lists that a
// JSON editor states exactly; the table above it shows the result.
type pipelinesPage struct {
	Set      pipeline.Set
	JSON     string
	Err      string
	Field    string
	ReadOnly bool
}

func (u *UI) pipelinesSettings(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := u.d.Pipeline.Get(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	b, _ := json.MarshalIndent(set.Pipelines, "", "  ")
	u.render(w, r, http.StatusOK, "settings_pipelines", view{Title: "Pipelines", Section: "settings", S: s,
		D: pipelinesPage{Set: set, JSON: string(b), ReadOnly: !s.CanManage}, Notice: notice(r, "Pipelines")})
}

func (u *UI) pipelinesSave(w http.ResponseWriter, r *http.Request, s *session) {
	text := r.PostFormValue("pipelines")
	p := pipelinesPage{JSON: text}
	var ps []model.PipelineDef
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		p.Err = "The pipelines are not valid JSON: " + err.Error()
	} else {
		_, err := u.d.Pipeline.Save(r.Context(), s.Actor(), ps)
		var fe *store.FieldError
		switch {
		case err == nil:
			redirect(w, r, "/settings/pipelines?notice=saved")
			return
		case errors.As(err, &fe):
			p.Err, p.Field = fe.Field+": "+fe.Message, fe.Field
		default:
			u.fail(w, r, s, err)
			return
		}
	}
	set, err := u.d.Pipeline.Get(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.Set = set
	u.render(w, r, http.StatusUnprocessableEntity, "settings_pipelines", view{Title: "Pipelines", Section: "settings", S: s, D: p})
}

// staleIDs turns the deals list's stale filter into an id filter.
