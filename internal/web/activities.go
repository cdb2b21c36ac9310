package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/crm"
)

// activityCreate logs an activity from a record page and returns to it; on a
// validation error the record page is shown again with the form and its errors.
func (u *UI) activityCreate(w http.ResponseWriter, r *http.Request, s *session) {
	kind, idStr, _ := strings.Cut(r.PostFormValue("back"), ":")
	backID, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil || (kind != "contact" && kind != "account" && kind != "deal") {
		u.errorPage(w, r, s, http.StatusBadRequest, "Cannot log this activity", "The form did not say which record it belongs to. Open the record and try again.")
		return
	}
	f := activityForm(r.PostFormValue("back"), nil)
	f.read(r)
	fields := crm.Fields{}
	for _, k := range []string{"kind", "subject", "body", "occurred_at", "duration_minutes", "contact_id", "account_id", "deal_id"} {
		if v := f.Values[k]; v != "" {
			fields[k] = v
		}
	}
	_, err = u.d.CRM.CreateActivity(r.Context(), s.Actor(), fields)
	if err == nil {
		redirect(w, r, "/"+kind+"s/"+formatInt(backID)+"?notice=activity#timeline")
		return
	}
	if !f.setError(err) {
		u.fail(w, r, s, err)
		return
	}
	switch kind {
	case "contact":
		u.showContact(w, r, s, backID, http.StatusUnprocessableEntity, f, nil)
	case "account":
		u.showAccount(w, r, s, backID, http.StatusUnprocessableEntity, f, nil)
	default:
		u.showDeal(w, r, s, backID, http.StatusUnprocessableEntity, f)
	}
}
