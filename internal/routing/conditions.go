package routing

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// Condition is one structured test: Field Op Value. Fields are employees,
// annual_revenue, budget, expected_acv (money in minor units), region, industry
// and custom.<key>; ops are eq, ne, lt, lte, gt, gte, in, contains and empty.
type Condition = model.Condition

// Limits keep a rule list small enough to read and cheap to evaluate.
const (
	MaxRules      = 100
	MaxConditions = 20
	maxInValues   = 100
	maxTextValue  = 200
)

// kind is how a field's values compare.
type kind uint8

const (
	kInt  kind = iota // whole numbers (employees, money in minor units)
	kNum              // custom number fields
	kText             // case-insensitive text
	kDate             // custom date fields, YYYY-MM-DD (compares as text)
	kBool             // custom bool fields
)

func (k kind) String() string {
	switch k {
	case kInt:
		return "a whole number"
	case kNum:
		return "a number"
	case kDate:
		return "a date"
	case kBool:
		return "true or false"
	}
	return "text"
}

// fieldID names where a value comes from, so evaluation is a switch, not a map.
type fieldID uint8

const (
	fEmployees fieldID = iota
	fAnnualRevenue
	fBudget
	fExpectedACV
	fRegion
	fIndustry
	fCustom
)

var standardFields = map[string]struct {
	id    fieldID
	kind  kind
	money bool
}{
	"employees":      {fEmployees, kInt, false},
	"annual_revenue": {fAnnualRevenue, kInt, true},
	"budget":         {fBudget, kInt, true},
	"expected_acv":   {fExpectedACV, kInt, true},
	"region":         {fRegion, kText, false},
	"industry":       {fIndustry, kText, false},
}

const fieldList = "employees, annual_revenue, budget, expected_acv, region, industry or custom.<key>"

type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opLte
	opGt
	opGte
	opIn
	opContains
	opEmpty
)

var ops = map[string]op{"eq": opEq, "ne": opNe, "lt": opLt, "lte": opLte, "gt": opGt, "gte": opGte, "in": opIn, "contains": opContains, "empty": opEmpty}

var opSymbols = [...]string{opEq: "=", opNe: "≠", opLt: "<", opLte: "≤", opGt: ">", opGte: "≥", opIn: "in", opContains: "contains"}

// opsFor lists the operators that make sense for a kind, for validation messages.
func opsFor(k kind) []string {
	switch k {
	case kInt, kNum, kDate:
		return []string{"eq", "ne", "lt", "lte", "gt", "gte", "in", "empty"}
	case kBool:
		return []string{"eq", "ne", "empty"}
	}
	return []string{"eq", "ne", "in", "contains", "empty"}
}

// cond is a compiled condition: the field resolved, the value parsed once.
type cond struct {
	src   Condition // normalised, as stored
	field string
	id    fieldID
	key   string // custom key
	kind  kind
	money bool
	op    op
	i     int64
	f     float64
	s     string // text: lower-cased; date: as is
	b     bool
	is    []int64
	fs    []float64
	ss    []string
	pre   string // "employees "
	post  string // " ≥ 1,000"
}

// customTypeFunc reports the type of an account custom field. At save time it
// comes from the workspace's definitions; when loading stored rules it is nil and
// the kind is read from the (already normalised) value.
type customTypeFunc func(key string) (typ string, ok bool)

func fe(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// compileCondition validates c and returns it compiled; path names the condition
// in errors ("segment_rules[2].conditions[0]").
func compileCondition(path string, c Condition, types customTypeFunc) (cond, error) {
	out := cond{field: strings.TrimSpace(c.Field)}
	opName := strings.ToLower(strings.TrimSpace(c.Op))
	if key, ok := strings.CutPrefix(out.field, "custom."); ok {
		if !store.ValidCustomKey(key) {
			return out, fe(path+".field", "%q is not a custom field key (custom.<key>, key in a-z, 0-9 and _)", out.field)
		}
		out.id, out.key = fCustom, key
		if types != nil {
			typ, ok := types(key)
			if !ok {
				return out, fe(path+".field", "no account custom field %q", key)
			}
			out.kind = kindOfType(typ)
		} else {
			out.kind = kindOfValue(c.Value, opName)
		}
	} else {
		sf, ok := standardFields[out.field]
		if !ok {
			if out.field == "" {
				return out, fe(path+".field", "is required (%s)", fieldList)
			}
			return out, fe(path+".field", "unknown field %q (use %s)", out.field, fieldList)
		}
		out.id, out.kind, out.money = sf.id, sf.kind, sf.money
	}
	o, ok := ops[opName]
	if !ok {
		if opName == "" {
			return out, fe(path+".op", "is required (%s)", strings.Join(opsFor(out.kind), ", "))
		}
		return out, fe(path+".op", "unknown operator %q (use %s)", c.Op, strings.Join(opsFor(out.kind), ", "))
	}
	allowed := opsFor(out.kind)
	if !contains(allowed, opName) {
		return out, fe(path+".op", "%s does not apply to %s, which is %s (use %s)", opName, out.field, out.kind, strings.Join(allowed, ", "))
	}
	out.op = o
	vpath := path + ".value"
	var err error
	var norm any
	switch o {
	case opEmpty:
		out.b, err = emptyValue(vpath, c.Value)
		norm = out.b
	case opIn:
		norm, err = out.parseList(vpath, c.Value)
	default:
		norm, err = out.parseOne(vpath, c.Value)
	}
	if err != nil {
		return out, err
	}
	out.src = Condition{Field: out.field, Op: opName, Value: norm}
	out.prepare()
	return out, nil
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func kindOfType(typ string) kind {
	switch typ {
	case "number":
		return kNum
	case "date":
		return kDate
	case "bool":
		return kBool
	}
	return kText // text, enum
}

// kindOfValue recovers a stored custom condition's kind from its normalised value.
// A date and a text value that looks like one are both stored as strings; only
// the ordering operators (which text does not take) need the date kind, and for
// eq, ne and in the two kinds compare a YYYY-MM-DD string alike. So a text
// condition such as "contains 2024-01" or "in [2024-01-01, gold]" loads as
// text instead of failing as a malformed date.
func kindOfValue(v any, opName string) kind {
	if l, ok := v.([]any); ok && len(l) > 0 {
		v = l[0]
	}
	switch x := v.(type) {
	case float64, json.Number, int, int64:
		return kNum
	case bool:
		if opName == "empty" {
			return kText
		}
		return kBool
	case string:
		switch opName {
		case "lt", "lte", "gt", "gte":
			if _, err := time.Parse("2006-01-02", x); err == nil && len(x) == 10 {
				return kDate
			}
		}
	}
	return kText
}

func emptyValue(path string, v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return true, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "true", "yes":
			return true, nil
		case "false", "no":
			return false, nil
		}
	}
	return false, fe(path, "empty takes true (the value is missing) or false (it is present)")
}

func (c *cond) parseList(path string, v any) (any, error) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		for _, s := range x {
			items = append(items, s)
		}
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
	case nil:
	default:
		return nil, fe(path, "in takes a list of values")
	}
	if len(items) == 0 {
		return nil, fe(path, "in takes at least one value")
	}
	if len(items) > maxInValues {
		return nil, fe(path, "in takes at most %d values", maxInValues)
	}
	norm := make([]any, 0, len(items))
	for i, it := range items {
		one := cond{kind: c.kind}
		n, err := one.parseOne(fmt.Sprintf("%s[%d]", path, i), it)
		if err != nil {
			return nil, err
		}
		norm = append(norm, n)
		switch c.kind {
		case kInt:
			c.is = append(c.is, one.i)
		case kNum:
			c.fs = append(c.fs, one.f)
		default:
			c.ss = append(c.ss, one.s)
		}
	}
	return norm, nil
}

// parseOne reads a single comparison value and returns its normalised form.
func (c *cond) parseOne(path string, v any) (any, error) {
	switch c.kind {
	case kInt:
		n, ok := wholeNumber(v)
		if !ok {
			if _, isNum := number(v); isNum && !strings.ContainsAny(show(v), ".eE") {
				return nil, fe(path, "%s is too large: a rule keeps whole numbers up to ±9,007,199,254,740,992%s", show(v), moneyHint(c.money))
			}
			return nil, fe(path, "%s is not a whole number%s", show(v), moneyHint(c.money))
		}
		c.i, c.f = n, float64(n)
		return n, nil
	case kNum:
		f, ok := number(v)
		if !ok {
			return nil, fe(path, "%s is not a number", show(v))
		}
		c.f = f
		return f, nil
	case kBool:
		b, ok := boolean(v)
		if !ok {
			return nil, fe(path, "%s is not true or false", show(v))
		}
		c.b = b
		return b, nil
	case kDate:
		s, ok := v.(string)
		s = strings.TrimSpace(s)
		if _, err := time.Parse("2006-01-02", s); !ok || err != nil {
			return nil, fe(path, "%s is not a date (YYYY-MM-DD)", show(v))
		}
		c.s = s
		return s, nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return nil, fe(path, "%s is not text", show(v))
	}
	if s == "" {
		return nil, fe(path, "is empty; to test for a missing value use the empty operator")
	}
	if why := store.BadText(s); why != "" {
		// Stored as JSON, invalid UTF-8 would come back as U+FFFD (and
		// longer); PostgreSQL refuses a NUL.
		return nil, fe(path, "%s", why)
	}
	if len(s) > maxTextValue {
		return nil, fe(path, "longer than %d characters", maxTextValue)
	}
	c.s = strings.ToLower(s)
	return s, nil
}

func moneyHint(money bool) string {
	if money {
		return " (money is in minor units: 1000000 is 10,000.00)"
	}
	return ""
}

func show(v any) string {
	if v == nil {
		return "a missing value"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func wholeNumber(v any) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > maxWhole {
			return 0, false
		}
		n = int64(x)
	case json.Number:
		var err error
		if n, err = x.Int64(); err != nil {
			return 0, false
		}
	case string:
		var err error
		if n, err = strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(x), ",", ""), 10, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	// Rules are stored as JSON and read back as float64: beyond 2^53 a
	// whole number would not load as the one that was saved.
	return n, n >= -maxWhole && n <= maxWhole
}

// maxWhole is the largest whole number a stored rule keeps exactly.
const maxWhole = 1 << 53

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(x), ",", ""), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func boolean(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "1":
			return true, true
		case "false", "no", "0":
			return false, true
		}
	}
	return false, false
}

// value is one input as evaluation sees it; ok is false when the account lacks it.
type value struct {
	ok bool
	i  int64
	f  float64
	s  string
	b  bool
}

// facts are what a rule can look at: the account and its largest open deal.
type facts struct {
	a   *model.Account
	acv *int64
}

func intValue(p *int64) value {
	if p == nil {
		return value{}
	}
	return value{ok: true, i: *p, f: float64(*p)}
}

func textValue(s string) value { return value{ok: s != "", s: s} }

// get reads the condition's field from the facts, in the condition's kind.
func (c *cond) get(x facts) value {
	switch c.id {
	case fEmployees:
		return intValue(x.a.Employees)
	case fAnnualRevenue:
		return intValue(x.a.AnnualRevenue)
	case fBudget:
		return intValue(x.a.Budget)
	case fExpectedACV:
		return intValue(x.acv)
	case fRegion:
		return textValue(x.a.Region)
	case fIndustry:
		return textValue(x.a.Industry)
	}
	raw, ok := x.a.Custom[c.key]
	if !ok || raw == nil || raw == "" {
		return value{}
	}
	switch c.kind {
	case kNum:
		f, ok := number(raw)
		return value{ok: ok, f: f}
	case kBool:
		b, ok := boolean(raw)
		return value{ok: ok, b: b}
	}
	switch s := raw.(type) {
	case string:
		return value{ok: true, s: s}
	case float64:
		return value{ok: true, s: strconv.FormatFloat(s, 'f', -1, 64)}
	case bool:
		return value{ok: true, s: strconv.FormatBool(s)}
	}
	return value{}
}

// match reports whether v passes the condition. A missing value fails every test
// except empty: "region ne EMEA" does not match an account without a region.
func (c *cond) match(v value) bool {
	if c.op == opEmpty {
		return !v.ok == c.b
	}
	if !v.ok {
		return false
	}
	switch c.kind {
	case kInt:
		return cmpOrdered(c.op, v.i, c.i, c.is)
	case kNum:
		return cmpOrdered(c.op, v.f, c.f, c.fs)
	case kBool:
		if c.op == opNe {
			return v.b != c.b
		}
		return v.b == c.b
	case kDate:
		return cmpOrdered(c.op, v.s, c.s, c.ss)
	}
	switch c.op {
	case opEq:
		return strings.EqualFold(v.s, c.s)
	case opNe:
		return !strings.EqualFold(v.s, c.s)
	case opIn:
		for _, s := range c.ss {
			if strings.EqualFold(v.s, s) {
				return true
			}
		}
		return false
	case opContains:
		return strings.Contains(strings.ToLower(v.s), c.s)
	}
	return false
}

func cmpOrdered[T int64 | float64 | string](o op, v, w T, list []T) bool {
	switch o {
	case opEq:
		return v == w
	case opNe:
		return v != w
	case opLt:
		return v < w
	case opLte:
		return v <= w
	case opGt:
		return v > w
	case opGte:
		return v >= w
	case opIn:
		for _, x := range list {
			if v == x {
				return true
			}
		}
	}
	return false
}

// prepare precomputes the parts of describe that do not depend on the account,
// so a reason costs one allocation.
func (c *cond) prepare() {
	c.pre = c.field + " "
	switch {
	case c.op == opEmpty && c.b:
		c.post = ""
	case c.op == opEmpty:
		c.post = " is present"
	case c.op == opIn:
		parts := make([]string, 0, len(c.src.Value.([]any)))
		for _, x := range c.src.Value.([]any) {
			parts = append(parts, c.formatRule(x))
		}
		c.post = " in [" + strings.Join(parts, ", ") + "]"
	default:
		c.post = " " + opSymbols[c.op] + " " + c.formatRule(c.src.Value)
	}
}

// appendDescribe renders the condition against the value it saw, for a reason:
// "employees 1,200 ≥ 1,000", "region EMEA in [EMEA, APAC]", "budget is empty".
func (c *cond) appendDescribe(b []byte, v value, currency string) []byte {
	b = append(b, c.pre...)
	if c.op == opEmpty && c.b {
		return append(b, "is empty"...)
	}
	b = c.appendValue(b, v, currency)
	return append(b, c.post...)
}

// appendValue renders an account's value.
func (c *cond) appendValue(b []byte, v value, currency string) []byte {
	if !v.ok {
		return append(b, "(none)"...)
	}
	switch c.kind {
	case kInt:
		if c.money {
			b = appendMoney(b, v.i)
			if currency != "" {
				b = append(b, ' ')
				b = append(b, currency...)
			}
			return b
		}
		return appendInt(b, v.i)
	case kNum:
		return append(b, formatFloat(v.f)...)
	case kBool:
		return strconv.AppendBool(b, v.b)
	}
	return append(b, v.s...)
}

// formatRule renders a rule's value in the same units as appendValue.
func (c *cond) formatRule(x any) string {
	switch c.kind {
	case kInt:
		n, _ := wholeNumber(x)
		if c.money {
			return string(appendMoney(nil, n))
		}
		return formatInt(n)
	case kNum:
		f, _ := number(x)
		return formatFloat(f)
	}
	return fmt.Sprint(x)
}

// formatInt groups thousands: 1200 → "1,200".
func formatInt(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	var tmp [24]byte
	digits := strconv.AppendInt(tmp[:0], n, 10)
	if digits[0] == '-' {
		b = append(b, '-')
		digits = digits[1:]
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, d)
	}
	return b
}

// appendMoney shows minor units as major units with two decimals, dropping ".00":
// 120000000 → "1,200,000".
func appendMoney(b []byte, minor int64) []byte {
	major, cents := minor/100, minor%100
	if cents < 0 {
		cents = -cents
	}
	if minor < 0 && major == 0 {
		b = append(b, '-')
	}
	b = appendInt(b, major)
	if cents != 0 {
		b = append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
	}
	return b
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return formatInt(int64(f))
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
