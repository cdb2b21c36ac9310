package scoring_test

import (
	"errors"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/scoring"
	"github.com/rightsize/rightsize/internal/store"
)

var (
	contactCustom = map[string]string{"persona": "text", "seats": "number", "trial": "bool", "signup": "date", "plan": "enum"}
	accountCustom = map[string]string{"tier": "enum"}
)

func ptr[T any](v T) *T { return &v }

// Every operator on every field type, against one contact at one account.
func TestFitRules(t *testing.T) {
	c := &model.Contact{Email: "ann@acme.com", Title: "VP of Sales", Source: "webinar",
		Custom: model.Custom{"persona": "Economic Buyer", "seats": 12.0, "trial": true, "signup": "2024-03-05"}}
	a := &model.Account{Segment: "enterprise", Industry: "Software", Region: "EMEA", Motion: "high_touch", Employees: ptr[int64](1500),
		Custom: model.Custom{"tier": "gold"}}
	cases := []struct {
		field, op string
		value     any
		want      bool
	}{
		{"title", "contains", "vp", true},
		{"title", "contains", "CFO", false},
		{"title", "not_contains", "cfo", true},
		{"title", "starts_with", "VP", true},
		{"title", "starts_with", "of", false},
		{"title", "eq", "vp of sales", true},
		{"title", "ne", "VP of Sales", false},
		{"email", "contains", "@acme.com", true},
		{"source", "in", []any{"Webinar", "event"}, true},
		{"source", "in", "event, referral", false},
		{"source", "not_in", "event,referral", true},
		{"segment", "eq", "Enterprise", true},
		{"industry", "in", []string{"software", "fintech"}, true},
		{"region", "ne", "NA", true},
		{"motion", "eq", "digital", false},
		{"employees", "gte", 1000.0, true},
		{"employees", "gt", "1500", false},
		{"employees", "lt", 100, false},
		{"employees", "lte", 1500, true},
		{"employees", "eq", 1500, true},
		{"employees", "ne", 1500, false},
		{"annual_revenue", "empty", nil, true},
		{"annual_revenue", "not_empty", nil, false},
		{"annual_revenue", "gt", 0, false}, // no value: an ordering never holds
		{"budget", "ne", 5, true},          // no value: "is not 5" holds
		{"employees", "not_empty", "", true},
		{"custom.persona", "contains", "buyer", true},
		{"custom.plan", "empty", nil, true},
		{"custom.plan", "not_in", "pro", true},
		{"custom.seats", "gte", "10", true},
		{"custom.seats", "lt", 10, false},
		{"custom.trial", "eq", true, true},
		{"custom.trial", "ne", "true", false},
		{"custom.signup", "gte", "2024-01-01", true},
		{"custom.signup", "lt", "2024-03-05", false},
		{"custom.signup", "eq", "2024-03-05", true},
		{"account.custom.tier", "eq", "GOLD", true},
		{"account.custom.tier", "in", "silver,bronze", false},
	}
	for _, tc := range cases {
		cfg := scoring.DefaultConfig()
		cfg.FitRules = []scoring.FitRule{{Field: tc.field, Op: tc.op, Value: tc.value, Points: 7}}
		if err := cfg.Validate(contactCustom, accountCustom); err != nil {
			t.Errorf("%s %s %v: %v", tc.field, tc.op, tc.value, err)
			continue
		}
		got, hits := cfg.Fit(c, a)
		if (got == 7) != tc.want || (len(hits) == 1) != tc.want {
			t.Errorf("%s %s %v: fit %v hits %v, want match %v", tc.field, tc.op, tc.value, got, hits, tc.want)
		}
	}
	// Account fields of a contact without an account are empty.
	cfg := scoring.DefaultConfig()
	cfg.FitRules = []scoring.FitRule{
		{Field: "industry", Op: "empty", Points: -5},
		{Field: "employees", Op: "gte", Value: 1, Points: 10},
		{Field: "title", Op: "contains", Value: "VP", Points: 15, Label: "Senior title"},
	}
	if err := cfg.Validate(nil, nil); err != nil {
		t.Fatal(err)
	}
	fit, hits := cfg.Fit(c, nil)
	if fit != 10 || len(hits) != 2 || hits[0].Label != "industry is empty" || hits[1].Label != "Senior title" {
		t.Fatalf("no account: %v %+v", fit, hits)
	}
	if got := cfg.FitRules[1].Label; got != "employees ≥ 1" {
		t.Fatalf("default label %q", got)
	}
}

// A bad setting is a FieldError naming it, down to the rule and its part.
func TestConfigValidation(t *testing.T) {
	rule := func(f, op string, v any, pts float64) scoring.FitRule {
		return scoring.FitRule{Field: f, Op: op, Value: v, Points: pts}
	}
	good := rule("title", "contains", "VP", 15)
	cases := []struct {
		name  string
		edit  func(c *scoring.Config)
		field string
	}{
		{"half-life too short", func(c *scoring.Config) { c.HalfLifeSeconds = 60 }, "half_life_seconds"},
		{"half-life too long", func(c *scoring.Config) { c.HalfLifeSeconds = 400 * 86400 }, "half_life_seconds"},
		{"threshold zero", func(c *scoring.Config) { c.MQLThreshold = 0 }, "mql_threshold"},
		{"no kinds", func(c *scoring.Config) { c.EventWeights = nil }, "event_weights"},
		{"negative weight", func(c *scoring.Config) { c.EventWeights["page_view"] = -1 }, "event_weights.page_view"},
		{"weight too high", func(c *scoring.Config) { c.EventWeights["demo_request"] = 5000 }, "event_weights.demo_request"},
		{"bad kind name", func(c *scoring.Config) { c.EventWeights["Page-View"] = 1 }, "event_weights.Page-View"},
		{"unknown op", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{good, rule("title", "like", "VP", 5)} }, "fit_rules[1].op"},
		{"missing op", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("title", "", "VP", 5)} }, "fit_rules[0].op"},
		{"ordering on text", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("industry", "gt", "a", 5)} }, "fit_rules[0].op"},
		{"contains on a number", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("employees", "contains", "1", 5)} }, "fit_rules[0].op"},
		{"unknown field", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{good, good, rule("password", "eq", "x", 5)} }, "fit_rules[2].field"},
		{"missing field", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("", "eq", "x", 5)} }, "fit_rules[0].field"},
		{"unknown custom field", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("custom.nope", "eq", "x", 5)} }, "fit_rules[0].field"},
		{"account custom as contact custom", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("custom.tier", "eq", "x", 5)} }, "fit_rules[0].field"},
		{"missing value", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("title", "eq", nil, 5)} }, "fit_rules[0].value"},
		{"number for text", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("title", "eq", 3.0, 5)} }, "fit_rules[0].value"},
		{"text for number", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("employees", "gte", "lots", 5)} }, "fit_rules[0].value"},
		{"bad bool", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("custom.trial", "eq", "maybe", 5)} }, "fit_rules[0].value"},
		{"bad date", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("custom.signup", "gt", "05/03/2024", 5)} }, "fit_rules[0].value"},
		{"empty in list", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("region", "in", " , ", 5)} }, "fit_rules[0].value"},
		{"value with empty", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("region", "empty", "EMEA", 5)} }, "fit_rules[0].value"},
		{"zero points", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("title", "contains", "VP", 0)} }, "fit_rules[0].points"},
		{"too many points", func(c *scoring.Config) { c.FitRules = []scoring.FitRule{rule("title", "contains", "VP", 5000)} }, "fit_rules[0].points"},
		{"long label", func(c *scoring.Config) {
			r := good
			r.Label = string(make([]byte, 201))
			c.FitRules = []scoring.FitRule{r}
		}, "fit_rules[0].label"},
		{"too many rules", func(c *scoring.Config) { c.FitRules = make([]scoring.FitRule, 101) }, "fit_rules"},
	}
	for _, tc := range cases {
		cfg := scoring.DefaultConfig()
		tc.edit(&cfg)
		err := cfg.Validate(contactCustom, accountCustom)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: got %v, want a FieldError on %s", tc.name, err, tc.field)
		}
	}
	cfg := scoring.DefaultConfig()
	if err := cfg.Validate(nil, nil); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if cfg.HalfLifeSeconds != 14*86400 || cfg.MQLThreshold != 50 || cfg.EventWeights["pricing_page_view"] != 10 || cfg.EventWeights["trial_activity"] != 15 || len(cfg.EventWeights) != 7 {
		t.Fatalf("defaults: %+v", cfg)
	}
}
