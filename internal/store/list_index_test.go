package store_test

import (
	"context"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// Filters on lower-cased columns (lifecycle stage, email) compare the bare
// column so an index serves them, and stay case-insensitive for the caller;
// the default contact order is newest first by id; other workspaces' rows
// never match.
func TestListLowerColumnsAndIDOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		err := st.InTx(ctx, func(q store.Q) error {
			for i, c := range []model.Contact{{Email: "ann@x.io", LifecycleStage: "mql"}, {Email: "bob@x.io", LifecycleStage: "lead"}, {Email: "cy@x.io", LifecycleStage: "mql"}} {
				c := c
				c.FirstName = []string{"Ann", "Bob", "Cy"}[i]
				if err := q.CreateContact(ctx, a, &c); err != nil {
					return err
				}
			}
			other := model.Contact{Email: "ann@x.io", LifecycleStage: "mql"}
			return q.CreateContact(ctx, b, &other)
		})
		if err != nil {
			t.Fatal(err)
		}
		names := func(p store.ListParams) []string {
			t.Helper()
			p.Count = true
			page, err := st.Read().ListContacts(ctx, a, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range page.Items {
				out = append(out, c.FirstName)
			}
			if int(*page.Total) != len(out) {
				t.Fatalf("total %d for %d items", *page.Total, len(out))
			}
			return out
		}
		for _, c := range []struct {
			p    store.ListParams
			want string
		}{
			{store.ListParams{Filters: []store.Filter{{Field: "lifecycle_stage", Op: "eq", Value: "MQL"}}}, "Cy,Ann"},
			{store.ListParams{Filters: []store.Filter{{Field: "lifecycle_stage", Op: "ne", Value: "Mql"}}}, "Bob"},
			{store.ListParams{Filters: []store.Filter{{Field: "email", Op: "eq", Value: "ANN@X.IO"}}}, "Ann"},
			{store.ListParams{Filters: []store.Filter{{Field: "lifecycle_stage", Op: "in", Value: "lead,mql"}}}, "Cy,Bob,Ann"},
			{store.ListParams{}, "Cy,Bob,Ann"},
			{store.ListParams{Sort: "id"}, "Ann,Bob,Cy"},
		} {
			if got := names(c.p); joinNames(got) != c.want {
				t.Errorf("%+v: %s, want %s", c.p, joinNames(got), c.want)
			}
		}
		// Paging by id: two pages of one and two.
		page, err := st.Read().ListContacts(ctx, a, store.ListParams{Limit: 1}, nil)
		if err != nil || len(page.Items) != 1 || page.Items[0].FirstName != "Cy" || page.NextCursor == "" {
			t.Fatalf("first page %+v %v", page, err)
		}
		page, err = st.Read().ListContacts(ctx, a, store.ListParams{Limit: 2, Cursor: page.NextCursor}, nil)
		if err != nil || len(page.Items) != 2 || page.Items[0].FirstName != "Bob" || page.Items[1].FirstName != "Ann" || page.NextCursor != "" {
			t.Fatalf("second page %+v %v", page, err)
		}
	})
}

func joinNames(s []string) string {
	out := ""
	for i, n := range s {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out
}
