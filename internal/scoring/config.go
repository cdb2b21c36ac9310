package scoring

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Config is a workspace's scoring configuration.
type Config struct {
	HalfLifeSeconds int64              `json:"half_life_seconds"`
	MQLThreshold    float64            `json:"mql_threshold"`
	EventWeights    map[string]float64 `json:"event_weights"`
	FitRules        []FitRule          `json:"fit_rules"`
	UpdatedBy       string             `json:"updated_by,omitempty"`
	UpdatedAt       *time.Time         `json:"updated_at,omitempty"`
}

// HalfLife is the engagement half-life as a duration.
func (c Config) HalfLife() time.Duration { return time.Duration(c.HalfLifeSeconds) * time.Second }

// Defaults (issue 3): a 14-day half-life, an MQL threshold of 50, and weights that
// rank intent (pricing, forms, trials) above browsing.
const (
	DefaultHalfLife     = 14 * 24 * time.Hour
	DefaultMQLThreshold = 50
)

// DefaultEventWeights returns the default weight of each event kind.
func DefaultEventWeights() map[string]float64 {
	return map[string]float64{
		"page_view": 1, "pricing_page_view": 10, "content_download": 8, "email_open": 1,
		"email_click": 3, "form_submit": 10, "trial_activity": 15,
	}
}

// DefaultConfig is what a workspace without a saved configuration scores with.
func DefaultConfig() Config {
	return Config{HalfLifeSeconds: int64(DefaultHalfLife / time.Second), MQLThreshold: DefaultMQLThreshold, EventWeights: DefaultEventWeights(), FitRules: []FitRule{}}
}

// Limits on a configuration: bounded so due times and sums stay well inside float
// and duration ranges, and so a rule list stays readable.
const (
	minHalfLife  = time.Hour
	maxHalfLife  = 365 * 24 * time.Hour
	maxThreshold = 100000
	maxWeight    = 1000
	maxPoints    = 1000
	maxRules     = 100
	maxKinds     = 100
)

var kindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// FitRule adds Points when Field Op Value holds for a contact (and its account).
// Fields: title, email, source and custom.<key> of the contact; segment, industry,
// region, motion, employees, annual_revenue, budget (minor units) and
// account.custom.<key> of its account. Text comparisons ignore case.
type FitRule struct {
	Field  string  `json:"field"`
	Op     string  `json:"op"`
	Value  any     `json:"value,omitempty"`
	Points float64 `json:"points"`
	Label  string  `json:"label,omitempty"`
}

// Operators by the type of the field they apply to.
var (
	textOps   = []string{"eq", "ne", "contains", "not_contains", "starts_with", "in", "not_in", "empty", "not_empty"}
	numberOps = []string{"eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"}
	boolOps   = []string{"eq", "ne", "empty", "not_empty"}
	dateOps   = []string{"eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"}
)

// builtinFields maps the non-custom rule fields to their type.
var builtinFields = map[string]string{
	"title": "text", "email": "text", "source": "text",
	"segment": "text", "industry": "text", "region": "text", "motion": "text",
	"employees": "number", "annual_revenue": "number", "budget": "number",
}

func fe(field, format string, a ...any) *store.FieldError {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// Validate checks c and normalises its rules (values to their canonical type,
// default labels); the error is a *store.FieldError naming the bad setting, e.g.
// "fit_rules[1].op". contactCustom and accountCustom map custom field keys to types.
func (c *Config) Validate(contactCustom, accountCustom map[string]string) error {
	h := c.HalfLife()
	if c.HalfLifeSeconds <= 0 || h < minHalfLife || h > maxHalfLife {
		return fe("half_life_seconds", "must be between %d (1 hour) and %d (365 days)", int64(minHalfLife/time.Second), int64(maxHalfLife/time.Second))
	}
	if !(c.MQLThreshold > 0 && c.MQLThreshold <= maxThreshold) {
		return fe("mql_threshold", "must be above 0 and at most %d", maxThreshold)
	}
	if len(c.EventWeights) == 0 {
		return fe("event_weights", "needs at least one event kind")
	}
	if len(c.EventWeights) > maxKinds {
		return fe("event_weights", "at most %d event kinds", maxKinds)
	}
	for _, k := range sortedKinds(c.EventWeights) {
		w := c.EventWeights[k]
		if !kindRE.MatchString(k) {
			return fe("event_weights."+k, "an event kind must start with a-z and use only a-z, 0-9 and _")
		}
		if math.IsNaN(w) || w < 0 || w > maxWeight {
			return fe("event_weights."+k, "must be between 0 and %d", maxWeight)
		}
	}
	if len(c.FitRules) > maxRules {
		return fe("fit_rules", "at most %d rules", maxRules)
	}
	if c.FitRules == nil {
		c.FitRules = []FitRule{}
	}
	for i := range c.FitRules {
		r, err := normalizeRule(fmt.Sprintf("fit_rules[%d]", i), c.FitRules[i], func(f string) (string, bool) {
			return fieldType(f, contactCustom, accountCustom)
		})
		if err != nil {
			return err
		}
		c.FitRules[i] = r
	}
	return nil
}

// fieldType is the type of a rule field, false when there is no such field.
func fieldType(f string, contactCustom, accountCustom map[string]string) (string, bool) {
	if t, ok := builtinFields[f]; ok {
		return t, true
	}
	if k, ok := strings.CutPrefix(f, "account.custom."); ok {
		t, ok := accountCustom[k]
		return customType(t), ok
	}
	if k, ok := strings.CutPrefix(f, "custom."); ok {
		t, ok := contactCustom[k]
		return customType(t), ok
	}
	return "", false
}

func customType(t string) string {
	if t == "enum" {
		return "text"
	}
	return t
}

// normalizeRule validates one rule against the type typeOf reports for its field.
func normalizeRule(path string, r FitRule, typeOf func(string) (string, bool)) (FitRule, error) {
	r.Field = strings.TrimSpace(r.Field)
	r.Op = strings.TrimSpace(r.Op)
	if r.Field == "" {
		return r, fe(path+".field", "is required")
	}
	typ, ok := typeOf(r.Field)
	if !ok {
		return r, fe(path+".field", "%q is not a field rules can use (title, email, source, segment, industry, region, motion, employees, annual_revenue, budget, custom.<key>, account.custom.<key>)", r.Field)
	}
	ops := map[string][]string{"text": textOps, "number": numberOps, "bool": boolOps, "date": dateOps}[typ]
	if r.Op == "" {
		return r, fe(path+".op", "is required (%s)", strings.Join(ops, ", "))
	}
	if !model.Contains(ops, r.Op) {
		return r, fe(path+".op", "%q does not apply to %s, a %s field (%s)", r.Op, r.Field, typ, strings.Join(ops, ", "))
	}
	v, err := normalizeValue(typ, r.Op, r.Value)
	if err != nil {
		return r, fe(path+".value", "%s", err.Error())
	}
	r.Value = v
	if math.IsNaN(r.Points) || math.IsInf(r.Points, 0) || math.Abs(r.Points) > maxPoints {
		return r, fe(path+".points", "must be between -%d and %d", maxPoints, maxPoints)
	}
	if r.Points == 0 {
		return r, fe(path+".points", "must not be 0 (a rule that adds nothing)")
	}
	r.Label = strings.TrimSpace(r.Label)
	if len(r.Label) > 200 {
		return r, fe(path+".label", "at most 200 characters")
	}
	if r.Label == "" {
		r.Label = describeRule(r)
	}
	return r, nil
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// normalizeValue turns a rule value into its canonical type: string (text, date),
// []string (in, not_in), float64 (number) or bool; empty and not_empty take none.
func normalizeValue(typ, op string, v any) (any, error) {
	if op == "empty" || op == "not_empty" {
		if v != nil && v != "" {
			return nil, fmt.Errorf("must be left out for %s", op)
		}
		return nil, nil
	}
	if v == nil {
		return nil, fmt.Errorf("is required for %s", op)
	}
	switch typ {
	case "number":
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("must be a number")
			}
			return x, nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		}
		return nil, fmt.Errorf("must be a number")
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case "date":
		s, ok := v.(string)
		if _, err := time.Parse("2006-01-02", strings.TrimSpace(s)); !ok || !dateRE.MatchString(strings.TrimSpace(s)) || err != nil {
			return nil, fmt.Errorf("must be a date YYYY-MM-DD")
		}
		return strings.TrimSpace(s), nil
	}
	// text
	if op == "in" || op == "not_in" {
		var list []string
		switch x := v.(type) {
		case string:
			list = strings.Split(x, ",")
		case []string:
			list = x
		case []any:
			for i, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("item %d must be text", i)
				}
				list = append(list, s)
			}
		default:
			return nil, fmt.Errorf("must be a list of text values")
		}
		out := make([]string, 0, len(list))
		for _, s := range list {
			if s = strings.TrimSpace(s); s != "" {
				if len(s) > 200 {
					return nil, fmt.Errorf("values are at most 200 characters")
				}
				out = append(out, s)
			}
		}
		if len(out) == 0 || len(out) > 100 {
			return nil, fmt.Errorf("must list 1 to 100 values")
		}
		return out, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("must be text")
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 {
		return nil, fmt.Errorf("must be 1 to 200 characters")
	}
	return s, nil
}

var opWords = map[string]string{
	"eq": "is", "ne": "is not", "contains": "contains", "not_contains": "does not contain", "starts_with": "starts with",
	"in": "is one of", "not_in": "is none of", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "empty": "is empty", "not_empty": "is set",
}

// describeRule is a rule's default label: "title contains 'VP'".
func describeRule(r FitRule) string {
	s := r.Field + " " + opWords[r.Op]
	switch v := r.Value.(type) {
	case nil:
	case string:
		s += " '" + v + "'"
	case []string:
		s += " '" + strings.Join(v, "', '") + "'"
	case float64:
		s += " " + strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		s += " " + strconv.FormatBool(v)
	}
	return s
}

// loadRule re-normalises a stored rule. Custom fields' types are inferred from the
// stored value (the rule was checked against the field's definition when saved); a
// rule that no longer makes sense is dropped rather than failing every score.
func loadRule(r FitRule) (FitRule, bool) {
	typeOf := func(f string) (string, bool) {
		if t, ok := builtinFields[f]; ok {
			return t, true
		}
		if !strings.HasPrefix(f, "custom.") && !strings.HasPrefix(f, "account.custom.") {
			return "", false
		}
		switch v := r.Value.(type) {
		case float64:
			return "number", true
		case bool:
			return "bool", true
		case string:
			if dateRE.MatchString(v) && model.Contains([]string{"gt", "gte", "lt", "lte"}, r.Op) {
				return "date", true
			}
		}
		return "text", true
	}
	n, err := normalizeRule("fit_rules", r, typeOf)
	return n, err == nil
}

// fieldValue reads a rule field from a contact and its account (nil when it has
// none). ok is false when the field has no value.
func fieldValue(f string, c *model.Contact, a *model.Account) (any, bool) {
	str := func(s string) (any, bool) { return s, s != "" }
	num := func(p *int64) (any, bool) {
		if p == nil {
			return nil, false
		}
		return float64(*p), true
	}
	custom := func(m model.Custom, k string) (any, bool) {
		v, ok := m[k]
		if !ok || v == nil || v == "" {
			return nil, false
		}
		return v, true
	}
	switch f {
	case "title":
		return str(c.Title)
	case "email":
		return str(c.Email)
	case "source":
		return str(c.Source)
	}
	if k, ok := strings.CutPrefix(f, "custom."); ok {
		return custom(c.Custom, k)
	}
	if a == nil {
		return nil, false
	}
	switch f {
	case "segment":
		return str(a.Segment)
	case "industry":
		return str(a.Industry)
	case "region":
		return str(a.Region)
	case "motion":
		return str(a.Motion)
	case "employees":
		return num(a.Employees)
	case "annual_revenue":
		return num(a.AnnualRevenue)
	case "budget":
		return num(a.Budget)
	}
	if k, ok := strings.CutPrefix(f, "account.custom."); ok {
		return custom(a.Custom, k)
	}
	return nil, false
}

func asText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

// Matches reports whether the (normalised) rule holds for contact c at account a.
func (r FitRule) Matches(c *model.Contact, a *model.Account) bool {
	v, has := fieldValue(r.Field, c, a)
	switch r.Op {
	case "empty":
		return !has
	case "not_empty":
		return has
	}
	if !has {
		return r.Op == "ne" || r.Op == "not_contains" || r.Op == "not_in"
	}
	switch want := r.Value.(type) {
	case float64:
		got, ok := asNumber(v)
		if !ok {
			return r.Op == "ne"
		}
		return compare(r.Op, cmpFloat(got, want))
	case bool:
		got, ok := v.(bool)
		if !ok {
			got, ok = map[string]bool{"true": true, "false": false}[strings.ToLower(asText(v))]
		}
		eq := ok && got == want
		return (r.Op == "eq") == eq
	case []string:
		got := strings.ToLower(strings.TrimSpace(asText(v)))
		in := false
		for _, w := range want {
			if strings.ToLower(w) == got {
				in = true
				break
			}
		}
		return (r.Op == "in") == in
	case string:
		got := strings.ToLower(strings.TrimSpace(asText(v)))
		w := strings.ToLower(want)
		switch r.Op {
		case "contains":
			return strings.Contains(got, w)
		case "not_contains":
			return !strings.Contains(got, w)
		case "starts_with":
			return strings.HasPrefix(got, w)
		}
		return compare(r.Op, strings.Compare(got, w))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	case "lte":
		return c <= 0
	}
	return false
}

// FitHit is one rule that matched, with its points.
type FitHit struct {
	Points float64 `json:"points"`
	Label  string  `json:"label"`
}

// Fit scores a contact against the rules: the sum of the points of every rule that
// holds, and which ones did.
func (c Config) Fit(ct *model.Contact, a *model.Account) (float64, []FitHit) {
	var sum float64
	var hits []FitHit
	for _, r := range c.FitRules {
		if r.Matches(ct, a) {
			sum += r.Points
			hits = append(hits, FitHit{Points: r.Points, Label: r.Label})
		}
	}
	return sum, hits
}

func sortedKinds(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// toStored encodes c for the store.
func (c Config) toStored() store.ScoringConfig {
	w, _ := json.Marshal(c.EventWeights)
	r, _ := json.Marshal(c.FitRules)
	return store.ScoringConfig{HalfLifeSeconds: c.HalfLifeSeconds, MQLThreshold: c.MQLThreshold, EventWeights: w, FitRules: r, UpdatedBy: c.UpdatedBy}
}

// fromStored decodes a stored configuration; weights or rules it cannot read fall
// back to the defaults rather than stopping scoring.
func fromStored(s store.ScoringConfig) Config {
	c := DefaultConfig()
	c.HalfLifeSeconds, c.MQLThreshold, c.UpdatedBy = s.HalfLifeSeconds, s.MQLThreshold, s.UpdatedBy
	at := s.UpdatedAt
	c.UpdatedAt = &at
	var w map[string]float64
	if json.Unmarshal(s.EventWeights, &w) == nil && len(w) > 0 {
		c.EventWeights = w
	}
	var rules []FitRule
	if json.Unmarshal(s.FitRules, &rules) == nil {
		for _, r := range rules {
			if n, ok := loadRule(r); ok {
				c.FitRules = append(c.FitRules, n)
			}
		}
	}
	if c.HalfLife() < minHalfLife || c.HalfLife() > maxHalfLife {
		c.HalfLifeSeconds = int64(DefaultHalfLife / time.Second)
	}
	if !(c.MQLThreshold > 0) {
		c.MQLThreshold = DefaultMQLThreshold
	}
	return c
}
