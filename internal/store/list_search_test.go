package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// searchNames are contacts' first and last names chosen to trip a search
// index: LIKE's wildcards and escape, quotes, FTS5 query syntax, non-ASCII
// case (SQLite's LOWER folds ASCII only), characters that case-fold to ASCII
// (Kelvin sign, long s), combining marks, emoji, short and empty values.
var searchNames = [][2]string{
	{"Ann", "O'Brien"}, {"Bob", `50%_off`}, {"Cy", "under_score"}, {"Dee", `back\slash`}, {"Eve", "Müller"},
	{"Fay", "MÜLLER"}, {"Gus", "müller"}, {"Hal", "Łukasz"}, {"Ivy", "İstanbul"}, {"Jo", "Straße"},
	{"Kai", "STRASSE"}, {"Lev", `"quoted" name`}, {"Mo", "NEAR(a b) AND OR NOT *"}, {"Ned", "\u212Aelvin"},
	{"Oz", "Kelvin"}, {"Pia", "\u017Fmith"}, {"Quin", "Smith"}, {"Ray", "SMITHSON"}, {"Sue", "e\u0301clair"},
	{"Tim", "éclair"}, {"Uma", "🚀 rocket"}, {"Vi", ""}, {"Wu", "ab"}, {"Xia", "a b c"}, {"Yan", "Ab"},
}

// searchQueries exercise the same cases from the query side, including
// terms under three characters (no trigram) and spaces.
var searchQueries = []string{
	"smith", "SMITH", "Smith", "mith", "müller", "MÜLLER", "ÜLL", "üll", "mül", "straße", "strasse", "ß", "50%", "%_o",
	"_", "%", `\`, `back\s`, "'", "o'b", `"quoted"`, `"`, `""`, "near(", "and or", "*", "kelvin", "\u212Aelvin", "elvin",
	"ſmith", "smi", "sm", "s", "a b", "b c", "é", "éclair", "e\u0301c", "🚀", "rocket", "ab", "x.io", "@x.", "ann@",
	"İst", "ist", "łuk", "ŁUK", "  smith  ", "zzz", "mmm", "quin.16@x.io", "near(a b) and or not *", "ivy.8@x.io", "Müller.IO",
}

// The free-text search (SQLite narrows it with an FTS5 trigram index, PostgreSQL
// with pg_trgm indexes where it has them) answers exactly what the plain
// LIKE query answered before: the same ids, in every sort, through every
// page, with the same exact count; other workspaces never match; the index
// follows inserts, renames, deletes and merges.
func TestListSearchMatchesLike(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		// Half one at a time (the insert trigger), half in bulk as the CSV
		// import writes them (indexed by one statement after the rows).
		err := st.InTx(ctx, func(q store.Q) error {
			bulk := map[int64][]*model.Contact{}
			for i, n := range searchNames {
				for _, ws := range []int64{a, b} {
					c := model.Contact{Email: fmt.Sprintf("%s.%d@x.io", strings.ToLower(n[0]), i), FirstName: n[0], LastName: n[1], LifecycleStage: "lead", Custom: model.Custom{}}
					if i%2 == 1 {
						bulk[ws] = append(bulk[ws], &c)
						continue
					}
					if err := q.CreateContact(ctx, ws, &c); err != nil {
						return err
					}
				}
			}
			for ws, cs := range bulk {
				if err := q.InsertContacts(ctx, ws, cs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check := func(stage string) {
			t.Helper()
			for _, qs := range searchQueries {
				want := likeIDs(t, st, a, qs)
				for _, sort := range []string{"-id", "id", "last_name", "-email"} {
					var got []int64
					var total *int64
					cursor := ""
					for pages := 0; ; pages++ {
						page, err := st.Read().ListContacts(ctx, a, store.ListParams{Query: qs, Sort: sort, Limit: 3, Cursor: cursor, Count: cursor == ""}, nil)
						if err != nil {
							t.Fatalf("%s: q %q sort %s: %v", stage, qs, sort, err)
						}
						if cursor == "" {
							total = page.Total
						}
						for _, c := range page.Items {
							got = append(got, c.ID)
						}
						if page.NextCursor == "" || pages > len(searchNames) {
							break
						}
						cursor = page.NextCursor
					}
					if total == nil || *total != int64(len(want)) {
						t.Errorf("%s: q %q sort %s: count %v, LIKE finds %d", stage, qs, sort, total, len(want))
					}
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Errorf("%s: q %q sort %s: ids %v, LIKE finds %v", stage, qs, sort, got, want)
					}
				}
			}
		}
		check("created")
		if st.Kind == store.SQLite {
			ftsInSync(t, st, "created")
		}
		// Renames, a delete and a merge go through the store's own writes;
		// the index must follow them.
		err = st.InTx(ctx, func(q store.Q) error {
			page, err := q.ListContacts(ctx, a, store.ListParams{Query: "smith", Limit: 10}, nil)
			if err != nil {
				return err
			}
			for _, c := range page.Items {
				c.LastName = "Renamed"
				if err := q.UpdateContact(ctx, a, &c); err != nil {
					return err
				}
			}
			page, err = q.ListContacts(ctx, a, store.ListParams{Query: "müller", Limit: 10}, nil)
			if err != nil || len(page.Items) == 0 {
				return fmt.Errorf("müller: %v %v", page.Items, err)
			}
			return q.DeleteContact(ctx, a, page.Items[0].ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		check("after renames and a delete")
		// Smith and SMITHSON were renamed (ſmith is not "smith" to LIKE).
		for _, qs := range []string{"smith", "renamed"} {
			want := map[string]int{"smith": 0, "renamed": 2}[qs]
			if got := likeIDs(t, st, a, qs); len(got) != want {
				t.Errorf("after renames: LIKE %q finds %d, want %d", qs, len(got), want)
			}
		}
		if st.Kind != store.SQLite {
			return
		}
		// The index holds exactly the contacts (every email has "x.io"),
		// also after a workspace's contacts go by cascade.
		ftsInSync(t, st, "after renames and a delete")
		if _, err := st.W.ExecContext(ctx, `DELETE FROM workspaces WHERE id = $1`, b); err != nil {
			t.Fatal(err)
		}
		ftsInSync(t, st, "after a workspace was deleted")
	})
}

func ftsInSync(t *testing.T, st *store.Store, stage string) {
	t.Helper()
	ids := func(sql string) []int64 {
		t.Helper()
		rows, err := st.R.QueryContext(context.Background(), sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	indexed := ids(`SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH '"x.i" AND ".io"' ORDER BY rowid`)
	stored := ids(`SELECT id FROM contacts ORDER BY id`)
	if !slices.Equal(indexed, stored) || len(stored) == 0 {
		t.Errorf("%s: the index holds %v, the contacts are %v", stage, indexed, stored)
	}
}

// likeIDs runs the search as it was before any index: LIKE over the three
// columns, lower-cased, % and _ escaped.
func likeIDs(t *testing.T, st *store.Store, ws int64, q string) []int64 {
	t.Helper()
	q = strings.TrimSpace(q)
	pat := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
	rows, err := st.R.QueryContext(context.Background(), `SELECT id FROM contacts WHERE workspace_id = $1 AND (
		LOWER(COALESCE(email,'')) LIKE $2 ESCAPE '\' OR LOWER(COALESCE(first_name,'')) LIKE $2 ESCAPE '\' OR LOWER(COALESCE(last_name,'')) LIKE $2 ESCAPE '\')
		ORDER BY id`, ws, pat)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if q == "" {
		return nil
	}
	return ids
}

// A bulk insert that fails part way leaves nothing of itself: not its rows,
// and not the marker that keeps the insert trigger aside — a contact written
// afterwards in the same transaction is indexed, and the index holds exactly
// the contacts once it commits.
func TestInsertContactsFailedKeepsIndex(t *testing.T) {
	t.Parallel()
	st := storetest.New(t, store.SQLite)
	ctx := context.Background()
	a, _ := twoWorkspaces(t, st)
	err := st.InTx(ctx, func(q store.Q) error {
		cs := []*model.Contact{
			{Email: "one@x.io", FirstName: "One", LifecycleStage: "lead", Custom: model.Custom{}},
			{Email: "dup@x.io", LifecycleStage: "lead", Custom: model.Custom{}},
			{Email: "dup@x.io", LifecycleStage: "lead", Custom: model.Custom{}},
		}
		if err := q.InsertContacts(ctx, a, cs); err == nil {
			return fmt.Errorf("a batch with a duplicate email was inserted")
		}
		c := model.Contact{Email: "after@x.io", FirstName: "After", LifecycleStage: "lead", Custom: model.Custom{}}
		return q.CreateContact(ctx, a, &c)
	})
	if err != nil {
		t.Fatal(err)
	}
	var deferred int
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts_fts_deferred`).Scan(&deferred); err != nil || deferred != 0 {
		t.Fatalf("contacts_fts_deferred holds %d rows (%v), want 0", deferred, err)
	}
	if got := likeIDs(t, st, a, "one@"); len(got) != 0 {
		t.Fatalf("the failed batch left contacts %v", got)
	}
	ftsInSync(t, st, "after a failed bulk insert")
	page, err := st.Read().ListContacts(ctx, a, store.ListParams{Query: "after", Limit: 5}, nil)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("search for the contact written after: %+v %v", page.Items, err)
	}
}

// TestSearchProbeWindow: on PostgreSQL a search with the default order first
// reads only the newest rows (the probe) and falls back to the trigram index
// when they hold less than a page. With a window of 5 rows and pages of 3,
// a term in every row is answered by the probe, a term in every fifth row by
// the index, and one in every second row by either, page by page; every
// answer must be the plain LIKE's, in both directions, with the exact count.
// Not parallel: it changes the window for the package.
func TestSearchProbeWindow(t *testing.T) {
	restore := store.SetSearchProbeRows(5)
	defer restore()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := twoWorkspaces(t, st)
		err := st.InTx(ctx, func(q store.Q) error {
			for i := range 40 {
				last := "Common"
				if i%2 == 0 {
					last += " Halfway"
				}
				if i%5 == 0 {
					last += " Rarely"
				}
				for _, ws := range []int64{a, b} {
					c := model.Contact{Email: fmt.Sprintf("p%02d@probe.io", i), FirstName: "Pat", LastName: last, LifecycleStage: "lead", Custom: model.Custom{}}
					if err := q.CreateContact(ctx, ws, &c); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, qs := range []string{"common", "halfway", "rarely", "p07@", "zzz"} {
			want := likeIDs(t, st, a, qs)
			for _, sort := range []string{"-id", "id"} {
				var got []int64
				var total *int64
				cursor := ""
				for pages := 0; pages <= 40; pages++ {
					page, err := st.Read().ListContacts(ctx, a, store.ListParams{Query: qs, Sort: sort, Limit: 3, Cursor: cursor, Count: cursor == ""}, nil)
					if err != nil {
						t.Fatalf("q %q sort %s: %v", qs, sort, err)
					}
					if cursor == "" {
						total = page.Total
					}
					for _, c := range page.Items {
						got = append(got, c.ID)
					}
					if page.NextCursor == "" {
						break
					}
					cursor = page.NextCursor
				}
				if sort == "-id" {
					slices.Reverse(got)
				}
				if !slices.Equal(got, want) {
					t.Errorf("q %q sort %s: ids %v, LIKE finds %v (in this order)", qs, sort, got, want)
				}
				if total == nil || *total != int64(len(want)) {
					t.Errorf("q %q sort %s: count %v, LIKE finds %d", qs, sort, total, len(want))
				}
			}
		}
	})
}
