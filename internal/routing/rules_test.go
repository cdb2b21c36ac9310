package routing_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
)

func ptr[T any](v T) *T { return &v }

func defaults(t *testing.T) *routing.Ruleset {
	t.Helper()
	rs, err := routing.Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// compile validates set the way SaveRules does, then round-trips it through JSON
// as the store would, so every test also covers loading stored rules.
func compile(t *testing.T, set routing.RuleSet, types map[string]string) *routing.Ruleset {
	t.Helper()
	norm, err := routing.Validate(set, types)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	raw, err := json.Marshal(norm)
	if err != nil {
		t.Fatal(err)
	}
	var stored routing.RuleSet
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	rs, err := routing.Compile(stored.SegmentRules, stored.RoutingRules)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return rs
}

func TestDefaultRules(t *testing.T) {
	rs := defaults(t)
	cases := []struct {
		employees *int64
		segment   string
		motion    string
		pipeline  string
		policy    string
	}{
		{nil, "unknown", "digital", "digital", "round_robin"},
		{ptr[int64](0), "smb", "digital", "digital", "round_robin"},
		{ptr[int64](99), "smb", "digital", "digital", "round_robin"},
		{ptr[int64](100), "mid_market", "digital", "digital", "round_robin"},
		{ptr[int64](999), "mid_market", "digital", "digital", "round_robin"},
		{ptr[int64](1000), "enterprise", "high_touch", "high_touch", "territory"},
		{ptr[int64](250000), "enterprise", "high_touch", "high_touch", "territory"},
	}
	for _, c := range cases {
		d := rs.Evaluate(&model.Account{Employees: c.employees}, nil)
		if d.Segment != c.segment || d.Motion != c.motion || d.Pipeline != c.pipeline || d.Policy != c.policy {
			t.Errorf("employees %v: got %s/%s/%s/%s, want %s/%s/%s/%s", show(c.employees), d.Segment, d.Motion, d.Pipeline, d.Policy, c.segment, c.motion, c.pipeline, c.policy)
		}
	}
	d := rs.Evaluate(&model.Account{Employees: ptr[int64](1200)}, nil)
	if want := "employees 1,200 ≥ 1,000 → enterprise (default segment rule 3); enterprise → high_touch (default routing rule 3)"; d.Reason != want {
		t.Errorf("reason:\n got %q\nwant %q", d.Reason, want)
	}
	if d.SegmentRule.Position != 3 || !d.SegmentRule.Default || d.SegmentRule.ID != 0 || d.RoutingRule.Position != 3 || d.Team != "enterprise" {
		t.Errorf("rule refs: %+v", d)
	}
	if raw, _ := json.Marshal(d.Inputs); string(raw) != `{"employees":1200}` {
		t.Errorf("inputs %s", raw)
	}
	d = rs.Evaluate(&model.Account{Employees: ptr[int64](500)}, nil)
	if want := "employees 500 ≥ 100 and employees 500 < 1,000 → mid_market (default segment rule 2); mid_market → digital (default routing rule 2)"; d.Reason != want {
		t.Errorf("reason:\n got %q\nwant %q", d.Reason, want)
	}
	d = rs.Evaluate(&model.Account{}, nil)
	if want := "no segment rule matched (employees unknown) → unknown (default segment rule 4, catch-all); any segment → digital (default routing rule 4, catch-all)"; d.Reason != want {
		t.Errorf("reason:\n got %q\nwant %q", d.Reason, want)
	}
	if raw, _ := json.Marshal(d.Inputs); string(raw) != `{"employees":null}` {
		t.Errorf("inputs %s", raw)
	}
}

func show(p *int64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func cond(field, op string, v any) routing.Condition {
	return routing.Condition{Field: field, Op: op, Value: v}
}

func catchAll(seg string) model.SegmentRule {
	return model.SegmentRule{Segment: seg, CatchAll: true}
}

func anyRoute(motion string) model.RoutingRule {
	return model.RoutingRule{Motion: motion}
}

// Ordered rules: the first match wins even when a later rule matches too, and
// the catch-all takes what nothing else did.
func TestFirstMatchWinsAndCatchAll(t *testing.T) {
	rs := compile(t, routing.RuleSet{
		SegmentRules: []model.SegmentRule{
			{Segment: "strategic", Conditions: []routing.Condition{cond("custom.tier", "eq", "Gold")}},
			{Segment: "enterprise", Conditions: []routing.Condition{cond("annual_revenue", "gte", 100_000_000_00)}},
			{Segment: "enterprise", Conditions: []routing.Condition{cond("employees", "gte", 500)}},
			{Segment: "smb", Conditions: []routing.Condition{cond("employees", "lt", 500)}},
			catchAll("smb"),
		},
		RoutingRules: []model.RoutingRule{
			{Segment: "enterprise", Conditions: []routing.Condition{cond("region", "in", []any{"EMEA", "APAC"})}, Motion: "high_touch", Team: "intl", Policy: "territory"},
			{Segment: "enterprise", Motion: "high_touch", Team: "na", Policy: "territory"},
			{Segment: "strategic", Motion: "high_touch", Policy: "owner_keeps"},
			anyRoute("digital"),
		},
	}, map[string]string{"tier": "enum"})
	cases := []struct {
		name    string
		a       model.Account
		segment string
		motion  string
		team    string
		segPos  int
		routPos int
	}{
		{"tier wins over size", model.Account{Employees: ptr[int64](5000), Custom: model.Custom{"tier": "gold"}}, "strategic", "high_touch", "", 1, 3},
		{"revenue before employees", model.Account{Employees: ptr[int64](20), AnnualRevenue: ptr[int64](200_000_000_00)}, "enterprise", "high_touch", "na", 2, 2},
		{"employees", model.Account{Employees: ptr[int64](800), Region: "emea"}, "enterprise", "high_touch", "intl", 3, 1},
		{"small", model.Account{Employees: ptr[int64](30)}, "smb", "digital", "", 4, 4},
		{"catch-all", model.Account{Region: "EMEA"}, "smb", "digital", "", 5, 4},
	}
	for _, c := range cases {
		d := rs.Evaluate(&c.a, nil)
		if d.Segment != c.segment || d.Motion != c.motion || d.Team != c.team || d.SegmentRule.Position != c.segPos || d.RoutingRule.Position != c.routPos {
			t.Errorf("%s: got %s/%s team %q rules %d,%d; want %s/%s team %q rules %d,%d (%s)", c.name, d.Segment, d.Motion, d.Team, d.SegmentRule.Position, d.RoutingRule.Position, c.segment, c.motion, c.team, c.segPos, c.routPos, d.Reason)
		}
	}
	d := rs.Evaluate(&model.Account{Employees: ptr[int64](800), Region: "EMEA", Currency: "USD"}, nil)
	if want := "employees 800 ≥ 500 → enterprise (segment rule 3); enterprise, region EMEA in [EMEA, APAC] → high_touch (routing rule 1)"; d.Reason != want {
		t.Errorf("reason:\n got %q\nwant %q", d.Reason, want)
	}
	d = rs.Evaluate(&model.Account{Employees: ptr[int64](20), AnnualRevenue: ptr[int64](200_000_000_00), Currency: "USD"}, nil)
	if want := "annual_revenue 200,000,000 USD ≥ 100,000,000 → enterprise (segment rule 2); enterprise → high_touch (routing rule 2)"; d.Reason != want {
		t.Errorf("reason:\n got %q\nwant %q", d.Reason, want)
	}
	if raw, _ := json.Marshal(d.Inputs); string(raw) != `{"custom.tier":null,"annual_revenue":20000000000,"employees":20,"region":null}` {
		t.Errorf("inputs %s", raw)
	}
}

// Every operator on every kind of field, including missing values.
func TestOperators(t *testing.T) {
	types := map[string]string{"seats": "number", "plan": "text", "tier": "enum", "renewal": "date", "partner": "bool"}
	acct := model.Account{
		Employees: ptr[int64](250), AnnualRevenue: ptr[int64](5_000_000_00), Budget: nil,
		Region: "EMEA", Industry: "Financial Software",
		Custom: model.Custom{"seats": 12.5, "plan": "Pro Annual", "tier": "gold", "renewal": "2025-06-30", "partner": true},
	}
	acv := ptr[int64](42_000_00)
	cases := []struct {
		c    routing.Condition
		want bool
	}{
		{cond("employees", "eq", 250), true},
		{cond("employees", "eq", "250"), true},
		{cond("employees", "ne", 250), false},
		{cond("employees", "lt", 250), false},
		{cond("employees", "lte", 250), true},
		{cond("employees", "gt", 249), true},
		{cond("employees", "gte", 251), false},
		{cond("employees", "in", []any{100, 250}), true},
		{cond("employees", "in", "100, 1,000"), false},
		{cond("employees", "empty", true), false},
		{cond("employees", "empty", false), true},
		{cond("annual_revenue", "gte", 5_000_000_00), true},
		{cond("annual_revenue", "lt", 5_000_000_00), false},
		{cond("budget", "empty", nil), true},
		{cond("budget", "gt", 0), false}, // missing fails every comparison
		{cond("budget", "ne", 0), false},
		{cond("expected_acv", "gte", 40_000_00), true},
		{cond("expected_acv", "gt", 42_000_00), false},
		{cond("region", "eq", "emea"), true},
		{cond("region", "ne", "EMEA"), false},
		{cond("region", "in", []any{"NA", "emea"}), true},
		{cond("region", "in", "NA,APAC"), false},
		{cond("region", "contains", "me"), true},
		{cond("industry", "contains", "SOFTWARE"), true},
		{cond("industry", "contains", "hardware"), false},
		{cond("industry", "empty", false), true},
		{cond("custom.seats", "gt", 12), true},
		{cond("custom.seats", "lte", 12.4), false},
		{cond("custom.seats", "eq", "12.5"), true},
		{cond("custom.seats", "in", []any{1, 12.5}), true},
		{cond("custom.plan", "contains", "annual"), true},
		{cond("custom.plan", "eq", "pro annual"), true},
		{cond("custom.tier", "in", []any{"silver", "GOLD"}), true},
		{cond("custom.tier", "ne", "gold"), false},
		{cond("custom.renewal", "lt", "2025-07-01"), true},
		{cond("custom.renewal", "gte", "2025-07-01"), false},
		{cond("custom.renewal", "eq", "2025-06-30"), true},
		{cond("custom.partner", "eq", true), true},
		{cond("custom.partner", "ne", "yes"), false},
		{cond("custom.partner", "empty", false), true},
		{cond("custom.missing_key", "empty", true), true},
	}
	types["missing_key"] = "text"
	for _, c := range cases {
		rs := compile(t, routing.RuleSet{SegmentRules: []model.SegmentRule{
			{Segment: "hit", Conditions: []routing.Condition{c.c}}, catchAll("miss"),
		}}, types)
		d := rs.Evaluate(&acct, acv)
		if got := d.Segment == "hit"; got != c.want {
			t.Errorf("%s %s %v: got %v, want %v (%s)", c.c.Field, c.c.Op, c.c.Value, got, c.want, d.Reason)
		}
	}
}

// Validation names the offending element precisely and says what would be right.
func TestValidationErrors(t *testing.T) {
	types := map[string]string{"tier": "enum", "seats": "number", "vip": "bool"}
	seg := func(rules ...model.SegmentRule) routing.RuleSet { return routing.RuleSet{SegmentRules: rules} }
	rule := func(s string, cs ...routing.Condition) model.SegmentRule {
		return model.SegmentRule{Segment: s, Conditions: cs}
	}
	ok := rule("smb", cond("employees", "lt", 100))
	cases := []struct {
		name  string
		set   routing.RuleSet
		field string
		msg   string
	}{
		{"unknown field", seg(ok, rule("x", cond("employes", "gt", 1)), catchAll("y")), "segment_rules[1].conditions[0].field", `unknown field "employes"`},
		{"missing field", seg(rule("x", cond("", "gt", 1)), catchAll("y")), "segment_rules[0].conditions[0].field", "is required"},
		{"unknown op", seg(ok, ok, rule("x", cond("employees", "gt", 1), cond("region", "like", "E%")), catchAll("y")), "segment_rules[2].conditions[1].op", `unknown operator "like"`},
		{"op for kind", seg(rule("x", cond("region", "gt", "A")), catchAll("y")), "segment_rules[0].conditions[0].op", "gt does not apply to region, which is text"},
		{"contains on number", seg(rule("x", cond("employees", "contains", "1")), catchAll("y")), "segment_rules[0].conditions[0].op", "contains does not apply to employees"},
		{"bad number", seg(ok, ok, rule("x", cond("employees", "gte", "lots")), catchAll("y")), "segment_rules[2].conditions[0].value", `"lots" is not a whole number`},
		{"fraction", seg(rule("x", cond("employees", "gte", 10.5)), catchAll("y")), "segment_rules[0].conditions[0].value", "10.5 is not a whole number"},
		{"past 2^53", seg(rule("x", cond("budget", "in", []any{"9007199254740993"})), catchAll("y")), "segment_rules[0].conditions[0].value[0]", `"9007199254740993" is too large`},
		{"money hint", seg(rule("x", cond("budget", "gte", "1.5k")), catchAll("y")), "segment_rules[0].conditions[0].value", "minor units"},
		{"in element", seg(rule("x", cond("employees", "in", []any{1, "two"})), catchAll("y")), "segment_rules[0].conditions[0].value[1]", `"two" is not a whole number`},
		{"in empty", seg(rule("x", cond("region", "in", []any{})), catchAll("y")), "segment_rules[0].conditions[0].value", "at least one value"},
		{"invalid UTF-8", seg(rule("x", cond("region", "in", []any{"EMEA", "caf\xe9"})), catchAll("y")), "segment_rules[0].conditions[0].value[1]", "must be valid UTF-8 text"},
		{"NUL", seg(rule("x", cond("industry", "eq", "soft\x00ware")), catchAll("y")), "segment_rules[0].conditions[0].value", "must not contain a NUL"},
		{"empty text", seg(rule("x", cond("region", "eq", " ")), catchAll("y")), "segment_rules[0].conditions[0].value", "use the empty operator"},
		{"empty flag", seg(rule("x", cond("region", "empty", "maybe")), catchAll("y")), "segment_rules[0].conditions[0].value", "empty takes true"},
		{"no such custom", seg(rule("x", cond("custom.nope", "eq", "a")), catchAll("y")), "segment_rules[0].conditions[0].field", `no account custom field "nope"`},
		{"bad custom key", seg(rule("x", cond("custom.Bad-Key", "eq", "a")), catchAll("y")), "segment_rules[0].conditions[0].field", "not a custom field key"},
		{"custom number", seg(rule("x", cond("custom.seats", "gt", "many")), catchAll("y")), "segment_rules[0].conditions[0].value", `"many" is not a number`},
		{"custom bool op", seg(rule("x", cond("custom.vip", "gt", true)), catchAll("y")), "segment_rules[0].conditions[0].op", "gt does not apply to custom.vip, which is true or false"},
		{"custom bool value", seg(rule("x", cond("custom.vip", "eq", "sometimes")), catchAll("y")), "segment_rules[0].conditions[0].value", "not true or false"},
		{"segment name", seg(rule("Big Co", cond("employees", "gt", 1)), catchAll("y")), "segment_rules[0].segment", "a segment starts with a-z"},
		{"segment required", seg(rule("", cond("employees", "gt", 1)), catchAll("y")), "segment_rules[0].segment", "is required"},
		{"no catch-all", seg(ok), "segment_rules[0].catch_all", "the last rule must be the catch-all"},
		{"catch-all not last", seg(catchAll("y"), ok), "segment_rules[0].catch_all", "only the last rule"},
		{"catch-all with conditions", seg(ok, model.SegmentRule{Segment: "y", CatchAll: true, Conditions: []routing.Condition{cond("employees", "gt", 1)}}), "segment_rules[1].conditions", "takes no conditions"},
		{"rule without conditions", seg(rule("x"), catchAll("y")), "segment_rules[0].conditions", "only the last (catch-all) rule may have none"},
		{"route segment unknown", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "enterprize", Motion: "high_touch"}, anyRoute("digital")}}, "routing_rules[0].segment", `no segment rule assigns "enterprize" (segments: smb, mid_market, enterprise, unknown`},
		{"route motion", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "smb", Motion: "outbound"}, anyRoute("digital")}}, "routing_rules[0].motion", `"outbound" is not a motion`},
		{"route motion required", routing.RuleSet{RoutingRules: []model.RoutingRule{anyRoute("")}}, "routing_rules[0].motion", "is required"},
		{"route pipeline", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "smb", Motion: "digital", Pipeline: "plg"}, anyRoute("digital")}}, "routing_rules[0].pipeline", `"plg" is not a pipeline`},
		{"route policy", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "smb", Motion: "digital", Policy: "random"}, anyRoute("digital")}}, "routing_rules[0].assignment_policy", `"random" is not an assignment policy (round_robin, territory, owner_keeps)`},
		{"route condition", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "smb", Motion: "digital", Conditions: []routing.Condition{cond("budget", "gte", -1.5)}}, anyRoute("digital")}}, "routing_rules[0].conditions[0].value", "not a whole number"},
		{"route no catch-all", routing.RuleSet{RoutingRules: []model.RoutingRule{{Segment: "smb", Motion: "digital"}}}, "routing_rules[0]", "the last rule must match any segment"},
		{"route catch-all early", routing.RuleSet{RoutingRules: []model.RoutingRule{anyRoute("digital"), anyRoute("high_touch")}}, "routing_rules[0]", "make it the last rule"},
	}
	for _, c := range cases {
		_, err := routing.Validate(c.set, types)
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: want a FieldError, got %v", c.name, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%s: got %s: %s\nwant %s: …%s…", c.name, fe.Field, fe.Message, c.field, c.msg)
		}
	}
	// Too many rules and conditions.
	many := make([]model.SegmentRule, routing.MaxRules+1)
	if _, err := routing.Validate(seg(many...), nil); err == nil || !strings.Contains(err.Error(), "segment_rules: at most 100 rules") {
		t.Errorf("too many rules: %v", err)
	}
	var cs []routing.Condition
	for range routing.MaxConditions + 1 {
		cs = append(cs, cond("employees", "gt", 1))
	}
	if _, err := routing.Validate(seg(rule("x", cs...), catchAll("y")), nil); err == nil || !strings.Contains(err.Error(), "segment_rules[0].conditions: at most 20") {
		t.Errorf("too many conditions: %v", err)
	}
}

// Validate normalises what it accepts: operators lower-cased, numbers typed,
// comma lists split, pipeline and policy defaulted.
func TestValidateNormalises(t *testing.T) {
	out, err := routing.Validate(routing.RuleSet{
		SegmentRules: []model.SegmentRule{
			{Segment: " big ", Conditions: []routing.Condition{cond(" employees ", "GTE", "1,000"), cond("region", "in", "EMEA, APAC")}},
			catchAll("small"),
		},
		RoutingRules: []model.RoutingRule{{Segment: "big", Motion: "HIGH_TOUCH"}, anyRoute("digital")},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out.SegmentRules[0].Conditions)
	if string(got) != `[{"field":"employees","op":"gte","value":1000},{"field":"region","op":"in","value":["EMEA","APAC"]}]` {
		t.Errorf("conditions %s", got)
	}
	r := out.RoutingRules[0]
	if out.SegmentRules[0].Segment != "big" || r.Motion != "high_touch" || r.Pipeline != "high_touch" || r.Policy != "round_robin" || r.Position != 1 {
		t.Errorf("normalised: %+v %+v", out.SegmentRules[0], r)
	}
	if out.DefaultSegmentRules || out.DefaultRoutingRules {
		t.Errorf("default flags: %+v", out)
	}
}
