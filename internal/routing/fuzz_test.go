package routing_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
)

// fuzzFields are the fields a fuzzed condition tests: every standard field
// and one account custom field of each type.
var fuzzFields = []string{"employees", "annual_revenue", "budget", "expected_acv", "region", "industry",
	"custom.tier", "custom.score", "custom.since", "custom.vip", "custom.plan"}

var fuzzTypes = map[string]string{"tier": "text", "score": "number", "since": "date", "vip": "bool", "plan": "enum"}

// negation pairs: for an account that has the field, exactly one of op and its
// negation matches; for one that lacks it, neither does.
var negation = map[string]string{"eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte"}

// FuzzRuleConditions sends one fuzzed condition (any field, operator and
// JSON value) through the way rules live: Validate with the workspace's custom
// field types, stored as JSON, loaded with Compile, evaluated against a fuzzed
// account. Properties: a refused condition is a FieldError naming the
// condition's field, op or value; an accepted one always loads back (Compile
// never refuses what Validate stored), validates to the same normal form
// again, and evaluates the same before and after storing; eq/ne, lt/gte and
// lte/gt split accounts that have the value and match none that lack it;
// "in [x]" matches exactly what "eq x" does; the reason and inputs render.
// Seeds: testdata/fuzz/FuzzRuleConditions.
func FuzzRuleConditions(f *testing.F) {
	f.Add(uint8(0), "gte", `1000`, int64(1200), true, "EMEA", `"2024-01-01"`)
	f.Add(uint8(4), "in", `["EMEA","apac"]`, int64(0), false, "Emea", `null`)
	f.Add(uint8(6), "contains", `"2024-01-01"`, int64(5), true, "", `"tier 2024-01-01"`)
	f.Add(uint8(6), "in", `["2024-01-01","gold"]`, int64(5), true, "", `"gold"`)
	f.Add(uint8(7), "lt", `"1,000.5"`, int64(5), true, "", `999`)
	f.Add(uint8(8), "gte", `"2024-02-29"`, int64(5), true, "", `"2024-03-01"`)
	f.Add(uint8(9), "eq", `"yes"`, int64(5), true, "", `true`)
	f.Add(uint8(1), "empty", `false`, int64(-1), true, "", `{}`)
	f.Add(uint8(2), "eq", `1e300`, int64(1<<62), true, "", `[]`)
	f.Add(uint8(5), "ne", `"Software\u0000"`, int64(0), false, "software", `""`)
	f.Fuzz(func(t *testing.T, fieldSel uint8, op, valueJSON string, emp int64, hasEmp bool, text, customJSON string) {
		var value any
		if json.Unmarshal([]byte(valueJSON), &value) != nil {
			value = valueJSON // a bare string
		}
		field := fuzzFields[int(fieldSel)%len(fuzzFields)]
		acct := &model.Account{Region: text, Industry: text, Currency: "USD", Custom: model.Custom{}}
		if hasEmp {
			acct.Employees, acct.AnnualRevenue, acct.Budget = &emp, &emp, &emp
		}
		var cv any
		if json.Unmarshal([]byte(customJSON), &cv) == nil && cv != nil {
			key := strings.TrimPrefix(field, "custom.")
			acct.Custom[key] = cv
		}
		var acv *int64
		if hasEmp {
			acv = &emp
		}

		c := model.Condition{Field: field, Op: op, Value: value}
		set, err := validateOne(c)
		if err != nil {
			var fe *store.FieldError
			if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "segment_rules[0].conditions[0].") {
				t.Fatalf("%+v refused with %v, not a field error on the condition", c, err)
			}
			return
		}
		stored := roundTrip(t, set)
		rs, err := routing.Compile(stored.SegmentRules, stored.RoutingRules)
		if err != nil {
			t.Fatalf("%+v validated to %+v but does not load: %v", c, set.SegmentRules[0].Conditions, err)
		}
		again, err := routing.Validate(stored, fuzzTypes)
		if err != nil || !reflect.DeepEqual(roundTrip(t, again), stored) {
			t.Fatalf("normal form %+v does not validate to itself: %+v %v", stored.SegmentRules[0].Conditions, again, err)
		}
		d := rs.Evaluate(acct, acv)
		if d.Segment != "hit" && d.Segment != "miss" || d.Motion != "digital" || d.Reason == "" {
			t.Fatalf("decision %+v", d)
		}
		if raw, err := json.Marshal(d.Inputs); err != nil || !json.Valid(raw) {
			t.Fatalf("inputs %s %v", raw, err)
		}
		hit := d.Segment == "hit"
		norm := stored.SegmentRules[0].Conditions[0]
		present := !matches(t, model.Condition{Field: field, Op: "empty", Value: true}, acct, acv)
		if key, ok := strings.CutPrefix(field, "custom."); ok && !readsAs(fuzzTypes[key], acct.Custom[key]) {
			// A value that is not of the field's type (a field deleted and
			// defined again with another type) is there for empty, and
			// missing for every comparison.
			present = false
		}
		if neg, ok := negation[norm.Op]; ok {
			other := matches(t, model.Condition{Field: field, Op: neg, Value: norm.Value}, acct, acv)
			if present && hit == other || !present && (hit || other) {
				t.Fatalf("%+v = %v and %s = %v on %+v (present %v)", norm, hit, neg, other, acct, present)
			}
		}
		if norm.Op == "eq" && field != "custom.vip" { // in does not apply to true/false
			if in := matches(t, model.Condition{Field: field, Op: "in", Value: []any{norm.Value}}, acct, acv); in != hit {
				t.Fatalf("eq %v = %v but in [%v] = %v", norm.Value, hit, norm.Value, in)
			}
		}
	})
}

// readsAs reports whether a stored custom value is one of type typ, as the
// CRM writes them: numbers as numbers (or numeric text), true/false as
// booleans (or yes/no/1/0 text); any value reads as text, a date or an enum.
func readsAs(typ string, v any) bool {
	switch typ {
	case "number":
		switch x := v.(type) {
		case float64:
			return true
		case string:
			f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(x), ",", ""), 64)
			return err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
		}
		return false
	case "bool":
		switch x := v.(type) {
		case bool:
			return true
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "1", "false", "no", "0":
				return true
			}
		}
		return false
	}
	return true
}

// validateOne wraps c in the smallest valid rule set: one segment rule with c,
// the catch-all, and a catch-all routing rule.
func validateOne(c model.Condition) (routing.RuleSet, error) {
	return routing.Validate(routing.RuleSet{
		SegmentRules: []model.SegmentRule{{Segment: "hit", Conditions: []model.Condition{c}}, {Segment: "miss", CatchAll: true}},
		RoutingRules: []model.RoutingRule{{Motion: "digital"}},
	}, fuzzTypes)
}

func roundTrip(t *testing.T, set routing.RuleSet) routing.RuleSet {
	t.Helper()
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var out routing.RuleSet
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// matches evaluates c alone on the account after validating and storing it;
// callers only build variants whose operator applies to the field's kind and
// whose value the original condition already had, so a refusal is a failure.
func matches(t *testing.T, c model.Condition, a *model.Account, acv *int64) bool {
	t.Helper()
	set, err := validateOne(c)
	if err != nil {
		t.Fatalf("variant %+v refused: %v", c, err)
	}
	stored := roundTrip(t, set)
	rs, err := routing.Compile(stored.SegmentRules, stored.RoutingRules)
	if err != nil {
		t.Fatalf("variant %+v does not load: %v", c, err)
	}
	return rs.Evaluate(a, acv).Segment == "hit"
}
