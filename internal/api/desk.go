package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/desk"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// The LDR desk over the API (docs/desk.md): the queue, the three one-step
// actions on a contact (qualify, disqualify, nurture) and the reasons report.
//
// Status conventions of the actions: a bad or missing form field is a 400 naming
// it (budget, reason, note…); a contact whose lifecycle stage does not allow the
// action is a 409 on field lifecycle_stage; no AE able to take the new deal is a
// 409 on field ae (nothing was changed; retry once a pool has room). A foreign or
// unknown contact is a 404.

// queueContact is what the queue shows of a contact (the queue read does not
// load custom fields or timestamps, so it is not a full Contact).
type queueContact struct {
	ID             int64  `json:"id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name,omitempty"`
	LastName       string `json:"last_name,omitempty"`
	Title          string `json:"title,omitempty"`
	Phone          string `json:"phone,omitempty"`
	AccountID      *int64 `json:"account_id,omitempty"`
	OwnerID        *int64 `json:"owner_id,omitempty"`
	LifecycleStage string `json:"lifecycle_stage"`
}

type queueItem struct {
	Contact      queueContact `json:"contact"`
	AccountName  string       `json:"account_name,omitempty"`
	Segment      string       `json:"segment,omitempty"`
	Motion       string       `json:"motion,omitempty"`
	Employees    *int64       `json:"employees,omitempty"`
	SLADueAt     *time.Time   `json:"sla_due_at,omitempty"`
	Overdue      bool         `json:"overdue"`
	LastActivity *time.Time   `json:"last_activity_at,omitempty"`
	Score        float64      `json:"score"`
	Lines        []string     `json:"lines"`
}

type deskQueue struct {
	UserID     int64       `json:"user_id"`
	AsOf       time.Time   `json:"as_of"`
	Mine       []queueItem `json:"mine"`
	Unassigned []queueItem `json:"unassigned"`
}

func queueItems(in []desk.Item) []queueItem {
	out := make([]queueItem, 0, len(in))
	for _, it := range in {
		c := it.Contact
		lines := it.Lines
		if lines == nil {
			lines = []string{}
		}
		out = append(out, queueItem{
			Contact: queueContact{ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Title: c.Title, Phone: c.Phone,
				AccountID: c.AccountID, OwnerID: c.OwnerID, LifecycleStage: c.LifecycleStage},
			AccountName: it.AccountName, Segment: it.Segment, Motion: it.Motion, Employees: it.Employees,
			SLADueAt: it.SLADueAt, Overdue: it.Overdue, LastActivity: it.LastActivity, Score: it.Score, Lines: lines,
		})
	}
	return out
}

// queueUser decides whose queue is read. A signed-in user reads their own, a
// key that acts for a member that member's; a key acting for no one must name
// one with user_id. user_id naming anyone else needs an admin or manager
// credential, and must be a member of the workspace.
func (a *API) queueUser(r *http.Request, p *auth.Principal, s string) (int64, error) {
	// A partner (session or key) reads its own queue and no one else's.
	if sc := p.Scope(); sc.Confined() {
		if s != "" && s != strconv.FormatInt(sc.Owner, 10) {
			return 0, httpx.ErrForbidden
		}
		return sc.Owner, nil
	}
	// A session's user; a key's member (the one it acts for), if any.
	self := p.UserID
	if p.APIKeyID != 0 {
		self = p.KeyUserID
	}
	if s == "" {
		if self == 0 {
			return 0, badField("user_id", "is required with an API key that acts for no member (it has no queue of its own); admin and manager keys may read any member's queue")
		}
		return self, nil
	}
	uid, err := strconv.ParseInt(s, 10, 64)
	if err != nil || uid < 1 {
		return 0, badField("user_id", "%q is not a user id", s)
	}
	if uid != self && !auth.Can(p.Role, string(manage)) {
		return 0, httpx.ErrForbidden
	}
	if _, err := a.d.St.Read().Membership(r.Context(), p.WorkspaceID, uid); errors.Is(err, store.ErrNotFound) {
		return 0, badField("user_id", "user %d is not a member of this workspace", uid)
	} else if err != nil {
		return 0, err
	}
	return uid, nil
}

func getDeskQueue(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "user_id")
	if err != nil {
		return err
	}
	uid, err := a.queueUser(r, p, v.Get("user_id"))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	q, err := a.d.Desk.ScopedQueue(r.Context(), p.Scope(), p.WorkspaceID, uid, now)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, deskQueue{UserID: uid, AsOf: now, Mine: queueItems(q.Mine), Unassigned: queueItems(q.Unassigned)})
	return nil
}

// deskError gives the desk's state errors their status: the stage check and the
// missing AE are conflicts with the workspace's state, not bad input.
func deskError(err error) error {
	var fe *store.FieldError
	switch {
	case errors.Is(err, desk.ErrNoAE) && errors.As(err, &fe):
		return &httpx.StatusError{Status: http.StatusConflict, Code: "no_ae_available", Field: "ae", Msg: fe.Error()}
	case errors.As(err, &fe) && fe.Field == "lifecycle_stage":
		return &httpx.StatusError{Status: http.StatusConflict, Code: "invalid_stage", Field: fe.Field, Msg: fe.Error()}
	}
	return err
}

type qualifyIn struct {
	Budget    string `json:"budget"`
	Authority string `json:"authority"`
	Need      string `json:"need"`
	Timeline  string `json:"timeline"`
	Note      string `json:"note"`
}

type qualifiedOut struct {
	Contact    model.Contact    `json:"contact"`
	Deal       model.Deal       `json:"deal"`
	Handoff    model.Handoff    `json:"handoff"`
	AEUserID   int64            `json:"ae_user_id"`
	Assignment model.Assignment `json:"assignment"`
}

func qualifyContact(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in qualifyIn
	if err := body(r, &in); err != nil {
		return err
	}
	res, err := a.d.Desk.Qualify(r.Context(), p.Actor(httpx.ClientIP(r)), id, model.BANT{Budget: in.Budget, Authority: in.Authority, Need: in.Need, Timeline: in.Timeline}, in.Note)
	if err != nil {
		return deskError(err)
	}
	if res.Contact.Custom == nil {
		res.Contact.Custom = model.Custom{}
	}
	if res.Deal.Custom == nil {
		res.Deal.Custom = model.Custom{}
	}
	httpx.JSON(w, http.StatusOK, qualifiedOut{Contact: res.Contact, Deal: res.Deal, Handoff: res.Handoff, AEUserID: res.AE, Assignment: res.Assigned})
	return nil
}

func disqualifyContact(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	c, err := a.d.Desk.Disqualify(r.Context(), p.Actor(httpx.ClientIP(r)), id, in.Reason, in.Note)
	if err != nil {
		return deskError(err)
	}
	return contactOut(w, c)
}

func nurtureContact(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	c, err := a.d.Desk.Nurture(r.Context(), p.Actor(httpx.ClientIP(r)), id, in.Note)
	if err != nil {
		return deskError(err)
	}
	return contactOut(w, c)
}

// meetingBooked is how a calendar or scheduling tool (or an LDR) says a meeting
// with the contact is booked.
func meetingBooked(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		At      string `json:"at"`
		Subject string `json:"subject"`
		Note    string `json:"note"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	var at time.Time
	if in.At != "" {
		if at, err = time.Parse(time.RFC3339, in.At); err != nil {
			return badField("at", "must be an RFC 3339 time, e.g. 2026-12-01T15:00:00Z")
		}
	}
	act, err := a.d.Desk.MeetingBooked(r.Context(), p.Actor(httpx.ClientIP(r)), id, at, in.Subject, in.Note)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/activities/%d", act.ID))
	httpx.JSON(w, http.StatusCreated, act)
	return nil
}

func contactOut(w http.ResponseWriter, c model.Contact) error {
	if c.Custom == nil {
		c.Custom = model.Custom{}
	}
	httpx.JSON(w, http.StatusOK, c)
	return nil
}

// reasonsConvention says how each figure of the reasons report is computed.
type reasonsConvention struct {
	Window            string `json:"window"`
	Disqualifications string `json:"disqualifications"`
	Lost              string `json:"lost"`
	NoDecision        string `json:"no_decision"`
}

type lossReasonCount struct {
	LossReason string `json:"loss_reason"`
	Count      int64  `json:"count"`
}

type reasonsReport struct {
	From              string              `json:"from"`
	To                string              `json:"to"`
	Convention        reasonsConvention   `json:"convention"`
	Disqualifications []store.ReasonCount `json:"disqualifications"`
	Lost              []lossReasonCount   `json:"lost"`
	NoDecision        []lossReasonCount   `json:"no_decision"`
}

var reasonsConv = reasonsConvention{
	Window:            "from 00:00 UTC on from to 00:00 UTC on the day after to: to is included",
	Disqualifications: "contacts disqualified on the desk in the window (the disqualification's time), counted per reason, most frequent first; a contact disqualified twice counts twice",
	Lost:              "deals whose outcome is lost and whose closed_at falls in the window, counted per loss_reason (\"\" when none was given), most frequent first",
	NoDecision:        "deals whose outcome is no_decision and whose closed_at falls in the window, counted per loss_reason (\"\" when none was given), most frequent first",
}

func getDisqualificationReport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "from", "to")
	if err != nil {
		return err
	}
	date := func(name string, def time.Time) (time.Time, error) {
		s := v.Get(name)
		if s == "" {
			return def, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, badField(name, "must be a date, YYYY-MM-DD")
		}
		return t, nil
	}
	today, _ := time.Parse(time.DateOnly, time.Now().UTC().Format(time.DateOnly))
	to, err := date("to", today)
	if err != nil {
		return err
	}
	from, err := date("from", to.AddDate(0, 0, 1-defaultFunnelDays))
	if err != nil {
		return err
	}
	if from.After(to) {
		return badField("from", "is after to")
	}
	end := to.AddDate(0, 0, 1)
	q := a.d.St.Read()
	dq, err := q.DisqualificationCounts(r.Context(), p.WorkspaceID, from, end)
	if err != nil {
		return err
	}
	losses, err := q.DealLossCounts(r.Context(), p.WorkspaceID, from, end)
	if err != nil {
		return err
	}
	out := reasonsReport{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Convention: reasonsConv,
		Disqualifications: dq, Lost: []lossReasonCount{}, NoDecision: []lossReasonCount{}}
	for _, l := range losses {
		c := lossReasonCount{LossReason: l.LossReason, Count: l.Count}
		if l.Outcome == "lost" {
			out.Lost = append(out.Lost, c)
		} else {
			out.NoDecision = append(out.NoDecision, c)
		}
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}

// ---- documentation ---------------------------------------------------------------

var (
	getDeskQueueDoc = op{id: "getDeskQueue", tag: "desk",
		summary: "An LDR's queue: their MQLs (mine) and unowned MQLs (unassigned), overdue SLA clocks first, then by score, then by SLA due time",
		params: []param{{name: "user_id", schema: tID,
			desc: "whose queue; default the signed-in user. Required with an API key (a key has no user). Another user's queue needs an admin or manager credential; the user must be a member of the workspace"}},
		resp: ok200("DeskQueue")}
	qualifyContactDoc = op{id: "qualifyContact", tag: "desk",
		summary: "Qualify (BANT + note): the contact becomes sql, a deal opens in its motion's pipeline, owned by an AE picked by round-robin, with a handoff record. 409 on field lifecycle_stage when the stage does not allow it, on field ae when no AE can take the deal (nothing changed)",
		body:    []content{{"application/json", ref("QualifyRequest"), map[string]any{"budget": "50k approved", "authority": "VP signs", "need": "replacing spreadsheets", "timeline": "this quarter", "note": "wants a demo"}}},
		resp:    ok200("Qualified")}
	disqualifyContactDoc = op{id: "disqualifyContact", tag: "desk",
		summary: "Disqualify with a reason (reported by /reports/disqualifications): the contact becomes disqualified; 409 on field lifecycle_stage when the stage does not allow it",
		body:    []content{{"application/json", ref("DisqualifyRequest"), map[string]any{"reason": "no_budget", "note": "frozen until next year"}}},
		resp:    ok200("Contact")}
	nurtureContactDoc = op{id: "nurtureContact", tag: "desk",
		summary: "Return to nurture (not now): the contact becomes nurture; 409 on field lifecycle_stage when the stage does not allow it",
		body:    []content{{"application/json", ref("NurtureRequest"), map[string]any{"note": "revisit in Q3"}}},
		resp:    ok200("Contact")}
	meetingBookedDoc = op{id: "meetingBooked", tag: "desk",
		summary: "A meeting with the contact is booked (a scheduling tool or an LDR): a meeting activity, the SLA clock stopped, and nurture sequences that exit on meeting_booked ended",
		body:    []content{{"application/json", ref("MeetingBookedRequest"), map[string]any{"at": "2026-12-01T15:00:00Z", "subject": "Intro call", "note": "booked via the website"}}},
		resp:    []resp{{http.StatusCreated, "application/json", "Activity", "", true}}}
	getDisqualificationReportDoc = op{id: "getDisqualificationReport", tag: "reports",
		summary: "Why leads and deals did not go on: desk disqualifications per reason, and deals closed lost or no_decision per loss_reason, in one window; the convention object says how each list is computed",
		params: []param{
			{name: "from", desc: "first day of the window, UTC (default: 89 days before to)", schema: tDate},
			{name: "to", desc: "last day of the window, included, UTC (default: today)", schema: tDate},
		},
		resp: ok200("DisqualificationReport")}
)

func deskSchemas(s js) {
	s["MeetingBookedRequest"] = object(nil, js{
		"at":      withDesc(tTime, "when the meeting takes place (RFC 3339); default now"),
		"subject": str(200),
		"note":    str(4000),
	})
	queueContact := object([]string{"id", "email", "lifecycle_stage"}, js{
		"id": tID, "email": str(0), "first_name": str(0), "last_name": str(0), "title": str(0), "phone": str(0),
		"account_id": tID, "owner_id": tID, "lifecycle_stage": enum(model.LifecycleStages...),
	})
	s["DeskQueueItem"] = object([]string{"contact", "overdue", "score", "lines"}, js{
		"contact": queueContact, "account_name": str(0), "segment": str(0), "motion": str(0), "employees": tCount,
		"sla_due_at":       withDesc(tTime, "due time of the untouched speed-to-lead clock; absent when none runs"),
		"overdue":          js{"type": "boolean"},
		"last_activity_at": tTime, "score": tNumber,
		"lines": withDesc(arrayOf(str(0)), "the largest contributions to the score, as a rep reads them"),
	})
	s["DeskQueue"] = object([]string{"user_id", "as_of", "mine", "unassigned"}, js{
		"user_id": tID, "as_of": tTime,
		"mine":       withDesc(arrayOf(ref("DeskQueueItem")), "MQLs the user owns"),
		"unassigned": withDesc(arrayOf(ref("DeskQueueItem")), "MQLs nobody owns"),
	})
	bant := js{"budget": str(1000), "authority": str(1000), "need": str(1000), "timeline": str(1000)}
	s["BANT"] = object([]string{"budget", "authority", "need", "timeline"}, bant)
	in := js{"note": str(4000)}
	for k, v := range bant {
		in[k] = withDesc(v.(js), "required, not blank")
	}
	s["QualifyRequest"] = object([]string{"budget", "authority", "need", "timeline"}, in)
	s["DisqualifyRequest"] = object([]string{"reason"}, js{"reason": enum(model.DisqualifyReasons...), "note": str(4000)})
	s["NurtureRequest"] = object(nil, js{"note": str(4000)})
	s["Handoff"] = object([]string{"id", "contact_id", "kind", "note", "bant", "created_at", "decision"}, js{
		"id": tID, "contact_id": tID, "deal_id": tID, "from_user_id": withDesc(tID, "absent when an API key qualified"),
		"to_user_id": tID, "kind": enum("ldr_to_ae"), "note": str(0), "bant": ref("BANT"), "created_at": tTime,
		"decision":      withDesc(enum(model.HandoffPending, model.HandoffAccepted, model.HandoffRejected), "the receiving AE's: an SQL counts as delivered once accepted"),
		"decided_at":    tTime,
		"decided_by":    withDesc(tID, "absent when an API key decided"),
		"decision_note": str(0),
	})
	s["Assignment"] = object([]string{"pool_id", "user_id", "object_type", "object_id", "motion", "reason", "assigned_at", "sla_due_at", "breached"}, js{
		"id": tID, "pool_id": tID, "user_id": tID, "object_type": enum("contact", "account", "deal"), "object_id": tID,
		"motion": str(0), "reason": str(0), "assigned_at": tTime, "sla_due_at": tTime, "first_touch_at": tTime, "breached": js{"type": "boolean"},
	})
	s["Qualified"] = object([]string{"contact", "deal", "handoff", "ae_user_id", "assignment"}, js{
		"contact": ref("Contact"), "deal": ref("Deal"), "handoff": ref("Handoff"),
		"ae_user_id": withDesc(tID, "the AE who owns the deal"), "assignment": ref("Assignment"),
	})
	count := func(key string) js {
		return arrayOf(object([]string{key, "count"}, js{key: str(0), "count": tCount}))
	}
	s["DisqualificationReport"] = object([]string{"from", "to", "convention", "disqualifications", "lost", "no_decision"}, js{
		"from": tDate, "to": tDate,
		"convention": object([]string{"window", "disqualifications", "lost", "no_decision"}, js{
			"window": str(0), "disqualifications": str(0), "lost": str(0), "no_decision": str(0),
		}),
		"disqualifications": withDesc(count("reason"), "per reason: "+strings.Join(model.DisqualifyReasons, ", ")),
		"lost":              withDesc(count("loss_reason"), "deals closed lost, per loss_reason"),
		"no_decision":       withDesc(count("loss_reason"), "deals closed no_decision, per loss_reason"),
	})
}
