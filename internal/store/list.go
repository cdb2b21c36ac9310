package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field types a list filter understands.
const (
	fText = iota
	fInt
	fTime
	fBool
	fID
)

type fieldSpec struct {
	col      string
	typ      int
	sortable bool
}

// Filter is one condition on a list: Field Op Value. Custom fields are named
// "custom.<key>".
type Filter struct {
	Field string
	Op    string // eq, ne, lt, lte, gt, gte, contains, in, empty
	Value string
}

// ListParams asks for one page of a list.
type ListParams struct {
	Filters []Filter
	Query   string // free text over the entity's name-like columns
	Sort    string // field name, "-" prefix for descending
	Cursor  string
	Limit   int
	Count   bool // also compute the exact number of matching rows
	// Stale (deals only) keeps open deals that are stale under one of the rules;
	// a non-nil empty slice matches nothing (no stage has stale days).
	Stale []StaleRule
}

// StaleRule says a deal in Pipeline/Stage is stale when it entered the stage
// and had its newest activity at or before Cutoff (now − the stage's stale days).
type StaleRule struct {
	Pipeline, Stage string
	Cutoff          time.Time
}

// Page is one page of a list.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	Total      *int64 `json:"total,omitempty"`
}

// MaxPageSize caps any list; DefaultPageSize applies when none is asked for.
const (
	MaxPageSize     = 200
	DefaultPageSize = 50
)

// FieldError is a bad input naming the field it is about; the API maps it to 400.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

var customKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidCustomKey reports whether k can name a custom field.
func ValidCustomKey(k string) bool { return customKeyRE.MatchString(k) }

type listBuilder struct {
	kind   Kind
	where  []string
	args   []any
	fields map[string]fieldSpec
	lower  map[string]bool // see listSpec.lower
}

func (b *listBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// likeText is the text a "contains" or free-text LIKE is matched against,
// the pattern being lower-cased: the column lower-cased (NULL as empty) on PostgreSQL,
// whose LIKE is case-sensitive. On SQLite without the LOWER: its LIKE ignores
// ASCII case and its LOWER folds ASCII only, so LOWER changes no answer
// (TestListSearchMatchesLike) and only cost a string copy per row and column
// — most of a search that reads every row, such as a two-letter term, which
// the trigram index cannot narrow (docs/benchmarks.md).
func (b *listBuilder) likeText(col string) string {
	if b.kind == SQLite {
		return "COALESCE(" + col + ",'')"
	}
	return "LOWER(COALESCE(" + col + ",''))"
}

func (b *listBuilder) customExpr(key string, numeric bool) string {
	if b.kind == Postgres {
		e := "(custom->>" + b.arg(key) + ")"
		if numeric {
			return "(" + e + ")::numeric"
		}
		return e
	}
	e := "json_extract(custom, " + b.arg("$."+key) + ")"
	if numeric {
		return "CAST(" + e + " AS REAL)"
	}
	return "CAST(" + e + " AS TEXT)"
}

func convertValue(f, v string, typ int) (any, error) {
	switch typ {
	case fInt, fID:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, &FieldError{Field: f, Message: fmt.Sprintf("%q is not a whole number", v)}
		}
		return n, nil
	case fTime:
		for _, l := range []string{time.RFC3339Nano, "2006-01-02"} {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, &FieldError{Field: f, Message: fmt.Sprintf("%q is not a date (YYYY-MM-DD or RFC 3339)", v)}
	case fBool:
		switch strings.ToLower(v) {
		case "true", "1", "yes":
			return true, nil
		case "false", "0", "no":
			return false, nil
		}
		return nil, &FieldError{Field: f, Message: fmt.Sprintf("%q is not true or false", v)}
	}
	return v, nil
}

func (b *listBuilder) addFilter(f Filter, customTypes map[string]string) error {
	var col string
	var typ int
	if key, ok := strings.CutPrefix(f.Field, "custom."); ok {
		ct, known := customTypes[key]
		if !known {
			return &FieldError{Field: f.Field, Message: "no such custom field"}
		}
		typ = fText
		if ct == "number" {
			typ = fInt
		}
		if ct == "bool" {
			// JSON booleans come back as 1/0 (SQLite) or true/false (PostgreSQL).
			bv, err := convertValue(f.Field, f.Value, fBool)
			if err != nil {
				return err
			}
			if b.kind == Postgres {
				f.Value = strconv.FormatBool(bv.(bool))
			} else if bv.(bool) {
				f.Value = "1"
			} else {
				f.Value = "0"
			}
		}
		col = b.customExpr(key, typ == fInt)
		if typ == fInt {
			v, err := strconv.ParseFloat(f.Value, 64)
			if err != nil && f.Op != "empty" {
				return &FieldError{Field: f.Field, Message: fmt.Sprintf("%q is not a number", f.Value)}
			}
			return b.cond(f, col, v)
		}
	} else {
		spec, ok := b.fields[f.Field]
		if !ok {
			return &FieldError{Field: f.Field, Message: "cannot filter on this field"}
		}
		col, typ = spec.col, spec.typ
	}
	if f.Op == "empty" {
		return b.cond(f, col, nil)
	}
	if f.Op == "in" {
		var ph []string
		for _, part := range strings.Split(f.Value, ",") {
			v, err := convertValue(f.Field, strings.TrimSpace(part), typ)
			if err != nil {
				return err
			}
			ph = append(ph, b.arg(v))
		}
		b.where = append(b.where, col+" IN ("+strings.Join(ph, ",")+")")
		return nil
	}
	v, err := convertValue(f.Field, f.Value, typ)
	if err != nil {
		return err
	}
	return b.cond(f, col, v)
}

func (b *listBuilder) cond(f Filter, col string, v any) error {
	ops := map[string]string{"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
	switch {
	case f.Op == "" || ops[f.Op] != "":
		op := ops[f.Op]
		if op == "" {
			op = "="
		}
		if s, ok := v.(string); ok && (op == "=" || op == "<>") {
			if b.lower[col] {
				b.where = append(b.where, col+" "+op+" LOWER("+b.arg(s)+")")
				return nil
			}
			// Text equality is case-insensitive: users type "software", data says "Software".
			b.where = append(b.where, "LOWER(COALESCE("+col+",'')) "+op+" LOWER("+b.arg(s)+")")
			return nil
		}
		b.where = append(b.where, col+" "+op+" "+b.arg(v))
	case f.Op == "contains":
		if _, text := v.(string); !text {
			// A substring of a number or a time is not a question the
			// store answers (PostgreSQL cannot LOWER a bigint).
			return &FieldError{Field: f.Field, Message: "contains applies to text fields only (use eq, lt, gt, in)"}
		}
		s := fmt.Sprint(v)
		s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(s))
		b.where = append(b.where, b.likeText(col)+" LIKE "+b.arg("%"+s+"%")+` ESCAPE '\'`)
	case f.Op == "empty":
		want := strings.ToLower(f.Value) != "false"
		if want {
			b.where = append(b.where, "("+col+" IS NULL OR CAST("+col+" AS TEXT) = '')")
		} else {
			b.where = append(b.where, "("+col+" IS NOT NULL AND CAST("+col+" AS TEXT) <> '')")
		}
	default:
		return &FieldError{Field: f.Field, Message: fmt.Sprintf("unknown operator %q (use eq, ne, lt, lte, gt, gte, contains, in, empty)", f.Op)}
	}
	return nil
}

// staleWhere is the stale-deal condition in SQL, so the filter scales with the
// deals table instead of passing ids: since = the later of entering the stage
// and the newest activity, and since <= cutoff ⇔ entered <= cutoff and no
// activity after cutoff (pipeline.IsStale).
func (b *listBuilder) staleWhere(rules []StaleRule) {
	if len(rules) == 0 {
		b.where = append(b.where, "1 = 0")
		return
	}
	var ors []string
	for _, r := range rules {
		cut := b.arg(r.Cutoff.UTC())
		ors = append(ors, "(pipeline = "+b.arg(r.Pipeline)+" AND stage = "+b.arg(r.Stage)+
			" AND COALESCE((SELECT MAX(h.entered_at) FROM deal_stage_history h WHERE h.workspace_id = deals.workspace_id AND h.deal_id = deals.id AND h.left_at IS NULL), deals.created_at) <= "+cut+
			" AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.workspace_id = deals.workspace_id AND a.deal_id = deals.id AND a.occurred_at > "+cut+"))")
	}
	b.where = append(b.where, "outcome = '' AND ("+strings.Join(ors, " OR ")+")")
}

// ftsCandidates narrows a free-text search on SQLite to the rows whose
// trigram index (table: FTS5, trigram tokenizer, case folded, rows only)
// holds every trigram of q. The LIKE condition the search has always used
// stays in the query and decides; this only spares it the rows that cannot
// match. It never drops one that can: when q is a substring of LOWER(col) up
// to ASCII case — LIKE's match — folding both sides gives fold(q) a
// substring of fold(col), so each trigram of q is one of col's. A term under
// three characters has no trigram: the search then reads the rows as before.
//
// It returns the phrase's placeholder ("" when the index is not used). The
// workspace condition becomes +workspace_id: without statistics SQLite would
// otherwise read the whole workspace through a (workspace_id, …) index and
// test each row against the candidates, instead of looking the candidates up
// by id.
func (b *listBuilder) ftsCandidates(table, q string) string {
	if utf8.RuneCountInString(q) < 3 {
		return ""
	}
	b.where[0] = "+" + b.where[0]
	ph := b.arg(trigramQuery(q))
	b.where = append(b.where, "id IN (SELECT rowid FROM "+table+" WHERE "+table+" MATCH "+ph+")")
	return ph
}

// searchProbeRows is how many of the newest rows a PostgreSQL search's first
// try reads (builtList.probeSQL): a few milliseconds of reading, enough for a
// page of any term that one row in 400 matches.
var searchProbeRows = 20_000

// ftsMaxTrigrams bounds the trigrams a search asks the index for: any
// subset still finds every row the LIKE can match, and a dozen already
// narrows a term to its rows.
const ftsMaxTrigrams = 12

// trigramQuery is the FTS5 query "every trigram of q": each trigram a quoted
// string (a literal to FTS5 whatever it holds), joined by AND; duplicates
// once, at most ftsMaxTrigrams spread over q, the first and last always.
func trigramQuery(q string) string {
	r := []rune(q)
	var grams []string
	seen := map[string]bool{}
	for i := 0; i+3 <= len(r); i++ {
		g := string(r[i : i+3])
		if !seen[g] {
			seen[g] = true
			grams = append(grams, g)
		}
	}
	if len(grams) > ftsMaxTrigrams {
		picked := make([]string, 0, ftsMaxTrigrams)
		for k := range ftsMaxTrigrams {
			picked = append(picked, grams[k*(len(grams)-1)/(ftsMaxTrigrams-1)])
		}
		grams = picked
	}
	for i, g := range grams {
		grams[i] = `"` + strings.ReplaceAll(g, `"`, `""`) + `"`
	}
	return strings.Join(grams, " AND ")
}

// cursor is the keyset position after the last row of a page.
type cursor struct {
	V  any   `json:"v"`
	ID int64 `json:"id"`
}

func encodeCursor(v any, id int64) string {
	if t, ok := v.(time.Time); ok {
		v = t.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(cursor{V: v, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, typ int) (any, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	bad := &FieldError{Field: "cursor", Message: "invalid cursor"}
	if err != nil {
		return nil, 0, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, 0, bad
	}
	switch typ {
	case fInt, fID:
		f, ok := c.V.(float64)
		if !ok {
			return nil, 0, bad
		}
		return int64(f), c.ID, nil
	case fTime:
		s, ok := c.V.(string)
		if !ok {
			return nil, 0, bad
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, 0, bad
		}
		return t, c.ID, nil
	}
	s2, ok := c.V.(string)
	if !ok || BadText(s2) != "" {
		// JSON "\u0000" decodes to a NUL, which PostgreSQL refuses mid-query.
		return nil, 0, bad
	}
	return s2, c.ID, nil
}

// listSQL builds "SELECT cols FROM table WHERE ... ORDER BY ... LIMIT" with keyset
// pagination on (sort column, id). Sort columns are COALESCEd by their spec so NULLs
// never break the keyset.
type listSpec struct {
	table  string
	cols   string
	fields map[string]fieldSpec
	search []string // columns the free-text query matches
	// fts names a SQLite FTS5 trigram table over the search columns, keyed by
	// the row's id (migration 00029): it narrows the rows the free-text LIKE
	// checks (ftsCandidates).
	fts string
	// trgm is, on PostgreSQL, the expression a pg_trgm GIN index covers: the
	// search columns joined, lower-cased (migration 00033). A term of three
	// characters or more adds "trgm LIKE pattern" to the search, which the
	// index answers; the per-column LIKE still decides, and a match in a
	// column is a match in the joined text, so no row is lost.
	trgm    string
	defSort string
	// lower names columns whose values are stored lower-case and never NULL
	// (validated enums, normalised emails): text equality compares the column
	// itself with the lower-cased value, which gives the same answer as the
	// case-insensitive LOWER(COALESCE(col,'')) form but lets an index on the
	// column serve the filter (docs/benchmarks.md, list workload).
	lower map[string]bool
}

type builtList struct {
	sql, countSQL string
	// probeSQL, when set, is tried first: the page among the newest
	// searchProbeRows rows only (see searchProbeRows). It answers when it
	// fills the page; otherwise sql (the index's candidates) does.
	probeSQL  string
	args      []any
	countArgs []any
	sortTyp   int
	sortField string
	limit     int
}

func buildList(q Q, spec listSpec, ws int64, p ListParams, customTypes map[string]string) (*builtList, error) {
	b := &listBuilder{kind: q.kind, fields: spec.fields, lower: spec.lower}
	b.where = append(b.where, "workspace_id = "+b.arg(ws))
	if q.scope.Confined() {
		b.where = append(b.where, q.ownerCond(spec.table, b.arg(q.scope.Owner)))
	}
	for _, f := range p.Filters {
		if err := b.addFilter(f, customTypes); err != nil {
			return nil, err
		}
	}
	if p.Stale != nil {
		b.staleWhere(p.Stale)
	}
	var ftsMatch string // the FTS MATCH argument's placeholder, when the search uses the index
	var trgmCond string // the pg_trgm condition, when the search uses that index
	searchAt := -1      // the search's entry in b.where
	if q := strings.TrimSpace(p.Query); q != "" {
		if b.kind == SQLite && spec.fts != "" {
			ftsMatch = b.ftsCandidates(spec.fts, strings.ToLower(q))
		}
		pat := b.arg("%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%")
		var ors []string
		for _, c := range spec.search {
			ors = append(ors, b.likeText(c)+" LIKE "+pat+` ESCAPE '\'`)
		}
		searchAt = len(b.where)
		b.where = append(b.where, "("+strings.Join(ors, " OR ")+")")
		if b.kind == Postgres && spec.trgm != "" && utf8.RuneCountInString(q) >= 3 {
			trgmCond = spec.trgm + " LIKE " + pat + ` ESCAPE '\'`
		}
	}
	sortField := p.Sort
	if sortField == "" {
		sortField = spec.defSort
	}
	desc := strings.HasPrefix(sortField, "-")
	sortField = strings.TrimPrefix(sortField, "-")
	ss, ok := spec.fields[sortField]
	if !ok || !ss.sortable {
		return nil, &FieldError{Field: "sort", Message: fmt.Sprintf("cannot sort by %q", sortField)}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	if limit > MaxPageSize {
		return nil, &FieldError{Field: "limit", Message: fmt.Sprintf("at most %d", MaxPageSize)}
	}
	countWhere := strings.Join(b.where, " AND ")
	if b.kind == SQLite && ftsMatch == "" && strings.TrimSpace(p.Query) != "" && len(p.Filters) == 0 && p.Stale == nil && !q.scope.Confined() {
		// A search the trigram index cannot narrow (a term under three
		// characters) reads every row of the workspace. Without statistics
		// SQLite reads them through a (workspace_id, …) index, a table
		// lookup per row: 1.2 s over 1M contacts against 0.29 s for a plain
		// scan of the table (a two-letter search's count, `rightsize bench
		// list`). The page query does the same below.
		countWhere = "+" + countWhere
	}
	if trgmCond != "" {
		// A count reads every match: the index's candidates are never more
		// rows than the workspace, and for a rare term far fewer.
		countWhere += " AND " + trgmCond
	}
	countArgs := append([]any(nil), b.args...)
	sortCol := ss.col
	switch {
	case ss.col == "id":
		// The primary key is never NULL; ordering by the bare column lets the
		// planner walk an index ending in id (or the table) backwards and stop
		// after a page, instead of sorting every match (docs/benchmarks.md,
		// list workload: 739 ms → a few ms for the first page over 1M contacts).
	case ss.typ == fInt || ss.typ == fID:
		sortCol = "COALESCE(" + ss.col + ", -9223372036854775807)"
	case ss.typ == fText:
		sortCol = "COALESCE(" + ss.col + ", '')"
	}
	if p.Cursor != "" {
		v, id, err := decodeCursor(p.Cursor, ss.typ)
		if err != nil {
			return nil, err
		}
		cmp := ">"
		if desc {
			cmp = "<"
		}
		if ss.col == "id" && ftsMatch != "" {
			// The join form below: on the index's rowid, which FTS5 seeks.
			b.where = append(b.where, spec.fts+".rowid "+cmp+" "+b.arg(id))
		} else if ss.col == "id" {
			b.where = append(b.where, "id "+cmp+" "+b.arg(id))
		} else {
			va, ia := b.arg(v), b.arg(id)
			b.where = append(b.where, "("+sortCol+" "+cmp+" "+va+" OR ("+sortCol+" = "+va+" AND id "+cmp+" "+ia+"))")
		}
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	order := sortCol + " " + dir
	if ss.col != "id" {
		order += ", id " + dir
	}
	from, where := spec.table, strings.Join(b.where, " AND ")
	if b.kind == SQLite && ftsMatch == "" && strings.TrimSpace(p.Query) != "" && len(p.Filters) == 0 && p.Stale == nil && ss.col == "id" {
		// A free-text search without the index (too short for a trigram, or
		// no index for this list) and nothing else to narrow it: walk the
		// rows newest first and stop after a page, instead of reading the
		// whole workspace through a (workspace_id, …) index and sorting,
		// which SQLite picks without statistics. A common term fills the
		// page at once; a rare one reads the table, as it did before.
		where = "+" + where
	}
	if ftsMatch != "" && ss.col == "id" {
		// Newest (or oldest) first with the index: walk the index's matches
		// in id order and stop after a page, whether the term is common
		// (the first rows match) or rare (few candidates at all). The
		// index's columns have their own names, so the list's columns stay
		// unambiguous in the join.
		from = spec.fts + " JOIN " + spec.table + " ON " + spec.table + ".id = " + spec.fts + ".rowid"
		where = strings.Replace(where, "id IN (SELECT rowid FROM "+spec.fts+" WHERE "+spec.fts+" MATCH "+ftsMatch+")", spec.fts+" MATCH "+ftsMatch, 1)
		order = spec.fts + ".rowid " + dir
	}
	var probe string
	if trgmCond != "" && ss.col == "id" {
		// Newest (or oldest) first on PostgreSQL: a common term fills the page
		// among the first rows of the id walk, where the index would fetch
		// every match and sort them (83,000 for "smith" over 1M contacts); a
		// rare term is the index's. The probe walks at most searchProbeRows
		// rows; a full page from it is exact (any other match lies beyond
		// them), and only a term rarer than a page in that many rows pays for
		// the index.
		var inner []string
		for i, w := range b.where {
			if i != searchAt {
				inner = append(inner, w)
			}
		}
		probe = "SELECT " + spec.cols + ", " + sortCol + " FROM (SELECT * FROM " + spec.table + " WHERE " + strings.Join(inner, " AND ") +
			" ORDER BY " + order + " LIMIT " + strconv.Itoa(searchProbeRows) + ") AS " + spec.table +
			" WHERE " + b.where[searchAt] + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit+1)
	}
	if trgmCond != "" {
		where += " AND " + trgmCond
	}
	out := &builtList{
		probeSQL:  probe,
		sql:       "SELECT " + spec.cols + ", " + sortCol + " FROM " + from + " WHERE " + where + " ORDER BY " + order + " LIMIT " + strconv.Itoa(limit+1),
		countSQL:  "SELECT COUNT(*) FROM " + spec.table + " WHERE " + countWhere,
		args:      b.args,
		countArgs: countArgs,
		sortTyp:   ss.typ,
		sortField: sortField,
		limit:     limit,
	}
	return out, nil
}
