package importer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rightsize/rightsize/internal/crm"
	"github.com/rightsize/rightsize/internal/importer"
	"github.com/rightsize/rightsize/internal/model"
	"github.com/rightsize/rightsize/internal/store"
	"github.com/rightsize/rightsize/internal/store/storetest"
)

// FuzzImport runs whole imports (store the file, parse, map, write) of
// arbitrary CSV bytes as contacts, accounts or deals into a fresh workspace
// of a SQLite store. Properties: the run ends done or failed with a message,
// never a Go error; rows = accepted + rejected + merged; every rejection has
// a line after the header, a column and a reason; the workspace holds no more
// records than were accepted; and every stored text value is valid UTF-8
// without NUL (PostgreSQL refuses both: what SQLite stores here must be
// storable there too).
// Seeds: testdata/fuzz/FuzzImport.
func FuzzImport(f *testing.F) {
	f.Add([]byte("email,first_name,lifecycle_stage\nann@x.test,Ann,mql\nbob@x.test,Bob,\n"), uint8(0))
	f.Add([]byte("email,first_name\nann@x.test,A\x00nn\nb\x00b@x.test,Bob\n"), uint8(0))
	f.Add([]byte("email,last_name\nann@x.test,caf\xe9\n"), uint8(0))
	f.Add([]byte("name,domain,employees,annual_revenue\nAcme,acme.test,\"1,200\",\"$1,000.50\"\n=cmd,evil.test,-5,x\n"), uint8(1))
	f.Add([]byte("name,amount,stage,expected_close_date,outcome\nBig,1000,approach,03/04/2025,won\nSmall,x,nope,31/31/2025,lost\n"), uint8(2))
	f.Add([]byte("\xef\xbb\xbfemail;first_name\r\n\"a@x.test\";\"multi\r\nline\"\r\n"), uint8(0))
	f.Add([]byte("id,external_id,email\n1,ext-1,ann@x.test\n"), uint8(0))
	st := storetest.New(f, store.SQLite)
	svc := &importer.Service{St: st, CRM: &crm.Service{St: st}}
	ctx := context.Background()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte, obj uint8) {
		object := []string{"contacts", "accounts", "deals"}[int(obj)%3]
		n++
		w := model.Workspace{Name: "F", Slug: "f" + strconv.Itoa(n), Currency: "EUR"}
		if err := st.InTx(ctx, func(q store.Q) error { return q.CreateWorkspace(ctx, &w) }); err != nil {
			t.Fatal(err)
		}
		act := model.Actor{Workspace: w.ID, Label: "fuzz"}
		im, err := svc.CreateLocal(ctx, act, object, "f.csv", strings.NewReader(string(data)), importer.Options{})
		if err != nil {
			if len(data) == 0 {
				return // "the file is empty"
			}
			t.Fatalf("create: %v", err)
		}
		im, err = svc.Run(ctx, w.ID, im.ID, nil)
		if err != nil && (im.Status != "failed" || im.Error == "") {
			t.Fatalf("run ended %q with %v", im.Status, err)
		}
		if im.Status != "done" && im.Status != "failed" {
			t.Fatalf("status %q", im.Status)
		}
		checkText(t, "import", im.Error)
		if im.Rows != im.Accepted+im.Rejected+im.Merged {
			t.Fatalf("rows %d != accepted %d + rejected %d + merged %d", im.Rows, im.Accepted, im.Rejected, im.Merged)
		}
		q := st.Read()
		errs, err := q.ImportErrors(ctx, w.ID, im.ID, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(errs)) < im.Rejected {
			t.Fatalf("%d rejected but %d errors", im.Rejected, len(errs))
		}
		for _, e := range errs {
			if e.Line < 2 || e.Reason == "" {
				t.Fatalf("rejection %+v", e)
			}
			checkText(t, "import error", e.Field, e.Reason, e.Raw)
		}
		p := store.ListParams{Limit: store.MaxPageSize}
		var stored int64
		switch object {
		case "contacts":
			page, err := q.ListContacts(ctx, w.ID, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				checkText(t, "contact", c.Email, c.FirstName, c.LastName, c.Title, c.Phone, c.Source, c.ExternalID, c.UTMSource, c.UTMMedium, c.UTMCampaign, c.ConsentSource)
			}
			stored = int64(len(page.Items))
		case "accounts":
			page, err := q.ListAccounts(ctx, w.ID, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Items {
				checkText(t, "account", a.Name, a.Domain, a.Industry, a.Region, a.Segment, a.ExternalID)
			}
			stored = int64(len(page.Items))
		case "deals":
			page, err := q.ListDeals(ctx, w.ID, p, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Items {
				checkText(t, "deal", d.Name, d.Stage, d.Pipeline, d.LossReason, d.ExternalID)
			}
			stored = int64(len(page.Items))
		}
		if stored > im.Accepted+im.Merged && object != "deals" { // a deal import may create its accounts
			t.Fatalf("%d %s stored, %d accepted", stored, object, im.Accepted)
		}
	})
}

func checkText(t *testing.T, what string, vals ...string) {
	t.Helper()
	for _, s := range vals {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("%s stored %q: not valid UTF-8 or with NUL", what, s)
		}
	}
}
