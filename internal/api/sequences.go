package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Nurture sequences over the API (docs/sequences.md): CRUD with steps (errors
// name steps[i].field), activate/pause/resume, enrolment by contact ids, the
// enrollments list with held ones, release/skip/exit/pause/resume of one
// enrollment, and per-step stats. Ledger-side numbers (delivered, opened,
// clicked) come from the mail layer.

type sequenceIn struct {
	Name             string                `json:"name"`
	Status           string                `json:"status"`
	Trigger          model.SequenceTrigger `json:"trigger"`
	ExitRules        []string              `json:"exit_rules"`
	SendWindow       *model.SendWindow     `json:"send_window"`
	StalenessMinutes int                   `json:"staleness_minutes"`
	Steps            []model.SequenceStep  `json:"steps"`
}

func (in sequenceIn) model() model.Sequence {
	return model.Sequence{Name: in.Name, Status: in.Status, Trigger: in.Trigger, ExitRules: in.ExitRules, SendWindow: in.SendWindow, StalenessMinutes: in.StalenessMinutes, Steps: in.Steps}
}

func listSequences(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	ss, err := a.d.Sequences.List(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Sequence]{Items: ss})
	return nil
}

func createSequence(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in sequenceIn
	if err := body(r, &in); err != nil {
		return err
	}
	s, err := a.d.Sequences.Create(r.Context(), p.WorkspaceID, in.model())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/sequences/"+strconv.FormatInt(s.ID, 10))
	httpx.JSON(w, http.StatusCreated, s)
	return nil
}

func getSequence(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Sequences.Get(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

func putSequence(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in sequenceIn
	if err := body(r, &in); err != nil {
		return err
	}
	if _, err := a.d.Sequences.Get(r.Context(), p.WorkspaceID, id); err != nil {
		return err // a foreign id is a 404 before any validation
	}
	s, err := a.d.Sequences.Update(r.Context(), p.WorkspaceID, id, in.model())
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, s)
	return nil
}

func deleteSequence(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	if err := a.d.Sequences.Delete(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func sequenceStatus(status string) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := onlyParams(r); err != nil {
			return err
		}
		s, err := a.d.Sequences.SetStatus(r.Context(), p.WorkspaceID, id, status)
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, s)
		return nil
	}
}

func enrollContacts(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		ContactIDs []int64 `json:"contact_ids"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	if _, err := a.d.Sequences.Get(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	res, err := a.d.Sequences.Enroll(r.Context(), p.WorkspaceID, id, in.ContactIDs, "api")
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

func sequenceStats(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	st, err := a.d.Sequences.Stats(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, st)
	return nil
}

func intParam(v map[string][]string, name string) (int64, error) {
	s := ""
	if l := v[name]; len(l) > 0 {
		s = l[0]
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, badField(name, "%q is not an id", s)
	}
	return n, nil
}

func listEnrollments(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v, err := onlyParams(r, "sequence_id", "contact_id", "status", "after_id", "limit")
	if err != nil {
		return err
	}
	var f store.EnrollmentFilter
	if f.SequenceID, err = intParam(v, "sequence_id"); err != nil {
		return err
	}
	if f.ContactID, err = intParam(v, "contact_id"); err != nil {
		return err
	}
	if f.AfterID, err = intParam(v, "after_id"); err != nil {
		return err
	}
	if f.Limit, err = limitParam(v, store.DefaultPageSize, store.MaxPageSize); err != nil {
		return err
	}
	f.Status = v.Get("status")
	es, err := a.d.Sequences.Enrollments(r.Context(), p.WorkspaceID, f)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list[model.Enrollment]{Items: es})
	return nil
}

func getEnrollment(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	e, err := a.d.St.Read().GetEnrollment(r.Context(), p.WorkspaceID, id, false)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, e)
	return nil
}

// enrollmentAction answers a held/paused/exit action; acting on an enrollment
// whose status does not allow it is a 409 on field status.
func enrollmentAction(action string) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
		id, err := httpx.PathID(r, "id")
		if err != nil {
			return err
		}
		if _, err := onlyParams(r); err != nil {
			return err
		}
		svc := a.d.Sequences
		fns := map[string]func() (model.Enrollment, error){
			"release": func() (model.Enrollment, error) { return svc.Release(r.Context(), p.WorkspaceID, id) },
			"skip":    func() (model.Enrollment, error) { return svc.Skip(r.Context(), p.WorkspaceID, id) },
			"exit":    func() (model.Enrollment, error) { return svc.ExitEnrollment(r.Context(), p.WorkspaceID, id) },
			"pause":   func() (model.Enrollment, error) { return svc.PauseEnrollment(r.Context(), p.WorkspaceID, id) },
			"resume":  func() (model.Enrollment, error) { return svc.ResumeEnrollment(r.Context(), p.WorkspaceID, id) },
		}
		e, err := fns[action]()
		var fe *store.FieldError
		if errors.As(err, &fe) && fe.Field == "status" {
			return &httpx.StatusError{Status: http.StatusConflict, Code: "invalid_status", Field: "status", Msg: fe.Error()}
		}
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, e)
		return nil
	}
}

var (
	listSequencesDoc   = op{id: "listSequences", tag: "sequences", summary: "The workspace's nurture sequences with their steps", resp: ok200("SequenceList")}
	createSequenceDoc  = op{id: "createSequence", tag: "sequences", summary: "Create a sequence (draft unless status says active); errors name the field, e.g. steps[2].duration", body: jsonBody("SequenceIn"), resp: []resp{{http.StatusCreated, "application/json", "Sequence", "the new sequence", true}}}
	getSequenceDoc     = op{id: "getSequence", tag: "sequences", summary: "A sequence with its steps", resp: ok200("Sequence")}
	putSequenceDoc     = op{id: "putSequence", tag: "sequences", summary: "Replace a sequence's settings and steps (status is kept; a step keeps its id while its position exists, so its sends are not repeated)", body: jsonBody("SequenceIn"), resp: ok200("Sequence")}
	deleteSequenceDoc  = op{id: "deleteSequence", tag: "sequences", summary: "Delete a sequence with its enrollments and step log", resp: []resp{{http.StatusNoContent, "", "", "deleted", false}}}
	activateSeqDoc     = op{id: "activateSequence", tag: "sequences", summary: "Activate a sequence (it needs a step); enrollments it paused wake with their due times", resp: ok200("Sequence")}
	pauseSeqDoc        = op{id: "pauseSequence", tag: "sequences", summary: "Pause a sequence and its active enrollments; nothing runs until it is resumed", resp: ok200("Sequence")}
	resumeSeqDoc       = op{id: "resumeSequence", tag: "sequences", summary: "Resume a paused sequence: nothing already planned is planned again; steps past the staleness window are held", resp: ok200("Sequence")}
	enrollDoc          = op{id: "enrollContacts", tag: "sequences", summary: "Enrol contacts by id (enrolled + already + missing = the ids given)", body: jsonBody("EnrollIn"), resp: ok200("EnrollResult")}
	sequenceStatsDoc   = op{id: "sequenceStats", tag: "sequences", summary: "Per-step stats: entered, sent (planned in the send ledger), held, skipped, and exits credited to the last email", resp: ok200("SequenceStats")}
	listEnrollmentsDoc = op{id: "listEnrollments", tag: "sequences", summary: "Enrollments by id, filtered by sequence, contact and status (held ones await release or skip)", params: []param{
		{name: "sequence_id", schema: tID}, {name: "contact_id", schema: tID}, {name: "status", schema: enum(model.EnrollmentStatuses...)},
		{name: "after_id", desc: "page after this id", schema: tID}, {name: "limit", schema: js{"type": "integer", "minimum": 1, "maximum": store.MaxPageSize}},
	}, resp: ok200("EnrollmentList")}
	getEnrollmentDoc = op{id: "getEnrollment", tag: "sequences", summary: "One enrollment", resp: ok200("Enrollment")}
	releaseDoc       = op{id: "releaseEnrollment", tag: "sequences", summary: "Run a held step now (409 unless held)", resp: ok200("Enrollment")}
	skipDoc          = op{id: "skipEnrollment", tag: "sequences", summary: "Skip a held step; the next one is due now (409 unless held)", resp: ok200("Enrollment")}
	exitDoc          = op{id: "exitEnrollment", tag: "sequences", summary: "Exit an enrollment by hand (reason manual)", resp: ok200("Enrollment")}
	pauseEnrDoc      = op{id: "pauseEnrollment", tag: "sequences", summary: "Pause one enrollment", resp: ok200("Enrollment")}
	resumeEnrDoc     = op{id: "resumeEnrollment", tag: "sequences", summary: "Resume an enrollment paused by hand; its step runs under the same send key", resp: ok200("Enrollment")}
)

func sequenceSchemas(s js) {
	window := object([]string{"start_hour", "end_hour"}, js{
		"start_hour": js{"type": "integer", "minimum": 0, "maximum": 23}, "end_hour": js{"type": "integer", "minimum": 1, "maximum": 24},
		"days": arrayOf(enum("mon", "tue", "wed", "thu", "fri", "sat", "sun")),
	})
	s["SendWindow"] = window
	s["StepCondition"] = object([]string{"kind"}, js{
		"kind": enum(model.ConditionKinds...), "step": withDesc(js{"type": "integer", "minimum": 0}, "index of an earlier send_email step (opened, clicked); absent: the last email sent"),
		"url": str(0), "score": tNumber, "field": withDesc(str(0), "a contact field, custom.<key>, or account.<field>"),
		"op": enum(fieldOps()...), "value": tAny,
	})
	s["SequenceStep"] = object([]string{"kind"}, js{
		"id": tID, "kind": enum(model.StepKinds...),
		"subject": str(0), "html": str(0), "text": str(0),
		"duration":     withDesc(str(0), "3d, 12h, 1d6h30m; days are calendar days in the contact's time zone"),
		"until_window": ref("SendWindow"),
		"if":           ref("StepCondition"),
		"then":         withDesc(js{"type": "integer", "minimum": 0}, "step index when the condition holds (absent: the next step; the step count: end)"),
		"else":         withDesc(js{"type": "integer", "minimum": 0}, "step index otherwise"),
		"task_subject": str(0), "field": str(0), "value": tAny,
	})
	trigger := object([]string{"kind"}, js{"kind": enum(model.SequenceTriggers...), "ref": withDesc(str(0), "the lifecycle stage, segment or form key")})
	s["SequenceTrigger"] = trigger
	s["SequenceIn"] = object([]string{"name"}, js{
		"name": str(200), "status": enum("draft", "active"), "trigger": ref("SequenceTrigger"),
		"exit_rules": arrayOf(enum(model.ExitReasons...)), "send_window": nullable(js{"type": "object"}),
		"staleness_minutes": withDesc(js{"type": "integer", "minimum": 0}, "a step due longer ago than this is held (default 1440)"),
		"steps":             arrayOf(ref("SequenceStep")),
	})
	s["Sequence"] = object([]string{"id", "name", "status", "trigger", "exit_rules", "staleness_minutes", "steps", "created_at", "updated_at"}, js{
		"id": tID, "name": str(0), "status": enum(model.SequenceStatuses...), "trigger": ref("SequenceTrigger"),
		"exit_rules": arrayOf(enum(model.ExitReasons...)), "send_window": ref("SendWindow"), "staleness_minutes": tCount,
		"steps": arrayOf(ref("SequenceStep")), "created_at": tTime, "updated_at": tTime,
	})
	s["SequenceList"] = object([]string{"items"}, js{"items": arrayOf(ref("Sequence"))})
	s["EnrollIn"] = object([]string{"contact_ids"}, js{"contact_ids": arrayOf(tID)})
	s["EnrollResult"] = object([]string{"enrolled", "already", "missing"}, js{
		"enrolled": withDesc(arrayOf(tID), "new enrollment ids"), "already": withDesc(arrayOf(tID), "contacts with a running enrollment"),
		"missing": withDesc(arrayOf(tID), "contact ids not in this workspace"),
	})
	s["Enrollment"] = object([]string{"id", "sequence_id", "contact_id", "status", "position", "source", "enrolled_at", "updated_at"}, js{
		"id": tID, "sequence_id": tID, "contact_id": tID, "status": enum(model.EnrollmentStatuses...), "paused_by": enum("sequence", "enrollment"),
		"position": tCount, "next_due_at": tTime, "hold_reason": str(0), "exit_reason": enum(model.ExitReasons...), "source": str(0),
		"last_send_step_id": tID, "enrolled_at": tTime, "updated_at": tTime, "ended_at": tTime,
	})
	s["EnrollmentList"] = object([]string{"items"}, js{"items": arrayOf(ref("Enrollment"))})
	s["StepStats"] = object([]string{"step_id", "position", "kind", "entered", "sent", "delivered", "opened", "clicked", "held", "skipped", "replied", "unsubscribed", "bounced", "converted", "outcomes"}, js{
		"step_id": tID, "position": tCount, "kind": enum(model.StepKinds...), "entered": tCount, "sent": tCount, "held": tCount, "skipped": tCount,
		"delivered": withDesc(tCount, "emails the receiving server accepted"),
		"opened":    withDesc(tCount, "emails a person opened (or clicked; scanners and prefetches excluded)"),
		"clicked":   withDesc(tCount, "emails in which a person clicked a link"),
		"replied":   tCount, "unsubscribed": tCount, "bounced": tCount, "converted": tCount,
		"outcomes": js{"type": "object", "additionalProperties": tCount},
	})
	s["SequenceStats"] = object([]string{"sequence_id", "enrollments", "steps"}, js{
		"sequence_id": tID, "enrollments": js{"type": "object", "additionalProperties": tCount}, "steps": arrayOf(ref("StepStats")),
	})
}

func fieldOps() []string {
	return []string{"eq", "ne", "gt", "gte", "lt", "lte", "contains", "set", "unset"}
}
