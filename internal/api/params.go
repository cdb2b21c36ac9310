package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/httpx"
	"github.com/rightsize/rightsize/internal/store"
)

// listReserved are the list parameters that are not filters.
var listReserved = []string{"q", "sort", "cursor", "limit", "count"}

// filterOps are the operators of field[op]=value; the store applies them.
var filterOps = []string{"eq", "ne", "lt", "lte", "gt", "gte", "contains", "in", "empty"}

var filterKeyRE = regexp.MustCompile(`^([A-Za-z0-9_.]+)(\[([A-Za-z]*)\])?$`)

func badField(field, format string, a ...any) error {
	return &store.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

// query parses the raw query itself: url.URL.Query drops malformed pairs
// silently, and a dropped filter would widen a list without the client knowing.
func query(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &httpx.StatusError{Status: http.StatusBadRequest, Code: "invalid_query", Msg: "malformed query string: " + err.Error()}
	}
	if err := httpx.CheckQuery(v); err != nil {
		return nil, err
	}
	return v, nil
}

// onlyParams parses the query and refuses any parameter not in allowed, or given
// twice, so a typo is an error rather than an ignored option.
func onlyParams(r *http.Request, allowed ...string) (url.Values, error) {
	v, err := query(r)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, badField(k, "unknown query parameter (this endpoint takes none)")
			}
			return nil, badField(k, "unknown query parameter (use %s)", strings.Join(allowed, ", "))
		}
		if len(v[k]) > 1 {
			return nil, badField(k, "given more than once")
		}
	}
	return v, nil
}

// listParams turns a list query into store.ListParams. Every parameter that is not
// reserved is a filter: field=value, field[op]=value or custom.key[op]=value. The
// store refuses fields it cannot filter on, naming them, so unknown parameters
// never pass silently.
func listParams(r *http.Request) (store.ListParams, error) {
	var lp store.ListParams
	v, err := query(r)
	if err != nil {
		return lp, err
	}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		vals := v[k]
		if slices.Contains(listReserved, k) {
			if len(vals) > 1 {
				return lp, badField(k, "given more than once")
			}
			val := vals[0]
			switch k {
			case "q":
				lp.Query = val
			case "sort":
				lp.Sort = val
			case "cursor":
				lp.Cursor = val
			case "limit":
				if lp.Limit, err = limitParam(v, store.DefaultPageSize, store.MaxPageSize); err != nil {
					return lp, err
				}
			case "count":
				if lp.Count, err = boolParam(k, val); err != nil {
					return lp, err
				}
			}
			continue
		}
		m := filterKeyRE.FindStringSubmatch(k)
		if m == nil {
			return lp, badField(k, "unknown query parameter (filters are field=value or field[op]=value)")
		}
		field, op := m[1], m[3]
		if m[2] == "" {
			op = "eq"
		}
		if !slices.Contains(filterOps, op) {
			return lp, badField(field, "unknown operator %q in %q (use %s)", op, k, strings.Join(filterOps, ", "))
		}
		for _, val := range vals {
			lp.Filters = append(lp.Filters, store.Filter{Field: field, Op: op, Value: val})
		}
	}
	return lp, nil
}

// limitParam reads "limit": absent means def, anything outside 1..max is refused
// (not clamped) so a client never mistakes a short page for the end of the list.
func limitParam(v url.Values, def, max int) (int, error) {
	s := v.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badField("limit", "%q is not a whole number from 1 to %d", s, max)
	}
	if n > max {
		return 0, badField("limit", "at most %d", max)
	}
	return n, nil
}

func boolParam(name, s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, badField(name, "%q is not true or false", s)
}
