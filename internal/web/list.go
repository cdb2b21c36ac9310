package web

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
)

// pageSize is the number of rows a list page shows.
const pageSize = 50

// listReq is a parsed list URL: free text, the filter inputs as typed, sort,
// cursor, and the offset of the first row (only for "51–100 of 1,234").
type listReq struct {
	Base    string
	Q       string
	Filters map[string]string
	Sort    string
	Cursor  string
	Offset  int
}

func parseList(base string, q url.Values, filterNames ...string) listReq {
	lr := listReq{Base: base, Q: strings.TrimSpace(q.Get("q")), Filters: map[string]string{}, Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	for _, n := range filterNames {
		lr.Filters[n] = strings.TrimSpace(q.Get(n))
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 && lr.Cursor != "" {
		lr.Offset = n
	}
	return lr
}

// params builds the store query; fs are the filters the page derived from the
// inputs.
func (lr listReq) params(fs []store.Filter) store.ListParams {
	return store.ListParams{Query: lr.Q, Filters: fs, Sort: lr.Sort, Cursor: lr.Cursor, Limit: pageSize, Count: true}
}

func (lr listReq) values() url.Values {
	v := url.Values{}
	if lr.Q != "" {
		v.Set("q", lr.Q)
	}
	for k, x := range lr.Filters {
		if x != "" {
			v.Set(k, x)
		}
	}
	if lr.Sort != "" {
		v.Set("sort", lr.Sort)
	}
	return v
}

func (lr listReq) url(v url.Values) string {
	if e := v.Encode(); e != "" {
		return lr.Base + "?" + e
	}
	return lr.Base
}

// SortURL is the link of a column header: ascending first, then toggles.
func (lr listReq) SortURL(field string) string {
	v := lr.values()
	if lr.Sort == field {
		v.Set("sort", "-"+field)
	} else {
		v.Set("sort", field)
	}
	return lr.url(v)
}

// SortDir is "asc", "desc" or "" for a column, for the header arrow and aria-sort.
func (lr listReq) SortDir(field, def string) string {
	s := lr.Sort
	if s == "" {
		s = def
	}
	switch s {
	case field:
		return "ascending"
	case "-" + field:
		return "descending"
	}
	return ""
}

// Active reports whether any filter or search is applied.
func (lr listReq) Active() bool {
	if lr.Q != "" {
		return true
	}
	for _, v := range lr.Filters {
		if v != "" {
			return true
		}
	}
	return false
}

// ClearURL keeps only the sort.
func (lr listReq) ClearURL() string {
	v := url.Values{}
	if lr.Sort != "" {
		v.Set("sort", lr.Sort)
	}
	return lr.url(v)
}

// pager is the footer of a list.
type pager struct {
	Total    int64
	From, To int
	NextURL  string
	FirstURL string
	Noun     string
}

func newPager(lr listReq, n int, total *int64, next, noun string) pager {
	p := pager{From: lr.Offset + 1, To: lr.Offset + n, Noun: noun}
	if n == 0 {
		p.From = 0
	}
	if total != nil {
		p.Total = *total
	}
	if next != "" {
		v := lr.values()
		v.Set("cursor", next)
		v.Set("offset", strconv.Itoa(lr.Offset+n))
		p.NextURL = lr.url(v)
	}
	if lr.Cursor != "" {
		p.FirstURL = lr.url(lr.values())
	}
	return p
}

// listError maps a store.FieldError from a list query to the filter input it is
// about (inline), or to a message above the table. Other errors are returned.
func listError(err error, inputFor map[string]string) (map[string]string, string, error) {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return nil, "", err
	}
	if in, ok := inputFor[fe.Field]; ok {
		return map[string]string{in: fe.Message}, "", nil
	}
	switch fe.Field {
	case "cursor":
		return nil, "This page link is no longer valid (the list changed or the link was edited). Start again from the first page.", nil
	case "sort":
		return nil, "That column cannot be sorted (" + fe.Message + ").", nil
	}
	return nil, humanize(fe.Field) + ": " + fe.Message, nil
}

// eq is an exact, case-insensitive filter; an empty input adds nothing.
func eq(fs []store.Filter, field, v string) []store.Filter {
	if v == "" {
		return fs
	}
	return append(fs, store.Filter{Field: field, Op: "eq", Value: v})
}

// accountNames resolves account ids to names in one query (the list pages show an
// account column).
func (u *UI) accountNames(ctx context.Context, s *session, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	seen := map[int64]bool{}
	var parts []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			parts = append(parts, strconv.FormatInt(id, 10))
		}
	}
	if len(parts) == 0 {
		return out, nil
	}
	for start := 0; start < len(parts); start += store.MaxPageSize {
		end := min(start+store.MaxPageSize, len(parts))
		page, err := u.q(s).ListAccounts(ctx, s.WS(), store.ListParams{Filters: []store.Filter{{Field: "id", Op: "in", Value: strings.Join(parts[start:end], ",")}}, Sort: "id", Limit: store.MaxPageSize}, nil)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Items {
			out[a.ID] = a.Name
		}
	}
	return out, nil
}

// members maps user id → email for owner columns and owner pickers. A partner
// sees only itself: the client's team is not its business.
func (u *UI) members(ctx context.Context, s *session) ([]model.Membership, map[int64]string, error) {
	ms, err := u.d.St.Read().WorkspaceMembers(ctx, s.WS())
	if err != nil {
		return nil, nil, err
	}
	if s.Partner() {
		ms = slices.DeleteFunc(ms, func(m model.Membership) bool { return m.UserID != s.P.UserID })
	}
	byID := make(map[int64]string, len(ms))
	for _, m := range ms {
		byID[m.UserID] = m.UserEmail
	}
	return ms, byID, nil
}

func ownerOptions(ms []model.Membership) []optGroup {
	g := optGroup{Options: []option{{"", "Unassigned"}}}
	for _, m := range ms {
		g.Options = append(g.Options, option{strconv.FormatInt(m.UserID, 10), m.UserEmail})
	}
	return []optGroup{g}
}

// accountOptions lists accounts for a picker (the first 200 by name, plus the
// current one when it is not among them).
func (u *UI) accountOptions(ctx context.Context, s *session, current string) ([]optGroup, error) {
	page, err := u.q(s).ListAccounts(ctx, s.WS(), store.ListParams{Sort: "name", Limit: store.MaxPageSize}, nil)
	if err != nil {
		return nil, err
	}
	g := optGroup{Options: []option{{"", "No account"}}}
	found := current == ""
	for _, a := range page.Items {
		id := strconv.FormatInt(a.ID, 10)
		found = found || id == current
		label := a.Name
		if a.Domain != "" {
			label += " (" + a.Domain + ")"
		}
		g.Options = append(g.Options, option{id, label})
	}
	if !found {
		if id, err := strconv.ParseInt(current, 10, 64); err == nil {
			if a, err := u.q(s).GetAccount(ctx, s.WS(), id); err == nil {
				g.Options = append(g.Options, option{current, a.Name})
			}
		}
	}
	return []optGroup{g}, nil
}

// q is the read pool through the session's scope: a partner reads only its own
// records (store.ScopeOf), and anything else is not found.
func (u *UI) q(s *session) store.Q { return u.d.St.Read().Scoped(store.ScopeOf(s.Actor())) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func idString(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}
