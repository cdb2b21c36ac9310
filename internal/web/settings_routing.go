package web

import (
	"errors"
	"fmt"
	"github.com/rightsize/rightsize/internal/pipeline"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/routing"
	"github.com/rightsize/rightsize/internal/store"
)

// The routing rules editor: ordered segment rules (the catch-all shown apart and
// kept last) and ordered routing rules (the rule for any segment kept last), each
// with rows of field / operator / value conditions. It works without script:
// every rule carries a position number and a remove box, and one blank condition
// and one blank rule wait to be filled in. app.js adds move buttons. Saving calls
// routing.Service.SaveRules, the API's path, and the routing package's field
// errors ("segment_rules[2].conditions[0].value") land next to their input.

// condRow is one condition as typed (kept as text so a bad value is shown back).
type condRow struct{ Key, Field, Op, Value string }

// ruleRow is a segment rule or a routing rule as typed.
type ruleRow struct {
	Key                            string // form name prefix: seg-3, route-0, segca, routedef
	Pos                            int
	Segment                        string
	Motion, Pipeline, Team, Policy string // routing rules only
	Conds                          []condRow
	New                            bool   // the blank row for a new rule
	PosErr                         string // the position typed is not a number
}

type routingPage struct {
	Segs     []ruleRow
	CatchAll ruleRow // the last segment rule: no conditions
	Routes   []ruleRow
	Fallback ruleRow // the last routing rule: any segment, no conditions
	Default  bool    // the workspace uses the built-in rules
	Errors   map[string]string
	Err      string
	ReadOnly bool
	Fields   []option
	Ops      []option
	Motions  []option
	Pipes    []option
	Policies []option
	SegNames []string
}

var routingOps = []option{
	{"eq", "="}, {"ne", "≠"}, {"lt", "<"}, {"lte", "≤"}, {"gt", ">"}, {"gte", "≥"},
	{"in", "is one of (a, b, …)"}, {"contains", "contains"}, {"empty", "is empty (true/false)"},
}

func (u *UI) routingSettings(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := u.d.Routing.Rules(r.Context(), s.WS())
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p := pageFromRuleSet(set)
	p.ReadOnly = !s.CanManage
	u.showRouting(w, r, s, http.StatusOK, p)
}

func (u *UI) showRouting(w http.ResponseWriter, r *http.Request, s *session, status int, p routingPage) {
	defs, err := u.d.St.Read().CustomFields(r.Context(), s.WS(), "account")
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	p.Fields = []option{{"employees", "Employees"}, {"annual_revenue", "Annual revenue (minor units)"}, {"budget", "Budget (minor units)"},
		{"expected_acv", "Expected ACV (minor units)"}, {"region", "Region"}, {"industry", "Industry"}}
	for _, d := range defs {
		p.Fields = append(p.Fields, option{"custom." + d.Key, d.Label + " (custom)"})
	}
	p.Ops = routingOps
	p.Motions = optionsOf(model.Motions)
	// The workspace's own pipelines: a rule may only name one of them.
	pipes := slices.Sorted(mapKeys(model.Pipelines))
	if u.d.Pipeline != nil {
		set, err := u.d.Pipeline.Get(r.Context(), s.WS())
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		pipes = pipeline.Keys(set.Pipelines)
	}
	p.Pipes = optionsOf(pipes)
	p.Policies = optionsOf(model.AssignmentPolicies)
	seen := map[string]bool{}
	for _, row := range append(slices.Clone(p.Segs), p.CatchAll) {
		if row.Segment != "" && !seen[row.Segment] {
			seen[row.Segment] = true
			p.SegNames = append(p.SegNames, row.Segment)
		}
	}
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	var note string
	if r.URL.Query().Get("notice") == "saved" {
		note = "Routing rules saved. Existing accounts are being re-routed in the background; any whose segment or motion changes gets a decision saying why, and its open deals are flagged for review. Accounts with a hand-set segment keep it."
	}
	u.render(w, r, status, "settings_routing", view{Title: "Routing rules", Section: "settings", S: s, D: p, Notice: note})
}

func optionsOf(vals []string) []option {
	out := make([]option, len(vals))
	for i, v := range vals {
		out[i] = option{v, humanize(v)}
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// pageFromRuleSet lays out stored rules, adding the blank rows.
func pageFromRuleSet(set routing.RuleSet) routingPage {
	p := routingPage{Default: set.DefaultSegmentRules && set.DefaultRoutingRules}
	segs := set.SegmentRules
	if n := len(segs); n > 0 && segs[n-1].CatchAll {
		p.CatchAll = ruleRow{Key: "segca", Segment: segs[n-1].Segment}
		segs = segs[:n-1]
	}
	for i, sr := range segs {
		p.Segs = append(p.Segs, ruleRow{Key: fmt.Sprintf("seg-%d", i), Pos: i + 1, Segment: sr.Segment, Conds: condRows(fmt.Sprintf("seg-%d", i), sr.Conditions)})
	}
	routes := set.RoutingRules
	if n := len(routes); n > 0 && routes[n-1].Segment == "" && len(routes[n-1].Conditions) == 0 {
		last := routes[n-1]
		p.Fallback = ruleRow{Key: "routedef", Motion: last.Motion, Pipeline: last.Pipeline, Team: last.Team, Policy: last.Policy}
		routes = routes[:n-1]
	}
	for i, rr := range routes {
		k := fmt.Sprintf("route-%d", i)
		p.Routes = append(p.Routes, ruleRow{Key: k, Pos: i + 1, Segment: rr.Segment, Motion: rr.Motion, Pipeline: rr.Pipeline, Team: rr.Team, Policy: rr.Policy, Conds: condRows(k, rr.Conditions)})
	}
	p.addBlanks()
	return p
}

func condRows(key string, cs []model.Condition) []condRow {
	out := make([]condRow, 0, len(cs)+1)
	for j, c := range cs {
		out = append(out, condRow{Key: fmt.Sprintf("%s-c-%d", key, j), Field: c.Field, Op: c.Op, Value: condValue(c.Op, c.Value)})
	}
	return out
}

// condValue shows a stored value as the user would type it.
func condValue(op string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, it := range x {
			parts[i] = condValue("", it)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	if op == "empty" && v == true {
		return "true"
	}
	return fmt.Sprint(v)
}

// addBlanks appends one blank condition to every rule and one blank rule to each
// list, so a rule or condition can be added without script.
func (p *routingPage) addBlanks() {
	blank := func(rows []ruleRow, prefix string) []ruleRow {
		for i := range rows {
			rows[i].Conds = append(rows[i].Conds, condRow{Key: fmt.Sprintf("%s-c-%d", rows[i].Key, len(rows[i].Conds))})
		}
		k := fmt.Sprintf("%s-%d", prefix, len(rows))
		return append(rows, ruleRow{Key: k, Pos: len(rows) + 1, New: true, Conds: []condRow{{Key: k + "-c-0"}}})
	}
	p.Segs = blank(p.Segs, "seg")
	p.Routes = blank(p.Routes, "route")
}

// parseRoutingForm reads the posted editor: rows marked for removal and blank
// rows are dropped, the rest ordered by position. It returns the rows (keys
// renumbered in their new order), the rule set to save, and errors of its own
// (a position that is not a number).
func parseRoutingForm(r *http.Request) (routingPage, routing.RuleSet, map[string]string) {
	v := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	errs := map[string]string{}
	count := func(name string, limit int) int {
		n, _ := strconv.Atoi(v(name))
		return min(max(n, 0), limit)
	}
	type posted struct {
		row   ruleRow
		pos   int
		order int
	}
	readConds := func(key string) []condRow {
		var out []condRow
		for j := range count(key+"-ccount", routing.MaxConditions+1) {
			ck := fmt.Sprintf("%s-c-%d", key, j)
			c := condRow{Field: v(ck + "-field"), Op: v(ck + "-op"), Value: v(ck + "-value")}
			if c.Field == "" && c.Value == "" {
				continue // the blank row, or one the user cleared
			}
			out = append(out, c)
		}
		return out
	}
	read := func(prefix string, routes bool) []ruleRow {
		var rows []posted
		for i := range count(prefix+"-count", routing.MaxRules+1) {
			k := fmt.Sprintf("%s-%d", prefix, i)
			if v(k+"-remove") != "" {
				continue
			}
			row := ruleRow{Segment: v(k + "-segment"), Conds: readConds(k), New: v(k+"-new") != ""}
			if routes {
				row.Motion, row.Pipeline, row.Team, row.Policy = v(k+"-motion"), v(k+"-pipeline"), v(k+"-team"), v(k+"-policy")
			}
			if row.New && row.Segment == "" && row.Team == "" && len(row.Conds) == 0 {
				continue // the blank rule
			}
			pos, err := strconv.Atoi(v(k + "-pos"))
			if err != nil {
				row.PosErr = "must be a whole number"
				pos = i + 1
			}
			rows = append(rows, posted{row: row, pos: pos, order: i})
		}
		sort.SliceStable(rows, func(a, b int) bool { return rows[a].pos < rows[b].pos })
		out := make([]ruleRow, len(rows))
		for i, p := range rows {
			out[i] = p.row
		}
		return out
	}
	p := routingPage{Segs: read("seg", false), Routes: read("route", true)}
	p.CatchAll = ruleRow{Key: "segca", Segment: v("segca-segment")}
	p.Fallback = ruleRow{Key: "routedef", Motion: v("routedef-motion"), Pipeline: v("routedef-pipeline"), Team: v("routedef-team"), Policy: v("routedef-policy")}

	var set routing.RuleSet
	conds := func(rows []condRow) []model.Condition {
		out := make([]model.Condition, 0, len(rows))
		for _, c := range rows {
			var val any = c.Value
			if c.Op == "empty" && c.Value == "" {
				val = nil
			}
			out = append(out, model.Condition{Field: c.Field, Op: c.Op, Value: val})
		}
		return out
	}
	rekey := func(rows []ruleRow, prefix string) {
		for i := range rows {
			rows[i].Key, rows[i].Pos, rows[i].New = fmt.Sprintf("%s-%d", prefix, i), i+1, false
			if rows[i].PosErr != "" {
				errs[rows[i].Key+"-pos"] = rows[i].PosErr
			}
			for j := range rows[i].Conds {
				rows[i].Conds[j].Key = fmt.Sprintf("%s-c-%d", rows[i].Key, j)
			}
		}
	}
	rekey(p.Segs, "seg")
	rekey(p.Routes, "route")
	for _, row := range p.Segs {
		set.SegmentRules = append(set.SegmentRules, model.SegmentRule{Segment: row.Segment, Conditions: conds(row.Conds)})
	}
	set.SegmentRules = append(set.SegmentRules, model.SegmentRule{Segment: p.CatchAll.Segment, Conditions: []model.Condition{}, CatchAll: true})
	for _, row := range p.Routes {
		set.RoutingRules = append(set.RoutingRules, model.RoutingRule{Segment: row.Segment, Conditions: conds(row.Conds), Motion: row.Motion, Pipeline: row.Pipeline, Team: row.Team, Policy: row.Policy})
	}
	set.RoutingRules = append(set.RoutingRules, model.RoutingRule{Conditions: []model.Condition{}, Motion: p.Fallback.Motion, Pipeline: p.Fallback.Pipeline, Team: p.Fallback.Team, Policy: p.Fallback.Policy})
	return p, set, errs
}

var ruleErrRE = regexp.MustCompile(`^(segment_rules|routing_rules)\[(\d+)\](?:\.conditions\[(\d+)\])?(?:\.([a-z_]+))?`)

// routingErrKey maps a routing field error to the input (or row) it is about.
func routingErrKey(field string, segs, routes int) (string, bool) {
	m := ruleErrRE.FindStringSubmatch(field)
	if m == nil {
		return "", false
	}
	i, _ := strconv.Atoi(m[2])
	var key string
	switch {
	case m[1] == "segment_rules" && i < segs:
		key = fmt.Sprintf("seg-%d", i)
	case m[1] == "segment_rules" && i == segs:
		key = "segca"
	case m[1] == "routing_rules" && i < routes:
		key = fmt.Sprintf("route-%d", i)
	case m[1] == "routing_rules" && i == routes:
		key = "routedef"
	default:
		return "", false
	}
	if m[3] != "" {
		key += "-c-" + m[3]
	}
	switch m[4] {
	case "", "catch_all":
		return key, true
	case "assignment_policy":
		return key + "-policy", true
	}
	return key + "-" + m[4], true
}

func (u *UI) routingSave(w http.ResponseWriter, r *http.Request, s *session) {
	if r.PostFormValue("reset") != "" {
		if _, err := u.d.Routing.SaveRules(r.Context(), s.Actor(), routing.RuleSet{DefaultSegmentRules: true, DefaultRoutingRules: true}); err != nil {
			u.fail(w, r, s, err)
			return
		}
		redirect(w, r, "/settings/routing?notice=saved")
		return
	}
	p, set, errs := parseRoutingForm(r)
	if len(errs) == 0 {
		_, err := u.d.Routing.SaveRules(r.Context(), s.Actor(), set)
		if err == nil {
			redirect(w, r, "/settings/routing?notice=saved")
			return
		}
		var fe *store.FieldError
		if !errors.As(err, &fe) {
			u.fail(w, r, s, err)
			return
		}
		if k, ok := routingErrKey(fe.Field, len(p.Segs), len(p.Routes)); ok {
			errs[k] = fe.Message
		} else {
			p.Err = humanize(fe.Field) + ": " + fe.Message
		}
	}
	p.Errors = errs
	if p.Err == "" {
		p.Err = "The rules were not saved. Correct the highlighted entry."
	}
	p.addBlanks()
	u.showRouting(w, r, s, http.StatusUnprocessableEntity, p)
}
