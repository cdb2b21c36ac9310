package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
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
