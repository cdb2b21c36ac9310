package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rightsize/rightsize/internal/store"
)

// runList: --rows contacts (default 1,000,000; stages skewed like a funnel,
// 7 lead sources, 12 last names) seeded in bulk, then the contact list's own
// store query — the one behind GET /api/v1/contacts and the Contacts page —
// for three filters: the first page of 50 (newest first) timed 100 times
// (the search 20 times), and the page with its exact count 3 times.
func runList(ctx context.Context, o Options, r *Result) error {
	e, n, err := startApp(ctx, o, r, 1000000)
	if err != nil {
		return err
	}
	defer e.close(r)
	st, ws := e.App.St, e.WS.ID
	fmt.Fprintf(o.Out, "seeding %d contacts…\n", n)
	if err := InsertContacts(ctx, st, ws, n, ListContact); err != nil {
		return err
	}
	if o.Store == "postgres" {
		if err := st.Analyze(ctx); err != nil {
			return err
		}
		r.Notes = append(r.Notes, "PostgreSQL: ANALYZE after seeding (autovacuum would, within a minute of a bulk load)")
	}
	cases := []struct {
		name  string
		p     store.ListParams
		runs  int
		match func(i int) bool // which generated contacts match, to check the count
	}{
		{"stage = mql", store.ListParams{Filters: []store.Filter{{Field: "lifecycle_stage", Op: "eq", Value: "mql"}}}, 100,
			func(i int) bool { return listStages[i%len(listStages)] == "mql" }},
		{"stage = lead and source = webinar", store.ListParams{Filters: []store.Filter{{Field: "lifecycle_stage", Op: "eq", Value: "lead"}, {Field: "source", Op: "eq", Value: "webinar"}}}, 100,
			func(i int) bool {
				return listStages[i%len(listStages)] == "lead" && listSources[i%len(listSources)] == "webinar"
			}},
		{"search \"smith\" (name or email)", store.ListParams{Query: "smith"}, 20,
			func(i int) bool { return lastNames[i%len(lastNames)] == "Smith" }},
		// A rare term: one contact's email (a walk of the newest contacts
		// finds no page of them).
		{"search \"p0001234@\" (one contact)", store.ListParams{Query: "P0001234@"}, 20,
			func(i int) bool { return i == 1234 }},
		// Under three characters there is no trigram to look up.
		{"search \"mü\" (two letters)", store.ListParams{Query: "mü"}, 20,
			func(i int) bool { return lastNames[i%len(lastNames)] == "Müller" }},
	}
	done := measure(o)
	defer done()
	for _, c := range cases {
		c.p.Limit = 50
		var lat []time.Duration
		for range c.runs {
			t0 := time.Now()
			page, err := st.Read().ListContacts(ctx, ws, c.p, nil)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if want := min(50, countMatches(n, c.match)); len(page.Items) != want {
				return fmt.Errorf("%s: first page has %d contacts, want %d", c.name, len(page.Items), want)
			}
		}
		slices.Sort(lat)
		p99 := lat[min(len(lat)-1, len(lat)*99/100)]
		r.add(below(c.name+": first page p99", ms(p99), "ms", 100))
		r.add(plain(c.name+": first page p50", ms(lat[len(lat)/2]), "ms"))
		c.p.Count = true
		var worst time.Duration
		var total int64
		for range 3 {
			t0 := time.Now()
			page, err := st.Read().ListContacts(ctx, ws, c.p, nil)
			el := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s with count: %w", c.name, err)
			}
			worst = max(worst, el)
			total = *page.Total
		}
		if want := int64(countMatches(n, c.match)); total != want {
			return fmt.Errorf("%s: count %d, want %d", c.name, total, countMatches(n, c.match))
		}
		r.add(below(c.name+": page + exact count (worst of 3)", worst.Seconds(), "s", 1))
		r.add(plain(c.name+": matching contacts", float64(total), ""))
	}
	return nil
}

// countMatches is how many of the n generated contacts match.
func countMatches(n int, match func(i int) bool) int {
	c := 0
	for i := range n {
		if match(i) {
			c++
		}
	}
	return c
}
