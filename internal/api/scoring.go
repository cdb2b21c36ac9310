package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/auth"
	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

// breakdownRecent is how many recent events a score breakdown lists one by one.
const breakdownRecent = 10

// decodeStrict reads a JSON object body into v, refusing unknown fields and naming
// the field at fault (prefixed with prefix, e.g. "events[3]."). Numbers decode as
// float64, which is what the scoring and routing validators expect.
func decodeStrict(raw []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = strings.TrimSuffix(prefix, ".")
		}
		return &store.FieldError{Field: prefix + field, Message: fmt.Sprintf("must be %s", te.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &store.FieldError{Field: prefix + name, Message: "unknown field"}
	case errors.As(err, &pe):
		return &store.FieldError{Field: prefix + "occurred_at", Message: "must be an RFC 3339 time"}
	}
	return &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_json", Msg: "malformed JSON: " + err.Error()}
}

// body reads the request's JSON body (syntax errors, emptiness and size limits
// answered as for every other route) and decodes it strictly into v.
func body(r *http.Request, v any) error {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(r, &raw); err != nil {
		return err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_json", Msg: "request body must be a JSON object"}
	}
	return decodeStrict(raw, v, "")
}

func ingestEvents(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
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
		return badField("events", "is required: a list of up to %d events", scoring.MaxBatch)
	}
	raws := *in.Events
	if len(raws) > scoring.MaxBatch {
		return badField("events", "at most %d events per batch, got %d", scoring.MaxBatch, len(raws))
	}
	events := make([]scoring.Event, len(raws))
	for i, raw := range raws {
		prefix := fmt.Sprintf("events[%d].", i)
		if len(raw) == 0 || raw[0] != '{' {
			return badField(fmt.Sprintf("events[%d]", i), "must be an object")
		}
		if err := decodeStrict(raw, &events[i], prefix); err != nil {
			return err
		}
	}
	res, err := a.d.Scoring.Ingest(r.Context(), p.WorkspaceID, events)
	if err != nil {
		return err
	}
	if res.Errors == nil {
		res.Errors = []scoring.EventError{}
	}
	if res.Promoted == nil {
		res.Promoted = []int64{}
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}

func contactScore(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	// The contact first, through the caller's scope: a partner's foreign id is a 404.
	if _, err := a.d.St.Read().Scoped(p.Scope()).GetContact(r.Context(), p.WorkspaceID, id); err != nil {
		return err
	}
	b, err := a.d.Scoring.Breakdown(r.Context(), p.WorkspaceID, id, time.Now(), breakdownRecent)
	if err != nil {
		return err
	}
	if b.Lines == nil {
		b.Lines = []scoring.Line{}
	}
	httpx.JSON(w, http.StatusOK, b)
	return nil
}

func getScoringConfig(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	cfg, err := a.d.Scoring.Config(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, scoringConfigOut(cfg))
	return nil
}

func putScoringConfig(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var cfg scoring.Config
	if err := body(r, &cfg); err != nil {
		return err
	}
	cfg, err := a.d.Scoring.SaveConfig(r.Context(), p.Actor(httpx.ClientIP(r)), cfg)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, scoringConfigOut(cfg))
	return nil
}

func scoringConfigOut(cfg scoring.Config) scoring.Config {
	if cfg.EventWeights == nil {
		cfg.EventWeights = map[string]float64{}
	}
	if cfg.FitRules == nil {
		cfg.FitRules = []scoring.FitRule{}
	}
	return cfg
}

func getRoutingRules(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	set, err := a.d.Routing.Rules(r.Context(), p.WorkspaceID)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, ruleSetOut(set))
	return nil
}

func putRoutingRules(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if _, err := onlyParams(r); err != nil {
		return err
	}
	var set routing.RuleSet
	if err := body(r, &set); err != nil {
		return err
	}
	set, err := a.d.Routing.SaveRules(r.Context(), p.Actor(httpx.ClientIP(r)), set)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, ruleSetOut(set))
	return nil
}

// ruleSetOut renders empty lists as [] rather than null.
func ruleSetOut(set routing.RuleSet) routing.RuleSet {
	if set.SegmentRules == nil {
		set.SegmentRules = []model.SegmentRule{}
	}
	if set.RoutingRules == nil {
		set.RoutingRules = []model.RoutingRule{}
	}
	for i := range set.SegmentRules {
		if set.SegmentRules[i].Conditions == nil {
			set.SegmentRules[i].Conditions = []model.Condition{}
		}
	}
	for i := range set.RoutingRules {
		if set.RoutingRules[i].Conditions == nil {
			set.RoutingRules[i].Conditions = []model.Condition{}
		}
	}
	return set
}

// accountRouting answers "why is this account in this motion?": what the rules
// say now, and every decision recorded for it, newest first.
type accountRouting struct {
	Current   routing.Decision        `json:"current"`
	Decisions []model.RoutingDecision `json:"decisions"`
}

func getAccountRouting(a *API, w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := onlyParams(r); err != nil {
		return err
	}
	cur, err := a.d.Routing.Explain(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	decs, err := a.d.Routing.Decisions(r.Context(), p.WorkspaceID, id)
	if err != nil {
		return err
	}
	if decs == nil {
		decs = []model.RoutingDecision{}
	}
	httpx.JSON(w, http.StatusOK, accountRouting{Current: cur, Decisions: decs})
	return nil
}

// ---- documentation ---------------------------------------------------------------

var (
	ingestEventsDoc = op{id: "ingestEvents", tag: "scoring", summary: fmt.Sprintf("Score up to %d engagement events in one batch; bad events are rejected one by one (errors name events[i].field) and the rest applied", scoring.MaxBatch),
		body: []content{{"application/json", ref("EventBatch"), map[string]any{"events": []any{map[string]any{"email": "ann@acme.example", "kind": "pricing_page_view", "url": "https://acme.example/pricing"}}}}},
		resp: ok200("EventResult")}
	contactScoreDoc      = op{id: "getContactScore", tag: "contacts", summary: "The contact's current score and what makes it up (fit rules, recent events, older events)", resp: ok200("ScoreBreakdown")}
	getScoringConfigDoc  = op{id: "getScoringConfig", tag: "scoring", summary: "The workspace's scoring configuration (the defaults until one is saved)", resp: ok200("ScoringConfig")}
	putScoringConfigDoc  = op{id: "putScoringConfig", tag: "scoring", summary: "Replace the scoring configuration; every scored contact's fit and due time is recomputed (admin, manager)", body: jsonBody("ScoringConfig"), resp: ok200("ScoringConfig")}
	getRoutingRulesDoc   = op{id: "getRoutingRules", tag: "routing", summary: "The workspace's segment and routing rules (the defaults for a list it has not stored)", resp: ok200("RoutingRuleSet")}
	putRoutingRulesDoc   = op{id: "putRoutingRules", tag: "routing", summary: "Replace both rule lists; an empty list (or default_*: true) returns it to the defaults; accounts pick up the rules on their next write (admin, manager)", body: jsonBody("RoutingRuleSet"), resp: ok200("RoutingRuleSet")}
	getAccountRoutingDoc = op{id: "getAccountRouting", tag: "accounts", summary: "Why the account is in its segment and motion: what the rules say now, and its recorded decisions, newest first", resp: ok200("AccountRouting")}
)

var tNumber = js{"type": "number"}

func scoringSchemas(s js) {
	s["ScoringEvent"] = object([]string{"kind"}, js{
		"contact_id":  withDesc(tID, "the contact; or give email (both: they must agree)"),
		"email":       str(320),
		"kind":        withDesc(str(0), "an event kind of the workspace's scoring configuration"),
		"occurred_at": withDesc(tTime, "RFC 3339; defaults to now; at most 5 minutes ahead of the server clock"),
		"url":         str(0), "title": str(0),
	})
	s["EventBatch"] = object([]string{"events"}, js{"events": js{"type": "array", "maxItems": scoring.MaxBatch, "items": ref("ScoringEvent")}})
	s["EventError"] = object([]string{"index", "field", "message"}, js{"index": tCount, "field": withDesc(str(0), "e.g. events[3].kind"), "message": str(0)})
	s["EventResult"] = object([]string{"submitted", "applied", "rejected", "errors", "promoted"}, js{
		"submitted": withDesc(tCount, "applied + rejected"), "applied": tCount, "rejected": tCount,
		"errors":   withDesc(arrayOf(ref("EventError")), "one per rejected event, in index order"),
		"promoted": withDesc(arrayOf(tID), "contacts this batch moved to mql"),
	})
	s["ScoreLine"] = object([]string{"source", "points", "text"}, js{
		"source": enum("fit", "event", "earlier"), "points": withDesc(tNumber, "what it adds now"), "text": str(0),
		"kind": str(0), "weight": withDesc(tNumber, "the event's weight when it happened"), "occurred_at": tTime,
	})
	s["ScoreBreakdown"] = object([]string{"contact_id", "score", "fit", "engagement", "mql_threshold", "half_life_seconds", "as_of", "events", "lines"}, js{
		"contact_id": tID, "score": tNumber, "fit": tNumber, "engagement": tNumber, "mql_threshold": tNumber,
		"half_life_seconds": tCount, "as_of": tTime, "due_at": withDesc(tTime, "when decay takes the score below the threshold"),
		"events": withDesc(tCount, "events recorded for the contact"), "lines": withDesc(arrayOf(ref("ScoreLine")), "they add up to score"),
	})
	s["FitRule"] = object([]string{"field", "op", "points"}, js{
		"field":  withDesc(str(0), "title, email, source, custom.<key>; segment, industry, region, motion, employees, annual_revenue, budget, account.custom.<key>"),
		"op":     str(0),
		"value":  withDesc(tAny, "left out for empty and not_empty; a list for in and not_in"),
		"points": tNumber, "label": str(0),
	})
	s["ScoringConfig"] = object([]string{"half_life_seconds", "mql_threshold", "event_weights", "fit_rules"}, js{
		"half_life_seconds": withDesc(tCount, "engagement half-life, 1 hour to 365 days"),
		"mql_threshold":     tNumber,
		"event_weights":     js{"type": "object", "additionalProperties": tNumber, "description": "weight (0–1,000) of each event kind"},
		"fit_rules":         arrayOf(ref("FitRule")),
		"updated_by":        withDesc(str(0), "set by the server"), "updated_at": withDesc(tTime, "set by the server"),
	})
	s["RoutingCondition"] = object([]string{"field", "op"}, js{"field": str(0), "op": str(0), "value": tAny})
	s["SegmentRule"] = object([]string{"position", "segment", "conditions", "catch_all"}, js{
		"id": tID, "position": tCount, "segment": str(64), "conditions": arrayOf(ref("RoutingCondition")),
		"catch_all": js{"type": "boolean"}, "created_at": tTime, "updated_at": tTime,
	})
	s["RoutingRule"] = object([]string{"position", "segment", "conditions", "motion", "pipeline", "team", "assignment_policy"}, js{
		"id": tID, "position": tCount, "segment": withDesc(str(64), "empty: any segment"), "conditions": arrayOf(ref("RoutingCondition")),
		"motion": str(0), "pipeline": str(0), "team": str(0), "assignment_policy": str(0), "created_at": tTime, "updated_at": tTime,
	})
	s["RoutingRuleSet"] = object([]string{"segment_rules", "routing_rules"}, js{
		"segment_rules":         withDesc(arrayOf(ref("SegmentRule")), "first match wins; the last is the catch-all"),
		"routing_rules":         withDesc(arrayOf(ref("RoutingRule")), "first match wins; the last is any segment, no conditions"),
		"default_segment_rules": js{"type": "boolean"}, "default_routing_rules": js{"type": "boolean"},
	})
	s["RuleRef"] = object([]string{"position"}, js{"id": tID, "position": tCount, "default": js{"type": "boolean"}, "catch_all": js{"type": "boolean"}})
	s["RoutingEvaluation"] = object([]string{"segment", "motion", "pipeline", "team", "assignment_policy", "segment_rule", "routing_rule", "inputs", "reason"}, js{
		"segment": str(0), "motion": str(0), "pipeline": str(0), "team": str(0), "assignment_policy": str(0),
		"segment_rule": ref("RuleRef"), "routing_rule": ref("RuleRef"),
		"inputs": withDesc(js{"type": "object"}, "the values the rules read"), "reason": str(0),
	})
	s["RoutingDecision"] = object([]string{"id", "account_id", "segment", "motion", "pipeline", "team", "assignment_policy", "manual", "reason", "created_at"}, js{
		"id": tID, "account_id": tID, "segment_rule_id": tID, "routing_rule_id": tID,
		"segment": str(0), "motion": str(0), "pipeline": str(0), "team": str(0), "assignment_policy": str(0),
		"manual": js{"type": "boolean"}, "inputs": tAny, "reason": str(0), "triggered_by": str(0),
		"previous_segment": str(0), "previous_motion": str(0), "created_at": tTime,
	})
	s["AccountRouting"] = object([]string{"current", "decisions"}, js{
		"current":   withDesc(ref("RoutingEvaluation"), "what the rules say now (nothing is changed)"),
		"decisions": withDesc(arrayOf(ref("RoutingDecision")), "recorded decisions, newest first"),
	})
}
