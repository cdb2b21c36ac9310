// Package pipeline owns a workspace's sales pipelines: stages with their order,
// win probability, forecast category and exit criteria; the gate that refuses a
// deal's move past a stage whose criteria it does not meet; stage history; and
// the buying committee whose sign-offs gates count. internal/crm calls Gate on
// every deal write, so the UI, the API and automation share one refusal.
package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Defaults are the pipelines of a workspace that stored none (PRODUCT.md §4).
// Stage keys match what deals carried before pipelines were editable. Lost (and
// no_decision) are outcomes, reachable from any stage without a gate; a won
// deal counts as having reached the last stage.
func Defaults() []model.PipelineDef {
	none := model.ExitCriteria{RequiredFields: []string{}, Activities: []string{}, Documents: []string{}}
	ex := func(fields, acts []string, c *model.CommitteeRule) model.ExitCriteria {
		e := none
		if fields != nil {
			e.RequiredFields = fields
		}
		if acts != nil {
			e.Activities = acts
		}
		e.Committee = c
		return e
	}
	return []model.PipelineDef{
		{Key: "high_touch", Name: "High touch (SPANCO)", Stages: []model.StageDef{
			{Key: "suspect", Name: "Suspect", Probability: 5, ForecastCategory: "pipeline", StaleDays: 30, Exit: none},
			{Key: "prospect", Name: "Prospect", Probability: 10, ForecastCategory: "pipeline", StaleDays: 21, Exit: none},
			{Key: "approach", Name: "Approach", Probability: 25, ForecastCategory: "pipeline", StaleDays: 21, Exit: ex([]string{"amount"}, []string{"demo"}, nil)},
			{Key: "negotiation", Name: "Negotiation", Probability: 50, ForecastCategory: "best_case", StaleDays: 14, Exit: ex([]string{"expected_close_date"}, []string{"contract_discussion"}, nil)},
			{Key: "close", Name: "Close", Probability: 80, ForecastCategory: "commit", StaleDays: 10, Exit: ex(nil, nil, &model.CommitteeRule{MinApproved: 6, Roles: []string{"economic_buyer", "legal"}})},
			{Key: "order", Name: "Order", Probability: 100, ForecastCategory: "closed", StaleDays: 0, Exit: none},
		}},
		{Key: "digital", Name: "Digital", Stages: []model.StageDef{
			{Key: "qualified", Name: "Qualified", Probability: 10, ForecastCategory: "pipeline", StaleDays: 14, Exit: none},
			{Key: "trial", Name: "Trial", Probability: 30, ForecastCategory: "best_case", StaleDays: 14, Exit: none},
			{Key: "proposal", Name: "Proposal", Probability: 60, ForecastCategory: "commit", StaleDays: 7, Exit: none},
			{Key: "won", Name: "Won", Probability: 100, ForecastCategory: "closed", StaleDays: 0, Exit: none},
		}},
	}
}

// Load returns the pipelines of ws: the stored ones, else the defaults.
func Load(ctx context.Context, q store.Q, ws int64) (ps []model.PipelineDef, isDefault bool, err error) {
	ps, err = q.Pipelines(ctx, ws)
	if err != nil {
		return nil, false, err
	}
	if len(ps) == 0 {
		return Defaults(), true, nil
	}
	return ps, false, nil
}

// Find returns the pipeline with key.
func Find(ps []model.PipelineDef, key string) (model.PipelineDef, bool) {
	for _, p := range ps {
		if p.Key == key {
			return p, true
		}
	}
	return model.PipelineDef{}, false
}

// Keys lists the pipeline keys of ps.
func Keys(ps []model.PipelineDef) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

// FirstStage is where a new deal of pipeline key starts in ws (desk, forms).
func FirstStage(ctx context.Context, q store.Q, ws int64, key string) (string, error) {
	ps, _, err := Load(ctx, q, ws)
	if err != nil {
		return "", err
	}
	p, ok := Find(ps, key)
	if !ok {
		return "", fmt.Errorf("pipeline: workspace %d has no pipeline %q", ws, key)
	}
	return p.Stages[0].Key, nil
}

// RequiredPipelines must exist in every workspace: the motions route to them.
var RequiredPipelines = []string{"high_touch", "digital"}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// dealFields a required_fields entry may name besides custom.<key>.
var dealFields = []string{"amount", "expected_close_date", "owner_id", "account_id"}

func fe(field, format string, args ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks ps and returns it normalised (trimmed, lower-cased keys, nil
// lists made empty). customTypes maps the workspace's deal custom field keys to
// their types. Errors are *store.FieldError naming the element, e.g.
// "pipelines[0].stages[2].probability".
func Validate(ps []model.PipelineDef, customTypes map[string]string) ([]model.PipelineDef, error) {
	out := make([]model.PipelineDef, 0, len(ps))
	seen := map[string]bool{}
	for i, p := range ps {
		at := fmt.Sprintf("pipelines[%d]", i)
		p.Key = strings.ToLower(strings.TrimSpace(p.Key))
		p.Name = strings.TrimSpace(p.Name)
		if !keyRE.MatchString(p.Key) {
			return nil, fe(at+".key", "%q must be lower-case letters, digits and _ (starting with a letter)", p.Key)
		}
		if seen[p.Key] {
			return nil, fe(at+".key", "%q appears twice", p.Key)
		}
		seen[p.Key] = true
		if p.Name == "" {
			p.Name = p.Key
		}
		if len(p.Stages) == 0 {
			return nil, fe(at+".stages", "needs at least one stage")
		}
		if len(p.Stages) > 30 {
			return nil, fe(at+".stages", "has %d stages; at most 30", len(p.Stages))
		}
		stages := make([]model.StageDef, 0, len(p.Stages))
		seenStage := map[string]bool{}
		for j, s := range p.Stages {
			sat := fmt.Sprintf("%s.stages[%d]", at, j)
			var err error
			if s, err = validateStage(sat, s, customTypes); err != nil {
				return nil, err
			}
			if seenStage[s.Key] {
				return nil, fe(sat+".key", "%q appears twice in %s", s.Key, p.Key)
			}
			seenStage[s.Key] = true
			stages = append(stages, s)
		}
		p.Stages = stages
		out = append(out, p)
	}
	for _, k := range RequiredPipelines {
		if !seen[k] {
			return nil, fe("pipelines", "must include the %s pipeline (the %s motion routes to it)", k, k)
		}
	}
	return out, nil
}

func validateStage(at string, s model.StageDef, customTypes map[string]string) (model.StageDef, error) {
	s.Key = strings.ToLower(strings.TrimSpace(s.Key))
	s.Name = strings.TrimSpace(s.Name)
	if !keyRE.MatchString(s.Key) {
		return s, fe(at+".key", "%q must be lower-case letters, digits and _ (starting with a letter)", s.Key)
	}
	if model.Contains(model.Outcomes, s.Key) && s.Key != "won" {
		return s, fe(at+".key", "%q is an outcome, not a stage", s.Key)
	}
	if s.Name == "" {
		s.Name = s.Key
	}
	if s.Probability < 0 || s.Probability > 100 {
		return s, fe(at+".probability", "%d must be 0–100 (percent)", s.Probability)
	}
	if s.ForecastCategory == "" {
		s.ForecastCategory = "pipeline"
	}
	if !model.Contains(model.ForecastCategories, s.ForecastCategory) {
		return s, fe(at+".forecast_category", "%q is not one of %s", s.ForecastCategory, strings.Join(model.ForecastCategories, ", "))
	}
	if s.StaleDays < 0 || s.StaleDays > 3650 {
		return s, fe(at+".stale_days", "%d must be 0–3650 (0: never stale)", s.StaleDays)
	}
	e := &s.Exit
	e.RequiredFields = nonNil(e.RequiredFields)
	e.Activities = nonNil(e.Activities)
	e.Documents = nonNil(e.Documents)
	for k, f := range e.RequiredFields {
		if c, ok := strings.CutPrefix(f, "custom."); ok {
			if _, ok := customTypes[c]; !ok {
				return s, fe(fmt.Sprintf("%s.exit.required_fields[%d]", at, k), "no deal custom field %q", c)
			}
			continue
		}
		if !model.Contains(dealFields, f) {
			return s, fe(fmt.Sprintf("%s.exit.required_fields[%d]", at, k), "%q is not one of %s or custom.<key>", f, strings.Join(dealFields, ", "))
		}
	}
	for k, a := range e.Activities {
		if !model.Contains(model.ActivityKinds, a) {
			return s, fe(fmt.Sprintf("%s.exit.activities[%d]", at, k), "%q is not one of %s", a, strings.Join(model.ActivityKinds, ", "))
		}
	}
	for k, d := range e.Documents {
		if t, ok := customTypes[d]; !ok || t != "text" {
			return s, fe(fmt.Sprintf("%s.exit.documents[%d]", at, k), "%q must be a deal custom field of type text (it holds the document's URL)", d)
		}
	}
	if c := e.Committee; c != nil {
		c.Roles = nonNil(c.Roles)
		if c.MinApproved < 0 || c.MinApproved > 50 {
			return s, fe(at+".exit.committee.min_approved", "%d must be 0–50", c.MinApproved)
		}
		for k, r := range c.Roles {
			if !model.Contains(model.CommitteeRoles, r) {
				return s, fe(fmt.Sprintf("%s.exit.committee.roles[%d]", at, k), "%q is not one of %s", r, strings.Join(model.CommitteeRoles, ", "))
			}
		}
		if c.MinApproved == 0 && len(c.Roles) == 0 {
			e.Committee = nil
		}
	}
	return s, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
