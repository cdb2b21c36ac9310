package routing

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
)

// SegmentUnknown is the default catch-all segment: an account whose size the rules
// cannot tell (no employee count yet). It is routed to the digital motion, the cheap
// default, until its firmographics arrive and re-routing places it.
const SegmentUnknown = "unknown"

// DefaultSegmentRules are the segments of a workspace that stored none
// (PRODUCT.md §2): SMB below 100 employees, mid-market 100–999, enterprise from
// 1,000, and unknown when the employee count is missing.
func DefaultSegmentRules() []model.SegmentRule {
	emp := func(op string, n int64) Condition { return Condition{Field: "employees", Op: op, Value: n} }
	return []model.SegmentRule{
		{Position: 1, Segment: "smb", Conditions: []Condition{emp("lt", 100)}},
		{Position: 2, Segment: "mid_market", Conditions: []Condition{emp("gte", 100), emp("lt", 1000)}},
		{Position: 3, Segment: "enterprise", Conditions: []Condition{emp("gte", 1000)}},
		{Position: 4, Segment: SegmentUnknown, Conditions: []Condition{}, CatchAll: true},
	}
}

// DefaultRoutingRules send SMB and mid-market to the digital funnel (round-robin)
// and enterprise to the high-touch pipeline by territory; anything else (unknown,
// or a segment without a rule) goes digital.
func DefaultRoutingRules() []model.RoutingRule {
	return []model.RoutingRule{
		{Position: 1, Segment: "smb", Conditions: []Condition{}, Motion: "digital", Pipeline: "digital", Team: "smb", Policy: "round_robin"},
		{Position: 2, Segment: "mid_market", Conditions: []Condition{}, Motion: "digital", Pipeline: "digital", Team: "mid_market", Policy: "round_robin"},
		{Position: 3, Segment: "enterprise", Conditions: []Condition{}, Motion: "high_touch", Pipeline: "high_touch", Team: "enterprise", Policy: "territory"},
		{Position: 4, Segment: "", Conditions: []Condition{}, Motion: "digital", Pipeline: "digital", Team: "smb", Policy: "round_robin"},
	}
}

// RuleSet is a workspace's two rule lists as the API shows and saves them. An
// empty list (or Default*) means the built-in defaults.
type RuleSet struct {
	SegmentRules        []model.SegmentRule `json:"segment_rules"`
	RoutingRules        []model.RoutingRule `json:"routing_rules"`
	DefaultSegmentRules bool                `json:"default_segment_rules"`
	DefaultRoutingRules bool                `json:"default_routing_rules"`
}

var segmentRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks set and returns it normalised (trimmed, lower-cased operators,
// typed values, defaults filled in). customTypes maps the workspace's account
// custom field keys to their types. Errors are *store.FieldError naming the
// element, e.g. "segment_rules[2].conditions[0].value".
func Validate(set RuleSet, customTypes map[string]string) (RuleSet, error) {
	return ValidateFor(set, customTypes, nil)
}

// ValidateFor is Validate against a workspace's pipeline keys: a routing rule
// may only send deals to a pipeline the workspace has. nil means the built-in
// pipelines (a workspace that never customised them).
func ValidateFor(set RuleSet, customTypes map[string]string, pipelines []string) (RuleSet, error) {
	if pipelines == nil {
		pipelines = slices.Sorted(maps.Keys(model.Pipelines))
	}
	types := func(k string) (string, bool) { t, ok := customTypes[k]; return t, ok }
	out := RuleSet{SegmentRules: []model.SegmentRule{}, RoutingRules: []model.RoutingRule{}}
	if len(set.SegmentRules) > MaxRules {
		return out, fe("segment_rules", "at most %d rules", MaxRules)
	}
	if len(set.RoutingRules) > MaxRules {
		return out, fe("routing_rules", "at most %d rules", MaxRules)
	}
	segs := set.SegmentRules
	for i, r := range segs {
		path := fmt.Sprintf("segment_rules[%d]", i)
		r.Segment = strings.TrimSpace(r.Segment)
		if r.Segment == "" {
			return out, fe(path+".segment", "is required")
		}
		if !segmentRE.MatchString(r.Segment) {
			return out, fe(path+".segment", "%q: a segment starts with a-z and uses only a-z, 0-9 and _ (at most 64)", r.Segment)
		}
		last := i == len(segs)-1
		switch {
		case r.CatchAll && !last:
			return out, fe(path+".catch_all", "only the last rule may be the catch-all; the rules after it would never apply")
		case r.CatchAll && len(r.Conditions) > 0:
			return out, fe(path+".conditions", "the catch-all matches every account and takes no conditions")
		case !r.CatchAll && last:
			return out, fe(path+".catch_all", "the last rule must be the catch-all (catch_all true, no conditions) so every account gets a segment")
		case !r.CatchAll && len(r.Conditions) == 0:
			return out, fe(path+".conditions", "a rule without conditions matches every account; only the last (catch-all) rule may have none")
		}
		conds, err := validateConditions(path, r.Conditions, types)
		if err != nil {
			return out, err
		}
		out.SegmentRules = append(out.SegmentRules, model.SegmentRule{Position: i + 1, Segment: r.Segment, Conditions: conds, CatchAll: r.CatchAll})
	}
	effective := out.SegmentRules
	if len(effective) == 0 {
		effective = DefaultSegmentRules()
	}
	var known []string
	for _, r := range effective {
		if !contains(known, r.Segment) {
			known = append(known, r.Segment)
		}
	}
	routes := set.RoutingRules
	for i, r := range routes {
		path := fmt.Sprintf("routing_rules[%d]", i)
		r.Segment = strings.TrimSpace(r.Segment)
		if r.Segment != "" && !contains(known, r.Segment) {
			return out, fe(path+".segment", "no segment rule assigns %q (segments: %s; empty means any segment)", r.Segment, strings.Join(known, ", "))
		}
		r.Motion = strings.ToLower(strings.TrimSpace(r.Motion))
		if !model.Contains(model.Motions, r.Motion) {
			if r.Motion == "" {
				return out, fe(path+".motion", "is required (%s)", strings.Join(model.Motions, ", "))
			}
			return out, fe(path+".motion", "%q is not a motion (%s)", r.Motion, strings.Join(model.Motions, ", "))
		}
		r.Pipeline = strings.ToLower(strings.TrimSpace(r.Pipeline))
		if r.Pipeline == "" {
			if !slices.Contains(pipelines, r.Motion) {
				return out, fe(path+".pipeline", "is required: this workspace has no pipeline named after the motion %q (pipelines: %s)", r.Motion, strings.Join(pipelines, ", "))
			}
			r.Pipeline = r.Motion // each motion has the pipeline of its name
		}
		if !slices.Contains(pipelines, r.Pipeline) {
			return out, fe(path+".pipeline", "%q is not a pipeline of this workspace (%s)", r.Pipeline, strings.Join(pipelines, ", "))
		}
		r.Team = strings.TrimSpace(r.Team)
		if len(r.Team) > 64 {
			return out, fe(path+".team", "longer than 64 characters")
		}
		r.Policy = strings.ToLower(strings.TrimSpace(r.Policy))
		if r.Policy == "" {
			r.Policy = "round_robin"
		}
		if !model.Contains(model.AssignmentPolicies, r.Policy) {
			return out, fe(path+".assignment_policy", "%q is not an assignment policy (%s)", r.Policy, strings.Join(model.AssignmentPolicies, ", "))
		}
		matchesAll := r.Segment == "" && len(r.Conditions) == 0
		last := i == len(routes)-1
		if matchesAll && !last {
			return out, fe(path, "matches every account (any segment, no conditions), so the rules after it would never apply; make it the last rule")
		}
		if !matchesAll && last {
			return out, fe(path, "the last rule must match any segment (segment empty) with no conditions, so every account gets a motion")
		}
		conds, err := validateConditions(path, r.Conditions, types)
		if err != nil {
			return out, err
		}
		out.RoutingRules = append(out.RoutingRules, model.RoutingRule{Position: i + 1, Segment: r.Segment, Conditions: conds, Motion: r.Motion, Pipeline: r.Pipeline, Team: r.Team, Policy: r.Policy})
	}
	out.DefaultSegmentRules = len(out.SegmentRules) == 0
	out.DefaultRoutingRules = len(out.RoutingRules) == 0
	return out, nil
}

func validateConditions(path string, in []Condition, types customTypeFunc) ([]Condition, error) {
	if len(in) > MaxConditions {
		return nil, fe(path+".conditions", "at most %d conditions per rule", MaxConditions)
	}
	out := make([]Condition, 0, len(in))
	for j, c := range in {
		cc, err := compileCondition(fmt.Sprintf("%s.conditions[%d]", path, j), c, types)
		if err != nil {
			return nil, err
		}
		out = append(out, cc.src)
	}
	return out, nil
}

// Ruleset is a workspace's rules compiled for evaluation. It is immutable and safe
// for concurrent use.
type Ruleset struct {
	segs            []segRule
	routes          []routeRule
	defaultSegments bool
	defaultRouting  bool
	inputs          []*cond // one per referenced field, in order of first use
	segInputs       []*cond // the subset the segment rules read
	usesACV         bool
}

type segRule struct {
	model.SegmentRule
	conds []cond
	tail  string // " → enterprise (segment rule 3)"
}

type routeRule struct {
	model.RoutingRule
	conds []cond
	ref   RuleRef
	tail  string // " → high_touch (routing rule 1)"
}

// Compile builds a Ruleset from stored rule lists; an empty list means the
// defaults. The lists are expected to have passed Validate when they were saved.
func Compile(segs []model.SegmentRule, routes []model.RoutingRule) (*Ruleset, error) {
	rs := &Ruleset{}
	if len(segs) == 0 {
		segs, rs.defaultSegments = DefaultSegmentRules(), true
	}
	if len(routes) == 0 {
		routes, rs.defaultRouting = DefaultRoutingRules(), true
	}
	seen := map[string]bool{}
	note := func(c *cond, seg bool) {
		if c.id == fExpectedACV {
			rs.usesACV = true
		}
		if !seen[c.field] {
			seen[c.field] = true
			rs.inputs = append(rs.inputs, c)
			if seg {
				rs.segInputs = append(rs.segInputs, c)
			}
		}
	}
	for i, r := range segs {
		sr := segRule{SegmentRule: r}
		ref := RuleRef{ID: r.ID, Position: r.Position, Default: rs.defaultSegments, CatchAll: r.CatchAll}
		sr.tail = " → " + r.Segment + " (" + ref.label("segment") + ")"
		for j, c := range r.Conditions {
			cc, err := compileCondition(fmt.Sprintf("segment_rules[%d].conditions[%d]", i, j), c, nil)
			if err != nil {
				return nil, fmt.Errorf("routing: stored segment rule %d: %w", r.ID, err)
			}
			sr.conds = append(sr.conds, cc)
		}
		rs.segs = append(rs.segs, sr)
	}
	for i, r := range routes {
		rr := routeRule{RoutingRule: r}
		rr.ref = RuleRef{ID: r.ID, Position: r.Position, Default: rs.defaultRouting, CatchAll: r.Segment == "" && len(r.Conditions) == 0}
		rr.tail = " → " + r.Motion + " (" + rr.ref.label("routing") + ")"
		for j, c := range r.Conditions {
			cc, err := compileCondition(fmt.Sprintf("routing_rules[%d].conditions[%d]", i, j), c, nil)
			if err != nil {
				return nil, fmt.Errorf("routing: stored routing rule %d: %w", r.ID, err)
			}
			rr.conds = append(rr.conds, cc)
		}
		rs.routes = append(rs.routes, rr)
	}
	// Pointers into the rule slices are stable from here on.
	for i := range rs.segs {
		for j := range rs.segs[i].conds {
			note(&rs.segs[i].conds[j], true)
		}
	}
	for i := range rs.routes {
		for j := range rs.routes[i].conds {
			note(&rs.routes[i].conds[j], false)
		}
	}
	if n := len(rs.segs); n == 0 || !rs.segs[n-1].CatchAll {
		return nil, fmt.Errorf("routing: stored segment rules end without a catch-all")
	}
	return rs, nil
}

// UsesExpectedACV reports whether any rule reads expected_acv, so callers fetch
// the account's largest open deal only when it matters.
func (rs *Ruleset) UsesExpectedACV() bool { return rs.usesACV }

// RuleRef names the rule that fired. ID is 0 for a built-in default rule.
type RuleRef struct {
	ID       int64 `json:"id,omitempty"`
	Position int   `json:"position"`
	Default  bool  `json:"default,omitempty"`
	CatchAll bool  `json:"catch_all,omitempty"`
}

func (r RuleRef) label(what string) string {
	s := what + " rule " + strconv.Itoa(r.Position)
	if r.Default {
		s = "default " + s
	}
	if r.CatchAll {
		s += ", catch-all"
	}
	return s
}

func (r RuleRef) id() *int64 {
	if r.ID == 0 {
		return nil
	}
	id := r.ID
	return &id
}

// Input is one value a decision looked at; Value is nil when the account lacks it.
type Input struct {
	Field string
	Value any
}

// Inputs marshal as a JSON object in rule order.
type Inputs []Input

// MarshalJSON writes {"employees":1200,"region":"EMEA",…} keeping the order.
func (in Inputs) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, x := range in {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(x.Field)
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// Decision is the outcome of evaluating an account against a Ruleset.
type Decision struct {
	Segment     string  `json:"segment"`
	Motion      string  `json:"motion"`
	Pipeline    string  `json:"pipeline"`
	Team        string  `json:"team"`
	Policy      string  `json:"assignment_policy"`
	SegmentRule RuleRef `json:"segment_rule"`
	RoutingRule RuleRef `json:"routing_rule"`
	Inputs      Inputs  `json:"inputs"`
	// Reason is the sentence a rep reads: "employees 1,200 ≥ 1,000 → enterprise
	// (segment rule 3); enterprise → high_touch (routing rule 1)".
	Reason string `json:"reason"`
}

// Evaluate routes an account: the first segment rule that matches gives the
// segment, then the first routing rule for that segment whose conditions match
// gives the motion, pipeline, team and policy. expectedACV is the account's largest
// open deal amount (nil when it has none or the rules do not read it). Evaluate is
// pure: no I/O, no clock.
func (rs *Ruleset) Evaluate(a *model.Account, expectedACV *int64) Decision {
	x := facts{a: a, acv: expectedACV}
	buf := make([]byte, 0, 192)
	seg, ref, buf := rs.segment(x, buf)
	buf = append(buf, "; "...)
	d, buf := rs.route(x, seg, ref, buf)
	d.Reason = string(buf)
	d.Inputs = rs.values(x)
	return d
}

// segment returns the segment for x and the rule that gave it, appending its part
// of the reason to buf.
func (rs *Ruleset) segment(x facts, buf []byte) (string, RuleRef, []byte) {
	for i := range rs.segs {
		r := &rs.segs[i]
		if !allMatch(r.conds, x) {
			continue
		}
		ref := RuleRef{ID: r.ID, Position: r.Position, Default: rs.defaultSegments, CatchAll: r.CatchAll}
		if r.CatchAll {
			buf = append(buf, "no segment rule matched"...)
			n := 0
			for _, c := range rs.segInputs {
				if !c.get(x).ok {
					if n == 0 {
						buf = append(buf, " ("...)
					} else {
						buf = append(buf, ", "...)
					}
					buf = append(buf, c.field...)
					n++
				}
			}
			if n > 0 {
				buf = append(buf, " unknown)"...)
			}
		} else {
			buf = appendConds(buf, r.conds, x)
		}
		return r.Segment, ref, append(buf, r.tail...)
	}
	return "", RuleRef{}, append(buf, "no segment rule matched"...) // unreachable: Compile insists on a catch-all
}

// route picks the first routing rule for segment seg (ref is the segment rule
// that gave it; zero when the segment was set by hand) whose conditions match,
// appending its part of the reason to buf; the Decision's Reason is left empty.
func (rs *Ruleset) route(x facts, seg string, ref RuleRef, buf []byte) (Decision, []byte) {
	d := Decision{Segment: seg, SegmentRule: ref}
	for i := range rs.routes {
		r := &rs.routes[i]
		if r.Segment != "" && !strings.EqualFold(r.Segment, seg) { // a hand-set segment may be capitalised
			continue
		}
		if !allMatch(r.conds, x) {
			continue
		}
		d.Motion, d.Pipeline, d.Team, d.Policy, d.RoutingRule = r.Motion, r.Pipeline, r.Team, r.Policy, r.ref
		if r.Segment == "" {
			buf = append(buf, "any segment"...)
		} else {
			buf = append(buf, seg...)
		}
		if len(r.conds) > 0 {
			buf = append(buf, ", "...)
			buf = appendConds(buf, r.conds, x)
		}
		return d, append(buf, r.tail...)
	}
	return d, append(append(buf, "no routing rule matched "...), seg...) // unreachable: the last rule matches anything
}

func allMatch(cs []cond, x facts) bool {
	for i := range cs {
		if !cs[i].match(cs[i].get(x)) {
			return false
		}
	}
	return true
}

func appendConds(buf []byte, cs []cond, x facts) []byte {
	for i := range cs {
		if i > 0 {
			buf = append(buf, " and "...)
		}
		buf = cs[i].appendDescribe(buf, cs[i].get(x), x.a.Currency)
	}
	return buf
}

// values lists every field the rules read, with the account's value.
func (rs *Ruleset) values(x facts) Inputs {
	out := make(Inputs, len(rs.inputs))
	for i, c := range rs.inputs {
		out[i] = Input{Field: c.field, Value: rawValue(c, x)}
	}
	return out
}

func rawValue(c *cond, x facts) any {
	switch c.id {
	case fEmployees, fAnnualRevenue, fBudget, fExpectedACV:
		v := c.get(x)
		if !v.ok {
			return nil
		}
		return v.i
	case fRegion, fIndustry:
		v := c.get(x)
		if !v.ok {
			return nil
		}
		return v.s
	}
	v, ok := x.a.Custom[c.key]
	if !ok {
		return nil
	}
	return v
}
