package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"

	"github.com/rightsize/rightsize/internal/export"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	storetest.Cleanup()
	os.Exit(code)
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1": "'+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "a=b": "a=b",
	} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExportContactsIsScopedAndSafe(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var a, b model.Workspace
		err := st.InTx(ctx, func(q store.Q) error {
			a, b = model.Workspace{Name: "A", Slug: "a"}, model.Workspace{Name: "B", Slug: "b"}
			if err := q.CreateWorkspace(ctx, &a); err != nil {
				return err
			}
			if err := q.CreateWorkspace(ctx, &b); err != nil {
				return err
			}
			for i := 0; i < 450; i++ { // more than two pages
				c := model.Contact{Email: "p" + string(rune('a'+i%26)) + itoa(i) + "@x.io", FirstName: "=HYPERLINK(\"http://evil\")", LifecycleStage: "lead"}
				if err := q.CreateContact(ctx, a.ID, &c); err != nil {
					return err
				}
			}
			c := model.Contact{Email: "other@b.io", LifecycleStage: "lead"}
			return q.CreateContact(ctx, b.ID, &c)
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := export.Write(ctx, st, a.ID, "contacts", &buf)
		if err != nil || n != 450 {
			t.Fatalf("wrote %d rows: %v", n, err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 451 {
			t.Fatalf("%d records", len(recs))
		}
		for _, r := range recs[1:] {
			if r[3] != "'=HYPERLINK(\"http://evil\")" {
				t.Fatalf("formula not neutralised: %q", r[3])
			}
			if r[2] == "other@b.io" {
				t.Fatal("exported another workspace's contact")
			}
		}
	})
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

// Rejected rows stream in pages; every row comes out once, in file order, only for
// the import's own workspace, formula-safe.
func TestWriteImportErrorsPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var a, b model.Workspace
		var im model.Import
		err := st.InTx(ctx, func(q store.Q) error {
			a, b = model.Workspace{Name: "A", Slug: "a"}, model.Workspace{Name: "B", Slug: "b"}
			if err := q.CreateWorkspace(ctx, &a); err != nil {
				return err
			}
			if err := q.CreateWorkspace(ctx, &b); err != nil {
				return err
			}
			im = model.Import{ObjectType: "contact"}
			if err := q.CreateImport(ctx, a.ID, &im); err != nil {
				return err
			}
			var errs []model.ImportError
			for i := 0; i < 12001; i++ {
				errs = append(errs, model.ImportError{Line: int64(2 + i/2), Col: int64(1 + i%2*7), Field: "email", Reason: "bad", Raw: "=x"})
			}
			return q.AddImportErrors(ctx, im.ID, errs)
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := export.WriteImportErrors(ctx, st, a.ID, im.ID, &buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 12002 || recs[1][0] != "2" || recs[1][1] != "1" || recs[2][1] != "8" || recs[12001][0] != "6002" || recs[1][4] != "'=x" {
			t.Fatalf("%d records; first %v second %v last %v", len(recs), recs[1], recs[2], recs[len(recs)-1])
		}
		buf.Reset()
		if err := export.WriteImportErrors(ctx, st, b.ID, im.ID, &buf); err != nil {
			t.Fatal(err)
		}
		if strings.Count(buf.String(), "\n") != 1 {
			t.Fatalf("another workspace read the rows: %q", buf.String()[:min(200, buf.Len())])
		}
	})
}
