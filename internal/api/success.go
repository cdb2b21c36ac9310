package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/success"
)

// Customer success (docs/success.md): a customer is an account, so the
// customer routes take the account id as {id}; another workspace's account
// answers 404 like a missing one.

// successErr maps the success package's refusals to problems: a handoff
// state that does not allow the action is 422 naming the field (the first
// missing note part), a role that may not act is 403.
func successErr(err error) error {
	var se *success.StateError
	switch {
	case errors.As(err, &se):
		code := "handoff_state"
		if se.Missing != nil {
			code = "handoff_note_incomplete"
		}
		return &httpx.StatusError{Status: http.StatusUnprocessableEntity, Code: code, Msg: se.Message, Field: se.Field}
	case errors.Is(err, success.ErrForbidden):
		return httpx.ErrForbidden
	}
	return err
}

// handoffDeal reads the optional deal_id parameter that picks one of a
// customer's handoffs (default: the newest).
func handoffDeal(r *http.Request) (*int64, error) {
	v, err := onlyParams(r, "deal_id")
	if err != nil {
		return nil, err
	}
	s := v.Get("deal_id")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return nil, badField("deal_id", "must be a positive integer")
	}
	return &n, nil
}

func getHandoff(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	deal, err := handoffDeal(r)
	if err != nil {
		return err
	}
	v, err := a.d.Success.Handoff(r.Context(), p.WorkspaceID, id, deal)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func patchHandoff(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	deal, err := handoffDeal(r)
	if err != nil {
		return err
	}
	var in success.HandoffPatch
	if err := body(r, &in); err != nil {
		return err
	}
	v, err := a.d.Success.UpdateHandoff(r.Context(), p.Actor(httpx.ClientIP(r)), id, deal, in)
	if err != nil {
		return successErr(err)
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func acceptHandoff(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	deal, err := handoffDeal(r)
	if err != nil {
		return err
	}
	v, err := a.d.Success.Accept(r.Context(), p.Actor(httpx.ClientIP(r)), id, deal)
	if err != nil {
		return successErr(err)
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func patchHandoffItem(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	item, err := httpx.PathID(r, "item_id")
	if err != nil {
		return err
	}
	deal, err := handoffDeal(r)
	if err != nil {
		return err
	}
	var in struct {
		Done *bool `json:"done"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Done == nil {
		return badField("done", "is required (true or false)")
	}
	v, err := a.d.Success.SetItem(r.Context(), p.Actor(httpx.ClientIP(r)), id, deal, item, *in.Done)
	if err != nil {
		return successErr(err)
	}
	httpx.JSON(w, http.StatusOK, v)
	return nil
}

func getHealth(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	h, err := a.d.Success.Health(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, h)
	return nil
}

func postUsage(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Events == nil {
		return badField("events", "is required: a list of up to %d usage events", success.MaxUsageBatch)
	}
	if len(*in.Events) > success.MaxUsageBatch {
		return badField("events", "at most %d events per request, got %d", success.MaxUsageBatch, len(*in.Events))
	}
	events := make([]success.UsageInput, len(*in.Events))
	for i, raw := range *in.Events {
		if len(raw) == 0 || raw[0] != '{' {
			return badField(fmt.Sprintf("events[%d]", i), "must be an object")
		}
		if err := decodeStrict(raw, &events[i], fmt.Sprintf("events[%d].", i)); err != nil {
			return err
		}
	}
	res, err := a.d.Success.RecordUsage(r.Context(), p.Actor(httpx.ClientIP(r)), id, events)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

func postNPS(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Score       *int    `json:"score"`
		ContactID   *int64  `json:"contact_id"`
		Comment     string  `json:"comment"`
		RespondedAt *string `json:"responded_at"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	nps := success.NPSIn{Score: in.Score, ContactID: in.ContactID, Comment: in.Comment}
	if in.RespondedAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.RespondedAt)
		if err != nil {
			return badField("responded_at", "must be an RFC 3339 time")
		}
		nps.RespondedAt = &t
	}
	res, err := a.d.Success.RecordNPS(r.Context(), p.Actor(httpx.ClientIP(r)), id, nps)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/customers/%d/health", id))
	httpx.JSON(w, http.StatusCreated, res)
	return nil
}

func putSupport(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		OpenItems *int64 `json:"open_items"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	b, err := a.d.Success.SetSupport(r.Context(), p.Actor(httpx.ClientIP(r)), id, in.OpenItems)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"health": b})
	return nil
}

func putSentiment(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Sentiment string `json:"sentiment"`
		Note      string `json:"note"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	b, err := a.d.Success.SetSentiment(r.Context(), p.Actor(httpx.ClientIP(r)), id, in.Sentiment, in.Note)
	if err != nil {
		return successErr(err)
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"health": b})
	return nil
}

func getSuccessQueue(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	q, err := a.d.Success.Queue(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, q)
	return nil
}

type healthSettingsOut struct {
	success.HealthSettings
	Default   bool       `json:"default"`
	UpdatedBy string     `json:"updated_by,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

func healthSettingsOf(s success.Settings) healthSettingsOut {
	out := healthSettingsOut{HealthSettings: s.Health, Default: s.HealthDefault}
	if !s.HealthDefault {
		out.UpdatedBy, out.UpdatedAt = s.UpdatedBy, s.UpdatedAt
	}
	return out
}

func getHealthSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Success.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, healthSettingsOf(s))
	return nil
}

func putHealthSettings(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	// Omitted settings take the defaults, so {} returns to them. Each part is
	// decoded on its own so an error names the nested setting (usage.weight).
	var raw map[string]json.RawMessage
	if err := body(r, &raw); err != nil {
		return err
	}
	in := success.DefaultHealth()
	parts := map[string]any{"base": &in.Base, "healthy_min": &in.HealthyMin, "critical_below": &in.CriticalBelow, "usage": &in.Usage,
		"engagement": &in.Engagement, "support": &in.Support, "nps": &in.NPS, "sentiment": &in.Sentiment}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		dst, ok := parts[k]
		if !ok {
			return badField(k, "unknown field")
		}
		if err := decodeStrict(raw[k], dst, k+"."); err != nil {
			return err
		}
	}
	if _, err := a.d.Success.SaveHealthSettings(r.Context(), p.Actor(httpx.ClientIP(r)), &in); err != nil {
		return err
	}
	s, err := a.d.Success.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, healthSettingsOf(s))
	return nil
}

type checklistsOut struct {
	Templates success.Checklists `json:"templates"`
	Default   bool               `json:"default"`
}

func getChecklists(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	s, err := a.d.Success.Settings(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, checklistsOut{Templates: s.Checklists, Default: s.ChecklistsDefault})
	return nil
}

func putChecklists(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var in struct {
		Templates *success.Checklists `json:"templates"`
	}
	if err := body(r, &in); err != nil {
		return err
	}
	if in.Templates == nil {
		return badField("templates", "is required: the onboarding items per motion (digital, high_touch)")
	}
	c := *in.Templates
	if c == nil {
		c = success.Checklists{}
	}
	out, err := a.d.Success.SaveChecklists(r.Context(), p.Actor(httpx.ClientIP(r)), c)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, checklistsOut{Templates: out})
	return nil
}

var (
	dealIDParam = []param{{name: "deal_id", desc: "which of the customer's handoffs (one per won deal); default the newest", schema: tID}}

	getHandoffDoc = op{id: "getCustomerHandoff", tag: "customers", params: dealIDParam,
		summary: "The customer's AE → CSM handoff (one per won deal; the newest by default): status, CSM, the note (goals, stakeholders, risks) and what is missing, the onboarding checklist",
		resp:    ok200("CustomerHandoff")}
	patchHandoffDoc = op{id: "updateCustomerHandoff", tag: "customers", params: dealIDParam,
		summary: "Fill the handoff note (any writer; the AE's job): when goals, stakeholders and risks are all present the handoff awaits acceptance. csm_user_id (admins, managers) sets or, with null, clears the CSM. An accepted handoff's note is final (422 on status)",
		body:    []content{{"application/json", ref("CustomerHandoffPatch"), map[string]any{"goals": "Roll out to 3 regions by Q1", "stakeholders": "Ann Lee (COO, sponsor), Bob Ray (IT admin)", "risks": "Data migration from the legacy CRM"}}},
		resp:    ok200("CustomerHandoff")}
	acceptHandoffDoc = op{id: "acceptCustomerHandoff", tag: "customers", params: dealIDParam,
		summary: "The CSM accepts the customer (CSMs, managers, admins; a CSM takes an unassigned handoff and may not accept another CSM's). A note without goals, stakeholders or risks answers 422 naming the first missing part in field",
		resp:    ok200("CustomerHandoff")}
	patchHandoffItemDoc = op{id: "updateOnboardingItem", tag: "customers", params: dealIDParam,
		summary: "Tick or untick one onboarding checklist item of the handoff",
		body:    []content{{"application/json", ref("OnboardingItemPatch"), map[string]any{"done": true}}},
		resp:    ok200("CustomerHandoff")}
	getHealthDoc = op{id: "getCustomerHealth", tag: "customers",
		summary: "The customer's health: current score (0–100) and band with the reason per input and the convention, the history (a row per recompute that changed something, one per day from the daily job) and the raw inputs",
		resp:    ok200("CustomerHealth")}
	postUsageDoc = op{id: "recordCustomerUsage", tag: "customers",
		summary: "Report product usage events of the customer (up to 1,000 per request); an event with a key already seen counts once; recomputes the health",
		body:    []content{{"application/json", ref("UsageBatch"), map[string]any{"events": []any{map[string]any{"kind": "login", "quantity": 42, "occurred_at": "2026-11-26T10:00:00Z", "key": "2026-11-26:logins"}}}}},
		resp:    ok200("UsageResult")}
	postNPSDoc = op{id: "recordCustomerNPS", tag: "customers",
		summary: "Record an NPS response (0–10) of the customer; the latest response within the window counts; recomputes the health",
		body:    []content{{"application/json", ref("NPSInput"), map[string]any{"score": 4, "comment": "Support is slow", "responded_at": "2026-11-02T09:00:00Z"}}},
		resp:    []resp{{http.StatusCreated, "application/json", "NPSResult", "recorded", true}}}
	putSupportDoc = op{id: "setCustomerSupport", tag: "customers",
		summary: "Set the customer's open support item count (from the help desk); recomputes the health",
		body:    []content{{"application/json", ref("SupportInput"), map[string]any{"open_items": 3}}},
		resp:    ok200("HealthResult")}
	putSentimentDoc = op{id: "setCustomerSentiment", tag: "customers",
		summary: "The CSM's sentiment of the customer with the note that explains it (CSMs, managers, admins); recomputes the health",
		body:    []content{{"application/json", ref("SentimentInput"), map[string]any{"sentiment": "negative", "note": "Our champion left last week"}}},
		resp:    ok200("HealthResult")}
	getSuccessQueueDoc = op{id: "getSuccessQueue", tag: "customers",
		summary: "The CSM queue: handoffs awaiting the AE's note and awaiting acceptance (oldest first; unassigned ones have no csm_user_id) and customers at risk or critical (lowest score first)",
		resp:    ok200("SuccessQueue")}
	getHealthSettingsDoc = op{id: "getHealthSettings", tag: "customers", summary: "The workspace's health score weights, windows, targets and bands (the defaults when it saved none)", resp: ok200("HealthSettings")}
	putHealthSettingsDoc = op{id: "putHealthSettings", tag: "customers",
		summary: "Replace the health settings (omitted settings take the defaults); errors name the setting, e.g. usage.window_days; every customer is recomputed in the background (admin, manager)",
		body:    jsonBody("HealthSettingsInput"), resp: ok200("HealthSettings")}
	getChecklistsDoc = op{id: "getChecklistTemplates", tag: "customers", summary: "The onboarding checklist template per motion (the defaults when the workspace saved none)", resp: ok200("ChecklistTemplates")}
	putChecklistsDoc = op{id: "putChecklistTemplates", tag: "customers",
		summary: "Replace the onboarding templates per motion; a blank key is made from the title; open handoffs keep their checklist (admin, manager)",
		body:    []content{{"application/json", ref("ChecklistTemplatesInput"), map[string]any{"templates": map[string]any{"digital": []any{map[string]any{"title": "Kickoff call held"}}, "high_touch": []any{map[string]any{"key": "exec_sponsor_sync", "title": "Executive sponsor sync"}}}}}},
		resp:    ok200("ChecklistTemplates")}
)

// successProblems are the 422 answers of the customer-success routes, by
// operation id (the document builder adds them).
var successProblems = map[string]string{
	"acceptCustomerHandoff": "handoff_note_incomplete: field names the first missing part of the note (goals, stakeholders, risks); handoff_state: already accepted (field status)",
	"updateCustomerHandoff": "handoff_state: the handoff was accepted and its note is final (field status)",
}

func successSchemas(s js) {
	nullableID := nullable(tID)
	item := object([]string{"id", "position", "key", "title", "done"}, js{
		"id": tID, "position": tCount, "key": tKey, "title": str(0), "done": js{"type": "boolean"},
		"done_at": tTime, "done_by": withDesc(str(0), "who ticked it (user:… or key:…)"),
	})
	handoffProps := func() js {
		return js{
			"id": tID, "account_id": withDesc(tID, "the customer"), "deal_id": withDesc(tID, "the won deal"), "motion": enum(success.Motions...),
			"ae_user_id": withDesc(tID, "the deal's owner when it was won"), "csm_user_id": withDesc(tID, "absent: unassigned"),
			"assignment_id":     withDesc(tID, "the assignment that chose the CSM (internal/assignment)"),
			"assignment_reason": withDesc(str(0), "how the CSM was chosen, or why nobody was"),
			"status":            enum(success.Statuses...), "goals": str(0), "stakeholders": str(0), "risks": str(0),
			"note_by": str(0), "note_at": tTime, "accepted_by": str(0), "accepted_at": tTime, "created_at": tTime, "updated_at": tTime,
		}
	}
	hreq := []string{"id", "account_id", "deal_id", "motion", "assignment_reason", "status", "goals", "stakeholders", "risks", "created_at", "updated_at"}
	hp := handoffProps()
	hp["account_name"], hp["deal_name"], hp["ae_email"], hp["csm_email"] = str(0), str(0), str(0), str(0)
	hp["missing"] = withDesc(arrayOf(enum(success.NoteParts...)), "note parts still blank; accept needs none")
	hp["items"] = arrayOf(item)
	hp["items_done"] = tCount
	hp["others"] = withDesc(arrayOf(object([]string{"id", "deal_id", "status", "created_at"}, js{"id": tID, "deal_id": tID, "status": enum(success.Statuses...), "created_at": tTime})), "the customer's other handoffs (pick one with deal_id)")
	s["CustomerHandoff"] = object(append(append([]string{}, hreq...), "account_name", "deal_name", "missing", "items", "items_done", "others"), hp)
	s["CustomerHandoffPatch"] = object(nil, js{
		"goals": str(4000), "stakeholders": str(4000), "risks": str(4000),
		"csm_user_id": withDesc(nullableID, "admins and managers: a workspace member as the CSM; null unassigns"),
	})
	s["OnboardingItemPatch"] = object([]string{"done"}, js{"done": js{"type": "boolean"}})

	window := object([]string{"weight", "window_days", "target"}, js{
		"weight":      withDesc(js{"type": "integer", "minimum": 0, "maximum": 100}, "points at the target (and minus this at zero); 0 turns the input off"),
		"window_days": js{"type": "integer", "minimum": 1, "maximum": 365}, "target": withDesc(js{"type": "integer", "minimum": 1}, "events in the window for the full points"),
	})
	weight := js{"type": "integer", "minimum": 0, "maximum": 100}
	settingsProps := js{
		"base": withDesc(js{"type": "integer", "minimum": 0, "maximum": 100}, "the score before any input"), "healthy_min": js{"type": "integer", "minimum": 1, "maximum": 100},
		"critical_below": js{"type": "integer", "minimum": 0, "maximum": 99}, "usage": window, "engagement": window,
		"support":   object([]string{"weight", "cap"}, js{"weight": weight, "cap": withDesc(js{"type": "integer", "minimum": 1}, "open items for the full penalty")}),
		"nps":       object([]string{"weight", "max_age_days"}, js{"weight": weight, "max_age_days": js{"type": "integer", "minimum": 1, "maximum": 3650}}),
		"sentiment": object([]string{"weight"}, js{"weight": weight}),
	}
	settingsReq := []string{"base", "healthy_min", "critical_below", "usage", "engagement", "support", "nps", "sentiment"}
	s["HealthSettingsBody"] = object(settingsReq, settingsProps)
	out := js{}
	for k, v := range settingsProps {
		out[k] = v
	}
	out["default"] = withDesc(js{"type": "boolean"}, "the workspace saved none and uses the defaults")
	out["updated_by"], out["updated_at"] = str(0), tTime
	s["HealthSettings"] = object(append(append([]string{}, settingsReq...), "default"), out)
	s["HealthSettingsInput"] = withDesc(object(nil, settingsProps), "omitted settings take the defaults")

	part := object([]string{"input", "weight", "points", "no_data", "reason"}, js{
		"input": enum(success.InputNames...), "weight": tCount, "points": tInt,
		"no_data": withDesc(js{"type": "boolean"}, "never reported: adds 0"), "reason": withDesc(str(0), `e.g. "−15 NPS 4 on 2026-11-02 (detractor)"`),
	})
	bdReq := []string{"score", "band", "base", "sum", "parts", "as_of", "convention", "settings"}
	bdProps := func() js {
		return js{
			"score": js{"type": "integer", "minimum": 0, "maximum": 100}, "band": enum(success.Bands...), "base": tInt,
			"sum": withDesc(tInt, "base + points before clamping to 0–100"), "parts": arrayOf(part), "as_of": tTime,
			"convention": withDesc(str(0), "how the score is computed"), "settings": ref("HealthSettingsBody"),
		}
	}
	s["HealthBreakdown"] = object(bdReq, bdProps())
	cur := bdProps()
	cur["cause"], cur["computed_at"], cur["stored"] = enum(success.Causes...), tTime, withDesc(js{"type": "boolean"}, "false: never stored, computed for this read")
	point := object([]string{"id", "score", "band", "cause", "computed_at", "points", "reasons"}, js{
		"id": tID, "score": tCount, "band": enum(success.Bands...), "cause": enum(success.Causes...), "day": withDesc(tDate, "the daily job's UTC day"),
		"computed_at": tTime, "points": js{"type": "object", "additionalProperties": tInt}, "reasons": arrayOf(str(0)),
	})
	nps := object([]string{"id", "score", "comment", "responded_at", "recorded_by", "created_at"}, js{
		"id": tID, "contact_id": tID, "score": js{"type": "integer", "minimum": 0, "maximum": 10}, "comment": str(0),
		"responded_at": tTime, "recorded_by": str(0), "created_at": tTime,
	})
	s["NPSResponse"] = nps
	s["CustomerHealth"] = object([]string{"account_id", "current", "history", "inputs"}, js{
		"account_id": tID,
		"current":    object(append(append([]string{}, bdReq...), "cause", "computed_at", "stored"), cur),
		"history":    withDesc(arrayOf(point), "oldest first, the newest 365"),
		"inputs": object([]string{"open_support_items", "nps"}, js{
			"open_support_items": withDesc(nullable(tCount), "null: never reported"), "support_by": str(0), "support_at": tTime,
			"sentiment": enum(success.Sentiments...), "sentiment_note": str(0), "sentiment_by": str(0), "sentiment_at": tTime,
			"nps": withDesc(arrayOf(ref("NPSResponse")), "the newest 5"),
		}),
	})
	s["UsageEvent"] = object(nil, js{
		"kind":        withDesc(str(63), `what happened, e.g. login, report_run; default "event"`),
		"quantity":    withDesc(js{"type": "integer", "minimum": 1, "maximum": 1000000}, "how many; default 1"),
		"occurred_at": withDesc(tTime, "default now; at most 5 minutes ahead of the server clock"),
		"key":         withDesc(str(200), "an id of the event: a key already seen for this customer is not counted again"),
	})
	s["UsageBatch"] = object([]string{"events"}, js{"events": js{"type": "array", "maxItems": success.MaxUsageBatch, "items": ref("UsageEvent")}})
	s["UsageResult"] = object([]string{"accepted", "duplicates", "health"}, js{"accepted": tCount, "duplicates": withDesc(tCount, "events whose key was seen before"), "health": ref("HealthBreakdown")})
	s["NPSInput"] = object([]string{"score"}, js{
		"score": js{"type": "integer", "minimum": 0, "maximum": 10}, "contact_id": withDesc(tID, "who answered (a contact of the workspace)"),
		"comment": str(2000), "responded_at": withDesc(tTime, "default now"),
	})
	s["NPSResult"] = object([]string{"response", "health"}, js{"response": ref("NPSResponse"), "health": ref("HealthBreakdown")})
	s["SupportInput"] = object([]string{"open_items"}, js{"open_items": js{"type": "integer", "minimum": 0, "maximum": 1000000}})
	s["SentimentInput"] = object([]string{"sentiment", "note"}, js{"sentiment": enum(success.Sentiments...), "note": withDesc(str(2000), "why; required")})
	s["HealthResult"] = object([]string{"health"}, js{"health": ref("HealthBreakdown")})

	qp := handoffProps()
	qp["account_name"], qp["deal_name"], qp["ae_email"], qp["csm_email"] = str(0), str(0), str(0), str(0)
	qp["items_done"], qp["items_total"] = tCount, tCount
	qrow := object(append(append([]string{}, hreq...), "account_name", "deal_name", "items_done", "items_total"), qp)
	risk := object([]string{"account_id", "account_name", "score", "band", "computed_at"}, js{
		"account_id": tID, "account_name": str(0), "score": tCount, "band": enum(success.Bands...), "computed_at": tTime,
	})
	s["SuccessQueue"] = object([]string{"awaiting_note", "awaiting_acceptance", "at_risk"}, js{
		"awaiting_note": arrayOf(qrow), "awaiting_acceptance": arrayOf(qrow), "at_risk": arrayOf(risk),
	})
	tItem := object([]string{"key", "title"}, js{"key": tKey, "title": str(200)})
	tItemIn := object([]string{"title"}, js{"key": withDesc(tKey, "default: made from the title"), "title": str(200)})
	s["ChecklistTemplates"] = object([]string{"templates", "default"}, js{
		"templates": object([]string{"digital", "high_touch"}, js{"digital": arrayOf(tItem), "high_touch": arrayOf(tItem)}),
		"default":   js{"type": "boolean"},
	})
	s["ChecklistTemplatesInput"] = object([]string{"templates"}, js{
		"templates": object(nil, js{"digital": arrayOf(tItemIn), "high_touch": arrayOf(tItemIn)}),
	})
}
