package web

import (
	"errors"
	"net/http"

	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// dealHandoffDecide is the AE's accept or reject on the deal page's handoff
// card (POST /deals/{id}/handoffs/{handoff_id}/accept|reject): an SQL counts
// as delivered — and a partner's is billable — once accepted.
func (u *UI) dealHandoffDecide(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	hid, err := httpx.PathID(r, "handoff_id")
	if err != nil {
		u.notFound(w, r, s)
		return
	}
	decision := map[string]string{"accept": model.HandoffAccepted, "reject": model.HandoffRejected}[r.PathValue("decision")]
	if decision == "" {
		u.notFound(w, r, s)
		return
	}
	// The handoff must be this deal's: another deal's (or workspace's) id is a 404.
	h, err := u.d.St.Read().GetHandoff(r.Context(), s.WS(), hid)
	if err == nil && (h.DealID == nil || *h.DealID != id) {
		err = store.ErrNotFound
	}
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	_, err = u.d.Desk.DecideHandoff(r.Context(), s.Actor(), hid, decision, r.PostFormValue("note"))
	var fe *store.FieldError
	var ce *store.ConflictError
	switch {
	case err == nil:
		redirect(w, r, "/deals/"+formatInt(id)+"?notice="+r.PathValue("decision")+"ed#handoff-"+formatInt(hid))
	case errors.Is(err, desk.ErrNotYours):
		u.forbidden(w, r, s)
	case errors.As(err, &fe), errors.As(err, &ce):
		msg := "this SQL has been decided on already"
		if fe != nil {
			msg = humanize(fe.Field) + " " + fe.Message
		}
		u.showDealMod(w, r, s, id, http.StatusUnprocessableEntity, nil, "", func(p *dealPage) {
			for i := range p.Handoffs {
				if p.Handoffs[i].ID == hid {
					p.Handoffs[i].Err = msg
				}
			}
		})
	default:
		u.fail(w, r, s, err)
	}
}
