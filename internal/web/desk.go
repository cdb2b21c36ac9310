package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The LDR desk: the queue of MQLs and one compact form per action.

type deskAction struct {
	Name  string // qualify, disqualify, nurture, call
	Label string
	F     *form
	P     string // id prefix of the form's fields
	Open  bool
}

type deskItem struct {
	desk.Item
	Name    string
	Actions []deskAction
}

type deskPage struct {
	Mine       []deskItem
	Unassigned []deskItem
	Error      string // an action's error on a contact that is not in the queue
	SLA        desk.SLA
	// Reps lets an admin or manager look at an LDR's queue (rep=user id); Rep is
	// whose queue is shown.
	Reps []option
	Rep  string
}

func deskForms(id int64) map[string]*form {
	base := "/desk/" + formatInt(id) + "/"
	return map[string]*form{
		"qualify": newForm(base+"qualify", "Qualify and hand to an AE", "", []field{
			{Name: "budget", Label: "Budget", Type: "text", Required: true, Placeholder: "$20k approved for Q3"},
			{Name: "authority", Label: "Authority", Type: "text", Required: true, Placeholder: "VP Sales signs"},
			{Name: "need", Label: "Need", Type: "text", Required: true, Placeholder: "forecasting across 3 teams"},
			{Name: "timeline", Label: "Timeline", Type: "text", Required: true, Placeholder: "decision by end of quarter"},
			{Name: "note", Label: "Handoff note", Type: "textarea", Wide: true},
		}),
		"disqualify": newForm(base+"disqualify", "Disqualify", "", []field{
			{Name: "reason", Label: "Reason", Type: "select", Required: true, Groups: opts(model.DisqualifyReasons, "Choose a reason")},
			{Name: "note", Label: "Note", Type: "textarea", Wide: true},
		}),
		"nurture": newForm(base+"nurture", "Return to nurture", "", []field{
			{Name: "note", Label: "Note", Type: "textarea", Wide: true},
		}),
		"meeting": newForm(base+"meeting", "Record the booked meeting", "", []field{
			{Name: "at", Label: "When", Type: "datetime-local", Hint: "UTC; empty means now"},
			{Name: "subject", Label: "Subject", Type: "text", Placeholder: "Intro call"},
			{Name: "note", Label: "Note", Type: "textarea", Wide: true},
		}),
		"call": newForm(base+"call", "Log call", "", []field{
			{Name: "subject", Label: "Subject", Type: "text", Placeholder: "Intro call"},
			{Name: "duration_minutes", Label: "Minutes", Type: "number"},
			{Name: "body", Label: "Notes", Type: "textarea", Wide: true},
		}),
	}
}

var deskActions = [][2]string{{"qualify", "Qualify"}, {"disqualify", "Disqualify"}, {"nurture", "Nurture"}, {"meeting", "Meeting booked"}, {"call", "Log call"}}

func (u *UI) deskShow(w http.ResponseWriter, r *http.Request, s *session) {
	u.showDesk(w, r, s, http.StatusOK, 0, "", nil)
}

// showDesk renders the queue; failed, when set, is the form of action on
// contact id that failed, shown open with its errors.
func (u *UI) showDesk(w http.ResponseWriter, r *http.Request, s *session, status int, id int64, action string, failed *form) {
	rep := s.P.UserID
	var reps []option
	if s.CanManage {
		ms, _, err := u.members(r.Context(), s)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		want := r.URL.Query().Get("rep")
		for _, m := range ms {
			if m.Role != model.RoleLDR && m.UserID != s.P.UserID {
				continue
			}
			reps = append(reps, option{formatInt(m.UserID), m.UserEmail})
			if want == formatInt(m.UserID) {
				rep = m.UserID
			}
		}
	}
	// A partner's scope shows its own MQLs only (no unassigned ones).
	q, err := u.d.Desk.ScopedQueue(r.Context(), store.ScopeOf(s.Actor()), s.WS(), rep, time.Now())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	sla, err := u.d.Desk.SLA(r.Context(), s.WS(), rep, time.Now())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := deskPage{SLA: sla, Reps: reps, Rep: formatInt(rep)}
	shown := false
	items := func(in []desk.Item) []deskItem {
		var out []deskItem
		for _, it := range in {
			forms := deskForms(it.Contact.ID)
			di := deskItem{Item: it, Name: contactName(it.Contact)}
			for _, a := range deskActions {
				da := deskAction{Name: a[0], Label: a[1], F: forms[a[0]], P: a[0] + formatInt(it.Contact.ID) + "-"}
				if it.Contact.ID == id && a[0] == action && failed != nil {
					da.F, da.Open, shown = failed, true, true
				}
				di.Actions = append(di.Actions, da)
			}
			out = append(out, di)
		}
		return out
	}
	p.Mine, p.Unassigned = items(q.Mine), items(q.Unassigned)
	if failed != nil && !shown {
		p.Error = failed.Err
		for k, v := range failed.Errors {
			p.Error = humanize(k) + ": " + v
		}
	}
	u.render(w, r, status, "desk", view{Title: "LDR desk", Section: "desk", S: s, D: p, Notice: deskNotice(r)})
}

func deskNotice(r *http.Request) string {
	switch r.URL.Query().Get("notice") {
	case "qualify":
		return "Qualified: a deal was opened and handed to an account executive."
	case "disqualify":
		return "Contact disqualified."
	case "nurture":
		return "Contact returned to nurture."
	case "call":
		return "Call logged."
	case "meeting":
		return "Meeting recorded; the contact's nurture emails stop."
	}
	return ""
}

// deskAct runs one action from its form: the service call and, on an input
// error, the queue again with that form open.
func (u *UI) deskAct(action string, run func(u *UI, r *http.Request, s *session, id int64, v map[string]string) error) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			u.notFound(w, r, s)
			return
		}
		f := deskForms(id)[action]
		f.read(r)
		err = run(u, r, s, id, f.Values)
		if err == nil {
			redirect(w, r, "/desk?notice="+action)
			return
		}
		var fe *store.FieldError
		if errors.Is(err, desk.ErrNoAE) && errors.As(err, &fe) {
			f.Err = "No AE available: " + fe.Message
		} else if errors.Is(err, store.ErrNotFound) || !f.setError(err) {
			u.fail(w, r, s, err)
			return
		}
		u.showDesk(w, r, s, http.StatusUnprocessableEntity, id, action, f)
	}
}

func deskQualify(u *UI, r *http.Request, s *session, id int64, v map[string]string) error {
	_, err := u.d.Desk.Qualify(r.Context(), s.Actor(), id, model.BANT{Budget: v["budget"], Authority: v["authority"], Need: v["need"], Timeline: v["timeline"]}, v["note"])
	return err
}

func deskDisqualify(u *UI, r *http.Request, s *session, id int64, v map[string]string) error {
	_, err := u.d.Desk.Disqualify(r.Context(), s.Actor(), id, v["reason"], v["note"])
	return err
}

func deskNurture(u *UI, r *http.Request, s *session, id int64, v map[string]string) error {
	_, err := u.d.Desk.Nurture(r.Context(), s.Actor(), id, v["note"])
	return err
}

func deskMeeting(u *UI, r *http.Request, s *session, id int64, v map[string]string) error {
	var at time.Time
	if v["at"] != "" {
		t, err := time.Parse("2006-01-02T15:04", v["at"])
		if err != nil {
			return &store.FieldError{Field: "at", Message: "must be a date and time"}
		}
		at = t
	}
	_, err := u.d.Desk.MeetingBooked(r.Context(), s.Actor(), id, at, v["subject"], v["note"])
	return err
}

func deskCall(u *UI, r *http.Request, s *session, id int64, v map[string]string) error {
	_, err := u.d.Desk.LogCall(r.Context(), s.Actor(), id, desk.Call{Subject: v["subject"], Body: v["body"], Minutes: v["duration_minutes"]})
	return err
}
